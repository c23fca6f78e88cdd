"""Step-wise trainer for the autoencoder (``ae``) and the VAE (``vae``).

One :meth:`AutoencoderTrainer.step` = one Adam update on one minibatch of the training split,
minimising (per example, in nats; Kingma & Welling 2013, arXiv 1312.6114)::

    loss = -1/S sum_s log p(x|z_s) + beta * KL(q(z|x) || N(0, I)),   z_s = mu + sigma * eps_s

(the AE: reconstruction only). Each row records ``loss, recon_loss, kl_loss, elbo``, the KL of
every latent dimension (``kl_dim_0 .. kl_dim_{K-1}``, batch means), ``epoch``, and the test
metrics ``test_recon_mse, test_elbo, test_kl`` -- evaluated at the end of every epoch (or every
``eval_every`` steps) and NaN in the other rows, so every row has the same columns.

Randomness: the weights are initialised under ``torch.manual_seed(seed)``; shuffling and eps come
from two CPU ``torch.Generator``s seeded from ``seed`` and saved in :meth:`state_dict`, so the same
seed on CPU gives identical rows and a resumed run continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genlab.configs import AutoencoderTrainConfig  # noqa: F401 - the settings live in genlab.configs
from genlab.data import IMAGE_DATASETS, check_dataset_name, load_image_dataset
from genlab.errors import GenlabError, check_number
from genlab.models.autoencoder import KINDS, Autoencoder, AutoencoderConfig, gaussian_kl_per_dim
from genlab.train.base import Trainer, adam_optimizer, dataclass_from_dict
from genlab.validation import check_option

# epochs of the default (benchmark) run per data set; see AutoencoderTrainConfig.epochs
DEFAULT_EPOCHS = {"digits": 300, "mnist": 5, "fashion-mnist": 5}
EVAL_BATCH = 1024


class AutoencoderTrainer(Trainer):
    """Trains an :class:`~genlab.models.autoencoder.Autoencoder` on an image data set."""

    LIVE_HYPERPARAMETERS = ("lr", "beta", "mc_samples")
    recipe_version = 1  # see Trainer.recipe_version

    def __init__(self, model_config: AutoencoderConfig, train_config: AutoencoderTrainConfig,
                 dataset: str = "digits", device: torch.device | str = "cpu", data_dir=None):
        check_dataset_name(dataset, IMAGE_DATASETS)
        super().__init__(model_config, train_config, dataset, device)
        self.model_name = model_config.kind
        train = load_image_dataset(dataset, "train", data_dir)
        test = load_image_dataset(dataset, "test", data_dir)
        if tuple(model_config.image_shape) != train.image_shape:
            raise GenlabError(
                f"image_shape {tuple(model_config.image_shape)} does not match data set {dataset}; "
                f"use image_shape {train.image_shape}"
            )
        n = len(train)
        if train_config.batch_size > n:
            raise GenlabError(f"batch_size {train_config.batch_size} is larger than the {dataset} training set; allowed: 1 to {n}")
        if train_config.epochs is None:
            train_config.epochs = DEFAULT_EPOCHS[dataset]
        model_config.beta = train_config.beta  # the trainer's (live) beta is the one used
        self.train_images = train.images.to(self.device)   # (N, C, H, W)
        self.test_images = test.images.to(self.device)     # (N_test, C, H, W)
        self.test_labels = test.labels

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(train_config.seed)
            self.model = Autoencoder(model_config).to(self.device)
        self.optimizer = adam_optimizer(self.model.parameters(), lr=train_config.lr,
                                        weight_decay=train_config.weight_decay)
        self._shuffle_generator = torch.Generator().manual_seed(train_config.seed)
        self._eps_generator = torch.Generator().manual_seed(train_config.seed + 1)
        self._order = torch.arange(0)  # this epoch's permutation of the training indices
        self._position = 0
        self.epoch = 0
        self.steps_per_epoch = math.ceil(n / train_config.batch_size)
        self.default_steps = train_config.epochs * self.steps_per_epoch

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_config(cls, config: dict, device="cpu", data_dir=None) -> "AutoencoderTrainer":
        """Rebuild from ``config_dict()`` (``model``, ``dataset``, ``model_config``, ``train_config``)."""
        model_values = dict(config.get("model_config") or {})
        model = config.get("model")
        if model is not None:
            if model not in KINDS:
                raise GenlabError(f"model {model!r} is not an autoencoder; allowed: {', '.join(KINDS)}")
            if model_values.setdefault("kind", model) != model:
                raise GenlabError(f"model {model!r} disagrees with model_config kind {model_values['kind']!r}")
        model_config = dataclass_from_dict(AutoencoderConfig, model_values)
        train_config = dataclass_from_dict(AutoencoderTrainConfig, config.get("train_config") or {})
        return cls(model_config, train_config, config.get("dataset", "digits"), device=device, data_dir=data_dir)

    # ----------------------------------------------------------------- live hyperparameters
    def validate_hyperparameter(self, name: str, value):
        """A live value checked against :class:`AutoencoderTrainConfig`'s limits for ``name``."""
        return check_option(AutoencoderTrainConfig, name, value) if name in self.LIVE_HYPERPARAMETERS else value

    def _on_hyperparameter_change(self, name: str, value) -> None:
        if name == "lr":
            for group in self.optimizer.param_groups:
                group["lr"] = value
        elif name == "beta":
            self.model.config.beta = value

    # ----------------------------------------------------------------- training
    def _next_batch(self) -> torch.Tensor:
        n = self.train_images.shape[0]
        if self._position >= len(self._order):
            self._order = torch.randperm(n, generator=self._shuffle_generator)
            self._position = 0
            self.epoch += 1
        index = self._order[self._position:self._position + self.train_config.batch_size]
        self._position += len(index)
        return self.train_images[index.to(self.device)]                       # (B, C, H, W)

    def _train_step(self) -> dict:
        cfg = self.train_config
        if not self.model.training:   # .train() walks every submodule: only when evaluate()/encode() switched it off
            self.model.train()
        x = self._next_batch()
        out = self.model(x, mc_samples=cfg.mc_samples, beta=cfg.beta, generator=self._eps_generator)
        self.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        self.optimizer.step()
        # the row's numbers in one read (loss, recon, KL, ELBO, then KL_k for k = 0..K-1) instead of
        # K + 4 separate .item() calls (each one a device sync on a GPU)
        with torch.no_grad():
            losses = torch.stack([out.loss, out.recon_loss, out.kl_loss, out.elbo])
            values = torch.cat([losses, out.kl_per_dim]).tolist()
        row = {"epoch": self.epoch, **dict(zip(("loss", "recon_loss", "kl_loss", "elbo"), values[:4]))}
        row.update({f"kl_dim_{k}": v for k, v in enumerate(values[4:])})
        step = self.step_count + 1  # this step's number
        every = cfg.eval_every or self.steps_per_epoch
        test = self.evaluate() if step % every == 0 else dict.fromkeys(TEST_METRICS, math.nan)
        row.update({name: test[name] for name in TEST_METRICS})
        return row

    # ----------------------------------------------------------------- evaluation / use
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Test-split metrics (deterministic: eps from a generator seeded with ``seed``).

        ``test_recon_mse``: mean over test images and pixels of (x - x_hat)^2 with
        x_hat = sigmoid(decode(mu(x))) -- the number compared with PCA; ``test_recon_loss``:
        -log p(x|z), z ~ q(z|x), nats per image; ``test_kl``; ``test_elbo`` = -(recon + KL)
        (one sample of z; for the AE just -recon).
        """
        was_training = self.model.training
        self.model.eval()
        generator = torch.Generator().manual_seed(self.train_config.seed)
        sums = torch.zeros(3, device=self.device)                  # squared error, -log p(x|z), KL
        count = 0
        for x in self.test_images.split(EVAL_BATCH):
            mu, logvar = self.model.encode(x)
            logits_at_mu = self.model.decode(mu)                       # (B, C, H, W)
            sums[0] += (x - torch.sigmoid(logits_at_mu)).pow(2).sum()
            if self.model.is_vae:
                z = self.model.reparameterize(mu, logvar, 1, generator)          # (1, B, K)
                sums[1] += self.model.reconstruction_nll(x, self.model.decode(z)).sum()
                sums[2] += gaussian_kl_per_dim(mu, logvar).sum()
            else:
                sums[1] += self.model.reconstruction_nll(x, logits_at_mu).sum()
            count += x.shape[0]
        sq_err, recon, kl = sums.tolist()   # one read (each .item() is a device sync on a GPU)
        self.model.train(was_training)
        pixels = count * self.test_images[0].numel()
        return {
            "test_recon_mse": sq_err / pixels,
            "test_recon_loss": recon / count,
            "test_kl": kl / count,
            "test_elbo": -(recon + kl) / count,
        }

    def _images(self, x, name: str = "x") -> torch.Tensor:
        """Accept (N, C, H, W) or (N, C*H*W) (tensor or numpy) -> float tensor on the device."""
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(x)
        if not isinstance(x, torch.Tensor):
            raise GenlabError(f"{name} must be a tensor or numpy array of images")
        shape = tuple(self.model_config.image_shape)
        if x.dim() == 2 and x.shape[1] == math.prod(shape):
            x = x.reshape(-1, *shape)
        if x.dim() != 4 or tuple(x.shape[1:]) != shape:
            raise GenlabError(f"{name} must have shape (N, {', '.join(map(str, shape))}) or (N, {math.prod(shape)}) (got {tuple(x.shape)})")
        return x.float().to(self.device)

    @torch.no_grad()
    def encode(self, x) -> torch.Tensor:
        """Encoder means mu(x) (the AE's codes): images -> (N, K) on the CPU."""
        x = self._images(x)
        self.model.eval()
        means = [self.model.encode(chunk)[0] for chunk in x.split(EVAL_BATCH)]
        self.model.train()
        return torch.cat(means).cpu() if means else torch.zeros(0, self.model_config.latent_dim)

    @torch.no_grad()
    def decode(self, z) -> torch.Tensor:
        """Mean images sigmoid(decoder(z)): z (N, K) -> (N, C, H, W) in [0, 1] on the CPU."""
        if isinstance(z, np.ndarray):
            z = torch.from_numpy(z)
        K = self.model_config.latent_dim
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != K:
            raise GenlabError(f"z must have shape (N, {K}) (got {tuple(getattr(z, 'shape', ()))})")
        self.model.eval()
        images = [torch.sigmoid(self.model.decode(chunk.float().to(self.device))) for chunk in z.split(EVAL_BATCH)]
        self.model.train()
        return torch.cat(images).cpu() if images else torch.zeros(0, *self.model_config.image_shape)

    def reconstruct(self, x) -> torch.Tensor:
        """decode(encode(x)): the mean image at the posterior mean, (N, C, H, W) in [0, 1]."""
        return self.decode(self.encode(x))

    def sample(self, n: int, seed: int | None = None, labels=None) -> torch.Tensor:
        """Decode n draws z ~ N(0, I) -> (n, C, H, W) in [0, 1] (for the AE too: the lesson)."""
        if labels is not None:
            raise GenlabError(f"the {self.model_name} is unconditional; labels are only for cgan")
        n = check_number("n", n, lo=1, hi=100_000, integer=True)
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        z = torch.randn(n, self.model_config.latent_dim, generator=generator)  # (n, K)
        return self.decode(z)

    # ----------------------------------------------------------------- persistence
    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update(
            model=self.model.state_dict(),
            optimizer=self.optimizer.state_dict(),
            shuffle_generator=self._shuffle_generator.get_state(),
            eps_generator=self._eps_generator.get_state(),
            order=self._order.clone(),
            position=self._position,
            epoch=self.epoch,
        )
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        for group in self.optimizer.param_groups:
            group["lr"] = self.train_config.lr
        self.model.config.beta = self.train_config.beta
        self._shuffle_generator.set_state(state["shuffle_generator"])
        self._eps_generator.set_state(state["eps_generator"])
        self._order = state["order"].clone()
        self._position = int(state["position"])
        self.epoch = int(state["epoch"])


TEST_METRICS = ("test_recon_mse", "test_recon_loss", "test_elbo", "test_kl")
