"""Special functions NumPy lacks: erf and erfc to double precision (vectorised).

Used by the exact GELU in :mod:`numpynn.functional` (scipy is not a dependency).
"""
import math

import numpy as np

from numpynn._helpers.numerics import underflow_to_zero

# --- erf / erfc ---------------------------------------------------------------------------------
# W. J. Cody, "Rational Chebyshev approximations for the error function",
# Math. Comp. 23 (1969) 631-637; coefficients as in SPECFUN's CALERF (netlib.org/specfun/erf).
# Each list is highest degree first, for _horner.
_ERF_SMALL = 0.46875  # |x| <= this: erf(x) = x·A(x²)/B(x²)
_ERF_MID = 4.0        # 0.46875 < |x| <= 4: erfc(x) = e^(−x²)·C(x)/D(x); beyond: asymptotic P/Q
_ERFC_ZERO = 30.0     # erfc(30) ~ 1e-393 is below every subnormal: clip here so x² stays finite
_A = [1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
      3.77485237685302021e02, 3.20937758913846947e03]
_B = [1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03]
_C = [2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
      6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
      1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03]
_D = [1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03]
_P = [1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
      1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4]
_Q = [1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3]
_INV_SQRT_PI = 1 / math.sqrt(math.pi)


def _horner(coeffs, t):
    """Polynomial Σ_k coeffs[k]·t^(n−k); Python-float coefficients keep ``t``'s dtype."""
    out = np.full_like(t, coeffs[0])
    for c in coeffs[1:]:
        out *= t
        out += c
    return out


def _as_float(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _erf_small(x):
    """erf(x) for |x| <= 0.46875."""
    t = x * x
    return x * _horner(_A, t) / _horner(_B, t)


def _erfc_large(a):
    """erfc(a) for a > 0.46875, to ~1e-16 relative (also in the far tail)."""
    a = np.minimum(a, _ERFC_ZERO)
    r = np.empty_like(a)
    mid = a <= _ERF_MID
    am, at = a[mid], a[~mid]
    r[mid] = _horner(_C, am) / _horner(_D, am)
    z = 1 / (at * at)
    r[~mid] = (_INV_SQRT_PI - z * _horner(_P, z) / _horner(_Q, z)) / at
    # e^(−a²) = e^(−s²)·e^(−(a−s)(a+s)) with s = ⌊16a⌋/16: s² is exact, so the rounding error of a²
    # is not magnified by the steep exponential (Cody's trick).
    s = np.trunc(16 * a) / 16
    return np.exp(-s * s) * np.exp(-(a - s) * (a + s)) * r


@underflow_to_zero
def erf(x):
    """Error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, elementwise (Cody's rational approximations).

    Parameters
    ----------
    x : array_like of any shape
        Floating input keeps its dtype; integers become float64.

    Returns
    -------
    ndarray of x's shape: relative error about 1e-16 in float64.

    >>> float(erf(0.5))
    0.5204998778130465
    """
    x = _as_float(x)
    a = np.abs(x)
    out = np.empty_like(a)
    small = a <= _ERF_SMALL
    big = ~small
    out[small] = _erf_small(x[small])
    out[big] = np.copysign(1 - _erfc_large(a[big]), x[big])
    return out


@underflow_to_zero
def erfc(x):
    """Complementary error function erfc(x) = 1 − erf(x), accurate in relative terms for x ≫ 0.

    ``x`` : array_like of any shape; returns an ndarray of x's shape (float dtype kept).

    >>> f"{float(erfc(10.0)):.12e}"  # 1 − erf(10) would give 0.0
    '2.088487583763e-45'
    """
    x = _as_float(x)
    a = np.abs(x)
    out = np.empty_like(a)
    small = a <= _ERF_SMALL
    big = ~small
    out[small] = 1 - _erf_small(x[small])
    r = _erfc_large(a[big])
    out[big] = np.where(x[big] < 0, 2 - r, r)  # erfc(−a) = 2 − erfc(a)
    return out
