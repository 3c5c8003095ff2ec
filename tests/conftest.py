"""Shared test setup. Nothing is skipped: a missing test dependency is an error saying how to
install it, so CI can never turn green by skipping the oracle.

PyTorch, the outside oracle, has one exception, and it is visible: on a Python with no CPU
wheel of the pinned torch (scripts/test.sh runs 3.10 and 3.13 so), the tests marked
``@pytest.mark.torch`` are deselected with ``-m "not torch"`` and pytest's summary counts them
("N deselected"). Without that flag, a missing torch is still an error. Test modules import
torch in a ``try`` that leaves ``torch = None`` when it is missing, so their other tests still
run there; an unmarked test that uses torch then fails rather than passing untested.
"""
import importlib

import pytest

INSTALL = 'pip install -e ".[test]"'
REQUIRED = {
    "sklearn": INSTALL,
    "matplotlib": INSTALL,
}
TORCH_HELP = (f'{INSTALL}  (pinned CPU build torch==2.13.0), or deselect the tests that '
              'need it with -m "not torch" on a Python that has no wheel of it')


def pytest_configure(config):
    missing = []
    for module, how in REQUIRED.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(f"{module}: {how}")
    if missing:
        raise pytest.UsageError("test dependencies missing (run README's test command):\n  "
                                + "\n  ".join(missing))


@pytest.hookimpl(trylast=True)  # after -m has deselected what it deselects
def pytest_collection_modifyitems(config, items):
    needing = [item for item in items if item.get_closest_marker("torch")]
    if needing and not _torch_importable():
        raise pytest.UsageError(f"torch is not installed, and {len(needing)} selected "
                                f"test(s) are marked torch:\n  torch: {TORCH_HELP}")


def _torch_importable():
    try:
        importlib.import_module("torch")  # already imported by the test modules, if it can be
    except ImportError:
        return False
    return True


@pytest.fixture
def rng():
    """A fresh, seeded generator per test."""
    import numpy as np
    return np.random.default_rng(0)
