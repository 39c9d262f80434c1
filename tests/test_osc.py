"""OSC control without Qt: real UDP messages on localhost to the server, typed messages out (audio/osc.py)."""

from __future__ import annotations

import logging
import queue
import socket

import pytest

pytest.importorskip("pythonosc")

from pythonosc.udp_client import SimpleUDPClient  # noqa: E402

from timbre_explorer.audio import osc  # noqa: E402
from timbre_explorer.audio.player import NoteOff, NoteOn  # noqa: E402


@pytest.fixture
def server():
    """A server on a free port of 127.0.0.1, its messages in a queue."""
    received: queue.Queue = queue.Queue()
    s, why = osc.start(0, received.put)
    assert s is not None, why
    yield s, received, SimpleUDPClient(s.host, s.port)
    s.close()


def _next(received: queue.Queue):
    return received.get(timeout=10)  # waits for the datagram to arrive; it comes in milliseconds


def test_every_address_arrives_as_its_typed_message(server):
    s, received, client = server
    sent = [
        ("/timbre/point", [0.25, -1.5], osc.SetPoint(0.25, -1.5)),
        ("/timbre/point", [1, 2, 3.5], osc.SetPoint(1.0, 2.0, 3.5)),
        ("/timbre/instrument", "Violin", osc.SetInstrument("Violin")),
        ("/timbre/note", [64, 90], NoteOn(64, 90)),
        ("/timbre/note", [64, 0], NoteOff(64)),
        ("/timbre/note_off", 62, NoteOff(62)),
        ("/timbre/pitch", 72, osc.SetPitch(72)),
        ("/timbre/pitch", 48.0, osc.SetPitch(48)),
        ("/timbre/dynamic", "ff", osc.SetDynamic("ff")),
        ("/timbre/velocity", 33, osc.SetVelocity(33)),
        ("/timbre/bookmark", "warm pad", osc.RecallBookmark("warm pad")),
        ("/timbre/all_notes_off", [], osc.AllNotesOff()),
    ]
    for address, args, _ in sent:
        client.send_message(address, args)
    assert [_next(received) for _ in sent] == [m for _, _, m in sent]  # all of them, in the order sent


def test_bad_messages_are_logged_once_per_address_and_ignored(server, caplog):
    s, received, client = server
    with caplog.at_level(logging.WARNING, logger="timbre_explorer.audio.osc"):
        for address, args in [("/timbre/point", [1.0]), ("/timbre/point", ["left", "up"]),
                              ("/timbre/note", [60.5, 100]), ("/timbre/note", [60, 200]),
                              ("/timbre/pitch", [True]), ("/timbre/instrument", [3]), ("/timbre/bookmark", [""]),
                              ("/timbre/all_notes_off", [1]), ("/somewhere/else", [1]), ("/timbre/point", [1, 2, 3, 4])]:
            client.send_message(address, args)
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"not OSC at all", (s.host, s.port))
        client.send_message("/timbre/pitch", 61)  # after them all: the server still listens
        assert _next(received) == osc.SetPitch(61)
    assert received.empty()
    warned = [r.getMessage() for r in caplog.records]
    assert sum(w.startswith("OSC: ignored /timbre/point ") for w in warned) == 1
    assert sum(w.startswith("OSC: ignored /timbre/note ") for w in warned) == 1
    assert any("/somewhere/else" in w and "unknown address" in w for w in warned)


def test_a_failing_receiver_does_not_stop_the_server(caplog):
    received: queue.Queue = queue.Queue()

    def receiver(message):
        if isinstance(message, osc.SetPitch) and message.pitch == 13:
            raise RuntimeError("the receiver broke")
        received.put(message)

    s, _ = osc.start(0, receiver)
    assert s is not None
    try:
        client = SimpleUDPClient(s.host, s.port)
        client.send_message("/timbre/pitch", 13)
        client.send_message("/timbre/pitch", 14)
        assert _next(received) == osc.SetPitch(14)
    finally:
        s.close()


def test_a_port_in_use_is_one_sentence(server):
    s, _, _ = server
    other, why = osc.start(s.port, lambda m: None)
    assert other is None
    assert why == f"OSC is off: port {s.port} is in use by another program."


def test_a_closed_server_frees_its_port(server):
    s, _, _ = server
    s.close()
    again, why = osc.start(s.port, lambda m: None)
    assert again is not None, why
    again.close()


def test_the_readme_documents_every_address():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Control from other software (OSC)"):]
    for address in osc.ADDRESSES:
        assert f"`{address}`" in section
