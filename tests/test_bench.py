"""benchmarks (``python -m benchmarks``), numpynn.threads and the ``numpynn bench`` command.

No timing is asserted: the smoke run checks that both frameworks ran the same model and that
the printed and written figures are consistent with each other; FLOP counts, summaries and the
profile's grouping are checked against hand-worked values.
"""
import ast
import contextlib
import cProfile
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import threadpoolctl
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

from benchmarks import compare, network, profile, scaling, trials
from benchmarks.handloop import HandLoop
from benchmarks.tables import RATIO_COLUMNS, SUMMARY_COLUMNS, _filled, render
from numpynn.cli import main
from numpynn.cli.commands.bench import NOT_A_CHECKOUT
from numpynn.models import mlp
from numpynn.threads import thread_env

# 784·256 + 256·128 + 128·64 + 64·10 = 200704 + 32768 + 8192 + 640
COURSE_MLP_WEIGHTS = 242_304
REPOSITORY = Path(__file__).resolve().parents[1]


def run_cli(*argv):
    """``main(argv)`` -> (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def blas_threads():
    """Thread counts of the loaded BLAS libraries, as threadpoolctl reports them."""
    return [info["num_threads"] for info in threadpoolctl.threadpool_info()
            if info["user_api"] == "blas"]


def python(*argv, cwd=REPOSITORY, **kw):
    """``python ARGV`` in a fresh interpreter (PYTHONPATH unset) -> CompletedProcess."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([sys.executable, *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, **kw)


