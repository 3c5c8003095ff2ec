import numpy as np
import pytest

from numpynn.init import INITIALIZERS, initialize

SHAPE = (400, 300)  # fan_in, fan_out: large enough for tight moment estimates

EXPECTED_STD = {
    "normal": 0.01,
    "xavier_uniform": np.sqrt(2 / (400 + 300)),   # U(-a, a) has std a/√3, a = √(6/(fi+fo))
    "xavier_normal": np.sqrt(2 / (400 + 300)),
    "he_normal": np.sqrt(2 / 400),
    "he_uniform": np.sqrt(2 / 400),
    "lecun_normal": np.sqrt(1 / 400),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_STD))
def test_initializer_moments(name):
    W = initialize(name, SHAPE, rng=0, dtype=np.float64)
    assert W.shape == SHAPE
    np.testing.assert_allclose(W.std(), EXPECTED_STD[name], rtol=0.02)
    assert abs(W.mean()) < 4 * EXPECTED_STD[name] / np.sqrt(W.size)


@pytest.mark.parametrize("name,bound", [("xavier_uniform", np.sqrt(6 / 700)),
                                        ("he_uniform", np.sqrt(6 / 400))])
def test_uniform_bounds(name, bound):
    W = initialize(name, SHAPE, rng=1, dtype=np.float64)
    assert W.max() <= bound and W.min() >= -bound
    assert W.max() > 0.99 * bound and W.min() < -0.99 * bound


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_same_seed_same_weights_and_dtype(name):
    a = initialize(name, (5, 4), rng=7)
    b = initialize(name, (5, 4), rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32


def test_zeros_and_normal_std_and_callable():
    assert not initialize("zeros", (3, 2)).any()
    np.testing.assert_allclose(initialize("normal", SHAPE, rng=0, std=0.1).std(), 0.1, rtol=0.02)
    W = initialize(lambda shape, rng: np.full(shape, 2.0), (2, 3))
    np.testing.assert_array_equal(W, np.full((2, 3), 2.0, dtype=np.float32))


def test_bad_init_errors():
    with pytest.raises(ValueError, match="^initialize: unknown init 'xavier'; choose one of: "
                                         "zeros, normal"):
        initialize("xavier", (2, 2))
    with pytest.raises(ValueError, match=r"^initialize: init '<lambda>' returned shape \(3,\); "
                                         r"expected \(2, 2\)"):
        initialize(lambda shape, rng: np.zeros(3), (2, 2))
    with pytest.raises(ValueError, match=r"^Linear\(4, 3\): unknown init 'xavir'; choose one of"):
        initialize("xavir", (4, 3), where="Linear(4, 3)")
    for std in (-0.1, float("nan")):
        with pytest.raises(ValueError, match=rf"^Linear\(4, 3\): std must be a finite number "
                                             rf">= 0; got {std}$"):
            initialize("normal", (4, 3), std=std, where="Linear(4, 3)")
