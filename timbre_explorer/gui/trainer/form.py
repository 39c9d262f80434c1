"""The Trainer's form: the data and settings panels as one :class:`TrainConfig`, both ways.

Settings the panels have no widget for keep the value of the last config shown (``base``), so a config loaded
from a file survives a save. A sample folder is scanned on a worker (Preview) before anything runs: its
instruments fill the checklist, every file and its label the Files view; a folder of recordings added beside the
sample sets is listed there too.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.data.instruments import INSTRUMENTS
from timbre_explorer.core.errors import ParameterError, TimbreExplorerError
from timbre_explorer.core.training.config import TrainConfig, soundfont_instruments
from timbre_explorer.core.training.tasks import Probe
from timbre_explorer.gui import settings
from timbre_explorer.gui.views.trainer.data_panel import DataPanel
from timbre_explorer.gui.views.trainer.files_view import FilesView
from timbre_explorer.gui.views.trainer.instrument_rows import folder_rows, soundfont_rows
from timbre_explorer.gui.views.trainer.settings_panel import SettingsPanel
from timbre_explorer.gui.workers import Failed, LatestWorker

if TYPE_CHECKING:
    from timbre_explorer.core.data.sources import FolderScan

CONFIG_FILTER = "Training configs (*.json);;All files (*)"
#: The data choices "Defaults" keeps (it resets the model and training settings).
DATA_SETTINGS = ("source", "folder", "soundfont", "sources", "cross_test", "cross_valid", "preset", "hold_out",
                 "programs", "instruments", "pitch_range", "split_seed", "ratings", "mds_dims")


class TrainerForm(QtCore.QObject):
    """The config the data and settings panels show (see the module docstring).

    ``said(text, error)``: a message for the run panel; ``files_wanted``: the Files view should be shown (a preview
    starts).
    """

    said = QtCore.Signal(str, bool)
    files_wanted = QtCore.Signal()

    def __init__(self, data_panel: DataPanel, settings_panel: SettingsPanel, files: FilesView,
                 dialog_parent: QtWidgets.QWidget):
        super().__init__(dialog_parent)
        self.data_panel, self.settings_panel, self.files = data_panel, settings_panel, files
        self._dialog_parent = dialog_parent
        self.defaults = TrainConfig().to_dict()
        self.cuda = False
        self.soundfont_unavailable: str | None = None  # why the SoundFont source cannot run here, or None
        self.base: dict = {}  # the last config shown: settings without a widget keep their value
        self.hold_out: list[str] | None = None  # None: the source's default
        self.scan: tuple[str, FolderScan] | None = None  # the folder of the last preview, and what it holds
        self._filling = False
        self.scanner = LatestWorker("trainer-scan", self)
        self.set_scanner = LatestWorker("trainer-set-scan", self)  # a folder among the sample sets: its own, so
        # listing it never drops the sample folder's preview (which fills the instrument checklist)
        d, s = data_panel, settings_panel
        d.source_changed.connect(self._source_changed)
        d.preview_requested.connect(self.preview)
        d.folder_set_chosen.connect(self.preview_folder_set)
        d.browse_folder_requested.connect(self._browse_folder)
        d.browse_soundfont_requested.connect(self._browse_soundfont)
        d.instruments_toggled.connect(self._instrument_toggled)
        d.soundfont_choice_changed.connect(self._soundfont_choice_changed)
        s.load_requested.connect(self._load_config_dialog)
        s.save_requested.connect(self._save_config_dialog)
        s.defaults_requested.connect(self.reset_settings)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.said.emit(text, error)

    # ================================================================== the config
    def show_machine(self, p: Probe) -> None:
        """What the machine offers, then the last session's settings (as far as this version knows them)."""
        self.cuda = p.cuda
        self.soundfont_unavailable = None if p.soundfont_ok else p.soundfont_text
        self.data_panel.set_preset_info(p.presets)
        self.data_panel.set_soundfont_status(p.soundfont_ok, p.soundfont_text)
        self.settings_panel.set_cuda(p.cuda)
        self.data_panel.check_sample_sets()
        config = dict(self.defaults)
        saved = settings.read("trainer/config")
        if saved:
            try:
                config.update({k: v for k, v in json.loads(saved).items() if k in self.defaults})
            except (ValueError, AttributeError):
                pass
        self.set_config(config)
        if not p.soundfont_ok and self.data_panel.source == "soundfont":
            self.data_panel.set_source("folder")  # said in the data panel; the folder source works without it

    def config(self) -> TrainConfig:
        """The widgets' settings as a validated :class:`TrainConfig` (raises ParameterError)."""
        d = {**self.defaults, **self.base, **self.settings_panel.values(), **self._data_choices()}
        return TrainConfig.from_dict(d)

    def _data_choices(self) -> dict:
        """The data panel's part of the config."""
        p = self.data_panel
        folder, soundfont = p.folder_path(), p.soundfont_path()
        instruments, pitches = p.soundfont_choice()
        d: dict[str, object] = dict(source=p.source, folder=str(Path(folder).expanduser()) if folder else None,
                 soundfont=str(Path(soundfont).expanduser()) if soundfont else None, preset=p.preset_choice(),
                 hold_out=self.hold_out, programs=p.programs_choice(), instruments=instruments, pitch_range=pitches)
        sources, cross_test, cross_valid = p.sets_choice()
        if sources or d["source"] == "soundfont":  # the folder source renders none: an empty table is no error
            d.update(sources=sources, cross_test=cross_test, cross_valid=cross_valid)
        return d

    def set_config(self, cfg: TrainConfig | dict) -> None:
        """Show a config (a TrainConfig or its dict); settings the tab has no widget for are kept as they are."""
        d = cfg.to_dict() if isinstance(cfg, TrainConfig) else dict(cfg)
        self.base = b = {**self.defaults, **d}
        p = self.data_panel
        self._filling = True
        try:
            self.settings_panel.set_values(b)
            p.set_folder_path(b.get("folder") or "")
            p.set_soundfont_path(b.get("soundfont") or "")
            p.set_sets(b["sources"], b.get("cross_test"), b.get("cross_valid"))
            p.set_preset(b.get("preset") or TrainConfig().preset)
            p.set_programs(b.get("programs") or "orchestral")
            p.set_soundfont_choice(b.get("instruments"), b.get("pitch_range"))
            p.set_source(b.get("source", "soundfont"))
        finally:
            self._filling = False
        self.hold_out = list(b["hold_out"]) if b.get("hold_out") is not None else None
        self._fill_instruments()
        if p.source == "folder" and p.folder_path():
            self.preview(show=False)

    def reset_settings(self) -> None:
        """The core's defaults for the model and training; the data choices stay."""
        choices = self._data_choices()
        if not choices.get("sources"):  # no sample set chosen: the last config's stay
            choices = {k: v for k, v in choices.items() if k not in ("sources", "cross_test", "cross_valid")}
        choices["folder"] = self.data_panel.folder_path() or None
        choices["soundfont"] = self.data_panel.soundfont_path() or None
        self.set_config({**self.defaults, **{k: self.base[k] for k in DATA_SETTINGS if k in self.base}, **choices})

    def checked_config(self) -> TrainConfig | None:
        """The config to run, or None after saying what is wrong (in the tab, never a blocking dialog)."""
        try:
            cfg = self.config()
        except ParameterError as exc:
            self._say(f"Cannot train with these settings: {exc}", error=True)
            return None
        wrong = cfg.problems(instruments=self._source_instruments(), cuda=self.cuda,
                             soundfont_unavailable=self.soundfont_unavailable)
        if wrong:
            self._say("Cannot start: " + " ".join(wrong), error=True)
            return None
        return cfg

    def set_enabled(self, on: bool) -> None:
        """The settings are fixed while a task runs."""
        self.settings_panel.setEnabled(on)
        self.data_panel.setEnabled(on)

    def workers(self) -> int:
        """Processes for a dataset build (0: every core)."""
        return self.data_panel.processes_choice()

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

    def remember(self) -> None:
        """Keep the settings for the next session (where they are valid)."""
        try:
            settings.write("trainer/config", json.dumps(self.config().to_dict()))
        except TimbreExplorerError:
            pass

    def _load_config_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self._dialog_parent, "Load a training config", "",
                                                        CONFIG_FILTER)
        if path:
            self.load_config(path)

    def _save_config_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self._dialog_parent, "Save the training config",
                                                        "train-config.json", CONFIG_FILTER)
        if path:
            try:
                self.save_config(path)
            except (TimbreExplorerError, OSError) as exc:
                self._say(f"Could not save the settings: {exc}", error=True)

    # ================================================================== the data
    def _source_instruments(self) -> list[str] | None:
        if self.data_panel.source == "soundfont":
            return [i.name for i in self._rendered()]
        if self.scan is not None and self.scan[0] == self.data_panel.folder_path():
            return self.data_panel.instrument_names()
        return None

    def _source_changed(self) -> None:
        if self._filling:
            return
        self.hold_out = None
        self._fill_instruments()
        if self.data_panel.source == "folder" and self.data_panel.folder_path() and self.scan is None:
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
                self.files.show_note("The SoundFont source renders the instruments checked on the left, over the "
                                     "ranges and dynamics listed there.")
            elif self.scan is not None and self.scan[0] == d.folder_path():
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

    def _instrument_toggled(self) -> None:
        if self._filling:
            return
        self.hold_out = self.data_panel.held_out()
        if self.scan is not None and self.data_panel.source == "folder":
            self.files.show_scan(self.scan[1].notes, self.scan[1].problems, self.hold_out)

    def preview(self, *, show: bool = True) -> None:
        """Scan the folder (worker) and list every file with its label; problems are listed too."""
        folder = self.data_panel.folder_path()
        if not folder or self._filling:
            return
        from timbre_explorer.core.data.sources import scan_folder

        self.files.show_summary(f"Reading {folder}…")
        if self.scan is None or self.scan[0] != folder:
            self.data_panel.set_instruments([], set(), f"Reading {folder}…")
        if show:
            self.files_wanted.emit()
        self.scanner.submit(lambda job: (folder, scan_folder(Path(folder).expanduser())), "scan",
                            on_done=self._scanned, on_failed=self._scan_failed)

    def _scanned(self, result) -> None:
        folder, scan = result
        if folder != self.data_panel.folder_path():
            return  # the user has typed another folder since
        new_folder = self.scan is None or self.scan[0] != folder
        self.scan = (folder, scan)
        if new_folder and self.hold_out is not None:
            names = {n.instrument for n in scan.notes}
            self.hold_out = [n for n in self.hold_out if n in names] or None
        self._fill_instruments()
        if not scan.notes:
            self._say(f"{folder}: no usable audio files found.", error=True)

    def _scan_failed(self, failed: Failed) -> None:
        self.scan = None
        self.files.show_note(failed.message)
        self._say(failed.message, error=True)

    def preview_folder_set(self, entry: str) -> None:
        """List what a folder among the sample sets holds (``philharmonia=FOLDER``, ``folder=FOLDER``), as
        training will read it (worker)."""
        from timbre_explorer.core.data.sources import entry_folder, folder_entry_source

        folder, source = entry_folder(entry), folder_entry_source(entry)
        assert folder is not None and source is not None, entry
        self.files.show_summary(f"Reading {folder}…")
        self.files_wanted.emit()
        self.set_scanner.submit(lambda job: source.scan(), "scan", on_done=partial(self._folder_set_scanned, folder),
                            on_failed=lambda failed: self._say(failed.message, error=True))

    def _folder_set_scanned(self, folder: str, scan: FolderScan) -> None:
        self.files.show_scan(scan.notes, scan.problems)
        unnamed = sum(n.pitch < 0 for n in scan.notes)
        heard = (f" {unnamed} of them, whose names give no pitch, will train at the pitch heard in them (or be skipped "
                 f"if none is)." if unnamed else "")
        self.files.show_summary(f"{folder}, beside the sample sets: {self.files.summary.text()}{heard}")
        if not scan.notes:
            self._say(f"{folder}: none of its files is a note it can read, so none would train.", error=True)

    def _browse_folder(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self._dialog_parent, "Your samples folder",
                                                          self.data_panel.folder_path())
        if path:
            self.data_panel.set_folder_path(path)
            self.data_panel.set_source("folder")
            self.preview()

    def _browse_soundfont(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self._dialog_parent, "A General MIDI SoundFont", "",
            "SoundFonts and TiMidity++ patch sets (*.sf2 *.sf3 *.cfg);;All files (*)")
        if path:
            self.data_panel.set_soundfont_path(path)
