"""The note dataset: labelling, SoundFont rendering, features, bad files, splits, caching, the CLI."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from timbre_explorer.cli import main
from timbre_explorer.core.data.dataset import NoteDataset, build_dataset, split_notes
from timbre_explorer.core.data.instruments import BY_NAME, canonical_name, parse_pitch
from timbre_explorer.core.data.sources import FolderSource, SoundFontSource, find_soundfont, label_file, scan_folder
from timbre_explorer.core.errors import Cancelled, ParameterError, TimbreExplorerError
from timbre_explorer.core.signal.audio_io import save_wav
from timbre_explorer.core.signal.nsgt import transform_for
from timbre_explorer.core.signal.scales import PRESETS

SR = 22050


def midi_hz(pitch: int) -> float:
    return 440.0 * 2 ** ((pitch - 69) / 12)


def note(pitch: int, *, seconds=0.8, level=0.3, bright=1.0, decay=1.5, sr=SR):
    """A harmonic note with an attack, a decay and a brightness (partial roll-off)."""
    t = np.arange(int(seconds * sr)) / sr
    f0 = midi_hz(pitch)
    x = sum((bright ** (k - 1)) / k * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 10) if k * f0 < 8000)
    env = np.minimum(t / 0.02, 1) * np.exp(-decay * t)
    return (level * env * x / np.abs(x).max()).astype(np.float32)


def dominant_hz(frame: np.ndarray) -> float:
    nsgt = transform_for(PRESETS["nsgt-erb"], int(1.5 * SR))
    return float(nsgt.frequencies[int(np.argmax(frame))])


@pytest.fixture
def sample_folder(tmp_path):
    """Both naming conventions, a subfolder-labelled instrument and one file of every bad kind."""
    return write_samples(tmp_path / "samples")


@pytest.fixture(scope="module")
def folder_dataset(tmp_path_factory):
    """The dataset of a sample folder (as ``sample_folder`` writes it), built once for the module's tests that only
    read it."""
    root = tmp_path_factory.mktemp("folder")
    return build_dataset(FolderSource(str(write_samples(root / "samples"))), cache_root=root / "cache", workers=1)


def write_samples(root):
    """Writes the files ``sample_folder`` describes under ``root``; returns it."""
    sol = root / "sol"
    sol.mkdir(parents=True)
    for inst, bright in (("Fl", 0.3), ("TpC", 0.9)):
        for pitch, name in ((60, "C4"), (64, "E4"), (67, "G4"), (72, "C5")):
            for dyn, level in (("pp", 0.05), ("ff", 0.5)):
                save_wav(sol / f"{inst}-ord-{name}-{dyn}.wav", note(pitch, level=level, bright=bright), SR)
    nsynth = root / "nsynth"
    nsynth.mkdir()
    meta = {}
    for i, pitch in enumerate((48, 52, 55, 60, 62, 65)):
        stem = f"reed_acoustic_0{i:02d}-{pitch:03d}-100"
        sr = 16000 if i == 0 else SR  # NSynth's own rate: resampled on reading
        save_wav(nsynth / f"{stem}.wav", note(pitch, bright=0.6, sr=sr), sr)
        meta[stem] = {"instrument_family_str": "reed", "pitch": pitch, "velocity": 100,
                      "instrument_source_str": "acoustic"}
    (nsynth / "examples.json").write_text(json.dumps(meta))
    cello = root / "Cello"
    cello.mkdir()
    for pitch in (36, 43, 48, 55, 57):
        save_wav(cello / f"take{pitch}_{['C2', 'G2', 'C3', 'G3', 'A3'][[36, 43, 48, 55, 57].index(pitch)]}.wav",
                 note(pitch, bright=0.7, decay=0.2), SR)
    bad = root / "Bad"
    bad.mkdir()
    save_wav(bad / "silent.wav", np.zeros(SR, np.float32), SR)
    sf.write(bad / "nan.wav", np.full(SR, np.nan, np.float32), SR, subtype="FLOAT")
    sf.write(bad / "clipped.wav", np.clip(note(60, level=5.0), -1, 1), SR, subtype="FLOAT")
    save_wav(bad / "short.wav", note(60, seconds=0.03), SR)
    (bad / "broken.wav").write_bytes(os.urandom(3000))
    (root / "loose.wav").write_bytes(b"")  # no folder, no convention: cannot be labelled
    (root / "notes.txt").write_text("not audio")
    return root


# ------------------------------------------------------------------------------------------------ labels
def test_pitch_names_read_as_midi_pitches():
    assert [parse_pitch(p) for p in ("A4", "C4", "C#4", "Db4", "B-1", "x4")] == [69, 60, 61, 61, 11, None]


def test_instrument_aliases_read_as_their_names():
    assert canonical_name("Vc") == "Cello" and canonical_name("english horn") == "EnglishHorn"
    assert canonical_name("Hurdy Gurdy") == "Hurdy Gurdy"


@pytest.mark.parametrize("folder, name", [
    ("Clarinet in Bb", "Clarinet"), ("Bb Clarinet", "Clarinet"), ("Horn in F", "FrenchHorn"), ("C Trumpet", "Trumpet"),
    ("Violins", "Violin"), ("Celli", "Cello"), ("Flute 2", "Flute"), ("Alto Saxophone", "Saxophone"),
    ("tenor-saxophone", "TenorSax"), ("cor anglais", "EnglishHorn"), ("Flöte", "Flute"), ("Violoncelle", "Cello"),
    ("Fagotto", "Bassoon"), ("Acoustic Grand Piano", "Piano"), ("Acoustic Guitar (nylon)", "NylonGuitar"),
    ("Electric Piano 2", "ElectricPiano2"), ("String Ensemble 1", "StringEnsemble1"), ("Pad 2 (warm)", "Pad2Warm"),
    ("Bass Clarinet", "Bass Clarinet"), ("Basses", "Basses"), ("brass", "brass"), ("G", "G"),
])
def test_instrument_names_as_folders_of_recordings_spell_them(folder, name):
    """A folder per instrument, named as people name them: General MIDI's names, plurals, a transposing
    instrument's key, a part's number, accents, other languages; what is no instrument of ours stays as it is."""
    assert canonical_name(folder) == name


def test_labels_from_both_conventions_and_subfolders(tmp_path):
    root = tmp_path
    for rel in ("a/Fl-ord-C4-mf.aif", "b/ClBb-flatt-F#3-pp-R.wav", "flute_synthetic_011-072-050.wav",
                "French Horn/horn B3 ff.flac", "Hn/whatever.wav", "orphan.wav"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    sol = label_file(root / "a/Fl-ord-C4-mf.aif", root)
    assert (sol.instrument, sol.pitch, sol.dynamic, sol.technique, sol.family) == ("Flute", 60, "mf", "ord", "woodwind")
    cl = label_file(root / "b/ClBb-flatt-F#3-pp-R.wav", root)
    assert (cl.instrument, cl.pitch, cl.dynamic, cl.technique) == ("Clarinet", 54, "pp", "flatt")
    ns = label_file(root / "flute_synthetic_011-072-050.wav", root)
    assert (ns.instrument, ns.pitch, ns.velocity, ns.dynamic, ns.technique) == ("Flute", 72, 50, "p", "synthetic")
    ns_meta = label_file(root / "flute_synthetic_011-072-050.wav", root,
                         {"flute_synthetic_011-072-050": {"instrument_family_str": "brass", "pitch": 71, "velocity": 127}})
    assert (ns_meta.instrument, ns_meta.pitch, ns_meta.dynamic) == ("Brass", 71, "ff")
    horn = label_file(root / "French Horn/horn B3 ff.flac", root)
    assert (horn.instrument, horn.pitch, horn.dynamic) == ("FrenchHorn", 59, "ff")
    assert label_file(root / "Hn/whatever.wav", root).pitch == -1
    assert "cannot tell the instrument" in label_file(root / "orphan.wav", root)
    # a file directly in the folder: the first words of its name, when they name one of our instruments
    loose = [label_file(root / name, root) for name in ("violin_take1.wav", "Alto Sax A3 ff.wav", "take 12.wav")]
    assert [(n.instrument, n.pitch, n.dynamic) for n in loose[:2]] == [("Violin", -1, ""), ("Saxophone", 57, "ff")]
    assert "begin its name with the instrument (violin_take1.wav)" in loose[2]


def test_scan_reports_unlabelled_and_non_audio_files(sample_folder):
    scan = scan_folder(sample_folder)
    problems = dict(scan.problems)
    assert "cannot tell the instrument" in problems["loose.wav"]
    assert "not an audio file" in problems["notes.txt"]
    assert {n.instrument for n in scan.notes} == {"Flute", "Trumpet", "Reed", "Cello", "Bad"}
    assert len(scan.notes) == 16 + 6 + 5 + 5


# ------------------------------------------------------------------------------------------------ folder builds
def test_a_folder_dataset_lists_each_file_it_skips_with_its_reason(folder_dataset):
    ds = folder_dataset
    skipped = {s["file"]: s["reason"] for s in ds.manifest["skipped"]}
    assert set(skipped) == {"Bad/silent.wav", "Bad/nan.wav", "Bad/clipped.wav", "Bad/short.wav", "Bad/broken.wav",
                            "loose.wav", "notes.txt"}
    assert "cannot tell the instrument" in skipped["loose.wav"]  # a file at the root is listed, not dropped
    assert skipped["Bad/silent.wav"].startswith("silent")
    assert "NaN" in skipped["Bad/nan.wav"]
    assert skipped["Bad/clipped.wav"].startswith("clipped")
    assert skipped["Bad/short.wav"].startswith("too short")
    assert "not a readable audio file" in skipped["Bad/broken.wav"]


def test_a_folder_dataset_keeps_the_frames_of_every_good_note_in_float16(folder_dataset):
    ds = folder_dataset
    assert len(ds) == 27 and set(ds.instruments) == {"Flute", "Trumpet", "Reed", "Cello"}
    assert isinstance(ds.log_magnitude, np.memmap) and ds.log_magnitude.dtype == np.float16
    assert ds.log_magnitude.shape == (27 * ds.manifest["frames_per_note"], 168)


def test_the_representative_frame_is_at_the_notes_pitch(folder_dataset):
    """The representative frame is the note's, at its pitch (resampled 16 kHz file included)."""
    ds = folder_dataset
    rep = ds.representative()
    for i in range(len(ds)):
        pitch = ds.notes.pitch[i]
        if pitch > 0:
            assert abs(dominant_hz(rep[i]) / midi_hz(pitch) - 1) < 0.04, ds.notes.file[i]


