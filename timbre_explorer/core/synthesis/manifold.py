"""Map positions to latent points: on the data (the default), or on the paper's flat plane.

A map shows two components of a projection (the 3-D view three); a latent
point needs all of them. The paper takes the hidden ones from a flat plane
(:class:`Plane`: the map's mean, a depth on one component), but the notes do
not lie on a plane: on the bundled model the map holds 38 % of the
latent variance, and a click on an instrument's name (its centroid) decodes
a point off the data that re-encodes as that instrument for only 3 of the
12 rated instruments (``benchmarks/run.py --only labels``).

:class:`OnData` takes the hidden components from the notes near the clicked
position instead: a kernel regression over them in the shown components,
pinned at the instruments' names (their centroids), so that a click on a
name plays that instrument even where instruments overlap on the map (the
regression alone: 6 of 12 on the previous bundled model, 10 on the shipped
one; pinned: 11 and 12).
The shown components stay exactly where the user clicked. Every place that
turns map positions into latent points (clicks, drags, descriptor fields,
paths walked on the map) goes through one of these two, so what the map
shows and what it plays agree. :func:`walk_on` puts latent points (a path's
frames) on the same mapping.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import ParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.space import Projection

NEIGHBOURS = 16  # notes a point's hidden components come from (on the paper's unconditioned model 16 and 24 both
# re-encoded 11 of 12 label clicks right without pins; 16 is quicker and played 1 dB louder)


class Plane:
    """The paper's plane: components ``dims`` from the map, the others those of ``rest`` (PCA coordinates)."""

    def __init__(self, projection: Projection, dims: Iterable[int], rest: ArrayLike) -> None:
        self.projection = projection
        self.dims = tuple(int(d) for d in dims)
        self.rest = np.asarray(rest, np.float64)

    def latent(self, values: ArrayLike) -> np.ndarray:
        """Latent points ``[..., latent]`` at map positions ``values [..., len(dims)]``.

        By broadcasting, not a matrix product: numpy's OpenBLAS threads spin on
        after a product of a 100 x 100 grid's size and took a core from the
        decoder that follows (measured: 155 ms for the bundled model's field
        instead of 80).
        """
        values = np.asarray(values, np.float64)
        coords = self.rest.copy()
        coords[list(self.dims)] = 0.0
        out = np.broadcast_to(self.projection.inverse(coords), values.shape[:-1] + coords.shape).copy()
        for k, d in enumerate(self.dims):
            out += values[..., k, None] * self.projection.components[d]
        return out


