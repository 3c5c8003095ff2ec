"""The model file format: a plain ``.npz`` with no pickle.

A model file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

- one array per parameter and buffer, named like :meth:`Sequential.params` (``"0.W"``, …);
- ``"__meta__"``: UTF-8 JSON bytes (a uint8 array) describing the architecture::

    {"format": "numpynn.model", "version": 1,
     "layers": [{"type": "Linear", "config": {"n_in": 64, "n_out": 32, "dtype": "float32"}}, …],
     "task": "multiclass", "classes": ["0", "1", …]}     (both optional)

Loading never executes code: arrays are numbers only (a ``.npy`` header of Python objects,
which would need pickle, is refused); layer types resolve only through the closed registry
:data:`numpynn.layers.LAYERS` (never ``importlib`` or ``getattr`` on a name from the file);
configs may only use the keys the layer itself writes, with JSON scalar values (or lists of a few
ints: a kernel's size, an image's shape). Writes are atomic.

Loading never trusts a size either. Only a regular file is opened (a FIFO would block); the
JSON metadata (at most :data:`MAX_META_BYTES`, nested at most 32 deep) and every ``.npy``
header are read first, and what the headers declare is checked against :data:`MAX_FILE_BYTES`
and the free memory; :func:`load` then checks every array's name, shape and dtype against the
architecture, all before any array data is inflated. Each array is then read in 1 MiB chunks
straight into its buffer, exactly the bytes its header declares: a member shorter or longer than
that is an error (zip's own size fields are attacker-controlled, so they are not relied on).
"""
import contextlib
import inspect
import json
import math
import os
import stat
import zipfile
import zlib

import numpy as np

from numpynn._helpers.interrupts import ctrl_c_deferred
from numpynn._helpers.io import atomic_path
from numpynn._helpers.limits import check_memory, format_bytes, parse_nested
from numpynn.layers import LAYERS
from numpynn.sequential import Sequential

FORMAT, VERSION = "numpynn.model", 1
META_KEY = "__meta__"
MAX_FILE_BYTES = 4 * 2**30    # the arrays of one file, as their .npy headers declare them
MAX_META_BYTES = 16 * 2**20   # the JSON metadata (a checkpoint's per-epoch history included)
MAX_MEMBERS = 10_000          # arrays in one file (a checkpoint holds a few per layer)
MAX_HEADER_BYTES = 10_000     # one .npy header (NumPy's own default limit)
READ_CHUNK = 2**20            # arrays are inflated 1 MiB at a time, into their final buffer


class ModelFileError(ValueError):
    """A model or checkpoint file that is not what it claims; the message names the file."""


# -- generic safe archive I/O (also used by training checkpoints) ------------------------------
def write_npz(path, arrays, meta):
    """Atomically write ``arrays`` (dict of str -> ndarray) and JSON ``meta`` to ``path``.

    A Ctrl-C during the write is raised once the file is in place (:func:`ctrl_c_deferred`):
    cut short inside ``np.savez``, it could leave the zip archive open on a closed file, and
    Python would print a traceback from the archive's ``__del__`` after numpynn's one line.
    """
    if META_KEY in arrays:
        raise ValueError(f"array name {META_KEY!r} is reserved")
    payload = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with ctrl_c_deferred(), atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{META_KEY: payload}, **arrays)


def read_npz(path, max_bytes=MAX_FILE_BYTES, expect=None):
    """Read ``(arrays, meta)`` from a file written by :func:`write_npz`, safely.

    Every size is checked before anything is inflated or allocated: the metadata's and each
    array's ``.npy`` header first (their sum against ``max_bytes`` and the free memory, and
    each header in ``expect`` against its shape and dtype), then each array is read from a
    bounded stream, exactly the bytes its header declares.

    Parameters
    ----------
    path : str or Path
    max_bytes : int
        The most the arrays may declare in all.
    expect : dict of str -> ndarray, optional
        Arrays whose shape and dtype the caller knows (:func:`model_arrays` of the model a
        checkpoint restores); a header that differs is refused before any data is read.

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFileError
        Not a regular file, not a zip/npz, truncated, holds pickled objects, no or bad metadata,
        too large.
    """
    with _Archive(path, max_bytes) as archive:
        for name, target in (expect or {}).items():
            if name in archive.headers:  # a missing one is the caller's error to word
                _check_match(name, *archive.headers[name][:2], target, archive.source)
        return {name: archive.read(name) for name in archive.headers}, archive.meta


def model_arrays(model, prefix=""):
    """``{prefix + name: array}`` for every parameter and buffer of ``model`` (see ``expect``)."""
    return {prefix + name: value for name, value in {**model.params(), **model.buffers()}.items()}


