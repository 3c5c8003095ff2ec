"""Model builders: a multilayer perceptron from a list of widths, convolutional networks
(CS231n's three-layer convnet, a LeNet, ``numpynn train --conv``'s blocks), and each loss's
output head.

>>> model = mlp(64, (32,), 1, activation="relu", output="sigmoid", rng=0)
>>> [type(layer).__name__ for layer in model]
['Linear', 'ReLU', 'Linear', 'Sigmoid']
>>> [type(layer).__name__ for layer in mlp(64, (32, 32, 32), 1, activation="linear",
...                                        output="sigmoid", rng=0)]
['Linear', 'Linear', 'Linear', 'Linear', 'Sigmoid']
"""
import math
from dataclasses import dataclass

import numpy as np

from numpynn._helpers.limits import check_memory
from numpynn._helpers.validation import as_generator, check_int, check_range, choose
from numpynn.layers import (ACTIVATION_LAYERS, NO_ACTIVATION, BatchNorm, BatchNorm2d, Conv2d, Dropout,
                            Flatten, Linear, MaxPool2d, ReLU, Unflatten)
from numpynn.sequential import Sequential

# --activation choices: every activation layer, plus the names for "no activation"
ACTIVATION_CHOICES = {**ACTIVATION_LAYERS, **dict.fromkeys(NO_ACTIVATION)}

# Training holds every parameter TRAINING_COPIES times: the weights, their gradients and the
# optimizer's state (Adam, the default, keeps two moments); the size check counts them all
TRAINING_COPIES = 4


@dataclass(frozen=True)
class Head:
    """How a loss reads the network's output.

    Attributes
    ----------
    binary : bool
        One output unit and 0/1 targets of shape (N, 1); otherwise one score per class (N, C)
        against integer labels (N,).
    activation : str or None
        Output layer appended after the last Linear (BCE takes probabilities: a Sigmoid);
        None where the loss takes raw scores (softmax cross-entropy applies its own softmax).
    """

    binary: bool
    activation: str | None


# loss name (a key of numpynn.losses.LOSSES) -> its head; the classification losses `train` offers
HEADS = {
    "cross_entropy": Head(binary=False, activation=None),
    "hinge": Head(binary=False, activation=None),
    "bce": Head(binary=True, activation="sigmoid"),
    "bce_with_logits": Head(binary=True, activation=None),
}


def auto_loss(n_classes):
    """The default loss: sigmoid + BCE for two classes (the courses' binary task), else softmax
    cross-entropy."""
    return "bce" if n_classes == 2 else "cross_entropy"


def mlp(n_in, hidden, n_out, activation="relu", init="xavier_uniform", dropout=0.0,
        batchnorm=False, output=None, rng=None, dtype=np.float32):
    """A multilayer perceptron: ``[Linear → (BatchNorm) → act → (Dropout)] × len(hidden) → Linear``.

    .. math:: h_0 = x,\\quad h_{k} = \\mathrm{drop}(\\phi(\\mathrm{bn}(h_{k-1} W_k + b_k))),
              \\quad \\mathrm{out} = \\psi(h_K W_{K+1} + b_{K+1})

    Parameters
    ----------
    n_in : int
        D, features per sample.
    hidden : sequence of int
        Hidden widths; empty gives a single Linear layer (linear or logistic regression).
    n_out : int
        M, output units (C classes, or 1 for a binary head).
    activation : str, default "relu"
        φ, a key of :data:`ACTIVATION_CHOICES`; ``"identity"``, ``"linear"`` or ``"none"`` adds no activation
        layer (a deep linear network).
    init : str or callable, default "xavier_uniform"
        Weight initialiser of every Linear layer (:mod:`numpynn.init`).
    dropout : float in [0, 1), default 0.0
        Drop probability after each hidden activation; 0 adds no Dropout layer.
    batchnorm : bool, default False
        BatchNorm between each hidden Linear and its activation.
    output : str, optional
        ψ, an activation appended after the last Linear (``"sigmoid"`` for BCE).
    rng : int or numpy.random.Generator, optional
        Draws every initial weight, then seeds each Dropout layer's own generator.
    dtype : float dtype, default np.float32

    Returns
    -------
    Sequential
        Input (N, D), output (N, M).
    """
    where = "mlp"
    hidden = _check_hidden(hidden, where)
    choose(activation, ACTIVATION_CHOICES, "activation", where=where)
    if output is not None:
        choose(output, ACTIVATION_LAYERS, "output activation", where=where)
    check_range(dropout, "dropout", 0, 1, high_open=True, where=where)
    widths = (check_int(n_in, "n_in", minimum=1, where=where), *hidden)
    _check_size((*widths, check_int(n_out, "n_out", minimum=1, where=where)), batchnorm, dtype,
                where)
    rng = as_generator(rng)
    layers = []
    for d_in, d_out in zip(widths[:-1], widths[1:]):
        layers.append(Linear(d_in, d_out, init=init, rng=rng, dtype=dtype))
        layers += hidden_tail(d_out, activation, dropout, batchnorm, rng, dtype)
    layers.append(Linear(widths[-1], n_out, init=init, rng=rng, dtype=dtype))
    if output is not None:
        layers.append(ACTIVATION_LAYERS[output]())
    return Sequential(layers)


