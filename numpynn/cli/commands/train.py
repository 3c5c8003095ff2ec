"""``numpynn train``: flags -> RunConfig -> :func:`numpynn.cli.run.train` (or ``resume``).

Precedence: RunConfig's defaults, then ``--config FILE``, then the flags given explicitly
(every flag defaults to "not given", so a flag always wins over the file).
"""
import argparse
import sys

from numpynn.cli.errors import UsageError

SUPPRESS = argparse.SUPPRESS

# flag -> (type, metavar, help); the destination is the RunConfig field of the same name.
# "{default}" and "{choices}" are filled in from RunConfig and the registries (config.CHOICES).
FIELD_FLAGS = {
    "--dataset": (str, "NAME", "one of: {choices} (default {default})"),
    "--n-train": (int, "N", "train on a seeded random subset of N training samples"),
    "--val-fraction": (float, "F", "share of the training set held out for validation "
                                   "(default {default}; 0: none)"),
    "--standardize": (str, "HOW", "one of: {choices}, fitted on the training split "
                                  "(default {default})"),
    "--n-points": (int, "N", "samples of a point set (circle, xor, gaussians, spiral, moons), "
                             "train and test together (default {default})"),
    "--noise": (float, "SIGMA", "σ of a point set's jitter (default {default})"),
    "--test-fraction": (float, "F", "share of a point set held out for testing "
                                    "(default {default})"),
    "--hidden": (str, "W1,W2,...", "hidden layer widths, e.g. 256,128,64 (default {default}; "
                                   "none: a linear model)"),
    "--conv": (str, "F1,F2,...", "convolutional blocks before --hidden, filters of each: 3×3 "
                                 "conv (padding 1), ReLU, 2×2 max pool; e.g. 32,64 (default "
                                 "{default}: an MLP)"),
    "--activation": (str, "NAME", "one of: {choices} (default {default}; linear/none: no "
                                  "activation layer)"),
    "--loss": (str, "NAME", "one of: {choices} (default {default}: cross_entropy, or bce with "
                            "a sigmoid output for two classes)"),
    "--init": (str, "NAME", "weight initialiser, one of: {choices} (default {default})"),
    "--optimizer": (str, "NAME", "one of: {choices} (default {default})"),
    "--lr": (float, "LR", "learning rate (default {default})"),
    "--momentum": (float, "M", "momentum, for optimizers that have one (default {default})"),
    "--weight-decay": (float, "WD", "the optimizer's own weight decay (default: the "
                                    "optimizer's, e.g. adamw 0.01, sgd 0)"),
    "--reg": (float, "REG", "L2 strength: ½·reg·Σ‖W‖² added to the loss (default {default})"),
    "--dropout": (float, "P", "dropout probability after each hidden layer (default {default})"),
    "--epochs": (int, "N", "total epochs (default {default}; with --resume: the new total)"),
    "--batch-size": (int, "B", "minibatch size (default {default}; 1: sample by sample)"),
    "--lr-decay": (float, "GAMMA", "multiply the learning rate by GAMMA after every epoch "
                                   "(default {default}: constant)"),
    "--early-stopping": (int, "PATIENCE", "stop after PATIENCE epochs without a better "
                                          "val_loss; keep the best weights (default: off)"),
    "--seed": (int, "S", "seeds the split, initial weights, dropout and shuffling "
                         "(default {default})"),
}
RESUMABLE = {"epochs"}  # the only settings --resume takes besides DIR's config.toml


def _dest(flag):
    return flag[2:].replace("-", "_")


def _help(flag, template):
    """Fill a help template with the field's default and its registry's names."""
    from numpynn.cli.config import CHOICES, RunConfig, format_value

    name = _dest(flag)
    choices = ", ".join(CHOICES[name]()) if name in CHOICES else ""
    return template.format(default=format_value(getattr(RunConfig(), name)), choices=choices)


