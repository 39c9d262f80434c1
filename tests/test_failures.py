"""Faults users met in files and data: full disks, folders where files go, damaged headers, odd names, no display.

Each failure must end as one sentence naming the file and the reason, a non-zero exit, and nothing half-written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from tiny import SR, rewrite_model, synthetic_note, write_sample_folder

from timbre_explorer.cli import main
from timbre_explorer.core.errors import AudioFileError
from timbre_explorer.core.files import atomic_path, write_json
from timbre_explorer.core.signal.audio_io import load_audio, save_wav

ROOT = Path(__file__).resolve().parents[1]


def dead_pid() -> int:
    """The id of a process that has ended."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def one_line_error(err: str, *names) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for name in names:
        assert str(name) in lines[0], (name, lines[0])


# ------------------------------------------------------------------------------------------------ temporaries
def test_temporaries_of_dead_processes_are_removed_at_the_next_write(tmp_path):
    dead, alive = dead_pid(), os.getpid()
    stale_file = tmp_path / f".model.pid{dead}-abcd_123.part.safetensors"
    stale_dir = tmp_path / f".folder-nsgt-erb-0123.partial-{dead}"
    live_file = tmp_path / f".other.pid{alive}-abcd_123.part.json"
    stale_file.write_bytes(b"x" * 1000)
    stale_dir.mkdir()
    (stale_dir / "frames.partial.npy").write_bytes(b"x")
    live_file.write_bytes(b"x")
    write_json(tmp_path / "report.json", {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live_file.name, "report.json"])


def test_atomic_temporaries_carry_the_pid(tmp_path):
    with atomic_path(tmp_path / "m.timbre.safetensors") as tmp:
        assert f".pid{os.getpid()}-" in tmp.name


# ------------------------------------------------------------------------------------------------ full disk
def test_a_dataset_build_on_a_full_disk_is_one_sentence_and_leaves_nothing(tmp_path):
    """The file size limit makes every write past 256 kB fail as a full disk does (EFBIG instead of ENOSPC)."""
    samples = write_sample_folder(tmp_path / "samples")
    cache = tmp_path / "cache"
    script = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with an OSError instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, 256 << 10))
        from timbre_explorer.cli import main
        sys.exit(main(["dataset", "build", "--source", "folder", {str(samples)!r}, "--cache", {str(cache)!r},
                       "--workers", "1"]))
    """)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 1, run.stderr
    one_line_error(run.stderr, cache, "cannot write the dataset cache")
    assert list(cache.iterdir()) == []


def test_a_wav_export_on_a_full_disk_says_why_and_keeps_the_old_file(tmp_path):
    """libsndfile reports a failed write as "System error."; the WAV is encoded in memory, so Python's write
    says what went wrong (here EFBIG, as in the test above), and the file already there is left as it was."""
    out = tmp_path / "export.wav"
    save_wav(out, synthetic_note(64, 0.4, 0.5, seconds=0.1), SR)
    before = out.read_bytes()
    script = textwrap.dedent(f"""
        import resource, signal
        import numpy as np
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, 256 << 10))
        from timbre_explorer.core.errors import AudioFileError
        from timbre_explorer.core.signal.audio_io import save_wav
        try:
            save_wav({str(out)!r}, np.full(441_000, 0.1, np.float32), 44_100)
        except AudioFileError as exc:
            print(exc)
    """)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert run.stdout.strip() == f"{out}: cannot write (File too large)", run.stderr
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["export.wav"]


def on_a_full_disk(code: str, limit: int = 256 << 10, **env) -> subprocess.CompletedProcess:
    """Run ``code`` in a Python process whose writes past ``limit`` bytes fail as on a full disk (EFBIG); its
    log file too, which must not add logging's own traceback to the error."""
    script = textwrap.dedent("""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
    """).format(limit=limit) + textwrap.dedent(code)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "PYTHONDONTWRITEBYTECODE": "1", **env}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("case", ["encode --json", "evaluate --json", "evaluate --out", "perception --out"])
