"""Fit a 1-H-1 network through given points exactly: data-aware starts and Levenberg–Marquardt.

Plain gradient descent from a random start rarely interpolates points with a small ReLU network:
units die (their kink leaves the data and their gradient is zero) and the few kinks that remain
land in the wrong places. :func:`fit_points` instead

1. scales x and y to about [−1, 1] (folded back into the weights at the end);
2. starts from the data: candidate kinks are the interior points, the midpoints and, inside
   each segment, where the lines of its two neighbouring segments cross (a kink between two
   samples); hidden units relu(±(x − c)) — plus one kinked left of the data, linear on it —
   are chosen among them by orthogonal matching pursuit with swaps, so that the output layer,
   solved by least squares, fits best. A piecewise-linear interpolant the network can represent
   is then usually exact already;
3. refines all 3H + 1 parameters with Levenberg–Marquardt (Gauss–Newton with an adaptive
   damping λ: (JᵀJ + λI)·Δθ = −Jᵀr), vectorised over the points;
4. restarts from randomised starts (units drawn with probability ∝ their residual reduction,
   kinks jittered) and keeps the best, stopping early once the points are fitted.

Two kinks with a single sample between them are only weakly determined by the data; such sets
may need more ``restarts``. Other activations (tanh, …) use the same starts and refinement.
The error reported is measured honestly: the returned model is evaluated on the raw x.

>>> result = fit_points(np.arange(13.0), [8, 6, 4, 2, 0, 2, 4, 2, 0, 2, 4, 6, 8])
>>> result.max_abs_error < 0.01
True
"""
from dataclasses import dataclass

import numpy as np

from numpynn import functional as F
from numpynn._helpers.limits import check_memory
from numpynn._helpers.validation import (as_generator, check_array, check_cast, check_int,
                                         check_range, choose)
from numpynn.layers import ACTIVATION_LAYERS, Linear
from numpynn.sequential import Sequential

DEFAULT_RESTARTS = 50
DEFAULT_MAX_ITER = 200  # LM iterations per start; a representable set converges in far fewer
JITTER = 0.02           # random starts move kinks by about this much (x scaled to [-1, 1])
SLOPE = 2.0             # |w1| of a start in scaled units: smooth activations bend over ~1/SLOPE
LAMBDA_START, LAMBDA_MIN, LAMBDA_MAX = 1e-3, 1e-12, 1e10  # LM damping: start and bounds


@dataclass
class FitResult:
    """What :func:`fit_points` found.

    Attributes
    ----------
    model : Sequential
        ``Linear(1, H) → activation → Linear(H, 1)`` in float64, taking raw x of shape (N, 1).
    max_abs_error : float
        max_n |model(x_n) − y_n| on the given points.
    restarts : int
        Starts tried (fewer than asked when one already fits to ``tol``).
    """
    model: Sequential
    max_abs_error: float
    restarts: int

    @property
    def kinks(self):
        """Where each hidden unit's pre-activation is 0: x = −b1/W1, shape (H,) (inf if W1 = 0)."""
        W, b = self.model.layers[0].W[0], self.model.layers[0].b  # (H,), (H,)
        with np.errstate(divide="ignore"):
            return -b / W


def fit_points(x, y, hidden=4, activation="relu", restarts=DEFAULT_RESTARTS, seed=0, *,
               max_iter=DEFAULT_MAX_ITER, tol=1e-10):
    """Fit a 1-``hidden``-1 network through the points (x_n, y_n), as exactly as it can.

    Parameters
    ----------
    x, y : array_like of shape (N,)
        The points, N >= 2; x need not be sorted.
    hidden : int, default 4
        H, the number of hidden units.
    activation : str, default "relu"
        A name in :data:`numpynn.functional.ACTIVATIONS`.
    restarts : int, default 50
        Number of starts; the first is deterministic, the others random (from ``seed``).
    seed : int or numpy.random.Generator, default 0
    max_iter : int, default 200
        Levenberg–Marquardt iterations per start.
    tol : float, default 1e-10
        Stop early once the max error, relative to max|y − mean(y)|, is at most ``tol``.

    Returns
    -------
    FitResult
        ``.model`` (a float64 :class:`Sequential` taking raw x of shape (N, 1), input scaling
        folded into the first layer) and ``.max_abs_error``.

    Notes
    -----
    A 1-H-1 ReLU network is piecewise linear with at most H kinks, so points whose interpolant
    needs more kinks cannot be fitted exactly; the result then reports the error it reached.
    """
    x, y, act, hidden, restarts = _check_inputs(x, y, hidden, activation, restarts)
    max_iter = check_int(max_iter, "max_iter", minimum=0, where="fit_points")
    tol = check_range(tol, "tol", 0, where="fit_points")
    rng = as_generator(seed)
    center, half_range = (x.max() + x.min()) / 2, (x.max() - x.min()) / 2
    y_mean = y.mean()
    y_scale = float(np.abs(y - y_mean).max()) or 1.0
    u, v = (x - center) / half_range, (y - y_mean) / y_scale  # (N,), (N,) in about [-1, 1]
    best, best_err, tried = None, np.inf, 0
    for attempt in range(restarts):
        tried += 1
        theta = _levenberg_marquardt(_start(u, v, hidden, act, rng, attempt), u, v, act,
                                     max_iter, tol)
        err = np.abs(_predict(theta, u, act) - v).max()
        if err < best_err:
            best, best_err = theta, err
        if best_err <= tol:
            break
    model = _to_model(best, activation, center, half_range, y_mean, y_scale)
    error = float(np.abs(model.forward(x[:, None])[:, 0] - y).max())  # (N,): on raw x
    return FitResult(model, error, tried)


