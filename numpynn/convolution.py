"""Convolution and pooling kernels (NCHW), re-exported by :mod:`numpynn.functional`.

Conventions as in ``functional``: ``name_forward(...) -> (out, cache)``, ``name_backward(dout,
cache)`` returning gradients in the order of forward's array inputs. Shapes use named
dimensions: N samples, C input channels, H × W input pixels, F filters of HH × WW pixels,
H' × W' output pixels.

Every kernel has two paths, chosen by the keyword ``fast``:

- ``fast=False``, the **reference**: the loops of CS231n's ``conv_forward_naive`` and
  ``max_pool_forward_naive``, one output pixel at a time. Read these; they are slow (seconds
  for a batch of 100 small images), so keep them to small inputs.
- ``fast=True``, the default: the same numbers through im2col, one matrix product and col2im
  (:mod:`numpynn._speed.im2col`), tested equal to the reference to 1e-10 in float64.

The backward pass follows the path its forward took (the cache remembers it).

``stride`` and ``padding`` take an int or a pair (along H, along W). As in PyTorch, a stride that
does not tile the input is allowed: the output size floors, ``H' = (H + 2·ph − HH) // sh + 1``,
and the pixels past the last window get no gradient.
"""
import numpy as np

from numpynn._helpers.validation import check_array, check_int
from numpynn._speed import im2col

# --- Arguments ------------------------------------------------------------------------------------


