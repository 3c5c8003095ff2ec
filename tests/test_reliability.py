"""Run folders and checkpoints under stress: a file a run did not write is never touched, a bad
checkpoint changes nothing and names its field, and every interrupted run can be finished.

Each test repeats a reproducer: a tampered or damaged checkpoint, a run killed at an awkward
moment (in-process by deleting what it had not written yet, and for real with SIGKILL), two
trainings into one folder, a config edited between checkpoint and resume, Ctrl-C, a closed
stdout, a malformed metrics.json. The subprocess tests keep to a tiny digits model.
"""
import contextlib
import copy
import csv
import gc
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import numpynn
from builders import blobs, make_trainer
from numpynn._helpers.io import exclusive_lock
from numpynn.cli import main
from numpynn.serialization import ModelFileError, read_npz, write_npz

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--hidden", "16", "--batch-size", "100", "--no-plots"]  # ~10 ms an epoch on digits
OUTPUTS = ("model.npz", "model-best.npz", "history.csv", "metrics.json", "summary.txt")
# a child process running the command line from this worktree; SLOW makes every atomic write
# linger between writing its temporary and renaming it, so that kills land inside writes
CHILD = [sys.executable, "-u", "-c",
         "import os, sys, time\n"
         "if os.environ.get('SLOW_WRITES'):\n"
         "    fsync = os.fsync\n"
         "    os.fsync = lambda fd: (time.sleep(0.04), fsync(fd))[1]\n"
         "from numpynn.cli import main\n"
         "sys.exit(main(sys.argv[1:]))"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
       "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_cli(*argv):
    """``main(argv)`` -> (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def child(*argv, slow=False, **kwargs):
    env = {**ENV, **({"SLOW_WRITES": "1"} if slow else {})}
    return subprocess.Popen([*CHILD, *map(str, argv)], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def files(run_dir):
    """Every file of a folder -> its bytes."""
    return {p.relative_to(run_dir).as_posix(): p.read_bytes()
            for p in sorted(Path(run_dir).rglob("*")) if p.is_file()}


def assert_same_model(a, b):
    for name, value in numpynn.load(a).params().items():
        np.testing.assert_array_equal(numpynn.load(b).params()[name], value, err_msg=name)
    for name, value in numpynn.load(a).buffers().items():
        np.testing.assert_array_equal(numpynn.load(b).buffers()[name], value, err_msg=name)


def edit_checkpoint(path, change):
    """Rewrite a checkpoint after ``change(meta, arrays)`` edited it in place."""
    arrays, meta = read_npz(path)
    change(meta, arrays)
    write_npz(path, arrays, meta)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A finished 2-epoch run and a straight 3-epoch run of the same settings."""
    root = tmp_path_factory.mktemp("runs")
    for name, epochs in (("two", 2), ("three", 3)):
        code, out, err = run_cli("train", "--epochs", epochs, *TINY, "--out", root / name)
        assert code == 0, err
    return root


@pytest.fixture
def run_dir(runs, tmp_path):
    """A private copy of the 2-epoch run."""
    return Path(shutil.copytree(runs / "two", tmp_path / "run"))


# -- 1. a checkpoint is data: it cannot redirect writes, switch saving off or name a stream ---
@pytest.mark.parametrize("key, field, value", [
    ("Checkpoint", "LAST", "VICTIM"),       # would make last.npz's path the victim's
    ("Checkpoint", "save_last", False),     # would switch checkpointing off silently
    ("ProgressLogger", "stream", "x"),      # was an AttributeError
])
def test_a_tampered_checkpoint_is_refused_and_touches_nothing(run_dir, tmp_path, key, field,
                                                              value):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    value = str(victim) if value == "VICTIM" else value
    checkpoint = run_dir / "checkpoints" / "last.npz"
    edit_checkpoint(checkpoint, lambda meta, arrays: meta["callbacks"][key]["values"].update(
        {field: value}))
    before = files(run_dir)
    code, out, err = run_cli("train", "--resume", run_dir, "--epochs", 3)
    assert code == 2
    assert f"{checkpoint}: checkpoint field callbacks.{key}" in err and field in err
    assert "Traceback" not in err
    assert victim.read_text() == "precious"
    assert files(run_dir) == before


def test_a_callback_restores_only_the_fields_it_declares():
    from numpynn.training.callbacks import Checkpoint, EarlyStopping, ProgressLogger
    saver = Checkpoint("somewhere")
    with pytest.raises(ValueError, match=r"unknown: \['LAST'\]"):
        saver.load_state_dict({"best": 1.0, "best_epoch": 0, "LAST": "/tmp/victim.txt"})
    assert saver.LAST == "last.npz" and saver.best is None
    with pytest.raises(ValueError, match=r"unknown: \['stream'\]"):
        ProgressLogger().load_state_dict({"stream": "x"})
    stop = EarlyStopping()
    for bad in ({"wait": -1}, {"wait": 2.5}, {"best": float("nan")}, {"best_epoch": True}):
        with pytest.raises((TypeError, ValueError)):
            stop.load_state_dict({**stop.state_dict(), "best": 0.5, "best_epoch": 0, **bad})
    assert (stop.best, stop.wait) == (None, 0)


def test_best_is_written_before_last(tmp_path):
    """Killed between the two, a run resumes from the epoch before and writes best.npz again."""
    trainer = make_trainer("adam", tmp_path)
    written = []
    trainer.save_checkpoint = lambda path: written.append(Path(path).name)
    rng = np.random.default_rng(2)
    trainer.fit(*blobs(rng, n=40), *blobs(rng, n=20), epochs=1, batch_size=16)
    assert written == ["best.npz", "last.npz"]


# -- 2. loading is a transaction: a bad field changes nothing and is named --------------------
def _drop_array(name):
    return lambda meta, arrays: arrays.pop(name)


def _set(*keys, value):
    def change(meta, arrays):
        target = meta
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return change


def _delete(key):
    return lambda meta, arrays: meta.pop(key)


CORRUPTIONS = {
    "missing optimizer array": (_drop_array("optimizer/state.0.W.exp_avg"), "optimizer"),
    "no layer_rngs": (_delete("layer_rngs"), "layer_rngs"),
    "no callbacks": (_delete("callbacks"), "callbacks"),
    "no model": (_delete("model"), "model"),
    "no history": (_delete("history"), "history"),
    "no epoch": (_delete("epoch"), "epoch"),
    "step_count -1": (_set("optimizer", "values", "step_count", value=-1), "optimizer"),
    "epoch -5": (_set("epoch", value=-5), "epoch"),
    "epoch 2.7": (_set("epoch", value=2.7), "epoch"),
    "epoch beyond history": (_set("epoch", value=1), "history"),
    "optimizer lr a string": (_set("optimizer", "values", "lr", value="fast"), "optimizer"),
    "amsgrad switched on": (_set("optimizer", "values", "amsgrad", value=True), "optimizer"),
    "other betas": (lambda meta, arrays: arrays.update({"optimizer/betas": np.array([0.5, 0.9])}),
                    "optimizer"),
    "rng missing words": (_set("rng", value={"bit_generator": "PCG64"}), "rng"),
    "rng of another kind": (_set("rng", "bit_generator", value="MT19937"), "rng"),
    "layer rng for a layer without one": (_set("layer_rngs", value={"0": {}}), "layer_rngs"),
    "history one short": (lambda meta, arrays: meta["history"]["history"]["loss"].pop(),
                          "history"),
    "history not numbers": (_set("history", "history", "acc", value=["a", "b"]), "history"),
    "no step losses": (_drop_array("history/iteration_loss"), "history"),
    "weights with NaN": (lambda meta, arrays: arrays["model/0.W"].fill(np.nan), "model"),
    "weights of another shape": (lambda meta, arrays: arrays.update(
        {"model/0.W": np.zeros((2, 2), np.float32)}), "model"),
    "wait as text": (_set("callbacks", "EarlyStopping", "values", "wait", value="3"),
                     "callbacks.EarlyStopping"),
    "best arrays of another shape": (lambda meta, arrays: arrays.update(
        {"callbacks/EarlyStopping/best_arrays/0.W": np.zeros((2, 2), np.float32)}),
        "callbacks.EarlyStopping"),
    "schedule gamma changed": (_set("callbacks", "LRSchedulerCallback", "values", "gamma",
                                    value=0.1), "callbacks.LRSchedulerCallback"),
    "schedule rate negative": (_set("callbacks", "LRSchedulerCallback", "values", "last_lr",
                                    value=-1.0), "callbacks.LRSchedulerCallback"),
    "checkpoint state names a path": (_set("callbacks", "Checkpoint", "values", "directory",
                                           value="/"), "callbacks.Checkpoint"),
    "unknown field": (_set("hook", value="os.system"), "unknown field"),
    "stray array": (lambda meta, arrays: arrays.update({"optimizer/extra": np.zeros(3)}),
                    "arrays no field declares"),
    "packed state malformed": (_set("optimizer", "arrays", value="all"), "optimizer"),
    "run_info not plain": (_set("run_info", value={"lr": {"nested": 1}}), "run_info"),
}


def _snapshot(trainer):
    """Everything load_checkpoint may change, copied."""
    return {"arrays": {k: v.copy() for k, v in {**trainer.model.params(),
                                                **trainer.model.buffers()}.items()},
            "optimizer": copy.deepcopy(trainer.optimizer.state_dict()),
            "epoch": trainer.epoch, "history": copy.deepcopy(trainer.history.__dict__),
            "rng": trainer.rng.bit_generator.state, "layer_rngs": trainer.model.rng_states(),
            "callbacks": [copy.deepcopy(cb.state_dict()) for cb in trainer.callbacks],
            "run_info": dict(trainer.run_info)}


def _assert_same_snapshot(a, b):
    for name, value in a["arrays"].items():
        np.testing.assert_array_equal(b["arrays"][name], value, err_msg=name)
    for name, value in a["optimizer"].items():
        np.testing.assert_array_equal(b["optimizer"][name], value, err_msg=name)
    for first, second in zip(a["callbacks"], b["callbacks"]):
        assert first.keys() == second.keys()
        for name, value in first.items():
            np.testing.assert_array_equal(second[name], value, err_msg=name)
    rest = ("epoch", "history", "rng", "layer_rngs", "run_info")
    assert {k: a[k] for k in rest} == {k: b[k] for k in rest}


@pytest.fixture(scope="module")
def checkpoint_pair(tmp_path_factory):
    """A 2-epoch checkpoint of one trainer, and the data to train another one epoch."""
    folder = tmp_path_factory.mktemp("ckpt")
    rng = np.random.default_rng(5)
    data = (*blobs(rng, n=60), *blobs(rng, n=20))
    make_trainer("adam", folder, patience=3).fit(*data, epochs=2, batch_size=16)
    return folder / "last.npz", data


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_bad_checkpoint_is_refused_naming_the_field_and_changes_nothing(
        checkpoint_pair, tmp_path, corruption):
    source, data = checkpoint_pair
    change, field = CORRUPTIONS[corruption]
    bad = tmp_path / "bad.npz"
    shutil.copy(source, bad)
    edit_checkpoint(bad, change)
    trainer = make_trainer("adam", tmp_path / "other", patience=3)
    trainer.fit(*data, epochs=1, batch_size=16)   # a state unlike the file's
    before = _snapshot(trainer)
    with pytest.raises(ModelFileError) as info:
        trainer.load_checkpoint(bad)
    assert str(info.value).startswith(f"{bad}: ") and field in str(info.value)
    _assert_same_snapshot(before, _snapshot(trainer))


def test_the_untouched_checkpoint_loads(checkpoint_pair, tmp_path):
    """The control of the test above: the same file, unedited, loads and changes the state."""
    source, data = checkpoint_pair
    trainer = make_trainer("adam", tmp_path, patience=3)
    trainer.fit(*data, epochs=1, batch_size=16)
    trainer.load_checkpoint(source)
    assert trainer.epoch == 2 and len(trainer.history.epoch) == 2


# -- 3. every interrupted run can be finished with the command its messages name --------------
def test_a_run_killed_after_its_last_checkpoint_writes_its_model_on_resume(run_dir, runs):
    for name in OUTPUTS:   # killed after the last epoch's checkpoint, before model.npz
        (run_dir / name).unlink()
    code, out, err = run_cli("evaluate", run_dir)
    assert code == 2 and f"continue it with numpynn train --resume {run_dir}" in err
    code, out, err = run_cli("train", "--epochs", 2, *TINY, "--out", run_dir)
    assert code == 2 and f"continue it with --resume {run_dir}" in err
    code, out, err = run_cli("train", "--resume", run_dir, "--epochs", 2, "--no-plots")
    assert code == 0, err
    assert out.startswith(f"finishing {run_dir}: its training ended after epoch 2")
    for name in OUTPUTS:
        assert (run_dir / name).is_file(), name
    assert_same_model(runs / "two" / "model.npz", run_dir / "model.npz")
    assert_same_model(runs / "two" / "model-best.npz", run_dir / "model-best.npz")
    assert (run_dir / "history.csv").read_bytes() == (runs / "two" / "history.csv").read_bytes()
    assert run_cli("evaluate", run_dir)[0] == 0


def test_an_early_stopped_run_finishes_without_training_further(tmp_path):
    settings = ["--epochs", 30, "--early-stopping", 1, "--lr", "0.05", *TINY]
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    for folder in (straight, killed):
        assert run_cli("train", *settings, "--out", folder)[0] == 0
    epochs = json.loads((straight / "metrics.json").read_text())["epochs"]
    assert epochs < 30   # it did stop early
    for name in OUTPUTS:
        (killed / name).unlink()
    code, out, err = run_cli("train", "--resume", killed, "--no-plots")
    assert code == 0, err
    assert out.startswith(f"finishing {killed}")
    assert_same_model(straight / "model.npz", killed / "model.npz")   # the best weights
    assert json.loads((killed / "metrics.json").read_text())["epochs"] == epochs


def test_a_run_killed_before_its_first_checkpoint_restarts_from_epoch_0(run_dir, runs):
    shutil.rmtree(run_dir / "checkpoints")
    for name in OUTPUTS:
        (run_dir / name).unlink()
    code, out, err = run_cli("train", "--resume", run_dir, "--epochs", 3, "--no-plots")
    assert code == 0, err
    assert out.startswith(f"{run_dir} has no checkpoint yet; training from epoch 0")
    assert_same_model(runs / "three" / "model.npz", run_dir / "model.npz")


def test_stale_temporaries_are_removed_when_a_run_folder_is_opened(run_dir):
    stale = [run_dir / ".model.npz.k2j4h_9x.part",
             run_dir / "checkpoints" / ".last.npz.a1b2c3d4.part"]
    kept = [run_dir / "notes.part", run_dir / ".hidden.part", run_dir / "sub" / ".x.a1b2c3d4.part"]
    for path in stale + kept:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"half a file")
    assert run_cli("train", "--resume", run_dir, "--epochs", 3, "--no-plots")[0] == 0
    assert not any(path.exists() for path in stale)
    assert all(path.read_bytes() == b"half a file" for path in kept)


