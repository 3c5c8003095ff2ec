"""One benchmark trial: settings, data, the numpynn and PyTorch training loops (the hand loop
is :mod:`benchmarks.handloop`), machine measurements and the worker processes that run trials."""
import json
import os
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from importlib.util import find_spec
from itertools import pairwise
from pathlib import Path
from time import perf_counter

import numpy as np

from benchmarks.handloop import train_numpy
from benchmarks.network import (
    HIDDEN,
    N_CLASSES,
    N_FEATURES,
    count_weights,
    initial_weights,
    mlp_widths,
    run_epochs,
)
from numpynn._helpers.validation import choose
from numpynn.threads import available_cores, set_threads, thread_env
from numpynn.training.callbacks import Callback

FRAMEWORKS = ("numpynn", "torch")        # the default comparison
# "numpy": the hand-written loop (benchmarks.handloop), the floor numpynn is measured against
ALL_FRAMEWORKS = ("numpynn", "numpy", "torch")
MIB = 2 ** 20
# every subprocess runs in the checkout's root, so `python -m benchmarks.worker` imports this
# checkout's benchmarks and numpynn whatever the caller's working directory
REPOSITORY = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setting:
    """One configuration of the comparison: optimizer (a key of ``numpynn.optim.OPTIMIZERS``,
    the same name in ``torch.optim``), batch size and learning rate."""

    optimizer: str
    batch_size: int
    lr: float


CONFIGS = {
    "sgd-1": Setting("sgd", 1, 0.01),      # sample by sample: 60,000 steps an epoch
    "sgd-64": Setting("sgd", 64, 0.01),
    "adam-64": Setting("adam", 64, 1e-3),
    "sgd-256": Setting("sgd", 256, 0.01),
    "adam-256": Setting("adam", 256, 1e-3),
}
DEFAULT_CONFIGS = ("sgd-64", "adam-64", "sgd-256", "adam-256")
# the targets: speed (torch time / numpynn time) per configuration, and peak RSS ratio
SPEED_TARGETS = {"sgd-1": 1.5, "sgd-64": 1.5, "adam-64": 1.5, "sgd-256": 1.0, "adam-256": 1.3}
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
    """What :func:`~benchmarks.compare.run_benchmark` runs; :mod:`benchmarks.cli` maps the
    flags onto these fields."""

    configs: tuple = DEFAULT_CONFIGS
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
    frameworks: tuple | None = None       # None: numpynn, and torch when it is installed;
                                          # any of ALL_FRAMEWORKS ("numpy": the hand loop)
    sweep_threads: tuple | None = None    # --scaling's thread counts; None: 1 and threads

    @classmethod
    def smoke(cls, **overrides):
        """CI's quick run: 512 synthetic samples, one epoch, one repeat, a small peak matmul,
        one start-up measurement, the machine's OpenBLAS settings left as they are, and the
        hand-written loop as well (so that it never rots either)."""
        quick = {"configs": ("sgd-64", "adam-256"), "epochs": 1, "repeats": 1,
                 "synthetic": True, "n_train": 512, "n_test": 256, "peak_size": 512,
                 "peak_repeats": 3, "startup_repeats": 1, "native_kernel": False,
                 "frameworks": ("numpynn", "numpy", *available_frameworks()[1:]),
                 "sweep_threads": (available_cores(),)}
        return cls(**{**quick, **overrides})

    def __post_init__(self):
        for name in self.configs:
            choose(name, CONFIGS, "benchmark configuration")
        for name in self.frameworks or ():
            choose(name, dict.fromkeys(ALL_FRAMEWORKS), "framework")
        for name in ("threads", "epochs", "repeats", "peak_size", "peak_repeats", "n_train"):
            value = getattr(self, name)
            if name == "n_train" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"BenchSettings: {name} must be an integer >= 1; got {value!r}")


# -- data ------------------------------------------------------------------------------------
def fashion_mnist_installed():
    """True when Fashion-MNIST's files are found without downloading (e.g. Debian's package)."""
    from numpynn.data.fetch import DatasetNotFoundError, locate
    from numpynn.data.formats import resolve_idx
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
    from numpynn.training.trainer import Trainer
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


def torch_mlp(hidden, weights=None):
    """``torch.nn.Sequential`` of Linear and ReLU layers with the widths ``mlp_widths(hidden)``;
    with ``weights`` (a list of ``(W, b)``, W of shape (D_in, D_out)) it starts from them —
    torch keeps W transposed, (D_out, D_in) — instead of drawing its own."""
    import torch
    widths = mlp_widths(hidden)
    layers = []
    for d_in, d_out in pairwise(widths):
        layers += [torch.nn.Linear(d_in, d_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])  # no ReLU after the output layer
    with torch.no_grad():
        for linear, (W, b) in zip(model[::2], weights or ()):
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
    return model


