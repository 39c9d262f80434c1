"""The augmentations of training frames, each against what it must do to a frame whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.training.augment import augment
from timbre_explorer.core.training.config import AUGMENTATIONS, TrainConfig

FREQS = 1000.0 * 2.0 ** np.linspace(-5, 3.4, 168)  # 31 Hz to 10.6 kHz, log-spaced like the transform's bins
DB = math.log(10) / 20


def frames(n=64):
    """A flat spectrum at -20 dB with one partial 30 dB above it at bin 80 (about 841 Hz)."""
    log_mag = torch.full((n, len(FREQS)), -20 * DB)
    log_mag[:, 80] = 10 * DB
    return log_mag


def run(names, n=64, seed=0):
    return augment(frames(n), torch.full((n,), 60.0), FREQS, names, torch.Generator().manual_seed(seed))


def test_eq_is_a_smooth_bounded_gain():
    out, pitch = run(["eq"])
    gain_db = (out - frames()) / DB
    assert torch.equal(pitch, torch.full((64,), 60.0))
    assert gain_db.abs().max() < 3 * 5.1 + 3 * 6  # tilt over 5 octaves plus three bells
    assert gain_db.std(0).mean() > 1.0  # every frame its own draw
    assert (gain_db.diff(dim=1).abs().max() < 1.0)  # smooth: under 1 dB from bin to bin


def test_lowpass_leaves_the_band_below_2_khz_and_cuts_above_on_about_half_the_frames():
    out, _ = run(["lowpass"], n=400)
    gain_db = (out - frames(400)) / DB
    assert torch.all(gain_db[:, FREQS < 2000] == 0) and torch.all(gain_db <= 0)
    cut = (gain_db[:, -1] < -3).float().mean()
    assert 0.4 < cut < 0.6


def test_noise_adds_a_floor_25_to_60_db_below_the_level_and_takes_nothing_away():
    out, _ = run(["noise"])
    assert torch.all(out >= frames() - 1e-6)
    level = 0.5 * (torch.logsumexp(2 * frames(), -1) - math.log(len(FREQS)))
    floor_db = (out.min(1).values - level) / DB  # where the flat part was far below, the floor shows
    assert torch.all(floor_db > -60.5) and torch.all(out[:, 0] > frames()[:, 0])


@pytest.mark.parametrize("name, most", [("detune", 30), ("transpose", 500)])
def test_detune_and_transpose_move_the_spectrum_and_the_pitch_together(name, most):
    octaves = torch.from_numpy(np.log2(FREQS / 1000.0)).float()
    bump = 30 * DB * torch.exp(-0.5 * ((octaves - octaves[80]) / 0.25) ** 2)  # a formant a quarter octave wide
    out, pitch = augment(bump.repeat(200, 1), torch.full((200,), 60.0), FREQS, [name],
                         torch.Generator().manual_seed(0))
    cents = (pitch - 60.0) * 100
    assert cents.abs().max() <= most and cents.std() > most / 3
    centre = (out * octaves).sum(1) / out.sum(1)  # the bump's centre moves by the same number of cents
    np.testing.assert_allclose((centre - octaves[80]).numpy() * 1200, cents.numpy(), atol=2.0)


def test_an_unknown_augmentation_is_refused():
    with pytest.raises(ParameterError, match="unknown augmentations"):
        run(["reverb"])
    with pytest.raises(ParameterError, match="augment"):
        TrainConfig(augment=["reverb"])


def test_every_augmentation_is_a_training_setting():
    assert TrainConfig(augment=list(AUGMENTATIONS)).augment == tuple(AUGMENTATIONS)


def test_all_augmentations_together_give_finite_frames():
    out, _ = run(list(AUGMENTATIONS))
    assert torch.isfinite(out).all()
