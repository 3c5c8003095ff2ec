"""Thread control: set_threads, the threads() context manager and thread_env for children."""
import subprocess
import sys

import numpy as np
import pytest

import numpynn as nn
from numpynn import threads


def test_set_threads_changes_the_blas_count_and_threads_restores_it():
    before = threads.get_threads()
    try:
        nn.set_threads(1)
        assert threads.get_threads() == 1
        with threads.threads(2):
            assert threads.get_threads() == 2
        assert threads.get_threads() == 1
    finally:
        nn.set_threads(before)
    assert threads.get_threads() == before


def test_blas_info_names_the_library_numpy_uses():
    np.ones((2, 2)) @ np.ones((2, 2))
    assert {info["internal_api"] for info in threads.blas_info()} & {"openblas", "mkl", "blis"}


def test_thread_env_starts_a_child_with_that_many_threads():
    code = "import numpynn.threads as t, numpy; print(t.get_threads())"
    out = subprocess.run([sys.executable, "-c", code], env=threads.thread_env(1),
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "2"])
def test_bad_counts_say_how_many_cores_there_are(n):
    with pytest.raises(ValueError, match=r"n must be an integer >= 1; got .*\nhelp: this machine "
                                         r"has \d+ core"):
        nn.set_threads(n)
