"""GANTrainer (genlab.train.gan): Algorithm 1, live changes, determinism, resume, errors, 2D helpers."""

import io

import numpy as np
import pytest
import torch

from genlab.data import sample_toy
from genlab.errors import GenlabError
from genlab.models.dcgan import DCGANConfig
from genlab.models.gan import GANConfig
from genlab.train.gan import (GAN_PRESETS, GANTrainConfig, GANTrainer, discriminator_grid, gan_configs,
                              generator_gradients, generator_manifold)

torch.set_num_threads(1)

SMALL_2D = dict(hidden=16, layers=2, disc_hidden=16, disc_layers=2)
SMALL_IMG = dict(channels=4, noise_dim=8)
METRIC_COLUMNS = ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "wall_time")


def small_gan(dataset="ring8", points=None, **train):
    train = {"batch_size": 32, "seed": 0, **train}
    return GANTrainer("gan", dataset, GANConfig(**SMALL_2D), GANTrainConfig(**train), points=points)


def small_image_gan(model="dcgan", disc="standard", **train):
    train = {"batch_size": 16, "seed": 0, **train}
    return GANTrainer(model, "digits", DCGANConfig(disc=disc, **SMALL_IMG), GANTrainConfig(**train))


def strip_time(rows):
    return [{k: v for k, v in row.items() if k != "wall_time"} for row in rows]


# ---------------------------------------------------------------- Algorithm 1


@pytest.mark.parametrize("k", [1, 3])
def test_one_step_is_k_discriminator_updates_then_one_generator_update(k):
    trainer = small_gan(k_disc=k)
    d_calls, g_calls = [], []
    trainer.optimizer_d.step = lambda *a, _s=trainer.optimizer_d.step, **kw: (d_calls.append(1), _s(*a, **kw))
    trainer.optimizer_g.step = lambda *a, _s=trainer.optimizer_g.step, **kw: (g_calls.append(1), _s(*a, **kw))
    trainer.run(4)
    assert len(d_calls) == 4 * k and len(g_calls) == 4
    assert trainer.d_updates == 4 * k and trainer.g_updates == 4


def test_a_step_matches_a_plain_algorithm_1_iteration_written_out():
    """The trainer's bookkeeping (one metrics read per update, D frozen while G's loss is
    differentiated, grads cleared only before each backward) must not change what is computed:
    the same seed written out as a plain loop gives the same weights and the same row."""
    import torch.nn.functional as F

    def vanilla():   # Goodfellow's plain GAN: Gaussian noise, no EMA / lr decay / R1
        return GANTrainer("gan", "ring8", *gan_configs("gan", "vanilla", **SMALL_2D, batch_size=32))

    trainer, twin = vanilla(), vanilla()
    rows = [trainer.step() for _ in range(3)]
    G, D, rng, m = twin.generator, twin.discriminator, twin.rng, twin.train_config.batch_size
    for row in rows:
        x = twin.data[torch.randint(twin.data.shape[0], (m,), generator=rng)]
        z = torch.randn(m, twin.model_config.noise_dim, generator=rng)
        with torch.no_grad():
            fake = G(z)
        real_logits, fake_logits = D(x), D(fake)
        loss_d = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        twin.optimizer_d.zero_grad()
        loss_d.backward()
        grad_d = torch.cat([p.grad.reshape(-1) for p in D.parameters()]).norm()
        twin.optimizer_d.step()
        loss_g = F.softplus(-D(G(torch.randn(m, twin.model_config.noise_dim, generator=rng)))).mean()
        twin.optimizer_g.zero_grad()
        loss_g.backward()
        grad_g = torch.cat([p.grad.reshape(-1) for p in G.parameters()]).norm()
        twin.optimizer_g.step()
        assert row["loss_d"] == loss_d.item() and row["loss_g"] == loss_g.item()
        assert row["d_real"] == torch.sigmoid(real_logits).mean().item()
        assert row["d_fake"] == torch.sigmoid(fake_logits).mean().item()
        assert row["grad_norm_d"] == pytest.approx(grad_d.item(), rel=1e-6)
        assert row["grad_norm_g"] == pytest.approx(grad_g.item(), rel=1e-6)
    for ours, plain in ((trainer.generator, G), (trainer.discriminator, D)):
        assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), plain.parameters()))


