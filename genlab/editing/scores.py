"""Scores of the completed digits by the genlab digit classifier (:func:`evaluate_editing`,
:func:`evaluate_super_resolution`). Part of :mod:`genlab.editing`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from genlab.errors import GenlabError
from genlab.editing.conditional_vae import ConditionalVAE
from genlab.editing.latent_fit import (
    EVAL_KINDS,
    _images,
    _model,
    downsample,
    inpaint_latent,
    make_mask,
    super_resolve_latent,
    upsample,
)


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
