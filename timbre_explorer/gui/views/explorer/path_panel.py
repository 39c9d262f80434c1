"""The Path tab: paths between instruments or points, free polylines, the note morph; play and export."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from timbre_explorer.gui.views.explorer.note_chooser import NoteChooser
from timbre_explorer.gui.views.widgets import form_layout, group_box

MODE_LABELS = {"slerp": "spherical (slerp, as the paper)", "linear": "linear"}


class PathPanel(QtWidgets.QWidget):
    """Paths between instruments or points, free polylines, the note morph; play and export."""

    set_requested = QtCore.Signal()
    draw_toggled = QtCore.Signal(bool)
    clear_requested = QtCore.Signal()
    play_requested = QtCore.Signal()
    export_requested = QtCore.Signal()
    export_cancel_requested = QtCore.Signal()
    load_requested = QtCore.Signal()
    morph_requested = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self._path_group())
        layout.addWidget(self._morph_group())
        layout.addWidget(self._spectrogram_group())
        layout.addStretch(1)

    def _path_group(self) -> QtWidgets.QGroupBox:
        ends = QtWidgets.QWidget()
        form = form_layout(ends)
        self._add_ends(form)
        self._add_playing(form)
        self._add_export_progress(form)
        self.info = QtWidgets.QLabel("No path yet.")
        self.info.setWordWrap(True)
        form.addRow(self.info)
        return group_box("Path", form)

    def _add_ends(self, form: QtWidgets.QFormLayout) -> None:
        """The path's two ends, and the buttons that set, draw or clear it."""
        self.start, self.end = QtWidgets.QComboBox(), QtWidgets.QComboBox()
        self.start.setToolTip("Where the path starts: an instrument's centre, or the point clicked last")
        self.end.setToolTip("Where the path ends: an instrument's centre, or the point clicked last")
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
        self.clear_button.setToolTip("Take the path off the map (Undo brings it back)")
        row = QtWidgets.QHBoxLayout()
        for b in (self.set_button, self.draw_button, self.clear_button):
            row.addWidget(b)
        form.addRow(row)

    def _add_playing(self, form: QtWidgets.QFormLayout) -> None:
        """How the path sounds (interpolation, duration), and the buttons that play, export or load it."""
        self.mode = QtWidgets.QComboBox()  # filled with core.synthesis.interpolation.INTERPOLATIONS when a space loads
        self.mode.setToolTip("How the path goes between its points in the latent space: along the sphere (slerp, "
                             "as the paper) or in a straight line")
        form.addRow("Interpolation", self.mode)
        self.seconds = QtWidgets.QDoubleSpinBox()
        self.seconds.setRange(0.2, 600.0)  # long paths render in pieces, and export streamed to the file
        self.seconds.setValue(3.0)
        self.seconds.setSuffix(" s")
        self.seconds.setToolTip("How long the path's sound lasts, from its start to its end")
        form.addRow("Duration", self.seconds)
        self.play_button = QtWidgets.QPushButton("Play path")
        self.play_button.setToolTip("Render the path as one morphing sound (P)")
        self.play_button.clicked.connect(self.play_requested)
        self.export_button = QtWidgets.QPushButton("Export WAV + JSON…")
        self.export_button.clicked.connect(self.export_requested)
        self.export_button.setToolTip("Write the path's sound as a WAV file and the path itself as JSON beside it "
                                      "(timbre-explorer render --path plays it again)")
        self.load_button = QtWidgets.QPushButton("Load path…")
        self.load_button.setToolTip("Read a path file (an exported sound's JSON) back onto the map")
        self.load_button.clicked.connect(self.load_requested)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.export_button)
        row.addWidget(self.load_button)
        form.addRow(row)

    def _add_export_progress(self, form: QtWidgets.QFormLayout) -> None:
        """The running export's bar and its Cancel button, hidden until an export starts."""
        self.export_progress = QtWidgets.QProgressBar()
        self.export_progress.setRange(0, 1000)
        self.export_progress.setFormat("Exporting… %p %")
        self.cancel_export_button = QtWidgets.QPushButton("Cancel")
        self.cancel_export_button.setToolTip("Stop the export; nothing is written")
        self.cancel_export_button.clicked.connect(self.export_cancel_requested)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.export_progress, 1)
        row.addWidget(self.cancel_export_button)
        form.addRow(row)
        self.show_export_progress(None)

    def _morph_group(self) -> QtWidgets.QGroupBox:
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
        return group_box("Note morph", mform)

    def _spectrogram_group(self) -> QtWidgets.QGroupBox:
        import pyqtgraph as pg

        self.spectrogram = pg.PlotWidget(background="#15171c")
        self.spectrogram.setMinimumHeight(160)
        self.spectrogram.setLabel("bottom", "time (s)")
        self.spectrogram.setLabel("left", "frequency (Hz)")
        for side in ("bottom", "left"):  # plain seconds and hertz, never pyqtgraph's "(x0.001)" scaling
            self.spectrogram.getAxis(side).enableAutoSIPrefix(False)
        self.spectrogram.setMouseEnabled(x=False, y=False)
        self.spectrogram.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.spectrogram.getAxis("left").setTicks([[]])  # no frequencies until a path gives its bands
        self.spectrogram_image = pg.ImageItem()
        self.spectrogram_image.setColorMap(pg.colormap.get("inferno"))
        self.spectrogram.addItem(self.spectrogram_image)
        self.spectrogram_hint = pg.TextItem("No path played yet", color="#aaaaaa", anchor=(0.5, 0.5))
        self.spectrogram_hint.setPos(0.5, 0.5)
        self.spectrogram.addItem(self.spectrogram_hint)
        return group_box("Path spectrogram", _single(self.spectrogram))

    def show_spectrogram(self, level_db: np.ndarray, seconds: float, frequencies: np.ndarray) -> None:
        """A path's decoded frames ``[bands, steps]`` in dB over ``seconds``, the bands at ``frequencies`` (Hz):
        time along the bottom, frequency up the side (ticks at round frequencies), the loudest 80 dB shown."""
        self.spectrogram_hint.hide()
        self.spectrogram_image.setImage(level_db, levels=(level_db.max() - 80, level_db.max()))
        self.spectrogram_image.setRect(QtCore.QRectF(0, 0, seconds, level_db.shape[0]))
        ticks = [(float(np.argmin(np.abs(frequencies - f))) + 0.5, f"{f:g}" if f < 1000 else f"{f / 1000:g}k")
                 for f in (100, 200, 500, 1000, 2000, 5000, 10000, 15000) if frequencies[0] <= f <= frequencies[-1]]
        self.spectrogram.getAxis("left").setTicks([ticks])
        self.spectrogram.setRange(xRange=(0, seconds), yRange=(0, level_db.shape[0]), padding=0)

    def ends(self) -> tuple[str, str]:
        """The path's two ends as chosen: instrument names, or the selected point."""
        return self.start.currentText(), self.end.currentText()

    def morphed_notes(self) -> tuple[str, str]:
        """The two notes to morph between, as specs the core reads (``Flute:72:mf`` or a file)."""
        return self.morph_from.spec(), self.morph_to.spec()

    def set_morph_choices(self, instruments: list[str], dynamics: list[str]) -> None:
        """The instruments and dynamics a morph's notes are chosen from; the second note another instrument."""
        for chooser in (self.morph_from, self.morph_to):
            chooser.set_choices(instruments, dynamics)
        self.morph_to.instrument.setCurrentIndex(min(1, len(instruments) - 1))

    def set_playing(self, mode: str, seconds: float) -> None:
        """The interpolation and duration a session or a path file gives."""
        self.mode.setCurrentIndex(max(0, self.mode.findData(mode)))
        self.seconds.setValue(seconds)

    def interpolation(self) -> str:
        return self.mode.currentData()

    def duration(self) -> float:
        return float(self.seconds.value())

    def show_export_progress(self, fraction: float | None) -> None:
        """The export's bar and its Cancel button at ``fraction`` done; None hides them (no export running)."""
        running = fraction is not None
        self.export_progress.setVisible(running)
        self.cancel_export_button.setVisible(running)
        self.export_button.setEnabled(not running)
        if fraction is not None:
            self.export_progress.setValue(round(1000 * min(max(fraction, 0.0), 1.0)))

    def show_path_info(self, text: str) -> None:
        self.info.setText(text)

    def finish_drawing(self) -> None:
        """The path is drawn: the Draw button goes up (its toggle tells the controller)."""
        self.draw_button.setChecked(False)

    def set_modes(self, modes: tuple[str, ...]) -> None:
        """The core's interpolations, the paper's slerp first and chosen."""
        if not self.mode.count():
            for name in sorted(modes, key=lambda m: m != "slerp"):
                self.mode.addItem(MODE_LABELS.get(name, name), name)

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
