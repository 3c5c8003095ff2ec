"""Optimizers, learning-rate schedules and gradient clipping on dicts of arrays, in place.

An optimizer is built from a dict of parameter arrays and updates those very arrays from a
dict of gradients with the same keys; the same call minimises a plain function of ``x``::

    opt = Adam(model.params(), lr=1e-3)      # or Adam({"x": x}, lr=0.1)
    opt.step(model.grads())                  # or opt.step({"x": grad_f(x)})

Update rules, names and defaults are PyTorch's (``torch.optim``, ``foreach=False``), so a run
can be checked against PyTorch to 1e-10 in float64. The base class :class:`Optimizer` owns the
protocol (validation, buffers, ``step``, ``state_dict``); each optimizer fills one hook,
``_update(p, g, state, scratch)``, with in-place NumPy calls on preallocated arrays: a step
allocates nothing that grows with the number of parameters, and float32 stays float32.
A model's parameters, packed by ``Sequential`` into one buffer, are updated as one vector, in
256 KiB blocks that stay in the L2 cache, so the number of NumPy calls per step does not grow
with the number of layers (:mod:`numpynn._speed.segments`).

Subnormal trap. With vanishing gradients the decaying buffers (Adam's m and v, RMSProp's
averages, momentum buffers) shrink geometrically into subnormal floats, where x86 arithmetic is
6-9x slower and NumPy offers no flush-to-zero switch. Every 16 steps every decaying buffer has
its entries with ``|b| < finfo(dtype).tiny`` set to exactly 0 (:mod:`numpynn._speed.subnormals`);
each optimizer's docstring bounds what this changes (below the rounding of ``eps``).
"""
from numpynn.optim.clip import clip_grad_norm
from numpynn.optim.optimizer import Optimizer
from numpynn.optim.optimizers import OPTIMIZERS, SGD, Adagrad, Adam, AdamW, RMSProp, RMSprop
from numpynn.optim.schedules import (SCHEDULES, CosineWarmupLR, ExponentialLR, LRScheduler,
                                     ReduceLROnPlateau, StepLR)

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSProp", "RMSprop", "Adagrad", "OPTIMIZERS",
           "LRScheduler", "ExponentialLR", "StepLR", "CosineWarmupLR", "ReduceLROnPlateau",
           "SCHEDULES", "clip_grad_norm"]
