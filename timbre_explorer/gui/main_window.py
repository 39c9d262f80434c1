"""The main window: menus, the Explorer tab, the model being explored, the one audio engine, settings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer import __version__
from timbre_explorer.audio.engine import AudioEngine, output_devices, saved_device
from timbre_explorer.core.errors import TimbreExplorerError
from timbre_explorer.gui import crash, settings
from timbre_explorer.gui.explorer.map_control import model_title
from timbre_explorer.gui.explorer.tab import ExplorerTab
from timbre_explorer.gui.sessions import CANCEL, DISCARD, SAVE, OpenedModel, SessionControl, autosave_path, open_space
from timbre_explorer.gui.trainer.tab import TrainerTab
from timbre_explorer.gui.views.widgets import export_file_name, export_folder, guard_wheel
from timbre_explorer.gui.workers import Failed, LatestWorker
from timbre_explorer.logs import log_file
from timbre_explorer.paths import default_model_path

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.guide import UserGuide
    from timbre_explorer.gui.tour import Tour

log = logging.getLogger(__name__)

MAX_RECENT = 8
MODEL_FILTER = "Timbre Explorer models (*.timbre.safetensors);;All files (*)"


class MainWindow(QtWidgets.QMainWindow):
    """Top-level window. Loads the model in a worker, so the window shows at once."""

    model_loaded = QtCore.Signal(object)  # the TimbreSpace, once drawn
    model_failed = QtCore.Signal(str)

    def __init__(self, model_path: str | Path | None = None, audio: AudioEngine | None = None):
        super().__init__()
        self.settings_note = settings.prepare()  # before any value is read: a hostile file runs nothing
        self.setWindowTitle(f"Timbre Explorer {__version__}")
        self.resize(1400, 880)
        self._audio_note = ""  # said once with the audio state: the saved device is gone
        self.audio = audio if audio is not None else self._saved_audio_engine()
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.space: TimbreSpace | None = None
        self.last_error: tuple[str, str] | None = None
        self._error_box: QtWidgets.QMessageBox | None = None
        self.tour: Tour | None = None  # Help → Tour; made when first shown
        self.guide: UserGuide | None = None  # Help → User guide

        self.explorer: ExplorerTab = ExplorerTab(self.audio)  # annotated: the tour's steps read it (import cycle)
        self.explorer.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.explorer.error.connect(self.show_error)
        self.explorer.decoder_ready.connect(self._decoder_ready)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self.explorer, "Explorer")
        self.trainer = TrainerTab()
        self.tabs.addTab(self.trainer, "Trainer")
        self.trainer.model_ready.connect(self._open_trained)
        self.setCentralWidget(self.tabs)
        self.loader = LatestWorker("model", self)
        self.sessions = SessionControl(self)
        self.model_label = QtWidgets.QLabel()
        self.audio_label = QtWidgets.QLabel()
        self.statusBar().addWidget(self.audio_label)
        self.statusBar().addPermanentWidget(self.model_label)
        self._build_menus()
        guard_wheel(self)
        self._restore_settings()
        self._show_audio_state()
        if self.settings_note:  # said once: the file is clean from now on
            self.statusBar().showMessage(self.settings_note, 20000)
        if autosave_path().is_file():  # the last session, restored where it was made on this model
            self.sessions.open(autosave_path(), start_model=self.model_path)
        else:
            self.open_model(self.model_path)

    # ------------------------------------------------------------------ menus
    def _build_menus(self) -> None:
        m = self.menuBar()
        file = m.addMenu("&File")
        self._action(file, "&Open model…", self._open_dialog, QtGui.QKeySequence.StandardKey.Open,
                     tip="Explore another timbre space (a .timbre.safetensors model file)")
        self.recent_menu = file.addMenu("Recent models")
        file.addSeparator()
        self.sessions.build_menu(file, self._action)
        file.addSeparator()
        self._action(file, "Export sound as &WAV…", self._export_sound_dialog, "Ctrl+E",
                     tip="Write the sound played last as a WAV file (a path's with its JSON)")
        self._action(file, "Export map &image (PNG/SVG)…", self._export_map_dialog, "Ctrl+Shift+E",
                     tip="Write the map as shown as a PNG picture or an SVG drawing")
        self._action(file, "Export latent &coordinates (CSV)…", self._export_csv_dialog,
                     tip="Write every note shown (and your sounds) with its latent coordinates as a CSV table")
        self._action(file, "Export &instrument (SFZ)…", self._export_instrument_dialog,
                     tip="Write the clicked point as a multi-sampled SFZ instrument that any SFZ player opens")
        self._action(file, "Export &bookmarks as instruments (SFZ)…", self._export_bookmarks_dialog,
                     tip="Write every bookmark as an SFZ instrument of its name, all into one folder")
        file.addSeparator()
        self._action(file, "&Quit", self.close, "Ctrl+Q", tip="Close the app (the work is autosaved)")  # not StandardKey.Quit: some platforms bind it to nothing
        edit = m.addMenu("&Edit")  # Undo and Redo say what they undo ("Undo Colour by family"): the stack names it
        undo = self.explorer.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts(QtGui.QKeySequence.StandardKey.Undo)
        redo = self.explorer.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts(QtGui.QKeySequence.StandardKey.Redo)  # Ctrl+Shift+Z, and the platform's own (Ctrl+Y)
        undo.setStatusTip("Undo the last edit (the entry names it)")
        redo.setStatusTip("Do again the edit undone last")
        edit.addAction(undo)
        edit.addAction(redo)
        edit.addSeparator()
        self._action(edit, "Add &bookmark", lambda: self.explorer.bookmarks.add(), "Ctrl+B",
                     tip="Keep the selected point under a name (Map tab: Bookmarks)")
        view = m.addMenu("&View")
        self._action(view, "&Fit the map", self.explorer.fit_map, "Home", tip="Zoom the map to show every note")
        self._action(view, "Toggle &3D view", lambda: self.explorer.map_panel.three_d.toggle(), "3",
                     tip="Show three components in a view you can rotate, or the flat map again")
        self._action(view, "Toggle descriptor &field", lambda: self.explorer.field_panel.field_shown.toggle(), "F",
                     tip="Colour the map by a descriptor (Field tab), or take the colours off")
        play = m.addMenu("&Play")
        # Space and Return act on the map only: elsewhere they belong to the focused button, box or field
        on_map = QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.explorer.map.addAction(self._action(play, "Play &again", self.replay, "Space", on_map,
                                                 tip="Play the last sound again (Space on the map)"))
        self._action(play, "&Stop", self.stop, "Esc", tip="Fade out every sound and let go of every key")
        self._action(play, "Play the &path", self.explorer.path_control.play_path, "P",
                     tip="Render the path as one morphing sound and play it")
        self._action(play, "&Draw a path", lambda: self.explorer.path_panel.draw_button.toggle(), "D",
                     tip="Draw a new path: click points on the map, double-click or Enter to end")
        self.explorer.map.addAction(self._action(play, "Finish drawing",
                                                 lambda: self.explorer.path_panel.draw_button.setChecked(False),
                                                 "Return", on_map, tip="End the path being drawn (Enter on the map)"))
        audio = m.addMenu("&Audio")
        self._action(audio, "Audio &settings…", self._audio_dialog, "Ctrl+,",
                     tip="The output device, volume, note duration, attack and release")
        help_ = m.addMenu("&Help")
        self._action(help_, "&Tour", self.start_tour, tip="A few steps through the map, Play, Path and Sliders")
        self._action(help_, "&User guide", self.show_guide, QtGui.QKeySequence.StandardKey.HelpContents,
                     tip="The tour of the Explorer and the Trainer, with pictures")
        self._action(help_, "&About", self._about, tip="The version, the paper it follows and the log file")

    def _action(self, menu, text, slot, shortcut=None,
                context: QtCore.Qt.ShortcutContext = QtCore.Qt.ShortcutContext.WindowShortcut, *,
                tip: str = "") -> QtGui.QAction:
        """A menu entry; ``tip`` says what it does in the status bar while the entry is under the mouse."""
        action = QtGui.QAction(text, self)
        action.setStatusTip(tip)
        if shortcut is not None:
            action.setShortcut(QtGui.QKeySequence(shortcut))
            action.setShortcutContext(context)
        action.triggered.connect(lambda *_: slot())
        menu.addAction(action)
        return action

    # ------------------------------------------------------------------ models
    def open_model(self, path: str | Path) -> None:
        """Load ``path`` in the background; the current space stays until the new one is ready. Asked first
        when the bookmarks, path or sounds are not saved in a session."""
        path = Path(path)
        if not self.sessions.may_discard("opening another model"):
            return
        self.model_label.setText(f"Loading {path.name}…")
        self.loader.submit(lambda j: open_space(path), "model", on_done=self._loaded, on_failed=self._load_failed)

    def _open_trained(self, path: str) -> None:
        """The Trainer's "Open in Explorer": the model, shown in the Explorer."""
        self.open_model(path)
        self.tabs.setCurrentWidget(self.explorer)

    def _loaded(self, opened: OpenedModel) -> None:
        """Replace the open space with one the worker opened and validated in full (the Explorer first: the
        window's own state changes only once it is shown), and restore the session that came with it."""
        space = opened.space
        assert space.path is not None  # opened from its file
        self.explorer.set_space(space)
        self.space = space
        self.model_path = space.path
        self.model_label.setText(space.summary())
        self._remember(space.path)
        self.setWindowTitle(f"{model_title(space)} ({space.path}) - Timbre Explorer {__version__}")
        log.info("ready: %s", space.summary())
        self.sessions.restore(opened)
        self.model_loaded.emit(space)

    def _decoder_ready(self, space: TimbreSpace) -> None:
        """The status bar's summary, now saying where the space decodes."""
        if space is self.space:
            self.model_label.setText(space.summary())

    def _load_failed(self, failed: Failed) -> None:
        text = failed.message
        self.model_label.setText(self.space.summary() if self.space else "No model loaded")
        self.show_error("Could not open the model", text + ("\n\nThe current model stays open." if self.space else ""))
        self.model_failed.emit(text)

    def _open_dialog(self) -> None:
        start = str(self.model_path.parent) if self.model_path else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a timbre space", start, MODEL_FILTER)
        if path:
            self.open_model(path)

    def _remember(self, path: Path) -> None:
        recent = [p for p in settings.read("recent_models") if p != str(path)]
        recent = [str(path)] + recent[:MAX_RECENT - 1]
        settings.write("recent_models", recent)
        self._fill_recent(recent)

    def _fill_recent(self, recent: list[str]) -> None:
        self.recent_menu.clear()
        for p in recent:
            action = self.recent_menu.addAction(p)
            action.setStatusTip(f"Open the model {p}")
            action.triggered.connect(lambda *_, p=p: self.open_model(p))
        self.recent_menu.setEnabled(bool(recent))

    # ------------------------------------------------------------------ sound
    def replay(self) -> None:
        if self.explorer.last_sound is not None:
            self.audio.play(self.explorer.last_sound.audio, self.explorer.last_sound.sample_rate)

    def stop(self) -> None:
        """Esc: the sound fades out, and every key and MIDI note is let go."""
        self.audio.stop()
        self.explorer.play.player.all_notes_off()

    def set_audio(self, engine: AudioEngine) -> None:
        """Switch to another audio engine (another device), closing the old one."""
        old, self.audio = self.audio, engine
        self.explorer.audio = engine
        old.close()
        self._show_audio_state()

    def _saved_audio_engine(self) -> AudioEngine:
        """The engine on the device the user chose last time (saved by name: indices change between sessions)."""
        device, self._audio_note = saved_device(settings.read("audio/device"), output_devices())
        return AudioEngine(device=device)

    def _show_audio_state(self) -> None:
        """Said once, and kept in view: a missing output is a line in the status bar, never a dialog."""
        text = f"{self._audio_note} {self.audio.status}".strip()
        self.audio_label.setText("" if self.audio.available else text)
        self.audio_label.setVisible(not self.audio.available)
        if self.audio.available:
            self.statusBar().showMessage(text, 8000)
        self._audio_note = ""

    def _audio_dialog(self) -> None:
        from timbre_explorer.gui.audio_settings import AudioSettingsDialog

        dialog = AudioSettingsDialog(self, self.audio, self.explorer.settings)
        dialog.device_chosen.connect(self._switch_device)
        dialog.open()

    def _switch_device(self, device) -> None:
        engine = AudioEngine(device=device)
        engine.volume = self.audio.volume
        if engine.available:
            self.set_audio(engine)
            settings.write("audio/device", engine.device_name)
        else:
            self.show_error("Audio device", f"{engine.status}\nThe previous output stays in use.")

    # ------------------------------------------------------------------ export
    def _export_sound_dialog(self) -> None:
        if self.explorer.last_sound is None:
            self.statusBar().showMessage("Play something first: click the map.", 5000)
            return
        path = export_file_name(self, "Export the sound", "sound.wav", "WAV (*.wav)")
        if path:
            self._try(lambda: self.explorer.export_sound(path), f"Wrote {path}")

    def _export_map_dialog(self) -> None:
        path = export_file_name(self, "Export the map", "map.png", "PNG (*.png);;SVG (*.svg)")
        if path:
            self._try(lambda: self.explorer.export_map(path), f"Wrote {path}")

    def _export_csv_dialog(self) -> None:
        path = export_file_name(self, "Export coordinates", "latent.csv", "CSV (*.csv)")
        if path:
            self._try(lambda: self.explorer.export_csv(path), f"Wrote {path}")

    def _export_instrument_dialog(self) -> None:
        if self.explorer.selected is None:
            self.statusBar().showMessage("Click the map first: the instrument plays the clicked point.", 5000)
            return
        path = export_file_name(self, "Export the clicked point as an SFZ instrument", "instrument.sfz",
                                "SFZ instrument (*.sfz)")
        if path:
            sfz = Path(path) if path.lower().endswith(".sfz") else Path(f"{path}.sfz")
            self._try(lambda: self.explorer.export_instrument(sfz), f"Writing {sfz.name} and its samples…")

    def _export_bookmarks_dialog(self) -> None:
        if not self.explorer.bookmarks.bookmarks:
            self.statusBar().showMessage("No bookmarks yet: Ctrl+B keeps the selected point.", 5000)
            return
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Export every bookmark as an SFZ instrument into",
                                                            export_folder())
        if folder:
            settings.write("export/folder", folder)
            self._try(lambda: self.explorer.export_bookmarks(folder), "Writing the bookmarks' instruments…")

    def _try(self, fn, done: str) -> None:
        try:
            fn()
        except (OSError, ValueError, TimbreExplorerError) as exc:
            self.show_error("Could not write the file", str(exc))
        else:
            self.statusBar().showMessage(done, 6000)

    # ------------------------------------------------------------------ messages
    def show_error(self, title: str, text: str) -> None:
        """One non-blocking dialog at a time: a second error replaces the text of the first, and while the
        unexpected-error dialog is open (``gui/crash.py``) errors go to the status bar instead."""
        self.last_error = (title, text)
        log.warning("%s: %s", title, text)
        if crash.showing():
            self.statusBar().showMessage(f"{title}: {text}", 10000)
            return
        if self._error_box is not None and self._error_box.isVisible():
            self._error_box.setText(text)
            self._error_box.setWindowTitle(title)
            return
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, text,
                                    QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        box.open()
        self._error_box = box

    def start_tour(self) -> None:
        """The tour's steps from the first (``gui/tour.py``); ``app.run`` starts it at the first start."""
        from timbre_explorer.gui.tour import Tour

        if self.tour is None:
            self.tour = Tour(self)
        self.tour.start()

    def show_guide(self) -> None:
        """The README's tour in a window of its own (``gui/guide.py``), made once, brought forward after."""
        from timbre_explorer.gui.guide import UserGuide

        if self.guide is None:
            self.guide = UserGuide(self)
        self.guide.show()
        self.guide.activateWindow()  # brought forward when it is already open

    def _about(self) -> None:
        QtWidgets.QMessageBox.about(
            self, "Timbre Explorer",
            f"<b>Timbre Explorer {__version__}</b><p>A generative timbre space after P. Esling, "
            "A. Chemla-Romeu-Santos &amp; A. Bitton, <i>Generative timbre spaces: regularizing variational "
            "auto-encoders with perceptual metrics</i>, DAFx 2018.</p>"
            f"<p>Log file: {log_file() or 'none'}</p>")

    # ------------------------------------------------------------------ settings and shutdown
    def _restore_settings(self) -> None:
        """The last session's window and sound, each value through the schema (``gui/settings.py``)."""
        geometry, splitter = settings.read("window/geometry"), settings.read("window/splitter")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if splitter is not None:
            self.explorer.splitter.restoreState(splitter)
        st = self.explorer.settings
        st.seconds = settings.read("audio/seconds")
        st.attack = settings.read("audio/attack")
        st.release = settings.read("audio/release")
        self.audio.volume = settings.read("audio/volume")
        self._fill_recent(settings.read("recent_models"))

    def save_settings(self) -> None:
        settings.write("settings_version", 1)
        settings.write("window/geometry", self.saveGeometry())
        settings.write("window/splitter", self.explorer.splitter.saveState())
        st = self.explorer.settings
        settings.write("audio/seconds", st.seconds)
        settings.write("audio/attack", st.attack)
        settings.write("audio/release", st.release)
        settings.write("audio/volume", self.audio.volume)

    def closeEvent(self, event) -> None:
        """Asked first when work is not saved (Cancel keeps the window); the autosave is written, or removed
        when the work is discarded."""
        answer = self.sessions.ask(self, "quitting") if self.sessions.unsaved() else SAVE
        if answer == CANCEL or (answer == SAVE and self.sessions.unsaved() and not self.sessions.save()):
            event.ignore()
            return
        self.sessions.timer.stop()
        if answer == DISCARD:
            self.sessions.discard_autosave()
        else:
            self.sessions.autosave(now=True)
        self.save_settings()
        self.loader.shutdown()
        self.trainer.shutdown()
        self.explorer.shutdown()
        self.audio.close()
        super().closeEvent(event)