def test_a_closed_stdout_never_stops_training(tmp_path):
    """``numpynn train | head -1``: the reader leaves after the first line."""
    run_dir = tmp_path / "piped"
    proc = child("train", "--epochs", 30, *TINY, "--out", run_dir)
    first = proc.stdout.readline()
    proc.stdout.close()   # what head does after one line
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0, err
    assert first.startswith("digits: ") and "Traceback" not in err
    assert len(read_rows(run_dir / "history.csv")) == 30 and (run_dir / "model.npz").is_file()


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# -- 4. one run per folder ------------------------------------------------------------------
def test_a_folder_in_use_is_refused_and_left_alone(run_dir, tmp_path):
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    with exclusive_lock(run_dir / ".lock"), exclusive_lock(fresh / ".lock"):
        before = files(run_dir)
        for argv in (["--resume", run_dir, "--epochs", 3], ["--out", fresh, "--epochs", 1]):
            code, out, err = run_cli("train", *argv)
            assert code == 2
            first, help_line = err.strip().splitlines()
            assert f"process {os.getpid()} is writing this run folder" in first
            assert help_line.strip().startswith("help: ")
        assert files(run_dir) == before
    assert [p.name for p in fresh.iterdir()] == [".lock"]


def test_a_dead_holders_lock_is_taken_over(run_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom numpynn._helpers.io import exclusive_lock"
         "\nwith exclusive_lock(sys.argv[1]):\n    print('locked', flush=True)\n"
         "    time.sleep(120)", str(run_dir / ".lock")],
        env=ENV, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "locked\n"
    assert run_cli("train", "--resume", run_dir, "--epochs", 3, "--no-plots")[0] == 2
    holder.kill()
    holder.wait()
    assert (run_dir / ".lock").read_text().strip() == str(holder.pid)   # the dead pid stays
    code, out, err = run_cli("train", "--resume", run_dir, "--epochs", 3, "--no-plots")
    assert code == 0, err


