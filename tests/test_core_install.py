"""``pip install numpynn`` without extras, from the user's side: the library and every command
that needs no optional package work; a command that needs one says which, in one line.

The core-only environment is built once for this module, offline, in a few seconds:

1. ``python -m venv --without-pip`` with the interpreter running the tests (so the suite run
   on Python 3.10 checks a 3.10 core install, on 3.13 a 3.13 one).
2. NumPy, and tomli below Python 3.11, come from the test environment itself: a ``.pth`` file
   in the new venv names a folder holding symlinks to those packages alone. The venv sees
   nothing else of the test environment (``--system-site-packages`` would show scikit-learn,
   matplotlib, tqdm and torch too, and a core install is exactly their absence).
3. numpynn is built into a wheel by the test environment's pip and setuptools from a copy of
   pyproject.toml, README.md and numpynn/ (``pip wheel --no-deps --no-build-isolation
   --no-index``: no network, and no build files land in the work tree), then installed into
   the venv with ``pip --python VENV/bin/python install --no-deps --no-index``: a plain
   non-editable install, whose ``numpynn`` script runs on the venv's interpreter.

Every command then runs as a subprocess of that script in a temporary folder, so the work
tree's numpynn cannot be imported by accident (the first test checks it is not).
"""
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numpynn.cli.commands.bench import NOT_A_CHECKOUT

REPO = Path(__file__).resolve().parent.parent
# packages of a core install (pyproject's dependencies): import name -> its site-packages entries
CORE = {"numpy": ("numpy", "numpy.libs", "numpy-*.dist-info")}
if sys.version_info < (3, 11):
    CORE["tomli"] = ("tomli", "tomli-*.dist-info")
EXTRAS = ("sklearn", "matplotlib", "tqdm", "threadpoolctl", "torch")
INSTALL_HINT = 'pip install "numpynn[all]"'
IDX_FILES = {"train-images-idx3-ubyte": (60, 28, 28), "train-labels-idx1-ubyte": (60,),
             "t10k-images-idx3-ubyte": (20, 28, 28), "t10k-labels-idx1-ubyte": (20,)}


def _pip(*args, cwd):
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                   cwd=cwd, check=True, capture_output=True, text=True)


def _core_packages_folder(target):
    """``target`` holding symlinks to the core packages of the test environment."""
    target.mkdir()
    for module, patterns in CORE.items():
        site = Path(__import__(module).__file__).resolve().parent.parent
        for pattern in patterns:
            for entry in site.glob(pattern):
                (target / entry.name).symlink_to(entry)
    return target


