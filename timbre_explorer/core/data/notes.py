"""The note table: one typed row per note, shared by a dataset and a model's map.

A dataset's ``notes.csv`` (:class:`~timbre_explorer.core.data.dataset.DatasetNotes`) and a model file's map
(:class:`~timbre_explorer.core.synthesis.space.Notes`) describe the same notes; both are a :class:`NoteTable`
with their own extra columns, so a note's instrument, pitch, dynamic, split and source read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True, eq=False)
class NoteTable:
    """Notes, one row each: the columns a dataset and a model's map share, as attributes.

    The categorical columns are codes (int64 indices into their name tuples; -1: unknown), not names: the map's
    are model-file tensors of codes into the card's name lists, and the Explorer filters, colours and counts by
    code. A dataset's table reads names from its CSV and codes them (:func:`encode`); training, evaluation and
    reports, which want names, read each row's from :attr:`instrument_name` and its kin. Not compared by value
    (``eq=False``): the columns are arrays.
    """

    instrument: np.ndarray  # [N] index into instruments
    pitch: np.ndarray  # [N] MIDI note number, -1 unknown
    dynamic: np.ndarray  # [N] index into dynamics, -1 unknown
    split: np.ndarray  # [N] index into splits
    source: np.ndarray  # [N] index into sources (the sample set each note came from)
    instruments: tuple[str, ...]
    dynamics: tuple[str, ...]
    splits: tuple[str, ...]
    sources: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.pitch)

    @cached_property
    def instrument_name(self) -> np.ndarray:
        """Each note's instrument name (an object array, as the labels of classifiers and counts want)."""
        return names_of(self.instrument, self.instruments)

    @cached_property
    def dynamic_name(self) -> np.ndarray:
        """Each note's dynamic name, '' where unknown."""
        return names_of(self.dynamic, self.dynamics)

    @cached_property
    def split_name(self) -> np.ndarray:
        """Each note's split name."""
        return names_of(self.split, self.splits)

    @cached_property
    def source_name(self) -> np.ndarray:
        """Each note's source (sample set) short name."""
        return names_of(self.source, self.sources)


def encode(values: Iterable[str], names: Iterable[str] = ()) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each value's code (its index in ``names``), and the names, extended by the values not among them in order
    of first appearance."""
    index = {name: i for i, name in enumerate(names)}
    codes = np.array([index.setdefault(v, len(index)) for v in values], np.int64)
    return codes, tuple(index)


def names_of(codes: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The name of each code (an object array), '' for -1 (unknown)."""
    return np.array([*names, ""], dtype=object)[codes]
