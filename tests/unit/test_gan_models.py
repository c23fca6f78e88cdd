"""Shapes and options of the GAN networks (genlab.models.gan, genlab.models.dcgan)."""

import pytest
import torch

from genlab.errors import GenlabError
from genlab.models.dcgan import DCDiscriminator, DCGANConfig, DCGenerator, patch_map_shape
from genlab.models.gan import Discriminator2D, GANConfig, Generator2D, noise_std, sample_noise

torch.set_num_threads(1)
B = 6


@pytest.mark.parametrize("noise_dim", [1, 2, 5])
def test_2d_generator_and_discriminator_shapes(noise_dim):
    config = GANConfig(noise_dim=noise_dim, hidden=16, layers=2, disc_hidden=16, disc_layers=2)
    g, d = Generator2D(config), Discriminator2D(config)
    x = g(torch.randn(B, noise_dim))
    assert x.shape == (B, 2)
    assert d(x).shape == (B, 1)


@pytest.mark.parametrize("noise", ["gaussian", "uniform", "clusters"])
def test_noise_skip_spreads_the_first_fakes_like_standardized_data(noise):
    torch.manual_seed(0)
    plain = Generator2D(GANConfig(noise=noise, hidden=32, noise_skip=0.0))
    torch.manual_seed(0)
    skip = Generator2D(GANConfig(noise=noise, hidden=32, noise_skip=1.0))
    z = sample_noise(4000, 2, noise, torch.Generator().manual_seed(1))
    with torch.no_grad():
        x_plain, x_skip = plain(z), skip(z)
    assert x_plain.std(0).max() < 0.3                              # default init: a small blob
    assert torch.allclose(x_skip.std(0), torch.ones(2), atol=0.15)
    scale = 1 / noise_std(noise)
    assert torch.allclose(x_skip - x_plain, z * scale, atol=1e-5)  # G(z) = s z / std(z) + MLP(z)


def test_clustered_noise_comes_in_256_separate_pieces():
    z = sample_noise(40_000, 3, "clusters", torch.Generator().manual_seed(0))   # (N, 3)
    index = (z[:, :2] / 0.25 + 7.5).round().clamp(0, 15)                        # (N, 2) grid cell 0..15
    offset = z[:, :2] - (index - 7.5) * 0.25                                     # (N, 2) from its centre
    assert offset.abs().max() < 0.06                  # every point is near one of the 256 centres...
    assert 0.008 < offset.std() < 0.012               # ...with std 0.01: gaps of ~25 std between pieces
    assert len({(int(a), int(b)) for a, b in index.tolist()}) == 256            # all pieces are used
    assert abs(z[:, 2].std().item() - 1) < 0.05       # further coordinates stay N(0, 1)
    assert abs(z[:, :2].std().item() - noise_std("clusters")) < 0.02


def test_default_and_vanilla_noise():
    from genlab.train.gan import gan_configs

    assert (GANConfig().noise, GANConfig().noise_skip) == ("clusters", 1.0)
    model, _ = gan_configs("gan", "vanilla")
    assert (model.noise, model.noise_skip) == ("gaussian", 0.0)


def test_packed_discriminator_judges_groups_of_points():
    config = GANConfig(hidden=16, disc_hidden=16, pack=3)
    d = Discriminator2D(config)
    assert d(torch.randn(9, 2)).shape == (3, 1)
    with pytest.raises(GenlabError, match="multiple of 3"):
        d(torch.randn(8, 2))


def test_spectral_norm_option_wraps_the_discriminator():
    d = Discriminator2D(GANConfig(hidden=16, disc_hidden=16, spectral_norm=True))
    assert any("parametrizations" in name for name, _ in d.named_parameters())
    assert d(torch.randn(B, 2)).shape == (B, 1)


@pytest.mark.parametrize("noise", ["gaussian", "uniform"])
def test_noise_distributions(noise):
    z = sample_noise(2000, 3, noise, torch.Generator().manual_seed(0))
    assert z.shape == (2000, 3)
    if noise == "uniform":
        assert z.min() >= -1 and z.max() <= 1
    else:
        assert z.abs().max() > 1.5          # a Gaussian reaches beyond ±1


@pytest.mark.parametrize("size", [8, 28])
@pytest.mark.parametrize("conditional", [False, True])
def test_dcgan_generator_and_standard_discriminator_shapes(size, conditional):
    config = DCGANConfig(noise_dim=7, channels=8, image_size=size, conditional=conditional)
    g, d = DCGenerator(config), DCDiscriminator(config)
    labels = torch.randint(10, (B,)) if conditional else None
    images = g(torch.randn(B, 7), labels)
    assert images.shape == (B, 1, size, size)
    assert images.min() >= -1 and images.max() <= 1          # tanh output
    assert d(images, labels).shape == (B, 1)


