"""``numpynn bench``: numpynn's Trainer beside a plain PyTorch loop on the same MLP.

    numpynn bench                        # SGD and Adam at batch 64 and 256, 3 repeats
    numpynn bench --smoke                # CI: 512 synthetic samples, one epoch, one repeat
    numpynn bench --frameworks numpynn,numpy,torch   # with the hand-written NumPy loop
    numpynn bench --scaling --markdown   # samples/s as batch size and width grow
    numpynn bench --profile              # where a numpynn epoch spends its time

What is measured and timed: :mod:`benchmarks`. Tables go to stdout (``--markdown`` for
README-ready ones), progress to stderr, everything measured to ``--json FILE``.
"""
import json
import sys

from numpynn.cli.errors import UsageError

# table columns: (header, key of the result row, format)
SUMMARY_COLUMNS = (
    ("config", "config", "{}"),
    ("framework", "framework", "{}"),
    ("s/epoch", "seconds_per_epoch", "{:.3f}"),
    ("samples/s", "samples_per_s", "{:,.0f}"),
    ("peak RSS (MiB)", "peak_rss_mib", "{:.0f}"),
    ("test acc", "test_acc", "{:.4f}"),
    ("GFLOP/s", "gflops", "{:.1f}"),
    ("% of matmul peak", "peak_fraction", "{:.1%}"),
)
RATIO_COLUMNS = (
    ("config", "config", "{}"),
    ("speed torch/numpynn", "speed", "{:.2f}×"),
    ("speed target", "speed_target", "≥ {:.1f}×"),
    ("memory numpynn/torch", "memory", "{:.2f}×"),
    ("memory target", "memory_target", "≤ {:.1f}×"),
    ("numpynn over hand loop", "overhead", "{:+.1%}"),
    ("speed torch/hand loop", "loop_speed", "{:.2f}×"),
)
SCALING_COLUMNS = (
    ("batch", "batch_size", "{}"),
    ("model", "model", "{}"),
    ("framework", "framework", "{}"),
    ("samples/s", "samples_per_s", "{:,.0f}"),
    ("GFLOP/s", "gflops", "{:.1f}"),
    ("% of matmul peak", "peak_fraction", "{:.1%}"),
    ("speed torch/numpynn", "speed", "{:.2f}×"),
)
PROFILE_COLUMNS = (
    ("config", "config", "{}"),
    ("s/epoch", "seconds", "{:.3f}"),
    ("matmul", "matmul", "{:.1f} %"),
    ("element-wise", "element-wise", "{:.1f} %"),
    ("python overhead", "python overhead", "{:.1f} %"),
)
FUNCTION_COLUMNS = (
    ("function (own time)", "function", "{}"),
    ("kind", "kind", "{}"),
    ("calls", "calls", "{:,}"),
    ("seconds", "seconds", "{:.3f}"),
    ("share", "percent", "{:.1f} %"),
)


