"""A trained timbre space, ready to explore: the VAE, the map of every note, its PCA, and decoding.

:class:`TimbreSpace` is what the Explorer, ``timbre-explorer render`` and the
benchmarks hold. It wraps a validated :class:`~timbre_explorer.core.model.modelfile.ModelFile`:

* the notes of the map (latent means of each note's representative frame,
  with instrument, pitch, dynamic, split, source and descriptors), read from
  the file, so no dataset is needed;
* a PCA of those latent points (the paper's projection: linear, so every
  point of a 2-D or 3-D view maps back to a latent point, the remaining
  components taken from wherever the user puts them);
* decoding to magnitude frames on the GPU when there is one (the decoder
  is small; the phase reconstruction that follows runs on the CPU), and
  the descriptors of decoded frames in physical units.

The map needs no torch: a space opens in numpy, and its decoder (the VAE, the calibration, the device) is built
on first use, importing torch then. torch's import is most of the app's launch (1.0-1.5 s of 2-2.5 s on 2
cores), so the app draws the map first and builds the decoder in a worker after it (``gui/explorer/tab.py``,
``prepare``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.data.notes import NoteTable
from timbre_explorer.core.data.sources import DEFAULT_SOURCE, short_name
from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.model.calibration import GAIN_TENSOR
from timbre_explorer.core.model.modelfile import ModelFile, check_card, load_model
from timbre_explorer.core.model.vae_config import DEFAULT_PITCH, LEVEL_CENTRE
from timbre_explorer.core.signal.scales import TransformPreset, get_preset
from timbre_explorer.core.signal.units import DESCRIPTORS

if TYPE_CHECKING:
    import torch
    from numpy.typing import ArrayLike

    from timbre_explorer.core.model.vae import TimbreVAE
    from timbre_explorer.core.signal.nsgt import NSGT

log = logging.getLogger(__name__)


def default_device() -> torch.device:
    """CUDA when torch sees a GPU, else the CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class Decoder:
    """What decoding needs beyond the map, built together on first use: the VAE, where it runs, and the file's
    calibration there (None when it has none)."""

    model: TimbreVAE
    device: torch.device
    gain: torch.Tensor | None


@dataclass(frozen=True, eq=False)
class Notes(NoteTable):
    """Every note of the map, one row each (numpy, read-only views of the model file's tensors): the note table's
    columns, coded into the card's name lists (also :class:`TimbreSpace`'s), and where each note lies."""

    z: np.ndarray  # [N, latent] float32
    descriptors: np.ndarray  # [N, len(DESCRIPTORS)]


