"""Tests for numpynn.functional: finite differences, closed forms and PyTorch as oracles."""
import math

import numpy as np
import pytest
try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = TF = None

from numpynn import functional as F
from numpynn.gradcheck import array_rel_error, numerical_gradient, numerical_gradient_array

GRAD_TOL = 1e-7                      # finite differences in float64 vs analytic backward
TORCH_RTOL, TORCH_ATOL = 1e-10, 1e-12  # float64 parity with PyTorch


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def away_from_kinks(x, gap=0.1):
    """Push every entry at least ``gap`` away from 0 (the kink of relu, leaky_relu, elu, l1)."""
    return np.sign(x) * (gap + np.abs(x)) + (x == 0) * gap


# ------------------------------------------------------------------------------------------------
# Oracles, keyed like F.ACTIVATIONS (a new activation without an oracle fails test_tables_agree)
# ------------------------------------------------------------------------------------------------
TORCH_ACTIVATIONS = {
    "relu": lambda t: torch.relu(t),
    "leaky_relu": lambda t: TF.leaky_relu(t, 0.01),
    "sigmoid": lambda t: torch.sigmoid(t),
    "tanh": lambda t: torch.tanh(t),
    "scaled_tanh": lambda t: 1.7159 * torch.tanh(t * 2 / 3),
    "swish": lambda t: TF.silu(t),
    "gelu": lambda t: TF.gelu(t),
    "elu": lambda t: TF.elu(t),
}

CLOSED_FORMS = {  # scalar formulas from the papers, evaluated with the math module
    "relu": lambda v: max(v, 0.0),
    "leaky_relu": lambda v: v if v > 0 else 0.01 * v,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "tanh": math.tanh,
    "scaled_tanh": lambda v: 1.7159 * math.tanh(2 * v / 3),
    "swish": lambda v: v / (1 + math.exp(-v)),
    "gelu": lambda v: 0.5 * v * math.erfc(-v / math.sqrt(2)),  # ½v(1 + erf(v/√2)), no cancel
    "elu": lambda v: v if v > 0 else math.exp(v) - 1,
}


def test_tables_agree():
    assert set(F.ACTIVATIONS) == set(TORCH_ACTIVATIONS) == set(CLOSED_FORMS)
    assert list(F.ACTIVATIONS) == ["relu", "leaky_relu", "sigmoid", "tanh", "scaled_tanh",
                                   "swish", "gelu", "elu"]


# ------------------------------------------------------------------------------------------------
# erf / erfc
# ------------------------------------------------------------------------------------------------
def erf_points():
    rng = np.random.default_rng(0)
    return np.concatenate([np.linspace(-8, 8, 3201), rng.normal(scale=3, size=2000),
                           np.logspace(-300, 1, 400), -np.logspace(-300, 1, 400),
                           [0.0, 0.46875, -0.46875, 4.0, -4.0, 0.5, 26.0, 27.5, 40.0]])


def test_erf_matches_math_erf_to_1e15_relative():
    x = erf_points()
    ref = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(F.erf(x), ref, rtol=1e-15, atol=0)


def test_erfc_matches_math_erfc_in_relative_terms_down_to_the_far_tail():
    x = np.concatenate([erf_points(), np.linspace(4, 26.5, 901)])
    ref = np.array([math.erfc(v) for v in x])
    normal = ref > np.finfo(np.float64).tiny      # subnormals carry fewer digits by definition
    np.testing.assert_allclose(F.erfc(x)[normal], ref[normal], rtol=2e-15, atol=0)
    np.testing.assert_allclose(F.erfc(x)[~normal], ref[~normal], rtol=0, atol=1e-320)


def test_erf_limits_dtype_and_no_floating_point_warnings():
    x = np.array([-np.inf, -1e300, -30.0, -1e-320, 0.0, 1e-320, 30.0, 1e300, np.inf])
    with np.errstate(all="raise"):
        out = F.erf(x)
        outc = F.erfc(x)
    np.testing.assert_array_equal(out[[0, 1, 2, 6, 7, 8]], [-1, -1, -1, 1, 1, 1])
    np.testing.assert_array_equal(outc[[0, 1, 2, 6, 7, 8]], [2, 2, 2, 0, 0, 0])
    x32 = np.linspace(-5, 5, 101, dtype=np.float32)
    assert F.erf(x32).dtype == np.float32 and F.erfc(x32).dtype == np.float32
    ref = np.array([math.erf(v) for v in x32.astype(np.float64)])
    np.testing.assert_allclose(F.erf(x32), ref, rtol=0, atol=1e-6)