def _flute_c4(ds, dynamic: str) -> int:
    """The index of the folder's flute C4 at ``dynamic``."""
    return int(np.flatnonzero(ds.notes.file == f"sol/Fl-ord-C4-{dynamic}.wav")[0])


def test_the_representative_frame_is_the_loudest_of_the_sustain_after_the_attack(folder_dataset):
    ds = folder_dataset
    n = ds.notes
    assert np.all(n.sustain_start >= 1) and np.all(n.rep_frame >= n.sustain_start)
    assert np.all(n.rep_frame < n.sustain_end)
    i = int(np.flatnonzero(n.file == "sol/Fl-ord-C4-ff.wav")[0])
    loud = ds.loudness[n.first_frame[i]:n.first_frame[i] + n.n_frames[i]]
    assert n.rep_frame[i] == n.sustain_start[i] + np.argmax(loud[n.sustain_start[i]:n.sustain_end[i]])


def test_ff_is_louder_than_pp_by_the_20_db_the_files_differ(folder_dataset):
    ds = folder_dataset
    n = ds.notes
    i = _flute_c4(ds, "ff")
    j = int(np.flatnonzero(n.file == "sol/Fl-ord-C4-pp.wav")[0])
    rep_loud = ds.loudness[n.first_frame + n.rep_frame]
    assert 17 < rep_loud[i] - rep_loud[j] < 23


