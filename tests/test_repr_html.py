"""Jupyter's rich display: each object's ``_repr_html_`` is a small escaped HTML table."""
import sys
import types

import numpy as np
import pytest

import numpynn as nn
from numpynn.cli.config import RunConfig
from numpynn.training.callbacks import ProgressLogger, _notebook_widget_wanted
from numpynn.training.history import Evaluation, History


def _trained():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)).astype(np.float32), rng.integers(0, 2, 40)
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    trainer = nn.Trainer(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.params(), lr=0.1),
                         rng=0, progress=False)
    history = trainer.fit(X, y, X, y, epochs=2, batch_size=10)
    return trainer, history, X, y


def test_sequential_html_is_the_summary_table():
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    html = model._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == 1 + 3 + 1   # header, layers, total
    assert "<td>0: Linear(784, 256)</td><td>(N, 256)</td><td>200,960</td>" in html
    assert "Total params: 203,530 (float32)" in html


def test_sequential_html_escapes_layer_names():
    class Bold(nn.ReLU):
        def __repr__(self):
            return "<b>Bold</b>"

    html = nn.Sequential(nn.Linear(2, 2), Bold())._repr_html_()
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt;" in html


def test_history_html_has_one_row_per_epoch():
    _, history, _, _ = _trained()
    html = history._repr_html_()
    assert "<th>epoch</th><th>loss</th><th>acc</th><th>val_loss</th><th>val_acc</th><th>lr</th>" in html
    assert html.count("<tr>") == 1 + 2
    first = f"<td>1</td><td>{history.history['loss'][0]:.4f}</td>"
    assert first in html and "History: 2 epochs, 8 steps" in html
    assert "<tbody></tbody>" in History()._repr_html_()


def test_evaluate_returns_a_dict_that_shows_as_a_table():
    trainer, _, X, y = _trained()
    result = trainer.evaluate(X, y)
    assert isinstance(result, Evaluation) and isinstance(result, dict)
    assert result == dict(result) and repr(result) == repr(dict(result))
    assert set(result) == {"loss", "acc"}
    html = result._repr_html_()
    assert f"<td>acc</td><td>{result['acc']:.4f}</td>" in html and "<caption>Evaluation" in html


def test_explanation_html_has_forward_backward_and_step_tables():
    model = nn.Sequential(nn.Linear(2, 2, rng=0), nn.Sigmoid(), nn.Linear(2, 1, rng=1), nn.Sigmoid())
    result = model.explain(np.array([0.05, 0.1]), np.array([0.01]), nn.MSE(), lr=0.5,
                           title="<2-2-1>")
    html = result._repr_html_()
    assert html.count("<table>") == 3 and "&lt;2-2-1&gt;" in html and "<2-2-1>" not in html
    w = result.updated["W1"][0, 0]
    assert "<td>W1[1,1]</td>" in html and f"{w:.4f}" in html
    assert f"{result.loss:.4f}" in html


def test_run_config_html_marks_changed_fields():
    html = RunConfig(hidden=(32, 16), epochs=5)._repr_html_()
    assert "<td>hidden</td><td>32,16</td><td>changed</td>" in html
    assert "<td>epochs</td><td>5</td><td>changed</td>" in html
    assert "<td>dataset</td><td>digits</td><td></td>" in html


@pytest.fixture
def fake_kernel(monkeypatch):
    """A stand-in IPython whose shell has a kernel, as inside Jupyter."""
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("NUMPYNN_PROGRESS", raising=False)


def test_a_jupyter_kernel_gets_the_widget_bar(fake_kernel):
    assert _notebook_widget_wanted(sys.stdout) is True
    assert ProgressLogger()._bar_wanted(sys.stdout) is True


@pytest.mark.parametrize("name, value", [("CI", "true"), ("NUMPYNN_PROGRESS", "lines")])
def test_headless_notebooks_get_lines(fake_kernel, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert _notebook_widget_wanted(sys.stdout) is False


def test_outside_jupyter_or_another_stream_no_widget(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert _notebook_widget_wanted(sys.stdout) is False
