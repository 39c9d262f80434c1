"""One log for the app and the command line: a rotating file in the user's log folder, and stderr.

:func:`setup_logging` runs once at start, in ``cli.main`` (which also starts the app). The file is
``timbre-explorer.log`` in :func:`timbre_explorer.paths.log_dir`: platformdirs' user log folder
(``~/.local/state/timbre-explorer/log`` on Linux), or ``TIMBRE_EXPLORER_LOG_DIR`` where set (the
tests and the smoke test set it). It rotates at 1 MB and keeps three old files, so a long session
never fills a disk. The file gets INFO and up (which model opened, the audio set-up); the terminal
only warnings and errors, so a command's own output and its one-line errors stay readable. Uncaught
exceptions, on the main thread or any other, are logged with their traceback; the app adds its
dialog on top of that (``gui/crash.py``). Imports no Qt.
"""

from __future__ import annotations

import logging
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

from timbre_explorer.paths import log_dir

LOG_NAME = "timbre-explorer.log"
MAX_BYTES = 1 << 20
BACKUPS = 3
FILE_FORMAT = "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"
CONSOLE_FORMAT = "%(levelname)s %(name)s: %(message)s"

log = logging.getLogger("timbre_explorer")
_handlers: list[logging.Handler] = []
_file: Path | None = None


class _Stderr(logging.StreamHandler):
    """stderr as it is when a record is written, not when the handler was made (tests swap it)."""

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


class _File(RotatingFileHandler):
    """The log file; a record it cannot write (a full disk) is dropped: logging's own report of it is a
    traceback on stderr, under the command's one-sentence error."""

    def handleError(self, record):
        pass


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to the rotating file (``level`` and up) and to stderr (warnings and up), and log uncaught
    exceptions; returns the file.

    Returns None when the log folder cannot be written (read-only home): then stderr only, said once.
    Calling it again replaces what the previous call set up (the folder may have changed).
    """
    global _file
    root = logging.getLogger()
    for h in _handlers:
        root.removeHandler(h)
        h.close()
    _handlers.clear()
    console = _Stderr()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter(CONSOLE_FORMAT))
    _handlers.append(console)
    path = log_dir() / LOG_NAME
    problem: OSError | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file = _File(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError as exc:
        problem = exc
    else:
        file.setFormatter(logging.Formatter(FILE_FORMAT))
        _handlers.append(file)
    for h in _handlers:
        root.addHandler(h)
    root.setLevel(level)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    _file = path if problem is None else None
    if problem is not None:
        log.warning("cannot write the log file (%s): logging to stderr only", problem)
    return _file


def log_file() -> Path | None:
    """The file :func:`setup_logging` writes to (None before it ran, or if it could not)."""
    return _file


def _log_uncaught(exc_type, exc, tb) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    log.critical("uncaught exception", exc_info=(exc_type, exc, tb))


def _log_uncaught_in_thread(args) -> None:
    if issubclass(args.exc_type, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "?"
    log.critical("uncaught exception in thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
