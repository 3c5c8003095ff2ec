"""Layers: objects that keep what backward needs and own their parameters.

Every layer follows one protocol (CS231n's layer API behind an object):

- ``forward(x)`` computes the output and caches what ``backward`` reads;
- ``backward(dout)`` returns ``dx`` and writes parameter gradients into ``grads`` in place;
- ``params`` and ``grads`` are dicts with the same keys holding the *very* arrays; ``buffers``
  holds non-trained state such as batch norm's running statistics;
- ``train()`` / ``eval()`` set the ``training`` flag (dropout and batch norm read it).

Every layer has exactly these two signatures, so ``Sequential`` is a loop forward and a reversed
loop backward. (Where each array a training step writes goes, and skipping the first layer's
``dx``, is the Trainer's business: :mod:`numpynn._speed.workspace`.)

An optimizer built on a lone layer's ``params`` updates that layer. A :class:`Sequential` moves
its layers' arrays, once, into one packed buffer (each layer then holds views of it, values
unchanged) and makes the arrays it left read-only: an optimizer built on them before refuses to
step, with a ``help:`` line saying to build it from ``model.params()``.

The math lives in :mod:`numpynn.functional`; a layer only routes arrays to it.
"""
import math

import numpy as np

from numpynn import functional as F
from numpynn._helpers.limits import check_memory
from numpynn._helpers.validation import as_generator, check_int, check_positive, check_range
from numpynn.convolution import check_images, check_window, output_hw, pair
from numpynn.init import initialize

class _NotRun:
    """The cache of a layer whose forward has not run (None is a valid cache: eval dropout)."""

    def __deepcopy__(self, memo):
        return self  # one sentinel, also in copies made by Sequential.astype


_NOT_RUN = _NotRun()

FLOAT_DTYPES = {"float16": np.float16, "float32": np.float32, "float64": np.float64}


def _float_dtype(dtype, where):
    name = np.dtype(dtype).name
    if name not in FLOAT_DTYPES:
        raise TypeError(f"{where}: dtype must be one of {', '.join(FLOAT_DTYPES)}; got {name}")
    return np.dtype(name)


class ArrayView:
    """Attribute access to one entry of a layer's ``params`` or ``grads``.

    ``layer.W`` *is* ``layer.params["W"]``; assigning ``layer.W = values`` copies into that array
    (shape checked), so references held by an optimizer stay valid.
    """

    def __init__(self, table, key):
        self.table, self.key = table, key

    def __get__(self, layer, owner=None):
        return self if layer is None else getattr(layer, self.table)[self.key]

    def __set__(self, layer, value):
        target = getattr(layer, self.table)[self.key]
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"{layer!r}: {self.key} must have shape {target.shape}; "
                             f"got {value.shape}")
        target[...] = value


class Layer:
    """Base class: the protocol and the bookkeeping shared by every layer.

    Attributes
    ----------
    params, grads : dict of str -> ndarray
        Trainable arrays and their gradients (same keys, same shapes).
    buffers : dict of str -> ndarray
        Non-trainable state saved with the model (e.g. running statistics).
    training : bool
        Set by :meth:`train` / :meth:`eval`.
    """

    def __init__(self):
        self.params, self.grads, self.buffers = {}, {}, {}
        self.training = True
        self._cache = _NOT_RUN

    def add_param(self, name, value):
        """Register a trainable array and a zero gradient of the same shape and dtype."""
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout):
        """Return dL/dx and write parameter gradients into ``grads`` (in place)."""
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def train(self, mode=True):
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def config(self):
        """The constructor arguments that rebuild this layer (JSON values; used by ``save``)."""
        return {}

    def output_shape(self, input_shape):
        """Shape of one sample's output given one sample's input shape."""
        return tuple(input_shape)

    def astype(self, dtype):
        """Convert params, grads and buffers to ``dtype`` in place; returns self."""
        for table in (self.params, self.grads, self.buffers):
            for key, value in table.items():
                table[key] = value.astype(dtype)
        if "dtype" in self.config():
            self.dtype = np.dtype(dtype)
        return self

    def _take_cache(self):
        if self._cache is _NOT_RUN:
            raise RuntimeError(f"{self!r}.backward called before forward")
        return self._cache

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "dtype")
        return f"{type(self).__name__}({args})"


