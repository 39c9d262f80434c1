"""Descriptors against signals whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from signals import harmonic_tone, tone

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.descriptors import DESCRIPTORS, descriptors
from timbre_explorer.core.signal.nsgt import transform_for
from timbre_explorer.core.signal.scales import PRESETS

SR = 22050


@pytest.fixture(params=["nsgt-erb", "nsgt-cqt", "nsgt-mel"])
def nsgt(request):
    return transform_for(PRESETS[request.param], SR)


@pytest.mark.parametrize("freq", [110, 440, 1000, 2500, 6000])
def test_a_pure_tone_has_its_frequency(nsgt, freq):
    d = descriptors(nsgt.magnitude(tone(freq)).mean(-1), nsgt)
    spacing = np.interp(freq, nsgt.frequencies[1:], np.diff(nsgt.frequencies))
    assert abs(float(d["centroid"]) - freq) < 0.5 * spacing
    assert abs(float(d["rolloff"]) - freq) < spacing
    assert float(d["bandwidth"]) < spacing
    assert float(d["flatness"]) < 1e-3


def test_loudness_is_the_rms_level(nsgt):
    level = 20 * np.log10(0.5 / np.sqrt(2))  # a sine of amplitude 0.5
    for freq in (round(float(nsgt.frequencies[80])), 333, 1717, 4321):  # on and between band centres
        d = descriptors(nsgt.magnitude(tone(freq, amplitude=0.5)).mean(-1), nsgt)
        assert abs(float(d["loudness"]) - level) < 2.5
        quieter = descriptors(nsgt.magnitude(tone(freq, amplitude=0.05)).mean(-1), nsgt)
        assert float(d["loudness"]) - float(quieter["loudness"]) == pytest.approx(20, abs=1e-6)


def test_loudness_of_harmonic_notes(nsgt):
    errors = []
    for f0 in np.geomspace(70, 1500, 12):
        x = harmonic_tone(float(f0), partials=int(min(15, 7900 // f0)))
        measured = float(descriptors(nsgt.magnitude(x).mean(-1), nsgt)["loudness"])
        errors.append(measured - 10 * np.log10(float(x.square().mean())))
    assert max(np.abs(errors)) < 3.5 and abs(np.mean(errors)) < 0.5


def test_white_noise_is_flat_and_at_its_in_band_level(nsgt, rng):
    noise = torch.from_numpy(0.1 * rng.standard_normal(SR))
    mag = nsgt.magnitude(noise)
    d = descriptors(mag.square().mean(-1).sqrt(), nsgt)  # the time-averaged spectrum
    assert float(d["flatness"]) > 0.95
    in_band = 0.1 ** 2 * (8000 - 64) / (SR / 2)
    assert float(d["loudness"]) == pytest.approx(10 * np.log10(in_band), abs=0.5)
    # and its centroid is the middle of the band, in Hz, whatever the band spacing
    assert float(d["centroid"]) == pytest.approx((64 + 8000) / 2, rel=0.05)


def test_brighter_sound_has_higher_centroid(nsgt):
    dull = descriptors(nsgt.magnitude(tone(200) + 0.1 * tone(400)).mean(-1), nsgt)
    bright = descriptors(nsgt.magnitude(tone(200) + 0.8 * tone(3000)).mean(-1), nsgt)
    assert float(bright["centroid"]) > float(dull["centroid"]) + 500


def test_numpy_in_numpy_out_and_same_values(nsgt):
    mag = nsgt.magnitude(tone(700) + tone(2000)).transpose(-1, -2)[:5]
    t = descriptors(mag, nsgt)
    n = descriptors(mag.numpy(), nsgt)
    assert set(n) == set(DESCRIPTORS)
    for name in DESCRIPTORS:
        assert isinstance(n[name], np.ndarray) and n[name].shape == (5,)
        np.testing.assert_allclose(n[name], t[name].numpy())


def test_differentiable_for_the_sliders(nsgt):
    mag = nsgt.magnitude(tone(500) + 0.3 * tone(1500)).mean(-1).float().requires_grad_(True)
    d = descriptors(mag, nsgt)
    (d["centroid"] + d["bandwidth"] + d["flatness"] + d["loudness"] + d["rolloff"]).backward()
    assert torch.isfinite(mag.grad).all() and mag.grad.abs().sum() > 0


def test_silence_is_finite(nsgt):
    d = descriptors(torch.zeros(nsgt.n_bins), nsgt)
    assert all(torch.isfinite(v) for v in d.values())


def test_unknown_names_and_shapes_refused(nsgt):
    with pytest.raises(ParameterError, match="unknown descriptors"):
        descriptors(torch.ones(nsgt.n_bins), nsgt, names=("brightness",))
    with pytest.raises(ParameterError, match="bands"):
        descriptors(torch.ones(7), nsgt)
