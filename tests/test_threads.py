"""Thread control: set_threads, the threads() context manager and thread_env for children."""
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
