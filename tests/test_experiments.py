"""experiments/*.toml: every course configuration parses, builds the course's network, and the
digits-binary baseline reproduces the course's 96–97 % for real."""
import re
from pathlib import Path

import numpy as np
import pytest

from numpynn.cli.config import RunConfig
from numpynn.cli.search import SearchSpec
from numpynn.data import DATASETS
from numpynn.cli.run import build_model, loss_name, train

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
SEARCHES = sorted(EXPERIMENTS.glob("*-search.toml"))   # numpynn tune's configs
CONFIGS = sorted(set(EXPERIMENTS.glob("*.toml")) - set(SEARCHES))
# name -> (layer widths D-…-M, layer types): the networks the courses describe
ARCHITECTURES = {
    "digits-binary": ((64, 32, 1), ["Linear", "ReLU", "Linear", "Sigmoid"]),
    "digits-binary-batch1": ((64, 32, 1), ["Linear", "ReLU", "Linear", "Sigmoid"]),
    "digits-binary-batch100": ((64, 32, 1), ["Linear", "ReLU", "Linear", "Sigmoid"]),
    "digits-binary-logistic": ((64, 1), ["Linear", "Sigmoid"]),
    "digits-binary-linear2": ((64, 32, 1), ["Linear", "Linear", "Sigmoid"]),
    "digits-binary-linear4": ((64, 32, 32, 32, 1), ["Linear"] * 4 + ["Sigmoid"]),
    "fashion-mnist": ((784, 256, 128, 64, 10), ["Linear", "ReLU"] * 3 + ["Linear"]),
    "mnist-sigmoid": ((784, 64, 10), ["Linear", "Sigmoid", "Linear"]),
    "mnist-fanin-init": ((784, 64, 10), ["Linear", "Sigmoid", "Linear"]),
    "mnist-scaled-tanh": ((784, 64, 10), ["Linear", "ScaledTanh", "Linear"]),
    "mnist-momentum": ((784, 64, 10), ["Linear", "ScaledTanh", "Linear"]),
    "mnist-32-32-sgd1": ((784, 32, 32, 10), ["Linear", "Sigmoid"] * 2 + ["Linear"]),
    "cifar10": ((3072, 100, 10), ["Linear", "ReLU", "Linear"]),
}
COURSE_SUMMED_LR = 0.001  # the digits course's lr with a loss gradient summed over the batch


def _build(cfg):
    dataset = DATASETS[cfg.dataset]
    return build_model(cfg, dataset.n_features, dataset.n_classes, rng=0)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_experiment_is_a_valid_run_config(path):
    cfg = RunConfig.from_toml(path)
    assert RunConfig.from_toml_text(cfg.to_toml()) == cfg  # round trip through the writer
    assert path.read_text().startswith("# ")               # each file explains itself
    assert "numpynn train --config experiments/" in path.read_text() or "grid" in path.stem
    model = _build(cfg)
    assert model.layers[0].n_in == DATASETS[cfg.dataset].n_features


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_experiment_builds_the_course_network(name):
    widths, types = ARCHITECTURES[name]
    model = _build(RunConfig.from_toml(EXPERIMENTS / f"{name}.toml"))
    assert [type(layer).__name__ for layer in model] == types
    linear = [layer for layer in model if type(layer).__name__ == "Linear"]
    assert [layer.n_in for layer in linear] + [linear[-1].n_out] == list(widths)


def test_course_settings_are_translated():
    base = RunConfig.from_toml(EXPERIMENTS / "digits-binary.toml")
    assert (base.batch_size, base.epochs, base.standardize, base.val_fraction) == (10, 100,
                                                                                     "global", 0)
    assert loss_name(base, 2) == "bce"
    # summed-gradient lr 0.001 == mean-loss lr 0.001 × batch size, in every batch variant
    for name in ("digits-binary", "digits-binary-batch1", "digits-binary-batch100"):
        cfg = RunConfig.from_toml(EXPERIMENTS / f"{name}.toml")
        np.testing.assert_allclose(cfg.lr, COURSE_SUMMED_LR * cfg.batch_size, rtol=1e-12)
    fashion = RunConfig.from_toml(EXPERIMENTS / "fashion-mnist.toml")
    assert (fashion.optimizer, fashion.lr, fashion.batch_size, fashion.epochs) == ("sgd", 0.01,
                                                                                   64, 10)
    cifar = RunConfig.from_toml(EXPERIMENTS / "cifar10.toml")
    assert cifar.reg > 0 and cifar.lr_decay < 1
    assert round(cifar.val_fraction * 50_000) == 1_000  # the course's 49,000 / 1,000 split
    grid = SearchSpec.from_toml(EXPERIMENTS / "cifar10-grid-search.toml")
    assert grid.tune["sampler"] == "grid" and grid.grid_size() == 9
    assert {k: p.choices for k, p in grid.space.items()} == {"lr": (0.0005, 0.001, 0.002),
                                                             "reg": (0.05, 0.25, 0.5)}
    assert grid.config({"lr": 0.001, "reg": 0.25}) == cifar.replace(lr=0.001, reg=0.25)
    momentum = RunConfig.from_toml(EXPERIMENTS / "mnist-momentum.toml")
    assert momentum.momentum == 0.9 and momentum.early_stopping is not None
    assert RunConfig.from_toml(EXPERIMENTS / "mnist-fanin-init.toml").init == "lecun_normal"
    assert RunConfig.from_toml(EXPERIMENTS / "mnist-32-32-sgd1.toml").batch_size == 1


def test_digits_binary_baseline_reaches_the_course_accuracy(tmp_path):
    """The course reached 96–97 % test accuracy with this network; so must we."""
    cfg = RunConfig.from_toml(EXPERIMENTS / "digits-binary.toml")
    result = train(cfg, out=tmp_path / "run", plots=False)
    assert result.metrics["epochs"] == 100
    assert result.metrics["test_acc"] >= 0.95


def test_results_table_has_a_measured_row_per_run_experiment():
    text = (EXPERIMENTS / "RESULTS.md").read_text()
    for name in [n for n in ARCHITECTURES if n.startswith(("digits", "fashion"))] + [
            "fashion-mnist-best"]:
        row = re.search(rf"^\|[^\n]*experiments/{re.escape(name)}\.toml[^\n]*$", text, re.M)
        assert row, name
        assert re.search(r"\| \d{2}\.\d{1,2} ?% \|", row.group(0)), row.group(0)


@pytest.mark.parametrize("path", SEARCHES, ids=[p.stem for p in SEARCHES])
def test_every_search_config_parses(path):
    spec = SearchSpec.from_toml(path)
    assert spec.space and spec.tune["metric"].startswith("val_")
