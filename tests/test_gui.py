"""The main window without a usable model or sound card, offscreen."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def test_window_without_model_or_portaudio(qtbot, tmp_path, monkeypatch):
    import sys

    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    make_app()
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # no PortAudio at all
    model = tmp_path / "my.timbre.safetensors"
    window = MainWindow(model_path=model)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.model_failed, timeout=20_000):
        window.show()
    title, text = window.last_error
    assert title == "Could not open the model" and str(model) in text
    assert window.model_label.text() == "No model loaded" and not window.explorer.isEnabled()
    assert "PortAudio" in window.audio.status and "WAV" in window.audio_label.text()
    assert window.audio.play(np.zeros(10)) is False
    window.close()


def test_the_window_names_the_version_and_carries_the_apps_icon(qtbot, tmp_path):
    from PySide6 import QtCore

    from timbre_explorer import __version__
    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.gui.app import make_app
    from timbre_explorer.gui.main_window import MainWindow

    app = make_app()
    assert QtCore.QSize(256, 256) in app.windowIcon().availableSizes()  # resources/icons, from packaging/icon.svg
    window = MainWindow(model_path=tmp_path / "none.timbre.safetensors", audio=AudioEngine(open_stream=False))
    qtbot.addWidget(window)
    assert window.windowTitle() == f"Timbre Explorer {__version__}" and __version__ == "0.1.0"
    assert window.windowIcon().cacheKey() == app.windowIcon().cacheKey()
