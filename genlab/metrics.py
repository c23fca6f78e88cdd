"""Evaluation metrics for generative models.

Image models (digits / MNIST / Fashion-MNIST)
---------------------------------------------
FID (Heusel et al. 2017) compares Inception-v3 features of real and generated images. Inception
is far too big (and trained on the wrong data) for 8x8 digits, so genlab uses a small CNN trained
on the data set itself (a "classifier FID", as in many MNIST papers) and computes the Frechet
distance between its penultimate-layer features:

* :func:`get_classifier` trains (deterministically, seed 0) or loads the cached
  :class:`DigitClassifier`; weights live in ``$GENLAB_CACHE_DIR/classifier/`` (default
  ``~/.cache/genlab/classifier/``), e.g. ``digits-<hash of the code version>.pt``.
* :func:`frechet_distance` is the FID formula on any two feature sets,
  :func:`classifier_frechet_distance` on two image sets.
* **Convention: generated images are always compared with the TEST split** (``reference="test"``):
  :func:`frechet_to_reference`. The classifier never saw the test split, and every model (GANs,
  VAEs, the GMM baseline) is scored against the same reference. Frechet distances are biased
  upwards for small sample sizes, so compare numbers computed with the same number of generated
  images; :func:`reference_size` (360 for digits) is the recommended number.
* Two reference points for a table: :func:`real_floor_frechet` (test vs train split: what real data
  scores, the best a model can hope for) and :func:`gmm_baseline_frechet` (a 10-component Gaussian
  mixture fit on the train split: a model should beat this).
* :func:`classifier_confidence` (mean max softmax: do the samples look like *some* digit?) and
  :func:`label_accuracy` (share classified as the asked label: for the conditional GAN).

2D toy GANs (GAN Lab / VEEGAN / PacGAN style)
---------------------------------------------
* :func:`mode_coverage`: modes covered and share of high-quality samples (within 3 std of a mode).
* :func:`grid_divergences`: KL and JS divergences between 2D histograms of real and fake points.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from genlab.errors import GenlabError

__all__ = [
    "CLASSIFIER_DATASETS",
    "REFERENCE_SPLIT",
    "DigitClassifier",
    "ModeCoverage",
    "classifier_accuracy",
    "classifier_cache_dir",
    "classifier_confidence",
    "classifier_features",
    "classifier_frechet_distance",
    "clear_metric_caches",
    "frechet_distance",
    "frechet_distance_from_stats",
    "frechet_to_reference",
    "get_classifier",
    "gmm_baseline_frechet",
    "grid_divergences",
    "label_accuracy",
    "mode_coverage",
    "real_floor_frechet",
    "reference_size",
    "train_classifier",
]

CLASSIFIER_DATASETS = ("digits", "mnist", "fashion-mnist")
REFERENCE_SPLIT = "test"  # generated images are always compared with the test split
NUM_CLASSES = 10
_IMAGE_SIDE = {"digits": 8, "mnist": 28, "fashion-mnist": 28}

# Bump when the architecture or the training recipe changes: the hash names the cache file,
# so old weights are never loaded into a new architecture.
_CLASSIFIER_VERSION = "3"
_TRAIN_RECIPE = {
    "digits": {"epochs": 20, "batch_size": 64, "lr": 3e-3, "weight_decay": 1e-4},
    "mnist": {"epochs": 3, "batch_size": 128, "lr": 2e-3, "weight_decay": 1e-4},
    "fashion-mnist": {"epochs": 5, "batch_size": 128, "lr": 2e-3, "weight_decay": 1e-4},
}
FEATURE_DIM = 64

_lock = threading.RLock()


# =========================================================================== the classifier


class DigitClassifier(nn.Module):
    """Small CNN for ``(N, 1, S, S)`` images in [0, 1] (S = 8 for digits, 28 for MNIST).

    conv3x3(1->24) - ReLU - [maxpool2 if S >= 16] - conv3x3(24->32) - ReLU - maxpool2 - adaptive
    avgpool 4x4 (identity for digits) - flatten(512) - linear(512->64) - ReLU (= :meth:`features`,
    F = 64) - linear(64->10) (logits).
    """

    def __init__(self, image_side: int = 8, num_classes: int = NUM_CLASSES, feature_dim: int = FEATURE_DIM):
        super().__init__()
        self.image_side = int(image_side)
        layers: list[nn.Module] = [nn.Conv2d(1, 24, 3, padding=1), nn.ReLU()]
        if self.image_side >= 16:
            layers.append(nn.MaxPool2d(2))
        layers += [nn.Conv2d(24, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(4),
                   nn.Flatten()]
        self.body = nn.Sequential(*layers)
        self.embed = nn.Sequential(nn.Linear(32 * 16, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(N, F)`` (F = 64) of images ``(N, 1, S, S)``."""
        return self.embed(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, 10)``."""
        return self.head(self.features(x))


def _check_dataset(dataset: str) -> str:
    if dataset not in CLASSIFIER_DATASETS:
        raise GenlabError(f"no classifier for data set {dataset!r}; allowed: {', '.join(CLASSIFIER_DATASETS)}")
    return dataset


@functools.lru_cache(maxsize=None)  # inspect.getsource ast-parses this module: once per process, not per FD call
def _code_hash(dataset: str) -> str:
    """Hash of everything that determines the trained weights: the version string, the training
    recipe and the source code of :class:`DigitClassifier` and :func:`train_classifier`."""
    import inspect

    try:
        source = inspect.getsource(DigitClassifier) + inspect.getsource(train_classifier)
    except (OSError, TypeError):  # no source available (frozen install): fall back to the version
        source = ""
    text = json.dumps({"v": _CLASSIFIER_VERSION, "recipe": _TRAIN_RECIPE[dataset], "seed": 0,
                       "feature_dim": FEATURE_DIM, "source": source}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def classifier_cache_dir() -> Path:
    """``$GENLAB_CACHE_DIR/classifier`` if the variable is set, else ``~/.cache/genlab/classifier``."""
    root = os.environ.get("GENLAB_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "genlab"
    return base / "classifier"


def _cache_path(dataset: str) -> Path:
    return classifier_cache_dir() / f"{dataset}-{_code_hash(dataset)}.pt"


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then ``os.replace`` (atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the cache is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def train_classifier(images: torch.Tensor, labels: torch.Tensor, *, epochs: int = 20, batch_size: int = 64,
                     lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0) -> DigitClassifier:
    """Train a :class:`DigitClassifier` on ``images (N, 1, S, S)`` in [0, 1] and ``labels (N,)``.

    Deterministic for a given seed on CPU: Adam on the cross-entropy
    ``L = -1/B sum_i log softmax(f(x_i))[y_i]``, minibatches shuffled by a seeded generator.
    Returns the model in eval mode on the CPU.
    """
    images = torch.as_tensor(images, dtype=torch.float32)
    labels = torch.as_tensor(labels, dtype=torch.long)
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[2] != images.shape[3]:
        raise GenlabError(f"training images must have shape (N, 1, S, S) (got {tuple(images.shape)})")
    if labels.shape != (images.shape[0],):
        raise GenlabError(f"labels must have shape ({images.shape[0]},) (got {tuple(labels.shape)})")
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # seeded initialisation without touching the caller's global RNG
        torch.manual_seed(seed)
        model = DigitClassifier(image_side=images.shape[-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    n = images.shape[0]
    steps_per_epoch = max(1, (n + batch_size - 1) // batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            loss = nn.functional.cross_entropy(model(images[idx]), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def _load_split(dataset: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    from genlab.data import load_image_dataset

    data = load_image_dataset(dataset, split)
    return data.images, data.labels


def _load_cached_weights(path: Path, side: int) -> DigitClassifier | None:
    """Weights from ``path``, or None if missing, corrupt or of another shape (then: retrain)."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = DigitClassifier(image_side=side)
        model.load_state_dict(state)
    except Exception:  # noqa: BLE001 - corrupt / truncated / incompatible file: retrain
        return None
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


