"""Limits on what an input can make numpynn allocate: memory, bytes read, nesting depth.

Builders and readers ask here *before* they allocate, so an impossible size is a one-line
error naming the size, never a ``MemoryError`` traceback or a process killed by the kernel:

- :func:`check_memory` compares the bytes something needs with :func:`available_memory`;
- :func:`read_limited` reads at most ``limit + 1`` bytes, so ``/dev/zero`` stops at the limit;
- :func:`parse_nested` parses JSON or TOML with a nesting-depth limit (the parsers recurse, so a
  deeply nested document is a ``RecursionError`` otherwise).

>>> format_bytes(512 * 10**9)
'477 GiB'
"""
import os

TEXT_LIMIT = 4 * 2**20  # configs and network files are a few KiB; 4 MiB is generous
MAX_DEPTH = 32          # numpynn's own documents nest at most 6 deep (checkpoint metadata)
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def _prefix(where):
    return f"{where}: " if where else ""


def format_bytes(n):
    """``n`` bytes in binary units with three significant digits: ``'477 GiB'``, ``'1.1 TiB'``."""
    value, unit = float(n), 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    shown = f"{value:.3g}" if value < 1000 else f"{value:.0f}"
    return f"{shown} {_UNITS[unit]}"


# -------------------------------------------------------------------------------- memory
def available_memory():
    """Bytes this process can still allocate, or None where the platform does not say.

    The least of: free RAM (``/proc/meminfo``'s MemAvailable, else all physical memory from
    ``os.sysconf``), the room left under a cgroup v2 memory limit (containers), and the room
    left under an address-space rlimit (``ulimit -v``).
    """
    known = [room for room in (_free_ram(), _cgroup_room(), _rlimit_room()) if room is not None]
    return min(known) if known else None


def _free_ram():
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the kernel writes kB meaning KiB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None


def _cgroup_room():
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            used = int(f.read())
        return None if limit == "max" else max(int(limit) - used, 0)
    except (OSError, ValueError):
        return None


def _rlimit_room():
    try:
        import resource  # Unix only
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/statm", encoding="ascii") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")  # pages -> bytes
        return max(limit - mapped, 0)
    except (ImportError, OSError, ValueError, IndexError, AttributeError):
        return None


def check_memory(nbytes, what, where="", hint="", error=ValueError):
    """Raise ``error`` when ``nbytes`` exceed :func:`available_memory`; the message names both.

    Parameters
    ----------
    nbytes : int
        What the allocation needs, counted before allocating anything.
    what : str
        The subject of the message: ``"the model"``, ``"the arrays"``.
    hint : str
        Appended to the message, e.g. ``"\\nhelp: use narrower hidden layers"``.
    error : type
        The exception raised (``ModelFileError``, ``DataError`` for files).
    """
    room = available_memory()
    if room is not None and nbytes > room:
        raise error(f"{_prefix(where)}{what} needs {format_bytes(nbytes)}; about "
                    f"{format_bytes(room)} of memory is available{hint}")


# -------------------------------------------------------------------------- reading files
def read_limited(path, limit=TEXT_LIMIT, error=ValueError):
    """The bytes of ``path``, reading at most ``limit + 1`` (a larger file is an error).

    Works on anything ``open`` reads (a pipe such as ``--config <(...)`` included) and stops
    at the limit on endless ones (``/dev/zero``).
    """
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise error(f"{path}: larger than {format_bytes(limit)}, the most numpynn reads from "
                    "such a file\nhelp: check that this is the file you meant")
    return data


def read_text_limited(path, limit=TEXT_LIMIT, error=ValueError):
    """:func:`read_limited`, decoded as UTF-8; bytes that are not UTF-8 are ``error``."""
    try:
        return read_limited(path, limit, error).decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(f"{path}: not UTF-8 text ({err})") from None


def parse_nested(loads, text, source, kind, limit=MAX_DEPTH, error=ValueError):
    """``loads(text)`` (``json.loads``, ``tomllib.loads``) refusing documents nested too deeply.

    Parameters
    ----------
    loads : callable
        The parser; its ValueError (``JSONDecodeError``, ``TOMLDecodeError``) becomes ``error``.
    source : str
        Names the document in messages (a path, ``"--json"``).
    kind : str
        ``"JSON"`` or ``"TOML"``, for messages.
    """
    try:
        value = loads(text)
        depth = nesting_depth(value, limit)
    except RecursionError:  # the parsers recurse once per level: caught, it unwinds cleanly
        depth = None
    except ValueError as err:
        raise error(f"{source}: not valid {kind}: {err}") from None
    if depth is None or depth > limit:
        raise error(f"{source}: {kind} nested more than {limit} levels deep; numpynn's files "
                    "are flat tables and short lists\nhelp: check that this is the file you "
                    "meant")
    return value


def nesting_depth(value, limit=MAX_DEPTH):
    """Levels of dicts and lists in ``value`` (a scalar: 0, ``[[1]]``: 2), counted without
    recursion and stopping once past ``limit``."""
    depth, level = 0, [value]
    while depth <= limit:
        containers = [v for v in level if isinstance(v, (dict, list))]
        if not containers:
            return depth
        depth += 1
        level = [child for c in containers for child in (c.values() if isinstance(c, dict) else c)]
    return depth