def option_names(help_text):
    """The ``--long`` options a ``--help`` text lists."""
    return sorted({word.strip("[],") for word in help_text.split()
                   if word.startswith(("--", "[--"))})


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One ``python -m benchmarks --smoke --json FILE`` run in the repository's root, as CI and a
    reader run it, shared by the smoke tests."""
    path = tmp_path_factory.mktemp("bench") / "smoke.json"
    proc = python("-m", "benchmarks", "--smoke", "--json", path)
    return proc.returncode, proc.stdout, proc.stderr, json.loads(path.read_text())


# -- the smoke run ---------------------------------------------------------------------------
@pytest.mark.torch
def test_smoke_prints_every_column_for_both_frameworks(smoke):
    code, out, err, _ = smoke
    assert code == 0, err
    for header, _, _ in SUMMARY_COLUMNS + RATIO_COLUMNS:
        assert header in out
    rows = [line.split() for line in out.splitlines()]
    assert {row[1] for row in rows if row[:1] == ["sgd-64"] and len(row) > 2} >= {
        "numpynn", "numpy", "torch"}
    assert "synthetic" in out.splitlines()[0]          # the data are labelled
    for what in trials.STARTUP_SNIPPETS:
        assert what in out


@pytest.mark.torch
def test_smoke_json_has_the_expected_keys(smoke):
    _, _, _, results = smoke
    assert set(results) >= {"data", "settings", "frameworks", "machine", "startup", "trials",
                            "summary", "ratios"}
    assert results["frameworks"] == ["numpynn", "numpy", "torch"]
    assert results["data"]["source"] == "synthetic"
    readings = results["machine"]["matmul_peak_readings"]      # before and after the trials
    assert len(readings) == 2 and min(readings) > 0
    assert results["machine"]["matmul_peak_gflops"] == max(readings)
    assert {row["config"] for row in results["summary"]} == {"sgd-64", "adam-256"}
    for row in results["summary"]:
        assert set(row) >= {"seconds_per_epoch", "samples_per_s", "peak_rss_mib", "test_acc",
                            "gflops", "peak_fraction"}
    assert [row["config"] for row in results["ratios"]] == ["sgd-64", "adam-256"]


@pytest.mark.torch
def test_smoke_trials_alternate_and_train_the_same_model(smoke):
    _, _, _, results = smoke
    trials = results["trials"]
    assert [t["trial"]["framework"] for t in trials] == ["numpynn", "numpy", "torch"] * 2
    threads_used = results["settings"]["threads"]
    for t in trials:
        assert t["weights"] == COURSE_MLP_WEIGHTS       # counted in each framework's model
        assert t["n_train"] == 512 and len(t["epoch_seconds"]) == 1
        assert t["peak_rss_mib"] > 0 and 0 <= t["test_acc"] <= 1
        assert [b["num_threads"] for b in t["blas"]] == [threads_used]
    assert all(t["torch_threads"] == threads_used for t in trials[2::3])
    for first in (0, 3):                                # same start and order: same training
        losses = [t["train_loss"] for t in trials[first:first + 3]]
        np.testing.assert_allclose(losses, losses[0], rtol=1e-4)


def test_smoke_summary_is_consistent_with_its_trials(smoke):
    _, _, _, results = smoke
    peak = results["machine"]["matmul_peak_gflops"]
    by_key = {(t["config"], t["trial"]["framework"]): t for t in results["trials"]}
    for row in results["summary"]:
        trial = by_key[row["config"], row["framework"]]
        np.testing.assert_allclose(row["seconds_per_epoch"], trial["epoch_seconds"][0], rtol=1e-12)
        np.testing.assert_allclose(row["samples_per_s"], 512 / row["seconds_per_epoch"],
                                   rtol=1e-12)
        np.testing.assert_allclose(row["gflops"], 6 * COURSE_MLP_WEIGHTS * row["samples_per_s"]
                                   / 1e9, rtol=1e-12)
        np.testing.assert_allclose(row["peak_fraction"], row["gflops"] / peak, rtol=1e-12)


@pytest.mark.torch
def test_smoke_ratios_follow_from_the_summary(smoke):
    _, _, _, results = smoke
    seconds = {(row["config"], row["framework"]): row["seconds_per_epoch"]
               for row in results["summary"]}
    for row in results["ratios"]:
        ours, loop, theirs = (seconds[row["config"], name] for name in ("numpynn", "numpy", "torch"))
        np.testing.assert_allclose(row["speed"], theirs / ours, rtol=1e-12)
        np.testing.assert_allclose(row["overhead"], ours / loop - 1, rtol=1e-12)
        np.testing.assert_allclose(row["loop_speed"], theirs / loop, rtol=1e-12)


def test_smoke_reports_one_progress_line_per_trial_with_the_time_left(smoke):
    _, _, err, results = smoke
    lines = [line for line in err.splitlines() if line.startswith("[bench] trial ")]
    total = len(results["trials"])
    assert [line.split(":")[0] for line in lines] == [f"[bench] trial {k}/{total}"
                                                      for k in range(1, total + 1)]
    assert lines[0].endswith(", repeat 1/1") and all("left" in line for line in lines[1:])


def test_startup_times_time_the_import_users_get_with_bytecode_cached(monkeypatch):
    # PYTHONDONTWRITEBYTECODE would make every timed import compile numpynn's modules anew
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    calls = []

    def fake_run(cmd, env=None):
        calls.append((cmd, env))
        return subprocess.CompletedProcess(cmd, 0, stdout="0.001\n", stderr="")

    monkeypatch.setattr(trials, "_run", fake_run)
    times = trials.startup_times(repeats=3)
    assert set(times) >= set(trials.STARTUP_SNIPPETS)
    assert all(env is not None and "PYTHONDONTWRITEBYTECODE" not in env for _, env in calls)
    assert all(env["PATH"] == os.environ["PATH"] for _, env in calls)   # the rest is kept
    commands = [cmd for cmd, _ in calls]
    for label in trials.STARTUP_SNIPPETS:   # one untimed run, then the timed repeats
        code = f"; {trials.STARTUP_SNIPPETS[label]}; print("
        runs = [i for i, cmd in enumerate(commands) if code in cmd[2]]
        assert len(runs) == 4 and runs == list(range(runs[0], runs[0] + 4))


def test_trial_progress_estimates_the_time_left_from_the_trials_done():
    lines, clock = [], iter([100.0, 110.0, 130.0, 250.0]).__next__  # trials of 10, 20, 120 s
    progress = compare.TrialProgress(4, lines.append, clock=clock)
    for name in "abcd":
        progress.starting(name)
    assert lines == ["trial 1/4: a",
                     "trial 2/4: b; 10 s so far, about 30 s left",   # 10 s per trial, 3 to go
                     "trial 3/4: c; 30 s so far, about 30 s left",   # 15 s per trial, 2 to go
                     "trial 4/4: d; 2.5 min so far, about 50 s left"]  # 50 s per trial, 1 to go


def test_ratios_without_the_hand_loop_leave_its_columns_out():
    summary = [{"config": "sgd-64", "framework": name, "batch_size": 64,
                "seconds_per_epoch": s, "peak_rss_mib": 100.0}
               for name, s in (("numpynn", 1.0), ("torch", 1.5))]
    (row,) = compare.ratios(summary)
    assert row["speed"] == 1.5 and row["overhead"] is None and row["loop_speed"] is None
    text = render(_filled(RATIO_COLUMNS, [row]), [row])
    assert "speed torch/numpynn" in text and "hand loop" not in text


# -- the entry points ------------------------------------------------------------------------
def test_numpynn_bench_delegates_to_the_checkouts_benchmark_from_any_directory(
        tmp_path, monkeypatch):
    """``numpynn bench`` in a checkout is ``python -m benchmarks``: the same options, the same
    run; the workers find ``benchmarks`` though the caller's directory is elsewhere."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("bench", "--smoke", "--frameworks", "numpynn", "--configs",
                             "sgd-64", "--json", "out.json")    # relative to the caller
    assert code == 0, err
    assert "[bench] trial 1/1: sgd-64 numpynn, repeat 1/1\n" in err
    for header, _, _ in SUMMARY_COLUMNS:
        assert header in out
    results = json.loads((tmp_path / "out.json").read_text())
    assert [(row["config"], row["framework"]) for row in results["summary"]] == [
        ("sgd-64", "numpynn")]
    assert results["trials"][0]["weights"] == COURSE_MLP_WEIGHTS