class OnData:
    """Map positions to latent points on the data: the hidden components regressed on the notes ``z`` nearby.

    For a position ``p`` in components ``dims`` of ``projection``, the hidden
    components are a weighted mean of those of the ``neighbours`` notes
    nearest ``p`` in the shown components (``z``: the notes the map shows,
    so its filters hold). The weights are Gaussian, of a width adapted to
    the data's density there: half the distance ``r`` to the next note
    (``neighbours + 1``-th), less the kernel's value at ``r``, so a note's
    weight falls to zero as it leaves the neighbourhood and the mapping is
    continuous (a drag never jumps). So:

    * at a cluster's centre the point lies among that cluster's notes;
    * between two clusters their hidden components blend smoothly;
    * far outside the data the weights settle on the notes nearest in that
      direction (never on the map's mean);
    * with ``neighbours=1`` it is the nearest note's hidden components;
    * at ``anchors`` (latent points, the map's instrument centroids) it is
      exactly them (:meth:`_pin`).

    A mean of notes of different pitches decodes quieter than the notes do
    (at the rated instruments' names on the bundled model, up to about 20 dB
    under their neighbours' decoded loudness): the price of a continuous
    mapping; the nearest-note mode plays real notes, and jumps.
    """

    def __init__(self, projection: Projection, z: ArrayLike, dims: Iterable[int], *, neighbours: int = NEIGHBOURS,
                 anchors: ArrayLike | None = None) -> None:
        from scipy.spatial import cKDTree  # here: scipy.spatial takes a while to import, the app starts without it

        self.projection = projection
        self.dims = tuple(int(d) for d in dims)
        coords = projection.forward(np.asarray(z, np.float64).reshape(-1, projection.mean.size))
        if not len(coords):
            raise ParameterError("no notes to take the hidden components from: every note is filtered out")
        if isinstance(neighbours, bool) or not isinstance(neighbours, (int, np.integer)) or neighbours < 1:
            raise ParameterError(f"neighbours must be a whole number of at least 1, got {neighbours!r}")
        self.neighbours = min(int(neighbours), max(len(coords) - 1, 1))
        self.tree = cKDTree(coords[:, list(self.dims)])
        hidden = coords.copy()
        hidden[:, list(self.dims)] = 0.0
        self.hidden = projection.inverse(hidden)  # [N, latent] each note's hidden components, as a latent vector
        shown = coords[:, list(self.dims)]
        reach = 0.5 * float(np.sqrt(np.mean(np.sum((shown - shown.mean(0)) ** 2, axis=1))))
        self._pin(np.zeros((0, coords.shape[1])) if anchors is None else np.asarray(anchors, np.float64), reach)

    def _pin(self, anchors: np.ndarray, reach: float) -> None:
        """Make the mapping pass through ``anchors [A, latent]`` at their map positions.

        Each anchor adds its residual (its hidden components less the regression's there) times a bump
        (Wendland's (1 - r)⁴(4r + 1)) that falls to zero, with zero slope, at the nearest other anchor or at
        ``reach`` (half the notes' RMS distance from their mean on the map), whichever is nearer: so every
        anchor is met exactly, the mapping stays smooth, and away from the anchors it is the regression.
        """
        coords = self.projection.forward(anchors.reshape(-1, self.projection.mean.size))
        self.anchor_at = coords[:, list(self.dims)]
        self.anchor_residual = np.zeros_like(coords)
        self.anchor_radius = np.zeros(len(coords))
        if not len(coords):
            return
        apart = np.linalg.norm(self.anchor_at[:, None] - self.anchor_at[None], axis=-1)
        np.fill_diagonal(apart, np.inf)
        self.anchor_radius = np.minimum(apart.min(1, initial=np.inf), reach)
        hidden = coords.copy()
        hidden[:, list(self.dims)] = 0.0
        self.anchor_residual = self.projection.inverse(hidden) - self._hidden_at(self.anchor_at)

    def latent(self, values: ArrayLike) -> np.ndarray:
        """Latent points ``[..., latent]`` at map positions ``values [..., len(dims)]``.

        The regression is linear in the notes' hidden components, so it runs as one sparse product of the
        weights with them (a 100 x 100 grid of the bundled model: the neighbour search is most of the time).
        """
        values = np.asarray(values, np.float64)
        if values.shape[-1:] != (len(self.dims),):
            raise ParameterError(f"map positions need {len(self.dims)} values, got shape {values.shape}")
        flat = values.reshape(-1, len(self.dims))
        out = self._hidden_at(flat)
        if len(self.anchor_at):
            r = np.linalg.norm(flat[:, None] - self.anchor_at[None], axis=-1) / np.maximum(self.anchor_radius, 1e-12)
            bump = np.where(r < 1.0, (1.0 - np.minimum(r, 1.0)) ** 4 * (4.0 * r + 1.0), 0.0)
            out += bump @ self.anchor_residual
        for k, d in enumerate(self.dims):
            out += flat[:, k, None] * self.projection.components[d]
        return out.reshape(values.shape[:-1] + self.hidden.shape[1:])

    def _hidden_at(self, points: np.ndarray) -> np.ndarray:
        return self._regress(points) if len(self.hidden) > 1 else np.repeat(self.hidden, len(points), 0)

    def _regress(self, points: np.ndarray) -> np.ndarray:
        from scipy import sparse

        k = self.neighbours
        dist, index = self.tree.query(points, k + 1)  # the (k+1)-th sets the width and gets no weight
        near, edge = dist[:, :k], dist[:, k:]
        # (exp(-d²/2h²) - exp(-r²/2h²)) / exp(-r²/2h²) with h = r/2, without losing digits far from the data
        with np.errstate(invalid="ignore", divide="ignore"):
            weight = np.nan_to_num(np.expm1(2.0 * (edge - near) * (edge + near) / edge ** 2))
        tie = weight.sum(1) <= 0  # all k + 1 at one distance (notes that coincide)
        weight[tie] = near[tie] <= near[tie, :1]
        weight /= weight.sum(1, keepdims=True)
        rows = np.arange(0, weight.size + 1, k)
        return sparse.csr_array((weight.ravel(), index[:, :k].ravel(), rows),
                                shape=(len(points), len(self.hidden))) @ self.hidden


def walk_on(surface: Plane | OnData, z: ArrayLike) -> np.ndarray:
    """Latent points ``z [..., latent]`` moved onto ``surface``: their shown components kept, the others its own.

    A path's frames walked through the latent space leave the data between its
    corners; walked on the map's mapping, every frame is where the map would
    put a click at its position.
    """
    shown = surface.projection.forward(z)[..., list(surface.dims)]
    return surface.latent(shown)


__all__ = ["Plane", "OnData", "walk_on", "NEIGHBOURS"]
