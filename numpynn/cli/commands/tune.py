"""``numpynn tune``: flags -> a search config and a study -> :mod:`numpynn.cli.tune`.

One process runs ``--workers`` local worker processes (each ``numpynn tune --workers 1`` on
the same study), then writes the results; with ``--storage postgresql://…`` start one such
command per machine. The storage URL may also come from ``NUMPYNN_TUNE_STORAGE``, which keeps
a password out of ``ps`` (the workers get it that way).
"""
import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from numpynn._helpers.interrupts import caused_by_ctrl_c
from numpynn.cli.errors import UsageError

SUPPRESS = argparse.SUPPRESS

STORAGE_ENV = "NUMPYNN_TUNE_STORAGE"
# A local worker: numpynn's command line, with Python's Ctrl-C handler even when this command
# was started with SIGINT ignored (a background job, nohup), since the workers are stopped by
# the SIGINT this command sends them.
WORKER = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
          "from numpynn.cli import main; sys.exit(main())")


def add_arguments(parser):
    parser.add_argument("--config", metavar="SEARCH.toml", required=True,
                        help="a numpynn train config plus [search] and [tune] tables "
                             "(docs/tune.md), e.g. experiments/digits-search.toml")
    parser.add_argument("--trials", type=int, metavar="N", help="the study's total of finished "
                        "trials; run again with a larger N to continue (default: [tune] trials)")
    parser.add_argument("--workers", type=int, metavar="K", default=1,
                        help="local worker processes on the same study (default 1)")
    parser.add_argument("--storage", metavar="URL", default=os.environ.get(STORAGE_ENV),
                        help=f"postgresql://USER:PASSWORD@HOST/DB to share the study between "
                             f"machines (default ${STORAGE_ENV}, else a file in --out)")
    parser.add_argument("--study", metavar="NAME", help="the study's name (default: the "
                        "config file's name)")
    parser.add_argument("--out", metavar="DIR", help="results and trial run folders "
                        "(default runs/tune-<study>)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="start no new trial after SECONDS")
    parser.add_argument("--data-dir", metavar="DIR", help="folder holding the dataset files")
    parser.add_argument("--no-plots", dest="plots", action="store_false",
                        help="skip the figures")
    parser.add_argument("--worker-index", type=int, default=None, help=SUPPRESS)


def run(args):
    from numpynn.cli import tune

    try:
        return _tune(args)
    except (KeyboardInterrupt, Exception) as err:   # Ctrl-C: one line, exit 130, and how
        if not caused_by_ctrl_c(err):                 # to go on
            raise
        raise tune.StudyInterrupted() from None


def _tune(args):
    from numpynn.cli import tune
    from numpynn.cli.search import SearchSpec

    spec = SearchSpec.from_toml(args.config)
    n_trials = spec.tune["trials"] if args.trials is None else args.trials
    for flag, value in (("--trials", n_trials), ("--workers", args.workers)):
        if value < 1:
            raise UsageError(f"{flag} must be >= 1; got {value}")
    if spec.tune["sampler"] == "grid" and n_trials > spec.grid_size():
        print(f"numpynn tune: the grid has {spec.grid_size()} points; running that many "
              f"trials, not {n_trials}", file=sys.stderr)
        n_trials = spec.grid_size()
    name = args.study or Path(args.config).stem
    out = Path(args.out or f"runs/tune-{name}")
    storage = tune.open_storage(args.storage, out)
    seed = spec.tune["seed"] + (args.worker_index or 0)
    if args.storage and args.worker_index is None:
        seed += os.getpid()   # machines sharing a study must not draw the same trials
    study = tune.load_study(storage, name, spec, seed)
    where = tune.mask(args.storage) if args.storage else str(out / tune.JOURNAL)
    if args.worker_index is None:
        print(f"numpynn tune: study {name!r} in {where}: {tune.counts(study)['done']} of "
              f"{n_trials} trials finished; {args.workers} worker(s)", flush=True)
    if args.workers == 1:
        tune.work(study, spec, out, n_trials, args.timeout, sys.stdout, args.data_dir)
    else:
        _run_workers(args, n_trials, name, out, study)
    if args.worker_index is not None:
        return 0   # a worker of a local group: the parent writes the results
    best = tune.write_results(study, spec, out, args.plots)
    print(f"numpynn tune: {tune.finished_summary(study, spec, n_trials)}")
    if best is not None:
        print(f"numpynn tune: retrain the best with numpynn train --config {out / tune.BEST}")
    return 0


def _run_workers(args, n_trials, name, out, study):
    """Start ``--workers`` processes on the study and wait for all of them. They have a
    process group of their own, so Ctrl-C reaches this process alone, which passes it on to
    each worker exactly once; :func:`_stop` then waits for them. ``kill`` (SIGTERM) and a
    closed terminal (SIGHUP) do the same."""
    from numpynn.cli import tune

    env = {**os.environ}
    if args.storage:
        env[STORAGE_ENV] = args.storage   # not on the command line: ps shows that
    workers = []
    before = {s: signal.signal(s, _as_ctrl_c) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        for i in range(args.workers):
            workers.append(subprocess.Popen(_worker_command(args, n_trials, name, out, i),
                                            env=env, start_new_session=True))
        codes = [w.wait() for w in workers]
    except KeyboardInterrupt:
        _stop(workers)
        raise
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
        tune.fail_dead_trials(study)   # the trials of a worker that was killed
    _report_failed(codes, study, n_trials)


def _worker_command(args, n_trials, name, out, index):
    command = [sys.executable, "-c", WORKER, "tune", "--config", args.config, "--trials",
               str(n_trials), "--study", name, "--out", str(out), "--workers", "1",
               "--no-plots", "--worker-index", str(index)]
    if args.timeout is not None:
        command += ["--timeout", str(args.timeout)]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    return command


def _report_failed(codes, study, n_trials):
    """One line on stderr when a worker ended with an error, saying whether the study is done."""
    from numpynn.cli import tune

    failed = [c for c in codes if c != 0]
    if failed:
        done = tune.counts(study)["done"]
        after = ("the others finished the study" if done >= n_trials else
                 f"{done} of {n_trials} trials finished: run the same command again to continue")
        print(f"numpynn tune: {len(failed)} of {len(codes)} workers ended with exit codes "
              f"{failed}; {after}", file=sys.stderr)


def _as_ctrl_c(signum, frame):
    """``kill PID`` or a closed terminal stop the workers as Ctrl-C does: outside the
    command's process group, they would not get the signal and would run on."""
    raise KeyboardInterrupt


def _stop(workers, patience_s=30):
    """Ctrl-C for each worker still running, then wait for them to fail their trials and
    exit; one still running after ``patience_s`` seconds, or at a second Ctrl-C, is killed."""
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGINT)
    deadline = time.monotonic() + patience_s
    try:
        for w in workers:
            w.wait(timeout=max(0.0, deadline - time.monotonic()))
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass
    for w in workers:
        if w.poll() is None:
            w.kill()
            w.wait()
