"""The Trainer's step workspace: which array each layer's forward and backward write into.

``model.forward`` and ``model.backward`` allocate new arrays every call and compute every
layer's ``dx``: what a student expects, and safe, since nothing a caller holds is ever
overwritten. A training step needs neither. :class:`Workspace` runs the same kernels the layers
call (:mod:`numpynn.functional`), for the layers it knows (``Linear``, ``ReLU``, ``Conv2d``):

- each output and ``dx`` goes into an array kept from the previous step (64-byte aligned),
  since the step reads every one of them before the next step begins. The arrays of one batch
  shape, and which kernel writes each, are a *plan* made on the first batch of that shape (a
  Trainer has at most two: the full batches and the last one), so a step only looks its plan
  up once;
- the backward pass stops at the first layer with parameters and skips its ``dx``: a
  network's first ``Linear`` or ``Conv2d`` needs no input gradient, and its (N, M)·(M, D)
  product (a convolution's col2im) is the largest of the backward pass;
- a batch of one sample (sample-by-sample training) computes each ``dW = xᵀ·dout`` as the
  outer product it is (:func:`~numpynn._speed.blas.outer`): NumPy's ``matmul`` runs a product
  with an inner dimension of 1 in its own loop, 12x slower than BLAS. Same bits.

Any other layer runs its own ``forward`` / ``backward``. The kernels and their order are the
layers' own, so a step gives the same bits either way (tested).
"""
import numpy as np

from numpynn import functional as F
from numpynn._speed import aligned, blas
from numpynn.layers import Conv2d, Linear, ReLU

MAX_PLANS = 4   # batch shapes kept; a Trainer uses two, so more means a caller varies them


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
        self._plans = {}     # (batch shape, dtype) -> one pass object per layer
        self._plan = None    # the plan of the last forward, which backward follows

    def forward(self, x):
        """The model's output for the batch ``x`` (training mode is the caller's to set)."""
        plan = self._plans.get((x.shape, x.dtype))
        if plan is None:
            return self._plan_forward(x)
        self._plan = plan
        for layer_pass in plan:
            x = layer_pass.forward(x)
        return x

    def backward(self, dout):
        """Parameter gradients for ``dout`` = dL/d output, into the layers' ``grads``."""
        if self.first is None:
            return   # nothing to train
        for layer_pass in reversed(self._plan[self.first:]):
            dout = layer_pass.backward(dout)

    def _plan_forward(self, x):
        """:meth:`forward` of the first batch shaped like ``x``: makes its plan on the way,
        one pass object per layer, each sized by the output of the layer before it."""
        if len(self._plans) >= MAX_PLANS:
            self._plans.clear()
        plan = self._plan = self._plans[(x.shape, x.dtype)] = []
        for i, layer in enumerate(self.layers):
            kind = _PASSES.get(type(layer), _LayerPass)
            plan.append(kind(layer, x, need_dx=self.first is not None and i > self.first))
            x = plan[-1].forward(x)
        return x


class _LayerPass:
    """Any layer: its own ``forward`` and ``backward``."""

    def __init__(self, layer, x, need_dx):
        self.layer = layer

    def forward(self, x):
        return self.layer.forward(x)

    def backward(self, dout):
        return self.layer.backward(dout)


class _LinearPass:
    """``Linear`` into reused arrays: out (N, M), and dx (N, D) where it is needed."""

    def __init__(self, layer, x, need_dx):
        dtype = np.promote_types(x.dtype, layer.dtype)
        self.layer, self.cache = layer, None
        self.out = aligned.empty((x.shape[0], layer.n_out), dtype)
        self.dx = aligned.empty((x.shape[0], layer.n_in), dtype) if need_dx else None
        self.one_row = x.shape[0] == 1 and dtype == layer.dtype   # see blas.outer

    def forward(self, x):
        out, self.cache = F.linear_forward(x, self.layer.W, self.layer.b, out=self.out)
        return out

    def backward(self, dout):
        layer = self.layer
        if self.one_row:
            return _linear_backward_one(dout, self.cache, layer.dW, layer.db, self.dx)
        dx, _, _ = F.linear_backward(dout, self.cache, self.dx is not None,
                                     out=(layer.dW, layer.db), dx_out=self.dx)
        return dx


def _linear_backward_one(dout, cache, dW, db, dx):
    """:func:`numpynn.functional.linear_backward` for a batch of one sample, the same bits:
    ``dW = xᵀ·dout`` is an outer product, and the sum over one row is that row."""
    x, W = cache
    blas.outer(x, dout, dW)                                 # (D, 1)·(1, M) -> (D, M)
    np.copyto(db, dout[0])                                  # Σ_n over one row, (M,)
    if dx is None:
        return None
    return np.matmul(dout, W.T, out=dx).reshape(x.shape)    # (1, M)·(M, D) -> (1, D)


class _ReLUPass:
    """``ReLU`` into reused arrays: out and dx of x's shape."""

    def __init__(self, layer, x, need_dx):
        self.out, self.dx, self.cache = aligned.empty_like(x), aligned.empty_like(x), None

    def forward(self, x):
        out, self.cache = F.relu_forward(x, out=self.out)
        return out

    def backward(self, dout):
        return F.relu_backward(dout, self.cache, out=self.dx)


class _Conv2dPass(_LayerPass):
    """``Conv2d``: its own forward; its backward without dx for the network's first layer."""

    def __init__(self, layer, x, need_dx):
        self.layer, self.need_dx = layer, need_dx

    def backward(self, dout):
        layer = self.layer
        dx, layer.dW[...], layer.db[...] = F._conv2d_backward(dout, layer._take_cache(),
                                                              self.need_dx)
        return dx


# exact layer type -> its pass into reused arrays (a subclass may override forward: not listed)
_PASSES = {Linear: _LinearPass, ReLU: _ReLUPass, Conv2d: _Conv2dPass}
