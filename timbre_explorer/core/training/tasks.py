"""Training runs as tasks: resuming, the live latent map, and the worker loop behind the Trainer tab.

:func:`serve` runs tasks (dataset build, training, evaluation) one at a time in a worker process and reports
through a queue as the dataclasses of :mod:`~timbre_explorer.core.training.messages`, so a front end (the
Trainer tab) only shows them; the tasks are the command line's own steps
(:func:`~timbre_explorer.core.training.config.dataset_for`, ``train``, ``export_models``, :func:`evaluate_models`),
so there is one training loop and one evaluation. The run folder's layout is
:mod:`~timbre_explorer.core.training.runfolder`.

Torch is imported inside the functions: the GUI imports this module before the first model loads.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import math
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import Cancelled, ParameterError, TimbreExplorerError
from timbre_explorer.core.training.checkpoint import read_checkpoint
from timbre_explorer.core.training.config import STAGE_NAMES
from timbre_explorer.core.training.modelcard import training_config
from timbre_explorer.core.training.messages import (BatchProgress, DatasetProgress, DatasetReady, Finished, History,
                                                    LatentMap, LogRecord, Paused, ResumedConfig, RunResult, Status,
                                                    TaskCancelled, TaskFailed, WorkerExited)
from timbre_explorer.core.training.runfolder import (BASELINE_NAME, MODEL_NAME, checkpoint_files, checkpoint_path,
                                                     config_to_run, locked_run_folder)

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

MAP_NOTES = 300  # notes on the live latent map
MAP_EVERY = 5  # epochs between live-map refreshes (and at the end of every stage)
BATCH_EVERY_S = 0.25  # seconds between the progress messages of batches


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


def probe(job=None) -> Probe:
    """What this machine offers (a worker thread: it imports torch)."""
    import torch

    from timbre_explorer.core.signal.nsgt import PRESETS
    from timbre_explorer.core.data.sources import find_soundfont

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


class LatentProbe:
    """Encodes a fixed sample of notes with the weights of a checkpoint: the live latent map."""

    def __init__(self, trainer, n: int = MAP_NOTES, seed: int = 0):
        from timbre_explorer.core.model.vae import TimbreVAE

        ds = trainer.ds
        idx = np.sort(np.random.default_rng(seed).choice(len(ds), min(n, len(ds)), replace=False))
        self.log_frames = np.asarray(ds.representative(idx), np.float32)
        self.pitch = np.asarray(ds.notes["pitch"][idx], np.float32)  # a pitch-conditioned encoder reads it
        self.labels = [str(s) for s in ds.notes["instrument"][idx]]
        self.novel = np.asarray(ds.notes["split"][idx] == "novel")
        #: A model per variant the run trains (the unconditioned twin has its own shape and normalization).
        self.models = {name: (TimbreVAE(config).eval(), norm) for name, (config, norm) in trainer.variants.items()}
        self.basis: np.ndarray | None = None

    def map(self, checkpoint: Path, title: str) -> LatentMap:
        from timbre_explorer.core.training.evaluate import encode_frames

        state = read_checkpoint(checkpoint)
        model, norm = self.models["unconditioned" if state.stage == "unconditioned" else "model"]
        model.load_state_dict(state.model_state())
        z = encode_frames(model, norm, self.log_frames, self.pitch).astype(np.float64)
        z = z - z.mean(0)
        _, _, vt = np.linalg.svd(z, full_matrices=False)
        basis = np.zeros((2, z.shape[1]))
        basis[:min(2, len(vt))] = vt[:2]
        if self.basis is not None:  # keep the map's orientation from one refresh to the next
            basis *= np.where(np.sum(basis * self.basis, axis=1, keepdims=True) < 0, -1.0, 1.0)
        self.basis = basis
        return LatentMap(z @ basis.T, self.labels, self.novel, title)


class Task:
    """What a task gets where it runs: the cancel and pause events, and a way to report (messages)."""

    def __init__(self, events, cancel, go):
        self.events, self.cancel, self.go = events, cancel, go
        self.paused_seconds = 0.0

    def emit(self, message) -> None:
        """Send a message (a dataclass of ``core.training.messages``) to the front end."""
        self.events.put(message)

    def wait_if_paused(self, where: str) -> None:
        """Between epochs: wait while paused; a cancel while paused stops here."""
        if not self.go.is_set():
            self.emit(Paused(True, where))
            started = time.perf_counter()
            self.go.wait()
            self.paused_seconds += time.perf_counter() - started
            self.emit(Paused(False, where))
        if self.cancel.is_set():
            raise Cancelled(f"training cancelled {where}; Resume carries on from there")


def serve(requests, events, cancel, go) -> None:
    """The worker's loop: run each requested task, one at a time, and report through ``events``.

    Runs in a child process (or, for tests, a thread): requests are
    :class:`~timbre_explorer.core.training.messages.RunRequest` objects, ``None`` ends
    it; every task ends with a :class:`Finished`, :class:`TaskFailed` or :class:`TaskCancelled` message, the loop with
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
        kind = request.task
        torch.set_num_threads(threads)  # a one-process dataset build leaves torch on one thread (core.data.dataset)
        task = Task(events, cancel, go)
        try:
            result = TASKS[kind](task, **request.settings)
        except Cancelled as exc:
            task.emit(TaskCancelled(kind, str(exc)))
        except TimbreExplorerError as exc:
            task.emit(TaskFailed(kind, str(exc)))
        except Exception as exc:  # travels as a message; the traceback goes to the log
            log.error("%s failed:\n%s", kind, traceback.format_exc())
            task.emit(TaskFailed(kind, f"{type(exc).__name__}: {exc}"))
        else:
            task.emit(Finished(kind, result))
    events.put(WorkerExited())


