"""Step-wise trainer for the GANs: ``gan`` (2D points), ``dcgan`` and ``cgan`` (images).

One :meth:`GANTrainer.step` is one iteration of Goodfellow et al.'s Algorithm 1 (2014, arXiv
1406.2661), written as on the slide in :meth:`GANTrainer.train_gan_step`: k_disc D updates on fresh
minibatches, then one G update with the minimax, non-saturating or least-squares G loss
(:mod:`genlab.losses`). :meth:`discriminator_step` / :meth:`generator_step` run a single update
(the 2D page's buttons). Every row has ``loss_d, loss_g, d_real, d_fake, grad_norm_d, grad_norm_g,
lr_d, lr_g, phase``; a network not updated in that row still gets its loss and gradient norm
*measured*. ``d_real`` / ``d_fake`` are the means of D(x) and D(G(z)) (lsgan: the raw score).

Stabilizers (options; all off in the ``vanilla`` preset): a linear learning-rate decay to
``lr_final`` x lr over ``steps``, an exponential moving average of G's weights used for sampling
(Yazıcı et al. 2019, arXiv 1806.04498), the R1 penalty γ/2 E‖∇_x l(x)‖² on real data
(Mescheder et al. 2018), PacGAN packing and spectral norm (architecture options).

Randomness: weights are initialised under ``torch.manual_seed(seed)``; real minibatches, noise
and fake labels come from one CPU ``torch.Generator`` seeded with ``seed`` and saved in
:meth:`state_dict`, so the same seed on CPU gives identical rows and a resumed run continues
exactly as an uninterrupted one.
"""

from __future__ import annotations

import copy
import os
from dataclasses import replace

import numpy as np
import torch

from genlab.data import IMAGE_DATASETS, TOY_DATASETS, load_image_dataset, load_points_csv, sample_toy, toy_modes, toy_std
from genlab.errors import GenlabError, check_number
from genlab.losses import discriminator_loss, discriminator_output, generator_loss, r1_penalty
from genlab.models.dcgan import DCDiscriminator, DCGANConfig, DCGenerator
from genlab.models.gan import Discriminator2D, GANConfig, Generator2D, sample_noise
from genlab.train.base import Trainer, adam_optimizer, dataclass_from_dict
from genlab.validation import check_option
from genlab.train.gan_config import (  # the settings live in gan_config; these stay importable from here
    DCGAN_PRESETS,  # noqa: F401
    DEFAULT_STEPS,
    EVAL_POINTS,
    EVAL_SEED,
    GAN_PRESETS,  # noqa: F401
    POINTS_DATASET,
    TOY_POOL_SIZE,
    GANTrainConfig,
    _check_model,
    check_optimizer,
    gan_configs,
)