def add_arguments(parser):
    # no benchmarks import here: it loads NumPy, and `numpynn --help` must stay quick
    parser.add_argument("--configs", metavar="NAME,…", default=None,
                        help="configurations, names from benchmarks.CONFIGS (default: all: "
                             "sgd-64, adam-64, sgd-256, adam-256)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="BLAS/torch threads for every framework (default: all cores)")
    parser.add_argument("--epochs", type=int, default=None, metavar="N",
                        help="epochs per trial; with 2 or more the first is an untimed "
                             "warm-up (default 2)")
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
    parser.add_argument("--json", metavar="FILE", help="also write every measurement to FILE")
    parser.add_argument("--markdown", action="store_true", help="print README-ready tables")


def run(args):
    try:
        import benchmarks as bench
    except ModuleNotFoundError as err:
        if err.name != "benchmarks":
            raise
        raise UsageError("it needs the benchmarks/ folder of a numpynn checkout "
                         "on the import path (a pip install does not ship it)") from None
    settings = _settings(args, bench)
    results = {}
    if not (args.scaling or args.profile):
        results.update(bench.run_benchmark(settings, log=log))
        print_comparison(results, args.markdown)
    if args.scaling:
        batch_sizes, widths = ((8, 64), (64,)) if args.smoke else (bench.BATCH_SWEEP,
                                                                   bench.WIDTH_SWEEP)
        results["scaling"] = bench.run_scaling(settings, batch_sizes, widths, log=log)
        print_scaling(results["scaling"], args.markdown)
    if args.profile:
        results["profile"] = bench.run_profile(settings, log=log)
        print_profile(results["profile"], args.markdown)
    if args.json:
        from numpynn._helpers.io import atomic_write_text
        atomic_write_text(args.json, json.dumps(results, indent=2) + "\n")
    return 0


def log(line):
    """Progress, one line per worker, to stderr (stdout keeps only the tables)."""
    print(f"[bench] {line}", file=sys.stderr, flush=True)


def _settings(args, bench):
    given = {"threads": args.threads, "epochs": args.epochs, "repeats": args.repeats}
    given = {key: value for key, value in given.items() if value is not None}
    if args.configs is not None:
        given["configs"] = tuple(name.strip() for name in args.configs.split(",") if name.strip())
    if args.frameworks is not None:
        given["frameworks"] = tuple(name.strip() for name in args.frameworks.split(",")
                                    if name.strip())
    if args.synthetic:
        given["synthetic"] = True
    try:
        return bench.BenchSettings.smoke(**given) if args.smoke else bench.BenchSettings(**given)
    except ValueError as err:
        raise UsageError(f"{err}\nhelp: numpynn bench --help lists the options") from None


# -- printing ----------------------------------------------------------------------------------
def print_comparison(results, markdown):
    machine, data = results["machine"], results["data"]
    settings = results["settings"]
    print(f"data: {data['note']}; {results['trials'][0]['n_train']:,} training samples; "
          f"MLP {'-'.join(map(str, (784, *settings['hidden'], 10)))} ReLU, float32")
    print(_machine_line(machine))
    print(f"timed: {settings['timed']}; medians over {settings['repeats']} repeat(s) of "
          f"{settings['epochs']} epoch(s); frameworks: {', '.join(results['frameworks'])}")
    print()
    print(render(SUMMARY_COLUMNS, results["summary"], markdown))
    if results["ratios"]:
        print()
        print(render(_filled(RATIO_COLUMNS, results["ratios"]), results["ratios"], markdown))
    print()
    startup = [{"what": what, "seconds": seconds} for what, seconds in results["startup"].items()]
    print(render((("startup", "what", "{}"), ("seconds", "seconds", "{:.3f}")), startup, markdown))


def print_scaling(scaling, markdown):
    print(f"scaling — data: {scaling['data']['note']}; SGD lr 0.01")
    print(_machine_line(scaling["machine"]))
    for sweep, title in (("batch", "batch size grows (784-256-128-64-10)"),
                         ("width", "width grows (784-H-H-10, batch 256)")):
        rows = [{**row, "model": "-".join(map(str, (784, *row["hidden"], 10)))}
                for row in scaling["rows"] if row["sweep"] == sweep]
        print(f"\nsamples/s as the {title}")
        print(render(SCALING_COLUMNS, rows, markdown))


def print_profile(profile, markdown):
    print(f"profile of one numpynn epoch (after a warm-up) — data: {profile['data']['note']}")
    print("matmul: the epoch's matrix products replayed alone; python overhead: the same steps "
          "with width 1 and batch 1; element-wise: the rest")
    rows = [{"config": name, "seconds": p["seconds"], **p["breakdown"]}
            for name, p in profile["profiles"].items()]
    print(render(PROFILE_COLUMNS, rows, markdown))
    for name, p in profile["profiles"].items():
        print(f"\ncProfile of {name}, grouped by function, sorted by own time "
              "(ufuncs such as x @ W count in their caller's own time)")
        print(render(FUNCTION_COLUMNS, p["functions"], markdown))


def _machine_line(machine):
    blas = ", ".join(f"{b['internal_api']} {b['version']} kernel {b['architecture']}"
                     for b in machine["blas"]) or "none found"
    removed = machine["openblas_kernel_vars_removed"]
    removed = f" (removed from the workers' environment: {', '.join(removed)})" if removed else ""
    return (f"threads: {machine['threads']} of {machine['cores']} cores; BLAS: {blas}{removed}; "
            f"SGD's update through {machine['axpy']} axpy; "
            f"float32 matmul peak {machine['matmul_peak_gflops']:.1f} GFLOP/s (the higher of "
            f"{_readings(machine)}, before and after the trials)")


def _readings(machine):
    return " and ".join(f"{gflops:.1f}" for gflops in machine["matmul_peak_readings"])


def render(columns, rows, markdown=False):
    """A text table (aligned columns) or a Markdown table of ``rows`` (dicts); a missing or
    None value prints as an empty cell."""
    headers = [header for header, _, _ in columns]
    cells = [[_cell(row.get(key), fmt) for _, key, fmt in columns] for row in rows]
    numeric = [fmt != "{}" for _, _, fmt in columns]  # numbers align right, names left
    if markdown:
        rule = "|" + "|".join("---:" if num else "---" for num in numeric) + "|"
        lines = ["| " + " | ".join(headers) + " |", rule]
        return "\n".join(lines + ["| " + " | ".join(line) + " |" for line in cells])
    widths = [max(len(text) for text in column) for column in zip(headers, *cells)]
    return "\n".join("  ".join(text.rjust(width) if num else text.ljust(width)
                               for text, width, num in zip(line, widths, numeric)).rstrip()
                     for line in [headers, *cells])


def _filled(columns, rows):
    """The columns with a value in at least one row (e.g. no hand-loop columns without it)."""
    return [column for column in columns if any(row.get(column[1]) is not None for row in rows)]


def _cell(value, fmt):
    return "" if value is None else fmt.format(value)
