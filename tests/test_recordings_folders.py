"""A folder of one's own recordings beside the sample sets (``folder=FOLDER`` in ``sources``): its notes carry the
folder's name, it trains or is kept out like any sample set, and ``evaluate --cross-source folder=FOLDER`` scores a
model on it. On the tests' small synthetic notes (``tiny.py``)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from tiny import SR, synthetic_note, write_sample_folder

from timbre_explorer.core.data.recipe import dataset_for
from timbre_explorer.core.data.sources import FolderSource, entry_folder, entry_name, folder_entry_source
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.audio_io import save_wav
from timbre_explorer.core.training.config import TrainConfig

NOTES = 5 * 12 * 2  # write_sample_folder: 5 instruments, 12 pitches, 2 dynamics


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """A folder of recordings named ``studio``, plus two notes whose names give no pitch: one of E4, one of noise."""
    root = write_sample_folder(tmp_path_factory.mktemp("r") / "studio")
    save_wav(root / "Flute" / "breathy_ff.wav", synthetic_note(64, 0.2, 0.5), SR)
    save_wav(root / "Flute" / "air_ff.wav", (0.2 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32), SR)
    return root


def test_an_entry_names_its_folder_and_its_notes_carry_the_folders_name(recordings, tmp_path):
    entry = f"folder={recordings}"
    assert entry_folder(entry) == str(recordings) and entry_folder("FluidR3_GM") is None
    assert entry_name(entry) == "studio" and entry_name("FluidR3_GM") == "FluidR3_GM"
    assert entry_name(f"philharmonia={tmp_path}") == "Philharmonia"
    ds = dataset_for(TrainConfig(sources=[entry]).dataset_recipe(), cache_root=tmp_path, workers=1)
    assert ds.sources == ["studio"] and len(ds) == NOTES + 1
    assert sorted(set(ds.notes.instrument_name)) == ["Clarinet", "Flute", "Oboe", "Piccolo", "Trumpet"]
    pitch = dict(zip(ds.notes.file, ds.notes.pitch))
    assert pitch["Flute/breathy_ff.wav"] == 64 and pitch["Flute/E4_ff.wav"] == 64  # heard, and named
    assert ds.manifest["heard"] == [{"file": "Flute/breathy_ff.wav", "source": "studio", "pitch": 64}]
    skipped = {s["file"]: s["reason"] for s in ds.manifest["skipped"]}
    assert skipped == {"Flute/air_ff.wav": "no pitch in its name, and none heard in it (name it like Fl-ord-C4-mf.wav, "
                                           "or put the pitch as C4 in its name)"}


def test_a_folder_alone_hears_its_pitches_and_keeps_a_drum_of_unknown_pitch(recordings, tmp_path):
    """Training on one's samples alone (``source: folder``), a note named without a pitch is heard too; one with
    none to hear stays, of unknown pitch (a drum), where beside the sample sets it is skipped."""
    ds = dataset_for(TrainConfig(source="folder", folder=str(recordings)).dataset_recipe(), cache_root=tmp_path,
                     workers=1)
    pitch = dict(zip(ds.notes.file, ds.notes.pitch))
    assert len(ds) == NOTES + 2 and ds.manifest["skipped"] == []
    assert (pitch["Flute/breathy_ff.wav"], pitch["Flute/air_ff.wav"], pitch["Oboe/C4_pp.wav"]) == (64, -1, 60)


def test_the_source_keeps_the_instruments_chosen_saying_why_it_skips_the_others(recordings):
    scan = folder_entry_source(f"folder={recordings}", ("Flute", "Oboe")).scan()
    assert {n.instrument for n in scan.notes} == {"Flute", "Oboe"}
    assert sum(reason == "Trumpet: not among the instruments chosen" for _, reason in scan.problems) == 24
    assert len(FolderSource(str(recordings)).scan().notes) == NOTES + 2  # alone, a folder keeps unpitched notes


def test_a_config_trains_on_it_or_keeps_it_out_by_either_name(recordings):
    entry = f"folder={recordings}"
    for held in ("studio", entry):
        cfg = TrainConfig(sources=["FluidR3_GM", entry], cross_test=held)
        assert cfg.cross_test == "studio"
        assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig(sources=["FluidR3_GM", entry]).cross_test is None


def test_a_config_refuses_an_empty_entry_and_two_folders_of_one_name(recordings, tmp_path):
    with pytest.raises(ParameterError, match="folder=FOLDER needs the folder of your recordings"):
        TrainConfig(sources=["FluidR3_GM", "folder="])
    other = tmp_path / "elsewhere" / "studio"
    other.mkdir(parents=True)
    with pytest.raises(ParameterError, match="two sample sets would both be named studio"):
        TrainConfig(sources=[f"folder={recordings}", f"folder={other}"])


def test_train_with_a_missing_folder_says_so_in_one_sentence(tmp_path, capsys):
    from timbre_explorer.cli import main

    missing = tmp_path / "not here"
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"sources": ["FluidR3_GM", f"folder={missing}"]}))
    sentence = f"{missing}: no such folder (folder=FOLDER names your recordings)."
    assert TrainConfig.from_file(config).problems() == [sentence]
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err == f"timbre-explorer train: cannot train: {sentence}\n"


def test_folders_alone_need_no_soundfont(recordings):
    cfg = TrainConfig(sources=[f"folder={recordings}"])
    assert cfg.problems(soundfont_unavailable="No SoundFont here.") == []
    assert TrainConfig(sources=["FluidR3_GM"]).problems(soundfont_unavailable="No SoundFont here.") == \
        ["No SoundFont here."]


def test_dataset_build_lists_it_among_its_sources(recordings, capsys, tmp_path):
    from timbre_explorer.cli import main

    assert main(["dataset", "build", "--sources", f"folder={recordings}", "--cache", str(tmp_path), "--workers", "1"]) == 0
    assert "1 note named without a pitch was given the pitch heard in it" in capsys.readouterr().out

    assert main(["dataset", "build", "--sources", f"folder={recordings}", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Flute/C#4_ff.wav\tFlute\twoodwind\tpitch 61\tff" in out
    assert "Flute/breathy_ff.wav\tFlute\twoodwind\tpitch heard\tff" in out
    assert f"{NOTES + 2} notes of 5 instruments; 0 files skipped" in out


def test_a_run_keeps_one_folder_out_and_evaluate_scores_a_model_on_another(tmp_path, capsys):
    """Two folders train and one is kept out as the cross-source test: the run reports it; ``evaluate
    --cross-source folder=FOLDER`` scores the model on a folder it never heard, a table of its own."""
    from timbre_explorer.cli import main
    from timbre_explorer.core.data.dataset import leave_source_out

    train_a = write_sample_folder(tmp_path / "setA")
    train_b = write_sample_folder(tmp_path / "setB", brighter=0.05)
    held = write_sample_folder(tmp_path / "setC", brighter=0.1)
    later = write_sample_folder(tmp_path / "setD", brighter=-0.05)
    cfg = TrainConfig(sources=[f"folder={f}" for f in (train_a, train_b, held)], cross_test="setC",
                      preset="nsgt-erb", hold_out=["Piccolo"], hidden=32, layers=2, latent=4, epochs_stage1=2,
                      epochs_stage2=2, frames_per_note=4, batch_size=32, warmup_epochs=1, alpha=20.0, mds_dims=3,
                      compare_unconditioned=False, device="cpu")
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    run = tmp_path / "run"
    assert main(["train", "--config", str(tmp_path / "cfg.json"), "--out", str(run), "--cache", str(tmp_path / "c"),
                 "--workers", "1"]) == 0
    cross = json.loads((run / "report.json").read_text())["cross_source"]
    assert cross["source"] == "setC" and cross["latent"]["notes"] == 4 * 12 * 2  # the rated four, not the Piccolo
    capsys.readouterr()
    model = run / "model.timbre.safetensors"
    assert main(["evaluate", str(model), "--cache", str(tmp_path / "c"),
                 "--sources", *cfg.sources, "--cross-source", f"folder={later}"]) == 0
    out = capsys.readouterr().out
    assert f"## Across sources: setD ({cross['latent']['notes']} notes of" in out
    for row in ("| model latent |", "| log-spectrum (baseline) |", "| MFCC (baseline) |"):
        assert row in out
    ds = dataset_for(cfg.dataset_recipe(), cache_root=tmp_path / "c", workers=1)
    leave_source_out(ds, cfg.cross_test)
    assert set(ds.notes.source_name) == {"setA", "setB", "setC"}
    held_split = ds.notes.split_name[ds.notes.source_name == "setC"]
    assert np.all((held_split == "cross_test") | (held_split == "novel")) and np.sum(held_split == "novel") == 24


def test_a_folder_of_one_instrument_is_placed_without_distances_to_correlate(tiny_model, tmp_path, capsys):
    """One instrument gives no distances between instruments: the table says where its notes land (nearest
    instrument right) and leaves ρ and r empty."""
    from timbre_explorer.cli import main

    solo = tmp_path / "solo"
    shutil.copytree(write_sample_folder(tmp_path / "all", brighter=0.05) / "Oboe", solo / "Oboe")
    assert main(["evaluate", str(tiny_model), "--cache", str(tmp_path / "cache"),
                 "--folder", str(tiny_model.parent.parent / "samples"), "--cross-source", f"folder={solo}"]) == 0
    out = capsys.readouterr().out
    assert "## Across sources: solo (24 notes of 1 rated instrument, pp, ff)" in out
    latent = next(line for line in out.splitlines() if line.startswith("| model latent |"))
    cells = [c.strip() for c in latent.strip("|").split("|")]
    assert cells[2:4] == ["–", "–"] and cells[4].endswith("%")


def test_a_folder_named_from_another_middle_c_is_refused_in_one_sentence(tmp_path):
    """Samplers that call middle C "C3" name every note an octave below the pitch it sounds: trained so, every
    note would sit at the wrong pitch. Most of a folder's notes that far off is refused, naming the folder, a file
    and the convention; one note off among the right ones is what pitch trackers do, and builds."""
    from timbre_explorer.core.data.dataset import build_dataset
    from timbre_explorer.core.data.instruments import pitch_name

    low = tmp_path / "named low" / "Flute"
    low.mkdir(parents=True)
    for pitch in range(60, 72):
        save_wav(low / f"{pitch_name(pitch - 12)}_ff.wav", synthetic_note(pitch, 0.2, 0.5), SR)
    with pytest.raises(ParameterError) as refused:
        build_dataset(FolderSource(str(low.parent)), hold_out=(), cache_root=tmp_path / "c", workers=1)
    assert str(refused.value) == (
        f"{low.parent}: 12 of its 12 pitched notes sound an octave above the pitch their names give (Flute/A3_ff.wav "
        "is named A3 and sounds A4): its names count middle C as C3; name each note by the pitch it sounds, "
        "with middle C as C4")
    assert not list((tmp_path / "c").glob("*/manifest.json"))  # nothing half-built is left as a dataset

    mixed = tmp_path / "mostly right" / "Flute"
    mixed.mkdir(parents=True)
    for pitch in range(60, 70):
        save_wav(mixed / f"{pitch_name(pitch)}_ff.wav", synthetic_note(pitch, 0.2, 0.5), SR)
    save_wav(mixed / "C3_pp.wav", synthetic_note(60, 0.2, 0.1), SR)  # sounds C4
    ds = build_dataset(FolderSource(str(mixed.parent)), hold_out=(), cache_root=tmp_path / "c", workers=1)
    assert len(ds) == 11


def test_a_folder_under_home_may_be_named_with_a_tilde(recordings, monkeypatch):
    """``--sources folder=~/recordings``: the shell leaves a ~ after = as it is, so the app expands it."""
    monkeypatch.setenv("HOME", str(recordings.parent))
    cfg = TrainConfig(sources=["FluidR3_GM", "folder=~/studio"], cross_test="studio")
    assert cfg.problems() == [] and cfg.cross_test == "studio"
    assert len(folder_entry_source("folder=~/studio").scan().notes) == NOTES + 2


def test_a_run_that_keeps_a_one_instrument_folder_out_reports_where_its_notes_land(tmp_path):
    """A kept-out folder of one rated instrument: the run finishes, and its report gives the nearest share with ρ
    left empty (one instrument has no distances to rank)."""
    from timbre_explorer.cli import main

    solo = tmp_path / "solo"
    shutil.copytree(write_sample_folder(tmp_path / "other", brighter=0.05) / "Oboe", solo / "Oboe")
    cfg = TrainConfig(sources=[f"folder={write_sample_folder(tmp_path / 'setA')}", f"folder={solo}"],
                      cross_test="solo", preset="nsgt-erb", hold_out=["Piccolo"], hidden=32, layers=2, latent=4,
                      epochs_stage1=2, epochs_stage2=2, frames_per_note=4, batch_size=32, warmup_epochs=1,
                      alpha=20.0, mds_dims=3, compare_unconditioned=False, device="cpu")
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    run = tmp_path / "run"
    assert main(["train", "--config", str(tmp_path / "cfg.json"), "--out", str(run), "--cache", str(tmp_path / "c"),
                 "--workers", "1"]) == 0
    cross = json.loads((run / "report.json").read_text())["cross_source"]
    assert (cross["source"], cross["latent"]["notes"], cross["latent"]["instruments"]) == ("solo", 24, ["Oboe"])
    assert cross["latent"]["spearman_rho"] is None and 0 <= cross["latent"]["nearest_share"] <= 1
    assert "## Across sources: solo (24 notes of 1 rated instrument, pp, ff, kept out as the test)" in \
        (run / "report.md").read_text()
