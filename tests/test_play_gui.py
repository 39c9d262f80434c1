"""Playing the Explorer from the computer keyboard and MIDI, offscreen, through the real window and widgets.

The engine has no stream: the tests drive its callback as PortAudio would and measure what comes out (f0 from the
spectrum's peak, level as RMS). The notes are harmonic tones of known f0 (``signals.playable_tone``) except where
a test checks that a click on the map makes the model's own notes playable.
"""

from __future__ import annotations

import threading

import mido
import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from signals import fundamental, playable_tone, pull, rms_db

from timbre_explorer.audio.engine import VOICE_GAIN, AudioEngine
from timbre_explorer.core.synthesis.playable import midi_to_hz

pytestmark = pytest.mark.gui
SR = 22050
BLOCK = 256
Key = QtCore.Qt.Key


@pytest.fixture
def window(open_window, tiny_model, engine):
    engine.device_name, engine.status = "Test", "Audio: test (callback driven by the test)"
    w = open_window(tiny_model, engine)
    w.explorer.play.player.set_notes([playable_tone(130.81), playable_tone(261.63), playable_tone(523.25)])
    w.explorer.tabs.setCurrentIndex(w.explorer.tabs.count() - 1)  # the Play tab: the keys play while it is open
    assert w.explorer.tabs.tabText(w.explorer.tabs.currentIndex()) == "Play"
    w.explorer.map.setFocus()
    return w



def semitones_off(y: np.ndarray, pitch: float) -> float:
    return 12 * np.log2(fundamental(y) / midi_to_hz(pitch))


def press(qtbot, w, key, widget=None) -> None:
    qtbot.keyPress(widget or w.explorer.map, key)


def release(qtbot, w, key, widget=None) -> None:
    qtbot.keyRelease(widget or w.explorer.map, key)


def held_note(qtbot, w, key, seconds: float = 0.8) -> np.ndarray:
    """Hold ``key`` for ``seconds`` of output, let it go; the output while it was held (its attack left out)."""
    press(qtbot, w, key)
    y = pull(w.audio, seconds)
    release(qtbot, w, key)
    pull(w.audio, 0.4)  # its release
    return y[int(0.1 * SR):]


# ---------------------------------------------------------------------------------------------------- keyboard
def test_the_two_letter_rows_play_their_pitches(qtbot, window):
    w, panel = window, window.explorer.play_panel
    assert "C4" in panel.octave.text() and "-" in panel.octave.text() and "=" in panel.octave.text()
    assert semitones_off(held_note(qtbot, w, Key.Key_Z), 60) == pytest.approx(0, abs=0.03)  # lower row: C4
    assert semitones_off(held_note(qtbot, w, Key.Key_E), 76) == pytest.approx(0, abs=0.03)  # upper row E: E5


def test_the_octave_key_and_buttons_shift_the_rows(qtbot, window):
    w, panel = window, window.explorer.play_panel
    press(qtbot, w, Key.Key_Minus)
    release(qtbot, w, Key.Key_Minus)
    assert "C3" in panel.octave.text()
    assert semitones_off(held_note(qtbot, w, Key.Key_X), 50) == pytest.approx(0, abs=0.03)  # D3
    panel.octave_up.click()
    panel.octave_up.click()
    assert semitones_off(held_note(qtbot, w, Key.Key_Z), 72) == pytest.approx(0, abs=0.03)


def test_the_pitch_box_and_the_octave_keys_are_one_control(qtbot, window):
    """An octave key moves the Pitch by 12; the Pitch moves the keyboard to the C of its octave."""
    w, panel = window, window.explorer.play_panel
    assert (panel.pitch.value(), w.explorer.play.keyboard.low) == (60, 60)
    press(qtbot, w, Key.Key_Equal)
    release(qtbot, w, Key.Key_Equal)
    assert panel.pitch.value() == 72 and "C5" in panel.octave.text()
    panel.pitch.setValue(67)  # G4: the lower row from C4
    assert w.explorer.play.keyboard.low == 60 and "C4" in panel.octave.text()
    assert semitones_off(held_note(qtbot, w, Key.Key_B), 67) == pytest.approx(0, abs=0.03)  # B: the row's G
    panel.octave_down.click()
    assert panel.pitch.value() == 55 and w.explorer.play.keyboard.low == 48


