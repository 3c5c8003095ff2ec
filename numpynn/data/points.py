"""Small 2-D and 1-D data sets drawn on the spot: the pictures of TensorFlow Playground and the
course's regression points, for the web playground and ``numpynn train --dataset spiral``.

Classification sets return ``X`` of shape (N, 2) in about [−6, 6]² and labels ``y`` of int64 in
{0, 1}; regression sets return ``x`` of shape (N, 1) and targets ``t`` of shape (N, 1). Every
generator takes ``n`` (samples), ``noise`` (σ of the Gaussian jitter added to each coordinate
of a classification set, or to the targets of ``sine``), and ``rng`` (a seed or a Generator):
the same seed draws the same set.

>>> X, y = spiral(200, noise=0.1, rng=0)
>>> X.shape, X.dtype.name, y.dtype.name, sorted(set(y.tolist()))
((200, 2), 'float32', 'int64', [0, 1])
"""
import functools

import numpy as np

from numpynn._helpers.validation import as_generator, check_int, check_range, choose

RADIUS = 5.0      # the sets fill a disc of about this radius, as in TensorFlow Playground
MAX_POINTS = 100_000  # a page's slider or a config asks for far fewer
COURSE_Y = (8, 6, 4, 2, 0, 2, 4, 2, 0, 2, 4, 6, 8)  # the course's zig-zag at x = 0, 1, …, 12


def _check(n, noise, where):
    n = check_int(n, "n", minimum=2, maximum=MAX_POINTS, where=where)
    return n, float(check_range(noise, "noise", 0, 10 * RADIUS, where=where))


def _finish(X, y, noise, rng, dtype):
    X = X + noise * rng.standard_normal(X.shape)  # (N, 2)
    return X.astype(dtype), y.astype(np.int64)


def _halves(n):
    """Sizes of the two classes: n // 2 and the rest."""
    return n // 2, n - n // 2


def circle(n=200, noise=0.0, rng=None, dtype=np.float32):
    """A disc of class 1 (radius ≤ R/2) inside a ring of class 0 (0.7·R ≤ r ≤ R), R = 5.

    Parameters
    ----------
    n : int >= 2
    noise : float >= 0
        σ of the Gaussian jitter on x1 and x2.
    rng : int or Generator, optional

    Returns
    -------
    X : ndarray of shape (n, 2)
    y : ndarray of int64, shape (n,)
    """
    n, noise = _check(n, noise, "circle")
    rng = as_generator(rng)
    n_in, n_out = _halves(n)
    radius = np.concatenate([rng.uniform(0, 0.5 * RADIUS, n_in),
                             rng.uniform(0.7 * RADIUS, RADIUS, n_out)])  # (n,)
    angle = rng.uniform(0, 2 * np.pi, n)  # (n,)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)  # (n, 2)
    return _finish(X, np.repeat([1, 0], [n_in, n_out]), noise, rng, dtype)


def xor(n=200, noise=0.0, rng=None, dtype=np.float32):
    """Uniform points of [−R, R]² kept a margin of 0.3 off the axes; class 1 where x1·x2 > 0
    (the first and third quadrants). Returns ``(X, y)`` as :func:`circle`."""
    n, noise = _check(n, noise, "xor")
    rng = as_generator(rng)
    X = rng.uniform(-RADIUS, RADIUS, (n, 2))  # (n, 2)
    X += np.sign(X) * 0.3  # away from the axes, where the label flips
    return _finish(X, X[:, 0] * X[:, 1] > 0, noise, rng, dtype)


def gaussians(n=200, noise=0.0, rng=None, dtype=np.float32):
    """Two round Gaussian blobs of σ = 1: class 1 around (2, 2), class 0 around (−2, −2).
    Returns ``(X, y)`` as :func:`circle`."""
    n, noise = _check(n, noise, "gaussians")
    rng = as_generator(rng)
    n_one, n_zero = _halves(n)
    centres = np.repeat([[2.0, 2.0], [-2.0, -2.0]], [n_one, n_zero], axis=0)  # (n, 2)
    X = centres + rng.standard_normal((n, 2))  # (n, 2)
    return _finish(X, np.repeat([1, 0], [n_one, n_zero]), noise, rng, dtype)


def spiral(n=200, noise=0.0, rng=None, dtype=np.float32):
    """Two interleaved arms r = R·s, θ = 3.5π·s + kπ (s ∈ [0, 1), k = 0 for class 1, 1 for
    class 0), TensorFlow Playground's hardest set. Returns ``(X, y)`` as :func:`circle`."""
    n, noise = _check(n, noise, "spiral")
    rng = as_generator(rng)
    n_one, n_zero = _halves(n)
    s = np.concatenate([np.arange(n_one) / n_one, np.arange(n_zero) / n_zero])  # (n,)
    arm = np.repeat([0.0, 1.0], [n_one, n_zero])  # (n,)
    angle = 3.5 * np.pi * s + np.pi * arm
    X = np.stack([RADIUS * s * np.sin(angle), RADIUS * s * np.cos(angle)], axis=1)  # (n, 2)
    return _finish(X, arm == 0, noise, rng, dtype)


