"""Each hand-derived identity equals autograd, finite differences of the loss, and PyTorch."""
import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

from numpynn import matrix_calculus as mc
from numpynn.gradcheck import numerical_gradient

AUTOGRAD_TOL = dict(rtol=1e-10, atol=1e-12)  # two exact float64 computations of one formula
FD_TOL = dict(rtol=1e-6, atol=1e-7)  # centered differences, h = 1e-5


def _agree(pair, loss, *arrays):
    """autograd == closed form == finite differences of ``loss`` in the last array."""
    np.testing.assert_allclose(pair.autograd, pair.closed_form, **AUTOGRAD_TOL)
    np.testing.assert_allclose(pair.value, loss(*arrays), rtol=1e-12)
    numeric = numerical_gradient(lambda _: loss(*arrays), arrays[-1])
    np.testing.assert_allclose(pair.closed_form, numeric, **FD_TOL)


@pytest.mark.torch
def test_autoencoder():
    rng = np.random.default_rng(0)
    x, W = rng.standard_normal(5), rng.standard_normal((3, 5))
    pair = mc.autoencoder_grad(W, x)
    _agree(pair, lambda x, W: 0.5 * np.sum((W.T @ W @ x - x) ** 2), x, W)
    Wt = torch.tensor(W, requires_grad=True)
    (0.5 * ((Wt.T @ Wt @ torch.tensor(x) - torch.tensor(x)) ** 2).sum()).backward()
    np.testing.assert_allclose(pair.autograd, Wt.grad.numpy(), **AUTOGRAD_TOL)


def test_logdet_is_inverse_transpose():
    rng = np.random.default_rng(1)
    K = rng.standard_normal((4, 4)) + 4 * np.eye(4)  # not symmetric: K⁻ᵀ ≠ K⁻¹
    assert np.linalg.det(K) > 0
    pair = mc.logdet_grad(K)
    _agree(pair, lambda K: np.linalg.slogdet(K)[1], K)
    assert not np.allclose(pair.closed_form, np.linalg.inv(K))


def test_l1_regression():
    rng = np.random.default_rng(2)
    X, w, y = rng.standard_normal((6, 3)), rng.standard_normal(3), rng.standard_normal(6)
    pair = mc.l1_regression_grad(X, w, y)
    _agree(pair, lambda X, y, w: np.abs(X @ w - y).sum(), X, y, w)
    np.testing.assert_allclose(pair.closed_form, X.T @ np.sign(X @ w - y), rtol=0, atol=0)


def test_least_squares_and_its_zero_at_the_normal_equations():
    rng = np.random.default_rng(3)
    X, w, y = rng.standard_normal((6, 3)), rng.standard_normal(3), rng.standard_normal(6)
    _agree(mc.least_squares_grad(X, w, y), lambda X, y, w: np.sum((X @ w - y) ** 2), X, y, w)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(mc.least_squares_grad(X, w_star, y).autograd, 0, atol=1e-12)


def test_mean_objective_gradient_and_descent_reaches_sample_mean():
    rng = np.random.default_rng(4)
    X, mu = rng.standard_normal((8, 3)) + 2.0, rng.standard_normal(3)
    _agree(mc.mean_objective_grad(X, mu), lambda X, mu: np.sum((X - mu) ** 2), X, mu)
    np.testing.assert_allclose(mc.mean_objective_grad(X, X.mean(axis=0)).autograd, 0,
                               atol=1e-12)
    result = mc.mean_by_descent(X, steps=60)
    np.testing.assert_allclose(result.final, X.mean(axis=0), rtol=1e-12)
    # the error halves every step with the default lr = 0.25 / N
    errors = np.linalg.norm(result.path - X.mean(axis=0), axis=1)
    np.testing.assert_allclose(errors[1:11] / errors[:10], 0.5, rtol=1e-9)
    assert np.all(np.diff(result.values[:20]) < 0)  # later steps are at rounding level
    np.testing.assert_allclose(result.values[-1], np.sum((X - X.mean(axis=0)) ** 2), rtol=1e-12)


@pytest.mark.torch
def test_swish_network_every_parameter():
    rng = np.random.default_rng(5)
    N, D, H, M = 7, 3, 4, 2
    X, Y = rng.standard_normal((N, D)), rng.standard_normal((N, M))
    params = {"W1": rng.standard_normal((D, H)), "b1": rng.standard_normal(H),
              "W2": rng.standard_normal((H, M)), "b2": rng.standard_normal(M)}
    pair = mc.swish_network_grads(X, Y, params)

    def loss(_):
        Z = X @ params["W1"] + params["b1"]
        out = Z / (1 + np.exp(-Z)) @ params["W2"] + params["b2"]
        return 0.5 * np.sum((out - Y) ** 2) / N

    torch_params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    Z = torch.tensor(X) @ torch_params["W1"] + torch_params["b1"]
    out = torch.nn.functional.silu(Z) @ torch_params["W2"] + torch_params["b2"]
    (0.5 * ((out - torch.tensor(Y)) ** 2).sum() / N).backward()
    np.testing.assert_allclose(pair.value, loss(None), rtol=1e-12)
    assert set(pair.autograd) == set(pair.closed_form) == set(params)
    for name, array in params.items():
        np.testing.assert_allclose(pair.autograd[name], pair.closed_form[name], **AUTOGRAD_TOL)
        np.testing.assert_allclose(pair.closed_form[name], torch_params[name].grad.numpy(),
                                   **AUTOGRAD_TOL)
        np.testing.assert_allclose(pair.closed_form[name], numerical_gradient(loss, array),
                                   **FD_TOL)
