"""The Explorer tab: the latent map, click to hear, paths, descriptor fields and sliders, your own sounds.

This is the controller between the views (``gui/views``) and the core: it
turns map coordinates into latent points (the PCA's inverse, the hidden
components from the depth control or the nearest note), hands every
computation to a worker, and shows and plays what comes back. It keeps the
state the user builds (selected point, path, dropped sounds) and nothing the
core already holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.gui.views.map_view import MapView, colour
from timbre_explorer.gui.views.panels import FieldPanel, MapPanel, MovePanel, PathPanel, SoundsPanel
from timbre_explorer.gui.views.spectrum_view import SpectrumView
from timbre_explorer.gui.workers import LatestWorker

log = logging.getLogger(__name__)

SELECTED = "Selected point"
SCRUB_INTERVAL_MS = 30
SCRUB_LOOP_SECONDS = 0.4


@dataclass
class Sound:
    """What was last rendered: the audio, what it is, and (for paths) the path that made it."""

    audio: np.ndarray
    sample_rate: int
    title: str
    path_spec: object | None = None  # core.synthesis.pathfile.PathSpec for paths
    z: np.ndarray | None = None


@dataclass
class SynthSettings:
    """Audio settings that shape every rendered note (the Audio menu edits them)."""

    seconds: float = 1.5
    attack: float = 0.02
    release: float = 0.25


@dataclass
class UserSound:
    name: str
    z: np.ndarray
    trajectory: np.ndarray
    nearest: list = field(default_factory=list)


class _PathEdit(QtGui.QUndoCommand):
    """One edit of the path's vertices (undoable)."""

    def __init__(self, explorer: ExplorerView, before: list, after: list, text: str):
        super().__init__(text)
        self.explorer, self.before, self.after = explorer, before, after

    def redo(self):
        self.explorer._apply_path(self.after)

    def undo(self):
        self.explorer._apply_path(self.before)


