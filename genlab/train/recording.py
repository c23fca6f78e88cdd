"""Training into a run folder: :class:`RecordRun` (the fit callback that records metrics,
checkpoints, samples and status), :func:`train_run` (``Trainer.fit`` with it and with
:class:`~genlab.train.history.RecordHistory`, the run's timeline), and rebuilding a run's
trainer (:func:`load_trainer`, :func:`restore_trainer`, the server's model cap on resume). The run
store itself (:mod:`genlab.runs`) only stores and loads files; training lives here, under genlab/train.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import torch

from genlab.errors import GenlabError
from genlab.limits import check_model_size
from genlab.run_files import CONFIG_FILE, RunFileError
from genlab.run_lease import Heartbeat
from genlab.runs import _ACTIVE_LOCK, _ACTIVE_RUNS, Run, remove_temp_files
from genlab.train.base import Callback
from genlab.train.history import RecordHistory


def check_model_fits(run: Run) -> dict:
    """The run's config, if its networks fit this server's cap (:data:`genlab.limits.MAX_MODEL_PARAMETERS`);
    GenlabError naming the run otherwise. Call before building a trainer from a stored config."""
    config = run.config
    try:
        check_model_size(config)
    except GenlabError as err:
        raise RunFileError(run.name, CONFIG_FILE, f"cannot be trained or loaded here: {err}") from None
    return config


def load_trainer(run: Run, device: str | torch.device = "cpu", data_dir=None):
    """Rebuild the run's trainer from ``config.json`` (via the registry) and load its checkpoint.
    A model larger than the server's cap is refused before anything is built."""
    from genlab.train.registry import trainer_class

    config = check_model_fits(run)
    state = run.load_checkpoint()
    cls = trainer_class(str(config["model"]))
    trainer = cls.from_config(config, device=device, data_dir=data_dir)
    restore_trainer(trainer, run, state)
    return trainer


def restore_trainer(trainer, run: Run, state: dict | None = None) -> None:
    """Load the run's checkpoint (or ``state``) into ``trainer``; a checkpoint that does not fit
    the trainer (other architecture, missing keys) raises GenlabError."""
    state = run.load_checkpoint() if state is None else state
    try:
        trainer.load_state_dict(state)
    except GenlabError:
        raise
    except (KeyError, RuntimeError, ValueError, TypeError, IndexError, AttributeError) as err:
        reason = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        raise GenlabError(f"run {run.name!r}: the checkpoint does not match its config ({reason}); retrain the run") from None


def save_samples(trainer, run: Run, n: int = 64, seed: int = 0) -> Path | None:
    """Write ``samples.png`` from ``trainer.sample``; returns the path (None if sampling failed)."""
    with torch.no_grad():
        samples = trainer.sample(n, seed=seed)
    reference = None
    if samples.ndim == 2:
        from genlab.data import TOY_DATASETS, sample_toy

        if getattr(trainer, "dataset", None) in TOY_DATASETS:
            reference = sample_toy(trainer.dataset, 1000, seed=0)
    return run.save_samples(samples, reference)


