"""One source of limits: genlab.validation (check_number, the config dataclasses' declared limits),
the registry and the CLI reading them, and genlab.atomic_file."""

from __future__ import annotations

import math
import os
from dataclasses import fields

import numpy as np
import pytest

from genlab.atomic_file import atomic_write, atomic_write_bytes
from genlab.cli import main
from genlab.editing.conditional_vae import ConditionalVAEConfig
from genlab.errors import GenlabError, check_number, check_range
from genlab.models.autoencoder import AutoencoderConfig
from genlab.models.dcgan import DCGANConfig
from genlab.models.gan import GANConfig
from genlab.models.transformer_gan import TransformerGANConfig
from genlab.train import registry
from genlab.train.autoencoder import AutoencoderTrainConfig
from genlab.train.gan_config import GANTrainConfig
from genlab.validation import bounds, check_choice, choices, default, describe, limits

CONFIGS = (GANConfig, DCGANConfig, TransformerGANConfig, AutoencoderConfig, GANTrainConfig, AutoencoderTrainConfig,
           ConditionalVAEConfig)


# --------------------------------------------------------------------------- check_number


@pytest.mark.parametrize("value, kwargs, expected", [
    (3, {"lo": 1, "hi": 5, "integer": True}, 3),
    (3.0, {"lo": 1, "hi": 5, "integer": True}, 3),
    (np.int64(4), {"lo": 1, "hi": 5, "integer": True}, 4),
    (2**63 - 1, {"lo": 0, "hi": 2**63 - 1, "integer": True}, 2**63 - 1),   # exact, not via float
    (1, {"lo": 0, "hi": 1, "lo_open": True}, 1.0),
    (np.float32(0.5), {"lo": 0, "hi": 1}, 0.5),
])
def test_check_number_accepts_and_converts(value, kwargs, expected):
    result = check_number("x", value, **kwargs)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("value, kwargs, message", [
    (0, {"lo": 1, "hi": 100, "integer": True}, "k must be a whole number from 1 to 100 (got 0)"),
    (101, {"lo": 1, "hi": 100, "integer": True}, "k must be a whole number from 1 to 100 (got 101)"),
    (2.5, {"lo": 1, "hi": 100, "integer": True}, "k must be a whole number from 1 to 100 (got 2.5)"),
    (True, {"lo": 0, "hi": 1, "integer": True}, "k must be a whole number from 0 to 1 (got True)"),
    ("3", {"lo": 1, "hi": 5, "integer": True}, "k must be a whole number from 1 to 5 (got '3')"),
    (None, {"lo": 0}, "k must be a number >= 0 (got None)"),
    (0, {"lo": 0, "hi": 1, "lo_open": True}, "k must be > 0 and <= 1 (got 0)"),
    (1, {"lo": 0, "hi": 1, "hi_open": True}, "k must be >= 0 and < 1 (got 1)"),
    (math.nan, {"lo": 0, "hi": 1}, "k must be a finite number >= 0 and <= 1 (got nan)"),
    (math.inf, {"lo": 0}, "k must be a finite number >= 0 (got inf)"),
    ([1], {"lo": 0, "hi": 1}, "k must be a number >= 0 and <= 1 (got [1])"),
    (0, {"lo": 1}, "k must be >= 1 (got 0)"),
])
def test_check_number_refuses_with_what_is_allowed(value, kwargs, message):
    with pytest.raises(GenlabError) as info:
        check_number("k", value, **kwargs)
    assert str(info.value) == message


def test_check_range_is_check_number_and_returns_the_value():
    assert check_range("n", 5, 1, 10) == 5
    with pytest.raises(GenlabError, match=r"^n must be > 0 and < 1 \(got 1\)$"):
        check_range("n", 1, 0, 1, low_inclusive=False, high_inclusive=False)


def test_check_choice_messages():
    assert check_choice("loss", "lsgan", ("minimax", "lsgan")) == "lsgan"
    with pytest.raises(GenlabError, match=r"^unknown loss 'l1'; allowed: minimax, lsgan$"):
        check_choice("loss", "l1", ("minimax", "lsgan"))
    with pytest.raises(GenlabError, match=r"^image_size must be one of 8, 28 \(got 32\)$"):
        check_choice("image_size", 32, (8, 28))
    with pytest.raises(GenlabError, match="unknown loss"):
        check_choice("loss", ["minimax"], ("minimax",))   # unhashable: refused, no TypeError


# --------------------------------------------------------------------------- declared limits