def moons(n=200, noise=0.0, rng=None, dtype=np.float32):
    """scikit-learn's two interleaving half circles, scaled by 2.5 and centred: class 0 the
    upper moon (cos t, sin t), class 1 the lower (1 − cos t, ½ − sin t), t ∈ [0, π].
    Returns ``(X, y)`` as :func:`circle`."""
    n, noise = _check(n, noise, "moons")
    rng = as_generator(rng)
    n_zero, n_one = _halves(n)
    t = np.concatenate([np.linspace(0, np.pi, n_zero), np.linspace(0, np.pi, n_one)])  # (n,)
    upper = np.arange(n) < n_zero  # (n,)
    x1 = np.where(upper, np.cos(t), 1 - np.cos(t))
    x2 = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    X = 2.5 * np.stack([x1 - 0.5, x2 - 0.25], axis=1)  # (n, 2), centred on the origin
    return _finish(X, ~upper, noise, rng, dtype)


def sine(n=100, noise=0.0, rng=None, dtype=np.float32):
    """Regression: x uniform in [−R, R], t = sin(x) + noise·ε, ε ~ N(0, 1).

    Returns
    -------
    x : ndarray of shape (n, 1)
    t : ndarray of shape (n, 1)
    """
    n, noise = _check(n, noise, "sine")
    rng = as_generator(rng)
    x = np.sort(rng.uniform(-RADIUS, RADIUS, n))[:, None]  # (n, 1)
    t = np.sin(x) + noise * rng.standard_normal(x.shape)  # (n, 1)
    return x.astype(dtype), t.astype(dtype)


def course_points(n=13, noise=0.0, rng=None, dtype=np.float32):
    """Regression: the course's 13 points, t = 8, 6, 4, 2, 0, 2, 4, 2, 0, 2, 4, 6, 8 at
    x = 0, …, 12 (what :func:`numpynn.fit_points` fits exactly). ``n`` must be 13 and ``noise``
    0 (the set is fixed); ``rng`` is accepted for a uniform signature.

    Returns
    -------
    x, t : ndarray of shape (13, 1)
    """
    if n != len(COURSE_Y) or noise:
        raise ValueError(f"course_points: the set is fixed (13 points, no noise); got n={n!r}, "
                         f"noise={noise!r}\nhelp: call course_points() without n and noise")
    x = np.arange(len(COURSE_Y), dtype=dtype)[:, None]  # (13, 1)
    return x, np.asarray(COURSE_Y, dtype=dtype)[:, None]


# name -> generator; classification draws (X (N, 2), y (N,)), regression (x (N, 1), t (N, 1))
CLASSIFICATION = {"circle": circle, "xor": xor, "gaussians": gaussians, "spiral": spiral,
                  "moons": moons}
REGRESSION = {"sine": sine, "course-points": course_points}
POINT_SETS = {**CLASSIFICATION, **REGRESSION}


def split(X, y, test_fraction, rng=None):
    """A seeded shuffle cut into ``(X_train, y_train, X_test, y_test)``, at least one of each.

    >>> X_train, y_train, X_test, y_test = split(np.zeros((10, 2)), np.arange(10), 0.3, rng=0)
    >>> len(X_train), len(X_test)
    (7, 3)
    """
    check_range(test_fraction, "test_fraction", 0, 1, low_open=True, high_open=True,
                where="split")
    n_test = min(max(round(test_fraction * len(X)), 1), len(X) - 1)
    order = as_generator(rng).permutation(len(X))  # (N,)
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


def load_points(name, n=400, noise=0.2, test_fraction=0.5, seed=0, data_dir=None,
                dtype=np.float32):
    """A classification set of :data:`CLASSIFICATION` drawn with ``seed`` and split in two:
    the loader behind ``numpynn train --dataset spiral`` (``data_dir`` is not used).

    >>> [a.shape for a in load_points("moons")]
    [(200, 2), (200,), (200, 2), (200,)]
    """
    generate = choose(name, CLASSIFICATION, "dataset", where="load_points")
    rng = as_generator(seed)
    X, y = generate(n, noise, rng, dtype=dtype)
    return split(X, y, test_fraction, rng)


def loaders():
    """name -> ``load_points`` for that name: what :data:`numpynn.data.DATASETS` registers."""
    return {name: functools.partial(load_points, name) for name in CLASSIFICATION}
