"""The Philharmonia Orchestra's samples as a sample set: labels from file names, the source, training with it
kept out, and ``evaluate --cross-source philharmonia=FOLDER``. On short synthetic notes the tests write under the
same names, never on the real samples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from tiny import BRIGHTNESS, SR, synthetic_note, write_sample_folder

from timbre_explorer.core.data.dataset import build_dataset
from timbre_explorer.core.data.recipe import dataset_for
from timbre_explorer.core.data.sources import NoteSpec, PhilharmoniaSource, label_philharmonia
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.training.config import TrainConfig

MP3 = "MP3" in soundfile.available_formats()
SUFFIX = ".mp3" if MP3 else ".wav"
WORDS = {"clarinet": "Clarinet", "oboe": "Oboe", "flute": "Flute"}  # three of the tiny model's rated instruments


def label(name: str, **kw) -> NoteSpec | str:
    root = Path("/samples")
    return label_philharmonia(root / name, root, **kw)


def test_file_names_give_instrument_pitch_dynamic_length_and_articulation():
    flute = label("flute/flute_C5_1_forte_normal.mp3")
    assert isinstance(flute, NoteSpec)
    assert (flute.instrument, flute.pitch, flute.dynamic, flute.family, flute.file) == \
        ("Flute", 72, "f", "woodwind", "flute/flute_C5_1_forte_normal.mp3")
    assert flute.technique == "normal 1 s"
    for note, midi in (("Cs4", 61), ("As3", 58), ("Fs2", 42), ("Gs6", 92), ("A0", 21)):  # s: sharp
        assert label(f"oboe_{note}_05_piano_normal.mp3").pitch == midi
    words = {"pianissimo": "pp", "molto-pianissimo": "pp", "piano": "p", "mezzo-piano": "mf", "mezzo-forte": "mf",
             "forte": "f", "fortissimo": "ff"}
    for word, dynamic in words.items():
        assert label(f"trombone_C3_15_{word}_normal.mp3").dynamic == dynamic
    for length, said in (("025", "0.25 s"), ("05", "0.5 s"), ("15", "1.5 s"), ("long", "long"),
                         ("very-long", "very long")):
        assert label(f"cello_A2_{length}_forte_arco-normal.mp3").technique == f"arco-normal {said}"
    ours = {"bassoon": ("Bassoon", "woodwind"), "cello": ("Cello", "strings"), "clarinet": ("Clarinet", "woodwind"),
            "english-horn": ("EnglishHorn", "woodwind"), "french-horn": ("FrenchHorn", "brass"),
            "saxophone": ("Saxophone", "woodwind"), "trombone": ("Trombone", "brass"),
            "double-bass": ("Contrabass", "strings"), "bass-clarinet": ("BassClarinet", "woodwind"),
            "contrabassoon": ("Contrabassoon", "woodwind"), "mandolin": ("Mandolin", "guitar")}
    for word, (name, family) in ours.items():
        spec = label(f"some folder/{word}_E3_1_forte_normal.mp3")
        assert (spec.instrument, spec.family) == (name, family)
    assert label("guitar_E3_very-long_forte_normal.mp3").instrument == "NylonGuitar"
    assert label("banjo_E3_very-long_forte_normal.mp3").instrument == "Banjo"


def test_what_is_not_one_plain_pitched_note_is_skipped_with_its_reason():
    skipped = {"flute_C5_1_forte_staccato.mp3": "articulation staccato",
               "cello_A2_025_forte_pizz-normal.mp3": "articulation pizz-normal",
               "bassoon_C3_phrase_forte_normal.mp3": "a phrase",
               "trombone_C3_1_cresc-decresc_normal.mp3": "changes dynamic (cresc-decresc)",
               "percussion/bass drum/bass-drum__1_forte_struck-singly.mp3": "percussion",
               "Chinese-cymbal__05_forte_damped.mp3": "percussion",
               "tuba_C3_1_forte_normal.mp3": "not a Philharmonia instrument (tuba)",
               "flute_H5_1_forte_normal.mp3": "not a note name",
               "my recording.mp3": "not named like flute_C5_1_forte_normal.mp3"}
    for name, reason in skipped.items():
        said = label(name)
        assert isinstance(said, str) and said.startswith(reason), (name, said)
    asked = label("flute_C5_1_forte_staccato.mp3", articulations=("normal", "staccato"))
    assert isinstance(asked, NoteSpec) and asked.technique == "staccato 1 s"


def write_philharmonia(root: Path, *, brighter: float = 0.0) -> Path:
    """A Philharmonia-named folder (subfolders as downloaded) of short synthetic notes of three rated
    instruments, 4 pitches x 2 dynamics x 2 lengths, and files the source must skip."""
    for word, name in WORDS.items():
        folder = root / "audio" / word
        folder.mkdir(parents=True, exist_ok=True)
        for pitch, note in zip(range(60, 64), ("C4", "Cs4", "D4", "Ds4")):
            for dynamic, level in (("forte", 0.5), ("pianissimo", 0.1)):
                for length, seconds in (("05", 0.5), ("1", 1.0)):
                    soundfile.write(folder / f"{word}_{note}_{length}_{dynamic}_normal{SUFFIX}",
                                    synthetic_note(pitch, BRIGHTNESS[name] + brighter, level, seconds), SR)
    note = synthetic_note(60, 0.5, 0.3)
    soundfile.write(root / "audio" / "flute" / f"flute_C4_phrase_forte_normal{SUFFIX}", note, SR)
    soundfile.write(root / "audio" / "flute" / f"flute_C4_1_forte_staccato{SUFFIX}", note, SR)
    soundfile.write(root / "audio" / "oboe" / f"oboe_C4_1_cresc-decresc_normal{SUFFIX}", note, SR)
    (root / "audio" / "percussion" / "woodblock").mkdir(parents=True)
    soundfile.write(root / "audio" / "percussion" / "woodblock" / f"woodblock__1_forte_struck{SUFFIX}", note, SR)
    (root / "LICENSE.txt").write_text("CC BY-SA 3.0\n")
    return root


@pytest.fixture(scope="module")
def philharmonia(tmp_path_factory) -> Path:
    return write_philharmonia(tmp_path_factory.mktemp("philharmonia"))


@pytest.fixture(scope="module")
def built(philharmonia, tmp_path_factory):
    """The dataset of the test's Philharmonia folder, built once for the module."""
    source = PhilharmoniaSource(str(philharmonia))
    return build_dataset(source, cache_root=tmp_path_factory.mktemp("cache"), workers=1)