def test_discriminator_weights_are_trainable_again_after_a_generator_update(monkeypatch):
    trainer = small_gan()
    trainer.step()
    trainer.generator_step()
    assert all(p.requires_grad for p in trainer.discriminator.parameters())
    import genlab.train.gan as gan_module

    def broken_loss(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(gan_module, "generator_loss", broken_loss)
    with pytest.raises(RuntimeError, match="boom"):
        trainer.step()
    assert all(p.requires_grad for p in trainer.discriminator.parameters())


def test_every_row_has_the_gan_metrics():
    row = small_gan().step()
    for column in METRIC_COLUMNS + ("step", "changed", "phase", "lr_d", "lr_g"):
        assert column in row
    assert 0 < row["d_real"] < 1 and 0 < row["d_fake"] < 1
    assert row["grad_norm_d"] > 0 and row["grad_norm_g"] > 0
    assert row["phase"] == "both" and row["step"] == 1


def test_single_discriminator_and_generator_steps():
    trainer = small_gan(k_disc=3)
    g_before = [p.clone() for p in trainer.generator.parameters()]
    d_before = [p.clone() for p in trainer.discriminator.parameters()]
    row = trainer.discriminator_step()
    assert row["phase"] == "d" and (trainer.d_updates, trainer.g_updates) == (1, 0)   # one D update, not k
    assert all(torch.equal(a, b) for a, b in zip(g_before, trainer.generator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, trainer.discriminator.parameters()))
    d_after = [p.clone() for p in trainer.discriminator.parameters()]
    row = trainer.generator_step()
    assert row["phase"] == "g" and (trainer.d_updates, trainer.g_updates) == (1, 1)
    assert all(torch.equal(a, b) for a, b in zip(d_after, trainer.discriminator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, trainer.generator.parameters()))
    assert trainer.step_count == 2 and np.isfinite(row["loss_d"]) and np.isfinite(row["grad_norm_d"])
    with pytest.raises(GenlabError, match="both, d, g"):
        trainer.step("x")


@pytest.mark.parametrize("loss", ["minimax", "non-saturating", "lsgan"])
def test_each_loss_trains(loss):
    rows = small_gan(loss=loss).run(3)
    assert all(np.isfinite(r["loss_d"]) and np.isfinite(r["loss_g"]) for r in rows)
    if loss == "minimax":
        assert rows[-1]["loss_g"] < 0          # E[log(1 − D(G(z)))] is negative


# ---------------------------------------------------------------- live hyperparameters


def test_live_changes_apply_at_the_next_step_and_are_recorded():
    trainer = small_gan(lr_decay="none")
    trainer.step()
    trainer.set_hyperparameters(lr_d=2e-3, k_disc=2, loss="lsgan")
    assert trainer.train_config.lr_d == 5e-4          # not yet
    row = trainer.step()
    assert row["changed"] == "lr_d=0.002;k_disc=2;loss=lsgan"
    assert row["lr_d"] == pytest.approx(2e-3)
    assert trainer.optimizer_d.param_groups[0]["lr"] == pytest.approx(2e-3)
    assert trainer.d_updates == 1 + 2
    assert trainer.step()["changed"] == ""
    assert trainer.hyperparameters()["loss"] == "lsgan"


def test_optimizer_switch_rebuilds_the_optimizer_and_keeps_the_model():
    trainer = small_gan(lr_decay="none")
    trainer.run(2)
    generator = trainer.generator
    weights = [p.clone() for p in generator.parameters()]
    trainer.set_hyperparameters(optimizer_g="sgd")
    assert isinstance(trainer.optimizer_g, torch.optim.Adam)
    row = trainer.step()
    assert "optimizer_g=sgd" in row["changed"]
    assert isinstance(trainer.optimizer_g, torch.optim.SGD) and isinstance(trainer.optimizer_d, torch.optim.Adam)
    assert trainer.generator is generator
    assert trainer.optimizer_g.param_groups[0]["params"][0] is next(generator.parameters())
    # the weights were kept (then moved by one SGD step, not re-initialised)
    moved = max((a - b).abs().max().item() for a, b in zip(weights, generator.parameters()))
    assert 0 < moved < 0.1


@pytest.mark.parametrize("changes,match", [
    ({"lr_d": 0}, "lr_d"), ({"lr_g": -1}, "lr_g"), ({"k_disc": 0}, "k_disc"),
    ({"loss": "hinge"}, "minimax, non-saturating, lsgan"), ({"optimizer_d": "rmsprop"}, "adam, sgd"),
    ({"batch_size": 8}, "cannot be changed while training"),
])
def test_bad_live_changes_raise_genlab_error(changes, match):
    with pytest.raises(GenlabError, match=match):
        small_gan().set_hyperparameters(**changes)


def test_lr_decays_linearly_to_lr_final():
    trainer = small_gan(steps=4, lr_final=0.5, lr_g=1e-3)
    rows = trainer.run(4)
    assert [r["lr_g"] for r in rows] == pytest.approx([1e-3, 0.875e-3, 0.75e-3, 0.625e-3])
    assert trainer.step()["lr_g"] == pytest.approx(0.5e-3)     # stays at lr_final after `steps`


# ---------------------------------------------------------------- determinism and resume


def test_same_seed_gives_the_same_rows():
    assert strip_time(small_gan(seed=3).run(5)) == strip_time(small_gan(seed=3).run(5))
    assert strip_time(small_gan(seed=3).run(2)) != strip_time(small_gan(seed=4).run(2))


def test_sampling_between_steps_does_not_change_the_run():
    quiet, watched = small_gan(seed=2), small_gan(seed=2)
    rows = []
    for _ in range(3):
        rows.append(watched.step())
        watched.sample(7)          # what the 2D page does after every step
    assert strip_time(rows) == strip_time(quiet.run(3))


def test_same_seed_gives_the_same_rows_for_cgan():
    assert strip_time(small_image_gan("cgan").run(2)) == strip_time(small_image_gan("cgan").run(2))


def roundtrip(state):
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


@pytest.mark.parametrize("model", ["gan", "cgan"])
def test_resume_from_state_dict_continues_identically(model):
    def make():
        return small_gan(ema=0.9, r1_gamma=0.1) if model == "gan" else small_image_gan("cgan", ema=0.9)

    def start(trainer):
        trainer.run(3)
        trainer.set_hyperparameters(optimizer_d="sgd")   # a live switch before the checkpoint
        trainer.step()
        return trainer

    full = start(make())
    expected = strip_time(full.run(7))
    first = start(make())
    resumed = GANTrainer.from_config(first.config_dict())
    resumed.load_state_dict(roundtrip(first.state_dict()))
    assert isinstance(resumed.optimizer_d, torch.optim.SGD)
    assert strip_time(resumed.run(7)) == expected
    assert resumed.d_updates == full.d_updates and resumed.g_updates == full.g_updates


def test_config_dict_roundtrip_with_user_points():
    points = sample_toy("two-gaussians", 200, 0)
    trainer = small_gan("points", points=points)
    config = trainer.config_dict()
    assert config["dataset"] == "points" and len(config["points"]) == 200
    rebuilt = GANTrainer.from_config(config)
    assert rebuilt.config_dict() == config
    assert torch.equal(rebuilt.data, trainer.data)


def test_csv_points(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("x,y\n" + "\n".join(f"{i},{i % 3}" for i in range(40)))
    trainer = small_gan(str(path))
    assert trainer.config_dict()["points"] == str(path)
    assert trainer.sample(5).shape == (5, 2)


# ---------------------------------------------------------------- bad configuration


@pytest.mark.parametrize("train,match", [
    ({"lr_d": 0.0}, "lr_d"), ({"lr_g": -0.1}, "lr_g"), ({"k_disc": 0}, "k_disc"),
    ({"loss": "wgan"}, "minimax, non-saturating, lsgan"), ({"optimizer_g": "rmsprop"}, "adam, sgd"),
    ({"optimizer_d": "lbfgs"}, "adam, sgd"), ({"batch_size": 0}, "batch_size"), ({"ema": 1.0}, "ema"),
    ({"lr_decay": "cosine"}, "none, linear"),
])
def test_bad_train_configs_raise_genlab_error(train, match):
    with pytest.raises(GenlabError, match=match):
        GANTrainConfig(**train)


def test_batch_larger_than_the_data_set_is_refused():
    with pytest.raises(GenlabError, match="larger than the data set"):
        small_gan("points", points=sample_toy("ring8", 20, 0))
    with pytest.raises(GenlabError, match="allowed: 1 to 1437"):
        GANTrainer("dcgan", "digits", DCGANConfig(**SMALL_IMG), GANTrainConfig(batch_size=5000))


def test_bad_data_sets_and_models_are_refused():
    with pytest.raises(GenlabError, match="ring8"):
        small_gan("digits")
    with pytest.raises(GenlabError, match="digits"):
        GANTrainer("dcgan", "ring8", DCGANConfig(**SMALL_IMG), GANTrainConfig())
    with pytest.raises(GenlabError, match="gan, dcgan, cgan"):
        GANTrainer("wgan")
    with pytest.raises(GenlabError, match="points"):
        small_gan("points")


def test_presets():
    model, train = gan_configs("gan", "vanilla")
    assert set(GAN_PRESETS) == {"default", "vanilla"}
    assert (model.pack, model.spectral_norm, model.noise_skip) == (1, False, 0.0)
    assert (train.ema, train.r1_gamma, train.lr_decay) == (0.0, 0.0, "none")
    assert train.loss in ("minimax", "non-saturating")
    model, _ = gan_configs("cgan")
    assert model.conditional
    with pytest.raises(GenlabError, match="default, vanilla"):
        gan_configs("gan", "fancy")
    with pytest.raises(GenlabError, match="unknown gan setting"):
        gan_configs("gan", hiddn=3)


# ---------------------------------------------------------------- sampling and evaluation


def test_image_samples_labels_and_patch_discriminator():
    trainer = small_image_gan("cgan", disc="patch")
    row = trainer.step()
    assert np.isfinite(row["loss_d"])
    x = trainer.sample(12, seed=0, labels=3)
    assert x.shape == (12, 1, 8, 8) and x.min() >= 0 and x.max() <= 1
    assert torch.equal(trainer.sample(4, seed=1, labels=[1, 2, 3, 4]), trainer.sample(4, seed=1, labels=[1, 2, 3, 4]))
    with pytest.raises(GenlabError, match="0 to 9"):
        trainer.sample(2, labels=[0, 10])
    with pytest.raises(GenlabError, match="only be given to cgan"):
        small_image_gan("dcgan").sample(2, labels=[0, 1])


def test_2d_evaluate_reports_modes_and_divergences():
    metrics = small_gan().evaluate()
    for key in ("modes_covered", "high_quality_share", "grid_kl_real_fake", "grid_kl_fake_real", "grid_js"):
        assert key in metrics
    assert "modes_covered" not in small_gan("two-moons").evaluate()


# ---------------------------------------------------------------- helpers for the 2D page


def test_discriminator_grid_orientation_and_range():
    trainer = small_gan()
    trainer.run(3)
    xs, ys, values = discriminator_grid(trainer, extent=(-3, 3, -2, 2), resolution=7)
    assert xs.shape == (7,) and ys.shape == (7,) and values.shape == (7, 7)
    assert ((values > 0) & (values < 1)).all()
    point = torch.tensor([[xs[5], ys[1]]], dtype=torch.float32)
    direct = torch.sigmoid(trainer.discriminator((point - trainer.data_mean) / trainer.data_scale)).item()
    assert values[1, 5] == pytest.approx(direct, rel=1e-5)


@pytest.mark.parametrize("noise_dim,shape", [(1, (9, 2)), (2, (9, 9, 2)), (4, (9, 9, 2))])
def test_generator_manifold_maps_a_noise_grid(noise_dim, shape):
    config = GANConfig(noise_dim=noise_dim, **SMALL_2D)
    trainer = GANTrainer("gan", "ring8", config, GANTrainConfig(batch_size=32, ema=0.0))
    z, points = generator_manifold(trainer, 9)
    assert points.shape == shape and z.shape == shape[:-1] + (noise_dim,)
    flat_z = torch.from_numpy(z.reshape(-1, noise_dim))
    with torch.no_grad():
        direct = trainer.generator(flat_z) * trainer.data_scale + trainer.data_mean
    assert np.allclose(points.reshape(-1, 2), direct.numpy(), atol=1e-5)


@pytest.mark.parametrize("loss", ["minimax", "non-saturating", "lsgan"])
def test_generator_gradients_point_downhill_of_the_generator_loss(loss):
    from genlab.losses import generator_loss

    trainer = small_gan(loss=loss)
    trainer.run(5)
    fake = trainer.sample(16, seed=0).numpy()
    direction = generator_gradients(trainer, fake)
    assert direction.shape == (16, 2)

    def loss_at(points):
        x = (torch.from_numpy(points) - trainer.data_mean) / trainer.data_scale
        with torch.no_grad():
            return generator_loss(trainer.discriminator(x), loss).item()

    step = 1e-3 / max(np.abs(direction).max(), 1e-12)
    assert loss_at((fake + step * direction).astype(np.float32)) < loss_at(fake)


def test_short_training_moves_fakes_onto_the_ring():
    trainer = GANTrainer("gan", "ring8", GANConfig(hidden=64, disc_hidden=64),
                         GANTrainConfig(batch_size=64, steps=300, seed=0, lr_d=1e-3, lr_g=1e-3))
    off_ring = lambda: np.abs(np.linalg.norm(trainer.sample(500, seed=0).numpy(), axis=1) - 2.0).mean()  # noqa: E731
    before = off_ring()
    trainer.run(300)
    after = off_ring()
    assert after < 0.5 * before and after < 0.3


# ---------------------------------------------------------------- lazy R1


def test_lazy_r1_penalizes_every_nth_discriminator_update_with_n_times_the_weight(monkeypatch):
    """r1_every = n: the R1 term is computed on D updates 0, n, 2n, ... only, weighted γ·n."""
    import genlab.train.gan as gan_module

    calls = []
    real_penalty = gan_module.r1_penalty

    def spy(logits, x):
        value = real_penalty(logits, x)
        calls.append(value.item())
        return value

    monkeypatch.setattr(gan_module, "r1_penalty", spy)
    trainer = small_image_gan(r1_gamma=2.0, r1_every=3, k_disc=2)
    losses = []
    for _ in range(4):                                   # 8 D updates: 0..7
        before = len(calls)
        losses.append(trainer.step()["loss_d"])
        assert len(calls) - before == sum(1 for u in (trainer.d_updates - 2, trainer.d_updates - 1) if u % 3 == 0)
    assert len(calls) == 3                               # updates 0, 3, 6
    with pytest.raises(GenlabError, match="r1_every"):
        GANTrainConfig(r1_every=0)


def test_image_gan_defaults_are_the_benchmark_settings():
    model, train = gan_configs("dcgan")
    assert (model.channels, train.lr_d, train.lr_g, train.r1_gamma, train.r1_every) == (32, 8e-4, 8e-4, 1.0, 4)
    assert GANTrainer("dcgan", "digits", model, train).default_steps == 6000
    model, train = gan_configs("dcgan", "vanilla")
    assert train.r1_gamma == 0.0 and train.ema == 0.0
