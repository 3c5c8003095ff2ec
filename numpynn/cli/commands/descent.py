"""``numpynn descent``: gradient descent on a 2-D function, printed as a table, optionally plotted.

    numpynn descent --f "x**2 + y**2 + x*(y + 2) + cos(3*x)" --start 2,2 --lr 0.1 --steps 50 \\
                    --decay 0.95 --optimizer gd,adam --plot descent.png
    numpynn descent --optimizer sgd --decay 1,0.95 --plot descent.png   # fixed vs decaying step

One path per optimizer and decay, all on one contour plot; with more than one decay each path is
labelled "sgd, decay 0.95", otherwise by its optimizer alone.
"""
import math

from numpynn.cli.errors import UsageError

DEFAULT_F = "x**2 + y**2 + x*(y + 2) + cos(3*x)"  # the course's example
MAX_ROWS = 20  # without --every, print about this many rows per run


def add_arguments(parser):
    parser.add_argument("--f", default=DEFAULT_F, metavar="EXPR",
                        help=f"function of x and y (default: {DEFAULT_F!r}); operators "
                             "+ - * / **, functions sin cos exp log sqrt abs tanh")
    parser.add_argument("--start", default="2,2", metavar="X,Y", help="start point (default: 2,2)")
    parser.add_argument("--lr", type=float, default=0.1, help="first step's learning rate η₀")
    parser.add_argument("--steps", type=int, default=50, help="number of updates (default: 50)")
    parser.add_argument("--decay", default="1", metavar="D[,D…]",
                        help="step t uses η₀·Dᵗ; comma-separated to compare, e.g. 1,0.95 "
                             "(default: 1, constant)")
    parser.add_argument("--optimizer", default="gd", metavar="NAMES",
                        help="gd (plain descent) or numpynn optimizers, comma-separated to "
                             "compare, e.g. gd,sgd,adam")
    parser.add_argument("--every", type=int, default=None, metavar="K",
                        help=f"print every K-th step (default: about {MAX_ROWS} rows)")
    parser.add_argument("--plot", default=None, metavar="PNG",
                        help="save contours with the paths and f per step to this PNG")


def run(args):
    from numpynn._helpers.extras import require
    from numpynn.course.descent import descent, parse_expression

    if args.plot:
        require("matplotlib", "--plot")  # before any work, not after it
    expr = parse_expression(args.f)
    start = _parse_start(args.start)
    names = [name.strip() for name in args.optimizer.split(",") if name.strip()]
    if not names:
        raise UsageError("--optimizer is empty; expected names such as gd,adam")
    decays = _parse_numbers(args.decay, "--decay", "decays such as 1,0.95")
    if args.every is not None and args.every < 1:
        raise UsageError(f"--every must be >= 1; got {args.every}")
    runs = {_label(name, decay, len(decays) > 1): (name, decay)
            for name in names for decay in decays}
    results = {label: descent(expr, start, lr=args.lr, steps=args.steps, decay=decay,
                              optimizer=name) for label, (name, decay) in runs.items()}
    every = args.every or max(1, math.ceil(args.steps / MAX_ROWS))
    for label, result in results.items():
        name, decay = runs[label]
        print(f"f(x, y) = {args.f}; optimizer {name}, lr {args.lr:g}, decay {decay:g}, "
              f"{args.steps} steps")
        print(_table(result, every))
        print()
    for label, result in results.items():
        x, y = result.final
        print(f"final ({label}): x = {x:.6f}, y = {y:.6f}, f = {result.values[-1]:.6f}")
    if args.plot:
        from numpynn.plot import descent_contours

        descent_contours(expr, [r.path for r in results.values()], labels=list(results),
                         values=[r.values for r in results.values()], path=args.plot)
        print(f"wrote {args.plot}")
    return 0


def _label(name, decay, several_decays):
    """A path's name in the legend and the summary: the optimizer, and its decay if it varies."""
    return f"{name}, decay {decay:g}" if several_decays else name


def _parse_start(text):
    point = _parse_numbers(text, "--start", "X,Y such as 2,2")
    if len(point) != 2:
        raise UsageError(f"--start has {len(point)} coordinate(s); the function of x, y needs 2"
                         "\nhelp: e.g. --start 2,2")
    return point


def _parse_numbers(text, flag, expected):
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a list of numbers; expected {expected}")\
            from None


def _table(result, every):
    """Rows every ``every``-th step, and always the last."""
    rows = [f"{'step':>6} {'x':>12} {'y':>12} {'f':>14}"]
    last = len(result.values) - 1
    for t in sorted(set(range(0, last + 1, every)) | {last}):
        x, y = result.path[t]
        rows.append(f"{t:>6} {x:>12.6f} {y:>12.6f} {result.values[t]:>14.8f}")
    return "\n".join(rows)
