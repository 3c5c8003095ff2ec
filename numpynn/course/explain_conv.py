"""Worked solutions of a tiny convolution and a tiny max pool: every output written as its sum
(or its max) with the numbers plugged in, and the backward pass written out the same way.

For one image x of shape (C, H, W), filters W of shape (F, C, HH, WW), bias b (F,), stride s
and zero padding ph, pw (x̃ is x padded), indices from 0 as in NumPy::

    out[f, i, j]  = b[f] + Σ_{c, p, q} W[f, c, p, q] · x̃[c, s·i + p, s·j + q]
    db[f]         = Σ_{i, j} dout[f, i, j]
    dW[f, c, p, q] = Σ_{i, j} dout[f, i, j] · x̃[c, s·i + p, s·j + q]   (x̃ ⋆ dout)
    dx̃[c, y, z]   = Σ dout[f, i, j] · W[f, c, p, q]  over s·i + p = y, s·j + q = z

The last line is a *full convolution* of dout with the filters: spread dout out by the stride
(s − 1 zeros between entries), pad it with HH − 1 zeros, and slide the filters rotated by 180°
(F and C swapped) over it, as a plain cross-correlation; dx is dx̃ without its padding.
:func:`explain_conv` computes dx that way too and shows that it equals the backward pass.

Max pooling routes each gradient to one input: out[c, i, j] is the max of its window, and
dx[c, y, z] receives dout[c, i, j] when x[c, y, z] was that window's (first) maximum.

>>> e = explain_conv([[1, 2], [3, 4]], [[1, 0], [0, 1]], 0.5)
>>> e.out.tolist(), e.lines[1]
([[[5.5]]], 'out[0,0,0] = 0.5 + (1·1 + 0·2 + 0·3 + 1·4) = 5.5')
"""
import html
from dataclasses import dataclass, field

import numpy as np

from numpynn import functional as F
from numpynn._helpers.validation import check_array
from numpynn.convolution import pair


# the worked examples of `numpynn explain --conv` / `--pool` (keyword arguments)
TINY_IMAGE = [[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 2], [1, 0, 1, 1]]
TINY_CONV = {"x": TINY_IMAGE, "W": [[1, 0], [-1, 2]], "b": 0.5,
             "dout": [[1, 0, -1], [2, 1, 0], [0, 1, 1]], "stride": 1, "padding": 0}
TINY_POOL = {"x": TINY_IMAGE, "kernel_size": 2, "stride": None, "dout": [[1, 2], [3, 4]]}


def _num(v, precision):
    """``v`` with at most ``precision`` decimals, no trailing zeros, no "-0"."""
    text = f"{v:.{precision}f}".rstrip("0").rstrip(".") if precision else f"{v:.0f}"
    return "0" if text in ("-0", "") else text


def _paren(v, precision):
    """``v`` as text, in parentheses when negative (inside a sum or product)."""
    text = _num(v, precision)
    return f"({text})" if text.startswith("-") else text


def _grid(a, precision):
    """A nested list of ``a``'s entries as :func:`_num` writes them: [[1, 0], [-1, 2.5]]."""
    if np.ndim(a) == 0:
        return _num(a, precision)
    return "[" + ", ".join(_grid(row, precision) for row in a) + "]"


def _term(w, x, precision):
    """``w·x`` with a negative factor in parentheses."""
    return f"{_paren(w, precision)}·{_paren(x, precision)}"


def _image(v, name, ndim_min, where):
    """float64 copy of ``v`` with leading axes added up to 4 dimensions (N=1, then C or F=1)."""
    v = check_array(v, name, dtype_kind="fiu", where=where).astype(np.float64)
    if not ndim_min <= v.ndim <= 4:
        raise ValueError(f"{where}: {name} has shape {v.shape}; expected 2 to 4 dimensions")
    return v.reshape((1,) * (4 - v.ndim) + v.shape)


def _one_image(x, where):
    """``x`` as a float64 batch of one image (1, C, H, W)."""
    x4 = _image(x, "x", 2, where)
    if x4.shape[0] != 1:
        raise ValueError(f"{where}: x holds {x4.shape[0]} images; a worked solution takes one\n"
                         "help: pass x[0]")
    return x4


class _WorkedText:
    """Prints as its ``lines``: in a terminal, and in Jupyter as preformatted text."""

    def to_text(self):
        return "\n".join(self.lines)

    __str__ = __repr__ = to_text

    def _repr_html_(self):
        return f"<pre>{html.escape(self.to_text())}</pre>"


@dataclass(repr=False)
class ConvExplanation(_WorkedText):
    """Every number of one tiny convolution, forward and backward (float64; batch axis dropped).

    Attributes
    ----------
    x : ndarray of shape (C, H, W);  W : (F, C, HH, WW);  b : (F,)
    stride, padding : (int, int)
    out : ndarray of shape (F, H', W')
    dout, dx, dW, db : ndarrays of the shapes of out, x, W and b
    dx_as_convolution : ndarray of shape (C, H, W)
        dx computed as the full convolution of dout with the rotated filters (equal to dx).
    lines : list of str
        The worked solution, one line each (what :meth:`to_text` prints).
    """
    x: np.ndarray
    W: np.ndarray
    b: np.ndarray
    stride: tuple
    padding: tuple
    out: np.ndarray
    dout: np.ndarray
    dx: np.ndarray
    dW: np.ndarray
    db: np.ndarray
    dx_as_convolution: np.ndarray
    lines: list = field(default_factory=list)


