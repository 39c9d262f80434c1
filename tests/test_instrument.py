"""A point written as an SFZ instrument (``core/synthesis/instrument.py``), opened and played by the sfizz engine.

sfizz (``pysfizz``, the test extra) reads the ``.sfz`` as any SFZ player would and renders what a key plays.
The pitch and level checks play the bundled model: the tiny test model's notes have no pitch pYIN can read.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from timbre_explorer import cli
from timbre_explorer.core.errors import AudioFileError, Cancelled, ParameterError
from timbre_explorer.core.signal.audio_io import EXPORT_RATE
from timbre_explorer.core.signal.pitch import estimate_pitch
from timbre_explorer.core.synthesis.instrument import (
    export_note,
    key_zones,
    sample_pitches,
    velocity_layers,
    write_instrument,
    write_instruments,
)
from timbre_explorer.core.synthesis.synth import DYNAMIC_DB

HELD_S = 3.0  # a key held this long passes its loop several times (the samples are 1 s long)


@pytest.fixture(scope="module")
def pysfizz():
    """The sfizz engine; CI installs it (the test extra): missing there, it fails rather than skips."""
    if os.environ.get("CI"):
        import pysfizz
        return pysfizz
    return pytest.importorskip("pysfizz", reason="pip install pysfizz (the test extra)")


@pytest.fixture(scope="module")
def bundled_space():
    from timbre_explorer.core.synthesis.space import TimbreSpace
    from timbre_explorer.paths import default_model_path

    return TimbreSpace.open(default_model_path(), device=torch.device("cpu"))


def synth(pysfizz, sfz: Path, sample_rate: int):
    """sfizz with ``sfz`` loaded and its samples held in memory (sfizz's ``hint_ram_based``, in a copy beside it):
    rendering offline, sfizz otherwise streams each sample past its first part from a background thread, and a
    few notes came back silent (4 of 264 keys and velocities of the bundled model's Flute, none held in memory)."""
    held_in_memory = sfz.with_name(f"{sfz.stem}-in-memory.sfz")
    held_in_memory.write_text("<control> hint_ram_based=1\n" + sfz.read_text())
    s = pysfizz.Synth(sample_rate, 256)
    assert s.load_sfz_file(held_in_memory)
    return s


def held(s, key: int, velocity: int, sample_rate: int) -> np.ndarray:
    """What sfizz plays for ``key`` held :data:`HELD_S` (its left channel), from 0.5 s (past the attack) to the
    key's release."""
    audio = s.render_note(key, velocity, HELD_S, HELD_S + 0.5)[0].astype(np.float64)
    return audio[int(0.5 * sample_rate):int(HELD_S * sample_rate)]


def rms_db(a: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(a ** 2))))


def regions(sfz: Path) -> list[dict[str, str]]:
    """The opcodes of each ``<region>`` line of ``sfz`` (its group's before them)."""
    out, group = [], {}
    for line in sfz.read_text().splitlines():
        line = line.split("//")[0]
        opcodes = dict(re.findall(r"(\w+)=(\S+)", line))
        if line.startswith("<group>"):
            group = opcodes
        elif line.startswith("<region>"):
            out.append({**group, **opcodes})
    return out


def test_the_sample_pitches_span_the_range_every_third_key():
    pitches = sample_pitches(21, 108)
    assert pitches[:3] == [21, 24, 27] and pitches[-1] == 108 and len(pitches) == 30
    assert sample_pitches(60, 70) == [60, 63, 66, 69, 70]
    with pytest.raises(ParameterError, match="two MIDI pitches"):
        sample_pitches(70, 60)


def test_every_key_is_in_one_zone_that_plays_its_nearest_sample():
    pitches = sample_pitches(21, 108)
    zones = key_zones(pitches)
    for key in range(21, 109):
        (i,) = [i for i, (lo, hi) in enumerate(zones) if lo <= key <= hi]
        assert abs(pitches[i] - key) == min(abs(p - key) for p in pitches) <= 1


def test_every_velocity_is_in_one_layer_the_dynamic_the_apps_keys_play_for_it():
    for count in (1, 2, 3, 5):
        layers = velocity_layers(count)
        for v in range(1, 128):  # the layer a velocity plays is the dynamic the app's keys play for it
            (i,) = [i for i, (lo, hi) in enumerate(layers) if lo <= v <= hi]
            assert i == v * count // 128


