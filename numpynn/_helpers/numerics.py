"""Floating-point helpers shared by the kernels."""
import functools

import numpy as np


def underflow_to_zero(fn):
    """Decorator: run ``fn`` with floating-point underflow silenced.

    Exponentials such as e^(−1e4), and products of tiny numbers, flush to 0 (or a subnormal):
    that is the exact limit these kernels want, so it must not trip ``np.errstate(all="raise")``.
    Overflow, invalid and divide-by-zero still report.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(under="ignore"):
            return fn(*args, **kwargs)
    return wrapper
