"""WebAudioFont's wavetables as sample sets: the files read as data, notes rendered at their pitch with their loop
held, and a bank among a dataset's sources (``webaudiofont:BANK=FOLDER``). On short wavetables the tests write in
the same format, never on the real banks."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import soundfile

from timbre_explorer.core.data.dataset import build_dataset
from timbre_explorer.core.data.instruments import BY_NAME, DYNAMICS
from timbre_explorer.core.data.sources import entry_folder, entry_name
from timbre_explorer.core.data.webaudiofont import (
    MF_RMS_DB,
    WebAudioFontSource,
    read_zones,
    render_note,
    rendered_source,
    wavetable_file,
)
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.pitch import estimate_pitch
from timbre_explorer.core.training.config import TrainConfig

MP3 = "MP3" in soundfile.available_formats()


def periodic(f0: float, rate: int, seconds: float = 0.5) -> np.ndarray:
    """A harmonic tone whose period is a whole number of samples, so a loop of whole periods is seamless."""
    period = round(rate / f0)
    t = np.arange(round(seconds * rate))
    return (0.5 * sum(np.sin(2 * np.pi * k * t / period + k) / k for k in range(1, 6))).astype(np.float32)


def zone_text(low: int, high: int, cents: int, rate: int, audio: np.ndarray, loop: tuple[int, int],
              mp3_rate: int | None = None, fine: int = 0) -> str:
    """One zone as WebAudioFont writes it: raw 16-bit PCM (``sample``), or an MP3 at ``mp3_rate`` (``file``)."""
    if mp3_rate is None:
        data = f"sample:'{base64.b64encode((audio * 32767).astype('<i2').tobytes()).decode()}'"
    else:
        from scipy.signal import resample

        buffer = io.BytesIO()
        soundfile.write(buffer, resample(audio, round(audio.size * mp3_rate / rate)), mp3_rate, format="MP3")
        data = f"file:'{base64.b64encode(buffer.getvalue()).decode()}'"
    return (f"\t\t{{\n\t\t\tmidi:71\n\t\t\t,originalPitch:{cents}\n\t\t\t,keyRangeLow:{low}\n\t\t\t,keyRangeHigh:{high}"
            f"\n\t\t\t,loopStart:{loop[0]}\n\t\t\t,loopEnd:{loop[1]}\n\t\t\t,coarseTune:0\n\t\t\t,fineTune:{fine}"
            f"\n\t\t\t,sampleRate:{rate}\n\t\t\t,ahdsr:true\n\t\t\t,{data}\n\t\t}}")


def write_wavetable(path, *zones: str) -> None:
    name = path.stem
    path.write_text(f"console.log('load _tone_{name}');\nvar _tone_{name}={{\n\tzones:[\n" + "\n\t\t,".join(zones)
                    + "\n\t]\n};\n", encoding="utf-8")


def clarinet_zones(rate: int = 32000) -> list[str]:
    """Two zones, C4 (cents 6000) for keys up to 64 and A4 above, each a short tone whose last 0.1 s loops."""
    out = []
    for low, high, midi in ((0, 64, 60), (65, 127, 69)):
        audio = periodic(440 * 2 ** ((midi - 69) / 12), rate)
        period = round(rate / (440 * 2 ** ((midi - 69) / 12)))
        end = audio.size - period
        out.append(zone_text(low, high, midi * 100, rate, audio, (end - 20 * period, end)))
    return out


@pytest.fixture(scope="module")
def sound(tmp_path_factory):
    """A ``sound/`` folder holding one bank's clarinet (program 71, also as its piano, program 0, which every bank
    has) and a file that is no wavetable."""
    folder = tmp_path_factory.mktemp("webaudiofontdata") / "sound"
    folder.mkdir()
    for program in (0, 71):
        write_wavetable(wavetable_file(folder, "Aspirin", program), *clarinet_zones())
    wavetable_file(folder, "Aspirin", 68).write_text("var x = 1;", encoding="utf-8")
    return folder


@pytest.mark.parametrize("pitch", [55, 60, 64, 67, 72])
def test_a_note_sounds_at_its_pitch_held_by_its_loop_then_released(sound, pitch):
    zones = read_zones(wavetable_file(sound, "Aspirin", 71))
    assert [(z.low, z.high) for z in zones] == [(0, 64), (65, 127)]
    note = render_note(zones, pitch, 22050, hold_s=1.0, release_s=0.5)
    assert note.shape == (round(1.5 * 22050),) and note.dtype == np.float32
    heard = estimate_pitch(note[2205:22050], 22050)
    assert heard is not None and abs(heard - pitch) < 0.1
    rms = [float(np.sqrt(np.mean(note[a:a + 2205] ** 2))) for a in (2205, 17640, 30870)]
    assert abs(20 * np.log10(rms[1] / rms[0])) < 1.0  # the sample lasts 0.5 s: its loop holds the key to 1 s
    assert rms[2] < rms[1] / 50  # released: over 34 dB down 0.4 s after the key is let go


def test_an_mp3_zone_at_another_rate_keeps_its_loop_and_tuning(tmp_path):
    """WebAudioFont's MP3s hold the sample resampled to an MP3 rate (27,607 Hz written as 24,000 Hz) while the loop
    counts the original's samples: scaled, the loop still holds the note, at its pitch."""
    if not MP3:
        pytest.skip("this libsndfile writes no MP3")
    rate = 27607
    audio = periodic(261.63, rate)
    path = tmp_path / "0710_Chaos_sf2_file.js"
    end = audio.size - 2000
    write_wavetable(path, zone_text(0, 127, 6000, rate, audio, (end - 5000, end), mp3_rate=24000))
    (zone,) = read_zones(path)
    assert zone.sample_rate == 24000 and zone.loop[1] - zone.loop[0] == round(5000 * 24000 / rate)
    note = render_note([zone], 67, 22050)
    assert abs(estimate_pitch(note[2205:22050], 22050) - 67) < 0.1
    rms = [float(np.sqrt(np.mean(note[a:a + 2205] ** 2))) for a in (2205, 17640)]
    assert abs(20 * np.log10(rms[1] / rms[0])) < 1.0


