"""fit_points: exact fits where a 1-H-1 ReLU network can interpolate, honest errors where not."""
import re

import numpy as np
import pytest
try:
    import torch
except ImportError:  # Pythons without torch's wheel deselect the torch-marked tests
    torch = None

import numpynn as nn
from numpynn.cli import main
from numpynn.course.fitting import fit_points

COURSE_X = np.arange(13.0)
COURSE_Y = np.array([8, 6, 4, 2, 0, 2, 4, 2, 0, 2, 4, 6, 8], dtype=np.float64)


def _raw_error(result, x, y):
    """The fitted model's max error on raw x, evaluated independently with PyTorch."""
    W1, b1 = (torch.tensor(a) for a in (result.model.layers[0].W, result.model.layers[0].b))
    W2, b2 = (torch.tensor(a) for a in (result.model.layers[2].W, result.model.layers[2].b))
    pred = torch.relu(torch.tensor(x)[:, None] @ W1 + b1) @ W2 + b2  # (N, 1)
    return float((pred[:, 0] - torch.tensor(y)).abs().max())


@pytest.mark.torch
def test_course_points_fit_exactly():
    result = fit_points(COURSE_X, COURSE_Y, hidden=4)
    assert result.max_abs_error < 0.01
    model = result.model
    assert [type(layer).__name__ for layer in model.layers] == ["Linear", "ReLU", "Linear"]
    assert model.layers[0].W.shape == (1, 4) and model.dtype == np.float64
    np.testing.assert_allclose(model.forward(COURSE_X[:, None])[:, 0], COURSE_Y, rtol=0, atol=0.01)
    assert _raw_error(result, COURSE_X, COURSE_Y) == pytest.approx(result.max_abs_error, abs=1e-12)


def _random_relu_net(rng, x, hidden=4, min_gap=3):
    """y = relu(x·w1 + b1)·w2 + b2 with kinks inside the data, at least ``min_gap`` samples apart."""
    spacing = x[1] - x[0]
    while True:
        kinks = np.sort(rng.uniform(x[0] + spacing, x[-1] - spacing, size=hidden))
        if np.diff(kinks).min() > min_gap * spacing:
            break
    w1 = rng.choice([-1.0, 1.0], size=hidden) * rng.uniform(0.5, 2.0, size=hidden)
    w2 = rng.choice([-1.0, 1.0], size=hidden) * rng.uniform(0.5, 2.0, size=hidden)
    return np.maximum(x[:, None] * w1 - w1 * kinks, 0) @ w2 + rng.normal()  # (N,)


