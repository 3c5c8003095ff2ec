"""Take it away: the trained model as a ``.npz`` file (:func:`numpynn.load` reads it), the
``numpynn train`` config that retrains the set-up, and the Python code that builds and trains it.

The Python code repeats the session's random streams (see :mod:`numpynn.playground.session`),
so running it for the page's number of epochs gives the page's weights. ``numpynn train`` has
one activation, initialiser and dropout for every hidden layer and takes x1, x2 as they are;
what the config cannot say is listed in comments at its top.
"""
import tempfile
from pathlib import Path

from numpynn.cli.config import RunConfig
from numpynn.data.points import CLASSIFICATION
from numpynn.layers import ACTIVATION_LAYERS
from numpynn.optim import OPTIMIZERS
from numpynn.serialization import load, save
from numpynn.playground.session import OUTPUT_INIT, output_activation
from numpynn.playground.settings import IDENTITY, UPLOAD

LOSS_CLASSES = {"bce": "BCE", "bce_with_logits": "BCEWithLogits", "mse": "MSE", "l1": "L1"}
OPTIMIZER_CLASSES = {name: cls.__name__ for name, cls in OPTIMIZERS.items()}
FEATURE_CODE = {"x1": "X[:, 0]", "x2": "X[:, 1]", "x1^2": "X[:, 0] ** 2", "x2^2": "X[:, 1] ** 2",
                "x1*x2": "X[:, 0] * X[:, 1]", "sin(x1)": "np.sin(X[:, 0])",
                "sin(x2)": "np.sin(X[:, 1])"}


def model_bytes(session):
    """The model as the bytes of numpynn's no-pickle ``.npz`` format (written atomically to a
    temporary folder, then read back)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        save(session.model, path)
        load(path)  # what the user gets must load
        return path.read_bytes()


def train_toml(session):
    """``numpynn train --config`` text for the page's set-up; comments name what differs."""
    s = session.settings
    notes = _toml_notes(s)
    first = s.layers[0] if s.layers else None
    cfg = RunConfig(
        dataset=s.dataset if s.dataset in CLASSIFICATION else "circle",
        n_points=s.n_points, noise=s.noise, test_fraction=s.test_fraction,
        val_fraction=0.0, standardize="none", hidden=tuple(l.units for l in s.layers),
        activation=first.activation if first else "linear",
        loss=s.loss if s.loss in ("bce", "bce_with_logits") else "bce",
        init=first.init if first else OUTPUT_INIT, dropout=first.dropout if first else 0.0,
        batchnorm=bool(first and first.batchnorm), optimizer=s.optimizer, lr=s.lr,
        momentum=s.momentum if "momentum" in OPTIMIZERS[s.optimizer].hyper else 0.0,
        reg=s.reg, epochs=max(session.epoch, 1), batch_size=s.batch_size, seed=s.seed)
    header = ["numpynn train --config playground.toml: the web playground's set-up",
              *(f"differs from the page: {note}" for note in notes)]
    return cfg.to_toml("\n".join(header))


def _toml_notes(s):
    notes = []
    if s.dataset not in CLASSIFICATION:
        notes.append(f"dataset {s.dataset!r} is not a numpynn train dataset (circle instead)")
    if s.loss not in ("bce", "bce_with_logits"):
        notes.append(f"loss {s.loss!r}: numpynn train classifies with bce")
    if s.features != ("x1", "x2"):
        notes.append(f"features {', '.join(s.features)}: numpynn train uses x1, x2")
    if len({(l.activation, l.init, l.dropout, l.batchnorm) for l in s.layers}) > 1:
        notes.append("layers differ in activation/init/dropout/batch norm: the first's is used")
    notes.append("its random streams differ, so the weights are not the page's "
                 "(the Python export reproduces them)")
    return notes


def python_code(session):
    """A script that builds the page's network with numpynn and trains it as the page did."""
    s = session.settings
    lines = ['"""The numpynn web playground\'s network, rebuilt and trained as the page trained it."""',
             "import numpy as np", "", "import numpynn as nn", "from numpynn.data import points",
             "", *_data_code(s), "", "", "def features(X):",
             f'    """The inputs {", ".join(s.features)}: (N, {2 - s.regression}) -> '
             f'(N, {len(s.features)})."""',
             "    return np.stack([" + ", ".join(FEATURE_CODE[f] for f in s.features)
             + "], axis=1)", "", "", f"rng = np.random.default_rng({s.seed})",
             "model = nn.Sequential(", *_layer_code(s), ")", *_trainer_code(s, session.epoch)]
    return "\n".join(lines) + "\n"


def _data_code(s):
    if s.dataset == UPLOAD:
        return ["# your uploaded CSV (x1, x2, label), split as the page did",
                'data = np.loadtxt("points.csv", delimiter=",", skiprows=1)',
                "X_train, y_train, X_test, y_test = points.split(data[:, :2], data[:, 2], "
                f"{s.test_fraction}, rng={s.seed})",
                "t_train, t_test = y_train.reshape(-1, 1), y_test.reshape(-1, 1)"]
    if s.regression:
        name = "course_points" if s.dataset == "course-points" else s.dataset
        args = "" if s.dataset == "course-points" else f"{s.n_points}, {s.noise}, "
        return [f"data_rng = np.random.default_rng({s.seed})",
                f"x, t = points.{name}({args}rng=data_rng, dtype=np.float64)",
                f"X_train, t_train, X_test, t_test = points.split(x, t, {s.test_fraction}, "
                "data_rng)"]
    return [f"X_train, y_train, X_test, y_test = points.load_points({s.dataset!r}, "
            f"{s.n_points}, {s.noise}, {s.test_fraction}, seed={s.seed}, dtype=np.float64)",
            "t_train, t_test = y_train.reshape(-1, 1), y_test.reshape(-1, 1)  # (N, 1) targets"]


def _activation_code(name):
    return [] if name == IDENTITY else [f"    nn.{ACTIVATION_LAYERS[name].__name__}(),"]


def _layer_code(s):
    lines, width = [], len(s.features)
    for spec in s.layers:
        lines.append(f"    nn.Linear({width}, {spec.units}, init={spec.init!r}, rng=rng, "
                     "dtype=np.float64),")
        if spec.batchnorm:
            lines.append(f"    nn.BatchNorm({spec.units}, dtype=np.float64),")
        lines += _activation_code(spec.activation)
        if spec.dropout:
            lines.append(f"    nn.Dropout({spec.dropout}, rng=np.random.default_rng("
                         "rng.integers(2**63))),")
        width = spec.units
    lines.append(f"    nn.Linear({width}, 1, init={OUTPUT_INIT!r}, rng=rng, dtype=np.float64),")
    return lines + _activation_code(output_activation(s))


def _trainer_code(s, epochs):
    extra = f", momentum={s.momentum}" if "momentum" in OPTIMIZERS[s.optimizer].hyper else ""
    return [f"optimizer = nn.{OPTIMIZER_CLASSES[s.optimizer]}(model.params(), lr={s.lr}{extra})",
            f"trainer = nn.Trainer(model, nn.{LOSS_CLASSES[s.loss]}(), optimizer, reg={s.reg}, "
            f"rng={s.seed + 1}, progress=False)",
            f"trainer.fit(features(X_train), t_train, epochs={epochs}, batch_size={s.batch_size})",
            'print("train", trainer.evaluate(features(X_train), t_train))',
            'print("test", trainer.evaluate(features(X_test), t_test))',
            'nn.save(model, "playground-model.npz")']