def hidden_tail(width, activation, dropout, batchnorm, rng, dtype):
    """The layers after one hidden Linear: BatchNorm, activation, Dropout (each optional)."""
    layers = [BatchNorm(width, dtype=dtype)] if batchnorm else []
    if ACTIVATION_CHOICES[activation] is not None:
        layers.append(ACTIVATION_CHOICES[activation]())
    if dropout:
        # each Dropout draws from its own generator, seeded here: checkpoints save its state
        layers.append(Dropout(dropout, rng=np.random.default_rng(rng.integers(2**63))))
    return layers


def _check_size(widths, batchnorm, dtype, where):
    """Refuse, before anything is allocated, a model whose training state cannot fit in memory."""
    n_params = sum(d_in * d_out + d_out for d_in, d_out in zip(widths[:-1], widths[1:]))  # W, b
    if batchnorm:
        n_params += 2 * sum(widths[1:-1])  # gamma and beta of each hidden BatchNorm
    dtype = np.dtype(dtype)
    check_memory(n_params * dtype.itemsize * TRAINING_COPIES,
                 f"the model ({n_params:,} {dtype.name} parameters, ×{TRAINING_COPIES} for "
                 "gradients and Adam's two moments)", where=where,
                 hint="\nhelp: use fewer or narrower hidden layers (--hidden 256,128)")


def _check_hidden(hidden, where):
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
        raise TypeError(f"{where}: hidden must be a sequence of layer widths such as "
                        f"(256, 128, 64); got {hidden!r}")
    return tuple(check_int(width, f"hidden[{i}]", minimum=1, where=where)
                 for i, width in enumerate(hidden))


# --- Convolutional networks -----------------------------------------------------------------------


def _image_shape(image_shape, where):
    if isinstance(image_shape, (str, bytes)) or len(tuple(image_shape)) != 3:
        raise ValueError(f"{where}: image_shape must be (C, H, W), e.g. (3, 32, 32); "
                         f"got {image_shape!r}")
    return tuple(check_int(d, f"image_shape[{k}]", minimum=1, where=where)
                 for k, d in enumerate(image_shape))


def _head(layers, shape, hidden, n_out, rng, dtype, init="he_normal", std=None, dropout=0.0,
          batchnorm=False):
    """``layers`` + Flatten + ``[Linear → (BatchNorm) → ReLU → (Dropout)] × len(hidden) →
    Linear`` on feature maps ``shape``."""
    widths = (math.prod(shape), *hidden)
    layers.append(Flatten())
    for d_in, d_out in zip(widths[:-1], widths[1:]):
        layers.append(Linear(d_in, d_out, init=init, std=std, rng=rng, dtype=dtype))
        layers += hidden_tail(d_out, "relu", dropout, batchnorm, rng, dtype)
    layers.append(Linear(widths[-1], n_out, init=init, std=std, rng=rng, dtype=dtype))
    return layers


def _shape_after(layers, shape):
    for layer in layers:
        shape = layer.output_shape(shape)
    return shape


def _check_poolable(shape, block, where):
    if min(shape[1:]) < 2:
        raise ValueError(f"{where}: conv block {block} gets {shape[1]}×{shape[2]} feature maps, "
                         "too small for its 2×2 max pool\nhelp: use fewer conv blocks (each "
                         "halves H and W)")


