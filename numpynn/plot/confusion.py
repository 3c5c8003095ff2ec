"""Confusion matrices: counts, and the annotated (optionally row-normalised) figure."""

import numpy as np

from numpynn._helpers.validation import check_int
from numpynn.plot._figure import (
    _check_label_pair,
    _finish,
    _label_name,
    _subplots,
)

ANNOTATE_MAX_CLASSES = 20  # beyond this the cell numbers become unreadable


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
    n_classes = check_int(n_classes, "n_classes", minimum=1, where="confusion_counts")
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
