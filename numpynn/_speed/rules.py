"""The fast update of each optimizer: the reference formula rewritten in place.

Each function here computes exactly its optimizer's reference ``_update`` (in
:mod:`numpynn.optim.optimizers`, where the formula is written out), but as in-place NumPy calls
into preallocated scratch (``out=``), on one block of a packed vector at a time, with SGD's
``y += a·x`` through BLAS's :func:`~numpynn._speed.blas.axpy`. A test holds every option of
every rule equal to its reference to 1e-10 in float64.

What the machinery in :mod:`numpynn._speed.fast_update` needs from a rule is declared in
:data:`RULES`, not asked through hooks:

- ``update(opt, p, g, state, scratch)``: the in-place step on one block;
- ``one_block(opt)``: True when every pass is a multithreaded BLAS call (plain and momentum
  SGD), so one call over the whole vector beats one per L2-sized block;
- ``flush_shift(opt, tiny)``: how far flushing the state entries below ``tiny`` can move the
  denominator ``sqrt(.) + eps``; the state is flushed only when that is below one rounding of
  ``eps`` (SGD: 0, always), see :mod:`numpynn._speed.subnormals`.
"""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from numpynn._speed import blas
from numpynn._speed.blas import axpy


def decayed_grad(opt, p, g, scratch):
    """``g + weight_decay * p`` (PyTorch's coupled L2 decay) in scratch, or ``g`` itself."""
    if getattr(opt, "weight_decay", 0) == 0 or opt.decoupled_weight_decay:
        return g
    out = np.multiply(p, opt.weight_decay, out=scratch["grad"])
    out += g
    return out


def sgd(opt, p, g, state, scratch):
    grad, tmp = decayed_grad(opt, p, g, scratch), scratch["tmp"]
    d = grad
    if opt.momentum:
        buf = state["momentum_buffer"]
        if opt.step_count == 1:
            np.copyto(buf, grad)
        else:
            buf *= opt.momentum
            axpy(1 - opt.dampening, grad, buf, tmp)
        if opt.nesterov:
            d = np.multiply(buf, opt.momentum, out=tmp)
            d += grad
        else:
            d = buf
    axpy(-opt.lr, d, p, tmp)


def adam(opt, p, g, state, scratch):
    (beta1, beta2), t, tmp = opt.betas, opt.step_count, scratch["tmp"]
    if opt.decoupled_weight_decay and opt.weight_decay != 0:
        p *= 1 - opt.lr * opt.weight_decay
    g = decayed_grad(opt, p, g, scratch)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m += np.multiply(np.subtract(g, m, out=tmp), 1 - beta1, out=tmp)
    v *= beta2
    v += np.multiply(np.multiply(g, 1 - beta2, out=tmp), g, out=tmp)
    if opt.amsgrad:
        v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
    # PyTorch: p -= lr/bc1 · m / (√v/√bc2 + eps); multiplied through by √bc2 it is the same
    # update up to rounding with one pass fewer: p -= (lr·√bc2/bc1) · m / (√v + eps·√bc2)
    sqrt_bc2 = math.sqrt(1 - beta2 ** t)
    denom = np.sqrt(v, out=tmp)
    denom += opt.eps * sqrt_bc2
    p -= np.multiply(np.divide(m, denom, out=tmp), opt.lr * sqrt_bc2 / (1 - beta1 ** t),
                     out=tmp)


def rmsprop(opt, p, g, state, scratch):
    g, alpha, tmp = decayed_grad(opt, p, g, scratch), opt.alpha, scratch["tmp"]
    square_avg = state["square_avg"]
    square_avg *= alpha
    square_avg += np.multiply(np.multiply(g, 1 - alpha, out=tmp), g, out=tmp)
    if opt.centered:
        grad_avg = state["grad_avg"]
        grad_avg += np.multiply(np.subtract(g, grad_avg, out=tmp), 1 - alpha, out=tmp)
        avg = np.subtract(square_avg, np.square(grad_avg, out=tmp), out=tmp)
        np.maximum(avg, 0, out=avg)   # a flushed s may sit below a subnormal g^2
        np.sqrt(avg, out=avg)
    else:
        avg = np.sqrt(square_avg, out=tmp)
    avg += opt.eps
    step = np.divide(g, avg, out=tmp)       # g / r
    if opt.momentum:
        buf = state["momentum_buffer"]
        buf *= opt.momentum
        buf += step
        step = np.multiply(buf, opt.lr, out=tmp)
    else:
        step *= opt.lr
    p -= step


def adagrad(opt, p, g, state, scratch):
    g, tmp, total = decayed_grad(opt, p, g, scratch), scratch["tmp"], state["sum"]
    total += np.multiply(g, g, out=tmp)
    std = np.sqrt(total, out=tmp)
    std += opt.eps
    clr = opt.lr / (1 + (opt.step_count - 1) * opt.lr_decay)
    p -= np.multiply(np.divide(g, std, out=tmp), clr, out=tmp)


@dataclass(frozen=True)
class Rule:
    """What the fast step needs to know of one optimizer (see the module docstring)."""
    update: Callable
    one_block: Callable = lambda opt: False
    flush_shift: Callable = lambda opt, tiny: 0.0


def _sgd_one_block(opt):
    # Blocks keep data in one core's L2 between NumPy passes. Plain and momentum SGD are BLAS
    # axpy calls (and one scaling of the buffer), each split over BLAS's threads: one call
    # over the whole vector beats one per block (an epoch at batch 64 is 2-7 % faster).
    return blas.BACKEND == "blas" and not opt.weight_decay and not opt.nesterov


# How far flushing the state of entries below ``tiny`` can move the denominator sqrt(.) + eps;
# each optimizer's docstring derives its bound.
def _adam_shift(opt, tiny):
    return math.sqrt(tiny) / (1 - opt.betas[1])


def _rmsprop_shift(opt, tiny):
    return math.inf if opt.alpha >= 1 else math.sqrt(tiny / (1 - opt.alpha))  # s never decays


def _adagrad_shift(opt, tiny):
    return math.sqrt(tiny)


# optimizer name -> its fast rule; AdamW is Adam with ``decoupled_weight_decay``
RULES = {
    "sgd": Rule(sgd, one_block=_sgd_one_block),
    "adam": Rule(adam, flush_shift=_adam_shift),
    "adamw": Rule(adam, flush_shift=_adam_shift),
    "rmsprop": Rule(rmsprop, flush_shift=_rmsprop_shift),
    "adagrad": Rule(adagrad, flush_shift=_adagrad_shift),
}
