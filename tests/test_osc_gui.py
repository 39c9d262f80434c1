"""OSC control of the running app: real UDP messages on localhost move the point, play and stop notes, set the
Play tab's pitch and dynamic and recall bookmarks, through the same paths as the mouse and keys."""

from __future__ import annotations

import socket

import numpy as np
import pytest

pytest.importorskip("pythonosc")

from pythonosc.udp_client import SimpleUDPClient  # noqa: E402
from signals import pull  # noqa: E402
from test_explorer import RecordingAudio  # noqa: E402

from timbre_explorer.gui import settings  # noqa: E402

pytestmark = pytest.mark.gui


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def window(open_window, tiny_model):
    w = open_window(tiny_model, RecordingAudio())
    panel = w.explorer.play_panel
    assert not panel.osc_on.isChecked() and panel.osc_status.text() == "OSC is off."  # off until asked
    return w


def _listen(w) -> tuple[SimpleUDPClient, int]:
    """OSC switched on in the Play tab, on a free port: a client sending to it."""
    panel, port = w.explorer.play_panel, _free_port()
    panel.osc_port.setValue(port)
    panel.osc_on.setChecked(True)
    assert panel.osc_status.text() == f"Listening for OSC on 127.0.0.1:{port} (UDP)."
    assert settings.read("osc/enabled") and settings.read("osc/port") == port
    return SimpleUDPClient("127.0.0.1", port), port


def _wait_sound(qtbot, w, before: int) -> np.ndarray:
    qtbot.waitUntil(lambda: len(w.audio.played) > before, timeout=20_000)
    return w.audio.played[-1][0]


def _point_over_udp(qtbot, w, client):
    """Sends /timbre/point near the Oboe's centre and waits for its sound: the point (x, y) and what played."""
    e, s = w.explorer, w.space
    x, y = (float(v) for v in e.map_state.to_view(s.centroids["Oboe"]) + 0.1)
    before = len(w.audio.played)
    client.send_message("/timbre/point", [x, y])
    return x, y, _wait_sound(qtbot, w, before)


def test_a_point_over_udp_plays_what_a_click_there_plays(qtbot, window):
    w = window
    e = w.explorer
    client, _ = _listen(w)
    x, y, by_osc = _point_over_udp(qtbot, w, client)
    assert np.allclose(e.selected, e.map_state.latent_at(x, y))  # the map's current point
    assert e.last_sound.title.startswith("Near ")
    before = len(w.audio.played)
    e.click_control.play_at(x, y)  # what a click there plays
    assert np.allclose(_wait_sound(qtbot, w, before), by_osc, atol=1e-6)


def test_bad_messages_over_udp_are_ignored_and_move_nothing(qtbot, window):
    w = window
    e = w.explorer
    client, _ = _listen(w)
    x, y, _ = _point_over_udp(qtbot, w, client)
    client.send_message("/timbre/point", ["left", 2])  # ignored: the app and the server go on
    client.send_message("/timbre/nowhere", [])
    qtbot.waitUntil(lambda: len(e.play.player.notes) > 0, timeout=30_000)  # the keys play the point
    w.audio.stop()
    client.send_message("/timbre/note", [62, 110])
    qtbot.waitUntil(lambda: 62 in e.play.player.keys_down, timeout=10_000)
    assert np.allclose(e.selected, e.map_state.latent_at(x, y))  # the bad messages, handled before it, moved nothing


def _keys_play_the_point(qtbot, w):
    """Listening, a point sent, and the keys ready to play it: the Play tab's controls and the client."""
    client, _ = _listen(w)
    _point_over_udp(qtbot, w, client)
    qtbot.waitUntil(lambda: len(w.explorer.play.player.notes) > 0, timeout=30_000)
    w.audio.stop()
    return w.explorer.play, client


