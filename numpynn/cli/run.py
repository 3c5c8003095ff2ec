"""Run folders: train a :class:`~numpynn.cli.config.RunConfig`, write its folder, resume, evaluate.

The library behind ``numpynn train``, ``evaluate`` and ``summary``. A run folder holds

=========================  ===================================================================
``config.toml``            the RunConfig (``numpynn train --config DIR/config.toml`` reruns it)
``history.csv``            one row per epoch: epoch, loss, acc, val_loss, val_acc, lr (Keras's)
``model.npz``              the final weights (:func:`numpynn.load`)
``model-best.npz``         the best-by-``val_loss`` weights, when there is a validation set
``checkpoints/last.npz``   everything ``--resume`` needs (also ``best.npz``)
``metrics.json``           test loss and accuracy, epochs, training seconds
``summary.txt``            model summary table and final metrics
``learning_curves.png``    loss and accuracy per epoch, train vs validation
``confusion_matrix.png``   test-set confusion matrix
``test_predictions.png``   test images titled predicted / true, misclassified first
``first_layer_weights.png`` the first Linear layer's columns as images (CS231n's picture)
``.lock``                  locked while a process writes the folder (:mod:`numpynn.cli.folder`)
=========================  ===================================================================

One process at a time writes a run folder (:mod:`numpynn.cli.folder`), and every interrupted
run finishes with ``numpynn train --resume DIR``: from its last checkpoint, from epoch 0 if it
has none yet, or, when its training had ended, by writing the model and the other files from
the last checkpoint.

Data for a run (:func:`prepare_data`) are a pure function of the config: the dataset's own
train/test split, then the optional seeded ``n_train`` subset, the seeded validation split,
and the preprocessing fitted on what is left for training. So ``evaluate`` and ``resume``
rebuild exactly the arrays the run trained on.
"""
import csv
import inspect
import io
import json
import math
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from numpynn import data
from numpynn._helpers.extras import INSTALL, available
from numpynn._helpers.io import atomic_write_text
from numpynn.training.callbacks import Checkpoint, EarlyStopping
from numpynn.cli.config import PREPROCESSING, STATISTICS, RunConfig
from numpynn.cli.folder import check_settings, run_settings, say, writing
from numpynn.layers import Conv2d, Normalize
from numpynn.losses import LOSSES
from numpynn.models import HEADS, auto_loss, convnet, mlp
from numpynn.optim import OPTIMIZERS, ExponentialLR
from numpynn.sequential import Sequential
from numpynn.serialization import save
from numpynn.training.checkpoint import read_checkpoint_model
from numpynn.training.trainer import Trainer

CONFIG, HISTORY, MODEL, BEST_MODEL = "config.toml", "history.csv", "model.npz", "model-best.npz"
METRICS, SUMMARY, CHECKPOINTS = "metrics.json", "summary.txt", "checkpoints"
METRIC_KEYS = ("test_loss", "test_acc", "epochs", "seconds")   # metrics.json's keys
PLOTS = ("learning_curves.png", "confusion_matrix.png", "test_predictions.png",
         "first_layer_weights.png")
GRID_IMAGES = 36      # test images in test_predictions.png
MAX_FILTERS = 100     # first-layer filters drawn in first_layer_weights.png
# independent random streams drawn from SeedSequence(seed): one per use, so changing e.g. the
# dropout rate never changes the validation split
STREAMS = ("subset", "split", "model", "shuffle")


@dataclass
class RunData:
    """The arrays of one run. ``y_*`` are what the loss takes ((N,) classes or (N, 1) 0/1
    floats); ``labels_test`` the integer classes; ``images_test`` the raw test rows for display."""

    dataset: data.Dataset
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray
    labels_test: np.ndarray
    images_test: np.ndarray
    statistics: tuple | None = None   # the preprocessing's (shift, scale), see STATISTICS


