"""The Trainer's data panel: where the notes come from (which sample sets train, which are kept out for the
evaluation across sources), which instruments train, which transform."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.core.data.instruments import DYNAMICS, INSTRUMENTS, parse_pitch, pitch_name
from timbre_explorer.core.data.sources import (KNOWN_SOUNDFONTS, PHILHARMONIA, PHILHARMONIA_ENTRY, named_soundfont,
                                               philharmonia_folder)
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.training.config import PRESETS, PROGRAMS, WIDE_DYNAMICS, WIDE_STEP, program_table
from timbre_explorer.gui.views.map_view import colour
from timbre_explorer.gui.views.widgets import choice_box, form_layout, row, wrapped_label

KNOWN_SETS = tuple(KNOWN_SOUNDFONTS)  # the General MIDI sample sets the table offers
#: What a sample set does in a run: trains, is the cross-source test or validation (kept out), or is not rendered.
ROLES = {"train": "train", "test": "cross-source test", "valid": "cross-source validation", "off": "not used"}


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
        self.soundfont.setToolTip("Another General MIDI .sf2/.sf3 file or TiMidity++ patch set .cfg "
                                  "(leave empty for the system's FluidR3_GM)")
        self.soundfont_button = QtWidgets.QPushButton("…")
        self.soundfont_button.clicked.connect(self.browse_soundfont_requested)
        form.addRow("SoundFont file", row(self.soundfont, self.soundfont_button))
        self.sets = QtWidgets.QTableWidget(0, 2)
        self.sets.setHorizontalHeaderLabels(["sample set", "role"])
        self.sets.verticalHeader().hide()
        self.sets.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.sets.horizontalHeader().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.sets.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sets.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.sets.setToolTip("Sample sets that train the model, and the ones kept out of training: the evaluation "
                             "asks whether the space holds on their notes (at most one test and one validation set)")
        self.sets_note = wrapped_label()
        self.sets_note.setStyleSheet("color: #ff8a3d")
        self.sets_note.hide()
        self._missing: dict[str, str] = {}  # a sample set's name: why it cannot be rendered
        self._set_order: list[str] = []
        self.set_sets(KNOWN_SETS, None, None)
        self.soundfont.textChanged.connect(lambda _: self._name_sets())
        form.addRow("Sample sets", self.sets)
        form.addRow(self.sets_note)
        self.philharmonia = QtWidgets.QLineEdit()
        self.philharmonia.setPlaceholderText("not used")
        self.philharmonia.setToolTip("The folder of the Philharmonia Orchestra's samples as downloaded (CC BY-SA "
                                     "3.0, not shipped; see the README): a row of its own above, with a role like "
                                     "the other sets")
        self.philharmonia.editingFinished.connect(self._philharmonia_changed)
        self.philharmonia_button = QtWidgets.QPushButton("…")
        self.philharmonia_button.clicked.connect(self._browse_philharmonia)
        form.addRow("Philharmonia folder", row(self.philharmonia, self.philharmonia_button))
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
        for w in (self.soundfont, self.soundfont_button, self.sets, self.programs, self.rendered, self.all_button,
                  self.none_button, self.low_pitch, self.high_pitch, self.philharmonia, self.philharmonia_button):
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

    # ------------------------------------------------------------------ the sample sets and their roles
    def set_sets(self, sources, cross_test: str | None, cross_valid: str | None) -> None:
        """Show a config's ``sources``, ``cross_test`` and ``cross_valid``: a row per known set (and per other
        SoundFont file the config names, and the Philharmonia folder); a set that cannot be rendered is not used."""
        sources = list(sources)
        field = getattr(self, "philharmonia", None)  # made after the table
        entry = next((n for n in sources if philharmonia_folder(n) is not None), None)
        if field is not None and entry is not None:
            field.setText(philharmonia_folder(entry))
        elif field is not None and field.text().strip():  # chosen but not used: its row all the same
            entry = f"{PHILHARMONIA_ENTRY}{field.text().strip()}"
        self._set_order = sources + [n for n in KNOWN_SETS if n not in sources]
        names = list(KNOWN_SETS) + [n for n in sources if n not in KNOWN_SETS]
        if entry is not None and entry not in names:
            names.append(entry)
        t = self.sets
        t.setRowCount(len(names))
        for r, name in enumerate(names):
            item = QtWidgets.QTableWidgetItem(name)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, name)
            t.setItem(r, 0, item)
            box = t.cellWidget(r, 1)
            if box is None:
                box = choice_box(ROLES)
                box.currentIndexChanged.connect(lambda _, b=box: self._role_changed(b))
                t.setCellWidget(r, 1, box)
            held = PHILHARMONIA if philharmonia_folder(name) is not None else name  # cross_test names it so
            role = "test" if cross_test in (name, held) else "valid" if cross_valid in (name, held) else \
                "train" if name in sources else "off"
            with QtCore.QSignalBlocker(box):
                box.setCurrentIndex(box.findData("off" if name in self._missing else role))
        self._name_sets()

    def sets_choice(self) -> tuple[tuple[str, ...], str | None, str | None]:
        """``TrainConfig.sources``, ``cross_test`` and ``cross_valid`` as the table says."""
        roles = {self.sets.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole): self.sets.cellWidget(r, 1).currentData()
                 for r in range(self.sets.rowCount())}
        order = self._set_order + [n for n in roles if n not in self._set_order]
        sources = tuple(n for n in order if roles.get(n, "off") != "off")
        test = next((n for n in sources if roles[n] == "test"), None)
        valid = next((n for n in sources if roles[n] == "valid"), None)
        return sources, test, valid

    def set_missing(self, missing: dict[str, str]) -> None:
        """The sample sets that cannot be rendered here, each with why (the package that installs it): greyed out,
        not used."""
        self._missing = dict(missing)
        self.set_sets(*self.sets_choice())

    def _browse_philharmonia(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "The Philharmonia samples' folder",
                                                            self.philharmonia.text().strip())
        if folder:
            self.philharmonia.setText(folder)
            self._philharmonia_changed()

    def _philharmonia_changed(self) -> None:
        """The Philharmonia row follows the folder field: a new folder keeps the row's role (a first one is not
        used until given a role), an empty field removes the row."""
        sources, test, valid = self.sets_choice()
        rows = [self.sets.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole) for r in range(self.sets.rowCount())]
        old = next((n for n in rows if philharmonia_folder(n) is not None), None)
        folder = self.philharmonia.text().strip()
        new = f"{PHILHARMONIA_ENTRY}{folder}" if folder else None
        if old == new:
            return
        sources = tuple(new if n == old else n for n in sources if new is not None or n != old)
        moved = {old: new} if old is not None else {}  # the row's role goes with it
        self.set_sets(sources, moved.get(test, test), moved.get(valid, valid))

    def _role_changed(self, box: QtWidgets.QComboBox) -> None:
        """At most one test and one validation set: choosing one takes the role from the set that had it."""
        role = box.currentData()
        for r in range(self.sets.rowCount()):
            other = self.sets.cellWidget(r, 1)
            if other is not box and role in ("test", "valid") and other.currentData() == role:
                with QtCore.QSignalBlocker(other):
                    other.setCurrentIndex(other.findData("off"))

    def _name_sets(self) -> None:
        """Each row's name (FluidR3_GM's is the chosen SoundFont file when there is one), greyed out with its
        reason when the set cannot be rendered."""
        chosen = self.soundfont.text().strip()
        for r in range(self.sets.rowCount()):
            item, box = self.sets.item(r, 0), self.sets.cellWidget(r, 1)
            name = item.data(QtCore.Qt.ItemDataRole.UserRole)
            folder = philharmonia_folder(name)
            shown = f"{Path(chosen).name} (in place of FluidR3_GM)" if name == "FluidR3_GM" and chosen else \
                f"{PHILHARMONIA} ({folder})" if folder is not None else Path(name).name
            missing = self._missing.get(name)
            item.setText(shown + (" · not installed" if missing else ""))
            item.setToolTip(missing or "")
            flags = QtCore.Qt.ItemFlag.ItemIsEnabled if not missing else QtCore.Qt.ItemFlag.NoItemFlags
            item.setFlags(flags)
            box.setEnabled(not missing)
            box.setToolTip(missing or "")
        self.sets_note.setText(" ".join(f"{m.rstrip('.')}." for m in self._missing.values()))
        self.sets_note.setVisible(bool(self._missing))
        rows = self.sets.rowCount()
        self.sets.setFixedHeight(self.sets.horizontalHeader().height() + sum(self.sets.rowHeight(r)
                                                                               for r in range(rows)) + 4)

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


def missing_sets(soundfont: str = "") -> dict[str, str]:
    """The known sample sets that cannot be rendered here, each with one sentence saying why (what installs it);
    ``soundfont``, the file chosen in place of FluidR3_GM."""
    out = {}
    for name in KNOWN_SETS:
        if name == "FluidR3_GM" and soundfont:
            if not Path(soundfont).expanduser().is_file():
                out[name] = f"{soundfont}: no such SoundFont file"
            continue
        try:
            named_soundfont(name)
        except ParameterError as exc:
            out[name] = str(exc) if name != "FluidR3_GM" else (
                "FluidR3_GM: not installed; on Debian/Ubuntu: sudo apt-get install fluid-soundfont-gm, or choose a "
                "SoundFont file above")
    return out


def soundfont_rows(instruments=INSTRUMENTS) -> list[tuple[str, int, str, str]]:
    """SoundFont instruments as the checklist shows them: the notes, range and dynamics the builder renders (a
    program on the wide grid: every few semitones, fewer dynamics)."""
    rows = []
    for i in instruments:
        dynamics = i.dynamics or tuple(DYNAMICS)
        grid = f", every {i.step}" if i.step > 1 else ""
        rows.append((i.name, len(i.pitches) * len(dynamics), pitch_range([i.low, i.high]) + grid, " ".join(dynamics)))
    return rows


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
