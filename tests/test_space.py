"""The timbre space as the Explorer holds it, and the sounds it makes: on a tiny model trained by the tests."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.phase import HELD_PERIOD
from timbre_explorer.core.synthesis.interpolation import along, interpolate
from timbre_explorer.core.synthesis.space import Projection
from timbre_explorer.core.synthesis.synth import (
    DYNAMIC_DB,
    PEAK_LIMIT,
    PLAYBACK_LEVEL_DB,
    Envelope,
    loop,
    note,
    render_path,
)


def test_space_reads_the_map_from_the_file(tiny_space):
    s = tiny_space
    assert len(s.notes) == 5 * 12 * 2 and s.latent_size == 4
    assert sorted(s.centroids) == sorted(["Clarinet", "Flute", "Oboe", "Trumpet", "Piccolo"])
    assert set(np.asarray(s.instruments)[s.notes.instrument[s.is_novel()]]) == {"Piccolo"}
    # the held-out piccolo (partials rolling off at 0.25) lands by the flute (0.2)
    assert s.nearest_instruments(s.centroids["Piccolo"], 1)[0][0] == "Flute"
    assert all(name != "Piccolo" for name, _ in s.nearest_instruments(s.centroids["Piccolo"], 4))


def test_a_space_opens_and_shows_its_map_without_torch_and_builds_its_decoder_when_asked(tiny_model):
    """What the app draws first needs no torch (its import is most of a launch); decoding builds the decoder."""
    script = f"""
import sys
from timbre_explorer.core.synthesis.space import TimbreSpace
s = TimbreSpace.open({str(tiny_model)!r})
drawn = (s.projection.forward(s.notes.z), s.centroids, s.perceptual_overlay((0, 1)), s.frequencies, s.summary(),
         s.conditioned, s.latent_size, s.sample_rate)
print("torch before decoding:", "torch" in sys.modules, s.decoder_ready, s.summary())
s.decode(s.notes.z[:2])
print("after:", "torch" in sys.modules, s.decoder_ready, s.summary())
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("torch before decoding: False False ") and lines[0].endswith("loading the decoder…")
    assert lines[1].startswith("after: True True ") and lines[1].endswith("decoding on CPU")


def test_the_projection_round_trips_with_its_components_by_variance(tiny_space):
    p = tiny_space.projection
    z = tiny_space.notes.z
    assert np.allclose(p.inverse(p.forward(z)), z, atol=1e-5)
    assert np.all(np.diff(p.explained) <= 1e-12) and abs(p.explained.sum() - 1) < 1e-9


def test_the_projection_places_points_on_a_plane_keeping_the_other_components(tiny_space):
    p = tiny_space.projection
    rest = p.forward(tiny_space.notes.z[7])
    placed = p.place([[1.5, -0.5]], (0, 2), rest=rest)
    coords = p.forward(placed)[0]
    assert np.allclose(coords[[0, 2]], [1.5, -0.5]) and np.allclose(coords[[1, 3]], rest[[1, 3]])


def test_projection_of_random_points_is_a_rotation(rng):
    z = rng.standard_normal((200, 5)) * [5, 3, 1, 0.5, 0.1]
    p = Projection.fit(z)
    assert np.allclose(p.components @ p.components.T, np.eye(5), atol=1e-9)
    assert p.explained[0] > 0.6


def test_decode_gives_the_spectrum_of_the_instrument(tiny_space):
    s = tiny_space
    centroid = {name: float(s.describe(s.decode(z))["centroid"]) for name, z in s.centroids.items()}
    # partials roll off at 0.2, 0.45, 0.6, 0.85: decoded spectra get brighter in that order
    assert centroid["Flute"] < centroid["Clarinet"] < centroid["Oboe"] < centroid["Trumpet"]
    assert centroid["Trumpet"] > 1.3 * centroid["Flute"]
    with pytest.raises(ParameterError, match="4 values"):
        s.decode(np.zeros(3))


def _loud_point(s):
    """A latent point among the loudest 5 % of the decoded notes."""
    loud = s.decoded_descriptors["loudness"]
    return s.notes.z[np.argsort(loud)[int(0.95 * len(loud))]]


