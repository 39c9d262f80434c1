"""Calibrating a model's decoder on its training notes (:mod:`~timbre_explorer.core.model.calibration`): at
export, and for a model file written without a calibration (``timbre-explorer calibrate``), which needs the
model's dataset (rebuilt from its card, or found in the cache) but no training."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.model.calibration import GAIN_TENSOR, fit_gain
from timbre_explorer.core.model.vae import DEFAULT_PITCH, Normalization, TimbreVAE, conditions, log_magnitudes

if TYPE_CHECKING:
    from timbre_explorer.core.data.dataset import NoteDataset

BATCH = 4096


@torch.no_grad()
def decoder_gain(model: TimbreVAE, norm: Normalization, ds: NoteDataset, notes: np.ndarray,
                 z: np.ndarray) -> torch.Tensor:
    """The calibration (:func:`~timbre_explorer.core.model.calibration.fit_gain`) of a conditioned ``model`` on the
    representative frames of ``notes`` (every training note: all instruments, all sample sets), each decoded
    from its code ``z [notes, latent]`` (the map's) at its pitch and its frame's level."""
    if not model.config.conditioned:
        raise ParameterError("only a decoder conditioned on pitch and level is calibrated")
    real = ds.representative(notes)
    pitch = np.asarray(ds.notes.pitch[notes], np.float32)
    pitch[pitch < 0] = DEFAULT_PITCH  # an unknown pitch decodes there (vae.conditions), so it is fitted there
    zt = torch.as_tensor(np.asarray(z, np.float32))
    decoded = []
    model = model.cpu().eval()
    for i in range(0, len(real), BATCH):
        c = conditions(torch.from_numpy(pitch[i:i + BATCH]), torch.from_numpy(real[i:i + BATCH].mean(1)))
        x, _ = model.decode(zt[i:i + BATCH], c)
        decoded.append(log_magnitudes(norm, x, c).numpy())
    return torch.from_numpy(fit_gain(real, np.concatenate(decoded), pitch))


#: the training notes an exported model is calibrated from, at least: over fewer, the gain fits those notes' own
#: brightness rather than the decoder's (measured: a 120-note test run's gain made its Flute and Piccolo names
#: come back as Clarinet; the bundled model's 28,243 notes keep all 12 names). ``timbre-explorer calibrate``
#: calibrates any model it is asked to.
MIN_CALIBRATION_NOTES = 1000


def calibration(model: TimbreVAE, norm: Normalization, ds: NoteDataset, notes: np.ndarray,
                z: np.ndarray) -> dict[str, torch.Tensor]:
    """The model-file tensor of :func:`decoder_gain` for a conditioned ``model`` trained on at least
    :data:`MIN_CALIBRATION_NOTES` notes (what the exporter adds); none for a smaller run, or an unconditioned model
    (its decoder takes no pitch or level to calibrate by)."""
    if not model.config.conditioned or len(notes) < MIN_CALIBRATION_NOTES:
        return {}
    return {GAIN_TENSOR: decoder_gain(model, norm, ds, notes, z)}


def calibrate_file(path: str | os.PathLike, *, out: str | os.PathLike | None = None,
                   cache_root: str | os.PathLike | None = None, folder: str | os.PathLike | None = None,
                   soundfont: str | os.PathLike | None = None, sources: tuple[str, ...] | None = None,
                   cancel: threading.Event | None = None) -> Path:
    """Write the model file ``path`` with its decoder calibrated on its training notes to ``out`` (default: over
    ``path``, atomically); everything else in the file is kept. The samples are found as ``evaluate`` finds them
    (:func:`~timbre_explorer.core.training.modelcard.training_config`): the card's, or ``folder``, ``soundfont``
    or ``sources``. Returns the path written."""
    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.model.modelfile import load_model, save_model
    from timbre_explorer.core.training.modelcard import check_dataset, training_config

    mf = load_model(path, card=True)
    if not mf.config.conditioned:
        raise ParameterError(f"{path}: only a model whose decoder takes pitch and level is calibrated")
    if mf.config.extension_bins:  # its extension was fitted to what the calibrated band plays
        raise ParameterError(f"{path}: a model is calibrated before its band is extended: calibrate the model it was "
                             "extended from, then extend it again")
    cfg = training_config(path, mf, folder=folder, soundfont=soundfont, sources=sources)
    ds = dataset_for(cfg.dataset_recipe(), cache_root=cache_root, cancel=cancel)
    check_dataset(path, mf, ds)
    t = mf.arrays
    train = np.flatnonzero(t["map.split"] == list(mf.meta["splits"]).index("train"))
    gain = decoder_gain(mf.build_model(), mf.normalization, ds, train, t["map.z"][train])
    target = Path(out) if out is not None else Path(path)
    save_model(target, model=mf.build_model(), normalization=mf.normalization, meta=mf.meta,
               tensors={**t, GAIN_TENSOR: gain})
    return target


__all__ = ["MIN_CALIBRATION_NOTES", "decoder_gain", "calibration", "calibrate_file"]