@dataclass
class RunResult:
    """What :func:`train` returns: the folder, the trained trainer and the test metrics."""

    run_dir: Path
    trainer: Trainer
    metrics: dict


# ------------------------------------------------------------------------------- building
def streams(seed):
    """One Generator per entry of :data:`STREAMS`, all derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children)}


def loss_name(cfg, n_classes):
    """The config's loss, ``"auto"`` resolved; binary heads need a two-class dataset."""
    name = auto_loss(n_classes) if cfg.loss == "auto" else cfg.loss
    if HEADS[name].binary and n_classes != 2:
        raise ValueError(f"loss {name!r} needs a two-class dataset; {cfg.dataset!r} has "
                         f"{n_classes} classes\nhelp: use --dataset digits-binary, or a "
                         "multiclass loss such as cross_entropy")
    return name


def load_dataset(cfg, data_dir=None, download=True):
    """The dataset's ``(X_train, y_train, X_test, y_test)``; ``download`` where the loader has it."""
    dataset = data.DATASETS[cfg.dataset]
    if cfg.dataset in data.points.CLASSIFICATION:  # drawn from the seed, as the playground does
        return dataset, dataset.load(n=cfg.n_points, noise=cfg.noise,
                                     test_fraction=cfg.test_fraction, seed=cfg.seed)
    takes_download = "download" in inspect.signature(dataset.loader).parameters
    return dataset, dataset.load(data_dir, **({"download": download} if takes_download else {}))


def prepare_data(cfg, data_dir=None, download=True):
    """Load, subset, split and preprocess the data of ``cfg`` (see the module docstring)."""
    dataset, (X_train, y_train, X_test, y_test) = load_dataset(cfg, data_dir, download)
    rngs = streams(cfg.seed)
    if cfg.n_train is not None and cfg.n_train < len(X_train):
        keep = rngs["subset"].permutation(len(X_train))[:cfg.n_train]  # (n_train,)
        X_train, y_train = X_train[keep], y_train[keep]
    X_val = y_val = None
    if cfg.val_fraction:
        X_train, y_train, X_val, y_val = data.train_val_split(
            X_train, y_train, val_fraction=cfg.val_fraction, rng=rngs["split"])
    preprocess, X_train_raw = PREPROCESSING[cfg.standardize], X_train
    if X_val is None:
        X_train, X_test_pre = preprocess(X_train, X_test)
    else:
        X_train, X_val, X_test_pre = preprocess(X_train, X_val, X_test)
    statistics = STATISTICS[cfg.standardize]
    statistics = statistics(X_train_raw) if statistics is not None else None
    target = _target_fn(HEADS[loss_name(cfg, dataset.n_classes)].binary)
    return RunData(dataset, X_train, target(y_train), X_val,
                   None if y_val is None else target(y_val), X_test_pre, target(y_test),
                   y_test, X_test, statistics)


def _target_fn(binary):
    """Binary heads compare one probability per sample with a 0/1 float target of shape (N, 1)."""
    if binary:
        return lambda y: y.reshape(-1, 1).astype(np.float32)  # (N,) -> (N, 1)
    return lambda y: y


def build_model(cfg, n_features, n_classes, rng=None):
    """The MLP of ``cfg``, or with ``cfg.conv`` its convnet on the dataset's images (C, H, W)
    read from the rows: ``n_features`` inputs, C scores or one sigmoid/logit output."""
    head = HEADS[loss_name(cfg, n_classes)]
    rng = streams(cfg.seed)["model"] if rng is None else rng
    if cfg.conv:
        image_shape = chw_shape(data.DATASETS[cfg.dataset])
        if image_shape is None or math.prod(image_shape) != n_features:
            raise ValueError(f"--conv needs images; the data has {n_features} features per row "
                             f"and image shape {image_shape}\nhelp: use an image dataset "
                             "(digits, mnist, fashion-mnist, cifar10) or drop --conv")
        return convnet(image_shape, cfg.conv, cfg.hidden, 1 if head.binary else n_classes,
                       init=cfg.init, output=head.activation, rng=rng, dropout=cfg.dropout,
                       batchnorm=cfg.batchnorm)
    return mlp(n_features, cfg.hidden, 1 if head.binary else n_classes,
               activation=cfg.activation, init=cfg.init, dropout=cfg.dropout,
               batchnorm=cfg.batchnorm, output=head.activation, rng=rng)


