"""Image editing with a trained VAE: inpainting, uncropping and super-resolution (the lecture's
"Image Editing" slides), done two ways.

**Latent optimization** (the VAE is a prior over images; find the code whose image agrees with what
we can see). For an observation ``y = A(x)`` of a test digit ``x`` -- the visible pixels
``A(x) = m ⊙ x`` (``m`` = 1 where visible) or the 4x4 average-pooled digit ``A(x) = avgpool2(x)`` --
solve, from ``restarts`` random starts ``z_0 ~ N(0, I)`` with Adam::

    z* = argmin_z  ‖A(decode(z)) − y‖²  +  λ ‖z‖²

``λ‖z‖²`` is the prior term ``−log N(z; 0, I) = ½‖z‖² + const`` (times 2λ): it keeps ``z`` where
the decoder was trained. (With a Gaussian likelihood ``N(x; decode(z), σ² I)`` the MAP objective is
exactly this with ``λ = σ²``.) The restart with the lowest objective wins. Inpainting keeps the
visible pixels and fills the rest: ``m ⊙ x + (1 − m) ⊙ decode(z*)``; super-resolution returns
``decode(z*)`` (8x8).

**A conditional VAE** (:class:`ConditionalVAE`, Sohn et al. 2015, "Learning Structured Output
Representation using Deep Conditional Generative Models"): a VAE whose encoder and decoder also see
the condition ``c = (m ⊙ x, m)`` (visible pixels and the mask), trained on random masks of the
training digits (:func:`train_conditional_vae`). Completing a digit is one decoder pass,
``decode(z, c)``: ``z = 0`` gives the most typical completion, ``z ~ N(0, I)`` different plausible
ones. No optimization at test time -- the work was done in training ("amortized").

Scores (:func:`evaluate_editing`, :func:`evaluate_super_resolution`): the genlab digit classifier
(:func:`genlab.metrics.get_classifier`) reads each completed test digit; the share read as the true
label is compared with the masked input (missing pixels black) and, for super-resolution, with
bilinear / nearest upsampling of the 4x4 image.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from genlab.errors import GenlabError, check_range

# Which part is MISSING: halves (uncropping), the centre square (inpainting), or a rectangle.
MASK_KINDS = ("top", "bottom", "left", "right", "center", "rectangle")
MASK_LABELS = {
    "top": "top half missing (uncropping)",
    "bottom": "bottom half missing (uncropping)",
    "left": "left half missing (uncropping)",
    "right": "right half missing (uncropping)",
    "center": "centre square missing (inpainting)",
    "rectangle": "a rectangle missing (inpainting)",
}
EVAL_KINDS = ("top", "bottom", "left", "right", "center")

# Latent optimization defaults (chosen on the digits TRAIN split, reported on the test split).
DEFAULT_LAMBDA = 0.02
DEFAULT_RESTARTS = 8
DEFAULT_STEPS = 200
DEFAULT_LR = 0.1
MAX_RESTARTS = 64
MAX_STEPS = 5000


# =========================================================================== masks


def _side(size) -> int:
    size = int(size)
    if size < 2 or size % 2:
        raise GenlabError(f"image size must be an even number >= 2 (got {size})")
    return size


def make_mask(kind: str, size: int = 8, rect: tuple[int, int, int, int] | None = None) -> torch.Tensor:
    """The visibility mask ``m`` ``(1, 1, S, S)``: 1 = visible, 0 = missing.

    ``kind``: ``top``/``bottom``/``left``/``right`` (that half missing), ``center`` (the central
    ``S/2 x S/2`` square missing), ``rectangle`` with ``rect = (row0, row1, col0, col1)`` (rows
    ``row0 .. row1 - 1`` and columns ``col0 .. col1 - 1`` missing, 0-based, end exclusive).
    """
    S = _side(size)
    h = S // 2
    m = torch.ones(1, 1, S, S)
    if kind == "top":
        m[..., :h, :] = 0
    elif kind == "bottom":
        m[..., h:, :] = 0
    elif kind == "left":
        m[..., :, :h] = 0
    elif kind == "right":
        m[..., :, h:] = 0
    elif kind == "center":
        q = S // 4
        m[..., q:q + h, q:q + h] = 0
    elif kind == "rectangle":
        r0, r1, c0, c1 = check_rect(rect, S)
        m[..., r0:r1, c0:c1] = 0
    else:
        raise GenlabError(f"unknown mask {kind!r}; allowed: {', '.join(MASK_KINDS)}")
    return m


def check_rect(rect, size: int = 8) -> tuple[int, int, int, int]:
    """``(row0, row1, col0, col1)`` as ints with ``0 <= row0 < row1 <= S`` (same for columns), and
    not the whole image; else GenlabError saying what is allowed."""
    try:
        r0, r1, c0, c1 = (int(v) for v in rect)
        if any(float(v) != int(v) for v in rect):
            raise ValueError
    except (TypeError, ValueError):
        raise GenlabError(f"the rectangle must be four whole numbers (row0, row1, col0, col1) (got {rect!r})") from None
    if not (0 <= r0 < r1 <= size and 0 <= c0 < c1 <= size):
        raise GenlabError(f"the rectangle must satisfy 0 <= row0 < row1 <= {size} and 0 <= col0 < col1 <= {size} "
                          f"(got rows {r0}..{r1}, columns {c0}..{c1})")
    if (r1 - r0) * (c1 - c0) == size * size:
        raise GenlabError("the rectangle hides the whole image; leave at least one pixel visible")
    return r0, r1, c0, c1


def random_masks(n: int, size: int = 8, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` random visibility masks ``(n, 1, S, S)`` for training the conditional VAE: each is one
    of the four halves (top/bottom/left/right), the centre square, or a random rectangle of 2..S-2
    rows and columns, with probability 1/6 each (so every test mask kind is in the training data)."""
    S = _side(size)
    h, q = S // 2, S // 4
    fixed = torch.tensor([[0, h, 0, S], [h, S, 0, S], [0, S, 0, h], [0, S, h, S], [q, q + h, q, q + h]])
    kinds = torch.randint(0, 6, (n,), generator=generator)                       # 0-3 halves, 4 centre, 5 rectangle
    size_rc = torch.randint(2, S - 1, (n, 2), generator=generator)               # rectangle rows, cols
    start_rc = (torch.rand(n, 2, generator=generator) * (S - size_rc + 1)).long()
    rect = torch.cat([start_rc[:, :1], start_rc[:, :1] + size_rc[:, :1], start_rc[:, 1:], start_rc[:, 1:] + size_rc[:, 1:]], 1)
    boxes = torch.where((kinds == 5)[:, None], rect, fixed[kinds.clamp(max=4)])  # (n, 4) row0, row1, col0, col1
    r = torch.arange(S)[None, :, None]
    c = torch.arange(S)[None, None, :]
    b = boxes[:, :, None, None]
    hidden = (r >= b[:, 0]) & (r < b[:, 1]) & (c >= b[:, 2]) & (c < b[:, 3])     # (n, S, S)
    return (~hidden).float().unsqueeze(1)


