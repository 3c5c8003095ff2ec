"""``RunConfig``: every setting of one training run, typed, validated in one place.

The ``numpynn train`` flags map one-to-one onto its fields; a run folder's ``config.toml`` is
:meth:`RunConfig.to_toml` and reads back with :meth:`RunConfig.from_toml`. Precedence when the
command builds one: the defaults below, then ``--config FILE``, then the flags given explicitly.

>>> cfg = RunConfig(hidden=(32,), epochs=5)
>>> RunConfig.from_toml_text(cfg.to_toml()) == cfg
True
"""
import dataclasses
import functools
import json
import math
import numbers
import sys
from dataclasses import dataclass, fields

from numpynn import data
from numpynn._helpers.validation import choose
from numpynn.init import INITIALIZERS
from numpynn.models import ACTIVATION_CHOICES, HEADS
from numpynn.optim import OPTIMIZERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser as the tomli package (a core dependency there)
    import tomli as tomllib


def _identity(X_train, *others):
    return (X_train, *others)


# name -> f(X_train, *others) -> the same arrays, preprocessed with X_train's statistics only
PREPROCESSING = {
    "feature": functools.partial(data.standardize, per_feature=True),   # one μ, σ per pixel
    "global": functools.partial(data.standardize, per_feature=False),   # one μ, σ overall
    "mean_image": data.subtract_mean_image,                             # CS231n's x − mean image
    "none": _identity,
}


@dataclass
class RunConfig:
    """Settings of one ``numpynn train`` run (the flag ``--name-with-dashes`` sets ``name_with_dashes``).

    Attributes
    ----------
    dataset : str
        A key of :data:`numpynn.data.DATASETS`.
    n_train : int or None
        Train on a seeded random subset of this many training samples (quick runs).
    val_fraction : float in [0, 1)
        Share of the training set held out for validation (0: no validation set).
    standardize : str
        A key of :data:`PREPROCESSING`, fitted on the training part only.
    hidden : tuple of int
        Hidden layer widths; ``()`` gives a linear (logistic/softmax) model.
    activation : str
        A key of :data:`numpynn.functional.ACTIVATIONS`, or ``"linear"``/``"none"`` for none.
    loss : str
        ``"auto"`` or a key of :data:`numpynn.models.HEADS` (which also fixes the output layer).
    init : str
        A key of :data:`numpynn.init.INITIALIZERS`, for every Linear layer.
    dropout : float in [0, 1)
    batchnorm : bool
    optimizer : str
        A key of :data:`numpynn.optim.OPTIMIZERS`.
    lr, momentum : float
    weight_decay : float or None
        The optimizer's own decay; None keeps its default (AdamW 0.01, the others 0).
    reg : float
        The courses' L2: ``½·reg·Σ‖W‖²`` added to the loss (weights only, not biases).
    lr_decay : float in (0, 1]
        ExponentialLR's γ per epoch.
    epochs, batch_size : int
    early_stopping : int or None
        Patience in epochs on ``val_loss`` (best weights restored); None: off.
    seed : int
        Seeds the split, the initial weights, dropout and the shuffling.
    """

    # -- data ------------------------------------------------------------------------------
    dataset: str = "digits"  # 8×8 digits ship with scikit-learn: the default run needs no files
    n_train: int | None = None
    val_fraction: float = 0.1
    standardize: str = "feature"  # digits' border pixels are nearly constant: per-pixel helps
    # -- model -----------------------------------------------------------------------------
    hidden: tuple = (64,)
    activation: str = "relu"
    loss: str = "auto"  # softmax cross-entropy for multiclass data, sigmoid + BCE for binary
    init: str = "he_normal"  # variance 2/fan_in keeps ReLU activations at scale (He et al.)
    dropout: float = 0.0
    batchnorm: bool = False
    # -- optimisation ----------------------------------------------------------------------
    optimizer: str = "adam"  # Adam at 1e-3 needs no tuning; trains digits in ~20 epochs
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float | None = None
    reg: float = 0.0
    lr_decay: float = 1.0  # 1.0: constant rate. No default depends on the total epoch count,
    epochs: int = 20       # so "3 epochs, then --resume to 6" equals "6 epochs" bit for bit.
    batch_size: int = 32
    early_stopping: int | None = None
    seed: int = 0

    def __post_init__(self):
        self.hidden = _as_hidden(self.hidden)
        for f in fields(self):
            setattr(self, f.name, _coerce(f.name, getattr(self, f.name), _TYPES[f.name]))
        self.validate()

    # -- validation ------------------------------------------------------------------------
    def validate(self):
        """Raise ValueError naming the first bad field, what it should be and what came."""
        for name, table in CHOICES.items():
            choose(getattr(self, name), table(), name)
        if any(width < 1 for width in self.hidden):
            raise ValueError(f"Invalid hidden: {_format_hidden(self.hidden)} (every layer width "
                             "must be >= 1)\nhelp: --hidden 256,128,64; an empty list "
                             "(--hidden none) gives a linear model")
        for name, (low, high, bounds) in _RANGES.items():
            value = getattr(self, name)
            if value is not None and not (low(value) and high(value)):
                raise ValueError(f"Invalid {name}: {value} (expected {bounds})")
        if self.early_stopping is not None and self.val_fraction == 0:
            raise ValueError("early_stopping watches val_loss, but val_fraction is 0\n"
                             "help: hold out validation data, e.g. --val-fraction 0.1")
        return self

    # -- TOML ------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, values, source="config"):
        """Build from a mapping of field names; unknown keys are an error listing the valid ones."""
        unknown = sorted(set(values) - set(FIELD_NAMES))
        if unknown:
            raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)}; valid keys: "
                             f"{', '.join(FIELD_NAMES)}")
        return cls(**values)

    @classmethod
    def from_toml_text(cls, text, source="config", overrides=None):
        """Parse TOML ``key = value`` lines (any subset of the fields).

        ``overrides`` (field -> value, e.g. the flags given on the command line) replace the
        file's values before the one validation.
        """
        try:
            values = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{source}: not valid TOML: {err}") from None
        return cls.from_dict({**values, **(overrides or {})}, source)

    @classmethod
    def from_toml(cls, path, overrides=None):
        """Read a TOML file (see :meth:`from_toml_text`)."""
        with open(path, encoding="utf-8") as f:
            return cls.from_toml_text(f.read(), str(path), overrides)

    def to_toml(self, header=""):
        """TOML text with every field (None fields are written as comments, TOML has no null)."""
        lines = [f"# {line}" for line in header.splitlines()]
        for name in FIELD_NAMES:
            value = getattr(self, name)
            lines.append(f"# {name} not set" if value is None else f"{name} = {_toml(value)}")
        return "\n".join(lines) + "\n"

    def replace(self, **changes):
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)


