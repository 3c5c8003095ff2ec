"""Callbacks: early stopping on crafted metrics, checkpoint files, schedules, progress output."""
import io
import os

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

import numpynn as nn
from numpynn.training.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    LRSchedulerCallback,
    ProgressLogger,
    format_epoch,
    format_step,
    format_test,
    make_progress,
)
from numpynn.optim import SGD, ExponentialLR, ReduceLROnPlateau
from numpynn.training.trainer import Trainer


class CraftedMetric(Callback):
    """Replace ``logs[key]`` by ``values[epoch]`` and keep a copy of the weights of each epoch.

    Runs before every other callback (order -100), so they see the crafted value.
    """

    order = -100

    def __init__(self, values, key="val_loss"):
        self.values, self.key, self.weights = values, key, []

    def on_epoch_end(self, epoch, logs):
        logs[self.key] = self.values[epoch]
        self.weights.append({k: p.copy() for k, p in self.trainer.model.params().items()})


def setup(seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8, rng=seed), nn.ReLU(), nn.Linear(8, 2, rng=seed + 1))
    opt = SGD(model.params(), lr=0.1, momentum=0.9)
    trainer = Trainer(model, nn.SoftmaxCrossEntropy(), opt, rng=seed, progress=False, **kwargs)
    return trainer, X, y


def assert_params_equal(model, weights):
    for key, value in weights.items():
        np.testing.assert_array_equal(model.params()[key], value, err_msg=key)


# -- EarlyStopping -------------------------------------------------------------------------------
def test_early_stopping_stops_after_patience_and_restores_best():
    # best 0.8 at epoch 1; epochs 2 and 3 do not improve -> wait reaches patience=2 at epoch 3
    crafted = CraftedMetric([1.0, 0.8, 0.9, 0.85, 0.5, 0.4])
    stop = EarlyStopping(patience=2)
    trainer, X, y = setup(callbacks=[stop, crafted])
    history = trainer.fit(X, y, X, y, epochs=6, batch_size=8)
    assert history.epoch == [0, 1, 2, 3]
    assert (stop.best, stop.best_epoch, stop.stopped_epoch, stop.wait) == (0.8, 1, 3, 2)
    assert_params_equal(trainer.model, crafted.weights[1])


def test_early_stopping_min_delta_max_mode_and_no_restore():
    # accuracies: +0.005 is below min_delta=0.01, so only epoch 0 counts as an improvement
    crafted = CraftedMetric([0.90, 0.905, 0.909, 0.95], key="val_acc")
    stop = EarlyStopping(monitor="val_acc", patience=2, min_delta=0.01, restore_best=False)
    assert stop.mode == "max"
    trainer, X, y = setup(callbacks=[stop, crafted])
    history = trainer.fit(X, y, X, y, epochs=4, batch_size=8)
    assert history.epoch == [0, 1, 2] and stop.best_epoch == 0
    assert_params_equal(trainer.model, crafted.weights[2])   # the last weights are kept


def test_early_stopping_that_never_triggers_keeps_last_weights():
    crafted = CraftedMetric([1.0, 0.5, 0.7])
    trainer, X, y = setup(callbacks=[EarlyStopping(patience=3), crafted])
    trainer.fit(X, y, X, y, epochs=3, batch_size=8)
    assert_params_equal(trainer.model, crafted.weights[2])


def test_missing_monitor_warns_once_with_help():
    trainer, X, y = setup(callbacks=[EarlyStopping(patience=0)])
    with pytest.warns(UserWarning, match=r"'val_loss' is not in the epoch logs .*\nhelp: pass "
                                         r"validation data") as record:
        history = trainer.fit(X, y, epochs=3, batch_size=8)
    assert len(record) == 1 and history.epoch == [0, 1, 2]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"patience": -1}, ValueError, r"^EarlyStopping: patience must be an integer >= 0; got -1$"),
    ({"patience": 2.0}, TypeError, r"^EarlyStopping: patience must be an integer >= 0; got 2\.0"),
    ({"min_delta": -0.1}, ValueError,
     r"^EarlyStopping: min_delta must be a finite number >= 0; got -0\.1$"),
    ({"min_delta": float("nan")}, ValueError, r"min_delta must be a finite number >= 0; got nan"),
    ({"mode": "up"}, ValueError, "^EarlyStopping: unknown mode 'up'; choose one of: min, max, auto"),
    ({"monitor": ""}, ValueError, "monitor must be a metric name"),
])
def test_early_stopping_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        EarlyStopping(**kwargs)


