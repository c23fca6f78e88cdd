"""Recording a training's timeline: :class:`RecordHistory`, the fit callback that takes snapshots
while any :meth:`~genlab.train.base.Trainer.fit` runs, and the snapshot functions it uses.

What a frame holds (the views the pages draw, at fixed inputs so that frames compare):

* 2D GANs (:class:`Gan2DSnapshots`): the fakes of one fixed noise batch, D(x) on a grid over the
  plane, G's manifold (its image of a noise grid) and the step's metrics row;
* image GANs (:class:`ImageSnapshots`): the sample grid of fixed noise as uint8 (cGAN: one row per
  class) and, for PatchGAN, D's per-patch map of a few fakes and fixed real test images;
* AE / VAE (:class:`LatentSnapshots`): the encoder means of a fixed test subset and the decodes of
  fixed prior draws z ~ N(0, I).

When: :func:`frame_schedule` plans the frames from the run's target steps: half of them evenly
spaced, half log-spaced (dense at the start, where a GAN changes fastest), step 0 and the last step
always; the budget (:data:`HISTORY_FRAMES`) is fixed, so a 200,000-step run keeps as many frames as
a 2,000-step one. Where: ``history.npz`` in the run folder (:mod:`genlab.run_history`), written
atomically with every checkpoint and at the end; :func:`load_history` reads it back, checked.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch

from genlab.errors import GenlabError
from genlab.run_files import HISTORY_FILE, RunFileError
from genlab.run_history import (  # noqa: F401 - thin_frames / thin_history re-exported
    History,
    is_per_frame,
    read_history_file,
    thin_frames,
    thin_history,
    write_history_file,
)
from genlab.train.callbacks import Callback

HISTORY_FRAMES = 120        # frames of one run's timeline, whatever its length
DEMO_HISTORY_FRAMES = 64    # a shipped demo's (thinned from 120) keep demos/ small
FAKE_SEED = 7               # the fixed noise of the 2D plane's fakes (as the 2D page)
GRID_SEED = 11              # the fixed noise of the image GANs' sample grid (as the image page)
PRIOR_SEED = 0              # the fixed prior draws the latent frames decode
DISPLAY_SEED = 0            # which real points / test images a history shows

_log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- schedule


def frame_schedule(target_steps: int, budget: int = HISTORY_FRAMES) -> np.ndarray:
    """The steps at which a run of ``target_steps`` steps records a frame: every step when the run
    has at most ``budget`` of them (counting step 0), otherwise exactly ``budget`` steps: half
    evenly spaced from 0 to the target, the rest log-spaced from step 1 (so the first steps are
    all there). Strictly increasing, always with 0 and ``target_steps``."""
    target, budget = int(target_steps), int(budget)
    if target < 0 or budget < 2:
        raise GenlabError(f"a history needs target steps >= 0 and a budget >= 2 (got {target}, {budget})")
    if target + 1 <= budget:
        return np.arange(target + 1, dtype=np.int64)
    linear = np.unique(np.round(np.linspace(0, target, max(budget // 2, 2))).astype(np.int64))
    wanted = budget - len(linear)

    def log_points(n: int) -> np.ndarray:
        points = np.unique(np.round(np.geomspace(1, target, n)).astype(np.int64))
        return np.setdiff1d(points, linear, assume_unique=True)

    low, high = max(wanted, 2), max(wanted, 2)
    while len(log_points(high)) < wanted and high <= target:
        low, high = high, min(2 * high, target + 1)
    extra = log_points(high)
    if len(extra) < wanted:
        # Runs a little longer than the budget: even target + 1 log points skip late steps
        # (rounding merges the dense early ones), so the earliest free steps fill the rest.
        free = np.setdiff1d(np.arange(1, target), np.union1d(linear, extra), assume_unique=True)
        return np.union1d(linear, np.union1d(extra, free[: wanted - len(extra)])).astype(np.int64)
    while low < high:                          # the fewest log points that fill the budget
        middle = (low + high) // 2
        low, high = (middle + 1, high) if len(log_points(middle)) < wanted else (low, middle)
    extra = log_points(high)[:wanted]          # any surplus sits late, next to the linear frames
    return np.union1d(linear, extra).astype(np.int64)


# --------------------------------------------------------------------------- snapshots


def _uint8(images: torch.Tensor) -> np.ndarray:
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()


def _float16(values) -> np.ndarray:
    array = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=np.float32)
    return np.clip(array, -6e4, 6e4).astype(np.float16)   # beyond float16's range: clipped, NaN kept


class Gan2DSnapshots:
    """Frames of a 2D GAN: ``fake`` (N, 2) of fixed noise, ``heatmap`` (R, R) of D(x) over
    ``extent`` (row = y), ``manifold`` (A, B, 2); fixed: ``real`` (N_real, 2) and ``extent``."""

    kind = "gan2d"
    frame_names = ("fake", "heatmap", "manifold")

    def __init__(self, trainer, n_fake: int = 500, grid: int = 40, manifold_n: int = 15, n_real: int = 500,
                 margin: float = 0.2):
        self.trainer, self.n_fake, self.grid, self.manifold_n = trainer, n_fake, grid, manifold_n
        real = trainer.real_points()
        pick = np.random.default_rng(DISPLAY_SEED).choice(len(real), size=min(n_real, len(real)), replace=False)
        self.real = real[pick]
        self.extent = plane_extent(real, margin)

    def fixed(self) -> dict:
        return {"real": _float16(self.real), "extent": np.asarray(self.extent, dtype=np.float32)}

    @torch.no_grad()
    def frame(self) -> dict:
        from genlab.train.gan import discriminator_grid, generator_manifold

        tr = self.trainer
        fake = tr.sample(self.n_fake, seed=FAKE_SEED)
        _, _, heat = discriminator_grid(tr, self.extent, self.grid)
        _, manifold = generator_manifold(tr, self.manifold_n)
        if manifold.ndim == 2:                 # noise_dim 1: a curve, one row of a mesh
            manifold = manifold[None]
        return {"fake": _float16(fake), "heatmap": _float16(heat), "manifold": _float16(manifold)}


def plane_extent(points, margin: float = 0.2) -> tuple[float, float, float, float]:
    """A square ``(x_min, x_max, y_min, y_max)`` around the finite ``points`` (N, 2) plus ``margin``
    of their span on each side (the 2D page's plane)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    points = points[np.isfinite(points).all(axis=1)]
    if not len(points):
        return (-3.0, 3.0, -3.0, 3.0)
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1e-3)
    low, high = low - margin * span, high + margin * span
    centre, half = (low + high) / 2, float(np.max(high - low)) / 2
    return (float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half))