FIELD_NAMES = tuple(f.name for f in fields(RunConfig))

# field -> the Python types it accepts (after ints are widened to float for float fields)
_TYPES = {
    "dataset": str, "n_train": (int, type(None)), "val_fraction": float, "standardize": str,
    "hidden": tuple, "activation": str, "loss": str, "init": str, "dropout": float,
    "batchnorm": bool, "optimizer": str, "lr": float, "momentum": float,
    "weight_decay": (float, type(None)), "reg": float, "lr_decay": float, "epochs": int,
    "batch_size": int, "early_stopping": (int, type(None)), "seed": int,
}

# field -> its registry (looked up lazily, so a registry's new member is a valid choice at
# once); the keys are the valid names, listed in errors and in `numpynn train --help`
CHOICES = {
    "dataset": lambda: data.DATASETS,
    "standardize": lambda: PREPROCESSING,
    "activation": lambda: ACTIVATION_CHOICES,
    "loss": lambda: {"auto": None, **HEADS},
    "init": lambda: INITIALIZERS,
    "optimizer": lambda: OPTIMIZERS,
}


def _closed(lo):
    return lambda v: v >= lo


def _open(lo):
    return lambda v: v > lo


def _below(hi):
    return lambda v: v < hi


_ANY = lambda v: True  # noqa: E731

# field -> (lower test, upper test, the range in words)
_RANGES = {
    "n_train": (_closed(2), _ANY, "an integer >= 2"),
    "val_fraction": (_closed(0), _below(1), "0 <= val_fraction < 1"),
    "dropout": (_closed(0), _below(1), "0 <= dropout < 1"),
    "lr": (_open(0), _ANY, "> 0"),
    "momentum": (_closed(0), _below(1), "0 <= momentum < 1"),
    "weight_decay": (_closed(0), _ANY, ">= 0"),
    "reg": (_closed(0), _ANY, ">= 0"),
    "lr_decay": (_open(0), lambda v: v <= 1, "0 < lr_decay <= 1; 1 means no decay"),
    "epochs": (_closed(1), _ANY, "an integer >= 1"),
    "batch_size": (_closed(1), _ANY, "an integer >= 1"),
    "early_stopping": (_closed(1), _ANY, "a patience >= 1 epochs"),
    "seed": (_closed(0), _ANY, "an integer >= 0"),
}


def _coerce(name, value, types):
    """Widen ints to float for float fields; reject other type mismatches and NaN/inf."""
    types = types if isinstance(types, tuple) else (types,)
    if float in types and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = float(value)
    # a bool is an int in Python: never let True pass as 1
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        wanted = " or ".join("none" if t is type(None) else t.__name__ for t in types)
        raise TypeError(f"Invalid {name}: {value!r} (expected {wanted}; got "
                        f"{type(value).__name__})")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"Invalid {name}: {value} (expected a finite number)")
    return value


def _as_hidden(hidden):
    """Layer widths from a tuple/list of ints or a string ``"256,128,64"`` (``""``/``"none"``: ())."""
    if isinstance(hidden, str):
        return parse_hidden(hidden)
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if not isinstance(hidden, (list, tuple)) or not all(
            isinstance(h, numbers.Integral) and not isinstance(h, bool) for h in hidden):
        raise TypeError(f"Invalid hidden: {hidden!r} (expected a list of layer widths such as "
                        "[256, 128, 64])")
    return tuple(int(h) for h in hidden)


def parse_hidden(text):
    """``"256,128,64"`` -> ``(256, 128, 64)``; ``""`` or ``"none"`` -> ``()``."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"Invalid hidden: {text!r} (expected comma-separated layer widths "
                         "such as 256,128,64, or none)") from None


def _format_hidden(hidden):
    return ",".join(map(str, hidden)) or "none"


def format_value(value):
    """A field's value as the command line spells it: ``64,32``, ``0.001``, ``none``."""
    if isinstance(value, tuple):
        return _format_hidden(value)
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _toml(value):
    """One TOML value: bool, int, float, string or an array of ints."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string for the plain names used here
    return "[" + ", ".join(_toml(v) for v in value) + "]"