def test_silent_tail_frames_are_left_out_of_the_sustain_frames(folder_dataset):
    """They are marked by their loudness."""
    ds = folder_dataset
    i = _flute_c4(ds, "ff")
    rep_loud = ds.loudness[ds.notes.first_frame + ds.notes.rep_frame]
    rows, owners = ds.sustain_frames(np.array([i]))
    assert len(rows) > 5 and np.all(owners == i)
    assert np.all(ds.loudness[rows] >= rep_loud[i] - 20)


def test_empty_or_all_bad_folders_are_refused_clearly(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParameterError, match="no notes"):
        build_dataset(FolderSource(str(tmp_path / "empty")), cache_root=tmp_path / "c", workers=1)
    bad = tmp_path / "bad" / "Flute"
    bad.mkdir(parents=True)
    for k in range(2):
        save_wav(bad / f"s{k}.wav", np.zeros(SR, np.float32), SR)
    with pytest.raises(ParameterError, match="none of the 2 notes.*silent"):
        build_dataset(FolderSource(str(tmp_path / "bad")), cache_root=tmp_path / "c", workers=1)
    with pytest.raises(ParameterError, match="no such folder"):
        build_dataset(FolderSource(str(tmp_path / "missing")), cache_root=tmp_path / "c", workers=1)


