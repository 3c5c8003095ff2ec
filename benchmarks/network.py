"""The benchmark's MLP, as every training loop builds and times it: its widths, its weight and
FLOP counts, numpynn's initial weights (the start of all three frameworks) and the epoch timing
of the loops that are not numpynn's Trainer (the hand loop and PyTorch's)."""
from itertools import pairwise
from time import perf_counter

import numpy as np

N_FEATURES, N_CLASSES = 784, 10           # Fashion-MNIST's 28×28 images, 10 classes
HIDDEN = (256, 128, 64)                   # the course's MLP 784-256-128-64-10


def mlp_widths(hidden=HIDDEN):
    """Layer widths ``(784, *hidden, 10)`` of the benchmark's MLP."""
    return (N_FEATURES, *hidden, N_CLASSES)


def count_weights(model):
    """Number of weights (matrix entries, biases excluded) of a model.

    ``model`` is a numpynn ``Sequential``, a ``torch.nn.Module`` or a sequence of layer widths
    ``(D, H1, …, M)`` of an MLP (Σ_k w_k·w_{k+1}).
    """
    if hasattr(model, "params"):
        return int(sum(p.size for p in model.params().values() if p.ndim >= 2))
    if hasattr(model, "parameters"):
        return int(sum(p.numel() for p in model.parameters() if p.dim() >= 2))
    widths = [int(w) for w in model]
    return sum(a * b for a, b in pairwise(widths))


def training_flops(model):
    """Training FLOPs per sample, 6 × weights: 2 in x·W, 4 in dout·Wᵀ and xᵀ·dout.

    >>> training_flops((784, 256, 128, 64, 10))
    1453824
    """
    return 6 * count_weights(model)


def initial_weights(hidden, seed):
    """The initial ``(W, b)`` of every Linear layer of numpynn's ``mlp(784, hidden, 10,
    rng=seed)``: the start all three frameworks train from. W is (D_in, D_out) float32,
    64-byte aligned like the Trainer's parameters (see :mod:`numpynn._speed.aligned`)."""
    from numpynn._speed.aligned import copy
    from numpynn.layers import Linear
    from numpynn.models import mlp
    return [(copy(layer.W), copy(layer.b))
            for layer in mlp(N_FEATURES, hidden, N_CLASSES, activation="relu", rng=seed)
            if isinstance(layer, Linear)]


def run_epochs(trial, run_epoch):
    """Time ``trial.epochs`` calls of ``run_epoch(rng)``, one epoch each, where ``rng`` is the
    Trainer's generator (``default_rng(trial.seed)``: the same order of samples as numpynn).

    Returns (seconds of each epoch, seconds in all, the last epoch's return value: its loss).
    """
    rng, seconds, result = np.random.default_rng(trial.seed), [], None
    start_fit = perf_counter()
    for _ in range(trial.epochs):
        start = perf_counter()
        result = run_epoch(rng)
        seconds.append(perf_counter() - start)
    return seconds, perf_counter() - start_fit, result
