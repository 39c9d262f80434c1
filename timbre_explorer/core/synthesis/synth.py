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

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.phase import DEFAULT_ITERATIONS, HELD_ITERATIONS, HELD_PERIOD, render_frames, sustain

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.space import TimbreSpace

PLAYBACK_LEVEL_DB = -18.0  # RMS of the map's loudest notes (95th percentile) after playback gain
#: The loudness a conditioned model's sounds play at, per dynamic (dBFS RMS): 5-6 dB a step, mf at -24, so ff
#: keeps its peaks under full scale. Every sound of such a model is brought to its dynamic's: even levels.
DYNAMIC_DB = {"pp": -36.0, "p": -30.0, "mf": -24.0, "f": -19.0, "ff": -15.0}
PEAK_LIMIT = 0.98
INTERPOLATIONS = ("linear", "slerp")


@dataclass(frozen=True)
class Envelope:
    """Attack and release ramps (raised cosine) of a rendered note, in seconds."""

    attack: float = 0.02
    release: float = 0.15

    def apply(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        n = audio.shape[-1]
        a = min(int(round(self.attack * sample_rate)), n // 2)
        r = min(int(round(self.release * sample_rate)), n - a)
        env = np.ones(n, np.float32)
        if a:
            env[:a] = 0.5 - 0.5 * np.cos(np.pi * np.arange(a) / a)
        if r:
            env[n - r:] = 0.5 + 0.5 * np.cos(np.pi * np.arange(r) / r)
        return audio * env


def playback_gain(space: TimbreSpace) -> float:
    """Linear gain that brings the loudest decoded map notes (95th percentile) to :data:`PLAYBACK_LEVEL_DB`."""
    loud_db = float(np.percentile(space.decoded_descriptors["loudness"], 95))
    return float(10 ** ((PLAYBACK_LEVEL_DB - loud_db) / 20))


def at_dynamic(audio: np.ndarray, sample_rate: int, dynamic: str = "mf", *, skip_s: float = 0.0) -> np.ndarray:
    """``audio`` with its RMS (after ``skip_s``: past the attack) at ``dynamic``'s :data:`DYNAMIC_DB`, its peak
    kept under :data:`PEAK_LIMIT`."""
    if dynamic not in DYNAMIC_DB:
        raise ParameterError(f"dynamic must be one of {', '.join(DYNAMIC_DB)}, got {dynamic!r}")
    return at_level(audio, sample_rate, DYNAMIC_DB[dynamic], skip_s=skip_s)


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


def _level(space: TimbreSpace, audio: torch.Tensor) -> np.ndarray:
    """A rendered sound at its playback level: a conditioned model's at mf (even levels over the whole map), an
    unconditioned one's through the map's one :func:`playback_gain` (its levels are what its frames encode)."""
    a = audio.detach().cpu().numpy().astype(np.float32)
    if space.conditioned:
        return at_dynamic(a, space.sample_rate)
    a = a * playback_gain(space)
    peak = float(np.max(np.abs(a))) if a.size else 0.0
    return a * (PEAK_LIMIT / peak) if peak > PEAK_LIMIT else a


def note(space: TimbreSpace, frame: torch.Tensor, *, seconds: float = 1.0, envelope: Envelope = Envelope(),
         n_iter: int = HELD_ITERATIONS, seed: int = 0) -> np.ndarray:
    """A held note of a decoded frame (``space.decode(z)``: the paper's one-frame representation), with an envelope.

    It takes the frame, not the latent point, because every caller that plays
    a point also shows its spectrum: one decode serves both.
    """
    rec = sustain(frame, space.preset, seconds=seconds, fade_s=0.0, n_iter=n_iter, seed=seed)
    return envelope.apply(_level(space, rec.audio), space.sample_rate)


def loop(space: TimbreSpace, frame: torch.Tensor, *, n_iter: int = HELD_ITERATIONS, seed: int = 0) -> np.ndarray:
    """One period (:data:`HELD_PERIOD`) of a seamless loop of a decoded frame: what plays, repeated, while the
    user drags on the map."""
    rec = sustain(frame, space.preset, seconds=HELD_PERIOD, loop=True, n_iter=n_iter, seed=seed)
    return _level(space, rec.audio)


def interpolate(a, b, steps: int, *, mode: str = "linear") -> np.ndarray:
    """``steps`` latent points from ``a`` to ``b`` (both ends included), linearly or spherically (slerp).

    Slerp is the paper's choice: it follows the great circle between the two
    vectors (seen from the origin, the prior's mean) instead of cutting
    through the low-density middle of the Gaussian prior, and scales the
    norm linearly along the way.
    """
    if steps < 2:
        raise ParameterError(f"a path needs at least 2 steps, got {steps}")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return blend(np.broadcast_to(a, (steps, a.size)), np.broadcast_to(b, (steps, b.size)),
                 np.linspace(0.0, 1.0, steps), mode=mode)


def blend(a: np.ndarray, b: np.ndarray, t: np.ndarray, *, mode: str = "linear") -> np.ndarray:
    """Row ``i`` a share ``t[i]`` of the way from ``a[i]`` to ``b[i]`` (``[n, latent]`` each), as :func:`interpolate`.

    The one interpolation of the app: paths, polylines and note morphs (frame
    to frame) all go through it. Slerp falls back to a straight line where
    either point is at the origin (no direction there).
    """
    if mode not in INTERPOLATIONS:
        raise ParameterError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}, got {mode!r}")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)[:, None]
    line = (1 - t) * a + t * b
    if mode == "linear":
        return line
    na, nb = np.linalg.norm(a, axis=1, keepdims=True), np.linalg.norm(b, axis=1, keepdims=True)
    ua, ub = a / np.maximum(na, 1e-12), b / np.maximum(nb, 1e-12)
    omega = np.arccos(np.clip((ua * ub).sum(1, keepdims=True), -1.0, 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        arc = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    direction = np.where(omega < 1e-6, (1 - t) * ua + t * ub, arc)
    return np.where((na < 1e-9) | (nb < 1e-9), line, direction * ((1 - t) * na + t * nb))


def along(points, steps: int, *, mode: str = "linear") -> np.ndarray:
    """``steps`` latent points spread evenly (by latent distance) along a polyline through ``points [M, latent]``."""
    p = np.asarray(points, np.float64)
    if p.ndim != 2 or len(p) < 2:
        raise ParameterError("a path needs at least two points")
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    if seg.sum() <= 0:
        return np.repeat(p[:1], steps, 0)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.linspace(0.0, cum[-1], steps)
    k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
    t = np.where(seg[k] > 0, (s - cum[k]) / np.where(seg[k] > 0, seg[k], 1.0), 0.0)
    return blend(p[k], p[k + 1], t, mode=mode)


def path_steps(seconds: float) -> int:
    """Latent points per path: about 48 per second (the dataset's frame rate), at least 8."""
    return max(8, int(round(48 * seconds)))


def render_path(space: TimbreSpace, zs, *, seconds: float, envelope: Envelope = Envelope(attack=0.02, release=0.05),
                n_iter: int = DEFAULT_ITERATIONS, seed: int = 0, pitch=None, levels=None,
                cancel: Callable[[], bool] | None = None,
                progress: Callable[[float], None] | None = None) -> np.ndarray:
    """One morphing sound through the latent points ``zs [N, latent]``, spread evenly over ``seconds``.

    A conditioned model plays them at ``pitch`` (MIDI, one or one per point; default middle C) and ``levels``
    (one per point: a note morph's level curve; default mf). ``cancel`` and ``progress``: as for
    :func:`~timbre_explorer.core.signal.phase.render_frames`."""
    frames = space.decode(np.asarray(zs, np.float32), pitch=pitch, level=levels).T.contiguous()  # [bins, N]
    rec = render_frames(frames, space.preset, seconds=seconds, n_iter=n_iter, seed=seed, cancel=cancel,
                        progress=progress)
    return envelope.apply(_level(space, rec.audio), space.sample_rate)
