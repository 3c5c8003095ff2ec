"""``y += alpha * x`` in one multithreaded pass (BLAS's ``axpy``) and the outer product
``x yᵀ`` (``gemm`` with an inner dimension of 1), from the library NumPy ships.

Why: an SGD step is ``p -= lr * g`` over every weight. In NumPy that is two passes on one core
(``lr * g`` into a temporary, then the subtraction), while the matrix products before it ran on
all of BLAS's threads and left half of the gradient in another core's cache. BLAS's ``axpy``
(``y <- alpha x + y``) does the same update in one fused pass, split over the same threads:
on the benchmark MLP's 200k first-layer weights, 24 µs against 105 µs for NumPy's two passes
(see docs/performance.md for what it saves per epoch).

Where: NumPy's wheels bundle OpenBLAS (``numpy.libs/libscipy_openblas64_*.so`` on Linux,
``numpy/.dylibs`` on macOS). :func:`axpy` calls it through ctypes when it is found and passes
a self-check on import; otherwise (a NumPy built on MKL or a system BLAS, an unknown layout)
it falls back to the two NumPy passes. The two differ by at most one rounding per entry:
BLAS rounds once (a fused multiply-add, exactly what PyTorch's ``add_(g, alpha=-lr)``
computes), NumPy twice. ``NUMPYNN_BLAS=numpy`` in the environment forces the fallback;
:data:`BACKEND` (``"blas"`` or ``"numpy"``) says which one runs.

The thread count is BLAS's own, so ``numpynn.threads.set_threads`` governs it too; OpenBLAS
splits an ``axpy`` over its threads above 10,000 elements.

:func:`outer` is the weight gradient of a one-sample batch, ``dW = xᵀ·dout`` with x of shape
(1, D): NumPy's ``matmul`` does not hand a product whose inner dimension is 1 to BLAS and
runs its own triple loop instead (620 µs for the benchmark MLP's (784, 1)·(1, 256), against
51 µs for ``sgemm`` with k = 1). Every entry is one product ``x_i·y_j``, rounded once, so the
two give the same bits. Below :data:`OUTER_BLAS_MIN` entries (and without BLAS) NumPy's
broadcast multiply computes it, also the same bits: there the ctypes call costs more than
the product (64×10: 9.5 µs through BLAS, 2.5 µs broadcast; 784×256: 50 against 160 µs).
"""
import ctypes
import glob
import os

import numpy as np

from numpynn._speed.aligned import address

# name patterns of NumPy's bundled OpenBLAS: scipy-openblas (NumPy >= 2) and openblas (1.x)
_LIBRARY_GLOBS = ("../numpy.libs/*openblas*", ".dylibs/*openblas*")
# (symbol prefix, suffix, integer type): the "64_" builds take 64-bit sizes and strides
_SYMBOLS = (("scipy_cblas_", "64_", ctypes.c_int64), ("cblas_", "64_", ctypes.c_int64),
            ("scipy_cblas_", "", ctypes.c_int), ("cblas_", "", ctypes.c_int))
_ROW_MAJOR, _NO_TRANS = 101, 111   # CBLAS's enums
# dtype -> (BLAS letter, C type of alpha)
_LETTER = {np.dtype(np.float32): ("s", ctypes.c_float),
           np.dtype(np.float64): ("d", ctypes.c_double)}


def _library():
    """ctypes handle of the OpenBLAS inside NumPy's installation, or None."""
    root = os.path.dirname(np.__file__)
    for pattern in _LIBRARY_GLOBS:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    return None


def _routine(library, name, argtypes):
    """``cblas_<name>`` with its argument types, ``argtypes(integer type)``, or None."""
    for prefix, suffix, integer in _SYMBOLS:
        routine = getattr(library, f"{prefix}{name}{suffix}", None)
        if routine is not None:
            routine.argtypes = argtypes(integer)
            routine.restype = None
            return routine
    return None


def _axpy_args(real):
    return lambda i: [i, real, ctypes.c_void_p, i, ctypes.c_void_p, i]


def _gemm_args(real):   # order, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc
    return lambda i: [ctypes.c_int] * 3 + [i] * 3 + [real, ctypes.c_void_p, i,
                                                     ctypes.c_void_p, i, real, ctypes.c_void_p, i]


def _self_check(routine, dtype, real):
    """True when ``routine`` computes ``y + alpha x`` (to rounding) on a threaded length."""
    alpha, x = dtype.type(-0.375), np.linspace(-1, 1, 20_011, dtype=dtype)
    y = np.cos(np.arange(x.size, dtype=dtype))
    expected, scale = y + alpha * x, np.abs(y) + np.abs(alpha * x)
    routine(x.size, real(alpha), address(x), 1, address(y), 1)
    return bool(np.all(np.abs(y - expected) <= 2 * np.finfo(dtype).eps * scale))


