"""``timbre-explorer render`` and path files, on the tiny trained model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from tiny import BRIGHTNESS, SR, synthetic_note

from timbre_explorer.cli import main
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.audio_io import EXPORT_RATE, at_export_rate, load_audio, save_wav
from timbre_explorer.core.signal.descriptors import descriptors
from timbre_explorer.core.signal.nsgt import transform_for
from timbre_explorer.core.synthesis.pathfile import FORMAT, PathSpec, read_path, render_spec, spec_frames, write_path

ROOT = Path(__file__).resolve().parents[1]


def _centroids(space, audio, parts=2) -> list[float]:
    n = len(audio) // parts
    nsgt = transform_for(space.preset, n)
    return [float(descriptors(nsgt.magnitude(torch.from_numpy(audio[i * n:(i + 1) * n].astype(np.float64))).mean(-1),
                              nsgt)["centroid"]) for i in range(parts)]


def _render(capsys, *args) -> tuple[int, str, str]:
    code = main(["render", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_render_a_point(tiny_model, tmp_path, capsys):
    wav = tmp_path / "flute.wav"
    # as a click plays it: a conditioned model's note lasts at least its attack and release (under a second)
    code, out, _ = _render(capsys, "--model", tiny_model, "--point", "flute", "--seconds", 1.2, "--out", wav)
    assert code == 0 and out == f"wrote {wav} (1.20 s at 44100 Hz, 24-bit)\n"
    info = sf.info(str(wav))  # the model's 22,050 Hz, written at the export rate
    assert (info.samplerate, info.frames, info.subtype, info.channels) == (EXPORT_RATE, round(1.2 * EXPORT_RATE),
                                                                           "PCM_24", 1)
    assert not wav.with_suffix(".json").exists()  # a point is not a path
    coords = tmp_path / "coords.wav"
    assert _render(capsys, "--model", tiny_model, "--point=-0.5,0.2,1.5,1.0", "--out", coords)[0] == 0
    assert sf.info(str(coords)).frames == EXPORT_RATE  # one second by default


def test_a_22050_hz_models_sound_is_written_at_44100_hz_as_it_sounds(tiny_model, tmp_path, capsys):
    """A model of the paper's transform plays at 22,050 Hz; its render is written at the export rate, at the pitch
    (YIN) and level (within 0.1 dB) of the note it plays, with nothing above the model's 11,025 Hz but the
    resampler's images, more than 60 dB down."""
    from timbre_explorer.core.signal.pitch import estimate_pitch
    from timbre_explorer.core.synthesis.gestures import DEFAULT_PLAY_PITCH, default_dynamic, parse_point, point_note
    from timbre_explorer.core.synthesis.space import TimbreSpace

    space = TimbreSpace.open(tiny_model, device=torch.device("cpu"))
    assert space.sample_rate == 22_050
    wav = tmp_path / "f.wav"
    assert _render(capsys, "--model", tiny_model, "--point", "flute", "--out", wav) == (
        0, f"wrote {wav} (1.00 s at 44100 Hz, 24-bit)\n", "")
    audio, sr = sf.read(str(wav), dtype="float64")
    note = point_note(space, parse_point(space, "flute"), pitch=DEFAULT_PLAY_PITCH, dynamic=default_dynamic(space),
                      seconds=1.0).samples.astype(np.float64)
    assert sr == 44_100 and len(audio) == 2 * len(note)
    assert estimate_pitch(audio, sr) == pytest.approx(estimate_pitch(note, space.sample_rate), abs=0.02)
    level = 10 * np.log10(np.mean(audio ** 2) / np.mean(note ** 2))
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)))) ** 2
    above = 10 * np.log10(spectrum[np.fft.rfftfreq(len(audio), 1 / sr) > 11_025].max() / spectrum.max())
    assert abs(level) < 0.1 and above < -60, (level, above)
    print(f"level {level:+.4f} dB, highest bin above 11,025 Hz {above:.0f} dB")


