"""Non-Stationary Gabor Transform (NSGT) in torch: batched, differentiable, CPU or CUDA.

The transform follows Balazs, Dörfler, Jaillet, Holighaus & Velasco (2011),
"Theory, implementation and applications of nonstationary Gabor frames", in
the *painless* frequency-domain case, with the band layout of Grill's
reference implementation ``nsgt`` (which our tests use as an oracle):

* band ``k`` is a Hann window of ``L_k`` FFT bins centred on its frequency,
  reaching from the previous band's centre to the next one's;
* its coefficients are the inverse FFT, of length ``M_k >= L_k``, of the
  windowed spectrum slice, so each band is a demodulated band-pass signal
  sampled ``M_k`` times over the signal;
* synthesis uses the canonical dual windows ``g_k / sum_l M_l |g_l|^2``,
  which reconstruct perfectly (to float precision).

The frame is split into two parts so that the cost stays proportional to the
useful data (a layout that pads every band to the widest one is 25-50x
redundant, because the edge bands are thousands of bins wide):

``core``
    The ``K`` bands of the frequency scale in *matrix form*: one tensor of
    shape ``[..., K, T]``, ``T`` frames over the signal, where ``T`` is the
    widest band's length rounded up to an FFT-friendly size (336 frames per
    second for NSGT-ERB at 22,050 Hz). This is what features, the model and
    phase reconstruction use.
``edges``
    The DC band, the two guard bands just outside ``[fmin, fmax]`` and the
    Nyquist band, each at its own length (its window length rounded up to an
    FFT-friendly size). Kept so the round trip is exact; phase reconstruction
    of a decoded spectrum sets them to zero.

Frame ``t`` of the core matrix sits at time ``t * length / T`` samples. The
transform is circular: the signal is treated as one period.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.scales import FrequencyScale, TransformPreset

MIN_WINDOW = 4  # nsgt's min_win: no band narrower than 4 FFT bins
CHUNK_BYTES = 4 << 20  # CPU batches go through in chunks of about this size (see NSGT._chunks)


def hann(n: int) -> np.ndarray:
    """Periodic Hann window with its peak at index 0 (``nsgt``'s ``hannwin``)."""
    return 0.5 + 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


@dataclass(frozen=True)
class BandGeometry:
    """Where every band of the frame sits, in FFT bins of a signal of ``length`` samples.

    Arrays cover the *positive* bands only, in order: DC, lower guard, the
    ``K`` scale bands, upper guard, Nyquist. Negative-frequency bands are
    their mirror images and are never stored.
    """

    sample_rate: float
    length: int
    frequencies: np.ndarray  # centre of each positive band, Hz (DC = 0, Nyquist = sr/2)
    centre_bin: np.ndarray  # rounded window centre, FFT bins
    window_length: np.ndarray  # L_k, FFT bins

    @property
    def n_scale_bands(self) -> int:
        return len(self.frequencies) - 4

    @property
    def scale_slice(self) -> slice:
        return slice(2, 2 + self.n_scale_bands)


def band_geometry(scale: FrequencyScale, sample_rate: float, length: int) -> BandGeometry:
    """Window positions and lengths of the frame (``nsgt``'s ``nsgfwin``, unsliced).

    Window ``k`` reaches from centre ``k-1`` to centre ``k+1``; the DC and
    Nyquist windows mirror their neighbours; the band just below Nyquist is
    re-centred half-way to it. Lengths are rounded to whole bins and at least
    :data:`MIN_WINDOW`.
    """
    nyquist = sample_rate / 2.0
    f = scale.frequencies(beyond=1)
    if f[0] <= 0 or f[-1] >= nyquist:
        raise ParameterError(
            f"{scale.describe()} with its guard bands ({f[0]:.1f} and {f[-1]:.1f} Hz) does not fit "
            f"strictly inside 0-{nyquist:g} Hz at {sample_rate:g} Hz")
    n = len(f)  # positive bands between DC and Nyquist
    frqs = np.concatenate(([0.0], f, [nyquist]))
    fbas = np.concatenate((frqs, sample_rate - frqs[-2:0:-1])) * (length / sample_rate)
    m = np.empty(len(fbas), dtype=np.int64)
    m[0] = np.round(2 * fbas[1])
    m[1:-1] = np.round(fbas[2:] - fbas[:-2])
    m[-1] = np.round(length - fbas[-2])
    m = np.maximum(m, MIN_WINDOW)
    fbas[n] = (fbas[n - 1] + fbas[n + 1]) / 2  # the top band is re-centred toward Nyquist
    centre = np.round(fbas).astype(np.int64)
    return BandGeometry(float(sample_rate), int(length), frqs, centre[: n + 2], m[: n + 2])


def _window_offsets(window_length: int) -> np.ndarray:
    """Bin offsets ``j`` covered by a window, from ``-(L//2)`` to ``L - L//2 - 1``."""
    return np.arange(-(window_length // 2), window_length - window_length // 2)


def _frame_diagonal(geo: BandGeometry, used_m: np.ndarray) -> np.ndarray:
    """Diagonal of the frame operator, ``x[b] = sum_k M_k g_k[b]^2`` over all bands, both signs."""
    x = np.zeros(geo.length)
    last = len(geo.centre_bin) - 1
    for k, (c, lg, mk) in enumerate(zip(geo.centre_bin, geo.window_length, used_m)):
        j = _window_offsets(lg)
        w2 = mk * hann(lg)[j % lg] ** 2
        np.add.at(x, (c + j) % geo.length, w2)
        if 0 < k < last:  # the mirrored negative-frequency band
            np.add.at(x, (geo.length - c - j) % geo.length, w2)
    return x


def fast_fft_size(n: int) -> int:
    """Smallest integer >= n whose prime factors are 2, 3, 5 or 7 (fast for every FFT library)."""
    m = max(int(n), 1)
    while True:
        r = m
        for p in (2, 3, 5, 7):
            while r % p == 0:
                r //= p
        if r == 1:
            return m
        m += 1


class _BandGroup:
    """Bands computed together with one buffer length ``m`` (one batched IFFT).

    Both directions work on the half spectrum of the real signal only: a window that reaches past DC or Nyquist
    reads the mirrored bins as conjugates of positive ones, and writes its share back the same way. The full
    two-sided spectra this replaced cost a third of a batched transform in copies. Each entry is read through the
    real view (re, im interleaved) with one real weight per part, so a conjugate is a sign; ``index_select`` then
    a complex ``index_copy_``/``index_add_`` measured 2.3 times as fast as advanced indexing on real views.
    """

    def __init__(self, geo: BandGeometry, bands: np.ndarray, m: int, diag: np.ndarray, self_mirror: bool):
        self.n = len(bands)
        self.m = int(m)
        length, half = geo.length, geo.length // 2 + 1
        slot, bins, window, dual = [], [], [], []
        for row, k in enumerate(bands):
            lg = int(geo.window_length[k])
            j = _window_offsets(lg)
            b = (geo.centre_bin[k] + j) % length
            g = hann(lg)[j % lg]
            slot.append(row * m + j % m)
            bins.append(b)
            window.append(g / m)  # the IFFT's 1/m, applied here instead (a 40% cheaper IFFT)
            dual.append(g / diag[b] * m)  # ... and undone here
        slot_, bins_, window_, dual_ = (np.concatenate(a) for a in (slot, bins, window, dual))
        self._entries = (slot_, bins_, window_ * m)  # each window value at its slot and FFT bin
        # analysis: a negative-frequency bin b is the conjugate of positive bin length - b
        mirrored = bins_ >= half
        read = np.where(mirrored, length - bins_, bins_)
        self._analysis = (*_interleaved(read, window_, np.where(mirrored, -1.0, 1.0)), slot_)
        # synthesis: a band adds its share at its bins inside the half spectrum, and (unless it holds both signs
        # itself, as the DC and Nyquist bands do) the conjugate of its share at the mirror of each of its bins
        own = bins_ < half
        parts = [(slot_[own], bins_[own], dual_[own], np.ones(own.sum()))]
        if not self_mirror:
            mirror = (length - bins_) % length
            to = mirror < half
            parts.append((slot_[to], mirror[to], dual_[to], -np.ones(to.sum())))
        src, dst, weight, sign = (np.concatenate(a) for a in zip(*parts))
        self._synthesis = (*_interleaved(src, weight, sign), dst)
        self._tensors: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, ...]] = {}
        self.centre_bin = geo.centre_bin[bands].copy()

    def tensors(self, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        """(read, weight, write) of analysis, then of synthesis, as tensors, made once per device and dtype
        and kept with this group (an ``lru_cache`` here would be one cache for all groups of all transforms:
        thrashed by a few, and keeping dead groups alive)."""
        key = (device, dtype)
        if key not in self._tensors:
            self._tensors[key] = tuple(
                torch.as_tensor(a, device=device, dtype=dtype if a.dtype.kind == "f" else None)
                for a in (*self._analysis, *self._synthesis))
        return self._tensors[key]

    def entries(self, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(buffer slot, FFT bin, window value) of every window entry, as tensors (:meth:`NSGT.dominant_bins`)."""
        slot, bins, window = self._entries
        return (torch.as_tensor(slot, device=device), torch.as_tensor(bins, device=device),
                torch.as_tensor(window, device=device, dtype=dtype))

    def analyse(self, half: torch.Tensor, buf: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """Windowed half-spectrum slices -> band coefficients ``[B, n, m]`` (into ``out`` if given).

        ``buf`` (``[B', n * m]``, ``B' >= B``) must be zero outside the window
        slots; only those slots are written, so it can be reused across chunks.
        """
        read, weight, write = self.tensors(half.device, half.real.dtype)[:3]
        buf = buf[:half.shape[0]]
        buf.index_copy_(1, write, _read(half, read, weight))
        return torch.fft.ifft(buf.view(-1, self.n, self.m), dim=-1, norm="forward", out=out)

    def overlap_add(self, coefs: torch.Tensor, half: torch.Tensor) -> None:
        """Add the dual-windowed spectra of ``coefs [B, n, m]`` into the half spectrum ``half [B, h]``."""
        read, weight, write = self.tensors(coefs.device, coefs.real.dtype)[3:]
        spectra = torch.fft.fft(coefs, dim=-1).view(coefs.shape[0], -1)
        half.index_add_(1, write, _read(spectra, read, weight))


def _interleaved(read: np.ndarray, weight: np.ndarray, imag_sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Complex entries (bin read, real weight, sign of the imaginary part: -1 conjugates) as indices into a real
    view and weights, real and imaginary parts interleaved."""
    return (np.stack((2 * read, 2 * read + 1), -1).reshape(-1), np.stack((weight, imag_sign * weight), -1).reshape(-1))


def _read(x: torch.Tensor, read: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """The weighted entries of complex ``x [B, n]`` that ``read`` and ``weight`` name (see :func:`_interleaved`)."""
    parts = torch.index_select(torch.view_as_real(x).reshape(x.shape[0], -1), 1, read) * weight
    return torch.view_as_complex(parts.view(x.shape[0], -1, 2))


@dataclass
class NSGTCoefficients:
    """Coefficients of :class:`NSGT`: the scale bands as a matrix, plus the edge bands."""

    core: torch.Tensor  # [..., K, T] complex
    edges: tuple[torch.Tensor, ...] | None = None  # DC, lower guard, upper guard, Nyquist; None = zeros


class NSGT:
    """NSGT of real signals of a fixed ``length``.

    Parameters
    ----------
    scale : FrequencyScale
        Band placement.
    sample_rate : float
        Sample rate in Hz.
    length : int
        Signal length in samples; every input must have exactly this length.
    frames : int, optional
        Frames of the core matrix; at least (and by default) the widest
        scale band in bins, so the frame stays painless.

    Examples
    --------
    >>> nsgt = NSGT(FrequencyScale("erb", 64, 8000, 168), sample_rate=22050, length=22050)
    >>> x = torch.randn(2, 22050, dtype=torch.float64)
    >>> c = nsgt.forward(x)
    >>> c.core.shape[-2], bool(torch.allclose(nsgt.backward(c), x))
    (168, True)
    """

    def __init__(self, scale: FrequencyScale, *, sample_rate: float, length: int, frames: int | None = None):
        if length < 16:
            raise ParameterError(f"signal length must be at least 16 samples, got {length}")
        self.scale = scale
        self.sample_rate = float(sample_rate)
        self.length = int(length)
        self.geometry = geo = band_geometry(scale, self.sample_rate, self.length)
        core = np.arange(geo.scale_slice.start, geo.scale_slice.stop)
        widest = int(geo.window_length[core].max())
        if frames is None:
            frames = fast_fft_size(widest)
        if frames < widest:
            raise ParameterError(f"frames must be >= {widest} (the widest band) for this transform, got {frames}")
        self.n_frames = int(frames)
        used_m = np.array([fast_fft_size(m) for m in geo.window_length])
        used_m[core] = self.n_frames
        diag = _frame_diagonal(geo, used_m)
        if not np.all(diag > 0):
            raise ParameterError(f"{scale.describe()} leaves frequencies uncovered for a {length}-sample signal")
        self.frame_diagonal = diag  # sum_k M_k |g_k|^2 per FFT bin
        last = len(geo.centre_bin) - 1
        self._core = _BandGroup(geo, core, self.n_frames, diag, self_mirror=False)
        self._edges = [_BandGroup(geo, np.array([k]), int(used_m[k]), diag, self_mirror=k in (0, last))
                       for k in (0, 1, last - 1, last)]
        self.frequencies = geo.frequencies[geo.scale_slice].copy()

    @property
    def n_bins(self) -> int:
        """Number of scale bands: rows of the core matrix."""
        return len(self.frequencies)

    @property
    def hop(self) -> float:
        """Samples between consecutive core frames."""
        return self.length / self.n_frames

    # ------------------------------------------------------------------ analysis
    def forward(self, x: torch.Tensor, *, edges: bool = True) -> NSGTCoefficients:
        """Analyse real signals ``[..., length]`` into :class:`NSGTCoefficients`."""
        if x.shape[-1] != self.length:
            raise ParameterError(f"this transform takes {self.length} samples, got {x.shape[-1]}")
        if not x.is_floating_point():
            raise ParameterError("signals must be float32 or float64")
        lead = x.shape[:-1]
        x = x.reshape(-1, self.length)
        half = torch.fft.rfft(x, dim=-1)
        core = self._analyse_core(half, differentiable=torch.is_grad_enabled() and x.requires_grad)
        edge = None
        if edges:
            edge = tuple(g.analyse(half, torch.zeros(len(x), g.m, dtype=half.dtype, device=x.device)).reshape(*lead, g.m)
                         for g in self._edges)
        return NSGTCoefficients(core.reshape(*lead, self.n_bins, self.n_frames), edge)

    def _analyse_core(self, half: torch.Tensor, *, differentiable: bool = False) -> torch.Tensor:
        """The core coefficients ``[B, K, T]`` of half spectra ``[B, length // 2 + 1]``.

        They go in cache-sized chunks written straight into the output; autograd cannot follow ``out=``, so a
        differentiable call goes through in one piece.
        """
        if differentiable:
            return self._core.analyse(half, torch.zeros(len(half), self._core.n * self._core.m, dtype=half.dtype,
                                                         device=half.device))
        core = torch.empty(len(half), self.n_bins, self.n_frames, dtype=half.dtype, device=half.device)
        parts = self._chunks(half)
        buf = torch.zeros(len(parts[0]), self._core.n * self._core.m, dtype=half.dtype, device=half.device)
        start = 0
        for part in parts:
            self._core.analyse(part, buf, out=core[start:start + len(part)])
            start += len(part)
        return core

    def _chunks(self, batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Split a CPU batch (signals, spectra or core matrices) so each chunk's core matrix stays cache-sized (:data:`CHUNK_BYTES`).

        Measured on 2 cores: band FFTs ran about twice as fast per signal in
        4 MB chunks as in 8 MB ones, and whole 40 MB batches slower still.
        On a GPU the whole batch goes at once.
        """
        if batch.device.type != "cpu":
            return (batch,)
        per_signal = self.n_bins * self.n_frames * 8  # complex64
        return batch.split(max(1, CHUNK_BYTES // per_signal))

    @property
    def window_peak(self) -> float:
        """The largest analysis window value of the core bands: what bounds a coefficient (a dataset's damage check)."""
        return float(self._core.tensors(torch.device("cpu"), torch.float32)[2].abs().max())

    def magnitude(self, x: torch.Tensor) -> torch.Tensor:
        """``|core coefficients|``: the ``[..., K, T]`` magnitude matrix used as features."""
        return self.forward(x, edges=False).core.abs()

    # ------------------------------------------------------------------ synthesis
    def backward(self, c: NSGTCoefficients | torch.Tensor) -> torch.Tensor:
        """Synthesise real signals from coefficients with the canonical dual frame.

        A bare tensor is taken as core coefficients with zero edge bands.
        """
        if isinstance(c, torch.Tensor):
            c = NSGTCoefficients(c)
        core = c.core
        if core.shape[-2:] != (self.n_bins, self.n_frames):
            raise ParameterError(
                f"expected core coefficients [..., {self.n_bins}, {self.n_frames}], got {tuple(core.shape)}")
        lead = core.shape[:-2]
        edges = None if c.edges is None else [e.reshape(-1, 1, g.m) for e, g in zip(c.edges, self._edges)]
        half = self._synthesise(core.reshape(-1, self.n_bins, self.n_frames), edges)
        return torch.fft.irfft(half, n=self.length, dim=-1).reshape(*lead, self.length)

    def consistent(self, core: torch.Tensor) -> torch.Tensor:
        """``forward(backward(core), edges=False).core`` for core coefficients ``[B, K, T]``: those of the signal
        they make, Griffin-Lim's projection. It stays in the half spectrum: the core bands reach neither the DC
        nor the Nyquist bin (the edge bands hold them), so the inverse and forward FFTs of the whole signal
        between synthesis and analysis change nothing, and they took 40 % of an iteration's time."""
        return self._analyse_core(self._synthesise(core, None))

    def _synthesise(self, core: torch.Tensor, edges: list[torch.Tensor] | None) -> torch.Tensor:
        """The half spectra ``[B, length // 2 + 1]`` the core ``[B, K, T]`` and edge coefficients make."""
        half = torch.zeros(core.shape[0], self.length // 2 + 1, dtype=core.dtype, device=core.device)
        start = 0
        for part in self._chunks(core):  # the core's band FFTs in cache-sized chunks, the edges in one piece
            self._core.overlap_add(part, half[start:start + len(part)])
            start += len(part)
        for group, coefs in zip(self._edges, edges or []):
            group.overlap_add(coefs, half)
        return half

    def dominant_bins(self, magnitude: torch.Tensor) -> torch.Tensor:
        """For each band and frame, the FFT bin of the steady sinusoid that best explains the magnitudes.

        A sinusoid at bin ``b`` gives band ``k`` the magnitude ``A g_k(b)``; the
        least-squares fit of one sinusoid to the frame at bin ``b`` explains
        ``(sum_k g_k(b) m_k)^2 / sum_k g_k(b)^2`` of its energy. Each band takes
        the best-scoring bin inside its own window. Input ``[..., K, T]``, output
        ``[..., K, T]`` (long): the basis of a phase that makes partials sound at
        their true frequencies rather than at band centres.

        Each frame is scored over every FFT bin of the whole signal, which costs
        frames x length: quadratic in the duration (a 30 s path needed 24 GB). A
        long transform therefore scores on the same scale's transform of
        :data:`DOMINANT_LENGTH` samples (a resolution of about 1 Hz, ample for a
        starting phase) and scales the bins up to its own.
        """
        if self.length > DOMINANT_LENGTH:
            short = _scoring_transform(self.scale, self.sample_rate)
            best = short.dominant_bins(magnitude).double() * (self.length / DOMINANT_LENGTH)
            return best.round().long().clamp_(0, self.length // 2)
        g = self._core
        slot, bins, window = g.entries(magnitude.device, magnitude.dtype)
        band = slot // g.m
        lead, t = magnitude.shape[:-2], magnitude.shape[-1]
        frames = magnitude.reshape(-1, self.n_bins, t).transpose(1, 2).reshape(-1, self.n_bins)  # [B*T, K]
        norm = frames.new_zeros(self.length // 2 + 1).index_add_(0, bins, window * window)
        bin_of_slot = torch.zeros(self.n_bins * g.m, dtype=torch.long, device=frames.device).index_copy_(0, slot, bins)
        found = []
        for m in frames.split(DOMINANT_BLOCK):  # the score table of all frames at once took gigabytes
            fit = m.new_zeros(m.shape[0], self.length // 2 + 1).index_add_(1, bins, m[:, band] * window)
            score = fit.square_() / norm.clamp_min(torch.finfo(m.dtype).tiny)
            table = m.new_full((m.shape[0], self.n_bins * g.m), -1.0).index_copy_(1, slot, score[:, bins])
            best_slot = table.view(-1, self.n_bins, g.m).argmax(-1)  # [block, K]
            found.append(bin_of_slot.view(self.n_bins, g.m).gather(1, best_slot.T).T)
        best = torch.cat(found) if found else frames.new_zeros(0, self.n_bins, dtype=torch.long)
        return best.reshape(-1, t, self.n_bins).transpose(1, 2).reshape(*lead, self.n_bins, t)

    def partial_bins(self, frame: torch.Tensor) -> torch.Tensor:
        """For a held magnitude frame ``[..., K]``, the FFT bin each band's steady sinusoid should sit at.

        Two neighbouring windows overlap only between their centres, so one
        sinusoid there sounds in those two bands alone, in a ratio set by where
        it sits. Each peak band is paired with its larger neighbour and given
        the bin whose ratio fits the two magnitudes best (both bands take it);
        every other band keeps its centre bin, where its sinusoid sounds in no
        other band. Nothing then beats, so the held frame is matched as closely
        as the bin spacing allows: the magnitudes are exact at any sub-bin
        position, and a longer signal's finer bins come closer (see
        :func:`~timbre_explorer.core.signal.phase.sustain`).
        """
        s = frame.reshape(-1, self.n_bins).double()
        centre = torch.as_tensor(self._core.centre_bin, device=s.device)
        width = torch.as_tensor(self.geometry.window_length[self.geometry.scale_slice], device=s.device)
        k = torch.arange(self.n_bins, device=s.device)
        padded = torch.nn.functional.pad(s[:, None], (1, 1), mode="replicate")[:, 0]  # an edge band is no peak
        left, right = padded[:, :-2], padded[:, 2:]
        partner = torch.where(right >= left, k + 1, k - 1)
        peak = (s >= left) & (s > right) & (s > 0) & (partner >= 0) & (partner < self.n_bins)
        partner = partner.clamp(0, self.n_bins - 1)
        # a band claimed by two peaks goes to the larger; a peak's partner that is itself a peak pairs with nothing
        claim = s.new_zeros(s.shape).scatter_reduce(1, partner, torch.where(peak, s, 0.0), "amax")
        pair = peak & (s >= claim.gather(1, partner)) & ~peak.gather(1, partner)
        lo, hi = torch.minimum(k, partner), torch.maximum(k, partner)
        s_lo, s_hi = s.gather(1, lo.expand_as(s)), s.gather(1, hi.expand_as(s))
        c_lo, c_hi = centre[lo], centre[hi]

        def window(band: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # band's Hann window at bin b
            j, n = (b - centre[band]).double(), width[band].double()
            inside = (j >= -(width[band] // 2)) & (j < width[band] - width[band] // 2)
            return torch.where(inside, 0.5 + 0.5 * torch.cos(2 * torch.pi * j / n), 0.0)

        # where symmetric Hann halves would put it (their ratio is tan^2), then the best of the bins around that
        u = (2 / torch.pi) * torch.atan((s_hi / s_lo.clamp_min(1e-300)).sqrt())
        guess = (c_lo + u * (c_hi - c_lo)).round().long()
        candidates = torch.stack([torch.minimum(torch.maximum(guess + d, c_lo), c_hi) for d in (-1, 0, 1)])
        w_lo, w_hi = window(lo, candidates), window(hi, candidates)
        score = (s_lo * w_lo + s_hi * w_hi).square() / (w_lo.square() + w_hi.square()).clamp_min(1e-300)
        best = candidates.gather(0, score.argmax(0, keepdim=True))[0]
        bins = centre.expand_as(s).clone()
        rows, cols = pair.nonzero(as_tuple=True)
        bins[rows, cols] = best[rows, cols]
        bins[rows, partner[rows, cols]] = best[rows, cols]
        return bins.reshape(frame.shape)

    @property
    def centre_bins(self) -> np.ndarray:
        """FFT bin at the centre of each scale band's window."""
        return self._core.centre_bin

    @property
    def centre_frequencies(self) -> np.ndarray:
        """Hz of each scale band's window centre: the frequency its coefficients are demodulated by."""
        return self._core.centre_bin * (self.sample_rate / self.length)

    @property
    def bandwidths(self) -> np.ndarray:
        """Hz that each scale band's Hann window spans: with the centres, what phase-gradient estimates need."""
        return self.geometry.window_length[self.geometry.scale_slice] * (self.sample_rate / self.length)


DOMINANT_LENGTH = 1 << 15  # samples: the transform that finds a long signal's partials (1.5 s at 22,050 Hz)
DOMINANT_BLOCK = 128  # frames scored at once: about 45 MB of scores on DOMINANT_LENGTH


@lru_cache(maxsize=4)
def _scoring_transform(scale: FrequencyScale, sample_rate: float) -> NSGT:
    """The :data:`DOMINANT_LENGTH` transform a long one scores its partials on, built once (each piece of a long
    path asks for it)."""
    return NSGT(scale, sample_rate=sample_rate, length=DOMINANT_LENGTH)


@lru_cache(maxsize=32)
def transform_for(preset: TransformPreset, length: int) -> NSGT:
    """The (cached) transform of a preset for signals of ``length`` samples."""
    return NSGT(preset.scale, sample_rate=preset.sample_rate, length=length)
