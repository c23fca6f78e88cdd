"""More than one judge of image quality: a second digit classifier and KID (issue 22 §3).

One feature space is one judge: a generator tuned against :mod:`genlab.classifier`'s CNN may
score well there and not elsewhere. This module adds

* :class:`MLPDigitClassifier`, a classifier of a different make (a fully connected network on
  the flattened pixels, trained with another seed and recipe), cached on disk like the first one
  (``classifier_cache_dir()/mlp-<dataset>-<hash>.pt``); its penultimate features are a second
  space for the Fréchet distance;
* :class:`HeldOutDigitClassifier`, a third judge kept for validation only (a CNN of another
  shape: 5x5 kernels, ELU, average pooling, seed 2): tuning is screened against ``cnn`` and
  ``mlp``, and this one says whether a change helped the images or just those two judges;
* :func:`kernel_inception_distance` (KID, Bińkowski et al. 2018): the unbiased MMD² with the
  cubic polynomial kernel, averaged over random subsets, with its standard error;
* :func:`judge_features` / :func:`judge_scores`: the features of one judge (``cnn`` = genlab's
  classifier, ``mlp`` = the second one, ``heldout`` = the third, ``pixels`` = raw pixels, for
  information only) and the FD and KID of a set of images against the test split in that space.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from genlab.atomic_file import atomic_write
from genlab.code_source import code_source
from genlab.classifier import (NUM_CLASSES, REFERENCE_SPLIT, _IMAGE_SIDE, _as_images, _check_dataset,
                               _load_split, check_training_set, classifier_cache_dir, classifier_features,
                               fit_classifier, seeded_model)
from genlab.errors import GenlabError
from genlab.metrics import frechet_distance

JUDGES = ("cnn", "mlp", "heldout", "pixels")
CLASSIFIER_JUDGES = ("cnn", "mlp", "heldout")
MLP_FEATURE_DIM = 128
MLP_SEED = 1  # another seed than genlab's CNN (seed 0)
_MLP_VERSION = "1"
_MLP_RECIPE = {"epochs": 40, "batch_size": 32, "lr": 1e-3, "weight_decay": 1e-4}
HELDOUT_FEATURE_DIM = 96
HELDOUT_SEED = 2
_HELDOUT_VERSION = "1"
_HELDOUT_RECIPE = {"epochs": 25, "batch_size": 48, "lr": 2e-3, "weight_decay": 5e-4}


class MLPDigitClassifier(nn.Module):
    """Fully connected classifier for ``(N, 1, S, S)`` images in [0, 1].

    flatten(S²) - linear(S²->256) - tanh - linear(256->128) - tanh (= :meth:`features`, F = 128)
    - linear(128->10) (logits). No convolution, other activation and width than
    :class:`genlab.classifier.DigitClassifier`.
    """

    def __init__(self, image_side: int = 8, num_classes: int = NUM_CLASSES, feature_dim: int = MLP_FEATURE_DIM):
        super().__init__()
        self.image_side = int(image_side)
        pixels = self.image_side * self.image_side
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(pixels, 256), nn.Tanh(),
                                   nn.Linear(256, feature_dim), nn.Tanh())
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(N, 128)`` of images ``(N, 1, S, S)``."""
        return self.embed(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, 10)``."""
        return self.head(self.features(x))


def train_mlp_classifier(images: torch.Tensor, labels: torch.Tensor, *, epochs: int = 40, batch_size: int = 32,
                         lr: float = 1e-3, weight_decay: float = 1e-4, seed: int = MLP_SEED) -> MLPDigitClassifier:
    """Train an :class:`MLPDigitClassifier` on ``images (N, 1, S, S)`` in [0, 1] and ``labels (N,)``.

    AdamW on the cross-entropy ``L = -1/B sum_i log softmax(f(x_i))[y_i]`` at a constant learning
    rate, minibatches shuffled by a generator seeded with ``seed``; inputs get Gaussian pixel noise
    (std 0.05) so the features do not hinge on single pixels. Returns the model in eval mode.
    """
    images, labels = check_training_set(images, labels)
    generator = torch.Generator().manual_seed(seed)
    model = seeded_model(MLPDigitClassifier, seed, images.shape[-1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    return fit_classifier(model, images, labels, optimizer, epochs=epochs, batch_size=batch_size,
                          generator=generator, input_noise=0.05)


class HeldOutDigitClassifier(nn.Module):
    """The held-out third judge: a CNN of another shape than :class:`genlab.classifier.DigitClassifier`.

    conv5x5(1->20) - ELU - avgpool2 - conv3x3(20->40) - ELU - adaptive avgpool 4x4 (identity for
    digits) - flatten(640) - linear(640->96) - ELU (= :meth:`features`, F = 96) - linear(96->10) (logits). Other kernel
    sizes, widths, pooling and activation than genlab's CNN, and another seed (2) and recipe.
    """

    def __init__(self, image_side: int = 8, num_classes: int = NUM_CLASSES, feature_dim: int = HELDOUT_FEATURE_DIM):
        super().__init__()
        self.image_side = int(image_side)
        self.body = nn.Sequential(nn.Conv2d(1, 20, 5, padding=2), nn.ELU(), nn.AvgPool2d(2),
                                  nn.Conv2d(20, 40, 3, padding=1), nn.ELU(), nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.embed = nn.Sequential(nn.Linear(40 * 16, feature_dim), nn.ELU())
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(N, 96)`` of images ``(N, 1, S, S)``."""
        return self.embed(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, 10)``."""
        return self.head(self.features(x))


def train_heldout_classifier(images: torch.Tensor, labels: torch.Tensor, *, epochs: int = 25, batch_size: int = 48,
                             lr: float = 2e-3, weight_decay: float = 5e-4,
                             seed: int = HELDOUT_SEED) -> HeldOutDigitClassifier:
    """Train a :class:`HeldOutDigitClassifier` on ``images (N, 1, S, S)`` in [0, 1] and ``labels (N,)``.

    Adam with L2 ``weight_decay`` on the cross-entropy ``L = -1/B sum_i log softmax(f(x_i))[y_i]``,
    the learning rate on a cosine from ``lr`` to 0 over the run, minibatches shuffled by a
    generator seeded with ``seed``. Returns the model in eval mode.
    """
    images, labels = check_training_set(images, labels)
    generator = torch.Generator().manual_seed(seed)
    model = seeded_model(HeldOutDigitClassifier, seed, images.shape[-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * ((images.shape[0] + batch_size - 1) // batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    return fit_classifier(model, images, labels, optimizer, epochs=epochs, batch_size=batch_size,
                          generator=generator, scheduler=scheduler)


# The extra judges: model class, training function, version, recipe, seed (all in the cache hash).
_EXTRA_JUDGES = {
    "mlp": (MLPDigitClassifier, train_mlp_classifier, _MLP_VERSION, _MLP_RECIPE, MLP_SEED),
    "heldout": (HeldOutDigitClassifier, train_heldout_classifier, _HELDOUT_VERSION, _HELDOUT_RECIPE, HELDOUT_SEED),
}


@functools.lru_cache(maxsize=None)
def _judge_hash(kind: str) -> str:
    model_cls, train, version, recipe, seed = _EXTRA_JUDGES[kind]
    source = code_source(model_cls, train, fit_classifier)  # no ast parse of the module (thread-safe)
    text = json.dumps({"v": version, "recipe": recipe, "seed": seed, "source": source}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _judge_cache_path(kind: str, dataset: str) -> Path:
    return classifier_cache_dir() / f"{kind}-{dataset}-{_judge_hash(kind)}.pt"


@functools.lru_cache(maxsize=8)
def _cached_judge(kind: str, dataset: str, cache_file: str) -> nn.Module:
    model_cls, train, _, recipe, seed = _EXTRA_JUDGES[kind]
    path, side = Path(cache_file), _IMAGE_SIDE[dataset]
    if path.is_file():
        try:
            model = model_cls(image_side=side)
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            model.eval()
            for parameter in model.parameters():
                parameter.requires_grad_(False)
            return model
        except Exception:  # noqa: BLE001 - corrupt or incompatible file: retrain
            pass
    images, labels = _load_split(dataset, "train")
    model = train(images, labels, seed=seed, **recipe)
    try:
        atomic_write(path, lambda tmp: torch.save(model.state_dict(), tmp), mode=0o644, make_folder=True)
    except OSError:
        pass  # read-only cache folder: keep the in-process copy
    return model


def get_judge_classifier(kind: str, dataset: str = "digits") -> nn.Module:
    """The trained extra judge ``kind`` (``mlp`` or ``heldout``) for ``dataset`` (CPU, eval mode;
    shared: do not train it). Trained once on the train split (digits: seconds), then cached on
    disk (``classifier_cache_dir()/<kind>-<dataset>-<code hash>.pt``, read with
    ``weights_only=True``) and in-process."""
    if kind not in _EXTRA_JUDGES:
        raise GenlabError(f"unknown classifier judge {kind!r}; allowed: {', '.join(_EXTRA_JUDGES)}")
    _check_dataset(dataset)
    return _cached_judge(kind, dataset, str(_judge_cache_path(kind, dataset)))


def get_mlp_classifier(dataset: str = "digits") -> MLPDigitClassifier:
    """The trained second judge for ``dataset`` (seed 1; see :func:`get_judge_classifier`)."""
    return get_judge_classifier("mlp", dataset)


@torch.no_grad()
def _judge_outputs(kind: str, x: torch.Tensor, dataset: str, what: str) -> torch.Tensor:
    model = get_judge_classifier(kind, dataset)
    return model.features(x) if what == "features" else model(x)


def mlp_features(images, dataset: str = "digits") -> np.ndarray:
    """Penultimate features ``(N, 128)`` float64 of the second judge for images in [0, 1]."""
    _check_dataset(dataset)
    return _judge_outputs("mlp", _as_images(images, dataset), dataset, "features").double().numpy()


def heldout_features(images, dataset: str = "digits") -> np.ndarray:
    """Penultimate features ``(N, 96)`` float64 of the held-out third judge for images in [0, 1]."""
    _check_dataset(dataset)
    return _judge_outputs("heldout", _as_images(images, dataset), dataset, "features").double().numpy()


def judge_label_accuracy(kind: str, images, labels, dataset: str = "digits") -> float:
    """Share of images the extra judge ``kind`` calls the asked label: ``1/N sum_i [argmax g(x_i) == y_i]``."""
    _check_dataset(dataset)
    x = _as_images(images, dataset)
    y = torch.as_tensor(np.asarray(labels)).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise GenlabError(f"need one label per image (got {y.shape[0]} labels for {x.shape[0]} images)")
    if y.is_floating_point() and not torch.equal(y, y.round()):
        raise GenlabError(f"labels must be integers 0..{NUM_CLASSES - 1}")
    y = y.long()
    if int(y.min()) < 0 or int(y.max()) >= NUM_CLASSES:
        raise GenlabError(f"labels must be integers 0..{NUM_CLASSES - 1} (got {int(y.min())}..{int(y.max())})")
    predicted = _judge_outputs(kind, x, dataset, "logits").argmax(1)
    return float((predicted == y).double().mean())


def mlp_label_accuracy(images, labels, dataset: str = "digits") -> float:
    """:func:`judge_label_accuracy` of the second judge (``mlp``)."""
    return judge_label_accuracy("mlp", images, labels, dataset)


def judge_accuracy(kind: str, dataset: str = "digits") -> float:
    """Accuracy of the extra judge ``kind`` on the test split: ``mean_i [argmax g(x_i) == y_i]``."""
    images, labels = _load_split(dataset, "test")
    return judge_label_accuracy(kind, images, labels, dataset)


def mlp_accuracy(dataset: str = "digits") -> float:
    """Accuracy of the second judge on the test split."""
    return judge_accuracy("mlp", dataset)


# =========================================================================== KID


@dataclass(frozen=True)
class KID:
    """Kernel inception distance: ``mean`` of the subset MMD² estimates and its standard error."""

    mean: float
    std_error: float
    subsets: int
    subset_size: int


def polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """KID's kernel matrix ``k(x, y) = (x·y / d + 1)^3`` for rows of ``a (n, d)`` and ``b (m, d)``."""
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def mmd2_unbiased(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD² of two samples ``(m, d)`` and ``(n, d)`` under :func:`polynomial_kernel`.

    ``MMD²_u = 1/(m(m-1)) sum_{i!=j} k(a_i, a_j) + 1/(n(n-1)) sum_{i!=j} k(b_i, b_j)
    - 2/(mn) sum_{i,j} k(a_i, b_j)``: the diagonals are left out, so its expectation is the
    population MMD² (0 for identical distributions; single estimates may be negative).
    """
    m, n = a.shape[0], b.shape[0]
    k_aa, k_bb, k_ab = polynomial_kernel(a, a), polynomial_kernel(b, b), polynomial_kernel(a, b)
    term_a = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
    term_b = (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
    return float(term_a + term_b - 2.0 * k_ab.mean())


def kernel_inception_distance(features_a, features_b, subsets: int = 100, subset_size: int = 100,
                              seed: int = 0) -> KID:
    """KID (Bińkowski et al. 2018) between feature sets ``(N_a, F)`` and ``(N_b, F)``.

    For each of ``subsets`` rounds, ``subset_size`` rows are drawn without replacement from each
    set (generator seeded with ``seed``) and :func:`mmd2_unbiased` is computed; the result is the
    mean over rounds and its standard error ``std(ddof=1) / sqrt(subsets)``.
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise GenlabError(f"features must be (N, F) arrays with the same F (got {a.shape} and {b.shape})")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise GenlabError("features contain NaN or infinity")
    if subsets < 2:
        raise GenlabError(f"KID needs at least 2 subsets for a standard error (got {subsets})")
    if not 2 <= subset_size <= min(a.shape[0], b.shape[0]):
        raise GenlabError(f"subset_size must be 2..{min(a.shape[0], b.shape[0])} (the smaller set), got {subset_size}")
    rng = np.random.default_rng(seed)
    values = np.array([mmd2_unbiased(a[rng.choice(a.shape[0], subset_size, replace=False)],
                                     b[rng.choice(b.shape[0], subset_size, replace=False)])
                       for _ in range(subsets)])
    return KID(float(values.mean()), float(values.std(ddof=1) / np.sqrt(subsets)), subsets, subset_size)


# =========================================================================== judges


def judge_features(images, judge: str, dataset: str = "digits") -> np.ndarray:
    """Features of ``images`` in [0, 1] seen by ``judge``: ``cnn`` (genlab's classifier, F = 64),
    ``mlp`` (:class:`MLPDigitClassifier`, F = 128), ``heldout`` (:class:`HeldOutDigitClassifier`,
    F = 96) or ``pixels`` (the flattened image, F = S²)."""
    if judge == "cnn":
        return classifier_features(images, dataset)
    if judge == "mlp":
        return mlp_features(images, dataset)
    if judge == "heldout":
        return heldout_features(images, dataset)
    if judge == "pixels":
        _check_dataset(dataset)
        x = _as_images(images, dataset)
        return x.reshape(x.shape[0], -1).double().numpy()
    raise GenlabError(f"unknown judge {judge!r}; allowed: {', '.join(JUDGES)}")


@functools.lru_cache(maxsize=16)
def _reference_features(judge: str, dataset: str, split: str) -> np.ndarray:
    images, _ = _load_split(dataset, split)
    return judge_features(images, judge, dataset)


def reference_features(judge: str, dataset: str = "digits", split: str = REFERENCE_SPLIT) -> np.ndarray:
    """``judge``'s features of a real split (cached in-process; do not modify the array)."""
    if split not in ("test", "train"):
        raise GenlabError(f"unknown split {split!r}; allowed: test, train")
    return _reference_features(judge, dataset, split)


def judge_scores(images, judge: str, dataset: str = "digits", kid_subsets: int = 100, kid_subset_size: int = 100,
                 seed: int = 0) -> tuple[float, KID]:
    """``(FD, KID)`` of ``images`` against the test split in ``judge``'s feature space
    (:func:`genlab.metrics.frechet_distance` and :func:`kernel_inception_distance`)."""
    features = judge_features(images, judge, dataset)
    reference = reference_features(judge, dataset)
    return (frechet_distance(features, reference),
            kernel_inception_distance(features, reference, kid_subsets, kid_subset_size, seed))
