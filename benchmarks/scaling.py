"""Scaling: samples/s as the batch size and the width grow."""
from dataclasses import asdict

from benchmarks.compare import TrialProgress, remeasure_peak, setup, throughput
from benchmarks.network import HIDDEN, mlp_widths, training_flops
from benchmarks.trials import Trial, spawn

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


def run_scaling(settings=None, batch_sizes=BATCH_SWEEP, widths=WIDTH_SWEEP, log=None):
    """Samples/s of each framework along both sweeps, SGD (lr 0.01), workers as in
    :func:`run_benchmark` (fresh, alternating, repeated; the first epoch is a warm-up).

    Returns
    -------
    dict
        ``data``, ``machine`` and ``rows``: one per point and framework with ``sweep``,
        ``batch_size``, ``hidden``, ``n_train``, ``samples_per_s``, ``gflops``,
        ``peak_fraction`` and, on numpynn's rows, ``speed`` (torch time / numpynn time).
    """
    settings, log, data, note, frameworks, env, machine = setup(settings, log)
    points, plan = [], scaling_points(batch_sizes, widths)
    progress = TrialProgress(len(plan) * settings.repeats * len(frameworks), log)
    for sweep, batch, hidden in plan:
        n_train = scaling_samples(batch, hidden, settings.n_train or 60000)
        results = {framework: [] for framework in frameworks}
        for repeat in range(settings.repeats):
            for framework in frameworks:
                progress.starting(f"scaling {sweep}: batch {batch}, hidden {hidden}, "
                                  f"{framework}")
                trial = Trial(framework=framework, batch_size=batch, hidden=hidden,
                              epochs=settings.epochs, threads=settings.threads, data=data,
                              n_train=n_train, n_test=settings.n_test)
                results[framework].append(spawn("trial", asdict(trial), env))
        points.append((sweep, batch, hidden, results))
    remeasure_peak(machine, settings, env, log)
    rows = [row for point in points
            for row in _scaling_rows(*point, machine["matmul_peak_gflops"])]
    return {"data": {"source": data, "note": note}, "machine": machine, "rows": rows}


def _scaling_rows(sweep, batch, hidden, results, peak_gflops):
    rows = {framework: {"sweep": sweep, "batch_size": batch, "hidden": list(hidden),
                        "framework": framework, "n_train": trials[0]["n_train"],
                        **throughput(trials, peak_gflops)}
            for framework, trials in results.items()}
    if "numpynn" in rows and "torch" in rows:
        rows["numpynn"]["speed"] = (rows["torch"]["seconds_per_epoch"]
                                    / rows["numpynn"]["seconds_per_epoch"])
    return list(rows.values())
