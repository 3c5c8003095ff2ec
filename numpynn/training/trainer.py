"""Training loop: ``Trainer.fit`` runs epochs of shuffled minibatches and returns a ``History``.

One step (CS231n's Solver, with model, update rule and bookkeeping kept apart)::

    xb, yb = X[idx], y[idx]               gathered into preallocated buffers
    out = model.forward(xb)
    loss, dout = loss_fn(out, yb)         + ½·reg·Σ‖W‖² when reg > 0
    model.backward(dout)                  gradients land in model.grads(), in place
    grads += reg·W;  clip_grad_norm;  optimizer.step(grads)

Shuffling rule (the one definition; :func:`epoch_order`, :func:`batch_bounds`): each epoch
draws one permutation ``rng.permutation(N)`` from the trainer's Generator and cuts it into
consecutive batches of ``batch_size``; the last, smaller batch is kept, except that a last batch
of one sample joins the batch before it when the model has batch norm (which needs two samples
for a batch variance). Every sample is seen exactly once per epoch.

Inputs are validated once per ``fit``; the loop itself does no checking beyond one
``isfinite`` on the scalar loss.
"""
import math

import numpy as np

from numpynn._speed import aligned
from numpynn._speed.step_threads import blas_threads, threads_for
from numpynn._speed.workspace import Workspace
from numpynn.layers import BatchNorm, Sigmoid
from numpynn._helpers.validation import (all_finite, as_generator, check_array, check_cast,
                                         check_int, check_labels, check_positive,
                                         check_unit_interval)
from numpynn.training.callbacks import (Callback, LRSchedulerCallback, format_test,
                                        make_progress)
from numpynn.training.checkpoint import (checked_callback_state, keyed, read_checkpoint,
                                         restore_model, write_checkpoint)
from numpynn.training.history import Evaluation, History
from numpynn.losses import BCE, Loss, l2_penalty
from numpynn.optim import clip_grad_norm


class TrainingDiverged(FloatingPointError):
    """The loss (or the weights) became NaN or inf; the message names the epoch and step."""


def epoch_order(n, shuffle, rng):
    """The sample order of one epoch: ``rng.permutation(n)``, or ``arange(n)`` unshuffled."""
    return rng.permutation(n) if shuffle else np.arange(n)


def batch_bounds(n, batch_size, min_batch=1):
    """``[(start, stop), …]``: consecutive batches of ``batch_size`` covering ``n`` samples; a
    last batch smaller than ``min_batch`` joins the one before it.

    >>> batch_bounds(10, 4), batch_bounds(9, 4, min_batch=2)
    ([(0, 4), (4, 8), (8, 10)], [(0, 4), (4, 9)])
    """
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] < min_batch:
        starts.pop()
    return list(zip(starts, starts[1:] + [n]))


# -- accuracy: number of correct predictions in a batch, per task ------------------------------
def _correct_multiclass(out, y, threshold):
    return int(np.count_nonzero(out.argmax(axis=1) == y))  # (N, C) -> (N,)


def _correct_binary(out, y, threshold):
    return int(np.count_nonzero((out > threshold) == (y > 0.5)))  # (N, 1) vs (N, 1)


# samples run through the model before training, to check the targets and the loss's inputs
PROBE_SAMPLES = 256

CORRECT = {"multiclass": _correct_multiclass, "binary": _correct_binary, "regression": None}


# -- targets, checked once per fit against the model's output shape -----------------------------
def _check_class_targets(y, out_shape, n, dtype, name, where):
    return check_labels(y, out_shape[1], name=name, n_samples=n, where=where)


def _check_float_targets(y, out_shape, n, dtype, name, where):
    y = check_array(y, name, dtype_kind="fiu", where=where)
    expected = np.empty((n,) + tuple(out_shape[1:]), dtype=np.uint8)  # only its shape is used
    if y.shape != expected.shape:
        hint = (f"\nhelp: reshape {name} with {name}.reshape(-1, 1)"
                if y.shape == (n,) and out_shape[1:] == (1,) else "")
        raise ValueError(f"{where}: {name} has shape {y.shape}; expected {expected.shape} "
                         f"(N samples × the model's outputs){hint}")
    return check_cast(y, dtype, name, where=where)


