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
import queue
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

from PySide6 import QtCore

from timbre_explorer.core.training.messages import LogRecord, Request, TaskEnded, TaskFailed, WorkerExited
from timbre_explorer.core.training.tasks import serve
from timbre_explorer.gui import crash

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
                if self._stop.is_set():
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
        self.request: Request | None = None  # the request whose task runs, or None
        self.tasks_started = 0
        self._worker = self._reader = None
        self._requests = self._events = self._cancel = self._go = None

    @property
    def busy(self) -> bool:
        return self.request is not None

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

    def start(self, request: Request) -> None:
        """Run the request's task in the worker (started if it is not)."""
        self.ensure_started()
        self._cancel.clear()
        self._go.set()
        self.request = request
        self.tasks_started += 1
        self._requests.put(request)

    def _read(self, worker, events) -> None:
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
        self.request = None
