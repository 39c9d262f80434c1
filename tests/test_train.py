"""Training, checkpoints and resume, data-parallel runs, export, evaluation: on a tiny synthetic dataset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tiny import (
    SR,
    folder_locked_by_another_process,
    synthetic_note,
    tiny_config,
    train_tiny_model,
    write_sample_folder,
)

from timbre_explorer.cli import main
from timbre_explorer.core.data.recipe import dataset_for
from timbre_explorer.core.errors import Cancelled, ParameterError
from timbre_explorer.core.model.modelfile import load_model
from timbre_explorer.core.model.vae import frame_inputs, split_level
from timbre_explorer.core.signal.audio_io import save_wav
from timbre_explorer.core.training.config import TrainConfig
from timbre_explorer.core.training.evaluate import REPORT_KEYS
from timbre_explorer.core.training.loop import Trainer, export_models, train


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_sample_folder(tmp_path_factory.mktemp("samples"))


tiny = tiny_config


def weights(model) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_config_is_validated():
    with pytest.raises(ParameterError, match="unknown training settings: epochz"):
        TrainConfig.from_dict({"epochz": 3})
    with pytest.raises(ParameterError, match="regularizer"):
        TrainConfig(regularizer="gauss")
    with pytest.raises(ParameterError, match="needs 'folder'"):
        TrainConfig(source="folder")
    with pytest.raises(ParameterError):
        TrainConfig(hidden=0)


@pytest.fixture(scope="module")
def run(folder, cache, tmp_path_factory):
    """A tiny run of every stage, the unregularized baseline and the unconditioned twin included, exported."""
    out = tmp_path_factory.mktemp("run")
    cfg = tiny(folder, baseline=True, compare_unconditioned=True)
    ds = dataset_for(cfg.dataset_recipe(), cache_root=cache, workers=1)
    t = Trainer(cfg, ds, out)
    instruments = set(t.target.instruments)  # before the run
    events = list(train(t))
    return SimpleNamespace(ds=ds, t=t, instruments=instruments, events=events, paths=export_models(t, seconds=1.0),
                           out=out)


def test_training_runs_every_stage_in_order(run):
    events = run.events
    assert run.instruments == {"Clarinet", "Oboe", "Flute", "Trumpet"}  # the rated ones it has
    assert [(e.stage, e.epoch) for e in events] == [
        ("stage1", 1), ("stage1", 2), ("regularized", 1), ("regularized", 2), ("baseline", 1), ("baseline", 2),
        *(("unconditioned", e) for e in range(1, 5))]
    assert events[-1].done_fraction == 1.0
    assert all(np.isfinite(e.metrics["loss"]) for e in events)
    assert events[2].metrics["reg"] > 0 and events[4].metrics["reg"] == 0 and events[2].metrics["alpha"] == 20.0
    assert events[0].metrics["beta"] == 0.0 and events[2].metrics["beta"] == 0.5  # warm-up over 2 epochs


def test_the_unconditioned_twin_trains_its_own_stage_1_then_regularized(run):
    """Its own stage 1 (α = 0), then regularized, on the paper's unconditioned model."""
    t, events = run.t, run.events
    assert [e.metrics["alpha"] for e in events[6:]] == [0.0, 0.0, 20.0, 20.0]
    assert t.models["regularized"][0].config.conditioning == "both"
    assert t.models["unconditioned"][0].config.conditioning == "none"
    assert load_model(run.paths["unconditioned"]).config.conditioning == "none"


def test_regularized_and_baseline_both_start_from_stage_1_then_differ(run):
    reg, base = run.t.models["regularized"][0], run.t.models["baseline"][0]
    assert not torch.equal(reg.enc_mu.weight, base.enc_mu.weight)


def test_the_exported_model_carries_its_map_and_levels(run):
    ds, paths = run.ds, run.paths
    mf = load_model(paths["regularized"])
    assert mf.meta["phase"] == "regularized" and mf.meta["preset"] == "nsgt-erb"
    assert mf.arrays["map.z"].shape == (len(ds), 4)
    assert mf.meta["instruments"][int(mf.arrays["map.instrument"][0])] == ds.notes.instrument_name[0]
    assert mf.arrays["map.descriptors"].shape == (len(ds), 5)
    assert set(mf.meta["levels"]) == {"pp", "ff"} and mf.meta["levels"]["pp"] < mf.meta["levels"]["ff"]