def _check_binary_targets(y, out_shape, n, dtype, name, where):
    y = np.asarray(y)
    if y.shape == (n,) and tuple(out_shape[1:]) == (1,):
        y = y.reshape(n, 1)   # (N,) 0/1 labels for an (N, 1) output, as Keras takes them
    y = _check_float_targets(y, out_shape, n, dtype, name, where)
    return check_unit_interval(y, f"{name} (binary targets)", where)


TARGET_CHECKS = {"multiclass": _check_class_targets, "binary": _check_binary_targets,
                 "regression": _check_float_targets}


def _loss_kernel(loss_fn):
    """``(pred, target) -> (loss, dpred)`` without the per-call checks (a loss object's trusted
    ``_compute``): ``fit`` checked the targets once, and the loop checks the loss for NaN/inf.
    Other callables are used as given."""
    return loss_fn._compute if isinstance(loss_fn, Loss) else loss_fn


class Trainer:
    """Minibatch training of a model with a loss and an optimizer.

    Parameters
    ----------
    model : Sequential
    loss_fn : loss object from :mod:`numpynn.losses`
        ``loss_fn(pred, target) -> (loss, dpred)`` with ``loss_fn.task`` in
        ``{"multiclass", "binary", "regression"}``.
    optimizer : optimizer from :mod:`numpynn.optim`, built on ``model.params()``
    reg : float, default 0.0
        L2 strength: the loss minimised is ``data loss + ½·reg·Σ‖W‖²`` over weight matrices
        (biases and norm parameters excluded). The reported ``loss``, ``val_loss`` and
        ``evaluate()["loss"]`` INCLUDE this penalty (the courses' convention).
    schedule : schedule from :mod:`numpynn.optim`, optional
        Stepped once per epoch (wrapped in :class:`~numpynn.training.callbacks.LRSchedulerCallback`).
    callbacks : sequence of Callback
        Kept for every ``fit`` call (``fit(callbacks=...)`` adds more for one call).
    clip_norm : float, optional
        Clip the global gradient norm to this value before each step.
    rng : int or numpy.random.Generator, optional
        Source of the per-epoch permutations.
    progress : {"auto", "bar", "lines", "quiet", True, False} or text stream, default "auto"
        Every finished epoch prints its line (``Epoch 3/10 loss=… acc=… (1.2s)``);
        ``"auto"`` adds a bar within the epoch on a terminal, ``"bar"`` always, ``"lines"``
        never (``"log"`` is the same); a stream gets the lines; ``"quiet"`` or False is silent.
    print_every : int, optional
        Also print PyTorch's MNIST-example line every ``print_every`` steps:
        ``Train Epoch: 1 [3200/60000 (5%)]\tLoss: 2.192860``.

    Attributes
    ----------
    history : History
    epoch : int
        Epochs completed so far (a further ``fit`` continues from here).
    stop_training : bool
        Set by a callback to end ``fit`` after the current epoch.
    run_info : dict
        Plain data describing the run (``numpynn train`` keeps its settings here), written
        into every checkpoint and read back by :meth:`load_checkpoint`; numpynn never acts on
        it, so a resume can compare it with the settings it was given.

    Examples
    --------
    >>> import numpynn as nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)).astype(np.float32); y = (X[:, 0] > 0).astype(np.int64)
    >>> model = nn.Sequential(nn.Linear(4, 16, rng=1), nn.ReLU(), nn.Linear(16, 2, rng=2))
    >>> opt = nn.optim.SGD(model.params(), lr=0.1, momentum=0.9)
    >>> trainer = nn.Trainer(model, nn.SoftmaxCrossEntropy(), opt, rng=0, progress=False)
    >>> history = trainer.fit(X, y, epochs=20, batch_size=32)
    >>> history.history["acc"][-1] > 0.9
    True
    """

    def __init__(self, model, loss_fn, optimizer, *, reg=0.0, schedule=None, callbacks=(),
                 clip_norm=None, rng=None, progress="auto", print_every=None):
        where = "Trainer"
        self.task = choose_task(loss_fn, where)
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        model.task = self.task   # what model.predict returns, saved with the model
        self.reg = float(check_positive(reg, "reg", allow_zero=True, where=where))
        self.clip_norm = None if clip_norm is None else check_positive(clip_norm, "clip_norm",
                                                                       where=where)
        self.callbacks = _check_callbacks(callbacks, where)
        if schedule is not None:
            self.callbacks.append(LRSchedulerCallback(schedule))
        self.progress = make_progress(progress, print_every)
        self.rng = as_generator(rng)
        self.history, self.epoch, self.epochs = History(), 0, 0
        self.stop_training = False
        self.run_info = {}
        self._active = list(self.callbacks)     # the callbacks of the running fit
        self._pending_states = {}                # callback states loaded from a checkpoint
        self._pending_source = None              # ... and the file they came from

    # -- fit -------------------------------------------------------------------------------------
    def fit(self, X, y, X_val=None, y_val=None, epochs=10, batch_size=64, shuffle=True,
            callbacks=None, initial_epoch=None):
        """Train until ``epochs`` epochs are done in total (Keras's meaning: the final index).

        Parameters
        ----------
        X : ndarray of shape (N, D) or (N, d1, …)
        y : ndarray
            (N,) integer classes (multiclass), (N, 1) 0/1 targets (binary), (N, M) (regression).
        X_val, y_val : ndarray, optional
            Validation data, evaluated after each epoch (eval mode).
        epochs : int, default 10
            Index of the final epoch: a second ``fit(epochs=20)`` after ``fit(epochs=10)``
            trains 10 more.
        batch_size : int, default 64
            1 gives sample-by-sample SGD; N or more gives full-batch gradient descent. Small
            steps (sample by sample) train on one BLAS thread, faster there, unless a thread
            count was chosen (:mod:`numpynn.threads`).
        shuffle : bool, default True
            A fresh permutation per epoch (see :func:`epoch_order`).
        callbacks : sequence of Callback, optional
            Extra callbacks for this call.
        initial_epoch : int, optional
            Epoch to start from; defaults to the epochs already done (``self.epoch``).

        Returns
        -------
        History
            Training loss per epoch is the plain mean of that epoch's step losses (penalty
            included); training accuracy counts the predictions made during the epoch (train
            mode, Keras's convention).

        Raises
        ------
        TrainingDiverged
            A step's loss is NaN/inf; the message names the epoch and step (from 1).
        """
        where = "Trainer.fit"
        X, y = self._check_data(X, y, "X", "y", where)
        val = self._check_validation(X_val, y_val, where)
        self.epochs = check_int(epochs, "epochs", minimum=0, where=where)
        batch_size = min(check_int(batch_size, "batch_size", minimum=1, where=where), len(X))
        start = self.epoch if initial_epoch is None else check_int(
            initial_epoch, "initial_epoch", minimum=0, where=where)
        loop = _Loop(self, X, y, batch_size, shuffle)
        self._active = self._start_callbacks(callbacks, where)
        try:
            logs = {}
            for epoch in range(start, self.epochs):
                self._call("on_epoch_begin", epoch, logs)
                logs = self._run_epoch(loop, epoch, val)
                self._call("on_epoch_end", epoch, logs)
                if self.stop_training:
                    break
            self._call("on_train_end", logs)
        finally:
            self._active = list(self.callbacks)
        return self.history

    def _run_epoch(self, loop, epoch, val):
        lr = float(self.optimizer.lr)   # the rate used during this epoch
        logs = loop.run(epoch)
        if val is not None:
            logs.update({f"val_{k}": v for k, v in self._evaluate(*val, loop.eval_batch).items()})
        logs["lr"] = lr
        self.history.append(epoch, logs)
        self.epoch = epoch + 1
        return logs

    def _start_callbacks(self, extra, where):
        active = self.callbacks + _check_callbacks(extra or (), where)
        if self.progress is not None:
            active.append(self.progress)
        active.sort(key=lambda cb: cb.order)   # stable: equal orders keep their given order
        self._restore_callbacks(active)
        self.stop_training = False
        for cb in active:
            cb.set_trainer(self)
        for cb in active:
            cb.on_train_begin({})
        return active

    def _call(self, hook, *args):
        for cb in self._active:
            getattr(cb, hook)(*args)

    # -- evaluation and prediction ------------------------------------------------------------
    def evaluate(self, X, y, batch_size=1024, verbose=False):
        """Loss (penalty included) and accuracy on ``(X, y)`` in eval mode, in large chunks.

        Parameters
        ----------
        verbose : bool, default False
            Also print PyTorch's MNIST-example line for classification:
            ``Test set: Average loss: 0.9211, Accuracy: 8353/10000 (84%)``.

        Returns
        -------
        Evaluation
            A dict ``{"loss": float, "acc": float}`` (no ``"acc"`` for regression) that
            Jupyter shows as a table. The loss is the per-sample mean over all of X.
        """
        where = "Trainer.evaluate"
        X, y = self._check_data(X, y, "X", "y", where)
        result = self._evaluate(X, y, check_int(batch_size, "batch_size", minimum=1, where=where))
        if verbose and "acc" in result:
            print(format_test(result["loss"], round(result["acc"] * len(X)), len(X)))
        return result

    def _evaluate(self, X, y, batch_size):
        count, loss_fn = CORRECT[self.task], _loss_kernel(self.loss_fn)
        total, correct = 0.0, 0
        with self.model._evaluating():
            for start in range(0, len(X), batch_size):
                xb, yb = X[start:start + batch_size], y[start:start + batch_size]  # views
                out = self.model._forward(xb)
                total += float(loss_fn(out, yb)[0]) * len(xb)
                if count is not None:
                    correct += count(out, yb, self._threshold)
        logs = Evaluation(loss=total / len(X) + self._penalty())
        if count is not None:
            logs["acc"] = correct / len(X)
        return logs

    def predict(self, X, batch_size=1024):
        """Class indices (N,) for classification, values (N, M) for regression, in eval mode:
        :meth:`numpynn.sequential.Sequential.predict` of the trained model."""
        return self.model.predict(X, batch_size)

    def predict_proba(self, X, batch_size=1024):
        """Class probabilities (N, C) in eval mode (binary: (N, 2)):
        :meth:`numpynn.sequential.Sequential.predict_proba` of the trained model."""
        return self.model.predict_proba(X, batch_size)

    def _penalty(self):
        if not self.reg:
            return 0.0
        return float(l2_penalty(_weights(self.model.params()), self.reg)[0])

    # -- input checks, once per call ----------------------------------------------------------
    def _check_inputs(self, X, name, where):
        X = check_array(X, name, dtype_kind="fiu", where=where)
        if X.ndim < 2 or len(X) == 0:
            raise ValueError(f"{where}: {name} has shape {X.shape}; expected a non-empty batch "
                             f"(N, D)\nhelp: for one sample use {name}.reshape(1, -1)")
        return check_cast(X, self.model.dtype, name, where=where)  # once: the loop never casts

    def _check_data(self, X, y, name_x, name_y, where):
        X = self._check_inputs(X, name_x, where)
        with self.model._evaluating():   # a few samples through the model: its outputs
            out = self.model._forward(X[:PROBE_SAMPLES])
        y = TARGET_CHECKS[self.task](y, out.shape, len(X), self.model.dtype, name_y, where)
        if isinstance(self.loss_fn, Loss):   # its own checks of the outputs, once per fit
            self.loss_fn(out, y[:len(out)])  # (BCE: probabilities, with its advice)
        return X, y

    def _check_validation(self, X_val, y_val, where):
        if X_val is None and y_val is None:
            return None
        if X_val is None or y_val is None:
            raise ValueError(f"{where}: give both X_val and y_val or neither; got only "
                             f"{'X_val' if y_val is None else 'y_val'}")
        return self._check_data(X_val, y_val, "X_val", "y_val", where)

    @property
    def _threshold(self):
        return getattr(self.loss_fn, "threshold", 0.5)

    # -- checkpoints ----------------------------------------------------------------------------
    def save_checkpoint(self, path):
        """Write everything a resumed run needs to ``path`` (one ``.npz``, no pickle, atomic).

        Holds: parameters and buffers, optimizer state, the state of the running callbacks
        (schedule, early stopping, checkpoint bests), the epoch, the history, the trainer's
        and the layers' random-generator states (see :mod:`numpynn.training.checkpoint`).
        """
        write_checkpoint(path, self.model, self.optimizer, self.epoch, self.history, self.rng,
                         self._active, self.run_info)

    def load_checkpoint(self, path):
        """Restore a :meth:`save_checkpoint` file into this trainer, its model and optimizer.

        Build the trainer as for the original run (same architecture, loss, optimizer,
        schedule and callbacks), load, then ``fit(..., epochs=total)``: the result is
        bit-identical to an uninterrupted run. Returns self.

        Loading is a transaction: every field of the file is checked first (against this
        trainer's model, optimizer, generator and callbacks; see
        :mod:`numpynn.training.checkpoint`), and only then is anything changed.

        Raises
        ------
        ModelFileError
            A field is missing, unknown, of the wrong type or out of range, or the file is of
            another architecture or optimizer; names the file and the field. The trainer, its
            model, optimizer and callbacks are then exactly as they were.
        """
        known = self._known_callbacks()
        state = read_checkpoint(path, self.model, self.optimizer, self.rng, known)
        restore_model(self.model, state)   # from here on nothing can fail
        self.optimizer.load_state_dict(state.optimizer)
        self.rng.bit_generator.state = state.rng
        self.history, self.epoch, self.run_info = state.history, state.epoch, state.run_info
        self._pending_states, self._pending_source = state.callbacks, path
        self._restore_callbacks(known)
        return self

    def _known_callbacks(self):
        """The callbacks every ``fit`` runs, in their order: the given ones and progress."""
        known = self.callbacks + ([self.progress] if self.progress is not None else [])
        return sorted(known, key=lambda cb: cb.order)

    def _diverged(self, epoch, step, steps, loss):
        if isinstance(self.loss_fn, BCE) and not isinstance(self.model.layers[-1], Sigmoid):
            fix = ("BCE takes probabilities, and this model does not end with Sigmoid: use "
                   "BCEWithLogits or end the model with Sigmoid")
        else:
            fix = (f"lower the learning rate (lr={float(self.optimizer.lr):g}), clip gradients "
                   "with clip_norm=..., or standardise the inputs")
        return TrainingDiverged(
            f"training diverged in epoch {epoch + 1}, step {step + 1}/{steps}: the loss is "
            f"{loss}\nhelp: {fix}; checkpoints already written are kept")

    def _restore_callbacks(self, callbacks):
        """Give each callback its pending checkpoint state; all are checked before any is
        applied."""
        matched = [(key, cb) for key, cb in keyed(callbacks) if key in self._pending_states]
        for key, cb in matched:
            checked_callback_state(self._pending_source, key, cb, self._pending_states[key],
                                   self.model)
        for key, cb in matched:
            cb.load_state_dict(self._pending_states.pop(key))


