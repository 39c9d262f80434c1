"""The Trainer's runs: dataset builds, trainings, evaluations and fetches of recordings in the worker process, and
what they show.

Work runs in :class:`~timbre_explorer.gui.workers.RunWorker`'s process, one task at a time; the GUI thread only
shows the messages that come back, one handler per message type. Where the run stands is a Qt-free
:class:`~timbre_explorer.gui.trainer.status.RunStatus`; the run panel shows what it says.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.training.messages import (
    BatchProgress,
    BuildRequest,
    DatasetProgress,
    DatasetReady,
    EvaluateRequest,
    FetchedSet,
    FetchProgress,
    FetchRequest,
    Finished,
    History,
    LatentMap,
    Paused,
    Request,
    ResumedConfig,
    RunResult,
    Status,
    TaskCancelled,
    TaskFailed,
    TrainProgress,
    TrainRequest,
)
from timbre_explorer.core.training.runfolder import MODEL_NAME, checkpoint_files, free_folder
from timbre_explorer.gui.trainer.form import TrainerForm
from timbre_explorer.gui.trainer.status import RunState, RunStatus, dataset_text, format_seconds, sentence
from timbre_explorer.gui.views.trainer.run_panel import RunPanel
from timbre_explorer.gui.views.trainer.run_views import RunViews
from timbre_explorer.gui.workers import RunWorker
from timbre_explorer.paths import runs_dir

log = logging.getLogger(__name__)

CURVES_MS = 1000  # the curves, progress and status are redrawn at most this often (epochs can take ms)
MODEL_FILTER = "Timbre Explorer models (*.timbre.safetensors)"


def default_run_folder() -> Path:
    return runs_dir() / datetime.now().strftime("run-%Y%m%d-%H%M%S")


class RunController(QtCore.QObject):
    """Starts, pauses and cancels the runs of the form's config, and shows their progress and results.

    ``cache_root``: the dataset cache (default: the CLI's). ``in_process``: run the work in a thread of the app
    instead of the worker process (tests that patch the core).
    """

    model_ready = QtCore.Signal(str)  # "Open in Explorer": the model file
    run_finished = QtCore.Signal(object)  # RunResult (training or evaluation)
    run_stopped = QtCore.Signal(str, str)  # 'cancelled' or 'failed', message

    def __init__(self, form: TrainerForm, panel: RunPanel, views: RunViews, dialog_parent: QtWidgets.QWidget, *,
                 cache_root: str | Path | None = None, in_process: bool = False):
        super().__init__(dialog_parent)
        self.form, self.panel, self.views = form, panel, views
        self._dialog_parent = dialog_parent
        self.cache_root = cache_root
        self.status = RunStatus()
        self.result: RunResult | None = None
        self._report_dir: Path | None = None
        self._curves_timer = QtCore.QTimer(self, singleShot=True, interval=CURVES_MS)
        self._curves_timer.timeout.connect(self._redraw)
        self._plots_due: list[str] = []  # drawn one per tick of this timer: no frame draws all four
        self._plot_timer = QtCore.QTimer(self, interval=40)
        self._plot_timer.timeout.connect(self._draw_next_plot)
        self.runner = RunWorker(self, process=not in_process)
        self.runner.message.connect(self._message)
        self.handlers: dict[type, Callable[[Any], None]] = {Status: self._status, DatasetProgress: self._dataset_progress,
                         DatasetReady: self._dataset_ready, ResumedConfig: self._resumed_config,
                         History: self._history, BatchProgress: self._batch, TrainProgress: self._epoch,
                         LatentMap: views.latent_map.show_map, Paused: self._paused, Finished: self._finished,
                         TaskFailed: self._failed, TaskCancelled: self._cancelled,
                         FetchProgress: self._fetch_progress}
        panel.choose_out_requested.connect(self._choose_out)
        panel.new_out_requested.connect(lambda: self.set_out(default_run_folder()))
        panel.out_changed.connect(self.refresh)
        panel.train_requested.connect(lambda resume: self.start_training(resume=resume))
        panel.pause_toggled.connect(self.pause)
        panel.cancel_requested.connect(self.cancel)
        panel.evaluate_requested.connect(self.evaluate)
        panel.open_requested.connect(self.open_in_explorer)
        panel.save_requested.connect(self._save_model_dialog)
        self._show()

    def ready(self, out: str | Path) -> None:
        """What the machine offers is known and the form filled: the tab can be used."""
        self.status.state = RunState.IDLE
        self.status.status = "Ready."
        self.set_out(out)

    def not_ready(self, text: str) -> None:
        self.status.status = f"The trainer cannot start: {text}"
        self._show()

    # ================================================================== the run folder and its model
    def out_dir(self) -> Path:
        return Path(self.panel.out_folder() or str(default_run_folder())).expanduser()

    def set_out(self, path: str | Path) -> None:
        self.panel.set_out_folder(str(path))
        self.refresh()

    def _choose_out(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self._dialog_parent, "Run folder", str(self.out_dir().parent))
        if path:
            self.set_out(path)

    def model_path(self) -> Path:
        return self.out_dir() / MODEL_NAME

    def open_in_explorer(self) -> None:
        path = self.model_path()
        if not path.is_file():
            self.say(f"{path}: no model yet; train first.", error=True)
            return
        self.model_ready.emit(str(path))

    def save_model_as(self, path: str | Path) -> Path:
        """Copy the model file, card and all, atomically; the name gets the model suffix if it lacks it."""
        from timbre_explorer.core.files import atomic_path

        path = Path(path)
        if not path.name.endswith(".timbre.safetensors"):
            path = path.with_name(path.name.removesuffix(".safetensors") + ".timbre.safetensors")
        with atomic_path(path) as tmp:
            shutil.copyfile(self.model_path(), tmp)
        self.say(f"Saved the model as {path}.")
        return path

    def _save_model_dialog(self) -> None:
        if not self.model_path().is_file():
            self.say("No model yet; train first.", error=True)
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self._dialog_parent, "Save the model",
                                                        "my-timbre-space.timbre.safetensors", MODEL_FILTER)
        if path:
            try:
                self.save_model_as(path)
            except OSError as exc:
                self.say(f"Could not save the model: {exc}", error=True)

    # ================================================================== the tasks
    def build_dataset(self) -> None:
        cfg = self.form.checked_config()
        if cfg is not None:
            self._run(BuildRequest(cfg, self.cache_root, self.form.workers()))

    def fetch_recordings(self, folder: str) -> None:
        """Fetch tonejs-instruments into ``folder``; when they are there, a row of the sample sets trains on them."""
        if self.status.idle:
            self._run(FetchRequest(Path(folder)))

    def start_training(self, *, resume: bool = False) -> None:
        """Train into the run folder (a fresh run never overwrites another: it takes the next free name)."""
        if not self.status.idle:
            return
        cfg = self.form.checked_config()
        if cfg is None:
            return
        out = self.out_dir()
        note = ""
        if not resume and (free := free_folder(out)) != out:
            note = f" ({out.name} holds an earlier run, which stays as it is)"
            self.set_out(free)
            out = free
        self.views.curves.clear_curves(cfg.epochs_stage1)
        self.views.latent_map.clear_map("The latent map appears after the first epochs.")
        self._run(TrainRequest(cfg, out, resume, self.cache_root, self.form.workers()))
        self.say(f"{'Resuming' if resume else 'Training'} into {out}{note}.")
        self.views.show_training()

    def evaluate(self) -> None:
        if not self.status.idle:
            return
        out = self.out_dir()
        if not (out / MODEL_NAME).is_file():
            self.say(f"{out}: no model to evaluate yet; train first.", error=True)
            return
        self._run(EvaluateRequest(out, self.cache_root, self.form.workers()))

    def pause(self, on: bool) -> None:
        if not self.status.training:
            return
        self.runner.pause(on)
        self.status.pause(on)
        self._show()

    def cancel(self) -> None:
        if self.status.running:
            self.runner.cancel()
            self.status.status = "Cancelling…"
            self._show()

    def _run(self, request: Request) -> None:
        """Start the request's task in the worker: a new session of the run's status."""
        self.status.begin(request)
        self.panel.release_pause()
        self.say("")
        self.refresh()
        self.runner.start(request)

    def _end(self, text: str, *, error: bool = False) -> None:
        self._curves_timer.stop()
        self._redraw(now=True)
        self.status.end(text if not error else "Stopped.")
        self.panel.release_pause()
        self.refresh()

    # ================================================================== the worker's messages
    def _message(self, message) -> None:
        """A message from the worker, to its type's handler."""
        self.handlers[type(message)](message)

    def _status(self, m: Status) -> None:
        self.status.status = m.text
        self._show()

    def _dataset_progress(self, m: DatasetProgress) -> None:
        self.status.dataset_progress(m)
        self._show()

    def _fetch_progress(self, m: FetchProgress) -> None:
        self.status.fetch_progress(m)
        self._show()

    def _resumed_config(self, m: ResumedConfig) -> None:
        self.form.set_config(m.config)
        self.views.curves.clear_curves(m.config.epochs_stage1)
        self.say("Resuming with the settings the run was started with (its epochs and device as set here).")

    def _history(self, m: History) -> None:
        for stage, history in m.by_stage.items():
            self.views.curves.set_history(stage, history)

    def _dataset_ready(self, info: DatasetReady) -> None:
        self.say(dataset_text(info))
        self.views.files.add_skipped(info.skipped)
        self.views.files.add_heard(info.heard)
        self.status.dataset_ready()
        self._show()

    def _batch(self, b: BatchProgress) -> None:
        """Progress within an epoch: drawn (progress, status) at most every CURVES_MS."""
        self.status.batch(b)
        if not self._curves_timer.isActive():
            self._curves_timer.start()

    def _epoch(self, p: TrainProgress) -> None:
        """One finished epoch: stored at once, drawn (curves, progress, status) at most every CURVES_MS."""
        self.views.curves.add(p.stage, p.epoch, p.metrics, draw=False)
        self.status.epoch(p)
        if not self._curves_timer.isActive():
            self._curves_timer.start()

    def _paused(self, m: Paused) -> None:
        if m.on:
            self._redraw(now=True)
        self.status.paused(m.on, m.where)
        self._show()

    def _finished(self, m: Finished) -> None:
        if isinstance(m.request, BuildRequest):
            self._end("Dataset ready.")
            return
        if isinstance(m.result, FetchedSet):
            self._end("Fetched.")
            self.form.data_panel.add_recordings(m.result.folder)
            self.say(f"Fetched {sum(m.result.notes.values())} notes of {len(m.result.notes)} instruments into "
                     f"{m.result.folder}.")  # its row above says what it is for
            return
        assert isinstance(m.result, RunResult)
        self.result = result = m.result
        self._report_dir = Path(result.out)
        self.views.report_view.show_report(result.report, str(result.out))
        self.views.show_report()
        self.status.finished()
        what = "Trained" if isinstance(m.request, TrainRequest) else "Evaluated"
        rho = result.report.get("spearman_rho")
        self._end(f"{what} in {format_seconds(result.seconds)}.")
        self.say(f"{what}: {result.out}" + (f" · Spearman ρ {rho:.3f}" if rho is not None else "")
                 + ". Open in Explorer to hear it.")
        self.run_finished.emit(result)

    def _failed(self, m: TaskFailed) -> None:
        keep = ""
        if isinstance(m.request, TrainRequest) and checkpoint_files(self.out_dir()):
            keep = " The last good checkpoint is kept: Resume carries on from it."
        text = sentence(m.message)
        self._end(text, error=True)
        self.say(f"{text}{keep}", error=True)
        self.run_stopped.emit("failed", text)

    def _cancelled(self, m: TaskCancelled) -> None:
        self._end("Cancelled.")
        self.say(m.message[:1].upper() + m.message[1:] + ".")
        self.run_stopped.emit("cancelled", m.message)

    # ================================================================== drawing
    def _draw_next_plot(self) -> None:
        if self._plots_due:
            self.views.curves.redraw([self._plots_due.pop(0)])
        if not self._plots_due:
            self._plot_timer.stop()

    def _redraw(self, *, now: bool = False) -> None:
        """The curves (all now, or one per tick of the plot timer), the progress and the status."""
        if now:
            self._plot_timer.stop()
            self._plots_due = []
            self.views.curves.redraw()
        else:
            self._plots_due = list(self.views.curves.plots)
            self._plot_timer.start()
        self.status.show_training()
        self._show()

    def _show(self) -> None:
        self.panel.show_progress(*self.status.progress)
        self.panel.show_status(self.status.status)

    def refresh(self) -> None:
        """The buttons the state allows, the status, and the run folder's own report when idle."""
        out = self.out_dir()
        s = self.status
        self.panel.enable(idle=s.idle, training=s.training, running=s.running, resumable=bool(checkpoint_files(out)),
                          has_model=(out / MODEL_NAME).is_file())
        self.form.set_enabled(not s.running)
        self._show()
        if s.idle and out != self._report_dir:  # the run folder's own report, if it has one
            self._report_dir = out
            try:
                self.views.report_view.show_report(json.loads((out / "report.json").read_text(encoding="utf-8")),
                                                   str(out))
            except (OSError, ValueError, KeyError, TypeError):
                self.views.report_view.clear_report()

    def say(self, text: str, *, error: bool = False) -> None:
        self.panel.show_message(text, error=error)
        if error and text:
            log.warning("trainer: %s", text)
