"""MIDI input through mido on python-rtmidi: list the inputs, open one with a callback.

No MIDI is a mode, not an error: without the ALSA sequencer (``/dev/snd/seq``, as on
a machine with no sound devices), without python-rtmidi, or with no input
connected, these functions return one sentence saying why, and the app plays
from the computer keyboard alone. The callback runs on rtmidi's own thread:
the GUI forwards what it receives to its thread (``gui/explorer/play.py``).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

BACKEND = "mido.backends.rtmidi"
SEQUENCER = "/dev/snd/seq"


class InputPort(Protocol):
    """An open MIDI input (mido's): messages go to its callback until it is closed."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class MidiInputs:
    """The MIDI inputs there are, or (``names`` empty) one sentence saying why there are none."""

    names: list[str] = field(default_factory=list)
    problem: str = ""


def _backend():
    import mido

    return mido.Backend(BACKEND, load=True)


def _no_sequencer() -> str:
    """Why MIDI cannot work here before even asking rtmidi (which prints ALSA's complaint to the terminal)."""
    if sys.platform.startswith("linux") and not os.path.exists(SEQUENCER):
        return f"No MIDI: this machine has no ALSA sequencer ({SEQUENCER}); the computer keyboard still plays."
    return ""


def list_inputs() -> MidiInputs:
    """The names of the MIDI inputs, as :func:`open_input` takes them."""
    why = _no_sequencer()
    if why:
        return MidiInputs(problem=why)
    try:
        names = list(dict.fromkeys(_backend().get_input_names()))
    except ImportError as exc:
        log.warning("MIDI: %s", exc)
        return MidiInputs(problem="No MIDI: python-rtmidi is not installed; the computer keyboard still plays.")
    except Exception as exc:  # rtmidi's SystemError/RtMidiError: the MIDI system would not open
        log.warning("MIDI: %s", exc)
        return MidiInputs(problem=f"No MIDI: the MIDI system cannot be opened ({exc}); the computer keyboard still "
                                  "plays.")
    if not names:
        return MidiInputs(problem="No MIDI input is connected; the computer keyboard plays.")
    return MidiInputs(names)


def open_input(name: str, callback: Callable) -> tuple[InputPort | None, str]:
    """Open the input ``name``, calling ``callback(mido.Message)`` on rtmidi's thread for every message.

    Returns ``(port, "")`` (close it with ``port.close()``), or ``(None, why)``.
    """
    found = list_inputs()
    if found.problem:
        return None, found.problem
    if name not in found.names:
        return None, f"The MIDI input {name!r} is not connected."
    try:
        port = _backend().open_input(name, callback=callback)
    except Exception as exc:  # taken by another program, unplugged meanwhile…
        log.warning("MIDI: opening %r failed: %s", name, exc)
        return None, f"The MIDI input {name!r} cannot be opened ({exc})."
    log.info("MIDI input: %s", name)
    return port, ""


__all__ = ["InputPort", "MidiInputs", "list_inputs", "open_input"]
