"""Optimizers: in-place updates of a dict of arrays from a dict of gradients (PyTorch's rules)."""
import math

import numpy as np

from numpynn._validation import check_positive, check_same_shape
from numpynn.optim._checks import (_check_nonnegative, _check_params, _count, _flag, _key_mismatch,
                                   _pair, _plain, _real, set_hyper)

# buffers that are never negative: flushing them needs no abs()
_NONNEGATIVE = frozenset({"exp_avg_sq", "max_exp_avg_sq", "square_avg"})
# accumulators that never decay: subnormal entries are raised to tiny instead (one pass)
_FLOORED = frozenset({"sum"})
# An update runs block by block: all of its passes over one block of a parameter (and of its
# gradient, state and scratch) while the block is in the L2 cache, instead of each pass
# streaming the whole array through memory. Element-wise, so the results are the same bits.
BLOCK_BYTES = 256 * 1024


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


def _flat(a):
    """``a`` as a 1-D array: a view of a contiguous array (a copy otherwise)."""
    return a.reshape(-1)


def _address(a):
    return a.__array_interface__["data"][0]


def packed_vector(arrays):
    """The 1-D array that ``arrays`` tile exactly, one after another in order, or None.

    ``Sequential`` packs its layers' parameters (and gradients) into one buffer and hands
    out views of it; an optimizer then updates the whole buffer as one vector, in a few
    NumPy calls whatever the number of arrays.
    """
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    address = _address(base)
    for a in arrays:
        if a.base is not base or not a.flags.c_contiguous or _address(a) != address:
            return None
        address += a.nbytes
    return base if address == _address(base) + base.nbytes else None


def _block_size(p):
    """Elements per block: BLOCK_BYTES worth, or the whole array when it is small or not
    contiguous (a non-contiguous parameter cannot be split into views of a flat array)."""
    if not p.flags.c_contiguous:
        return p.size
    return max(1, min(p.size, BLOCK_BYTES // p.itemsize))


def _blocks(p, state, scratch, size):
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


class _Segment:
    """Parameters updated as one array: a single parameter, or all of them when they are
    packed in one vector (see :func:`packed_vector`). Holds the blocks of that array, the flush
    plan of its state, and finds the matching gradient array in a ``grads`` dict."""

    def __init__(self, keys, vector, state, scratch, flushes):
        self.keys, self.size, self.flushes = keys, vector.size, flushes
        self.blocks = _blocks(vector, state, scratch, _block_size(vector))
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
            self._gathered = np.empty(self.size, dtype=arrays[0].dtype)
        return np.concatenate([_flat(a) for a in arrays], out=self._gathered)


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
        set_hyper(self, hyper, where)
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
        """Preallocate state and the segments: the arrays updated as one (all parameters when
        they are packed, else each one), cut into blocks with block-sized scratch (``tmp``,
        ``grad``, ``mask``), and the flush plan of their dtype."""
        self.state, self._segments = {}, []
        arrays = list(self.params.values())
        vector = packed_vector(arrays) if len(arrays) > 1 else None
        if vector is None:
            for key, p in self.params.items():
                self.state[key] = self._init_state(p)
                self._add_segment((key,), p, self.state[key])
        else:   # one vector: state buffers are vectors too, each key viewing its part
            state, start = self._init_state(vector), 0
            for key, p in self.params.items():
                self.state[key] = {name: buf[start:start + p.size].reshape(p.shape)
                                   for name, buf in state.items()}
                start += p.size
            self._add_segment(tuple(self.params), vector, state)

    def _add_segment(self, keys, vector, state):
        coupled = getattr(self, "weight_decay", 0) != 0 and not self.decoupled_weight_decay
        names, size = self._flush_names(vector.dtype), _block_size(vector)
        scratch = {"tmp": np.empty(size, dtype=vector.dtype)}
        if coupled:
            scratch["grad"] = np.empty(size, dtype=vector.dtype)
        if set(names) - _FLOORED:
            scratch["mask"] = np.empty(size, dtype=bool)
        tiny = np.finfo(vector.dtype).tiny   # a scalar of the dtype: no upcast
        flushes = tuple((_floor_subnormals if name in _FLOORED else _flush_subnormals, name, tiny,
                         name not in _NONNEGATIVE) for name in names)
        self._segments.append(_Segment(keys, vector, state, scratch, flushes))

    def check_grads(self, grads):
        """Return ``grads`` if it fits ``params`` (same keys, shapes and dtypes), else raise."""
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
        self.step_trusted(self.check_grads(grads))

    def step_trusted(self, grads):
        """:meth:`step` without checking ``grads``, for a caller that checked it once with
        :meth:`check_grads` (the Trainer, once per ``fit``)."""
        self.step_count += 1
        for segment in self._segments:
            g = segment.gradient(grads)
            for span, p, state, scratch in segment.blocks:
                self._update(p, g[span], state, scratch)
                for flush, name, tiny, signed in segment.flushes:
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
