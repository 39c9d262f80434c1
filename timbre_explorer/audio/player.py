"""Playing the current timbre from keys: typed events in, voices of the sound engine out.

The computer keyboard (``gui/explorer/play.py``) and MIDI (:func:`events_from_midi`)
both produce the frozen events below, and :meth:`Player.handle` is the one entry
point for all of them: which key holds which voice, the sustain pedal, pitch bend,
velocity to gain, and the controllers the GUI maps to the map cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mido

    from timbre_explorer.audio.engine import AudioEngine, PlayableNote

BEND_RANGE = 2.0  # semitones at full pitch-wheel deflection (the General MIDI default)
SUSTAIN_CC = 64  # the damper pedal; values of 64 and up mean down


@dataclass(frozen=True)
class NoteOn:
    pitch: int  # MIDI note number
    velocity: int  # 1..127


@dataclass(frozen=True)
class NoteOff:
    pitch: int


@dataclass(frozen=True)
class Sustain:
    down: bool


@dataclass(frozen=True)
class PitchBend:
    semitones: float


@dataclass(frozen=True)
class ControlChange:
    number: int  # 0..127
    value: int  # 0..127


Event = NoteOn | NoteOff | Sustain | PitchBend | ControlChange


def events_from_midi(msg: mido.Message) -> Event | None:
    """The event of one MIDI message, any channel, or None for messages that play nothing (clock, program…).

    A note-on of velocity 0 is a note-off (running status keyboards send it so);
    controller 64 is the sustain pedal; the pitch wheel spans ±:data:`BEND_RANGE` semitones.
    """
    kind = msg.type
    if kind == "note_on":
        return NoteOn(msg.note, msg.velocity) if msg.velocity > 0 else NoteOff(msg.note)
    if kind == "note_off":
        return NoteOff(msg.note)
    if kind == "control_change":
        if msg.control == SUSTAIN_CC:
            return Sustain(msg.value >= 64)
        return ControlChange(msg.control, msg.value)
    if kind == "pitchwheel":
        return PitchBend(BEND_RANGE * msg.pitch / (8192 if msg.pitch < 0 else 8191))
    return None


def velocity_gain(velocity: int) -> float:
    """Linear gain of a key struck at ``velocity`` (1..127): ``(velocity / 127)²``.

    The square law of the MIDI DLS specification (attenuation 40·log10(127/v) dB):
    127 plays at full level, 64 at -12 dB, 32 at -24 dB, 1 at -84 dB, about what
    a player expects from soft to hard.
    """
    v = min(max(int(velocity), 1), 127)
    return (v / 127.0) ** 2


class Player:
    """Turns events into the engine's voices for the current timbre's notes.

    ``on_control(event)`` receives the :class:`ControlChange` events whose
    numbers are in ``controls`` (the GUI moves the map cursor with them); other
    controllers are ignored. Call :meth:`handle` from one thread (the GUI's).
    """

    def __init__(self, engine: AudioEngine, *, on_control: Callable[[ControlChange], None] | None = None,
                 controls: Iterable[int] = ()):
        self.engine = engine
        self.on_control = on_control
        self.controls = frozenset(controls)
        self.notes: list[PlayableNote] = []
        self._voices: dict[int, int] = {}  # key (MIDI pitch) -> voice id, while the key is down
        self._sustained: list[int] = []  # voice ids whose keys are up but the pedal holds
        self._pedal = False

    def set_notes(self, notes: Iterable[PlayableNote]) -> None:
        """The current timbre: one note per reference pitch; a key plays the nearest. Sounding notes go on."""
        self.notes = sorted(notes, key=lambda n: n.pitch)

    def handle(self, event: Event) -> None:
        """The one entry point for keyboard and MIDI events."""
        if isinstance(event, NoteOn):
            self._note_on(event)
        elif isinstance(event, NoteOff):
            voice = self._voices.pop(event.pitch, None)
            if voice is not None:
                if self._pedal:
                    self._sustained.append(voice)
                else:
                    self.engine.note_off(voice)
        elif isinstance(event, Sustain):
            self._pedal = event.down
            if not event.down:
                for voice in self._sustained:
                    self.engine.note_off(voice)
                self._sustained.clear()
        elif isinstance(event, PitchBend):
            self.engine.pitch_bend(event.semitones)
        elif isinstance(event, ControlChange):
            if event.number in self.controls and self.on_control is not None:
                self.on_control(event)

    def note_for(self, pitch: float) -> PlayableNote | None:
        """The reference note nearest ``pitch`` (the least transposition), or None before any timbre."""
        return min(self.notes, key=lambda n: abs(n.pitch - pitch)) if self.notes else None

    def all_notes_off(self) -> None:
        """Let every note go (the pedal too), e.g. when the window loses the keyboard."""
        self._voices.clear()
        self._sustained.clear()
        self._pedal = False
        self.engine.all_notes_off()

    @property
    def keys_down(self) -> frozenset[int]:
        return frozenset(self._voices)

    @property
    def pedal_holds(self) -> int:
        """Notes sounding only because the sustain pedal is down."""
        return len(self._sustained)

    def _note_on(self, event: NoteOn) -> None:
        note = self.note_for(event.pitch)
        if note is None:
            return
        again = self._voices.pop(event.pitch, None)  # the same key struck again before its note-off
        if again is not None:
            self.engine.note_off(again)
        voice = self.engine.note_on(note, float(event.pitch), velocity_gain(event.velocity))
        if voice >= 0:
            self._voices[event.pitch] = voice


__all__ = ["NoteOn", "NoteOff", "Sustain", "PitchBend", "ControlChange", "Event", "events_from_midi",
           "velocity_gain", "Player"]
