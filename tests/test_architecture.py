"""The core is Qt-free: it is driven from the CLI and tests without a GUI toolkit."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import timbre_explorer.audio
import timbre_explorer.core


def test_core_audio_and_command_line_import_no_qt():
    modules = [m.name for m in pkgutil.walk_packages(timbre_explorer.core.__path__, "timbre_explorer.core.")]
    modules += [m.name for m in pkgutil.walk_packages(timbre_explorer.audio.__path__, "timbre_explorer.audio.")]
    assert "timbre_explorer.core.signal.nsgt" in modules and "timbre_explorer.audio.engine" in modules
    modules += ["timbre_explorer.logs", "timbre_explorer.paths", "timbre_explorer.cli"]  # the command line's too
    code = ("import sys, importlib\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'))\n"
            "print(bad); sys.exit(1 if bad else 0)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_gui_modules_do_not_import_torch_at_module_level():
    """The window appears before torch loads (start-up time)."""
    code = ("import sys, importlib\n"
            "for m in ('timbre_explorer.gui.app', 'timbre_explorer.gui.main_window'): importlib.import_module(m)\n"
            "sys.exit(1 if 'torch' in sys.modules else 0)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
