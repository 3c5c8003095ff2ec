"""numpynn train / evaluate / summary end to end through ``numpynn.cli.main``, in temp folders."""
import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import numpynn
from numpynn.cli import main
from numpynn.cli.run import PLOTS, read_history

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
SMALL = ["--hidden", "16", "--lr", "0.01"]  # a tiny digits model: fast runs
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FINAL_LINE = re.compile(r"^test_acc=(\d\.\d{4}) test_loss=(\d+\.\d{4}) \(run folder: (.+)\)$")


def run_cli(*argv):
    """``main(argv)`` -> (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One 3-epoch digits run shared by the read-only tests."""
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    code, out, err = run_cli("train", "--epochs", 3, *SMALL, "--out", run_dir)
    return run_dir, code, out, err


def test_train_writes_a_complete_run_folder(digits_run):
    run_dir, code, out, err = digits_run
    assert code == 0, err
    match = FINAL_LINE.match(out.strip().splitlines()[-1])
    assert match and Path(match.group(3)) == run_dir
    for name in ("config.toml", "history.csv", "model.npz", "model-best.npz", "summary.txt",
                 "metrics.json", "checkpoints/last.npz", "checkpoints/best.npz", *PLOTS):
        assert (run_dir / name).is_file(), name
    for name in PLOTS:
        head = (run_dir / name).read_bytes()
        assert head.startswith(PNG_MAGIC) and len(head) > 5000, name
    with open(run_dir / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "acc", "val_loss", "val_acc", "lr"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert all(0 <= float(r["val_acc"]) <= 1 and float(r["loss"]) > 0 for r in rows)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert f"{metrics['test_acc']:.4f}" == match.group(1)
    assert metrics["test_acc"] > 0.6  # 3 epochs of a 64-16-10 net on digits: far above 0.1
    model = numpynn.load(run_dir / "model.npz")
    assert [type(layer).__name__ for layer in model] == ["Normalize", "Linear", "ReLU", "Linear"]
    assert model.task == "multiclass" and model.classes == [str(d) for d in range(10)]
    assert "Epoch 3/3" in out  # plain progress lines when stdout is not a terminal


def test_the_saved_model_predicts_on_raw_loader_output_with_the_runs_test_accuracy(digits_run):
    """The preprocessing travels with the model: nn.load + predict on data.load's raw rows
    gives the run's test accuracy exactly (not the 80 % of a model without its
    standardisation)."""
    run_dir = digits_run[0]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    model = numpynn.load(run_dir / "model.npz")
    assert not model.training                              # nn.load: evaluation mode
    _, _, X_test, y_test = numpynn.data.load("digits")
    assert np.mean(model.predict(X_test) == y_test) == metrics["test_acc"]
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_predict_reads_npy_csv_and_images_and_prints_class_names(digits_run, tmp_path):
    run_dir = digits_run[0]
    _, _, X_test, y_test = numpynn.data.load("digits")
    model = numpynn.load(run_dir / "model.npz")
    np.save(tmp_path / "x.npy", X_test[:5])
    code, out, err = run_cli("predict", run_dir, "--input", tmp_path / "x.npy", "--top", 2,
                             "--out", tmp_path / "preds.csv")
    assert code == 0, err
    lines = out.splitlines()
    proba = model.predict_proba(X_test[:5])
    for i, line in enumerate(lines):
        best, second = proba[i].argsort()[::-1][:2]
        assert line == (f"sample {i}: {best} (p={proba[i, best]:.4f}), "
                        f"{second} (p={proba[i, second]:.4f})")
    with open(tmp_path / "preds.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["class_1"]) for r in rows] == list(model.predict(X_test[:5]))
    assert list(rows[0]) == ["sample", "class_1", "probability_1", "class_2", "probability_2"]
    (tmp_path / "x.csv").write_text("\n".join(",".join(map(str, row)) for row in X_test[:3]))
    code, out, err = run_cli("predict", run_dir / "model.npz", "--input", tmp_path / "x.csv")
    assert code == 0 and len(out.splitlines()) == 3, err
    from PIL import Image
    image = (X_test[0].reshape(8, 8) * 255).round().astype(np.uint8)
    Image.fromarray(image, mode="L").resize((32, 32)).convert("RGB").save(tmp_path / "d.png")
    code, out, err = run_cli("predict", run_dir, "--input", tmp_path / "d.png")
    assert code == 0 and out.startswith("sample 0: "), err
    (tmp_path / "bad.csv").write_text("1,2,3\n")
    code, out, err = run_cli("predict", run_dir, "--input", tmp_path / "bad.csv")
    assert code == 2 and "3 values per sample; the model takes 64" in err


def test_evaluate_best_without_validation_says_what_is_really_wrong(tmp_path):
    code, out, err = run_cli("train", "--epochs", 1, *SMALL, "--val-fraction", 0, "--out",
                             tmp_path / "noval")
    assert code == 0, err
    code, out, err = run_cli("evaluate", tmp_path / "noval", "--best")
    assert code == 2 and "the run kept no best model, since it had no validation set" in err
    assert "did not finish" not in err


def test_early_stopping_summary_reports_the_restored_epoch(tmp_path):
    code, out, err = run_cli("train", "--epochs", 30, *SMALL, "--lr", 0.5,
                             "--early-stopping", 1, "--out", tmp_path / "es")
    assert code == 0, err
    assert "early stopping: val_loss did not improve for 1 epochs; stopped after epoch" in out
    metrics = json.loads((tmp_path / "es" / "metrics.json").read_text())
    restored = metrics["restored_epoch"]
    history = read_history(tmp_path / "es" / "history.csv")
    summary = (tmp_path / "es" / "summary.txt").read_text()
    assert f"Restored epoch {restored} (early stopping" in summary
    assert f"val_loss={history['val_loss'][restored - 1]:.4f}" in summary


def test_evaluate_reproduces_the_final_test_metrics(digits_run):
    run_dir = digits_run[0]
    code, out, err = run_cli("evaluate", run_dir)
    assert code == 0, err
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert f"test_acc={metrics['test_acc']:.4f} test_loss={metrics['test_loss']:.4f}" in out
    assert "digits test set (898 samples, model.npz)" in out
    code, out, err = run_cli("evaluate", run_dir, "--best")
    assert code == 0 and "model-best.npz" in out, err


def test_evaluate_takes_a_model_whose_first_layer_is_not_linear(digits_run, tmp_path):
    """A model saved with nn.save that starts with Flatten (as image models do) evaluates."""
    import shutil
    run_dir = tmp_path / "flat"
    shutil.copytree(digits_run[0], run_dir)
    trained = numpynn.load(run_dir / "model.npz")
    numpynn.save(numpynn.Sequential(numpynn.Flatten(), *trained.layers), run_dir / "model.npz")
    code, out, err = run_cli("evaluate", run_dir)
    assert code == 0, err
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert f"test_acc={metrics['test_acc']:.4f}" in out


def test_log_quiet_and_print_every_give_the_courses_output(tmp_path):
    code, out, err = run_cli("train", "--epochs", 2, *SMALL, "--log", "quiet", "--out",
                             tmp_path / "q")
    assert code == 0, err
    assert "Epoch" not in out and out.strip().splitlines()[-1].startswith("test_acc=")
    code, out, err = run_cli("train", "--epochs", 1, *SMALL, "--batch-size", 100,
                             "--print-every", 3, "--log", "lines", "--out", tmp_path / "p")
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split("\t")[0] for line in lines if line.startswith("Train Epoch")] == [
        "Train Epoch: 1 [0/809 (0%)]", "Train Epoch: 1 [300/809 (33%)]",
        "Train Epoch: 1 [600/809 (67%)]"]
    assert re.fullmatch(r"Test set: Average loss: \d+\.\d{4}, Accuracy: \d+/898 \(\d+%\)",
                        lines[-2])
    code, out, err = run_cli("train", "--print-every", 0, "--out", tmp_path / "z")
    assert code == 2 and "--print-every must be >= 1; got 0" in err


def test_batchnorm_trains_at_a_batch_size_that_leaves_one_sample(tmp_path):
    """809 digits training samples at batch 8 leave one over; batch norm trains anyway."""
    code, out, err = run_cli("train", "--epochs", 1, *SMALL, "--batchnorm", "--batch-size", 8,
                             "--out", tmp_path / "bn")
    assert code == 0, err


def test_summary_prints_model_table_and_metrics(digits_run):
    run_dir = digits_run[0]
    code, out, err = run_cli("summary", run_dir)
    assert code == 0, err
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert "Total params: 1,210 (float32)" in out  # 64·16 + 16 + 16·10 + 10
    assert "Epochs trained: 3" in out
    assert f"test_acc={metrics['test_acc']:.4f}" in out
    history = read_history(run_dir / "history.csv")
    assert f"val_acc={history['val_acc'][-1]:.4f}" in out
    assert out == (run_dir / "summary.txt").read_text()


@pytest.mark.parametrize("extra", [
    [],                                                           # the defaults (Adam)
    ["--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.05", "--dropout", "0.2",
     "--lr-decay", "0.9", "--batchnorm"],                         # every kind of saved state
])
def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, extra):
    common = ["--hidden", "16", "--batch-size", "100", "--no-plots", *extra]
    assert run_cli("train", "--epochs", 6, *common, "--out", tmp_path / "straight")[0] == 0
    assert run_cli("train", "--epochs", 3, *common, "--out", tmp_path / "split")[0] == 0
    code, out, err = run_cli("train", "--resume", tmp_path / "split", "--epochs", 6, "--no-plots")
    assert code == 0, err
    assert out.startswith(f"resuming {tmp_path / 'split'} after epoch 3: ")
    straight = numpynn.load(tmp_path / "straight" / "model.npz")
    resumed = numpynn.load(tmp_path / "split" / "model.npz")
    for name, value in straight.params().items():
        np.testing.assert_array_equal(resumed.params()[name], value, err_msg=name)
    for name, value in straight.buffers().items():
        np.testing.assert_array_equal(resumed.buffers()[name], value, err_msg=name)
    assert (read_history(tmp_path / "split" / "history.csv")
            == read_history(tmp_path / "straight" / "history.csv"))
    assert "epochs = 6" in (tmp_path / "split" / "config.toml").read_text()


