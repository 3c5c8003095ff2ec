"""The one error type of the command line (a module of its own: every subcommand raises it)."""


class UsageError(Exception):
    """A bad command-line value: reported in one line with exit code 2, no traceback.

    ValueError, TypeError, OSError and a missing optional package (MissingExtraError) are
    reported the same way (set NUMPYNN_DEBUG=1 for the traceback), since numpynn raises them
    with messages meant for the user.
    """
