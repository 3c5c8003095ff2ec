"""The fast convolution and pooling kernels: im2col, one GEMM, col2im (NCHW, no Python loop
over samples or pixels).

The readable loops in :mod:`numpynn.convolution` are the reference; these compute the same
numbers (tested to 1e-10 in float64) and are what ``fast=True``, the default, runs. With
K = C·HH·WW entries per receptive field and P = H'·W' output pixels per image:

- **im2col**: the input is copied once into a zero-bordered buffer, then every receptive
  field into the column matrix ``cols`` of shape (K, n·P): row (c, i, j) holds the input pixel
  under filter tap (c, i, j) for every output pixel of the chunk's n images, filled by HH·WW
  strided copies whose inner loop runs along an image row (W' pixels), not along the kernel.
- **One GEMM per product**: the forward is ``cols.T (n·P, K) @ W_mat.T (K, F)`` (the long
  side first: OpenBLAS runs this form of the product faster than ``W_mat @ cols``), then one
  transposing copy to (n, F, H', W') fused with the bias; with few taps per filter (K <= F, a
  first layer's) moving that output costs more than the product, so one GEMM per image
  writes (F, P) straight into the output instead; ``dW = (cols @ dout_mat.T).T`` and
  the columns' gradient ``W_mat.T @ dout_mat``, with ``dout_mat`` of shape (F, n·P). BLAS
  reads every ``.T`` in place.
- **col2im** (the backward's ``dx``): the columns' gradient for each tap offset (i, j) is
  added into the bordered input gradient by one strided addition over the whole chunk, in
  a channels-first (C, n, Hp, Wp) buffer whose layout matches the columns' rows; the first
  layer of a network skips it (``need_dx=False``: the Trainer's step workspace asks so).
- **Bounded memory**: ``cols`` is about HH·WW / (sh·sw) times larger than the input it reads,
  so the batch is processed in chunks whose im2col buffers (the columns, their gradient and
  the product's rows) stay under :data:`COLUMN_BYTES` together.
  When the batch fits in one chunk, a layer in training mode keeps that matrix for its
  backward pass (at most COLUMN_BYTES per layer); otherwise backward rebuilds the columns
  from the cached input.
- **Pooling** takes a maximum (or a sum) over the kh·kw strided slices of the input, one
  offset at a time; the max keeps the offset of the first maximum of each window (row-major
  order, as PyTorch) as a small integer, and backward routes each gradient to that one input,
  writing straight into dx when the windows do not overlap.
"""
import numpy as np

# the most one chunk of the batch may hold in im2col buffers: the columns, their gradient and
# the product's rows, (2·C·HH·WW + F)·H'·W' numbers per image
COLUMN_BYTES = 64 * 2**20


def pad(x, padding):
    """``x`` of shape (N, C, H, W) with ``padding`` = (ph, pw) zeros on each side of H and W."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    x_pad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)  # (N, C, Hp, Wp)
    x_pad[:, :, ph:ph + h, pw:pw + w] = x
    return x_pad


def output_size(size, kernel, stride, padding=0):
    """Positions of a kernel along one axis (floors, as PyTorch: a stride need not tile)."""
    return (size + 2 * padding - kernel) // stride + 1


def _taps(x, kernel, stride, out_hw):
    """Yield (k, i, j, slice of x): x[:, :, i + sh·h', j + sw·w'] (N, C, H', W') for each
    kernel offset (i, j), k = i·kw + j its row-major index."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, i, j, x[:, :, i:i + sh * ho:sh, j:j + sw * wo:sw]