def build_optimizer(cfg, params):
    """``OPTIMIZERS[cfg.optimizer]`` with lr, momentum (where it has one) and weight decay."""
    cls = OPTIMIZERS[cfg.optimizer]
    kwargs = {"lr": cfg.lr}
    if "momentum" in cls.hyper:
        kwargs["momentum"] = cfg.momentum
    elif cfg.momentum:
        with_momentum = ", ".join(n for n, c in OPTIMIZERS.items() if "momentum" in c.hyper)
        raise ValueError(f"optimizer {cfg.optimizer!r} takes no momentum; got momentum="
                         f"{cfg.momentum}\nhelp: use one of {with_momentum}, or drop --momentum")
    if cfg.weight_decay is not None:
        kwargs["weight_decay"] = cfg.weight_decay
    return cls(params, **kwargs)


def build_trainer(cfg, model, n_classes, run_dir=None, has_val=True, progress=False,
                  callbacks=()):
    """A Trainer for ``cfg``; with ``run_dir``, checkpoints go to ``run_dir/checkpoints``.
    ``callbacks`` come first (they only watch, e.g. ``numpynn tune``'s pruning reporter)."""
    optimizer = build_optimizer(cfg, model.params())
    schedule = ExponentialLR(optimizer, gamma=cfg.lr_decay) if cfg.lr_decay != 1 else None
    callbacks = list(callbacks)
    if cfg.early_stopping is not None:
        callbacks.append(EarlyStopping("val_loss", patience=cfg.early_stopping))
    if run_dir is not None:
        callbacks.append(Checkpoint(Path(run_dir) / CHECKPOINTS, monitor="val_loss",
                                    save_best=has_val))
    return Trainer(model, LOSSES[loss_name(cfg, n_classes)](), optimizer, reg=cfg.reg,
                   schedule=schedule, callbacks=callbacks, rng=streams(cfg.seed)["shuffle"],
                   progress=progress)


# ------------------------------------------------------------------------------- training
def default_run_dir(dataset, root="runs"):
    """``runs/<dataset>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``, … if taken)."""
    base = Path(root) / f"{dataset}-{datetime.now():%Y%m%d-%H%M%S}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


def train(cfg, out=None, data_dir=None, download=True, progress=False, log=None, plots=True,
          callbacks=()):
    """Train ``cfg`` and write a complete run folder; returns a :class:`RunResult`.

    Parameters
    ----------
    cfg : RunConfig
    out : str or Path, optional
        The run folder (default :func:`default_run_dir`); it must not hold a run already.
    data_dir : str or Path, optional
        Where dataset files are looked for first (see :mod:`numpynn.data.fetch`).
    download : bool
        Download missing dataset files.
    progress : see :class:`~numpynn.training.trainer.Trainer`
    log : text stream, optional
        Gets one line describing the run before training starts.
    plots : bool
        Draw the four PNG pictures (:data:`PLOTS`); without matplotlib, a warning instead.
    callbacks : sequence of Callback, optional
        Extra callbacks that watch the training (``numpynn tune`` reports each epoch with one).

    Raises
    ------
    numpynn.cli.folder.RunFolderInUse
        Another process is writing ``out``.
    """
    run_dir = Path(out) if out is not None else default_run_dir(cfg.dataset)
    _refuse_existing_run(run_dir)   # before the data load, to fail fast
    run = prepare_data(cfg, data_dir, download)
    plots = _can_plot(plots)  # after the data: a missing dataset package is the error to show
    model = build_model(cfg, run.X_train.shape[1], run.dataset.n_classes)
    trainer = build_trainer(cfg, model, run.dataset.n_classes, run_dir, run.X_val is not None,
                            progress, callbacks)
    run_dir.mkdir(parents=True, exist_ok=True)
    with writing(run_dir, "--out", [CHECKPOINTS], marker=CONFIG):
        _refuse_existing_run(run_dir)   # again under the lock: a run may have begun meanwhile
        trainer.run_info = run_settings(cfg)
        atomic_write_text(run_dir / CONFIG, cfg.to_toml(header=f"numpynn run {run_dir.name}"))
        say(log, describe(cfg, run, model))
        return _fit_and_write(cfg, run, trainer, run_dir, plots)