class ImageSnapshots:
    """Frames of an image GAN: ``samples`` (N, C, H, W) uint8 of fixed noise (cGAN: row = class);
    PatchGAN: ``patch_fake`` / ``patch_real_maps`` (P, h, w), D's per-patch probability of the
    first P samples and of P fixed test images (``patch_real``)."""

    kind = "image"

    def __init__(self, trainer, n_patch: int = 6):
        self.trainer = trainer
        height, width = trainer.data.shape[-2:]
        small = height * width <= 256          # digits (8 x 8): 64 samples; 28 x 28: 16 (<= 2 MB raw)
        self.labels = None
        if getattr(trainer, "conditional", False):
            per_class = 8 if small else 2
            classes = int(trainer.model_config.num_classes)
            self.labels = torch.arange(classes).repeat_interleave(per_class)
            self.n, self.nrow = classes * per_class, per_class
        else:
            self.n = 64 if small else 16
            self.nrow = int(math.isqrt(self.n))
        self.patch = getattr(trainer.model_config, "disc", "standard") == "patch"
        self.frame_names = ("samples", "patch_fake", "patch_real_maps") if self.patch else ("samples",)
        self.n_patch = min(n_patch, self.n)
        self._real = None
        if self.patch:
            from genlab.data import load_image_dataset

            test = load_image_dataset(trainer.dataset, "test", download=False)
            self._real = (test.images[: self.n_patch].clone(), test.labels[: self.n_patch].long().clone())

    def fixed(self) -> dict:
        out = {"nrow": np.array(self.nrow, dtype=np.int64)}
        if self.labels is not None:
            out["labels"] = self.labels.numpy().astype(np.int64)
        if self.patch:
            out["patch_real"] = _uint8(self._real[0])
        return out

    @torch.no_grad()
    def frame(self) -> dict:
        samples = self.trainer.sample(self.n, seed=GRID_SEED, labels=self.labels)     # (N, C, H, W) in [0, 1]
        out = {"samples": _uint8(samples)}
        if self.patch:
            fake_labels = self.labels[: self.n_patch] if self.labels is not None else None
            out["patch_fake"] = self._patch_maps(samples[: self.n_patch], fake_labels)
            out["patch_real_maps"] = self._patch_maps(*self._real)
        return out

    def _patch_maps(self, images: torch.Tensor, labels) -> np.ndarray:
        from genlab.losses import discriminator_output

        tr = self.trainer
        disc = tr.discriminator
        was_training = disc.training
        disc.eval()
        x = (images * 2 - 1).to(tr.device)
        logits = disc(x, labels.to(tr.device)) if getattr(tr, "conditional", False) else disc(x)
        disc.train(was_training)
        out = discriminator_output(logits, tr.train_config.loss)
        if tr.train_config.loss == "lsgan":
            out = out.clamp(0, 1)
        return _float16(out.reshape(len(images), *out.shape[-2:]))


