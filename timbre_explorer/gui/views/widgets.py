"""Small form helpers the views share: forms, titled groups, rows of widgets, wrapped labels, table cells, choices,
numbers, and the guard that keeps the mouse wheel from changing choices by accident."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets


def form_layout(widget: QtWidgets.QWidget | None = None) -> QtWidgets.QFormLayout:
    """A form whose fields take the panel's width (the side panels and the Trainer's settings)."""
    form = QtWidgets.QFormLayout(widget) if widget is not None else QtWidgets.QFormLayout()
    form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def group_box(title: str, layout: QtWidgets.QLayout) -> QtWidgets.QGroupBox:
    box = QtWidgets.QGroupBox(title)
    box.setLayout(layout)
    return box
PLOT_BACKGROUND = "#15171c"


def row(*widgets, stretch: int | None = 0) -> QtWidgets.QHBoxLayout:
    """Widgets side by side; the one at ``stretch`` takes the spare width (None: none does)."""
    layout = QtWidgets.QHBoxLayout()
    for w in widgets:
        layout.addWidget(w)
    if stretch is not None and len(widgets) > 1:
        layout.setStretch(stretch, 1)
    return layout


def wrapped_label(text: str = "") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setWordWrap(True)
    return label


def cell(table: QtWidgets.QTableWidget, r: int, c: int) -> QtWidgets.QTableWidgetItem:
    """The item at row ``r``, column ``c`` of a table that puts one in every cell it shows (Qt's may be None)."""
    item = table.item(r, c)
    assert item is not None, f"no item at row {r}, column {c}"
    return item


def choice_box(choices: dict[str, str]) -> QtWidgets.QComboBox:
    """A combo box of ``{value: label}``; ``currentData()`` is the value."""
    box = QtWidgets.QComboBox()
    for value, text in choices.items():
        box.addItem(text, value)
    return box


def int_field(low: int, high: int) -> QtWidgets.QSpinBox:
    spin = QtWidgets.QSpinBox()
    spin.setRange(low, high)
    spin.setGroupSeparatorShown(True)
    return spin


def float_field(low: float, high: float, decimals: int, step: float) -> QtWidgets.QDoubleSpinBox:
    spin = QtWidgets.QDoubleSpinBox()
    spin.setDecimals(decimals)
    spin.setRange(low, high)
    spin.setSingleStep(step)
    return spin


class _WheelGuard(QtCore.QObject):
    """Passes a wheel event on to the parent (the scrolling panel) unless the widget has the keyboard focus."""

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Wheel and isinstance(watched, QtWidgets.QWidget) \
                and not watched.hasFocus():
            event.ignore()  # ignored and filtered: Qt offers it to the parent widget next
            return True
        return False


def guard_wheel(root: QtWidgets.QWidget) -> None:
    """The combo and spin boxes under ``root`` take the mouse wheel only once focused (clicked or tabbed into).

    Scrolling a panel past them changed them silently (the Trainer's transform went from NSGT-ERB to NSGT-Mel);
    now the wheel scrolls the panel, and a wheel no longer gives them the focus either.
    """
    guard = _WheelGuard(root)
    for box in root.findChildren(QtWidgets.QComboBox) + root.findChildren(QtWidgets.QAbstractSpinBox):
        box.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        box.installEventFilter(guard)


def export_file_name(parent: QtWidgets.QWidget, title: str, name: str, filters: str) -> str:
    """A save dialog that opens in the folder of the last export (at first the user's documents, never the
    folder the app was started from) and remembers the folder chosen; "" if cancelled. A folder that is not there
    (no ~/Documents, a last folder since removed) gives way to the next: documents, then home."""
    from timbre_explorer.gui import settings

    path, _ = QtWidgets.QFileDialog.getSaveFileName(parent, title, str(Path(export_folder()) / name), filters)
    if path:
        settings.write("export/folder", str(Path(path).parent))
    return path


def export_folder() -> str:
    """Where an export dialog opens (see :func:`export_file_name`)."""
    from timbre_explorer.gui import settings

    documents = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.DocumentsLocation)
    candidates = (settings.read("export/folder"), documents, str(Path.home()))
    return next((f for f in candidates if f and Path(f).is_dir()), str(Path.home()))