def test_the_run_reports_every_model_with_its_plots(run):
    tmp_path = run.out
    mf = load_model(run.paths["regularized"])
    report = json.loads((tmp_path / "report.json").read_text())
    for twin in ("baseline", "unconditioned"):
        assert set(REPORT_KEYS) <= set(report) and set(REPORT_KEYS) <= set(report[twin])
    assert set(report["novel_instruments"]) == {"Piccolo"}
    assert (tmp_path / "latent_map.png").stat().st_size > 1000 and (tmp_path / "distances.png").is_file()
    assert mf.meta["metrics"]["test_mse"] == pytest.approx(report["test_mse"])


def test_the_exported_file_reconstructs_the_notes_as_the_trainers_copy_does(run):
    t, ds = run.t, run.ds
    mf = load_model(run.paths["regularized"])
    x, c = frame_inputs(mf.config, mf.normalization, torch.from_numpy(ds.representative(np.arange(len(ds)))),
                        torch.from_numpy(ds.notes.pitch.astype(np.float32)))
    with torch.no_grad():
        model, trained = mf.build_model(), t.models["regularized"][0].cpu().eval()
        assert torch.allclose(model.decode(model.encode(x, c)[0], c)[0], trained.decode(trained.encode(x, c)[0], c)[0])


def test_resume_after_cancel_equals_an_uninterrupted_run(folder, cache, tmp_path):
    cfg = tiny(folder, baseline=False)
    ds = dataset_for(cfg.dataset_recipe(), cache_root=cache, workers=1)
    whole = Trainer(cfg, ds, tmp_path / "whole")
    for _ in train(whole):
        pass
    cancel = threading.Event()
    part = Trainer(cfg, ds, tmp_path / "part")
    with pytest.raises(Cancelled):
        for e in train(part, cancel=cancel):
            if (e.stage, e.epoch) == ("regularized", 1):
                cancel.set()
    assert (tmp_path / "part" / "checkpoints" / "regularized.safetensors").is_file()
    again = Trainer(cfg, ds, tmp_path / "part")
    events = list(train(again, resume=True))
    assert [(e.stage, e.epoch) for e in events] == [("regularized", 2)]
    a, b = weights(whole.models["regularized"][0]), weights(again.models["regularized"][0])
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_two_gloo_ranks_end_with_identical_weights(folder, cache, tmp_path):
    cfg = tiny(folder, dump_rank_weights=True, epochs_stage1=1, epochs_stage2=1, batch_size=16, baseline=True)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # --standalone: a free port of its own (a fixed one clashed when two suites ran on one machine)
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                          "--standalone", "-m", "timbre_explorer", "train", "--config",
                          str(tmp_path / "cfg.json"), "--out", str(tmp_path / "out"), "--cache", str(cache),
                          "--workers", "1"], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    for stage in ("stage1", "regularized", "baseline"):
        r0 = load_file(str(tmp_path / "out" / f"rank0.{stage}.safetensors"))
        r1 = load_file(str(tmp_path / "out" / f"rank1.{stage}.safetensors"))
        assert r0.keys() == r1.keys() and all(torch.equal(r0[k], r1[k]) for k in r0), stage
    assert (tmp_path / "out" / "model.timbre.safetensors").is_file()


def test_a_folder_without_rated_instruments_says_what_to_do(tmp_path, cache):
    for name in ("Kazoo", "Theremin"):
        (tmp_path / "s" / name).mkdir(parents=True)
        for pitch in range(60, 66):
            save_wav(tmp_path / "s" / name / f"{pitch}.wav", synthetic_note(pitch, 0.5, 0.3), SR)
    cfg = tiny(tmp_path / "s", hold_out=[])
    ds = dataset_for(cfg.dataset_recipe(), cache_root=cache, workers=1)
    with pytest.raises(ParameterError, match="only 0 of the dataset's instruments were rated"):
        Trainer(cfg, ds, tmp_path / "out")
    t = Trainer(tiny(tmp_path / "s", hold_out=[], regularizer="none"), ds, tmp_path / "out")
    assert [e.stage for e in train(t)] == ["stage1"] * 2 + ["regularized"] * 2