def test_commands_on_a_full_disk_name_the_file_and_keep_the_old_one(case, tiny_model, tmp_path):
    """They said "a file: No space left on device"; evaluate's plots were truncated in place (savefig)."""
    out = tmp_path / "out"
    cache = tiny_model.parent.parent / "cache"
    sound = tiny_model.parent.parent / "samples" / "Flute" / "C4_ff.wav"
    argv, named, limit = {
        "encode --json": (["encode", str(tiny_model), str(sound), "--json", str(out)], out, 500),
        "evaluate --json": (["evaluate", str(tiny_model), "--cache", str(cache), "--folder", str(sound.parent.parent),
                             "--json", str(out)], out, 500),
        "evaluate --out": (["evaluate", str(tiny_model), "--cache", str(cache), "--folder", str(sound.parent.parent),
                            "--out", str(out)],
                           out / "latent_map.png", 10_000),  # the reports fit, the first plot does not
        "perception --out": (["perception", "--out", str(out)], out / "dissimilarity.csv", 500),
    }[case]
    if case == "evaluate --out":
        assert main(argv) == 0
    old = {p.name: p.read_bytes() for p in out.iterdir()} if out.is_dir() else {}
    run = on_a_full_disk(f"""
        import sys
        from timbre_explorer.cli import main
        sys.exit(main({argv!r}))
    """, limit=limit, TIMBRE_EXPLORER_LOG_DIR=str(tmp_path / "logs"))
    assert run.returncode == 1, run.stderr
    assert run.stderr.strip().splitlines() == [f"timbre-explorer {case.split()[0]}: {named}: File too large"], \
        run.stderr
    if old:  # the earlier run's plots and reports, as they were
        assert {p.name: p.read_bytes() for p in out.iterdir()} == old


def test_train_on_a_full_disk_names_the_checkpoint(tiny_model, tmp_path):
    """safetensors said "SafetensorError: Error while serializing: I/O error" in a traceback."""
    from tiny import tiny_config

    config = tmp_path / "config.json"
    tiny_config(tiny_model.parent.parent / "samples", baseline=False).save(config)
    run_dir, cache = tmp_path / "run", tiny_model.parent.parent / "cache"
    run = on_a_full_disk(f"""
        import sys
        from timbre_explorer.cli import main
        sys.exit(main(["train", "--config", {str(config)!r}, "--out", {str(run_dir)!r}, "--cache", {str(cache)!r}]))
    """, limit=20_000)
    assert run.returncode == 1, run.stderr
    assert run.stderr.strip().splitlines()[-1] == \
        f"timbre-explorer train: {run_dir / 'checkpoints' / 'stage1.safetensors'}: File too large", run.stderr
    assert "Traceback" not in run.stderr and list((run_dir / "checkpoints").iterdir()) == []


def test_a_model_export_on_a_full_disk_names_the_file_and_keeps_the_old_one(tiny_model, tmp_path):
    model = tmp_path / "model.timbre.safetensors"
    model.write_bytes(tiny_model.read_bytes())
    before = model.read_bytes()
    run = on_a_full_disk(f"""
        from timbre_explorer.core.model.modelfile import load_model, save_model
        mf = load_model({str(model)!r})
        mf.arrays["map.big"] = __import__("numpy").zeros(100_000, "float32")  # the map of a big sample set
        try:
            save_model({str(model)!r}, model=mf.build_model(), normalization=mf.normalization, meta=mf.meta,
                       tensors=mf.arrays)
        except OSError as exc:
            print(exc.filename, exc.strerror)
    """, limit=len(before) + 1000)
    assert run.stdout.strip() == f"{model} File too large", run.stderr
    assert model.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [model.name]


# ------------------------------------------------------------------------------------------------ audio files
def test_absurd_headers_are_refused_before_decoding(tmp_path):
    sf.write(tmp_path / "one_hz.wav", np.zeros(44_000, np.int16), 1)  # 88 kB that would resample to gigabytes
    with pytest.raises(AudioFileError, match=r"one_hz.wav: the file says its sample rate is 1 Hz"):
        load_audio(tmp_path / "one_hz.wav", SR)
    sf.write(tmp_path / "long.wav", np.zeros(601 * 1000, np.int16), 1000)
    with pytest.raises(AudioFileError, match=r"long.wav: too long \(10 minutes; at most 10\)"):
        load_audio(tmp_path / "long.wav", SR)


