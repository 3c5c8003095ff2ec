"""Recognising Ctrl-C when it arrives dressed as another error.

Python raises :class:`KeyboardInterrupt` wherever the main thread happens to be. Most of the
time that is Python code and the exception arrives as itself. When it lands while a compiled
extension module initialises (the first ``import scipy`` inside a training run), the import
machinery reports ``ImportError: initialization failed`` instead, with the KeyboardInterrupt
as its cause. The commands treat both the same: one "interrupted" line and exit code 130.
"""


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
