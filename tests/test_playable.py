"""Playable notes: seamless sustain loops of harmonic tones of known pitch, and notes of a real (tiny) model."""

from __future__ import annotations

import numpy as np
import pytest
from signals import steady_tone as harmonic

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.pitch import estimate_pitch
from timbre_explorer.core.synthesis.playable import PlayableNote, hz_to_midi, make_loop, midi_to_hz, playable_note

SR = 22050


def held(note: PlayableNote, seconds: float) -> tuple[np.ndarray, list[int]]:
    """What a keyboard plays while the key is held for ``seconds``: the start, then the loop again and again;
    with the indices where each jump back to ``loop_start`` lands."""
    n = int(seconds * note.sample_rate)
    out = [note.samples[:note.loop_end]]
    seams, total = [], note.loop_end
    while total < n:
        seams.append(total)
        out.append(note.samples[note.loop_start:note.loop_end])
        total += note.loop_end - note.loop_start
    return np.concatenate(out)[:n], [s for s in seams if s < n]


def seam_and_rest(y: np.ndarray, seams: list[int], start: int) -> tuple[float, float]:
    """The largest sample-to-sample step at the seams (2 samples either side) and elsewhere after ``start``."""
    jump = np.abs(np.diff(y.astype(np.float64)))
    near = np.zeros(len(jump), bool)
    for s in seams:
        near[s - 3:s + 2] = True
    near[:start] = False
    rest = ~near
    rest[:start] = False
    return float(jump[near].max()), float(jump[rest].max())


