"""A band extension (``timbre-explorer extend``): the bins above a model's band, made beside its decoder.

A model trained at 22.05 kHz stops at 8 kHz. The first 168 bins of ``nsgt-erb-44k`` are those of ``nsgt-erb``, so
its encoder reads a 44.1 kHz frame's lower bins as they are, and a small network
(:meth:`~timbre_explorer.core.model.vae.TimbreVAE.extend`) makes the bins above from the code, the conditions and the
decoded band's top. Everything else is kept: the map, the placement, what plays below 8 kHz.

Two choices, measured (docs/research.md, "The band above 8 kHz for the 22.05 kHz model"):

* each frame's top band is made from a *partner's* code (another training note of its instrument within
  :data:`PARTNER_SEMITONES`), as a click decodes a point that is no note's own;
* its target keeps the real frame's share of the whole: shifted by how much less power the decoded band holds than
  the real one (a decoded frame spreads its partials), since a listener hears the share once what plays is brought
  to its dynamic's loudness.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from timbre_explorer.core.errors import Cancelled, ParameterError
from timbre_explorer.core.model.calibration import GAIN_TENSOR, gain_at
from timbre_explorer.core.model.vae import TimbreVAE, condition_level, frame_inputs, log_magnitudes
from timbre_explorer.core.signal.scales import get_preset

if TYPE_CHECKING:
    from timbre_explorer.core.data.dataset import NoteDataset
    from timbre_explorer.core.model.modelfile import ModelFile

#: The full-band preset a model's band is extended to by default.
FULL_BAND = "nsgt-erb-44k"
PARTNER_SEMITONES = 3
#: Training: sustained frames drawn from the training notes, epochs over them, batch size, learning rate.
FRAMES, EPOCHS, BATCH, LR = 160_000, 12, 512, 1e-3


def extra_bins(path: str | os.PathLike, mf: ModelFile, preset: str) -> int:
    """How many bins ``preset`` adds above the model's: its lower bins must be the model's own, at a higher rate."""
    mine, wide = get_preset(mf.meta["preset"]), get_preset(preset)
    low, high = mine.scale.frequencies(), wide.scale.frequencies()
    if mf.config.extension_bins:
        raise ParameterError(f"{path}: the model already makes the band above its own")
    if not mf.config.conditioned or mf.config.decoder_axis != "bins":
        raise ParameterError(f"{path}: only a model whose decoder takes pitch and level, on the transform's bins, "
                             "is extended")
    if wide.sample_rate <= mine.sample_rate or len(high) <= len(low) \
            or not np.allclose(high[:len(low)], low, rtol=1e-5):
        raise ParameterError(f"{path}: {preset} does not continue the model's transform ({mine.name}) above its band")
    return len(high) - len(low)


def _partners(instrument: np.ndarray, pitch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each frame (its note's instrument and pitch), the index of a frame of the same instrument within
    :data:`PARTNER_SEMITONES` (itself included)."""
    out = np.arange(len(instrument))
    for name in np.unique(instrument):
        idx = np.flatnonzero(instrument == name)
        order = idx[np.argsort(pitch[idx], kind="stable")]
        sorted_pitch = pitch[order]
        lo = np.searchsorted(sorted_pitch, pitch[idx] - PARTNER_SEMITONES, "left")
        hi = np.searchsorted(sorted_pitch, pitch[idx] + PARTNER_SEMITONES, "right")
        out[idx] = order[lo + (rng.random(len(idx)) * (hi - lo)).astype(np.int64)]
    return out