def test_checkpoint_mode_error_names_it(tmp_path):
    with pytest.raises(ValueError, match="^Checkpoint: unknown mode 'up'; choose one of"):
        Checkpoint(tmp_path, mode="up")


# -- Checkpoint ----------------------------------------------------------------------------------
def test_checkpoint_writes_last_and_best_atomically(tmp_path):
    crafted = CraftedMetric([1.0, 0.6, 0.8, 0.7])
    checkpoint = Checkpoint(tmp_path / "run")
    trainer, X, y = setup(callbacks=[checkpoint, crafted])
    trainer.fit(X, y, X, y, epochs=4, batch_size=8)
    assert sorted(os.listdir(tmp_path / "run")) == ["best.npz", "last.npz"]  # no temp files
    assert (checkpoint.best, checkpoint.best_epoch) == (0.6, 1)

    best, _, _ = setup()
    best.load_checkpoint(tmp_path / "run" / "best.npz")
    assert best.epoch == 2 and best.history.epoch == [0, 1]
    assert_params_equal(best.model, crafted.weights[1])
    last, _, _ = setup()
    last.load_checkpoint(tmp_path / "run" / "last.npz")
    assert last.epoch == 4
    assert last.history.history["val_loss"][:2] == best.history.history["val_loss"]
    assert_params_equal(last.model, crafted.weights[3])


def test_failed_write_leaves_previous_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    trainer, X, y = setup(callbacks=[Checkpoint(tmp_path, save_best=False)])
    trainer.fit(X, y, epochs=1, batch_size=8)
    before = (tmp_path / "last.npz").read_bytes()

    def crash(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        trainer.fit(X, y, epochs=2, batch_size=8)
    assert os.listdir(tmp_path) == ["last.npz"]
    assert (tmp_path / "last.npz").read_bytes() == before


# -- schedules -----------------------------------------------------------------------------------
def test_schedule_is_stepped_once_per_epoch_and_logged():
    trainer, X, y = setup()
    schedule = ExponentialLR(trainer.optimizer, gamma=0.5)
    trainer.callbacks.append(LRSchedulerCallback(schedule))
    history = trainer.fit(X, y, epochs=4, batch_size=8)
    # "lr" is the rate used during the epoch; ExponentialLR multiplies after each one
    np.testing.assert_allclose(history.history["lr"], [0.1, 0.05, 0.025, 0.0125], rtol=1e-15)
    assert trainer.optimizer.lr == pytest.approx(0.00625, rel=1e-15)


@pytest.mark.torch
def test_plateau_schedule_gets_monitored_value_like_pytorch():
    values = [1.0, 0.9, 0.9, 0.95, 0.9, 0.91, 0.92, 0.8]
    crafted = CraftedMetric(values)
    trainer, X, y = setup(callbacks=[crafted])
    trainer.callbacks.append(LRSchedulerCallback(
        ReduceLROnPlateau(trainer.optimizer, factor=0.5, patience=1)))
    history = trainer.fit(X, y, X, y, epochs=len(values), batch_size=8)
    # oracle: torch's ReduceLROnPlateau stepped with the same values
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    expected = []
    for value in values:
        expected.append(opt.param_groups[0]["lr"])
        plateau.step(value)
    np.testing.assert_allclose(history.history["lr"], expected, rtol=1e-15)
    assert min(expected) < 0.1   # the sequence does trigger reductions


def test_trainer_schedule_argument_is_the_callback():
    trainer, _, _ = setup()
    schedule = ExponentialLR(trainer.optimizer, gamma=0.5)
    trainer = Trainer(trainer.model, trainer.loss_fn, trainer.optimizer, schedule=schedule,
                      progress=False)
    (callback,) = trainer.callbacks
    assert isinstance(callback, LRSchedulerCallback) and callback.schedule is schedule
    with pytest.raises(TypeError, match="schedule must have a step"):
        LRSchedulerCallback(0.5)


# -- progress ------------------------------------------------------------------------------------
def test_format_epoch_line():
    logs = {"loss": 0.12344, "acc": 0.965, "val_loss": 0.23449, "val_acc": 0.94, "lr": 0.01}
    assert format_epoch(2, 10, logs, 1.23) == (
        "Epoch 3/10 loss=0.1234 acc=0.9650 val_loss=0.2345 val_acc=0.9400 lr=0.01 (1.2s)")


def test_a_bar_within_each_epoch_and_every_finished_epoch_leaves_its_line():
    stream = io.StringIO()
    trainer, X, y = setup()
    trainer.progress = ProgressLogger(stream=stream, bar=True)
    trainer.fit(X, y, epochs=2, batch_size=8)
    text = stream.getvalue()
    assert "step/s" in text or "5/5" in text                      # tqdm's bar over the steps
    lines = [line.strip("\r") for line in text.replace("\r", "\n").splitlines()]
    assert sum(line.startswith("Epoch 1/2 loss=") for line in lines) == 1
    assert sum(line.startswith("Epoch 2/2 loss=") for line in lines) == 1


def test_print_every_prints_pytorchs_mnist_example_lines():
    stream = io.StringIO()
    trainer, X, y = setup()
    trainer.progress = ProgressLogger(stream=stream, bar=False, print_every=2)
    trainer.fit(X, y, epochs=1, batch_size=8)                     # 40 samples: 5 steps
    lines = stream.getvalue().splitlines()
    steps = [line for line in lines if line.startswith("Train Epoch")]
    assert [line.split("\t")[0] for line in steps] == [
        "Train Epoch: 1 [0/40 (0%)]", "Train Epoch: 1 [16/40 (40%)]", "Train Epoch: 1 [32/40 (80%)]"]
    first_loss = trainer.history.iteration_loss[0]
    assert steps[0] == f"Train Epoch: 1 [0/40 (0%)]\tLoss: {first_loss:.6f}"
    assert lines[-1].startswith("Epoch 1/1 loss=")
    assert format_step(0, 3200, 60000, 50, 938, 2.19286) == (
        "Train Epoch: 1 [3200/60000 (5%)]\tLoss: 2.192860")


def test_evaluate_can_print_pytorchs_test_line(capsys):
    trainer, X, y = setup()
    result = trainer.evaluate(X, y, verbose=True)
    correct = round(result["acc"] * 40)
    assert capsys.readouterr().out == (
        f"Test set: Average loss: {result['loss']:.4f}, Accuracy: {correct}/40 "
        f"({100 * correct / 40:.0f}%)\n")
    assert format_test(0.92114, 8353, 10000) == (
        "Test set: Average loss: 0.9211, Accuracy: 8353/10000 (84%)")


def test_early_stopping_says_when_it_stopped_and_what_it_restored():
    stream = io.StringIO()
    trainer, X, y = setup()
    trainer.progress = ProgressLogger(stream=stream, bar=False)
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=10.0)   # never improves after 1
    trainer.fit(X, y, epochs=5, batch_size=8, callbacks=[stop])
    assert stop.stopped_epoch == 1 and stop.restored_epoch == 0
    assert stream.getvalue().splitlines()[-1] == (
        f"early stopping: loss did not improve for 0 epochs; stopped after epoch 2, restored "
        f"the weights of epoch 1 (loss={stop.best:.4f})")


