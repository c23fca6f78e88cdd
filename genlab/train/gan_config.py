"""The GANs' settings: :class:`GANTrainConfig` (training options; defined in :mod:`genlab.configs`), the presets and
:func:`gan_configs` (model + training config of a preset with overrides). Part of :mod:`genlab.train.gan`."""

from __future__ import annotations

from dataclasses import fields

from genlab.configs import LR_DECAYS, MAX_STEPS, OPTIMIZERS, DCGANConfig, GANConfig, GANTrainConfig  # noqa: F401 - re-exported
from genlab.errors import GenlabError
from genlab.validation import check_choice

MODEL_NAMES = ("gan", "dcgan", "cgan")
POINTS_DATASET = "points"       # data set name of a 2D GAN trained on user points
TOY_POOL_SIZE = 50_000          # points drawn once from a 2D toy distribution (the "data set")
EVAL_POINTS = 2500              # 2D evaluation sample size (VEEGAN / PacGAN protocol)
EVAL_SEED = 1234                # noise seed of evaluate(): every run is scored on the same z

# Steps of the default (benchmark) run: see bench/gan_quality.py for the numbers they reach.
DEFAULT_STEPS = {"gan": 6000, "dcgan": 6000, "cgan": 6000}


def check_optimizer(name: str, value: str) -> str:
    """``value`` if it is one of :data:`OPTIMIZERS`, else GenlabError naming ``name``."""
    return check_choice(name, value, OPTIMIZERS)


# Presets of the 2D GAN (flat: each key is a GANConfig or GANTrainConfig field).
# "default" = the benchmark setting (the dataclass defaults); "vanilla" = a plain GAN as usually run
# today (Adam, no stabiliser; not Goodfellow's SGD with momentum), where students see mode collapse /
# mode hopping on ring8 and grid25.
GAN_PRESETS: dict[str, dict] = {
    "default": {},
    "vanilla": {
        "noise_dim": 2, "hidden": 128, "layers": 3, "disc_hidden": 128, "disc_layers": 3, "pack": 1,
        "spectral_norm": False, "noise": "gaussian", "noise_skip": 0.0, "loss": "non-saturating",
        "batch_size": 64, "lr_d": 1e-3, "lr_g": 1e-3, "k_disc": 1, "optimizer_d": "adam", "optimizer_g": "adam",
        "lr_decay": "none", "ema": 0.0, "r1_gamma": 0.0,
    },
}
# Image GANs: the same two names so that a --preset option means something everywhere.
DCGAN_PRESETS: dict[str, dict] = {
    "default": {},
    "vanilla": {"lr_decay": "none", "ema": 0.0, "r1_gamma": 0.0, "spectral_norm": False, "betas": (0.5, 0.999)},
}
# Model-specific defaults that differ from the dataclass defaults (benchmark settings). The image GANs:
# 32 channels make a step cheaper for the same Fréchet distance, and the time saved buys more steps
# with a lazy R1 penalty (on every 4th D update: the full penalty costs more for no better score).
# The higher lr (decayed to 0 over the run) and the longer run give digits of the right shape more
# often, as seen by three classifier judges, not only genlab's; so does Adam without momentum (β1 = 0,
# as GANs with the R1 penalty are trained: Mescheder et al. 2018, StyleGAN2). The screens: docs/TUNING.md.
_IMAGE_GAN_DEFAULTS = {"channels": 32, "lr_d": 8e-4, "lr_g": 8e-4, "batch_size": 64, "r1_gamma": 1.0, "r1_every": 4,
                       "betas": (0.0, 0.99)}
_MODEL_DEFAULTS: dict[str, dict] = {
    "gan": {},
    "dcgan": dict(_IMAGE_GAN_DEFAULTS),
    "cgan": dict(_IMAGE_GAN_DEFAULTS),
}


def gan_configs(model_name: str, preset: str = "default", **overrides):
    """``(model_config, train_config)`` for ``model_name`` from a preset plus ``overrides``.

    Overrides are field names of :class:`GANConfig` / :class:`DCGANConfig` or
    :class:`GANTrainConfig` (unknown names raise GenlabError listing the allowed ones).
    """
    _check_model(model_name)
    presets = GAN_PRESETS if model_name == "gan" else DCGAN_PRESETS
    if preset not in presets:
        raise GenlabError(f"unknown preset {preset!r}; allowed: {', '.join(presets)}")
    model_cls = GANConfig if model_name == "gan" else DCGANConfig
    model_names = {f.name for f in fields(model_cls)}
    train_names = {f.name for f in fields(GANTrainConfig)}
    values = {**_MODEL_DEFAULTS[model_name], **presets[preset], **overrides}
    unknown = sorted(set(values) - model_names - train_names)
    if unknown:
        raise GenlabError(f"unknown {model_name} setting(s) {', '.join(unknown)}; allowed: "
                          f"{', '.join(sorted(model_names | train_names))}")
    model_config = model_cls(**{k: v for k, v in values.items() if k in model_names})
    if model_name == "cgan":
        model_config.conditional = True
    train_config = GANTrainConfig(**{k: v for k, v in values.items() if k in train_names})
    return model_config, train_config


def _check_model(name: str) -> str:
    if name not in MODEL_NAMES:
        raise GenlabError(f"unknown GAN model {name!r}; allowed: {', '.join(MODEL_NAMES)}")
    return name