def test_cli_train_then_evaluate(folder, cache, tmp_path, capsys):
    cfg = tiny(folder, epochs_stage1=1, epochs_stage2=1, baseline=True)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
    assert main(["train", "--config", str(tmp_path / "cfg.json"), "--out", str(tmp_path / "run"),
                 "--cache", str(cache), "--workers", "1"]) == 0
    assert "| Spearman ρ" in capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "run" / "model.timbre.safetensors"), "--baseline",
                 str(tmp_path / "run" / "baseline.timbre.safetensors"), "--json", str(tmp_path / "e.json"),
                 "--cache", str(cache), "--folder", str(folder)]) == 0  # the samples lie outside the run folder
    report = json.loads((tmp_path / "e.json").read_text())
    saved = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["spearman_rho"] == pytest.approx(saved["spearman_rho"], abs=1e-6)
    assert report["baseline"]["test_mse"] == pytest.approx(saved["baseline"]["test_mse"], abs=1e-6)
    assert main(["train", "--config", str(tmp_path / "missing.json")]) == 1
    assert "not a readable JSON training config" in capsys.readouterr().err


def test_rebuild_builds_the_cached_dataset_again_and_without_it_train_and_evaluate_reuse_it(folder, tmp_path):
    """A file left in the cached dataset stays while train and evaluate reuse it; --rebuild replaces the dataset."""
    cache = tmp_path / "cache"
    cfg = tiny(folder, epochs_stage1=1, epochs_stage2=1, baseline=False)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))

    def train_into(run: str, *extra: str) -> None:
        assert main(["train", "--config", str(tmp_path / "cfg.json"), "--out", str(tmp_path / run), "--cache",
                     str(cache), "--workers", "1", *extra]) == 0

    def evaluate(*extra: str) -> None:
        assert main(["evaluate", str(tmp_path / "first" / "model.timbre.safetensors"), "--cache", str(cache),
                     "--folder", str(folder), *extra]) == 0

    train_into("first")
    (dataset,) = cache.iterdir()
    for step, rebuilt in ((lambda: train_into("again"), False), (lambda: train_into("rebuilt", "--rebuild"), True),
                          (evaluate, False), (lambda: evaluate("--rebuild"), True)):
        mark = dataset / "left-here"
        mark.write_text("a file no build writes")
        written = (dataset / "manifest.json").stat().st_mtime_ns  # a build writes its manifest last
        step()
        assert list(cache.iterdir()) == [dataset]
        assert mark.exists() != rebuilt and ((dataset / "manifest.json").stat().st_mtime_ns == written) != rebuilt
        mark.unlink(missing_ok=True)


