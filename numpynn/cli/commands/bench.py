"""``numpynn bench``: the benchmark against PyTorch, from a checkout of the repository.

The benchmark harness is not part of the installed package (it imports torch): it is
``benchmarks/`` at the repository's root, run there as ``python -m benchmarks [options]``. In a
checkout or an editable install, whose ``numpynn/`` sits beside ``benchmarks/``, this command is
the same program with the same options (:mod:`benchmarks.cli`); anywhere else it says, in one
line, where the benchmark runs.
"""
import sys
from importlib import import_module
from pathlib import Path

from numpynn.cli.errors import UsageError

# the checkout's root when numpynn runs from one: numpynn/cli/commands/bench.py -> parents[3]
REPOSITORY = Path(__file__).resolve().parents[3]
NOT_A_CHECKOUT = ("the benchmark is not installed with numpynn; run it from a checkout of "
                  "numpynn's repository: python -m benchmarks --help (in its root)")


def add_arguments(parser):
    harness = _harness()
    if harness is None:
        parser.epilog = NOT_A_CHECKOUT
        parser.set_defaults(accepts_any_arguments=True)  # run() reports, whatever was given
    else:
        harness.add_arguments(parser)


def run(args):
    harness = _harness()
    if harness is None:
        raise UsageError(NOT_A_CHECKOUT)
    return harness.run(args)


def _harness():
    """``benchmarks.cli`` of the checkout numpynn runs from (or of one on ``sys.path``); None
    when there is none. It imports only argparse: ``numpynn --help`` stays quick."""
    if (REPOSITORY / "benchmarks" / "cli.py").is_file() and str(REPOSITORY) not in sys.path:
        sys.path.insert(0, str(REPOSITORY))  # what `python -m benchmarks` in the root has
    try:
        return import_module("benchmarks.cli")
    except ModuleNotFoundError as err:
        if err.name in ("benchmarks", "benchmarks.cli"):
            return None
        raise
