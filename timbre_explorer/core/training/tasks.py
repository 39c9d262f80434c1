"""The worker loop behind the Trainer tab: its requests run as tasks, one at a time, reporting as messages.

:func:`serve` runs the requests of :mod:`~timbre_explorer.core.training.messages` (dataset build, training,
evaluation) one at a time in a worker process and reports through a queue as that module's dataclasses, so a
front end (the Trainer tab) only shows them. The tasks are the command line's own steps
(:func:`~timbre_explorer.core.training.run.prepare_dataset`, :func:`~timbre_explorer.core.training.run.run_training`,
:func:`~timbre_explorer.core.training.evaluate.evaluate_models`), so there is one training run and one evaluation.

Torch is imported inside the functions: the GUI imports this module before the first model loads.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from timbre_explorer.core.errors import Cancelled, ParameterError, TimbreExplorerError, describe_os_error
from timbre_explorer.core.training.messages import (
    BuildRequest,
    DatasetProgress,
    DatasetReady,
    EvaluateRequest,
    FetchedSet,
    FetchProgress,
    FetchRequest,
    Finished,
    LogRecord,
    Paused,
    RunResult,
    Status,
    TaskCancelled,
    TaskFailed,
    TrainRequest,
    WorkerExited,
)
from timbre_explorer.core.training.run import prepare_dataset, run_training
from timbre_explorer.core.training.runfolder import BASELINE_NAME, MODEL_NAME

if TYPE_CHECKING:
    import queue
    from multiprocessing.process import BaseProcess
    from multiprocessing.queues import Queue as ProcessQueue
    from multiprocessing.synchronize import Event as ProcessEvent

    from timbre_explorer.core.training.evaluate import EvaluationReport

    # the worker runs in a child process (multiprocessing's queues and events) or, in tests, in a thread
    _Queue: TypeAlias = queue.Queue[Any] | ProcessQueue[Any]
    _Event: TypeAlias = threading.Event | ProcessEvent

log = logging.getLogger(__name__)

MAP_EVERY = 5  # epochs between live-map refreshes (and at the end of every stage)


@dataclass
class Probe:
    """What this machine offers a run: the transforms' descriptions, the SoundFont source, a CUDA GPU."""

    presets: dict[str, str]
    soundfont_ok: bool
    soundfont_text: str
    cuda: bool


def warm_up() -> None:
    """Pay a run's one-time costs (C-extension imports, torch's first optimizer step: about 2 s) when the worker
    starts, not when the musician presses Train."""
    import matplotlib
    import torch

    matplotlib.use("Agg")  # as core.training.evaluate does
    import matplotlib.pyplot  # noqa: F401
    import scipy.signal  # noqa: F401 (reading sample files)
    import scipy.stats  # noqa: F401
    import sklearn.decomposition  # noqa: F401
    import sklearn.manifold  # noqa: F401
    import sklearn.model_selection  # noqa: F401

    from timbre_explorer.core.model.vae import (
        TimbreVAE,
        VAEConfig,
        gaussian_nll,
        kl_standard_normal,
    )

    model = TimbreVAE(VAEConfig(n_bins=8, hidden=8, layers=1, latent=2))
    opt = torch.optim.Adam(model.parameters())
    x = torch.randn(4, 8)
    out = model(x)
    loss = gaussian_nll(x, out.x_mu, out.x_logvar).mean() + kl_standard_normal(out.mu, out.logvar).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()


def probe(job: object = None) -> Probe:
    """What this machine offers (a worker thread: it imports torch; ``job``, the worker's, is not used)."""
    import torch

    from timbre_explorer.core.data.sources import find_soundfont
    from timbre_explorer.core.signal.scales import PRESETS

    presets = {name: f"{p.scale.describe()}, at {p.sample_rate:,} Hz" for name, p in PRESETS.items()}
    try:
        path = find_soundfont()
    except TimbreExplorerError as exc:
        ok, text = False, f"The SoundFont source is unavailable: {exc}. Your own samples work without it."
    else:
        try:
            import fluidsynth  # noqa: F401 (pyfluidsynth loads libfluidsynth here)
        except Exception as exc:  # ImportError, or OSError from the missing library
            ok, text = False, ("The SoundFont source is unavailable: FluidSynth is not installed (sudo apt-get "
                               f"install libfluidsynth3) ({exc}). Your own samples work without it.")
        else:
            ok, text = True, f"Renders single notes from {path} with FluidSynth."
    return Probe(presets, ok, text, torch.cuda.is_available())


class Task:
    """What a task gets where it runs: the cancel and pause events, and a way to report (messages)."""

    def __init__(self, events: _Queue, cancel: _Event, go: _Event) -> None:
        self.events, self.cancel, self.go = events, cancel, go

    def emit(self, message: object) -> None:
        """Send a message (a dataclass of ``core.training.messages``) to the front end."""
        self.events.put(message)

    def wait_if_paused(self, where: str) -> float:
        """Between epochs: wait while paused (the seconds waited); a cancel while paused stops here."""
        waited = 0.0
        if not self.go.is_set():
            self.emit(Paused(True, where))
            started = time.perf_counter()
            self.go.wait()
            waited = time.perf_counter() - started
            self.emit(Paused(False, where))
        if self.cancel.is_set():
            raise Cancelled(f"training cancelled {where}; Resume carries on from there")
        return waited