def test_encode_places_new_sounds_and_reports_bad_files(folder, cache, tmp_path, capsys):
    cfg = tiny(folder, epochs_stage1=3, epochs_stage2=3)
    t = Trainer(cfg, dataset_for(cfg.dataset_recipe(), cache_root=cache, workers=1), tmp_path / "run")
    for _ in train(t):
        pass
    model = export_models(t)["regularized"]
    new = tmp_path / "new"
    new.mkdir()
    save_wav(new / "bright.wav", synthetic_note(64, 0.85, 0.4), SR)
    save_wav(new / "silent.wav", np.zeros(SR, np.float32), SR)
    (new / "broken.flac").write_bytes(b"nope")
    assert main(["encode", str(model), str(new), "--json", str(tmp_path / "enc.json")]) == 0
    out = json.loads((tmp_path / "enc.json").read_text())
    assert [os.path.basename(f["path"]) for f in out["files"]] == ["bright.wav"]
    f = out["files"][0]
    assert len(f["z"]) == 4 and len(f["trajectory"]) > 10 and len(f["nearest"]) == 3
    assert f["nearest"][0]["distance"] <= f["nearest"][1]["distance"]
    # a note of the dataset lands where the evaluation across sources places it: its whole sounding part
    mf = load_model(model)
    from timbre_explorer.core.model.placement import note_positions
    from timbre_explorer.core.synthesis.analysis import encode_files
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.core.training.crosssource import NoteSet

    (known,), _ = encode_files(TimbreSpace(mf), [folder / "Trumpet" / "E4_ff.wav"])
    ds = t.ds
    i = int(np.flatnonzero(ds.notes.file == "Trumpet/E4_ff.wav")[0])
    note = NoteSet(ds, np.array([i]))
    placed = note_positions(mf.build_model(), mf.normalization, note.sounding_frames(), pitches=note.pitches)[0]
    assert np.allclose(known.z, placed, atol=1e-4) and known.pitch == pytest.approx(64.0, abs=0.1)
    assert known.descriptors["centroid"] == pytest.approx(float(mf.arrays["map.descriptors"][i, 0]), rel=1e-3)
    skipped = {os.path.basename(s["path"]): s["reason"] for s in out["skipped"]}
    assert skipped["silent.wav"].startswith("silent") and "not a readable audio file" in skipped["broken.flac"]
    assert "skipped" in capsys.readouterr().err


def test_a_diverging_loss_stops_with_a_clear_message(folder, cache, tmp_path):
    from timbre_explorer.core.errors import TimbreExplorerError

    cfg = tiny(folder, lr=1e30)
    t = Trainer(cfg, dataset_for(cfg.dataset_recipe(), cache_root=cache, workers=1), tmp_path)
    with pytest.raises(TimbreExplorerError, match="the loss became .* lower the learning rate"):
        for _ in train(t):
            pass


