"""The model file format: a plain ``.npz`` with no pickle.

A model file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

- one array per parameter and buffer, named like :meth:`Sequential.params` (``"0.W"``, …);
- ``"__meta__"``: UTF-8 JSON bytes (a uint8 array) describing the architecture::

    {"format": "numpynn.model", "version": 1,
     "layers": [{"type": "Linear", "config": {"n_in": 64, "n_out": 32, "dtype": "float32"}}, …],
     "task": "multiclass", "classes": ["0", "1", …]}     (both optional)

Loading never executes code: arrays are read with ``allow_pickle=False``; layer types resolve
only through the closed registry :data:`numpynn.layers.LAYERS` (never ``importlib`` or
``getattr`` on a name from the file); configs may only use the keys the layer itself writes, with
JSON scalar values; every array's name, shape and dtype must match what the architecture implies,
checked before the arrays are copied into the model. Writes are atomic.
"""
import inspect
import json
import math
import zipfile

import numpy as np

from numpynn._helpers.io import atomic_path
from numpynn.layers import LAYERS
from numpynn.sequential import Sequential

FORMAT, VERSION = "numpynn.model", 1
META_KEY = "__meta__"
MAX_FILE_BYTES = 4 * 2**30  # refuse archives that claim more than this uncompressed


class ModelFileError(ValueError):
    """A model or checkpoint file that is not what it claims; the message names the file."""


# -- generic safe archive I/O (also used by training checkpoints) ------------------------------
def write_npz(path, arrays, meta):
    """Atomically write ``arrays`` (dict of str -> ndarray) and JSON ``meta`` to ``path``."""
    if META_KEY in arrays:
        raise ValueError(f"array name {META_KEY!r} is reserved")
    payload = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{META_KEY: payload}, **arrays)


def read_npz(path, max_bytes=MAX_FILE_BYTES):
    """Read ``(arrays, meta)`` from a file written by :func:`write_npz`, safely.

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFileError
        Not a zip/npz, truncated, holds pickled objects, no or bad metadata, too large.
    """
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{path}: a single .npy array, not a numpynn .npz archive")
        with archive:
            _check_declared_size(archive.zip, path, max_bytes)
            arrays = {name: archive[name] for name in archive.files}
        not_arrays = sorted(name for name, value in arrays.items()
                            if not isinstance(value, np.ndarray))
        if not_arrays:
            raise ModelFileError(f"{path}: members {not_arrays} are not .npy arrays")
    except (FileNotFoundError, ModelFileError):
        raise
    except (zipfile.BadZipFile, EOFError) as err:
        raise ModelFileError(f"{path}: not a numpynn .npz file or truncated ({err})") from None
    except (ValueError, OSError, KeyError) as err:
        # np.load raises ValueError for pickled object arrays and for non-npz content
        raise ModelFileError(f"{path}: cannot read as a numpynn .npz file "
                             f"(no pickle is ever loaded): {err}") from None
    meta_bytes = arrays.pop(META_KEY, None)
    if meta_bytes is None or meta_bytes.dtype != np.uint8 or meta_bytes.ndim != 1:
        raise ModelFileError(f"{path}: missing {META_KEY!r} metadata; not written by numpynn")
    try:
        meta = json.loads(meta_bytes.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{path}: metadata is not valid JSON ({err})") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: metadata must be a JSON object")
    return arrays, meta


def _check_declared_size(zip_file, path, max_bytes):
    total = sum(info.file_size for info in zip_file.infolist())
    if total > max_bytes:
        raise ModelFileError(f"{path}: archive claims {total:,} bytes uncompressed; "
                             f"the limit is {max_bytes:,}")


# -- model <-> (spec, arrays) ----------------------------------------------------------------
def to_arrays(model):
    """Return ``(spec, arrays)``: the JSON architecture and every parameter and buffer."""
    spec = {"format": FORMAT, "version": VERSION,
            "layers": [{"type": type(layer).__name__, "config": layer.config()}
                       for layer in model.layers]}
    spec.update({key: value for key, value in (("task", model.task), ("classes", model.classes))
                 if value is not None})
    for layer in model.layers:
        if LAYERS.get(type(layer).__name__) is not type(layer):
            raise TypeError(f"cannot save {type(layer).__name__}: only layers in the registry "
                            f"numpynn.LAYERS ({', '.join(LAYERS)}) can be saved\nhelp: "
                            f"register your class first: numpynn.register_layer("
                            f"{type(layer).__name__})")
    return spec, {**model.params(), **model.buffers()}


