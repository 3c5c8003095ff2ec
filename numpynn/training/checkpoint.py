"""Training checkpoints: one ``.npz`` (no pickle, written atomically) holding everything a
resumed run needs, so that stopping after any epoch and resuming is bit-identical.

Layout: the model's parameters and buffers under ``model/``, the optimizer's arrays under
``optimizer/``, each callback's under ``callbacks/<key>/`` and the step losses under
``history/``; the JSON metadata holds the architecture, the epoch, the per-epoch history, the
random-generator states (the trainer's and the dropout layers'), the scalar parts of every
state dict and ``run_info`` (plain data describing the run). A callback's key is its class
name, ``Name#k`` for its k-th repeat.

A checkpoint is data, never instructions. :func:`read_checkpoint` checks every field against
the trainer's own model, optimizer, generator and callbacks before anything is applied: each
value is type- and range-checked, the hyper-parameters must be the trainer's, a callback takes
only the fields it declares, and an unknown field or array is an error. Nothing in a file can
name a path, a stream, a class or a switch. Any problem is a :class:`ModelFileError` naming the
file and the field.
"""
import contextlib
import dataclasses
import math
import numbers

import numpy as np

from numpynn._helpers.validation import all_finite, check_int
from numpynn.training.history import History
from numpynn.serialization import (ModelFileError, from_arrays, model_arrays, read_npz, to_arrays,
                                   write_npz)

FORMAT, VERSION = "numpynn.training.checkpoint", 1
FIELDS = ("format", "version", "model", "epoch", "history", "rng", "layer_rngs", "optimizer",
          "callbacks", "run_info")
OPTIONAL = {"run_info": {}}   # files written before run_info existed read as {}
HELP = ("help: the file is damaged or was edited; load another checkpoint (such as best.npz), "
        "or delete it and train afresh")


@dataclasses.dataclass
class CheckpointState:
    """What :func:`read_checkpoint` returns: every field checked, nothing applied yet."""
    model: dict       # parameter or buffer name -> array, fitting the trainer's model
    layer_rngs: dict  # layer index (str) -> its Generator.bit_generator.state
    optimizer: dict   # for Optimizer.load_state_dict
    rng: dict         # the trainer's Generator.bit_generator.state
    history: History
    epoch: int        # epochs completed
    callbacks: dict   # callback key -> its state dict (checked for the callbacks passed in)
    run_info: dict    # plain data describing the run, e.g. the command line's settings


def write_checkpoint(path, model, optimizer, epoch, history, rng, callbacks, run_info=None):
    """Atomically write a checkpoint of a training run to ``path``."""
    spec, model_arrays = to_arrays(model)
    arrays = {f"model/{name}": a for name, a in model_arrays.items()}
    meta = {"format": FORMAT, "version": VERSION, "model": spec,
            "epoch": epoch, "history": history.state(arrays),
            "rng": rng.bit_generator.state, "layer_rngs": model.rng_states(),
            "optimizer": _pack("optimizer", optimizer.state_dict(), arrays),
            "callbacks": {key: _pack(f"callbacks/{key}", cb.state_dict(), arrays)
                          for key, cb in keyed(callbacks)},
            "run_info": dict(run_info or {})}
    write_npz(path, arrays, meta)


def read_checkpoint(path, model, optimizer, rng, callbacks=()):
    """Read a checkpoint and check all of it against a trainer's ``model``, ``optimizer``,
    Generator ``rng`` and ``callbacks``, changing none of them.

    Returns
    -------
    CheckpointState
        Every field checked; the states of callbacks not passed in are only unpacked (the
        trainer checks them when it meets those callbacks).

    Raises
    ------
    ModelFileError
        Not a checkpoint (e.g. a plain model file), another architecture, or any field
        missing, unknown or out of range; names the file and the field.
    """
    # the model's own arrays bound what is read: a header of another shape is refused unread
    arrays, meta = _read(path, expect=model_arrays(model, prefix="model/"))
    fields = _Fields(path, meta, arrays)
    with fields.check("model"):
        weights = _check_model(model, fields.get("model"), fields.take("model/"), path)
    with fields.check("layer_rngs"):
        layer_rngs = _check_rng_table(model.rng_states(), fields.get("layer_rngs"))
    with fields.check("rng"):
        rng_state = _check_rng_state(rng.bit_generator.state, fields.get("rng"))
    with fields.check("epoch"):
        epoch = check_int(fields.get("epoch"), "epoch", minimum=0)
    with fields.check("history"):
        history = _check_history(fields.get("history"), fields.take("history/"), epoch)
    with fields.check("optimizer"):
        opt_state = _check_optimizer(optimizer, fields.unpack("optimizer", fields.get("optimizer")))
    with fields.check("callbacks"):
        packed = _mapping(fields.get("callbacks"), "callbacks")
        states = {key: fields.unpack(f"callbacks/{key}", value) for key, value in packed.items()}
    for key, cb in keyed(callbacks):
        if key in states:
            checked_callback_state(path, key, cb, states[key], model)
    with fields.check("run_info"):
        run_info = _check_run_info(fields.get("run_info"))
    fields.finish()
    return CheckpointState(weights, layer_rngs, opt_state, rng_state, history, epoch, states,
                           run_info)


