"""OSC control: other music software drives the Explorer over UDP (python-osc).

:func:`start` listens on 127.0.0.1 (this machine only, unless told otherwise) on a thread of its own, turns each
message of :data:`ADDRESSES` into one of the typed messages below (:func:`parse`) and hands it to a callback on
that thread; the GUI carries it to its own thread (``gui/explorer/osc_control.py``). Messages are handled one
at a time, in the order they came: a note-off never overtakes its note-on. A message of an unknown address, or
with arguments of the wrong kind or number, is logged once per address and ignored: nothing another program
sends stops the server. A port in use is one sentence for the user, and the app goes on without OSC.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from timbre_explorer.audio.player import NoteOff, NoteOn

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 9000
PREFIX = "/timbre"


@dataclass(frozen=True)
class SetPoint:
    """Play the point at map coordinates ``(x, y)`` as a click there; ``z``: also set the map's third shown
    component (the 3D view's Z), None: the map's own."""

    x: float
    y: float
    z: float | None = None


@dataclass(frozen=True)
class SetInstrument:
    """Play the point of an instrument's name, as a click on the name does."""

    name: str


@dataclass(frozen=True)
class SetPitch:
    pitch: int  # MIDI: the Play tab's pitch


@dataclass(frozen=True)
class SetDynamic:
    dynamic: str  # one of the space's dynamics (pp … ff): the Play tab's velocity moves into its share


@dataclass(frozen=True)
class SetVelocity:
    velocity: int  # 1..127: the Play tab's velocity


@dataclass(frozen=True)
class RecallBookmark:
    name: str


@dataclass(frozen=True)
class AllNotesOff:
    pass


OscMessage = SetPoint | SetInstrument | NoteOn | NoteOff | SetPitch | SetDynamic | SetVelocity | RecallBookmark \
    | AllNotesOff

#: Every address, its arguments and what it does: the README's table is this one.
ADDRESSES: dict[str, tuple[str, str]] = {
    f"{PREFIX}/point": ("x y [z] (numbers)", "play the point at these map coordinates, as a click there"),
    f"{PREFIX}/instrument": ("name (text)", "play an instrument, as a click on its name on the map"),
    f"{PREFIX}/note": ("pitch velocity (whole numbers)", "a key down (velocity 0: up), as a MIDI key"),
    f"{PREFIX}/note_off": ("pitch (whole number)", "a key up"),
    f"{PREFIX}/pitch": ("pitch (whole number, MIDI)", "the Play tab's pitch"),
    f"{PREFIX}/dynamic": ("name (text: pp, p, mf, f, ff)", "the Play tab's velocity, in that dynamic's share"),
    f"{PREFIX}/velocity": ("velocity (whole number, 1-127)", "the Play tab's velocity"),
    f"{PREFIX}/bookmark": ("name (text)", "recall and play a bookmark"),
    f"{PREFIX}/all_notes_off": ("none", "let every key go and stop the clicked sound"),
}


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


def _whole(value: object, what: str, low: int, high: int) -> int:
    number = _number(value, what)
    if not number.is_integer() or not low <= number <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, got {value!r}")
    return int(number)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a text, got {value!r}")
    return value.strip()


def parse(address: str, args: tuple | list) -> OscMessage:  # noqa: C901
    """The typed message of one OSC message; ValueError saying what is wrong with it.

    >>> parse("/timbre/point", [0.5, -1])
    SetPoint(x=0.5, y=-1.0, z=None)
    >>> parse("/timbre/note", [60, 0])
    NoteOff(pitch=60)
    """
    args = list(args)
    if address not in ADDRESSES:
        raise ValueError(f"unknown address (known: {', '.join(ADDRESSES)})")
    name = address[len(PREFIX) + 1:]
    counts = {"point": (2, 3), "note": (2,), "all_notes_off": (0,)}.get(name, (1,))
    if len(args) not in counts:
        raise ValueError(f"takes {ADDRESSES[address][0]}, got {len(args)} arguments")
    if name == "point":
        return SetPoint(*(_number(v, "a coordinate") for v in args))
    if name == "instrument":
        return SetInstrument(_text(args[0], "the instrument"))
    if name == "note":
        pitch, velocity = _whole(args[0], "the pitch", 0, 127), _whole(args[1], "the velocity", 0, 127)
        return NoteOn(pitch, velocity) if velocity > 0 else NoteOff(pitch)
    if name == "note_off":
        return NoteOff(_whole(args[0], "the pitch", 0, 127))
    if name == "pitch":
        return SetPitch(_whole(args[0], "the pitch", 0, 127))
    if name == "dynamic":
        return SetDynamic(_text(args[0], "the dynamic"))
    if name == "velocity":
        return SetVelocity(_whole(args[0], "the velocity", 1, 127))
    if name == "bookmark":
        return RecallBookmark(_text(args[0], "the bookmark"))
    return AllNotesOff()


class OscServer:
    """A running OSC server (see the module docstring); :attr:`port` is the one bound (a free one for port 0)."""

    def __init__(self, port: int, on_message: Callable[[OscMessage], None], *, host: str = HOST):
        from pythonosc.dispatcher import Dispatcher
        from pythonosc.osc_server import BlockingOSCUDPServer

        self.on_message = on_message
        self._warned: set[str] = set()
        dispatcher = Dispatcher(strict_timing=False)  # a bundle's future time tag would hold every later message
        dispatcher.set_default_handler(self._received)
        self._server = BlockingOSCUDPServer((host, port), dispatcher)  # OSError when the port cannot be bound
        bound = self._server.server_address
        self.host, self.port = str(bound[0]), int(bound[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="osc", daemon=True)
        self._thread.start()
        log.info("OSC: listening on %s:%d", self.host, self.port)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _received(self, address: str, *args) -> None:
        """python-osc's handler, on the server's thread: never raises."""
        try:
            message = parse(address, args)
        except ValueError as exc:
            self._warn_once(address, f"OSC: ignored {address} {list(args)!r}: {exc}")
            return
        try:
            self.on_message(message)
        except Exception:  # the receiver's fault, not the sender's: said once, and the server goes on
            if address not in self._warned:
                self._warned.add(address)
                log.exception("OSC: handling %s failed", address)

    def _warn_once(self, address: str, text: str) -> None:
        if address in self._warned:
            log.debug("%s", text)
        else:
            self._warned.add(address)
            log.warning("%s", text)

    def close(self) -> None:
        """Stop listening and free the port (again: nothing)."""
        if not self._thread.is_alive():
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2.0)
        log.info("OSC: stopped listening on %s", self.address)


def start(port: int, on_message: Callable[[OscMessage], None], *, host: str = HOST) -> tuple[OscServer | None, str]:
    """Listen for OSC on ``host:port``, calling ``on_message`` on the server's thread for every good message.

    Returns ``(server, "")`` (stop it with ``server.close()``), or ``(None, why)``: one sentence for the user.
    """
    try:
        return OscServer(port, on_message, host=host), ""
    except ImportError as exc:
        log.warning("OSC: %s", exc)
        return None, "OSC is off: python-osc is not installed."
    except OSError as exc:
        log.warning("OSC: cannot listen on %s:%s: %s", host, port, exc)
        if exc.errno == errno.EADDRINUSE:
            return None, f"OSC is off: port {port} is in use by another program."
        return None, f"OSC is off: port {port} cannot be opened ({exc.strerror or exc})."


__all__ = ["HOST", "DEFAULT_PORT", "PREFIX", "ADDRESSES", "SetPoint", "SetInstrument", "SetPitch", "SetDynamic",
           "SetVelocity", "RecallBookmark", "AllNotesOff", "NoteOn", "NoteOff", "OscMessage", "parse", "OscServer",
           "start"]
