"""The fast convolution and pooling kernels: im2col, one GEMM, col2im (NCHW, no Python loop
over samples or pixels).

The readable loops in :mod:`numpynn.convolution` are the reference; these compute the same
numbers (tested to 1e-10 in float64) and are what ``fast=True``, the default, runs.

- **im2col**: every receptive field of the padded input, read through a strided view
  (``sliding_window_view``, no copy), is copied once into a row of the column matrix
  ``cols`` of shape (n·H'·W', C·HH·WW); the convolution is then one matrix product with the
  filters as a (C·HH·WW, F) matrix.
- **col2im** (the backward's ``dx``): the gradient of each column entry is added back into
  the padded input's gradient, one kernel offset (i, j) at a time: HH·WW strided additions,
  each over the whole batch.
- **Bounded memory**: ``cols`` is HH·WW times larger than the input it reads, so the batch is
  processed in chunks whose column matrix stays under :data:`COLUMN_BYTES`. Backward rebuilds
  the columns from the cached input rather than keeping them between the passes.
- **Pooling** takes a maximum (or a sum) over the kh·kw strided slices of the input, one
  offset at a time; the max keeps the index of the first maximum in the window (row-major
  order, as PyTorch), and backward routes each gradient to that one input.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

COLUMN_BYTES = 64 * 2**20  # the largest im2col buffer one chunk of the batch may build


def pad(x, padding):
    """``x`` of shape (N, C, H, W) with ``padding`` = (ph, pw) zeros on each side of H and W."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # (N, C, H + 2ph, W + 2pw)


def output_size(size, kernel, stride, padding=0):
    """Positions of a kernel along one axis (floors, as PyTorch: a stride need not tile)."""
    return (size + 2 * padding - kernel) // stride + 1


def _windows(x_pad, kernel, stride):
    """Strided view of every receptive field: (N, C, H', W', HH, WW), no copy."""
    (kh, kw), (sh, sw) = kernel, stride
    return sliding_window_view(x_pad, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


def _chunks(n, row_bytes):
    """Slices of the batch whose column matrices hold at most COLUMN_BYTES (one sample at least)."""
    step = max(1, COLUMN_BYTES // max(row_bytes, 1))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def _im2col(x_pad, kernel, stride):
    """The column matrix of ``x_pad``'s chunk: (n·H'·W', C·HH·WW), rows in (n, h', w') order."""
    windows = _windows(x_pad, kernel, stride)                # (n, C, H', W', HH, WW) view
    n, c, ho, wo, kh, kw = windows.shape
    cols = np.empty((n, ho, wo, c, kh, kw), dtype=x_pad.dtype)
    cols[...] = windows.transpose(0, 2, 3, 1, 4, 5)          # the one copy: (n, H', W', C, HH, WW)
    return cols.reshape(n * ho * wo, c * kh * kw)            # (n·H'·W', C·HH·WW)


def conv2d_forward(x, W, b, stride, padding):
    """Convolution of x (N, C, H, W) with W (F, C, HH, WW) plus b (F,): out (N, F, H', W')."""
    f, c, kh, kw = W.shape
    x_pad = pad(x, padding)                                  # (N, C, Hp, Wp)
    ho = output_size(x_pad.shape[2], kh, stride[0])
    wo = output_size(x_pad.shape[3], kw, stride[1])
    w_mat = W.reshape(f, -1).T                               # (C·HH·WW, F)
    out = np.empty((x.shape[0], f, ho, wo), dtype=np.result_type(x, W))
    for part in _chunks(x.shape[0], ho * wo * c * kh * kw * x.dtype.itemsize):
        cols = _im2col(x_pad[part], (kh, kw), stride)        # (n·H'·W', C·HH·WW)
        y = cols @ w_mat                                     # (n·H'·W', F)
        out[part] = y.reshape(-1, ho, wo, f).transpose(0, 3, 1, 2)  # (n, F, H', W')
    out += b.reshape(1, f, 1, 1)                             # (N, F, H', W') + (1, F, 1, 1)
    return out


def conv2d_backward(dout, x, W, stride, padding):
    """Gradients (dx, dW, db) of :func:`conv2d_forward` for dout (N, F, H', W')."""
    f, c, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, padding
    n, _, ho, wo = dout.shape
    x_pad = pad(x, padding)                                  # (N, C, Hp, Wp)
    w_mat = W.reshape(f, -1)                                 # (F, C·HH·WW)
    dW = np.zeros_like(w_mat)                                # (F, C·HH·WW)
    dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(dout, W))  # (N, C, Hp, Wp)
    for part in _chunks(n, ho * wo * c * kh * kw * x.dtype.itemsize):
        d = dout[part].transpose(0, 2, 3, 1).reshape(-1, f)  # (n·H'·W', F)
        cols = _im2col(x_pad[part], (kh, kw), stride)        # (n·H'·W', C·HH·WW)
        dW += d.T @ cols                                     # (F, n·H'·W') @ (.., C·HH·WW)
        dcols = (d @ w_mat).reshape(-1, ho, wo, c, kh, kw)   # (n, H', W', C, HH, WW)
        dx_part = dx_pad[part]                               # (n, C, Hp, Wp) view
        for i in range(kh):                                  # col2im: one offset at a time
            for j in range(kw):
                dx_part[:, :, i:i + sh * ho:sh, j:j + sw * wo:sw] += \
                    dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)  # (n, C, H', W')
    dx = dx_pad[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]  # (N, C, H, W)
    db = dout.sum(axis=(0, 2, 3))                            # (F,)
    return dx, dW.reshape(W.shape), db