class Linear(Layer):
    """Fully connected layer: ``y = x·W + b``.

    Parameters
    ----------
    n_in, n_out : int
        Input features D and output features M.
    init : str or callable, default "xavier_uniform"
        Weight initialiser (see :mod:`numpynn.init`); the bias starts at zero. (``numpynn
        train`` builds its Linear layers with ``he_normal``, suited to ReLU networks.)
    rng : int or numpy.random.Generator, optional
        Source of the initial weights.
    dtype : float dtype, default np.float32
    std : float, optional
        Standard deviation for ``init="normal"`` (CS231n's ``weight_scale``, default 0.01).

    Attributes
    ----------
    W : ndarray of shape (n_in, n_out)
        Initialised by ``init``, e.g. U(−a, a), a = √(6/(n_in + n_out)) for Xavier.
    b : ndarray of shape (n_out,)
        Zeros.
    dW, db : ndarray
        Gradients of the loss w.r.t. W and b after :meth:`backward`.

    Shape
    -----
    Input (N, D) or (N, d1, …, dk) with d1·…·dk = D (flattened); output (N, M).

    Examples
    --------
    >>> layer = Linear(4, 3, rng=0)
    >>> layer.forward(np.ones((2, 4), dtype=np.float32)).shape
    (2, 3)
    """

    W, b = ArrayView("params", "W"), ArrayView("params", "b")
    dW, db = ArrayView("grads", "W"), ArrayView("grads", "b")

    def __init__(self, n_in, n_out, init="xavier_uniform", rng=None, dtype=np.float32, std=None):
        super().__init__()
        where = f"Linear({n_in!r}, {n_out!r})"
        self.n_in = check_int(n_in, "n_in", minimum=1, where=where)
        self.n_out = check_int(n_out, "n_out", minimum=1, where=where)
        self.dtype = _float_dtype(dtype, where)
        # W and b, their gradients, and the float64 values init draws before the cast
        check_memory((self.n_in + 1) * self.n_out * (2 * self.dtype.itemsize + 8), "the layer",
                     where=where, hint="\nhelp: use fewer features or units")
        self.add_param("W", initialize(init, (self.n_in, self.n_out), as_generator(rng),
                                       self.dtype, std=std, where=where))
        self.add_param("b", np.zeros(self.n_out, dtype=self.dtype))

    def forward(self, x):
        n_features = math.prod(x.shape[1:]) if x.ndim >= 2 else -1
        if n_features != self.n_in:
            raise ValueError(f"{self!r}.forward: x has shape {x.shape}; expected "
                             f"(N, {self.n_in}) or (N, …) with {self.n_in} features per sample")
        out, self._cache = F.linear_forward(x, self.W, self.b)
        return out

    def backward(self, dout):
        """Store dW and db (in place) and return dx."""
        dx, _, _ = F.linear_backward(dout, self._take_cache(), out=(self.dW, self.db))
        return dx

    def config(self):
        return {"n_in": self.n_in, "n_out": self.n_out, "dtype": self.dtype.name}

    def output_shape(self, input_shape):
        return (self.n_out,)

    def __repr__(self):
        return f"Linear({self.n_in}, {self.n_out})"


class Activation(Layer):
    """An element-wise layer computed by a pair in :data:`numpynn.functional.ACTIVATIONS`.

    Subclasses name their pair in ``activation``; extra keyword arguments of the kernel come
    from :meth:`config`.
    """

    activation = None

    def forward(self, x):
        forward_fn, _ = F.ACTIVATIONS[self.activation]
        out, self._cache = forward_fn(x, **self.config())
        return out

    def backward(self, dout):
        _, backward_fn = F.ACTIVATIONS[self.activation]
        return backward_fn(dout, self._take_cache())


class ReLU(Activation):
    """``max(0, x)``; the derivative at 0 is taken as 0."""
    activation = "relu"


class LeakyReLU(Activation):
    """``x`` for x > 0, ``negative_slope·x`` otherwise."""
    activation = "leaky_relu"

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_range(negative_slope, "negative_slope", where="LeakyReLU")

    def config(self):
        return {"negative_slope": self.negative_slope}


class Sigmoid(Activation):
    """``σ(x) = 1 / (1 + e^(−x))``, computed without overflow."""
    activation = "sigmoid"


class Tanh(Activation):
    """``tanh(x)``."""
    activation = "tanh"


class ScaledTanh(Activation):
    """LeCun's scaled tanh ``1.7159·tanh(2x/3)`` (LeCun et al., Efficient BackProp, 1998)."""
    activation = "scaled_tanh"