@functools.lru_cache(maxsize=8)
def _cpu_classifier(dataset: str, cache_file: str) -> DigitClassifier:
    path = Path(cache_file)
    model = _load_cached_weights(path, _IMAGE_SIDE[dataset])
    if model is None:
        images, labels = _load_split(dataset, "train")
        model = train_classifier(images, labels, seed=0, **_TRAIN_RECIPE[dataset])
        try:
            _atomic_write(path, lambda tmp: torch.save(model.state_dict(), tmp))
            for stale in path.parent.glob(f"{dataset}-*.pt"):  # weights of older code versions
                if stale != path and len(stale.stem) == len(path.stem):
                    stale.unlink(missing_ok=True)
        except OSError:
            pass  # read-only home: keep the in-process copy only
    return model


@functools.lru_cache(maxsize=8)
def _device_classifier(dataset: str, cache_file: str, device: str) -> DigitClassifier:
    model = _cpu_classifier(dataset, cache_file)
    if device == "cpu":
        return model
    import copy

    return copy.deepcopy(model).to(device)


def get_classifier(dataset: str = "digits", device: str | torch.device = "cpu") -> DigitClassifier:
    """The trained classifier for ``dataset`` (``digits``, ``mnist`` or ``fashion-mnist``), in eval mode.

    Trained once with seed 0 on the data set's train split (digits: ``digits_split()``, a few
    seconds; MNIST: about a minute on a CPU), then cached on disk (``classifier_cache_dir()``,
    file ``<dataset>-<code hash>.pt``, written atomically, read with ``weights_only=True``; a
    corrupt file is retrained) and in-process. The returned module is shared: do not train it.
    """
    _check_dataset(dataset)
    if isinstance(device, str):
        from genlab.device import resolve_device

        device = resolve_device(device)
    device_name = str(device)
    with _lock:
        return _device_classifier(dataset, str(_cache_path(dataset)), device_name)


