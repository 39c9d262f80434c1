"""What the map shows of a space, without Qt: its projection and components, the plane's depth, the filters.

It turns map coordinates into latent points (the projection's inverse, the hidden components from the depth
or the nearest shown note) and latent points into map coordinates; the Map tab's controls only set it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.space import Projection, TimbreSpace

DEPTH_STEPS = 100  # the depth runs from -DEPTH_STEPS (1st percentile of Z) to +DEPTH_STEPS (99th)


@dataclass
class Filters:
    """Which notes are shown: instruments (indices), a MIDI pitch range, dynamics (names); None shows all."""

    instruments: set[int] | None = None
    pitch: tuple[int, int] = (0, 127)
    dynamics: set[str] | None = None


class MapState:
    """The map of ``space``: components ``dims`` (x, y, z) of ``projection``, the plane's depth and the filters.

    ``depth`` runs from -DEPTH_STEPS to DEPTH_STEPS (the Map tab's slider); ``nearest``: a map position takes
    its hidden components from the nearest shown note instead of the plane.
    """

    def __init__(self, space: TimbreSpace):
        self.space = space
        self.projection: Projection = space.projection
        self.coords = self.projection.forward(space.notes.z)  # every note's components
        self.dims: tuple[int, int, int] = (0, 1, 2)
        self.depth = 0
        self.nearest = False
        self.filters = Filters()

    def set_projection(self, projection: Projection) -> bool:
        """Show the map on ``projection``; False when it is the one already shown."""
        if projection is self.projection:
            return False
        self.projection = projection
        self.coords = projection.forward(self.space.notes.z)
        return True

    @property
    def view_dims(self) -> tuple[int, int]:
        return self.dims[0], self.dims[1]

    def depth_value(self) -> float:
        """Where the plane cuts the Z component: the depth between its 1st and 99th percentile over the notes."""
        c = self.coords[:, self.dims[2]]
        lo, hi = np.percentile(c, 1), np.percentile(c, 99)
        return float((lo + hi) / 2 + (hi - lo) / 2 * self.depth / DEPTH_STEPS)

    def plane_rest(self) -> np.ndarray:
        """The components of the plane's hidden components: the map's mean, the depth on Z."""
        rest = np.zeros(self.space.latent_size)
        rest[self.dims[2]] = self.depth_value()
        return rest

    def mask(self) -> np.ndarray:
        """The notes the filters show (a note of unknown pitch or dynamic is never filtered out on it)."""
        n, f = self.space.notes, self.filters
        on = np.ones(len(n), bool) if f.instruments is None else np.isin(n.instrument, list(f.instruments))
        on &= ((n.pitch >= f.pitch[0]) & (n.pitch <= f.pitch[1])) | (n.pitch < 0)
        if f.dynamics is not None:
            shown = [i for i, d in enumerate(self.space.dynamics) if d in f.dynamics]
            on &= np.isin(n.dynamic, shown) | (n.dynamic < 0)
        return on

    def latent_at(self, x: float, y: float) -> np.ndarray:
        """The latent point under map position ``(x, y)`` (see the Map tab's "hidden components")."""
        rest = self.plane_rest()
        if self.nearest:
            visible = np.flatnonzero(self.mask())
            if len(visible):
                xy = self.coords[visible][:, list(self.view_dims)]
                rest = self.coords[visible[np.argmin(((xy - [x, y]) ** 2).sum(1))]]
        return self.projection.place([x, y], self.view_dims, rest=rest)

    def to_view(self, z) -> np.ndarray:
        """Latent points to the map's 2-D coordinates."""
        return self.projection.forward(z)[..., list(self.view_dims)]

    def to_xyz(self, z) -> np.ndarray:
        """Latent points to the 3-D view's coordinates."""
        return self.projection.forward(z)[..., list(self.dims)]
