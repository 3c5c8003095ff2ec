"""The subnormal trap and its fix: decaying optimizer state flushed to 0 below ``tiny``.

With vanishing gradients the decaying buffers (Adam's m and v, RMSProp's averages, momentum
buffers) shrink geometrically into subnormal floats, where x86 arithmetic is 6-9x slower and
NumPy offers no flush-to-zero switch. Every :data:`FLUSH_EVERY` steps (when ``step_count`` is a
multiple of it) every decaying buffer has its entries with ``|b| < finfo(dtype).tiny`` set to
exactly 0 where the rule's ``flush_shift`` (:mod:`numpynn._speed.rules`) allows it; each
optimizer's docstring bounds what
this changes (below the rounding of ``eps``).

Why not after every step: a flush is two or three passes over a buffer, five over Adam's m and
v, which is a third of Adam's update and 18 % of an epoch at batch 64. An entry that falls
below ``tiny`` is slow for at most ``FLUSH_EVERY - 1`` steps before it is zeroed; unflushed, a
v entry stays subnormal for about 16,000 steps (23 binades at ``beta2 = 0.999``), an m entry
for about 150. The schedule is keyed on ``step_count``, so a run resumed from a checkpoint
flushes on the same steps and stays bit-identical.
"""
import numpy as np

# buffers that are never negative: flushing them needs no abs()
NONNEGATIVE = frozenset({"exp_avg_sq", "max_exp_avg_sq", "square_avg"})
# accumulators that never decay: subnormal entries are raised to tiny instead (one pass)
FLOORED = frozenset({"sum"})
# steps between flushes: a power of two far below the thousands a buffer would stay subnormal
FLUSH_EVERY = 16


def flush_subnormals(buf, tiny, signed, mask, tmp):
    """Set the entries of ``buf`` with ``|b| < tiny`` (subnormals) to exactly 0, in place.

    Two vectorised passes for a non-negative buffer, three for a signed one, into preallocated
    scratch; comparisons and ``abs`` run at full speed on subnormals. A decaying buffer then
    stays at 0 (0 * beta = 0 is fast) instead of shrinking through the subnormal range.
    """
    np.less(np.abs(buf, out=tmp) if signed else buf, tiny, out=mask)
    np.copyto(buf, 0, where=mask)


def floor_subnormals(buf, tiny, signed, mask, tmp):
    """Raise the entries of a non-decaying, non-negative accumulator to at least ``tiny``.

    One pass. The accumulator only grows, so each entry moves once, by less than ``tiny``.
    """
    np.maximum(buf, tiny, out=buf)


def flush_plan(names, dtype):
    """``((flush, name, tiny, signed), …)``: how to clean each state buffer in ``names`` of
    ``dtype`` after an update, called as ``flush(state[name], tiny, signed, mask, tmp)``."""
    tiny = np.finfo(dtype).tiny   # a scalar of the dtype: no upcast
    return tuple((floor_subnormals if name in FLOORED else flush_subnormals, name, tiny,
                  name not in NONNEGATIVE) for name in names)


def needs_mask(names):
    """True when flushing ``names`` needs a boolean scratch mask (any buffer not floored)."""
    return bool(set(names) - FLOORED)
