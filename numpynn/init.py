"""Weight initialisation by name or callable.

For a weight matrix of shape (fan_in, fan_out):

=================  ==========================================================  =====================
name               distribution                                                 reference
=================  ==========================================================  =====================
``zeros``          W = 0
``normal``         N(0, std²), std = 0.01 by default (CS231n's ``weight_scale``)
``xavier_uniform`` U(−a, a), a = √(6 / (fan_in + fan_out))                     Glorot & Bengio, 2010
``xavier_normal``  N(0, 2 / (fan_in + fan_out))                                Glorot & Bengio, 2010
``he_normal``      N(0, 2 / fan_in)                                            He et al., 2015
``he_uniform``     U(−a, a), a = √(6 / fan_in)                                 He et al., 2015
``lecun_normal``   N(0, 1 / fan_in)                                            LeCun et al., 1998
=================  ==========================================================  =====================

Biases always start at zero. A callable ``init(shape, rng) -> ndarray`` may be given instead of a
name. Every initialiser draws from the ``numpy.random.Generator`` it is given, so the same seed
gives the same network.
"""
import numpy as np

from numpynn._helpers.validation import as_generator, check_range, choose

DEFAULT_NORMAL_STD = 0.01  # CS231n's weight_scale


def _fans(shape):
    """(fan_in, fan_out) of a weight of shape (D, M) (or (D, ...))."""
    fan_in = shape[0]
    fan_out = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    return fan_in, fan_out


def zeros(shape, rng):
    return np.zeros(shape)


def normal(shape, rng, std=DEFAULT_NORMAL_STD):
    return rng.normal(0.0, std, size=shape)


def xavier_uniform(shape, rng):
    fan_in, fan_out = _fans(shape)
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)


def xavier_normal(shape, rng):
    fan_in, fan_out = _fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)


def he_normal(shape, rng):
    return rng.normal(0.0, np.sqrt(2.0 / _fans(shape)[0]), size=shape)


def he_uniform(shape, rng):
    bound = np.sqrt(6.0 / _fans(shape)[0])
    return rng.uniform(-bound, bound, size=shape)


def lecun_normal(shape, rng):
    return rng.normal(0.0, np.sqrt(1.0 / _fans(shape)[0]), size=shape)


INITIALIZERS = {
    "zeros": zeros,
    "normal": normal,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "lecun_normal": lecun_normal,
}


def initialize(init, shape, rng=None, dtype=np.float32, std=None, where="initialize"):
    """Draw an initial weight array.

    Parameters
    ----------
    init : str or callable
        A name from :data:`INITIALIZERS` or ``init(shape, rng) -> array_like``.
    shape : tuple of int
        Usually (fan_in, fan_out) = (D, M).
    rng : int, numpy.random.Generator or None
    dtype : numpy dtype
    std : float, optional
        Standard deviation for ``"normal"`` (default 0.01).
    where : str
        The caller, named in errors: ``Linear(4, 3): unknown init 'xavir'; choose one of: ...``.

    Returns
    -------
    ndarray of the given shape and dtype

    >>> initialize("xavier_uniform", (4, 3), rng=0).shape
    (4, 3)
    """
    rng = as_generator(rng)
    if callable(init):
        values = init(shape, rng)
    else:
        fn = choose(init, INITIALIZERS, "init", where=where)
        if std is not None:
            check_range(std, "std", 0, where=where)  # NaN would make every weight NaN
        values = fn(shape, rng, std=std) if (fn is normal and std is not None) else fn(shape, rng)
    values = np.asarray(values)
    if values.shape != tuple(shape):
        raise ValueError(f"{where}: init {getattr(init, '__name__', init)!r} returned shape "
                         f"{values.shape}; expected {tuple(shape)}")
    return values.astype(dtype, copy=False)
