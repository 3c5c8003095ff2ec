"""Tests for numpynn.losses: loss objects against PyTorch and finite differences; their errors."""
import numpy as np
import pytest
try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = TF = None

from numpynn import functional as F
from numpynn.gradcheck import array_rel_error, numerical_gradient
from numpynn.losses import (BCE, L1, LOSSES, MSE, BCEWithLogits, Hinge, Loss,
                            SoftmaxCrossEntropy, l2_penalty)

TORCH_RTOL, TORCH_ATOL = 1e-10, 1e-12


def classes(rng, n=8, c=4):
    return rng.normal(scale=2.0, size=(n, c)), rng.integers(0, c, size=n)


# name -> (make (pred, target) in float64, torch oracle, task, threshold)
CASES = {
    "cross_entropy": (classes, lambda p, t: TF.cross_entropy(p, t), "multiclass", None),
    "bce": (lambda rng: (rng.uniform(0.05, 0.95, size=(8, 1)), rng.integers(0, 2, (8, 1)) * 1.0),
            lambda p, t: TF.binary_cross_entropy(p, t), "binary", 0.5),
    "bce_with_logits": (lambda rng: (rng.normal(scale=3, size=(8, 1)), rng.uniform(size=(8, 1))),
                        lambda p, t: TF.binary_cross_entropy_with_logits(p, t), "binary", 0.0),
    "mse": (lambda rng: (rng.normal(size=(8, 3)), rng.normal(size=(8, 3))),
            lambda p, t: TF.mse_loss(p, t), "regression", None),
    "l1": (lambda rng: (rng.normal(size=(8, 3)) + 5.0, rng.normal(size=(8, 3))),
           lambda p, t: TF.l1_loss(p, t), "regression", None),
    "hinge": (classes, lambda s, y: s.shape[1] * TF.multi_margin_loss(s, y), "multiclass", None),
}


def torch_value_and_grad(oracle, pred, target):
    pt = torch.tensor(pred, requires_grad=True)
    loss = oracle(pt, torch.tensor(target))
    loss.backward()
    return loss.item(), pt.grad.numpy()


def test_registry_names_and_attributes():
    assert list(LOSSES) == ["cross_entropy", "bce", "bce_with_logits", "mse", "l1", "hinge"]
    assert set(CASES) == set(LOSSES)
    for name, cls in LOSSES.items():
        assert issubclass(cls, Loss) and cls.name == name
        assert (cls.task, cls.threshold) == CASES[name][2:]


@pytest.mark.torch
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_torch_in_float64(name):
    make, oracle, *_ = CASES[name]
    pred, target = make(np.random.default_rng(0))
    loss, dpred = LOSSES[name]()(pred, target)
    ref_loss, ref_grad = torch_value_and_grad(oracle, pred, target)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, ref_loss, rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(dpred, ref_grad, rtol=TORCH_RTOL, atol=TORCH_ATOL)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradcheck(name):
    pred, target = CASES[name][0](np.random.default_rng(1))
    loss_fn = LOSSES[name]()
    _, dpred = loss_fn(pred, target)
    num = numerical_gradient(lambda v: loss_fn(v, target)[0], pred)
    assert array_rel_error(num, dpred) < 1e-7


# loss name -> its checked function in numpynn.functional (the kernel is the same name with "_")
FUNCTIONS = {"cross_entropy": "softmax_cross_entropy", "bce": "binary_cross_entropy",
             "bce_with_logits": "bce_with_logits", "mse": "mse", "l1": "l1", "hinge": "hinge"}


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_keeps_float32_and_delegates_to_the_kernel(name):
    pred, target = CASES[name][0](np.random.default_rng(2))
    loss_fn = LOSSES[name]()
    loss, dpred = loss_fn(pred.astype(np.float32), target)
    assert isinstance(loss, float) and dpred.dtype == np.float32 and dpred.shape == pred.shape
    results = [loss_fn(pred, target), loss_fn._compute(pred, target),
               getattr(F, "_" + FUNCTIONS[name])(pred, target),
               getattr(F, FUNCTIONS[name])(pred, target)]
    for other_loss, other_grad in results[1:]:
        assert other_loss == results[0][0]
        np.testing.assert_array_equal(other_grad, results[0][1])


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_objects_validate_once_and_call_the_trusted_kernel(name, monkeypatch):
    pred, target = CASES[name][0](np.random.default_rng(6))
    expected = LOSSES[name]()(pred, target)

    def checked_again(*args, **kwargs):
        raise AssertionError("the loss object called a checked function after checking")

    for helper in ("check_array", "check_labels", "check_same_shape", "check_unit_interval",
                   "check_positive"):
        monkeypatch.setattr(F, helper, checked_again)
    assert LOSSES[name]()(pred, target)[0] == expected[0]