class LatentSnapshots:
    """Frames of an AE / VAE: ``codes`` (N, K), the encoder means of a fixed subset of the test
    split (all of it up to ``max_codes``, fewer for large K), and ``decodes`` (D, C, H, W) uint8,
    the decoder's means at fixed prior draws ``prior_z`` (D, K); fixed: ``labels`` (N,)."""

    kind = "latent"
    frame_names = ("codes", "decodes")

    def __init__(self, trainer, max_codes: int = 500):
        self.trainer = trainer
        latent_dim = int(trainer.model_config.latent_dim)
        images, labels = trainer.test_images, torch.as_tensor(trainer.test_labels)
        n = min(len(images), max_codes, max(64, 8192 // latent_dim))
        if len(images) > n:
            order = torch.randperm(len(images), generator=torch.Generator().manual_seed(DISPLAY_SEED))[:n]
            images, labels = images[order.to(images.device)], labels[order]
        self.images, self.labels = images, labels.long().cpu().numpy()
        height, width = images.shape[-2:]
        draws = 36 if height * width <= 256 else 16
        self.prior_z = torch.randn(draws, latent_dim, generator=torch.Generator().manual_seed(PRIOR_SEED))

    def fixed(self) -> dict:
        return {"labels": self.labels.astype(np.int64), "prior_z": self.prior_z.numpy().astype(np.float32)}

    @torch.no_grad()
    def frame(self) -> dict:
        return {"codes": _float16(self.trainer.encode(self.images)), "decodes": _uint8(self.trainer.decode(self.prior_z))}


def snapshots_for(trainer):
    """The snapshot maker of ``trainer``'s family (2D GAN, image GAN, AE / VAE), or GenlabError."""
    if getattr(trainer, "is_2d", False):
        return Gan2DSnapshots(trainer)
    if trainer.model_name in ("ae", "vae"):
        return LatentSnapshots(trainer)
    if hasattr(trainer, "discriminator") and hasattr(trainer, "sample"):
        return ImageSnapshots(trainer)
    raise GenlabError(f"no history is recorded for model {trainer.model_name!r}")


# --------------------------------------------------------------------------- the callback


def load_history(run) -> History:
    """The checked history of ``run`` (a :class:`~genlab.runs.Run` or a run folder); RunFileError
    naming the run for a missing or damaged ``history.npz`` (the run itself still loads)."""
    path = Path(getattr(run, "path", run))
    return read_history_file(path / HISTORY_FILE, getattr(run, "name", path.name))


def slim_history(run, budget: int = DEMO_HISTORY_FRAMES) -> int:
    """Thin the history of ``run`` (a shipped demo) to at most ``budget`` frames in place; returns
    the file's size (0 when the run has none)."""
    path = Path(run.path) / HISTORY_FILE
    if not path.is_file():
        return 0
    return write_history_file(path, thin_history(load_history(run), budget))


class RecordHistory(Callback):
    """A fit callback that records the run's timeline (see the module docstring).

    ``run``: a :class:`~genlab.runs.Run` to write ``history.npz`` into (None: kept in memory only,
    :attr:`history`). ``steps``: the fit's target (a total, as ``fit`` takes it). A run resumed from
    a checkpoint keeps its recorded frames up to the checkpoint's step. :meth:`save` writes the file
    (:func:`~genlab.train.recording.train_run` calls it with every checkpoint); the end of the fit
    records the last step and saves. A snapshot that fails stops the recording, never the training.
    """

    def __init__(self, run=None, steps: int = 0, budget: int = HISTORY_FRAMES, history: History | None = None):
        self.run, self.steps, self.budget = run, int(steps), int(budget)
        self._previous = history
        self._snapshots = None
        self._fixed: dict = {}
        self._frames: list[dict] = []    # per-frame arrays
        self._rows: list[dict | None] = []
        self._steps: list[int] = []
        self._metric_names: tuple = ()
        self._planned: set[int] = set()
        self._ready = False
        self._dirty = False
        self.failed = ""                 # why recording stopped ("" while it works)

    # ----------------------------------------------------------------- fit hooks
    def before_step(self, trainer) -> bool:
        if not self._ready:
            self._start(trainer)
        return False

    def on_step_end(self, trainer, row: dict) -> None:
        if trainer.step_count in self._planned:
            self._record(trainer, row)

    def on_fit_end(self, trainer, status: str) -> None:
        if status == "interrupted":
            return                       # the file stays as at the last checkpoint
        if not self._ready:
            self._start(trainer)
        if not self._steps or self._steps[-1] != trainer.step_count:
            self._record(trainer, None)  # the last step, also when stopped early
        self.save()

    # ----------------------------------------------------------------- recording
    def _start(self, trainer) -> None:
        self._ready = True
        step = int(trainer.step_count)
        try:
            self._snapshots = snapshots_for(trainer)
            self._fixed = self._snapshots.fixed()
        except GenlabError as err:       # a model without snapshots (e.g. a test's dummy): no history
            self.failed, self._snapshots = str(err), None
            return
        except Exception as err:  # noqa: BLE001 - a history must never stop a training
            self._fail(err)
            return
        self._resume(self._previous if self._previous is not None else self._stored(), step)
        self._planned = {int(s) for s in frame_schedule(max(self.steps, step), self.budget) if s > step}
        if not self._steps or self._steps[-1] < step:
            self._record(trainer, None)  # where this fit starts (step 0: the untrained model)

    def _stored(self) -> History | None:
        if self.run is None or not (Path(self.run.path) / HISTORY_FILE).is_file():
            return None
        try:
            return load_history(self.run)
        except RunFileError as err:
            _log.warning("%s; recording a new history", err)
            return None

    def _resume(self, history: History | None, step: int) -> None:
        """Keep the frames of ``history`` up to ``step`` if they have this run's kind and shapes."""
        if history is None or history.kind != self._snapshots.kind:
            return
        per_frame = {name: value for name, value in history.arrays.items() if is_per_frame(history.kind, name)}
        fixed = {name: value for name, value in history.arrays.items() if name not in per_frame}
        same = (set(per_frame) == set(self._snapshots.frame_names) and set(fixed) == set(self._fixed)
                and all(fixed[name].shape == value.shape for name, value in self._fixed.items()))
        if not same:
            return
        keep = [i for i, s in enumerate(history.steps) if s <= step]
        self._steps = [int(history.steps[i]) for i in keep]
        self._frames = [{name: value[i] for name, value in per_frame.items()} for i in keep]
        self._metric_names = tuple(history.metric_names)
        self._rows = [dict(zip(history.metric_names, history.metrics[i].tolist())) if history.metrics is not None
                      else None for i in keep]

    def _record(self, trainer, row: dict | None) -> None:
        if self._snapshots is None:
            return
        try:
            frame = self._snapshots.frame()
        except Exception as err:  # noqa: BLE001 - a history must never stop a training
            self._fail(err)
            return
        if self._frames and any(self._frames[0][name].shape != value.shape for name, value in frame.items()):
            self._steps, self._frames, self._rows = [], [], []   # a stored history of other sizes: start anew
        self._steps.append(int(trainer.step_count))
        self._frames.append(frame)
        self._rows.append(row)
        self._dirty = True

    def _fail(self, err: Exception) -> None:
        self.failed = f"{type(err).__name__}: {err}"
        self._snapshots = None
        _log.warning("the training history stopped recording: %s", self.failed)

    # ----------------------------------------------------------------- output
    @property
    def history(self) -> History | None:
        """The frames recorded so far (thinned to the budget), or None before the first."""
        if not self._steps or self._snapshots is None:
            return None
        keep = thin_frames(self._steps, self.budget)
        arrays = dict(self._fixed)
        for name in self._frames[0]:
            arrays[name] = np.stack([self._frames[i][name] for i in keep])
        names = self._metric_names or _metric_names(self._rows)
        metrics = np.array([[_number((self._rows[i] or {}).get(name)) for name in names] for i in keep],
                           dtype=np.float32).reshape(len(keep), len(names))
        return History(self._snapshots.kind, np.asarray(self._steps, dtype=np.int64)[keep], arrays, names, metrics)

    def save(self) -> int:
        """Write ``history.npz`` into the run (atomically) if frames were added since the last save;
        returns the file's size (0 when nothing was written)."""
        if self.run is None or not self._dirty:
            return 0
        history = self.history
        if history is None:
            return 0
        self._dirty = False
        return write_history_file(Path(self.run.path) / HISTORY_FILE, history)


def _metric_names(rows: list) -> tuple:
    first = next((row for row in rows if row), None) or {}
    return tuple(name for name, value in first.items()
                 if name != "step" and isinstance(value, (int, float)) and not isinstance(value, bool))


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
