"""Note morphs: real notes encoded frame by frame, interpolated trajectory to trajectory (tiny trained model)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny import BRIGHTNESS, SR, synthetic_note

from timbre_explorer.core.errors import AudioFileError, ParameterError
from timbre_explorer.core.signal.audio_io import save_wav
from timbre_explorer.core.signal.descriptors import descriptors
from timbre_explorer.core.signal.nsgt import transform_for
from timbre_explorer.core.synthesis.interpolation import blend, interpolate
from timbre_explorer.core.synthesis.morph import frame_rate, morph, note_audio, parse_spec, resample, trajectory
from timbre_explorer.core.synthesis.synth import render_path


def _note(name: str, seconds: float = 0.6) -> np.ndarray:
    return synthetic_note(65, BRIGHTNESS[name], 0.5, seconds)


def test_trajectory_follows_the_note_from_onset_to_silence(tiny_space):
    s = tiny_space
    assert frame_rate(s) == pytest.approx(48, rel=0.1)
    silence = np.zeros(SR // 4, np.float32)
    audio = np.concatenate([silence, _note("Flute", 0.6)])  # a quarter second before the onset
    t = trajectory(s, audio)
    assert t.dtype == np.float32 and t.shape[1] == s.latent_size
    # from the onset to where the note stops: about 0.6 s of frames, not the padded 1.5 s, nor the silence before
    assert 0.5 * frame_rate(s) <= len(t) <= 0.75 * frame_rate(s)
    assert np.all(np.isfinite(t))
    # the held part lands by its instrument; a brighter note lands by the trumpet
    mid = t[len(t) // 3: 2 * len(t) // 3].mean(0)
    assert s.nearest_instruments(mid, 1, trained_only=False)[0][0] in ("Flute", "Piccolo")
    bright = trajectory(s, _note("Trumpet"))
    assert s.nearest_instruments(bright[len(bright) // 2], 1)[0][0] == "Trumpet"
    with pytest.raises(AudioFileError, match=r"too short \(10 ms; at least 20 ms\)"):
        trajectory(s, _note("Flute", 0.01))
    assert len(trajectory(s, _note("Flute", 0.05))) >= 1  # a user's short sound is padded with silence
    with pytest.raises(AudioFileError, match="silent"):
        trajectory(s, np.zeros(SR, np.float32))


def test_note_audio_reads_files_and_refuses_what_it_cannot_use(tiny_space, tmp_path):
    s = tiny_space
    path = tmp_path / "flute.wav"
    save_wav(path, np.concatenate([np.zeros(SR // 2, np.float32), _note("Flute")]), SR)
    a = note_audio(s, path)
    assert a.shape == (round(s.note_seconds * SR),) and a.dtype == np.float32
    assert np.abs(a[: SR // 50]).max() > 0.01  # starts at the onset, not with the half second of silence
    assert np.allclose(note_audio(s, str(path)), a)
    with pytest.raises(AudioFileError, match="no such file"):
        note_audio(s, tmp_path / "missing.wav")
    with pytest.raises(ParameterError, match="neither an audio file nor a note"):
        note_audio(s, "not-a-note")


def test_a_note_spec_is_read_field_by_field_and_a_bad_field_is_named():
    with pytest.raises(ParameterError, match="pitch"):
        parse_spec("Flute:high:mf")
    with pytest.raises(ParameterError, match="dynamic"):
        parse_spec("Flute:72:loud")
    with pytest.raises(ParameterError, match="instrument"):
        parse_spec("Kazoo:72:mf")
    spec = parse_spec("fl:C5:ff")
    assert (spec.instrument, spec.pitch, spec.dynamic, spec.program) == ("Flute", 72, "ff", 73)


def test_note_audio_renders_a_soundfont_note(tiny_space):
    from timbre_explorer.core.data.sources import find_soundfont

    try:
        find_soundfont()
        import fluidsynth  # noqa: F401
    except Exception:
        pytest.skip("no General MIDI SoundFont or FluidSynth here")
    a = note_audio(tiny_space, "Flute:C5:mf")
    assert a.shape == (round(tiny_space.note_seconds * SR),) and np.abs(a).max() > 0.01
    assert len(trajectory(tiny_space, a)) > 10


def test_morph_resamples_both_notes_and_moves_frame_by_frame(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((5, 4))
    m = morph(a, b)
    assert m.shape == (5, 4)  # the longer note's length
    assert np.allclose(m[0], a[0]) and np.allclose(m[-1], b[-1])
    ra, rb = resample(a, 5), resample(b, 5)
    assert np.allclose(ra[[0, 2, 4]], a) and np.allclose(ra[1], (a[0] + a[1]) / 2)  # linear in time
    assert np.allclose(m[2], (ra[2] + rb[2]) / 2)
    assert morph(a, b, steps=9).shape == (9, 4)
    assert np.allclose(morph(a[0], b, steps=3)[0], a[0])  # a single frame holds still
    with pytest.raises(ParameterError, match="different spaces"):
        morph(a, rng.standard_normal((3, 5)))
    with pytest.raises(ParameterError, match="at least 2 steps"):
        morph(a, b, steps=1)
    with pytest.raises(ParameterError, match="interpolation"):
        morph(a, b, mode="cubic")


def test_blend_is_interpolate_row_by_row(rng):
    a, b = rng.standard_normal(6), rng.standard_normal(6)
    t = np.linspace(0, 1, 7)
    for mode in ("linear", "slerp"):
        assert np.allclose(blend(np.tile(a, (7, 1)), np.tile(b, (7, 1)), t, mode=mode), interpolate(a, b, 7, mode=mode))
    zero = blend(np.zeros((3, 6)), np.tile(b, (3, 1)), np.array([0, 0.5, 1]), mode="slerp")  # no direction at 0
    assert np.allclose(zero, [0 * b, 0.5 * b, b])
    same = blend(np.tile(a, (2, 1)), np.tile(2 * a, (2, 1)), np.array([0.0, 1.0]), mode="slerp")
    assert np.allclose(same, [a, 2 * a])


def test_morph_of_two_notes_goes_from_dark_to_bright(tiny_space):
    s = tiny_space
    ta, tb = trajectory(s, _note("Flute")), trajectory(s, _note("Trumpet"))
    m = morph(ta, tb, mode="slerp")
    assert len(m) == max(len(ta), len(tb)) and np.allclose(m[0], ta[0], atol=1e-5)
    seconds = len(m) / frame_rate(s)
    audio = render_path(s, m, seconds=seconds)
    assert len(audio) == round(seconds * SR)
    # brighter at the end than at the start, past the attack (its onset frames are bright in any tiny model)
    held = audio[int(0.1 * SR):]
    third = len(held) // 3
    nsgt = transform_for(s.preset, third)
    cents = [float(descriptors(nsgt.magnitude(torch.from_numpy(x.astype(np.float64))).mean(-1), nsgt)["centroid"])
             for x in (held[:third], held[-third:])]
    assert cents[1] > 1.15 * cents[0]