class _Archive:
    """An open ``.npz`` whose metadata is parsed and whose ``.npy`` headers are checked; the
    array data is read only by :meth:`read`, each array into a buffer of its declared size.

    Attributes
    ----------
    meta : dict
        The JSON metadata.
    headers : dict of str -> (shape, dtype, fortran_order)
        Every array but the metadata, in the file's order.
    n_elements : int
        Elements the headers declare in all.
    """

    def __init__(self, path, max_bytes=MAX_FILE_BYTES):
        self.source = str(path)
        _check_regular_file(path)  # a FIFO would block open() forever
        with self._reading():
            self.zip = zipfile.ZipFile(path)
        try:
            with self._reading():
                self._scan(max_bytes)
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()

    def _scan(self, max_bytes):
        infos = self.zip.infolist()
        _check_declared_size(infos, self.source, max_bytes)  # ZipInfo sizes: a first filter
        if len(infos) > MAX_MEMBERS:
            raise ModelFileError(f"{self.source}: {len(infos):,} members; the limit is "
                                 f"{MAX_MEMBERS:,}")
        self.infos = {}
        for info in infos:
            if not info.filename.endswith(".npy") or info.filename[:-4] in self.infos:
                raise ModelFileError(f"{self.source}: member {info.filename!r} is not a "
                                     "single .npy array")
            self.infos[info.filename[:-4]] = info
        self.headers = {name: self._header(name) for name in self.infos}
        total = sum(_nbytes(shape, dtype) for shape, dtype, _ in self.headers.values())
        if total > max_bytes:
            raise ModelFileError(f"{self.source}: the arrays declare {format_bytes(total)}; "
                                 f"numpynn reads at most {format_bytes(max_bytes)} from one file")
        check_memory(total, "reading its arrays", where=self.source, error=ModelFileError)
        self.meta = self._meta()
        self.n_elements = sum(math.prod(shape) for shape, _, _ in self.headers.values())

    def _header(self, name):
        with self.zip.open(self.infos[name]) as f:
            return _read_header(f, name, self.source)

    def _meta(self):
        header = self.headers.pop(META_KEY, None)
        if header is None or header[1] != np.uint8 or len(header[0]) != 1:
            raise ModelFileError(f"{self.source}: missing {META_KEY!r} metadata; not written by "
                                 "numpynn")
        if header[0][0] > MAX_META_BYTES:
            raise ModelFileError(f"{self.source}: metadata of {format_bytes(header[0][0])}; "
                                 f"the limit is {format_bytes(MAX_META_BYTES)}")
        try:
            text = self.read(META_KEY, header).tobytes().decode("utf-8")
        except UnicodeDecodeError as err:
            raise ModelFileError(f"{self.source}: metadata is not valid JSON ({err})") from None
        meta = parse_nested(json.loads, text, f"{self.source}: metadata", "JSON",
                            error=ModelFileError)
        if not isinstance(meta, dict):
            raise ModelFileError(f"{self.source}: metadata must be a JSON object")
        return meta

    def read(self, name, header=None, out=None):
        """The array ``name``: exactly the bytes its header declares, read in bounded chunks
        (into ``out``, whose shape and dtype must be the header's, when given)."""
        shape, dtype, fortran = header or self.headers[name]
        if out is not None:
            _check_match(name, shape, dtype, out, self.source)
        direct = out is not None and out.flags.c_contiguous and not fortran
        array = out if direct else np.empty(shape[::-1] if fortran else shape, dtype)
        with self._reading(), self.zip.open(self.infos[name]) as f:
            _read_header(f, name, self.source)
            _read_exactly(f, array.reshape(-1).view(np.uint8), name, self.source)
        array = array.T if fortran else array  # stored column-major: the transpose is `shape`
        if out is not None and not direct:
            out[...] = array
        return out if out is not None else array

    @contextlib.contextmanager
    def _reading(self):
        """Turn what zipfile, zlib and the .npy parser raise on a bad file into ModelFileError."""
        try:
            yield
        except (FileNotFoundError, ModelFileError):
            raise
        except (zipfile.BadZipFile, EOFError, zlib.error) as err:
            raise ModelFileError(f"{self.source}: not a numpynn .npz file or truncated "
                                 f"({err})") from None
        except (ValueError, OSError, KeyError, NotImplementedError) as err:
            raise ModelFileError(f"{self.source}: cannot read as a numpynn .npz file "
                                 f"(no pickle is ever loaded): {err}") from None


