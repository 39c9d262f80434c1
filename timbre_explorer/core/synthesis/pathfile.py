"""Path files: the JSON written beside an exported sound, and what ``timbre-explorer render --path`` reads.

A path file holds latent points and how to play them, so a sound made in
the Explorer can be rendered again (longer, smoother, on another machine)
from the shell::

    {"format": "timbre-explorer-path", "version": 1, "kind": "polyline",
     "model": "model", "mode": "slerp", "seconds": 2.0, "steps": null,
     "pitch": 60, "dynamic": "mf", "points": [[0.1, ...], [0.4, ...]]}

``kind`` says what the points are. For ``points`` and ``polyline`` they are
the corners of a path, walked at even latent speed (``steps`` points, by
default :func:`~timbre_explorer.core.synthesis.synth.path_steps` of the duration);
for ``morph``, ``descriptor`` and ``on_data`` they are already the frames of
the sound, played as they are (``on_data``: a path of corners walked on the
map's mapping, every frame's hidden components from the notes near it,
:func:`walked_on`).

``pitch`` (MIDI) and ``dynamic`` are what a conditioned model plays it at: the
Play tab's, as a click plays (a note morph keeps its notes' own pitch and level
curve in ``extra``). Files written before they were kept play as the app played
them then: middle C, mf.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import AudioFileError, ParameterError
from timbre_explorer.core.files import json_bytes, write_bytes, write_together, writing_together
from timbre_explorer.core.signal.audio_io import export_bytes
from timbre_explorer.core.signal.phase import Cancel
from timbre_explorer.core.synthesis.interpolation import along
from timbre_explorer.core.synthesis.manifold import walk_on
from timbre_explorer.core.synthesis.synth import path_steps, render_path, write_path_wav
from timbre_explorer.core.synthesis.userjson import read_user_json

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.manifold import OnData, Plane
    from timbre_explorer.core.synthesis.space import TimbreSpace

FORMAT = "timbre-explorer-path"
VERSION = 1
KINDS = ("points", "polyline", "morph", "descriptor", "on_data")
FRAME_KINDS = ("morph", "descriptor", "on_data")  # points are the frames themselves
MAX_SECONDS = 600.0  # long paths render in pieces, to a file in the memory of one (render_to_file)
MAX_STEPS = 100_000
MAX_BYTES = 32 << 20  # a 10-minute walked path of a 16-D model, one frame per line-broken point: about 12 MB
MAX_DEPTH = 16  # a path file nests 3 deep; Python's JSON parser recurses into each level
SCHEMA = Path(__file__).with_name("path.schema.json")
DEFAULT_PITCH, DEFAULT_DYNAMIC = 60.0, "mf"  # what a path plays at when its file does not say: the app's, before


@dataclass
class PathSpec:
    """A path through a timbre space and how long it plays."""

    points: list[list[float]]
    mode: str = "linear"
    seconds: float = 2.0
    kind: str = "polyline"
    model: str = ""
    steps: int | None = None
    extra: dict = field(default_factory=dict)  # anything else worth keeping (sources of a morph, a curve)
    pitch: float = DEFAULT_PITCH  # MIDI: what a conditioned model plays it at
    dynamic: str = DEFAULT_DYNAMIC

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "kind": self.kind, "model": self.model, "mode": self.mode,
                "seconds": float(self.seconds), "steps": None if self.steps is None else int(self.steps),
                "pitch": float(self.pitch), "dynamic": self.dynamic,
                **({"extra": self.extra} if self.extra else {}),
                "points": [[round(float(v), 6) for v in p] for p in self.points]}


def write_path(path: str | os.PathLike, spec: PathSpec) -> None:
    """Write ``spec`` as a path file, atomically (checked first: a bad spec writes nothing)."""
    write_bytes(path, path_bytes(path, spec))


def path_bytes(path: str | os.PathLike, spec: PathSpec) -> bytes:
    """The path file ``path`` would hold for ``spec``, checked as :func:`read_path` checks it."""
    try:
        data = spec.to_dict()
        text = json_bytes(data)  # ValueError: NaN or infinite
    except TypeError as exc:
        raise ParameterError(f"{path}: not a valid path ({exc})") from None
    except ValueError:
        raise ParameterError(f"{path}: not a valid path (a value is not a finite number)") from None
    _validate(data, str(path), latent=None)
    return text


def write_sound_with_path(wav: str | os.PathLike, audio: ArrayLike, sample_rate: int, spec: PathSpec) -> Path:
    """A sound (at ``sample_rate``, written at the export rate) and its path file (the same name, ``.json``)
    written as one unit (:func:`write_together`): both or neither, and both from this call even when another
    writes the same files at once; the path file's path."""
    wav = Path(wav)
    sidecar = wav.with_suffix(".json")
    contents = {wav: export_bytes(wav, audio, sample_rate), sidecar: path_bytes(sidecar, spec)}
    try:
        write_together(contents)
    except OSError as exc:
        raise AudioFileError(f"{exc.filename or wav}: cannot write ({exc.strerror or exc}); neither {wav.name} nor "
                             f"{sidecar.name} was written") from None
    return sidecar


