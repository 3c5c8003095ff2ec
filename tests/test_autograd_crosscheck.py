"""The hand-written backward kernels of numpynn.functional equal numpynn.autograd's gradients.

Each kernel's math is re-expressed with autograd primitives; the vector-Jacobian product
for a random upstream gradient must agree to float64 rounding (rtol 1e-10)."""
import numpy as np
import pytest

from numpynn import functional as F
from numpynn.autograd import Tensor

TOL = dict(rtol=1e-10, atol=1e-12)

# activation name -> the same function written with autograd primitives
AUTOGRAD_ACTIVATIONS = {
    "relu": lambda t: t.relu(),
    "leaky_relu": lambda t: t.relu() - 0.01 * (-t).relu(),  # default negative_slope 0.01
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
    "scaled_tanh": lambda t: 1.7159 * (t * (2 / 3)).tanh(),
    "swish": lambda t: t * t.sigmoid(),
    "elu": lambda t: t.relu() + ((-(-t).relu()).exp() - 1.0),  # alpha = 1: e^min(x,0) − 1
}
NOT_EXPRESSIBLE = {"gelu"}  # needs erf, which autograd does not provide


def test_every_activation_is_cross_checked():
    assert set(F.ACTIVATIONS) == set(AUTOGRAD_ACTIVATIONS) | NOT_EXPRESSIBLE


@pytest.mark.parametrize("name", sorted(AUTOGRAD_ACTIVATIONS))
def test_activation_backward(name):
    rng = np.random.default_rng(sorted(AUTOGRAD_ACTIVATIONS).index(name))
    x = rng.standard_normal((5, 4)) * 2  # continuous float64: no exact kinks at 0
    dout = rng.standard_normal((5, 4))
    forward, backward = F.ACTIVATIONS[name]
    out, cache = forward(x)
    t = Tensor(x, requires_grad=True)
    y = AUTOGRAD_ACTIVATIONS[name](t)
    y.backward(dout)
    np.testing.assert_allclose(out, y.data, **TOL)
    np.testing.assert_allclose(backward(dout, cache), t.grad, **TOL)


def _onehot(labels, c):
    return np.eye(c)[labels]  # (N, C)


def _hinge(s, labels, margin=1.0):
    n, c = s.shape
    margins = s - s[np.arange(n), labels].reshape(-1, 1) + margin  # (N, C) - (N, 1)
    return (margins.relu() * (1.0 - _onehot(labels, c))).sum() / n


# loss kernel -> (autograd version, input maker)
LOSSES = {
    "softmax_cross_entropy": (lambda s, y: -s.log_softmax(axis=1)[np.arange(len(y)), y].mean(),
                              "labels"),
    "hinge": (_hinge, "labels"),
    "binary_cross_entropy": (lambda p, t: -(t * p.log() + (1 - t) * (1 - p).log()).mean(),
                             "probs"),
    "bce_with_logits": (lambda x, t: (x.relu() - x * t + (1 + (-x.abs()).exp()).log()).mean(),
                        "targets"),
    "mse": (lambda p, t: ((p - t) ** 2).mean(), "targets"),
    "l1": (lambda p, t: (p - t).abs().mean(), "targets"),
}


def _loss_inputs(kind, rng):
    pred = rng.standard_normal((6, 4))
    if kind == "labels":
        return pred, rng.integers(0, 4, size=6)
    if kind == "probs":
        return rng.uniform(0.05, 0.95, size=(6, 4)), rng.uniform(0, 1, size=(6, 4))
    return pred, rng.uniform(0, 1, size=(6, 4))  # regression / logit targets


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_backward(name):
    rng = np.random.default_rng(sorted(LOSSES).index(name))
    ours, kind = LOSSES[name]
    pred, target = _loss_inputs(kind, rng)
    loss, dpred = getattr(F, name)(pred.copy(), target)
    t = Tensor(pred, requires_grad=True)
    value = ours(t, target)
    value.backward()
    np.testing.assert_allclose(loss, value.item(), **TOL)
    np.testing.assert_allclose(dpred, t.grad, **TOL)


def _vjp(fn, arrays, dout):
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(dout)
    return out.data, [t.grad for t in tensors]