def pair(value, name, minimum, where):
    """``value`` (an int or two ints) as a tuple ``(along H, along W)`` of ints >= minimum."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{where}: {name} must be an int or a pair of ints; got {value!r}")
        return tuple(check_int(v, f"{name}[{k}]", minimum=minimum, where=where)
                     for k, v in enumerate(value))
    value = check_int(value, name, minimum=minimum, where=where)
    return value, value


def check_images(x, where, channels=None):
    """``x`` as a float array of shape (N, C, H, W), with C = ``channels`` if given."""
    x = check_array(x, "x", where=where)
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        expected = f"(N, {channels}, H, W)" if channels is not None else "(N, C, H, W)"
        raise ValueError(f"{where}: x has shape {x.shape}; expected {expected}"
                         + ("\nhelp: images as rows (N, C·H·W) need x.reshape(N, C, H, W) "
                            "first (nn.Unflatten in a model)" if x.ndim == 2 else ""))
    return x


def check_window(x_shape, kernel, padding, where, what="kernel"):
    """Refuse a window larger than the (padded) input, naming both shapes."""
    padded = (x_shape[2] + 2 * padding[0], x_shape[3] + 2 * padding[1])
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ValueError(f"{where}: the {what} {kernel[0]}×{kernel[1]} is larger than the "
                         f"{'padded ' if any(padding) else ''}input {padded[0]}×{padded[1]} "
                         f"(x of shape {x_shape})\nhelp: use a smaller kernel, more padding or "
                         "larger images")


def output_hw(x_shape, kernel, stride, padding=(0, 0)):
    """(H', W') of a window sliding over (N, C, H, W)."""
    return tuple(im2col.output_size(x_shape[2 + k], kernel[k], stride[k], padding[k])
                 for k in range(2))


def _check_dout(dout, expected, where):
    dout = check_array(dout, "dout", where=where)
    if dout.shape != tuple(expected):
        raise ValueError(f"{where}: dout has shape {dout.shape}; expected {tuple(expected)}, "
                         "the shape of forward's output")
    return dout


# --- Convolution ----------------------------------------------------------------------------------


def conv2d_forward(x, W, b, stride=1, padding=0, fast=True):
    """2-D convolution (cross-correlation, as PyTorch and CS231n):

        out[n, f, i, j] = b[f] + Σ_{c, p, q} W[f, c, p, q] · x̃[n, c, sh·i + p, sw·j + q]

    with x̃ the input zero-padded by ``padding``.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    W : ndarray of shape (F, C, HH, WW)
    b : ndarray of shape (F,)
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0
        Zeros added on each side of H and W.
    fast : bool, default True
        im2col and one GEMM; False runs the reference loops.

    Returns
    -------
    out : ndarray of shape (N, F, H', W'), H' = (H + 2·ph − HH) // sh + 1 (likewise W')
    cache : (x, W, stride, padding, fast, cols)
        ``cols``: the fast path's column matrix, kept for the backward pass when it fits in
        ``im2col.COLUMN_BYTES`` (else None: backward rebuilds it).

    >>> out, _ = conv2d_forward(np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3)), np.zeros(3),
    ...                         padding=1)
    >>> out.shape, float(out[0, 0, 1, 1]), float(out[0, 0, 0, 0])  # 2·3·3 inside, 2·2·2 corner
    ((1, 3, 4, 4), 18.0, 8.0)
    """
    where = "conv2d_forward"
    W = check_array(W, "W", ndim=4, where=where)
    x = check_images(x, where, channels=W.shape[1])
    b = check_array(b, "b", where=where)
    if b.shape != (W.shape[0],):
        raise ValueError(f"{where}: b has shape {b.shape}; expected ({W.shape[0]},), one bias "
                         f"per filter of W {W.shape}")
    stride, padding = pair(stride, "stride", 1, where), pair(padding, "padding", 0, where)
    check_window(x.shape, W.shape[2:], padding, where)
    return _conv2d_forward(x, W, b, stride, padding, fast)


def _conv2d_forward(x, W, b, stride, padding, fast=True, keep_columns=True):
    """:func:`conv2d_forward` on checked arrays, stride and padding as pairs. The fast path
    keeps its column matrix for the backward pass when ``keep_columns`` and the batch fits in
    one chunk (at most ``im2col.COLUMN_BYTES``); a layer in eval mode passes False."""
    if not fast:
        return _conv2d_forward_naive(x, W, b, stride, padding), (x, W, stride, padding, False,
                                                                 None)
    out, cols = im2col.conv2d_forward(x, W, b, stride, padding, keep_columns)
    return out, (x, W, stride, padding, True, cols)


def conv2d_backward(dout, cache, need_dx=True):
    """Gradients of :func:`conv2d_forward`:

        dW[f] = Σ_{n, i, j} dout[n, f, i, j] · (the window of x̃ under out[n, f, i, j])
        dx̃[window of (n, i, j)] += Σ_f dout[n, f, i, j] · W[f],   db[f] = Σ_{n, i, j} dout[n, f, i, j]

    and dx is dx̃ without its padding.

    Parameters
    ----------
    dout : ndarray of shape (N, F, H', W')
    cache : from :func:`conv2d_forward`
    need_dx : bool, default True
        False skips dx (returned as None): a network's first layer needs no input gradient,
        and its col2im is a third of the fast backward pass.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W), or None
    dW : ndarray of shape (F, C, HH, WW)
    db : ndarray of shape (F,)
    """
    x, W, stride, padding = cache[:4]
    expected = (x.shape[0], W.shape[0], *output_hw(x.shape, W.shape[2:], stride, padding))
    return _conv2d_backward(_check_dout(dout, expected, "conv2d_backward"), cache, need_dx)


def _conv2d_backward(dout, cache, need_dx=True):
    x, W, stride, padding, fast, cols = cache
    if fast:
        return im2col.conv2d_backward(dout, x, W, stride, padding, need_dx, cols)
    dx, dW, db = _conv2d_backward_naive(dout, x, W, stride, padding)
    return (dx if need_dx else None), dW, db


def _conv2d_forward_naive(x, W, b, stride, padding):
    """The reference: one dot product of a window with a filter per output pixel."""
    n_samples, f_filters, (sh, sw), (hh, ww) = x.shape[0], W.shape[0], stride, W.shape[2:]
    x_pad = im2col.pad(x, padding)                                       # (N, C, Hp, Wp)
    ho, wo = output_hw(x_pad.shape, (hh, ww), stride)
    out = np.zeros((n_samples, f_filters, ho, wo), dtype=np.result_type(x, W))
    for n in range(n_samples):
        for f in range(f_filters):
            for i in range(ho):
                for j in range(wo):
                    window = x_pad[n, :, i * sh:i * sh + hh, j * sw:j * sw + ww]  # (C, HH, WW)
                    out[n, f, i, j] = np.sum(window * W[f]) + b[f]
    return out


def _conv2d_backward_naive(dout, x, W, stride, padding):
    """The reference backward: each output pixel sends its gradient to its window and filter."""
    (sh, sw), (ph, pw), (hh, ww) = stride, padding, W.shape[2:]
    n_samples, f_filters, ho, wo = dout.shape
    x_pad = im2col.pad(x, padding)                                       # (N, C, Hp, Wp)
    dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(dout, W))       # (N, C, Hp, Wp)
    dW = np.zeros_like(W)                                                # (F, C, HH, WW)
    for n in range(n_samples):
        for f in range(f_filters):
            for i in range(ho):
                for j in range(wo):
                    rows, cols = slice(i * sh, i * sh + hh), slice(j * sw, j * sw + ww)
                    dW[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j]  # (C, HH, WW)
                    dx_pad[n, :, rows, cols] += W[f] * dout[n, f, i, j]  # (C, HH, WW)
    db = dout.sum(axis=(0, 2, 3))                                        # (F,)
    return dx_pad[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]], dW, db  # dx (N, C, H, W)


# --- Pooling --------------------------------------------------------------------------------------


def _pool_arguments(x, kernel_size, stride, where):
    """Checked (x, kernel, stride) of a pooling kernel; stride defaults to the kernel size."""
    x = check_images(x, where)
    kernel = pair(kernel_size, "kernel_size", 1, where)
    stride = kernel if stride is None else pair(stride, "stride", 1, where)
    check_window(x.shape, kernel, (0, 0), where, what="window")
    return x, kernel, stride


def max_pool2d_forward(x, kernel_size, stride=None, fast=True):
    """Max pooling: out[n, c, i, j] = max over the kh × kw window at (sh·i, sw·j) of x[n, c].

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size`` (non-overlapping windows).
    fast : bool, default True

    Returns
    -------
    out : ndarray of shape (N, C, H', W'), H' = (H − kh) // sh + 1 (likewise W')
    cache : (x, the window index of each maximum or None, kernel, stride)

    >>> out, _ = max_pool2d_forward(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    >>> out[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    x, kernel, stride = _pool_arguments(x, kernel_size, stride, "max_pool2d_forward")
    return _max_pool2d_forward(x, kernel, stride, fast)


def _max_pool2d_forward(x, kernel, stride, fast=True):
    if not fast:
        return _max_pool2d_forward_naive(x, kernel, stride), (x, None, kernel, stride)
    out, argmax = im2col.max_pool2d_forward(x, kernel, stride)
    return out, (x, argmax, kernel, stride)


def max_pool2d_backward(dout, cache):
    """dx: each dout[n, c, i, j] goes to the one input that was its window's maximum (the first
    in row-major order on ties, as PyTorch); overlapping windows add up.

    ``dout`` : ndarray of shape (N, C, H', W'). Returns dx of shape (N, C, H, W).
    """
    x, _, kernel, stride = cache
    expected = (*x.shape[:2], *output_hw(x.shape, kernel, stride))
    return _max_pool2d_backward(_check_dout(dout, expected, "max_pool2d_backward"), cache)


def _max_pool2d_backward(dout, cache):
    x, argmax, kernel, stride = cache
    if argmax is not None:
        return im2col.max_pool2d_backward(dout, argmax, x.shape, kernel, stride)
    return _max_pool2d_backward_naive(dout, x, kernel, stride)


def _pool_forward_naive(x, kernel, stride, reduce):
    """The reference pooling: ``reduce`` (np.max or np.mean) of each window, one output pixel
    at a time."""
    (kh, kw), (sh, sw) = kernel, stride
    ho, wo = output_hw(x.shape, kernel, stride)
    out = np.zeros((*x.shape[:2], ho, wo), dtype=x.dtype)                # (N, C, H', W')
    for i in range(ho):
        for j in range(wo):
            window = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]     # (N, C, kh, kw)
            out[:, :, i, j] = reduce(window, axis=(2, 3))                # (N, C)
    return out


def _max_pool2d_forward_naive(x, kernel, stride):
    """The reference: the max of each window."""
    return _pool_forward_naive(x, kernel, stride, np.max)


def _max_pool2d_backward_naive(dout, x, kernel, stride):
    """The reference backward: find each window's (first) maximum again and route dout to it."""
    (kh, kw), (sh, sw) = kernel, stride
    n_samples, channels, ho, wo = dout.shape
    dx = np.zeros(x.shape, dtype=dout.dtype)                             # (N, C, H, W)
    for n in range(n_samples):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    window = x[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw]  # (kh, kw)
                    p, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * sh + p, j * sw + q] += dout[n, c, i, j]
    return dx


