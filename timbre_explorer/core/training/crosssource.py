"""Evaluation across sources: does a timbre space hold for a sample set it never trained on?

For the notes of a held-out source (rated instruments only), each note is placed by its whole sounding part
(:meth:`~timbre_explorer.core.data.dataset.NoteDataset.sounding_rows`): the mean of its frames' features. Three
placements are scored on the same notes:

``latent``
    the mean of the model's posterior means
    (:func:`~timbre_explorer.core.model.placement.note_positions`, the function that places a sound given to
    ``encode`` or dropped on the map);
``logspec``
    the stored log-magnitude NSGT frames (a baseline);
``mfcc``
    MFCCs (core/signal/mel.py) of the stored frames: their power, interpolated onto an FFT grid and mel-filtered (a baseline).

Each gets ``spearman_rho`` and ``pearson_r`` between its instrument-centroid distances and the pooled ratings'
dissimilarities (:func:`~timbre_explorer.core.training.evaluate.centroid_fit`, as in-source), and
``nearest_share``: how many held-out notes have their own instrument's centroid (over the training notes, placed
the same way) nearest. The candidate centroids are those of the orchestral instruments
(:data:`~timbre_explorer.core.data.instruments.ORCHESTRAL`) the model trained on, not every instrument a model
may know: a model that also trained on guitars or synth pads is scored against the same candidates, so the share
stays comparable across models.

The held-out source is a sample set's name (``freepats``), a SoundFont file, ``philharmonia=FOLDER``, the
Philharmonia Orchestra's samples (all lengths and dynamics of their rated instruments), or ``folder=FOLDER``, any
recordings labelled as a sample folder is (the notes of rated instruments whose names give their pitch).
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

import numpy as np

from timbre_explorer.core.data.dataset import CROSS_TEST, CROSS_VALID, NoteDataset, leave_source_out
from timbre_explorer.core.data.instruments import ORCHESTRAL
from timbre_explorer.core.data.perception import Dissimilarities
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.model.placement import note_positions
from timbre_explorer.core.model.vae import Normalization, TimbreVAE
from timbre_explorer.core.signal.nsgt import transform_for
from timbre_explorer.core.signal.scales import get_preset
from timbre_explorer.core.training.evaluate import centroid_fit

if TYPE_CHECKING:
    from timbre_explorer.core.training.config import TrainConfig

N_MFCC = 20
MFCC_FFT = 2048


class InstrumentShare(TypedDict):
    """One held-out instrument's notes under a placement: how many land nearest their own instrument, and where
    most of the others land (None: all are right)."""

    right: int
    notes: int
    instead: str | None


class PlacementScores(TypedDict):
    """One placement's figures (the module docstring), from :func:`placement_figures`."""

    spearman_rho: float | None  # None: fewer than 3 rated instruments held out
    pearson_r: float | None
    nearest_share: float
    notes: int
    instruments: list[str]  # the rated instruments among the held-out notes
    by_instrument: NotRequired[dict[str, InstrumentShare]]  # reports written before 2026-12-07 lack it


class CrossSourceReport(TypedDict):
    """One across-sources entry (:func:`evaluate_cross_source`; a run's ``report["cross_source"]`` and
    ``report["cross_valid"]``): the held-out source, then a placement's figures under its name."""

    source: str
    dynamics: list[str]  # pp to ff
    in_source_rho: float | None  # the model's in-source test ρ, where known
    latent: PlacementScores
    logspec: PlacementScores
    mfcc: PlacementScores
    unconditioned: NotRequired[PlacementScores]  # the paper's twin, when trained beside the model


@dataclass(frozen=True)
class NoteSet:
    """Some notes of a dataset."""

    ds: NoteDataset
    notes: np.ndarray

    @property
    def instruments(self) -> np.ndarray:
        return self.ds.notes.instrument_name[self.notes]

    @property
    def pitches(self) -> list[float]:
        """Each note's MIDI pitch (what a pitch-conditioned encoder reads)."""
        return [float(p) for p in self.ds.notes.pitch[self.notes]]


    def sounding_frames(self) -> list[np.ndarray]:
        """Each note's sounding log-magnitude frames ``[n_i, K]`` (float32)."""
        return [np.asarray(self.ds.log_magnitude[self.ds.sounding_rows(int(i))], np.float32) for i in self.notes]


def pooled(notes: list[np.ndarray], features: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Each note's mean feature vector ``[notes, d]`` over its frames (``features`` maps log frames)."""
    f = features(np.concatenate(notes))
    bounds = np.cumsum([0] + [len(n) for n in notes])
    return np.stack([f[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])])


