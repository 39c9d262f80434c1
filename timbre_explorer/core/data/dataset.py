"""The note dataset: NSGT magnitude frames of every note, in a memory-mapped cache with a metadata table.

Building (:func:`build_dataset`) renders or reads every note of one or several
sources (sample sets) in worker processes, checks it, and stores:

``log_magnitude.npy``
    ``[frames, K]`` float16 natural-log NSGT magnitudes (floored at 1e-7),
    memory-mapped when read, so a dataset larger than RAM trains fine.
    float16 keeps 3 significant digits of the log: under 1 % in amplitude.
    Each stored frame is the RMS of ``pool`` consecutive transform frames
    (about 20 ms; 48 frames/s for NSGT-ERB), which is what a held sound needs.
``loudness.npy``
    ``[frames]`` float32 loudness (dBFS) of each frame, so silent frames can be skipped.
``notes.csv``
    One row per note: instrument, family, program, pitch, dynamic, velocity,
    technique, file, source (the sample set's short name), first_frame, n_frames, rep_frame, sustain_start,
    sustain_end (frame indices within the note), split.
``manifest.json``
    The cache key and what went into it, the figures of the build and every
    skipped file with its reason. Written last: a folder without it is not a dataset.

**The representative frame** (the paper's "single temporal frame from the
sustained part", whose choice the paper leaves open): the onset is the first
frame within 30 dB of the note's loudest frame; the attack is the next
:data:`ATTACK_S` seconds; the representative frame is the loudest frame from
the end of the attack to the note-off (the end of the analysis window for
sample files). Frames from the attack's end to the note-off are the note's
*sustain*, from which training draws its frames.

**Splits** are by note (never a frame of one note in two splits), stratified by
instrument and seeded: 80 % train, 10 % validation, 10 % test. Held-out
instruments get split ``novel`` and never enter training. With several
sources, :func:`leave_source_out` holds one source's notes out as a
cross-source test set (and another's as cross-source validation).

The cache key hashes every source (file identities and render settings), the
transform preset, the split settings, :data:`FEATURES_VERSION` and the app
version: a changed parameter rebuilds, an unchanged one reuses.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

import numpy as np

from timbre_explorer import __version__
from timbre_explorer.core.data.instruments import DYNAMICS, pitch_name
from timbre_explorer.core.data.notes import NoteTable, encode
from timbre_explorer.core.data.sources import FolderSource, NoteSpec, PhilharmoniaSource, SoundFontSource
from timbre_explorer.core.data.webaudiofont import WebAudioFontSource
from timbre_explorer.core.errors import Cancelled, ParameterError
from timbre_explorer.core.files import remove_stale_temporaries
from timbre_explorer.core.signal.nsgt import transform_for
from timbre_explorer.core.signal.scales import DEFAULT_PRESET, get_preset

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as ProcessEvent

    from timbre_explorer.core.data.sources import SourceIdentity

Source = SoundFontSource | WebAudioFontSource | FolderSource | PhilharmoniaSource

log = logging.getLogger(__name__)

FEATURES_VERSION = 2  # bump when the features change: every cache rebuilds
FRAME_S = 0.02  # stored frame hop, about
ATTACK_S = 0.1
ONSET_DB = 30.0
LOG_FLOOR = 1e-7
SILENT_PEAK = 1e-4  # -80 dBFS
#: -80 dBFS: a note quieter on the whole is a renderer's dither or a click, not an instrument. TiMidity++ with a
#: missing patch writes 16-bit dither at -93 dBFS RMS with a -76 dBFS click; its quietest FreePats pp note is -47.
SILENT_RMS = 1e-4
CLIP_LEVEL, CLIP_FRACTION = 0.999, 1e-3
SPLIT_FRACTIONS = {"train": 0.8, "valid": 0.1, "test": 0.1}
CROSS_TEST, CROSS_VALID = "cross_test", "cross_valid"  # the splits of notes of a source held out of training
#: Every split a note can be in, in the order of the codes of ``DatasetNotes.split`` and a model's ``map.split``.
SPLITS = ("train", "valid", "test", "novel", CROSS_TEST, CROSS_VALID)
CHUNK_NOTES = 32
OCTAVE_CHECK_NOTES = 8  # a folder's pitched notes that check_octave_names needs before it judges the names
#: The columns of ``notes.csv``, in its order.
COLUMNS = ("instrument", "family", "program", "pitch", "dynamic", "velocity", "technique", "file", "source",
           "first_frame", "n_frames", "rep_frame", "sustain_start", "sustain_end", "split")

VERIFY_CHUNK_ROWS = 1 << 16  # frames checked at a time when a cache is reused

Progress = Callable[[int, int], None]


class DamagedDataset(ParameterError):
    """A cached dataset whose files are missing, truncated or hold values no build writes."""


# ---------------------------------------------------------------------------------------------- analysis
@dataclass
class NoteFeatures:
    log_magnitude: np.ndarray  # [frames, K] float16
    loudness: np.ndarray  # [frames] float32
    rep_frame: int
    sustain_start: int
    sustain_end: int
    pitch_heard: float | None = None  # a user's note: the pitch YIN hears (None: unpitched, or not listened to)


def check_audio(audio: np.ndarray, *, max_clipped: float = CLIP_FRACTION) -> str | None:
    """Why a rendered or read note cannot be used (NaN, silent or noise only, clipped), or None.

    A note is clipped when more than ``max_clipped`` of its samples are at full scale; the dataset's notes
    train the model, so their threshold is strict (a user's sound is placed with more, with a warning).
    """
    if not np.all(np.isfinite(audio)):
        return "holds NaN or infinite samples"
    peak = float(np.abs(audio).max())
    if peak < SILENT_PEAK:
        return f"silent (peak {20 * math.log10(max(peak, 1e-12)):.0f} dBFS)"
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if rms < SILENT_RMS:
        return f"silence or noise only (RMS {20 * math.log10(max(rms, 1e-12)):.0f} dBFS)"
    clipped = clipped_share(audio)
    if clipped > max_clipped:
        return f"clipped ({100 * clipped:.1f} % of samples at full scale)"
    return None


def clipped_share(audio: np.ndarray) -> float:
    """The share of samples at full scale (at least ``CLIP_LEVEL``): above ``CLIP_FRACTION``, a note was clipped."""
    return float(np.mean(np.abs(audio) >= CLIP_LEVEL)) if audio.size else 0.0


def sounding(loudness: np.ndarray) -> slice:
    """The frames of a note from its onset to where it first falls silent after its peak.

    Frames more than ``ONSET_DB`` below the loudest are left out at both ends:
    the transform is circular, so the last frames of a note that has died
    away hold a leak of its own onset, not more note.
    """
    on = loudness >= loudness.max() - ONSET_DB
    onset, peak = int(np.argmax(on)), int(np.argmax(loudness))
    silent = np.flatnonzero(~on[peak:])
    return slice(onset, peak + int(silent[0]) if silent.size else len(loudness))


def pool_for(preset_name: str, seconds: float, sample_rate: int) -> int:
    nsgt = transform_for(get_preset(preset_name), round(seconds * sample_rate))
    return max(1, round(FRAME_S / (nsgt.hop / sample_rate)))


def analyse(audio: np.ndarray, *, preset: str, sustain_s: float) -> NoteFeatures:
    """Stored frames, their loudness, and the representative frame and sustain of one note."""
    import torch

    from timbre_explorer.core.signal.descriptors import descriptors

    p = get_preset(preset)
    nsgt = transform_for(p, len(audio))
    pool = pool_for(preset, len(audio) / p.sample_rate, p.sample_rate)
    mag = nsgt.magnitude(torch.from_numpy(audio.astype(np.float32)))  # [K, T]
    t = nsgt.n_frames // pool
    frames = mag[:, :t * pool].reshape(nsgt.n_bins, t, pool).square().mean(-1).sqrt().T  # [t, K]
    loud = descriptors(frames, nsgt, ["loudness"])["loudness"].numpy().astype(np.float32)
    frame_rate = t / (len(audio) / p.sample_rate)
    onset = int(np.argmax(loud >= loud.max() - ONSET_DB))
    end = min(t, max(onset + 1, round(sustain_s * frame_rate)))
    start = onset + math.ceil(ATTACK_S * frame_rate)
    if start >= end:  # a note shorter than its attack: its sustain is all of it
        start = onset
    rep = start + int(np.argmax(loud[start:end]))
    log_mag = frames.clamp_min(LOG_FLOOR).log().numpy().astype(np.float16)
    return NoteFeatures(log_mag, loud, rep, start, end)


def log_magnitude_range(preset: str, seconds: float) -> tuple[int, tuple[float, float]]:
    """The band count of ``preset``, and the stored log-magnitudes a build can write for notes of ``seconds``:
    from the floor ``log(LOG_FLOOR)`` to the log of the largest coefficient a signal within full scale can give.

    A coefficient sums the note's spectrum times its band's window over at most ``n // 2 + 1`` bins (an inverse
    FFT without scaling), and no bin of the spectrum of ``n`` samples within ±1 exceeds ``n``; so no coefficient
    exceeds ``n * (n // 2 + 1) * max(window)``, and pooling (an RMS) keeps the largest. For 1.5 s notes of
    NSGT-ERB at 22.05 kHz that is log 15.6, where a full-scale sine reaches 3.2: a cache holding more was
    not written by a build.
    """
    p = get_preset(preset)
    n = round(seconds * p.sample_rate)
    nsgt = transform_for(p, n)
    slack = 0.02  # float16 keeps 3 digits of a log up to 16: 0.008 at most
    return nsgt.n_bins, (math.log(LOG_FLOOR) - slack, math.log(n * (n // 2 + 1) * nsgt.window_peak) + slack)


def _analyse_chunk(source: Source, specs: list[NoteSpec], preset: str) -> list[NoteFeatures | str]:
    """Worker: render or read, check and analyse a chunk of notes; a string is why a note was skipped."""
    from timbre_explorer.core.signal.pitch import estimate_pitch

    sample_rate = int(get_preset(preset).sample_rate)
    out: list[NoteFeatures | str] = []
    for audio in source.render(specs, sample_rate):
        if isinstance(audio, str):
            out.append(audio)
            continue
        features = check_audio(audio) or analyse(audio, preset=preset, sustain_s=source.sustain_s)
        if isinstance(features, NoteFeatures) and isinstance(source, FolderSource):
            features.pitch_heard = estimate_pitch(audio, sample_rate)  # check_octave_names, hear_pitches
        out.append(features)
    return out


def check_octave_names(root: str, specs: list[NoteSpec], heard: list[float | None]) -> None:
    """Refuse a folder whose names count octaves from another middle C: most of its pitched notes sound a whole
    number of octaves from their names (samplers that call middle C "C3"), so every note would train at the wrong
    pitch. One note an octave off proves nothing: YIN hears 6 % of the Philharmonia's correctly named notes an
    octave off (:func:`hear_pitches`)."""
    measured = [(spec, h) for spec, h in zip(specs, heard) if h is not None and spec.pitch >= 0]
    if len(measured) < OCTAVE_CHECK_NOTES:
        return
    octaves = [k if abs(h - spec.pitch - 12 * k) <= 0.5 else 0  # whole octaves off, within half a semitone
               for spec, h in measured for k in [round((h - spec.pitch) / 12)]]
    shift, count = Counter(octaves).most_common(1)[0]
    if shift == 0 or count <= len(measured) / 2:
        return
    spec, h = next((spec, h) for (spec, h), k in zip(measured, octaves) if k == shift)
    moved = f"{'an octave' if abs(shift) == 1 else f'{abs(shift)} octaves'} {'above' if shift > 0 else 'below'}"
    raise ParameterError(
        f"{root}: {count} of its {len(measured)} pitched notes sound {moved} the pitch their names give "
        f"({spec.file} is named {pitch_name(spec.pitch)} and sounds {pitch_name(round(h))}): its names count middle "
        f"C as {pitch_name(60 - 12 * shift)}; name each note by the pitch it sounds, with middle C as C4")


def hear_pitches(specs: list[NoteSpec], heard: list[float | None], *, required: bool) -> list[NoteSpec | str]:
    """A user's folder's notes (:class:`~timbre_explorer.core.data.sources.FolderSource`), each at the pitch its
    name gives or, where it gives none, at the pitch heard in it (YIN's median over its voiced frames, to the
    nearest semitone). A note with neither stays of unknown pitch, or, ``required``, is why it is skipped. Of
    1,154 correctly named Philharmonia notes YIN hears 89 % at their name and 6 % an octave off (docs/research.md,
    *Your recordings beside the sample sets*): a name, when there is one, stays the pitch trained."""
    out: list[NoteSpec | str] = []
    for spec, h in zip(specs, heard):
        if h is not None and spec.pitch < 0 and 0 <= round(h) <= 127:
            out.append(replace(spec, pitch=int(round(h))))
        elif spec.pitch < 0 and required:
            out.append("no pitch in its name, and none heard in it (name it like Fl-ord-C4-mf.wav, or put the pitch "
                       "as C4 in its name)")
        else:
            out.append(spec)
    return out


def _init_worker() -> None:
    import torch

    from timbre_explorer.core.runtime import tune_allocator

    torch.set_num_threads(1)
    tune_allocator()


# ---------------------------------------------------------------------------------------------- the dataset
class NoteCount(TypedDict):
    notes: int
    frames: int


class DatasetSummary(TypedDict):
    """A dataset's counts (:meth:`NoteDataset.summary`): notes and frames, per instrument and per split."""

    notes: int
    frames: int
    per_instrument: dict[str, NoteCount]
    per_split: dict[str, int]  # notes per split (train, valid, test, novel, cross-source ones)


class SkippedFile(TypedDict):
    """A file or note a build could not use, and why (the manifest's ``skipped``)."""

    file: str
    source: str  # the sample set's short name
    instrument: str  # empty where the file names none
    reason: str


class SourceEntry(TypedDict):
    """One sample set of a dataset (the manifest's ``sources``)."""

    name: str  # its short name, the notes' ``source``
    kind: str
    path: str


class HeardPitch(TypedDict):
    """A note of a user's folder named without a pitch, and the pitch heard in it (the manifest's ``heard``)."""

    file: str
    source: str  # the folder's name
    pitch: int  # MIDI


class BuildFigures(TypedDict):
    """What a build found: the manifest less its key and timing."""

    format: str  # "timbre-explorer-dataset"
    source: str  # the sample sets' paths, comma-separated
    sources: list[SourceEntry]
    kind: str  # the source's kind, or "sources"
    notes_total: int  # the notes asked for, usable or not
    preset: str
    sample_rate: int
    seconds: float  # every note's length
    frame_rate: float
    frames_per_note: int
    notes: int
    frames: int
    skipped: list[SkippedFile]
    heard: NotRequired[list[HeardPitch]]  # a manifest written before pitches were heard has none
    hold_out: list[str]
    seed: int
    workers: int


class KeyParts(TypedDict):
    """What the cache key hashes (:func:`dataset_key`)."""

    source: SourceIdentity | list[SourceIdentity]  # one source's identity, or each one's
    preset: dict[str, Any]  # TransformPreset.to_dict()
    hold_out: list[str]
    seed: int
    splits: dict[str, float]
    features_version: int
    app_version: str


class DatasetManifest(BuildFigures):
    """``manifest.json`` as :func:`build_dataset` writes it."""

    key: str
    key_parts: KeyParts
    build_seconds: float
    notes_per_second: float


@dataclass(frozen=True, eq=False)
class DatasetNotes(NoteTable):
    """A dataset's ``notes.csv``: the shared note columns (names coded in order of first appearance; dynamics
    after :data:`~timbre_explorer.core.data.instruments.DYNAMICS` and splits after :data:`SPLITS`, so their codes
    are a model map's), what each note was made from, and where its frames are."""

    family: np.ndarray  # [N] str
    program: np.ndarray  # [N] General MIDI program
    velocity: np.ndarray  # [N] MIDI velocity
    technique: np.ndarray  # [N] str
    file: np.ndarray  # [N] str: the file, or 'SOUNDFONT#program/pitch/velocity'
    first_frame: np.ndarray  # [N] the row of the note's first frame in log_magnitude.npy
    n_frames: np.ndarray  # [N] its rows there; the next three count from first_frame
    rep_frame: np.ndarray  # [N] its representative frame
    sustain_start: np.ndarray  # [N]
    sustain_end: np.ndarray  # [N]

    @classmethod
    def read(cls, path: Path) -> DatasetNotes:
        """The table of ``notes.csv``; ValueError or KeyError where it is not one. File names that are not UTF-8
        come back as Python decodes them (:func:`_write_table`)."""
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
            rows = list(csv.DictReader(f))

        def ints(c: str) -> np.ndarray:
            return np.array([int(r[c]) for r in rows], np.int64)

        def strs(c: str) -> np.ndarray:
            return np.array([r[c] for r in rows], dtype=object)

        instrument, instruments = encode(r["instrument"] for r in rows)
        dynamic, dynamics = encode((r["dynamic"] for r in rows), DYNAMICS)
        split, splits = encode((r["split"] for r in rows), SPLITS)
        source, sources = encode(r["source"] for r in rows)
        if splits != SPLITS:
            raise ValueError(f"unknown split {splits[len(SPLITS)]!r}")
        return cls(instrument=instrument, pitch=ints("pitch"), dynamic=dynamic, split=split, source=source,
                   instruments=instruments, dynamics=dynamics, splits=splits, sources=sources,
                   family=strs("family"), program=ints("program"), velocity=ints("velocity"),
                   technique=strs("technique"), file=strs("file"), first_frame=ints("first_frame"),
                   n_frames=ints("n_frames"), rep_frame=ints("rep_frame"), sustain_start=ints("sustain_start"),
                   sustain_end=ints("sustain_end"))


class NoteDataset:
    """A built dataset: the metadata table in memory, the frames memory-mapped."""

    def __init__(self, path: str | os.PathLike):
        """Open a built dataset; :class:`DamagedDataset` if a file is missing, unreadable or of the wrong size."""
        self.path = Path(path)
        manifest = self.path / "manifest.json"
        if not manifest.is_file():
            raise ParameterError(f"{self.path}: not a built dataset (no manifest.json)")
        try:
            # a DatasetManifest as written, but read back unchecked but for the figures checked here and in
            # verify(): a dict, not the TypedDict
            self.manifest: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
            self.notes = DatasetNotes.read(self.path / "notes.csv")
            self.log_magnitude = np.load(self.path / "log_magnitude.npy", mmap_mode="r")
            self.loudness = np.load(self.path / "loudness.npy", mmap_mode="r")
            frames, notes = int(self.manifest["frames"]), int(self.manifest["notes"])
        except (OSError, ValueError, KeyError, TypeError) as exc:  # missing, truncated, not JSON/CSV/npy
            raise DamagedDataset(f"{self.path}: the cached dataset is damaged ({_reason(exc)})") from None
        sizes = {"notes.csv": (len(self), notes), "log_magnitude.npy": (self.log_magnitude.shape[0], frames),
                 "loudness.npy": (self.loudness.shape[0], frames)}
        for name, (have, want) in sizes.items():
            if have != want:
                raise DamagedDataset(f"{self.path}: the cached dataset is damaged ({name} holds {have} rows, "
                                     f"the manifest says {want})")

    def verify(self, key: str | None = None, preset: str | None = None) -> None:
        """Check the cache against its manifest (``key`` and ``preset`` when given, the band count of its preset)
        and every stored value as a build writes it (finite, within :func:`log_magnitude_range`): a cache that was
        overwritten or damaged on disk raises :class:`DamagedDataset` instead of training on garbage.

        Streamed in chunks, so it never needs the whole dataset in memory.
        """
        for name, want in (("key", key), ("preset", preset)):
            if want is not None and self.manifest.get(name) != want:
                raise DamagedDataset(f"{self.path}: the cached dataset is damaged (its manifest names {name} "
                                     f"{self.manifest.get(name)!r}, not {want!r})")
        try:
            bands, (low, high) = log_magnitude_range(self.preset, float(self.manifest["seconds"]))
        except (ParameterError, KeyError, TypeError, ValueError) as exc:
            raise DamagedDataset(f"{self.path}: the cached dataset is damaged (its manifest's preset or note "
                                 f"length is unusable: {_reason(exc)})") from None
        if self.log_magnitude.ndim != 2 or self.log_magnitude.shape[1] != bands:
            raise DamagedDataset(f"{self.path}: the cached dataset is damaged (its frames have "
                                 f"{self.log_magnitude.shape[1:]} bands, its preset {self.preset} has {bands})")
        if not np.all(np.isfinite(self.loudness)):
            raise DamagedDataset(f"{self.path}: the cached dataset is damaged (non-finite loudness values)")
        for start in range(0, self.log_magnitude.shape[0], VERIFY_CHUNK_ROWS):
            chunk = np.asarray(self.log_magnitude[start:start + VERIFY_CHUNK_ROWS])
            if not np.all(np.isfinite(chunk)) or chunk.size and (chunk.min() < low or chunk.max() > high):
                raise DamagedDataset(f"{self.path}: the cached dataset is damaged (values no build writes "
                                     f"from frame {start} on)")
        rows = self.notes.first_frame + self.notes.n_frames
        if len(rows) and (rows.max() > self.log_magnitude.shape[0] or self.notes.first_frame.min() < 0):
            raise DamagedDataset(f"{self.path}: the cached dataset is damaged (notes.csv points past the frames)")

    def __len__(self) -> int:
        return len(self.notes)

    @property
    def preset(self) -> str:
        return self.manifest["preset"]

    @property
    def instruments(self) -> list[str]:
        """Instrument names in order of first appearance."""
        return list(self.notes.instruments)

    @property
    def sources(self) -> list[str]:
        """The short names of the dataset's sources, in order of first appearance."""
        return list(self.notes.sources)

    def sounding_rows(self, note: int) -> np.ndarray:
        """The frame rows of one note's sounding part (:func:`sounding`): what places a whole note."""
        first, n = int(self.notes.first_frame[note]), int(self.notes.n_frames[note])
        part = sounding(np.asarray(self.loudness[first:first + n]))
        return np.arange(first + part.start, first + part.stop)

    def where(self, split: str) -> np.ndarray:
        """Indices of the notes of one split (train, valid, test, novel; cross_test, cross_valid)."""
        return np.flatnonzero(self.notes.split_name == split)

    def representative(self, notes: np.ndarray | None = None) -> np.ndarray:
        """Representative log-magnitude frames ``[n, K]`` (float32) of the given notes (default all)."""
        idx = np.arange(len(self)) if notes is None else np.asarray(notes)
        rows = self.notes.first_frame[idx] + self.notes.rep_frame[idx]
        return np.asarray(self.log_magnitude[rows], dtype=np.float32)

    def sustain_frames(self, notes: np.ndarray, *, within_db: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the sustained frames of ``notes`` within ``within_db`` of each one's representative frame.

        Returns ``(rows, note_of_row)`` so a trainer can read frames and know their note.
        """
        rows, owners = [], []
        for i in np.asarray(notes):
            first = self.notes.first_frame[i]
            r = np.arange(first + self.notes.sustain_start[i], first + self.notes.sustain_end[i])
            loud = self.loudness[r]
            keep = r[loud >= self.loudness[first + self.notes.rep_frame[i]] - within_db]
            rows.append(keep)
            owners.append(np.full(len(keep), i))
        if not rows:
            return np.zeros(0, int), np.zeros(0, int)
        return np.concatenate(rows), np.concatenate(owners)

    def summary(self) -> DatasetSummary:
        """Counts for reports: notes and frames, per instrument and per split."""
        per_inst = Counter(self.notes.instrument_name)
        frames: Counter[str] = Counter()
        for inst, n in zip(self.notes.instrument_name, self.notes.n_frames):
            frames[inst] += int(n)
        return {"notes": len(self), "frames": int(self.log_magnitude.shape[0]),
                "per_instrument": {k: {"notes": per_inst[k], "frames": frames[k]} for k in self.instruments},
                "per_split": dict(Counter(self.notes.split_name))}


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"{Path(exc.filename).name if exc.filename else 'a file'}: {exc.strerror or exc}"
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return str(exc)


def _write_table(path: Path, table: dict[str, list]) -> None:
    """The note table, as UTF-8; a file name that is not (Latin-1 on a Linux disk, decoded by Python with lone
    surrogates) is written as its own bytes, which :meth:`DatasetNotes.read` reads back as the same name."""
    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        w.writerows(zip(*(table[c] for c in COLUMNS)))


def split_notes(instruments: list[str], *, held_out: Collection[str] = frozenset(), seed: int = 0) -> list[str]:
    """Split labels per note: stratified by instrument, seeded; ``held_out`` instruments → ``novel``.

    Uses scikit-learn's stratified ``train_test_split``; when an instrument has
    too few notes to stratify, the split falls back to an unstratified one.
    """
    from sklearn.model_selection import train_test_split

    labels = np.array(instruments, dtype=object)
    out = np.where(np.isin(labels, list(held_out)), "novel", "train").astype(object)
    pool = np.flatnonzero(out == "train")
    held = SPLIT_FRACTIONS["valid"] + SPLIT_FRACTIONS["test"]
    if len(pool) < 3:
        return out.tolist()

    def cut(idx: np.ndarray, size: float, seed: int) -> list[np.ndarray]:
        try:
            return train_test_split(idx, test_size=size, random_state=seed, stratify=labels[idx])
        except ValueError:  # an instrument with a single note, or more instruments than test notes
            return train_test_split(idx, test_size=size, random_state=seed)

    _, rest = cut(pool, held, seed)
    if len(rest) < 2:
        out[rest] = "test"
        return out.tolist()
    valid, test = cut(rest, SPLIT_FRACTIONS["test"] / held, seed + 1)
    out[valid], out[test] = "valid", "test"
    return out.tolist()


def leave_source_out(ds: NoteDataset, test_source: str, valid_source: str | None = None) -> None:
    """Hold a source out of training: its notes become the cross-source test set (``cross_test``), and those of
    ``valid_source``, when named, the cross-source validation set (``cross_valid``) that selects models.

    The other sources' notes keep their splits (so the in-source test stays); novel instruments stay novel.
    Changes the dataset's split column in memory only.
    """
    named = [test_source] + ([valid_source] if valid_source is not None else [])
    unknown = [n for n in named if n not in ds.sources]
    if unknown or test_source == valid_source:
        raise ParameterError(f"cannot hold out {', '.join(named)}: the sources are {', '.join(ds.sources)}, "
                             "and the test and validation sources must differ")
    if len(ds.sources) < len(named) + 1:
        raise ParameterError(f"holding out {', '.join(named)} leaves no source to train on")
    split = ds.notes.split.copy()
    for name, label in zip(named, (CROSS_TEST, CROSS_VALID)):
        split[(ds.notes.source_name == name) & (split != SPLITS.index("novel"))] = SPLITS.index(label)
    ds.notes = replace(ds.notes, split=split)


# ---------------------------------------------------------------------------------------------- building
def dataset_key(sources: tuple[Source, ...], specs: list[list[NoteSpec]], *, preset: str, hold_out: tuple[str, ...],
                seed: int) -> tuple[str, KeyParts]:
    """The cache key: every source's identity (so a changed or added source rebuilds), and every setting."""
    identities = [source.identity(s) for source, s in zip(sources, specs)]
    parts: KeyParts = {"source": identities[0] if len(identities) == 1 else identities,
                       "preset": get_preset(preset).to_dict(), "hold_out": sorted(hold_out),
                       "seed": seed, "splits": SPLIT_FRACTIONS, "features_version": FEATURES_VERSION,
                       "app_version": __version__}
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16], parts


def default_hold_out(source: Source | tuple[Source, ...]) -> tuple[str, ...]:
    """The SoundFonts' novel instruments; nothing for a user's folder."""
    sources = source if isinstance(source, tuple) else (source,)
    return tuple(dict.fromkeys(i.name for s in sources if isinstance(s, SoundFontSource | WebAudioFontSource)
                               for i in s.instruments if i.novel))


def build_dataset(source: Source | tuple[Source, ...], *, preset: str = DEFAULT_PRESET,
                  hold_out: tuple[str, ...] | None = None, seed: int = 0,
                  cache_root: str | os.PathLike | None = None, workers: int | None = None,
                  rebuild: bool = False, progress: Progress | None = None,
                  cancel: threading.Event | ProcessEvent | None = None) -> NoteDataset:
    """Build (or reuse from the cache) the dataset of ``source``, or of several sources at once (their notes
    must share one length); see the module docstring.

    ``progress(done, total)`` is called as notes finish; setting ``cancel``
    stops the build, removes what was written and raises :class:`Cancelled`.
    Notes that cannot be used are skipped and listed in the manifest's
    ``skipped``; a source with no usable note raises :class:`ParameterError`.
    """
    from timbre_explorer.paths import cache_dir

    get_preset(preset)
    sources = source if isinstance(source, tuple) else (source,)
    _check_sources(sources)
    hold_out = default_hold_out(sources) if hold_out is None else tuple(hold_out)
    surveys = [_survey(s) for s in sources]  # a folder is scanned once, here
    for s, (specs_of, _) in zip(sources, surveys):
        if not specs_of:
            raise ParameterError(f"{_describe(s)}: no notes to analyse")
    key, parts = dataset_key(sources, [specs_of for specs_of, _ in surveys], preset=preset, hold_out=hold_out,
                             seed=seed)
    root = Path(cache_root) if cache_root is not None else cache_dir() / "datasets"
    kind = sources[0].kind if len(sources) == 1 else "sources"
    target = root / f"{kind}-{preset}-{key}"
    if (target / "manifest.json").is_file() and not rebuild:
        try:
            ds = NoteDataset(target)
            ds.verify(key, preset)
            return ds
        except DamagedDataset as exc:
            log.warning("%s; building it again", exc)
    started = time.perf_counter()
    partial = root / f".{target.name}.partial-{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(root)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        built = _build_into(partial, sources, [specs_of for specs_of, _ in surveys], preset, hold_out, seed,
                            workers, progress, cancel)
        built["skipped"] = [u for _, unusable in surveys for u in unusable] + built["skipped"]
        build_seconds = round(time.perf_counter() - started, 2)
        manifest: DatasetManifest = {**built, "key": key, "key_parts": parts, "build_seconds": build_seconds,
                                     "notes_per_second": round(built["notes_total"] / build_seconds, 1)}
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(partial, target)
    except OSError as exc:  # a full disk, a read-only cache: one sentence, and nothing left behind
        raise OSError(exc.errno, f"cannot write the dataset cache ({exc.strerror or exc}); nothing was kept",
                      str(root)) from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return NoteDataset(target)


