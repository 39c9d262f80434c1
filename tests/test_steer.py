"""Descriptor fields, reaching descriptor targets and following descriptor curves, on the tiny trained model."""

from __future__ import annotations

import numpy as np
import pytest

from timbre_explorer.core.errors import Cancelled, ParameterError
from timbre_explorer.core.signal.descriptors import DESCRIPTORS
from timbre_explorer.core.synthesis.fields import contour_lines, field, field_levels
from timbre_explorer.core.synthesis.interpolation import interpolate
from timbre_explorer.core.synthesis.reach import CURVES, curve, follow, reach


def _describe(space, z) -> dict[str, np.ndarray]:
    return space.describe(space.decode(np.atleast_2d(np.asarray(z, np.float32))))


def _plane(space):
    coords = space.projection.forward(space.notes.z)
    lo, hi = coords.min(0), coords.max(0)
    return dict(x_range=(lo[0], hi[0]), y_range=(lo[1], hi[1]), rest=coords.mean(0))


def test_field_is_the_descriptors_of_the_decoded_grid(tiny_space):
    s = tiny_space
    plane = _plane(s)
    f = field(s, dims=(0, 1), resolution=12, **plane)
    assert f.x.shape == (12,) and f.y.shape == (12,) and set(f.values) == set(DESCRIPTORS)
    assert f.x[0] == pytest.approx(plane["x_range"][0]) and f.y[-1] == pytest.approx(plane["y_range"][1])
    for row, col in ((2, 9), (10, 1), (0, 0)):  # rows are y, columns x: an asymmetric cell tells them apart
        z = s.projection.place([[f.x[col], f.y[row]]], (0, 1), rest=plane["rest"])
        exact = _describe(s, z)
        for name in DESCRIPTORS:
            assert f.values[name][row, col] == pytest.approx(float(exact[name][0]), rel=1e-3, abs=1e-3)
    # the first component separates dark from bright instruments: the centroid changes across the map
    c = f.values["centroid"]
    assert c.shape == (12, 12) and np.ptp(c) > 0.2 * np.mean(c)
    only = field(s, resolution=12, names=("loudness",), **plane)
    assert set(only.values) == {"loudness"} and np.allclose(only.values["loudness"], f.values["loudness"])


def test_field_levels_go_coarse_to_fine(tiny_space):
    s = tiny_space
    plane = _plane(s)
    levels = list(field_levels(s, resolution=40, names=("centroid",), **plane))
    assert [lv.resolution for lv in levels] == [10, 20, 40]
    assert [lv.values["centroid"].shape for lv in levels] == [(10, 10), (20, 20), (40, 40)]
    full = field(s, resolution=40, names=("centroid",), **plane)
    assert np.array_equal(levels[-1].values["centroid"], full.values["centroid"])


def test_field_levels_can_be_cancelled(tiny_space):
    s = tiny_space
    plane = _plane(s)
    seen = []
    with pytest.raises(Cancelled):
        for lv in field_levels(s, resolution=40, names=("centroid",), cancel=lambda: len(seen) >= 1, **plane):
            seen.append(lv)
    assert len(seen) == 1


def test_contour_lines_trace_evenly_spaced_levels_in_map_coordinates():
    """A field that grows along x has straight contours at x = each level, in the map's coordinates (not the grid's);
    the lines skip the grid's holes (NaN); none for no count or a flat field."""
    x, y = np.linspace(-2.0, 2.0, 41), np.linspace(10.0, 11.0, 11)
    values = np.tile(x, (len(y), 1))  # [ny, nx]: the value is the x coordinate
    levels = contour_lines(values, x, y, 3)
    assert len(levels) == 3
    for want, lines in zip((-1.0, 0.0, 1.0), levels):
        points = np.concatenate(lines)
        assert np.allclose(points[:, 0], want) and points[:, 1].min() == pytest.approx(10.0)
        assert points[:, 1].max() == pytest.approx(11.0)
    values[5, :] = np.nan  # a row the field could not compute: the lines break there
    broken = contour_lines(values, x, y, 1)[0]
    assert len(broken) == 2 and all(np.isfinite(line).all() for line in broken)
    assert contour_lines(values, x, y, 0) == [] and contour_lines(np.ones((11, 41)), x, y, 4) == []