def test_two_trainings_into_one_folder_one_is_refused(tmp_path):
    run_dir = tmp_path / "same"
    procs = [child("train", "--epochs", 20, *TINY, "--out", run_dir) for _ in range(2)]
    results = [(proc.wait(timeout=120), proc.stdout.read(), proc.stderr.read())
               for proc in procs]
    assert sorted(code for code, _, _ in results) == [0, 2], results
    refused = next(err for code, _, err in results if code == 2)
    assert ("is writing this run folder" in refused or "already holds a run" in refused)
    assert "Traceback" not in refused
    rows = read_rows(run_dir / "history.csv")   # one consistent run
    assert [int(r["epoch"]) for r in rows] == list(range(20))
    assert json.loads((run_dir / "metrics.json").read_text())["epochs"] == 20
    numpynn.load(run_dir / "model.npz")
    assert not list(run_dir.rglob("*.part"))


# -- 5. a resume never shows one setting and trains with another ------------------------------
def test_resume_refuses_a_config_edited_since_the_checkpoint(run_dir):
    config = run_dir / "config.toml"
    config.write_text(config.read_text().replace("lr = 0.001", "lr = 0.5"))
    before = files(run_dir)
    code, out, err = run_cli("train", "--resume", run_dir, "--epochs", 3)
    assert code == 2 and out == ""
    assert "config.toml was edited since the checkpoint: lr = 0.5 (checkpoint: 0.001)" in err
    assert "help: put back the checkpoint's value" in err
    assert files(run_dir) == before


