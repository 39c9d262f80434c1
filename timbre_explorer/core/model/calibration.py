"""The decoder's calibration: a gain per band, by pitch and level, that undoes the decoder's dulling.

The decoder is fit in log magnitude (a Gaussian likelihood), so it decodes the geometric mean of the frames a
code stands for. A listener hears their energy, which the geometric mean under-states most where the frames
disagree: the partials above the fundamental. The bundled model decodes its own training notes (each note's
code, at its pitch and level) with 5 % less spectral centroid in the median over all notes, and its 12 rated
instruments' near middle C 20 to 45 % less (docs/research.md, *Sounds like the instrument*).

The calibration is a gain (natural log, per band) for each pitch and level, fitted over every training note
(:func:`fit_gain`): at each, every band's mean share of a frame's power is the real frames'. Each gain sums to 0
over the bands, so a decoded frame keeps the level its condition asked for. A model file carries it as the
optional tensor :data:`GAIN_TENSOR` ``[levels, 128 pitches, bands]``; a file without it decodes as before.
The gain is an envelope, smoothed over a few bands: it brightens the partials a note has, and adds none.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import ModelFileError, ParameterError
from timbre_explorer.core.model.vae_config import LEVEL_CENTRE, LEVEL_SPAN, PITCH_CENTRE, PITCH_SPAN

if TYPE_CHECKING:
    import torch

GAIN_TENSOR = "decoder.gain"
PITCHES = 128  # one row per MIDI pitch
LEVELS = 6  # rows evenly over LEVEL_CENTRE +- LEVEL_SPAN (the levels of the training notes, nearly all)
MAX_LEVELS = 64
MAX_GAIN = math.log(10 ** (24 / 20))  # +-24 dB: the fitted gains stay within +-15 dB
PITCH_SIGMA = 2.0  # semitones: the notes a pitch's gain is fitted on, weighted by a Gaussian of this width
LEVEL_SIGMA = 0.5  # the same in level (natural log): half the grid's step
ITERATIONS = 12
#: The gain is smoothed over bands (a Gaussian of this many, under one ERB): unsmoothed it follows the partials of
#: its pitch averaged over every instrument, and printed that pattern on every note (the bundled model: a 20 x 20
#: grid of the map pitched 94 % of points, not 100 %; 10 of the 12 rated names came back as their instrument, not 12).
SMOOTH_BANDS = 4.0


def level_grid(rows: int) -> np.ndarray:
    """The levels of a gain's rows: evenly over :data:`LEVEL_CENTRE` +- :data:`LEVEL_SPAN` (one row: the centre)."""
    return np.linspace(LEVEL_CENTRE - LEVEL_SPAN, LEVEL_CENTRE + LEVEL_SPAN, rows) if rows > 1 else np.array([LEVEL_CENTRE])


def fit_gain(real_log: np.ndarray, decoded_log: np.ndarray, pitch: np.ndarray, *, levels: int = LEVELS) -> np.ndarray:
    """The gain ``[levels, PITCHES, bands]`` (float32) that brings ``decoded_log`` (the decoder's log-magnitude
    frames ``[n, bands]`` of the notes whose real frames are ``real_log``, each decoded at its MIDI ``pitch`` and
    its real frame's level) to the real frames' brightness.

    At each pitch and level of the grid, the notes near it (Gaussian weights of :data:`PITCH_SIGMA` semitones and
    :data:`LEVEL_SIGMA`) give every band's mean share of a frame's power, real and decoded; the gain is found by
    fixed-point iteration so the calibrated shares equal the real ones (the centroid of their mean spectrum is
    then the real one), then smoothed over :data:`SMOOTH_BANDS` bands. A pitch or level without notes takes its
    nearest row's.
    """
    from scipy.ndimage import gaussian_filter1d  # here: scipy.ndimage is 0.13 s of every launch

    real = np.asarray(real_log, np.float64)
    decoded = np.asarray(decoded_log, np.float64)
    pitch = np.asarray(pitch, np.float64).reshape(-1)
    if real.ndim != 2 or real.shape != decoded.shape or len(pitch) != len(real) or not len(real):
        raise ParameterError(f"a calibration needs real and decoded frames of one shape [notes, bands] and a pitch "
                             f"per note, got {real.shape}, {decoded.shape} and {pitch.shape}")
    level = real.mean(1)
    target_all = _shares(real)
    decoded_power = np.exp(2 * (decoded - decoded.max(1, keepdims=True)))
    out = np.full((levels, PITCHES, real.shape[1]), np.nan)
    for i, lv in enumerate(level_grid(levels)):
        near_level = np.abs(level - lv) <= 3 * LEVEL_SIGMA
        for p in range(PITCHES):
            keep = near_level & (np.abs(pitch - p) <= 3 * PITCH_SIGMA)
            w = np.exp(-0.5 * (((pitch[keep] - p) / PITCH_SIGMA) ** 2 + ((level[keep] - lv) / LEVEL_SIGMA) ** 2))
            if w.sum() < 1.0:  # less than one note's worth
                continue
            w = (w / w.sum())[:, None]
            target, power = (w * target_all[keep]).sum(0), decoded_power[keep]
            g = np.zeros(real.shape[1])
            for _ in range(ITERATIONS):
                g = np.clip(g + 0.5 * np.log(target / (w * _shares(power * np.exp(2 * g), log=False)).sum(0)),
                            -MAX_GAIN, MAX_GAIN)
            g = gaussian_filter1d(g, SMOOTH_BANDS, mode="nearest")
            out[i, p] = np.clip(g - g.mean(), -MAX_GAIN, MAX_GAIN)
    return _filled(out).astype(np.float32)


