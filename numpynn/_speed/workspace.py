"""The Trainer's step workspace: which array each layer's forward and backward write into.

``model.forward`` and ``model.backward`` allocate new arrays every call and compute every
layer's ``dx``: what a student expects, and safe, since nothing a caller holds is ever
overwritten. A training step needs neither. :class:`Workspace` runs the same kernels the layers
call (:mod:`numpynn.functional`), for the layers it knows (``Linear``, ``ReLU``, ``Conv2d``):

- each output and ``dx`` goes into an array kept from the previous step (64-byte aligned,
  made again only when the batch shape changes), since the step reads every one of them
  before the next step begins;
- the backward pass stops at the first layer with parameters and skips its ``dx``: a
  network's first ``Linear`` or ``Conv2d`` needs no input gradient, and its (N, M)·(M, D)
  product (a convolution's col2im) is the largest of the backward pass.

Any other layer runs its own ``forward`` / ``backward``. The kernels and their order are the
layers' own, so a step gives the same bits either way (tested).
"""
import numpy as np

from numpynn import functional as F
from numpynn._speed import aligned
from numpynn.layers import Conv2d, Linear, ReLU


class Workspace:
    """Forward and backward passes of one model for a training loop, into reused arrays.

    Parameters
    ----------
    model : Sequential
        Its layers are read at construction; parameter gradients land in the layers'
        ``grads`` as with ``model.backward``.
    """

    def __init__(self, model):
        self.layers = list(model.layers)
        # backward stops at the first layer with parameters (None: no layer has any)
        self.first = next((i for i, layer in enumerate(self.layers) if layer.params), None)
        self._arrays = {}    # (layer index, "out" or "dx") -> array reused across steps
        self._caches = {}    # layer index -> cache of the fast kernels' last forward

    def _array(self, key, shape, dtype):
        out = self._arrays.get(key)
        if out is None or out.shape != shape or out.dtype != dtype:
            out = self._arrays[key] = aligned.empty(shape, dtype)
        return out

    def forward(self, x):
        """The model's output for the batch ``x`` (training mode is the caller's to set)."""
        for i, layer in enumerate(self.layers):
            fast = _FORWARD.get(type(layer))
            x = fast(self, i, layer, x) if fast is not None else layer.forward(x)
        return x

    def backward(self, dout):
        """Parameter gradients for ``dout`` = dL/d output, into the layers' ``grads``."""
        if self.first is None:
            return   # nothing to train
        for i in range(len(self.layers) - 1, self.first - 1, -1):
            layer, need_dx = self.layers[i], i > self.first
            fast = _BACKWARD.get(type(layer))
            dout = fast(self, i, layer, dout, need_dx) if fast is not None \
                else layer.backward(dout)


def _linear_forward(ws, i, layer, x):
    out = ws._array((i, "out"), (x.shape[0], layer.n_out), np.promote_types(x.dtype, layer.dtype))
    out, ws._caches[i] = F.linear_forward(x, layer.W, layer.b, out=out)
    return out


def _linear_backward(ws, i, layer, dout, need_dx):
    dx = ws._array((i, "dx"), (dout.shape[0], layer.n_in),
                   np.promote_types(dout.dtype, layer.dtype)) if need_dx else None
    dx, _, _ = F.linear_backward(dout, ws._caches[i], need_dx, out=(layer.dW, layer.db),
                                 dx_out=dx)
    return dx


def _relu_forward(ws, i, layer, x):
    out, ws._caches[i] = F.relu_forward(x, out=ws._array((i, "out"), x.shape, x.dtype))
    return out


def _relu_backward(ws, i, layer, dout, need_dx):
    return F.relu_backward(dout, ws._caches[i], out=ws._array((i, "dx"), dout.shape, dout.dtype))


def _conv2d_backward(ws, i, layer, dout, need_dx):
    """``Conv2d.backward`` (its forward ran as usual), without dx for the first layer."""
    dx, layer.dW[...], layer.db[...] = F._conv2d_backward(dout, layer._take_cache(), need_dx)
    return dx


# exact layer type -> its pass into reused arrays (a subclass may override forward: not listed)
_FORWARD = {Linear: _linear_forward, ReLU: _relu_forward}
_BACKWARD = {Linear: _linear_backward, ReLU: _relu_backward, Conv2d: _conv2d_backward}
