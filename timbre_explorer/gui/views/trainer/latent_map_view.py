"""The live latent map shown while a run trains."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from timbre_explorer.core.data.instruments import family_of
from timbre_explorer.gui.explorer.map_state import MANY_INSTRUMENTS, family_groups
from timbre_explorer.gui.views.palette import colour
from timbre_explorer.gui.views.widgets import PLOT_BACKGROUND


class LatentMapView(pg.GraphicsLayoutWidget):
    """A small live latent map (PCA of a few hundred notes' representative frames), refreshed during training.

    One scatter item per instrument, each with one brush: a refresh is a few milliseconds of GUI time.
    The legend sits in its own row under the map, so it never hides notes. With more than
    :data:`~timbre_explorer.gui.explorer.map_state.MANY_INSTRUMENTS` instruments (every General MIDI program) the
    colours and the legend are the families', as on the Explorer's map, held-out notes hollow in their family's.
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
        if len(names) > MANY_INSTRUMENTS:  # by family: a hundred legend entries would bury the map
            families = [g.family for g in family_groups([family_of(n) for n in names])]
            family = np.array([family_of(n) for n in m.labels], object)
            labels = np.where(novel, family + " (held out)", family)
            present = set(labels.tolist())
            names = [n for f in families for n in (f, f + " (held out)") if n in present]
            colours = {n: colour(families.index(n.removesuffix(" (held out)"))) for n in names}
        else:
            colours = {n: colour(i) for i, n in enumerate(names)}
        if list(self.items) != names:
            for item in self.items.values():
                self.plot.removeItem(item)
            self.legend.clear()
            self.items = {}
            for n in names:
                held, c = bool(novel[labels == n].all()), colours[n]
                item = pg.ScatterPlotItem(pxMode=True, size=7, brush=pg.mkBrush(0, 0, 0, 0) if held else c,
                                          pen=pg.mkPen(c, width=1.5) if held else pg.mkPen(None))
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