def test_field_rejects_bad_settings(tiny_space):
    s = tiny_space
    ok = dict(x_range=(-1, 1), y_range=(-1, 1))
    with pytest.raises(ParameterError, match="dims"):
        field(s, dims=(0, 0), **ok)
    with pytest.raises(ParameterError, match="dims"):
        field(s, dims=(0, 7), **ok)
    with pytest.raises(ParameterError, match="x_range"):
        field(s, x_range=(1, -1), y_range=(-1, 1))
    with pytest.raises(ParameterError, match="resolution"):
        field(s, resolution=1, **ok)
    with pytest.raises(ParameterError, match="descriptors"):
        field(s, names=("brightness",), **ok)
    with pytest.raises(ParameterError, match="rest"):
        field(s, rest=np.zeros(3), **ok)


def _reachable(space):
    """A start (the flute's centroid) and a target taken from a decoded point three quarters of the way to the
    trumpet (the tiny models of some seeds and machines brighten only in the second half of the way)."""
    z0 = space.centroids["Flute"].astype(np.float64)
    other = interpolate(z0, space.centroids["Trumpet"], 5)[3]
    return z0, other, {k: float(v[0]) for k, v in _describe(space, other).items()}


@pytest.mark.parametrize("method", ["gradient", "greedy"])
def test_reach_gets_a_centroid_target_and_stays_near(tiny_space, method):
    s = tiny_space
    z0, other, values = _reachable(s)
    start = float(_describe(s, z0)["centroid"][0])
    target = values["centroid"]
    assert target > start + 15  # a real move: brighter, towards the trumpet
    r = reach(s, z0, {"centroid": target}, method=method)
    assert r.method == method and r.z.shape == (s.latent_size,)
    assert abs(r.values["centroid"] - target) <= 0.03 * (target - start)
    assert r.error <= 0.03 and r.start_values["centroid"] == pytest.approx(start, rel=1e-6)
    assert float(_describe(s, r.z)["centroid"][0]) == pytest.approx(r.values["centroid"], rel=1e-5)
    # near z0: no further than the instrument the target came from (holding loudness and the other descriptors can
    # take a 4-D tiny model's search around the direct way; on some machines' tiny models 1.4 times as far)
    assert np.linalg.norm(r.z - z0) <= 1.5 * np.linalg.norm(s.centroids["Trumpet"] - z0)
    assert np.allclose(r.path[0], z0, atol=1e-6) and np.allclose(r.path[-1], r.z) and len(r.path) >= 2


def test_reach_two_targets_at_once(tiny_space):
    s = tiny_space
    z0, _, values = _reachable(s)
    targets = {"centroid": values["centroid"], "loudness": values["loudness"] + 3.0}
    r = reach(s, z0, targets, steps=300)
    assert r.error <= 0.05
    start = _describe(s, z0)
    for k, t in targets.items():
        assert abs(r.values[k] - t) <= 0.05 * abs(t - float(start[k][0])) + 1e-9


def test_reach_says_what_is_wrong(tiny_space):
    s = tiny_space
    z0 = s.centroids["Flute"]
    with pytest.raises(ParameterError, match="descriptors must be among"):
        reach(s, z0, {"brightness": 1.0})
    with pytest.raises(ParameterError, match="finite"):
        reach(s, z0, {"centroid": float("nan")})
    with pytest.raises(ParameterError, match="flatness"):
        reach(s, z0, {"flatness": 2.0})
    with pytest.raises(ParameterError, match="method"):
        reach(s, z0, {"centroid": 1000.0}, method="annealing")
    with pytest.raises(ParameterError, match="4 finite latent values"):
        reach(s, np.zeros(3), {"centroid": 1000.0})
    with pytest.raises(ParameterError, match="at least one"):
        reach(s, z0, {})


