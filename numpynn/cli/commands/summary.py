"""``numpynn summary RUN_DIR``: the model table and the final metrics of a run folder."""


def add_arguments(parser):
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by numpynn train")


def run(args):
    from numpynn.cli import run as runs

    print(runs.summarize(args.run_dir), end="")
    return 0
