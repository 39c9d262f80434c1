"""The Explorer tab: the views, the state the user builds, and one controller per feature.

Each feature's controller owns its side panel and its worker jobs: the map and its projection
(``map_control.py``), clicks and drags to hear (``clicks.py``), paths and morphs (``path_control.py``), the
descriptor field (``field_control.py``), the descriptor sliders and curves (``sliders.py``), the user's sounds
(``sounds.py``), the keys (``play.py``) and OSC from other software (``osc_control.py``). The tab keeps what
they share: the space, the map's state, the selected point, the path, the workers, what was played last, and the
undo history of the edits (``undo.py``); it holds nothing the core already holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.gui import memory
from timbre_explorer.gui.explorer import exports
from timbre_explorer.gui.explorer.bookmarks import BookmarkControl
from timbre_explorer.gui.explorer.clicks import ClickControl
from timbre_explorer.gui.explorer.field_control import FieldControl
from timbre_explorer.gui.explorer.map_control import MapControl
from timbre_explorer.gui.explorer.map_state import MapState
from timbre_explorer.gui.explorer.osc_control import OscControl
from timbre_explorer.gui.explorer.path_control import PathControl
from timbre_explorer.gui.explorer.paths import MapPath
from timbre_explorer.gui.explorer.play import PlayControl
from timbre_explorer.gui.explorer.preparing import prepare
from timbre_explorer.gui.explorer.results import Prepared, Sound
from timbre_explorer.gui.explorer.sliders import SliderControl
from timbre_explorer.gui.explorer.sounds import SoundControl
from timbre_explorer.gui.explorer.undo import Edits, field_change, view_change
from timbre_explorer.gui.settings import SCHEMA
from timbre_explorer.gui.views.explorer.bookmarks_panel import BookmarksPanel
from timbre_explorer.gui.views.explorer.field_panel import FieldPanel
from timbre_explorer.gui.views.explorer.map_panel import MapPanel
from timbre_explorer.gui.views.explorer.move_panel import MovePanel
from timbre_explorer.gui.views.explorer.path_panel import PathPanel
from timbre_explorer.gui.views.explorer.play_panel import PlayPanel
from timbre_explorer.gui.views.explorer.sounds_panel import SoundsPanel
from timbre_explorer.gui.views.map_view import MapView
from timbre_explorer.gui.views.spectrum_view import SpectrumView
from timbre_explorer.gui.workers import Failed, Job, LatestWorker, Progress, QueueWorker

if TYPE_CHECKING:
    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.core.synthesis.instrument import WrittenInstrument
    from timbre_explorer.core.synthesis.session import ModelRef, Session
    from timbre_explorer.core.synthesis.space import TimbreSpace


@dataclass
class SynthSettings:
    """Audio settings that shape every rendered note (the Audio menu edits them)."""

    seconds: float = SCHEMA["audio/seconds"].number
    attack: float = SCHEMA["audio/attack"].number
    release: float = SCHEMA["audio/release"].number


class ExplorerTab(QtWidgets.QWidget):
    """The Explorer tab (see the module docstring). ``audio`` is the app's one AudioEngine.

    Four workers: ``synth`` (notes, loops, paths, moves: the newest wins), ``fields`` (the descriptor field:
    the newest wins), ``tasks`` (encoding files, writing a path, what a new map prepares: each in turn, each
    answers) and ``points`` (the points gestures ask for while the map's mapping is being built: each in turn, and
    never behind ``tasks``' seconds of preparing).
    """

    sound_ready = QtCore.Signal(Sound)  # when it is handed to the audio engine
    message = QtCore.Signal(str)
    error = QtCore.Signal(str, str)  # title, text
    decoder_ready = QtCore.Signal(object)  # the TimbreSpace, once its decoder is built (the map came before it)

    def __init__(self, audio: AudioEngine, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._audio = audio
        self.space: TimbreSpace | None = None
        self.map_state: MapState | None = None
        #: what the first map does without (sliders' spans, "Instruments apart" axes): None until ``prepare`` ends
        self.prepared: Prepared | None = None
        self._decoder_said = False  # the status bar was told where this space decodes
        self._preparing: Job | None = None
        self.settings = SynthSettings()
        self.undo_stack = QtGui.QUndoStack(self)
        self.edits = Edits(self.undo_stack, self.redraw_state)
        self.path = MapPath(self.undo_stack, self.redraw_state)
        self.selected: np.ndarray | None = None
        self.last_sound: Sound | None = None
        #: asked before an edit throws work away (the Sounds' Clear), with what it would lose; True: go on. The
        #: main window sets it to its Save / Discard / Cancel question.
        self.may_discard: Callable[[str], bool] = lambda what: True
        self.synth = LatestWorker("synth", self)
        self.fields = LatestWorker("field", self)
        self.tasks = QueueWorker("task", self)
        self.points = QueueWorker("points", self)
        self._build_views()
        self.play = PlayControl(self.play_panel, audio, self)
        self.map_control = MapControl(self)
        self.click_control = ClickControl(self)
        self.path_control = PathControl(self)
        self.field_control = FieldControl(self)
        self.slider_control = SliderControl(self)
        self.sound_control = SoundControl(self)
        self.bookmarks = BookmarkControl(self)
        self.osc = OscControl(self)  # other software drives the tab over OSC (off unless the Play tab says)
        self.map_control.shown_changed.connect(self.field_control.update)
        self.edits.add("view", self.map_control.state, self.map_control.restore, view_change)
        self.edits.add("field", self.field_control.state, self.field_control.restore, field_change)
        self.edits.add("bookmarks", self.bookmarks.state, self.bookmarks.restore)
        self.edits.add("sounds", self.sound_control.state, self.sound_control.restore)
        self.edits.add("point", self.slider_control.point, self.slider_control.show_moved_point)
        self.setEnabled(False)

    def _build_views(self) -> None:
        """The map (2D, or 3D in its stack) over the spectrum, beside the feature panels' tabs."""
        self.map = MapView()
        self.spectrum = SpectrumView()
        self.map_stack = QtWidgets.QStackedWidget()
        self.map_stack.addWidget(self.map)
        self.map_panel, self.path_panel, self.field_panel = MapPanel(), PathPanel(), FieldPanel()
        self.move_panel, self.sounds_panel, self.play_panel = MovePanel(), SoundsPanel(), PlayPanel()
        self.bookmarks_panel = BookmarksPanel()
        map_page = QtWidgets.QWidget()  # the Map tab: the map's controls, then the bookmarks
        page = QtWidgets.QVBoxLayout(map_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.addWidget(self.map_panel)
        page.addWidget(self.bookmarks_panel)
        self.tabs = QtWidgets.QTabWidget()
        for panel, name in ((map_page, "Map"), (self.path_panel, "Path"), (self.field_panel, "Field"),
                            (self.move_panel, "Sliders"), (self.sounds_panel, "Sounds"), (self.play_panel, "Play")):
            scroll = QtWidgets.QScrollArea()
            scroll.setWidget(panel)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.tabs.addTab(scroll, name)
        # as wide as the widest panel needs, beside its vertical scroll bar: no panel scrolls sideways or is cut
        bar = self.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent)
        widest = max(p.minimumSizeHint().width() for p in (map_page, self.path_panel, self.field_panel,
                                                             self.move_panel, self.sounds_panel, self.play_panel))
        self.tabs.setMinimumWidth(max(360, widest + bar + 8))
        left = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        left.addWidget(self.map_stack)
        left.addWidget(self.spectrum)
        left.setStretchFactor(0, 4)
        left.setStretchFactor(1, 1)
        split = QtWidgets.QSplitter()
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([1000, 440])  # the side panels at their natural width (QSettings restores the user's)
        self.splitter = split
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

    @property
    def audio(self) -> AudioEngine:
        return self._audio

    @audio.setter
    def audio(self, engine: AudioEngine) -> None:
        """Another output device: the keys play through it too."""
        self._audio = engine
        self.play.set_engine(engine)

    # ================================================================== the space
    def set_space(self, space: TimbreSpace) -> None:
        """Show a loaded space (replacing the current one): each feature starts afresh on it, with no history."""
        self.synth.cancel()
        self.fields.cancel()
        self.play.clear()
        if self._preparing is not None:
            self._preparing.stop.set()  # the previous space's
        self.space = space
        self.map_state = MapState(space)
        self.prepared, self._decoder_said = None, False
        self.selected = None
        with self.edits.paused():
            self.path.reset()
            self.sound_control.reset()
            self.bookmarks.restore([])
            self.path_control.set_space(space)
            self.slider_control.set_space(space)
            self.click_control.set_space(space)
            self.map_control.set_space(space)  # last: it draws the map, and the field follows
        self.edits.reset()
        self.setEnabled(True)
        memory.release()  # what held the previous space is garbage now: collected
        self._preparing = self.tasks.submit(lambda j: prepare(space, j), "prepare", on_done=self._prepared,
                                            on_progress=self._preparing_progress, on_failed=self._prepare_failed)

    def _prepared(self, prepared: Prepared) -> None:
        """The deferred data arrived: the sliders get their spans, and axes asked for before them are drawn."""
        if prepared.space is not self.space:
            return
        self.prepared, self._preparing = prepared, None
        self.slider_control.set_ranges(prepared.ranges)
        self.map_control.discriminant_ready()

    def _prepare_failed(self, failed: Failed) -> None:
        """The deferred data could not be computed: said in the error dialog, and what waited for it stops waiting."""
        self._preparing = None
        self._say_if_decoder_ready()  # it may have loaded before what failed
        self.failed(failed)
        self.slider_control.show_preparing(f"The sliders have no spans: {failed.message}")
        self.map_control.discriminant_failed()

    def _say_if_decoder_ready(self) -> None:
        if self.space is not None and self.space.decoder_ready and not self._decoder_said:  # once: not per progress
            self._decoder_said = True
            self.decoder_ready.emit(self.space)

    def _preparing_progress(self, p: Progress) -> None:
        """Said where someone waits for it: on the sliders until they have their spans, in the status bar while
        the map waits for its axes."""
        self._say_if_decoder_ready()  # at once: the rest of preparing takes seconds more
        self.slider_control.show_preparing(p.text)
        if self.map_control.waiting:
            self.message.emit(p.text)

    def fit_map(self) -> None:
        """Zoom the map to the visible notes (one undo step); the field follows the new range, as after a pan."""
        self.map.fit()
        self.field_control.follow_view()
        self.edits.changed("view", "Fit the map")

    # ================================================================== sessions
    def session(self, model: ModelRef) -> Session:
        """What the user built on ``model`` (the open space's file), each feature giving its part."""
        from timbre_explorer.core.synthesis.session import Session

        return Session(model=model, view=self.map_control.state(), field=self.field_control.state(),
                       selected=None if self.selected is None else np.asarray(self.selected, np.float64).tolist(),
                       bookmarks=self.bookmarks.state(), path=self.path_control.state(),
                       sounds=self.sound_control.state(), sliders=self.slider_control.state(),
                       play=self.play.state())

    def restore_session(self, session: Session) -> list[str]:
        """Show ``session`` on the open space, each feature restoring its part, with no history; what could not
        come back: the sound files no longer there, and the parts whose points do not fit this model (one phrase
        each)."""
        assert self.space is not None
        misfits = session.problems(self.space.latent_size)
        with self.edits.paused():
            self.play.restore(session.play)
            self.slider_control.restore(session.sliders)
            self.map_control.restore(session.view)
            self.field_control.restore(session.field)
            self.selected = np.asarray(session.selected) if session.selected and "the selected point" not in \
                misfits else None
            self.bookmarks.restore(session.bookmarks if "bookmarks" not in misfits else [])
            self.path_control.restore(session.path if "the path" not in misfits else None)
            missing = self.sound_control.restore(session.sounds if "sounds" not in misfits else [])
            self.redraw_state()
        self.edits.reset()
        lost = [f"the sound file {p} is missing" for p in missing]
        if misfits:
            lost.append(f"{', '.join(misfits)} do not fit this model's {self.space.latent_size} dimensions")
        return lost

    # ================================================================== what the features share
    def redraw_state(self) -> None:
        """The selected point, the path and the user's sounds, on the map (and the 3D view), and the path's line."""
        if self.space is None:
            return
        self.map_control.draw_state(self.selected, self.path.points(), self.path.frames is None,
                                    self.sound_control.sounds)
        self.path_control.show_info()

    def play_sound(self, sound: Sound, *, loop: bool = False) -> None:
        self.last_sound = sound
        self.audio.play(sound.audio, sound.sample_rate, loop=loop)
        self.sound_ready.emit(sound)

    def failed(self, failed: Failed) -> None:
        self.error.emit("Could not finish", failed.message)

    def say_progress(self, p: Progress) -> None:
        if p.text:
            self.message.emit(p.text)

    # ================================================================== export
    def export_sound(self, path: str | Path) -> Path:
        """The last sound as WAV (atomic), with the path's JSON sidecar when it is a path."""
        if self.last_sound is None:
            raise ValueError("nothing has been played yet")
        return exports.write_sound(self.last_sound, path)

    def export_instrument(self, path: str | Path) -> QtWidgets.QProgressDialog:
        """The clicked point as an SFZ instrument and its samples, rendered and written in the task worker behind
        a progress dialog whose Cancel stops it (nothing is written then); the dialog."""
        space, z = self.space, self.selected
        if space is None or z is None:
            raise ValueError("click the map first: the instrument plays the clicked point")

        def written(w: WrittenInstrument) -> None:
            self.message.emit(f"Wrote {w.sfz} and its {w.count} samples in {w.samples.name}")

        return self._export_instruments(exports.instrument_job(space, z, path), Path(path).name, written)

    def export_bookmarks(self, folder: str | Path) -> QtWidgets.QProgressDialog:
        """Every bookmark as an SFZ instrument in ``folder`` (``NAME.sfz`` and its samples each), written together
        behind a progress dialog as :meth:`export_instrument`; the dialog."""
        space, marks = self.space, self.bookmarks.bookmarks
        if space is None or not marks:
            raise ValueError("there are no bookmarks: Ctrl+B keeps the selected point")

        def written(ws: list[WrittenInstrument]) -> None:
            self.message.emit(f"Wrote {len(ws)} instruments in {folder}: {', '.join(w.sfz.name for w in ws)}")

        job = exports.instruments_job(space, {m.name: m.z for m in marks}, folder)
        return self._export_instruments(job, f"{len(marks)} instruments", written)

    def _export_instruments(self, job_fn: Callable, what: str, written: Callable) -> QtWidgets.QProgressDialog:
        dialog = QtWidgets.QProgressDialog(f"Writing {what}…", "Cancel", 0, 100, self)
        dialog.setWindowTitle("Export instrument")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)

        def ended() -> None:
            dialog.hide()  # not close(): a closed progress dialog says it was cancelled
            dialog.deleteLater()

        def done(result: object) -> None:
            ended()
            written(result)

        def failed(f: Failed) -> None:
            ended()
            self.error.emit("Could not export the instrument", f.message)

        def progress(p: Progress) -> None:
            dialog.setValue(round(100 * p.fraction))
            dialog.setLabelText(p.text)

        job = self.tasks.submit(job_fn, "instrument", on_done=done, on_progress=progress, on_failed=failed)

        def cancelled() -> None:
            job.stop.set()
            dialog.deleteLater()
            self.message.emit(f"Export of {what} cancelled: nothing was written.")

        dialog.canceled.connect(cancelled)
        dialog.show()
        return dialog

    def export_map(self, path: str | Path) -> Path:
        """The 2-D map as PNG or SVG (by suffix), written atomically."""
        assert self.space is not None
        return exports.write_map_image(self.map, f"Timbre Explorer map: {self.space.name}", path)

    def export_csv(self, path: str | Path) -> Path:
        """Latent coordinates of every note shown (and dropped sounds), with what they are, as CSV."""
        from timbre_explorer.core.synthesis.export import write_map_csv

        state, space = self.map_state, self.space
        assert state is not None and space is not None
        x, y = state.view_dims
        prefix = self.map_panel.axis_prefix
        return write_map_csv(path, space, projection=state.projection, dims=(x, y), shown=state.mask(),
                             sounds=[(u.name, u.z) for u in self.sound_control.sounds],
                             axis_names=(f"{prefix}{x + 1}", f"{prefix}{y + 1}"))

    # ================================================================== shutdown
    def shutdown(self) -> None:
        self.osc.stop()
        self.play.shutdown()
        for w in (self.synth, self.fields, self.tasks, self.points):
            w.shutdown()