@pytest.mark.torch
@pytest.mark.parametrize("seed", range(6))
def test_representable_random_networks(seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(-3.0, 5.0, 33)
    y = _random_relu_net(rng, x)
    result = fit_points(x, y, hidden=4, seed=seed)
    assert result.max_abs_error < 1e-6
    assert _raw_error(result, x, y) < 1e-6


def test_piecewise_linear_with_three_kinks_between_samples():
    # kinks at 1.3, 4.7, 8.2 (not at samples), slopes 1, -2, 0.5, 3: any such function is a
    # 1-4-1 ReLU net (three kinks plus one unit kinked left of the data for the linear part)
    rng = np.random.default_rng(11)
    x = np.sort(rng.uniform(-2.0, 11.0, size=30))
    y = 0.7 + x - 3 * np.maximum(x - 1.3, 0) + 2.5 * np.maximum(x - 4.7, 0) + 2.5 * np.maximum(x - 8.2, 0)
    result = fit_points(x, y, hidden=4)
    assert result.max_abs_error < 1e-6
    distance = np.abs(result.kinks[:, None] - [1.3, 4.7, 8.2]).min(axis=0)  # (3,)
    np.testing.assert_allclose(distance, 0, atol=1e-5)  # every true kink was found


def test_large_offset_is_folded_into_the_first_layer():
    x = 1000.0 + COURSE_X / 100
    result = fit_points(x, COURSE_Y)
    assert result.max_abs_error < 1e-6
    np.testing.assert_allclose(result.model.forward(x[:, None])[:, 0], COURSE_Y, atol=1e-6)


@pytest.mark.torch
def test_unrepresentable_points_report_the_error():
    # 0, 1, 0, 1, …: no three consecutive points are collinear, so each linear piece holds at
    # most two points; 4 kinks give 5 pieces, at most 10 of the 13 points — no exact fit.
    y = (COURSE_X % 2).astype(np.float64)
    result = fit_points(COURSE_X, y, hidden=4, restarts=10)
    assert result.max_abs_error > 0.1
    assert _raw_error(result, COURSE_X, y) == pytest.approx(result.max_abs_error, abs=1e-12)
    assert result.restarts == 10


def test_seeded_and_other_activation():
    a = fit_points(COURSE_X, COURSE_Y, seed=3, restarts=3)
    b = fit_points(COURSE_X, COURSE_Y, seed=3, restarts=3)
    np.testing.assert_array_equal(a.model.layers[0].W, b.model.layers[0].W)
    smooth = fit_points(COURSE_X, COURSE_Y, hidden=8, activation="tanh", restarts=3)
    pred = smooth.model.forward(COURSE_X[:, None])[:, 0]
    assert smooth.max_abs_error == pytest.approx(np.abs(pred - COURSE_Y).max(), abs=1e-12)
    assert isinstance(smooth.model.layers[1], nn.Tanh)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(x=[0, 1, 2], y=[1, 2]), ValueError, "x has 3 values but y has 2"),
    (dict(x=[[0, 1]], y=[1, 2]), ValueError, r"x has shape \(1, 2\); expected 1-D"),
    (dict(x=[0, 1], y=[1, 2], hidden=0), ValueError,
     r"^fit_points: hidden must be an integer >= 1; got 0$"),
    (dict(x=[0, 1], y=[1, 2], restarts=True), TypeError,
     r"^fit_points: restarts must be an integer >= 1; got True$"),
    (dict(x=[0, 1], y=[1, 2], activation="rleu"), ValueError,
     "^fit_points: unknown activation 'rleu'"),
    (dict(x=[0, 1], y=[1, 2], max_iter=10.0), TypeError,
     r"^fit_points: max_iter must be an integer >= 0; got 10\.0\nhelp: pass an int, max_iter=10$"),
    (dict(x=[0, 1], y=[1, 2], tol=float("nan")), ValueError,
     r"^fit_points: tol must be a finite number >= 0; got nan$"),
    (dict(x=[1, 1], y=[1, 2]), ValueError, "at least two distinct values"),
])
def test_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        fit_points(**kwargs)


def test_command_prints_parameters_and_error_last(capsys):
    argv = ["fit", "--x", ",".join(map(str, range(13))),
            "--y", "8,6,4,2,0,2,4,2,0,2,4,6,8", "--hidden", "4"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    for name in ("W1 =", "b1 =", "W2 =", "b2 ="):
        assert any(line.startswith(name) for line in lines), name
    match = re.fullmatch(r"max_abs_error=(\S+)", lines[-1])
    assert match and float(match.group(1)) < 0.01


@pytest.mark.parametrize("argv, message", [
    (["fit", "--x", "0,1,2", "--y", "1,2"], "--x has 3 values but --y has 2"),
    (["fit", "--x", "0,a,2", "--y", "1,2,3"], "--x: 'a' is not a number"),
    (["fit", "--x", "0,1,2", "--y", "1,2,inf"], "--y: values must be finite"),
])
def test_command_errors_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("numpynn fit: error:") and message in err and "\n" not in err


def test_a_fit_that_cannot_fit_in_memory_is_refused_before_allocating():
    with pytest.raises(ValueError, match=r"^fit_points: a 1-1000000000-1 fit needs 250 EiB; about "
                                         r"[\d.]+ [KMGT]iB of memory is available\nhelp: fewer"):
        fit_points([0.0, 1.0, 2.0], [0.0, 1.0, 0.0], hidden=10**9)
