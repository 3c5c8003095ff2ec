"""Shared test setup. Nothing is skipped: a missing test dependency is an error saying how to
install it, so CI can never turn green by skipping the oracle."""
import importlib

import pytest

REQUIRED = {
    "torch": 'pip install -e ".[test]"  (pinned CPU build torch==2.13.0)',
    "sklearn": 'pip install -e ".[test]"',
    "matplotlib": 'pip install -e ".[test]"',
}


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


@pytest.fixture
def rng():
    """A fresh, seeded generator per test."""
    import numpy as np
    return np.random.default_rng(0)
