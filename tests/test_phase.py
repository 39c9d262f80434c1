"""Phase reconstruction: convergence, pitch, paths, determinism, clicks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from signals import harmonic_tone

from timbre_explorer.core.errors import Cancelled, ParameterError
from timbre_explorer.core.signal.nsgt import transform_for
from timbre_explorer.core.signal.phase import HELD_PERIOD, griffin_lim, harmonic_bins, render_frames, sustain
from timbre_explorer.core.signal.scales import PRESETS

SR = 22050
ERB = PRESETS["nsgt-erb"]


def _held_frame(x: torch.Tensor) -> torch.Tensor:
    return transform_for(ERB, x.shape[-1]).magnitude(x).mean(-1)


def _harmonic_energy(audio: np.ndarray, f0: float, tolerance_hz: float = 3.0) -> float:
    """Share of the energy within ``tolerance_hz`` of a multiple of ``f0``."""
    spectrum = np.abs(np.fft.rfft(audio)) ** 2
    f = np.fft.rfftfreq(len(audio), 1 / SR)
    k = np.maximum(np.round(f / f0), 1)
    return float(spectrum[np.abs(f - k * f0) < tolerance_hz].sum() / spectrum.sum())


F0 = 220.7  # off every band centre


def test_sustained_note_converges_and_keeps_its_pitch():
    f0 = F0
    frame = _held_frame(harmonic_tone(f0))
    rec = sustain(frame, ERB, seconds=1.0, loop=True)
    assert float(rec.spectral_convergence_db) <= -15.0
    assert _harmonic_energy(rec.audio.numpy(), f0) > 0.95


def test_a_random_initial_phase_converges_to_a_noisier_less_harmonic_sound():
    """The initial phase matters."""
    f0 = F0
    frame = _held_frame(harmonic_tone(f0))
    held = frame.unsqueeze(-1).expand(-1, transform_for(ERB, SR).n_frames)
    rand = griffin_lim(held, transform_for(ERB, SR), n_iter=8, init="random")
    assert _harmonic_energy(rand.audio.numpy(), f0) < 0.8


def test_a_held_frame_is_matched_as_closely_as_its_period_allows():
    """Partials on the held period's bins (a quarter hertz for 4 s) come back exactly, at their pitch, with
    no iteration; from a 1 s period the same frame can only be approached."""
    f0 = 220.75  # no whole number of hertz
    nsgt = transform_for(ERB, int(HELD_PERIOD * SR))
    t = torch.arange(nsgt.length, dtype=torch.float64) / SR
    frame = nsgt.magnitude(sum((0.5 / k) * torch.cos(2 * torch.pi * f0 * k * t + k) for k in range(1, 9))).mean(-1)
    rec = sustain(frame, ERB, seconds=1.0, loop=True)
    assert rec.audio.shape[-1] == nsgt.length and float(rec.spectral_convergence_db) < -60
    assert _harmonic_energy(rec.audio.numpy(), f0, tolerance_hz=0.3) > 0.999
    one_second = griffin_lim(frame.unsqueeze(-1).expand(-1, transform_for(ERB, SR).n_frames), transform_for(ERB, SR))
    assert -60 < float(one_second.spectral_convergence_db) < -15


def test_more_iterations_do_not_get_worse():
    nsgt = transform_for(ERB, SR)
    x = harmonic_tone(330.0) + 0.01 * torch.randn(SR, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    mag = nsgt.magnitude(x)
    sc = [float(griffin_lim(mag, nsgt, n_iter=n).spectral_convergence_db) for n in (0, 8, 32)]
    assert sc[1] <= sc[0] + 0.5 and sc[2] <= sc[1] + 0.5
    assert sc[2] < -15


@pytest.fixture(scope="module")
def three():
    """Three held harmonic frames (G3, C4, A4) and their half-second sustain, batched."""
    frames = torch.stack([_held_frame(harmonic_tone(f)) for f in (196.0, 261.6, 440.0)])
    return frames, sustain(frames, ERB, seconds=0.5)


def test_sustain_is_deterministic_for_a_seed(three):
    frames, a = three
    b = sustain(frames, ERB, seconds=0.5)
    assert torch.equal(a.audio, b.audio)
    assert not torch.equal(sustain(frames, ERB, seconds=0.5, seed=1).audio, a.audio)


def test_a_batch_sustains_each_frame_as_it_would_alone(three):
    frames, a = three
    assert a.audio.shape == (3, SR // 2)
    one = sustain(frames[1], ERB, seconds=0.5)
    assert torch.allclose(one.audio, a.audio[1], atol=1e-5)


def test_a_sustained_note_fades_in_and_out():
    frame = _held_frame(harmonic_tone(261.6)).float()
    faded = sustain(frame, ERB, seconds=0.5).audio
    assert abs(float(faded[0])) < 1e-6 and abs(float(faded[-1])) < 1e-3


def test_a_looped_note_joins_seamlessly():
    frame = _held_frame(harmonic_tone(261.6)).float()
    looped = sustain(frame, ERB, seconds=0.5, loop=True).audio.numpy()
    # one period of a circular signal: the jump across the loop point is like any other step
    steps = np.abs(np.diff(np.concatenate([looped, looped[:1]])))
    assert steps[-1] <= 1.5 * np.percentile(steps, 99)


@pytest.mark.parametrize("init", ["partials", "pghi"])
def test_path_follows_its_frames(init):
    """A glide from 220 to 440 Hz, kept as every 8th frame, is rendered at the right pitches, from either start."""
    seconds = 2.0
    t = torch.arange(int(seconds * SR), dtype=torch.float64) / SR
    phase = 2 * torch.pi * torch.cumsum(220 * 2 ** (t / seconds), 0) / SR
    x = sum((0.5 / k) * torch.sin(k * phase) for k in range(1, 8))
    frames = transform_for(ERB, len(t)).magnitude(x)[..., ::8]
    rec = render_frames(frames, ERB, seconds=seconds, init=init)
    y = rec.audio.numpy()
    assert y.shape == (len(t),)
    assert float(rec.spectral_convergence_db) < -12
    for centre in (0.25, 1.75):
        seg = y[int((centre - 0.15) * SR):int((centre + 0.15) * SR)] * np.hanning(int(0.3 * SR))
        spectrum = np.abs(np.fft.rfft(seg, 16 * len(seg)))
        peak = np.fft.rfftfreq(16 * len(seg), 1 / SR)[spectrum.argmax()]
        assert peak == pytest.approx(220 * 2 ** (centre / seconds), rel=0.03)


def test_long_signals_find_their_partials_on_a_short_transform(monkeypatch):
    """Scoring every frame over every FFT bin of a long signal is quadratic in its duration (a 30 s path
    needed 24 GB); a long transform scores on a 1.5 s one and gets the same partials, within 1 Hz."""
    import timbre_explorer.core.signal.nsgt as nsgt_module

    n = 4 * SR
    x = harmonic_tone(220.7, seconds=4.0)
    nsgt = nsgt_module.NSGT(ERB.scale, sample_rate=SR, length=n)
    mag = nsgt.magnitude(x)[..., 100:110]
    assert n > nsgt_module.DOMINANT_LENGTH
    fast = nsgt.dominant_bins(mag)
    monkeypatch.setattr(nsgt_module, "DOMINANT_LENGTH", n)  # the exact, full-length scoring
    exact = nsgt.dominant_bins(mag)
    loud = mag > 0.1 * mag.max()  # the bands a partial sounds in
    assert loud.sum() > 20
    assert ((fast - exact)[loud].abs() * SR / n).max() <= 1.0


def test_a_long_path_renders_at_its_pitches():
    """A path four times the short transform's length: its glide lands where it should."""
    seconds = 6.0
    frames = torch.stack([_held_frame(harmonic_tone(f)) for f in (220.0, 330.0)], dim=-1)
    rec = render_frames(frames, ERB, seconds=seconds)
    y = rec.audio.numpy()
    assert y.shape == (int(seconds * SR),)
    for centre in (0.5, 5.5):
        seg = y[int((centre - 0.25) * SR):int((centre + 0.25) * SR)] * np.hanning(int(0.5 * SR))
        spectrum = np.abs(np.fft.rfft(seg, 8 * len(seg)))
        f = np.fft.rfftfreq(8 * len(seg), 1 / SR)
        start, end = (spectrum[np.abs(f - f0) < 5].max() for f0 in (220.0, 330.0))
        assert (start > end) if centre < 3 else (end > start)


