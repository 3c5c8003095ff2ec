"""64-byte aligned arrays (numpynn._speed.aligned) and the arrays of the hot path that use them."""
import numpy as np
import pytest

import numpynn as nn
from numpynn._speed import aligned
from numpynn._speed.aligned import address
from numpynn._speed.segments import packed_vector


def is_aligned(a):
    return address(a) % aligned.ALIGNMENT == 0


@pytest.mark.parametrize("shape", [0, 1, 7, (3, 5), (64, 784), (2, 0, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, bool])
def test_empty_is_aligned_contiguous_and_writeable(shape, dtype):
    a = aligned.empty(shape, dtype)
    assert a.shape == ((shape,) if isinstance(shape, int) else shape) and a.dtype == dtype
    assert (a.size == 0 or is_aligned(a)) and a.flags.c_contiguous and a.flags.writeable
    a[...] = 1
    assert np.all(a == 1)


def test_filled_variants_hold_their_values():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    for made, expected in ((aligned.zeros_like(x), np.zeros_like(x)),
                           (aligned.full_like(x, 2.5), np.full_like(x, 2.5)),
                           (aligned.copy(x), x), (aligned.copy(x.T), x.T)):
        assert is_aligned(made) and made.flags.c_contiguous
        np.testing.assert_array_equal(made, expected)
        assert made.dtype == expected.dtype


def test_model_and_optimizer_keep_their_arrays_aligned():
    model = nn.Sequential(nn.Linear(6, 5, rng=0), nn.ReLU(), nn.Linear(5, 3, rng=1))
    for table in (model.params(), model.grads()):
        assert is_aligned(packed_vector(list(table.values())))
    opt = nn.optim.Adam(model.params())
    assert all(is_aligned(buf) for buf in opt.state["0.W"].values())


def test_packed_vector_views_any_adjacent_run_of_one_base_and_nothing_else():
    base = np.arange(20.0)
    a, b, c = base[2:8].reshape(2, 3), base[8:12], base[12:20]
    vector = packed_vector([a, b, c])
    np.testing.assert_array_equal(vector, base[2:20])
    vector[0] = -1                                       # a view: writes reach the arrays
    assert a[0, 0] == -1
    assert packed_vector([a, c]) is None                 # a gap
    assert packed_vector([b, a]) is None                 # out of order
    assert packed_vector([a, np.arange(4.0)]) is None    # another base
    assert packed_vector([base[0:4], base[4:8].view(np.int64)]) is None   # another dtype
    assert packed_vector([base[0:8:2], base[8:12]]) is None               # not contiguous
    assert packed_vector([np.arange(3.0), np.arange(3.0)]) is None        # owners, no base
