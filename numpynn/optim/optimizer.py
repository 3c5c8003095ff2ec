"""The optimizer protocol: :class:`Optimizer` validates, allocates state and scratch, steps
through the segments and blocks of its parameters, and saves and restores its state; each
update rule (:mod:`numpynn.optim.optimizers`) fills one hook, ``_update``."""
import numpy as np

from numpynn._speed import aligned
from numpynn._helpers.validation import check_positive, check_same_shape
from numpynn.optim._checks import _check_params, _count, _key_mismatch, _plain, set_hyper
from numpynn._speed import segments
from numpynn._speed.segments import Segment, block_size, packed_vector
from numpynn._speed.subnormals import FLUSH_EVERY, flush_plan, needs_mask


class Optimizer:
    """Base class: validation, buffers, ``step``, ``state_dict``; subclasses fill ``_update``.

    Parameters
    ----------
    params : dict of str -> ndarray
        The arrays to update in place (floating, writable), e.g. ``model.params()``.
    lr : float
        Learning rate; a plain attribute that schedules change between epochs.
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

    Subclass hooks: ``name`` (registry key), ``hyper`` (name -> converter, in constructor
    order), ``_validate()``, ``_buffers() -> names``, ``_init_state(p)``, ``_flush_names(dtype)``,
    ``_block_bytes()`` and ``_update(p, g, state, scratch)``.
    """
    name = "optimizer"
    hyper = {}
    decoupled_weight_decay = False   # True: AdamW's p <- p(1 - lr*wd) instead of g <- g + wd*p

    def __init__(self, params, lr, **hyper):
        where = type(self).__name__
        self.params = _check_params(params, where)
        check_positive(lr, "learning rate", allow_zero=True, where=where)
        self.lr = float(lr)
        set_hyper(self, hyper, where)
        self._validate()
        self.step_count = 0
        self._allocate()

    def __repr__(self):
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in ("lr", *self.hyper))
        return f"{type(self).__name__}({args})"

    # -- hooks -------------------------------------------------------------------------------
    def _validate(self):
        """Check the hyper-parameters (already converted); raise in PyTorch's words."""

    def _buffers(self):
        """Names of the per-key state buffers under the current hyper-parameters."""
        return ()

    def _init_state(self, p):
        return {name: aligned.zeros_like(p) for name in self._buffers()}

    def _flush_names(self, dtype):
        """Decaying buffers to flush of subnormals (only where provably harmless)."""
        return ()

    def _block_bytes(self):
        """Bytes per block of the update (see :mod:`numpynn._speed.segments`), 0 for one block."""
        return segments.BLOCK_BYTES

    def _update(self, p, g, state, scratch):
        raise NotImplementedError

    # -- the protocol ------------------------------------------------------------------------
    def _allocate(self):
        """Preallocate state and the segments: the arrays updated as one (all parameters when
        they are packed, else each one), cut into blocks with block-sized scratch (``tmp``,
        ``grad``, ``mask``), and the flush plan of their dtype."""
        self.state, self._segments = {}, []
        arrays = list(self.params.values())
        vector = packed_vector(arrays) if len(arrays) > 1 else None
        if vector is None:
            for key, p in self.params.items():
                self.state[key] = self._init_state(p)
                self._add_segment((key,), p, self.state[key])
        else:   # one vector: state buffers are vectors too, each key viewing its part
            state, start = self._init_state(vector), 0
            for key, p in self.params.items():
                self.state[key] = {name: buf[start:start + p.size].reshape(p.shape)
                                   for name, buf in state.items()}
                start += p.size
            self._add_segment(tuple(self.params), vector, state)

    def _add_segment(self, keys, vector, state):
        coupled = getattr(self, "weight_decay", 0) != 0 and not self.decoupled_weight_decay
        names = self._flush_names(vector.dtype)
        size = block_size(vector, self._block_bytes())
        scratch = {"tmp": aligned.empty(size, vector.dtype)}
        if coupled:
            scratch["grad"] = aligned.empty(size, vector.dtype)
        if needs_mask(names):
            scratch["mask"] = aligned.empty(size, bool)
        flush = flush_plan(names, vector.dtype)
        self._segments.append(Segment(keys, vector, state, scratch, flush, size))

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

    def _decayed_grad(self, p, g, scratch):
        """``g + weight_decay * p`` (PyTorch's coupled L2 decay) in scratch, or ``g`` itself."""
        if getattr(self, "weight_decay", 0) == 0 or self.decoupled_weight_decay:
            return g
        out = np.multiply(p, self.weight_decay, out=scratch["grad"])
        out += g
        return out

    def step(self, grads):
        """Update every parameter in place from ``grads`` (same keys, shapes and dtypes).

        Parameters
        ----------
        grads : dict of str -> ndarray
            ``grads[key]`` has the shape and dtype of ``params[key]``; it is only read.
        """
        self.step_trusted(self.check_grads(grads))

    def step_trusted(self, grads):
        """:meth:`step` without checking ``grads``, for a caller that checked it once with
        :meth:`check_grads` (the Trainer, once per ``fit``)."""
        self.step_count += 1
        flushing = self.step_count % FLUSH_EVERY == 0   # see numpynn._speed.subnormals
        for segment in self._segments:
            g = segment.gradient(grads)
            flushes = segment.flushes if flushing else ()
            for span, p, state, scratch in segment.blocks:
                self._update(p, g[span], state, scratch)
                for flush, name, tiny, signed in flushes:
                    flush(state[name], tiny, signed, scratch.get("mask"), scratch["tmp"])

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
        fresh = type(self)(self.params, **{name: d[name] for name in scalars})
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
        fresh.step_count = _count(d["step_count"])
        self.__dict__.update(fresh.__dict__)