def test_render_point_plays_the_core_note_of_a_point(tiny_model, tiny_space, tmp_path, capsys):
    """``render --point`` writes what :func:`point_note` (what a click calls) makes of the point, pitch and
    dynamic; the spectrum it gives is decoded at them, as the note sounds."""
    from timbre_explorer.core.synthesis.gestures import point_note

    z = tiny_space.centroids["Oboe"]
    note = point_note(tiny_space, z, pitch=64, dynamic="pp", seconds=1.5)
    wav = tmp_path / "oboe.wav"
    assert _render(capsys, "--model", tiny_model, "--point", "Oboe", "--pitch", 64, "--dynamic", "pp",
                   "--seconds", 1.5, "--out", wav)[0] == 0
    audio, sr = sf.read(str(wav), dtype="float32")
    assert (sr, note.sample_rate) == (EXPORT_RATE, SR)
    assert np.allclose(audio, at_export_rate(note.samples, SR), atol=1e-4)  # 24-bit
    assert np.allclose(note.frame, tiny_space.decode(z, pitch=64, dynamic="pp").numpy())
    assert note.playable is not None and (note.playable.pitch, note.dynamic) == (64.0, "pp")
    loud = point_note(tiny_space, z, pitch=64, dynamic="ff", seconds=1.5)
    assert np.sqrt(np.mean(loud.samples ** 2)) > 2 * np.sqrt(np.mean(note.samples ** 2))  # ff: 21 dB above pp


def test_render_from_to_gets_brighter_and_writes_a_path_file(tiny_model, tiny_space, tmp_path, capsys):
    wav = tmp_path / "ft.wav"
    code, out, _ = _render(capsys, "--model", tiny_model, "--from", "Flute", "--to", "Trumpet", "--seconds", 1,
                           "--mode", "slerp", "--out", wav)
    assert code == 0 and "ft.json" in out
    audio, sr = sf.read(str(wav), dtype="float32")
    assert sr == EXPORT_RATE and len(audio) == EXPORT_RATE
    first, second = _centroids(tiny_space, load_audio(wav, SR))
    assert second > 1.1 * first  # halves of a path whose ends differ by 35 %
    spec = read_path(wav.with_suffix(".json"), latent=tiny_space.latent_size)
    assert (spec.kind, spec.mode, spec.seconds, len(spec.points)) == ("points", "slerp", 1.0, 2)
    assert np.allclose(spec.points, [tiny_space.centroids["Flute"], tiny_space.centroids["Trumpet"]], atol=1e-5)
    # the path file renders the same sound again, here twice as long
    again = tmp_path / "again.wav"
    code, _, _ = _render(capsys, "--model", tiny_model, "--path", wav.with_suffix(".json"), "--seconds", 2,
                         "--out", again)
    assert code == 0 and sf.info(str(again)).frames == 2 * EXPORT_RATE
    assert read_path(again.with_suffix(".json")).seconds == 2.0
    same = render_spec(tiny_space, spec)
    # the file is streamed in pieces: they join within 1e-3 of the whole render (-46 dB of its peak; the calibrated
    # decoder's brighter sound shows it more than the 24-bit quantization)
    assert np.allclose(at_export_rate(same, SR), audio, atol=2e-3)


def _bright_and_dark_files(tmp_path) -> dict:
    """Flute.wav and Trumpet.wav: synthetic notes at E4 as bright as the tiny set's Flute and Trumpet."""
    files = {}
    for name in ("Flute", "Trumpet"):
        files[name] = tmp_path / f"{name}.wav"
        save_wav(files[name], synthetic_note(64, BRIGHTNESS[name], 0.5, 0.8), SR)
    return files


def test_render_from_audio_files_starts_where_the_first_file_is_placed(tiny_model, tiny_space, tmp_path, capsys):
    files = _bright_and_dark_files(tmp_path)
    plain = tmp_path / "plain.wav"
    assert _render(capsys, "--model", tiny_model, "--from", files["Flute"], "--to", files["Trumpet"],
                   "--out", plain)[0] == 0
    start = read_path(plain.with_suffix(".json")).points[0]
    assert tiny_space.nearest_instruments(start, 1, trained_only=False)[0][0] in ("Flute", "Piccolo")


def test_render_morphs_two_audio_files_frame_by_frame_and_holds_an_instrument_still(tiny_model, tiny_space, tmp_path,
                                                                                    capsys):
    files = _bright_and_dark_files(tmp_path)
    wav = tmp_path / "morph.wav"
    code, out, _ = _render(capsys, "--model", tiny_model, "--from", files["Flute"], "--to", files["Trumpet"],
                           "--morph", "--out", wav)
    assert code == 0
    spec = read_path(wav.with_suffix(".json"), latent=tiny_space.latent_size)
    assert spec.kind == "morph" and len(spec.points) > 20  # every frame of the notes
    assert np.array_equal(spec_frames(tiny_space, spec), np.asarray(spec.points))  # a morph's points are its frames
    audio = load_audio(wav, SR)
    assert len(audio) == pytest.approx(0.8 * SR, rel=0.15)  # the notes' own length
    body = audio[: int(0.7 * SR)]  # leave out the decay
    first, _, last = _centroids(tiny_space, body, 3)
    assert last > 1.15 * first
    # an instrument holds still: a morph from a real note to a centroid, and between two centroids
    assert _render(capsys, "--model", tiny_model, "--from", files["Flute"], "--to", "Trumpet", "--morph",
                   "--out", wav)[0] == 0
    assert len(read_path(wav.with_suffix(".json")).points) == len(spec.points)
    assert _render(capsys, "--model", tiny_model, "--from", "Flute", "--to", "Trumpet", "--morph", "--out", wav)[0] == 0
    assert sf.info(str(wav)).frames == 2 * EXPORT_RATE and len(read_path(wav.with_suffix(".json")).points) == 96


