"""The Explorer's own 3D toggle on a real OpenGL context (run under Xvfb by ``tests/test_gl_views.py``).

The widget itself is tested in ``test_map3d.py``; here the Map panel's "3D view" box, the filters and a click
in 3D go through the main window, down to the sound handed to the audio engine.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore
from test_explorer import RecordingAudio

pytestmark = [pytest.mark.gl, pytest.mark.gui, pytest.mark.filterwarnings("error::RuntimeWarning")]


@pytest.fixture
def window(qtbot, tiny_model, tmp_path):
    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    make_app()
    w = MainWindow(model_path=tiny_model, audio=RecordingAudio())
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.space is not None, timeout=30_000)
    yield w
    w.close()


def test_the_3d_box_shows_the_three_components_filters_follow_and_a_click_plays_the_note(qtbot, window):
    e, s = window.explorer, window.space
    e.map_panel.three_d.setChecked(True)
    view = e.map_stack.currentWidget()
    assert view is e.map_control.view3d and view is not e.map
    qtbot.waitUntil(lambda: view.view.width() > 300)
    dims = list(e.map_panel.dims())
    assert len(dims) == 3
    expected = s.projection.forward(s.notes.z)[:, dims]
    assert np.allclose(view._shown_xyz, expected, atol=1e-5)  # every note, at its three components

    e.map_panel.set_instrument_checked(0, False)  # the legend hides an instrument in 3D too
    assert not np.isin(view._shown_index, np.flatnonzero(s.notes.instrument == 0)).any()
    assert len(view._shown_index) == int((s.notes.instrument != 0).sum())

    # a click on a note drawn in 3D plays that note's latent point
    x, y, _, ok = view.project(view._shown_xyz)
    target = next(i for i in range(len(x)) if ok[i] and view.pick(x[i], y[i]) == view._shown_index[i])
    index = int(view._shown_index[target])
    before = len(window.audio.played)
    qtbot.mouseClick(view.view, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(round(x[target]), round(y[target])))
    qtbot.waitUntil(lambda: len(window.audio.played) > before, timeout=20_000)
    assert np.allclose(e.selected, s.notes.z[index])
    samples, loop = window.audio.played[-1]
    assert not loop and np.abs(samples).max() > 0.01

    e.map_panel.three_d.setChecked(False)
    assert e.map_stack.currentWidget() is e.map
