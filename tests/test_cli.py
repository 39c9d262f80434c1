"""The command line."""

from __future__ import annotations

import subprocess
import sys

from timbre_explorer import __version__
from timbre_explorer.cli import main


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert __version__ in capsys.readouterr().out


def test_info_reports_model_transform_and_audio(capsys, monkeypatch):
    """Each line says what this machine has: the lines change with it (not only their labels)."""
    import timbre_explorer.audio.engine as engine
    from timbre_explorer.paths import default_model_path

    class Engine:
        status = "Audio: Speakers at 48000 Hz"

        def close(self) -> None:
            pass

    devices = [engine.OutputDevice(0, "Speakers", "ALSA", 2, 48000.0, True),
               engine.OutputDevice(3, "HDMI", "ALSA", 8, 48000.0, False)]
    monkeypatch.setattr(engine, "output_devices", lambda: devices)
    monkeypatch.setattr(engine, "AudioEngine", Engine)
    assert main(["info"]) == 0
    lines = capsys.readouterr().out.splitlines()
    model = default_model_path()
    assert f"model: {model} ({'present' if model.exists() else 'not built yet'})" in lines
    assert any(line.startswith("transform: nsgt-erb: ") and "168 bands" in line for line in lines)
    assert "audio devices: Speakers (ALSA, 2 ch) (default), HDMI (ALSA, 8 ch)" in lines
    assert lines[-1] == "Audio: Speakers at 48000 Hz"

    monkeypatch.setattr(engine, "output_devices", lambda: [])
    Engine.status = "No audio output device found; sounds can still be exported to WAV."
    assert main(["info"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "audio devices: none" in lines and lines[-1] == Engine.status


def test_python_dash_m_runs_the_same_command():
    run = subprocess.run([sys.executable, "-m", "timbre_explorer", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and __version__ in run.stdout
