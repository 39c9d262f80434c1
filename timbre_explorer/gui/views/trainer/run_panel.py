"""The Trainer's run panel: the run folder, the run's buttons, its progress and messages."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from timbre_explorer.gui.views.trainer.elided_label import ElidedLabel
from timbre_explorer.gui.views.widgets import form_layout, row, wrapped_label


class RunPanel(QtWidgets.QWidget):
    """Output folder, the run's buttons, its progress and messages, and what to do with the result."""

    choose_out_requested = QtCore.Signal()
    new_out_requested = QtCore.Signal()
    out_changed = QtCore.Signal()
    train_requested = QtCore.Signal(bool)  # resume
    pause_toggled = QtCore.Signal(bool)
    cancel_requested = QtCore.Signal()
    evaluate_requested = QtCore.Signal()
    open_requested = QtCore.Signal()
    save_requested = QtCore.Signal()

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
        self.out_button.setToolTip("Choose the run folder")
        self.new_button = QtWidgets.QPushButton("New")
        self.new_button.setToolTip("A fresh, dated folder for a new run")
        self.new_button.clicked.connect(self.new_out_requested)
        form.addRow("Run folder", row(self.out, self.out_button, self.new_button))
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
        layout.addLayout(row(self.train_button, self.pause_button, self.resume_button, self.cancel_button,
                              stretch=None))
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        layout.addWidget(self.progress)
        self.status = ElidedLabel()  # one line: the buttons above never move as it changes
        layout.addWidget(self.status)
        self.message = wrapped_label("")
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setOpenExternalLinks(True)
        layout.addWidget(self.message)
        self.evaluate_button = QtWidgets.QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Evaluate the run's models on their test notes (again) and show the report")
        self.open_button = QtWidgets.QPushButton("Open in Explorer")
        self.open_button.setToolTip("Explore the newly trained timbre space")
        self.save_button = QtWidgets.QPushButton("Save model as…")
        self.save_button.setToolTip("Copy the model file (its card inside: settings, data, history, evaluation)")
        layout.addLayout(row(self.evaluate_button, self.open_button, self.save_button, stretch=None))
        self.train_button.clicked.connect(lambda: self.train_requested.emit(False))
        self.resume_button.clicked.connect(lambda: self.train_requested.emit(True))
        self.pause_button.toggled.connect(self._pause_toggled)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.evaluate_button.clicked.connect(self.evaluate_requested)
        self.open_button.clicked.connect(self.open_requested)
        self.save_button.clicked.connect(self.save_requested)

    def out_folder(self) -> str:
        return self.out.text().strip()

    def set_out_folder(self, path: str) -> None:
        self.out.setText(path)

    def show_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(round(1000 * fraction))
        self.progress.setFormat(text)

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def _pause_toggled(self, on: bool) -> None:
        self.pause_button.setText("Continue" if on else "Pause")
        self.pause_toggled.emit(on)

    def release_pause(self) -> None:
        """The Pause button up again, saying nothing (a run ends or starts)."""
        with QtCore.QSignalBlocker(self.pause_button):
            self.pause_button.setChecked(False)
        self.pause_button.setText("Pause")

    def enable(self, *, idle: bool, training: bool, running: bool, resumable: bool, has_model: bool) -> None:
        """The buttons a state allows: Train when idle, Resume when the folder has checkpoints and no model yet,
        Pause while training, Cancel while anything runs, the model's buttons when there is one; the run folder is
        fixed while a task runs."""
        self.train_button.setEnabled(idle)
        self.resume_button.setEnabled(idle and resumable and not has_model)  # a finished run: nothing to resume
        self.pause_button.setEnabled(training)
        self.cancel_button.setEnabled(running)
        for button in (self.evaluate_button, self.open_button, self.save_button):
            button.setEnabled(idle and has_model)
        for w in (self.out, self.out_button, self.new_button):
            w.setEnabled(not running)

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #ff5a5f" if error else "")
        self.message.setText(text)
