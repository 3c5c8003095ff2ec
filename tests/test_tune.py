"""numpynn tune: search configs, the embedded journal study, resuming, local workers, kill -9,
pruning, divergence, results that retrain exactly, and a study shared through a real
PostgreSQL server that this module starts and always stops."""
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from numpynn.cli import main
from numpynn.cli.run import read_history

PASSWORD = "s3cret-Pa55"
TINY = """\
dataset = "digits"
n_train = 300
val_fraction = 0.3
epochs = {epochs}
seed = 0
[search]
lr = {{ low = 1e-3, high = 3e-2, log = true }}
hidden = ["16", "32"]
[tune]
pruner = "{pruner}"
trials = 3
"""
# `numpynn ...` in a child process, with Python's Ctrl-C handler as a shell's foreground
# command has it, even where the test runner itself was started with SIGINT ignored (a
# background job): the Ctrl-C tests send it SIGINT.
CLI = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
       "from numpynn.cli import main; sys.exit(main())")
INSTALL_PG = ("PostgreSQL is not installed: apt-get install -y postgresql (scripts/test.sh "
              "installs it)")


# epochs of a trial that a test stops mid-training: about 3 s of training, so that two workers
# train at once and the signal lands inside a trial, not between two
STOPPED_EPOCHS = 250


def _search(tmp_path, epochs=2, pruner="none", text=None):
    path = tmp_path / "search.toml"
    path.write_text(text or TINY.format(epochs=epochs, pruner=pruner))
    return path


def _cli(*argv):
    """`numpynn ARGV...` in a child process: (exit code, stdout + stderr)."""
    done = subprocess.run([sys.executable, "-c", CLI, *map(str, argv)], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[1])
    return done.returncode, done.stdout + done.stderr


def _study(out, storage=None, name="search"):
    import optuna

    from numpynn.cli import tune
    return optuna.load_study(study_name=name, storage=tune.open_storage(storage, out))


def _finished(study):
    return sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.get_trials())