def _log_to_app(events) -> None:
    """In the worker process: its log records (tracebacks included) travel to the app as :class:`LogRecord`
    messages, and the app writes them to its one log file (two processes rotating one file lose lines)."""
    class Wrapped:
        def put_nowait(self, record):
            events.put(LogRecord(record))

    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(Wrapped())]  # type: ignore[arg-type]  # it only puts
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def _end_with(parent, cancel, go, grace: float = 15.0) -> None:
    """In the worker process: when the app dies (killed, crashed), stop the run as Cancel does (the last
    checkpoint stays whole), and exit in any case after ``grace`` seconds."""
    from multiprocessing.connection import wait

    wait([parent.sentinel])
    cancel.set()
    go.set()
    time.sleep(grace)
    os._exit(0)


def build_task(task: Task, *, cfg, cache_root, workers) -> DatasetReady:
    return _dataset(task, cfg, cache_root, workers)[1]


def _dataset(task: Task, cfg, cache_root, workers):
    from timbre_explorer.core.training.config import dataset_for

    task.emit(Status("Preparing the dataset…"))
    built = []
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        built.append(done)
        task.emit(DatasetProgress(done, total))

    ds = dataset_for(cfg, cache_root=cache_root, workers=workers or None, progress=progress, cancel=task.cancel)
    info = DatasetReady(str(ds.path), ds.summary(), list(ds.manifest.get("skipped", [])), not built,
                        time.perf_counter() - started)
    task.emit(info)
    return ds, info


def train_task(task: Task, *, cfg, out: Path, cache_root, workers, resume: bool,
               map_every: int = MAP_EVERY) -> RunResult:
    """Dataset, :class:`Trainer`, the core's ``train`` generator, then ``export_models``: as ``train`` does,
    holding the run folder's lock throughout."""
    from timbre_explorer.core.training.loop import Trainer, export_models, train

    with locked_run_folder(out):
        config = config_to_run(cfg, out, resume=resume)
        if config != cfg:
            task.emit(ResumedConfig(config))
        ds, _ = _dataset(task, config, cache_root, workers)
        task.emit(Status("Preparing the model…"))
        started = time.perf_counter()
        trainer = Trainer(config, ds, out)
        config.save(out / "config.json")  # the CLI takes it: train --config … --resume
        if resume:
            task.emit(History({s: read_checkpoint(path).history for s, path in checkpoint_files(out).items()}))
        probe = LatentProbe(trainer)
        task.emit(Status("Training…"))
        steps = train(trainer, resume=resume, cancel=task.cancel, on_batch=BatchReporter(task.emit))
        try:
            for p in steps:
                task.emit(p)
                if p.epoch % map_every == 0 or p.epoch == p.epochs:
                    task.emit(probe.map(checkpoint_path(out, p.stage), f"{STAGE_NAMES[p.stage]}, epoch {p.epoch}"))
                task.wait_if_paused(f"after {STAGE_NAMES[p.stage]} epoch {p.epoch}")
        finally:
            steps.close()
        seconds = time.perf_counter() - started - task.paused_seconds
        task.emit(Status("Writing the models and evaluating them…"))
        paths = export_models(trainer, seconds=seconds)
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        return RunResult(out, {k: str(v) for k, v in paths.items()}, report, seconds)


