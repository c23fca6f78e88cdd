"""Background training and loading of the autoencoder / VAE runs of the latent pages (issue 4).

The pages (``dashboard/pages/latent_spaces.py``, ``dashboard/pages/vae_elbo.py``) never train in
their script run. They ask this module for the runs of a configuration:

* :func:`autoencoder_config` builds the full ``config_dict()`` of an AE or a VAE from the page's
  settings (the same dict the trainer stores as ``config.json``), without loading any data;
* :func:`find_finished` looks it up in the run store (``GENLAB_RUNS_DIR`` or ``./runs``; a run
  trained from the CLI with the same settings counts too), then among the shipped demos
  (``genlab.demos``, exact settings only) -- a finished run is loaded at once;
* :func:`submit_training` queues :func:`train_models` in ``genlab.jobs`` under a key made of the
  configs' hashes, so identical settings share one job and never train twice in one server;
* :func:`load_model` rebuilds a finished run's trainer (cached in-process) and
  :class:`LoadedModel` caches what the pages derive from it (test-split codes, prior samples and
  their classifier scores).

Training several models in one job: one :func:`genlab.train.base.fit_group` steps them in turns,
one step each -- the AE and the VAE train side by side on one core's worth of CPU -- and records each
in its run (:class:`genlab.train.recording.RecordRun`: metrics, checkpoints, resume, status).
A model whose run is being trained by another job (another page or session) is waited for, not
trained again. Nothing here imports streamlit: the job talks to the page only through its
``publish`` / ``set_progress`` / ``should_stop``.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from genlab.configs import AutoencoderConfig, AutoencoderTrainConfig
from genlab.errors import GenlabError, check_number
from genlab.train.callbacks import Callback
from genlab.validation import bounds, default

__all__ = [
    "DEFAULTS",
    "LIMITS",
    "LoadedModel",
    "autoencoder_config",
    "check_settings",
    "check_dataset_available",
    "display_subset",
    "expected_steps",
    "find_finished",
    "is_demo",
    "source_text",
    "job_key",
    "load_model",
    "pair_configs",
    "predicted_class_share",
    "prior_z",
    "robust_limit",
    "read_metrics",
    "vae_variants",
    "run_name",
    "slot_text",
    "submit_training",
    "train_models",
]

# The page defaults: K = 2 (the raw latent plane is shown), 100 epochs of the 1437 training
# digits (2300 Adam steps per model; a few seconds per model on an idle CPU core). K, β and S default
# and range as the config dataclasses say (genlab.configs); epochs and the seed are narrower page caps
# (a class server stays usable).
DEFAULTS = {"dataset": "digits", "latent_dim": 2, "beta": default(AutoencoderTrainConfig, "beta"), "epochs": 100,
            "mc_samples": default(AutoencoderTrainConfig, "mc_samples"), "seed": 0}
LIMITS = {"latent_dim": bounds(AutoencoderConfig, "latent_dim"), "beta": (0.0, 100.0), "epochs": (1, 500),
          "mc_samples": bounds(AutoencoderTrainConfig, "mc_samples"), "seed": (0, 9999)}
DATASETS = ("digits", "mnist", "fashion-mnist")
DISPLAY_POINTS = 2000        # codes drawn in a latent plot (digits: the whole 360-image test split)
PUBLISH_EVERY_S = 0.5        # live snapshots: at most twice a second
LIVE_POINTS = 600            # codes encoded for each live snapshot


# --------------------------------------------------------------------------- #
# Settings -> configs
# --------------------------------------------------------------------------- #
def _whole(value, what: str, name: str) -> int:
    low, high = LIMITS[name]
    return check_number(what, value, lo=low, hi=high, integer=True)


def check_settings(dataset: str, latent_dim, beta, epochs, mc_samples=1, seed=0) -> dict:
    """The page's settings, validated: GenlabError with a message naming the allowed values."""
    if dataset not in DATASETS:
        raise GenlabError(f"unknown data set {dataset!r}; allowed: {', '.join(DATASETS)}")
    latent_dim = _whole(latent_dim, "The latent size K", "latent_dim")
    epochs = _whole(epochs, "Epochs", "epochs")
    mc_samples = _whole(mc_samples, "The number of Monte-Carlo samples S", "mc_samples")
    seed = _whole(seed, "The seed", "seed")
    low, high = LIMITS["beta"]
    try:
        beta = check_number("β", beta, lo=low, hi=high)
    except GenlabError:
        raise GenlabError(f"β must be a number from {low:g} to {high:g} (got {beta!r}); "
                          "β = 1 gives the negative ELBO") from None
    return {"dataset": dataset, "latent_dim": latent_dim, "beta": beta, "epochs": epochs,
            "mc_samples": mc_samples, "seed": seed}