def resume(run_dir, epochs=None, data_dir=None, download=True, progress=False, log=None,
           plots=True):
    """Finish the run in ``run_dir``, training until ``epochs`` in total (default: its
    config's), whatever stopped it.

    From its last checkpoint when it has one (the settings of ``config.toml`` must be those
    the checkpoint recorded, ``epochs`` aside); from epoch 0 when it was stopped before its
    first checkpoint. A run whose training had ended (all epochs done, or early stopping)
    trains no further: its model and files are written from the last checkpoint, as the
    uninterrupted run wrote them. With the same seed the weights are bit-identical to a run
    that was never stopped.

    Raises
    ------
    numpynn.cli.folder.RunFolderInUse
        Another process is writing ``run_dir``.
    ModelFileError
        The checkpoint is damaged; names the file and the field.
    ValueError
        ``config.toml`` was edited since the checkpoint, or ``epochs`` is below the epochs
        already trained.
    """
    run_dir = Path(run_dir)
    read_config(run_dir)   # a clear error when it is not a run folder
    with writing(run_dir, "--resume", [CHECKPOINTS], marker=CONFIG):
        configured = cfg = read_config(run_dir)
        if epochs is not None:
            cfg = cfg.replace(epochs=epochs)
        run = prepare_data(cfg, data_dir, download)
        plots = _can_plot(plots)  # after the data: a missing dataset is the error to show
        model = build_model(cfg, run.X_train.shape[1], run.dataset.n_classes)
        trainer = build_trainer(cfg, model, run.dataset.n_classes, run_dir,
                                run.X_val is not None, progress)
        checkpoint = run_dir / CHECKPOINTS / Checkpoint.LAST
        if checkpoint.is_file():
            trainer.load_checkpoint(checkpoint)
            check_settings(run_dir, run_dir / CONFIG, cfg, trainer.run_info)
        if cfg.epochs < trainer.epoch:
            raise ValueError(f"--resume {run_dir}: the run has already trained {trainer.epoch} "
                             f"epochs; got --epochs {cfg.epochs}\nhelp: pass the new total, "
                             f"e.g. --epochs {trainer.epoch * 2}")
        # early stopping ended it, unless more epochs are asked for than the run had
        ended = trainer.epoch == cfg.epochs or (_stopped_early(trainer)
                                                and cfg.epochs <= configured.epochs)
        trainer.run_info = run_settings(cfg)
        atomic_write_text(run_dir / CONFIG, cfg.to_toml(header=f"numpynn run {run_dir.name}"))
        if ended:
            say(log, f"finishing {run_dir}: its training ended after epoch {trainer.epoch}; "
                     "writing the model and the other files")
        elif checkpoint.is_file():
            say(log, f"resuming {run_dir} after epoch {trainer.epoch}: "
                     f"{describe(cfg, run, model)}")
        else:
            say(log, f"{run_dir} has no checkpoint yet; training from epoch 0: "
                     f"{describe(cfg, run, model)}")
        return _fit_and_write(cfg, run, trainer, run_dir, plots,
                              epochs=trainer.epoch if ended else cfg.epochs)


