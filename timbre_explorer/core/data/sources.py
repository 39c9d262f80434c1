"""Where notes come from: a General MIDI sample set (a SoundFont rendered with FluidSynth, or a patch set of
TiMidity++), or the user's sample folder.

A source lists its notes as :class:`NoteSpec` (label, pitch, dynamic, file)
and renders each to mono audio at the analysis rate. Every source has a short,
stable :attr:`name` (``FluidR3_GM``, ``MuseScore_General``, a folder's name):
a dataset may hold several sources, and each note records its source's name. Sources are small
picklable objects, so worker processes can render in parallel; each worker
loads the SoundFont once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypeAlias, TypedDict, cast

import numpy as np

from timbre_explorer.core.data.instruments import (
    BY_NAME,
    DYNAMICS,
    INSTRUMENTS,
    Instrument,
    canonical_name,
    family_of,
    parse_pitch,
    velocity_dynamic,
)
from timbre_explorer.core.errors import AudioFileError, ParameterError, TimbreExplorerError
from timbre_explorer.core.signal.audio_io import AUDIO_SUFFIXES, load_audio

if TYPE_CHECKING:
    import fluidsynth

#: Where Debian/Ubuntu (``fluid-soundfont-gm``), Fedora and Homebrew put FluidR3_GM.
SOUNDFONT_PLACES = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2",
                    "/usr/share/sounds/sf2/default-GM.sf2", "/opt/homebrew/share/soundfonts/FluidR3_GM.sf2")
MIN_SECONDS = 0.1  # shorter files are not notes
#: The General MIDI sample sets that install from Debian/Ubuntu packages, by their short names: four SoundFonts
#: and FreePats, a set of Gravis patches that TiMidity++ renders (its configuration file stands for it).
KNOWN_SOUNDFONTS = {"FluidR3_GM": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
                    "MuseScore_General": "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
                    "sf_GMbank": "/usr/share/sounds/sf2/sf_GMbank.sf2",
                    "TimGM6mb": "/usr/share/sounds/sf2/TimGM6mb.sf2",
                    "freepats": "/etc/timidity/freepats.cfg"}
#: The packages that install each (FluidR3_GM: fluid-soundfont-gm, or any of SOUNDFONT_PLACES).
SOUNDFONT_PACKAGES = {"FluidR3_GM": "fluid-soundfont-gm", "MuseScore_General": "musescore-general-soundfont",
                      "sf_GMbank": "csound-soundfont", "TimGM6mb": "timgm6mb-soundfont",
                      "freepats": "freepats timidity"}
_SHORT_NAMES = {**{Path(p).name: name for name, p in KNOWN_SOUNDFONTS.items()},
                "MuseScore_General.sf3": "MuseScore_General"}
DEFAULT_SOURCE = "FluidR3_GM"  # the sample set of the bundled model and of a config that names none
PATCH_SET_SUFFIX = ".cfg"  # a TiMidity++ configuration: a patch set, rendered by TiMidity++
SOUNDFONT_SUFFIXES = (".sf2", ".sf3", PATCH_SET_SUFFIX)
SLOT_GAP_S = 0.5  # silence between two notes of one TiMidity++ run, so no release reaches the next note
INSTALL_HINT = ("no General MIDI SoundFont found. On Debian/Ubuntu: sudo apt-get install fluid-soundfont-gm "
                "(./run.sh installs it when it can), or pass --soundfont FILE.sf2")


@dataclass(frozen=True)
class NoteSpec:
    """One note to analyse, and what is known about it."""

    instrument: str
    file: str  # the file, or 'SOUNDFONT#program/pitch/velocity'
    pitch: int = -1  # MIDI note number; -1 unknown
    dynamic: str = ""  # pp ... ff; '' unknown
    velocity: int = -1
    program: int = -1  # General MIDI program; -1 not from a SoundFont
    technique: str = ""
    family: str = field(default="")

    def __post_init__(self) -> None:
        if not self.family:
            object.__setattr__(self, "family", family_of(self.instrument))


def find_soundfont(path: str | os.PathLike | None = None) -> Path:
    """The SoundFont to render: ``path`` if given, else the system's FluidR3_GM."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ParameterError(f"{p}: no such SoundFont file")
        return p
    for place in SOUNDFONT_PLACES:
        if os.path.isfile(place):
            return Path(place)
    raise ParameterError(INSTALL_HINT)


