"""Model registry: model names -> trainer classes, and user options -> trainer configs.

``options`` are the CLI's option names with ``_`` for ``-`` (``lr_d``, ``k_disc``, ``latent_dim``,
``batch_size`` ...), as a dict of the options the user actually gave (missing or ``None`` = the
trainer's default, which is the benchmark setting of that model and data set). The CLI and the
dashboard pages both build trainers through :func:`build_trainer`, so an option means the same
thing everywhere and bad values get the same messages::

    trainer = build_trainer("vae", "digits", {"latent_dim": 2, "beta": 0.5}, device="cpu")
    steps = target_steps(trainer, options)   # --steps, or the trainer's default_steps
"""

from __future__ import annotations

import importlib
from typing import Any

from genlab.data import IMAGE_DATASETS, TOY_DATASETS
from genlab.errors import GenlabError, check_number
from genlab.configs import (AutoencoderConfig, AutoencoderTrainConfig, DCGANConfig, GANConfig, GANTrainConfig,
                            TransformerGANConfig)
from genlab.train.gan_config import DCGAN_PRESETS, GAN_PRESETS, gan_configs
from genlab.validation import bounds, check_option, choices, describe

MODELS = ("ae", "vae", "gan", "dcgan", "cgan", "tgan")
IMAGE_MODELS = ("ae", "vae", "dcgan", "cgan", "tgan")
AUTOENCODERS = ("ae", "vae")
GANS = ("gan", "dcgan", "cgan", "tgan")
POINTS_DATASET = "points"  # the data set name of a gan trained on a --points CSV

# training-split sizes of the image data sets (to refuse a batch larger than the data set early)
TRAIN_SIZES = {"digits": 1437, "mnist": 60_000, "fashion-mnist": 60_000}
IMAGE_SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28)}

_TRAINERS = {
    "ae": ("genlab.train.autoencoder", "AutoencoderTrainer"),
    "vae": ("genlab.train.autoencoder", "AutoencoderTrainer"),
    "gan": ("genlab.train.gan", "GANTrainer"),
    "dcgan": ("genlab.train.gan", "GANTrainer"),
    "cgan": ("genlab.train.gan", "GANTrainer"),
    "tgan": ("genlab.train.transformer_gan", "TransformerGANTrainer"),  # transformer GAN (issue 9)
}

COMMON_OPTIONS = ("epochs", "steps", "latent_dim", "seed", "lr", "batch_size")
AUTOENCODER_OPTIONS = COMMON_OPTIONS + ("beta", "mc_samples", "arch", "decoder")
GAN_OPTIONS = COMMON_OPTIONS + ("lr_d", "lr_g", "k_disc", "loss", "optimizer", "optimizer_d", "optimizer_g",
                                "disc", "noise_dim", "preset")
CHOICE_OPTIONS = ("arch", "decoder", "loss", "optimizer", "optimizer_d", "optimizer_g", "disc", "preset")
MODEL_OPTIONS: dict[str, tuple[str, ...]] = {
    "ae": tuple(o for o in AUTOENCODER_OPTIONS if o not in ("beta", "mc_samples")),
    "vae": AUTOENCODER_OPTIONS,
    "gan": tuple(o for o in GAN_OPTIONS if o not in ("disc", "epochs")) + ("points",),  # 2D: no epochs
    "dcgan": GAN_OPTIONS,
    "cgan": GAN_OPTIONS,
    "tgan": tuple(o for o in GAN_OPTIONS if o != "disc"),  # a ViT discriminator, no PatchGAN option
}
# Each option's limits are the config dataclass field's it sets (genlab.validation): one source for
# the trainers, this registry, the CLI's flags and the pages' controls.
_AE_FIELDS = {"epochs": (AutoencoderTrainConfig, "epochs"), "latent_dim": (AutoencoderConfig, "latent_dim"),
              "seed": (AutoencoderTrainConfig, "seed"), "lr": (AutoencoderTrainConfig, "lr"),
              "batch_size": (AutoencoderTrainConfig, "batch_size"), "beta": (AutoencoderTrainConfig, "beta"),
              "mc_samples": (AutoencoderTrainConfig, "mc_samples"), "arch": (AutoencoderConfig, "architecture"),
              "decoder": (AutoencoderConfig, "decoder")}