def from_arrays(spec, arrays, source="model"):
    """Rebuild a :class:`Sequential` from ``(spec, arrays)``; ``source`` names the file in errors."""
    model = _build(spec, source, element_budget=sum(a.size for a in arrays.values()))
    expected = {**model.params(), **model.buffers()}
    missing, unexpected = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
    if missing or unexpected:
        raise ModelFileError(f"{source}: arrays do not match the architecture "
                             f"(missing: {missing or 'none'}; unexpected: {unexpected or 'none'})")
    for name, target in expected.items():
        value = arrays[name]
        if value.shape != target.shape or value.dtype != target.dtype:
            raise ModelFileError(f"{source}: array {name!r} has shape {value.shape} and dtype "
                                 f"{value.dtype}; the architecture needs {target.shape} "
                                 f"{target.dtype}")
        target[...] = value
    model.task, model.classes = _task_and_classes(spec, source)
    return model


TASKS = ("multiclass", "binary", "regression")


def _task_and_classes(spec, source):
    """The optional ``task`` and ``classes`` of a spec, checked (None where absent)."""
    task, classes = spec.get("task"), spec.get("classes")
    if task is not None and task not in TASKS:
        raise ModelFileError(f"{source}: task must be one of {', '.join(TASKS)}; got {task!r}")
    if classes is not None and (not isinstance(classes, list)
                                or not all(isinstance(c, str) for c in classes)):
        raise ModelFileError(f"{source}: classes must be a list of strings")
    return task, classes


def _build(spec, source, element_budget):
    if spec.get("format") != FORMAT or spec.get("version") != VERSION:
        raise ModelFileError(f"{source}: format {spec.get('format')!r} version "
                             f"{spec.get('version')!r}; expected {FORMAT!r} version {VERSION}")
    entries = spec.get("layers")
    if not isinstance(entries, list):
        raise ModelFileError(f"{source}: 'layers' must be a list")
    return Sequential([_build_layer(i, entry, source, element_budget)
                       for i, entry in enumerate(entries)])


def _build_layer(index, entry, source, element_budget):
    where = f"{source}: layer {index}"
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise ModelFileError(f"{where}: each layer must be an object with a 'type' string")
    cls = LAYERS.get(entry["type"])
    if cls is None:
        raise ModelFileError(f"{where}: unknown layer type {entry['type']!r}; numpynn loads only "
                             f"its own layers: {', '.join(LAYERS)}")
    config = entry.get("config", {})
    if not isinstance(config, dict) or not all(
            isinstance(v, (int, float, str, bool)) for v in config.values()):
        raise ModelFileError(f"{where}: config must be an object of numbers and strings")
    allowed = set(_config_keys(cls))
    if set(config) - allowed:
        raise ModelFileError(f"{where}: {cls.__name__} takes no {sorted(set(config) - allowed)}; "
                             f"allowed: {sorted(allowed)}")
    # Every size in a config is a dimension of an array stored in the file, so a config whose
    # sizes multiply past the stored elements is hostile: refuse it before allocating anything.
    sizes = [v for v in config.values() if isinstance(v, int) and not isinstance(v, bool)]
    if math.prod(sizes) > max(element_budget, 1):
        raise ModelFileError(f"{where}: config {config} declares more weights than the file holds")
    try:
        return cls(**config)
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{where}: bad {cls.__name__} config {config}: {err}") from None


def _config_keys(cls):
    """Constructor keywords a saved config may use: all but the initial-weight sources."""
    return [name for name in inspect.signature(cls.__init__).parameters
            if name not in ("self", "rng", "init", "std")]


# -- the public pair -------------------------------------------------------------------------
def save(model, path):
    """Save a :class:`Sequential` to ``path`` (``.npz``, no pickle), atomically.

    >>> import numpynn as nn, tempfile, os
    >>> model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.ReLU())
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> nn.save(model, path)
    >>> np.array_equal(nn.load(path)[0].W, model[0].W)
    True
    """
    spec, arrays = to_arrays(model)
    write_npz(path, arrays, spec)


def load(path):
    """Load a model written by :func:`save`, in evaluation mode; never executes code from the file.

    The model comes back ready to predict (``model.predict(X)``: dropout off, batch norm on
    its running statistics); call ``model.train()`` to train it further.

    Raises
    ------
    FileNotFoundError
    ModelFileError (a ValueError)
        Malformed, truncated or hostile file, or arrays that do not fit the architecture; the
        message names the file.
    """
    arrays, spec = read_npz(path)
    return from_arrays(spec, arrays, source=str(path)).eval()