def render_to_file(space: TimbreSpace, spec: PathSpec, wav: str | os.PathLike, *, cancel: Cancel = None,
                   progress: Callable[[float], None] | None = None) -> Path:
    """Render ``spec`` straight to ``wav`` with its path file, as :func:`write_sound_with_path` writes them (both
    or neither, atomically), in the memory of one piece for any length (:func:`~timbre_explorer.core.synthesis.
    synth.write_path_wav`); the path file's path.

    For a worker with a progress bar and a Cancel button: ``progress(fraction)`` is called as each piece of a
    few seconds is done, up to 1.0 (the file is written just after); ``cancel`` (a ``threading.Event``, or a
    callable that returns True to stop) is polled between iterations, and a cancelled render raises
    :class:`~timbre_explorer.core.errors.Cancelled` leaving neither file, nor any temporary, behind.
    """
    wav = Path(wav)
    sidecar = wav.with_suffix(".json")
    text = path_bytes(sidecar, spec)  # a bad spec writes nothing
    frames = spec_frames(space, spec)
    try:
        with writing_together([wav, sidecar]) as temps:
            write_path_wav(temps[wav], space, frames, seconds=spec.seconds, cancel=cancel, progress=progress,
                           **spec_conditions(spec))
            temps[sidecar].write_bytes(text)
    except AudioFileError as exc:
        raise AudioFileError(f"{wav}: {exc}") from None
    except OSError as exc:
        raise AudioFileError(f"{exc.filename or wav}: cannot write ({exc.strerror or exc}); neither {wav.name} nor "
                             f"{sidecar.name} was written") from None
    return sidecar


def read_path(path: str | os.PathLike, *, latent: int | None = None) -> PathSpec:
    """Read and check a path file; ``latent`` is the size its points must have (the model's), if known.

    Path files come from anyone (a sound's sidecar, sent along): only a regular file is read (a FIFO or a
    device would hang or fill memory), at most :data:`MAX_BYTES`, nested at most :data:`MAX_DEPTH` deep
    (Python's parser recurses), and it must match ``path.schema.json``.
    """
    data = read_user_json(path, "path file", max_bytes=MAX_BYTES, max_depth=MAX_DEPTH)
    return _validate(data, str(path), latent=latent)


@cache
def _schema() -> dict:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