def test_a_new_total_of_epochs_in_config_toml_is_applied_and_recorded(run_dir):
    config = run_dir / "config.toml"
    config.write_text(config.read_text().replace("epochs = 2", "epochs = 3"))
    code, out, err = run_cli("train", "--resume", run_dir, "--no-plots")
    assert code == 0, err
    assert [float(r["lr"]) for r in read_rows(run_dir / "history.csv")] == [0.001] * 3
    assert "epochs = 3" in config.read_text()


# -- 6. Ctrl-C and a damaged metrics.json ----------------------------------------------------
def _ctrl_c():
    raise KeyboardInterrupt


def _ctrl_c_in_an_extension_import():
    # Ctrl-C while a compiled module initialises (the first `import scipy` of a run) reaches
    # Python as "ImportError: initialization failed" caused by the KeyboardInterrupt
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as err:
        raise ImportError("initialization failed") from err


@pytest.mark.parametrize("ctrl_c", [_ctrl_c, _ctrl_c_in_an_extension_import],
                         ids=["plain", "in-an-import"])
def test_ctrl_c_prints_one_line_and_the_run_resumes(tmp_path, runs, monkeypatch, ctrl_c):
    from numpynn.training.trainer import Trainer
    run_epoch = Trainer._run_epoch

    def interrupted(self, loop, epoch, val):
        if epoch == 1:
            ctrl_c()
        return run_epoch(self, loop, epoch, val)

    run_dir = tmp_path / "run"
    monkeypatch.setattr(Trainer, "_run_epoch", interrupted)
    code, out, err = run_cli("train", "--epochs", 3, *TINY, "--out", run_dir)
    assert code == 130
    assert err == f"numpynn train: interrupted; resume with numpynn train --resume {run_dir}\n"
    monkeypatch.setattr(Trainer, "_run_epoch", run_epoch)
    assert run_cli("train", "--resume", run_dir, "--no-plots")[0] == 0
    assert_same_model(runs / "three" / "model.npz", run_dir / "model.npz")


