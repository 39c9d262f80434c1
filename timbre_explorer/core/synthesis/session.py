"""Session files: what the Explorer keeps of a user's work, so it can be closed and opened again.

One versioned JSON file (``NAME.session.json``) holds the model by path and content hash (SHA-256), the map's
view, the bookmarks, the path with its pitch, dynamic and duration, the user's sounds by path with where they
landed, the sliders' and the Play tab's settings. Plain data only: the GUI's controllers each give and take
their part (``state()`` / ``restore()``), and the command line could read the bookmarks.

A session file comes from anyone (a colleague, a download): only a regular file is read, at most
:data:`MAX_BYTES`, nested at most :data:`MAX_DEPTH` deep, and it must match ``session.schema.json``; every
problem is one sentence naming the file. Latent points are checked against the model when the session is
restored (:meth:`Session.problems`), since the file does not know the model's size until the model opens.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TypeVar, cast

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.files import json_bytes, write_bytes

FORMAT = "timbre-explorer-session"
VERSION = 1
SUFFIX = ".session.json"
MAX_BYTES = 64 << 20  # a path of 100000 frames of a 16-D model, line-broken: about 30 MB
MAX_DEPTH = 16  # a session nests 5 deep; Python's JSON parser recurses into each level
SCHEMA = Path(__file__).with_name("session.schema.json")


@dataclass
class ModelRef:
    """The model a session was made on: its file, and the SHA-256 of its content (a moved file is found by it)."""

    path: str
    sha256: str
    name: str = ""


@dataclass
class MapView:
    """What the map shows: axes (``pca`` or ``discriminant``) and components, colours, the hidden components'
    mode and depth, filters (None: all shown), overlays, and the visible range (None: fitted)."""

    axes: str = "pca"
    dims: list[int] = field(default_factory=lambda: [0, 1, 2])
    colouring: str = "instrument"
    three_d: bool = False
    hidden: str = "data"
    depth: int = 0
    instruments: list[str] | None = None
    pitch: list[int] = field(default_factory=lambda: [0, 127])
    dynamics: list[str] | None = None
    names: bool = True
    mds: bool = False
    pairs: bool = False
    x_range: list[float] | None = None
    y_range: list[float] | None = None


@dataclass
class FieldView:
    """The descriptor field: shown or not, which descriptor, its grid and contour lines."""

    shown: bool = False
    descriptor: str = "centroid"
    grid: int = 100
    contours: int = 6


@dataclass
class Bookmark:
    """A named latent point."""

    name: str
    z: list[float]


@dataclass
class SessionPath:
    """The path: its kind (as a path file's), its vertices or frames, how it plays and at what pitch and dynamic."""

    kind: str
    points: list[list[float]]
    mode: str = "slerp"
    seconds: float = 3.0
    pitch: int = 60
    dynamic: str = ""


@dataclass
class SessionSound:
    """A user's sound file and where it landed (kept: opening the session does not encode it again)."""

    path: str
    z: list[float]
    name: str = ""
    trajectory: list[list[float]] = field(default_factory=list)
    pitch: float | None = None
    loudness_db: float | None = None
    nearest: list[dict] = field(default_factory=list)


@dataclass
class Sliders:
    """The Sliders tab: the search method and the descriptor curve's settings ("": the panel's default)."""

    method: str = ""
    curve_descriptor: str = ""
    curve_shape: str = ""
    curve_start: float = 0.0
    curve_end: float = 0.0
    curve_seconds: float = 2.0


@dataclass
class PlaySettings:
    """The Play tab: the pitch clicks play at, the velocity, the keyboard's lowest C, the cursor's controllers."""

    pitch: int = 60
    velocity: int = 100
    low: int = 60
    keyboard: bool = True
    cc_x: int = -1
    cc_y: int = -1


@dataclass
class Session:
    """A session (see the module docstring)."""

    model: ModelRef
    view: MapView = dataclasses.field(default_factory=MapView)
    field: FieldView = dataclasses.field(default_factory=FieldView)
    selected: list[float] | None = None
    bookmarks: list[Bookmark] = dataclasses.field(default_factory=list)
    path: SessionPath | None = None
    sounds: list[SessionSound] = dataclasses.field(default_factory=list)
    sliders: Sliders = dataclasses.field(default_factory=Sliders)
    play: PlaySettings = dataclasses.field(default_factory=PlaySettings)

    def to_dict(self) -> dict:
        from timbre_explorer import __version__

        return {"format": FORMAT, "version": VERSION, "saved_by": __version__, **dataclasses.asdict(self)}

    def work(self) -> dict:
        """What a user would lose by discarding the session: bookmarks, the path and the sounds (the view and the
        settings come back with the autosave)."""
        d = dataclasses.asdict(self)
        return {k: d[k] for k in ("bookmarks", "path", "sounds")}

    def problems(self, latent: int) -> list[str]:
        """What of this session cannot go on a model of ``latent`` dimensions: one phrase per part."""
        bad = []
        if self.selected is not None and len(self.selected) != latent:
            bad.append("the selected point")
        if any(len(b.z) != latent for b in self.bookmarks):
            bad.append("bookmarks")
        if self.path is not None and any(len(p) != latent for p in self.path.points):
            bad.append("the path")
        if any(len(s.z) != latent or any(len(p) != latent for p in s.trajectory) for s in self.sounds):
            bad.append("sounds")
        return bad


# ---------------------------------------------------------------------------------------------- reading, writing
def write_session(path: str | os.PathLike, session: Session) -> None:
    """Write ``session`` atomically, checked first as :func:`read_session` checks it (a bad one writes nothing)."""
    write_bytes(path, session_bytes(path, session))


def session_bytes(path: str | os.PathLike, session: Session) -> bytes:
    data = session.to_dict()
    try:
        text = json_bytes(data)
    except ValueError:
        raise ParameterError(f"{path}: not a valid session (a value is not a finite number)") from None
    _validate(data, str(path))
    return text


def read_session(path: str | os.PathLike) -> Session:
    """Read and check a session file (see the module docstring)."""
    from timbre_explorer.core.synthesis.userjson import read_user_json

    data = read_user_json(path, "session file", max_bytes=MAX_BYTES, max_depth=MAX_DEPTH)
    _validate(data, str(path))
    return _session(cast(dict, data))  # the schema has made it an object


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's content, read in blocks (a model is up to 512 MB: call it off the GUI thread)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


_Section = TypeVar("_Section")


def _session(data: dict) -> Session:
    def of(cls: type[_Section], d: dict | None) -> _Section:
        return cls(**d) if d is not None else cls()

    return Session(model=ModelRef(**data["model"]), view=of(MapView, data.get("view")),
                   field=of(FieldView, data.get("field")), selected=data.get("selected"),
                   bookmarks=[Bookmark(**b) for b in data.get("bookmarks", [])],
                   path=None if data.get("path") is None else SessionPath(**data["path"]),
                   sounds=[SessionSound(**s) for s in data.get("sounds", [])],
                   sliders=of(Sliders, data.get("sliders")), play=of(PlaySettings, data.get("play")))


@cache
def _schema() -> dict:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


def _validate(data: object, where: str) -> None:
    """Check ``data`` against ``session.schema.json``: the first problem, as its section's description says it."""
    import jsonschema

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ParameterError(f"{where}: not a Timbre Explorer session file (no \"format\": \"{FORMAT}\")")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(_schema()).iter_errors(data))
    if error is None:
        return
    key = str(error.absolute_path[0]) if error.absolute_path else None
    said = _schema()["properties"].get(key, {}).get("description") if key else None
    if said is None:  # a key missing or unknown: the message names it (it holds nothing else of the file)
        said = error.message if error.validator in ("required", "additionalProperties") and len(error.message) < 200 \
            else "the file does not match"
    raise ParameterError(f"{where}: invalid session file ({said})")


__all__ = ["Session", "ModelRef", "MapView", "FieldView", "Bookmark", "SessionPath", "SessionSound", "Sliders",
           "PlaySettings", "read_session", "write_session", "session_bytes", "file_sha256", "FORMAT", "VERSION",
           "SUFFIX"]
