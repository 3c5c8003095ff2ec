"""The ``numpynn`` command: builds the parser from the command table and dispatches.

Each subcommand lives in ``numpynn/cli/commands/<name>.py`` with two functions:
``add_arguments(parser)`` and ``run(args) -> int`` (the exit code). cli.py maps flags to
work and does nothing else; heavy imports happen inside ``run``, so ``numpynn --help`` is quick.
"""
import argparse
import contextlib
import os
import sys
import warnings
from importlib import import_module

from numpynn._helpers.extras import MissingExtraError
from numpynn._helpers.interrupts import caused_by_ctrl_c
from numpynn.cli.errors import UsageError

# name -> one-line help; the module is numpynn.cli.commands.<name>
COMMANDS = {
    "train": "train a network and write a run folder (model, history, plots)",
    "evaluate": "evaluate a run folder's model on a dataset's test split",
    "predict": "predict the classes of the samples in a file (.npy, .csv, images) with a model",
    "tune": "search hyper-parameters with Optuna: trials of numpynn train on one study",
    "summary": "print a run folder's model summary and final metrics",
    "explain": "worked solution: forward pass, backpropagated deltas, one SGD step",
    "descent": "gradient descent on a 2-D function, with its path",
    "fit": "fit a small ReLU network exactly through given points",
    "playground": "a local web page that trains a network live and shows backpropagation",
    "bench": "benchmark training speed against PyTorch on the same model",
}


def build_parser():
    parser = argparse.ArgumentParser(prog="numpynn", description="Neural networks from scratch in NumPy.")
    from numpynn import __version__
    parser.add_argument("--version", action="version", version=f"numpynn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        module = _command_module(name)
        if module is None:
            continue
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        command_parser.set_defaults(run=module.run)
    return parser


def _command_module(name):
    try:
        return import_module(f"numpynn.cli.commands.{name}")
    except ModuleNotFoundError as err:
        if err.name == f"numpynn.cli.commands.{name}":
            return None  # command not built yet
        raise


def main(argv=None):
    """Entry point of the console script; returns the exit code (2 for an error, 130 after
    Ctrl-C)."""
    name = "numpynn"
    try:
        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if unknown and not getattr(args, "accepts_any_arguments", False):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")  # as parse_args does
        name = f"numpynn {args.command}"
        with _one_line_warnings(name):
            return _run(args, name)
    except (KeyboardInterrupt, Exception) as err:
        if os.environ.get("NUMPYNN_DEBUG") or not caused_by_ctrl_c(err):
            raise
        run_dir = getattr(err, "run_dir", None)   # a run folder was being written
        hint = f"; resume with numpynn train --resume {run_dir}" if run_dir else ""
        hint = getattr(err, "hint", hint)   # the command's own word on how to go on
        print(f"{name}: interrupted{hint}", file=sys.stderr)
        return 130


def _run(args, name):
    try:
        code = args.run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # the only pipes the commands write to are stdout and stderr, so their reader has
        # gone (`numpynn summary DIR | head -1`): only the rest of the report is lost (a
        # training reports through streams that never raise, so its run folder is complete)
        _discard_stdout()
        return 0
    except (UsageError, MissingExtraError, ValueError, TypeError, OSError) as err:
        if os.environ.get("NUMPYNN_DEBUG") or caused_by_ctrl_c(err):
            raise
        first, *rest = str(err).strip().splitlines() or [type(err).__name__]
        print(f"{name}: error: {first}", file=sys.stderr)
        for line in rest:
            print(f"  {line}", file=sys.stderr)
        return 2


@contextlib.contextmanager
def _one_line_warnings(prefix):
    """Print warnings as ``numpynn train: warning: <message>``, not Python's two-line form.

    Only the formatting changes, so warnings that are recorded (``pytest.warns``) or filtered
    behave as before.
    """
    original = warnings.formatwarning
    warnings.formatwarning = lambda message, *_, **__: f"{prefix}: warning: {message}\n"
    try:
        yield
    finally:
        warnings.formatwarning = original


def _discard_stdout():
    """Point stdout at os.devnull, so that Python's own flush at exit finds no closed pipe."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
