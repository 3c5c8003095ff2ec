"""The optimizer protocol: :class:`Optimizer` validates, allocates state, steps and saves and
restores its state; each update rule (:mod:`numpynn.optim.optimizers`) fills one hook,
``_update``, with its formula as the textbook writes it. ``fast=True`` (the default) runs the
same rule rewritten in place over packed, blocked vectors instead (:mod:`numpynn._speed`)."""
import numpy as np

from numpynn._helpers.validation import check_int, check_positive, check_same_shape
from numpynn._speed.fast_update import FastUpdate
from numpynn.optim._checks import _check_params, _key_mismatch, _plain, set_hyper


class Optimizer:
    """Base class: validation, state, ``step``, ``state_dict``; subclasses fill ``_update``.

    Parameters
    ----------
    params : dict of str -> ndarray
        The arrays to update in place (floating, writable), e.g. ``model.params()``.
    lr : float
        Learning rate; a plain attribute that schedules change between epochs.
    fast : bool, default True
        True: the in-place, blocked update of :mod:`numpynn._speed` (what training uses);
        False: the reference ``_update``, one NumPy expression per line of the formula. Both
        compute the same update (equal to 1e-10 in float64, tested).
    **hyper
        The subclass's hyper-parameters, named in its ``hyper`` table.

    Attributes
    ----------
    lr : float
    params : dict of str -> ndarray
        The very arrays passed in (a new dict, same arrays).
    state : dict of str -> dict of str -> ndarray
        Per-key buffers, same shape and dtype as the parameter, e.g.
        ``state["0.W"]["exp_avg"]``. Plain arrays a checkpoint can save.
    step_count : int
        Number of ``step`` calls so far (Adam's bias-correction ``t``).

    The hyper-parameters are attributes too (``opt.momentum``, ``opt.betas``), fixed after
    construction because the buffers are allocated for them; only ``lr`` may change.

    A subclass declares ``name`` (registry key), ``hyper`` (name -> converter, in constructor
    order) and ``buffers`` (state buffer -> the hyper-parameter that switches it on, None for
    always; ``initial`` names a hyper-parameter holding a buffer's start value), and fills
    ``_update(p, g, state)``; ``_validate()`` may check hyper-parameters against each other.
    """
    name = "optimizer"
    hyper = {}
    buffers = {}
    initial = {}
    decoupled_weight_decay = False   # True: AdamW's p <- p(1 - lr*wd) instead of g <- g + wd*p

    def __init__(self, params, lr, *, fast=True, **hyper):
        where = type(self).__name__
        self.params = _check_params(params, where)
        check_positive(lr, "learning rate", allow_zero=True, where=where)
        self.lr = float(lr)
        set_hyper(self, hyper, where)
        self._validate()
        if not isinstance(fast, (bool, np.bool_)):
            raise TypeError(f"{where}: fast must be True or False; got {fast!r}")
        self.fast = bool(fast)
        self.step_count = 0
        if self.fast:
            self._fast = FastUpdate(self)   # allocates self.state
        else:
            self._fast = None
            self.state = {key: {name: np.full_like(p, value)
                                for name, value in self.initial_state().items()}
                          for key, p in self.params.items()}

    def __repr__(self):
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in ("lr", *self.hyper))
        return f"{type(self).__name__}({args})"

    # -- what a rule declares and fills ----------------------------------------------------------
    def _validate(self):
        """Check the hyper-parameters against each other (each one is checked on conversion)."""

    def initial_state(self):
        """Buffer name -> start value (0, or the hyper-parameter ``initial`` names), for each
        buffer the hyper-parameters switch on."""
        state = {}
        for name, switch in self.buffers.items():
            if switch is None or getattr(self, switch):
                state[name] = float(getattr(self, self.initial[name])) if name in self.initial \
                    else 0.0
        return state

    def _update(self, p, g, state):
        """The reference update of one parameter ``p`` (in place) from its gradient ``g``."""
        raise NotImplementedError

    def check_grads(self, grads):
        """Return ``grads`` if it fits ``params`` (same keys, shapes and dtypes), else raise."""
        where = f"{type(self).__name__}.step"
        if not isinstance(grads, dict):
            raise TypeError(f"{where}: grads must be a dict of name -> ndarray; got "
                            f"{type(grads).__name__}\nhelp: pass model.grads()")
        if grads.keys() != self.params.keys():
            raise _key_mismatch(self.params, grads, "grads must have the same keys as params",
                                where,
                                "pass model.grads() of the model whose params() built the "
                                "optimizer")
        for key, p in self.params.items():
            if not p.flags.writeable:
                raise ValueError(
                    f"{where}: params[{key!r}] is no longer the model's array: a Sequential "
                    "moved its layers' parameters into one packed buffer after this optimizer "
                    "was built, so stepping would train a copy the model never reads\n"
                    "help: build the optimizer from the model, e.g. "
                    f"{type(self).__name__}(model.params(), ...), and step it with "
                    "model.grads()")
            g = grads[key]
            if not isinstance(g, np.ndarray):
                raise TypeError(f"{where}: grads[{key!r}] must be a numpy array; got "
                                f"{type(g).__name__}")
            check_same_shape(p, g, f"params[{key!r}]", f"grads[{key!r}]", where=where)
            if g.dtype != p.dtype:
                raise TypeError(f"{where}: grads[{key!r}] has dtype {g.dtype}; expected "
                                f"{p.dtype} (the dtype of params[{key!r}])\nhelp: "
                                f"grads[{key!r}].astype(np.{p.dtype})")
        return grads

    def step(self, grads):
        """Update every parameter in place from ``grads`` (same keys, shapes and dtypes).

        Parameters
        ----------
        grads : dict of str -> ndarray
            ``grads[key]`` has the shape and dtype of ``params[key]``; it is only read.
        """
        self._step(self.check_grads(grads))

    def _step(self, grads):
        """:meth:`step` on trusted ``grads`` (the Trainer checks them once per ``fit``)."""
        self.step_count += 1
        if self._fast is not None:
            self._fast.step(self, grads)
            return
        for key, p in self.params.items():
            self._update(p, grads[key], self.state[key])

    def state_dict(self):
        """Everything a resumed run needs, as flat keys -> Python scalars or ndarrays (copies).

        Keys: ``"optimizer"`` (registry name), ``"lr"``, ``"step_count"``, each hyper-parameter
        (``betas`` as a float64 array of 2) and ``"state.<key>.<buffer>"``, e.g.
        ``"state.0.W.exp_avg"``. ``np.savez`` stores it without pickle.
        """
        out = {"optimizer": self.name, "lr": self.lr, "step_count": self.step_count}
        for name in self.hyper:
            value = getattr(self, name)
            out[name] = np.array(value) if isinstance(value, tuple) else value
        for key, buffers in self.state.items():
            for name, buf in buffers.items():
                out[f"state.{key}.{name}"] = buf.copy()
        return out

    def load_state_dict(self, state_dict):
        """Restore :meth:`state_dict` output exactly (hyper-parameters, lr, step, buffers).

        Continuing after a restore is bit-identical to never stopping. The dict may come back
        from ``np.load`` (0-d arrays for scalars). Nothing changes if it does not fit.
        """
        self.__dict__.update(self._restored(state_dict).__dict__)

    def check_state_dict(self, state_dict):
        """Raise as :meth:`load_state_dict` would for ``state_dict``, changing nothing; return
        the hyper-parameters it holds (name -> value, as the attributes hold them)."""
        restored = self._restored(state_dict)
        return {name: getattr(restored, name) for name in self.hyper}

    def _restored(self, state_dict):
        """A new optimizer on the same params holding ``state_dict``, checked; self unchanged."""
        where = f"{type(self).__name__}.load_state_dict"
        d = {key: value if key.startswith("state.") else _plain(value)   # buffers may be 0-d
             for key, value in state_dict.items()}
        if d.get("optimizer") != self.name:
            raise ValueError(f"{where}: the state_dict is for optimizer {d.get('optimizer')!r}; "
                             f"this is {self.name!r}\nhelp: build OPTIMIZERS"
                             f"[{d.get('optimizer')!r}] on the same params and load into it")
        scalars = ("lr", *self.hyper)
        if not all(name in d for name in scalars):
            raise _key_mismatch((*scalars, "step_count"), d, "state_dict lacks keys", where,
                                "pass the dict returned by state_dict()")
        fresh = type(self)(self.params, fast=self.fast, **{name: d[name] for name in scalars})
        expected = {"optimizer": None, "step_count": None, **dict.fromkeys(scalars)}
        expected.update({f"state.{k}.{n}": (k, n) for k, s in fresh.state.items() for n in s})
        if d.keys() != expected.keys():
            raise _key_mismatch(expected, d, "state_dict does not fit these params", where,
                                "load a state_dict saved by an optimizer on the same params")
        for flat, (key, name) in ((k, v) for k, v in expected.items() if v is not None):
            buf, saved = fresh.state[key][name], np.asarray(d[flat])
            check_same_shape(buf, saved, f"params[{key!r}]", f"state_dict[{flat!r}]", where)
            if saved.dtype != buf.dtype:
                raise TypeError(f"{where}: state_dict[{flat!r}] has dtype {saved.dtype}; "
                                f"expected {buf.dtype} (the dtype of params[{key!r}])")
            np.copyto(buf, saved)
        fresh.step_count = check_int(d["step_count"], "step_count", minimum=0, where=where)
        return fresh

