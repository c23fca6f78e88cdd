"""Step-wise trainer of the transformer GAN (``tgan``): :class:`~genlab.train.gan.GANTrainer`'s
training step with the ViT discriminator and the patch-by-patch transformer generator of
:mod:`genlab.models.transformer_gan`.

Everything about one step is GANTrainer's: Algorithm 1 with ``k_disc`` D updates per G update,
the losses of :mod:`genlab.losses`, the live hyperparameters, the linear learning-rate decay, the
EMA of G's weights for sampling, the R1 penalty, ``sample`` / ``evaluate`` (classifier Fréchet
distance of 360 samples to the test split) and the resumable ``state_dict``. This module only
builds the other two networks, and adds what the lesson page shows about them:
:meth:`TransformerGANTrainer.class_attention` (where the class token [*] looks) and
:meth:`TransformerGANTrainer.generator_patches` (the image as the generator emits it, one patch
per token).

The equal-time race of this model against DCGAN (the page's race, its demo and its runs) lives in
:mod:`genlab.train.race`.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, fields, replace

import numpy as np
import torch

from genlab.errors import GenlabError
from genlab.models.dcgan import DCGANConfig
from genlab.models.transformer_gan import (
    DEFAULT_PATCH,
    TransformerDiscriminator,
    TransformerGANConfig,
    TransformerGenerator,
    patchify,
    position_similarity,
    translate,
)
from genlab.train.base import dataclass_from_dict
from genlab.train.gan import GANTrainConfig, GANTrainer

MODEL_NAME = "tgan"
DEFAULT_STEPS = 3000
PRESETS: dict[str, dict] = {
    "default": {},
    "vanilla": {"lr_decay": "none", "ema": 0.0, "r1_gamma": 0.0, "spectral_norm": False},
}
# The recipe that makes the transformer GAN learn within the page's CPU budget (the screen that chose it is
# in docs/TUNING.md): R1 keeps the ViT discriminator from winning, at once and later by memorising the data;
# betas (0, 0.99) as in TransGAN / ViTGAN / StyleGAN2 (no momentum: D and G react to each other at once);
# one block in G and D because per-op overhead, not arithmetic, dominates these tiny networks on a CPU.
TRAIN_DEFAULTS: dict = {"lr_d": 1e-3, "lr_g": 1e-3, "betas": (0.0, 0.99), "batch_size": 64,
                        "r1_gamma": 4.0, "r1_every": 4}


def tgan_configs(preset: str = "default", **overrides) -> tuple[TransformerGANConfig, GANTrainConfig]:
    """``(model_config, train_config)`` of the transformer GAN: a preset plus ``overrides``
    (field names of :class:`TransformerGANConfig` or :class:`GANTrainConfig`)."""
    if preset not in PRESETS:
        raise GenlabError(f"unknown preset {preset!r}; allowed: {', '.join(PRESETS)}")
    model_names = {f.name for f in fields(TransformerGANConfig)}
    train_names = {f.name for f in fields(GANTrainConfig)}
    values = {**TRAIN_DEFAULTS, **PRESETS[preset], **overrides}
    unknown = sorted(set(values) - model_names - train_names)
    if unknown:
        raise GenlabError(f"unknown tgan setting(s) {', '.join(unknown)}; allowed: "
                          f"{', '.join(sorted(model_names | train_names))}")
    model_config = TransformerGANConfig(**{k: v for k, v in values.items() if k in model_names})
    train_config = GANTrainConfig(**{k: v for k, v in values.items() if k in train_names})
    return model_config, train_config


class TransformerGANTrainer(GANTrainer):
    """Trains the transformer GAN on ``digits`` (or ``mnist`` / ``fashion-mnist``).

    Args:
        dataset: an image data set (default ``digits``).
        model_config / train_config: default: the benchmark settings (:func:`tgan_configs`).
    """

    recipe_version = 1  # its own, not the GANTrainer's: see Trainer.recipe_version

    def __init__(self, dataset: str = "digits", model_config: TransformerGANConfig | None = None,
                 train_config: GANTrainConfig | None = None, device: torch.device | str = "cpu", data_dir=None):
        default_model, default_train = tgan_configs()
        model_config = replace(model_config if model_config is not None else default_model)
        if not isinstance(model_config, TransformerGANConfig):
            raise GenlabError("model tgan needs a TransformerGANConfig (the transformer GAN settings)")
        train_config = train_config if train_config is not None else default_train
        # GANTrainer's constructor loads the data, checks the batch size, seeds the random streams and
        # builds DCGAN networks. Let it do all of that for a 1-channel DCGAN stand-in with the same noise,
        # then install the transformer networks (so every attribute its step logic uses is set by it).
        stand_in = DCGANConfig(noise_dim=model_config.noise_dim, noise=model_config.noise, channels=1)
        super().__init__("dcgan", dataset, stand_in, train_config, device, data_dir)
        model_config.image_size = self.model_config.image_size
        model_config.num_classes = self.model_config.num_classes
        model_config.conditional = False
        if model_config.image_size % model_config.patch_size:
            model_config.validate()   # raises with the allowed patch sizes
        self.model_config = model_config.validate()
        self.model_name = MODEL_NAME
        self.default_steps = int(self.train_config.steps or DEFAULT_STEPS)

        torch.manual_seed(self.train_config.seed)                  # weight initialisation
        self.generator = TransformerGenerator(model_config).to(self.device)
        self.discriminator = TransformerDiscriminator(model_config).to(self.device)
        self.generator_ema = copy.deepcopy(self.generator) if self.train_config.ema > 0 else None
        self.optimizer_d = self._make_optimizer(self.discriminator, self.train_config.optimizer_d, self.train_config.lr_d)
        self.optimizer_g = self._make_optimizer(self.generator, self.train_config.optimizer_g, self.train_config.lr_g)

    @classmethod
    def from_config(cls, config: dict, device="cpu", data_dir=None, points=None) -> "TransformerGANTrainer":
        """Rebuild a trainer from :meth:`config_dict` output (missing settings: the defaults)."""
        model = config.get("model", MODEL_NAME)
        if model != MODEL_NAME:
            raise GenlabError(f"model {model!r} is not the transformer GAN; expected {MODEL_NAME!r}")
        if points is not None:
            raise GenlabError("the transformer GAN trains on images, not on points")
        dataset = config.get("dataset", "digits")
        base_model, base_train = tgan_configs(config.get("preset", "default"))
        model_values = {**asdict(base_model), **(config.get("model_config") or {})}
        if "patch_size" not in (config.get("model_config") or {}) and dataset in ("mnist", "fashion-mnist"):
            model_values["patch_size"] = DEFAULT_PATCH[28]
        model_config = dataclass_from_dict(TransformerGANConfig, model_values)
        train_config = dataclass_from_dict(GANTrainConfig, {**asdict(base_train), **(config.get("train_config") or {})})
        return cls(dataset, model_config, train_config, device, data_dir)

    def _d(self, x, y=None) -> torch.Tensor:
        """D's logits; while training with ``augment="translate"`` every input (real or fake, in the D
        and in the G update) is randomly shifted first (DiffAugment), drawn from the trainer's stream."""
        if self.model_config.augment == "translate" and self.discriminator.training:
            x = translate(x, self.rng)
        return self.discriminator(x)

    # ------------------------------------------------------------------ what the page shows
    def _to_model_images(self, images) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images).float()
        size = self.model_config.image_size
        if x.dim() == 3:
            x = x.unsqueeze(1)
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, size, size):
            raise GenlabError(f"images must have shape (N, 1, {size}, {size}) (got {tuple(x.shape)})")
        return (x.clamp(0, 1) * 2 - 1).to(self.device)

    @torch.no_grad()
    def class_attention(self, images) -> tuple[np.ndarray, np.ndarray]:
        """The discriminator's class-token attention over the patches (last block) for ``images``
        ``(N, 1, S, S)`` in [0, 1]: ``(weights (N, heads, S/P, S/P), D(x) (N,))`` (D(x) as the loss
        defines it: a probability, or the least-squares score for lsgan)."""
        from genlab.losses import discriminator_output

        was_training = self.discriminator.training
        self.discriminator.eval()
        weights, logits = self.discriminator.class_attention(self._to_model_images(images))
        self.discriminator.train(was_training)
        return weights.cpu().numpy(), discriminator_output(logits, self.train_config.loss).cpu().numpy()

    @torch.no_grad()
    def generator_patches(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` samples (noise ``seed``, as :meth:`sample` draws it) cut into the patches their
        output tokens are responsible for: ``(n, T, P, P)`` in [0, 1]; patch ``t`` is grid cell
        ``(t // (S/P), t % (S/P))`` (with ``output_overlap`` a token also blends into its
        neighbours' borders)."""
        images = self.sample(int(n), seed=int(seed))                              # (n, 1, S, S)
        p = self.model_config.patch_size
        return patchify(images, p).reshape(int(n), -1, p, p).numpy()

    def position_similarity(self, which: str = "discriminator") -> np.ndarray:
        """Cosine similarity ``(T, T)`` of the learned positional embeddings of D or G."""
        if which not in ("discriminator", "generator"):
            raise GenlabError(f"which must be 'discriminator' or 'generator' (got {which!r})")
        module = self.discriminator if which == "discriminator" else self.sampling_generator
        return position_similarity(module).cpu().numpy()

    def inspect(self, real_images, n_fake: int = 6, seed: int = 0) -> dict:
        """Everything the page draws about the transformer, as numpy arrays: the class token's
        attention and D(x) for ``real_images`` and for ``n_fake`` samples (fixed noise ``seed``),
        the samples' patches as the generator emits them, and the cosine similarity of D's
        position embeddings."""
        fake = self.sample(int(n_fake), seed=int(seed))
        real_attention, real_scores = self.class_attention(real_images)
        fake_attention, fake_scores = self.class_attention(fake)
        return {
            "real_images": np.asarray(torch.as_tensor(real_images).float().clamp(0, 1)),
            "real_attention": real_attention, "real_scores": real_scores,
            "fake_images": fake.numpy(), "fake_attention": fake_attention, "fake_scores": fake_scores,
            "patches": self.generator_patches(int(n_fake), seed=int(seed)),
            "position_similarity": self.position_similarity("discriminator"),
            "patch_size": int(self.model_config.patch_size), "heads": int(self.model_config.heads),
        }

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters of G and D."""
        return {"generator": sum(p.numel() for p in self.generator.parameters()),
                "discriminator": sum(p.numel() for p in self.discriminator.parameters())}


# ====================================================================== equal-wall-time training
