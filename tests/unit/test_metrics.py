"""Unit tests for genlab.metrics: Frechet distance, the cached digit classifier, 2D GAN metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genlab import metrics
from genlab.data import digits_split, sample_toy, toy_modes, toy_std
from genlab.errors import GenlabError

torch.set_num_threads(1)


# --------------------------------------------------------------------------- Frechet distance


def test_frechet_identical_sets_is_zero():
    x = np.random.default_rng(0).normal(size=(200, 5))
    assert metrics.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)


def test_frechet_closed_form_diagonal_gaussians():
    # For commuting (diagonal) covariances: FD = ||mu_a - mu_b||^2 + sum_i (sigma_a,i - sigma_b,i)^2
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    sa, sb = np.array([1.0, 2.0, 0.5]), np.array([2.0, 1.0, 0.5])
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((sa - sb) ** 2)  # 5 + 2 = 7
    assert metrics.frechet_distance_from_stats(mu_a, np.diag(sa**2), mu_b, np.diag(sb**2)) == pytest.approx(expected)


def test_frechet_closed_form_non_commuting_covariances():
    # 1D-style check in 2D with a rotated covariance: compare with the textbook formula via eig.
    from scipy.linalg import sqrtm

    cov_a = np.array([[2.0, 0.3], [0.3, 1.0]])
    cov_b = np.array([[1.0, -0.4], [-0.4, 3.0]])
    mu_a, mu_b = np.zeros(2), np.array([1.0, -1.0])
    expected = 2.0 + np.trace(cov_a + cov_b - 2 * np.real(sqrtm(cov_a @ cov_b)))
    assert metrics.frechet_distance_from_stats(mu_a, cov_a, mu_b, cov_b) == pytest.approx(expected, rel=1e-9)


def test_frechet_samples_approach_closed_form():
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, size=(20_000, 2))
    b = rng.normal(0.0, 1.0, size=(20_000, 2)) * np.array([2.0, 1.0]) + np.array([3.0, 0.0])
    # ||(3,0)||^2 + (1-2)^2 + (1-1)^2 = 10
    assert metrics.frechet_distance(a, b) == pytest.approx(10.0, rel=0.03)


def test_frechet_symmetric_and_torch_input():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(100, 8)), rng.normal(0.5, 2.0, size=(150, 8))
    ab, ba = metrics.frechet_distance(a, b), metrics.frechet_distance(b, a)
    assert ab > 0
    assert ab == pytest.approx(ba, rel=1e-8)
    assert metrics.frechet_distance(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(ab)


def test_frechet_singular_covariance_is_finite_and_non_negative():
    # rank-deficient features (fewer samples than dimensions, a dead ReLU column)
    rng = np.random.default_rng(3)
    a = rng.normal(size=(10, 30))
    a[:, 0] = 0.0
    b = rng.normal(size=(12, 30))
    value = metrics.frechet_distance(a, b)
    assert math.isfinite(value) and value >= 0


@pytest.mark.parametrize("a,b,match", [
    (np.zeros((1, 3)), np.zeros((5, 3)), "at least 2 rows"),
    (np.zeros((5, 3)), np.zeros((5, 4)), "same number of columns"),
    (np.full((5, 3), np.nan), np.zeros((5, 3)), "NaN"),
    (np.zeros((2, 2, 2)), np.zeros((5, 3)), "shape"),
])
def test_frechet_bad_input(a, b, match):
    with pytest.raises(GenlabError, match=match):
        metrics.frechet_distance(a, b)


# --------------------------------------------------------------------------- the classifier


@pytest.fixture(scope="module")
def digits():
    return digits_split()


def test_classifier_accuracy_at_least_97_percent():
    acc = metrics.classifier_accuracy("digits")
    assert acc >= 0.97


def test_classifier_api_shapes(digits):
    x_train, x_test, _, _ = digits
    model = metrics.get_classifier("digits")
    assert model is metrics.get_classifier("digits")  # in-process cache
    x = torch.from_numpy(x_test[:5]).reshape(-1, 1, 8, 8)
    assert model(x).shape == (5, 10)
    assert model.features(x).shape == (5, metrics.FEATURE_DIM)
    assert not any(p.requires_grad for p in model.parameters())
    feats = metrics.classifier_features(x_test[:5], "digits")  # (N, 64) flat input works too
    assert feats.shape == (5, metrics.FEATURE_DIM)


def test_classifier_frechet_real_vs_noise(digits):
    x_train, x_test, _, _ = digits
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, 1, size=(360, 64)).astype(np.float32)
    real = metrics.classifier_frechet_distance(x_test, x_train, "digits")
    assert real == pytest.approx(metrics.real_floor_frechet("digits"))
    assert metrics.classifier_frechet_distance(x_test, x_test) == pytest.approx(0.0, abs=1e-6)
    assert metrics.frechet_to_reference(noise, "digits") > 5 * real
    assert metrics.frechet_to_reference(x_test, "digits") == pytest.approx(0.0, abs=1e-6)  # reference = test
    assert metrics.reference_size("digits") == 360


def test_confidence_and_label_accuracy(digits):
    _, x_test, _, y_test = digits
    confidence = metrics.classifier_confidence(x_test, "digits")
    assert 0.9 < confidence <= 1.0
    assert metrics.label_accuracy(x_test, y_test, "digits") == pytest.approx(metrics.classifier_accuracy("digits"))
    assert metrics.label_accuracy(x_test, (y_test + 1) % 10, "digits") < 0.1
    blank = np.zeros((10, 1, 8, 8), np.float32)
    assert metrics.classifier_confidence(blank) >= 0.1


def test_gmm_baseline_between_floor_and_noise():
    floor = metrics.real_floor_frechet("digits")
    gmm = metrics.gmm_baseline_frechet("digits")
    assert gmm > floor
    assert gmm == metrics.gmm_baseline_frechet("digits")  # cached, deterministic


@pytest.mark.parametrize("images,match", [
    (np.zeros((4, 1, 28, 28)), "shape"),
    (np.full((4, 64), 2.0), r"\[0, 1\]"),
    (np.full((4, 64), np.nan), "NaN"),
    (np.zeros((0, 64)), "empty"),
    ("abc", "numpy array"),
])
def test_classifier_bad_images(images, match):
    with pytest.raises(GenlabError, match=match):
        metrics.classifier_confidence(images, "digits")


def test_bad_dataset_and_labels(digits):
    _, x_test, _, y_test = digits
    with pytest.raises(GenlabError, match="allowed: digits"):
        metrics.get_classifier("cifar10")
    with pytest.raises(GenlabError, match="one label per image"):
        metrics.label_accuracy(x_test[:5], y_test[:4])
    with pytest.raises(GenlabError, match="0..9"):
        metrics.label_accuracy(x_test[:2], [3, 10])
    with pytest.raises(GenlabError, match="reference"):
        metrics.frechet_to_reference(x_test, reference="validation")
    with pytest.raises(GenlabError, match="n_components"):
        metrics.gmm_baseline_frechet(n_components=0)


def test_train_classifier_on_synthetic_larger_images():
    # a tiny MNIST-like problem (16x16 takes the same pooled branch as 28x28): class = bright quadrant
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=48)
    images = rng.uniform(0, 0.1, size=(48, 1, 16, 16)).astype(np.float32)
    for i, label in enumerate(labels):
        r, c = divmod(int(label), 2)
        images[i, 0, r * 8:(r + 1) * 8, c * 8:(c + 1) * 8] += 0.8
    model = metrics.train_classifier(torch.from_numpy(images), torch.from_numpy(labels), epochs=6, batch_size=16,
                                     lr=5e-3)
    with torch.no_grad():
        predicted = model(torch.from_numpy(images)).argmax(1).numpy()
    assert (predicted == labels).mean() > 0.9
    assert model.features(torch.from_numpy(images[:2])).shape == (2, metrics.FEATURE_DIM)
    assert metrics.DigitClassifier(image_side=28)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_classifier_disk_cache_roundtrip_and_corruption(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(metrics._TRAIN_RECIPE, "digits",
                        {"epochs": 1, "batch_size": 256, "lr": 3e-3, "weight_decay": 1e-4})
    stale = tmp_path / "classifier" / "digits-000000000000.pt"  # weights of an older code version
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    try:
        first = metrics.get_classifier("digits")
        assert not stale.exists()
        files = list((tmp_path / "classifier").glob("digits-*.pt"))
        assert len(files) == 1 and files[0] == metrics._cache_path("digits")
        metrics.clear_metric_caches()
        loaded = metrics.get_classifier("digits")  # from disk
        assert loaded is not first
        for a, b in zip(first.state_dict().values(), loaded.state_dict().values()):
            assert torch.equal(a, b)
        files[0].write_bytes(b"not a torch file")  # corrupt: retrain (deterministic: same weights)
        metrics.clear_metric_caches()
        retrained = metrics.get_classifier("digits")
        for a, b in zip(first.state_dict().values(), retrained.state_dict().values()):
            assert torch.equal(a, b)
        torch.load(files[0], weights_only=True)  # rewritten, valid again
        assert not list((tmp_path / "classifier").glob("*.tmp"))
    finally:
        metrics.clear_metric_caches()  # the real classifier is reloaded from the real cache


# --------------------------------------------------------------------------- 2D metrics


def test_mode_coverage_perfect_samples():
    samples = sample_toy("ring8", 2500, seed=0)
    result = metrics.mode_coverage(samples, toy_modes("ring8"), toy_std("ring8"))
    assert result.modes_covered == 8
    assert result.high_quality_share > 0.98
    assert result.counts.shape == (8,) and result.counts.sum() <= 2500
    exact = metrics.mode_coverage(np.repeat(toy_modes("ring8"), 10, axis=0), toy_modes("ring8"), 0.02)
    assert exact.modes_covered == 8 and exact.high_quality_share == 1.0


def test_mode_coverage_collapsed_samples():
    modes = toy_modes("grid25")
    rng = np.random.default_rng(0)
    samples = modes[7] + 0.01 * rng.standard_normal((2500, 2))
    result = metrics.mode_coverage(samples, modes, toy_std("grid25"))
    assert result.modes_covered == 1
    assert result.counts[7] == 2500
    assert result.high_quality_share == 1.0


def test_mode_coverage_threshold_scales_with_n():
    modes = toy_modes("ring8")
    # 100 samples: threshold 20/2500*100 = 0.8 -> a mode with one sample is covered
    samples = np.concatenate([np.repeat(modes[:1], 99, axis=0), modes[1:2]])
    result = metrics.mode_coverage(samples, modes, 0.02)
    assert result.min_count == pytest.approx(0.8)
    assert result.modes_covered == 2
    far = metrics.mode_coverage(np.full((50, 2), 100.0), modes, 0.02)
    assert far.modes_covered == 0 and far.high_quality_share == 0.0


def test_mode_coverage_bad_input():
    with pytest.raises(GenlabError, match=r"\(N, 2\)"):
        metrics.mode_coverage(np.zeros((5, 3)), toy_modes("ring8"), 0.02)
    with pytest.raises(GenlabError, match="std"):
        metrics.mode_coverage(np.zeros((5, 2)), toy_modes("ring8"), 0.0)


def test_grid_divergences_identical_is_zero():
    points = sample_toy("two-moons", 1000, seed=0)
    result = metrics.grid_divergences(points, points.copy())
    assert set(result) == {"kl_real_fake", "kl_fake_real", "js"}
    for value in result.values():
        assert value == pytest.approx(0.0, abs=1e-12)


def test_grid_divergences_positive_and_bounded():
    real = sample_toy("ring8", 2000, seed=0)
    collapsed = toy_modes("ring8")[0] + 0.02 * np.random.default_rng(0).standard_normal((2000, 2))
    result = metrics.grid_divergences(real, collapsed, bins=20)
    assert result["kl_real_fake"] > result["kl_fake_real"] > 0  # mode dropping hurts KL(real||fake) most
    assert 0 < result["js"] <= math.log(2)
    disjoint = metrics.grid_divergences(np.zeros((50, 2)), np.ones((50, 2)), bins=10)
    assert disjoint["js"] == pytest.approx(math.log(2), rel=1e-3)
    # closer distributions have a smaller JS
    near = metrics.grid_divergences(real, sample_toy("ring8", 2000, seed=1), bins=20)
    assert near["js"] < result["js"]


def test_grid_divergences_extent_clips_outliers():
    real = np.array([[0.0, 0.0], [1.0, 1.0]])
    fake = np.array([[0.0, 0.0], [50.0, 50.0]])  # the outlier lands in the corner cell (1, 1)
    result = metrics.grid_divergences(real, fake, bins=2, extent=(-0.5, 1.5, -0.5, 1.5))
    assert result["js"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("kwargs,match", [
    ({"bins": 1}, "bins"),
    ({"bins": 2.5}, "bins"),
    ({"eps": 0}, "eps"),
    ({"extent": (1, 0, 0, 1)}, "extent"),
    ({"extent": (0, 1)}, "extent"),
])
def test_grid_divergences_bad_input(kwargs, match):
    with pytest.raises(GenlabError, match=match):
        metrics.grid_divergences(np.zeros((5, 2)), np.ones((5, 2)), **kwargs)