def test_cache_reuses_and_rebuilds_on_any_change(sample_folder, tmp_path):
    cache = tmp_path / "cache"
    src = FolderSource(str(sample_folder))
    first = build_dataset(src, cache_root=cache, workers=1)
    stamp = (first.path / "manifest.json").stat().st_mtime_ns
    again = build_dataset(src, cache_root=cache, workers=1)
    assert again.path == first.path and (again.path / "manifest.json").stat().st_mtime_ns == stamp
    cqt = build_dataset(src, cache_root=cache, workers=1, preset="nsgt-cqt")
    assert cqt.path != first.path and cqt.log_magnitude.shape[1] == 169
    save_wav(sample_folder / "sol" / "Fl-ord-D4-mf.wav", note(62), SR)
    changed = build_dataset(src, cache_root=cache, workers=1)
    assert changed.path != first.path and len(changed) == len(first) + 1
    assert not [p for p in cache.iterdir() if ".partial" in p.name]


def test_parallel_build_equals_serial_build(sample_folder, tmp_path):
    src = FolderSource(str(sample_folder))
    serial = build_dataset(src, cache_root=tmp_path / "a", workers=1)
    parallel = build_dataset(src, cache_root=tmp_path / "b", workers=2)
    assert np.array_equal(serial.log_magnitude, parallel.log_magnitude)
    assert np.array_equal(serial.notes.rep_frame, parallel.notes.rep_frame)
    assert list(serial.notes.split_name) == list(parallel.notes.split_name)


def test_cancel_leaves_nothing_behind(sample_folder, tmp_path):
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done > 0:
            cancel.set()

    cache = tmp_path / "cache"
    with pytest.raises(Cancelled):
        build_dataset(FolderSource(str(sample_folder)), cache_root=cache, workers=1, progress=progress, cancel=cancel)
    assert seen[0] == 0 and list(cache.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncated", "missing", "nan", "garbage", "out of range", "other preset",
                                    "other key", "other bands"])
