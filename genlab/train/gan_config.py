"""The GANs' settings: :class:`GANTrainConfig` (training options, validated), the presets and
:func:`gan_configs` (model + training config of a preset with overrides). Part of :mod:`genlab.train.gan`."""

from __future__ import annotations

from dataclasses import dataclass, fields


from genlab.errors import GenlabError, check_range
from genlab.losses import check_loss
from genlab.models.dcgan import DCGANConfig
from genlab.models.gan import GANConfig, _check_int

MODEL_NAMES = ("gan", "dcgan", "cgan")
POINTS_DATASET = "points"       # data set name of a 2D GAN trained on user points
OPTIMIZERS = ("adam", "sgd")
LR_DECAYS = ("none", "linear")
TOY_POOL_SIZE = 50_000          # points drawn once from a 2D toy distribution (the "data set")
EVAL_POINTS = 2500              # 2D evaluation sample size (VEEGAN / PacGAN protocol)
EVAL_SEED = 1234                # noise seed of evaluate(): every run is scored on the same z
MAX_STEPS = 10_000_000

# Steps of the default (benchmark) run: see bench/gan_quality.py for the numbers they reach.
DEFAULT_STEPS = {"gan": 6000, "dcgan": 4000, "cgan": 4000}


@dataclass
class GANTrainConfig:
    """Training settings. ``lr_d, lr_g, k_disc, loss, optimizer_d, optimizer_g`` are live."""

    lr_d: float = 5e-4                 # discriminator learning rate, (0, 1]
    lr_g: float = 5e-4                 # generator learning rate, (0, 1]
    k_disc: int = 1                    # D updates per G update (Algorithm 1's k), 1..100
    loss: str = "non-saturating"       # minimax | non-saturating | lsgan
    optimizer_d: str = "adam"          # adam | sgd (an optimizer switch keeps the network)
    optimizer_g: str = "adam"
    betas: tuple[float, float] = (0.5, 0.999)   # Adam's (β1, β2) (Radford et al.: β1 = 0.5)
    momentum: float = 0.9              # SGD momentum (Goodfellow et al. used momentum)
    batch_size: int = 256              # m, real and fake samples per update
    steps: int | None = None           # length of the run (for the lr decay); None: DEFAULT_STEPS[model]
    lr_decay: str = "linear"           # none | linear: lr falls linearly to lr_final * lr at `steps`
    lr_final: float = 0.0              # fraction of the lr left at the end of the decay, 0..1
    ema: float = 0.999                 # EMA decay of G's weights used for sampling (warm-up: min(ema, (1+t)/(10+t))); 0 = off
    r1_gamma: float = 0.0              # weight γ of the R1 penalty γ/2 E‖∇_x l(x)‖²; 0 = off
    r1_every: int = 1                  # lazy R1: the penalty (weight γ·r1_every) on every r1_every-th D update only
    seed: int = 0

    def __post_init__(self):
        self.lr_d = float(check_range("lr_d", self.lr_d, 0, 1, low_inclusive=False))
        self.lr_g = float(check_range("lr_g", self.lr_g, 0, 1, low_inclusive=False))
        self.k_disc = _check_int("k_disc", self.k_disc, 1, 100)
        check_loss(self.loss)
        check_optimizer("optimizer_d", self.optimizer_d)
        check_optimizer("optimizer_g", self.optimizer_g)
        try:
            beta1, beta2 = (float(b) for b in self.betas)
        except (TypeError, ValueError):
            raise GenlabError(f"betas must be two numbers in [0, 1) (got {self.betas!r})") from None
        check_range("beta1", beta1, 0, 1, high_inclusive=False)
        check_range("beta2", beta2, 0, 1, high_inclusive=False)
        self.betas = (beta1, beta2)
        self.momentum = float(check_range("momentum", self.momentum, 0, 1, high_inclusive=False))
        self.batch_size = _check_int("batch_size", self.batch_size, 1, 100_000)
        if self.steps is not None:
            self.steps = _check_int("steps", self.steps, 1, MAX_STEPS)
        if self.lr_decay not in LR_DECAYS:
            raise GenlabError(f"unknown lr_decay {self.lr_decay!r}; allowed: {', '.join(LR_DECAYS)}")
        self.lr_final = float(check_range("lr_final", self.lr_final, 0, 1))
        self.ema = float(check_range("ema", self.ema, 0, 1, high_inclusive=False))
        self.r1_gamma = float(check_range("r1_gamma", self.r1_gamma, 0, 1000))
        self.r1_every = _check_int("r1_every", self.r1_every, 1, 1000)
        self.seed = _check_int("seed", self.seed, 0, 2**63 - 1)


def check_optimizer(name: str, value: str) -> str:
    if value not in OPTIMIZERS:
        raise GenlabError(f"unknown {name} {value!r}; allowed: {', '.join(OPTIMIZERS)}")
    return value


# Presets of the 2D GAN (flat: each key is a GANConfig or GANTrainConfig field).
# "default" = the benchmark setting (the dataclass defaults); "vanilla" = Goodfellow's plain GAN
# with no stabilizer, where students see mode collapse / mode hopping on ring8 and grid25.
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
    "vanilla": {"lr_decay": "none", "ema": 0.0, "r1_gamma": 0.0, "spectral_norm": False},
}
# Model-specific defaults that differ from the dataclass defaults (benchmark settings).
# dcgan on digits (bench/gan_quality.py dcgan digits --seeds 0 1 2 3 --threads 1): 32 channels instead of
# 64 make a step ~2x cheaper for the same Fréchet distance, and the time saved buys 4000 steps at lr 4e-4
# with a lazy R1 penalty (γ = 1 on every 4th D update): FD 10.3 / 11.5 / 10.7 (seeds 0-2, 0.63-0.70x the
# GMM's 16.4) in ~70 s of training on one thread. Without R1: 17.7 (64 channels, 3000 steps, lr 2e-4);
# full R1 on every update costs ~25% more per step for no better score.
_IMAGE_GAN_DEFAULTS = {"channels": 32, "lr_d": 4e-4, "lr_g": 4e-4, "batch_size": 64, "r1_gamma": 1.0, "r1_every": 4}
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