class Swish(Activation):
    """``x·σ(x)`` (Ramachandran et al., 2017; PyTorch's SiLU)."""
    activation = "swish"


class GELU(Activation):
    """``x·Φ(x)`` with the exact error function (PyTorch's default ``approximate='none'``)."""
    activation = "gelu"


class ELU(Activation):
    """``x`` for x > 0, ``alpha·(eˣ − 1)`` otherwise."""
    activation = "elu"

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = check_range(alpha, "alpha", where="ELU")

    def config(self):
        return {"alpha": self.alpha}


class Dropout(Layer):
    """Inverted dropout: in training, zero each entry with probability ``p`` and scale the
    survivors by 1/(1 − p); the identity in evaluation (PyTorch's convention).

    Parameters
    ----------
    p : float in [0, 1), default 0.5
        Probability of *dropping* an entry.
    rng : int or numpy.random.Generator, optional
        Source of the masks; its state is saved in training checkpoints.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = check_range(p, "p", 0, 1, high_open=True, where="Dropout")
        self.rng = as_generator(rng)

    def forward(self, x):
        out, self._cache = F.dropout_forward(x, self.p, self.training, self.rng)
        return out

    def backward(self, dout):
        return F.dropout_backward(dout, self._take_cache())

    def config(self):
        return {"p": self.p}


class _Normalization(Layer):
    """Shared set-up of BatchNorm and LayerNorm: γ = 1 and β = 0 over ``num_features``."""

    gamma, beta = ArrayView("params", "gamma"), ArrayView("params", "beta")
    dgamma, dbeta = ArrayView("grads", "gamma"), ArrayView("grads", "beta")

    def __init__(self, num_features, eps=1e-5, dtype=np.float32):
        super().__init__()
        where = f"{type(self).__name__}({num_features!r})"
        self.num_features = check_int(num_features, "num_features", minimum=1, where=where)
        self.eps = float(check_positive(eps, "eps", where=where))
        self.dtype = _float_dtype(dtype, where)
        self.add_param("gamma", np.ones(self.num_features, dtype=self.dtype))
        self.add_param("beta", np.zeros(self.num_features, dtype=self.dtype))

    def _check_input(self, x):
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}.forward: x has shape {x.shape}; "
                             f"expected (N, {self.num_features})")

    def _store_grads(self, grads):
        dx, dgamma, dbeta = grads
        self.dgamma[...] = dgamma
        self.dbeta[...] = dbeta
        return dx

    def config(self):
        return {"num_features": self.num_features, "eps": self.eps, "dtype": self.dtype.name}

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features})"


class BatchNorm(_Normalization):
    """Batch normalisation over the batch axis (Ioffe & Szegedy, 2015), as torch.nn.BatchNorm1d.

    In training, normalise with the batch mean and (biased) variance and update the running
    averages ``r ← (1 − momentum)·r + momentum·batch_stat`` (the running variance uses the
    unbiased batch variance, as PyTorch does); in evaluation, normalise with the running averages.

    Parameters
    ----------
    num_features : int
        D, the number of features.
    eps : float, default 1e-5
    momentum : float, default 0.1
    dtype : float dtype, default np.float32

    Attributes
    ----------
    gamma, beta : ndarray of shape (D,)
        Scale (ones) and shift (zeros).
    buffers["running_mean"], buffers["running_var"] : ndarray of shape (D,)
        Zeros and ones at the start.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float32):
        super().__init__(num_features, eps, dtype)
        self.momentum = check_range(momentum, "momentum", 0, 1, where=repr(self))
        self.buffers["running_mean"] = np.zeros(self.num_features, dtype=self.dtype)
        self.buffers["running_var"] = np.ones(self.num_features, dtype=self.dtype)

    # the kernels (BatchNorm2d takes the spatial ones; the rest is the same layer)
    _forward_kernel = staticmethod(F.batchnorm_forward)
    _backward_kernel = staticmethod(F.batchnorm_backward)

    def forward(self, x):
        self._check_input(x)
        out, self._cache = self._forward_kernel(
            x, self.gamma, self.beta, self.buffers["running_mean"], self.buffers["running_var"],
            self.training, momentum=self.momentum, eps=self.eps)
        return out

    def backward(self, dout):
        return self._store_grads(self._backward_kernel(dout, self._take_cache()))

    def config(self):
        return {**super().config(), "momentum": self.momentum}