def _check_sources(sources: tuple[Source, ...]) -> None:
    """Sources of one dataset need distinct names (each note records its own) and one note length."""
    if not sources:
        raise ParameterError("no source to build a dataset from")
    names = [s.name for s in sources]
    if len(set(names)) < len(names):
        raise ParameterError(f"two sources share a name ({', '.join(names)}): each note records its source's name")
    lengths = {s.seconds for s in sources}
    if len(lengths) > 1:
        raise ParameterError(f"the sources' notes differ in length ({', '.join(f'{x:g} s' for x in lengths)})")


def _survey(source: Source) -> tuple[list[NoteSpec], list[SkippedFile]]:
    """The notes of a source, and the files of a folder that cannot be notes (listed as skipped)."""
    if isinstance(source, SoundFontSource | WebAudioFontSource):
        return source.notes(), []
    scan = source.scan()
    return scan.notes, [{"file": path, "source": source.name, "instrument": "", "reason": reason}
                        for path, reason in scan.problems]


def _preallocated_npy(path: Path, shape: tuple[int, int]) -> np.memmap:
    """A float16 ``.npy`` memory map whose blocks are allocated on disk now.

    Writes into a memory map of a sparse file that the disk cannot hold kill
    the process with SIGBUS; allocated first, a full disk is an OSError here.
    """
    frames = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=shape)
    if hasattr(os, "posix_fallocate"):
        with open(path, "r+b") as f:
            os.posix_fallocate(f.fileno(), 0, os.fstat(f.fileno()).st_size)
    return frames


