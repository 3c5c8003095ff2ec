"""The benchmark's tables: the comparison, the scaling sweeps and the profile, as aligned text
or Markdown (``--markdown``), from the JSON-ready results of :mod:`benchmarks.compare`,
:mod:`benchmarks.scaling` and :mod:`benchmarks.profile`."""

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
SCALING_COLUMNS = (    # the samples/s at each thread count go between framework and best
    ("batch", "batch_size", "{}"),
    ("model", "model", "{}"),
    ("framework", "framework", "{}"),
    ("best threads", "threads", "{}"),
    ("GFLOP/s (best)", "gflops", "{:.1f}"),
    ("% of matmul peak", "peak_fraction", "{:.1%}"),
    ("speed torch/numpynn (bests)", "speed", "{:.2f}×"),
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
    counts = sorted({int(n) for row in scaling["rows"] for n in row["by_threads"]})
    columns = (*SCALING_COLUMNS[:3],
               *((f"samples/s, {n} thread{'s' * (n > 1)}", f"threads {n}", "{:,.0f}")
                 for n in counts), *SCALING_COLUMNS[3:])
    for sweep, title in (("batch", "batch size grows (784-256-128-64-10)"),
                         ("width", "width grows (784-H-H-10, batch 256)")):
        rows = [{**row, "model": "-".join(map(str, (784, *row["hidden"], 10))),
                 **{f"threads {int(n)}": value for n, value in row["by_threads"].items()}}
                for row in scaling["rows"] if row["sweep"] == sweep]
        print(f"\nsamples/s as the {title}; each framework at {' and '.join(map(str, counts))}"
              " thread(s), the speed from the best of each")
        print(render(columns, rows, markdown))


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
