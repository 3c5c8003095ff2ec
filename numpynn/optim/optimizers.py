"""The update rules: SGD, Adam, AdamW, RMSProp and Adagrad (PyTorch's, ``foreach=False``),
and :data:`OPTIMIZERS`, the registry by name.

Each rule is an :class:`~numpynn.optim.optimizer.Optimizer` that declares its hyper-parameters
and state buffers and fills one hook, ``_update(p, g, state)``: the formula of its docstring,
one NumPy expression per line with that line of the formula beside it (compare CS231n's
``optim.py``). This reference runs with ``fast=False``; the default ``fast=True`` runs the same
rule rewritten in place over packed, blocked vectors (:mod:`numpynn._speed.rules`), proven
equal to it by the tests.
"""
import numpy as np

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

    The fast path (``fast=True``): the buffer's ``+ (1 - τ) g`` and the step ``- η d`` run as
    BLAS's :func:`~numpynn._speed.blas.axpy`, one fused multiply-add per entry on all BLAS
    threads. That is what PyTorch's ``add_(d, alpha=-lr)`` computes, so without Nesterov and
    weight decay a float32 step equals PyTorch's bit for bit (within one rounding on the NumPy
    fallback). The momentum buffer is also flushed (``|b| < tiny -> 0``, every 16 steps, see
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
    buffers = {"momentum_buffer": "momentum"}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, fast=True):
        super().__init__(params, lr, fast=fast, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov)

    def _validate(self):
        _check_nonnegative(self.momentum, "momentum value", "SGD")
        _check_nonnegative(self.weight_decay, "weight_decay value", "SGD")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening\n"
                             f"help: got momentum={self.momentum}, dampening={self.dampening};"
                             " use e.g. momentum=0.9, dampening=0")

    def _update(self, p, g, state):
        g = g + self.weight_decay * p                        # g ← g + λp
        d = g
        if self.momentum:
            b = state["momentum_buffer"]
            if self.step_count == 1:
                b[...] = g                                   # b₁ = g₁
            else:
                b[...] = self.momentum * b + (1 - self.dampening) * g   # b ← μb + (1 − τ)g
            d = g + self.momentum * b if self.nesterov else b     # d = g + μb  or  d = b
        p -= self.lr * d                                     # p ← p − ηd


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

    Subnormals (the fast path only): m, v and max_v are flushed (``|b| < tiny -> 0``, every 16 steps, see
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
    buffers = {"exp_avg": None, "exp_avg_sq": None, "max_exp_avg_sq": "amsgrad"}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, fast=True):
        super().__init__(params, lr, fast=fast, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)

    def _validate(self):
        where = type(self).__name__
        _check_nonnegative(self.eps, "epsilon value", where)
        for i, beta in enumerate(self.betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{where}: Invalid beta parameter at index {i}: {beta}\n"
                                 "help: each beta must lie in [0, 1), e.g. betas=(0.9, 0.999)")
        _check_nonnegative(self.weight_decay, "weight_decay value", where)

    def _update(self, p, g, state):
        (beta1, beta2), t = self.betas, self.step_count
        if self.decoupled_weight_decay:
            p *= 1 - self.lr * self.weight_decay             # p ← p(1 − ηλ)   (AdamW)
        else:
            g = g + self.weight_decay * p                    # g ← g + λp
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m[...] = beta1 * m + (1 - beta1) * g                 # m ← β₁m + (1 − β₁)g
        v[...] = beta2 * v + (1 - beta2) * g * g             # v ← β₂v + (1 − β₂)g²
        if self.amsgrad:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])  # v̂ = max(v̂, v)
        m_hat = m / (1 - beta1 ** t)                         # m / (1 − β₁ᵗ)
        v_hat = v / (1 - beta2 ** t)                         # v̂ / (1 − β₂ᵗ)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)   # p ← p − η m̂ / (√v̂ + ε)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, https://arxiv.org/abs/1711.05101).

    Adam's update with the L2 term replaced by a decay of the parameter itself, applied first:
    :math:`p \leftarrow p\,(1 - \eta\lambda)`, then the Adam step with the raw gradient. Same
    parameters as :class:`Adam`; ``weight_decay`` defaults to 1e-2.
    """
    name = "adamw"
    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, fast=True):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, fast=fast)


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

    Subnormals (the fast path only): s, :math:`\bar g` and b are flushed (every 16 steps) when
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
    buffers = {"square_avg": None, "grad_avg": "centered", "momentum_buffer": "momentum"}

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, fast=True):
        super().__init__(params, lr, fast=fast, alpha=alpha, eps=eps, weight_decay=weight_decay,
                         momentum=momentum, centered=centered)

    def _validate(self):
        where = type(self).__name__
        for value, what in ((self.eps, "epsilon value"), (self.momentum, "momentum value"),
                            (self.weight_decay, "weight_decay value"), (self.alpha, "alpha value")):
            _check_nonnegative(value, what, where)

    def _update(self, p, g, state):
        alpha = self.alpha
        g = g + self.weight_decay * p                        # g ← g + λp
        s = state["square_avg"]
        s[...] = alpha * s + (1 - alpha) * g * g             # s ← αs + (1 − α)g²
        if self.centered:
            g_bar = state["grad_avg"]
            g_bar[...] = alpha * g_bar + (1 - alpha) * g     # ḡ ← αḡ + (1 − α)g
            r = np.sqrt(np.maximum(s - g_bar ** 2, 0)) + self.eps   # r = √(s − ḡ²) + ε
        else:
            r = np.sqrt(s) + self.eps                        # r = √s + ε
        if self.momentum:
            b = state["momentum_buffer"]
            b[...] = self.momentum * b + g / r               # b ← μb + g / r
            p -= self.lr * b                                 # p ← p − ηb
        else:
            p -= self.lr * g / r                             # p ← p − η g / r


RMSprop = RMSProp   # PyTorch's spelling


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., https://jmlr.org/papers/v12/duchi11a.html).

    .. math::
        g &\leftarrow g + \lambda p \\
        s &\leftarrow s + g^2 \quad (s_0 = \text{initial\_accumulator\_value}) \\
        p &\leftarrow p - \frac{\eta}{1 + (t-1)\,\delta}\; \frac{g}{\sqrt{s} + \epsilon}

    with :math:`\delta` = ``lr_decay`` and ``t`` = ``step_count`` (PyTorch's convention:
    :math:`\epsilon` outside the root, the decay counted from the first step).

    Subnormals (the fast path only): s never decays, but tiny gradients (|g| < 1e-19 in float32) make it
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
    buffers = {"sum": None}
    initial = {"sum": "initial_accumulator_value"}

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, fast=True):
        super().__init__(params, lr, fast=fast, lr_decay=lr_decay, weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps)

    def _validate(self):
        for name in self.hyper:
            _check_nonnegative(getattr(self, name),
                               "epsilon value" if name == "eps" else f"{name} value", "Adagrad")

    def _update(self, p, g, state):
        g = g + self.weight_decay * p                        # g ← g + λp
        s = state["sum"]
        s += g * g                                           # s ← s + g²
        lr = self.lr / (1 + (self.step_count - 1) * self.lr_decay)   # η / (1 + (t − 1)δ)
        p -= lr * g / (np.sqrt(s) + self.eps)                # p ← p − η g / (√s + ε)


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSProp, "adagrad": Adagrad}