def test_curves():
    for shape in CURVES:
        c = curve(shape, 11, 100.0, 300.0)
        assert c.shape == (11,) and np.all((c >= 100 - 1e-9) & (c <= 300 + 1e-9))
    assert np.allclose(curve("rising", 3, 100, 300), [100, 200, 300])
    assert np.allclose(curve("falling", 3, 100, 300), [300, 200, 100])
    assert np.allclose(curve("constant", 4, 100, 300), 100)
    log, exp = curve("log", 11, 0, 1), curve("exp", 11, 0, 1)
    assert log[0] == 0 and log[-1] == pytest.approx(1) and log[5] > 0.5  # fast, then slow
    assert exp[0] == 0 and exp[-1] == pytest.approx(1) and exp[5] < 0.5  # slow, then fast
    assert np.all(np.diff(log) > 0) and np.all(np.diff(exp) > 0)
    with pytest.raises(ParameterError, match="curve"):
        curve("wobble", 5, 0, 1)


@pytest.mark.parametrize("method", ["gradient", "greedy"])
def test_follow_makes_a_continuous_path_along_a_curve(tiny_space, method):
    s = tiny_space
    z0, other, values = _reachable(s)
    start = float(_describe(s, z0)["centroid"][0])
    targets = curve("rising", 8, start, values["centroid"])
    path = follow(s, z0, "centroid", targets, method=method)
    assert path.shape == (8, s.latent_size)
    got = _describe(s, path)["centroid"]
    span = values["centroid"] - start
    assert np.all(np.abs(got - targets) <= 0.03 * span)  # within the tolerance of the whole move
    steps = np.linalg.norm(np.diff(np.vstack([z0, path]), axis=0), axis=1)
    assert steps.max() <= 0.5 * np.linalg.norm(other - z0)  # small steps: no jumps along the way


def test_a_move_reaches_its_target_in_what_plays_at_the_play_pitch_and_dynamic(tiny_space):
    """The sliders move the point's sound at the Play tab's pitch and dynamic: the values a move starts from, asks
    for and reaches are those of the frames decoded there, not at middle C mf."""
    s = tiny_space
    pitch, dynamic = 67.0, "ff"
    assert s.conditioned and dynamic in s.levels

    def centroid(z):
        return s.describe(s.decode(np.atleast_2d(z), pitch=pitch, dynamic=dynamic))["centroid"]

    z0 = s.centroids["Flute"].astype(np.float64)
    other = interpolate(z0, s.centroids["Trumpet"], 5)[3]
    start, target = float(centroid(z0)[0]), float(centroid(other)[0])
    r = reach(s, z0, {"centroid": target}, pitch=pitch, dynamic=dynamic)
    assert r.start_values["centroid"] == pytest.approx(start, rel=1e-5)
    assert abs(float(centroid(r.z)[0]) - target) <= 0.03 * abs(target - start)
    path = follow(s, z0, "centroid", np.linspace(start, target, 4), pitch=pitch, dynamic=dynamic)
    assert abs(float(centroid(path[-1])[0]) - target) <= 0.03 * abs(target - start)
    # at middle C mf the start reads otherwise: a move there would have started from another value
    assert abs(float(s.describe(s.decode(z0))["centroid"]) - start) > 0.1 * abs(target - start)


def test_a_move_holds_the_other_descriptors_loudness_first_and_says_what_it_could_not_hold(tiny_space):
    from timbre_explorer.core.synthesis.reach import HOLD_TOLERANCE, _natural, descriptor_scales

    s = tiny_space
    z0, _, values = _reachable(s)
    free = reach(s, z0, {"centroid": values["centroid"]}, hold=())
    held = reach(s, z0, {"centroid": values["centroid"]})  # loudness and flatness held
    assert free.held == {} and free.broken == () and free.holds_message() == ""
    assert set(held.held) == {"flatness", "loudness"} and held.error <= 0.05
    start = float(_describe(s, z0)["loudness"][0])
    drift = [abs(float(_describe(s, r.z)["loudness"][0]) - start) for r in (free, held)]
    assert drift[1] <= drift[0] + 0.1  # holding loudness keeps it at least as close
    scales = descriptor_scales(s)
    for name, (before, after) in held.held.items():
        moved = abs(_natural(name, after) - _natural(name, before)) > HOLD_TOLERANCE * scales[name]
        assert (name in held.broken) == moved
    assert (held.holds_message() != "") == bool(held.broken)