def test_settings_run_folders_and_messages_load_without_torch():
    """The Trainer tab learns the defaults, reads run folders and dispatches messages before torch loads."""
    code = ("import sys\n"
            "from timbre_explorer.core.training import checkpoint, messages, runfolder, tasks\n"
            "from timbre_explorer.core.training.config import TrainConfig\n"
            "TrainConfig().to_dict(), TrainConfig().problems()\n"
            "sys.exit(1 if 'torch' in sys.modules else 0)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_config_names_the_core_presets():
    from timbre_explorer.core.signal.scales import DEFAULT_PRESET, PRESETS
    from timbre_explorer.core.training.config import PRESETS as CONFIG_PRESETS

    assert tuple(CONFIG_PRESETS) == tuple(PRESETS) and TrainConfig().preset == DEFAULT_PRESET


def test_config_counts_the_epochs_of_its_schedule():
    cfg = TrainConfig(epochs_stage1=3, epochs_stage2=5, baseline=True)
    assert cfg.stages() == {"stage1": 3, "regularized": 5, "baseline": 5, "unconditioned": 8}
    assert cfg.total_epochs() == 21
    for plain in (dict(baseline=False), dict(regularizer="none"), dict(alpha=0.0)):
        assert TrainConfig(**{"epochs_stage1": 3, "epochs_stage2": 5, "compare_unconditioned": False,
                              "baseline": True, **plain}).total_epochs() == 8, plain
    assert TrainConfig(conditioning="none").stages() == {"stage1": 30, "regularized": 40}  # the paper's model alone


def test_config_problems_say_why_a_run_cannot_start(tmp_path):
    """One set of checks for the command line and the Trainer tab; each is skipped when its fact is unknown."""
    assert TrainConfig().problems() == []
    assert TrainConfig(epochs_stage1=0, epochs_stage2=0).problems() == [
        "Nothing to train: give stage 1 or stage 2 some epochs."]
    assert "α is 0" in " ".join(TrainConfig(alpha=0.0).problems())
    assert TrainConfig(alpha=0.0, regularizer="none").problems() == []
    assert TrainConfig(source="folder", folder=str(tmp_path / "nowhere")).problems() == [
        f"{tmp_path / 'nowhere'}: no such folder."]
    assert TrainConfig(source="folder", folder=str(tmp_path)).problems() == []
    assert TrainConfig(device="cuda").problems(cuda=False) == [
        "The device is CUDA, but torch sees no CUDA GPU here: choose auto or CPU."]
    assert TrainConfig(device="cuda").problems(cuda=True) == TrainConfig(device="cuda").problems() == []
    assert TrainConfig().problems(soundfont_unavailable="no SoundFont") == ["no SoundFont"]
    assert TrainConfig(soundfont="my.sf2").problems(soundfont_unavailable="no SoundFont") == []
    rated = ["Flute", "Oboe", "Clarinet"]
    assert TrainConfig().problems(instruments=rated) == []
    held = TrainConfig(hold_out=rated).problems(instruments=rated)
    assert held == ["Every instrument is held out: check at least one to train on."]
    assert "Only 2 of these instruments were rated" in " ".join(TrainConfig().problems(instruments=rated[:2]))
    assert TrainConfig(regularizer="none").problems(instruments=rated[:2]) == []
    assert TrainConfig(ratings="mine.csv").problems(instruments=["Kazoo"]) == []


def test_cli_train_refuses_a_config_with_problems(tmp_path, capsys):
    (tmp_path / "cfg.json").write_text(json.dumps({"epochs_stage1": 0, "epochs_stage2": 0}))
    assert main(["train", "--config", str(tmp_path / "cfg.json"), "--out", str(tmp_path / "run")]) == 1
    assert "cannot train: Nothing to train" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_checkpoints_card_reads_without_its_tensors_and_restore_resumes(tmp_path):
    from timbre_explorer.core.model.vae import TimbreVAE, VAEConfig
    from timbre_explorer.core.training.checkpoint import read_checkpoint, save_checkpoint

    model = TimbreVAE(VAEConfig(n_bins=8, hidden=8, layers=1, latent=2))
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 8)).x_mu.sum().backward()
    opt.step()
    save_checkpoint(tmp_path / "a.safetensors", model, opt, stage="regularized", epoch=3, history=[{"loss": 1.0}],
                    config={"hidden": 8})
    card = read_checkpoint(tmp_path / "a.safetensors")
    assert (card.stage, card.epoch, card.history, card.config) == ("regularized", 3, [{"loss": 1.0}], {"hidden": 8})
    again = TimbreVAE(VAEConfig(n_bins=8, hidden=8, layers=1, latent=2))
    again_opt = torch.optim.Adam(again.parameters())
    card.restore(again, again_opt)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert again_opt.state_dict()["state"][0]["step"] == 1
    assert set(card.model_state()) == set(model.state_dict())


def test_a_card_written_before_stage_says_phase(tmp_path):
    from safetensors.torch import save_file

    from timbre_explorer.core.training.checkpoint import read_checkpoint

    old = {"info": json.dumps({"phase": "stage1", "epoch": 2, "history": [], "config": {}})}
    save_file({"model.x": torch.zeros(1)}, str(tmp_path / "old.safetensors"), metadata=old)
    assert read_checkpoint(tmp_path / "old.safetensors").stage == "stage1"


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    from timbre_explorer.core.errors import TimbreExplorerError
    from timbre_explorer.core.training.checkpoint import read_checkpoint

    (tmp_path / "bad.safetensors").write_bytes(b"nope")
    with pytest.raises(TimbreExplorerError, match="not a readable checkpoint"):
        read_checkpoint(tmp_path / "bad.safetensors")