def test_an_rf64_header_claiming_2_to_the_62_samples_is_refused(tiny_model, tmp_path, capsys):
    """libsndfile seeked past what the OS allows: soundfile printed a traceback, and encode and render went on
    (exit 0)."""
    import struct

    wav = tmp_path / "huge.wav"
    sf.write(wav, synthetic_note(64, 0.4, 0.5, seconds=1.0), SR, format="RF64", subtype="PCM_16")
    data = bytearray(wav.read_bytes())
    at = data.index(b"ds64") + 8  # after the chunk's id and size: RIFF size, data size, sample count
    data[at:at + 24] = struct.pack("<QQQ", (2 << 62) + 100, 2 << 62, 1 << 62)
    wav.write_bytes(bytes(data))
    for argv in (["encode", str(tiny_model), str(wav)],
                 ["render", "--model", str(tiny_model), "--point", str(wav), "--out", str(tmp_path / "x.wav")]):
        assert main(argv) == 1
        out = capsys.readouterr()
        one_line_error(out.err, wav, "the header points outside the file's", "a damaged header")
    assert not (tmp_path / "x.wav").exists()


def test_a_file_that_does_not_decode_is_one_clear_sentence(tmp_path, capfd):
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(np.random.default_rng(1).bytes(5000))
    with pytest.raises(AudioFileError) as info:
        load_audio(garbage, SR)
    assert str(info.value) == f"{garbage}: not a readable audio file"
    assert capfd.readouterr().err == ""  # mpg123's "Note: Illegal Audio-MPEG-Header" is not let through


def test_encode_keeps_good_files_beside_bad_ones_and_odd_names(tiny_model, tmp_path, capsys):
    folder = tmp_path / "sounds"
    folder.mkdir()
    save_wav(folder / "good.wav", synthetic_note(64, 0.4, 0.5, seconds=1.0), SR)
    save_wav(folder / "cafe.wav", synthetic_note(67, 0.4, 0.5, seconds=1.0), SR)
    os.rename(folder / "cafe.wav", os.fsencode(folder) + b"/caf\xe9.wav")  # a Latin-1 name: not UTF-8
    sf.write(folder / "one_hz.wav", np.zeros(44_000, np.int16), 1)
    out = tmp_path / "out.json"
    assert main(["encode", str(tiny_model), str(folder), "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(Path(f["path"]).name for f in report["files"]) == sorted(["good.wav", os.fsdecode(b"caf\xe9.wav")])
    assert [Path(s["path"]).name for s in report["skipped"]] == ["one_hz.wav"]
    assert "sample rate is 1 Hz" in capsys.readouterr().err


def test_a_dataset_reads_a_file_whose_name_is_not_utf8(tmp_path, capsys):
    """Writing the note table raised UnicodeEncodeError ("surrogates not allowed") in a traceback."""
    from timbre_explorer.core.data.dataset import build_dataset
    from timbre_explorer.core.data.sources import FolderSource

    samples = write_sample_folder(tmp_path / "samples")
    latin1 = os.fsencode(samples / "Flute") + b"/D4_f\xe9.wav"  # a Latin-1 name: not UTF-8
    os.rename(samples / "Flute" / "D4_ff.wav", latin1)
    argv = ["dataset", "build", "--source", "folder", str(samples), "--cache", str(tmp_path / "cache"),
            "--workers", "1"]
    assert main(argv) == 0
    assert "120 notes" in capsys.readouterr().out
    ds = build_dataset(FolderSource(str(samples)), cache_root=tmp_path / "cache", workers=1)  # the cache, read back
    assert "Flute/" + os.fsdecode(b"D4_f\xe9.wav") in set(ds.notes.file)


def test_a_timidity_that_writes_no_audio_is_one_sentence_naming_the_patch_set(tmp_path, monkeypatch, capsys):
    """Issue 27, fault 12: a TiMidity++ that writes a file that is not audio gave a LibsndfileError traceback."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "timidity"
    fake.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys
        args = sys.argv[1:]
        open(args[args.index("-o") + 1], "wb").write(b"this is not audio at all" * 40)
        """))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = tmp_path / "patches.cfg"
    config.write_text("bank 0\n")
    cache = tmp_path / "cache"
    assert main(["dataset", "build", "--soundfont", str(config), "--workers", "1", "--cache", str(cache)]) == 1
    err = capsys.readouterr().err
    one_line_error(err, f"{config}: TiMidity++ wrote a file that is not audio")
    assert not [p for p in cache.iterdir() if not p.name.startswith(".")]


# ------------------------------------------------------------------------------------------------ write errors
@pytest.fixture
def not_a_folder(tmp_path):
    """A regular file: anything written "inside" it fails as in a folder the user cannot write to."""
    f = tmp_path / "plain-file"
    f.write_text("x")
    return f


