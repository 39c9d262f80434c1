"""The map's latent coordinates as CSV: every shown note and every placed sound, with what it is.

A table others can plot or analyse without the app: one row per point, its
two map coordinates in the chosen projection and its full latent vector.
The Explorer only chooses the file; the columns are decided here.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.files import atomic_path

if TYPE_CHECKING:
    from timbre_explorer.core.synthesis.space import Projection, TimbreSpace


def write_map_csv(path: str | os.PathLike, space: TimbreSpace, *, projection: Projection, dims: tuple[int, int],
                  shown: np.ndarray, sounds: Sequence[tuple[str, np.ndarray]] = (),
                  axis_names: tuple[str, str] | None = None) -> Path:
    """Write the notes where ``shown [N]`` is True, then ``sounds`` (name, latent point), atomically.

    Columns: ``kind`` (note or sound), ``instrument``, ``pitch``, ``dynamic``,
    ``split`` (empty for sounds), the map coordinates on components ``dims``
    (named ``axis_names``, as the map shows them, else ``pc<k>``, 1-based) and the latent vector
    ``z0 ... z<latent-1>``.
    """
    notes, columns = space.notes, list(dims)  # a list: one axis of the coordinates, not one per dimension
    names = list(axis_names) if axis_names is not None else [f"pc{d + 1}" for d in columns]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["kind", "instrument", "pitch", "dynamic", "split", *names]
               + [f"z{i}" for i in range(space.latent_size)])
    coords = projection.forward(notes.z)[:, columns]
    for i in np.flatnonzero(shown):
        w.writerow(["note", space.instruments[notes.instrument[i]], int(notes.pitch[i]),
                    space.dynamics[notes.dynamic[i]] if notes.dynamic[i] >= 0 else "", space.splits[notes.split[i]],
                    *(f"{v:.6g}" for v in coords[i]), *(f"{v:.6g}" for v in notes.z[i])])
    for name, z in sounds:
        w.writerow(["sound", name, "", "", "", *(f"{v:.6g}" for v in projection.forward(z)[columns]),
                    *(f"{v:.6g}" for v in z)])
    with atomic_path(path) as tmp:
        Path(tmp).write_text(buf.getvalue(), encoding="utf-8")
    return Path(path)


__all__ = ["write_map_csv"]
