"""The model that ships in models/default: it loads, it describes itself, its map and report are there."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from timbre_explorer.core.data.instruments import GENERAL_MIDI, INSTRUMENTS
from timbre_explorer.core.model.modelfile import load_model
from timbre_explorer.core.training.evaluate import REPORT_KEYS
from timbre_explorer.paths import default_model_path, models_dir


@pytest.fixture(scope="module")
def shipped():
    """The default model, loaded once for the module's tests."""
    return load_model(default_model_path())


@pytest.fixture(scope="module")
def report():
    """The default model's report.json."""
    return json.loads((models_dir() / "default" / "report.json").read_text())


def test_the_default_model_says_its_transform_instruments_conditioning_and_levels(shipped):
    mf = shipped
    # the paper's 22.05 kHz transform to 8 kHz for the map, and the band from 8 to 16 kHz made beside its decoder
    assert mf.meta["preset"] == "nsgt-erb-44k" and mf.config.n_bins == 202 and mf.config.extension_bins == 34
    assert mf.meta["extension"]["from_preset"] == "nsgt-erb"
    # every pitched General MIDI program and the 18 orchestral instruments, and what the Philharmonia samples add
    assert {i.name for i in INSTRUMENTS} | {i.name for i in GENERAL_MIDI} <= set(mf.meta["instruments"])
    assert mf.config.conditioning == "both" and set(mf.meta["levels"]) == {"pp", "p", "mf", "f", "ff"}


def test_the_default_models_map_places_every_note_of_its_dataset(shipped):
    mf = shipped
    n = mf.arrays["map.z"].shape[0]
    assert n == mf.meta["dataset"]["notes"] > 40000
    assert mf.arrays["map.z"].shape[1] == mf.config.latent


def test_the_default_models_held_out_instruments_and_sample_set_never_trained(shipped):
    mf = shipped
    novel = mf.meta["splits"].index("novel")
    held = {mf.meta["instruments"][i] for i in mf.arrays["map.instrument"][mf.arrays["map.split"] == novel].tolist()}
    assert held == {i.name for i in INSTRUMENTS if i.novel}
    # every note knows its sample set; the cross-source test set (FreePats) never trained
    assert mf.meta["sources"] == ["FluidR3_GM", "MuseScore_General", "TimGM6mb", "sf_GMbank", "freepats",
                                  "Philharmonia"]
    free = mf.arrays["map.source"] == mf.meta["sources"].index("freepats")
    assert bool(free.any()) and not bool((mf.arrays["map.split"][free] == mf.meta["splits"].index("train")).any())


def test_the_default_models_report_holds_the_shipped_figures(shipped, report):
    mf = shipped
    assert set(REPORT_KEYS) <= set(mf.meta["report"]) and "unconditioned" in mf.meta["report"]
    assert report["spearman_rho"] == mf.meta["report"]["spearman_rho"]
    # what holds of the targets (the shipped figures, and what is still out of reach, are in the README):
    # in-source rho 0.87 (the target, 0.9, is not met); reconstruction better than the unconditioned twin's;
    # across sources, above both baselines, far more notes nearest their own instrument than either places
    assert report["spearman_rho"] >= 0.85
    assert report["test_log_mse"] <= report["unconditioned"]["test_log_mse"]
    cross = report["cross_source"]
    assert cross["source"] == "freepats" and cross["latent"]["notes"] > 2000
    assert cross["latent"]["spearman_rho"] > max(cross["logspec"]["spearman_rho"], cross["mfcc"]["spearman_rho"])
    assert cross["latent"]["nearest_share"] > 2 * max(cross["logspec"]["nearest_share"], cross["mfcc"]["nearest_share"])


def test_the_philharmonia_samples_kept_out_of_a_run_place_better_than_both_baselines():
    """The Philharmonia samples, kept out of a run of the same recipe before the shipped model trained on them."""
    fold = json.loads((models_dir() / "default" / "philharmonia_fold.json").read_text())["cross_valid"]
    assert fold["source"] == "Philharmonia" and fold["latent"]["notes"] > 5000
    assert fold["latent"]["spearman_rho"] > max(fold["logspec"]["spearman_rho"], fold["mfcc"]["spearman_rho"])


def test_the_stored_map_decodes_to_finite_spectra(shipped):
    """The stored map is the model's own encoding: decoding a note's position gives a finite spectrum."""
    from timbre_explorer.core.synthesis.space import TimbreSpace

    mf = shipped
    space = TimbreSpace(mf)
    assert torch.isfinite(space.decode(mf.arrays["map.z"][:8], pitch=67, dynamic="ff")).all()
    assert np.isfinite(mf.arrays["map.descriptors"]).all()


@pytest.mark.parametrize("name", ["Trumpet", "Violin"])
def test_a_click_on_the_bundled_model_sounds_above_8_khz_on_its_harmonics(shipped, name):
    """The full band: a centroid click at middle C, mf, plays at 44.1 kHz with energy from 8 to 16 kHz, as the real
    notes have (a trumpet's about 36 dB under the whole; the 22.05 kHz model had none, about 100 dB under), and
    that energy lies on the note's harmonics, not on the bands' centres."""
    from timbre_explorer.core.synthesis.gestures import point_note
    from timbre_explorer.core.synthesis.space import TimbreSpace

    space = TimbreSpace(shipped)
    note = point_note(space, space.centroids[name], pitch=60, dynamic="mf", seconds=1.0)
    assert note.sample_rate == 44100
    held = note.samples[int(0.3 * 44100):int(0.7 * 44100)]
    power = np.abs(np.fft.rfft(held * np.hanning(len(held)))) ** 2
    hz = np.fft.rfftfreq(len(held), 1 / 44100)
    band = (hz > 8000) & (hz < 16000)
    on_harmonics = np.abs(hz / 261.63 - np.round(hz / 261.63)) * 261.63 < 15
    assert -70 < 10 * np.log10(power[band].sum() / power.sum()) < -30
    assert power[band & on_harmonics].sum() > 0.8 * power[band].sum()


def test_both_searches_move_the_centroid_where_asked_on_the_bundled_model():
    """Map notes' centroids +300 Hz, loudness and flatness held, as the descriptor slider asks. Start 23 of this draw
    is where the gradient search used to stall 74 % short (its step size only ever shrank)."""
    from timbre_explorer.core.synthesis.reach import reach
    from timbre_explorer.core.synthesis.space import TimbreSpace

    space = TimbreSpace.open(default_model_path(), device=torch.device("cpu"))
    starts = space.notes.z[np.random.default_rng(0).choice(len(space.notes), 40, replace=False)][[23, 0, 1, 2]]
    base = space.describe(space.decode(starts))["centroid"]
    for method in ("gradient", "greedy"):
        for z, c in zip(starts, base):
            r = reach(space, z, {"centroid": float(c) + 300.0}, method=method)
            assert abs(r.values["centroid"] - float(c) - 300.0) <= 0.05 * 300.0, method
