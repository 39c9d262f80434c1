"""A descriptor field on the 2-D map: the descriptor's value over the map as a heatmap under the notes, with
contour lines and a colour bar naming it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from timbre_explorer.gui.views.map_mouse import transparent


class FieldLayer:
    """The heatmap, its contours and its colour bar on ``plot`` (the map's plot item); hidden until a field is set."""

    def __init__(self, plot: pg.PlotItem):
        self._plot = plot
        self.image = transparent(pg.ImageItem())
        self.image.setZValue(-20)
        self.image.setOpacity(0.85)
        plot.addItem(self.image)
        self.image.hide()
        self._contours: list[pg.IsocurveItem] = []
        self.colorbar: pg.ColorBarItem | None = None

    def set(self, values: np.ndarray, x: np.ndarray, y: np.ndarray, *, label: str,
            levels: tuple[float, float] | None = None, contours: int = 6) -> None:
        """Show ``values [ny, nx]`` sampled at grid centres ``x``, ``y`` as a heatmap with contours."""
        values = np.asarray(values, np.float64)
        lo, hi = levels if levels is not None else (float(np.nanmin(values)), float(np.nanmax(values)))
        if not hi > lo:
            hi = lo + 1e-9
        dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
        dy = (y[-1] - y[0]) / max(len(y) - 1, 1)
        self.image.setImage(values, levels=(lo, hi), autoLevels=False)
        self.image.setRect(QtCore.QRectF(x[0] - dx / 2, y[0] - dy / 2, dx * len(x), dy * len(y)))
        cmap = pg.colormap.get("viridis")
        self.image.setColorMap(cmap)
        self.image.show()
        if self.colorbar is None:
            self.colorbar = pg.ColorBarItem(values=(lo, hi), colorMap=cmap, interactive=False, width=14)
            self.colorbar.setImageItem(self.image, insert_in=self._plot)
        self.colorbar.setLevels((lo, hi))
        self.colorbar.axis.setLabel(label)
        self.colorbar.show()
        self._remove_contours()
        for level in np.linspace(lo, hi, contours + 2)[1:-1]:
            pen = pg.mkPen(255, 255, 255, 110, width=1)
            iso = transparent(pg.IsocurveItem(data=values, level=float(level), pen=pen))
            iso.setParentItem(self.image)  # image pixel coordinates; the image's rect maps them
            iso.setZValue(5)
            self._contours.append(iso)

    def clear(self) -> None:
        self.image.hide()
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
