"""Full band: the 44.1 kHz transform reaches 16 kHz, sounds made with it keep what lies above 8 kHz,
and an older model at 22.05 kHz still opens and plays at its own rate."""

from __future__ import annotations

import numpy as np
import soundfile as sf
import torch
from signals import harmonic_tone

from timbre_explorer.cli import main
from timbre_explorer.core.signal.nsgt import transform_for
from timbre_explorer.core.signal.phase import sustain
from timbre_explorer.core.signal.scales import PRESETS

FULL = PRESETS["nsgt-erb-44k"]


def _band_share(audio: np.ndarray, sr: int, low: float, high: float) -> float:
    """The share of the energy between ``low`` and ``high`` Hz."""
    power = np.abs(np.fft.rfft(audio)) ** 2
    f = np.fft.rfftfreq(len(audio), 1 / sr)
    return float(power[(f >= low) & (f < high)].sum() / power.sum())


def test_the_full_band_transform_is_44_1_khz_and_reaches_16_khz_at_the_papers_density():
    old = PRESETS["nsgt-erb"]
    assert FULL.sample_rate == 44100 and FULL.scale.fmax >= 16000
    nsgt, paper = transform_for(FULL, 44100), transform_for(old, 22050)
    # the bands up to 8 kHz sit where the paper's do: ERB bins above 8 kHz at the same density
    assert np.allclose(nsgt.frequencies[:168], paper.frequencies, rtol=1e-4)
    above = nsgt.frequencies[168:]
    assert len(above) == 34 and above[0] > 8000 and above[-1] >= 16000


def test_a_round_trip_at_44_1_khz_keeps_the_content_above_8_khz():
    f0 = 1046.5  # C6: partials up to 15.7 kHz
    x = harmonic_tone(f0, seconds=1.0, sr=44100, partials=15)
    nsgt = transform_for(FULL, x.shape[-1])
    assert torch.allclose(nsgt.backward(nsgt.forward(x)), x, atol=1e-9)  # the transform itself is exact
    original = _band_share(x.numpy(), 44100, 8000, 16000)
    assert original > 0.02
    # magnitudes only, phase reconstructed as a played note is: the band above 8 kHz comes back
    rec = sustain(nsgt.magnitude(x.float()).mean(-1), FULL, seconds=1.0, loop=True)
    audio = rec.audio.numpy()
    assert rec.sample_rate == 44100 and audio.shape == (4 * 44100,)  # a loop is cut from a 4 s period
    assert float(rec.spectral_convergence_db) <= -15.0
    assert _band_share(audio, 44100, 8000, 16000) > 0.5 * original
    for k in (9, 12, 15):  # partials above 8 kHz sound where they should
        f = np.fft.rfftfreq(len(audio), 1 / 44100)
        power = np.abs(np.fft.rfft(audio)) ** 2
        near = power[np.abs(f - k * f0) < 5].sum()
        assert near > 100 * power[np.abs(f - (k + 0.5) * f0) < 5].sum()


def _write_bright_and_dark(root):
    """Four instruments at 44.1 kHz: Trumpet's partials reach 16 kHz at equal levels, the others stop by 4 kHz."""
    from timbre_explorer.core.data.instruments import pitch_name
    from timbre_explorer.core.signal.audio_io import save_wav

    sr, t = 44100, np.arange(int(0.6 * 44100)) / 44100
    for name, top in (("Trumpet", 16000), ("Flute", 2000), ("Oboe", 3000), ("Clarinet", 4000)):
        (root / name).mkdir(parents=True)
        for pitch in range(60, 72):
            f0 = 440 * 2 ** ((pitch - 69) / 12)
            x = sum(np.sin(2 * np.pi * k * f0 * t + k) for k in range(1, 80) if k * f0 < top)
            for dyn, level in (("pp", 0.1), ("ff", 0.5)):
                save_wav(root / name / f"{pitch_name(pitch)}_{dyn}.wav",
                         (level * np.minimum(t / 0.02, 1) * x / np.abs(x).max()).astype(np.float32), sr)
    return root


def test_a_model_trained_full_band_plays_44_1_khz_with_its_high_band(tmp_path):
    from tiny import tiny_config

    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.training.loop import Trainer, export_models, train

    cfg = tiny_config(_write_bright_and_dark(tmp_path / "samples"), preset=FULL.name, hold_out=[],
                      epochs_stage1=10, epochs_stage2=2, hidden=64, lr=3e-3, beta=0.2, frames_per_note=16)
    t = Trainer(cfg, dataset_for(cfg.dataset_recipe(), cache_root=tmp_path / "cache", workers=1), tmp_path / "run")
    for _ in train(t):
        pass
    model = export_models(t)["regularized"]
    assert load_model(model).meta["sample_rate"] == 44100
    shares = {}
    for name in ("Trumpet", "Flute"):
        out = tmp_path / f"{name}.wav"
        assert main(["render", "--model", str(model), "--point", name, "--seconds", "1", "--out", str(out)]) == 0
        audio, sr = sf.read(out)
        assert sr == 44100 and len(audio) == 44100
        shares[name] = _band_share(audio, sr, 8000, 16000)
    # the trumpet's notes hold about a third of their energy above 8 kHz (flat partials to 16 kHz at middle C):
    # its sound keeps a good part of it; the flute's, with nothing up there, keeps next to none
    assert shares["Trumpet"] > 0.1 and shares["Flute"] < 0.01


def test_an_older_22_05_khz_model_still_opens_and_plays_at_its_own_rate(tiny_model, tiny_space, tmp_path):
    from timbre_explorer.audio.engine import AudioEngine
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.synthesis.gestures import DEFAULT_PLAY_PITCH, default_dynamic, point_note

    assert load_model(tiny_model).meta["preset"] == "nsgt-erb"  # the tests' model is the paper's 22.05 kHz one
    note = point_note(tiny_space, tiny_space.centroids["Flute"], pitch=DEFAULT_PLAY_PITCH,
                      dynamic=default_dynamic(tiny_space), seconds=1.0)  # what `render --point Flute` plays
    audio, sr = note.samples, tiny_space.sample_rate
    assert sr == 22050 and len(audio) == 22050 and np.abs(audio).max() > 0.01
    # what it writes is 44.1 kHz all the same: the export rate
    out = tmp_path / "flute.wav"
    assert main(["render", "--model", str(tiny_model), "--point", "Flute", "--seconds", "1", "--out", str(out)]) == 0
    assert (sf.info(out).samplerate, sf.info(out).frames) == (44100, 44100)
    # the engine asks the device for 44.1 kHz and plays the older model's sound at its own rate: resampled, the
    # same second long and the same pitch
    engine = AudioEngine(open_stream=False)
    assert engine.sample_rate == engine.stream_rate == 44100
    voice = engine.make_voice(audio, sr)
    assert len(voice.samples) == 44100

    def peak_hz(x, rate):
        spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
        return np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)]

    assert peak_hz(voice.samples, 44100) == np.float64(peak_hz(audio.astype(np.float32), 22050))
