"""The package's data files reach both installs: pyproject's package-data (pip) and the PyInstaller spec (the
packaged app, whose smoke test once failed on a schema left out). Read from the files' text, without building."""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "timbre_explorer"
SPEC = ROOT / "packaging" / "timbre-explorer.spec"


def package_files() -> set[str]:
    """Every file of the package that is not Python, as a path from the checkout's root."""
    return {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}


def declared_package_data() -> set[str]:
    """The package's files that pyproject's ``[tool.setuptools.package-data]`` patterns match."""
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    declared = set()
    for package, patterns in table.items():
        folder = ROOT / package.replace(".", "/")
        for path in package_files():
            inside = (ROOT / path).relative_to(folder).as_posix() if (ROOT / path).is_relative_to(folder) else None
            if inside is not None and any(fnmatch.fnmatch(inside, p) for p in patterns):
                declared.add(path)
    return declared


def spec_package_data() -> set[str]:
    """The spec's ``PACKAGE_DATA`` list, read from its text (a literal, so it needs no PyInstaller to read)."""
    for node in ast.parse(SPEC.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["PACKAGE_DATA"]:
            return set(ast.literal_eval(node.value))
    raise AssertionError(f"{SPEC} has no PACKAGE_DATA list")


def test_every_data_file_of_the_package_is_package_data_and_in_the_spec():
    files = package_files()
    assert "timbre_explorer/core/model/card.schema.json" in files  # what the frozen app failed to open
    assert files - declared_package_data() == set(), "not in pyproject's [tool.setuptools.package-data]"
    assert files - spec_package_data() == set(), f"not in {SPEC.name}'s PACKAGE_DATA"
    assert spec_package_data() - files == set(), f"{SPEC.name}'s PACKAGE_DATA names files the package lacks"


def test_the_spec_collects_its_package_data_at_their_place_in_the_package():
    """PACKAGE_DATA is passed to Analysis' datas, each file into its own folder (where ``Path(__file__)`` finds it)."""
    datas = next(k.value for n in ast.walk(ast.parse(SPEC.read_text())) if isinstance(n, ast.Call)
                 and getattr(n.func, "id", None) == "Analysis" for k in n.keywords if k.arg == "datas")
    assert "for name in PACKAGE_DATA" in ast.unparse(datas) and "Path(name).parent" in ast.unparse(datas)


class _Collected(Exception):
    """Raised by the stand-in for PyInstaller's Analysis, carrying what the spec asked it to collect."""

    def __init__(self, datas):
        self.datas = datas


def spec_datas() -> list[tuple[Path, str]]:
    """The spec's data files as (source, folder in the bundle), from running the spec up to its Analysis."""
    def analysis(*_, datas, **__):
        raise _Collected(datas)

    try:
        exec(compile(SPEC.read_text(), str(SPEC), "exec"), {"SPECPATH": str(SPEC.parent), "Analysis": analysis})
    except _Collected as collected:
        return [(Path(src), dest) for src, dest in collected.datas]
    raise AssertionError(f"{SPEC} never calls Analysis")


def bundled(datas: list[tuple[Path, str]]) -> set[str]:
    """Each file the bundle will hold through ``datas``, as a path from the bundle's root (folders taken whole)."""
    out = set()
    for src, dest in datas:
        files = [p for p in src.rglob("*") if p.is_file()] if src.is_dir() else [src]
        for f in files:
            out.add((Path(dest) / (f.relative_to(src) if src.is_dir() else f.name)).as_posix())
    return out


def test_every_file_the_app_reads_at_run_time_is_collected_by_the_spec_at_its_place():
    """What the frozen app opens through paths.py (the default model, resources/: icons, ratings, the README and the
    screenshots its tour shows: Help → User guide), and the package's own data files, each where the frozen app looks
    for it (paths.ROOT is the bundle's folder there)."""
    from timbre_explorer import paths

    inside = bundled(spec_datas())
    read = {(paths.models_dir() / paths.DEFAULT_MODEL_NAME).relative_to(paths.ROOT).as_posix()}
    read |= {p.relative_to(paths.ROOT).as_posix() for p in paths.resources_dir().rglob("*") if p.is_file()}
    read |= package_files()
    guide = paths.readme_path()
    read |= {guide.relative_to(paths.ROOT).as_posix()}
    read |= {(guide.parent / name).relative_to(paths.ROOT).as_posix()
             for name in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", guide.read_text())}
    assert any(name.startswith("docs/") for name in read)
    assert read - inside == set(), "read at run time, not collected by the spec"
