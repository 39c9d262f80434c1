"""Several sample sets in one dataset, the leave-one-source-out split, and evaluation across sources."""

from __future__ import annotations

import numpy as np
import pytest
from tiny import train_tiny_model, write_sample_folder

from timbre_explorer.core.data.dataset import CROSS_TEST, CROSS_VALID, build_dataset, leave_source_out
from timbre_explorer.core.data.perception import Dissimilarities
from timbre_explorer.core.data.sources import FolderSource, SoundFontSource, named_soundfont
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.training.config import TrainConfig, soundfont_sources
from timbre_explorer.core.training.crosssource import NoteSet, cross_source, placement_figures


@pytest.fixture(scope="module")
def three_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("sets")
    return tuple(write_sample_folder(root / name) for name in ("setA", "setB", "setC"))


@pytest.fixture(scope="module")
def one_and_two(three_sets, tmp_path_factory):
    """The dataset of setA alone and that of setA and setB (identical audio), built in one cache."""
    a, b, _ = three_sets
    cache = tmp_path_factory.mktemp("cache")
    one = build_dataset(FolderSource(str(a)), cache_root=cache, workers=1)
    two = build_dataset((FolderSource(str(a)), FolderSource(str(b))), cache_root=cache, workers=2)
    return one, two


def test_each_note_records_its_source_and_has_that_sources_frames(one_and_two):
    one, two = one_and_two
    assert one.sources == ["setA"] and two.sources == ["setA", "setB"]
    assert np.sum(two.notes.source_name == "setB") == np.sum(two.notes.source_name == "setA") == len(one)
    # the frames of setB's notes are setB's: identical audio, identical frames to setA's
    np.testing.assert_array_equal(two.representative(np.flatnonzero(two.notes.source_name == "setB")),
                                  one.representative())


def test_the_cache_key_and_the_manifest_cover_every_source(one_and_two):
    one, two = one_and_two
    assert two.manifest["key"] != one.manifest["key"]
    assert [s["name"] for s in two.manifest["sources"]] == ["setA", "setB"]


def test_two_sources_of_one_name_are_refused(three_sets, tmp_path):
    a, _, _ = three_sets
    with pytest.raises(ParameterError, match="share a name"):
        build_dataset((FolderSource(str(a)), FolderSource(str(a))), cache_root=tmp_path, workers=1)


def test_leave_one_source_out_holds_a_source_out_of_training(three_sets, tmp_path):
    ds = build_dataset(tuple(FolderSource(str(p)) for p in three_sets), hold_out=("Piccolo",), cache_root=tmp_path,
                       workers=1)
    before = ds.notes.split_name.copy()
    leave_source_out(ds, "setC", valid_source="setB")
    src, split = ds.notes.source_name, ds.notes.split_name
    novel = split == "novel"
    assert set(split[(src == "setC") & ~novel]) == {CROSS_TEST} and set(split[(src == "setB") & ~novel]) == {CROSS_VALID}
    assert set(src[ds.where("train")]) == {"setA"}  # no note of a held-out source trains
    np.testing.assert_array_equal(split[src == "setA"], before[src == "setA"])  # the in-source splits stay
    assert np.all(before[novel] == "novel") and set(src[novel]) == {"setA", "setB", "setC"}
    with pytest.raises(ParameterError, match="the sources are"):
        leave_source_out(ds, "setD")
    two = build_dataset(tuple(FolderSource(str(p)) for p in three_sets[:2]), cache_root=tmp_path, workers=1)
    with pytest.raises(ParameterError, match="no source to train on"):
        leave_source_out(two, "setA", valid_source="setB")


def test_placement_figures_known_answer():
    """Held-out centroids whose distances order as the ratings do: ρ = 1; notes nearest their own centroid."""
    names = ("Flute", "Oboe", "Trumpet", "Cello")
    pos = np.array([0.0, 1.0, 3.0, 7.0])
    ratings = Dissimilarities(names, np.abs(pos[:, None] - pos[None]) / 7.0, "test")
    labels = np.repeat(np.array(names, dtype=object), 3)
    held = np.repeat(pos, 3)[:, None] + np.tile([-0.1, 0.0, 0.1], 4)[:, None]
    f = placement_figures(held + 0.2, labels, held, labels, ratings)
    assert f["spearman_rho"] == pytest.approx(1.0) and f["pearson_r"] == pytest.approx(1.0)
    assert f["nearest_share"] == 1.0 and f["notes"] == 12
    assert f["by_instrument"]["Flute"] == {"right": 3, "notes": 3, "instead": None}
    swapped = np.where(labels == "Flute", "Oboe", np.where(labels == "Oboe", "Flute", labels))
    f = placement_figures(held, swapped, held, labels, ratings)
    assert f["nearest_share"] == 0.5
    assert f["by_instrument"] == {"Flute": {"right": 0, "notes": 3, "instead": "Oboe"},
                                  "Oboe": {"right": 0, "notes": 3, "instead": "Flute"},
                                  "Trumpet": {"right": 3, "notes": 3, "instead": None},
                                  "Cello": {"right": 3, "notes": 3, "instead": None}}


