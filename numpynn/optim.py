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

Subnormal trap. With vanishing gradients the decaying buffers (Adam's m and v, RMSProp's
averages, momentum buffers) shrink geometrically into subnormal floats, where x86 arithmetic is
6-9x slower and NumPy offers no flush-to-zero switch. After each update every decaying buffer
has its entries with ``|b| < finfo(dtype).tiny`` set to exactly 0 (:func:`_flush_subnormals`);
each optimizer's docstring bounds what this changes (below the rounding of ``eps``).
"""
import math
import numbers
import warnings

import numpy as np

from ._validation import check_array, check_positive, check_same_shape, choose

# buffers that are never negative: flushing them needs no abs()
_NONNEGATIVE = frozenset({"exp_avg_sq", "max_exp_avg_sq", "square_avg"})
# accumulators that never decay: subnormal entries are raised to tiny instead (one pass)
_FLOORED = frozenset({"sum"})
_CLIP_EPS = 1e-6   # torch.nn.utils.clip_grad_norm_ adds it to the norm before dividing


# ---------------------------------------------------------------- converters & small helpers
def _real(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected a real number; got {value!r}")
    return float(value)


def _count(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"expected an integer; got {value!r}")
    return int(value)


def _flag(value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"expected True or False; got {value!r}")
    return bool(value)


def _pair(value):
    values = tuple(_real(v) for v in value)
    if len(values) != 2:
        raise ValueError(f"expected a pair (beta1, beta2); got {value!r}")
    return values


def _plain(value):
    """0-d arrays and NumPy scalars (from ``np.load``) -> Python scalars; arrays unchanged."""
    if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
        return value.item()
    return value


def _check_nonnegative(value, what, where):
    """PyTorch's words: ``Invalid momentum value: -0.1``."""
    check_positive(value, what, allow_zero=True, where=where)


def _key_mismatch(expected, got, problem, where, help_line):
    """A ValueError listing the keys missing from ``got`` and those it should not have."""
    missing = [k for k in expected if k not in got]
    unknown = [k for k in got if k not in expected]
    return ValueError(f"{where}: {problem}; missing: {missing}, unknown: {unknown}\n"
                      f"help: {help_line}")


def _check_params(params, where):
    """Return a shallow copy of ``params`` after checking it maps str -> writable float array."""
    if not isinstance(params, dict) or not params:
        raise TypeError(f"{where}: params must be a non-empty dict of name -> ndarray; got "
                        f"{params!r:.80}\nhelp: pass model.params(), or {{'x': x}} to minimise "
                        "a function of the array x")
    owners = {}
    for key, p in params.items():
        if not isinstance(key, str):
            raise TypeError(f"{where}: params keys must be str; got {key!r}")
        if not isinstance(p, np.ndarray):
            raise TypeError(f"{where}: params[{key!r}] must be a numpy array (it is updated in "
                            f"place); got {type(p).__name__}\nhelp: x = np.array(..., "
                            "dtype=np.float64) and keep the reference")
        check_array(p, f"params[{key!r}]", where=where)
        if not p.flags.writeable:
            raise ValueError(f"{where}: params[{key!r}] is read-only; optimizers update "
                             "parameters in place\nhelp: pass a writable copy, x.copy()")
        if id(p) in owners:
            raise ValueError(f"{where}: params[{key!r}] is the same array as "
                             f"params[{owners[id(p)]!r}]; it would be updated twice per step")
        owners[id(p)] = key
    return dict(params)


def _flush_subnormals(buf, tiny, signed, mask, tmp):
    """Set the entries of ``buf`` with ``|b| < tiny`` (subnormals) to exactly 0, in place.

    Two vectorised passes for a non-negative buffer, three for a signed one, into preallocated
    scratch; comparisons and ``abs`` run at full speed on subnormals. A decaying buffer then
    stays at 0 (0 * beta = 0 is fast) instead of shrinking through the subnormal range.
    """
    np.less(np.abs(buf, out=tmp) if signed else buf, tiny, out=mask)
    np.copyto(buf, 0, where=mask)


