"""All the math, once: forward/backward kernels, softmax and the loss kernels (NumPy only).

Conventions (CS231n ``layers.py``): ``name_forward(...) -> (out, cache)`` and
``name_backward(dout, cache)`` returning the gradients in the order of forward's array inputs.
A cache holds only what backward reads; where the derivative is a function of the output
(σ(1 − σ), 1 − tanh²) the output is cached. Kernels trust their arrays (validation happens once,
at the public boundary) and keep the input's floating dtype: float32 in, float32 out and grads.

Shapes use named dimensions: N samples, D features, M outputs, C classes (C channels and
H × W pixels for images, NCHW). The convolution and pooling kernels are in
:mod:`numpynn.convolution`, re-exported here (``F.conv2d_forward``).
"""
import math

import numpy as np

from numpynn._helpers.numerics import underflow_to_zero
from numpynn._helpers.special import erf, erfc  # noqa: F401  (public: F.erf, F.erfc)
from numpynn._helpers.validation import (check_array, check_labels, check_nonempty,
                                         check_positive, check_same_shape, check_unit_interval)
# the convolution and pooling kernels live in their own module; F.conv2d_forward etc. as here
from numpynn.convolution import (  # noqa: F401
    _avg_pool2d_backward, _avg_pool2d_forward, _conv2d_backward, _conv2d_forward,
    _max_pool2d_backward, _max_pool2d_forward, avg_pool2d_backward, avg_pool2d_forward,
    conv2d_backward, conv2d_forward, max_pool2d_backward, max_pool2d_forward)

# --- Linear ---------------------------------------------------------------------------------------


def linear_forward(x, W, b, out=None):
    """Affine map y = x·W + b, each sample flattened to a row.

    Parameters
    ----------
    x : ndarray of shape (N, d1, ..., dk), with D = d1·...·dk
    W : ndarray of shape (D, M)
    b : ndarray of shape (M,)
    out : ndarray of shape (N, M), optional
        Array to write y into (a buffer reused across steps); a new one by default.

    Returns
    -------
    out : ndarray of shape (N, M)
    cache : (x, W)
    """
    out = np.matmul(x.reshape(x.shape[0], -1), W, out=out)  # (N, D) @ (D, M) -> (N, M)
    out += b                                                # (N, M) + (M,)
    return out, (x, W)


def linear_backward(dout, cache, need_dx=True, out=None, dx_out=None):
    """Gradients of y = x·W + b: dx = dout·Wᵀ, dW = xᵀ·dout, db = Σ_n dout.

    Parameters
    ----------
    dout : ndarray of shape (N, M)
    cache : from :func:`linear_forward`
    need_dx : bool, default True
        False skips dx (returned as None): a network's first layer needs no input gradient, and
        its (N, M)·(M, D) product is the largest in the backward pass.
    out : (ndarray of shape (D, M), ndarray of shape (M,)), optional
        Arrays to write dW and db into, in place (a layer's gradient arrays).
    dx_out : ndarray of shape (N, D), optional
        Array to write dx into (a buffer reused across steps); a new one by default.

    Returns
    -------
    (dx, dW, db), dx of x's original shape.
    """
    x, W = cache
    dW_out, db_out = out if out is not None else (None, None)
    dW = np.matmul(x.reshape(x.shape[0], -1).T, dout, out=dW_out)  # (D, N) @ (N, M) -> (D, M)
    db = np.add.reduce(dout, axis=0, out=db_out)                    # (M,)
    if not need_dx:
        return None, dW, db
    dx = np.matmul(dout, W.T, out=dx_out)                           # (N, M) @ (M, D) -> (N, D)
    return dx.reshape(x.shape), dW, db


# --- Activations: elementwise, out and dx of x's shape and dtype ----------------------------------
_LECUN_A, _LECUN_B = 1.7159, 2 / 3  # LeCun et al., "Efficient BackProp" (1998), §4.4
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def relu_forward(x, out=None):
    """ReLU: y = max(0, x), into ``out`` if given. Cache: the output (y > 0 exactly where x > 0)."""
    out = np.maximum(x, 0, out=out)
    return out, out