class BatchReporter:
    """Passes on the first batch's progress and then one every ``every`` seconds: the bar moves within a long
    epoch, and short ones do not flood the app with messages."""

    def __init__(self, send: Callable[[BatchProgress], None], every: float = BATCH_EVERY_S):
        self.send, self.every = send, every
        self._last = -math.inf

    def __call__(self, progress: BatchProgress) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.send(progress)


def evaluate_models(models: Mapping[str, str | os.PathLike], *, cache_root=None, workers=None, progress=None,
                    cancel: threading.Event | None = None, on_model=None, rebuild: bool = False,
                    folder: str | os.PathLike | None = None, soundfont: str | os.PathLike | None = None,
                    sources: tuple[str, ...] | None = None, ratings: str | os.PathLike | None = None,
                    own_run: bool = False) -> tuple[dict, dict]:
    """Evaluate model files on the datasets they were trained on: ``evaluate``'s report and the maps to plot.

    ``models`` maps "regularized" and/or "unregularized" to a model file; the first one's figures make the
    report, a second one's go under ``report["baseline"]``. ``on_model(label)`` is called before each. The
    samples and ratings are the card's unless ``folder``, ``soundfont``, ``sources`` or ``ratings`` names them
    (:func:`training_config`); ``own_run``: the models of a run this user trained, whose card paths are theirs.
    """
    from timbre_explorer.core.training.evaluate import evaluate
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.training.config import dataset_for
    from timbre_explorer.core.training.loop import perceptual_target

    report, maps = None, {}
    for label, path in models.items():
        if cancel is not None and cancel.is_set():
            raise Cancelled("evaluation cancelled; the previous report is unchanged")
        mf = load_model(path)
        cfg = training_config(path, mf, folder=folder, soundfont=soundfont, sources=sources, ratings=ratings,
                              own_run=own_run)
        ds = dataset_for(cfg, cache_root=cache_root, workers=workers, progress=progress, cancel=cancel,
                         rebuild=rebuild)
        if cfg.cross_test:  # the sample sets the training kept out are not in-source test notes
            from timbre_explorer.core.data.dataset import leave_source_out

            leave_source_out(ds, cfg.cross_test, cfg.cross_valid)
        if on_model is not None:
            on_model(label)
        target = perceptual_target(cfg, ds.instruments) if cfg.regularizer != "none" else None
        r = evaluate(mf.build_model(), mf.normalization, ds, target, timbre_scale=cfg.timbre_scale)
        maps[label] = (mf.tensors["map.z"].numpy(), ds.notes["instrument"])
        if report is None:
            report = r
        else:
            report["baseline"] = r
    if report is None:
        raise ParameterError("no model to evaluate")
    return report, maps


def evaluate_task(task: Task, *, out: Path, cache_root, workers) -> RunResult:
    """The ``evaluate`` command on the run's models: report.json, report.md and the plots, written again."""
    from timbre_explorer.core.training.evaluate import write_reports

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
        report.update({k: previous[k] for k in ("train_seconds", "train_seconds_by_phase", "mds") if k in previous})
    write_reports(out, report, maps=maps)
    paths = {p: str(out / n) for p, n in (("regularized", MODEL_NAME), ("baseline", BASELINE_NAME))
             if (out / n).is_file()}
    return RunResult(out, paths, report, time.perf_counter() - started)


TASKS: dict[str, Callable[..., RunResult | DatasetReady]] = {"build": build_task, "train": train_task, "evaluate": evaluate_task}
