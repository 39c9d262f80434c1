"""The note morph: from one real note to another, frame by frame, attack and decay included.

The map holds one frame per note (its representative frame), and a path
between two map points holds a steady sound. Here every frame of two real
notes is encoded instead (their *trajectories* in the latent space), both are
stretched to one length, and frame ``i`` of the morph lies a share
``i / (steps - 1)`` of the way from frame ``i`` of the first note to frame
``i`` of the second: the morph starts as the first note's own attack and ends
in the second note's own decay.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.data.dataset import (
    CLIP_FRACTION,
    NoteFeatures,
    analyse,
    check_audio,
    clipped_share,
    pool_for,
    sounding,
)
from timbre_explorer.core.data.instruments import BY_NAME, DYNAMICS, canonical_name, parse_pitch
from timbre_explorer.core.data.sources import NoteSpec, SoundFontSource, find_soundfont, from_onset
from timbre_explorer.core.errors import AudioFileError, ParameterError
from timbre_explorer.core.signal.audio_io import AUDIO_SUFFIXES, load_audio
from timbre_explorer.core.synthesis.interpolation import blend

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.space import TimbreSpace

_SPEC = re.compile(r"^\s*([^:]+?)\s*:\s*([^:]+?)\s*:\s*([^:]+?)\s*$")
SPEC_HELP = "Instrument:pitch:dynamic, e.g. Flute:72:mf or Oboe:A4:ff"
#: A user's sound this short or longer is placed (padded with silence to the analysed length); the dataset's
#: own notes need 100 ms (:data:`~timbre_explorer.core.data.sources.MIN_SECONDS`). 20 ms is one stored frame.
MIN_USER_SECONDS = 0.02
#: A user's sound with more than this share of its samples at full scale is refused; from the dataset's
#: threshold (0.1 %) to this one it is placed with a warning. Measured on the bundled model with MuseScore_General
#: notes driven into clipping (``benchmarks/user_sounds.py``): at 1 % the clipping moves a note a median 7 % of
#: the median distance between instrument centroids and its nearest instrument stays for 92 % of the notes; at
#: 2 % for 81 %, at 5 % (the move 23 %) for 75 %: beyond 1 % the distortion, more than the instrument, decides
#: where a sound lands.
MAX_CLIPPED_SHARE = 0.01


@dataclass(frozen=True)
class UserNote:
    """A user's sound as analysed: its features, the audio they were taken from (``space.note_seconds`` from
    its onset, padded with silence) and a warning for the user (one sentence), or None."""

    features: NoteFeatures
    audio: np.ndarray
    warning: str | None


def frame_rate(space: TimbreSpace) -> float:
    """Frames per second of the space's analysis (about 48): the time base of a trajectory."""
    pool = pool_for(space.preset.name, space.note_seconds, space.sample_rate)
    return (space.nsgt.n_frames // pool) / space.note_seconds


def analyse_note(space: TimbreSpace, audio: np.ndarray) -> UserNote:
    """A user's note as the dataset analyses notes (:func:`~timbre_explorer.core.data.dataset.analyse`):
    from its onset, ``space.note_seconds`` long (a shorter sound padded with silence), at the space's frame rate.

    More lenient than the dataset, whose notes train the model: a sound from :data:`MIN_USER_SECONDS` on is
    placed, and so is one slightly clipped (up to :data:`MAX_CLIPPED_SHARE` of its samples at full scale),
    with a warning. Raises :class:`AudioFileError` with the reason (too short, silent, clipped...) as its
    message.
    """
    a = np.asarray(audio, np.float32).reshape(-1)
    sr = space.sample_rate
    check_length(a, sr)
    problem = check_audio(a, max_clipped=MAX_CLIPPED_SHARE)
    if problem:
        raise AudioFileError(problem)
    warning = None
    clipped = clipped_share(a)
    if clipped > CLIP_FRACTION:
        warning = (f"{100 * clipped:.1f} % of its samples are at full scale (clipped); placed anyway, "
                   "the distortion may move it")
    clip = from_onset(a, round(space.note_seconds * sr), sr)
    return UserNote(analyse(clip, preset=space.preset.name, sustain_s=space.note_seconds), clip, warning)


def check_length(audio: np.ndarray, sample_rate: int) -> None:
    """:class:`AudioFileError` for a sound shorter than :data:`MIN_USER_SECONDS`, naming its length."""
    if audio.size < round(MIN_USER_SECONDS * sample_rate):
        raise AudioFileError(f"too short ({1000 * audio.size / sample_rate:.0f} ms; at least "
                             f"{1000 * MIN_USER_SECONDS:.0f} ms)")


@dataclass(frozen=True)
class NoteTrajectory:
    """A real note's sounding frames in a space: posterior means ``z [frames, latent]``, each frame's level
    (mean log-magnitude) and the note's MIDI pitch: what a conditioned model needs to play the note back."""

    z: np.ndarray
    levels: np.ndarray
    pitch: float


def note_trajectory(space: TimbreSpace, audio: np.ndarray, pitch: float | None = None) -> NoteTrajectory:
    """:func:`trajectory` with the frames' levels; ``pitch`` as given (a note spec's), else estimated (middle C
    for an unpitched sound)."""
    import torch

    from timbre_explorer.core.model.vae import DEFAULT_PITCH, split_level
    from timbre_explorer.core.signal.pitch import estimate_pitch

    f = analyse_note(space, audio).features
    frames = f.log_magnitude[sounding(f.loudness)]
    if pitch is None:
        pitch = estimate_pitch(audio, space.sample_rate)
    pitch = DEFAULT_PITCH if pitch is None else float(pitch)
    low = space.model.config.encoded_bins  # the level the model reads: of the bins its encoder sees
    levels = split_level(torch.from_numpy(np.asarray(frames, np.float32)[:, :low]))[1].numpy()
    return NoteTrajectory(space.encode_log(frames, pitch), levels, pitch)


def morph_conditions(a: NoteTrajectory, b: NoteTrajectory, steps: int) -> dict[str, list[float]]:
    """The pitch and level of each of a morph's ``steps`` frames: each note's levels stretched to ``steps`` and
    blended as the latent frames are, the pitch glided; a path file keeps them (see pathfile.spec_conditions)."""
    t = np.linspace(0.0, 1.0, steps)
    levels = (1 - t) * resample(a.levels[:, None], steps)[:, 0] + t * resample(b.levels[:, None], steps)[:, 0]
    return {"pitch": ((1 - t) * a.pitch + t * b.pitch).round(3).tolist(), "levels": levels.round(4).tolist()}


def trajectory(space: TimbreSpace, audio: np.ndarray) -> np.ndarray:
    """Posterior means ``[frames, latent]`` of a note's sounding frames (:func:`analyse_note`, :func:`sounding`).

    The model learnt sustained frames: attacks and decays come back close
    but not exact (a few dB quieter at the very start).
    """
    f = analyse_note(space, audio).features
    return space.encode_log(f.log_magnitude[sounding(f.loudness)])


def note_audio(space: TimbreSpace, source: str | os.PathLike) -> np.ndarray:
    """A real note, ``space.note_seconds`` from its onset: an audio file, or a SoundFont note spec.

    A spec is ``Instrument:pitch:dynamic`` (pitch a MIDI number or a note
    name, dynamic one of pp p mf f ff), rendered with the system's General
    MIDI SoundFont.
    """
    sr = space.sample_rate
    n = round(space.note_seconds * sr)
    text = os.fspath(source)
    path = Path(text)
    if path.is_file() or path.suffix.lower() in AUDIO_SUFFIXES:
        audio = load_audio(path, sr)
        try:
            check_length(audio, sr)
        except AudioFileError as exc:
            raise AudioFileError(f"{path}: {exc}") from None
        return from_onset(audio, n, sr)
    spec = parse_spec(text)
    if spec is None:
        raise ParameterError(f"{text!r} is neither an audio file nor a note ({SPEC_HELP})")
    (rendered,) = SoundFontSource(str(find_soundfont())).render([spec], sr)
    return from_onset(np.asarray(rendered, np.float32), n, sr)


def spec_pitch(text: str) -> float | None:
    """The pitch of a note spec (``Flute:72:mf``); None for an audio file or anything else (the pitch of a
    sound is then estimated; a malformed spec is reported where the note is rendered)."""
    if Path(text).is_file():
        return None
    try:
        spec = parse_spec(text)
    except ParameterError:
        return None
    return None if spec is None else float(spec.pitch)


def parse_spec(text: str) -> NoteSpec | None:
    """``Instrument:pitch:dynamic`` as a SoundFont :class:`NoteSpec`; None if ``text`` is not shaped like one.

    Raises :class:`ParameterError` naming the part that is wrong when it is.
    """
    m = _SPEC.match(text)
    if not m:
        return None
    name, pitch_text, dynamic = m.groups()
    inst = BY_NAME.get(canonical_name(name))
    if inst is None:
        raise ParameterError(f"{name!r} is not a General MIDI instrument Timbre Explorer knows "
                             f"({', '.join(sorted(BY_NAME))})")
    pitch = int(pitch_text) if pitch_text.lstrip("-").isdigit() else parse_pitch(pitch_text)
    if pitch is None or not 0 <= pitch <= 127:
        raise ParameterError(f"{pitch_text!r} is not a pitch: give a MIDI number (0-127) or a note name like C5")
    dynamic = dynamic.lower()
    if dynamic not in DYNAMICS:
        raise ParameterError(f"{dynamic!r} is not a dynamic: one of {', '.join(DYNAMICS)}")
    return NoteSpec(inst.name, f"SOUNDFONT#{inst.program}/{pitch}/{DYNAMICS[dynamic]}", pitch, dynamic,
                    DYNAMICS[dynamic], inst.program)


def resample(traj: np.ndarray, steps: int) -> np.ndarray:
    """A trajectory ``[n, latent]`` stretched or squeezed to ``steps`` frames, linearly in time."""
    t = _trajectory(traj)
    if len(t) == 1:
        return np.repeat(t, steps, 0)
    pos = np.linspace(0.0, len(t) - 1, steps)
    i = np.minimum(pos.astype(int), len(t) - 2)
    w = (pos - i)[:, None]
    return (1 - w) * t[i] + w * t[i + 1]


def morph(traj_a: ArrayLike, traj_b: ArrayLike, *, steps: int | None = None, mode: str = "linear") -> np.ndarray:
    """Latent frames ``[steps, latent]`` from note ``a`` to note ``b`` (see the module docstring).

    ``steps`` defaults to the longer trajectory's length (at least 2); both
    are resampled to it linearly in time. A single frame holds still.
    """
    a, b = _trajectory(traj_a), _trajectory(traj_b)
    if a.shape[1] != b.shape[1]:
        raise ParameterError(f"the two notes come from different spaces ({a.shape[1]} and {b.shape[1]} latent values)")
    n = max(len(a), len(b), 2) if steps is None else steps
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ParameterError(f"a morph needs at least 2 steps, got {n!r}")
    return blend(resample(a, n), resample(b, n), np.linspace(0.0, 1.0, n), mode=mode)


def _trajectory(traj: ArrayLike) -> np.ndarray:
    t = np.asarray(traj, np.float64)
    if t.ndim == 1:
        t = t[None]
    if t.ndim != 2 or len(t) == 0 or not np.all(np.isfinite(t)):
        raise ParameterError(f"a trajectory is one or more rows of finite latent values, got shape {t.shape}")
    return t


__all__ = ["analyse_note", "UserNote", "check_length", "MIN_USER_SECONDS", "MAX_CLIPPED_SHARE", "sounding", "trajectory", "note_trajectory", "NoteTrajectory", "morph_conditions", "note_audio", "parse_spec", "spec_pitch", "resample", "morph", "frame_rate", "SPEC_HELP"]