class BatchNorm2d(BatchNorm):
    """Spatial batch normalisation, as torch.nn.BatchNorm2d: :class:`BatchNorm` with each
    channel's statistics over N, H and W.

    Parameters and attributes as :class:`BatchNorm`, with D = C channels.

    Shape
    -----
    Input and output (N, C, H, W).
    """

    _forward_kernel = staticmethod(F.batchnorm2d_forward)
    _backward_kernel = staticmethod(F.batchnorm2d_backward)

    def _check_input(self, x):
        check_images(x, f"{self!r}.forward", channels=self.num_features)


class LayerNorm(_Normalization):
    """Layer normalisation over each sample's features (Ba et al., 2016), as torch.nn.LayerNorm.

    ``y = γ·(x − mean(x)) / √(var(x) + eps) + β`` per sample; the same in training and
    evaluation (there are no running statistics).

    Attributes
    ----------
    gamma, beta : ndarray of shape (D,)
        Scale (ones) and shift (zeros).
    """

    def forward(self, x):
        self._check_input(x)
        out, self._cache = F.layernorm_forward(x, self.gamma, self.beta, eps=self.eps)
        return out

    def backward(self, dout):
        return self._store_grads(F.layernorm_backward(dout, self._take_cache()))


class Flatten(Layer):
    """Reshape (N, d1, …, dk) to (N, d1·…·dk)."""

    def forward(self, x):
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)  # (N, D)

    def backward(self, dout):
        return dout.reshape(self._take_cache())  # x's shape

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Unflatten(Layer):
    """Reshape rows (N, d1·…·dk) to (N, d1, …, dk): the loaders' flat image rows to (N, C, H, W).

    Parameters
    ----------
    shape : sequence of int
        One sample's shape, e.g. (C, H, W) = (1, 28, 28) for MNIST.

    Examples
    --------
    >>> Unflatten((1, 2, 2)).forward(np.zeros((5, 4), dtype=np.float32)).shape
    (5, 1, 2, 2)
    """

    def __init__(self, shape):
        super().__init__()
        where = f"Unflatten({shape!r})"
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__") or not shape:
            raise TypeError(f"{where}: shape must be a sequence of ints such as (1, 28, 28)")
        self.shape = tuple(check_int(d, f"shape[{k}]", minimum=1, where=where)
                           for k, d in enumerate(shape))
        self.n_in = math.prod(self.shape)  # features per input row (what summary() starts from)

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(f"{self!r}.forward: x has shape {x.shape}; expected (N, {self.n_in})")
        return x.reshape(x.shape[0], *self.shape)  # (N, d1, ..., dk)

    def backward(self, dout):
        return dout.reshape(dout.shape[0], self.n_in)  # (N, D)

    def config(self):
        return {"shape": list(self.shape)}

    def output_shape(self, input_shape):
        return self.shape

    def __repr__(self):
        return f"Unflatten({self.shape})"