@pytest.mark.parametrize("args, message", [
    (["--point", "Kazoo"], "not an instrument of this model"),
    (["--point", "1,2"], "4 finite values"),
    (["--from", "Flute"], "--from and --to go together"),
    (["--point", "Flute", "--from", "Flute", "--to", "Oboe"], "exactly one of"),
    (["--point", "Flute", "--morph"], "--morph needs --from and --to"),
    (["--point", "Flute", "--seconds", "0"], "--seconds"),
    (["--point", "Flute", "--dynamic", "loud"], "dynamic must be one of"),
    (["--from", "Flute", "--to", "Oboe:64:ff"], "needs --morph"),
    (["--from", "missing.wav", "--to", "Oboe"], "no such file"),
])
def test_render_refuses_bad_requests_in_one_line(tiny_model, tmp_path, capsys, args, message):
    code, out, err = _render(capsys, "--model", tiny_model, *args, "--out", tmp_path / "x.wav")
    assert code == 1 and message in err and err.count("\n") == 1 and err.startswith("timbre-explorer render: ")
    assert not (tmp_path / "x.wav").exists()


def test_render_refuses_bad_outputs_models_and_path_files(tiny_model, tmp_path, capsys):
    code, _, err = _render(capsys, "--model", tiny_model, "--point", "Flute", "--out", tmp_path / "x.mp3")
    assert code == 1 and ".wav" in err
    code, _, err = _render(capsys, "--model", tmp_path / "none.timbre.safetensors", "--point", "Flute",
                           "--out", tmp_path / "x.wav")
    assert code == 1 and "none.timbre.safetensors" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = _render(capsys, "--model", tiny_model, "--path", bad, "--out", tmp_path / "x.wav")
    assert code == 1 and "not a JSON file" in err
    write_path(bad, PathSpec([[0.0] * 5, [1.0] * 5], seconds=1.0))  # another model's points
    code, _, err = _render(capsys, "--model", tiny_model, "--path", bad, "--out", tmp_path / "x.wav")
    assert code == 1 and "4 latent values" in err
    assert not (tmp_path / "x.wav").exists()


def test_a_path_gives_its_steps_frames_of_its_models_latent_size(tiny_space):
    four = PathSpec([[0.0] * 4, [1.0] * 4, [1.0, 0.0, 0.0, 1.0]], seconds=1.0)  # the tiny model's latent size
    assert spec_frames(tiny_space, four).shape == (48, 4)  # path_steps(1 s)
    assert spec_frames(tiny_space, PathSpec(four.points, seconds=1.0, steps=10)).shape == (10, 4)
    three = PathSpec([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [1.0, 0.0, -1.0]], mode="slerp", seconds=1.5,
                     kind="polyline", model="tiny", steps=40)
    with pytest.raises(ParameterError, match="3 values but this model's latent points have 4"):
        spec_frames(tiny_space, three)


def test_path_files_round_trip_and_are_checked(tmp_path):
    spec = PathSpec([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [1.0, 0.0, -1.0]], mode="slerp", seconds=1.5,
                    kind="polyline", model="tiny", steps=40)
    path = tmp_path / "p.json"
    write_path(path, spec)
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT and data["version"] == 1
    back = read_path(path, latent=3)
    assert back == spec

    def bad(message, **change):
        path.write_text(json.dumps({**data, **change}))
        with pytest.raises(ParameterError, match=message):
            read_path(path, latent=3)

    bad("not a Timbre Explorer path file", format="something-else")
    bad("version", version=7)
    bad("point 2 must be a list of 3", points=[[0, 0, 0], [0, 0]])
    bad("not a finite number", points=[[0, 0, 0], [0, float("nan"), 0]])
    bad("at least 2 points", points=[[0, 0, 0]])
    bad("mode", mode="cubic")
    bad("kind", kind="spiral")
    bad("seconds", seconds=-1)
    bad("steps", steps=1)
    with pytest.raises(ParameterError, match="4 latent values"):
        path.write_text(json.dumps(data))
        read_path(path, latent=4)
    with pytest.raises(ParameterError, match="no such path file"):
        read_path(tmp_path / "missing.json")
    with pytest.raises(ParameterError, match="at least 2 points"):
        write_path(tmp_path / "one.json", PathSpec([[0.0, 1.0]]))
    assert not (tmp_path / "one.json").exists()