def test_an_instrument_plays_in_sfizz_at_its_keys_pitch_and_its_layers_level(bundled_space, pysfizz, tmp_path):
    """Keys on a sample (63) and between samples (64, 65) sound at their pitch; the loud layer is as much louder
    as its dynamic says; a key held for 3 s holds its level (the loop)."""
    space = bundled_space
    w = write_instrument(space, space.centroids["Flute"], tmp_path / "Flute.sfz", low=60, high=66,
                         dynamics=["p", "ff"])
    assert w.pitches == (60, 63, 66) and w.dynamics == ("p", "ff") and w.count == 6
    s = synth(pysfizz, w.sfz, space.sample_rate)
    played = {(key, velocity): held(s, key, velocity, space.sample_rate) for key in (63, 64, 65)
              for velocity in (30, 120)}
    report = []
    for (key, velocity), a in played.items():
        pitch = estimate_pitch(a, space.sample_rate)
        assert pitch is not None and abs(pitch - key) < 0.3, (key, velocity, pitch)
        windows = [rms_db(b) for b in np.array_split(a, 5)]
        assert max(windows) - min(windows) < 1.0, windows  # held: the loop repeats, at one level
        report.append(f"key {key} vel {velocity}: pitch {pitch:.2f}, {rms_db(a):.1f} dB")
    for key in (63, 64, 65):
        louder = rms_db(played[key, 120]) - rms_db(played[key, 30])
        assert louder == pytest.approx(DYNAMIC_DB["ff"] - DYNAMIC_DB["p"], abs=1.0), louder
    print("; ".join(report))


@pytest.fixture(scope="module")
def oboe(tiny_space, tmp_path_factory):
    """The tiny model's Oboe centroid written as an SFZ instrument."""
    return write_instrument(tiny_space, tiny_space.centroids["Oboe"], tmp_path_factory.mktemp("oboe") / "Oboe.sfz")


def test_loops_lie_inside_their_samples_and_join_seamlessly(tiny_space, oboe):
    space, w = tiny_space, oboe
    pitches = sorted({int(n) for n in space.notes.pitch})
    assert w.pitches == tuple(sample_pitches(pitches[0], pitches[-1]))
    assert w.dynamics == ("pp", "ff")  # the tiny model's two dynamics
    rs = regions(w.sfz)
    assert len(rs) == w.count == len(list(w.samples.iterdir()))
    joins = []
    for r in rs:
        x, sr = sf.read(w.sfz.parent / r["sample"])
        start, end = int(r["loop_start"]), int(r["loop_end"])  # SFZ's loop_end is the loop's last sample
        assert sr == EXPORT_RATE and sf.info(w.sfz.parent / r["sample"]).subtype == "PCM_24"
        assert 0 < start < end < len(x) and (end - start) / sr >= 0.2
        loop = x[start:end + 1]
        # after loop_end comes loop_start again: the sample before it is the one that led into it the first time
        joins.append(abs(x[end] - x[start - 1]) / np.sqrt(np.mean(loop ** 2)))
        assert abs(x[start] - x[end]) <= np.abs(np.diff(loop)).max()
    assert max(joins) < 0.01, joins
    print(f"largest jump at a loop point: {max(joins):.1e} of the loop's RMS")


def _seam(x: np.ndarray, start: int, end: int) -> float:
    """How rough a loop's seam plays: the largest second difference where ``x[end - 1]`` is followed by
    ``x[start]``, over the 99th percentile of the loop's own."""
    played = np.concatenate([x[end - 3:end], x[start:start + 3]]).astype(np.float64)
    return float(np.abs(np.diff(played, 2)).max() / np.percentile(np.abs(np.diff(x[start:end], 2)), 99))