def _chunks(n, per_image):
    """Slices of the batch whose im2col buffers hold at most COLUMN_BYTES (one sample at least)."""
    step = max(1, COLUMN_BYTES // max(per_image, 1))
    return [slice(start, min(start + step, n)) for start in range(0, n, step)]


def _geometry(x_shape, W_shape, stride, padding, itemsize):
    """(H', W') of the output and :func:`sample_bytes` of one image."""
    out_hw = (output_size(x_shape[2], W_shape[2], stride[0], padding[0]),
              output_size(x_shape[3], W_shape[3], stride[1], padding[1]))
    return out_hw, sample_bytes(W_shape, out_hw, itemsize)


def sample_bytes(W_shape, out_hw, itemsize):
    """Bytes of one image's im2col buffers: its columns and their gradient (C·HH·WW rows each)
    and its rows of the product (F), H'·W' numbers per row."""
    f, c, kh, kw = W_shape
    return (2 * c * kh * kw + f) * out_hw[0] * out_hw[1] * itemsize


def _im2col(x_pad, kernel, stride, out_hw):
    """The column matrix of a chunk of ``x_pad`` (n, C, Hp, Wp): (C·HH·WW, n·H'·W')."""
    n, c = x_pad.shape[:2]
    cols = np.empty((c, *kernel, n, *out_hw), dtype=x_pad.dtype)  # (C, HH, WW, n, H', W')
    for _, i, j, tap in _taps(x_pad, kernel, stride, out_hw):
        cols[:, i, j] = tap.transpose(1, 0, 2, 3)            # (C, n, H', W')
    return cols.reshape(c * kernel[0] * kernel[1], -1)       # (C·HH·WW, n·H'·W')


def conv2d_forward(x, W, b, stride, padding, keep_columns=False):
    """Convolution of x (N, C, H, W) with W (F, C, HH, WW) plus b (F,): out (N, F, H', W'),
    and the column matrix when ``keep_columns`` and the batch took one chunk (else None)."""
    f, _, kh, kw = W.shape
    (ho, wo), per_image = _geometry(x.shape, W.shape, stride, padding, x.dtype.itemsize)
    x_pad = pad(x, padding)                                  # (N, C, Hp, Wp)
    w_mat = W.reshape(f, -1)                                 # (F, C·HH·WW)
    out = np.empty((x.shape[0], f, ho * wo), dtype=np.result_type(x, W))  # (N, F, H'·W')
    chunks = _chunks(x.shape[0], per_image)
    for part in chunks:
        cols = _im2col(x_pad[part], (kh, kw), stride, (ho, wo))  # (C·HH·WW, n·H'·W')
        _product(w_mat, cols, b, out[part])                   # (n, F, H'·W')
    kept = cols if keep_columns and len(chunks) == 1 else None
    return out.reshape(x.shape[0], f, ho, wo), kept          # (N, F, H', W')


def _product(w_mat, cols, b, out):
    """out (n, F, P) = the filters (F, K) times each image's columns, plus b (F,).

    Two forms of the same product, the faster one for the shape: with few taps per filter
    (K <= F, e.g. a first layer's 1·3·3) the product is cheap beside moving its output, so one
    GEMM per image writes straight into ``out``; otherwise one large GEMM with the long side
    first (the form OpenBLAS runs fastest) and one transposing copy, fused with the bias."""
    (k, f), (n, _, p) = w_mat.shape[::-1], out.shape
    if k <= f:
        np.matmul(w_mat, cols.reshape(k, n, p).transpose(1, 0, 2), out=out)  # (F, K) @ (n, K, P)
        out += b[:, None]                                    # (n, F, P) + (F, 1)
    else:
        y = (cols.T @ w_mat.T).reshape(n, p, f)              # (n·P, K) @ (K, F) -> (n, P, F)
        np.add(y.transpose(0, 2, 1), b[:, None], out=out)    # (n, F, P) + (F, 1)


def conv2d_backward(dout, x, W, stride, padding, need_dx=True, cols=None):
    """Gradients (dx, dW, db) of :func:`conv2d_forward` for dout (N, F, H', W'); dx is None
    when ``need_dx`` is False. ``cols``: the forward's column matrix, if it kept it."""
    f, c, kh, kw = W.shape
    (ph, pw), (ho, wo) = padding, dout.shape[2:]
    _, per_image = _geometry(x.shape, W.shape, stride, padding, x.dtype.itemsize)
    x_pad = pad(x, padding) if cols is None else None       # (N, C, Hp, Wp)
    w_mat = W.reshape(f, -1)                                 # (F, C·HH·WW)
    dW_t = np.zeros(w_mat.shape[::-1], dtype=np.result_type(dout, x))  # (C·HH·WW, F)
    db = np.zeros(f, dtype=dW_t.dtype)                       # (F,)
    hp, wp = x.shape[2] + 2 * ph, x.shape[3] + 2 * pw
    # channels first: the layout of the columns' rows, so col2im's additions read in order
    dx_t = (np.zeros((c, x.shape[0], hp, wp), dtype=np.result_type(dout, W))  # (C, N, Hp, Wp)
            if need_dx else None)
    for part in _chunks(x.shape[0], per_image):
        d = dout[part].transpose(1, 0, 2, 3).reshape(f, -1)  # (F, n·H'·W')
        if x_pad is not None:
            cols = _im2col(x_pad[part], (kh, kw), stride, (ho, wo))  # (C·HH·WW, n·H'·W')
        dW_t += cols @ d.T                                   # (C·HH·WW, n·H'·W') @ (.., F)
        db += d.sum(axis=1)                                  # (F,)
        if need_dx:
            _col2im(w_mat.T @ d, dx_t[:, part], (kh, kw), stride)  # (C·HH·WW, n·H'·W')
    dx = None if dx_t is None else np.ascontiguousarray(
        dx_t[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]].transpose(1, 0, 2, 3))  # (N, C, H, W)
    return dx, dW_t.T.reshape(W.shape), db