_GAN_FIELDS = {"epochs": (AutoencoderTrainConfig, "epochs"), "seed": (GANTrainConfig, "seed"),
               "lr": (GANTrainConfig, "lr_d"), "batch_size": (GANTrainConfig, "batch_size"),
               **{name: (GANTrainConfig, name) for name in ("lr_d", "lr_g", "k_disc", "loss", "optimizer_d", "optimizer_g")},
               "optimizer": (GANTrainConfig, "optimizer_d"), "disc": (DCGANConfig, "disc")}
_NOISE_CONFIG = {"gan": GANConfig, "dcgan": DCGANConfig, "cgan": DCGANConfig, "tgan": TransformerGANConfig}


def option_field(model_name: str, name: str) -> tuple[type, str]:
    """``(config class, field name)`` whose limits option ``name`` of ``model_name`` has, e.g.
    ``option_field("vae", "latent_dim") == (AutoencoderConfig, "latent_dim")``."""
    if name == "steps":
        return GANTrainConfig, "steps"
    if model_name in AUTOENCODERS:
        return _AE_FIELDS[name]
    if name in ("latent_dim", "noise_dim"):
        return _NOISE_CONFIG[model_name], "noise_dim"
    return _GAN_FIELDS[name]


def option_choices(model_name: str, name: str) -> tuple:
    """The allowed values of a choice option (``preset``: the model's preset names)."""
    if name == "preset":
        from genlab.train import transformer_gan

        return tuple(transformer_gan.PRESETS if model_name == "tgan" else
                     GAN_PRESETS if model_name == "gan" else DCGAN_PRESETS)
    return choices(*option_field(model_name, name))


MAX_STEPS = bounds(GANTrainConfig, "steps")[1]


def option_allowed(model_name: str, name: str) -> str:
    """The allowed values of option ``name`` of ``model_name`` as text: ``1 to 64``, ``> 0 and <= 1``,
    ``mlp, conv``."""
    if name in CHOICE_OPTIONS:
        return ", ".join(option_choices(model_name, name))
    return describe(*option_field(model_name, name))


def option_default(model_name: str, name: str):
    """What a new ``model_name`` run uses when option ``name`` is not given: the benchmark setting
    (None where it depends on the data set: epochs, steps)."""
    if name in ("epochs", "steps", "points"):
        return None
    if name == "preset":
        return "default"
    cls, field_name = option_field(model_name, name)
    if model_name in AUTOENCODERS:
        return getattr(cls(kind=model_name) if cls is AutoencoderConfig else cls(), field_name)
    if model_name == "tgan":
        from genlab.train.transformer_gan import tgan_configs

        model_config, train_config = tgan_configs()
    else:
        model_config, train_config = gan_configs(model_name)
    return getattr(train_config if cls is GANTrainConfig else model_config, field_name)




def option_flag(name: str) -> str:
    """``lr_d`` -> ``--lr-d`` (how messages name an option)."""
    return "--" + name.replace("_", "-")


def check_model(name: str) -> str:
    if name not in MODELS:
        raise GenlabError(f"unknown model {name!r}; allowed: {', '.join(MODELS)}")
    return name


def trainer_class(model_name: str):
    """The trainer class of ``model_name`` (imported lazily)."""
    module_name, class_name = _TRAINERS[check_model(model_name)]
    module = importlib.import_module(module_name)
    return getattr(module, class_name)


def datasets_for(model_name: str) -> tuple[str, ...]:
    """Data sets a model can train on (gan: the 2D sets; it also takes a --points CSV)."""
    return TOY_DATASETS if check_model(model_name) == "gan" else IMAGE_DATASETS


def check_dataset(model_name: str, dataset: str) -> str:
    allowed = datasets_for(model_name)
    if dataset not in allowed:
        kind = "2D point sets (or --points FILE.csv)" if model_name == "gan" else "image data sets"
        raise GenlabError(f"data set {dataset!r} cannot be used with {model_name}; {model_name} needs {kind}: {', '.join(allowed)}")
    return dataset


# --------------------------------------------------------------------------- validation


