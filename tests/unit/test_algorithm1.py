"""Algorithm 1 as one method (GANTrainer.train_gan_step) and the single D / G steps beside it."""
from __future__ import annotations

import inspect

import torch

from genlab.train.gan import GANTrainer, gan_configs

torch.set_num_threads(1)


def _trainer(**overrides) -> GANTrainer:
    return GANTrainer("gan", "ring8", *gan_configs("gan", "vanilla", seed=0, **overrides))


def test_one_step_is_k_discriminator_updates_then_one_generator_update():
    trainer = _trainer(k_disc=3)
    row = trainer.step()
    assert (trainer.d_updates, trainer.g_updates) == (3, 1) and row["phase"] == "both"
    trainer.discriminator_step()
    assert (trainer.d_updates, trainer.g_updates) == (4, 1)
    trainer.generator_step()
    assert (trainer.d_updates, trainer.g_updates) == (4, 2)


def test_the_method_reads_like_the_slide_and_keeps_no_state_between_calls():
    source = inspect.getsource(GANTrainer.train_gan_step)
    assert "(1) update D" in source and "(2) update G" in source and "k_disc" in source
    assert not hasattr(_trainer(), "_phase")      # no phase handed through an attribute


def test_single_steps_and_full_steps_replay_the_same_rows_from_the_same_seed():
    first, second = _trainer(k_disc=2), _trainer(k_disc=2)
    rows_a = [first.step(), first.discriminator_step(), first.generator_step(), first.step()]
    rows_b = [second.step(), second.discriminator_step(), second.generator_step(), second.step()]
    assert [r["loss_d"] for r in rows_a] == [r["loss_d"] for r in rows_b]
    assert [r["phase"] for r in rows_a] == ["both", "d", "g", "both"]
