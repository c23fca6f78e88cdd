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

:func:`train_equal_time` trains several trainers side by side so that each has spent the same
wall time inside ``step()`` -- the fair way to compare a transformer GAN with DCGAN on a CPU,
where one step of each costs a different amount of time.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, fields, replace
from typing import Callable, Mapping

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
# Benchmark settings that differ from GANTrainConfig's defaults: the recipe that makes the transformer GAN
# learn within the page's CPU budget. Screened with 30 s of CPU time each on one thread (lr decay stretched
# to the budget, seed 0 unless noted); DCGAN's defaults reach FD 22.2 / 19.5 (seeds 0 / 1) in the same time.
#   (disjoint patches, patch_overlap 0, down to the last row)
#   old recipe: patch 2, D = 64, lr 2e-4, betas (0.5, 0.999), no R1       FD 577  (D(x) 0.99, D(G(z)) 0.01: D wins)
#   + lazy R1 (gamma 1 every 4th D update), betas (0, 0.99), lr 4e-4      FD 167  (D(x), D(G(z)) ~ 0.5)
#   same, D = 32, lr 1e-3                                                 FD 127  (R1 off: 157, gamma 0.1: 119)
#   patch 4 (4 tokens), D = 32, lr 1e-3                                   FD 33.5 (gamma 0.1: 47)
#   patch 4, D = 64, lr 1e-3                                              FD 18.9 / 16.6 (seeds 0 / 1)
#   (patch 4, D = 64: lr 2e-3 16.5, batch 32 17.3; D = 32 with 1 block in G and D 28.2)
#   + D's tokens see a 1-pixel border (patch_overlap 1)                   FD 15.4 / 16.7
#   (G's windows overlapping instead, output_overlap 1: 22.9)
# At 60 s of CPU time (~1700 steps; DCGAN's defaults reach FD ~11-13 in a 60 s race on a quiet machine) the
# last recipe got *worse* late in training, FD 14.1 / 13.6 / 17.3 after 20 / 40 / 60 s (D = 96: 17.1 / 13.2 /
# 18.2) while D(x) crept up to 0.56: D starts to overfit the ~1300 training digits. A stronger R1 fixes it:
#   gamma 4 (every 4th D update)                                          FD 28.7 / 15.6 / 11.2 (seed 0), 24.4 / 13.6 / 9.5 (seed 1)
#   gamma 2                                                               FD 17.0 / 11.2 / 15.5
#   gamma 1 + DiffAugment translation (augment="translate")               FD 34.2 / 19.1 / 12.7
# and with gamma 4, fewer ops per step (per-op overhead, not arithmetic, dominates these tiny networks on a CPU):
#   1 block in G and in D  <- these defaults (45-48 steps/s vs 29)        FD 18.6 / 13.9 / 10.9 (seed 0), 20.0 / 12.5 / 11.9 (seed 1)
#   2 heads instead of 4 (2 blocks; no faster)                            FD 24.3 / 17.5 / 12.4
#   1 block, lr 2e-3                                                      FD 64 / 192 / 85 (diverges)
# R1 keeps the ViT discriminator from winning (at once, and later by memorizing the data); betas (0, 0.99) are
# TransGAN / ViTGAN / StyleGAN2's (no momentum: D and G react to each other at once); the token count is what
# decides whether it learns at all (see genlab.models.transformer_gan's docstring).
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


def train_equal_time(trainers: Mapping[str, object], seconds: float, *,
                     should_stop: Callable[[], bool] = lambda: False,
                     on_step: Callable[[str, object, dict], None] | None = None,
                     max_steps: int | None = None) -> dict[str, int]:
    """Train every trainer until each has spent ``seconds`` inside ``step()``.

    At every turn the trainer with the least training time so far (``elapsed_seconds``) takes
    one step, so the models alternate in the same process, under the same load, and at any moment
    their training times differ by at most one step. ``on_step(name, trainer, row)`` is called
    after every step; ``should_stop()`` before every step; ``max_steps`` caps each trainer's
    step count. Returns ``name -> steps taken``.
    """
    if not trainers:
        raise GenlabError("train_equal_time needs at least one trainer")
    seconds = float(seconds)
    if not np.isfinite(seconds) or seconds <= 0:
        raise GenlabError(f"seconds must be a positive number (got {seconds!r})")
    start = {name: t.step_count for name, t in trainers.items()}
    while not should_stop():
        open_ = [(t.elapsed_seconds, name) for name, t in trainers.items()
                 if t.elapsed_seconds < seconds and (max_steps is None or t.step_count < max_steps)]
        if not open_:
            break
        _, name = min(open_)
        trainer = trainers[name]
        row = trainer.step()
        if on_step is not None:
            on_step(name, trainer, row)
    return {name: t.step_count - start[name] for name, t in trainers.items()}