def test_a_note_over_udp_sounds_until_its_note_off(qtbot, window):
    w = window
    play, client = _keys_play_the_point(qtbot, w)
    client.send_message("/timbre/note", [62, 110])
    qtbot.waitUntil(lambda: 62 in play.player.keys_down, timeout=10_000)
    sounding = pull(w.audio, 0.3)
    assert w.audio.voices_sounding == 1 and np.abs(sounding).max() > 1e-3
    client.send_message("/timbre/note_off", 62)
    qtbot.waitUntil(lambda: not play.player.keys_down, timeout=10_000)
    pull(w.audio, 1.0)  # its release
    assert w.audio.voices_sounding == 0


def test_all_notes_off_over_udp_silences_every_key(qtbot, window):
    w = window
    play, client = _keys_play_the_point(qtbot, w)
    client.send_message("/timbre/note", [60, 90])
    client.send_message("/timbre/note", [64, 90])
    qtbot.waitUntil(lambda: play.player.keys_down == {60, 64}, timeout=10_000)
    client.send_message("/timbre/all_notes_off", [])
    qtbot.waitUntil(lambda: not play.player.keys_down, timeout=10_000)
    pull(w.audio, 1.0)
    assert w.audio.voices_sounding == 0


def test_pitch_dynamic_and_velocity_over_udp_set_the_play_tab(qtbot, window):
    w = window
    e, s = w.explorer, w.space
    panel = e.play_panel
    client, _ = _listen(w)

    client.send_message("/timbre/pitch", 67)
    qtbot.waitUntil(lambda: panel.pitch_chosen() == 67, timeout=10_000)
    client.send_message("/timbre/dynamic", "pp")
    qtbot.waitUntil(lambda: e.play.pitch_and_dynamic(s) == (67, "pp"), timeout=10_000)
    client.send_message("/timbre/velocity", 127)
    qtbot.waitUntil(lambda: panel.velocity_chosen() == 127, timeout=10_000)


def test_an_instrument_over_udp_plays_as_a_click_on_its_name(qtbot, window):
    w = window
    e = w.explorer
    client, _ = _listen(w)
    before = len(w.audio.played)
    client.send_message("/timbre/instrument", "Trumpet")  # as a click on its name
    _wait_sound(qtbot, w, before)
    assert e.last_sound.title.startswith("Near Trumpet (")


def test_a_bookmark_over_udp_plays_its_point(qtbot, window):
    w = window
    e = w.explorer
    client, _ = _listen(w)
    before = len(w.audio.played)
    client.send_message("/timbre/instrument", "Trumpet")
    _wait_sound(qtbot, w, before)
    e.bookmarks.add("bright")
    before = len(w.audio.played)
    client.send_message("/timbre/point", [0.0, 0.0])
    _wait_sound(qtbot, w, before)
    assert not np.allclose(e.selected, e.bookmarks.bookmarks[0].z)

    before = len(w.audio.played)
    client.send_message("/timbre/bookmark", "bright")
    _wait_sound(qtbot, w, before)
    assert np.allclose(e.selected, e.bookmarks.bookmarks[0].z) and e.last_sound.title.startswith("bright")


def test_an_unknown_bookmark_or_instrument_over_udp_is_said(qtbot, window):
    w = window
    e = w.explorer
    client, _ = _listen(w)
    messages = []
    e.message.connect(messages.append)
    client.send_message("/timbre/bookmark", "nothing")
    client.send_message("/timbre/instrument", "Kazoo")
    qtbot.waitUntil(lambda: len(messages) == 2, timeout=10_000)
    assert messages == ["OSC: there is no bookmark named 'nothing'.", "OSC: the map has no instrument named 'Kazoo'."]


def test_a_port_in_use_is_said_and_the_app_goes_on(qtbot, window):
    w = window
    panel = w.explorer.play_panel
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        panel.osc_port.setValue(port)
        panel.osc_on.setChecked(True)
        assert panel.osc_status.text() == f"OSC is off: port {port} is in use by another program."
        assert w.explorer.osc.server is None
    panel.osc_on.setChecked(False)
    assert panel.osc_status.text() == "OSC is off."