def convnet(image_shape, conv, hidden, n_out, init="he_normal", output=None, rng=None,
            dtype=np.float32, dropout=0.0, batchnorm=False):
    """``numpynn train --conv``'s network, from flat rows: ``Unflatten → [Conv 3×3 (padding 1)
    → (BatchNorm2d) → ReLU → MaxPool 2×2] × len(conv) → Flatten → [Linear → (BatchNorm) → ReLU
    → (Dropout)] × len(hidden) → Linear``.

    Parameters
    ----------
    image_shape : (int, int, int)
        (C, H, W) of one image; the input rows have D = C·H·W features in CHW order.
    conv : sequence of int
        Filters of each conv block (each block halves H and W, flooring).
    hidden : sequence of int
        Widths of the hidden Linear layers after the blocks.
    n_out : int
    init : str or callable, default "he_normal"
        Initialiser of every Conv2d and Linear weight (:mod:`numpynn.init`).
    output : str, optional
        An activation appended after the last Linear (``"sigmoid"`` for BCE).
    rng : int or numpy.random.Generator, optional
        Draws every initial weight.
    dtype : float dtype, default np.float32
    dropout : float in [0, 1), default 0
        Dropout probability after each hidden ReLU of the head (none in the conv blocks).
    batchnorm : bool, default False
        BatchNorm2d after each convolution and BatchNorm after each hidden Linear.

    Returns
    -------
    Sequential
        Input (N, C·H·W), output (N, n_out).

    >>> [type(layer).__name__ for layer in convnet((1, 8, 8), (4,), (16,), 10, rng=0)]
    ['Unflatten', 'Conv2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Linear', 'ReLU', 'Linear']
    """
    where = "convnet"
    shape = _image_shape(image_shape, where)
    conv, hidden = _check_hidden(conv, where), _check_hidden(hidden, where)
    if output is not None:
        choose(output, ACTIVATION_LAYERS, "output activation", where=where)
    check_range(dropout, "dropout", 0, 1, high_open=True, where=where)
    rng = as_generator(rng)
    layers = [Unflatten(shape)]
    for block, filters in enumerate(conv):
        _check_poolable(shape, block, where)
        blocks = [Conv2d(shape[0], filters, 3, padding=1, init=init, rng=rng, dtype=dtype),
                  *([BatchNorm2d(filters, dtype=dtype)] if batchnorm else []), ReLU(), MaxPool2d(2)]
        shape = _shape_after(blocks, shape)
        layers += blocks
    layers = _head(layers, shape, hidden, check_int(n_out, "n_out", minimum=1, where=where), rng,
                   dtype, init=init, dropout=dropout, batchnorm=batchnorm)
    return Sequential(layers + ([ACTIVATION_LAYERS[output]()] if output is not None else []))


def three_layer_convnet(input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                        num_classes=10, weight_scale=1e-3, flat_input=False, rng=None,
                        dtype=np.float32):
    """CS231n's ThreeLayerConvNet: ``conv → ReLU → 2×2 max pool → affine → ReLU → affine``.

    The convolution keeps H × W (stride 1, padding (filter_size − 1)/2); every weight is drawn
    from N(0, weight_scale²) and every bias is zero, as in the assignment, so the initial
    softmax loss is ≈ log(num_classes).

    Parameters
    ----------
    input_dim : (int, int, int), default (3, 32, 32)
        (C, H, W).
    num_filters, filter_size, hidden_dim, num_classes, weight_scale
        CS231n's names and defaults.
    flat_input : bool, default False
        Take rows (N, C·H·W) (an Unflatten first) rather than images (N, C, H, W).
    rng : int or numpy.random.Generator, optional
    dtype : float dtype, default np.float32

    Returns
    -------
    Sequential
        Input (N, C, H, W) (or (N, C·H·W)), output (N, num_classes) scores.
    """
    where = "three_layer_convnet"
    shape = _image_shape(input_dim, where)
    rng = as_generator(rng)
    layers = [Unflatten(shape)] if flat_input else []
    blocks = [Conv2d(shape[0], num_filters, filter_size, padding=(filter_size - 1) // 2,
                     init="normal", std=weight_scale, rng=rng, dtype=dtype), ReLU(), MaxPool2d(2)]
    layers += blocks
    return Sequential(_head(layers, _shape_after(blocks, shape), (hidden_dim,), num_classes, rng,
                            dtype, init="normal", std=weight_scale))


def lenet(image_shape=(1, 28, 28), n_out=10, rng=None, flat_input=False, dtype=np.float32):
    """A LeNet-5-style network (LeCun et al., 1998), with ReLU and max pooling as used today:
    ``conv 6@5×5 (padding 2) → ReLU → pool → conv 16@5×5 → ReLU → pool → 120 → 84 → n_out``.

    Parameters
    ----------
    image_shape : (int, int, int), default (1, 28, 28)
        (C, H, W); at least 12 × 12 (the second convolution needs 5 × 5 maps after a pool).
    n_out : int, default 10
    rng : int or numpy.random.Generator, optional
        Draws every initial weight (He normal).
    flat_input : bool, default False
        Take rows (N, C·H·W) rather than images (N, C, H, W).
    dtype : float dtype, default np.float32

    Returns
    -------
    Sequential
        Input (N, C, H, W) (or (N, C·H·W)), output (N, n_out).
    """
    where = "lenet"
    shape = _image_shape(image_shape, where)
    if min(shape[1:]) < 12:
        raise ValueError(f"{where}: images of {shape[1]}×{shape[2]} are too small for LeNet's "
                         "two 5×5 convolutions and pools (at least 12×12)\nhelp: use "
                         "convnet(image_shape, conv=(16, 32), ...) for small images")
    rng = as_generator(rng)
    blocks = [Conv2d(shape[0], 6, 5, padding=2, rng=rng, dtype=dtype), ReLU(), MaxPool2d(2),
              Conv2d(6, 16, 5, rng=rng, dtype=dtype), ReLU(), MaxPool2d(2)]
    layers = ([Unflatten(shape)] if flat_input else []) + blocks
    return Sequential(_head(layers, _shape_after(blocks, shape), (120, 84),
                            check_int(n_out, "n_out", minimum=1, where=where), rng, dtype))
