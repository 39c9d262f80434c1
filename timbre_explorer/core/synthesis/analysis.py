"""Analysis of new sounds: where an audio file lands in a trained timbre space (the paper's novel instruments).

The same function serves ``timbre-explorer encode`` and the Explorer's drag-and-drop. A sound is placed by its
whole sounding part (:meth:`~timbre_explorer.core.synthesis.space.TimbreSpace.encode_note`), as the evaluation
across sources places the notes of a sample set the model never heard; its pitch and level are estimated
(:mod:`~timbre_explorer.core.signal.pitch`) for the user and for a pitch-conditioned model.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import AudioFileError, ParameterError
from timbre_explorer.core.signal.audio_io import AUDIO_SUFFIXES, load_audio
from timbre_explorer.core.signal.pitch import estimate_pitch, level_db
from timbre_explorer.core.signal.units import DESCRIPTORS
from timbre_explorer.core.synthesis.morph import analyse_note, sounding

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.space import TimbreSpace


@dataclass(frozen=True)
class Encoded:
    """One sound in the space."""

    path: str
    z: list[float]  # the whole sound's position: the mean of its sounding frames' posterior means
    trajectory: list[list[float]]  # posterior means of the frames from onset to the end (about 48 per second)
    nearest: list[dict]  # the nearest training instruments: {"instrument", "distance"}
    descriptors: dict[str, float]  # of the representative frame
    pitch: float | None  # estimated, MIDI (57.0 is A3); None when unpitched
    loudness_db: float  # the RMS level of its sounding part, dBFS
    warning: str | None = None  # placed, but the user should know (slightly clipped): said after the file's name


def audio_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The audio files among ``paths``, folders searched recursively, in a stable order."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
        else:
            out.append(p)
    return out


def encode_files(space: TimbreSpace, paths: Iterable[str | os.PathLike], *, neighbours: int = 3
                 ) -> tuple[list[Encoded], list[tuple[str, str]]]:
    """Encode every audio file in a :class:`~timbre_explorer.core.synthesis.space.TimbreSpace`.

    Returns the results and ``(path, reason)`` for each file that could not be.
    Notes are analysed as the note morph analyses them
    (:func:`~timbre_explorer.core.synthesis.morph.analyse_note`: short and slightly clipped sounds are
    placed, the latter with a warning).
    """
    results, problems = [], []
    for path in audio_files(paths):
        try:
            note = analyse_note(space, load_audio(path, space.sample_rate))
        except (AudioFileError, ParameterError) as exc:
            problems.append((str(path), str(exc).split(f"{path}: ", 1)[-1]))
            continue
        f = note.features
        frames, part = f.log_magnitude, sounding(f.loudness)
        pitch = estimate_pitch(note.audio, space.sample_rate)
        z = space.encode_note(frames, pitch=pitch, loudness=f.loudness)
        traj = space.encode_log(frames[part], pitch)  # at the estimated pitch, as the position
        desc = space.describe(np.exp(frames[f.rep_frame].astype(np.float64)))
        results.append(Encoded(str(path), z.round(5).tolist(), traj.round(5).tolist(),
                               [{"instrument": name, "distance": round(d, 4)}
                                for name, d in space.nearest_instruments(z, neighbours)],
                               {k: round(float(desc[k]), 4) for k in DESCRIPTORS}, pitch,
                               round(level_db(f.loudness[part]), 2),
                               note.warning))
    return results, problems


def write_encoded(path: str | os.PathLike, results: list[Encoded], problems: list[tuple[str, str]]) -> None:
    from dataclasses import asdict

    from timbre_explorer.core.files import write_json

    write_json(path, {"files": [asdict(r) for r in results],
                      "skipped": [{"path": p, "reason": r} for p, r in problems]})