def _check_inputs(x, y, hidden, activation, restarts):
    x = check_array(x, "x", ndim=1, dtype_kind="fiu", where="fit_points")
    y = check_array(y, "y", ndim=1, dtype_kind="fiu", where="fit_points")
    x = check_cast(x, np.float64, "x", where="fit_points")
    y = check_cast(y, np.float64, "y", where="fit_points")
    if x.size != y.size:
        raise ValueError(f"fit_points: x has {x.size} values but y has {y.size}; expected one y "
                         "per x")
    if x.size < 2 or x.min() == x.max():
        raise ValueError(f"fit_points: x needs at least two distinct values; got {x.tolist()}")
    hidden = check_int(hidden, "hidden", minimum=1, where="fit_points")
    check_memory(_bytes_needed(x.size, hidden), f"a 1-{hidden}-1 fit", where="fit_points",
                 hint="\nhelp: fewer hidden units (H kinks fit H + 1 line segments)")
    restarts = check_int(restarts, "restarts", minimum=1, where="fit_points")
    act = choose(activation, F.ACTIVATIONS, "activation", where="fit_points")
    return x, y, act, hidden, restarts


def _bytes_needed(n, hidden):
    """Peak float64 bytes of a fit with ``hidden`` units through ``n`` points, P = 3H + 1:
    Levenberg–Marquardt holds JᵀJ, λI, their sum and solve's working copy, all (P, P), and
    the Jacobian (N, P) with a few (N, H) temporaries."""
    p = 3 * hidden + 1
    return 8 * (4 * p * p + 8 * n * p)


# ---------------------------------------------------------------- the network as a vector
# theta = [w1 (H), b1 (H), w2 (H), b2 (1)]; the scaled network is f(u) = act(u·w1 + b1)·w2 + b2
def _unpack(theta):
    H = (theta.size - 1) // 3
    return theta[:H], theta[H:2 * H], theta[2 * H:3 * H], theta[3 * H]


def _hidden(theta, u, act):
    w1, b1, _, _ = _unpack(theta)
    z = u[:, None] * w1 + b1  # (N, 1) * (H,) + (H,) -> (N, H)
    a, cache = act[0](z)
    return a, cache


def _predict(theta, u, act):
    _, _, w2, b2 = _unpack(theta)
    return _hidden(theta, u, act)[0] @ w2 + b2  # (N, H) @ (H,) -> (N,)


def _jacobian(theta, u, act):
    """∂f(u_n)/∂θ, shape (N, 3H + 1), from the activation's own backward (f'(z) = backward(1))."""
    _, _, w2, _ = _unpack(theta)
    a, cache = _hidden(theta, u, act)
    dz = act[1](np.ones_like(a), cache) * w2  # (N, H): ∂f/∂z
    return np.hstack([dz * u[:, None], dz, a, np.ones((u.size, 1))])  # (N, 3H + 1)


def _levenberg_marquardt(theta, u, v, act, max_iter, tol):
    """Minimise Σ (f(u_n) − v_n)² over θ: steps (JᵀJ + λI)Δθ = −Jᵀr, λ adapted per step."""
    r = _predict(theta, u, act) - v  # (N,)
    lam = LAMBDA_START
    for _ in range(max_iter):
        if np.abs(r).max() <= tol or lam > LAMBDA_MAX:
            break
        J = _jacobian(theta, u, act)  # (N, P)
        JtJ = J.T @ J  # (P, P)
        step = np.linalg.solve(JtJ + lam * np.eye(theta.size), -(J.T @ r))  # (P,)
        trial = theta + step
        r_trial = _predict(trial, u, act) - v
        if r_trial @ r_trial < r @ r:
            theta, r, lam = trial, r_trial, max(lam / 3, LAMBDA_MIN)
        else:
            lam *= 4
    return theta


