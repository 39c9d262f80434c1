"""The installed app, started for real on a virtual display: ``packaging/smoke.py`` under xvfb-run.

The app loads the bundled model, clicks its map once through the real mouse path, waits for the note
and quits; the smoke script fails on a non-zero exit, a timeout, a traceback, a Qt warning or a missing
plugin (see its docstring). ``packaging/build.sh`` runs the same script against the frozen build.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from virtual_display import xvfb_run

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "packaging" / "smoke.py"


def _smoke_module():
    spec = importlib.util.spec_from_file_location("smoke", SMOKE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_app_starts_clicks_and_quits_cleanly_on_a_virtual_display():
    xvfb = xvfb_run("the app's start-up (smoke test)")
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # the real X platform plugin, not the tests' offscreen one
    command = [xvfb, "-a", "-s", "-screen 0 1280x1024x24", sys.executable, str(SMOKE),
               "--timeout", "60"]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"the smoke test failed:\n{run.stdout}{run.stderr}"
    assert re.search(r"^SMOKE OK \d+ ms", run.stdout, re.M), run.stdout
    assert "smoke: passed" in run.stdout


def test_the_smoke_script_sees_what_goes_wrong():
    problems = _smoke_module().problems
    lines = {
        "Traceback (most recent call last):": "traceback",
        "WARNING qt: QPainter::begin: Paint device returned engine == 0": "Qt warning",
        "QObject::startTimer: Timers cannot be started from another thread": "Qt warning",
        "QThread: Destroyed while thread is still running": "Qt warning",
        "qt.qpa.plugin: Could not load the Qt platform plugin \"xcb\" in \"\" even though it was found.": "plugin",
        "Cannot load library /x/libqsvg.so: (libQt6Svg.so.6: cannot open shared object file)": "cannot load",
        "SMOKE FAILED: model.timbre.safetensors: no such model file": "own check failed",
        "INFO timbre_explorer.core.synthesis.space: decoder ready in 1.31 s (on MainThread)": "GUI thread waited",
    }
    for line, meaning in lines.items():
        assert len(problems(line)) == 1, (line, meaning)
    fine = ("INFO timbre_explorer.gui.main_window: ready: model: 3460 notes of 18 instruments\n"
            "WARNING timbre_explorer.audio.engine: No audio output device found; sounds can still be exported\n"
            "INFO timbre_explorer.core.synthesis.space: decoder ready in 1.31 s (on worker-task)\n"
            "SMOKE OK 129 ms (Near Piccolo (0.12 from its centre), played at C4 mf)")
    assert problems(fine) == []
