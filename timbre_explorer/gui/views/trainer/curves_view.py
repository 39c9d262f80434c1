"""The training curves, one line per stage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from timbre_explorer.core.training.config import STAGE_NAMES
from timbre_explorer.gui.views.widgets import PLOT_BACKGROUND

if TYPE_CHECKING:
    from timbre_explorer.core.training.messages import EpochMetrics

STAGE_COLOURS = {"stage1": "#4e9bff", "regularized": "#ff8a3d", "baseline": "#a0a0a0", "unconditioned": "#50c878"}
#: Stages counted from the run's first epoch: stage 1, and the unconditioned twin (its own stage 1, then stage 2).
FROM_ZERO = frozenset({"stage1", "unconditioned"})

#: (the key of an epoch's metrics, the plot's title)
CURVES: tuple[tuple[Literal["nll", "kl", "reg", "valid_nll"], str], ...] = (("nll", "Reconstruction (NLL per frame)"), ("kl", "KL to the prior"),
          ("reg", "Perceptual term"), ("valid_nll", "Validation loss (NLL per bin)"))


class CurvesView(pg.GraphicsLayoutWidget):
    """The training curves, one line per stage, over the run's epochs (stage 2 and baseline follow stage 1; the
    unconditioned twin runs its own stages from epoch 0)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(PLOT_BACKGROUND)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.data: dict[str, tuple[list, dict]] = {}
        for i, (key, title) in enumerate(CURVES):
            p = self.addPlot(row=i // 2, col=i % 2, title=title)  # no grid: it triples the cost of a frame
            p.setLabel("bottom", "epoch")
            p.setMenuEnabled(False)
            if i == 0:
                p.addLegend(offset=(-10, 10))
            self.plots[key] = p
            for stage, c in STAGE_COLOURS.items():
                style = QtCore.Qt.PenStyle.DashLine if stage == "baseline" else QtCore.Qt.PenStyle.SolidLine
                self.curves[(key, stage)] = p.plot(pen=pg.mkPen(c, width=2, style=style),
                                                   name=STAGE_NAMES[stage] if i == 0 else None)
        self.stage1_epochs = 0

    def clear_curves(self, stage1_epochs: int) -> None:
        self.stage1_epochs = stage1_epochs
        self.data = {}
        for item in self.curves.values():
            item.setData([], [])

    def _x(self, stage: str, epoch: int) -> int:
        return epoch if stage in FROM_ZERO else self.stage1_epochs + epoch

    def add(self, stage: str, epoch: int, metrics: EpochMetrics, *, draw: bool = True) -> None:
        """Append an epoch; ``draw=False`` leaves the drawing to a later :meth:`redraw` (fast epochs)."""
        xs, ys = self.data.setdefault(stage, ([], {k: [] for k, _ in CURVES}))
        xs.append(self._x(stage, epoch))
        for key, _ in CURVES:
            off = key == "reg" and not metrics.get("alpha", 1.0)  # no perceptual term in this stage
            ys[key].append(np.nan if off else float(metrics.get(key, np.nan)))
        if draw:
            self.redraw()

    def redraw(self, keys=None) -> None:
        """Draw the stored epochs on the plots named by ``keys`` (default all; one plot costs half of four)."""
        for stage, (xs, ys) in self.data.items():
            x = np.asarray(xs, float)
            for key in keys or [k for k, _ in CURVES]:
                self.curves[(key, stage)].setData(x, np.asarray(ys[key], float), connect="finite")

    def set_history(self, stage: str, history: list[EpochMetrics]) -> None:
        for epoch, m in enumerate(history, start=1):
            self.add(stage, epoch, m, draw=False)
        self.redraw()

    def points(self, stage: str) -> int:
        return len(self.data.get(stage, ([],))[0])
