"""genlab.editing: masks, latent optimization (inpainting, uncropping, super-resolution), the
conditional VAE, and the classifier scores. Mechanics only (tiny untrained models, few steps); the
quality numbers are measured with a trained VAE, see the module docstring / closing note."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab import editing as ed
from genlab.data import load_image_dataset
from genlab.errors import GenlabError
from genlab.models.autoencoder import Autoencoder, AutoencoderConfig

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def vae():
    torch.manual_seed(0)
    return Autoencoder(AutoencoderConfig(kind="vae", latent_dim=3, hidden_dims=(32,)))


@pytest.fixture(scope="module")
def digits():
    test = load_image_dataset("digits", "test")
    return test.images[:12], test.labels[:12]


def test_masks_hide_the_named_part():
    assert ed.make_mask("top")[0, 0, :4].sum() == 0 and ed.make_mask("top")[0, 0, 4:].min() == 1
    assert ed.make_mask("bottom")[0, 0, 4:].sum() == 0
    assert ed.make_mask("left")[0, 0, :, :4].sum() == 0
    assert ed.make_mask("right")[0, 0, :, 4:].sum() == 0
    center = ed.make_mask("center")[0, 0]
    assert center[2:6, 2:6].sum() == 0 and center.sum() == 64 - 16
    rect = ed.make_mask("rectangle", rect=(1, 3, 5, 8))[0, 0]
    assert rect[1:3, 5:8].sum() == 0 and rect.sum() == 64 - 6
    with pytest.raises(GenlabError, match="unknown mask 'middle'; allowed: top"):
        ed.make_mask("middle")
    with pytest.raises(GenlabError, match="0 <= row0 < row1 <= 8"):
        ed.make_mask("rectangle", rect=(3, 3, 0, 2))
    with pytest.raises(GenlabError, match="whole image"):
        ed.check_rect((0, 8, 0, 8))
    with pytest.raises(GenlabError, match="four whole numbers"):
        ed.check_rect(("a", 1, 2, 3))


def test_random_masks_cover_every_kind():
    masks = ed.random_masks(300, 8, torch.Generator().manual_seed(0))
    assert masks.shape == (300, 1, 8, 8) and set(masks.unique().tolist()) == {0.0, 1.0}
    hidden = (1 - masks).flatten(1).sum(1)
    assert (hidden > 0).all() and (hidden < 64).all()
    kinds = [ed.make_mask(k) for k in ("top", "bottom", "left", "right", "center")]
    for m in kinds:
        assert any(torch.equal(masks[i:i + 1], m) for i in range(300))
    assert torch.equal(masks, ed.random_masks(300, 8, torch.Generator().manual_seed(0)))


def test_down_and_upsampling():
    x = torch.rand(2, 1, 8, 8)
    low = ed.downsample(x)
    assert low.shape == (2, 1, 4, 4)
    assert low[0, 0, 0, 0] == pytest.approx(float(x[0, 0, :2, :2].mean()))
    flat = torch.full((1, 1, 4, 4), 0.3)
    assert torch.allclose(ed.upsample(flat, "bilinear"), torch.full((1, 1, 8, 8), 0.3))
    assert torch.equal(ed.upsample(low, "nearest")[..., ::2, ::2], low)
    with pytest.raises(GenlabError, match="bilinear, nearest"):
        ed.upsample(low, "cubic")


def test_fit_latent_finds_a_code_that_explains_the_visible_pixels(vae):
    torch.manual_seed(1)
    z_true = torch.randn(4, 3)
    with torch.no_grad():
        x = torch.sigmoid(vae.decode(z_true))
    mask = ed.make_mask("top")
    completed, fit = ed.inpaint_latent(vae, x, mask, lam=0.0, restarts=3, steps=150, lr=0.1, seed=0)
    assert completed.shape == (4, 1, 8, 8) and fit.all_images.shape == (4, 3, 1, 8, 8)
    assert torch.equal(completed * mask, x * mask)                       # visible pixels are kept
    assert (np.diff(fit.history) <= 1e-6).all()                          # best-so-far never gets worse
    assert fit.history[-1] < 0.2 * fit.history[0]
    assert torch.equal(fit.objective, fit.all_objectives.min(1).values)   # the best restart wins
    assert torch.allclose(fit.objective, fit.data_term + fit.prior_term)
    # the filled-in half agrees with the image the code came from
    assert float(((completed - x) ** 2).mean()) < float(((x * mask - x) ** 2).mean())
    again, _ = ed.inpaint_latent(vae, x, mask, lam=0.0, restarts=3, steps=150, lr=0.1, seed=0)
    assert torch.equal(again, completed)                                 # deterministic


def test_the_prior_term_pulls_codes_towards_zero(vae):
    x = torch.rand(3, 1, 8, 8)
    _, loose = ed.inpaint_latent(vae, x, ed.make_mask("left"), lam=0.0, restarts=2, steps=60)
    _, tight = ed.inpaint_latent(vae, x, ed.make_mask("left"), lam=10.0, restarts=2, steps=60)
    assert tight.z.norm(dim=1).mean() < loose.z.norm(dim=1).mean()


def test_super_resolution_matches_the_low_resolution_image(vae):
    torch.manual_seed(2)
    with torch.no_grad():
        x = torch.sigmoid(vae.decode(torch.randn(3, 3)))
    high, fit = ed.super_resolve_latent(vae, ed.downsample(x), lam=0.0, restarts=2, steps=150)
    assert high.shape == (3, 1, 8, 8)
    assert fit.history[-1] < 0.2 * fit.history[0]
    assert float((ed.downsample(high) - ed.downsample(x)).pow(2).mean()) < 1e-3


def test_fit_settings_and_inputs_are_checked(vae):
    x = torch.rand(2, 1, 8, 8)
    with pytest.raises(GenlabError, match="restarts must be a whole number from 1 to 64"):
        ed.inpaint_latent(vae, x, ed.make_mask("top"), restarts=0)
    with pytest.raises(GenlabError, match="learning rate"):
        ed.inpaint_latent(vae, x, ed.make_mask("top"), lr=0)
    with pytest.raises(GenlabError, match="hides the whole image"):
        ed.inpaint_latent(vae, x, torch.zeros(1, 1, 8, 8))
    with pytest.raises(GenlabError, match="only 0 \\(missing\\) and 1"):
        ed.inpaint_latent(vae, x, torch.full((1, 1, 8, 8), 0.5))
    with pytest.raises(GenlabError, match="images must have shape"):
        ed.inpaint_latent(vae, torch.rand(2, 5), ed.make_mask("top"))
    with pytest.raises(GenlabError, match="needs a trained VAE"):
        ed.inpaint_latent(object(), x, ed.make_mask("top"))


def test_conditional_vae_trains_completes_and_is_cached(tmp_path, monkeypatch, digits):
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path))
    config = ed.ConditionalVAEConfig(steps=20, batch_size=16, hidden=32, latent_dim=2)
    seen = []
    model = ed.get_conditional_vae(config, progress=lambda step, total, loss: seen.append(step))
    assert seen and seen[-1] == 20
    assert ed.conditional_vae_path(config).is_file()
    cached = ed.load_conditional_vae(config)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), cached.state_dict().values()))
    x, _ = digits
    m = ed.make_mask("bottom").expand(len(x), -1, -1, -1)
    filled = model.complete(x, m)
    assert filled.shape == x.shape and torch.equal(filled * m, x * m)
    draws = model.complete(x, m, samples=3, seed=0)
    assert draws.shape == (len(x), 3, 1, 8, 8)
    assert not torch.equal(draws[:, 0], draws[:, 1])
    assert ed.get_conditional_vae(config, should_stop=lambda: True) is not None   # cached: no training
    other = ed.ConditionalVAEConfig(steps=20, batch_size=16, hidden=32, latent_dim=2, seed=1)
    assert ed.get_conditional_vae(other, should_stop=lambda: True) is None       # stopped before training


def test_scores(vae, digits):
    x, y = digits
    probs = ed.classifier_probabilities(x)
    assert probs.shape == (len(x), 10) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert ed.accuracy(x, y) == pytest.approx(float((probs.argmax(1) == y.numpy()).mean()))
    cvae = ed.train_conditional_vae(x, ed.ConditionalVAEConfig(steps=5, batch_size=4, hidden=16, latent_dim=2))
    scores = ed.evaluate_editing(vae, x, y, kinds=("top", "center"), cvae=cvae, restarts=2, steps=5)
    assert [s.kind for s in scores] == ["top", "center"]
    for s in scores:
        assert s.n == len(x) and 0 <= s.acc_masked <= 1 and 0 <= s.acc_latent <= 1 and 0 <= s.acc_cvae <= 1
        assert s.acc_original == pytest.approx(ed.accuracy(x, y))
        assert s.mse_masked > 0 and s.mse_latent >= 0
    sr = ed.evaluate_super_resolution(vae, x, y, restarts=2, steps=5)
    assert sr.n == len(x) and sr.mse_bilinear > 0 and 0 <= sr.acc_latent <= 1
    with pytest.raises(GenlabError, match="one label per image"):
        ed.evaluate_editing(vae, x, y[:3], kinds=("top",), restarts=1, steps=1)