def test_a_damaged_cache_is_rebuilt_once_said(damage, sample_folder, tmp_path, caplog):
    """Issue 27, faults 5 and 6: a cache holding values no transform gives (float16 30000 everywhere), or whose
    manifest disagrees with its folder (another preset or key) or its frames (another band count), is rebuilt."""
    src = FolderSource(str(sample_folder))
    first = build_dataset(src, cache_root=tmp_path / "cache", workers=1)
    frames = np.array(first.log_magnitude)
    path = first.path / "log_magnitude.npy"
    del first
    manifest = json.loads((path.parent / "manifest.json").read_text())
    if damage == "truncated":
        os.truncate(path, path.stat().st_size // 2)
    elif damage == "missing":
        (path.parent / "loudness.npy").unlink()
    elif damage == "out of range":
        np.save(path, np.full_like(frames, 30000))
    elif damage in ("other preset", "other key"):
        manifest["preset" if damage == "other preset" else "key"] = "nsgt-cqt" if damage == "other preset" else "0" * 16
        (path.parent / "manifest.json").write_text(json.dumps(manifest))
    elif damage == "other bands":
        np.save(path, np.concatenate([frames, frames[:, :1]], axis=1))
    else:
        stored = np.load(path, mmap_mode="r+")
        stored[len(stored) // 2, 3] = np.nan if damage == "nan" else -3e4
        stored.flush()
        del stored
    again = build_dataset(src, cache_root=tmp_path / "cache", workers=1)
    assert np.array_equal(np.asarray(again.log_magnitude), frames)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "the cached dataset is damaged" in warnings[0] and "building it again" in warnings[0]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [again.path.name]


# ------------------------------------------------------------------------------------------------ splits
def test_splits_hold_the_novel_instruments_out_and_stratify_the_rest():
    labels = ["A"] * 100 + ["B"] * 50 + ["C"] * 20 + ["Novel"] * 30
    split = np.array(split_notes(labels, held_out={"Novel"}, seed=4))
    lab = np.array(labels)
    assert set(split[lab == "Novel"]) == {"novel"} and "novel" not in set(split[lab != "Novel"])
    for name, n in (("A", 100), ("B", 50), ("C", 20)):
        counts = {s: int(np.sum(split[lab == name] == s)) for s in ("train", "valid", "test")}
        assert abs(counts["train"] - 0.8 * n) <= 1 and abs(counts["valid"] - 0.1 * n) <= 1, (name, counts)


def test_splits_are_seeded():
    labels = ["A"] * 100 + ["B"] * 50 + ["C"] * 20 + ["Novel"] * 30
    split = np.array(split_notes(labels, held_out={"Novel"}, seed=4))
    assert split.tolist() == split_notes(labels, held_out={"Novel"}, seed=4)
    assert split.tolist() != split_notes(labels, held_out={"Novel"}, seed=5)


def test_too_few_notes_to_stratify_are_still_split():
    tiny = split_notes(["A", "B", "B", "C"], seed=0)  # too few to stratify: still split, no error
    assert len(tiny) == 4 and "train" in tiny


def test_a_note_never_has_frames_in_two_splits(sample_folder, tmp_path):
    ds = build_dataset(FolderSource(str(sample_folder)), cache_root=tmp_path / "c", workers=1)
    owner = np.repeat(np.arange(len(ds)), ds.notes.n_frames)
    assert np.array_equal(np.diff(ds.notes.first_frame), ds.notes.n_frames[:-1])
    for s in ("train", "valid", "test"):
        rows, owners = ds.sustain_frames(ds.where(s))
        assert set(ds.notes.split_name[owner[rows]]) <= {s}
        assert np.array_equal(owner[rows], owners)


# ------------------------------------------------------------------------------------------------ SoundFont
def test_soundfont_notes_have_their_pitch_and_dynamics(soundfont, tmp_path):
    flute, cello = BY_NAME["Flute"], BY_NAME["Cello"]
    src = SoundFontSource(soundfont, instruments=(flute, cello), dynamics=(("pp", 24), ("ff", 127)))
    from dataclasses import replace

    src = replace(src, instruments=(replace(flute, low=67, high=69), replace(cello, low=45, high=45)))
    ds = build_dataset(src, cache_root=tmp_path, workers=1)
    assert len(ds) == 8 and ds.manifest["skipped"] == []
    assert set(ds.notes.program) == {73, 42} and set(ds.notes.family) == {"woodwind", "strings"}
    rep = ds.representative()
    for i in range(len(ds)):  # the strongest band is a harmonic of the note (a flute's 2nd can lead)
        ratio = dominant_hz(rep[i]) / midi_hz(ds.notes.pitch[i])
        assert round(ratio) in (1, 2, 3) and abs(ratio / round(ratio) - 1) < 0.04, ratio
    loud = ds.loudness[ds.notes.first_frame + ds.notes.rep_frame]
    dyn = ds.notes.dynamic_name
    assert loud[dyn == "ff"].mean() > loud[dyn == "pp"].mean() + 10
    # note-off at 1 s: the sustain ends there
    assert np.all(ds.notes.sustain_end == round(1.0 * ds.manifest["frame_rate"]))


def test_missing_soundfont_says_what_to_install(monkeypatch, tmp_path):
    import timbre_explorer.core.data.sources as sources

    monkeypatch.setattr(sources, "SOUNDFONT_PLACES", (str(tmp_path / "none.sf2"),))
    with pytest.raises(ParameterError, match="apt-get install fluid-soundfont-gm"):
        find_soundfont()
    with pytest.raises(ParameterError, match="no such SoundFont"):
        find_soundfont(tmp_path / "x.sf2")


def _gravis_patch(path, root_hz: float = 441.0, rate: int = 44100) -> None:
    """A one-sample Gravis (GF1) patch: a sine at ``root_hz``, looped over whole periods, held while the key is."""
    import struct

    period = round(rate / root_hz)
    wave = (12000 * np.sin(2 * np.pi * np.arange(rate // 2) / period)).astype("<i2").tobytes()
    loop = (rate // 4 // period * period * 2, (rate // 4 // period + 20) * period * 2)  # bytes
    header = struct.pack("<12s10s60sBBBHHI36s", b"GF1PATCH110", b"ID#000002", b"sine", 1, 14, 0, 1, 127,
                         len(wave), b"")
    instrument = struct.pack("<H16sIB40s", 0, b"sine", len(wave) + 96 + 47, 1, b"")
    layer = struct.pack("<BBIB40s", 0, 0, len(wave) + 96, 1, b"")
    sample = struct.pack("<7sBIIIHIIIhB6s6s3s3sBHH36s", b"sine", 0, len(wave), *loop, rate, 0, 20_000_000,
                         round(root_hz * 1000), 0, 7, bytes([63] * 6), bytes([250, 250, 250, 0, 0, 0]), bytes(3),
                         bytes(3), 0x01 | 0x04 | 0x20 | 0x40, 60, 1024, b"")  # 16 bit, looped, sustained, enveloped
    assert len(header) == 129 and len(instrument) == 63 and len(layer) == 47 and len(sample) == 96
    path.write_bytes(header + instrument + layer + sample + wave)


def test_a_patch_set_renders_through_timidity(tmp_path, monkeypatch):
    """A TiMidity++ configuration stands for a patch set: its notes come back at their pitch, each in its own
    slot, held for hold_s and released; without TiMidity++ the error says what installs it."""
    import shutil

    from signals import fundamental

    if shutil.which("timidity") is None:
        if os.environ.get("CI"):
            raise AssertionError("./run.sh installs timidity: in CI it must be there")
        pytest.skip("no TiMidity++ (apt-get install timidity)")
    _gravis_patch(tmp_path / "sine.pat")
    config = tmp_path / "mine.cfg"
    config.write_text(f"dir {tmp_path}\nbank 0\n 73 sine.pat\n")
    flute = replace(BY_NAME["Flute"], low=69, high=81)
    src = SoundFontSource(str(config), instruments=(flute,), dynamics=(("pp", 24), ("ff", 127)))
    assert src.name == "mine"
    specs = [s for s in src.notes() if s.pitch in (69, 81)]
    audio = src.render(specs, 22050)
    assert all(a.shape == (round(src.seconds * 22050),) for a in audio)
    for spec, a in zip(specs, audio):
        held = a[2205:round(0.9 * 22050)]
        assert abs(fundamental(held) / midi_hz(spec.pitch) - 1) < 0.01
        assert np.sqrt(np.mean(a[-2205:] ** 2)) < 0.01 * np.sqrt(np.mean(held ** 2))  # released
    level = {s.dynamic: 10 * np.log10(np.mean(a[:20000] ** 2)) for s, a in zip(specs, audio) if s.pitch == 69}
    assert level["ff"] > level["pp"] + 6
    broken = tmp_path / "broken.cfg"
    broken.write_text("not a configuration\n")
    with pytest.raises(TimbreExplorerError, match=r"broken\.cfg: TiMidity\+\+ could not render it \(line 1: syntax"):
        replace(src, path=str(broken)).render(specs[:1], 22050)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(TimbreExplorerError, match=r"mine\.cfg: TiMidity\+\+ is not installed.*install timidity"):
        src.render(specs[:1], 22050)


def _need_timidity():
    import shutil

    if shutil.which("timidity") is None:
        if os.environ.get("CI"):
            raise AssertionError("./run.sh installs timidity: in CI it must be there")
        pytest.skip("no TiMidity++ (apt-get install timidity)")


def test_a_patch_set_renders_only_from_its_own_configuration(tmp_path):
    """Issue 27, fault 14: TiMidity++ reads the system's configuration before the patch set's, so a program the
    patch set lacks sounded from the system's sample set (FluidR3_GM here) under the patch set's name."""
    _need_timidity()
    _gravis_patch(tmp_path / "sine.pat")
    config = tmp_path / "mine.cfg"
    config.write_text(f"dir {tmp_path}\nbank 0\n 73 sine.pat\n")  # a flute, and no piano
    src = SoundFontSource(str(config), instruments=(replace(BY_NAME["Flute"], low=69, high=69),
                                                    replace(BY_NAME["Piano"], low=69, high=69)),
                          dynamics=(("ff", 127),))
    flute, piano = src.render(src.notes(), 22050)
    assert 20 * np.log10(np.sqrt(np.mean(flute ** 2))) > -40
    assert 20 * np.log10(np.sqrt(np.mean(piano ** 2))) < -80  # TiMidity++'s dither, not FluidR3_GM's piano


@pytest.mark.parametrize("config", ["", "dir /nonexistent/patches\nbank 0\n 73 flute.pat\n 71 clarinet.pat\n"])
def test_a_patch_set_of_silence_or_noise_builds_no_dataset(config, tmp_path):
    """Issue 27, fault 14: an empty configuration (the system's notes under its name) or one whose patch files are
    all missing (TiMidity++'s dither at -93 dBFS, with a click) built a dataset; now one sentence refuses it."""
    _need_timidity()
    (tmp_path / "hollow.cfg").write_text(config)
    src = SoundFontSource(str(tmp_path / "hollow.cfg"), instruments=(replace(BY_NAME["Flute"], low=60, high=63),
                                                                    replace(BY_NAME["Clarinet"], low=60, high=63)))
    with pytest.raises(ParameterError, match=r"hollow\.cfg: none of the 40 notes could be used \(.*silence or noise "
                                             r"only \(RMS -9\d dBFS\)"):
        build_dataset(src, cache_root=tmp_path / "cache", workers=1)
    assert not list((tmp_path / "cache").iterdir())


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_dry_run_lists_the_mapping(sample_folder, capsys):
    assert main(["dataset", "build", "--source", "folder", str(sample_folder), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "sol/Fl-ord-C4-pp.wav\tFlute\twoodwind\tpitch 60\tpp\tord" in out
    assert "nsynth/reed_acoustic_001-052-100.wav\tReed\twoodwind\tpitch 52\tf\tacoustic" in out
    assert "loose.wav\tSKIPPED: cannot tell the instrument" in out
    assert "32 notes of 5 instruments; 2 files skipped" in out


def test_cli_builds_a_folder_dataset(sample_folder, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert main(["dataset", "build", "--source", "folder", str(sample_folder), "--cache", str(cache),
                 "--workers", "1", "--hold-out", "Reed"]) == 0
    captured = capsys.readouterr()
    assert "27 notes" in captured.out and "(held out)" in captured.out
    assert "skipped Bad/silent.wav: silent" in captured.err
    assert "skipped loose.wav: cannot tell the instrument" in captured.err
    (built,) = cache.iterdir()
    ds = NoteDataset(built)
    assert set(ds.notes.instrument_name[ds.where("novel")]) == {"Reed"}


def test_cli_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["dataset", "build", "--source", "folder"]) == 1
    assert "needs the folder" in capsys.readouterr().err
    assert main(["dataset", "build", "--source", "folder", str(tmp_path / "nope"), "--dry-run"]) == 1
    assert "no such folder" in capsys.readouterr().err
