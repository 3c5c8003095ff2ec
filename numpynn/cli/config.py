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
import sys
from dataclasses import dataclass, fields

import numpy as np

from numpynn import data
from numpynn._helpers.html import html_table
from numpynn._helpers.limits import parse_nested, read_text_limited
from numpynn._helpers.validation import check_int, check_range, choose
from numpynn.init import INITIALIZERS
from numpynn.models import ACTIVATION_CHOICES, HEADS
from numpynn.optim import OPTIMIZERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser as the tomli package (a core dependency there)
    import tomli as tomllib


def _identity(X_train, *others):
    return (X_train, *others)


def _mean_image(X_train):
    return X_train.mean(axis=0, dtype=np.float64), 1.0


# name -> the (shift, scale) that preprocessing applies, (x - shift) / scale, from X_train only:
# what the saved model carries as its first layer (numpynn.Normalize), None for no preprocessing
STATISTICS = {
    "feature": functools.partial(data.standardization, per_feature=True),
    "global": functools.partial(data.standardization, per_feature=False),
    "mean_image": _mean_image,
    "none": None,
}

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
    n_points, noise, test_fraction : int, float, float
        How a point set (circle, xor, gaussians, spiral, moons; :mod:`numpynn.data.points`) is
        drawn from ``seed``: samples in all, σ of the jitter, the share held out for testing.
    hidden : tuple of int
        Hidden layer widths; ``()`` gives a linear (logistic/softmax) model.
    conv : tuple of int
        Filters of each convolutional block (3×3 conv, padding 1, ReLU, 2×2 max pool) before
        the hidden layers; ``()``: an MLP. Images as the dataset shapes them, (C, H, W).
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
    n_points: int = 400       # point sets only: what the web playground draws by default
    noise: float = 0.2
    test_fraction: float = 0.5
    # -- model -----------------------------------------------------------------------------
    hidden: tuple = (64,)
    conv: tuple = ()  # e.g. (32, 64): two conv blocks, each halving H and W
    activation: str = "relu"
    loss: str = "auto"  # softmax cross-entropy for multiclass data, sigmoid + BCE for binary
    # variance 2/fan_in keeps ReLU activations at scale (He et al.); the library's Linear
    # defaults to xavier_uniform instead (Glorot's, scale-free for tanh and sigmoid)
    init: str = "he_normal"
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
        self.conv = _as_hidden(self.conv, "conv")
        self.validate()

    # -- validation ------------------------------------------------------------------------
    def validate(self):
        """Check (and widen: an int for a float field) every field; raise naming the first bad
        one, what it should be and what came."""
        for name in FIELD_NAMES:
            setattr(self, name, _check_field(name, getattr(self, name)))
        for name, table in CHOICES.items():
            choose(getattr(self, name), table(), name, where=_WHERE)
        if any(width < 1 for width in self.hidden):
            raise ValueError(f"Invalid hidden: {_format_hidden(self.hidden)} (every layer width "
                             "must be >= 1)\nhelp: --hidden 256,128,64; an empty list "
                             "(--hidden none) gives a linear model")
        if any(width < 1 for width in self.conv):
            raise ValueError(f"Invalid conv: {_format_hidden(self.conv)} (every block needs "
                             ">= 1 filter)\nhelp: --conv 32,64; none gives an MLP")
        if self.conv and self.activation != "relu":
            raise ValueError(f"conv blocks use ReLU; got activation={self.activation!r}\n"
                             "help: drop --activation with --conv (--dropout and --batchnorm "
                             "apply: dropout in the head, batch norm in every block)")
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
        values = parse_nested(tomllib.loads, text, source, "TOML")
        return cls.from_dict({**values, **(overrides or {})}, source)

    @classmethod
    def from_toml(cls, path, overrides=None):
        """Read a TOML file of at most a few MiB (see :meth:`from_toml_text`)."""
        return cls.from_toml_text(read_text_limited(path), str(path), overrides)

    def to_toml(self, header=""):
        """TOML text with every field (None fields are written as comments, TOML has no null)."""
        lines = [f"# {line}" for line in header.splitlines()]
        for name in FIELD_NAMES:
            value = getattr(self, name)
            lines.append(f"# {name} not set" if value is None else f"{name} = {_toml(value)}")
        return "\n".join(lines) + "\n"

    def _repr_html_(self):
        """Jupyter's view: one row per field, its value as the command line spells it, the
        ones that differ from the defaults marked."""
        rows = []
        for f in fields(self):
            value = getattr(self, f.name)
            rows.append((f.name, format_value(value), "" if value == f.default else "changed"))
        return html_table(("field", "value", "vs default"), rows, caption="RunConfig")

    def replace(self, **changes):
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)


FIELD_NAMES = tuple(f.name for f in fields(RunConfig))

_WHERE = "RunConfig"

# field -> the type of a non-numeric field (str, bool, tuple)
_TYPES = {"dataset": str, "standardize": str, "hidden": tuple, "conv": tuple, "activation": str, "loss": str,
          "init": str, "batchnorm": bool, "optimizer": str}

# numeric field -> (check_int or check_range, its bounds); None is allowed where listed in _OPTIONAL
_NUMBERS = {
    "n_train": (check_int, {"minimum": 2}),
    "n_points": (check_int, {"minimum": 4, "maximum": 100_000}),
    "noise": (check_range, {"low": 0, "high": 50}),
    "test_fraction": (check_range, {"low": 0, "high": 1, "low_open": True, "high_open": True}),
    "val_fraction": (check_range, {"low": 0, "high": 1, "high_open": True}),
    "dropout": (check_range, {"low": 0, "high": 1, "high_open": True}),
    "lr": (check_range, {"low": 0, "low_open": True}),
    "momentum": (check_range, {"low": 0, "high": 1, "high_open": True}),
    "weight_decay": (check_range, {"low": 0}),
    "reg": (check_range, {"low": 0}),
    "lr_decay": (check_range, {"low": 0, "high": 1, "low_open": True}),  # 1: no decay
    "epochs": (check_int, {"minimum": 1}),
    "batch_size": (check_int, {"minimum": 1}),
    "early_stopping": (check_int, {"minimum": 1}),  # a patience in epochs
    "seed": (check_int, {"minimum": 0}),
}
_OPTIONAL = {"n_train", "weight_decay", "early_stopping"}

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


def _check_field(name, value):
    """A field's value, checked: numbers by check_int/check_range (a float field takes an int
    and stores a float; NaN and inf never pass), the others by type (True never passes as 1)."""
    if name in _NUMBERS:
        if value is None and name in _OPTIONAL:
            return None
        check, bounds = _NUMBERS[name]
        return check(value, name, **bounds, where=_WHERE)
    if not isinstance(value, _TYPES[name]):
        raise TypeError(f"{_WHERE}: {name} must be a {_TYPES[name].__name__}; got {value!r}")
    return value


def _as_hidden(hidden, name="hidden"):
    """Layer widths from a tuple/list of ints, one int or a string ``"256,128,64"``
    (``""``/``"none"``: ())."""
    if isinstance(hidden, str):
        return parse_hidden(hidden, name)
    if isinstance(hidden, (list, tuple)):
        return tuple(check_int(h, f"{name}[{i}]", where=_WHERE) for i, h in enumerate(hidden))
    return (check_int(hidden, name, where=_WHERE),)


def parse_hidden(text, name="hidden"):
    """``"256,128,64"`` -> ``(256, 128, 64)``; ``""`` or ``"none"`` -> ``()``."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"Invalid {name}: {text!r} (expected comma-separated widths "
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
