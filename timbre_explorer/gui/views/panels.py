"""The Explorer's side panels: controls only. Each emits what the user asked for; the Explorer acts on it."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.core.signal.units import DESCRIPTORS
from timbre_explorer.gui.views.map_view import colour
from timbre_explorer.gui.views.spectrum_view import format_descriptor


def form_layout(widget: QtWidgets.QWidget | None = None) -> QtWidgets.QFormLayout:
    """A form whose fields take the panel's width (the side panels and the Trainer's settings)."""
    form = QtWidgets.QFormLayout(widget) if widget is not None else QtWidgets.QFormLayout()
    form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def group_box(title: str, layout: QtWidgets.QLayout) -> QtWidgets.QGroupBox:
    box = QtWidgets.QGroupBox(title)
    box.setLayout(layout)
    return box


class MapPanel(QtWidgets.QWidget):
    """Projection (components, 2D/3D, depth), instrument legend and filters, overlays."""

    projection_changed = QtCore.Signal()
    filter_changed = QtCore.Signal()
    overlays_changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        proj = QtWidgets.QWidget()
        form = form_layout(proj)
        self.basis = QtWidgets.QComboBox()
        self.basis.addItem("PCA (the paper)", "pca")
        self.basis.addItem("Instruments apart (LDA, then PCA)", "discriminant")
        self.basis.setToolTip("Both are rotations of the latent space, so any point on the map is a latent point. "
                              "PCA shows the most variance (mostly pitch and loudness); LDA axes separate the "
                              "instruments first.")
        self.basis.currentIndexChanged.connect(self.projection_changed)
        form.addRow("Axes", self.basis)
        self.colour_by = QtWidgets.QComboBox()
        self.colour_by.addItems(["instrument", "family", "pitch", "dynamic"])
        self.colour_by.currentIndexChanged.connect(self.projection_changed)
        form.addRow("Colour by", self.colour_by)
        self.axes = [QtWidgets.QComboBox() for _ in range(3)]
        for label, combo in zip(("X", "Y", "Z (3D, depth)"), self.axes):
            combo.currentIndexChanged.connect(self.projection_changed)
            form.addRow(label, combo)
        self.three_d = QtWidgets.QCheckBox("3D view")
        self.three_d.setToolTip("Rotate with the left mouse button; click a note to hear it (3)")
        self.three_d.toggled.connect(self.projection_changed)
        form.addRow(self.three_d)
        self.depth = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.depth.setRange(-100, 100)
        self.depth.setToolTip("Where the plane cuts the Z component: clicks and descriptor fields use it")
        self.depth.valueChanged.connect(self.projection_changed)
        self.depth_label = QtWidgets.QLabel("0")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.depth, 1)
        row.addWidget(self.depth_label)
        form.addRow("Depth", row)
        self.depth_mode = QtWidgets.QComboBox()
        self.depth_mode.addItems(["plane (depth slider)", "nearest note"])
        self.depth_mode.setToolTip("Where a click takes the components you do not see: the plane, "
                                   "or the nearest note on the map")
        form.addRow("Hidden components", self.depth_mode)
        self.variance = QtWidgets.QLabel()
        form.addRow(self.variance)
        layout.addWidget(group_box("Projection (PCA of the latent space)", form))

        legend_layout = QtWidgets.QVBoxLayout()
        self.legend = QtWidgets.QListWidget()
        self.legend.setMinimumHeight(150)
        self.legend.itemChanged.connect(self.filter_changed)
        legend_layout.addWidget(self.legend)
        buttons = QtWidgets.QHBoxLayout()
        for text, state in (("All", True), ("None", False)):
            b = QtWidgets.QPushButton(text)
            b.clicked.connect(lambda _=False, s=state: self.check_all(s))
            buttons.addWidget(b)
        legend_layout.addLayout(buttons)
        filt = QtWidgets.QWidget()
        fform = form_layout(filt)
        self.pitch_low, self.pitch_high = QtWidgets.QSpinBox(), QtWidgets.QSpinBox()
        for spin, value in ((self.pitch_low, 0), (self.pitch_high, 127)):
            spin.setRange(0, 127)
            spin.setValue(value)
            spin.valueChanged.connect(self.filter_changed)
        prow = QtWidgets.QHBoxLayout()
        prow.addWidget(self.pitch_low)
        prow.addWidget(QtWidgets.QLabel("to"))
        prow.addWidget(self.pitch_high)
        fform.addRow("Pitch (MIDI)", prow)
        self.dynamics_row = QtWidgets.QHBoxLayout()
        self.dynamics: dict[str, QtWidgets.QCheckBox] = {}
        fform.addRow("Dynamics", self.dynamics_row)
        legend_layout.addWidget(filt)
        layout.addWidget(group_box("Instruments", legend_layout))

        over = QtWidgets.QVBoxLayout()
        self.show_labels = QtWidgets.QCheckBox("Instrument names at their centroids")
        self.show_labels.setChecked(True)
        self.show_mds = QtWidgets.QCheckBox("Perceptual positions (MDS of the ratings)")
        self.show_pairs = QtWidgets.QCheckBox("Pair lines: latent vs perceptual distance")
        self.show_pairs.setToolTip("Red: the model puts the pair further apart than listeners do; blue: closer")
        for b in (self.show_labels, self.show_mds, self.show_pairs):
            b.toggled.connect(self.overlays_changed)
            over.addWidget(b)
        layout.addWidget(group_box("Overlays", over))
        layout.addStretch(1)

    def set_axes(self, explained, prefix: str) -> None:
        """Fill the axis choosers with the components of the current projection, keeping the choice."""
        for i, combo in enumerate(self.axes):
            keep = combo.currentIndex() if combo.count() == len(explained) else i
            combo.blockSignals(True)
            combo.clear()
            for k, v in enumerate(explained):
                combo.addItem(f"{prefix}{k + 1} ({100 * v:.1f}%)", k)
            combo.setCurrentIndex(min(keep, combo.count() - 1))
            combo.blockSignals(False)

    def set_space(self, space) -> None:
        for combo in self.axes:
            combo.blockSignals(True)
            combo.clear()
            combo.blockSignals(False)
        self.basis.blockSignals(True)
        self.basis.setCurrentIndex(0)
        self.basis.blockSignals(False)
        self.set_axes(space.projection.explained, "PC")
        self.legend.blockSignals(True)
        self.legend.clear()
        novel = {space.instruments[i] for i in set(space.notes.instrument[space.is_novel()].tolist())}
        counts = {name: int((space.notes.instrument == i).sum()) for i, name in enumerate(space.instruments)}
        for i, name in enumerate(space.instruments):
            pix = QtGui.QPixmap(12, 12)
            pix.fill(colour(i))
            text = f"{name} ({counts[name]}{', novel' if name in novel else ''})"
            item = QtWidgets.QListWidgetItem(QtGui.QIcon(pix), text)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, i)
            item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.CheckState.Checked)
            self.legend.addItem(item)
        self.legend.blockSignals(False)
        for box in self.dynamics.values():
            self.dynamics_row.removeWidget(box)
            box.deleteLater()
        self.dynamics = {}
        for d in space.dynamics:
            box = QtWidgets.QCheckBox(d)
            box.setChecked(True)
            box.toggled.connect(self.filter_changed)
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

    def check_all(self, on: bool) -> None:
        self.legend.blockSignals(True)
        for k in range(self.legend.count()):
            self.legend.item(k).setCheckState(QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)
        self.legend.blockSignals(False)
        self.filter_changed.emit()

    def set_instrument_checked(self, index: int, on: bool) -> None:
        self.legend.item(index).setCheckState(QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)

    def checked_instruments(self) -> set[int]:
        return {self.legend.item(k).data(QtCore.Qt.ItemDataRole.UserRole) for k in range(self.legend.count())
                if self.legend.item(k).checkState() == QtCore.Qt.CheckState.Checked}

    def dims(self) -> tuple[int, ...]:
        return tuple(c.currentData() if c.currentData() is not None else i for i, c in enumerate(self.axes))


class PathPanel(QtWidgets.QWidget):
    """Paths between instruments or points, free polylines, the note morph; play and export."""

    set_requested = QtCore.Signal()
    draw_toggled = QtCore.Signal(bool)
    clear_requested = QtCore.Signal()
    play_requested = QtCore.Signal()
    export_requested = QtCore.Signal()
    morph_requested = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        ends = QtWidgets.QWidget()
        form = form_layout(ends)
        self.start, self.end = QtWidgets.QComboBox(), QtWidgets.QComboBox()
        form.addRow("From", self.start)
        form.addRow("To", self.end)
        self.set_button = QtWidgets.QPushButton("Set path")
        self.set_button.setToolTip("A straight path between the two ends, in the full latent space")
        self.set_button.clicked.connect(self.set_requested)
        self.draw_button = QtWidgets.QPushButton("Draw on the map")
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip("Click to add points; double-click or Enter to finish (D)")
        self.draw_button.toggled.connect(self.draw_toggled)
        self.clear_button = QtWidgets.QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear_requested)
        row = QtWidgets.QHBoxLayout()
        for b in (self.set_button, self.draw_button, self.clear_button):
            row.addWidget(b)
        form.addRow(row)
        self.mode = QtWidgets.QComboBox()
        self.mode.addItem("spherical (slerp, as the paper)", "slerp")
        self.mode.addItem("linear", "linear")
        form.addRow("Interpolation", self.mode)
        self.seconds = QtWidgets.QDoubleSpinBox()
        self.seconds.setRange(0.2, 120.0)  # long paths render in pieces: about 0.1 s per second of sound
        self.seconds.setValue(3.0)
        self.seconds.setSuffix(" s")
        form.addRow("Duration", self.seconds)
        self.play_button = QtWidgets.QPushButton("Play path")
        self.play_button.setToolTip("Render the path as one morphing sound (P)")
        self.play_button.clicked.connect(self.play_requested)
        self.export_button = QtWidgets.QPushButton("Export WAV + JSON…")
        self.export_button.clicked.connect(self.export_requested)
        row2 = QtWidgets.QHBoxLayout()
        row2.addWidget(self.play_button)
        row2.addWidget(self.export_button)
        form.addRow(row2)
        self.info = QtWidgets.QLabel("No path yet.")
        self.info.setWordWrap(True)
        form.addRow(self.info)
        layout.addWidget(group_box("Path", form))

        morph = QtWidgets.QWidget()
        mform = form_layout(morph)
        self.morph_from = NoteChooser()
        self.morph_to = NoteChooser()
        mform.addRow("From note", self.morph_from)
        mform.addRow("To note", self.morph_to)
        self.morph_button = QtWidgets.QPushButton("Morph notes")
        self.morph_button.setToolTip("Encode every frame of both notes and interpolate frame to frame: "
                                     "the morph keeps a real attack and decay")
        self.morph_button.clicked.connect(self.morph_requested)
        mform.addRow(self.morph_button)
        layout.addWidget(group_box("Note morph", mform))

        import pyqtgraph as pg

        self.spectrogram = pg.PlotWidget(background="#15171c")
        self.spectrogram.setMinimumHeight(140)
        self.spectrogram.setLabel("bottom", "time", units="s")
        self.spectrogram.setLabel("left", "band")
        self.spectrogram.setMouseEnabled(x=False, y=False)
        self.spectrogram_image = pg.ImageItem()
        self.spectrogram_image.setColorMap(pg.colormap.get("inferno"))
        self.spectrogram.addItem(self.spectrogram_image)
        layout.addWidget(group_box("Path spectrogram", _single(self.spectrogram)))
        layout.addStretch(1)

    def set_ends(self, items: list[str]) -> None:
        for combo in (self.start, self.end):
            current = combo.currentText()
            combo.clear()
            combo.addItems(items)
            if current in items:
                combo.setCurrentText(current)
        if self.start.currentIndex() == self.end.currentIndex() and self.end.count() > 1:
            self.end.setCurrentIndex(min(self.start.currentIndex() + 1, self.end.count() - 1))


def _single(widget: QtWidgets.QWidget) -> QtWidgets.QLayout:
    layout = QtWidgets.QVBoxLayout()
    layout.addWidget(widget)
    return layout


class NoteChooser(QtWidgets.QWidget):
    """Instrument, pitch and dynamic of a real note (rendered from the SoundFont), or an audio file."""

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.instrument = QtWidgets.QComboBox()
        self.pitch = QtWidgets.QSpinBox()
        self.pitch.setRange(21, 108)
        self.pitch.setValue(60)
        self.pitch.setToolTip("MIDI pitch")
        self.dynamic = QtWidgets.QComboBox()
        self.file: str | None = None
        browse = QtWidgets.QToolButton()
        browse.setText("File…")
        browse.clicked.connect(self._browse)
        for w in (self.instrument, self.pitch, self.dynamic, browse):
            row.addWidget(w)

    def set_choices(self, instruments: list[str], dynamics: list[str]) -> None:
        current = self.instrument.currentText()
        self.instrument.clear()
        self.instrument.addItems(instruments)
        if current in instruments:
            self.instrument.setCurrentText(current)
        self.dynamic.clear()
        self.dynamic.addItems(dynamics)
        self.dynamic.setCurrentText("mf" if "mf" in dynamics else dynamics[len(dynamics) // 2])

    def spec(self) -> str:
        """What :func:`timbre_explorer.core.synthesis.morph.note_audio` takes: a file path or ``Instrument:pitch:dynamic``."""
        if self.file:
            return self.file
        return f"{self.instrument.currentText()}:{self.pitch.value()}:{self.dynamic.currentText()}"

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "A note to morph", "",
                                                        "Audio (*.wav *.aif *.aiff *.flac *.mp3 *.ogg)")
        self.file = path or None
        self.instrument.setEnabled(not self.file)
        self.pitch.setEnabled(not self.file)
        self.dynamic.setEnabled(not self.file)
        self.setToolTip(self.file or "")


class FieldPanel(QtWidgets.QWidget):
    """The descriptor field over the visible plane."""

    changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        w = QtWidgets.QWidget()
        form = form_layout(w)
        self.show = QtWidgets.QCheckBox("Show the descriptor field (F)")
        self.show.toggled.connect(self.changed)
        form.addRow(self.show)
        self.descriptor = QtWidgets.QComboBox()
        for name, unit in DESCRIPTORS.items():
            self.descriptor.addItem(f"{name} ({unit})" if unit else name, name)
        self.descriptor.currentIndexChanged.connect(self.changed)
        form.addRow("Descriptor", self.descriptor)
        self.resolution = QtWidgets.QSpinBox()
        self.resolution.setRange(20, 400)
        self.resolution.setValue(100)
        self.resolution.setSuffix(" × same")
        self.resolution.valueChanged.connect(self.changed)
        form.addRow("Grid", self.resolution)
        self.contours = QtWidgets.QSpinBox()
        self.contours.setRange(0, 20)
        self.contours.setValue(6)
        self.contours.valueChanged.connect(self.changed)
        form.addRow("Contour lines", self.contours)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        form.addRow(self.progress)
        note = QtWidgets.QLabel("The field is decoded on the visible part of the plane, coarse first. "
                                "The depth slider (Map tab) moves the plane through the Z component.")
        note.setWordWrap(True)
        form.addRow(note)
        layout.addWidget(group_box("Descriptor field", form))
        layout.addStretch(1)

    def name(self) -> str:
        return self.descriptor.currentData()


class MovePanel(QtWidgets.QWidget):
    """Descriptor sliders for the selected point, and descriptor curves over time."""

    target_changed = QtCore.Signal(str, float)  # descriptor, target value
    curve_requested = QtCore.Signal()

    STEPS = 1000

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        w = QtWidgets.QWidget()
        form = form_layout(w)
        self.method = QtWidgets.QComboBox()
        self.method.addItem("gradient through the decoder", "gradient")
        self.method.addItem("greedy neighbourhood search (paper)", "greedy")
        form.addRow("Method", self.method)
        self.sliders: dict[str, QtWidgets.QSlider] = {}
        self.value_labels: dict[str, QtWidgets.QLabel] = {}
        self.ranges: dict[str, tuple[float, float]] = {}
        for name in DESCRIPTORS:
            slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            slider.setRange(0, self.STEPS)
            slider.setEnabled(False)
            slider.setTracking(False)  # act on release (and on keyboard steps), not on every pixel
            slider.valueChanged.connect(lambda v, n=name: self._moved(n, v))
            slider.sliderMoved.connect(lambda v, n=name: self.value_labels[n].setText(
                format_descriptor(n, self.value_of(n, v))))
            label = QtWidgets.QLabel("–")
            label.setMinimumWidth(80)
            row = QtWidgets.QHBoxLayout()
            row.addWidget(slider, 1)
            row.addWidget(label)
            form.addRow(name, row)
            self.sliders[name], self.value_labels[name] = slider, label
        self.status = QtWidgets.QLabel("Click the map to select a point.")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        layout.addWidget(group_box("Descriptor sliders", form))

        c = QtWidgets.QWidget()
        cform = form_layout(c)
        self.curve_descriptor = QtWidgets.QComboBox()
        for name in DESCRIPTORS:
            self.curve_descriptor.addItem(name, name)
        cform.addRow("Descriptor", self.curve_descriptor)
        self.curve_shape = QtWidgets.QComboBox()  # filled with core.synthesis.reach.CURVES when a space loads
        cform.addRow("Shape", self.curve_shape)
        self.curve_start, self.curve_end = QtWidgets.QDoubleSpinBox(), QtWidgets.QDoubleSpinBox()
        for spin in (self.curve_start, self.curve_end):
            spin.setRange(-1e6, 1e6)
            spin.setDecimals(3)
        crow = QtWidgets.QHBoxLayout()
        crow.addWidget(self.curve_start)
        crow.addWidget(QtWidgets.QLabel("to"))
        crow.addWidget(self.curve_end)
        cform.addRow("From", crow)
        self.curve_seconds = QtWidgets.QDoubleSpinBox()
        self.curve_seconds.setRange(0.3, 20)
        self.curve_seconds.setValue(2.0)
        self.curve_seconds.setSuffix(" s")
        cform.addRow("Duration", self.curve_seconds)
        self.curve_button = QtWidgets.QPushButton("Render the curve from the selected point")
        self.curve_button.clicked.connect(self.curve_requested)
        cform.addRow(self.curve_button)
        self.curve_descriptor.currentIndexChanged.connect(self._suggest_curve)
        layout.addWidget(group_box("Descriptor curve over time", cform))
        layout.addStretch(1)
        self._silent = False

    def set_ranges(self, ranges: dict[str, tuple[float, float]]) -> None:
        self.ranges = dict(ranges)
        self._suggest_curve()

    def value_of(self, name: str, position: int) -> float:
        lo, hi = self.ranges.get(name, (0.0, 1.0))
        return lo + (hi - lo) * position / self.STEPS

    def show_values(self, values: dict[str, float]) -> None:
        """Put the sliders at the selected point's values, without asking for a move."""
        self._silent = True
        for name, v in values.items():
            if name not in self.sliders:
                continue
            lo, hi = self.ranges.get(name, (0.0, 1.0))
            self.sliders[name].setEnabled(True)
            self.sliders[name].setValue(int(round(self.STEPS * (float(v) - lo) / max(hi - lo, 1e-12))))
            self.value_labels[name].setText(format_descriptor(name, float(v)))
        self._silent = False
        self._suggest_curve()
        self._values = dict(values)

    def _moved(self, name: str, position: int) -> None:
        if not self._silent:
            value = self.value_of(name, position)
            self.value_labels[name].setText(format_descriptor(name, value))
            self.target_changed.emit(name, value)

    def _suggest_curve(self) -> None:
        name = self.curve_descriptor.currentData()
        lo, hi = self.ranges.get(name, (0.0, 1.0))
        current = getattr(self, "_values", {}).get(name, lo + 0.25 * (hi - lo))
        self.curve_start.setValue(float(current))
        self.curve_end.setValue(float(min(hi, current + 0.4 * (hi - lo))))


class SoundsPanel(QtWidgets.QWidget):
    """Sounds the user brought: where each landed and what it is near."""

    add_requested = QtCore.Signal()
    sound_activated = QtCore.Signal(int)
    clear_requested = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        info = QtWidgets.QLabel("Drop WAV, AIFF, FLAC or MP3 files (or a folder) on the map, or add them here. "
                                "Each lands as a star, its frames as a dotted trajectory.")
        info.setWordWrap(True)
        layout.addWidget(info)
        self.list = QtWidgets.QListWidget()
        self.list.itemActivated.connect(lambda item: self.sound_activated.emit(self.list.row(item)))
        self.list.itemClicked.connect(lambda item: self.sound_activated.emit(self.list.row(item)))
        layout.addWidget(self.list, 1)
        row = QtWidgets.QHBoxLayout()
        add = QtWidgets.QPushButton("Add files…")
        add.clicked.connect(self.add_requested)
        clear = QtWidgets.QPushButton("Clear")
        clear.clicked.connect(self.clear_requested)
        row.addWidget(add)
        row.addWidget(clear)
        layout.addLayout(row)
        self.progress = QtWidgets.QProgressBar()
        self.progress.hide()
        layout.addWidget(self.progress)