def test_a_render_stops_between_iterations_when_cancelled():
    """A long path takes seconds per iteration: a new click, or quitting the app, stops it there."""
    nsgt = transform_for(ERB, SR)
    mag = nsgt.magnitude(harmonic_tone(330.0))
    polls = []

    def cancel_at_third_poll():
        polls.append(1)
        return len(polls) >= 3

    with pytest.raises(Cancelled):
        griffin_lim(mag, nsgt, n_iter=8, cancel=cancel_at_third_poll)
    assert len(polls) == 3  # polled once per iteration, stopped before the third
    never = griffin_lim(mag, nsgt, n_iter=8, cancel=lambda: False)
    assert torch.equal(never.audio, griffin_lim(mag, nsgt, n_iter=8).audio)
    with pytest.raises(Cancelled):
        render_frames(mag[:, :4], ERB, seconds=2.0, cancel=lambda: True)


def test_bad_shapes_are_refused():
    nsgt = transform_for(ERB, SR)
    with pytest.raises(ParameterError, match="magnitudes must be"):
        griffin_lim(torch.ones(10, 10), nsgt)
    with pytest.raises(ParameterError, match="bins"):
        sustain(torch.ones(100), ERB)
    with pytest.raises(ParameterError, match="duration"):
        sustain(torch.ones(168), ERB, seconds=0.001)
    with pytest.raises(ParameterError, match="initial phase"):
        griffin_lim(torch.ones(168, nsgt.n_frames), nsgt, init="magic")