class GANTrainer(Trainer):
    """Trains a GAN: ``gan`` on 2D points, ``dcgan`` / ``cgan`` on images.

    Args:
        model_name: ``"gan"``, ``"dcgan"`` or ``"cgan"``.
        dataset: gan: a 2D toy set (``ring8, grid25, two-moons, spiral, two-gaussians``), a CSV
            path, or ``"points"`` together with ``points``; dcgan / cgan: ``digits, mnist,
            fashion-mnist``.
        model_config / train_config: default: the benchmark settings (:func:`gan_configs`).
        points: user points ``(N, 2)`` (array or tensor) or a CSV path, for ``dataset="points"``.
    """

    LIVE_HYPERPARAMETERS = ("lr_d", "lr_g", "k_disc", "loss", "optimizer_d", "optimizer_g")
    recipe_version = 1  # see Trainer.recipe_version

    def __init__(self, model_name: str = "gan", dataset: str | None = None, model_config=None, train_config=None,
                 device: torch.device | str = "cpu", data_dir=None, points=None):
        _check_model(model_name)
        if model_config is None or train_config is None:
            default_model, default_train = gan_configs(model_name)
            model_config = default_model if model_config is None else model_config
            train_config = default_train if train_config is None else train_config
        if dataset is None:
            dataset = POINTS_DATASET if points is not None else ("ring8" if model_name == "gan" else "digits")
        self.model_name = model_name
        self.is_2d = model_name == "gan"
        self.conditional = model_name == "cgan"
        model_config = replace(model_config)   # own copies: live changes must not leak into the caller's
        train_config = replace(train_config)
        self.points_source = None
        if self.is_2d:
            if not isinstance(model_config, GANConfig):
                raise GenlabError("model gan needs a GANConfig (the 2D MLP settings)")
            model_config.validate()
            data = self._load_points(dataset, points, train_config.seed)
        else:
            if not isinstance(model_config, DCGANConfig):
                raise GenlabError(f"model {model_name} needs a DCGANConfig (the image GAN settings)")
            if dataset not in IMAGE_DATASETS:
                raise GenlabError(f"data set {dataset!r} cannot be used with {model_name}; allowed: {', '.join(IMAGE_DATASETS)}")
            train = load_image_dataset(dataset, "train", data_dir)
            model_config.image_size = int(train.image_shape[-1])
            model_config.num_classes = int(train.num_classes)
            model_config.conditional = self.conditional
            model_config.validate()
            data = train.images * 2 - 1          # (N, 1, H, W) in [-1, 1], matching G's tanh
            self.labels = train.labels.long()
        super().__init__(model_config, train_config, dataset, device)
        if train_config.batch_size > data.shape[0]:
            raise GenlabError(f"batch_size {train_config.batch_size} is larger than the data set "
                              f"({data.shape[0]} {'points' if self.is_2d else 'training images'}); "
                              f"allowed: 1 to {data.shape[0]}")
        if self.is_2d and train_config.batch_size % model_config.pack:
            raise GenlabError(f"batch_size must be a multiple of pack={model_config.pack} (got {train_config.batch_size})")
        self.data = data
        self.default_steps = int(train_config.steps or DEFAULT_STEPS[model_name])

        torch.manual_seed(train_config.seed)                 # weight initialisation
        if self.is_2d:
            self.generator, self.discriminator = Generator2D(model_config), Discriminator2D(model_config)
        else:
            self.generator, self.discriminator = DCGenerator(model_config), DCDiscriminator(model_config)
        self.generator.to(self.device)
        self.discriminator.to(self.device)
        self.generator_ema = copy.deepcopy(self.generator) if train_config.ema > 0 else None
        self.rng = torch.Generator().manual_seed(train_config.seed)   # batches, noise, fake labels
        self.sample_rng = torch.Generator().manual_seed(train_config.seed + 1)   # sample() without a seed
        self.optimizer_d = self._make_optimizer(self.discriminator, train_config.optimizer_d, train_config.lr_d)
        self.optimizer_g = self._make_optimizer(self.generator, train_config.optimizer_g, train_config.lr_g)
        self.d_updates = 0   # discriminator updates so far (k per step())
        self.g_updates = 0   # generator updates so far

    # ------------------------------------------------------------------ construction helpers
    def _load_points(self, dataset: str, points, seed: int) -> torch.Tensor:
        """2D training points, standardized: the networks see ``(x − mean) / scale``."""
        if dataset in TOY_DATASETS:
            raw = sample_toy(dataset, TOY_POOL_SIZE, seed)
        elif dataset == POINTS_DATASET or str(dataset).lower().endswith(".csv"):
            source = points if points is not None else (dataset if dataset != POINTS_DATASET else None)
            if source is None:
                raise GenlabError("data set 'points' needs the points: pass points=(N, 2) array or a CSV path")
            if isinstance(source, (str, os.PathLike, bytes)):
                self.points_source = str(source) if not isinstance(source, bytes) else None
                raw = load_points_csv(source)
            else:
                raw = np.asarray(source.detach().cpu() if isinstance(source, torch.Tensor) else source, dtype=np.float32)
                if raw.ndim != 2 or raw.shape[1] != 2 or raw.shape[0] < 2:
                    raise GenlabError(f"points must have shape (N, 2) with N >= 2 (got {raw.shape})")
                if not np.isfinite(raw).all():
                    raise GenlabError("points contain NaN or infinity; x and y must be finite numbers")
                self.points_source = raw.tolist()
        else:
            raise GenlabError(f"data set {dataset!r} cannot be used with gan; allowed: {', '.join(TOY_DATASETS)}, "
                              "a CSV file of points (columns x,y), or 'points' with an array")
        raw = torch.from_numpy(np.ascontiguousarray(raw, dtype=np.float32))
        self.data_mean = raw.mean(dim=0)                                       # (2,)
        self.data_scale = float(raw.std(dim=0).mean().clamp_min(1e-6))        # one scale: keeps shapes round
        return (raw - self.data_mean) / self.data_scale                        # (N, 2)

    def _make_optimizer(self, module: torch.nn.Module, name: str, lr: float) -> torch.optim.Optimizer:
        check_optimizer("optimizer", name)
        if name == "adam":
            return adam_optimizer(module.parameters(), lr=lr, betas=self.train_config.betas)
        return torch.optim.SGD(module.parameters(), lr=lr, momentum=self.train_config.momentum)

    @classmethod
    def from_config(cls, config: dict, device="cpu", data_dir=None, points=None) -> "GANTrainer":
        """Rebuild a trainer from :meth:`config_dict` output (a user-points run takes its points
        from ``config["points"]`` (a CSV path or a list of [x, y]) unless ``points`` is given)."""
        model_name = _check_model(config.get("model", "gan"))
        model_cls = GANConfig if model_name == "gan" else DCGANConfig
        preset = config.get("preset", "default")
        base_model, base_train = gan_configs(model_name, preset)
        from dataclasses import asdict

        model_config = dataclass_from_dict(model_cls, {**asdict(base_model), **config.get("model_config", {})})
        train_config = dataclass_from_dict(GANTrainConfig, {**asdict(base_train), **config.get("train_config", {})})
        if points is None:
            points = config.get("points")
        return cls(model_name, config.get("dataset"), model_config, train_config, device, data_dir, points)

    def config_dict(self) -> dict:
        config = super().config_dict()
        if self.points_source is not None:
            config["points"] = self.points_source
        return config

    # ------------------------------------------------------------------ live hyperparameters
    def validate_hyperparameter(self, name: str, value):
        """A live value checked against :class:`GANTrainConfig`'s limits for ``name``."""
        return check_option(GANTrainConfig, name, value) if name in self.LIVE_HYPERPARAMETERS else value

    def _on_hyperparameter_change(self, name: str, value) -> None:
        if name == "optimizer_d":
            self.optimizer_d = self._make_optimizer(self.discriminator, value, self.train_config.lr_d)
        elif name == "optimizer_g":
            self.optimizer_g = self._make_optimizer(self.generator, value, self.train_config.lr_g)
        # learning rates are set from train_config at every step (_set_learning_rates)

    def lr_factor(self) -> float:
        """Multiplier of the base learning rates at the current step (linear decay to lr_final)."""
        tc = self.train_config
        if tc.lr_decay == "none":
            return 1.0
        progress = min(self.step_count / max(self.default_steps, 1), 1.0)
        return 1.0 - (1.0 - tc.lr_final) * progress

    def _set_learning_rates(self) -> tuple[float, float]:
        # not torch.optim.lr_scheduler: it keeps base lrs and a step count per optimizer, which live
        # lr edits, optimizer switches and resumes would each have to patch; this is stateless
        factor = self.lr_factor()
        lr_d, lr_g = self.train_config.lr_d * factor, self.train_config.lr_g * factor
        for group in self.optimizer_d.param_groups:
            group["lr"] = lr_d
        for group in self.optimizer_g.param_groups:
            group["lr"] = lr_g
        return lr_d, lr_g

    # ------------------------------------------------------------------ sampling helpers
    def _noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        mc = self.model_config
        return sample_noise(n, mc.noise_dim, mc.noise, generator or self.rng).to(self.device)

    def _real_batch(self):
        idx = torch.randint(self.data.shape[0], (self.train_config.batch_size,), generator=self.rng)
        x = self.data[idx].to(self.device)
        y = self.labels[idx].to(self.device) if self.conditional else None
        return x, y

    def _fake_labels(self, n: int, generator: torch.Generator | None = None):
        if not self.conditional:
            return None
        return torch.randint(self.model_config.num_classes, (n,), generator=generator or self.rng).to(self.device)

    def _d(self, x, y=None) -> torch.Tensor:
        return self.discriminator(x, y) if self.conditional else self.discriminator(x)

    def _g(self, z, y=None, module=None) -> torch.Tensor:
        module = module or self.generator
        return module(z, y) if self.conditional else module(z)

    # ------------------------------------------------------------------ one update of D or G
    def _discriminator_update(self, update: bool = True) -> dict:
        """Fresh real and fake minibatches; L_D, its gradient, and (if ``update``) one D step."""
        tc = self.train_config
        x, y = self._real_batch()
        z, y_fake = self._noise(tc.batch_size), self._fake_labels(tc.batch_size)
        with torch.no_grad():
            fake = self._g(z, y_fake)                                     # (B, 2) or (B, 1, H, W)
        # lazy regularization (Karras et al. 2020, StyleGAN2, arXiv 1912.04958): the R1 term on every
        # r1_every-th D update only, weighted r1_every times more; same expected penalty, a fraction of its cost
        use_r1 = tc.r1_gamma > 0 and self.d_updates % tc.r1_every == 0
        if use_r1:
            x.requires_grad_(True)
        real_logits, fake_logits = self._d(x, y), self._d(fake, y_fake)   # (B, 1) or patch maps
        loss = discriminator_loss(real_logits, fake_logits, tc.loss)
        if use_r1:
            loss = loss + 0.5 * tc.r1_gamma * tc.r1_every * r1_penalty(real_logits, x)
        self.optimizer_d.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = _grad_norm(_parameters(self.optimizer_d))
        if update:
            self.optimizer_d.step()
            self.d_updates += 1
        with torch.no_grad():
            d_real = discriminator_output(real_logits, tc.loss).mean()
            d_fake = discriminator_output(fake_logits, tc.loss).mean()
            # one read of the four numbers instead of four .item() calls (each one a device sync on a GPU)
            loss_d, d_real, d_fake, grad_norm = torch.stack([loss.detach(), d_real, d_fake, grad_norm]).tolist()
        return {"loss_d": loss_d, "d_real": d_real, "d_fake": d_fake, "grad_norm_d": grad_norm}

    def _generator_update(self, update: bool = True) -> dict:
        """Fresh noise; L_G, its gradient, and (if ``update``) one G step (+ EMA update).

        D's weights are frozen (``requires_grad`` off) while L_G is differentiated: the backward
        pass still flows *through* D to G (∂L_G/∂θ = ∂L_G/∂D · ∂D/∂x · ∂G/∂θ) but skips the
        gradient with respect to D's own weights, which this update would throw away anyway.
        G's gradient is the same either way."""
        tc = self.train_config
        z, y_fake = self._noise(tc.batch_size), self._fake_labels(tc.batch_size)
        d_params = [p for p in _parameters(self.optimizer_d) if p.requires_grad]   # = D's parameters
        for p in d_params:
            p.requires_grad_(False)
        try:
            fake_logits = self._d(self._g(z, y_fake), y_fake)
            loss = generator_loss(fake_logits, tc.loss)
            self.optimizer_g.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            for p in d_params:
                p.requires_grad_(True)
        grad_norm = _grad_norm(_parameters(self.optimizer_g))
        if update:
            self.optimizer_g.step()
            self.g_updates += 1
            self._update_ema()
        loss_g, grad_norm = torch.stack([loss.detach(), grad_norm]).tolist()
        return {"loss_g": loss_g, "grad_norm_g": grad_norm}

    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.generator_ema is None:
            return
        # warm-up as in TensorFlow's ExponentialMovingAverage(num_updates): early on the average
        # follows G closely instead of dragging the random initial weights along. Not
        # torch.optim.swa_utils.AveragedModel: its first update copies G (no warm-up), it averages or
        # freezes buffers (ours copies G's), and its keys ("module.*", "n_averaged") break old checkpoints
        decay = min(self.train_config.ema, (1 + self.g_updates) / (10 + self.g_updates))
        for p_ema, p in zip(self.generator_ema.parameters(), self.generator.parameters()):
            p_ema.lerp_(p, 1.0 - decay)
        for b_ema, b in zip(self.generator_ema.buffers(), self.generator.buffers()):
            b_ema.copy_(b)

    # ------------------------------------------------------------------ stepping
    def train_gan_step(self) -> dict:
        """One iteration of Algorithm 1 (Goodfellow et al. 2014, arXiv 1406.2661), as on the slide::

            for k steps:                                   # (1) update D, k = train_config.k_disc
                sample minibatches z ~ p_z and x ~ p_data
                ascend  log D(x) + log(1 − D(G(z)))        # discriminator_loss(..., train_config.loss)
            sample a minibatch z ~ p_z                     # (2) update G, D fixed
            descend log(1 − D(G(z)))                       # loss="minimax", the slide's G loss
               or ascend log D(G(z))                       # loss="non-saturating" (the paper's §3 advice)

        Each D update draws fresh minibatches (``_discriminator_update``); the G update fresh noise
        (``_generator_update``). Returns the metrics: D's averaged over its k updates, then G's.
        """
        d_rows = [self._discriminator_update() for _ in range(self.train_config.k_disc)]  # (1) update D
        g_row = self._generator_update()                                                    # (2) update G
        return {**_mean_rows(d_rows), **g_row}

    def step(self, phase: str = "both") -> dict:
        """One training step and its metrics row: ``phase="both"`` is one iteration of
        Algorithm 1 (:meth:`train_gan_step`); ``"d"`` one D update only; ``"g"`` one G update only
        (the page's single-step buttons). Pending live changes are applied first."""
        if phase not in ("both", "d", "g"):
            raise GenlabError(f"unknown step phase {phase!r}; allowed: both, d, g")
        return super().step(phase=phase)

    def discriminator_step(self) -> dict:
        """One discriminator update only (G fixed); records a row with ``phase="d"``."""
        return self.step("d")

    def generator_step(self) -> dict:
        """One generator update only (D fixed); records a row with ``phase="g"``."""
        return self.step("g")

    def _train_step(self, phase: str = "both") -> dict:
        for module in (self.generator, self.discriminator):
            if not module.training:   # .train() walks every submodule: only when something switched it off
                module.train()
        lr_d, lr_g = self._set_learning_rates()
        if phase == "both":
            row = self.train_gan_step()
        elif phase == "d":    # one D update; G's loss and gradient norm measured, G not moved
            row = {**self._discriminator_update(), **self._generator_update(update=False)}
        else:                 # one G update; D's loss measured on fresh batches, D not moved
            row = {**self._discriminator_update(update=False), **self._generator_update()}
        return {**row, "lr_d": lr_d, "lr_g": lr_g, "phase": phase}

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict:
        state = super().state_dict()
        state.update({
            "model_name": self.model_name,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "generator_ema": self.generator_ema.state_dict() if self.generator_ema is not None else None,
            "optimizer_d": self.optimizer_d.state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(),
            "rng": self.rng.get_state(),
            "sample_rng": self.sample_rng.get_state(),
            "d_updates": self.d_updates,
            "g_updates": self.g_updates,
        })
        return state

    def load_state_dict(self, state: dict) -> None:
        old_optimizers = (self.train_config.optimizer_d, self.train_config.optimizer_g)
        super().load_state_dict(state)
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        if self.generator_ema is not None and state.get("generator_ema") is not None:
            self.generator_ema.load_state_dict(state["generator_ema"])
        tc = self.train_config
        if (tc.optimizer_d, tc.optimizer_g) != old_optimizers:   # the saved run had switched optimizers
            self.optimizer_d = self._make_optimizer(self.discriminator, tc.optimizer_d, tc.lr_d)
            self.optimizer_g = self._make_optimizer(self.generator, tc.optimizer_g, tc.lr_g)
        self.optimizer_d.load_state_dict(state["optimizer_d"])
        self.optimizer_g.load_state_dict(state["optimizer_g"])
        self.rng.set_state(state["rng"])
        if state.get("sample_rng") is not None:
            self.sample_rng.set_state(state["sample_rng"])
        self.d_updates = int(state.get("d_updates", 0))
        self.g_updates = int(state.get("g_updates", 0))

    # ------------------------------------------------------------------ sampling
    @property
    def sampling_generator(self) -> torch.nn.Module:
        """The generator used by :meth:`sample`: the EMA copy when ``ema > 0``, else G itself."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def _check_labels(self, n: int, labels, generator) -> torch.Tensor | None:
        if not self.conditional:
            if labels is not None:
                raise GenlabError(f"labels can only be given to cgan (this is {self.model_name})")
            return None
        k = self.model_config.num_classes
        if labels is None:
            return torch.arange(n) % k                    # every class in turn: 0, 1, ..., 9, 0, ...
        labels = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels)
        if labels.dim() == 0:
            labels = labels.repeat(n)
        if labels.shape != (n,) or labels.is_floating_point() and not torch.equal(labels, labels.round()):
            raise GenlabError(f"labels must be one whole number per sample ({n}) or a single number")
        labels = labels.long()
        if labels.min() < 0 or labels.max() >= k:
            raise GenlabError(f"labels must be classes 0 to {k - 1} (got {labels.min().item()}..{labels.max().item()})")
        return labels

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None, labels=None, ema: bool = True) -> torch.Tensor:
        """``n`` samples on the CPU: points ``(n, 2)`` in data units, or images ``(n, 1, H, W)``
        in [0, 1]. ``seed`` fixes the noise (default: a sampling stream of its own, so that
        sampling between steps never changes the training run); ``labels`` (cgan
        only): one class per sample or a single class (default: 0, 1, ..., 9 in turn);
        ``ema=False``: use the raw generator being trained instead of its EMA copy."""
        n = check_number("n", n, lo=1, hi=1_000_000, integer=True)
        generator = torch.Generator().manual_seed(int(seed)) if seed is not None else self.sample_rng
        labels = self._check_labels(n, labels, generator)
        module = self.sampling_generator if ema else self.generator
        was_training = module.training
        module.eval()
        out = []
        for start in range(0, n, 4096):
            z = self._noise(min(4096, n - start), generator)
            y = labels[start:start + z.shape[0]].to(self.device) if labels is not None else None
            out.append(self._g(z, y, module).cpu())
        module.train(was_training)
        x = torch.cat(out)
        if self.is_2d:
            return x * self.data_scale + self.data_mean              # (n, 2) in data units
        return ((x + 1) / 2).clamp_(0, 1)                           # (n, 1, H, W) in [0, 1]

    def real_points(self, n: int | None = None) -> np.ndarray:
        """2D training points in data units ``(n, 2)`` (the first n of the data set)."""
        self._require_2d("real_points")
        x = self.data if n is None else self.data[:n]
        return (x * self.data_scale + self.data_mean).numpy()

    def _require_2d(self, what: str) -> None:
        if not self.is_2d:
            raise GenlabError(f"{what} is only available for the 2D gan (this is {self.model_name})")

    # ------------------------------------------------------------------ evaluation
    def evaluate(self) -> dict[str, float]:
        """Cheap quality metrics on fresh samples (noise seed fixed, so runs are comparable).

        gan: ``grid_kl_real_fake, grid_kl_fake_real, grid_js`` (30x30 histograms of 2500 real
        and 2500 fake points) and, on ring8 / grid25, ``modes_covered`` and
        ``high_quality_share`` (within 3 std of a mode; a mode counts with ≥ 20 of 2500).
        dcgan / cgan: ``frechet_distance`` of ``reference_size`` samples (360 for digits) to the
        test split in the metrics classifier's features; cgan also ``label_accuracy`` (share of
        samples asked for class y that the classifier calls y).
        """
        from genlab import metrics

        if self.is_2d:
            fake = self.sample(EVAL_POINTS, seed=EVAL_SEED).numpy()
            real = self.real_points(EVAL_POINTS)
            out = {}
            modes = toy_modes(self.dataset) if self.dataset in TOY_DATASETS else None
            if modes is not None:
                coverage = metrics.mode_coverage(fake, modes, toy_std(self.dataset))
                out["modes_covered"] = float(coverage.modes_covered)
                out["high_quality_share"] = float(coverage.high_quality_share)
            finite = np.isfinite(fake).all(axis=1)
            if finite.sum() >= 2:
                div = metrics.grid_divergences(real, fake[finite])
                out.update({f"grid_{k}": float(v) for k, v in div.items()})
            return out
        n = metrics.reference_size(self.dataset)
        images = self.sample(n, seed=EVAL_SEED)
        out = {"frechet_distance": float(metrics.frechet_to_reference(images, self.dataset))}
        if self.conditional:
            labels = torch.arange(n) % self.model_config.num_classes
            out["label_accuracy"] = float(metrics.label_accuracy(images, labels, self.dataset))
        return out


def _parameters(optimizer: torch.optim.Optimizer) -> list[torch.nn.Parameter]:
    """The parameters an optimizer updates: for ``optimizer_d`` / ``optimizer_g`` exactly D's /
    G's parameters (each is built on ``module.parameters()``), read from the optimizer's
    ready-made lists because walking the module tree at every update costs more than the
    update's bookkeeping itself."""
    return [p for group in optimizer.param_groups for p in group["params"]]