def mfcc_features(ds: NoteDataset) -> Callable[[np.ndarray], np.ndarray]:
    """Log NSGT frames ``[n, K]`` → MFCCs ``[n, N_MFCC]`` at the dataset's transform."""
    from timbre_explorer.core.signal.mel import fft_frequencies, mel_filters, power_to_db
    from timbre_explorer.core.signal.mel import mfcc as mel_cepstrum

    preset = get_preset(ds.preset)
    sr = float(preset.sample_rate)
    freqs = transform_for(preset, round(ds.manifest["seconds"] * sr)).frequencies
    grid = fft_frequencies(sr, MFCC_FFT)
    to_grid = np.stack([np.interp(grid, freqs, e, left=0, right=0) for e in np.eye(len(freqs))], 1)  # [F, K]
    to_mel = mel_filters(sr, MFCC_FFT) @ to_grid  # [mels, K]

    def mfcc(log_frames: np.ndarray) -> np.ndarray:
        mel = to_mel @ np.exp(2.0 * log_frames.astype(np.float64)).T
        return mel_cepstrum(power_to_db(mel), N_MFCC).T

    return mfcc


def placement_figures(train: np.ndarray, train_labels: np.ndarray, held: np.ndarray, held_labels: np.ndarray,
                      ratings: Dissimilarities) -> PlacementScores:
    """ρ, r (held-out centroids against the ratings) and the nearest-centroid share of one placement; ρ and r are
    None with fewer than 3 rated instruments held out (fewer than 3 distances: a folder of one instrument)."""
    cent = {n: held[held_labels == n].mean(0) for n in ratings.instruments if np.any(held_labels == n)}
    fit = centroid_fit(cent, ratings.instruments, ratings.matrix) if len(cent) >= 3 else None
    names = list(dict.fromkeys(train_labels))
    known = np.stack([train[train_labels == n].mean(0) for n in names])
    nearest = np.array(names, dtype=object)[np.linalg.norm(held[:, None] - known[None], axis=-1).argmin(1)]
    return {"spearman_rho": fit["spearman_rho"] if fit else None, "pearson_r": fit["pearson_r"] if fit else None,
            "nearest_share": float(np.mean(nearest == held_labels)),
            "notes": int(len(held)), "instruments": [n for n in ratings.instruments if n in cent],
            "by_instrument": {n: _share(nearest[held_labels == n], n) for n in ratings.instruments if n in cent}}


def _share(nearest: np.ndarray, name: str) -> InstrumentShare:
    wrong = collections.Counter(str(n) for n in nearest if n != name)
    return {"right": int(np.sum(nearest == name)), "notes": len(nearest),
            "instead": wrong.most_common(1)[0][0] if wrong else None}


def cross_source(model: TimbreVAE, norm: Normalization, train: NoteSet, held: NoteSet,
                 ratings: Dissimilarities, *,
                 others: dict[str, tuple[TimbreVAE, Normalization]] | None = None) -> dict[str, PlacementScores]:
    """The figures of the module docstring for each placement: ``{placement: {spearman_rho, ...}}``.

    ``train`` are the notes the model trained on (their instruments' centroids are the nearest candidates);
    ``held`` the notes of a source it never heard, cut here to the rated instruments. ``others`` adds placements
    by more models (e.g. the unconditioned twin), under their names.
    """
    rated = np.isin(held.instruments, list(ratings.instruments))
    held = NoteSet(held.ds, held.notes[rated])
    if not len(held.notes):
        raise ParameterError("the held-out source has no notes of the rated instruments: nothing to place")
    train = NoteSet(train.ds, train.notes[np.isin(train.instruments, list(ORCHESTRAL))])
    if not len(train.notes):
        raise ParameterError("the model trained on none of the orchestral instruments: no centroid to be nearest to")
    mfcc = mfcc_features(held.ds)
    place: dict[str, Callable[[NoteSet, list[np.ndarray]], np.ndarray]] = {
        "latent": lambda s, notes: note_positions(model, norm, notes, pitches=s.pitches),
        "logspec": lambda s, notes: pooled(notes, lambda x: x),
        "mfcc": lambda s, notes: pooled(notes, mfcc)}
    for name, (other, other_norm) in (others or {}).items():
        place[name] = partial(_positions, other, other_norm)
    train_frames, held_frames = train.sounding_frames(), held.sounding_frames()
    return {name: placement_figures(f(train, train_frames), train.instruments, f(held, held_frames), held.instruments,
                                    ratings)
            for name, f in place.items()}


def kept_out_source(model_path: str | os.PathLike) -> str | None:
    """The sample set a model's training rendered but kept out (its ``cross_test``), or None."""
    from timbre_explorer.core.model.modelfile import load_model

    return (load_model(model_path).meta.get("training") or {}).get("cross_test")


def _positions(model: TimbreVAE, norm: Normalization, notes: NoteSet, frames: list[np.ndarray]) -> np.ndarray:
    return note_positions(model, norm, frames, pitches=notes.pitches)