def _can_plot(plots):
    """``plots``, or False with a warning when matplotlib is missing: the run still trains and
    writes every other file, so a missing picture library never costs a trained model."""
    if plots and not available("matplotlib"):
        warnings.warn(f"matplotlib is not installed, so the run folder gets no pictures "
                      f"({INSTALL} draws them; --no-plots skips them quietly)", stacklevel=3)
        return False
    return plots


def _stopped_early(trainer):
    return any(isinstance(cb, EarlyStopping) and cb.stopped_epoch is not None
               for cb in trainer.callbacks)


def _refuse_existing_run(run_dir):
    if (run_dir / CONFIG).exists():
        raise ValueError(f"--out {run_dir} already holds a run\nhelp: continue it with "
                         f"--resume {run_dir}, or choose another --out")


def _fit_and_write(cfg, run, trainer, run_dir, plots=True, epochs=None):
    start = time.perf_counter()
    trainer.fit(run.X_train, run.y_train, run.X_val, run.y_val,
                epochs=cfg.epochs if epochs is None else epochs, batch_size=cfg.batch_size)
    seconds = time.perf_counter() - start
    test = trainer.evaluate(run.X_test, run.y_test)
    metrics = {"test_loss": test["loss"], "test_acc": test["acc"], "test_n": len(run.X_test),
               "epochs": trainer.epoch, "seconds": round(seconds, 2)}
    restored = _restored_epoch(trainer)
    if restored is not None:
        metrics["restored_epoch"] = restored + 1   # counted from 1, as the epoch lines
    model = deployable(trainer.model, run)
    save(model, run_dir / MODEL)
    _copy_best_model(run_dir, run)
    write_history(trainer.history, run_dir / HISTORY)
    atomic_write_text(run_dir / METRICS, json.dumps(metrics, indent=2) + "\n")
    atomic_write_text(run_dir / SUMMARY, summary_text(run_dir, model, metrics,
                                                      trainer.history.history))
    if plots:
        predicted = trainer.predict(run.X_test)  # (N,) class indices
        write_plots(run_dir, trainer, run, predicted)
    return RunResult(run_dir, trainer, metrics)


def _restored_epoch(trainer):
    """The epoch (from 0) whose weights early stopping put back, or None."""
    return next((cb.restored_epoch for cb in trainer.callbacks
                 if isinstance(cb, EarlyStopping) and cb.restored_epoch is not None), None)


def _copy_best_model(run_dir, run):
    """``checkpoints/best.npz`` (a full checkpoint) -> ``model-best.npz`` (weights only)."""
    best = run_dir / CHECKPOINTS / Checkpoint.BEST
    if best.is_file():
        save(deployable(read_checkpoint_model(best), run), run_dir / BEST_MODEL)


def deployable(model, run):
    """The model a run folder saves: the preprocessing it trained on as a first
    :class:`~numpynn.layers.Normalize` layer, so it predicts on the loaders' raw output, and
    the dataset's class names."""
    layers = list(model.layers)
    if run.statistics is not None:
        shift, scale = run.statistics
        layers.insert(0, Normalize(run.images_test.shape[1], mean=shift, std=scale))
    saved = Sequential(layers)
    saved.task = "binary" if run.y_test.ndim == 2 else "multiclass"   # (N, 1) 0/1 targets
    saved.classes = [str(name) for name in run.dataset.class_names]
    return saved


# -------------------------------------------------------------------------- run-folder files
def write_history(history, path):
    """``history.csv``: an ``epoch`` column (from 0, as Keras's CSVLogger) then one per metric."""
    keys = list(history.history)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for row, epoch in enumerate(history.epoch):
        writer.writerow([epoch, *(repr(history.history[k][row]) for k in keys)])
    atomic_write_text(path, buffer.getvalue())


