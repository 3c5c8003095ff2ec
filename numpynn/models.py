"""Model builders: a multilayer perceptron from a list of widths, and each loss's output head.

>>> model = mlp(64, (32,), 1, activation="relu", output="sigmoid", rng=0)
>>> [type(layer).__name__ for layer in model]
['Linear', 'ReLU', 'Linear', 'Sigmoid']
>>> [type(layer).__name__ for layer in mlp(64, (32, 32, 32), 1, activation="linear",
...                                        output="sigmoid", rng=0)]
['Linear', 'Linear', 'Linear', 'Linear', 'Sigmoid']
"""
from dataclasses import dataclass

import numpy as np

from numpynn._helpers.limits import check_memory
from numpynn._helpers.validation import as_generator, check_int, check_range, choose
from numpynn.layers import ACTIVATION_LAYERS, NO_ACTIVATION, BatchNorm, Dropout, Linear
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
        layers += _hidden_tail(d_out, activation, dropout, batchnorm, rng, dtype)
    layers.append(Linear(widths[-1], n_out, init=init, rng=rng, dtype=dtype))
    if output is not None:
        layers.append(ACTIVATION_LAYERS[output]())
    return Sequential(layers)


def _hidden_tail(width, activation, dropout, batchnorm, rng, dtype):
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
