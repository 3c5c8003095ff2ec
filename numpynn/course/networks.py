"""Networks with explicit weights, one input and its target, from Python or a TOML/JSON file:
what :func:`numpynn.course.explain.explain` works through, and the bundled course examples.

>>> result = load_network(example_path("relu-1-4-1")).explain()
>>> result.z[0].tolist(), result.loss
([1.0, -1.0, 1.5, -1.0], 0.0625)
"""
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from numpynn._helpers.limits import parse_nested, read_text_limited
from numpynn._helpers.validation import check_positive, choose
from numpynn.course.explain import EXPLAIN_LOSSES, IDENTITY, explain
from numpynn.layers import ACTIVATION_LAYERS, NO_ACTIVATION, Linear
from numpynn.sequential import Sequential

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser as the tomli package (a core dependency there)
    import tomli as tomllib

EXAMPLES_DIR = Path(__file__).with_name("examples")


# ------------------------------------------------------------------------------------ files
@dataclass
class NetworkSpec:
    """A network with explicit weights, one input and its target: the content of a network file.

    Attributes
    ----------
    weights : list of ndarray of shape (n_{l-1}, n_l)
    biases : list of ndarray of shape (n_l,)
    activations : list of str
        Names in :data:`numpynn.layers.ACTIVATION_LAYERS` or ``"identity"`` (``"linear"`` and
        ``"none"`` mean the same, as in ``numpynn train --activation``).
    x : ndarray of shape (D,)
    y : ndarray of shape (M,)
    loss : str
        A key of :data:`EXPLAIN_LOSSES`.
    lr : float
    title, source : str
        A heading and where the numbers come from.
    """
    weights: list
    biases: list
    activations: list
    x: np.ndarray
    y: np.ndarray
    loss: str = "half_sse"
    lr: float = 0.1
    title: str = ""
    source: str = field(default="", repr=False)

    def build_model(self):
        """A float64 :class:`Sequential` holding these weights."""
        layers = []
        for W, b, name in zip(self.weights, self.biases, self.activations):
            linear = Linear(*W.shape, dtype=np.float64)
            linear.W, linear.b = W, b
            layers += [linear] + ([] if name == IDENTITY else [ACTIVATION_LAYERS[name]()])
        return Sequential(layers)

    def explain(self, lr=None, loss=None):
        """:func:`explain` on this network, input and target (``lr``/``loss`` override the file)."""
        return explain(self.build_model(), self.x, self.y, loss or self.loss,
                       self.lr if lr is None else lr, title=self.title)


_FILE_KEYS = ("title", "source", "sizes", "loss", "lr", "x", "y", "layers")
_LAYER_KEYS = ("activation", "W", "b")
_READERS = {".toml": lambda text: tomllib.loads(text), ".json": json.loads}


def load_network(path):
    """Read a network file (``.toml`` or ``.json``); see :func:`network_from_dict` for the keys."""
    path = Path(path)
    reader = choose(path.suffix.lower(), _READERS, "network file type", where="load_network")
    data = parse_nested(reader, read_text_limited(path), str(path), path.suffix[1:].upper())
    return network_from_dict(data, where=str(path))


def network_from_dict(data, where="network"):
    """Validate a dict (a parsed file) and return a :class:`NetworkSpec`.

    Keys: ``layers`` (a list of tables with ``W`` — rows = inputs, columns = units —, ``b`` and
    ``activation``), ``x``, ``y``, and optionally ``loss`` (default ``"half_sse"``), ``lr``
    (default 0.1), ``sizes`` (checked against the weights), ``title``, ``source``.
    """
    _check_keys(data, _FILE_KEYS, where)
    for key in ("layers", "x", "y"):
        if key not in data:
            raise ValueError(f"{where}: missing key {key!r}\nhelp: see numpynn/course/examples/*.toml")
    layers = data["layers"]
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"{where}: 'layers' must be a non-empty list of tables with W, b, activation")
    weights, biases, acts = [], [], []
    for i, layer in enumerate(layers):
        n_prev = weights[-1].shape[1] if weights else None
        W, b, name = _layer(layer, f"{where}: layers[{i}]", i, n_prev)
        weights.append(W), biases.append(b), acts.append(name)
    sizes = [weights[0].shape[0]] + [W.shape[1] for W in weights]
    if "sizes" in data and list(data["sizes"]) != sizes:
        raise ValueError(f"{where}: sizes = {data['sizes']} but the weights give {sizes}")
    x = _vector(data["x"], f"{where}: x", sizes[0], "the rows of layers[0].W")
    y = _vector(data["y"], f"{where}: y", sizes[-1], f"the columns of layers[{len(weights) - 1}].W")
    loss = data.get("loss", "half_sse")
    choose(loss, EXPLAIN_LOSSES, "loss", where=f"{where}: loss")
    lr = data.get("lr", 0.1)
    check_positive(lr, "lr", allow_zero=True, where=where)
    return NetworkSpec(weights, biases, acts, x, y, loss, float(lr),
                       str(data.get("title", "")), str(data.get("source", "")))


def _check_keys(table, allowed, where):
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table (dict); got {type(table).__name__}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(allowed)}")


def _layer(table, where, i, n_prev):
    _check_keys(table, _LAYER_KEYS, where)
    for key in ("W", "b"):
        if key not in table:
            raise ValueError(f"{where}: missing key {key!r}")
    W = _numbers(table["W"], f"{where}.W", ndim=2)
    if n_prev is not None and W.shape[0] != n_prev:
        raise ValueError(f"{where}.W has {W.shape[0]} rows; expected {n_prev} (the units of "
                         f"layers[{i - 1}])\nhelp: W has one row per input and one column per unit")
    b = _vector(table["b"], f"{where}.b", W.shape[1], f"one per column of layers[{i}].W")
    name = table.get("activation", IDENTITY)
    choose(name, {**dict.fromkeys(NO_ACTIVATION), **ACTIVATION_LAYERS}, "activation",
           where=f"{where}.activation")
    return W, b, IDENTITY if name in NO_ACTIVATION else name


def _numbers(value, where, ndim):
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be {'a matrix' if ndim == 2 else 'a list'} of numbers; "
                         f"got {value!r}") from None
    if array.ndim != ndim or array.size == 0 or not np.isfinite(array).all():
        what = "a non-empty matrix (list of equal-length rows)" if ndim == 2 else "a list"
        raise ValueError(f"{where} must be {what} of finite numbers; got {value!r}")
    return array


def _vector(value, where, size, what):
    v = _numbers(value, where, ndim=1)
    if v.size != size:
        raise ValueError(f"{where} has {v.size} entries; expected {size} ({what})")
    return v


# ------------------------------------------------------------------------------------ examples
def examples():
    """Bundled example networks: name -> path (``numpynn/course/examples/<name>.toml``)."""
    return {p.stem: p for p in sorted(EXAMPLES_DIR.glob("*.toml"))}


def example_path(name):
    """Path of the bundled example ``name`` (see :func:`examples`)."""
    return choose(name, examples(), "example", where="example_path")
