"""The settings of genlab's models and trainers: one dataclass each, every field with its limits
declared next to it (:func:`genlab.validation.option`) and checked on construction.

This module imports no torch, so that pages can draw their controls from these limits and defaults
(:func:`genlab.validation.bounds`, ``choices``, ``default``) before the first training imports it.
The model and trainer modules re-export their classes (``genlab.models.gan.GANConfig`` is this
``GANConfig``).
"""

from __future__ import annotations

from dataclasses import dataclass

from genlab.errors import GenlabError
from genlab.validation import check_fields, check_number, option

NOISE_DISTRIBUTIONS = ("gaussian", "uniform", "clusters")   # p(z), see genlab.models.gan.sample_noise
GAN_LOSSES = ("minimax", "non-saturating", "lsgan")         # see genlab.losses
OPTIMIZERS = ("adam", "sgd")
LR_DECAYS = ("none", "linear")
MAX_STEPS = 10_000_000
IMAGE_SIZES = (8, 28)                                        # 8x8 digits, 28x28 MNIST / Fashion-MNIST
DISCRIMINATORS = ("standard", "patch")
AUGMENTATIONS = ("none", "translate")
KINDS = ("ae", "vae")
ARCHITECTURES = ("mlp", "conv")
DECODERS = ("bernoulli", "gaussian")


# --------------------------------------------------------------------------- models

@dataclass
class GANConfig:
    """Architecture of the 2D GAN (limits declared per field, checked on construction and by validate())."""

    noise_dim: int = option(2, lo=1, hi=256, integer=True)         # size of z; 1 or 2 lets the page draw G's whole noise space
    noise: str = option("clusters", choices=NOISE_DISTRIBUTIONS)  # p(z): "gaussian" N(0, I), "uniform" U(-1, 1) or "clusters" (see genlab.models.gan.sample_noise)
    hidden: int = option(128, lo=1, hi=4096, integer=True)        # width of every hidden layer of G
    layers: int = option(3, lo=1, hi=16, integer=True)            # hidden layers of G
    disc_hidden: int = option(128, lo=1, hi=4096, integer=True)   # width of every hidden layer of D
    disc_layers: int = option(3, lo=1, hi=16, integer=True)       # hidden layers of D
    pack: int = option(1, lo=1, hi=16, integer=True)              # PacGAN packing degree (1 = ordinary D)
    spectral_norm: bool = option(False, choices=(False, True))    # spectral normalization on D's layers
    noise_skip: float = option(1.0, lo=0, hi=100)   # G(z) = noise_skip * (z1, z2) / std(z) + MLP(z): fakes start spread like the data; 0 = off

    def __post_init__(self):
        self.validate()

    def validate(self) -> "GANConfig":
        """Check every field against its limits (again after a field was set); returns self."""
        return check_fields(self)


@dataclass
class DCGANConfig:
    """Architecture of the image GAN (dcgan / cgan); limits declared per field, checked on
    construction and by validate() (the trainer sets image_size and conditional afterwards)."""

    noise_dim: int = option(32, lo=1, hi=1024, integer=True)     # size of z
    noise: str = option("gaussian", choices=NOISE_DISTRIBUTIONS)  # p(z): "gaussian", "uniform" (or the 2D GAN's "clusters")
    channels: int = option(64, lo=1, hi=1024, integer=True)      # c: feature maps of G's last and D's first conv layer (x2 in the next)
    disc: str = option("standard", choices=DISCRIMINATORS)       # "standard" (one logit per image) or "patch" (a map of patch logits)
    image_size: int = option(8, choices=IMAGE_SIZES)             # 8 (digits) or 28 (mnist, fashion-mnist); set from the data set
    conditional: bool = option(False, choices=(False, True))     # cgan: label embedding appended to G's noise and D's input
    num_classes: int = option(10, lo=2, hi=1000, integer=True)
    embed_dim: int = option(10, lo=1, hi=1024, integer=True)     # size of the label embedding e(y)
    spectral_norm: bool = option(False, choices=(False, True))   # spectral normalization on D's layers (Miyato et al. 2018)

    def __post_init__(self):
        self.validate()

    def validate(self) -> "DCGANConfig":
        """Check every field against its limits (again after a field was set); returns self."""
        return check_fields(self)