def test_hinge_compute_uses_its_margin():
    pred, target = classes(np.random.default_rng(7))
    loss, dpred = Hinge(margin=0.5)._compute(pred, target)
    ref_loss, ref_grad = F._hinge(pred, target, 0.5)
    assert loss == ref_loss and loss != Hinge()._compute(pred, target)[0]
    np.testing.assert_array_equal(dpred, ref_grad)


@pytest.mark.parametrize("name", list(LOSSES))
def test_pred_must_be_finite_floats(name):
    pred, target = CASES[name][0](np.random.default_rng(3))
    loss_fn = LOSSES[name]()
    bad = pred.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=rf"^{type(loss_fn).__name__}: pred contains 1 NaN or inf"):
        loss_fn(bad, target)
    with pytest.raises(TypeError, match=r"pred must have a floating dtype; got int64"):
        loss_fn(np.zeros(pred.shape, dtype=np.int64), target)


@pytest.mark.torch
def test_hinge_margin_matches_torch_and_repr():
    pred, target = classes(np.random.default_rng(4))
    loss_fn = Hinge(margin=0.5)
    loss, dpred = loss_fn(pred, target)
    ref_loss, ref_grad = torch_value_and_grad(
        lambda s, y: s.shape[1] * TF.multi_margin_loss(s, y, margin=0.5), pred, target)
    np.testing.assert_allclose(loss, ref_loss, rtol=TORCH_RTOL)
    np.testing.assert_allclose(dpred, ref_grad, rtol=TORCH_RTOL, atol=TORCH_ATOL)
    assert repr(loss_fn) == "Hinge(margin=0.5)" and loss_fn.config() == {"margin": 0.5}
    assert repr(SoftmaxCrossEntropy()) == "SoftmaxCrossEntropy()"
    with pytest.raises(ValueError, match=r"Hinge: Invalid margin: -1"):
        Hinge(margin=-1)
    with pytest.raises(ValueError, match=r"Hinge: Invalid margin: nan"):
        Hinge(margin=float("nan"))


# ------------------------------------------------------------------------------------------------
# Validation messages
# ------------------------------------------------------------------------------------------------
def test_labels_out_of_range():
    scores = np.zeros((3, 10))
    with pytest.raises(ValueError, match=r"^SoftmaxCrossEntropy: labels must lie in \[0, 10\); "
                                         r"got values from 0 to 12$"):
        SoftmaxCrossEntropy()(scores, np.array([0, 12, 3]))
    with pytest.raises(ValueError, match=r"^Hinge: labels must lie in \[0, 10\); got values "
                                         r"from -1 to 3$"):
        Hinge()(scores, np.array([-1, 2, 3]))


def test_float_labels_are_a_type_error_with_help_for_whole_numbers():
    scores = np.zeros((3, 4))
    with pytest.raises(TypeError, match=r"labels must be integer class indices; got dtype float64"
                                        r"\nhelp: .*labels\.astype\(np\.int64\)"):
        SoftmaxCrossEntropy()(scores, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"got dtype float64$"):
        SoftmaxCrossEntropy()(scores, np.array([0.5, 1.0, 2.0]))


def test_label_shape_and_count_errors():
    scores = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels has shape \(3, 1\); expected \(N,\)"):
        SoftmaxCrossEntropy()(scores, np.zeros((3, 1), dtype=np.int64))
    with pytest.raises(ValueError, match=r"labels has 2 entries; expected 3"):
        SoftmaxCrossEntropy()(scores, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"^SoftmaxCrossEntropy: pred has shape \(3,\); "
                                         r"expected 2-D array"):
        SoftmaxCrossEntropy()(np.zeros(3), np.array([0, 1, 2]))


@pytest.mark.parametrize("cls", [BCE, BCEWithLogits, MSE, L1])
def test_target_shape_must_equal_pred_shape(cls):
    pred = np.full((5, 1), 0.5)
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: target has shape \(5,\); expected "
                                         r"\(5, 1\) \(the shape of pred\)\nhelp: reshape target "
                                         r"with target\.reshape\(-1, 1\)$"):
        cls()(pred, np.ones(5))
    with pytest.raises(ValueError, match=r"target has shape \(5, 2\); expected \(5, 1\)"):
        cls()(pred, np.ones((5, 2)))


def test_bce_probabilities_and_targets_must_lie_in_unit_interval():
    with pytest.raises(ValueError, match=r"^BCE: pred must lie in \[0, 1\]; got values from "
                                         r"-0\.5 to 2\.0\nhelp: .*BCEWithLogits"):
        BCE()(np.array([[-0.5], [2.0]]), np.array([[0.0], [1.0]]))
    for cls in (BCE, BCEWithLogits):
        with pytest.raises(ValueError, match=rf"^{cls.__name__}: target must lie in \[0, 1\]; "
                                             r"got values from 0\.0 to 3\.0$"):
            cls()(np.array([[0.2], [0.7]]), np.array([[0.0], [3.0]]))


