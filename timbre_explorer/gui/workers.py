"""Background work for the GUI: every call that may take over ~20 ms runs here, never on the GUI thread.

:class:`LatestWorker` owns one thread. :meth:`~LatestWorker.submit` hands it a
job; a job submitted while another waits replaces it (the user has moved on:
only the newest click, drag position or field request matters), and the job
that is running is told to stop through the ``cancelled`` callable it gets.
Results come back to the GUI thread as Qt signals (queued across threads),
tagged with the job's id so a view can drop answers it no longer wants.

Errors from the core's own hierarchy (:class:`TimbreExplorerError`) travel as
their message; anything else is a bug: it also goes to the log with its
traceback and to the app's one error dialog (``gui/crash.py``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

from PySide6 import QtCore

from timbre_explorer.gui import crash

_ids = count(1)


@dataclass
class Job:
    """One unit of work: ``fn(job)`` runs on the worker thread; ``job.progress(f)`` and ``job.cancelled()`` serve it."""

    fn: Callable
    kind: str
    id: int
    worker: LatestWorker

    def cancelled(self) -> bool:
        return self.worker._stop.is_set() or self.worker._pending is not None or self.worker._cancel_id == self.id

    def progress(self, fraction: float, text: str = "") -> None:
        self.worker.progressed.emit(self.kind, float(fraction), text)

    def emit(self, value) -> None:
        """Hand an intermediate result to the GUI (a coarse field before the fine one)."""
        self.worker.partial.emit(self.kind, self.id, value)


class LatestWorker(QtCore.QObject):
    """A thread that runs the newest submitted job (see the module docstring)."""

    finished = QtCore.Signal(str, int, object)  # kind, job id, result
    partial = QtCore.Signal(str, int, object)
    failed = QtCore.Signal(str, int, str)  # kind, job id, message
    progressed = QtCore.Signal(str, float, str)

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self._cond = threading.Condition()
        self._pending: Job | None = None
        self._running: Job | None = None
        self._cancel_id = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"worker-{name}", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable, kind: str = "") -> int:
        """Queue ``fn(job)`` to run, replacing any job not yet started; returns the job id."""
        job = Job(fn, kind or self.name, next(_ids), self)
        with self._cond:
            self._pending = job
            self._cond.notify()
        return job.id

    def cancel(self) -> None:
        """Drop the waiting job and ask the running one to stop."""
        with self._cond:
            self._pending = None
            if self._running is not None:
                self._cancel_id = self._running.id

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop after the current job (which is asked to cancel) and join the thread."""
        self._stop.set()
        with self._cond:
            self._pending = None
            self._cond.notify_all()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._stop.is_set())
                if self._stop.is_set():
                    return
                job, self._pending, self._running = self._pending, None, self._pending
            try:
                result = job.fn(job)
            except Exception as exc:  # travels to the GUI as a message; never raised on this thread
                from timbre_explorer.core.errors import Cancelled, TimbreExplorerError

                if not isinstance(exc, Cancelled):
                    if not isinstance(exc, TimbreExplorerError):
                        crash.report(sys.exc_info(), f"the {job.kind} job")
                    self.failed.emit(job.kind, job.id, str(exc) or type(exc).__name__)
            else:
                if not job.cancelled():
                    self.finished.emit(job.kind, job.id, result)
            finally:
                with self._cond:
                    self._running = None
