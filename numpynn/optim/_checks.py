"""Argument converters and checks shared by optimizers and schedules.

A converter takes one value and returns it converted; its error says what it expected, and
:func:`converted` prefixes it with the caller and the hyper-parameter's name
(``StepLR: step_size: expected an integer; got 1.5``).
"""
import numpy as np

from numpynn._helpers.validation import check_array, check_int, check_positive, check_range


def _real(value):
    """A float from a real number (not a bool); NaN is an error, inf passes (a plateau's
    ``best`` starts at inf)."""
    return _phrased(check_range, value, "a real number, not NaN")


def _count(value):
    """An int from a Python or NumPy integer (not a bool, not a float)."""
    return _phrased(check_int, value, "an integer")


def _phrased(check, value, expected):
    """``check(value)``, its error phrased for the ``"where: name: "`` prefix of
    :func:`converted`."""
    try:
        return check(value, "value")
    except (TypeError, ValueError) as err:
        raise type(err)(f"expected {expected}; got {value!r}") from None


def _flag(value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"expected True or False; got {value!r}")
    return bool(value)


def _pair(value):
    values = tuple(_real(v) for v in value)
    if len(values) != 2:
        raise ValueError(f"expected a pair (beta1, beta2); got {value!r}")
    return values


def _plain(value):
    """0-d arrays and NumPy scalars (from ``np.load``) -> Python scalars; arrays unchanged."""
    if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
        return value.item()
    return value


def _check_nonnegative(value, what, where):
    """PyTorch's words: ``Invalid momentum value: -0.1``."""
    check_positive(value, what, allow_zero=True, where=where)


def _key_mismatch(expected, got, problem, where, help_line):
    """A ValueError listing the keys missing from ``got`` and those it should not have."""
    missing = [k for k in expected if k not in got]
    unknown = [k for k in got if k not in expected]
    return ValueError(f"{where}: {problem}; missing: {missing}, unknown: {unknown}\n"
                      f"help: {help_line}")


def _check_params(params, where):
    """Return a shallow copy of ``params`` after checking it maps str -> writable float array."""
    if not isinstance(params, dict) or not params:
        raise TypeError(f"{where}: params must be a non-empty dict of name -> ndarray; got "
                        f"{params!r:.80}\nhelp: pass model.params(), or {{'x': x}} to minimise "
                        "a function of the array x")
    owners = {}
    for key, p in params.items():
        if not isinstance(key, str):
            raise TypeError(f"{where}: params keys must be str; got {key!r}")
        if not isinstance(p, np.ndarray):
            raise TypeError(f"{where}: params[{key!r}] must be a numpy array (it is updated in "
                            f"place); got {type(p).__name__}\nhelp: x = np.array(..., "
                            "dtype=np.float64) and keep the reference")
        check_array(p, f"params[{key!r}]", where=where)
        if not p.flags.writeable:
            raise ValueError(f"{where}: params[{key!r}] is read-only; optimizers update "
                             "parameters in place\nhelp: pass a writable copy, x.copy(); for a "
                             "layer inside a Sequential (which moved its arrays into one "
                             "packed buffer), pass model.params()")
        if id(p) in owners:
            raise ValueError(f"{where}: params[{key!r}] is the same array as "
                             f"params[{owners[id(p)]!r}]; it would be updated twice per step")
        owners[id(p)] = key
    return dict(params)


def converted(table, values, where):
    """``{name: convert(values[name])}`` for each ``name -> convert`` in ``table``; a bad value
    raises its converter's error prefixed with ``where`` and the name."""
    out = {}
    for name, convert in table.items():
        try:
            out[name] = convert(values[name])
        except (TypeError, ValueError) as err:
            raise type(err)(f"{where}: {name}: {err}") from None
    return out


def set_hyper(obj, hyper, where):
    """Convert each ``hyper[name]`` with ``obj.hyper[name]`` (see :func:`converted`) and set it
    on ``obj``."""
    for name, value in converted(obj.hyper, hyper, where).items():
        setattr(obj, name, value)