def downsample(images: torch.Tensor) -> torch.Tensor:
    """The super-resolution observation: 2x2 average pooling, ``(N, 1, S, S) -> (N, 1, S/2, S/2)``."""
    return F.avg_pool2d(images, 2)


def upsample(low: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Baselines for super-resolution: ``bilinear`` (or ``nearest``) upsampling x2, clipped to [0, 1]."""
    if mode not in ("bilinear", "nearest"):
        raise GenlabError(f"unknown upsampling {mode!r}; allowed: bilinear, nearest")
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    return F.interpolate(low, scale_factor=2, mode=mode, **kwargs).clamp(0, 1)


# =========================================================================== the VAE decoder


def _model(source):
    """The Autoencoder of a trainer (``.model``) or the model itself (a VAE or an AE)."""
    from genlab.models.autoencoder import Autoencoder

    model = getattr(source, "model", source)
    if not isinstance(model, Autoencoder):
        raise GenlabError("image editing needs a trained VAE (an AutoencoderTrainer of a vae, or its model)")
    return model


def _images(x, size: int, name: str = "images") -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).float()
    if x.dim() == 2 and x.shape[1] == size * size:
        x = x.reshape(-1, 1, size, size)
    elif x.dim() == 3 and tuple(x.shape[1:]) == (size, size):
        x = x.unsqueeze(1)
    if x.dim() != 4 or tuple(x.shape[1:]) != (1, size, size):
        raise GenlabError(f"{name} must have shape (N, 1, {size}, {size}) (got {tuple(x.shape)})")
    if x.shape[0] == 0:
        raise GenlabError(f"{name} is empty; need at least one image")
    if not torch.isfinite(x).all():
        raise GenlabError(f"{name} contains NaN or infinity")
    return x.detach().cpu().clamp(0, 1)


# =========================================================================== latent optimization


@dataclass
class LatentFit:
    """Result of :func:`fit_latent` for N observations and R restarts (CPU tensors)."""

    z: torch.Tensor             # (N, K)       the best restart's code
    images: torch.Tensor        # (N, 1, S, S) decode(z*) in [0, 1]
    objective: torch.Tensor     # (N,)         ‖A(decode(z*)) − y‖² + λ‖z*‖²
    data_term: torch.Tensor     # (N,)         ‖A(decode(z*)) − y‖²
    prior_term: torch.Tensor    # (N,)         λ‖z*‖²
    best: torch.Tensor          # (N,)         index of the winning restart
    all_images: torch.Tensor    # (N, R, 1, S, S) every restart's decode(z)
    all_objectives: torch.Tensor  # (N, R)
    history: np.ndarray         # (steps + 1,) mean best-so-far objective per step (the convergence curve)


def check_fit_settings(lam: float, restarts: int, steps: int, lr: float) -> tuple[float, int, int, float]:
    lam = float(check_range("λ (prior weight)", lam, 0, 100))
    restarts = _whole("restarts", restarts, 1, MAX_RESTARTS)
    steps = _whole("optimization steps", steps, 0, MAX_STEPS)
    lr = float(check_range("learning rate", lr, 0, 10, low_inclusive=False))
    return lam, restarts, steps, lr


def _whole(name: str, value, low: int, high: int) -> int:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)) \
        and math.isfinite(float(value)) and float(value).is_integer()
    if not ok or not low <= int(value) <= high:
        raise GenlabError(f"{name} must be a whole number from {low} to {high} (got {value!r})")
    return int(value)


def fit_latent(vae, observe: Callable[[torch.Tensor], torch.Tensor], target: torch.Tensor, *,
               lam: float = DEFAULT_LAMBDA, restarts: int = DEFAULT_RESTARTS, steps: int = DEFAULT_STEPS,
               lr: float = DEFAULT_LR, seed: int = 0, batch: int = 4096) -> LatentFit:
    """Minimize ``‖observe(decode(z)) − target‖² + λ‖z‖²`` over z for every observation, with Adam
    from ``restarts`` random starts ``z ~ N(0, I)`` each; keep the best restart per observation.

    ``observe`` maps images ``(B, 1, S, S)`` in [0, 1] to observations shaped like ``target[i]``
    (it must act on each image separately); ``target`` is ``(N, ...)``. The N x R problems are
    independent (the summed objective has block-diagonal gradients, and Adam is per coordinate),
    so they are solved together as one batch. Deterministic for a given ``seed``.
    """
    model = _model(vae)
    lam, restarts, steps, lr = check_fit_settings(lam, restarts, steps, lr)
    target = torch.as_tensor(target).float().detach().cpu()
    n, K = target.shape[0], model.config.latent_dim
    generator = torch.Generator().manual_seed(int(seed))
    z_all = torch.randn(n, restarts, K, generator=generator)                       # (N, R, K)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    flat_target = target.repeat_interleave(restarts, dim=0)                        # (N*R, ...)
    z = z_all.reshape(n * restarts, K)
    history = np.zeros(steps + 1)
    finals, objectives = [], []
    # Chunks of whole problems keep memory bounded; the history is the mean over all problems.
    requires = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        for start in range(0, n * restarts, batch):
            zc = z[start:start + batch].clone().to(device).requires_grad_(True)
            yc = flat_target[start:start + batch].to(device)
            optimizer = torch.optim.Adam([zc], lr=lr)

            def objective_of(zv):
                images = torch.sigmoid(model.decode(zv))                           # (B, 1, S, S)
                data = (observe(images) - yc).pow(2).flatten(1).sum(1)             # (B,)
                prior = lam * zv.pow(2).sum(1)                                     # (B,)
                return data, prior

            best_obj = torch.full((zc.shape[0],), math.inf, device=device)
            best_z = zc.detach().clone()
            for step in range(steps + 1):
                data, prior = objective_of(zc)
                obj = data + prior
                with torch.no_grad():
                    better = obj < best_obj
                    best_obj = torch.where(better, obj, best_obj)
                    best_z[better] = zc[better]
                history[step] += float(best_obj.sum())
                if step == steps:
                    break
                optimizer.zero_grad(set_to_none=True)
                obj.sum().backward()
                optimizer.step()
            finals.append(best_z.cpu())
            objectives.append(best_obj.detach().cpu())
    finally:
        for p, flag in zip(model.parameters(), requires):
            p.requires_grad_(flag)
        model.train(was_training)
    history /= max(1, n * restarts)
    z_best_all = torch.cat(finals).reshape(n, restarts, K)
    with torch.no_grad():
        images_all = torch.sigmoid(model.decode(z_best_all.reshape(-1, K).to(device))).cpu()
        S = images_all.shape[-1]
        data_all = (observe(images_all) - flat_target).pow(2).flatten(1).sum(1).reshape(n, restarts)
    prior_all = lam * z_best_all.pow(2).sum(-1)                                    # (N, R)
    obj_all = data_all + prior_all
    best = obj_all.argmin(dim=1)                                                   # (N,)
    rows = torch.arange(n)
    images_all = images_all.reshape(n, restarts, 1, S, S)
    return LatentFit(
        z=z_best_all[rows, best], images=images_all[rows, best], objective=obj_all[rows, best],
        data_term=data_all[rows, best], prior_term=prior_all[rows, best], best=best,
        all_images=images_all, all_objectives=obj_all, history=history,
    )


def inpaint_latent(vae, images, masks, *, lam: float = DEFAULT_LAMBDA, restarts: int = DEFAULT_RESTARTS,
                   steps: int = DEFAULT_STEPS, lr: float = DEFAULT_LR, seed: int = 0) -> tuple[torch.Tensor, LatentFit]:
    """Fill the missing pixels of ``images (N, 1, S, S)`` (masks ``(N or 1, 1, S, S)``, 1 = visible)
    by latent optimization. Returns ``(completed (N, 1, S, S), fit)`` with
    ``completed = m ⊙ x + (1 − m) ⊙ decode(z*)``."""
    model = _model(vae)
    S = model.config.image_shape[-1]
    x = _images(images, S)
    m = _masks(masks, x.shape[0], S)
    lam, restarts, steps, lr = check_fit_settings(lam, restarts, steps, lr)
    # The observation depends on each image's own mask, so chunk whole images here (every problem of a
    # chunk is one of its images' restarts) rather than inside fit_latent.
    per_chunk = max(1, 4096 // restarts)
    fits = []
    for start in range(0, x.shape[0], per_chunk):
        m_rep = m[start:start + per_chunk].repeat_interleave(restarts, dim=0)     # (n*R, 1, S, S)

        def observe(decoded: torch.Tensor, m_rep=m_rep) -> torch.Tensor:
            return decoded * m_rep.to(decoded.device)

        fits.append(fit_latent(model, observe, (x * m)[start:start + per_chunk], lam=lam, restarts=restarts,
                               steps=steps, lr=lr, seed=int(seed) + start, batch=10**9))
    fit = _concat_fits(fits)
    return m * x + (1 - m) * fit.images, fit


def _concat_fits(fits: list[LatentFit]) -> LatentFit:
    if len(fits) == 1:
        return fits[0]
    counts = np.array([f.z.shape[0] for f in fits], dtype=float)
    history = sum(f.history * c for f, c in zip(fits, counts)) / counts.sum()
    return LatentFit(**{name: torch.cat([getattr(f, name) for f in fits])
                        for name in ("z", "images", "objective", "data_term", "prior_term", "best", "all_images",
                                     "all_objectives")}, history=history)


def _masks(masks, n: int, size: int) -> torch.Tensor:
    m = torch.as_tensor(np.asarray(masks) if not isinstance(masks, torch.Tensor) else masks).float().cpu()
    if m.dim() == 2 and tuple(m.shape) == (size, size):
        m = m.reshape(1, 1, size, size)
    if m.dim() != 4 or tuple(m.shape[1:]) != (1, size, size) or m.shape[0] not in (1, n):
        raise GenlabError(f"masks must have shape ({n} or 1, 1, {size}, {size}) (got {tuple(m.shape)})")
    if not ((m == 0) | (m == 1)).all():
        raise GenlabError("masks must contain only 0 (missing) and 1 (visible)")
    if (m.flatten(1).sum(1) == 0).any():
        raise GenlabError("a mask hides the whole image; leave at least one pixel visible")
    return m.expand(n, -1, -1, -1).clone()


def super_resolve_latent(vae, low, *, lam: float = DEFAULT_LAMBDA, restarts: int = DEFAULT_RESTARTS,
                         steps: int = DEFAULT_STEPS, lr: float = DEFAULT_LR, seed: int = 0) -> tuple[torch.Tensor, LatentFit]:
    """8x8 digits from 4x4 observations ``low (N, 1, S/2, S/2)`` (2x2 averages) by latent
    optimization: ``z* = argmin ‖avgpool2(decode(z)) − low‖² + λ‖z‖²``. Returns ``(decode(z*), fit)``."""
    model = _model(vae)
    S = model.config.image_shape[-1]
    low = _images(low, S // 2, "low-resolution images")
    fit = fit_latent(model, downsample, low, lam=lam, restarts=restarts, steps=steps, lr=lr, seed=seed)
    return fit.images, fit


# =========================================================================== conditional VAE


@dataclass
class ConditionalVAEConfig:
    image_size: int = 8
    latent_dim: int = 8
    hidden: int = 256
    steps: int = 4000          # Adam steps of training (about 30 s of CPU time for digits: <= 60 s on one core)
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = 0

    def validate(self) -> "ConditionalVAEConfig":
        _side(self.image_size)
        self.latent_dim = _whole("latent_dim", self.latent_dim, 1, 64)
        self.hidden = _whole("hidden", self.hidden, 8, 4096)
        self.steps = _whole("steps", self.steps, 1, 1_000_000)
        self.batch_size = _whole("batch_size", self.batch_size, 1, 100_000)
        self.lr = float(check_range("lr", self.lr, 0, 1, low_inclusive=False))
        self.seed = _whole("seed", self.seed, 0, 2**31 - 1)
        return self


class ConditionalVAE(nn.Module):
    """MLP conditional VAE for inpainting (Bernoulli decoder, prior N(0, I))::

        condition  c = [m ⊙ x, m]                               (B, 2*S*S)
        encoder    q(z | x, c) = N(mu, diag sigma²):  [x, c] -> hidden -> hidden -> (mu, log sigma²)
        decoder    p(x | z, c) = Bernoulli(sigmoid(.)):  [z, c] -> hidden -> hidden -> S*S logits

    Loss per example (the conditional ELBO): ``BCE(x, decode(z, c)) + KL(q(z | x, c) ‖ N(0, I))``.
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
    import inspect

    try:
        source = inspect.getsource(ConditionalVAE) + inspect.getsource(train_conditional_vae) + inspect.getsource(random_masks)
    except (OSError, TypeError):
        source = ""
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
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        os.close(fd)
        try:
            torch.save(model.state_dict(), tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # read-only cache: keep the in-process model only
    return model


# =========================================================================== scores


@torch.no_grad()
def classifier_probabilities(images, dataset: str = "digits") -> np.ndarray:
    """Softmax probabilities ``(N, 10)`` of the genlab digit classifier for ``images`` in [0, 1]."""
    from genlab import metrics

    x = _images(images, {"digits": 8}.get(dataset, 28))
    model = metrics.get_classifier(dataset)
    return torch.softmax(model(x), dim=1).numpy()


def accuracy(images, labels, dataset: str = "digits") -> float:
    """Share of ``images`` the classifier reads as ``labels``."""
    probs = classifier_probabilities(images, dataset)
    return float((probs.argmax(1) == np.asarray(labels).reshape(-1)).mean())


@dataclass
class EditingScores:
    """Scores of one mask kind over a set of test digits."""

    kind: str
    n: int
    acc_original: float          # the classifier on the untouched digits
    acc_masked: float            # ... on the masked input (missing pixels black): the baseline
    acc_latent: float            # ... on the latent-optimization completion
    acc_cvae: float | None       # ... on the conditional VAE's completion (z = 0); None without a CVAE
    mse_masked: float            # mean squared error on the missing pixels (masked input: 0 there)
    mse_latent: float
    mse_cvae: float | None
    extra: dict = field(default_factory=dict)


def evaluate_editing(vae, images, labels, kinds=EVAL_KINDS, cvae: ConditionalVAE | None = None,
                     dataset: str = "digits", progress: Callable[[int, int], None] | None = None,
                     **fit_kwargs) -> list[EditingScores]:
    """Inpainting / uncropping scores of ``images`` with true ``labels`` for each mask kind:
    classifier accuracy of the original, masked, latent-optimization and (if given) conditional-VAE
    images, and the mean squared error on the missing pixels."""
    model = _model(vae)
    S = model.config.image_shape[-1]
    x = _images(images, S)
    y = np.asarray(labels).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise GenlabError(f"need one label per image (got {y.shape[0]} labels for {x.shape[0]} images)")
    acc_original = accuracy(x, y, dataset)
    out = []
    for i, kind in enumerate(kinds):
        m = make_mask(kind, S).expand(x.shape[0], -1, -1, -1).clone()
        missing = (1 - m).sum().clamp_min(1)
        masked = x * m
        completed, _ = inpaint_latent(model, x, m, **fit_kwargs)

        def mse(img):
            return float(((img - x) * (1 - m)).pow(2).sum() / missing)

        acc_cvae = mse_cvae = None
        if cvae is not None:
            filled = cvae.complete(x, m)
            acc_cvae, mse_cvae = accuracy(filled, y, dataset), mse(filled)
        out.append(EditingScores(kind, int(x.shape[0]), acc_original, accuracy(masked, y, dataset),
                                 accuracy(completed, y, dataset), acc_cvae, mse(masked), mse(completed), mse_cvae))
        if progress is not None:
            progress(i + 1, len(kinds))
    return out


@dataclass
class SuperResolutionScores:
    n: int
    acc_original: float
    acc_nearest: float
    acc_bilinear: float
    acc_latent: float
    mse_nearest: float          # mean squared error per pixel against the original 8x8 digit
    mse_bilinear: float
    mse_latent: float


def evaluate_super_resolution(vae, images, labels, dataset: str = "digits", **fit_kwargs) -> SuperResolutionScores:
    """Super-resolution 4x4 -> 8x8 of ``images``: classifier accuracy and per-pixel MSE of nearest
    and bilinear upsampling (baselines) and of latent optimization."""
    model = _model(vae)
    S = model.config.image_shape[-1]
    x = _images(images, S)
    y = np.asarray(labels).reshape(-1)
    low = downsample(x)
    near, bil = upsample(low, "nearest"), upsample(low, "bilinear")
    latent, _ = super_resolve_latent(model, low, **fit_kwargs)

    def mse(img):
        return float((img - x).pow(2).mean())

    return SuperResolutionScores(int(x.shape[0]), accuracy(x, y, dataset), accuracy(near, y, dataset),
                                 accuracy(bil, y, dataset), accuracy(latent, y, dataset),
                                 mse(near), mse(bil), mse(latent))