def check_dataset_available(dataset: str) -> None:
    """Raise genlab's DatasetUnavailable (its message says which files to put where) when an
    MNIST-type data set is not on disk; never tries to download (the page must not hang)."""
    if dataset == "digits":
        return
    _dataset_probe(dataset)


_AVAILABLE: set[str] = set()


def _dataset_probe(dataset: str) -> None:
    if dataset in _AVAILABLE:
        return
    from genlab.data import load_image_dataset

    load_image_dataset(dataset, "test", download=False)
    _AVAILABLE.add(dataset)


def autoencoder_config(model: str, dataset: str = "digits", latent_dim: int = 2, beta: float = 1.0,
                       epochs: int = 100, mc_samples: int = 1, seed: int = 0) -> dict:
    """The full ``config_dict()`` of the ``ae`` / ``vae`` trainer these settings build.

    Built through ``genlab.train.registry.build_config`` (the CLI's option names) and completed
    with the config dataclasses' defaults, exactly as the trainer completes it, so a run trained
    from the CLI with the same options has the same :func:`genlab.runs.config_hash`. The AE has
    no β and no S: its config does not depend on them (one AE run serves every β).
    """
    from genlab.models.autoencoder import AutoencoderConfig
    from genlab.train.autoencoder import AutoencoderTrainConfig
    from genlab.train.base import dataclass_from_dict
    from genlab.train.registry import build_config

    options: dict[str, Any] = {"latent_dim": int(latent_dim), "epochs": int(epochs), "seed": int(seed)}
    if model == "vae":
        options.update(beta=float(beta), mc_samples=int(mc_samples))
    config = build_config(model, dataset, options)
    model_config = dataclass_from_dict(AutoencoderConfig, config["model_config"])
    train_config = dataclass_from_dict(AutoencoderTrainConfig, config["train_config"])
    model_config.beta = train_config.beta  # what AutoencoderTrainer.__init__ does
    return {"model": model, "dataset": dataset, "model_config": asdict(model_config),
            "train_config": asdict(train_config)}


def pair_configs(dataset: str = "digits", latent_dim: int = 2, beta: float = 1.0, epochs: int = 100,
                 seed: int = 0, mc_samples: int = 1) -> dict[str, dict]:
    """``{"ae": config, "vae": config}``: the same architecture, data, epochs and seed."""
    return {model: autoencoder_config(model, dataset, latent_dim, beta, epochs, mc_samples, seed)
            for model in ("ae", "vae")}


def expected_steps(config: dict) -> int:
    """Steps of a complete run: epochs x ceil(training images / batch size)."""
    from genlab.train.registry import TRAIN_SIZES

    train = config["train_config"]
    return int(train["epochs"]) * math.ceil(TRAIN_SIZES[config["dataset"]] / int(train["batch_size"]))


def run_name(config: dict) -> str:
    """Deterministic run name ``latent-<model>-<dataset>-K<k>-<hash>``."""
    from genlab.runs import config_hash

    return (f"latent-{config['model']}-{config['dataset']}-K{config['model_config']['latent_dim']}-"
            f"{config_hash(config)[:10]}")


def job_key(configs: dict[str, dict] | Sequence[dict]) -> str:
    """Key of the job training these configs (sorted hashes): identical requests share a job."""
    from genlab.runs import config_hash

    values = configs.values() if isinstance(configs, dict) else configs
    return "latent:" + "+".join(sorted(config_hash(c) for c in values))


# --------------------------------------------------------------------------- #
# The run store
# --------------------------------------------------------------------------- #
_FOUND: dict[tuple[str, str], Path] = {}   # (store root, config hash) -> finished run folder
_FOUND_LOCK = threading.Lock()


