"""Finite-difference gradient checking (centered differences, meant for float64).

The numerical gradient of f at x, entry by entry:

    ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h

Like CS231n's checker, the perturbation is made *in place* in ``x`` (so ``f`` may read ``x``
through a model that holds it) and the entry is restored afterwards.
"""
import numpy as np

DEFAULT_STEP = 1e-5  # h: balances truncation error O(h²) against rounding error O(ε/h) in float64


def numerical_gradient(f, x, h=DEFAULT_STEP):
    """Centered-difference gradient of a scalar function.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; may ignore its argument and read ``x`` through shared state.
    x : ndarray of any shape
        The point; perturbed in place and restored.
    h : float
        The step.

    Returns
    -------
    grad : ndarray of x's shape

    >>> x = np.array([1.0, 2.0])
    >>> numerical_gradient(lambda v: float(np.sum(v ** 2)), x).round(6)
    array([2., 4.])
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views: writes reach x and grad
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        f_plus = float(f(x))
        flat_x[i] = original - h
        f_minus = float(f(x))
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_array(f, x, dout, h=DEFAULT_STEP):
    """Centered-difference gradient of Σ f(x) ⊙ dout, for an array-valued ``f``.

    This is the vector-Jacobian product a layer's backward computes: with upstream gradient
    ``dout`` (the shape of f's output), returns d(Σ f(x)·dout)/dx, an ndarray of x's shape.
    """
    return numerical_gradient(lambda v: np.sum(np.asarray(f(v), dtype=np.float64) * dout), x, h)


def rel_error(a, b):
    """CS231n's worst-element relative error: max |a − b| / max(1e-8, |a| + |b|)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def array_rel_error(num, ana):
    """Relative error of whole arrays: ‖num − ana‖ / (‖num‖ + ‖ana‖), 0 when both are 0.

    Unlike :func:`rel_error` this is not dominated by rounding on tiny entries.
    """
    num, ana = np.asarray(num, dtype=np.float64), np.asarray(ana, dtype=np.float64)
    denom = np.linalg.norm(num) + np.linalg.norm(ana)
    return 0.0 if denom == 0 else float(np.linalg.norm(num - ana) / denom)
