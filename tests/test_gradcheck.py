import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import (array_rel_error, check_layer, numerical_gradient,
                               numerical_gradient_array, rel_error)


def test_numerical_gradient_of_known_functions():
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v ** 3), x), 3 * x ** 2,
                               rtol=1e-8, atol=1e-8)
    dout = np.random.default_rng(1).normal(size=(3, 4))
    np.testing.assert_allclose(numerical_gradient_array(np.sin, x, dout), np.cos(x) * dout,
                               rtol=1e-8, atol=1e-10)


def test_perturbs_in_place_and_restores():
    x = np.array([1.0, -2.0, 3.0])
    seen = []
    grad = numerical_gradient(lambda _: seen.append(x.copy()) or float(x @ x), x)
    assert any(not np.array_equal(s, [1.0, -2.0, 3.0]) for s in seen)  # f saw the perturbation
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-9)


def test_relative_errors():
    # one tiny entry dominates the worst-element measure, not the whole-array one
    assert rel_error(np.array([1.0, 0.0]), np.array([1.0, 1e-6])) == pytest.approx(1.0)
    assert array_rel_error(np.array([1.0, 0.0]), np.array([1.0, 1e-6])) < 1e-6
    assert array_rel_error(np.zeros(2), np.zeros(2)) == 0.0


class BrokenLinear(nn.Linear):
    """A Linear whose weight gradient is wrong by a factor 2: the checker must notice."""
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW *= 2
        return dx


def test_check_layer_catches_a_wrong_gradient():
    x = np.random.default_rng(0).normal(size=(4, 3))
    errors = check_layer(BrokenLinear(3, 2, rng=0), x)
    assert errors["W"] > 0.1 and errors["x"] < 1e-8 and errors["b"] < 1e-8


@pytest.mark.parametrize("h", [0, -1e-5, float("nan"), float("inf")])
def test_the_step_must_be_a_finite_positive_number(h):
    with pytest.raises(ValueError, match=rf"^numerical_gradient: h must be a finite number > 0; "
                                         rf"got {h}$"):
        numerical_gradient(lambda v: float(v.sum()), np.ones(2), h=h)
    with pytest.raises(ValueError, match=r"^check_layer: h must be a finite number > 0"):
        check_layer(nn.Linear(2, 2, rng=0), np.ones((1, 2)), h=h)