def _grad_norm(params: list[torch.nn.Parameter]) -> torch.Tensor:
    """‖∇‖₂ over the parameters that have a gradient, as a 0-dim tensor (the caller reads it
    together with the other metrics of the update, in one ``tolist()``)."""
    grads = [p.grad.reshape(-1) for p in params if p.grad is not None]
    if not grads:
        return torch.zeros((), device=params[0].device if params else "cpu")
    return torch.linalg.vector_norm(torch.cat(grads))


# ====================================================================== helpers for the 2D page


def _to_model_space(trainer: GANTrainer, points) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(points, dtype=np.float32))
    if x.dim() != 2 or x.shape[1] != 2:
        raise GenlabError(f"points must have shape (N, 2) (got {tuple(x.shape)})")
    return ((x - trainer.data_mean) / trainer.data_scale).to(trainer.device)


def _check_extent(extent) -> tuple[float, float, float, float]:
    try:
        x_min, x_max, y_min, y_max = (float(v) for v in extent)
    except (TypeError, ValueError):
        raise GenlabError("extent must be four numbers (x_min, x_max, y_min, y_max)") from None
    if not (np.isfinite([x_min, x_max, y_min, y_max]).all() and x_min < x_max and y_min < y_max):
        raise GenlabError(f"extent must be finite with x_min < x_max and y_min < y_max (got {tuple(extent)})")
    return x_min, x_max, y_min, y_max


