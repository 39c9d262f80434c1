"""The timbre VAE of Esling et al. (DAFx 2018): an MLP VAE over normalized log-magnitude NSGT frames.

* :class:`VAEConfig` and :class:`Normalization` are the few numbers a model
  file needs besides its weights (:mod:`timbre_explorer.core.model.modelfile`).
* :class:`TimbreVAE`: encoder and decoder MLPs with Gaussian heads on both
  sides. The decoder predicts a mean *and* a log-variance per bin
  (heteroscedastic Gaussian likelihood), as the paper's code does.
* Conditioning (:data:`~timbre_explorer.core.model.vae_config.CONDITIONINGS`): a conditioned model sees a
  frame *without its level* (its log-magnitudes minus their mean, :func:`split_level`), and its decoder, and
  its encoder with ``both``, take the frame's pitch and level (:func:`conditions`). What pitch and level explain
  then stays out of the latent code, and a decoded frame has exactly the level asked for.
  :func:`frame_inputs` and :func:`log_magnitudes` are the two ends every caller goes through.
* Loss terms as pure functions: :func:`gaussian_nll`, :func:`kl_standard_normal`,
  :func:`beta_at` (the warm-up of the KL weight), and the two perceptual
  regularizers, :func:`perceptual_kl` (the paper's Eqs. 8-10) and
  :func:`perceptual_l2` (the simpler variant of the released code), both
  over the samples of a batch, each standing at its instrument's point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.model.vae_config import (
    DEFAULT_PITCH,
    EXTENSION_CONTEXT,
    EXTENSION_HIDDEN,
    LATENT_LOGVAR_RANGE,
    LEVEL_CENTRE,
    LEVEL_SPAN,
    N_CONDITIONS,
    OUTPUT_LOGVAR_RANGE,
    PITCH_CENTRE,
    PITCH_SPAN,
    RELATIVE_LOW,
    RELATIVE_POINTS,
    RELATIVE_STEPS,
    Normalization,
    VAEConfig,
)

_LOG_2PI = math.log(2.0 * math.pi)

# ---------------------------------------------------------------------------- model
@dataclass
class VAEOutput:
    """One pass through the VAE: the latent code and both Gaussians."""

    z: torch.Tensor  # [batch, latent]
    mu: torch.Tensor  # [batch, latent]
    logvar: torch.Tensor  # [batch, latent]
    x_mu: torch.Tensor  # [batch, n_bins]
    x_logvar: torch.Tensor  # [batch, n_bins]


def split_level(log_mag: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Natural-log magnitude frames ``[..., K]`` to their shape (level-free) and level ``[...]``: the mean of
    their log-magnitudes over bins, so ``shape + level`` gives the frames back and every shape has mean 0."""
    level = log_mag.mean(-1)
    return log_mag - level[..., None], level