def _write_idx_set(folder):
    """A tiny MNIST in the official IDX format (magic 0x0000080<ndim>, then the sizes)."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, shape in IDX_FILES.items():
        high = 256 if len(shape) == 3 else 10
        array = rng.integers(0, high, shape, dtype=np.uint8)
        header = struct.pack(">I", 0x800 + array.ndim) + struct.pack(f">{array.ndim}I", *shape)
        (folder / name).write_bytes(header + array.tobytes())
    return folder


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    """The core-only venv (see the module docstring); returns a ``run(*argv)`` helper."""
    root = tmp_path_factory.mktemp("core")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "numpynn-core-packages.pth").write_text(
        f"{_core_packages_folder(root / 'core-packages')}\n")
    source = root / "source"
    shutil.copytree(REPO / "numpynn", source / "numpynn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(root / "dist"),
         str(source), cwd=root)
    wheel, = (root / "dist").glob("numpynn-*.whl")
    _pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel), cwd=root)
    work = root / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "NUMPYNN_DEBUG")}
    env["NUMPYNN_DATA"] = str(root / "no-data")  # never the user's dataset cache

    def run(*argv, python_code=None):
        command = ([str(python), "-c", python_code] if python_code is not None
                   else [str(venv / "bin" / "numpynn"), *map(str, argv)])
        return subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                              timeout=120)

    run.work, run.mnist = work, _write_idx_set(root / "mnist")
    return run


@pytest.fixture(scope="module")
def mnist_run(core):
    """One 2-epoch run on the tiny MNIST: no extra is needed, so it must train and save."""
    result = core("train", "--dataset", "mnist", "--data-dir", core.mnist, "--no-download",
                  "--epochs", 2, "--hidden", 8, "--out", "run")
    return core.work / "run", result


def test_the_venv_holds_numpynn_and_numpy_only(core):
    code = ("import importlib.util, numpynn\n"
            "print(numpynn.__file__)\n"
            f"print([m for m in {EXTRAS!r} if importlib.util.find_spec(m)])\n")
    result = core(python_code=code)
    assert result.returncode == 0, result.stderr
    where, extras = result.stdout.splitlines()
    assert "site-packages" in where and not where.startswith(str(REPO)), where
    assert extras == "[]"


def test_a_trainer_fits_and_shows_progress_as_lines_without_tqdm(core):
    code = ("import numpy as np, numpynn as nn\n"
            "rng = np.random.default_rng(0)\n"
            "X = rng.normal(size=(64, 3)).astype(np.float32); y = (X[:, 0] > 0).astype(int)\n"
            "model = nn.Sequential(nn.Linear(3, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))\n"
            "trainer = nn.Trainer(model, nn.SoftmaxCrossEntropy(), nn.Adam(model.params(),"
            " lr=0.05), progress='bar')\n"
            "trainer.fit(X, y, epochs=3, batch_size=16)\n"
            "print(f'acc={trainer.evaluate(X, y)[\"acc\"]:.2f}')\n")
    result = core(python_code=code)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^Epoch 3/3 loss=", result.stdout, re.M), result.stdout
    assert "tqdm is not installed" in result.stderr and INSTALL_HINT in result.stderr


@pytest.mark.parametrize("argv, last_line", [
    (["--version"], r"numpynn \d"),
    (["explain", "--example", "relu-1-4-1"], r"b2\[1\]"),
    (["descent", "--steps", "5"], r"final \(gd\): x = "),
    (["fit", "--x", "0,1,2,3", "--y", "0,1,0,1", "--hidden", "3"], r"max_abs_error="),
], ids=["version", "explain", "descent", "fit"])
def test_commands_that_need_no_extra_run(core, argv, last_line):
    result = core(*argv)
    assert result.returncode == 0, result.stderr
    assert re.match(last_line, result.stdout.strip().splitlines()[-1].strip()), result.stdout
    assert result.stderr == ""


def test_train_saves_the_run_and_skips_pictures_with_one_warning(mnist_run):
    run_dir, result = mnist_run
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("test_acc=")
    assert result.stderr.splitlines() == [
        "numpynn train: warning: matplotlib is not installed, so the run folder gets no "
        f"pictures ({INSTALL_HINT} draws them; --no-plots skips them quietly)"]
    for name in ("config.toml", "model.npz", "model-best.npz", "history.csv", "metrics.json",
                 "summary.txt", "checkpoints/last.npz"):
        assert (run_dir / name).is_file(), name
    assert not list(run_dir.glob("*.png"))


def test_summary_and_evaluate_read_the_run(core, mnist_run):
    run_dir, _ = mnist_run
    summary = core("summary", run_dir)
    assert summary.returncode == 0, summary.stderr
    assert summary.stdout.strip().splitlines()[-1].startswith("Test: test_acc=")
    evaluate = core("evaluate", run_dir, "--data-dir", core.mnist, "--no-download")
    assert evaluate.returncode == 0, evaluate.stderr
    assert evaluate.stdout.startswith("mnist test set (20 samples, model.npz): test_acc=")


@pytest.mark.parametrize("argv, needs", [
    (["train"], "the digits dataset needs scikit-learn"),  # digits is the default dataset
    (["train", "--dataset", "digits-binary", "--out", "binary"],
     "the digits dataset needs scikit-learn"),
    (["evaluate", "run", "--dataset", "digits"], "the digits dataset needs scikit-learn"),
    (["descent", "--plot", "descent.png"], "--plot needs matplotlib"),
], ids=["train", "train-digits-binary", "evaluate-on-digits", "descent-plot"])
def test_commands_that_need_an_extra_say_so_in_one_line_before_any_work(core, mnist_run,
                                                                        argv, needs):
    before = sorted(p.name for p in core.work.iterdir())
    result = core(*argv)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"numpynn {argv[0]}: error: {needs}: {INSTALL_HINT}"]
    assert result.stdout == ""  # nothing trained, nothing descended
    assert sorted(p.name for p in core.work.iterdir()) == before  # no run folder, no picture


def test_bench_says_it_needs_a_checkout(core):
    result = core("bench", "--smoke")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"numpynn bench: error: {NOT_A_CHECKOUT}"]