def test_the_source_reads_the_folder_and_counts_what_it_skips(built):
    ds = built
    assert ds.sources == ["Philharmonia"] and len(ds) == 3 * 4 * 2 * 2
    assert sorted(set(ds.notes.instrument_name)) == ["Clarinet", "Flute", "Oboe"]
    assert sorted(set(ds.notes.pitch)) == [60, 61, 62, 63] and sorted(set(ds.notes.dynamic_name)) == ["f", "pp"]
    skipped = {s["file"]: s["reason"] for s in ds.manifest["skipped"]}
    assert skipped.keys() == {f"audio/flute/flute_C4_phrase_forte_normal{SUFFIX}",
                              f"audio/flute/flute_C4_1_forte_staccato{SUFFIX}",
                              f"audio/oboe/oboe_C4_1_cresc-decresc_normal{SUFFIX}",
                              f"audio/percussion/woodblock/woodblock__1_forte_struck{SUFFIX}", "LICENSE.txt"}
    assert skipped["LICENSE.txt"].startswith("not an audio file")


def test_the_notes_are_the_files_own_audio(built):
    """Forte louder than pianissimo, by the 14 dB the test wrote."""
    ds = built
    loud = {d: float(np.mean(ds.loudness[ds.notes.first_frame[ds.notes.dynamic_name == d]
                                         + ds.notes.rep_frame[ds.notes.dynamic_name == d]])) for d in ("f", "pp")}
    assert loud["f"] - loud["pp"] == pytest.approx(20 * np.log10(5), abs=1.5)


