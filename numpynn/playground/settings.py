"""The page's settings: one typed object, validated in one place, with messages naming the field.

The page sends its form as JSON (numbers may come as the text typed into an input);
:func:`parse_settings` turns that into a :class:`Settings` or raises :class:`SettingsError`
naming the field, what it must be and what came (``lr must be a finite number > 0; got -1``).
The same fields, written as a query string, are the page's URL (:meth:`Settings.to_query`).

>>> s = parse_settings({"dataset": "spiral", "lr": "0.03", "layers": [{"units": 8}]})
>>> s.dataset, s.lr, s.layers[0].activation
('spiral', 0.03, 'tanh')
>>> parse_settings({"lr": "-1"})
Traceback (most recent call last):
...
numpynn.playground.settings.SettingsError: lr must be in (0, 10]; got -1.0
"""
import dataclasses
import math
from dataclasses import dataclass, field

from numpynn._helpers.validation import check_int, check_range, choose
from numpynn.data.points import CLASSIFICATION, REGRESSION
from numpynn.init import INITIALIZERS
from numpynn.layers import ACTIVATION_LAYERS
from numpynn.optim import OPTIMIZERS

UPLOAD = "csv"  # the dataset name of an uploaded CSV file (x1, x2, label)
DATASETS = (*CLASSIFICATION, *REGRESSION, UPLOAD)
IDENTITY = "identity"
ACTIVATIONS = (*ACTIVATION_LAYERS, IDENTITY)  # every activation layer of numpynn, or none
# name -> (label on the page, f(x1, x2)); the network's inputs are the chosen ones, in this order
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
ONE_D_FEATURES = ("x1", "x1^2", "sin(x1)")  # regression data have x1 only
# loss name -> (task it suits, output activation): what the network's last layer is
LOSSES = {
    "bce": ("classification", "sigmoid"),
    "bce_with_logits": ("classification", IDENTITY),
    "mse": ("any", None),  # sigmoid output for classification, identity for regression
    "l1": ("regression", IDENTITY),
}
MAX_LAYERS, MAX_UNITS = 6, 16  # what the page can draw, neuron maps and all
MAX_POINTS = 2000


class SettingsError(ValueError):
    """A page setting is invalid; the message names the field (shown in the page's #error)."""


@dataclass(frozen=True)
class LayerSettings:
    """One hidden layer: ``Linear(units) → BatchNorm? → activation → Dropout?``."""
    units: int = 4
    activation: str = "tanh"
    init: str = "xavier_uniform"
    dropout: float = 0.0
    batchnorm: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything the page can set. Defaults: TensorFlow Playground's first screen.

    Attributes
    ----------
    dataset : str
        One of :data:`DATASETS`: a 2-D classification set, a 1-D regression set or ``"csv"``.
    n_points, noise, test_fraction : int, float, float
        How the set is drawn (:func:`numpynn.data.points.load_points`).
    features : tuple of str
        The network's inputs, a subset of :data:`FEATURES` in that order.
    layers : tuple of LayerSettings
        Hidden layers (none: a linear model).
    loss, optimizer : str
    lr, momentum, reg : float
        Learning rate, momentum (SGD and RMSProp) and the L2 strength ½·reg·Σ‖W‖².
    batch_size, seed : int
    """
    dataset: str = "circle"
    n_points: int = 400
    noise: float = 0.2
    test_fraction: float = 0.5
    features: tuple = ("x1", "x2")
    layers: tuple = (LayerSettings(4), LayerSettings(2))
    loss: str = "bce"
    optimizer: str = "sgd"
    lr: float = 0.03
    momentum: float = 0.0
    reg: float = 0.0
    batch_size: int = 10
    seed: int = 0

    @property
    def regression(self):
        return self.dataset in REGRESSION

    def to_dict(self):
        """Plain JSON data (what the page's form shows)."""
        return dataclasses.asdict(self)

    def to_query(self):
        """The URL form: ``dataset=spiral&…&layers=8:tanh:xavier_uniform:0:0,…``."""
        values = self.to_dict()
        values["features"] = ",".join(self.features)
        values["layers"] = ",".join(f"{l.units}:{l.activation}:{l.init}:{l.dropout:g}:"
                                    f"{int(l.batchnorm)}" for l in self.layers)
        from urllib.parse import urlencode
        return urlencode({k: v if isinstance(v, str) else f"{v:g}" if isinstance(v, float)
                          else str(v) for k, v in values.items()})


FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
LAYER_FIELDS = tuple(f.name for f in dataclasses.fields(LayerSettings))


def parse_settings(values):
    """A validated :class:`Settings` from the page's JSON (unknown keys are an error).

    Raises
    ------
    SettingsError
        The first invalid field, named, with what it must be and what came.
    """
    if not isinstance(values, dict):
        raise SettingsError(f"settings must be a JSON object; got {type(values).__name__}")
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(FIELDS)}")
    try:
        checked = {name: CHECKS[name](value, name) for name, value in values.items()}
        return _check_together(Settings(**checked))
    except (TypeError, ValueError) as err:
        raise SettingsError(str(err)) from None