def test_a_higher_velocity_plays_louder(qtbot, window):
    w, panel = window, window.explorer.play_panel
    panel.velocity.setValue(40)
    soft = rms_db(held_note(qtbot, w, Key.Key_C))
    panel.velocity.setValue(120)
    loud = rms_db(held_note(qtbot, w, Key.Key_C))
    assert loud - soft == pytest.approx(40 * np.log10(120 / 40), abs=0.3)  # the velocity curve, (v/127)²


def test_auto_repeat_of_a_held_key_is_ignored(qtbot, window):
    w = window
    press(qtbot, w, Key.Key_V)
    pull(w.audio, 0.3)
    repeat = QtGui.QKeyEvent(QtCore.QEvent.Type.KeyPress, Key.Key_V, QtCore.Qt.KeyboardModifier.NoModifier, "v",
                             True)  # autorep: a key held down repeats
    QtWidgets.QApplication.sendEvent(w.explorer.map, repeat)
    assert w.audio.voices_sounding == 1


def test_a_released_key_is_silent_after_its_release_time(qtbot, window):
    w = window
    press(qtbot, w, Key.Key_V)
    pull(w.audio, 0.3)
    release(qtbot, w, Key.Key_V)
    y = pull(w.audio, 0.6)
    release_s = w.explorer.play.player.notes[0].release_s
    assert rms_db(y[:int(0.05 * SR)]) > -40  # fading out
    assert np.abs(y[int(release_s * SR) + BLOCK:]).max() == 0.0
    assert w.audio.voices_sounding == 0


def test_keys_do_not_play_in_a_number_field(qtbot, window):
    w, e = window, window.explorer
    e.play_panel.pitch.setFocus()
    press(qtbot, w, Key.Key_Z, e.play_panel.pitch)
    release(qtbot, w, Key.Key_Z, e.play_panel.pitch)
    assert not pull(w.audio, 0.1).any()


def test_on_the_play_tab_the_keys_win_over_single_key_shortcuts(qtbot, window):
    w, e = window, window.explorer
    e.map.setFocus()
    press(qtbot, w, Key.Key_D)  # D# here, not "draw a path"
    assert not e.path_panel.draw_button.isChecked() and e.play.player.keys_down == {63}
    release(qtbot, w, Key.Key_D)


def test_on_another_tab_or_with_the_keyboard_off_the_letters_are_shortcuts(qtbot, window):
    w, e = window, window.explorer
    e.tabs.setCurrentIndex(0)  # another tab: D draws a path, the letters play nothing
    press(qtbot, w, Key.Key_D)
    assert e.path_panel.draw_button.isChecked() and e.play.player.keys_down == frozenset()
    e.path_panel.draw_button.setChecked(False)
    e.tabs.setCurrentIndex(e.tabs.count() - 1)
    e.play_panel.keyboard.setChecked(False)  # switched off: nothing plays, D draws again
    e.map.setFocus()
    press(qtbot, w, Key.Key_Z)
    press(qtbot, w, Key.Key_D)
    assert e.path_panel.draw_button.isChecked() and e.play.player.keys_down == frozenset()


def test_a_click_on_the_map_makes_its_sound_playable(qtbot, window):
    w, e = window, window.explorer
    e.play.player.set_notes([])
    coords = e.map_state.to_view(w.space.notes.z[np.argmax(w.space.notes.pitch == 64)])
    e.click_control.play_at(*coords)
    qtbot.waitUntil(lambda: bool(e.play.player.notes) and e.play.filling is None, timeout=30_000)
    assert e.play_panel.now.text().startswith("The keys play: Near ")
    made = sorted(round(n.pitch) for n in e.play.player.notes)  # every 2 semitones over the tiny model's 60-71
    assert made == list(range(60, 73, 2))
    y = held_note(qtbot, w, Key.Key_Z)
    assert rms_db(y) > -60  # the model's note sounds under the key


