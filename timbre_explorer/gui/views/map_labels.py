"""The instrument names on the 2-D map: a name per instrument near its centroid (a ring marks the centroid), none
hiding another at any zoom, with a line back to a centroid it moved far from; and which name a click is on."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from timbre_explorer.gui.views.map_layout import LEADER_PIXELS, PICK_PIXELS, place_labels
from timbre_explorer.gui.views.map_mouse import Scatter, transparent
from timbre_explorer.gui.views.palette import readable


def _xy(point: QtCore.QPointF) -> tuple[float, float]:
    return point.x(), point.y()


class NameLabels:
    """The names, their centroid marks and leader lines on ``plot`` (the map's), placed again as its view moves."""

    def __init__(self, plot: pg.PlotItem):
        self._plot = plot
        self.items: list[pg.TextItem] = []  # the instrument names, placed by place_labels
        self.names: list[str] = []  # the name of each of them
        self.marks = transparent(Scatter(pxMode=True, size=7, symbol="o", brush=None,
                                         pen=pg.mkPen(235, 235, 235, 200, width=1.5)))  # where each name belongs
        self.marks.setZValue(24)
        plot.addItem(self.marks)
        self._xy = np.zeros((0, 2))
        self._notes = np.zeros(0, int)
        self._on = True
        self.leaders = transparent(pg.PlotCurveItem(pen=pg.mkPen(220, 220, 220, 150, width=1), connect="pairs"))
        self.leaders.setZValue(24)
        plot.addItem(self.leaders)

    def set(self, names: list[str], xy: np.ndarray, colours: list[QtGui.QColor], notes: np.ndarray) -> None:
        """Names at ``xy [M, 2]`` (their centroids, view coordinates) in ``colours``; ``notes [M]``: how many shown
        notes each stands for (a name with none is not drawn, the busiest are placed first). A name already drawn
        keeps its item, recoloured (another "colour by" makes none)."""
        kept = dict(zip(self.names, self.items))
        self.items = []
        on = np.asarray(notes) > 0
        self.names = [str(names[k]) for k in np.flatnonzero(on)]
        self._xy = np.asarray(xy, np.float64).reshape(-1, 2)[on]
        self._notes = np.asarray(notes)[on]
        self.marks.setData(pos=self._xy)
        self.marks.setVisible(self._on)
        for name, k in zip(self.names, np.flatnonzero(on)):
            colour = readable(QtGui.QColor(colours[k]))
            item = kept.pop(name, None)
            if item is None:
                item = pg.TextItem(name, color=colour, anchor=(0.5, 0.5), border=None, fill=pg.mkBrush(0, 0, 0, 170))
                item.setZValue(25)
                transparent(item)
                self._plot.addItem(item)
            else:
                item.setColor(colour)
            item.setVisible(self._on)
            self.items.append(item)
        for item in kept.values():
            self._plot.removeItem(item)
        self.place()

    def show(self, on: bool) -> None:
        self._on = on
        for item in self.items:
            item.setVisible(on)
        self.leaders.setVisible(on)
        self.marks.setVisible(on)
        self.place()

    def place(self) -> None:
        """Move the names (and their leader lines) where :func:`place_labels` puts them at the current zoom."""
        vb = self._plot.vb
        if not self._on or vb.width() <= 0 or vb.height() <= 0:
            return
        if not self.items:
            self.leaders.setData([], [])
            return
        anchors = np.array([_xy(vb.mapViewToScene(QtCore.QPointF(x, y))) for x, y in self._xy])
        sizes = np.array([(r.width(), r.height()) for r in (item.textItem.boundingRect() for item in self.items)])
        centres = place_labels(anchors, sizes, self._notes)
        for item, (x, y) in zip(self.items, centres):
            item.setPos(vb.mapSceneToView(QtCore.QPointF(x, y)))
            item.updateTransform()  # its pixel size at this zoom now, not at the next paint
        ends = np.clip(anchors, centres - sizes / 2, centres + sizes / 2)  # each box's point nearest its centroid
        far = np.hypot(*(ends - anchors).T) > LEADER_PIXELS
        ends_xy = np.array([_xy(vb.mapSceneToView(QtCore.QPointF(x, y))) for x, y in ends[far]]).reshape(-1, 2)
        lines = np.stack([self._xy[far], ends_xy], 1).reshape(-1, 2)  # centroid, box, centroid, box...
        self.leaders.setData(lines[:, 0], lines[:, 1])

    def at(self, scene_pos: QtCore.QPointF) -> str:
        """The instrument whose name or centroid mark is under ``scene_pos`` (a mark within :data:`PICK_PIXELS`),
        or "" (names hidden, or none there)."""
        if not self._on or not self.items:
            return ""
        for name, item in zip(reversed(self.names), reversed(self.items)):  # the one drawn on top first
            if item.isVisible() and item.sceneBoundingRect().contains(scene_pos):
                return name
        vb = self._plot.vb
        marks = np.array([_xy(vb.mapViewToScene(QtCore.QPointF(x, y))) for x, y in self._xy])
        gap = np.hypot(*(marks - _xy(scene_pos)).T)
        return self.names[int(gap.argmin())] if gap.min() <= PICK_PIXELS else ""
