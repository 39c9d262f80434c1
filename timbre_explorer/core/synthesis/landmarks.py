"""The point an instrument's name plays: a name on the map that plays what it says.

A name sits at its instrument's centroid, but what the model plays there is not always that instrument: on the
bundled model the Clarinet, Saxophone and Piano centroids, decoded at middle C mf and encoded back, land nearest
Oboe, Flute and Celesta, and the held notes of 4 of the 12 rated names, placed as a user's sound, land nearest
another instrument (``benchmarks/run.py --only labels``). So a click on a name plays :func:`name_point`: the
point nearest the centroid, among the centroid and the instrument's own notes drawn towards and beyond it, whose
decoded frame comes back as the instrument (a few hundred candidates in one batch) and whose held note is heard
as it (a note rendered and placed per candidate, the nearest :data:`HEARD_TRIES` tried: 0.1 s each). Up to two
seconds on a CPU: the GUI asks for it in a worker, once per name, pitch and dynamic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from timbre_explorer.core.errors import ParameterError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.space import TimbreSpace

#: The candidates: the centroid plus each sampled note's offset from it times these (inside, at, beyond the note).
SCALES = (0.5, 1.0, 1.5, 2.0, 3.0)
NOTES_TRIED = 256  # notes of the instrument sampled (all of them when it has fewer), with a fixed seed
HEARD_TRIES = 24  # of those that come back as the instrument, the nearest this many are played and listened to


def comes_back_as(space: TimbreSpace, z: ArrayLike, *, pitch: float, dynamic: str) -> list[str]:
    """The instrument whose centroid is nearest each latent point ``z [n, latent]`` once its note is decoded at
    MIDI ``pitch`` and ``dynamic`` and encoded back: what the model hears in what it plays there."""
    frames = space.decode(np.asarray(z, np.float64), pitch=pitch, dynamic=dynamic if dynamic in space.levels else None)
    back = space.encode_log(np.log(np.maximum(frames.numpy(), 1e-12)), pitch=pitch if space.conditioned else None)
    return _nearest(space, back)


def name_point(space: TimbreSpace, name: str, *, pitch: float, dynamic: str) -> np.ndarray:
    """The latent point ``[latent]`` a click on instrument ``name``'s name plays at ``pitch`` and ``dynamic``.

    The candidate nearest the centroid that lies nearest that instrument's centroid, comes back as it
    (:func:`comes_back_as`) and, a conditioned model's, is heard as it (:func:`heard_as`); failing the last,
    the first that does the rest; the centroid itself when none does (a model that cannot play the instrument:
    a piano's decay held as a sustained note is heard as a sustained instrument).
    """
    if name not in space.centroids:
        raise ParameterError(f"the map has no instrument named {name!r}")
    centre = np.asarray(space.centroids[name], np.float64)
    notes = space.notes.z[space.notes.instrument == space.instruments.index(name)].astype(np.float64)
    picked = notes[np.random.default_rng(0).choice(len(notes), min(len(notes), NOTES_TRIED), replace=False)]
    candidates = np.vstack([centre[None], *(centre + s * (picked - centre) for s in SCALES)])
    candidates = candidates[np.argsort(np.linalg.norm(candidates - centre, axis=1), kind="stable")]
    here = np.array(_nearest(space, candidates)) == name
    good = np.flatnonzero(here & (np.array(comes_back_as(space, candidates, pitch=pitch, dynamic=dynamic)) == name))
    if space.conditioned:  # the first that is also heard as the instrument (a note rendered and placed: 0.1 s)
        for k in good[:HEARD_TRIES]:
            if heard_as(space, candidates[k], pitch=pitch, dynamic=dynamic) == name:
                return candidates[k]
    return candidates[good[0]] if len(good) else centre


def heard_as(space: TimbreSpace, z: ArrayLike, *, pitch: float, dynamic: str) -> str:
    """The instrument whose centroid is nearest the note latent point ``z`` plays at ``pitch`` and ``dynamic``
    (held a second), placed as a user's sound is placed (:func:`~timbre_explorer.core.synthesis.analysis.
    encode_files`: the whole note, its pitch estimated)."""
    from timbre_explorer.core.signal.pitch import estimate_pitch
    from timbre_explorer.core.synthesis.morph import analyse_note
    from timbre_explorer.core.synthesis.playable import playable_note

    note = analyse_note(space, playable_note(space, z, pitch=pitch, dynamic=dynamic).held(1.0))
    placed = space.encode_note(note.features.log_magnitude, pitch=estimate_pitch(note.audio, space.sample_rate),
                               loudness=note.features.loudness)
    return _nearest(space, placed)[0]


def _nearest(space: TimbreSpace, z: np.ndarray) -> list[str]:
    """The instrument whose centroid is nearest each of ``z [n, latent]``, among all of the map's."""
    names = list(space.centroids)
    centres = np.stack([space.centroids[n] for n in names]).astype(np.float64)
    z = np.asarray(z, np.float64).reshape(-1, centres.shape[1])
    d = (z ** 2).sum(1)[:, None] - 2 * z @ centres.T + (centres ** 2).sum(1)[None]
    return [names[i] for i in d.argmin(1)]


__all__ = ["SCALES", "NOTES_TRIED", "HEARD_TRIES", "comes_back_as", "heard_as", "name_point"]
