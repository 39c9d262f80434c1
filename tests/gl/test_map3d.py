"""The 3-D map view on a real OpenGL context (Xvfb + Mesa): drawing, picking, clicking.

Skipped on Qt's offscreen platform (conftest.py); ``tests/test_gl_views.py``
runs this folder under ``xvfb-run``.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

# pyqtgraph reports drawing errors as RuntimeWarnings and carries on: make them failures.
pytestmark = [pytest.mark.gl, pytest.mark.filterwarnings("error::RuntimeWarning")]

RED, GREEN, BLUE = (1.0, 0.0, 0.0, 1.0), (0.0, 1.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0)


@pytest.fixture
def points():
    """500 points in three separated clusters, one pure colour each."""
    rng = np.random.default_rng(440)
    centres = np.array([[-6.0, 0.0, 0.0], [6.0, 0.0, 1.0], [0.0, 6.0, 3.0]])
    cls = np.repeat([0, 1, 2], [170, 165, 165])
    xyz = centres[cls] + rng.normal(0, 0.7, (len(cls), 3))
    colors = np.array([RED, GREEN, BLUE])[cls]
    return xyz, colors, cls


def shown_view(qtbot, points, size=(640, 480)):
    """A Map3DView of ``points``, on screen."""
    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.views.map3d_view import Map3DView

    make_app()
    v = Map3DView()
    qtbot.addWidget(v)
    v.resize(*size)
    v.set_points(*points[:2])
    v.show()
    qtbot.waitExposed(v)
    return v


@pytest.fixture
def view(qtbot, points):
    v = shown_view(qtbot, points)
    qtbot.waitUntil(lambda: v.view.width() > 300)
    return v


def pixels(image: QtGui.QImage) -> np.ndarray:
    """``[H, W, 3]`` uint8 of a QImage."""
    image = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)
    return rows[:, :3 * w].reshape(h, w, 3).copy()  # a copy: the buffer dies with the converted image


def count(px: np.ndarray, rgb) -> int:
    """Pixels within a small tolerance of ``rgb`` (0..1)."""
    return int((np.abs(px.astype(int) - np.round(np.array(rgb[:3]) * 255)).max(-1) <= 8).sum())


def isolated(view, xyz, min_px=14.0) -> int:
    """A point whose projected pixel is at least ``min_px`` from every other point's."""
    x, y, _, ok = view.project(xyz)
    d = np.hypot(x[:, None] - x[None], y[:, None] - y[None])
    np.fill_diagonal(d, np.inf)
    nearest = np.where(ok, d.min(1), 0)
    i = int(np.argmax(nearest))
    assert nearest[i] >= min_px, "no isolated point to test with"
    return i


def test_renders_every_cluster_colour(view, points):
    px = pixels(view.grab_image())
    assert px.shape[:2] == (view.view.height(), view.view.width())
    for rgb in (RED, GREEN, BLUE):
        assert count(px, rgb) > 150, f"too few pixels of {rgb}"
    # the rest is (mostly) background, not a blank or garbage frame
    background = np.array(QtGui.QColor("#15171c").getRgb()[:3])
    assert (np.abs(px.astype(int) - background).max(-1) <= 8).mean() > 0.5


def test_a_second_view_and_a_reparented_view_still_draw(view, qtbot, points):
    """pyqtgraph caches shader programs per class, compiled in the first GL context (see ``_GLView``)."""
    from PySide6 import QtWidgets

    second = shown_view(qtbot, points, (400, 300))
    for v in (view, second):
        px = pixels(v.grab_image())
        assert all(count(px, rgb) > 50 for rgb in (RED, GREEN, BLUE))

    window = QtWidgets.QWidget()
    qtbot.addWidget(window)
    QtWidgets.QVBoxLayout(window).addWidget(view)  # a new top-level window: a new GL context
    window.resize(500, 400)
    window.show()
    qtbot.waitExposed(window)
    px = pixels(view.grab_image())
    assert all(count(px, rgb) > 50 for rgb in (RED, GREEN, BLUE))
    view.setParent(None)  # the window dies with this function; qtbot closes the view afterwards


def test_first_fit_shows_every_point_and_later_data_keeps_the_camera(view, points):
    xyz = points[0]
    x, y, _, ok = view.project(xyz)
    assert ok.all()
    assert (x > 0).all() and (x < view.view.width()).all() and (y > 0).all() and (y < view.view.height()).all()
    params = view.view.cameraParams()
    view.set_points(xyz * 3, points[1])  # new data: the camera stays where it was
    assert view.view.cameraParams() == params
    view.reset_camera()
    assert view.view.cameraParams()["distance"] > 2 * params["distance"]