@torch.no_grad()
def extension_batch(mf: ModelFile, ds: NoteDataset, *, frames: int = FRAMES, seed: int = 0
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The training set of a band extension, from sustained frames of the training notes of ``ds`` (the model's
    samples at the wider rate): ``(z, c, low, target)``, the code of a partner frame (its lower bins, as the model
    encodes them), the frame's conditions, the decoder's band for them (normalized) and the frame's top bins
    (normalized, shifted as the module says)."""
    model, norm = mf.build_model(), mf.normalization
    n_low = model.config.encoded_bins
    rng = np.random.default_rng(seed)
    rows, owners = ds.sustain_frames(ds.where("train"))
    if len(rows) == 0:
        raise ParameterError(f"{ds.path}: the model's training notes have no sustained frames")
    pick = np.sort(rng.choice(len(rows), min(len(rows), frames), replace=False))
    rows, owners = rows[pick], owners[pick]
    log_mag = torch.from_numpy(np.asarray(ds.log_magnitude[rows], np.float32))
    pitch = torch.from_numpy(ds.notes.pitch[owners].astype(np.float32))
    x, c = frame_inputs(model.config, norm, log_mag, pitch)
    assert c is not None  # extra_bins checked the model is conditioned
    partner = torch.from_numpy(_partners(ds.notes.instrument[owners], ds.notes.pitch[owners], rng))
    z = torch.cat([model.encode(x[i:i + 8192], c[i:i + 8192])[0] for i in range(0, len(x), 8192)])[partner]
    low = torch.cat([model.decode_mean(z[i:i + 8192], c[i:i + 8192]) for i in range(0, len(z), 8192)])
    played = log_magnitudes(norm, low, c)
    if GAIN_TENSOR in mf.arrays:
        played = played + gain_at(torch.from_numpy(np.asarray(mf.arrays[GAIN_TENSOR], np.float32)), c)
    lacking = (torch.logsumexp(2 * played, 1) - torch.logsumexp(2 * log_mag[:, :n_low], 1)) / 2
    target = (log_mag[:, n_low:] - condition_level(c)[:, None] - norm.mean + lacking[:, None]) / norm.scale
    return z, c, low, target


def train_extension(model: TimbreVAE, batch: tuple[torch.Tensor, ...], *, epochs: int = EPOCHS, seed: int = 0,
                    progress: Callable[[int, float], None] | None = None,
                    cancel: threading.Event | None = None) -> None:
    """Fit ``model``'s extension (its other weights untouched) to :func:`extension_batch`'s set, in place."""
    z, c, low, target = batch
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():  # a seeded start, the caller's random state left as it was
        torch.manual_seed(seed)
        for layer in model.extension:
            if isinstance(layer, torch.nn.Linear):
                layer.reset_parameters()
    opt = torch.optim.Adam(model.extension.parameters(), lr=LR)
    model.train()
    for epoch in range(epochs):
        if cancel is not None and cancel.is_set():
            raise Cancelled("band extension cancelled: nothing was written")
        order = torch.randperm(len(z), generator=generator)
        total = 0.0
        for i in range(0, len(z), BATCH):
            b = order[i:i + BATCH]
            loss = (model.extend(z[b], c[b], low[b]) - target[b]).square().mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        if progress is not None:
            progress(epoch + 1, total / len(z))
    model.eval()


def extend_file(path: str | os.PathLike, *, preset: str = FULL_BAND, out: str | os.PathLike | None = None,
                cache_root: str | os.PathLike | None = None, folder: str | os.PathLike | None = None,
                soundfont: str | os.PathLike | None = None, sources: tuple[str, ...] | None = None,
                epochs: int = EPOCHS, progress: Callable[[int, float], None] | None = None,
                cancel: threading.Event | None = None) -> Path:
    """Write the model file ``path`` with a band extension to ``preset`` to ``out`` (default: beside it, its name
    ending ``-full``). Its samples are rendered again at ``preset``'s rate, found as ``calibrate`` finds them (the
    card's, or ``folder``, ``soundfont`` or ``sources``). Returns the path written."""
    from timbre_explorer.core.data.recipe import dataset_for
    from timbre_explorer.core.model.modelfile import load_model, save_model
    from timbre_explorer.core.training.modelcard import training_config

    mf = load_model(path, card=True)
    extra = extra_bins(path, mf, preset)
    cfg = dataclasses.replace(training_config(path, mf, folder=folder, soundfont=soundfont, sources=sources),
                              preset=preset)
    ds = dataset_for(cfg.dataset_recipe(), cache_root=cache_root, cancel=cancel)
    started = time.perf_counter()
    model = TimbreVAE(dataclasses.replace(mf.config, n_bins=mf.config.n_bins + extra, extension_bins=extra))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in mf.weights.items()}, strict=False)
    batch = extension_batch(mf, ds)
    train_extension(model, batch, epochs=epochs, progress=progress, cancel=cancel)
    t = dict(mf.arrays)
    if GAIN_TENSOR in t:  # the calibration stops at the model's band: the extension is fitted as it plays
        gain = np.asarray(t[GAIN_TENSOR], np.float32)
        t[GAIN_TENSOR] = np.concatenate([gain, np.zeros((*gain.shape[:-1], extra), np.float32)], -1)
    wide = get_preset(preset)
    # what plays is at the wider preset; the map, its descriptors and the training settings stay the model's (what
    # evaluate rebuilds and scores: the encoder reads the lower bins alike at either rate)
    meta = {**mf.meta, "preset": preset, "sample_rate": wide.sample_rate,
            "extension": {"from_preset": mf.meta["preset"], "bins": extra, "epochs": epochs, "frames": len(batch[0]),
                          "dataset": ds.manifest["key"], "seconds": round(time.perf_counter() - started, 1)}}
    name = Path(path).name
    target = Path(out) if out is not None else Path(path).with_name(name.replace(".timbre.", "-full.timbre.", 1))
    save_model(target, model=model, normalization=mf.normalization, meta=meta, tensors=t)
    return target


__all__ = ["FULL_BAND", "extend_file", "extension_batch", "extra_bins", "train_extension"]
