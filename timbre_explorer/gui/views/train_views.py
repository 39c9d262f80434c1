"""The Trainer tab's views: the data, settings and run panels, the file table, curves, live map and report.

Controls only emit what the user asked for and show what they are given; the
Trainer tab (``gui/trainer_view.py``) does the work in its workers. Nothing
here imports torch: the tab is built before the first model has loaded.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.core.data.instruments import DYNAMICS, INSTRUMENTS, pitch_name
from timbre_explorer.core.training.tasks import PHASE_NAMES
from timbre_explorer.gui.views.map_view import colour
from timbre_explorer.gui.views.widgets import form_layout, group_box

BACKGROUND = "#15171c"
#: The transform presets of ``core.signal.nsgt.PRESETS`` (a test keeps the two equal; nsgt itself imports torch).
PRESET_NAMES = ("nsgt-erb", "nsgt-cqt", "nsgt-mel")
PRESET_LABELS = {"nsgt-erb": "NSGT-ERB (the paper's best)", "nsgt-cqt": "NSGT-CQT (constant-Q)",
                 "nsgt-mel": "NSGT-Mel"}
REGULARIZER_LABELS = {"kl": "KL to the timbre space (the paper's)", "l2": "L2 to the dissimilarities",
                      "none": "none (a plain VAE)"}
DEVICE_LABELS = {"auto": "auto (a CUDA GPU when there is one)", "cpu": "CPU", "cuda": "CUDA GPU"}
PHASE_COLOURS = {"stage1": "#4e9bff", "regularized": "#ff8a3d", "baseline": "#a0a0a0"}
#: The evaluation's Table-1 rows: label, report key, format (as ``core.training.evaluate.markdown`` writes them).
REPORT_ROWS = (("Spearman ρ, latent vs perceptual distances", "spearman_rho", ".3f"),
               ("Pearson r", "pearson_r", ".3f"),
               ("KL to the timbre space (R, lower is closer)", "kl_timbre", ".3f"),
               ("test NLL per bin", "test_nll", ".4f"), ("test ‖x − x̃‖² per bin", "test_mse", ".4f"))


def _row(*widgets, stretch: int | None = 0) -> QtWidgets.QHBoxLayout:
    row = QtWidgets.QHBoxLayout()
    for w in widgets:
        row.addWidget(w)
    if stretch is not None and len(widgets) > 1:
        row.setStretch(stretch, 1)
    return row


def _wrapped(text: str = "") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setWordWrap(True)
    return label


def pitch_range(pitches) -> str:
    known = [p for p in pitches if p >= 0]
    if not known:
        return "?"
    lo, hi = min(known), max(known)
    return pitch_name(lo) if lo == hi else f"{pitch_name(lo)}–{pitch_name(hi)}"


# ================================================================================ data
class DataPanel(QtWidgets.QWidget):
    """Where the notes come from: the General MIDI SoundFont or a sample folder; instruments; transform."""

    source_changed = QtCore.Signal()
    preview_requested = QtCore.Signal()
    browse_folder_requested = QtCore.Signal()
    browse_soundfont_requested = QtCore.Signal()
    build_requested = QtCore.Signal()

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
        self.soundfont_status = _wrapped("Looking for a SoundFont…")
        self.soundfont_status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.soundfont_status)
        self.soundfont = QtWidgets.QLineEdit()
        self.soundfont.setPlaceholderText("the system's FluidR3_GM")
        self.soundfont.setToolTip("Another General MIDI .sf2 file (leave empty for the system's FluidR3_GM)")
        self.soundfont_button = QtWidgets.QPushButton("…")
        self.soundfont_button.clicked.connect(self.browse_soundfont_requested)
        form.addRow("SoundFont file", _row(self.soundfont, self.soundfont_button))
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
        form.addRow("Folder", _row(self.folder, self.folder_button, self.preview_button))

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
        self.instruments_note = _wrapped()
        self.instruments_note.setStyleSheet("color: #8a8f98")
        form.addRow(self.instruments_note)

        self.preset = QtWidgets.QComboBox()
        for name in PRESET_NAMES:
            self.preset.addItem(PRESET_LABELS[name], name)
        self.preset.setToolTip("The time-frequency transform the model learns (every preset is the paper's "
                               "setting; its parameters are fixed)")
        self.preset.currentIndexChanged.connect(self._show_preset)
        form.addRow("Transform", self.preset)
        self.preset_info = _wrapped()
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
        form.addRow("Build with", _row(self.processes, self.build_button, stretch=None))
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
        for w in (self.soundfont, self.soundfont_button):
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


def soundfont_rows() -> list[tuple[str, int, str, str]]:
    """The SoundFont's instruments as the checklist shows them: the ranges and dynamics the builder renders."""
    dyn = " ".join(DYNAMICS)
    return [(i.name, len(i.pitches) * len(DYNAMICS), pitch_range([i.low, i.high]), dyn) for i in INSTRUMENTS]


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