# -- bad search configs ---------------------------------------------------------------------
@pytest.mark.parametrize("search, named", [
    ("foo = [1, 2]", "foo: unknown key"),
    ("lr = { low = 0.1, high = 0.001 }", "lr: low = 0.1 is above high = 0.001"),
    ("lr = { low = 0, high = 0.1, log = true }", "lr: a log scale needs low > 0"),
    ('lr = { low = 0.001, high = 0.1 }\n[tune]\nsampler = "grid"', 'lr: sampler = "grid"'),
    ('optimizer = ["adam", "adum"]', "optimizer: 'adum' is not a valid optimizer"),
])
def test_a_bad_search_space_is_one_line_naming_the_key(tmp_path, capsys, search, named):
    path = _search(tmp_path, text=f'dataset = "digits"\n[search]\n{search}\n')
    assert main(["tune", "--config", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("numpynn tune: error: ") and named in err.splitlines()[0], err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


# -- the embedded study ---------------------------------------------------------------------
def test_embedded_study_resumes_to_more_trials_and_best_toml_retrains_exactly(tmp_path, capsys):
    out = tmp_path / "out"
    path = _search(tmp_path)
    assert main(["tune", "--config", str(path), "--out", str(out), "--no-plots"]) == 0
    first = capsys.readouterr().out
    assert first.count(" complete ") == 3 and "3/3 finished" in first
    before = {t.number: t.value for t in _study(out).get_trials()}
    assert main(["tune", "--config", str(path), "--out", str(out), "--trials", "5"]) == 0
    study = _study(out)
    assert _finished(study) == len(study.get_trials()) == 5   # only the missing two ran
    assert {t.number: t.value for t in study.get_trials()[:3]} == before
    rows = (out / "trials.csv").read_text().splitlines()
    assert rows[0] == "number,state,value,duration_s,lr,hidden,fail_reason" and len(rows) == 6
    assert (out / "figures" / "optimization_history.png").is_file()
    assert (out / "figures" / "heatmap.png").is_file()   # two searched keys
    best = study.best_trial
    trial_history = read_history(out / "trials" / f"{best.number:04d}" / "history.csv")
    assert trial_history["val_acc"][-1] == best.value
    assert main(["train", "--config", str(out / "best.toml"), "--out", str(tmp_path / "again"),
                 "--no-plots", "--log", "quiet"]) == 0
    again = read_history(tmp_path / "again" / "history.csv")
    assert again["val_acc"] == trial_history["val_acc"]       # bit for bit
    assert again["val_loss"] == trial_history["val_loss"]


def test_pruned_and_diverged_trials_are_counted_and_the_search_goes_on(tmp_path, capsys):
    text = TINY.format(epochs=4, pruner="median").replace(
        'lr = { low = 1e-3, high = 3e-2, log = true }', 'lr = [1e-2, 3e-2, 1e9]\noptimizer = ["sgd"]')
    text = text.replace('hidden = ["16", "32"]', 'hidden = ["16"]\nmomentum = [0.9]')
    path = _search(tmp_path, text=text.replace('pruner = "median"', 'pruner = "median"\n'
                                               'sampler = "random"'))
    out = tmp_path / "out"
    assert main(["tune", "--config", str(path), "--out", str(out), "--trials", "6",
                 "--no-plots"]) == 0
    study = _study(out)
    failed = [t for t in study.get_trials() if t.state.name == "FAIL"]
    assert _finished(study) == 6 and failed, [t.state for t in study.get_trials()]
    assert all("diverged" in t.user_attrs["fail_reason"] for t in failed)
    assert "diverged" in (out / "trials.csv").read_text()
    assert "fail (training diverged" in capsys.readouterr().out


def test_local_workers_share_the_study_and_a_killed_worker_fails_only_its_trial(tmp_path):
    path = _search(tmp_path, epochs=60)
    out = tmp_path / "out"
    command = [sys.executable, "-c", CLI, "tune", "--config", str(path), "--out", str(out),
               "--trials", "4", "--no-plots", "--study", "search"]
    assert main(command[3:-2] + ["--trials", "1", "--study", "search"]) == 0   # makes the study
    victim, other = (subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      cwd=Path(__file__).parents[1]) for _ in range(2))
    _wait_for_running(out, lambda: {victim.pid}, 1)   # mid-trial
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert other.wait(timeout=120) == 0, other.stderr.read()
    study = _study(out)
    killed = [t for t in study.get_trials() if t.user_attrs.get("pid") == victim.pid
              and t.state.name == "FAIL"]
    assert len(killed) == 1 and "died" in killed[0].user_attrs["fail_reason"]
    assert _finished(study) == 4 and not any(t.state.name == "RUNNING"
                                            for t in study.get_trials())


def test_workers_flag_runs_k_processes_on_one_study(tmp_path):
    code, text = _cli("tune", "--config", _search(tmp_path), "--out", tmp_path / "out",
                      "--trials", "4", "--workers", "2", "--no-plots")
    assert code == 0, text
    study = _study(tmp_path / "out")
    assert _finished(study) == 4
    assert len({t.user_attrs["pid"] for t in study.get_trials()}) == 2


def _wait_for_running(out, pids, count, storage=None, name="search", timeout=90):
    """Poll the study until ``count`` trials run in the processes ``pids`` (a callable, for
    workers whose pids are not known in advance) and each has reported an epoch: their
    training has started, past the imports and the data loading."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            running = [t for t in _study(out, storage, name).get_trials()
                       if t.state.name == "RUNNING" and t.user_attrs.get("pid") in pids()
                       and t.intermediate_values]
        except KeyError:   # the study is not created yet
            running = []
        if len(running) >= count:
            return running
        time.sleep(0.05)
    raise AssertionError(f"no {count} training trial(s) after {timeout} s")


def _gone(pid):
    return not Path(f"/proc/{pid}").exists()


INTERRUPTED = "numpynn tune: interrupted; run the same command again to continue the study"


def test_ctrl_c_fails_the_running_trial_in_one_line_and_the_same_command_continues(tmp_path):
    out = tmp_path / "out"
    argv = ["tune", "--config", str(_search(tmp_path, epochs=STOPPED_EPOCHS)), "--out",
            str(out), "--trials", "2", "--no-plots", "--study", "search"]
    worker = subprocess.Popen([sys.executable, "-c", CLI, *argv], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    [trial] = _wait_for_running(out, lambda: {worker.pid}, 1)
    worker.send_signal(signal.SIGINT)
    _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 130 and stderr.strip() == INTERRUPTED, stderr
    study = _study(out)
    [stopped] = [t for t in study.get_trials() if t.number == trial.number]
    assert stopped.state.name == "FAIL", stopped.state
    assert stopped.user_attrs["fail_reason"] == "interrupted (Ctrl-C)"
    assert main(argv) == 0   # the same command: only the missing trials run
    study = _study(out)
    assert _finished(study) == 2 and not any(t.state.name == "RUNNING"
                                            for t in study.get_trials())


def test_ctrl_c_while_a_trial_imports_an_extension_module_is_still_ctrl_c(
        tmp_path, capsys, monkeypatch):
    # the real process above can get its SIGINT while the trial's first `import scipy` runs:
    # Python then raises "ImportError: initialization failed" caused by the KeyboardInterrupt
    from numpynn.cli import run as runs
    train = runs.train

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as err:
            raise ImportError("initialization failed") from err

    out = tmp_path / "out"
    argv = ["tune", "--config", str(_search(tmp_path)), "--out", str(out), "--trials", "2",
            "--no-plots", "--study", "search"]
    monkeypatch.setattr(runs, "train", interrupted)
    assert main(argv) == 130
    assert capsys.readouterr().err.strip() == INTERRUPTED
    [stopped] = _study(out).get_trials()
    assert stopped.state.name == "FAIL"
    assert stopped.user_attrs["fail_reason"] == "interrupted (Ctrl-C)"
    monkeypatch.setattr(runs, "train", train)
    assert main(argv) == 0 and _finished(_study(out)) == 2


@contextlib.contextmanager
def _ctrl_c_when_the_journal_is_locked():
    """Inside: each time Optuna's journal takes its file lock, this process gets a SIGINT."""
    from optuna.storages.journal import _file

    patched = {lock: lock.acquire for lock in (_file.JournalFileSymlinkLock,
                                               _file.JournalFileOpenLock)}

    def acquire_then_ctrl_c(self):
        acquired = patched[type(self)](self)
        os.kill(os.getpid(), signal.SIGINT)
        return acquired

    try:
        for lock in patched:
            lock.acquire = acquire_then_ctrl_c
        yield
    finally:
        for lock, acquire in patched.items():
            lock.acquire = acquire


def test_ctrl_c_during_a_journal_write_lets_the_write_finish_and_leaves_no_lock(
        tmp_path, python_sigint_handler):
    # a Ctrl-C right after Optuna's journal took its file lock, before the code that releases
    # it: the lock stayed, and the worker's next write (failing its trial) waited 30 s for it
    import optuna

    from numpynn.cli import tune
    study = optuna.create_study(storage=tune.open_storage(None, tmp_path), study_name="s")
    with pytest.raises(KeyboardInterrupt), _ctrl_c_when_the_journal_is_locked():
        study.set_user_attr("written", True)
    assert list(tmp_path.iterdir()) == [tmp_path / tune.JOURNAL]   # no lock file left
    again = optuna.load_study(study_name="s", storage=tune.open_storage(None, tmp_path))
    assert again.user_attrs == {"written": True}


def test_an_ignored_ctrl_c_during_a_journal_write_stays_ignored(tmp_path):
    # `nohup numpynn tune ... &` starts with SIGINT ignored: the journal's deferral must not
    # turn that SIGINT into a KeyboardInterrupt
    import optuna

    from numpynn.cli import tune
    study = optuna.create_study(storage=tune.open_storage(None, tmp_path), study_name="s")
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _ctrl_c_when_the_journal_is_locked():
            study.set_user_attr("written", True)
    finally:
        signal.signal(signal.SIGINT, handler)
    assert study.user_attrs == {"written": True}


def _parent_of_two_workers(tmp_path):
    """``numpynn tune --workers 2`` started in a subprocess: (out, argv, parent, children)."""
    out = tmp_path / "out"
    argv = ["tune", "--config", str(_search(tmp_path, epochs=STOPPED_EPOCHS)), "--out",
            str(out), "--trials", "3", "--workers", "2", "--no-plots", "--study", "search"]
    parent = subprocess.Popen([sys.executable, "-c", CLI, *argv], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])

    def children():
        return {int(p) for p in Path(f"/proc/{parent.pid}/task/{parent.pid}/children")
                .read_text().split()} if parent.poll() is None else set()
    return out, argv, parent, children


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_ctrl_c_to_the_parent_of_local_workers_stops_them_all(tmp_path, sig):
    out, argv, parent, children = _parent_of_two_workers(tmp_path)
    workers = {t.user_attrs["pid"] for t in _wait_for_running(out, children, 2)}
    parent.send_signal(sig)   # the parent alone, as kill -INT PID or kill PID does
    _, stderr = parent.communicate(timeout=60)
    assert parent.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == INTERRUPTED and "Traceback" not in stderr, stderr
    assert len(workers) == 2 and all(_gone(pid) for pid in workers)   # no orphans
    trials = _study(out).get_trials()
    assert not any(t.state.name == "RUNNING" for t in trials), [t.state for t in trials]
    assert sum(t.user_attrs.get("fail_reason") == "interrupted (Ctrl-C)" for t in trials) == 2
    assert main(argv) == 0
    assert _finished(_study(out)) == 3


