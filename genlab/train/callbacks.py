"""The hooks of genlab's one training loop (:meth:`genlab.train.base.Trainer.fit`, :func:`genlab.train.base.fit_group`).

Kept apart from base.py and free of torch so that modules which only hang callbacks on a fit (the job
manager, imported by every page) import fast.
"""

from __future__ import annotations

from typing import Any

Trainer = Any  # a genlab.train.base.Trainer (not imported: base.py imports this module)


class Callback:
    """A hook of :meth:`Trainer.fit` / :func:`fit_group`; override the methods you need.

    ``before_step`` runs before each step of the trainer whose turn it is and may block (a paused job,
    a job waiting for its CPU turn); returning True stops the fit. ``on_fit_end`` gets the fit's status:
    ``finished``, ``stopped`` or ``interrupted`` (an exception escaped the loop; it is re-raised).
    """

    def on_fit_start(self, trainer: "Trainer") -> None:
        """Before the first step (e.g. restore a checkpoint, mark a run as running)."""

    def before_step(self, trainer: "Trainer") -> bool:
        """Before each step; True stops the fit."""
        return False

    def on_step_end(self, trainer: "Trainer", row: dict) -> None:
        """After each step, with its metrics row."""

    def on_fit_end(self, trainer: "Trainer", status: str) -> None:
        """After the last step, also when the loop ends with an exception (status ``interrupted``)."""


class CollectRows(Callback):
    """Keeps every metrics row of a fit (``rows``)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def on_step_end(self, trainer: "Trainer", row: dict) -> None:
        self.rows.append(row)


class PerTrainer(Callback):
    """Hands each trainer's hooks to that trainer's own callback (``{id(trainer): callback}``): e.g. one
    :class:`~genlab.train.history.RecordHistory` per model of a :func:`~genlab.train.base.fit_group`."""

    def __init__(self, by_trainer: dict[int, Callback]):
        self.by_trainer = by_trainer

    def on_fit_start(self, trainer: "Trainer") -> None:
        self.by_trainer[id(trainer)].on_fit_start(trainer)

    def before_step(self, trainer: "Trainer") -> bool:
        return self.by_trainer[id(trainer)].before_step(trainer)

    def on_step_end(self, trainer: "Trainer", row: dict) -> None:
        self.by_trainer[id(trainer)].on_step_end(trainer, row)

    def on_fit_end(self, trainer: "Trainer", status: str) -> None:
        self.by_trainer[id(trainer)].on_fit_end(trainer, status)
