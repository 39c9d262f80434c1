"""The ways between latent points: straight lines, or the paper's slerp. Paths, polylines and note morphs all go
through :func:`blend`. numpy only: the Explorer offers the modes before the model's decoder (and torch) is loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import ParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

INTERPOLATIONS = ("linear", "slerp")


def interpolate(a: ArrayLike, b: ArrayLike, steps: int, *, mode: str = "linear") -> np.ndarray:
    """``steps`` latent points from ``a`` to ``b`` (both ends included), linearly or spherically (slerp).

    Slerp is the paper's choice: it follows the great circle between the two
    vectors (seen from the origin, the prior's mean) instead of cutting
    through the low-density middle of the Gaussian prior, and scales the
    norm linearly along the way.
    """
    if steps < 2:
        raise ParameterError(f"a path needs at least 2 steps, got {steps}")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return blend(np.broadcast_to(a, (steps, a.size)), np.broadcast_to(b, (steps, b.size)),
                 np.linspace(0.0, 1.0, steps), mode=mode)


def blend(a: np.ndarray, b: np.ndarray, t: np.ndarray, *, mode: str = "linear") -> np.ndarray:
    """Row ``i`` a share ``t[i]`` of the way from ``a[i]`` to ``b[i]`` (``[n, latent]`` each), as :func:`interpolate`.

    The one interpolation of the app: paths, polylines and note morphs (frame
    to frame) all go through it. Slerp falls back to a straight line where
    either point is at the origin (no direction there).
    """
    if mode not in INTERPOLATIONS:
        raise ParameterError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}, got {mode!r}")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t = np.asarray(t, np.float64)[:, None]
    line = (1 - t) * a + t * b
    if mode == "linear":
        return line
    na, nb = np.linalg.norm(a, axis=1, keepdims=True), np.linalg.norm(b, axis=1, keepdims=True)
    ua, ub = a / np.maximum(na, 1e-12), b / np.maximum(nb, 1e-12)
    omega = np.arccos(np.clip((ua * ub).sum(1, keepdims=True), -1.0, 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        arc = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    direction = np.where(omega < 1e-6, (1 - t) * ua + t * ub, arc)
    return np.where((na < 1e-9) | (nb < 1e-9), line, direction * ((1 - t) * na + t * nb))


def along(points: ArrayLike, steps: int, *, mode: str = "linear") -> np.ndarray:
    """``steps`` latent points spread evenly (by latent distance) along a polyline through ``points [M, latent]``."""
    p = np.asarray(points, np.float64)
    if p.ndim != 2 or len(p) < 2:
        raise ParameterError("a path needs at least two points")
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    if seg.sum() <= 0:
        return np.repeat(p[:1], steps, 0)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.linspace(0.0, cum[-1], steps)
    k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
    t = np.where(seg[k] > 0, (s - cum[k]) / np.where(seg[k] > 0, seg[k], 1.0), 0.0)
    return blend(p[k], p[k + 1], t, mode=mode)