@dataclass(frozen=True)
class Projection:
    """PCA of the map: ``coords = (z - mean) @ components.T``, and back."""

    mean: np.ndarray  # [latent]
    components: np.ndarray  # [latent, latent], rows by decreasing variance
    explained: np.ndarray  # [latent] fraction of the variance per component

    @classmethod
    def fit(cls, z: np.ndarray) -> Projection:
        """The full PCA, from the SVD of the centred map's [latent x latent] scatter (each axis signed so its
        largest loading is positive).

        Not scikit-learn's ``PCA``: importing scikit-learn (and the scipy.stats it pulls in) took 1.3 s of
        the app's 3 s from launch to a drawn map. Not an SVD of the notes themselves either: on the bundled
        model's 45,669 notes that took 0.06 s on one thread and 0.6 s with BLAS's threads on a busy machine;
        the scatter's takes a millisecond (same axes; 16 dimensions lose nothing to squaring).
        """
        z = z.astype(np.float64)
        mean = z.mean(0)
        centred = z - mean
        _, variance, vt = np.linalg.svd(centred.T @ centred)
        vt *= np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])[:, None]
        return cls(mean, vt, variance / max(float(variance.sum()), np.finfo(float).tiny))

    @classmethod
    def discriminant(cls, z: np.ndarray, labels: np.ndarray) -> Projection:
        """Axes that set instruments apart first (LDA), then the PCA of what is left: still a rotation.

        Pitch and dynamics dominate the latent variance, so on the first PCA
        axes the instruments overlap. The directions of scikit-learn's linear
        discriminant analysis separate them best; made orthonormal (QR) and
        completed by the principal components of the orthogonal rest, they
        keep the projection exactly invertible, so clicks still map to
        latent points.
        """
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        z = z.astype(np.float64)
        k = min(len(np.unique(labels)) - 1, z.shape[1])
        if k < 1:
            return cls.fit(z)
        lda = LinearDiscriminantAnalysis(n_components=k).fit(z, labels)
        q, _ = np.linalg.qr(lda.scalings_[:, :k])
        mean = z.mean(0)
        rest = (z - mean) - (z - mean) @ q @ q.T
        # the rest's principal axes from its [latent x latent] scatter: a full basis for any number of notes, where an
        # SVD of the notes themselves with full matrices builds an [N x N] factor (16 GB for 45,000 notes)
        _, _, vt = np.linalg.svd(rest.T @ rest)
        others = vt - (vt @ q) @ q.T  # numerically clean of the LDA directions
        basis = [q.T]
        for v in others:
            if len(np.vstack(basis)) == z.shape[1]:
                break
            v = v - np.vstack(basis).T @ (np.vstack(basis) @ v)
            if np.linalg.norm(v) > 1e-6:
                basis.append((v / np.linalg.norm(v))[None])
        components = np.vstack(basis)
        var = ((z - mean) @ components.T).var(0)
        return cls(mean, components, var / var.sum())

    def forward(self, z: ArrayLike) -> np.ndarray:
        """Latent points ``[..., latent]`` to all their PCA coordinates ``[..., latent]``."""
        return (np.asarray(z, np.float64) - self.mean) @ self.components.T

    def inverse(self, coords: ArrayLike) -> np.ndarray:
        """All PCA coordinates ``[..., latent]`` back to latent points (exact: the components are orthonormal)."""
        return np.asarray(coords, np.float64) @ self.components + self.mean

    def place(self, values: ArrayLike, dims: Sequence[int], *, rest: ArrayLike) -> np.ndarray:
        """Latent points whose components ``dims`` are ``values [..., len(dims)]`` and the others those of ``rest``.

        ``rest`` is a full PCA coordinate vector ``[latent]`` (or one per point):
        the "depth" of a view, i.e. where the plane cuts the other components.
        """
        values = np.asarray(values, np.float64)
        coords = np.array(np.broadcast_to(np.asarray(rest, np.float64), values.shape[:-1] + self.mean.shape))
        coords[..., list(dims)] = values
        return self.inverse(coords)


#: The dynamic a conditioned model plays when none is asked for.
DEFAULT_DYNAMIC = "mf"


