"""A GAN for 2D points: MLP generator and MLP discriminator (Goodfellow et al. 2014, arXiv 1406.2661).

    z ~ p(z) = N(0, I) or U(−1, 1)^d         noise,               (B, noise_dim)
    G_θ(z) = W_out · h(z) + b_out             a fake point,        (B, 2)
    D_φ(x) = sigmoid(l_φ(x))                  probability "real",  l_φ(x): (B, 1) logit

The generator ends in a plain linear layer (no tanh) so it can place points anywhere on the
plane; the trainer rescales the data to unit spread, so the networks work at scale ~1.

Options (all off in the "vanilla" preset):

* ``pack`` (PacGAN, Lin et al. 2018, arXiv 1712.04086): D sees ``pack`` samples of the same
  kind concatenated, ``(B, 2·pack)``, and judges them jointly; a collapsed generator produces
  packs with no diversity, which D spots easily.
* ``spectral_norm`` (Miyato et al. 2018, arXiv 1802.05957): every linear layer of D is divided
  by its largest singular value, making D 1-Lipschitz-ish and its gradients smooth.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from genlab.errors import GenlabError, check_range

NOISE_DISTRIBUTIONS = ("gaussian", "uniform")


@dataclass
class GANConfig:
    """Architecture of the 2D GAN."""

    noise_dim: int = 2           # size of z; 1 or 2 lets the page draw G's whole noise space
    noise: str = "gaussian"      # p(z): "gaussian" N(0, I) or "uniform" U(-1, 1)
    hidden: int = 128            # width of every hidden layer of G
    layers: int = 3              # hidden layers of G
    disc_hidden: int = 128       # width of every hidden layer of D
    disc_layers: int = 3         # hidden layers of D
    pack: int = 1                # PacGAN packing degree (1 = ordinary D)
    spectral_norm: bool = False  # spectral normalization on D's layers
    output_std: float = 0.0      # calibrate G's last layer so G(z) starts with mean 0, cov output_std² I; 0 = plain init
    noise_skip: float = 0.0      # G(z) = noise_skip * (z1, z2) / std(z) + MLP(z): fakes start spread like the data; 0 = off

    def validate(self) -> "GANConfig":
        check_noise(self.noise)
        check_range("output_std", self.output_std, 0, 100)
        check_range("noise_skip", self.noise_skip, 0, 100)
        for name, high in (("noise_dim", 256), ("hidden", 4096), ("layers", 16), ("disc_hidden", 4096),
                           ("disc_layers", 16), ("pack", 16)):
            _check_int(name, getattr(self, name), 1, high)
        return self


def check_noise(name: str) -> str:
    if name not in NOISE_DISTRIBUTIONS:
        raise GenlabError(f"unknown noise distribution {name!r}; allowed: {', '.join(NOISE_DISTRIBUTIONS)}")
    return name


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not float(check_range(name, value, low, high)).is_integer():
        raise GenlabError(f"{name} must be a whole number from {low} to {high} (got {value!r})")
    return int(value)


def sample_noise(n: int, noise_dim: int, noise: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw ``n`` noise vectors ``(n, noise_dim)`` on the CPU from ``N(0, I)`` or ``U(-1, 1)``."""
    check_noise(noise)
    if noise == "gaussian":
        return torch.randn(n, noise_dim, generator=generator)
    return torch.rand(n, noise_dim, generator=generator) * 2 - 1


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

    With ``output_std = s > 0`` the last layer ``(W, b)`` is calibrated at construction (on 4096
    noise draws from torch's global RNG): with ``μ, Σ`` the mean and covariance of the raw
    outputs, ``W <- s Σ^{-1/2} W`` and ``b <- s Σ^{-1/2} (b − μ)``, so that the first fakes are
    spread like the standardized data (mean 0, covariance s² I) instead of sitting in a tiny
    blob near the origin. Every region of the data then starts with fakes nearby, which D pulls
    to their nearest mode: much less mode collapse from the very first steps.
    """

    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        self.net = _mlp(config.noise_dim, config.hidden, config.layers, 2, nn.ReLU)
        if config.output_std > 0:
            self._calibrate_output(config.output_std)

    @torch.no_grad()
    def _calibrate_output(self, std: float) -> None:
        z = sample_noise(4096, self.config.noise_dim, self.config.noise)       # (4096, noise_dim)
        out = self.net(z)                                                      # (4096, 2)
        eigenvalues, vectors = torch.linalg.eigh(torch.cov(out.T))
        whiten = vectors @ torch.diag(eigenvalues.clamp_min(1e-12).rsqrt()) @ vectors.T * std   # (2, 2)
        last = self.net[-1]
        last.bias.copy_(whiten @ (last.bias - out.mean(dim=0)))
        last.weight.copy_(whiten @ last.weight)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.net(z)                                                  # (B, 2)
        if self.config.noise_skip > 0:
            skip = z[:, :2] if z.shape[1] >= 2 else torch.cat([z, torch.zeros_like(z)], dim=1)
            noise_std = 1.0 if self.config.noise == "gaussian" else 3 ** -0.5
            out = out + self.config.noise_skip / noise_std * skip        # (B, 2)
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
