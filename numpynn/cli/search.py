"""A search config (``numpynn tune --config SEARCH.toml``): fixed settings, a search space, and
how to search it — parsed and checked in one place, with no Optuna in sight.

SEARCH.toml is a ``numpynn train`` config (every top-level key a fixed value) plus two tables::

    epochs = 10                                           # fixed, as in numpynn train
    [search]                                              # each key a distribution
    lr = { low = 1e-4, high = 1e-1, log = true }          # float (log scale)
    batch_size = { low = 16, high = 256, step = 16 }      # int (ints for low, high and step)
    hidden = ["64", "128,64"]                             # categorical, as the CLI spells them
    [tune]
    metric = "val_acc"       # or "val_loss": a trial's value is its final epoch's
    direction = "maximize"
    sampler = "tpe"          # "random", or "grid" (lists only)
    pruner = "median"        # "hyperband" or "none"
    seed = 0
    trials = 20              # the default of --trials

>>> spec = SearchSpec.from_toml_text('epochs = 2\\n[search]\\nlr = { low = 1e-3, high = 1e-1, log = true }')
>>> spec.space["lr"].kind, spec.config({"lr": 0.01}).lr, spec.config({"lr": 0.01}).epochs
('float', 0.01, 2)
"""
import math
import sys
from dataclasses import dataclass, field

from numpynn._helpers.limits import parse_nested, read_text_limited
from numpynn._helpers.validation import check_int
from numpynn.cli.config import _NUMBERS, _OPTIONAL, FIELD_NAMES, RunConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli, a core dependency there
    import tomli as tomllib

# [tune] key -> (its default, the values it may take; None: any value of the default's type)
TUNE_KEYS = {
    "metric": ("val_acc", ("val_acc", "val_loss")),
    "direction": ("maximize", ("maximize", "minimize")),
    "sampler": ("tpe", ("tpe", "random", "grid")),
    "pruner": ("median", ("median", "hyperband", "none")),
    "seed": (0, None),
    "trials": (20, None),
}
# a distribution's keys -> its kind; "step" with ints makes an int, otherwise a float
DISTRIBUTION_KEYS = {"low", "high", "log", "step"}
HELP_SPACE = ('help: a float: lr = { low = 1e-4, high = 1e-1, log = true }; an int: '
              'batch_size = { low = 16, high = 256, step = 16 }; a choice: hidden = ["64", "128,64"]')


@dataclass
class Param:
    """One searched key: ``kind`` is ``"float"``, ``"int"`` or ``"categorical"``."""

    kind: str
    low: float | int | None = None
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    choices: tuple = ()


@dataclass
class SearchSpec:
    """A parsed search config: ``fixed`` settings, the ``space`` to search, ``tune`` settings."""

    fixed: dict
    space: dict
    tune: dict = field(default_factory=lambda: {k: d for k, (d, _) in TUNE_KEYS.items()})
    source: str = "search config"

    @classmethod
    def from_toml_text(cls, text, source="search config"):
        values = parse_nested(tomllib.loads, text, source, "TOML")
        search = values.pop("search", None)
        tune = values.pop("tune", {})
        if not isinstance(search, dict) or not search:
            raise ValueError(f"{source}: no [search] table of keys to search\n{HELP_SPACE}")
        RunConfig.from_dict(values, source)   # the fixed part alone must be a valid config
        spec = cls(values, {}, _tune_settings(tune, source), source)
        spec.space = {name: _param(name, value, spec) for name, value in search.items()}
        if spec.tune["sampler"] == "grid":
            _check_grid(spec)
        return spec

    @classmethod
    def from_toml(cls, path):
        return cls.from_toml_text(read_text_limited(path), str(path))

    def config(self, params):
        """The RunConfig of one trial: the fixed settings with ``params`` (name -> value)."""
        values = {**self.fixed, **{k: _as_field(k, v) for k, v in params.items()}}
        return RunConfig.from_dict(values, self.source)

    def grid_size(self):
        return math.prod(len(p.choices) for p in self.space.values())