def relu_backward(dout, cache, out=None):
    """dx = dout · [y > 0] (subgradient 0 at x = 0, as in PyTorch), into ``out`` if given."""
    return np.multiply(dout, cache > 0, out=out)  # float·bool keeps dout's dtype; 6x where's speed


def leaky_relu_forward(x, negative_slope=0.01):
    """Leaky ReLU: y = x for x > 0, negative_slope·x otherwise. Cache: (x, negative_slope)."""
    return np.where(x > 0, x, negative_slope * x), (x, negative_slope)


def leaky_relu_backward(dout, cache):
    """dx = dout for x > 0, negative_slope·dout otherwise."""
    x, negative_slope = cache
    return np.where(x > 0, dout, negative_slope * dout)


@underflow_to_zero
def sigmoid(x):
    """Logistic σ(x) = 1 / (1 + e^(−x)), without overflow and with full relative precision.

    Only e^(−|x|) ∈ (0, 1] is ever computed: σ(x) = 1/(1 + e^(−|x|)) for x ≥ 0 and
    σ(x) = e^(−|x|)/(1 + e^(−|x|)) for x < 0, so σ(±1e4) is exactly 1.0 / 0.0 without warnings.

    >>> sigmoid(np.array([-1e4, 0.0, 1e4]))
    array([0. , 0.5, 1. ])
    """
    e = np.exp(-np.abs(x))        # e^(−|x|) in (0, 1]
    s = 1 / (1 + e)             # σ(|x|)
    return np.where(x >= 0, s, e * s)


def sigmoid_forward(x):
    """Sigmoid layer kernel: y = σ(x). Cache: the output y."""
    out = sigmoid(x)
    return out, out


@underflow_to_zero
def sigmoid_backward(dout, cache):
    """dx = dout · y(1 − y); uses that σ' is a function of the output."""
    return dout * cache * (1 - cache)