def explain_conv(x, W, b=0.0, dout=None, stride=1, padding=0, precision=4):
    """Worked solution of a tiny 2-D convolution (cross-correlation, as PyTorch and CS231n).

    Parameters
    ----------
    x : array_like of shape (H, W), (C, H, W) or (1, C, H, W)
        One image.
    W : array_like of shape (HH, WW), (C, HH, WW) or (F, C, HH, WW)
    b : float or array_like of shape (F,), default 0
    dout : array_like of the output's shape (F, H', W'), optional
        ∂L/∂out; default ones (L = the sum of the outputs).
    stride, padding : int or (int, int)
    precision : int, default 4
        Most decimals shown (trailing zeros dropped).

    Returns
    -------
    ConvExplanation
    """
    where = "explain_conv"
    x4, W4 = _one_image(x, where), _image(W, "W", 2, where)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    if b.size not in (1, W4.shape[0]):
        raise ValueError(f"{where}: b has {b.size} values; expected 1 or {W4.shape[0]}, one per "
                         f"filter of W {W4.shape}")
    b = np.broadcast_to(b, (W4.shape[0],)).copy()                       # (F,)
    stride, padding = pair(stride, "stride", 1, where), pair(padding, "padding", 0, where)
    out, cache = F.conv2d_forward(x4, W4, b, stride, padding, fast=False)
    dout = np.ones_like(out) if dout is None else _image(dout, "dout", 2, where)
    dx, dW, db = F.conv2d_backward(dout, cache)                         # checks dout's shape
    as_convolution = full_convolution_dx(dout, W4, x4.shape, stride, padding)
    e = ConvExplanation(x4[0], W4, b, stride, padding, out[0], dout[0], dx[0], dW, db,
                        as_convolution[0])
    e.lines = _conv_lines(e, precision)
    return e


def full_convolution_dx(dout, W, x_shape, stride, padding):
    """dx of a convolution as one more convolution: dout (N, F, H', W') spread by the stride,
    zero-padded by HH − 1 (plus the rows and columns a non-tiling stride left out), correlated
    with W rotated by 180° and with F and C swapped (C, F, HH, WW); then the padding cropped."""
    (sh, sw), (ph, pw), (hh, ww) = stride, padding, W.shape[2:]
    n, f, ho, wo = dout.shape
    hp, wp = x_shape[2] + 2 * ph, x_shape[3] + 2 * pw                   # padded input size
    spread = np.zeros((n, f, hp + hh - 1, wp + ww - 1))     # (N, F, Hp + HH − 1, Wp + WW − 1)
    spread[:, :, hh - 1:hh - 1 + sh * ho:sh, ww - 1:ww - 1 + sw * wo:sw] = dout
    rotated = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)                 # (C, F, HH, WW)
    dx_pad, _ = F.conv2d_forward(spread, rotated, np.zeros(rotated.shape[0]), fast=False)
    return dx_pad[:, :, ph:ph + x_shape[2], pw:pw + x_shape[3]]         # (N, C, H, W)


def _conv_lines(e, p):
    (sh, sw), (ph, pw) = e.stride, e.padding
    hh, ww = e.W.shape[2:]
    x_pad = np.pad(e.x, ((0, 0), (ph, ph), (pw, pw)))                   # (C, Hp, Wp)
    lines = [f"Forward: out[f,i,j] = b[f] + Σ_c,p,q W[f,c,p,q]·x̃[c, {sh}·i+p, {sw}·j+q]  (x "
             f"{e.x.shape}, W {e.W.shape}, stride {e.stride}, padding {e.padding})"]
    for f, i, j in np.ndindex(e.out.shape):
        window = x_pad[:, i * sh:i * sh + hh, j * sw:j * sw + ww]          # (C, HH, WW)
        terms = " + ".join(_term(w, v, p) for w, v in zip(e.W[f].ravel(), window.ravel()))
        lines.append(f"out[{f},{i},{j}] = {_num(e.b[f], p)} + ({terms}) = "
                     f"{_num(e.out[f, i, j], p)}")
    lines += ["", "Backward, for dout = ∂L/∂out:"]
    for f in range(e.W.shape[0]):
        terms = " + ".join(_paren(v, p) for v in e.dout[f].ravel())
        lines.append(f"db[{f}] = Σ_i,j dout[{f},i,j] = {terms} = {_num(e.db[f], p)}")
    lines.append(f"dW[f,c,p,q] = Σ_i,j dout[f,i,j]·x̃[c, {sh}·i+p, {sw}·j+q]   "
                 "(the padded input correlated with dout)")
    ho, wo = e.out.shape[1:]
    for f, c, a, q in np.ndindex(e.W.shape):
        patch = x_pad[c, a:a + sh * ho:sh, q:q + sw * wo:sw]             # (H', W')
        terms = " + ".join(_term(d, v, p) for d, v in zip(e.dout[f].ravel(), patch.ravel()))
        lines.append(f"dW[{f},{c},{a},{q}] = {terms} = {_num(e.dW[f, c, a, q], p)}")
    lines.append("dx[c,y,z] = Σ dout[f,i,j]·W[f,c,p,q] over the outputs whose window covers "
                 "(y, z): a full convolution of dout with the filters")
    lines += [_dx_line(e, c, y, z, p) for c, y, z in np.ndindex(e.x.shape)]
    same = np.allclose(e.dx_as_convolution, e.dx, rtol=1e-12, atol=1e-12)
    lines.append("As one convolution (dout spread by the stride, padded by HH−1, correlated with "
                 f"W rotated 180°, F and C swapped): {_grid(e.dx_as_convolution, p)} "
                 f"{'= dx' if same else '≠ dx (report this)'}")
    return lines


