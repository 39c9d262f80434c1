"""WebAudioFont's wavetables: General MIDI programs of several SoundFonts, each program one JavaScript file.

The public repository ``surikov/webaudiofontdata`` holds, in its ``sound/`` folder, the programs of seven
General MIDI SoundFonts (Aspirin, Chaos, FluidR3_GM, GeneralUserGS, JCLive, SBLive, SoundBlasterOld) as files
named ``0710_Aspirin_sf2_file.js``: the program (071, 0-based), a variant digit (0: the bank's own program) and the
bank. Each file declares one object of ``zones``: a key range, the sample's original pitch in cents, its tuning,
sample rate and loop, and the sample itself, base64 of an MP3 (``file``) or of 16-bit little-endian PCM (``sample``).

They are read as data, never run: a regular expression takes each zone's ``key:value`` pairs. A note is rendered
as a sampler plays it: the zone whose key range holds the pitch, read faster or slower by
``2 ** ((100 * pitch - (originalPitch - 100 * coarseTune - fineTune)) / 1200)`` (the wavetable's own tuning
rule), its loop repeated while the key is held, then faded out over the release.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from timbre_explorer.core.data.instruments import DYNAMICS, INSTRUMENTS, Instrument, pitch_name
from timbre_explorer.core.data.sources import (
    FolderIdentity,
    NoteSpec,
    SoundFontSource,
    named_soundfont,
    webaudiofont_entry,
)
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.audio_io import decoder_quiet

#: The banks of ``sound/`` and the suffix of their files' names (FluidR3_GM is left out: the sample sets hold it).
BANKS = {"Aspirin": "_sf2_file", "Chaos": "_sf2_file", "GeneralUserGS": "_sf2_file", "JCLive": "_sf2_file",
         "SBLive": "_sf2", "SoundBlasterOld": "_sf2"}
_ZONE = re.compile(r"\{([^{}]*)\}", re.S)
_PAIR = re.compile(r"(\w+)\s*:\s*('[^']*'|-?[\d.]+(?:e-?\d+)?|true|false)")
MIN_LOOP = 8  # samples: a shorter loop is a marker, not a loop
#: The level every note is rendered at (RMS of its held part, dBFS): the banks have one velocity layer, so each of
#: their notes is an mf note, at the level of the sample sets' mf notes (the median over the 18 orchestral
#: instruments at every sixth semitone, velocity 80: FluidR3_GM -34.1, TimGM6mb -34.7, MuseScore_General -35.1).
MF_RMS_DB = -34.0


@dataclass(frozen=True)
class Zone:
    """One sample of a program and the keys it plays."""

    low: int
    high: int
    original_cents: float  # originalPitch - 100 coarseTune - fineTune: the pitch the sample plays unshifted
    sample_rate: int
    loop: tuple[int, int]  # start, end in samples of ``audio``; (0, 0) when it does not loop
    audio: np.ndarray  # float32 mono


def wavetable_file(folder: str | Path, bank: str, program: int) -> Path:
    """The file of a bank's own ``program`` (0-based) in a ``sound/`` folder."""
    if bank not in BANKS:
        raise ParameterError(f"{bank}: not a WebAudioFont bank (known: {', '.join(BANKS)})")
    return Path(folder) / f"{program:03d}0_{bank}{BANKS[bank]}.js"


