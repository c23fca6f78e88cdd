"""Unit tests for genlab.models.autoencoder (shapes, the ELBO pieces against their formulas)."""

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from genlab.errors import GenlabError
from genlab.models.autoencoder import Autoencoder, AutoencoderConfig, gaussian_kl_per_dim

torch.set_num_threads(1)


def make(kind="vae", **kw):
    torch.manual_seed(0)
    return Autoencoder(AutoencoderConfig(kind=kind, **kw))


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28)])
@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_shapes(kind, architecture, shape):
    K, B, S = 3, 5, 4
    model = make(kind, architecture=architecture, image_shape=shape, latent_dim=K, hidden_dims=(32,), conv_channels=(4, 8))
    x = torch.rand(B, *shape)
    mu, logvar = model.encode(x)
    assert mu.shape == (B, K)
    assert (logvar is None) == (kind == "ae")
    if kind == "vae":
        assert logvar.shape == (B, K)
        assert model.reparameterize(mu, logvar, S).shape == (S, B, K)
    assert model.decode(mu).shape == (B, *shape)
    assert model.decode(torch.zeros(S, B, K)).shape == (S, B, *shape)
    out = model(x, mc_samples=S)
    assert out.loss.shape == out.recon_loss.shape == out.kl_loss.shape == out.elbo.shape == ()
    assert out.kl_per_dim.shape == (K,)
    assert out.reconstruction.shape == (B, *shape)
    assert out.reconstruction.min() >= 0 and out.reconstruction.max() <= 1
    assert out.z.shape == ((S if kind == "vae" else 1), B, K)
    out.loss.backward()
    assert model.sample(6).shape == (6, *shape)


def test_kl_formula_matches_torch_distributions():
    torch.manual_seed(1)
    mu, logvar = torch.randn(7, 4), torch.randn(7, 4)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(torch.zeros(7, 4), torch.ones(7, 4)))
    torch.testing.assert_close(gaussian_kl_per_dim(mu, logvar), expected)


