"""``numpynn explain``: a worked solution (forward pass, deltas, one SGD step) as tables.

    numpynn explain --example mazur-2-2-1 --precision 9
    numpynn explain my_network.toml --lr 0.1 --loss mse
    numpynn explain --json '{"x": [2], "y": [1], "layers": [{"W": [[1, -1]], "b": [0, 1],
                     "activation": "relu"}, {"W": [[1], [1]], "b": [0]}]}'
    numpynn explain --list-examples
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


def run(args):
    from numpynn.course import networks

    if args.list_examples:
        for name, path in networks.examples().items():
            print(f"{name:<14} {networks.load_network(path).title}")
        return 0
    sources = [s for s in (args.file, args.example, args.json) if s is not None]
    if len(sources) != 1:
        raise UsageError("give exactly one network: FILE, --example NAME or --json TEXT\n"
                         "help: numpynn explain --list-examples shows the bundled examples")
    if not 0 <= args.precision <= 15:
        raise UsageError(f"--precision must be between 0 and 15; got {args.precision}")
    spec = _load(networks, args)
    print(spec.explain(lr=args.lr, loss=args.loss).to_text(args.precision))
    return 0


def _load(networks, args):
    import json

    from numpynn._helpers.limits import parse_nested

    if args.json is not None:
        data = parse_nested(json.loads, args.json, "--json", "JSON", error=UsageError)
        return networks.network_from_dict(data, where="--json")
    path = networks.example_path(args.example) if args.example is not None else args.file
    return networks.load_network(path)