def test_a_run_folder_refuses_another_run_and_a_resume_takes_the_runs_own_settings(folder, cache, tmp_path, capsys):
    """A finished run's folder: a run of other settings is refused (its checkpoints stay); --resume with another
    config carries on the run's own settings, so the model's card describes the weights it holds."""
    from timbre_explorer.core.training.checkpoint import read_checkpoint

    first = tiny(folder, epochs_stage1=1, epochs_stage2=1, baseline=False)
    other = tiny(folder, epochs_stage1=1, epochs_stage2=1, baseline=False, seed=7, hidden=48)
    (tmp_path / "first.json").write_text(json.dumps(first.to_dict()))
    (tmp_path / "other.json").write_text(json.dumps(other.to_dict()))
    run = tmp_path / "A"
    common = ["--out", str(run), "--cache", str(cache), "--workers", "1"]
    assert main(["train", "--config", str(tmp_path / "first.json"), *common]) == 0
    model = run / "model.timbre.safetensors"
    trained, ckpt = model.read_bytes(), (run / "checkpoints" / "stage1.safetensors").read_bytes()
    capsys.readouterr()

    assert main(["train", "--config", str(tmp_path / "other.json"), *common]) == 1
    err = capsys.readouterr().err
    assert f"{run} holds a run with other settings; use --resume" in err and err.count("\n") == 1
    assert model.read_bytes() == trained and (run / "checkpoints" / "stage1.safetensors").read_bytes() == ckpt

    assert main(["train", "--config", str(tmp_path / "other.json"), "--resume", *common]) == 0
    assert "resuming with the settings" in capsys.readouterr().out
    mf = load_model(model)
    assert mf.meta["training"]["seed"] == 0 and mf.meta["training"]["hidden"] == 32
    assert read_checkpoint(run / "checkpoints" / "regularized.safetensors").config == first.to_dict()
    (tmp_path / "trained.timbre.safetensors").write_bytes(trained)
    resumed, finished = mf.build_model().state_dict(), load_model(tmp_path / "trained.timbre.safetensors").build_model()
    assert all(torch.equal(resumed[k], v) for k, v in finished.state_dict().items())  # nothing left to train


def test_a_run_folder_is_locked_while_a_process_trains_in_it(folder, cache, tmp_path, capsys):
    """A second train in a folder another process holds stops at once, naming that process; nothing is written."""
    from timbre_explorer.core.training.runfolder import holds_run

    run = tmp_path / "A"
    with folder_locked_by_another_process(run) as holder:
        cfg = tiny(folder, epochs_stage1=1, epochs_stage2=1)
        (tmp_path / "cfg.json").write_text(json.dumps(cfg.to_dict()))
        second = subprocess.run([sys.executable, "-m", "timbre_explorer", "train", "--config",
                                 str(tmp_path / "cfg.json"), "--out", str(run), "--cache", str(cache),
                                 "--workers", "1"], capture_output=True, text=True, timeout=120)
        assert second.returncode != 0
        assert second.stderr.strip() == (f"timbre-explorer train: {run} is in use by process {holder}, which "
                                         "trains in it: wait for it to end, or choose another run folder")
        assert not holds_run(run)


def test_progress_arrives_within_the_first_epoch(folder, cache, tmp_path):
    """Every batch reports (the first epoch of a large dataset takes a minute); the worker passes on a few."""
    from timbre_explorer.core.training.messages import BatchProgress, TrainProgress
    from timbre_explorer.core.training.run import BatchReporter

    cfg = tiny(folder, epochs_stage1=1, epochs_stage2=1, baseline=False)
    t = Trainer(cfg, dataset_for(cfg.dataset_recipe(), cache_root=cache, workers=1), tmp_path)
    seen: list = []
    for p in train(t, on_batch=seen.append):
        seen.append(p)
    first_epoch = seen[:seen.index(next(e for e in seen if isinstance(e, TrainProgress)))]
    batches = len(t.epoch_batches(0, 0))
    assert batches > 1 and [(b.stage, b.epoch, b.batch, b.batches) for b in first_epoch] == [
        ("stage1", 1, k, batches) for k in range(1, batches + 1)]
    assert all(isinstance(b, BatchProgress) for b in first_epoch)
    fractions = [e.done_fraction for e in seen]
    assert fractions == sorted(fractions) and 0 < fractions[0] < fractions[-1] == 1.0

    passed: list = []
    reporter = BatchReporter(passed.append, every=3600.0)
    for b in first_epoch:
        reporter(b)
    assert passed == first_epoch[:1]  # the first at once, then one per interval


