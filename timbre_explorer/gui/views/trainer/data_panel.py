"""The Trainer's data panel: where the notes come from, which instruments train, which transform."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.core.data.instruments import DYNAMICS, INSTRUMENTS, parse_pitch, pitch_name
from timbre_explorer.core.training.config import PRESETS
from timbre_explorer.gui.views.map_view import colour
from timbre_explorer.gui.views.widgets import choice_box, form_layout, row, wrapped_label


def pitch_range(pitches) -> str:
    known = [p for p in pitches if p >= 0]
    if not known:
        return "?"
    lo, hi = min(known), max(known)
    return pitch_name(lo) if lo == hi else f"{pitch_name(lo)}–{pitch_name(hi)}"


class PitchBox(QtWidgets.QSpinBox):
    """A MIDI pitch shown and typed as a note name (C4 is 60), as musicians name them."""

    def __init__(self, value: int):
        super().__init__()
        self.setRange(0, 127)
        self.setValue(value)

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt's name)
        return pitch_name(value)

    def valueFromText(self, text: str) -> int:  # noqa: N802 (Qt's name)
        pitch = parse_pitch(text.strip())
        return pitch if pitch is not None else self.value()

    def validate(self, text: str, pos: int):
        pitch = parse_pitch(text.strip())
        ok = pitch is not None and 0 <= pitch <= 127
        return (QtGui.QValidator.State.Acceptable if ok else QtGui.QValidator.State.Intermediate), text, pos


class DataPanel(QtWidgets.QWidget):
    """Where the notes come from: the General MIDI SoundFont or a sample folder; instruments; transform."""

    source_changed = QtCore.Signal()
    preview_requested = QtCore.Signal()
    browse_folder_requested = QtCore.Signal()
    browse_soundfont_requested = QtCore.Signal()
    build_requested = QtCore.Signal()
    soundfont_choice_changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        form = form_layout(self)
        self.soundfont_radio = QtWidgets.QRadioButton("General MIDI SoundFont (built in)")
        self.folder_radio = QtWidgets.QRadioButton("My own samples (a folder)")
        self.soundfont_radio.setChecked(True)
        group = QtWidgets.QButtonGroup(self)
        group.addButton(self.soundfont_radio)
        group.addButton(self.folder_radio)
        self.folder_radio.toggled.connect(lambda _: self._source_toggled())
        form.addRow(self.soundfont_radio)
        self.soundfont_status = wrapped_label("Looking for a SoundFont…")
        self.soundfont_status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.soundfont_status)
        self.soundfont = QtWidgets.QLineEdit()
        self.soundfont.setPlaceholderText("the system's FluidR3_GM")
        self.soundfont.setToolTip("Another General MIDI .sf2 file (leave empty for the system's FluidR3_GM)")
        self.soundfont_button = QtWidgets.QPushButton("…")
        self.soundfont_button.clicked.connect(self.browse_soundfont_requested)
        form.addRow("SoundFont file", row(self.soundfont, self.soundfont_button))
        self.rendered = QtWidgets.QListWidget()
        self.rendered.setToolTip("The SoundFont instruments the dataset renders (the checklist below then says "
                                 "which of them train)")
        for instrument in INSTRUMENTS:
            item = QtWidgets.QListWidgetItem(instrument.name)
            item.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.CheckState.Checked)
            self.rendered.addItem(item)
        self.rendered.setMaximumHeight(130)
        self.rendered.itemChanged.connect(lambda _: self.soundfont_choice_changed.emit())
        self.all_button, self.none_button = QtWidgets.QPushButton("All"), QtWidgets.QPushButton("None")
        self.all_button.clicked.connect(lambda: self._render_all(True))
        self.none_button.clicked.connect(lambda: self._render_all(False))
        form.addRow("Render", self.rendered)
        form.addRow("", row(self.all_button, self.none_button, stretch=None))
        self.low_pitch, self.high_pitch = PitchBox(0), PitchBox(127)
        for box in (self.low_pitch, self.high_pitch):
            box.setToolTip("The lowest and highest notes rendered (each instrument within its own range)")
            box.valueChanged.connect(lambda _: self.soundfont_choice_changed.emit())
        form.addRow("Pitches", row(self.low_pitch, QtWidgets.QLabel("to"), self.high_pitch, stretch=None))
        form.addRow(self.folder_radio)
        self.folder = QtWidgets.QLineEdit()
        self.folder.setPlaceholderText("a folder of WAV/AIFF/FLAC notes")
        self.folder.setToolTip("Labels come from subfolders (Flute/C4_ff.wav) or from SOL/NSynth-style names "
                               "(Fl-ord-C4-mf.wav, flute_acoustic_002-060-100.wav)")
        self.folder.editingFinished.connect(self.preview_requested)
        self.folder_button = QtWidgets.QPushButton("Browse…")
        self.folder_button.clicked.connect(self.browse_folder_requested)
        self.preview_button = QtWidgets.QPushButton("Preview")
        self.preview_button.setToolTip("List every file and what it will be labelled as, before anything runs")
        self.preview_button.clicked.connect(self.preview_requested)
        form.addRow("Folder", row(self.folder, self.folder_button, self.preview_button))

        self.instruments = QtWidgets.QTableWidget(0, 4)
        self.instruments.setHorizontalHeaderLabels(["train on", "notes", "range", "dynamics"])
        self.instruments.verticalHeader().hide()
        self.instruments.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            self.instruments.horizontalHeader().setSectionResizeMode(
                c, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.instruments.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.instruments.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.instruments.setMinimumHeight(170)
        self.instruments.setToolTip("Checked instruments train the model. Unchecked ones are still analysed but "
                                    "held out: the evaluation places them as novel instruments")
        form.addRow(self.instruments)
        self.instruments_note = wrapped_label()
        self.instruments_note.setStyleSheet("color: #8a8f98")
        form.addRow(self.instruments_note)

        self.preset = choice_box(PRESETS)
        self.preset.setToolTip("The time-frequency transform the model learns (every preset is the paper's "
                               "setting; its parameters are fixed)")
        self.preset.currentIndexChanged.connect(self._show_preset)
        form.addRow("Transform", self.preset)
        self.preset_info = wrapped_label()
        self.preset_info.setStyleSheet("color: #8a8f98")
        form.addRow(self.preset_info)
        self.processes = QtWidgets.QSpinBox()
        self.processes.setRange(0, 256)
        self.processes.setSpecialValueText("all cores")
        self.processes.setSuffix(" processes")
        self.processes.setToolTip("Processes that analyse notes in parallel while the dataset is built")
        self.build_button = QtWidgets.QPushButton("Build dataset")
        self.build_button.setToolTip("Render or read every note and cache its features (a built dataset is "
                                     "reused; training builds it too when needed)")
        self.build_button.clicked.connect(self.build_requested)
        form.addRow("Build with", row(self.processes, self.build_button, stretch=None))
        self._preset_text: dict[str, str] = {}
        self._source_toggled()

    # ------------------------------------------------------------------ state
    @property
    def source(self) -> str:
        return "folder" if self.folder_radio.isChecked() else "soundfont"

    def set_source(self, source: str) -> None:
        (self.folder_radio if source == "folder" else self.soundfont_radio).setChecked(True)
        self._source_toggled()

    def _source_toggled(self) -> None:
        folder = self.folder_radio.isChecked()
        for w in (self.folder, self.folder_button, self.preview_button):
            w.setEnabled(folder)
        for w in (self.soundfont, self.soundfont_button, self.rendered, self.all_button, self.none_button,
                  self.low_pitch, self.high_pitch):
            w.setEnabled(not folder)
        self.source_changed.emit()

    def set_soundfont_status(self, available: bool, text: str) -> None:
        """Say whether the SoundFont source can run; without it the folder source is still offered."""
        self.soundfont_status.setText(text)
        self.soundfont_status.setStyleSheet("" if available else "color: #ff8a3d")
        if not available and self.source == "soundfont":
            self.set_source("folder")

    def set_preset_info(self, info: dict[str, str]) -> None:
        self._preset_text = dict(info)
        self._show_preset()

    def _show_preset(self) -> None:
        name = self.preset.currentData()
        self.preset_info.setText(self._preset_text.get(name, ""))

    def set_preset(self, name: str) -> None:
        i = self.preset.findData(name)
        self.preset.setCurrentIndex(max(i, 0))

    # ------------------------------------------------------------------ what the SoundFont renders
    def soundfont_choice(self) -> tuple[list[str] | None, list[int] | None]:
        """``TrainConfig.instruments`` and ``pitch_range`` as the widgets say (None: all of them)."""
        items = [self.rendered.item(r) for r in range(self.rendered.count())]
        names = [i.text() for i in items if i.checkState() == QtCore.Qt.CheckState.Checked]
        pitches = [self.low_pitch.value(), self.high_pitch.value()]
        return (None if len(names) == len(items) else names), (None if pitches == [0, 127] else pitches)

    def set_soundfont_choice(self, instruments, pitch_range) -> None:
        """Show a config's ``instruments`` and ``pitch_range`` (None: all); one change signal at the end."""
        with QtCore.QSignalBlocker(self.rendered), QtCore.QSignalBlocker(self.low_pitch), \
                QtCore.QSignalBlocker(self.high_pitch):
            for r in range(self.rendered.count()):
                item = self.rendered.item(r)
                chosen = instruments is None or item.text() in instruments
                item.setCheckState(QtCore.Qt.CheckState.Checked if chosen else QtCore.Qt.CheckState.Unchecked)
            low, high = pitch_range or (0, 127)
            self.low_pitch.setValue(low)
            self.high_pitch.setValue(high)
        self.soundfont_choice_changed.emit()

    def _render_all(self, on: bool) -> None:
        self.set_soundfont_choice(None if on else [], [self.low_pitch.value(), self.high_pitch.value()])

    # ------------------------------------------------------------------ the instrument checklist
    def set_instruments(self, rows: list[tuple[str, int, str, str]], held_out: set[str], note: str = "") -> None:
        """``rows``: (name, notes, range, dynamics). Held-out instruments are unchecked."""
        t = self.instruments
        t.setRowCount(len(rows))
        for r, (name, notes, rng, dyn) in enumerate(rows):
            item = QtWidgets.QTableWidgetItem(name)
            item.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.CheckState.Unchecked if name in held_out else QtCore.Qt.CheckState.Checked)
            item.setForeground(QtGui.QBrush(colour(r)))
            t.setItem(r, 0, item)
            for c, text in enumerate((str(notes), rng, dyn), start=1):
                t.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.instruments_note.setText(note)

    def instrument_names(self) -> list[str]:
        return [self.instruments.item(r, 0).text() for r in range(self.instruments.rowCount())]

    def held_out(self) -> list[str]:
        return [self.instruments.item(r, 0).text() for r in range(self.instruments.rowCount())
                if self.instruments.item(r, 0).checkState() != QtCore.Qt.CheckState.Checked]

    def check_item(self, name: str) -> QtWidgets.QTableWidgetItem | None:
        for r in range(self.instruments.rowCount()):
            if self.instruments.item(r, 0).text() == name:
                return self.instruments.item(r, 0)
        return None


def soundfont_rows(instruments=INSTRUMENTS) -> list[tuple[str, int, str, str]]:
    """SoundFont instruments as the checklist shows them: the ranges and dynamics the builder renders."""
    dyn = " ".join(DYNAMICS)
    return [(i.name, len(i.pitches) * len(DYNAMICS), pitch_range([i.low, i.high]), dyn) for i in instruments]


def folder_rows(notes) -> list[tuple[str, int, str, str]]:
    """A scanned folder's instruments (NoteSpecs), in order of first appearance."""
    by: dict[str, list] = {}
    for n in notes:
        by.setdefault(n.instrument, []).append(n)
    order = list(DYNAMICS)
    rows = []
    for name, ns in by.items():
        dyns = sorted({n.dynamic for n in ns if n.dynamic}, key=lambda d: order.index(d) if d in order else 99)
        rows.append((name, len(ns), pitch_range([n.pitch for n in ns]), " ".join(dyns) or "?"))
    return rows
