"""The Trainer's settings panel: model size, objective, generalization, schedule, optimisation."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from timbre_explorer.core.model.vae_config import CONDITIONINGS, DECODER_AXES
from timbre_explorer.core.training.config import AUGMENTATIONS, DEVICES, LIKELIHOODS, REGULARIZERS
from timbre_explorer.gui.views.widgets import choice_box, float_field, form_layout, group_box, int_field, row


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


#: (key, label, what makes its field, tooltip) in the groups the panel shows.
SETTINGS: dict[str, tuple[tuple[str, str, Callable[[], QtWidgets.QWidget], str], ...]] = {
    "Model": (
        ("latent", "Latent size", partial(int_field, 1, 512), "Dimensions of the timbre space (the paper: 64)"),
        ("hidden", "Width", partial(int_field, 1, 8192),
         "Units per hidden layer of encoder and decoder (the paper: 2000)"),
        ("layers", "Depth", partial(int_field, 1, 8), "Hidden layers of encoder and decoder (the paper: 3)"),
        ("conditioning", "Conditioning", partial(choice_box, CONDITIONINGS),
         "Pitch and level given to the network, so the latent space keeps what they do not explain: the timbre "
         "(the paper's model has none)"),
        ("decoder_axis", "Decoder axis", partial(choice_box, DECODER_AXES),
         "Where the decoder draws a spectrum: on the transform's bins, or in semitones above the note's pitch, so "
         "a note's partials sit at the same outputs whatever its pitch (needs conditioning)"),
        ("compare_unconditioned", "Also train the paper's unconditioned model", QtWidgets.QCheckBox,
         "The same schedule without conditioning, reported beside the conditioned model"),
    ),
    "Objective": (
        ("regularizer", "Perceptual regularizer", partial(choice_box, REGULARIZERS),
         "What pulls the latent space towards the perceptual timbre space"),
        ("alpha", "α (perceptual weight)", partial(float_field, 0.0, 100000.0, 2, 0.1),
         "Weight of the perceptual term in stage 2. 200 suits the default model and schedule; a smaller model or "
         "fewer stage-2 epochs may need less (100 for width 256 and 40 epochs): if the validation loss stays far "
         "above stage 1's, lower α"),
        ("beta", "β (KL weight)", partial(float_field, 0.0, 1000.0, 3, 0.1),
         "Weight of the KL divergence to the prior"),
        ("warmup_epochs", "β warm-up", partial(int_field, 0, 1000000), "Epochs over which β rises linearly from 0"),
        ("likelihood", "Likelihood", partial(choice_box, LIKELIHOODS),
         "How the decoder's variance spreads over a frame's bins: one per bin lets it neglect the quiet high bands"),
        ("band_weight", "Band-energy weight", partial(float_field, 0.0, 100000.0, 2, 0.1),
         "Weight of the error in each half-octave's energy, so what plays keeps the instrument's brightness (0: off)"),
    ),
    "Generalization": (
        ("augment", "Augment", partial(ChoiceChecks, AUGMENTATIONS),
         "Random changes to training frames, so the space learns the instrument rather than one sample set's sound"),
        ("partner_share", "Partner share", partial(float_field, 0.0, 1.0, 2, 0.1),
         "Share of frames a conditioned model rebuilds from another note of the same instrument (0: each from "
         "itself)"),
        ("partner_semitones", "Partner range", partial(int_field, 0, 127),
         "How many semitones away that other note may be: wider asks the code for what the instrument keeps over "
         "its whole range"),
    ),
    "Schedule": (
        ("epochs_stage1", "Stage 1 epochs (α = 0)", partial(int_field, 0, 1000000),
         "A plain VAE first: the regularizer is off"),
        ("epochs_stage2", "Stage 2 epochs (α on)", partial(int_field, 0, 1000000),
         "From the end of stage 1, with the perceptual term"),
        ("baseline", "Also train the unregularized twin", QtWidgets.QCheckBox,
         "Stage 2 again with α = 0, from the same stage 1: the evaluation compares against it"),
    ),
    "Optimisation": (
        ("batch_size", "Batch size", partial(int_field, 1, 1000000), "Frames per gradient step"),
        ("frames_per_note", "Frames per note", partial(int_field, 1, 100000),
         "Frames drawn from each note's sustain per epoch"),
        ("lr", "Learning rate", partial(float_field, 0.000001, 1.0, 6, 0.00001), "Adam's learning rate"),
        ("seed", "Seed", partial(int_field, 0, 2**31 - 1), "Every random draw of the run follows from it"),
        ("device", "Device", partial(choice_box, DEVICES), "Where the model trains"),
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
        self.choices: dict[str, QtWidgets.QComboBox] = {}  # the fields that are combo boxes
        for title, specs in SETTINGS.items():
            form = form_layout()
            for key, label, make, tip in specs:
                w = make()
                w.setToolTip(tip)
                w.setObjectName(key)
                self.fields[key] = w
                if isinstance(w, QtWidgets.QComboBox):
                    self.choices[key] = w
                if isinstance(w, QtWidgets.QCheckBox):
                    w.setText(label)
                    form.addRow(w)
                else:
                    form.addRow(label, w)
            layout.addWidget(group_box(title, form))
        self.choices["regularizer"].currentIndexChanged.connect(self._regularizer_changed)
        self.choices["conditioning"].currentIndexChanged.connect(self._regularizer_changed)
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
        on = self.choices["regularizer"].currentData() != "none"
        self.fields["alpha"].setEnabled(on)
        self.fields["baseline"].setEnabled(on)
        conditioned = self.choices["conditioning"].currentData() != "none"
        self.fields["compare_unconditioned"].setEnabled(conditioned)
        self.fields["partner_share"].setEnabled(conditioned)
        self.fields["partner_semitones"].setEnabled(conditioned)

    def values(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, w in self.fields.items():
            if isinstance(w, ChoiceChecks):
                out[key] = w.chosen()
            elif isinstance(w, QtWidgets.QComboBox):
                out[key] = w.currentData()
            elif isinstance(w, QtWidgets.QCheckBox):
                out[key] = w.isChecked()
            elif isinstance(w, QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox):
                out[key] = w.value()
        return out

    def set_values(self, d: dict[str, Any]) -> None:
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
            elif isinstance(w, QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox):
                w.setValue(v)
        self._regularizer_changed()

    def set_cuda(self, available: bool) -> None:
        """Grey out the CUDA choice where torch sees no GPU (a loaded config may still name it: it is refused)."""
        combo = self.choices["device"]
        model = combo.model()
        if not isinstance(model, QtGui.QStandardItemModel):  # (a combo box's own model is one)
            return
        item = model.item(combo.findData("cuda"))
        item.setEnabled(available)
        item.setToolTip("" if available else "torch sees no CUDA GPU on this machine")
