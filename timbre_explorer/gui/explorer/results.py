"""What the Explorer's worker jobs answer: one dataclass per kind of answer, each with its own handler in the tab.

Failures are :class:`~timbre_explorer.gui.workers.Failed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.analysis import Encoded
    from timbre_explorer.core.synthesis.fields import Field
    from timbre_explorer.core.synthesis.gestures import PointNote
    from timbre_explorer.core.synthesis.pathfile import PathSpec
    from timbre_explorer.core.synthesis.playable import PlayableNote
    from timbre_explorer.core.synthesis.reach import Reached
    from timbre_explorer.core.synthesis.space import Projection, TimbreSpace


@dataclass
class Sound:
    """What was last rendered: the audio, what it is, and (for paths) the path that made it."""

    audio: np.ndarray
    sample_rate: int
    title: str
    path_spec: PathSpec | None = None
    z: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Prepared:
    """What the first map of ``space`` does without, computed once it is drawn (``preparing.prepare``): each descriptor
    slider's span (the 1st to 99th percentile of the map's notes as decoded) and the "Instruments apart" axes."""

    space: TimbreSpace
    ranges: dict[str, tuple[float, float]]
    discriminant: Projection


@dataclass(frozen=True, eq=False)
class NamePoint:
    """The point a click on an instrument's name plays at a pitch and dynamic (``key``: name, pitch, dynamic)."""

    key: tuple[str, float, str]
    z: np.ndarray


@dataclass(frozen=True, eq=False)
class MappedPoint:
    """The latent point under a map position, found off the GUI thread while the map's mapping was still built."""

    z: np.ndarray


@dataclass(frozen=True)
class NoteSound:
    """A held note (or, ``loop``, a scrubbing loop) of one point: its sound, decoded frame and descriptors."""

    sound: Sound
    frame: np.ndarray  # [bins] magnitudes
    descriptors: dict[str, float]
    loop: bool = False
    #: The note a click played (None while scrubbing): its playable note is the keys' centre note, not made twice.
    note: PointNote | None = None
    keys_title: str = ""  # what the keys play, once they play this point


@dataclass(frozen=True)
class PathSound:
    """A rendered path, morph or descriptor curve (``sound.path_spec`` says which), with its decoded frames."""

    sound: Sound
    magnitudes: np.ndarray  # [steps, bins]


@dataclass(frozen=True)
class Moved:
    """A descriptor slider's move: where the point got to, its note, and its frame after and before."""

    reached: Reached
    sound: Sound
    frame: np.ndarray
    before: np.ndarray


@dataclass(frozen=True)
class EncodedSounds:
    """The user's files placed on the map, and ``(path, reason)`` for each that could not be."""

    encoded: list[Encoded]
    problems: list[tuple[str, str]]


@dataclass(frozen=True)
class PlayableNotes:
    """The notes the keys play for a point (those made so far, one every 2 semitones), and what the point is."""

    notes: list[PlayableNote]
    title: str
    velocity: int = 127  # the key velocity the notes' level was made for (the Play tab's, at the click)


@dataclass(frozen=True)
class Exported:
    """A rendered path written as WAV, with its JSON sidecar."""

    wav: Path
    sidecar: Path


@dataclass(frozen=True, eq=False)
class FieldShown:
    """A descriptor field to show (each coarser one on the way too), with its contour lines traced in the worker:
    one list of polylines ``[points, 2]`` per level (:func:`~timbre_explorer.core.synthesis.fields.contour_lines`)."""

    field: Field
    name: str
    contours: list[list[np.ndarray]]