def add_arguments(parser):
    model = parser.add_argument_group("run settings (each overrides --config)")
    for flag, (type_, metavar, template) in FIELD_FLAGS.items():
        model.add_argument(flag, type=type_, metavar=metavar, help=_help(flag, template),
                           default=SUPPRESS)
    model.add_argument("--batchnorm", action=argparse.BooleanOptionalAction, default=SUPPRESS,
                       help="batch normalisation before each hidden activation")
    files = parser.add_argument_group("files")
    files.add_argument("--config", metavar="FILE", help="TOML file of settings, e.g. "
                       "experiments/digits-binary.toml")
    files.add_argument("--out", metavar="DIR", help="run folder (default runs/<dataset>-<time>)")
    files.add_argument("--resume", metavar="DIR", help="continue DIR's run from its last "
                       "checkpoint to --epochs in total, with DIR's settings")
    files.add_argument("--data-dir", metavar="DIR", help="folder holding the dataset files")
    files.add_argument("--no-download", dest="download", action="store_false",
                       help="never download missing dataset files")
    files.add_argument("--no-plots", dest="plots", action="store_false",
                       help="skip the PNG pictures (faster; the other files are written)")
    output = parser.add_argument_group("output")
    output.add_argument("--log", choices=("auto", "lines", "bar", "quiet"), default="auto",
                        help="lines: one line per epoch; bar: also a bar within each epoch; "
                             "quiet: nothing but the result (default auto: bar on a terminal)")
    output.add_argument("--print-every", type=int, metavar="K", default=None,
                        help="also print PyTorch's 'Train Epoch: 1 [3200/60000 (5%%)]  Loss: …' "
                             "line every K steps, and its 'Test set: …' line at the end")


def given_settings(args):
    """The RunConfig fields set explicitly on the command line."""
    names = [_dest(flag) for flag in FIELD_FLAGS] + ["batchnorm"]
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def run(args):
    from numpynn.cli import run as runs
    from numpynn.cli.config import RunConfig
    from numpynn.training.trainer import TrainingDiverged

    given = given_settings(args)
    try:
        if args.resume:
            result = _resume(args, given, runs)
        else:
            if args.config:
                cfg = RunConfig.from_toml(args.config, overrides=given)
            else:
                cfg = RunConfig.from_dict(given, source="command line")
            result = runs.train(cfg, args.out, args.data_dir, args.download,
                                progress=_progress(args), log=sys.stdout, plots=args.plots)
    except TrainingDiverged as err:
        raise UsageError(str(err)) from None
    m = result.metrics
    if args.print_every is not None and "test_acc" in m:
        from numpynn.training.callbacks import format_test
        print(format_test(m["test_loss"], round(m["test_acc"] * m["test_n"]), m["test_n"]))
    print(f"test_acc={m['test_acc']:.4f} test_loss={m['test_loss']:.4f} "
          f"(run folder: {result.run_dir})")
    return 0


def _progress(args):
    """The Trainer's progress reporter for --log and --print-every (None: quiet)."""
    from numpynn.training.callbacks import PROGRESS, ProgressLogger

    if args.print_every is not None and args.print_every < 1:
        raise UsageError(f"--print-every must be >= 1; got {args.print_every}")
    bar = PROGRESS[args.log]
    if bar is None:
        return None
    return ProgressLogger(bar=bar, print_every=args.print_every)


def _resume(args, given, runs):
    ignored = sorted(set(given) - RESUMABLE) + [f for f in ("config", "out") if getattr(args, f)]
    if ignored:
        raise UsageError(f"--resume takes its settings from {args.resume}/config.toml; got "
                         f"{', '.join('--' + n.replace('_', '-') for n in ignored)}\nhelp: "
                         "only --epochs (the new total) and --data-dir go with --resume")
    return runs.resume(args.resume, given.get("epochs"), args.data_dir, args.download,
                       progress=_progress(args), log=sys.stdout, plots=args.plots)
