"""Optimizers, learning-rate schedules and gradient clipping on dicts of arrays, in place.

An optimizer is built from a dict of parameter arrays and updates those very arrays from a
dict of gradients with the same keys; the same call minimises a plain function of ``x``::

    opt = Adam(model.params(), lr=1e-3)      # or Adam({"x": x}, lr=0.1)
    opt.step(model.grads())                  # or opt.step({"x": grad_f(x)})

Update rules, names and defaults are PyTorch's (``torch.optim``, ``foreach=False``), so a run
can be checked against PyTorch to 1e-10 in float64. The base class :class:`Optimizer` owns the
protocol (validation, state, ``step``, ``state_dict``); each optimizer declares its
hyper-parameters and buffers and fills one hook, ``_update(p, g, state)``, with its formula as
the docstring writes it (:mod:`numpynn.optim.optimizers`). Every optimizer takes ``fast=True``
(the default): the same rule in place, over the model's packed parameter vector in L2-sized
blocks, with BLAS ``axpy`` and a flush of subnormal state (:mod:`numpynn._speed`);
``fast=False`` runs the reference. The two agree to 1e-10 in float64.
"""
from numpynn.optim.clip import clip_grad_norm
from numpynn.optim.optimizer import Optimizer
from numpynn.optim.optimizers import OPTIMIZERS, SGD, Adagrad, Adam, AdamW, RMSProp, RMSprop
from numpynn.optim.schedules import (SCHEDULES, CosineWarmupLR, ExponentialLR, LRScheduler,
                                     ReduceLROnPlateau, StepLR)

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSProp", "RMSprop", "Adagrad", "OPTIMIZERS",
           "LRScheduler", "ExponentialLR", "StepLR", "CosineWarmupLR", "ReduceLROnPlateau",
           "SCHEDULES", "clip_grad_norm"]