def _store(root=None):
    from genlab.runs import RunStore

    return RunStore(root)


def find_finished(config: dict, root=None):
    """The finished, complete run of ``config`` in the store (a :class:`genlab.runs.Run`) or None.

    Complete = status ``finished`` with at least :func:`expected_steps` steps. Positive answers are
    remembered for the life of the server process (while the folder exists)."""
    from genlab.runs import Run, config_hash

    store = _store(root)
    key = (str(Path(store.root).resolve()), config_hash(config))
    with _FOUND_LOCK:
        path = _FOUND.get(key)
    if path is not None and (path / "checkpoint.pt").is_file():
        return Run(path)
    run = None
    name = run_name(config)
    if store.exists(name):
        try:
            candidate = store.open(name)
        except GenlabError:   # being created right now (folder made, config not yet written)
            candidate = None
        if candidate is not None and _complete(candidate, config):
            run = candidate
    if run is None:
        candidate = store.find_by_config(config)
        if candidate is not None and _complete(candidate, config):
            run = candidate
    if run is None:              # not trained here yet: a shipped demo with exactly these settings
        from genlab import demos

        candidate = demos.find_demo(config, exact=True)
        if candidate is not None and _complete(candidate, config):
            run = candidate
    if run is not None:
        with _FOUND_LOCK:
            _FOUND[key] = run.path
    return run


def source_text(runs, just_trained: bool = False) -> str:
    """One sentence (Markdown) saying where the shown runs come from: trained just now, the user's
    stored runs, or the shipped demos (``genlab.demos``) — never a demo called a stored run."""
    def names(group) -> str:
        return " and ".join(f"`{run.name}`" for run in group)

    runs = list(runs)
    if just_trained:
        return f"Trained just now: {names(runs)}"
    stored = [run for run in runs if not is_demo(run)]
    shipped = [run for run in runs if is_demo(run)]
    parts = []
    if stored:
        parts.append(f"your stored run{'s' if len(stored) > 1 else ''} {names(stored)}, trained earlier with these settings")
    if shipped:
        from genlab import demos

        parts.append(f"the **shipped demo run{'s' if len(shipped) > 1 else ''}** {names(shipped)} "
                     f"(made with `{demos.REGENERATE_COMMAND}`, no waiting)")
    return "Showing " + "; and ".join(parts)


def is_demo(run) -> bool:
    """Whether ``run`` is one of the shipped demos (genlab.demos) rather than a run of the store."""
    from genlab import demos

    try:
        return Path(run.path).resolve().parent == Path(demos.demo_dir()).resolve()
    except (OSError, TypeError, AttributeError):
        return False


def _complete(run, config: dict) -> bool:
    try:
        status = run.status()
    except GenlabError:
        return False
    return (status.get("status") == "finished" and int(status.get("step") or 0) >= expected_steps(config)
            and run.has_checkpoint())


_SUMMARIES: dict[tuple[str, int], dict | None] = {}   # (metrics.csv path, mtime) -> run summary
INACTIVE_KL = 0.01   # nats; the same threshold as dashboard.figures.latent.INACTIVE_KL


def _summary(run) -> dict | None:
    """Final test-split terms of a finished run, from its metrics.csv (cached per file version)."""
    try:
        stamp = run.metrics_path.stat().st_mtime_ns
    except OSError:
        return None
    key = (str(run.metrics_path), stamp)
    if key in _SUMMARIES:
        return _SUMMARIES[key]
    frame = read_metrics(run)
    summary = None
    if not frame.empty and "test_elbo" in frame.columns and frame["test_elbo"].notna().any():
        test = frame[frame["test_elbo"].notna()].iloc[-1]
        last = frame[frame["epoch"] == frame["epoch"].max()]
        kl_dims = np.array([last[c].mean() for c in frame.columns if c.startswith("kl_dim_")])
        summary = {"recon": float(test["test_recon_loss"]), "kl": float(test["test_kl"]),
                   "elbo": float(test["test_elbo"]), "active": int((kl_dims >= INACTIVE_KL).sum()),
                   "seconds": float(frame["wall_time"].max())}
    if len(_SUMMARIES) > 2000:
        _SUMMARIES.clear()
    _SUMMARIES[key] = summary
    return summary


