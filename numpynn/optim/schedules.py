"""Learning-rate schedules, stepped once per epoch; each changes ``optimizer.lr``."""
import copy
import math

from numpynn._helpers.validation import check_positive, choose
from numpynn.optim._checks import _count, _key_mismatch, _plain, _real, converted, set_hyper
from numpynn.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: changes ``optimizer.lr`` once per epoch; subclasses fill ``get_lr``.

    Attributes
    ----------
    optimizer : Optimizer
    base_lr : float
        ``optimizer.lr`` when the schedule was built.
    last_epoch : int
        Number of ``step()`` calls so far; ``optimizer.lr`` is the rate for epoch
        ``last_epoch`` (0-based).
    last_lr : float
        The rate the schedule last set.

    Subclass tables: ``hyper`` (constructor arguments -> converter) and ``counters`` (running
    state -> converter); both go into :meth:`state_dict`.
    """
    name = "schedule"
    hyper = {}
    counters = {}
    needs_metric = False   # True: step(metric), e.g. ReduceLROnPlateau

    def __init__(self, optimizer, **hyper):
        where = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{where}: optimizer must be a numpynn.optim optimizer; got "
                            f"{type(optimizer).__name__}\nhelp: build one from OPTIMIZERS")
        check_positive(optimizer.lr, "optimizer.lr", allow_zero=True, where=where)
        self.optimizer, self.base_lr, self.last_epoch = optimizer, optimizer.lr, 0
        set_hyper(self, hyper, where)
        self._validate()
        self.optimizer.lr = self.last_lr = self._initial_lr()

    def _validate(self):
        """Check the converted hyper-parameters."""

    def _initial_lr(self):
        return self.optimizer.lr

    def get_lr(self):
        """The rate for epoch ``last_epoch``."""
        raise NotImplementedError

    def step(self):
        """End an epoch: advance ``last_epoch`` and set ``optimizer.lr`` for the next one."""
        self.last_epoch += 1
        self.optimizer.lr = self.last_lr = self.get_lr()

    def state_dict(self):
        """Python scalars only: ``schedule``, ``base_lr``, ``last_epoch``, ``last_lr`` and the
        hyper-parameters and counters."""
        names = ("base_lr", "last_epoch", "last_lr", *self.hyper, *self.counters)
        return {"schedule": self.name, **{name: getattr(self, name) for name in names}}

    def load_state_dict(self, state_dict):
        """Restore :meth:`state_dict` output, including ``optimizer.lr = last_lr``, so it does
        not matter whether the optimizer or the schedule is loaded first."""
        self.__dict__.update(self.check_state_dict(state_dict))
        self.optimizer.lr = self.last_lr

    def check_state_dict(self, state_dict):
        """Raise as :meth:`load_state_dict` would for ``state_dict``, changing nothing; return
        its values converted (name -> value, for the attributes of the same names)."""
        where = f"{type(self).__name__}.load_state_dict"
        d = {key: _plain(value) for key, value in state_dict.items()}
        tables = {"base_lr": _real, "last_epoch": _count, "last_lr": _real, **self.hyper,
                  **self.counters}
        if d.get("schedule") != self.name:
            raise ValueError(f"{where}: the state_dict is for schedule {d.get('schedule')!r}; "
                             f"this is {self.name!r}\nhelp: build SCHEDULES"
                             f"[{d.get('schedule')!r}] and load into it")
        if d.keys() != {"schedule", *tables}:
            raise _key_mismatch({"schedule": None, **tables}, d, "state_dict has the wrong keys",
                                where, f"pass the state_dict() of a {type(self).__name__}")
        values = converted(tables, d, where)
        for name in ("base_lr", "last_lr"):   # last_lr becomes the optimizer's rate
            check_positive(values[name], name, allow_zero=True, where=where)
        for name in ("last_epoch", *(n for n, c in self.counters.items() if c is _count)):
            if values[name] < 0:
                raise ValueError(f"{where}: {name} must be an integer >= 0; got {values[name]}")
        probe = copy.copy(self)   # _validate reads the attributes; self stays as it is
        probe.__dict__.update(values)
        probe._validate()
        return values


class ExponentialLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every epoch: :math:`\eta_e = \eta_0 \gamma^e`.

    The courses' ``learning_rate_decay``. Computed as PyTorch does, :math:`\eta \leftarrow
    \eta\gamma` each step, so it matches ``torch.optim.lr_scheduler.ExponentialLR`` exactly.

    >>> import numpy as np
    >>> from numpynn.optim import SGD
    >>> opt = SGD({"x": np.zeros(1)}, lr=1.0)
    >>> schedule = ExponentialLR(opt, gamma=0.5)
    >>> schedule.step(); schedule.step(); opt.lr
    0.25
    """
    name = "exponential"
    hyper = {"gamma": _real}

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer, gamma=gamma)

    def _validate(self):
        check_positive(self.gamma, "gamma", where="ExponentialLR")

    def get_lr(self):
        return self.optimizer.lr * self.gamma


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs:
    :math:`\eta_e = \eta_0 \gamma^{\lfloor e / \text{step\_size} \rfloor}` (PyTorch's StepLR)."""
    name = "step"
    hyper = {"step_size": _count, "gamma": _real}

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer, step_size=step_size, gamma=gamma)

    def _validate(self):
        check_positive(self.step_size, "step_size", where="StepLR")
        check_positive(self.gamma, "gamma", where="StepLR")

    def get_lr(self):
        decays = self.last_epoch % self.step_size == 0
        return self.optimizer.lr * self.gamma if decays else self.optimizer.lr