def _describe(source: Source) -> str:
    return source.path if isinstance(source, SoundFontSource) else source.root


def _build_into(out: Path, sources: tuple[Source, ...], specs_by_source: list[list[NoteSpec]],  # noqa: C901
                preset: str, hold_out: tuple[str, ...], seed: int, workers: int | None, progress: Progress | None,
                cancel: threading.Event | ProcessEvent | None) -> BuildFigures:
    p = get_preset(preset)
    source = sources[0]  # the sources share one note length (_check_sources)
    specs = [spec for specs_of in specs_by_source for spec in specs_of]
    owner = [k for k, specs_of in enumerate(specs_by_source) for _ in specs_of]  # each note's source
    n_samples = round(source.seconds * p.sample_rate)
    nsgt = transform_for(p, n_samples)
    per_note = nsgt.n_frames // pool_for(preset, source.seconds, int(p.sample_rate))
    frames = _preallocated_npy(out / "frames.partial.npy", (len(specs) * per_note, nsgt.n_bins))
    loud = np.zeros(len(specs) * per_note, np.float32)
    results: list[tuple[int, int, int] | str | None] = [None] * len(specs)  # a note's indices, or why it failed
    heard: dict[int, float | None] = {}  # the pitch YIN hears in a note of a user's folder
    starts = np.cumsum([0] + [len(s) for s in specs_by_source])
    chunks = [(int(starts[k]) + i, sources[k], specs_of[i:i + CHUNK_NOTES]) for k, specs_of in enumerate(specs_by_source)
              for i in range(0, len(specs_of), CHUNK_NOTES)]
    workers = workers or os.cpu_count() or 1
    done = 0

    def store(start: int, chunk_result: list[NoteFeatures | str]) -> None:
        nonlocal done
        for j, r in enumerate(chunk_result):
            i = start + j
            if isinstance(r, NoteFeatures):
                frames[i * per_note:(i + 1) * per_note] = r.log_magnitude
                loud[i * per_note:(i + 1) * per_note] = r.loudness
                results[i] = (r.rep_frame, r.sustain_start, r.sustain_end)  # only the indices stay in memory
                heard[i] = r.pitch_heard
            else:
                results[i] = r
        done += len(chunk_result)
        if progress:
            progress(done, len(specs))
        if cancel is not None and cancel.is_set():
            raise Cancelled("dataset build cancelled")

    if progress:
        progress(0, len(specs))
    if workers == 1 or len(chunks) == 1:
        _init_worker()
        for start, chunk_source, chunk in chunks:
            store(start, _analyse_chunk(chunk_source, chunk, preset))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                 initializer=_init_worker) as pool:
            pending = {pool.submit(_analyse_chunk, chunk_source, chunk, preset): start
                       for start, chunk_source, chunk in chunks}
            try:
                while pending:
                    finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("dataset build cancelled")
                    for fut in finished:
                        store(pending.pop(fut), fut.result())
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    given: list[HeardPitch] = []  # the notes hear_pitches gave a pitch
    for k, folder in enumerate(sources):
        if isinstance(folder, FolderSource):
            mine = [i for i in range(int(starts[k]), int(starts[k + 1])) if isinstance(results[i], tuple)]
            named, ears = [specs[i] for i in mine], [heard.get(i) for i in mine]
            check_octave_names(folder.root, named, ears)
            labelled = hear_pitches(named, ears, required=folder.pitched)
            for i, spec_or_why in zip(mine, labelled):  # after the check: the names are what it judges
                if isinstance(spec_or_why, str):
                    results[i] = spec_or_why
                elif spec_or_why.pitch != specs[i].pitch:
                    given.append({"file": specs[i].file, "source": folder.name, "pitch": spec_or_why.pitch})
                    specs[i] = spec_or_why
    kept = {i: r for i, r in enumerate(results) if isinstance(r, tuple)}
    good = list(kept)
    skipped: list[SkippedFile] = [{"file": specs[i].file, "source": sources[owner[i]].name, "instrument": specs[i].instrument,
                "reason": r} for i, r in enumerate(results) if isinstance(r, str)]
    if not good:
        reasons = Counter(s["reason"] for s in skipped).most_common(3)
        raise ParameterError(f"{', '.join(map(_describe, sources))}: none of the {len(specs)} notes could be used "
                             f"({'; '.join(f'{n}x {r}' for r, n in reasons)})")
    _compact(out, frames, loud, good, per_note)
    table: dict[str, list] = {c: [] for c in COLUMNS}
    splits = split_notes([specs[i].instrument for i in good], held_out=set(hold_out), seed=seed)
    for row, (i, split) in enumerate(zip(good, splits)):
        spec, (rep_frame, sustain_start, sustain_end) = specs[i], kept[i]
        for c, v in asdict(spec).items():
            if c in table:
                table[c].append(v)
        table["source"].append(sources[owner[i]].name)
        table["first_frame"].append(row * per_note)
        table["n_frames"].append(per_note)
        table["rep_frame"].append(rep_frame)
        table["sustain_start"].append(sustain_start)
        table["sustain_end"].append(sustain_end)
        table["split"].append(split)
    _write_table(out / "notes.csv", table)
    return {"format": "timbre-explorer-dataset", "source": ", ".join(map(_describe, sources)),
            "sources": [{"name": s.name, "kind": s.kind, "path": _describe(s)} for s in sources],
            "kind": source.kind if len(sources) == 1 else "sources", "notes_total": len(specs),
            "preset": preset, "sample_rate": p.sample_rate, "seconds": source.seconds,
            "frame_rate": per_note / source.seconds, "frames_per_note": per_note,
            "notes": len(good), "frames": len(good) * per_note, "skipped": skipped, "heard": given,
            "hold_out": list(hold_out), "seed": seed, "workers": workers}


def _compact(out: Path, frames: np.memmap, loud: np.ndarray, good: list[int], per_note: int) -> None:
    """The usable notes' frames, in order, as the final files (streamed, never all in RAM)."""
    if len(good) * per_note == len(loud):  # every note usable: the file is already final
        frames.flush()
        os.replace(out / "frames.partial.npy", out / "log_magnitude.npy")
        np.save(out / "loudness.npy", loud)
        return
    final = _preallocated_npy(out / "log_magnitude.npy", (len(good) * per_note, frames.shape[1]))
    final_loud = np.empty(len(good) * per_note, np.float32)
    for row, i in enumerate(good):
        final[row * per_note:(row + 1) * per_note] = frames[i * per_note:(i + 1) * per_note]
        final_loud[row * per_note:(row + 1) * per_note] = loud[i * per_note:(i + 1) * per_note]
    final.flush()
    np.save(out / "loudness.npy", final_loud)
    (out / "frames.partial.npy").unlink()
