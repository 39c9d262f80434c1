"""Sessions in the window: saved and opened again (files moved in between), the autosave at the next start, the
question before work is lost, bookmarks, Load path, and a hostile session file refused in one sentence (the file
format alone: ``test_session_file.py``)."""

from __future__ import annotations

import json
import shutil

import numpy as np
from tiny import BRIGHTNESS, SR, synthetic_note

from timbre_explorer.core.signal.audio_io import save_wav
from timbre_explorer.core.synthesis.session import FORMAT, ModelRef, read_session
from timbre_explorer.gui.sessions import ask_unsaved  # imported before the tests' stand-in replaces it


def _sentence(text: str, name: str) -> None:
    """A user's error: one sentence (one line) naming the file, no traceback."""
    assert name in text and "\n" not in text.strip() and "Traceback" not in text


def _sound_file(folder, name="oboe.wav"):
    path = folder / name
    save_wav(path, synthetic_note(64, BRIGHTNESS["Oboe"], 0.6, 0.6), SR)
    return path


def _build_work(qtbot, w, sound):
    """A bookmark, a path, a placed sound, and a view and Play tab set away from their defaults."""
    tab = w.explorer
    tab.sound_control.add_sounds([str(sound)])
    qtbot.waitUntil(lambda: len(tab.sound_control.sounds) == 1, timeout=30_000)
    tab.selected = tab.space.notes.z[3].astype(np.float64)
    tab.bookmarks.add("my point")
    tab.path.edit([tab.space.notes.z[0], tab.space.notes.z[5], tab.space.notes.z[9]], "Set path")
    tab.path_panel.seconds.setValue(5.5)
    tab.map_panel.colour_by.setCurrentText("dynamic")
    tab.map_panel.set_instrument_checked(0, False)
    tab.play_panel.pitch.setValue(67)
    tab.field_panel.descriptor.setCurrentIndex(2)