def test_linear_backward():
    rng = np.random.default_rng(10)
    x, W, b = rng.standard_normal((5, 2, 3)), rng.standard_normal((6, 4)), rng.standard_normal(4)
    dout = rng.standard_normal((5, 4))
    out, cache = F.linear_forward(x, W, b)
    value, grads = _vjp(lambda x, W, b: x.reshape(5, 6) @ W + b, [x, W, b], dout)
    np.testing.assert_allclose(out, value, **TOL)
    for kernel_grad, grad in zip(F.linear_backward(dout, cache), grads):
        np.testing.assert_allclose(kernel_grad, grad, **TOL)


def _normalize(x, axis, eps):
    xc = x - x.mean(axis=axis, keepdims=True)
    return xc / ((xc * xc).mean(axis=axis, keepdims=True) + eps).sqrt()


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_backward(training):
    rng = np.random.default_rng(11)
    x, dout = rng.standard_normal((8, 3)) * 2 + 1, rng.standard_normal((8, 3))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    out, cache = F.batchnorm_forward(x, gamma, beta, running_mean.copy(), running_var.copy(),
                                     training, eps=1e-5)
    if training:
        fn = lambda x, g, b: g * _normalize(x, 0, 1e-5) + b  # noqa: E731
    else:
        fn = lambda x, g, b: g * (x - running_mean) / np.sqrt(running_var + 1e-5) + b  # noqa: E731
    value, grads = _vjp(fn, [x, gamma, beta], dout)
    np.testing.assert_allclose(out, value, **TOL)
    for kernel_grad, grad in zip(F.batchnorm_backward(dout, cache), grads):
        np.testing.assert_allclose(kernel_grad, grad, **TOL)


def test_layernorm_backward():
    rng = np.random.default_rng(12)
    x, dout = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    out, cache = F.layernorm_forward(x, gamma, beta, eps=1e-5)
    value, grads = _vjp(lambda x, g, b: g * _normalize(x, -1, 1e-5) + b, [x, gamma, beta], dout)
    np.testing.assert_allclose(out, value, **TOL)
    for kernel_grad, grad in zip(F.layernorm_backward(dout, cache), grads):
        np.testing.assert_allclose(kernel_grad, grad, **TOL)


@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_and_log_softmax_values(axis):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((4, 5)) * 3
    np.testing.assert_allclose(F.softmax(x, axis=axis), Tensor(x).softmax(axis).data, **TOL)
    np.testing.assert_allclose(F.log_softmax(x, axis=axis), Tensor(x).log_softmax(axis).data,
                               **TOL)


def test_sequential_backward_equals_autograd():
    from numpynn.layers import LayerNorm, Linear, Swish, Tanh
    from numpynn.sequential import Sequential

    rng = np.random.default_rng(14)
    model = Sequential(Linear(4, 6, rng=0, dtype=np.float64), Tanh(),
                       Linear(6, 5, rng=1, dtype=np.float64), Swish(),
                       LayerNorm(5, dtype=np.float64), Linear(5, 3, rng=2, dtype=np.float64))
    for key, value in model.params().items():  # non-trivial gamma, beta and biases
        value[...] = rng.standard_normal(value.shape)
    x, labels = rng.standard_normal((7, 4)), rng.integers(0, 3, size=7)
    loss, dscores = F.softmax_cross_entropy(model.forward(x), labels)
    model.backward(dscores)

    p = {key: Tensor(value, requires_grad=True) for key, value in model.params().items()}
    h = (x @ p["0.W"] + p["0.b"]).tanh()  # (N, 6)
    h = h @ p["2.W"] + p["2.b"]  # (N, 5)
    h = h * h.sigmoid()
    h = p["4.gamma"] * _normalize(h, -1, 1e-5) + p["4.beta"]
    scores = h @ p["5.W"] + p["5.b"]  # (N, 3)
    value = -scores.log_softmax(axis=1)[np.arange(7), labels].mean()
    value.backward()
    np.testing.assert_allclose(loss, value.item(), **TOL)
    assert model.grads().keys() == p.keys()
    for key, grad in model.grads().items():
        np.testing.assert_allclose(grad, p[key].grad, **TOL)
