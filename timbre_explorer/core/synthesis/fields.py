"""Descriptor fields: a descriptor's value over the map, to colour it (the paper's descriptor maps).

The decoder maps every latent point to a magnitude frame, so every point has
descriptors (:data:`~timbre_explorer.core.signal.descriptors.DESCRIPTORS`):
:func:`field` decodes a grid of the map, its positions made latent points as
the map's clicks are (on the data, or on a plane of the projection), and
describes each frame; :func:`field_levels` does it coarse to fine, so a
coarse map shows at once. Steering a point or a path by its descriptors is
:mod:`timbre_explorer.core.synthesis.reach`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import torch

from timbre_explorer.core.errors import Cancelled, ParameterError
from timbre_explorer.core.signal.descriptors import DESCRIPTORS, descriptors
from timbre_explorer.core.signal.units import check_names
from timbre_explorer.core.synthesis.manifold import OnData, Plane

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.space import Projection, TimbreSpace

FIELD_BATCH = 4096  # grid points decoded at once: bounded memory, and a cancel check between batches
MAX_RESOLUTION = 1000


# ---------------------------------------------------------------------------------------------- fields
@dataclass(frozen=True)
class Field:
    """Descriptors over a grid of a PCA plane: ``values[name][row, col]`` is at ``(x[col], y[row])``."""

    x: np.ndarray  # [nx] PCA coordinate along dims[0]
    y: np.ndarray  # [ny] PCA coordinate along dims[1]
    values: dict[str, np.ndarray]  # name -> [ny, nx], physical units (DESCRIPTORS)
    resolution: int
    dims: tuple[int, int] = (0, 1)


def field(space: TimbreSpace, *, dims: Sequence[int] = (0, 1), rest: ArrayLike | None = None,
          x_range: Iterable[float], y_range: Iterable[float], resolution: int = 100,
          names: str | Iterable[str] = tuple(DESCRIPTORS), cancel: Callable[[], bool] | None = None,
          projection: Projection | None = None, surface: Plane | OnData | None = None) -> Field:
    """Descriptors of the decoded frames on a ``resolution`` x ``resolution`` grid of the map.

    ``surface`` turns the grid's map positions into latent points, as the
    map's clicks do (:mod:`~timbre_explorer.core.synthesis.manifold`: on the
    data, or a plane); without it, the plane of PCA components ``dims`` with
    the others from ``rest`` (the full PCA coordinate vector, as for
    :meth:`~timbre_explorer.core.synthesis.space.Projection.place`; None: the
    map's mean) on ``projection`` (default the space's PCA; the Explorer may
    show other axes, e.g. :attr:`TimbreSpace.discriminant_projection`). The
    grid is decoded in batches without gradients and only the asked
    descriptors are computed, in float32 (within 0.001 Hz of float64 for the
    centroid on the bundled model, 1 Hz for the roll-off).
    """
    if surface is None:
        dims, rest, names = _check_plane(space, dims, rest, names)
        surface = Plane(projection if projection is not None else space.projection, dims, rest)
    elif len(surface.dims) != 2:
        raise ParameterError(f"a field is of a 2-D map, but this mapping is of {len(surface.dims)} components")
    else:
        names = check_names(names)
    xs, ys = _axis(x_range, resolution, "x_range"), _axis(y_range, resolution, "y_range")
    grid = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None]), -1)  # [ny, nx, 2], row-major (y rows)
    flat = describe_points(space, surface.latent(grid.reshape(-1, 2)), names, cancel)
    values = {k: v.reshape(len(ys), len(xs)) for k, v in flat.items()}
    return Field(xs, ys, values, int(resolution), (surface.dims[0], surface.dims[1]))


def field_levels(space: TimbreSpace, *, dims: Sequence[int] = (0, 1), rest: ArrayLike | None = None,
                 x_range: Iterable[float], y_range: Iterable[float], resolution: int = 100,
                 names: str | Iterable[str] = tuple(DESCRIPTORS), cancel: Callable[[], bool] | None = None,
                 projection: Projection | None = None, surface: Plane | OnData | None = None) -> Iterator[Field]:
    """:func:`field` at a quarter, half and then full ``resolution``: a coarse map shows at once.

    ``cancel`` is polled between levels and batches; when it returns True the
    generator raises :class:`~timbre_explorer.core.errors.Cancelled`.
    """
    _resolution(resolution)
    levels = sorted({r for r in (resolution // 4, resolution // 2) if r >= 8} | {int(resolution)})
    for r in levels:
        if cancel is not None and cancel():
            raise Cancelled("descriptor map cancelled")
        yield field(space, dims=dims, rest=rest, x_range=x_range, y_range=y_range, resolution=r, names=names,
                    cancel=cancel, projection=projection, surface=surface)


def contour_lines(values: np.ndarray, x: np.ndarray, y: np.ndarray, count: int) -> list[list[np.ndarray]]:
    """``count`` contour lines of a field's ``values [ny, nx]`` (sampled at ``x``, ``y``), at levels evenly spaced
    inside its range: for each level its polylines, ``[points, 2]`` in the map's coordinates. Traced by contourpy
    (matplotlib's), in C++, where the app computes the field: drawn by pyqtgraph's isocurves, the GUI thread traced
    them in Python as it painted, 50 ms for six lines of a 100 x 100 field."""
    import contourpy

    z = np.ma.masked_invalid(np.asarray(values, np.float64))
    if count <= 0 or z.count() == 0:
        return []
    lo, hi = float(z.min()), float(z.max())
    if not hi > lo:
        return []
    trace = contourpy.contour_generator(np.asarray(x, np.float64), np.asarray(y, np.float64), z,
                                        line_type=contourpy.LineType.Separate)
    return [list(cast("list[np.ndarray]", trace.lines(float(level)))) for level in np.linspace(lo, hi, count + 2)[1:-1]]


def _resolution(resolution: int) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or not 2 <= resolution <= MAX_RESOLUTION:
        raise ParameterError(f"field resolution must be a whole number from 2 to {MAX_RESOLUTION}, got {resolution!r}")
    return int(resolution)


def _axis(bounds: Iterable[float], resolution: int, what: str) -> np.ndarray:
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ParameterError(f"{what} must be two numbers (low, high), got {bounds!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ParameterError(f"{what} must be two finite numbers, low below high, got ({lo}, {hi})")
    return np.linspace(lo, hi, _resolution(resolution))


def _check_plane(space: TimbreSpace, dims: Iterable[int], rest: ArrayLike | None,
                 names: str | Iterable[str]) -> tuple[tuple[int, ...], np.ndarray, tuple[str, ...]]:
    latent = space.latent_size
    try:
        dims = tuple(int(d) for d in dims)
    except (TypeError, ValueError):
        raise ParameterError(f"dims must be two PCA component indices, got {dims!r}") from None
    if len(dims) != 2 or dims[0] == dims[1] or not all(0 <= d < latent for d in dims):
        raise ParameterError(f"dims must be two different PCA components from 0 to {latent - 1}, got {dims}")
    rest = np.zeros(latent) if rest is None else np.asarray(rest, np.float64)
    if rest.shape != (latent,) or not np.all(np.isfinite(rest)):
        raise ParameterError(f"rest must be {latent} finite PCA coordinates, got shape {rest.shape}")
    return dims, rest, check_names(names)


@torch.inference_mode()
def _decode_mean(space: TimbreSpace, z: torch.Tensor, pitch: float | None = None,
                 dynamic: str | None = None) -> torch.Tensor:
    """Magnitudes of the likelihood's mean (a conditioned model's at MIDI ``pitch`` and ``dynamic``: default
    middle C and mf), without the log-variance head that :meth:`decode` also runs."""
    c = space.conditions_for(len(z), pitch=pitch, dynamic=dynamic)
    return torch.exp(space.log_frames(space.model.decode_mean(z, c), c))


def describe_points(space: TimbreSpace, z: ArrayLike, names: Collection[str],
                    cancel: Callable[[], bool] | None = None, *, pitch: float | None = None,
                    dynamic: str | None = None) -> dict[str, np.ndarray]:
    """Descriptors (float32) of the decoded frames of latent points ``z [n, latent]``, in batches (a conditioned
    model's at MIDI ``pitch`` and ``dynamic``: default middle C and mf)."""
    zt = torch.as_tensor(np.asarray(z, np.float32))
    out: dict[str, list] = {k: [] for k in names}
    for start in range(0, len(zt), FIELD_BATCH):
        if cancel is not None and cancel():
            raise Cancelled("descriptor map cancelled")
        mag = _decode_mean(space, zt[start:start + FIELD_BATCH].to(space.device), pitch, dynamic)
        with torch.inference_mode():
            d = descriptors(mag, space.nsgt, names)
        for k in names:
            out[k].append(d[k].float().cpu().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


__all__ = ["Field", "field", "field_levels", "describe_points", "check_names", "FIELD_BATCH", "MAX_RESOLUTION"]