def test_cross_source_scores_model_and_baselines_on_the_same_notes(tmp_path):
    from timbre_explorer.core.data.dataset import NoteDataset
    from timbre_explorer.core.data.perception import load_dissimilarities
    from timbre_explorer.core.model.modelfile import load_model

    mf = load_model(train_tiny_model(tmp_path))
    trained = NoteDataset(next((tmp_path / "cache").glob("folder-*")))
    held = build_dataset(FolderSource(str(write_sample_folder(tmp_path / "other"))), preset=mf.meta["preset"],
                         hold_out=(), cache_root=tmp_path / "cache", workers=1)
    report = cross_source(mf.build_model(), mf.normalization, NoteSet(trained, trained.where("train")),
                          NoteSet(held, np.arange(len(held))), load_dissimilarities())
    rated = int(np.sum(held.notes.instrument_name != "Piccolo"))
    for name in ("latent", "logspec", "mfcc"):
        f = report[name]
        assert f["notes"] == rated and sorted(f["instruments"]) == ["Clarinet", "Flute", "Oboe", "Trumpet"]
        assert -1 <= f["spearman_rho"] <= 1 and 0 <= f["nearest_share"] <= 1
        assert f["nearest_share"] > 0.25 or name == "latent"  # above chance (4 instruments) for the baselines
    # the held-out set is the training audio again: each placement scores it as it scores the training dataset's
    # own notes (a note is placed by its audio alone, the same way for the model and the baselines)
    same = cross_source(mf.build_model(), mf.normalization, NoteSet(trained, trained.where("train")),
                        NoteSet(trained, np.arange(len(trained))), load_dissimilarities())
    for name in ("latent", "logspec", "mfcc"):
        assert report[name]["spearman_rho"] == pytest.approx(same[name]["spearman_rho"], abs=1e-6)
        assert report[name]["nearest_share"] == pytest.approx(same[name]["nearest_share"])


def test_the_config_trains_on_some_sample_sets_and_keeps_one_out():
    # the default trains on three sample sets and keeps the fourth out as the cross-source test
    assert TrainConfig().sources == ("FluidR3_GM", "MuseScore_General", "TimGM6mb", "sf_GMbank", "freepats")
    assert TrainConfig().cross_test == "freepats" and TrainConfig(sources=["FluidR3_GM"]).cross_test is None
    assert TrainConfig(source="folder", folder="x").cross_test is None
    with pytest.raises(ParameterError, match="leaves none to train on"):
        TrainConfig(sources=["FluidR3_GM", "sf_GMbank"], cross_test="sf_GMbank", cross_valid="FluidR3_GM")
    cfg = TrainConfig(sources=["FluidR3_GM", "sf_GMbank"], soundfont="/x/My.sf2")
    assert cfg.sources == ("FluidR3_GM", "sf_GMbank") and soundfont_sources(cfg) == ("/x/My.sf2", "sf_GMbank")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    for bad in ([], "FluidR3_GM", ["sf_GMbank", "sf_GMbank"]):
        with pytest.raises(ParameterError, match="sources"):
            TrainConfig(sources=bad)


def test_a_named_sample_set_that_is_not_installed_says_how_to_install_it(tmp_path, monkeypatch):
    import timbre_explorer.core.data.sources as sources

    monkeypatch.setitem(sources.KNOWN_SOUNDFONTS, "sf_GMbank", str(tmp_path / "none.sf2"))
    with pytest.raises(ParameterError, match="apt-get install csound-soundfont"):
        named_soundfont("sf_GMbank")
    (tmp_path / "freepats.cfg").write_text("bank 0\n")  # a patch set is there, the program that renders it is not
    monkeypatch.setitem(sources.KNOWN_SOUNDFONTS, "freepats", str(tmp_path / "freepats.cfg"))
    monkeypatch.setattr(sources.shutil, "which", lambda name: None)
    with pytest.raises(ParameterError, match="freepats: TiMidity.*apt-get install freepats timidity"):
        named_soundfont("freepats")


