"""Shared test setup. Nothing is skipped: a missing test dependency is an error saying how to
install it, so CI can never turn green by skipping the oracle.

PyTorch, the outside oracle, has one exception, and it is visible: on a Python with no CPU
wheel of the pinned torch (scripts/test.sh runs 3.10 and 3.13 so), the tests marked
``@pytest.mark.torch`` are deselected with ``-m "not torch"`` and pytest's summary counts them
("N deselected"). Without that flag, a missing torch is still an error. Test modules import
torch in a ``try`` that leaves ``torch = None`` when it is missing, so their other tests still
run there. A test is marked torch by hand, or found to need it (:func:`_needs_torch`): its code,
its decorators or a module-level helper or table it uses names torch. A test that still reaches
torch unmarked fails rather than passing untested.
"""
import ast
import functools
import importlib
import inspect
import signal

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


TORCH_NAMES = frozenset({"torch", "TF"})


@functools.lru_cache(maxsize=None)
def _torch_users(path):
    """Names of the module-level functions, classes and tables in ``path`` that name torch,
    directly or through another such name of the module."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    refs = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
        else:
            continue
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        used |= {n.value.id for n in ast.walk(node)
                 if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
        for name in names:
            refs[name] = used
    users = {name for name, used in refs.items() if used & TORCH_NAMES}
    while True:
        more = {name for name, used in refs.items() if used & users} - users
        if not more:
            return frozenset(users)
        users |= more


def _needs_torch(item):
    function = getattr(item, "function", None)
    if function is None:
        return False
    try:
        path = inspect.getsourcefile(function)
    except TypeError:
        return False
    return function.__name__ in _torch_users(path)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_itemcollected(item):
    if not item.get_closest_marker("torch") and _needs_torch(item):
        item.add_marker(pytest.mark.torch)


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


@pytest.fixture
def python_sigint_handler():
    """Python's own SIGINT handler (a Ctrl-C raises KeyboardInterrupt) for one test, the old one
    back afterwards: a suite started with SIGINT ignored (``... &`` in a non-interactive shell)
    would otherwise ignore the SIGINT a Ctrl-C test raises."""
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, handler)
