"""Training inside a :mod:`genlab.jobs` job: :meth:`~genlab.train.base.Trainer.fit` with the job's
controls as callbacks -- :class:`JobControl` (stop, pause, single steps, live hyperparameter
changes sent with ``Job.send``), :class:`CpuTurns` (take turns on the CPU with the other jobs),
:class:`PublishProgress` (what the page draws) and, with a run, :class:`genlab.train.recording.RecordRun`.
``ctx`` is the job's :class:`genlab.jobs.JobContext` (not imported: genlab.jobs imports this module).
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

from genlab.errors import GenlabError
from genlab.train.callbacks import Callback


class JobControl(Callback):
    """Fit callback: a job's stop, pause and commands between steps (:meth:`Job.send`).

    ``{"set": {"lr_d": 1e-3, ...}}`` changes live hyperparameters (validated; a bad value is published
    as ``command_error``); ``"step"`` / ``{"step": n}`` runs n single steps while paused. Blocks while
    the job is paused; stops the fit when the job is asked to stop.
    """

    def __init__(self, ctx):
        self.ctx = ctx
        self.single_steps = 0

    def before_step(self, trainer) -> bool:
        while True:
            self._handle_commands(trainer)
            if self.ctx.should_stop():
                return True
            if not self.ctx.is_paused():
                return False
            if self.single_steps > 0:
                self.single_steps -= 1
                return False
            self.ctx.wait_if_paused()

    def _handle_commands(self, trainer) -> None:
        for command in self.ctx.take_commands():
            try:
                if command == "step":
                    self.single_steps += 1
                elif isinstance(command, dict) and "step" in command:
                    self.single_steps += max(0, int(command["step"]))
                elif isinstance(command, dict) and "set" in command:
                    trainer.set_hyperparameters(**dict(command["set"]))
                    self.ctx.publish(command_error="")
                else:
                    raise GenlabError(f"unknown command {command!r}; allowed: 'step', {{'step': n}}, {{'set': {{...}}}}")
            except GenlabError as err:
                self.ctx.publish(command_error=str(err))


class CpuTurns(Callback):
    """Fit callback: before each step wait for this job's CPU turn (``ctx.wait_for_cpu()``, see
    "CPU turns" in :mod:`genlab.jobs`); stops the fit when the job is asked to stop while waiting."""

    def __init__(self, ctx):
        self.ctx = ctx

    def before_step(self, trainer) -> bool:
        return not self.ctx.wait_for_cpu()


class PublishProgress(Callback):
    """Fit callback: the job's progress after every step, and every ``publish_every`` steps (and while
    paused, and at the end) a snapshot: ``step``, ``row`` (the last metrics row), ``rows`` (up to
    ``history`` recent rows), ``hyperparameters`` and ``snapshot(trainer)`` if given."""

    def __init__(self, ctx, steps: int, publish_every: int = 10,
                 snapshot: Callable[[Any], dict] | None = None, history: int = 5000):
        self.ctx, self.steps, self.publish_every, self.snapshot = ctx, steps, max(1, publish_every), snapshot
        self.rows: deque = deque(maxlen=history)

    def on_step_end(self, trainer, row: dict) -> None:
        self.rows.append(row)
        self.ctx.set_progress(trainer.step_count / max(1, self.steps), f"step {trainer.step_count}/{self.steps}")
        if trainer.step_count % self.publish_every == 0 or self.ctx.is_paused() or trainer.step_count >= self.steps:
            self.publish(trainer, row)

    def on_fit_end(self, trainer, status: str) -> None:
        if self.rows and status != "interrupted":
            self.publish(trainer, self.rows[-1])

    def publish(self, trainer, row: dict) -> None:
        extra = self.snapshot(trainer) if self.snapshot is not None else {}
        self.ctx.publish(step=trainer.step_count, row=dict(row), rows=list(self.rows),
                         hyperparameters=trainer.hyperparameters(), **extra)


def train_in_job(ctx, trainer, steps: int, *, run=None, publish_every: int = 10,
                 snapshot: Callable[[Any], dict] | None = None, history: int = 5000,
                 checkpoint_every: int = 500) -> str:
    """:meth:`~genlab.train.base.Trainer.fit` ``trainer`` to ``steps`` total steps inside a job with
    :class:`JobControl` (stop, pause, commands) and :class:`PublishProgress`; with ``run`` (a
    :class:`genlab.runs.Run`) also :class:`genlab.train.recording.RecordRun` (metrics, checkpoints, samples).
    Returns ``finished`` or ``stopped``."""
    callbacks: list[Callback] = [JobControl(ctx), CpuTurns(ctx), PublishProgress(ctx, steps, publish_every, snapshot, history)]
    if run is not None:
        from genlab.train.recording import RecordRun  # deferred: the run store pulls in torch; genlab.jobs does not

        callbacks.insert(2, RecordRun(run, steps, checkpoint_every=checkpoint_every))
    return trainer.fit(steps, callbacks=callbacks)
