"""Masks, the VAE decoder's inputs and latent optimization: inpainting, uncropping and
super-resolution by finding the code whose image agrees with what we see. Part of :mod:`genlab.editing`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from genlab.errors import GenlabError, check_number, check_range

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
    return check_number(name, value, lo=low, hi=high, integer=True)


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