def short_name(path: str | os.PathLike) -> str:
    """A sample set's short name from its path: a known SoundFont's (:data:`KNOWN_SOUNDFONTS`), another
    SoundFont's stem, a folder's name."""
    p = Path(path)
    return _SHORT_NAMES.get(p.name, p.stem if p.suffix.lower() in SOUNDFONT_SUFFIXES else p.name)


def named_soundfont(name: str) -> Path:
    """A known sample set by its short name (:data:`KNOWN_SOUNDFONTS`), or a SoundFont file by its path."""
    if name == "FluidR3_GM":
        return find_soundfont()
    if name in KNOWN_SOUNDFONTS:
        path = Path(KNOWN_SOUNDFONTS[name])
        package = SOUNDFONT_PACKAGES[name]
        if not path.is_file():
            raise ParameterError(f"{name}: not installed ({path}); on Debian/Ubuntu: sudo apt-get install {package}")
        if path.suffix == PATCH_SET_SUFFIX:
            _need_timidity(name, package)
        return path
    return find_soundfont(name)


class SoundFontIdentity(TypedDict):
    """What a SoundFont source's cache key depends on (:meth:`SoundFontSource.identity`): every setting, the
    file's name and size, and the hash of its first megabyte."""

    path: str  # the file's name only: a moved file keeps its cache
    instruments: tuple[dict[str, Any], ...]  # each Instrument's fields
    dynamics: tuple[tuple[str, int], ...]
    hold_s: float
    release_s: float
    gain: float
    kind: str
    size: int
    head_sha256: str


class FolderIdentity(TypedDict):
    """What a folder's (or the Philharmonia samples') cache key depends on: the labels, every file's path, size
    and modification time (hashed together), and the analysed length."""

    kind: str
    root: str
    seconds: float
    files_sha256: str
    pitched: NotRequired[bool]  # a user's folder: a note with no pitch, named or heard, is skipped (FolderSource)


#: What a source's cache key depends on (its ``identity``; the manifest's ``key_parts["source"]``).
SourceIdentity: TypeAlias = SoundFontIdentity | FolderIdentity


# ---------------------------------------------------------------------------------------------- SoundFont
@dataclass(frozen=True)
class SoundFontSource:
    """Single notes of General MIDI instruments, rendered dry (no reverb, no chorus) with FluidSynth (a SoundFont)
    or TiMidity++ (a patch set's configuration, :data:`PATCH_SET_SUFFIX`).

    Every note is held for ``hold_s`` and recorded for ``release_s`` more, so
    all notes share one length and one transform.
    """

    path: str
    instruments: tuple[Instrument, ...] = INSTRUMENTS
    dynamics: tuple[tuple[str, int], ...] = tuple(DYNAMICS.items())
    hold_s: float = 1.0
    release_s: float = 0.5
    gain: float = 0.4  # FluidSynth's master gain: ff notes peak below full scale at this level
    kind: str = "soundfont"

    @property
    def seconds(self) -> float:
        return self.hold_s + self.release_s

    @property
    def name(self) -> str:
        """The sample set's short name: a known one's (:data:`KNOWN_SOUNDFONTS`), else the file's stem."""
        return short_name(self.path)

    @property
    def sustain_s(self) -> float:
        """The note-off: the sustain of a note ends here."""
        return self.hold_s

    def notes(self) -> list[NoteSpec]:
        name = Path(self.path).name
        return [NoteSpec(inst.name, f"{name}#{inst.program}/{pitch}/{vel}", pitch, dyn, vel, inst.program)
                for inst in self.instruments for pitch in inst.pitches for dyn, vel in self.dynamics
                if not inst.dynamics or dyn in inst.dynamics]

    def identity(self, notes: list[NoteSpec]) -> SoundFontIdentity:
        """What the cache key depends on: the file's name, size and first megabyte, and every setting (by
        ``asdict``, so a setting added later keys the cache too: hence the cast)."""
        with open(self.path, "rb") as f:
            head = hashlib.sha256(f.read(1 << 20)).hexdigest()
        d = asdict(self)
        d["path"] = Path(self.path).name
        return cast("SoundFontIdentity", {**d, "size": os.path.getsize(self.path), "head_sha256": head})

    def render(self, specs: list[NoteSpec], sample_rate: int) -> list[np.ndarray | str]:
        if Path(self.path).suffix.lower() == PATCH_SET_SUFFIX:
            return list(_render_patches(self.path, specs, sample_rate, self.hold_s, self.release_s))
        synth, sfid = _synth(self.path, sample_rate, self.gain)
        hold, release = round(self.hold_s * sample_rate), round(self.release_s * sample_rate)
        out = []
        for spec in specs:
            synth.program_select(0, sfid, 0, spec.program)
            synth.noteon(0, spec.pitch, spec.velocity)
            a = synth.get_samples(hold)
            synth.noteoff(0, spec.pitch)
            b = synth.get_samples(release)
            synth.all_sounds_off(0)
            synth.get_samples(256)  # flush the voice so the next note starts in silence
            stereo = np.concatenate([a, b]).reshape(-1, 2).astype(np.float32)
            out.append(stereo.mean(axis=1) / 32768.0)
        return out


