"""The Sliders tab's controller: a descriptor slider moves the selected point until its sound reaches the value
(:func:`~timbre_explorer.core.synthesis.reach.reach`), and a descriptor curve renders a path whose sound
follows a shape over time (:func:`~timbre_explorer.core.synthesis.gestures.curve_spec`). A move is an undo step:
the point, the sliders and the keys go back, silently."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore

from timbre_explorer.gui.explorer.clicks import held_level_dbfs
from timbre_explorer.gui.explorer.results import Moved, PathSound, Sound
from timbre_explorer.gui.workers import Failed

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.session import Sliders
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.explorer.tab import ExplorerTab

SELECT_FIRST = "Select a point first (click the map)."
MOVE = "Move a slider: the point moves to reach it, keeping its timbre."
SPANS_COMING = "The sliders get their spans once the map's notes are decoded (computing…)."


@dataclass(eq=False)
class SliderPoint:
    """What a slider move changes, for its undo step: the selected point, its decoded frame and the sliders' values
    there, and its name."""

    z: np.ndarray | None
    frame: np.ndarray | None = None
    values: dict[str, float] = field(default_factory=dict)
    title: str = ""


class SliderControl(QtCore.QObject):
    """Descriptor sliders and curves (see the module docstring)."""

    def __init__(self, tab: ExplorerTab):
        super().__init__(tab)
        self.tab, self.panel = tab, tab.move_panel
        self.panel.target_changed.connect(self.move_to)
        self.panel.curve_requested.connect(self.render_curve)

    def set_space(self, space: TimbreSpace) -> None:
        """The core's methods and shapes; the sliders wait for their spans (:meth:`set_ranges`)."""
        from timbre_explorer.core.synthesis.reach import CURVES, METHODS

        self.panel.set_choices(METHODS, CURVES)
        self.panel.set_ranges({})
        self.panel.show_status(SPANS_COMING)

    def set_ranges(self, ranges: dict[str, tuple[float, float]]) -> None:
        """Each slider's span (the map's decoded notes' 1st to 99th percentile, computed after the map is drawn:
        ``preparing.prepare``); a point selected before them gets its sliders now."""
        self.panel.set_ranges(ranges)
        self.panel.show_status("Click the map to select a point." if self.tab.selected is None else MOVE)

    def show_preparing(self, text: str) -> None:
        """How far the sliders' spans are, until they are here."""
        if text and not self.panel.base_ranges:
            self.panel.show_status(text)

    def state(self) -> Sliders:
        from timbre_explorer.core.synthesis.session import Sliders

        c = self.panel.curve_request()
        return Sliders(method=c.method, curve_descriptor=c.descriptor, curve_shape=c.shape, curve_start=c.start,
                       curve_end=c.end, curve_seconds=c.seconds)

    def restore(self, saved: Sliders) -> None:
        from timbre_explorer.gui.views.explorer.move_panel import CurveRequest

        self.panel.set_curve(saved.method, CurveRequest(saved.curve_descriptor, saved.curve_shape, saved.curve_start,
                                                          saved.curve_end, saved.curve_seconds, saved.method))

    def show_point(self, descriptors: dict[str, float]) -> None:
        """A point was played: the sliders stand at its values."""
        self.panel.show_values(descriptors)
        self.panel.show_status(MOVE if self.panel.base_ranges else SPANS_COMING)

    def move_to(self, name: str, target: float) -> None:
        if self.tab.selected is None or self.tab.space is None:
            self.tab.message.emit(SELECT_FIRST)
            return
        from timbre_explorer.core.synthesis.gestures import point_note
        from timbre_explorer.core.synthesis.reach import reach
        from timbre_explorer.core.synthesis.synth import Envelope

        space, z0, method, st = self.tab.space, self.tab.selected.copy(), self.panel.method_chosen(), self.tab.settings
        pitch, dynamic = self.tab.play.pitch_and_dynamic(space)
        self.panel.show_status(f"Moving towards {name} = {target:.4g}…")

        def job(j) -> Moved:
            r = reach(space, z0, {name: target}, method=method, pitch=pitch, dynamic=dynamic)  # as it plays
            n = point_note(space, r.z, pitch=pitch, dynamic=dynamic, seconds=st.seconds,
                           envelope=Envelope(st.attack, st.release))  # what a click there plays
            sound = Sound(n.samples, space.sample_rate, f"{name} → {target:.4g} ({method})", z=r.z)
            before = space.decode(z0, pitch=pitch, dynamic=dynamic if dynamic in space.levels else None)
            return Moved(r, sound, n.frame, before.numpy())

        self.tab.synth.submit(job, "move", on_done=lambda m: self._moved(m, name, z0), on_failed=self._move_failed)

    def _moved(self, m: Moved, name: str, z0: np.ndarray) -> None:
        tab, r = self.tab, m.reached
        space, state = tab.space, tab.map_state
        if space is None or state is None:
            return
        before = SliderPoint(z0, m.before, {k: float(v) for k, v in space.describe(m.before).items()},
                             f"the point before the {name} move")
        tab.selected = r.z
        tab.play_sound(m.sound)
        tab.play.set_point(space, r.z, m.sound.title)  # the keys play where the slider moved to
        tab.map.set_trace(state.to_view(r.path) if len(r.path) else None)
        tab.redraw_state()
        desc = {k: float(v) for k, v in space.describe(m.frame).items()}
        tab.spectrum.show_frame(m.frame, desc, m.sound.title, reference=m.before,
                                played_dbfs=held_level_dbfs(m.sound.audio))
        self.panel.show_values(desc)
        moved = float(np.linalg.norm(r.z - r.path[0])) if len(r.path) else 0.0
        self.panel.show_reach_result(r.error, moved, r.holds_message())  # what it could not keep, in orange
        tab.edits.push("point", before, SliderPoint(r.z, m.frame, desc, m.sound.title), f"Move the {name} slider")

    def point(self) -> SliderPoint:
        """The selected point (the part of the tab a slider moves), without its values: they are a move's."""
        return SliderPoint(self.tab.selected)

    def show_moved_point(self, point: SliderPoint) -> None:
        """Undo or redo of a move: the point, its sliders and the keys, as the move left them; nothing plays."""
        tab = self.tab
        tab.selected = point.z
        tab.map.set_trace(None)
        if point.frame is not None:
            tab.spectrum.show_frame(point.frame, point.values, point.title)
            self.panel.show_values(point.values)
        if point.z is not None and tab.space is not None:
            tab.play.set_point(tab.space, point.z, point.title)  # the keys' notes, made in their worker

    def _move_failed(self, failed: Failed) -> None:
        self.panel.show_status(failed.message)
        self.tab.failed(failed)

    def render_curve(self) -> None:
        if self.tab.selected is None or self.tab.space is None:
            self.tab.message.emit(SELECT_FIRST)
            return
        from timbre_explorer.core.synthesis.gestures import curve_spec
        from timbre_explorer.core.synthesis.pathfile import render_spec

        space, z0, c = self.tab.space, self.tab.selected.copy(), self.panel.curve_request()
        pitch, dynamic = self.tab.play.pitch_and_dynamic(space)

        def job(j) -> PathSound:
            spec = curve_spec(space, z0, c.descriptor, c.shape, c.start, c.end, seconds=c.seconds, method=c.method,
                              pitch=pitch, dynamic=dynamic)
            audio = render_spec(space, spec, cancel=j.cancelled)
            title = f"{c.descriptor} {c.shape} {c.start:.4g} → {c.end:.4g}"
            return PathSound(Sound(audio, space.sample_rate, title, path_spec=spec),
                             space.decode(np.asarray(spec.points)).numpy())

        self.tab.synth.submit(job, "curve", on_done=self.tab.path_control.path_played,
                              on_progress=self.tab.say_progress, on_failed=self.tab.failed)