def _as_images(images, dataset: str, name: str = "images") -> torch.Tensor:
    """Validate and reshape to ``(N, 1, S, S)`` float32 in [0, 1]."""
    side = _IMAGE_SIDE[dataset]
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise GenlabError(f"{name} must be a numpy array or torch tensor (got {type(images).__name__})")
    x = images.detach().to("cpu", torch.float32)
    if x.ndim == 2 and x.shape[1] == side * side:
        x = x.reshape(-1, 1, side, side)
    elif x.ndim == 3 and tuple(x.shape[1:]) == (side, side):
        x = x.unsqueeze(1)
    if x.ndim != 4 or tuple(x.shape[1:]) != (1, side, side):
        raise GenlabError(f"{name} for {dataset} must have shape (N, 1, {side}, {side}) or (N, {side * side}) "
                          f"(got {tuple(images.shape)})")
    if x.shape[0] == 0:
        raise GenlabError(f"{name} is empty; need at least one image")
    if not torch.isfinite(x).all():
        raise GenlabError(f"{name} contains NaN or infinity; pixel values must be finite numbers in [0, 1]")
    low, high = float(x.min()), float(x.max())
    if low < -1e-3 or high > 1 + 1e-3:
        raise GenlabError(f"{name} pixel values must lie in [0, 1] (got min {low:.3g}, max {high:.3g}); "
                          "rescale images from [-1, 1] with (x + 1) / 2")
    return x.clamp_(0.0, 1.0)


@torch.no_grad()
def _run(model: DigitClassifier, x: torch.Tensor, fn: str, batch_size: int = 1024) -> torch.Tensor:
    device = next(model.parameters()).device
    outputs = []
    for start in range(0, x.shape[0], batch_size):
        batch = x[start:start + batch_size].to(device)
        out = model.features(batch) if fn == "features" else model(batch)
        outputs.append(out.float().cpu())
    return torch.cat(outputs)


def classifier_features(images, dataset: str = "digits", device: str | torch.device = "cpu") -> np.ndarray:
    """Penultimate classifier features ``(N, 64)`` float64 of ``images`` ((N,1,S,S) or (N,S*S) in [0, 1])."""
    _check_dataset(dataset)
    x = _as_images(images, dataset)
    return _run(get_classifier(dataset, device), x, "features").double().numpy()


def classifier_accuracy(dataset: str = "digits") -> float:
    """Accuracy of the cached classifier on the test split: ``mean_i [argmax f(x_i) == y_i]``."""
    _check_dataset(dataset)
    return _cached_accuracy(dataset, str(_cache_path(dataset)))


@functools.lru_cache(maxsize=8)
def _cached_accuracy(dataset: str, cache_file: str) -> float:
    images, labels = _load_split(dataset, "test")
    logits = _run(get_classifier(dataset), images, "logits")
    return float((logits.argmax(1) == labels).double().mean())