def vae_variants(settings: dict, vary: str, root=None) -> list[dict]:
    """Finished, complete VAE runs in the store whose settings (data set, K, epochs, seed, β, S)
    equal ``settings`` except for ``vary`` (``"beta"`` or ``"mc_samples"``): one dict per run with
    ``beta``, ``S``, the final test ``recon``, ``kl``, ``elbo``, ``active`` dimensions (average KL of
    the last epoch >= 0.01 nats), training ``seconds`` and the ``run``."""
    from genlab.runs import Run

    out = []
    for info in _store(root).list():
        if not info.ok or info.model != "vae" or info.status != "finished" or info.dataset != settings["dataset"]:
            continue
        run = Run(info.path)
        try:
            config = run.config
            train, model = config["train_config"], config["model_config"]
            same = (int(model.get("latent_dim", -1)) == settings["latent_dim"]
                    and int(train.get("epochs") or -1) == settings["epochs"]
                    and int(train.get("seed", -1)) == settings["seed"]
                    and (vary == "beta" or float(train.get("beta", -1)) == settings["beta"])
                    and (vary == "mc_samples" or int(train.get("mc_samples", -1)) == settings["mc_samples"]))
            if not same or info.step < expected_steps(config):
                continue
        except (GenlabError, KeyError, TypeError, ValueError):
            continue
        summary = _summary(run)
        if summary is not None:
            out.append({"beta": float(train["beta"]), "S": int(train["mc_samples"]), **summary, "run": run})
    return out


def forget_found() -> None:
    """Forget the remembered finished runs (tests)."""
    with _FOUND_LOCK:
        _FOUND.clear()


# --------------------------------------------------------------------------- #
# Loaded models
# --------------------------------------------------------------------------- #
@dataclass
class LoadedModel:
    """A finished run's trainer and what the pages derive from it (computed once, cached)."""

    label: str                      # "AE" | "VAE"
    run_name: str
    run_path: Path
    trainer: Any
    config: dict
    steps: int
    wall_time: float
    _cache: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def kind(self) -> str:
        return self.config["model"]

    @property
    def latent_dim(self) -> int:
        return int(self.config["model_config"]["latent_dim"])

    def _cached(self, key, compute: Callable[[], Any]):
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock:
            self._cache[key] = value
        return value

    def test_images(self):
        """The display subset of the test split: images (N, C, H, W) and labels (N,)."""
        return self._cached("test", lambda: display_subset(self.trainer))

    def codes(self) -> np.ndarray:
        """Encoder means mu(x) of the display subset, (N, K) float32."""
        from genlab.latent import encode_dataset

        return self._cached("codes", lambda: encode_dataset(self.trainer, self.test_images()[0]).numpy())

    def decode(self, z) -> np.ndarray:
        """Mean images sigmoid(decoder(z)) of latent points z (N, K): (N, C, H, W) in [0, 1]."""
        return self.trainer.decode(np.asarray(z, dtype=np.float32)).numpy()

    def prior_scores(self, seed: int = 0) -> dict:
        """Classifier Fréchet distance to the test split and mean classifier confidence of the
        decoded :func:`prior_z` draws (``reference_size`` of them: 360 for digits), by
        genlab.metrics' convention (generated images are compared with the test split)."""
        from genlab import metrics

        def compute():
            dataset = self.config["dataset"]
            z = prior_z(self.latent_dim, metrics.reference_size(dataset), seed)
            samples = self.decode(z)
            return {"n": len(z), "frechet": metrics.frechet_to_reference(samples, dataset),
                    "confidence": metrics.classifier_confidence(samples, dataset),
                    "class_share": predicted_class_share(samples, dataset)}

        return self._cached(("scores", seed), compute)

    def metrics_frame(self):
        return self._cached("metrics", lambda: read_metrics(self.run_path))


