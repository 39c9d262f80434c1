"""Background work for the GUI: every call that may take over ~20 ms runs here, never on the GUI thread.

Each worker owns one thread. :meth:`~Worker.submit` hands it a job with the
callbacks that take its answers: ``on_done(result)``, ``on_partial(value)``
(a coarse field before the fine one), ``on_progress(Progress)`` and
``on_failed(Failed)``. They run on the GUI thread (the answer crosses as a
queued Qt signal), so a view never needs to know which job an answer
belongs to.

Two policies share that code:

* :class:`LatestWorker` runs the newest job only: a job submitted while
  another waits replaces it, the running one is told to stop through the
  ``cancelled`` callable it gets, and an answer of a job that a newer one
  (or :meth:`~Worker.cancel`) has superseded is dropped, even one already on
  its way. The user has moved on: only the newest click, drag position or
  field request matters.
* :class:`QueueWorker` runs every job, first in first out: each file the
  user asked to encode or write gets its answer, whatever was asked after.

:class:`RunWorker` runs the Trainer's tasks in a worker process (see its docstring).

Errors from the core's own hierarchy (:class:`TimbreExplorerError`) travel as
their message; anything else is a bug: it also goes to the log with its
traceback and to the app's one error dialog (``gui/crash.py``). Failures
always reach ``on_failed``, so a view can reset its busy state.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.queues
import queue
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

from PySide6 import QtCore

from timbre_explorer.core.training.messages import LogRecord, Request, TaskEnded, TaskFailed, WorkerExited
from timbre_explorer.core.training.tasks import serve
from timbre_explorer.gui import crash

if TYPE_CHECKING:
    import multiprocessing.synchronize

log = logging.getLogger(__name__)
_ids = count(1)


@dataclass(frozen=True)
class Progress:
    """How far a job is (0 to 1), and what to say about it (may be empty)."""

    fraction: float
    text: str = ""


@dataclass(frozen=True)
class Failed:
    """A job that raised: its name and the message to show."""

    job: str
    message: str


@dataclass
class Job:
    """One unit of work: ``fn(job)`` runs on the worker thread; ``job.progress(f)`` and ``job.cancelled()`` serve it."""

    fn: Callable
    name: str
    id: int
    worker: Worker
    on_done: Callable | None = None
    on_partial: Callable | None = None
    on_progress: Callable[[Progress], None] | None = None
    on_failed: Callable[[Failed], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def cancelled(self) -> bool:
        return self.stop.is_set() or self.worker._superseded(self)

    def progress(self, fraction: float, text: str = "") -> None:
        self.worker._deliver(self, self.on_progress, Progress(float(fraction), text))

    def emit(self, value) -> None:
        """Hand an intermediate result to the GUI (a coarse field before the fine one)."""
        self.worker._deliver(self, self.on_partial, value)


class Worker(QtCore.QObject):
    """A thread that runs submitted jobs and delivers their answers on the GUI thread (see the module docstring).

    Subclasses choose which job runs next (:meth:`_take`) and which jobs are superseded (:meth:`_superseded`).
    """

    _answered = QtCore.Signal(object, object, object)  # job, callback, value: queued to the GUI thread

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self._cond = threading.Condition()
        self._running: Job | None = None
        self._stop = threading.Event()
        self._answered.connect(self._answer)
        self._thread = threading.Thread(target=self._loop, name=f"worker-{name}", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable, name: str = "", *, on_done: Callable | None = None,
               on_partial: Callable | None = None, on_progress: Callable[[Progress], None] | None = None,
               on_failed: Callable[[Failed], None] | None = None) -> Job:
        """Queue ``fn(job)``; its answers go to the callbacks, on the GUI thread. Returns the job."""
        job = Job(fn, name or self.name, next(_ids), self, on_done, on_partial, on_progress, on_failed)
        with self._cond:
            self._put(job)
            self._cond.notify()
        return job

    def cancel(self) -> None:
        """Drop the waiting jobs and ask the running one to stop; none of them answers any more."""
        with self._cond:
            self._clear()
            if self._running is not None:
                self._running.stop.set()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop after the current job (which is asked to cancel) and join the thread."""
        self._stop.set()
        self.cancel()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout)

    # ------------------------------------------------------------------ the policy
    def _put(self, job: Job) -> None:
        raise NotImplementedError

    def _take(self) -> Job | None:
        """The next job to run (called with the lock held), or None when none waits."""
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError

    def _superseded(self, job: Job) -> bool:
        return self._stop.is_set()

    # ------------------------------------------------------------------ the thread and the delivery
    def _loop(self) -> None:
        while True:
            with self._cond:
                job = self._take()
                while job is None and not self._stop.is_set():
                    self._cond.wait()
                    job = self._take()
                if job is None or self._stop.is_set():  # (no job: only when stopping)
                    return
                self._running = job
            try:
                result = job.fn(job)
            except Exception as exc:  # travels to the GUI as a message; never raised on this thread
                from timbre_explorer.core.errors import Cancelled, TimbreExplorerError

                if not isinstance(exc, Cancelled):
                    if not isinstance(exc, TimbreExplorerError):
                        crash.report(sys.exc_info(), f"the {job.name} job")
                    self._answered.emit(job, job.on_failed, Failed(job.name, str(exc) or type(exc).__name__))
            else:
                self._deliver(job, job.on_done, result)
            finally:
                with self._cond:
                    self._running = None

    def _deliver(self, job: Job, callback: Callable | None, value) -> None:
        if callback is not None and not job.cancelled():
            self._answered.emit(job, callback, value)

    @QtCore.Slot(object, object, object)
    def _answer(self, job: Job, callback: Callable | None, value) -> None:
        """On the GUI thread: hand the answer over unless the job was superseded meanwhile (failures always)."""
        if callback is not None and (isinstance(value, Failed) or not job.cancelled()):
            callback(value)


