"""The Sliders tab: descriptor sliders for the selected point, and descriptor curves over time."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.signal.units import DESCRIPTORS
from timbre_explorer.gui.views.spectrum_view import format_descriptor
from timbre_explorer.gui.views.widgets import form_layout, group_box, row

METHOD_LABELS = {"gradient": "gradient through the decoder", "greedy": "greedy neighbourhood search (paper)"}


WARNING_COLOUR = "#d98c1f"


@dataclass(frozen=True)
class CurveRequest:
    """The descriptor curve the user asked for: ``descriptor`` following ``shape`` from ``start`` to ``end``."""

    descriptor: str
    shape: str
    start: float
    end: float
    seconds: float
    method: str


class MovePanel(QtWidgets.QWidget):
    """Descriptor sliders for the selected point, and descriptor curves over time."""

    target_changed = QtCore.Signal(str, float)  # descriptor, target value
    curve_requested = QtCore.Signal()

    STEPS = 1000
    ROOM = 0.1  # share of a slider's span kept on either side of a point beyond it

    def __init__(self, parent=None):
        super().__init__(parent)
        self._silent = False
        self._values: dict[str, float] = {}  # the selected point's
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self._sliders_group())
        layout.addWidget(self._curve_group())
        layout.addStretch(1)

    def _sliders_group(self) -> QtWidgets.QGroupBox:
        """The search method and a slider per descriptor, its value beside it; the status line under them."""
        w = QtWidgets.QWidget()
        form = form_layout(w)
        self.method = QtWidgets.QComboBox()  # filled with core.synthesis.reach.METHODS when a space loads
        self.method.setToolTip("How a slider finds the nearby point that reaches its value: the paper's search "
                               "among neighbours, or gradient descent through the decoder")
        form.addRow("Method", self.method)
        self.sliders: dict[str, QtWidgets.QSlider] = {}
        self.value_labels: dict[str, QtWidgets.QLabel] = {}
        self.ranges: dict[str, tuple[float, float]] = {}  # the sliders' spans now
        self.base_ranges: dict[str, tuple[float, float]] = {}
        for name in DESCRIPTORS:
            slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            slider.setRange(0, self.STEPS)
            slider.setEnabled(False)
            slider.setTracking(False)  # act on release (and on keyboard steps), not on every pixel
            slider.setToolTip(f"Let go to move the selected point to a nearby one with this {name}, the others held")
            slider.valueChanged.connect(lambda v, n=name: self._moved(n, v))
            slider.sliderMoved.connect(lambda v, n=name: self.value_labels[n].setText(
                format_descriptor(n, self.value_of(n, v))))
            label = QtWidgets.QLabel("–")
            label.setMinimumWidth(80)
            form.addRow(name, row(slider, label))
            self.sliders[name], self.value_labels[name] = slider, label
        self.status = QtWidgets.QLabel("Click the map to select a point.")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        return group_box("Descriptor sliders", form)

    def _curve_group(self) -> QtWidgets.QGroupBox:
        """The descriptor curve's settings (descriptor, shape, values, duration) and its Render button."""
        c = QtWidgets.QWidget()
        cform = form_layout(c)
        self.curve_descriptor = QtWidgets.QComboBox()
        for name in DESCRIPTORS:
            self.curve_descriptor.addItem(name, name)
        self.curve_descriptor.setToolTip("The descriptor the curve's sound follows over time")
        cform.addRow("Descriptor", self.curve_descriptor)
        self.curve_shape = QtWidgets.QComboBox()  # filled with core.synthesis.reach.CURVES when a space loads
        self.curve_shape.setToolTip("How the descriptor goes from its start value to its end value")
        cform.addRow("Shape", self.curve_shape)
        self.curve_start, self.curve_end = QtWidgets.QDoubleSpinBox(), QtWidgets.QDoubleSpinBox()
        for spin in (self.curve_start, self.curve_end):
            spin.setRange(-1e6, 1e6)
            spin.setDecimals(3)
            spin.setToolTip("The descriptor's value at the start and at the end of the curve")
        cform.addRow("From", row(self.curve_start, QtWidgets.QLabel("to"), self.curve_end, stretch=None))
        self.curve_seconds = QtWidgets.QDoubleSpinBox()
        self.curve_seconds.setRange(0.3, 20)
        self.curve_seconds.setValue(2.0)
        self.curve_seconds.setSuffix(" s")
        self.curve_seconds.setToolTip("How long the curve's sound lasts")
        cform.addRow("Duration", self.curve_seconds)
        self.curve_button = QtWidgets.QPushButton("Render the curve from the selected point")
        self.curve_button.clicked.connect(self.curve_requested)
        self.curve_button.setToolTip("Render and play a sound that starts at the selected point and whose descriptor "
                                     "follows the curve; it is drawn on the map as a path")
        cform.addRow(self.curve_button)
        self.curve_descriptor.currentIndexChanged.connect(self._suggest_curve)
        return group_box("Descriptor curve over time", cform)

    def set_choices(self, methods: tuple[str, ...], curves: tuple[str, ...]) -> None:
        """The core's search methods and curve shapes (the core is imported only once a space loads)."""
        if not self.method.count():
            for name in methods:
                self.method.addItem(METHOD_LABELS.get(name, name), name)
        if not self.curve_shape.count():
            self.curve_shape.addItems(curves)

    def set_ranges(self, ranges: dict[str, tuple[float, float]]) -> None:
        """Each slider's span: the map's decoded notes' (1st to 99th percentile); widened for a point beyond it.
        None yet (a new space): the sliders wait, off; the point shown before they came gets its sliders."""
        self.base_ranges = dict(ranges)
        self.ranges = dict(ranges)
        self.curve_button.setEnabled(bool(ranges))  # its From and To are suggested within them
        if not ranges:
            self._values = {}
            for name, slider in self.sliders.items():
                slider.setEnabled(False)
                self.value_labels[name].setText("–")
        elif self._values:
            self.show_values(self._values)
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
            self.value_labels[name].setText(format_descriptor(name, float(v)))
            self.sliders[name].setEnabled(name in self.base_ranges)
            if name not in self.base_ranges:  # no span yet: the value, and the slider at rest in the middle
                self.sliders[name].setValue(self.STEPS // 2)
                continue
            lo, hi = self.base_ranges[name]
            room = self.ROOM * (hi - lo)  # a point beyond the span sits inside it, free to move either way
            lo, hi = min(lo, float(v) - room), max(hi, float(v) + room)
            self.ranges[name] = lo, hi
            self.sliders[name].setValue(int(round(self.STEPS * (float(v) - lo) / max(hi - lo, 1e-12))))
        self._silent = False
        self._values = dict(values)
        self._suggest_curve()  # from this point's values

    def method_chosen(self) -> str:
        """The search method (one of the core's ``reach.METHODS``)."""
        return self.method.currentData()

    def set_curve(self, method: str, curve: CurveRequest) -> None:
        """The method and the curve's settings a session had (a name this version lacks keeps the current)."""
        if self.method.findData(method) >= 0:
            self.method.setCurrentIndex(self.method.findData(method))
        if self.curve_descriptor.findData(curve.descriptor) >= 0:
            self.curve_descriptor.setCurrentIndex(self.curve_descriptor.findData(curve.descriptor))
        if self.curve_shape.findText(curve.shape) >= 0:
            self.curve_shape.setCurrentText(curve.shape)
        self.curve_start.setValue(curve.start)  # after the descriptor, which suggests its own
        self.curve_end.setValue(curve.end)
        self.curve_seconds.setValue(curve.seconds)

    def curve_request(self) -> CurveRequest:
        return CurveRequest(self.curve_descriptor.currentData(), self.curve_shape.currentText(),
                            self.curve_start.value(), self.curve_end.value(), self.curve_seconds.value(),
                            self.method_chosen())

    def show_status(self, text: str, *, warning: bool = False) -> None:
        """One line under the sliders; ``warning`` (orange): what a move could not keep."""
        self.status.setStyleSheet(f"color: {WARNING_COLOUR}" if warning else "")
        self.status.setText(text)

    def show_reach_result(self, error: float, moved: float, held: str | None) -> None:
        """What a move reached: within ``error`` (a share) of its target, ``moved`` this far in the latent space;
        ``held``: what it could not keep (None: the other descriptors held)."""
        self.show_status(f"Reached within {100 * error:.1f}%, moving {moved:.2f} in the latent space. "
                         + (held or "The other descriptors held."), warning=bool(held))

    def _moved(self, name: str, position: int) -> None:
        if not self._silent:
            value = self.value_of(name, position)
            self.value_labels[name].setText(format_descriptor(name, value))
            self.target_changed.emit(name, value)

    def _suggest_curve(self) -> None:
        name = self.curve_descriptor.currentData()
        lo, hi = self.ranges.get(name, (0.0, 1.0))
        current = self._values.get(name, lo + 0.25 * (hi - lo))
        self.curve_start.setValue(float(current))
        self.curve_end.setValue(float(min(hi, current + 0.4 * (hi - lo))))