class TimbreSpace:
    """A model file, loaded for exploring: see the module docstring."""

    def __init__(self, mf: ModelFile, *, path: str | os.PathLike | None = None, device: torch.device | None = None):
        check_card(path or "this model", mf)
        self.file = mf
        self.path = Path(path) if path else None
        self._device = device
        self._decoder: Decoder | None = None
        self._decoder_lock = threading.Lock()
        self.normalization = mf.normalization
        self.preset: TransformPreset = get_preset(mf.meta["preset"])
        self.sample_rate = int(self.preset.sample_rate)
        self.note_seconds = float(mf.meta["note_seconds"])
        self.instruments: list[str] = list(mf.meta["instruments"])
        self.families: list[str] = list(mf.meta["families"])
        self.dynamics: list[str] = list(mf.meta["dynamics"])
        self.splits: list[str] = list(mf.meta["splits"])
        t = mf.arrays
        #: The sample sets of the map's notes by short name; a file without ``map.source`` has one, its card's.
        self.sources: list[str] = list(mf.meta.get("sources") or [card_source(mf.meta)])
        n = t["map.z"].shape[0]
        source = t["map.source"] if "map.source" in t else np.zeros(n, np.int64)
        self.notes = Notes(instrument=t["map.instrument"], pitch=t["map.pitch"], dynamic=t["map.dynamic"],
                           split=t["map.split"], source=source, instruments=tuple(self.instruments),
                           dynamics=tuple(self.dynamics), splits=tuple(self.splits), sources=tuple(self.sources),
                           z=t["map.z"], descriptors=t["map.descriptors"])
        #: Each note's level curve from onset (natural log, 0 at its representative frame), when the file has them.
        self.envelopes: np.ndarray | None = t.get("map.envelope")
        self.projection = Projection.fit(self.notes.z)
        self.perceptual_instruments: list[str] = list(mf.meta.get("perceptual_instruments") or [])
        self.perceptual_positions: np.ndarray | None = t.get("perception.positions")
        #: A conditioned model's level per dynamic (the median over its training notes): what a dynamic plays at.
        self.levels: dict[str, float] = dict(mf.meta.get("levels") or {})

    # ------------------------------------------------------------------ the decoder, built on first use
    def decoder(self) -> Decoder:
        """The decoder, built the first time it is asked for, once whichever threads ask (importing torch: over a
        second on a slow machine, so the app asks from a worker)."""
        if self._decoder is None:
            with self._decoder_lock:
                if self._decoder is None:
                    start = time.perf_counter()
                    device = self._device or default_device()
                    mf = self.file
                    gain = None
                    if GAIN_TENSOR in mf.arrays:  # the calibration (:mod:`~timbre_explorer.core.model.calibration`)
                        import torch

                        gain = torch.from_numpy(mf.arrays[GAIN_TENSOR]).to(device)
                    self._decoder = Decoder(mf.build_model().to(device), device, gain)
                    log.info("decoder ready in %.2f s (on %s)", time.perf_counter() - start,
                             threading.current_thread().name)
        return self._decoder

    @property
    def decoder_ready(self) -> bool:
        """Whether the decoder is built (:meth:`decoder`): until then, using it waits for it."""
        return self._decoder is not None

    @property
    def model(self) -> TimbreVAE:
        return self.decoder().model

    @property
    def device(self) -> torch.device:
        return self.decoder().device

    @property
    def gain(self) -> torch.Tensor | None:
        """The decoder's calibration on :attr:`device`, when the file has one."""
        return self.decoder().gain

    @property
    def conditioned(self) -> bool:
        """Whether the model decodes at a pitch and level asked for (else at what the latent point encodes)."""
        return self.file.config.conditioned

    def level_of(self, dynamic: str | None = None) -> float:
        """The level a conditioned model plays ``dynamic`` at. None: mf, or the mean of the model's dynamics
        when it has no mf (or the centre level when it has no record)."""
        if dynamic is None:
            return self.levels.get(DEFAULT_DYNAMIC, float(np.mean(list(self.levels.values()))) if self.levels
                                   else LEVEL_CENTRE)
        if dynamic not in self.levels:
            raise ParameterError(f"unknown dynamic {dynamic!r}: this model knows {', '.join(self.levels) or 'none'}")
        return float(self.levels[dynamic])

    def conditions_for(self, n: int, *, pitch: ArrayLike | torch.Tensor | None = None, dynamic: str | None = None,
                       level: ArrayLike | torch.Tensor | None = None) -> torch.Tensor | None:
        """The decoder's condition inputs ``[n, 2]`` for ``n`` points (None for an unconditioned model), at
        ``pitch`` (default middle C) and ``dynamic``'s level (default mf) or ``level``."""
        return self._conditions(n, pitch, dynamic, level)

    def _conditions(self, n: int, pitch: ArrayLike | torch.Tensor | None, dynamic: str | None,
                    level: ArrayLike | torch.Tensor | None) -> torch.Tensor | None:
        if not self.conditioned:
            return None
        import torch

        from timbre_explorer.core.model.vae import conditions

        p = torch.as_tensor(DEFAULT_PITCH if pitch is None else pitch, dtype=torch.float32).expand(n)
        lv = torch.as_tensor(self.level_of(dynamic) if level is None else level, dtype=torch.float32).expand(n)
        return conditions(p, lv).to(self.device)

    @classmethod
    def open(cls, path: str | os.PathLike, *, device: torch.device | None = None) -> TimbreSpace:
        """Load and validate a model file and its card (:class:`~timbre_explorer.core.errors.ModelFileError` if
        either is bad), so nothing is built from a file that cannot be explored."""
        return cls(load_model(path, card=True), path=path, device=device)

    # ------------------------------------------------------------------ the map
    @property
    def latent_size(self) -> int:
        return self.file.config.latent

    @property
    def name(self) -> str:
        """The file's name, or its run folder's when it is a run's ``model.timbre.safetensors`` (every run's)."""
        if not self.path:
            return "model"
        stem = self.path.name.removesuffix(".timbre.safetensors")
        return self.path.parent.name if stem == "model" and self.path.parent.name else stem

    def is_novel(self) -> np.ndarray:
        """Per note: held out of training (a novel instrument)."""
        return self.notes.split == self.splits.index("novel") if "novel" in self.splits else np.zeros(len(self.notes), bool)

    @cached_property
    def discriminant_projection(self) -> Projection:
        """:meth:`Projection.discriminant` on the instruments the model trained on."""
        keep = ~self.is_novel()
        return Projection.discriminant(self.notes.z[keep], self.notes.instrument[keep])

    @cached_property
    def centroids(self) -> dict[str, np.ndarray]:
        """Latent centroid of every instrument in the map, in the order of :attr:`instruments`."""
        z, inst = self.notes.z, self.notes.instrument
        return {name: z[inst == i].mean(0) for i, name in enumerate(self.instruments) if (inst == i).any()}

    def nearest_instruments(self, z: ArrayLike, k: int = 3, *, trained_only: bool = True) -> list[tuple[str, float]]:
        """The ``k`` instruments whose centroids are closest to ``z``, with latent distances."""
        novel = set(self.instruments[i] for i in np.unique(self.notes.instrument[self.is_novel()]))
        z = np.asarray(z, np.float64)
        dist = sorted((float(np.linalg.norm(z - c)), name) for name, c in self.centroids.items()
                      if not (trained_only and name in novel))
        return [(name, d) for d, name in dist[:k]]

    def perceptual_overlay(self, dims: Sequence[int], projection: Projection | None = None
                           ) -> tuple[list[str], np.ndarray]:
        """The rated instruments' perceptual (MDS) positions, drawn in the plane of PCA components ``dims``.

        The MDS space and the latent space share no axes, so the positions
        are aligned to the instruments' centroids in that plane by the
        similarity transform (rotation, uniform scale, shift) that fits best
        in least squares (orthogonal Procrustes, on the positions' own first
        two principal axes): what remains are the true disagreements.
        """
        from scipy.linalg import orthogonal_procrustes

        names = [n for n in self.perceptual_instruments if n in self.centroids]
        if self.perceptual_positions is None or len(names) < 3:
            return [], np.zeros((0, 2))
        pos = self.perceptual_positions[[self.perceptual_instruments.index(n) for n in names]].astype(np.float64)
        pos = Projection.fit(pos).forward(pos)[:, :2]
        dst = (projection or self.projection).forward(np.stack([self.centroids[n] for n in names]))[:, list(dims)]
        src_c, dst_c = pos - pos.mean(0), dst - dst.mean(0)
        rotation, _ = orthogonal_procrustes(src_c, dst_c)
        scale = np.trace((src_c @ rotation).T @ dst_c) / max(np.sum(src_c ** 2), 1e-12)
        return names, scale * src_c @ rotation + dst.mean(0)

    def pair_agreement(self) -> list[tuple[str, str, float]]:
        """Per pair of rated instruments: log2 of (latent distance / perceptual distance), each over its mean.

        Positive: the latent space puts the pair further apart than listeners do.
        """
        names = [n for n in self.perceptual_instruments if n in self.centroids]
        if self.perceptual_positions is None or len(names) < 3:
            return []
        c = np.stack([self.centroids[n] for n in names]).astype(np.float64)
        p = self.perceptual_positions[[self.perceptual_instruments.index(n) for n in names]].astype(np.float64)
        i, j = np.triu_indices(len(names), 1)
        dz = np.linalg.norm(c[i] - c[j], axis=1)
        dp = np.linalg.norm(p[i] - p[j], axis=1)
        ratio = np.log2((dz / dz.mean()) / np.maximum(dp / dp.mean(), 1e-9))
        return [(names[a], names[b], float(r)) for a, b, r in zip(i, j, ratio)]

    # ------------------------------------------------------------------ decoding
    def decode(self, z: ArrayLike | torch.Tensor, *, pitch: ArrayLike | torch.Tensor | None = None,
               dynamic: str | None = None, level: ArrayLike | torch.Tensor | None = None) -> torch.Tensor:
        """Latent points ``[..., latent]`` to magnitude frames ``[..., bins]`` (float32, on the CPU).

        The likelihood's mean, as the paper decodes; on the GPU when the space is on one. A conditioned model
        decodes at MIDI ``pitch`` (default middle C) and at ``dynamic``'s level (default mf), or at ``level`` (per point or
        one for all) when given; an unconditioned one ignores them.
        """
        import torch

        zt = torch.as_tensor(np.asarray(z, np.float32) if not isinstance(z, torch.Tensor) else z, dtype=torch.float32)
        if zt.shape[-1] != self.latent_size:
            raise ParameterError(f"latent points of this model have {self.latent_size} values, got {zt.shape[-1]}")
        lead = zt.shape[:-1]
        flat = zt.reshape(-1, self.latent_size).to(self.device)
        pitch = None if pitch is None else torch.as_tensor(pitch, dtype=torch.float32).reshape(-1)
        level = None if level is None else torch.as_tensor(level, dtype=torch.float32).reshape(-1)
        c = self._conditions(len(flat), pitch, dynamic, level)
        with torch.no_grad():
            x, _ = self.model.decode(flat, c)
            return torch.exp(self.log_frames(x, c)).float().cpu().reshape(*lead, -1)

    def log_frames(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """Decoder means ``x [n, bins]`` to the natural-log magnitudes that play: at the level the conditions ``c``
        ask for, through the file's calibration when it has one (a file without it plays as before)."""
        from timbre_explorer.core.model.calibration import gain_at
        from timbre_explorer.core.model.vae import log_magnitudes

        log_mag = log_magnitudes(self.normalization, x, c)
        return log_mag if self.gain is None or c is None else log_mag + gain_at(self.gain, c)

    def encode_log(self, log_frames: ArrayLike, pitch: ArrayLike | None = None) -> np.ndarray:
        """Natural-log magnitude frames ``[n, bins]`` (of MIDI ``pitch``, one or per frame; None: unknown, the
        default) to their posterior means ``[n, latent]`` (float32)."""
        import torch

        from timbre_explorer.core.model.vae import frame_inputs

        lf = torch.as_tensor(np.asarray(log_frames, np.float32))
        p = None if pitch is None else torch.as_tensor(pitch, dtype=torch.float32).reshape(-1)
        x, c = frame_inputs(self.model.config, self.normalization, lf, p)
        with torch.no_grad():
            mu, _ = self.model.encode(x.to(self.device), None if c is None else c.to(self.device))
        return mu.float().cpu().numpy()

    def encode_note(self, log_frames: ArrayLike, *, pitch: float | None = None,
                    loudness: ArrayLike | None = None) -> np.ndarray:
        """A whole note's position ``[latent]`` (float32): the mean of the posterior means of its sounding
        frames (:func:`~timbre_explorer.core.data.dataset.sounding`), as the evaluation across sources places
        notes (:func:`~timbre_explorer.core.model.placement.note_positions`).

        ``log_frames [n, K]`` are the note's natural-log magnitude frames from its onset, as the dataset
        analyses notes; ``loudness [n]`` their levels (dBFS) when the analysis has them, else they are measured
        here. ``pitch`` (MIDI, or None: the default) is what a pitch-conditioned encoder reads.
        """
        from timbre_explorer.core.data.dataset import sounding
        from timbre_explorer.core.model.placement import note_positions

        frames = np.asarray(log_frames, np.float32)
        if frames.ndim != 2 or len(frames) == 0 or frames.shape[1] != self.nsgt.n_bins:
            raise ParameterError(f"a note's frames are [frames, {self.nsgt.n_bins}] log magnitudes, "
                                 f"got shape {frames.shape}")
        if loudness is None:
            loudness = self.describe(np.exp(frames.astype(np.float64)))["loudness"]
        part = frames[sounding(np.asarray(loudness))]
        return note_positions(self.model, self.normalization, [part], pitches=[pitch])[0]

    def decode_differentiable(self, z: torch.Tensor, *, pitch: ArrayLike | torch.Tensor | None = None,
                              dynamic: str | None = None) -> torch.Tensor:
        """:meth:`decode` with gradients (``z [n, latent]`` on :attr:`device`), for moving towards descriptor
        targets."""
        c = self._conditions(len(z), pitch, dynamic, None)
        x, _ = self.model.decode(z, c)
        return self.log_frames(x, c).exp()

    @cached_property
    def frequencies(self) -> np.ndarray:
        """Each bin's centre frequency (Hz): the transform's (:attr:`nsgt`), known without building it."""
        return self.preset.scale.frequencies()

    @cached_property
    def nsgt(self) -> NSGT:
        """The transform of a note of the dataset: descriptors of decoded frames are measured with it."""
        from timbre_explorer.core.signal.nsgt import transform_for

        return transform_for(self.preset, round(self.note_seconds * self.sample_rate))

    def describe(self, magnitude: ArrayLike | torch.Tensor) -> dict[str, np.ndarray]:
        """Descriptors (:data:`DESCRIPTORS`, physical units) of magnitude frames ``[..., bins]``."""
        import torch

        from timbre_explorer.core.signal.descriptors import descriptors

        m = magnitude.detach().cpu().double() if isinstance(magnitude, torch.Tensor) else torch.as_tensor(magnitude, dtype=torch.float64)
        return {k: v.numpy() for k, v in descriptors(m, self.nsgt).items()}

    @cached_property
    def decoded_descriptors(self) -> dict[str, np.ndarray]:
        """Descriptors of every map note as the model decodes it (what clicking on it plays)."""
        return self.describe(self.decode(self.notes.z))

    def summary(self) -> str:
        """One line for a status bar: where it decodes once the decoder is ready (asking would build it)."""
        where = f"decoding on {self.device.type.upper()}" if self.decoder_ready else "loading the decoder…"
        return (f"{self.name}: {len(self.notes)} notes of {len(self.centroids)} instruments, "
                f"latent {self.latent_size}, {self.preset.name}, {where}")


def card_source(meta: dict) -> str:
    """The short name of the sample set a card's dataset came from (files written before notes recorded their
    source, the bundled model's among them): its ``dataset.source`` path, else the General MIDI SoundFont."""
    paths = [p for p in str((meta.get("dataset") or {}).get("source") or "").split(", ") if p]
    return " + ".join(short_name(p) for p in paths) or DEFAULT_SOURCE


__all__ = ["TimbreSpace", "Decoder", "Projection", "Notes", "DESCRIPTORS", "default_device", "card_source"]
