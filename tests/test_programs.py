"""Every pitched General MIDI program: the table, the config that renders them, a dataset of them (no Qt)."""

from __future__ import annotations

import re

import pytest

from timbre_explorer.core.data.instruments import (
    BY_NAME,
    FAMILIES,
    GENERAL_MIDI,
    INSTRUMENTS,
    PITCHED_PERCUSSIVE,
    UNPITCHED,
    canonical_name,
    family_of,
)
from timbre_explorer.core.data.recipe import dataset_for
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.training.config import (
    RATED,
    WIDE_DYNAMICS,
    WIDE_STEP,
    TrainConfig,
    program_table,
    soundfont_instruments,
)

#: The 18 orchestral instruments as they were before the table grew: name, family, program, range, novel.
ORCHESTRAL = [("Clarinet", "woodwind", 71, 50, 91, False), ("Saxophone", "woodwind", 65, 49, 81, False),
              ("Trumpet", "brass", 56, 52, 82, False), ("Cello", "strings", 42, 36, 76, False),
              ("FrenchHorn", "brass", 60, 41, 77, False), ("Oboe", "woodwind", 68, 58, 91, False),
              ("Flute", "woodwind", 73, 60, 96, False), ("EnglishHorn", "woodwind", 69, 52, 81, False),
              ("Bassoon", "woodwind", 70, 34, 75, False), ("Trombone", "brass", 57, 40, 72, False),
              ("Piano", "keyboard", 0, 21, 108, False), ("Violin", "strings", 40, 55, 93, False),
              ("Piccolo", "woodwind", 72, 74, 105, True), ("Viola", "strings", 41, 48, 88, True),
              ("Contrabass", "strings", 43, 28, 57, True), ("Tuba", "brass", 58, 28, 65, True),
              ("SopranoSax", "woodwind", 64, 56, 88, True), ("MutedTrumpet", "brass", 59, 52, 82, True)]


def test_the_program_table_is_whole():
    names, programs = [i.name for i in GENERAL_MIDI], [i.program for i in GENERAL_MIDI]
    assert len(set(names)) == len(names) and len(set(programs)) == len(programs)
    assert programs == sorted(programs) and set(programs) == set(range(112)) - set(UNPITCHED) | set(PITCHED_PERCUSSIVE)
    assert set(PITCHED_PERCUSSIVE) <= set(range(112, 120)) and not set(UNPITCHED.values()) & set(names)
    for i in GENERAL_MIDI:
        assert i.family in FAMILIES, i
        assert 0 <= i.low <= i.high <= 127, i
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", i.name), i  # CamelCase, no spaces
        assert (i.step, i.dynamics) == (1, ())  # the grid is a dataset's choice, not the table's


def test_the_program_table_keeps_the_orchestral_eighteen():
    assert [(i.name, i.family, i.program, i.low, i.high, i.novel) for i in INSTRUMENTS] == ORCHESTRAL
    assert all(i in GENERAL_MIDI for i in INSTRUMENTS) and RATED == {n for n, *_, novel in ORCHESTRAL if not novel}
    assert not any(i.novel for i in GENERAL_MIDI if i not in INSTRUMENTS)


def test_programs_have_general_midis_names_and_families():
    names_at = {i.program: i.name for i in GENERAL_MIDI}
    assert [names_at[p] for p in (1, 11, 19, 24, 35, 48, 62, 80, 89, 104, 105, 106)] == [
        "BrightPiano", "Vibraphone", "ChurchOrgan", "NylonGuitar", "FretlessBass", "StringEnsemble1", "SynthBrass1",
        "Lead1Square", "Pad2Warm", "Sitar", "Banjo", "Shamisen"]
    assert family_of("NylonGuitar") == "guitar" and family_of("Pad2Warm") == "synth pad"
    assert family_of("Theremin") == "other" and BY_NAME["Clarinet"] is INSTRUMENTS[0]
    assert canonical_name("nylon guitar") == "NylonGuitar" and canonical_name("Theremin") == "Theremin"
    # tonejs-instruments' folders: the instrument, then its kind
    assert [canonical_name(n) for n in ("guitar-nylon", "guitar-acoustic", "bass-electric", "harp", "french-horn")] \
        == ["NylonGuitar", "SteelGuitar", "FingerBass", "OrchestralHarp", "FrenchHorn"]


