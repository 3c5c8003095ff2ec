"""Hyper-parameter search on Optuna: the library behind ``numpynn tune``.

A study is a set of trials; each trial is one ``numpynn train`` run (its own run folder
``DIR/trials/NNNN``, written by :func:`numpynn.cli.run.train`) whose value is its final
epoch's validation metric, as ``history.csv`` has it; the test set never takes part.

Storage. Without a URL the study lives in ``DIR/study.journal`` (Optuna's JournalFileBackend,
the store its docs recommend for several processes on one machine: appends under a file lock;
SQLite would lock up under concurrent writers). With ``postgresql://USER:PASSWORD@HOST/DB``
any number of processes on any number of machines share it.

Workers. A worker asks for trials until the study has ``n_trials`` finished ones (complete or
pruned: a failed trial is replaced). Trials whose worker died are failed, so the study goes on:
on the worker's own machine at once (each trial records its host and pid), on PostgreSQL also
through Optuna's heartbeat from any machine (:mod:`numpynn.cli.tune_faults`). Ctrl-C fails
the worker's running trial (:class:`StudyInterrupted`); the same command then continues.

Optuna is imported inside the functions that need it, so ``numpynn --help`` stays quick.
"""
import csv
import io
import os
import re
import time
import warnings
from pathlib import Path

from numpynn._helpers.extras import require
from numpynn._helpers.interrupts import caused_by_ctrl_c, ctrl_c_deferred
from numpynn._helpers.io import atomic_write_text
from numpynn.cli import run as runs
from numpynn.cli import tune_faults as faults
from numpynn.cli.tune_faults import FAIL_REASON, fail_dead_trials
from numpynn.training.callbacks import Callback
from numpynn.training.trainer import TrainingDiverged

JOURNAL, TRIALS_CSV, BEST, FIGURES = "study.journal", "trials.csv", "best.toml", "figures"
POLL_S = 1.0          # how often a worker waiting on the others' last trials looks again
CREATE_TRIES = 10     # bounded retries while workers race to create one study's schema
MAX_FAILED = 2        # a worker gives up after MAX_FAILED × n_trials failed trials


def mask(url):
    """``url`` with its password replaced by ``***`` (what output, logs and files show).

    >>> mask("postgresql://ann:s3cret@db.lab/tune")
    'postgresql://ann:***@db.lab/tune'
    """
    return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)


def _optuna():
    require("optuna", "numpynn tune")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)   # our own line per trial instead
    return optuna


# ------------------------------------------------------------------------------- storage
def _journal_file(backend):
    """Optuna's journal file whose appends are never cut by Ctrl-C: one landing between taking
    the file's lock and the ``try`` that releases it would leave the lock to this very process,
    whose next write (failing the trial) would wait out Optuna's 30 s grace period."""
    class CtrlCSafeJournalFile(backend):
        def append_logs(self, logs):
            with ctrl_c_deferred():
                super().append_logs(logs)
    return CtrlCSafeJournalFile


def open_storage(url, out):
    """The Optuna storage: a journal file in ``out`` when ``url`` is None, else the database."""
    optuna = _optuna()
    if url is None:
        from optuna.storages.journal import JournalFileBackend

        Path(out).mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(_journal_file(JournalFileBackend)(
            str(Path(out) / JOURNAL)))
    if not url.startswith(("postgresql://", "postgresql+psycopg://", "sqlite:///")):
        raise ValueError(f"--storage {mask(url)}: expected postgresql://USER:PASSWORD@HOST/DB\n"
                         "help: leave --storage out to keep the study in a file in --out")
    if url.startswith("postgresql://"):   # psycopg 3 ([tune] extra), whatever SQLAlchemy's default
        require("psycopg", "numpynn tune --storage postgresql://")
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)   # heartbeats
        return _retry(lambda: optuna.storages.RDBStorage(
            url, heartbeat_interval=faults.HEARTBEAT_S, grace_period=faults.GRACE_S), url)


