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


@dataclass(frozen=True)
class FromInput:
    """An event of the MIDI input that :meth:`Player.connect_input` numbered ``input``."""

    input: int
    event: Event


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


BOOST_LIMIT_DB = 0.0  # a key struck harder than its notes were made for plays this much louder at most: none, the
# notes are levelled with the headroom of eight voices (audio/engine.py)


def velocity_gain(velocity: int, made_for: int = 127) -> float:
    """Linear gain of a key struck at ``velocity`` (1..127) on notes made for a key struck at ``made_for``.

    The square law of the MIDI DLS specification (attenuation 40·log10(127/v) dB),
    taken relative to ``made_for``: the app renders a point's notes at the dynamic
    of the Play tab's velocity, so a key struck at that velocity plays them at that
    dynamic's level (the velocity counts once), softer keys follow the law down
    (half the velocity: -12 dB) and harder ones play as loud (:data:`BOOST_LIMIT_DB`).
    """
    v, r = (min(max(int(x), 1), 127) for x in (velocity, made_for))
    return min((v / r) ** 2, 10.0 ** (BOOST_LIMIT_DB / 20.0))


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
        self.made_for = 127  # the velocity the notes' level was made for
        self._voices: dict[int, int] = {}  # key (MIDI pitch) -> voice id, while the key is down
        self._sustained: list[int] = []  # voice ids whose keys are up but the pedal holds
        self._pedal = False
        self._pedal_input: int | None = None  # the MIDI input whose pedal is down, if one is
        self._key_input: dict[int, int] = {}  # key -> the MIDI input that holds it down
        self._inputs: set[int] = set()  # MIDI inputs connected now
        self._last_input = 0

    def set_notes(self, notes: Iterable[PlayableNote], *, velocity: int = 127) -> None:
        """The current timbre: one note per reference pitch; a key plays the nearest. Sounding notes go on.
        ``velocity``: the key velocity the notes' level was made for (:func:`velocity_gain`)."""
        self.notes = sorted(notes, key=lambda n: n.pitch)
        self.made_for = velocity

    def connect_input(self) -> int:
        """Number a MIDI input about to open: its events come as :class:`FromInput` with this number."""
        self._last_input += 1
        self._inputs.add(self._last_input)
        return self._last_input

    def disconnect_input(self, number: int) -> None:
        """The input has gone: the keys it holds and its pedal are let go, and what is still on its way from
        it (a note-on sent just before the port closed, whose note-off will never come) is ignored."""
        self._inputs.discard(number)
        for pitch in [p for p, n in self._key_input.items() if n == number]:
            self.handle(NoteOff(pitch))
        if self._pedal and self._pedal_input == number:
            self.handle(Sustain(False))
        self.engine.pitch_bend(0.0)  # a wheel left deflected would bend the keys that still play

    def handle(self, event: Event | FromInput) -> None:  # noqa: C901
        """The one entry point for keyboard and MIDI events."""
        source = None
        if isinstance(event, FromInput):
            if event.input not in self._inputs:
                return  # sent before its input went, delivered after
            source, event = event.input, event.event
        if isinstance(event, NoteOn):
            self._note_on(event)
            if source is not None and event.pitch in self._voices:
                self._key_input[event.pitch] = source
        elif isinstance(event, NoteOff):
            self._key_input.pop(event.pitch, None)
            voice = self._voices.pop(event.pitch, None)
            if voice is not None:
                if self._pedal:
                    self._sustained.append(voice)
                else:
                    self.engine.note_off(voice)
        elif isinstance(event, Sustain):
            self._pedal, self._pedal_input = event.down, source
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
        self._key_input.clear()
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
        self._key_input.pop(event.pitch, None)
        again = self._voices.pop(event.pitch, None)  # the same key struck again before its note-off
        if again is not None:
            self.engine.note_off(again)
        voice = self.engine.note_on(note, float(event.pitch), velocity_gain(event.velocity, self.made_for))
        if voice >= 0:
            self._voices[event.pitch] = voice


__all__ = ["NoteOn", "NoteOff", "Sustain", "PitchBend", "ControlChange", "Event", "FromInput", "events_from_midi",
           "velocity_gain", "BOOST_LIMIT_DB", "Player"]