class CosineWarmupLR(LRScheduler):
    r"""Linear warm-up, then cosine annealing to ``min_lr``; :math:`\eta_0` is the optimizer's
    rate when the schedule is built, :math:`W` = ``warmup_epochs``, :math:`T` =
    ``total_epochs`` and :math:`e` the 0-based epoch:

    .. math::
        \eta_e = \begin{cases}
          \eta_0 \,(e + 1) / W & e < W \\
          \eta_{min} + \tfrac12(\eta_0 - \eta_{min})
             \left(1 + \cos\left(\pi \frac{e - W}{T - W}\right)\right) & W \le e \le T \\
          \eta_{min} & e > T
        \end{cases}

    So the warm-up climbs from :math:`\eta_0/W` to :math:`\eta_0` at epoch :math:`W-1`, the
    cosine starts at :math:`\eta_0` at epoch :math:`W` (the peak is used twice) and reaches
    :math:`\eta_{min}` at epoch :math:`T`. The cosine part equals PyTorch's
    ``CosineAnnealingLR(T_max=T - W, eta_min=min_lr)`` stepped :math:`e - W` times (computed
    here in closed form, PyTorch's recursively: equal to ~1e-15); PyTorch's would then rise
    again, this one stays at ``min_lr``. Building the schedule sets ``optimizer.lr`` to
    :math:`\eta_0/W` (:math:`\eta_0` when ``warmup_epochs=0``).

    >>> import numpy as np
    >>> from numpynn.optim import SGD
    >>> opt = SGD({"x": np.zeros(1)}, lr=1.0)
    >>> schedule = CosineWarmupLR(opt, warmup_epochs=2, total_epochs=4)
    >>> lrs = [opt.lr] + [schedule.step() or opt.lr for _ in range(4)]
    >>> [round(lr, 3) for lr in lrs]
    [0.5, 1.0, 1.0, 0.5, 0.0]
    """
    name = "cosine"
    hyper = {"warmup_epochs": _count, "total_epochs": _count, "min_lr": _real}

    def __init__(self, optimizer, warmup_epochs, total_epochs, min_lr=0.0):
        super().__init__(optimizer, warmup_epochs=warmup_epochs, total_epochs=total_epochs,
                         min_lr=min_lr)

    def _validate(self):
        check_positive(self.warmup_epochs, "warmup_epochs", allow_zero=True,
                       where="CosineWarmupLR")
        check_positive(self.min_lr, "min_lr", allow_zero=True, where="CosineWarmupLR")
        if self.total_epochs <= self.warmup_epochs:
            raise ValueError(f"CosineWarmupLR: total_epochs ({self.total_epochs}) must exceed "
                             f"warmup_epochs ({self.warmup_epochs})\nhelp: total_epochs is "
                             "the length of the whole run, warm-up included")

    def get_lr(self):
        e, w, t = self.last_epoch, self.warmup_epochs, self.total_epochs
        if e < w:
            return self.base_lr * (e + 1) / w
        progress = min(e - w, t - w) / (t - w)
        return self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2

    def _initial_lr(self):
        return self.get_lr()