def _render_sidecar_is_a_folder(tmp_path, model):
    (tmp_path / "out.json").mkdir()
    return ["render", "--model", str(model), "--from", "Flute", "--to", "Oboe", "--seconds", "0.2",
            "--out", str(tmp_path / "out.wav")], tmp_path / "out.json"


@pytest.mark.parametrize("case", ["encode --json", "evaluate --json", "perception --out", "dataset --cache",
                                  "render --out", "render sidecar", "perception --ratings"])
def test_write_and_read_errors_are_one_sentence_naming_the_file(case, tiny_model, not_a_folder, tmp_path, capsys):
    folder = tmp_path / "dir.json"
    folder.mkdir()
    sound = tmp_path / "a.wav"
    save_wav(sound, synthetic_note(64, 0.4, 0.5, seconds=1.0), SR)
    samples = tiny_model.parent.parent / "samples"
    cache = tiny_model.parent.parent / "cache"
    binary = tmp_path / "ratings.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 64)
    argv, named = {
        "encode --json": (["encode", str(tiny_model), str(sound), "--json", str(folder)], folder),
        "evaluate --json": (["evaluate", str(tiny_model), "--cache", str(cache), "--folder", str(samples), "--json",
                             str(folder)], folder),
        "perception --out": (["perception", "--out", str(not_a_folder / "report")], not_a_folder),
        "dataset --cache": (["dataset", "build", "--source", "folder", str(samples), "--cache",
                             str(not_a_folder / "cache"), "--workers", "1"], not_a_folder),
        "render --out": (["render", "--model", str(tiny_model), "--point", "Flute", "--out",
                          str(not_a_folder / "x.wav")], not_a_folder),
        "render sidecar": _render_sidecar_is_a_folder(tmp_path, tiny_model),
        "perception --ratings": (["perception", "--out", str(tmp_path / "p"), "--ratings", str(binary)], binary),
    }[case]
    assert main(argv) == 1
    err = capsys.readouterr().err
    one_line_error(err, named)
    assert "File exists" not in err  # a file in the way of a folder is "Not a directory"


# ------------------------------------------------------------------------------------------------ model cards
def _edited_card(tiny_model, tmp_path, edit):
    card = tmp_path / "edited.timbre.safetensors"
    card.write_bytes(tiny_model.read_bytes())
    rewrite_model(card, doc=edit)
    return card


def test_evaluate_without_the_cards_training_settings_asks_for_the_samples(tiny_model, tmp_path, capsys):
    card = _edited_card(tiny_model, tmp_path, lambda d: d.pop("training"))
    cache = tmp_path / "cache"
    assert main(["evaluate", str(card), "--cache", str(cache)]) == 1
    one_line_error(capsys.readouterr().err, f"{card}: the model card does not say what it was trained on; give "
                                            "--folder or --soundfont")
    assert not cache.exists()
    samples = tiny_model.parent.parent / "samples"
    assert main(["evaluate", str(card), "--cache", str(cache), "--folder", str(samples)]) == 0
    assert "| Spearman ρ" in capsys.readouterr().out


@pytest.mark.parametrize("where, reason", [("many", "holds more than 340 files, far more than the model's 120 notes"),
                                           ("kazoo", "holds none of the model's instruments (Clarinet, Flute, "),
                                           ("moved", "is not a folder here")])
def test_evaluate_uses_the_cards_sample_folder_only_when_it_holds_the_samples(tiny_model, tmp_path, capsys, where,
                                                                             reason):
    """A card names its sample folder, and evaluate rebuilds that dataset: a card from elsewhere must not make it
    read a whole tree, or a folder of other sounds. Refused before anything is built; --folder points at the samples.
    (A folder outside the card's own is refused before: test_evaluate_uses_paths_a_card_names_only_inside_its_folder.)
    """
    folder = tmp_path / where
    if where == "many":
        for i in range(341):
            (folder / str(i % 7)).mkdir(parents=True, exist_ok=True)
            (folder / str(i % 7) / f"{i}.txt").write_text("")
    if where == "kazoo":
        (folder / "Kazoo").mkdir(parents=True)
        save_wav(folder / "Kazoo" / "C4_ff.wav", synthetic_note(60, 0.5, 0.5), SR)
    card = _edited_card(tiny_model, tmp_path, lambda d: d["training"].update(folder=str(folder)))
    cache = tmp_path / "cache"
    assert main(["evaluate", str(card), "--cache", str(cache)]) == 1
    err = capsys.readouterr().err
    one_line_error(err, f"{card}: the sample folder {folder} {reason}", "give --folder with the samples")
    assert not cache.exists()
    samples = tiny_model.parent.parent / "samples"
    shared_cache = tiny_model.parent.parent / "cache"
    assert main(["evaluate", str(card), "--cache", str(shared_cache), "--folder", str(samples)]) == 0
    assert main(["evaluate", str(tiny_model), "--cache", str(shared_cache)]) == 1  # its samples are outside its folder