def _validate(data: object, where: str, *, latent: int | None) -> PathSpec:
    """Check ``data`` against ``path.schema.json`` (the first problem, as its property's description says it),
    then what a schema cannot say: every point has the model's latent size, and per-frame conditions one
    value per frame."""
    import jsonschema

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ParameterError(f"{where}: not a Timbre Explorer path file (no \"format\": \"{FORMAT}\")")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(_schema()).iter_errors(data))
    if error is not None:
        key = str(error.absolute_path[0]) if error.absolute_path else None
        said = _schema()["properties"].get(key, {}).get("description") if key else None
        if said is None:  # a required key missing: the message names it, and holds nothing of the file
            said = error.message if error.validator == "required" else "the file does not match"
        raise ParameterError(f"{where}: invalid path file ({said})")
    points = data["points"]
    size = latent if latent is not None else len(points[0])
    for i, p in enumerate(points):
        if len(p) != size:
            raise ParameterError(f"{where}: point {i + 1} must be a list of {size} latent values, got {len(p)}")
    kind, extra = data.get("kind", "polyline"), data.get("extra", {})
    frames = len(points) if kind in FRAME_KINDS else 1  # a path of corners plays at one pitch and level
    for name in ("pitch", "levels"):
        n = len(extra[name]) if isinstance(extra.get(name), list) else 1
        if n not in (1, frames):
            raise ParameterError(f"{where}: extra {name} holds {n} values; this {kind} path plays "
                                 f"{'its ' + str(frames) + ' frames' if frames > 1 else 'one'}: give one value"
                                 f"{' or one per frame' if frames > 1 else ''}")
    return PathSpec([[float(v) for v in p] for p in points], data.get("mode", "linear"), float(data["seconds"]),
                    kind, data.get("model", ""), data.get("steps"), extra, float(data.get("pitch", DEFAULT_PITCH)),
                    data.get("dynamic", DEFAULT_DYNAMIC))


def spec_frames(space: TimbreSpace, spec: PathSpec) -> np.ndarray:
    """The latent frames ``[n, latent]`` a spec plays in ``space``: its points walked, or the points themselves."""
    p = np.asarray(spec.points, np.float64)
    if p.ndim != 2 or p.shape[1] != space.latent_size:
        raise ParameterError(f"the path's points have {p.shape[-1] if p.ndim else 0} values but this model's latent "
                             f"points have {space.latent_size}")
    if spec.kind in FRAME_KINDS:
        return p
    return along(p, spec.steps or path_steps(spec.seconds), mode=spec.mode)


def walked_on(space: TimbreSpace, spec: PathSpec, surface: Plane | OnData | None) -> PathSpec:
    """A path of corners walked on the map's ``surface`` (:func:`~timbre_explorer.core.synthesis.manifold.walk_on`):
    its frames, each put where the map puts a click at its position, as a spec of kind ``on_data`` that plays
    the same from a file. Frames of a morph or a curve, or no surface (the plane mode: the paper's path
    through the whole latent space), leave it as it is."""
    if surface is None or spec.kind in FRAME_KINDS:
        return spec
    frames = walk_on(surface, spec_frames(space, spec))
    return PathSpec(points=frames.tolist(), mode=spec.mode, seconds=spec.seconds, kind="on_data", model=spec.model,
                    extra={**spec.extra, "corners": spec.kind}, pitch=spec.pitch, dynamic=spec.dynamic)


def render_spec(space: TimbreSpace, spec: PathSpec, *, cancel: Cancel = None,
                progress: Callable[[float], None] | None = None) -> np.ndarray:
    """The sound of a path spec (float32 at the space's rate, ``spec.seconds`` long); ``cancel`` and
    ``progress`` as for :func:`~timbre_explorer.core.synthesis.synth.render_path`."""
    return render_path(space, spec_frames(space, spec), seconds=spec.seconds, cancel=cancel, progress=progress,
                       **spec_conditions(spec))


def spec_conditions(spec: PathSpec) -> dict:
    """What a conditioned model plays a spec at, as render_path's keywords: a note morph's own pitch and levels
    (per frame) where it keeps them, else its ``pitch`` and ``dynamic``."""
    kept = {k: np.asarray(spec.extra[k], np.float32) for k in ("pitch", "levels") if k in spec.extra}
    return {"pitch": np.float32(spec.pitch), "dynamic": spec.dynamic, **kept}


__all__ = ["PathSpec", "write_path", "write_sound_with_path", "render_to_file", "read_path", "render_spec", "spec_frames", "walked_on", "KINDS", "FORMAT",
           "VERSION"]
