"""A user's sounds: their pitch and level, placed whole, short and slightly clipped ones accepted; the map's sources."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny import BRIGHTNESS, SR, rewrite_model, synthetic_note

from timbre_explorer.core.data.dataset import CLIP_LEVEL, analyse, sounding
from timbre_explorer.core.errors import ModelFileError, ParameterError
from timbre_explorer.core.signal.audio_io import save_wav
from timbre_explorer.core.signal.pitch import estimate_pitch, level_db
from timbre_explorer.core.synthesis.analysis import encode_files


def _tone(f0: float, partials, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in partials)
    return (amplitude * x / np.abs(x).max()).astype(np.float32)


# ------------------------------------------------------------------------------------------------ pitch and level
def test_pitch_of_tones_of_known_f0():
    assert estimate_pitch(_tone(220.0, [1]), SR) == pytest.approx(57.0, abs=0.1)
    assert estimate_pitch(_tone(220.0, range(2, 9)), SR) == pytest.approx(57.0, abs=0.1)  # no fundamental
    assert estimate_pitch(_tone(440.0 * 2 ** (3 / 12), range(1, 6)), SR) == pytest.approx(72.0, abs=0.1)
    assert estimate_pitch(_tone(55.0, range(1, 8)), SR) == pytest.approx(33.0, abs=0.1)


def _noise() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.3


def test_noise_and_silence_have_no_pitch():
    noise = _noise()
    assert estimate_pitch(noise, SR) is None
    assert estimate_pitch(np.zeros(SR, np.float32), SR) is None


def test_the_pitch_of_a_tone_between_silence_and_noise_is_its_sounding_frames():
    quiet_noise = _noise() * 1e-3
    assert estimate_pitch(np.concatenate([quiet_noise, _tone(220.0, [1, 2, 3]), quiet_noise]), SR) == \
        pytest.approx(57.0, abs=0.1)


def test_a_sound_with_nan_samples_is_refused():
    with pytest.raises(ParameterError, match="NaN"):
        estimate_pitch(np.full(100, np.nan), SR)


def test_level_is_the_power_mean_of_the_frames():
    assert level_db([-20.0, -20.0, -20.0]) == pytest.approx(-20.0)
    assert level_db([-10.0, -100.0]) == pytest.approx(10 * np.log10(0.05), abs=1e-6)  # half the power of -10
    with pytest.raises(ParameterError):
        level_db([])


# ------------------------------------------------------------------------------------------------ placing a note
def test_encode_note_is_the_mean_of_its_sounding_frames_posterior_means(tiny_space):
    s = tiny_space
    audio = np.concatenate([np.zeros(SR // 4, np.float32), synthetic_note(64, BRIGHTNESS["Oboe"], 0.5, 0.6)])
    f = analyse(np.pad(audio, (0, round(s.note_seconds * SR) - len(audio))), preset=s.preset.name,
                sustain_s=s.note_seconds)
    part = sounding(f.loudness)
    rate = len(f.loudness) / s.note_seconds
    # the 0.6 s note (and the transform's spread, about 0.1 s): not the silence before, nor the padding after
    assert part.start > 0 and part.stop < len(f.loudness) and 0.5 <= (part.stop - part.start) / rate <= 0.8
    z = s.encode_note(f.log_magnitude, loudness=f.loudness)
    assert z.shape == (s.latent_size,) and z.dtype == np.float32
    np.testing.assert_allclose(z, s.encode_log(f.log_magnitude[part]).mean(0), atol=1e-5)
    # without the analysis' levels they are measured from the frames: the same frames, the same place
    np.testing.assert_allclose(s.encode_note(f.log_magnitude), z, atol=1e-4)
    # a pitch-conditioned encoder reads the pitch: the note as E4
    at_e4 = s.encode_note(f.log_magnitude, pitch=64.0, loudness=f.loudness)
    np.testing.assert_allclose(at_e4, s.encode_log(f.log_magnitude[part], pitch=64.0).mean(0), atol=1e-5)
    assert s.conditioned and not np.allclose(at_e4, z, atol=1e-4)
    with pytest.raises(ParameterError, match="MIDI number"):
        s.encode_note(f.log_magnitude, pitch=200.0)
    with pytest.raises(ParameterError, match="frames"):
        s.encode_note(f.log_magnitude[:, :10])


def _clipped(share: float) -> np.ndarray:
    """A one-second tone driven into clipping until ``share`` of its samples are at full scale."""
    x = _tone(262.0, range(1, 8))
    return np.clip(x * CLIP_LEVEL / np.quantile(np.abs(x), 1 - share), -1, 1).astype(np.float32)


def test_short_and_slightly_clipped_sounds_are_placed_the_rest_refused(tiny_model, tiny_space, tmp_path, capsys):
    from timbre_explorer.cli import main

    folder = tmp_path / "sounds"
    folder.mkdir()
    save_wav(folder / "clipped.wav", _clipped(0.005), SR)
    save_wav(folder / "crushed.wav", _clipped(0.03), SR)
    for ms in (10, 20, 90):
        save_wav(folder / f"short{ms}.wav", _tone(220.0, [1, 2, 3], ms / 1000), SR)
    save_wav(folder / "tone.wav", _tone(220.0, [1], 1.0), SR)
    out = tmp_path / "out.json"
    assert main(["encode", str(tiny_model), str(folder), "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    files = {Path(f["path"]).name: f for f in report["files"]}
    skipped = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert sorted(files) == ["clipped.wav", "short20.wav", "short90.wav", "tone.wav"]
    assert skipped == {"short10.wav": "too short (10 ms; at least 20 ms)",
                       "crushed.wav": "clipped (3.0 % of samples at full scale)"}
    assert files["clipped.wav"]["warning"].startswith("0.5 % of its samples are at full scale")
    assert files["tone.wav"]["warning"] is None
    for f in files.values():  # every placed sound has a position, neighbours, a level; a pitch when it has one
        assert len(f["z"]) == tiny_space.latent_size and np.all(np.isfinite(f["z"])) and len(f["nearest"]) == 3
        assert -60 < f["loudness_db"] < 0
    assert files["tone.wav"]["pitch"] == pytest.approx(57.0, abs=0.1) and files["clipped.wav"]["pitch"] == \
        pytest.approx(60.0, abs=0.1)
    assert files["short90.wav"]["pitch"] == pytest.approx(57.0, abs=0.1)
    # a sine at amplitude 0.5 is at -9.0 dBFS RMS (the frames' levels are within 1.5 dB for partials off centre)
    assert files["tone.wav"]["loudness_db"] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=1.5)
    err = capsys.readouterr().err
    assert f"{folder / 'clipped.wav'}: 0.5 % of its samples are at full scale (clipped); placed anyway" in err
    assert f"{folder / 'short10.wav'}: skipped: too short (10 ms; at least 20 ms)" in err
    # the same through the function the Explorer calls: the position is the whole note's
    (tone,), _ = encode_files(tiny_space, [folder / "tone.wav"])
    assert tone.z == files["tone.wav"]["z"] and tone.pitch == files["tone.wav"]["pitch"]
    np.testing.assert_allclose(tone.z, np.mean(tone.trajectory, 0), atol=1e-4)


# ------------------------------------------------------------------------------------------------ sources of the map
def test_each_note_of_the_map_records_its_source(two_source_model, tiny_space):
    from timbre_explorer.core.synthesis.space import TimbreSpace

    s = TimbreSpace.open(two_source_model, device=torch.device("cpu"))
    assert s.sources == ["setA", "setB"] and s.file.meta["sources"] == ["setA", "setB"]
    assert np.bincount(s.notes.source).tolist() == [120, 120] and len(s.notes) == 240
    # the same instruments, pitches and dynamics in both: each note of setB has its twin in setA
    a, b = (np.flatnonzero(s.notes.source == k) for k in (0, 1))
    key = lambda i: (int(s.notes.instrument[i]), int(s.notes.pitch[i]), int(s.notes.dynamic[i]))  # noqa: E731
    assert sorted(map(key, a)) == sorted(map(key, b))
    assert tiny_space.sources == ["samples"] and not tiny_space.notes.source.any()


def test_a_file_without_sources_reads_as_its_cards_source(tiny_model, tmp_path):
    from timbre_explorer.core.synthesis.space import TimbreSpace, card_source

    old = tmp_path / "old.timbre.safetensors"
    old.write_bytes(tiny_model.read_bytes())
    rewrite_model(old, doc=lambda d: d.pop("sources"), tensors=lambda t: t.pop("map.source"))
    s = TimbreSpace.open(old, device=torch.device("cpu"))
    assert s.sources == ["samples"] and s.notes.source.tolist() == [0] * len(s.notes)
    assert card_source({"dataset": {"source": "/usr/share/sounds/sf2/FluidR3_GM.sf2"}}) == "FluidR3_GM"
    assert card_source({"dataset": {"source": "/a/My Bank.sf2, /usr/share/sounds/sf2/sf_GMbank.sf2"}}) == \
        "My Bank + sf_GMbank"
    assert card_source({}) == "FluidR3_GM"
    bad = tmp_path / "bad.timbre.safetensors"
    bad.write_bytes(tiny_model.read_bytes())
    rewrite_model(bad, tensors=lambda t: t["map.source"].view(-1).__setitem__(0, 3))
    with pytest.raises(ModelFileError, match=r"map.source holds codes from 0 to 3, outside 0 to 0"):
        TimbreSpace.open(bad)


def test_a_model_file_without_sources_reads_as_one_source(tmp_path):
    """Files from before notes recorded their sample set (the bundled model's first versions): one source."""
    import shutil

    from tiny import rewrite_model

    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.paths import default_model_path

    bundled = TimbreSpace.open(default_model_path(), device=torch.device("cpu"))
    assert bundled.sources == ["FluidR3_GM", "MuseScore_General", "TimGM6mb", "sf_GMbank", "freepats", "Philharmonia"]
    old = tmp_path / "old.timbre.safetensors"
    shutil.copy(default_model_path(), old)

    def forget_sources(card):
        card.pop("sources", None)
        card["dataset"]["source"] = "/usr/share/sounds/sf2/FluidR3_GM.sf2"

    rewrite_model(old, doc=forget_sources, tensors=lambda t: t.pop("map.source"))
    s = TimbreSpace.open(old, device=torch.device("cpu"))
    assert s.sources == ["FluidR3_GM"] and len(s.notes.source) == len(s.notes) and not s.notes.source.any()
