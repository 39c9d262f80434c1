"""The package's data files reach both installs: pyproject's package-data (pip) and the PyInstaller spec (the
packaged app, whose smoke test once failed on a schema left out). Read from the files' text, without building."""

from __future__ import annotations

import ast
import fnmatch
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
