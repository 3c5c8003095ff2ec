"""Gradient clipping by global norm."""
import math
import warnings

import numpy as np

from numpynn._helpers.validation import check_array, check_positive

_CLIP_EPS = 1e-6   # torch.nn.utils.clip_grad_norm_ adds it to the norm before dividing


def clip_grad_norm(grads, max_norm):
    r"""Scale all gradients in place so that their global L2 norm is at most ``max_norm``.

    .. math::
        n = \sqrt{\textstyle\sum_k \lVert g_k \rVert_2^2}, \qquad
        g_k \leftarrow g_k \cdot \min\left(1, \frac{\text{max\_norm}}{n + 10^{-6}}\right)

    ``torch.nn.utils.clip_grad_norm_`` semantics, its 1e-6 included (so a norm exactly at
    ``max_norm`` is scaled by a hair). A non-finite norm scales every gradient by NaN, as
    PyTorch does, with a ``RuntimeWarning``.

    Parameters
    ----------
    grads : dict of str -> ndarray, or iterable of ndarray
        Floating arrays, modified in place, e.g. ``model.grads()``.
    max_norm : float
        Non-negative.

    Returns
    -------
    total_norm : float
        The norm before clipping.

    >>> g = {"W": np.array([3.0, 4.0])}
    >>> clip_grad_norm(g, max_norm=1.0)
    5.0
    >>> g["W"].round(6)
    array([0.6, 0.8])
    """
    arrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
    for i, g in enumerate(arrays):
        if not isinstance(g, np.ndarray):
            raise TypeError(f"clip_grad_norm: grads[{i}] must be a numpy array (scaled in "
                            f"place); got {type(g).__name__}")
        check_array(g, f"grads[{i}]", finite=False, where="clip_grad_norm")
    check_positive(max_norm, "max_norm", allow_zero=True, where="clip_grad_norm")
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in arrays))  # () over all entries
    coef = min(max_norm / (total + _CLIP_EPS), 1.0)   # min(nan, 1.0) is nan, like torch.clamp
    if not math.isfinite(total):
        warnings.warn(f"clip_grad_norm: the total gradient norm is {total}; gradients become "
                      "NaN", RuntimeWarning, stacklevel=2)
    if coef != 1.0:
        for g in arrays:
            g *= coef
    return total