def read_metrics(run_or_path):
    """A run's metrics.csv as a DataFrame with every column but ``changed`` numeric.

    (``Run.read_metrics`` keeps a column as text when it holds "nan" cells, as the test metrics
    do between evaluations; here they become NaN.)"""
    import pandas as pd

    from genlab.runs import Run

    run = run_or_path if hasattr(run_or_path, "read_metrics") else Run(run_or_path)
    frame = run.read_metrics()
    for column in frame.columns:
        if column != "changed" and not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def predicted_class_share(images, dataset: str) -> np.ndarray:
    """Share of ``images`` that genlab's classifier assigns to each of the 10 classes, (10,)."""
    import torch

    from genlab import metrics

    classifier = metrics.get_classifier(dataset)
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    with torch.no_grad():
        predicted = torch.cat([classifier(chunk).argmax(1) for chunk in x.split(1024)])
    return np.bincount(predicted.numpy(), minlength=10)[:10] / max(1, len(predicted))


def robust_limit(*codes, quantile: float = 0.99, minimum: float = 3.0) -> float:
    """Half-width of a square view holding ``quantile`` of every code coordinate (at least ``minimum``)."""
    values = [np.abs(np.asarray(c, dtype=float)).ravel() for c in codes if c is not None and np.size(c)]
    if not values:
        return minimum * 1.1
    return max(minimum, float(np.quantile(np.concatenate(values), quantile))) * 1.1


def prior_z(latent_dim: int, n: int, seed: int = 0) -> np.ndarray:
    """n draws z ~ N(0, I_K) from a CPU generator seeded with ``seed`` (float32, (n, K)): the same
    points for the AE and the VAE, and the first ones are those the page shows."""
    import torch

    generator = torch.Generator().manual_seed(int(seed))
    return torch.randn(int(n), int(latent_dim), generator=generator).numpy()


def display_subset(trainer, n: int = DISPLAY_POINTS):
    """The first ``n`` test images of a fixed permutation (all 360 for digits) and labels."""
    images, labels = trainer.test_images.cpu(), trainer.test_labels.cpu()
    if len(images) > n:
        import torch

        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:n]
        images, labels = images[order], labels[order]
    return images, labels.numpy()


_LOADED: OrderedDict[tuple, LoadedModel] = OrderedDict()
_LOADED_LOCK = threading.Lock()
MAX_LOADED = 8


def load_model(run, label: str | None = None) -> LoadedModel:
    """The trainer of a finished run with its checkpoint loaded (cached per run folder and
    checkpoint time; at most ``MAX_LOADED`` models are kept)."""
    from genlab.train.recording import load_trainer

    stamp = run.checkpoint_path.stat().st_mtime_ns if run.has_checkpoint() else 0
    key = (str(run.path.resolve()), stamp)
    with _LOADED_LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
    trainer = load_trainer(run)
    # A loaded run is only viewed (encode / decode / the test split): drop the training images,
    # which for MNIST are ~190 MB per model, so that several cached models fit in memory.
    trainer.train_images = trainer.train_images[:1]
    config = run.config
    loaded = LoadedModel(label or config["model"].upper(), run.name, run.path, trainer, config,
                         int(trainer.step_count), float(trainer.elapsed_seconds))
    with _LOADED_LOCK:
        _LOADED[key] = loaded
        while len(_LOADED) > MAX_LOADED:
            _LOADED.popitem(last=False)
    return loaded


# --------------------------------------------------------------------------- #
# Training in a job
# --------------------------------------------------------------------------- #
@dataclass
class _Slot:
    label: str
    config: dict
    name: str
    target: int
    trainer: Any = None
    run: Any = None
    recorders: list = field(default_factory=list)   # what records this model's fit in its run, once started
    step: int = 0
    state: str = "waiting"          # waiting | training | finished | stopped | reused | failed
    message: str = ""
    error: str | None = None


def slot_text(slot) -> str:
    """One model's part of a training job's progress line: its step, or why it has none yet.
    ``slot``: anything with ``label``, ``state``, ``step``, ``target`` and ``message`` (a
    :class:`_Slot`, or the job snapshot's ``models`` entry as a namespace)."""
    name = slot.label.upper()
    if slot.state == "reused":
        return f"{name} already trained (stored run)"
    if slot.state == "waiting" and slot.message:
        return f"{name} waits: {slot.message} (step {slot.step:,} of {slot.target:,})"
    if slot.state == "waiting" and not slot.step:
        return f"{name} preparing (data set and model)"
    return f"{name} step {slot.step:,} of {slot.target:,}"


