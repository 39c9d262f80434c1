"""The 2-D latent map: every note as a point, clickable anywhere, with paths, overlays and descriptor fields.

Mouse, as a sound tool wants it: a left click plays the point under the
cursor (anywhere, not only on notes; on an instrument's name or the ring
at its centroid, that instrument) and a left drag plays continuously
while moving (scrubbing). The view pans with the middle button or
Shift/Ctrl + left drag, and zooms with the wheel. With the draw tool on,
left clicks add vertices to a free path instead.

Drawing follows pyqtgraph's advice for large scatters: one
``ScatterPlotItem`` in pixel mode without outlines, one shared brush per
instrument, and picking by a KD-tree on the visible points rather than
pyqtgraph's per-item hover tests. While the view moves (a pan or a zoom, until
:data:`SETTLE_MS` after the last range change) it draws a fixed random subset
of the notes (level of detail: a 300k-note frame costs what a 30k one does),
and every shown note again once the view settles.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.gui.views.widgets import PLOT_BACKGROUND

#: Distinct colours for up to 20 classes (then they repeat), light enough on the dark background: picked
#: greedily for the largest smallest CIE Lab distance (every pair is at least ΔE 36 apart; tests/test_explorer.py).
PALETTE = ["#3c96ff", "#00ff00", "#ff0000", "#f0e1a5", "#ff00ff", "#d25a87", "#00f0ff", "#00963c", "#e1f00f",
           "#f09600", "#788796", "#e187ff", "#878700", "#ffd2ff", "#d25a3c", "#00ffc3", "#96ff78", "#ff1eb4",
           "#ff005a", "#4ba587"]
POINT_SIZE = 6
PICK_PIXELS = 8
#: Above this many notes the map draws a subset of about this many while it moves (:func:`level_of_detail`).
LOD_POINTS = 30_000
#: Every colour keeps at least this share of that subset (all its notes when it has fewer): none disappears.
LOD_FLOOR = 1 / 50
#: The view counts as settled this long after its last range change: then every shown note is drawn again.
SETTLE_MS = 150
LABEL_GAP = 3.0  # pixels between a label and its centroid, and at least between two labels
LEADER_PIXELS = 8.0  # a label further than this from its centroid gets a line to it
#: Where a label tries to sit around its centroid, in this order: above (its usual place), right, left, below,
#: then the diagonals (screen directions, y down).
LABEL_DIRECTIONS = np.array([(0, -1), (1, 0), (-1, 0), (0, 1), (1, -1), (-1, -1), (1, 1), (-1, 1)], float)


def colour(i: int) -> QtGui.QColor:
    return QtGui.QColor(PALETTE[i % len(PALETTE)])


def place_labels(anchors: np.ndarray, sizes: np.ndarray, notes: np.ndarray, *, gap: float = LABEL_GAP) -> np.ndarray:
    """Centres ``[N, 2]`` of labels of ``sizes [N, 2]`` (width, height) near their ``anchors [N, 2]``, no two
    overlapping (screen pixels, y down). Qt-free: boxes in, positions out, so it is tested without a map.

    Greedy, cheap for the few dozen instruments: the label naming the most ``notes`` goes first (the big
    instruments keep their places); each takes the first free spot of :data:`LABEL_DIRECTIONS` just beside its
    anchor (a label that fits stays above its centroid), else on rings one label height further out.

    >>> place_labels([[0, 0], [0, 0]], [[40, 10], [40, 10]], [5, 9]).tolist()  # the busier one stays above
    [[0.0, 8.0], [0.0, -8.0]]
    """
    anchors = np.asarray(anchors, float).reshape(-1, 2)
    sizes = np.asarray(sizes, float).reshape(-1, 2)
    centres = anchors.copy()
    placed: list[int] = []
    for k in np.argsort(-np.asarray(notes), kind="stable"):
        half = sizes[k] / 2
        step = max(sizes[k, 1], 1.0)
        for ring in itertools.count():  # ends: once a ring passes every placed label, its right-hand spot is free
            spots = anchors[k] + LABEL_DIRECTIONS * (half + gap + ring * step)
            apart = np.abs(spots[:, None] - centres[placed][None]) >= half + sizes[placed] / 2 + gap
            free = apart.any(-1).all(1)
            if free.any():
                centres[k] = spots[np.argmax(free)]
                placed.append(k)
                break
    return centres


def level_of_detail(members: list[np.ndarray], budget: int, *, floor: float = LOD_FLOOR,
                    seed: int = 0) -> list[np.ndarray]:
    """A fixed random subset of each colour's notes (``members``: their indices), about ``budget`` in all.

    Stratified by colour: each keeps its share of the budget but at least ``floor`` of the budget, so a rare
    instrument stays visible while panning. Sorted, in the order the full layer draws them.
    """
    share = budget / max(sum(len(m) for m in members), 1)
    least = round(floor * budget)
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(m, min(len(m), max(least, round(share * len(m)))), replace=False)) for m in members]


#: The least HSL lightness (0-255) of a name's text: a dark family colour (brass's green) stays its hue, read on the
#: dark box it sits in.
LABEL_LIGHTNESS = 165


def readable(colour: QtGui.QColor) -> QtGui.QColor:
    """``colour`` lightened to :data:`LABEL_LIGHTNESS` if darker, its hue and saturation kept."""
    hue, saturation, lightness, alpha = colour.getHsl()
    if lightness >= LABEL_LIGHTNESS:
        return QtGui.QColor(colour)
    return QtGui.QColor.fromHsl(hue, saturation, LABEL_LIGHTNESS, alpha)


def _transparent(item: QtWidgets.QGraphicsItem) -> QtWidgets.QGraphicsItem:
    """Let clicks and drags through to the view box: a click on a note or a path point plays there, too."""
    item.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
    item.setAcceptHoverEvents(False)
    for child in item.childItems():
        _transparent(child)
    return item


def _xy(point: QtCore.QPointF) -> tuple[float, float]:
    return point.x(), point.y()


class _Scatter(pg.ScatterPlotItem):
    """A scatter that never takes a click: pyqtgraph delivers clicks to items by itself, ignoring
    ``acceptedMouseButtons``, and a plain scatter would swallow clicks on its points."""

    def mouseClickEvent(self, ev):
        ev.ignore()


class _MapViewBox(pg.ViewBox):
    """Left button plays (click, drag) or draws; everything else is pyqtgraph's pan and zoom."""

    def __init__(self, view: MapView):
        super().__init__()
        self._view = view

    def mouseClickEvent(self, ev):
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            if self._view.tool == "draw":
                if ev.double():
                    self._view.path_finished.emit()
                else:
                    self._view.vertex_added.emit(p.x(), p.y())
            elif name := self._view.name_at(ev.scenePos()):
                self._view.name_clicked.emit(name)
            else:
                self._view.clicked.emit(p.x(), p.y())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None):
        mods = ev.modifiers() & (QtCore.Qt.KeyboardModifier.ShiftModifier | QtCore.Qt.KeyboardModifier.ControlModifier)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and not mods and self._view.tool == "play":
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            if ev.isStart():
                self._view.scrub_started.emit(p.x(), p.y())
            elif ev.isFinish():
                self._view.scrub_finished.emit(p.x(), p.y())
            else:
                self._view.scrubbed.emit(p.x(), p.y())
            return
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and mods:
            # pan like the middle button does
            ev.accept()
            delta = self.mapToView(ev.pos()) - self.mapToView(ev.lastPos())
            self.translateBy(x=-delta.x(), y=-delta.y())
            return
        super().mouseDragEvent(ev, axis)


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


    def __init__(self, parent=None):
        self.tool = "play"  # or "draw"
        super().__init__(parent, viewBox=_MapViewBox(self))
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
        self._xy = np.zeros((0, 2))
        self._classes = np.zeros(0, int)
        self._visible = np.zeros(0, bool)
        self._visible_index = np.zeros(0, int)
        self._tree = None
        self._brushes: list[QtGui.QBrush] = []
        self._members: list[np.ndarray] = []  # the notes of each colour, as its layer holds them
        self.lod_points = LOD_POINTS
        self._lod_members: list[np.ndarray] = []  # the subset of each colour drawn while moving; [] when all are
        self._moving = False
        self._fitted = False

        self.field_image = pg.ImageItem()
        self.field_image.setZValue(-20)
        self.field_image.setOpacity(0.85)
        self.addItem(self.field_image)
        self.field_image.hide()
        self._contours: list[pg.IsocurveItem] = []
        self.colorbar: pg.ColorBarItem | None = None

        self.layers: list[_Scatter] = []  # the notes: one scatter per colour (see set_visible)
        self.lod_layers: list[_Scatter] = []  # the same, a subset of each, drawn instead while the view moves
        self.settle_timer = QtCore.QTimer(self, singleShot=True, interval=SETTLE_MS)
        self.settle_timer.timeout.connect(self.settle)
        self.user_scatter = _Scatter(pxMode=True, size=14, symbol="star", pen=pg.mkPen("w", width=1))
        self.user_scatter.setZValue(15)
        self.addItem(self.user_scatter)
        self.user_labels: list[pg.TextItem] = []  # each dropped sound's name beside its star
        self.user_lines = pg.PlotCurveItem(pen=pg.mkPen("#ffffff", width=1, style=QtCore.Qt.PenStyle.DotLine),
                                           connect="finite")
        self.addItem(self.user_lines)
        self.pair_lines: list[pg.PlotCurveItem] = []
        self.mds_scatter = _Scatter(pxMode=True, size=13, symbol="d", brush=None,
                                              pen=pg.mkPen("#ffffff", width=2))
        self.mds_scatter.setZValue(12)
        self.addItem(self.mds_scatter)
        self.mds_labels: list[pg.TextItem] = []
        self.path_curve = pg.PlotCurveItem(pen=pg.mkPen("#ffe066", width=3))
        self.path_curve.setZValue(20)
        self.addItem(self.path_curve)
        self.path_points = _Scatter(pxMode=True, size=7, brush=pg.mkBrush("#ffe066"), pen=None)
        self.path_points.setZValue(20)
        self.addItem(self.path_points)
        self.trace_curve = pg.PlotCurveItem(pen=pg.mkPen("#ff5ad1", width=2))  # descriptor moves
        self.trace_curve.setZValue(21)
        self.addItem(self.trace_curve)
        self.marker = _Scatter(pxMode=True, size=16, symbol="o", brush=pg.mkBrush(255, 255, 255, 60),
                                         pen=pg.mkPen("#ffffff", width=2))
        self.marker.setZValue(30)
        self.addItem(self.marker)
        self.labels: list[pg.TextItem] = []  # the instrument names, placed by place_labels
        self.label_names: list[str] = []  # the name of each of them
        self.centroid_marks = _Scatter(pxMode=True, size=7, symbol="o", brush=None,
                                       pen=pg.mkPen(235, 235, 235, 200, width=1.5))  # where each name belongs
        self.centroid_marks.setZValue(24)
        self.addItem(self.centroid_marks)
        self._label_xy = np.zeros((0, 2))
        self._label_notes = np.zeros(0, int)
        self._labels_on = True
        self.leaders = pg.PlotCurveItem(pen=pg.mkPen(220, 220, 220, 150, width=1), connect="pairs")
        self.leaders.setZValue(24)
        self.addItem(self.leaders)
        self.plotItem.vb.sigRangeChanged.connect(lambda *_: self._place_labels())
        self.plotItem.vb.sigRangeChanged.connect(lambda *_: self._moved())
        self.plotItem.vb.sigResized.connect(lambda *_: self._place_labels())
        for item in (self.leaders, self.centroid_marks, self.user_scatter, self.user_lines, self.mds_scatter,
                     self.path_curve, self.path_points, self.trace_curve, self.marker, self.field_image):
            _transparent(item)
        self.scene().sigMouseMoved.connect(self._mouse_moved)

    # ------------------------------------------------------------------ points
    def set_points(self, xy: np.ndarray, classes: np.ndarray, brushes: list[QtGui.QBrush]) -> None:
        """All notes (``xy [N, 2]`` view coordinates, ``classes [N]`` indices into ``brushes``); all visible.

        One scatter per colour, each with a single brush: pyqtgraph's per-point brushes cost about 5 µs a
        point (1.5 s for 300k notes on the GUI thread). The rarest colours are drawn last, so a small
        instrument is not buried under a big one.
        """
        self._xy = np.asarray(xy, np.float64)
        self._classes = np.asarray(classes, int)
        self._brushes = list(brushes)
        while len(self.layers) < len(self._brushes):
            for layers in (self.layers, self.lod_layers):
                layers.append(_transparent(_Scatter(pxMode=True, size=POINT_SIZE, pen=None)))
                self.addItem(layers[-1])
        counts = np.bincount(self._classes, minlength=len(self.layers))
        self._members = np.split(np.argsort(self._classes, kind="stable"), np.cumsum(counts)[:-1])  # per colour
        many = len(self._xy) > self.lod_points
        self._lod_members = level_of_detail(self._members, self.lod_points) if many else []
        for z, c in enumerate(np.argsort(-counts, kind="stable")):
            for layer, members in ((self.layers[c], self._members[c]),
                                   (self.lod_layers[c], self._lod_members[c] if many else self._members[c][:0])):
                layer.setZValue(-1 + z / len(self.layers))  # above the field (z -20), below the overlays (z >= 0)
                if len(members):
                    layer.setData(pos=self._xy[members], data=members, brush=self._brushes[c], size=POINT_SIZE,
                                  pen=None)
                else:
                    layer.clear()
        self.set_visible(np.ones(len(self._xy), bool) if len(self._visible) != len(self._xy) else self._visible)
        if not self._fitted and len(self._xy):
            self.fit()
            self._fitted = True

    def set_visible(self, mask: np.ndarray) -> None:
        """Show the notes where ``mask`` is true (a visibility flag per point: no scatter is rebuilt)."""
        self._visible = np.asarray(mask, bool)
        self._visible_index = np.flatnonzero(self._visible)
        for layer, members in zip(self.layers + self.lod_layers, self._members + self._lod_members):
            # pyqtgraph's own per-point flag, set directly: setPointsVisible would also re-key every point's
            # symbol (0.5 s for 300k notes)
            layer.data["visible"] = self._visible[members]
            layer.invalidate()
        self._show_layers()
        self._tree = None  # built on the first pick, not on every filter change

    def settle(self) -> None:
        """The view stopped moving: draw every shown note again, not the subset."""
        self.settle_timer.stop()
        self._moving = False
        self._show_layers()

    def close(self) -> bool:
        """Stop the settle timer first: pyqtgraph's close deletes the scatters it would show."""
        self.settle_timer.stop()
        return super().close()

    def _moved(self) -> None:
        """A range change (pan, zoom): draw the subset until the view settles, when there are many notes."""
        if not self._lod_members:
            return
        self.settle_timer.start()
        if not self._moving:
            self._moving = True
            self._show_layers()

    def _show_layers(self) -> None:
        """Show the full layers or, while the view moves, the subset's; each only where it has a shown note."""
        subset = self._moving and bool(self._lod_members)
        for full, lod in zip(self.layers, self.lod_layers):
            full.setVisible(not subset and bool(full.data["visible"].any()))
            lod.setVisible(subset and bool(lod.data["visible"].any()))

    def painted_points(self) -> list[tuple[str, np.ndarray]]:
        """The visible notes as the scatters paint them at rest (every one, even while the view moves), bottom layer
        first: (colour ``#rrggbb``, ``xy [K, 2]``)."""
        out = []
        for layer in sorted(self.layers, key=lambda item: item.zValue()):
            rows = layer.data[layer.data["visible"]]
            if len(rows):
                out.append((layer.opts["brush"].color().name(), np.column_stack([rows["x"], rows["y"]])))
        return out

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

    # ------------------------------------------------------------------ overlays
    def set_labels(self, names: list[str], xy: np.ndarray, colours: list[QtGui.QColor], notes: np.ndarray) -> None:
        """Instrument names at ``xy [M, 2]`` (their centroids, view coordinates) in ``colours``.

        ``notes [M]``: how many shown notes each name stands for; a name with none is not drawn, the busiest are
        placed first. The names are placed in screen space so that none hides another (see :func:`place_labels`),
        again whenever the view's range or size changes.
        """
        for item in self.labels:
            self.removeItem(item)
        self.labels = []
        on = np.asarray(notes) > 0
        self.label_names = [str(names[k]) for k in np.flatnonzero(on)]
        self._label_xy = np.asarray(xy, np.float64).reshape(-1, 2)[on]
        self._label_notes = np.asarray(notes)[on]
        self.centroid_marks.setData(pos=self._label_xy)
        self.centroid_marks.setVisible(self._labels_on)
        for k in np.flatnonzero(on):
            item = pg.TextItem(str(names[k]), color=readable(QtGui.QColor(colours[k])), anchor=(0.5, 0.5),
                               border=None, fill=pg.mkBrush(0, 0, 0, 170))
            item.setZValue(25)
            item.setVisible(self._labels_on)
            _transparent(item)
            self.addItem(item)
            self.labels.append(item)
        self._place_labels()

    def show_labels(self, on: bool) -> None:
        self._labels_on = on
        for item in self.labels:
            item.setVisible(on)
        self.leaders.setVisible(on)
        self.centroid_marks.setVisible(on)
        self._place_labels()

    def _place_labels(self) -> None:
        """Move the names (and their leader lines) where :func:`place_labels` puts them at the current zoom."""
        vb = self.plotItem.vb
        if not self._labels_on or vb.width() <= 0 or vb.height() <= 0:
            return
        if not self.labels:
            self.leaders.setData([], [])
            return
        anchors = np.array([_xy(vb.mapViewToScene(QtCore.QPointF(x, y))) for x, y in self._label_xy])
        sizes = np.array([(r.width(), r.height()) for r in (item.textItem.boundingRect() for item in self.labels)])
        centres = place_labels(anchors, sizes, self._label_notes)
        for item, (x, y) in zip(self.labels, centres):
            item.setPos(vb.mapSceneToView(QtCore.QPointF(x, y)))
            item.updateTransform()  # its pixel size at this zoom now, not at the next paint
        ends = np.clip(anchors, centres - sizes / 2, centres + sizes / 2)  # each box's point nearest its centroid
        far = np.hypot(*(ends - anchors).T) > LEADER_PIXELS
        ends_xy = np.array([_xy(vb.mapSceneToView(QtCore.QPointF(x, y))) for x, y in ends[far]]).reshape(-1, 2)
        lines = np.stack([self._label_xy[far], ends_xy], 1).reshape(-1, 2)  # centroid, box, centroid, box...
        self.leaders.setData(lines[:, 0], lines[:, 1])

    def name_at(self, scene_pos: QtCore.QPointF) -> str:
        """The instrument whose name or centroid mark is under ``scene_pos`` (a mark within :data:`PICK_PIXELS`),
        or "" (names hidden, or none there): a click there plays that instrument (the Explorer's choice)."""
        if not self._labels_on or not self.labels:
            return ""
        for name, item in zip(reversed(self.label_names), reversed(self.labels)):  # the one drawn on top first
            if item.isVisible() and item.sceneBoundingRect().contains(scene_pos):
                return name
        marks = np.array([_xy(self.plotItem.vb.mapViewToScene(QtCore.QPointF(x, y))) for x, y in self._label_xy])
        gap = np.hypot(*(marks - _xy(scene_pos)).T)
        return self.label_names[int(gap.argmin())] if gap.min() <= PICK_PIXELS else ""

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
            _transparent(item)
            self.addItem(item)
            self.mds_labels.append(item)

    def set_pair_lines(self, segments: list[tuple[np.ndarray, np.ndarray, QtGui.QColor]] | None) -> None:
        for item in self.pair_lines:
            self.removeItem(item)
        self.pair_lines = []
        for a, b, c in segments or []:
            item = _transparent(pg.PlotCurveItem([a[0], b[0]], [a[1], b[1]], pen=pg.mkPen(c, width=2)))
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

    def set_user_sounds(self, points: np.ndarray, trajectories: list[np.ndarray], names: list[str] = ()) -> None:
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
    def set_field(self, values: np.ndarray, x: np.ndarray, y: np.ndarray, *, label: str, levels=None,
                  contours: int = 6) -> None:
        """Show a descriptor ``values [ny, nx]`` sampled at grid centres ``x``, ``y`` as a heatmap with contours."""
        values = np.asarray(values, np.float64)
        lo, hi = levels if levels is not None else (float(np.nanmin(values)), float(np.nanmax(values)))
        if not hi > lo:
            hi = lo + 1e-9
        dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
        dy = (y[-1] - y[0]) / max(len(y) - 1, 1)
        self.field_image.setImage(values, levels=(lo, hi), autoLevels=False)
        self.field_image.setRect(QtCore.QRectF(x[0] - dx / 2, y[0] - dy / 2, dx * len(x), dy * len(y)))
        cmap = pg.colormap.get("viridis")
        self.field_image.setColorMap(cmap)
        self.field_image.show()
        if self.colorbar is None:
            self.colorbar = pg.ColorBarItem(values=(lo, hi), colorMap=cmap, interactive=False, width=14)
            self.colorbar.setImageItem(self.field_image, insert_in=self.plotItem)
        self.colorbar.setLevels((lo, hi))
        self.colorbar.axis.setLabel(label)
        self.colorbar.show()
        self._remove_contours()
        for level in np.linspace(lo, hi, contours + 2)[1:-1]:
            pen = pg.mkPen(255, 255, 255, 110, width=1)
            iso = _transparent(pg.IsocurveItem(data=values, level=float(level), pen=pen))
            iso.setParentItem(self.field_image)  # image pixel coordinates; the image's rect maps them
            iso.setZValue(5)
            self._contours.append(iso)

    def clear_field(self) -> None:
        self.field_image.hide()
        self._remove_contours()
        if self.colorbar is not None:
            self.colorbar.hide()

    def _remove_contours(self) -> None:
        """Take the contour lines off the image (children of it, not plot items: ``removeItem`` misses them)."""
        for item in self._contours:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self._contours = []

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
