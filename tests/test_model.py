"""The timbre VAE and its loss terms, on a toy model and random tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.model.vae import (
    DEFAULT_PITCH,
    Normalization,
    TimbreVAE,
    VAEConfig,
    band_energy_error,
    band_matrix,
    beta_at,
    conditions,
    frame_inputs,
    gaussian_nll,
    kl_standard_normal,
    log_magnitudes,
    perceptual_kl,
    perceptual_l2,
    shared_logvar,
    split_level,
)

TOY = VAEConfig(n_bins=20, hidden=32, layers=2, latent=4)


def _pairwise_full(p: np.ndarray) -> np.ndarray:
    return np.sqrt(((p[:, None] - p[None]) ** 2).sum(-1))


def _pairwise(p: np.ndarray) -> np.ndarray:
    return _pairwise_full(p)[np.triu_indices(len(p), 1)]


def test_shapes_of_encode_decode_forward():
    torch.manual_seed(0)
    vae = TimbreVAE(TOY)
    x = torch.randn(7, 20)
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (7, 4)
    x_mu, x_logvar = vae.decode(mu)
    assert x_mu.shape == x_logvar.shape == (7, 20)
    out = vae(x)
    assert out.z.shape == (7, 4) and out.x_mu.shape == (7, 20)
    assert not torch.equal(out.z, out.mu)  # sampled
    assert torch.equal(vae(x, sample=False).z, mu)
    names = set(vae.state_dict())
    assert {"encoder.0.weight", "encoder.2.bias", "enc_mu.weight", "enc_logvar.bias",
            "decoder.0.weight", "dec_mu.weight", "dec_logvar.bias"} <= names


@pytest.mark.parametrize("conditioning,axis", [("none", "bins"), ("decoder", "bins"), ("both", "bins"),
                                               ("decoder", "pitch"), ("both", "pitch")])
def test_the_settings_know_every_weight_the_vae_they_build_has(conditioning, axis):
    """A model file's weights are checked against ``weight_shapes`` without building the network (torch-free)."""
    config = VAEConfig(n_bins=20, hidden=9, layers=3, latent=4, conditioning=conditioning, decoder_axis=axis)
    built = TimbreVAE(config).state_dict()
    assert {k: tuple(v.shape) for k, v in built.items()} == config.weight_shapes()
    assert {v.dtype for v in built.values()} == {torch.float32}


def test_a_conditioned_model_takes_pitch_and_level_where_its_conditioning_says():
    torch.manual_seed(0)
    x, c = torch.randn(5, 20), torch.randn(5, 2)
    for conditioning, enc_in, dec_in in (("none", 20, 4), ("decoder", 20, 6), ("both", 22, 6)):
        vae = TimbreVAE(VAEConfig(n_bins=20, hidden=32, layers=2, latent=4, conditioning=conditioning))
        assert vae.encoder[0].in_features == enc_in and vae.decoder[0].in_features == dec_in
        out = vae(x, c if conditioning != "none" else None, sample=False)
        assert out.x_mu.shape == (5, 20)


def _conditioned():
    """A seeded model conditioned in its encoder and decoder, some frames, their conditions and its output."""
    torch.manual_seed(0)
    x, c = torch.randn(5, 20), torch.randn(5, 2)
    vae = TimbreVAE(VAEConfig(n_bins=20, hidden=32, layers=2, latent=4, conditioning="both"))
    return vae, c, vae(x, c, sample=False)


def test_a_conditioned_decoder_without_conditions_says_it_needs_them():
    vae, _, _ = _conditioned()
    with pytest.raises(ParameterError, match="needs conditions"):
        vae.decode(torch.zeros(5, 4))


def test_the_decoder_reads_the_condition():
    """Another pitch, another output."""
    vae, c, out = _conditioned()
    assert not torch.allclose(vae.decode(out.z, c)[0], vae.decode(out.z, c + torch.tensor([0.5, 0.0]))[0])


def test_an_unknown_conditioning_is_refused():
    with pytest.raises(ParameterError, match="conditioning"):
        VAEConfig(conditioning="pitch")