def test_general_midi_programs_render_the_wide_grid_and_the_eighteen_as_before():
    assert program_table("orchestral") == INSTRUMENTS and TrainConfig().programs == "general-midi"
    assert soundfont_instruments(TrainConfig(programs="orchestral")) == INSTRUMENTS
    wide = soundfont_instruments(TrainConfig(programs="general-midi"))
    assert [i.name for i in wide] == [i.name for i in GENERAL_MIDI]
    for i in wide:
        if i.name in BY_NAME and BY_NAME[i.name] in INSTRUMENTS:
            assert i == BY_NAME[i.name]  # every semitone, every dynamic, as in an orchestral dataset
        else:
            assert (i.step, i.dynamics) == (WIDE_STEP, WIDE_DYNAMICS)


def test_general_midi_programs_limited_to_some_instruments_and_pitches():
    cut = soundfont_instruments(TrainConfig(programs="general-midi", instruments=("Sitar", "Flute"),
                                            pitch_range=(60, 66)))
    assert [(i.name, list(i.pitches)) for i in cut] == [("Flute", list(range(60, 67))),
                                                        ("Sitar", list(range(60, 67, WIDE_STEP)))]


def test_the_programs_setting_is_kept_or_refused_with_the_reason():
    with pytest.raises(ParameterError, match="programs must be one of"):
        TrainConfig(programs="everything")
    with pytest.raises(ParameterError, match="Sitar are not SoundFont instruments of programs 'orchestral'"):
        TrainConfig(programs="orchestral", instruments=("Sitar",))
    assert TrainConfig.from_dict(TrainConfig(programs="general-midi").to_dict()).programs == "general-midi"


def test_a_general_midi_dataset_holds_the_other_programs_with_their_families(soundfont, tmp_path):
    chosen = ("Clarinet", "Viola", "NylonGuitar", "Vibraphone", "Pad2Warm", "Sitar")
    cfg = TrainConfig(sources=("FluidR3_GM",), soundfont=soundfont, programs="general-midi", instruments=chosen,
                      pitch_range=(60, 63))
    ds = dataset_for(cfg.dataset_recipe(), cache_root=tmp_path, workers=1)
    notes = ds.notes
    assert ds.manifest["skipped"] == [] and set(notes.instrument_name) == set(chosen)
    families = {name: fam for name, fam in zip(notes.instrument_name, notes.family)}
    assert families == {"Clarinet": "woodwind", "Viola": "strings", "NylonGuitar": "guitar", "Vibraphone": "mallets",
                        "Pad2Warm": "synth pad", "Sitar": "ethnic"}
    programs = {name: int(p) for name, p in zip(notes.instrument_name, notes.program)}
    assert programs == {"Clarinet": 71, "Viola": 41, "NylonGuitar": 24, "Vibraphone": 11, "Pad2Warm": 89, "Sitar": 104}
    for name in chosen:
        mine = notes.instrument_name == name
        grid = (set(range(60, 64)), 5) if name in ("Clarinet", "Viola") else (set(range(60, 64, WIDE_STEP)), 3)
        assert set(notes.pitch[mine]) == grid[0] and len(set(notes.dynamic_name[mine])) == grid[1], name
    assert set(notes.dynamic_name[notes.instrument_name == "Sitar"]) == set(WIDE_DYNAMICS)
    # the novel instruments stay held out; the other programs train
    assert set(notes.instrument_name[notes.split_name == "novel"]) == {"Viola"}
    assert "train" in set(notes.split_name[notes.instrument_name == "Sitar"])


def test_cli_dataset_build_renders_every_program_when_asked(soundfont, tmp_path, capsys):
    from timbre_explorer.cli import main

    assert main(["dataset", "build", "--soundfont", soundfont, "--programs", "general-midi", "--dry-run"]) == 0
    out = capsys.readouterr().out
    wide = program_table("general-midi")
    total = sum(len(i.pitches) * (len(i.dynamics) or 5) for i in wide)
    assert f"{total} notes of {len(GENERAL_MIDI)} instruments" in out
    assert f"#104/{BY_NAME['Sitar'].low}/48\tSitar\tethnic\tpitch {BY_NAME['Sitar'].low}\tp\n" in out
    assert main(["dataset", "build", "--source", "folder", str(tmp_path), "--programs", "general-midi"]) == 1
    assert "--programs chooses what the SoundFonts render" in capsys.readouterr().err
