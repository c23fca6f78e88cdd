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
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genlab.classifier import (  # noqa: F401 - the classifier's public names stay importable from here
    CLASSIFIER_DATASETS,
    FEATURE_DIM,
    NUM_CLASSES,
    REFERENCE_SPLIT,
    _IMAGE_SIDE,
    _TRAIN_RECIPE,
    DigitClassifier,
    _cache_path,
    _cached_accuracy,
    _check_dataset,
    _code_hash,
    _cpu_classifier,
    _device_classifier,
    _load_split,
    _lock,
    classifier_accuracy,
    classifier_cache_dir,
    classifier_confidence,
    classifier_features,
    get_classifier,
    label_accuracy,
    train_classifier,
)
from genlab.atomic_file import atomic_write
from genlab.errors import GenlabError, check_number

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
    """``int(value)`` if it is a whole number in ``[low, high]``, else GenlabError."""
    return check_number(name, value, lo=low, hi=high, integer=True)


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
            atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(stored, indent=1, sort_keys=True)),
                         mode=0o644, make_folder=True)
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
