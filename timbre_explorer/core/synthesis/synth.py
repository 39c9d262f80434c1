"""Sound from latent points: notes, loops for scrubbing, and paths (the paper's interpolations).

Pure functions of a :class:`~timbre_explorer.core.synthesis.space.TimbreSpace`: latent
points in, float32 audio at the space's sample rate out. The Explorer calls
them from workers; ``timbre-explorer render`` calls them from the shell.

Levels. Decoded notes of the bundled model sit around -40 dBFS (the
SoundFont renders keep headroom, and a decoder trained on log-magnitudes
returns their geometric mean, a few dB under the data), far too quiet to
audition. Every sound is therefore multiplied by the space's
:func:`playback_gain`, one constant per model chosen so the loudest decoded
notes of the map play at :data:`PLAYBACK_LEVEL_DB`: relative dynamics (pp vs
ff) are kept, and a peak guard scales down the rare sound that would clip.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from timbre_explorer.core.errors import AudioFileError, ParameterError
from timbre_explorer.core.model.vae_config import DEFAULT_PITCH
from timbre_explorer.core.signal.audio_io import EXPORT_RATE, export_blocks, export_length, write_wav_blocks
from timbre_explorer.core.signal.phase import (
    DEFAULT_ITERATIONS,
    HELD_ITERATIONS,
    HELD_PERIOD,
    Cancel,
    render_frames,
    render_stream,
    sustain,
)
from timbre_explorer.core.signal.pitch import midi_to_hz

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.space import TimbreSpace

PLAYBACK_LEVEL_DB = -18.0  # RMS of the map's loudest notes (95th percentile) after playback gain
#: The loudness a conditioned model's sounds play at, per dynamic (dBFS RMS): 5-6 dB a step, mf at -24, so ff
#: keeps its peaks under full scale. Every sound of such a model is brought to its dynamic's: even levels.
DYNAMIC_DB = {"pp": -36.0, "p": -30.0, "mf": -24.0, "f": -19.0, "ff": -15.0}
PEAK_LIMIT = 0.98


@dataclass(frozen=True)
class Envelope:
    """Attack and release ramps (raised cosine) of a rendered note, in seconds."""

    attack: float = 0.02
    release: float = 0.15

    def apply(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        return audio * self.over(0, audio.shape[-1], audio.shape[-1], sample_rate)

    def over(self, start: int, stop: int, n: int, sample_rate: int) -> np.ndarray:
        """Samples ``start:stop`` of the envelope of an ``n``-sample sound (a long one is written in blocks)."""
        a = min(int(round(self.attack * sample_rate)), n // 2)
        r = min(int(round(self.release * sample_rate)), n - a)
        i = np.arange(start, stop)
        env = np.ones(stop - start, np.float32)
        if a:
            head = i < a
            env[head] = 0.5 - 0.5 * np.cos(np.pi * i[head] / a)
        if r:
            tail = i >= n - r
            env[tail] = 0.5 + 0.5 * np.cos(np.pi * (i[tail] - (n - r)) / r)
        return env


PATH_ENVELOPE = Envelope(attack=0.02, release=0.05)
DECODE_BATCH = 4096  # latent points decoded at once: a 10-minute path has 28,800


def playback_gain(space: TimbreSpace) -> float:
    """Linear gain that brings the loudest decoded map notes (95th percentile) to :data:`PLAYBACK_LEVEL_DB`."""
    loud_db = float(np.percentile(space.decoded_descriptors["loudness"], 95))
    return float(10 ** ((PLAYBACK_LEVEL_DB - loud_db) / 20))


def dynamic_level_db(dynamic: str) -> float:
    """The level (dBFS RMS of its held part) at which every gesture plays ``dynamic``: a click, a key's notes, a
    slider move, a path, a drag, ``render``. The one rule, so one point sounds as loud however it is played (the
    sound engine then adds the same headroom to all of them). "" (a space without dynamics) plays at mf. The
    gestures (``gestures.py``) take it from here, where every sound is levelled."""
    if dynamic not in DYNAMIC_DB and dynamic != "":
        raise ParameterError(f"dynamic must be one of {', '.join(DYNAMIC_DB)}, got {dynamic!r}")
    return DYNAMIC_DB[dynamic or "mf"]


def at_dynamic(audio: np.ndarray, sample_rate: int, dynamic: str = "mf", *, skip_s: float = 0.0) -> np.ndarray:
    """``audio`` with its RMS (after ``skip_s``: past the attack) at ``dynamic``'s level
    (:func:`dynamic_level_db`), its peak kept under :data:`PEAK_LIMIT`."""
    return at_level(audio, sample_rate, dynamic_level_db(dynamic), skip_s=skip_s)


def at_level(audio: np.ndarray, sample_rate: int, level_db: float, *, skip_s: float = 0.0) -> np.ndarray:
    """``audio`` with its RMS after ``skip_s`` at ``level_db`` dBFS (a user's sound at its measured loudness), its
    peak kept under :data:`PEAK_LIMIT`."""
    if not np.isfinite(level_db):
        raise ParameterError(f"a level must be a finite number of dBFS, got {level_db!r}")
    a = np.asarray(audio, np.float32)
    body = a[int(skip_s * sample_rate):] if a.size > int(skip_s * sample_rate) else a
    rms = float(np.sqrt(np.mean(np.square(body, dtype=np.float64)))) if body.size else 0.0
    if rms > 0:
        a = a * np.float32(10 ** (level_db / 20) / rms)
    peak = float(np.max(np.abs(a))) if a.size else 0.0
    return a * np.float32(PEAK_LIMIT / peak) if peak > PEAK_LIMIT else a


def _level(space: TimbreSpace, audio: torch.Tensor, dynamic: str = "mf") -> np.ndarray:
    """A rendered sound at its playback level: a conditioned model's at ``dynamic``'s (even levels over the whole
    map), an unconditioned one's through the map's one :func:`playback_gain` (its levels are what its frames
    encode)."""
    a = audio.detach().cpu().numpy().astype(np.float32)
    rms = float(np.sqrt(np.mean(np.square(a, dtype=np.float64)))) if a.size else 0.0
    return a * np.float32(level_gain(space, rms, float(np.max(np.abs(a))) if a.size else 0.0, dynamic))


def level_gain(space: TimbreSpace, rms: float, peak: float, dynamic: str = "mf") -> float:
    """The gain that brings a rendered sound of this RMS and peak to its playback level (:func:`_level`): known
    once the whole sound is, so a long one streamed to a file is scaled in a second pass."""
    if space.conditioned:
        gain = 10 ** (dynamic_level_db(dynamic) / 20) / rms if rms > 0 else 1.0
    else:
        gain = playback_gain(space)
    return gain * PEAK_LIMIT / (peak * gain) if peak * gain > PEAK_LIMIT else gain


def note(space: TimbreSpace, frame: torch.Tensor, *, seconds: float = 1.0, envelope: Envelope = Envelope(),
         n_iter: int = HELD_ITERATIONS, seed: int = 0, dynamic: str = "mf", pitch: float | None = None) -> np.ndarray:
    """A held note of a decoded frame (``space.decode(z)``: the paper's one-frame representation), with an envelope,
    at ``dynamic``'s level (a conditioned model's: decode the frame at that dynamic too, and at MIDI ``pitch``,
    whose harmonics its widest bands then sound: :func:`path_pitch_hz`).

    It takes the frame, not the latent point, because every caller that plays
    a point also shows its spectrum: one decode serves both.
    """
    rec = sustain(frame, space.preset, seconds=seconds, fade_s=0.0, n_iter=n_iter, seed=seed,
                  pitch_hz=_held_pitch_hz(space, pitch))
    return envelope.apply(_level(space, rec.audio, dynamic), space.sample_rate)


def loop(space: TimbreSpace, frame: torch.Tensor, *, n_iter: int = HELD_ITERATIONS, seed: int = 0,
         dynamic: str = "mf", pitch: float | None = None) -> np.ndarray:
    """One period (:data:`HELD_PERIOD`) of a seamless loop of a decoded frame at ``dynamic``'s level: what plays,
    repeated, while the user drags on the map; ``pitch`` as for :func:`note`."""
    rec = sustain(frame, space.preset, seconds=HELD_PERIOD, loop=True, n_iter=n_iter, seed=seed,
                  pitch_hz=_held_pitch_hz(space, pitch))
    return _level(space, rec.audio, dynamic)


def _held_pitch_hz(space: TimbreSpace, pitch: float | None) -> float | None:
    """A held frame's fundamental (Hz): a conditioned model's, decoded at MIDI ``pitch``; None when not known."""
    hz = None if pitch is None else path_pitch_hz(space, [pitch])
    return None if hz is None else float(hz)


def path_steps(seconds: float) -> int:
    """Latent points per path: about 48 per second (the dataset's frame rate), at least 8."""
    return max(8, int(round(48 * seconds)))


def render_path(space: TimbreSpace, zs: ArrayLike, *, seconds: float, envelope: Envelope = PATH_ENVELOPE,
                n_iter: int = DEFAULT_ITERATIONS, seed: int = 0, pitch: ArrayLike | None = None,
                levels: ArrayLike | None = None, dynamic: str = "mf",
                cancel: Cancel = None, progress: Callable[[float], None] | None = None) -> np.ndarray:
    """One morphing sound through the latent points ``zs [N, latent]``, spread evenly over ``seconds``.

    A conditioned model plays them at ``pitch`` (MIDI, one or one per point; default middle C) and ``levels``
    (one per point: a note morph's level curve), or at ``dynamic``'s level all along (:func:`even_level`: one
    loudness from end to end, as a click on any of its points plays); the whole sound at ``dynamic``'s level.
    ``cancel`` and ``progress``: as for :func:`~timbre_explorer.core.signal.phase.render_stream`. The whole sound
    is in memory (a 10-minute one about 50 MB); :func:`write_path_wav` writes one in the memory of a few seconds."""
    rec = render_frames(decoded(space, zs, pitch=pitch, levels=levels, dynamic=dynamic), space.preset,
                        seconds=seconds, n_iter=n_iter, seed=seed, cancel=cancel, progress=progress,
                        pitch_hz=path_pitch_hz(space, pitch))
    return envelope.apply(_level(space, rec.audio, dynamic), space.sample_rate)


def write_path_wav(wav: str | os.PathLike, space: TimbreSpace, zs: ArrayLike, *, seconds: float,
                   envelope: Envelope = PATH_ENVELOPE, n_iter: int = DEFAULT_ITERATIONS, seed: int = 0,
                   pitch: ArrayLike | None = None, levels: ArrayLike | None = None, dynamic: str = "mf", cancel: Cancel = None,
                   progress: Callable[[float], None] | None = None) -> None:
    """Write :func:`render_path`'s sound to ``wav``, 24-bit at the export rate
    (:func:`~timbre_explorer.core.signal.audio_io.at_export_rate` of it), piece by piece: memory stays that of one
    piece (:data:`~timbre_explorer.core.signal.phase.CHUNK_SECONDS`) for any length.

    The level needs the whole sound's RMS and peak (:func:`level_gain`), so the pieces go first, under the
    envelope and resampled (:func:`~timbre_explorer.core.signal.audio_io.export_blocks`), to an unnamed scratch
    file beside ``wav`` (4 bytes a sample, gone when closed, even if the process is killed) and are scaled from
    there. The peak guard takes the resampled sound's peak where it is higher: a resampler overshoots a little,
    and what is written stays within full scale. ``wav`` is written in place: give a temporary
    (``files.writing_together``). ``cancel`` (a callable or a ``threading.Event``) stops the render between iterations with
    :class:`~timbre_explorer.core.errors.Cancelled`; ``progress(fraction)`` follows the pieces to 1.0.
    """
    sr = space.sample_rate
    n = int(round(seconds * sr))
    frames = decoded(space, zs, pitch=pitch, levels=levels, dynamic=dynamic)
    with tempfile.TemporaryFile(dir=Path(wav).parent) as scratch:
        sum2, peak, resampled_peak = 0.0, 0.0, 0.0

        def shaped() -> Iterator[np.ndarray]:
            """The pieces under the envelope, at the model's rate (as in memory); their level taken before it."""
            nonlocal sum2, peak
            at = 0
            for block in render_stream(frames, space.preset, seconds=seconds, n_iter=n_iter, seed=seed,
                                       cancel=cancel, progress=progress, pitch_hz=path_pitch_hz(space, pitch)):
                b = block.numpy().astype(np.float32)
                sum2 += float(np.dot(b.astype(np.float64), b))
                peak = max(peak, float(np.abs(b).max()))
                yield b * envelope.over(at, at + b.size, n, sr)
                at += b.size

        for b in export_blocks(shaped(), sr, n):  # resampled once, on the way to the scratch file
            resampled_peak = max(resampled_peak, float(np.abs(b).max()) if b.size else 0.0)
            scratch.write(b.tobytes())
        if not np.isfinite(sum2):
            raise AudioFileError("refusing to write non-finite audio (the model decoded NaN or infinite magnitudes)")
        gain = np.float32(level_gain(space, float(np.sqrt(sum2 / n)), max(peak, resampled_peak), dynamic))
        scratch.seek(0)
        total = export_length(n, sr)

        def scaled() -> Iterator[np.ndarray]:
            for start in range(0, total, BLOCK_SAMPLES):
                b = np.frombuffer(scratch.read(4 * (min(total, start + BLOCK_SAMPLES) - start)), np.float32)
                yield np.clip(b * gain, -1.0, 1.0)  # the guard leaves 2 % of headroom: the clip is never seen

        with open(wav, "wb") as f:
            write_wav_blocks(f, scaled(), EXPORT_RATE, total)


BLOCK_SAMPLES = 1 << 18  # samples scaled and encoded at once (1 MB)


def path_pitch_hz(space: TimbreSpace, pitch: ArrayLike | None) -> float | np.ndarray | None:
    """The fundamental a conditioned model's path is decoded at (Hz; default middle C): one, or one per point where
    it glides (:func:`~timbre_explorer.core.signal.phase.harmonic_bins` places the bands too wide for its
    harmonics on them); None for an unconditioned model's, or where a pitch is unknown."""
    if not space.conditioned:
        return None
    p = np.asarray(DEFAULT_PITCH if pitch is None else pitch, np.float64).reshape(-1)
    if not p.size or (p < 0).any():
        return None
    return midi_to_hz(float(p[0])) if np.ptp(p) == 0 else midi_to_hz(p)


def decoded(space: TimbreSpace, zs: ArrayLike, *, pitch: ArrayLike | None = None, levels: ArrayLike | None = None,
            dynamic: str = "mf") -> torch.Tensor:
    """The magnitude frames ``[bins, N]`` of latent points ``zs [N, latent]``, decoded :data:`DECODE_BATCH` at a
    time (the decoder's activations for all 28,800 points of a 10-minute path at once took gigabytes);
    ``pitch`` and ``levels``: one, or one per point. Without ``levels``, a conditioned model's frames are decoded
    at ``dynamic`` and evened out (:func:`even_level`)."""
    z = np.asarray(zs, np.float32)
    n = len(z)

    def part(v: ArrayLike | None, at: slice) -> np.ndarray | None:
        if v is None:
            return None
        a = np.asarray(v, np.float32).reshape(-1)
        return a[at] if a.size == n else a

    at_dynamic = dynamic if levels is None and dynamic in space.levels else None
    out = [space.decode(z[at], pitch=part(pitch, at), dynamic=at_dynamic, level=part(levels, at))
           for at in (slice(i, i + DECODE_BATCH) for i in range(0, max(n, 1), DECODE_BATCH))]
    frames = torch.cat(out).T.contiguous()
    return even_level(frames) if space.conditioned and levels is None else frames


def even_level(frames: torch.Tensor) -> torch.Tensor:
    """Magnitude frames ``[bins, N]`` scaled to one energy (their geometric mean's): a path at one dynamic plays at
    one loudness all along. The decoder holds a frame's mean log magnitude at the dynamic, but a peaky spectrum
    (a trumpet's) has more energy than a smooth one (a flute's) at the same mean: Flute to Trumpet rose 4 dB."""
    energy = torch.sqrt(torch.sum(frames.double() ** 2, 0)).clamp_min(1e-30)
    return (frames * (torch.exp(torch.log(energy).mean()) / energy).to(frames.dtype)).contiguous()
