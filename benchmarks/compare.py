"""The comparison: numpynn and PyTorch (and the hand loop) alternating in fresh workers, per
configuration; medians, ratios and targets."""
import os
import statistics
import sys
from dataclasses import asdict
from time import perf_counter

import numpy as np

from benchmarks.network import mlp_widths, training_flops
from benchmarks.trials import (
    CONFIGS,
    MEMORY_TARGET,
    OPENBLAS_KERNEL_VARS,
    SPEED_TARGETS,
    BenchSettings,
    Trial,
    available_frameworks,
    fashion_mnist_installed,
    spawn,
    startup_times,
    worker_env,
)
from numpynn.threads import THREAD_ENV_VARS, available_cores


# -- the comparison ------------------------------------------------------------------------
def setup(settings, log):
    """What every run shares: settings, log, data source, frameworks, worker env, machine."""
    settings = settings or BenchSettings()
    log = log or (lambda line: None)
    data, note = data_source(settings)
    frameworks = settings.frameworks or available_frameworks()
    env = worker_env(settings.threads, settings.native_kernel)
    return settings, log, data, note, frameworks, env, _machine(settings, env, log)


class TrialProgress:
    """One progress line per trial as it starts: its number of the total and, once a trial is
    done, the time so far and the time left at the pace of the trials done (one line per trial
    rather than two, so the log stays as long as the plan)."""

    def __init__(self, total, log, clock=perf_counter):
        self.total, self.log, self.clock = total, log, clock
        self.done, self.start = 0, None

    def starting(self, what):
        now = self.clock()
        self.start = now if self.start is None else self.start
        pace = ""
        if self.done:
            elapsed = now - self.start
            left = elapsed / self.done * (self.total - self.done)
            pace = f"; {_duration(elapsed)} so far, about {_duration(left)} left"
        self.log(f"trial {self.done + 1}/{self.total}: {what}{pace}")
        self.done += 1


def _duration(seconds):
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def run_benchmark(settings=None, log=None):
    """Run the comparison described in the module docstring.

    Parameters
    ----------
    settings : BenchSettings, optional
        Defaults: the four configurations, all cores, 2 epochs, 3 repeats.
    log : callable, optional
        Called with one line of progress per worker (see :class:`TrialProgress`).

    Returns
    -------
    dict
        JSON-ready: ``data``, ``settings``, ``machine`` (matmul peak: the higher of the
        readings before and after the trials; BLAS, threads),
        ``startup``, ``trials`` (every worker's raw result), ``summary`` (one row per
        configuration and framework) and ``ratios`` (one row per configuration).
    """
    settings, log, data, note, frameworks, env, machine = setup(settings, log)
    trials = []
    progress = TrialProgress(settings.repeats * len(settings.configs) * len(frameworks), log)
    for repeat in range(settings.repeats):
        for name in settings.configs:
            for framework in frameworks:                         # alternating frameworks
                trial = config_trial(settings, name, framework, data)
                progress.starting(f"{name} {framework}, repeat {repeat + 1}/{settings.repeats}")
                trials.append({"config": name, "repeat": repeat,
                               **spawn("trial", asdict(trial), env)})
    remeasure_peak(machine, settings, env, log)
    summary = summarise(trials, machine["matmul_peak_gflops"])
    log("startup times")
    return {"data": {"source": data, "note": note}, "settings": _json_settings(settings),
            "frameworks": list(frameworks), "machine": machine,
            "startup": startup_times(settings.startup_repeats),
            "trials": trials, "summary": summary, "ratios": ratios(summary)}


def data_source(settings):
    if settings.synthetic:
        return "synthetic", "synthetic data (asked for): Fashion-MNIST's shapes, made-up images"
    if fashion_mnist_installed():
        return "fashion-mnist", "Fashion-MNIST"
    return "synthetic", ("SYNTHETIC data: Fashion-MNIST is not installed (apt-get install "
                         "dataset-fashion-mnist); same shapes, made-up images")


def config_trial(settings, name, framework, data):
    setting = CONFIGS[name]
    return Trial(framework=framework, optimizer=setting.optimizer, lr=setting.lr,
                 batch_size=setting.batch_size, hidden=settings.hidden, epochs=settings.epochs,
                 threads=settings.threads, data=data, n_train=settings.n_train,
                 n_test=settings.n_test)


def _peak(settings, env, log, when):
    log(f"matmul peak ({settings.peak_size}×{settings.peak_size} float32), {when}")
    return spawn("peak", {"n": settings.peak_size, "repeats": settings.peak_repeats,
                          "threads": settings.threads}, env)


def remeasure_peak(machine, settings, env, log):
    """Measure the matmul peak again after the trials and keep the higher reading: a shared
    machine's rate drifts during a run, and a low reading would inflate every "% of peak"."""
    again = _peak(settings, env, log, "after the trials")["gflops"]
    machine["matmul_peak_readings"].append(again)
    machine["matmul_peak_gflops"] = max(machine["matmul_peak_readings"])


def _machine(settings, env, log):
    peak = _peak(settings, env, log, "before the trials")
    return {"matmul_peak_gflops": peak["gflops"], "matmul_peak_readings": [peak["gflops"]],
            "blas": peak["blas"], "axpy": peak["axpy"],
            "threads": settings.threads, "cores": available_cores(),
            "thread_env": {name: env[name] for name in THREAD_ENV_VARS},
            "openblas_kernel_vars_removed": [name for name in OPENBLAS_KERNEL_VARS
                                             if settings.native_kernel and name in os.environ],
            "python": sys.version.split()[0], "numpy": np.__version__}


def _json_settings(settings):
    return {**asdict(settings), "timed": "each epoch (shuffle to last step); the first epoch "
            "is a warm-up and is left out when epochs >= 2"}


def timed_epochs(epoch_seconds):
    """The epochs that count: all but the first (warm-up) when there are two or more."""
    return epoch_seconds[1:] if len(epoch_seconds) >= 2 else epoch_seconds


def summarise(trials, peak_gflops):
    """One row per (configuration, framework): medians over repeats and timed epochs."""
    groups = {}
    for trial in trials:
        groups.setdefault((trial["config"], trial["trial"]["framework"]), []).append(trial)
    return [_summary_row(config, framework, group, peak_gflops)
            for (config, framework), group in groups.items()]


def throughput(trials, peak_gflops):
    """Speed of one framework over repeated trials of one model: the median seconds per timed
    epoch, samples/s, GFLOP/s (6 × weights per sample) and its fraction of the matmul peak."""
    seconds = statistics.median(s for t in trials for s in timed_epochs(t["epoch_seconds"]))
    samples_per_s = trials[0]["n_train"] / seconds
    gflops = training_flops(mlp_widths(trials[0]["trial"]["hidden"])) * samples_per_s / 1e9
    return {"seconds_per_epoch": seconds, "samples_per_s": samples_per_s, "gflops": gflops,
            "peak_fraction": gflops / peak_gflops}


def _summary_row(config, framework, group, peak_gflops):
    return {"config": config, "framework": framework, "batch_size": group[0]["trial"]["batch_size"],
            **throughput(group, peak_gflops),
            "peak_rss_mib": statistics.median(t["peak_rss_mib"] for t in group),
            "test_acc": statistics.median(t["test_acc"] for t in group), "trials": len(group)}


def ratios(summary):
    """Per configuration: speed torch_time / numpynn_time (> 1: numpynn is faster) and memory
    numpynn_rss / torch_rss (< 1: numpynn uses less), with the targets; with the hand-written
    loop ("numpy") also numpynn's overhead over it (numpynn_time / loop_time − 1) and the
    loop's own speed against torch. A ratio whose framework did not run is None."""
    rows = {(row["config"], row["framework"]): row for row in summary}
    out = []
    for config in dict.fromkeys(row["config"] for row in summary):
        ours, theirs, loop = (rows.get((config, name)) for name in ("numpynn", "torch", "numpy"))
        if ours is None or (theirs is None and loop is None):
            continue
        time, rss = ours["seconds_per_epoch"], ours["peak_rss_mib"]
        out.append({"config": config,
                    "speed": theirs and theirs["seconds_per_epoch"] / time,
                    "speed_target": SPEED_TARGETS.get(config),
                    "memory": theirs and rss / theirs["peak_rss_mib"],
                    "memory_target": MEMORY_TARGET,
                    "overhead": loop and time / loop["seconds_per_epoch"] - 1,
                    "loop_speed": loop and theirs and (theirs["seconds_per_epoch"]
                                                       / loop["seconds_per_epoch"])})
    return out