def test_long_sounds_render_in_coherent_pieces(monkeypatch):
    """Past CHUNK_SECONDS a sound is reconstructed piece by piece (every transform stays short). The pieces join
    as the one-piece render runs on: no click (no sample-to-sample jump near a join above the largest elsewhere),
    no dip deeper than the one-piece render's at the same place (a glide between two notes beats by itself),
    and the same magnitudes within a dB."""
    import timbre_explorer.core.signal.phase as phase

    seconds = 3.6
    frames = torch.stack([_held_frame(harmonic_tone(f)) for f in (220.0, 247.0)], dim=-1)
    whole = render_frames(frames, ERB, seconds=seconds)
    monkeypatch.setattr(phase, "CHUNK_SECONDS", 1.0)
    lengths = []
    real_transform_for = phase.transform_for
    monkeypatch.setattr(phase, "transform_for", lambda p, n: lengths.append(n) or real_transform_for(p, n))
    done = []
    rec = render_frames(frames, ERB, seconds=seconds, progress=done.append)
    y, one = rec.audio.numpy(), whole.audio.numpy()
    assert y.shape == one.shape == (int(seconds * SR),)
    assert len(lengths) == 4 and max(lengths) <= 1.05 * (1.0 + 2 * (phase.OVERLAP_SECONDS + phase.PATH_PADDING)) * SR
    assert done == sorted(done) and done[-1] == 1.0 and len(done) == 4
    assert float(rec.spectral_convergence_db) < -15
    assert abs(float(rec.spectral_convergence_db) - float(whole.spectral_convergence_db)) < 1.0
    joins = (1.0, 2.0, 3.0)
    near = np.zeros(len(y) - 1, bool)
    for join in joins:
        near[int((join - phase.OVERLAP_SECONDS) * SR):int((join + phase.OVERLAP_SECONDS) * SR)] = True
    jump = np.abs(np.diff(y))
    assert jump[near].max() <= 1.1 * max(jump[~near].max(), np.abs(np.diff(one)).max())

    def level(a):  # 10 ms RMS
        return np.sqrt(np.convolve(a ** 2, np.ones(SR // 100) / (SR // 100), "same"))

    for join in joins:
        around = slice(int((join - 0.3) * SR), int((join + 0.3) * SR))
        assert level(y)[around].min() > 0.8 * level(one)[around].min(), join
    nsgt = transform_for(ERB, len(y))
    db = [20 * np.log10(nsgt.magnitude(torch.from_numpy(a)).mean(-1).numpy() + 1e-6) for a in (y, one)]
    loud = db[1] > db[1].max() - 40
    assert np.abs(db[0] - db[1])[loud].mean() < 1.0


def test_a_long_path_cancels_between_pieces(monkeypatch):
    import timbre_explorer.core.signal.phase as phase

    monkeypatch.setattr(phase, "CHUNK_SECONDS", 0.5)
    frames = _held_frame(harmonic_tone(220.0))[:, None]
    calls = []
    with pytest.raises(Cancelled):
        render_frames(frames, ERB, seconds=2.0, cancel=lambda: len(calls) > 0, progress=calls.append)
    assert len(calls) == 1  # the first piece finished, the second stopped at its first iteration


@pytest.mark.parametrize("signal", ["tone", "chirp"])
def test_pghi_alone_recovers_a_tone_and_a_chirp(signal):
    """The phase from the magnitude's gradient, with no iteration, is already close to consistent: far below a
    random start (about -1 dB), on a steady tone off the band centres and on a glide."""
    nsgt = transform_for(ERB, SR)
    t = torch.arange(SR, dtype=torch.float64) / SR
    x = torch.sin(2 * torch.pi * (440.3 * t if signal == "tone" else 200 * t + 400 * t ** 2))
    mag = nsgt.magnitude(x)
    pghi = float(griffin_lim(mag, nsgt, n_iter=0, init="pghi").spectral_convergence_db)
    rand = float(griffin_lim(mag, nsgt, n_iter=0, init="random").spectral_convergence_db)
    assert pghi <= -15.0 and rand > -5.0


def test_bands_too_wide_for_the_harmonics_sound_them_when_the_pitch_is_known():
    """A frame smooth above 8 kHz (what a band extension makes: ERB bands there are wider than middle C's harmonic
    spacing, so no band peaks) sounds an inharmonic chord at the bands' centres; given the note's pitch, those
    bands sound its harmonics, at the same level."""
    preset = PRESETS["nsgt-erb-44k"]
    f = np.asarray(preset.scale.frequencies())
    frame = torch.from_numpy(np.where(f > 8000, 1e-3, 1e-2)).float()
    frames = frame[:, None].repeat(1, 8)
    f0 = 261.63

    def above_8k(audio: np.ndarray) -> tuple[float, float]:
        """The energy above 8 kHz (of the whole), and its share within 15 Hz of a harmonic of f0."""
        a = audio[preset.sample_rate // 5: preset.sample_rate]
        power = np.abs(np.fft.rfft(a * np.hanning(len(a)))) ** 2
        hz = np.fft.rfftfreq(len(a), 1 / preset.sample_rate)
        top = hz > 8000
        on = np.abs(hz - np.round(hz / f0) * f0) < 15
        return power[top].sum() / power.sum(), power[top & on].sum() / power[top].sum()

    plain = above_8k(render_frames(frames, preset, seconds=1.2).audio.numpy())
    pitched = above_8k(render_frames(frames, preset, seconds=1.2, pitch_hz=f0).audio.numpy())
    assert plain[1] < 0.2  # noise would put 12 % within 15 Hz of a harmonic
    assert pitched[1] > 0.8
    assert pitched[0] == pytest.approx(plain[0], rel=0.5)  # the band keeps its level (within 3 dB)


def test_a_held_note_at_a_known_pitch_sounds_its_harmonics_in_the_bands_too_wide_for_them():
    """``sustain`` (what a drag on the map loops) given the pitch: the smooth band above 8 kHz on the harmonics, at
    the same level; without it, at the bands' centres."""
    preset = PRESETS["nsgt-erb-44k"]
    sr, f0 = preset.sample_rate, 261.63
    frame = torch.from_numpy(np.where(np.asarray(preset.scale.frequencies()) > 8000, 1e-3, 1e-2)).float()

    def above_8k(audio: np.ndarray) -> tuple[float, float]:
        a = audio[sr // 5:sr]
        power = np.abs(np.fft.rfft(a * np.hanning(len(a)))) ** 2
        hz = np.fft.rfftfreq(len(a), 1 / sr)
        top, on = hz > 8000, np.abs(hz - np.round(hz / f0) * f0) < 15
        return power[top].sum() / power.sum(), power[top & on].sum() / power[top].sum()

    plain = above_8k(sustain(frame, preset, seconds=1.2).audio.numpy())
    pitched = above_8k(sustain(frame, preset, seconds=1.2, loop=True, pitch_hz=f0).audio.numpy())
    assert plain[1] < 0.3 and pitched[1] > 0.8
    assert pitched[0] == pytest.approx(plain[0], rel=0.5)


def test_bands_too_wide_for_the_harmonics_follow_a_gliding_pitch():
    """A note morph whose pitch glides (two semitones over 2 s): given the pitch of each frame, the bands above
    8 kHz sound the harmonics of the pitch of the moment, where one pitch for the whole sound (its start) or none
    leaves them off the harmonics; the band keeps its level."""
    preset = PRESETS["nsgt-erb-44k"]
    sr, seconds, given = preset.sample_rate, 2.0, 16
    f = np.asarray(preset.scale.frequencies())
    frames = torch.from_numpy(np.where(f > 8000, 1e-3, 1e-2)).float()[:, None].repeat(1, given)
    f0 = 261.63 * 2 ** (np.linspace(0, 2, given) / 12)

    def above_8k(audio: np.ndarray) -> tuple[float, float]:
        """Medians over 40 ms windows of the energy above 8 kHz (of the whole) and of its share within an eighth
        of the pitch of the moment from one of its harmonics (noise puts a quarter there)."""
        out = []
        for t in np.arange(0.3, 1.7, 0.1):
            a = audio[int(t * sr):int((t + 0.04) * sr)]
            power = np.abs(np.fft.rfft(a * np.hanning(len(a)), 8 * len(a))) ** 2
            hz = np.fft.rfftfreq(8 * len(a), 1 / sr)
            now = np.interp(t + 0.02, np.linspace(0, seconds, given), f0)
            top, on = hz > 8000, np.abs(hz - np.round(hz / now) * now) < now / 8
            out.append((power[top].sum() / power.sum(), power[top & on].sum() / power[top].sum()))
        return tuple(np.median(np.array(out), 0))

    plain = above_8k(render_frames(frames, preset, seconds=seconds).audio.numpy())
    held = above_8k(render_frames(frames, preset, seconds=seconds, pitch_hz=float(f0[0])).audio.numpy())
    gliding = above_8k(render_frames(frames, preset, seconds=seconds, pitch_hz=f0).audio.numpy())
    assert plain[1] < 0.4 and held[1] < 0.4
    assert gliding[1] > 0.7
    assert gliding[0] == pytest.approx(plain[0], rel=0.5)  # within 3 dB


def test_a_pitch_per_frame_places_each_frame_as_its_own_pitch_would():
    nsgt = transform_for(PRESETS["nsgt-erb-44k"], 44100)
    dominant = torch.as_tensor(nsgt.centre_bins)[:, None].repeat(1, 3)
    pitches = [220.0, 261.63, 3000.0]
    each = torch.stack([harmonic_bins(dominant, nsgt, p)[:, i] for i, p in enumerate(pitches)], -1)
    assert torch.equal(harmonic_bins(dominant, nsgt, torch.tensor(pitches)), each)
    assert not torch.equal(each[:, 0], each[:, 1])
    with pytest.raises(ParameterError, match="pitch per frame"):
        render_frames(dominant.float()[:, :2] * 0 + 1e-2, PRESETS["nsgt-erb-44k"], seconds=0.5,
                      pitch_hz=np.array([261.63, 0.0]))