# ================================================================================ settings
#: (key, label, kind, low, high, decimals or None, tooltip) in the groups the panel shows.
SETTINGS = {
    "Model": (
        ("latent", "Latent size", int, 1, 512, None, "Dimensions of the timbre space (the paper: 64)"),
        ("hidden", "Width", int, 1, 8192, None, "Units per hidden layer of encoder and decoder (the paper: 2000)"),
        ("layers", "Depth", int, 1, 8, None, "Hidden layers of encoder and decoder (the paper: 3)"),
    ),
    "Objective": (
        ("regularizer", "Perceptual regularizer", "choice", REGULARIZER_LABELS, None, None,
         "What pulls the latent space towards the perceptual timbre space"),
        ("alpha", "α (perceptual weight)", float, 0.0, 100000.0, 2,
         "Weight of the perceptual term in stage 2. 200 suits the default model and schedule; a smaller model or "
         "fewer stage-2 epochs may need less (100 for width 256 and 40 epochs): if the validation loss stays far "
         "above stage 1's, lower α"),
        ("beta", "β (KL weight)", float, 0.0, 1000.0, 3, "Weight of the KL divergence to the prior"),
        ("warmup_epochs", "β warm-up", int, 0, 1000000, None, "Epochs over which β rises linearly from 0"),
    ),
    "Schedule": (
        ("epochs_stage1", "Stage 1 epochs (α = 0)", int, 0, 1000000, None,
         "A plain VAE first: the regularizer is off"),
        ("epochs_stage2", "Stage 2 epochs (α on)", int, 0, 1000000, None,
         "From the end of stage 1, with the perceptual term"),
        ("baseline", "Also train the unregularized baseline", bool, None, None, None,
         "Stage 2 again with α = 0, from the same stage 1: the evaluation compares against it"),
    ),
    "Optimisation": (
        ("batch_size", "Batch size", int, 1, 1000000, None, "Frames per gradient step"),
        ("frames_per_note", "Frames per note", int, 1, 100000, None,
         "Frames drawn from each note's sustain per epoch"),
        ("lr", "Learning rate", float, 0.000001, 1.0, 6, "Adam's learning rate"),
        ("seed", "Seed", int, 0, 2**31 - 1, None, "Every random draw of the run follows from it"),
        ("device", "Device", "choice", DEVICE_LABELS, None, None, "Where the model trains"),
    ),
}