def test_evaluate_refuses_a_folder_that_is_not_the_models_samples(tiny_model, tmp_path, capsys):
    """A folder of the model's instruments that lacks one of its notes is another dataset: its splits would count
    notes the model trained on as test notes, so evaluate refuses it, naming the folder the card was trained on."""
    import shutil

    samples = tiny_model.parent.parent / "samples"
    fewer = tmp_path / "fewer"
    shutil.copytree(samples, fewer)
    next(fewer.glob("*/*.wav")).unlink()
    assert main(["evaluate", str(tiny_model), "--cache", str(tmp_path / "cache"), "--folder", str(fewer)]) == 1
    one_line_error(capsys.readouterr().err, f"{tiny_model}: the samples found hold 119 notes, not the 120 of the "
                                            f"model's map: give the sample sets it was trained on ({samples})")


@pytest.mark.parametrize("setting, value, option", [
    ("folder", "/etc", "--folder DIR"),
    ("folder", "link", "--folder DIR"),  # inside, but a link to /etc
    ("soundfont", "elsewhere/patches.cfg", "--soundfont FILE"),
    ("sources", "elsewhere/patches.cfg", "--sources NAME_OR_FILE ..."),
    ("sources", "philharmonia=/etc", "--sources NAME_OR_FILE ..."),
    ("sources", "folder=/etc", "--sources NAME_OR_FILE ..."),
    ("sources", "webaudiofont:Aspirin=/etc", "--sources NAME_OR_FILE ..."),
    ("ratings", "/etc/passwd", "--ratings FILE")])
