"""Training speed of numpynn's public ``Trainer`` beside a plain PyTorch loop, on the same model.

What is compared (issue 5): the MLP 784-256-128-64-10 (ReLU, softmax cross-entropy) in
float32 on the same data, batch size, learning rate, epochs and thread count. Initial weights
differ (each framework draws its own). The PyTorch side is the loop a course would write: no
DataLoader, one ``torch.randperm`` per epoch, batches by ``index_select``,
``zero_grad / backward / step`` and ``loss.item()`` per step (numpynn's Trainer also reads every
step's loss, to record it and to stop on NaN).

How it is run (:func:`run_benchmark`):

1. Every trial runs in a fresh subprocess (``python -m numpynn.bench trial JSON``), which
   prints one JSON line; so the peak RSS (``ru_maxrss``) is that framework's own, and torch is
   never loaded beside numpynn.
2. Frameworks alternate (numpynn, torch, numpynn, torch, …) and every configuration is
   repeated, so a slow spell on a shared machine hits both.
3. Workers start with ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` set
   and call :func:`numpynn.threads.set_threads` (torch's pool included). For benchmarks (never
   in tests or CI) ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are removed together from
   the workers' environment so OpenBLAS picks its native kernel; the kernel used is reported.

What is timed: each epoch from its start (the shuffle) to its end (the last step and the
epoch's bookkeeping). Loading data, building the model, ``fit``'s one-time input checks and the
test evaluation are not timed. With two or more epochs the first is a warm-up and is left out.
Throughput in GFLOP/s counts 6 FLOPs per weight per sample (2 forward, 4 backward; biases and
element-wise work not counted) and is set against the best of a few large float32
``np.matmul`` products measured in the same kind of worker.
"""
import json
import os
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, field, replace
from importlib.util import find_spec
from itertools import pairwise
from time import perf_counter

import numpy as np

from numpynn._validation import choose
from numpynn.callbacks import Callback
from numpynn.threads import THREAD_ENV_VARS, available_cores, set_threads, thread_env, threads

N_FEATURES, N_CLASSES = 784, 10           # Fashion-MNIST's 28×28 images, 10 classes
HIDDEN = (256, 128, 64)                   # the course's MLP 784-256-128-64-10
FRAMEWORKS = ("numpynn", "torch")
MIB = 2 ** 20


@dataclass(frozen=True)
class Setting:
    """One configuration of the comparison: optimizer (a key of ``numpynn.optim.OPTIMIZERS``,
    the same name in ``torch.optim``), batch size and learning rate."""

    optimizer: str
    batch_size: int
    lr: float


CONFIGS = {
    "sgd-64": Setting("sgd", 64, 0.01),
    "adam-64": Setting("adam", 64, 1e-3),
    "sgd-256": Setting("sgd", 256, 0.01),
    "adam-256": Setting("adam", 256, 1e-3),
}
# issue 5's targets: numpynn speed / torch speed at each batch size, and peak RSS ratio
SPEED_TARGETS = {64: 1.3, 256: 1.0}
MEMORY_TARGET = 0.6
# environment variables that force an older OpenBLAS kernel (see the module docstring)
OPENBLAS_KERNEL_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Trial:
    """One training run in one worker; every field is JSON, so a trial crosses processes."""

    framework: str                        # "numpynn" or "torch"
    optimizer: str = "sgd"
    lr: float = 0.01
    batch_size: int = 64
    hidden: tuple = HIDDEN
    epochs: int = 2
    threads: int = 1
    data: str = "fashion-mnist"           # or "synthetic"
    n_train: int | None = None            # the first n_train training samples; None: all
    n_test: int | None = None
    seed: int = 0

    @classmethod
    def from_dict(cls, spec):
        """The inverse of ``dataclasses.asdict`` (JSON turns the ``hidden`` tuple into a list)."""
        return cls(**{**spec, "hidden": tuple(spec["hidden"])})


