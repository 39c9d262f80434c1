"""Clicks and drags to hear: a click plays the point under it as the core decides
(:func:`~timbre_explorer.core.synthesis.gestures.point_note`), a click on an instrument's name (or its centroid's
mark) plays that instrument (:func:`~timbre_explorer.core.synthesis.landmarks.name_point`), a drag scrubs with
short loops, and a MIDI controller assigned on the Play tab moves the point the keys play. All play at the Play
tab's pitch and dynamic, at that dynamic's one level (``synth.dynamic_level_db``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore

from timbre_explorer.gui.explorer.map_control import note_title
from timbre_explorer.gui.explorer.play import CursorMove
from timbre_explorer.gui.explorer.results import MappedPoint, NamePoint, NoteSound, Sound

if TYPE_CHECKING:
    from collections.abc import Callable

    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.gui.explorer.tab import ExplorerTab
    from timbre_explorer.gui.workers import Failed

SCRUB_INTERVAL_MS = 30
DECODER_LOADING = "Loading the model's decoder: the sound comes once it is loaded (a second or two after a start)."


def held_level_dbfs(audio: np.ndarray) -> float:
    """The RMS level (dBFS) of the middle half of a sound as the engine plays it at full volume (times its voices'
    gain, :data:`~timbre_explorer.audio.engine.VOICE_GAIN`; an exported WAV keeps the sound's own level): a held
    note's sustain, past its attack, before its release."""
    from timbre_explorer.audio.engine import VOICE_GAIN

    a = np.asarray(audio, np.float64) * VOICE_GAIN
    body = a[len(a) // 4: 3 * len(a) // 4] if len(a) >= 4 else a
    return float(20 * np.log10(np.sqrt(np.mean(body ** 2)) + 1e-12)) if body.size else -240.0


class ClickControl(QtCore.QObject):
    """The map's clicks, drags and controller moves (see the module docstring); each answer is shown on the
    spectrum view and the sliders, and the keys then play the clicked point."""

    def __init__(self, tab: ExplorerTab):
        super().__init__(tab)
        self.tab, self.map = tab, tab.map
        self._scrub_pos: tuple[float, float] | None = None
        self._scrub_last: tuple[float, float] | None = None
        self._mapping_asked = False  # this drag has asked for the map's mapping (see _scrub_tick)
        self._points_waiting = 0  # points asked of with_point while a worker builds the mapping
        self._scrub_timer = QtCore.QTimer(self, interval=SCRUB_INTERVAL_MS)
        self._scrub_timer.timeout.connect(self._scrub_tick)
        self._name_points: dict[tuple[str, float, str], np.ndarray] = {}  # NamePoint.key -> its point
        self.map.clicked.connect(self.play_at)
        self.map.name_clicked.connect(self.play_name)
        self.map.scrub_started.connect(self._scrub_start)
        self.map.scrubbed.connect(self._scrub_move)
        self.map.scrub_finished.connect(self._scrub_end)
        tab.play.cursor_moved.connect(self._cursor_moved)

    def set_space(self, space: TimbreSpace) -> None:
        self._name_points, self._points_waiting = {}, 0
        self.tab.spectrum.set_frequencies(space.frequencies)
        self.tab.spectrum.clear("Click the map to hear a point; drag to play continuously.")

    def play_at(self, x: float, y: float) -> None:
        """Decode the point under ``(x, y)`` and play it as a held note."""
        space, state = self.tab.space, self.tab.map_state
        if space is None or state is None:
            return
        self.with_point(x, y, lambda z: self.play_z(z, self.near(z)))

    def with_point(self, x: float, y: float, then: Callable[[np.ndarray], None]) -> None:
        """Call ``then`` with the latent point under map position ``(x, y)``: at once when the map's mapping is at
        hand, else once a worker has built it (the first second after a model opens: about 1 s on a busy CPU, which
        the GUI thread never waits for). Points asked meanwhile follow in the order asked (a path's vertices)."""
        state = self.tab.map_state
        assert state is not None
        surface = state.ready_surface() if self._points_waiting == 0 else None
        if surface is not None:
            then(surface.latent([x, y]))
            return
        make, self._points_waiting = state.surface_maker(), self._points_waiting + 1

        def mapped(point: MappedPoint) -> None:
            self._points_waiting = max(0, self._points_waiting - 1)
            if state is self.tab.map_state:  # the map has not changed model meanwhile
                then(point.z)

        def failed(failure: Failed) -> None:
            self._points_waiting = max(0, self._points_waiting - 1)
            self.tab.failed(failure)

        self.tab.points.submit(lambda j: MappedPoint(make().latent([x, y])), "mapping", on_done=mapped,
                               on_failed=failed)

    def near(self, z: np.ndarray) -> str:
        """A point named by the instrument whose centre is nearest in the latent space, which is what plays: the
        nearest single note on the map may be another instrument's (hovering names notes)."""
        assert self.tab.space is not None
        name, distance = self.tab.space.nearest_instruments(z, 1, trained_only=False)[0]
        return f"Near {name} ({distance:.2f} from its centre)"

    def play_name(self, name: str) -> None:
        """A click on instrument ``name``'s name or centroid mark: play the point heard as that instrument at the
        Play tab's pitch and dynamic; the worker finds it the first time (up to two seconds on a CPU)."""
        from timbre_explorer.core.synthesis.landmarks import name_point

        space = self.tab.space
        if space is None or name not in space.centroids:
            return
        pitch, dynamic = self.tab.play.pitch_and_dynamic(space)
        key = (name, float(pitch), dynamic)
        if key in self._name_points:
            self.play_z(self._name_points[key], self.near(self._name_points[key]))
            return
        self.tab.message.emit(f"Finding the point heard as {name}…")
        self.tab.synth.submit(lambda j: NamePoint(key, name_point(space, name, pitch=pitch, dynamic=dynamic)),
                              "name", on_done=self._name_found, on_failed=self.tab.failed)

    def _name_found(self, found: NamePoint) -> None:
        if self.tab.space is not None and found.key[0] in self.tab.space.centroids:
            self._name_points[found.key] = found.z
            self.play_z(found.z, self.near(found.z))

    def play_note(self, index: int) -> None:
        """Map note ``index`` (a click in the 3D view)."""
        if self.tab.space is not None:
            self.play_z(self.tab.space.notes.z[index], note_title(self.tab.space, index))

    def play_z(self, z: np.ndarray, title: str, *, pitch: float | None = None, level_db: float | None = None) -> None:
        """Play latent point ``z``: at the Play tab's pitch and dynamic, or at ``pitch`` and the loudness
        ``level_db`` (dBFS RMS: a user's sound as it was measured) when given."""
        from timbre_explorer.core.data.instruments import pitch_name

        space, st = self.tab.space, self.tab.settings
        assert space is not None
        z = np.asarray(z, np.float64)
        self.tab.selected = z
        self.tab.redraw_state()
        panel_pitch, dynamic = self.tab.play.pitch_and_dynamic(space)
        pitch = panel_pitch if pitch is None else pitch
        shown = title
        if space.conditioned:  # a played note: the Play tab's pitch and dynamic (or the sound's level)
            shown += f", played at {pitch_name(round(pitch))}" + ("" if level_db is not None else f" {dynamic}")

        def job(j) -> NoteSound:  # the synthesis modules are imported here: they import torch, which may be loading
            from timbre_explorer.core.synthesis.gestures import point_note
            from timbre_explorer.core.synthesis.synth import Envelope

            n = point_note(space, z, pitch=pitch, dynamic=dynamic, seconds=st.seconds,
                           envelope=Envelope(st.attack, st.release), level_db=level_db)
            return NoteSound(Sound(n.samples, n.sample_rate, shown, z=z), n.frame, n.descriptors, note=n,
                             keys_title=title)

        if not space.decoder_ready:  # the map is drawn before it: a click in that second waits for it, said
            self.tab.message.emit(DECODER_LOADING)
        # the keys follow once the click sounds: their notes then take no time from the click's, and reuse it
        self.tab.synth.submit(job, "note", on_done=self._note_played, on_failed=self.tab.failed)

    def _cursor_moved(self, move: CursorMove) -> None:
        """An assigned MIDI controller moved the cursor across the visible map: the keys play the point there."""
        space, state, selected = self.tab.space, self.tab.map_state, self.tab.selected
        if space is None or state is None:
            return
        (x0, x1), (y0, y1) = self.map.visible_range()
        x, y = state.to_view(selected) if selected is not None else ((x0 + x1) / 2, (y0 + y1) / 2)
        x = x0 + move.x * (x1 - x0) if move.x is not None else x
        y = y0 + move.y * (y1 - y0) if move.y is not None else y

        def at(z: np.ndarray) -> None:
            self.tab.selected = z
            self.tab.redraw_state()
            self.tab.play.set_point(space, z, f"Point ({x:+.2f}, {y:+.2f})")
        self.with_point(x, y, at)

    # ------------------------------------------------------------------ drag to scrub
    def _scrub_start(self, x: float, y: float) -> None:
        self._scrub_pos = (x, y)
        self._scrub_last = None
        self._mapping_asked = False
        self._scrub_timer.start()
        self._scrub_tick()

    def _scrub_move(self, x: float, y: float) -> None:
        self._scrub_pos = (x, y)

    def _scrub_end(self, x: float, y: float) -> None:
        self._scrub_timer.stop()
        self._scrub_pos = None
        self.tab.synth.cancel()
        self.tab.audio.stop()

    def _scrub_tick(self) -> None:
        """At most every 30 ms: render a short seamless loop of the point under the cursor (the newest wins)."""
        space, state = self.tab.space, self.tab.map_state
        if self._scrub_pos is None or self._scrub_pos == self._scrub_last or space is None or state is None:
            return
        surface = state.ready_surface()
        if surface is None:  # the mapping is still being built: the drag sounds once it is (the ticks retry)
            if not self._mapping_asked:
                make, self._mapping_asked = state.surface_maker(), True
                self.tab.points.submit(lambda j: make(), "mapping", on_failed=self.tab.failed)
            return
        self._scrub_last = self._scrub_pos
        z = surface.latent(list(self._scrub_pos))
        self.tab.selected = z
        self.map.set_marker(state.to_view(z))
        pitch, dynamic = self.tab.play.pitch_and_dynamic(space)  # as a click plays it

        def job(j) -> NoteSound:
            from timbre_explorer.core.synthesis.synth import loop

            frame = space.decode(z, pitch=pitch, dynamic=dynamic if dynamic in space.levels else None)
            sound = Sound(loop(space, frame, dynamic=dynamic, pitch=pitch), space.sample_rate, "Scrubbing", z=z)
            return NoteSound(sound, frame.numpy(), {k: float(v) for k, v in space.describe(frame).items()}, loop=True)

        self.tab.synth.submit(job, "loop", on_done=self._note_played, on_failed=self.tab.failed)

    def _note_played(self, r: NoteSound) -> None:
        self.tab.play_sound(r.sound, loop=r.loop)
        self.tab.spectrum.show_frame(r.frame, r.descriptors, r.sound.title, played_dbfs=held_level_dbfs(r.sound.audio))
        if r.keys_title and self.tab.space is not None and r.sound.z is not None:  # the keys play the clicked point
            self.tab.play.set_point(self.tab.space, r.sound.z, r.keys_title, made=r.note)
        if not r.loop:
            self.tab.slider_control.show_point(r.descriptors)