class Conv2d(Layer):
    """2-D convolution over images (N, C, H, W), as torch.nn.Conv2d:
    ``out[n, f] = b[f] + Σ_c W[f, c] ⋆ x̃[n, c]`` (⋆ cross-correlation, x̃ zero-padded).

    Parameters
    ----------
    in_channels, out_channels : int
        C and F.
    kernel_size : int or (int, int)
        HH × WW.
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0
        Zeros added on each side of H and W ("same" size for a 3×3 kernel: padding=1).
    init : str or callable, default "he_normal"
        Weight initialiser (:mod:`numpynn.init`), applied to W as the (C·HH·WW, F) matrix the
        im2col product uses, so fan_in = C·HH·WW; the bias starts at zero.
    rng : int or numpy.random.Generator, optional
    dtype : float dtype, default np.float32
    std : float, optional
        Standard deviation for ``init="normal"`` (CS231n's ``weight_scale``).

    Attributes
    ----------
    W : ndarray of shape (F, C, HH, WW)
        E.g. N(0, 2/(C·HH·WW)) for He normal.
    b : ndarray of shape (F,)
        Zeros.

    Shape
    -----
    Input (N, C, H, W); output (N, F, H', W'), H' = (H + 2·ph − HH) // sh + 1 (likewise W').

    Examples
    --------
    >>> layer = Conv2d(3, 8, 3, padding=1, rng=0)
    >>> layer.forward(np.zeros((2, 3, 5, 5), dtype=np.float32)).shape
    (2, 8, 5, 5)
    """

    W, b = ArrayView("params", "W"), ArrayView("params", "b")
    dW, db = ArrayView("grads", "W"), ArrayView("grads", "b")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 init="he_normal", rng=None, dtype=np.float32, std=None):
        super().__init__()
        where = f"Conv2d({in_channels!r}, {out_channels!r}, {kernel_size!r})"
        self.in_channels = check_int(in_channels, "in_channels", minimum=1, where=where)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1, where=where)
        self.kernel_size = pair(kernel_size, "kernel_size", 1, where)
        self.stride, self.padding = pair(stride, "stride", 1, where), pair(padding, "padding", 0,
                                                                            where)
        self.dtype = _float_dtype(dtype, where)
        fan_in = self.in_channels * math.prod(self.kernel_size)
        check_memory((fan_in + 1) * self.out_channels * (2 * self.dtype.itemsize + 8),
                     "the layer", where=where, hint="\nhelp: use fewer channels or a smaller kernel")
        W = initialize(init, (fan_in, self.out_channels), as_generator(rng), self.dtype, std=std,
                       where=where)                                  # (C·HH·WW, F)
        self.add_param("W", np.ascontiguousarray(W.T).reshape(
            self.out_channels, self.in_channels, *self.kernel_size))  # (F, C, HH, WW)
        self.add_param("b", np.zeros(self.out_channels, dtype=self.dtype))

    def forward(self, x):
        x = check_images(x, f"{self!r}.forward", channels=self.in_channels)
        check_window(x.shape, self.kernel_size, self.padding, f"{self!r}.forward")
        out, self._cache = F._conv2d_forward(x, self.W, self.b, self.stride, self.padding,
                                             keep_columns=self.training)
        return out

    def backward(self, dout):
        """Store dW and db (in place) and return dx."""
        dx, dW, db = F._conv2d_backward(dout, self._take_cache())
        self.dW[...], self.db[...] = dW, db
        return dx

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding), "dtype": self.dtype.name}

    def output_shape(self, input_shape):
        return (self.out_channels, *output_hw((0, *input_shape), self.kernel_size, self.stride,
                                              self.padding))

    def __repr__(self):
        extra = "".join(f", {name}={_one_or_pair(value)}" for name, value, default in (
            ("stride", self.stride, (1, 1)), ("padding", self.padding, (0, 0)))
            if value != default)
        return (f"Conv2d({self.in_channels}, {self.out_channels}, "
                f"{_one_or_pair(self.kernel_size)}{extra})")


def _one_or_pair(value):
    return value[0] if value[0] == value[1] else value


class _Pool2d(Layer):
    """Shared set-up of the pooling layers: a window sliding with a stride (default: the
    window's size, non-overlapping). Subclasses name their kernels in ``kernels``."""

    kernels = None  # (forward, backward) in numpynn.functional

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        where = f"{type(self).__name__}({kernel_size!r})"
        self.kernel_size = pair(kernel_size, "kernel_size", 1, where)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", 1, where)

    def forward(self, x):
        x = check_images(x, f"{self!r}.forward")
        check_window(x.shape, self.kernel_size, (0, 0), f"{self!r}.forward", what="window")
        out, self._cache = self.kernels[0](x, self.kernel_size, self.stride)
        return out

    def backward(self, dout):
        return self.kernels[1](dout, self._take_cache())

    def config(self):
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride)}

    def output_shape(self, input_shape):
        return (input_shape[0], *output_hw((0, *input_shape), self.kernel_size, self.stride))

    def __repr__(self):
        stride = "" if self.stride == self.kernel_size else f", stride={_one_or_pair(self.stride)}"
        return f"{type(self).__name__}({_one_or_pair(self.kernel_size)}{stride})"


class MaxPool2d(_Pool2d):
    """Max pooling over (N, C, H, W), as torch.nn.MaxPool2d: the max of each kh × kw window;
    backward sends each gradient to the window's (first) maximum.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.

    Shape
    -----
    Input (N, C, H, W); output (N, C, H', W'), H' = (H − kh) // sh + 1 (likewise W').
    """

    kernels = (F._max_pool2d_forward, F._max_pool2d_backward)


class AvgPool2d(_Pool2d):
    """Average pooling over (N, C, H, W), as torch.nn.AvgPool2d: the mean of each window.

    Arguments and shapes as :class:`MaxPool2d`.
    """

    kernels = (F._avg_pool2d_forward, F._avg_pool2d_backward)


