"""Augmentations of training frames that model how recordings of one instrument differ (issue: a space that holds
for sample sets it never heard). Each acts on natural-log magnitude frames ``[n, K]`` at the transform's bin
frequencies, with its own random draw per frame, and returns the frames and their (possibly moved) pitch:

``eq``
    a random spectral tilt (±3 dB per octave about 1 kHz) and three random bell-shaped boosts or cuts (±6 dB,
    0.5 to 2 octaves wide): microphones, rooms and sample-set voicing;
``lowpass``
    on half the frames, a roll-off of 12 to 36 dB per octave above 2 to 8 kHz: band-limited or dull samples;
``noise``
    a noise floor 25 to 60 dB below the frame's level: hiss and room tone;
``detune``
    a shift of up to ±30 cents along the frequency axis (the frame's pitch moves with it);
``transpose``
    a shift of up to ±5 semitones, partials and formants together (the frame's pitch moves with it): a sample
    set that plays one recording over several keys.

A level change needs no augmentation: a conditioned model sees level-free frames. Reverberation would need the
time axis of a note, which a frame-level model does not see: left out. Which augmentations a run uses is chosen on
cross-source validation notes (see docs/research.md, Training).
"""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np
import torch

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.training.config import AUGMENTATIONS

_DB = math.log(10.0) / 20.0  # natural log per dB of magnitude


def augment(log_mag: torch.Tensor, pitch: torch.Tensor, frequencies: np.ndarray, names: Collection[str],
            generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``log_mag [n, K]`` and ``pitch [n]`` with the augmentations ``names`` applied (a fresh draw per frame)."""
    unknown = sorted(set(names) - set(AUGMENTATIONS))
    if unknown:
        raise ParameterError(f"unknown augmentations {', '.join(unknown)} (known: {', '.join(AUGMENTATIONS)})")
    n = log_mag.shape[0]
    octaves = torch.from_numpy(np.log2(np.maximum(frequencies, 1.0) / 1000.0)).to(log_mag)  # [K]

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, *shape, generator=generator).to(log_mag)

    for name, most in (("transpose", 500.0), ("detune", 30.0)):
        if name in names:
            cents = uniform(-most, most)
            # the spectrum moves up by the shift: the value at f comes from f / 2^(cents/1200)
            source = octaves[None, :] - cents[:, None] / 1200.0
            idx = torch.searchsorted(octaves.contiguous(), source.contiguous()).clamp(1, len(octaves) - 1)
            lo, hi = octaves[idx - 1], octaves[idx]
            w = ((source - lo) / (hi - lo).clamp_min(1e-9)).clamp(0.0, 1.0)
            log_mag = torch.lerp(log_mag.gather(1, idx - 1), log_mag.gather(1, idx), w)
            pitch = pitch + cents / 100.0
    if "eq" in names:
        gain = uniform(-3.0, 3.0)[:, None] * octaves[None, :]
        centres, widths, boosts = uniform(-3.0, 3.0, 3), uniform(0.5, 2.0, 3), uniform(-6.0, 6.0, 3)
        gain = gain + (boosts[:, :, None] * torch.exp(-0.5 * ((octaves[None, None, :] - centres[:, :, None])
                                                             / (widths[:, :, None] / 2.0)) ** 2)).sum(1)
        log_mag = log_mag + gain * _DB
    if "lowpass" in names:
        on = (torch.rand(n, generator=generator) < 0.5).to(log_mag)
        corner = torch.log2(uniform(2000.0, 8000.0) / 1000.0)
        slope = uniform(12.0, 36.0)
        log_mag = log_mag - (on * slope)[:, None] * (octaves[None, :] - corner[:, None]).clamp_min(0.0) * _DB
    if "noise" in names:
        level = 0.5 * (torch.logsumexp(2.0 * log_mag, dim=-1) - math.log(log_mag.shape[-1]))
        floor = level - uniform(25.0, 60.0) * _DB
        log_mag = 0.5 * torch.logaddexp(2.0 * log_mag, 2.0 * floor[:, None])
    return log_mag, pitch