# SQLSTATEs that mean "another process created it first": on a fresh database, Optuna's
# create_all in two processes at once makes the same enum type (studydirection) and tables;
# the second CREATE fails with unique_violation on PostgreSQL's catalog (pg_type_typname_nsp_
# index: what tests/test_tune.py's race raises), or, had the first committed between the
# second's existence check and its CREATE, with duplicate_table / duplicate_object. Once the
# first has committed, a retry finds the schema there and goes on.
CREATED_BY_ANOTHER = {"23505": "unique_violation", "42P07": "duplicate_table",
                      "42710": "duplicate_object"}


def _retry(make, url):
    """``make()``, retried (:data:`CREATE_TRIES` times) while another process creates the same
    schema or study at the same moment; any other database error is one line."""
    import sqlalchemy.exc

    for attempt in range(CREATE_TRIES):
        try:
            return make()
        except sqlalchemy.exc.SQLAlchemyError as err:
            if _created_by_another(err) and attempt < CREATE_TRIES - 1:
                time.sleep(0.2 * (attempt + 1))
                continue
            first = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
            raise ValueError(f"--storage {mask(url)}: {first.replace(url, mask(url))}\nhelp: "
                             "check the host, database, user and password") from None


def _created_by_another(err):
    """Whether ``err`` is the database saying another process made that object first."""
    return getattr(getattr(err, "orig", None), "sqlstate", None) in CREATED_BY_ANOTHER


def load_study(storage, name, spec, seed):
    """Create the study, or load it when it exists (bounded retries against a racing worker)."""
    optuna = _optuna()
    tune = spec.tune

    def make():
        return optuna.create_study(storage=storage, study_name=name, load_if_exists=True,
                                   direction=tune["direction"], sampler=_sampler(spec, seed),
                                   pruner=PRUNERS[tune["pruner"]](optuna))
    if isinstance(storage, optuna.storages.RDBStorage):
        return _retry(make, str(storage.url))
    return make()


# name -> f(optuna, spec, seed) -> a sampler; name -> f(optuna) -> a pruner
SAMPLERS = {
    "tpe": lambda optuna, spec, seed: optuna.samplers.TPESampler(seed=seed),
    "random": lambda optuna, spec, seed: optuna.samplers.RandomSampler(seed=seed),
    "grid": lambda optuna, spec, seed: optuna.samplers.GridSampler(
        {name: list(p.choices) for name, p in spec.space.items()}, seed=seed),
}
PRUNERS = {
    "median": lambda optuna: optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
    "hyperband": lambda optuna: optuna.pruners.HyperbandPruner(),
    "none": lambda optuna: optuna.pruners.NopPruner(),
}


def _sampler(spec, seed):
    return SAMPLERS[spec.tune["sampler"]](_optuna(), spec, seed)


# -------------------------------------------------------------------------------- trials
class ReportEpochs(Callback):
    """Report each epoch's validation metric to the trial; stop the training when Optuna's
    pruner says so (``pruned_epoch`` records when; the run folder is still complete)."""

    def __init__(self, trial, metric):
        self.trial, self.metric, self.pruned_epoch = trial, metric, None

    def on_epoch_end(self, epoch, logs):
        self.trial.report(float(logs[self.metric]), epoch)
        if self.trial.should_prune():
            self.pruned_epoch = epoch
            self.trainer.stop_training = True


class StudyInterrupted(KeyboardInterrupt):
    """Ctrl-C: a trial the worker was running is failed (``fail_reason`` says why); the same
    command continues the study. ``hint`` ends the command line's "interrupted" message."""

    hint = "; run the same command again to continue the study"


class Surplus(Exception):
    """The study already had its trials when this one was asked for (workers raced)."""