@torch.no_grad()
def discriminator_grid(trainer: GANTrainer, extent=(-5.0, 5.0, -5.0, 5.0), resolution: int = 60):
    """D(x) on a ``resolution x resolution`` grid over ``extent = (x_min, x_max, y_min, y_max)``.

    Returns ``(xs (R,), ys (R,), values (R, R))`` numpy arrays with ``values[i, j] = D((xs[j],
    ys[i]))`` (row = y, as a heatmap wants): a probability for minimax / non-saturating, the
    least-squares score for lsgan. With ``pack > 1`` each grid point is judged as a pack of
    copies of itself.
    """
    trainer._require_2d("discriminator_grid")
    x_min, x_max, y_min, y_max = _check_extent(extent)
    resolution = check_number("resolution", resolution, lo=2, hi=1000, integer=True)
    xs, ys = np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution)
    gx, gy = np.meshgrid(xs, ys)                                              # (R, R), row = y
    points = _to_model_space(trainer, np.stack([gx.ravel(), gy.ravel()], axis=1))   # (R*R, 2)
    pack = trainer.model_config.pack
    was_training = trainer.discriminator.training
    trainer.discriminator.eval()
    logits = trainer.discriminator(points.repeat_interleave(pack, dim=0))    # (R*R, 1)
    trainer.discriminator.train(was_training)
    values = discriminator_output(logits, trainer.train_config.loss).reshape(resolution, resolution)
    return xs, ys, values.cpu().numpy()


