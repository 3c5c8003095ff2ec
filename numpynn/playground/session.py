"""One training session per browser tab: data, network and Trainer built from :class:`Settings`.

Everything trains in numpynn: the network is a :class:`~numpynn.sequential.Sequential` of
numpynn's layers in float64 (exact numbers for the inspector; speed is no concern at this
size), trained by :class:`~numpynn.training.trainer.Trainer` one epoch at a time, so the page
can draw between epochs. The random streams are fixed by the seed, as the exported Python code
(:mod:`numpynn.playground.export`) writes them:

- data: ``load_points(name, n_points, noise, test_fraction, seed)``;
- initial weights (and each Dropout's own generator): ``np.random.default_rng(seed)``;
- the Trainer's shuffling: ``rng=seed + 1``.
"""
import time

import numpy as np

from numpynn.data import points
from numpynn.layers import ACTIVATION_LAYERS, Linear
from numpynn.losses import LOSSES
from numpynn.models import hidden_tail
from numpynn.optim import OPTIMIZERS
from numpynn.sequential import Sequential
from numpynn.training.trainer import Trainer, TrainingDiverged
from numpynn.playground.settings import IDENTITY, LOSSES as LOSS_HEADS, UPLOAD, SettingsError

DTYPE = np.float64
OUTPUT_INIT = "xavier_uniform"  # the output layer's initialiser (the page sets the hidden ones)
# feature name -> f(X) of shape (N,), X of shape (N, 2) (or (N, 1): x1 only)
FEATURE_FUNCTIONS = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1^2": lambda X: X[:, 0] ** 2,
    "x2^2": lambda X: X[:, 1] ** 2,
    "x1*x2": lambda X: X[:, 0] * X[:, 1],
    "sin(x1)": lambda X: np.sin(X[:, 0]),
    "sin(x2)": lambda X: np.sin(X[:, 1]),
}


def feature_map(X, names):
    """The network's inputs: one column per chosen feature, ``(N, 2) -> (N, F)``."""
    return np.stack([FEATURE_FUNCTIONS[name](X) for name in names], axis=1)  # (N, F)


def output_activation(settings):
    """The last layer's activation: the loss's (mse: sigmoid for classes, none for regression)."""
    _, activation = LOSS_HEADS[settings.loss]
    if activation is None:
        activation = IDENTITY if settings.regression else "sigmoid"
    return activation


def _activation_layers(name):
    return [] if name == IDENTITY else [ACTIVATION_LAYERS[name]()]


def build_model(settings, n_in):
    """``[Linear → BatchNorm? → activation → Dropout?] per hidden layer → Linear(1) → output``.

    Draws every weight, then each Dropout's seed, from ``np.random.default_rng(seed)`` in
    layer order (as the exported code does).
    """
    rng = np.random.default_rng(settings.seed)
    layers, width = [], n_in
    for spec in settings.layers:
        layers.append(Linear(width, spec.units, init=spec.init, rng=rng, dtype=DTYPE))
        layers += hidden_tail(spec.units, spec.activation, spec.dropout, spec.batchnorm, rng,
                              DTYPE)   # BatchNorm?, activation, Dropout? as numpynn's mlp
        width = spec.units
    layers.append(Linear(width, 1, init=OUTPUT_INIT, rng=rng, dtype=DTYPE))
    layers += _activation_layers(output_activation(settings))
    return Sequential(layers)


def build_optimizer(settings, params):
    """One of numpynn's five optimizers; momentum goes to those that have one (SGD, RMSProp)."""
    cls = OPTIMIZERS[settings.optimizer]
    extra = {"momentum": settings.momentum} if "momentum" in cls.hyper else {}
    return cls(params, lr=settings.lr, **extra)


def draw_data(settings, upload=None):
    """``(X_train, t_train, X_test, t_test)``: raw points (N, 2) or (N, 1) and targets (N, 1)."""
    if settings.dataset == UPLOAD:
        if upload is None:
            raise SettingsError("dataset csv: no file uploaded yet\nhelp: choose a CSV file "
                                "with columns x1, x2, label")
        X_train, y_train, X_test, y_test = points.split(*upload, settings.test_fraction,
                                                        rng=settings.seed)
    elif settings.regression:
        generate = points.REGRESSION[settings.dataset]
        rng = np.random.default_rng(settings.seed)
        n = len(points.COURSE_Y) if generate is points.course_points else settings.n_points
        noise = 0.0 if generate is points.course_points else settings.noise
        return points.split(*generate(n, noise, rng, dtype=DTYPE), settings.test_fraction, rng)
    else:
        X_train, y_train, X_test, y_test = points.load_points(
            settings.dataset, settings.n_points, settings.noise, settings.test_fraction,
            settings.seed, dtype=DTYPE)
    as_target = lambda y: y.reshape(-1, 1).astype(DTYPE)  # (N,) -> (N, 1)
    return (X_train.astype(DTYPE), as_target(y_train), X_test.astype(DTYPE), as_target(y_test))


class Session:
    """The state of one tab: settings, data, model, trainer, and whether it is training.

    Attributes
    ----------
    settings : Settings
    X_train, t_train, X_test, t_test : ndarray
        Raw points (N, 2) or (N, 1) and targets (N, 1).
    model : Sequential
    trainer : Trainer
    running : bool
    message : str
        The last problem (divergence), shown in the page's #error.
    """

    def __init__(self, settings, upload=None):
        self.upload = upload
        self.configure(settings)

    def configure(self, settings):
        """Rebuild data, model and trainer from ``settings`` (epoch 0), paused."""
        data = draw_data(settings, self.upload)
        self.settings = settings
        self.X_train, self.t_train, self.X_test, self.t_test = data
        self.F_train = feature_map(self.X_train, settings.features)  # (N, F)
        self.F_test = feature_map(self.X_test, settings.features)
        self.model = build_model(settings, len(settings.features))
        self.trainer = Trainer(self.model, LOSSES[settings.loss](),
                               build_optimizer(settings, self.model.params()),
                               reg=settings.reg, rng=settings.seed + 1, progress=False)
        self.running, self.message, self.steps_per_second = False, "", 0.0

    @property
    def epoch(self):
        return self.trainer.epoch

    def train_epoch(self):
        """One epoch; a NaN/inf loss pauses the session and keeps the message."""
        try:
            self.trainer.fit(self.F_train, self.t_train, epochs=self.trainer.epoch + 1,
                             batch_size=self.settings.batch_size)
        except TrainingDiverged as err:
            self.running = False
            self.message = (f"training diverged and is paused: {err}\nhelp: lower the learning "
                            f"rate (now {self.settings.lr:g}), then press reset")
        return not self.message

    def train_for(self, seconds):
        """Whole epochs for about ``seconds`` (at least one); updates steps per second."""
        start, steps = time.perf_counter(), 0
        per_epoch = -(-len(self.F_train) // self.settings.batch_size)
        while self.train_epoch():
            steps += per_epoch
            if time.perf_counter() - start >= seconds:
                break
        elapsed = time.perf_counter() - start
        self.steps_per_second = steps / elapsed if elapsed > 0 else 0.0
        return steps

    def losses(self):
        """(train loss, test loss) now, in eval mode, the L2 penalty included (the Trainer's
        ``loss``): what the page's #loss and curves show."""
        with np.errstate(over="ignore", invalid="ignore"):
            return tuple(float(self.trainer.evaluate(F, t)["loss"])
                         for F, t in ((self.F_train, self.t_train), (self.F_test, self.t_test)))
