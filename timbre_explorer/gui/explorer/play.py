"""Playing the Explorer's current timbre from the computer keyboard and MIDI: the Qt side of ``audio/player.py``.

* :class:`KeyboardInput` watches the window's key presses (an application event
  filter) and turns the piano keys into :class:`~timbre_explorer.audio.player.NoteOn`
  and ``NoteOff`` events, unless a text or number field has the focus.
* :class:`MidiBridge` takes mido messages on rtmidi's thread and hands their
  events to the GUI thread through a queued signal.
* :class:`PlayControl` owns the :class:`~timbre_explorer.audio.player.Player`,
  renders the playable notes of the last clicked point in a worker, opens the
  chosen MIDI input and keeps the Play tab's settings (QSettings).

A clicked point's notes are made every 2 semitones over the model's pitch range
(``playable.key_pitches``): the Play pitch's first (the click's own note), then
the rest one by one behind it, each playable as soon as it is made; a new click
cancels the rest. The Pitch box and the octave keys are one control: the
keyboard's lower row starts at the C of the Pitch's octave, and an octave key
moves the Pitch by 12.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.audio import midi
from timbre_explorer.audio.player import ControlChange, FromInput, NoteOff, NoteOn, Player, events_from_midi
from timbre_explorer.gui import settings
from timbre_explorer.gui.explorer.results import PlayableNotes
from timbre_explorer.gui.views.explorer.play_panel import CC_OFF, PlayPanel
from timbre_explorer.gui.workers import Failed, LatestWorker

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.core.synthesis.gestures import PointNote
    from timbre_explorer.core.synthesis.session import PlaySettings
    from timbre_explorer.core.synthesis.space import TimbreSpace

log = logging.getLogger(__name__)

Key = QtCore.Qt.Key
#: Semitones above the lower row's C: two rows laid out as a piano (black keys on the row above each row).
KEY_SEMITONES: dict[int, int] = {
    Key.Key_Z: 0, Key.Key_S: 1, Key.Key_X: 2, Key.Key_D: 3, Key.Key_C: 4, Key.Key_V: 5, Key.Key_G: 6,
    Key.Key_B: 7, Key.Key_H: 8, Key.Key_N: 9, Key.Key_J: 10, Key.Key_M: 11,
    Key.Key_Q: 12, Key.Key_2: 13, Key.Key_W: 14, Key.Key_3: 15, Key.Key_E: 16, Key.Key_R: 17, Key.Key_5: 18,
    Key.Key_T: 19, Key.Key_6: 20, Key.Key_Y: 21, Key.Key_7: 22, Key.Key_U: 23,
}
OCTAVE_KEYS: dict[int, int] = {Key.Key_Minus: -1, Key.Key_Equal: +1}  # shown in the panel as "-" and "="
LOWEST, HIGHEST = (int(x) for x in settings.SCHEMA["play/low"].range)  # the lower row's C: C0 to C7
TEXT_FIELDS = (QtWidgets.QLineEdit, QtWidgets.QAbstractSpinBox, QtWidgets.QTextEdit, QtWidgets.QPlainTextEdit)
PLAIN = QtCore.Qt.KeyboardModifier.NoModifier | QtCore.Qt.KeyboardModifier.KeypadModifier


class KeyboardInput(QtCore.QObject):
    """The computer keyboard as a piano while ``panel`` (the Play tab) is shown (see the module docstring).

    Auto-repeat is ignored; a key's release ends the pitch it started, even
    after an octave change. While it plays, its keys win over the single-key
    shortcuts D (draw a path) and 3 (3D view): it accepts their
    shortcut-override events. That is why it plays only while the Play tab is
    open: elsewhere those shortcuts keep working.
    """

    note_on = QtCore.Signal(NoteOn)
    note_off = QtCore.Signal(NoteOff)
    octave_step = QtCore.Signal(int)

    def __init__(self, panel: QtWidgets.QWidget, velocity: Callable[[], int], parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.panel = panel
        self.velocity = velocity  # () -> 1..127
        self.enabled = True
        self.low = 60  # MIDI pitch of the lower row's C
        self._down: dict[int, int] = {}  # key -> the pitch it plays
        app = QtWidgets.QApplication.instance()
        assert isinstance(app, QtWidgets.QApplication)  # app.make_app's, made before any window
        app.installEventFilter(self)
        app.applicationStateChanged.connect(self._state_changed)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if kind not in (QtCore.QEvent.Type.KeyPress, QtCore.QEvent.Type.KeyRelease,
                        QtCore.QEvent.Type.ShortcutOverride) or not isinstance(event, QtGui.QKeyEvent):
            return False
        key = event.key()
        if (key not in KEY_SEMITONES and key not in OCTAVE_KEYS) or not self._plays(watched, event):
            return False
        if kind == QtCore.QEvent.Type.ShortcutOverride:
            event.accept()  # the key press comes to us instead of triggering a shortcut
            return True
        if event.isAutoRepeat():
            return True
        if kind == QtCore.QEvent.Type.KeyPress:
            if key in OCTAVE_KEYS:
                self.octave_step.emit(OCTAVE_KEYS[key])
            elif key not in self._down:
                self._down[key] = self.low + KEY_SEMITONES[key]
                self.note_on.emit(NoteOn(self._down[key], int(self.velocity())))
        elif key in self._down:
            self.note_off.emit(NoteOff(self._down.pop(key)))
        return True

    def release_all(self) -> None:
        """Note-offs for every key held (the window lost the keyboard: their releases will not come)."""
        for pitch in self._down.values():
            self.note_off.emit(NoteOff(pitch))
        self._down.clear()

    def _plays(self, watched: QtCore.QObject, event: QtGui.QKeyEvent) -> bool:
        """Whether this key event is for us: the Play tab shown, a widget of its window, no text or number field
        focused, no Ctrl/Alt/Meta/Shift."""
        if not self.enabled or not isinstance(watched, QtWidgets.QWidget) or not self.panel.isVisible():
            return False
        if watched.window() is not self.panel.window() or (event.modifiers() & ~PLAIN):
            return False
        focus = QtWidgets.QApplication.focusWidget()
        return not isinstance(focus, TEXT_FIELDS) and not isinstance(watched, TEXT_FIELDS)

    def _state_changed(self, state) -> None:
        if state != QtCore.Qt.ApplicationState.ApplicationActive:
            self.release_all()


class MidiBridge(QtCore.QObject):
    """mido messages in on any thread (rtmidi's), typed events out on the GUI thread, each with the number of
    the input it came from (``input``, set before the port opens; None: not through a port the app opened)."""

    #: an ``audio.player.Event``, or a :class:`~timbre_explorer.audio.player.FromInput` wrapping one (a union of
    #: dataclasses, which one signal type cannot name); queued across threads by Qt
    received = QtCore.Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.input: int | None = None

    def receive(self, msg) -> None:
        """The port's callback (rtmidi's thread): convert, and let Qt carry the event to the GUI thread."""
        event = events_from_midi(msg)
        number = self.input
        if event is not None:
            self.received.emit(event if number is None else FromInput(number, event))


@dataclass(frozen=True)
class CursorMove:
    """An assigned MIDI controller moved the map cursor to a fraction (0 to 1) of the visible map's width or
    height; None: that axis stays."""

    x: float | None
    y: float | None


class PlayControl(QtCore.QObject):
    """The Play tab's controller (see the module docstring). ``cursor_moved``: an assigned controller moved the
    map cursor."""

    cursor_moved = QtCore.Signal(CursorMove)

    def __init__(self, panel: PlayPanel, engine: AudioEngine, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.panel = panel
        self.player = Player(engine, on_control=self._control)
        self.keyboard = KeyboardInput(panel, panel.velocity_chosen, self)
        self.keyboard.note_on.connect(self.handle)
        self.keyboard.note_off.connect(self.handle)
        self.keyboard.octave_step.connect(self.shift_octave)
        self.bridge = MidiBridge(self)
        self.bridge.received.connect(self.handle)  # a slot of this GUI-thread object: queued from rtmidi's thread
        self.notes = LatestWorker("notes", self)
        self.filling: tuple[int, int] | None = None  # while a point's notes are made: (made, of how many)
        self.port: midi.InputPort | None = None
        self._restore()
        panel.octave_step.connect(self.shift_octave)
        panel.keyboard_toggled.connect(self._keyboard_toggled)
        panel.midi_chosen.connect(self.choose_midi)
        panel.midi_refresh.connect(lambda: self.refresh_midi(self.port_name))
        panel.controls_changed.connect(self._controls_changed)
        panel.velocity_changed.connect(lambda v: settings.write("play/velocity", v))
        panel.pitch_changed.connect(self._pitch_changed)

    @QtCore.Slot(object)
    def handle(self, event) -> None:
        """Every key and MIDI event, on the GUI thread."""
        self.player.handle(event)

    # ------------------------------------------------------------------ the current timbre
    def pitch_and_dynamic(self, space: TimbreSpace) -> tuple[int, str]:
        """The pitch a clicked point plays at, and the dynamic of the velocity (its share of the space's
        dynamics)."""
        from timbre_explorer.core.synthesis.gestures import dynamic_of_velocity

        return self.panel.pitch_chosen(), dynamic_of_velocity(space, self.panel.velocity_chosen())

    def set_point(self, space: TimbreSpace, z: np.ndarray, title: str, *, made: PointNote | None = None) -> None:
        """Make the playable notes of latent point ``z`` for the keys, in a worker, the Play pitch's first and each
        playable as soon as it is made (see the module docstring); a newer point cancels the rest.
        ``made``: the note a click of ``z`` played; its playable note is used where it fits, not made again."""
        from timbre_explorer.core.synthesis.playable import key_notes, key_pitches, playable_range

        centre, dynamic = self.pitch_and_dynamic(space)
        velocity = self.panel.velocity_chosen()  # the dynamic's: a key struck at it plays the notes as made
        low = self.keyboard.low
        # an unconditioned model's note is its one decoded frame at the pitch it has: one serves every key
        pitches = key_pitches(centre, *playable_range(space), rows=(low, low + 23)) if space.conditioned \
            else [centre]
        first = made.playable if made is not None and made.dynamic == dynamic and made.playable is not None \
            and made.playable.pitch == centre else None

        def job(j) -> PlayableNotes:
            notes = []
            for note in key_notes(space, z, pitches, play_pitch=centre, dynamic=dynamic, first=first):
                notes.append(note)
                if j.cancelled():
                    break
                if len(notes) < len(pitches):
                    j.emit(PlayableNotes(list(notes), title, velocity))  # playable now; the rest fill in behind
            return PlayableNotes(notes, title, velocity)

        self.filling = (0, len(pitches))
        self.panel.show_now(f"Preparing the keys: {title}…")
        self.notes.submit(job, "notes", on_partial=self._notes_made, on_done=self._notes_ready,
                          on_failed=self._notes_failed)

    def _notes_made(self, result: PlayableNotes) -> None:
        """Some of a point's notes: the keys play them (each the nearest made) while the rest are made."""
        self.player.set_notes(result.notes, velocity=result.velocity)
        total = self.filling[1] if self.filling else len(result.notes)
        self.filling = (len(result.notes), total)
        self.panel.show_now(f"The keys play: {result.title} (making its notes: {len(result.notes)} of {total})")

    def _notes_ready(self, result: PlayableNotes) -> None:
        self.filling = None
        self.player.set_notes(result.notes, velocity=result.velocity)
        self.panel.show_now(f"The keys play: {result.title}")

    def _notes_failed(self, failed: Failed) -> None:
        self.filling = None
        self.panel.show_now(f"The keys cannot play this point: {failed.message}")

    def clear(self) -> None:
        """Another space: nothing to play until a point of it is clicked."""
        self.notes.cancel()
        self.filling = None
        self.player.all_notes_off()
        self.player.set_notes([])
        self.panel.show_now("Click the map: the keys then play that sound.")

    def set_engine(self, engine: AudioEngine) -> None:
        self.player.all_notes_off()
        self.player.engine = engine

    # ------------------------------------------------------------------ keys
    def shift_octave(self, step: int) -> None:
        """An octave key or button: the Pitch moves by an octave, and the keyboard with it (one control)."""
        self.panel.show_pitch(self.panel.pitch_chosen() + 12 * step)

    def _pitch_changed(self, pitch: int) -> None:
        """The Pitch box moved: the keyboard's lower row starts at the C of its octave."""
        settings.write("play/pitch", pitch)
        self._set_low(pitch - pitch % 12)

    def _set_low(self, low: int) -> None:
        self.keyboard.low = min(max(low, LOWEST), HIGHEST)
        settings.write("play/low", self.keyboard.low)
        self.panel.show_octave(self.keyboard.low, "-", "=")

    def _keyboard_toggled(self, on: bool) -> None:
        self.keyboard.release_all()
        self.keyboard.enabled = on
        settings.write("play/keyboard", on)

    # ------------------------------------------------------------------ MIDI
    @property
    def port_name(self) -> str:
        return self.panel.midi_input()

    def refresh_midi(self, wanted: str) -> None:
        """List the inputs again and open ``wanted`` if it is there; the panel says once why there is no MIDI."""
        found = midi.list_inputs()
        self.panel.set_midi_inputs(found.names, wanted)
        if found.problem:
            self._close_port()
            self.panel.show_midi_status(found.problem)
        elif wanted and wanted not in found.names:
            self._close_port()
            self.panel.show_midi_status(f"The MIDI input {wanted!r} chosen last time is not connected.")
        elif wanted:
            self.choose_midi(wanted, remember=False)
        else:
            self.panel.show_midi_status("Choose a MIDI input to play from a controller.")

    def choose_midi(self, name: str, *, remember: bool = True) -> None:
        self._close_port()
        if remember:
            settings.write("play/midi_input", name)
        if not name:
            self.panel.show_midi_status("Choose a MIDI input to play from a controller.")
            return
        self.bridge.input = self.player.connect_input()  # before the port opens: its first message is numbered
        self.port, why = midi.open_input(name, self.bridge.receive)
        if self.port is None:
            self.player.disconnect_input(self.bridge.input)
        self.panel.show_midi_status(why or f"Playing from the MIDI input {name}.")

    def _close_port(self) -> None:
        port, self.port = self.port, None
        if port is not None:
            # its note-offs will not come any more, and what it sent that is still on its way is ignored
            if self.bridge.input is not None:
                self.player.disconnect_input(self.bridge.input)
            try:
                port.close()
            except Exception as exc:  # a device unplugged meanwhile
                log.warning("closing the MIDI input failed: %s", exc)

    def _controls_changed(self) -> None:
        x, y = self.panel.controllers()
        self.player.controls = frozenset(c for c in (x, y) if c != CC_OFF)
        settings.write("play/cc_x", x)
        settings.write("play/cc_y", y)

    def _control(self, event: ControlChange) -> None:
        fraction = event.value / 127
        cc_x, cc_y = self.panel.controllers()
        x = fraction if event.number == cc_x else None
        y = fraction if event.number == cc_y else None
        self.cursor_moved.emit(CursorMove(x, y))

    # ------------------------------------------------------------------ a session's part
    def state(self) -> PlaySettings:
        from timbre_explorer.core.synthesis.session import PlaySettings

        p = self.panel
        cc_x, cc_y = p.controllers()
        return PlaySettings(pitch=p.pitch_chosen(), velocity=p.velocity_chosen(), low=self.keyboard.low,
                            keyboard=self.keyboard.enabled, cc_x=cc_x, cc_y=cc_y)

    def restore(self, saved: PlaySettings) -> None:
        """A session's Play settings (kept as the app's settings too, as a change on the tab is); the keyboard
        starts at the C of the Pitch's octave."""
        self.panel.restore(velocity=saved.velocity, pitch=saved.pitch, keyboard=saved.keyboard, cc_x=saved.cc_x,
                           cc_y=saved.cc_y)
        self._set_low(self.panel.pitch_chosen() - self.panel.pitch_chosen() % 12)

    # ------------------------------------------------------------------ settings and shutdown
    def _restore(self) -> None:
        """The last session's Play settings, each through the schema (``gui/settings.py``)."""
        p = self.panel
        keyboard = settings.read("play/keyboard")
        p.restore(velocity=settings.read("play/velocity"), pitch=settings.read("play/pitch"), keyboard=keyboard,
                  cc_x=settings.read("play/cc_x"), cc_y=settings.read("play/cc_y"))
        self._set_low(p.pitch_chosen() - p.pitch_chosen() % 12)
        self.keyboard.enabled = keyboard
        self._controls_changed()
        self.refresh_midi(settings.read("play/midi_input"))

    def shutdown(self) -> None:
        app = QtWidgets.QApplication.instance()
        if app is not None:  # gone only at the process's end
            app.removeEventFilter(self.keyboard)
        self._close_port()
        self.notes.shutdown()
