"""Undo and redo of every kind of edit in the Explorer, through its one undo stack: each test makes an edit as a user
would, then checks the state after it, after Undo (the Edit menu's item, which names the edit) and after Redo; no
undo or redo plays a sound or pushes a step of its own. Also: a continuous gesture is one step, the history is
cleared when another model or a session opens, and the unsaved-work flag follows undo."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from test_explorer import RecordingAudio, _menu_action
from tiny import BRIGHTNESS, SR, synthetic_note

from timbre_explorer.core.signal.audio_io import save_wav


@pytest.fixture
def window(open_window, tiny_model):
    return open_window(tiny_model, RecordingAudio())


def undo_and_redo(w, text: str, check_before, check_after) -> None:
    """The last edit is ``text`` in the Edit menu: Undo shows the state before it, Redo the state after it; the
    stack keeps its steps (nothing pushed while restoring) and nothing plays."""
    stack, played = w.explorer.undo_stack, len(w.audio.played)
    count = stack.count()
    assert check_after(), "the edit is not shown"
    undo, redo = _menu_action(w, "Undo"), _menu_action(w, "Redo")
    assert undo.text() == f"&Undo {text}"
    undo.trigger()
    assert check_before(), "undo did not bring back the state before the edit"
    assert redo.text() == f"&Redo {text}" and stack.count() == count
    redo.trigger()
    assert check_after(), "redo did not make the edit again"
    assert undo.text() == f"&Undo {text}" and stack.count() == count
    assert len(w.audio.played) == played  # undo and redo are silent


def _select(w, k: int = 3) -> np.ndarray:
    z = w.explorer.space.notes.z[k].astype(np.float64)
    w.explorer.selected = z
    return z


def test_bookmarks_added_renamed_and_removed_come_back(qtbot, window):
    tab, panel = window.explorer, window.explorer.bookmarks_panel

    def kept(*names: str) -> bool:
        """The bookmarks are ``names``, as the list shows them."""
        listed = [panel.list.item(k).text() for k in range(panel.list.count())]
        return [b.name for b in tab.bookmarks.bookmarks] == list(names) == listed

    button = {b.text(): b for b in panel.findChildren(QtWidgets.QPushButton)}
    z = _select(window)
    panel.name.setText("bright flute")
    panel.add_button.click()
    undo_and_redo(window, "Add bookmark 'bright flute'", kept, lambda: kept("bright flute"))
    assert np.allclose(tab.bookmarks.bookmarks[0].z, z)

    panel.list.setCurrentRow(0)
    button["Rename"].click()  # the name becomes a box to type over
    editor = panel.list.viewport().findChild(QtWidgets.QLineEdit)
    editor.setText("dark flute")
    qtbot.keyClick(editor, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.undo_stack.undoText().startswith("Rename"))  # the editor commits queued
    undo_and_redo(window, "Rename bookmark 'bright flute' to 'dark flute'", lambda: kept("bright flute"),
                  lambda: kept("dark flute"))

    panel.list.setCurrentRow(0)
    button["Remove"].click()
    undo_and_redo(window, "Remove bookmark 'dark flute'", lambda: kept("dark flute"), kept)
    for _ in range(3):
        tab.undo_stack.undo()
    assert kept()
    for _ in range(2):
        tab.undo_stack.redo()
    assert kept("dark flute") and np.allclose(tab.bookmarks.bookmarks[0].z, z)


def test_a_path_set_drawn_and_cleared_comes_back(window):
    tab, s = window.explorer, window.space
    p = tab.path_panel
    p.start.setCurrentText("Flute")
    p.end.setCurrentText("Trumpet")
    p.set_button.click()
    undo_and_redo(window, "Set path", lambda: tab.path.points() is None,
                  lambda: np.allclose(tab.path.vertices[0], s.centroids["Flute"]))
    tab.map_state.surface()  # the map's mapping built (a worker builds it just after a model opens)
    tab.path_control.add_vertex(0.1, 0.2)  # a point added on the map
    undo_and_redo(window, "Add path point", lambda: len(tab.path.vertices) == 2,
                  lambda: len(tab.path.vertices) == 3)
    p.clear_button.click()
    undo_and_redo(window, "Clear path", lambda: len(tab.path.vertices) == 3,
                  lambda: tab.path.points() is None)


def test_a_morph_put_on_the_map_comes_off_and_back(qtbot, window, tmp_path):
    tab = window.explorer
    save_wav(tmp_path / "dark.wav", synthetic_note(60, 0.2, 0.4, seconds=0.6), SR)
    save_wav(tmp_path / "bright.wav", synthetic_note(60, 0.85, 0.4, seconds=0.6), SR)
    tab.path_panel.morph_from.file = str(tmp_path / "dark.wav")
    tab.path_panel.morph_to.file = str(tmp_path / "bright.wav")
    tab.path_panel.seconds.setValue(0.5)
    tab.path_panel.morph_button.click()
    qtbot.waitUntil(lambda: tab.path.kind == "morph", timeout=60_000)
    frames = tab.path.frames.copy()
    undo_and_redo(window, "Morph notes", lambda: (tab.path.frames is None and tab.path.kind == "points"),
                  lambda: (tab.path.kind == "morph" and np.array_equal(tab.path.frames, frames)))


def test_a_descriptor_curve_comes_off_and_back(qtbot, window):
    tab = window.explorer
    _select(window)
    tab.move_panel.curve_seconds.setValue(0.5)
    tab.move_panel.curve_button.click()
    qtbot.waitUntil(lambda: tab.path.kind == "descriptor", timeout=60_000)
    frames = tab.path.frames.copy()
    undo_and_redo(window, "Descriptor curve", lambda: tab.path.points() is None,
                  lambda: np.array_equal(tab.path.frames, frames))


def test_a_slider_move_takes_the_point_back_silently(qtbot, window):
    tab = window.explorer
    z0 = _select(window)
    before = len(window.audio.played)
    tab.click_control.play_z(z0, "the start")  # a click there: the sliders stand at its values
    qtbot.waitUntil(lambda: len(window.audio.played) > before and tab.move_panel.sliders["centroid"].isEnabled(),
                    timeout=30_000)
    slider = tab.move_panel.sliders["centroid"]
    start = slider.value()
    played = len(window.audio.played)
    slider.setValue(min(start + 300, slider.maximum()) if start < 500 else start - 300)  # released there
    qtbot.waitUntil(lambda: tab.undo_stack.undoText() == "Move the centroid slider", timeout=60_000)
    assert len(window.audio.played) == played + 1  # the move plays where it got to
    moved, moved_value = tab.selected.copy(), slider.value()
    assert not np.allclose(moved, z0)
    undo_and_redo(window, "Move the centroid slider",
                  lambda: (np.allclose(tab.selected, z0) and slider.value() == start),
                  lambda: (np.allclose(tab.selected, moved) and slider.value() == moved_value))
    assert tab.undo_stack.count() == 1  # the click before it was no edit


def test_sounds_added_and_cleared_come_back_without_encoding_again(qtbot, window, tmp_path):
    tab = window.explorer
    path = tmp_path / "oboe.wav"
    save_wav(path, synthetic_note(64, BRIGHTNESS["Oboe"], 0.6, 0.6), SR)
    tab.sound_control.add_sounds([str(path)])
    qtbot.waitUntil(lambda: len(tab.sound_control.sounds) == 1, timeout=30_000)
    z = tab.sound_control.sounds[0].z.copy()
    listed = tab.sounds_panel.list
    undo_and_redo(window, "Add sound 'oboe.wav'", lambda: (tab.sound_control.sounds == [] and not listed.count())
                 , lambda: (len(tab.sound_control.sounds) == 1 and listed.count() == 1))
    tab.sound_control.clear_sounds()
    undo_and_redo(window, "Clear the sounds",
                  lambda: (len(tab.sound_control.sounds) == 1 and np.allclose(tab.sound_control.sounds[0].z, z))
                 , lambda: tab.sound_control.sounds == [])
    tab.undo_stack.undo()
    assert len(tab.map.user_labels) == 1  # on the map again, where it was placed


def test_a_filter_change_comes_back(qtbot, window):
    tab = window.explorer
    first = tab.space.notes.instrument == 0
    tab.map_panel.set_instrument_checked(0, False)
    undo_and_redo(window, "Filter the instruments",
                  lambda: (tab.map_state.mask()[first].all() and 0 in tab.map_panel.checked_instruments()),
                  lambda: (not tab.map_state.mask()[first].any() and 0 not in tab.map_panel.checked_instruments())
                 )


def test_a_run_of_steps_of_one_gesture_is_one_undo_step(qtbot, window):
    tab = window.explorer
    low = tab.map_panel.pitch_low
    start = low.value()
    for _ in range(3):  # the box's up arrow, three times: one gesture
        low.stepUp()
    count = tab.undo_stack.count()
    assert tab.undo_stack.undoText() == f"Pitch range {start + 3} to {tab.map_panel.pitch_high.value()}"
    undo_and_redo(window, tab.undo_stack.undoText(), lambda: low.value() == start,
                  lambda: low.value() == start + 3)
    tab.edits.end_gesture()  # the box was left still (GESTURE_MS): the next step is one of its own
    low.stepUp()
    assert tab.undo_stack.count() == count + 1
    low.stepDown()  # and back, in the same gesture: no step at all
    assert tab.undo_stack.count() == count and low.value() == start + 3


def test_view_changes_come_back_colours_axes_overlays(qtbot, window):
    tab = window.explorer
    p = tab.map_panel
    p.colour_by.setCurrentText("family")
    undo_and_redo(window, "Colour by family", lambda: p.colouring() == "instrument",
                  lambda: p.colouring() == "family")
    p.basis.setCurrentIndex(p.basis.findData("discriminant"))
    undo_and_redo(window, "Axes: instruments apart (LDA)",
                  lambda: (tab.map_state.projection is tab.space.projection and not p.discriminant()),
                  lambda: (tab.map_state.projection is tab.space.discriminant_projection))
    p.axes[0].setCurrentIndex(2)
    undo_and_redo(window, "X axis LD3", lambda: tab.map_state.view_dims[0] == 0,
                  lambda: tab.map_state.view_dims[0] == 2)
    p.depth_mode.setCurrentIndex(p.depth_mode.findData("plane"))
    undo_and_redo(window, "Hidden components plane (depth slider)", lambda: tab.map_state.mode != "plane",
                  lambda: tab.map_state.mode == "plane")
    for step in (10, 20, 30):  # a drag of the depth slider: one step
        p.depth_slider.setValue(step)
    undo_and_redo(window, "Move the plane's depth", lambda: tab.map_state.depth == 0 == p.depth_step(),
                  lambda: tab.map_state.depth == 30 == p.depth_step())
    p.show_labels.setChecked(False)
    undo_and_redo(window, "Hide instrument names", lambda: p.overlays()[0],
                  lambda: not p.overlays()[0])


def test_a_wheel_zoom_is_one_step_that_comes_back_to_the_view_as_it_was(qtbot, window):
    """Even the first zoom of a fresh window, whose map was widened by the window's layout after it opened."""
    tab = window.explorer
    view = tab.map.viewport()
    before = tab.map.visible_range()
    count = tab.undo_stack.count()
    centre = QtCore.QPointF(view.width() / 2, view.height() / 2)
    for _ in range(4):  # four notches of the wheel: one zoom
        wheel = QtGui.QWheelEvent(centre, view.mapToGlobal(centre), QtCore.QPoint(), QtCore.QPoint(0, 120),
                                  QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
                                  QtCore.Qt.ScrollPhase.NoScrollPhase, False)
        QtWidgets.QApplication.sendEvent(view, wheel)
    zoomed = tab.map.visible_range()
    assert zoomed[0][1] - zoomed[0][0] < 0.9 * (before[0][1] - before[0][0])
    assert tab.undo_stack.count() == count + 1
    undo_and_redo(window, "Zoom or pan the map",
                  lambda: np.allclose(tab.map.visible_range(), before, atol=1e-6),
                  lambda: np.allclose(tab.map.visible_range(), zoomed, atol=1e-6))


