"""The Explorer's map state without Qt: map positions to latent points and back, depth, filters."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from timbre_explorer.gui.explorer.map_state import DEPTH_STEPS, Filters, MapState


def test_map_state_imports_no_qt():
    code = ("import sys; import timbre_explorer.gui.explorer.map_state; "
            "print([m for m in ('PySide6', 'pyqtgraph', 'torch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_map_position_is_a_latent_point_on_the_plane(tiny_space):
    s = tiny_space
    state = MapState(s)
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
    state.nearest = True
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