def classifier_confidence(images, dataset: str = "digits") -> float:
    """Mean maximum softmax probability ``1/N sum_i max_c softmax(f(x_i))_c`` in [0.1, 1].

    High values mean the classifier is sure each image is *some* digit (a proxy for sample quality).
    """
    _check_dataset(dataset)
    x = _as_images(images, dataset)
    probs = torch.softmax(_run(get_classifier(dataset), x, "logits"), dim=1)
    return float(probs.max(dim=1).values.double().mean())


def label_accuracy(images, labels, dataset: str = "digits") -> float:
    """Share of images classified as the asked label: ``1/N sum_i [argmax f(x_i) == y_i]``.

    For a conditional GAN: ``labels`` are the class labels the images were generated for.
    """
    _check_dataset(dataset)
    x = _as_images(images, dataset)
    y = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise GenlabError(f"need one label per image (got {y.shape[0]} labels for {x.shape[0]} images)")
    if y.is_floating_point():
        if not torch.equal(y, y.round()):
            raise GenlabError("labels must be integers 0..9")
        y = y.long()
    y = y.long().cpu()
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= NUM_CLASSES):
        raise GenlabError(f"labels must be integers 0..{NUM_CLASSES - 1} (got {int(y.min())}..{int(y.max())})")
    predicted = _run(get_classifier(dataset), x, "logits").argmax(1)
    return float((predicted == y).double().mean())


# =========================================================================== Frechet distance


def _as_features(features, name: str) -> np.ndarray:
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().double().numpy()
    try:
        array = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError):
        raise GenlabError(f"{name} must be a numeric array of shape (N, F)") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise GenlabError(f"{name} must have shape (N, F) (got {array.shape})")
    if array.shape[0] < 2:
        raise GenlabError(f"{name} needs at least 2 rows to estimate a covariance (got {array.shape[0]})")
    if not np.isfinite(array).all():
        raise GenlabError(f"{name} contains NaN or infinity")
    return array


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a (numerically) PSD matrix; tiny negative eigenvalues clipped to 0."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_stats(mu_a, cov_a, mu_b, cov_b) -> float:
    """Frechet (2-Wasserstein) distance between ``N(mu_a, cov_a)`` and ``N(mu_b, cov_b)``.

    ``FD = ||mu_a - mu_b||^2 + Tr(cov_a + cov_b - 2 (cov_a cov_b)^{1/2})``.

    Stable route: ``Tr((cov_a cov_b)^{1/2}) = Tr((A cov_b A)^{1/2})`` with ``A = cov_a^{1/2}``;
    ``A cov_b A`` is symmetric PSD, so its square-root trace is the sum of the square roots of its
    eigenvalues (``eigh``, tiny negatives clipped to 0). The result is clipped at 0.
    """
    mu_a, mu_b = np.atleast_1d(np.asarray(mu_a, np.float64)), np.atleast_1d(np.asarray(mu_b, np.float64))
    cov_a, cov_b = np.atleast_2d(np.asarray(cov_a, np.float64)), np.atleast_2d(np.asarray(cov_b, np.float64))
    d = mu_a.shape[0]
    if mu_b.shape != (d,) or cov_a.shape != (d, d) or cov_b.shape != (d, d):
        raise GenlabError(f"mean/covariance shapes do not match: {mu_a.shape}, {cov_a.shape}, {mu_b.shape}, {cov_b.shape}")
    root_a = _sqrt_psd(cov_a)
    middle = root_a @ cov_b @ root_a
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())
    diff = mu_a - mu_b
    value = float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt)
    return max(value, 0.0)


def _stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(features.shape[1], features.shape[1])


def frechet_distance(features_a, features_b) -> float:
    """Frechet distance between two feature sets ``(N_a, F)`` and ``(N_b, F)`` (FID's formula).

    Fits a Gaussian to each set (sample mean ``mu``, unbiased covariance ``Sigma``) and returns
    ``FD = ||mu_a - mu_b||^2 + Tr(Sigma_a + Sigma_b - 2 (Sigma_a Sigma_b)^{1/2})``
    (Heusel et al. 2017), computed stably by :func:`frechet_distance_from_stats`. Symmetric,
    0 for identical sets, >= 0. Accepts numpy arrays or torch tensors.
    """
    a = _as_features(features_a, "features_a")
    b = _as_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise GenlabError(f"both feature sets need the same number of columns (got {a.shape[1]} and {b.shape[1]})")
    return frechet_distance_from_stats(*_stats(a), *_stats(b))