@pytest.mark.parametrize("f0", [261.63, 440.0, 97.0])  # none has a whole number of samples per period
def test_a_looped_tone_held_3_s_has_no_click_at_the_seams(f0):
    note = make_loop(harmonic(f0), SR, hz_to_midi(f0), attack_s=0.02, release_s=0.3)
    length = note.loop_end - note.loop_start
    assert length >= 0.2 * SR and note.loop_start >= 0.02 * SR
    periods = length * f0 / SR
    assert abs(periods - round(periods)) < 0.05  # a whole number of periods, to the nearest sample
    y, seams = held(note, 3.0)
    assert len(seams) >= 8
    at_seam, elsewhere = seam_and_rest(y, seams, note.loop_start)
    assert at_seam <= elsewhere * 1.001
    # the level holds across the seam and through the baked crossfade (constant power, no 3 dB swell)
    p = int(round(SR / f0 * 4))
    rms = [np.sqrt(np.mean(y[i:i + p] ** 2)) for i in range(note.loop_start, len(y) - p, p // 3)]
    assert 20 * np.log10(max(rms) / min(rms)) < 0.3


def test_the_check_would_catch_a_naive_loop():
    """The seam test above can fail: a loop cut at 0.2 s (not whole periods) without a crossfade clicks."""
    x = harmonic(261.63)
    start, end = 441, 441 + int(0.2 * SR)
    naive = PlayableNote(x, SR, hz_to_midi(261.63), start, end, 0.3)
    y, seams = held(naive, 3.0)
    at_seam, elsewhere = seam_and_rest(y, seams, start)
    assert at_seam > 1.2 * elsewhere


def test_a_sound_that_is_not_periodic_still_loops_smoothly():
    """Noise has no period: the crossfade alone must hide the seam (equal power for uncorrelated segments)."""
    rng = np.random.default_rng(1)
    from scipy.signal import lfilter

    x = lfilter([1.0], [1.0, -0.95], rng.standard_normal(SR)).astype(np.float32) * 0.05  # smooth (low-passed) noise
    note = make_loop(x, SR, 60.0, attack_s=0.0, release_s=0.1)
    y, seams = held(note, 3.0)
    at_seam, elsewhere = seam_and_rest(y, seams, note.loop_start)
    assert at_seam <= elsewhere * 1.001
    fade = int(0.05 * SR)
    loop = y[note.loop_start:note.loop_end]
    crossfaded = loop[-fade:]
    assert 20 * np.log10(np.std(crossfaded) / np.std(loop[:-fade])) == pytest.approx(0.0, abs=1.5)


def test_bad_notes_and_sounds_say_why():
    ok = harmonic(440.0)
    with pytest.raises(ParameterError, match="inside its 22050 samples"):
        PlayableNote(ok, SR, 69.0, 100, 30_000, 0.2)
    with pytest.raises(ParameterError, match="finite"):
        PlayableNote(np.array([0.0, np.nan, 0.0]), SR, 69.0, 0, 2, 0.2)
    with pytest.raises(ParameterError, match="pitch"):
        PlayableNote(ok, SR, float("nan"), 0, 100, 0.2)
    with pytest.raises(ParameterError, match="release"):
        PlayableNote(ok, SR, 69.0, 0, 100, -1.0)
    with pytest.raises(ParameterError, match="too short for a 0.2 s loop"):
        make_loop(ok[:3000], SR, 69.0, attack_s=0.02, release_s=0.2)


def test_a_notes_samples_are_read_only_float32():
    note = PlayableNote(harmonic(440.0), SR, 69.0, 0, 100, 0.2)
    assert note.samples.dtype == np.float32 and not note.samples.flags.writeable  # safe to share with the audio thread


def test_pitch_estimates():
    for f0 in (82.41, 261.63, 1046.5):
        assert estimate_pitch(harmonic(f0), SR) == pytest.approx(hz_to_midi(f0), abs=0.1)
    assert estimate_pitch(np.random.default_rng(0).standard_normal(SR), SR) is None
    assert estimate_pitch(np.zeros(SR), SR) is None
    assert midi_to_hz(69.0) == 440.0 and hz_to_midi(880.0) == 24 + 57.0


def test_playable_note_of_a_model_point(tiny_space):
    s = tiny_space
    i = int(np.argmax(s.notes.pitch == 64))
    note = playable_note(s, s.notes.z[i], pitch=64, dynamic=s.dynamics[0])
    assert note.sample_rate == s.sample_rate and note.loop_end - note.loop_start >= 0.2 * s.sample_rate
    assert np.isfinite(note.samples).all() and np.abs(note.samples).max() > 0
    assert abs(note.pitch - 64) < 0.5 or abs(abs(note.pitch - 64) - 12) < 0.5  # its own pitch (the tone was E4)
    with pytest.raises(ParameterError, match="dynamic must be one of"):
        playable_note(s, s.notes.z[i], pitch=64, dynamic="fff")


def test_a_held_note_is_its_attack_its_loop_for_as_long_as_asked_then_its_release():
    ok = harmonic(220.0)
    note = make_loop(ok, SR, hz_to_midi(220.0), attack_s=0.05, release_s=0.2)
    out = note.held(2.7)  # longer than the sound: the loop repeats
    assert len(out) == round(2.7 * SR)
    np.testing.assert_array_equal(out[:note.loop_start], note.samples[:note.loop_start])
    hold = round(2.5 * SR)  # the release takes the last 0.2 s
    rms = lambda a: float(np.sqrt(np.mean(a ** 2)))  # noqa: E731
    assert abs(20 * np.log10(rms(out[hold - SR // 2:hold]) / rms(out[note.loop_start:note.loop_start + SR // 2]))) < 0.5
    assert np.abs(out[-20:]).max() < 1e-3 * np.abs(out).max()  # released to silence
    assert estimate_pitch(out[:hold], SR) == pytest.approx(hz_to_midi(220.0), abs=0.1)


def test_a_played_note_lives_as_the_nearest_real_notes_do(tiny_space):
    """The tiny notes rise over 20 ms, then hold: a played note rises from below its held level, then holds
    at 0 for its loop; a space whose envelopes are a decay (a piano) starts above its held level."""
    from timbre_explorer.core.synthesis.playable import note_life

    s = tiny_space
    assert s.envelopes is not None and s.envelopes.shape == (len(s.notes), 48)
    shape, held_from = note_life(s, s.notes.z[0], 48)
    assert shape[0] < -0.1 and np.allclose(shape[-10:], 0.0, atol=0.05) and 0 < held_from < 0.5
    decaying = np.tile(np.linspace(1.5, -1.0, 48), (len(s.notes), 1))  # 22 dB down over the note
    real = s.envelopes
    try:
        s.envelopes = decaying
        shape, _ = note_life(s, s.notes.z[0], 48)
        assert shape[0] > 0.5 and np.allclose(shape[-10:], 0.0, atol=0.05)  # starts loud, settles, holds
        # a short sample: it holds for the first quarter of its window, then is silent (78 dB down); it holds at
        # its own level, never as if the silence after it were the level its attack rises above
        ends = np.where(np.arange(48) < 12, 0.0, -9.0)
        s.envelopes = np.tile(ends, (len(s.notes), 1))
        shape, _ = note_life(s, s.notes.z[0], 48)
        assert np.allclose(shape, 0.0, atol=0.05)
    finally:
        s.envelopes = real
    note = playable_note(s, s.notes.z[0], pitch=64, dynamic=s.dynamics[0])
    body = note.samples[note.loop_start:note.loop_end]
    onset = note.samples[: int(0.01 * s.sample_rate)]
    assert np.sqrt(np.mean(onset ** 2)) < np.sqrt(np.mean(body ** 2))  # the attack rises to the held level
