"""``numpynn explain``: a worked solution (forward pass, deltas, one SGD step) as tables.

    numpynn explain --example mazur-2-2-1 --precision 9
    numpynn explain my_network.toml --lr 0.1 --loss mse
    numpynn explain --json '{"x": [2], "y": [1], "layers": [{"W": [[1, -1]], "b": [0, 1],
                     "activation": "relu"}, {"W": [[1], [1]], "b": [0]}]}'
    numpynn explain --list-examples
    numpynn explain --conv                    # a tiny convolution, forward and backward
    numpynn explain --conv --json '{"x": [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
                     "W": [[1, 0], [0, -1]], "b": 0, "stride": 1, "padding": 1}'
    numpynn explain --pool                    # a 2×2 max pool and the routing of its gradient
"""
from numpynn.cli.errors import UsageError


def add_arguments(parser):
    parser.add_argument("file", nargs="?", default=None, metavar="FILE",
                        help="network file (.toml or .json): layers with W, b, activation; x; y; "
                             "loss; lr (see numpynn/course/examples/)")
    parser.add_argument("--example", default=None, metavar="NAME",
                        help="a bundled example network (see --list-examples)")
    parser.add_argument("--json", default=None, metavar="TEXT",
                        help="the network given inline as JSON, with the keys of a network file")
    parser.add_argument("--list-examples", action="store_true", help="list bundled examples")
    parser.add_argument("--precision", type=int, default=4, help="decimals shown (default: 4)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (overrides the file)")
    parser.add_argument("--loss", default=None, choices=("half_sse", "mse"),
                        help="half_sse: E = ½Σ(y − t)²; mse: mean((y − t)²) (overrides the file)")
    parser.add_argument("--conv", action="store_true",
                        help="a tiny convolution: each output's sum, dW, db and dx written out "
                             "(--json: keys x, W, b, dout, stride, padding)")
    parser.add_argument("--pool", action="store_true",
                        help="a tiny max pool and its gradient's routing (--json: keys x, "
                             "kernel_size, stride, dout)")


def run(args):
    from numpynn.course import networks

    if args.list_examples:
        for name, path in networks.examples().items():
            print(f"{name:<14} {networks.load_network(path).title}")
        return 0
    if args.conv or args.pool:
        return _explain_image(args)
    sources = [s for s in (args.file, args.example, args.json) if s is not None]
    if len(sources) != 1:
        raise UsageError("give exactly one network: FILE, --example NAME or --json TEXT\n"
                         "help: numpynn explain --list-examples shows the bundled examples")
    if not 0 <= args.precision <= 15:
        raise UsageError(f"--precision must be between 0 and 15; got {args.precision}")
    spec = _load(networks, args)
    print(spec.explain(lr=args.lr, loss=args.loss).to_text(args.precision))
    return 0


def _explain_image(args):
    """``--conv`` / ``--pool``: the bundled tiny example, or the one given with --json."""
    import json

    from numpynn._helpers.limits import parse_nested
    from numpynn.course import explain_conv as ec

    flag = "--conv" if args.conv else "--pool"
    if not 0 <= args.precision <= 15:
        raise UsageError(f"--precision must be between 0 and 15; got {args.precision}")
    if args.conv and args.pool or args.file is not None or args.example is not None:
        raise UsageError("--conv and --pool take no network file or example: give one of them, "
                         "optionally with --json\nhelp: numpynn explain --conv")
    example, explain = (ec.TINY_CONV, ec.explain_conv) if args.conv else (ec.TINY_POOL,
                                                                            ec.explain_pool)
    if args.json is None:
        spec = example
    else:
        spec = parse_nested(json.loads, args.json, "--json", "JSON", error=UsageError)
        if not isinstance(spec, dict) or not set(spec) <= set(example) or "x" not in spec:
            raise UsageError(f"--json: expected an object with x and any of "
                             f"{', '.join(k for k in example if k != 'x')}; got {args.json}\n"
                             f"help: numpynn explain {flag} shows the bundled example")
    try:
        print(explain(**spec, precision=args.precision).to_text())
    except (TypeError, ValueError) as err:
        raise UsageError(f"--json: {err}") from None
    return 0


def _load(networks, args):
    import json

    from numpynn._helpers.limits import parse_nested

    if args.json is not None:
        data = parse_nested(json.loads, args.json, "--json", "JSON", error=UsageError)
        return networks.network_from_dict(data, where="--json")
    path = networks.example_path(args.example) if args.example is not None else args.file
    return networks.load_network(path)
