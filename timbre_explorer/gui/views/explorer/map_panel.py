"""The Map tab: projection (components, 2D/3D, hidden components, depth), instrument legend and filters, overlays.

The legend is a tree: a row per family (its check box shows or hides every member at once, and is part-checked
when only some are shown), the family's instruments under it; with many instruments the families start folded.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.gui.views.palette import colour
from timbre_explorer.gui.views.widgets import form_layout, group_box, row, wrapped_label

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.space import TimbreSpace

HIDDEN_LABELS = {"data": "on the data (the notes nearby)", "plane": "plane (depth slider)",
                 "nearest": "nearest note"}
HIDDEN_TIPS = {"data": "A click's hidden components follow the notes near it on the map: it plays what the "
                       "instruments there sound like; on an instrument's name, that instrument",
               "plane": "The paper's flat plane: the map's mean, moved through the Z component by the depth slider",
               "nearest": "A click takes the hidden components of the nearest note shown"}
FAMILY_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1  # a legend family row's family name


#: The projection group's title for each choice of axes.
PROJECTION_TITLES = {"pca": "Projection (PCA of the latent space)",
                     "discriminant": "Projection (instruments apart: LDA, then PCA, of the latent space)"}


def rows(item: QtWidgets.QTreeWidgetItem) -> list[QtWidgets.QTreeWidgetItem]:
    """``item``'s child rows: a legend family's members, or (the legend's root) its families."""
    return [c for j in range(item.childCount()) if (c := item.child(j)) is not None]


class MapPanel(QtWidgets.QWidget):
    """Projection (components, 2D/3D, depth), instrument legend and filters, overlays."""

    projection_changed = QtCore.Signal()
    colouring_changed = QtCore.Signal()  # the same notes, in other colours
    hidden_mode_changed = QtCore.Signal()  # where a click's hidden components come from
    filter_changed = QtCore.Signal()
    overlays_changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.axis_prefix = "PC"  # "LD" on the discriminant axes (set_axes)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self._projection_group())
        layout.addWidget(self._legend_group())
        layout.addWidget(self._overlays_group())
        layout.addStretch(1)

    def _projection_group(self) -> QtWidgets.QGroupBox:
        proj = QtWidgets.QWidget()
        form = form_layout(proj)
        self.model = wrapped_label("No model open.")  # which model the map shows: name, date, file
        self.model.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.model)
        self.basis = QtWidgets.QComboBox()
        self.basis.addItem("PCA (the paper)", "pca")
        self.basis.addItem("Instruments apart (LDA, then PCA)", "discriminant")
        self.basis.setToolTip("Both are rotations of the latent space, so any point on the map is a latent point. "
                              "PCA shows the directions of most variance, as the paper's maps do; LDA axes separate "
                              "the instruments first, then PCA completes them.")
        self.basis.currentIndexChanged.connect(self.projection_changed)
        form.addRow("Axes", self.basis)
        self.colour_by = QtWidgets.QComboBox()
        self.colour_by.addItems(["instrument", "family", "source", "pitch", "dynamic"])
        self.colour_by.setToolTip("What the notes' colours show: their instrument, its family, the sample set each "
                                  "note came from (a SoundFont, a sample folder), their pitch or their dynamic")
        self.colour_by.currentIndexChanged.connect(self.colouring_changed)
        form.addRow("Colour by", self.colour_by)
        self.colour_key = wrapped_label()  # what the colours mean, for every choice but instrument (listed below)
        self.colour_key.setTextFormat(QtCore.Qt.TextFormat.RichText)
        form.addRow(self.colour_key)
        self.axes = [QtWidgets.QComboBox() for _ in range(3)]
        for label, combo in zip(("X", "Y", "Z (3D, depth)"), self.axes):
            combo.currentIndexChanged.connect(self.projection_changed)
            combo.setToolTip(f"The component shown along {label.split(' ')[0]} (with its share of the latent variance)")
            form.addRow(label, combo)
        self.three_d = QtWidgets.QCheckBox("3D view")
        self.three_d.setToolTip("Rotate with the left mouse button; click a note to hear it (3)")
        self.three_d.toggled.connect(self.projection_changed)
        form.addRow(self.three_d)
        self.depth_mode = QtWidgets.QComboBox()  # filled by set_modes
        self.depth_mode.currentIndexChanged.connect(self._mode_chosen)
        self.depth_mode.currentIndexChanged.connect(self.hidden_mode_changed)
        form.addRow("Hidden components", self.depth_mode)
        self.depth_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.depth_slider.setRange(-100, 100)
        self.depth_slider.setToolTip("Where the plane cuts the Z component (plane mode): clicks and descriptor fields "
                              "use it")
        self.depth_slider.valueChanged.connect(self.projection_changed)
        self.depth_label = QtWidgets.QLabel("0")
        form.addRow("Depth", row(self.depth_slider, self.depth_label))
        self.variance = QtWidgets.QLabel()
        form.addRow(self.variance)
        self.projection_box = group_box(PROJECTION_TITLES["pca"], form)  # titled after the axes chosen (set_axes)
        return self.projection_box

    def _legend_group(self) -> QtWidgets.QGroupBox:
        legend_layout = QtWidgets.QVBoxLayout()
        self.legend = QtWidgets.QTreeWidget()
        self.legend.setHeaderHidden(True)
        self.legend.setMinimumHeight(150)
        self.legend.setToolTip("A family's box shows or hides all its instruments")
        self.legend.itemChanged.connect(self._legend_changed)
        self._members: list[QtWidgets.QTreeWidgetItem] = []  # the instruments' rows, in the space's order
        legend_layout.addWidget(self.legend)
        buttons = QtWidgets.QHBoxLayout()
        for text, state in (("All", True), ("None", False)):
            b = QtWidgets.QPushButton(text)
            b.clicked.connect(lambda _=False, s=state: self.check_all(s))
            b.setToolTip(f"{'Show' if state else 'Hide'} every instrument on the map")
            buttons.addWidget(b)
        legend_layout.addLayout(buttons)
        filt = QtWidgets.QWidget()
        fform = form_layout(filt)
        self.pitch_low, self.pitch_high = QtWidgets.QSpinBox(), QtWidgets.QSpinBox()
        for spin, value in ((self.pitch_low, 0), (self.pitch_high, 127)):
            spin.setRange(0, 127)
            spin.setValue(value)
            spin.valueChanged.connect(self.filter_changed)
            spin.setToolTip("Show only the notes from this MIDI pitch to that one")
        fform.addRow("Pitch (MIDI)", row(self.pitch_low, QtWidgets.QLabel("to"), self.pitch_high, stretch=None))
        self.dynamics_row = QtWidgets.QHBoxLayout()
        self.dynamics: dict[str, QtWidgets.QCheckBox] = {}
        fform.addRow("Dynamics", self.dynamics_row)
        legend_layout.addWidget(filt)
        return group_box("Instruments", legend_layout)

    def _overlays_group(self) -> QtWidgets.QGroupBox:
        over = QtWidgets.QVBoxLayout()
        self.show_labels = QtWidgets.QCheckBox("Instrument names at their centroids")
        self.show_labels.setChecked(True)
        self.show_labels.setToolTip("While more than 20 instruments are shown, only the rated instruments are named "
                                    "(hide families in the legend to name the others)")
        self.show_mds = QtWidgets.QCheckBox("Perceptual positions (MDS of the ratings)")
        self.show_mds.setToolTip("Where listeners put the rated instruments (the MDS of their dissimilarity ratings), "
                                 "aligned to the map")
        self.show_pairs = QtWidgets.QCheckBox("Pair lines: latent vs perceptual distance")
        pairs_meaning = "Red: the model puts the pair further apart than listeners do; blue: closer."
        self.show_pairs.setToolTip(pairs_meaning)
        self.pairs_caption = wrapped_label(pairs_meaning)
        self.pairs_caption.hide()
        self.show_pairs.toggled.connect(self.pairs_caption.setVisible)
        for b in (self.show_labels, self.show_mds, self.show_pairs):
            b.toggled.connect(self.overlays_changed)
            over.addWidget(b)
        over.addWidget(self.pairs_caption)
        return group_box("Overlays", over)

    def set_modes(self, modes: tuple[str, ...]) -> None:
        """Where the hidden components come from (the map state's modes), the first chosen."""
        if not self.depth_mode.count():
            for name in modes:
                self.depth_mode.addItem(HIDDEN_LABELS.get(name, name), name)
                self.depth_mode.setItemData(self.depth_mode.count() - 1, HIDDEN_TIPS.get(name),
                                            QtCore.Qt.ItemDataRole.ToolTipRole)
            self.depth_mode.setCurrentIndex(0)
            self._mode_chosen()

    def _mode_chosen(self) -> None:
        """The depth slider moves the plane: it does nothing in the other modes."""
        plane = self.depth_mode.currentData() == "plane"
        self.depth_slider.setEnabled(plane)
        self.depth_label.setEnabled(plane)
        self.depth_mode.setToolTip(HIDDEN_TIPS.get(self.depth_mode.currentData(), ""))

    def set_axes(self, explained, prefix: str) -> None:
        """Fill the axis choosers with the components of the current projection, keeping the choice."""
        self.axis_prefix = prefix
        self.projection_box.setTitle(PROJECTION_TITLES["discriminant" if prefix == "LD" else "pca"])
        for i, combo in enumerate(self.axes):
            keep = combo.currentIndex() if combo.count() == len(explained) else i
            combo.blockSignals(True)
            combo.clear()
            for k, v in enumerate(explained):
                combo.addItem(f"{prefix}{k + 1} ({100 * v:.1f}%)", k)
            combo.setCurrentIndex(min(keep, combo.count() - 1))
            combo.blockSignals(False)

    def set_colour_key(self, entries: list[tuple[str, QtGui.QColor]]) -> None:
        """A swatch and a name per colour; none (hidden) when the Instruments list below is the key."""
        self.colour_key.setText("  ".join(f'<span style="color:{c.name()}">■</span>&nbsp;{html.escape(name)}'
                                          for name, c in entries))
        self.colour_key.setVisible(bool(entries))

    def show_pca_basis(self) -> None:
        """The axes choice back on PCA, saying nothing (the "Instruments apart" axes could not be computed)."""
        with QtCore.QSignalBlocker(self.basis):
            self.basis.setCurrentIndex(0)

    def set_space(self, space: TimbreSpace, families: list[tuple[str, list[int]]], colouring: str, *,
                  expanded: bool) -> None:
        """A new space's axes, legend (``families``: each family and its instruments' indices, in the order shown;
        ``expanded``: every member in sight) and filters, coloured by ``colouring``."""
        for combo in self.axes:
            with QtCore.QSignalBlocker(combo):
                combo.clear()
        self.show_pca_basis()
        self.set_axes(space.projection.explained, "PC")
        self.legend.blockSignals(True)
        self.legend.clear()
        novel = {space.instruments[i] for i in set(space.notes.instrument[space.is_novel()].tolist())}
        counts = {name: int((space.notes.instrument == i).sum()) for i, name in enumerate(space.instruments)}
        self._members = [QtWidgets.QTreeWidgetItem() for _ in space.instruments]
        checkable = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsUserCheckable
        for name_of_family, members in families:
            family = QtWidgets.QTreeWidgetItem([f"{name_of_family} ({len(members)})"])
            family.setData(0, FAMILY_ROLE, name_of_family)
            family.setFlags(checkable)
            family.setCheckState(0, QtCore.Qt.CheckState.Checked)
            self.legend.addTopLevelItem(family)
            for i in members:
                name, item = space.instruments[i], self._members[i]
                item.setText(0, f"{name} ({counts[name]}{', novel' if name in novel else ''})")
                item.setData(0, QtCore.Qt.ItemDataRole.UserRole, i)
                item.setFlags(checkable)
                item.setCheckState(0, QtCore.Qt.CheckState.Checked)
                family.addChild(item)
        if expanded:  # else the families alone fit: open one to see its members
            self.legend.expandAll()
        self.colour_legend(None)
        self.legend.blockSignals(False)
        with QtCore.QSignalBlocker(self.colour_by):
            self.colour_by.setCurrentText(colouring)
        for box in self.dynamics.values():
            self.dynamics_row.removeWidget(box)
            box.deleteLater()
        self.dynamics = {}
        for d in space.dynamics:
            box = QtWidgets.QCheckBox(d)
            box.setChecked(True)
            box.toggled.connect(self.filter_changed)
            box.setToolTip(f"Show the notes played {d}")
            self.dynamics_row.addWidget(box)
            self.dynamics[d] = box
        known = space.notes.pitch[space.notes.pitch >= 0]
        low, high = (int(known.min()), int(known.max())) if len(known) else (0, 127)
        for spin, value in ((self.pitch_low, low), (self.pitch_high, high)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self.show_mds.setEnabled(space.perceptual_positions is not None)
        self.show_pairs.setEnabled(space.perceptual_positions is not None)

    def colour_legend(self, family_colours: dict[str, QtGui.QColor] | None) -> None:
        """The legend's swatches: each family's colour on its row and its members' (colouring by family), or
        none on the families and each instrument's own colour (``None``)."""
        def icon(c: QtGui.QColor | None) -> QtGui.QIcon:
            if c is None:
                return QtGui.QIcon()
            pix = QtGui.QPixmap(12, 12)
            pix.fill(c)
            return QtGui.QIcon(pix)

        with QtCore.QSignalBlocker(self.legend):
            for family in rows(self.legend.invisibleRootItem()):
                c = family_colours.get(family.data(0, FAMILY_ROLE)) if family_colours else None
                family.setIcon(0, icon(c))
                for item in rows(family):
                    item.setIcon(0, icon(c or colour(item.data(0, QtCore.Qt.ItemDataRole.UserRole))))

    def family_rows(self) -> list[tuple[str, list[str]]]:
        """The legend as it reads: each family's row text and its members' (what a test or a screenshot checks)."""
        return [(family.text(0), [item.text(0) for item in rows(family)])
                for family in rows(self.legend.invisibleRootItem())]

    def _legend_changed(self, item: QtWidgets.QTreeWidgetItem) -> None:
        """A family's box sets its members; a member's sets its family's (checked, part, unchecked); one signal."""
        with QtCore.QSignalBlocker(self.legend):
            family = item.parent()
            if family is None:
                state = item.checkState(0)
                if state == QtCore.Qt.CheckState.PartiallyChecked:  # a click cycles on: all of them
                    state = QtCore.Qt.CheckState.Checked
                    item.setCheckState(0, state)
                for member in rows(item):
                    member.setCheckState(0, state)
            else:
                states = {member.checkState(0) for member in rows(family)}
                family.setCheckState(0, states.pop() if len(states) == 1 else QtCore.Qt.CheckState.PartiallyChecked)
        self.filter_changed.emit()

    def check_all(self, on: bool) -> None:
        state = QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked
        with QtCore.QSignalBlocker(self.legend):
            for family in rows(self.legend.invisibleRootItem()):
                family.setCheckState(0, state)
                for item in rows(family):
                    item.setCheckState(0, state)
        self.filter_changed.emit()

    def set_instrument_checked(self, index: int, on: bool) -> None:
        self._members[index].setCheckState(0, QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)

    def set_family_checked(self, family: str, on: bool) -> None:
        """What a click on a family's box does: show or hide all its instruments."""
        for item in rows(self.legend.invisibleRootItem()):
            if item.data(0, FAMILY_ROLE) == family:
                item.setCheckState(0, QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)

    def checked_instruments(self) -> set[int]:
        return {i for i, item in enumerate(self._members) if item.checkState(0) == QtCore.Qt.CheckState.Checked}

    def chosen_filters(self, dynamics: list[str]) -> tuple[set[int], tuple[int, int], set[str]]:
        """The notes the user wants shown: instruments checked, the pitch range, and which of ``dynamics``."""
        return (self.checked_instruments(), (self.pitch_low.value(), self.pitch_high.value()),
                {d for d in dynamics if d not in self.dynamics or self.dynamics[d].isChecked()})

    def set_choices(self, *, axes: str, dims: list[int], colouring: str, three_d: bool, hidden: str, depth: int,
                    names: bool, mds: bool, pairs: bool) -> None:
        """Put the projection's and overlays' controls where a session had them, without a signal (the controller
        then reads them once)."""
        boxes = [self.basis, self.colour_by, *self.axes, self.three_d, self.depth_mode, self.depth_slider,
                 self.show_labels, self.show_mds, self.show_pairs]
        blockers = [QtCore.QSignalBlocker(b) for b in boxes]
        self.basis.setCurrentIndex(max(0, self.basis.findData(axes)))
        self.colour_by.setCurrentText(colouring)
        for combo, k in zip(self.axes, dims):
            if 0 <= k < combo.count():
                combo.setCurrentIndex(k)
        self.three_d.setChecked(three_d)
        self.depth_mode.setCurrentIndex(max(0, self.depth_mode.findData(hidden)))
        self._mode_chosen()
        self.depth_slider.setValue(depth)
        self.show_labels.setChecked(names)
        self.show_mds.setChecked(mds and self.show_mds.isEnabled())
        self.show_pairs.setChecked(pairs and self.show_pairs.isEnabled())
        self.pairs_caption.setVisible(self.show_pairs.isChecked())
        del blockers

    def set_filters(self, instruments: set[int] | None, pitch: tuple[int, int], dynamics: set[str] | None) -> None:
        """Check the instruments (indices; None: all) and dynamics (None: all) shown, and the pitch range, without
        a signal."""
        with QtCore.QSignalBlocker(self.legend):
            for i, item in enumerate(self._members):
                on = instruments is None or i in instruments
                item.setCheckState(0, QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)
            for family in rows(self.legend.invisibleRootItem()):
                states = {item.checkState(0) for item in rows(family)}
                if states:
                    family.setCheckState(0, states.pop() if len(states) == 1 else
                                         QtCore.Qt.CheckState.PartiallyChecked)
        for spin, value in ((self.pitch_low, pitch[0]), (self.pitch_high, pitch[1])):
            with QtCore.QSignalBlocker(spin):
                spin.setValue(value)
        for name, box in self.dynamics.items():
            with QtCore.QSignalBlocker(box):
                box.setChecked(dynamics is None or name in dynamics)

    def show_model(self, title: str, path: object) -> None:
        self.model.setText(f"Model: {title}\n{path}")

    def show_depth(self, value: float) -> None:
        self.depth_label.setText(f"{value:+.2f}")

    def show_variance(self, explained, dims: tuple[int, ...]) -> None:
        """The share of the latent variance the map's axes show (2D, and with Z): ``dims`` are X, Y, Z."""
        two, three = (100 * sum(explained[d] for d in dims[:n]) for n in (2, 3))
        self.variance.setText(f"The map shows {two:.1f}% of the latent variance (3D: {three:.1f}%).")

    def depth_step(self) -> int:
        """Where the depth slider stands, -100 to 100 (the plane mode's Z)."""
        return self.depth_slider.value()

    def hidden_mode(self) -> str:
        """Where a click's hidden components come from (one of the map state's modes)."""
        return self.depth_mode.currentData()

    def discriminant(self) -> bool:
        """Whether the axes set the instruments apart (LDA), not the paper's PCA."""
        return self.basis.currentData() == "discriminant"

    def three_d_on(self) -> bool:
        return self.three_d.isChecked()

    def overlays(self) -> tuple[bool, bool, bool]:
        """Which overlays are asked for: the instruments' names, the perceptual positions, the pair lines."""
        return self.show_labels.isChecked(), self.show_mds.isChecked(), self.show_pairs.isChecked()

    def axis_names(self) -> list[str]:
        return [self.axes[k].currentText() for k in range(3)]

    def colouring(self) -> str:
        return self.colour_by.currentText()

    def refuse_3d(self) -> None:
        """No 3D view here (no OpenGL): the box goes back off."""
        self.three_d.setChecked(False)

    def dims(self) -> tuple[int, int, int]:
        """The latent dimensions on X, Y and Z."""
        x, y, z = (c.currentData() if c.currentData() is not None else i for i, c in enumerate(self.axes))
        return x, y, z
