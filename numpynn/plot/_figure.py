"""What every figure shares: the pyplot import (Agg when headless), constrained-layout
subplots, atomic PNG saving, and the check of label pairs."""
import os
import sys
from pathlib import Path

import numpy as np

from numpynn._helpers.extras import require
from numpynn._helpers.io import atomic_path
from numpynn._helpers.validation import check_labels

DPI = 110  # crisp on screen and in a README, without megabyte PNGs
_NO_UPPER_BOUND = np.iinfo(np.int64).max  # n_classes for check_labels when any label is fine
_HEADLESS_VARS = ("DISPLAY", "WAYLAND_DISPLAY")


def _headless():
    """True when no window can be opened: under CI, or on Linux/BSD without a display server."""
    if os.environ.get("CI"):
        return True
    if sys.platform in ("darwin", "win32"):
        return False  # these always have a window system
    return not any(os.environ.get(var) for var in _HEADLESS_VARS)


def _pyplot():
    """Import pyplot, selecting Agg first when headless and the user has chosen no backend."""
    require("matplotlib", "numpynn.plot")
    import matplotlib

    user_chose = "matplotlib.pyplot" in sys.modules or os.environ.get("MPLBACKEND")
    if not user_chose and _headless():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _subplots(nrows, ncols, figsize, **kwargs):
    """A constrained-layout figure and its (nrows, ncols) array of axes.

    pyplot creates it (so the backend, and Jupyter's inline display, are set up as for any
    pyplot figure), then lets go of it unless it has a window: see :func:`_release`.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, dpi=DPI, squeeze=False,
                             layout="constrained", **kwargs)
    _release(fig, plt)
    return fig, axes


def _release(fig, plt):
    """Close ``fig`` in pyplot unless a window or widget shows it; the Figure stays usable.

    A figure managed by the plain ``FigureManagerBase`` has no window (Agg, the file backends,
    Jupyter's inline backend). Left in pyplot, the inline backend would draw it at the end of
    the cell *and* display the Figure the cell returns: the same plot twice. Window and widget
    backends (Tk, Qt, macOS, ipympl) have their own manager class, so ``plt.show()`` in a
    script still opens every figure.
    """
    from matplotlib.backend_bases import FigureManagerBase

    if type(fig.canvas.manager) is FigureManagerBase:
        plt.close(fig)


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
            _pyplot().close(fig)  # a saved (or failed) figure must not stay in a window either
    return fig


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

def _use_log_scale(values, ratio=30.0):
    """Log axis when all finite values are positive and span more than ``ratio``."""
    finite = np.concatenate([np.ravel(v) for v in values])
    finite = finite[np.isfinite(finite)]
    return finite.size > 0 and finite.min() > 0 and finite.max() / finite.min() > ratio
