"""Figures a course asks for: learning curves, confusion matrices, image and weight grids,
activation functions with their derivatives, and gradient-descent paths over contours.

Every function takes plain NumPy arrays or dicts, returns the matplotlib ``Figure`` (a notebook
displays it) and, given ``path=``, saves a PNG atomically and closes the figure.

matplotlib is imported inside the functions, never at module import, so ``import numpynn.plot``
stays cheap. When no display is available (no ``$DISPLAY``/``$WAYLAND_DISPLAY``, or under CI) the
Agg backend is selected first — unless the user already chose a backend (pyplot imported, as
``%matplotlib`` does, or ``$MPLBACKEND`` set, as Jupyter kernels do).

>>> import numpy as np
>>> from numpynn import plot
>>> fig = plot.confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], class_names=["a", "b", "c"],
...                             path="runs/demo/confusion.png")     # doctest: +SKIP
"""
import math
import os
import sys
from collections.abc import Mapping
from importlib import import_module
from pathlib import Path

import numpy as np

from numpynn._io import atomic_path
from numpynn._validation import check_array, check_labels, choose

DPI = 110  # crisp on screen and in a README, without megabyte PNGs
ANNOTATE_MAX_CLASSES = 20  # beyond this the cell numbers become unreadable
WRONG_COLOR = "#c62828"  # misclassified titles
GRID_POINTS = 200  # contour grid resolution per axis
_NO_UPPER_BOUND = np.iinfo(np.int64).max  # n_classes for check_labels when any label is fine
_HEADLESS_VARS = ("DISPLAY", "WAYLAND_DISPLAY")
_EPOCH_PANELS = (  # (title, train key, validation key, how "best" is picked)
    ("loss", "loss", "val_loss", np.nanargmin),
    ("accuracy", "acc", "val_acc", np.nanargmax),
)
_ITERATION_KEYS = ("batch_loss", "iteration_loss")
_PATH_COLORS = ("#d62728", "#ff7f0e", "#e377c2", "#1f77b4", "#2ca02c", "#8c564b", "#111111")


# ----------------------------------------------------------------------------- infrastructure
def _headless():
    """True when no window can be opened: under CI, or on Linux/BSD without a display server."""
    if os.environ.get("CI"):
        return True
    if sys.platform in ("darwin", "win32"):
        return False  # these always have a window system
    return not any(os.environ.get(var) for var in _HEADLESS_VARS)


def _pyplot():
    """Import pyplot, selecting Agg first when headless and the user has chosen no backend."""
    import matplotlib

    user_chose = "matplotlib.pyplot" in sys.modules or os.environ.get("MPLBACKEND")
    if not user_chose and _headless():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _subplots(nrows, ncols, figsize, **kwargs):
    """A constrained-layout figure and its (nrows, ncols) array of axes."""
    fig, axes = _pyplot().subplots(nrows, ncols, figsize=figsize, dpi=DPI, squeeze=False,
                                   layout="constrained", **kwargs)
    return fig, axes


def save_figure(fig, path):
    """Save ``fig`` as a PNG at ``path`` atomically: readers see the old file or the whole new one.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
        Must end in ``.png``; missing parent folders are created.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"save_figure: path must end in .png; got {str(path)!r}\n"
                         f"help: use {str(path.with_suffix('.png'))!r}")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi="figure")  # tmp ends in .part: name the format
    return path


def _finish(fig, path):
    """Save and close ``fig`` when ``path`` is given; return it either way."""
    if path is not None:
        try:
            save_figure(fig, path)
        finally:
            _pyplot().close(fig)  # a saved (or failed) figure must not pile up in pyplot
    return fig


def _check_count(value, name):
    """Return ``value`` as an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _check_label_pair(y_true, y_pred, n_classes=_NO_UPPER_BOUND):
    """Validate true and predicted class labels of the same length N."""
    y_true = check_labels(y_true, n_classes, "y_true")
    y_pred = check_labels(y_pred, n_classes, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.shape[0]} entries but y_pred has "
                         f"{y_pred.shape[0]}; expected one prediction per true label")
    return y_true, y_pred


