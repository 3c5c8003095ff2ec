"""numpynn.autograd against two independent oracles: PyTorch's autograd (float64, 1e-10) and
centered finite differences (numpynn.gradcheck, float64)."""
import time

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

from numpynn.autograd import Tensor, no_grad, to_dot, zeros_like
from numpynn.gradcheck import numerical_gradient

TORCH_TOL = dict(rtol=1e-10, atol=1e-10)
FD_TOL = dict(rtol=1e-6, atol=1e-7)  # centered differences with h = 1e-5 in float64


def _ours(fn, arrays, weight):
    """Gradients of Σ fn(*tensors) ⊙ weight from numpynn.autograd."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    (out * weight).sum().backward()
    return out.data, [t.grad for t in tensors]


def _torch(fn, arrays, weight):
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    (out * torch.tensor(weight)).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


def _finite_differences(fn, arrays, weight):
    arrays = [np.array(a, dtype=np.float64) for a in arrays]

    def loss(_):
        with no_grad():
            return float(np.sum(fn(*[Tensor(a) for a in arrays]).data * weight))
    return [numerical_gradient(loss, a) for a in arrays]


def check(fn, torch_fn, arrays, rng, fd=True):
    """Value and every gradient of ``fn`` equal PyTorch's and (optionally) finite differences."""
    with no_grad():
        out_shape = fn(*[Tensor(a) for a in arrays]).shape
    weight = rng.standard_normal(out_shape)
    value, grads = _ours(fn, arrays, weight)
    torch_value, torch_grads = _torch(torch_fn, arrays, weight)
    np.testing.assert_allclose(value, torch_value, **TORCH_TOL)
    for grad, torch_grad, a in zip(grads, torch_grads, arrays):
        assert grad.shape == np.shape(a)
        np.testing.assert_allclose(grad, torch_grad, **TORCH_TOL)
    if fd:
        for grad, numeric in zip(grads, _finite_differences(fn, arrays, weight)):
            np.testing.assert_allclose(grad, numeric, **FD_TOL)


# name -> (ours, torch, input maker); inputs kept away from kinks and domain edges
UNARY = {
    "neg": (lambda t: -t, lambda t: -t, "any"),
    "exp": (lambda t: t.exp(), lambda t: torch.exp(t), "any"),
    "log": (lambda t: t.log(), lambda t: torch.log(t), "positive"),
    "sqrt": (lambda t: t.sqrt(), lambda t: torch.sqrt(t), "positive"),
    "abs": (lambda t: t.abs(), lambda t: torch.abs(t), "any"),
    "sin": (lambda t: t.sin(), lambda t: torch.sin(t), "any"),
    "cos": (lambda t: t.cos(), lambda t: torch.cos(t), "any"),
    "relu": (lambda t: t.relu(), lambda t: torch.relu(t), "any"),
    "sigmoid": (lambda t: t.sigmoid(), lambda t: torch.sigmoid(t), "any"),
    "tanh": (lambda t: t.tanh(), lambda t: torch.tanh(t), "any"),
    "square": (lambda t: t ** 2, lambda t: t ** 2, "any"),
    "cube_root": (lambda t: t ** (1 / 3), lambda t: t ** (1 / 3), "positive"),
    "rpow": (lambda t: 2 ** t, lambda t: 2 ** t, "any"),
    "rsub": (lambda t: 3.0 - t, lambda t: 3.0 - t, "any"),
    "rdiv": (lambda t: 2.0 / t, lambda t: 2.0 / t, "positive"),
    "self_pow": (lambda t: t ** t, lambda t: t ** t, "positive"),
    "softmax0": (lambda t: t.softmax(axis=0), lambda t: t.softmax(dim=0), "any"),
    "softmax1": (lambda t: t.softmax(axis=-1), lambda t: t.softmax(dim=-1), "any"),
    "log_softmax": (lambda t: t.log_softmax(axis=1), lambda t: t.log_softmax(dim=1), "any"),
    "sum": (lambda t: t.sum(), lambda t: t.sum(), "any"),
    "sum0": (lambda t: t.sum(axis=0), lambda t: t.sum(dim=0), "any"),
    "sum_keep": (lambda t: t.sum(axis=1, keepdims=True),
                 lambda t: t.sum(dim=1, keepdim=True), "any"),
    "sum_tuple": (lambda t: t.sum(axis=(0, 1)), lambda t: t.sum(dim=(0, 1)), "any"),
    "mean": (lambda t: t.mean(), lambda t: t.mean(), "any"),
    "mean1": (lambda t: t.mean(axis=-1), lambda t: t.mean(dim=-1), "any"),
    "max": (lambda t: t.max(), lambda t: t.amax(), "any"),
    "max0": (lambda t: t.max(axis=0), lambda t: t.amax(dim=0), "any"),
    "max_keep": (lambda t: t.max(axis=1, keepdims=True),
                 lambda t: t.amax(dim=1, keepdim=True), "any"),
    "reshape": (lambda t: t.reshape(4, 3) * 1.5, lambda t: t.reshape(4, 3) * 1.5, "any"),
    "reshape_tuple": (lambda t: t.reshape((-1,)), lambda t: t.reshape(-1), "any"),
    "T": (lambda t: t.T, lambda t: t.T, "any"),
    "transpose": (lambda t: t.transpose(1, 0), lambda t: t.permute(1, 0), "any"),
    "index_int": (lambda t: t[0], lambda t: t[0], "any"),
    "index_slice": (lambda t: t[1:, ::2], lambda t: t[1:, ::2], "any"),
    "index_neg": (lambda t: t[-1, 2], lambda t: t[-1, 2], "any"),
    "index_repeat": (lambda t: t[[0, 2, 0, 0]], lambda t: t[[0, 2, 0, 0]], "any"),
    "index_cols": (lambda t: t[:, [1, 1, 3]], lambda t: t[:, [1, 1, 3]], "any"),
    "index_pairs": (lambda t: t[np.array([0, 0, 2]), np.array([1, 1, 3])],
                    lambda t: t[torch.tensor([0, 0, 2]), torch.tensor([1, 1, 3])], "any"),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_match_torch_and_finite_differences(name):
    ours, theirs, domain = UNARY[name]
    rng = np.random.default_rng(list(UNARY).index(name))
    x = rng.standard_normal((3, 4))
    x = np.abs(x) + 0.5 if domain == "positive" else x
    check(ours, theirs, [x], rng)


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (b.abs() + 0.5), lambda a, b: a / (b.abs() + 0.5)),
    "pow": (lambda a, b: (a.abs() + 0.5) ** b, lambda a, b: (a.abs() + 0.5) ** b),
}
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)),
          ((3, 4), ()), ((), (2, 3)), ((4,), (2, 3, 4))]