def test_a_key_at_the_velocity_a_click_was_made_for_plays_the_note_as_made(qtbot, window):
    """The velocity counts once: the click renders the notes at the velocity's dynamic, and a key struck at that
    velocity plays them at their own level (times the engine's voice gain), however soft the dynamic."""
    w, e = window, window.explorer
    e.play_panel.velocity.setValue(30)
    e.play_panel.pitch.setValue(60)
    e.play.player.set_notes([])
    e.click_control.play_at(*e.map_state.to_view(w.space.notes.z[0]))
    qtbot.waitUntil(lambda: bool(e.play.player.notes) and e.play.filling is None, timeout=30_000)
    note = e.play.player.note_for(60)
    assert round(note.pitch) == 60
    made = rms_db(note.samples[note.loop_start:note.loop_end]) + 20 * np.log10(VOICE_GAIN)
    tails = [rms_db(pull(w.audio, 0.5)) for _ in range(10)]  # the click's own sound first, to its end
    assert tails[-1] < -90
    played = held_note(qtbot, w, Key.Key_Z, seconds=2.0)[-SR:]  # the held loop, past the note's attack
    assert rms_db(played) == pytest.approx(made, abs=1.0)


# ---------------------------------------------------------------------------------------------------- MIDI
def from_rtmidi(w, *messages) -> None:
    """Hand messages to the handler the MIDI port calls, on another thread, as rtmidi does."""
    t = threading.Thread(target=lambda: [w.explorer.play.bridge.receive(m) for m in messages])
    t.start()
    t.join()


def _midi_g4_at_100(qtbot, w) -> np.ndarray:
    """MIDI note 67 at velocity 100, from rtmidi's thread: a second of what it plays (its attack left out)."""
    player = w.explorer.play.player
    from_rtmidi(w, mido.Message("note_on", note=67, velocity=100))
    qtbot.waitUntil(lambda: player.keys_down == {67}, timeout=5000)  # the event crossed to the GUI thread
    return pull(w.audio, 1.0)[int(0.1 * SR):]


def test_a_midi_note_plays_its_pitch_bends_and_ends_at_velocity_0(qtbot, window):
    w, player = window, window.explorer.play.player
    y = _midi_g4_at_100(qtbot, w)
    assert semitones_off(y, 67) == pytest.approx(0, abs=0.03)
    from_rtmidi(w, mido.Message("pitchwheel", pitch=4096))  # half way up: +1 semitone
    qtbot.waitUntil(lambda: w.audio._written == w.audio._read + 1, timeout=5000)
    y = pull(w.audio, 1.0)[int(0.1 * SR):]
    assert semitones_off(y, 67) == pytest.approx(1.0, abs=0.03)
    from_rtmidi(w, mido.Message("pitchwheel", pitch=0), mido.Message("note_on", note=67, velocity=0))
    qtbot.waitUntil(lambda: player.keys_down == frozenset(), timeout=5000)
    pull(w.audio, 0.5)
    assert w.audio.voices_sounding == 0


def test_the_pedal_holds_a_released_midi_note_at_its_velocitys_level(qtbot, window):
    w, player = window, window.explorer.play.player
    loud = rms_db(_midi_g4_at_100(qtbot, w))
    from_rtmidi(w, mido.Message("note_off", note=67))
    qtbot.waitUntil(lambda: player.keys_down == frozenset(), timeout=5000)
    pull(w.audio, 0.5)

    from_rtmidi(w, mido.Message("control_change", control=64, value=127), mido.Message("note_on", note=60, velocity=50),
                mido.Message("note_off", note=60))
    qtbot.waitUntil(lambda: player.pedal_holds == 1, timeout=5000)
    y = pull(w.audio, 1.0)
    assert w.audio.voices_sounding == 1  # the pedal holds it after its note-off
    assert rms_db(y[int(0.1 * SR):]) - loud == pytest.approx(40 * np.log10(50 / 100), abs=0.3)
    from_rtmidi(w, mido.Message("control_change", control=64, value=0))
    qtbot.waitUntil(lambda: player.pedal_holds == 0, timeout=5000)
    pull(w.audio, 0.5)
    assert w.audio.voices_sounding == 0


