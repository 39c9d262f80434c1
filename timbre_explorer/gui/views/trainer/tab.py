"""The Trainer tab: build a dataset, train a timbre space, evaluate it and open it, without a terminal.

A thin view over the same core the command line drives (``timbre-explorer
dataset build`` / ``train`` / ``evaluate``): the settings are a
:class:`~timbre_explorer.core.training.config.TrainConfig` (saved and loaded as the same
JSON file ``train --config`` takes, checked by its ``problems``), the dataset comes from
:func:`~timbre_explorer.core.data.recipe.dataset_for`, and training is the command line's own
:func:`~timbre_explorer.core.training.run.run_training`. There is no second training run.

Work runs in :class:`~timbre_explorer.gui.workers.RunWorker`'s process (the tasks and the worker loop are
Qt-free, in :mod:`timbre_explorer.core.training.tasks`), one task at a time (dataset build,
training, evaluation), spawned when the tab is first shown and warmed up; the
GUI thread only shows the messages that come back (one handler per message type). Pause takes effect between
epochs (the worker waits on an event after the epoch's checkpoint is written);
Cancel is checked between batches (training) or note chunks (dataset build).
Every epoch's checkpoint is written atomically by the core, so a cancel, a
crash of the worker or a closed window leaves the last finished epoch
resumable. The live latent map is computed by the worker every few epochs from
the checkpoint just written (a few hundred notes' representative frames,
projected on their principal components).
"""

from __future__ import annotations

import enum
import json
import logging
import shutil
import time
from datetime import datetime
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.data.instruments import INSTRUMENTS
from timbre_explorer.core.errors import ParameterError, TimbreExplorerError
from timbre_explorer.core.training.config import STAGE_NAMES, TrainConfig, soundfont_instruments
from timbre_explorer.core.training.messages import (BatchProgress, BuildRequest, DatasetProgress, DatasetReady,
                                                    EvaluateRequest, Finished, History, LatentMap, Paused, Request,
                                                    ResumedConfig, RunResult, Status, TaskCancelled, TaskFailed,
                                                    TrainProgress, TrainRequest)
from timbre_explorer.core.training.runfolder import MODEL_NAME, checkpoint_files, free_folder
from timbre_explorer.core.training.tasks import Probe, probe
from timbre_explorer.gui import settings
from timbre_explorer.gui.views.trainer.curves_view import CurvesView
from timbre_explorer.gui.views.trainer.data_panel import DataPanel, folder_rows, missing_sets, soundfont_rows
from timbre_explorer.gui.views.trainer.files_view import FilesView
from timbre_explorer.gui.views.trainer.latent_map_view import LatentMapView
from timbre_explorer.gui.views.trainer.report_view import ReportView
from timbre_explorer.gui.views.trainer.run_panel import RunPanel
from timbre_explorer.gui.views.trainer.session_rate import SessionRate
from timbre_explorer.gui.views.trainer.settings_panel import SettingsPanel
from timbre_explorer.gui.workers import Failed, LatestWorker, RunWorker
from timbre_explorer.paths import runs_dir

log = logging.getLogger(__name__)

CURVES_MS = 1000  # the curves, progress and status are redrawn at most this often (epochs can take ms)
MODEL_FILTER = "Timbre Explorer models (*.timbre.safetensors)"
CONFIG_FILTER = "Training configs (*.json);;All files (*)"