def _floor_subnormals(buf, tiny, signed, mask, tmp):
    """Raise the entries of a non-decaying, non-negative accumulator to at least ``tiny``.

    One pass. The accumulator only grows, so each entry moves once, by less than ``tiny``.
    """
    np.maximum(buf, tiny, out=buf)


# ---------------------------------------------------------------------------- the protocol
class Optimizer:
    """Base class: validation, buffers, ``step``, ``state_dict``; subclasses fill ``_update``.

    Parameters
    ----------
    params : dict of str -> ndarray
        The arrays to update in place (floating, writable), e.g. ``model.params()``.
    lr : float
        Learning rate; a plain attribute that schedules change between epochs.
    **hyper
        The subclass's hyper-parameters, named in its ``hyper`` table.

    Attributes
    ----------
    lr : float
    params : dict of str -> ndarray
        The very arrays passed in (a new dict, same arrays).
    state : dict of str -> dict of str -> ndarray
        Per-key buffers, same shape and dtype as the parameter, e.g.
        ``state["0.W"]["exp_avg"]``. Plain arrays a checkpoint can save.
    step_count : int
        Number of ``step`` calls so far (Adam's bias-correction ``t``).

    The hyper-parameters are attributes too (``opt.momentum``, ``opt.betas``), fixed after
    construction because the buffers are allocated for them; only ``lr`` may change.

    Subclass hooks: ``name`` (registry key), ``hyper`` (name -> converter, in constructor
    order), ``_validate()``, ``_buffers() -> names``, ``_init_state(p)``, ``_flush_names(dtype)``
    and ``_update(p, g, state, scratch)``.
    """
    name = "optimizer"
    hyper = {}
    decoupled_weight_decay = False   # True: AdamW's p <- p(1 - lr*wd) instead of g <- g + wd*p

    def __init__(self, params, lr, **hyper):
        where = type(self).__name__
        self.params = _check_params(params, where)
        check_positive(lr, "learning rate", allow_zero=True, where=where)
        self.lr = float(lr)
        for name, convert in self.hyper.items():
            try:
                setattr(self, name, convert(hyper[name]))
            except (TypeError, ValueError) as err:
                raise type(err)(f"{where}: {name}: {err}") from None
        self._validate()
        self.step_count = 0
        self._allocate()

    def __repr__(self):
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in ("lr", *self.hyper))
        return f"{type(self).__name__}({args})"

    # -- hooks -------------------------------------------------------------------------------
    def _validate(self):
        """Check the hyper-parameters (already converted); raise in PyTorch's words."""

    def _buffers(self):
        """Names of the per-key state buffers under the current hyper-parameters."""
        return ()

    def _init_state(self, p):
        return {name: np.zeros_like(p) for name in self._buffers()}

    def _flush_names(self, dtype):
        """Decaying buffers to flush of subnormals (only where provably harmless)."""
        return ()

    def _update(self, p, g, state, scratch):
        raise NotImplementedError

    # -- the protocol ------------------------------------------------------------------------
    def _allocate(self):
        """Preallocate state, scratch (``tmp``, ``grad``, ``mask``) and the flush plan per key."""
        coupled = getattr(self, "weight_decay", 0) != 0 and not self.decoupled_weight_decay
        self.state, self._scratch, self._flush = {}, {}, {}
        for key, p in self.params.items():
            self.state[key] = self._init_state(p)
            names = self._flush_names(p.dtype)
            scratch = {"tmp": np.empty_like(p)}
            if coupled:
                scratch["grad"] = np.empty_like(p)
            if set(names) - _FLOORED:
                scratch["mask"] = np.empty(p.shape, dtype=bool)
            self._scratch[key] = scratch
            tiny = np.finfo(p.dtype).tiny   # a scalar of p's dtype: no upcast
            self._flush[key] = tuple(
                (_floor_subnormals if name in _FLOORED else _flush_subnormals, name, tiny,
                 name not in _NONNEGATIVE) for name in names)

    def _check_grads(self, grads):
        where = f"{type(self).__name__}.step"
        if not isinstance(grads, dict):
            raise TypeError(f"{where}: grads must be a dict of name -> ndarray; got "
                            f"{type(grads).__name__}\nhelp: pass model.grads()")
        if grads.keys() != self.params.keys():
            raise _key_mismatch(self.params, grads, "grads must have the same keys as params",
                                where,
                                "pass model.grads() of the model whose params() built the "
                                "optimizer")
        for key, p in self.params.items():
            g = grads[key]
            if not isinstance(g, np.ndarray):
                raise TypeError(f"{where}: grads[{key!r}] must be a numpy array; got "
                                f"{type(g).__name__}")
            check_same_shape(p, g, f"params[{key!r}]", f"grads[{key!r}]", where=where)
            if g.dtype != p.dtype:
                raise TypeError(f"{where}: grads[{key!r}] has dtype {g.dtype}; expected "
                                f"{p.dtype} (the dtype of params[{key!r}])\nhelp: "
                                f"grads[{key!r}].astype(np.{p.dtype})")
        return grads

    def _decayed_grad(self, p, g, scratch):
        """``g + weight_decay * p`` (PyTorch's coupled L2 decay) in scratch, or ``g`` itself."""
        if getattr(self, "weight_decay", 0) == 0 or self.decoupled_weight_decay:
            return g
        out = np.multiply(p, self.weight_decay, out=scratch["grad"])
        out += g
        return out

    def step(self, grads):
        """Update every parameter in place from ``grads`` (same keys, shapes and dtypes).

        Parameters
        ----------
        grads : dict of str -> ndarray
            ``grads[key]`` has the shape and dtype of ``params[key]``; it is only read.
        """
        grads = self._check_grads(grads)
        self.step_count += 1
        for key, p in self.params.items():
            state, scratch = self.state[key], self._scratch[key]
            self._update(p, grads[key], state, scratch)
            for flush, name, tiny, signed in self._flush[key]:
                flush(state[name], tiny, signed, scratch.get("mask"), scratch["tmp"])

    def state_dict(self):
        """Everything a resumed run needs, as flat keys -> Python scalars or ndarrays (copies).

        Keys: ``"optimizer"`` (registry name), ``"lr"``, ``"step_count"``, each hyper-parameter
        (``betas`` as a float64 array of 2) and ``"state.<key>.<buffer>"``, e.g.
        ``"state.0.W.exp_avg"``. ``np.savez`` stores it without pickle.
        """
        out = {"optimizer": self.name, "lr": self.lr, "step_count": self.step_count}
        for name in self.hyper:
            value = getattr(self, name)
            out[name] = np.array(value) if isinstance(value, tuple) else value
        for key, buffers in self.state.items():
            for name, buf in buffers.items():
                out[f"state.{key}.{name}"] = buf.copy()
        return out

    def load_state_dict(self, state_dict):
        """Restore :meth:`state_dict` output exactly (hyper-parameters, lr, step, buffers).

        Continuing after a restore is bit-identical to never stopping. The dict may come back
        from ``np.load`` (0-d arrays for scalars). Nothing changes if it does not fit.
        """
        where = f"{type(self).__name__}.load_state_dict"
        d = {key: value if key.startswith("state.") else _plain(value)   # buffers may be 0-d
             for key, value in state_dict.items()}
        if d.get("optimizer") != self.name:
            raise ValueError(f"{where}: the state_dict is for optimizer {d.get('optimizer')!r}; "
                             f"this is {self.name!r}\nhelp: build OPTIMIZERS"
                             f"[{d.get('optimizer')!r}] on the same params and load into it")
        scalars = ("lr", *self.hyper)
        if not all(name in d for name in scalars):
            raise _key_mismatch((*scalars, "step_count"), d, "state_dict lacks keys", where,
                                "pass the dict returned by state_dict()")
        fresh = type(self)(self.params, **{name: d[name] for name in scalars})
        expected = {"optimizer": None, "step_count": None, **dict.fromkeys(scalars)}
        expected.update({f"state.{k}.{n}": (k, n) for k, s in fresh.state.items() for n in s})
        if d.keys() != expected.keys():
            raise _key_mismatch(expected, d, "state_dict does not fit these params", where,
                                "load a state_dict saved by an optimizer on the same params")
        for flat, (key, name) in ((k, v) for k, v in expected.items() if v is not None):
            buf, saved = fresh.state[key][name], np.asarray(d[flat])
            check_same_shape(buf, saved, f"params[{key!r}]", f"state_dict[{flat!r}]", where)
            if saved.dtype != buf.dtype:
                raise TypeError(f"{where}: state_dict[{flat!r}] has dtype {saved.dtype}; "
                                f"expected {buf.dtype} (the dtype of params[{key!r}])")
            np.copyto(buf, saved)
        fresh.step_count = _count(d["step_count"])
        self.__dict__.update(fresh.__dict__)