def _label_name(k, class_names):
    """Class k's display name."""
    return str(class_names[k]) if class_names is not None else str(k)


# ----------------------------------------------------------------------------- learning curves
def _history_arrays(history):
    """Known keys of a Keras-style history as 1-D float arrays (missing keys are absent)."""
    if hasattr(history, "history"):  # a History object: per-epoch dict + per-iteration list
        history = {"iteration_loss": getattr(history, "iteration_loss", None), **history.history}
    if not isinstance(history, Mapping):
        raise TypeError(f"history must be a dict of per-epoch lists; got {type(history).__name__}")
    keys = [k for _, train, val, _ in _EPOCH_PANELS for k in (train, val)] + list(_ITERATION_KEYS)
    arrays = {}
    for key in keys:
        if history.get(key) is not None and len(history[key]):
            arrays[key] = check_array(np.asarray(history[key], dtype=np.float64),
                                      f"history[{key!r}]", ndim=1, finite=False)
    if not arrays:
        raise ValueError(f"history has nothing to plot; expected per-epoch lists under "
                         f"{', '.join(keys[:4])} or per-iteration losses under "
                         f"{' or '.join(_ITERATION_KEYS)}; got keys {sorted(history)}")
    return arrays


def _plot_iterations(ax, losses, n_epochs):
    """Faint per-iteration loss; x in fractional epochs (iteration k ends at k·E/K)."""
    steps = np.arange(1, losses.size + 1)  # (K,)
    x = steps * (n_epochs / losses.size) if n_epochs else steps
    ax.plot(x, losses, color="C0", alpha=0.25, lw=0.8, label="train (per iteration)")


def _plot_epoch_panel(ax, arrays, title, train, val, best):
    """One panel: train and validation per epoch, the best validation epoch marked."""
    lengths = [arrays[k].size for k in (train, val) if k in arrays]
    marker = "o" if max(lengths, default=0) <= 30 else None
    if train in arrays:
        ax.plot(np.arange(1, arrays[train].size + 1), arrays[train], color="C0", marker=marker,
                ms=3, label="train")
    if val in arrays and np.isfinite(arrays[val]).any():
        i = int(best(arrays[val]))
        ax.plot(np.arange(1, arrays[val].size + 1), arrays[val], color="C1", marker=marker, ms=3,
                label=f"validation (best {arrays[val][i]:.4g} at epoch {i + 1})")
        ax.plot(i + 1, arrays[val][i], "*", color="C1", ms=12, mec="k", mew=0.6)
    ax.set(title=title.capitalize(), xlabel="epoch", ylabel=title)


def _use_log_scale(values, ratio=30.0):
    """Log axis when all finite values are positive and span more than ``ratio``."""
    finite = np.concatenate([np.ravel(v) for v in values])
    finite = finite[np.isfinite(finite)]
    return finite.size > 0 and finite.min() > 0 and finite.max() / finite.min() > ratio


