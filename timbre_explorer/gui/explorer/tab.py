"""The Explorer tab: the controller between the views (``gui/views``) and the core.

It reads the side panels into the map's state (``map_state.py``), hands every
computation to a worker with the handler of its answer, and shows and plays
what comes back. It keeps the state the user builds (selected point, path,
dropped sounds) and nothing the core already holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.gui.explorer import exports
from timbre_explorer.gui.settings import SCHEMA
from timbre_explorer.gui.explorer.map_state import MODES, PLANE, Filters, MapState, family_groups
from timbre_explorer.gui.explorer.paths import MapPath
from timbre_explorer.gui.explorer.play import PlayControl
from timbre_explorer.gui.explorer.results import EncodedSounds, Exported, Moved, NoteSound, PathSound, Sound
from timbre_explorer.gui.views.explorer.field_panel import FieldPanel
from timbre_explorer.gui.views.explorer.map_panel import MapPanel
from timbre_explorer.gui.views.explorer.move_panel import MovePanel
from timbre_explorer.gui.views.explorer.path_panel import PathPanel
from timbre_explorer.gui.views.explorer.play_panel import PlayPanel
from timbre_explorer.gui.views.explorer.sounds_panel import SoundsPanel
from timbre_explorer.gui.views.map_view import MapView, colour
from timbre_explorer.gui.views.spectrum_view import SpectrumView
from timbre_explorer.gui.views.widgets import export_file_name
from timbre_explorer.gui.workers import Failed, LatestWorker, Progress, QueueWorker

log = logging.getLogger(__name__)

SELECTED = "Selected point"
SCRUB_INTERVAL_MS = 30
#: The paths a job computes as latent frames, and the name of the undo step that puts them on the map.
FRAME_EDITS = {"morph": "Morph notes", "descriptor": "Descriptor curve"}


@dataclass
class SynthSettings:
    """Audio settings that shape every rendered note (the Audio menu edits them)."""

    seconds: float = SCHEMA["audio/seconds"].default
    attack: float = SCHEMA["audio/attack"].default
    release: float = SCHEMA["audio/release"].default


def held_level_dbfs(audio: np.ndarray) -> float:
    """The RMS level (dBFS) of the middle half of a sound: a held note's sustain, past its attack, before its
    release."""
    a = np.asarray(audio, np.float64)
    body = a[len(a) // 4: 3 * len(a) // 4] if len(a) >= 4 else a
    return float(20 * np.log10(np.sqrt(np.mean(body ** 2)) + 1e-12)) if body.size else -240.0


@dataclass
class UserSound:
    name: str
    z: np.ndarray
    trajectory: np.ndarray
    nearest: list = field(default_factory=list)
    pitch: float | None = None  # estimated (MIDI), None when unpitched
    loudness_db: float | None = None  # measured RMS level of its sounding part, dBFS
    path: str = ""  # the file, to audition it as it is


class ExplorerView(QtWidgets.QWidget):
    """The Explorer tab (see the module docstring). ``audio`` is the app's one AudioEngine.

    Three workers: ``synth`` (notes, loops, paths, moves: the newest wins), ``fields`` (the descriptor field:
    the newest wins) and ``tasks`` (encoding files, writing a path: each in turn, each answers).
    """

    sound_ready = QtCore.Signal(object)  # Sound, when it is handed to the audio engine
    field_ready = QtCore.Signal(object)  # core.synthesis.fields.Field, the final one of a request
    sounds_added = QtCore.Signal(int)
    message = QtCore.Signal(str)
    error = QtCore.Signal(str, str)  # title, text

    def __init__(self, audio, parent=None):
        super().__init__(parent)
        self._audio = audio
        self.space = None
        self.map_state: MapState | None = None
        self.settings = SynthSettings()
        self.undo_stack = QtGui.QUndoStack(self)
        self.path = MapPath(self.undo_stack, self._redraw_state)
        self.selected: np.ndarray | None = None
        self.user_sounds: list[UserSound] = []
        self.last_sound: Sound | None = None
        self._view3d = None
        self._scrub_pos: tuple[float, float] | None = None

        self.synth = LatestWorker("synth", self)
        self.fields = LatestWorker("field", self)
        self.tasks = QueueWorker("task", self)

        self.map = MapView()
        self.map.clicked.connect(self.play_at)
        self.map.scrub_started.connect(self._scrub_start)
        self.map.scrubbed.connect(self._scrub_move)
        self.map.scrub_finished.connect(self._scrub_end)
        self.map.vertex_added.connect(self.add_vertex)
        self.map.path_finished.connect(lambda: self.path_panel.draw_button.setChecked(False))
        self.map.hovered.connect(self._hover)
        self.map.files_dropped.connect(self.add_sounds)
        self.map.plotItem.vb.sigRangeChangedManually.connect(lambda *_: self._field_timer.start())
        self.spectrum = SpectrumView()
        self.map_stack = QtWidgets.QStackedWidget()
        self.map_stack.addWidget(self.map)

        self.map_panel = MapPanel()
        self.path_panel = PathPanel()
        self.field_panel = FieldPanel()
        self.move_panel = MovePanel()
        self.sounds_panel = SoundsPanel()
        self.play_panel = PlayPanel()
        self.play = PlayControl(self.play_panel, audio, self)
        self.play.cursor_moved.connect(self._cursor_moved)
        self.tabs = QtWidgets.QTabWidget()
        for panel, name in ((self.map_panel, "Map"), (self.path_panel, "Path"), (self.field_panel, "Field"),
                            (self.move_panel, "Sliders"), (self.sounds_panel, "Sounds"), (self.play_panel, "Play")):
            scroll = QtWidgets.QScrollArea()
            scroll.setWidget(panel)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            self.tabs.addTab(scroll, name)
        self.tabs.setMinimumWidth(360)

        self.map_panel.projection_changed.connect(self._projection_changed)
        self.map_panel.filter_changed.connect(self._filters_edited)
        self.map_panel.overlays_changed.connect(self._draw_overlays)
        self.map_panel.set_modes(MODES)
        self.map_panel.depth_mode.currentIndexChanged.connect(self._mode_changed)
        self.path_panel.set_requested.connect(self.set_path_ends)
        self.path_panel.draw_toggled.connect(self._draw_toggled)
        self.path_panel.clear_requested.connect(self.path.clear)
        self.path_panel.play_requested.connect(self.play_path)
        self.path_panel.export_requested.connect(self._export_path_dialog)
        self.path_panel.morph_requested.connect(self.morph_notes)
        self.field_panel.changed.connect(self.update_field)
        self.move_panel.target_changed.connect(self.move_to)
        self.move_panel.curve_requested.connect(self.render_curve)
        self.sounds_panel.add_requested.connect(self._add_sounds_dialog)
        self.sounds_panel.sound_activated.connect(self._play_user_sound)
        self.sounds_panel.original_requested.connect(self.play_original)
        self.sounds_panel.clear_requested.connect(self.clear_sounds)

        self._field_timer = QtCore.QTimer(self, singleShot=True, interval=250)
        self._field_timer.timeout.connect(self.update_field)
        self._scrub_timer = QtCore.QTimer(self, interval=SCRUB_INTERVAL_MS)
        self._scrub_timer.timeout.connect(self._scrub_tick)

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
        self.setEnabled(False)

    @property
    def audio(self):
        return self._audio

    @audio.setter
    def audio(self, engine) -> None:
        """Another output device: the keys play through it too."""
        self._audio = engine
        self.play.set_engine(engine)

    # ================================================================== the space
    def set_space(self, space) -> None:
        """Show a loaded :class:`~timbre_explorer.core.synthesis.space.TimbreSpace` (replacing the current one)."""
        from timbre_explorer.core.signal.descriptors import band_weights
        from timbre_explorer.core.synthesis.reach import CURVES, METHODS
        from timbre_explorer.core.synthesis.synth import INTERPOLATIONS

        self.synth.cancel()
        self.fields.cancel()
        self.play.clear()
        self.space = space
        self.map_state = MapState(space)
        self.selected = None
        self.path.reset()
        self.user_sounds = []
        self.sounds_panel.list.clear()
        self.map_panel.set_space(space)
        self.map_panel.model.setText(f"Model: {model_title(space)}\n{space.path}")
        trained = [n for i, n in enumerate(space.instruments) if n in space.centroids]
        self.path_panel.set_ends([SELECTED] + trained)
        self.path_panel.set_modes(INTERPOLATIONS)
        for chooser in (self.path_panel.morph_from, self.path_panel.morph_to):
            chooser.set_choices(space.instruments, space.dynamics)
        self.path_panel.morph_to.instrument.setCurrentIndex(min(1, len(space.instruments) - 1))
        self.move_panel.set_choices(METHODS, CURVES)
        d = space.decoded_descriptors
        self.move_panel.set_ranges({k: (float(np.percentile(v, 1)), float(np.percentile(v, 99))) for k, v in d.items()})
        self.spectrum.set_frequencies(band_weights(space.nsgt).frequency)
        self.spectrum.clear()
        self.spectrum.title.setText("Click the map to hear a point; drag to play continuously.")
        self.map._fitted = False
        self._projection_changed()
        self.setEnabled(True)
        self.tasks.submit(lambda j: _warm(space), "warm", on_failed=self._failed)

    # ------------------------------------------------------------------ projection and filters
    def _read_map_panel(self) -> None:
        """The Map tab's choices into the map's state."""
        p, state = self.map_panel, self.map_state
        if state is None:
            return
        state.dims = p.dims()[:3]
        state.depth = p.depth.value()
        state.mode = p.depth_mode.currentData()
        state.filters = Filters(instruments=p.checked_instruments(), pitch=(p.pitch_low.value(), p.pitch_high.value()),
                                dynamics={d for d in self.space.dynamics if p.dynamics.get(d) is None
                                          or p.dynamics[d].isChecked()})

    def _mode_changed(self) -> None:
        """Clicks and the field take their hidden components elsewhere: the field is decoded again."""
        self._read_map_panel()
        self.update_field()

    def _projection_changed(self) -> None:
        if self.space is None:
            return
        state, p = self.map_state, self.map_panel
        shown_before = (state.projection, state.view_dims)
        basis = p.basis.currentData()
        discriminant = basis == "discriminant"
        if state.set_projection(self.space.discriminant_projection if discriminant else self.space.projection):
            p.set_axes(state.projection.explained, "LD" if discriminant else "PC")
        self._read_map_panel()
        p.depth_label.setText(f"{state.depth_value():+.2f}")
        ex = state.projection.explained
        a, b, z = state.dims
        p.variance.setText(f"The map shows {100 * (ex[a] + ex[b]):.1f}% of the latent variance "
                           f"(3D: {100 * (ex[a] + ex[b] + ex[z]):.1f}%).")
        names = [p.axes[k].currentText() for k in range(3)]
        self.map.setLabel("bottom", names[0])
        self.map.setLabel("left", names[1])
        classes, brushes = self._colours()
        self.map.set_points(state.coords[:, list(state.view_dims)], classes, brushes)
        if state.projection is not shown_before[0] or state.view_dims != shown_before[1]:
            self.map.fit()  # other axes: the old range would show another part of the plane
        self._filter_changed()
        self._draw_overlays()
        self._redraw_state()
        self._show_3d(p.three_d.isChecked(), names)
        self.update_field()

    def _colours(self) -> tuple[np.ndarray, list]:
        """A colour class per note and the brush of each class, for the "colour by" choice (its key shown)."""
        import pyqtgraph as pg

        from timbre_explorer.core.data.instruments import pitch_name

        n, s, by = self.space.notes, self.space, self.map_panel.colour_by.currentText()
        if by == "pitch" or by == "dynamic":
            values = n.pitch if by == "pitch" else n.dynamic
            lo, hi = (21, 108) if by == "pitch" else (0, max(len(s.dynamics) - 1, 1))
            cmap = pg.colormap.get("plasma")
            colours = [cmap.map(min(max((v - lo) / (hi - lo), 0), 1), mode="qcolor") for v in range(lo, hi + 1)]
            unknown = QtGui.QColor("#7f7f7f")
            classes = np.where(values >= 0, np.clip(values, lo, hi) - lo, len(colours))
            if by == "pitch":
                key = [(pitch_name(v), colours[v - lo]) for v in range(lo, hi + 1, 12)]
            else:
                key = [(d, colours[k]) for k, d in enumerate(s.dynamics)]
            self.map_panel.set_colour_key(key + [("unknown", unknown)])
            self.map_panel.colour_legend(None)
            return classes, [pg.mkBrush(c) for c in colours + [unknown]]
        if by == "family":
            families = [g.family for g in family_groups(s.families)]
            classes = np.array([families.index(f) for f in s.families])[n.instrument]
            self.map_panel.set_colour_key([(f, colour(k)) for k, f in enumerate(families)])
            self.map_panel.colour_legend({f: colour(k) for k, f in enumerate(families)})
            return classes, [pg.mkBrush(colour(i)) for i in range(len(families))]
        self.map_panel.colour_legend(None)
        if by == "source":
            self.map_panel.set_colour_key([(name, colour(k)) for k, name in enumerate(s.sources)])
            return n.source, [pg.mkBrush(colour(i)) for i in range(len(s.sources))]
        self.map_panel.set_colour_key([])
        return n.instrument, [pg.mkBrush(colour(i)) for i in range(len(s.instruments))]

    def _name_colours(self, names: list[str]) -> list[QtGui.QColor]:
        """The colour of each instrument's name on the map: its family's when the map is coloured by family, else
        its own (the legend's)."""
        s = self.space
        if self.map_panel.colour_by.currentText() == "family":
            families = [g.family for g in family_groups(s.families)]
            return [colour(families.index(s.families[s.instruments.index(n)])) for n in names]
        return [colour(s.instruments.index(n)) for n in names]

    def _filter_changed(self) -> None:
        if self.space is None:
            return
        self._read_map_panel()
        mask = self.map_state.mask()
        self.map.set_visible(mask)
        self._draw_labels(mask)
        if self._view3d is not None:
            self._view3d.set_visible(mask)
        if not mask.all():
            self.message.emit(f"{int(mask.sum())} of {len(mask)} notes shown")

    def _filters_edited(self) -> None:
        """Off the plane, the hidden components come from the notes shown: the field follows the filters."""
        self._filter_changed()
        if self.map_state is not None and self.map_state.mode != PLANE:
            self.update_field()

    def _draw_labels(self, mask: np.ndarray) -> None:
        """The instruments' names at their centroids, for the instruments with notes shown (``mask``); with many
        shown, the rated ones' alone (``MapState.labelled``)."""
        s = self.space
        names = self.map_state.labelled(mask)
        index = [s.instruments.index(n) for n in names]
        notes = np.bincount(s.notes.instrument[mask], minlength=len(s.instruments))[index]
        xy = self.map_state.to_view(np.stack([s.centroids[n] for n in names])) if names else np.zeros((0, 2))
        self.map.set_labels(names, xy, self._name_colours(names), notes)

    def _draw_overlays(self) -> None:
        s = self.space
        if s is None:
            return
        state = self.map_state
        self.map.show_labels(self.map_panel.show_labels.isChecked())
        if self.map_panel.show_mds.isChecked():
            self.map.set_mds(*s.perceptual_overlay(state.view_dims, state.projection))
        else:
            self.map.set_mds(None)
        if self.map_panel.show_pairs.isChecked():
            segments = []
            for a, b, r in s.pair_agreement():
                t = float(np.clip(r, -1, 1))
                c = (QtGui.QColor.fromRgbF(1.0, 1 - t, 1 - t, 0.8) if t > 0
                     else QtGui.QColor.fromRgbF(1 + t, 1 + t, 1.0, 0.8))
                segments.append((state.to_view(s.centroids[a]), state.to_view(s.centroids[b]), c))
            self.map.set_pair_lines(segments)
        else:
            self.map.set_pair_lines(None)

    def _show_3d(self, on: bool, names: list[str]) -> None:
        if on and self._view3d is None:
            try:
                from timbre_explorer.gui.views.map3d_view import Map3DView

                self._view3d = Map3DView()
            except Exception as exc:  # no OpenGL on this display
                log.warning("3D view unavailable: %s", exc)
                self.error.emit("3D view", f"The 3D view needs OpenGL, which this display does not offer ({exc}).")
                self.map_panel.three_d.setChecked(False)
                return
            self._view3d.point_clicked.connect(self._clicked_3d)
            self.map_stack.addWidget(self._view3d)
        if on:
            s, state = self.space, self.map_state
            classes, brushes = self._colours()
            rgba = np.array([b.color().getRgbF() for b in brushes])[classes]
            self._view3d.set_points(state.coords[:, list(state.dims)], rgba)
            self._view3d.set_visible(state.mask())
            cn = state.labelled(state.mask())
            self._view3d.set_labels(cn, state.to_xyz(np.stack([s.centroids[n] for n in cn])) if cn else
                                    np.zeros((0, 3)))
            self._view3d.set_axis_labels(tuple(names))
            self._view3d.set_path(self._path_xyz())
            self.map_stack.setCurrentWidget(self._view3d)
        else:
            self.map_stack.setCurrentWidget(self.map)

    def _path_xyz(self):
        pts = self.path.points()
        return None if pts is None else self.map_state.to_xyz(pts)

    def _clicked_3d(self, index: int) -> None:
        self.play_z(self.space.notes.z[index], self._note_title(index))

    def _hover(self, index: int) -> None:
        if index < 0 or self.space is None:
            self.map.setToolTip("")
            return
        self.map.setToolTip(self._note_title(index, detail=True))

    def _note_title(self, index: int, *, detail: bool = False) -> str:
        s, n = self.space, self.space.notes
        from timbre_explorer.core.data.instruments import pitch_name

        dyn = s.dynamics[n.dynamic[index]] if n.dynamic[index] >= 0 else "?"
        pitch = int(n.pitch[index])
        text = f"{s.instruments[n.instrument[index]]} {pitch_name(pitch) if pitch >= 0 else '(pitch ?)'} {dyn}"
        if detail:
            text += (f"\nsplit: {s.splits[n.split[index]]}\nfrom: {s.sources[n.source[index]]} "
                     f"(MIDI {int(n.pitch[index])})")
        return text

    # ================================================================== click to hear
    def play_at(self, x: float, y: float) -> None:
        """Decode the point under ``(x, y)`` and play it as a held note."""
        if self.space is None:
            return
        z = self.map_state.latent_at(x, y)
        name, distance = self.space.nearest_instruments(z, 1, trained_only=False)[0]
        # named by the instrument whose centre is nearest in the latent space, which is what plays: the nearest
        # single note on the map may be another instrument's (hovering names notes)
        self.play_z(z, f"Near {name} ({distance:.2f} from its centre)")

    def play_z(self, z, title: str, *, pitch: float | None = None, level_db: float | None = None) -> None:
        """Play latent point ``z``: at the Play tab's pitch and dynamic, or at ``pitch`` and the loudness
        ``level_db`` (dBFS RMS: a user's sound as it was measured) when given."""
        from timbre_explorer.core.data.instruments import pitch_name
        from timbre_explorer.core.synthesis.gestures import point_note
        from timbre_explorer.core.synthesis.synth import Envelope

        space, st = self.space, self.settings
        z = np.asarray(z, np.float64)
        self.selected = z
        self._redraw_state()

        panel_pitch, dynamic = self.play.pitch_and_dynamic(space)
        pitch = panel_pitch if pitch is None else pitch
        shown = title
        if space.conditioned:  # a played note: the Play tab's pitch and dynamic (or the sound's level)
            shown += f", played at {pitch_name(round(pitch))}" + ("" if level_db is not None else f" {dynamic}")

        def job(j) -> NoteSound:
            n = point_note(space, z, pitch=pitch, dynamic=dynamic, seconds=st.seconds,
                           envelope=Envelope(st.attack, st.release), level_db=level_db)
            return NoteSound(Sound(n.samples, n.sample_rate, shown, z=z), n.frame, n.descriptors, note=n,
                             keys_title=title)

        # the keys follow once the click sounds: their notes then take no time from the click's, and reuse it
        self.synth.submit(job, "note", on_done=self._note_played, on_failed=self._failed)

    def _cursor_moved(self, fx: float | None, fy: float | None) -> None:
        """An assigned MIDI controller moved the cursor across the visible map: the keys play the point there."""
        if self.space is None:
            return
        (x0, x1), (y0, y1) = self.map.plotItem.vb.viewRange()
        x, y = self.map_state.to_view(self.selected) if self.selected is not None else ((x0 + x1) / 2, (y0 + y1) / 2)
        x = x0 + fx * (x1 - x0) if fx is not None else x
        y = y0 + fy * (y1 - y0) if fy is not None else y
        self.selected = self.map_state.latent_at(x, y)
        self._redraw_state()
        self.play.set_point(self.space, self.selected, f"Point ({x:+.2f}, {y:+.2f})")

    def _scrub_start(self, x: float, y: float) -> None:
        self._scrub_pos = (x, y)
        self._scrub_last = None
        self._scrub_timer.start()
        self._scrub_tick()

    def _scrub_move(self, x: float, y: float) -> None:
        self._scrub_pos = (x, y)

    def _scrub_end(self, x: float, y: float) -> None:
        self._scrub_timer.stop()
        self._scrub_pos = None
        self.synth.cancel()
        self.audio.stop()

    def _scrub_tick(self) -> None:
        """At most every 30 ms: render a short seamless loop of the point under the cursor (the newest wins)."""
        if self._scrub_pos is None or self._scrub_pos == self._scrub_last or self.space is None:
            return
        self._scrub_last = self._scrub_pos
        from timbre_explorer.core.synthesis.synth import loop

        space = self.space
        z = self.map_state.latent_at(*self._scrub_pos)
        self.selected = z
        self.map.set_marker(self.map_state.to_view(z))

        def job(j) -> NoteSound:
            frame = space.decode(z)
            sound = Sound(loop(space, frame), space.sample_rate, "Scrubbing", z=z)
            return NoteSound(sound, frame.numpy(), _floats(space.describe(frame)), loop=True)

        self.synth.submit(job, "loop", on_done=self._note_played, on_failed=self._failed)

    def _note_played(self, r: NoteSound) -> None:
        self._play(r.sound, loop=r.loop)
        self.spectrum.show_frame(r.frame, r.descriptors, r.sound.title, played_dbfs=held_level_dbfs(r.sound.audio))
        if r.keys_title and self.space is not None:  # the keys play the last clicked point
            self.play.set_point(self.space, r.sound.z, r.keys_title, made=r.note)
        if not r.loop:
            self.move_panel.show_values(r.descriptors)
            self.move_panel.status.setText("Move a slider: the point moves to reach it, keeping its timbre.")

    # ================================================================== paths
    def _end_point(self, text: str) -> np.ndarray | None:
        if text == SELECTED:
            return self.selected
        return self.space.centroids.get(text)

    def set_path_ends(self) -> None:
        a = self._end_point(self.path_panel.start.currentText())
        b = self._end_point(self.path_panel.end.currentText())
        if a is None or b is None:
            self.message.emit("Click the map first: the path starts or ends at the selected point.")
            return
        self.path.edit([np.asarray(a), np.asarray(b)], "Set path")

    def add_vertex(self, x: float, y: float) -> None:
        self.path.add(self.map_state.latent_at(x, y))

    def _draw_toggled(self, on: bool) -> None:
        self.map.tool = "draw" if on else "play"
        if on:
            self.path.start_drawing()
            self.message.emit("Drawing: click to add points, double-click or Enter to finish.")

    def path_spec(self):
        """The path with the Path tab's interpolation and duration, or None without one."""
        return self.path.spec(mode=self.path_panel.mode.currentData(), seconds=self.path_panel.seconds.value(),
                              model=self.space.name)

    def play_path(self) -> None:
        spec = self.path_spec()
        if spec is None:
            self.message.emit("No path: set one on the Path tab, or draw it on the map.")
            return
        from timbre_explorer.core.synthesis.pathfile import render_spec, spec_frames, walked_on

        space, surface = self.space, self.map_state.path_surface()

        def job(j) -> PathSound:
            walked = walked_on(space, spec, surface)  # on the data, as the map's clicks (not in the plane mode)
            frames = spec_frames(space, walked)
            audio = render_spec(space, walked, cancel=j.cancelled,  # a long path stops for a new click, or a quit
                                progress=lambda done: j.progress(done, f"Rendering the path… {done:.0%}"))
            where = ", on the data" if walked is not spec else ""
            title = f"Path ({spec.kind}, {spec.mode}{where}, {spec.seconds:g} s)"
            return PathSound(Sound(audio, space.sample_rate, title, path_spec=walked), space.decode(frames).numpy())

        self.synth.submit(job, "path", on_done=self._path_played, on_progress=self._say_progress,
                          on_failed=self._failed)

    def morph_notes(self) -> None:
        from timbre_explorer.core.synthesis.gestures import morph_spec
        from timbre_explorer.core.synthesis.pathfile import render_spec

        space = self.space
        a, b = self.path_panel.morph_from.spec(), self.path_panel.morph_to.spec()
        mode, seconds = self.path_panel.mode.currentData(), float(self.path_panel.seconds.value())

        def job(j) -> PathSound | None:
            j.progress(0.1, "rendering the notes")
            spec = morph_spec(space, a, b, mode=mode, seconds=seconds)
            if j.cancelled():
                return None
            j.progress(0.5, "rendering the morph")
            audio = render_spec(space, spec, cancel=j.cancelled)
            return PathSound(Sound(audio, space.sample_rate, f"Morph {a} → {b}", path_spec=spec),
                             space.decode(np.asarray(spec.points)).numpy())

        self.synth.submit(job, "morph", on_done=self._path_played, on_progress=self._say_progress,
                          on_failed=self._failed)

    def _path_played(self, r: PathSound | None) -> None:
        if r is None:
            return
        spec = r.sound.path_spec
        self._play(r.sound)
        img = 20 * np.log10(np.maximum(r.magnitudes.T, 1e-9))  # [bins, steps], row = band
        self.path_panel.show_spectrogram(img, spec.seconds, np.asarray(self.space.nsgt.frequencies))
        if spec.kind in FRAME_EDITS:
            self.path.set_frames(np.asarray(spec.points), spec.kind, FRAME_EDITS[spec.kind])

    # ================================================================== descriptor sliders and curves
    def move_to(self, name: str, target: float) -> None:
        if self.selected is None:
            self.message.emit("Select a point first (click the map).")
            return
        from timbre_explorer.core.synthesis.reach import reach
        from timbre_explorer.core.synthesis.synth import Envelope, note

        space, z0, method, st = self.space, self.selected.copy(), self.move_panel.method.currentData(), self.settings
        self.move_panel.status.setText(f"Moving towards {name} = {target:.4g}…")

        def job(j) -> Moved:
            r = reach(space, z0, {name: target}, method=method)
            frame = space.decode(r.z)
            audio = note(space, frame, seconds=st.seconds, envelope=Envelope(st.attack, st.release))
            sound = Sound(audio, space.sample_rate, f"{name} → {target:.4g} ({method})", z=r.z)
            return Moved(r, sound, frame.numpy(), space.decode(z0).numpy())

        self.synth.submit(job, "move", on_done=self._moved, on_failed=self._move_failed)

    def _moved(self, m: Moved) -> None:
        r = m.reached
        self.selected = r.z
        self._play(m.sound)
        self.play.set_point(self.space, r.z, m.sound.title)  # the keys play where the slider moved to
        self.map.set_trace(self.map_state.to_view(r.path) if len(r.path) else None)
        self._redraw_state()
        desc = _floats(self.space.describe(m.frame))
        self.spectrum.show_frame(m.frame, desc, m.sound.title, reference=m.before,
                                 played_dbfs=held_level_dbfs(m.sound.audio))
        self.move_panel.show_values(desc)
        moved = float(np.linalg.norm(r.z - r.path[0])) if len(r.path) else 0.0
        held = r.holds_message()  # a move that could not keep the other descriptors says so, in orange
        self.move_panel.status.setStyleSheet("color: #d98c1f" if held else "")
        self.move_panel.status.setText(f"Reached within {100 * r.error:.1f}%, moving {moved:.2f} in the "
                                       f"latent space. " + (held or "The other descriptors held."))

    def _move_failed(self, failed: Failed) -> None:
        self.move_panel.status.setText(failed.message)
        self._failed(failed)

    def render_curve(self) -> None:
        if self.selected is None:
            self.message.emit("Select a point first (click the map).")
            return
        from timbre_explorer.core.synthesis.gestures import curve_spec
        from timbre_explorer.core.synthesis.pathfile import render_spec

        space, z0, p = self.space, self.selected.copy(), self.move_panel
        name, shape = p.curve_descriptor.currentData(), p.curve_shape.currentText()
        start, end, seconds, method = p.curve_start.value(), p.curve_end.value(), p.curve_seconds.value(), \
            p.method.currentData()

        def job(j) -> PathSound:
            spec = curve_spec(space, z0, name, shape, start, end, seconds=seconds, method=method)
            audio = render_spec(space, spec, cancel=j.cancelled)
            title = f"{name} {shape} {start:.4g} → {end:.4g}"
            return PathSound(Sound(audio, space.sample_rate, title, path_spec=spec),
                             space.decode(np.asarray(spec.points)).numpy())

        self.synth.submit(job, "curve", on_done=self._path_played, on_progress=self._say_progress,
                          on_failed=self._failed)

    # ================================================================== descriptor field
    def fit_map(self) -> None:
        """Zoom the map to the visible notes; the field follows the new range, as after a pan or zoom."""
        self.map.fit()
        self._field_timer.start()

    def update_field(self) -> None:
        if self.space is None:
            return
        if not self.field_panel.show.isChecked():
            self.fields.cancel()
            self.map.clear_field()
            self.field_panel.progress.setValue(0)
            make_surface = self.map_state.surface_maker()  # the next click's mapping, built off the GUI thread
            self.tasks.submit(lambda j: make_surface(), "mapping", on_failed=self._failed)
            return
        from timbre_explorer.core.synthesis.fields import field_levels

        (x0, x1), (y0, y1) = self.map.plotItem.vb.viewRange()
        state = self.map_state
        space, make_surface, name = self.space, state.surface_maker(), self.field_panel.name()
        res = self.field_panel.resolution.value()

        def job(j):
            last, surface = None, make_surface()
            for f in field_levels(space, surface=surface, x_range=(x0, x1), y_range=(y0, y1), resolution=res,
                                  names=(name,), cancel=j.cancelled):
                j.emit(f)
                j.progress(f.resolution / res)
                last = f
            return last

        self.field_panel.progress.setValue(0)
        self.fields.submit(job, "field", on_done=self._field_done, on_partial=self._show_field,
                           on_progress=lambda p: self.field_panel.progress.setValue(int(100 * p.fraction)),
                           on_failed=self._failed)

    def _show_field(self, f) -> None:
        from timbre_explorer.core.signal.units import DESCRIPTORS

        name = self.field_panel.name()
        if name not in f.values:
            return
        unit = DESCRIPTORS[name]
        self.map.set_field(f.values[name], f.x, f.y, label=f"{name} ({unit})" if unit else name,
                           contours=self.field_panel.contours.value())

    def _field_done(self, f) -> None:
        self._show_field(f)
        self.field_panel.progress.setValue(100)
        self.field_ready.emit(f)

    # ================================================================== your own sounds
    def add_sounds(self, paths: list[str]) -> None:
        if self.space is None:
            return
        from timbre_explorer.core.synthesis.analysis import audio_files, encode_files

        space = self.space
        self.sounds_panel.progress.show()
        self.sounds_panel.progress.setRange(0, 0)

        def job(j) -> EncodedSounds:
            return EncodedSounds(*encode_files(space, audio_files(paths)))

        self.tasks.submit(job, "encode", on_done=self._sounds_encoded, on_failed=self._encode_failed)

    def _sounds_encoded(self, result: EncodedSounds) -> None:
        self.sounds_panel.progress.hide()
        from timbre_explorer.core.data.instruments import pitch_name

        for r in result.encoded:
            sound = UserSound(Path(r.path).name, np.asarray(r.z), np.asarray(r.trajectory), r.nearest, r.pitch,
                              r.loudness_db, str(r.path))
            self.user_sounds.append(sound)
            near = ", ".join(f"{n['instrument']} ({n['distance']:.2f})" for n in r.nearest)
            pitch = "unpitched" if r.pitch is None else pitch_name(round(r.pitch))
            clipped = ", clipped" if r.warning else ""
            item = QtWidgets.QListWidgetItem(f"{sound.name} ({pitch}, {r.loudness_db:.0f} dBFS{clipped}): near {near}")
            item.setToolTip(item.text() + (f"\n{r.warning}" if r.warning else ""))
            self.sounds_panel.list.addItem(item)
        self._redraw_state()
        loaded, problems = len(result.encoded), result.problems
        if problems:
            listing = "\n".join(f"{Path(p).name}: {why}" for p, why in problems)
            self.error.emit("Some files were not loaded",
                            f"{loaded} file(s) loaded; {len(problems)} could not be:\n\n{listing}")
        warnings = " ".join(f"{Path(r.path).name}: {r.warning}." for r in result.encoded if r.warning)
        self.message.emit(f"{loaded} sound(s) placed on the map." + (f" {warnings}" if warnings else ""))
        self.sounds_added.emit(loaded)

    def _encode_failed(self, failed: Failed) -> None:
        self.sounds_panel.progress.hide()
        self.error.emit("Could not load the sounds", failed.message)

    def _add_sounds_dialog(self) -> None:
        files, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Add sounds", "",
                                                          "Audio (*.wav *.aif *.aiff *.flac *.mp3 *.ogg)")
        if files:
            self.add_sounds(files)

    def _play_user_sound(self, row: int) -> None:
        if 0 <= row < len(self.user_sounds):
            s = self.user_sounds[row]
            # at its own pitch and measured level (a conditioned model; the Play tab's pitch when unpitched)
            self.play_z(s.z, f"{s.name} (as the model hears it)", pitch=s.pitch, level_db=s.loudness_db)

    def play_original(self, row: int) -> None:
        """The user's file as it is (read in a worker: a long file takes a while), beside what the model hears."""
        if not 0 <= row < len(self.user_sounds):
            return
        from timbre_explorer.core.signal.audio_io import load_audio

        s, rate = self.user_sounds[row], self.audio.sample_rate

        def job(j) -> Sound:
            return Sound(load_audio(s.path, rate), rate, f"{s.name} (the original file)")

        self.tasks.submit(job, "original", on_done=self._play, on_failed=self._failed)

    def clear_sounds(self) -> None:
        self.user_sounds = []
        self.sounds_panel.list.clear()
        self._redraw_state()

    # ================================================================== drawing state
    def _redraw_state(self) -> None:
        if self.space is None:
            return
        state = self.map_state
        self.map.set_marker(None if self.selected is None else state.to_view(self.selected))
        pts = self.path.points()
        self.map.set_path(None if pts is None else state.to_view(pts), vertices=self.path.frames is None)
        if self._view3d is not None:
            self._view3d.set_path(self._path_xyz())
            self._view3d.set_marker(None if self.selected is None else state.to_xyz(self.selected))
        if self.user_sounds:
            self.map.set_user_sounds(state.to_view(np.stack([u.z for u in self.user_sounds])),
                                     [state.to_view(u.trajectory) for u in self.user_sounds if len(u.trajectory)],
                                     [u.name for u in self.user_sounds])
        else:
            self.map.set_user_sounds(np.zeros((0, 2)), [])
        n = 0 if pts is None else len(pts)
        self.path_panel.info.setText("No path yet." if n == 0 else f"{self.path.kind}: {n} point(s)")

    # ================================================================== answers every job shares
    def _failed(self, failed: Failed) -> None:
        self.error.emit("Could not finish", failed.message)

    def _say_progress(self, p: Progress) -> None:
        if p.text:
            self.message.emit(p.text)

    def _play(self, sound: Sound, *, loop: bool = False) -> None:
        self.last_sound = sound
        self.audio.play(sound.audio, sound.sample_rate, loop=loop)
        self.sound_ready.emit(sound)

    # ================================================================== export
    def export_sound(self, path: str | Path) -> Path:
        """The last sound as WAV (atomic), with the path's JSON sidecar when it is a path."""
        if self.last_sound is None:
            raise ValueError("nothing has been played yet")
        return exports.write_sound(self.last_sound, path)

    def export_path(self, path: str | Path) -> None:
        """Render the current path and write it with its sidecar (in the worker; the result is written there)."""
        spec = self.path_spec()
        if spec is None:
            self.message.emit("No path to export.")
            return
        self.tasks.submit(exports.path_job(self.space, spec, path, self.map_state.path_surface()), "export",
                          on_done=self._exported, on_failed=self._failed)

    def _exported(self, result: Exported) -> None:
        self.message.emit(f"Wrote {result.wav} and {result.sidecar.name}")

    def _export_path_dialog(self) -> None:
        path = export_file_name(self, "Export the path", "path.wav", "WAV (*.wav)")
        if path:
            self.export_path(path)

    def export_map(self, path: str | Path) -> Path:
        """The 2-D map as PNG or SVG (by suffix), written atomically."""
        return exports.write_map_image(self.map, f"Timbre Explorer map: {self.space.name}", path)

    def export_csv(self, path: str | Path) -> Path:
        """Latent coordinates of every note shown (and dropped sounds), with what they are, as CSV."""
        from timbre_explorer.core.synthesis.export import write_map_csv

        state = self.map_state
        x, y = state.view_dims
        prefix = self.map_panel.axis_prefix
        return write_map_csv(path, self.space, projection=state.projection, dims=(x, y), shown=state.mask(),
                             sounds=[(u.name, u.z) for u in self.user_sounds],
                             axis_names=(f"{prefix}{x + 1}", f"{prefix}{y + 1}"))

    # ================================================================== shutdown
    def shutdown(self) -> None:
        self.play.shutdown()
        for w in (self.synth, self.fields, self.tasks):
            w.shutdown()


def _warm(space):
    """Off the GUI thread, what a first click or a first choice of axes would otherwise wait for: the discriminant
    axes (scikit-learn), and the on-data mapping's scipy modules (0.2-0.5 s to import)."""
    from timbre_explorer.core.synthesis.manifold import OnData

    OnData(space.projection, space.notes.z[:2], (0, 1)).latent([0.0, 0.0])
    return space.discriminant_projection


def model_title(space) -> str:
    """The model's name and when it was trained: the card's ``trained`` date, else the file's (older cards)."""
    import datetime

    trained = space.file.meta.get("trained")
    if trained:
        return f"{space.name}, trained {str(trained)[:10]}"
    saved = datetime.date.fromtimestamp(space.path.stat().st_mtime) if space.path else None
    return f"{space.name}, saved {saved.isoformat()}" if saved else space.name


def _floats(descriptors: dict) -> dict[str, float]:
    return {k: float(v) for k, v in descriptors.items()}
