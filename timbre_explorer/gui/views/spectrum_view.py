"""The decoded spectrum of what is playing (log-frequency axis) and its descriptor values."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.signal.units import DESCRIPTORS

DB_FLOOR = -100.0


def format_descriptor(name: str, value: float) -> str:
    unit = DESCRIPTORS.get(name, "")
    if unit == "Hz":
        return f"{value:,.0f} Hz"
    if unit == "dB":
        return f"{value:.1f} dB"
    return f"{value:.3f}"


class SpectrumView(QtWidgets.QWidget):
    """A small plot of a magnitude frame in dB over band centre frequencies, with a line of descriptors."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="#15171c")
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "frequency (Hz)")
        axis = self.plot.getAxis("bottom")  # log axis: labels at 1-2-5 steps, unlabelled lines between them
        decades = [10.0 ** k for k in range(1, 5)]
        axis.setTicks([[(np.log10(m * d), f"{m * d:,.0f}".replace(",000", "k")) for d in decades for m in (1, 2, 5)],
                       [(np.log10(m * d), "") for d in decades for m in (3, 4, 6, 7, 8, 9)]])
        self.plot.setLabel("left", "level", units="dB")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.setYRange(DB_FLOOR, 0)
        self.curve = self.plot.plot(pen=pg.mkPen("#ffe066", width=2), fillLevel=DB_FLOOR,
                                    brush=pg.mkBrush(255, 224, 102, 50))
        self.reference = self.plot.plot(pen=pg.mkPen("#7f8ea3", width=1, style=QtCore.Qt.PenStyle.DashLine))
        self.title = QtWidgets.QLabel("Click the map to hear a point.")
        self.values = QtWidgets.QLabel("")
        self.values.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        for label in (self.title, self.values):  # a long line wraps: what a click says never widens the map
            label.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.values)
        layout.addWidget(self.plot, 1)
        self.frequencies = np.zeros(0)

    def set_frequencies(self, hz: np.ndarray) -> None:
        self.frequencies = np.asarray(hz, np.float64)
        self.plot.setXRange(np.log10(self.frequencies[0]), np.log10(self.frequencies[-1]), padding=0.02)

    def show_frame(self, magnitude: np.ndarray, descriptors: dict, title: str, *, reference=None,
                   played_dbfs: float | None = None) -> None:
        """Plot ``magnitude [bins]`` (linear) in dB; ``reference`` (another frame) dashed, e.g. before a move.
        The descriptors are the decoded frame's (its loudness in the model's own scale); ``played_dbfs``, the level
        the sound plays at, is said beside them so the two are never taken for one another."""
        self.curve.setData(self.frequencies, self._db(magnitude))
        self.reference.setData(self.frequencies, self._db(reference)) if reference is not None \
            else self.reference.setData([], [])
        self.title.setText(title)
        text = "   ".join(f"{'frame loudness' if k == 'loudness' else k} {format_descriptor(k, float(v))}"
                          for k, v in descriptors.items())
        self.values.setText(text + ("" if played_dbfs is None else f"   plays at {played_dbfs:.1f} dBFS"))

    def clear(self, hint: str = "") -> None:
        """No frame shown; ``hint`` says what would show one."""
        self.curve.setData([], [])
        self.reference.setData([], [])
        self.values.setText("")
        if hint:
            self.title.setText(hint)

    @staticmethod
    def _db(magnitude) -> np.ndarray:
        return np.maximum(20 * np.log10(np.maximum(np.asarray(magnitude, np.float64), 1e-12)), DB_FLOOR)
