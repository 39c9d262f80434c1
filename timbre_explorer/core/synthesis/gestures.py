"""What each gesture plays, decided once for the Explorer, the command line and the benchmarks.

A click on the map, a dropped sound played back, ``render --point`` and the
benchmark's click all turn a latent point into sound with :func:`point_note`:
a conditioned model plays the point as a key at a pitch and dynamic (its
sustain loop held, :func:`~timbre_explorer.core.synthesis.playable.playable_note`),
an unconditioned one holds its decoded frame under an envelope. The spectrum
it returns is the one that sounds (decoded at that pitch and dynamic), so what
the Explorer shows is what it plays.

One point sounds the same however it is played: a click, a key, a slider
move, a path, a drag or a MIDI note all play at the Play tab's pitch and
dynamic, and every one at the level :func:`~timbre_explorer.core.synthesis.synth.dynamic_level_db` gives that
dynamic.

The points and notes a user names (``Flute``, latent values, an audio file, a
note like ``Flute:72:mf``) are read here too (:func:`parse_point`,
:func:`parse_trajectory`), and the paths made of them: a note morph
(:func:`morph_spec`) and a descriptor curve (:func:`curve_spec`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import AudioFileError, ParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.morph import NoteTrajectory
    from timbre_explorer.core.synthesis.pathfile import PathSpec
    from timbre_explorer.core.synthesis.playable import PlayableNote
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.core.synthesis.synth import Envelope

DEFAULT_PLAY_PITCH = 60  # middle C: the Play tab's and render's pitch unless one is chosen


@dataclass(frozen=True, eq=False)
class PointNote:
    """The note a latent point plays: its samples, the spectrum that was decoded for it and that spectrum's
    descriptors, and (a conditioned model) the playable note it was held from, which the keys reuse."""

    samples: np.ndarray  # [n] float32 mono
    sample_rate: int
    frame: np.ndarray  # [bins] magnitudes: the held spectrum, at the note's pitch and dynamic
    descriptors: dict[str, float]
    pitch: float
    dynamic: str
    playable: PlayableNote | None = None  # None for an unconditioned model


def default_dynamic(space: TimbreSpace) -> str:
    """The dynamic a point plays at unless one is chosen: mf, else the middle one of the space's dynamics
    ("" for a space without any)."""
    dynamics = list(space.dynamics)
    if not dynamics:
        return ""
    return "mf" if "mf" in dynamics else dynamics[len(dynamics) // 2]


def dynamic_of_velocity(space: TimbreSpace, velocity: int) -> str:
    """The dynamic a key velocity (1-127) plays: its share of the space's dynamics ("" without any)."""
    dynamics = list(space.dynamics)
    return dynamics[min(len(dynamics) - 1, int(velocity) * len(dynamics) // 128)] if dynamics else ""


def point_note(space: TimbreSpace, z: ArrayLike, *, pitch: float, dynamic: str, seconds: float,
               envelope: Envelope | None = None, level_db: float | None = None) -> PointNote:
    """The note latent point ``z`` plays, ``seconds`` long (see the module docstring).

    A conditioned model plays it at MIDI ``pitch`` and ``dynamic`` (one of ``space.dynamics``), or at
    ``level_db`` dBFS RMS when given (a user's sound at its measured loudness); ``envelope`` (default
    :class:`~timbre_explorer.core.synthesis.synth.Envelope`'s) shapes an unconditioned model's note, which plays
    what its point encodes. A conditioned model's note lasts at least its attack and release (under a second).
    """
    from timbre_explorer.core.synthesis.playable import playable_note
    from timbre_explorer.core.synthesis.synth import Envelope, at_level, note

    z = np.asarray(z, np.float64)
    playable = None
    if space.conditioned:
        playable = playable_note(space, z, pitch=pitch, dynamic=dynamic)
        frame = space.decode(z, pitch=pitch, dynamic=dynamic if dynamic in space.levels else None)
        audio = playable.held(seconds)
        if level_db is not None:
            audio = at_level(audio, space.sample_rate, level_db, skip_s=playable.loop_start / playable.sample_rate)
    else:
        frame = space.decode(z)
        audio = note(space, frame, seconds=seconds, envelope=envelope or Envelope())
    descriptors = {k: float(v) for k, v in space.describe(frame).items()}
    return PointNote(np.asarray(audio, np.float32), space.sample_rate, frame.numpy(), descriptors, float(pitch),
                     dynamic, playable)


# ---------------------------------------------------------------------------------------------------- what users name
def parse_point(space: TimbreSpace, text: str) -> np.ndarray:
    """A latent point from an instrument name (its centroid), an audio file (placed as ``encode`` places it) or
    comma-separated latent values."""
    from timbre_explorer.core.synthesis.analysis import encode_files

    z = None if Path(text).is_file() else _instrument_or_values(space, text)
    if z is not None:
        return z
    if _looks_like_file(text):
        results, problems = encode_files(space, [text])
        if problems:
            raise AudioFileError(f"{problems[0][0]}: {problems[0][1]}")
        return np.asarray(results[0].z, np.float64)
    hint = " (a SoundFont note like Flute:72:mf needs --morph)" if ":" in text else ""
    raise ParameterError(f"{text!r} is not an instrument of this model ({', '.join(space.centroids)}), an audio "
                         f"file, or {space.latent_size} comma-separated latent values{hint}")


def parse_trajectory(space: TimbreSpace, text: str) -> NoteTrajectory:
    """A note's latent trajectory for a morph: an audio file or a SoundFont note (``Flute:72:mf``); an instrument
    or latent values hold still, at middle C and mf."""
    from timbre_explorer.core.model.vae import DEFAULT_PITCH
    from timbre_explorer.core.synthesis.morph import NoteTrajectory, note_audio, note_trajectory, spec_pitch

    z = None if Path(text).is_file() else _instrument_or_values(space, text)
    if z is not None:
        return NoteTrajectory(np.asarray(z)[None], np.array([space.level_of()]), DEFAULT_PITCH)
    return note_trajectory(space, note_audio(space, text), spec_pitch(text))


def _instrument_or_values(space: TimbreSpace, text: str) -> np.ndarray | None:
    from timbre_explorer.core.data.instruments import canonical_name

    by_name = {name.lower(): z for name, z in space.centroids.items()}
    for key in (text.strip().lower(), canonical_name(text).lower()):
        if key in by_name:
            return np.asarray(by_name[key], np.float64)
    if "," in text or _is_number(text):
        try:
            values = np.array([float(v) for v in text.split(",")])
        except ValueError:
            raise ParameterError(f"{text!r}: latent values must be numbers separated by commas") from None
        if values.shape != (space.latent_size,) or not np.all(np.isfinite(values)):
            raise ParameterError(f"{text!r}: this model's latent points have {space.latent_size} finite values, "
                                 f"got {values.size}")
        return values
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _looks_like_file(text: str) -> bool:
    from timbre_explorer.core.signal.audio_io import AUDIO_SUFFIXES

    return Path(text).is_file() or Path(text).suffix.lower() in AUDIO_SUFFIXES


# ---------------------------------------------------------------------------------------------------- paths
def morph_spec(space: TimbreSpace, start: str, end: str, *, mode: str = "linear",
               seconds: float | None = None) -> PathSpec:
    """The note morph from ``start`` to ``end`` (as :func:`parse_trajectory` reads them) as a path spec, with the
    pitch and levels of each frame for a conditioned model. ``seconds``: by default the longer note's own length,
    or 2 s between two notes that hold still."""
    from timbre_explorer.core.synthesis.morph import frame_rate, morph, morph_conditions
    from timbre_explorer.core.synthesis.pathfile import PathSpec
    from timbre_explorer.core.synthesis.synth import path_steps

    na, nb = parse_trajectory(space, start), parse_trajectory(space, end)
    held = max(len(na.z), len(nb.z)) == 1  # two instruments or points: no note sets the length
    seconds = seconds or (2.0 if held else max(len(na.z), len(nb.z)) / frame_rate(space))
    frames = morph(na.z, nb.z, steps=path_steps(seconds) if held else None, mode=mode)
    return PathSpec(frames.tolist(), mode, float(seconds), "morph", space.name,
                    extra={"from": start, "to": end,
                           **(morph_conditions(na, nb, len(frames)) if space.conditioned else {})})


def curve_spec(space: TimbreSpace, z0: ArrayLike, descriptor: str, shape: str, start: float, end: float, *,
               seconds: float, method: str, pitch: float = DEFAULT_PLAY_PITCH, dynamic: str = "mf") -> PathSpec:
    """A descriptor curve from ``z0`` as a path spec: frames whose ``descriptor`` follows ``shape`` from ``start``
    to ``end`` (:func:`~timbre_explorer.core.synthesis.reach.curve`), each reached from the one before; it plays at
    ``pitch`` and ``dynamic`` (the Play tab's)."""
    from timbre_explorer.core.synthesis.pathfile import PathSpec
    from timbre_explorer.core.synthesis.reach import curve, follow
    from timbre_explorer.core.synthesis.synth import path_steps

    targets = curve(shape, min(path_steps(seconds), 96), start, end)
    frames = follow(space, z0, descriptor, targets, method=method, pitch=pitch, dynamic=dynamic)
    return PathSpec(points=np.asarray(frames).tolist(), mode="linear", seconds=seconds, kind="descriptor",
                    model=space.name, pitch=float(pitch), dynamic=dynamic)


__all__ = ["PointNote", "point_note", "default_dynamic", "dynamic_of_velocity", "parse_point", "parse_trajectory",
           "morph_spec", "curve_spec", "DEFAULT_PLAY_PITCH"]
