"""What a model card says it was trained on, pointed at samples that may have moved, and only where it may point.

``evaluate`` and the cross-source evaluation read a model's training settings from its card; the samples may
have moved (``--folder``, ``--soundfont``, ``--sources``, ``--ratings`` point at them) and a card received from
someone else may name any path. Here, not in :mod:`~timbre_explorer.core.training.tasks`, so the cross-source
evaluation can read a card without importing the worker's tasks (an import cycle).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.training.config import TrainConfig, soundfont_sources

if TYPE_CHECKING:
    from timbre_explorer.core.data.dataset import NoteDataset
    from timbre_explorer.core.model.modelfile import ModelFile


#: A sample folder holds about a file per note; more than this many per note (plus the spare: notes, metadata,
#: unreadable files) and it is not the model's folder. Without a note count, a folder of more files is refused.
FOLDER_FILES_PER_NOTE, FOLDER_SPARE_FILES, MAX_FOLDER_FILES = 2, 100, 100_000


def training_config(path: str | os.PathLike, mf: ModelFile, *, folder: str | os.PathLike | None = None,
                    soundfont: str | os.PathLike | None = None, sources: tuple[str, ...] | None = None,
                    ratings: str | os.PathLike | None = None, own_run: bool = False) -> TrainConfig:
    """The settings a model was trained with, pointed at its samples: ``folder`` or ``soundfont`` when given
    (the samples moved, or the card does not say), else the card's own; ``sources`` and ``ratings`` likewise.

    A card from elsewhere can name any path: a folder (``/etc``, walked by a build), a SoundFont or a TiMidity++
    configuration (``.cfg``, read by TiMidity++), ratings. So the paths a card names are used only inside the
    model's own folder (:func:`card_paths_inside`), unless ``own_run`` (a run this user trained); and a sample
    folder only when it holds the model's samples (:func:`check_sample_folder`).
    """
    training = mf.meta.get("training")
    if training is None and folder is None and soundfont is None and not sources:
        raise ParameterError(f"{path}: the model card does not say what it was trained on; give --folder or "
                             "--soundfont")
    try:
        cfg = TrainConfig.from_dict(training) if training is not None else TrainConfig(preset=mf.meta["preset"])
    except (ParameterError, KeyError, TypeError) as exc:
        raise ParameterError(f"{path}: the model card's training settings are unusable ({exc})") from None
    if folder is not None:
        cfg = dataclasses.replace(cfg, source="folder", folder=str(folder))
    elif soundfont is not None:
        cfg = dataclasses.replace(cfg, source="soundfont", soundfont=str(soundfont))
    if sources:
        cfg = dataclasses.replace(cfg, source="soundfont", sources=tuple(sources))
    if ratings is not None:
        cfg = dataclasses.replace(cfg, ratings=str(ratings))
    if not own_run:
        cfg = card_paths_inside(path, cfg, given={"folder": folder, "soundfont": soundfont, "sources": sources,
                                                  "ratings": ratings})
    if cfg.source == "folder":
        check_sample_folder(path, mf, cfg.folder)  # type: ignore[arg-type]  # post_init: set
    return cfg


#: How the user names each path a card may name, on evaluate's command line.
CARD_PATH_OPTIONS = {"folder": "--folder DIR", "soundfont": "--soundfont FILE", "ratings": "--ratings FILE",
                     "sources": "--sources NAME_OR_FILE ..."}


def card_paths_inside(path: str | os.PathLike, cfg: TrainConfig, *, given: Mapping[str, object]) -> TrainConfig:
    """``cfg`` with the paths its card names (folder, soundfont, sources' files and folders, ratings) inside the
    model file's folder, a relative one taken from there; a path the user gave (``given``) is theirs and kept.

    A card can come from anyone: a path outside its run folder (``/etc``, a ``.cfg`` that TiMidity++ would read,
    followed through links) is refused in one sentence naming the setting and the option that passes it.
    """
    from timbre_explorer.core.data.sources import KNOWN_SOUNDFONTS, entry_folder

    run = Path(path).resolve().parent

    def inside(setting: str, value: str, named: str | None = None) -> str:
        where = Path(value).expanduser()
        if not (where if where.is_absolute() else run / where).resolve().is_relative_to(run):
            raise ParameterError(f"{path}: the model card's {setting} names {named or value}, outside the model's folder "
                                 f"{run}; give it on the command line ({CARD_PATH_OPTIONS[setting]}) if you "
                                 "trust it")
        return value if where.is_absolute() else str(run / where)

    changes: dict[str, Any] = {}
    if cfg.source == "folder" and cfg.folder and given.get("folder") is None:
        changes["folder"] = inside("folder", cfg.folder)
    if cfg.source == "soundfont":
        if cfg.soundfont and cfg.soundfont not in KNOWN_SOUNDFONTS and given.get("soundfont") is None:
            changes["soundfont"] = inside("soundfont", cfg.soundfont)
        entries = []
        for entry in cfg.sources if given.get("sources") is None else ():
            if (where := entry_folder(entry)) is not None:
                kind = entry[:len(entry) - len(where)]  # philharmonia= or folder=
                entry = kind + inside("sources", where, entry)
            elif entry not in KNOWN_SOUNDFONTS:
                entry = inside("sources", entry)
            entries.append(entry)
        changes["sources"] = tuple(entries) if given.get("sources") is None else cfg.sources
    if cfg.ratings is not None and given.get("ratings") is None:
        changes["ratings"] = inside("ratings", cfg.ratings)
    return dataclasses.replace(cfg, **changes)


def check_sample_folder(path: str | os.PathLike, mf: ModelFile, folder: str | os.PathLike) -> None:
    """Refuse a folder that cannot hold the model's samples before anything reads it: not a folder, far more
    files than the model has notes (counting stops there, so ``/`` costs no more than the sample folder), or
    none of the model's instruments among its labelled files. One sentence names the model and the folder."""
    from timbre_explorer.core.data.sources import scan_folder

    root = Path(folder).expanduser()
    where = f"{path}: the sample folder {root}"
    remedy = "give --folder with the samples it was trained on"
    if not root.is_dir():
        raise ParameterError(f"{where} is not a folder here; {remedy}")
    notes = _note_count(mf)
    limit = FOLDER_FILES_PER_NOTE * notes + FOLDER_SPARE_FILES if notes else MAX_FOLDER_FILES
    files = 0
    for _, _, names in os.walk(root):
        files += len(names)
        if files > limit:
            raise ParameterError(f"{where} holds more than {limit} files, far more than the model's "
                                 f"{notes or 'unknown number of'} notes; {remedy}")
    instruments = set(mf.meta.get("instruments") or ())
    if instruments and not instruments & {note.instrument for note in scan_folder(root).notes}:
        raise ParameterError(f"{where} holds none of the model's instruments ({', '.join(sorted(instruments))}); "
                             f"{remedy}")


def check_dataset(path: str | os.PathLike, mf: ModelFile, ds: NoteDataset) -> None:
    """Refuse samples that are not the ones the model trained on: its map holds a row per note of its dataset, in
    order, and another dataset's splits would count notes it trained on as test notes, every figure flattering it
    (the bundled model with the Philharmonia samples left out of ``--sources``: in-source ρ 0.899, on its own
    samples 0.866). One sentence names the model; a file without a map is not checked."""
    if "map.pitch" not in mf.arrays:
        return
    pitch = mf.arrays["map.pitch"]
    if len(ds) != len(pitch) or not (ds.notes.pitch == pitch).all():
        training = mf.meta.get("training")  # the caller's training_config has read it: it parses
        card = TrainConfig.from_dict(training) if training is not None else None
        named = () if card is None else (card.folder,) if card.source == "folder" else soundfont_sources(card)
        sets = ", ".join(str(n) for n in named) or "its card does not say"
        raise ParameterError(f"{path}: the samples found hold {len(ds)} notes, not the {len(pitch)} of the model's "
                             f"map: give the sample sets it was trained on ({sets})")


def _note_count(mf: ModelFile) -> int:
    """The notes of the model's dataset: its map's, else its card's (0: unknown)."""
    if "map.z" in mf.arrays:
        return int(mf.arrays["map.z"].shape[0])
    notes = (mf.meta.get("dataset") or {}).get("notes")
    return notes if isinstance(notes, int) else 0