def torch_epoch(model, optimizer, X, y, order, batch_size):
    """One epoch of the plain PyTorch loop over the samples ``order`` (a LongTensor): batches
    by ``index_select``, ``zero_grad / backward / step``, every step's loss read with
    ``.item()``; returns the mean step loss."""
    import torch
    loss_fn, total, n_steps = torch.nn.CrossEntropyLoss(), 0.0, 0
    for first in range(0, len(order), batch_size):
        idx = order[first:first + batch_size]
        xb, yb = X.index_select(0, idx), y.index_select(0, idx)  # (B, D), (B,)
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total, n_steps = total + loss.item(), n_steps + 1
    return total / n_steps


def torch_optimizer(model, trial):
    """``torch.optim.SGD`` or ``Adam`` (the trial's optimizer) with the trial's lr."""
    import torch
    name = {"sgd": "SGD", "adam": "Adam"}[trial.optimizer]
    return getattr(torch.optim, name)(model.parameters(), lr=trial.lr)


def _train_torch(trial, data):
    import torch
    set_threads(trial.threads)  # torch is imported: its intra-op pool is set too
    X, y, X_test, y_test = (torch.from_numpy(np.ascontiguousarray(a)) for a in data)
    model = torch_mlp(trial.hidden, initial_weights(trial.hidden, trial.seed))
    optimizer = torch_optimizer(model, trial)
    seconds, fit_seconds, loss = run_epochs(trial, lambda rng: torch_epoch(
        model, optimizer, X, y, torch.from_numpy(rng.permutation(len(X))), trial.batch_size))
    with torch.no_grad():
        correct = sum(int((model(X_test[i:i + 1024]).argmax(1) == y_test[i:i + 1024]).sum())
                      for i in range(0, len(X_test), 1024))
    return {"epoch_seconds": seconds, "fit_seconds": fit_seconds, "train_loss": loss,
            "test_acc": correct / len(X_test), "weights": count_weights(model),
            "torch_threads": torch.get_num_threads()}


TRAINERS = {"numpynn": _train_numpynn, "numpy": train_numpy, "torch": _train_torch}


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


def peak_job(spec):
    from numpynn._speed import blas as _blas
    set_threads(spec["threads"])
    return {"gflops": matmul_peak(spec["n"], spec["repeats"]), "blas": blas_summary(),
            "axpy": _blas.BACKEND}


STARTUP_SNIPPETS = {
    # label -> code run in a fresh interpreter; it prints the seconds it measured itself
    "import numpynn": "import numpynn",
    "import numpynn + Trainer (NumPy loaded)": "import numpynn; numpynn.Trainer",
}


def startup_times(repeats=5):
    """Median seconds, each over ``repeats`` fresh interpreters, of ``import numpynn`` (timed
    inside the process), of the import with the Trainer and NumPy loaded, of ``numpynn
    --help`` (wall time, interpreter start included) and, for scale, of ``python -c pass``.

    What a user's import costs: bytecode cached, as Python does by default. An environment
    that sets ``PYTHONDONTWRITEBYTECODE`` would time the compiling of every module instead
    (3 ms against 0.2-0.5 ms for ``import numpynn``), so the variable is dropped here and one
    untimed run of each snippet writes the cache first."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = {}
    for label, code in STARTUP_SNIPPETS.items():
        cmd = [sys.executable, "-c",
               f"import time; _t = time.perf_counter(); {code}; print(time.perf_counter() - _t)"]
        _run(cmd, env)   # writes the bytecode cache
        times[label] = statistics.median(float(_run(cmd, env).stdout) for _ in range(repeats))
    for label, code in (("numpynn --help (wall)", "from numpynn.cli import main; main()"),
                        ("python -c pass (wall)", "pass")):
        cmd = [sys.executable, "-c", code, "--help"]
        _run(cmd, env)
        times[label] = statistics.median(_wall(cmd, env) for _ in range(repeats))
    return times


def _wall(cmd, env=None):
    start = perf_counter()
    _run(cmd, env)
    return perf_counter() - start


def _run(cmd, env=None):
    proc = subprocess.run(cmd, env=env, cwd=REPOSITORY, capture_output=True, text=True,
                          check=False)
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
    """Run worker ``job`` (a key of :data:`benchmarks.worker.JOBS`) on ``spec`` in a fresh
    interpreter, ``python -m benchmarks.worker JOB SPEC``; returns the JSON line it printed."""
    proc = _run([sys.executable, "-m", "benchmarks.worker", job, json.dumps(spec)], env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def available_frameworks():
    """numpynn, and torch when it can be imported (checked without importing it)."""
    return FRAMEWORKS if find_spec("torch") is not None else FRAMEWORKS[:1]