def test_numpynn_bench_has_the_options_of_python_m_benchmarks():
    ours = python("-c", "from numpynn.cli import main; main(['bench', '--help'])")
    theirs = python("-m", "benchmarks", "--help")
    assert ours.returncode == theirs.returncode == 0, ours.stderr + theirs.stderr
    assert option_names(ours.stdout) == option_names(theirs.stdout)
    assert {"--configs", "--threads", "--epochs", "--repeats", "--frameworks", "--synthetic",
            "--smoke", "--scaling", "--profile", "--json", "--markdown"} <= set(
        option_names(theirs.stdout))


def test_numpynn_bench_outside_a_checkout_names_the_fix_in_one_line(tmp_path):
    """An installed numpynn without the repository around it: one line, exit code 2, whatever
    options were given."""
    shutil.copytree(REPOSITORY / "numpynn", tmp_path / "numpynn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import sys, numpynn; from numpynn.cli import main; "
            "assert numpynn.__file__.startswith(sys.argv[1]), numpynn.__file__; "
            "sys.exit(main(sys.argv[2:]))")
    proc = python("-c", code, tmp_path, "bench", "--smoke", "--markdown", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert proc.stderr.splitlines() == [f"numpynn bench: error: {NOT_A_CHECKOUT}"]
    assert "python -m benchmarks" in NOT_A_CHECKOUT


def test_python_m_benchmarks_reports_a_bad_value_without_a_traceback():
    proc = python("-m", "benchmarks", "--configs", "sgd-32")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.splitlines() == [
        "python -m benchmarks: error: unknown benchmark configuration 'sgd-32'; choose one of: "
        "sgd-1, sgd-64, adam-64, sgd-256, adam-256",
        "  help: python -m benchmarks --help lists the options"]


def test_no_two_benchmark_modules_import_each_other_even_inside_functions():
    modules = {path.stem: path for path in (REPOSITORY / "benchmarks").glob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {n.split(".")[1] for n in found
                       if n.startswith("benchmarks.") and n.split(".")[1] in modules} - {name}
    order = []                                  # Kahn's algorithm: it empties an acyclic graph
    while graph:
        free = sorted(name for name, needs in graph.items() if not needs - set(order))
        assert free, f"import cycle among {sorted(graph)}"
        order += free
        for name in free:
            del graph[name]
    assert order.index("network") < order.index("handloop") < order.index("trials")


def _trained_by_the_trainer(optimizer):
    """Two epochs of the benchmark's Trainer on 300 synthetic samples, a small MLP."""
    X, y, _, _ = trials.synthetic_data(300, 10, seed=1)
    trial = trials.Trial("numpynn", optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 1e-3,
                        batch_size=64, hidden=(32, 16))
    trainer = trials.numpynn_trainer(trial)
    trainer.fit(X, y, epochs=2, batch_size=64)
    return X, y, trial, trainer


def _assert_same_end(loss, weights, biases, trainer):
    np.testing.assert_allclose(loss, trainer.history.history["loss"][-1], rtol=1e-5)
    ours = [layer for layer in trainer.model if hasattr(layer, "W")]
    for k, layer in enumerate(ours):
        np.testing.assert_allclose(weights[k], layer.W, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(biases[k], layer.b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_hand_loop_trains_exactly_like_the_trainer(optimizer):
    """The floor computes what numpynn computes: same start, order and rules, same weights."""
    X, y, trial, trainer = _trained_by_the_trainer(optimizer)
    weights, biases = zip(*network.initial_weights(trial.hidden, trial.seed))
    loop = HandLoop(list(weights), list(biases), optimizer, trial.lr, 64)
    rng = np.random.default_rng(0)
    losses = [loop.epoch(X, y, rng, 64) for _ in range(2)]
    _assert_same_end(losses[-1], loop.W, loop.b, trainer)


@pytest.mark.torch
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_torch_loop_trains_exactly_like_the_trainer(optimizer):
    """The benchmark's PyTorch side trains the same model: numpynn's initial weights, the
    Trainer's order of samples, torch.optim's rules, and it ends with the Trainer's weights."""
    X, y, trial, trainer = _trained_by_the_trainer(optimizer)
    start = network.initial_weights(trial.hidden, trial.seed)
    model = trials.torch_mlp(trial.hidden, start)
    np.testing.assert_array_equal(model[0].weight.detach().numpy().T, start[0][0])
    optimizer = trials.torch_optimizer(model, trial)
    rng = np.random.default_rng(0)
    losses = [trials.torch_epoch(model, optimizer, torch.from_numpy(X), torch.from_numpy(y),
                                torch.from_numpy(rng.permutation(len(X))), 64) for _ in range(2)]
    linears = model[::2]
    _assert_same_end(losses[-1], [la.weight.detach().numpy().T for la in linears],
                     [la.bias.detach().numpy() for la in linears], trainer)


def test_unknown_framework_is_a_usage_error():
    code, out, err = run_cli("bench", "--frameworks", "numpynn,jax")
    assert code == 2 and out == ""
    assert "unknown framework 'jax'; choose one of: numpynn, numpy, torch" in err


def test_unknown_config_is_a_usage_error():
    code, out, err = run_cli("bench", "--configs", "sgd-32")
    assert code == 2 and out == ""
    assert "unknown benchmark configuration 'sgd-32'; choose one of: sgd-1, sgd-64" in err


# -- FLOPs -------------------------------------------------------------------------------------
@pytest.mark.torch
def test_training_flops_is_six_per_weight_for_the_course_mlp():
    model = mlp(784, (256, 128, 64), 10, rng=0)
    torch_model = trials.torch_mlp((256, 128, 64))
    for form in (model, torch_model, (784, 256, 128, 64, 10)):
        assert network.count_weights(form) == COURSE_MLP_WEIGHTS
        assert network.training_flops(form) == 6 * COURSE_MLP_WEIGHTS == 1_453_824
    # biases are not weights: the model has 242,304 + 256 + 128 + 64 + 10 parameters
    assert model.num_params() == COURSE_MLP_WEIGHTS + 458


# -- summaries, hand-worked --------------------------------------------------------------------
def _trial(framework, seconds, rss, acc=0.5):
    return {"config": "sgd-64", "epoch_seconds": seconds, "n_train": 1000, "peak_rss_mib": rss,
            "test_acc": acc, "trial": {"framework": framework, "batch_size": 64,
                                       "hidden": [256, 128, 64]}}


def test_summary_drops_the_warm_up_epoch_and_takes_medians():
    trials = [_trial("numpynn", [9.0, 1.0], 100), _trial("torch", [9.0, 4.0], 400),
              _trial("numpynn", [9.0, 3.0], 120), _trial("torch", [9.0, 4.0], 400)]
    summary = compare.summarise(trials, peak_gflops=10.0)
    ours = summary[0]
    assert (ours["framework"], ours["seconds_per_epoch"], ours["peak_rss_mib"]) == \
        ("numpynn", 2.0, 110.0)                     # median(1, 3); median(100, 120)
    np.testing.assert_allclose(ours["samples_per_s"], 500.0, rtol=1e-12)
    np.testing.assert_allclose(ours["gflops"], 1_453_824 * 500 / 1e9, rtol=1e-12)
    (ratio,) = compare.ratios(summary)
    assert ratio["speed"] == 2.0                    # torch 4 s / numpynn 2 s
    np.testing.assert_allclose(ratio["memory"], 110 / 400, rtol=1e-12)
    assert (ratio["speed_target"], ratio["memory_target"]) == (1.5, 0.6)


def test_scaling_speed_is_torch_over_numpynn_whatever_the_frameworks():
    results = {name: {2: [_trial(name, [9.0, s], 100)]} for name, s in
               (("numpynn", 2.0), ("numpy", 1.0), ("torch", 5.0))}
    rows = {row["framework"]: row for row in scaling._scaling_rows(
        "batch", 64, (256, 128, 64), results, peak_gflops=100.0)}
    assert rows["numpynn"]["speed"] == 2.5 and "speed" not in rows["numpy"]
    assert rows["numpy"]["samples_per_s"] == 1000.0
    np.testing.assert_allclose(rows["numpynn"]["gflops"], 6 * COURSE_MLP_WEIGHTS * 500 / 1e9)


def test_scaling_compares_each_frameworks_best_thread_count():
    # numpynn is fastest on 1 thread (2 s), torch on 2 (4 s): speed 4 / 2, both counts shown
    results = {"numpynn": {1: [_trial("numpynn", [9.0, 2.0], 100)],
                           2: [_trial("numpynn", [9.0, 5.0], 100)]},
               "torch": {1: [_trial("torch", [9.0, 8.0], 100)],
                         2: [_trial("torch", [9.0, 4.0], 100)]}}
    rows = {row["framework"]: row for row in scaling._scaling_rows(
        "batch", 1, (256, 128, 64), results, peak_gflops=100.0)}
    assert (rows["numpynn"]["threads"], rows["torch"]["threads"]) == (1, 2)
    assert rows["numpynn"]["speed"] == 2.0
    assert rows["numpynn"]["by_threads"] == {1: 500.0, 2: 200.0}   # 1,000 samples an epoch
    assert rows["torch"]["by_threads"] == {1: 125.0, 2: 250.0}
    assert scaling.sweep_threads(trials.BenchSettings(threads=2)) == (1, 2)
    assert scaling.sweep_threads(trials.BenchSettings(threads=1)) == (1,)


@pytest.mark.torch
def test_scaling_smoke_run_has_a_row_per_point_and_framework():
    settings = trials.BenchSettings.smoke(frameworks=("numpynn", "torch"), n_train=64)
    results = scaling.run_scaling(settings, batch_sizes=(8,), widths=(16,))
    rows = results["rows"]
    assert [(r["sweep"], r["batch_size"], r["hidden"], r["framework"]) for r in rows] == [
        ("batch", 8, list(network.HIDDEN), "numpynn"),
        ("batch", 8, list(network.HIDDEN), "torch"),
        ("width", 256, [16, 16], "numpynn"), ("width", 256, [16, 16], "torch")]
    peak = results["machine"]["matmul_peak_gflops"]
    assert peak == max(results["machine"]["matmul_peak_readings"]) > 0
    for row in rows:
        np.testing.assert_allclose(row["peak_fraction"], row["gflops"] / peak, rtol=1e-12)
    assert rows[0]["speed"] > 0 and rows[2]["speed"] > 0


def test_a_single_epoch_is_timed_as_it_is():
    assert compare.timed_epochs([2.5]) == [2.5]
    assert compare.timed_epochs([9.0, 1.0, 2.0]) == [1.0, 2.0]


def test_scaling_samples_stay_within_the_step_bounds():
    assert scaling.scaling_samples(1, network.HIDDEN, 60000) == 2000        # 2,000 steps
    assert scaling.scaling_samples(1024, network.HIDDEN, 60000) == 34392    # 5e10 / 1,453,824
    assert scaling.scaling_samples(256, (64, 64), 60000) == 60000           # all the data
    n = scaling.scaling_samples(256, (2048, 2048), 60000)
    assert n == 256 * 20                                                    # at least 20 steps


def test_synthetic_data_has_fashion_mnist_shapes_and_dtypes():
    X, y, X_test, y_test = trials.synthetic_data(300, 100, seed=0)
    assert (X.shape, X_test.shape, y.shape, y_test.shape) == ((300, 784), (100, 784), (300,),
                                                              (100,))
    assert (X.dtype, y.dtype) == (np.float32, np.int64)
    assert X.min() >= 0 and X.max() <= 1 and set(np.unique(y)) <= set(range(10))


def test_worker_env_sets_threads_and_drops_both_openblas_kernel_variables():
    environ = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "262144", "HOME": "/root"}
    env = trials.worker_env(3, native_kernel=True, environ=environ)
    assert {env[name] for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                   "MKL_NUM_THREADS")} == {"3"}
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_L2_SIZE" not in env
    assert env["HOME"] == "/root" and environ["OPENBLAS_CORETYPE"] == "Haswell"  # a copy
    kept = trials.worker_env(3, native_kernel=False, environ=environ)
    assert kept["OPENBLAS_CORETYPE"] == "Haswell" and kept["OPENBLAS_L2_SIZE"] == "262144"
    assert thread_env(2, {})["OPENBLAS_NUM_THREADS"] == "2"


# -- profile ----------------------------------------------------------------------------------
def test_profile_breakdown_sums_to_100():
    trial = trials.Trial("numpynn", batch_size=32, hidden=(32, 16), threads=1, data="synthetic",
                        n_train=256, n_test=64)
    before = blas_threads()
    result = profile.profile_epoch(trial, top=5)
    assert blas_threads() == before                  # the profile restores the thread count
    assert result["steps"] == 8 and result["seconds"] > 0
    shares = np.array([result["breakdown"][part] for part in profile.PARTS])
    np.testing.assert_allclose(shares.sum(), 100.0, rtol=1e-9)
    assert (shares >= 0).all()
    assert result["seconds_by_part"]["matmul"] > 0
    rows = result["functions"]
    assert len(rows) == 5 and [r["seconds"] for r in rows] == sorted(
        (r["seconds"] for r in rows), reverse=True)
    assert 0 < sum(r["percent"] for r in rows) <= 100 + 1e-9


def _leaf(x):
    return sum(range(x))


def _caller():
    return [_leaf(20_000) for _ in range(3)]


def test_function_table_groups_calls_by_function():
    profiler = cProfile.Profile()
    profiler.enable()
    _caller()
    profiler.disable()
    rows = {row["function"].split("(")[-1].rstrip(")"): row
            for row in profile.function_table(profiler, top=50)}
    assert rows["_leaf"]["calls"] == 3 and rows["_caller"]["calls"] == 1
    assert rows["_leaf"]["kind"] == "Python" and rows["_leaf"]["function"].startswith(
        "test_bench.py:")
    assert rows["<built-in method builtins.sum>"]["kind"] == "C"
    np.testing.assert_allclose(sum(row["percent"] for row in rows.values()), 100.0, rtol=1e-9)


def test_gemm_seconds_replays_every_batch():
    # 100 samples at batch 32: three full batches and one of 4 rows; a positive duration
    assert profile.gemm_seconds((8, 4, 2), 100, 32) > 0
    assert trials.matmul_peak(n=64, repeats=2) > 0


# -- the convolution benchmark (python -m benchmarks --conv) -------------------------------------
def test_conv_benchmark_im2col_buffers_stay_under_the_bound(monkeypatch):
    from benchmarks import convolution
    from numpynn._speed import im2col
    monkeypatch.setattr(im2col, "COLUMN_BYTES", 4 * 2**20)   # 64 images need 31 MiB: 8 chunks
    memory = convolution.column_memory(batch=64)
    assert memory["unchunked"] == 64 * (2 * 288 + 64) * 196 * 4
    assert 0 < memory["columns"] <= memory["bound"] == 4 * 2**20


@pytest.mark.torch
@pytest.mark.parametrize("name", ["lenet", "conv 32,64 + 128"])
def test_conv_benchmark_trains_the_same_network_in_torch(name):
    from benchmarks.convnets import MODELS, torch_twin
    model = MODELS[name]()
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    with torch.no_grad():
        theirs = torch_twin(model)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model.forward(x), theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.torch
def test_conv_benchmark_smoke_prints_every_table(capsys):
    from benchmarks.convolution import print_conv, run_conv_benchmark
    results = run_conv_benchmark(threads=1, smoke=True, log=lambda line: None)
    print_conv(results, markdown=True)
    text = capsys.readouterr().out
    for row in ("conv2d forward+backward", "max_pool2d forward", "im2col memory", "lenet",
                "conv 32,64 + 128"):
        assert row in text
    epochs = results["epochs"]["models"]
    assert results["dtype"] == "float32" and all(r["numpynn"] > 0 and r["torch"] > 0
                                                 for r in epochs.values())
    assert json.loads(json.dumps(results))["memory"] == results["memory"]   # what --json writes
