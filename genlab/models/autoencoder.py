"""Autoencoder (AE) and variational autoencoder (VAE) for small images.

One ``nn.Module`` for both, chosen by ``AutoencoderConfig.kind``:

* ``ae``: deterministic code ``z = f(x)``; loss = reconstruction NLL only. Nothing ties the codes
  to N(0, I), so decoding ``z ~ N(0, I)`` lands wherever the codes happen not to be (the lecture's
  "latent space is sparse").
* ``vae``: Gaussian encoder ``q(z|x) = N(mu(x), diag sigma^2(x))``, prior ``p(z) = N(0, I)``.
  Per example (Kingma & Welling 2013, "Auto-Encoding Variational Bayes", arXiv 1312.6114, eq. 10)::

      L_i = -E_q(z|x_i)[log p(x_i|z)] + KL(q(z|x_i) || p(z))
          ~= -1/S sum_s log p(x_i|z_s) + KL(q(z|x_i) || p(z)),  z_s = mu + sigma * eps_s, eps_s ~ N(0, I)

  The KL of a diagonal Gaussian to N(0, I) is analytic, per latent dimension k::

      KL_k = 1/2 (mu_k^2 + sigma_k^2 - 1 - log sigma_k^2)

  The loss is ``recon + beta * KL`` (beta-VAE, Higgins et al. 2017; beta = 1: the negative ELBO).

Decoder likelihoods ``p(x|z)`` (the decoder outputs logits; the mean image is ``sigmoid(logits)``):

* ``gaussian`` (the default): ``-log p(x|z) = sum_pixels (x - m)^2 / (2 sigma^2) + log sigma + 1/2 log 2 pi``,
  ``m = sigmoid(logits)``, with a fixed ``sigma`` (default 0.15) or one learned scalar sigma
  (``learn_sigma``, the sigma-VAE of Rybkin et al. 2021, arXiv 2006.13202),
* ``bernoulli``: ``-log p(x|z) = sum_pixels BCE(logits, x)`` (used for [0,1] grey values too, as in
  pytorch/examples vae/main.py).

Why Gaussian with sigma = 0.15 by default: sigma sets how much a pixel error costs against the KL.
Per pixel the gradient of the Gaussian term is (m - x) / sigma^2; the Bernoulli term's gradient in
the logit is (m - x), about what a Gaussian with sigma^2 = m (1 - m) <= 1/4, i.e. sigma ~ 0.5, would
give. On the 8x8 digits (grey values in [0, 1]) that noise level is far above the decoder's real
error (test RMSE ~ 0.12), so the KL wins: at K = 8 half the latent dimensions collapsed (KL ~ 0),
the rest carried ~ 4 nats in all, and reconstructions and prior samples were blurry. sigma = 0.15
is close to that RMSE (the maximum-likelihood sigma of a trained decoder), and on the digits its
prior samples are much closer to the data than the Bernoulli decoder's. A learned sigma is not the
default: on the 1437 training digits it shrinks to the *training* error, the codes spread out and
the prior samples land in holes (the Fréchet distances: docs/TUNING.md).
Note: a density of continuous pixels can exceed 1, so with a small sigma ``-log p(x|z)`` (and the
loss) is often negative; only differences matter.

All losses are in nats per example: summed over pixels (and latent dimensions), averaged over the
batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from genlab.errors import GenlabError
from genlab.configs import ARCHITECTURES, DECODERS, KINDS, AutoencoderConfig  # noqa: F401 - the settings live in genlab.configs


@dataclass
class AutoencoderOutput:
    """What ``Autoencoder.forward`` returns (losses in nats per example, averaged over the batch)."""

    loss: torch.Tensor            # ()  recon_loss + beta * kl_loss: what the optimizer minimises
    recon_loss: torch.Tensor      # ()  -1/S sum_s log p(x|z_s)
    kl_loss: torch.Tensor         # ()  KL(q(z|x) || N(0, I)); 0 for the AE
    kl_per_dim: torch.Tensor      # (K,) batch mean of KL_k; zeros for the AE
    logits: torch.Tensor          # (S, B, C, H, W) decoder outputs of the S samples
    mu: torch.Tensor              # (B, K) encoder means (the AE's codes)
    logvar: torch.Tensor | None   # (B, K) encoder log sigma^2; None for the AE
    z: torch.Tensor               # (S, B, K) the latent samples that were decoded

    @property
    def elbo(self) -> torch.Tensor:
        """() -(recon_loss + kl_loss), the beta = 1 bound; -recon_loss for the AE (computed when asked)."""
        return -(self.recon_loss + self.kl_loss)

    @property
    def reconstruction(self) -> torch.Tensor:
        """(B, C, H, W) mean image sigmoid(logits) in [0, 1], averaged over the S samples (computed
        when asked: a training step does not need it)."""
        return torch.sigmoid(self.logits).mean(0)


def gaussian_kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) per dimension = 1/2 (mu^2 + sigma^2 - 1 - log sigma^2)
    (Kingma & Welling 2013, appendix B). Same shape as ``mu``."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


class Autoencoder(nn.Module):
    """AE / VAE with an MLP or a small conv encoder/decoder (see the module docstring)."""

    def __init__(self, config: AutoencoderConfig):
        super().__init__()
        self.config = config
        C, H, W = config.image_shape
        K = config.latent_dim
        hidden = list(config.hidden_dims)
        if config.architecture == "mlp":
            body_out = C * H * W
            self.encoder_body = nn.Flatten()                                   # (B, C*H*W)
        else:
            c1, c2 = config.conv_channels
            body_out = c2 * (H // 4) * (W // 4)
            self.encoder_body = nn.Sequential(
                nn.Conv2d(C, c1, 4, stride=2, padding=1), nn.ReLU(),          # (B, c1, H/2, W/2)
                nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),         # (B, c2, H/4, W/4)
                nn.Flatten(),                                                  # (B, c2*H/4*W/4)
            )
        self.encoder_mlp = _mlp([body_out] + hidden)                           # (B, hidden[-1])
        out = 2 * K if config.kind == "vae" else K
        self.encoder_head = nn.Linear(hidden[-1], out)                         # (B, 2K) mu, logvar | (B, K)

        self.decoder_mlp = _mlp([K] + hidden[::-1])                            # (B, hidden[0])
        if config.architecture == "mlp":
            self.decoder_body = nn.Sequential(
                nn.Linear(hidden[0], C * H * W),                               # (B, C*H*W)
                nn.Unflatten(1, (C, H, W)),                                    # (B, C, H, W)
            )
        else:
            self.decoder_body = nn.Sequential(
                nn.Linear(hidden[0], body_out), nn.ReLU(),
                nn.Unflatten(1, (c2, H // 4, W // 4)),                         # (B, c2, H/4, W/4)
                nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(), # (B, c1, H/2, W/2)
                nn.ConvTranspose2d(c1, C, 4, stride=2, padding=1),             # (B, C, H, W) logits
            )
        log_sigma = torch.tensor(math.log(config.gaussian_sigma))
        if config.decoder == "gaussian" and config.learn_sigma:
            self.log_sigma = nn.Parameter(log_sigma)
        else:
            self.register_buffer("log_sigma", log_sigma)

    @property
    def is_vae(self) -> bool:
        return self.config.kind == "vae"

    # ----------------------------------------------------------------- encoder / decoder
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, C, H, W) -> (mu (B, K), logvar (B, K)); logvar is None for the AE."""
        h = self.encoder_mlp(self.encoder_body(x))                             # (B, hidden[-1])
        out = self.encoder_head(h)
        if not self.is_vae:
            return out, None
        mu, logvar = out.chunk(2, dim=-1)                                      # (B, K) each
        return mu, logvar.clamp(-30.0, 20.0)

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor, samples: int = 1,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """z_s = mu + sigma * eps_s, eps_s ~ N(0, I), s = 1..S -> (S, B, K).

        Gradients flow to mu and sigma through the sample (the reparameterization trick).
        ``generator`` (a CPU generator is fine on any device) makes eps reproducible.
        """
        eps = _randn((samples, *mu.shape), generator, mu)                      # (S, B, K)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (..., K) -> logits (..., C, H, W); the mean image is sigmoid(logits)."""
        lead = z.shape[:-1]
        logits = self.decoder_body(self.decoder_mlp(z.reshape(-1, z.shape[-1])))  # (N, C, H, W)
        return logits.reshape(*lead, *self.config.image_shape)

    # ----------------------------------------------------------------- likelihood
    @property
    def sigma(self) -> torch.Tensor:
        """The Gaussian decoder's sigma (fixed or learned)."""
        return self.log_sigma.exp()

    def reconstruction_nll(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) summed over pixels: x (B, C, H, W), logits (..., B, C, H, W) -> (..., B)."""
        return self._pixel_nll(x, logits).flatten(-3).sum(-1)

    def _pixel_nll(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """-log p(x_i|z) of every pixel i, shaped like ``logits`` (x broadcast over leading dims)."""
        if self.config.decoder == "bernoulli":
            # -[x log sigmoid(l) + (1 - x) log(1 - sigmoid(l))]
            return F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none")
        mean = torch.sigmoid(logits)
        return 0.5 * ((x - mean) / self.sigma).pow(2) + self.log_sigma + 0.5 * math.log(2 * math.pi)

    def forward(self, x: torch.Tensor, mc_samples: int = 1, beta: float | None = None,
                generator: torch.Generator | None = None) -> AutoencoderOutput:
        """Loss of a batch x (B, C, H, W) in [0, 1] with S = ``mc_samples`` samples of z per example.

        ``beta`` defaults to ``config.beta``. The AE ignores ``mc_samples`` and ``beta``.
        """
        beta = self.config.beta if beta is None else beta
        mu, logvar = self.encode(x)                                            # (B, K)
        if self.is_vae:
            z = self.reparameterize(mu, logvar, mc_samples, generator)         # (S, B, K)
            kl = gaussian_kl_per_dim(mu, logvar)                               # (B, K)
        else:
            z = mu.unsqueeze(0)                                                # (1, B, K)
            kl = torch.zeros_like(mu)
        logits = self.decode(z)                                                # (S, B, C, H, W)
        # means over the S samples and the B examples as one sum and one division: the same numbers
        # with fewer autograd nodes (per-op overhead dominates these small networks on a CPU)
        samples, batch = logits.shape[0], x.shape[0]
        recon_loss = self._pixel_nll(x, logits).sum() / (samples * batch)     # -1/S sum_s log p(x|z_s)
        kl_loss = kl.sum() / batch
        return AutoencoderOutput(
            loss=recon_loss + beta * kl_loss if self.is_vae else recon_loss,
            recon_loss=recon_loss,
            kl_loss=kl_loss,
            kl_per_dim=kl.mean(0),
            logits=logits,
            mu=mu,
            logvar=logvar,
            z=z,
        )

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode z ~ N(0, I): images (n, C, H, W) in [0, 1] (also for the AE: that is the lesson)."""
        param = next(self.parameters())
        z = _randn((n, self.config.latent_dim), generator, param)             # (n, K)
        return torch.sigmoid(self.decode(z))


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear + ReLU for each consecutive pair of sizes."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers)


def _randn(shape, generator: torch.Generator | None, like: torch.Tensor) -> torch.Tensor:
    """Standard normal noise on ``like``'s device/dtype; drawn from ``generator``'s device."""
    if generator is None:
        return torch.randn(shape, device=like.device, dtype=like.dtype)
    eps = torch.randn(shape, generator=generator, device=generator.device, dtype=like.dtype)
    return eps.to(like.device)