# ------------------------------------------------------------------------------ optimizers
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

    Subnormals: the momentum buffer is flushed (``|b| < tiny -> 0``); each flush moves ``p`` by
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

    def _update(self, p, g, state, scratch):
        grad, tmp = self._decayed_grad(p, g, scratch), scratch["tmp"]
        d = grad
        if self.momentum:
            buf = state["momentum_buffer"]
            if self.step_count == 1:
                np.copyto(buf, grad)
            else:
                buf *= self.momentum
                buf += np.multiply(grad, 1 - self.dampening, out=tmp) if self.dampening else grad
            if self.nesterov:
                d = np.multiply(buf, self.momentum, out=tmp)
                d += grad
            else:
                d = buf
        p -= np.multiply(d, self.lr, out=tmp)


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

    Subnormals: m, v and max_v are flushed (``|b| < tiny -> 0``) when
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
        denom = np.sqrt(v, out=tmp)
        denom /= (1 - beta2 ** t) ** 0.5
        denom += self.eps
        p -= np.multiply(np.divide(m, denom, out=tmp), self.lr / (1 - beta1 ** t), out=tmp)


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

    Subnormals: s, :math:`\bar g` and b are flushed when
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
    subnormal. Its entries are raised to at least ``tiny`` after each step when
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
        return {"sum": np.full_like(p, self.initial_accumulator_value)}

    def _update(self, p, g, state, scratch):
        g, tmp, total = self._decayed_grad(p, g, scratch), scratch["tmp"], state["sum"]
        total += np.multiply(g, g, out=tmp)
        std = np.sqrt(total, out=tmp)
        std += self.eps
        clr = self.lr / (1 + (self.step_count - 1) * self.lr_decay)
        p -= np.multiply(np.divide(g, std, out=tmp), clr, out=tmp)


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSProp, "adagrad": Adagrad}