def _tune_settings(tune, source):
    """[tune] with defaults filled in; an unknown key or value names the key and the choices."""
    if not isinstance(tune, dict):
        raise ValueError(f"{source}: [tune] must be a table\nhelp: [tune] then metric = "
                         '"val_acc" on the next line')
    unknown = sorted(set(tune) - set(TUNE_KEYS))
    if unknown:
        raise ValueError(f"{source}: [tune] has unknown key(s) {', '.join(unknown)}; valid "
                         f"keys: {', '.join(TUNE_KEYS)}")
    settings = {}
    for key, (default, allowed) in TUNE_KEYS.items():
        value = tune.get(key, default)
        wrong_type = type(value) is not type(default)
        if wrong_type or (allowed is not None and value not in allowed):
            expected = ", ".join(map(repr, allowed)) if allowed else f"an {type(default).__name__}"
            raise ValueError(f"{source}: [tune] {key} = {value!r}; expected {expected}")
        if allowed is None and value < (1 if key == "trials" else 0):
            raise ValueError(f"{source}: [tune] {key} = {value}; expected a number >= "
                             f"{1 if key == 'trials' else 0}")
        settings[key] = value
    return settings


def _param(name, value, spec):
    """One [search] entry as a :class:`Param`, checked against RunConfig's own bounds."""
    where = f"{spec.source}: [search] {name}"
    if name not in FIELD_NAMES:
        raise ValueError(f"{where}: unknown key; valid keys: {', '.join(FIELD_NAMES)}")
    if isinstance(value, list):
        if not value:
            raise ValueError(f"{where}: an empty list of choices\n{HELP_SPACE}")
        param = Param("categorical", choices=tuple(value))
        samples = value
    elif isinstance(value, dict):
        param = _distribution(where, value)
        samples = [param.low, param.high]
    else:
        raise ValueError(f"{where} = {value!r}: expected a list of choices or a table of "
                         f"low/high\n{HELP_SPACE}")
    for sample in samples:   # each end and each choice must make a valid config
        try:
            spec.config({name: sample})
        except (ValueError, TypeError) as err:
            raise ValueError(f"{where}: {sample!r} is not a valid {name}: "
                             f"{str(err).splitlines()[0]}") from None
    return param


def _distribution(where, value):
    """``{low, high[, step][, log]}`` -> an int or float :class:`Param`."""
    unknown = sorted(set(value) - DISTRIBUTION_KEYS)
    if unknown or not {"low", "high"} <= set(value):
        raise ValueError(f"{where}: a distribution takes low, high and optionally step or log; "
                         f"got {', '.join(sorted(value)) or 'nothing'}\n{HELP_SPACE}")
    low, high, step, log = value["low"], value["high"], value.get("step"), value.get("log", False)
    numbers = [v for v in (low, high, step) if v is not None]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in numbers) or \
            not isinstance(log, bool):
        raise ValueError(f"{where}: low, high and step must be numbers and log true or false; "
                         f"got {value}")
    if low > high:
        raise ValueError(f"{where}: low = {low} is above high = {high}\nhelp: swap them")
    if log and low <= 0:
        raise ValueError(f"{where}: a log scale needs low > 0; got low = {low}\nhelp: set "
                         "low to a positive number, or drop log = true")
    if log and step is not None:
        raise ValueError(f"{where}: step and log = true do not go together\nhelp: drop one")
    if step is not None and step <= 0:
        raise ValueError(f"{where}: step must be > 0; got {step}")
    kind = "int" if _is_int_field(where.rsplit(" ", 1)[-1]) else "float"
    if kind == "int" and not all(isinstance(v, int) for v in numbers):
        raise ValueError(f"{where}: an integer setting takes integer low, high and step; got "
                         f"{value}")
    return Param(kind, low, high, step, log)


def _check_grid(spec):
    ranged = [name for name, p in spec.space.items() if p.kind != "categorical"]
    if ranged:
        raise ValueError(f"{spec.source}: [search] {ranged[0]}: sampler = \"grid\" takes lists "
                         f"of values only; got a distribution\nhelp: write {ranged[0]} = "
                         "[v1, v2, v3], or use sampler = \"tpe\"")


def _is_int_field(name):
    return name in _NUMBERS and _NUMBERS[name][0] is check_int


def _as_field(name, value):
    """A searched value as RunConfig takes it. Choices are spelled as on the command line:
    ``"128,64"`` for hidden stays a string (RunConfig parses it), ``"0.01"`` for a number
    becomes one, ``"none"`` for an optional number None."""
    if not isinstance(value, str) or name not in _NUMBERS:
        return value
    if value.lower() == "none" and name in _OPTIONAL:
        return None
    try:
        return int(value) if _is_int_field(name) else float(value)
    except ValueError:
        raise ValueError(f"[search] {name}: {value!r} is not a number") from None
