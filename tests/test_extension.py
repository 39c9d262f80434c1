"""A band extension (``timbre-explorer extend``): a 22.05 kHz model given the band above 8 kHz by a network trained
beside it, on notes the test writes at 44.1 kHz with partials up to 15 kHz."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tiny import tiny_config

from timbre_explorer.core.data.instruments import pitch_name
from timbre_explorer.core.signal.audio_io import save_wav

SR = 44100
#: each partial's amplitude over the one below: the trumpet keeps partials to 15 kHz, the flute hardly any above 2 kHz
ROLL_OFF = {"Flute": 0.3, "Oboe": 0.7, "Clarinet": 0.5, "Trumpet": 0.93, "Piccolo": 0.35}


def wide_note(pitch: int, roll_off: float, level: float, seconds: float = 0.6) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440 * 2 ** ((pitch - 69) / 12)
    x = sum(roll_off ** (k - 1) * np.sin(2 * np.pi * k * f0 * t + k) for k in range(1, 80) if k * f0 < 15000)
    return (level * np.minimum(t / 0.02, 1) * x / np.abs(x).max()).astype(np.float32)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> tuple[Path, Path, Path, Path]:
    """A tiny 22.05 kHz model trained on the wide notes, and the same extended by the command: (model, extended,
    samples, cache)."""
    from timbre_explorer.cli import main
    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.training.loop import Trainer, export_models, train

    root = tmp_path_factory.mktemp("extension")
    samples = root / "samples"
    for name, roll_off in ROLL_OFF.items():
        (samples / name).mkdir(parents=True)
        for pitch in range(60, 72):
            for dyn, level in (("pp", 0.1), ("ff", 0.5)):
                save_wav(samples / name / f"{pitch_name(pitch)}_{dyn}.wav", wide_note(pitch, roll_off, level), SR)
    cfg = tiny_config(samples, baseline=False, epochs_stage1=8, epochs_stage2=4, hidden=64, lr=3e-3, beta=0.2,
                      frames_per_note=16)
    t = Trainer(cfg, dataset_for(cfg.dataset_recipe(), cache_root=root / "cache", workers=1), root / "run")
    for _ in train(t):
        pass
    model = export_models(t)["regularized"]
    extended = root / "extended.timbre.safetensors"
    assert main(["extend", str(model), "--out", str(extended), "--folder", str(samples), "--cache", str(root / "cache"),
                 "--epochs", "8"]) == 0
    return model, extended, samples, root / "cache"


def _click(path: Path, instrument: str) -> tuple[np.ndarray, int]:
    from timbre_explorer.core.synthesis.playable import playable_note
    from timbre_explorer.core.synthesis.space import TimbreSpace

    space = TimbreSpace.open(path, device=torch.device("cpu"))
    return playable_note(space, space.centroids[instrument], pitch=62, dynamic="ff").held(1.2), space.sample_rate


def _above_8k_db(audio: np.ndarray, sr: int) -> float:
    """The energy above 8 kHz from 0.1 s to 1 s, in dB of the whole."""
    a = audio[int(0.1 * sr):sr]
    power = np.abs(np.fft.rfft(a * np.hanning(len(a)))) ** 2
    f = np.fft.rfftfreq(len(a), 1 / sr)
    return float(10 * np.log10(power[f >= 8000].sum() / power.sum() + 1e-30))


def test_the_extended_model_keeps_the_map_and_the_band_below_and_plays_at_44k(models):
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.synthesis.space import TimbreSpace

    model, extended, _, _ = models
    before, after = load_model(model), load_model(extended, card=True)
    assert (after.meta["preset"], after.meta["sample_rate"], after.config.n_bins) == ("nsgt-erb-44k", 44100, 202)
    assert after.config.extension_bins == 202 - before.config.n_bins
    assert after.meta["extension"]["from_preset"] == "nsgt-erb"
    assert np.array_equal(before.arrays["map.z"], after.arrays["map.z"])
    assert all(np.array_equal(before.weights[k], after.weights[k]) for k in before.weights)
    old, new = (TimbreSpace.open(p, device=torch.device("cpu")) for p in (model, extended))
    z = np.asarray(before.arrays["map.z"][:20])
    assert torch.allclose(new.decode(z, pitch=62, dynamic="ff")[:, :before.config.n_bins],
                          old.decode(z, pitch=62, dynamic="ff"), rtol=1e-5, atol=1e-7)
    assert new.sample_rate == 44100 and new.nsgt.n_bins == 202


def test_the_band_above_8khz_plays_and_follows_the_instrument(models):
    """The 22.05 kHz model's click has nothing above 8 kHz; the extended model's has what its notes have there: the
    trumpet (partials to 15 kHz) far more than the flute (none to speak of)."""
    model, extended, _, _ = models
    plain = _above_8k_db(*_click(model, "Trumpet"))
    trumpet, flute = _above_8k_db(*_click(extended, "Trumpet")), _above_8k_db(*_click(extended, "Flute"))
    assert plain < -90
    assert trumpet > -45
    assert trumpet > flute + 20


def test_what_cannot_be_extended_or_calibrated_is_said_in_one_sentence_naming_the_file(models, tmp_path, capsys):
    from timbre_explorer.cli import main

    model, extended, samples, cache = models
    common = ["--folder", str(samples), "--cache", str(cache), "--out", str(tmp_path / "x.timbre.safetensors")]
    assert main(["extend", str(extended), *common]) != 0
    err = capsys.readouterr().err
    assert str(extended) in err and "already makes the band above its own" in err and "Traceback" not in err
    assert main(["extend", str(model), "--preset", "nsgt-cqt-44k", *common]) != 0
    err = capsys.readouterr().err
    assert str(model) in err and "does not continue the model's transform" in err
    assert main(["calibrate", str(extended), *common]) != 0  # its extension was fitted to the calibrated band
    err = capsys.readouterr().err
    assert str(extended) in err and "calibrated before its band is extended" in err
    assert not (tmp_path / "x.timbre.safetensors").exists()


def test_a_cancelled_extension_writes_nothing(models, tmp_path):
    import threading

    from timbre_explorer.core.errors import Cancelled
    from timbre_explorer.core.training.extension import extend_file

    model, _, samples, cache = models
    out = tmp_path / "x.timbre.safetensors"
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        extend_file(model, out=out, folder=samples, cache_root=cache, cancel=cancel)
    assert not out.exists() and list(tmp_path.iterdir()) == []