def test_an_import_error_of_its_own_is_not_taken_for_ctrl_c(tmp_path, monkeypatch):
    from numpynn.training.trainer import Trainer

    def broken(self, loop, epoch, val):
        raise ImportError("libfoo.so: cannot open shared object file")

    monkeypatch.setattr(Trainer, "_run_epoch", broken)
    with pytest.raises(ImportError, match="libfoo"):
        run_cli("train", "--epochs", 3, *TINY, "--out", tmp_path / "run")


def test_ctrl_c_in_a_real_process_exits_130(tmp_path):
    proc = child("train", "--epochs", 100000, *TINY, "--out", tmp_path / "run")
    proc.stdout.readline()
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert proc.stderr.read().strip().splitlines() == [
        f"numpynn train: interrupted; resume with numpynn train --resume {tmp_path / 'run'}"]


def _numpy_savez_module():
    """The module whose ``zipfile_factory`` ``np.savez`` calls (NumPy 2, and 1.x)."""
    try:
        import numpy.lib._npyio_impl as npyio
    except ImportError:
        import numpy.lib.npyio as npyio
    return npyio


def test_ctrl_c_during_a_checkpoint_write_finishes_the_file_then_stops(tmp_path, monkeypatch,
                                                                      python_sigint_handler):
    # The Ctrl-C that CI caught: a SIGINT right after np.savez opened its zip archive, before
    # the try that closes it. The archive, left open on the file that `with open` then closed,
    # printed "Exception ignored in: <function ZipFile.__del__ ...> ValueError: seek of closed
    # file" at exit, after numpynn's one line.
    npyio = _numpy_savez_module()
    real = npyio.zipfile_factory

    def ctrl_c_after_opening(*args, **kwargs):
        archive = real(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)   # Python's handler: KeyboardInterrupt, at once
        return archive

    monkeypatch.setattr(npyio, "zipfile_factory", ctrl_c_after_opening)
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    path = tmp_path / "last.npz"
    with pytest.raises(KeyboardInterrupt):
        write_npz(path, {"W": np.arange(6.0).reshape(2, 3)}, {"epoch": 3})
    gc.collect()   # an archive left open complains when it is collected
    assert unraisable == []
    arrays, meta = read_npz(path)   # the write finished before the Ctrl-C was raised
    assert meta == {"epoch": 3} and np.array_equal(arrays["W"], np.arange(6.0).reshape(2, 3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.npz"]   # no .part left


@pytest.mark.parametrize("text, message", [
    ('{"test_acc": 0.5}', "missing ['test_loss', 'epochs', 'seconds']"),
    ('{"test_acc": "high", "test_loss": 1, "epochs": 2, "seconds": 1}', "not numbers ['test_acc']"),
    ("[1, 2]", "expected a JSON object"),
    ("{", "not valid JSON"),
])
def test_summary_of_a_damaged_metrics_file_is_a_clear_error(run_dir, text, message):
    (run_dir / "metrics.json").write_text(text)
    code, out, err = run_cli("summary", run_dir)
    assert code == 2 and message in err and "Traceback" not in err
    assert f"help: numpynn train --resume {run_dir} writes it again" in err


# -- 7. kill -9 at random moments, then --resume: the same bits as a run never stopped ---------
def test_kill_9_during_checkpoint_writes_then_resume_is_bit_identical(tmp_path):
    settings = ["--epochs", 6, *TINY]
    straight = child("train", *settings, "--out", tmp_path / "straight")
    run_dir, moments, kills = tmp_path / "killed", random.Random(14), 0
    proc = child("train", *settings, "--out", run_dir, slow=True)
    for attempt in range(8):
        first = proc.stdout.readline()   # the folder and its config.toml exist from here
        if kills < 3 and first:
            time.sleep(moments.uniform(0.0, 0.8))
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            kills += 1
        else:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            break
        proc = child("train", "--resume", run_dir, "--no-plots", slow=True)
    assert kills == 3 and proc.returncode == 0
    assert straight.wait(timeout=120) == 0
    assert_same_model(tmp_path / "straight" / "model.npz", run_dir / "model.npz")
    assert_same_model(tmp_path / "straight" / "model-best.npz", run_dir / "model-best.npz")
    assert ((run_dir / "history.csv").read_bytes()
            == (tmp_path / "straight" / "history.csv").read_bytes())
    assert not list(run_dir.rglob("*.part"))
