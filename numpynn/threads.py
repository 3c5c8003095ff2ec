"""How many threads the BLAS (NumPy's matrix products) and, if loaded, PyTorch may use.

Two ways to choose, both honoured by ``numpynn bench`` for every framework it runs:

1. **At run time**, through threadpoolctl (``pip install threadpoolctl``; part of
   ``numpynn[all]``)::

       from numpynn.threads import set_threads, threads
       set_threads(1)              # from now on: one BLAS thread (and torch's, if imported)
       with threads(2):            # two threads inside the block, the previous count after it
           trainer.fit(X, y)

2. **Before Python starts**, through the environment; this is the only way that also fixes
   the threads that OpenBLAS creates when NumPy is first imported::

       OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 python train.py

   :func:`thread_env` returns those variables for a child process.

PyTorch keeps its own intra-op pool: :func:`set_threads` also calls ``torch.set_num_threads``
when torch has already been imported, and never imports it.

When neither is done, ``Trainer.fit`` chooses: one BLAS thread for small steps (sample by
sample, where threads cost more than they give), all of them otherwise, and the previous
count after the fit. A count chosen in either way above always wins (:func:`chosen`).
"""
import contextlib
import os
import sys

from numpynn._helpers.validation import check_int

# the variables OpenBLAS, OpenMP (torch's pool) and MKL read when they start
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


_chosen = {"set": None, "blocks": []}   # set_threads's count; the open threads() blocks'


def chosen():
    """The thread count the user chose: by :func:`set_threads`, inside :func:`threads`, or
    through the environment before Python started (:data:`THREAD_ENV_VARS`); else None."""
    if _chosen["blocks"] or _chosen["set"] is not None:
        return (_chosen["blocks"] or [_chosen["set"]])[-1]
    for name in THREAD_ENV_VARS:
        if os.environ.get(name, "").strip().isdigit():
            return int(os.environ[name])
    return None


def available_cores():
    """The cores this process may run on (its CPU affinity), else ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _check_threads(n, where):
    try:
        return check_int(n, "n", minimum=1, where=where)
    except (TypeError, ValueError) as err:
        first = str(err).splitlines()[0]
        raise type(err)(f"{first}\nhelp: this machine has {available_cores()} core(s)") from None


def _threadpoolctl():
    """threadpoolctl, imported on first use; a missing package says how to install it."""
    try:
        import threadpoolctl
    except ImportError:
        raise ImportError("numpynn.threads needs threadpoolctl to change the BLAS thread count\n"
                          "help: pip install threadpoolctl  (or pip install 'numpynn[all]'), "
                          "or set OPENBLAS_NUM_THREADS before starting Python") from None
    return threadpoolctl


def blas_info():
    """The BLAS libraries loaded in this process, as threadpoolctl describes them.

    Returns
    -------
    list of dict
        One per library, with ``internal_api`` (``"openblas"``, ``"mkl"``, …), ``num_threads``,
        ``version`` and, for OpenBLAS, ``architecture`` (the kernel in use, e.g.
        ``"SkylakeX"``; ``OPENBLAS_CORETYPE`` forces an older one).
    """
    return [info for info in _threadpoolctl().threadpool_info() if info["user_api"] == "blas"]


def get_threads():
    """The BLAS thread count now in force (the largest, if several BLAS libraries are loaded).

    Returns None when no BLAS library is loaded yet (NumPy not imported).
    """
    counts = [info["num_threads"] for info in blas_info()]
    return max(counts) if counts else None


def set_threads(n):
    """Limit the BLAS, OpenMP and (if already imported) PyTorch thread pools to ``n`` threads.

    The limit stays until changed; use :func:`threads` for a limit that is undone.

    Parameters
    ----------
    n : int >= 1

    Examples
    --------
    >>> import numpy as np
    >>> before = get_threads()
    >>> set_threads(1); get_threads()
    1
    >>> set_threads(before)
    """
    n = _check_threads(n, "set_threads")
    _threadpoolctl().threadpool_limits(limits=n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    _chosen["set"] = n


@contextlib.contextmanager
def threads(n):
    """Context manager: ``n`` threads inside the block, the previous counts restored after it.

    >>> import numpy as np
    >>> before = get_threads()
    >>> with threads(1):
    ...     get_threads()
    1
    >>> get_threads() == before
    True
    """
    n = _check_threads(n, "threads")
    torch = sys.modules.get("torch")
    torch_before = torch.get_num_threads() if torch is not None else None
    with _threadpoolctl().threadpool_limits(limits=n):
        if torch is not None:
            torch.set_num_threads(n)
        _chosen["blocks"].append(n)
        try:
            yield n
        finally:
            _chosen["blocks"].pop()
            if torch is not None:
                torch.set_num_threads(torch_before)


def thread_env(n, environ=None):
    """A copy of ``environ`` (default ``os.environ``) with every thread variable set to ``n``.

    For a child process, whose BLAS then starts with ``n`` threads::

        subprocess.run([sys.executable, "train.py"], env=thread_env(2))
    """
    env = dict(os.environ if environ is None else environ)
    env.update(dict.fromkeys(THREAD_ENV_VARS, str(_check_threads(n, "thread_env"))))
    return env
