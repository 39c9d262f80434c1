"""Phase from the magnitude's gradient: filterbank Phase Gradient Heap Integration (PGHI).

After Průša, Balazs & Søndergaard (2017), "A noniterative method for
reconstruction of phase from STFT magnitude" (IEEE/ACM TASLP), in the
filterbank form of Průša & Holighaus (2017), "Non-iterative filter bank phase
(re)construction" (EUSIPCO), for the core bands of our :class:`NSGT`.

Each band ``k`` is taken as a Gaussian band-pass around its centre ``w_k`` (Hz)
that fits its Hann window of ``W_k`` Hz: ``exp(-pi (w - w_k)^2 / a_k)`` with
``a_k = 0.25645 W_k^2``. For such a filter the log-magnitude and the phase of
our (demodulated, frequency-invariant) coefficients are tied like the real and
imaginary parts of an analytic function:

* time derivative (rad/s): ``phi_t = a_k d(log s)/dw`` — how far the partial
  sits from the band's centre;
* frequency derivative (rad/Hz): ``phi_w = -(1/a_k) d(log s)/dt - 2 pi t`` —
  where in time an impulse sits relative to the frame.

The phase is then integrated from the largest coefficient down (a max-heap),
each coefficient from its loudest neighbour already done, so the estimate
follows the ridges where it is reliable. Coefficients below ``tolerance``
times the largest get a seeded random phase.

A held frame (every frame alike) is integrated across bands on one frame and
carried along in time at each band's instantaneous frequency: the same result,
at a cost that does not grow with the duration. A magnitude that changes over
time goes through the heap coefficient by coefficient (in Python: about half
a second per second of sound, so it is an option for paths, not their default).
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import torch

from timbre_explorer.core.signal.nsgt import NSGT

HANN_GAUSSIAN = 0.25645  # a_k / W_k^2 of the Gaussian that best fits a Hann window (Průša et al., pghi_findgamma)
TOLERANCE = 1e-5  # coefficients this far below the largest (-100 dB) get a random phase


def pghi_turns(magnitude: torch.Tensor, nsgt: NSGT, *, seed: int = 0, tolerance: float = TOLERANCE) -> torch.Tensor:
    """Phase, in turns (float64), of core magnitudes ``[B, K, T]`` estimated from their gradient."""
    mag = magnitude.detach().to("cpu", torch.float64).numpy()
    held = bool((mag[..., :1] == mag).all())
    hop_s = nsgt.hop / nsgt.sample_rate
    turns = np.empty(mag.shape)
    for b in range(mag.shape[0]):
        rng = np.random.default_rng(seed)  # one per item, so an item's phase does not depend on its batch
        if held:
            first = _heap_integrate(mag[b, :, :1], nsgt, hop_s, rng, tolerance)
            rate = _time_derivative(mag[b, :, :1], nsgt)  # rad/s, constant along a held frame
            steps = np.arange(mag.shape[-1]) * hop_s
            turns[b] = (first + rate * steps) / (2 * math.pi)
        else:
            turns[b] = _heap_integrate(mag[b], nsgt, hop_s, rng, tolerance) / (2 * math.pi)
    return torch.from_numpy(turns).to(magnitude.device)


def _log(mag: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(mag, np.finfo(np.float64).tiny))


def _time_derivative(mag: np.ndarray, nsgt: NSGT) -> np.ndarray:
    """phi_t (rad/s) of ``[K, T]``: the partial's distance from each band's centre, toward its louder neighbour.

    The log-magnitude's frequency gradient, taken between a band and its louder neighbour and solved for
    our Hann windows (each reaches its neighbours' centres, so a sinusoid a fraction ``x`` of the way
    from centre ``k`` to ``k + 1`` gives them ``cos^2`` and ``sin^2`` of ``pi x / 2``). A Gaussian's central
    difference diverges here: a sinusoid near a centre leaves both neighbours almost silent.
    """
    freqs = nsgt.centre_frequencies
    tiny = np.finfo(np.float64).tiny
    below = np.concatenate((np.zeros_like(mag[:1]), mag[:-1]))
    above = np.concatenate((mag[1:], np.zeros_like(mag[:1])))
    step_up = np.append(np.diff(freqs), 0.0)[:, None]
    step_down = np.insert(np.diff(freqs), 0, 0.0)[:, None]
    louder_above = above >= below
    neighbour = np.where(louder_above, above, below)
    step = np.where(louder_above, step_up, -step_down)
    x = (2 / math.pi) * np.arctan(np.sqrt(neighbour / np.maximum(mag, tiny)))
    return 2 * math.pi * step * np.minimum(x, 1.0)


def _frequency_derivative(mag: np.ndarray, nsgt: NSGT, hop_s: float) -> np.ndarray:
    """phi_w (rad/Hz) of ``[K, T]``; the transform is circular, so the time gradient wraps."""
    log = _log(mag)
    if log.shape[1] > 2:
        d_dt = (np.roll(log, -1, axis=1) - np.roll(log, 1, axis=1)) / (2 * hop_s)
    else:
        d_dt = np.zeros_like(log)
    a = HANN_GAUSSIAN * nsgt.bandwidths ** 2
    t = np.arange(log.shape[1]) * hop_s
    return -d_dt / a[:, None] - 2 * math.pi * t[None, :]


def _heap_integrate(mag: np.ndarray, nsgt: NSGT, hop_s: float, rng: np.random.Generator,
                    tolerance: float) -> np.ndarray:
    """Phase (rad) of ``[K, T]``: integrated from the largest coefficient down through its neighbours."""
    k_count, t_count = mag.shape
    phase = rng.uniform(0, 2 * math.pi, mag.shape)
    d_t = _time_derivative(mag, nsgt) * (hop_s / 2)  # half a frame's phase advance, per coefficient
    freqs = nsgt.centre_frequencies
    d_w = _frequency_derivative(mag, nsgt, hop_s) / 2
    spacing = np.diff(freqs)
    done = mag <= tolerance * mag.max()
    flat_mag = mag.ravel()
    for start in np.argsort(-flat_mag, kind="stable"):
        k, t = divmod(int(start), t_count)
        if done[k, t]:
            continue
        done[k, t] = True  # a new island: its largest coefficient keeps its random phase
        heap = [(-flat_mag[start], k, t)]
        while heap:
            _, k, t = heapq.heappop(heap)
            p = phase[k, t]
            if t_count > 1:
                for nt in ((t + 1) % t_count, (t - 1) % t_count):
                    if not done[k, nt]:
                        sign = 1.0 if nt == (t + 1) % t_count else -1.0
                        phase[k, nt] = p + sign * (d_t[k, t] + d_t[k, nt])
                        done[k, nt] = True
                        heapq.heappush(heap, (-mag[k, nt], k, nt))
            if k + 1 < k_count and not done[k + 1, t]:
                phase[k + 1, t] = p + spacing[k] * (d_w[k, t] + d_w[k + 1, t])
                done[k + 1, t] = True
                heapq.heappush(heap, (-mag[k + 1, t], k + 1, t))
            if k > 0 and not done[k - 1, t]:
                phase[k - 1, t] = p - spacing[k - 1] * (d_w[k, t] + d_w[k - 1, t])
                done[k - 1, t] = True
                heapq.heappush(heap, (-mag[k - 1, t], k - 1, t))
        if done.all():
            break
    return phase
