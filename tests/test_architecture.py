"""The core is Qt-free: it is driven from the CLI and tests without a GUI toolkit."""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import timbre_explorer.audio
import timbre_explorer.core

ROOT = Path(__file__).resolve().parents[1]


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


@pytest.mark.parametrize("module, line, broken", [
    ("core/synthesis/space.py", "import PySide6", "timbre_explorer.core is not allowed to import PySide6"),
    ("core/model/vae.py", "import timbre_explorer.audio.engine", "not allowed to import timbre_explorer.audio"),
    ("audio/engine.py", "import pyqtgraph", "timbre_explorer.audio is not allowed to import pyqtgraph"),
    ("core/signal/units.py", "import timbre_explorer.core.data.instruments",
     "timbre_explorer.core.signal is not allowed to import timbre_explorer.core.data"),
    ("core/training/evaluate.py", "import timbre_explorer.core.synthesis.space",
     "timbre_explorer.core.training is not allowed to import timbre_explorer.core.synthesis"),
    ("core/files.py", "import timbre_explorer.core.signal.units",
     "timbre_explorer.core.files is not allowed to import timbre_explorer.core.signal"),
    ("gui/views/explorer/field_panel.py", "import timbre_explorer.gui.workers",
     "timbre_explorer.gui.views is not allowed to import timbre_explorer.gui.workers"),
    ("gui/views/map_view.py", "import timbre_explorer.gui.explorer.tab",
     "timbre_explorer.gui.views is not allowed to import timbre_explorer.gui.explorer"),
    ("gui/views/trainer/run_panel.py", "import timbre_explorer.gui.workers",
     "timbre_explorer.gui.views is not allowed to import timbre_explorer.gui.workers"),
    ("gui/views/trainer/data_panel.py", "import timbre_explorer.gui.trainer.status",
     "timbre_explorer.gui.views is not allowed to import timbre_explorer.gui.trainer"),
])
def test_the_import_contracts_break_on_an_import_they_forbid(tmp_path, module, line, broken):
    """``lint-imports`` (a step of ``./run.sh test``) holds the layers: a copy of the package with one wrong
    import added breaks exactly one contract, saying which import."""
    shutil.copytree(ROOT / "timbre_explorer", tmp_path / "timbre_explorer",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / "timbre_explorer" / module, "a", encoding="utf-8") as f:
        f.write(f"\n{line}\n")
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    run = subprocess.run([sys.executable, "-c", code, "--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert run.returncode == 1, run.stdout + run.stderr
    report = " ".join(run.stdout.split())  # the report is wrapped at the terminal's width
    contracts = len(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"][
        "contracts"])
    assert f"Contracts: {contracts - 1} kept, 1 broken." in report and broken in report, run.stdout


def test_no_module_of_the_package_imports_itself_back():
    """No import cycle anywhere in the package, imports inside functions included (those under TYPE_CHECKING
    are for the type checker only): each module can be read, and moved, on its own. The graph is grimp's, the
    one import-linter checks the layers on."""
    import graphlib

    import grimp

    graph = grimp.build_graph("timbre_explorer", exclude_type_checking_imports=True, cache_dir=None)
    assert {"timbre_explorer.core.training.loop", "timbre_explorer.gui.explorer.tab"} <= graph.modules
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_the_architecture_page_names_every_module():
    """docs/architecture.md's tree is the map a newcomer reads: a module it does not name is a room missing."""
    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    stems = {p.stem for p in (root / "timbre_explorer").rglob("*.py")} - {"__init__", "__main__"}
    assert stems and sorted(s for s in stems if s not in page) == []