@dataclass(frozen=True)
class BenchSettings:
    """What :func:`run_benchmark` runs; ``numpynn bench`` maps its flags onto these fields."""

    configs: tuple = tuple(CONFIGS)
    threads: int = field(default_factory=available_cores)
    epochs: int = 2
    repeats: int = 3
    synthetic: bool = False               # synthetic data even when Fashion-MNIST is installed
    n_train: int | None = None            # None: the whole training set
    n_test: int | None = None
    hidden: tuple = HIDDEN
    peak_size: int = 2048                 # n of the n×n float32 matmul that measures the peak
    peak_repeats: int = 5
    startup_repeats: int = 5
    native_kernel: bool = True            # drop OPENBLAS_CORETYPE/L2_SIZE in workers
    frameworks: tuple | None = None       # None: numpynn, and torch when it is installed

    @classmethod
    def smoke(cls, **overrides):
        """CI's quick run: 512 synthetic samples, one epoch, one repeat, a small peak matmul,
        one start-up measurement, and the machine's OpenBLAS settings left as they are."""
        quick = {"configs": ("sgd-64", "adam-256"), "epochs": 1, "repeats": 1,
                 "synthetic": True, "n_train": 512, "n_test": 256, "peak_size": 512,
                 "peak_repeats": 3, "startup_repeats": 1, "native_kernel": False}
        return cls(**{**quick, **overrides})

    def __post_init__(self):
        for name in self.configs:
            choose(name, CONFIGS, "benchmark configuration")
        for name in ("threads", "epochs", "repeats", "peak_size", "peak_repeats"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"BenchSettings: {name} must be an integer >= 1; got {value!r}")


# -- FLOPs ---------------------------------------------------------------------------------
def mlp_widths(hidden=HIDDEN):
    """Layer widths ``(784, *hidden, 10)`` of the benchmark's MLP."""
    return (N_FEATURES, *hidden, N_CLASSES)


def count_weights(model):
    """Number of weights (matrix entries, biases excluded) of a model.

    ``model`` is a numpynn ``Sequential``, a ``torch.nn.Module`` or a sequence of layer widths
    ``(D, H1, …, M)`` of an MLP (Σ_k w_k·w_{k+1}).
    """
    if hasattr(model, "params"):
        return int(sum(p.size for p in model.params().values() if p.ndim >= 2))
    if hasattr(model, "parameters"):
        return int(sum(p.numel() for p in model.parameters() if p.dim() >= 2))
    widths = [int(w) for w in model]
    return sum(a * b for a, b in pairwise(widths))


def training_flops(model):
    """Training FLOPs per sample, 6 × weights: 2 in x·W, 4 in dout·Wᵀ and xᵀ·dout.

    >>> training_flops((784, 256, 128, 64, 10))
    1453824
    """
    return 6 * count_weights(model)


# -- data ------------------------------------------------------------------------------------
def fashion_mnist_installed():
    """True when Fashion-MNIST's files are found without downloading (e.g. Debian's package)."""
    from numpynn.datasets.fetch import DatasetNotFoundError, locate
    from numpynn.datasets.formats import resolve_idx
    try:
        locate("fashion-mnist", resolve_idx, download=False)
    except DatasetNotFoundError:
        return False
    return True


def synthetic_data(n_train=60000, n_test=10000, seed=0):
    """Fashion-MNIST's shapes and dtypes, made up: ten random prototypes in [0, 1] plus noise.

    Returns
    -------
    X_train : ndarray of float32, shape (n_train, 784); y_train : int64, shape (n_train,)
    X_test, y_test : shapes (n_test, 784) and (n_test,)
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.random((N_CLASSES, N_FEATURES), dtype=np.float32)  # (C, D)
    arrays = []
    for n in (n_train, n_test):
        y = rng.integers(N_CLASSES, size=n)                              # (n,) int64
        X = prototypes[y]                                                # (n, D)
        X += rng.standard_normal(X.shape, dtype=np.float32)
        arrays += [np.clip(X, 0, 1, out=X), y]
    return tuple(arrays)


def load_data(trial):
    """The trial's ``(X_train, y_train, X_test, y_test)``: its first n_train / n_test samples."""
    if trial.data == "fashion-mnist":
        from numpynn.data import load_fashion_mnist
        X, y, X_test, y_test = load_fashion_mnist(download=False)
    else:
        X, y, X_test, y_test = synthetic_data(trial.n_train or 60000, trial.n_test or 10000,
                                              trial.seed)
    return X[:trial.n_train], y[:trial.n_train], X_test[:trial.n_test], y_test[:trial.n_test]