def suggest(trial, space):
    """One value per searched key, from ``trial``'s sampler."""
    kinds = {
        "float": lambda name, p: trial.suggest_float(name, p.low, p.high, step=p.step, log=p.log),
        "int": lambda name, p: trial.suggest_int(name, p.low, p.high, step=p.step or 1, log=p.log),
        "categorical": lambda name, p: trial.suggest_categorical(name, list(p.choices)),
    }
    return {name: kinds[p.kind](name, p) for name, p in space.items()}


def objective(spec, out, n_trials, data_dir=None):
    """Optuna's objective: train one trial's config in ``out/trials/NNNN``, return its value.
    Ctrl-C anywhere in it fails the trial with ``fail_reason`` "interrupted (Ctrl-C)"."""
    optuna = _optuna()

    def run_trial(trial):
        try:
            return train_trial(trial)
        except (KeyboardInterrupt, Exception) as err:   # Optuna fails the trial, then
            if not caused_by_ctrl_c(err):                 # lets the error through
                raise
            trial.set_user_attr(FAIL_REASON, "interrupted (Ctrl-C)")
            raise StudyInterrupted() from None

    def train_trial(trial):
        trial.set_user_attr("host", faults.HOST)
        trial.set_user_attr("pid", os.getpid())
        if _taken_before(trial) >= n_trials:
            trial.set_user_attr("surplus", True)
            raise Surplus(f"the study had its {n_trials} trials already")
        cfg = spec.config(suggest(trial, spec.space))
        reporter = ReportEpochs(trial, spec.tune["metric"])
        try:
            result = runs.train(cfg, Path(out) / "trials" / f"{trial.number:04d}", data_dir,
                                plots=False, callbacks=[reporter])
        except TrainingDiverged as err:
            trial.set_user_attr(FAIL_REASON, str(err).splitlines()[0])
            raise
        if reporter.pruned_epoch is not None:
            raise optuna.TrialPruned(f"pruned after epoch {reporter.pruned_epoch + 1}")
        return float(result.trainer.history.history[spec.tune["metric"]][-1])
    return run_trial


def _taken_before(trial):
    """Trials numbered below ``trial`` that are finished or still running (a surplus check)."""
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
    return sum(1 for t in trial.study.get_trials(deepcopy=False, states=states)
               if t.number < trial.number)


