"""Small problems and models shared by the training tests."""
import itertools

import numpy as np

import numpynn as nn
from numpynn.optim import SGD, Adam, ExponentialLR, StepLR
from numpynn.training.callbacks import Checkpoint, EarlyStopping
from numpynn.training.trainer import Trainer


def blobs(rng, n=120, d=6, classes=3):
    """A separable multiclass problem: Gaussian blobs around well-spaced centres."""
    centres = rng.normal(scale=4.0, size=(classes, d))
    y = rng.integers(0, classes, size=n)
    X = centres[y] + rng.normal(size=(n, d))
    return X.astype(np.float32), y


def mlp(sizes, seed, dtype=np.float32, dropout=0.0, batchnorm=False, last=None):
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out, rng=seed + i, dtype=dtype))
        if i < len(sizes) - 2:
            layers += [nn.BatchNorm(n_out, dtype=dtype)] if batchnorm else []
            layers.append(nn.ReLU())
            layers += [nn.Dropout(dropout, rng=seed + 100 + i)] if dropout else []
    layers += [last] if last is not None else []
    return nn.Sequential(layers)


# -- trainers built as a resumed run builds them ------------------------------------------
OPTIMIZERS = {
    "sgd_momentum": (lambda params: SGD(params, lr=0.05, momentum=0.9),
                     lambda opt: StepLR(opt, step_size=2, gamma=0.5)),
    "adam": (lambda params: Adam(params, lr=0.01),
             lambda opt: ExponentialLR(opt, gamma=0.8)),
}


def make_trainer(name, directory, patience=100):
    """Fresh objects, built as a resumed run would build them (same seeds)."""
    model = mlp([6, 16, 3], seed=3, dropout=0.3, batchnorm=True)
    make_opt, make_schedule = OPTIMIZERS[name]
    opt = make_opt(model.params())
    callbacks = [EarlyStopping(patience=patience), Checkpoint(directory)]
    return Trainer(model, nn.SoftmaxCrossEntropy(), opt, schedule=make_schedule(opt), reg=1e-3,
                   callbacks=callbacks, rng=7, progress=False)


def assert_same_state(a, b):
    for table in ("params", "buffers"):
        for key, value in getattr(a.model, table)().items():
            np.testing.assert_array_equal(getattr(b.model, table)()[key], value, err_msg=key)
    assert a.history.history == b.history.history
    assert a.history.iteration_loss == b.history.iteration_loss
    assert a.optimizer.lr == b.optimizer.lr