def _project_schedule(trainer, seconds: float) -> None:
    """Make a trainer's linear learning-rate decay follow training *time*: its ``default_steps``
    becomes the step count it will have reached after ``seconds`` at its speed so far, so
    ``step_count / default_steps`` = ``elapsed_seconds / seconds`` (GANTrainer.lr_factor)."""
    if trainer.step_count > 0 and trainer.elapsed_seconds > 0:
        trainer.default_steps = max(1, int(round(trainer.step_count * seconds / trainer.elapsed_seconds)))


class EqualTimeRace:
    """Two (or more) GAN trainers trained for the same wall time, side by side (the page's race).

    * :meth:`run` alternates the trainers with :func:`train_equal_time` until each has spent
      ``seconds`` inside ``step()``; with ``time_schedule`` the linear learning-rate decay follows the
      training time (each trainer's decay ends when its time is up, whatever its speed).
    * Every ``eval_every_s`` seconds of training time each trainer is evaluated
      (``trainer.evaluate()``: classifier Fréchet distance of 360 samples to the test split), at the
      same training time for all of them; ``evals[name]`` holds ``seconds, steps, frechet_distance``.
    * :meth:`snapshot` is what a page draws: steps, speed, samples from fixed noise, the evaluations.
    """

    def __init__(self, trainers: Mapping[str, object], seconds: float, *, eval_every_s: float | None = None,
                 time_schedule: bool = True, sample_n: int = 32, sample_seed: int = 0):
        if not trainers:
            raise GenlabError("a race needs at least one trainer")
        seconds = float(seconds)
        if not np.isfinite(seconds) or seconds <= 0:
            raise GenlabError(f"the training time must be a positive number of seconds (got {seconds!r})")
        self.trainers = dict(trainers)
        self.seconds = seconds
        self.eval_every_s = float(eval_every_s) if eval_every_s else max(seconds / 8, 1.0)
        self.time_schedule = bool(time_schedule)
        self.sample_n, self.sample_seed = int(sample_n), int(sample_seed)
        self.evals: dict[str, dict[str, list]] = {name: {"seconds": [], "steps": [], "frechet_distance": []}
                                                   for name in self.trainers}
        self.rows: dict[str, list[dict]] = {name: [] for name in self.trainers}
        self._next_eval = self.eval_every_s   # training time of the next evaluation

    @property
    def training_seconds(self) -> float:
        """The training time every trainer has reached (the slowest one's)."""
        return min(t.elapsed_seconds for t in self.trainers.values())

    @property
    def done(self) -> bool:
        return self.training_seconds >= self.seconds

    def evaluate(self) -> None:
        for name, trainer in self.trainers.items():
            ev = self.evals[name]
            if ev["steps"] and ev["steps"][-1] == trainer.step_count:
                continue
            ev["seconds"].append(round(float(min(trainer.elapsed_seconds, self.seconds)), 3))
            ev["steps"].append(int(trainer.step_count))
            ev["frechet_distance"].append(float(trainer.evaluate().get("frechet_distance", float("nan"))))

    def run(self, should_stop: Callable[[], bool] = lambda: False,
            on_progress: Callable[["EqualTimeRace"], None] | None = None, progress_every_s: float = 0.5) -> str:
        """Train to the time budget (evaluating on the way); returns ``finished`` or ``stopped``.
        ``on_progress(race)`` is called at most every ``progress_every_s`` seconds of wall time."""
        import time

        last = [time.monotonic()]

        def on_step(name, trainer, row) -> None:
            self.rows[name].append(row)
            now = time.monotonic()
            if on_progress is not None and now - last[0] >= progress_every_s:
                last[0] = now
                on_progress(self)

        while True:
            target = min(self._next_eval, self.seconds)
            stopped = [False]

            def gate() -> bool:
                if should_stop():
                    stopped[0] = True
                    return True
                if self.time_schedule:
                    for trainer in self.trainers.values():
                        if getattr(trainer.train_config, "lr_decay", "none") != "none":
                            _project_schedule(trainer, self.seconds)
                return False

            train_equal_time(self.trainers, target, should_stop=gate, on_step=on_step)
            if stopped[0]:
                return "stopped"
            self.evaluate()
            if on_progress is not None:
                on_progress(self)
            if target >= self.seconds:
                return "finished"
            self._next_eval = target + self.eval_every_s

    def snapshot(self) -> dict:
        """``{"seconds": budget, "training_seconds", "done", "models": {name: {step, seconds,
        steps_per_s, samples (n, 1, S, S), frechet_distance}}, "evals": {...}}``."""
        models = {}
        for name, trainer in self.trainers.items():
            samples = trainer.sample(self.sample_n, seed=self.sample_seed).numpy()
            fd = self.evals[name]["frechet_distance"]
            models[name] = {
                "step": int(trainer.step_count),
                "seconds": float(trainer.elapsed_seconds),
                "steps_per_s": float(trainer.step_count / trainer.elapsed_seconds) if trainer.elapsed_seconds else float("nan"),
                "samples": samples,
                "frechet_distance": fd[-1] if fd else float("nan"),
            }
        return {"seconds": self.seconds, "training_seconds": self.training_seconds, "done": self.done,
                "models": models, "evals": {k: {kk: list(vv) for kk, vv in v.items()} for k, v in self.evals.items()}}