def _col2im(dcols, dx_t, kernel, stride):
    """Add the columns' gradient (C·HH·WW, n·H'·W') into dx_t (C, n, Hp, Wp), in place."""
    c, n = dx_t.shape[:2]
    out_hw = (output_size(dx_t.shape[2], kernel[0], stride[0]),
              output_size(dx_t.shape[3], kernel[1], stride[1]))
    dcols = dcols.reshape(c, kernel[0], kernel[1], n, *out_hw)  # (C, HH, WW, n, H', W')
    for _, i, j, tap in _taps(dx_t, kernel, stride, out_hw):
        tap += dcols[:, i, j]                                # (C, n, H', W')


def _pool_hw(x_shape, kernel, stride):
    return (output_size(x_shape[2], kernel[0], stride[0]),
            output_size(x_shape[3], kernel[1], stride[1]))


def max_pool2d_forward(x, kernel, stride):
    """Max over each window: out (N, C, H', W') and the offset k = i·kw + j of each window's
    first maximum (int8 for windows up to 127 pixels)."""
    out_hw = _pool_hw(x.shape, kernel, stride)
    taps = _taps(x, kernel, stride, out_hw)
    out = next(taps)[3].copy()                               # (N, C, H', W'), offset 0
    argmax = np.zeros(out.shape, dtype=np.int8 if kernel[0] * kernel[1] <= 127 else np.intp)
    for k, _, _, tap in taps:
        larger = np.greater(tap, out).view(np.int8)          # strict: the first maximum stays
        np.maximum(out, tap, out=out)
        # argmax = k where larger, else unchanged, in integer arithmetic (no masked copy)
        argmax += (argmax.dtype.type(k) - argmax) * larger
    return out, argmax


def max_pool2d_backward(dout, argmax, x_shape, kernel, stride):
    """dx (N, C, H, W): each dout entry added to the input that was its window's maximum."""
    dx = np.zeros(x_shape, dtype=dout.dtype)                 # (N, C, H, W)
    overlap = stride[0] < kernel[0] or stride[1] < kernel[1]
    for k, _, _, dx_tap in _taps(dx, kernel, stride, dout.shape[2:]):
        if overlap:
            dx_tap += dout * (argmax == k)                   # (N, C, H', W')
        else:   # each input pixel is in one window at most: write, no addition
            np.multiply(dout, argmax == k, out=dx_tap)
    return dx


def avg_pool2d_forward(x, kernel, stride):
    """Mean over each window: out (N, C, H', W')."""
    out_hw = _pool_hw(x.shape, kernel, stride)
    out = np.zeros((*x.shape[:2], *out_hw), dtype=x.dtype)  # (N, C, H', W')
    for _, _, _, tap in _taps(x, kernel, stride, out_hw):
        out += tap
    out /= kernel[0] * kernel[1]
    return out


def avg_pool2d_backward(dout, x_shape, kernel, stride):
    """dx (N, C, H, W): each dout entry shared equally by the kh·kw inputs of its window."""
    dx = np.zeros(x_shape, dtype=dout.dtype)                 # (N, C, H, W)
    share = dout / (kernel[0] * kernel[1])                   # (N, C, H', W')
    overlap = stride[0] < kernel[0] or stride[1] < kernel[1]
    for _, _, _, dx_tap in _taps(dx, kernel, stride, dout.shape[2:]):
        if overlap:
            dx_tap += share
        else:
            dx_tap[...] = share
    return dx
