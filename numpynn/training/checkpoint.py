"""Training checkpoints: one ``.npz`` (no pickle, written atomically) holding everything a
resumed run needs, so that stopping after any epoch and resuming is bit-identical.

Layout: the model's parameters and buffers under ``model/``, the optimizer's arrays under
``optimizer/``, each callback's under ``callbacks/<key>/`` and the step losses under
``history/``; the JSON metadata holds the architecture, the epoch, the per-epoch history, the
random-generator states (the trainer's and the dropout layers') and the scalar parts of every
state dict. A callback's key is its class name, ``Name#k`` for its k-th repeat.
"""
import dataclasses

import numpy as np

from numpynn.training.history import History
from numpynn.serialization import ModelFileError, from_arrays, read_npz, to_arrays, write_npz

FORMAT, VERSION = "numpynn.training.checkpoint", 1


@dataclasses.dataclass
class CheckpointState:
    """What :func:`read_checkpoint` returns besides the model it restores in place."""
    optimizer: dict   # for Optimizer.load_state_dict
    rng: dict         # the trainer's Generator.bit_generator.state
    history: History
    epoch: int        # epochs completed
    callbacks: dict   # callback key -> its state dict


def write_checkpoint(path, model, optimizer, epoch, history, rng, callbacks):
    """Atomically write a checkpoint of a training run to ``path``."""
    spec, model_arrays = to_arrays(model)
    arrays = {f"model/{name}": a for name, a in model_arrays.items()}
    meta = {"format": FORMAT, "version": VERSION, "model": spec,
            "epoch": epoch, "history": history.state(arrays),
            "rng": rng.bit_generator.state, "layer_rngs": model.rng_states(),
            "optimizer": _pack("optimizer", optimizer.state_dict(), arrays),
            "callbacks": {key: _pack(f"callbacks/{key}", cb.state_dict(), arrays)
                          for key, cb in keyed(callbacks)}}
    write_npz(path, arrays, meta)


def read_checkpoint(path, model):
    """Read a checkpoint: copy its weights, buffers and dropout states into ``model`` (which
    must have the checkpoint's architecture) and return the rest as a :class:`CheckpointState`.

    Raises
    ------
    ModelFileError
        Not a checkpoint (e.g. a plain model file), or another architecture; names the file.
    """
    arrays, meta = read_npz(path)
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ModelFileError(f"{path}: not a numpynn training checkpoint (format "
                             f"{meta.get('format')!r})\nhelp: model files load with "
                             "numpynn.load")
    _restore_model(model, meta["model"], _unprefix("model/", arrays), path)
    model.set_rng_states(meta["layer_rngs"])
    return CheckpointState(
        optimizer=_unpack("optimizer", meta["optimizer"], arrays), rng=meta["rng"],
        history=History.from_state(meta["history"], arrays), epoch=int(meta["epoch"]),
        callbacks={key: _unpack(f"callbacks/{key}", packed, arrays)
                   for key, packed in meta["callbacks"].items()})


def _restore_model(model, spec, arrays, path):
    if spec != to_arrays(model)[0]:
        raise ModelFileError(f"{path}: the checkpoint's architecture differs from the "
                             "trainer's model\nhelp: build the model with the run's settings")
    loaded = from_arrays(spec, arrays, source=str(path))  # validates names, shapes, dtypes
    for table in ("params", "buffers"):
        targets = getattr(model, table)()
        for name, value in getattr(loaded, table)().items():
            np.copyto(targets[name], value)   # in place: the optimizer holds these arrays


def keyed(callbacks):
    """``(key, callback)`` pairs; the key is the class name, ``Name#k`` for its k-th repeat."""
    seen = {}
    for cb in callbacks:
        name = type(cb).__name__
        seen[name] = seen.get(name, 0) + 1
        yield (name if seen[name] == 1 else f"{name}#{seen[name] - 1}"), cb


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


def _unpack(prefix, packed, arrays):
    state = dict(packed["values"])
    for key, is_scalar in packed["arrays"]:
        value = arrays[f"{prefix}/{key}"]
        state[key] = value[()] if is_scalar else value  # 0-d array -> NumPy scalar
    return state


def _unprefix(prefix, arrays):
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
