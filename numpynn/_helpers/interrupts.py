"""Recognising Ctrl-C when it arrives dressed as another error.

Python raises :class:`KeyboardInterrupt` wherever the main thread happens to be. Most of the
time that is Python code and the exception arrives as itself. When it lands while a compiled
extension module initialises (the first ``import scipy`` inside a training run), the import
machinery reports ``ImportError: initialization failed`` instead, with the KeyboardInterrupt
as its cause. The commands treat both the same: one "interrupted" line and exit code 130.

A Ctrl-C can also land where it leaves a lock behind, or a zip archive half open:
:func:`ctrl_c_deferred` holds it until a short critical section has finished.
"""
import contextlib
import signal
import threading


def caused_by_ctrl_c(err):
    """True when ``err`` is a KeyboardInterrupt or was raised because of one (its
    ``__cause__`` / ``__context__`` chain holds one)."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, KeyboardInterrupt):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


@contextlib.contextmanager
def ctrl_c_deferred():
    """Context manager: a Ctrl-C (SIGINT) inside is delivered when the block ends, to the
    handler that was in place (Python's raises KeyboardInterrupt; an ignored SIGINT stays
    ignored), so the block's work is never cut in half. For short critical sections only,
    such as an append to a locked file or the write of a checkpoint; in the main thread
    (elsewhere the block runs as it is)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            signal.raise_signal(signal.SIGINT)
