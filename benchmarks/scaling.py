"""Scaling: samples/s as the batch size and the width grow, each framework at its best thread
count.

Every point runs each framework on one thread and on all of them (``--threads``, default all
cores): which is faster depends on the framework and the size (PyTorch and numpynn train
faster on one thread at batch 1, on all of them at batch 1024). A row reports both counts
and the speed is the ratio of the two frameworks' bests, so that neither is measured at a
count that handicaps it."""
from dataclasses import asdict

from benchmarks.compare import TrialProgress, remeasure_peak, setup, throughput
from benchmarks.network import HIDDEN, mlp_widths, training_flops
from benchmarks.trials import Trial, spawn, worker_env

BATCH_SWEEP = (1, 8, 64, 256, 1024)               # on the MLP 784-256-128-64-10
WIDTH_SWEEP = (64, 128, 256, 512, 1024, 2048)     # on 784-H-H-10 at batch WIDTH_BATCH
WIDTH_BATCH = 256
# each point trains on the first n samples, n chosen so that an epoch is long enough to time
# and short enough to repeat: about SCALING_FLOPS training FLOPs, within SCALING_STEPS steps
SCALING_FLOPS = 5e10
SCALING_STEPS = (20, 2000)                        # batch 1 times 2,000 steps, not 60,000


def scaling_points(batch_sizes=BATCH_SWEEP, widths=WIDTH_SWEEP):
    """``(sweep, batch_size, hidden)`` of every point of the two sweeps."""
    return ([("batch", batch, HIDDEN) for batch in batch_sizes]
            + [("width", WIDTH_BATCH, (width, width)) for width in widths])


def scaling_samples(batch_size, hidden, n_available):
    """Training samples of one scaling point (see :data:`SCALING_FLOPS`)."""
    fewest, most = (batch_size * steps for steps in SCALING_STEPS)
    wanted = SCALING_FLOPS / training_flops(mlp_widths(hidden))
    return int(min(max(wanted, fewest), most, n_available))


def sweep_threads(settings):
    """The thread counts every point runs at: 1 and ``settings.threads`` (smoke: the latter)."""
    return settings.sweep_threads or tuple(sorted({1, settings.threads}))


def run_scaling(settings=None, batch_sizes=BATCH_SWEEP, widths=WIDTH_SWEEP, log=None):
    """Samples/s of each framework along both sweeps, SGD (lr 0.01), at each count of
    :func:`sweep_threads`; workers as in :func:`run_benchmark` (fresh, alternating, repeated;
    the first epoch is a warm-up).

    Returns
    -------
    dict
        ``data``, ``machine`` and ``rows``: one per point and framework with ``sweep``,
        ``batch_size``, ``hidden``, ``n_train``, ``by_threads`` (thread count -> samples/s),
        ``threads`` (the best count) and, at that count, ``samples_per_s``, ``gflops``,
        ``peak_fraction``; numpynn's rows add ``speed`` (torch's best time / numpynn's).
    """
    settings, log, data, note, frameworks, _, machine = setup(settings, log)
    points, plan, counts = [], scaling_points(batch_sizes, widths), sweep_threads(settings)
    envs = {n: worker_env(n, settings.native_kernel) for n in counts}
    progress = TrialProgress(len(plan) * settings.repeats * len(frameworks) * len(counts), log)
    for sweep, batch, hidden in plan:
        n_train = scaling_samples(batch, hidden, settings.n_train or 60000)
        results = {framework: {n: [] for n in counts} for framework in frameworks}
        for repeat in range(settings.repeats):
            for n in counts:
                for framework in frameworks:
                    progress.starting(f"scaling {sweep}: batch {batch}, hidden {hidden}, "
                                      f"{framework}, {n} thread(s)")
                    trial = Trial(framework=framework, batch_size=batch, hidden=hidden,
                                  epochs=settings.epochs, threads=n, data=data,
                                  n_train=n_train, n_test=settings.n_test)
                    results[framework][n].append(spawn("trial", asdict(trial), envs[n]))
        points.append((sweep, batch, hidden, results))
    remeasure_peak(machine, settings, envs[max(counts)], log)
    rows = [row for point in points
            for row in _scaling_rows(*point, machine["matmul_peak_gflops"])]
    return {"data": {"source": data, "note": note}, "machine": machine, "rows": rows}


def _scaling_rows(sweep, batch, hidden, results, peak_gflops):
    """One row per framework of one point; ``results``: framework -> threads -> trials."""
    rows = {framework: _best_row(by_threads, peak_gflops)
            for framework, by_threads in results.items()}
    for framework, row in rows.items():
        row.update(sweep=sweep, batch_size=batch, hidden=list(hidden), framework=framework)
    if "numpynn" in rows and "torch" in rows:
        rows["numpynn"]["speed"] = (rows["torch"]["seconds_per_epoch"]
                                    / rows["numpynn"]["seconds_per_epoch"])
    return list(rows.values())


def _best_row(by_threads, peak_gflops):
    """The throughput at the fastest thread count, and the samples/s at every count."""
    speeds = {n: throughput(trials, peak_gflops) for n, trials in by_threads.items()}
    best = min(speeds, key=lambda n: speeds[n]["seconds_per_epoch"])
    first = next(iter(by_threads.values()))[0]
    return {"n_train": first["n_train"], "threads": best, **speeds[best],
            "by_threads": {n: speed["samples_per_s"] for n, speed in speeds.items()}}
