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


def test_info_reports_model_transform_and_audio(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "model:" in out and "nsgt-erb" in out and "168 bands" in out
    assert "audio" in out


def test_python_dash_m_runs_the_same_command():
    run = subprocess.run([sys.executable, "-m", "timbre_explorer", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and __version__ in run.stdout