def test_a_source_of_chosen_instruments_skips_the_others_saying_why(philharmonia):
    chosen = PhilharmoniaSource(str(philharmonia), instruments=("Flute",)).scan()
    assert {n.instrument for n in chosen.notes} == {"Flute"}
    assert sum(reason == "Oboe: not among the instruments chosen" for _, reason in chosen.problems) == 16


def test_a_missing_philharmonia_folder_is_refused(tmp_path):
    with pytest.raises(ParameterError, match=r"nope: no such folder \(the Philharmonia samples\)"):
        PhilharmoniaSource(str(tmp_path / "nope")).scan()


def test_dataset_build_takes_philharmonia_among_its_sources(philharmonia, capsys):
    from timbre_explorer.cli import main

    assert main(["dataset", "build", "--sources", f"philharmonia={philharmonia}", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"audio/flute/flute_Cs4_1_forte_normal{SUFFIX}\tFlute\twoodwind\tpitch 61\tf\tnormal 1 s" in out
    assert f"audio/flute/flute_C4_phrase_forte_normal{SUFFIX}\tSKIPPED: a phrase, not a single note" in out
    assert "48 notes of 3 instruments; 5 files skipped" in out


def test_a_config_reads_philharmonia_from_a_folder(philharmonia, tmp_path):
    entry = f"philharmonia={philharmonia}"
    cfg = TrainConfig.from_dict({"sources": ["FluidR3_GM", entry], "cross_test": "Philharmonia"})
    assert cfg.cross_test == "Philharmonia" and cfg.problems() == []
    assert TrainConfig(sources=["FluidR3_GM", entry], cross_test=entry).cross_test == "Philharmonia"
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    ds = dataset_for(TrainConfig(sources=[entry]).dataset_recipe(), cache_root=tmp_path, workers=1)
    assert ds.sources == ["Philharmonia"] and len(ds) == 48


def test_a_config_names_one_philharmonia_folder(philharmonia, tmp_path):
    entry = f"philharmonia={philharmonia}"
    for bad in (["philharmonia="], [entry, f"philharmonia={tmp_path}"]):
        with pytest.raises(ParameterError, match="name one Philharmonia folder as philharmonia=FOLDER"):
            TrainConfig(sources=bad)


def test_train_with_a_missing_philharmonia_folder_says_so_in_one_sentence(tmp_path, capsys):
    from timbre_explorer.cli import main

    missing = tmp_path / "not here"
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"sources": ["FluidR3_GM", f"philharmonia={missing}"], "cross_test": "Philharmonia"}))
    assert TrainConfig.from_file(config).problems() == \
        [f"{missing}: no such folder (philharmonia=FOLDER names the Philharmonia samples)."]
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err == f"timbre-explorer train: cannot train: {missing}: no such folder (philharmonia=FOLDER names the " \
                  "Philharmonia samples).\n"


def test_evaluate_cross_source_philharmonia_prints_a_table_per_held_out_set(tiny_model, philharmonia, tmp_path,
                                                                            capsys):
    from timbre_explorer.cli import main

    brighter = write_philharmonia(tmp_path / "brighter", brighter=0.1)
    assert main(["evaluate", str(tiny_model), "--cache", str(tmp_path / "cache"),
                 "--folder", str(tiny_model.parent.parent / "samples"), "--cross-source", f"philharmonia={philharmonia}", "--cross-source", f"philharmonia={brighter}"]) == 0
    out = capsys.readouterr().out
    tables = out.split("## Across sources: ")[1:]
    assert len(tables) == 2
    for table in tables:
        assert table.startswith("Philharmonia (48 notes of 3 rated instruments, pp, f)")  # the dynamics written
        for row in ("| model latent |", "| log-spectrum (baseline) |", "| MFCC (baseline) |"):
            assert row in table
    assert tables[0] != tables[1]  # two sets, two tables of their own figures


