"""The pitch and the level of a sound a user brings: what it is told about its sound, and what a
pitch-conditioned model needs to place it.

``estimate_pitch`` takes the median pitch of the sound's voiced sounding frames (within :data:`SOUNDING_DB` of
its loudest). Each frame's pitch and voiced probability come from :func:`yin_track`, our own code from two
papers: YIN (de Cheveigné and Kawahara, "YIN, a fundamental frequency estimator for speech and music", JASA
111(4), 2002: the difference function, its cumulative mean normalisation, the absolute threshold, parabolic
interpolation) with the probabilistic thresholds of pYIN's first stage (Mauch and Dixon, "pYIN: a fundamental
frequency estimator using probabilistic threshold distributions", ICASSP 2014: the threshold drawn from a
beta distribution of mean 0.1, each trough's probability the chance that it is the one YIN picks). pYIN's
second stage, an HMM over pitch and voicing decoded by Viterbi, is left out: the median over the note's frames
smooths instead. Tried on top (0.1-semitone bins, jumps of up to 25 bins a frame, voicing switching at 0.01),
it changed nothing on MuseScore_General's notes below and lost one of FluidR3_GM's, at six times the time.
librosa's ``pyin`` is the oracle the tests compare against (tests/test_pitch_and_mel_against_librosa.py); none
of its code is used.

A frame counts as voiced when its voiced probability (the chance that some trough is under the threshold)
reaches :data:`VOICED_PROBABILITY`; a sound is pitched when at least :data:`VOICED_SHARE` of its sounding
frames are voiced. On white noise every frame's voiced probability is 0.01: its troughs stay above 0.5, where
the beta distribution leaves almost no mass.

On MuseScore_General's notes (18 instruments at their lowest, middle and highest pitch, mf) the estimate is
within 0.1 semitone of the played pitch for 52 of 54 (the English horn's E4 reads 66.11, its sample sharp and
wavering; the piano's C8, voiced in two frames only, unpitched); librosa's pYIN, which the app used before,
had 51 (on FluidR3_GM's notes 50 and 49). Kick, snare, hi-hat and crash cymbal are unpitched, a tom is pitched
(``benchmarks/user_sounds.py``). A 30 s sound takes about 0.2 s on one CPU core (librosa's pYIN with numba
17 s). A tone of 80 ms or more reads right; a shorter one may read unpitched (a
50 ms one does: the frames are 93 ms long, and on frames mostly silence the normalised difference stays high).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, overload

import numpy as np

from timbre_explorer.core.errors import ParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

#: The pitches searched (MIDI): the piano's range, the widest of the instruments the app knows.
PITCH_RANGE = (21.0, 108.0)
#: Frames more than this below the loudest are not part of the sound (the dataset's onset threshold too).
SOUNDING_DB = 30.0
#: The voiced probability a frame needs to count as voiced (see the module docstring).
VOICED_PROBABILITY = 0.2
#: The share of sounding frames that must be voiced for the sound to have a pitch.
VOICED_SHARE = 0.5
FRAME_LENGTH, HOP_LENGTH = 2048, 1024  # at 22.05 kHz: 93 ms frames (2 periods of A0 fit), a 46 ms hop
POWER_FLOOR = 1e-20
BLOCK_FRAMES = 256  # frames analysed at once: about 12 s, some 50 MB
#: pYIN's threshold distribution, beta(2, 18) (mean 0.1, YIN's threshold), and the weight of a frame's lowest
#: trough when no trough is under the threshold drawn (Mauch and Dixon's p_a).
BETA_PARAMETERS, NO_TROUGH_WEIGHT = (2.0, 18.0), 0.01


def estimate_pitch(audio: ArrayLike, sample_rate: int) -> float | None:
    """The sound's pitch as a MIDI number (a float: 57.0 is A3, 220 Hz), or None when it is unpitched.

    The median over its voiced sounding frames of :func:`yin_track`'s f0; None when fewer than
    :data:`VOICED_SHARE` of the sounding frames are voiced, or the sound is silent.

    >>> t = np.arange(22050) / 22050
    >>> estimate_pitch(np.sin(2 * np.pi * 220 * t), 22050)
    57.0
    """
    a = np.asarray(audio, np.float64).reshape(-1)
    if not np.all(np.isfinite(a)):
        raise ParameterError("the sound holds NaN or infinite samples")
    if a.size == 0 or not np.any(a):
        return None
    scale = FRAME_LENGTH * sample_rate / 22050
    frame = 1 << max(int(np.round(np.log2(scale))), 8)  # the same duration at any rate, a power of two
    hop = frame // (FRAME_LENGTH // HOP_LENGTH)
    if a.size < frame:  # one whole frame at least; a shorter sound is padded with silence
        a = np.pad(a, (0, frame - a.size))
    frames = centred_frames(a, frame, hop)
    blocks = range(0, frames.shape[1], BLOCK_FRAMES)  # a long sound a block at a time, in bounded memory
    f0, voiced = (np.concatenate(x) for x in zip(*(yin_track(frames[:, i:i + BLOCK_FRAMES], sample_rate)[:2]
                                                  for i in blocks)))
    power = np.concatenate([np.mean(frames[:, i:i + BLOCK_FRAMES] ** 2, axis=0) for i in blocks])
    level = 10 * np.log10(np.maximum(power, POWER_FLOOR))
    sounding = level >= level.max() - SOUNDING_DB
    if voiced[sounding].mean() < VOICED_SHARE:
        return None
    return round(float(np.median(12 * np.log2(f0[voiced & sounding] / 440.0) + 69)), 2)


@overload
def midi_to_hz(pitch: float) -> float: ...
@overload
def midi_to_hz(pitch: np.ndarray) -> np.ndarray: ...
def midi_to_hz(pitch: float | np.ndarray) -> float | np.ndarray:
    """A MIDI pitch (or an array of them) in Hz, A4 = 440 Hz."""
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def hz_to_midi(freq: float) -> float:
    return 69.0 + 12.0 * math.log2(freq / 440.0)


def centred_frames(a: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Frames ``[frame, n]`` of ``a`` (a view), the i-th centred on sample ``i * hop`` (silence beyond either end)."""
    padded = np.concatenate([np.zeros(frame // 2), a, np.zeros(frame // 2)])
    return np.lib.stride_tricks.sliding_window_view(padded, frame)[::hop].T


def yin_track(frames: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each frame's f0 (Hz; NaN where unvoiced), whether it is voiced, and its voiced probability, for frames
    ``[length, n]`` and periods within :data:`PITCH_RANGE`.

    YIN's steps 2 to 5 on every frame at once, with pYIN's thresholds: a threshold s drawn from
    :data:`BETA_PARAMETERS` picks the first trough (local minimum) of the normalised difference under s, so a
    trough is picked with the probability that s lies between its value and the lowest value of the troughs
    before it. When no trough is under s, the lowest trough takes :data:`NO_TROUGH_WEIGHT` of that chance. The
    frame's f0 is its likeliest trough's, and its voiced probability the sum over troughs.
    """
    from scipy.special import betainc

    length, n = frames.shape
    shortest = max(int(np.floor(sample_rate / midi_to_hz(PITCH_RANGE[1]))), 2)
    longest = min(int(np.ceil(sample_rate / midi_to_hz(PITCH_RANGE[0]))), length // 2)
    window = length - longest - 1  # YIN's integration window W: the frame holds x[j + tau] for every lag tau
    # step 2, the difference d(tau) = sum over j < W of (x_j - x_{j+tau})^2, from an FFT cross-correlation
    size = 1 << int(np.ceil(np.log2(length + window)))
    spectrum = np.fft.rfft(frames.T, size)
    head = np.fft.rfft(frames[:window].T, size)
    lags = np.arange(longest + 2)
    correlation = np.fft.irfft(spectrum * np.conj(head), size)[:, lags]  # sum_j x_j x_{j+tau}
    energy = np.concatenate([np.zeros((n, 1)), np.cumsum(frames.T ** 2, axis=1)], axis=1)
    shifted = energy[:, lags + window] - energy[:, lags]  # sum_j x_{j+tau}^2
    d = np.maximum(shifted[:, :1] + shifted - 2 * correlation, 0.0)
    # step 3, the cumulative mean normalised difference d'(tau) = d(tau) / mean(d(1..tau)); d'(0) = 1
    running = np.cumsum(d[:, 1:], axis=1) / np.arange(1, longest + 2)
    normalised = np.ones_like(d)
    np.divide(d[:, 1:], running, out=normalised[:, 1:], where=running > 0)
    # step 4, the troughs in the pitch range and the chance that the threshold picks each
    inner = normalised[:, shortest:longest + 1]
    trough = (inner < normalised[:, shortest - 1:longest]) & (inner <= normalised[:, shortest + 1:longest + 2])
    values = np.where(trough, inner, np.inf)
    before = np.minimum.accumulate(np.concatenate([np.full((n, 1), np.inf), values[:, :-1]], axis=1), axis=1)

    def cdf(x: np.ndarray) -> np.ndarray:  # the chance that the threshold is at most x
        return betainc(*BETA_PARAMETERS, np.clip(x, 0.0, 1.0))

    probability = np.where(trough, np.maximum(cdf(before) - cdf(values), 0.0), 0.0)
    rows, lowest = np.arange(n), np.argmin(values, axis=1)
    probability[rows, lowest] += np.where(trough[rows, lowest], NO_TROUGH_WEIGHT * cdf(values[rows, lowest]), 0.0)
    voiced_probability = probability.sum(axis=1)
    best = np.argmax(probability, axis=1) + shortest
    # step 5, the period at the vertex of the parabola through d around the trough (on d, not d': less biased)
    left, centre, right = (d[rows, best + k] for k in (-1, 0, 1))
    curvature = left - 2 * centre + right
    offset = np.divide(left - right, 2 * curvature, out=np.zeros(n), where=curvature > 0)
    period = best + np.clip(offset, -1.0, 1.0)
    voiced = voiced_probability >= VOICED_PROBABILITY
    f0 = np.where(voiced, sample_rate / period, np.nan)
    return f0, voiced, voiced_probability


def level_db(frame_levels: ArrayLike) -> float:
    """The RMS level (dB) of a run of frames from their own levels (dB): the power mean, so a sound at
    -20 dBFS in every frame is at -20 dBFS, and a loud half dominates a quiet one as it does in its RMS.

    >>> level_db([-20.0, -20.0])
    -20.0
    """
    levels = np.asarray(frame_levels, np.float64).reshape(-1)
    if levels.size == 0:
        raise ParameterError("no frames to measure the level of")
    return float(10 * np.log10(np.mean(10 ** (levels / 10))))


def harmonic_share(audio: ArrayLike, sample_rate: int, f0: float) -> float:
    """The share of a sound's energy on the harmonics of ``f0`` (Hz): within ``f0 / 8`` of a multiple of it, over
    a Hann-windowed spectrum of the whole sound. A harmonic tone on ``f0`` gives about 1, white noise about 1/4.

    >>> t = np.arange(22050) / 22050
    >>> round(harmonic_share(np.sin(2 * np.pi * 261.6 * t) + 0.5 * np.sin(2 * np.pi * 523.2 * t), 22050, 261.6), 3)
    1.0
    """
    a = np.asarray(audio, np.float64).reshape(-1)
    power = np.abs(np.fft.rfft(a * np.hanning(len(a)))) ** 2
    freqs = np.fft.rfftfreq(len(a), 1.0 / sample_rate)
    on = np.abs(freqs - np.maximum(np.round(freqs / f0), 1) * f0) <= f0 / 8
    total = float(power.sum())
    return float(power[on].sum() / total) if total > 0 else 0.0


__all__ = ["harmonic_share", "estimate_pitch", "yin_track", "centred_frames", "level_db", "PITCH_RANGE", "VOICED_PROBABILITY", "VOICED_SHARE", "SOUNDING_DB"]