def test_a_soundfont_dataset_renders_only_the_chosen_instruments_and_pitches(tmp_path):
    """TrainConfig.instruments and pitch_range limit what the SoundFont source renders (and the cache key)."""
    from timbre_explorer.core.data.sources import find_soundfont

    try:
        find_soundfont()
        import fluidsynth  # noqa: F401
    except Exception as exc:
        pytest.skip(f"no SoundFont source here: {exc}")
    cfg = TrainConfig(sources=["FluidR3_GM"], instruments=["Flute", "Oboe", "Piccolo"], pitch_range=(72, 74))
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    ds = dataset_for(cfg.dataset_recipe(), cache_root=tmp_path, workers=1)
    built = sorted({(str(i), int(p)) for i, p in zip(ds.notes.instrument_name, ds.notes.pitch)})
    assert built == [("Flute", 72), ("Flute", 73), ("Flute", 74), ("Oboe", 72), ("Oboe", 73), ("Oboe", 74),
                     ("Piccolo", 74)]  # the piccolo's range starts at D5
    assert len(ds) == 7 * 5 and set(ds.notes.instrument_name[ds.notes.split_name == "novel"]) == {"Piccolo"}


def test_chosen_instruments_and_a_pitch_range_are_checked():
    assert TrainConfig(instruments=["Piccolo"], pitch_range=(40, 50)).problems() == [
        "No chosen instrument plays between E2 and D3: widen the pitch range, or choose other instruments."]
    with pytest.raises(ParameterError, match="not SoundFont instruments"):
        TrainConfig(instruments=["Kazoo"])
    with pytest.raises(ParameterError, match="pitch_range"):
        TrainConfig(pitch_range=(80, 60))


def test_the_report_tables_load_without_torch():
    """The Trainer's report view takes its rows from the core before torch loads (the window shows first)."""
    code = ("import sys\n"
            "from timbre_explorer.core.training.report import FIGURES, novel_rows\n"
            "sys.exit(1 if 'torch' in sys.modules else 0)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.fixture(scope="module", params=["bins", "pitch"])
def pitched(request, tmp_path_factory):
    """A tiny model conditioned in its encoder and decoder, every frame rebuilt from a partner note (pitch must
    come from the condition: see the training's docstring), its decoder on the bins' axis or the pitch's; its space,
    and the flute's centroid in it (the softest roll-off: its first partial is the strongest). The tiny notes are
    harmonic tones at MIDI 60-71."""
    from timbre_explorer.core.synthesis.space import TimbreSpace

    space = TimbreSpace.open(train_tiny_model(tmp_path_factory.mktemp("pitched"), conditioning="both",
                                              partner_share=1.0, epochs_stage1=60, decoder_axis=request.param))
    assert space.model.config.decoder_axis == request.param  # the setting went through training and the file
    assert space.gain is None  # a small run is not calibrated: these are the decoder's own partials
    return space, space.centroids["Flute"]  # the softest roll-off: its first partial is the strongest


def test_the_pitch_condition_moves_the_decoded_partials(pitched):
    """Known answer: one latent point decoded at pitch 60 peaks at its fundamental (261.6 Hz, within the
    transform's bin spacing), and its peak climbs with the pitch asked (by at least 6 of the 11 semitones to 71)."""
    space, z = pitched
    assert space.conditioned
    freqs = space.nsgt.frequencies
    asked = (60, 62, 64, 67, 71)
    peaks = [12 * np.log2(float(freqs[int(space.decode(z, pitch=p).argmax())]) / 440) + 69 for p in asked]
    # the partials climb with the condition (a tiny model follows it to within a few semitones at the top)
    assert all(b >= a for a, b in zip(peaks, peaks[1:])) and peaks[-1] - peaks[0] >= 6, peaks
    assert abs(peaks[0] - 60) < 1.0, peaks


def test_the_dynamic_condition_decodes_ff_louder_than_pp(pitched):
    """What plays is then brought to the dynamic's loudness: synth.at_dynamic."""
    space, z = pitched
    # the notes' amplitudes 0.1 and 0.5: ff's level above pp's (a mean log-magnitude: the quiet bins move too)
    assert space.levels["ff"] - space.levels["pp"] > np.log(5) - 0.3
    pp, ff = (float(split_level(torch.log(space.decode(z, dynamic=d)))[1]) for d in ("pp", "ff"))
    assert ff - pp > 0.25  # over 2 dB
