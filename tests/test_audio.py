"""The audio engine and audio files: real callback code, no sound card needed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from signals import pull_blocks

from timbre_explorer.audio.engine import VOICE_GAIN
from timbre_explorer.core.errors import AudioFileError
from timbre_explorer.core.signal.audio_io import load_audio, save_wav

SR = 22050


def test_silent_until_asked_then_plays_the_samples(engine):
    assert not pull_blocks(engine, 2).any()
    assert engine.position is None
    sound = np.sin(np.linspace(0, 200, 5000)).astype(np.float32)
    assert engine.play(sound)
    got = pull_blocks(engine, 30) / VOICE_GAIN  # every sound plays at the voices' gain
    n = engine._xfade_len
    np.testing.assert_allclose(got[n:5000, 0], sound[n:], atol=1e-6)  # after the fade-in, exactly the sound
    np.testing.assert_array_equal(got[:, 0], got[:, 1])  # mono on every channel
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)  # a raised-cosine fade-in from exactly 0: no click
    np.testing.assert_allclose(got[:n, 0], sound[:n] * ramp, atol=1e-6)
    assert not got[5000:].any()
    assert engine.position is None  # finished


def test_replacing_a_sound_crossfades(engine):
    engine.play(np.ones(100_000, np.float32))
    pull_blocks(engine, 4)
    engine.play(-np.ones(100_000, np.float32))
    got = pull_blocks(engine, 4)[:, 0] / VOICE_GAIN
    n = engine._xfade_len
    assert got[0] == pytest.approx(1.0, abs=1e-3) and got[n + 5] == pytest.approx(-1.0)
    assert np.all(np.diff(got[: n + 1]) <= 1e-6)  # a monotonic ramp from +1 to -1, no jump
    assert np.max(np.abs(np.diff(got))) < 4.0 / n


def _looping_ramp(engine):
    """A 300-sample ramp playing in a loop, 10 blocks (2560 samples) of it pulled; what came out, at unit gain."""
    engine.play(np.arange(300, dtype=np.float32) / 300, loop=True)
    return pull_blocks(engine, 10)[:, 0] / VOICE_GAIN


def test_a_looped_sound_wraps_to_its_start(engine):
    got = _looping_ramp(engine)
    assert np.isclose(got[300 + 5], 5 / 300) and np.isclose(got[600 + 7], 7 / 300)


def test_the_position_of_a_loop_is_the_place_in_its_sound(engine):
    _looping_ramp(engine)
    assert engine.position == pytest.approx((2560 % 300) / SR)


def test_stop_silences_a_loop_and_clears_the_position(engine):
    _looping_ramp(engine)
    engine.stop()
    tail = pull_blocks(engine, 4)[:, 0]
    assert abs(tail[-1]) < 1e-6 and engine.position is None


def test_volume_scales_output(engine):
    engine.volume = 0.25
    engine.play(np.ones(10_000, np.float32))
    assert pull_blocks(engine, 10)[-1, 0] == pytest.approx(0.25 * VOICE_GAIN)


def test_no_device_degrades_gracefully(monkeypatch, caplog):
    """No PortAudio or no device: unavailable, says why once, play() is a harmless no-op."""
    import timbre_explorer.audio.engine as eng

    monkeypatch.setitem(sys.modules, "sounddevice", None)  # as if PortAudio were not installed
    e = eng.AudioEngine(SR)
    assert not e.available
    assert "PortAudio" in e.status and "WAV" in e.status
    assert e.play(np.ones(100)) is False
    assert sum("PortAudio" in r.message for r in caplog.records) == 1
    assert eng.output_devices() == []


@pytest.mark.skipif(not Path("/usr/share/alsa/alsa.conf").exists(), reason="needs ALSA's configuration files")
def test_real_stream_on_alsa_null_device(tmp_path):
    """A real PortAudio stream on ALSA's null device: the callback runs and the sound advances."""
    pytest.importorskip("sounddevice", exc_type=OSError)
    conf = tmp_path / "asound.conf"
    conf.write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
    script = textwrap.dedent("""
        import time, numpy as np
        from timbre_explorer.audio.engine import AudioEngine
        e = AudioEngine(22050)
        assert e.available, e.status
        e.play(np.zeros(22050 * 60, np.float32))
        deadline = time.time() + 10
        while (e.position or 0) < 0.05 and time.time() < deadline:
            time.sleep(0.01)
        assert (e.position or 0) >= 0.05, e.position
        e.close()
        print("OK", e.status)
    """)
    env = dict(os.environ, ALSA_CONFIG_PATH=f"/usr/share/alsa/alsa.conf:{conf}")
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    if "PortAudio library not found" in run.stderr:
        pytest.skip("PortAudio (libportaudio2) is not installed")
    assert run.returncode == 0, run.stderr
    assert "OK" in run.stdout


def test_a_wav_reads_back_as_written(tmp_path):
    t = np.arange(SR) / SR
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    save_wav(tmp_path / "a.wav", x, SR)
    y = load_audio(tmp_path / "a.wav", SR)
    np.testing.assert_allclose(y, x, atol=1e-5)  # 24-bit
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]  # no temporary file left behind


def test_a_stereo_wav_at_another_rate_is_read_as_mono_at_ours(tmp_path):
    x = (0.5 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)).astype(np.float32)
    save_wav(tmp_path / "b.wav", np.stack([x, x], axis=1), 44100)
    z = load_audio(tmp_path / "b.wav", SR)
    assert z.ndim == 1 and len(z) == SR // 2  # a second's samples at 44.1 kHz are half a second at ours


def test_loud_audio_is_scaled_not_clipped(tmp_path):
    x = np.array([0.0, 2.0, -1.0, 0.5], np.float32)
    save_wav(tmp_path / "loud.wav", x, SR)
    y = load_audio(tmp_path / "loud.wav", SR)
    assert np.abs(y).max() == pytest.approx(0.999, abs=1e-4)
    np.testing.assert_allclose(y / y[1], x / x[1], atol=1e-4)


def test_bad_audio_files(tmp_path):
    with pytest.raises(AudioFileError, match="no such file"):
        load_audio(tmp_path / "missing.wav", SR)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF not really a wave file")
    with pytest.raises(AudioFileError, match="not a readable audio file"):
        load_audio(junk, SR)
    with pytest.raises(AudioFileError, match="non-finite"):
        save_wav(tmp_path / "nan.wav", np.array([0.0, np.nan]), SR)
    assert not (tmp_path / "nan.wav").exists()


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "keep.wav"
    save_wav(target, np.zeros(100, np.float32), SR)
    before = target.read_bytes()
    with pytest.raises(AudioFileError):
        save_wav(target, np.zeros(100, np.float32), SR, subtype="NOT_A_SUBTYPE")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.wav"]


def test_saved_device_is_found_by_name_or_falls_back_to_the_default():
    from timbre_explorer.audio.engine import OutputDevice, saved_device

    devices = [OutputDevice(0, "Built-in", "ALSA", 2, 48000.0, True),
               OutputDevice(3, "USB DAC", "ALSA", 2, 44100.0, False)]
    assert saved_device("USB DAC", devices) == (3, "")
    assert saved_device(None, devices) == (None, "")
    index, note = saved_device("Headphones", devices)
    assert index is None and "Headphones" in note and note.endswith("using the default output.")
