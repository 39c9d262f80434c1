"""A point of the timbre space as an SFZ instrument: a sampler patch any SFZ player opens.

An SFZ instrument is what the Play tab's keys do, written down: notes rendered at a few pitches, each
transposed by the player to the keys nearest it. Here a note is the playable note a click plays
(:func:`~timbre_explorer.core.synthesis.playable.playable_note`: its attack, then a seamless sustain loop),
rendered every :data:`STEP` semitones over the model's range (the pitches of its map's notes), so no key is
moved more than a semitone, and at three dynamics, one velocity layer each. A held key holds its loop
(``loop_mode=loop_continuous``) and fades over the note's release when let go.

Each layer's samples sound at their dynamic's level, as the keys play them, so velocity picks the layer and
does not scale it again (``amp_veltrack=0``). An unconditioned model plays what its point encodes at one
pitch: one sample, placed at the pitch it has, over every key.

The ``.sfz`` file and its folder of WAVs (``NAME_samples``, 24-bit at the export rate: :func:`export_note`) are
written together (:func:`~timbre_explorer.core.files.staged_folder`): a failed or cancelled export leaves nothing.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import AudioFileError, Cancelled, ParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.playable import PlayableNote
    from timbre_explorer.core.synthesis.space import TimbreSpace

STEP = 3  # semitones between samples: a key is transposed by 1 at most
DYNAMICS = ("p", "mf", "ff")  # the velocity layers, where the model has them
SAMPLE_SUBTYPE = "PCM_24"


@dataclass(frozen=True)
class WrittenInstrument:
    """What an export wrote: the ``.sfz`` file, its samples' folder, and what the samples are."""

    sfz: Path
    samples: Path
    pitches: tuple[int, ...]
    dynamics: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.pitches) * len(self.dynamics)


def sample_pitches(low: int, high: int, step: int = STEP) -> list[int]:
    """The MIDI pitches sampled from ``low`` to ``high``: every ``step`` semitones, and ``high`` itself."""
    if not 0 <= low <= high <= 127:
        raise ParameterError(f"the range must be two MIDI pitches from 0 to 127, the low one first, got {low} "
                             f"to {high}")
    if not 1 <= step <= 12:
        raise ParameterError(f"the step between samples must be 1 to 12 semitones, got {step}")
    pitches = list(range(low, high + 1, step))
    return pitches if pitches[-1] == high else [*pitches, high]