def test_bounds_choices_defaults_and_descriptions():
    assert bounds(AutoencoderConfig, "latent_dim") == (1, 64)
    assert bounds(AutoencoderTrainConfig, "mc_samples") == (1, 100)
    assert bounds(GANConfig, "noise_dim") == (1, 256)
    assert bounds(DCGANConfig, "noise_dim") == (1, 1024)
    assert choices(GANTrainConfig, "loss") == ("minimax", "non-saturating", "lsgan")
    assert default(GANTrainConfig, "k_disc") == 1 == GANTrainConfig().k_disc
    assert describe(AutoencoderConfig, "latent_dim") == "1 to 64"
    assert describe(GANTrainConfig, "lr_d") == "> 0 and <= 1"
    assert describe(GANTrainConfig, "optimizer_d") == "adam, sgd"
    with pytest.raises(KeyError):
        limits(GANTrainConfig, "no_such_field")
    with pytest.raises(KeyError):
        choices(GANTrainConfig, "lr_d")


def _bad_values(spec):
    """Values just outside ``spec`` (a Limits): below/above the range, a fraction, a wrong choice."""
    if spec.choices is not None:
        return ["no-such-choice"] if all(isinstance(c, str) for c in spec.choices) else [12345]
    if spec.length is not None:
        low, high = spec.length
        good = spec.lo if not spec.lo_open else spec.lo + 0.5
        return [(good,) * (high + 1), (spec.hi + 1,) * low]
    out = [spec.lo if spec.lo_open else spec.lo - 1, spec.hi if spec.hi_open else spec.hi + 1]
    return out + ([spec.lo + 0.5] if spec.integer else [])


CASES = [(cls, item.name, value) for cls in CONFIGS for item in fields(cls) if "limits" in item.metadata
         for value in _bad_values(item.metadata["limits"])]


@pytest.mark.parametrize("cls, name, value", CASES, ids=[f"{c.__name__}.{n}={v!r}" for c, n, v in CASES])
def test_every_config_field_refuses_a_value_out_of_its_limits(cls, name, value):
    """Every declared field of every config dataclass: construction refuses a value out of its
    limits with a message that names the field and says what is allowed."""
    assert cls() is not None   # the defaults are inside the limits
    with pytest.raises(GenlabError) as info:
        cls(**{name: value})
    message = str(info.value)
    assert name in message and describe(cls, name) in message, message


def test_every_config_field_declares_limits():
    """No field is left unchecked (the 2D GAN's noise_skip, the VAE's beta, ... all declare limits)."""
    for cls in CONFIGS:
        assert [f.name for f in fields(cls) if "limits" not in f.metadata] == [], cls.__name__


def test_configs_depending_on_the_image_size():
    with pytest.raises(GenlabError, match="patch_overlap must be a whole number from 0 to 4 \\(got 5\\)"):
        TransformerGANConfig(patch_overlap=5)
    assert TransformerGANConfig(image_size=28, patch_size=7, patch_overlap=5).patch_overlap == 5
    with pytest.raises(GenlabError, match="conv architecture needs H and W divisible by 4"):
        AutoencoderConfig(architecture="conv", image_shape=(1, 10, 10))


# --------------------------------------------------------------------------- one source for trainers, registry, CLI


def test_live_edits_use_the_config_limits():
    """The trainers' live edits are checked against their train configs' limits (the check needs
    no trained state, so bare instances do)."""
    from genlab.train.autoencoder import AutoencoderTrainer
    from genlab.train.gan import GANTrainer

    gan, vae = GANTrainer.__new__(GANTrainer), AutoencoderTrainer.__new__(AutoencoderTrainer)
    assert gan.validate_hyperparameter("k_disc", 5.0) == 5
    with pytest.raises(GenlabError, match=r"k_disc must be a whole number from 1 to 100 \(got 101\)"):
        gan.validate_hyperparameter("k_disc", 101)
    with pytest.raises(GenlabError, match="unknown optimizer_g 'rmsprop'; allowed: adam, sgd"):
        gan.validate_hyperparameter("optimizer_g", "rmsprop")
    with pytest.raises(GenlabError, match=r"lr_d must be > 0 and <= 1 \(got 0\)"):
        gan.validate_hyperparameter("lr_d", 0)
    with pytest.raises(GenlabError, match=r"mc_samples must be a whole number from 1 to 100 \(got 101\)"):
        vae.validate_hyperparameter("mc_samples", 101)
    assert vae.validate_hyperparameter("beta", 2) == 2.0