def read_history(path):
    """``history.csv`` -> dict of column -> list (``epoch`` as int, the rest float)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = rows[0].keys() if rows else ()
    return {c: [(int if c == "epoch" else float)(r[c]) for r in rows] for c in columns}


def write_plots(run_dir, trainer, run, predicted):
    """The four pictures of a run folder (:data:`PLOTS`); the first two for a set of points."""
    from numpynn import plot

    dataset = run.dataset
    plot.learning_curves(trainer.history, path=run_dir / PLOTS[0])
    plot.confusion_matrix(run.labels_test, predicted, class_names=dataset.class_names,
                          path=run_dir / PLOTS[1])
    if len(dataset.image_shape) < 2:  # points (x1, x2), not images: no image to draw
        return
    plot.image_grid(dataset.to_images(run.images_test), y_true=run.labels_test,
                    y_pred=predicted, class_names=dataset.class_names, n=GRID_IMAGES,
                    path=run_dir / PLOTS[2])
    first = next(layer for layer in trainer.model if layer.params)
    if isinstance(first, Conv2d):  # W (F, C, HH, WW)
        plot.conv_filters(first.W, n=min(first.out_channels, MAX_FILTERS), path=run_dir / PLOTS[3])
    else:  # W (D, M): column m is one input-shaped filter
        plot.weight_grid(first.W, _filter_shape(dataset), n=min(first.W.shape[1], MAX_FILTERS),
                         path=run_dir / PLOTS[3])


def chw_shape(dataset):
    """(C, H, W) of a dataset's rows (one channel for grey images), the input of --conv."""
    shape = _filter_shape(dataset)
    return (1, *shape) if len(shape) == 2 else shape


def _filter_shape(dataset):
    """A flat row's own layout, (H, W) or (C, H, W) for CIFAR-10's channels-first bytes."""
    if dataset.channels_first:
        height, width, channels = dataset.image_shape
        return (channels, height, width)
    return dataset.image_shape


def describe(cfg, run, model):
    """One line: ``digits: 64-64-10 relu MLP, 808 train / 90 val / 899 test, adam lr=0.001``."""
    n_out = [layer for layer in model.layers if hasattr(layer, "n_out")][-1].n_out
    widths = [run.X_train.shape[1], *cfg.hidden, n_out]
    n_val = 0 if run.X_val is None else len(run.X_val)
    kind = f"CNN (conv {'-'.join(map(str, cfg.conv))}, then)" if cfg.conv else "MLP,"
    return (f"{cfg.dataset}: {'-'.join(map(str, widths))} {cfg.activation} {kind} "
            f"{len(run.X_train)} train / {n_val} val / {len(run.X_test)} test, "
            f"{cfg.optimizer} lr={cfg.lr:g}, {cfg.epochs} epochs of batch {cfg.batch_size}")


