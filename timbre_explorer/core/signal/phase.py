"""Phase reconstruction: magnitude NSGT frames back to audio.

The model decodes magnitudes only. :func:`griffin_lim` recovers a phase with
the fast Griffin-Lim algorithm of Perraudin, Balazs & Søndergaard (2013),
"A fast Griffin-Lim algorithm" (WASPAA), through our NSGT: alternate between
the set of coefficients with the target magnitude and the set of consistent
coefficients (those of some signal), with an inertial step of ``momentum``
(0.99 in the paper) between iterations.

Two ways to make a sound from decoded frames sit on top of it:

* :func:`sustain`: one frame held for a duration, the paper's representation
  of a note. The NSGT is circular, so the held signal is periodic: with
  ``loop=True`` one period can be repeated forever without a click.
* :func:`render_frames`: a sequence of frames (a path through the latent
  space, or a decoded note) stretched over a duration.

Both start from a deterministic phase (seeded), and fade in and out over
``fade`` seconds unless asked for a loop.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from timbre_explorer.core.errors import Cancelled, ParameterError
from timbre_explorer.core.signal.nsgt import NSGT, fast_fft_size, transform_for
from timbre_explorer.core.signal.pghi import pghi_turns
from timbre_explorer.core.signal.scales import TransformPreset

DEFAULT_ITERATIONS = 8
HELD_ITERATIONS = 0  # a held frame's partials start is already a fixed point of Griffin-Lim (see sustain)
HELD_PERIOD = 4.0  # seconds: the shortest period a held note is cut from (see sustain)
INITIAL_PHASES = ("partials", "pghi", "random")
DEFAULT_FADE = 0.01  # seconds
PATH_PADDING = 0.05  # seconds of silence around a path, so the circular transform does not wrap it
CHUNK_SECONDS = 4.0  # longer paths are reconstructed in pieces of this length (memory: about 0.2 GB per second)
OVERLAP_SECONDS = 0.25  # each piece reaches this far past its joins, where the pieces cross-fade
#: Given frames per second whose partials start the phase ("partials"): a path's 48 frames a second each took a
#: score over the whole signal, a fifth of a 44.1 kHz click's time; partials move slower than that, and Griffin-Lim
#: refines the start (measured in docs/research.md, *Phase reconstruction*).
PARTIAL_RATE = 12.0
Cancel = Callable[[], bool] | threading.Event | None  # polled between iterations: stop when it returns True, or is set
PitchHz = float | np.ndarray | None  # a note's fundamental (Hz): one, one per given frame (a glide), or unknown
Squares = Callable[[], tuple[torch.Tensor, torch.Tensor]]  # a piece's squared norms of magnitude residual and target


@dataclass
class Reconstruction:
    """Audio recovered from magnitudes, and how well its magnitudes match them. A held note's is measured when first
    asked: it takes a forward transform of the whole period, a third of the note's time, and no player asks. A
    sequence's is measured piece by piece as they are done (kept for later, every piece's magnitudes would be)."""

    audio: torch.Tensor  # [..., samples]
    sample_rate: int
    measure: Callable[[], torch.Tensor] = field(repr=False, compare=False)

    @cached_property
    def spectral_convergence_db(self) -> torch.Tensor:
        """``[...]``: 20 log10(||S - |A x||| / ||S||)."""
        return self.measure()


def _unit_phase(c: torch.Tensor) -> torch.Tensor:
    return torch.sgn(c)  # c / |c|, 0 where c is: one pass, not three (a fifth of an iteration's time)


def initial_phase(magnitude: torch.Tensor, nsgt: NSGT, *, init: str, seed: int,
                  dominant: torch.Tensor | None = None) -> torch.Tensor:
    """Unit-modulus starting phase for core magnitudes ``[B, K, T]``.

    ``partials`` (the default) makes each band rotate at the frequency of the
    sinusoid that best explains its magnitude and its neighbours'
    (:meth:`NSGT.dominant_bins`), integrated over time, with one seeded random
    start phase per FFT bin so bands that share a partial start in phase. A
    held frame takes its sinusoids from :meth:`NSGT.partial_bins` instead: no
    two of them share a band, so the start is already consistent. (A *constant*
    phase per band is consistent too, but sounds every band at its centre
    frequency: an inharmonic chord instead of the note.) ``random`` draws every
    coefficient's phase (the original Griffin-Lim). ``dominant``: the partials' bins ``[B, K, T]`` when the
    caller has them at less cost (a path's frames are interpolated: its given frames' bins serve).
    """
    gen = torch.Generator(device="cpu").manual_seed(seed)
    b, k, t = magnitude.shape
    if init == "partials":
        held = dominant is None and (t == 1 or bool((magnitude[..., :1] == magnitude).all()))
        if dominant is None:
            dominant = nsgt.partial_bins(magnitude[..., 0])[..., None] if held else nsgt.dominant_bins(magnitude)
        start = torch.rand(nsgt.length // 2 + 1, generator=gen, dtype=torch.float64).to(dominant.device)[dominant[..., 0]]
        offset = (dominant - torch.as_tensor(nsgt.centre_bins, device=dominant.device)[:, None]).double()
        steps = torch.arange(t, device=dominant.device, dtype=torch.float64)
        if held:
            turns = start[..., None] + offset * steps / nsgt.n_frames
        else:  # integrate the instantaneous frequency frame by frame
            turns = start[..., None] + (torch.cumsum(offset, dim=-1) - offset) / nsgt.n_frames
        phi = turns.expand(b, k, t)
    elif init == "pghi":
        phi = pghi_turns(magnitude, nsgt, seed=seed)
    elif init == "random":
        phi = torch.rand(b, k, t, generator=gen, dtype=torch.float64).to(magnitude.device)
    else:
        raise ParameterError(f"unknown initial phase {init!r}; choose one of {', '.join(INITIAL_PHASES)}")
    if magnitude.dtype == torch.float64:
        return torch.polar(torch.ones_like(phi), 2 * math.pi * phi)
    angle = (2 * math.pi * torch.frac(phi)).float()  # whole turns dropped in double, so single precision holds
    return torch.polar(torch.ones_like(angle), angle)


def griffin_lim(magnitude: torch.Tensor, nsgt: NSGT, *, n_iter: int = DEFAULT_ITERATIONS, momentum: float = 0.99,
                init: str | torch.Tensor = "partials", seed: int = 0,
                cancel: Cancel = None) -> Reconstruction:
    """Fast Griffin-Lim from core magnitudes ``[..., K, T]`` to signals ``[..., nsgt.length]``.

    ``init`` names a starting phase (:func:`initial_phase`) or is one: unit-modulus
    coefficients shaped like ``magnitude``. Edge bands (below ``fmin`` and above ``fmax``) are taken as silent. Returns
    the audio and the spectral convergence it reached (lower is better;
    -15 dB sounds clean for sustained notes). ``cancel`` is polled between
    iterations, which take seconds for a long path: when it returns True,
    :class:`~timbre_explorer.core.errors.Cancelled` is raised.
    """
    if magnitude.shape[-2:] != (nsgt.n_bins, nsgt.n_frames):
        raise ParameterError(
            f"magnitudes must be [..., {nsgt.n_bins}, {nsgt.n_frames}] for this transform, got {tuple(magnitude.shape)}")
    if n_iter < 0 or not 0.0 <= momentum < 1.0:
        raise ParameterError("n_iter must be >= 0 and momentum in [0, 1)")
    lead = magnitude.shape[:-2]
    s = magnitude.reshape(-1, nsgt.n_bins, nsgt.n_frames)
    if isinstance(init, torch.Tensor):
        if init.shape != magnitude.shape or not init.is_complex():
            raise ParameterError(f"a starting phase must be complex and shaped like the magnitudes, got {tuple(init.shape)}")
        c = s * init.reshape(s.shape)
    else:
        c = s * initial_phase(s, nsgt, init=init, seed=seed)
    previous = c
    poll = _polled(cancel)
    for i in range(n_iter):
        if poll is not None and poll():
            raise Cancelled("rendering cancelled")
        current = s * _unit_phase(nsgt.consistent(c))
        c = current + momentum * (current - previous) if i else current
        previous = current
    audio = nsgt.backward(previous)

    def measure() -> torch.Tensor:
        residual = s - nsgt.magnitude(audio)
        sc = residual.flatten(1).norm(dim=1) / s.flatten(1).norm(dim=1).clamp_min(torch.finfo(s.dtype).tiny)
        return (20 * torch.log10(sc)).reshape(lead)

    return Reconstruction(audio.reshape(*lead, nsgt.length), int(nsgt.sample_rate), measure)


def harmonic_bins(dominant: torch.Tensor, nsgt: NSGT, pitch_hz: float | torch.Tensor) -> torch.Tensor:
    """``dominant [..., K, T]`` (each band's sinusoid, as FFT bins) with every band whose window spans more than one
    harmonic of ``pitch_hz`` (one, or one per frame ``[T]``: a glide) sounding the harmonic nearest its centre. Such
    a band cannot tell the harmonics apart: a smooth one (a band extension's, above 8 kHz) has no peak to place its
    sinusoid by, and at its centre it sounds an inharmonic chord (measured: 1-2 % of the energy above 8 kHz on the
    harmonics, where noise puts 12 %). Along a glide the phase follows each frame's harmonic (:func:`initial_phase`
    integrates the bins' frequency over time)."""
    spacing = (torch.as_tensor(pitch_hz, dtype=torch.float64, device=dominant.device)
               * (nsgt.length / nsgt.sample_rate)).reshape(1, -1)  # the harmonics' spacing in FFT bins, [1, T or 1]
    centre = torch.as_tensor(nsgt.centre_bins, dtype=torch.float64, device=dominant.device)[:, None]
    width = torch.as_tensor(nsgt.geometry.window_length[nsgt.geometry.scale_slice], dtype=torch.float64,
                            device=dominant.device)[:, None]
    nearest = ((centre / spacing).round().clamp(min=1) * spacing).round().long().clamp(max=nsgt.length // 2)
    return torch.where(width > spacing, nearest, dominant)


def _frame_pitch(pitch_hz: float | np.ndarray, given: int, start: int, n: int, pad: int, nsgt: NSGT
                 ) -> float | torch.Tensor:
    """A piece's pitch for each of its transform frames ``[T]`` from one per ``given`` frame (interpolated as the
    magnitudes are, held beyond the sound's ends); one pitch stays one."""
    if np.ndim(pitch_hz) == 0:
        return float(pitch_hz)
    at = (start - pad + np.arange(nsgt.n_frames) * nsgt.hop) / max(1, n - 1)
    return torch.from_numpy(np.interp(np.clip(at, 0, 1) * (given - 1), np.arange(given), pitch_hz))


def _polled(cancel: Cancel) -> Callable[[], bool] | None:
    return cancel.is_set if isinstance(cancel, threading.Event) else cancel


def fade(audio: torch.Tensor, sample_rate: float, seconds: float = DEFAULT_FADE) -> torch.Tensor:
    """Raised-cosine fade-in and fade-out of ``seconds`` (clamped to half the length)."""
    n = min(int(round(seconds * sample_rate)), audio.shape[-1] // 2)
    if n <= 0:
        return audio
    ramp = 0.5 - 0.5 * torch.cos(math.pi * torch.arange(n, dtype=audio.dtype, device=audio.device) / n)
    envelope = torch.ones(audio.shape[-1], dtype=audio.dtype, device=audio.device)
    envelope[:n] = ramp
    envelope[-n:] = ramp.flip(0)
    return audio * envelope


def _samples(seconds: float, sample_rate: int) -> int:
    n = int(round(seconds * sample_rate))
    if n < 64:
        raise ParameterError(f"duration must be at least {64 / sample_rate * 1000:.0f} ms, got {seconds * 1000:.0f} ms")
    return n


def sustain(frame: torch.Tensor, preset: TransformPreset, *, seconds: float = 1.0, loop: bool = False,
            n_iter: int = HELD_ITERATIONS, fade_s: float = DEFAULT_FADE, seed: int = 0,
            init: str = "partials", pitch_hz: float | None = None) -> Reconstruction:
    """A held note of ``seconds`` from one magnitude frame ``[..., K]`` (the paper's representation).

    The note is cut from one period of a steady signal at least :data:`HELD_PERIOD` long, whose
    spectral convergence it reports. With ``loop=True`` the audio is that whole period, a loop that
    repeats forever without a click, and has no fades; otherwise the first ``seconds`` of it, faded
    in and out over ``fade_s``.

    Why the long period: the partials start (:meth:`NSGT.partial_bins`) puts each peak's sinusoid where
    the ratio of its two bands says, and is already consistent, so Griffin-Lim iterations change
    nothing (``n_iter`` defaults to 0); what is left is the rounding of those positions to the
    period's bins. On 18 instrument centroids of the bundled model, at MIDI 48/60/67/72, the median
    reached -24.7/-35.5/-27.4/-35.2 dB from a 1 s period, -40.5/-44.9/-42.8/-46.9 dB from 4 s, in
    about 5 ms (``benchmarks/run.py --only phase``).

    ``pitch_hz``: the note's fundamental, when known: the bands too wide to tell its harmonics apart sound them
    (:func:`harmonic_bins`), as in :func:`render_frames`.
    """
    n = _samples(seconds, preset.sample_rate)
    nsgt = transform_for(preset, max(n, _samples(HELD_PERIOD, preset.sample_rate)))
    if frame.shape[-1] != nsgt.n_bins:
        raise ParameterError(f"a frame of {preset.name} has {nsgt.n_bins} bins, got {frame.shape[-1]}")
    held = frame.unsqueeze(-1).expand(*frame.shape, nsgt.n_frames)
    start: str | torch.Tensor = init
    if pitch_hz is not None and init == "partials":
        flat = held.reshape(-1, nsgt.n_bins, nsgt.n_frames)
        dominant = harmonic_bins(nsgt.partial_bins(flat[..., 0])[..., None], nsgt, pitch_hz)
        start = initial_phase(flat, nsgt, init=init, seed=seed,
                              dominant=dominant.expand(-1, -1, nsgt.n_frames)).reshape(held.shape)
    rec = griffin_lim(held, nsgt, n_iter=n_iter, init=start, seed=seed)
    if not loop:
        rec.audio = fade(rec.audio[..., :n], preset.sample_rate, fade_s)
    return rec


def render_frames(frames: torch.Tensor, preset: TransformPreset, *, seconds: float,
                  n_iter: int = DEFAULT_ITERATIONS, fade_s: float = DEFAULT_FADE, seed: int = 0,
                  init: str = "partials", cancel: Cancel = None,
                  progress: Callable[[float], None] | None = None, pitch_hz: PitchHz = None) -> Reconstruction:
    """A sound from a sequence of magnitude frames ``[..., K, N]`` spread evenly over ``seconds``.

    The blocks of :func:`render_stream`, joined; the spectral convergence is that of all pieces together.
    ``pitch_hz``: the note's fundamental (Hz), when known, one or one per frame (a glide): the bands too wide to tell
    its harmonics apart sound them (:func:`harmonic_bins`).
    """
    blocks, residual2, target2 = [], [], []
    for block, squares in _blocks(frames, preset, seconds=seconds, n_iter=n_iter, fade_s=fade_s, seed=seed, init=init,
                                  cancel=cancel, progress=progress, pitch_hz=pitch_hz):
        blocks.append(block)
        r2, t2 = squares()  # measured as each piece is done: kept for later, every piece's magnitudes would be
        residual2.append(r2)
        target2.append(t2)
    audio = torch.cat(blocks, -1)
    lead = frames.shape[:-2]
    sc2 = torch.stack(residual2).sum(0) / torch.stack(target2).sum(0).clamp_min(torch.finfo(audio.dtype).tiny)
    return Reconstruction(audio.reshape(*lead, -1), preset.sample_rate, lambda: (10 * torch.log10(sc2)).reshape(lead))


def render_stream(frames: torch.Tensor, preset: TransformPreset, *, seconds: float,
                  n_iter: int = DEFAULT_ITERATIONS, fade_s: float = DEFAULT_FADE, seed: int = 0,
                  init: str = "partials", cancel: Cancel = None,
                  progress: Callable[[float], None] | None = None,
                  pitch_hz: PitchHz = None) -> Iterator[torch.Tensor]:
    """The audio of :func:`render_frames`, as consecutive blocks ``[..., samples]`` yielded as they are done:
    a long sound is written to a file while memory holds one piece.

    Frames are interpolated linearly in time to the transform's frame rate.
    A sound longer than ``CHUNK_SECONDS`` is reconstructed in pieces of that
    length that overlap by ``2 * OVERLAP_SECONDS`` and are cross-faded (a
    whole-length transform needs about 0.2 GB per second). Each piece starts
    from the phase its predecessor ended with in their overlap, so the
    cross-fade joins coherent signals. Inside the (circular) transform, short
    silences pad every piece so its end does not bleed into its start.
    ``cancel`` is polled between iterations (:class:`~timbre_explorer.core.errors.Cancelled`
    is raised when it returns True, or is set); ``progress(fraction)`` is
    called as each piece is done, with 1.0 for the last. ``pitch_hz``: as for :func:`render_frames`.
    """
    for block, _ in _blocks(frames, preset, seconds=seconds, n_iter=n_iter, fade_s=fade_s, seed=seed, init=init,
                               cancel=cancel, progress=progress, pitch_hz=pitch_hz):
        yield block.reshape(*frames.shape[:-2], -1)


def _blocks(frames: torch.Tensor, preset: TransformPreset, *, seconds: float, n_iter: int, fade_s: float, seed: int,
            init: str, cancel: Cancel, progress: Callable[[float], None] | None, pitch_hz: PitchHz
            ) -> Iterator[tuple[torch.Tensor, Squares]]:
    """:func:`render_stream`'s blocks ``[B, samples]``, each with what measures its piece's squared norms of
    magnitude residual and target ``[B]`` when called (:data:`Squares`)."""
    n = _samples(seconds, preset.sample_rate)
    if frames.dim() < 2 or frames.shape[-1] < 1:
        raise ParameterError(f"frames must be [..., bins, N >= 1], got {tuple(frames.shape)}")
    flat = frames.reshape(-1, *frames.shape[-2:])
    if pitch_hz is not None and np.ndim(pitch_hz) > 0:
        pitch_hz = np.asarray(pitch_hz, np.float64).reshape(-1)
        if pitch_hz.shape != (flat.shape[-1],) or not (pitch_hz > 0).all():
            raise ParameterError(f"a pitch per frame needs {flat.shape[-1]} positive values in Hz, got "
                                 f"{pitch_hz.size} ({int((pitch_hz <= 0).sum())} not positive)")
    step = int(round(CHUNK_SECONDS * preset.sample_rate))
    overlap = int(round(OVERLAP_SECONDS * preset.sample_rate))
    bounds = list(range(0, n - step // 2, step))[1:] if n > step + 2 * overlap else []  # the pieces' joins
    edges = [0, *bounds, n]
    ramp = 0.5 - 0.5 * torch.cos(math.pi * (torch.arange(2 * overlap, dtype=flat.dtype, device=flat.device) + 0.5)
                                 / (2 * overlap))
    previous = None  # (global start, samples) of the last piece's overlap with the next: where its phase ended
    carried = None  # the last piece's cross-faded share of that overlap, to add to the next piece's start
    done = 0  # samples yielded
    for k in range(len(edges) - 1):
        start, end = max(0, edges[k] - overlap), min(n, edges[k + 1] + overlap)
        piece, squares = _render_piece(flat, n, start, end, preset, n_iter=n_iter, init=init, seed=seed,
                                      cancel=cancel, previous=previous, pitch_hz=pitch_hz)
        weight = flat.new_ones(end - start)
        if k > 0:
            weight[:2 * overlap] = ramp
        last = k == len(edges) - 2
        if not last:
            weight[-2 * overlap:] = 1 - ramp
            previous = (end - 2 * overlap, piece[:, -2 * overlap:])
        piece = piece * weight
        if carried is not None:
            piece[:, :2 * overlap] += carried
        block = piece if last else piece[:, :-2 * overlap]
        carried = None if last else piece[:, -2 * overlap:]
        block = _faded(block, done, n, preset.sample_rate, fade_s)
        done += block.shape[-1]
        if progress is not None:
            progress(edges[k + 1] / n)
        yield block, squares


def _faded(block: torch.Tensor, at: int, n: int, sample_rate: float, seconds: float) -> torch.Tensor:
    """Samples ``at:at + len`` of an ``n``-sample sound under :func:`fade`'s envelope."""
    count = min(int(round(seconds * sample_rate)), n // 2)
    if count <= 0 or count <= at <= at + block.shape[-1] <= n - count:
        return block
    i = torch.arange(at, at + block.shape[-1], device=block.device)
    head, tail = i < count, i >= n - count

    def ramp_at(j: torch.Tensor) -> torch.Tensor:
        return 0.5 - 0.5 * torch.cos(math.pi * j.to(block.dtype) / count)

    envelope = torch.where(tail, ramp_at(n - 1 - i), torch.where(head, ramp_at(i), torch.ones_like(block[0])))
    return block * envelope


def _fast_length(n: int) -> int:
    """``n``, or the next FFT-friendly length when ``n`` has a prime factor above 1,000: a piece of 101,428 samples
    (4 x 25,357) made every Griffin-Lim iteration 5-20 times slower. Other lengths stay as they are, and so do the
    sounds of short paths."""
    rest, p, largest = n, 2, 1
    while p * p <= rest:
        while rest % p == 0:
            rest, largest = rest // p, p
        p += 1
    return fast_fft_size(n) if max(largest, rest) > 1000 else n


def _render_piece(flat: torch.Tensor, n: int, start: int, end: int, preset: TransformPreset, *, n_iter: int,
                  init: str, seed: int, cancel: Cancel, previous: tuple[int, torch.Tensor] | None,
                  pitch_hz: PitchHz = None) -> tuple[torch.Tensor, Squares]:
    """Samples ``start:end`` of the sound of ``flat [B, K, N]`` spread over ``n`` samples, and what measures the
    squared norms of its magnitude residual and target. ``previous``: ``(global start, samples [B, S])`` that this piece's
    start overlaps; each band's starting phase is turned to match theirs in the middle of the overlap."""
    pad = int(round(PATH_PADDING * preset.sample_rate))
    nsgt = transform_for(preset, _fast_length(end - start + 2 * pad))  # the rest pads the end
    if flat.shape[-2] != nsgt.n_bins:
        raise ParameterError(f"frames of {preset.name} must be [..., {nsgt.n_bins}, N >= 1], got {tuple(flat.shape)}")
    first, last = math.ceil(pad / nsgt.hop), math.floor((pad + end - start - 1) / nsgt.hop)
    at = (start - pad + torch.arange(first, last + 1, dtype=torch.float64, device=flat.device) * nsgt.hop) / max(1, n - 1)
    position = at.clamp(0, 1) * (flat.shape[-1] - 1)  # where each transform frame falls among the given frames
    below = position.floor().long().clamp(max=max(0, flat.shape[-1] - 2))
    frac = (position - below).to(flat.dtype)
    above = (below + 1).clamp(max=flat.shape[-1] - 1)
    magnitude = flat.new_zeros(flat.shape[0], nsgt.n_bins, nsgt.n_frames)
    magnitude[..., first:last + 1] = flat[..., below] * (1 - frac) + flat[..., above] * frac
    dominant = None
    if init == "partials":  # each frame's partials are its nearest given frame's: scoring every transform frame
        # (7 for each of a path's frames) took half the time. The silent padding keeps the band centres.
        nearest = torch.where(frac < 0.5, below, above)
        stride = max(1, round(flat.shape[-1] * preset.sample_rate / (n * PARTIAL_RATE)))
        if stride > 1:  # only every stride-th given frame is scored, and its neighbours borrow its partials
            nearest = (torch.div(nearest + stride // 2, stride, rounding_mode="floor") * stride).clamp_(
                max=flat.shape[-1] - 1)
        used, which = torch.unique(nearest, return_inverse=True)
        dominant = torch.as_tensor(nsgt.centre_bins, device=flat.device)[:, None].repeat(flat.shape[0], 1,
                                                                                         nsgt.n_frames)
        dominant[..., first:last + 1] = nsgt.dominant_bins(flat[..., used])[..., which]
        if pitch_hz is not None:
            dominant = harmonic_bins(dominant, nsgt, _frame_pitch(pitch_hz, flat.shape[-1], start, n, pad, nsgt))
    phase = initial_phase(magnitude, nsgt, init=init, seed=seed, dominant=dominant)
    if previous is not None:
        at_start, samples = previous
        x = flat.new_zeros(flat.shape[0], nsgt.length)
        x[:, pad + at_start - start:pad + at_start - start + samples.shape[-1]] = samples
        middle = int(round((pad + at_start - start + samples.shape[-1] / 2) / nsgt.hop))
        measured = nsgt.forward(x, edges=False).core[..., middle]
        turn = _unit_phase(measured * phase[..., middle].conj())
        phase = phase * turn[..., None]
    rec = griffin_lim(magnitude, nsgt, n_iter=n_iter, init=phase, cancel=cancel)

    def squares() -> tuple[torch.Tensor, torch.Tensor]:
        target2 = magnitude.flatten(1).square().sum(1)
        return target2 * 10 ** (rec.spectral_convergence_db / 10), target2

    return rec.audio[:, pad:pad + end - start], squares
