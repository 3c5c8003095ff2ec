"""Learning curves: per-epoch loss and accuracy panels (train and validation, best epoch
marked) over the per-step losses."""
from collections.abc import Mapping

import numpy as np

from numpynn._helpers.validation import check_array
from numpynn.plot._figure import _finish, _subplots, _use_log_scale

_EPOCH_PANELS = (  # (title, train key, validation key, how "best" is picked)
    ("loss", "loss", "val_loss", np.nanargmin),
    ("accuracy", "acc", "val_acc", np.nanargmax),
)
_ITERATION_KEYS = ("batch_loss", "iteration_loss")


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
