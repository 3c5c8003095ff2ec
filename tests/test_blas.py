"""BLAS's axpy (y += alpha x) from NumPy's own OpenBLAS, its NumPy fallback, and SGD's update
through it, against PyTorch's ``add_(x, alpha=...)`` (one rounding, like a fused multiply-add)."""
import subprocess
import sys

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

from numpynn._speed import blas as _blas
from numpynn._speed.blas import axpy
from numpynn.optim import SGD
from numpynn.threads import threads

SIZES = [1, 7, 10_001, 242_762]   # OpenBLAS threads an axpy above 10,000 elements


def vectors(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
def test_axpy_rounds_once_like_torch_add_with_alpha(dtype, n):
    x, y = vectors(n, dtype)
    expected = torch.from_numpy(y.copy()).add_(torch.from_numpy(x), alpha=-0.0123).numpy()
    out = axpy(-0.0123, x, y, np.empty_like(y))
    assert out is y
    np.testing.assert_array_equal(y, expected)


def test_axpy_gives_the_same_bits_on_one_or_two_threads():
    x, y0 = vectors(242_762, np.float32)
    results = []
    for n in (1, 2):
        with threads(n):
            results.append(axpy(0.37, x, y0.copy(), np.empty_like(y0)))
    np.testing.assert_array_equal(results[0], results[1])


def numpy_two_passes(alpha, x, y):
    return y - x * np.asarray(-alpha, dtype=y.dtype)


@pytest.mark.torch
def test_fallback_is_numpys_two_passes(monkeypatch):
    monkeypatch.setattr(_blas, "_ROUTINES", {})
    x, y = vectors(10_001, np.float32)
    expected = numpy_two_passes(-0.0123, x, y)
    axpy(-0.0123, x, y, np.empty_like(y))
    np.testing.assert_array_equal(y, expected)
    assert not np.array_equal(y, torch.from_numpy(y.copy()).add_(torch.from_numpy(x),
                                                                 alpha=-0.0123).numpy())


def test_non_contiguous_arrays_take_the_fallback():
    x, y = vectors(2_000, np.float32)
    grid, before = y.reshape(40, 50), y.reshape(40, 50).copy()
    view, x = grid[:, ::2], x[:1_000].reshape(40, 25)   # a strided view: BLAS is not called
    expected = numpy_two_passes(0.5, x, view)
    axpy(0.5, x, view, np.empty(view.shape, np.float32))
    np.testing.assert_array_equal(view, expected)
    np.testing.assert_array_equal(grid[:, 1::2], before[:, 1::2])   # the gaps are untouched


def test_fallback_may_reuse_x_as_scratch(monkeypatch):
    monkeypatch.setattr(_blas, "_ROUTINES", {})
    x, y = vectors(100, np.float64)
    expected = numpy_two_passes(2.0, x, y)
    axpy(2.0, x, y, x)
    np.testing.assert_array_equal(y, expected)


def test_environment_variable_forces_the_numpy_fallback():
    code = "import numpynn._speed.blas as b; print(b.BACKEND, len(b._ROUTINES))"
    found = f"{_blas.BACKEND} {len(_blas._ROUTINES)}"  # "blas 2" on NumPy's wheel (check_env.py)
    for value, expected in (("numpy", "numpy 0"), ("", found)):
        env = {"NUMPYNN_BLAS": value, "PATH": ""}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout.split("\n")[0]
        assert out == expected


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.9}, {"momentum": 0.9, "dampening": 0.3}])
def test_sgd_steps_are_bit_identical_to_torch_in_float32(kwargs):
    # plain and momentum SGD: PyTorch's p.add_(d, alpha=-lr) is exactly BLAS's axpy
    rng = np.random.default_rng(1)
    p = rng.standard_normal((300, 257)).astype(np.float32)
    t = torch.tensor(p.copy(), requires_grad=True)
    ours, theirs = SGD({"W": p}, lr=0.05, **kwargs), torch.optim.SGD([t], lr=0.05, **kwargs)
    for _ in range(30):
        g = rng.standard_normal(p.shape).astype(np.float32)
        ours.step({"W": g})
        t.grad = torch.from_numpy(g)
        theirs.step()
    np.testing.assert_array_equal(p, t.detach().numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5), (64, 10), (784, 256)])   # NumPy's, then BLAS's
def test_outer_gives_matmuls_bits(dtype, shape):
    rng = np.random.default_rng(3)
    x, y = (rng.standard_normal((1, n)).astype(dtype) for n in shape)   # (1, M) and (1, N)
    out = np.empty(shape, dtype)
    assert _blas.outer(x, y, out) is out
    np.testing.assert_array_equal(out, np.matmul(x.T, y))


def test_outer_without_blas_is_numpys_broadcast(monkeypatch):
    monkeypatch.setattr(_blas, "_GEMM", {})
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal(300).astype(np.float32), rng.standard_normal(200).astype(np.float32)
    np.testing.assert_array_equal(_blas.outer(x, y, np.empty((300, 200), np.float32)),
                                  np.multiply.outer(x, y))
