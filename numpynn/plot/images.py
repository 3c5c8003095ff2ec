"""Image grids (samples, misclassified first, with true and predicted labels) and weight
grids (a first layer's columns as images)."""
import math

import numpy as np

from numpynn._helpers.validation import check_array, check_int, check_labels
from numpynn.plot._figure import (
    _NO_UPPER_BOUND,
    _check_label_pair,
    _finish,
    _label_name,
    _subplots,
)

WRONG_COLOR = "#c62828"  # misclassified titles


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
    order = order[:check_int(n, "n", minimum=1, where="image_grid")]  # (n,)
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
    count = W.shape[1] if n is None else min(check_int(n, "n", minimum=1, where="weight_grid"),
                                             W.shape[1])
    filters = _display_images(W.T[:count], image_shape, False, "W")  # (n, H, W[, 3])
    canvas = _mosaic(filters)  # (rows·(H+gap)-gap, cols·(W+gap)-gap[, 3])
    title = (f"First-layer weights: {count} of {W.shape[1]} filters, "
             f"{'×'.join(map(str, image_shape))} each")
    return _finish(_canvas_figure(canvas, title), path)


def _canvas_figure(canvas, title):
    """One picture (a mosaic of tiles in [0, 1], grey or colour) under a title."""
    width = float(np.clip(canvas.shape[1] / 40, 4.0, 9.0))
    fig, axes = _subplots(1, 1, figsize=(width, width * canvas.shape[0] / canvas.shape[1] + 0.5))
    ax = axes[0, 0]
    ax.imshow(canvas, cmap="gray" if canvas.ndim == 2 else None, vmin=0.0, vmax=1.0,
              interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)
    return fig
