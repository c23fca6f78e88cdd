"""A GAN for 2D points: MLP generator and MLP discriminator (Goodfellow et al. 2014, arXiv 1406.2661).

    z ~ p(z) = N(0, I), U(−1, 1)^d or clusters  noise (see sample_noise), (B, noise_dim)
    G_θ(z) = W_out · h(z) + b_out             a fake point,        (B, 2)
    D_φ(x) = sigmoid(l_φ(x))                  probability "real",  l_φ(x): (B, 1) logit

The generator ends in a plain linear layer (no tanh) so it can place points anywhere on the
plane; the trainer rescales the data to unit spread, so the networks work at scale ~1.

The defaults (the CLI's, and the page's "stabilised" preset) differ from a plain GAN
(the "vanilla" preset: gaussian noise, no skip) in two ways, both about mode collapse and the
thin "bridges" of samples between separate modes:

* ``noise = "clusters"``: z's first two coordinates come from 256 small, well separated Gaussians.
  A continuous G maps connected noise to a connected set, so from one Gaussian it can reach 8 or 25
  separate modes only through bridges of bad samples (Khayatkhoei et al. 2018, arXiv 1806.00880);
  noise in separate pieces lets G send each piece to a mode with nothing in between.
* ``noise_skip = 1``: ``G(z) = (z_1, z_2) / std + MLP(z)``, so the first fakes are spread over the
  plane like the (standardized) data instead of sitting in a blob at the origin; every mode has
  fakes near it from the first step, which D pulls onto it.

Further options (all off by default and in the "vanilla" preset):

* ``pack`` (PacGAN, Lin et al. 2018, arXiv 1712.04086): D sees ``pack`` samples of the same
  kind concatenated, ``(B, 2·pack)``, and judges them jointly; a collapsed generator produces
  packs with no diversity, which D spots easily.
* ``spectral_norm`` (Miyato et al. 2018, arXiv 1802.05957): every linear layer of D is divided
  by its largest singular value, making D 1-Lipschitz-ish and its gradients smooth.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from genlab.errors import GenlabError
from genlab.validation import check_choice

from genlab.configs import NOISE_DISTRIBUTIONS, GANConfig  # noqa: F401 - the settings live in genlab.configs (torch-free)

# "clusters": the first two noise coordinates come from 256 small Gaussians (std CLUSTER_STD) on a
# 16 x 16 grid with spacing CLUSTER_SPACING, so the noise itself is in separate pieces (see sample_noise).
# Many pieces per mode (10 for grid25, 32 for ring8) keep the share of each mode close to right, so D
# has little reason to push pieces from mode to mode (fewer pieces left more samples between modes:
# docs/TUNING.md).
CLUSTER_GRID, CLUSTER_SPACING, CLUSTER_STD = 16, 0.25, 0.01


def check_noise(name: str) -> str:
    return check_choice("noise distribution", name, NOISE_DISTRIBUTIONS)


def sample_noise(n: int, noise_dim: int, noise: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw ``n`` noise vectors ``(n, noise_dim)`` on the CPU.

    * ``gaussian``: ``z ~ N(0, I)``;  ``uniform``: ``z ~ U(-1, 1)^d``.
    * ``clusters``: ``(z_1, z_2) = c + 0.01 ε`` with ``c`` drawn uniformly from the 256 points of a
      16 x 16 grid with spacing 0.25 (−1.875 … 1.875) and ``ε ~ N(0, I)``; the other coordinates
      are ``N(0, I)``. A continuous G maps connected noise to a connected set, so from one Gaussian blob
      it can only reach separate modes through thin "bridges" of samples between them (Khayatkhoei
      et al. 2018, arXiv 1806.00880); noise that already comes in 256 separate pieces lets G send
      each piece to a mode with nothing in between.
    """
    check_noise(noise)
    if noise == "gaussian":
        return torch.randn(n, noise_dim, generator=generator)
    if noise == "uniform":
        return torch.rand(n, noise_dim, generator=generator) * 2 - 1
    z = torch.randn(n, noise_dim, generator=generator)                                    # (n, noise_dim)
    k = min(noise_dim, 2)
    cell = torch.randint(CLUSTER_GRID, (n, k), generator=generator).float()               # (n, k) grid index
    z[:, :k] = (cell - (CLUSTER_GRID - 1) / 2) * CLUSTER_SPACING + CLUSTER_STD * z[:, :k]
    return z


def noise_std(noise: str) -> float:
    """Standard deviation of one of the first two noise coordinates under ``noise``."""
    check_noise(noise)
    if noise == "gaussian":
        return 1.0
    if noise == "uniform":
        return 3 ** -0.5
    offsets = (torch.arange(CLUSTER_GRID) - (CLUSTER_GRID - 1) / 2) * CLUSTER_SPACING
    return float((offsets.pow(2).mean() + CLUSTER_STD ** 2).sqrt())


def _mlp(d_in: int, width: int, depth: int, d_out: int, activation, spectral_norm: bool = False) -> nn.Sequential:
    wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda layer: layer)
    layers, d = [], d_in
    for _ in range(depth):
        layers += [wrap(nn.Linear(d, width)), activation()]
        d = width
    layers.append(wrap(nn.Linear(d, d_out)))
    return nn.Sequential(*layers)


class Generator2D(nn.Module):
    """``G(z)``: noise ``(B, noise_dim)`` -> points ``(B, 2)``; ReLU MLP with a linear output layer.

    With ``noise_skip = s > 0`` the first two noise coordinates are added to the output::

        G(z) = s · (z_1, z_2) / std(z) + MLP(z)

    so the very first fakes are already spread like the standardized data (mean 0, std s)
    instead of sitting in a tiny blob at the origin, and every mode starts with fakes nearby
    that D pulls onto it. The MLP only learns the displacement to the nearest mode, with the
    small default-initialized weights that keep its updates precise. (Scaling the MLP's last
    layer up instead would also spread the first fakes, but it multiplies every later update
    too: G jumps between modes and collapses.)
    """

    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        self.net = _mlp(config.noise_dim, config.hidden, config.layers, 2, nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.net(z)                                                  # (B, 2)
        if self.config.noise_skip > 0:
            skip = z[:, :2] if z.shape[1] >= 2 else torch.cat([z, torch.zeros_like(z)], dim=1)
            out = out + self.config.noise_skip / noise_std(self.config.noise) * skip   # (B, 2)
        return out


class Discriminator2D(nn.Module):
    """``l(x)``: points ``(B, 2)`` -> logits ``(B // pack, 1)``; LeakyReLU(0.2) MLP.

    With ``pack = m`` the batch is cut into groups of m consecutive points, each group is
    flattened to one ``(2m,)`` input and gets one logit (so B must be a multiple of m).
    """

    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        self.pack = config.pack
        self.net = _mlp(2 * config.pack, config.disc_hidden, config.disc_layers, 1,
                        lambda: nn.LeakyReLU(0.2), config.spectral_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] % self.pack:
            raise GenlabError(f"with pack={self.pack} the number of points must be a multiple of {self.pack} (got {x.shape[0]})")
        return self.net(x.reshape(-1, 2 * self.pack))  # (B // pack, 1)
