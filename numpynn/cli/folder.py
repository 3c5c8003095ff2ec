"""Who may write a run folder, and what a resume must find unchanged in it.

- One process at a time: :func:`writing` takes the folder's lock (``DIR/.lock``, an ``flock``
  the kernel drops when its holder dies, ``kill -9`` included; see
  :func:`numpynn._helpers.io.exclusive_lock`) before anything is written, refuses a folder
  another live process holds with :class:`RunFolderInUse`, and then removes the temporaries
  a killed atomic write left.
- Ctrl-C while the folder is written becomes :class:`RunInterrupted`, which names the folder
  so that the command line can say how to continue it.
- A resume's settings are those its checkpoint recorded (:func:`run_settings`, kept in the
  trainer's ``run_info``); :func:`check_settings` refuses a ``config.toml`` edited since, so a
  run is never shown with one setting and trained with another. Only :data:`RESUMABLE` may
  change.
"""
import contextlib
import dataclasses

from numpynn._helpers.interrupts import caused_by_ctrl_c
from numpynn._helpers.io import LockHeld, exclusive_lock, remove_stale_parts
from numpynn.cli.config import FIELD_NAMES, format_value

LOCK = ".lock"
RESUMABLE = ("epochs",)   # the settings a resume may change: the new total of epochs


class RunFolderInUse(OSError):
    """Another live process is writing the run folder (it holds the folder's lock)."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C while a run folder was being written; ``run_dir`` continues with --resume."""

    def __init__(self, run_dir):
        super().__init__(str(run_dir))
        self.run_dir = run_dir


@contextlib.contextmanager
def writing(run_dir, flag, subfolders=(), marker=None):
    """Hold ``run_dir``'s lock for the block (``flag`` names it in the refusal), after
    removing the temporaries killed writes left in it and its ``subfolders``: only the lock
    holder may, since a live writer's temporary looks the same. Ctrl-C inside the block is
    :class:`RunInterrupted` once the file ``marker`` exists (the folder can be resumed)."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(exclusive_lock(run_dir / LOCK))
        except LockHeld as err:
            holder = f"process {err.pid}" if err.pid else "another process"
            raise RunFolderInUse(f"{flag} {run_dir}: {holder} is writing this run folder\n"
                                 "help: wait for it to finish, or choose another folder") \
                from None
        for folder in (run_dir, *(run_dir / sub for sub in subfolders)):
            remove_stale_parts(folder)
        try:
            yield
        except (KeyboardInterrupt, Exception) as err:
            if caused_by_ctrl_c(err) and marker is not None and (run_dir / marker).exists():
                raise RunInterrupted(run_dir) from None
            raise


def run_settings(cfg):
    """The settings of ``cfg`` a resume must find unchanged, as plain JSON data."""
    return {name: list(value) if isinstance(value, tuple) else value
            for name, value in dataclasses.asdict(cfg).items() if name not in RESUMABLE}


def check_settings(run_dir, config_path, cfg, recorded):
    """Refuse ``cfg`` (read from ``config_path``) unless its settings are the ``recorded``
    ones; the error lists every setting that differs, with both values."""
    now = run_settings(cfg)
    if not recorded:
        raise ValueError(f"--resume {run_dir}: its checkpoint records no settings to check "
                         f"{config_path.name} against\nhelp: train it afresh with numpynn "
                         f"train --config {config_path} --out NEW_DIR")
    differ = [name for name in FIELD_NAMES if name in now and now[name] != recorded.get(name)]
    if differ:
        changes = ", ".join(f"{name} = {_shown(now[name])} (checkpoint: "
                            f"{_shown(recorded.get(name))})" for name in differ)
        raise ValueError(f"--resume {run_dir}: {config_path.name} was edited since the "
                         f"checkpoint: {changes}\nhelp: put back the checkpoint's value in "
                         f"{config_path} to resume, or train the edited settings afresh with "
                         f"numpynn train --config {config_path} --out NEW_DIR; only --epochs "
                         "changes on a resume")


def _shown(value):
    return format_value(tuple(value) if isinstance(value, list) else value)


def say(log, text):
    """One line to ``log``; a reader that went away (a closed pipe) never stops a run."""
    if log is not None:
        with contextlib.suppress(OSError, ValueError):
            print(text, file=log)
