"""Analysis of new sounds: where an audio file lands in a trained timbre space (the paper's novel instruments).

The same function serves ``timbre-explorer encode`` and the Explorer's drag-and-drop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from timbre_explorer.core.audio_io import AUDIO_SUFFIXES, load_audio
from timbre_explorer.core.dataset import analyse, check_audio
from timbre_explorer.core.descriptors import DESCRIPTORS, descriptors
from timbre_explorer.core.errors import AudioFileError, ParameterError
from timbre_explorer.core.evaluate import encode_frames
from timbre_explorer.core.modelfile import ModelFile
from timbre_explorer.core.nsgt import get_preset, transform_for
from timbre_explorer.core.sources import MIN_SECONDS, from_onset


@dataclass(frozen=True)
class Encoded:
    """One sound in the space."""

    path: str
    z: list[float]  # the representative frame's posterior mean
    trajectory: list[list[float]]  # posterior means of the frames from onset to the end (about 48 per second)
    nearest: list[dict]  # the nearest training instruments: {"instrument", "distance"}
    descriptors: dict[str, float]  # of the representative frame


def instrument_centroids(mf: ModelFile) -> dict[str, np.ndarray]:
    """Latent centroid of each instrument the model trained on (every note of it in the map)."""
    z = mf.tensors["map.z"].numpy()
    inst = mf.tensors["map.instrument"].numpy()
    novel = mf.tensors["map.split"].numpy() == mf.meta["splits"].index("novel")
    names = mf.meta["instruments"]
    return {names[i]: z[(inst == i) & ~novel].mean(0) for i in np.unique(inst[~novel])}


def audio_files(paths) -> list[Path]:
    """The audio files among ``paths``, folders searched recursively, in a stable order."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
        else:
            out.append(p)
    return out


def encode_files(mf: ModelFile, paths, *, neighbours: int = 3) -> tuple[list[Encoded], list[tuple[str, str]]]:
    """Encode every audio file; returns the results and ``(path, reason)`` for each file that could not be."""
    preset = get_preset(mf.meta["preset"])
    sr = int(preset.sample_rate)
    n = round(mf.meta["note_seconds"] * sr)
    model, centroids = mf.build_model(), instrument_centroids(mf)
    nsgt = transform_for(preset, n)
    results, problems = [], []
    for path in audio_files(paths):
        try:
            audio = load_audio(path, sr)
            if audio.size < MIN_SECONDS * sr:
                raise AudioFileError(f"{path}: too short ({1000 * audio.size / sr:.0f} ms)")
            clip = from_onset(audio, n, sr)
            problem = check_audio(clip)
            if problem:
                raise AudioFileError(f"{path}: {problem}")
        except (AudioFileError, ParameterError) as exc:
            problems.append((str(path), str(exc).split(": ", 1)[-1]))
            continue
        f = analyse(clip, preset=preset.name, sustain_s=mf.meta["note_seconds"])
        frames = f.log_magnitude.astype(np.float32)
        traj = encode_frames(model, mf.normalization, frames[int(np.argmax(f.loudness >= f.loudness.max() - 40)):])
        z = encode_frames(model, mf.normalization, frames[f.rep_frame:f.rep_frame + 1])[0]
        dist = sorted((float(np.linalg.norm(z - c)), name) for name, c in centroids.items())
        desc = descriptors(np.exp(frames[f.rep_frame].astype(np.float64)), nsgt)
        results.append(Encoded(str(path), z.round(5).tolist(), traj.round(5).tolist(),
                               [{"instrument": name, "distance": round(d, 4)} for d, name in dist[:neighbours]],
                               {k: round(float(desc[k]), 4) for k in DESCRIPTORS}))
    return results, problems


def write_encoded(path: str | os.PathLike, results: list[Encoded], problems: list[tuple[str, str]]) -> None:
    from dataclasses import asdict

    from timbre_explorer.core.files import write_json

    write_json(path, {"files": [asdict(r) for r in results],
                      "skipped": [{"path": p, "reason": r} for p, r in problems]})
