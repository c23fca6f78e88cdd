"""The conditional VAE (Sohn et al. 2015) that completes a masked digit in one decoder pass, trained
on random masks and cached. Part of :mod:`genlab.editing`."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from genlab.atomic_file import atomic_write
from genlab.code_source import code_source
from genlab.errors import GenlabError
from genlab.editing.latent_fit import _images, _side, random_masks
from genlab.validation import check_fields, option


@dataclass
class ConditionalVAEConfig:
    """Settings of the conditional VAE (limits declared per field, checked on construction and by validate())."""

    image_size: int = option(8, lo=2, hi=64, integer=True)   # an even side length
    latent_dim: int = option(8, lo=1, hi=64, integer=True)
    hidden: int = option(256, lo=8, hi=4096, integer=True)
    steps: int = option(4000, lo=1, hi=1_000_000, integer=True)   # Adam steps of training (a short CPU job on digits)
    batch_size: int = option(64, lo=1, hi=100_000, integer=True)
    lr: float = option(2e-3, lo=0, hi=1, lo_open=True)
    seed: int = option(0, lo=0, hi=2**31 - 1, integer=True)

    def __post_init__(self):
        self.validate()

    def validate(self) -> "ConditionalVAEConfig":
        """Check every field against its limits (again after a field was set); returns self."""
        check_fields(self)
        _side(self.image_size)
        return self


class ConditionalVAE(nn.Module):
    """MLP conditional VAE for inpainting (Bernoulli decoder, prior N(0, I))::

        condition  c = [m ⊙ x, m]                               (B, 2*S*S)
        encoder    q(z | x, c) = N(mu, diag sigma²):  [x, c] -> hidden -> hidden -> (mu, log sigma²)
        decoder    p(x | z, c) = Bernoulli(sigmoid(.)):  [z, c] -> hidden -> hidden -> S*S logits

    Loss per example (the negative conditional ELBO): ``BCE(x, decode(z, c)) + KL(q(z | x, c) ‖ N(0, I))``.
    """

    def __init__(self, config: ConditionalVAEConfig):
        super().__init__()
        self.config = config
        P, K, H = config.image_size ** 2, config.latent_dim, config.hidden
        self.encoder = nn.Sequential(nn.Linear(3 * P, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(), nn.Linear(H, 2 * K))
        self.decoder = nn.Sequential(nn.Linear(K + 2 * P, H), nn.ReLU(), nn.Linear(H, H), nn.ReLU(), nn.Linear(H, P))

    @staticmethod
    def condition(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return torch.cat([(x * m).flatten(1), m.flatten(1)], dim=1)                # (B, 2P)

    def encode(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(torch.cat([x.flatten(1), c], dim=1)).chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)

    def decode(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 1, S, S)``."""
        S = self.config.image_size
        return self.decoder(torch.cat([z, c], dim=1)).reshape(-1, 1, S, S)

    def loss(self, x: torch.Tensor, m: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        c = self.condition(x, m)
        mu, logvar = self.encode(x, c)
        eps = torch.randn(mu.shape, generator=generator)
        z = mu + torch.exp(0.5 * logvar) * eps
        recon = F.binary_cross_entropy_with_logits(self.decode(z, c), x, reduction="none").flatten(1).sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return (recon + kl).mean()

    @torch.no_grad()
    def complete(self, x: torch.Tensor, m: torch.Tensor, samples: int = 0, seed: int = 0) -> torch.Tensor:
        """Completions ``m ⊙ x + (1 − m) ⊙ sigmoid(decode(z, c))``: with ``samples = 0`` one per
        image at ``z = 0`` -> ``(N, 1, S, S)``; else ``samples`` draws ``z ~ N(0, I)`` per image ->
        ``(N, samples, 1, S, S)``."""
        c = self.condition(x, m)
        K = self.config.latent_dim
        if samples == 0:
            out = torch.sigmoid(self.decode(torch.zeros(x.shape[0], K), c))
            return m * x + (1 - m) * out
        generator = torch.Generator().manual_seed(int(seed))
        z = torch.randn(x.shape[0] * samples, K, generator=generator)
        out = torch.sigmoid(self.decode(z, c.repeat_interleave(samples, dim=0)))
        S = self.config.image_size
        out = out.reshape(x.shape[0], samples, 1, S, S)
        return m[:, None] * x[:, None] + (1 - m[:, None]) * out


@torch.enable_grad()  # a caller inside no_grad may be the first to need the model
def train_conditional_vae(images: torch.Tensor, config: ConditionalVAEConfig | None = None, *,
                          progress: Callable[[int, int, float], None] | None = None,
                          should_stop: Callable[[], bool] = lambda: False) -> ConditionalVAE | None:
    """Train a :class:`ConditionalVAE` on ``images (N, 1, S, S)`` with a fresh random mask per
    example and step (:func:`random_masks`). Deterministic for ``config.seed`` on CPU.
    ``progress(step, steps, loss)`` is called every 50 steps; returns None if ``should_stop()``."""
    config = (config or ConditionalVAEConfig()).validate()
    x_all = _images(images, config.image_size, "training images")
    generator = torch.Generator().manual_seed(config.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = ConditionalVAE(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    model.train()
    for step in range(config.steps):
        if should_stop():
            return None
        idx = torch.randint(0, x_all.shape[0], (config.batch_size,), generator=generator)
        x = x_all[idx]
        m = random_masks(config.batch_size, config.image_size, generator)
        loss = model.loss(x, m, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if progress is not None and ((step + 1) % 50 == 0 or step + 1 == config.steps):
            progress(step + 1, config.steps, float(loss.detach()))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def editing_cache_dir() -> Path:
    """``$GENLAB_CACHE_DIR/editing`` (default ``~/.cache/genlab/editing``)."""
    root = os.environ.get("GENLAB_CACHE_DIR")
    return (Path(root) if root else Path.home() / ".cache" / "genlab") / "editing"


def conditional_vae_path(config: ConditionalVAEConfig, dataset: str = "digits") -> Path:
    """Cache file of the conditional VAE trained with ``config`` on ``dataset``'s train split
    (named by a hash of the settings and of this module's training code)."""
    source = code_source(ConditionalVAE, train_conditional_vae, random_masks)
    text = json.dumps({"config": asdict(config), "dataset": dataset, "source": source}, sort_keys=True)
    return editing_cache_dir() / f"cvae-{dataset}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.pt"


def load_conditional_vae(config: ConditionalVAEConfig | None = None, dataset: str = "digits") -> ConditionalVAE | None:
    """The cached conditional VAE for these settings, or None when it has not been trained yet."""
    config = (config or ConditionalVAEConfig()).validate()
    path = conditional_vae_path(config, dataset)
    if not path.is_file():
        return None
    try:
        model = ConditionalVAE(config)
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception:  # noqa: BLE001 - corrupt / incompatible file: train again
        return None
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def get_conditional_vae(config: ConditionalVAEConfig | None = None, dataset: str = "digits", *,
                        progress=None, should_stop=lambda: False) -> ConditionalVAE | None:
    """Load the cached conditional VAE or train it on the train split and cache it (atomic write).
    Returns None if stopped before the end."""
    config = (config or ConditionalVAEConfig()).validate()
    model = load_conditional_vae(config, dataset)
    if model is not None:
        return model
    from genlab.data import load_image_dataset

    train = load_image_dataset(dataset, "train")
    if train.image_shape[-1] != config.image_size:
        raise GenlabError(f"the conditional VAE is set up for {config.image_size}x{config.image_size} images; "
                          f"{dataset} has {train.image_shape[-1]}x{train.image_shape[-1]}")
    model = train_conditional_vae(train.images, config, progress=progress, should_stop=should_stop)
    if model is None:
        return None
    path = conditional_vae_path(config, dataset)
    try:
        atomic_write(path, lambda tmp: torch.save(model.state_dict(), tmp), mode=0o644, make_folder=True)
    except OSError:
        pass  # read-only cache: keep the in-process model only
    return model
