"""Callbacks: code the :class:`~numpynn.training.trainer.Trainer` runs around each epoch.

The trainer owns the loop and the history; a callback only reacts (Keras's protocol):

- ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``,
  ``on_train_end(logs)``; ``epoch`` counts from 0 and ``logs`` is the epoch's
  ``{"loss": …, "acc": …, "val_loss": …, "val_acc": …, "lr": …}``;
- ``self.trainer`` is set before training starts; a callback stops training by setting
  ``self.trainer.stop_training = True``;
- ``state_dict()`` / ``load_state_dict(d)``: everything a resumed run needs, saved in training
  checkpoints. A callback declares it in ``state_fields`` (name -> check), and restores those
  fields and nothing else, each checked for type and range: a checkpoint holds counters,
  metrics and arrays, never a path, a stream or a switch;
- ``order``: callbacks run sorted by it (stable), so a schedule steps and early stopping counts
  *before* a :class:`Checkpoint` saves their state.

There are no per-step hooks for callbacks: the hot loop calls nothing but the model, loss and
optimizer, and the progress reporter's ``on_step`` when it asks for steps (a bar within the
epoch, or PyTorch-style lines every ``print_every`` steps). A callback may say what it did in
one sentence from ``report()`` (early stopping: when it stopped and which epoch it restored);
the progress reporter prints those when training ends.
"""
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from numpynn._helpers.extras import INSTALL, available
from numpynn._helpers.validation import all_finite, check_int, check_range, choose
from numpynn.training.history import format_metric

# order: schedules first, then the rules that read the metrics, then reporting, then saving
ORDER_SCHEDULE, ORDER_DEFAULT, ORDER_PROGRESS, ORDER_CHECKPOINT = -10, 0, 50, 100


# -- checks of restored state: check(value, name, where) -> the value to restore --------------
def _count(value, name, where):
    return check_int(value, name, minimum=0, where=where)


def _metric(value, name, where):
    value = check_range(value, name, where=where)
    if not math.isfinite(value):
        raise ValueError(f"{where}: {name} must be a finite number; got {value}")
    return value


def _optional(check):
    """``check``, with None allowed (e.g. no best value yet)."""
    return lambda value, name, where: None if value is None else check(value, name, where)


def checked_fields(table, state, where):
    """``{name: check(state[name])}`` for each ``name -> check`` of ``table``; ``state`` must
    hold exactly those names."""
    if not isinstance(state, dict):
        raise TypeError(f"{where}: the state must be a dict; got {type(state).__name__}")
    unknown, missing = sorted(set(state) - set(table)), sorted(set(table) - set(state))
    if unknown or missing:
        raise ValueError(f"{where}: the state holds exactly {', '.join(table) or 'nothing'}; "
                         f"unknown: {unknown}, missing: {missing}")
    return {name: check(state[name], name, where) for name, check in table.items()}