@pytest.mark.parametrize("rate", [22_050, 16_000, 48_000])
def test_a_note_at_the_export_rate_loops_as_seamlessly_at_the_same_pitch(rate):
    """A looped tone at a model's rate, not quite periodic (a slight vibrato, a little noise, as a model's), at
    44.1 kHz: its loop the same length in seconds (to half a sample), its seam no rougher than the loop itself,
    and held, at the pitch it had. Resampled whole instead, with the loop points scaled, the seam is 1.3 to 4.3 times
    as rough as the loop: its last samples are computed from what follows it in the file, not from its start."""
    from timbre_explorer.core.signal.audio_io import at_export_rate
    from timbre_explorer.core.synthesis.playable import hz_to_midi, make_loop

    t = np.arange(rate) / rate
    x = sum(0.6 ** k * np.sin(2 * np.pi * 440 * (k + 1) * t * (1 + 0.001 * np.sin(2 * np.pi * 5 * t)) + k)
            for k in range(12) if 440 * (k + 1) < rate / 2)
    x = 0.3 * x / np.abs(x).max() + 0.003 * np.random.default_rng(0).standard_normal(rate)
    note = make_loop(x, rate, hz_to_midi(440), attack_s=0.05, release_s=0.25)
    ratio = EXPORT_RATE / rate
    out = export_note(note)
    assert out.sample_rate == EXPORT_RATE and abs(out.loop_start - note.loop_start * ratio) <= 0.5
    assert abs((out.loop_end - out.loop_start) - (note.loop_end - note.loop_start) * ratio) <= 0.5
    assert _seam(out.samples, out.loop_start, out.loop_end) < 1.0
    whole = at_export_rate(note.samples, rate)
    assert _seam(whole, out.loop_start, out.loop_start + round((note.loop_end - note.loop_start) * ratio)) > 1.0
    held = estimate_pitch(out.held(2.0), EXPORT_RATE)
    assert held == pytest.approx(estimate_pitch(note.held(2.0), rate), abs=0.03)  # YIN's steps at the two rates
    assert export_note(out) is out  # at the export rate already


def test_sfizz_plays_every_key_from_its_nearest_sample_in_its_velocitys_layer(tiny_space, oboe, pysfizz):
    space, w = tiny_space, oboe
    pitches = sorted({int(n) for n in space.notes.pitch})
    s = synth(pysfizz, w.sfz, space.sample_rate)._synth
    for key in range(pitches[0], pitches[-1] + 1):
        for velocity in (1, 63, 64, 127):
            (region,) = [s.get_region_data(i) for i in s.get_regions_for_note(key)
                         if s.get_region_data(i)["lovel"] <= velocity / 127 <= s.get_region_data(i)["hivel"]]
            assert abs(region["pitch_keycenter"] - key) == min(abs(p - key) for p in w.pitches)
            assert region["sample_id"].endswith(f"_{w.dynamics[velocity * len(w.dynamics) // 128]}.wav")
            assert region["loop_start"] < region["loop_end"] <= region["end"]


def test_an_export_replaces_its_own_samples_but_never_a_folder_of_other_files(tiny_space, tmp_path):
    space, z = tiny_space, tiny_space.centroids["Flute"]
    write_instrument(space, z, tmp_path / "Flute.sfz", low=60, high=66, dynamics=["ff"])
    w = write_instrument(space, z, tmp_path / "Flute.sfz", low=62, high=62, dynamics=["pp"])
    assert sorted(p.name for p in w.samples.iterdir()) == ["Flute_062_pp.wav"]  # none of the first export's left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Flute.sfz", "Flute_samples"]
    theirs = tmp_path / "Mine_samples"
    theirs.mkdir()
    (theirs / "take1.wav").write_bytes(b"")
    with pytest.raises(ParameterError, match=r"Mine_samples: holds files this export did not write \(take1.wav\)"):
        write_instrument(space, z, tmp_path / "Mine.sfz")
    assert not (tmp_path / "Mine.sfz").exists() and [p.name for p in theirs.iterdir()] == ["take1.wav"]
    with pytest.raises(ParameterError, match="written as a .sfz file"):
        write_instrument(space, z, tmp_path / "Flute.wav")
    with pytest.raises(ParameterError, match="not a dynamic of this model"):
        write_instrument(space, z, tmp_path / "Other.sfz", dynamics=["mf"])