def _check_regular_file(path):
    """Refuse what is not a regular file before opening it: a FIFO blocks open() forever."""
    if not stat.S_ISREG(os.stat(path).st_mode):  # FileNotFoundError when absent
        raise ModelFileError(f"{path}: not a regular file (a folder, pipe or device)\n"
                             "help: give the path of a .npz file written by numpynn.save")


def _read_header(f, name, source):
    """``(shape, dtype, fortran_order)`` from a .npy header; object arrays are refused."""
    version = np.lib.format.read_magic(f)
    if version not in ((1, 0), (2, 0)):
        raise ModelFileError(f"{source}: array {name!r} has .npy format version {version}; "
                             "numpynn reads versions 1.0 and 2.0")
    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = read(f, max_header_size=MAX_HEADER_BYTES)
    if dtype.hasobject:
        raise ModelFileError(f"{source}: array {name!r} holds Python objects; numpynn files "
                             "hold numbers only (no pickle is ever loaded)")
    return shape, dtype, fortran


def _nbytes(shape, dtype):
    return math.prod(shape) * dtype.itemsize  # Python ints: no overflow


def _read_exactly(f, buffer, name, source):
    """Fill ``buffer`` (uint8, the array's bytes) from ``f`` chunk by chunk, then refuse data
    beyond it: a stream is trusted for the bytes its header declares, never more."""
    done = 0
    while done < buffer.size:
        chunk = f.read(min(READ_CHUNK, buffer.size - done))
        if not chunk:
            raise ModelFileError(f"{source}: array {name!r} is truncated: its header declares "
                                 f"{buffer.size:,} bytes, the file holds {done:,}")
        buffer[done:done + len(chunk)] = np.frombuffer(chunk, np.uint8)
        done += len(chunk)
    if f.read(1):
        raise ModelFileError(f"{source}: array {name!r} is longer than its header says "
                             f"({buffer.size:,} bytes)")


def _check_declared_size(infos, path, max_bytes):
    total = sum(info.file_size for info in infos)
    if total > max_bytes + MAX_META_BYTES:
        raise ModelFileError(f"{path}: archive claims {total:,} bytes uncompressed; "
                             f"the limit is {max_bytes + MAX_META_BYTES:,}")


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
    expected = model_arrays(model)
    _check_names(expected, arrays, source)
    for name, target in expected.items():
        _check_match(name, arrays[name].shape, arrays[name].dtype, target, source)
        target[...] = arrays[name]
    model.task, model.classes = _task_and_classes(spec, source)
    return model


def _check_names(expected, arrays, source):
    missing, unexpected = sorted(set(expected) - set(arrays)), sorted(set(arrays) - set(expected))
    if missing or unexpected:
        raise ModelFileError(f"{source}: arrays do not match the architecture "
                             f"(missing: {missing or 'none'}; unexpected: {unexpected or 'none'})")


def _check_match(name, shape, dtype, target, source):
    if tuple(shape) != target.shape or dtype != target.dtype:
        raise ModelFileError(f"{source}: array {name!r} has shape {tuple(shape)} and dtype "
                             f"{dtype}; the architecture needs {target.shape} {target.dtype}")


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
                             f"its own layers and registered ones: {', '.join(LAYERS)}\n"
                             "help: a custom layer loads once its class is registered: "
                             "numpynn.register_layer(MyLayer)")
    config = entry.get("config", {})
    if not isinstance(config, dict) or not all(_config_value(v) for v in config.values()):
        raise ModelFileError(f"{where}: config must be an object of numbers and strings (and "
                             f"lists of at most {MAX_CONFIG_LIST} integers: a kernel's size)")
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


MAX_CONFIG_LIST = 4  # a config's list holds a few sizes: (kh, kw), a stride, (C, H, W)


def _config_value(value):
    """A JSON scalar, or a short list of integers (a kernel's size, an image's shape)."""
    if isinstance(value, list):
        return len(value) <= MAX_CONFIG_LIST and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value)
    return isinstance(value, (int, float, str, bool))


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
    with _Archive(path) as archive:  # metadata and .npy headers read; no array data yet
        model = _build(archive.meta, archive.source, element_budget=archive.n_elements)
        targets = model_arrays(model)
        _check_names(targets, archive.headers, archive.source)
        for name, target in targets.items():  # every header against the architecture first
            _check_match(name, *archive.headers[name][:2], target, archive.source)
        for name, target in targets.items():
            archive.read(name, out=target)   # straight into the model's arrays
        model.task, model.classes = _task_and_classes(archive.meta, archive.source)
    return model.eval()
