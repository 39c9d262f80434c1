"""The Explorer's map state without Qt: map positions to latent points and back (on the data, the plane, the nearest
note), depth, filters; the field and paths go through the same mapping as clicks."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from timbre_explorer.core.synthesis.manifold import OnData
from timbre_explorer.gui.explorer.map_state import DEPTH_STEPS, NEAREST, ON_DATA, PLANE, Filters, MapState


def test_map_state_imports_no_qt():
    code = ("import sys; import timbre_explorer.gui.explorer.map_state; "
            "print([m for m in ('PySide6', 'pyqtgraph', 'torch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_map_position_is_a_latent_point_on_the_plane(tiny_space):
    s = tiny_space
    state = MapState(s)
    state.mode = PLANE
    state.dims = (2, 0, 1)
    z = state.latent_at(0.3, -0.2)
    coords = s.projection.forward(z)
    assert np.allclose(coords[[2, 0]], [0.3, -0.2]) and np.allclose(state.to_view(z), [0.3, -0.2])
    assert coords[1] == pytest.approx(state.depth_value()) and np.allclose(np.delete(coords, [0, 1, 2]), 0)
    assert np.allclose(state.to_xyz(z), coords[[2, 0, 1]])
    # the depth moves the plane through Z, from the notes' 1st to 99th percentile
    z_of_notes = s.projection.forward(s.notes.z)[:, 1]
    state.depth = DEPTH_STEPS
    assert state.depth_value() == pytest.approx(np.percentile(z_of_notes, 99))
    assert s.projection.forward(state.latent_at(0.0, 0.0))[1] == pytest.approx(np.percentile(z_of_notes, 99))


def test_nearest_mode_takes_the_hidden_components_of_the_nearest_shown_note(tiny_space):
    s = tiny_space
    state = MapState(s)
    state.mode = NEAREST
    i = 7
    x, y = state.to_view(s.notes.z[i])
    assert np.allclose(state.latent_at(x, y), s.notes.z[i], atol=1e-5)
    state.filters = Filters(instruments={k for k in range(len(s.instruments)) if k != s.notes.instrument[i]})
    assert not np.allclose(state.latent_at(x, y), s.notes.z[i], atol=1e-5)  # that note is hidden now


def test_filters_hide_notes_but_never_on_what_is_unknown(tiny_space):
    s = tiny_space
    state = MapState(s)
    assert state.mask().all()
    state.filters = Filters(instruments={0, 1}, pitch=(62, 66), dynamics={"ff"})
    mask = state.mask()
    n = s.notes
    expected = (np.isin(n.instrument, [0, 1]) & (((n.pitch >= 62) & (n.pitch <= 66)) | (n.pitch < 0))
                & ((n.dynamic == s.dynamics.index("ff")) | (n.dynamic < 0)))
    assert 0 < mask.sum() < len(mask) and np.array_equal(mask, expected)


def test_another_projection_moves_every_note(tiny_space):
    s = tiny_space
    state = MapState(s)
    assert not state.set_projection(s.projection)
    assert state.set_projection(s.discriminant_projection)
    assert np.allclose(state.coords, s.discriminant_projection.forward(s.notes.z))
    z = state.latent_at(0.1, 0.2)
    assert np.allclose(s.discriminant_projection.forward(z)[:2], [0.1, 0.2])


def test_by_default_a_map_position_takes_its_hidden_components_from_the_notes_nearby(clustered_space):
    s = clustered_space
    state = MapState(s)
    assert state.mode == ON_DATA
    trumpet = s.instruments.index("Trumpet")
    x, y = state.to_view(s.centroids["Trumpet"])  # where its name is on the map
    z = state.latent_at(x, y)
    assert np.allclose(z, s.centroids["Trumpet"])  # a click on its name plays the instrument's centroid
    assert np.allclose(state.to_view(z), [x, y])
    beside = np.array([x, y]) + 0.05 * np.array([1.0, -1.0])  # off the name: the regression, pinned at the names
    anchored = OnData(s.projection, s.notes.z, (0, 1), anchors=np.stack(list(s.centroids.values())))
    assert np.allclose(state.latent_at(*beside), anchored.latent(beside))
    assert np.linalg.norm(s.notes.z[s.notes.instrument == trumpet] - z, axis=1).min() < 0.15  # among its notes
    state.depth = DEPTH_STEPS  # the depth moves the plane only
    assert np.allclose(state.latent_at(x, y), z)
    state.mode = PLANE
    assert np.linalg.norm(s.notes.z[s.notes.instrument == trumpet] - state.latent_at(x, y), axis=1).min() > 0.3


def test_filtered_out_notes_give_no_hidden_components(clustered_space):
    s = clustered_space
    state = MapState(s)
    trumpet = s.instruments.index("Trumpet")
    x, y = state.to_view(s.centroids["Trumpet"])
    others = s.notes.instrument != trumpet
    state.filters = Filters(instruments=set(range(len(s.instruments))) - {trumpet})
    z = state.latent_at(x, y)
    shown_names = np.stack([c for n, c in s.centroids.items() if n != "Trumpet"])  # a hidden instrument pins nothing
    assert np.allclose(z, OnData(s.projection, s.notes.z[others], (0, 1), anchors=shown_names).latent([x, y]))
    assert np.linalg.norm(s.notes.z[~others] - z, axis=1).min() > 0.3  # not among the hidden Trumpet notes
    state.filters = Filters(instruments=set())  # nothing shown: the plane
    assert np.allclose(state.latent_at(x, y), s.projection.place([x, y], (0, 1), rest=state.plane_rest()))


def _state(space) -> MapState:
    """The map's state with PC2, PC1 and PC3 as its axes."""
    state = MapState(space)
    state.dims = (1, 0, 2)
    return state


