"""The update rules: SGD, Adam, AdamW, RMSProp and Adagrad (PyTorch's, ``foreach=False``),
each an :class:`~numpynn.optim.optimizer.Optimizer` that fills ``_update`` with in-place NumPy
calls on preallocated arrays (SGD's ``y += a·x`` through BLAS's :func:`~numpynn._speed.blas.axpy`),
and :data:`OPTIMIZERS`, the registry by name."""
import math

import numpy as np

from numpynn._speed import aligned
from numpynn._speed import blas as _blas
from numpynn._speed.blas import axpy
from numpynn.optim._checks import _check_nonnegative, _flag, _pair, _real
from numpynn.optim.optimizer import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 decay.

    .. math::
        g &\leftarrow g + \lambda p \\
        b &\leftarrow \mu b + (1 - \tau) g \quad (b_1 = g_1) \\
        d &= g + \mu b \ \text{(nesterov)} \quad\text{else}\quad d = b \\
        p &\leftarrow p - \eta\, d

    with :math:`\eta` = ``lr``, :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening``,
    :math:`\lambda` = ``weight_decay``; without momentum :math:`d = g`.

    Note: this is PyTorch's convention, which differs from CS231n's
    :math:`v \leftarrow \mu v - \eta g;\ p \leftarrow p + v`: the buffer holds gradients, not
    steps, so changing ``lr`` rescales the whole accumulated velocity at once. The first step
    copies the gradient into the buffer undamped (PyTorch).

    Speed and parity: the buffer's ``+ (1 - τ) g`` and the step ``- η d`` run as BLAS's
    :func:`~numpynn._speed.blas.axpy`, one fused multiply-add per entry on all BLAS threads. That is
    what PyTorch's ``add_(d, alpha=-lr)`` computes, so without Nesterov and weight decay a
    float32 step equals PyTorch's bit for bit (within one rounding on the NumPy fallback).

    Subnormals: the momentum buffer is flushed (``|b| < tiny -> 0``, every 16 steps, see
    :mod:`numpynn._speed.subnormals`); each flush moves ``p`` by
    less than ``lr * tiny / (1 - momentum)`` in all, far below any parameter's rounding.

    Parameters
    ----------
    params : dict of str -> ndarray
    lr : float, default 1e-3
    momentum : float, default 0
    dampening : float, default 0
    weight_decay : float, default 0
        L2 penalty folded into the gradient.
    nesterov : bool, default False
        Needs ``momentum > 0`` and ``dampening == 0``.

    Examples
    --------
    >>> x = np.array([3.0])
    >>> opt = SGD({"x": x}, lr=0.1, momentum=0.5)
    >>> for _ in range(100):
    ...     opt.step({"x": 2 * x})          # f(x) = x^2
    >>> bool(abs(x[0]) < 1e-6)
    True
    """
    name = "sgd"
    hyper = {"momentum": _real, "dampening": _real, "weight_decay": _real, "nesterov": _flag}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False):
        super().__init__(params, lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov)

    def _validate(self):
        _check_nonnegative(self.momentum, "momentum value", "SGD")
        _check_nonnegative(self.weight_decay, "weight_decay value", "SGD")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening\n"
                             f"help: got momentum={self.momentum}, dampening={self.dampening};"
                             " use e.g. momentum=0.9, dampening=0")

    def _buffers(self):
        return ("momentum_buffer",) if self.momentum else ()

    def _flush_names(self, dtype):
        return self._buffers()

    def _block_bytes(self):
        # Blocks keep data in one core's L2 between NumPy passes. Plain and momentum SGD are
        # BLAS axpy calls (and one scaling of the buffer), each split over BLAS's threads: one
        # call over the whole vector beats one per block (an epoch at batch 64 is 2-7 % faster).
        if _blas.BACKEND == "blas" and not self.weight_decay and not self.nesterov:
            return 0
        return super()._block_bytes()

    def _update(self, p, g, state, scratch):
        grad, tmp = self._decayed_grad(p, g, scratch), scratch["tmp"]
        d = grad
        if self.momentum:
            buf = state["momentum_buffer"]
            if self.step_count == 1:
                np.copyto(buf, grad)
            else:
                buf *= self.momentum
                axpy(1 - self.dampening, grad, buf, tmp)
            if self.nesterov:
                d = np.multiply(buf, self.momentum, out=tmp)
                d += grad
            else:
                d = buf
        axpy(-self.lr, d, p, tmp)


def _negligible_beside(eps, shift, dtype):
    """True when moving a denominator ``sqrt(.) + eps`` by ``shift`` is below eps's rounding."""
    return shift <= eps * np.finfo(dtype).eps


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, https://arxiv.org/abs/1412.6980), optionally AMSGrad.

    .. math::
        g &\leftarrow g + \lambda p \quad\text{(AdamW: } p \leftarrow p(1-\eta\lambda)\text{)}\\
        m &\leftarrow \beta_1 m + (1-\beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1-\beta_2)\, g^2 \\
        \hat v &= \max(\hat v, v) \text{ (amsgrad) else } v \\
        p &\leftarrow p - \frac{\eta}{1-\beta_1^t}\,
             \frac{m}{\sqrt{\hat v}/\sqrt{1-\beta_2^t} + \epsilon}

    Conventions (PyTorch's): :math:`\epsilon` is added to the bias-corrected
    :math:`\sqrt{v}` ("epsilon hat" of the paper's section 2 differs), ``t`` is
    ``step_count``, and AMSGrad keeps the maximum of the *uncorrected* v. ``m`` is updated
    as PyTorch's ``lerp``, :math:`m + (1-\beta_1)(g - m)`.

    Subnormals: m, v and max_v are flushed (``|b| < tiny -> 0``, every 16 steps, see
    :mod:`numpynn._speed.subnormals`) when
    ``sqrt(tiny) / (1 - beta2) <= eps * finfo(dtype).eps`` (true at the defaults: 1.1e-16 <
    1.2e-15 in float32). Why that changes nothing beyond rounding: each flush drops less than
    ``tiny`` from v, so v lags by less than ``tiny/(1-beta2)``, the corrected v by less than
    ``tiny/(1-beta2)^2``, and the denominator by less than its square root -- below one
    rounding unit of ``eps``. m lags by less than ``tiny/(1-beta1)``, which moves p by less
    than ``lr*tiny/((1-beta1)^2 eps)`` (1e-28 at the defaults). With a smaller ``eps`` (e.g.
    0) nothing is flushed and the results equal PyTorch's, subnormals and all.

    Parameters
    ----------
    params : dict of str -> ndarray
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        Decay rates of m and v, each in [0, 1).
    eps : float, default 1e-8
    weight_decay : float, default 0
        Coupled L2 decay (added to the gradient); see :class:`AdamW` for decoupled decay.
    amsgrad : bool, default False

    Examples
    --------
    >>> x = np.array([1.0, -2.0])
    >>> opt = Adam({"x": x}, lr=0.1)
    >>> opt.step({"x": 2 * x})              # the first step moves each entry by ~lr
    >>> x.round(6)
    array([ 0.9, -1.9])
    """
    name = "adam"
    hyper = {"betas": _pair, "eps": _real, "weight_decay": _real, "amsgrad": _flag}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)

    def _validate(self):
        where = type(self).__name__
        _check_nonnegative(self.eps, "epsilon value", where)
        for i, beta in enumerate(self.betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{where}: Invalid beta parameter at index {i}: {beta}\n"
                                 "help: each beta must lie in [0, 1), e.g. betas=(0.9, 0.999)")
        _check_nonnegative(self.weight_decay, "weight_decay value", where)

    def _buffers(self):
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if self.amsgrad else ())

    def _flush_names(self, dtype):
        shift = math.sqrt(np.finfo(dtype).tiny) / (1 - self.betas[1])
        return self._buffers() if _negligible_beside(self.eps, shift, dtype) else ()

    def _update(self, p, g, state, scratch):
        (beta1, beta2), t, tmp = self.betas, self.step_count, scratch["tmp"]
        if self.decoupled_weight_decay and self.weight_decay != 0:
            p *= 1 - self.lr * self.weight_decay
        g = self._decayed_grad(p, g, scratch)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += np.multiply(np.subtract(g, m, out=tmp), 1 - beta1, out=tmp)
        v *= beta2
        v += np.multiply(np.multiply(g, 1 - beta2, out=tmp), g, out=tmp)
        if self.amsgrad:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        # PyTorch: p -= lr/bc1 · m / (√v/√bc2 + eps); multiplied through by √bc2 it is the same
        # update up to rounding with one pass fewer: p -= (lr·√bc2/bc1) · m / (√v + eps·√bc2)
        sqrt_bc2 = math.sqrt(1 - beta2 ** t)
        denom = np.sqrt(v, out=tmp)
        denom += self.eps * sqrt_bc2
        p -= np.multiply(np.divide(m, denom, out=tmp), self.lr * sqrt_bc2 / (1 - beta1 ** t),
                         out=tmp)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, https://arxiv.org/abs/1711.05101).

    Adam's update with the L2 term replaced by a decay of the parameter itself, applied first:
    :math:`p \leftarrow p\,(1 - \eta\lambda)`, then the Adam step with the raw gradient. Same
    parameters as :class:`Adam`; ``weight_decay`` defaults to 1e-2.
    """
    name = "adamw"
    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)


class RMSProp(Optimizer):
    r"""RMSProp (Hinton, lecture 6e), optionally centered and with momentum.

    .. math::
        g &\leftarrow g + \lambda p \\
        s &\leftarrow \alpha s + (1-\alpha)\, g^2 \\
        \bar g &\leftarrow \alpha \bar g + (1-\alpha)\, g \quad\text{(centered)} \\
        r &= \sqrt{s - \bar g^2} + \epsilon \text{ (centered) else } \sqrt{s} + \epsilon \\
        b &\leftarrow \mu b + g / r;\quad p \leftarrow p - \eta b
             \quad\text{(momentum > 0) else}\quad p \leftarrow p - \eta\, g / r

    Conventions (PyTorch's): no bias correction, :math:`\epsilon` outside the square root,
    the momentum buffer accumulates normalised gradients (so ``lr`` acts on it as a whole),
    and :math:`\bar g` is updated as ``lerp``, :math:`\bar g + (1-\alpha)(g - \bar g)`.

    Subnormals: s, :math:`\bar g` and b are flushed (every 16 steps) when
    ``sqrt(tiny / (1 - alpha)) <= eps * finfo(dtype).eps`` (float32 defaults: 1.1e-18 <
    1.2e-15): s then lags by less than ``tiny/(1-alpha)``, so r moves by less than one
    rounding unit of ``eps``; flushing :math:`\bar g` moves :math:`\bar g^2` by less than
    ``tiny``, and b's flush moves p by less than ``lr * tiny / (1 - momentum)``. Centered,
    the variance :math:`s - \bar g^2` is clamped at 0 before the root: a flushed s can sit
    below a subnormal :math:`\bar g^2` (PyTorch would return NaN wherever rounding makes it
    negative; elsewhere the clamp changes nothing).

    Parameters
    ----------
    params : dict of str -> ndarray
    lr : float, default 1e-2
    alpha : float, default 0.99
        Smoothing constant of the squared-gradient average.
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum : float, default 0
    centered : bool, default False
        Normalise by the estimated variance instead of the second moment.
    """
    name = "rmsprop"
    hyper = {"alpha": _real, "eps": _real, "weight_decay": _real, "momentum": _real,
             "centered": _flag}

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):
        super().__init__(params, lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered)

    def _validate(self):
        where = type(self).__name__
        for value, what in ((self.eps, "epsilon value"), (self.momentum, "momentum value"),
                            (self.weight_decay, "weight_decay value"), (self.alpha, "alpha value")):
            _check_nonnegative(value, what, where)

    def _buffers(self):
        return (("square_avg",) + (("grad_avg",) if self.centered else ())
                + (("momentum_buffer",) if self.momentum else ()))

    def _flush_names(self, dtype):
        if self.alpha >= 1:      # s never decays
            return ()
        shift = math.sqrt(np.finfo(dtype).tiny / (1 - self.alpha))
        return self._buffers() if _negligible_beside(self.eps, shift, dtype) else ()

    def _update(self, p, g, state, scratch):
        g, alpha, tmp = self._decayed_grad(p, g, scratch), self.alpha, scratch["tmp"]
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += np.multiply(np.multiply(g, 1 - alpha, out=tmp), g, out=tmp)
        if self.centered:
            grad_avg = state["grad_avg"]
            grad_avg += np.multiply(np.subtract(g, grad_avg, out=tmp), 1 - alpha, out=tmp)
            avg = np.subtract(square_avg, np.square(grad_avg, out=tmp), out=tmp)
            np.maximum(avg, 0, out=avg)   # a flushed s may sit below a subnormal g^2
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(square_avg, out=tmp)
        avg += self.eps
        step = np.divide(g, avg, out=tmp)       # g / r
        if self.momentum:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += step
            step = np.multiply(buf, self.lr, out=tmp)
        else:
            step *= self.lr
        p -= step


