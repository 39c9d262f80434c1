"""The pitch and the level of a sound a user brings: what it is told about its sound, and what a
pitch-conditioned model needs to place it.

``estimate_pitch`` runs librosa's pYIN over the sound's sounding frames (within :data:`SOUNDING_DB` of its
loudest) and takes the median of the voiced ones. A frame counts as voiced when pYIN's Viterbi path says so
*and* its voiced probability reaches :data:`VOICED_PROBABILITY`: on white noise pYIN's path marks most frames
voiced, near the lowest pitch it searches, with probabilities around 0.01, while the held part of every
SoundFont note we tried scores 0.5 to 1 (the lowest notes of cello, bassoon, contrabass and tuba 0.2 to
0.5). A sound is pitched when at least :data:`VOICED_SHARE` of its sounding frames are voiced.

On MuseScore_General's notes (18 instruments at their lowest, middle and highest pitch, mf) the estimate is
within 0.1 semitone of the played pitch for 51 of 54 (the piccolo's highest reads 0.2 sharp, the piano's A0
and C8 unpitched); kick, snare, hi-hat and crash cymbal are unpitched, a tom is pitched
(``benchmarks/user_sounds.py``). It takes about 0.5 s for a 1.5 s sound on one CPU core. A sound shorter than
about 50 ms reads unpitched: pYIN's frames are 93 ms long, and on frames mostly silence its voiced probability
stays low (on 512-sample frames the f0 of a 20 ms tone comes out right, but at probabilities of 0.01 to 0.4).
"""

from __future__ import annotations

import numpy as np

from timbre_explorer.core.errors import ParameterError

#: The pitches searched (MIDI): the piano's range, the widest of the instruments the app knows.
PITCH_RANGE = (21.0, 108.0)
#: Frames more than this below the loudest are not part of the sound (the dataset's onset threshold too).
SOUNDING_DB = 30.0
#: pYIN's voiced probability a frame needs to count as voiced (see the module docstring).
VOICED_PROBABILITY = 0.2
#: The share of sounding frames that must be voiced for the sound to have a pitch.
VOICED_SHARE = 0.5
FRAME_LENGTH, HOP_LENGTH = 2048, 1024  # at 22.05 kHz: 93 ms frames (2 periods of A0 fit), a 46 ms hop (as
# accurate as 23 ms on the notes above, at half the time)
POWER_FLOOR = 1e-20


def estimate_pitch(audio, sample_rate: int) -> float | None:
    """The sound's pitch as a MIDI number (a float: 57.0 is A3, 220 Hz), or None when it is unpitched.

    The median over its voiced sounding frames of pYIN's f0 (0.1 semitone resolution); None when fewer than
    :data:`VOICED_SHARE` of the sounding frames are voiced, or the sound is silent.

    >>> t = np.arange(22050) / 22050
    >>> estimate_pitch(np.sin(2 * np.pi * 220 * t), 22050)
    57.0
    """
    import librosa

    a = np.asarray(audio, np.float64).reshape(-1)
    if not np.all(np.isfinite(a)):
        raise ParameterError("the sound holds NaN or infinite samples")
    if a.size == 0 or not np.any(a):
        return None
    scale = FRAME_LENGTH * sample_rate / 22050
    frame = 1 << max(int(np.round(np.log2(scale))), 8)  # the same duration at any rate, a power of two
    hop = frame // (FRAME_LENGTH // HOP_LENGTH)
    if a.size < frame:  # pYIN needs one whole frame; a shorter sound is padded with silence
        a = np.pad(a, (0, frame - a.size))
    f0, voiced, probability = librosa.pyin(a, fmin=float(librosa.midi_to_hz(PITCH_RANGE[0])),
                                           fmax=float(librosa.midi_to_hz(PITCH_RANGE[1])), sr=sample_rate,
                                           frame_length=frame, hop_length=hop)
    rms = librosa.feature.rms(y=a, frame_length=frame, hop_length=hop)[0]
    level = 10 * np.log10(np.maximum(rms ** 2, POWER_FLOOR))
    n = min(len(level), len(f0))
    sounding = level[:n] >= level[:n].max() - SOUNDING_DB
    voiced = voiced[:n] & (probability[:n] >= VOICED_PROBABILITY) & np.isfinite(f0[:n])
    if not sounding.any() or voiced[sounding].mean() < VOICED_SHARE:
        return None
    return round(float(np.median(librosa.hz_to_midi(f0[:n][voiced & sounding]))), 2)


def compile_pitch_tracker() -> None:
    """Run pYIN once on a short tone, so that librosa's numba code is compiled and cached (``./run.sh`` does it
    at install): compiled on a user's first dropped sound instead, it kept them waiting about 20 s."""
    import numpy as np

    sr = 22050
    estimate_pitch((0.3 * np.sin(2 * np.pi * 220.0 * np.arange(sr // 4) / sr)).astype(np.float32), sr)


def level_db(frame_levels) -> float:
    """The RMS level (dB) of a run of frames from their own levels (dB): the power mean, so a sound at
    -20 dBFS in every frame is at -20 dBFS, and a loud half dominates a quiet one as it does in its RMS.

    >>> level_db([-20.0, -20.0])
    -20.0
    """
    levels = np.asarray(frame_levels, np.float64).reshape(-1)
    if levels.size == 0:
        raise ParameterError("no frames to measure the level of")
    return float(10 * np.log10(np.mean(10 ** (levels / 10))))


def harmonic_share(audio, sample_rate: int, f0: float) -> float:
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


__all__ = ["harmonic_share", "estimate_pitch", "compile_pitch_tracker", "level_db", "PITCH_RANGE", "VOICED_PROBABILITY", "VOICED_SHARE", "SOUNDING_DB"]