def conditions(pitch: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
    """Pitch (MIDI) and level ``[n]`` to the network's condition inputs ``[n, 2]``. An unknown pitch (negative: a
    note of a user's folder with none named or heard, a drum) is :data:`DEFAULT_PITCH`, as a user's unpitched sound
    is placed."""
    pitch = pitch.to(level.dtype)
    pitch = torch.where(pitch < 0, torch.full_like(pitch, DEFAULT_PITCH), pitch)
    return torch.stack([(pitch - PITCH_CENTRE) / PITCH_SPAN, (level - LEVEL_CENTRE) / LEVEL_SPAN], -1)


def condition_level(c: torch.Tensor) -> torch.Tensor:
    """The level a condition input ``[n, 2]`` asks for ``[n]`` (the inverse of :func:`conditions` on it)."""
    return c[:, 1] * LEVEL_SPAN + LEVEL_CENTRE


def frame_inputs(config: VAEConfig, norm: Normalization, log_mag: torch.Tensor,
                 pitch: torch.Tensor | float | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Natural-log magnitude frames ``[n, K]`` (and their MIDI pitch: a number, one per frame, or None for
    :data:`DEFAULT_PITCH`) to a model's inputs ``(x, c)``; ``c`` is None for an unconditioned model."""
    log_mag = torch.as_tensor(log_mag, dtype=torch.float32)[..., :config.encoded_bins]  # a band extension's: its own
    if not config.conditioned:
        return norm.from_log(log_mag), None
    shape, level = split_level(log_mag.clamp_min(math.log(norm.floor)))
    p = torch.as_tensor(DEFAULT_PITCH if pitch is None else pitch, dtype=torch.float32).expand(level.shape)
    return norm.from_log(shape), conditions(p, level)


def log_magnitudes(norm: Normalization, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    """Model outputs ``x`` (decoder means) back to natural-log magnitudes, at the level ``c`` asks for.

    The decoded shape is level-free only on average: a blurred shape has a lower RMS than the frames it stands
    for, and forcing its RMS to the level would lift every quiet bin (measured: 4x the squared log error). The
    level is therefore the decoder's; what plays is brought to its dynamic's loudness after rendering
    (:func:`~timbre_explorer.core.synthesis.synth.at_dynamic`)."""
    log_mag = x * norm.scale + norm.mean
    return log_mag if c is None else log_mag + condition_level(c)[:, None]


def _mlp(n_in: int, hidden: int, layers: int) -> nn.Sequential:
    blocks: list[nn.Module] = []
    for i in range(layers):
        blocks += [nn.Linear(n_in if i == 0 else hidden, hidden), nn.ReLU()]
    return nn.Sequential(*blocks)


class TimbreVAE(nn.Module):
    """MLP VAE with Gaussian posterior and Gaussian (mean, log-variance) likelihood per bin.

    Parameter names (``encoder.0.weight``, ``enc_mu.bias``, ...) are the keys
    of the model file: renaming a submodule breaks every saved model.
    """

    def __init__(self, config: VAEConfig, frequencies: np.ndarray | None = None):
        """``frequencies``: the bins' centre frequencies (Hz), which a pitch-relative decoder shifts its axis onto;
        a model loaded from a file gets them with its weights (the tensor ``bin_pitch``)."""
        super().__init__()
        self.config = config
        n_c = N_CONDITIONS if config.conditioned else 0
        low = config.encoded_bins
        self.encoder = _mlp(low + (n_c if config.conditioning == "both" else 0), config.hidden, config.layers)
        self.enc_mu = nn.Linear(config.hidden, config.latent)
        self.enc_logvar = nn.Linear(config.hidden, config.latent)
        self.decoder = _mlp(config.latent + n_c, config.hidden, config.layers)
        relative = config.decoder_axis == "pitch"
        self.dec_mu = nn.Linear(config.hidden, RELATIVE_POINTS if relative else low)
        self.dec_logvar = nn.Linear(config.hidden, low)
        if config.extension_bins:  # the top bins, from the code, the conditions and the decoded band's top
            self.extension = nn.Sequential(nn.Linear(config.latent + n_c + EXTENSION_CONTEXT, EXTENSION_HIDDEN),
                                           nn.ReLU(), nn.Linear(EXTENSION_HIDDEN, EXTENSION_HIDDEN), nn.ReLU(),
                                           nn.Linear(EXTENSION_HIDDEN, config.extension_bins))
        if relative:  # each bin's centre as a MIDI pitch
            bin_pitch = torch.zeros(config.n_bins)
            if frequencies is not None:
                f = np.asarray(frequencies, np.float64)
                if f.shape != (config.n_bins,) or not (f > 0).all():
                    raise ParameterError(f"a pitch-relative decoder needs {config.n_bins} positive bin frequencies")
                bin_pitch = torch.as_tensor(69.0 + 12.0 * np.log2(f / 440.0), dtype=torch.float32)
            self.register_buffer("bin_pitch", bin_pitch)

    def _check(self, c: torch.Tensor | None, n: int) -> None:
        if self.config.conditioned and (c is None or c.shape != (n, N_CONDITIONS)):
            raise ParameterError(f"a conditioned model needs conditions [{n}, {N_CONDITIONS}] (pitch and level), "
                                 f"got {None if c is None else tuple(c.shape)}")

    def encode(self, x: torch.Tensor, c: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [batch, n_bins]`` (and conditions ``c [batch, 2]``) to the posterior's mean and log-variance
        ``[batch, latent]``. An encoder without conditions ignores ``c``."""
        if self.config.conditioning == "both":
            self._check(c, len(x))
            x = torch.cat([x, c], -1)  # type: ignore[list-item]
        h = self.encoder(x)
        return self.enc_mu(h), self.enc_logvar(h).clamp(*LATENT_LOGVAR_RANGE)

    def decode(self, z: torch.Tensor, c: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``z [batch, latent]`` (and, conditioned, ``c [batch, 2]``) to the likelihood's mean and log-variance
        ``[batch, n_bins]``."""
        h = self._decoder_hidden(z, c)
        mean, logvar = self._extended(z, c, self._mean(h, c)), self.dec_logvar(h).clamp(*OUTPUT_LOGVAR_RANGE)
        if self.config.extension_bins:  # the extension's bins as uncertain as the decoded band's top
            logvar = torch.cat([logvar, logvar[:, -1:].expand(-1, self.config.extension_bins)], -1)
        return mean, logvar

    def decode_mean(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """The likelihood's mean alone (:meth:`decode` without its log-variance head: a field decodes 10,000)."""
        return self._extended(z, c, self._mean(self._decoder_hidden(z, c), c))

    def extend(self, z: torch.Tensor, c: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
        """A band extension's top bins ``[batch, extension_bins]`` (normalized, as the decoder's means) for the
        decoded band ``low [batch, encoded_bins]`` of codes ``z`` at conditions ``c``: offsets from its top bin."""
        return self.extension(torch.cat([z, c, low[:, -EXTENSION_CONTEXT:]], -1)) + low[:, -1:]

    def _extended(self, z: torch.Tensor, c: torch.Tensor | None, low: torch.Tensor) -> torch.Tensor:
        if not self.config.extension_bins:
            return low
        return torch.cat([low, self.extend(z, c, low)], -1)  # type: ignore[arg-type]

    def _mean(self, h: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """The mean head; a pitch-relative one read at each bin's distance from the asked pitch (linearly
        between its points, held at its ends)."""
        mean = self.dec_mu(h)
        if self.config.decoder_axis != "pitch":
            return mean
        pitch = c[:, 0] * PITCH_SPAN + PITCH_CENTRE  # type: ignore[index]
        bin_pitch = self.get_buffer("bin_pitch")
        u = ((bin_pitch[None, :] - pitch[:, None] - RELATIVE_LOW) * RELATIVE_STEPS).clamp(0, RELATIVE_POINTS - 1)
        i0 = u.floor().long().clamp(max=RELATIVE_POINTS - 2)
        t = u - i0
        return mean.gather(1, i0) * (1 - t) + mean.gather(1, i0 + 1) * t

    def _decoder_hidden(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        if self.config.conditioned:
            self._check(c, len(z))
            z = torch.cat([z, c], -1)  # type: ignore[list-item]
        return self.decoder(z)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None, *, c_out: torch.Tensor | None = None,
                sample: bool = True) -> VAEOutput:
        """Encode, draw ``z`` (reparameterized; the mean when ``sample`` is False) and decode, at the conditions
        ``c_out`` when given (another note's pitch and level: see the training's partner frames), else ``c``."""
        mu, logvar = self.encode(x, c)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if sample else mu
        x_mu, x_logvar = self.decode(z, c if c_out is None else c_out)
        return VAEOutput(z, mu, logvar, x_mu, x_logvar)


# ---------------------------------------------------------------------------- losses
def gaussian_nll(x: torch.Tensor, x_mu: torch.Tensor, x_logvar: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of ``x`` under N(x_mu, exp(x_logvar)), summed over bins: ``[batch]``."""
    return 0.5 * (x_logvar + (x - x_mu) ** 2 * torch.exp(-x_logvar) + _LOG_2PI).sum(-1)


def shared_logvar(x_logvar: torch.Tensor) -> torch.Tensor:
    """One variance for every bin of a frame (the mean of the decoder's log-variances), for the ``shared``
    likelihood: a decoder that may raise the variance of the bands it rebuilds badly learns to leave them out,
    and the quiet high bands of a note are what it left out (docs/research.md, "Sounds like the instrument")."""
    return x_logvar.mean(-1, keepdim=True).expand_as(x_logvar)


def band_matrix(frequencies: np.ndarray | torch.Tensor, per_octave: int = 2) -> torch.Tensor:
    """``[bands, bins]``: 1 where a bin's centre frequency lies in a band of ``1 / per_octave`` octave (counted
    from the lowest bin), for :func:`band_energy_error`; bands that hold no bin are left out."""
    f = torch.as_tensor(np.asarray(frequencies, np.float64))
    if f.dim() != 1 or not len(f) or not (f > 0).all() or per_octave < 1:
        raise ParameterError("band_matrix needs positive bin frequencies and at least one band per octave")
    band = torch.floor(torch.log2(f / f.min()) * per_octave + 1e-9).long()
    onehot = torch.nn.functional.one_hot(band, int(band.max()) + 1).T.float()
    return onehot[onehot.sum(-1) > 0]


def band_energy_error(x: torch.Tensor, x_mu: torch.Tensor, norm: Normalization, bands: torch.Tensor
                      ) -> torch.Tensor:
    """Squared error of the decoded frames' energy in each band (natural log of the summed squared magnitudes;
    0.23 is 1 dB), summed over bands: ``[batch]``. The per-bin likelihood weighs a band by how many bins it
    holds and in log units, where a loud partial and the noise beside it count alike; this term weighs the
    energy a listener hears in each half-octave, so the decoder keeps the level of the high bands."""
    def energy(v: torch.Tensor) -> torch.Tensor:
        power = 2.0 * (v * norm.scale + norm.mean)
        top = power.max(-1, keepdim=True).values.detach()
        return top + torch.log(torch.exp(power - top) @ bands.T + 1e-12)

    return (energy(x_mu) - energy(x)).square().sum(-1)


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) in closed form, summed over latent dims: ``[batch]``."""
    return 0.5 * (torch.exp(logvar) + mu**2 - 1.0 - logvar).sum(-1)


def beta_at(epoch: int, *, beta: float, warmup_epochs: int) -> float:
    """The KL weight at ``epoch`` (from 0): linear from 0 to ``beta`` over ``warmup_epochs``.

    The warm-up lets the decoder learn to reconstruct before the prior pulls
    every code toward 0 (paper: beta = 2 over 100 epochs).

    Example
    -------
    >>> [beta_at(e, beta=2.0, warmup_epochs=100) for e in (0, 50, 100, 500)]
    [0.0, 1.0, 2.0, 2.0]
    >>> beta_at(0, beta=2.0, warmup_epochs=0)
    2.0
    """
    if epoch < 0 or warmup_epochs < 0 or beta < 0:
        raise ParameterError(f"epoch, beta and warm-up must be non-negative, got {epoch}, {beta}, {warmup_epochs}")
    if warmup_epochs == 0:
        return float(beta)
    return float(beta) * min(1.0, epoch / warmup_epochs)


def _rated(z: torch.Tensor, labels: torch.Tensor, n_instruments: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The codes of samples with perceptual data and their instrument indices (``-1`` marks the others)."""
    if z.dim() != 2 or labels.shape != z.shape[:1]:
        raise ParameterError(f"expected z [batch, latent] and labels [batch], got {tuple(z.shape)} and "
                             f"{tuple(labels.shape)}")
    labels = labels.to(device=z.device, dtype=torch.long)
    if labels.numel() and (labels.min() < -1 or labels.max() >= n_instruments):
        raise ParameterError(f"instrument labels must be -1 (no perceptual data) or 0..{n_instruments - 1}")
    keep = labels >= 0
    return z[keep], labels[keep]


def _squared_distances(p: torch.Tensor) -> torch.Tensor:
    """Pairwise squared distances ``[n, n]``, as a matrix product: a batch of 4096 codes costs no more
    than its Gram matrix. Clamped at 0 against rounding; callers drop the diagonal."""
    sq = p.square().sum(1)
    return (sq[:, None] + sq[None, :] - 2.0 * p @ p.T).clamp_min(0.0)


def perceptual_kl(z: torch.Tensor, labels: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """The paper's perceptual regularizer R(z, T) (Eqs. 8-10) over the samples of a batch, per sample.

    ``labels [batch]`` index the rows of ``positions [n_instruments, d]``
    (MDS timbre-space positions); -1 marks a sample without perceptual data,
    which takes no part. As in the paper, sample i stands at its instrument's
    point ``T_i``, so two samples of one instrument are at timbre distance 0:

    * Latent side, a Gaussian kernel with sigma = 1/sqrt(2), normalized per
      row: ``Dz_ij = exp(-|z_i - z_j|^2) / sum_{k != i} exp(-|z_i - z_k|^2)``.
    * Timbre side, a Student-t kernel normalized over all pairs:
      ``DT_ij = (1 + |T_i - T_j|^2)^-1 / sum_{k != l} (1 + |T_k - T_l|^2)^-1``.
    * ``R = sum_i sum_{j != i} Dz_ij (log Dz_ij - log DT_ij)``, divided here by
      the number of rows so α does not depend on the batch size.

    Same-instrument pairs carry the largest DT, so R gathers each instrument's
    samples and spaces the groups as the timbre space does. The two sides are
    normalized differently (row-wise against globally), as in the paper: the
    rows of DT sum to ``s_i < 1``, so R is not a mean of true KL divergences
    and its minimum is ``-mean_i log s_i``, not 0; there each row of Dz is
    proportional to the same row of DT. With fewer than 2 instruments present
    there is no timbre distance to match: the result is a zero that still
    carries a gradient.
    """
    positions = torch.as_tensor(positions)
    if positions.dim() != 2:
        raise ParameterError(f"timbre-space positions must be [instruments, dims], got {tuple(positions.shape)}")
    zz, lab = _rated(z, labels, positions.shape[0])
    n = len(lab)
    if n < 2 or bool((lab == lab[0]).all()):
        return z.sum() * 0
    off = ~torch.eye(n, dtype=torch.bool, device=z.device)
    log_dz = torch.log_softmax(-_squared_distances(zz)[off].view(n, n - 1), dim=1)
    t = positions.to(device=z.device, dtype=z.dtype)[lab]
    log_q = -torch.log1p(_squared_distances(t)[off].view(n, n - 1))
    log_dt = log_q - torch.logsumexp(log_q.reshape(-1), dim=0)
    return (log_dz.exp() * (log_dz - log_dt)).sum() / n


def perceptual_l2(z: torch.Tensor, labels: torch.Tensor, dissimilarity: torch.Tensor) -> torch.Tensor:
    """The ``l2`` regularizer of the paper's released code: mean squared difference, over the pairs i < j of
    a batch, between latent distances and the dissimilarity of the two samples' instruments.

    ``dissimilarity [n, n]`` is divided by its maximum, so target distances lie in [0, 1]; two samples of
    one instrument have target 0. Labels of -1 take no part; with fewer than 2 such samples the result is
    a zero that carries a gradient.
    """
    dissimilarity = torch.as_tensor(dissimilarity)
    if dissimilarity.dim() != 2 or dissimilarity.shape[0] != dissimilarity.shape[1]:
        raise ParameterError(f"the dissimilarity matrix must be square, got {tuple(dissimilarity.shape)}")
    zz, lab = _rated(z, labels, dissimilarity.shape[0])
    n = len(lab)
    if n < 2:
        return z.sum() * 0
    target = dissimilarity.to(device=z.device, dtype=z.dtype)
    top = target.max()
    if not top > 0:
        raise ParameterError("the dissimilarity matrix must have a positive maximum")
    target = (target / top).fill_diagonal_(0.0)[lab][:, lab]
    i, j = torch.triu_indices(n, n, 1, device=z.device)
    dist = torch.sqrt(_squared_distances(zz)[i, j].clamp_min(1e-12))  # no infinite gradient at 0
    return ((dist - target[i, j]) ** 2).mean()
