"""Where a whole note lies in a latent space: the mean of the posterior means of its sounding frames.

One function places every whole note, so that a sound a user brings and a note of another sample set land by
the same rule: ``timbre-explorer encode`` and drag-and-drop (through
:meth:`~timbre_explorer.core.synthesis.space.TimbreSpace.encode_note`) and the evaluation across sources
(:mod:`~timbre_explorer.core.training.crosssource`). Which frames are sounding is
:func:`~timbre_explorer.core.data.dataset.sounding`'s answer; the callers pick them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.model.vae import DEFAULT_PITCH, Normalization, TimbreVAE, frame_inputs


@torch.no_grad()
def note_positions(model: TimbreVAE, norm: Normalization, notes: Sequence[np.ndarray], *,
                   pitches: Sequence[float | None] | None = None, batch: int = 4096) -> np.ndarray:
    """Each note's position ``[len(notes), latent]`` (float32): the mean of its frames' posterior means.

    ``notes`` holds each note's sounding natural-log magnitude frames ``[n_i, K]`` (at least one each). The
    frames of all notes are encoded together, ``batch`` at a time, on the model's device. ``pitches`` (MIDI,
    None when unknown: the default pitch), one per note, is what a pitch-conditioned encoder reads; the frames'
    own levels are the level condition.
    """
    if pitches is not None:
        if len(pitches) != len(notes):
            raise ParameterError(f"{len(pitches)} pitches for {len(notes)} notes")
        bad = [p for p in pitches if p is not None and not (np.isfinite(p) and 0 <= p <= 127)]
        if bad:
            raise ParameterError(f"a pitch is a MIDI number from 0 to 127, got {bad[0]!r}")
    sizes = [len(n) for n in notes]
    if any(s == 0 for s in sizes):
        raise ParameterError("a note to place has no sounding frame")
    if not sizes:
        return np.zeros((0, model.config.latent), np.float32)
    frames = np.concatenate([np.asarray(n, np.float32).reshape(len(n), -1) for n in notes])
    per_note = [DEFAULT_PITCH if p is None else float(p) for p in (pitches or [None] * len(notes))]
    pitch = torch.from_numpy(np.repeat(np.asarray(per_note, np.float32), sizes))
    device = next(model.parameters()).device
    mu = []
    for i in range(0, len(frames), batch):
        x, c = frame_inputs(model.config, norm, torch.from_numpy(frames[i:i + batch]), pitch[i:i + batch])
        mu.append(model.encode(x.to(device), None if c is None else c.to(device))[0].float().cpu())
    means = torch.cat(mu).numpy()
    bounds = np.cumsum([0] + sizes)
    return np.stack([means[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])]).astype(np.float32)


__all__ = ["note_positions"]