def parse_query(query):
    """:class:`Settings` from the URL's query string (the inverse of :meth:`Settings.to_query`)."""
    from urllib.parse import parse_qsl

    values = dict(parse_qsl(query.lstrip("#?"), keep_blank_values=True))
    if "features" in values:
        values["features"] = [f for f in values["features"].split(",") if f]
    if "layers" in values:
        values["layers"] = [_layer_from_text(text, i) for i, text in
                            enumerate(t for t in values["layers"].split(",") if t)]
    return parse_settings(values)


def _layer_from_text(text, index):
    parts = text.split(":")
    if len(parts) != len(LAYER_FIELDS):
        raise SettingsError(f"layers[{index}] is {text!r}; expected units:activation:init:"
                            "dropout:batchnorm, e.g. 8:tanh:xavier_uniform:0:0")
    return dict(zip(LAYER_FIELDS, parts))


# ------------------------------------------------------------------------------ field checks
def _number(value, name):
    """A float from a JSON number or the text of an input (``"nan"`` parses, then fails)."""
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise SettingsError(f"{name} must be a number; got {value!r}") from None
    if value is None:
        raise SettingsError(f"{name} must be a number; got nothing")
    return value


def _integer(value, name):
    value = _number(value, name)
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)  # "8" from an input box
    return value


def _real(low, high=None, low_open=False):
    return lambda v, name: check_range(_number(v, name), name, low, high, low_open=low_open)


def _int(minimum, maximum):
    return lambda v, name: check_int(_integer(v, name), name, minimum, maximum)


def _name(table):
    def check(value, name):
        choose(value, dict.fromkeys(table), name)  # raises, listing the choices
        return value
    return check


def _flag(value, name):
    if isinstance(value, bool):
        return value
    if str(value).strip().lower() in ("0", "1", "true", "false"):
        return str(value).strip().lower() in ("1", "true")
    raise SettingsError(f"{name} must be true or false; got {value!r}")


def _features(value, name):
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise SettingsError(f"{name} must be a non-empty list of: {', '.join(FEATURES)}; "
                            f"got {value!r}\nhelp: tick at least one input feature")
    chosen = {_name(FEATURES)(v, "feature") for v in value}
    return tuple(f for f in FEATURES if f in chosen)  # the canonical order


LAYER_CHECKS = {"units": _int(1, MAX_UNITS), "activation": _name(ACTIVATIONS),
                "init": _name(INITIALIZERS), "dropout": _real(0, 0.9),
                "batchnorm": _flag}


def _layers(value, name):
    if not isinstance(value, (list, tuple)) or len(value) > MAX_LAYERS:
        raise SettingsError(f"{name} must be a list of at most {MAX_LAYERS} hidden layers; "
                            f"got {value!r}")
    layers = []
    for i, layer in enumerate(value):
        if isinstance(layer, LayerSettings):
            layer = dataclasses.asdict(layer)
        if not isinstance(layer, dict) or set(layer) - set(LAYER_FIELDS):
            raise SettingsError(f"{name}[{i}] must be an object with keys "
                                f"{', '.join(LAYER_FIELDS)}; got {layer!r}")
        layers.append(LayerSettings(**{k: LAYER_CHECKS[k](v, f"{name}[{i}].{k}")
                                       for k, v in layer.items()}))
    return tuple(layers)