def counts(study):
    """``{"done": complete + pruned, "running": …, "failed": failures that were not surplus}``."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    return {"done": sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials),
            "running": sum(t.state == TrialState.RUNNING for t in trials),
            "failed": sum(t.state == TrialState.FAIL and not t.user_attrs.get("surplus")
                          for t in trials)}


def work(study, spec, out, n_trials, timeout=None, log=None, data_dir=None):
    """Run trials until the study has ``n_trials`` finished ones (or ``timeout`` seconds have
    passed before a new one would start); returns how many this worker ran."""
    _optuna()   # the one-line "install numpynn[tune]" error before any work
    deadline = None if timeout is None else time.monotonic() + timeout
    ran = 0
    while deadline is None or time.monotonic() < deadline:
        fail_dead_trials(study)
        n = counts(study)
        if n["done"] >= n_trials:
            break
        if n["failed"] >= MAX_FAILED * n_trials:
            atomic_write_text(Path(out) / TRIALS_CSV, trials_csv(study, spec))
            raise ValueError(f"{n['failed']} trials failed (see the fail_reason column of "
                             f"{Path(out) / TRIALS_CSV})\nhelp: narrow the search space, "
                             "e.g. a lower lr high")
        if n["done"] + n["running"] >= n_trials:
            time.sleep(POLL_S)   # the others' last trials: wait, in case one of them dies
            continue
        study.optimize(objective(spec, out, n_trials, data_dir), n_trials=1,
                       catch=(TrainingDiverged, Surplus), callbacks=[_progress(log, n_trials)])
        ran += 1
    return ran


def _progress(log, n_trials):
    """Optuna callback: one line per finished trial (number, state, value, best so far)."""
    from optuna.trial import TrialState

    def line(study, trial):
        if trial.user_attrs.get("surplus") or log is None:
            return
        value = "" if trial.value is None else f" {trial.value:.4f}"
        reason = trial.user_attrs.get(FAIL_REASON, "")
        done = counts(study)["done"]
        try:
            best = f"best {study.best_value:.4f} (trial {study.best_trial.number})"
        except ValueError:
            best = "no best yet"
        state = trial.state.name.lower()
        extra = f" ({reason})" if reason and trial.state == TrialState.FAIL else ""
        runs.say(log, f"trial {trial.number:4d} {state}{value}{extra}; {best}; "
                      f"{done}/{n_trials} finished")
    return line


# ------------------------------------------------------------------------------- results
def write_results(study, spec, out, plots=True):
    """``trials.csv``, ``best.toml`` and the figures; returns the best FrozenTrial or None."""
    out = Path(out)
    atomic_write_text(out / TRIALS_CSV, trials_csv(study, spec))
    best = _best(study)
    if best is not None:
        cfg = spec.config(best.params)
        header = (f"best trial {best.number} of study {study.study_name}: "
                  f"{spec.tune['metric']} = {best.value!r}\n"
                  f"numpynn train --config {out / BEST} retrains it exactly")
        atomic_write_text(out / BEST, cfg.to_toml(header=header))
    if plots:
        write_figures(study, spec, out / FIGURES)
    return best


def _best(study):
    try:
        return study.best_trial
    except ValueError:   # no complete trial yet
        return None


def trials_csv(study, spec):
    """One row per trial: number, state, value, duration_s, each searched key, fail_reason."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    keys = list(spec.space)
    writer.writerow(["number", "state", "value", "duration_s", *keys, FAIL_REASON])
    for t in study.get_trials(deepcopy=False):
        if t.user_attrs.get("surplus"):
            continue
        duration = "" if t.duration is None else f"{t.duration.total_seconds():.2f}"
        value = "" if t.value is None else repr(t.value)
        writer.writerow([t.number, t.state.name, value, duration,
                         *(t.params.get(k, "") for k in keys), t.user_attrs.get(FAIL_REASON, "")])
    return buffer.getvalue()


def write_figures(study, spec, folder):
    """Optimization history, the metric against each key (a heat map for two), importances;
    a figure Optuna cannot draw for this study is skipped with a warning."""
    require("matplotlib", "numpynn tune's figures")
    import matplotlib

    matplotlib.use("Agg")   # files only, never a window
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as vis

    keys = list(spec.space)
    figures = {"optimization_history": lambda: vis.plot_optimization_history(study),
               "importances": lambda: vis.plot_param_importances(study)}
    if len(keys) == 2:
        figures["heatmap"] = lambda: vis.plot_contour(study, params=keys)
    figures["slices"] = lambda: vis.plot_slice(study, params=keys)
    folder.mkdir(parents=True, exist_ok=True)
    for name, draw in figures.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # Optuna's ExperimentalWarning
                axes = draw()
            figure = (axes.flat[0] if hasattr(axes, "flat") else axes).get_figure()
            figure.savefig(folder / f"{name}.png", dpi=100, bbox_inches="tight")
        except Exception as err:   # Optuna refuses e.g. importances with one trial
            warnings.warn(f"no {name}.png: Optuna cannot draw it for this study ({err})",
                          stacklevel=2)
        finally:
            plt.close("all")


def finished_summary(study, spec, n_trials):
    """The closing line: how many trials finished, were pruned and failed, and the best."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    tally = {s: sum(t.state == s and not t.user_attrs.get("surplus") for t in trials)
             for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    best = _best(study)
    text = (f"{tally[TrialState.COMPLETE]} complete, {tally[TrialState.PRUNED]} pruned, "
            f"{tally[TrialState.FAIL]} failed (of {n_trials})")
    if best is not None:
        text += (f"; best {spec.tune['metric']}={best.value:.4f} in trial {best.number}: "
                 + ", ".join(f"{k}={v}" for k, v in best.params.items()))
    return text
