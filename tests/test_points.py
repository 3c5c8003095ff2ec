"""numpynn.data.points: the playground's data sets as library functions, and `numpynn train
--dataset spiral` on them."""
import contextlib
import io
import json

import numpy as np
import pytest

from numpynn import data
from numpynn.cli import main
from numpynn.data import points


@pytest.mark.parametrize("name", list(points.CLASSIFICATION))
def test_classification_sets_are_seeded_balanced_2d_points(name):
    generate = points.CLASSIFICATION[name]
    X, y = generate(101, noise=0.1, rng=3)
    assert X.shape == (101, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert set(y.tolist()) == {0, 1} and abs(int(y.sum()) - 50) <= 1
    np.testing.assert_array_equal(X, generate(101, noise=0.1, rng=3)[0])  # same seed, same set
    assert not np.array_equal(X, generate(101, noise=0.1, rng=4)[0])
    assert np.abs(X).max() < points.RADIUS + 1  # the plane the playground draws


def test_labels_follow_each_sets_rule_without_noise():
    X, y = points.circle(400, rng=0)
    np.testing.assert_array_equal(y, (np.hypot(X[:, 0], X[:, 1]) <= 2.5).astype(int))
    X, y = points.xor(400, rng=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    X, y = points.gaussians(400, rng=0)
    assert X[y == 1].mean(axis=0) == pytest.approx([2, 2], abs=0.2)
    X, y = points.spiral(400, rng=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.max() < points.RADIUS and radius.min() == 0  # both arms start at the centre


def test_regression_sets():
    x, t = points.sine(50, noise=0.0, rng=0)
    assert x.shape == t.shape == (50, 1)
    np.testing.assert_allclose(t, np.sin(x), atol=1e-6)
    x, t = points.course_points()
    assert x[:, 0].tolist() == list(range(13)) and t[:, 0].tolist() == list(points.COURSE_Y)
    with pytest.raises(ValueError, match="the set is fixed"):
        points.course_points(n=20)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="spiral: n must be an integer in"):
        points.spiral(1)
    with pytest.raises(ValueError, match="noise must be in"):
        points.moons(10, noise=float("nan"))
    with pytest.raises(ValueError, match="unknown dataset 'spirals'; choose one of: circle"):
        points.load_points("spirals")


def test_point_sets_are_datasets_of_numpynn_train():
    X_train, y_train, X_test, y_test = data.load("spiral")
    assert X_train.shape == (200, 2) and X_test.shape == (200, 2)
    assert data.DATASETS["moons"].n_classes == 2 and data.DATASETS["xor"].n_features == 2


def test_numpynn_train_dataset_spiral_learns_it(tmp_path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["train", "--dataset", "spiral", "--hidden", "16,16", "--activation",
                     "tanh", "--optimizer", "adam", "--lr", "0.01", "--epochs", "150",
                     "--batch-size", "16", "--val-fraction", "0", "--n-points", "600",
                     "--noise", "0.1", "--log", "quiet", "--out", str(tmp_path / "run")])
    assert code == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test_acc"] > 0.85, metrics  # a linear model stays near 0.5 on a spiral