_SYNTHS: dict = {}


def _synth(path: str, sample_rate: int, gain: float) -> tuple[fluidsynth.Synth, int]:
    """One FluidSynth per process and SoundFont (loading FluidR3_GM takes about 0.2 s)."""
    key = (path, sample_rate, gain)
    if key not in _SYNTHS:
        try:
            import fluidsynth
        except ImportError as exc:  # pyfluidsynth is installed, libfluidsynth is not
            raise TimbreExplorerError("FluidSynth is not installed: sudo apt-get install libfluidsynth3 "
                                      f"(./run.sh installs it when it can) ({exc})") from None
        synth = fluidsynth.Synth(gain=gain, samplerate=float(sample_rate),
                                 **{"synth.reverb.active": 0, "synth.chorus.active": 0})
        sfid = synth.sfload(str(path))
        if sfid < 0:
            raise ParameterError(f"{path}: FluidSynth cannot load this SoundFont")
        _SYNTHS[key] = synth, sfid
    return _SYNTHS[key]


def _need_timidity(what: str, packages: str = "timidity") -> None:
    """Refuse a patch set, in one sentence naming it and what to install, where TiMidity++ is not there."""
    if shutil.which("timidity") is None:
        raise ParameterError(f"{what}: TiMidity++ is not installed, and it renders this patch set; on Debian/Ubuntu: "
                             f"sudo apt-get install {packages} (./run.sh installs it when it can)")


#: What TiMidity++ reads before a patch set's own configuration. TiMidity++ always reads the system's
#: /etc/timidity/timidity.cfg first (``-c`` only adds a file; measured with strace, 2.14), so a program the patch set
#: lacks would sound from the system's sample set (FluidR3_GM on Debian) under the patch set's name. Undefining every
#: tone of bank 0 and drum set 0 leaves only what the patch set defines (an empty one renders silence).
_ONLY_OWN_PATCHES = "".join(f"{bank}\n" + "".join(f"#extension undef {p}\n" for p in range(128))
                            for bank in ("bank 0", "drumset 0"))


