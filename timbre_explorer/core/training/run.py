"""One training run, for the command line and the Trainer's worker alike: lock, settings, dataset, train, export.

:func:`run_training` holds the run folder's lock throughout, takes the run's own settings on a resume
(:func:`~timbre_explorer.core.training.runfolder.config_to_run`), builds or reuses the dataset, writes
``config.json`` (``train --config`` takes it), trains (:func:`~timbre_explorer.core.training.loop.train`) and writes
the models and their report (:func:`~timbre_explorer.core.training.loop.export_models`). What happens meanwhile goes
to ``emit`` as the dataclasses of :mod:`~timbre_explorer.core.training.messages`: the command line prints them, the
worker forwards them to the Trainer tab. So the two cannot drift apart.

Torch is imported inside the functions: the GUI imports the worker's tasks, and with them this module, at start-up.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from timbre_explorer.core.training.checkpoint import read_checkpoint
from timbre_explorer.core.training.config import STAGE_NAMES, TrainConfig
from timbre_explorer.core.training.messages import (
    BatchProgress,
    DatasetProgress,
    DatasetReady,
    History,
    LatentMap,
    ResumedConfig,
    RunResult,
    Status,
    TrainProgress,
)
from timbre_explorer.core.training.runfolder import checkpoint_files, checkpoint_path, config_to_run, locked_run_folder

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as ProcessEvent

    from timbre_explorer.core.data.dataset import NoteDataset
    from timbre_explorer.core.training.evaluate import EvaluationReport
    from timbre_explorer.core.training.loop import Trainer

MAP_NOTES = 300  # notes on the live latent map
BATCH_EVERY_S = 0.25  # seconds between the progress messages of batches

Emit = Callable[[object], None]  # takes a dataclass of core.training.messages


def prepare_dataset(cfg: TrainConfig, *, emit: Emit, cache_root: str | os.PathLike | None = None,
                    workers: int | None = None, cancel: threading.Event | ProcessEvent | None = None,
                    rebuild: bool = False) -> tuple[NoteDataset, DatasetReady]:
    """The dataset a config trains on, built or reused, with its progress and what it holds sent to ``emit``."""
    from timbre_explorer.core.data.recipe import dataset_for

    emit(Status("Preparing the dataset…"))
    built = []
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        built.append(done)
        emit(DatasetProgress(done, total))

    ds = dataset_for(cfg.dataset_recipe(), cache_root=cache_root, workers=workers or None, progress=progress,
                     cancel=cancel, rebuild=rebuild)
    info = DatasetReady(str(ds.path), ds.summary(), list(ds.manifest.get("skipped", [])), not built,
                        time.perf_counter() - started, list(ds.manifest.get("heard", [])))
    emit(info)
    return ds, info


def run_training(config: TrainConfig, out: Path, *, resume: bool, emit: Emit,
                 cache_root: str | os.PathLike | None = None,
                 workers: int | None = None, rebuild: bool = False,
                 cancel: threading.Event | ProcessEvent | None = None,
                 between_epochs: Callable[[str], float] | None = None, map_every: int | None = None) -> RunResult:
    """Train ``config`` into ``out`` and export its models and report (see the module docstring).

    ``cancel`` stops the run between batches; ``between_epochs(where)`` is called after every epoch's checkpoint
    and returns the seconds it waited (a pause: they do not count as training time); ``map_every``: send the live
    latent map every that many epochs (and at the end of every stage). Under ``torchrun``, rank 0 holds the lock,
    builds the dataset and writes the files; the report of the result is empty on the other ranks.
    """
    from timbre_explorer.core.training.loop import Trainer, distributed_setup, dump_rank_weights, export_models, train

    out = Path(out)
    rank, world = distributed_setup()
    with locked_run_folder(out) if rank == 0 else contextlib.nullcontext(out):  # one lock for the ranks
        run_config = config_to_run(config, out, resume=resume)
        if run_config != config:
            emit(ResumedConfig(run_config))
        ds = _dataset_on_every_rank(run_config, rank, world, emit=emit, cache_root=cache_root, workers=workers,
                                    cancel=cancel, rebuild=rebuild)
        emit(Status("Preparing the model…"))
        started = time.perf_counter()
        trainer = Trainer(run_config, ds, out)
        if rank == 0:
            run_config.save(out / "config.json")  # the CLI takes it: train --config … --resume
        if resume:
            emit(History({s: read_checkpoint(path).history for s, path in checkpoint_files(out).items()}))
        paused = _train_epochs(trainer, train(trainer, resume=resume, cancel=cancel, on_batch=BatchReporter(emit)),
                               emit, between_epochs, map_every)
        seconds = time.perf_counter() - started - paused
        emit(Status("Writing the models and evaluating them…"))
        if run_config.dump_rank_weights:
            dump_rank_weights(trainer)
        paths = export_models(trainer, seconds=seconds)
        # report.json as export_models just wrote it; the other ranks write none and hold an empty one
        report: EvaluationReport = (json.loads((out / "report.json").read_text(encoding="utf-8")) if rank == 0
                                    else cast("EvaluationReport", {}))
        return RunResult(out, {k: str(v) for k, v in paths.items()}, report, seconds)


def _dataset_on_every_rank(cfg: TrainConfig, rank: int, world: int, *, emit: Emit, **build: Any) -> NoteDataset:
    """Rank 0 builds (or reuses) the dataset and reports it; under torchrun the other ranks then read it."""
    if rank == 0:
        ds, _ = prepare_dataset(cfg, emit=emit, **build)
    if world > 1:
        import torch.distributed as dist

        from timbre_explorer.core.data.recipe import dataset_for

        dist.barrier()
        if rank != 0:
            ds = dataset_for(cfg.dataset_recipe(), cache_root=build["cache_root"], workers=build["workers"])
    return ds


def _train_epochs(trainer: Trainer, steps: Generator[TrainProgress, None, None], emit: Emit,
                  between_epochs: Callable[[str], float] | None,
                  map_every: int | None) -> float:
    """Run the training generator to its end, sending every epoch (and the live map); the seconds paused."""
    probe = LatentProbe(trainer) if map_every else None
    emit(Status("Training…"))
    paused = 0.0
    try:
        for p in steps:
            emit(p)
            if probe is not None and map_every and (p.epoch % map_every == 0 or p.epoch == p.epochs):
                emit(probe.map(checkpoint_path(trainer.out, p.stage), f"{STAGE_NAMES[p.stage]}, epoch {p.epoch}"))
            if between_epochs is not None:
                paused += between_epochs(f"after {STAGE_NAMES[p.stage]} epoch {p.epoch}")
    finally:
        steps.close()
    return paused


class BatchReporter:
    """Passes on the first batch's progress and then one every ``every`` seconds: the bar moves within a long
    epoch, and short ones do not flood the front end with messages."""

    def __init__(self, send: Callable[[BatchProgress], None], every: float = BATCH_EVERY_S):
        self.send, self.every = send, every
        self._last = -math.inf

    def __call__(self, progress: BatchProgress) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.send(progress)


class LatentProbe:
    """Encodes a fixed sample of notes with the weights of a checkpoint: the live latent map."""

    def __init__(self, trainer: Trainer, n: int = MAP_NOTES, seed: int = 0):
        from timbre_explorer.core.model.vae import TimbreVAE

        ds = trainer.ds
        idx = np.sort(np.random.default_rng(seed).choice(len(ds), min(n, len(ds)), replace=False))
        self.log_frames = np.asarray(ds.representative(idx), np.float32)
        self.pitch = np.asarray(ds.notes.pitch[idx], np.float32)  # a pitch-conditioned encoder reads it
        self.labels = [str(s) for s in ds.notes.instrument_name[idx]]
        self.novel = np.asarray(ds.notes.split_name[idx] == "novel")
        #: A model per variant the run trains (the unconditioned twin has its own shape and normalization).
        self.models = {name: (TimbreVAE(config).eval(), norm) for name, (config, norm) in trainer.variants.items()}
        self.basis: np.ndarray | None = None

    def map(self, checkpoint: Path, title: str) -> LatentMap:
        from timbre_explorer.core.training.evaluate import encode_frames

        state = read_checkpoint(checkpoint)
        model, norm = self.models["unconditioned" if state.stage == "unconditioned" else "model"]
        model.load_state_dict(state.model_state())
        z = encode_frames(model, norm, self.log_frames, self.pitch).astype(np.float64)
        z = z - z.mean(0)
        _, _, vt = np.linalg.svd(z, full_matrices=False)
        basis = np.zeros((2, z.shape[1]))
        basis[:min(2, len(vt))] = vt[:2]
        if self.basis is not None:  # keep the map's orientation from one refresh to the next
            basis *= np.where(np.sum(basis * self.basis, axis=1, keepdims=True) < 0, -1.0, 1.0)
        self.basis = basis
        return LatentMap(z @ basis.T, self.labels, self.novel, title)