class Normalize(Layer):
    r"""Fixed standardisation of each feature: :math:`y = (x - \mu) / \sigma` (nothing trained).

    The preprocessing a run fitted on its training split (per-feature or global
    standardisation, the mean image) travels with the model as this first layer, so a loaded
    model predicts on raw data. The statistics are kept in float64 and applied as
    :func:`numpynn.data.standardize` applies them, so the outputs are the same bits.

    Parameters
    ----------
    num_features : int
        D, the number of features.
    mean, std : float or array_like of shape (D,), default 0 and 1
        :math:`\mu` and :math:`\sigma` (every σ > 0).

    Attributes
    ----------
    buffers["mean"], buffers["std"] : ndarray of shape (D,), float64

    Examples
    --------
    >>> layer = Normalize(2, mean=[1.0, 2.0], std=[2.0, 4.0])
    >>> layer.forward(np.array([[3.0, 2.0]], dtype=np.float32))
    array([[1., 0.]], dtype=float32)
    """

    def __init__(self, num_features, mean=0.0, std=1.0):
        super().__init__()
        where = f"Normalize({num_features!r})"
        self.num_features = check_int(num_features, "num_features", minimum=1, where=where)
        shape = (self.num_features,)
        mean, std = (_statistic(value, name, shape, where) for value, name in ((mean, "mean"),
                                                                              (std, "std")))
        if not (std > 0).all():
            raise ValueError(f"{where}: std must be > 0 everywhere; got a minimum of {std.min()}")
        self.buffers["mean"], self.buffers["std"] = mean, std

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}.forward: x has shape {x.shape}; "
                             f"expected (N, {self.num_features})")
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        self._cache = dtype
        return ((x - self.buffers["mean"]) / self.buffers["std"]).astype(dtype, copy=False)

    def backward(self, dout):
        return (dout / self.buffers["std"]).astype(self._take_cache(), copy=False)  # (N, D)

    def config(self):
        return {"num_features": self.num_features}

    def __repr__(self):
        return f"Normalize({self.num_features})"


def _statistic(value, name, shape, where):
    """``value`` (a scalar or an array of ``shape``) as a finite float64 array of ``shape``."""
    array = np.asarray(value, dtype=np.float64)
    if array.shape not in ((), shape):
        raise ValueError(f"{where}: {name} has shape {array.shape}; expected a number or {shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{where}: {name} contains NaN or inf")
    return np.broadcast_to(array, shape).copy()


# The closed registry used by `load`: a saved layer name resolves only through this table.
LAYERS = {cls.__name__: cls for cls in (
    Linear, ReLU, LeakyReLU, Sigmoid, Tanh, ScaledTanh, Swish, GELU, ELU, Dropout, BatchNorm,
    LayerNorm, Flatten, Normalize, Unflatten, Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d)}


def register_layer(cls):
    """Add a user's :class:`Layer` subclass to :data:`LAYERS`, so ``save`` and ``load`` take it.

    Usable as a decorator. The class is found by its name when a file is loaded, so register it
    (import the module that defines it) before calling ``load``; a file naming an unregistered
    class is refused, and loading never imports anything a file names. A saved layer is rebuilt
    as ``cls(**layer.config())`` (JSON numbers and strings), then its params and buffers are
    filled from the file.

    >>> @register_layer
    ... class Square(Layer):
    ...     def forward(self, x):
    ...         self._cache = x
    ...         return x * x
    ...     def backward(self, dout):
    ...         return 2 * self._take_cache() * dout
    >>> LAYERS["Square"] is Square
    True
    >>> del LAYERS["Square"]   # (this example cleans up after itself)
    """
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"register_layer: expected a subclass of numpynn.Layer; got {cls!r}")
    taken = LAYERS.get(cls.__name__)
    if taken is not None and taken is not cls:
        raise ValueError(f"register_layer: the name {cls.__name__!r} is taken by {taken!r}\n"
                         "help: give your class another name")
    LAYERS[cls.__name__] = cls
    return cls

# names that mean "no activation" everywhere (--activation, network files, explain): the
# courses' deep linear networks, e.g. four Linear layers and one Sigmoid at the end
NO_ACTIVATION = ("identity", "linear", "none")

# activation name (as in functional.ACTIVATIONS and the CLI's --activation) -> layer class
ACTIVATION_LAYERS = {cls.activation: cls for cls in LAYERS.values()
                     if isinstance(cls, type) and issubclass(cls, Activation)}
