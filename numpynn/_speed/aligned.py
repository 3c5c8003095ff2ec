"""Arrays that start on a 64-byte boundary, as PyTorch's do (``c10::alloc_cpu``).

Why: NumPy takes its memory from ``malloc``, which on glibc returns addresses 16 bytes past a
64-byte cache line. AVX-512 loads and stores move 64 bytes at a time, so on such an array
every full-width access straddles two cache lines.

Where: the arrays made once and used every step -- the packed parameter and gradient vectors
(``Sequential``), optimizer state and scratch, and the Trainer's batch buffers. The layers'
outputs stay NumPy's own: aligning a fresh array costs a few µs (finding its address), as much
as aligning it saves (docs/performance.md has the measurements).

>>> a = empty((3, 5), np.float32)
>>> a.shape, a.dtype, address(a) % ALIGNMENT
((3, 5), dtype('float32'), 0)
"""
import math

import numpy as np

ALIGNMENT = 64   # bytes: one cache line, one AVX-512 register


def address(a):
    """The memory address of ``a``'s first element."""
    return a.__array_interface__["data"][0]


def empty(shape, dtype=np.float64):
    """Like ``np.empty``, starting on an :data:`ALIGNMENT`-byte boundary.

    The array is a view into a slightly larger byte buffer (its ``base``); it is C-contiguous
    and writeable like any other. (An array of size 0 has no data, and no alignment.)
    """
    dtype, shape = np.dtype(dtype), (shape,) if isinstance(shape, int) else tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + ALIGNMENT, dtype=np.uint8)
    skip = -address(raw) % ALIGNMENT
    return raw[skip:skip + nbytes].view(dtype).reshape(shape)


def empty_like(a):
    """:func:`empty` with ``a``'s shape and dtype."""
    return empty(a.shape, a.dtype)


def copy(a):
    """An aligned copy of ``a`` (C order)."""
    out = empty_like(a)
    out[...] = a
    return out


def zeros_like(a):
    """:func:`empty_like` filled with zeros."""
    out = empty_like(a)
    out[...] = 0
    return out


def full_like(a, value):
    """:func:`empty_like` filled with ``value``."""
    out = empty_like(a)
    out[...] = value
    return out
