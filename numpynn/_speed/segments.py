"""How an update is laid out in memory: packed vectors, L2-sized blocks and segments.

``Sequential`` packs its layers' parameters (and gradients) into one buffer each (:func:`pack`)
and hands out views of it. An optimizer that finds its parameters tiling one vector (:func:`packed_vector`)
updates that vector as one :class:`Segment`, in a few NumPy calls whatever the number of
layers; other parameters are one segment each. Every segment is cut into blocks of
:data:`BLOCK_BYTES`: all of an update's passes over one block of a parameter (and of its
gradient, state and scratch) run while the block is in the L2 cache, instead of each pass
streaming the whole array through memory. Element-wise, so the results are the same bits.
An optimizer whose passes are all multithreaded BLAS calls (plain and momentum SGD) asks for
one block instead (its rule's ``one_block``): BLAS splits each call over its threads, and
one call per pass costs less than one per block.
"""
import numpy as np

from numpynn._speed import aligned
from numpynn._speed.aligned import address

BLOCK_BYTES = 256 * 1024


def _flat(a):
    """``a`` as a 1-D array: a view of a contiguous array (a copy otherwise)."""
    return a.reshape(-1)


def packed_vector(arrays):
    """A 1-D view of the memory that ``arrays`` tile, one after another in order, or None.

    ``Sequential`` packs its layers' parameters (and gradients) into one buffer and hands
    out views of it; an optimizer then updates the whole buffer as one vector, in a few
    NumPy calls whatever the number of arrays. The arrays must be C-contiguous views of one
    base, of one dtype, each starting where the previous one ends.
    """
    first, base = arrays[0], arrays[0].base
    if base is None or not base.flags.c_contiguous:
        return None
    end = address(first)         # where the next array must begin
    for a in arrays:
        if (a.base is not base or a.dtype != first.dtype or not a.flags.c_contiguous
                or address(a) != end):
            return None
        end += a.nbytes
    skip = address(first) - address(base)
    return base.reshape(-1).view(np.uint8)[skip:skip + end - address(first)].view(first.dtype)


def pack(layers, table):
    """Move every array of the layers' ``table`` ("params" or "grads") into one flat buffer,
    in order, each layer keeping a view of its part (values unchanged).

    An optimizer built on ``model.params()`` then updates all parameters as one vector, in a
    few NumPy calls whatever their number. Nothing moves unless every array owns its memory
    (arrays already packed by another model, e.g. shared layers, stay where they are), appears
    once and all share one dtype.

    The arrays left behind are made read-only: anything still holding one (an optimizer built
    on ``layer.params`` before the model existed) fails loudly instead of training a copy the
    model no longer reads.
    """
    entries = [(layer, key, a) for layer in layers for key, a in getattr(layer, table).items()]
    arrays = [a for _, _, a in entries]
    if (len(arrays) < 2 or any(a.base is not None for a in arrays)
            or len({id(a) for a in arrays}) < len(arrays) or len({a.dtype for a in arrays}) > 1):
        return
    flat = aligned.empty(sum(a.size for a in arrays), arrays[0].dtype)
    start = 0
    for layer, key, a in entries:
        view = flat[start:start + a.size].reshape(a.shape)
        view[...] = a
        a.flags.writeable = False
        getattr(layer, table)[key] = view
        start += a.size


def block_size(p, block_bytes):
    """Elements per block: ``block_bytes`` worth, or the whole array when ``block_bytes`` is 0,
    when ``p`` is small, or when it is not contiguous (a non-contiguous parameter cannot be
    split into views of a flat array)."""
    if not p.flags.c_contiguous or block_bytes == 0:
        return p.size
    return max(1, min(p.size, block_bytes // p.itemsize))


def blocks(p, state, scratch, size):
    """``[(span, p_block, state_block, scratch_block), …]`` covering ``p`` in order."""
    if size >= p.size:  # one block: the arrays themselves, scratch shaped like p
        # span ``...`` views the whole gradient, 0-d ones included
        return [(..., p, state, {name: buf.reshape(p.shape) for name, buf in scratch.items()})]
    flat_p, flat_state = _flat(p), {name: _flat(buf) for name, buf in state.items()}
    blocks = []
    for start in range(0, p.size, size):
        span = slice(start, min(start + size, p.size))
        n = span.stop - span.start
        blocks.append((span, flat_p[span], {name: buf[span] for name, buf in flat_state.items()},
                       {name: buf[:n] for name, buf in scratch.items()}))
    return blocks


class Segment:
    """Parameters updated as one array: a single parameter, or all of them when they are
    packed in one vector (see :func:`packed_vector`). Holds the blocks of that array, the flush
    plan of its state, and finds the matching gradient array in a ``grads`` dict."""

    def __init__(self, keys, vector, state, scratch, flushes, size):
        self.keys, self.size, self.flushes = keys, vector.size, flushes
        self.blocks = blocks(vector, state, scratch, size)
        self._grads, self._grad_vector, self._gathered = [None] * len(keys), None, None

    def gradient(self, grads):
        """The gradient of the segment's array: ``grads[key]`` for one key; for packed keys the
        vector the gradients tile (checked once per set of arrays), else their concatenation."""
        if len(self.keys) == 1:
            g = grads[self.keys[0]]
            return _flat(g) if len(self.blocks) > 1 else g   # read only: a copy is fine
        arrays = [grads[key] for key in self.keys]
        if any(a is not b for a, b in zip(arrays, self._grads)):
            self._grads, self._grad_vector = arrays, packed_vector(arrays)  # keeps ids unique
        if self._grad_vector is not None:
            return self._grad_vector
        if self._gathered is None:
            self._gathered = aligned.empty(self.size, arrays[0].dtype)
        return np.concatenate([_flat(a) for a in arrays], out=self._gathered)