def test_a_cancelled_or_failed_export_leaves_nothing(tiny_space, tmp_path):
    space, z = tiny_space, tiny_space.centroids["Flute"]
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append((done, total))
        if done == 2:
            cancel.set()  # halfway, as the GUI's Cancel does

    out = tmp_path / "out"
    with pytest.raises(Cancelled, match="Flute.sfz: export cancelled; nothing was written"):
        write_instrument(space, z, out / "Flute.sfz", progress=progress, cancel=cancel)
    assert seen == [(1, 10), (2, 10)] and not out.exists()
    out.mkdir()
    (out / "Flute_samples").write_text("a file where the samples' folder goes")
    with pytest.raises(ParameterError, match="Flute_samples: a file is where"):
        write_instrument(space, z, out / "Flute.sfz")
    (out / "Flute_samples").unlink()
    (out / "blocked").write_text("a file where a folder should be")
    with pytest.raises(AudioFileError, match=r"blocked/Flute.sfz: cannot write the instrument \(Not a directory\)"):
        write_instrument(space, z, out / "blocked" / "Flute.sfz", low=60, high=60, dynamics=["ff"])
    assert sorted(p.name for p in out.iterdir()) == ["blocked"]


def test_every_bookmark_is_an_instrument_written_together(tiny_space, tmp_path):
    """A session's bookmarks exported at once: one .sfz and samples folder per name, each as its point alone
    writes it; a cancel leaves none of them."""
    space = tiny_space
    points = {"bright flute": space.centroids["Flute"], "Oboe/dark": space.centroids["Oboe"]}
    written = write_instruments(space, points, tmp_path)
    assert [w.sfz.name for w in written] == ["bright_flute.sfz", "Oboe_dark.sfz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Oboe_dark.sfz", "Oboe_dark_samples", "bright_flute.sfz",
                                                           "bright_flute_samples"]
    alone = write_instrument(space, points["Oboe/dark"], tmp_path / "alone" / "Oboe_dark.sfz")
    assert alone.sfz.read_text() == written[1].sfz.read_text()
    for a, b in zip(sorted(alone.samples.iterdir()), sorted(written[1].samples.iterdir())):
        assert a.name == b.name and np.array_equal(sf.read(a)[0], sf.read(b)[0])
    cancel = threading.Event()
    out = tmp_path / "cancelled"
    out.mkdir()
    with pytest.raises(Cancelled, match="nothing was written"):
        write_instruments(space, points, out, cancel=cancel, progress=lambda done, total: done > total // 2
                          and cancel.set())
    assert list(out.iterdir()) == []
    with pytest.raises(ParameterError, match="'a b', 'a_b' would write the same file"):
        write_instruments(space, {"a b": points["bright flute"], "a_b": points["bright flute"]}, out)


def test_the_instrument_command(tiny_model, tmp_path, capsys):
    out = tmp_path / "sfz"
    assert cli.main(["instrument", str(tiny_model), "--point", "oboe", "--out", str(out), "--low", "60",
                     "--high", "66", "--dynamics", "ff,pp"]) == 0
    said = capsys.readouterr().out
    assert f"wrote {out / 'oboe.sfz'}" in said and "3 pitches (C4 to F#4) x 2 dynamics (pp, ff)" in said
    assert len(regions(out / "oboe.sfz")) == 6 and len(list((out / "oboe_samples").iterdir())) == 6
    assert cli.main(["instrument", str(tiny_model), "--point", "0.1,0.2,0.3,0.4", "--out", str(out),
                     "--low", "64", "--high", "64"]) == 0
    assert (out / "point.sfz").is_file()
    assert cli.main(["instrument", str(tiny_model), "--point", "Tuba", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("timbre-explorer instrument: 'Tuba' is not an instrument of this model") and "\n" not in err


def test_an_unconditioned_model_is_one_sample_over_every_key(tmp_path_factory, tmp_path):
    """The paper's model plays what its point encodes, at one pitch: one sample, placed at that pitch."""
    from tiny import train_tiny_model

    from timbre_explorer.core.synthesis.space import TimbreSpace

    space = TimbreSpace.open(train_tiny_model(tmp_path_factory.mktemp("unconditioned"), conditioning="none"),
                             device=torch.device("cpu"))
    assert not space.conditioned
    w = write_instrument(space, space.centroids["Flute"], tmp_path / "Flute.sfz")
    (r,) = regions(w.sfz)
    assert (r["lokey"], r["hikey"], r["lovel"], r["hivel"]) == ("60", "71", "1", "127")
    assert 0 <= int(r["pitch_keycenter"]) <= 127 and abs(int(r.get("tune", 0))) <= 50
    assert [p.name for p in w.samples.iterdir()] == [Path(r["sample"]).name]