@pytest.mark.torch
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_with_broadcasting(name, shapes):
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(s) for s in shapes]
    check(*BINARY[name], arrays, rng)


@pytest.mark.torch
@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)),
                                    ((4,), (4,)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                                    ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)),
                                    ((2, 3, 4), (4,))], ids=str)
def test_matmul_shapes(shapes):
    rng = np.random.default_rng(3)
    check(lambda a, b: a @ b, lambda a, b: a @ b, [rng.standard_normal(s) for s in shapes], rng)


@pytest.mark.torch
def test_matrix_ops_inv_and_logdet():
    rng = np.random.default_rng(11)
    a = rng.standard_normal((4, 4))
    spd = a @ a.T + 4 * np.eye(4)
    check(lambda t: t.inv(), torch.linalg.inv, [spd], rng)
    check(lambda t: t.logdet(), lambda t: torch.logdet(t), [spd], rng)
    batch = np.stack([spd, spd + np.eye(4)])  # (2, 4, 4)
    check(lambda t: t.logdet(), lambda t: torch.logdet(t), [batch], rng)
    check(lambda t: t.inv() @ t, lambda t: torch.linalg.inv(t) @ t, [spd], rng)


@pytest.mark.torch
def test_max_splits_ties_evenly_like_amax():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [0.5, 0, 0.5]], rtol=0, atol=0)
    t = torch.tensor(x.data, requires_grad=True)
    t.amax(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=0, atol=0)


@pytest.mark.torch
def test_reused_intermediates_accumulate():
    rng = np.random.default_rng(5)

    def expr(x, w):
        h = (x @ w).tanh()            # reused three times
        z = h * h + h.exp() - h.mean(axis=0)
        return (z * x[:, :1]).sigmoid() + x.sum() * 0.1

    check(expr, expr, [rng.standard_normal((4, 3)), rng.standard_normal((3, 3))], rng)


@pytest.mark.torch
def test_numbers_and_arrays_mix_on_either_side():
    rng = np.random.default_rng(2)
    arr = rng.standard_normal((2, 3))

    def expr(t):
        c = arr if isinstance(t, Tensor) else torch.tensor(arr)
        return c + t * 2 - c * t / 3 + 1 - (t - c) + 0.5 ** t + (c @ t.T).sum(axis=0).sum()

    check(expr, expr, [rng.standard_normal((2, 3))], rng)
    out = arr + Tensor(arr)  # ndarray on the left defers to Tensor
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, 2 * arr, rtol=0, atol=0)


