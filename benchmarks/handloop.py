"""The floor: the benchmark's MLP trained by a hand-written float32 NumPy loop, no library.

This module re-implements the forward pass, the softmax cross-entropy, the backward pass, SGD
and Adam on purpose, beside numpynn's own: it is the loop a careful student writes once the
math is known, the floor that numpynn's overhead is measured against. Weights sit in lists,
every buffer is allocated once, batches are gathered with ``np.take(..., out=)``, ReLU and the
softmax work in place, and there are no checks and no objects between the arrays. The benchmark
runs it as a third framework, ``numpy`` (``python -m benchmarks --frameworks
numpynn,numpy,torch``), so what numpynn's layers, Trainer and optimizer cost on top of the same
arithmetic is measured, not guessed; tests check that it ends with the Trainer's weights.

It takes no math from numpynn. It imports numpynn's BLAS ``axpy`` (:mod:`numpynn._speed.blas`)
only so that SGD's update ``p -= lr·g`` runs the same kernel as numpynn's optimizer; the rest is
plumbing: 64-byte aligned arrays (:mod:`numpynn._speed.aligned`), the thread count, and
numpynn's initial weights so that both start alike (:func:`benchmarks.network.initial_weights`).
The rules are PyTorch's SGD and Adam, one ``rng.permutation`` per epoch, and Adam's subnormal
flush every 16 steps (without it this loop falls into the trap described in
:mod:`numpynn._speed.subnormals`).
"""
import math

import numpy as np

from benchmarks.network import count_weights, initial_weights, mlp_widths, run_epochs
from numpynn._speed import aligned
from numpynn._speed.blas import axpy
from numpynn.threads import set_threads


class HandLoop:
    """An MLP ``Linear → ReLU → … → Linear`` with softmax cross-entropy, trained by SGD or Adam.

    Parameters
    ----------
    weights, biases : lists of float32 ndarrays, (D_k, D_k+1) and (D_k+1,)
        Updated in place.
    optimizer : {"sgd", "adam"}
    lr : float
    batch_size : int
        B, the size of every buffer (a last, smaller batch uses their first rows).
    """

    def __init__(self, weights, biases, optimizer, lr, batch_size):
        self.W, self.b, self.lr = weights, biases, lr
        widths, B = [W.shape[0] for W in weights] + [weights[-1].shape[1]], batch_size
        self.x, self.y = aligned.empty((B, widths[0]), np.float32), aligned.empty(B, np.int64)
        self.out = [aligned.empty((B, w), np.float32) for w in widths[1:]]  # each layer's output
        self.dx = [aligned.empty((B, w), np.float32) for w in widths[1:-1]]  # dL/d(hidden output)
        self.mask = [aligned.empty((B, w), bool) for w in widths[1:-1]]
        self.params = [p for pair in zip(weights, biases) for p in pair]   # W0, b0, W1, …
        self.grads = [aligned.empty_like(p) for p in self.params]
        self.tmp = [aligned.empty_like(p) for p in self.params]
        self.update = {"sgd": self.sgd, "adam": self.adam}[optimizer]
        if optimizer == "adam":
            self.m = [aligned.zeros_like(p) for p in self.params]
            self.v = [aligned.zeros_like(p) for p in self.params]
            self.masks = [aligned.empty(p.shape, bool) for p in self.params]
            self.t = 0

    def step(self, X, y, idx):
        """One SGD/Adam step on samples ``idx``; returns the batch's mean loss."""
        n, last = len(idx), len(self.W) - 1
        h = np.take(X, idx, axis=0, out=self.x[:n], mode="clip")     # (n, D)
        yb = np.take(y, idx, out=self.y[:n], mode="clip")
        inputs = []
        for k, (W, b) in enumerate(zip(self.W, self.b)):
            inputs.append(h)
            h = np.matmul(h, W, out=self.out[k][:n])
            h += b
            if k < last:
                np.maximum(h, 0, out=h)                               # ReLU in place
        rows = np.arange(n)
        h -= h.max(axis=1, keepdims=True)                             # scores, max 0 per row
        picked = h[rows, yb]                                          # z_y (a copy)
        np.exp(h, out=h)
        sums = h.sum(axis=1, keepdims=True)
        loss = float(np.log(sums).mean() - picked.mean())
        h /= sums * n                                                 # softmax / n
        h[rows, yb] -= 1 / n
        d = h                                                         # dL/dscores
        for k in range(last, -1, -1):
            np.matmul(inputs[k].T, d, out=self.grads[2 * k])
            np.add.reduce(d, axis=0, out=self.grads[2 * k + 1])
            if k > 0:
                d = np.matmul(d, self.W[k].T, out=self.dx[k - 1][:n])
                d *= np.greater(inputs[k], 0, out=self.mask[k - 1][:n])   # ReLU's derivative
        self.update()
        return loss

    def sgd(self):
        for p, g, tmp in zip(self.params, self.grads, self.tmp):
            axpy(-self.lr, g, p, tmp)                                  # p -= lr * g

    def adam(self, betas=(0.9, 0.999), eps=1e-8):
        (beta1, beta2), self.t = betas, self.t + 1
        sqrt_bc2 = math.sqrt(1 - beta2 ** self.t)
        step = self.lr * sqrt_bc2 / (1 - beta1 ** self.t)
        tiny = np.finfo(np.float32).tiny
        for p, g, m, v, tmp, mask in zip(self.params, self.grads, self.m, self.v, self.tmp,
                                         self.masks):
            m += np.multiply(np.subtract(g, m, out=tmp), 1 - beta1, out=tmp)
            v *= beta2
            v += np.multiply(np.multiply(g, 1 - beta2, out=tmp), g, out=tmp)
            denom = np.sqrt(v, out=tmp)
            denom += eps * sqrt_bc2
            p -= np.multiply(np.divide(m, denom, out=tmp), step, out=tmp)
            if self.t % 16 == 0:
                np.copyto(m, 0, where=np.less(np.abs(m, out=tmp), tiny, out=mask))
                np.copyto(v, 0, where=np.less(v, tiny, out=mask))

    def epoch(self, X, y, rng, batch_size):
        """One epoch in the order ``rng.permutation(N)``; returns the mean step loss."""
        order = rng.permutation(len(X))
        losses = [self.step(X, y, order[i:i + batch_size]) for i in range(0, len(X), batch_size)]
        return sum(losses) / len(losses)

    def accuracy(self, X, y, chunk=1024):
        correct = 0
        for i in range(0, len(X), chunk):
            h = X[i:i + chunk]
            for k, (W, b) in enumerate(zip(self.W, self.b)):
                h = h @ W + b
                if k < len(self.W) - 1:
                    np.maximum(h, 0, out=h)
            correct += int(np.count_nonzero(h.argmax(axis=1) == y[i:i + chunk]))
        return correct / len(X)


def train_numpy(trial, data):
    """The benchmark trial (see :mod:`benchmarks.trials`) with :class:`HandLoop`."""
    X, y, X_test, y_test = data
    set_threads(trial.threads)
    weights, biases = zip(*initial_weights(trial.hidden, trial.seed))
    loop = HandLoop(list(weights), list(biases), trial.optimizer, trial.lr, trial.batch_size)
    seconds, fit_seconds, loss = run_epochs(
        trial, lambda rng: loop.epoch(X, y, rng, trial.batch_size))
    return {"epoch_seconds": seconds, "fit_seconds": fit_seconds,
            "train_loss": loss, "test_acc": loop.accuracy(X_test, y_test),
            "weights": count_weights(mlp_widths(trial.hidden))}