def read_checkpoint_model(path):
    """The model a checkpoint holds (e.g. ``best.npz``), built anew: architecture, weights and
    buffers, checked as :func:`numpynn.load` checks a model file."""
    arrays, meta = _read(path)
    spec = meta.get("model")
    if not isinstance(spec, dict):
        raise ModelFileError(f"{path}: checkpoint field model is missing\n{HELP}")
    weights = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    return from_arrays(spec, weights, source=f"{path} (checkpoint field model)")


def _read(path, expect=None):
    arrays, meta = read_npz(path, expect=expect)
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ModelFileError(f"{path}: not a numpynn training checkpoint (format "
                             f"{meta.get('format')!r})\nhelp: model files load with "
                             "numpynn.load")
    return arrays, meta


def restore_model(model, state):
    """Copy a checked state's weights, buffers and dropout states into ``model``, in place
    (the optimizer holds these very arrays)."""
    targets = {**model.params(), **model.buffers()}
    for name, value in state.model.items():
        np.copyto(targets[name], value)
    model.set_rng_states(state.layer_rngs)


def checked_callback_state(path, key, callback, state, model):
    """``callback.check_state(state, model)``, its error a ModelFileError naming the field."""
    with _field_errors(path, f"callbacks.{key}"):
        return callback.check_state(state, model)


def keyed(callbacks):
    """``(key, callback)`` pairs; the key is the class name, ``Name#k`` for its k-th repeat."""
    seen = {}
    for cb in callbacks:
        name = type(cb).__name__
        seen[name] = seen.get(name, 0) + 1
        yield (name if seen[name] == 1 else f"{name}#{seen[name] - 1}"), cb


# -- reading: each field taken once, each problem named --------------------------------------
@contextlib.contextmanager
def _field_errors(path, field):
    """Turn what checking a field raises into a ModelFileError naming the file and field."""
    try:
        yield
    except ModelFileError:
        raise
    except KeyError as err:
        raise ModelFileError(f"{path}: checkpoint field {field}: missing {err}\n{HELP}") \
            from None
    except (TypeError, ValueError, IndexError, AttributeError, OverflowError,
            ZeroDivisionError) as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0]
        raise ModelFileError(f"{path}: checkpoint field {field}: {reason}\n{HELP}") from None


class _Fields:
    """The metadata and arrays of one file; every array must be claimed by some field."""

    def __init__(self, path, meta, arrays):
        self.path, self.meta, self.arrays = path, meta, dict(arrays)
        unknown = sorted(set(meta) - set(FIELDS))
        if unknown:
            raise ModelFileError(f"{path}: checkpoint has unknown field(s) {unknown}; a "
                                 f"checkpoint holds {', '.join(FIELDS)}\n{HELP}")

    def check(self, field):
        return _field_errors(self.path, field)

    def get(self, field):
        if field in self.meta:
            return self.meta[field]
        if field in OPTIONAL:
            return OPTIONAL[field]
        raise ModelFileError(f"{self.path}: checkpoint field {field} is missing\n{HELP}")

    def take(self, prefix):
        """The arrays named ``prefix…``, with the prefix removed; claimed."""
        names = [name for name in self.arrays if name.startswith(prefix)]
        return {name[len(prefix):]: self.arrays.pop(name) for name in names}

    def unpack(self, prefix, packed):
        """A state dict from :func:`_pack`'s ``{"values": {...}, "arrays": [[key, scalar]]}``."""
        packed = _mapping(packed, prefix)
        if set(packed) != {"values", "arrays"}:
            raise ValueError(f"{prefix} must hold exactly 'values' and 'arrays'; got "
                             f"{sorted(packed)}")
        state = dict(_mapping(packed["values"], f"{prefix} values"))
        listed = packed["arrays"]
        if not isinstance(listed, list):
            raise TypeError(f"{prefix} arrays must be a list; got {type(listed).__name__}")
        for entry in listed:
            if (not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], str)
                    or not isinstance(entry[1], bool) or entry[0] in state):
                raise ValueError(f"{prefix} arrays: bad entry {entry!r}")
            name = f"{prefix}/{entry[0]}"
            if name not in self.arrays:
                raise KeyError(f"array {name}")
            value = self.arrays.pop(name)
            if entry[1] and value.ndim != 0:
                raise ValueError(f"array {name} must be a scalar; got shape {value.shape}")
            state[entry[0]] = value[()] if entry[1] else value  # 0-d array -> NumPy scalar
        return state

    def finish(self):
        if self.arrays:
            raise ModelFileError(f"{self.path}: checkpoint holds arrays no field declares: "
                                 f"{sorted(self.arrays)[:5]}\n{HELP}")


def _mapping(value, what):
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be a JSON object; got {type(value).__name__}")
    return value