def tanh_forward(x):
    """y = tanh(x). Cache: the output y."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """dx = dout · (1 − y²)."""
    return dout * (1 - cache * cache)


def scaled_tanh_forward(x):
    """LeCun's scaled tanh y = 1.7159·tanh(2x/3) (unit variance outputs for unit variance inputs).

    Composed from :func:`tanh_forward`; cache: tanh(2x/3).
    """
    t, cache = tanh_forward(_LECUN_B * x)
    return _LECUN_A * t, cache


def scaled_tanh_backward(dout, cache):
    """dx = dout · 1.7159·(2/3)·(1 − tanh²(2x/3))."""
    return tanh_backward((_LECUN_A * _LECUN_B) * dout, cache)


@underflow_to_zero
def swish_forward(x):
    """Swish / SiLU: y = x·σ(x) (Ramachandran et al. 2017). Cache: (x, σ(x))."""
    s = sigmoid(x)
    return x * s, (x, s)


@underflow_to_zero
def swish_backward(dout, cache):
    """dx = dout · σ(x)·(1 + x·(1 − σ(x)))  (= y + σ(x)(1 − y))."""
    x, s = cache
    return dout * s * (1 + x * (1 - s))


@underflow_to_zero
def gelu_forward(x):
    """GELU, exact form (PyTorch's ``approximate='none'``): y = x·Φ(x), Φ(x) = ½·erfc(−x/√2).

    Writing Φ with erfc keeps full relative precision in the left tail (Hendrycks & Gimpel 2016).
    Cache: (x, Φ(x)).
    """
    cdf = 0.5 * erfc(-_SQRT_HALF * x)
    return x * cdf, (x, cdf)


@underflow_to_zero
def gelu_backward(dout, cache):
    """dx = dout · (Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π)."""
    x, cdf = cache
    pdf = np.exp(-0.5 * x * x)
    pdf *= _INV_SQRT_2PI
    return dout * (cdf + x * pdf)


def elu_forward(x, alpha=1.0):
    """ELU: y = x for x > 0, α·(e^x − 1) otherwise (Clevert et al. 2015). Cache: (x, α).

    The derivative α·e^x is *not* taken from the output as y + α: for x ≪ 0 that difference
    cancels catastrophically, so the input is cached instead.
    """
    neg = np.minimum(x, 0)  # expm1 only where it cannot overflow
    return np.where(x > 0, x, alpha * np.expm1(neg)), (x, alpha)


@underflow_to_zero
def elu_backward(dout, cache):
    """dx = dout for x > 0, dout·α·e^x otherwise (α at x = 0, as in PyTorch)."""
    x, alpha = cache
    return np.where(x > 0, dout, (alpha * dout) * np.exp(np.minimum(x, 0)))


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "scaled_tanh": (scaled_tanh_forward, scaled_tanh_backward),
    "swish": (swish_forward, swish_backward),
    "gelu": (gelu_forward, gelu_backward),
    "elu": (elu_forward, elu_backward),
}
"""name -> (forward, backward): the single source of activation names (layers, CLI, tests)."""


# --- Dropout and normalisation --------------------------------------------------------------------


def dropout_forward(x, p, training, rng):
    """Inverted dropout: zero each entry with probability ``p``, scale survivors by 1/(1 − p).

    So E[out] = x and evaluation needs no rescaling; in eval mode (or p = 0) it is the identity.

    Parameters
    ----------
    x : ndarray of any shape
    p : float in [0, 1]
        Probability of DROPPING an entry (PyTorch's convention).
    training : bool
    rng : numpy.random.Generator

    Returns
    -------
    out : ndarray of x's shape
    cache : the scaled mask (x's shape and dtype), or None for the identity
    """
    if not training or p == 0:
        return x, None
    keep = rng.random(x.shape, dtype=np.float32) >= p  # float32 uniforms: half the memory
    mask = keep.astype(x.dtype)
    mask *= 1 / (1 - p) if p < 1 else 0.0
    return x * mask, mask


def dropout_backward(dout, cache):
    """dx = dout ⊙ mask (the very mask forward drew); dout itself for the identity."""
    return dout if cache is None else dout * cache


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1,
                      eps=1e-5):
    """Batch normalisation over the batch axis (Ioffe & Szegedy 2015), like torch BatchNorm1d.

        x̂ = (x − μ) / √(σ² + eps),  y = γ ⊙ x̂ + β

    Training uses the batch mean μ and *biased* variance σ², and updates the running statistics
    in place: r ← (1 − momentum)·r + momentum·s, with the *unbiased* batch variance
    σ²·N/(N − 1) for ``running_var`` (PyTorch's convention). Eval uses the running statistics.

    Parameters
    ----------
    x : ndarray of shape (N, D)
    gamma, beta : ndarray of shape (D,)
    running_mean, running_var : ndarray of shape (D,), updated in place when training
    training : bool
    momentum, eps : float

    Returns
    -------
    out : ndarray of shape (N, D)
    cache : (x̂, γ/√(σ² + eps), training)
    """
    if training:
        n = x.shape[0]
        if n < 2:
            raise ValueError(f"batchnorm_forward: expected more than 1 sample per batch in "
                             f"training; got x of shape {x.shape}\n"
                             "help: use a batch size > 1 or switch the layer to eval()")
        mean = x.mean(axis=0)                       # (D,)
        xc = x - mean                               # (N, D) - (D,)
        var = np.mean(xc * xc, axis=0)              # (D,) biased
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += (momentum * n / (n - 1)) * var  # unbiased
    else:
        xc = x - running_mean                       # (N, D) - (D,)
        var = running_var
    inv_std = 1 / np.sqrt(var + eps)                # (D,)
    xhat = xc * inv_std                             # (N, D) * (D,)
    return gamma * xhat + beta, (xhat, gamma * inv_std, training)


def batchnorm_backward(dout, cache):
    """Gradients of batch normalisation, compact closed form.

    With s = γ/√(σ² + eps): dβ = Σ_n dout, dγ = Σ_n dout ⊙ x̂ and, in training (μ, σ² depend on
    x), dx = s ⊙ (dout − dβ/N − x̂ ⊙ dγ/N); in eval the statistics are constants and dx = s ⊙ dout.

    ``dout`` : ndarray of shape (N, D). Returns ``(dx, dgamma, dbeta)``.
    """
    xhat, scale, training = cache
    dbeta = dout.sum(axis=0)                        # (D,)
    dgamma = np.sum(dout * xhat, axis=0)            # (D,)
    if not training:
        return dout * scale, dgamma, dbeta
    n = dout.shape[0]
    dx = scale * (dout - dbeta / n - xhat * (dgamma / n))  # (D,) * ((N, D) - (D,) - (N, D)*(D,))
    return dx, dgamma, dbeta


def batchnorm2d_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1,
                        eps=1e-5):
    """Spatial batch normalisation, as torch BatchNorm2d: :func:`batchnorm_forward` with each
    channel's statistics taken over N, H and W (every pixel of a channel is one more sample).

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    gamma, beta : ndarray of shape (C,)
    running_mean, running_var : ndarray of shape (C,), updated in place when training
        The running variance uses the unbiased variance over the N·H·W values (PyTorch's).
    training : bool
    momentum, eps : float

    Returns
    -------
    out : ndarray of shape (N, C, H, W)
    cache : :func:`batchnorm_forward`'s, on the (N·H·W, C) rows
    """
    n, c, h, w = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, c)                  # (N·H·W, C)
    out, cache = batchnorm_forward(rows, gamma, beta, running_mean, running_var, training,
                                   momentum, eps)
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), cache    # (N, C, H, W)


def batchnorm2d_backward(dout, cache):
    """Gradients of :func:`batchnorm2d_forward`: :func:`batchnorm_backward` on the rows.

    ``dout`` : ndarray of shape (N, C, H, W). Returns ``(dx, dgamma, dbeta)``, dx of shape
    (N, C, H, W), the others (C,).
    """
    n, c, h, w = dout.shape
    rows = dout.transpose(0, 2, 3, 1).reshape(-1, c)               # (N·H·W, C)
    dx, dgamma, dbeta = batchnorm_backward(rows, cache)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta  # (N, C, H, W)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalisation over the last axis of each sample (Ba et al. 2016), like torch LayerNorm.

        x̂ = (x − mean(x)) / √(var(x) + eps) along the last axis,  y = γ ⊙ x̂ + β

    Biased variance; no running statistics, so training and eval agree.

    Parameters
    ----------
    x : ndarray of shape (..., D)
    gamma, beta : ndarray of shape (D,)

    Returns
    -------
    out : ndarray of x's shape
    cache : (x̂, 1/√(var + eps) of shape (..., 1), γ)
    """
    mean = x.mean(axis=-1, keepdims=True)           # (..., 1)
    xc = x - mean                                   # (..., D)
    inv_std = 1 / np.sqrt(np.mean(xc * xc, axis=-1, keepdims=True) + eps)  # (..., 1)
    xhat = xc * inv_std                             # (..., D)
    return gamma * xhat + beta, (xhat, inv_std, gamma)


def layernorm_backward(dout, cache):
    """With g = dout ⊙ γ: dx = (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)) / √(var + eps) (means over D).

    ``dout`` : ndarray of x's shape (..., D). Returns ``(dx, dgamma, dbeta)``, the last two (D,).
    """
    xhat, inv_std, gamma = cache
    d = xhat.shape[-1]
    dbeta = dout.reshape(-1, d).sum(axis=0)                 # (D,)
    dgamma = np.sum((dout * xhat).reshape(-1, d), axis=0)   # (D,)
    g = dout * gamma                                        # (..., D)
    dx = inv_std * (g - g.mean(axis=-1, keepdims=True)      # (..., 1) * ((..., D) - (..., 1)
                    - xhat * np.mean(g * xhat, axis=-1, keepdims=True))  # - (..., D)*(..., 1))
    return dx, dgamma, dbeta


# --- Softmax --------------------------------------------------------------------------------------


def _max_keepdims(x, axis=-1):
    """``x.max(axis, keepdims=True)``, fast for the short rows of class scores.

    NumPy reduces a short contiguous row one call at a time (about 0.1 µs a row for 10
    classes); for a 2-D ``x`` with at most 32 columns the maximum is taken down the columns of
    the transposed copy instead, vectorised across the rows (10x faster at N = 1024, C = 10).

    >>> _max_keepdims(np.array([[1.0, 3.0], [4.0, 2.0]]))
    array([[3.],
           [4.]])
    """
    if x.ndim == 2 and axis in (-1, 1) and x.shape[1] <= 32:
        return np.ascontiguousarray(x.T).max(axis=0)[:, None]  # (C, N) -> (N,) -> (N, 1)
    return x.max(axis=axis, keepdims=True)


@underflow_to_zero
def softmax(x, axis=-1):
    """softmax(x)_i = e^(x_i − max x) / Σ_j e^(x_j − max x): the shift makes overflow impossible.

    >>> softmax(np.array([[1e4, 0.0, -1e4]]))
    array([[1., 0., 0.]])
    """
    z = x - _max_keepdims(x, axis)           # x's shape, every entry <= 0
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)     # / (..., 1, ...)
    return z


@underflow_to_zero
def log_softmax(x, axis=-1):
    """log softmax(x) = (x − m) − log Σ_j e^(x_j − m), m = max x (log-sum-exp; never log(0))."""
    z = x - _max_keepdims(x, axis)                          # x's shape, max entry 0
    z -= np.log(np.exp(z).sum(axis=axis, keepdims=True))    # the sum is >= 1
    return z


# --- Losses: a public, checked function over each private, trusted kernel ------------------------
# (pred, target) -> (loss: float, dpred of pred's shape and dtype), mean reduction.
# ``name(...)`` checks its arguments once, with the messages of the loss objects in
# numpynn.losses, then calls ``_name(...)``, the kernel: the same math with no checks, for callers
# that have checked already (the loss objects, and the Trainer's hot loop after one check per fit).
_LOG_FLOOR = -100.0  # PyTorch clamps BCE's logs at -100, so log(0) costs 100 rather than inf
_BCE_EPS = float(np.float32(1e-12))  # PyTorch's floor on p(1 − p) in BCE's gradient (a C float)


def softmax_cross_entropy(scores, labels):
    """Mean cross-entropy of softmax(scores): L = −1/N Σ_n log softmax(s_n)[y_n].

    Parameters
    ----------
    scores : ndarray of shape (N, C)
        Unnormalised class scores (logits), finite floats.
    labels : integer ndarray of shape (N,), values in [0, C)

    Returns
    -------
    loss : float
    dscores : ndarray of shape (N, C): (softmax(s) − onehot(y)) / N

    Raises
    ------
    TypeError
        Non-float scores; labels that are not integers (floats, even whole ones, or booleans).
    ValueError
        Wrong shapes, NaN/inf scores, labels outside [0, C).

    >>> loss, dscores = softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 2]))
    >>> round(loss, 6), dscores.shape
    (1.098612, (2, 3))
    >>> softmax_cross_entropy(np.zeros((2, 3)), np.array([0, -1]))
    Traceback (most recent call last):
    ...
    ValueError: softmax_cross_entropy: labels must lie in [0, 3); got values from -1 to 0
    """
    where = "softmax_cross_entropy"
    scores = check_nonempty(check_array(scores, "scores", ndim=2, where=where), "scores", where)
    labels = check_labels(labels, scores.shape[1], n_samples=scores.shape[0], where=where)
    return _softmax_cross_entropy(scores, labels)


@underflow_to_zero
def _softmax_cross_entropy(scores, labels):
    """Kernel of :func:`softmax_cross_entropy`: trusts ``scores`` (N, C) and ``labels`` (N,)."""
    n = scores.shape[0]
    rows = np.arange(n)
    z = scores - _max_keepdims(scores)           # (N, C), each row's max 0
    dscores = np.exp(z)                          # e^z, (N, C)
    sums = np.add.reduce(dscores, axis=1)        # Σ_j e^z_j >= 1, (N,)
    # log softmax(s)[y] = z_y − log Σ_j e^z_j
    loss = (np.add.reduce(np.log(sums)) - np.add.reduce(z[rows, labels])) / n
    dscores /= (sums * n)[:, None]               # softmax / N
    dscores[rows, labels] -= 1 / n
    return float(loss), dscores


def binary_cross_entropy(probs, targets):
    """Mean binary cross-entropy of probabilities, as torch.nn.functional.binary_cross_entropy.

        L = −mean(t·max(log p, −100) + (1 − t)·max(log(1 − p), −100))
        dL/dp = (p − t) / max(p(1 − p), 1e-12) / size

    Parameters
    ----------
    probs : ndarray of any shape, finite floats in [0, 1]
    targets : ndarray of probs' shape (no broadcasting), numbers in [0, 1]

    Returns
    -------
    loss : float (mean over all elements)
    dprobs : ndarray of probs' shape and dtype

    Raises
    ------
    TypeError, ValueError
        As :func:`bce_with_logits`; also probabilities outside [0, 1] (raw scores belong there).
    """
    where = "binary_cross_entropy"
    probs = check_nonempty(check_array(probs, "probs", where=where), "probs", where)
    check_unit_interval(probs, "probs", where,
                        "\nhelp: binary_cross_entropy takes probabilities; pass raw scores to "
                        "bce_with_logits")
    targets = check_array(targets, "targets", dtype_kind="fiu", where=where)
    check_same_shape(probs, targets, "probs", "targets", where=where)
    check_unit_interval(targets, "targets", where)
    return _binary_cross_entropy(probs, targets)


@underflow_to_zero
def _binary_cross_entropy(probs, targets):
    """Kernel of :func:`binary_cross_entropy`: trusts ``probs`` and ``targets``."""
    t = np.asarray(targets, dtype=probs.dtype)
    with np.errstate(divide="ignore"):  # log(0) = -inf is clamped on the next lines
        log_p = np.maximum(np.log(probs), _LOG_FLOOR)
        log_q = np.maximum(np.log1p(-probs), _LOG_FLOOR)
    loss = -np.mean(t * log_p + (1 - t) * log_q)
    dprobs = (probs - t) / np.maximum(probs * (1 - probs), _BCE_EPS)
    dprobs /= probs.size
    return float(loss), dprobs


def bce_with_logits(logits, targets):
    """Mean binary cross-entropy of σ(logits), in the stable log-sum-exp form.

        ℓ(x, t) = max(x, 0) − x·t + log(1 + e^(−|x|)),   dℓ/dx = σ(x) − t

    Parameters
    ----------
    logits : ndarray of any shape, finite floats
    targets : ndarray of logits' shape (no broadcasting), numbers in [0, 1]

    Returns
    -------
    loss : float (mean over all elements, as in PyTorch)
    dlogits : ndarray of logits' shape and dtype

    Raises
    ------
    TypeError
        Non-float logits or non-numeric targets.
    ValueError
        NaN/inf, targets of another shape or outside [0, 1].
    """
    where = "bce_with_logits"
    logits = check_nonempty(check_array(logits, "logits", where=where), "logits", where)
    targets = check_array(targets, "targets", dtype_kind="fiu", where=where)
    check_same_shape(logits, targets, "logits", "targets", where=where)
    check_unit_interval(targets, "targets", where)
    return _bce_with_logits(logits, targets)


@underflow_to_zero
def _bce_with_logits(logits, targets):
    """Kernel of :func:`bce_with_logits`: trusts ``logits`` and ``targets``."""
    t = np.asarray(targets, dtype=logits.dtype)
    loss = np.mean(np.maximum(logits, 0) - logits * t + np.log1p(np.exp(-np.abs(logits))))
    dlogits = sigmoid(logits) - t
    dlogits /= logits.size
    return float(loss), dlogits


def mse(pred, target):
    """Mean squared error over ALL elements (PyTorch's ``MSELoss``): L = mean((p − t)²).

    ``pred``: finite floats of any shape; ``target``: numbers of exactly pred's shape.
    Returns ``(loss, dpred)`` with dpred = 2(p − t)/size of pred's shape and dtype.

    >>> mse(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    (2.0, array([ 0., -2.]))
    """
    pred = check_nonempty(check_array(pred, "pred", where="mse"), "pred", "mse")
    target = check_array(target, "target", dtype_kind="fiu", where="mse")
    check_same_shape(pred, target, "pred", "target", where="mse")
    return _mse(pred, target)


def _mse(pred, target):
    """Kernel of :func:`mse`: trusts ``pred`` and ``target``."""
    diff = pred - np.asarray(target, dtype=pred.dtype)
    loss = np.vdot(diff, diff) / diff.size
    diff *= 2 / diff.size
    return float(loss), diff


def l1(pred, target):
    """Mean absolute error over all elements: L = mean(|p − t|).

    The gradient sign(p − t)/size uses the subgradient 0 where p == t (as PyTorch does).
    ``pred``: finite floats of any shape; ``target``: numbers of exactly pred's shape.
    """
    pred = check_nonempty(check_array(pred, "pred", where="l1"), "pred", "l1")
    target = check_array(target, "target", dtype_kind="fiu", where="l1")
    check_same_shape(pred, target, "pred", "target", where="l1")
    return _l1(pred, target)


def _l1(pred, target):
    """Kernel of :func:`l1`: trusts ``pred`` and ``target``."""
    diff = pred - np.asarray(target, dtype=pred.dtype)
    loss = np.abs(diff).mean()
    dpred = np.sign(diff)
    dpred /= diff.size
    return float(loss), dpred


def hinge(scores, labels, margin=1.0):
    """Multiclass SVM loss (CS231n): L = 1/N Σ_n Σ_{j≠y_n} max(0, s_nj − s_ny_n + margin).

    Relation to PyTorch: ``torch.nn.functional.multi_margin_loss`` divides each sample's sum
    by C, so ``hinge(s, y, m) == C · multi_margin_loss(s, y, margin=m)``.
    The subgradient of max(0, ·) at 0 is taken as 0.

    Parameters
    ----------
    scores : ndarray of shape (N, C), finite floats
    labels : integer ndarray of shape (N,), values in [0, C)
    margin : float >= 0

    Returns
    -------
    loss : float
    dscores : ndarray of shape (N, C)

    Raises
    ------
    TypeError, ValueError
        As :func:`softmax_cross_entropy`; also a negative or NaN margin.

    >>> round(hinge(np.array([[3.2, 5.1, -1.7]]), np.array([0]))[0], 12)  # CS231n's cat: 2.9 + 0
    2.9
    >>> hinge(np.zeros((2, 3)), np.array([0, 7]))
    Traceback (most recent call last):
    ...
    ValueError: hinge: labels must lie in [0, 3); got values from 0 to 7
    """
    where = "hinge"
    scores = check_nonempty(check_array(scores, "scores", ndim=2, where=where), "scores", where)
    labels = check_labels(labels, scores.shape[1], n_samples=scores.shape[0], where=where)
    return _hinge(scores, labels, check_positive(margin, "margin", allow_zero=True, where=where))


def _hinge(scores, labels, margin=1.0):
    """Kernel of :func:`hinge`: trusts ``scores`` (N, C), ``labels`` (N,) and ``margin``."""
    n = scores.shape[0]
    rows = np.arange(n)
    margins = scores - scores[rows, labels][:, None]  # (N, C) - (N, 1)
    margins += margin
    margins[rows, labels] = 0
    np.maximum(margins, 0, out=margins)
    loss = margins.sum() / n
    dscores = (margins > 0).astype(scores.dtype)      # (N, C)
    dscores[rows, labels] = -dscores.sum(axis=1)      # (N,)
    dscores /= n
    return float(loss), dscores

