"""Input checks at the public boundary, in one place.

Kernels in ``functional`` trust their arrays; constructors and entry points call these once.
Every message names the argument, what was expected, what came, and (where useful) the fix.
"""
import math
import numbers

import numpy as np


def _prefix(where):
    return f"{where}: " if where else ""


def _shown(value):
    """``value!r``, with NumPy scalars shown as the Python number they hold (3, not np.int64(3))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


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
    prefix = _prefix(where)
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


def check_cast(x, dtype, name, where=""):
    """Return the numeric array ``x`` cast to the float ``dtype``, refusing values it cannot hold.

    A float64 1e39 (or an int64 above 65504 for float16) would become inf in the cast, and the
    NaN check already behind it could not see it; such values are a ValueError naming the
    largest one. Only casts that can overflow pay for the two reductions (no temporary).

    >>> try:
    ...     check_cast(np.array([1e39]), np.float32, "x")
    ... except ValueError as err:
    ...     print(str(err).splitlines()[0])
    x holds values up to 1e+39 in magnitude, beyond float32's finite range (±3.4e+38)
    """
    dtype = np.dtype(dtype)
    limit = float(np.finfo(dtype).max)
    if x.dtype != dtype and x.size and _largest(x.dtype) > limit:
        biggest = max(abs(x.max().item()), abs(x.min().item()))  # Python numbers: no overflow
        if biggest > limit:
            raise ValueError(f"{_prefix(where)}{name} holds values up to {float(biggest):.3g} in "
                             f"magnitude, beyond {dtype.name}'s finite range (±{limit:.3g})"
                             "\nhelp: scale the input (numpynn.data.standardize), or use a "
                             "float64 model: model.astype(np.float64)")
    return x.astype(dtype, copy=False)


def _largest(dtype):
    """The largest magnitude a numeric dtype holds (0 for bool)."""
    if dtype.kind == "f":
        return float(np.finfo(dtype).max)
    return int(np.iinfo(dtype).max) if dtype.kind in "iu" else 0


def check_nonempty(x, name, where=""):
    """Raise unless the array ``x`` has at least one element: a mean over 0 samples is 0/0."""
    if x.size == 0:
        count = "0 samples" if x.ndim and x.shape[0] == 0 else "0 elements"
        raise ValueError(f"{_prefix(where)}{name} has {count} (shape {x.shape}); a loss is a mean "
                         "and needs at least one\nhelp: check the batch slicing (an empty last "
                         "batch?)")
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
    prefix = _prefix(where)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1 and y.dtype.kind in "biuf" and np.isin(y, (0, 1)).all():
        raise ValueError(f"{prefix}{name} has shape {y.shape} and holds only 0s and 1s: one-hot "
                         f"rows; expected (N,) class indices\nhelp: pass {name}.argmax(1)")
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and y.size and np.all(np.mod(y, 1) == 0):
            hint = f"\nhelp: the values are whole numbers; pass {name}.astype(np.int64)"
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


def check_unit_interval(x, name, where="", hint=""):
    """Return the array ``x`` if every entry lies in [0, 1] (probabilities, binary targets).

    ``hint`` is appended to the message, e.g. a ``help:`` line naming the alternative.
    """
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"{_prefix(where)}{name} must lie in [0, 1]; got values from {x.min()} "
                         f"to {x.max()}{hint}")
    return x


def check_same_shape(a, b, name_a, name_b, where=""):
    """Raise unless ``a`` and ``b`` have identical shapes (no silent broadcasting)."""
    if a.shape != b.shape:
        prefix = _prefix(where)
        hint = ""
        if a.ndim == b.ndim + 1 and a.shape[-1] == 1 and a.shape[:-1] == b.shape:
            hint = f"\nhelp: reshape {name_b} with {name_b}.reshape(-1, 1)"
        elif b.ndim == a.ndim + 1 and b.shape[-1] == 1 and b.shape[:-1] == a.shape:
            hint = f"\nhelp: reshape {name_b} with {name_b}.reshape(-1)"
        raise ValueError(f"{prefix}{name_b} has shape {b.shape}; expected {a.shape} "
                         f"(the shape of {name_a}){hint}")


def check_int(value, name, minimum=None, maximum=None, where=""):
    """Return ``value`` as an ``int`` after checking it is an integer in [minimum, maximum].

    Python and NumPy integers pass. A bool is a TypeError (in Python ``True`` is the integer 1,
    so it would pass silently), and so is any float, even an integral one like 3.0 (with a hint
    to convert it); a value out of bounds is a ValueError.

    Parameters
    ----------
    value : object
    name : str
        The argument's name, used in messages.
    minimum, maximum : int, optional
        Inclusive bounds; None leaves that side open.
    where : str
        Prefix naming the caller, e.g. ``"Linear(0, 3)"``.

    >>> check_int(np.int64(3), "n", minimum=1)
    3
    >>> check_int(0, "n_in", minimum=1, where="Linear(0, 3)")
    Traceback (most recent call last):
    ...
    ValueError: Linear(0, 3): n_in must be an integer >= 1; got 0
    """
    if minimum is not None and maximum is not None:
        expected = f"an integer in [{minimum}, {maximum}]"
    elif minimum is not None or maximum is not None:
        expected = f"an integer >= {minimum}" if minimum is not None else f"an integer <= {maximum}"
    else:
        expected = "an integer"
    message = f"{_prefix(where)}{name} must be {expected}; got {_shown(value)}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        whole = (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
                 and math.isfinite(value) and value == int(value))
        raise TypeError(message + (f"\nhelp: pass an int, {name}={int(value)}" if whole else ""))
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(message)
    return int(value)


def check_range(value, name, low=None, high=None, *, low_open=False, high_open=False, where=""):
    """Return ``value`` as a ``float`` after checking it is a real number, not NaN, in range.

    The range is [low, high], with ``low_open``/``high_open`` excluding an end; None leaves a
    side unbounded. NaN is always rejected (every comparison with NaN is False, so a plain
    ``value < low`` test lets it through); inf is rejected whenever a bound is given. A bool or
    a non-number is a TypeError, a number out of range a ValueError.

    Parameters
    ----------
    value : object
    name : str
        The argument's name, used in messages.
    low, high : float, optional
    low_open, high_open : bool, default False
        Exclude that end: ``low_open=True`` means ``value > low``.
    where : str
        Prefix naming the caller, e.g. ``"Dropout"``.

    >>> check_range(0.25, "p", 0, 1, high_open=True, where="Dropout")
    0.25
    >>> check_range(1.5, "p", 0, 1, high_open=True, where="Dropout")
    Traceback (most recent call last):
    ...
    ValueError: Dropout: p must be in [0, 1); got 1.5
    """
    if low is not None and high is not None:
        expected = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        expected = f"a finite number {'>' if low_open else '>='} {low}"
    elif high is not None:
        expected = f"a finite number {'<' if high_open else '<='} {high}"
    else:
        expected = "a real number, not NaN"
    message = f"{_prefix(where)}{name} must be {expected}; got {_shown(value)}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(message)
    value = float(value)
    bounded = low is not None or high is not None
    if (math.isnan(value) or (bounded and math.isinf(value))
            or (low is not None and (value <= low if low_open else value < low))
            or (high is not None and (value >= high if high_open else value > high))):
        raise ValueError(message)
    return value


def check_positive(value, name, allow_zero=False, where=""):
    """Return ``value`` if it is a finite real number > 0 (>= 0 with ``allow_zero``).

    :func:`check_range` in PyTorch's words, ``Invalid lr: -0.1 (expected > 0)``: a bool or a
    non-number is a TypeError; NaN, inf or a number out of range a ValueError.
    """
    bound = ">= 0" if allow_zero else "> 0"
    try:
        check_range(value, name, low=0, low_open=not allow_zero, where=where)
    except ValueError:
        finite = "" if math.isfinite(value) else "a finite number "
        raise ValueError(f"{_prefix(where)}Invalid {name}: {value} (expected {finite}{bound})") \
            from None
    return value


def as_generator(rng):
    """Return a ``numpy.random.Generator`` from a Generator, an int seed or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy.random.Generator or None; got {rng!r}")


def choose(name, table, kind, where=""):
    """Look ``name`` up in a registry ``table``; unknown names list the choices.

    >>> choose("xavir", {"zeros": 0, "xavier_uniform": 1}, "init", where="Linear(4, 3)")
    Traceback (most recent call last):
    ...
    ValueError: Linear(4, 3): unknown init 'xavir'; choose one of: zeros, xavier_uniform
    """
    try:
        return table[name]
    except (KeyError, TypeError):
        raise ValueError(f"{_prefix(where)}unknown {kind} {name!r}; choose one of: "
                         f"{', '.join(table)}") from None
