"""The evaluation of a run: Table-1 figures beside the unregularized and unconditioned twins, distances, novel
instruments, and the figures across sources (sample sets kept out of training)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.data.instruments import DYNAMICS
from timbre_explorer.core.training.report import (
    BY_INSTRUMENT,
    CROSS_COLUMNS,
    FIGURES,
    by_instrument_text,
    cross_source_rows,
    novel_rows,
)
from timbre_explorer.gui.views.widgets import PLOT_BACKGROUND, cell, wrapped_label

if TYPE_CHECKING:
    from timbre_explorer.core.training.crosssource import CrossSourceReport
    from timbre_explorer.core.training.evaluate import EvaluationReport

#: The models a report may hold beside its own: its key and the column's title.
TWINS: tuple[tuple[Literal["baseline", "unconditioned"], str], ...] = (
    ("baseline", "unregularized"), ("unconditioned", "unconditioned"))
COLUMN_TIPS = {"model": "The model this run trained", "unregularized": "Stage 2 again with α = 0, from the same stage 1",
               "unconditioned": "The paper's model: no pitch or level given to the network, the same schedule"}
#: The across-sources entries of a report, and what their notes are for.
CROSS: tuple[tuple[Literal["cross_source", "cross_valid"], str], ...] = (
    ("cross_source", "test"), ("cross_valid", "validation"))


def cross_title(entry: CrossSourceReport, purpose: str) -> str:
    """The heading of one across-sources entry: the sample set, its role, how many notes of which instruments."""
    latent = entry.get("latent", {})
    dynamics = sorted(entry.get("dynamics", ()), key=lambda d: list(DYNAMICS).index(d) if d in DYNAMICS else 99)
    rated = len(latent.get("instruments", ()))
    return (f"{entry.get('source', '?')}, cross-source {purpose}: {latent.get('notes', '?')} notes of "
            f"{rated} rated instrument{'s' if rated != 1 else ''}, {' '.join(dynamics)}")


def fit_rows(table: QtWidgets.QTableWidget) -> None:
    """Rows as tall as their wrapped labels, the table as tall as its rows (the list below takes the rest)."""
    table.resizeRowsToContents()
    table.setFixedHeight(table.horizontalHeader().height() + sum(table.rowHeight(i) for i in range(table.rowCount()))
                         + 2 * table.frameWidth())


FIT, STRETCH = QtWidgets.QHeaderView.ResizeMode.ResizeToContents, QtWidgets.QHeaderView.ResizeMode.Stretch


def wrapping_table(rows: int, columns: int, *, elide: bool = False) -> QtWidgets.QTableWidget:
    """A read-only table whose cells wrap (no row headers): its first column stretches, the others fit their
    contents; ``elide``: a cell too narrow for its text is cut with "…" (otherwise it wraps whole)."""
    table = QtWidgets.QTableWidget(rows, columns)
    table.verticalHeader().hide()
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(FIT)
    table.horizontalHeader().setSectionResizeMode(0, STRETCH)
    table.setWordWrap(True)
    if not elide:
        table.setTextElideMode(QtCore.Qt.TextElideMode.ElideNone)
    return table


class ReportView(QtWidgets.QWidget):
    """The evaluation: Table-1 figures beside the twins the run trained, latent vs perceptual distances, novel
    instruments, and the figures on the sample sets kept out of training."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.report: EvaluationReport | None = None
        self.summary = wrapped_label("The evaluation appears here when training ends (or press Evaluate).")
        self.summary.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextBrowserInteraction)
        self.summary.setOpenExternalLinks(True)
        self._make_tables()
        self._make_scatter()
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.summary)
        left.addWidget(self.figures)
        left.addWidget(self.cross_label)
        left.addWidget(self.cross)
        left.addWidget(self.by_instrument)
        left.addWidget(QtWidgets.QLabel("Where the held-out instruments land"))
        left.addWidget(self.novel, 1)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(QtWidgets.QLabel("Instrument distances: latent space vs perception"))
        right.addWidget(self.scatter_plot, 1)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addLayout(right, 1)

    def _make_tables(self) -> None:
        """The figures beside the twins, the figures across sources, and where the novel instruments land."""
        # the labels are a column, not the row headers: a column wraps them; headers would widen the table
        self.figures = wrapping_table(len(FIGURES), 2)
        self.figures.horizontalHeader().sectionResized.connect(lambda *_: fit_rows(self.figures))
        self._figure_columns([])
        self.cross = wrapping_table(0, len(CROSS_COLUMNS))
        self.cross.setHorizontalHeaderLabels(list(CROSS_COLUMNS))
        # refitted once the header has laid out all its sections: fitted on the first one's signal, a row kept the
        # height its label wrapped to at a width the layout then changed
        refit = QtCore.QTimer(self, singleShot=True, interval=0)
        refit.timeout.connect(self._fit_cross)
        self.cross.horizontalHeader().sectionResized.connect(lambda *_: refit.start())
        self.cross.setToolTip("How the space holds on sample sets it never trained on: the model's placement of "
                              "their notes against the listeners' ratings, beside two placements without a model")
        self.cross_label = QtWidgets.QLabel("Across sources (sample sets kept out of training)")
        self.by_instrument = wrapped_label()  # where each set's instruments land: a line a set, under the table
        self.by_instrument.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.by_instrument.setToolTip("How many of each instrument's notes the model places nearest their own "
                                      "instrument, and where most of the others land when under half are")
        self.novel = wrapping_table(0, 4, elide=True)
        for column, mode in enumerate((FIT, STRETCH, FIT, STRETCH)):  # the two lists share the width, wrapped
            self.novel.horizontalHeader().setSectionResizeMode(column, mode)
        self.novel.setHorizontalHeaderLabels(["novel instrument", "nearest trained (distance)",
                                              "family holds", "unregularized nearest"])
        self.novel.verticalHeader().setSectionResizeMode(FIT)

    def _make_scatter(self) -> None:
        """Latent centroid distances against the perceptual dissimilarities, a colour per model."""
        self.scatter_plot = pg.PlotWidget(background=PLOT_BACKGROUND)
        self.scatter_plot.setLabel("bottom", "perceptual dissimilarity")
        self.scatter_plot.setLabel("left", "latent centroid distance")
        self.scatter_plot.setMenuEnabled(False)
        self.legend = self.scatter_plot.addLegend(offset=(10, 10))
        self.scatter = {
            "regularized": pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush("#4e9bff")),
            "unregularized": pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(160, 160, 160, 200)),
            "unconditioned": pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(80, 200, 120, 200)),
        }
        for item in self.scatter.values():
            self.scatter_plot.addItem(item)

    def clear_report(self) -> None:
        self.report = None
        self._figure_columns([])
        self.cross.setRowCount(0)
        self.cross_label.hide()
        self.cross.hide()
        self.by_instrument.hide()
        self.novel.setRowCount(0)
        for item in self.scatter.values():
            item.clear()
        self.legend.clear()
        self.summary.setText("The evaluation appears here when training ends (or press Evaluate).")

    def show_report(self, report: EvaluationReport, folder: str | None = None) -> None:
        self.report = report
        base = report.get("baseline", {})
        twins = [(key, title) for key, title in TWINS if key in report]
        columns = [report] + [report[key] for key, _ in twins]
        self._figure_columns(columns, [title for _, title in twins])
        self._show_cross(report)
        rows = novel_rows(report)
        self.novel.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                self.novel.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.legend.clear()
        for label, source in (("regularized", report), ("unregularized", base),
                              ("unconditioned", report.get("unconditioned", {}))):
            item = self.scatter[label]
            if "distances" in source:
                item.setData(source["distances"]["perceptual"], source["distances"]["latent"])
                self.legend.addItem(item, f"{label}: ρ = {source['spearman_rho']:.3f}")
            else:
                item.clear()
        beside = [f"{title.split(' (')[0]} {report[key]['spearman_rho']:.3f}" for key, title in TWINS
                  if "spearman_rho" in report.get(key, {})]
        parts = [f"Test notes: {report.get('test_notes', '?')}"]
        if "spearman_rho" in report:
            parts.append(f"Spearman ρ = <b>{report['spearman_rho']:.3f}</b>"
                         + (f" ({', '.join(beside)})" if beside else "")
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

    def _show_cross(self, report: EvaluationReport) -> None:
        """A heading row per kept-out sample set (test, then validation), then a row per placement."""
        t = self.cross
        t.clearSpans()
        entries = [(report[key], purpose) for key, purpose in CROSS if isinstance(report.get(key), dict)]
        rows = [(cross_title(entry, purpose), cross_source_rows(entry)) for entry, purpose in entries]
        t.setRowCount(sum(1 + len(cells) for _, cells in rows))
        r = 0
        for title, cells in rows:
            heading = QtWidgets.QTableWidgetItem(title)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            t.setItem(r, 0, heading)
            t.setSpan(r, 0, 1, len(CROSS_COLUMNS))
            r += 1
            for row_cells in cells:
                for c, text in enumerate(row_cells):
                    item = QtWidgets.QTableWidgetItem(text)
                    if c:
                        item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                    t.setItem(r, c, item)
                r += 1
        self._fit_cross()
        self.cross.setVisible(bool(rows))
        self.cross_label.setVisible(bool(rows))
        lines = [f"{entry['source']}: {text}" for entry, _ in entries if (text := by_instrument_text(entry))]
        self.by_instrument.setText("\n".join([f"{BY_INSTRUMENT}:", *lines]) if lines else "")
        self.by_instrument.setVisible(bool(lines))

    def _figure_columns(self, columns: Sequence[Mapping[str, object]], twins: Sequence[str] = ()) -> None:
        """The Table-1 rows: the figure's label, then its value in each report of ``columns`` (none: dashes)."""
        t = self.figures
        t.setColumnCount(1 + max(len(columns), 1))
        t.setHorizontalHeaderLabels(["figure", "model", *twins])
        for c in range(1, t.columnCount()):
            header = t.horizontalHeaderItem(c)  # the labels above name every column
            assert header is not None
            header.setToolTip(COLUMN_TIPS.get(header.text(), ""))
        for r, figure in enumerate(FIGURES):
            t.setItem(r, 0, QtWidgets.QTableWidgetItem(figure.label))
            for c, source in enumerate(columns or [{}], start=1):
                item = QtWidgets.QTableWidgetItem(figure.cell(source) if columns else "")
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                t.setItem(r, c, item)
        fit_rows(t)

    def _fit_cross(self) -> None:
        fit_rows(self.cross)

    def cross_rows(self) -> list[tuple[str, ...]]:
        """The across-sources table as texts, a heading row as one cell (what tests and screenshots read)."""
        t = self.cross
        return [tuple(cell(t, r, c).text() for c in range(1 if t.columnSpan(r, 0) > 1 else t.columnCount()))
                for r in range(t.rowCount())]
