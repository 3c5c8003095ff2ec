"""``y += alpha * x`` in one multithreaded pass: BLAS's ``axpy``, from the library NumPy ships.

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


def _routine(library, letter, real):
    """``cblas_?axpy`` for one dtype letter with its argument types, or None."""
    for prefix, suffix, integer in _SYMBOLS:
        routine = getattr(library, f"{prefix}{letter}axpy{suffix}", None)
        if routine is not None:
            routine.argtypes = [integer, real, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
            routine.restype = None
            return routine
    return None


def _self_check(routine, dtype, real):
    """True when ``routine`` computes ``y + alpha x`` (to rounding) on a threaded length."""
    alpha, x = dtype.type(-0.375), np.linspace(-1, 1, 20_011, dtype=dtype)
    y = np.cos(np.arange(x.size, dtype=dtype))
    expected, scale = y + alpha * x, np.abs(y) + np.abs(alpha * x)
    routine(x.size, real(alpha), address(x), 1, address(y), 1)
    return bool(np.all(np.abs(y - expected) <= 2 * np.finfo(dtype).eps * scale))


def _find_routines():
    """dtype -> checked ``?axpy`` routine; empty when NumPy's BLAS is not found or not wanted."""
    if os.environ.get("NUMPYNN_BLAS", "").lower() == "numpy":
        return {}
    library = _library()
    routines = {}
    for dtype, (letter, real) in _LETTER.items():
        routine = _routine(library, letter, real) if library is not None else None
        if routine is not None and _self_check(routine, dtype, real):
            routines[dtype] = routine
    return routines


_ROUTINES = _find_routines()
BACKEND = "blas" if _ROUTINES else "numpy"


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