def learning_curves(history, path=None):
    """Loss and accuracy per epoch, train vs validation (Keras's history convention).

    Parameters
    ----------
    history : dict, or an object with a ``.history`` dict (and ``.iteration_loss`` list)
        Maps ``"loss"``, ``"acc"``, ``"val_loss"``, ``"val_acc"`` to per-epoch lists of length
        E (any may be missing or empty; ``"lr"`` and other keys are ignored). An optional
        ``"batch_loss"`` or ``"iteration_loss"`` list of length K is drawn faintly in the loss
        panel at fractional epochs k·E/K. The accuracy panel is left out when there is no
        accuracy (regression). A loss spanning more than a factor 30 is drawn on a log axis.
    path : str or os.PathLike, optional
        Save a PNG here (atomically) and close the figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.ticker import MaxNLocator

    arrays = _history_arrays(history)
    n_epochs = max((arrays[k].size for k in arrays if k not in _ITERATION_KEYS), default=0)
    panels = [p for p in _EPOCH_PANELS if p[0] == "loss" or p[1] in arrays or p[2] in arrays]
    fig, axes = _subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0))
    for ax, (title, train, val, best) in zip(axes[0], panels):
        iterations = [arrays[k] for k in _ITERATION_KEYS if k in arrays and title == "loss"]
        if iterations:
            _plot_iterations(ax, iterations[0], n_epochs)
        _plot_epoch_panel(ax, arrays, title, train, val, best)
        if title == "loss" and _use_log_scale([a for k, a in arrays.items() if "acc" not in k]):
            ax.set_yscale("log")
        if not n_epochs:
            ax.set_xlabel("iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return _finish(fig, path)


# ----------------------------------------------------------------------------- confusion matrix
def confusion_counts(y_true, y_pred, n_classes):
    """Count matrix ``C[i, j]`` = number of samples of true class i predicted as class j.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (N,)
        Integer class indices in ``[0, n_classes)``.
    n_classes : int
        C.

    Returns
    -------
    ndarray of shape (C, C), int64
        Rows are true classes, columns predictions (scikit-learn's convention).

    >>> confusion_counts([0, 1, 1, 2], [0, 2, 1, 2], 3)
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    n_classes = _check_count(n_classes, "n_classes")
    y_true, y_pred = _check_label_pair(y_true, y_pred, n_classes)
    cell = y_true.astype(np.int64) * n_classes + y_pred  # (N,) row-major index of (true, pred)
    return np.bincount(cell, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _row_fractions(counts):
    """Each row divided by its sum (recall per true class); empty rows stay 0."""
    totals = counts.sum(axis=1, keepdims=True)  # (C, 1)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)  # (C, C)


def _annotate_cells(ax, shown, fmt):
    """Write each cell's value, white on dark cells."""
    n = shown.shape[0]
    threshold = shown.max() / 2
    size = 9 if n <= 10 else 6.5
    for i, j in np.ndindex(shown.shape):
        ax.text(j, i, format(shown[i, j], fmt), ha="center", va="center", fontsize=size,
                color="white" if shown[i, j] > threshold else "black")


def confusion_matrix(y_true, y_pred, class_names=None, normalize=False, path=None):
    """Heat map of the confusion matrix, with cell values for up to 20 classes.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (N,)
        Integer class indices.
    class_names : sequence of str of length C, optional
        Tick labels; also fixes C. Default: C = 1 + the largest label, names ``0 … C-1``.
    normalize : bool
        Show each row as fractions of its true class (recall on the diagonal) instead of counts.
    path : str or os.PathLike, optional
        Save a PNG here (atomically) and close the figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    if y_true.size == 0:
        raise ValueError("y_true is empty; expected at least one label")
    n_classes = (len(class_names) if class_names is not None
                 else int(max(y_true.max(), y_pred.max())) + 1)
    counts = confusion_counts(y_true, y_pred, n_classes)  # (C, C)
    shown = _row_fractions(counts) if normalize else counts
    names = [_label_name(k, class_names) for k in range(n_classes)]
    side = float(np.clip(0.42 * n_classes + 2.8, 4.6, 12.0))
    fig, axes = _subplots(1, 1, figsize=(side + 1.2, side))
    ax = axes[0, 0]
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(image, ax=ax, shrink=0.85,
                 label="fraction of true class" if normalize else "count")
    rotate = max(map(len, names)) > 3
    ax.set_xticks(range(n_classes), names, rotation=45 if rotate else 0,
                  ha="right" if rotate else "center", rotation_mode="anchor")
    ax.set_yticks(range(n_classes), names)
    if n_classes <= ANNOTATE_MAX_CLASSES:
        _annotate_cells(ax, shown, ".2f" if normalize else "d")
    accuracy = np.trace(counts) / counts.sum()
    ax.set(xlabel="predicted class", ylabel="true class",
           title=f"Confusion matrix: accuracy {accuracy:.1%} (N = {counts.sum()})")
    return _finish(fig, path)


# ----------------------------------------------------------------------------- image grids
def misclassified_order(y_true, y_pred):
    """Indices that put misclassified samples first, each group in its original order.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (N,)

    Returns
    -------
    ndarray of shape (N,), int

    >>> misclassified_order([0, 1, 2, 3], [0, 2, 2, 0])
    array([1, 3, 0, 2])
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    return np.argsort(y_true == y_pred, kind="stable")  # False (wrong) sorts before True


def _infer_image_shape(n_features, channels_first, name):
    """(H, W) for a square grayscale image, (3, H, W) / (H, W, 3) for a square colour one."""
    side = math.isqrt(n_features)
    if side * side == n_features:
        return (side, side)
    side = math.isqrt(n_features // 3)
    if n_features % 3 == 0 and 3 * side * side == n_features:
        return (3, side, side) if channels_first else (side, side, 3)
    raise ValueError(f"{name} has {n_features} features per row, which is not a square image; "
                     "expected image_shape\nhelp: pass image_shape=(H, W), (H, W, 3) or (3, H, W)")


def _looks_channels_first(shape):
    """(C, H, W) with C in {1, 3} and a last axis that cannot be channels, e.g. (3, 32, 32)."""
    return len(shape) == 3 and shape[0] in (1, 3) and shape[-1] not in (1, 3)


def _display_images(images, image_shape, channels_first, name):
    """Images as (N, H, W) grayscale or (N, H, W, 3) colour, each min-max scaled to [0, 1]."""
    x = check_array(images, name, ndim=(2, 3, 4), dtype_kind="fiu").astype(np.float64)
    n = x.shape[0]
    if image_shape is None and x.ndim == 2:
        image_shape = _infer_image_shape(x.shape[1], channels_first, name)
    if image_shape is not None:
        image_shape = tuple(int(s) for s in image_shape)
        if math.prod(image_shape) != math.prod(x.shape[1:]) or len(image_shape) not in (2, 3):
            raise ValueError(f"{name} has shape {x.shape}, {math.prod(x.shape[1:])} values per "
                             f"image; image_shape {image_shape} expects {math.prod(image_shape)}")
        x = x.reshape(n, *image_shape)  # (N, *image_shape)
    if x.ndim == 4 and (channels_first or _looks_channels_first(x.shape[1:])):
        x = x.transpose(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]  # (N, H, W)
    if x.ndim == 4 and x.shape[-1] != 3:
        raise ValueError(f"{name}: images of shape {x.shape[1:]} have {x.shape[-1]} channels; "
                         "expected 1 or 3\nhelp: for channels-first data pass channels_first=True")
    return _minmax(x)


def _minmax(x):
    """Scale each image to [0, 1] on its own; a constant image becomes mid-grey."""
    axes = tuple(range(1, x.ndim))
    lo = x.min(axis=axes, keepdims=True)  # (N, 1, 1[, 1])
    span = x.max(axis=axes, keepdims=True) - lo  # (N, 1, 1[, 1])
    return np.divide(x - lo, span, out=np.full(x.shape, 0.5), where=span > 0)


def _image_figure(images, titles, colors, suptitle):
    """A near-square grid of images, each under its title (titles may be empty)."""
    n = images.shape[0]
    ncols = math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    width = max(1.35, 0.068 * max(map(len, titles), default=0))  # inches: fit "pred / true"
    height = 1.35 + (0.3 if titles else 0.0)
    fig, axes = _subplots(nrows, ncols, figsize=(max(ncols * width, 4.0), nrows * height + 0.5))
    cmap = "gray" if images.ndim == 3 else None
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < n:
            ax.imshow(images[k], cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        if k < len(titles):
            ax.set_title(titles[k], fontsize=8, color=colors[k])
    fig.suptitle(suptitle)
    return fig


def _grid_titles(y_true, y_pred, class_names):
    """Per-image "pred / true" titles (or whichever is given) and their colours."""
    if y_true is None and y_pred is None:
        return [], []
    given = [y for y in (y_pred, y_true) if y is not None]
    titles = [" / ".join(_label_name(y[i], class_names) for y in given)
              for i in range(given[0].size)]
    wrong = (y_true != y_pred) if len(given) == 2 else np.zeros(given[0].size, dtype=bool)
    return titles, [WRONG_COLOR if w else "black" for w in wrong]


def image_grid(images, y_true=None, y_pred=None, class_names=None, image_shape=None, n=36,
               misclassified_first=True, channels_first=False, path=None):
    """A grid of images titled "pred / true", misclassified ones in red and shown first.

    Parameters
    ----------
    images : ndarray of shape (N, D), (N, H, W), (N, H, W, 3) or (N, 3, H, W)
        Flat rows are reshaped to ``image_shape`` (default: square grayscale, or square colour
        when D = 3·s²). Each image is min-max scaled on its own for display.
    y_true, y_pred : ndarray of shape (N,), optional
        Integer class indices; titles show ``pred / true`` (or whichever is given).
    class_names : sequence of str, optional
        Names for the class indices.
    image_shape : tuple of int, optional
        (H, W), (H, W, 3) or channels-first (3, H, W), e.g. CIFAR-10's binary layout (3, 32, 32).
    n : int
        Number of images shown (at most N).
    misclassified_first : bool
        With both label arrays, show the misclassified images first.
    channels_first : bool
        Images are (3, H, W) (also inferred from an image_shape such as (3, 32, 32)).
    path : str or os.PathLike, optional
        Save a PNG here (atomically) and close the figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    shown = _display_images(images, image_shape, channels_first, "images")
    limit = len(class_names) if class_names is not None else _NO_UPPER_BOUND
    labels = {name: None if y is None else check_labels(y, limit, name, n_samples=len(shown))
              for name, y in (("y_true", y_true), ("y_pred", y_pred))}
    order = np.arange(len(shown))
    suptitle = "images"
    if labels["y_true"] is not None and labels["y_pred"] is not None:
        n_wrong = int(np.count_nonzero(labels["y_true"] != labels["y_pred"]))
        suptitle = f"pred / true: {n_wrong} of {len(shown)} misclassified (red)"
        if misclassified_first:
            order = misclassified_order(labels["y_true"], labels["y_pred"])
            suptitle += ", shown first"
    order = order[:_check_count(n, "n")]  # (n,)
    picked = {k: None if y is None else y[order] for k, y in labels.items()}
    titles, colors = _grid_titles(picked["y_true"], picked["y_pred"], class_names)
    fig = _image_figure(shown[order], titles, colors, suptitle=suptitle)
    return _finish(fig, path)


def _mosaic(images):
    """Tile (n, H, W[, 3]) images into one near-square picture with white gaps between tiles."""
    n, h, w = images.shape[:3]
    ncols = math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    gap = max(1, h // 10)
    widths = [(0, nrows * ncols - n), (0, gap), (0, gap)] + [(0, 0)] * (images.ndim - 3)
    tiles = np.pad(images, widths, constant_values=1.0)  # (rows·cols, H+gap, W+gap[, 3])
    tiles = tiles.reshape(nrows, ncols, h + gap, w + gap, *images.shape[3:])
    tiles = tiles.swapaxes(1, 2)  # (rows, H+gap, cols, W+gap[, 3])
    canvas = tiles.reshape(nrows * (h + gap), ncols * (w + gap), *images.shape[3:])
    return canvas[:-gap, :-gap]  # drop the trailing gap


def weight_grid(W, image_shape, path=None, n=None):
    """First-layer weights as images: column m of W is one input-shaped filter (CS231n's picture).

    Parameters
    ----------
    W : ndarray of shape (D, M)
        Weights of the first Linear layer; D must equal the number of values in ``image_shape``.
    image_shape : tuple of int
        (H, W) grayscale, (H, W, 3) colour, or channels-first (3, H, W) such as CIFAR-10's.
    path : str or os.PathLike, optional
        Save a PNG here (atomically) and close the figure.
    n : int, optional
        Show only the first n filters (default: all M). Each is min-max scaled on its own and
        the filters are tiled row by row into one picture.

    Returns
    -------
    matplotlib.figure.Figure
    """
    W = check_array(W, "W", ndim=2)
    image_shape = tuple(int(s) for s in image_shape)
    size = math.prod(image_shape)
    if W.shape[0] != size:
        hint = ("W looks transposed; pass W.T" if W.shape[1] == size
                else "pass the first layer's weights and the shape of one input image")
        raise ValueError(f"W has shape {W.shape}; image_shape {image_shape} expects ({size}, M), "
                         f"one column per filter\nhelp: {hint}")
    count = W.shape[1] if n is None else min(_check_count(n, "n"), W.shape[1])
    filters = _display_images(W.T[:count], image_shape, False, "W")  # (n, H, W[, 3])
    canvas = _mosaic(filters)  # (rows·(H+gap)-gap, cols·(W+gap)-gap[, 3])
    width = float(np.clip(canvas.shape[1] / 40, 4.0, 9.0))
    fig, axes = _subplots(1, 1, figsize=(width, width * canvas.shape[0] / canvas.shape[1] + 0.5))
    ax = axes[0, 0]
    ax.imshow(canvas, cmap="gray" if canvas.ndim == 2 else None, vmin=0.0, vmax=1.0,
              interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"First-layer weights: {count} of {W.shape[1]} filters, "
                 f"{'×'.join(map(str, image_shape))} each")
    return _finish(fig, path)


# ----------------------------------------------------------------------------- activations
def _activation_table(names):
    """name -> (forward, backward): ``names`` itself if a mapping, else from numpynn.functional."""
    if isinstance(names, Mapping):
        return dict(names)
    try:
        table = import_module("numpynn.functional").ACTIVATIONS
    except (ImportError, AttributeError):
        raise ValueError("activation_functions: numpynn.functional.ACTIVATIONS is not available\n"
                         "help: pass names={'tanh': (forward, backward)} with "
                         "forward(x) -> (out, cache) and backward(dout, cache) -> dx") from None
    if names is None:
        return dict(table)
    names = [names] if isinstance(names, str) else list(names)
    return {name: choose(name, table, "activation") for name in names}


def activation_functions(names=None, x=None, path=None):
    """Each activation f(x) beside its derivative f'(x) = backward(ones, cache).

    Parameters
    ----------
    names : mapping or sequence of str, optional
        A mapping name -> (forward, backward) with ``forward(x) -> (out, cache)`` and
        ``backward(dout, cache) -> dx``; or names looked up in
        ``numpynn.functional.ACTIVATIONS`` (default: all of them).
    x : ndarray of shape (P,), optional
        Points to evaluate at (default 401 points on [-4, 4]).
    path : str or os.PathLike, optional
        Save a PNG here (atomically) and close the figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = _activation_table(names)
    if not table:
        raise ValueError("names is empty; expected at least one activation")
    x = np.linspace(-4.0, 4.0, 401) if x is None else check_array(x, "x", ndim=1).astype(np.float64)
    pairs_per_row = 1 if len(table) <= 3 else 2
    nrows = math.ceil(len(table) / pairs_per_row)
    fig, axes = _subplots(nrows, 2 * pairs_per_row, sharex=True,
                          figsize=(5.6 * pairs_per_row, 2.1 * nrows + 0.5))
    for ax in axes.flat[len(table) * 2:]:
        ax.set_axis_off()
    for k, (name, (forward, backward)) in enumerate(table.items()):
        out, cache = forward(x)
        dx = backward(np.ones_like(out), cache)  # the elementwise derivative f'(x)
        row, col = divmod(k, pairs_per_row)
        for ax, y, title, color in ((axes[row, 2 * col], out, f"{name}(x)", "C0"),
                                    (axes[row, 2 * col + 1], dx, f"{name}′(x)", "C3")):
            ax.axhline(0, color="0.75", lw=0.8)
            ax.axvline(0, color="0.75", lw=0.8)
            ax.plot(x, y, color=color, lw=1.8)
            ax.set_title(title, fontsize=10)
            ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("x")
    fig.suptitle("Activation functions (blue) and their derivatives (red)")
    return _finish(fig, path)


# ----------------------------------------------------------------------------- descent paths
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
    f : callable
        Vectorised ``f(X, Y) -> Z`` on arrays of the same shape.
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
    """
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