# ---------------------------------------------------------------- data-aware starts
def _candidates(u, v):
    """Possible kink positions: interior points, midpoints, and inside each segment the point
    where the lines of its two neighbouring segments cross (a kink between two samples)."""
    us, inverse = np.unique(u, return_inverse=True)  # (K,) sorted distinct u
    vs = np.bincount(inverse, weights=v) / np.bincount(inverse)  # (K,) mean v per distinct u
    slopes = np.diff(vs) / np.diff(us)  # (K - 1,)
    left, right = slopes[:-2], slopes[2:]  # neighbours of the segments 1 … K - 3
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = (vs[2:-1] - vs[1:-2] + left * us[1:-2] - right * us[2:-1]) / (left - right)
    inside = (cross > us[1:-2]) & (cross < us[2:-1])  # strictly within its segment
    return np.concatenate([us[1:-1], (us[1:] + us[:-1]) / 2, cross[inside]])


def _gains(v, basis, R):
    """How much adding each column of ``R`` (N, C) to the span of ``basis`` (N, m) reduces the
    least-squares residual ‖v − fit‖²; returns shape (C,)."""
    Q, _ = np.linalg.qr(basis)  # (N, m) orthonormal
    e = v - Q @ (Q.T @ v)  # (N,) residual
    P = R - Q @ (Q.T @ R)  # (N, C) the columns' new directions
    norms = np.einsum("nc,nc->c", P, P)  # (C,)
    return np.where(norms > 1e-12, (P.T @ e) ** 2 / np.maximum(norms, 1e-12), 0.0)  # (C,)


def _select_units(u, v, centers, signs, k, rng=None, sweeps=10):
    """Choose ``k`` ReLU units relu(s·(u − c)) among the candidates so that their span with a
    constant fits v best by least squares — exactly what the output layer can reach.

    1. Greedy (orthogonal matching pursuit): add the unit that most reduces the residual (with
       ``rng``: one drawn with probability ∝ that reduction, for varied restarts).
    2. Swaps: replace one chosen unit by the best other while that helps — greedy alone often
       settles on a compromise between two true kinks.

    Returns the indices of the chosen candidates.
    """
    R = np.maximum(signs * (u[:, None] - centers), 0)  # (N, C) candidate columns
    const = np.ones((u.size, 1))  # (N, 1): the output bias
    chosen = []
    for _ in range(k):
        gain = _gains(v, np.hstack([const, R[:, chosen]]), R)
        gain[chosen] = 0
        if gain.sum() <= 0:
            break
        pick = rng.choice(gain.size, p=gain / gain.sum()) if rng is not None else gain.argmax()
        chosen.append(int(pick))
    for _ in range(sweeps):
        changed = False
        for i in range(len(chosen)):
            others = chosen[:i] + chosen[i + 1:]
            gain = _gains(v, np.hstack([const, R[:, others]]), R)
            gain[others] = 0
            if gain.max() > gain[chosen[i]] * (1 + 1e-9) + 1e-15:
                chosen[i], changed = int(gain.argmax()), True
        if not changed:
            break
    return chosen


def _start(u, v, hidden, act, rng, attempt):
    """Start ``attempt`` (0: deterministic, later: randomised): hidden units chosen among
    candidate kinks of both orientations plus a unit kinked left of the data (linear on it),
    by :func:`_select_units`; the output layer is then solved by least squares."""
    kinks = np.append(_candidates(u, v), u.min() - 0.5)  # (K + 1,)
    centers = np.concatenate([kinks, kinks[:-1]])  # (C,) every kink in both orientations
    signs = np.concatenate([np.ones(kinks.size), -np.ones(kinks.size - 1)])  # (C,)
    draw = rng if attempt > 0 else None
    chosen = _select_units(u, v, centers, signs, hidden, draw)
    chosen += list(rng.choice(centers.size, size=hidden - len(chosen)))  # (rare) top up
    c, s = centers[chosen], signs[chosen]  # (H,), (H,)
    if draw is not None:
        c = c + JITTER * rng.normal(size=hidden)
    w1 = s * SLOPE  # (H,)
    theta = np.concatenate([w1, -w1 * c, np.zeros(hidden + 1)])
    a, _ = _hidden(theta, u, act)  # (N, H)
    design = np.hstack([a, np.ones((u.size, 1))])  # (N, H + 1)
    theta[2 * hidden:], *_ = np.linalg.lstsq(design, v, rcond=None)  # (H + 1,)
    return theta


def _to_model(theta, activation, center, half_range, y_mean, y_scale):
    """The float64 Sequential on raw x: u = (x − center)/half_range and y = y_mean + y_scale·f."""
    w1, b1, w2, b2 = _unpack(theta)
    hidden = w1.size
    first, last = (Linear(1, hidden, dtype=np.float64), Linear(hidden, 1, dtype=np.float64))
    first.W = (w1 / half_range)[None, :]  # (1, H)
    first.b = b1 - w1 * center / half_range  # (H,)
    last.W = (y_scale * w2)[:, None]  # (H, 1)
    last.b = [y_scale * b2 + y_mean]  # (1,)
    return Sequential(first, ACTIVATION_LAYERS[activation](), last)