def test_a_closed_stream_never_stops_training():
    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    trainer, X, y = setup()
    trainer.progress = ProgressLogger(stream=Closed(), bar=False)
    trainer.fit(X, y, epochs=3, batch_size=8)
    assert trainer.epoch == 3


def test_a_terminal_with_no_columns_gets_lines_not_an_invisible_bar():
    master, slave = os.openpty()              # a new pseudo-terminal has 0 rows and 0 columns
    try:
        with os.fdopen(slave, "w", closefd=False) as tty:
            assert tty.isatty() and os.get_terminal_size(slave).columns == 0
            logger = ProgressLogger(stream=tty)
            trainer, X, y = setup()
            trainer.progress = logger
            trainer.fit(X, y, epochs=1, batch_size=8)
            assert not logger.wants_steps    # no bar
        os.set_blocking(master, False)
        assert b"Epoch 1/1 loss=" in os.read(master, 65536)
    finally:
        os.close(master)
        os.close(slave)


def test_make_progress_table():
    assert make_progress(False) is None
    assert make_progress("log").bar is False and make_progress("bar").bar is True
    assert make_progress("lines").bar is False and make_progress("quiet") is None
    assert make_progress("auto").bar == "auto" and make_progress(True).bar == "auto"
    stream = io.StringIO()
    assert make_progress(stream).stream is stream
    with pytest.raises(ValueError, match="^Trainer: unknown progress 'loud'; choose one of"):
        make_progress("loud")
    with pytest.raises(TypeError, match="progress must be"):
        make_progress(3)
