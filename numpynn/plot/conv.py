"""Convolution pictures: a ``Conv2d``'s filters, and the feature maps a model computes."""
import numpy as np

from numpynn._helpers.validation import check_array, check_int
from numpynn.plot._figure import _finish
from numpynn.layers import Conv2d
from numpynn.plot.images import _canvas_figure, _minmax, _mosaic


def conv_filters(W, path=None, n=None):
    """A convolution's filters as images (CS231n's picture of a convnet's first layer).

    Parameters
    ----------
    W : ndarray of shape (F, C, HH, WW)
        A ``Conv2d``'s weights (``model[i].W``). With C = 3 each filter shows in colour
        (channels first, as CIFAR-10's), otherwise as the grey mean over its C channels.
    path : str or os.PathLike, optional
        Save a PNG here (atomically).
    n : int, optional
        Show only the first n filters (default: all F). Each is min-max scaled on its own.

    Returns
    -------
    matplotlib.figure.Figure
    """
    W = check_array(W, "W", ndim=4, where="conv_filters")
    count = W.shape[0] if n is None else min(check_int(n, "n", minimum=1, where="conv_filters"),
                                             W.shape[0])
    filters = W[:count].astype(np.float64)                              # (n, C, HH, WW)
    if W.shape[1] == 3:
        shown = filters.transpose(0, 2, 3, 1)                           # (n, HH, WW, 3)
    else:
        shown = filters.mean(axis=1)                                    # (n, HH, WW)
    title = (f"Convolution filters: {count} of {W.shape[0]}, {W.shape[1]}×{W.shape[2]}×"
             f"{W.shape[3]} each" + ("" if W.shape[1] == 3 else " (mean over channels)"))
    return _finish(_canvas_figure(_mosaic(_minmax(shown)), title), path)


def feature_maps(model, x, layer=None, path=None, n=16):
    """The channels one layer of ``model`` computes for one sample: what the filters saw.

    Parameters
    ----------
    model : Sequential
    x : ndarray
        One sample as the model takes it: (C, H, W), or the loader's flat row (D,) for a model
        that starts with ``Unflatten``.
    layer : int, optional
        The layer whose output is shown (default: the first ``Conv2d``); its output must be
        (C', H', W') per sample.
    path : str or os.PathLike, optional
    n : int, default 16
        Show the first n channels, each min-max scaled on its own.

    Returns
    -------
    matplotlib.figure.Figure
    """
    where = "feature_maps"
    x = check_array(x, "x", dtype_kind="fiu", where=where)
    if layer is None:
        layer = next((i for i, l in enumerate(model.layers) if isinstance(l, Conv2d)), None)
        if layer is None:
            raise ValueError(f"{where}: the model has no Conv2d layer\nhelp: pass layer=INDEX")
    layer = check_int(layer, "layer", minimum=0, maximum=len(model.layers) - 1, where=where)
    out = x[None].astype(model.dtype)                                   # (1, …)
    with model._evaluating():
        for block in model.layers[:layer + 1]:
            out = block.forward(out)
    if out.ndim != 4:
        raise ValueError(f"{where}: layer {layer} ({model.layers[layer]!r}) gives outputs of "
                         f"shape {out.shape[1:]}; expected (C, H, W) feature maps")
    maps = out[0, :check_int(n, "n", minimum=1, where=where)]           # (n, H', W')
    title = (f"Feature maps of layer {layer} ({model.layers[layer]!r}): {len(maps)} of "
             f"{out.shape[1]} channels, {out.shape[2]}×{out.shape[3]}")
    return _finish(_canvas_figure(_mosaic(_minmax(maps.astype(np.float64))), title), path)

