"""Gradient-descent paths drawn over the contours of a 2-D function, with f along the way.

``f`` is what :func:`numpynn.descent` takes (an expression string, or a function of a point
Tensor), evaluated on the grid by the playground's own :func:`~numpynn.course.descent.
grid_function`, or a vectorised NumPy ``f(X, Y)``.
"""
import inspect

import numpy as np

from numpynn._helpers.validation import check_array
from numpynn.plot._figure import _finish, _subplots, _use_log_scale

GRID_POINTS = 200  # contour grid resolution per axis
_PATH_COLORS = ("#d62728", "#ff7f0e", "#e377c2", "#1f77b4", "#2ca02c", "#8c564b", "#111111")


def _check_paths(paths):
    """A list of (T, 2) arrays from one array or a sequence of them."""
    if isinstance(paths, np.ndarray) and paths.ndim == 2:
        paths = [paths]
    checked = [check_array(p, f"paths[{i}]", ndim=2, dtype_kind="fiu", finite=False)
               for i, p in enumerate(paths)]
    for i, p in enumerate(checked):
        if p.shape[1] != 2 or p.shape[0] == 0:
            raise ValueError(f"paths[{i}] has shape {p.shape}; expected (T, 2) points (x, y) "
                             "with T >= 1")
    if not checked:
        raise ValueError("paths is empty; expected at least one (T, 2) array")
    return [p.astype(np.float64) for p in checked]


def _default_bounds(paths, margin=0.15):
    """(xmin, xmax, ymin, ymax): the finite points' extent plus ``margin`` of it on each side."""
    points = np.concatenate(paths)  # (sum of T, 2)
    points = points[np.isfinite(points).all(axis=1)]
    if points.size == 0:
        raise ValueError("paths hold no finite point; expected bounds=(xmin, xmax, ymin, ymax)")
    lo, hi = points.min(axis=0), points.max(axis=0)  # (2,)
    pad = np.where(hi > lo, (hi - lo) * margin, 1.0)  # (2,) a single point gets ±1
    return (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])


def _grid_function(f):
    """``f`` as a vectorised ``f(X, Y) -> Z``: a function of two arrays is used as it is; an
    expression string or a function of a point Tensor goes through course.descent."""
    if not (isinstance(f, str) or callable(f)):
        raise TypeError(f"descent_contours: f must be an expression string or a callable; "
                        f"got {type(f).__name__}\nhelp: e.g. f=\"x**2 + 10*y**2\"")
    if callable(f) and _takes_two_arrays(f):
        return f
    from numpynn.course.descent import grid_function

    return grid_function(f)  # parses a string with course.descent's parser


def _takes_two_arrays(f):
    """True for ``f(X, Y)``: two required positional parameters (or a NumPy ufunc of two)."""
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature
        return getattr(f, "nin", None) == 2
    required = [p for p in parameters if p.default is p.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) == 2


def _evaluate_grid(f, bounds):
    """X, Y, Z = f(X, Y) on a GRID_POINTS² grid over ``bounds``."""
    xmin, xmax, ymin, ymax = (float(b) for b in bounds) if len(bounds) == 4 else (0.0,) * 4
    if not (xmin < xmax and ymin < ymax):
        raise ValueError(f"bounds must be (xmin, xmax, ymin, ymax) with xmin < xmax and "
                         f"ymin < ymax; got {tuple(bounds)}")
    X, Y = np.meshgrid(np.linspace(xmin, xmax, GRID_POINTS), np.linspace(ymin, ymax, GRID_POINTS))
    Z = np.asarray(f(X, Y), dtype=np.float64)  # (GRID_POINTS, GRID_POINTS)
    if Z.shape != X.shape:
        raise ValueError(f"f(X, Y) returned shape {Z.shape}; expected {X.shape} (f must be "
                         "vectorised)\nhelp: write f with NumPy operations, e.g. "
                         "lambda x, y: x**2 + 10 * y**2")
    return X, Y, Z


def _contour_levels(Z, count=18):
    """Levels at quantiles of Z: evenly spread lines for a bowl and for a steep valley alike."""
    finite = Z[np.isfinite(Z)]
    if finite.size == 0:
        raise ValueError("f(X, Y) is not finite anywhere inside bounds\n"
                         "help: pass bounds=(xmin, xmax, ymin, ymax) around the region of interest")
    levels = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, count)))
    return levels if levels.size > 1 else levels[0] + np.array([-0.5, 0.5])  # a flat f: one band