RMSprop = RMSProp   # PyTorch's spelling


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., https://jmlr.org/papers/v12/duchi11a.html).

    .. math::
        g &\leftarrow g + \lambda p \\
        s &\leftarrow s + g^2 \quad (s_0 = \text{initial\_accumulator\_value}) \\
        p &\leftarrow p - \frac{\eta}{1 + (t-1)\,\delta}\; \frac{g}{\sqrt{s} + \epsilon}

    with :math:`\delta` = ``lr_decay`` and ``t`` = ``step_count`` (PyTorch's convention:
    :math:`\epsilon` outside the root, the decay counted from the first step).

    Subnormals: s never decays, but tiny gradients (|g| < 1e-19 in float32) make it
    subnormal. Its entries are raised to at least ``tiny`` every 16 steps when
    ``sqrt(tiny) <= eps * finfo(dtype).eps`` (float32 defaults: 1.1e-19 < 1.2e-17): s only
    grows, so each entry moves once, by less than ``tiny``, and the denominator by less than
    one rounding unit of ``eps``. (Flushing to 0 could lose the growth of s for ever.)

    Parameters
    ----------
    params : dict of str -> ndarray
    lr : float, default 1e-2
    lr_decay : float, default 0
    weight_decay : float, default 0
    initial_accumulator_value : float, default 0
    eps : float, default 1e-10
    """
    name = "adagrad"
    hyper = {"lr_decay": _real, "weight_decay": _real, "initial_accumulator_value": _real,
             "eps": _real}

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10):
        super().__init__(params, lr, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps)

    def _validate(self):
        for name in self.hyper:
            _check_nonnegative(getattr(self, name),
                               "epsilon value" if name == "eps" else f"{name} value", "Adagrad")

    def _buffers(self):
        return ("sum",)

    def _flush_names(self, dtype):
        shift = math.sqrt(np.finfo(dtype).tiny)
        return self._buffers() if _negligible_beside(self.eps, shift, dtype) else ()

    def _init_state(self, p):
        return {"sum": aligned.full_like(p, self.initial_accumulator_value)}

    def _update(self, p, g, state, scratch):
        g, tmp, total = self._decayed_grad(p, g, scratch), scratch["tmp"], state["sum"]
        total += np.multiply(g, g, out=tmp)
        std = np.sqrt(total, out=tmp)
        std += self.eps
        clr = self.lr / (1 + (self.step_count - 1) * self.lr_decay)
        p -= np.multiply(np.divide(g, std, out=tmp), clr, out=tmp)


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSProp, "adagrad": Adagrad}
