"""Names that play what they say (issue 26): a click on an instrument's name, or on its centroid's mark, plays that
instrument; the status names the point by its nearest instrument centroid and the distance."""

from __future__ import annotations

import numpy as np
import pytest

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.synthesis.landmarks import comes_back_as, heard_as, name_point


def test_each_name_point_is_heard_as_its_instrument(tiny_model):
    from timbre_explorer.core.synthesis.space import TimbreSpace

    s = TimbreSpace.open(tiny_model)
    for name, centre in s.centroids.items():
        z = name_point(s, name, pitch=64, dynamic="mf")
        assert s.nearest_instruments(z, 1, trained_only=False)[0][0] == name
        assert comes_back_as(s, z[None], pitch=64, dynamic="mf") == [name]
        assert heard_as(s, z, pitch=64, dynamic="mf") == name
        assert np.array_equal(z, name_point(s, name, pitch=64, dynamic="mf"))  # the same every time
        # where this little model cannot play the instrument (Flute ff), the centroid: never another's point
        z = name_point(s, name, pitch=64, dynamic="ff")
        assert np.array_equal(z, centre) or comes_back_as(s, z[None], pitch=64, dynamic="ff") == [name]
    with pytest.raises(ParameterError, match="no instrument named 'Kazoo'"):
        name_point(s, "Kazoo", pitch=60, dynamic="ff")


@pytest.fixture
def window(open_window, tiny_model):
    pytest.importorskip("pytestqt")
    from test_explorer import RecordingAudio

    return open_window(tiny_model, RecordingAudio())


def _click_scene(qtbot, view, scene) -> None:
    from PySide6 import QtCore

    qtbot.mouseClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=view.mapFromScene(scene))


def _played(qtbot, w, before: int) -> np.ndarray:
    qtbot.waitUntil(lambda: len(w.audio.played) > before, timeout=30_000)
    return w.audio.played[-1][0]


@pytest.mark.gui
def test_a_click_on_every_name_plays_that_instrument(qtbot, window):
    e, s = window.explorer, window.space
    view = e.map
    assert 0 < len(view.labels) <= 12 and view.label_names == e.map_state.labelled(e.map_state.mask())
    pitch, dynamic = e.play.pitch_and_dynamic(s)
    right = 0
    for name, label in zip(list(view.label_names), list(view.labels)):
        box = label.sceneBoundingRect()
        assert box.isValid()
        before = len(window.audio.played)
        _click_scene(qtbot, view, box.center())  # on the name, which is placed beside its centroid
        played = _played(qtbot, window, before)
        assert e.last_sound.title.startswith(f"Near {name} (")  # the status says what plays
        point = name_point(s, name, pitch=pitch, dynamic=dynamic)
        assert np.allclose(e.selected, point)  # the name's point, not the map's point under the name
        assert played.size and np.abs(played).max() > 0
        right += comes_back_as(s, point[None], pitch=pitch, dynamic=dynamic)[0] == name \
            and heard_as(s, point, pitch=pitch, dynamic=dynamic) == name
    assert right == len(view.labels)  # 12 of 12 where there are 12


@pytest.mark.gui
def test_a_click_on_a_centroid_mark_plays_that_instrument_and_elsewhere_the_map(qtbot, window):
    from PySide6 import QtCore

    e, s = window.explorer, window.space
    view = e.map
    name = view.label_names[0]
    before = len(window.audio.played)
    mark = view.plotItem.vb.mapViewToScene(QtCore.QPointF(*e.map_state.to_view(s.centroids[name])))
    assert view.name_at(mark) == name
    _click_scene(qtbot, view, mark)
    _played(qtbot, window, before)
    assert e.last_sound.title.startswith(f"Near {name} (")
    pitch, dynamic = e.play.pitch_and_dynamic(s)
    assert np.allclose(e.selected, name_point(s, name, pitch=pitch, dynamic=dynamic))
    e.map_panel.show_labels.setChecked(False)  # names hidden: a click there is a plain click on the map
    assert view.name_at(mark) == ""

