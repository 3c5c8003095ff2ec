"""``python -m benchmarks``: numpynn's Trainer beside a plain PyTorch loop on the same MLP.

    python -m benchmarks                      # SGD and Adam at batch 64 and 256, 3 repeats
    python -m benchmarks --smoke              # CI: 512 synthetic samples, one epoch, one repeat
    python -m benchmarks --frameworks numpynn,numpy,torch   # with the hand-written NumPy loop
    python -m benchmarks --scaling --markdown # samples/s as batch size and width grow
    python -m benchmarks --profile            # where a numpynn epoch spends its time
    python -m benchmarks --conv               # conv2d / max_pool2d: fast path, loops, torch;
                                              # im2col memory; LeNet and CNN epochs vs torch

Run it from the repository's root; ``numpynn bench`` takes the same options in a checkout (it
calls :func:`add_arguments` and :func:`run`). What is measured and timed: :mod:`benchmarks`.
Tables (:mod:`benchmarks.tables`) go to stdout (``--markdown`` for README-ready ones), progress
to stderr, everything measured to ``--json FILE``.
"""
import argparse
import json
import sys

from benchmarks.tables import print_comparison, print_profile, print_scaling
from numpynn.cli.errors import UsageError

PROG = "python -m benchmarks"
DESCRIPTION = "benchmark training speed against PyTorch on the same model"


def main(argv=None):
    """``python -m benchmarks [options]``; returns the exit code (2 for a bad option value)."""
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except UsageError as err:  # in numpynn's words: the first line, then the help indented
        first, *rest = str(err).splitlines()
        parser.exit(2, "".join([f"{PROG}: error: {first}\n", *(f"  {line}\n" for line in rest)]))


def add_arguments(parser):
    """The benchmark's options, on ``parser`` (this module's own, or ``numpynn bench``'s)."""
    # nothing but argparse here: `numpynn --help` calls this in a checkout and must stay quick
    parser.set_defaults(prog=parser.prog)  # for the help line of a bad value's error
    parser.add_argument("--configs", metavar="NAME,…", default=None,
                        help="configurations, names from benchmarks.trials.CONFIGS, e.g. "
                             "sgd-1 (default: sgd-64, adam-64, sgd-256, adam-256)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="BLAS/torch threads for every framework (default: all cores)")
    parser.add_argument("--epochs", type=int, default=None, metavar="N",
                        help="epochs per trial; with 2 or more the first is an untimed "
                             "warm-up (default 2)")
    parser.add_argument("--samples", type=int, default=None, metavar="N",
                        help="train on the first N samples (default: all; the scaling sweep "
                             "chooses its own)")
    parser.add_argument("--repeats", type=int, default=None, metavar="N",
                        help="trials per framework and configuration (default 3)")
    parser.add_argument("--frameworks", metavar="NAME,…", default=None,
                        help="frameworks to compare, from numpynn, numpy (a hand-written "
                             "NumPy loop, the floor) and torch (default: numpynn,torch)")
    parser.add_argument("--synthetic", action="store_true",
                        help="made-up data of Fashion-MNIST's shape even if it is installed")
    parser.add_argument("--smoke", action="store_true",
                        help="CI's quick check: 512 synthetic samples, one epoch, one repeat "
                             "(with --scaling: batch 8 and 64, width 64 only)")
    parser.add_argument("--scaling", action="store_true",
                        help="samples/s as batch size (1…1024) and width (64…2048) grow")
    parser.add_argument("--profile", action="store_true",
                        help="where a numpynn epoch's time goes: matmul, element-wise, Python")
    parser.add_argument("--conv", action="store_true",
                        help="conv2d and max_pool2d on CS231n's shapes: the fast path against "
                             "the reference loops and torch; the im2col buffers' memory; LeNet "
                             "and a small CNN trained beside torch (with --smoke: tiny sizes)")
    parser.add_argument("--json", metavar="FILE", help="also write every measurement to FILE")
    parser.add_argument("--markdown", action="store_true", help="print README-ready tables")


def run(args):
    """Run what ``args`` (parsed by :func:`add_arguments`) asks for; print the tables."""
    from benchmarks.compare import run_benchmark   # the harness loads NumPy: only when run
    from benchmarks.profile import run_profile
    from benchmarks.scaling import BATCH_SWEEP, WIDTH_SWEEP, run_scaling
    settings = _settings(args)
    results = {}
    if args.conv:
        from benchmarks.convolution import print_conv, run_conv_benchmark
        results["conv"] = run_conv_benchmark(args.threads, log=log, **_conv_settings(args))
        print_conv(results["conv"], args.markdown)
    elif not (args.scaling or args.profile):
        results.update(run_benchmark(settings, log=log))
        print_comparison(results, args.markdown)
    if args.scaling:
        batch_sizes, widths = ((8, 64), (64,)) if args.smoke else (BATCH_SWEEP, WIDTH_SWEEP)
        results["scaling"] = run_scaling(settings, batch_sizes, widths, log=log)
        print_scaling(results["scaling"], args.markdown)
    if args.profile:
        results["profile"] = run_profile(settings, log=log)
        print_profile(results["profile"], args.markdown)
    if args.json:
        from numpynn._helpers.io import atomic_write_text
        atomic_write_text(args.json, json.dumps(results, indent=2) + "\n")
    return 0


def log(line):
    """Progress, one line per worker, to stderr (stdout keeps only the tables)."""
    print(f"[bench] {line}", file=sys.stderr, flush=True)


def _conv_settings(args):
    """``--conv``'s options: repeats and smoke (the MLP's settings do not apply)."""
    return {"repeats": args.repeats, "smoke": args.smoke}


def _settings(args):
    """The :class:`~benchmarks.trials.BenchSettings` of the flags given (the rest: defaults)."""
    from benchmarks.trials import BenchSettings
    given = {"threads": args.threads, "epochs": args.epochs, "repeats": args.repeats,
             "n_train": args.samples}
    given = {key: value for key, value in given.items() if value is not None}
    if args.configs is not None:
        given["configs"] = tuple(name.strip() for name in args.configs.split(",") if name.strip())
    if args.frameworks is not None:
        given["frameworks"] = tuple(name.strip() for name in args.frameworks.split(",")
                                    if name.strip())
    if args.synthetic:
        given["synthetic"] = True
    try:
        return BenchSettings.smoke(**given) if args.smoke else BenchSettings(**given)
    except ValueError as err:
        raise UsageError(f"{err}\nhelp: {args.prog} --help lists the options") from None