def _shares(x: np.ndarray, *, log: bool = True) -> np.ndarray:
    """Each frame's power per band over its total (``x``: log magnitudes, or powers when not ``log``)."""
    power = np.exp(2 * (x - x.max(1, keepdims=True))) if log else x
    return power / power.sum(1, keepdims=True)


def _filled(gain: np.ndarray) -> np.ndarray:
    """Rows without notes (NaN) take the nearest pitch's row of their level, then the nearest level's."""
    have = ~np.isnan(gain[..., 0])
    if not have.any():
        return np.zeros_like(gain)
    for i in range(len(gain)):
        rows = np.flatnonzero(have[i])
        if len(rows):
            for p in np.flatnonzero(~have[i]):
                gain[i, p] = gain[i, rows[np.argmin(np.abs(rows - p))]]
    levels = np.flatnonzero(have.any(1))
    for i in range(len(gain)):
        if not have[i].any():
            gain[i] = gain[levels[np.argmin(np.abs(levels - i))]]
    return gain


def gain_at(gain: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """The gain ``[n, bands]`` at the conditions ``c [n, 2]`` (pitch and level, as the decoder takes them):
    interpolated linearly between the grid's pitches and levels, held at its ends."""
    import torch

    from timbre_explorer.core.model.vae import condition_level

    pitch = (c[:, 0] * PITCH_SPAN + PITCH_CENTRE).clamp(0, PITCHES - 1)
    levels = torch.as_tensor(level_grid(gain.shape[0]), dtype=c.dtype, device=c.device)
    level = condition_level(c).clamp(float(levels[0]), float(levels[-1]))
    p0 = pitch.floor().long().clamp(max=PITCHES - 2)
    tp = (pitch - p0)[:, None]
    if len(levels) > 1:
        l0 = torch.searchsorted(levels, level).clamp(1, len(levels) - 1) - 1
        tl = ((level - levels[l0]) / (levels[l0 + 1] - levels[l0]))[:, None]
    else:
        l0, tl = torch.zeros_like(p0), torch.zeros_like(tp)
    l1 = (l0 + 1).clamp(max=gain.shape[0] - 1)
    g = gain.to(c.device, c.dtype)

    def at(rows: torch.Tensor) -> torch.Tensor:
        return g[rows, p0] * (1 - tp) + g[rows, p0 + 1] * tp

    return at(l0) * (1 - tl) + at(l1) * tl


def check_gain(path: str | os.PathLike, gain: np.ndarray, *, n_bins: int, conditioned: bool) -> None:
    """A :class:`ModelFileError` naming ``path`` unless ``gain`` is a calibration this model can use: a conditioned
    model's, ``[levels, PITCHES, n_bins]`` with 1 to :data:`MAX_LEVELS` levels, within +-:data:`MAX_GAIN`."""
    shape = list(gain.shape)
    if not conditioned:
        raise ModelFileError(f"{path}: tensor '{GAIN_TENSOR}' calibrates a decoder by pitch and level, and this "
                             "model's decoder takes neither: the file is damaged")
    if gain.ndim != 3 or not 1 <= shape[0] <= MAX_LEVELS or shape[1:] != [PITCHES, n_bins]:
        raise ModelFileError(f"{path}: tensor '{GAIN_TENSOR}' is {shape}, expected [levels (1 to {MAX_LEVELS}), "
                             f"{PITCHES}, {n_bins}]: the file is damaged")
    if gain.dtype.kind != "f" or not np.isfinite(gain).all() or float(np.abs(gain).max()) > MAX_GAIN + 1e-2:
        raise ModelFileError(f"{path}: tensor '{GAIN_TENSOR}' holds gains beyond +-24 dB or not finite: the file is "
                             "damaged")


__all__ = ["GAIN_TENSOR", "fit_gain", "gain_at", "check_gain", "level_grid", "MAX_GAIN"]