def test_workers_killed_under_a_workers_parent_leave_no_running_trial_and_say_so(tmp_path):
    out, argv, parent, children = _parent_of_two_workers(tmp_path)
    for trial in _wait_for_running(out, children, 2):
        os.kill(trial.user_attrs["pid"], signal.SIGKILL)
    _, stderr = parent.communicate(timeout=60)
    assert ("2 of 2 workers ended with exit codes [-9, -9]; 0 of 3 trials finished: run the "
            "same command again to continue") in stderr, stderr
    assert "RUNNING" not in (out / "trials.csv").read_text()
    assert sum("died" in t.user_attrs.get("fail_reason", "")
               for t in _study(out).get_trials()) == 2


# -- PostgreSQL -----------------------------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of our own on 127.0.0.1 (a fresh cluster, user tune with a
    password, database tune): yields its URL; always stopped at the end."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert bins, INSTALL_PG
    bin_dir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="numpynn-pg-"))   # pytest's tmp is root's alone
    data = root / "data"
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(root, "postgres")
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if as_pg:
        shutil.chown(pwfile, "postgres")
    port = _free_port()
    run = lambda *cmd: subprocess.run([*as_pg, *map(str, cmd)], check=True,   # noqa: E731
                                      capture_output=True, timeout=60)
    run(bin_dir / "initdb", "-D", data, "-U", "tune", "--auth=scram-sha-256", f"--pwfile={pwfile}")
    try:
        run(bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-o",
            f"-k {root} -h 127.0.0.1 -p {port}", "start")
        env = {**os.environ, "PGPASSWORD": PASSWORD}
        subprocess.run([bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "tune",
                        "tune"], check=True, env=env, capture_output=True, timeout=60)
        yield f"postgresql://tune:{PASSWORD}@127.0.0.1:{port}/tune"
    finally:
        subprocess.run([*as_pg, bin_dir / "pg_ctl", "-D", data, "stop", "-m", "immediate"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def _createdb(url, name):
    """A fresh database on the server: no Optuna schema yet, so the workers race to make it."""
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + f"/{name}"


def test_two_workers_on_a_fresh_postgres_study_finish_n_trials_and_hide_the_password(
        postgres, tmp_path):
    url = _createdb(postgres, "fresh")
    path = _search(tmp_path, epochs=2)
    procs = [subprocess.Popen([sys.executable, "-c", CLI, "tune", "--config", str(path),
                               "--storage", url, "--out", str(tmp_path / f"m{i}"), "--trials",
                               "6", "--study", "shared"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              cwd=Path(__file__).parents[1]) for i in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]   # started at the same moment
    assert [p.returncode for p in procs] == [0, 0], outputs
    study = _study(tmp_path / "m0", url, "shared")
    trials = study.get_trials()
    assert _finished(study) == 6, [t.state for t in trials]
    # no trial lost: each is finished, or one the racing workers started beyond N (surplus)
    assert all(t.state.is_finished() and t.state.name in ("COMPLETE", "PRUNED")
               or t.user_attrs.get("surplus") for t in trials), [t.state for t in trials]
    assert all(" finished" in text and "***@" in text for text in outputs)
    written = "".join(outputs) + "".join(
        p.read_text(errors="replace") for m in ("m0", "m1")
        for p in (tmp_path / m).rglob("*") if p.is_file())
    assert PASSWORD not in written


def test_a_wrong_password_is_one_line_without_it(postgres, tmp_path):
    url = postgres.replace(PASSWORD, "wrong-Pa55")
    code, text = _cli("tune", "--config", _search(tmp_path), "--storage", url, "--out",
                      tmp_path / "out")
    assert code == 2 and "wrong-Pa55" not in text and "***@" in text, text
    assert "Traceback" not in text


# Each racer imports everything first, says it is ready, then waits for the test's "go" file
# and creates the storage and the study at once: the two reach Optuna's CREATE TABLE within
# a millisecond or so of each other, on a database that has no schema yet.
RACER = """\
import sys, time
from pathlib import Path
import optuna, psycopg, sqlalchemy
from numpynn.cli import tune
from numpynn.cli.search import SearchSpec
url, out, config, ready, go = sys.argv[1:]
spec = SearchSpec.from_toml(config)
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.0005)
study = tune.load_study(tune.open_storage(url, out), "race", spec, 0)
print(study.study_name, len(study.get_trials()))
"""


@pytest.mark.parametrize("round_", range(4))
def test_two_workers_creating_the_schema_at_the_same_moment_both_succeed(
        postgres, tmp_path, round_):
    url = _createdb(postgres, f"race{round_}")
    path, go = _search(tmp_path), tmp_path / "go"
    ready = [tmp_path / f"ready{i}" for i in range(2)]
    racers = [subprocess.Popen([sys.executable, "-c", RACER, url, tmp_path / f"m{i}", path,
                                ready[i], go], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=Path(__file__).parents[1]) for i in range(2)]
    deadline = time.monotonic() + 60
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outputs = [r.communicate(timeout=60) for r in racers]
    assert [r.returncode for r in racers] == [0, 0], outputs
    assert [o for o, _ in outputs] == ["race 0\n"] * 2


# A worker of another machine, as far as the others can tell (its trials name another host,
# so no process check applies: only Optuna's heartbeat shows it died), with the heartbeat every
# second and a 4 s grace period instead of 10 s and 60 s, so that the test is quick.
HEARTBEAT_WORKER = """\
import sys
from numpynn.cli import main, tune_faults
tune_faults.HEARTBEAT_S, tune_faults.GRACE_S = 1, 4
if sys.argv[1] == "elsewhere":
    tune_faults.HOST = "another-machine"
sys.exit(main(sys.argv[2:]))
"""


def test_a_worker_killed_on_postgres_is_failed_by_the_heartbeat_and_the_study_finishes(
        postgres, tmp_path):
    url = _createdb(postgres, "heartbeat")
    path = _search(tmp_path, epochs=60)

    def worker(where, i):
        argv = ["tune", "--config", path, "--storage", url, "--out", tmp_path / f"m{i}",
                "--trials", "4", "--study", "hb", "--no-plots"]
        return subprocess.Popen([sys.executable, "-c", HEARTBEAT_WORKER, where, *argv],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                cwd=Path(__file__).parents[1])
    victim, other = worker("elsewhere", 0), worker("here", 1)
    [trial] = _wait_for_running(tmp_path / "m0", lambda: {victim.pid}, 1, url, "hb")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    output = other.communicate(timeout=180)[0]
    assert other.returncode == 0, output
    study = _study(tmp_path / "m1", url, "hb")
    [killed] = [t for t in study.get_trials() if t.number == trial.number]
    assert killed.state.name == "FAIL", killed.state
    assert killed.user_attrs["fail_reason"] == "no heartbeat for 4 s: its worker died"
    assert _finished(study) == 4 and not any(t.state.name == "RUNNING"
                                            for t in study.get_trials())
    assert f"trial {trial.number:4d}" not in output   # the killed trial is not the other's
