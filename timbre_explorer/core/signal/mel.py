"""Mel filters, decibels and MFCCs, the two MFCC baselines' parts (cross-source and peer suite), in NumPy.

Our own code from the published definitions: the mel scale of Slaney's Auditory Toolbox (Technical Report
1998-010, Interval Research, 1998: linear below 1 kHz, logarithmic above) or HTK's (2595 log10(1 + f / 700)),
triangular filters evenly spaced on it, Slaney's of unit area; the power STFT with a periodic Hann window;
decibels floored below the peak; the orthonormal DCT-II (SciPy's) of the mel decibels (Davis and Mermelstein,
IEEE Trans. ASSP 28(4), 1980). The baselines were first measured with librosa 0.11's defaults, so these follow
the same conventions; tests/test_pitch_and_mel_against_librosa.py checks them against librosa as an oracle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

#: Slaney's mel scale: 3 mels per 200 Hz up to 1 kHz (15 mels), then 27 mels per factor 6.4 in frequency.
_SLANEY_HZ_PER_MEL, _SLANEY_BREAK_HZ, _SLANEY_MELS_PER_LOG = 200.0 / 3.0, 1000.0, 27.0 / np.log(6.4)
#: HTK's mel scale: 2595 log10(1 + f / 700).
_HTK_SCALE, _HTK_CORNER_HZ = 2595.0, 700.0


def hz_to_mel(hz: ArrayLike, htk: bool = False) -> np.ndarray:
    """Frequencies (Hz) on the mel scale: HTK's formula, or Slaney's (the default)."""
    f = np.asarray(hz, np.float64)
    if htk:
        return _HTK_SCALE * np.log10(1.0 + f / _HTK_CORNER_HZ)
    break_mel = _SLANEY_BREAK_HZ / _SLANEY_HZ_PER_MEL
    above = break_mel + _SLANEY_MELS_PER_LOG * np.log(np.maximum(f, _SLANEY_BREAK_HZ) / _SLANEY_BREAK_HZ)
    return np.where(f < _SLANEY_BREAK_HZ, f / _SLANEY_HZ_PER_MEL, above)


def mel_to_hz(mels: ArrayLike, htk: bool = False) -> np.ndarray:
    """The inverse of :func:`hz_to_mel`."""
    m = np.asarray(mels, np.float64)
    if htk:
        return _HTK_CORNER_HZ * (10.0 ** (m / _HTK_SCALE) - 1.0)
    break_mel = _SLANEY_BREAK_HZ / _SLANEY_HZ_PER_MEL
    above = _SLANEY_BREAK_HZ * np.exp((np.maximum(m, break_mel) - break_mel) / _SLANEY_MELS_PER_LOG)
    return np.where(m < break_mel, m * _SLANEY_HZ_PER_MEL, above)


def fft_frequencies(sample_rate: float, n_fft: int) -> np.ndarray:
    """The centre frequency (Hz) of each bin of an ``n_fft``-point real FFT."""
    return np.arange(n_fft // 2 + 1) * (sample_rate / n_fft)


def mel_filters(sample_rate: float, n_fft: int, n_mels: int = 128, htk: bool = False,
                area_normalized: bool = True) -> np.ndarray:
    """Triangular filters ``[n_mels, n_fft // 2 + 1]`` (float32) evenly spaced in mels from 0 Hz to Nyquist: the
    k-th rises from edge k to 1 at edge k + 1 and falls to 0 at edge k + 2, linearly in Hz. Each has unit area
    per Hz when ``area_normalized`` (Slaney's: a height of 2 / its width), unit peak otherwise."""
    edges = mel_to_hz(np.linspace(0.0, hz_to_mel(sample_rate / 2.0, htk), n_mels + 2), htk)
    freqs = fft_frequencies(sample_rate, n_fft)
    out = np.zeros((n_mels, len(freqs)))
    for k in range(n_mels):
        low, centre, high = edges[k:k + 3]
        rising, falling = (freqs - low) / (centre - low), (high - freqs) / (high - centre)
        out[k] = np.clip(np.minimum(rising, falling), 0.0, None)
        if area_normalized:
            out[k] *= 2.0 / (high - low)
    return out.astype(np.float32)


def power_to_db(power: ArrayLike, amin: float = 1e-10, top_db: float = 80.0) -> np.ndarray:
    """Power (relative to 1) in dB, floored at ``amin`` and at ``top_db`` below the loudest value."""
    db = 10.0 * np.log10(np.maximum(np.asarray(power), amin))
    return np.maximum(db, db.max() - top_db)


def mfcc(db: np.ndarray, n_mfcc: int) -> np.ndarray:
    """The first ``n_mfcc`` coefficients of the orthonormal DCT-II of mel dB ``[mels, frames]`` along the mels."""
    from scipy.fft import dct

    return dct(db, type=2, norm="ortho", axis=0)[:n_mfcc]


def stft_power(audio: ArrayLike, n_fft: int, hop: int) -> np.ndarray:
    """The power STFT ``[n_fft // 2 + 1, frames]``: periodic Hann frames every ``hop`` samples, the i-th centred
    on sample ``i * hop`` (the signal mirrored by half a frame at each end, its end samples not repeated)."""
    x = np.pad(np.asarray(audio, np.float32).reshape(-1), n_fft // 2, mode="reflect")
    hann = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * hann
    return (np.abs(np.fft.rfft(frames, axis=1)) ** 2).T


__all__ = ["fft_frequencies", "hz_to_mel", "mel_filters", "mel_to_hz", "mfcc", "power_to_db", "stft_power"]