def test_config_file_with_a_flag_overriding_it(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('# a comment\ndataset = "digits-binary"\nhidden = [8, 4]\nepochs = 5\n'
                      'lr = 0.01\noptimizer = "sgd"\nmomentum = 0.9\n')
    code, out, err = run_cli("train", "--config", config, "--epochs", 2, "--no-plots",
                             "--out", tmp_path / "r")
    assert code == 0, err
    written = (tmp_path / "r" / "config.toml").read_text()
    for line in ('dataset = "digits-binary"', "hidden = [8, 4]", "epochs = 2", "lr = 0.01",
                 'optimizer = "sgd"', "momentum = 0.9"):
        assert line in written.splitlines()
    assert len(read_history(tmp_path / "r" / "history.csv")["loss"]) == 2
    assert not (tmp_path / "r" / "learning_curves.png").exists()  # --no-plots
    model = numpynn.load(tmp_path / "r" / "model.npz")
    assert [type(layer).__name__ for layer in model][-2:] == ["Linear", "Sigmoid"]  # BCE head
    assert model[-2].W.shape == (4, 1)


@pytest.mark.parametrize("argv, message", [
    (["train", "--dataset", "imagenet"], "unknown dataset 'imagenet'; choose one of: digits"),
    (["train", "--hidden", "0"], "Invalid hidden: 0"),
    (["train", "--hidden", "64,x"], "Invalid hidden: '64,x'"),
    (["train", "--lr", "-0.1"], "RunConfig: lr must be a finite number > 0; got -0.1"),
    (["train", "--activation", "rleu"], "unknown activation 'rleu'; choose one of: relu"),
    (["train", "--optimizer", "adamm"], "unknown optimizer 'adamm'; choose one of: sgd"),
    (["train", "--optimizer", "adam", "--momentum", "0.9", "--epochs", "1"],
     "optimizer 'adam' takes no momentum"),
    (["train", "--dataset", "digits", "--loss", "bce"], "loss 'bce' needs a two-class dataset"),
    (["train", "--config", "{tmp}/missing.toml"], "No such file"),
    (["train", "--config", "{tmp}/bad.toml"], "unknown key(s) learning_rate; valid keys: "),
    (["train", "--config", "{tmp}/deep.toml"], "{tmp}/deep.toml: TOML nested more than 32 levels"),
    (["train", "--resume", "{tmp}/nowhere"], "run folder {tmp}/nowhere does not exist"),
    (["evaluate", "{tmp}/nowhere"], "run folder {tmp}/nowhere does not exist"),
    (["summary", "{tmp}"], "is not a run folder: no config.toml"),
])
def test_bad_arguments_exit_2_with_a_one_line_error(tmp_path, capsys, argv, message):
    (tmp_path / "bad.toml").write_text("learning_rate = 0.1\n")
    (tmp_path / "deep.toml").write_text("hidden = " + "[" * 50_000 + "]" * 50_000 + "\n")
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    first, *rest = captured.err.splitlines()
    assert first.startswith(f"numpynn {argv[0]}: error: ")
    assert message.format(tmp=tmp_path) in first
    assert all(line.startswith("  ") for line in rest)  # only an indented help: line may follow
    assert "Traceback" not in captured.err and captured.out == ""


def test_run_config_checks_every_field_once_with_the_shared_checks():
    from numpynn.cli import config

    assert set(config._TYPES) | set(config._NUMBERS) == set(config.FIELD_NAMES)
    assert not set(config._TYPES) & set(config._NUMBERS)
    cfg = config.RunConfig(lr=1, epochs=np.int64(3))
    assert type(cfg.lr) is float and type(cfg.epochs) is int


@pytest.mark.parametrize("changes, error, message", [
    ({"lr": float("nan")}, ValueError, r"^RunConfig: lr must be a finite number > 0; got nan$"),
    ({"reg": float("inf")}, ValueError, r"^RunConfig: reg must be a finite number >= 0; got inf$"),
    ({"dropout": 1.0}, ValueError, r"^RunConfig: dropout must be in \[0, 1\); got 1\.0$"),
    ({"epochs": 2.0}, TypeError, r"^RunConfig: epochs must be an integer >= 1; got 2\.0\nhelp: "),
    ({"n_train": 1}, ValueError, r"^RunConfig: n_train must be an integer >= 2; got 1$"),
    ({"batchnorm": 1}, TypeError, r"^RunConfig: batchnorm must be a bool; got 1$"),
    ({"hidden": [8, 2.5]}, TypeError, r"^RunConfig: hidden\[1\] must be an integer; got 2\.5$"),
    ({"activation": "rleu"}, ValueError, r"^RunConfig: unknown activation 'rleu'; choose one of"),
])
def test_run_config_errors_name_the_field(changes, error, message):
    from numpynn.cli.config import RunConfig

    with pytest.raises(error, match=message):
        RunConfig(**changes)


def test_a_nan_learning_rate_in_a_config_file_is_an_error():
    from numpynn.cli.config import RunConfig

    with pytest.raises(ValueError, match=r"lr must be a finite number > 0; got nan"):
        RunConfig.from_toml_text("lr = nan\n")


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--epochs", "ten"])
    assert info.value.code == 2
    assert "invalid int value: 'ten'" in capsys.readouterr().err


def test_resume_takes_only_epochs(digits_run, capsys):
    assert main(["train", "--resume", str(digits_run[0]), "--lr", "0.1"]) == 2
    assert "--resume takes its settings from" in capsys.readouterr().err
    assert main(["train", "--resume", str(digits_run[0]), "--epochs", "2"]) == 2
    assert "already trained 3 epochs; got --epochs 2" in capsys.readouterr().err


def test_existing_run_folder_is_not_overwritten(digits_run, capsys):
    assert main(["train", "--epochs", "1", "--out", str(digits_run[0])]) == 2
    assert "already holds a run" in capsys.readouterr().err


@pytest.mark.parametrize("experiment, dataset", [("mnist-sigmoid.toml", "mnist"),
                                                 ("cifar10.toml", "cifar10")])
def test_missing_datasets_fail_with_the_loaders_message(tmp_path, monkeypatch, capsys,
                                                        experiment, dataset):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NUMPYNN_DATA", raising=False)
    argv = ["train", "--config", str(EXPERIMENTS / experiment), "--no-download",
            "--data-dir", str(tmp_path), "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"numpynn train: error: {dataset}: data files not found")
    assert "--data-dir DIR" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_fashion_mnist_subset_trains_through_the_command(tmp_path):
    """A real Fashion-MNIST run on 5,000 training images (CI installs the Debian package)."""
    fashion_run = tmp_path / "fashion"
    if not FASHION_DIR.is_dir():
        pytest.fail(f"Fashion-MNIST not found in {FASHION_DIR}\nhelp: sudo apt-get install "
                    "dataset-fashion-mnist (scripts/test.sh does this)")
    code, out, err = run_cli("train", "--dataset", "fashion-mnist", "--n-train", 5000,
                             "--epochs", 1, "--hidden", "64", "--batch-size", 64,
                             "--no-download", "--out", fashion_run)
    assert code == 0, err
    assert "4500 train / 500 val / 10000 test" in out
    metrics = json.loads((fashion_run / "metrics.json").read_text())
    assert metrics["test_acc"] > 0.7  # one epoch on 4,500 images: ~0.78; chance is 0.1
    assert (fashion_run / "first_layer_weights.png").stat().st_size > 5000


def test_console_script_runs(tmp_path):
    script = Path(sys.executable).with_name("numpynn")
    assert script.is_file(), "the numpynn console script is not installed: pip install -e ."
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run([str(script), "train", "--epochs", "1", "--out", str(tmp_path / "r")],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert FINAL_LINE.match(result.stdout.strip().splitlines()[-1])
    assert (tmp_path / "r" / "model.npz").is_file()


def test_train_help_lists_the_registries(capsys):
    from numpynn.functional import ACTIVATIONS
    from numpynn.optim import OPTIMIZERS

    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # undo argparse's line wrapping
    for name in [*ACTIVATIONS, *OPTIMIZERS, "digits-binary", "fashion-mnist", "cifar10"]:
        assert name in text, name


def test_run_config_toml_round_trip_and_types():
    from numpynn.cli.config import RunConfig

    cfg = RunConfig(dataset="digits-binary", hidden="32,16", lr=1, early_stopping=4,
                    weight_decay=0)
    assert cfg.hidden == (32, 16) and isinstance(cfg.lr, float) and cfg.weight_decay == 0.0
    text = cfg.to_toml(header="test")
    assert "hidden = [32, 16]" in text and "lr = 1.0" in text and "early_stopping = 4" in text
    assert RunConfig.from_toml_text(text) == cfg
    assert RunConfig.from_toml_text(text, overrides={"epochs": 3}).epochs == 3
    assert RunConfig(hidden="none").hidden == () == RunConfig(hidden=[]).hidden
    with pytest.raises(TypeError, match=r"^RunConfig: epochs must be an integer >= 1; got True$"):
        RunConfig(epochs=True)
    with pytest.raises(ValueError, match=r"^RunConfig: lr_decay must be in \(0, 1\]; got 1\.5$"):
        RunConfig(lr_decay=1.5)
    with pytest.raises(ValueError, match="early_stopping watches val_loss"):
        RunConfig(early_stopping=3, val_fraction=0)
    with pytest.raises(ValueError, match="not valid TOML"):
        RunConfig.from_toml_text("epochs = = 3")
