"""Atomic file writes (a reader sees the old file or the whole new one, never half of one),
the clean-up of what a killed write leaves, and an exclusive lock on a folder's lock file."""
import contextlib
import os
import re
import tempfile
from pathlib import Path

try:
    import fcntl
except ModuleNotFoundError:  # Windows
    fcntl = None
    import msvcrt

# the temporary beside ``name`` is ".<name>.<8 characters of mkstemp>.part"
PART_PREFIX, PART_SUFFIX = ".", ".part"
_PART = re.compile(r"^\..+\.[a-z0-9_]{8}\.part$")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    Write the file to the yielded path. If the block raises, the temporary file is removed and
    ``path`` is left untouched.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> with atomic_path(path) as tmp:
    ...     _ = tmp.write_text("whole or nothing")
    >>> open(path).read()
    'whole or nothing'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{PART_PREFIX}{path.name}.", suffix=PART_SUFFIX,
                               dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _final_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _final_mode(path):
    """The replaced file's permissions, or 0o666 less the umask (mkstemp's files are 0o600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path, text):
    """Write ``text`` (str, UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_parts(directory):
    """Delete the temporaries :func:`atomic_path` left in ``directory`` (not below it) when its
    process was killed mid-write; returns their names. Only files named as it names them
    (``.<name>.<8 characters>.part``) are touched, so call it while holding the folder's lock:
    a live writer's temporary looks the same."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    for entry in sorted(directory.iterdir()):
        if _PART.match(entry.name) and (entry.is_symlink() or entry.is_file()):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry.name)
    return removed


class LockHeld(OSError):
    """Another live process holds the lock; ``pid`` is the holder's (None if unknown)."""

    def __init__(self, path, pid):
        holder = f"process {pid}" if pid else "another process"
        super().__init__(f"{path} is locked by {holder}")
        self.path, self.pid = path, pid


@contextlib.contextmanager
def exclusive_lock(path):
    """Hold an exclusive lock on the file ``path`` (created if missing) for the block.

    ``flock`` (``msvcrt.locking`` on Windows) on an open file, not an ``O_EXCL`` lock file: the
    kernel drops the lock when its holder exits in any way, ``kill -9`` included, so a dead
    holder's lock is free at once, with no pid to test for liveness and no stale file to take
    over (a race of its own). The holder's pid is written into the file for the message of
    :class:`LockHeld`; the file stays after the block, since deleting a lock file lets two
    processes lock two different files of the same name.

    Raises
    ------
    LockHeld
        Another process (or another open of the file in this one) holds the lock.
    """
    path = Path(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            _lock(fd)
        except OSError:
            raise LockHeld(path, _holder(fd)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)   # releases the lock


def _lock(fd):
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    else:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)


def _holder(fd):
    """The pid a lock file names, or None (also where the lock forbids reading, on Windows)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