@torch.no_grad()
def generator_manifold(trainer: GANTrainer, n: int = 30, ema: bool = True):
    """G applied to a regular grid over noise space: how G bends the noise into the plane.

    noise_dim 1: ``n`` noise values -> points ``(n, 2)`` (a curve); noise_dim ≥ 2: an ``n x n``
    grid over the first two noise coordinates (others fixed at 0: a 2D slice) -> points
    ``(n, n, 2)`` (a warped mesh). The grid spans ±2.5 (gaussian noise), ±1 (uniform) or ±2 (clusters).
    Uses the sampling generator (EMA weights when the run has ema > 0; ``ema=False``: the raw
    generator being trained). Returns ``(noise_grid, points)``.
    """
    trainer._require_2d("generator_manifold")
    n = check_number("n", n, lo=2, hi=500, integer=True)
    mc = trainer.model_config
    bound = {"gaussian": 2.5, "uniform": 1.0, "clusters": 2.0}[mc.noise]
    axis = torch.linspace(-bound, bound, n)
    if mc.noise_dim == 1:
        z = axis[:, None]                                                    # (n, 1)
    else:
        g1, g2 = torch.meshgrid(axis, axis, indexing="ij")
        z = torch.zeros(n * n, mc.noise_dim)
        z[:, 0], z[:, 1] = g1.reshape(-1), g2.reshape(-1)                    # (n*n, noise_dim)
    module = trainer.sampling_generator if ema else trainer.generator
    was_training = module.training
    module.eval()
    points = module(z.to(trainer.device)).cpu() * trainer.data_scale + trainer.data_mean
    module.train(was_training)
    shape = (n, 2) if mc.noise_dim == 1 else (n, n, 2)
    return z.reshape(*shape[:-1], -1).numpy(), points.reshape(shape).numpy()