def format_seconds(s: float) -> str:
    s = max(0, round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class RunState(enum.Enum):
    """Where the tab is."""

    STARTING = "starting"  # not shown yet: nothing of the core has loaded
    PROBING = "probing"  # asking the machine what it offers
    IDLE = "idle"
    BUILDING = "building"
    TRAINING = "training"
    PAUSED = "paused"  # between two epochs of a training
    EVALUATING = "evaluating"


RUNNING = frozenset({RunState.BUILDING, RunState.TRAINING, RunState.PAUSED, RunState.EVALUATING})
TRAINING = frozenset({RunState.TRAINING, RunState.PAUSED})


def default_run_folder() -> Path:
    return runs_dir() / datetime.now().strftime("run-%Y%m%d-%H%M%S")


class TrainerView(QtWidgets.QWidget):
    """The Trainer tab (see the module docstring).

    ``cache_root``: the dataset cache (default: the CLI's). ``in_process``: run the work in a thread of the app
    instead of the worker process (tests that patch the core).
    """

    model_ready = QtCore.Signal(str)  # "Open in Explorer": the model file
    ready = QtCore.Signal()  # what the machine offers is known; the tab can be used
    state_changed = QtCore.Signal(object)  # RunState
    run_finished = QtCore.Signal(object)  # RunResult (training or evaluation)
    run_stopped = QtCore.Signal(str, str)  # 'cancelled' or 'failed', message

    def __init__(self, parent=None, *, cache_root: str | Path | None = None, in_process: bool = False):
        super().__init__(parent)
        self.cache_root = cache_root
        self.state = RunState.STARTING
        self.defaults = TrainConfig().to_dict()
        self.cuda = False
        self.soundfont_ok = False
        self.base: dict = {}  # the last loaded config: settings without a widget keep their value
        self.hold_out: list[str] | None = None  # None: the source's default
        self.scan = None  # (folder, FolderScan) of the last preview
        self.result: RunResult | None = None
        self._filling = False
        self._started = 0.0
        self._rate = SessionRate()
        self._last_epoch: TrainProgress | None = None
        self._last_batch: BatchProgress | None = None
        self._report_dir: Path | None = None

        self.data_panel = DataPanel()
        self.settings_panel = SettingsPanel()
        self.run_panel = RunPanel()
        self.files = FilesView()
        self.curves = CurvesView()
        self.latent_map = LatentMapView()
        self.report_view = ReportView()

        controls = QtWidgets.QWidget()
        cl = QtWidgets.QVBoxLayout(controls)
        data_box = QtWidgets.QGroupBox("1 · Data")
        QtWidgets.QVBoxLayout(data_box).addWidget(self.data_panel)
        settings_box = QtWidgets.QGroupBox("2 · Settings")
        QtWidgets.QVBoxLayout(settings_box).addWidget(self.settings_panel)
        cl.addWidget(data_box)
        cl.addWidget(settings_box)
        cl.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        run_box = QtWidgets.QGroupBox("3 · Train, evaluate, use")
        QtWidgets.QVBoxLayout(run_box).addWidget(self.run_panel)
        left = QtWidgets.QWidget()
        ll = QtWidgets.QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(scroll, 1)
        ll.addWidget(run_box)
        left.setMinimumWidth(440)

        training = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        training.addWidget(self.curves)
        training.addWidget(self.latent_map)
        training.setStretchFactor(0, 3)
        training.setStretchFactor(1, 2)
        self.views = QtWidgets.QTabWidget()
        self.views.addTab(self.files, "Files")
        self.views.addTab(training, "Training")
        self.views.addTab(self.report_view, "Evaluation")
        split = QtWidgets.QSplitter()
        split.addWidget(left)
        split.addWidget(self.views)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([460, 900])
        self.splitter = split
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

        self._curves_timer = QtCore.QTimer(self, singleShot=True, interval=CURVES_MS)
        self._curves_timer.timeout.connect(self._redraw)
        self._plots_due: list[str] = []  # drawn one per tick of this timer: no frame draws all four
        self._plot_timer = QtCore.QTimer(self, interval=40)
        self._plot_timer.timeout.connect(self._draw_next_plot)
        self.scanner = LatestWorker("trainer-scan", self)
        self.runner = RunWorker(self, process=not in_process)
        self.runner.message.connect(self._message)
        self._handlers = {Status: self._status, DatasetProgress: self._dataset_progress,
                          DatasetReady: self._dataset_ready, ResumedConfig: self._resumed_config,
                          History: self._history, BatchProgress: self._batch, TrainProgress: self._epoch,
                          LatentMap: self.latent_map.show_map,
                          Paused: self._paused, Finished: self._finished, TaskFailed: self._failed,
                          TaskCancelled: self._cancelled}

        d, s, r = self.data_panel, self.settings_panel, self.run_panel
        d.source_changed.connect(self._source_changed)
        d.preview_requested.connect(self.preview)
        d.browse_folder_requested.connect(self._browse_folder)
        d.browse_soundfont_requested.connect(self._browse_soundfont)
        d.build_requested.connect(self.build_dataset)
        d.instruments.itemChanged.connect(self._instrument_toggled)
        d.soundfont_choice_changed.connect(self._soundfont_choice_changed)
        d.soundfont.textChanged.connect(lambda text: self.data_panel.set_missing(missing_sets(text.strip())))
        s.load_requested.connect(self._load_config_dialog)
        s.save_requested.connect(self._save_config_dialog)
        s.defaults_requested.connect(self.reset_settings)
        r.choose_out_requested.connect(self._choose_out)
        r.new_out_requested.connect(lambda: self.set_out(default_run_folder()))
        r.out_changed.connect(self._refresh)
        r.train_button.clicked.connect(lambda: self.start_training(resume=False))
        r.resume_button.clicked.connect(lambda: self.start_training(resume=True))
        r.pause_button.toggled.connect(self.pause)
        r.cancel_button.clicked.connect(self.cancel)
        r.evaluate_button.clicked.connect(self.evaluate)
        r.open_button.clicked.connect(self.open_in_explorer)
        r.save_button.clicked.connect(self._save_model_dialog)

        self.setEnabled(False)
        r.status.setText("Loading the training settings…")

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """The core loads when the tab is first shown: an app that never trains never pays for it."""
        if self.state is RunState.STARTING:
            self.state = RunState.PROBING
            self.scanner.submit(probe, "probe", on_done=self._ready, on_failed=self._probe_failed)
            self.runner.ensure_started()  # it imports the core and warms up meanwhile
        super().showEvent(event)

    # ================================================================== settings
    def _ready(self, p: Probe) -> None:
        self.cuda, self.soundfont_ok = p.cuda, p.soundfont_ok
        self.data_panel.set_preset_info(p.presets)
        self.data_panel.set_soundfont_status(p.soundfont_ok, p.soundfont_text)
        self.settings_panel.set_cuda(p.cuda)
        self.data_panel.set_missing(missing_sets(self.data_panel.soundfont.text().strip()))
        saved = settings.read("trainer/config")
        config = dict(self.defaults)
        if saved:  # the last session's settings, as far as this version knows them
            try:
                config.update({k: v for k, v in json.loads(saved).items() if k in self.defaults})
            except (ValueError, AttributeError):
                pass
        self.set_config(config)
        if not p.soundfont_ok and self.data_panel.source == "soundfont":
            self.data_panel.set_source("folder")  # said in the data panel; the folder source works without it
        self.set_out(settings.read("trainer/out") or default_run_folder())
        self.state = RunState.IDLE
        self.setEnabled(True)
        self.run_panel.status.setText("Ready.")
        self._refresh()
        self.ready.emit()

    def config(self):
        """The widgets' settings as a validated :class:`TrainConfig` (raises ParameterError)."""
        d = {**self.defaults, **self.base, **self.settings_panel.values()}
        folder, soundfont = self.data_panel.folder.text().strip(), self.data_panel.soundfont.text().strip()
        d["source"] = self.data_panel.source
        d["folder"] = str(Path(folder).expanduser()) if folder else None
        d["soundfont"] = str(Path(soundfont).expanduser()) if soundfont else None
        d["preset"] = self.data_panel.preset.currentData()
        d["hold_out"] = self.hold_out
        d["programs"] = self.data_panel.programs_choice()
        d["instruments"], d["pitch_range"] = self.data_panel.soundfont_choice()
        sources, cross_test, cross_valid = self.data_panel.sets_choice()
        if sources or d["source"] == "soundfont":  # the folder source renders none: an empty table is no error
            d["sources"], d["cross_test"], d["cross_valid"] = sources, cross_test, cross_valid
        return TrainConfig.from_dict(d)

    def set_config(self, cfg) -> None:
        """Show a config (a TrainConfig or its dict); settings the tab has no widget for are kept as they are."""
        d = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)
        self.base = {**self.defaults, **d}
        self._filling = True
        try:
            self.settings_panel.set_values(self.base)
            self.data_panel.folder.setText(self.base.get("folder") or "")
            self.data_panel.soundfont.setText(self.base.get("soundfont") or "")
            self.data_panel.set_sets(self.base["sources"], self.base.get("cross_test"), self.base.get("cross_valid"))
            self.data_panel.set_preset(self.base.get("preset") or TrainConfig().preset)
            self.data_panel.set_programs(self.base.get("programs") or "orchestral")
            self.data_panel.set_soundfont_choice(self.base.get("instruments"), self.base.get("pitch_range"))
            self.data_panel.set_source(self.base.get("source", "soundfont"))
        finally:
            self._filling = False
        self.hold_out = list(self.base["hold_out"]) if self.base.get("hold_out") is not None else None
        self._fill_instruments()
        if self.data_panel.source == "folder" and self.data_panel.folder.text():
            self.preview(show=False)

    def reset_settings(self) -> None:
        """The core's defaults for the model and training; the data choices stay."""
        keep = ("source", "folder", "soundfont", "sources", "cross_test", "cross_valid", "preset", "hold_out",
                "programs", "instruments", "pitch_range", "split_seed", "ratings", "mds_dims")
        d = {**self.defaults, **{k: self.base[k] for k in keep if k in self.base}}
        instruments, pitches = self.data_panel.soundfont_choice()
        sources, cross_test, cross_valid = self.data_panel.sets_choice()
        if sources:
            d.update(sources=sources, cross_test=cross_test, cross_valid=cross_valid)
        d.update(source=self.data_panel.source, folder=self.data_panel.folder.text().strip() or None,
                 soundfont=self.data_panel.soundfont.text().strip() or None,
                 preset=self.data_panel.preset.currentData(), hold_out=self.hold_out, instruments=instruments,
                 pitch_range=pitches, programs=self.data_panel.programs_choice())
        self.set_config(d)

    def _source_instruments(self) -> list[str] | None:
        if self.data_panel.source == "soundfont":
            return [i.name for i in self._rendered()]
        if self.scan is not None and self.scan[0] == self.data_panel.folder.text().strip():
            return self.data_panel.instrument_names()
        return None

    def checked_config(self):
        """The config to run, or None after saying what is wrong (in the tab, never a blocking dialog)."""
        try:
            cfg = self.config()
        except ParameterError as exc:
            self._say(f"Cannot train with these settings: {exc}", error=True)
            return None
        soundfont_unavailable = None if self.soundfont_ok else self.data_panel.soundfont_status.text()
        wrong = cfg.problems(instruments=self._source_instruments(), cuda=self.cuda,
                             soundfont_unavailable=soundfont_unavailable)
        if wrong:
            self._say("Cannot start: " + " ".join(wrong), error=True)
            return None
        return cfg

    def save_config(self, path: str | Path) -> Path:
        """Write the settings as the JSON file ``timbre-explorer train --config`` takes (atomically)."""
        self.config().save(path)
        self._say(f"Saved the settings to {path} (timbre-explorer train --config {path} runs them).")
        return Path(path)

    def load_config(self, path: str | Path) -> None:
        try:
            cfg = TrainConfig.from_file(path)
        except TimbreExplorerError as exc:
            self._say(str(exc), error=True)
            return
        self.set_config(cfg)
        self._say(f"Loaded the settings from {path}.")

    def _load_config_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load a training config", "", CONFIG_FILTER)
        if path:
            self.load_config(path)

    def _save_config_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save the training config", "train-config.json",
                                                        CONFIG_FILTER)
        if path:
            try:
                self.save_config(path)
            except (TimbreExplorerError, OSError) as exc:
                self._say(f"Could not save the settings: {exc}", error=True)

    # ================================================================== data
    def _source_changed(self) -> None:
        if self._filling:
            return
        self.hold_out = None
        self._fill_instruments()
        if self.data_panel.source == "folder" and self.data_panel.folder.text() and self.scan is None:
            self.preview()

    def _fill_instruments(self) -> None:
        d = self.data_panel
        self._filling = True
        try:
            if d.source == "soundfont":
                held = set(self.hold_out) if self.hold_out is not None else {i.name for i in INSTRUMENTS if i.novel}
                d.set_instruments(soundfont_rows(self._rendered()), held, "Each rendered instrument's notes, "
                                  "range and dynamics. Unchecked instruments are held out: the evaluation places "
                                  "them.")
                self.files.model.set_rows([])
                self.files.summary.setText("The SoundFont source renders the instruments checked on the left, "
                                           "over the ranges and dynamics listed there.")
            elif self.scan is not None and self.scan[0] == d.folder.text().strip():
                held = set(self.hold_out or ())
                d.set_instruments(folder_rows(self.scan[1].notes), held, "Unchecked instruments are held out: the "
                                  "evaluation places them as novel instruments.")
                self.files.show_scan(self.scan[1].notes, self.scan[1].problems, held)
            else:
                d.set_instruments([], set(), "Choose a folder and press Preview to see its instruments.")
        finally:
            self._filling = False

    def _rendered(self):
        """The SoundFont instruments the data panel renders, each within the chosen pitches (none: a bad range)."""
        instruments, pitches = self.data_panel.soundfont_choice()
        try:
            return soundfont_instruments(TrainConfig(programs=self.data_panel.programs_choice(),
                                                     instruments=instruments, pitch_range=pitches))
        except ParameterError:  # a low pitch above the high one: config() says so when it is used
            return ()

    def _soundfont_choice_changed(self) -> None:
        if not self._filling and self.data_panel.source == "soundfont":
            self._fill_instruments()

    def _instrument_toggled(self, item) -> None:
        if self._filling:
            return
        self.hold_out = self.data_panel.held_out()
        if self.scan is not None and self.data_panel.source == "folder":
            self.files.show_scan(self.scan[1].notes, self.scan[1].problems, self.hold_out)

    def preview(self, *, show: bool = True) -> None:
        """Scan the folder (worker) and list every file with its label; problems are listed too."""
        folder = self.data_panel.folder.text().strip()
        if not folder or self._filling:
            return
        from timbre_explorer.core.data.sources import scan_folder

        self.files.summary.setText(f"Reading {folder}…")
        if self.scan is None or self.scan[0] != folder:
            self.data_panel.set_instruments([], set(), f"Reading {folder}…")
        if show:
            self.views.setCurrentWidget(self.files)
        self.scanner.submit(lambda job: (folder, scan_folder(Path(folder).expanduser())), "scan",
                            on_done=self._scanned, on_failed=self._scan_failed)

    def _scanned(self, result) -> None:
        folder, scan = result
        if folder != self.data_panel.folder.text().strip():
            return  # the user has typed another folder since
        new_folder = self.scan is None or self.scan[0] != folder
        self.scan = (folder, scan)
        if new_folder and self.hold_out is not None:
            names = {n.instrument for n in scan.notes}
            self.hold_out = [n for n in self.hold_out if n in names] or None
        self._fill_instruments()
        if not scan.notes:
            self._say(f"{folder}: no usable audio files found.", error=True)

    def _probe_failed(self, failed: Failed) -> None:
        self.run_panel.status.setText(f"The trainer cannot start: {failed.message}")

    def _scan_failed(self, failed: Failed) -> None:
        self.scan = None
        self.files.model.set_rows([])
        self.files.summary.setText(failed.message)
        self._say(failed.message, error=True)

    def _browse_folder(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Your samples folder", self.data_panel.folder.text())
        if path:
            self.data_panel.folder.setText(path)
            self.data_panel.set_source("folder")
            self.preview()

    def _browse_soundfont(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "A General MIDI SoundFont", "", "SoundFonts and TiMidity++ patch sets (*.sf2 *.sf3 *.cfg);;All files (*)")
        if path:
            self.data_panel.soundfont.setText(path)

    def build_dataset(self) -> None:
        cfg = self.checked_config()
        if cfg is None:
            return
        self._run(BuildRequest(cfg, self.cache_root, self.data_panel.processes.value()))

    # ================================================================== training
    def out_dir(self) -> Path:
        return Path(self.run_panel.out.text().strip() or str(default_run_folder())).expanduser()

    def set_out(self, path: str | Path) -> None:
        self.run_panel.out.setText(str(path))
        self._refresh()

    def _choose_out(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Run folder", str(self.out_dir().parent))
        if path:
            self.set_out(path)

    def start_training(self, *, resume: bool = False) -> None:
        """Train into the run folder (a fresh run never overwrites another: it takes the next free name)."""
        if self.state is not RunState.IDLE:
            return
        cfg = self.checked_config()
        if cfg is None:
            return
        out = self.out_dir()
        note = ""
        if not resume:
            free = free_folder(out)
            if free != out:
                note = f" ({out.name} holds an earlier run, which stays as it is)"
                self.set_out(free)
                out = free
        self.curves.clear_curves(cfg.epochs_stage1)
        self.latent_map.clear_map("The latent map appears after the first epochs.")
        self._run(TrainRequest(cfg, out, resume, self.cache_root, self.data_panel.processes.value()))
        self._say(f"{'Resuming' if resume else 'Training'} into {out}{note}.")
        self.views.setCurrentIndex(1)

    def pause(self, on: bool) -> None:
        if self.state not in TRAINING:
            return
        self.run_panel.pause_button.setText("Continue" if on else "Pause")
        self.runner.pause(on)
        if on:
            status = self.run_panel.status
            status.setText(status.text().split(" · paus")[0] + " · pausing after this epoch…")

    def cancel(self) -> None:
        if self.state in RUNNING:
            self.runner.cancel()
            self.run_panel.status.setText("Cancelling…")

    def evaluate(self) -> None:
        if self.state is not RunState.IDLE:
            return
        out = self.out_dir()
        if not (out / MODEL_NAME).is_file():
            self._say(f"{out}: no model to evaluate yet; train first.", error=True)
            return
        self._run(EvaluateRequest(out, self.cache_root, self.data_panel.processes.value()))

    def model_path(self) -> Path:
        return self.out_dir() / MODEL_NAME

    def open_in_explorer(self) -> None:
        path = self.model_path()
        if not path.is_file():
            self._say(f"{path}: no model yet; train first.", error=True)
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
        self._say(f"Saved the model as {path}.")
        return path

    def _save_model_dialog(self) -> None:
        if not self.model_path().is_file():
            self._say("No model yet; train first.", error=True)
            return
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save the model", "my-timbre-space.timbre.safetensors",
                                                        MODEL_FILTER)
        if path:
            try:
                self.save_model_as(path)
            except OSError as exc:
                self._say(f"Could not save the model: {exc}", error=True)

    # ================================================================== progress from the worker
    def _run(self, request: Request) -> None:
        """Start the request's task in the worker, in the state it runs in."""
        self._begin({BuildRequest: RunState.BUILDING, TrainRequest: RunState.TRAINING,
                     EvaluateRequest: RunState.EVALUATING}[type(request)])
        self.runner.start(request)

    def _begin(self, state: RunState) -> None:
        self.state = state
        self._last_epoch = self._last_batch = None
        self._rate.reset()
        self._started = time.monotonic()
        r = self.run_panel
        r.progress.setValue(0)
        r.progress.setFormat("")
        r.pause_button.setChecked(False)
        r.pause_button.setText("Pause")
        self._say("")
        self._refresh()
        self.state_changed.emit(self.state)

    def _end(self, text: str, *, error: bool = False) -> None:
        self._curves_timer.stop()
        self._redraw(now=True)
        self.state = RunState.IDLE
        r = self.run_panel
        r.pause_button.blockSignals(True)
        r.pause_button.setChecked(False)
        r.pause_button.setText("Pause")
        r.pause_button.blockSignals(False)
        r.status.setText(text if not error else "Stopped.")
        self._refresh()
        self.state_changed.emit(self.state)

    def _message(self, message) -> None:
        """A message from the worker, to its type's handler."""
        self._handlers[type(message)](message)

    def _status(self, m: Status) -> None:
        self.run_panel.status.setText(m.text)

    def _dataset_progress(self, m: DatasetProgress) -> None:
        r = self.run_panel
        r.progress.setValue(round(1000 * m.done / max(m.total, 1)))
        r.progress.setFormat(f"dataset: {m.done} / {m.total} notes")
        elapsed = time.monotonic() - self._started
        eta = f" · ETA {format_seconds(elapsed * (m.total - m.done) / m.done)}" if m.done else ""
        r.status.setText(f"Building the dataset: {m.done} of {m.total} notes{eta}")

    def _resumed_config(self, m: ResumedConfig) -> None:
        self.set_config(m.config)
        self.curves.clear_curves(m.config.epochs_stage1)
        self._say("Resuming with the settings the run was started with (its epochs and device as set here).")

    def _history(self, m: History) -> None:
        for stage, history in m.by_stage.items():
            self.curves.set_history(stage, history)

    def _dataset_ready(self, info: DatasetReady) -> None:
        s = info.summary
        splits = ", ".join(f"{k} {s['per_split'][k]}" for k in ("train", "valid", "test", "novel")
                           if k in s["per_split"])
        how = "reused from the cache" if info.reused else f"built in {format_seconds(info.seconds)}"
        text = (f"Dataset: {s['notes']} notes of {len(s['per_instrument'])} instruments ({splits}), {how}."
                + (f" {len(info.skipped)} file{'s' if len(info.skipped) > 1 else ''} could not be used "
                   "(listed in Files)." if info.skipped else ""))
        self._say(text)
        self.files.add_skipped(info.skipped)
        building = self.state is RunState.BUILDING
        self.run_panel.progress.setValue(1000 if building else 0)
        self.run_panel.progress.setFormat("dataset ready" if building else "")

    def _batch(self, b: BatchProgress) -> None:
        """Progress within an epoch: drawn (progress, status) at most every CURVES_MS."""
        self._rate.seen(b.done_fraction)
        self._last_batch = b
        if not self._curves_timer.isActive():
            self._curves_timer.start()

    def _epoch(self, p: TrainProgress) -> None:
        """One finished epoch: stored at once, drawn (curves, progress, status) at most every CURVES_MS."""
        self.curves.add(p.stage, p.epoch, p.metrics, draw=False)
        self._rate.seen(p.done_fraction)
        self._last_epoch = p
        if not self._curves_timer.isActive():
            self._curves_timer.start()

    def _draw_next_plot(self) -> None:
        if self._plots_due:
            self.curves.redraw([self._plots_due.pop(0)])
        if not self._plots_due:
            self._plot_timer.stop()

    def _redraw(self, *, now: bool = False) -> None:
        if now:
            self._plot_timer.stop()
            self._plots_due = []
            self.curves.redraw()
        else:
            self._plots_due = list(self.curves.plots)
            self._plot_timer.start()
        p, b, r = self._last_epoch, self._last_batch, self.run_panel
        if self.state not in TRAINING or (p is None and b is None):
            return
        within = b is not None and (p is None or b.done_fraction > p.done_fraction)  # an epoch under way
        if within:
            r.progress.setValue(round(1000 * b.done_fraction))
            r.progress.setFormat(f"{STAGE_NAMES[b.stage]} · epoch {b.epoch} / {b.epochs} · batch {b.batch} / "
                                 f"{b.batches}")
        else:
            r.progress.setValue(round(1000 * p.done_fraction))
            r.progress.setFormat(f"{STAGE_NAMES[p.stage]} · epoch {p.epoch} / {p.epochs}")
        if self.state is RunState.PAUSED:
            return  # the status says where it paused
        eta = self._rate.eta_seconds()
        after = (f" · ETA {format_seconds(eta)}" if eta is not None else "") \
            + (" · pausing after this epoch…" if r.pause_button.isChecked() else "")
        if p is None:
            r.status.setText(f"{STAGE_NAMES[b.stage].capitalize()}, epoch {b.epoch} of {b.epochs}: batch "
                             f"{b.batch} of {b.batches}{after}")
            return
        m = p.metrics
        valid = f" · validation {m['valid_nll']:.3f}" if "valid_nll" in m else ""
        perceptual = f"perceptual {m['reg']:.3f}" if m.get("alpha") else "perceptual off"
        r.status.setText(f"{STAGE_NAMES[p.stage].capitalize()}, epoch {p.epoch} of {p.epochs} · "
                         f"reconstruction {m['nll']:.1f} · KL {m['kl']:.2f} · {perceptual}{valid}{after}")

    def _paused(self, m: Paused) -> None:
        self.state = RunState.PAUSED if m.on else RunState.TRAINING
        self._rate.pause(m.on)
        self.state_changed.emit(self.state)
        if m.on:
            self._redraw(now=True)
            self.run_panel.status.setText(f"Paused {m.where}: its checkpoint is written. Continue, or Cancel "
                                          "(Resume carries on later).")

    def _finished(self, m: Finished) -> None:
        if isinstance(m.request, BuildRequest):
            self._end("Dataset ready.")
            return
        self.result = result = m.result
        self._report_dir = Path(result.out)
        self.report_view.show_report(result.report, str(result.out))
        self.views.setCurrentWidget(self.report_view)
        self.run_panel.progress.setValue(1000)
        self.run_panel.progress.setFormat("done")
        what = "Trained" if isinstance(m.request, TrainRequest) else "Evaluated"
        rho = result.report.get("spearman_rho")
        self._end(f"{what} in {format_seconds(result.seconds)}.")
        self._say(f"{what}: {result.out}" + (f" · Spearman ρ {rho:.3f}" if rho is not None else "")
                  + ". Open in Explorer to hear it.")
        self.run_finished.emit(result)

    def _failed(self, m: TaskFailed) -> None:
        keep = ""
        if isinstance(m.request, TrainRequest):
            files = checkpoint_files(self.out_dir())
            if files:
                keep = " The last good checkpoint is kept: Resume carries on from it."
        text = m.message[:1].upper() + m.message[1:].rstrip(".") + "."
        self._end(text, error=True)
        self._say(f"{text}{keep}", error=True)
        self.run_stopped.emit("failed", text)

    def _cancelled(self, m: TaskCancelled) -> None:
        self._end("Cancelled.")
        self._say(m.message[:1].upper() + m.message[1:] + ".")
        self.run_stopped.emit("cancelled", m.message)

    # ================================================================== state
    def _refresh(self) -> None:
        out = self.out_dir()
        idle = self.state is RunState.IDLE
        running = self.state in RUNNING
        has_model = (out / MODEL_NAME).is_file()
        r = self.run_panel
        r.train_button.setEnabled(idle)
        r.resume_button.setEnabled(idle and bool(checkpoint_files(out)) and not has_model)  # a finished run: nothing to resume
        r.pause_button.setEnabled(self.state in TRAINING)
        r.cancel_button.setEnabled(running)
        r.evaluate_button.setEnabled(idle and has_model)
        r.open_button.setEnabled(idle and has_model)
        r.save_button.setEnabled(idle and has_model)
        for w in (r.out, r.out_button, r.new_button, self.settings_panel, self.data_panel):
            w.setEnabled(not running)
        if idle and out != self._report_dir:  # the run folder's own report, if it has one
            self._report_dir = out
            try:
                self.report_view.show_report(json.loads((out / "report.json").read_text(encoding="utf-8")), str(out))
            except (OSError, ValueError, KeyError, TypeError):
                self.report_view.clear_report()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.run_panel.show_message(text, error=error)
        if error and text:
            log.warning("trainer: %s", text)

    # ================================================================== shutdown
    def shutdown(self) -> None:
        """Cancel any work, end the worker and wait for it (the last checkpoint stays resumable); remember the
        settings for the next session."""
        self.runner.shutdown()
        self.scanner.shutdown()
        if self.state not in (RunState.STARTING, RunState.PROBING):  # the settings were shown
            try:
                settings.write("trainer/config", json.dumps(self.config().to_dict()))
            except TimbreExplorerError:
                pass
            settings.write("trainer/out", str(self.out_dir()))
