"""Thread control: set_threads, the threads() context manager and thread_env for children."""
import os
import subprocess
import sys

import numpy as np
import pytest
import threadpoolctl

try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

import numpynn as nn
from numpynn import threads as threads_module
from numpynn.threads import get_threads, set_threads, threads


def blas_threads():
    """Thread counts of the loaded BLAS libraries, as threadpoolctl reports them."""
    return [info["num_threads"] for info in threadpoolctl.threadpool_info()
            if info["user_api"] == "blas"]


def test_set_threads_changes_the_blas_count_and_threads_restores_it():
    before = get_threads()
    try:
        nn.set_threads(1)
        assert get_threads() == 1
        with threads(2):
            assert get_threads() == 2
        assert get_threads() == 1
    finally:
        nn.set_threads(before)
    assert get_threads() == before


def test_blas_info_names_the_library_numpy_uses():
    np.ones((2, 2)) @ np.ones((2, 2))
    assert {info["internal_api"] for info in threads_module.blas_info()} & {"openblas", "mkl", "blis"}


def test_thread_env_starts_a_child_with_that_many_threads():
    code = "import numpynn.threads as t, numpy; print(t.get_threads())"
    out = subprocess.run([sys.executable, "-c", code], env=threads_module.thread_env(1),
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


# -- with PyTorch loaded: its pool follows -----------------------------------------------------
@pytest.mark.torch
def test_threads_sets_and_restores_blas_and_torch():
    before, torch_before = blas_threads(), torch.get_num_threads()
    n = 1 if max(before) != 1 else 2
    with threads(n):
        assert blas_threads() == [n] * len(before)
        assert get_threads() == n and torch.get_num_threads() == n
    assert blas_threads() == before and torch.get_num_threads() == torch_before


@pytest.mark.torch
def test_set_threads_stays_until_changed():
    before, torch_before = max(blas_threads()), torch.get_num_threads()
    n = 1 if before != 1 else 2
    try:
        set_threads(n)
        assert blas_threads() == [n] * len(blas_threads()) and torch.get_num_threads() == n
    finally:
        set_threads(before)
        torch.set_num_threads(torch_before)
    assert max(blas_threads()) == before


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                        (True, TypeError), ("2", TypeError)])
def test_thread_count_must_be_a_positive_integer(bad, error):
    with pytest.raises(error, match=r"threads: n must be an integer >= 1; got .*\nhelp: this "
                                    r"machine has \d+ core"), threads(bad):
        pass


# -- Trainer.fit's choice when the user made none ------------------------------------------------
def numpy_blas_threads():
    """The thread count of the BLAS inside NumPy's wheel (numpy.libs/, numpy/.dylibs/): other
    libraries (SciPy, scikit-learn) bring BLAS copies of their own."""
    counts = [info["num_threads"] for info in threadpoolctl.threadpool_info()
              if info["user_api"] == "blas" and "numpy" in info["filepath"].split(os.sep)[-2]]
    assert counts, "NumPy's own BLAS was not found by threadpoolctl"
    return max(counts)


class ThreadsSeen(nn.SoftmaxCrossEntropy):
    """Softmax cross-entropy that records NumPy's BLAS thread count at every call."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def _compute(self, pred, target):
        self.seen.append(numpy_blas_threads())
        return super()._compute(pred, target)


def fit_seeing_threads(batch_size, widths=(784, 64, 10)):
    """The BLAS thread counts seen by a fit's training steps."""
    rng = np.random.default_rng(0)
    X, y = rng.random((8, widths[0]), dtype=np.float32), rng.integers(widths[-1], size=8)
    model = nn.models.mlp(widths[0], widths[1:-1], widths[-1], rng=0)
    loss = ThreadsSeen()
    nn.Trainer(model, loss, nn.optim.SGD(model.params(), lr=0.01), progress=False,
               rng=0).fit(X, y, epochs=2, batch_size=batch_size)
    return set(loss.seen[1:])   # the first call: fit's check of the loss, before training


@pytest.fixture
def nobody_chose(monkeypatch):
    """No count set by set_threads, threads() or the environment; BLAS on 2 threads."""
    for name in threads_module.THREAD_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads_module, "_chosen", {"set": None, "blocks": []})
    with threadpoolctl.threadpool_limits(2):   # every count as it was after the test
        yield


@pytest.mark.parametrize("batch_size", [1, 4])   # the course MLP: 1.4 and 5.6 MFLOP a step
def test_a_sample_by_sample_fit_trains_on_one_blas_thread_and_restores_the_count(
        nobody_chose, batch_size):
    assert threads_module.chosen() is None
    assert numpy_blas_threads() == 2
    assert fit_seeing_threads(batch_size, widths=(784, 256, 128, 64, 10)) == {1}
    assert numpy_blas_threads() == 2


def test_large_steps_keep_the_blas_thread_count(nobody_chose):
    assert fit_seeing_threads(batch_size=8, widths=(784, 512, 10)) == {2}
    assert numpy_blas_threads() == 2


def test_a_count_the_user_chose_wins_over_the_fits_choice(nobody_chose, monkeypatch):
    with threads(2):
        assert threads_module.chosen() == 2
        assert fit_seeing_threads(batch_size=1) == {2}
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert threads_module.chosen() == 2
    assert fit_seeing_threads(batch_size=1) == {2}