def classifier_frechet_distance(images_a, images_b, dataset: str = "digits") -> float:
    """Frechet distance between the classifier features of two image sets.

    ``FD(phi(images_a), phi(images_b))`` with ``phi`` = :meth:`DigitClassifier.features` of
    :func:`get_classifier` (``dataset``); images ``(N, 1, S, S)`` or ``(N, S*S)`` in [0, 1].
    """
    return frechet_distance(classifier_features(images_a, dataset), classifier_features(images_b, dataset))


@functools.lru_cache(maxsize=16)
def _split_stats(dataset: str, split: str, cache_file: str) -> tuple[np.ndarray, np.ndarray, int]:
    images, _ = _load_split(dataset, split)
    features = classifier_features(images, dataset)
    mu, cov = _stats(features)
    return mu, cov, features.shape[0]


def reference_size(dataset: str = "digits") -> int:
    """Number of images in the reference (test) split: the recommended number of samples to score."""
    _check_dataset(dataset)
    return _split_stats(dataset, REFERENCE_SPLIT, str(_cache_path(dataset)))[2]


def frechet_to_reference(images, dataset: str = "digits", reference: str = REFERENCE_SPLIT) -> float:
    """Classifier Frechet distance of generated ``images`` to the reference split (the convention: ``"test"``).

    ``FD(phi(images), phi(test split))``; the test-split statistics are cached. Use
    ``reference_size(dataset)`` images (360 for digits) so that numbers are comparable with
    :func:`real_floor_frechet` and :func:`gmm_baseline_frechet`.
    """
    _check_dataset(dataset)
    if reference not in ("test", "train"):
        raise GenlabError(f"unknown reference split {reference!r}; allowed: test (the convention), train")
    features = classifier_features(images, dataset)
    if features.shape[0] < 2:
        raise GenlabError("need at least 2 images to estimate a Frechet distance")
    mu_r, cov_r, _ = _split_stats(dataset, reference, str(_cache_path(dataset)))
    return frechet_distance_from_stats(*_stats(features), mu_r, cov_r)


def real_floor_frechet(dataset: str = "digits") -> float:
    """``FD(phi(test split), phi(train split))``: the score of real data, a floor for any model."""
    _check_dataset(dataset)
    key = str(_cache_path(dataset))
    mu_t, cov_t, _ = _split_stats(dataset, "test", key)
    mu_r, cov_r, _ = _split_stats(dataset, "train", key)
    return frechet_distance_from_stats(mu_t, cov_t, mu_r, cov_r)


def _baseline_file() -> Path:
    return classifier_cache_dir() / "baselines.json"


def gmm_baseline_frechet(dataset: str = "digits", n_components: int = 10, seed: int = 0,
                         n_samples: int | None = None) -> float:
    """Classifier FD of a Gaussian-mixture baseline to the test split (the reference).

    A ``sklearn.mixture.GaussianMixture(n_components, covariance_type="full", reg_covar=1e-3,
    random_state=seed)`` is fit on the flattened train split (MNIST: a random 10 000-image
    subset), ``n_samples`` images are sampled (default ``reference_size(dataset)``, 360 for
    digits), clipped to [0, 1] and scored with :func:`frechet_to_reference`. A generative model
    worth its training time should score below this. The number is cached in-process and on disk
    (``classifier_cache_dir()/baselines.json``).
    """
    _check_dataset(dataset)
    n_components = int(_check_int("n_components", n_components, 1, 100))
    if n_samples is None:
        n_samples = reference_size(dataset)
    n_samples = int(_check_int("n_samples", n_samples, 2, 100_000))
    return _gmm_baseline(dataset, n_components, int(seed), n_samples, str(_cache_path(dataset)))