def test_fine_tune_moves_the_pitch_the_sample_plays(tmp_path):
    """A sample 50 cents sharp of C4 is marked so with fineTune -50: asked for C4, it plays C4."""
    rate = 32000
    audio = periodic(261.63 * 2 ** (50 / 1200), rate)
    path = tmp_path / "0000_JCLive_sf2_file.js"
    write_wavetable(path, zone_text(0, 127, 6000, rate, audio, (0, 0), fine=-50))
    note = render_note(read_zones(path), 60, 22050, hold_s=0.4, release_s=0.1)
    assert abs(estimate_pitch(note[1000:8000], 22050) - 60) < 0.1


def test_what_is_not_a_wavetable_is_refused_naming_the_file(sound, tmp_path):
    bad = wavetable_file(sound, "Aspirin", 68)
    with pytest.raises(ParameterError, match=rf"^{bad}: no zones: not a WebAudioFont wavetable$"):
        read_zones(bad)
    broken = tmp_path / "0710_SBLive_sf2.js"
    good = clarinet_zones()[0]
    write_wavetable(broken, good.replace("sample:'", "file:'AAAA"))
    with pytest.raises(ParameterError, match="no zone whose sample decodes"):
        read_zones(broken)
    write_wavetable(broken, good.replace("sample:'", "file:'AAAA"), clarinet_zones()[1])
    assert [z.low for z in read_zones(broken)] == [65]  # the zone that decodes still plays
    with pytest.raises(ParameterError, match="not a WebAudioFont bank"):
        wavetable_file(sound, "FluidR3", 0)


def test_an_entry_names_a_bank_and_its_folder(sound):
    entry = f"webaudiofont:Aspirin={sound.parent}"
    assert entry_name(entry) == "Aspirin" and entry_folder(entry) == str(sound.parent)
    source = rendered_source(entry, (BY_NAME["Clarinet"], BY_NAME["Oboe"]))
    assert isinstance(source, WebAudioFontSource) and source.folder == sound  # the repository or its sound/
    with pytest.raises(ParameterError, match=r"^webaudiofont:Fluid=/x: Fluid is not a WebAudioFont bank \(known: "):
        rendered_source("webaudiofont:Fluid=/x", (BY_NAME["Clarinet"],))


