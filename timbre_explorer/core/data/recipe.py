"""What a dataset is made of, in plain values, and the dataset itself: built, or reused from the cache.

A training config says which dataset it trains on (``TrainConfig.dataset_recipe``); the recipe carries only the
values the build needs, so the data layer never imports training's config.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from timbre_explorer.core.data.dataset import NoteDataset, Progress, build_dataset
from timbre_explorer.core.data.instruments import Instrument
from timbre_explorer.core.data.sources import (
    FolderSource,
    PhilharmoniaSource,
    SoundFontSource,
    folder_entry_source,
)
from timbre_explorer.core.data.webaudiofont import WebAudioFontSource, rendered_source

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as ProcessEvent


@dataclass(frozen=True)
class DatasetRecipe:
    """The notes of a dataset and how they are analysed and split."""

    folder: str | None  # a sample folder; None: the sample sets below
    sample_sets: tuple[str, ...]  # SoundFont short names or files, philharmonia=, folder= and webaudiofont:BANK=
    instruments: tuple[Instrument, ...]  # what each SoundFont renders (each within its pitch range)
    folder_instruments: tuple[str, ...] | None  # the instruments read from the folders among them; None: all
    preset: str
    hold_out: tuple[str, ...] | None  # None: the source's default
    seed: int  # of the split


def dataset_for(recipe: DatasetRecipe, *, cache_root: str | os.PathLike | None = None, workers: int | None = None,
                progress: Progress | None = None, cancel: threading.Event | ProcessEvent | None = None,
                rebuild: bool = False) -> NoteDataset:
    """The dataset of a recipe: built, or reused from the cache."""
    if recipe.folder is not None:
        source: FolderSource | tuple[SoundFontSource | WebAudioFontSource | PhilharmoniaSource | FolderSource, ...] = \
            FolderSource(recipe.folder)
    else:
        source = tuple(folder_entry_source(name, recipe.folder_instruments) or rendered_source(name, recipe.instruments)
                       for name in recipe.sample_sets)
    return build_dataset(source, preset=recipe.preset, hold_out=recipe.hold_out, seed=recipe.seed,
                         cache_root=cache_root, workers=workers, rebuild=rebuild, progress=progress, cancel=cancel)