@dataclass
class TransformerGANConfig:
    """Architecture of the transformer GAN (``tgan``)."""

    noise_dim: int = option(32, lo=1, hi=1024, integer=True)   # size of z
    noise: str = option("gaussian", choices=NOISE_DISTRIBUTIONS)  # p(z): "gaussian" or "uniform"
    patch_size: int = option(4, lo=1, hi=max(IMAGE_SIZES), integer=True)  # P: square patches of P x P pixels (8x8 digits: 4 -> 4 tokens, 2 -> 16)
    dim: int = option(64, lo=4, hi=1024, integer=True)         # D: token embedding size
    depth_g: int = option(1, lo=1, hi=12, integer=True)        # transformer blocks in the generator (1: a step costs less than with 2,
    depth_d: int = option(1, lo=1, hi=12, integer=True)        # transformer blocks in the discriminator   and learns faster in a short race)
    heads: int = option(4, lo=1, hi=64, integer=True)          # attention heads (dim must be a multiple)
    mlp_ratio: int = option(2, lo=1, hi=8, integer=True)       # width of each block's MLP, as a multiple of dim
    image_size: int = option(8, choices=IMAGE_SIZES)           # S: 8 (digits) or 28 (mnist, fashion-mnist); set from the data set
    spectral_norm: bool = option(False, choices=(False, True))  # spectral normalization on D's linear layers
    # D only: each token sees its P x P patch plus this many pixels around it (ViTGAN's overlapping
    # patches; see genlab.models.transformer_gan); 0 = ViT's disjoint patches. At most image_size // 2.
    patch_overlap: int = option(1, lo=0, hi=max(IMAGE_SIZES) // 2, integer=True)
    # G only: each token emits a window of P + 2*output_overlap pixels around its patch; overlapping
    # windows are added up (like a transposed convolution). At most image_size // 2.
    output_overlap: int = option(0, lo=0, hi=max(IMAGE_SIZES) // 2, integer=True)
    # D's inputs while training: "none" or "translate" (DiffAugment, Zhao et al. 2020: every real and
    # fake image shifted by -1..1 pixels, as TransGAN does)
    augment: str = option("none", choices=AUGMENTATIONS)
    # Set by the trainer from the data set (the transformer GAN is unconditional).
    num_classes: int = option(10, lo=2, hi=1000, integer=True)
    conditional: bool = option(False, choices=(False,))

    def __post_init__(self):
        self.validate()

    def validate(self) -> "TransformerGANConfig":
        """Check every field against its limits, then the ones that depend on image_size; returns self."""
        if self.conditional:
            raise GenlabError("the transformer GAN is unconditional (conditional=False)")
        check_fields(self)
        check_number("patch_size", self.patch_size, lo=1, hi=self.image_size, integer=True)
        if self.image_size % self.patch_size:
            allowed = [p for p in range(1, self.image_size + 1) if self.image_size % p == 0]
            raise GenlabError(f"patch_size must divide the image size {self.image_size} "
                              f"(got {self.patch_size}); allowed: {', '.join(map(str, allowed))}")
        if self.dim % self.heads:
            raise GenlabError(f"dim ({self.dim}) must be a multiple of heads ({self.heads})")
        for name in ("patch_overlap", "output_overlap"):
            check_number(name, getattr(self, name), lo=0, hi=self.image_size // 2, integer=True)
        return self

    @property
    def grid(self) -> int:
        """Patches per side, ``S / P``."""
        return self.image_size // self.patch_size

    @property
    def tokens(self) -> int:
        """Number of patch tokens ``T = (S / P)^2`` (the discriminator adds one class token)."""
        return self.grid ** 2


@dataclass
class AutoencoderConfig:
    """Architecture of the AE / VAE; limits declared per field, checked on construction."""

    kind: str = option("vae", choices=KINDS)                          # "ae" | "vae"
    architecture: str = option("mlp", choices=ARCHITECTURES)          # "mlp" | "conv"
    image_shape: tuple[int, int, int] = option((1, 8, 8), lo=1, hi=4096, integer=True, length=(3, 3))  # (C, H, W)
    latent_dim: int = option(2, lo=1, hi=64, integer=True)            # K
    hidden_dims: tuple[int, ...] = option((256, 128), lo=1, hi=4096, integer=True, length=(1, 4))  # dense layers (after the convs for "conv")
    conv_channels: tuple[int, int] = option((32, 64), lo=1, hi=512, integer=True, length=(2, 2))  # "conv": channels of the two stride-2 convs
    decoder: str = option("gaussian", choices=DECODERS)               # "gaussian" (fixed sigma, see genlab.models.autoencoder) | "bernoulli" (logits, BCE)
    gaussian_sigma: float = option(0.15, lo=0, hi=100, lo_open=True)  # "gaussian": fixed sigma (initial sigma if learned)
    learn_sigma: bool = option(False, choices=(False, True))          # "gaussian": learn one scalar sigma
    beta: float = option(1.0, lo=0, hi=1000)                          # weight on the KL (beta-VAE); ignored by the AE

    def __post_init__(self):
        check_fields(self)
        _, height, width = self.image_shape
        if self.architecture == "conv" and (height % 4 or width % 4):
            raise GenlabError(f"the conv architecture needs H and W divisible by 4, e.g. 8x8 or 28x28 (got {height}x{width}); use architecture 'mlp'")


# --------------------------------------------------------------------------- training

@dataclass
class GANTrainConfig:
    """Training settings (limits declared per field, checked on construction).
    ``lr_d, lr_g, k_disc, loss, optimizer_d, optimizer_g`` are live."""

    lr_d: float = option(5e-4, lo=0, hi=1, lo_open=True)    # discriminator learning rate
    lr_g: float = option(5e-4, lo=0, hi=1, lo_open=True)    # generator learning rate
    k_disc: int = option(1, lo=1, hi=100, integer=True)     # D updates per G update (Algorithm 1's k)
    loss: str = option("non-saturating", choices=GAN_LOSSES)
    optimizer_d: str = option("adam", choices=OPTIMIZERS)   # an optimizer switch keeps the network
    optimizer_g: str = option("adam", choices=OPTIMIZERS)
    betas: tuple[float, float] = option((0.5, 0.999), lo=0, hi=1, hi_open=True, length=(2, 2))  # Adam's (β1, β2) (Radford et al.: β1 = 0.5)
    momentum: float = option(0.9, lo=0, hi=1, hi_open=True)  # SGD momentum (Goodfellow et al. used momentum)
    batch_size: int = option(256, lo=1, hi=100_000, integer=True)  # m, real and fake samples per update
    steps: int | None = option(None, lo=1, hi=MAX_STEPS, integer=True, optional=True)  # length of the run (for the lr decay); None: DEFAULT_STEPS[model]
    lr_decay: str = option("linear", choices=LR_DECAYS)     # linear: lr falls linearly to lr_final * lr at `steps`
    lr_final: float = option(0.0, lo=0, hi=1)               # fraction of the lr left at the end of the decay
    ema: float = option(0.999, lo=0, hi=1, hi_open=True)    # EMA decay of G's weights used for sampling (warm-up: min(ema, (1+t)/(10+t))); 0 = off
    r1_gamma: float = option(0.0, lo=0, hi=1000)            # weight γ of the R1 penalty γ/2 E‖∇_x l(x)‖²; 0 = off
    r1_every: int = option(1, lo=1, hi=1000, integer=True)  # lazy R1: the penalty (weight γ·r1_every) on every r1_every-th D update only
    seed: int = option(0, lo=0, hi=2**63 - 1, integer=True)

    def __post_init__(self):
        check_fields(self)


@dataclass
class AutoencoderTrainConfig:
    """Training settings of the AE / VAE (limits declared per field, checked on construction)."""

    lr: float = option(2e-3, lo=0, hi=1, lo_open=True)        # Adam learning rate; live
    batch_size: int = option(64, lo=1, hi=100_000, integer=True)
    epochs: int | None = option(None, lo=1, hi=100_000, integer=True, optional=True)  # None: DEFAULT_EPOCHS[dataset] (the benchmark setting)
    beta: float = option(1.0, lo=0, hi=1000)                  # weight on the KL (VAE only); live
    mc_samples: int = option(1, lo=1, hi=100, integer=True)   # S samples of z per example (VAE only); live
    seed: int = option(0, lo=0, hi=2**63 - 1, integer=True)
    weight_decay: float = option(0.0, lo=0, hi=1)             # Adam L2 penalty
    eval_every: int = option(0, lo=0, hi=10_000_000, integer=True)  # steps between test evaluations; 0 = at the end of every epoch

    def __post_init__(self):
        check_fields(self)
