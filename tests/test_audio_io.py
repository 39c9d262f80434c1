"""The export rate (``core/signal/audio_io.py``): every file written for the user at 44.1 kHz, from any model's rate."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from timbre_explorer.core.signal.audio_io import EXPORT_RATE, at_export_rate, export_blocks, export_length, export_wav


def _noise(rate: int, seconds: float) -> np.ndarray:
    return (0.3 * np.random.default_rng(rate).standard_normal(int(seconds * rate))).astype(np.float32)


@pytest.mark.parametrize("rate", [22_050, 48_000, 16_000])
def test_a_streamed_resample_is_the_whole_buffers_bit_for_bit(rate):
    """10 s in blocks of an odd size (as a render's pieces come) give the samples the whole buffer gives."""
    x = _noise(rate, 10.0)
    whole = at_export_rate(x, rate)
    streamed = np.concatenate(list(export_blocks((x[i:i + 77_777] for i in range(0, x.size, 77_777)), rate, x.size)))
    assert len(whole) == len(streamed) == export_length(x.size, rate) == 10 * EXPORT_RATE
    assert np.array_equal(whole, streamed)


def test_audio_at_the_export_rate_passes_unchanged():
    x = _noise(EXPORT_RATE, 0.5)
    assert np.array_equal(at_export_rate(x, EXPORT_RATE), x)
    assert np.array_equal(np.concatenate(list(export_blocks([x[:1000], x[1000:]], EXPORT_RATE, x.size))), x)


def test_a_resampled_tone_keeps_its_frequency_and_level_and_gains_no_images():
    """A 10 kHz tone (near a 22,050 Hz model's top): at 44.1 kHz its peak is at 10 kHz, its level within 0.01 dB,
    and its image (12.05 kHz) more than 100 dB down."""
    t = np.arange(22_050) / 22_050
    y = at_export_rate(0.5 * np.sin(2 * np.pi * 10_000 * t), 22_050).astype(np.float64)[2000:-2000]
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / EXPORT_RATE)
    assert freqs[spectrum.argmax()] == pytest.approx(10_000, abs=3)
    assert 10 * np.log10(np.mean(y ** 2) / 0.125) == pytest.approx(0.0, abs=0.01)
    assert 10 * np.log10(spectrum[freqs > 11_025].max() / spectrum.max()) < -100


def test_an_export_that_overshoots_full_scale_is_scaled_to_fit(tmp_path):
    """A square wave at full scale rings past it when resampled (Gibbs): the file is scaled down, not clipped."""
    x = np.sign(np.sin(2 * np.pi * 1000 * np.arange(22_050) / 22_050)).astype(np.float32)
    assert np.abs(at_export_rate(x, 22_050)).max() > 1.05
    export_wav(tmp_path / "square.wav", x, 22_050)
    y, sr = sf.read(tmp_path / "square.wav")
    assert sr == EXPORT_RATE and np.abs(y).max() <= 1.0 and np.abs(y).max() > 0.99