def _offsets(x, kernel, stride, out_hw):
    """Yield (k, i, j, slice of x): x[:, :, i + s·h', j + s·w'] for each kernel offset (i, j)."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, i, j, x[:, :, i:i + sh * ho:sh, j:j + sw * wo:sw]  # (N, C, H', W')


def max_pool2d_forward(x, kernel, stride):
    """Max over each window: out (N, C, H', W') and the window index of the first maximum."""
    out_hw = (output_size(x.shape[2], kernel[0], stride[0]),
              output_size(x.shape[3], kernel[1], stride[1]))
    out, argmax = None, np.zeros((*x.shape[:2], *out_hw), dtype=np.intp)  # (N, C, H', W')
    for k, _, _, window in _offsets(x, kernel, stride, out_hw):
        if out is None:
            out = window.copy()                              # (N, C, H', W')
            continue
        larger = window > out                                # strict: the first maximum stays
        np.copyto(out, window, where=larger)
        np.copyto(argmax, k, where=larger)
    return out, argmax


def max_pool2d_backward(dout, argmax, x_shape, kernel, stride):
    """dx (N, C, H, W): each dout entry added to the input that was its window's maximum."""
    dx = np.zeros(x_shape, dtype=dout.dtype)                 # (N, C, H, W)
    for k, _, _, dx_window in _offsets(dx, kernel, stride, dout.shape[2:]):
        dx_window += np.where(argmax == k, dout, 0)          # (N, C, H', W')
    return dx


def avg_pool2d_forward(x, kernel, stride):
    """Mean over each window: out (N, C, H', W')."""
    out_hw = (output_size(x.shape[2], kernel[0], stride[0]),
              output_size(x.shape[3], kernel[1], stride[1]))
    out = np.zeros((*x.shape[:2], *out_hw), dtype=x.dtype)  # (N, C, H', W')
    for _, _, _, window in _offsets(x, kernel, stride, out_hw):
        out += window
    out /= kernel[0] * kernel[1]
    return out


def avg_pool2d_backward(dout, x_shape, kernel, stride):
    """dx (N, C, H, W): each dout entry shared equally by the kh·kw inputs of its window."""
    dx = np.zeros(x_shape, dtype=dout.dtype)                 # (N, C, H, W)
    share = dout / (kernel[0] * kernel[1])                   # (N, C, H', W')
    for _, _, _, dx_window in _offsets(dx, kernel, stride, dout.shape[2:]):
        dx_window += share
    return dx