def avg_pool2d_forward(x, kernel_size, stride=None, fast=True):
    """Average pooling: out[n, c, i, j] = mean of the kh × kw window at (sh·i, sw·j) of x[n, c].

    Arguments and output shape as :func:`max_pool2d_forward`; cache: (x's shape, kernel,
    stride, fast).
    """
    x, kernel, stride = _pool_arguments(x, kernel_size, stride, "avg_pool2d_forward")
    return _avg_pool2d_forward(x, kernel, stride, fast)


def _avg_pool2d_forward(x, kernel, stride, fast=True):
    pool = im2col.avg_pool2d_forward if fast else _avg_pool2d_forward_naive
    return pool(x, kernel, stride), (x.shape, kernel, stride, fast)


def avg_pool2d_backward(dout, cache):
    """dx: each dout[n, c, i, j] shared equally, dout/(kh·kw), by the inputs of its window.

    ``dout`` : ndarray of shape (N, C, H', W'). Returns dx of shape (N, C, H, W).
    """
    x_shape, kernel, stride, _ = cache
    expected = (*x_shape[:2], *output_hw(x_shape, kernel, stride))
    return _avg_pool2d_backward(_check_dout(dout, expected, "avg_pool2d_backward"), cache)


def _avg_pool2d_backward(dout, cache):
    x_shape, kernel, stride, fast = cache
    pool = im2col.avg_pool2d_backward if fast else _avg_pool2d_backward_naive
    return pool(dout, x_shape, kernel, stride)


def _avg_pool2d_forward_naive(x, kernel, stride):
    """The reference: the mean of each window."""
    return _pool_forward_naive(x, kernel, stride, np.mean)


def _avg_pool2d_backward_naive(dout, x_shape, kernel, stride):
    """The reference backward: each window's inputs receive dout / (kh·kw)."""
    (kh, kw), (sh, sw) = kernel, stride
    dx = np.zeros(x_shape, dtype=dout.dtype)                             # (N, C, H, W)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            share = dout[:, :, i, j, None, None] / (kh * kw)             # (N, C, 1, 1)
            dx[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += share    # (N, C, kh, kw)
    return dx