class SettingsPanel(QtWidgets.QWidget):
    """Model size, objective, schedule, optimisation; configs load and save as the CLI's JSON files."""

    load_requested = QtCore.Signal()
    save_requested = QtCore.Signal()
    defaults_requested = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.fields: dict[str, QtWidgets.QWidget] = {}
        for title, specs in SETTINGS.items():
            form = form_layout()
            for key, label, kind, low, high, decimals, tip in specs:
                if kind == "choice":
                    w = QtWidgets.QComboBox()
                    for value, text in low.items():
                        w.addItem(text, value)
                elif kind is bool:
                    w = QtWidgets.QCheckBox(label)
                elif kind is int:
                    w = QtWidgets.QSpinBox()
                    w.setRange(low, high)
                    w.setGroupSeparatorShown(True)
                else:
                    w = QtWidgets.QDoubleSpinBox()
                    w.setDecimals(decimals)
                    w.setRange(low, high)
                    w.setSingleStep(10 ** -decimals * 10 if key == "lr" else 0.1)
                w.setToolTip(tip)
                w.setObjectName(key)
                self.fields[key] = w
                if kind is bool:
                    form.addRow(w)
                else:
                    form.addRow(label, w)
            layout.addWidget(group_box(title, form))
        self.fields["regularizer"].currentIndexChanged.connect(self._regularizer_changed)
        self.load_button = QtWidgets.QPushButton("Load config…")
        self.load_button.setToolTip("A JSON training config, as `timbre-explorer train --config` takes")
        self.load_button.clicked.connect(self.load_requested)
        self.save_button = QtWidgets.QPushButton("Save config…")
        self.save_button.setToolTip("Write these settings as a JSON file the command line takes (train --config)")
        self.save_button.clicked.connect(self.save_requested)
        self.defaults_button = QtWidgets.QPushButton("Defaults")
        self.defaults_button.clicked.connect(self.defaults_requested)
        layout.addLayout(_row(self.load_button, self.save_button, self.defaults_button, stretch=None))

    def _regularizer_changed(self) -> None:
        on = self.fields["regularizer"].currentData() != "none"
        self.fields["alpha"].setEnabled(on)
        self.fields["baseline"].setEnabled(on)

    def values(self) -> dict:
        out = {}
        for key, w in self.fields.items():
            if isinstance(w, QtWidgets.QComboBox):
                out[key] = w.currentData()
            elif isinstance(w, QtWidgets.QCheckBox):
                out[key] = w.isChecked()
            else:
                out[key] = w.value()
        return out

    def set_values(self, d: dict) -> None:
        for key, w in self.fields.items():
            if key not in d:
                continue
            v = d[key]
            if isinstance(w, QtWidgets.QComboBox):
                i = w.findData(v)
                if i < 0:
                    w.addItem(str(v), v)
                    i = w.count() - 1
                w.setCurrentIndex(i)
            elif isinstance(w, QtWidgets.QCheckBox):
                w.setChecked(bool(v))
            else:
                w.setValue(v)
        self._regularizer_changed()

    def set_cuda(self, available: bool) -> None:
        """Grey out the CUDA choice where torch sees no GPU (a loaded config may still name it: it is refused)."""
        combo = self.fields["device"]
        item = combo.model().item(combo.findData("cuda"))
        item.setEnabled(available)
        item.setToolTip("" if available else "torch sees no CUDA GPU on this machine")


# ================================================================================ run
class RunPanel(QtWidgets.QWidget):
    """Output folder, the run's buttons, its progress and messages, and what to do with the result."""

    choose_out_requested = QtCore.Signal()
    new_out_requested = QtCore.Signal()
    out_changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = form_layout()
        self.out = QtWidgets.QLineEdit()
        self.out.setToolTip("Checkpoints, the models, config.json and the evaluation report go here")
        self.out.editingFinished.connect(self.out_changed)
        self.out_button = QtWidgets.QPushButton("…")
        self.out_button.clicked.connect(self.choose_out_requested)
        self.new_button = QtWidgets.QPushButton("New")
        self.new_button.setToolTip("A fresh, dated folder for a new run")
        self.new_button.clicked.connect(self.new_out_requested)
        form.addRow("Run folder", _row(self.out, self.out_button, self.new_button))
        layout.addLayout(form)
        self.train_button = QtWidgets.QPushButton("Train")
        self.train_button.setToolTip("Build the dataset if needed, train, then evaluate")
        self.pause_button = QtWidgets.QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Pause after the current epoch (its checkpoint is written)")
        self.resume_button = QtWidgets.QPushButton("Resume")
        self.resume_button.setToolTip("Carry on from the last checkpoint in the run folder")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop; the last finished epoch's checkpoint stays, and Resume carries on from it")
        self.train_button.setStyleSheet("font-weight: bold")
        layout.addLayout(_row(self.train_button, self.pause_button, self.resume_button, self.cancel_button,
                              stretch=None))
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        layout.addWidget(self.progress)
        self.status = _wrapped("")
        layout.addWidget(self.status)
        self.message = _wrapped("")
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setOpenExternalLinks(True)
        layout.addWidget(self.message)
        self.evaluate_button = QtWidgets.QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Evaluate the run's models on their test notes (again) and show the report")
        self.open_button = QtWidgets.QPushButton("Open in Explorer")
        self.open_button.setToolTip("Explore the newly trained timbre space")
        self.save_button = QtWidgets.QPushButton("Save model as…")
        self.save_button.setToolTip("Copy the model file (its card inside: settings, data, history, evaluation)")
        layout.addLayout(_row(self.evaluate_button, self.open_button, self.save_button, stretch=None))

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #ff5a5f" if error else "")
        self.message.setText(text)


