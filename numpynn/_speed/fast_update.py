"""The default path of ``Optimizer.step``: the fast rule over packed vectors, in blocks.

An optimizer built with ``fast=True`` (the default) hands its step to a :class:`FastUpdate`:

1. its state buffers are allocated 64-byte aligned and, when the parameters tile one packed
   vector (``Sequential`` packs them, see :func:`~numpynn._speed.segments.pack`), as vectors
   too, each key's ``state[key][name]`` a view of its part;
2. each vector (or each unpacked parameter) is one :class:`~numpynn._speed.segments.Segment`,
   cut into L2-sized blocks with block-sized scratch, unless the rule's passes are all BLAS
   calls (``one_block``);
3. a step runs the rule's in-place update (:mod:`numpynn._speed.rules`) on every block and,
   every :data:`~numpynn._speed.subnormals.FLUSH_EVERY` steps, flushes the decaying state of
   subnormals where the rule's ``flush_shift`` says it changes nothing beyond rounding.

The state keeps the reference path's names, shapes and values, so ``state_dict`` is the same
either way and a checkpoint of one path resumes on the other.
"""
import numpy as np

from numpynn._speed import aligned
from numpynn._speed.rules import RULES
from numpynn._speed.segments import BLOCK_BYTES, Segment, block_size, packed_vector
from numpynn._speed.subnormals import FLUSH_EVERY, flush_plan, needs_mask


class FastUpdate:
    """The fast step of one optimizer; owns its state buffers' memory and scratch.

    Parameters
    ----------
    opt : Optimizer
        Read for its name, hyper-parameters, ``params`` and ``initial_state()``; its
        ``state`` is set here. (Not kept: ``load_state_dict`` moves this object to another
        optimizer, which passes itself to :meth:`step`.)
    """

    def __init__(self, opt):
        self.rule = RULES[opt.name]
        self.segments = []
        params = opt.params
        vector = packed_vector(list(params.values())) if len(params) > 1 else None
        opt.state = {}
        if vector is None:
            for key, p in params.items():
                opt.state[key] = self._state(opt, p)
                self._add_segment(opt, (key,), p, opt.state[key])
            return
        state, start = self._state(opt, vector), 0   # one vector: each key views its part
        for key, p in params.items():
            opt.state[key] = {name: buf[start:start + p.size].reshape(p.shape)
                              for name, buf in state.items()}
            start += p.size
        self._add_segment(opt, tuple(params), vector, state)

    @staticmethod
    def _state(opt, p):
        return {name: aligned.full_like(p, value) for name, value in opt.initial_state().items()}

    def _add_segment(self, opt, keys, vector, state):
        coupled = getattr(opt, "weight_decay", 0) != 0 and not opt.decoupled_weight_decay
        tiny = np.finfo(vector.dtype).tiny
        shift = self.rule.flush_shift(opt, tiny)
        names = tuple(state) if shift <= getattr(opt, "eps", 0.0) * np.finfo(vector.dtype).eps \
            else ()
        size = block_size(vector, 0 if self.rule.one_block(opt) else BLOCK_BYTES)
        scratch = {"tmp": aligned.empty(size, vector.dtype)}
        if coupled:
            scratch["grad"] = aligned.empty(size, vector.dtype)
        if needs_mask(names):
            scratch["mask"] = aligned.empty(size, bool)
        self.segments.append(Segment(keys, vector, state, scratch,
                                     flush_plan(names, vector.dtype), size))

    def step(self, opt, grads):
        """One update of every segment by ``opt`` (whose ``step_count`` is this step's)."""
        update = self.rule.update
        flushing = opt.step_count % FLUSH_EVERY == 0   # see numpynn._speed.subnormals
        for segment in self.segments:
            g = segment.gradient(grads)
            flushes = segment.flushes if flushing else ()
            for span, p, state, scratch in segment.blocks:
                update(opt, p, g[span], state, scratch)
                for flush, name, tiny, signed in flushes:
                    flush(state[name], tiny, signed, scratch.get("mask"), scratch["tmp"])
