"""Path files: the JSON written beside an exported sound, and what ``timbre-explorer render --path`` reads.

A path file holds latent points and how to play them, so a sound made in
the Explorer can be rendered again (longer, smoother, on another machine)
from the shell::

    {"format": "timbre-explorer-path", "version": 1, "kind": "polyline",
     "model": "model", "mode": "slerp", "seconds": 2.0, "steps": null,
     "points": [[0.1, ...], [0.4, ...]]}

``kind`` says what the points are. For ``points`` and ``polyline`` they are
the corners of a path, walked at even latent speed (``steps`` points, by
default :func:`~timbre_explorer.core.synthesis.synth.path_steps` of the duration);
for ``morph``, ``descriptor`` and ``on_data`` they are already the frames of
the sound, played as they are (``on_data``: a path of corners walked on the
map's mapping, every frame's hidden components from the notes near it,
:func:`walked_on`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeGuard

import numpy as np

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.files import write_json
from timbre_explorer.core.synthesis.manifold import walk_on
from timbre_explorer.core.synthesis.synth import INTERPOLATIONS, along, path_steps, render_path

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.manifold import OnData, Plane
    from timbre_explorer.core.synthesis.space import TimbreSpace

FORMAT = "timbre-explorer-path"
VERSION = 1
KINDS = ("points", "polyline", "morph", "descriptor", "on_data")
FRAME_KINDS = ("morph", "descriptor", "on_data")  # points are the frames themselves
MAX_SECONDS = 600.0  # long paths render in pieces: memory stays flat, about 0.1 s per second of sound
MAX_STEPS = 100_000


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

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "kind": self.kind, "model": self.model, "mode": self.mode,
                "seconds": float(self.seconds), "steps": None if self.steps is None else int(self.steps),
                **({"extra": self.extra} if self.extra else {}),
                "points": [[round(float(v), 6) for v in p] for p in self.points]}


def write_path(path: str | os.PathLike, spec: PathSpec) -> None:
    """Write ``spec`` as a path file, atomically (checked first: a bad spec writes nothing)."""
    try:
        data = spec.to_dict()
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{path}: not a valid path ({exc})") from None
    _validate(data, str(path), latent=None)
    write_json(path, data)


def read_path(path: str | os.PathLike, *, latent: int | None = None) -> PathSpec:
    """Read and check a path file; ``latent`` is the size its points must have (the model's), if known."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise ParameterError(f"{path}: no such path file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{path}: not a JSON file ({exc.msg}, line {exc.lineno})") from None
    return _validate(data, str(path), latent=latent)


def _validate(data, where: str, *, latent: int | None) -> PathSpec:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ParameterError(f"{where}: not a Timbre Explorer path file (no \"format\": \"{FORMAT}\")")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION or version < 1:
        raise ParameterError(f"{where}: path file version {version!r} is not one this version reads (1 to {VERSION})")
    kind = data.get("kind", "polyline")
    if kind not in KINDS:
        raise ParameterError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    mode = data.get("mode", "linear")
    if mode not in INTERPOLATIONS:
        raise ParameterError(f"{where}: mode must be one of {', '.join(INTERPOLATIONS)}, got {mode!r}")
    seconds = data.get("seconds")
    if not _number(seconds) or not 0 < seconds <= MAX_SECONDS:
        raise ParameterError(f"{where}: seconds must be a number above 0 and at most {MAX_SECONDS:g}, got {seconds!r}")
    steps = data.get("steps")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= MAX_STEPS):
        raise ParameterError(f"{where}: steps must be a whole number from 2 to {MAX_STEPS}, or null, got {steps!r}")
    model = data.get("model", "")
    if not isinstance(model, str):
        raise ParameterError(f"{where}: model must be a name, got {model!r}")
    extra = data.get("extra", {})
    if not isinstance(extra, dict):
        raise ParameterError(f"{where}: extra must be an object, got {type(extra).__name__}")
    points = data.get("points")
    if not isinstance(points, list) or len(points) < 2:
        raise ParameterError(f"{where}: a path needs at least 2 points, got "
                             f"{len(points) if isinstance(points, list) else 'none'}")
    size = latent if latent is not None else (len(points[0]) if isinstance(points[0], list) else -1)
    for i, p in enumerate(points):
        if not isinstance(p, list) or len(p) != size or size < 1:
            got = len(p) if isinstance(p, list) else type(p).__name__
            raise ParameterError(f"{where}: point {i + 1} must be a list of {size} latent values, got {got}")
        if not all(_number(v) for v in p):
            raise ParameterError(f"{where}: point {i + 1} holds a value that is not a finite number")
    return PathSpec([[float(v) for v in p] for p in points], mode, float(seconds), kind, model, steps, extra)


def _number(v: object) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


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
                    extra={**spec.extra, "corners": spec.kind})


def render_spec(space: TimbreSpace, spec: PathSpec, *, cancel: Callable[[], bool] | None = None,
                progress: Callable[[float], None] | None = None) -> np.ndarray:
    """The sound of a path spec (float32 at the space's rate, ``spec.seconds`` long); ``cancel`` and
    ``progress`` as for :func:`~timbre_explorer.core.synthesis.synth.render_path`."""
    return render_path(space, spec_frames(space, spec), seconds=spec.seconds, cancel=cancel, progress=progress,
                       **spec_conditions(spec))


def spec_conditions(spec: PathSpec) -> dict:
    """The pitch and levels a spec keeps for a conditioned model (a note morph's, per frame), as render_path's
    keywords; empty when it keeps none."""
    return {k: np.asarray(spec.extra[k], np.float32) for k in ("pitch", "levels") if k in spec.extra}


__all__ = ["PathSpec", "write_path", "read_path", "render_spec", "spec_frames", "walked_on", "KINDS", "FORMAT",
           "VERSION"]
