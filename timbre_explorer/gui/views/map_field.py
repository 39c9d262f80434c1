"""A descriptor field on the 2-D map: the descriptor's value over the map as a heatmap under the notes, with
contour lines and a colour bar naming it."""

from __future__ import annotations

from collections.abc import Sequence

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
        #: the contour lines, one curve (traced in the worker: the GUI thread only draws them)
        self.contour_curve = transparent(pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 110, width=1), connect="finite"))
        self.contour_curve.setZValue(-19)
        plot.addItem(self.contour_curve)
        self.contour_levels = 0  # how many levels the curve draws
        self.colorbar: pg.ColorBarItem | None = None

    def set(self, values: np.ndarray, x: np.ndarray, y: np.ndarray, *, label: str,
            contours: Sequence[Sequence[np.ndarray]] = ()) -> None:
        """Show ``values [ny, nx]`` sampled at grid centres ``x``, ``y`` as a heatmap, and ``contours``: for each
        level its polylines ``[points, 2]`` in map coordinates."""
        values = np.asarray(values, np.float64)
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
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
        lines = [line for level in contours for line in level]
        if lines:  # one curve: each polyline ends in a NaN, where the line breaks
            xy = np.concatenate([np.vstack([line, [np.nan, np.nan]]) for line in lines])
            self.contour_curve.setData(xy[:, 0], xy[:, 1])
        else:
            self.contour_curve.setData([], [])
        self.contour_levels = len(contours)
        self.contour_curve.show()

    def clear(self) -> None:
        self.image.hide()
        self.contour_curve.hide()
        self.contour_levels = 0
        if self.colorbar is not None:
            self.colorbar.hide()
