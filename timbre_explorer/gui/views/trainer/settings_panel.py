"""The Trainer's settings panel: model size, objective, generalization, schedule, optimisation."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from timbre_explorer.core.model.vae_config import CONDITIONINGS
from timbre_explorer.core.training.config import AUGMENTATIONS, DEVICES, LIKELIHOODS, REGULARIZERS
from timbre_explorer.gui.views.widgets import choice_box, float_field, form_layout, group_box, int_field, row

#: (key, label, kind, low, high, decimals or None, tooltip) in the groups the panel shows.
SETTINGS = {
    "Model": (
        ("latent", "Latent size", int, 1, 512, None, "Dimensions of the timbre space (the paper: 64)"),
        ("hidden", "Width", int, 1, 8192, None, "Units per hidden layer of encoder and decoder (the paper: 2000)"),
        ("layers", "Depth", int, 1, 8, None, "Hidden layers of encoder and decoder (the paper: 3)"),
        ("conditioning", "Conditioning", "choice", CONDITIONINGS, None, None,
         "Pitch and level given to the network, so the latent space keeps what they do not explain: the timbre "
         "(the paper's model has none)"),
        ("compare_unconditioned", "Also train the paper's unconditioned model", bool, None, None, None,
         "The same schedule without conditioning, reported beside the conditioned model"),
    ),
    "Objective": (
        ("regularizer", "Perceptual regularizer", "choice", REGULARIZERS, None, None,
         "What pulls the latent space towards the perceptual timbre space"),
        ("alpha", "α (perceptual weight)", float, 0.0, 100000.0, 2,
         "Weight of the perceptual term in stage 2. 200 suits the default model and schedule; a smaller model or "
         "fewer stage-2 epochs may need less (100 for width 256 and 40 epochs): if the validation loss stays far "
         "above stage 1's, lower α"),
        ("beta", "β (KL weight)", float, 0.0, 1000.0, 3, "Weight of the KL divergence to the prior"),
        ("warmup_epochs", "β warm-up", int, 0, 1000000, None, "Epochs over which β rises linearly from 0"),
        ("likelihood", "Likelihood", "choice", LIKELIHOODS, None, None,
         "How the decoder's variance spreads over a frame's bins: one per bin lets it neglect the quiet high bands"),
        ("band_weight", "Band-energy weight", float, 0.0, 100000.0, 2,
         "Weight of the error in each half-octave's energy, so what plays keeps the instrument's brightness (0: off)"),
    ),
    "Generalization": (
        ("augment", "Augment", "several", AUGMENTATIONS, None, None,
         "Random changes to training frames, so the space learns the instrument rather than one sample set's sound"),
        ("partner_share", "Partner share", float, 0.0, 1.0, 2,
         "Share of frames a conditioned model rebuilds from another note of the same instrument (0: each from "
         "itself)"),
        ("partner_semitones", "Partner range", int, 0, 127, None,
         "How many semitones away that other note may be: wider asks the code for what the instrument keeps over "
         "its whole range"),
    ),
    "Schedule": (
        ("epochs_stage1", "Stage 1 epochs (α = 0)", int, 0, 1000000, None,
         "A plain VAE first: the regularizer is off"),
        ("epochs_stage2", "Stage 2 epochs (α on)", int, 0, 1000000, None,
         "From the end of stage 1, with the perceptual term"),
        ("baseline", "Also train the unregularized twin", bool, None, None, None,
         "Stage 2 again with α = 0, from the same stage 1: the evaluation compares against it"),
    ),
    "Optimisation": (
        ("batch_size", "Batch size", int, 1, 1000000, None, "Frames per gradient step"),
        ("frames_per_note", "Frames per note", int, 1, 100000, None,
         "Frames drawn from each note's sustain per epoch"),
        ("lr", "Learning rate", float, 0.000001, 1.0, 6, "Adam's learning rate"),
        ("seed", "Seed", int, 0, 2**31 - 1, None, "Every random draw of the run follows from it"),
        ("device", "Device", "choice", DEVICES, None, None, "Where the model trains"),
    ),
}


class ChoiceChecks(QtWidgets.QWidget):
    """Several of a dict's keys chosen at once, as a check box each (two to a row): a tuple setting."""

    def __init__(self, choices: dict[str, str], parent=None):
        super().__init__(parent)
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QtWidgets.QCheckBox] = {}
        for i, (name, text) in enumerate(choices.items()):
            box = QtWidgets.QCheckBox(text)
            box.setObjectName(name)
            self.boxes[name] = box
            grid.addWidget(box, i // 2, i % 2)

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (Qt's name): each box says it too
        super().setToolTip(tip)
        for box in self.boxes.values():
            box.setToolTip(tip)

    def chosen(self) -> tuple[str, ...]:
        return tuple(name for name, box in self.boxes.items() if box.isChecked())

    def set_chosen(self, names) -> None:
        for name, box in self.boxes.items():
            box.setChecked(name in names)


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
                    w = choice_box(low)
                elif kind == "several":
                    w = ChoiceChecks(low)
                elif kind is bool:
                    w = QtWidgets.QCheckBox(label)
                elif kind is int:
                    w = int_field(low, high)
                else:
                    w = float_field(low, high, decimals, 10 ** -decimals * 10 if key == "lr" else 0.1)
                w.setToolTip(tip)
                w.setObjectName(key)
                self.fields[key] = w
                if kind is bool:
                    form.addRow(w)
                else:
                    form.addRow(label, w)
            layout.addWidget(group_box(title, form))
        self.fields["regularizer"].currentIndexChanged.connect(self._regularizer_changed)
        self.fields["conditioning"].currentIndexChanged.connect(self._regularizer_changed)
        self.load_button = QtWidgets.QPushButton("Load config…")
        self.load_button.setToolTip("A JSON training config, as `timbre-explorer train --config` takes")
        self.load_button.clicked.connect(self.load_requested)
        self.save_button = QtWidgets.QPushButton("Save config…")
        self.save_button.setToolTip("Write these settings as a JSON file the command line takes (train --config)")
        self.save_button.clicked.connect(self.save_requested)
        self.defaults_button = QtWidgets.QPushButton("Defaults")
        self.defaults_button.clicked.connect(self.defaults_requested)
        self.defaults_button.setToolTip("Put every setting above back to its default")
        layout.addLayout(row(self.load_button, self.save_button, self.defaults_button, stretch=None))

    def _regularizer_changed(self) -> None:
        on = self.fields["regularizer"].currentData() != "none"
        self.fields["alpha"].setEnabled(on)
        self.fields["baseline"].setEnabled(on)
        conditioned = self.fields["conditioning"].currentData() != "none"
        self.fields["compare_unconditioned"].setEnabled(conditioned)
        self.fields["partner_share"].setEnabled(conditioned)
        self.fields["partner_semitones"].setEnabled(conditioned)

    def values(self) -> dict:
        out = {}
        for key, w in self.fields.items():
            if isinstance(w, ChoiceChecks):
                out[key] = w.chosen()
            elif isinstance(w, QtWidgets.QComboBox):
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
            if isinstance(w, ChoiceChecks):
                w.set_chosen(v or ())
            elif isinstance(w, QtWidgets.QComboBox):
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