@pytest.mark.parametrize("model", registry.MODELS)
def test_registry_options_have_the_config_limits(model):
    """Each numeric option of each model is refused just above its config field's limit."""
    dataset = "ring8" if model == "gan" else "digits"
    for name in registry.MODEL_OPTIONS[model]:
        if name in registry.CHOICE_OPTIONS or name == "points":
            continue
        cls, field_name = registry.option_field(model, name)
        high = bounds(cls, field_name)[1]
        with pytest.raises(GenlabError) as info:
            registry.validate_options(model, dataset, {name: high + 1})
        assert describe(cls, field_name) in str(info.value), (model, name, str(info.value))


def test_cli_refuses_an_out_of_range_flag_with_exit_2_and_the_range(tmp_path, capsys):
    code = main(["train", "vae", "--out", str(tmp_path / "x"), "--latent-dim", "65"])
    err = capsys.readouterr().err
    assert code == 2 and "latent_dim must be a whole number from 1 to 64 (got 65)" in err
    assert not (tmp_path / "x").exists()
    code = main(["train", "gan", "--out", str(tmp_path / "y"), "--noise-dim", "257"])
    assert code == 2 and "noise_dim must be a whole number from 1 to 256 (got 257)" in capsys.readouterr().err


def test_cli_help_shows_the_config_ranges_and_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "2000")   # one help line per option: no wrapping inside words
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "ae/vae: 1 to 64, default 2; gan: 1 to 256, default 2; dcgan/cgan/tgan: 1 to 1024, default 32" in text
    assert "samples of z per example (vae) (1 to 100, default 1)" in text
    assert "(minimax, non-saturating, lsgan, default non-saturating)" in text


# --------------------------------------------------------------------------- atomic writes


def test_atomic_write_replaces_whole_files_and_cleans_up(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    atomic_write_bytes(target, b"first", make_folder=True, mode=0o644)
    assert target.read_bytes() == b"first" and (os.stat(target).st_mode & 0o777) == 0o644

    def half_then_fail(tmp):
        with open(tmp, "wb") as handle:
            handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"first"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]   # no temp file left


# --------------------------------------------------------------------------- the server's cap


def test_the_server_cap_is_stricter_than_the_configs_absolute_limits():
    """Settings every config allows can describe a model the server refuses (genlab.limits)."""
    from genlab import limits as server_limits

    widest = {"model": "dcgan", "dataset": "digits",
              "model_config": {"channels": bounds(DCGANConfig, "channels")[1]}}
    assert server_limits.count_parameters(widest) > server_limits.MAX_MODEL_PARAMETERS
    with pytest.raises(GenlabError, match="this server allows at most"):
        server_limits.check_model_size(widest)
    vae = {"model": "vae", "model_config": {"hidden_dims": [bounds(AutoencoderConfig, "hidden_dims")[1]] * 4}}
    assert server_limits.count_parameters(vae) > server_limits.MAX_MODEL_PARAMETERS


def test_cli_resume_applies_the_server_cap(tmp_path, capsys, monkeypatch):
    from genlab import limits as server_limits
    from genlab.runs import RunStore

    config = registry.build_config("vae", "digits", {"latent_dim": 2})
    RunStore(tmp_path).create("big", config)
    monkeypatch.setattr(server_limits, "MAX_MODEL_PARAMETERS", 1000)
    code = main(["train", "vae", "--out", str(tmp_path / "big"), "--steps", "1", "--quiet"])
    assert code == 2 and "this server allows at most 1,000" in capsys.readouterr().err


def test_a_checkpoint_cannot_bring_settings_outside_the_limits():
    """A stored (e.g. imported) checkpoint's train_config is checked like a new run's: a k_disc of
    a billion would make one step run forever. (Trainer.load_state_dict, which the GAN and AE
    trainers call first, on a bare trainer: no networks needed.)"""
    from genlab.train.base import Trainer
    from genlab.train.gan import GANTrainer

    trainer = GANTrainer.__new__(GANTrainer)
    trainer.train_config = GANTrainConfig()
    Trainer.load_state_dict(trainer, {"step_count": 3, "train_config": {"k_disc": 4, "betas": [0.0, 0.99]}})
    assert (trainer.step_count, trainer.train_config.k_disc, trainer.train_config.betas) == (3, 4, (0.0, 0.99))
    with pytest.raises(GenlabError, match=r"k_disc must be a whole number from 1 to 100 \(got 1000000000\)"):
        Trainer.load_state_dict(trainer, {"step_count": 3, "train_config": {"k_disc": 10**9}})


def test_the_settings_and_their_limits_import_without_torch():
    """Pages draw controls from genlab.configs / genlab.validation before torch is imported."""
    import subprocess
    import sys

    code = ("import sys, genlab.configs, genlab.validation, genlab.train.gan_config; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr
