"""The Path tab's controller: paths set between two ends or drawn on the map, note morphs, playing and
exporting them. The path itself, with its undo steps, is :class:`~timbre_explorer.gui.explorer.paths.MapPath`;
what a morph or a descriptor curve plays is decided in the core (``core/synthesis/gestures.py``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore

from timbre_explorer.gui.explorer import exports
from timbre_explorer.gui.explorer.paths import PathState
from timbre_explorer.gui.explorer.results import Exported, PathSound, Sound
from timbre_explorer.gui.views.widgets import export_file_name

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.pathfile import PathSpec
    from timbre_explorer.core.synthesis.session import SessionPath
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.explorer.tab import ExplorerTab
    from timbre_explorer.gui.workers import Failed, Job

SELECTED = "Selected point"
#: The paths a job computes as latent frames, and the name of the undo step that puts them on the map.
FRAME_EDITS = {"morph": "Morph notes", "descriptor": "Descriptor curve"}


class PathControl(QtCore.QObject):
    """Paths and morphs (see the module docstring)."""

    def __init__(self, tab: ExplorerTab):
        super().__init__(tab)
        self.tab, self.panel, self.path = tab, tab.path_panel, tab.path
        self.exporting: Job | None = None  # the export running in the worker, for Cancel
        p = self.panel
        p.set_requested.connect(self.set_path_ends)
        p.draw_toggled.connect(self._draw_toggled)
        p.clear_requested.connect(self.path.clear)
        p.play_requested.connect(self.play_path)
        p.export_requested.connect(self._export_path_dialog)
        p.export_cancel_requested.connect(self.cancel_export)
        p.load_requested.connect(self.load_path_dialog)
        p.morph_requested.connect(self.morph_notes)
        tab.map.vertex_added.connect(self.add_vertex)
        tab.map.path_finished.connect(p.finish_drawing)

    def set_space(self, space: TimbreSpace) -> None:
        from timbre_explorer.core.synthesis.interpolation import INTERPOLATIONS

        trained = [n for n in space.instruments if n in space.centroids]
        self.panel.set_ends([SELECTED] + trained)
        self.panel.set_modes(INTERPOLATIONS)
        self.panel.set_morph_choices(list(space.instruments), list(space.dynamics))

    def show_info(self) -> None:
        pts = self.path.points()
        n = 0 if pts is None else len(pts)
        self.panel.show_path_info("No path yet." if n == 0 else f"{self.path.kind}: {n} point(s)")

    # ------------------------------------------------------------------ a session's part, a path file
    def state(self) -> SessionPath | None:
        """The path, how it plays, and the Play tab's pitch and dynamic it plays at; None without one."""
        from timbre_explorer.core.synthesis.session import SessionPath

        pts, space = self.path.points(), self.tab.space
        if pts is None or space is None:
            return None
        pitch, dynamic = self.tab.play.pitch_and_dynamic(space)
        return SessionPath(kind=self.path.kind, points=np.asarray(pts, np.float64).tolist(),
                           mode=self.panel.interpolation(), seconds=self.panel.duration(), pitch=int(pitch),
                           dynamic=dynamic)

    def restore(self, saved: SessionPath | None) -> None:
        """A session's path, with no undo history before it."""
        self.path.reset()
        if saved is not None:
            self.panel.set_playing(saved.mode, saved.seconds)
            points = [np.asarray(p, np.float64) for p in saved.points]
            frames = saved.kind not in ("points", "polyline")
            self.path.apply(PathState([] if frames else points, np.stack(points) if frames else None, saved.kind))
        else:
            self.path.apply(PathState())

    def load_path(self, file: str | os.PathLike) -> None:
        """Read a path file (checked, in a worker) onto the map: one undo step; its mode and duration on the tab,
        its pitch on the Play tab."""
        from timbre_explorer.core.synthesis.pathfile import FRAME_KINDS, read_path

        space = self.tab.space
        if space is None:
            return
        latent = space.latent_size

        def job(j) -> PathSpec:
            return read_path(file, latent=latent)

        def loaded(spec: PathSpec) -> None:
            if self.tab.space is not space:
                return
            self.panel.set_playing(spec.mode, min(max(spec.seconds, 0.2), 120.0))
            self.tab.play.panel.show_pitch(round(spec.pitch))  # it plays at its own pitch, as the Play tab's
            if spec.kind in FRAME_KINDS:
                self.path.set_frames(np.asarray(spec.points), spec.kind, "Load path")
            else:
                self.path.edit([np.asarray(p) for p in spec.points], "Load path")
            self.tab.message.emit(f"Loaded the path {os.fspath(file)} ({len(spec.points)} points).")

        self.tab.tasks.submit(job, "load path", on_done=loaded,
                              on_failed=lambda f: self.tab.error.emit("Could not load the path", f.message))

    def load_path_dialog(self) -> None:
        from PySide6 import QtWidgets

        file, _ = QtWidgets.QFileDialog.getOpenFileName(self.tab, "Load a path", "", "Path files (*.json)")
        if file:
            self.load_path(file)

    # ------------------------------------------------------------------ building the path
    def _end_point(self, text: str) -> np.ndarray | None:
        if text == SELECTED:
            return self.tab.selected
        return None if self.tab.space is None else self.tab.space.centroids.get(text)

    def set_path_ends(self) -> None:
        start, end = self.panel.ends()
        a, b = self._end_point(start), self._end_point(end)
        if a is None or b is None:
            self.tab.message.emit("Click the map first: the path starts or ends at the selected point.")
            return
        self.path.edit([np.asarray(a), np.asarray(b)], "Set path")

    def add_vertex(self, x: float, y: float) -> None:
        if self.tab.map_state is not None:
            self.tab.click_control.with_point(x, y, self.path.add)

    def _draw_toggled(self, on: bool) -> None:
        self.tab.map.tool = "draw" if on else "play"
        if on:
            self.path.start_drawing()
            self.tab.message.emit("Drawing: click to add points, double-click or Enter to finish.")

    def spec(self) -> PathSpec | None:
        """The path with the Path tab's interpolation and duration, at the Play tab's pitch and dynamic (as a click
        plays), or None without one."""
        space = self.tab.space
        assert space is not None
        pitch, dynamic = self.tab.play.pitch_and_dynamic(space)
        return self.path.spec(mode=self.panel.interpolation(), seconds=self.panel.duration(), model=space.name,
                              pitch=pitch, dynamic=dynamic)

    # ------------------------------------------------------------------ playing it
    def play_path(self) -> None:
        spec = self.spec()
        if spec is None:
            self.tab.message.emit("No path: set one on the Path tab, or draw it on the map.")
            return
        from timbre_explorer.core.synthesis.pathfile import render_spec, spec_frames, walked_on

        space, state = self.tab.space, self.tab.map_state
        assert space is not None and state is not None
        surface = state.path_surface()

        def job(j) -> PathSound:
            walked = walked_on(space, spec, surface)  # on the data, as the map's clicks (not in the plane mode)
            frames = spec_frames(space, walked)
            audio = render_spec(space, walked, cancel=j.cancelled,  # a long path stops for a new click, or a quit
                                progress=lambda done: j.progress(done, f"Rendering the path… {done:.0%}"))
            where = ", on the data" if walked is not spec else ""
            title = f"Path ({spec.kind}, {spec.mode}{where}, {spec.seconds:g} s)"
            return PathSound(Sound(audio, space.sample_rate, title, path_spec=walked), space.decode(frames).numpy())

        self.tab.synth.submit(job, "path", on_done=self.path_played, on_progress=self.tab.say_progress,
                              on_failed=self.tab.failed)

    def morph_notes(self) -> None:
        from timbre_explorer.core.synthesis.gestures import morph_spec
        from timbre_explorer.core.synthesis.pathfile import render_spec

        space = self.tab.space
        assert space is not None
        a, b = self.panel.morphed_notes()
        mode, seconds = self.panel.interpolation(), self.panel.duration()

        def job(j) -> PathSound | None:
            j.progress(0.1, "rendering the notes")
            spec = morph_spec(space, a, b, mode=mode, seconds=seconds)
            if j.cancelled():
                return None
            j.progress(0.5, "rendering the morph")
            audio = render_spec(space, spec, cancel=j.cancelled)
            return PathSound(Sound(audio, space.sample_rate, f"Morph {a} → {b}", path_spec=spec),
                             space.decode(np.asarray(spec.points)).numpy())

        self.tab.synth.submit(job, "morph", on_done=self.path_played, on_progress=self.tab.say_progress,
                              on_failed=self.tab.failed)

    def path_played(self, r: PathSound | None) -> None:
        """A path, morph or curve rendered: it plays, its spectrogram shows, and a morph's or curve's frames
        become the path (one undo step)."""
        if r is None or r.sound.path_spec is None or self.tab.space is None:
            return
        spec = r.sound.path_spec
        self.tab.play_sound(r.sound)
        img = 20 * np.log10(np.maximum(r.magnitudes.T, 1e-9))  # [bins, steps], row = band
        self.panel.show_spectrogram(img, spec.seconds, self.tab.space.frequencies)
        if spec.kind in FRAME_EDITS:
            self.path.set_frames(np.asarray(spec.points), spec.kind, FRAME_EDITS[spec.kind])

    # ------------------------------------------------------------------ export
    def export_path(self, path: str | os.PathLike) -> None:
        """Render the current path and write it with its sidecar (in the worker; the result is written there)."""
        spec = self.spec()
        if spec is None:
            self.tab.message.emit("No path to export.")
            return
        space, state = self.tab.space, self.tab.map_state
        assert space is not None and state is not None
        self.panel.show_export_progress(0.0)
        self.exporting = self.tab.tasks.submit(
            exports.path_job(space, spec, path, state.path_surface()), "export", on_done=self._exported,
            on_progress=lambda p: self.panel.show_export_progress(p.fraction), on_failed=self._export_failed)

    def cancel_export(self) -> None:
        """Stop the running export: the worker stops between pieces and writes neither file."""
        if self.exporting is not None:
            self.exporting.stop.set()
            self.exporting = None
        self.panel.show_export_progress(None)
        self.tab.message.emit("Export cancelled; nothing was written.")

    def _exported(self, result: Exported) -> None:
        self.exporting = None
        self.panel.show_export_progress(None)
        self.tab.message.emit(f"Wrote {result.wav} and {result.sidecar.name}")

    def _export_failed(self, failed: Failed) -> None:
        self.exporting = None
        self.panel.show_export_progress(None)
        self.tab.failed(failed)

    def _export_path_dialog(self) -> None:
        path = export_file_name(self.tab, "Export the path", "path.wav", "WAV (*.wav)")
        if path:
            self.export_path(path)
