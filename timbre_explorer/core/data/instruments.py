"""The instruments Timbre Explorer knows: names, families, General MIDI programs, playing ranges.

The twelve *perceptual* instruments are the ones rated in the five timbre
studies (``resources/perceptual/``); their names here are exactly the names of
the rating matrix, so dataset labels and regularization targets meet. The
*novel* instruments never enter training: the evaluation encodes them to see
where an unseen instrument lands (the paper's piccolo experiment, widened).

Playing ranges are sounding pitches (MIDI note numbers) of the standard
orchestral ranges (e.g. Adler, *The Study of Orchestration*, 4th ed. 2016),
trimmed where FluidR3_GM has no samples (violin above A6, contrabass above A3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    name: str
    family: str
    program: int  # General MIDI program, 0-based
    low: int  # lowest MIDI pitch rendered
    high: int  # highest MIDI pitch rendered (inclusive)
    novel: bool = False  # held out of training

    @property
    def pitches(self) -> range:
        return range(self.low, self.high + 1)


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
BY_NAME = {i.name: i for i in INSTRUMENTS}
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
}


def canonical_name(label: str) -> str:
    """Map a label to a known instrument name when it is one ('french horn', 'Hn' → 'FrenchHorn').

    Unknown labels come back as they are (stripped), so users can bring their own instruments.

    >>> canonical_name("french_horn"), canonical_name("ClBb"), canonical_name("Theremin")
    ('FrenchHorn', 'Clarinet', 'Theremin')
    """
    key = re.sub(r"[^a-z0-9]", "", label.lower())
    return ALIASES.get(key, label.strip())


def family_of(name: str) -> str:
    """The family of a known instrument, or ``"other"``."""
    inst = BY_NAME.get(name)
    return inst.family if inst else "other"


_PITCH = re.compile(r"^([A-Ga-g])([#b]?)(-?\d)$")
_STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


def parse_pitch(text: str) -> int | None:
    """A note name ('C4', 'F#3', 'Bb5') as a MIDI number (C4 = 60), or None.

    >>> parse_pitch("C4"), parse_pitch("F#3"), parse_pitch("Bb5"), parse_pitch("ord")
    (60, 54, 82, None)
    """
    m = _PITCH.match(text)
    if not m:
        return None
    step, accidental, octave = m.groups()
    return 12 * (int(octave) + 1) + _STEPS[step.lower()] + {"#": 1, "b": -1, "": 0}[accidental]


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