def test_the_field_uses_the_mapping_of_clicks(tiny_space):
    from timbre_explorer.core.synthesis.fields import field

    s = tiny_space
    state = _state(s)
    f = field(s, surface=state.surface(), x_range=(-1, 1), y_range=(-0.5, 0.8), resolution=9, names=("centroid",))
    assert f.dims == (1, 0)
    for row, col in ((0, 0), (4, 7), (8, 3)):
        z = state.latent_at(f.x[col], f.y[row])
        assert f.values["centroid"][row, col] == pytest.approx(float(s.describe(s.decode(z))["centroid"]), rel=1e-3)


def _three_clicks(state):
    """A polyline path through the points three clicks on the map play."""
    from timbre_explorer.core.synthesis.pathfile import PathSpec

    corners = [state.latent_at(x, y) for x, y in ((-0.8, 0.2), (0.1, 0.6), (0.7, -0.3))]
    return corners, PathSpec(points=np.asarray(corners).tolist(), mode="slerp", seconds=1.0, kind="polyline")


def test_a_path_of_three_clicks_walks_on_the_map(tiny_space, tmp_path):
    """Each frame is the point a click at its position plays."""
    from timbre_explorer.core.synthesis.pathfile import read_path, spec_frames, walked_on, write_path

    s = tiny_space
    state = _state(s)
    corners, spec = _three_clicks(state)
    walked = walked_on(s, spec, state.path_surface())
    frames = np.asarray(walked.points)
    assert walked.kind == "on_data" and np.array_equal(spec_frames(s, walked), frames)  # replays as it played
    assert np.allclose(state.to_view(frames), state.to_view(spec_frames(s, spec)))  # the walk's course on the map
    write_path(tmp_path / "walked.json", walked)  # and from a file (timbre-explorer render --path)
    assert np.allclose(spec_frames(s, read_path(tmp_path / "walked.json", latent=s.latent_size)), frames, atol=1e-5)
    assert np.allclose(frames, [state.latent_at(*state.to_view(z)) for z in frames], atol=1e-9)
    assert np.allclose(frames[0], corners[0]) and np.allclose(frames[-1], corners[-1])


def test_in_the_plane_mode_a_path_is_the_papers_through_the_whole_latent_space(tiny_space):
    from timbre_explorer.core.synthesis.pathfile import walked_on

    s = tiny_space
    state = _state(s)
    _, spec = _three_clicks(state)
    state.mode = PLANE
    assert state.path_surface() is None and walked_on(s, spec, state.path_surface()) is spec


def test_the_mapping_is_built_by_whichever_thread_asks_and_kept(clustered_space):
    """A new filter set's search tree can be built off the GUI thread: the map keeps what was built, and a maker
    builds what was asked when it was made, whatever changed since."""
    import threading

    s = clustered_space
    state = MapState(s)
    trumpet = s.instruments.index("Trumpet")
    state.filters = Filters(instruments={trumpet})
    make = state.surface_maker()
    built = []
    t = threading.Thread(target=lambda: built.append(make()))
    t.start()
    t.join()
    assert len(built[0].hidden) == int(np.sum(s.notes.instrument == trumpet))
    assert state.surface() is built[0]  # kept: the click does not build it again
    late = state.surface_maker()
    state.filters = Filters()
    assert late() is built[0]  # made for the Trumpet filter, it answers for it
    assert len(state.surface().hidden) == len(s.notes.z)