# min/max x rel/abs -> "is `current` better than `best`?" (PyTorch's ReduceLROnPlateau)
_IMPROVES = {
    ("min", "rel"): lambda current, best, threshold: current < best * (1.0 - threshold),
    ("min", "abs"): lambda current, best, threshold: current < best - threshold,
    ("max", "rel"): lambda current, best, threshold: current > best * (threshold + 1.0),
    ("max", "abs"): lambda current, best, threshold: current > best + threshold,
}
_WORST = {"min": math.inf, "max": -math.inf}


class ReduceLROnPlateau(LRScheduler):
    r"""Multiply the rate by ``factor`` when a metric stops improving (PyTorch's semantics).

    ``step(metric)`` once per epoch. The metric improves when it beats ``best`` by
    ``threshold`` (``rel``: ``best * (1 - threshold)`` for ``min``; ``abs``:
    ``best - threshold``; mirrored for ``max``). After more than ``patience`` epochs without
    improvement, :math:`\eta \leftarrow \max(\eta \cdot \text{factor}, \text{min\_lr})` (skipped
    when the change is below ``eps``), then ``cooldown`` epochs are not counted as bad.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {"min", "max"}, default "min"
    factor : float, default 0.1
        In (0, 1).
    patience : int, default 10
    threshold : float, default 1e-4
    threshold_mode : {"rel", "abs"}, default "rel"
    cooldown : int, default 0
    min_lr : float, default 0.0
    eps : float, default 1e-8
        Smallest change of rate worth making.
    """
    name = "plateau"
    hyper = {"mode": str, "factor": _real, "patience": _count, "threshold": _real,
             "threshold_mode": str, "cooldown": _count, "min_lr": _real, "eps": _real}
    counters = {"best": _real, "num_bad_epochs": _count, "cooldown_counter": _count}
    needs_metric = True

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        super().__init__(optimizer, mode=mode, factor=factor, patience=patience,
                         threshold=threshold, threshold_mode=threshold_mode, cooldown=cooldown,
                         min_lr=min_lr, eps=eps)
        self.best, self.num_bad_epochs, self.cooldown_counter = _WORST[mode], 0, 0

    def _validate(self):
        where = "ReduceLROnPlateau"
        choose(self.mode, _WORST, "mode", where=where)
        choose(self.threshold_mode, {"rel": None, "abs": None}, "threshold_mode", where=where)
        if not 0.0 < self.factor < 1.0:
            raise ValueError(f"{where}: Factor should be < 1.0.; got factor={self.factor}\n"
                             "help: the rate is multiplied by factor, e.g. factor=0.1")
        for name in ("patience", "threshold", "cooldown", "min_lr", "eps"):
            check_positive(getattr(self, name), name, allow_zero=True, where=where)

    def step(self, metric):
        """End an epoch whose monitored value was ``metric`` (e.g. the validation loss)."""
        current = float(metric)
        self.last_epoch += 1
        if _IMPROVES[self.mode, self.threshold_mode](current, self.best, self.threshold):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0   # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.optimizer.lr * self.factor, self.min_lr)
            if self.optimizer.lr - new_lr > self.eps:
                self.optimizer.lr = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self.last_lr = self.optimizer.lr


SCHEDULES = {"exponential": ExponentialLR, "step": StepLR, "cosine": CosineWarmupLR,
             "plateau": ReduceLROnPlateau}