def test_evaluate_uses_paths_a_card_names_only_inside_its_folder(setting, value, option, tiny_model, tmp_path,
                                                                  capsys):
    """Issue 27, fault 19: a card's folder, soundfont, sources and ratings may name any path, and evaluate opened
    them (walked /etc, passed a .cfg to TiMidity++). Refused in one sentence before anything is read."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "link").symlink_to("/etc")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "patches.cfg").write_text("bank 0\n")
    named = str(tmp_path / value) if value.startswith("elsewhere") else value
    edit = {"folder": {"folder": named}, "soundfont": {"source": "soundfont", "soundfont": named},
            "sources": {"source": "soundfont", "sources": ["FluidR3_GM", named]}, "ratings": {"ratings": named}}
    card = _edited_card(tiny_model, run, lambda d: d["training"].update(edit[setting]))
    cache = tmp_path / "cache"
    samples = ["--folder", str(tiny_model.parent.parent / "samples")] if setting == "ratings" else []
    assert main(["evaluate", str(card), "--cache", str(cache), *samples]) == 1
    one_line_error(capsys.readouterr().err, f"{card}: the model card's {setting} names {named}, outside the model's "
                                            f"folder {run}; give it on the command line ({option})")
    assert not cache.exists()


def test_evaluate_uses_a_card_path_inside_its_folder_or_given_on_the_command_line(tiny_model, tmp_path, capsys):
    """The other side of fault 19: a sample folder named relative to the card's own folder is read from there, and
    one outside it is read when the user names it."""
    import shutil

    run = tmp_path / "run"
    run.mkdir()
    shutil.copytree(tiny_model.parent.parent / "samples", run / "samples")
    card = _edited_card(tiny_model, run, lambda d: d["training"].update(folder="samples"))
    cache = tiny_model.parent.parent / "cache"
    assert main(["evaluate", str(card), "--cache", str(cache)]) == 0
    assert "| Spearman ρ" in capsys.readouterr().out
    (tmp_path / "other").mkdir()
    outside = _edited_card(tiny_model, tmp_path / "other",
                           lambda d: d["training"].update(folder=str(run / "samples")))
    assert main(["evaluate", str(outside), "--cache", str(cache)]) == 1
    assert main(["evaluate", str(outside), "--cache", str(cache), "--folder", str(run / "samples")]) == 0


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_a_normalization_out_of_range_is_refused(scale, tiny_model, tmp_path, capsys):
    """At 1e300 evaluate crashed writing inf into JSON, and encode put every sound at one point."""
    card = _edited_card(tiny_model, tmp_path, lambda d: d["normalization"].update(scale=scale))
    sound = tiny_model.parent.parent / "samples" / "Flute" / "C4_ff.wav"
    samples, cache = tiny_model.parent.parent / "samples", tiny_model.parent.parent / "cache"
    for argv in (["encode", str(card), str(sound)],
                 ["evaluate", str(card), "--cache", str(cache), "--folder", str(samples), "--json",
                  str(tmp_path / "r.json")]):
        assert main(argv) == 1
        one_line_error(capsys.readouterr().err, card, "invalid model card (normalization/scale")
    assert not (tmp_path / "r.json").exists()


def test_a_report_with_a_figure_that_is_not_finite_is_refused(tmp_path):
    from timbre_explorer.core.errors import ParameterError
    from timbre_explorer.core.training.evaluate import write_report

    report = tmp_path / "report.json"
    report.write_text("{}")
    with pytest.raises(ParameterError, match=r"report.json: not written: the evaluation's baseline/nll/1 is inf, "):
        write_report(report, {"rho": 0.5, "baseline": {"nll": [1.0, float("inf")]}})
    assert report.read_text() == "{}"


# ------------------------------------------------------------------------------------------------ run folders
def _train_config(tiny_model, tmp_path) -> Path:
    from tiny import tiny_config

    config = tmp_path / "settings.json"
    tiny_config(tiny_model.parent.parent / "samples", baseline=False).save(config)
    return config


def test_train_out_refuses_a_folder_holding_a_model_it_did_not_write(tiny_model, tmp_path, capsys):
    """A copy of a model in the folder, no run's settings beside it: train replaced it."""
    folder = tmp_path / "copied"
    folder.mkdir()
    copy = folder / "model.timbre.safetensors"
    copy.write_bytes(tiny_model.read_bytes())
    argv = ["train", "--config", str(_train_config(tiny_model, tmp_path)), "--out", str(folder), "--cache",
            str(tiny_model.parent.parent / "cache")]
    assert main(argv) == 1
    one_line_error(capsys.readouterr().err, f"{copy}: a model file that no run in {folder} wrote", "--out")
    assert copy.read_bytes() == tiny_model.read_bytes() and not (folder / "checkpoints").exists()
    assert main([*argv, "--resume"]) == 1  # nor does a resume take it over
    one_line_error(capsys.readouterr().err, copy)
    assert copy.read_bytes() == tiny_model.read_bytes()


def test_the_run_that_wrote_a_model_may_resume_beside_it(tiny_model):
    """Its own model files are the run's: the tiny model's run folder is not refused."""
    from timbre_explorer.core.training.runfolder import foreign_model, run_config

    run = tiny_model.parent
    assert foreign_model(run, run_config(run)) is None
    assert foreign_model(run, None) == tiny_model


def test_resume_with_damaged_settings_names_the_file(tiny_model, tmp_path, capsys):
    """A config.json that is not JSON gave a JSONDecodeError traceback."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text('{"epochs_stage1": 2,')
    argv = ["train", "--config", str(_train_config(tiny_model, tmp_path)), "--out", str(folder), "--resume"]
    assert main(argv) == 1
    one_line_error(capsys.readouterr().err, folder / "config.json", "the run's settings cannot be read")
    (folder / "config.json").write_text("[1, 2]")
    assert main(argv) == 1
    one_line_error(capsys.readouterr().err, folder / "config.json", "not a JSON object")


# ------------------------------------------------------------------------------------------------ no display
def test_without_a_display_the_app_says_how_to_run_it():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    run = subprocess.run([sys.executable, "-m", "timbre_explorer"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 1
    one_line_error(run.stderr, "no display", "xvfb-run timbre-explorer")


def test_without_pyside6_the_app_says_it_is_missing():
    """Run by the no-Qt job (.venv-core, where PySide6 is not installed): one sentence, not an ImportError."""
    import importlib.util

    if importlib.util.find_spec("PySide6") is not None:
        pytest.skip("PySide6 is installed here: ./run.sh test runs this in .venv-core, without it")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    run = subprocess.run([sys.executable, "-m", "timbre_explorer"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert run.returncode == 1
    one_line_error(run.stderr, "PySide6 is not installed")