def test_a_bank_renders_the_programs_it_has_once_each_as_mf(sound, tmp_path):
    """The clarinet over its range, at mf and the sample sets' mf level; the oboe's file is no wavetable, so it is
    skipped with the reason, and the bank's notes carry its name."""
    source = WebAudioFontSource(str(sound), "Aspirin", (BY_NAME["Clarinet"], BY_NAME["Oboe"], BY_NAME["Flute"]))
    notes = source.notes()
    clarinet = BY_NAME["Clarinet"]
    assert {n.instrument for n in notes} == {"Clarinet", "Oboe"}  # no flute file: no flute notes
    assert [n.pitch for n in notes if n.instrument == "Clarinet"] == list(clarinet.pitches)
    assert {(n.dynamic, n.velocity) for n in notes} == {("mf", DYNAMICS["mf"])}
    assert WebAudioFontSource(str(sound), "Aspirin", (clarinet,), dynamics=("f",)).notes() == []
    few = WebAudioFontSource(str(sound), "Aspirin", (BY_NAME["Oboe"],
                             type(clarinet)("Clarinet", "woodwind", 71, 58, 66, step=4)))
    ds = build_dataset(few, cache_root=tmp_path, workers=1)
    assert ds.sources == ["Aspirin"] and sorted(ds.notes.pitch) == [58, 62, 66]
    assert {s["reason"] for s in ds.manifest["skipped"]} == {"no zones: not a WebAudioFont wavetable"}
    note = few.render([n for n in few.notes() if n.instrument == "Clarinet"][:1], 22050)[0]
    assert isinstance(note, np.ndarray)
    assert 20 * np.log10(np.sqrt(np.mean(note[:22050] ** 2))) == pytest.approx(MF_RMS_DB, abs=0.01)


def test_a_config_trains_on_a_bank_and_can_keep_it_out(sound):
    entry = f"webaudiofont:Aspirin={sound.parent}"
    cfg = TrainConfig.from_dict({"sources": ["FluidR3_GM", entry], "cross_valid": "Aspirin"})
    assert cfg.cross_valid == "Aspirin" and cfg.problems() == []
    assert TrainConfig(sources=["FluidR3_GM", entry], cross_valid=entry).cross_valid == "Aspirin"
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert TrainConfig(sources=["FluidR3_GM", "webaudiofont:Aspirin=/nope"]).problems() == [
        "/nope: no such folder (webaudiofont:Aspirin=FOLDER names WebAudioFont's wavetables)."]
    empty = sound.parent / "empty"
    empty.mkdir()
    assert TrainConfig(sources=["FluidR3_GM", f"webaudiofont:Chaos={empty}"]).problems() == [
        f"{empty}: no wavetable of Chaos in it (choose WebAudioFont's data repository, webaudiofontdata, or its sound/ "
        "folder)."]
    assert TrainConfig(sources=["FluidR3_GM", f"webaudiofont:FluidR3={sound}"]).problems() == [
        f"webaudiofont:FluidR3={sound}: FluidR3 is not a WebAudioFont bank (known: Aspirin, Chaos, GeneralUserGS, "
        "JCLive, SBLive, SoundBlasterOld)."]


def test_a_program_tuned_an_octave_off_is_skipped_saying_so(tmp_path):
    """A zone marked C4 that holds a C3 tone (as GeneralUserGS's trumpet does): its notes are heard an octave below
    the pitch asked and skipped with the reason, rather than trained an octave from their label."""
    rate = 32000
    folder = tmp_path / "sound"
    folder.mkdir()
    audio = periodic(130.81, rate)
    write_wavetable(wavetable_file(folder, "GeneralUserGS", 56),
                    zone_text(0, 127, 6000, rate, audio, (audio.size - 40 * 245, audio.size - 245)))
    trumpet = type(BY_NAME["Trumpet"])("Trumpet", "brass", 56, 60, 62, step=2)
    source = WebAudioFontSource(str(folder), "GeneralUserGS", (trumpet,))
    assert source.render(source.notes(), 22050) == [
        "sounds C3, not the C4 asked: the bank's program is tuned off",
        "sounds D3, not the D4 asked: the bank's program is tuned off"]