def _gemm_outer(routine, x, y, out):
    m, n = out.shape   # out (m, n) = x (m, 1) · y (1, n), beta = 0: every entry x_i·y_j
    routine(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, m, n, 1, 1.0, address(x), 1, address(y), n, 0.0,
            address(out), n)


def _outer_check(routine, dtype, real):
    """True when ``routine`` (``?gemm``) computes the outer product exactly (one rounding)."""
    x, y = np.linspace(-1, 1, 37, dtype=dtype), np.cos(np.arange(53, dtype=dtype))
    out = np.empty((37, 53), dtype)
    _gemm_outer(routine, x, y, out)
    return bool(np.array_equal(out, np.multiply(x[:, None], y)))


# NumPy's OpenBLAS, found once; None when it is not found or not wanted (NUMPYNN_BLAS=numpy)
_LIBRARY = None if os.environ.get("NUMPYNN_BLAS", "").lower() == "numpy" else _library()


def _find_routines(name, argtypes, check):
    """dtype -> checked routine ``?<name>``; empty without :data:`_LIBRARY`."""
    if _LIBRARY is None:
        return {}
    routines = {}
    for dtype, (letter, real) in _LETTER.items():
        routine = _routine(_LIBRARY, letter + name, argtypes(real))
        if routine is not None and check(routine, dtype, real):
            routines[dtype] = routine
    return routines


_ROUTINES = _find_routines("axpy", _axpy_args, _self_check)
_GEMM = _find_routines("gemm", _gemm_args, _outer_check)
BACKEND = "blas" if _ROUTINES else "numpy"


def _thread_routines():
    """(get, set) of the thread count of NumPy's OpenBLAS, or (None, None)."""
    if _LIBRARY is None:
        return None, None
    get, put = (getattr(_LIBRARY, f"scipy_openblas_{verb}_num_threads64_", None)
                or getattr(_LIBRARY, f"openblas_{verb}_num_threads", None)
                for verb in ("get", "set"))
    if get is None or put is None:
        return None, None
    get.restype, get.argtypes, put.restype, put.argtypes = ctypes.c_int, [], None, [ctypes.c_int]
    return get, put


_GET_THREADS, _SET_THREADS = _thread_routines()


def get_threads():
    """The thread count of NumPy's OpenBLAS, or None when it is not found."""
    return _GET_THREADS() if _GET_THREADS is not None else None


def set_threads(n):
    """Set the thread count of NumPy's OpenBLAS (about 1 µs, against 1 ms for threadpoolctl's
    context manager); does nothing when it is not found."""
    if _SET_THREADS is not None:
        _SET_THREADS(n)


OUTER_BLAS_MIN = 16_384   # entries of an outer product from which BLAS's gemm beats NumPy's


def axpy(alpha, x, y, tmp):
    """``y += alpha * x`` in place; returns ``y``.

    Parameters
    ----------
    alpha : float
    x : ndarray
        Same shape and dtype as ``y``; only read, must not overlap ``y``.
    y : ndarray
        Updated in place.
    tmp : ndarray
        Scratch shaped like ``y`` for the NumPy fallback (``alpha * x`` goes there); may be
        ``x`` itself when ``x`` is no longer needed.

    Examples
    --------
    >>> y, tmp = np.ones(3, np.float32), np.empty(3, np.float32)
    >>> axpy(-0.5, np.arange(3, dtype=np.float32), y, tmp)
    array([1. , 0.5, 0. ], dtype=float32)
    """
    routine = _ROUTINES.get(y.dtype)
    if (routine is not None and x.dtype == y.dtype and x.shape == y.shape
            and x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable):
        routine(y.size, alpha, address(x), 1, address(y), 1)
        return y
    y -= np.multiply(x, -alpha, out=tmp)
    return y


def outer(x, y, out):
    """``out = x yᵀ``: the outer product of two contiguous vectors, into ``out``; returns it.

    Parameters
    ----------
    x : ndarray of shape (M,) (or any shape of M entries, e.g. a (1, M) row)
    y : ndarray of shape (N,) (or a (1, N) row), x's dtype
    out : ndarray of shape (M, N), C-contiguous, x's dtype

    Examples
    --------
    >>> outer(np.array([1., 2.]), np.array([3., 4., 5.]), np.empty((2, 3)))
    array([[ 3.,  4.,  5.],
           [ 6.,  8., 10.]])
    """
    routine = _GEMM.get(out.dtype) if out.size >= OUTER_BLAS_MIN else None
    if (routine is not None and x.dtype == y.dtype == out.dtype and x.flags.c_contiguous
            and y.flags.c_contiguous and out.flags.c_contiguous and out.flags.writeable):
        _gemm_outer(routine, x, y, out)
        return out
    return np.multiply(x.reshape(-1, 1), y.reshape(1, -1), out=out)   # (M, 1) * (1, N)