def test_a_pitch_relative_decoder_shifts_its_output_with_the_asked_pitch():
    """Known answer: bins a third of a semitone apart, and a decoder whose hidden layer ignores the pitch. Asked an
    octave higher, its mean is the same curve 36 bins further up; a decoder on the bins' own axis does not move."""
    torch.manual_seed(0)
    frequencies = 440.0 * 2 ** ((40 + np.arange(120) / 3 - 69) / 12)
    for axis, shift in (("pitch", 36), ("bins", 0)):
        vae = TimbreVAE(VAEConfig(n_bins=120, hidden=32, layers=2, latent=4, conditioning="decoder",
                                  decoder_axis=axis), frequencies)
        with torch.no_grad():
            vae.decoder[0].weight[:, 4] = 0.0  # the pitch input: only the axis can move the output
        z = torch.randn(3, 4)
        low, high = (vae.decode_mean(z, conditions(torch.full((3,), p), torch.full((3,), -7.0))) for p in (50.0, 62.0))
        assert torch.allclose(high[:, shift:], low[:, : 120 - shift], atol=1e-5)
        assert (axis == "bins") == torch.allclose(high, low, atol=1e-5)


def test_a_pitch_relative_decoder_carries_its_bins_pitches_in_its_weights():
    """A model file's weights rebuild it: the bins' pitches are a tensor of the model, not a setting."""
    config = VAEConfig(n_bins=20, hidden=16, layers=1, latent=2, conditioning="both", decoder_axis="pitch")
    vae = TimbreVAE(config, 100.0 * 2 ** (np.arange(20) / 4))
    assert vae.bin_pitch[4].item() == pytest.approx(69 + 12 * np.log2(200 / 440), abs=1e-4)  # 200 Hz
    again = TimbreVAE(config)
    again.load_state_dict(vae.state_dict(), strict=True)
    assert torch.equal(again.bin_pitch, vae.bin_pitch)
    with pytest.raises(ParameterError, match="20 positive bin frequencies"):
        TimbreVAE(config, np.ones(19))
    with pytest.raises(ParameterError, match="conditioned on pitch"):
        VAEConfig(decoder_axis="pitch")
    with pytest.raises(ParameterError, match="decoder_axis"):
        VAEConfig(conditioning="both", decoder_axis="semitones")


def test_level_free_frames_and_their_level_give_the_frames_back():
    log_mag = torch.log(torch.rand(6, 20) + 0.01)
    shape, level = split_level(log_mag)
    # the level is the mean log-magnitude; the shape has level 0
    assert torch.allclose(level, log_mag.mean(-1), atol=1e-6)
    assert torch.allclose(split_level(shape)[1], torch.zeros(6), atol=1e-6)
    norm = Normalization.fit_log(shape)
    config = VAEConfig(n_bins=20, hidden=8, layers=1, latent=2, conditioning="both")
    x, c = frame_inputs(config, norm, log_mag, torch.full((6,), 67.0))
    assert torch.allclose(log_magnitudes(norm, x, c), log_mag, atol=1e-5)  # exact at the level asked for
    assert torch.allclose(c, conditions(torch.full((6,), 67.0), level))
    _, c_default = frame_inputs(config, norm, log_mag)
    assert torch.allclose(c_default[:, 0], conditions(torch.tensor([DEFAULT_PITCH]), level[:1])[:, 0])
    # a note of unknown pitch (-1: a drum in a user's folder) trains and is placed where an unpitched sound is
    _, c_unknown = frame_inputs(config, norm, log_mag, torch.full((6,), -1.0))
    assert torch.equal(c_unknown, c_default)
    # an unconditioned model sees the frames as they are, and no conditions
    plain = VAEConfig(n_bins=20, hidden=8, layers=1, latent=2)
    x_plain, none = frame_inputs(plain, Normalization.fit_log(log_mag), log_mag, 67.0)
    assert none is None and torch.allclose(log_magnitudes(Normalization.fit_log(log_mag), x_plain, None), log_mag,
                                           atol=1e-5)


def test_log_variances_are_clamped():
    vae = TimbreVAE(TOY)
    with torch.no_grad():
        vae.enc_logvar.bias.fill_(1e4)
        vae.dec_logvar.bias.fill_(-1e4)
    out = vae(torch.randn(3, 20))
    assert out.logvar.max() <= 10 and out.x_logvar.min() >= -10
    assert torch.isfinite(gaussian_nll(torch.randn(3, 20), out.x_mu, out.x_logvar)).all()
    assert torch.isfinite(kl_standard_normal(out.mu, out.logvar)).all()