# -- the two training loops ------------------------------------------------------------------
class EpochTimer(Callback):
    """Records the wall time of every epoch, from ``on_epoch_begin`` to ``on_epoch_end``."""

    def __init__(self):
        self.seconds, self._start = [], None

    def on_epoch_begin(self, epoch, logs):
        self._start = perf_counter()

    def on_epoch_end(self, epoch, logs):
        self.seconds.append(perf_counter() - self._start)


def numpynn_trainer(trial, callbacks=(), n_in=N_FEATURES, n_out=N_CLASSES):
    """The trial's MLP ``n_in-hidden-n_out``, loss and optimizer in a silent public Trainer."""
    from numpynn.losses import SoftmaxCrossEntropy
    from numpynn.models import mlp
    from numpynn.optim import OPTIMIZERS
    from numpynn.trainer import Trainer
    model = mlp(n_in, trial.hidden, n_out, activation="relu", rng=trial.seed)
    optimizer = choose(trial.optimizer, OPTIMIZERS, "optimizer")(model.params(), lr=trial.lr)
    return Trainer(model, SoftmaxCrossEntropy(), optimizer, callbacks=callbacks, rng=trial.seed,
                   progress=False)


def _train_numpynn(trial, data):
    X, y, X_test, y_test = data
    set_threads(trial.threads)
    timer = EpochTimer()
    trainer = numpynn_trainer(trial, callbacks=[timer])
    start = perf_counter()
    history = trainer.fit(X, y, epochs=trial.epochs, batch_size=trial.batch_size)
    fit_seconds = perf_counter() - start
    return {"epoch_seconds": timer.seconds, "fit_seconds": fit_seconds,
            "train_loss": history.history["loss"][-1],
            "test_acc": trainer.evaluate(X_test, y_test)["acc"],
            "weights": count_weights(trainer.model)}


def torch_mlp(hidden):
    """``torch.nn.Sequential`` of Linear and ReLU layers with the widths ``mlp_widths(hidden)``."""
    import torch
    widths = mlp_widths(hidden)
    layers = []
    for d_in, d_out in pairwise(widths):
        layers += [torch.nn.Linear(d_in, d_out), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])  # no ReLU after the output layer


