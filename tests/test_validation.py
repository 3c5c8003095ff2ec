"""The shared argument checks in numpynn._helpers.validation."""
import tracemalloc

import numpy as np
import pytest

from numpynn._helpers.validation import all_finite, check_array


@pytest.mark.parametrize("values, expected", [
    ([0.0, 1.0, -2.5], True),
    ([], True),
    ([3e38, 3e38, 3e38], True),            # the sum overflows, every entry is finite
    ([1.0, np.nan], False),
    ([np.inf, 1.0], False),
    ([np.inf, -np.inf], False),            # the sum is NaN
    ([3e38, 3e38, np.nan], False),
])
def test_all_finite(values, expected):
    assert all_finite(np.array(values, dtype=np.float32)) is expected


def test_finite_check_allocates_no_copy_of_the_data():
    x = np.ones((2000, 784), dtype=np.float32)             # 6.3 MB; its bool copy is 1.6 MB
    tracemalloc.start()
    try:
        check_array(x, "X")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000


def test_check_array_counts_the_bad_entries():
    x = np.ones((3, 4), dtype=np.float32)
    x[0, 1], x[2, 3] = np.nan, -np.inf
    with pytest.raises(ValueError, match=r"Trainer.fit: X contains 2 NaN or inf value\(s\)"):
        check_array(x, "X", where="Trainer.fit")
