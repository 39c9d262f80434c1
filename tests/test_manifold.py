"""Map positions to latent points on the data (``core/synthesis/manifold.py``), on a map of known clusters."""

from __future__ import annotations

import numpy as np
import pytest
from tiny import CLUSTER_SPREAD

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.synthesis.manifold import OnData, Plane, walk_on
from timbre_explorer.core.synthesis.space import Projection


def _label(space, name) -> np.ndarray:
    """Where the map puts an instrument's name: its centroid, on the first two components."""
    return space.projection.forward(space.centroids[name])[:2]


def _hidden(space, z) -> np.ndarray:
    return space.projection.forward(z)[..., 2:]


def test_a_click_at_a_clusters_centre_lands_among_its_notes(clustered_space):
    s = clustered_space
    on_data = OnData(s.projection, s.notes.z, (0, 1))
    plane = Plane(s.projection, (0, 1), np.zeros(s.latent_size))  # the paper's: the map's mean
    for i, name in enumerate(s.instruments):
        notes = s.notes.z[s.notes.instrument == i]
        z, flat = on_data.latent(_label(s, name)), plane.latent(_label(s, name))
        nearest = np.linalg.norm(notes - z, axis=1).min()
        assert nearest < 3 * CLUSTER_SPREAD and nearest < np.linalg.norm(notes - flat, axis=1).min() / 3, name
        assert s.nearest_instruments(z, 1, trained_only=False)[0][0] == name


def test_between_two_clusters_the_hidden_components_blend_continuously(clustered_space):
    s = clustered_space
    on_data = OnData(s.projection, s.notes.z, (0, 1))
    a, b = _label(s, "Clarinet"), _label(s, "Oboe")

    def walk(steps):
        return _hidden(s, on_data.latent(a + np.linspace(0, 1, steps)[:, None] * (b - a)))

    h = walk(1001)
    ha, hb, mid = h[0], h[-1], h[500]
    assert np.allclose(ha, _hidden(s, s.centroids["Clarinet"]), atol=CLUSTER_SPREAD)
    assert np.allclose(hb, _hidden(s, s.centroids["Oboe"]), atol=CLUSTER_SPREAD)
    assert np.all(mid > np.minimum(ha, hb) - CLUSTER_SPREAD) and np.all(mid < np.maximum(ha, hb) + CLUSTER_SPREAD)
    assert min(np.linalg.norm(mid - ha), np.linalg.norm(mid - hb)) > np.linalg.norm(ha - hb) / 4  # a blend
    # no jump: walked ten times finer, the largest step is (about ten times) smaller
    largest = [np.linalg.norm(np.diff(w, axis=0), axis=1).max() for w in (h, walk(10001))]
    assert largest[1] < largest[0] / 5


def test_far_outside_the_data_it_settles_on_the_nearest_notes_not_the_mean(clustered_space):
    s = clustered_space
    on_data = OnData(s.projection, s.notes.z, (0, 1))
    mean = s.projection.mean
    for name in ("Clarinet", "Trumpet"):
        for far in (5.0, 1e4):
            h = _hidden(s, on_data.latent(far * _label(s, name)))
            assert np.allclose(h, _hidden(s, s.centroids[name]), atol=2 * CLUSTER_SPREAD), (name, far)
            assert np.linalg.norm(h - _hidden(s, mean)) > 0.2


@pytest.mark.parametrize("dims", [(0, 1), (2, 0), (0, 1, 2)])
def test_the_shown_components_are_exactly_where_the_user_clicked(tiny_space, dims):
    s = tiny_space
    points = np.random.default_rng(1).uniform(-3, 3, (50, len(dims)))
    for surface in (OnData(s.projection, s.notes.z, dims), Plane(s.projection, dims, np.ones(s.latent_size)),
                    OnData(s.discriminant_projection, s.notes.z, dims)):
        z = surface.latent(points)
        assert z.shape == (50, s.latent_size)
        assert np.allclose(surface.projection.forward(z)[:, list(dims)], points, atol=1e-9)
        assert np.allclose(walk_on(surface, z), z, atol=1e-9)  # a point of the mapping is where it belongs
    plane = Plane(s.projection, dims, np.arange(s.latent_size, dtype=float))
    assert np.allclose(plane.latent(points[3]), s.projection.place(points[3], dims, rest=np.arange(s.latent_size)))


