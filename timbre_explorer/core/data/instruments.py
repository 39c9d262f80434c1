"""The instruments Timbre Explorer knows: names, families, General MIDI programs, playing ranges.

The twelve *perceptual* instruments are the ones rated in the five timbre
studies (``resources/perceptual/``); their names here are exactly the names of
the rating matrix, so dataset labels and regularization targets meet. The
*novel* instruments never enter training: the evaluation encodes them to see
where an unseen instrument lands (the paper's piccolo experiment, widened).

Playing ranges are sounding pitches (MIDI note numbers) of the standard
orchestral ranges (e.g. Adler, *The Study of Orchestration*, 4th ed. 2016),
trimmed where FluidR3_GM has no samples (violin above A6, contrabass above A3).

**Every pitched General MIDI program** (:data:`GENERAL_MIDI`, program order) extends the table for datasets that
render all of them (``TrainConfig.programs = "general-midi"``): 110 programs, those of 0-111 and 112-119 that the
sample sets play at the pitch asked (below). Names are the General MIDI 1 sound set's, in CamelCase without spaces
or brackets (``Electric Guitar (jazz)`` is ``JazzGuitar``, ``Pad 2 (warm)`` is ``Pad2Warm``); the 18 instruments
above keep their names at their programs (``Acoustic Grand Piano`` is ``Piano``, ``Alto Sax`` is ``Saxophone``).

Families (:data:`FAMILIES`) follow General MIDI's groups of eight, with our names: Piano is ``keyboard``,
Chromatic Percussion ``mallets``, Organ ``organ``, Guitar ``guitar``, Bass ``bass``, Strings ``strings``, Ensemble
``ensemble``, Brass ``brass``, Reed and Pipe both ``woodwind`` (the 18's family), Synth Lead, Synth Pad and Synth
Effects ``synth lead``, ``synth pad``, ``synth effects``, Ethnic ``ethnic`` and Percussive ``percussive``.

Ranges: first the sounding range of the instrument a program names: Adler (above) for the orchestral,
keyboard-percussion and harp programs, the saxophones, recorder and tin whistle; for the rest the standard
instrument (an 88-key piano A0-C8, a 73-key electric piano E1-E7, a harpsichord and clavinet F1-F6 or E6, a
61-key organ manual C2-C7, guitars in standard tuning E2 to their 19th or 22nd fret, a four-string bass E1-G4, a
17-key kalimba C4-E6, the Highland bagpipe's chanter G4-A5); the synthesizer programs name no instrument, so a
61-key keyboard C2-C7; all within the pitch tracker's A0-C8. Then trimmed by rendering
(``benchmarks/program_ranges.py``, run once on 5,444 notes): each program at every fourth semitone of that range,
mf, from FluidR3_GM, MuseScore_General, TimGM6mb and sf_GMbank, its pitch estimated
(:func:`~timbre_explorer.core.signal.pitch.estimate_pitch`); a checked pitch passes when at least three of the four
play it within half a semitone of the pitch asked or of a whole number of octaves from it, and a range is the
longest run of passing pitches. 64 programs kept their range, 28 were trimmed (the pianos' lowest and highest
notes, celesta below C5, xylophone above C#6, muted guitar above C5, the organs' lowest, whose period pYIN puts
below A0...). The drawbar, percussive, rock and church organs, Lead 7 (fifths) and FX 2 (soundtrack) pass an
octave or two off only: their stacked stops repeat below the pitch a listener hears; Guitar Harmonics sounds two
octaves up, as a guitar's harmonic does. Not pitched at the asked pitch in these sets, so left out: Timpani,
Orchestra Hit, FX 3 (crystal) (:data:`UNPITCHED`) and of 112-119 all but Steel Drums (tinkle bell, agogo,
woodblock, taiko, melodic tom, synth drum, reverse cymbal). The 18 instruments keep their ranges.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    name: str
    family: str
    program: int  # General MIDI program, 0-based
    low: int  # lowest MIDI pitch rendered
    high: int  # highest MIDI pitch rendered (inclusive)
    novel: bool = False  # held out of training
    step: int = 1  # semitones between two rendered pitches (a dataset's grid, not the instrument's)
    dynamics: tuple[str, ...] = ()  # the dynamics rendered (names of DYNAMICS); (): every one the source renders

    @property
    def pitches(self) -> range:
        return range(self.low, self.high + 1, self.step)


INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("Clarinet", "woodwind", 71, 50, 91),
    Instrument("Saxophone", "woodwind", 65, 49, 81),  # alto: the studies' saxophone
    Instrument("Trumpet", "brass", 56, 52, 82),
    Instrument("Cello", "strings", 42, 36, 76),
    Instrument("FrenchHorn", "brass", 60, 41, 77),
    Instrument("Oboe", "woodwind", 68, 58, 91),
    Instrument("Flute", "woodwind", 73, 60, 96),
    Instrument("EnglishHorn", "woodwind", 69, 52, 81),
    Instrument("Bassoon", "woodwind", 70, 34, 75),
    Instrument("Trombone", "brass", 57, 40, 72),
    Instrument("Piano", "keyboard", 0, 21, 108),
    Instrument("Violin", "strings", 40, 55, 93),
    Instrument("Piccolo", "woodwind", 72, 74, 105, novel=True),
    Instrument("Viola", "strings", 41, 48, 88, novel=True),
    Instrument("Contrabass", "strings", 43, 28, 57, novel=True),
    Instrument("Tuba", "brass", 58, 28, 65, novel=True),
    Instrument("SopranoSax", "woodwind", 64, 56, 88, novel=True),
    Instrument("MutedTrumpet", "brass", 59, 52, 82, novel=True),
)

#: The families, in General MIDI's order of its groups (see the module docstring).
FAMILIES = ("keyboard", "mallets", "organ", "guitar", "bass", "strings", "ensemble", "brass", "woodwind",
            "synth lead", "synth pad", "synth effects", "ethnic", "percussive")
_ORCHESTRAL = {i.program: i for i in INSTRUMENTS}
#: The programs of General MIDI's Percussive group (112-119) that the rendered check finds pitched.
PITCHED_PERCUSSIVE = (114,)
#: Programs of 0-111 that no sample set plays at the asked pitch (module docstring): not in :data:`GENERAL_MIDI`.
UNPITCHED = {47: "Timpani", 55: "OrchestraHit", 98: "FX3Crystal"}


def _programs(*rows: tuple[int, str, str, int, int]) -> tuple[Instrument, ...]:
    """The table below as instruments; the 18 orchestral ones exactly as :data:`INSTRUMENTS` holds them."""
    return tuple(_ORCHESTRAL.get(program) or Instrument(name, family, program, low, high)
                 for program, name, family, low, high in rows)


#: Every pitched General MIDI program (0-based), in program order: name, family, sounding range (module docstring).
GENERAL_MIDI: tuple[Instrument, ...] = _programs(
    (0, "Piano", "keyboard", 21, 108), (1, "BrightPiano", "keyboard", 37, 105),
    (2, "ElectricGrandPiano", "keyboard", 33, 108), (3, "HonkyTonkPiano", "keyboard", 41, 105),
    (4, "ElectricPiano1", "keyboard", 28, 100), (5, "ElectricPiano2", "keyboard", 28, 100),
    (6, "Harpsichord", "keyboard", 37, 89), (7, "Clavi", "keyboard", 29, 88),
    (8, "Celesta", "mallets", 72, 104), (9, "Glockenspiel", "mallets", 91, 107),
    (10, "MusicBox", "mallets", 60, 96), (11, "Vibraphone", "mallets", 53, 89),
    (12, "Marimba", "mallets", 45, 96), (13, "Xylophone", "mallets", 65, 85),
    (14, "TubularBells", "mallets", 60, 77), (15, "Dulcimer", "mallets", 50, 88),
    (16, "DrawbarOrgan", "organ", 52, 96), (17, "PercussiveOrgan", "organ", 40, 96),
    (18, "RockOrgan", "organ", 40, 96), (19, "ChurchOrgan", "organ", 40, 96),
    (20, "ReedOrgan", "organ", 36, 96), (21, "Accordion", "organ", 53, 93),
    (22, "Harmonica", "organ", 60, 96), (23, "TangoAccordion", "organ", 53, 93),
    (24, "NylonGuitar", "guitar", 40, 83), (25, "SteelGuitar", "guitar", 40, 83),
    (26, "JazzGuitar", "guitar", 40, 86), (27, "CleanGuitar", "guitar", 40, 86),
    (28, "MutedGuitar", "guitar", 40, 72), (29, "OverdrivenGuitar", "guitar", 40, 86),
    (30, "DistortionGuitar", "guitar", 40, 86), (31, "GuitarHarmonics", "guitar", 52, 80),
    (32, "AcousticBass", "bass", 28, 67), (33, "FingerBass", "bass", 28, 67),
    (34, "PickBass", "bass", 28, 67), (35, "FretlessBass", "bass", 28, 67),
    (36, "SlapBass1", "bass", 32, 67), (37, "SlapBass2", "bass", 32, 67),
    (38, "SynthBass1", "bass", 28, 72), (39, "SynthBass2", "bass", 28, 72),
    (40, "Violin", "strings", 55, 93), (41, "Viola", "strings", 48, 88),
    (42, "Cello", "strings", 36, 76), (43, "Contrabass", "strings", 28, 57),
    (44, "TremoloStrings", "strings", 32, 96), (45, "PizzicatoStrings", "strings", 28, 84),
    (46, "OrchestralHarp", "strings", 28, 103),
    (48, "StringEnsemble1", "ensemble", 32, 96), (49, "StringEnsemble2", "ensemble", 32, 96),
    (50, "SynthStrings1", "ensemble", 36, 96), (51, "SynthStrings2", "ensemble", 36, 96),
    (52, "ChoirAahs", "ensemble", 48, 84), (53, "VoiceOohs", "ensemble", 40, 84),
    (54, "SynthVoice", "ensemble", 40, 84),
    (56, "Trumpet", "brass", 52, 82), (57, "Trombone", "brass", 40, 72),
    (58, "Tuba", "brass", 28, 65), (59, "MutedTrumpet", "brass", 52, 82),
    (60, "FrenchHorn", "brass", 41, 77), (61, "BrassSection", "brass", 40, 82),
    (62, "SynthBrass1", "brass", 36, 96), (63, "SynthBrass2", "brass", 36, 96),
    (64, "SopranoSax", "woodwind", 56, 88), (65, "Saxophone", "woodwind", 49, 81),
    (66, "TenorSax", "woodwind", 44, 75), (67, "BaritoneSax", "woodwind", 37, 68),
    (68, "Oboe", "woodwind", 58, 91), (69, "EnglishHorn", "woodwind", 52, 81),
    (70, "Bassoon", "woodwind", 34, 75), (71, "Clarinet", "woodwind", 50, 91),
    (72, "Piccolo", "woodwind", 74, 105), (73, "Flute", "woodwind", 60, 96),
    (74, "Recorder", "woodwind", 65, 98), (75, "PanFlute", "woodwind", 60, 96),
    (76, "BlownBottle", "woodwind", 48, 84), (77, "Shakuhachi", "woodwind", 62, 86),
    (78, "Whistle", "woodwind", 74, 98), (79, "Ocarina", "woodwind", 69, 89),
    (80, "Lead1Square", "synth lead", 36, 96), (81, "Lead2Sawtooth", "synth lead", 36, 96),
    (82, "Lead3Calliope", "synth lead", 36, 96), (83, "Lead4Chiff", "synth lead", 36, 96),
    (84, "Lead5Charang", "synth lead", 36, 96), (85, "Lead6Voice", "synth lead", 36, 96),
    (86, "Lead7Fifths", "synth lead", 64, 96), (87, "Lead8BassLead", "synth lead", 36, 96),
    (88, "Pad1NewAge", "synth pad", 36, 96), (89, "Pad2Warm", "synth pad", 36, 96),
    (90, "Pad3Polysynth", "synth pad", 36, 96), (91, "Pad4Choir", "synth pad", 36, 96),
    (92, "Pad5Bowed", "synth pad", 36, 96), (93, "Pad6Metallic", "synth pad", 36, 96),
    (94, "Pad7Halo", "synth pad", 36, 96), (95, "Pad8Sweep", "synth pad", 36, 96),
    (96, "FX1Rain", "synth effects", 36, 96), (97, "FX2Soundtrack", "synth effects", 48, 96),
    (99, "FX4Atmosphere", "synth effects", 36, 96),
    (100, "FX5Brightness", "synth effects", 36, 96), (101, "FX6Goblins", "synth effects", 44, 88),
    (102, "FX7Echoes", "synth effects", 40, 96), (103, "FX8SciFi", "synth effects", 36, 96),
    (104, "Sitar", "ethnic", 48, 84), (105, "Banjo", "ethnic", 48, 86),
    (106, "Shamisen", "ethnic", 48, 84), (107, "Koto", "ethnic", 48, 84),
    (108, "Kalimba", "ethnic", 60, 88), (109, "Bagpipe", "ethnic", 67, 81),
    (110, "Fiddle", "ethnic", 55, 93), (111, "Shanai", "ethnic", 60, 84),
    (114, "SteelDrums", "percussive", 48, 80),
)
BY_NAME = {i.name: i for i in GENERAL_MIDI + INSTRUMENTS}
#: The orchestral instruments above, named here so the set stays these eighteen as the table grows: the candidates of
#: the cross-source nearest-instrument share, whose figures stay comparable across models.
ORCHESTRAL = frozenset({"Clarinet", "Saxophone", "Trumpet", "Cello", "FrenchHorn", "Oboe", "Flute", "EnglishHorn",
                        "Bassoon", "Trombone", "Piano", "Violin", "Piccolo", "Viola", "Contrabass", "Tuba", "SopranoSax",
                        "MutedTrumpet"})

#: MIDI velocities of the rendered dynamics (the MIDI 1.0 spec's customary mapping, pp 33 ... ff 112,
#: widened to the full range so the SoundFont's velocity layers are all reached).
DYNAMICS: dict[str, int] = {"pp": 24, "p": 48, "mf": 80, "f": 104, "ff": 127}

#: Studio-On-Line instrument abbreviations (IRCAM's file naming) and common spellings.
ALIASES: dict[str, str] = {
    "fl": "Flute", "flute": "Flute", "ob": "Oboe", "oboe": "Oboe",
    "cl": "Clarinet", "clbb": "Clarinet", "bbcl": "Clarinet", "clarinet": "Clarinet",
    "bn": "Bassoon", "bsn": "Bassoon", "bassoon": "Bassoon",
    "eh": "EnglishHorn", "ehn": "EnglishHorn", "englishhorn": "EnglishHorn", "cora": "EnglishHorn",
    "asax": "Saxophone", "sax": "Saxophone", "altosax": "Saxophone", "saxophone": "Saxophone",
    "hn": "FrenchHorn", "horn": "FrenchHorn", "frenchhorn": "FrenchHorn",
    "tp": "Trumpet", "tpc": "Trumpet", "trumpet": "Trumpet", "trumpetc": "Trumpet",
    "tbn": "Trombone", "trombone": "Trombone",
    "vc": "Cello", "vlc": "Cello", "cello": "Cello", "violoncello": "Cello",
    "vn": "Violin", "vln": "Violin", "violin": "Violin",
    "pno": "Piano", "pn": "Piano", "piano": "Piano",
    "picc": "Piccolo", "pic": "Piccolo", "piccolo": "Piccolo",
    "va": "Viola", "vla": "Viola", "viola": "Viola",
    "cb": "Contrabass", "contrabass": "Contrabass", "doublebass": "Contrabass",
    "btb": "Tuba", "tba": "Tuba", "tuba": "Tuba",
    "ssax": "SopranoSax", "sopranosax": "SopranoSax", "mutedtrumpet": "MutedTrumpet",
    # the General MIDI 1 names that squash to another name than ours (the others squash to ours)
    "acousticgrandpiano": "Piano", "grandpiano": "Piano", "brightacousticpiano": "BrightPiano",
    "acousticguitarnylon": "NylonGuitar", "classicalguitar": "NylonGuitar", "acousticguitarsteel": "SteelGuitar",
    "electricguitarjazz": "JazzGuitar", "electricguitarclean": "CleanGuitar", "electricguitarmuted": "MutedGuitar",
    "electricbassfinger": "FingerBass", "electricbasspick": "PickBass", "coranglais": "EnglishHorn",
    # the orchestra's names in Italian, German and French, as scores and sample libraries write them
    "flauto": "Flute", "flote": "Flute", "querflote": "Flute", "ottavino": "Piccolo", "oboi": "Oboe",
    "hautbois": "Oboe", "cornoinglese": "EnglishHorn", "englischhorn": "EnglishHorn", "clarinetto": "Clarinet",
    "klarinette": "Clarinet", "clarinette": "Clarinet", "fagotto": "Bassoon", "fagott": "Bassoon",
    "basson": "Bassoon", "saxofono": "Saxophone", "saxophon": "Saxophone", "corno": "FrenchHorn",
    "waldhorn": "FrenchHorn", "cor": "FrenchHorn", "tromba": "Trumpet", "trompete": "Trumpet",
    "trompette": "Trumpet", "posaune": "Trombone", "violino": "Violin", "violine": "Violin", "geige": "Violin",
    "violon": "Violin", "bratsche": "Viola", "violoncelle": "Cello", "contrabbasso": "Contrabass",
    "kontrabass": "Contrabass", "contrebasse": "Contrabass", "pianoforte": "Piano", "klavier": "Piano",
    "celli": "Cello",
    # tonejs-instruments' folder names (instrument first, then its kind)
    "guitaracoustic": "SteelGuitar", "guitarnylon": "NylonGuitar", "guitarelectric": "CleanGuitar",
    "basselectric": "FingerBass", "harp": "OrchestralHarp", "harmonium": "ReedOrgan",
}


_SQUASHED = {name.lower(): name for name in BY_NAME}  # 'nylonguitar': 'NylonGuitar'


_KEY = re.compile(r"^[a-g](b|#|flat|sharp)?$")  # a transposing instrument's key: 'Bb', 'F', 'Eb'
_LEFT_OUT = {"in", "solo"}  # 'horn in F', 'solo violin'


def canonical_name(label: str) -> str:
    """Map a label to a known instrument name when it is one ('french horn', 'Hn' → 'FrenchHorn', 'nylon guitar'
    → 'NylonGuitar'), as the folders of a user's recordings name them: General MIDI's names ('Acoustic Guitar
    (nylon)'), plurals ('Violins'), a transposing instrument's key ('Clarinet in Bb', 'Bb Trumpet'), saxophones
    spelt out ('Tenor Saxophone'), accents ('Flöte') and the orchestra's Italian, German and French names.

    Unknown labels come back as they are (stripped), so users can bring their own instruments.

    >>> canonical_name("french_horn"), canonical_name("ClBb"), canonical_name("Theremin")
    ('FrenchHorn', 'Clarinet', 'Theremin')
    >>> canonical_name("Clarinet in Bb"), canonical_name("Violins"), canonical_name("Alto Saxophone")
    ('Clarinet', 'Violin', 'Saxophone')
    """
    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+#?", plain)
    kept = [w for w in words if not (_KEY.match(w) or w in _LEFT_OUT)] or words  # the key and the filler left out
    unnumbered = [w for w in kept if not w.isdigit()] or kept  # 'Flute 2', a part's number
    for key in ("".join(words), "".join(kept), "".join(unnumbered)):
        key = key.replace("#", "").replace("saxophone", "sax")
        for candidate in (key, key.removesuffix("s"), key.removesuffix("es")):  # 'Violins', 'Basses'
            if found := ALIASES.get(candidate) or _SQUASHED.get(candidate):
                return found
    return label.strip()


def family_of(name: str) -> str:
    """The family of a known instrument, or ``"other"``."""
    inst = BY_NAME.get(name)
    return inst.family if inst else "other"


_PITCH = re.compile(r"^([A-Ga-g])([#bs]?)(-?\d)$")
_STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


def parse_pitch(text: str) -> int | None:
    """A note name ('C4', 'F#3', 'Bb5'; 'Fs3' as sample libraries spell a sharp in file names) as a MIDI number
    (C4 = 60), or None.

    >>> parse_pitch("C4"), parse_pitch("F#3"), parse_pitch("Bb5"), parse_pitch("As3"), parse_pitch("ord")
    (60, 54, 82, 58, None)
    """
    m = _PITCH.match(text)
    if not m:
        return None
    step, accidental, octave = m.groups()
    return 12 * (int(octave) + 1) + _STEPS[step.lower()] + {"#": 1, "s": 1, "b": -1, "": 0}[accidental]


_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def pitch_name(midi: int) -> str:
    """A MIDI number as a note name (60 -> 'C4'), the inverse of :func:`parse_pitch` for these spellings.

    >>> pitch_name(60), pitch_name(70), parse_pitch(pitch_name(70))
    ('C4', 'Bb4', 70)
    """
    return f"{_NAMES[midi % 12]}{midi // 12 - 1}"


def velocity_dynamic(velocity: int) -> str:
    """The nearest of :data:`DYNAMICS` to a MIDI velocity."""
    return min(DYNAMICS, key=lambda d: abs(DYNAMICS[d] - velocity))