def _dx_line(e, c, y, z, p):
    """dx[c, y, z] as the sum of dout · W over the windows that cover input pixel (y, z)."""
    (sh, sw), (ph, pw), (hh, ww) = e.stride, e.padding, e.W.shape[2:]
    terms = []
    for f, i, j in np.ndindex(e.out.shape):
        a, q = y + ph - i * sh, z + pw - j * sw                            # tap under (y, z)
        if 0 <= a < hh and 0 <= q < ww:
            terms.append(_term(e.dout[f, i, j], e.W[f, c, a, q], p))
    return f"dx[{c},{y},{z}] = {' + '.join(terms) or '0 (no window covers it)'}" + \
        (f" = {_num(e.dx[c, y, z], p)}" if terms else "")


@dataclass(repr=False)
class PoolExplanation(_WorkedText):
    """Every number of one tiny max pool, forward and backward (float64; batch axis dropped).

    Attributes
    ----------
    x : ndarray of shape (C, H, W);  kernel, stride : (int, int)
    out, dout : ndarray of shape (C, H', W');  dx : ndarray of shape (C, H, W)
    argmax : list of (c, y, z)
        The input that is each output's maximum, in the order of ``out``'s entries.
    lines : list of str
    """
    x: np.ndarray
    kernel: tuple
    stride: tuple
    out: np.ndarray
    dout: np.ndarray
    dx: np.ndarray
    argmax: list
    lines: list = field(default_factory=list)


def explain_pool(x, kernel_size=2, stride=None, dout=None, precision=4):
    """Worked solution of a tiny max pool: each output the max of its window, each gradient
    routed to that maximum (the first in row-major order on ties, as PyTorch).

    Parameters
    ----------
    x : array_like of shape (H, W), (C, H, W) or (1, C, H, W)
    kernel_size, stride : int or (int, int); stride defaults to kernel_size
    dout : array_like of the output's shape (C, H', W'), optional; default ones
    precision : int, default 4

    Returns
    -------
    PoolExplanation
    """
    where = "explain_pool"
    x4 = _one_image(x, where)
    out, cache = F.max_pool2d_forward(x4, kernel_size, stride, fast=False)
    dout4 = np.ones_like(out) if dout is None else _image(dout, "dout", 2, where)
    dx = F.max_pool2d_backward(dout4, cache)                           # checks dout's shape
    kernel = pair(kernel_size, "kernel_size", 1, where)
    stride = kernel if stride is None else pair(stride, "stride", 1, where)
    e = PoolExplanation(x4[0], kernel, stride, out[0], dout4[0], dx[0], [])
    (kh, kw), (sh, sw) = kernel, stride
    e.lines = [f"Forward: out[c,i,j] = max of x[c, {sh}·i+p, {sw}·j+q] over the {kh}×{kw} "
               f"window  (x {e.x.shape}, stride {stride})"]
    for c, i, j in np.ndindex(e.out.shape):
        window = e.x[c, i * sh:i * sh + kh, j * sw:j * sw + kw]
        a, q = np.unravel_index(np.argmax(window), window.shape)          # first maximum
        e.argmax.append((c, i * sh + int(a), j * sw + int(q)))
        values = ", ".join(_num(v, precision) for v in window.ravel())
        e.lines.append(f"out[{c},{i},{j}] = max({values}) = {_num(e.out[c, i, j], precision)}"
                       f"  at x[{c},{i * sh + a},{j * sw + q}]")
    e.lines += ["", "Backward: each dout[c,i,j] goes to its window's maximum; every other input "
                "gets 0 (overlapping windows add up)"]
    for (c, i, j), (_, y, z) in zip(np.ndindex(e.out.shape), e.argmax):
        e.lines.append(f"dx[{c},{y},{z}] += dout[{c},{i},{j}] = "
                       f"{_num(e.dout[c, i, j], precision)}")
    e.lines.append(f"dx = {_grid(e.dx, precision)}")
    return e
