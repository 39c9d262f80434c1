"""The 2-D map's mouse: its view box takes every left click and drag (play, scrub, draw; pan with Shift or Ctrl),
and the items drawn on it let them through, so a click on a note, a name or a path plays there too."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent, MouseDragEvent
from PySide6 import QtCore, QtWidgets

if TYPE_CHECKING:
    from timbre_explorer.gui.views.map_view import MapView

Item = TypeVar("Item", bound=QtWidgets.QGraphicsItem)


def transparent(item: Item) -> Item:
    """Let clicks and drags through to the view box: a click on a note or a path point plays there, too."""
    item.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
    item.setAcceptHoverEvents(False)
    for child in item.childItems():
        transparent(child)
    return item


class Scatter(pg.ScatterPlotItem):
    """A scatter that never takes a click: pyqtgraph delivers clicks to items by itself, ignoring
    ``acceptedMouseButtons``, and a plain scatter would swallow clicks on its points."""

    def mouseClickEvent(self, ev: MouseClickEvent) -> None:
        ev.ignore()

    def updateSpots(self, dataSet=None) -> None:  # noqa: N802 (pyqtgraph's name)
        """Where every point has the scatter's own style (the map's layers: one colour each), look its symbol up
        once: pyqtgraph looks each point's up in Python, most of the time a 45,000-note map took to recolour."""
        data = self.data if dataSet is None else dataSet
        todo = data["sourceRect"]["w"] == 0 if len(data) else None
        if todo is None or not todo.any() or not self.opts["pxMode"] or not self.opts["useCache"] \
                or self.opts["hoverable"] or not _default_styled(data):
            super().updateSpots(dataSet)
            return
        first = np.flatnonzero(todo)[:1]
        style = next(zip(*self._style(["symbol", "size", "pen", "brush"], data=data, idx=first)))
        data["sourceRect"][todo] = self.fragmentAtlas[[style]][0]
        self._maybeRebuildAtlas()
        self._updateMaxSpotSizes(data=data)
        self.invalidate()


def _default_styled(data: np.ndarray) -> bool:
    """Every point takes the scatter's symbol, size, pen and brush (pyqtgraph's None and -1)."""
    none = np.array(None, dtype=object)
    return bool(np.equal(data["size"], -1).all()) and all(
        bool(np.equal(data[column], none).all()) for column in ("symbol", "pen", "brush"))


class MapViewBox(pg.ViewBox):
    """Left button plays (click, drag) or draws; everything else is pyqtgraph's pan and zoom."""

    def __init__(self, view: MapView):
        super().__init__()
        self._view = view

    def mouseClickEvent(self, ev: MouseClickEvent) -> None:
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

    def mouseDragEvent(self, ev: MouseDragEvent, axis: int | None = None) -> None:
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
