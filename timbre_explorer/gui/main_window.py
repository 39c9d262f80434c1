"""The main window."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from timbre_explorer import __version__
from timbre_explorer.audio.engine import AudioEngine
from timbre_explorer.paths import default_model_path

log = logging.getLogger(__name__)


class MainWindow(QtWidgets.QMainWindow):
    """Top-level window: owns the one :class:`AudioEngine` and shows the model and audio set-up."""

    def __init__(self, model_path: str | Path | None = None, audio: AudioEngine | None = None):
        super().__init__()
        self.setWindowTitle(f"Timbre Explorer {__version__}")
        self.resize(1100, 720)
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.audio = audio if audio is not None else AudioEngine()

        self.model_label = QtWidgets.QLabel()
        self.audio_label = QtWidgets.QLabel()
        for label in (self.model_label, self.audio_label):
            label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
        title = QtWidgets.QLabel("<h1>Timbre Explorer</h1>"
                                 "<p>A generative timbre space after Esling, Chemla-Romeu-Santos &amp; Bitton "
                                 "(DAFx 2018).</p>")
        box = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(box)
        layout.addWidget(title)
        form = QtWidgets.QFormLayout()
        form.addRow("<b>Model</b>", self.model_label)
        form.addRow("<b>Audio output</b>", self.audio_label)
        layout.addLayout(form)
        layout.addStretch(1)
        self.setCentralWidget(box)
        self._show_setup()

    def _show_setup(self) -> None:
        state = "found" if self.model_path.exists() else "not built yet"
        self.model_label.setText(f"{self.model_path} ({state})")
        self.audio_label.setText(self.audio.device_name if self.audio.available else self.audio.status)
        # Said once: the status bar carries the audio state; nothing pops up.
        self.statusBar().showMessage(self.audio.status)

    def closeEvent(self, event) -> None:
        self.audio.close()
        super().closeEvent(event)