def test_a_saved_session_opens_again_with_its_model_moved_and_a_sound_file_gone(qtbot, open_window, tiny_model,
                                                                                 tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    model = first / "model.timbre.safetensors"
    shutil.copy(tiny_model, model)
    w = open_window(model)
    sound = _sound_file(tmp_path)
    _build_work(qtbot, w, sound)
    assert w.sessions.unsaved()
    saved = tmp_path / "elsewhere" / "work.session.json"
    assert w.sessions.write(saved) and not w.sessions.unsaved()
    expected = w.explorer.session(ModelRef(str(model), w.sessions.model_sha256)).to_dict()
    w.close()

    shutil.move(model, saved.parent / model.name)  # the model moved beside the session; the sound is gone
    sound.unlink()
    w2 = open_window(tiny_model)
    w2.sessions.open(saved)
    qtbot.waitUntil(lambda: w2.space is not None and w2.space.path == saved.parent / model.name, timeout=30_000)
    tab = w2.explorer
    assert [b.name for b in tab.bookmarks.bookmarks] == ["my point"]
    assert np.allclose(tab.bookmarks.bookmarks[0].z, expected["bookmarks"][0]["z"])
    assert np.allclose(tab.path.points(), expected["path"]["points"]) and tab.path.kind == "polyline"
    assert tab.path_panel.duration() == 5.5 and tab.play_panel.pitch_chosen() == 67
    assert tab.map_panel.colouring() == "dynamic" and 0 not in tab.map_panel.checked_instruments()
    assert tab.field_panel.name() == expected["field"]["descriptor"]
    assert not tab.map_state.mask()[tab.space.notes.instrument == 0].any()  # the filter is applied, not only ticked
    assert tab.sound_control.sounds == []  # its file is gone: said, the rest opened
    title, text = w2.last_error
    _sentence(text, str(sound))
    assert "missing" in text and str(saved.parent / model.name) in text
    assert w2.sessions.file == saved and not w2.sessions.unsaved()


def test_the_autosave_comes_back_at_the_next_start(qtbot, open_window, tiny_model, tmp_path):
    w = open_window(tiny_model)
    _build_work(qtbot, w, _sound_file(tmp_path))
    assert w.sessions.write(tmp_path / "s.session.json")
    w.explorer.map_panel.colour_by.setCurrentText("pitch")  # after the save: a view change, kept by the autosave
    (x0, x1), (y0, y1) = w.explorer.map.visible_range()
    w.explorer.map.show_range((x0 + 0.1, x1 - 0.1), (y0, y1 + 0.2))
    zoom = w.explorer.map.visible_range()
    w.close()

    w2 = open_window(tiny_model)
    tab = w2.explorer
    assert tab.map_panel.colouring() == "pitch" and len(tab.sound_control.sounds) == 1
    assert [b.name for b in tab.bookmarks.bookmarks] == ["my point"] and tab.path.points() is not None
    (x0, x1), (y0, y1) = tab.map.visible_range()  # the map keeps its aspect: y spans what the window's shape gives
    assert np.allclose((x0, x1, (y0 + y1) / 2), (*zoom[0], sum(zoom[1]) / 2), atol=1e-6)
    assert not w2.sessions.unsaved() or w2.sessions.file is None  # the autosave is no saved file of its own


def test_unsaved_work_is_asked_about_before_it_is_thrown_away(qtbot, open_window, tiny_model, tmp_path):
    w = open_window(tiny_model)
    asked = []
    w.sessions.ask = lambda parent, what: asked.append(what) or "cancel"
    with qtbot.waitSignal(w.model_loaded, timeout=30_000):
        w.open_model(tiny_model)  # nothing to lose yet: no question
    assert asked == []
    w.explorer.selected = w.explorer.space.notes.z[0].astype(np.float64)
    w.explorer.bookmarks.add("")
    w.open_model(tiny_model)
    assert asked == ["opening another model"] and "Loading" not in w.model_label.text()
    w.explorer.sound_control.sounds.append(_fake_sound(w))
    w.explorer.sound_control.clear_sounds()
    assert asked[-1] == "clearing the sounds on the map" and len(w.explorer.sound_control.sounds) == 1
    w.close()
    assert asked[-1] == "quitting" and w.isVisible()  # Cancel keeps the window
    w.sessions.ask = lambda parent, what: asked.append(what) or "discard"
    from timbre_explorer.gui.sessions import autosave_path

    w.close()
    assert not w.isVisible() and not autosave_path().exists()  # discarded: the next start is a fresh one


def test_the_question_is_a_save_discard_cancel_box(qtbot):
    """The real question (the other tests answer it without a box): each button gives its answer."""
    from PySide6 import QtCore, QtWidgets

    parent = QtWidgets.QWidget()
    qtbot.addWidget(parent)
    for button, answer in (("Discard", "discard"), ("Save", "save"), ("Cancel", "cancel")):
        def click(button=button):
            box = QtWidgets.QApplication.activeModalWidget()
            assert "quitting" in box.text().lower()
            box.button(getattr(QtWidgets.QMessageBox.StandardButton, button)).click()

        QtCore.QTimer.singleShot(0, click)  # runs once the box's own loop is waiting
        assert ask_unsaved(parent, "quitting") == answer


def _fake_sound(w):
    from timbre_explorer.gui.explorer.sounds import UserSound

    z = w.explorer.space.notes.z[1]
    return UserSound("a.wav", z, np.zeros((0, len(z))), path="/nowhere/a.wav")


def test_load_path_reads_a_path_file_back_onto_the_map(qtbot, open_window, tiny_model, tmp_path):
    from timbre_explorer.core.synthesis.pathfile import PathSpec, write_path

    w = open_window(tiny_model)
    z = w.explorer.space.notes.z
    write_path(tmp_path / "p.json", PathSpec([z[0].tolist(), z[4].tolist(), z[8].tolist()], mode="linear",
                                             seconds=7.0, kind="polyline", pitch=67.0, dynamic="ff"))
    w.explorer.path_control.load_path(tmp_path / "p.json")
    qtbot.waitUntil(lambda: w.explorer.path.points() is not None, timeout=10_000)
    assert np.allclose(w.explorer.path.points(), z[[0, 4, 8]], atol=1e-5)
    assert w.explorer.path_panel.duration() == 7.0 and w.explorer.path_panel.interpolation() == "linear"
    assert w.explorer.play_panel.pitch.value() == 67  # it plays at its own pitch
    assert w.explorer.path_control.spec().pitch == 67.0
    assert w.explorer.undo_stack.undoText() == "Load path"

    frames = [z[k].tolist() for k in range(6)]  # a walked path's frames (an exported path's usual kind)
    write_path(tmp_path / "walked.json", PathSpec(frames, mode="slerp", seconds=2.0, kind="on_data"))
    w.explorer.path_control.load_path(tmp_path / "walked.json")
    qtbot.waitUntil(lambda: w.explorer.path.kind == "on_data", timeout=10_000)
    assert w.sessions.write(tmp_path / "walked.session.json")  # and a session keeps it
    assert read_session(tmp_path / "walked.session.json").path.kind == "on_data"

    (tmp_path / "bad.json").write_text(json.dumps({"format": "timbre-explorer-path", "version": 1, "seconds": 1,
                                                   "points": [[0.0], [1.0]]}))
    with qtbot.waitSignal(w.explorer.error, timeout=10_000) as said:
        w.explorer.path_control.load_path(tmp_path / "bad.json")
    _sentence(said.args[1], "bad.json")


def test_a_bookmark_keeps_the_selected_point_and_plays_it_again(qtbot, open_window, tiny_model):
    from test_explorer import RecordingAudio

    w = open_window(tiny_model, RecordingAudio())
    tab = w.explorer
    tab.bookmarks.add()  # nothing selected: said, nothing kept
    assert tab.bookmarks.bookmarks == []
    z = tab.space.notes.z[7].astype(np.float64)
    tab.selected = z
    tab.bookmarks.add()
    name = tab.bookmarks.bookmarks[0].name
    assert name.endswith(" 1") and tab.bookmarks_panel.list.item(0).text() == name
    tab.selected = None
    before = len(w.audio.played)
    tab.bookmarks.recall(0)
    qtbot.waitUntil(lambda: len(w.audio.played) > before, timeout=20_000)
    assert np.allclose(tab.selected, z)


def test_a_hostile_session_file_is_refused_in_one_sentence(qtbot, open_window, tiny_model, tmp_path):
    w = open_window(tiny_model)
    bad = tmp_path / "evil.session.json"
    bad.write_text(json.dumps({"format": FORMAT, "version": 1, "model": {"path": str(tiny_model), "sha256": "0" * 64},
                               "bookmarks": [{"name": "x", "z": "__import__('os')"}]}))
    with qtbot.waitSignal(w.model_failed, timeout=10_000):
        w.sessions.open(bad)
    title, text = w.last_error
    _sentence(text, str(bad))
    assert w.space is not None and w.explorer.bookmarks.bookmarks == []  # the open model stays as it was


def test_an_unreadable_autosave_is_said_and_the_model_opens_as_at_a_first_start(qtbot, open_window, tiny_model):
    from timbre_explorer.gui.sessions import autosave_path

    autosave_path().parent.mkdir(parents=True, exist_ok=True)
    autosave_path().write_text("{ half a file")
    w = open_window(tiny_model)
    assert w.explorer.bookmarks.bookmarks == [] and w.explorer.path.points() is None
    text = w.statusBar().currentMessage()
    _sentence(text, str(autosave_path()))
    assert "not restored" in text and "not a JSON file" in text