def _check_model(model, spec, arrays, path):
    """The saved weights and buffers: this model's architecture, names, shapes, dtypes."""
    if spec != to_arrays(model)[0]:
        raise ModelFileError(f"{path}: the checkpoint's architecture differs from the "
                             "trainer's model\nhelp: build the model with the run's settings")
    targets = {**model.params(), **model.buffers()}
    if arrays.keys() != targets.keys():
        raise ValueError(f"arrays do not match the architecture (missing: "
                         f"{sorted(set(targets) - set(arrays))}; unexpected: "
                         f"{sorted(set(arrays) - set(targets))})")
    for name, target in targets.items():
        value = arrays[name]
        if value.shape != target.shape or value.dtype != target.dtype:
            raise ValueError(f"array {name} has shape {value.shape} {value.dtype}; the model "
                             f"needs {target.shape} {target.dtype}")
        if not all_finite(value):
            raise ValueError(f"array {name} holds NaN or inf")
    return arrays


def _check_rng_table(current, saved):
    """One state per layer that draws randomness, each fitting that layer's generator."""
    saved = _mapping(saved, "layer_rngs")
    if saved.keys() != current.keys():
        raise ValueError(f"expected states for layers {sorted(current)}; got {sorted(saved)}")
    return {i: _check_rng_state(current[i], saved[i]) for i in current}


def _check_rng_state(template, state):
    """A bit-generator state of the same kind and layout as ``template`` (ints where it has
    ints), accepted by a fresh generator of that kind."""
    _same_layout(template, state, "state")
    bit_generator = getattr(np.random, template["bit_generator"])()
    bit_generator.state = state   # raises for out-of-range words
    return bit_generator.state


def _same_layout(template, value, where):
    if isinstance(template, dict):
        value = _mapping(value, where)
        if value.keys() != template.keys():
            raise ValueError(f"{where} has keys {sorted(value)}; expected {sorted(template)}")
        for key in template:
            _same_layout(template[key], value[key], f"{where}.{key}")
    elif isinstance(template, str):
        if value != template:
            raise ValueError(f"{where} is {value!r}; expected {template!r}")
    elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"{where} must be an integer >= 0; got {value!r}")


def _check_history(meta, arrays, epoch):
    """Per-epoch lists of finite numbers, one entry per recorded epoch; the step losses."""
    meta = _mapping(meta, "history")
    if set(meta) != {"history", "epoch"} or set(arrays) != {"iteration_loss"}:
        raise ValueError(f"history must hold 'history', 'epoch' and the array iteration_loss; "
                         f"got {sorted(meta)} and arrays {sorted(arrays)}")
    epochs = meta["epoch"]
    if not isinstance(epochs, list):
        raise TypeError(f"history.epoch must be a list; got {type(epochs).__name__}")
    epochs = [check_int(e, "history.epoch", minimum=0, maximum=max(epoch - 1, 0))
              for e in epochs]
    if any(b <= a for a, b in zip(epochs, epochs[1:])) or len(epochs) > epoch:
        raise ValueError(f"history.epoch must count up, at most {epoch} epochs; got {epochs}")
    for key, values in _mapping(meta["history"], "history.history").items():
        if not isinstance(values, list) or len(values) != len(epochs) or not all(
                _finite_number(v) for v in values):
            raise ValueError(f"history.history[{key!r}] must be {len(epochs)} finite numbers")
    steps = arrays["iteration_loss"]
    if steps.ndim != 1 or steps.dtype != np.float64:
        raise ValueError(f"history/iteration_loss must be a 1-D float64 array; got "
                         f"{steps.shape} {steps.dtype}")
    return History.from_state(meta, {"history/iteration_loss": steps})


def _finite_number(value):
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def _check_optimizer(optimizer, state):
    """The optimizer's own check, and its hyper-parameters must be this optimizer's: a
    checkpoint continues a run, it does not reconfigure it (only the rate moves, by schedule)."""
    hyper = optimizer.check_state_dict(state)
    for name, value in hyper.items():
        if value != getattr(optimizer, name):
            raise ValueError(f"{name} is {value!r}; the trainer's optimizer has "
                             f"{getattr(optimizer, name)!r}")
    return state


def _check_run_info(info):
    """A JSON object of plain values: numbers, strings, booleans, None, lists of those."""
    info = _mapping(info, "run_info")
    plain = (str, int, float, bool, type(None))
    for key, value in info.items():
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, plain) for v in items):
            raise TypeError(f"run_info[{key!r}] must be a plain value or a list of them")
    return dict(info)


# -- writing ----------------------------------------------------------------------------------
def _pack(prefix, state, arrays):
    """Split a state dict: ndarrays and NumPy scalars into ``arrays`` (exact, dtype kept),
    Python values into the returned JSON part."""
    values, stored = {}, []
    for key, value in state.items():
        if isinstance(value, (np.ndarray, np.generic)):
            arrays[f"{prefix}/{key}"] = np.asarray(value)
            stored.append([key, isinstance(value, np.generic)])
        else:
            values[key] = value
    return {"values": values, "arrays": stored}