def _hostile_path_file(case: str, tmp_path) -> str:
    """A path file someone else might send: each breaks the reader a different way."""
    good = PathSpec([[0.0] * 4, [0.5] * 4, [1.0] * 4], seconds=0.3, kind="morph").to_dict()
    path = tmp_path / f"{case}.json"
    if case == "fifo":
        os.mkfifo(path)
    elif case == "dev-zero":
        return "/dev/zero"
    elif case == "huge":  # a valid path file, padded past the size bound
        path.write_bytes(b" " * (33 << 20) + json.dumps(good).encode())
    elif case == "deep":
        path.write_text('{"format": "timbre-explorer-path", "points": ' + "[" * 100_000 + "]" * 100_000 + "}")
    else:
        extra = {"pitch-length": {"pitch": [60.0, 62.0]}, "levels-length": {"levels": [-7.0] * 5},
                 "ragged": {"pitch": [[60.0], 61.0, 62.0]}, "strings": {"levels": ["loud", "soft", "mf"]},
                 "pitch-range": {"pitch": 1e9}}[case]
        path.write_text(json.dumps({**good, "extra": extra}))
    return str(path)


@pytest.mark.parametrize("case", ["pitch-length", "levels-length", "ragged", "strings", "pitch-range", "deep", "huge",
                                  "dev-zero", "fifo"])