class LatestWorker(Worker):
    """Runs the newest submitted job; older ones are dropped, and so are their answers."""

    def __init__(self, name: str, parent=None):
        self._pending: Job | None = None
        self._newest = 0
        super().__init__(name, parent)

    def _put(self, job: Job) -> None:
        self._pending, self._newest = job, job.id

    def _take(self) -> Job | None:
        job, self._pending = self._pending, None
        return job

    def _clear(self) -> None:
        self._pending = None
        self._newest = next(_ids)  # no job submitted so far is the newest any more

    def _superseded(self, job: Job) -> bool:
        return super()._superseded(job) or job.id != self._newest


class QueueWorker(Worker):
    """Runs every submitted job in turn, first in first out; each one answers."""

    def __init__(self, name: str, parent=None):
        self._queue: deque[Job] = deque()
        super().__init__(name, parent)

    def _put(self, job: Job) -> None:
        self._queue.append(job)

    def _take(self) -> Job | None:
        return self._queue.popleft() if self._queue else None

    def _clear(self) -> None:
        for job in self._queue:
            job.stop.set()
        self._queue.clear()

@dataclass(frozen=True)
class _Started:
    """A started trainer worker and what it talks through, all made anew with each worker (a killed process may
    leave its queues broken)."""

    worker: BaseProcess | threading.Thread
    reader: threading.Thread  # the worker's messages -> RunWorker.message
    requests: queue.Queue | multiprocessing.queues.Queue  # a Request, or None to end the worker
    cancel: threading.Event | multiprocessing.synchronize.Event
    go: threading.Event | multiprocessing.synchronize.Event  # cleared: paused


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

    def __init__(self, parent: QtCore.QObject | None = None, *, process: bool = True) -> None:
        super().__init__(parent)
        self.process = process
        self.request: Request | None = None  # the request whose task runs, or None
        self.tasks_started = 0
        self._started: _Started | None = None  # the last worker started (it may have ended since)

    @property
    def busy(self) -> bool:
        return self.request is not None

    @property
    def alive(self) -> bool:
        return self._started is not None and self._started.worker.is_alive()

    def ensure_started(self) -> _Started:
        """Start the worker (it warms up at once) unless it runs."""
        if self._started is not None and self._started.worker.is_alive():
            return self._started
        requests: queue.Queue | multiprocessing.queues.Queue
        events: queue.Queue | multiprocessing.queues.Queue
        cancel: threading.Event | multiprocessing.synchronize.Event
        go: threading.Event | multiprocessing.synchronize.Event
        worker: BaseProcess | threading.Thread
        if self.process:
            ctx = multiprocessing.get_context("spawn")
            requests, events, cancel, go = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
            worker = ctx.Process(target=serve, args=(requests, events, cancel, go), name="timbre-explorer-trainer")
        else:
            requests, events = queue.Queue(), queue.Queue()
            cancel, go = threading.Event(), threading.Event()
            worker = threading.Thread(target=serve, args=(requests, events, cancel, go), name="trainer", daemon=True)
        go.set()
        worker.start()
        reader = threading.Thread(target=self._read, args=(worker, events), name="trainer-messages", daemon=True)
        reader.start()
        self._started = _Started(worker, reader, requests, cancel, go)
        return self._started

    def start(self, request: Request) -> None:
        """Run the request's task in the worker (started if it is not)."""
        started = self.ensure_started()
        started.cancel.clear()
        started.go.set()
        self.request = request
        self.tasks_started += 1
        started.requests.put(request)

    def _read(self, worker: BaseProcess | threading.Thread, events: queue.Queue | multiprocessing.queues.Queue
              ) -> None:
        while True:
            try:
                message = events.get(timeout=0.25)
            except queue.Empty:
                if worker.is_alive():
                    continue
                if self.request is not None:  # it died under a task: a crash, or killed
                    code = getattr(worker, "exitcode", None)
                    request, self.request = self.request, None
                    self.message.emit(TaskFailed(request, "The training process stopped unexpectedly "
                                                          f"(exit code {code})"))
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
                self.request = None
            self.message.emit(message)

    def pause(self, on: bool) -> None:
        if self._started is not None:
            go = self._started.go
            (go.clear if on else go.set)()

    def cancel(self) -> None:
        if self._started is not None:
            self._started.cancel.set()
            self._started.go.set()

    def kill(self) -> None:
        """End the worker process at once (what a crash does; for tests)."""
        if self._started is not None and isinstance(self._started.worker, BaseProcess) and self.alive:
            self._started.worker.kill()

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel the task, end the worker and wait for it (the core stops between batches; checkpoints stay)."""
        started = self._started
        if started is None:
            return
        self.cancel()
        worker = started.worker
        if worker.is_alive():
            started.requests.put(None)
            busy = self.busy  # a task finishes its batch and returns; an idle worker may still be warming up
            worker.join(timeout if busy or not self.process else 1.0)
            if isinstance(worker, BaseProcess) and worker.is_alive():
                if busy:
                    log.warning("the trainer process did not stop in %.0f s: terminating it", timeout)
                worker.terminate()  # nothing of a run is lost: checkpoints are written whole or not at all
                worker.join(5.0)
        if isinstance(started.requests, multiprocessing.queues.Queue):  # its feeder thread ends with it
            started.requests.close()
            started.requests.join_thread()
        started.reader.join(2.0)
        self.request = None