def test_gaussian_nll_is_the_normal_log_density():
    torch.manual_seed(1)
    x, mu, logvar = torch.randn(5, 20), torch.randn(5, 20), torch.randn(5, 20)
    ref = -torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(x).sum(-1)
    torch.testing.assert_close(gaussian_nll(x, mu, logvar), ref)


def test_a_shared_variance_is_one_per_frame_and_weighs_every_bin_alike():
    logvar = torch.tensor([[-2.0, 0.0, 2.0], [1.0, 1.0, 4.0]])
    assert torch.equal(shared_logvar(logvar), torch.tensor([[0.0] * 3, [2.0] * 3]))
    x, mu = torch.zeros(1, 3), torch.tensor([[1.0, 0.0, 1.0]])  # the same error in the first and the last bin
    per_bin = 0.5 * (x - mu).square() * torch.exp(-shared_logvar(logvar[:1]))
    assert per_bin[0, 0] == per_bin[0, 2]


def test_bands_are_half_octaves_of_the_bins_centres():
    bands = band_matrix(np.array([100.0, 120.0, 142.0, 150.0, 200.0, 410.0]))
    assert bands.tolist() == [[1, 1, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1]]
    with pytest.raises(ParameterError):
        band_matrix(np.array([0.0, 100.0]))


def test_the_band_energy_error_counts_what_each_band_holds_in_energy():
    norm = Normalization(floor=1e-6, mean=0.0, scale=1.0)
    bands = band_matrix(np.array([100.0, 110.0, 1000.0, 1100.0]))
    x = torch.log(torch.tensor([[1.0, 1.0, 0.1, 0.1]]))
    assert band_energy_error(x, x, norm, bands).item() == pytest.approx(0.0, abs=1e-9)
    # the high band 10 dB louder: (ln 10)^2; a louder partial beside a silent bin counts as its energy
    louder = x + torch.tensor([[0.0, 0.0, 0.5 * math.log(10.0), 0.5 * math.log(10.0)]])
    assert band_energy_error(louder, x, norm, bands).item() == pytest.approx(math.log(10.0) ** 2, rel=1e-5)
    moved = torch.log(torch.tensor([[math.sqrt(2.0), 1e-6, 0.1, 0.1]]))  # both bins' energy in one: same band
    assert band_energy_error(moved, x, norm, bands).item() == pytest.approx(0.0, abs=1e-6)


def test_kl_standard_normal():
    assert torch.equal(kl_standard_normal(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3))
    mu, logvar = torch.randn(3, 4), torch.randn(3, 4)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(3, 4), torch.ones(3, 4))
    torch.testing.assert_close(kl_standard_normal(mu, logvar), torch.distributions.kl_divergence(q, p).sum(-1))


def test_beta_warm_up():
    assert [beta_at(e, beta=2.0, warmup_epochs=100) for e in (0, 25, 100, 1000)] == [0.0, 0.5, 2.0, 2.0]
    assert beta_at(3, beta=1.5, warmup_epochs=0) == 1.5
    with pytest.raises(ParameterError):
        beta_at(-1, beta=2.0, warmup_epochs=100)


def test_config_validation():
    assert VAEConfig.from_dict(TOY.to_dict()) == TOY
    assert VAEConfig.from_dict({"latent": 8}) == VAEConfig(latent=8)
    for bad, phrase in [({"latent": 0}, "between 1 and 512"), ({"hidden": 16.0}, "whole number"),
                        ({"layers": True}, "whole number"), ({"n_bins": 5000}, "between 1 and 4096"),
                        ({"dropout": 0.1}, "unknown model settings")]:
        with pytest.raises(ParameterError, match=phrase):
            VAEConfig.from_dict(bad)