def _is_taken(err: GenlabError) -> bool:
    """The run is being trained by another job or process (genlab.train.recording.RecordRun)."""
    return "already being trained" in str(err) or "is being trained" in str(err)


class _PairFeed(Callback):
    """Fit callback of a latent-pages job over several trainers: each model's run store recording
    (its own :class:`~genlab.train.recording.RecordRun`), the job's progress and live snapshots.
    A model whose run another job claimed meanwhile drops out of this fit and waits."""

    def __init__(self, slots: Sequence[_Slot], publish: Callable[..., None], current: dict):
        self.slots = {id(slot.trainer): slot for slot in slots}
        self.publish = publish
        self.current = current      # current["slot"]: whose turn it is (names the model if it fails)

    def slot(self, trainer) -> _Slot:
        return self.slots[id(trainer)]

    def done(self, trainer) -> bool:
        slot = self.slot(trainer)
        return slot.state != "training" or trainer.step_count >= slot.target

    def on_fit_start(self, trainer) -> None:
        from genlab.train.recording import recording_callbacks

        slot = self.current["slot"] = self.slot(trainer)
        started = []
        try:
            for recorder in recording_callbacks(slot.run, slot.target):   # the run's history, then RecordRun
                recorder.on_fit_start(trainer)
                started.append(recorder)
        except GenlabError as err:
            for recorder in started:
                recorder.on_fit_end(trainer, "interrupted")
            if not _is_taken(err):
                raise
            slot.trainer = None      # rebuilt after the other one ended (resumes its checkpoint)
            slot.state, slot.message = "waiting", "another job is training it"
            return
        slot.recorders, slot.step = started, trainer.step_count

    def before_step(self, trainer) -> bool:
        slot = self.current["slot"] = self.slot(trainer)
        return any(recorder.before_step(trainer) for recorder in slot.recorders)

    def on_step_end(self, trainer, row: dict) -> None:
        slot = self.slot(trainer)
        for recorder in slot.recorders:
            recorder.on_step_end(trainer, row)
        slot.step = int(row.get("step", slot.step))
        self.publish()

    def on_fit_end(self, trainer, status: str) -> None:
        slot = self.slot(trainer)
        if not slot.recorders:
            return
        if status != "interrupted" and trainer.step_count >= slot.target:
            status = "finished"                 # this model is done even if the job stops now
        for recorder in slot.recorders:
            recorder.on_fit_end(trainer, status)
        slot.recorders = []
        slot.state, slot.step = status, int(trainer.step_count)


def _prepare(slot: _Slot, store, live: dict, live_points: int) -> bool:
    """Get ``slot`` ready for a fit; False when its finished run is stored (state ``reused``) or
    another job or process is training it (state ``waiting``)."""
    from genlab.train.registry import trainer_class

    if find_finished(slot.config, store.root) is not None:
        slot.state, slot.step = "reused", slot.target
        return False
    slot.run = store.create(slot.name, slot.config, resume=True)
    status = slot.run.status()
    slot.step = int(status.get("step") or 0)      # a resumed run starts from its checkpoint
    if status.get("status") == "running":
        slot.state, slot.message = "waiting", "another job is training it"
        return False
    if slot.trainer is None:
        slot.trainer = trainer_class(slot.config["model"]).from_config(slot.config)
        if live["images"] is None:
            live["images"], live["labels"] = display_subset(slot.trainer, live_points)
    slot.state, slot.message = "training", ""
    return True


