"""A stage's checkpoint: weights, Adam state and a JSON card (stage, epoch, history, config), never pickled.

One writer (:func:`save_checkpoint`, atomic: a crash leaves the previous epoch whole) and one reader
(:func:`read_checkpoint`): it reads the card at once and the tensors only when asked, so the Trainer tab
lists a run's checkpoints without loading torch. Torch and safetensors are imported inside the functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from timbre_explorer.core.errors import TimbreExplorerError
from timbre_explorer.core.files import write_bytes

if TYPE_CHECKING:
    import torch

    from timbre_explorer.core.training.messages import EpochMetrics


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint's card says; :meth:`model_state` and :meth:`restore` read its tensors."""

    path: Path
    stage: str
    epoch: int  # finished epochs of the stage
    history: list[EpochMetrics]
    config: dict

    def model_state(self) -> dict:
        """The model's weights (a state dict)."""
        return {k.removeprefix("model."): v for k, v in self._tensors("model.").items()}

    def restore(self, model: torch.nn.Module, opt: torch.optim.Optimizer) -> None:
        """Load the weights into ``model`` and the Adam state into ``opt``, to resume the stage."""
        try:
            model.load_state_dict(self.model_state())
            state: dict = {"state": {}, "param_groups": json.loads(self._metadata()["param_groups"])}
            for k, v in self._tensors("optim.").items():
                _, idx, name = k.split(".", 2)
                state["state"].setdefault(int(idx), {})[name] = v.reshape(()) if name == "step" else v
            opt.load_state_dict(state)
        except Exception as exc:  # a damaged checkpoint: say so rather than resume from garbage
            raise TimbreExplorerError(f"{self.path}: cannot resume from this checkpoint ({exc}); "
                                      "delete it to start the stage again") from None

    def _tensors(self, prefix: str) -> dict:
        from safetensors import safe_open

        with safe_open(str(self.path), "pt") as f:
            return {k: f.get_tensor(k) for k in f.keys() if k.startswith(prefix)}

    def _metadata(self) -> dict:
        from safetensors import safe_open

        with safe_open(str(self.path), "np") as f:
            return f.metadata()


def read_checkpoint(path: str | Path) -> Checkpoint:
    """The checkpoint's card (cards written before stages were so named say ``phase``)."""
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), "np") as f:
            info = json.loads(f.metadata()["info"])
        stage = info["stage"] if "stage" in info else info["phase"]
        return Checkpoint(path, stage, int(info["epoch"]), list(info["history"]), dict(info["config"]))
    except Exception as exc:
        raise TimbreExplorerError(f"{path}: not a readable checkpoint ({exc}); delete it to start that stage "
                                  "again") from None


def save_checkpoint(path: str | Path, model: torch.nn.Module, opt: torch.optim.Optimizer, *, stage: str, epoch: int,
                    history: list[EpochMetrics], config: dict) -> None:
    """Weights, Adam state and the card, atomically."""
    import torch
    from safetensors.torch import save

    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    state = opt.state_dict()
    for idx, s in state["state"].items():
        for name, value in s.items():
            tensors[f"optim.{idx}.{name}"] = torch.as_tensor(value).detach().cpu().reshape(-1).contiguous() \
                if name == "step" else value.detach().cpu().contiguous()
    info = {"stage": stage, "epoch": epoch, "history": history, "config": config}
    meta = {"info": json.dumps(info), "param_groups": json.dumps(state["param_groups"])}
    write_bytes(path, save(tensors, metadata=meta))