@pytest.mark.torch
def test_backward_with_upstream_gradient_matches_torch():
    rng = np.random.default_rng(4)
    x0, g = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    x = Tensor(x0, requires_grad=True)
    (x.sin() * x).backward(g)
    t = torch.tensor(x0, requires_grad=True)
    (t.sin() * t).backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad, t.grad.numpy(), **TORCH_TOL)


def test_leaf_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3  # an intermediate used by both passes
    (h * x).sum().backward()
    (h * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * (6 * x.data), rtol=0, atol=1e-15)


def test_chain_of_100k_operations_is_iterative():
    c = 1 + 1e-6
    x = Tensor(1.0, requires_grad=True)
    y = x
    start = time.perf_counter()
    for _ in range(100_000):
        y = y * c
    y.backward()
    assert time.perf_counter() - start < 20
    np.testing.assert_allclose(x.grad, c ** 100_000, rtol=1e-9)


def test_no_grad_builds_no_graph_and_restores():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = (x * 2).exp()
    assert not y.requires_grad and y._parents == ()
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError
    z = (x * 2).sum()
    assert z.requires_grad
    z.backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0], rtol=0, atol=0)


def test_constants_get_no_gradient_and_detach_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    (x * c + x.detach() * x).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad, [3.0 + 1.0, 4.0 + 2.0], rtol=0, atol=0)


def test_conveniences():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.data.dtype == np.float64
    assert Tensor([1, 2]).data.dtype == np.float64
    assert x.sum().item() == 15.0
    z = zeros_like(x)
    assert z.shape == (2, 3) and not z.requires_grad and not z.data.any()
    assert "requires_grad=True" in repr(x) and repr(Tensor(1.0)) == "Tensor(1.)"
    dot = to_dot((x * 2).sum())
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("->") == 3 and '"sum' in dot  # x -> *, 2 -> *, * -> sum


def test_error_shape_mismatch_in_matmul_names_both_shapes():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        a @ b
    with pytest.raises(ValueError, match=r"batch dimensions of \(2, 3, 4\) and \(3, 4, 5\)"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5)))


def test_error_broadcasting_names_both_shapes():
    with pytest.raises(ValueError, match=r"add: cannot broadcast shapes \(3,\) and \(4,\)"):
        Tensor(np.ones(3)) + np.ones(4)
    with pytest.raises(ValueError, match=r"mul: cannot broadcast shapes \(2, 3\) and \(2,\)"):
        Tensor(np.ones((2, 3))) * Tensor(np.ones(2))


def test_error_backward_from_non_scalar():
    y = Tensor(np.ones(3), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"shape \(3,\) is not a scalar; pass the upstream"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(2,\); expected \(3,\)"):
        y.backward(np.ones(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(1.0).backward()


def test_error_log_of_non_positive():
    with pytest.raises(ValueError, match=r"log: input has 2 non-positive value\(s\) \(min -1\)"):
        Tensor([1.0, 0.0, -1.0]).log()


def test_error_logdet_and_inv_of_singular_matrix():
    singular = Tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match=r"logdet: matrix is singular \(det = 0\)"):
        singular.logdet()
    with pytest.raises(ValueError, match=r"logdet: matrix has det < 0"):
        Tensor([[0.0, 1.0], [1.0, 0.0]]).logdet()
    with pytest.raises(ValueError, match=r"inv: matrix of shape \(2, 2\) is singular"):
        singular.inv()
    with pytest.raises(ValueError, match=r"expected square matrices .* got shape \(2, 3\)"):
        Tensor(np.ones((2, 3))).logdet()


def test_sigmoid_is_stable_for_large_inputs():
    x = Tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        y = x.sigmoid()
        y.sum().backward()
    np.testing.assert_allclose(y.data, [0.0, 0.5, 1.0], rtol=0, atol=0)
    np.testing.assert_allclose(x.grad, [0.0, 0.25, 0.0], rtol=0, atol=0)


def test_hand_worked_example():
    # f(a, b) = a·b + a², a = 2, b = −3: f = −6 + 4 = −2, ∂f/∂a = b + 2a = 1, ∂f/∂b = a = 2
    a, b = Tensor(2.0, requires_grad=True), Tensor(-3.0, requires_grad=True)
    f = a * b + a ** 2
    f.backward()
    assert (f.item(), a.grad.item(), b.grad.item()) == (-2.0, 1.0, 2.0)
