"""The step-wise trainer protocol shared by every model (the seam a UI hangs on).

Modelled on minGPT's trainer: a trainer owns its model(s), optimizer(s) and data, advances one
training iteration per :meth:`Trainer.step`, and :meth:`Trainer.fit` is the one training loop of
genlab: every training (CLI, demos, pages, races, bench) calls it, with :class:`Callback` objects for
what it needs around the steps (a run's checkpoints and metrics log, live publishing, progress, CPU
turns, a race's time budget). :func:`fit_group` is the same loop over several trainers taking turns
(the equal-time race). A UI (the dashboard's background job) or the CLI drives it, can pause between
steps, and can change hyperparameters live: :meth:`Trainer.set_hyperparameters` validates the change at once and applies it at the
start of the next step, and that step's metrics row records it in the ``changed`` column.
"""

from __future__ import annotations

import time
from dataclasses import asdict, fields, is_dataclass
from typing import Any, Callable, Mapping, Sequence

import torch

from genlab.errors import GenlabError
from genlab.train.callbacks import Callback, CollectRows  # noqa: F401 - re-exported
from genlab.validation import check_fields

StepCallback = Callable[["Trainer", dict], None]


def least_training_time(trainers: Mapping[str, "Trainer"], open_names: Sequence[str]) -> str:
    """Turn policy of an equal-time race: the trainer with the least training time so far steps next,
    so the models alternate under the same load and their training times differ by at most one step."""
    return min(open_names, key=lambda name: (trainers[name].elapsed_seconds, name))


def fewest_steps(trainers: Mapping[str, "Trainer"], open_names: Sequence[str]) -> str:
    """Turn policy of a side-by-side training: the trainer with the fewest steps so far steps next,
    so equal trainers alternate one step each (a resumed one first catches up)."""
    return min(open_names, key=lambda name: (trainers[name].step_count, name))


def fit_group(
    trainers: Mapping[str, "Trainer"],
    done: Callable[["Trainer"], bool],
    *,
    callbacks: Sequence[Callback] = (),
    should_stop: Callable[[], bool] | None = None,
    turn: Callable[[Mapping[str, "Trainer"], Sequence[str]], str] = least_training_time,
) -> str:
    """The training loop: step the trainers in turns until ``done(trainer)`` holds for each of them.

    Before every step ``should_stop()`` (it may block, e.g. while a job is paused) and the callbacks'
    ``before_step`` may stop the fit; ``turn(trainers, open_names)`` picks whose step it is (one
    trainer: always that one). Returns ``finished`` (every trainer done) or ``stopped``.
    """
    callbacks = list(callbacks)
    started: list[tuple["Trainer", Callback]] = []   # only callbacks that started are ended
    status = "interrupted"
    try:
        for trainer in trainers.values():
            for callback in callbacks:
                callback.on_fit_start(trainer)
                started.append((trainer, callback))
        while True:
            open_names = [name for name, trainer in trainers.items() if not done(trainer)]
            if not open_names:
                status = "finished"
                break
            if should_stop is not None and should_stop():
                status = "stopped"
                break
            trainer = trainers[open_names[0] if len(open_names) == 1 else turn(trainers, open_names)]
            if any(callback.before_step(trainer) for callback in callbacks):
                status = "stopped"
                break
            row = trainer.step()
            for callback in callbacks:
                callback.on_step_end(trainer, row)
    finally:
        for trainer, callback in started:
            callback.on_fit_end(trainer, status)
    return status


def adam_optimizer(parameters, **options) -> torch.optim.Adam:
    """Adam (Kingma & Ba 2014, arXiv 1412.6980): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
    theta -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat, v_hat the bias-corrected moments.

    PyTorch's fused kernel where the device has one (CPU, CUDA, MPS): one kernel for all tensors
    instead of a Python loop of small ops per tensor -- the same update up to float rounding, and
    on genlab's small networks the optimizer step is a third of a training step (bench/RESULTS.md).
    """
    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, fused=True, **options)
    except (RuntimeError, ValueError):   # a device or dtype without the fused kernel
        return torch.optim.Adam(parameters, **options)