# ------------------------------------------------------------------------------------------------
# Activations
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(F.ACTIVATIONS))
def test_activation_gradcheck(name):
    rng = np.random.default_rng(1)
    forward, backward = F.ACTIVATIONS[name]
    x = away_from_kinks(rng.normal(scale=2.0, size=(4, 5)))
    dout = rng.normal(size=x.shape)
    _, cache = forward(x)
    dx = backward(dout, cache)
    dx_num = numerical_gradient_array(lambda v: forward(v)[0], x, dout)
    assert array_rel_error(dx_num, dx) < GRAD_TOL


@pytest.mark.parametrize("name", list(F.ACTIVATIONS))
def test_activation_matches_closed_form(name):
    x = np.array([-6.0, -2.5, -1.0, -0.3, 0.0, 0.2, 1.0, 3.0, 7.0])
    ref = np.array([CLOSED_FORMS[name](v) for v in x])
    np.testing.assert_allclose(F.ACTIVATIONS[name][0](x)[0], ref, rtol=1e-14, atol=1e-300)


@pytest.mark.torch
@pytest.mark.parametrize("name", list(F.ACTIVATIONS))
def test_activation_matches_torch(name):
    rng = np.random.default_rng(2)
    forward, backward = F.ACTIVATIONS[name]
    x = np.concatenate([np.linspace(-30, 30, 241), rng.normal(scale=3, size=200)])
    dout = rng.normal(size=x.shape)
    out, cache = forward(x)
    xt = t64(x, grad=True)
    yt = TORCH_ACTIVATIONS[name](xt)
    yt.backward(t64(dout))
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(backward(dout, cache), xt.grad.numpy(), rtol=TORCH_RTOL,
                               atol=TORCH_ATOL)


@pytest.mark.torch
@pytest.mark.parametrize("name, kwargs, torch_fn", [
    ("leaky_relu", {"negative_slope": 0.2}, lambda t: TF.leaky_relu(t, 0.2)),
    ("elu", {"alpha": 0.5}, lambda t: TF.elu(t, alpha=0.5)),
    ("elu", {"alpha": 2.0}, lambda t: TF.elu(t, alpha=2.0)),
])
def test_activation_parameters_match_torch(name, kwargs, torch_fn):
    rng = np.random.default_rng(3)
    forward, backward = F.ACTIVATIONS[name]
    x = np.concatenate([rng.normal(scale=3, size=100), [0.0, -40.0, 40.0]])
    dout = rng.normal(size=x.shape)
    out, cache = forward(x, **kwargs)
    xt = t64(x, grad=True)
    yt = torch_fn(xt)
    yt.backward(t64(dout))
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(backward(dout, cache), xt.grad.numpy(), rtol=TORCH_RTOL,
                               atol=TORCH_ATOL)
    dx_num = numerical_gradient_array(lambda v: forward(v, **kwargs)[0], x[:20].copy(), dout[:20])
    assert array_rel_error(dx_num, backward(dout[:20], forward(x[:20], **kwargs)[1])) < GRAD_TOL


@pytest.mark.parametrize("name", list(F.ACTIVATIONS))
def test_activation_keeps_float32_and_raises_no_warnings_at_extremes(name):
    forward, backward = F.ACTIVATIONS[name]
    for dtype in (np.float32, np.float64):
        x = np.array([-1e4, -800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0, 1e4], dtype=dtype)
        with np.errstate(all="raise"):
            out, cache = forward(x)
            dx = backward(np.ones_like(x), cache)
        assert out.dtype == dtype and dx.dtype == dtype
        assert np.isfinite(out).all() and np.isfinite(dx).all()


