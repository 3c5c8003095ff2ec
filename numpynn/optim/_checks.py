"""Argument converters and checks shared by optimizers and schedules."""
import numbers

import numpy as np

from numpynn._helpers.validation import check_array, check_positive


def _real(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected a real number; got {value!r}")
    return float(value)


def _count(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"expected an integer; got {value!r}")
    return int(value)


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


def set_hyper(obj, hyper, where):
    """Convert each ``hyper[name]`` with ``obj.hyper[name]`` and set it on ``obj``; a bad value
    raises its converter's error prefixed with ``where`` and the name."""
    for name, convert in obj.hyper.items():
        try:
            setattr(obj, name, convert(hyper[name]))
        except (TypeError, ValueError) as err:
            raise type(err)(f"{where}: {name}: {err}") from None