def test_a_soundfont_source_is_named_after_its_file():
    assert SoundFontSource("/usr/share/sounds/sf3/MuseScore_General_Full.sf3").name == "MuseScore_General"
    assert SoundFontSource("/somewhere/Other Bank.sf2").name == "Other Bank"


def test_a_run_that_keeps_a_sample_set_out_reports_across_sources_and_evaluate_agrees(tmp_path, capsys):
    """Two General MIDI sample sets, four rated instruments, three pitches: sf_GMbank is kept out of training;
    the run's report has the figures across sources for the model, its unconditioned twin and both baselines,
    and `evaluate` gives the same in-source figures (on the kept-in sample set only) and the same table, whose
    in-source column is the figure it measured (a card's comes from the training machine's render of the samples)."""
    import json

    from timbre_explorer.cli import main
    from timbre_explorer.core.model.modelfile import load_model, save_model

    try:
        named_soundfont("sf_GMbank"), named_soundfont("FluidR3_GM")
        import fluidsynth  # noqa: F401
    except Exception as exc:
        pytest.skip(f"no SoundFonts here: {exc}")
    cfg = TrainConfig(sources=["FluidR3_GM", "sf_GMbank"], cross_test="sf_GMbank", programs="orchestral",
                      instruments=["Flute", "Oboe", "Trumpet", "Cello"], pitch_range=(60, 62), frames_per_note=4,
                      hidden=32, latent=4, epochs_stage1=2, epochs_stage2=2, batch_size=32,
                      warmup_epochs=1, alpha=20.0, mds_dims=3, device="cpu")
    assert cfg.cross_test == "sf_GMbank"
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    run = tmp_path / "run"
    assert main(["train", "--config", str(tmp_path / "cfg.json"), "--out", str(run), "--cache", str(tmp_path / "c"),
                 "--workers", "1"]) == 0
    report = json.loads((run / "report.json").read_text())
    cross = report["cross_source"]
    assert cross["source"] == "sf_GMbank" and set(cross) >= {"latent", "unconditioned", "logspec", "mfcc"}
    assert cross["latent"]["notes"] == 4 * 3 * 5  # every kept-out note of the rated instruments
    capsys.readouterr()
    assert main(["evaluate", str(run / "model.timbre.safetensors"), "--cache", str(tmp_path / "c"),
                 "--json", str(tmp_path / "e.json")]) == 0
    again = json.loads((tmp_path / "e.json").read_text())
    assert again["test_notes"] == report["test_notes"] and again["spearman_rho"] == pytest.approx(report["spearman_rho"])
    out = capsys.readouterr().out
    assert "## Across sources: sf_GMbank" in out and "unconditioned model latent" in out
    # the table's in-source column is what evaluate measured, not the card's figure from the training machine
    mf = load_model(run / "model.timbre.safetensors")
    save_model(tmp_path / "moved.timbre.safetensors", model=mf.build_model(), normalization=mf.normalization,
               meta={**mf.meta, "metrics": {**mf.meta["metrics"], "spearman_rho": 0.123}}, tensors=mf.arrays)
    assert main(["evaluate", str(tmp_path / "moved.timbre.safetensors"), "--cache", str(tmp_path / "c"),
                 "--sources", "FluidR3_GM", "sf_GMbank"]) == 0
    latent_row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("| model latent"))
    assert f"| {again['spearman_rho']:.3f} |" in latent_row and "0.123" not in latent_row
    # samples that are not the model's (a sample set left out) are refused, not scored on shifted splits
    assert main(["evaluate", str(run / "model.timbre.safetensors"), "--cache", str(tmp_path / "c"),
                 "--sources", "FluidR3_GM"]) != 0
    err = capsys.readouterr().err.strip()
    assert "model.timbre.safetensors: the samples found hold" in err and "(FluidR3_GM, sf_GMbank)" in err
    assert len(err.splitlines()) == 1
    assert "## Across sources: sf_GMbank (60 notes of 4 rated instruments, pp, p, mf, f, ff, kept out as the test)" \
        in (run / "report.md").read_text()
