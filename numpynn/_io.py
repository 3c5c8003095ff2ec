"""Atomic file writes: a reader sees the old file or the whole new one, never half of one."""
import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    Write the file to the yielded path. If the block raises, the temporary file is removed and
    ``path`` is left untouched.

    >>> with atomic_path("weights.npz") as tmp:        # doctest: +SKIP
    ...     np.savez(tmp, W=W)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path, text):
    """Write ``text`` (str, UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
