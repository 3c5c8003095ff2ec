"""Activation functions beside their derivatives, one panel each."""
import math
from collections.abc import Mapping
from importlib import import_module

import numpy as np

from numpynn._helpers.validation import check_array, choose
from numpynn.plot._figure import _finish, _subplots


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
    return {name: choose(name, table, "activation", where="activation_functions")
            for name in names}


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