# ================================================================================ files
class RowsModel(QtCore.QAbstractTableModel):
    """A read-only table of rows of text (thousands of files fill it at once)."""

    def __init__(self, headers: list[str], parent=None):
        super().__init__(parent)
        self.headers = headers
        self.rows: list[tuple] = []
        self.problems: set[int] = set()

    def set_rows(self, rows: list[tuple], problems: set[int] = frozenset()) -> None:
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
        self.summary = _wrapped("Choose your samples folder and press Preview: every file and its label "
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

    def show_scan(self, notes, problems, held_out=()) -> None:
        held = set(held_out)
        rows = [(n.source, n.instrument, pitch_name(n.pitch) if n.pitch >= 0 else "?", n.dynamic or "?",
                 "held out (novel)" if n.instrument in held else "") for n in notes]
        rows += [(path, "", "", "", f"skipped: {reason}") for path, reason in problems]
        self.model.set_rows(rows, set(range(len(notes), len(rows))))
        instruments = len({n.instrument for n in notes})
        cannot = f"; {len(problems)} file{'s' if len(problems) > 1 else ''} cannot be used (listed last, in orange)"
        self.summary.setText(f"{len(notes)} notes of {instruments} instruments" + (cannot if problems else "") + ".")

    def add_skipped(self, skipped: list[dict]) -> None:
        """Files the build could not use (unreadable, silent, clipped): marked in the table."""
        if not skipped:
            return
        reasons = {s["source"]: s["reason"] for s in skipped}
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


# ================================================================================ curves and live map
CURVES = (("nll", "Reconstruction (NLL per frame)"), ("kl", "KL to the prior"),
          ("reg", "Perceptual term"), ("valid_nll", "Validation loss (NLL per bin)"))


class CurvesView(pg.GraphicsLayoutWidget):
    """The training curves, one line per phase, over the run's epochs (stage 2 and baseline share an axis)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.data: dict[str, tuple[list, dict]] = {}
        for i, (key, title) in enumerate(CURVES):
            p = self.addPlot(row=i // 2, col=i % 2, title=title)  # no grid: it triples the cost of a frame
            p.setLabel("bottom", "epoch")
            p.setMenuEnabled(False)
            if i == 0:
                p.addLegend(offset=(-10, 10))
            self.plots[key] = p
            for phase, c in PHASE_COLOURS.items():
                style = QtCore.Qt.PenStyle.DashLine if phase == "baseline" else QtCore.Qt.PenStyle.SolidLine
                self.curves[(key, phase)] = p.plot(pen=pg.mkPen(c, width=2, style=style),
                                                   name=PHASE_NAMES[phase] if i == 0 else None)
        self.stage1_epochs = 0

    def clear_curves(self, stage1_epochs: int) -> None:
        self.stage1_epochs = stage1_epochs
        self.data = {}
        for item in self.curves.values():
            item.setData([], [])

    def _x(self, phase: str, epoch: int) -> int:
        return epoch if phase == "stage1" else self.stage1_epochs + epoch

    def add(self, phase: str, epoch: int, metrics: dict, *, draw: bool = True) -> None:
        """Append an epoch; ``draw=False`` leaves the drawing to a later :meth:`redraw` (fast epochs)."""
        xs, ys = self.data.setdefault(phase, ([], {k: [] for k, _ in CURVES}))
        xs.append(self._x(phase, epoch))
        for key, _ in CURVES:
            off = key == "reg" and not metrics.get("alpha", 1.0)  # no perceptual term in this phase
            ys[key].append(np.nan if off else float(metrics.get(key, np.nan)))
        if draw:
            self.redraw()

    def redraw(self, keys=None) -> None:
        """Draw the stored epochs on the plots named by ``keys`` (default all; one plot costs half of four)."""
        for phase, (xs, ys) in self.data.items():
            x = np.asarray(xs, float)
            for key in keys or [k for k, _ in CURVES]:
                self.curves[(key, phase)].setData(x, np.asarray(ys[key], float), connect="finite")

    def set_history(self, phase: str, history: list[dict]) -> None:
        for epoch, m in enumerate(history, start=1):
            self.add(phase, epoch, m, draw=False)
        self.redraw()

    def points(self, phase: str) -> int:
        return len(self.data.get(phase, ([],))[0])


class LatentMapView(pg.GraphicsLayoutWidget):
    """A small live latent map (PCA of a few hundred notes' representative frames), refreshed during training.

    One scatter item per instrument, each with one brush: a refresh is a few milliseconds of GUI time.
    The legend sits in its own row under the map, so it never hides notes.
    """

    WAITING = "The latent map appears after the first epochs."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(BACKGROUND)
        self.plot = self.addPlot(row=0, col=0)
        self.plot.setMenuEnabled(False)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.items: dict[str, pg.ScatterPlotItem] = {}
        self.legend = pg.LegendItem(labelTextColor="#dddddd", colCount=2, verSpacing=-6)
        self.ci.addItem(self.legend, row=1, col=0)
        self.legend.hide()
        self.title = pg.TextItem(self.WAITING, color="#c9c9c9", anchor=(0, 0))
        self.title.setParentItem(self.plot.vb)
        self.title.setPos(4, 2)
        self.shown = None

    def show_map(self, m) -> None:
        """``m``: a ``LatentMap`` (xy, labels, novel, title) from the tab's worker; held-out notes are hollow."""
        self.shown = m
        labels = np.asarray(m.labels)
        novel = np.asarray(m.novel, bool)
        names = list(dict.fromkeys(m.labels))
        if list(self.items) != names:
            for item in self.items.values():
                self.plot.removeItem(item)
            self.legend.clear()
            self.items = {}
            for i, n in enumerate(names):
                held = bool(novel[labels == n].all())
                item = pg.ScatterPlotItem(pxMode=True, size=7, brush=pg.mkBrush(0, 0, 0, 0) if held else colour(i),
                                          pen=pg.mkPen(colour(i), width=1.5) if held else pg.mkPen(None))
                self.plot.addItem(item)
                self.legend.addItem(item, n)
                self.items[n] = item
            self.legend.setVisible(bool(names))
        for n, item in self.items.items():
            xy = m.xy[labels == n]
            item.setData(x=xy[:, 0], y=xy[:, 1])
        self.title.setText(f"{m.title} · hollow: held out" if novel.any() else m.title)
        self.plot.vb.autoRange(padding=0.08)

    def clear_map(self, text: str = WAITING) -> None:
        for item in self.items.values():
            item.clear()
        self.shown = None
        self.title.setText(text)


# ================================================================================ report
class ReportView(QtWidgets.QWidget):
    """The evaluation: Table-1 figures against the baseline, latent vs perceptual distances, novel instruments."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.report: dict | None = None
        self.summary = _wrapped("The evaluation appears here when training ends (or press Evaluate).")
        self.summary.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextBrowserInteraction)
        self.summary.setOpenExternalLinks(True)
        self.figures = QtWidgets.QTableWidget(len(REPORT_ROWS), 2)
        self.figures.setHorizontalHeaderLabels(["regularized", "unregularized"])
        self.figures.setVerticalHeaderLabels([r[0] for r in REPORT_ROWS])
        self.figures.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.figures.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.figures.setMinimumHeight(170)
        self.novel = QtWidgets.QTableWidget(0, 4)
        self.novel.setHorizontalHeaderLabels(["novel instrument", "nearest trained (distance)",
                                              "family holds", "unregularized nearest"])
        self.novel.verticalHeader().hide()
        self.novel.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        fit, stretch = QtWidgets.QHeaderView.ResizeMode.ResizeToContents, QtWidgets.QHeaderView.ResizeMode.Stretch
        for column, mode in enumerate((fit, stretch, fit, stretch)):  # the two lists share the width, wrapped
            self.novel.horizontalHeader().setSectionResizeMode(column, mode)
        self.novel.verticalHeader().setSectionResizeMode(fit)
        self.novel.setWordWrap(True)
        self.scatter_plot = pg.PlotWidget(background=BACKGROUND)
        self.scatter_plot.setLabel("bottom", "perceptual dissimilarity")
        self.scatter_plot.setLabel("left", "latent centroid distance")
        self.scatter_plot.setMenuEnabled(False)
        self.legend = self.scatter_plot.addLegend(offset=(10, 10))
        self.scatter = {
            "regularized": pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush("#4e9bff")),
            "unregularized": pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(160, 160, 160, 200)),
        }
        for item in self.scatter.values():
            self.scatter_plot.addItem(item)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.summary)
        left.addWidget(self.figures)
        left.addWidget(QtWidgets.QLabel("Where the held-out instruments land"))
        left.addWidget(self.novel, 1)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(QtWidgets.QLabel("Instrument distances: latent space vs perception"))
        right.addWidget(self.scatter_plot, 1)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    def clear_report(self) -> None:
        self.report = None
        self.figures.clearContents()
        self.novel.setRowCount(0)
        for item in self.scatter.values():
            item.clear()
        self.legend.clear()
        self.summary.setText("The evaluation appears here when training ends (or press Evaluate).")

    def show_report(self, report: dict, folder: str | None = None) -> None:
        self.report = report
        base = report.get("baseline", {})
        for r, (_, key, fmt) in enumerate(REPORT_ROWS):
            for c, source in enumerate((report, base)):
                text = format(source[key], fmt) if key in source else "–"
                item = QtWidgets.QTableWidgetItem(text)
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                self.figures.setItem(r, c, item)
        novel = report.get("novel_instruments", {})
        self.novel.setRowCount(len(novel))
        for r, (name, v) in enumerate(novel.items()):
            near = ", ".join(f"{n['instrument']} ({n['distance']:.2f})" for n in v["nearest"])
            b = base.get("novel_instruments", {}).get(name)
            cells = (name, near, "yes" if v["family_holds"] else "no",
                     ", ".join(n["instrument"] for n in b["nearest"]) if b else "–")
            for c, text in enumerate(cells):
                self.novel.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.legend.clear()
        for label, source in (("regularized", report), ("unregularized", base)):
            item = self.scatter[label]
            if "distances" in source:
                item.setData(source["distances"]["perceptual"], source["distances"]["latent"])
                self.legend.addItem(item, f"{label}: ρ = {source['spearman_rho']:.3f}")
            else:
                item.clear()
        parts = [f"Test notes: {report.get('test_notes', '?')}"]
        if "spearman_rho" in report:
            parts.append(f"Spearman ρ = <b>{report['spearman_rho']:.3f}</b>"
                         + (f" (unregularized {base['spearman_rho']:.3f})" if "spearman_rho" in base else "")
                         + (f"; the MDS ceiling is {report['mds_ceiling_rho']:.3f}" if "mds_ceiling_rho" in report
                            else ""))
        else:
            parts.append("no perceptual figures (trained without the regularizer)")
        if "train_seconds" in report:
            parts.append(f"trained in {report['train_seconds']:.0f} s")
        if folder:
            url = QtCore.QUrl.fromLocalFile(folder).toString()
            parts.append(f'report.md and plots in <a href="{url}">{folder}</a>')
        self.summary.setText(". ".join(parts) + ".")