def test_vae_loss_pieces():
    model = make("vae", latent_dim=4, beta=2.0)
    x = torch.rand(6, 1, 8, 8)
    out = model(x, generator=torch.Generator().manual_seed(0))
    mu, logvar = model.encode(x)
    kl = gaussian_kl_per_dim(mu, logvar)
    torch.testing.assert_close(out.kl_per_dim, kl.mean(0))
    torch.testing.assert_close(out.kl_loss, kl.sum(1).mean())
    torch.testing.assert_close(out.loss, out.recon_loss + 2.0 * out.kl_loss)
    torch.testing.assert_close(out.elbo, -(out.recon_loss + out.kl_loss))
    # beta passed to forward wins over the config
    out0 = model(x, beta=0.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(out0.loss, out0.recon_loss)


def test_ae_has_zero_kl_and_recon_only_loss():
    model = make("ae", latent_dim=2)
    x = torch.rand(5, 1, 8, 8)
    out = model(x, mc_samples=3)
    assert out.kl_loss.item() == 0 and torch.all(out.kl_per_dim == 0)
    torch.testing.assert_close(out.loss, out.recon_loss)
    # deterministic: the code is the encoder output, decoded once
    torch.testing.assert_close(out.z[0], model.encode(x)[0])
    torch.testing.assert_close(out.loss, model(x).loss)


def test_bernoulli_decoder_nll_formula():
    model = make("ae", latent_dim=2, decoder="bernoulli")
    x = torch.rand(4, 1, 8, 8)
    logits = torch.randn(4, 1, 8, 8)
    p = torch.sigmoid(logits)
    expected = -(x * p.log() + (1 - x) * (1 - p).log()).sum((1, 2, 3))
    torch.testing.assert_close(model.reconstruction_nll(x, logits), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_default_likelihood_is_gaussian_with_fixed_sigma_015(kind):
    """The default p(x|z) = N(x; sigmoid(logits), 0.15^2 I), sigma fixed (a buffer, not trained)."""
    model = make(kind)
    assert model.config.decoder == "gaussian" and model.config.gaussian_sigma == 0.15
    assert "log_sigma" not in dict(model.named_parameters())
    x = torch.rand(4, 1, 8, 8)
    logits = torch.randn(4, 1, 8, 8)
    expected = -Normal(torch.sigmoid(logits), 0.15).log_prob(x).sum((1, 2, 3))
    torch.testing.assert_close(model.reconstruction_nll(x, logits), expected, rtol=1e-5, atol=1e-4)
    # a perfect reconstruction has a negative NLL (a density above 1): 64 * (log 0.15 + 1/2 log 2 pi)
    perfect = model.reconstruction_nll(x, torch.logit(x.clamp(1e-4, 1 - 1e-4)))
    torch.testing.assert_close(perfect, torch.full((4,), 64 * (math.log(0.15) + 0.5 * math.log(2 * math.pi))),
                               rtol=1e-3, atol=1e-2)


@pytest.mark.parametrize("learn_sigma", [False, True])
def test_gaussian_decoder_nll_formula(learn_sigma):
    model = make("vae", decoder="gaussian", gaussian_sigma=0.3, learn_sigma=learn_sigma)
    x = torch.rand(4, 1, 8, 8)
    logits = torch.randn(4, 1, 8, 8)
    expected = -Normal(torch.sigmoid(logits), 0.3).log_prob(x).sum((1, 2, 3))
    torch.testing.assert_close(model.reconstruction_nll(x, logits), expected.float(), rtol=1e-5, atol=1e-4)
    manual = (((x - torch.sigmoid(logits)) ** 2) / (2 * 0.09) + math.log(0.3) + 0.5 * math.log(2 * math.pi)).sum((1, 2, 3))
    torch.testing.assert_close(model.reconstruction_nll(x, logits), manual, rtol=1e-5, atol=1e-4)
    names = [name for name, _ in model.named_parameters()]
    assert ("log_sigma" in names) == learn_sigma
    if learn_sigma:
        model(x).loss.backward()
        assert model.log_sigma.grad is not None


def test_mc_samples_average_over_s():
    """recon_loss with S samples = mean over s of -log p(x|z_s) for the same eps."""
    model = make("vae", latent_dim=3)
    x = torch.rand(5, 1, 8, 8)
    S = 4
    out = model(x, mc_samples=S, generator=torch.Generator().manual_seed(3))
    mu, logvar = model.encode(x)
    eps = torch.randn((S, 5, 3), generator=torch.Generator().manual_seed(3))
    z = mu + (0.5 * logvar).exp() * eps
    torch.testing.assert_close(out.z, z)
    per_sample = torch.stack([model.reconstruction_nll(x, model.decode(z[s])).mean() for s in range(S)])
    torch.testing.assert_close(out.recon_loss, per_sample.mean())
    torch.testing.assert_close(out.reconstruction, torch.sigmoid(model.decode(z)).mean(0))


def test_reparameterize_moments_and_gradients():
    model = make("vae")
    mu = torch.tensor([[1.0, -2.0]], requires_grad=True)
    logvar = torch.tensor([[0.0, math.log(4.0)]], requires_grad=True)
    z = model.reparameterize(mu, logvar, 20000, torch.Generator().manual_seed(0))  # (S, 1, 2)
    torch.testing.assert_close(z.mean((0, 1)), torch.tensor([1.0, -2.0]), atol=0.05, rtol=0)
    torch.testing.assert_close(z.std((0, 1)), torch.tensor([1.0, 2.0]), atol=0.05, rtol=0)
    z.sum().backward()
    assert mu.grad is not None and logvar.grad is not None


def test_same_generator_same_loss():
    model = make("vae", latent_dim=4)
    x = torch.rand(3, 1, 8, 8)
    a = model(x, mc_samples=2, generator=torch.Generator().manual_seed(5)).loss
    b = model(x, mc_samples=2, generator=torch.Generator().manual_seed(5)).loss
    assert a.item() == b.item()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"latent_dim": 65}, "latent_dim"),
        ({"latent_dim": 2.5}, "latent_dim"),
        ({"kind": "gan"}, "allowed: ae, vae"),
        ({"architecture": "resnet"}, "allowed: mlp, conv"),
        ({"decoder": "poisson"}, "allowed: bernoulli, gaussian"),
        ({"image_shape": (8, 8)}, "image_shape"),
        ({"architecture": "conv", "image_shape": (1, 10, 10)}, "divisible by 4"),
        ({"hidden_dims": ()}, "hidden_dims"),
        ({"hidden_dims": (0,)}, r"each of hidden_dims must be a whole number from 1 to 4096 \(got 0\)"),
        ({"gaussian_sigma": 0}, "gaussian_sigma"),
        ({"beta": -1}, "beta"),
    ],
)
def test_bad_config_raises_genlab_error(kwargs, message):
    with pytest.raises(GenlabError, match=message):
        AutoencoderConfig(**kwargs)


def test_config_accepts_json_lists():
    cfg = AutoencoderConfig(image_shape=[1, 28, 28], hidden_dims=[64], conv_channels=[8, 16])
    assert cfg.image_shape == (1, 28, 28) and cfg.hidden_dims == (64,) and cfg.conv_channels == (8, 16)