class ExplorerView(QtWidgets.QWidget):
    """The Explorer tab (see the module docstring). ``audio`` is the app's one AudioEngine."""

    sound_ready = QtCore.Signal(object)  # Sound, when it is handed to the audio engine
    field_ready = QtCore.Signal(object)  # core.synthesis.fields.Field, the final one of a request
    sounds_added = QtCore.Signal(int)
    message = QtCore.Signal(str)
    error = QtCore.Signal(str, str)  # title, text

    def __init__(self, audio, parent=None):
        super().__init__(parent)
        self.audio = audio
        self.space = None
        self.settings = SynthSettings()
        self.undo_stack = QtGui.QUndoStack(self)
        self.path: list[np.ndarray] = []  # latent vertices
        self.path_kind = "points"
        self.path_frames: np.ndarray | None = None  # latent frames of a morph / descriptor curve
        self.selected: np.ndarray | None = None
        self.user_sounds: list[UserSound] = []
        self.last_sound: Sound | None = None
        self._coords = np.zeros((0, 0))
        self.projection = None  # core.synthesis.space.Projection of the map: the space's PCA, or its discriminant axes
        self._view3d = None
        self._scrub_pos: tuple[float, float] | None = None

        self.synth = LatestWorker("synth", self)
        self.fields = LatestWorker("field", self)
        self.tasks = LatestWorker("task", self)
        for w in (self.synth, self.fields, self.tasks):
            w.finished.connect(self._finished)
            w.partial.connect(self._partial)
            w.failed.connect(self._failed)
            w.progressed.connect(self._progressed)

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
        self.tabs = QtWidgets.QTabWidget()
        for panel, name in ((self.map_panel, "Map"), (self.path_panel, "Path"), (self.field_panel, "Field"),
                            (self.move_panel, "Sliders"), (self.sounds_panel, "Sounds")):
            scroll = QtWidgets.QScrollArea()
            scroll.setWidget(panel)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            self.tabs.addTab(scroll, name)
        self.tabs.setMinimumWidth(360)

        self.map_panel.projection_changed.connect(self._projection_changed)
        self.map_panel.filter_changed.connect(self._filter_changed)
        self.map_panel.overlays_changed.connect(self._draw_overlays)
        self.path_panel.set_requested.connect(self.set_path_ends)
        self.path_panel.draw_toggled.connect(self._draw_toggled)
        self.path_panel.clear_requested.connect(self.clear_path)
        self.path_panel.play_requested.connect(self.play_path)
        self.path_panel.export_requested.connect(self._export_path_dialog)
        self.path_panel.morph_requested.connect(self.morph_notes)
        self.field_panel.changed.connect(self.update_field)
        self.move_panel.target_changed.connect(self.move_to)
        self.move_panel.curve_requested.connect(self.render_curve)
        self.sounds_panel.add_requested.connect(self._add_sounds_dialog)
        self.sounds_panel.sound_activated.connect(self._play_user_sound)
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

    # ================================================================== the space
    def set_space(self, space) -> None:
        """Show a loaded :class:`~timbre_explorer.core.synthesis.space.TimbreSpace` (replacing the current one)."""
        self.synth.cancel()
        self.fields.cancel()
        self.space = space
        self.projection = space.projection
        self._coords = space.projection.forward(space.notes.z)
        self.selected = None
        self.path, self.path_frames = [], None
        self.undo_stack.clear()
        self.user_sounds = []
        self.sounds_panel.list.clear()
        self.map_panel.set_space(space)
        trained = [n for i, n in enumerate(space.instruments) if n in space.centroids]
        self.path_panel.set_ends([SELECTED] + trained)
        for chooser in (self.path_panel.morph_from, self.path_panel.morph_to):
            chooser.set_choices(space.instruments, space.dynamics)
        self.path_panel.morph_to.instrument.setCurrentIndex(min(1, len(space.instruments) - 1))
        if not self.move_panel.curve_shape.count():
            from timbre_explorer.core.synthesis.reach import CURVES

            self.move_panel.curve_shape.addItems(CURVES)
        d = space.decoded_descriptors
        self.move_panel.set_ranges({k: (float(np.percentile(v, 1)), float(np.percentile(v, 99))) for k, v in d.items()})
        from timbre_explorer.core.signal.descriptors import band_weights

        self.spectrum.set_frequencies(band_weights(space.nsgt).frequency)
        self.spectrum.clear()
        self.spectrum.title.setText("Click the map to hear a point; drag to play continuously.")
        self.map._fitted = False
        self._projection_changed()
        self.setEnabled(True)
        self.tasks.submit(lambda j: space.discriminant_projection, "warm")  # ready before it is chosen

    # ------------------------------------------------------------------ projection and filters
    @property
    def dims(self) -> tuple[int, int]:
        d = self.map_panel.dims()
        return d[0], d[1]

    @property
    def depth_dim(self) -> int:
        return self.map_panel.dims()[2]

    def depth_value(self) -> float:
        c = self._coords[:, self.depth_dim]
        lo, hi = np.percentile(c, 1), np.percentile(c, 99)
        return float((lo + hi) / 2 + (hi - lo) / 2 * self.map_panel.depth.value() / 100)

    def plane_rest(self) -> np.ndarray:
        """The PCA coordinates of the plane's hidden components: the map's mean, the depth on Z."""
        rest = np.zeros(self.space.latent_size)
        rest[self.depth_dim] = self.depth_value()
        return rest

    def latent_at(self, x: float, y: float) -> np.ndarray:
        """The latent point under map position ``(x, y)`` (see the Map tab's "hidden components")."""
        rest = self.plane_rest()
        if self.map_panel.depth_mode.currentIndex() == 1:
            visible = np.flatnonzero(self._mask())
            if len(visible):
                xy = self._coords[visible][:, list(self.dims)]
                rest = self._coords[visible[np.argmin(((xy - [x, y]) ** 2).sum(1))]]
        return self.projection.place([x, y], self.dims, rest=rest)

    def to_view(self, z) -> np.ndarray:
        """Latent points to the map's 2-D coordinates."""
        return self.projection.forward(z)[..., list(self.dims)]

    def _projection_changed(self) -> None:
        if self.space is None:
            return
        basis = self.map_panel.basis.currentData()
        projection = self.space.discriminant_projection if basis == "discriminant" else self.space.projection
        if projection is not self.projection:
            self.projection = projection
            self._coords = projection.forward(self.space.notes.z)
            self.map_panel.set_axes(projection.explained, "LD" if basis == "discriminant" else "PC")
        self.map_panel.depth_label.setText(f"{self.depth_value():+.2f}")
        ex = self.projection.explained
        a, b = self.dims
        self.map_panel.variance.setText(f"The map shows {100 * (ex[a] + ex[b]):.1f}% of the latent variance "
                                        f"(3D: {100 * (ex[a] + ex[b] + ex[self.depth_dim]):.1f}%).")
        names = [self.map_panel.axes[k].currentText() for k in range(3)]
        self.map.setLabel("bottom", names[0])
        self.map.setLabel("left", names[1])
        classes, brushes = self._colours()
        self.map.set_points(self._coords[:, list(self.dims)], classes, brushes)
        self._filter_changed()
        self._draw_overlays()
        self._redraw_state()
        self._show_3d(self.map_panel.three_d.isChecked(), names)
        self.update_field()

    def _colours(self) -> tuple[np.ndarray, list]:
        """A colour class per note and the brush of each class, for the "colour by" choice."""
        import pyqtgraph as pg

        n, s, by = self.space.notes, self.space, self.map_panel.colour_by.currentText()
        if by == "pitch" or by == "dynamic":
            values = n.pitch if by == "pitch" else n.dynamic
            lo, hi = (21, 108) if by == "pitch" else (0, max(len(s.dynamics) - 1, 1))
            cmap = pg.colormap.get("plasma")
            brushes = [pg.mkBrush(cmap.map(min(max((v - lo) / (hi - lo), 0), 1), mode="qcolor"))
                       for v in range(lo, hi + 1)] + [pg.mkBrush("#7f7f7f")]
            classes = np.where(values >= 0, np.clip(values, lo, hi) - lo, len(brushes) - 1)
            return classes, brushes
        if by == "family":
            families = sorted(set(s.families))
            classes = np.array([families.index(s.families[i]) for i in n.instrument])
            return classes, [pg.mkBrush(colour(i)) for i in range(len(families))]
        return n.instrument, [pg.mkBrush(colour(i)) for i in range(len(s.instruments))]

    def _mask(self) -> np.ndarray:
        n = self.space.notes
        on = np.isin(n.instrument, list(self.map_panel.checked_instruments()))
        in_range = (n.pitch >= self.map_panel.pitch_low.value()) & (n.pitch <= self.map_panel.pitch_high.value())
        on &= in_range | (n.pitch < 0)  # unknown pitch: never filtered out
        dyn = [i for i, d in enumerate(self.space.dynamics) if self.map_panel.dynamics.get(d) is None
               or self.map_panel.dynamics[d].isChecked()]
        return on & (np.isin(n.dynamic, dyn) | (n.dynamic < 0))

    def _filter_changed(self) -> None:
        if self.space is None:
            return
        mask = self._mask()
        self.map.set_visible(mask)
        if self._view3d is not None:
            self._view3d.set_visible(mask)
        if not mask.all():
            self.message.emit(f"{int(mask.sum())} of {len(mask)} notes shown")

    def _draw_overlays(self) -> None:
        s = self.space
        if s is None:
            return
        names = list(s.centroids)
        xy = self.to_view(np.stack([s.centroids[n] for n in names]))
        self.map.set_labels(names, xy, [s.instruments.index(n) for n in names])
        self.map.show_labels(self.map_panel.show_labels.isChecked())
        if self.map_panel.show_mds.isChecked():
            self.map.set_mds(*s.perceptual_overlay(self.dims, self.projection))
        else:
            self.map.set_mds(None)
        if self.map_panel.show_pairs.isChecked():
            segments = []
            for a, b, r in s.pair_agreement():
                t = float(np.clip(r, -1, 1))
                c = QtGui.QColor.fromRgbF(1.0, 1 - t, 1 - t, 0.8) if t > 0 else QtGui.QColor.fromRgbF(1 + t, 1 + t, 1.0, 0.8)
                segments.append((self.to_view(s.centroids[a]), self.to_view(s.centroids[b]), c))
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
            s, dims3 = self.space, list(self.map_panel.dims())
            classes, brushes = self._colours()
            rgba = np.array([b.color().getRgbF() for b in brushes])[classes]
            self._view3d.set_points(self._coords[:, dims3], rgba)
            self._view3d.set_visible(self._mask())
            cn = list(s.centroids)
            self._view3d.set_labels(cn, self.projection.forward(np.stack([s.centroids[n] for n in cn]))[:, dims3])
            self._view3d.set_axis_labels(tuple(names))
            self._view3d.set_path(self._path_xyz())
            self.map_stack.setCurrentWidget(self._view3d)
        else:
            self.map_stack.setCurrentWidget(self.map)

    def _path_xyz(self):
        pts = self._path_points()
        return None if pts is None else self.projection.forward(pts)[:, list(self.map_panel.dims())]

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
            source = Path(str(s.file.meta.get("dataset", {}).get("source", ""))).name
            text += f"\nsplit: {s.splits[n.split[index]]}\nfrom: {source} (MIDI {int(n.pitch[index])})"
        return text

    # ================================================================== click to hear
    def play_at(self, x: float, y: float) -> None:
        """Decode the point under ``(x, y)`` and play it as a held note."""
        if self.space is None:
            return
        index = self.map.pick(x, y)
        title = f"Note nearest: {self._note_title(index)}" if index >= 0 else f"Point ({x:+.2f}, {y:+.2f})"
        self.play_z(self.latent_at(x, y), title)

    def play_z(self, z, title: str) -> None:
        from timbre_explorer.core.synthesis.synth import Envelope, note

        space, st = self.space, self.settings
        z = np.asarray(z, np.float64)
        self.selected = z
        self._redraw_state()

        def job(j):
            frame = space.decode(z)
            audio = note(space, frame, seconds=st.seconds, envelope=Envelope(st.attack, st.release))
            return Sound(audio, space.sample_rate, title, z=z), frame.numpy(), space.describe(frame)

        self.synth.submit(job, "note")

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
        z = self.latent_at(*self._scrub_pos)
        self.selected = z
        self.map.set_marker(self.to_view(z))

        def job(j):
            frame = space.decode(z)
            return Sound(loop(space, frame, seconds=SCRUB_LOOP_SECONDS), space.sample_rate, "Scrubbing", z=z), \
                frame.numpy(), space.describe(frame)

        self.synth.submit(job, "loop")

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
        self._edit_path([np.asarray(a), np.asarray(b)], "Set path")

    def add_vertex(self, x: float, y: float) -> None:
        self._edit_path(self.path + [self.latent_at(x, y)], "Add path point")

    def clear_path(self) -> None:
        if self.path or self.path_frames is not None:
            self._edit_path([], "Clear path")

    def _edit_path(self, vertices: list, text: str) -> None:
        self.undo_stack.push(_PathEdit(self, [v.copy() for v in self.path], [np.asarray(v) for v in vertices], text))

    def _apply_path(self, vertices: list) -> None:
        self.path = [np.asarray(v) for v in vertices]
        self.path_kind = "points" if len(self.path) <= 2 else "polyline"
        self.path_frames = None
        self._redraw_state()

    def _draw_toggled(self, on: bool) -> None:
        self.map.tool = "draw" if on else "play"
        if on:
            self.message.emit("Drawing: click to add points, double-click or Enter to finish.")

    def _path_points(self) -> np.ndarray | None:
        """The path as latent points to draw: the frames of a morph or curve, else the vertices."""
        if self.path_frames is not None:
            return self.path_frames
        return np.stack(self.path) if len(self.path) >= 1 else None

    def path_spec(self):
        from timbre_explorer.core.synthesis.pathfile import PathSpec

        pts = self._path_points()
        if pts is None or len(pts) < 2:
            return None
        return PathSpec(points=np.asarray(pts).tolist(), mode=self.path_panel.mode.currentData(),
                        seconds=float(self.path_panel.seconds.value()), kind=self.path_kind, model=self.space.name)

    def play_path(self) -> None:
        spec = self.path_spec()
        if spec is None:
            self.message.emit("No path: set one on the Path tab, or draw it on the map.")
            return
        from timbre_explorer.core.synthesis.pathfile import render_spec, spec_frames

        space = self.space

        def job(j):
            frames = spec_frames(space, spec)
            audio = render_spec(space, spec, cancel=j.cancelled,  # a long path stops for a new click, or a quit
                                progress=lambda done: j.progress(done, f"Rendering the path… {done:.0%}"))
            mags = space.decode(frames).numpy()
            return Sound(audio, space.sample_rate, f"Path ({spec.kind}, {spec.mode}, {spec.seconds:g} s)",
                         path_spec=spec), mags, None

        self.synth.submit(job, "path")

    def _show_path_spectrogram(self, mags: np.ndarray, seconds: float) -> None:
        img = 20 * np.log10(np.maximum(mags.T, 1e-9))  # [bins, steps], row = band
        self.path_panel.spectrogram_image.setImage(img, levels=(img.max() - 80, img.max()))
        self.path_panel.spectrogram_image.setRect(QtCore.QRectF(0, 0, seconds, img.shape[0]))
        self.path_panel.spectrogram.autoRange()

    def morph_notes(self) -> None:
        from timbre_explorer.core.synthesis.morph import morph, note_audio, trajectory
        from timbre_explorer.core.synthesis.synth import render_path

        space = self.space
        a, b = self.path_panel.morph_from.spec(), self.path_panel.morph_to.spec()
        mode, seconds = self.path_panel.mode.currentData(), float(self.path_panel.seconds.value())

        def job(j):
            j.progress(0.1, "rendering the notes")
            ta, tb = (trajectory(space, note_audio(space, s)) for s in (a, b))
            if j.cancelled():
                return None
            frames = morph(ta, tb, mode=mode)
            j.progress(0.5, "rendering the morph")
            audio = render_path(space, frames, seconds=seconds, cancel=j.cancelled)
            from timbre_explorer.core.synthesis.pathfile import PathSpec

            spec = PathSpec(points=frames.tolist(), mode=mode, seconds=seconds, kind="morph", model=space.name)
            return Sound(audio, space.sample_rate, f"Morph {a} → {b}", path_spec=spec), space.decode(frames).numpy(), None

        self.synth.submit(job, "morph")

    # ================================================================== descriptor sliders and curves
    def move_to(self, name: str, target: float) -> None:
        if self.selected is None:
            self.message.emit("Select a point first (click the map).")
            return
        from timbre_explorer.core.synthesis.reach import reach
        from timbre_explorer.core.synthesis.synth import Envelope, note

        space, z0, method, st = self.space, self.selected.copy(), self.move_panel.method.currentData(), self.settings
        self.move_panel.status.setText(f"Moving towards {name} = {target:.4g}…")

        def job(j):
            r = reach(space, z0, {name: target}, method=method)
            frame = space.decode(r.z)
            audio = note(space, frame, seconds=st.seconds, envelope=Envelope(st.attack, st.release))
            return r, Sound(audio, space.sample_rate, f"{name} → {target:.4g} ({method})", z=r.z), frame.numpy(), \
                space.decode(z0).numpy()

        self.synth.submit(job, "move")

    def render_curve(self) -> None:
        if self.selected is None:
            self.message.emit("Select a point first (click the map).")
            return
        from timbre_explorer.core.synthesis.pathfile import PathSpec
        from timbre_explorer.core.synthesis.reach import curve, follow
        from timbre_explorer.core.synthesis.synth import path_steps, render_path

        space, z0, p = self.space, self.selected.copy(), self.move_panel
        name, shape = p.curve_descriptor.currentData(), p.curve_shape.currentText()
        start, end, seconds, method = p.curve_start.value(), p.curve_end.value(), p.curve_seconds.value(), \
            p.method.currentData()

        def job(j):
            targets = curve(shape, min(path_steps(seconds), 96), start, end)
            frames = follow(space, z0, name, targets, method=method)
            audio = render_path(space, frames, seconds=seconds, cancel=j.cancelled)
            spec = PathSpec(points=np.asarray(frames).tolist(), mode="linear", seconds=seconds, kind="descriptor",
                            model=space.name)
            return Sound(audio, space.sample_rate, f"{name} {shape} {start:.4g} → {end:.4g}", path_spec=spec), \
                space.decode(frames).numpy(), None

        self.synth.submit(job, "curve")

    # ================================================================== descriptor field
    def update_field(self) -> None:
        if self.space is None:
            return
        if not self.field_panel.show.isChecked():
            self.fields.cancel()
            self.map.clear_field()
            self.field_panel.progress.setValue(0)
            return
        from timbre_explorer.core.synthesis.fields import field_levels

        (x0, x1), (y0, y1) = self.map.plotItem.vb.viewRange()
        space, dims, rest, name = self.space, self.dims, self.plane_rest(), self.field_panel.name()
        projection = self.projection
        res = self.field_panel.resolution.value()

        def job(j):
            last = None
            for f in field_levels(space, dims=dims, rest=rest, x_range=(x0, x1), y_range=(y0, y1), resolution=res,
                                  names=(name,), cancel=j.cancelled, projection=projection):
                j.emit(f)
                j.progress(f.resolution / res)
                last = f
            return last

        self.field_panel.progress.setValue(0)
        self.fields.submit(job, "field")

    def _show_field(self, f) -> None:
        from timbre_explorer.core.signal.descriptors import DESCRIPTORS

        name = self.field_panel.name()
        if name not in f.values:
            return
        unit = DESCRIPTORS[name]
        self.map.set_field(f.values[name], f.x, f.y, label=f"{name} ({unit})" if unit else name,
                           contours=self.field_panel.contours.value())

    # ================================================================== your own sounds
    def add_sounds(self, paths: list[str]) -> None:
        if self.space is None:
            return
        from timbre_explorer.core.synthesis.analysis import audio_files, encode_files

        space = self.space
        self.sounds_panel.progress.show()
        self.sounds_panel.progress.setRange(0, 0)

        def job(j):
            files = audio_files(paths)
            return encode_files(space, files)

        self.tasks.submit(job, "encode")

    def _sounds_encoded(self, result) -> None:
        results, problems = result
        self.sounds_panel.progress.hide()
        for r in results:
            sound = UserSound(Path(r.path).name, np.asarray(r.z), np.asarray(r.trajectory), r.nearest)
            self.user_sounds.append(sound)
            near = ", ".join(f"{n['instrument']} ({n['distance']:.2f})" for n in r.nearest)
            self.sounds_panel.list.addItem(f"{sound.name}: near {near}")
        self._redraw_state()
        if problems:
            listing = "\n".join(f"{Path(p).name}: {why}" for p, why in problems)
            self.error.emit("Some files were not loaded",
                            f"{len(results)} file(s) loaded; {len(problems)} could not be:\n\n{listing}")
        self.message.emit(f"{len(results)} sound(s) placed on the map")
        self.sounds_added.emit(len(results))

    def _add_sounds_dialog(self) -> None:
        files, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Add sounds", "",
                                                          "Audio (*.wav *.aif *.aiff *.flac *.mp3 *.ogg)")
        if files:
            self.add_sounds(files)

    def _play_user_sound(self, row: int) -> None:
        if 0 <= row < len(self.user_sounds):
            s = self.user_sounds[row]
            self.play_z(s.z, f"{s.name} (as the model hears it)")

    def clear_sounds(self) -> None:
        self.user_sounds = []
        self.sounds_panel.list.clear()
        self._redraw_state()

    # ================================================================== drawing state
    def _redraw_state(self) -> None:
        if self.space is None:
            return
        self.map.set_marker(None if self.selected is None else self.to_view(self.selected))
        pts = self._path_points()
        self.map.set_path(None if pts is None else self.to_view(pts), vertices=self.path_frames is None)
        if self._view3d is not None:
            self._view3d.set_path(self._path_xyz())
            sel = None if self.selected is None else self.projection.forward(self.selected)[list(self.map_panel.dims())]
            self._view3d.set_marker(sel)
        if self.user_sounds:
            self.map.set_user_sounds(self.to_view(np.stack([u.z for u in self.user_sounds])),
                                     [self.to_view(u.trajectory) for u in self.user_sounds if len(u.trajectory)])
        else:
            self.map.set_user_sounds(np.zeros((0, 2)), [])
        n = 0 if pts is None else len(pts)
        self.path_panel.info.setText("No path yet." if n == 0 else f"{self.path_kind}: {n} point(s)")

    # ================================================================== worker results
    def _finished(self, kind: str, job_id: int, result) -> None:
        if result is None:
            return
        if kind in ("note", "loop", "path", "morph", "curve"):
            sound, mags, desc = result
            self._play(sound, loop=kind == "loop")
            if kind == "note" or kind == "loop":
                self.spectrum.show_frame(mags, {k: float(v) for k, v in desc.items()}, sound.title)
                if kind == "note":
                    self.move_panel.show_values({k: float(v) for k, v in desc.items()})
                    self.move_panel.status.setText("Move a slider: the point moves to reach it, keeping its timbre.")
            else:
                self._show_path_spectrogram(mags, sound.path_spec.seconds)
                if kind in ("morph", "curve"):
                    self.path_frames = np.asarray(sound.path_spec.points)
                    self.path_kind = sound.path_spec.kind
                    self._redraw_state()
        elif kind == "move":
            r, sound, frame, before = result
            self.selected = r.z
            self._play(sound)
            self.map.set_trace(self.to_view(r.path) if len(r.path) else None)
            self._redraw_state()
            desc = {k: float(v) for k, v in self.space.describe(frame).items()}
            self.spectrum.show_frame(frame, desc, sound.title, reference=before)
            self.move_panel.show_values(desc)
            moved = float(np.linalg.norm(r.z - r.path[0])) if len(r.path) else 0.0
            self.move_panel.status.setText(f"Reached within {100 * r.error:.1f}%, moving {moved:.2f} in the "
                                           f"latent space.")
        elif kind == "field":
            self._show_field(result)
            self.field_panel.progress.setValue(100)
            self.field_ready.emit(result)
        elif kind == "encode":
            self._sounds_encoded(result)

    def _partial(self, kind: str, job_id: int, value) -> None:
        if kind == "field":
            self._show_field(value)

    def _failed(self, kind: str, job_id: int, text: str) -> None:
        if kind == "encode":
            self.sounds_panel.progress.hide()
        if kind == "move":
            self.move_panel.status.setText(text)
        self.error.emit("Could not finish" if kind != "encode" else "Could not load the sounds", text)

    def _progressed(self, kind: str, fraction: float, text: str) -> None:
        if kind == "field":
            self.field_panel.progress.setValue(int(100 * fraction))
        elif text:
            self.message.emit(text)

    def _play(self, sound: Sound, *, loop: bool = False) -> None:
        self.last_sound = sound
        self.audio.play(sound.audio, loop=loop)
        self.sound_ready.emit(sound)

    # ================================================================== export
    def export_sound(self, path: str | Path) -> Path:
        """The last sound as WAV (atomic), with the path's JSON sidecar when it is a path."""
        from timbre_explorer.core.signal.audio_io import save_wav
        from timbre_explorer.core.synthesis.pathfile import write_path

        if self.last_sound is None:
            raise ValueError("nothing has been played yet")
        path = Path(path)
        save_wav(path, self.last_sound.audio, self.last_sound.sample_rate)
        if self.last_sound.path_spec is not None:
            write_path(path.with_suffix(".json"), self.last_sound.path_spec)
        return path

    def export_path(self, path: str | Path) -> None:
        """Render the current path and write it with its sidecar (in the worker; the result is written there)."""
        spec = self.path_spec()
        if spec is None:
            self.message.emit("No path to export.")
            return
        from timbre_explorer.core.signal.audio_io import save_wav
        from timbre_explorer.core.synthesis.pathfile import render_spec, write_path

        space, path = self.space, Path(path)

        def job(j):
            save_wav(path, render_spec(space, spec), space.sample_rate)
            write_path(path.with_suffix(".json"), spec)
            return path

        self.tasks.submit(job, "export")
        self.tasks.finished.connect(self._exported, QtCore.Qt.ConnectionType.SingleShotConnection)

    def _exported(self, kind, job_id, result) -> None:
        if kind == "export":
            self.message.emit(f"Wrote {result} and {Path(result).with_suffix('.json').name}")

    def _export_path_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export the path", "path.wav", "WAV (*.wav)")
        if path:
            self.export_path(path)

    def export_map(self, path: str | Path) -> Path:
        """The 2-D map as PNG or SVG (by suffix), written atomically.

        SVG goes through Qt's own SVG generator: pyqtgraph's SVG exporter
        fails on the paths current Qt writes (pyqtgraph issue #3485).
        """
        from timbre_explorer.core.files import atomic_path

        path, view = Path(path), self.map
        with atomic_path(path) as tmp:
            if path.suffix.lower() == ".svg":
                from PySide6.QtSvg import QSvgGenerator

                gen = QSvgGenerator()
                gen.setFileName(str(tmp))
                gen.setSize(view.size())
                gen.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), view.size()))
                gen.setTitle(f"Timbre Explorer map: {self.space.name}")
                painter = QtGui.QPainter(gen)
                view.render(painter)
                painter.end()
            else:
                import pyqtgraph.exporters as ex

                exporter = ex.ImageExporter(self.map.plotItem)
                exporter.parameters()["width"] = max(1600, int(view.width()))
                exporter.export(str(tmp))
        return path

    def export_csv(self, path: str | Path) -> Path:
        """Latent coordinates of every note shown (and dropped sounds), with what they are, as CSV."""
        import csv
        import io

        from timbre_explorer.core.files import atomic_path

        s, n, mask = self.space, self.space.notes, self._mask()
        dims = list(self.dims)
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["kind", "instrument", "pitch", "dynamic", "split", f"pc{dims[0] + 1}", f"pc{dims[1] + 1}"]
                   + [f"z{i}" for i in range(s.latent_size)])
        for i in np.flatnonzero(mask):
            w.writerow(["note", s.instruments[n.instrument[i]], int(n.pitch[i]),
                        s.dynamics[n.dynamic[i]] if n.dynamic[i] >= 0 else "", s.splits[n.split[i]],
                        *(f"{v:.6g}" for v in self._coords[i, dims]), *(f"{v:.6g}" for v in n.z[i])])
        for u in self.user_sounds:
            w.writerow(["sound", u.name, "", "", "", *(f"{v:.6g}" for v in self.to_view(u.z)),
                        *(f"{v:.6g}" for v in u.z)])
        with atomic_path(path) as tmp:
            Path(tmp).write_text(buf.getvalue(), encoding="utf-8")
        return Path(path)

    # ================================================================== shutdown
    def shutdown(self) -> None:
        for w in (self.synth, self.fields, self.tasks):
            w.shutdown()
