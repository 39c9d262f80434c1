"""The Trainer's file table: every file of a sample folder and what it becomes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.core.data.instruments import pitch_name
from timbre_explorer.gui.views.widgets import wrapped_label

if TYPE_CHECKING:
    from timbre_explorer.core.data.dataset import HeardPitch, SkippedFile


class RowsModel(QtCore.QAbstractTableModel):
    """A read-only table of rows of text (thousands of files fill it at once)."""

    def __init__(self, headers: list[str], parent=None):
        super().__init__(parent)
        self.headers = headers
        self.rows: list[tuple] = []
        self.problems: set[int] = set()

    def set_rows(self, rows: list[tuple], problems: Iterable[int] = ()) -> None:
        self.beginResetModel()
        self.rows, self.problems = rows, set(problems)
        self.endResetModel()

    def rowCount(self, parent=QtCore.QModelIndex()):  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QtCore.QModelIndex()):  # noqa: N802
        return len(self.headers)

    def data(self, index, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            return str(self.rows[index.row()][index.column()])
        if role == QtCore.Qt.ItemDataRole.ForegroundRole and index.row() in self.problems:
            return QtGui.QBrush(QtGui.QColor("#ff8a3d"))
        return None

    def headerData(self, section, orientation, role=QtCore.Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == QtCore.Qt.ItemDataRole.DisplayRole and orientation == QtCore.Qt.Orientation.Horizontal:
            return self.headers[section]
        return None


class FilesView(QtWidgets.QWidget):
    """Every file of a sample folder and what it becomes (instrument, pitch, dynamic), problems listed too."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.summary = wrapped_label("Choose your samples folder and press Preview: every file and its label "
                                "appear here before anything runs.")
        self.model = RowsModel(["file", "instrument", "pitch", "dynamic", "status"], self)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(0, 260)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def show_note(self, text: str) -> None:
        """No files, and why (another source, a folder that could not be read)."""
        self.model.set_rows([])
        self.summary.setText(text)

    def show_summary(self, text: str) -> None:
        self.summary.setText(text)

    def show_scan(self, notes, problems, held_out=()) -> None:
        """A folder's files as training reads them; a note named without a pitch is given the one heard in it when
        the dataset is built (``dataset.hear_pitches``)."""
        held = set(held_out)
        rows = [(n.file, n.instrument, pitch_name(n.pitch) if n.pitch >= 0 else "heard", n.dynamic or "?",
                 "held out (novel)" if n.instrument in held else "") for n in notes]
        rows += [(path, "", "", "", f"skipped: {reason}") for path, reason in problems]
        self.model.set_rows(rows, set(range(len(notes), len(rows))))
        instruments = len({n.instrument for n in notes})
        cannot = f"; {len(problems)} file{'s' if len(problems) > 1 else ''} cannot be used (listed last, in orange)"
        self.summary.setText(f"{len(notes)} note{'s' if len(notes) != 1 else ''} of {instruments} "
                             f"instrument{'s' if instruments != 1 else ''}" + (cannot if problems else "") + ".")

    def add_heard(self, heard: list[HeardPitch]) -> None:
        """The pitches a build heard in the notes named without one, where the table said "heard" (the table is of
        a folder the build read when one of them is listed: its other such notes had none to hear)."""
        pitches = {h["file"]: pitch_name(h["pitch"]) + " (heard)" for h in heard}
        if any(r[0] in pitches and r[2] == "heard" for r in self.model.rows):
            self.model.set_rows([(*r[:2], pitches.get(r[0], "none heard"), *r[3:]) if r[2] == "heard" else r
                                 for r in self.model.rows], self.model.problems)

    def add_skipped(self, skipped: list[SkippedFile]) -> None:
        """Files the build could not use (unreadable, silent, clipped): marked in the table."""
        if not skipped:
            return
        reasons = {s["file"]: s["reason"] for s in skipped}
        rows = list(self.model.rows)
        problems = set(self.model.problems)
        for i, r in enumerate(rows):
            if r[0] in reasons:
                rows[i] = (*r[:4], f"skipped: {reasons.pop(r[0])}")
                problems.add(i)
        for source, reason in reasons.items():
            problems.add(len(rows))
            rows.append((source, "", "", "", f"skipped: {reason}"))
        self.model.set_rows(rows, problems)
