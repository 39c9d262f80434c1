"""The map's CSV table, written by the core from the tiny model (the Explorer only picks the file)."""

from __future__ import annotations

import csv

import numpy as np

from timbre_explorer.core.synthesis.export import write_map_csv


def test_csv_has_every_shown_note_and_sound_with_map_and_latent_coordinates(tiny_space, tmp_path):
    s = tiny_space
    shown = s.notes.instrument != 1
    sound = s.notes.z[3] + 0.1
    path = write_map_csv(tmp_path / "latent.csv", s, projection=s.projection, dims=(2, 0), shown=shown,
                         sounds=[("mine.wav", sound)])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["kind", "instrument", "pitch", "dynamic", "split", "pc3", "pc1"] + [
        f"z{i}" for i in range(s.latent_size)]
    notes, sounds = rows[1:-1], rows[-1:]
    assert len(notes) == int(shown.sum()) and all(r[0] == "note" for r in notes)
    i = np.flatnonzero(shown)[5]
    row = notes[5]
    assert row[1] == s.instruments[s.notes.instrument[i]] and int(row[2]) == s.notes.pitch[i]
    assert row[4] == s.splits[s.notes.split[i]]
    assert np.allclose([float(v) for v in row[5:7]], s.projection.forward(s.notes.z[i])[[2, 0]], atol=1e-4)
    assert np.allclose([float(v) for v in row[7:]], s.notes.z[i], atol=1e-4)
    (only,) = sounds
    assert only[:5] == ["sound", "mine.wav", "", "", ""]
    assert np.allclose([float(v) for v in only[5:7]], s.projection.forward(sound)[[2, 0]], atol=1e-4)
    assert np.allclose([float(v) for v in only[7:]], sound, atol=1e-4)
    assert not [p for p in tmp_path.iterdir() if p.name != "latent.csv"]  # written atomically, nothing left over