def serve(requests: _Queue, events: _Queue, cancel: _Event, go: _Event) -> None:
    """The worker's loop: run each requested task, one at a time, and report through ``events``.

    Runs in a child process (or, for tests, a thread): requests are those of
    :mod:`~timbre_explorer.core.training.messages` (a key of :data:`TASKS`), ``None`` ends it; every task ends with a :class:`Finished`, :class:`TaskFailed` or :class:`TaskCancelled` message, the loop with
    :class:`WorkerExited`, and a child process's log records travel as :class:`LogRecord`.
    """
    import torch

    parent = multiprocessing.parent_process()
    if parent is not None:  # a child process: it must not outlive the app, however the app ends
        threading.Thread(target=_end_with, args=(parent, cancel, go), name="parent-watch", daemon=True).start()
        _log_to_app(events)
    threads = torch.get_num_threads()
    try:
        warm_up()
    except Exception:  # a run will say what is missing
        log.warning("warm-up failed:\n%s", traceback.format_exc())
    while True:
        try:
            request = requests.get()
        except (EOFError, OSError):  # the app is gone
            break
        if request is None:
            break
        torch.set_num_threads(threads)  # a one-process dataset build leaves torch on one thread (core.data.dataset)
        task = Task(events, cancel, go)
        task.emit(_run(task, request))
    events.put(WorkerExited())


def _run(task: Task, request: Any) -> Finished | TaskFailed | TaskCancelled:
    """One request's task, and how it ended."""
    try:
        return Finished(request, TASKS[type(request)](task, request))
    except Cancelled as exc:
        return TaskCancelled(request, str(exc))
    except TimbreExplorerError as exc:
        return TaskFailed(request, str(exc))
    except OSError as exc:  # a full disk, a file where a folder should be: the file and why, as the CLI says it
        log.info("%s failed", type(request).__name__, exc_info=True)
        return TaskFailed(request, describe_os_error(exc))
    except Exception as exc:  # travels as a message; the traceback goes to the log
        log.error("%s failed:\n%s", type(request).__name__, traceback.format_exc())
        return TaskFailed(request, f"{type(exc).__name__}: {exc}")


def _log_to_app(events: _Queue) -> None:
    """In the worker process: its log records (tracebacks included) travel to the app as :class:`LogRecord`
    messages, and the app writes them to its one log file (two processes rotating one file lose lines)."""
    class Wrapped:
        def put_nowait(self, record: logging.LogRecord) -> None:
            events.put(LogRecord(record))

    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(Wrapped())]  # type: ignore[arg-type]  # it only puts
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def _end_with(parent: BaseProcess, cancel: _Event, go: _Event, grace: float = 15.0) -> None:
    """In the worker process: when the app dies (killed, crashed), stop the run as Cancel does (the last
    checkpoint stays whole), and exit in any case after ``grace`` seconds."""
    from multiprocessing.connection import wait

    wait([parent.sentinel])
    cancel.set()
    go.set()
    time.sleep(grace)
    os._exit(0)


def build_task(task: Task, request: BuildRequest) -> DatasetReady:
    return prepare_dataset(request.config, emit=task.emit, cache_root=request.cache_root, workers=request.workers,
                           cancel=task.cancel)[1]


def train_task(task: Task, request: TrainRequest) -> RunResult:
    """:func:`~timbre_explorer.core.training.run.run_training`, as ``train`` runs it, with Pause, Cancel and the live
    latent map."""
    return run_training(request.config, request.out, resume=request.resume, emit=task.emit,
                        cache_root=request.cache_root, workers=request.workers, cancel=task.cancel,
                        between_epochs=task.wait_if_paused, map_every=MAP_EVERY)


def evaluate_task(task: Task, request: EvaluateRequest) -> RunResult:
    """The ``evaluate`` command on the run's models: report.json, report.md and the plots, written again."""
    from timbre_explorer.core.training.evaluate import evaluate_models, write_reports

    out, cache_root, workers = Path(request.out), request.cache_root, request.workers
    started = time.perf_counter()
    models = {label: out / name for label, name in (("regularized", MODEL_NAME), ("unregularized", BASELINE_NAME))
              if (out / name).is_file()}
    if "regularized" not in models:
        raise ParameterError(f"{out}: no model to evaluate yet ({MODEL_NAME}); train first")
    task.emit(Status("Preparing the dataset…"))
    report, maps = evaluate_models(models, cache_root=cache_root, workers=workers or None, own_run=True,
                                   progress=lambda done, total: task.emit(DatasetProgress(done, total)),
                                   cancel=task.cancel,
                                   on_model=lambda label: task.emit(Status(f"Evaluating the {label} model…")))
    if task.cancel.is_set():
        raise Cancelled("evaluation cancelled; the previous report is unchanged")
    old = out / "report.json"
    if old.is_file():  # keep what only training knows
        previous = json.loads(old.read_text(encoding="utf-8"))
        # the run's own report.json, taken as written (a foreign or damaged one fails here or when shown)
        report.update(cast("EvaluationReport", {k: previous[k] for k in ("train_seconds", "train_seconds_by_phase",
                                                                           "mds") if k in previous}))
    write_reports(out, report, maps=maps)
    paths = {p: str(out / n) for p, n in (("regularized", MODEL_NAME), ("baseline", BASELINE_NAME))
             if (out / n).is_file()}
    return RunResult(out, paths, report, time.perf_counter() - started)


def fetch_task(task: Task, request: FetchRequest) -> FetchedSet:
    """``dataset fetch tonejs-instruments FOLDER``, with its progress and Cancel."""
    from timbre_explorer.core.data.tonejs import fetch_tonejs

    fetched = fetch_tonejs(request.folder, progress=lambda done, total: task.emit(FetchProgress(done, total)),
                           cancel=task.cancel)
    return FetchedSet(str(request.folder), {f.instrument: f.notes for f in fetched})


#: The task of each kind of request.
TASKS: dict[type, Callable[[Task, Any], RunResult | DatasetReady | FetchedSet]] = {
    BuildRequest: build_task, TrainRequest: train_task, EvaluateRequest: evaluate_task, FetchRequest: fetch_task}
