"""The Field tab: the descriptor field over the visible plane."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.signal.units import DESCRIPTORS
from timbre_explorer.gui.views.widgets import form_layout, group_box


class FieldPanel(QtWidgets.QWidget):
    """The descriptor field over the visible plane."""

    changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        w = QtWidgets.QWidget()
        form = form_layout(w)
        # not ``show``: that would hide QWidget.show
        self.field_shown = QtWidgets.QCheckBox("Show the descriptor field (F)")
        self.field_shown.toggled.connect(self.changed)
        self.field_shown.setToolTip("Colour the visible map by what the chosen descriptor is at each point (F)")
        form.addRow(self.field_shown)
        self.descriptor = QtWidgets.QComboBox()
        for name, unit in DESCRIPTORS.items():
            self.descriptor.addItem(f"{name} ({unit})" if unit else name, name)
        self.descriptor.currentIndexChanged.connect(self.changed)
        self.descriptor.setToolTip("What the field shows: brightness (centroid), spread, noisiness, roll-off or "
                                   "loudness of the sound at each point")
        form.addRow("Descriptor", self.descriptor)
        self.resolution = QtWidgets.QSpinBox()
        self.resolution.setRange(20, 400)
        self.resolution.setValue(100)
        self.resolution.setSuffix(" × same")
        self.resolution.valueChanged.connect(self.changed)
        self.resolution.setToolTip("Points decoded along each side of the field: finer is slower")
        form.addRow("Grid", self.resolution)
        self.contours = QtWidgets.QSpinBox()
        self.contours.setRange(0, 20)
        self.contours.setValue(6)
        self.contours.valueChanged.connect(self.changed)
        self.contours.setToolTip("How many contour lines are drawn over the field (0: none)")
        form.addRow("Contour lines", self.contours)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        form.addRow(self.progress)
        note = QtWidgets.QLabel("The field is decoded on the visible part of the map, coarse first, at the latent "
                                "points a click there plays (Map tab: hidden components; in plane mode the "
                                "depth slider moves the plane through the Z component).")
        note.setWordWrap(True)
        form.addRow(note)
        layout.addWidget(group_box("Descriptor field", form))
        layout.addStretch(1)

    def set_choices(self, *, shown: bool, descriptor: str, grid: int, contours: int) -> None:
        """Put the controls where a session had them, without a signal (the controller then decodes once)."""
        boxes = (self.field_shown, self.descriptor, self.resolution, self.contours)
        blockers = [QtCore.QSignalBlocker(b) for b in boxes]
        self.field_shown.setChecked(shown)
        self.descriptor.setCurrentIndex(max(0, self.descriptor.findData(descriptor)))
        self.resolution.setValue(grid)
        self.contours.setValue(contours)
        del blockers

    def name(self) -> str:
        return self.descriptor.currentData()

    def grid_size(self) -> int:
        """The finest grid's points along each side."""
        return self.resolution.value()

    def contour_count(self) -> int:
        return self.contours.value()

    def is_shown(self) -> bool:
        """Whether the user asked for the field."""
        return self.field_shown.isChecked()

    def show_progress(self, fraction: float) -> None:
        """How much of the field is decoded (0 to 1): coarse grids first."""
        self.progress.setValue(int(100 * fraction))