def _whole(name: str, value, low: int, high: int) -> int:
    """``value`` as an int in [low, high], else GenlabError "NAME must be a whole number from ..."."""
    return check_number(name, value, lo=low, hi=high, integer=True)


def _given(options: dict | None) -> dict[str, Any]:
    """The options that were actually given (``None`` means: use the default)."""
    return {k.replace("-", "_"): v for k, v in (options or {}).items() if v is not None}


def validate_options(model_name: str, dataset: str, options: dict | None) -> dict[str, Any]:
    """Check names, ranges and choices of ``options`` for ``model_name``; return the given ones
    converted (ints/floats). Raises GenlabError naming the option and the allowed values."""
    check_model(model_name)
    given = _given(options)
    allowed = MODEL_OPTIONS[model_name]
    for name in given:
        if name not in allowed:
            raise GenlabError(
                f"{option_flag(name)} is not an option of {model_name}; its options: "
                f"{', '.join(option_flag(o) for o in allowed)}"
            )
    if "epochs" in given and "steps" in given:
        raise GenlabError("give either --epochs or --steps, not both")
    if "latent_dim" in given and "noise_dim" in given and given["latent_dim"] != given["noise_dim"]:
        raise GenlabError("--latent-dim and --noise-dim both set the noise size of a GAN; give one of them")
    out: dict[str, Any] = {}
    for name, value in given.items():
        if name == "points":
            out[name] = _points(value)
        elif name == "preset" or name in CHOICE_OPTIONS:
            allowed = option_choices(model_name, name)
            if value not in allowed:
                raise GenlabError(f"{option_flag(name)} {value!r} is not allowed; choose one of: {', '.join(allowed)}")
            out[name] = value
        else:
            out[name] = check_option(*option_field(model_name, name), value, label=name)
            size = TRAIN_SIZES.get(dataset)
            if name == "batch_size" and size is not None and out[name] > size:
                raise GenlabError(f"batch_size {out[name]} is larger than the {dataset} training set; allowed: 1 to {size}")
    return out


# --------------------------------------------------------------------------- configs