def _failure_text(err: Exception) -> str:
    if isinstance(err, GenlabError):
        return str(err)
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def train_models(ctx, configs: dict[str, dict], root=None, *, publish_every_s: float = PUBLISH_EVERY_S,
                 live_points: int = LIVE_POINTS) -> dict[str, str]:
    """Job function: train every config (label -> config_dict) to completion in the run store.

    The models train side by side in one :func:`~genlab.train.base.fit_group`, one step each in turn
    (:func:`~genlab.train.base.fewest_steps`), each recorded in its run (resume from a checkpoint,
    metrics.csv, status). A config whose finished run is already stored is reused; one being trained
    by another job is waited for (the others train meanwhile). Publishes ``models`` (label -> step,
    target, state, run name), ``codes`` / ``labels`` (live latent means of a fixed test subset) and
    ``done`` about twice a second. Returns label -> final state. An error in one model fails the job
    with that model's message.
    """
    store = _store(root)
    slots = {label: _Slot(label, config, run_name(config), expected_steps(config)) for label, config in configs.items()}
    live: dict[str, Any] = {"images": None, "labels": None}
    publish = _publisher(ctx, slots, live, publish_every_s)
    ctx.set_progress(0.0, "preparing the data")
    current: dict[str, _Slot] = {}
    try:
        _train_in_rounds(ctx, slots, store, live, live_points, publish, current)
    except Exception as err:  # noqa: BLE001 - reported by the job as a one-line error naming the model
        failed = current.get("slot") or next(iter(slots.values()))
        failed.state, failed.error = "failed", _failure_text(err)
        raise GenlabError(f"{failed.label}: {failed.error}") from None
    publish(force=True, with_codes=False)
    return {label: slot.state for label, slot in slots.items()}


def _train_in_rounds(ctx, slots: dict[str, _Slot], store, live: dict, live_points: int,
                     publish: Callable[..., None], current: dict) -> None:
    """Rounds of one :func:`~genlab.train.base.fit_group` each over the models that are ready; a round
    ends when they are done or the job stops. Models that another job holds wait (polled every 0.5 s)
    and join the next round; the loop never steps a trainer itself."""
    from genlab.train.base import fewest_steps, fit_group

    while not ctx.should_stop():
        ready = []
        for slot in [slot for slot in slots.values() if slot.state in ("waiting", "training")]:
            current["slot"] = slot
            if _prepare(slot, store, live, live_points):
                ready.append(slot)
        if not ready and not any(slot.state == "waiting" for slot in slots.values()):
            return
        if not ready:
            publish(with_codes=False)
            time.sleep(0.5)
            continue
        feed = _PairFeed(ready, publish, current)
        fit_group({slot.label: slot.trainer for slot in ready}, feed.done, callbacks=[feed],
                  should_stop=ctx.should_stop, turn=fewest_steps)
    for slot in slots.values():             # the job was stopped
        if slot.state in ("waiting", "training"):
            slot.state = "stopped"


def _publisher(ctx, slots: dict[str, _Slot], live: dict, publish_every_s: float) -> Callable[..., None]:
    """``publish(force=False, with_codes=True)``: the job's progress and a snapshot, at most every
    ``publish_every_s`` seconds unless forced; ``codes`` are the latent means of the live subset
    under each model that is training (encoded between steps, never while a step runs)."""
    total = sum(slot.target for slot in slots.values())
    last_publish = [0.0]

    def publish(force: bool = False, with_codes: bool = True) -> None:
        now = time.monotonic()
        if not force and now - last_publish[0] < publish_every_s:
            return
        last_publish[0] = now
        extra = {}
        if with_codes and live["images"] is not None:
            codes = {}
            for slot in slots.values():
                if slot.trainer is not None and slot.state == "training":
                    try:
                        codes[slot.label] = slot.trainer.encode(live["images"]).numpy()
                    except Exception:  # noqa: BLE001 - a live view must never kill training
                        pass
            if codes:
                extra = {"codes": codes, "labels": live["labels"]}
        done = sum(min(s.step, s.target) for s in slots.values())
        ctx.set_progress(done / max(1, total), " · ".join(slot_text(s) for s in slots.values()))
        ctx.publish(models={s.label: {"label": s.label, "step": s.step, "target": s.target, "state": s.state,
                                      "run": s.name, "message": s.message} for s in slots.values()},
                    updated=time.time(), **extra)

    return publish


def submit_training(manager, configs: dict[str, dict], session_id: str, name: str, root=None):
    """Queue :func:`train_models` for ``configs`` (shared with any active job of the same key)."""
    key = job_key(configs)
    return manager.submit(lambda ctx: train_models(ctx, configs, root), session_id=session_id, key=key, name=name)