class Trainer:
    """Base class. Subclasses set ``model_name``, ``dataset``, ``model_config`` and
    ``train_config`` (dataclasses), build models/optimizers, and implement :meth:`_train_step`
    (one iteration, returning a dict of float metrics) and the live-changeable
    ``LIVE_HYPERPARAMETERS`` (names of ``train_config`` fields that may change while training).
    """

    model_name: str = ""
    LIVE_HYPERPARAMETERS: tuple[str, ...] = ()
    # Bump by hand when a change of the training recipe changes what a model learns while its config
    # and its networks' shapes stay the same: the shipped demos then count as out of date
    # (genlab.demos.trainer_fingerprint).
    recipe_version: int = 1

    def __init__(self, model_config, train_config, dataset: str, device: torch.device | str = "cpu"):
        self.model_config = model_config
        self.train_config = train_config
        self.dataset = dataset
        self.device = torch.device(device)
        self.step_count = 0          # completed training iterations
        self.elapsed_seconds = 0.0   # wall time spent inside step(), accumulated across resumes
        self._pending_changes: dict[str, Any] = {}
        self._callbacks: list[StepCallback] = []

    # ----------------------------------------------------------------- hooks
    def add_callback(self, callback: StepCallback) -> None:
        """Call ``callback(trainer, metrics_row)`` after every step."""
        self._callbacks.append(callback)

    # ----------------------------------------------------------------- live hyperparameters
    def validate_hyperparameter(self, name: str, value):
        """Return the validated (possibly converted) value or raise GenlabError. Override to add rules."""
        return value

    def set_hyperparameters(self, **changes) -> None:
        """Queue changes of live hyperparameters (validated now, applied at the next step)."""
        for name, value in changes.items():
            if name not in self.LIVE_HYPERPARAMETERS:
                raise GenlabError(
                    f"{name} cannot be changed while training; live settings: {', '.join(self.LIVE_HYPERPARAMETERS)}"
                )
            self._pending_changes[name] = self.validate_hyperparameter(name, value)

    def hyperparameters(self) -> dict:
        """Current values of the live hyperparameters."""
        return {name: getattr(self.train_config, name) for name in self.LIVE_HYPERPARAMETERS}

    def _apply_pending_changes(self) -> str:
        if not self._pending_changes:
            return ""
        applied = []
        for name, value in self._pending_changes.items():
            if getattr(self.train_config, name) != value:
                setattr(self.train_config, name, value)
                self._on_hyperparameter_change(name, value)
                applied.append(f"{name}={value}")
        self._pending_changes.clear()
        return ";".join(applied)

    def _on_hyperparameter_change(self, name: str, value) -> None:
        """Hook: e.g. update an optimizer's learning rate. Default: nothing."""

    # ----------------------------------------------------------------- stepping
    def _train_step(self, **options) -> dict:
        raise NotImplementedError

    def step(self, **options) -> dict:
        """Run one training iteration; return its metrics row (also passed to callbacks).

        The row always has ``step`` (1-based count after this step), ``wall_time`` (seconds of
        training so far) and ``changed`` (live changes applied at this step, ``""`` if none).
        """
        changed = self._apply_pending_changes()
        start = time.perf_counter()
        row = self._train_step(**options)
        self.elapsed_seconds += time.perf_counter() - start
        self.step_count += 1
        row = {"step": self.step_count, **row, "wall_time": round(self.elapsed_seconds, 4), "changed": changed}
        for callback in self._callbacks:
            callback(self, row)
        return row

    def fit(self, steps: int, callbacks: Sequence[Callback] = (),
            should_stop: Callable[[], bool] | None = None) -> str:
        """Train until ``step_count == steps`` (a total, not an increment) or until ``should_stop()``
        or a callback stops it; returns ``finished`` or ``stopped`` (see :func:`fit_group`)."""
        steps = int(steps)
        return fit_group({self.model_name or "model": self}, lambda trainer: trainer.step_count >= steps,
                         callbacks=callbacks, should_stop=should_stop)

    def run(self, steps: int, should_stop: Callable[[], bool] = lambda: False) -> list[dict]:
        """:meth:`fit` to ``steps``; returns the metrics rows of this fit."""
        collect = CollectRows()
        self.fit(steps, callbacks=[collect], should_stop=should_stop)
        return collect.rows

    # ----------------------------------------------------------------- persistence
    def config_dict(self) -> dict:
        """JSON-able description that rebuilds this trainer (stored as a run's config.json)."""
        return {
            "model": self.model_name,
            "dataset": self.dataset,
            "model_config": _to_dict(self.model_config),
            "train_config": _to_dict(self.train_config),
        }

    def state_dict(self) -> dict:
        """Everything to resume: subclasses add model/optimizer state under their own keys."""
        return {
            "step_count": self.step_count,
            "elapsed_seconds": self.elapsed_seconds,
            "train_config": _to_dict(self.train_config),
        }

    def load_state_dict(self, state: dict) -> None:
        self.step_count = int(state["step_count"])
        self.elapsed_seconds = float(state.get("elapsed_seconds", 0.0))
        for name, value in state.get("train_config", {}).items():
            if hasattr(self.train_config, name):
                setattr(self.train_config, name, tuple(value) if isinstance(value, list) else value)
        if is_dataclass(self.train_config):
            check_fields(self.train_config)   # a checkpoint's (live-edited) settings obey the config's limits too


def _to_dict(config) -> dict:
    if is_dataclass(config):
        return asdict(config)
    return dict(config)


def dataclass_from_dict(cls, values: dict):
    """Build dataclass ``cls`` from ``values`` ignoring unknown keys (lists become tuples)."""
    names = {f.name for f in fields(cls)}
    kwargs = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items() if k in names}
    return cls(**kwargs)