def generator_gradients(trainer: GANTrainer, fake_points):
    """The direction each fake point would move under G's loss: ``−∇_x L_G(x)`` ``(N, 2)``.

    ``L_G`` is the current loss's generator term for one point (e.g. ``log(1 − D(x))`` for
    minimax), differentiated with respect to the sample x itself (in data units), which is the
    signal that flows back into G. With ``pack > 1`` each point is judged as a pack of copies.
    """
    trainer._require_2d("generator_gradients")
    x = _to_model_space(trainer, fake_points).requires_grad_(True)           # (N, 2)
    pack = trainer.model_config.pack
    was_training = trainer.discriminator.training
    trainer.discriminator.eval()
    logits = trainer.discriminator(x.repeat_interleave(pack, dim=0))         # (N, 1)
    trainer.discriminator.train(was_training)
    loss = generator_loss(logits, trainer.train_config.loss) * x.shape[0]   # sum over points
    (grad,) = torch.autograd.grad(loss, x)
    trainer.discriminator.zero_grad(set_to_none=True)
    return (-grad / trainer.data_scale).cpu().numpy()


def _mean_rows(rows: list[dict]) -> dict:
    """The mean of each metric over several update rows (one row: itself)."""
    if len(rows) == 1:
        return rows[0]
    return {name: float(np.mean([row[name] for row in rows])) for name in rows[0]}
