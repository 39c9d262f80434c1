"""The live latent map shown while a run trains."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from timbre_explorer.gui.views.map_view import colour
from timbre_explorer.gui.views.widgets import PLOT_BACKGROUND


class LatentMapView(pg.GraphicsLayoutWidget):
    """A small live latent map (PCA of a few hundred notes' representative frames), refreshed during training.

    One scatter item per instrument, each with one brush: a refresh is a few milliseconds of GUI time.
    The legend sits in its own row under the map, so it never hides notes.
    """

    WAITING = "The latent map appears after the first epochs."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(PLOT_BACKGROUND)
        self.plot = self.addPlot(row=0, col=0)
        self.plot.setMenuEnabled(False)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.items: dict[str, pg.ScatterPlotItem] = {}
        self.legend = pg.LegendItem(labelTextColor="#dddddd", colCount=2, verSpacing=-6)
        self.ci.addItem(self.legend, row=1, col=0)
        self.legend.hide()
        self.title = pg.TextItem(self.WAITING, color="#c9c9c9", anchor=(0, 0))
        self.title.setParentItem(self.plot.vb)
        self.title.setPos(4, 2)
        self.shown = None

    def show_map(self, m) -> None:
        """``m``: a ``LatentMap`` (xy, labels, novel, title) from the tab's worker; held-out notes are hollow."""
        self.shown = m
        labels = np.asarray(m.labels)
        novel = np.asarray(m.novel, bool)
        names = list(dict.fromkeys(m.labels))
        if list(self.items) != names:
            for item in self.items.values():
                self.plot.removeItem(item)
            self.legend.clear()
            self.items = {}
            for i, n in enumerate(names):
                held = bool(novel[labels == n].all())
                item = pg.ScatterPlotItem(pxMode=True, size=7, brush=pg.mkBrush(0, 0, 0, 0) if held else colour(i),
                                          pen=pg.mkPen(colour(i), width=1.5) if held else pg.mkPen(None))
                self.plot.addItem(item)
                self.legend.addItem(item, n)
                self.items[n] = item
            self.legend.setVisible(bool(names))
        for n, item in self.items.items():
            xy = m.xy[labels == n]
            item.setData(x=xy[:, 0], y=xy[:, 1])
        self.title.setText(f"{m.title} · hollow: held out" if novel.any() else m.title)
        self.plot.vb.autoRange(padding=0.08)

    def clear_map(self, text: str = WAITING) -> None:
        for item in self.items.values():
            item.clear()
        self.shown = None
        self.title.setText(text)