def _path_values(f, paths, values):
    """f along each path: the given 1-D arrays, or f evaluated at the path points."""
    if values is None:
        return [np.asarray(f(p[:, 0], p[:, 1]), dtype=np.float64).reshape(-1) for p in paths]
    values = [check_array(v, f"values[{i}]", ndim=1, dtype_kind="fiu", finite=False)
              for i, v in enumerate(values)]
    if len(values) != len(paths):
        raise ValueError(f"values has {len(values)} arrays but paths has {len(paths)}; "
                         "expected one array of f per path")
    return values


def _draw_path(ax, ax_values, points, fvals, label, color):
    """One path (T, 2) over the contours, start and end marked, and its f per step beside."""
    ax.plot(points[:, 0], points[:, 1], "-o", color=color, lw=1.6, ms=3.5, mec="white", mew=0.4,
            markevery=max(1, len(points) // 40), label=label)  # ~40 markers, however long
    ax.plot(*points[0], "o", color=color, ms=8, mec="black")
    ax.plot(*points[-1], "*", color=color, ms=13, mec="black")
    ax_values.plot(np.arange(fvals.size), fvals, color=color, lw=1.6, label=label)


def descent_contours(f, paths, labels=None, values=None, bounds=None, path=None):
    """Optimisation paths over the contours of f(x, y), and f along each path per step.

    Parameters
    ----------
    f : str or callable
        What :func:`numpynn.descent` takes: an expression in x and y such as
        ``"x**2 + y**2 + x*(y + 2) + cos(3*x)"``, or ``f(p) -> scalar Tensor`` of one point
        ``p`` (read ``p[0]``, ``p[1]``). Or a vectorised NumPy ``f(X, Y) -> Z`` (two required
        arguments) on arrays of one shape.
    paths : ndarray of shape (T, 2) or sequence of them
        Visited points (x, y), start first.
    labels : sequence of str, optional
        Legend entry per path (default "path 1", "path 2", …).
    values : sequence of ndarray of shape (T_i,), optional
        f along each path (e.g. the recorded losses); default f evaluated at the path points.
        Drawn on a log axis when all positive and spanning more than a factor 30.
    bounds : tuple (xmin, xmax, ymin, ymax), optional
        Contour window; default the paths' finite extent with a 15 % margin.
    path : str or os.PathLike, optional
        Save a PNG here (atomically) and close the figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpynn as nn
    >>> f = "x**2 + y**2 + x*(y + 2) + cos(3*x)"
    >>> fixed = nn.descent(f, [2.0, 2.0], lr=0.1, steps=30)
    >>> decaying = nn.descent(f, [2.0, 2.0], lr=0.1, steps=30, decay=0.9)
    >>> fig = descent_contours(f, [fixed.path, decaying.path], labels=["decay 1", "decay 0.9"],
    ...                        values=[fixed.values, decaying.values])
    """
    f = _grid_function(f)
    paths = _check_paths(paths)
    labels = [f"path {i + 1}" for i in range(len(paths))] if labels is None else list(labels)
    if len(labels) != len(paths):
        raise ValueError(f"labels has {len(labels)} entries but paths has {len(paths)}")
    values = _path_values(f, paths, values)
    bounds = _default_bounds(paths) if bounds is None else tuple(bounds)
    X, Y, Z = _evaluate_grid(f, bounds)
    fig, axes = _subplots(1, 2, figsize=(11.0, 4.6), width_ratios=(1.2, 1.0))
    ax, ax_values = axes[0]
    levels = _contour_levels(Z)
    ax.contourf(X, Y, Z, levels=levels, cmap="viridis", alpha=0.5, extend="both")
    ax.contour(X, Y, Z, levels=levels, colors="0.35", linewidths=0.5)
    for k, (points, label, fvals) in enumerate(zip(paths, labels, values)):
        _draw_path(ax, ax_values, points, fvals, label, _PATH_COLORS[k % len(_PATH_COLORS)])
    ax.set(xlim=bounds[:2], ylim=bounds[2:], xlabel="x", ylabel="y",
           title="Paths over the contours of f (● start, ★ end)")
    ax.legend(fontsize="small", loc="best")
    if _use_log_scale(values):
        ax_values.set_yscale("log")
    ax_values.set(xlabel="step", ylabel="f", title="f along each path")
    ax_values.grid(alpha=0.3)
    ax_values.legend(fontsize="small")
    return _finish(fig, path)
