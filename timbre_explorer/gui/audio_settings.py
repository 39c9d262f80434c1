"""Audio settings: output device, volume, note duration and envelope. Changes apply at once."""

from __future__ import annotations

from typing import Protocol, cast

from PySide6 import QtCore, QtWidgets

from timbre_explorer.audio.engine import AudioEngine, output_devices
from timbre_explorer.gui.settings import SCHEMA


class _Window(Protocol):
    """The dialog's parent, the main window: its engine is replaced when the user switches devices."""

    audio: AudioEngine


class AudioSettingsDialog(QtWidgets.QDialog):
    """Edits the engine's volume and the Explorer's :class:`SynthSettings` in place; asks for device switches."""

    device_chosen = QtCore.Signal(object)  # PortAudio device index

    def __init__(self, parent: QtWidgets.QWidget, engine: AudioEngine, synth_settings) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audio settings")
        self.st = synth_settings
        form = QtWidgets.QFormLayout(self)
        self.device = QtWidgets.QComboBox()
        devices = output_devices()
        for d in devices:
            self.device.addItem(d.label, d.index)
            if d.name == engine.device_name:
                self.device.setCurrentIndex(self.device.count() - 1)
        if not devices:
            self.device.addItem("No output device (export to WAV still works)", None)
            self.device.setEnabled(False)
        self.device.activated.connect(lambda _: self.device_chosen.emit(self.device.currentData()))
        self.device.setToolTip("Where the sound goes (remembered by name for the next start)")
        form.addRow("Output device", self.device)
        form.addRow("", QtWidgets.QLabel(engine.status))
        self.volume = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(int(round(100 * engine.volume)))
        self.volume.valueChanged.connect(self._volume)
        self.volume.setToolTip("The level of everything the app plays (exports are not changed)")
        form.addRow("Volume", self.volume)
        self.seconds = self._spin(*SCHEMA["audio/seconds"].range, synth_settings.seconds, " s", 2)
        self.attack = self._spin(*SCHEMA["audio/attack"].range, synth_settings.attack, " s", 3)
        self.release = self._spin(*SCHEMA["audio/release"].range, synth_settings.release, " s", 3)
        self.seconds.setToolTip("How long a clicked point's note is held")
        self.attack.setToolTip("How long a note takes to fade in")
        self.release.setToolTip("How long a note takes to fade out once let go")
        form.addRow("Note duration", self.seconds)
        form.addRow("Attack", self.attack)
        form.addRow("Release", self.release)
        for spin in (self.seconds, self.attack, self.release):
            spin.valueChanged.connect(self._envelope)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Close).setToolTip("Close (every change is kept)")
        form.addRow(buttons)

    def _spin(self, lo, hi, value, suffix, decimals) -> QtWidgets.QDoubleSpinBox:
        spin = QtWidgets.QDoubleSpinBox()
        spin.setRange(lo, hi)
        spin.setDecimals(decimals)
        spin.setSingleStep(10 ** -(decimals - 1) if decimals > 1 else 0.1)
        spin.setValue(value)
        spin.setSuffix(suffix)
        return spin

    def _volume(self, value: int) -> None:
        cast(_Window, self.parent()).audio.volume = value / 100  # the engine now, not the one the dialog opened with

    def _envelope(self) -> None:
        self.st.seconds = self.seconds.value()
        self.st.attack = self.attack.value()
        self.st.release = min(self.release.value(), self.st.seconds / 2)