def summary_text(run_dir, model, metrics, history):
    """``summary.txt``: the model table, then the metrics of the epoch whose weights the model
    holds (the last, or the one early stopping restored) and the test metrics."""
    restored = metrics.get("restored_epoch")
    row = -1 if restored is None else restored - 1
    kept = {k: v[row] for k, v in history.items() if v}
    heading = ("Final epoch: " if restored is None else
               f"Restored epoch {restored} (early stopping; its weights are the model's): ")
    lines = [f"numpynn run {Path(run_dir).name}", "", model.summary(print_fn=None), "",
             f"Epochs trained: {metrics['epochs']} ({metrics['seconds']:.1f}s)",
             heading + " ".join(f"{k}={v:.4g}" if k == "lr" else f"{k}={v:.4f}"
                                for k, v in kept.items()),
             f"Test: test_acc={metrics['test_acc']:.4f} test_loss={metrics['test_loss']:.4f}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- reading a run folder
def read_config(run_dir):
    """The RunConfig of a run folder; a clear error when it is not one."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder {run_dir} does not exist\nhelp: pass a folder "
                                "written by numpynn train (default: runs/<dataset>-<time>)")
    if not (run_dir / CONFIG).is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder: no {CONFIG}\nhelp: pass a "
                                "folder written by numpynn train")
    return RunConfig.from_toml(run_dir / CONFIG)


def load_model(run_dir, name=MODEL):
    """The model saved in a run folder."""
    from numpynn.serialization import load

    path = Path(run_dir) / name
    if not path.is_file() and name == BEST_MODEL and (Path(run_dir) / MODEL).is_file():
        raise FileNotFoundError(f"{run_dir} has no {name}: the run kept no best model, since "
                                "it had no validation set to choose one by\nhelp: evaluate "
                                "its final model (drop --best), or train with --val-fraction")
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} has no {name}\nhelp: the run did not finish; "
                                f"continue it with numpynn train --resume {run_dir}")
    return load(path)


def evaluate(run_dir, dataset=None, data_dir=None, download=True, model_file=MODEL):
    """Test loss and accuracy of a run folder's model: ``{"loss": …, "acc": …, "n": …}``.

    The data are rebuilt from the run's config (same split and preprocessing); ``dataset``
    evaluates on another dataset of the same shape, preprocessed with its own training split.
    """
    cfg = read_config(run_dir)
    if dataset is not None:
        trained_on = data.DATASETS[cfg.dataset]
        cfg = cfg.replace(dataset=dataset)
        if data.DATASETS[dataset].n_classes != trained_on.n_classes:
            raise ValueError(f"the model of {run_dir} was trained on {trained_on.name!r} with "
                             f"{trained_on.n_classes} classes; {dataset!r} has "
                             f"{data.DATASETS[dataset].n_classes}\nhelp: evaluate on a dataset "
                             "with the same classes")
    model = load_model(run_dir, model_file)
    run = prepare_data(cfg, data_dir, download)
    n_in = math.prod(model._guess_input_shape() or run.X_test.shape[1:])
    if math.prod(run.X_test.shape[1:]) != n_in:
        raise ValueError(f"the model of {run_dir} takes {n_in} features; {cfg.dataset!r} has "
                         f"{run.X_test.shape[1]}\nhelp: evaluate on the dataset it was "
                         "trained on, or one of the same image size")
    trainer = build_trainer(cfg, model, run.dataset.n_classes)
    # a model that carries its preprocessing takes the loader's raw rows (older runs did not)
    carries = any(isinstance(layer, Normalize) for layer in model.layers)
    X_test = run.images_test if carries else run.X_test
    result = trainer.evaluate(X_test, run.y_test)
    return {**result, "n": len(run.X_test), "dataset": cfg.dataset}


def read_metrics(run_dir):
    """``metrics.json`` (``{}`` when there is none), checked: an object of the numbers
    :data:`METRIC_KEYS`."""
    path = Path(run_dir) / METRICS
    if not path.is_file():
        return {}
    help_line = f"help: numpynn train --resume {run_dir} writes it again"
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})\n{help_line}") from None
    if not isinstance(metrics, dict):
        raise ValueError(f"{path}: expected a JSON object of {', '.join(METRIC_KEYS)}\n"
                         f"{help_line}")
    missing = [key for key in METRIC_KEYS if key not in metrics]
    wrong = [key for key in METRIC_KEYS if key in metrics and (
        isinstance(metrics[key], bool) or not isinstance(metrics[key], (int, float)))]
    if missing or wrong:
        raise ValueError(f"{path}: missing {missing or 'nothing'}, not numbers "
                         f"{wrong or 'none'}; it has {', '.join(metrics) or 'no keys'}\n"
                         f"{help_line}")
    return metrics


def summarize(run_dir):
    """The text ``numpynn summary`` prints: the model table, the last epoch and test metrics."""
    read_config(run_dir)
    model = load_model(run_dir)
    history = read_history(Path(run_dir) / HISTORY)
    history.pop("epoch", None)
    metrics = read_metrics(run_dir)
    if not metrics:
        metrics = {"epochs": len(history.get("loss", [])), "seconds": math.nan,
                   "test_acc": math.nan, "test_loss": math.nan}
    return summary_text(run_dir, model, metrics, history)