def test_normalization_round_trips_frames_above_its_floor(rng):
    mag = rng.gamma(0.5, size=(50, 20)) * np.exp(rng.normal(0, 3, size=(50, 1)))
    mag[0, :3] = 0.0  # silent bins: bounded by the floor
    norm = Normalization.fit(mag)
    x = norm.forward(mag)
    assert abs(x.mean()) < 1e-9 and x.std() == pytest.approx(1.0)
    kept = mag >= norm.floor
    np.testing.assert_allclose(norm.inverse(x)[kept], mag[kept], rtol=1e-9)
    assert np.all(norm.inverse(x)[~kept] == pytest.approx(norm.floor))
    t = torch.as_tensor(mag, dtype=torch.float32)
    torch.testing.assert_close(norm.inverse(norm.forward(t))[torch.as_tensor(kept)], t[torch.as_tensor(kept)],
                               rtol=1e-4, atol=0)
    from_tensor = Normalization.fit(t)
    assert from_tensor.mean == pytest.approx(norm.mean, abs=1e-5) and from_tensor.scale == pytest.approx(norm.scale)
    assert Normalization.from_dict(norm.to_dict()) == norm


def test_a_normalization_out_of_range_or_of_the_wrong_type_is_refused():
    for bad in [{"floor": 1e-6, "mean": 0.0, "scale": 0.0}, {"floor": 0.0, "mean": 0.0, "scale": 1.0},
                {"floor": 1e-6, "mean": math.nan, "scale": 1.0}, {"floor": 1e-6, "mean": 0.0},
                {"floor": 1e-6, "mean": "0", "scale": 1.0}]:
        with pytest.raises(ParameterError):
            Normalization.from_dict(bad)
    with pytest.raises(ParameterError, match="the same"):
        Normalization.fit(np.ones(10))


def _batch(n_instruments=6, per=4, latent=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n_instruments).repeat_interleave(per)
    z = torch.randn(len(labels), latent, generator=g)
    positions = torch.randn(n_instruments, 2, generator=g)
    return z, labels, positions


def test_perceptual_kl_ignores_samples_without_perceptual_data():
    z, labels, positions = _batch()
    value = perceptual_kl(z, labels, positions)
    assert torch.isfinite(value)
    extra = torch.randn(5, z.shape[1]) * 10
    z2 = torch.cat([extra[:2], z, extra[2:]]).requires_grad_()
    labels2 = torch.cat([torch.full((2,), -1), labels, torch.full((3,), -1)])
    value2 = perceptual_kl(z2, labels2, positions)
    torch.testing.assert_close(value2, value)
    value2.backward()
    assert torch.all(z2.grad[:2] == 0) and torch.all(z2.grad[-3:] == 0) and z2.grad[2:-3].abs().sum() > 0


def test_perceptual_kl_needs_two_instruments():
    z = torch.randn(6, 3, requires_grad=True)
    positions = torch.randn(5, 2)
    for labels in ([0, 0, 0, -1, -1, -1], [-1] * 6, [4] * 6, [1, -1, -1, -1, -1, -1]):
        value = perceptual_kl(z, torch.tensor(labels), positions)
        assert value.item() == 0.0 and value.requires_grad
        value.backward()
    assert perceptual_kl(z, torch.tensor([0, 1, -1, -1, -1, -1]), positions).item() != 0.0
    with pytest.raises(ParameterError):
        perceptual_kl(z, torch.tensor([0, 1, 2, 5, -1, -1]), positions)


def _descend(loss_fn, labels: torch.Tensor, latent: int, *, seed: int, steps: int = 200) -> tuple[list[float], np.ndarray]:
    """Adam steps (lr 0.05) on free codes, one per label."""
    torch.manual_seed(seed)
    z = torch.nn.Parameter(torch.randn(len(labels), latent))
    opt = torch.optim.Adam([z], lr=0.05)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(z, labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, z.detach().numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptual_kl_descent_ranks_latent_distances_like_the_timbre_space(seed):
    rng = np.random.default_rng(seed)
    positions = torch.as_tensor(rng.normal(size=(6, 2)), dtype=torch.float32)
    losses, z = _descend(lambda z, lab: perceptual_kl(z, lab, positions), torch.arange(6), 4, seed=seed)
    # the minimum is -mean_i log(row sum i of DT), not 0: the two sides are normalized differently
    q = 1 / (1 + _pairwise_full(positions.numpy()) ** 2)
    np.fill_diagonal(q, 0)
    floor = -np.log((q / q.sum()).sum(1)).mean()
    assert min(losses) >= floor - 1e-4
    assert losses[-1] - floor < 0.2 * (losses[0] - floor)
    rho = spearmanr(_pairwise(z), _pairwise(positions.numpy())).statistic
    assert rho > 0.9, rho


def test_perceptual_kl_gathers_each_instruments_samples():
    """Samples of one instrument stand at one timbre point, so R pulls them together, the groups apart."""
    rng = np.random.default_rng(5)
    positions = torch.as_tensor(rng.normal(size=(5, 2)), dtype=torch.float32)
    labels = torch.arange(5).repeat(4)
    kl = lambda z, lab: perceptual_kl(z, lab, positions)  # noqa: E731
    losses, z = _descend(kl, labels, 4, seed=5, steps=400)
    d = _pairwise_full(z)
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(labels), dtype=bool)
    assert d[same.numpy() & off].max() < d[~same.numpy()].min()
    c = np.stack([z[labels.numpy() == i].mean(0) for i in range(5)])
    assert spearmanr(_pairwise(c), _pairwise(positions.numpy())).statistic > 0.9