class RecordRun(Callback):
    """A :meth:`~genlab.train.base.Trainer.fit` callback that records the fit in ``run``.

    * Start: claims the run (one fit per run in this process, none while another process trains
      it); if the trainer is fresh (step 0) and the run has a checkpoint, loads it, and drops
      metrics rows after its step (written after the last checkpoint before a crash).
    * Every step's row is appended to metrics.csv; the checkpoint is saved every
      ``checkpoint_every`` steps or ``checkpoint_seconds`` seconds, and at the end with samples.png.
    * End: status ``finished`` / ``stopped``, or ``interrupted`` when an exception escaped the loop
      (the last checkpoint remains).

    ``on_checkpoint()`` runs after every checkpoint written during the fit (train_run: the
    history's save, so that history.npz and checkpoint.pt describe the same step).
    """

    def __init__(self, run: Run, steps: int, checkpoint_every: int = 500, checkpoint_seconds: float = 60.0,
                 sample_count: int = 64, on_checkpoint: Callable[[], object] | None = None):
        self.run, self.steps = run, int(steps)
        self.checkpoint_every, self.checkpoint_seconds = checkpoint_every, checkpoint_seconds
        self.sample_count = sample_count
        self.on_checkpoint = on_checkpoint
        self._key = str(run.path.resolve())
        self._last_saved = (0, 0.0)   # (step, time.monotonic()) of the last checkpoint
        self._heartbeat: Heartbeat | None = None   # the run's lease while this fit holds it

    def on_fit_start(self, trainer) -> None:
        run = self.run
        with _ACTIVE_LOCK:
            if self._key in _ACTIVE_RUNS:
                raise GenlabError(f"run {run.name!r} is already being trained in this process; wait for it or stop it")
            current = run.status()
            if current.get("status") == "running":
                raise GenlabError(
                    f"run {run.name!r} is being trained by process {current.get('pid')} on {current.get('host')}; "
                    "wait for it to finish or stop it first"
                )
            _ACTIVE_RUNS.add(self._key)
        try:
            remove_temp_files(run.path, older_than=None)   # a killed writer's leftovers: the run is ours now
            if trainer.step_count == 0 and run.has_checkpoint():
                restore_trainer(trainer, run)
            run.truncate_metrics(trainer.step_count)
            self._heartbeat = Heartbeat(run.path).start()   # other hosts see the run alive
            run.set_status("running", step=trainer.step_count, target_steps=self.steps)
        except BaseException:
            self._release()
            raise
        self._last_saved = (trainer.step_count, time.monotonic())

    def on_step_end(self, trainer, row: dict) -> None:
        self.run.append_metrics(row)
        step, when = self._last_saved
        if trainer.step_count - step >= self.checkpoint_every or time.monotonic() - when >= self.checkpoint_seconds:
            self.run.save_checkpoint(trainer.state_dict())
            if self.on_checkpoint is not None:
                self.on_checkpoint()
            self.run.set_status("running", step=trainer.step_count, target_steps=self.steps)
            self._last_saved = (trainer.step_count, time.monotonic())

    def on_fit_end(self, trainer, status: str) -> None:
        try:
            if status == "interrupted":
                self._mark_interrupted()
                return
            self.run.save_checkpoint(trainer.state_dict())
            try:
                save_samples(trainer, self.run, n=self.sample_count)
            except Exception:  # noqa: BLE001 - a failed preview must not lose the finished run
                import logging

                logging.getLogger(__name__).exception("could not write samples.png for %s", self.run.name)
            self.run.set_status(status, step=trainer.step_count, target_steps=self.steps)
        except BaseException:
            self._mark_interrupted()
            raise
        finally:
            self._release()

    def _mark_interrupted(self) -> None:
        import sys

        err = sys.exc_info()[1]
        message = "stopped by Ctrl-C" if isinstance(err, KeyboardInterrupt) else f"{type(err).__name__}: {err}"
        try:
            self.run.set_status("interrupted", step=self._last_saved[0], target_steps=self.steps, message=message[:300])
        except Exception:  # noqa: BLE001
            pass

    def _release(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        with _ACTIVE_LOCK:
            _ACTIVE_RUNS.discard(self._key)


class _OnRow(Callback):
    """Adapts a plain ``on_row(row)`` function to a fit callback."""

    def __init__(self, on_row: Callable[[dict], None]):
        self.on_row = on_row

    def on_step_end(self, trainer, row: dict) -> None:
        self.on_row(row)


def recording_callbacks(run: Run, steps: int, *, history: bool = True, checkpoint_every: int = 500,
                        checkpoint_seconds: float = 60.0, sample_count: int = 64) -> list[Callback]:
    """The fit callbacks that record a fit in ``run``: with ``history`` a
    :class:`~genlab.train.history.RecordHistory` (first: its frame of a step is taken before that
    step's checkpoint, and it saves history.npz with every checkpoint), then :class:`RecordRun`.
    Callbacks that add to a step's row (e.g. quality numbers) go before them."""
    callbacks: list[Callback] = []
    on_checkpoint = None
    if history:
        recorder = RecordHistory(run, steps)
        callbacks.append(recorder)
        on_checkpoint = recorder.save
    callbacks.append(RecordRun(run, steps, checkpoint_every, checkpoint_seconds, sample_count, on_checkpoint))
    return callbacks


def train_run(
    trainer,
    run: Run,
    steps: int,
    should_stop: Callable[[], bool] | None = None,
    checkpoint_every: int = 500,
    on_row: Callable[[dict], None] | None = None,
    checkpoint_seconds: float = 60.0,
    sample_count: int = 64,
    history: bool = True,
) -> str:
    """Train ``trainer`` until ``trainer.step_count == steps`` (a total, not an increment), recording
    everything in ``run`` (:class:`RecordRun`) and, with ``history``, the run's timeline in
    history.npz (:class:`~genlab.train.history.RecordHistory`); return the final status.
    ``on_row(row)`` is called after every step, ``should_stop()`` between steps (it may block,
    e.g. while a job is paused)."""
    callbacks = recording_callbacks(run, steps, history=history, checkpoint_every=checkpoint_every,
                                    checkpoint_seconds=checkpoint_seconds, sample_count=sample_count)
    if on_row is not None:
        callbacks.append(_OnRow(on_row))
    return trainer.fit(steps, callbacks=callbacks, should_stop=should_stop)