class Callback:
    """Base class: every hook does nothing; subclasses override the ones they need.

    ``state_fields`` maps each attribute a checkpoint saves and restores to its check,
    ``check(value, name, where) -> value``; nothing else is saved or restored.
    """

    order = ORDER_DEFAULT
    trainer = None
    state_fields = {}

    def set_trainer(self, trainer):
        self.trainer = trainer

    def on_train_begin(self, logs):
        pass

    def on_epoch_begin(self, epoch, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_end(self, logs):
        pass

    def report(self):
        """One sentence about what this callback did in the last ``fit``, or None."""
        return None

    def state_dict(self):
        """The state a resumed run needs: the attributes named in ``state_fields``."""
        return {name: getattr(self, name) for name in self.state_fields}

    def check_state(self, state, model=None):
        """``state`` checked, changing nothing: exactly the fields :meth:`state_dict` writes,
        each type- and range-checked (``model``: the trainer's, for callbacks that keep copies
        of its arrays). Returns attribute -> value; raises TypeError or ValueError naming the
        field."""
        return checked_fields(self.state_fields, state, f"{type(self).__name__}.load_state_dict")

    def load_state_dict(self, state):
        """Restore :meth:`state_dict` output: the checked fields, nothing else."""
        model = self.trainer.model if self.trainer is not None else None
        for name, value in self.check_state(state, model).items():
            setattr(self, name, value)


# -- "is this value better than the best so far?" -----------------------------------------------
# mode -> (improved(value, best, min_delta), description)
MODES = {
    "min": lambda value, best, min_delta: value < best - min_delta,
    "max": lambda value, best, min_delta: value > best + min_delta,
}


def resolve_mode(mode, monitor, where=""):
    """``"auto"`` means ``"max"`` for accuracies (``acc``, ``val_acc``), ``"min"`` otherwise;
    ``where`` names the caller in the error for an unknown mode."""
    if mode == "auto":
        return "max" if monitor.endswith("acc") else "min"
    choose(mode, {**MODES, "auto": None}, "mode", where=where)
    return mode


def _improved(mode, value, best, min_delta=0.0):
    return best is None or MODES[mode](value, best, min_delta)


def _monitored(callback, logs):
    """``logs[callback.monitor]``, or None with a warning (once) when it is missing."""
    value = logs.get(callback.monitor)
    if value is None and not getattr(callback, "_warned", False):
        callback._warned = True
        warnings.warn(f"{type(callback).__name__}: monitor {callback.monitor!r} is not in the "
                      f"epoch logs (have: {', '.join(logs)}); it is ignored\n"
                      "help: pass validation data to fit, or monitor 'loss'", stacklevel=3)
    return value


def _check_monitor(monitor, where):
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(f"{where}: monitor must be a metric name such as 'val_loss'; "
                         f"got {monitor!r}")
    return monitor


class EarlyStopping(Callback):
    """Stop when the monitored metric has not improved for ``patience`` epochs.

    An epoch improves when ``value < best − min_delta`` (mode ``"min"``) or
    ``value > best + min_delta`` (mode ``"max"``); after ``patience`` consecutive epochs without
    improvement training stops. With ``restore_best``, the parameters and buffers of the best
    epoch are put back when it stops early (Keras's ``restore_best_weights``); a run that reaches
    its last epoch keeps its last weights.

    Parameters
    ----------
    monitor : str, default "val_loss"
        A key of the epoch logs.
    patience : int, default 5
        Epochs without improvement tolerated.
    min_delta : float, default 0.0
        Smallest change that counts as improvement.
    mode : {"auto", "min", "max"}, default "auto"
        ``"auto"``: maximise accuracies, minimise everything else.
    restore_best : bool, default True

    Attributes
    ----------
    best : float or None
        Best value so far. ``best_epoch``: its epoch (from 0). ``wait``: epochs since then.
    stopped_epoch : int or None
        The epoch after which training stopped.

    Examples
    --------
    >>> stop = EarlyStopping(monitor="val_loss", patience=3)
    >>> # trainer.fit(X, y, X_val, y_val, epochs=100, callbacks=[stop])
    """

    state_fields = {"best": _optional(_metric), "best_epoch": _optional(_count), "wait": _count,
                    "stopped_epoch": _optional(_count)}
    ARRAYS = "best_arrays/"   # state keys of the best epoch's arrays: best_arrays/<name>

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto",
                 restore_best=True):
        where = "EarlyStopping"
        self.monitor = _check_monitor(monitor, where)
        self.patience = check_int(patience, "patience", minimum=0, where=where)
        self.min_delta = check_range(min_delta, "min_delta", 0, where=where)
        self.mode = resolve_mode(mode, monitor, where=where)
        self.restore_best = bool(restore_best)
        self.best, self.best_epoch, self.wait, self.stopped_epoch = None, None, 0, None
        self._best_arrays = {}  # name -> copy of the best epoch's parameter or buffer

    def on_epoch_end(self, epoch, logs):
        value = _monitored(self, logs)
        if value is None:
            return
        if _improved(self.mode, value, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = float(value), epoch, 0
            if self.restore_best:
                self._snapshot()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs):
        if self.restore_best and self.stopped_epoch is not None and self._best_arrays:
            for name, target in _model_arrays(self.trainer.model).items():
                np.copyto(target, self._best_arrays[name])

    @property
    def restored_epoch(self):
        """The epoch (from 0) whose weights the model holds after an early stop, or None."""
        if self.restore_best and self.stopped_epoch is not None and self._best_arrays:
            return self.best_epoch
        return None

    def report(self):
        if self.stopped_epoch is None:
            return None
        said = (f"early stopping: {self.monitor} did not improve for {self.patience} epochs; "
                f"stopped after epoch {self.stopped_epoch + 1}")
        if self.restored_epoch is not None:
            said += (f", restored the weights of epoch {self.restored_epoch + 1} "
                     f"({self.monitor}={self.best:.4f})")
        return said

    def _snapshot(self):
        for name, array in _model_arrays(self.trainer.model).items():
            if name in self._best_arrays:
                np.copyto(self._best_arrays[name], array)
            else:
                self._best_arrays[name] = array.copy()

    def state_dict(self):
        state = super().state_dict()
        state.update({f"{self.ARRAYS}{name}": a for name, a in self._best_arrays.items()})
        return state

    def check_state(self, state, model=None):
        where = "EarlyStopping.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{where}: the state must be a dict; got {type(state).__name__}")
        arrays = {k[len(self.ARRAYS):]: v for k, v in state.items() if k.startswith(self.ARRAYS)}
        checked = super().check_state({k: v for k, v in state.items()
                                       if not k.startswith(self.ARRAYS)})
        if (checked["best"] is None) != (checked["best_epoch"] is None):
            raise ValueError(f"{where}: best and best_epoch must both be set or both None; got "
                             f"{checked['best']!r} and {checked['best_epoch']!r}")
        checked["_best_arrays"] = _checked_copies(arrays, model, where)
        return checked