def read_zones(path: str | Path) -> list[Zone]:
    """Every zone of a wavetable file whose sample decodes; raises ParameterError naming the file and the reason
    when none does."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    zones, problem = [], "no zones: not a WebAudioFont wavetable"
    for body in _ZONE.findall(text):
        pairs = {k: v.strip("'") for k, v in _PAIR.findall(body)}
        try:
            zones.append(_zone(pairs))
        except KeyError as exc:
            problem = f"a zone without {exc}"
        except (ValueError, RuntimeError):  # a sample that does not decode (a one-frame MP3): the others play
            problem = "no zone whose sample decodes"
    if not zones:
        raise ParameterError(f"{path}: {problem}")
    return zones


def _zone(pairs: dict[str, str]) -> Zone:
    import soundfile as sf

    rate = int(float(pairs["sampleRate"]))  # the original sample's rate, in which the loop is counted
    if "sample" in pairs:
        raw = base64.b64decode(pairs["sample"])
        audio, decoded = np.frombuffer(raw[: len(raw) // 2 * 2], "<i2").astype(np.float32) / 32768.0, rate
    else:  # the MP3 holds the sample resampled to an MP3 rate (27,607 Hz -> 24,000 Hz): scale the loop with it
        with decoder_quiet("zone.mp3"):
            data, decoded = sf.read(io.BytesIO(base64.b64decode(pairs["file"])), dtype="float32", always_2d=True)
        audio = data.mean(axis=1)
    scale = decoded / rate
    start, end = float(pairs.get("loopStart", 0)) * scale, float(pairs.get("loopEnd", 0)) * scale
    loop = _fit_loop(audio, start, end) if end - start >= MIN_LOOP else (0, 0)
    cents = float(pairs["originalPitch"]) - 100 * float(pairs.get("coarseTune", 0)) - float(pairs.get("fineTune", 0))
    return Zone(int(pairs["keyRangeLow"]), int(pairs["keyRangeHigh"]), cents, int(decoded), loop,
                np.ascontiguousarray(audio, dtype=np.float32))


def _fit_loop(audio: np.ndarray, start: float, end: float, reach: int = 1500, width: int = 32) -> tuple[int, int]:
    """The loop of the given length whose seam is smoothest within ``reach`` samples of where it is said to be:
    an MP3's decoder delay moves a loop by up to a thousand samples. The waveform before the loop's end must
    continue into its start, so the samples before each are compared."""
    length, s0 = round(end - start), round(start)
    first, last = max(width, s0 - reach), min(s0 + reach, audio.size - length)
    if last < first:
        return (0, 0)
    windows = np.lib.stride_tricks.sliding_window_view(audio, width)
    a, b = windows[first - width:last - width + 1], windows[first + length - width:last + length - width + 1]
    err = np.sum((a - b) ** 2, axis=1) / (np.sum(a * a, axis=1) + np.sum(b * b, axis=1) + 1e-12)
    s = first + int(np.argmin(err))
    return (s, s + length)


def zone_for(zones: list[Zone], pitch: int) -> Zone:
    """The zone whose key range holds ``pitch``, else the one whose range is nearest it."""
    return min(zones, key=lambda z: 0 if z.low <= pitch <= z.high else min(abs(pitch - z.low), abs(pitch - z.high)))


def render_note(zones: list[Zone], pitch: int, sample_rate: int, hold_s: float = 1.0,
                release_s: float = 0.5) -> np.ndarray:
    """A note at MIDI ``pitch``: held ``hold_s`` (its loop repeated), then faded out over ``release_s``; mono
    float32 at ``sample_rate``, ``hold_s + release_s`` long."""
    import soxr

    zone = zone_for(zones, pitch)
    ratio = 2.0 ** ((100.0 * pitch - zone.original_cents) / 1200.0)  # >1: read faster, the pitch goes up
    n = round((hold_s + release_s) * sample_rate)
    need = int(np.ceil(n * ratio * zone.sample_rate / sample_rate)) + 64  # source samples for the whole note
    audio = zone.audio
    start, end = zone.loop
    if end and audio.size < need:  # hold the key: repeat the loop
        repeats = int(np.ceil((need - end) / (end - start)))
        audio = np.concatenate([audio[:end], np.tile(audio[start:end], repeats)])
    out = soxr.resample(audio, zone.sample_rate * ratio, sample_rate, quality="HQ").astype(np.float32)[:n]
    if out.size < n:
        out = np.concatenate([out, np.zeros(n - out.size, np.float32)])
    hold = round(hold_s * sample_rate)
    out[hold:] *= np.exp(-np.arange(n - hold) / (0.1 * sample_rate)).astype(np.float32)  # release: -87 dB at 1 s
    return out


@dataclass(frozen=True)
class WebAudioFontSource:
    """The General MIDI programs of one WebAudioFont bank (``webaudiofont:BANK=FOLDER``), rendered by
    :func:`render_note` as a SoundFont source renders its programs: every instrument of ``instruments`` over its
    pitches, each note held ``hold_s`` and recorded ``release_s`` more. A bank has one velocity layer, so each
    note is rendered once, as mf (when the instrument's dynamics include it), at :data:`MF_RMS_DB`. A note heard
    octaves from its pitch is skipped with the reason (:func:`octaves_off`).

    ``root`` is the ``sound/`` folder (or the repository that holds it); a program the bank lacks is left out.
    """

    root: str
    bank: str
    instruments: tuple[Instrument, ...] = INSTRUMENTS
    dynamics: tuple[str, ...] = tuple(DYNAMICS)  # the dynamics asked for: mf is rendered when among them
    hold_s: float = 1.0
    release_s: float = 0.5
    kind: str = "webaudiofont"

    @property
    def seconds(self) -> float:
        return self.hold_s + self.release_s

    @property
    def sustain_s(self) -> float:
        return self.hold_s

    @property
    def name(self) -> str:
        return self.bank

    @property
    def folder(self) -> Path:
        root = Path(self.root).expanduser()
        return root / "sound" if (root / "sound").is_dir() else root

    def notes(self) -> list[NoteSpec]:
        if not self.folder.is_dir():
            raise ParameterError(f"{self.folder}: no such folder (WebAudioFont's sound/ folder, for {self.bank})")
        if "mf" not in self.dynamics:
            return []
        return [NoteSpec(inst.name, f"{self.bank}#{inst.program}/{pitch}", pitch, "mf", DYNAMICS["mf"], inst.program)
                for inst in self.instruments if not inst.dynamics or "mf" in inst.dynamics
                if wavetable_file(self.folder, self.bank, inst.program).is_file() for pitch in inst.pitches]

    def identity(self, notes: list[NoteSpec]) -> FolderIdentity:
        """The cache key depends on every program file's name, size and modification time, and the notes."""
        h = hashlib.sha256()
        for program in sorted({n.program for n in notes}):
            st = os.stat(wavetable_file(self.folder, self.bank, program))
            h.update(json.dumps([program, st.st_size, st.st_mtime_ns]).encode())
        h.update(json.dumps([(n.instrument, n.pitch) for n in notes]).encode())
        return {"kind": self.kind, "root": f"{self.bank}@{self.folder.resolve()}", "seconds": self.seconds,
                "files_sha256": h.hexdigest(), "pitched": True}  # notes heard octaves off are skipped

    def render(self, specs: list[NoteSpec], sample_rate: int) -> list[np.ndarray | str]:
        out: list[np.ndarray | str] = []
        zones: dict[int, list[Zone] | str] = {}
        hold = round(self.hold_s * sample_rate)
        for spec in specs:
            if spec.program not in zones:
                try:
                    zones[spec.program] = read_zones(wavetable_file(self.folder, self.bank, spec.program))
                except ParameterError as exc:
                    zones[spec.program] = str(exc).split(": ", 1)[-1]
            program = zones[spec.program]
            if isinstance(program, str):
                out.append(program)
                continue
            audio = render_note(program, spec.pitch, sample_rate, self.hold_s, self.release_s)
            rms = float(np.sqrt(np.mean(audio[:hold].astype(np.float64) ** 2)))
            out.append(octaves_off(audio, spec.pitch, sample_rate)
                       or (audio * np.float32(10 ** (MF_RMS_DB / 20) / rms) if rms > 0 else audio))
        return out


def octaves_off(audio: np.ndarray, pitch: int, sample_rate: int) -> str | None:
    """Why a rendered note is not the note asked for, when YIN hears it a whole number of octaves away (within half
    a semitone): a few banks' programs are tuned an octave off (GeneralUserGS's trumpet sounds C3 for C4, Aspirin's
    flute C5), and a note trained an octave from its label teaches the decoder a sub-octave. None when it is not."""
    from timbre_explorer.core.signal.pitch import estimate_pitch

    heard = estimate_pitch(audio, sample_rate)
    if heard is None or not round((heard - pitch) / 12) or abs(heard - pitch - 12 * round((heard - pitch) / 12)) > 0.5:
        return None
    return f"sounds {pitch_name(round(heard))}, not the {pitch_name(pitch)} asked: the bank's program is tuned off"


def rendered_source(entry: str, instruments: tuple[Instrument, ...],
                    dynamics: tuple[tuple[str, int], ...] = tuple(DYNAMICS.items())
                    ) -> SoundFontSource | WebAudioFontSource:
    """The source of a sample set entry that renders General MIDI programs: a WebAudioFont bank
    (``webaudiofont:BANK=FOLDER``), else a SoundFont or patch set by its short name or file."""
    if (bank := webaudiofont_entry(entry)) is not None:
        if (problem := bank_problem(entry)) is not None:
            raise ParameterError(problem)
        return WebAudioFontSource(os.path.expanduser(bank[1]), bank[0], instruments, tuple(d for d, _ in dynamics))
    return SoundFontSource(str(named_soundfont(entry)), instruments=instruments, dynamics=dynamics)


def bank_problem(entry: str) -> str | None:
    """Why a ``webaudiofont:BANK=FOLDER`` entry cannot be rendered, in one sentence: a bank that is not one of ours,
    or a folder without its wavetables (looked for by its piano's file, which every bank has: one look, where a
    listing of the 6,700 files took 5-16 ms a bank). None when it can (or is another kind of entry, or its folder
    is not there: the folder check says so)."""
    bank = webaudiofont_entry(entry)
    if bank is None:
        return None
    if bank[0] not in BANKS:
        return f"{entry}: {bank[0] or 'no bank'} is not a WebAudioFont bank (known: {', '.join(BANKS)})"
    source = WebAudioFontSource(os.path.expanduser(bank[1]), bank[0])
    if source.folder.is_dir() and not wavetable_file(source.folder, bank[0], 0).is_file():
        return (f"{source.folder}: no wavetable of {bank[0]} in it (choose WebAudioFont's data repository, "
                "webaudiofontdata, or its sound/ folder)")
    return None
