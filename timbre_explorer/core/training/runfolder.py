"""A run folder's layout and rules: the checkpoints, the model files, the run's settings, its lock.

``config.json`` (the settings it started with), ``checkpoints/<stage>.safetensors`` (written after every
epoch), at the end the two model files and the report, and ``run.lock`` (held by the process that trains in
it). A folder knows its run's settings: a different run is refused there, and a resume takes the run's own
settings, so a model's card always describes the weights it holds. Torch-free: the Trainer tab reads run
folders before any model loads.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from timbre_explorer.core.errors import ParameterError, TimbreExplorerError
from timbre_explorer.core.training.checkpoint import read_checkpoint
from timbre_explorer.core.training.config import STAGES, TrainConfig

MODEL_NAME, BASELINE_NAME = "model.timbre.safetensors", "baseline.timbre.safetensors"
UNCONDITIONED_NAME = "unconditioned.timbre.safetensors"
LOCK_NAME = "run.lock"
#: Settings a resume takes from the config it is given; every other one is the run's own (its checkpoints say).
RESUME_OVERRIDES = ("epochs_stage1", "epochs_stage2", "device")


class RunFolderBusy(TimbreExplorerError):
    """Another process trains in the run folder."""


def checkpoint_path(out: Path, stage: str) -> Path:
    return Path(out) / "checkpoints" / f"{stage}.safetensors"


def checkpoint_files(out: Path) -> dict[str, Path]:
    """The stages with a checkpoint in ``out``, in stage order."""
    return {s: checkpoint_path(out, s) for s in STAGES if checkpoint_path(out, s).is_file()}


def run_config(out: Path) -> dict | None:
    """The settings a run in ``out`` was started with: its checkpoints', else its config.json."""
    for path in checkpoint_files(out).values():
        return read_checkpoint(path).config
    if (out / "config.json").is_file():
        return json.loads((out / "config.json").read_text(encoding="utf-8"))
    return None


def holds_run(out: Path) -> bool:
    return bool(checkpoint_files(out)) or (out / MODEL_NAME).is_file()


def free_folder(out: Path) -> Path:
    """``out``, or the first of ``out-2``, ``out-3``… that holds no run."""
    if not holds_run(out):
        return out
    k = 2
    while holds_run(out.with_name(f"{out.name}-{k}")):
        k += 1
    return out.with_name(f"{out.name}-{k}")


def config_to_run(cfg: TrainConfig, out: Path, *, resume: bool) -> TrainConfig:
    """The settings a run in ``out`` trains with: a resume's are the run's own (with ``cfg``'s epochs and
    device); a new run's are ``cfg``, refused where the folder holds a run of other settings (its checkpoints
    would be overwritten, or resumed under another card)."""
    out = Path(out)
    saved = run_config(out)
    if saved is None:
        return cfg
    if resume:
        return TrainConfig.from_dict({**saved, **{k: getattr(cfg, k) for k in RESUME_OVERRIDES}})
    if holds_run(out) and TrainConfig.from_dict(saved) != cfg:
        raise ParameterError(f"{out} holds a run with other settings; use --resume (Resume in the Trainer tab) "
                             "to carry it on, or another --out (run folder) for a new run")
    return cfg


@contextmanager
def locked_run_folder(out: Path) -> Iterator[Path]:
    """Hold ``out``'s lock (created with the folder) while a run trains in it; the lock file names the holder.

    Raises :class:`RunFolderBusy` at once where another process holds it. The operating system releases the
    lock when the holder ends, however it ends.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            who = f"process {holder}" if holder.isdigit() else "another process"
            raise RunFolderBusy(f"{out} is in use by {who}, which trains in it: wait for it to end, or choose "
                                "another run folder") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield out
    finally:
        os.close(fd)