def test_a_loud_note_has_the_playback_level(tiny_space):
    s = tiny_space
    a = note(s, s.decode(_loud_point(s)), seconds=0.5, envelope=Envelope(attack=0.05, release=0.1))
    assert a.dtype == np.float32 and len(a) == round(0.5 * s.sample_rate)
    assert np.max(np.abs(a)) <= PEAK_LIMIT + 1e-6
    mid = a[len(a) // 4: len(a) // 2]
    # a loud note plays at the set level; a conditioned model's every note at its dynamic's (mf by default)
    target = DYNAMIC_DB["mf"] if s.conditioned else PLAYBACK_LEVEL_DB
    assert abs(10 * np.log10(np.mean(mid ** 2)) - target) < 3


def test_a_note_ramps_in_and_out_with_its_envelope(tiny_space):
    s = tiny_space
    a = note(s, s.decode(_loud_point(s)), seconds=0.5, envelope=Envelope(attack=0.05, release=0.1))
    assert abs(a[0]) < 1e-3 and np.abs(a[-10:]).max() < 1e-2  # ramps at both ends


def test_a_loop_is_one_whole_period_with_no_fade(tiny_space):
    s = tiny_space
    looped = loop(s, s.decode(_loud_point(s)))
    assert len(looped) == round(HELD_PERIOD * s.sample_rate)  # one whole period of the held signal
    assert np.abs(looped[:50]).max() > 1e-3  # no fade on a loop


def test_interpolations(rng):
    a, b = rng.standard_normal(6), rng.standard_normal(6)
    lin = interpolate(a, b, 11)
    assert np.allclose(lin[0], a) and np.allclose(lin[-1], b) and np.allclose(lin[5], (a + b) / 2)
    sl = interpolate(a, b, 11, mode="slerp")
    assert np.allclose(sl[0], a) and np.allclose(sl[-1], b)
    norms = np.linalg.norm(sl, axis=1)
    assert np.allclose(norms, np.linspace(norms[0], norms[-1], 11))  # norm scales linearly
    with pytest.raises(ParameterError, match="interpolation"):
        interpolate(a, b, 3, mode="cubic")
    pts = along([[0, 0], [2, 0], [2, 2]], 5)
    assert np.allclose(pts, [[0, 0], [1, 0], [2, 0], [2, 1], [2, 2]])


def test_path_morphs_from_dark_to_bright(tiny_space):
    s = tiny_space
    zs = interpolate(s.centroids["Flute"], s.centroids["Trumpet"], 24)
    audio = render_path(s, zs, seconds=1.0)
    assert len(audio) == s.sample_rate
    import torch

    from timbre_explorer.core.signal.descriptors import descriptors
    from timbre_explorer.core.signal.nsgt import transform_for

    # the first and last quarter of the frames of one transform of the whole sound (a transform of a cut-out
    # quarter would wrap its cut ends into a click, whose broadband energy swamps the centroid)
    nsgt = transform_for(s.preset, len(audio))
    mag = nsgt.magnitude(torch.from_numpy(audio.astype(np.float64)))
    quarter = mag.shape[-1] // 4
    cents = [float(descriptors(m.mean(-1), nsgt)["centroid"]) for m in (mag[:, :quarter], mag[:, -quarter:])]
    ends = [float(s.describe(s.decode(s.centroids[n]))["centroid"]) for n in ("Flute", "Trumpet")]
    # brighter at the end, by a good part of what the two ends decode to (the tiny conditioned model decodes
    # them closer together than the unconditioned one did: 1.09 x against 1.2 x)
    assert cents[1] > 1.05 * cents[0] and cents[1] - cents[0] > 0.2 * (ends[1] - ends[0])


def test_a_space_is_named_by_its_file_or_its_run_folder(tiny_space, tmp_path):
    """Every run writes model.timbre.safetensors: the run folder says which space it is."""
    import shutil

    from timbre_explorer.core.synthesis.space import TimbreSpace

    run = tmp_path / "my-first-space"
    run.mkdir()
    shutil.copy(tiny_space.path, run / "model.timbre.safetensors")
    shutil.copy(tiny_space.path, run / "flutes.timbre.safetensors")
    assert TimbreSpace.open(run / "model.timbre.safetensors").name == "my-first-space"
    assert TimbreSpace.open(run / "flutes.timbre.safetensors").name == "flutes"


def test_a_path_is_played_at_the_pitch_of_each_point(tiny_space):
    """What the bands too wide for the harmonics are placed by (``phase.harmonic_bins``): one pitch for a path at
    one pitch, one per point for a glide, none where a pitch is unknown."""
    from timbre_explorer.core.synthesis.synth import path_pitch_hz

    assert path_pitch_hz(tiny_space, None) == pytest.approx(261.63, abs=0.01)
    assert path_pitch_hz(tiny_space, [69, 69, 69]) == pytest.approx(440.0)
    glide = path_pitch_hz(tiny_space, [57, 63, 69])
    assert np.allclose(glide, [220.0, 311.13, 440.0], atol=0.01)
    assert path_pitch_hz(tiny_space, [60, -1]) is None
    zs = interpolate(tiny_space.centroids["Flute"], tiny_space.centroids["Trumpet"], 3)
    assert len(render_path(tiny_space, zs, seconds=0.5, pitch=[57, 63, 69])) == tiny_space.sample_rate // 2


def test_a_drags_loop_at_the_play_pitch_sounds_its_harmonics_where_bands_are_too_wide_for_them(tiny_space):
    """What plays while a user drags on the map (``synth.loop``), at MIDI 48: the bands above 3 kHz, each wider than
    the harmonics' spacing, sound the harmonics of the pitch it is played at; without the pitch, their centres."""
    from timbre_explorer.core.synthesis.synth import loop

    s, sr, f0 = tiny_space, tiny_space.sample_rate, 130.81
    frame = s.decode(s.centroids["Trumpet"], pitch=48)

    def on_harmonics_above_3k(audio: np.ndarray) -> float:
        a = audio[:sr]
        power = np.abs(np.fft.rfft(a * np.hanning(len(a)))) ** 2
        hz = np.fft.rfftfreq(len(a), 1 / sr)
        band, on = hz > 3000, np.abs(hz - np.round(hz / f0) * f0) < f0 / 8
        return float(power[band & on].sum() / power[band].sum())

    assert on_harmonics_above_3k(loop(s, frame, pitch=48)) > 0.8
    assert on_harmonics_above_3k(loop(s, frame)) < 0.3