def test_perceptual_l2_descent_reaches_the_target_distances():
    rng = np.random.default_rng(3)
    positions = rng.normal(size=(6, 2))
    full = _pairwise_full(positions)
    target = torch.as_tensor(full * 7.0, dtype=torch.float32)  # any scale: max-normalized inside
    losses, c = _descend(lambda z, lab: perceptual_l2(z, lab, target), torch.arange(6), 3, seed=3)
    assert losses[-1] < 1e-3 < losses[0]
    np.testing.assert_allclose(_pairwise(c), _pairwise(positions) / full.max(), atol=0.05)
    # two samples of one instrument have target distance 0; -1 ignored; fewer than 2 samples give a zero
    z = torch.randn(4, 3, requires_grad=True)
    torch.testing.assert_close(perceptual_l2(z, torch.tensor([2, 2, -1, -1]), target), (z[0] - z[1]).square().sum())
    assert perceptual_l2(z, torch.tensor([2, -1, -1, -1]), target).item() == 0.0
    two = perceptual_l2(z[:2], torch.tensor([0, 1]), target)
    torch.testing.assert_close(perceptual_l2(z, torch.tensor([0, 1, -1, -1]), target), two)


def test_a_few_elbo_steps_reduce_the_loss():
    torch.manual_seed(4)
    vae = TimbreVAE(TOY)
    x = torch.randn(64, 20) * torch.linspace(0.2, 2.0, 20) + torch.linspace(-1, 1, 20)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)

    def elbo_loss():
        out = vae(x)
        return (gaussian_nll(x, out.x_mu, out.x_logvar) + 1.0 * kl_standard_normal(out.mu, out.logvar)).mean()

    with torch.no_grad():
        torch.manual_seed(5)
        before = elbo_loss().item()
    for _ in range(60):
        opt.zero_grad()
        loss = elbo_loss()
        assert torch.isfinite(loss)
        loss.backward()
        opt.step()
    with torch.no_grad():
        torch.manual_seed(5)
        after = elbo_loss().item()
    assert after < before - 1.0, (before, after)


def test_descent_on_the_band_energy_error_brings_each_bands_energy_to_the_frames():
    """The energy of a peaked frame lies in its peaks; a decoder fitted in log units alone leaves the gaps between
    them too loud. A few steps on the band term alone close most of the energy gap, band by band."""
    torch.manual_seed(6)
    vae = TimbreVAE(TOY)
    norm = Normalization(floor=1e-6, mean=-4.0, scale=2.0)
    bands = band_matrix(100.0 * 2.0 ** (torch.arange(20) / 4.0).numpy())  # 20 bins over 5 octaves: 10 bands
    x = torch.full((32, 20), -2.0)
    x[:, ::4] = 1.0  # one loud bin per octave
    opt = torch.optim.Adam(vae.parameters(), lr=3e-3)
    before = band_energy_error(x, vae(x).x_mu, norm, bands).mean().item()
    for _ in range(150):
        opt.zero_grad()
        band_energy_error(x, vae(x).x_mu, norm, bands).mean().backward()
        opt.step()
    with torch.no_grad():
        after = band_energy_error(x, vae(x).x_mu, norm, bands).mean().item()
    assert after < 0.05 * before, (before, after)