def test_nearest_share_candidates_are_the_orchestral_instruments_trained_on(tiny_model, tmp_path):
    """A training instrument outside the orchestral ones, whose notes are the held-out flutes' own audio, is no
    candidate: with it, every held-out flute would be nearest to it."""
    from timbre_explorer.core.data.perception import load_dissimilarities
    from timbre_explorer.core.data.sources import FolderSource
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.training.crosssource import NoteSet, cross_source

    held_folder = write_sample_folder(tmp_path / "held")
    train_folder = write_sample_folder(tmp_path / "train", brighter=0.02)
    shutil.copytree(held_folder / "Flute", train_folder / "Theremin")
    mf = load_model(tiny_model)
    preset = mf.meta["preset"]
    trained = build_dataset(FolderSource(str(train_folder)), preset=preset, hold_out=(), cache_root=tmp_path / "c",
                            workers=1)
    held = build_dataset(FolderSource(str(held_folder)), preset=preset, hold_out=(), cache_root=tmp_path / "c",
                         workers=1)
    orchestral = np.flatnonzero(trained.notes.instrument_name != "Theremin")
    with_theremin = cross_source(mf.build_model(), mf.normalization, NoteSet(trained, np.arange(len(trained))),
                                 NoteSet(held, np.arange(len(held))), load_dissimilarities())
    without = cross_source(mf.build_model(), mf.normalization, NoteSet(trained, orchestral),
                           NoteSet(held, np.arange(len(held))), load_dissimilarities())
    for name in ("latent", "logspec", "mfcc"):
        assert with_theremin[name]["nearest_share"] == without[name]["nearest_share"]


def test_a_run_that_keeps_philharmonia_out_reports_it_and_evaluate_reads_the_kept_out_notes(philharmonia, tmp_path,
                                                                                          capsys):
    """FluidR3_GM trains, the Philharmonia folder is the cross-source test (cross_test "Philharmonia"): none of its
    notes trains, the run reports it, and ``evaluate --cross-source philharmonia=FOLDER`` scores those notes."""
    from timbre_explorer.cli import main
    from timbre_explorer.core.data.dataset import CROSS_TEST, leave_source_out
    from timbre_explorer.core.data.sources import named_soundfont

    try:
        named_soundfont("FluidR3_GM")
        import fluidsynth  # noqa: F401
    except Exception as exc:
        pytest.skip(f"no SoundFont here: {exc}")
    cfg = TrainConfig(sources=["FluidR3_GM", f"philharmonia={philharmonia}"], cross_test="Philharmonia",
                      instruments=["Flute", "Oboe", "Clarinet", "Trumpet"], pitch_range=(60, 62), hidden=32, latent=4,
                      epochs_stage1=2, epochs_stage2=2, batch_size=32, warmup_epochs=1, alpha=20.0, mds_dims=3,
                      compare_unconditioned=False, device="cpu")
    ds = dataset_for(cfg.dataset_recipe(), cache_root=tmp_path / "c", workers=1)
    leave_source_out(ds, cfg.cross_test)
    assert set(ds.notes.source_name[ds.where("train")]) == {"FluidR3_GM"}
    assert np.all(ds.notes.split_name[ds.notes.source_name == "Philharmonia"] == CROSS_TEST)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    run = tmp_path / "run"
    assert main(["train", "--config", str(tmp_path / "cfg.json"), "--out", str(run), "--cache", str(tmp_path / "c"),
                 "--workers", "1"]) == 0
    cross = json.loads((run / "report.json").read_text())["cross_source"]
    assert cross["source"] == "Philharmonia" and cross["latent"]["notes"] == 48
    capsys.readouterr()
    assert main(["evaluate", str(run / "model.timbre.safetensors"), "--cache", str(tmp_path / "c"),
                 "--sources", "FluidR3_GM", f"philharmonia={philharmonia}",  # the card's folder: outside the run's
                 "--cross-source", f"philharmonia={philharmonia}"]) == 0
    out = capsys.readouterr().out
    assert "## Across sources: Philharmonia (48 notes of 3 rated instruments" in out
    assert f"| model latent | {cross['in_source_rho']:.3f} | {cross['latent']['spearman_rho']:.3f} |" in out
