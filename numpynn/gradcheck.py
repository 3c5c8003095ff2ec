"""Finite-difference gradient checking (centered differences, meant for float64).

The numerical gradient of f at x, entry by entry:

    ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h

Like CS231n's checker, the perturbation is made *in place* in ``x`` (so ``f`` may read ``x``
through a model that holds it) and the entry is restored afterwards.
"""
import numpy as np

from numpynn._helpers.validation import check_range

DEFAULT_STEP = 1e-5  # h: balances truncation error O(h²) against rounding error O(ε/h) in float64


def numerical_gradient(f, x, h=DEFAULT_STEP):
    """Centered-difference gradient of a scalar function.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; may ignore its argument and read ``x`` through shared state.
    x : ndarray of any shape
        The point; perturbed in place and restored.
    h : float > 0
        The step.

    Returns
    -------
    grad : ndarray of x's shape

    >>> x = np.array([1.0, 2.0])
    >>> numerical_gradient(lambda v: float(np.sum(v ** 2)), x).round(6)
    array([2., 4.])
    """
    h = check_range(h, "h", 0, low_open=True, where="numerical_gradient")
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


def _deterministic(forward, random_state_owner):
    """Wrap ``forward`` so every call replays the same random draws (dropout masks)."""
    states = random_state_owner.rng_states()

    def replay(x):
        random_state_owner.set_rng_states(states)
        return forward(x)
    return replay


def check_layer(layer, x, seed=0, h=DEFAULT_STEP):
    """Compare a layer's backward with finite differences, in float64.

    A float64 copy of ``layer`` receives ``x`` and a random upstream gradient ``dout``; its
    analytic ``dx`` and parameter gradients are compared with centered differences of
    Σ forward(x)·dout (random draws such as dropout masks are replayed for every evaluation).

    Parameters
    ----------
    layer : Layer
    x : ndarray of shape (N, …)
    seed : int
        Seed of the upstream gradient.

    Returns
    -------
    dict of str -> float
        ``{"x": err, "W": err, …}``: the whole-array relative error ‖num − ana‖ / (‖num‖ + ‖ana‖).

    >>> import numpynn as nn
    >>> errors = check_layer(nn.Linear(3, 2, rng=0), np.random.default_rng(0).normal(size=(4, 3)))
    >>> max(errors.values()) < 1e-7
    True
    """
    from numpynn.sequential import Sequential
    check_range(h, "h", 0, low_open=True, where="check_layer")
    model = Sequential(layer).astype(np.float64)
    x = np.array(x, dtype=np.float64)
    forward = _deterministic(model._forward, model)
    dout = np.random.default_rng(seed).normal(size=forward(x).shape)
    analytic = {"x": model.backward(dout), **{k.split(".", 1)[1]: g.copy()
                                              for k, g in model.grads().items()}}
    numeric = {"x": numerical_gradient_array(forward, x, dout, h)}
    for key, param in model.params().items():
        numeric[key.split(".", 1)[1]] = numerical_gradient_array(lambda _: forward(x), param, dout, h)
    return {name: array_rel_error(numeric[name], analytic[name]) for name in analytic}


def check_model(model, loss_fn, X, y, reg=0.0, h=DEFAULT_STEP):
    """Compare a model's gradients of ``loss_fn(model(X), y) + l2_penalty(params, reg)`` with
    finite differences, in float64 (on a copy; ``model`` is not changed).

    Returns
    -------
    dict of str -> float
        Per parameter name (``"0.W"``, …), the whole-array relative error.
    """
    from numpynn.losses import l2_penalty
    check_range(h, "h", 0, low_open=True, where="check_model")
    model = model.astype(np.float64)
    X = np.asarray(X, dtype=np.float64) if np.asarray(X).dtype.kind == "f" else np.asarray(X)
    forward = _deterministic(model._forward, model)

    def total_loss(_=None):
        loss, dpred = loss_fn(forward(X), y)
        return loss + l2_penalty(model.params(), reg)[0], dpred

    _, dpred = total_loss()
    model.backward(dpred)
    _, reg_grads = l2_penalty(model.params(), reg)
    analytic = {k: g + reg_grads[k] for k, g in model.grads().items()}
    return {name: array_rel_error(numerical_gradient(lambda _: total_loss()[0], param, h),
                                  analytic[name])
            for name, param in model.params().items()}