def _check_int(name: str, value, low: int, high: int) -> int:
    """``int(value)`` if it is an integer in ``[low, high]``, else GenlabError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) and not (
            isinstance(value, float) and value.is_integer()):
        raise GenlabError(f"{name} must be an integer from {low} to {high} (got {value!r})")
    if not low <= int(value) <= high:
        raise GenlabError(f"{name} must be an integer from {low} to {high} (got {value})")
    return int(value)


@functools.lru_cache(maxsize=32)
def _gmm_baseline(dataset: str, n_components: int, seed: int, n_samples: int, cache_file: str) -> float:
    key = f"gmm:{dataset}:{_code_hash(dataset)}:k={n_components}:seed={seed}:n={n_samples}"
    path = _baseline_file()
    with _lock:
        try:
            stored = json.loads(path.read_text())
            if isinstance(stored, dict) and isinstance(stored.get(key), (int, float)):
                return float(stored[key])
        except (OSError, ValueError):
            stored = {}
    from sklearn.mixture import GaussianMixture

    images, _ = _load_split(dataset, "train")
    x = images.reshape(images.shape[0], -1).double().numpy()
    if x.shape[0] > 10_000:
        x = x[np.random.default_rng(seed).choice(x.shape[0], 10_000, replace=False)]
    gmm = GaussianMixture(n_components=n_components, covariance_type="full", reg_covar=1e-3, random_state=seed)
    gmm.fit(x)
    samples, _ = gmm.sample(n_samples)
    samples = np.random.default_rng(seed).permutation(samples)  # sklearn returns them grouped by component
    side = _IMAGE_SIDE[dataset]
    value = frechet_to_reference(np.clip(samples, 0.0, 1.0).astype(np.float32).reshape(-1, 1, side, side), dataset)
    with _lock:
        try:
            try:
                stored = json.loads(path.read_text())
                if not isinstance(stored, dict):
                    stored = {}
            except (OSError, ValueError):
                stored = {}
            stored[key] = value
            _atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(stored, indent=1, sort_keys=True)))
        except OSError:
            pass
    return value


def clear_metric_caches() -> None:
    """Forget the in-process classifier / statistics / baseline caches (the disk cache stays)."""
    for cached in (_cpu_classifier, _device_classifier, _cached_accuracy, _split_stats, _gmm_baseline):
        cached.cache_clear()


# =========================================================================== 2D toy metrics


@dataclass
class ModeCoverage:
    """Result of :func:`mode_coverage`.

    ``modes_covered``: number of modes holding at least the (scaled) minimum count of
    high-quality samples; ``high_quality_share``: share of samples within ``threshold_std`` std of
    their nearest mode centre; ``counts``: high-quality samples per mode ``(M,)``;
    ``num_modes``: M; ``min_count``: the scaled threshold that was used.
    """

    modes_covered: int
    high_quality_share: float
    counts: np.ndarray
    num_modes: int = 0
    min_count: float = 0.0


def _as_points(points, name: str) -> np.ndarray:
    if isinstance(points, torch.Tensor):
        points = points.detach().cpu().numpy()
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise GenlabError(f"{name} must be a numeric array of shape (N, 2)") from None
    if array.ndim != 2 or array.shape[1] != 2:
        raise GenlabError(f"{name} must have shape (N, 2) (got {array.shape})")
    if array.shape[0] == 0:
        raise GenlabError(f"{name} is empty; need at least one point")
    if not np.isfinite(array).all():
        raise GenlabError(f"{name} contains NaN or infinity; points must be finite")
    return array


def mode_coverage(samples, modes, std: float, threshold_std: float = 3.0, min_count: float = 20.0,
                  per_samples: int = 2500) -> ModeCoverage:
    """Mode coverage of 2D samples on a mixture of Gaussians (VEEGAN / PacGAN protocol).

    Each sample is assigned to its nearest mode centre ``m_j``; it is *high quality* when
    ``||x - m_j|| <= threshold_std * std``. ``counts[j]`` = number of high-quality samples of mode
    ``j``. A mode is *covered* when ``counts[j] >= min_count * N / per_samples`` (20 of 2500 samples
    by default, scaled with the number of samples N) and ``counts[j] >= 1``.

    Args:
        samples: generated points ``(N, 2)``.
        modes: mode centres ``(M, 2)``, e.g. ``genlab.data.toy_modes("ring8")``.
        std: standard deviation of each mode, e.g. ``genlab.data.toy_std("ring8")``.
        threshold_std: high-quality radius in units of ``std``.
        min_count: samples a mode needs per ``per_samples`` samples to count as covered.
    """
    x = _as_points(samples, "samples")
    centres = _as_points(modes, "modes")
    from genlab.errors import check_range

    check_range("std", std, 0, None, low_inclusive=False)
    check_range("threshold_std", threshold_std, 0, None, low_inclusive=False)
    check_range("min_count", min_count, 0, None)
    check_range("per_samples", per_samples, 0, None, low_inclusive=False)
    distances = np.sqrt(((x[:, None, :] - centres[None, :, :]) ** 2).sum(-1))  # (N, M)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(x.shape[0]), nearest] <= threshold_std * float(std)
    counts = np.bincount(nearest[good], minlength=centres.shape[0])
    threshold = float(min_count) * x.shape[0] / float(per_samples)
    covered = int(((counts >= threshold) & (counts >= 1)).sum())
    return ModeCoverage(covered, float(good.mean()), counts, int(centres.shape[0]), threshold)


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """``KL(p || q) = sum_i p_i ln(p_i / q_i)`` in nats, via ``genlab.divergences.kl_discrete``."""
    from genlab.divergences import kl_discrete

    return float(kl_discrete(p, q))


def grid_divergences(real, fake, bins: int = 30, extent: tuple[float, float, float, float] | None = None,
                     eps: float = 1e-6) -> dict[str, float]:
    """KL and JS divergences (nats) between 2D histograms of real and fake points (GAN Lab style).

    Exactly how:

    1. Grid: ``bins x bins`` equal cells over ``extent = (x_min, x_max, y_min, y_max)``; default:
       the bounding box of both point sets together, widened by 5% on each side. Points outside a
       given extent are clipped into the border cells, so every point counts.
    2. ``p_i = (real points in cell i) / N_real``, ``q_i = (fake points in cell i) / M_fake``.
    3. Smoothing: cells with probability 0 get ``eps`` (default 1e-6), then each histogram is
       renormalised to sum to 1. This keeps KL finite when one set leaves a cell empty.
    4. ``kl_real_fake = KL(p || q) = sum_i p_i ln(p_i / q_i)``, ``kl_fake_real = KL(q || p)``,
       ``js = 1/2 KL(p || m) + 1/2 KL(q || m)`` with ``m = (p + q) / 2`` (0 <= js <= ln 2);
       all three through ``genlab.divergences.kl_discrete``.

    KL(p_real || p_fake) is large when the generator misses real modes (mode dropping);
    KL(p_fake || p_real) is large when it puts mass where there is no data.
    """
    p_points = _as_points(real, "real")
    q_points = _as_points(fake, "fake")
    bins = _check_int("bins", bins, 2, 500)
    from genlab.errors import check_range

    check_range("eps", eps, 0, 0.01, low_inclusive=False)
    if extent is None:
        both = np.concatenate([p_points, q_points])
        low, high = both.min(axis=0), both.max(axis=0)
        pad = np.maximum((high - low) * 0.05, 1e-6)
        x_min, y_min = low - pad
        x_max, y_max = high + pad
    else:
        try:
            x_min, x_max, y_min, y_max = (float(v) for v in extent)
        except (TypeError, ValueError):
            raise GenlabError("extent must be four numbers (x_min, x_max, y_min, y_max)") from None
        if not (np.isfinite([x_min, x_max, y_min, y_max]).all() and x_min < x_max and y_min < y_max):
            raise GenlabError(f"extent must be finite with x_min < x_max and y_min < y_max (got {tuple(extent)})")

    def histogram(points: np.ndarray) -> np.ndarray:
        clipped = np.column_stack([np.clip(points[:, 0], x_min, x_max), np.clip(points[:, 1], y_min, y_max)])
        counts, _, _ = np.histogram2d(clipped[:, 0], clipped[:, 1], bins=bins, range=[[x_min, x_max], [y_min, y_max]])
        prob = counts.ravel() / counts.sum()
        prob[prob == 0] = eps
        return prob / prob.sum()

    p, q = histogram(p_points), histogram(q_points)
    m = 0.5 * (p + q)
    js = 0.5 * _kl(p, m) + 0.5 * _kl(q, m)
    return {"kl_real_fake": _kl(p, q), "kl_fake_real": _kl(q, p), "js": float(min(max(js, 0.0), np.log(2)))}
