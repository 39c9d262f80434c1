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
MODEL_SUFFIX = ".timbre.safetensors"
MAX_HEADER_BYTES = 16 << 20  # as model files allow
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
    path = out / "config.json"
    if path.is_file():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ParameterError(f"{path}: the run's settings cannot be read ({exc}); restore the file, or train "
                                 "in another --out (run folder)") from None
        if not isinstance(saved, dict):
            raise ParameterError(f"{path}: the run's settings are not a JSON object of settings; restore the "
                                 "file, or train in another --out (run folder)")
        return saved
    return None


def foreign_model(out: Path, saved: dict | None) -> Path | None:
    """A model file in ``out`` that the run there (``saved``: its settings, or None: no run) did not write: its
    card holds no settings, or others (a copy of the bundled model, say). Training would replace it."""
    mine = None if saved is None else _comparable(saved)
    for path in sorted(Path(out).glob("*" + MODEL_SUFFIX)):
        if mine is None or _comparable(_card_training(path)) != mine:
            return path
    return None


def _comparable(settings: object) -> dict | None:
    """Run settings as a resume compares them (without what a resume may change), or None if they are none."""
    if not isinstance(settings, dict):
        return None
    try:
        d = TrainConfig.from_dict(settings).to_dict()
    except (ParameterError, TypeError, ValueError):
        return None
    return {k: v for k, v in d.items() if k not in RESUME_OVERRIDES}


def _card_training(path: Path) -> object:
    """The ``training`` settings of a model file's card, read from its safetensors header without torch;
    None where it has none or cannot be read."""
    try:
        with open(path, "rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 0 < size <= MAX_HEADER_BYTES:
                return None
            header = json.loads(f.read(size))
        return json.loads(header["__metadata__"]["timbre_explorer"]).get("training")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
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
    would be overwritten, or resumed under another card), or a model file its run did not write."""
    out = Path(out)
    saved = run_config(out)
    foreign = foreign_model(out, saved)
    if foreign is not None:
        raise ParameterError(f"{foreign}: a model file that no run in {out} wrote (training there would replace "
                             "it): move it elsewhere, or choose another --out (run folder)")
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