def held_notes(cfg: TrainConfig, trained: NoteDataset, source: str, *, dynamics: tuple[str, ...] | None = None,
               cache_root: str | os.PathLike | None = None, workers: int | None = None) -> NoteSet:
    """The notes of a sample set a run never trained on (``source``: a short name, a SoundFont file,
    ``philharmonia=FOLDER`` or ``folder=FOLDER``): its rated instruments (over their ranges), at ``dynamics``
    (default all, with a folder's notes of unknown dynamic). A source the
    run rendered but kept out (``cross_test``, ``cross_valid``) is read from ``trained``, the run's dataset with its
    sources left out; any other is rendered or read (and cached) on its own."""
    from timbre_explorer.core.data.dataset import build_dataset
    from timbre_explorer.core.data.instruments import DYNAMICS
    from timbre_explorer.core.data.sources import folder_entry_source
    from timbre_explorer.core.data.webaudiofont import rendered_source
    from timbre_explorer.core.training.config import RATED, soundfont_instruments

    _check_dynamics(dynamics)
    wanted = [d for d in DYNAMICS if not dynamics or d in dynamics] + ([] if dynamics else [""])  # '': unknown
    rated = tuple(i for i in soundfont_instruments(cfg) if i.name in RATED)
    held_source = (folder_entry_source(source, tuple(i.name for i in rated))
                   or rendered_source(source, rated, tuple((d, DYNAMICS[d]) for d in wanted if d)))
    kept_out = {cfg.cross_test: CROSS_TEST, cfg.cross_valid: CROSS_VALID}
    if held_source.name in kept_out:  # rendered with the training set, kept out of training
        ds, notes = trained, trained.where(kept_out[held_source.name])
    elif held_source.name in trained.sources:
        raise ParameterError(f"{held_source.name}: the model trained on this source; name one it never heard")
    else:
        ds = build_dataset(held_source, preset=cfg.preset, hold_out=(), cache_root=cache_root, workers=workers)
        notes = np.arange(len(ds))
    return NoteSet(ds, notes[np.isin(ds.notes.dynamic_name[notes], wanted)])


def evaluate_cross_source(model_path: str | os.PathLike, source: str, *, dynamics: tuple[str, ...] | None = None,
                          cache_root: str | os.PathLike | None = None, workers: int | None = None,
                          folder: str | None = None, soundfont: str | None = None,
                          sources: tuple[str, ...] | None = None, ratings: str | None = None) -> CrossSourceReport:
    """A model file on a sample set it never trained on (:func:`held_notes`). Returns :func:`cross_source`'s
    figures, with the model's in-source test ρ and the source's name. The paper's unconditioned twin of a run
    (``unconditioned.timbre.safetensors`` beside the model) is scored too, as "unconditioned". The card's sample
    sets and ratings are used as ``evaluate`` uses them (:func:`~timbre_explorer.core.training.modelcard.training_config`),
    or ``folder``, ``soundfont``, ``sources`` and ``ratings`` when given."""
    from timbre_explorer.core.data.perception import load_dissimilarities
    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.model.modelfile import load_model
    from timbre_explorer.core.training.modelcard import check_dataset, training_config
    from timbre_explorer.core.training.runfolder import UNCONDITIONED_NAME

    _check_dynamics(dynamics)  # before any dataset is built
    mf = load_model(model_path)
    cfg = training_config(model_path, mf, folder=folder, soundfont=soundfont, sources=sources, ratings=ratings)
    trained = dataset_for(cfg.dataset_recipe(), cache_root=cache_root, workers=workers)
    check_dataset(model_path, mf, trained)
    if cfg.cross_test:
        leave_source_out(trained, cfg.cross_test, cfg.cross_valid)
    held = held_notes(cfg, trained, source, dynamics=dynamics, cache_root=cache_root, workers=workers)
    rated = load_dissimilarities(cfg.ratings)
    twin = Path(model_path).with_name(UNCONDITIONED_NAME)
    others = {}
    if twin.is_file() and twin != Path(model_path):
        other = load_model(twin)
        others["unconditioned"] = (other.build_model(), other.normalization)
    figures = cross_source(mf.build_model(), mf.normalization, NoteSet(trained, trained.where("train")), held,
                           rated, others=others)
    return cross_source_report(str(held.ds.notes.source_name[held.notes[0]]), dynamics_of(held),
                               (mf.meta.get("metrics") or {}).get("spearman_rho"), figures)


def dynamics_of(notes: NoteSet) -> list[str]:
    """The dynamics among ``notes``, pp to ff, then any other ("unknown" where a file's name gives none)."""
    from timbre_explorer.core.data.instruments import DYNAMICS

    kept = {d or "unknown" for d in notes.ds.notes.dynamic_name[notes.notes]}
    return [d for d in DYNAMICS if d in kept] + sorted(kept - set(DYNAMICS))


def cross_source_report(source: str, dynamics: list[str], in_source_rho: float | None,
                        figures: dict[str, PlacementScores]) -> CrossSourceReport:
    """One across-sources entry: the source, its dynamics, the model's in-source ρ, then :func:`cross_source`'s
    placements (a cast: the twins' placements are named at run time, by ``others``)."""
    return cast("CrossSourceReport", {"source": source, "dynamics": dynamics, "in_source_rho": in_source_rho,
                                      **figures})


def _check_dynamics(dynamics: tuple[str, ...] | None) -> None:
    from timbre_explorer.core.data.instruments import DYNAMICS

    unknown = sorted(set(dynamics or ()) - set(DYNAMICS))
    if unknown:
        raise ParameterError(f"unknown dynamics {', '.join(unknown)} (known: {', '.join(DYNAMICS)})")
