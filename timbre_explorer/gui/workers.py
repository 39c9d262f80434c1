"""Background work for the GUI: every call that may take over ~20 ms runs here, never on the GUI thread.

:class:`LatestWorker` owns one thread. :meth:`~LatestWorker.submit` hands it a
job; a job submitted while another waits replaces it (the user has moved on:
only the newest click, drag position or field request matters), and the job
that is running is told to stop through the ``cancelled`` callable it gets.
Results come back to the GUI thread as Qt signals (queued across threads),
tagged with the job's id so a view can drop answers it no longer wants.

:class:`RunWorker` runs the Trainer's tasks in a worker process (see its docstring).

Errors from the core's own hierarchy (:class:`TimbreExplorerError`) travel as
their message; anything else is a bug: it also goes to the log with its
traceback and to the app's one error dialog (``gui/crash.py``).
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

from PySide6 import QtCore

from timbre_explorer.core.training.messages import Failed, LogRecord, RunRequest, TaskEnded, WorkerExited
from timbre_explorer.core.training.tasks import serve
from timbre_explorer.gui import crash

log = logging.getLogger(__name__)
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


class RunWorker(QtCore.QObject):
    """Runs the Trainer's long tasks (dataset build, training, evaluation) one at a time, away from the GUI.

    By default in a child process (spawned once, warmed up, reused): training there runs at the CLI's
    speed (in a thread of the app it is slowed by the interpreter lock, and by the OpenMP teams of the
    app's other torch threads on a 2-core machine: measured 2.7x), the GUI never waits for the lock,
    and a crash of the run cannot take the app down. ``process=False`` runs the same loop in a thread
    (tests that patch the core use it). A thread here reads the worker's messages (the dataclasses of
    ``core.training.messages``) and emits them as ``message``, which Qt queues to the GUI thread.
    """

    message = QtCore.Signal(object)  # a core.training.messages dataclass; the worker's log records are not sent

    def __init__(self, parent=None, *, process: bool = True):
        super().__init__(parent)
        self.process = process
        self.task: str | None = None  # the task running, or None
        self.tasks_started = 0
        self._worker = self._reader = None
        self._requests = self._events = self._cancel = self._go = None

    @property
    def busy(self) -> bool:
        return self.task is not None

    @property
    def alive(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def ensure_started(self) -> None:
        """Start the worker (it warms up at once) unless it runs."""
        if self.alive:
            return
        if self.process:
            ctx = multiprocessing.get_context("spawn")
            self._requests, self._events, self._cancel, self._go = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
            self._worker = ctx.Process(target=serve, args=(self._requests, self._events, self._cancel, self._go),
                                       name="timbre-explorer-trainer")
        else:
            self._requests, self._events = queue.Queue(), queue.Queue()
            self._cancel, self._go = threading.Event(), threading.Event()
            self._worker = threading.Thread(target=serve, args=(self._requests, self._events, self._cancel, self._go),
                                            name="trainer", daemon=True)
        self._go.set()
        self._worker.start()
        self._reader = threading.Thread(target=self._read, args=(self._worker, self._events), name="trainer-messages",
                                        daemon=True)
        self._reader.start()

    def start(self, task: str, **settings) -> None:
        self.ensure_started()
        self._cancel.clear()
        self._go.set()
        self.task = task
        self.tasks_started += 1
        self._requests.put(RunRequest(task, settings))

    def _read(self, worker, events) -> None:
        while True:
            try:
                message = events.get(timeout=0.25)
            except queue.Empty:
                if worker.is_alive():
                    continue
                if self.task is not None:  # it died under a task: a crash, or killed
                    code = getattr(worker, "exitcode", None)
                    task, self.task = self.task, None
                    self.message.emit(Failed(task, f"The training process stopped unexpectedly (exit code {code})"))
                return
            except (EOFError, OSError):
                return
            except Exception:  # a message that cannot be read: say so in the log, keep reading
                log.error("unreadable message from the trainer:\n%s", traceback.format_exc())
                continue
            if isinstance(message, LogRecord):  # the worker process's log, into the app's file
                logging.getLogger(message.record.name).handle(message.record)
                continue
            if isinstance(message, WorkerExited):
                return
            if isinstance(message, TaskEnded):
                self.task = None
            self.message.emit(message)

    def pause(self, on: bool) -> None:
        if self._go is not None:
            (self._go.clear if on else self._go.set)()

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self._go.set()

    def kill(self) -> None:
        """End the worker process at once (what a crash does; for tests)."""
        if self.process and self.alive:
            self._worker.kill()

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel the task, end the worker and wait for it (the core stops between batches; checkpoints stay)."""
        if self._worker is None:
            return
        self.cancel()
        if self.alive:
            self._requests.put(None)
            busy = self.busy  # a task finishes its batch and returns; an idle worker may still be warming up
            self._worker.join(timeout if busy or not self.process else 1.0)
            if self.process and self._worker.is_alive():
                if busy:
                    log.warning("the trainer process did not stop in %.0f s: terminating it", timeout)
                self._worker.terminate()  # nothing of a run is lost: checkpoints are written whole or not at all
                self._worker.join(5.0)
        if self.process:  # its feeder thread ends with it
            self._requests.close()
            self._requests.join_thread()
        self._reader.join(2.0)
        self.task = None