def test_sigmoid_is_stable_saturates_exactly_and_keeps_relative_precision():
    x = np.array([-1e4, -745.0, -700.0, -40.0, 0.0, 40.0, 1e4])
    with np.errstate(all="raise"):
        s = F.sigmoid(x)
        s32 = F.sigmoid(x.astype(np.float32))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[4] == 0.5
    assert s32[0] == 0.0 and s32[-1] == 1.0 and s32.dtype == np.float32
    # σ(x) = e^x / (1 + e^x) ≈ e^x for x ≪ 0, to full relative precision
    np.testing.assert_allclose(s[2:4], [math.exp(-700.0), math.exp(-40.0) / (1 + math.exp(-40.0))],
                               rtol=1e-14)
    np.testing.assert_array_equal(F.sigmoid_forward(x)[0], s)


def test_relu_hand_worked():
    out, cache = F.relu_forward(np.array([[-2.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(out, [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(F.relu_backward(np.array([[5.0, 5.0, 5.0]]), cache),
                                  [[0.0, 0.0, 5.0]])


# ------------------------------------------------------------------------------------------------
# Linear
# ------------------------------------------------------------------------------------------------
def test_linear_gradcheck_on_multidimensional_input():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 2, 4))
    W = rng.normal(size=(8, 5))
    b = rng.normal(size=5)
    dout = rng.normal(size=(3, 5))
    out, cache = F.linear_forward(x, W, b)
    dx, dW, db = F.linear_backward(dout, cache)
    assert out.shape == (3, 5) and dx.shape == x.shape
    for arr, grad in ((x, dx), (W, dW), (b, db)):
        num = numerical_gradient_array(lambda _: F.linear_forward(x, W, b)[0], arr, dout)
        assert array_rel_error(num, grad) < GRAD_TOL


@pytest.mark.torch
def test_linear_matches_torch_and_keeps_float32():
    rng = np.random.default_rng(5)
    x, W, b = rng.normal(size=(6, 3, 3)), rng.normal(size=(9, 4)), rng.normal(size=4)
    dout = rng.normal(size=(6, 4))
    out, cache = F.linear_forward(x, W, b)
    dx, dW, db = F.linear_backward(dout, cache)
    xt, Wt, bt = t64(x, True), t64(W.T, True), t64(b, True)  # torch stores weight as (M, D)
    yt = TF.linear(xt.reshape(6, -1), Wt, bt)
    yt.backward(t64(dout))
    for ours, theirs in ((out, yt), (dx, xt.grad), (dW, Wt.grad.T), (db, bt.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    args32 = [a.astype(np.float32) for a in (x, W, b)]
    out32, cache32 = F.linear_forward(*args32)
    grads32 = F.linear_backward(dout.astype(np.float32), cache32)
    assert out32.dtype == np.float32 and all(g.dtype == np.float32 for g in grads32)


# ------------------------------------------------------------------------------------------------
# Dropout
# ------------------------------------------------------------------------------------------------
def test_dropout_is_identity_in_eval_and_for_p_zero():
    rng = np.random.default_rng(6)
    x, dout = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    for p, training in ((0.5, False), (0.0, True)):
        out, cache = F.dropout_forward(x, p, training, rng)
        np.testing.assert_array_equal(out, x)
        np.testing.assert_array_equal(F.dropout_backward(dout, cache), dout)


def test_dropout_is_reproducible_with_a_seeded_generator():
    x = np.ones((20, 30))
    a, _ = F.dropout_forward(x, 0.4, True, np.random.default_rng(123))
    b, _ = F.dropout_forward(x, 0.4, True, np.random.default_rng(123))
    c, _ = F.dropout_forward(x, 0.4, True, np.random.default_rng(124))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dropout_keep_fraction_scaling_and_expected_value():
    p = 0.3
    x = np.ones((200, 500))
    out, _ = F.dropout_forward(x, p, True, np.random.default_rng(7))
    kept = out != 0
    # 100 000 Bernoulli(0.7) draws: std of the fraction ≈ 0.0015, so 0.01 is ~7 sigma
    np.testing.assert_allclose(kept.mean(), 1 - p, atol=0.01)
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-15)   # survivors scaled by 1/(1-p)
    np.testing.assert_allclose(out.mean(), 1.0, atol=0.015)            # E[out] = x


def test_dropout_backward_uses_the_forward_mask():
    rng = np.random.default_rng(8)
    x, dout = rng.normal(size=(10, 12)), rng.normal(size=(10, 12))
    out, cache = F.dropout_forward(x, 0.5, True, np.random.default_rng(9))
    dx = F.dropout_backward(dout, cache)
    np.testing.assert_array_equal(dx != 0, out != 0)
    np.testing.assert_allclose(dx[out != 0], 2 * dout[out != 0], rtol=1e-15)
    num = numerical_gradient_array(
        lambda v: F.dropout_forward(v, 0.5, True, np.random.default_rng(9))[0], x, dout)
    assert array_rel_error(num, dx) < GRAD_TOL


def test_dropout_float32_and_p_one():
    x = np.ones((4, 6), dtype=np.float32)
    out, cache = F.dropout_forward(x, 0.25, True, np.random.default_rng(10))
    assert out.dtype == np.float32 and F.dropout_backward(x, cache).dtype == np.float32
    with np.errstate(all="raise"):
        out, _ = F.dropout_forward(x, 1.0, True, np.random.default_rng(10))
    np.testing.assert_array_equal(out, 0.0)


# ------------------------------------------------------------------------------------------------
# Batch normalisation and layer normalisation
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradcheck(training):
    rng = np.random.default_rng(11)
    x = rng.normal(loc=1.5, scale=2.0, size=(6, 4))
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    rm, rv = rng.normal(size=4), rng.uniform(0.5, 2.0, size=4)
    dout = rng.normal(size=x.shape)

    def forward(_):  # copies: the running statistics are updated in place when training
        return F.batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy(), training)[0]

    _, cache = F.batchnorm_forward(x, gamma, beta, rm.copy(), rv.copy(), training)
    dx, dgamma, dbeta = F.batchnorm_backward(dout, cache)
    for arr, grad in ((x, dx), (gamma, dgamma), (beta, dbeta)):
        assert array_rel_error(numerical_gradient_array(forward, arr, dout), grad) < GRAD_TOL


@pytest.mark.torch
def test_batchnorm_matches_torch_over_train_then_eval_steps():
    rng = np.random.default_rng(12)
    n, d = 8, 5
    gamma, beta = rng.normal(size=d), rng.normal(size=d)
    running_mean, running_var = np.zeros(d), np.ones(d)
    bn = torch.nn.BatchNorm1d(d, dtype=torch.float64)  # momentum 0.1, eps 1e-5
    with torch.no_grad():
        bn.weight.copy_(t64(gamma))
        bn.bias.copy_(t64(beta))
    for step, training in enumerate([True, True, True, False, False]):
        bn.train(training)
        x = rng.normal(loc=step - 1.0, scale=1.0 + step, size=(n, d))
        dout = rng.normal(size=(n, d))
        out, cache = F.batchnorm_forward(x, gamma, beta, running_mean, running_var, training)
        dx, dgamma, dbeta = F.batchnorm_backward(dout, cache)
        bn.zero_grad()
        xt = t64(x, grad=True)
        yt = bn(xt)
        yt.backward(t64(dout))
        pairs = ((out, yt), (dx, xt.grad), (dgamma, bn.weight.grad), (dbeta, bn.bias.grad),
                 (running_mean, bn.running_mean), (running_var, bn.running_var))
        for ours, theirs in pairs:
            np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=TORCH_RTOL,
                                       atol=TORCH_ATOL)


def test_batchnorm_dtype_and_single_sample_error():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    g, b = np.ones(3, np.float32), np.zeros(3, np.float32)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    out, cache = F.batchnorm_forward(x, g, b, rm, rv, True)
    grads = F.batchnorm_backward(np.ones_like(x), cache)
    assert out.dtype == np.float32 and all(a.dtype == np.float32 for a in (*grads, rm, rv))
    with pytest.raises(ValueError, match=r"more than 1 sample .* got x of shape \(1, 3\)"):
        F.batchnorm_forward(x[:1], g, b, rm, rv, True)


def test_batchnorm_training_output_is_normalised():
    rng = np.random.default_rng(14)
    x = rng.normal(loc=3.0, scale=5.0, size=(50, 4))
    out, _ = F.batchnorm_forward(x, np.ones(4), np.zeros(4), np.zeros(4), np.ones(4), True)
    var = x.var(axis=0)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), var / (var + 1e-5), rtol=1e-12)


@pytest.mark.parametrize("shape", [(5, 6), (2, 3, 6)])
def test_layernorm_gradcheck(shape):
    rng = np.random.default_rng(15)
    x = rng.normal(loc=0.5, scale=2.0, size=shape)
    gamma, beta = rng.normal(size=shape[-1]), rng.normal(size=shape[-1])
    dout = rng.normal(size=shape)
    _, cache = F.layernorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = F.layernorm_backward(dout, cache)
    for arr, grad in ((x, dx), (gamma, dgamma), (beta, dbeta)):
        num = numerical_gradient_array(lambda _: F.layernorm_forward(x, gamma, beta)[0], arr, dout)
        assert array_rel_error(num, grad) < GRAD_TOL


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 5)])
def test_layernorm_matches_torch_and_keeps_float32(shape):
    rng = np.random.default_rng(16)
    x = rng.normal(loc=-1.0, scale=3.0, size=shape)
    gamma, beta = rng.normal(size=shape[-1]), rng.normal(size=shape[-1])
    dout = rng.normal(size=shape)
    out, cache = F.layernorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = F.layernorm_backward(dout, cache)
    ln = torch.nn.LayerNorm(shape[-1], dtype=torch.float64)  # eps 1e-5
    with torch.no_grad():
        ln.weight.copy_(t64(gamma))
        ln.bias.copy_(t64(beta))
    xt = t64(x, grad=True)
    yt = ln(xt)
    yt.backward(t64(dout))
    for ours, theirs in ((out, yt), (dx, xt.grad), (dgamma, ln.weight.grad),
                         (dbeta, ln.bias.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=TORCH_RTOL, atol=TORCH_ATOL)
    args32 = [a.astype(np.float32) for a in (x, gamma, beta)]
    out32, cache32 = F.layernorm_forward(*args32)
    grads32 = F.layernorm_backward(dout.astype(np.float32), cache32)
    assert out32.dtype == np.float32 and all(g.dtype == np.float32 for g in grads32)


# ------------------------------------------------------------------------------------------------
# Softmax
# ------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_and_log_softmax_match_torch(axis):
    rng = np.random.default_rng(17)
    x = rng.normal(scale=5.0, size=(6, 4))
    np.testing.assert_allclose(F.softmax(x, axis=axis), torch.softmax(t64(x), dim=axis).numpy(),
                               rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(F.log_softmax(x, axis=axis),
                               torch.log_softmax(t64(x), dim=axis).numpy(),
                               rtol=TORCH_RTOL, atol=TORCH_ATOL)


def test_softmax_with_huge_inputs():
    x = np.array([[1e4, 0.0, -1e4], [1000.0, 1000.0, 1000.0], [1e300, -1e300, 0.0]])
    with np.errstate(all="raise"):
        p = F.softmax(x)
        logp = F.log_softmax(x)
        p32 = F.softmax(x[:2].astype(np.float32))
    np.testing.assert_array_equal(p[[0, 2]], [[1, 0, 0], [1, 0, 0]])
    np.testing.assert_allclose(p[1], 1 / 3, rtol=1e-15)
    np.testing.assert_allclose(logp[:2], [[0, -1e4, -2e4], [-math.log(3)] * 3], rtol=1e-15)
    assert np.isfinite(logp).all() and p32.dtype == np.float32
    np.testing.assert_allclose(p32.sum(axis=1), 1.0, rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# Loss kernels: name -> (kernel, case builder, torch oracle); F.name is the checked public
# function over the trusted kernel F._name
# ------------------------------------------------------------------------------------------------
def classification_case(rng, n=6, c=5):
    return rng.normal(scale=2.0, size=(n, c)), rng.integers(0, c, size=n)


def torch_hinge(scores, labels, margin=1.0):
    return scores.shape[1] * TF.multi_margin_loss(scores, labels, margin=margin)


KERNELS = {
    "softmax_cross_entropy": (F._softmax_cross_entropy, classification_case,
                              lambda p, t: TF.cross_entropy(p, t)),
    "binary_cross_entropy": (F._binary_cross_entropy,
                             lambda rng: (rng.uniform(0.05, 0.95, size=(8, 1)),
                                          rng.uniform(0, 1, size=(8, 1))),
                             lambda p, t: TF.binary_cross_entropy(p, t)),
    "bce_with_logits": (F._bce_with_logits,
                        lambda rng: (rng.normal(scale=3, size=(8, 2)),
                                     rng.integers(0, 2, size=(8, 2)).astype(float)),
                        lambda p, t: TF.binary_cross_entropy_with_logits(p, t)),
    "mse": (F._mse, lambda rng: (rng.normal(size=(7, 3)), rng.normal(size=(7, 3))),
            lambda p, t: TF.mse_loss(p, t)),
    "l1": (F._l1, lambda rng: (away_from_kinks(rng.normal(size=(7, 3))), np.zeros((7, 3))),
           lambda p, t: TF.l1_loss(p, t)),
    "hinge": (F._hinge, classification_case, torch_hinge),
}


def torch_loss(oracle, pred, target):
    pt = t64(pred, grad=True)
    tt = torch.tensor(target) if target.dtype.kind in "iu" else t64(target)
    loss = oracle(pt, tt)
    loss.backward()
    return loss.item(), pt.grad.numpy()


@pytest.mark.parametrize("name", list(KERNELS))
def test_loss_kernel_gradcheck(name):
    kernel, case, _ = KERNELS[name]
    pred, target = case(np.random.default_rng(18))
    if name == "hinge":  # keep every margin s_j − s_y + 1 away from the kink at 0
        m = pred - pred[np.arange(len(target)), target][:, None] + 1
        assert np.min(np.abs(m)) > 1e-3
    loss, dpred = kernel(pred, target)
    num = numerical_gradient(lambda v: kernel(v, target)[0], pred)
    assert isinstance(loss, float) and dpred.shape == pred.shape
    assert array_rel_error(num, dpred) < GRAD_TOL


@pytest.mark.torch
@pytest.mark.parametrize("name", list(KERNELS))
def test_loss_kernel_matches_torch(name):
    kernel, case, oracle = KERNELS[name]
    pred, target = case(np.random.default_rng(19))
    loss, dpred = kernel(pred, target)
    ref_loss, ref_grad = torch_loss(oracle, pred, target)
    np.testing.assert_allclose(loss, ref_loss, rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(dpred, ref_grad, rtol=TORCH_RTOL, atol=TORCH_ATOL)


@pytest.mark.parametrize("name", list(KERNELS))
def test_loss_kernel_keeps_float32(name):
    kernel, case, _ = KERNELS[name]
    pred, target = case(np.random.default_rng(20))
    loss, dpred = kernel(pred.astype(np.float32), target)
    assert isinstance(loss, float) and dpred.dtype == np.float32
    np.testing.assert_allclose(loss, kernel(pred, target)[0], rtol=1e-5)


@pytest.mark.parametrize("name", list(KERNELS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_public_loss_returns_its_kernels_result_bit_for_bit(name, dtype):
    kernel, case, _ = KERNELS[name]
    pred, target = case(np.random.default_rng(22))
    pred = pred.astype(dtype)
    loss, dpred = getattr(F, name)(pred, target)
    kernel_loss, kernel_dpred = kernel(pred, target)
    assert loss == kernel_loss and dpred.dtype == kernel_dpred.dtype == dtype
    np.testing.assert_array_equal(dpred, kernel_dpred)


# (labels, error, message) for scores of shape (2, 3): the reproducers of issue 13, item 4
BAD_LABELS = [
    ([0, -1], ValueError, r"labels must lie in \[0, 3\); got values from -1 to 0$"),   # wrapped
    ([0, 7], ValueError, r"labels must lie in \[0, 3\); got values from 0 to 7$"),    # IndexError
    ([0, 1.5], TypeError, r"labels must be integer class indices; got dtype float64$"),
    ([0.0, 2.0], TypeError, r"labels must be integer class indices; got dtype float64\n"
                            r"help: the values are whole numbers; "
                            r"pass labels\.astype\(np\.int64\)$"),
    ([True, False], TypeError, r"labels must be integer class indices; got dtype bool$"),
    ([[0], [1]], ValueError, r"labels has shape \(2, 1\); expected \(N,\) class indices$"),
    ([0, 1, 2], ValueError, r"labels has 3 entries; expected 2 \(one per sample\)$"),
]


@pytest.mark.parametrize("name, loss_cls", [("softmax_cross_entropy", "SoftmaxCrossEntropy"),
                                            ("hinge", "Hinge")])
@pytest.mark.parametrize("labels, error, message", BAD_LABELS)
def test_multiclass_losses_reject_bad_labels_like_the_loss_objects(name, loss_cls, labels, error,
                                                                   message):
    from numpynn import losses

    scores = np.zeros((2, 3))
    with pytest.raises(error, match=rf"^{name}: {message}") as ours:
        getattr(F, name)(scores, np.array(labels))
    with pytest.raises(error) as objects:
        getattr(losses, loss_cls)()(scores, np.array(labels))
    assert str(ours.value).removeprefix(f"{name}: ") == \
        str(objects.value).removeprefix(f"{loss_cls}: ")


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "hinge"])
def test_multiclass_losses_check_their_scores(name):
    fn = getattr(F, name)
    with pytest.raises(ValueError, match=rf"^{name}: scores has shape \(3,\); expected 2-D array"):
        fn(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=rf"^{name}: scores contains 1 NaN or inf value\(s\)$"):
        fn(np.array([[0.0, np.nan]]), np.array([0]))
    with pytest.raises(TypeError, match=rf"^{name}: scores must have a floating dtype; got int64"):
        fn(np.zeros((1, 2), dtype=np.int64), np.array([0]))


def test_hinge_checks_its_margin_like_the_loss_object():
    for margin in (-1, float("nan")):
        with pytest.raises(ValueError, match=rf"^hinge: Invalid margin: {margin}"):
            F.hinge(np.zeros((1, 2)), np.array([0]), margin=margin)


@pytest.mark.parametrize("name, loss_cls", [("mse", "MSE"), ("l1", "L1")])
@pytest.mark.parametrize("pred, target", [
    (np.full((5, 1), 0.5), np.ones(5)),                   # a target to reshape: help line
    (np.full((5, 1), 0.5), np.ones((5, 2))),
    (np.array([[np.inf], [0.0]]), np.ones((2, 1))),
    (np.ones((2, 1)), np.array([[np.nan], [0.0]])),
    (np.ones((2, 1), dtype=np.int64), np.ones((2, 1))),
    (np.ones((2, 1)), np.array([[True], [False]])),
])
def test_elementwise_losses_reject_bad_inputs_like_the_loss_objects(name, loss_cls, pred, target):
    from numpynn import losses

    with pytest.raises((TypeError, ValueError)) as ours:
        getattr(F, name)(pred, target)
    with pytest.raises(type(ours.value)) as objects:
        getattr(losses, loss_cls)()(pred, target)
    assert str(ours.value).startswith(f"{name}: ")
    assert str(ours.value).removeprefix(f"{name}: ") == \
        str(objects.value).removeprefix(f"{loss_cls}: ")


def test_binary_losses_check_shapes_and_the_unit_interval():
    with pytest.raises(ValueError, match=r"^binary_cross_entropy: probs must lie in \[0, 1\]; got "
                                         r"values from -0\.5 to 2\.0\nhelp: .*bce_with_logits$"):
        F.binary_cross_entropy(np.array([-0.5, 2.0]), np.array([0.0, 1.0]))
    for name, pred in (("binary_cross_entropy", "probs"), ("bce_with_logits", "logits")):
        fn = getattr(F, name)
        with pytest.raises(ValueError, match=rf"^{name}: targets must lie in \[0, 1\]; got values "
                                             r"from 0\.0 to 3\.0$"):
            fn(np.array([0.2, 0.7]), np.array([0.0, 3.0]))
        with pytest.raises(ValueError, match=rf"^{name}: targets has shape \(2,\); expected "
                                             rf"\(2, 1\) \(the shape of {pred}\)\nhelp: reshape "
                                             r"targets with targets\.reshape\(-1, 1\)$"):
            fn(np.full((2, 1), 0.5), np.ones(2))
        with pytest.raises(ValueError, match=rf"^{name}: {pred} contains 1 NaN or inf"):
            fn(np.array([np.nan, 0.5]), np.ones(2))


def test_cross_entropy_hand_worked():
    # scores (1, 2, 3), label 2: L = log(e¹ + e² + e³) − 3 = log(1 + e⁻¹ + e⁻²) = 0.40760596444...
    # dL/ds = softmax(s) − onehot(2) = (0.09003057, 0.24472847, 0.66524096 − 1)
    loss, d = F.softmax_cross_entropy(np.array([[1.0, 2.0, 3.0]]), np.array([2]))
    np.testing.assert_allclose(loss, 0.4076059644443804, rtol=1e-15)
    np.testing.assert_allclose(d, [[0.09003057317038046, 0.24472847105479767,
                                    -0.33475904422517816]], rtol=1e-14)


def test_hinge_hand_worked_cs231n_example():
    # CS231n: scores (3.2, 5.1, −1.7) for the cat (class 0), margin 1:
    # max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1) = 2.9 + 0 = 2.9
    loss, d = F.hinge(np.array([[3.2, 5.1, -1.7]]), np.array([0]))
    np.testing.assert_allclose(loss, 2.9, rtol=1e-14)
    np.testing.assert_array_equal(d, [[-1.0, 1.0, 0.0]])
    loss, _ = F.hinge(np.array([[3.2, 5.1, -1.7]]), np.array([0]), margin=0.5)
    np.testing.assert_allclose(loss, 2.4, rtol=1e-14)


@pytest.mark.torch
def test_hinge_margin_matches_torch():
    scores, labels = classification_case(np.random.default_rng(21))
    loss, d = F.hinge(scores, labels, margin=0.5)
    ref_loss, ref_grad = torch_loss(lambda s, y: torch_hinge(s, y, margin=0.5), scores, labels)
    np.testing.assert_allclose(loss, ref_loss, rtol=TORCH_RTOL)
    np.testing.assert_allclose(d, ref_grad, rtol=TORCH_RTOL, atol=TORCH_ATOL)


@pytest.mark.torch
def test_binary_cross_entropy_clamps_like_torch_at_the_boundary():
    probs = np.array([0.0, 1.0, 0.0, 1.0, 1e-50, 0.5])
    targets = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.3])
    with np.errstate(all="raise"):
        loss, d = F.binary_cross_entropy(probs, targets)
    ref_loss, ref_grad = torch_loss(TF.binary_cross_entropy, probs, targets)
    np.testing.assert_allclose(loss, ref_loss, rtol=TORCH_RTOL)     # log(0) costs 100
    np.testing.assert_allclose(d, ref_grad, rtol=TORCH_RTOL)


@pytest.mark.torch
def test_bce_with_logits_is_stable_for_huge_logits():
    logits = np.array([-1e4, 1e4, -800.0, 800.0, 0.0])
    targets = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    with np.errstate(all="raise"):
        loss, d = F.bce_with_logits(logits, targets)
    ref_loss, ref_grad = torch_loss(TF.binary_cross_entropy_with_logits, logits, targets)
    np.testing.assert_allclose(loss, (1e4 + 1e4 + math.log(2)) / 5, rtol=1e-15)
    np.testing.assert_allclose(loss, ref_loss, rtol=TORCH_RTOL)
    np.testing.assert_allclose(d, ref_grad, rtol=TORCH_RTOL, atol=TORCH_ATOL)


def test_cross_entropy_never_takes_log_of_zero():
    scores = np.array([[1e4, 0.0, -1e4]])
    with np.errstate(all="raise"):
        loss, d = F.softmax_cross_entropy(scores, np.array([2]))
    np.testing.assert_allclose(loss, 2e4, rtol=1e-15)
    np.testing.assert_array_equal(d, [[1.0, 0.0, -1.0]])


@pytest.mark.torch
def test_l1_subgradient_is_zero_where_pred_equals_target():
    pred, target = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [5.0, 4.0]])
    loss, d = F.l1(pred, target)
    np.testing.assert_allclose(loss, 1.0, rtol=1e-15)
    np.testing.assert_array_equal(d, [[0.0, 0.25], [-0.25, 0.0]])
    np.testing.assert_array_equal(d, torch_loss(TF.l1_loss, pred, target)[1])


def test_mse_hand_worked():
    # pred (1, 2, 3) vs target (0, 2, 5): (1 + 0 + 4)/3 = 5/3; dpred = 2·(1, 0, −2)/3
    loss, d = F.mse(np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 5.0]))
    np.testing.assert_allclose(loss, 5 / 3, rtol=1e-15)
    np.testing.assert_allclose(d, [2 / 3, 0.0, -4 / 3], rtol=1e-15)