def test_pick_finds_a_point_skips_hidden_ones_and_empty_space(view, points):
    xyz = points[0]
    i = isolated(view, xyz)
    x, y, _, _ = view.project(xyz)
    assert view.pick(x[i], y[i]) == i
    assert view.pick(x[i] + 6, y[i] - 5) == i  # near enough
    mask = np.ones(len(xyz), bool)
    mask[i] = False
    view.set_visible(mask)
    assert view.pick(x[i], y[i]) is None  # the hidden point is never returned
    assert view.pick(2, 2) is None
    view.set_visible(~mask)  # only that point
    assert view.pick(x[i], y[i]) == i
    view.set_visible(np.zeros(len(xyz), bool))
    assert view.pick(x[i], y[i]) is None


def test_pick_prefers_the_point_in_front(view, points):
    xyz, colors, _ = points
    i = isolated(view, xyz)
    camera = np.array(view.view.cameraPosition().toTuple())
    front = xyz[i] + 0.3 * (camera - xyz[i])  # on the same line of sight, nearer the camera
    view.set_points(np.vstack([xyz, front]), np.vstack([colors, [[1, 1, 0, 1]]]))
    x, y, _, _ = view.project(np.vstack([xyz[i], front]))
    assert np.hypot(x[0] - x[1], y[0] - y[1]) < 0.5
    assert view.pick(x[0], y[0]) == len(xyz)
    mask = np.ones(len(xyz) + 1, bool)
    mask[-1] = False
    view.set_visible(mask)
    assert view.pick(x[0], y[0]) == i


def test_click_emits_the_index_and_drag_rotates_without_emitting(view, qtbot, points):
    xyz = points[0]
    i = isolated(view, xyz)
    x, y, _, _ = view.project(xyz)
    pos = QtCore.QPoint(round(x[i]), round(y[i]))
    left = QtCore.Qt.MouseButton.LeftButton
    with qtbot.waitSignal(view.point_clicked, timeout=2000, check_params_cb=lambda index: index == i):
        qtbot.mouseClick(view.view, left, pos=pos)

    azimuth = view.view.opts["azimuth"]
    with qtbot.assertNotEmitted(view.point_clicked, wait=100):
        qtbot.mousePress(view.view, left, pos=pos)
        qtbot.mouseMove(view.view, pos + QtCore.QPoint(20, 0))
        qtbot.mouseMove(view.view, pos + QtCore.QPoint(40, 0))
        qtbot.mouseRelease(view.view, left, pos=pos + QtCore.QPoint(40, 0))
    assert view.view.opts["azimuth"] != azimuth  # the drag orbited the camera

    with qtbot.assertNotEmitted(view.point_clicked, wait=100):  # a click on empty space says nothing
        qtbot.mouseClick(view.view, left, pos=QtCore.QPoint(2, 2))


def test_labels_path_marker_and_axis_names_set_and_clear(view, points):
    xyz, _, cls = points
    items = view.view.items
    centroids = np.array([xyz[cls == k].mean(0) for k in range(3)])
    view.set_labels(["Violin", "Flute", "Oboe"], centroids)
    assert [t.text for t in view.label_items] == ["Violin", "Flute", "Oboe"]
    assert all(t in items for t in view.label_items)
    old = list(view.label_items)
    view.set_labels(["Horn"], centroids[:1])
    assert len(view.label_items) == 1 and not any(t in view.view.items for t in old)

    view.set_path(np.linspace(centroids[0], centroids[1], 20))
    assert all(p in view.view.items for p in view.path_items)
    view.set_marker(centroids[2])
    assert all(m in view.view.items for m in view.marker_items)
    view.set_axis_labels(("PC1 (15%)", "PC2 (13%)", "PC3 (12%)"))
    assert "PC2 (13%)" in view.axis_label.text()
    assert [t.text for t in view.axis_texts] == ["PC1 (15%)", "PC2 (13%)", "PC3 (12%)"]

    px = pixels(view.grab_image())
    assert count(px, (1.0, 1.0, 1.0)) > 20  # the marker's white ring
    assert count(px, (1.0, 0.85, 0.25)) > 10  # the path

    view.set_path(None)
    view.set_marker(None)
    view.set_labels([], np.zeros((0, 3)))
    assert not any(item in view.view.items for item in (*view.path_items, *view.marker_items))
    assert view.label_items == []
    px = pixels(view.grab_image())
    assert count(px, (1.0, 0.85, 0.25)) == 0


def test_bad_shapes_are_refused(view, points):
    xyz, colors, _ = points
    with pytest.raises(ValueError):
        view.set_points(xyz[:, :2], colors)
    with pytest.raises(ValueError):
        view.set_visible(np.ones(3, bool))
    with pytest.raises(ValueError):
        view.set_labels(["a", "b"], xyz[:1])
