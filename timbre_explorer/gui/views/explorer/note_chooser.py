"""A real note to morph: instrument, pitch and dynamic (rendered from the SoundFont), or an audio file."""

from __future__ import annotations

from PySide6 import QtWidgets


class NoteChooser(QtWidgets.QWidget):
    """Instrument, pitch and dynamic of a real note (rendered from the SoundFont), or an audio file."""

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.instrument = QtWidgets.QComboBox()
        self.instrument.setToolTip("The instrument whose real note (from the SoundFont) the morph starts or ends on")
        self.pitch = QtWidgets.QSpinBox()
        self.pitch.setRange(21, 108)
        self.pitch.setValue(60)
        self.pitch.setToolTip("The MIDI pitch of that note")
        self.dynamic = QtWidgets.QComboBox()
        self.dynamic.setToolTip("The dynamic of that note")
        self.file: str | None = None
        browse = QtWidgets.QToolButton()
        browse.setText("File…")
        browse.clicked.connect(self._browse)
        browse.setToolTip("Morph an audio file of your own instead of a SoundFont note")
        for w in (self.instrument, self.pitch, self.dynamic, browse):
            row.addWidget(w)

    def set_choices(self, instruments: list[str], dynamics: list[str]) -> None:
        current = self.instrument.currentText()
        self.instrument.clear()
        self.instrument.addItems(instruments)
        if current in instruments:
            self.instrument.setCurrentText(current)
        self.dynamic.clear()
        self.dynamic.addItems(dynamics)
        self.dynamic.setCurrentText("mf" if "mf" in dynamics else dynamics[len(dynamics) // 2])

    def spec(self) -> str:
        """What :func:`~timbre_explorer.core.synthesis.morph.note_audio` takes: a path or ``Instrument:pitch:dyn``."""
        if self.file:
            return self.file
        return f"{self.instrument.currentText()}:{self.pitch.value()}:{self.dynamic.currentText()}"

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "A note to morph", "",
                                                        "Audio (*.wav *.aif *.aiff *.flac *.mp3 *.ogg)")
        self.file = path or None
        self.instrument.setEnabled(not self.file)
        self.pitch.setEnabled(not self.file)
        self.dynamic.setEnabled(not self.file)
        self.setToolTip(self.file or "")
