"""The 2-D map's mouse: its view box takes every left click and drag (play, scrub, draw; pan with Shift or Ctrl),
and the items drawn on it let them through, so a click on a note, a name or a path plays there too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent, MouseDragEvent
from PySide6 import QtCore, QtGui, QtWidgets

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


class NoteScatter(Scatter):
    """The map's notes: one scatter whose points differ only in brush (their colour), never in symbol, size or
    pen. It looks each colour's symbol up in the atlas once: pyqtgraph looks each point's up in Python (about
    5 µs a point, 1.5 s for 300k notes)."""

    def updateSpots(self, dataSet=None) -> None:  # noqa: N802 (pyqtgraph's name)
        data = self.data if dataSet is None else dataSet
        if not self.opts["pxMode"] or not self.opts["useCache"] or self.opts["hoverable"]:
            super().updateSpots(dataSet)
            return
        todo = np.flatnonzero(data["sourceRect"]["w"] == 0)
        if len(todo):
            brushes = data["brush"][todo]
            ids = np.fromiter(map(id, brushes), np.int64, len(todo))  # the palette's few brush objects
            _, first, which = np.unique(ids, return_index=True, return_inverse=True)
            by_appearance = np.argsort(first)  # the atlas takes new symbols in the order pyqtgraph would
            which = np.argsort(by_appearance)[which]
            styles = list(zip(*self._style(["symbol", "size", "pen", "brush"], data=data,
                                           idx=todo[first[by_appearance]])))
            data["sourceRect"][todo] = np.array(self.fragmentAtlas[styles], data.dtype["sourceRect"])[which]
            self._maybeRebuildAtlas()
            self.invalidate()
        self._updateMaxSpotSizes(data=data)

    def place(self, x: np.ndarray, y: np.ndarray, colour: np.ndarray, brushes: Sequence[QtGui.QBrush]) -> None:
        """Point ``k`` at ``(x[k], y[k])`` in ``brushes[colour[k]]``. The same number of points as before are
        written in place: pyqtgraph's ``setData`` makes a new array (300,000 notes: 170 ms)."""
        if len(self.data) != len(x):
            self.setData(x=x, y=y)
        data, atlas = self.data, self.fragmentAtlas
        data["x"], data["y"] = x, y
        kinds = np.empty(len(brushes), object)
        kinds[:] = list(brushes)
        data["brush"] = kinds[colour]
        styles = [(self.opts["symbol"], self.opts["size"], self.opts["pen"], brush) for brush in brushes]
        data["sourceRect"] = np.array(atlas[styles], data.dtype["sourceRect"])[colour]
        self._maybeRebuildAtlas()
        self._updateMaxSpotSizes(data=data)
        self.prepareGeometryChange()
        self.informViewBoundsChanged()
        self.invalidate()


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