def test_integer_targets_are_accepted_for_elementwise_losses():
    pred = np.array([[0.2], [0.9]])
    for cls in (BCE, MSE, L1):
        np.testing.assert_allclose(cls()(pred, np.array([[0], [1]]))[0],
                                   cls()(pred, np.array([[0.0], [1.0]]))[0], rtol=1e-15)


def test_predict_applies_the_task_rule():
    scores = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]])
    np.testing.assert_array_equal(SoftmaxCrossEntropy().predict(scores), [1, 0])
    np.testing.assert_array_equal(BCE().predict(np.array([[0.4], [0.6]])), [[0], [1]])
    np.testing.assert_array_equal(BCEWithLogits().predict(np.array([[-0.1], [0.2]])), [[0], [1]])
    np.testing.assert_array_equal(MSE().predict(np.array([1.5])), [1.5])


# ------------------------------------------------------------------------------------------------
# l2_penalty
# ------------------------------------------------------------------------------------------------
def test_l2_penalty_value_grads_and_dtype():
    rng = np.random.default_rng(5)
    params = {"W1": rng.normal(size=(3, 4)).astype(np.float32), "b1": np.ones(4, np.float32),
              "W2": rng.normal(size=(4, 2))}
    penalty, grads = l2_penalty(params, reg=0.1)
    expected = 0.05 * (np.sum(params["W1"].astype(np.float64) ** 2) + np.sum(params["W2"] ** 2))
    assert isinstance(penalty, float)
    np.testing.assert_allclose(penalty, expected, rtol=1e-6)
    assert list(grads) == list(params)
    np.testing.assert_array_equal(grads["b1"], 0.0)
    assert grads["W1"].dtype == np.float32 and grads["b1"].dtype == np.float32
    np.testing.assert_allclose(grads["W1"], 0.1 * params["W1"], rtol=1e-6)
    num = numerical_gradient(lambda _: l2_penalty(params, 0.1)[0], params["W2"])
    assert array_rel_error(num, grads["W2"]) < 1e-7


def test_l2_penalty_rejects_negative_reg():
    with pytest.raises(ValueError, match=r"l2_penalty: Invalid reg: -0\.1"):
        l2_penalty({"W": np.ones((2, 2))}, reg=-0.1)


def test_one_sgd_step_on_cross_entropy_hand_worked():
    # Two classes, scores s = x·W with x = (1, 2), W = 0, label 1: softmax = (½, ½),
    # dL/ds = (½, −½), dL/dW = xᵀ·dL/ds = [[½, −½], [1, −1]]; after W ← W − 0.1·dW the new
    # scores are (−0.25, 0.25), so the loss drops from log 2 to log(1 + e^(−0.5)).
    x, W = np.array([[1.0, 2.0]]), np.zeros((2, 2))
    loss, dscores = SoftmaxCrossEntropy()(x @ W, np.array([1]))
    np.testing.assert_allclose(loss, np.log(2), rtol=1e-15)
    W -= 0.1 * F.linear_backward(dscores, F.linear_forward(x, W, np.zeros(2))[1])[1]
    np.testing.assert_allclose(W, [[-0.05, 0.05], [-0.1, 0.1]], rtol=1e-15)
    np.testing.assert_allclose(SoftmaxCrossEntropy()(x @ W, np.array([1]))[0],
                               np.log1p(np.exp(-0.5)), rtol=1e-15)


EMPTY_FUNCTIONAL = [  # (function, empty pred, empty target, the pred's name)
    (F.softmax_cross_entropy, np.zeros((0, 3)), np.zeros(0, np.int64), "scores"),
    (F.hinge, np.zeros((0, 3)), np.zeros(0, np.int64), "scores"),
    (F.binary_cross_entropy, np.zeros((0, 1)), np.zeros((0, 1)), "probs"),
    (F.bce_with_logits, np.zeros((0, 1)), np.zeros((0, 1)), "logits"),
    (F.mse, np.zeros((0, 2)), np.zeros((0, 2)), "pred"),
    (F.l1, np.zeros((0, 2)), np.zeros((0, 2)), "pred"),
]


@pytest.mark.parametrize("fn, pred, target, name", EMPTY_FUNCTIONAL,
                         ids=[case[0].__name__ for case in EMPTY_FUNCTIONAL])
def test_an_empty_batch_is_a_value_error_not_a_zero_division(fn, pred, target, name):
    with pytest.raises(ValueError, match=rf"^{fn.__name__}: {name} has 0 samples"):
        fn(pred, target)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_objects_refuse_an_empty_batch(name):
    loss_fn = LOSSES[name]()
    target = np.zeros(0, np.int64) if loss_fn.task == "multiclass" else np.zeros((0, 3))
    with pytest.raises(ValueError, match=rf"^{type(loss_fn).__name__}: pred has 0 samples "
                                         r"\(shape \(0, 3\)\)"):
        loss_fn(np.zeros((0, 3)), target)
