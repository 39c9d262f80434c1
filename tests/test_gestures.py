"""One sound for every gesture, in the core: the level rule every gesture plays a dynamic at, paths that keep
their pitch and dynamic, and the keys' notes (made every 2 semitones, no brightness jump between neighbours)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from signals import pull, rms_db, spectral_centroid_hz

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.synthesis.gestures import point_note
from timbre_explorer.core.synthesis.pathfile import PathSpec, read_path, render_spec, write_path
from timbre_explorer.core.synthesis.playable import key_notes, key_pitches, playable_note, playable_range
from timbre_explorer.core.synthesis.synth import DYNAMIC_DB, dynamic_level_db, loop

SR = 22050


def held_db(audio: np.ndarray) -> float:
    """RMS (dBFS) of the sustained part: the middle half."""
    return rms_db(audio[len(audio) // 4: 3 * len(audio) // 4])


def test_one_level_per_dynamic():
    assert [dynamic_level_db(d) for d in ("pp", "p", "mf", "f", "ff")] == list(DYNAMIC_DB.values())
    assert dynamic_level_db("") == dynamic_level_db("mf")  # a model without dynamics plays at mf
    with pytest.raises(ParameterError, match="dynamic must be one of"):
        dynamic_level_db("fff")


def test_a_click_a_key_note_a_drag_and_a_path_play_a_dynamic_at_its_level(tiny_space):
    """Every gesture at one point: the click's note, the key's loop, the drag's loop and a path through it, at
    the dynamic's level within 1 dB (their pitch: test_explorer, on the bundled model, whose notes are pitched)."""
    s = tiny_space
    z = s.notes.z[3]
    for dynamic in s.dynamics:
        target = dynamic_level_db(dynamic)
        click = point_note(s, z, pitch=64, dynamic=dynamic, seconds=1.5).samples
        key = playable_note(s, z, pitch=64, dynamic=dynamic)
        drag = loop(s, s.decode(z, pitch=64, dynamic=dynamic if dynamic in s.levels else None), dynamic=dynamic)
        path = render_spec(s, PathSpec([z.tolist(), z.tolist()], seconds=1.5, kind="points", pitch=64,
                                       dynamic=dynamic))
        levels = {"click": held_db(click), "key": rms_db(key.samples[key.loop_start:key.loop_end]),
                  "drag": rms_db(drag), "path": held_db(path)}
        assert levels == pytest.approx(dict.fromkeys(levels, target), abs=1.0), dynamic


def test_a_path_plays_at_one_level_from_end_to_end(tiny_space):
    """The decoder holds a frame's mean log magnitude at the dynamic, but a peaky spectrum has more energy: the
    path is evened out, so it does not swell from one instrument to another."""
    s = tiny_space
    a, b = (s.centroids[n] for n in list(s.centroids)[:2])
    audio = render_spec(s, PathSpec([a.tolist(), b.tolist()], seconds=3.0, pitch=62, dynamic="mf"))
    body = audio[int(0.3 * SR):-int(0.3 * SR)]
    parts = [rms_db(p) for p in np.array_split(body, 6)]
    assert max(parts) - min(parts) < 1.0
    assert rms_db(body) == pytest.approx(dynamic_level_db("mf"), abs=1.0)


def _written(tmp_path) -> dict:
    """A path at G4, ff, written to p.json: the file's JSON."""
    write_path(tmp_path / "p.json", PathSpec([[0.1, 0.2], [0.3, 0.4]], seconds=1.0, kind="polyline", pitch=67.0,
                                             dynamic="ff"))
    return json.loads((tmp_path / "p.json").read_text())


def test_path_files_keep_pitch_and_dynamic(tmp_path):
    spec = PathSpec([[0.1, 0.2], [0.3, 0.4]], seconds=1.0, kind="polyline", pitch=67.0, dynamic="ff")
    write_path(tmp_path / "p.json", spec)
    data = json.loads((tmp_path / "p.json").read_text())
    assert (data["pitch"], data["dynamic"]) == (67.0, "ff")
    assert read_path(tmp_path / "p.json") == spec


def test_path_files_from_before_pitch_and_dynamic_play_as_before(tmp_path):
    data = _written(tmp_path)
    old = {k: v for k, v in data.items() if k not in ("pitch", "dynamic")}  # written before they were kept
    (tmp_path / "old.json").write_text(json.dumps(old))
    back = read_path(tmp_path / "old.json")
    assert (back.pitch, back.dynamic) == (60.0, "mf")  # the app played every path at middle C, mf


def test_a_path_file_with_a_bad_pitch_or_dynamic_is_refused(tmp_path):
    data = _written(tmp_path)
    for change, said in (({"pitch": 200}, "pitch must be a MIDI number"), ({"dynamic": "loud"}, "dynamic must be")):
        (tmp_path / "bad.json").write_text(json.dumps({**data, **change}))
        with pytest.raises(ParameterError, match=f"bad.json: invalid path file \\({said}"):
            read_path(tmp_path / "bad.json")


def test_every_key_is_within_a_semitone_of_a_note_the_play_pitch_first():
    for play, low, high in ((60, 60, 71), (67, 21, 108), (24, 30, 40), (96, 21, 108)):
        made = key_pitches(play, low, high, rows=(play - play % 12, play - play % 12 + 23))
        assert made[0] == play and len(set(made)) == len(made)
        assert all(min(abs(k - p) for p in made) <= 1 for k in range(low, high + 1))
        assert all(0 <= p <= 127 for p in made)


def test_neighbouring_keys_keep_their_brightness(tiny_space, engine):
    """Each key of the model's range played through the sound engine, as the Player picks its note (the
    nearest, made as the Play tab makes it: every 2 semitones, its brightness following its neighbours'): the
    spectral centroid of adjacent keys within 15 %."""
    from timbre_explorer.audio.player import NoteOff, NoteOn, Player

    s = tiny_space
    low, high = playable_range(s)
    z = s.notes.z[5]
    first = playable_note(s, z, pitch=60, dynamic="mf")  # the click's own
    notes = list(key_notes(s, z, key_pitches(60, low, high), play_pitch=60, dynamic="mf", first=first))
    assert notes[0] is first
    player = Player(engine)
    player.set_notes(notes, velocity=100)
    centroids = []
    for key in range(low, high + 1):
        assert abs(player.note_for(key).pitch - key) <= 1
        player.handle(NoteOn(key, 100))
        held = pull(engine, 0.6)[int(0.3 * SR):]
        player.handle(NoteOff(key))
        pull(engine, 0.4)
        centroids.append(spectral_centroid_hz(held, SR))
    ratios = np.array(centroids[1:]) / np.array(centroids[:-1])
    assert np.all(np.abs(ratios - 1) <= 0.15), ratios