@pytest.mark.parametrize("size,map_shape", [(8, (1, 4, 4)), (28, (1, 7, 7))])
@pytest.mark.parametrize("conditional", [False, True])
def test_patchgan_discriminator_outputs_a_map_of_patch_logits(size, map_shape, conditional):
    config = DCGANConfig(channels=8, image_size=size, disc="patch", conditional=conditional)
    d = DCDiscriminator(config)
    labels = torch.randint(10, (B,)) if conditional else None
    out = d(torch.rand(B, 1, size, size) * 2 - 1, labels)
    assert out.shape == (B, *map_shape)
    assert patch_map_shape(size) == map_shape


def test_patch_logits_only_see_their_patch():
    # 8x8: each logit of the 4x4 map sees a window of rows/columns 2i-3 .. 2i+4 (5 to 7 pixels inside
    # the image); changing the top-left pixel leaves the logits of the bottom-right windows unchanged
    d = DCDiscriminator(DCGANConfig(channels=8, image_size=8, disc="patch"))
    x = torch.zeros(1, 1, 8, 8)
    y = x.clone()
    y[0, 0, 0, 0] = 1.0
    with torch.no_grad():
        diff = (d(x) - d(y)).abs()[0, 0]
    assert diff[0, 0] > 0
    assert torch.all(diff[2:, 2:] == 0)


def test_patch_logits_on_digits_see_more_than_a_4x4_patch():
    # issue 23: with 4x4 patches (a quarter of an 8x8 digit) a collage of real-looking strokes fooled
    # every patch and the generator collapsed (bench/RESULTS.md); each logit now sees a 5-7 px window:
    # the top-left pixel reaches the logits of the second row and column too
    torch.manual_seed(0)
    d = DCDiscriminator(DCGANConfig(channels=8, image_size=8, disc="patch"))
    x = torch.zeros(1, 1, 8, 8)
    y = x.clone()
    y[0, 0, 0, 0] = 1.0
    with torch.no_grad():
        diff = (d(x) - d(y)).abs()[0, 0]
    assert diff[1, 1] > 0 and diff[0, 1] > 0 and diff[1, 0] > 0


def test_conditional_label_changes_the_output():
    torch.manual_seed(0)
    config = DCGANConfig(channels=8, image_size=8, conditional=True)
    g, d = DCGenerator(config).eval(), DCDiscriminator(config)
    z = torch.randn(1, config.noise_dim).repeat(2, 1)
    images = g(z, torch.tensor([3, 7]))
    assert not torch.allclose(images[0], images[1])
    x = torch.zeros(2, 1, 8, 8)
    logits = d(x, torch.tensor([3, 7]))
    assert logits[0].item() != logits[1].item()


def test_conditional_networks_need_labels():
    config = DCGANConfig(channels=8, conditional=True)
    with pytest.raises(GenlabError, match="labels"):
        DCGenerator(config)(torch.randn(2, config.noise_dim))
    with pytest.raises(GenlabError, match="labels"):
        DCDiscriminator(config)(torch.zeros(2, 1, 8, 8))


@pytest.mark.parametrize("cls,values,match", [
    (GANConfig, {"noise": "cauchy"}, "unknown noise 'cauchy'; allowed: gaussian, uniform"),
    (GANConfig, {"hidden": 0}, "hidden must be a whole number from 1 to 4096 \\(got 0\\)"),
    (GANConfig, {"pack": 0}, "pack must be a whole number from 1 to 16"),
    (GANConfig, {"noise_skip": -1.0}, "noise_skip must be >= 0 and <= 100"),
    (DCGANConfig, {"disc": "global"}, "standard, patch"),
    (DCGANConfig, {"image_size": 32}, "image_size must be one of 8, 28 \\(got 32\\)"),
    (DCGANConfig, {"noise_dim": 0}, "noise_dim must be a whole number from 1 to 1024"),
])
def test_bad_model_configs_raise_genlab_error(cls, values, match):
    """Construction refuses a bad value; so does validate() after a field was set."""
    with pytest.raises(GenlabError, match=match):
        cls(**values)
    config = cls()
    for name, value in values.items():
        setattr(config, name, value)
    with pytest.raises(GenlabError, match=match):
        config.validate()
