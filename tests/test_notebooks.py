"""The course notebooks run top to bottom: each Jupytext script in notebooks/ is executed by
nbclient in a real ipykernel on this interpreter (a kernelspec made in a temporary
JUPYTER_PATH), and must finish without an error output, show at least one figure
(image/png), print its training progress as plain epoch lines and stay within its time budget.

Marked ``notebook`` (about three minutes in all): ``-m "not notebook"`` deselects them in quick
runs; scripts/test.sh runs them on the default Python.
"""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECONDS_EACH = 180   # each notebook's budget on a 2-core machine

_spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)
PATHS = run_notebooks.notebook_paths()


@pytest.fixture(scope="module")
def kernel(tmp_path_factory, monkeypatch_module):
    folder = tmp_path_factory.mktemp("jupyter")
    monkeypatch_module.setenv("JUPYTER_PATH", str(folder))
    run_notebooks.install_kernel(folder)
    return run_notebooks.KERNEL


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_there_are_the_seven_course_notebooks():
    assert len(PATHS) >= 7, [p.name for p in PATHS]
    assert all(p.read_text(encoding="utf-8").startswith("# %% [markdown]") for p in PATHS)


@pytest.mark.notebook
@pytest.mark.timeout(2 * SECONDS_EACH)
@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_with_a_figure_and_no_error(path, kernel, tmp_path):
    nb, seconds = run_notebooks.execute(path, out_dir=tmp_path)
    errors = run_notebooks.outputs(nb, "error")
    assert not errors, [f"{e['ename']}: {e['evalue']}" for e in errors]
    assert run_notebooks.outputs(nb, "image/png"), f"{path.name} shows no figure"
    text = "".join(out.get("text", "") for out in run_notebooks.outputs(nb, "stream"))
    assert not run_notebooks.outputs(nb, "application/vnd.jupyter.widget-view+json")
    assert "\r" not in text, "a text progress bar in the outputs"
    if 'progress="auto"' in path.read_text(encoding="utf-8"):   # Jupyter's default: a widget
        assert "Epoch 1/" in text, "no epoch lines in the outputs"
    assert seconds < SECONDS_EACH, f"{path.name} took {seconds:.0f} s"