def _render_patches(config: str, specs: list[NoteSpec], sample_rate: int, hold_s: float,
                    release_s: float) -> list[np.ndarray]:
    """Notes of a TiMidity++ patch set: one MIDI file holding every note in its own slot, one TiMidity++ run (a
    process per note would cost more than the rendering), cut at the slots. Reverb and chorus off, as for
    FluidSynth."""
    import subprocess
    import tempfile

    import mido
    import soundfile

    _need_timidity(config)
    ticks = 1000  # per beat, at 120 beats per minute: 2000 ticks per second
    hold, slot = round(hold_s * 2 * ticks), round((hold_s + release_s + SLOT_GAP_S) * 2 * ticks)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000),
                            mido.Message("control_change", control=91, value=0),  # reverb send
                            mido.Message("control_change", control=93, value=0)])  # chorus send
    for spec in specs:
        track += [mido.Message("program_change", program=spec.program),
                  mido.Message("note_on", note=spec.pitch, velocity=spec.velocity),
                  mido.Message("note_off", note=spec.pitch, time=hold),
                  mido.Message("control_change", control=91, value=0, time=slot - hold)]
    n, step = round((hold_s + release_s) * sample_rate), (hold_s + release_s + SLOT_GAP_S) * sample_rate
    with tempfile.TemporaryDirectory(prefix="timbre-explorer-timidity-") as tmp:
        midi, wav = Path(tmp, "notes.mid"), Path(tmp, "notes.wav")
        mido.MidiFile(ticks_per_beat=ticks, tracks=[track]).save(midi)
        limit = 60 + 2 * len(specs) * step / sample_rate  # seconds: twice the music, and a minute to start
        try:
            only = Path(tmp, "only.cfg")  # TiMidity++ reads the system's configuration before ours: undo its tones
            only.write_text(_ONLY_OWN_PATCHES, encoding="utf-8")
            run = subprocess.run(["timidity", "-c", str(only), "-c", str(config), "-Ow", "--output-mono", "--output-16bit",
                                  "-s", str(sample_rate), "-EFreverb=d", "-EFchorus=d", "-o", str(wav), str(midi)],
                                 capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            raise TimbreExplorerError(f"{config}: TiMidity++ did not finish rendering {len(specs)} notes in "
                                      f"{limit:.0f} s") from None
        if run.returncode != 0 or not wav.is_file():
            said = [line.strip() for line in (run.stderr + run.stdout).splitlines() if line.strip()]
            errors = [line.removeprefix(f"{config}: ") for line in said if "error" in line.lower()]
            reason = (errors or said[-1:] or [f"exit status {run.returncode}"])[0]  # its first error, else its last
            raise TimbreExplorerError(f"{config}: TiMidity++ could not render it ({reason})")
        try:
            audio, rate = soundfile.read(wav, dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, ValueError) as exc:  # the file TiMidity++ wrote is no WAV
            raise TimbreExplorerError(f"{config}: TiMidity++ wrote a file that is not audio "
                                      f"({str(exc).rsplit(': ', 1)[-1]})") from None
    if rate != sample_rate:
        raise TimbreExplorerError(f"{config}: TiMidity++ rendered at {rate} Hz, not the {sample_rate} Hz asked for")
    audio = np.concatenate([audio.mean(1), np.zeros(round(len(specs) * step) + n, np.float32)])
    return [audio[round(i * step):round(i * step) + n].copy() for i in range(len(specs))]


# ---------------------------------------------------------------------------------------------- folders
_NSYNTH = re.compile(r"^(?P<family>[a-z]+(?:_[a-z]+)*)_(?P<kind>acoustic|electronic|synthetic)_\d{3}"
                     r"-(?P<pitch>\d{3})-(?P<velocity>\d{3})$")
_NSYNTH_FAMILIES = {"reed": "woodwind", "flute": "woodwind", "brass": "brass", "string": "strings",
                    "keyboard": "keyboard"}
_DYNAMIC_WORDS = {"ppp": "pp", "pp": "pp", "p": "p", "mp": "mf", "mf": "mf", "f": "f", "ff": "ff", "fff": "ff"}


@dataclass(frozen=True)
class FolderScan:
    """The labelled notes of a folder, and every file that could not be labelled, with the reason."""

    notes: list[NoteSpec]
    problems: list[tuple[str, str]]


def label_file(path: Path, root: Path, nsynth: dict | None = None) -> NoteSpec | str:
    """Label one file; returns a :class:`NoteSpec`, or the reason it cannot be labelled.

    Tried in order: an NSynth name (``flute_acoustic_002-060-100.wav``, with
    its entry in ``examples.json`` when there is one), a Studio-On-Line name
    (``Fl-ord-C4-mf.aif``: instrument, technique, pitch, dynamic), then the
    first subfolder under ``root`` as the instrument or, for a file directly
    in ``root``, the first words of its name when they name one of ours
    (``violin_take1.wav``, ``Alto Sax A3 ff.wav``); pitch and dynamic are
    taken from name tokens like ``C4`` or ``ff`` when present.
    """
    rel = path.relative_to(root).as_posix()
    stem = path.stem
    m = _NSYNTH.match(stem)
    if m:
        entry = (nsynth or {}).get(stem, {})
        family = entry.get("instrument_family_str", m["family"])
        pitch = int(entry.get("pitch", m["pitch"]))
        velocity = int(entry.get("velocity", m["velocity"]))
        label = canonical_name(family)
        if label == family:
            label = family.replace("_", " ").title().replace(" ", "")
        return NoteSpec(label, rel, pitch, velocity_dynamic(velocity), velocity,
                        technique=entry.get("instrument_source_str", m["kind"]),
                        family=family_of(label) if label in BY_NAME else _NSYNTH_FAMILIES.get(family, family))
    parts = stem.split("-")
    for i, part in enumerate(parts[1:], start=1):
        midi = parse_pitch(part)
        if midi is not None and i + 1 < len(parts) and parts[i + 1] in _DYNAMIC_WORDS:
            return NoteSpec(canonical_name(parts[0]), rel, midi, _DYNAMIC_WORDS[parts[i + 1]],
                            technique="-".join(parts[1:i]))
    inside = path.relative_to(root).parts
    tokens = [t for t in re.split(r"[-_ .]+", stem) if t]
    pitches = [p for p in map(parse_pitch, tokens) if p is not None]
    dynamics = [_DYNAMIC_WORDS[t] for t in tokens if t in _DYNAMIC_WORDS]
    if len(inside) > 1:  # in a subfolder: the subfolder's name
        instrument: str | None = canonical_name(inside[0])
    else:  # loose: the name's first words, when they name one of our instruments ('violin_take1')
        instrument = next((n for n in (canonical_name(" ".join(tokens[:k])) for k in (3, 2, 1)) if n in BY_NAME), None)
    if instrument is not None:
        return NoteSpec(instrument, rel, pitches[0] if pitches else -1, dynamics[0] if dynamics else "")
    return ("cannot tell the instrument: put the file in a folder named after its instrument, begin its name with "
            "the instrument (violin_take1.wav), or name it like Fl-ord-C4-mf.wav or flute_acoustic_002-060-100.wav")


def scan_folder(root: str | os.PathLike) -> FolderScan:
    """Label every audio file under ``root`` (recursively); ``examples.json`` files are read as NSynth metadata."""
    root = Path(root)
    if not root.is_dir():
        raise ParameterError(f"{root}: no such folder")
    nsynth: dict = {}
    for meta in sorted(root.rglob("examples.json")):
        try:
            nsynth.update(json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ParameterError(f"{meta}: not a readable NSynth examples.json ({exc})") from None
    notes, problems = [], []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "examples.json"):
        rel = path.relative_to(root).as_posix()
        if path.name.startswith("."):
            continue
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            problems.append((rel, f"not an audio file (expected {', '.join(AUDIO_SUFFIXES)})"))
            continue
        label = label_file(path, root, nsynth)
        if isinstance(label, str):
            problems.append((rel, label))
        else:
            notes.append(label)
    return FolderScan(notes, problems)


@dataclass(frozen=True)
class FolderSource:
    """The user's own samples: each file is one note, analysed over its first ``seconds`` after the onset.

    ``instruments``, when given, keeps only those. A note whose name gives no pitch is trained at the pitch heard in
    it when the dataset is built (:func:`~timbre_explorer.core.data.dataset.hear_pitches`), so a folder per
    instrument of takes named anyhow trains at their pitches. One with no pitch to hear (a drum) is kept as of
    unknown pitch, or, ``pitched`` (a folder beside the sample sets, where a conditioned model trains and places
    every note at its pitch), skipped then. What is skipped is listed with the reason, like every other skipped file.
    """

    root: str
    seconds: float = 1.5
    instruments: tuple[str, ...] | None = None
    pitched: bool = False
    kind: str = "folder"

    @property
    def sustain_s(self) -> float:
        return self.seconds

    @property
    def name(self) -> str:
        """The folder's name."""
        return Path(self.root).resolve().name

    def notes(self) -> list[NoteSpec]:
        return self.scan().notes

    def scan(self) -> FolderScan:
        scan = scan_folder(self.root)
        notes, problems = [], list(scan.problems)
        for note in scan.notes:
            if self.instruments is not None and note.instrument not in self.instruments:
                problems.append((note.file, f"{note.instrument}: not among the instruments chosen"))
            else:
                notes.append(note)
        return FolderScan(notes, sorted(problems))

    def identity(self, notes: list[NoteSpec]) -> FolderIdentity:
        """The cache key depends on every file's path, size and modification time, the labels, and whether a note
        with no pitch is skipped (a key without it was built before pitches were heard)."""
        return {"kind": self.kind, "root": str(Path(self.root).resolve()), "seconds": self.seconds,
                "files_sha256": _files_sha256(self.root, notes), "pitched": self.pitched}

    def render(self, specs: list[NoteSpec], sample_rate: int) -> list[np.ndarray | str]:
        return read_notes(self.root, specs, self.seconds, sample_rate)


def _files_sha256(root: str, notes: list[NoteSpec]) -> str:
    h = hashlib.sha256()
    for spec in notes:
        st = os.stat(Path(root) / spec.file)
        h.update(json.dumps([asdict(spec), st.st_size, st.st_mtime_ns]).encode())
    return h.hexdigest()


def read_notes(root: str, specs: list[NoteSpec], seconds: float, sample_rate: int) -> list[np.ndarray | str]:
    """Each note's file under ``root``, ``seconds`` long from its onset, or why it cannot be read."""
    n = round(seconds * sample_rate)
    out: list[np.ndarray | str] = []
    for spec in specs:
        try:
            audio = load_audio(Path(root) / spec.file, sample_rate)
        except AudioFileError as exc:
            out.append(str(exc).split(": ", 1)[-1])
            continue
        if audio.size < MIN_SECONDS * sample_rate:
            out.append(f"too short ({1000 * audio.size / sample_rate:.0f} ms; at least {1000 * MIN_SECONDS:.0f} ms)")
            continue
        out.append(from_onset(audio, n, sample_rate))
    return out


# ---------------------------------------------------------------------------------------------- Philharmonia
PHILHARMONIA = "Philharmonia"  # the short name of the Philharmonia Orchestra's samples, wherever they lie
PHILHARMONIA_ENTRY = "philharmonia="  # a sample set entry ``philharmonia=FOLDER`` (TrainConfig.sources, the CLI)
PHILHARMONIA_EXAMPLE = "flute_C5_1_forte_normal.mp3"
#: The file names' instruments, as ours (the folder "cor anglais" holds english-horn files).
PHILHARMONIA_INSTRUMENTS = {
    "bassoon": "Bassoon", "cello": "Cello", "clarinet": "Clarinet", "english-horn": "EnglishHorn",
    "cor-anglais": "EnglishHorn", "flute": "Flute", "french-horn": "FrenchHorn", "oboe": "Oboe",
    "saxophone": "Saxophone", "trombone": "Trombone", "double-bass": "Contrabass", "guitar": "NylonGuitar",
    "banjo": "Banjo", "bass-clarinet": "BassClarinet", "contrabassoon": "Contrabassoon", "mandolin": "Mandolin"}
#: Families of the instruments that are no General MIDI program (the others' come from the instrument table).
PHILHARMONIA_FAMILIES = {"BassClarinet": "woodwind", "Contrabassoon": "woodwind", "Mandolin": "guitar"}
#: Dynamic words as ours; there is no mp in our five, so mezzo-piano joins mf.
PHILHARMONIA_DYNAMICS = {"molto-pianissimo": "pp", "pianissimo": "pp", "piano": "p", "mezzo-piano": "mf",
                         "mezzo-forte": "mf", "forte": "f", "fortissimo": "ff"}
#: The lengths of single notes (``phrase`` files are not single notes), as the technique column writes them.
PHILHARMONIA_LENGTHS = {"025": "0.25 s", "05": "0.5 s", "1": "1 s", "15": "1.5 s", "long": "long",
                        "very-long": "very long"}
PHILHARMONIA_ARTICULATIONS = ("normal", "arco-normal")  # the plain note (strings: bowed)
_PHILHARMONIA_PITCH = re.compile(r"^([A-G])(s?)(\d)$")


def philharmonia_folder(entry: str) -> str | None:
    """The folder of a sample set entry ``philharmonia=FOLDER``, or None for any other entry."""
    return entry[len(PHILHARMONIA_ENTRY):] if entry.lower().startswith(PHILHARMONIA_ENTRY) else None


def label_philharmonia(path: Path, root: Path,
                       articulations: tuple[str, ...] = PHILHARMONIA_ARTICULATIONS) -> NoteSpec | str:
    """Label one file of the Philharmonia samples from its name (``flute_C5_1_forte_normal.mp3``: instrument,
    pitch with ``s`` for sharp, length, dynamic, articulation); returns a :class:`NoteSpec`, or why it is skipped.

    Skipped: percussion (unpitched), phrases, notes that change dynamic (``cresc-decresc``), and articulations
    not in ``articulations``.
    """
    rel = path.relative_to(root).as_posix()
    parts = path.stem.split("_")
    if "percussion" in path.relative_to(root).parts[:-1] or (len(parts) == 5 and not parts[1]):
        return "percussion (unpitched)"
    if len(parts) != 5:
        return f"not named like {PHILHARMONIA_EXAMPLE}"
    word, note, length, dynamic, articulation = parts
    if word not in PHILHARMONIA_INSTRUMENTS:
        return f"not a Philharmonia instrument ({word})"
    m = _PHILHARMONIA_PITCH.match(note)
    if not m:
        return f"not a note name ({note}; expected like C4 or Cs4)"
    if length == "phrase":
        return "a phrase, not a single note"
    if length not in PHILHARMONIA_LENGTHS:
        return f"unknown length {length!r} (known: {', '.join(PHILHARMONIA_LENGTHS)}, phrase)"
    if dynamic not in PHILHARMONIA_DYNAMICS:
        changing = "cresc" in dynamic or "dim" in dynamic
        return f"changes dynamic ({dynamic})" if changing else f"unknown dynamic {dynamic!r}"
    if articulation not in articulations:
        return f"articulation {articulation or 'unnamed'} (the source reads {', '.join(articulations)})"
    instrument = PHILHARMONIA_INSTRUMENTS[word]
    step, sharp, octave = m.groups()
    return NoteSpec(instrument, rel, parse_pitch(f"{step}{'#' if sharp else ''}{octave}") or -1,
                    PHILHARMONIA_DYNAMICS[dynamic], technique=f"{articulation} {PHILHARMONIA_LENGTHS[length]}",
                    family=PHILHARMONIA_FAMILIES.get(instrument, ""))


@dataclass(frozen=True)
class PhilharmoniaSource:
    """The Philharmonia Orchestra's free samples (CC BY-SA 3.0: read where the user keeps them, never shipped),
    the folder as downloaded (files may sit in subfolders), each file one note labelled by its name
    (:func:`label_philharmonia`).

    A source of its own rather than one more labeller of :class:`FolderSource`: its notes must carry one short
    name, ``Philharmonia``, wherever the folder lies (so a config can keep it out with ``cross_test``), and its
    skip rules (articulations, phrases, percussion) would be wrong for a user's folder. It reads its files as the
    folder source does (:func:`read_notes`). ``instruments``, when given, keeps only those (our names); the rest
    are skipped as not chosen, and counted like every other skipped file.
    """

    root: str
    articulations: tuple[str, ...] = PHILHARMONIA_ARTICULATIONS
    instruments: tuple[str, ...] | None = None
    seconds: float = 1.5
    kind: str = "philharmonia"

    @property
    def sustain_s(self) -> float:
        return self.seconds

    @property
    def name(self) -> str:
        return PHILHARMONIA

    def scan(self) -> FolderScan:
        """Every audio file under the folder, labelled or with the reason it is skipped."""
        root = Path(self.root)
        if not root.is_dir():
            raise ParameterError(f"{root}: no such folder (the Philharmonia samples)")
        notes, problems = [], []
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
            rel = path.relative_to(root).as_posix()
            label = (label_philharmonia(path, root, self.articulations) if path.suffix.lower() in AUDIO_SUFFIXES
                     else f"not an audio file (expected {', '.join(AUDIO_SUFFIXES)})")
            if isinstance(label, NoteSpec) and self.instruments is not None and label.instrument not in self.instruments:
                label = f"{label.instrument}: not among the instruments chosen"
            if isinstance(label, str):
                problems.append((rel, label))
            else:
                notes.append(label)
        return FolderScan(notes, problems)

    def notes(self) -> list[NoteSpec]:
        return self.scan().notes

    def identity(self, notes: list[NoteSpec]) -> FolderIdentity:
        """As a folder's: every file's path, size and modification time, and the labels."""
        return {"kind": self.kind, "root": str(Path(self.root).resolve()), "seconds": self.seconds,
                "files_sha256": _files_sha256(self.root, notes)}

    def render(self, specs: list[NoteSpec], sample_rate: int) -> list[np.ndarray | str]:
        return read_notes(self.root, specs, self.seconds, sample_rate)


# ---------------------------------------------------------------------------------------------- folder entries
FOLDER_ENTRY = "folder="  # a sample set entry ``folder=FOLDER``: the user's recordings beside the sample sets


def recordings_folder(entry: str) -> str | None:
    """The folder of a sample set entry ``folder=FOLDER``, or None for any other entry."""
    return entry[len(FOLDER_ENTRY):] if entry.lower().startswith(FOLDER_ENTRY) else None


WEBAUDIOFONT_ENTRY = "webaudiofont:"  # a sample set entry ``webaudiofont:BANK=FOLDER``: a WebAudioFont bank
_WEBAUDIOFONT = re.compile(r"^webaudiofont:(?P<bank>[^=/]*)=(?P<folder>.*)$", re.I)


def webaudiofont_entry(entry: str) -> tuple[str, str] | None:
    """The bank and folder of a sample set entry ``webaudiofont:BANK=FOLDER`` (``webaudiofont:Aspirin=~/sound``),
    or None for any other entry."""
    m = _WEBAUDIOFONT.match(entry)
    return (m["bank"], m["folder"]) if m else None


def entry_folder(entry: str) -> str | None:
    """The folder a sample set entry reads (``philharmonia=FOLDER``, ``folder=FOLDER`` or
    ``webaudiofont:BANK=FOLDER``); None for a sample set's name or SoundFont file."""
    if (bank := webaudiofont_entry(entry)) is not None:
        return bank[1]
    folder = philharmonia_folder(entry)
    return folder if folder is not None else recordings_folder(entry)


def folder_entry_source(entry: str, instruments: tuple[str, ...] | None = None
                        ) -> PhilharmoniaSource | FolderSource | None:
    """The source of a sample set entry that names a folder, reading only ``instruments`` when given; None for
    any other entry. A ``folder=FOLDER`` gives every note a pitch (``pitched``: from its name, or heard in it)."""
    if (folder := philharmonia_folder(entry)) is not None:
        return PhilharmoniaSource(os.path.expanduser(folder), instruments=instruments)  # ~ is not a shell's here
    if (folder := recordings_folder(entry)) is not None:
        return FolderSource(os.path.expanduser(folder), instruments=instruments, pitched=True)
    return None


def entry_name(entry: str) -> str:
    """The source name an entry's notes carry (what ``cross_test`` names): ``Philharmonia``, a recordings folder's
    own name, a WebAudioFont bank's name, or else the entry itself."""
    if (bank := webaudiofont_entry(entry)) is not None:
        return bank[0]
    source = folder_entry_source(entry)
    return source.name if source is not None else entry


def from_onset(audio: np.ndarray, n: int, sample_rate: int) -> np.ndarray:
    """``n`` samples from 10 ms before the first sample within 40 dB of the peak, zero-padded."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    start = 0
    if peak > 0:
        start = max(0, int(np.argmax(np.abs(audio) >= peak * 0.01)) - sample_rate // 100)
    clip = audio[start:start + n]
    if clip.size < n:
        clip = np.concatenate([clip, np.zeros(n - clip.size, np.float32)])
    return clip
