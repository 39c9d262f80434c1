"""A run folder's layout: the stages and their checkpoints, the model files, the run's settings.

``config.json`` (the settings it started with), ``checkpoints/<stage>.safetensors`` (written after every
epoch), and at the end the two model files and the report. Torch-free: the Trainer tab reads run folders
before any model loads.
"""

from __future__ import annotations

import json
from pathlib import Path

from timbre_explorer.core.training.checkpoint import read_checkpoint

MODEL_NAME, BASELINE_NAME = "model.timbre.safetensors", "baseline.timbre.safetensors"
#: The training stages, in the order they run (see :mod:`timbre_explorer.core.training.loop`).
STAGES = ("stage1", "regularized", "baseline")
STAGE_NAMES = {"stage1": "stage 1", "regularized": "regularized", "baseline": "baseline"}


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