def _model_arrays(model):
    return {**model.params(), **model.buffers()}


def _checked_copies(arrays, model, where):
    """Copies of saved model arrays: none, or one per parameter and buffer of ``model`` with
    its shape and dtype (unchecked against a model when it is None), all finite."""
    for name, value in arrays.items():
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f" or not all_finite(value):
            raise ValueError(f"{where}: best_arrays/{name} must be a finite float array")
    if model is not None and arrays:
        targets = _model_arrays(model)
        if arrays.keys() != targets.keys():
            raise ValueError(f"{where}: best_arrays hold {sorted(arrays)}; the model has "
                             f"{sorted(targets)}")
        for name, target in targets.items():
            if arrays[name].shape != target.shape or arrays[name].dtype != target.dtype:
                raise ValueError(f"{where}: best_arrays/{name} has shape {arrays[name].shape} "
                                 f"{arrays[name].dtype}; the model's is {target.shape} "
                                 f"{target.dtype}")
    return {name: np.array(value) for name, value in arrays.items()}


class Checkpoint(Callback):
    """Write training checkpoints into ``directory`` after every epoch, atomically.

    ``last.npz`` is rewritten each epoch (``save_last``); ``best.npz`` whenever the monitored
    metric improves (``save_best``). Each file is a full :meth:`Trainer.save_checkpoint`
    (weights, buffers, optimizer, schedule and callback state, history, random states), so
    ``Trainer.load_checkpoint(directory / "last.npz")`` resumes bit-identically. A file is
    replaced only by a complete new one; a diverged run (NaN loss) raises before it is written.
    ``best.npz`` is written before ``last.npz``: a run killed between the two resumes from the
    epoch before, and writing ``best.npz`` again gives the same file.

    Parameters
    ----------
    directory : str or Path
        Created if missing.
    monitor : str, default "val_loss"
    save_best, save_last : bool, default True
    mode : {"auto", "min", "max"}, default "auto"

    Attributes
    ----------
    best : float or None
        Best monitored value so far; ``best_epoch`` its epoch (from 0).
    """

    order = ORDER_CHECKPOINT
    LAST, BEST = "last.npz", "best.npz"
    state_fields = {"best": _optional(_metric), "best_epoch": _optional(_count)}

    def __init__(self, directory, monitor="val_loss", save_best=True, save_last=True,
                 mode="auto"):
        self.directory = Path(directory)
        self.monitor = _check_monitor(monitor, "Checkpoint")
        self.save_best, self.save_last = bool(save_best), bool(save_last)
        self.mode = resolve_mode(mode, monitor, where="Checkpoint")
        self.best, self.best_epoch = None, None

    def on_epoch_end(self, epoch, logs):
        value = _monitored(self, logs) if self.save_best else None
        improved = value is not None and _improved(self.mode, value, self.best)
        if improved:
            self.best, self.best_epoch = float(value), epoch
        if improved:
            self.trainer.save_checkpoint(self.directory / self.BEST)
        if self.save_last:
            self.trainer.save_checkpoint(self.directory / self.LAST)


