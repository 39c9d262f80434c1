"""The core is Qt-free: it is driven from the CLI and tests without a GUI toolkit."""

from __future__ import annotations

import ast
import os
import pkgutil
import re
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
    modules += ["timbre_explorer.gui.views.map_layout"]  # the map's geometry, tested without a map
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's dlopen")
def test_torch_libraries_load_ahead_of_its_import_and_torch_works_after_them():
    """``load_torch_libraries`` (called by the worker that prepares a map, so torch's loading leaves the GUI thread
    running) maps libtorch into the process before ``import torch``, which then finds it and works; once torch is
    imported it does nothing."""
    code = ("import sys\n"
            "from timbre_explorer.core.runtime import load_torch_libraries\n"
            "maps = lambda: open('/proc/self/maps').read()\n"
            "assert 'libtorch_cpu.so' not in maps() and 'torch' not in sys.modules\n"
            "assert load_torch_libraries() is True\n"
            "assert 'libtorch_cpu.so' in maps() and 'torch' not in sys.modules\n"
            "import torch\n"
            "x = torch.nn.Linear(4, 3)(torch.ones(2, 4))\n"
            "assert x.shape == (2, 3) and torch.isfinite(x).all()\n"
            "assert load_torch_libraries() is False\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


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


def test_gui_files_and_functions_stay_short():
    """No file in gui/ over 400 lines and no function over 60 (issue 25): a longer one has a seam to split at."""
    too_long = []
    for path in sorted((ROOT / "timbre_explorer" / "gui").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT).as_posix()
        if len(source.splitlines()) > 400:
            too_long.append(f"{name}: {len(source.splitlines())} lines")
        too_long += [f"{name}: {node.name} ({node.end_lineno - node.lineno + 1} lines)"
                     for node in ast.walk(ast.parse(source))
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and node.end_lineno - node.lineno + 1 > 60]
    assert too_long == []


def test_the_architecture_page_names_every_module():
    """docs/architecture.md's tree is the map a newcomer reads: a module it does not name is a room missing."""
    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    stems = {p.stem for p in (root / "timbre_explorer").rglob("*.py")} - {"__init__", "__main__"}
    assert stems and sorted(s for s in stems if s not in page) == []


def _defined_names(source: str) -> set[str]:
    """Every class, function, method and assigned name a module defines, at any depth."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for t in ast.walk(target):
                    if isinstance(t, ast.Name):
                        names.add(t.id)
                    elif isinstance(t, ast.Attribute):
                        names.add(t.attr)
    return names


def _names_nothing(token: str, package: Path, defined: dict[Path, set[str]]) -> bool:
    """Whether a backticked ``token`` of the architecture page names code the package does not hold."""
    file, _, member = token.partition(": ")
    if file.endswith(".py") and "/" in file:
        found = [p for p in defined if p.as_posix().endswith("/" + file)]
        return not found or bool(member) and member not in defined[found[0]]
    if re.search(r"\.(toml|json|md|safetensors)$", token):  # files a run writes, or the repository's
        return False
    if token.endswith(".py"):  # `cli.py`, `tab.py`
        return not any(package.rglob(token))
    name = re.sub(r"\(.*\)$", "", token)  # `state()`, `MapState.latent_at(x, y)`
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", name):
        return False  # commands, code
    head, _, tail = name.partition(".")
    if not tail:
        everywhere = set().union(*defined.values()) | {p.stem for p in defined} | {"TYPE_CHECKING"}
        return ("_" in name or name[0].isupper()) and name not in everywhere
    if any((d / tail).is_dir() or (d / f"{tail}.py").is_file() for d in package.rglob(head)):
        return False  # `gui.views`, `synthesis.space`
    owners = [p for p in defined if p.stem == head] or [p for p, d in defined.items() if head in d]
    return not any(tail in defined[p] for p in owners)


def test_every_name_the_architecture_page_gives_exists():
    """The page names files (``signal/phase.py: render_stream``), module members (``loop.step``), classes and
    functions in backticks: each must still be where it says, or the page misleads the newcomer it is for."""
    root = Path(__file__).resolve().parents[1]
    package = root / "timbre_explorer"
    defined = {p: _defined_names(p.read_text(encoding="utf-8")) for p in package.rglob("*.py")}
    figures = root / "benchmarks" / "run.py"  # the page names benchmark figures too (`label_click_right_of_12`)
    defined[figures] = {n.value for n in ast.walk(ast.parse(figures.read_text(encoding="utf-8")))
                        if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    prose = re.sub(r"```.*?```", "", page, flags=re.S)  # the tree's fenced block: its names are checked above
    tokens = {re.sub(r"\s+", " ", t) for t in re.findall(r"`([^`]+)`", prose)}
    wrong = sorted(t for t in tokens if _names_nothing(t, package, defined))
    assert wrong == [], f"docs/architecture.md names what the package does not hold: {wrong}"


def test_every_test_file_that_needs_qt_is_run_by_the_qt_job():
    """``./run.sh test`` runs the files it lists in ``qt_tests`` with Qt and every other file without: a file that
    needs Qt (it imports PySide6, or takes pytest-qt's ``qtbot``) and is not listed fails to import in the first job
    and never runs in the second."""
    script = (ROOT / "run.sh").read_text(encoding="utf-8")
    listed = set(re.search(r"qt_tests=\(([^)]*)\)", script).group(1).split())
    needs_qt = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob("test_*.py")
                if re.search(r"^from PySide6|^import PySide6|^def \w+\([^)]*\bqtbot\b", p.read_text(encoding="utf-8"), re.M)}
    assert sorted(needs_qt - listed) == []