def _points(value) -> list[list[float]]:
    """User points for the 2D gan: a CSV path (columns x,y) or an (N, 2) array -> a JSON list."""
    import os

    import numpy as np

    from genlab.data import MAX_CSV_ROWS, load_points_csv

    if isinstance(value, (str, os.PathLike, bytes)):
        points = load_points_csv(value)
    else:
        points = np.asarray(value, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or not 2 <= points.shape[0] <= MAX_CSV_ROWS:
            raise GenlabError(f"points must have shape (N, 2) with 2 <= N <= {MAX_CSV_ROWS} (got {points.shape})")
        if not np.isfinite(points).all():
            raise GenlabError("points contain NaN or infinity; x and y must be finite numbers")
    return np.asarray(points, dtype=np.float32).tolist()


def describe_option(name: str) -> str:
    """Allowed values and defaults of option ``name`` for every model that has it, grouped, e.g.
    ``ae/vae: 1 to 64, default 2; gan: 1 to 256, default 2`` (the CLI's help)."""
    groups: dict[tuple, list[str]] = {}
    for model in MODELS:
        if name in MODEL_OPTIONS[model]:
            groups.setdefault((option_allowed(model, name), option_default(model, name)), []).append(model)
    return "; ".join((f"{'/'.join(models)}: " if len(groups) > 1 else "") + allowed
                     + ("" if default is None else f", default {default}") for (allowed, default), models in groups.items())


def build_config(model_name: str, dataset: str, options: dict | None = None) -> dict:
    """The ``config_dict()``-shaped dict (``model``, ``dataset``, ``model_config``,
    ``train_config``, and ``points`` for a gan on user points) for these options.

    Only given options (and a given preset's settings) appear; the trainer's ``from_config``
    fills in the rest from its defaults (the benchmark settings)."""
    check_model(model_name)
    if "points" in _given(options):
        if model_name != "gan":
            raise GenlabError(f"--points is only for the 2D gan (not {model_name})")
        dataset = POINTS_DATASET
    else:
        check_dataset(model_name, dataset)
    base = {"model": model_name, "dataset": dataset, "model_config": {}, "train_config": {}}
    return apply_options(base, options)


def apply_options(config: dict, options: dict | None) -> dict:
    """A copy of ``config`` (``config_dict()``-shaped) with the given ``options`` applied.

    Used for new runs (on an empty config) and to check that options given when resuming an
    existing run agree with it (applying them must change nothing but the run length).
    """
    model_name = check_model(str(config.get("model")))
    dataset = str(config.get("dataset"))
    given = validate_options(model_name, dataset, options)
    out = {**config, "model_config": dict(config.get("model_config") or {}),
           "train_config": dict(config.get("train_config") or {})}
    if model_name in AUTOENCODERS:
        _apply_autoencoder(out, dataset, given)
    else:
        _apply_gan(out, model_name, dataset, given)
    return out


def _apply_autoencoder(config: dict, dataset: str, given: dict) -> None:
    model_config, train_config = config["model_config"], config["train_config"]
    model_config["kind"] = config["model"]
    model_config.setdefault("image_shape", list(IMAGE_SHAPES.get(dataset, (1, 8, 8))))
    if "arch" in given:
        model_config["architecture"] = given["arch"]
    for name in ("decoder", "latent_dim"):
        if name in given:
            model_config[name] = given[name]
    for name in ("lr", "batch_size", "epochs", "beta", "mc_samples", "seed"):
        if name in given:
            train_config[name] = given[name]


def _apply_gan(config: dict, model_name: str, dataset: str, given: dict) -> None:
    from dataclasses import fields

    from genlab.train import gan as gan_training

    if model_name == "tgan":   # the transformer GAN: same training options, its own architecture config
        from genlab.train import transformer_gan as tgan_training

        model_cls, presets = TransformerGANConfig, tgan_training.PRESETS
        default_batch = tgan_training.tgan_configs()[1].batch_size
    else:
        model_cls = GANConfig if model_name == "gan" else DCGANConfig
        presets = gan_training.GAN_PRESETS if model_name == "gan" else gan_training.DCGAN_PRESETS
        default_batch = None
    model_fields = {f.name for f in fields(model_cls)}
    train_fields = {f.name for f in fields(gan_training.GANTrainConfig)}
    settings: dict[str, Any] = {}
    if "preset" in given:
        settings.update(presets[given["preset"]])
    if "lr" in given:
        settings["lr_d"] = settings["lr_g"] = given["lr"]
    if "optimizer" in given:
        settings["optimizer_d"] = settings["optimizer_g"] = given["optimizer"]
    if "latent_dim" in given:
        settings["noise_dim"] = given["latent_dim"]
    for name in ("lr_d", "lr_g", "optimizer_d", "optimizer_g", "k_disc", "loss", "disc", "noise_dim",
                 "batch_size", "seed", "steps"):
        if name in given:
            settings[name] = given[name]
    if "epochs" in given:  # image GANs: epochs over the training split -> steps
        batch = settings.get("batch_size") or config["train_config"].get("batch_size") \
            or default_batch or gan_training.gan_configs(model_name)[1].batch_size
        settings["steps"] = _whole("steps", -(-given["epochs"] * TRAIN_SIZES[dataset] // int(batch)), 1, MAX_STEPS)
    for name, value in settings.items():
        if name in model_fields:
            config["model_config"][name] = value
        elif name in train_fields:
            config["train_config"][name] = value
    if "points" in given:
        config["points"] = given["points"]


def build_trainer(model_name: str, dataset: str, options: dict | None = None, device="cpu", data_dir=None):
    """A fresh trainer for ``model_name`` on ``dataset`` with the user's ``options``.

    ``steps`` is not part of the trainer (see :func:`target_steps`); ``epochs`` is.
    """
    config = build_config(model_name, dataset, options)
    trainer = trainer_class(model_name).from_config(config, device=device, data_dir=data_dir)
    return trainer


def target_steps(trainer, options: dict | None = None) -> int:
    """How many steps a run trains in total: ``steps`` if given, else ``trainer.default_steps``
    (which follows ``epochs``)."""
    given = _given(options)
    if "steps" in given:
        return _whole("steps", given["steps"], 1, MAX_STEPS)
    return int(trainer.default_steps)
