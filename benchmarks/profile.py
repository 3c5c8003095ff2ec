"""Where one numpynn epoch spends its time: matmul, element-wise work, Python overhead."""
import os
from dataclasses import asdict, replace
from itertools import pairwise
from time import perf_counter

import numpy as np

from benchmarks.compare import config_trial, data_source
from benchmarks.network import mlp_widths
from benchmarks.trials import (
    BenchSettings,
    EpochTimer,
    load_data,
    numpynn_trainer,
    spawn,
    worker_env,
)
from numpynn._speed.blas import outer
from numpynn.threads import threads
from numpynn.training.callbacks import Callback

# -- profile: where one numpynn epoch spends its time --------------------------------------
PARTS = ("matmul", "element-wise", "python overhead")


class ProfileEpoch(Callback):
    """Runs a ``cProfile.Profile`` during one chosen epoch only."""

    def __init__(self, profiler, epoch):
        self.profiler, self.epoch = profiler, epoch

    def on_epoch_begin(self, epoch, logs):
        if epoch == self.epoch:
            self.profiler.enable()

    def on_epoch_end(self, epoch, logs):
        if epoch == self.epoch:
            self.profiler.disable()


def profile_epoch(trial, top=12):
    """Where a numpynn epoch's time goes: matrix products, element-wise kernels, Python.

    cProfile cannot see ufunc calls (``x @ W``, ``np.maximum``, ``+=``): their time lands in
    the calling function's own time. So the three parts are measured directly:

    1. total: the wall time of one epoch (after a warm-up epoch), not profiled;
    2. matmul: the epoch's matrix products replayed alone (:func:`gemm_seconds`);
    3. python overhead: the same epoch's steps on the same layer stack with every width 1 and
       batch 1 (:func:`overhead_seconds`), i.e. the per-step cost that does not grow with the
       data: interpreter, method calls, NumPy call dispatch;
    4. element-wise: the rest (activations, loss, optimizer, gathers, reductions).

    A third, profiled epoch gives the per-function table (own time, grouped by function).

    Returns
    -------
    dict
        ``seconds`` (the epoch), ``steps``, ``seconds_by_part`` and ``breakdown`` (percent;
        they sum to 100) keyed by :data:`PARTS`, and ``functions``: the ``top`` rows of the
        profile sorted by own time, each ``{"function", "kind", "calls", "seconds",
        "percent"}``.
    """
    with threads(trial.threads):
        return _profile_epoch(trial, top)


def _profile_epoch(trial, top):
    import cProfile
    X, y, _, _ = load_data(trial)
    profiler, timer = cProfile.Profile(), EpochTimer()
    trainer = numpynn_trainer(trial, callbacks=[timer, ProfileEpoch(profiler, epoch=2)])
    trainer.fit(X, y, epochs=3, batch_size=trial.batch_size)
    seconds, steps = timer.seconds[1], -(-len(X) // trial.batch_size)
    parts = {"matmul": gemm_seconds(mlp_widths(trial.hidden), len(X), trial.batch_size),
             "python overhead": overhead_seconds(trial, steps)}
    parts["element-wise"] = max(seconds - sum(parts.values()), 0.0)
    total = sum(parts.values())  # the epoch's time, unless the measured parts overshoot it
    return {"seconds": seconds, "steps": steps,
            "seconds_by_part": {part: parts[part] for part in PARTS},
            "breakdown": {part: 100 * parts[part] / total for part in PARTS},
            "functions": function_table(profiler, top)}


def gemm_seconds(widths, n, batch_size):
    """Seconds of the matrix products of one epoch of the MLP ``widths``, replayed alone.

    Per step and Linear layer (D → M) with a batch of B rows, the three products of
    ``functional.linear_forward`` / ``linear_backward`` in the same memory layouts and order
    (forward through the layers, then backward in reverse): x·W (B, D)(D, M), then
    xᵀ·dout (D, B)(B, M) and, except for the first layer (whose input needs no gradient),
    dout·Wᵀ (B, M)(M, D); float32. With one row, xᵀ·dout is the outer product the Trainer's
    step computes (:func:`numpynn._speed.blas.outer`).
    """
    rng = np.random.default_rng(0)
    batches = {batch_size: n // batch_size}
    if n % batch_size:
        batches[n % batch_size] = 1                                  # the last, smaller batch
    total = 0.0
    for rows, steps in batches.items():
        layers = [(rng.random((rows, d_in), dtype=np.float32),      # x    (B, D)
                   rng.random((d_in, d_out), dtype=np.float32),     # W    (D, M)
                   rng.random((rows, d_out), dtype=np.float32))     # dout (B, M)
                  for d_in, d_out in pairwise(widths)]
        _gemm_step(layers)                                           # warm-up, untimed
        start = perf_counter()
        for _ in range(steps):
            _gemm_step(layers)
        total += perf_counter() - start
    return total


def _gemm_step(layers):
    for x, W, _ in layers:
        x @ W                                                        # (B, M)
    for i, (x, W, dout) in reversed(list(enumerate(layers))):
        if len(x) == 1:
            outer(x, dout, np.empty_like(W))                         # (D, 1)(1, M)
        else:
            x.T @ dout                                               # (D, M)
        if i:
            dout @ W.T                                               # (B, D)


def overhead_seconds(trial, steps):
    """Seconds of ``steps`` training steps of the trial's layer stack with width 1 everywhere
    (1-1-…-1-2) at batch 1: the epoch's fixed, per-step cost (after a warm-up epoch)."""
    tiny = replace(trial, hidden=(1,) * len(trial.hidden), batch_size=1)
    timer = EpochTimer()
    trainer = numpynn_trainer(tiny, callbacks=[timer], n_in=1, n_out=2)
    X, y = np.zeros((steps, 1), dtype=np.float32), np.zeros(steps, dtype=np.int64)
    trainer.fit(X, y, epochs=2, batch_size=1)
    return timer.seconds[-1]


def function_table(profiler, top=12):
    """The profile grouped by function (``file.py:line(name)``, or a C function's name),
    sorted by own time; percentages of the profile's total own time."""
    import pstats
    grouped = {}
    for (filename, line, name), (_, calls, own, _, _) in pstats.Stats(profiler).stats.items():
        kind = "C" if filename == "~" else "Python"
        key = name if kind == "C" else f"{os.path.basename(filename)}:{line}({name})"
        row = grouped.setdefault(key, {"function": key, "kind": kind, "calls": 0, "seconds": 0.0})
        row["calls"] += calls
        row["seconds"] += own
    total = sum(row["seconds"] for row in grouped.values()) or 1.0
    rows = sorted(grouped.values(), key=lambda row: row["seconds"], reverse=True)[:top]
    return [{**row, "percent": 100 * row["seconds"] / total} for row in rows]


def run_profile(settings=None, log=None):
    """:func:`profile_epoch` of every configuration in ``settings``, each in a fresh worker."""
    settings = settings or BenchSettings()
    log = log or (lambda line: None)
    data, note = data_source(settings)
    env = worker_env(settings.threads, settings.native_kernel)
    profiles = {}
    for name in settings.configs:
        log(f"profile {name}")
        trial = config_trial(settings, name, "numpynn", data)
        profiles[name] = spawn("profile", {"trial": asdict(trial)}, env)
    return {"data": {"source": data, "note": note}, "profiles": profiles}
