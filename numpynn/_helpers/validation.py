"""Input checks at the public boundary, in one place.

Kernels in ``functional`` trust their arrays; constructors and entry points call these once.
Every message names the argument, what was expected, what came, and (where useful) the fix.
"""
import numbers

import numpy as np


def check_array(x, name, ndim=None, dtype_kind="f", finite=True, where=""):
    """Return ``x`` as an ndarray after checking type, rank, dtype kind and finiteness.

    Parameters
    ----------
    x : array_like
    name : str
        The argument's name, used in messages.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    dtype_kind : str
        Allowed ``dtype.kind`` letters: ``"f"`` floats, ``"iu"`` integers, ``"fiu"`` either.
    finite : bool
        Reject NaN and inf.
    where : str
        Prefix naming the caller, e.g. ``"Linear(4, 3).forward"``.
    """
    prefix = f"{where}: " if where else ""
    if isinstance(x, (list, tuple)) or np.isscalar(x):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{prefix}{name} must be a numpy array; got {type(x).__name__}")
    if x.dtype.kind not in dtype_kind:
        wanted = {"f": "floating", "iu": "integer", "fiu": "numeric"}.get(dtype_kind, dtype_kind)
        raise TypeError(f"{prefix}{name} must have a {wanted} dtype; got {x.dtype}"
                        + ("\nhelp: convert with x.astype(np.float32)" if "f" in dtype_kind else ""))
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            raise ValueError(f"{prefix}{name} has shape {x.shape}; expected "
                             f"{' or '.join(f'{d}-D' for d in allowed)} array")
    if finite and x.dtype.kind == "f" and not all_finite(x):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise ValueError(f"{prefix}{name} contains {bad} NaN or inf value(s)")
    return x


def all_finite(x):
    """True when the float array ``x`` holds no NaN or inf, without a temporary of x's size.

    A sum is NaN or inf whenever an entry is, so one pass of ``np.add.reduce`` answers for
    almost every array (``np.isfinite(x).all()`` would first allocate a boolean copy: 47 MB
    for Fashion-MNIST's training images). Only when the sum itself overflows are the entries
    checked one by one.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(x, axis=None)):
            return True
    return bool(np.isfinite(x).all())


def check_labels(y, n_classes, name="labels", n_samples=None, where=""):
    """Return integer class labels ``y`` of shape (N,) with values in ``[0, n_classes)``."""
    prefix = f"{where}: " if where else ""
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and y.size and np.all(np.mod(y, 1) == 0):
            hint = "\nhelp: the values are whole numbers; pass y.astype(np.int64)"
        else:
            hint = ""
        raise TypeError(f"{prefix}{name} must be integer class indices; got dtype {y.dtype}{hint}")
    if y.ndim != 1:
        raise ValueError(f"{prefix}{name} has shape {y.shape}; expected (N,) class indices")
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(f"{prefix}{name} has {y.shape[0]} entries; expected {n_samples} "
                         "(one per sample)")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{prefix}{name} must lie in [0, {n_classes}); got values from "
                         f"{y.min()} to {y.max()}")
    return y


def check_same_shape(a, b, name_a, name_b, where=""):
    """Raise unless ``a`` and ``b`` have identical shapes (no silent broadcasting)."""
    if a.shape != b.shape:
        prefix = f"{where}: " if where else ""
        hint = ""
        if a.ndim == b.ndim + 1 and a.shape[-1] == 1 and a.shape[:-1] == b.shape:
            hint = f"\nhelp: reshape {name_b} with {name_b}.reshape(-1, 1)"
        elif b.ndim == a.ndim + 1 and b.shape[-1] == 1 and b.shape[:-1] == a.shape:
            hint = f"\nhelp: reshape {name_b} with {name_b}.reshape(-1)"
        raise ValueError(f"{prefix}{name_b} has shape {b.shape}; expected {a.shape} "
                         f"(the shape of {name_a}){hint}")


def check_positive(value, name, allow_zero=False, where=""):
    """Return ``value`` if it is a real number > 0 (or >= 0 with ``allow_zero``)."""
    prefix = f"{where}: " if where else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{prefix}{name} must be a finite number; got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{prefix}Invalid {name}: {value} (expected {bound})")
    return value


def check_probability(value, name, where=""):
    """Return ``value`` if it is a number in [0, 1)."""
    prefix = f"{where}: " if where else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{prefix}{name} must be a probability in [0, 1); got {value!r}")
    return value


def as_generator(rng):
    """Return a ``numpy.random.Generator`` from a Generator, an int seed or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy.random.Generator or None; got {rng!r}")


def choose(name, table, kind):
    """Look ``name`` up in a registry ``table``; unknown names list the choices."""
    try:
        return table[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {kind} {name!r}; choose one of: {', '.join(table)}") from None
