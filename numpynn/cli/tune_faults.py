"""How ``numpynn tune`` ends the trials of workers that died, so that a study never waits
for them: a trial left RUNNING by a worker killed with ``kill -9`` (or whose machine went
away) is failed, with its ``fail_reason``, by any other worker, and replaced.

- On the worker's own machine, at once: each trial records its host and pid, and a pid that
  is gone (or a zombie) is a dead worker. This is all the journal file has.
- On PostgreSQL, from any machine: Optuna's heartbeat. Each running trial's worker writes a
  heartbeat every :data:`HEARTBEAT_S` seconds; one older than :data:`GRACE_S` is a dead worker.
  Optuna itself checks only when a worker starts a trial, so :func:`fail_dead_trials` checks
  too, every time a worker looks at the study (also while it waits for the last trials).
"""
import os
import socket
from pathlib import Path

HEARTBEAT_S, GRACE_S = 10, 60   # PostgreSQL: a trial silent for GRACE_S is failed by the others
HOST = socket.gethostname()
FAIL_REASON = "fail_reason"   # the user attr that says why a trial failed


def fail_dead_trials(study):
    """Fail the running trials whose worker died (``kill -9``, a machine gone): on this
    machine, those whose process is gone; on PostgreSQL, from any machine, those whose
    heartbeat stopped :data:`GRACE_S` seconds ago. Each gets its ``fail_reason``."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = t.user_attrs.get("pid")
        if t.user_attrs.get("host") == HOST and pid is not None and not _alive(pid):
            _fail(study, t._trial_id, f"its worker (pid {pid}) died")
    for trial_id in _silent_trial_ids(study):
        _fail(study, trial_id, f"no heartbeat for {GRACE_S} s: its worker died")


def _silent_trial_ids(study):
    """The running trials whose heartbeat is older than the grace period (RDB storage only;
    the journal file has no heartbeat: there a worker's host and pid tell)."""
    storage = study._storage
    if getattr(storage, "get_heartbeat_interval", lambda: None)() is None:
        return []
    return storage._get_stale_trial_ids(study._study_id)   # as fail_stale_trials does


def _fail(study, trial_id, reason):
    """End one trial as failed, with its reason; another worker may have done so first."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = study._storage   # Optuna's storage API: any process may end a trial
    try:
        storage.set_trial_user_attr(trial_id, FAIL_REASON, reason)
        storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
    except UpdateFinishedTrialError:
        pass


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid):
    """A child killed with -9 stays a zombie until its parent waits: it is dead all the same."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return False
