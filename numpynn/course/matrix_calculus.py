"""Matrix-calculus identities courses ask students to derive, each computed two ways.

Every function returns a :class:`GradientPair`: the gradient from :mod:`numpynn.autograd` and
the closed form derived by hand (docstrings show the derivation), so a test — or a student —
can check one against the other and against finite differences.

Convention: for a scalar L and a matrix W, ∂L/∂W has W's shape and dL = tr((∂L/∂W)ᵀ dW).

>>> rng = np.random.default_rng(0)
>>> X, w, y = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal(5)
>>> pair = least_squares_grad(X, w, y)
>>> bool(np.allclose(pair.autograd, pair.closed_form))
True
"""
from dataclasses import dataclass

import numpy as np

from numpynn._helpers.validation import check_array
from numpynn.autograd import Tensor
from numpynn.functional import sigmoid

MEAN_STEP = 0.25  # descent on Σ‖xᵢ − μ‖² uses lr = MEAN_STEP / N: error halves every step


@dataclass(frozen=True)
class GradientPair:
    """A loss value with its gradient from autograd and from the hand-derived closed form.

    Attributes
    ----------
    value : float
    autograd : ndarray or dict of str to ndarray
    closed_form : ndarray or dict of str to ndarray, same shapes as ``autograd``
    """

    value: float
    autograd: object
    closed_form: object


def _leaf(x):
    return Tensor(x, requires_grad=True)


def autoencoder_grad(W, x):
    """Gradient of the linear autoencoder loss L = ½‖WᵀWx − x‖² with respect to W.

    With h = Wx and r = WᵀWx − x = Wᵀh − x,

        dL = rᵀ dr = rᵀ(dWᵀ h + Wᵀ dW x) = tr((h rᵀ)ᵀ dW) + tr((W r xᵀ)ᵀ dW),

    so ∂L/∂W = W x rᵀ + W r xᵀ = W(x rᵀ + r xᵀ).

    Parameters
    ----------
    W : ndarray of shape (K, D)
        Encoder (K ≤ D code units); the decoder is Wᵀ.
    x : ndarray of shape (D,)

    Returns
    -------
    GradientPair with arrays of shape (K, D)
    """
    W, x = check_array(W, "W", ndim=2), check_array(x, "x", ndim=1)
    Wt = _leaf(W)
    loss = 0.5 * ((Wt.T @ (Wt @ x) - x) ** 2).sum()
    loss.backward()
    r = W.T @ (W @ x) - x  # (D,)
    closed = W @ (np.outer(x, r) + np.outer(r, x))  # (K, D) @ (D, D) -> (K, D)
    return GradientPair(loss.item(), Wt.grad, closed)


def logdet_grad(K):
    """Gradient of log det K with respect to K: ∂/∂K log det K = K⁻ᵀ.

    From Jacobi's formula d det K = det K · tr(K⁻¹ dK): d log det K = tr(K⁻¹ dK) = tr((K⁻ᵀ)ᵀ dK).
    For a symmetric positive-definite K (a covariance) this is K⁻¹.

    Parameters
    ----------
    K : ndarray of shape (D, D), det K > 0

    Returns
    -------
    GradientPair with arrays of shape (D, D)
    """
    K = check_array(K, "K", ndim=2)
    Kt = _leaf(K)
    loss = Kt.logdet()
    loss.backward()
    return GradientPair(loss.item(), Kt.grad, np.linalg.inv(K).T)


def l1_regression_grad(X, w, y):
    """Gradient of L = ‖Xw − y‖₁ = Σᵢ |xᵢᵀw − yᵢ| with respect to w: ∂L/∂w = Xᵀ sign(Xw − y).

    (A subgradient; |·|' is taken as 0 at 0, as NumPy's sign and PyTorch do.)

    Parameters
    ----------
    X : ndarray of shape (N, D)
    w : ndarray of shape (D,)
    y : ndarray of shape (N,)

    Returns
    -------
    GradientPair with arrays of shape (D,)
    """
    X, w, y = _regression_inputs(X, w, y)
    wt = _leaf(w)
    loss = (X @ wt - y).abs().sum()
    loss.backward()
    return GradientPair(loss.item(), wt.grad, X.T @ np.sign(X @ w - y))  # (D, N) @ (N,) -> (D,)


def least_squares_grad(X, w, y):
    """Gradient of L = ‖Xw − y‖² with respect to w: ∂L/∂w = 2Xᵀ(Xw − y).

    With r = Xw − y: dL = 2rᵀ dr = 2rᵀX dw, so ∂L/∂w = 2Xᵀr; it vanishes at the normal
    equations XᵀXw = Xᵀy.

    Parameters
    ----------
    X : ndarray of shape (N, D)
    w : ndarray of shape (D,)
    y : ndarray of shape (N,)

    Returns
    -------
    GradientPair with arrays of shape (D,)
    """
    X, w, y = _regression_inputs(X, w, y)
    wt = _leaf(w)
    loss = ((X @ wt - y) ** 2).sum()
    loss.backward()
    return GradientPair(loss.item(), wt.grad, 2 * X.T @ (X @ w - y))  # (D,)