class LRSchedulerCallback(Callback):
    """Step a learning-rate schedule once per epoch, after the epoch's metrics are known.

    ``ReduceLROnPlateau`` (any schedule whose ``step`` takes a metric) receives
    ``logs[monitor]``; the others step without arguments. ``Trainer(schedule=...)`` wraps its
    schedule in this callback: it is the one mechanism that steps schedules.

    Parameters
    ----------
    schedule : a schedule from :mod:`numpynn.optim`
    monitor : str, default "val_loss"
        Read only by plateau schedules; ``"loss"`` is used when it is missing.
    """

    order = ORDER_SCHEDULE

    def __init__(self, schedule, monitor="val_loss"):
        if not callable(getattr(schedule, "step", None)):
            raise TypeError(f"LRSchedulerCallback: schedule must have a step() method; "
                            f"got {type(schedule).__name__}")
        self.schedule = schedule
        self.monitor = _check_monitor(monitor, "LRSchedulerCallback")

    def on_epoch_end(self, epoch, logs):
        if getattr(self.schedule, "needs_metric", False):
            self.schedule.step(logs.get(self.monitor, logs["loss"]))
        else:
            self.schedule.step()

    def state_dict(self):
        return self.schedule.state_dict()

    def check_state(self, state, model=None):
        """The schedule's own check, and its hyper-parameters must be this schedule's: a
        checkpoint continues a run, it does not reconfigure it."""
        values = self.schedule.check_state_dict(state)
        for name in self.schedule.hyper:
            if values[name] != getattr(self.schedule, name):
                raise ValueError(f"{type(self.schedule).__name__}.load_state_dict: the state "
                                 f"has {name}={values[name]!r}; this schedule has "
                                 f"{getattr(self.schedule, name)!r}\nhelp: build the "
                                 "schedule as for the run that wrote the state")
        return state

    def load_state_dict(self, state):
        self.schedule.load_state_dict(self.check_state(state))


# -- progress ------------------------------------------------------------------------------------
def format_logs(logs):
    """``"loss=0.1234 acc=0.9650 lr=0.01"``: 4 decimals for metrics, ``%g`` for the rate."""
    return " ".join(f"{key}={format_metric(key, value)}" for key, value in logs.items())


def format_epoch(epoch, epochs, logs, seconds):
    """One log line: ``Epoch 3/10 loss=0.1234 acc=0.9650 val_loss=… lr=0.01 (1.2s)``.

    ``epoch`` counts from 0 (as in the hooks); the line counts from 1.
    """
    return f"Epoch {epoch + 1}/{epochs} {format_logs(logs)} ({seconds:.1f}s)"


def format_step(epoch, seen, n, step, steps, loss):
    """PyTorch's MNIST-example line: ``Train Epoch: 1 [3200/60000 (5%)]\tLoss: 2.192860``.

    ``epoch`` and ``step`` count from 0; ``seen`` is the number of samples before this step.
    """
    return f"Train Epoch: {epoch + 1} [{seen}/{n} ({100 * step / steps:.0f}%)]\tLoss: {loss:.6f}"


def format_test(loss, correct, n):
    """PyTorch's evaluation line: ``Test set: Average loss: 0.9211, Accuracy: 8353/10000 (84%)``."""
    return f"Test set: Average loss: {loss:.4f}, Accuracy: {correct}/{n} ({100 * correct / n:.0f}%)"


