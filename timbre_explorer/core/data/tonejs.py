"""tonejs-instruments: real recordings of 18 instruments, fetched from the npm registry into a folder of notes.

The tonejs-instruments project (Nicholas Brosowsky; samples CC BY 3.0) publishes each instrument as an npm package,
``tonejs-instrument-<name>-mp3``, whose tarball holds one file a note, named by its pitch (``As3.mp3``). By the
project's ``sample-source-info.txt`` most are the Versilian Studios Chamber Orchestra 2 recordings; the cello comes
from Freesound, the saxophone and the electric bass and guitar from Karoryfer, the acoustic guitar from the
University of Iowa. So they are real instruments recorded apart from every General MIDI bank here and from the
Philharmonia samples, the trumpet, violin and piano among them, which the Philharmonia backup lacks.

:func:`fetch_tonejs` writes them into a folder, one subfolder a package named as our instrument, which a config's
``sources`` reads as ``folder=DIR``. The project never ships them: each user fetches their own copy. Every tarball is
checked against the registry's integrity hash before a file of it is written, and all the folders of one fetch
land together (:func:`~timbre_explorer.core.files.staged_folder`), so a failed or cancelled fetch leaves the
folder as it was.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import re
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from timbre_explorer.core.errors import Cancelled, ParameterError, TimbreExplorerError
from timbre_explorer.core.files import atomic_path, staged_folder

if TYPE_CHECKING:
    import threading
    from multiprocessing.synchronize import Event as ProcessEvent

#: Our instrument's name: the package's. Organ and harmonium are left out: their stacked stops sound octaves
#: below the pitch a listener hears, which would teach the decoder sub-octaves (as the sample sets' organs).
PACKAGES = {
    "Bassoon": "bassoon", "Cello": "cello", "Clarinet": "clarinet", "Contrabass": "contrabass", "Flute": "flute",
    "FrenchHorn": "french-horn", "Piano": "piano", "Saxophone": "saxophone", "Trombone": "trombone",
    "Trumpet": "trumpet", "Tuba": "tuba", "Violin": "violin", "OrchestralHarp": "harp", "Xylophone": "xylophone",
    "SteelGuitar": "guitar-acoustic", "NylonGuitar": "guitar-nylon", "CleanGuitar": "guitar-electric",
    "FingerBass": "bass-electric",
}
#: What a fetch writes beside the instruments' folders: where they came from, and the credit their licence asks.
RECORD = "tonejs-instruments.json"
CREDIT = ("tonejs-instruments by Nicholas Brosowsky (github.com/nbrosowsky/tonejs-instruments), samples CC BY 3.0: "
          "Versilian Studios Chamber Orchestra 2, Karoryfer Samples, Freesound contributors and the University of "
          "Iowa Electronic Music Studios")
_NOTE_FILE = re.compile(r"^package/([A-G]s?\d(?: v\d)?\.mp3)$")  # 'F2 v2.mp3': a second take
_MAX_TARBALL = 64 << 20


@dataclass(frozen=True)
class FetchedInstrument:
    """One package as it was written: what a fetch reports."""

    instrument: str
    package: str
    version: str
    notes: int


def npm_registry() -> str:
    """The registry to fetch from: npm's own setting (``npm_config_registry``, as npm reads it) or npm's."""
    found = os.environ.get("npm_config_registry") or os.environ.get("NPM_CONFIG_REGISTRY")
    return (found or "https://registry.npmjs.org").rstrip("/")


def fetch_tonejs(folder: str | os.PathLike, instruments: tuple[str, ...] | None = None, *,
                 registry: str | None = None, progress: Callable[[int, int], None] | None = None,
                 cancel: threading.Event | ProcessEvent | None = None) -> list[FetchedInstrument]:
    """Fetch the instruments' packages (default: all of :data:`PACKAGES`) into ``folder``, a subfolder each.

    A folder of the same name already there is replaced only when a previous fetch wrote it (:data:`RECORD` says
    so): someone's own recordings are never overwritten.
    """
    folder = Path(folder)
    chosen = tuple(instruments or PACKAGES)
    unknown = [name for name in chosen if name not in PACKAGES]
    if unknown:
        raise ParameterError(f"tonejs-instruments has no {', '.join(unknown)}: it has {', '.join(PACKAGES)}")
    ours = _fetched_before(folder)
    theirs = [name for name in chosen if (folder / name).exists() and name not in ours]
    if theirs:
        raise ParameterError(f"{folder / theirs[0]} is already there and was not fetched here: fetch into another "
                             "folder, so your own recordings stay as they are")
    registry = (registry or npm_registry()).rstrip("/")
    fetched: list[FetchedInstrument] = []
    made = not folder.exists()
    try:
        with staged_folder(folder) as stage:
            for done, name in enumerate(chosen):
                if progress is not None:
                    progress(done, len(chosen))
                if cancel is not None and cancel.is_set():
                    raise Cancelled("Fetching tonejs-instruments was cancelled: the folder is as it was")
                fetched.append(_fetch_package(registry, name, stage / name, shown=folder / name))
            record = {"credit": CREDIT, "registry": registry,
                      "instruments": {**ours, **{f.instrument: {"package": f.package, "version": f.version,
                                                                 "notes": f.notes} for f in fetched}}}
            (stage / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")
    except BaseException:
        if made:  # the folder this fetch made goes with it (when empty: nothing else is ever removed)
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    if progress is not None:
        progress(len(chosen), len(chosen))
    return fetched


def _fetched_before(folder: Path) -> dict[str, dict]:
    """The instruments a previous fetch wrote into ``folder``, by its record; none when there is none."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        return {str(k): dict(v) for k, v in record["instruments"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _fetch_package(registry: str, instrument: str, into: Path, *, shown: Path) -> FetchedInstrument:
    """One package's notes, written into ``into`` (a staged folder that becomes ``shown``, which errors name)."""
    package = f"tonejs-instrument-{PACKAGES[instrument]}-mp3"
    try:
        meta = json.loads(_get(f"{registry}/{package}", package))
        version = str(meta["dist-tags"]["latest"])
        dist = meta["versions"][version]["dist"]
        tarball, integrity = str(dist["tarball"]), str(dist["integrity"])
    except (ValueError, KeyError, TypeError) as exc:
        raise TimbreExplorerError(f"{registry}/{package}: the registry's answer is not a package's "
                                  f"description ({type(exc).__name__}: {exc})") from None
    data = _get(tarball, package)
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in ("sha512", "sha384", "sha256") or \
            base64.b64encode(hashlib.new(algorithm, data).digest()).decode() != expected:
        raise TimbreExplorerError(f"{tarball}: the download does not match the registry's integrity hash "
                                  f"({algorithm or 'none given'}), so none of {package} was written")
    into.mkdir()
    notes = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive.getmembers():
                m = _NOTE_FILE.match(member.name)
                if m is None or not member.isfile():  # its code and readme; nothing outside the package folder
                    continue
                with atomic_path(into / m.group(1)) as tmp:
                    tmp.write_bytes(archive.extractfile(member).read())  # type: ignore[union-attr]
                notes += 1
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, OSError) and exc.filename is not None:  # a full disk: the file as the user will see it
            raise OSError(exc.errno, exc.strerror, os.fspath(shown / Path(exc.filename).name)) from None
        raise TimbreExplorerError(f"{tarball}: not a package's tarball ({exc})") from None
    if notes == 0:
        raise TimbreExplorerError(f"{tarball}: {package} holds no note files named like As3.mp3")
    return FetchedInstrument(instrument, package, version, notes)


def _get(url: str, package: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (the registry's https or a file://)
            data = answer.read(_MAX_TARBALL + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise TimbreExplorerError(f"{url}: cannot fetch {package} ({reason})") from None
    if len(data) > _MAX_TARBALL:
        raise TimbreExplorerError(f"{url}: larger than any of tonejs-instruments' packages, so it was not fetched")
    return data