class _Loop:
    """The hot loop of one ``fit``: buffers, lookups and the loss kernel made once, reused
    every step."""

    def __init__(self, trainer, X, y, batch_size, shuffle):
        self.trainer, self.X, self.y = trainer, X, y
        self.batch_size, self.shuffle = batch_size, shuffle
        self.eval_batch = max(batch_size, 1024)
        # batch norm needs two samples for a batch variance: a last lone sample joins the batch
        # before it, so the largest batch may be batch_size + 1
        self.min_batch = 2 if any(isinstance(layer, BatchNorm)
                                  for layer in trainer.model.layers) else 1
        self.bounds = batch_bounds(len(X), batch_size, self.min_batch)
        largest = max(stop - start for start, stop in self.bounds)
        self.xbuf = aligned.empty((largest,) + X.shape[1:], X.dtype)  # (B, D)
        self.ybuf = aligned.empty((largest,) + y.shape[1:], y.dtype)  # (B,) or (B, M)
        self.model, self.optimizer = trainer.model, trainer.optimizer
        self.loss_fn, self.reg, self.clip_norm = _loss_kernel(trainer.loss_fn), trainer.reg, \
            trainer.clip_norm
        self.count, self.threshold = CORRECT[trainer.task], trainer._threshold
        self.params, self.grads = trainer.model.params(), trainer.model.grads()
        self.optimizer.check_grads(self.grads)  # once: the loop steps with the trusted _step
        self.workspace = Workspace(trainer.model)  # the arrays each step writes into
        self.threads = threads_for(trainer.model, batch_size)  # 1 for small steps, else None
        self.weights = _weights(self.params)   # what the L2 penalty sees

    def run(self, epoch):
        """One epoch; returns ``{"loss": …, "acc": …}`` (no acc for regression)."""
        n = len(self.X)
        order = epoch_order(n, self.shuffle, self.trainer.rng)
        steps = len(self.bounds)
        losses, correct = np.empty(steps), 0
        progress = self.trainer.progress
        progress = progress if progress is not None and progress.wants_steps else None
        if progress is not None:
            progress.start_epoch(steps)
        self.model.train()
        # overflow on the way to a NaN loss is reported once, as TrainingDiverged, not as warnings
        with np.errstate(over="ignore", invalid="ignore"), blas_threads(self.threads):
            for step, (start, stop) in enumerate(self.bounds):
                losses[step], right = self.step(order[start:stop])
                if not math.isfinite(losses[step]):
                    raise self.trainer._diverged(epoch, step, steps, losses[step])
                correct += right
                if progress is not None:
                    progress.on_step(step, steps, start, n, losses[step])
            self._check_weights(epoch, steps)
        self.trainer.history.iteration_loss.extend(losses.tolist())
        logs = {"loss": float(losses.mean())}
        if self.count is not None:
            logs["acc"] = correct / n
        return logs

    def step(self, idx):
        """Train on samples ``idx``; returns (loss, correct predictions). With a NaN loss the
        parameters are left as they were (the update is skipped)."""
        # mode="clip": the indices are valid by construction, and "raise" would buffer out
        xb = np.take(self.X, idx, axis=0, out=self.xbuf[:len(idx)], mode="clip")  # (B, D)
        yb = np.take(self.y, idx, axis=0, out=self.ybuf[:len(idx)], mode="clip")
        out = self.workspace.forward(xb)  # into the arrays of the previous step
        loss, dout = self.loss_fn(out, yb)
        if self.reg:
            penalty, reg_grads = l2_penalty(self.weights, self.reg)
            loss += penalty
        if not math.isfinite(loss):
            return loss, 0
        correct = self.count(out, yb, self.threshold) if self.count is not None else 0
        self.workspace.backward(dout)     # parameter gradients only, into model.grads()
        if self.reg:
            for name, grad in reg_grads.items():
                self.grads[name] += grad
        if self.clip_norm is not None:
            clip_grad_norm(self.grads, self.clip_norm)
        self.optimizer._step(self.grads)
        return loss, correct

    def _check_weights(self, epoch, steps):
        """A last step can make the weights NaN with a finite loss: never checkpoint those."""
        for name, p in self.params.items():
            if not all_finite(p):
                raise self.trainer._diverged(epoch, steps - 1, steps, f"finite, but {name} "
                                             "holds NaN/inf after the update")


# -- small helpers ------------------------------------------------------------------------------
def choose_task(loss_fn, where):
    task = getattr(loss_fn, "task", None)
    if task not in CORRECT:
        raise TypeError(f"{where}: loss_fn must be a numpynn loss with a task in "
                        f"{', '.join(CORRECT)}; got {type(loss_fn).__name__} (task={task!r})")
    return task


def _check_callbacks(callbacks, where):
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"{where}: callbacks must be numpynn.training.callbacks.Callback objects; "
                            f"got {type(cb).__name__}")
    return callbacks


def _weights(params):
    """The arrays the L2 penalty covers: weight matrices (ndim >= 2), not biases."""
    return {name: p for name, p in params.items() if p.ndim >= 2}