CHECKS = {
    "dataset": _name(DATASETS), "n_points": _int(10, MAX_POINTS), "noise": _real(0, 5),
    "test_fraction": _real(0.1, 0.9), "features": _features, "layers": _layers,
    "loss": _name(LOSSES), "optimizer": _name(OPTIMIZERS), "lr": _real(0, 10, low_open=True),
    "momentum": _real(0, 0.999), "reg": _real(0, 10), "batch_size": _int(1, MAX_POINTS),
    "seed": _int(0, 2**31 - 1),
}


def _check_together(s):
    """The rules between fields: the loss must suit the task, 1-D data take x1 features only."""
    task, _ = LOSSES[s.loss]
    wanted = "regression" if s.regression else "classification"
    if task not in ("any", wanted):
        fits = ", ".join(n for n, (t, _) in LOSSES.items() if t in ("any", wanted))
        raise SettingsError(f"loss {s.loss!r} is for {task}; {s.dataset!r} is {wanted}\n"
                            f"help: choose one of: {fits}")
    if s.regression and set(s.features) - set(ONE_D_FEATURES):
        raise SettingsError(f"features {', '.join(s.features)}: {s.dataset!r} has one input "
                            f"x1\nhelp: choose among {', '.join(ONE_D_FEATURES)}")
    return s


# ------------------------------------------------------------------------------ CSV upload
MAX_CSV_BYTES = 1_000_000  # the upload's size limit (the server refuses larger bodies first)
MAX_CSV_ROWS = 5000
MIN_CSV_ROWS = 4           # at least two to train on and one to test
CSV_HEADER = ("x1", "x2", "label")


def parse_points_csv(text):
    """An uploaded file ``x1,x2,label`` (header optional; labels 0 or 1; |x| ≤ 6, the
    plane the page draws) -> ``(X (N, 2) float64, y (N,) int64)``.

    >>> X, y = parse_points_csv("x1,x2,label\\n0,1,1\\n1,0,0\\n2,2,1\\n-1,-1,0\\n")
    >>> X.shape, y.tolist()
    ((4, 2), [1, 0, 1, 0])
    """
    import numpy as np

    if len(text.encode()) > MAX_CSV_BYTES:
        raise SettingsError(f"csv: the file has {len(text.encode())} bytes; at most "
                            f"{MAX_CSV_BYTES} are accepted\nhelp: upload fewer points")
    rows = [line.strip() for line in text.splitlines() if line.strip()]
    if rows and rows[0].replace(" ", "").lower().split(",") == list(CSV_HEADER):
        rows = rows[1:]
    if not MIN_CSV_ROWS <= len(rows) <= MAX_CSV_ROWS:
        raise SettingsError(f"csv: the file has {len(rows)} data rows; expected "
                            f"{MIN_CSV_ROWS} to {MAX_CSV_ROWS}\nhelp: one point per line: "
                            "x1,x2,label")
    values = np.array([_csv_row(row, n) for n, row in enumerate(rows, start=1)])  # (N, 3)
    labels = values[:, 2]
    if len(set(labels.tolist())) < 2:
        raise SettingsError("csv: every point has the same label; a classifier needs both "
                            "0 and 1")
    return values[:, :2], labels.astype(np.int64)


def _csv_row(row, n):
    parts = row.split(",")
    if len(parts) != 3:
        raise SettingsError(f"csv: row {n} is {row[:60]!r}; expected three values x1,x2,label")
    try:
        x1, x2, label = (float(p) for p in parts)
    except ValueError:
        raise SettingsError(f"csv: row {n} is {row[:60]!r}; its values must be numbers") \
            from None
    if label not in (0, 1):
        raise SettingsError(f"csv: row {n} has label {parts[2].strip()!r}; expected 0 or 1")
    if not (math.isfinite(x1) and math.isfinite(x2)) or max(abs(x1), abs(x2)) > 6:
        raise SettingsError(f"csv: row {n} has the point ({parts[0].strip()}, "
                            f"{parts[1].strip()}); expected finite x1, x2 in [-6, 6], the "
                            "plane the page draws\nhelp: scale your points into that square")
    return x1, x2, label
