"""The optional packages of ``pip install "numpynn[all]"``: is one installed, and the one-line
error when a feature needs one that is not.

The core install is NumPy alone (plus tomli on Python 3.10). scikit-learn ships the digits
dataset, matplotlib draws the pictures, tqdm draws progress bars and threadpoolctl sets the
BLAS thread count; each is imported where it is used, and that place asks here first.

>>> available("numpy"), available("no_such_package")
(True, False)
"""
import importlib.util

INSTALL = 'pip install "numpynn[all]"'
# import name -> the name pip installs it by
DISTRIBUTIONS = {"sklearn": "scikit-learn", "matplotlib": "matplotlib", "tqdm": "tqdm",
                 "threadpoolctl": "threadpoolctl", "starlette": "starlette",
                 "uvicorn": "uvicorn", "websockets": "websockets"}


class MissingExtraError(ImportError):
    """A feature needs an optional package that is not installed; the message is one line
    that names the package and the install command (the CLI prints it without a traceback)."""


def available(module):
    """True when ``module`` can be imported; found without importing it (cheap, no side effects)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # a module in sys.modules with no spec (e.g. one made up in a test)
        return True


def require(module, feature, extra="all"):
    """Raise :class:`MissingExtraError` when ``module`` is missing, before any work starts.

    >>> try:
    ...     require("no_such_package", "--plot")
    ... except MissingExtraError as err:
    ...     print(err)
    --plot needs no_such_package: pip install "numpynn[all]"

    ``extra`` names the pip extra that brings it (``"playground"`` for the web stack).
    """
    if not available(module):
        install = f'pip install "numpynn[{extra}]"'
        raise MissingExtraError(f"{feature} needs {DISTRIBUTIONS.get(module, module)}: {install}",
                                name=module)
