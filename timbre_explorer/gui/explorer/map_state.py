"""What the map shows of a space, without Qt: its projection and components, the mapping's mode, the filters.

It turns map coordinates into latent points (the projection's inverse, the hidden components from the notes
nearby, the plane's depth or the nearest shown note: :mod:`~timbre_explorer.core.synthesis.manifold`) and
latent points into map coordinates; the Map tab's controls only set it.

A map of many instruments (more than :data:`MANY_INSTRUMENTS`: every General MIDI program) is coloured by family
at first (:func:`default_colouring`), its legend groups the instruments by family (:func:`family_groups`), and
its names are the rated instruments' alone while more than that many instruments are shown (:meth:`MapState.labelled`):
a hundred names would hide each other and the notes, and the rated ones are the landmarks the ratings place. Hide
families in the legend and the others' names come back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.data.instruments import FAMILIES
from timbre_explorer.core.synthesis.manifold import OnData, Plane
from timbre_explorer.core.training.config import RATED

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.space import Projection, TimbreSpace

DEPTH_STEPS = 100  # the depth runs from -DEPTH_STEPS (1st percentile of Z) to +DEPTH_STEPS (99th)
# Where a map position takes the components the map does not show from (the Map tab's "hidden components"):
ON_DATA = "data"  # on the data: from the notes nearby (OnData), the default
PLANE = "plane"  # the paper's flat plane: the map's mean, the depth slider on Z
NEAREST = "nearest"  # the nearest shown note's
MODES = (ON_DATA, PLANE, NEAREST)
#: More instruments than this: colour by family at first, name only the rated instruments (module docstring).
MANY_INSTRUMENTS = 20


def default_colouring(instruments: int) -> str:
    """What the map colours by when a model with this many instruments opens: "family" when they are many."""
    return "family" if instruments > MANY_INSTRUMENTS else "instrument"


@dataclass(frozen=True)
class FamilyGroup:
    """A family of the legend and its instruments (indices into the space's instruments)."""

    family: str
    members: tuple[int, ...]


def family_groups(families: list[str]) -> list[FamilyGroup]:
    """The instruments grouped by family (``families``: each instrument's), the families in General MIDI's order
    (:data:`~timbre_explorer.core.data.instruments.FAMILIES`), others after them by name; members in their order.

    >>> [(g.family, g.members) for g in family_groups(["brass", "other", "woodwind", "brass"])]
    [('brass', (0, 3)), ('woodwind', (2,)), ('other', (1,))]
    """
    known = {f: k for k, f in enumerate(FAMILIES)}
    order = sorted(dict.fromkeys(families), key=lambda f: (known.get(f, len(known)), f))
    return [FamilyGroup(f, tuple(i for i, g in enumerate(families) if g == f)) for f in order]


@dataclass
class Filters:
    """Which notes are shown: instruments (indices), a MIDI pitch range, dynamics (names); None shows all."""

    instruments: set[int] | None = None
    pitch: tuple[int, int] = (0, 127)
    dynamics: set[str] | None = None


class MapState:
    """The map of ``space``: components ``dims`` (x, y, z) of ``projection``, the mode, the depth and the filters.

    ``mode`` (one of :data:`MODES`) says where a map position takes its hidden components from; ``depth`` runs
    from -DEPTH_STEPS to DEPTH_STEPS (the Map tab's slider) and moves the plane of the plane mode.
    """

    def __init__(self, space: TimbreSpace):
        self.space = space
        self.projection: Projection = space.projection
        self.coords = self.projection.forward(space.notes.z)  # every note's components
        self.dims: tuple[int, int, int] = (0, 1, 2)
        self.depth = 0
        self.mode = ON_DATA
        self.filters = Filters()
        self._surface: tuple[tuple, bytes, OnData] | None = None  # the last OnData built, and what it was of

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

    def surface(self) -> Plane | OnData:
        """The mapping from map positions (the shown components) to latent points, for the mode.

        Clicks, drags, descriptor fields and paths walked on the map all go through it. The notes' search tree
        is built once per projection, axes, mode and filters (a drag asks for it every 30 ms); with every note
        filtered out, the plane.
        """
        return self.surface_maker()()

    def surface_maker(self) -> Callable[[], Plane | OnData]:
        """:meth:`surface` as a function any thread may call, the state read now: a new projection, mode or
        filter set has its search tree built off the GUI thread (300k notes: 0.7 s) and kept for the clicks."""
        ready, build = self._surface_now()
        return build if build is not None else lambda: ready  # type: ignore[return-value]

    def ready_surface(self) -> Plane | OnData | None:
        """:meth:`surface` when it is at hand (the plane, or the notes' search tree already built), else None: a
        click in the first second after a model opens finds the tree still being built (about 1 s on a busy CPU)."""
        return self._surface_now()[0]

    def _surface_now(self) -> tuple[Plane | OnData | None, Callable[[], OnData] | None]:
        """The surface when it is at hand, else None and the function that builds it."""
        plane = Plane(self.projection, self.view_dims, self.plane_rest())
        if self.mode == PLANE:
            return plane, None
        mask = self.mask()
        if not mask.any():
            return plane, None
        key, shown = (id(self.projection), self.view_dims, self.mode), np.packbits(mask).tobytes()
        kept = self._surface
        if kept is not None and kept[:2] == (key, shown):
            return kept[2], None
        projection, dims, notes = self.projection, self.view_dims, self.space.notes.z
        anchors = None if self.mode == NEAREST else self.label_anchors(mask)

        def build() -> OnData:
            kept = self._surface  # built meanwhile, by an earlier call (points asked while it was being built)
            if kept is not None and kept[:2] == (key, shown):
                return kept[2]
            z = notes[mask]  # here, not on the GUI thread: 300k notes are 38 MB to copy
            surface = OnData(projection, z, dims, neighbours=1) if anchors is None else \
                OnData(projection, z, dims, anchors=anchors)
            self._surface = key, shown, surface  # one rebinding: whichever thread builds it, the map keeps it
            return surface
        return None, build

    def labelled(self, mask: np.ndarray) -> list[str]:
        """The instruments named on the map: every one with a note shown (``mask``), or the rated ones alone
        while more than :data:`MANY_INSTRUMENTS` have one (the space's perceptual instruments, else the studies')."""
        s = self.space
        shown = set(np.unique(s.notes.instrument[mask]).tolist())
        names = [name for name in s.centroids if s.instruments.index(name) in shown]
        if len(names) <= MANY_INSTRUMENTS:
            return names
        rated = set(s.perceptual_instruments) or RATED
        return [name for name in names if name in rated]

    def label_anchors(self, mask: np.ndarray) -> np.ndarray:
        """Where the on-data mapping is pinned: the centroid of every instrument with a note shown, at its name.

        A click on an instrument's name plays that instrument: the regression alone at the name (the centroid's
        projection) blends whichever notes lie near it on the map: on the previous bundled model 6 of the 12
        rated names then played another instrument (``benchmarks/run.py --only labels``).
        """
        s = self.space
        shown = np.unique(s.notes.instrument[mask])
        pinned = [z for name, z in s.centroids.items() if s.instruments.index(name) in shown]
        return np.stack(pinned) if pinned else np.zeros((0, s.latent_size))

    def latent_at(self, x: float, y: float) -> np.ndarray:
        """The latent point under map position ``(x, y)`` (see the Map tab's "hidden components")."""
        return self.surface().latent([x, y])

    def path_surface(self) -> OnData | None:
        """What a path's frames are walked on: the mapping of clicks, except in the plane mode (None), where a
        path is the paper's, interpolated through the whole latent space."""
        surface = self.surface()
        return surface if isinstance(surface, OnData) else None

    def to_view(self, z) -> np.ndarray:
        """Latent points to the map's 2-D coordinates."""
        return self.projection.forward(z)[..., list(self.view_dims)]

    def to_xyz(self, z) -> np.ndarray:
        """Latent points to the 3-D view's coordinates."""
        return self.projection.forward(z)[..., list(self.dims)]