def _train_torch(trial, data):
    import torch
    set_threads(trial.threads)  # torch is imported: its intra-op pool is set too
    torch.manual_seed(trial.seed)
    X, y, X_test, y_test = (torch.from_numpy(np.ascontiguousarray(a)) for a in data)
    model = torch_mlp(trial.hidden)
    optimizer = getattr(torch.optim, {"sgd": "SGD", "adam": "Adam"}[trial.optimizer])(
        model.parameters(), lr=trial.lr)
    loss_fn, generator = torch.nn.CrossEntropyLoss(), torch.Generator().manual_seed(trial.seed)
    n, bs, seconds = len(X), trial.batch_size, []
    start_fit = perf_counter()
    for _ in range(trial.epochs):
        start, total = perf_counter(), 0.0
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, bs):
            idx = order[first:first + bs]
            xb, yb = X.index_select(0, idx), y.index_select(0, idx)  # (B, D), (B,)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
        seconds.append(perf_counter() - start)
    fit_seconds = perf_counter() - start_fit
    with torch.no_grad():
        correct = sum(int((model(X_test[i:i + 1024]).argmax(1) == y_test[i:i + 1024]).sum())
                      for i in range(0, len(X_test), 1024))
    return {"epoch_seconds": seconds, "fit_seconds": fit_seconds,
            "train_loss": total / -(-n // bs), "test_acc": correct / len(X_test),
            "weights": count_weights(model), "torch_threads": torch.get_num_threads()}


TRAINERS = {"numpynn": _train_numpynn, "torch": _train_torch}


def run_trial(trial):
    """Train as ``trial`` says in this process (a worker: it sets the process's thread count);
    returns its measurements as a JSON-ready dict."""
    data = load_data(trial)
    result = choose(trial.framework, TRAINERS, "framework")(trial, data)
    result.update(trial=asdict(trial), n_train=len(data[0]), n_test=len(data[2]),
                  peak_rss_mib=peak_rss_mib(), blas=blas_summary())
    return result


# -- machine measurements ------------------------------------------------------------------
def peak_rss_mib():
    """This process's peak resident set size in MiB (``ru_maxrss``: KiB on Linux, bytes on
    macOS)."""
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (MIB if sys.platform == "darwin" else 1024)


def blas_summary():
    """The BLAS in use (threadpoolctl): library, version, kernel architecture and threads."""
    from numpynn.threads import blas_info
    keys = ("internal_api", "version", "architecture", "num_threads")
    return [{key: info.get(key) for key in keys} for info in blas_info()]


def matmul_peak(n=2048, repeats=5):
    """The machine's float32 matrix-product rate in GFLOP/s: the best of ``repeats`` timed
    ``np.matmul`` of two n×n matrices (2n³ FLOPs each), after one untimed warm-up."""
    rng = np.random.default_rng(0)
    a, b = (rng.random((n, n), dtype=np.float32) for _ in range(2))
    out = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def _peak_job(spec):
    set_threads(spec["threads"])
    return {"gflops": matmul_peak(spec["n"], spec["repeats"]), "blas": blas_summary()}


STARTUP_SNIPPETS = {
    # label -> code run in a fresh interpreter; it prints the seconds it measured itself
    "import numpynn": "import numpynn",
    "import numpynn + Trainer (NumPy loaded)": "import numpynn; numpynn.Trainer",
}


def startup_times(repeats=5):
    """Median seconds, each over ``repeats`` fresh interpreters, of ``import numpynn`` (timed
    inside the process), of the import with the Trainer and NumPy loaded, of ``numpynn
    --help`` (wall time, interpreter start included) and, for scale, of ``python -c pass``."""
    times = {}
    for label, code in STARTUP_SNIPPETS.items():
        timed = f"import time; _t = time.perf_counter(); {code}; print(time.perf_counter() - _t)"
        times[label] = statistics.median(
            float(_run([sys.executable, "-c", timed]).stdout) for _ in range(repeats))
    for label, code in (("numpynn --help (wall)", "from numpynn.cli import main; main()"),
                        ("python -c pass (wall)", "pass")):
        times[label] = statistics.median(
            _wall([sys.executable, "-c", code, "--help"]) for _ in range(repeats))
    return times


def _wall(cmd):
    start = perf_counter()
    _run(cmd)
    return perf_counter() - start


def _run(cmd, env=None):
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise ChildProcessError(f"benchmark worker {' '.join(cmd[1:4])} failed with exit code "
                                f"{proc.returncode}:\n{tail}")
    return proc


# -- workers -------------------------------------------------------------------------------
def worker_env(n_threads, native_kernel, environ=None):
    """The workers' environment: ``environ`` (default ``os.environ``) with every thread
    variable set to ``n_threads``; with ``native_kernel`` OPENBLAS_CORETYPE and
    OPENBLAS_L2_SIZE removed (both, never one)."""
    env = thread_env(n_threads, environ)
    if native_kernel:
        for name in OPENBLAS_KERNEL_VARS:
            env.pop(name, None)
    return env


def spawn(job, spec, env):
    """Run worker ``job`` (a key of :data:`JOBS`) on ``spec`` in a fresh interpreter; returns
    the JSON line it printed."""
    proc = _run([sys.executable, "-m", "numpynn.bench", job, json.dumps(spec)], env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def available_frameworks():
    """numpynn, and torch when it can be imported (checked without importing it)."""
    return FRAMEWORKS if find_spec("torch") is not None else FRAMEWORKS[:1]


# -- the comparison ------------------------------------------------------------------------
def _setup(settings, log):
    """What every run shares: settings, log, data source, frameworks, worker env, machine."""
    settings = settings or BenchSettings()
    log = log or (lambda line: None)
    data, note = _data_source(settings)
    frameworks = settings.frameworks or available_frameworks()
    env = worker_env(settings.threads, settings.native_kernel)
    return settings, log, data, note, frameworks, env, _machine(settings, env, log)


def run_benchmark(settings=None, log=None):
    """Run the comparison described in the module docstring.

    Parameters
    ----------
    settings : BenchSettings, optional
        Defaults: the four configurations, all cores, 2 epochs, 3 repeats.
    log : callable, optional
        Called with one line of progress per worker.

    Returns
    -------
    dict
        JSON-ready: ``data``, ``settings``, ``machine`` (matmul peak, BLAS, threads),
        ``startup``, ``trials`` (every worker's raw result), ``summary`` (one row per
        configuration and framework) and ``ratios`` (one row per configuration).
    """
    settings, log, data, note, frameworks, env, machine = _setup(settings, log)
    trials = []
    for repeat in range(settings.repeats):
        for name in settings.configs:
            for framework in frameworks:                         # alternating frameworks
                trial = _config_trial(settings, name, framework, data)
                log(f"repeat {repeat + 1}/{settings.repeats}: {name} {framework}")
                trials.append({"config": name, "repeat": repeat,
                               **spawn("trial", asdict(trial), env)})
    summary = summarise(trials, machine["matmul_peak_gflops"])
    log("startup times")
    return {"data": {"source": data, "note": note}, "settings": _json_settings(settings),
            "frameworks": list(frameworks), "machine": machine,
            "startup": startup_times(settings.startup_repeats),
            "trials": trials, "summary": summary, "ratios": ratios(summary)}


def _data_source(settings):
    if settings.synthetic:
        return "synthetic", "synthetic data (asked for): Fashion-MNIST's shapes, made-up images"
    if fashion_mnist_installed():
        return "fashion-mnist", "Fashion-MNIST"
    return "synthetic", ("SYNTHETIC data: Fashion-MNIST is not installed (apt-get install "
                         "dataset-fashion-mnist); same shapes, made-up images")


def _config_trial(settings, name, framework, data):
    setting = CONFIGS[name]
    return Trial(framework=framework, optimizer=setting.optimizer, lr=setting.lr,
                 batch_size=setting.batch_size, hidden=settings.hidden, epochs=settings.epochs,
                 threads=settings.threads, data=data, n_train=settings.n_train,
                 n_test=settings.n_test)


def _machine(settings, env, log):
    log(f"matmul peak ({settings.peak_size}×{settings.peak_size} float32)")
    peak = spawn("peak", {"n": settings.peak_size, "repeats": settings.peak_repeats,
                          "threads": settings.threads}, env)
    return {"matmul_peak_gflops": peak["gflops"], "blas": peak["blas"],
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


def _summary_row(config, framework, group, peak_gflops):
    seconds = statistics.median(s for t in group for s in timed_epochs(t["epoch_seconds"]))
    samples_per_s = group[0]["n_train"] / seconds
    gflops = training_flops(mlp_widths(group[0]["trial"]["hidden"])) * samples_per_s / 1e9
    return {"config": config, "framework": framework, "batch_size": group[0]["trial"]["batch_size"],
            "seconds_per_epoch": seconds, "samples_per_s": samples_per_s,
            "peak_rss_mib": statistics.median(t["peak_rss_mib"] for t in group),
            "test_acc": statistics.median(t["test_acc"] for t in group),
            "gflops": gflops, "peak_fraction": gflops / peak_gflops, "trials": len(group)}


def ratios(summary):
    """Per configuration with both frameworks: speed torch_time / numpynn_time (> 1: numpynn
    is faster) and memory numpynn_rss / torch_rss (< 1: numpynn uses less), with the targets."""
    rows = {(row["config"], row["framework"]): row for row in summary}
    out = []
    for config in dict.fromkeys(row["config"] for row in summary):
        ours, theirs = rows.get((config, "numpynn")), rows.get((config, "torch"))
        if ours is None or theirs is None:
            continue
        out.append({"config": config,
                    "speed": theirs["seconds_per_epoch"] / ours["seconds_per_epoch"],
                    "speed_target": SPEED_TARGETS.get(ours["batch_size"]),
                    "memory": ours["peak_rss_mib"] / theirs["peak_rss_mib"],
                    "memory_target": MEMORY_TARGET})
    return out


# -- scaling: samples/s as the batch and the width grow (issue 5, item 4) --------------------
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
    settings, log, data, note, frameworks, env, machine = _setup(settings, log)
    rows = []
    for sweep, batch, hidden in scaling_points(batch_sizes, widths):
        n_train = scaling_samples(batch, hidden, settings.n_train or 60000)
        results = {framework: [] for framework in frameworks}
        for repeat in range(settings.repeats):
            for framework in frameworks:
                log(f"scaling {sweep}: batch {batch}, hidden {hidden}, {framework}")
                trial = Trial(framework=framework, batch_size=batch, hidden=hidden,
                              epochs=settings.epochs, threads=settings.threads, data=data,
                              n_train=n_train, n_test=settings.n_test)
                results[framework].append(spawn("trial", asdict(trial), env))
        rows += _scaling_rows(sweep, batch, hidden, results, machine["matmul_peak_gflops"])
    return {"data": {"source": data, "note": note}, "machine": machine, "rows": rows}


def _scaling_rows(sweep, batch, hidden, results, peak_gflops):
    rows = []
    for framework, trials in results.items():
        seconds = statistics.median(s for t in trials for s in timed_epochs(t["epoch_seconds"]))
        samples_per_s = trials[0]["n_train"] / seconds
        gflops = training_flops(mlp_widths(hidden)) * samples_per_s / 1e9
        rows.append({"sweep": sweep, "batch_size": batch, "hidden": list(hidden),
                     "framework": framework, "n_train": trials[0]["n_train"],
                     "seconds_per_epoch": seconds, "samples_per_s": samples_per_s,
                     "gflops": gflops, "peak_fraction": gflops / peak_gflops})
    if len(rows) == 2:
        rows[0]["speed"] = rows[1]["seconds_per_epoch"] / rows[0]["seconds_per_epoch"]
    return rows


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
    dout·Wᵀ (B, M)(M, D); float32.
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
        x.T @ dout                                                   # (D, M)
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
    data, note = _data_source(settings)
    env = worker_env(settings.threads, settings.native_kernel)
    profiles = {}
    for name in settings.configs:
        log(f"profile {name}")
        trial = _config_trial(settings, name, "numpynn", data)
        profiles[name] = spawn("profile", {"trial": asdict(trial)}, env)
    return {"data": {"source": data, "note": note}, "profiles": profiles}


# -- the worker: python -m numpynn.bench JOB SPEC_JSON, printing one JSON line -----------------
JOBS = {
    "trial": lambda spec: run_trial(Trial.from_dict(spec)),
    "peak": _peak_job,
    "profile": lambda spec: profile_epoch(Trial.from_dict(spec["trial"]), **spec.get("kw", {})),
}


def _worker(argv):
    job, spec = argv
    print(json.dumps(choose(job, JOBS, "benchmark job")(json.loads(spec))))


if __name__ == "__main__":
    _worker(sys.argv[1:])
