"""Unit tests for genlab.judges: KID (unbiased MMD² with the cubic kernel), the second digit
classifier (an MLP) and the judge feature spaces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab import judges
from genlab.errors import GenlabError

torch.set_num_threads(1)


# --------------------------------------------------------------------------- KID


def _mmd2_by_loops(a: np.ndarray, b: np.ndarray) -> float:
    """The unbiased estimator written out term by term (the reference for the vectorised one)."""
    d = a.shape[1]

    def k(x, y):
        return (float(x @ y) / d + 1.0) ** 3

    m, n = len(a), len(b)
    xx = sum(k(a[i], a[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(b[i], b[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(a[i], b[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_polynomial_kernel_formula():
    a = np.array([[1.0, 2.0], [0.0, -1.0]])
    b = np.array([[3.0, 1.0]])
    # (x.y/2 + 1)^3: (5/2 + 1)^3 = 42.875, (-1/2 + 1)^3 = 0.125
    assert judges.polynomial_kernel(a, b) == pytest.approx(np.array([[42.875], [0.125]]))


def test_mmd2_unbiased_matches_the_formula_term_by_term():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 3)), rng.normal(0.5, 1.5, size=(5, 3))
    assert judges.mmd2_unbiased(a, b) == pytest.approx(_mmd2_by_loops(a, b), rel=1e-10)


def test_kid_with_the_whole_set_as_subset_is_the_plain_estimate():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    kid = judges.kernel_inception_distance(a, b, subsets=3, subset_size=6)
    assert kid.mean == pytest.approx(_mmd2_by_loops(a, b), rel=1e-10)
    assert kid.std_error == pytest.approx(0.0, abs=1e-9)   # every subset is the whole set


def test_kid_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    same = judges.kernel_inception_distance(a, b, subsets=50, subset_size=100)
    shifted = judges.kernel_inception_distance(a, b + 1.0, subsets=50, subset_size=100)
    assert abs(same.mean) < 4 * same.std_error + 1e-3        # unbiased: no systematic offset
    assert shifted.mean > 10 * shifted.std_error > 0
    assert shifted.mean > 100 * abs(same.mean)


def test_kid_unbiased_on_average():
    # The biased V-statistic (diagonals kept) is > 0 for identical distributions; the unbiased one averages to 0.
    rng = np.random.default_rng(3)
    values = [judges.mmd2_unbiased(rng.normal(size=(20, 3)), rng.normal(size=(20, 3))) for _ in range(400)]
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values))


def test_kid_seeded_and_checked():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(50, 3)), rng.normal(size=(60, 3))
    assert judges.kernel_inception_distance(a, b, 10, 20, seed=5) == judges.kernel_inception_distance(a, b, 10, 20, seed=5)
    with pytest.raises(GenlabError, match="subset_size must be 2..50"):
        judges.kernel_inception_distance(a, b, 10, 51)
    with pytest.raises(GenlabError, match="at least 2 subsets"):
        judges.kernel_inception_distance(a, b, 1, 20)
    with pytest.raises(GenlabError, match="same F"):
        judges.kernel_inception_distance(a, b[:, :2], 10, 20)
    with pytest.raises(GenlabError, match="NaN"):
        judges.kernel_inception_distance(np.full((50, 3), np.nan), b, 10, 20)


# --------------------------------------------------------------------------- the second classifier


def _two_halves() -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes that differ by which half of the 8x8 image is lit: learnable in a few epochs."""
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(64, 1, 8, 8, generator=gen) * 0.2
    labels = torch.arange(64) % 2
    images[labels == 0, :, :4] += 0.8
    images[labels == 1, :, 4:] += 0.8
    return images.clamp(0, 1), labels


def test_mlp_classifier_shapes_and_training_on_a_tiny_fixture():
    images, labels = _two_halves()
    model = judges.train_mlp_classifier(images, labels, epochs=15, batch_size=16)
    assert model.features(images).shape == (64, judges.MLP_FEATURE_DIM)
    assert model(images).shape == (64, 10)
    assert (model(images).argmax(1) == labels).float().mean() == 1.0
    again = judges.train_mlp_classifier(images, labels, epochs=15, batch_size=16)
    assert torch.equal(model.head.weight, again.head.weight)   # deterministic for a seed