def test_a_note_on_in_flight_when_refresh_closes_the_midi_input_is_not_left_stuck(qtbot, window, monkeypatch):
    """Fault 17 of issue 27: a note-on the port sent just before Refresh closed it (still queued for the GUI
    thread) sounded to the end of the session, its note-off never to come; so did one sent during the close."""
    from timbre_explorer.audio import midi
    from timbre_explorer.audio.midi import MidiInputs

    w, control, player = window, window.explorer.play, window.explorer.play.player

    class Port:
        closed = False

        def close(self):
            self.closed = True
            from_rtmidi(w, mido.Message("note_on", note=72, velocity=90))  # rtmidi's last callback, mid-close

    port = Port()
    monkeypatch.setattr(midi, "list_inputs", lambda: MidiInputs(["Keys 1"]))
    monkeypatch.setattr(midi, "open_input", lambda name, callback: (port, ""))
    control.choose_midi("Keys 1")
    from_rtmidi(w, mido.Message("note_on", note=60, velocity=100))
    qtbot.waitUntil(lambda: player.keys_down == {60}, timeout=5000)
    from_rtmidi(w, mido.Message("note_on", note=67, velocity=100))  # queued: the GUI thread has not seen it yet
    monkeypatch.setattr(midi, "list_inputs", lambda: MidiInputs(problem="No MIDI input is connected; the computer "
                                                                        "keyboard plays."))
    w.explorer.play_panel.midi_refresh.emit()  # Refresh: the input is gone
    assert port.closed
    QtCore.QCoreApplication.processEvents()  # the queued note-ons arrive now
    pull(w.audio, 0.6)
    assert player.keys_down == frozenset() and w.audio.voices_sounding == 0


def test_assigned_controllers_move_the_map_cursor_and_the_keys_follow(qtbot, window):
    w, e = window, window.explorer
    e.play_panel.cc_x.setValue(16)
    e.play_panel.cc_y.setValue(17)
    (x0, x1), (y0, y1) = e.map.plotItem.vb.viewRange()
    from_rtmidi(w, mido.Message("control_change", control=16, value=127),
                mido.Message("control_change", control=17, value=0),
                mido.Message("control_change", control=1, value=64))  # not assigned: nothing moves
    qtbot.waitUntil(lambda: e.play_panel.now.text().startswith("The keys play: Point"), timeout=30_000)
    x, y = e.map_state.to_view(e.selected)
    assert x == pytest.approx(x1, abs=1e-6 * (x1 - x0)) and y == pytest.approx(y0, abs=1e-6 * (y1 - y0))
    qtbot.waitUntil(lambda: e.play.filling is None, timeout=30_000)
    assert len(e.play.player.notes) == 7  # every 2 semitones from the Play pitch, C4, over the tiny model's C4-B4


def test_the_play_settings_and_midi_choice_are_remembered(qtbot, tiny_model):
    from timbre_explorer.gui.main_window import MainWindow

    QtCore.QSettings().setValue("play/midi_input", "My Keyboard")
    first = MainWindow(model_path=tiny_model, audio=AudioEngine(SR, open_stream=False))
    qtbot.addWidget(first)
    qtbot.waitUntil(lambda: first.space is not None, timeout=30_000)  # the Explorer is enabled with a model
    panel = first.explorer.play_panel
    status = panel.midi_status.text()
    assert status.endswith(".") and status.count(". ") == 0  # one sentence: no sequencer, or not connected
    assert "My Keyboard" in status or "No MIDI" in status
    panel.cc_x.setValue(74)
    panel.velocity.setValue(33)
    panel.octave_down.click()
    first.close()
    second = MainWindow(model_path=tiny_model, audio=AudioEngine(SR, open_stream=False))
    qtbot.addWidget(second)
    panel = second.explorer.play_panel
    assert (panel.cc_x.value(), panel.cc_y.text(), panel.velocity.value()) == (74, "off", 33)
    assert second.explorer.play.keyboard.low == 48 and "C3" in panel.octave.text()
    assert QtCore.QSettings().value("play/midi_input") == "My Keyboard"
    second.close()
