"""Audio descriptors of NSGT magnitude frames, in physical units.

The paper's released code fed log-spaced NSGT bins to librosa as if they were
linear STFT bins, so its "centroid" was a bin index, not Hz. Here every
descriptor is computed on the spectrum the bands estimate, with each band's
true centre frequency ``f_k`` and the share of the frequency axis it stands
for, ``w_k = (f_{k+1} - f_{k-1}) / 2`` Hz:

* band power ``P_k = p_k m_k^2``: band ``k``'s share of the signal's mean
  square, where ``p_k`` follows from the frame operator (exact on average
  over the band: white noise gives its in-band level);
* power density ``rho_k = P_k / w_k`` and amplitude density ``sqrt(rho_k)``.

Then, with amplitude weights ``a_k = sqrt(rho_k) w_k`` (librosa's magnitude
weighting, over Hz instead of bins):

``centroid`` (Hz)
    ``sum f_k a_k / sum a_k``.
``bandwidth`` (Hz)
    ``sqrt(sum (f_k - centroid)^2 a_k / sum a_k)``.
``flatness`` (0-1)
    Geometric over arithmetic mean of ``rho`` across frequency (weights
    ``w_k``): 1 for white noise, near 0 for a tone.
``rolloff`` (Hz)
    Frequency below which 85 % of ``sum a_k`` lies, interpolated linearly
    between band centres.
``loudness`` (dB)
    ``10 log10(sum P_k)``: the RMS level of the in-band signal in dB full
    scale (a full-scale sine is -3 dB). Unweighted: no ear model. Exact for
    noise and for partials at band centres; a partial between two centres
    reads up to about 1.5 dB off, because Hann windows at these overlaps
    do not sum to a constant power (the frame is not tight).

One implementation in torch (differentiable, for the descriptor sliders);
numpy arrays in give numpy arrays out (for reports).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.nsgt import NSGT, _window_offsets, hann
from timbre_explorer.core.signal.units import DESCRIPTORS

ROLLOFF_FRACTION = 0.85
POWER_FLOOR = 1e-30  # power density floor (-300 dB/Hz): finite logs and gradients on silence, even in float32


@dataclass(frozen=True)
class BandWeights:
    """Per-band constants that turn magnitudes into physical quantities."""

    frequency: np.ndarray  # f_k, Hz
    width: np.ndarray  # w_k, Hz
    power: np.ndarray  # p_k: mean-square contribution per squared magnitude


@lru_cache(maxsize=32)
def band_weights(nsgt: NSGT) -> BandWeights:
    """Band constants of a transform (cached per transform)."""
    geo, diag = nsgt.geometry, nsgt.frame_diagonal
    power = np.empty(nsgt.n_bins)
    for i, k in enumerate(range(geo.scale_slice.start, geo.scale_slice.stop)):
        lg = int(geo.window_length[k])
        j = _window_offsets(lg)
        g2 = hann(lg)[j % lg] ** 2
        share = np.sum(g2 / diag[(geo.centre_bin[k] + j) % geo.length]) / np.sum(g2)
        # mean_t |c_k|^2 = sum_j |X_j g_j|^2 / M^2 and sum_j |X_j|^2 = sum_k M sum_j |X_j|^2 g_kj^2 / x_j;
        # mean square = 2 sum_{j>0} |X_j|^2 / L^2 (one-sided spectrum).
        power[i] = 2.0 * nsgt.n_frames ** 3 * share / nsgt.length ** 2
    f = geo.frequencies[1:-1]  # guard bands included, for the widths at the ends
    width = (f[2:] - f[:-2]) / 2.0
    return BandWeights(nsgt.frequencies.copy(), width, power)


def descriptors(magnitude: np.ndarray | torch.Tensor, nsgt: NSGT, names: Collection[str] = tuple(DESCRIPTORS)) -> dict:
    """Descriptors of magnitude frames ``[..., K]`` of ``nsgt``; each value has shape ``[...]``.

    Parameters
    ----------
    magnitude : numpy.ndarray or torch.Tensor
        Magnitudes of the transform's scale bands, last axis ``K``. Take the
        core matrix's time axis out first (``|C|.transpose(-1, -2)``).
    nsgt : NSGT
        The transform the magnitudes come from.
    names : iterable of str
        Which descriptors to compute (default: all of :data:`DESCRIPTORS`).

    Examples
    --------
    >>> import math
    >>> from timbre_explorer.core.signal.nsgt import transform_for
    >>> from timbre_explorer.core.signal.scales import PRESETS
    >>> nsgt = transform_for(PRESETS["nsgt-erb"], 22050)
    >>> t = torch.arange(22050, dtype=torch.float64) / 22050
    >>> tone = nsgt.magnitude(torch.sin(2 * math.pi * 1000 * t)).mean(-1)
    >>> d = descriptors(tone, nsgt)
    >>> abs(float(d["centroid"]) - 1000) < 10, abs(float(d["loudness"]) + 3.0) < 1.5
    (True, True)
    """
    unknown = set(names) - set(DESCRIPTORS)
    if unknown:
        raise ParameterError(f"unknown descriptors {sorted(unknown)}; known: {', '.join(DESCRIPTORS)}")
    as_numpy = isinstance(magnitude, np.ndarray)
    m = torch.from_numpy(magnitude) if isinstance(magnitude, np.ndarray) else magnitude
    if m.shape[-1] != nsgt.n_bins:
        raise ParameterError(f"expected {nsgt.n_bins} bands on the last axis, got {m.shape[-1]}")
    if not m.is_floating_point():
        m = m.double()
    bw = band_weights(nsgt)
    f, w, p = (torch.as_tensor(a, dtype=m.dtype, device=m.device) for a in (bw.frequency, bw.width, bw.power))
    power = p * m.square()
    density = (power / w).clamp_min(POWER_FLOOR)
    amp = density.sqrt() * w
    total = amp.sum(-1, keepdim=True)
    out: dict[str, torch.Tensor] = {}
    centroid = (f * amp).sum(-1, keepdim=True) / total
    if "centroid" in names:
        out["centroid"] = centroid.squeeze(-1)
    if "bandwidth" in names:
        out["bandwidth"] = (((f - centroid).square() * amp).sum(-1) / total.squeeze(-1)).sqrt()
    if "flatness" in names:
        wsum = w.sum()
        out["flatness"] = torch.exp((w * density.log()).sum(-1) / wsum) / ((w * density).sum(-1) / wsum)
    if "rolloff" in names:
        out["rolloff"] = _rolloff(amp, total, f)
    if "loudness" in names:
        out["loudness"] = 10.0 * torch.log10(power.sum(-1).clamp_min(POWER_FLOOR))
    if as_numpy:
        return {k: v.detach().numpy() for k, v in out.items()}
    return out


def _rolloff(amp: torch.Tensor, total: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Frequency where the cumulative amplitude reaches ROLLOFF_FRACTION, between band centres."""
    cum = amp.cumsum(-1)
    target = ROLLOFF_FRACTION * total
    k = torch.searchsorted(cum.detach().contiguous(), target.detach().contiguous()).clamp(1, f.shape[0] - 1)
    lo, hi = cum.gather(-1, k - 1), cum.gather(-1, k)
    frac = ((target - lo) / (hi - lo).clamp_min(torch.finfo(amp.dtype).tiny)).clamp(0, 1)
    return (f[k - 1] + frac * (f[k] - f[k - 1])).squeeze(-1)
