"""The 2-D latent map: every note as a point, clickable anywhere, with paths, overlays and descriptor fields.

Mouse, as a sound tool wants it: a left click plays the point under the
cursor (anywhere, not only on notes; on an instrument's name or the ring
at its centroid, that instrument) and a left drag plays continuously
while moving (scrubbing). The view pans with the middle button or
Shift/Ctrl + left drag, and zooms with the wheel. With the draw tool on,
left clicks add vertices to a free path instead.

Drawing follows pyqtgraph's advice for large scatters: one
``ScatterPlotItem`` in pixel mode without outlines, one shared brush per
colour (each colour's symbol looked up once, :class:`NoteScatter`), and
picking by a KD-tree on the visible points rather than pyqtgraph's per-item
hover tests. While the view moves (a pan or a zoom, until
:data:`SETTLE_MS` after the last range change) it draws a fixed random subset
of the notes (level of detail: a 300k-note frame costs what a 30k one does),
and every shown note again once the view settles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from timbre_explorer.gui.views.map_field import FieldLayer
from timbre_explorer.gui.views.map_labels import NameLabels
from timbre_explorer.gui.views.map_layout import LOD_POINTS, PICK_PIXELS, level_of_detail
from timbre_explorer.gui.views.map_mouse import MapViewBox, NoteScatter, Scatter, transparent
from timbre_explorer.gui.views.widgets import PLOT_BACKGROUND

POINT_SIZE = 6
#: The view counts as settled this long after its last range change: then every shown note is drawn again.
SETTLE_MS = 150


class MapView(pg.PlotWidget):
    """The map widget: a thin view; the Explorer decides what the clicks mean."""

    clicked = QtCore.Signal(float, float)
    name_clicked = QtCore.Signal(str)  # a click on an instrument's name or its centroid's mark
    scrub_started = QtCore.Signal(float, float)
    scrubbed = QtCore.Signal(float, float)
    scrub_finished = QtCore.Signal(float, float)
    vertex_added = QtCore.Signal(float, float)
    path_finished = QtCore.Signal()
    hovered = QtCore.Signal(int)  # index of the note under the cursor, -1 for none
    files_dropped = QtCore.Signal(list)
    panned = QtCore.Signal()  # the user panned or zoomed: the range shown changed
    reshaped = QtCore.Signal()  # the widget's size changed, and with it (the aspect is locked) the range shown

    def __init__(self, parent=None):
        self.tool = "play"  # or "draw"
        super().__init__(parent, viewBox=MapViewBox(self))
        self._style()
        self._xy = np.zeros((0, 2))
        self._classes = np.zeros(0, int)
        self._visible = np.zeros(0, bool)
        self._visible_index = np.zeros(0, int)
        self._tree = None
        self.lod_points = LOD_POINTS
        self._moving = False
        self._fitted = False
        self.field = FieldLayer(self.plotItem)  # a descriptor's heatmap, under the notes
        # the notes, commonest colour first (so a rare instrument is not buried under a big one), and a fixed
        # subset of them drawn instead while the view moves; which note each point is: ``order[item]``
        self.notes, self.moving_notes = (transparent(NoteScatter(pxMode=True, size=POINT_SIZE, pen=None))
                                         for _ in range(2))
        self.order = {self.notes: np.zeros(0, int), self.moving_notes: np.zeros(0, int)}
        for item in (self.notes, self.moving_notes):
            item.setZValue(-1)  # above the field (z -20), below the overlays (z >= 0)
            self.addItem(item)
        self.settle_timer = QtCore.QTimer(self, singleShot=True, interval=SETTLE_MS)
        self.settle_timer.timeout.connect(self.settle)
        self._add_overlays()
        self.name_labels = NameLabels(self.plotItem)
        self.plotItem.vb.sigRangeChanged.connect(lambda *_: self.name_labels.place())
        self.plotItem.vb.sigRangeChanged.connect(lambda *_: self._moved())
        self.plotItem.vb.sigResized.connect(lambda *_: self.name_labels.place())
        self.plotItem.vb.sigResized.connect(lambda *_: self.reshaped.emit())
        self.scene().sigMouseMoved.connect(self._mouse_moved)

    def _style(self) -> None:
        """Dark, square, lightly gridded, and unitless axes; drops accepted; a pan or zoom said (``panned``)."""
        self.setAcceptDrops(True)
        self.setBackground(PLOT_BACKGROUND)
        self.setAspectLocked(True)
        self.showGrid(x=True, y=True, alpha=0.15)
        for side in ("left", "bottom"):
            self.getAxis(side).enableAutoSIPrefix(False)  # latent coordinates have no unit to scale
            # no third tick level: its faint grid lines, every few pixels, took 20 of a pan frame's 27 ms
            self.getAxis(side).setStyle(maxTickLevel=1)
        self.plotItem.setMenuEnabled(True)
        self.plotItem.vb.sigRangeChangedManually.connect(lambda *_: self.panned.emit())

    def _add_overlays(self) -> None:
        """The items drawn over the notes: dropped sounds, the ratings' positions, the path, a descriptor move's
        trace and the marker of the point played; none takes a click from the view box."""
        self.user_scatter = transparent(Scatter(pxMode=True, size=14, symbol="star", pen=pg.mkPen("w", width=1)))
        self.user_scatter.setZValue(15)
        self.addItem(self.user_scatter)
        self.user_labels: list[pg.TextItem] = []  # each dropped sound's name beside its star
        self.user_lines = transparent(pg.PlotCurveItem(
            pen=pg.mkPen("#ffffff", width=1, style=QtCore.Qt.PenStyle.DotLine), connect="finite"))
        self.addItem(self.user_lines)
        self.pair_lines: list[pg.PlotCurveItem] = []
        self.mds_scatter = transparent(Scatter(pxMode=True, size=13, symbol="d", brush=None,
                                               pen=pg.mkPen("#ffffff", width=2)))
        self.mds_scatter.setZValue(12)
        self.addItem(self.mds_scatter)
        self.mds_labels: list[pg.TextItem] = []
        self.path_curve = transparent(pg.PlotCurveItem(pen=pg.mkPen("#ffe066", width=3)))
        self.path_curve.setZValue(20)
        self.addItem(self.path_curve)
        self.path_points = transparent(Scatter(pxMode=True, size=7, brush=pg.mkBrush("#ffe066"), pen=None))
        self.path_points.setZValue(20)
        self.addItem(self.path_points)
        self.trace_curve = transparent(pg.PlotCurveItem(pen=pg.mkPen("#ff5ad1", width=2)))  # descriptor moves
        self.trace_curve.setZValue(21)
        self.addItem(self.trace_curve)
        self.marker = transparent(Scatter(pxMode=True, size=16, symbol="o", brush=pg.mkBrush(255, 255, 255, 60),
                                          pen=pg.mkPen("#ffffff", width=2)))
        self.marker.setZValue(30)
        self.addItem(self.marker)

    # ------------------------------------------------------------------ points
    def set_points(self, xy: np.ndarray, classes: np.ndarray, brushes: list[QtGui.QBrush]) -> None:
        """All notes (``xy [N, 2]`` view coordinates, ``classes [N]`` indices into ``brushes``); all visible.

        A recolouring comes here too: the notes' scatter is rewritten in place and each colour's symbol looked up
        once (:class:`NoteScatter`), so the bundled 45,669-note map recolours in 64–118 ms (a scatter per colour,
        as before: 120–300 ms).
        """
        self._xy = np.asarray(xy, np.float64)
        self._classes = np.asarray(classes, int)
        counts = np.bincount(self._classes, minlength=len(brushes))
        members = np.split(np.argsort(self._classes, kind="stable"), np.cumsum(counts)[:-1])  # per colour
        drawn_first = np.argsort(-counts, kind="stable")
        subset = level_of_detail(members, self.lod_points) if len(self._xy) > self.lod_points else None
        for item, notes in ((self.notes, members), (self.moving_notes, subset)):
            order = np.concatenate([notes[c] for c in drawn_first]) if notes is not None and len(drawn_first) \
                else np.zeros(0, int)
            self.order[item] = order
            if len(order):
                item.place(self._xy[order, 0], self._xy[order, 1], self._classes[order], brushes)
            else:
                item.clear()
        self.set_visible(np.ones(len(self._xy), bool) if len(self._visible) != len(self._xy) else self._visible)
        if not self._fitted and len(self._xy):
            self.fit()
            self._fitted = True

    def set_visible(self, mask: np.ndarray) -> None:
        """Show the notes where ``mask`` is true (a visibility flag per point: no scatter is rebuilt)."""
        self._visible = np.asarray(mask, bool)
        self._visible_index = np.flatnonzero(self._visible)
        for item in (self.notes, self.moving_notes):
            # pyqtgraph's own per-point flag, set directly: setPointsVisible would also re-key every point's
            # symbol (0.5 s for 300k notes)
            item.data["visible"] = self._visible[self.order[item]]
            item.invalidate()
        self._show_notes()
        self._tree = None  # built on the first pick, not on every filter change

    def settle(self) -> None:
        """The view stopped moving: draw every shown note again, not the subset."""
        self.settle_timer.stop()
        self._moving = False
        self._show_notes()

    def close(self) -> bool:
        """Stop the settle timer first: pyqtgraph's close deletes the scatters it would show."""
        self.settle_timer.stop()
        return super().close()

    def _moved(self) -> None:
        """A range change (pan, zoom): draw the subset until the view settles, when there are many notes."""
        if not len(self.moving_notes.data):
            return
        self.settle_timer.start()
        if not self._moving:
            self._moving = True
            self._show_notes()

    def _show_notes(self) -> None:
        """Show every note or, while the view moves, the subset."""
        subset = self._moving and bool(len(self.moving_notes.data))
        self.notes.setVisible(not subset)
        self.moving_notes.setVisible(subset)

    def painted_points(self) -> list[tuple[str, np.ndarray]]:
        """The visible notes as the map paints them at rest (every one, even while the view moves), bottom colour
        first: (colour ``#rrggbb``, ``xy [K, 2]``)."""
        rows = self.notes.data[self.notes.data["visible"]]
        ids = np.fromiter(map(id, rows["brush"]), np.int64, len(rows))  # one brush object per colour
        _, first, which = np.unique(ids, return_index=True, return_inverse=True)
        return [(rows["brush"][first[g]].color().name(), np.column_stack([rows["x"], rows["y"]])[which == g])
                for g in np.argsort(first)]

    def visible_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The map coordinates shown: ``(x0, x1), (y0, y1)``."""
        (x0, x1), (y0, y1) = self.plotItem.vb.viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    def show_range(self, x: tuple[float, float], y: tuple[float, float]) -> None:
        """Show map coordinates ``x`` by ``y`` (a session's zoom), no longer fitted to the notes on its own."""
        self.setRange(xRange=tuple(x), yRange=tuple(y), padding=0)
        self._fitted = True

    def fit(self) -> None:
        """Zoom to the visible notes."""
        pts = self._xy[self._visible_index] if len(self._visible_index) else self._xy
        if len(pts):
            lo, hi = pts.min(0), pts.max(0)
            pad = 0.05 * max(float((hi - lo).max()), 1e-6)
            self.setRange(xRange=(lo[0] - pad, hi[0] + pad), yRange=(lo[1] - pad, hi[1] + pad), padding=0)

    def pick(self, x: float, y: float, pixels: float = PICK_PIXELS) -> int:
        """Index of the visible note within ``pixels`` of ``(x, y)``, or -1."""
        if not len(self._visible_index):
            return -1
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self._xy[self._visible_index])
        px = self.plotItem.vb.viewPixelSize()
        dist, i = self._tree.query([x, y])
        return int(self._visible_index[i]) if dist <= pixels * max(px) else -1

    def _mouse_moved(self, scene_pos) -> None:
        vb = self.plotItem.vb
        if not vb.sceneBoundingRect().contains(scene_pos):
            return
        p = vb.mapSceneToView(scene_pos)
        self.hovered.emit(self.pick(p.x(), p.y()))

    # ------------------------------------------------------------------ instrument names
    def set_labels(self, names: list[str], xy: np.ndarray, colours: list[QtGui.QColor], notes: np.ndarray) -> None:
        """Instrument names at ``xy [M, 2]`` (their centroids, view coordinates) in ``colours``.

        ``notes [M]``: how many shown notes each name stands for; a name with none is not drawn, the busiest are
        placed first. The names are placed in screen space so that none hides another (see
        :func:`~timbre_explorer.gui.views.map_layout.place_labels`), again whenever the view's range or size changes.
        """
        self.name_labels.set(names, xy, colours, notes)

    def show_labels(self, on: bool) -> None:
        self.name_labels.show(on)

    @property
    def labels(self) -> list[pg.TextItem]:
        """The instrument names drawn, as text items."""
        return self.name_labels.items

    @property
    def label_names(self) -> list[str]:
        """The name of each of :attr:`labels`."""
        return self.name_labels.names

    def name_at(self, scene_pos: QtCore.QPointF) -> str:
        """The instrument whose name or centroid mark is under ``scene_pos``, or "" (names hidden, or none there): a
        click there plays that instrument (the Explorer's choice)."""
        return self.name_labels.at(scene_pos)

    # ------------------------------------------------------------------ overlays
    def set_mds(self, names: list[str] | None, xy: np.ndarray | None = None) -> None:
        """The perceptual (MDS) positions of the rated instruments, aligned to the map; None hides them."""
        for item in self.mds_labels:
            self.removeItem(item)
        self.mds_labels = []
        if names is None:
            self.mds_scatter.setData([], [])
            return
        self.mds_scatter.setData(pos=np.asarray(xy))
        for name, (x, y) in zip(names, np.asarray(xy)):
            item = pg.TextItem(f"{name} (ratings)", color="#dddddd", anchor=(0.5, -0.4))
            item.setPos(float(x), float(y))
            transparent(item)
            self.addItem(item)
            self.mds_labels.append(item)

    def set_pair_lines(self, segments: list[tuple[np.ndarray, np.ndarray, QtGui.QColor]] | None) -> None:
        for item in self.pair_lines:
            self.removeItem(item)
        self.pair_lines = []
        for a, b, c in segments or []:
            item = transparent(pg.PlotCurveItem([a[0], b[0]], [a[1], b[1]], pen=pg.mkPen(c, width=2)))
            item.setZValue(5)
            self.addItem(item)
            self.pair_lines.append(item)

    def set_path(self, xy: np.ndarray | None, *, vertices: bool = True) -> None:
        """A path through ``xy [K, 2]``; dots on its points when they are the user's vertices."""
        xy = np.zeros((0, 2)) if xy is None else np.asarray(xy).reshape(-1, 2)
        self.path_curve.setData(xy[:, 0], xy[:, 1])
        self.path_points.setData(pos=xy if vertices else np.zeros((0, 2)))

    def set_trace(self, xy: np.ndarray | None) -> None:
        if xy is None or len(xy) == 0:
            self.trace_curve.setData([], [])
        else:
            self.trace_curve.setData(np.asarray(xy)[:, 0], np.asarray(xy)[:, 1])

    def set_marker(self, xy) -> None:
        self.marker.setData([] if xy is None else [{"pos": (float(xy[0]), float(xy[1]))}])

    def set_user_sounds(self, points: np.ndarray, trajectories: list[np.ndarray], names: Sequence[str] = ()) -> None:
        """Dropped sounds: a star each, named beside it, and their frame trajectories as dotted lines."""
        points = np.asarray(points).reshape(-1, 2)
        self.user_scatter.setData(pos=points, brush=pg.mkBrush("#ffffff"))
        for item in self.user_labels:
            self.removeItem(item)
        self.user_labels = []
        for (x, y), name in zip(points, names):
            item = pg.TextItem(name, color="#ffffff", anchor=(-0.15, 0.5))  # right of the star
            item.setPos(float(x), float(y))
            item.setZValue(15)
            self.addItem(item)
            self.user_labels.append(item)
        if trajectories:
            xs = np.concatenate([np.append(t[:, 0], np.nan) for t in trajectories])
            ys = np.concatenate([np.append(t[:, 1], np.nan) for t in trajectories])
            self.user_lines.setData(xs, ys)
        else:
            self.user_lines.setData([], [])

    # ------------------------------------------------------------------ descriptor field
    def set_field(self, values: np.ndarray, x: np.ndarray, y: np.ndarray, *, label: str,
                  contours: Sequence[Sequence[np.ndarray]] = ()) -> None:
        """Show a descriptor ``values [ny, nx]`` sampled at grid centres ``x``, ``y`` as a heatmap, with contour
        lines traced already (a list of polylines ``[points, 2]`` per level, in map coordinates)."""
        self.field.set(values, x, y, label=label, contours=contours)

    def clear_field(self) -> None:
        self.field.clear()

    # ------------------------------------------------------------------ drops
    def dragEnterEvent(self, ev: QtGui.QDragEnterEvent) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dragMoveEvent(self, ev) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev: QtGui.QDropEvent) -> None:
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.files_dropped.emit(paths)
