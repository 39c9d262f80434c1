"""The main window, offscreen."""

from __future__ import annotations

import numpy as np
import pytest

from timbre_explorer.audio.engine import AudioEngine

pytestmark = pytest.mark.gui


def test_window_shows_model_and_missing_audio(qtbot, tmp_path, monkeypatch):
    import sys

    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    make_app()
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # no PortAudio at all
    model = tmp_path / "my.timbre.safetensors"
    window = MainWindow(model_path=model)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert str(model) in window.model_label.text() and "not built yet" in window.model_label.text()
    assert "PortAudio" in window.audio_label.text()
    assert "WAV" in window.statusBar().currentMessage()
    assert window.audio.play(np.zeros(10)) is False


def test_window_names_the_open_device(qtbot):
    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    make_app()
    audio = AudioEngine(open_stream=False)
    audio.available, audio.device_name, audio.status = True, "Test Output", "Audio: Test Output at 22050 Hz"
    window = MainWindow(audio=audio)
    qtbot.addWidget(window)
    assert window.audio_label.text() == "Test Output"
    assert window.statusBar().currentMessage() == "Audio: Test Output at 22050 Hz"