class ProgressLogger(Callback):
    """Report training: one line per finished epoch, a bar within the epoch on a terminal.

    Every finished epoch leaves its metrics line (``Epoch 3/10 loss=… acc=… (1.2s)``); on a
    terminal a tqdm bar shows the steps of the running epoch and gives way to that line (as
    Keras does). With ``print_every=K``, every K-th step also prints PyTorch's MNIST-example
    line (:func:`format_step`). When training ends, the callbacks' reports are printed (e.g.
    where early stopping stopped). Writing to a closed stream never stops training.

    Parameters
    ----------
    stream : text file, optional
        Where to write; ``sys.stdout`` (looked up when training starts) by default.
    bar : {"auto", True, False}, default "auto"
        ``"auto"``: a bar when ``stream`` is a terminal with columns, or tqdm's notebook
        widget when training runs in a Jupyter kernel that writes to its own stdout and
        ipywidgets is installed -- unless ``$NUMPYNN_PROGRESS`` is ``lines`` or ``$CI`` is set,
        as for notebooks executed headless (nbclient has no widget frontend, so a widget
        would leave only its placeholder text in the saved outputs). tqdm is imported only
        for a bar; without it (a core install) there is none, with a warning when the bar was
        asked for by ``bar=True``.
    print_every : int, optional
        Print a step line every ``print_every`` steps of each epoch (its first step included).
    """

    order = ORDER_PROGRESS

    def __init__(self, stream=None, bar="auto", print_every=None):
        self.stream, self.bar = stream, bar
        self.print_every = None if print_every is None else check_int(
            print_every, "print_every", minimum=1, where="ProgressLogger")
        self._tqdm, self._use_bar, self._start, self._epoch = None, False, 0.0, 0

    @property
    def wants_steps(self):
        """True when the loop should call :meth:`on_step` (a bar or step lines)."""
        return self._use_bar or self.print_every is not None

    def on_train_begin(self, logs):
        self._use_bar = self._bar_wanted(self.stream or sys.stdout)

    def _bar_wanted(self, stream):
        use_bar = self.bar if self.bar != "auto" else (
            _isatty(stream) and _columns(stream) > 0 or _notebook_widget_wanted(stream))
        if use_bar and not available("tqdm"):
            if self.bar is True:
                warnings.warn(f"tqdm is not installed, so progress is shown as log lines "
                              f"({INSTALL} draws a bar)", stacklevel=3)
            return False
        return bool(use_bar)

    def on_epoch_begin(self, epoch, logs):
        self._start, self._epoch = time.perf_counter(), epoch

    def start_epoch(self, steps):
        """Called by the loop with the number of steps, before the first one."""
        if self._use_bar:
            from tqdm.auto import tqdm
            self._tqdm = tqdm(total=steps, desc=f"Epoch {self._epoch + 1}/{self.trainer.epochs}",
                              unit="step", file=self.stream or sys.stdout, leave=False,
                              dynamic_ncols=True)

    def on_step(self, step, steps, seen, n, loss):
        """After step ``step`` (from 0) of ``steps``; ``seen`` samples came before it."""
        if self._tqdm is not None:
            self._tqdm.update(1)
        if self.print_every is not None and step % self.print_every == 0:
            self._write(format_step(self._epoch, seen, n, step, steps, loss))

    def on_epoch_end(self, epoch, logs):
        seconds = time.perf_counter() - self._start
        self._close_bar()
        self._write(format_epoch(epoch, self.trainer.epochs, logs, seconds))

    def on_train_end(self, logs):
        self._close_bar()
        for cb in self.trainer._active:
            said = cb.report()
            if said is not None:
                self._write(said)

    def _close_bar(self):
        if self._tqdm is not None:
            try:
                self._tqdm.close()
            except (OSError, ValueError):   # its stream closed: nothing more to draw
                pass
            self._tqdm = None

    def _write(self, line):
        stream = self.stream or sys.stdout
        try:
            stream.write(line + "\n")
            stream.flush()
        except (BrokenPipeError, ValueError):   # a closed pipe or file: keep training
            self.stream = _Discard()


class _Discard:
    """Where progress goes once its stream has closed (``numpynn train | head -1``)."""

    def write(self, text):
        return len(text)

    def flush(self):
        pass


def _columns(stream):
    """The terminal width of ``stream`` (0 for a pseudo-terminal with no size)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 80


def _notebook_widget_wanted(stream):
    """True inside a Jupyter kernel (writing to its stdout) with ipywidgets, outside CI and
    headless runs (``NUMPYNN_PROGRESS=lines``): there ``tqdm.auto`` draws the notebook widget."""
    if os.environ.get("NUMPYNN_PROGRESS") == "lines" or os.environ.get("CI"):
        return False
    ipython = sys.modules.get("IPython")   # never imported here: only present in IPython
    shell = ipython.get_ipython() if ipython is not None else None
    in_kernel = getattr(shell, "kernel", None) is not None
    return in_kernel and stream is sys.stdout and available("ipywidgets")


def _isatty(stream):
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


# Trainer(progress=...) / --log -> ProgressLogger's bar argument (None: no reporter at all)
PROGRESS = {"auto": "auto", "bar": True, "lines": False, "log": False, "quiet": None}


def make_progress(progress, print_every=None):
    """The reporter for ``Trainer(progress=..., print_every=...)``: a name in :data:`PROGRESS`
    (True means ``"auto"``; ``"quiet"`` and False print nothing), a text stream (lines
    written to it), or a :class:`ProgressLogger` itself.

    Returns a :class:`ProgressLogger` or None.
    """
    if progress is False or progress is None:
        return None
    if isinstance(progress, ProgressLogger):
        return progress
    if hasattr(progress, "write"):
        return ProgressLogger(stream=progress, bar=False, print_every=print_every)
    if progress is True or isinstance(progress, str):
        bar = choose("auto" if progress is True else progress, PROGRESS, "progress",
                     where="Trainer")
        return None if bar is None else ProgressLogger(bar=bar, print_every=print_every)
    raise TypeError(f"Trainer: progress must be one of {', '.join(PROGRESS)}, True, False or a "
                    f"text stream; got {progress!r}")