# ----------------------------------------------------------------- learning-rate schedules
class LRScheduler:
    """Base class: changes ``optimizer.lr`` once per epoch; subclasses fill ``get_lr``.

    Attributes
    ----------
    optimizer : Optimizer
    base_lr : float
        ``optimizer.lr`` when the schedule was built.
    last_epoch : int
        Number of ``step()`` calls so far; ``optimizer.lr`` is the rate for epoch
        ``last_epoch`` (0-based).
    last_lr : float
        The rate the schedule last set.

    Subclass tables: ``hyper`` (constructor arguments -> converter) and ``counters`` (running
    state -> converter); both go into :meth:`state_dict`.
    """
    name = "schedule"
    hyper = {}
    counters = {}
    needs_metric = False   # True: step(metric), e.g. ReduceLROnPlateau

    def __init__(self, optimizer, **hyper):
        where = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{where}: optimizer must be a numpynn.optim optimizer; got "
                            f"{type(optimizer).__name__}\nhelp: build one from OPTIMIZERS")
        self.optimizer, self.base_lr, self.last_epoch = optimizer, optimizer.lr, 0
        for name, convert in self.hyper.items():
            try:
                setattr(self, name, convert(hyper[name]))
            except (TypeError, ValueError) as err:
                raise type(err)(f"{where}: {name}: {err}") from None
        self._validate()
        self.optimizer.lr = self.last_lr = self._initial_lr()

    def _validate(self):
        """Check the converted hyper-parameters."""

    def _initial_lr(self):
        return self.optimizer.lr

    def get_lr(self):
        """The rate for epoch ``last_epoch``."""
        raise NotImplementedError

    def step(self):
        """End an epoch: advance ``last_epoch`` and set ``optimizer.lr`` for the next one."""
        self.last_epoch += 1
        self.optimizer.lr = self.last_lr = self.get_lr()

    def state_dict(self):
        """Python scalars only: ``schedule``, ``base_lr``, ``last_epoch``, ``last_lr`` and the
        hyper-parameters and counters."""
        names = ("base_lr", "last_epoch", "last_lr", *self.hyper, *self.counters)
        return {"schedule": self.name, **{name: getattr(self, name) for name in names}}

    def load_state_dict(self, state_dict):
        """Restore :meth:`state_dict` output, including ``optimizer.lr = last_lr``, so it does
        not matter whether the optimizer or the schedule is loaded first."""
        where = f"{type(self).__name__}.load_state_dict"
        d = {key: _plain(value) for key, value in state_dict.items()}
        tables = {"base_lr": _real, "last_epoch": _count, "last_lr": _real, **self.hyper,
                  **self.counters}
        if d.get("schedule") != self.name:
            raise ValueError(f"{where}: the state_dict is for schedule {d.get('schedule')!r}; "
                             f"this is {self.name!r}\nhelp: build SCHEDULES"
                             f"[{d.get('schedule')!r}] and load into it")
        if d.keys() != {"schedule", *tables}:
            raise _key_mismatch({"schedule": None, **tables}, d, "state_dict has the wrong keys",
                                where, f"pass the state_dict() of a {type(self).__name__}")
        values = {name: convert(d[name]) for name, convert in tables.items()}
        previous = dict(self.__dict__)
        self.__dict__.update(values)
        try:
            self._validate()
        except (TypeError, ValueError):
            self.__dict__.update(previous)
            raise
        self.optimizer.lr = self.last_lr


class ExponentialLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every epoch: :math:`\eta_e = \eta_0 \gamma^e`.

    The courses' ``learning_rate_decay``. Computed as PyTorch does, :math:`\eta \leftarrow
    \eta\gamma` each step, so it matches ``torch.optim.lr_scheduler.ExponentialLR`` exactly.

    >>> opt = SGD({"x": np.zeros(1)}, lr=1.0)
    >>> schedule = ExponentialLR(opt, gamma=0.5)
    >>> schedule.step(); schedule.step(); opt.lr
    0.25
    """
    name = "exponential"
    hyper = {"gamma": _real}

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer, gamma=gamma)

    def _validate(self):
        check_positive(self.gamma, "gamma", where="ExponentialLR")

    def get_lr(self):
        return self.optimizer.lr * self.gamma


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs:
    :math:`\eta_e = \eta_0 \gamma^{\lfloor e / \text{step\_size} \rfloor}` (PyTorch's StepLR)."""
    name = "step"
    hyper = {"step_size": _count, "gamma": _real}

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer, step_size=step_size, gamma=gamma)

    def _validate(self):
        check_positive(self.step_size, "step_size", where="StepLR")
        check_positive(self.gamma, "gamma", where="StepLR")

    def get_lr(self):
        decays = self.last_epoch % self.step_size == 0
        return self.optimizer.lr * self.gamma if decays else self.optimizer.lr


class CosineWarmupLR(LRScheduler):
    r"""Linear warm-up, then cosine annealing to ``min_lr``; :math:`\eta_0` is the optimizer's
    rate when the schedule is built, :math:`W` = ``warmup_epochs``, :math:`T` =
    ``total_epochs`` and :math:`e` the 0-based epoch:

    .. math::
        \eta_e = \begin{cases}
          \eta_0 \,(e + 1) / W & e < W \\
          \eta_{min} + \tfrac12(\eta_0 - \eta_{min})
             \left(1 + \cos\left(\pi \frac{e - W}{T - W}\right)\right) & W \le e \le T \\
          \eta_{min} & e > T
        \end{cases}

    So the warm-up climbs from :math:`\eta_0/W` to :math:`\eta_0` at epoch :math:`W-1`, the
    cosine starts at :math:`\eta_0` at epoch :math:`W` (the peak is used twice) and reaches
    :math:`\eta_{min}` at epoch :math:`T`. The cosine part equals PyTorch's
    ``CosineAnnealingLR(T_max=T - W, eta_min=min_lr)`` stepped :math:`e - W` times (computed
    here in closed form, PyTorch's recursively: equal to ~1e-15); PyTorch's would then rise
    again, this one stays at ``min_lr``. Building the schedule sets ``optimizer.lr`` to
    :math:`\eta_0/W` (:math:`\eta_0` when ``warmup_epochs=0``).

    >>> opt = SGD({"x": np.zeros(1)}, lr=1.0)
    >>> schedule = CosineWarmupLR(opt, warmup_epochs=2, total_epochs=4)
    >>> lrs = [opt.lr] + [schedule.step() or opt.lr for _ in range(4)]
    >>> [round(lr, 3) for lr in lrs]
    [0.5, 1.0, 1.0, 0.5, 0.0]
    """
    name = "cosine"
    hyper = {"warmup_epochs": _count, "total_epochs": _count, "min_lr": _real}

    def __init__(self, optimizer, warmup_epochs, total_epochs, min_lr=0.0):
        super().__init__(optimizer, warmup_epochs=warmup_epochs, total_epochs=total_epochs,
                         min_lr=min_lr)

    def _validate(self):
        check_positive(self.warmup_epochs, "warmup_epochs", allow_zero=True,
                       where="CosineWarmupLR")
        check_positive(self.min_lr, "min_lr", allow_zero=True, where="CosineWarmupLR")
        if self.total_epochs <= self.warmup_epochs:
            raise ValueError(f"CosineWarmupLR: total_epochs ({self.total_epochs}) must exceed "
                             f"warmup_epochs ({self.warmup_epochs})\nhelp: total_epochs is "
                             "the length of the whole run, warm-up included")

    def get_lr(self):
        e, w, t = self.last_epoch, self.warmup_epochs, self.total_epochs
        if e < w:
            return self.base_lr * (e + 1) / w
        progress = min(e - w, t - w) / (t - w)
        return self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2

    def _initial_lr(self):
        return self.get_lr()


# min/max x rel/abs -> "is `current` better than `best`?" (PyTorch's ReduceLROnPlateau)
_IMPROVES = {
    ("min", "rel"): lambda current, best, threshold: current < best * (1.0 - threshold),
    ("min", "abs"): lambda current, best, threshold: current < best - threshold,
    ("max", "rel"): lambda current, best, threshold: current > best * (threshold + 1.0),
    ("max", "abs"): lambda current, best, threshold: current > best + threshold,
}
_WORST = {"min": math.inf, "max": -math.inf}


class ReduceLROnPlateau(LRScheduler):
    r"""Multiply the rate by ``factor`` when a metric stops improving (PyTorch's semantics).

    ``step(metric)`` once per epoch. The metric improves when it beats ``best`` by
    ``threshold`` (``rel``: ``best * (1 - threshold)`` for ``min``; ``abs``:
    ``best - threshold``; mirrored for ``max``). After more than ``patience`` epochs without
    improvement, :math:`\eta \leftarrow \max(\eta \cdot \text{factor}, \text{min\_lr})` (skipped
    when the change is below ``eps``), then ``cooldown`` epochs are not counted as bad.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {"min", "max"}, default "min"
    factor : float, default 0.1
        In (0, 1).
    patience : int, default 10
    threshold : float, default 1e-4
    threshold_mode : {"rel", "abs"}, default "rel"
    cooldown : int, default 0
    min_lr : float, default 0.0
    eps : float, default 1e-8
        Smallest change of rate worth making.
    """
    name = "plateau"
    hyper = {"mode": str, "factor": _real, "patience": _count, "threshold": _real,
             "threshold_mode": str, "cooldown": _count, "min_lr": _real, "eps": _real}
    counters = {"best": _real, "num_bad_epochs": _count, "cooldown_counter": _count}
    needs_metric = True

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        super().__init__(optimizer, mode=mode, factor=factor, patience=patience,
                         threshold=threshold, threshold_mode=threshold_mode, cooldown=cooldown,
                         min_lr=min_lr, eps=eps)
        self.best, self.num_bad_epochs, self.cooldown_counter = _WORST[mode], 0, 0

    def _validate(self):
        where = "ReduceLROnPlateau"
        choose(self.mode, _WORST, "mode")
        choose(self.threshold_mode, {"rel": None, "abs": None}, "threshold_mode")
        if not 0.0 < self.factor < 1.0:
            raise ValueError(f"{where}: Factor should be < 1.0.; got factor={self.factor}\n"
                             "help: the rate is multiplied by factor, e.g. factor=0.1")
        for name in ("patience", "threshold", "cooldown", "min_lr", "eps"):
            check_positive(getattr(self, name), name, allow_zero=True, where=where)

    def step(self, metric):
        """End an epoch whose monitored value was ``metric`` (e.g. the validation loss)."""
        current = float(metric)
        self.last_epoch += 1
        if _IMPROVES[self.mode, self.threshold_mode](current, self.best, self.threshold):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0   # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.optimizer.lr * self.factor, self.min_lr)
            if self.optimizer.lr - new_lr > self.eps:
                self.optimizer.lr = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self.last_lr = self.optimizer.lr


SCHEDULES = {"exponential": ExponentialLR, "step": StepLR, "cosine": CosineWarmupLR,
             "plateau": ReduceLROnPlateau}


# ------------------------------------------------------------------------ gradient clipping
def clip_grad_norm(grads, max_norm):
    r"""Scale all gradients in place so that their global L2 norm is at most ``max_norm``.

    .. math::
        n = \sqrt{\textstyle\sum_k \lVert g_k \rVert_2^2}, \qquad
        g_k \leftarrow g_k \cdot \min\left(1, \frac{\text{max\_norm}}{n + 10^{-6}}\right)

    ``torch.nn.utils.clip_grad_norm_`` semantics, its 1e-6 included (so a norm exactly at
    ``max_norm`` is scaled by a hair). A non-finite norm scales every gradient by NaN, as
    PyTorch does, with a ``RuntimeWarning``.

    Parameters
    ----------
    grads : dict of str -> ndarray, or iterable of ndarray
        Floating arrays, modified in place, e.g. ``model.grads()``.
    max_norm : float
        Non-negative.

    Returns
    -------
    total_norm : float
        The norm before clipping.

    >>> g = {"W": np.array([3.0, 4.0])}
    >>> clip_grad_norm(g, max_norm=1.0)
    5.0
    >>> g["W"].round(6)
    array([0.6, 0.8])
    """
    arrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
    for i, g in enumerate(arrays):
        if not isinstance(g, np.ndarray):
            raise TypeError(f"clip_grad_norm: grads[{i}] must be a numpy array (scaled in "
                            f"place); got {type(g).__name__}")
        check_array(g, f"grads[{i}]", finite=False, where="clip_grad_norm")
    check_positive(max_norm, "max_norm", allow_zero=True, where="clip_grad_norm")
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in arrays))  # () over all entries
    coef = min(max_norm / (total + _CLIP_EPS), 1.0)   # min(nan, 1.0) is nan, like torch.clamp
    if not math.isfinite(total):
        warnings.warn(f"clip_grad_norm: the total gradient norm is {total}; gradients become "
                      "NaN", RuntimeWarning, stacklevel=2)
    if coef != 1.0:
        for g in arrays:
            g *= coef
    return total
