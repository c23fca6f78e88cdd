"""DCGAN for small grey images (Radford et al. 2016, arXiv 1511.06434), its class-conditional
variant (Mirza & Osindero 2014, arXiv 1411.1784: a label embedding appended to the inputs of G
and D, as on the slides) and a PatchGAN discriminator (Isola et al. 2017, arXiv 1611.07004).

Generator ("project and reshape", then fractionally-strided convolutions), s = image_size / 4::

    [z, e(y)]                                       (B, noise_dim [+ embed_dim])
    Linear -> reshape, BN, ReLU                     (B, 2c, s, s)      8x8: s=2   28x28: s=7
    ConvTranspose 4x4 stride 2, BN, ReLU            (B, c, 2s, 2s)
    ConvTranspose 4x4 stride 2, tanh                (B, 1, 4s, 4s)     pixels in [-1, 1]

Standard discriminator (strided convolutions, LeakyReLU 0.2, no BN, one logit per image)::

    [x, e(y) tiled over the image]                  (B, 1 [+ embed_dim], 4s, 4s)
    Conv 4x4 stride 2, LeakyReLU                    (B, c, 2s, 2s)
    Conv 4x4 stride 2, LeakyReLU                    (B, 2c, s, s)
    Linear                                          (B, 1)             logit l(x); D(x) = sigmoid(l)

PatchGAN discriminator (``disc="patch"``): fully convolutional, it outputs a *map* of logits,
one per overlapping image patch, each saying whether that patch looks real::

    8x8 images:   Conv 4x4 s2 -> (B, c, 4, 4), Conv 3x3 -> (B, 2c, 4, 4), Conv 1x1 -> (B, 1, 4, 4)
                  each logit sees a 5x5 to 7x7 window (an 8x8 receptive field cut by the border)
    28x28 images: Conv 4x4 s2 -> (B, c, 14, 14), Conv 4x4 s2 -> (B, 2c, 7, 7), Conv 3x3 -> (B, 1, 7, 7)
                  each logit sees an 18x18 patch

The losses average over the map (genlab.losses), so every patch is a real/fake vote.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from genlab.errors import GenlabError
from genlab.configs import DISCRIMINATORS, IMAGE_SIZES, DCGANConfig  # noqa: F401 - the settings live in genlab.configs


class DCGenerator(nn.Module):
    """``G(z[, y])``: noise ``(B, noise_dim)`` (+ labels ``(B,)``) -> images ``(B, 1, H, W)`` in [-1, 1]."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        c, s = config.channels, config.image_size // 4
        self.start = (2 * c, s, s)
        self.embed = nn.Embedding(config.num_classes, config.embed_dim) if config.conditional else None
        d_in = config.noise_dim + (config.embed_dim if config.conditional else 0)
        self.project = nn.Sequential(nn.Linear(d_in, 2 * c * s * s, bias=False))
        self.net = nn.Sequential(
            nn.BatchNorm2d(2 * c), nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            if labels is None:
                raise GenlabError("a conditional generator needs labels (one class index per noise vector)")
            z = torch.cat([z, self.embed(labels)], dim=1)       # (B, noise_dim + embed_dim)
        h = self.project(z).view(-1, *self.start)              # (B, 2c, s, s)
        return self.net(h)                                     # (B, 1, 4s, 4s)


class DCDiscriminator(nn.Module):
    """``l(x[, y])``: images ``(B, 1, H, W)`` in [-1, 1] (+ labels) -> logits ``(B, 1)``
    (standard) or a patch map ``(B, 1, h, w)`` (``disc="patch"``)."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        c, s = config.channels, config.image_size // 4
        wrap = nn.utils.parametrizations.spectral_norm if config.spectral_norm else (lambda layer: layer)
        self.embed = nn.Embedding(config.num_classes, config.embed_dim) if config.conditional else None
        c_in = 1 + (config.embed_dim if config.conditional else 0)
        act = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        if config.disc == "standard":
            self.net = nn.Sequential(
                wrap(nn.Conv2d(c_in, c, 4, 2, 1)), act(),            # (B, c, 2s, 2s)
                wrap(nn.Conv2d(c, 2 * c, 4, 2, 1)), act(),           # (B, 2c, s, s)
                nn.Flatten(), wrap(nn.Linear(2 * c * s * s, 1)),     # (B, 1)
            )
        elif config.image_size == 8:
            self.net = nn.Sequential(
                wrap(nn.Conv2d(c_in, c, 4, 2, 1)), act(),            # (B, c, 4, 4)
                # 3x3, not 1x1: a logit that saw only a 4x4 patch could not tell a collage of
                # real-looking strokes from a digit, and G collapsed (bench/RESULTS.md)
                wrap(nn.Conv2d(c, 2 * c, 3, 1, 1)), act(),           # (B, 2c, 4, 4)
                wrap(nn.Conv2d(2 * c, 1, 1)),                        # (B, 1, 4, 4) one logit per 5-7 px window
            )
        else:
            self.net = nn.Sequential(
                wrap(nn.Conv2d(c_in, c, 4, 2, 1)), act(),            # (B, c, 14, 14)
                wrap(nn.Conv2d(c, 2 * c, 4, 2, 1)), act(),           # (B, 2c, 7, 7)
                wrap(nn.Conv2d(2 * c, 1, 3, 1, 1)),                  # (B, 1, 7, 7) one logit per 18x18 patch
            )

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            if labels is None:
                raise GenlabError("a conditional discriminator needs labels (one class index per image)")
            b, _, h, w = x.shape
            e = self.embed(labels)[:, :, None, None].expand(b, -1, h, w)  # (B, embed_dim, H, W)
            x = torch.cat([x, e], dim=1)                                  # (B, 1 + embed_dim, H, W)
        return self.net(x)


def patch_map_shape(image_size: int) -> tuple[int, int, int]:
    """Shape ``(1, h, w)`` of the PatchGAN logit map for ``image_size`` (8 -> 4x4, 28 -> 7x7)."""
    return {8: (1, 4, 4), 28: (1, 7, 7)}[image_size]
