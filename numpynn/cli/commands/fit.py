"""``numpynn fit``: a 1-H-1 network through given points, as exactly as it can.

    numpynn fit --x 0,1,2,3,4,5,6,7,8,9,10,11,12 --y 8,6,4,2,0,2,4,2,0,2,4,6,8 --hidden 4

Prints the learned parameters (numpynn layout: z = x·W1 + b1, y = a·W2 + b2) and, as the last
line, ``max_abs_error=<value>``.
"""
import numpy as np

from numpynn.cli.errors import UsageError

ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh", "scaled_tanh", "swish", "gelu", "elu")


def add_arguments(parser):
    parser.add_argument("--x", required=True, metavar="X1,X2,…", help="the points' x, comma-separated")
    parser.add_argument("--y", required=True, metavar="Y1,Y2,…", help="the points' y, comma-separated")
    parser.add_argument("--hidden", type=int, default=4, help="hidden units H (default: 4)")
    parser.add_argument("--activation", default="relu", choices=ACTIVATIONS,
                        help="hidden activation (default: relu)")
    parser.add_argument("--restarts", type=int, default=None,
                        help="starts to try (default: numpynn.course.fitting.DEFAULT_RESTARTS)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random restarts")
    parser.add_argument("--precision", type=int, default=6, help="decimals shown (default: 6)")


def run(args):
    from numpynn.course.fitting import DEFAULT_RESTARTS, fit_points

    x, y = _numbers(args.x, "--x"), _numbers(args.y, "--y")
    if x.size != y.size:
        raise UsageError(f"--x has {x.size} values but --y has {y.size}; expected one y per x")
    restarts = DEFAULT_RESTARTS if args.restarts is None else args.restarts
    result = fit_points(x, y, hidden=args.hidden, activation=args.activation,
                        restarts=restarts, seed=args.seed)
    first, last = result.model.layers[0], result.model.layers[2]
    fmt = {"float_kind": lambda v: f"{v:.{max(args.precision, 0)}f}"}
    print(f"1-{args.hidden}-1 {args.activation} network, {x.size} points, "
          f"{result.restarts} start(s) tried")
    for name, value in (("W1", first.W), ("b1", first.b), ("W2", last.W.T), ("b2", last.b)):
        print(f"{name} = {np.array2string(value.ravel(), formatter=fmt, separator=', ')}")
    if args.activation in ("relu", "leaky_relu"):
        print(f"kinks x = −b1/W1 = {np.array2string(result.kinks, formatter=fmt, separator=', ')}")
    print(f"max_abs_error={result.max_abs_error:.6g}")
    return 0


def _numbers(text, flag):
    items = [item.strip() for item in text.split(",")]
    try:
        values = np.array([float(item) for item in items])
    except ValueError:
        bad = next(item for item in items if not _is_number(item))
        raise UsageError(f"{flag}: {bad!r} is not a number; expected comma-separated numbers "
                         f"such as 0,1,2") from None
    if not np.isfinite(values).all():
        raise UsageError(f"{flag}: values must be finite; got {text!r}")
    return values


def _is_number(item):
    try:
        float(item)
        return True
    except ValueError:
        return False