def test_hostile_path_files_are_one_sentence(case, tiny_model, tmp_path):
    """Run as the user would, in a process of its own: a FIFO used to hang the reader (the timeout catches it)."""
    hostile = _hostile_path_file(case, tmp_path)
    out = tmp_path / "x.wav"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    run = subprocess.run([sys.executable, "-m", "timbre_explorer", "render", "--model", str(tiny_model), "--path",
                          hostile, "--out", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr and lines[0].startswith(f"timbre-explorer render: "
                                                                                      f"{hostile}: "), run.stderr
    assert not out.exists()


def test_path_files_are_checked_against_their_schema(tmp_path):
    """Every rule of path.schema.json says its own sentence; conditions per frame must match the frames."""
    good = PathSpec([[0.0] * 3, [1.0] * 3], seconds=1.0, kind="morph", extra={"pitch": [60.0, 64.0]}).to_dict()
    path = tmp_path / "p.json"

    def refused(message, **change):
        path.write_text(json.dumps({**good, **change}))
        with pytest.raises(ParameterError, match=message):
            read_path(path)

    refused(r"extra must be an object whose pitch is MIDI numbers", extra={"pitch": [60.0, "x"]})
    refused(r"extra levels holds 3 values; this morph path plays its 2 frames", extra={"levels": [-7.0] * 3})
    refused(r"extra pitch holds 2 values; this polyline path plays one", kind="polyline")
    refused(r"latent values from -100 to 100", points=[[0.0] * 3, [1e300] * 3])
    path.write_text(json.dumps({k: v for k, v in good.items() if k != "seconds"}))
    with pytest.raises(ParameterError, match=r"invalid path file \('seconds' is a required property\)"):
        read_path(path)
    path.write_text(json.dumps(good))
    assert read_path(path).extra == {"pitch": [60.0, 64.0]}
    from timbre_explorer.core.synthesis.interpolation import INTERPOLATIONS
    from timbre_explorer.core.synthesis.pathfile import KINDS, MAX_SECONDS, MAX_STEPS, SCHEMA

    rules = json.loads(SCHEMA.read_text())["properties"]  # the schema says what the code knows
    assert (tuple(rules["kind"]["enum"]), tuple(rules["mode"]["enum"])) == (KINDS, tuple(INTERPOLATIONS))
    assert (rules["seconds"]["maximum"], rules["points"]["maxItems"]) == (MAX_SECONDS, MAX_STEPS)


def test_a_sound_and_its_path_file_are_renamed_together_under_the_folders_lock(tiny_model, tmp_path):
    """Two renders to the same WAV at once left one's sound beside the other's path file. Now each writes both
    to temporaries, then renames both while holding the folder's lock: held here, the render waits with both
    written and neither renamed; released, both appear, from the same render."""
    import time

    from timbre_explorer.core.files import locked_folder

    out = tmp_path / "same.wav"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with locked_folder(tmp_path):
        render = subprocess.Popen([sys.executable, "-m", "timbre_explorer", "render", "--model", str(tiny_model),
                                   "--from", "Flute", "--to", "Oboe", "--seconds", "0.5", "--out", str(out)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 120  # only so that a broken build cannot hang the suite
        while render.poll() is None and time.monotonic() < deadline and not (
                list(tmp_path.glob(".same.pid*.part.wav")) and list(tmp_path.glob(".same.pid*.part.json"))):
            time.sleep(0.05)
        assert render.poll() is None, render.communicate()
        assert not out.exists() and not out.with_suffix(".json").exists()
    _, err = render.communicate(timeout=120)
    assert render.returncode == 0, err
    assert sf.info(str(out)).frames == EXPORT_RATE // 2 and read_path(out.with_suffix(".json")).seconds == 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.json", "same.wav"]


def test_a_sound_whose_path_file_cannot_be_written_is_not_written_either(tiny_model, tmp_path, capsys):
    out = tmp_path / "out.wav"
    save_wav(out, synthetic_note(60, 0.4, 0.5, seconds=0.1), SR)
    before = out.read_bytes()
    (tmp_path / "out.json").mkdir()  # in the way of the path file
    code, _, err = _render(capsys, "--model", tiny_model, "--from", "Flute", "--to", "Oboe", "--seconds", 0.2,
                           "--out", out)
    assert code == 1 and err.strip() == (f"timbre-explorer render: {tmp_path / 'out.json'}: cannot write (Is a "
                                         "directory); neither out.wav nor out.json was written")
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "out.wav"]


def _long_spec(space, seconds: float) -> PathSpec:
    return PathSpec([space.centroids[n].tolist() for n in ("Flute", "Trumpet", "Oboe")], "slerp", seconds,
                    "polyline", space.name)


def test_a_long_render_streams_to_its_file_as_the_one_in_memory(tiny_space, tmp_path, monkeypatch):
    """render_to_file writes piece by piece (here 2.5 s pieces of a 10 s path) what render_spec returns whole,
    resampled to the export rate (the resampler's state kept from piece to piece), with its path file; progress
    climbs to 1.0, once per piece."""
    import timbre_explorer.core.signal.phase as phase
    from timbre_explorer.core.synthesis.pathfile import render_to_file

    monkeypatch.setattr(phase, "CHUNK_SECONDS", 2.5)
    spec = _long_spec(tiny_space, 10.0)
    done: list[float] = []
    wav = tmp_path / "long.wav"
    sidecar = render_to_file(tiny_space, spec, wav, progress=done.append)
    assert sidecar == wav.with_suffix(".json") and np.allclose(read_path(sidecar).points, spec.points, atol=1e-6)
    assert len(done) == 4 and done == sorted(done) and done[-1] == 1.0
    audio, sr = sf.read(str(wav), dtype="float32")
    assert sr == EXPORT_RATE and sf.info(str(wav)).subtype == "PCM_24" and len(audio) == 10 * EXPORT_RATE
    whole = at_export_rate(render_spec(tiny_space, spec), SR)
    assert np.abs(audio - whole).max() <= 2 / 2 ** 23  # 24-bit quantization apart
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.json", "long.wav"]


def test_a_cancelled_render_stops_early_and_leaves_no_file(tiny_space, tmp_path, monkeypatch):
    """Cancel (a threading.Event, as a worker's Cancel button sets it) after the first of five pieces: the render
    stops there, and neither file nor any temporary is left; a file already there stays as it was."""
    import threading

    import timbre_explorer.core.signal.phase as phase
    from timbre_explorer.core.errors import Cancelled
    from timbre_explorer.core.synthesis.pathfile import render_to_file

    monkeypatch.setattr(phase, "CHUNK_SECONDS", 0.5)
    monkeypatch.setattr(phase, "OVERLAP_SECONDS", 0.1)
    stop = threading.Event()
    done: list[float] = []

    def progress(fraction: float) -> None:
        done.append(fraction)
        stop.set()

    with pytest.raises(Cancelled):
        render_to_file(tiny_space, _long_spec(tiny_space, 2.3), tmp_path / "new.wav", cancel=stop, progress=progress)
    assert len(done) == 1 and done[0] < 0.5
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.wav"
    save_wav(old, synthetic_note(60, 0.4, 0.5, seconds=0.1), SR)
    before = old.read_bytes()
    stop.set()
    with pytest.raises(Cancelled):
        render_to_file(tiny_space, _long_spec(tiny_space, 2.3), old, cancel=stop)
    assert old.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["old.wav"]
