"""The evaluation of a run: Table-1 figures against the baseline, distances, novel instruments."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.training.report import FIGURES, novel_rows
from timbre_explorer.gui.views.widgets import PLOT_BACKGROUND, wrapped_label


class ReportView(QtWidgets.QWidget):
    """The evaluation: Table-1 figures against the baseline, latent vs perceptual distances, novel instruments."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.report: dict | None = None
        self.summary = wrapped_label("The evaluation appears here when training ends (or press Evaluate).")
        self.summary.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextBrowserInteraction)
        self.summary.setOpenExternalLinks(True)
        self.figures = QtWidgets.QTableWidget(len(FIGURES), 2)
        self.figures.setHorizontalHeaderLabels(["regularized", "unregularized"])
        self.figures.setVerticalHeaderLabels([f.label for f in FIGURES])
        self.figures.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.figures.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.figures.setMinimumHeight(170)
        self.novel = QtWidgets.QTableWidget(0, 4)
        self.novel.setHorizontalHeaderLabels(["novel instrument", "nearest trained (distance)",
                                              "family holds", "unregularized nearest"])
        self.novel.verticalHeader().hide()
        self.novel.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        fit, stretch = QtWidgets.QHeaderView.ResizeMode.ResizeToContents, QtWidgets.QHeaderView.ResizeMode.Stretch
        for column, mode in enumerate((fit, stretch, fit, stretch)):  # the two lists share the width, wrapped
            self.novel.horizontalHeader().setSectionResizeMode(column, mode)
        self.novel.verticalHeader().setSectionResizeMode(fit)
        self.novel.setWordWrap(True)
        self.scatter_plot = pg.PlotWidget(background=PLOT_BACKGROUND)
        self.scatter_plot.setLabel("bottom", "perceptual dissimilarity")
        self.scatter_plot.setLabel("left", "latent centroid distance")
        self.scatter_plot.setMenuEnabled(False)
        self.legend = self.scatter_plot.addLegend(offset=(10, 10))
        self.scatter = {
            "regularized": pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush("#4e9bff")),
            "unregularized": pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(160, 160, 160, 200)),
        }
        for item in self.scatter.values():
            self.scatter_plot.addItem(item)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.summary)
        left.addWidget(self.figures)
        left.addWidget(QtWidgets.QLabel("Where the held-out instruments land"))
        left.addWidget(self.novel, 1)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(QtWidgets.QLabel("Instrument distances: latent space vs perception"))
        right.addWidget(self.scatter_plot, 1)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    def clear_report(self) -> None:
        self.report = None
        self.figures.clearContents()
        self.novel.setRowCount(0)
        for item in self.scatter.values():
            item.clear()
        self.legend.clear()
        self.summary.setText("The evaluation appears here when training ends (or press Evaluate).")

    def show_report(self, report: dict, folder: str | None = None) -> None:
        self.report = report
        base = report.get("baseline", {})
        for r, figure in enumerate(FIGURES):
            for c, source in enumerate((report, base)):
                item = QtWidgets.QTableWidgetItem(figure.cell(source))
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                self.figures.setItem(r, c, item)
        rows = novel_rows(report)
        self.novel.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                self.novel.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.legend.clear()
        for label, source in (("regularized", report), ("unregularized", base)):
            item = self.scatter[label]
            if "distances" in source:
                item.setData(source["distances"]["perceptual"], source["distances"]["latent"])
                self.legend.addItem(item, f"{label}: ρ = {source['spearman_rho']:.3f}")
            else:
                item.clear()
        parts = [f"Test notes: {report.get('test_notes', '?')}"]
        if "spearman_rho" in report:
            parts.append(f"Spearman ρ = <b>{report['spearman_rho']:.3f}</b>"
                         + (f" (unregularized {base['spearman_rho']:.3f})" if "spearman_rho" in base else "")
                         + (f"; the MDS ceiling is {report['mds_ceiling_rho']:.3f}" if "mds_ceiling_rho" in report
                            else ""))
        else:
            parts.append("no perceptual figures (trained without the regularizer)")
        if "train_seconds" in report:
            parts.append(f"trained in {report['train_seconds']:.0f} s")
        if folder:
            url = QtCore.QUrl.fromLocalFile(folder).toString()
            parts.append(f'report.md and plots in <a href="{url}">{folder}</a>')
        self.summary.setText(". ".join(parts) + ".")