def test_a_field_change_comes_back(window):
    tab = window.explorer
    f = tab.field_panel
    old = f.name()
    f.descriptor.setCurrentIndex((f.descriptor.currentIndex() + 2) % f.descriptor.count())
    new = f.name()
    undo_and_redo(window, f"Field of {new}", lambda: f.name() == old, lambda: f.name() == new)


def test_ctrl_z_and_ctrl_shift_z_undo_and_redo(qtbot, window):
    tab = window.explorer
    tab.map_panel.colour_by.setCurrentText("pitch")
    tab.map.setFocus()
    qtbot.keyClick(tab.map, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert tab.map_panel.colouring() == "instrument"
    qtbot.keyClick(tab.map, QtCore.Qt.Key.Key_Z,
                   QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert tab.map_panel.colouring() == "pitch"


def test_the_history_is_cleared_when_a_model_or_a_session_opens(qtbot, window, tiny_model, tmp_path):
    tab = window.explorer
    _select(window)
    tab.bookmarks.add("kept")
    assert window.sessions.write(tmp_path / "s.session.json") and not window.sessions.unsaved()
    tab.bookmarks.add("more")
    assert window.sessions.unsaved()
    tab.undo_stack.undo()  # the work is as saved again: nothing to lose
    assert not window.sessions.unsaved()
    tab.map_panel.colour_by.setCurrentText("family")
    with qtbot.waitSignal(window.model_loaded, timeout=30_000):
        window.sessions.open(tmp_path / "s.session.json")
    assert tab.undo_stack.count() == 0 and [b.name for b in tab.bookmarks.bookmarks] == ["kept"]
    tab.map_panel.colour_by.setCurrentText("pitch")
    assert tab.undo_stack.count() == 1
    with qtbot.waitSignal(window.model_loaded, timeout=30_000):
        window.open_model(tiny_model)
    assert tab.undo_stack.count() == 0 and not _menu_action(window, "Undo").isEnabled()