def race_key(configs: Mapping[str, dict], seconds: float) -> str:
    """Hash naming a race: the trainers' configs and the time budget."""
    import hashlib
    import json

    from genlab.runs import canonical_config_json

    text = json.dumps({"configs": {k: canonical_config_json(v) for k, v in sorted(configs.items())},
                       "seconds": round(float(seconds), 3)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def race_run_name(key: str, name: str) -> str:
    return f"race-{key}-{name}"


def save_race(race: EqualTimeRace, store, key: str, status: str = "finished") -> dict[str, str]:
    """Store every trainer of the race as a run ``race-<key>-<name>`` (config, metrics rows,
    checkpoint, samples.png; status.json records the race budget and its evaluations, so
    :func:`load_race` can show the race again). Returns ``name -> run name``."""
    from genlab.runs import save_samples

    names = {}
    for name, trainer in race.trainers.items():
        run_name = race_run_name(key, name)
        if store.exists(run_name):
            store.delete(run_name)
        run = store.create(run_name, trainer.config_dict())
        for row in race.rows[name]:
            run.append_metrics(row)
        run.save_checkpoint(trainer.state_dict())
        try:
            save_samples(trainer, run)
        except Exception:  # noqa: BLE001 - a preview must not lose the run
            pass
        run.set_status(status, step=trainer.step_count, race_seconds=race.seconds, race_key=key,
                       race_evals=race.evals[name])
        names[name] = run_name
    return names


def load_race(store, key: str, names: tuple[str, ...] = ("tgan", "dcgan")) -> EqualTimeRace | None:
    """The stored, finished race ``key`` rebuilt (trainers with their weights, evaluations), or None."""
    from genlab.runs import load_trainer

    trainers, evals, seconds = {}, {}, None
    for name in names:
        run_name = race_run_name(key, name)
        if not store.exists(run_name):
            return None
        run = store.open(run_name)
        status = run.status()
        if status.get("status") != "finished" or not run.has_checkpoint():
            return None
        trainers[name] = load_trainer(run)
        evals[name] = status.get("race_evals") or {"seconds": [], "steps": [], "frechet_distance": []}
        seconds = float(status.get("race_seconds") or 0) or seconds
    if seconds is None:
        return None
    race = EqualTimeRace(trainers, seconds)
    race.evals = {k: {kk: list(vv) for kk, vv in v.items()} for k, v in evals.items()}
    return race


# The Transformer GAN page's default race, in one place: the page's widgets start at these values and
# genlab.demos ships this race (python -m genlab demos), so the two cannot drift apart.
RACE_DEFAULTS: dict = {"patch_size": 4, "dim": 64, "depth": 1, "heads": 4, "seed": 0, "with_dcgan": True}
RACE_DEFAULT_SECONDS = 120       # training time per model
RACE_SAMPLE_N = 32               # samples per model in the race view


def race_eval_every(seconds: float) -> float:
    """Training seconds between the page's evaluations of a race (six points on its curve)."""
    return max(float(seconds) / 6, 2.0)


def new_race(configs: Mapping[str, dict], seconds: float, device="cpu") -> EqualTimeRace:
    """A fresh race as the page runs it: new trainers, ``race_eval_every`` evaluations, ``RACE_SAMPLE_N``
    samples per model."""
    return EqualTimeRace(build_race_trainers(configs, device=device), seconds,
                         eval_every_s=race_eval_every(seconds), sample_n=RACE_SAMPLE_N)


def race_configs(patch_size: int = RACE_DEFAULTS["patch_size"], dim: int = RACE_DEFAULTS["dim"],
                 depth: int = RACE_DEFAULTS["depth"], heads: int = RACE_DEFAULTS["heads"],
                 seed: int = RACE_DEFAULTS["seed"], with_dcgan: bool = RACE_DEFAULTS["with_dcgan"]) -> dict[str, dict]:
    """The full ``config_dict()``s of the page's race (built without loading data): the transformer
    GAN with these settings (``depth`` blocks in G and in D) and, with ``with_dcgan``, DCGAN with
    its benchmark settings and the same seed."""
    from genlab.train.gan import gan_configs

    model, train = tgan_configs(patch_size=patch_size, dim=dim, depth_g=depth, depth_d=depth, heads=heads, seed=seed)
    model.validate()
    configs = {"tgan": {"model": MODEL_NAME, "dataset": "digits", "model_config": asdict(model),
                        "train_config": asdict(train)}}
    if with_dcgan:
        model, train = gan_configs("dcgan", seed=seed)
        configs["dcgan"] = {"model": "dcgan", "dataset": "digits", "model_config": asdict(model),
                            "train_config": asdict(train)}
    return configs


def build_race_trainers(configs: Mapping[str, dict], device="cpu") -> dict:
    """Fresh trainers for :func:`race_configs` output (name -> trainer, same order)."""
    from genlab.train.registry import trainer_class

    return {name: trainer_class(config["model"]).from_config(config, device=device) for name, config in configs.items()}


# ====================================================================== benchmark


def measure_speed(trainers: Mapping[str, object], rounds: int = 6, block: int = 5, warmup: int = 3) -> dict[str, dict]:
    """Steps per second of each trainer, measured back to back in this process: ``rounds`` times,
    ``block`` steps of each in turn (so a change in the machine's load hits all of them alike).
    Returns ``name -> {"steps_per_s": wall, "cpu_steps_per_s": process CPU time}``."""
    import time

    for trainer in trainers.values():
        for _ in range(warmup):
            trainer.step()
    wall = {name: 0.0 for name in trainers}
    cpu = {name: 0.0 for name in trainers}
    for _ in range(int(rounds)):
        for name, trainer in trainers.items():
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(int(block)):
                trainer.step()
            wall[name] += time.perf_counter() - w0
            cpu[name] += time.process_time() - c0
    n = int(rounds) * int(block)
    return {name: {"steps_per_s": n / wall[name], "cpu_steps_per_s": n / cpu[name]} for name in trainers}


def _bench_main(argv=None) -> int:
    """``python -m genlab.train.transformer_gan speed|train ...``: the numbers of the closing note.

    * ``speed``: steps/s of the default DCGAN and the default transformer GAN, back to back.
    * ``train MODEL STEPS [--every N] [--set k=v ...]``: train ``dcgan`` or ``tgan`` with its default
      recipe for STEPS steps (the learning-rate decay ends at STEPS) and print the Fréchet distance
      every N steps as JSON lines.
    """
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m genlab.train.transformer_gan", description=_bench_main.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("speed", "train"))
    parser.add_argument("model", nargs="?", choices=("dcgan", "tgan"))
    parser.add_argument("steps", nargs="?", type=int)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        try:
            overrides[name] = json.loads(value)
        except ValueError:
            overrides[name] = value
    from genlab.train.gan import gan_configs

    def build(model: str, steps: int | None = None):
        extra = {"steps": steps} if steps else {}
        if model == "dcgan":
            return GANTrainer("dcgan", "digits", *gan_configs("dcgan", seed=args.seed, **extra))
        return TransformerGANTrainer("digits", *tgan_configs(seed=args.seed, **{**overrides, **extra}))

    if args.command == "speed":
        speeds = measure_speed({"dcgan": build("dcgan"), "tgan": build("tgan")}, rounds=args.rounds)
        speeds["ratio_tgan_to_dcgan"] = {
            "steps_per_s": speeds["tgan"]["steps_per_s"] / speeds["dcgan"]["steps_per_s"],
            "cpu_steps_per_s": speeds["tgan"]["cpu_steps_per_s"] / speeds["dcgan"]["cpu_steps_per_s"]}
        print(json.dumps({"threads": args.threads, "overrides": overrides, **speeds}), flush=True)
        return 0
    if not args.model or not args.steps:
        parser.error("train needs MODEL (dcgan or tgan) and STEPS")
    trainer = build(args.model, args.steps)
    while trainer.step_count < args.steps:
        trainer.step()
        if trainer.step_count % args.every == 0 or trainer.step_count == args.steps:
            out = {"model": args.model, "overrides": overrides if args.model == "tgan" else {}, "step": trainer.step_count,
                   "train_seconds": round(trainer.elapsed_seconds, 1),
                   "steps_per_s": round(trainer.step_count / trainer.elapsed_seconds, 3),
                   **{k: round(v, 2) for k, v in trainer.evaluate().items()}}
            print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_bench_main())
