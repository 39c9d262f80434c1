"""The one error hierarchy of Timbre Explorer.

Core code raises these at its boundaries; the GUI and the CLI catch only
:class:`TimbreExplorerError` and show its message to the user.
"""

from __future__ import annotations


class TimbreExplorerError(Exception):
    """Base class of every error meant to be shown to a user."""


class ParameterError(TimbreExplorerError, ValueError):
    """An argument or setting is out of its valid range."""


class AudioFileError(TimbreExplorerError):
    """An audio file cannot be read or written."""


class ModelFileError(TimbreExplorerError):
    """A model file is missing, corrupt, foreign or does not match."""


class Cancelled(TimbreExplorerError):
    """The user cancelled a long operation; nothing half-done was kept."""


def describe_os_error(exc: OSError) -> str:
    """One sentence for the user: the file and the reason, without the exception's repr."""
    where = exc.filename if exc.filename is not None else "a file"
    return f"{where}: {exc.strerror or exc}"