def test_mlp_training_checks_shapes():
    with pytest.raises(GenlabError, match=r"\(N, 1, S, S\)"):
        judges.train_mlp_classifier(torch.zeros(4, 64), torch.zeros(4))
    with pytest.raises(GenlabError, match="labels must have shape"):
        judges.train_mlp_classifier(torch.zeros(4, 1, 8, 8), torch.zeros(3))


def test_heldout_classifier_shapes_and_training_on_a_tiny_fixture():
    images, labels = _two_halves()
    model = judges.train_heldout_classifier(images, labels, epochs=15, batch_size=16)
    assert model.features(images).shape == (64, judges.HELDOUT_FEATURE_DIM)
    assert (model(images).argmax(1) == labels).float().mean() == 1.0
    again = judges.train_heldout_classifier(images, labels, epochs=15, batch_size=16)
    assert torch.equal(model.head.weight, again.head.weight)   # deterministic for a seed
    with pytest.raises(GenlabError, match=r"\(N, 1, S, S\)"):
        judges.train_heldout_classifier(torch.zeros(4, 64), torch.zeros(4))


def test_heldout_judge_differs_from_genlabs_cnn_in_make():
    from genlab.classifier import DigitClassifier

    def kinds(model):
        return {type(m).__name__ for m in model.modules()}
    assert kinds(judges.HeldOutDigitClassifier()) - kinds(DigitClassifier())      # other activation / pooling
    kernels = {m.kernel_size for m in judges.HeldOutDigitClassifier().modules() if isinstance(m, torch.nn.Conv2d)}
    assert (5, 5) in kernels and judges.HELDOUT_SEED not in (0, judges.MLP_SEED)


@pytest.fixture(scope="module")
def digits():
    from genlab.classifier import _load_split

    return _load_split("digits", "test")


def test_second_judge_is_accurate_on_the_test_split():
    assert judges.mlp_accuracy("digits") >= 0.95


def test_heldout_judge_is_accurate_on_the_test_split_and_reads_labels(digits):
    assert judges.judge_accuracy("heldout", "digits") >= 0.95
    images, labels = digits
    assert judges.judge_label_accuracy("heldout", images[:50], (labels[:50] + 1) % 10) < 0.2
    with pytest.raises(GenlabError, match="allowed: mlp, heldout"):
        judges.get_judge_classifier("inception")


def test_second_judge_label_accuracy_and_checks(digits):
    images, labels = digits
    assert judges.mlp_label_accuracy(images[:50], labels[:50]) >= 0.9
    assert judges.mlp_label_accuracy(images[:50], (labels[:50] + 1) % 10) < 0.2
    with pytest.raises(GenlabError, match="one label per image"):
        judges.mlp_label_accuracy(images[:5], labels[:4])
    with pytest.raises(GenlabError, match="0..9"):
        judges.mlp_label_accuracy(images[:2], [0, 10])


def test_judge_features_shapes_and_unknown_judge(digits):
    images, _ = digits
    assert judges.judge_features(images[:4], "cnn").shape == (4, 64)
    assert judges.judge_features(images[:4], "mlp").shape == (4, judges.MLP_FEATURE_DIM)
    assert judges.judge_features(images[:4], "heldout").shape == (4, judges.HELDOUT_FEATURE_DIM)
    assert judges.judge_features(images[:4], "pixels").shape == (4, 64)
    with pytest.raises(GenlabError, match="allowed: cnn, mlp, heldout, pixels"):
        judges.judge_features(images[:4], "inception")
    with pytest.raises(GenlabError, match=r"\[0, 1\]"):
        judges.judge_features(images[:4] * 2 - 1, "mlp")


def test_judge_scores_rank_real_digits_above_noise(digits):
    images, _ = digits
    noise = torch.rand(200, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    for judge in ("mlp", "heldout", "pixels"):
        real_fd, real_kid = judges.judge_scores(images[:200], judge, kid_subsets=20, kid_subset_size=50)
        noise_fd, noise_kid = judges.judge_scores(noise, judge, kid_subsets=20, kid_subset_size=50)
        assert noise_fd > 5 * real_fd
        assert noise_kid.mean > real_kid.mean + 5 * noise_kid.std_error
