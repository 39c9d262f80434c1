"""The perceptual target of training and evaluation: the MDS space of the listeners' ratings, restricted to the
instruments a dataset has (here, not in the loop, so the evaluation reads it without importing the loop)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.training.config import TrainConfig


@dataclass
class Perceptual:
    """The regularization target, restricted to the instruments the dataset has."""

    instruments: tuple[str, ...]
    positions: np.ndarray  # [n, dims] MDS positions
    matrix: np.ndarray  # [n, n] max-normalized dissimilarities
    mds_stress: float
    mds_spearman_rho: float


def perceptual_target(cfg: TrainConfig, labels: list[str]) -> Perceptual:
    """The MDS space of the ratings. A user's matrix must name only dataset instruments; the built-in
    one is cut to the instruments the dataset has (a sample folder rarely has all twelve)."""
    from timbre_explorer.core.data.perception import Dissimilarities, load_dissimilarities, timbre_space

    if cfg.ratings is None:
        full = load_dissimilarities()
        keep = [i for i, name in enumerate(full.instruments) if name in set(labels)]
        if len(keep) < 3:
            raise ParameterError(f"only {len(keep)} of the dataset's instruments were rated in the timbre studies "
                                 f"({', '.join(full.instruments)}); the perceptual regularizer needs 3. Name folders "
                                 "after them, bring your own ratings (ratings), or set regularizer to 'none'")
        sub = full.matrix[np.ix_(keep, keep)]
        d = Dissimilarities(tuple(full.instruments[i] for i in keep), sub / sub.max(), full.source)
    else:
        d = load_dissimilarities(cfg.ratings, labels=labels)
    space = timbre_space(d, dims=min(cfg.mds_dims, len(d.instruments) - 1))
    return Perceptual(d.instruments, space.positions, d.matrix, space.stress, space.spearman_rho)
