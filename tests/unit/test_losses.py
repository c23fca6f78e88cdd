"""GAN losses (genlab.losses) against their formulas, computed by hand from D's outputs."""

import math

import pytest
import torch

from genlab.errors import GenlabError
from genlab.losses import (GAN_LOSSES, discriminator_loss, discriminator_output, generator_loss,
                           r1_penalty)

torch.set_num_threads(1)

REAL_LOGITS = torch.tensor([[2.0], [0.5], [-1.0], [3.0]])
FAKE_LOGITS = torch.tensor([[-2.0], [0.3], [1.5], [-0.7]])


def mean(values):
    return sum(values) / len(values)


def probs(logits):
    return [1 / (1 + math.exp(-v)) for v in logits.reshape(-1).tolist()]


def test_minimax_and_non_saturating_discriminator_loss_is_the_negated_objective():
    d_real, d_fake = probs(REAL_LOGITS), probs(FAKE_LOGITS)
    # max_φ E[log D(x)] + E[log(1 − D(G(z)))]  ->  loss = −(objective)
    expected = -(mean([math.log(p) for p in d_real]) + mean([math.log(1 - p) for p in d_fake]))
    for loss in ("minimax", "non-saturating"):
        assert discriminator_loss(REAL_LOGITS, FAKE_LOGITS, loss).item() == pytest.approx(expected, rel=1e-6)


def test_minimax_generator_loss_is_mean_log_one_minus_d():
    d_fake = probs(FAKE_LOGITS)
    expected = mean([math.log(1 - p) for p in d_fake])          # min_θ E[log(1 − D(G(z)))]
    assert generator_loss(FAKE_LOGITS, "minimax").item() == pytest.approx(expected, rel=1e-6)


def test_non_saturating_generator_loss_is_minus_mean_log_d():
    d_fake = probs(FAKE_LOGITS)
    expected = -mean([math.log(p) for p in d_fake])             # max_θ E[log D(G(z))]
    assert generator_loss(FAKE_LOGITS, "non-saturating").item() == pytest.approx(expected, rel=1e-6)


def test_lsgan_losses_are_half_mean_squares_of_the_raw_score():
    real, fake = REAL_LOGITS.reshape(-1).tolist(), FAKE_LOGITS.reshape(-1).tolist()
    expected_d = 0.5 * mean([(d - 1) ** 2 for d in real]) + 0.5 * mean([d ** 2 for d in fake])
    expected_g = 0.5 * mean([(d - 1) ** 2 for d in fake])
    assert discriminator_loss(REAL_LOGITS, FAKE_LOGITS, "lsgan").item() == pytest.approx(expected_d, rel=1e-6)
    assert generator_loss(FAKE_LOGITS, "lsgan").item() == pytest.approx(expected_g, rel=1e-6)


def test_discriminator_output_is_probability_or_raw_score():
    assert torch.allclose(discriminator_output(REAL_LOGITS, "minimax"), torch.sigmoid(REAL_LOGITS))
    assert torch.allclose(discriminator_output(REAL_LOGITS, "non-saturating"), torch.sigmoid(REAL_LOGITS))
    assert torch.equal(discriminator_output(REAL_LOGITS, "lsgan"), REAL_LOGITS)


@pytest.mark.parametrize("loss", GAN_LOSSES)
def test_losses_are_finite_for_extreme_logits(loss):
    real = torch.tensor([[200.0], [-200.0]], requires_grad=True)
    fake = torch.tensor([[-200.0], [200.0]], requires_grad=True)
    total = discriminator_loss(real, fake, loss) + generator_loss(fake, loss)
    total.backward()
    assert torch.isfinite(total)
    assert torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()


def test_minimax_generator_gradient_saturates_when_d_rejects_fakes():
    # D(G(z)) ≈ 0: the minimax G loss is flat, the non-saturating one is steep (Goodfellow et al. §3)
    logits = torch.tensor([[-10.0]], requires_grad=True)
    generator_loss(logits, "minimax").backward()
    minimax_grad = logits.grad.abs().item()
    logits.grad = None
    generator_loss(logits, "non-saturating").backward()
    assert minimax_grad < 1e-4 < 0.9 < logits.grad.abs().item()


def test_patch_maps_are_averaged_over_every_patch():
    real = torch.randn(3, 1, 4, 4)
    fake = torch.randn(3, 1, 4, 4)
    flat = discriminator_loss(real.reshape(-1, 1), fake.reshape(-1, 1), "non-saturating")
    assert discriminator_loss(real, fake, "non-saturating").item() == pytest.approx(flat.item(), rel=1e-6)


def test_r1_penalty_of_a_linear_discriminator_is_squared_weight_norm():
    w = torch.tensor([3.0, -4.0])
    x = torch.randn(5, 2, requires_grad=True)
    logits = (x @ w)[:, None]
    assert r1_penalty(logits, x).item() == pytest.approx(25.0)


def test_unknown_loss_is_a_genlab_error_listing_the_choices():
    with pytest.raises(GenlabError, match="minimax, non-saturating, lsgan"):
        generator_loss(FAKE_LOGITS, "wasserstein")
    with pytest.raises(GenlabError):
        discriminator_loss(REAL_LOGITS, FAKE_LOGITS, "hinge")