def key_zones(pitches: list[int]) -> list[tuple[int, int]]:
    """Each sample's keys (``lokey``, ``hikey``): from the first sample's pitch to the last, every key plays the
    sample nearest it (the lower one at a tie)."""
    bounds = [(a + b) // 2 for a, b in zip(pitches, pitches[1:])]
    return list(zip([pitches[0], *(b + 1 for b in bounds)], [*bounds, pitches[-1]]))


def velocity_layers(count: int) -> list[tuple[int, int]]:
    """The velocities (``lovel``, ``hivel``) of ``count`` dynamics, quietest first: equal shares of 1-127, as
    the Play tab's keys share them (:func:`~timbre_explorer.core.synthesis.gestures.dynamic_of_velocity`)."""
    starts = [max(1, -(-128 * i // count)) for i in range(count)]
    return list(zip(starts, [s - 1 for s in starts[1:]] + [127]))


def model_range(space: TimbreSpace) -> tuple[int, int]:
    """The pitches a model plays well: those of its map's notes, lowest to highest."""
    pitch = np.asarray(space.notes.pitch)
    return int(np.clip(pitch.min(), 0, 127)), int(np.clip(pitch.max(), 0, 127))


def instrument_dynamics(space: TimbreSpace, chosen: list[str] | None = None) -> list[str]:
    """The dynamics of the layers, quietest first: ``chosen`` (each one the model has a level for), else
    :data:`DYNAMICS` where the model has them all, else up to three of its own from the quietest to the loudest
    ([""]: a model without any)."""
    from timbre_explorer.core.synthesis.synth import DYNAMIC_DB

    own = sorted(space.levels or space.dynamics, key=lambda d: DYNAMIC_DB.get(d, 0.0))  # those it was trained at
    if chosen:
        unknown = [d for d in chosen if d not in own]
        if unknown:
            raise ParameterError(f"{', '.join(unknown)}: not a dynamic of this model ({', '.join(own) or 'none'})")
        return sorted(dict.fromkeys(chosen), key=own.index)
    if not own:
        return [""]
    if all(d in own for d in DYNAMICS):
        return list(DYNAMICS)
    picks = np.unique(np.round(np.linspace(0, len(own) - 1, min(3, len(own)))).astype(int))
    return [own[i] for i in picks]


def point_name(text: str) -> str:
    """The name an instrument of a point given as ``text`` gets: an audio file's stem, ``point`` for latent
    values, else the text (an instrument's name)."""
    if Path(text).is_file():
        return Path(text).stem
    return "point" if re.fullmatch(r"[\s\d.,eE+-]+", text) else text


def file_name(name: str) -> str:
    """``name`` as a file name every SFZ player reads: letters, digits, ``-`` and ``_`` (the rest become ``_``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name.strip()).strip("_") or "instrument"


def write_instrument(space: TimbreSpace, z: ArrayLike, path: str | os.PathLike, *, low: int | None = None,
                     high: int | None = None, step: int = STEP, dynamics: list[str] | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     cancel: threading.Event | None = None) -> WrittenInstrument:
    """Write latent point ``z`` as the SFZ instrument ``path`` (``NAME.sfz``) and its samples, ``NAME_samples``
    beside it (see the module docstring).

    ``low``, ``high``: the range sampled (default :func:`model_range`); ``step``: semitones between samples;
    ``dynamics``: the layers (default :func:`instrument_dynamics`). ``progress(done, total)`` follows the
    notes rendered; ``cancel`` stops before the next one (:class:`~timbre_explorer.core.errors.Cancelled`).
    """
    path = Path(path)
    if path.suffix.lower() != ".sfz":
        raise ParameterError(f"{path}: an instrument is written as a .sfz file")
    if path.is_dir():
        raise ParameterError(f"{path}: is a folder; an instrument is written as a .sfz file")
    plan = _Plan(space, path, low, high, step, dynamics)
    return _write(space, {path: (z, plan)}, progress, cancel)[0]


def write_instruments(space: TimbreSpace, points: Mapping[str, ArrayLike], folder: str | os.PathLike, *,
                      progress: Callable[[int, int], None] | None = None,
                      cancel: threading.Event | None = None) -> list[WrittenInstrument]:
    """Each named point (a session's bookmarks) as ``folder/NAME.sfz`` with its samples, as
    :func:`write_instrument` writes one; all written together, or none (a failure, or ``cancel``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError(f"{folder}: no such folder")
    paths = {name: folder / f"{file_name(name)}.sfz" for name in points}
    clash = [n for n in points if list(paths.values()).count(paths[n]) > 1]
    if clash:
        raise ParameterError(f"{folder}: {', '.join(map(repr, clash))} would write the same file; rename one")
    jobs = {paths[n]: (z, _Plan(space, paths[n], None, None, STEP, None)) for n, z in points.items()}
    return _write(space, jobs, progress, cancel)


class _Plan:
    """What an instrument's samples are: its file names, pitches, layers and key zones."""

    def __init__(self, space: TimbreSpace, path: Path, low: int | None, high: int | None, step: int,
                 dynamics: list[str] | None):
        self.name = file_name(path.stem)
        self.samples = path.parent / f"{self.name}_samples"
        _check_samples_folder(self.samples, self.name)
        default_low, default_high = model_range(space)
        self.low, self.high = default_low if low is None else int(low), default_high if high is None else int(high)
        self.pitches = sample_pitches(self.low, self.high, step)
        self.layers = instrument_dynamics(space, dynamics) if space.conditioned else [""]
        if not space.conditioned:  # it plays the pitch its point encodes: one sample, moved to every key
            self.pitches = [self.pitches[len(self.pitches) // 2]]
        self.zones = [(self.low, self.high)] if not space.conditioned else key_zones(self.pitches)


def _write(space: TimbreSpace, jobs: dict[Path, tuple[ArrayLike, _Plan]],
           progress: Callable[[int, int], None] | None, cancel: threading.Event | None) -> list[WrittenInstrument]:
    """Render every instrument's notes, then write them all in one staged folder (both or neither)."""
    from timbre_explorer.core.files import staged_folder
    from timbre_explorer.core.synthesis.gestures import default_dynamic
    from timbre_explorer.core.synthesis.playable import playable_note

    total = sum(len(p.pitches) * len(p.layers) for _, p in jobs.values())
    done = 0
    rendered = []
    for path, (z, plan) in jobs.items():
        notes: dict[tuple[int, str], PlayableNote] = {}
        for dynamic in plan.layers:
            for pitch in plan.pitches:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"{path}: export cancelled; nothing was written")
                notes[pitch, dynamic] = export_note(playable_note(space, z, pitch=pitch,
                                                                  dynamic=dynamic or default_dynamic(space)))
                done += 1
                if progress is not None:
                    progress(done, total)
        rendered.append((path, plan, notes, sfz_text(space, z, notes, plan.zones, plan.name, plan.layers)))
    folder = next(iter(jobs)).parent
    try:
        with staged_folder(folder) as stage:
            for path, plan, notes, text in rendered:
                _write_samples(stage / plan.samples.name, notes, plan.name)
                (stage / path.name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise AudioFileError(f"{next(iter(jobs))}: cannot write the instrument ({exc.strerror or exc})") from None
    return [WrittenInstrument(path, plan.samples, tuple(plan.pitches), tuple(plan.layers))
            for path, plan, _, _ in rendered]


def export_note(note: PlayableNote) -> PlayableNote:
    """``note`` at :data:`~timbre_explorer.core.signal.audio_io.EXPORT_RATE`, its loop as seamless as it was.

    The attack is resampled as any export is (:func:`~timbre_explorer.core.signal.audio_io.at_export_rate`). The
    loop is resampled as the periodic sound a held key plays (:func:`periodic_resample`), to the whole number of
    samples nearest its length (its pitch moves by at most half a sample in a loop of 0.2 s or more: 0.1 cent), and
    shifted by the fraction of a sample its rounded start moved, so it goes on from the attack where it left off.
    Resampling the whole note instead, its last few samples before ``loop_end`` would be computed from what
    follows ``loop_end`` in the file, not from the loop's start that a sampler plays next. After the loop, the
    file holds it once more (what a sampler that plays on past ``loop_end`` finds)."""
    from timbre_explorer.core.signal.audio_io import EXPORT_RATE, at_export_rate
    from timbre_explorer.core.synthesis.playable import PlayableNote

    if note.sample_rate == EXPORT_RATE:
        return note
    ratio = EXPORT_RATE / note.sample_rate
    start, length = round(note.loop_start * ratio), max(2, round((note.loop_end - note.loop_start) * ratio))
    attack = at_export_rate(note.samples, note.sample_rate)[:start]
    loop = periodic_resample(note.samples[note.loop_start:note.loop_end], length,
                             shift=start / ratio - note.loop_start)
    after = round((note.samples.size - note.loop_end) * ratio)
    samples = np.concatenate([attack, loop, np.resize(loop, after)])
    return PlayableNote(samples, EXPORT_RATE, note.pitch, start, start + length, note.release_s)


def periodic_resample(loop: ArrayLike, length: int, *, shift: float = 0.0) -> np.ndarray:
    """One period of the periodic sound whose period is ``loop`` (samples), as ``length`` samples (float32),
    band-limited: its Fourier series, evaluated ``shift`` samples of ``loop`` later. Above the lower of the two
    rates' Nyquist nothing is kept, and a Nyquist bin (the one harmonic whose phase a shift cannot keep real)
    is dropped."""
    x = np.asarray(loop, np.float64).reshape(-1)
    n = x.size
    spectrum = np.fft.rfft(x)
    keep = min(spectrum.size, length // 2 + 1)
    spectrum = spectrum[:keep] * np.exp(2j * np.pi * np.arange(keep) * shift / n)
    if n % 2 == 0 and keep == n // 2 + 1:
        spectrum[-1] = 0.0
    if length % 2 == 0 and keep == length // 2 + 1:
        spectrum[-1] = 0.0
    return (np.fft.irfft(spectrum, length) * (length / n)).astype(np.float32)


def _check_samples_folder(samples: Path, name: str) -> None:
    """An export replaces a samples folder written before, never a folder of other files."""
    if samples.exists() and not samples.is_dir():
        raise ParameterError(f"{samples}: a file is where the instrument's samples folder goes")
    if samples.is_dir():
        foreign = [p.name for p in samples.iterdir() if not re.fullmatch(rf"{re.escape(name)}_\w+\.wav", p.name)]
        if foreign:
            raise ParameterError(f"{samples}: holds files this export did not write ({foreign[0]}); choose another "
                                 f"name or folder")


def sample_name(name: str, pitch: int, dynamic: str) -> str:
    """A sample's file name: the instrument's, the MIDI pitch (no ``#``, which some players read as a
    directive) and the dynamic."""
    return f"{name}_{pitch:03d}" + (f"_{dynamic}" if dynamic else "") + ".wav"


def _write_samples(folder: Path, notes: dict[tuple[int, str], PlayableNote], name: str) -> None:
    from timbre_explorer.core.signal.audio_io import wav_bytes

    folder.mkdir()
    for (pitch, dynamic), note in notes.items():
        file = folder / sample_name(name, pitch, dynamic)
        file.write_bytes(wav_bytes(file, note.samples, note.sample_rate, subtype=SAMPLE_SUBTYPE))


def sfz_text(space: TimbreSpace, z: ArrayLike, notes: dict[tuple[int, str], PlayableNote], zones: list[tuple[int, int]],
             name: str, layers: list[str]) -> str:
    """The ``.sfz`` file: one group per dynamic (its velocities), one region per sample (its keys, the pitch it
    sounds at, its loop; SFZ's ``loop_end`` is the loop's last sample)."""
    pitches = sorted({p for p, _ in notes})
    release = max(n.release_s for n in notes.values())
    values = ",".join(f"{v:.6g}" for v in np.asarray(z, np.float64).reshape(-1))
    lines = [f"// {name}: a point of the timbre space {space.name}, made by Timbre Explorer",
             f"// latent point: {values}",
             f"// {len(pitches)} pitches x {len(layers)} dynamics, sustain loops; each layer at its dynamic's level",
             "",
             "<global>",
             "loop_mode=loop_continuous",
             "amp_veltrack=0",
             f"ampeg_release={release:g}",
             ""]
    for dynamic, (lovel, hivel) in zip(layers, velocity_layers(len(layers))):
        lines += [f"<group> lovel={lovel} hivel={hivel}" + (f" // {dynamic}" if dynamic else "")]
        for pitch, (lokey, hikey) in zip(pitches, zones):
            note = notes[pitch, dynamic]
            centre = int(round(note.pitch))
            tune = int(round(100 * (note.pitch - centre)))
            lines.append(f"<region> sample={name}_samples/{sample_name(name, pitch, dynamic)} "
                         f"pitch_keycenter={centre}" + (f" tune={tune}" if tune else "") +
                         f" lokey={lokey} hikey={hikey} loop_start={note.loop_start} loop_end={note.loop_end - 1}")
        lines.append("")
    return "\n".join(lines)


__all__ = ["WrittenInstrument", "write_instrument", "sample_pitches", "key_zones", "velocity_layers", "model_range",
           "instrument_dynamics", "point_name", "file_name", "sample_name", "sfz_text", "export_note", "periodic_resample",
           "STEP", "DYNAMICS"]
