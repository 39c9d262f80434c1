"""Our pitch tracker (YIN with pYIN's thresholds, core/signal/pitch.py) and MFCC parts (core/signal/mel.py), written
from the papers, against librosa's pYIN and MFCCs on notes rendered from the SoundFont and on noise: the app dropped
librosa, whose numba was a sixth of the packaged app. librosa stays a test tool, the oracle, as nsgt is for our
NSGT. The pitch is a different algorithm (no HMM, a continuous period rather than 0.1-semitone bins), so it is held
to the same f0 within 0.1 semitone where both call a frame voiced; the mel parts are the same formulas."""

from __future__ import annotations

import numpy as np
import pytest

from timbre_explorer.core.signal import mel
from timbre_explorer.core.signal.pitch import PITCH_RANGE, centred_frames, estimate_pitch, yin_track

librosa = pytest.importorskip("librosa")
SR = 22050


@pytest.fixture(scope="module")
def notes(soundfont) -> dict[str, np.ndarray]:
    """A second of a few SoundFont notes across the range, a drum (unpitched) and white noise."""
    from timbre_explorer.core.data.sources import SoundFontSource, from_onset
    from timbre_explorer.core.synthesis.morph import parse_spec

    names = ["Flute:79:mf", "Cello:36:f", "Trumpet:60:p", "Piano:84:mf", "Contrabass:28:ff"]
    specs = [parse_spec(n) for n in names]
    rendered = SoundFontSource(soundfont).render(specs, SR)
    out = {n: from_onset(np.asarray(a, np.float32), SR, SR) for n, a in zip(names, rendered)}
    out["noise"] = np.random.default_rng(0).standard_normal(SR // 2).astype(np.float32) * 0.3
    return out


def test_pitch_tracks_librosas_pyin(notes):
    for name, audio in notes.items():
        a = audio.astype(np.float64)
        f0, voiced, _ = yin_track(centred_frames(a, 2048, 1024), SR)
        theirs, their_voiced, _ = librosa.pyin(a, fmin=float(librosa.midi_to_hz(PITCH_RANGE[0])),
                                               fmax=float(librosa.midi_to_hz(PITCH_RANGE[1])), sr=SR,
                                               frame_length=2048, hop_length=1024)
        if name == "noise":  # librosa's Viterbi path calls most noise frames voiced, at probabilities near 0.01
            assert not voiced.any() and estimate_pitch(audio, SR) is None
            continue
        both = voiced & their_voiced
        apart = np.abs(12 * np.log2(f0[both] / theirs[both]))
        assert np.mean(voiced == their_voiced) >= 0.8, name  # they differ at the attack and the release
        assert np.mean(apart <= 0.1) >= 0.9 and np.median(apart) <= 0.05, name  # an octave apart in a frame at most
        their_pitch = float(np.median(librosa.hz_to_midi(theirs[both])))
        assert estimate_pitch(audio, SR) == pytest.approx(their_pitch, abs=0.1), name
        assert estimate_pitch(audio, SR) == pytest.approx(int(name.split(":")[1]), abs=0.15), name


def test_the_mel_scale_is_librosas():
    hz = np.linspace(0, 22050, 1001)
    for htk in (False, True):
        np.testing.assert_allclose(mel.hz_to_mel(hz, htk), librosa.hz_to_mel(hz, htk=htk), rtol=1e-12)
        np.testing.assert_allclose(mel.mel_to_hz(mel.hz_to_mel(hz, htk), htk), hz, atol=1e-9)


def test_mel_filters_are_librosas():
    for htk, area in ((False, True), (True, False)):
        ours = mel.mel_filters(44100, 2048, n_mels=128, htk=htk, area_normalized=area)
        theirs = librosa.filters.mel(sr=44100, n_fft=2048, n_mels=128, htk=htk, norm="slaney" if area else None)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-9)


def test_fft_frequencies_are_librosas():
    np.testing.assert_allclose(mel.fft_frequencies(22050, 2048), librosa.fft_frequencies(sr=22050, n_fft=2048))


def _trumpet_power(notes) -> np.ndarray:
    """The STFT power of the trumpet's C4 (2048-sample frames, hop 512)."""
    return mel.stft_power(notes["Trumpet:60:p"], 2048, 512)


def test_stft_power_is_librosas(notes):
    audio = notes["Trumpet:60:p"]
    power = _trumpet_power(notes)
    np.testing.assert_allclose(power, np.abs(librosa.stft(audio, n_fft=2048, hop_length=512, pad_mode="reflect")) ** 2,
                               rtol=1e-3, atol=1e-6 * power.max())


def test_decibels_are_librosas(notes):
    power = _trumpet_power(notes)
    filters = mel.mel_filters(SR, 2048)
    db = mel.power_to_db(filters @ power)
    np.testing.assert_allclose(db, librosa.power_to_db(filters @ power, ref=1.0), atol=1e-4)


def test_mfccs_are_librosas(notes):
    db = mel.power_to_db(mel.mel_filters(SR, 2048) @ _trumpet_power(notes))
    np.testing.assert_allclose(mel.mfcc(db, 20), librosa.feature.mfcc(S=db, n_mfcc=20), atol=1e-3)