def _regression_inputs(X, w, y):
    X, w, y = check_array(X, "X", ndim=2), check_array(w, "w", ndim=1), check_array(y, "y", ndim=1)
    if X.shape != (y.shape[0], w.shape[0]):
        raise ValueError(f"X has shape {X.shape}; expected (N, D) = ({y.shape[0]}, {w.shape[0]}) "
                         "from y of shape (N,) and w of shape (D,)")
    return X, w, y


def mean_objective_grad(X, mu):
    """Gradient of L(μ) = Σᵢ ‖xᵢ − μ‖² with respect to μ: ∂L/∂μ = 2Σᵢ(μ − xᵢ) = 2N(μ − x̄).

    It is zero exactly at the sample mean x̄ = (1/N)Σᵢ xᵢ, the minimiser (L is convex).

    Parameters
    ----------
    X : ndarray of shape (N, D)
        Rows are the points xᵢ.
    mu : ndarray of shape (D,)

    Returns
    -------
    GradientPair with arrays of shape (D,)
    """
    X, mu = check_array(X, "X", ndim=2), check_array(mu, "mu", ndim=1)
    mut = _leaf(mu)
    loss = _mean_objective(X)(mut)
    loss.backward()
    return GradientPair(loss.item(), mut.grad, 2 * (mu - X).sum(axis=0))  # (N, D) -> (D,)


def _mean_objective(X):
    return lambda mu: ((X - mu) ** 2).sum()  # (N, D) - (D,) broadcasts over the rows


def mean_by_descent(X, start=None, steps=50, lr=None):
    """Minimise Σᵢ ‖xᵢ − μ‖² by gradient descent with autograd; the path ends at the sample mean.

    Each step is μ ← μ − η·2N(μ − x̄), so the error μ − x̄ shrinks by the factor (1 − 2Nη);
    the default η = 0.25/N halves it every step.

    Parameters
    ----------
    X : ndarray of shape (N, D)
    start : ndarray of shape (D,), optional
        Default: the origin.
    steps : int
    lr : float, optional
        Default ``MEAN_STEP / N``.

    Returns
    -------
    numpynn.course.descent.DescentResult
        ``.final`` ≈ ``X.mean(axis=0)``.
    """
    from numpynn.course.descent import descent  # descent sits beside this module, not below it

    X = check_array(X, "X", ndim=2)
    start = np.zeros(X.shape[1]) if start is None else start
    lr = MEAN_STEP / X.shape[0] if lr is None else lr
    return descent(_mean_objective(X), start, lr=lr, steps=steps)


def swish_network_grads(X, Y, params):
    """Gradients of a two-layer network with a Swish hidden layer, for every parameter.

    Forward, for a batch X (N, D) and targets Y (N, M):

        Z = X W1 + b1,  S = σ(Z),  H = Z ⊙ S  (swish),  Ŷ = H W2 + b2,
        L = (1/2N) Σₙ ‖ŷₙ − yₙ‖².

    Backward, with swish'(z) = σ(z) + z σ(z)(1 − σ(z)) (using σ' = σ(1 − σ)):

        Δ2 = (Ŷ − Y)/N,          ∂L/∂W2 = Hᵀ Δ2,   ∂L/∂b2 = Σₙ Δ2,
        Δ1 = (Δ2 W2ᵀ) ⊙ swish'(Z), ∂L/∂W1 = Xᵀ Δ1,   ∂L/∂b1 = Σₙ Δ1.

    Parameters
    ----------
    X : ndarray of shape (N, D)
    Y : ndarray of shape (N, M)
    params : dict
        ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, M), ``b2`` (M,).

    Returns
    -------
    GradientPair whose ``autograd`` and ``closed_form`` are dicts keyed like ``params``.
    """
    X, Y = check_array(X, "X", ndim=2), check_array(Y, "Y", ndim=2)
    W1, b1, W2, b2 = (check_array(params[k], k) for k in ("W1", "b1", "W2", "b2"))
    leaves = {k: _leaf(v) for k, v in zip(("W1", "b1", "W2", "b2"), (W1, b1, W2, b2))}
    Zt = X @ leaves["W1"] + leaves["b1"]  # (N, H)
    out = (Zt * Zt.sigmoid()) @ leaves["W2"] + leaves["b2"]  # (N, M)
    loss = ((out - Y) ** 2).sum() * (0.5 / X.shape[0])
    loss.backward()

    Z = X @ W1 + b1  # (N, H)
    S = sigmoid(Z)  # (N, H)
    H = Z * S  # (N, H)
    delta2 = (H @ W2 + b2 - Y) / X.shape[0]  # (N, M)
    delta1 = (delta2 @ W2.T) * (S + Z * S * (1 - S))  # (N, H)
    closed = {"W1": X.T @ delta1, "b1": delta1.sum(axis=0),  # (D, H), (H,)
              "W2": H.T @ delta2, "b2": delta2.sum(axis=0)}  # (H, M), (M,)
    return GradientPair(loss.item(), {k: t.grad for k, t in leaves.items()}, closed)