def test_one_neighbour_is_the_nearest_note_and_one_note_gives_its_components(tiny_space):
    s = tiny_space
    coords = s.projection.forward(s.notes.z)
    nearest = OnData(s.projection, s.notes.z, (0, 1), neighbours=1)
    assert np.allclose(nearest.latent(coords[11, :2]), s.notes.z[11], atol=1e-5)
    assert np.allclose(OnData(s.projection, s.notes.z[:1], (0, 1)).latent([5.0, 5.0]),
                       s.projection.place([5.0, 5.0], (0, 1), rest=coords[0]))  # one note: its components


def test_no_notes_or_a_point_of_the_wrong_size_says_why(tiny_space):
    s = tiny_space
    with pytest.raises(ParameterError, match="every note is filtered out"):
        OnData(s.projection, s.notes.z[:0], (0, 1))
    with pytest.raises(ParameterError, match="need 2 values"):
        OnData(s.projection, s.notes.z, (0, 1)).latent([1.0, 2.0, 3.0])


def test_names_pin_the_mapping_where_instruments_overlap_on_the_map():
    """Two instruments share the map's place and differ only in a hidden component: the regression alone plays
    their blend at either name; pinned at the names, each name plays its instrument, smoothly, and far from the
    names the mapping is the regression's."""
    rng = np.random.default_rng(3)
    shown = rng.normal(0.0, 1.0, (400, 2))
    hidden = np.where(np.arange(400) < 200, 1.0, -1.0)[:, None]  # instrument A above, B below
    z = np.hstack([shown + np.where(np.arange(400)[:, None] < 200, 0.0, 0.4), hidden])
    projection = Projection(np.zeros(3), np.eye(3), np.full(3, 1 / 3))
    names = np.stack([z[:200].mean(0), z[200:].mean(0)])
    plain = OnData(projection, z, (0, 1))
    pinned = OnData(projection, z, (0, 1), anchors=names)
    at = names[:, :2]
    assert np.abs(plain.latent(at)[:, 2]).max() < 0.6  # a blend at either name
    assert np.allclose(pinned.latent(at), names, atol=1e-9)  # each name its instrument
    steps = [np.linalg.norm(np.diff(pinned.latent(at[0] + np.linspace(-1, 2, n)[:, None] * (at[1] - at[0])),
                                    axis=0), axis=1).max() for n in (1001, 10001)]
    assert steps[1] < steps[0] / 5  # no jump
    far = at[0] + 3.0 * np.array([1.0, 1.0])
    assert np.allclose(pinned.latent(far), plain.latent(far))
    alone = OnData(projection, z, (0, 1), anchors=names[:1])  # one name shown: pinned there, not everywhere
    assert np.allclose(alone.latent(at[0]), names[0], atol=1e-9)
    assert np.allclose(alone.latent(far), plain.latent(far))


def test_the_axes_that_set_instruments_apart_take_little_memory_for_a_big_map():
    """The LDA basis of a map of every General MIDI program (tens of thousands of notes) is a rotation, built
    without an [N x N] factor (an SVD of the notes with full matrices took 16 GB for the bundled model's 45,669)."""
    import tracemalloc

    from timbre_explorer.core.synthesis.space import Projection

    rng = np.random.default_rng(3)
    z, labels = rng.standard_normal((50_000, 16)), rng.integers(0, 120, 50_000)
    tracemalloc.start()
    p = Projection.discriminant(z, labels)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.allclose(p.components @ p.components.T, np.eye(16), atol=1e-9)
    assert peak < 200e6, peak  # the notes themselves are 6.4 MB; the N x N factor alone would be 20 GB
    few = Projection.discriminant(z[:5], np.array([0, 0, 1, 1, 2]))  # fewer notes than dimensions: still whole
    assert np.allclose(few.components @ few.components.T, np.eye(16), atol=1e-9)
