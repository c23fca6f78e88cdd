"""Timelines of an equal-time race (issue 21): each model's history, recorded at the same training times.

* :class:`TimedRecordHistory` is :class:`~genlab.train.history.RecordHistory` (fixed-noise sample grid +
  metrics row per frame) with its frames planned in *training time* (``trainer.elapsed_seconds``)
  instead of steps: a race's budget is seconds, its step counts are unknown in advance and differ per
  model, so both models are recorded at the same moments of training time. The frame budget and the
  dense-early spacing are :func:`~genlab.train.history.frame_schedule`'s, applied to hundredths of a second.
* :func:`~genlab.race_timeline.race_timeline` (re-exported here, torch-free there) joins the models'
  histories into one ``image`` history: their sample grids side by side at the same training time.
* :func:`save_race_histories` / :func:`load_race_histories`: ``history.npz`` in each race run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from genlab.run_files import HISTORY_FILE, RunFileError
from genlab.run_history import History, write_history_file
from genlab.race_timeline import GAP_VALUE, TIME_METRIC, frame_seconds, race_timeline  # noqa: F401 - re-exported
from genlab.train.history import HISTORY_FRAMES, RecordHistory, _metric_names, frame_schedule, load_history

TICKS_PER_SECOND = 100           # the time schedule's resolution


class TimedRecordHistory(RecordHistory):
    """A :class:`RecordHistory` (in memory) whose frames fall at planned *training times* of a race of
    ``seconds``: the first step at or after each planned time records a frame (a slow model that
    passes several planned times in one step records one frame). The step-0 frame and the end of
    every fit segment are recorded as by RecordHistory; every frame's row carries ``wall_time``."""

    def __init__(self, seconds: float, budget: int = HISTORY_FRAMES):
        super().__init__(run=None, steps=0, budget=budget)
        ticks = frame_schedule(max(1, int(round(float(seconds) * TICKS_PER_SECOND))), budget)
        self.times = ticks.astype(np.float64) / TICKS_PER_SECOND
        self._next = 1                   # index of the next planned time (0: the start frame)

    def on_step_end(self, trainer, row: dict) -> None:
        if not self._metric_names and row:
            self._metric_names = _metric_names([row])     # from a full training row, not the start frame's
        elapsed = float(trainer.elapsed_seconds)
        if self._next < len(self.times) and elapsed >= self.times[self._next]:
            self._next = int(np.searchsorted(self.times, elapsed, side="right"))
            self._record(trainer, row)

    def _record(self, trainer, row: dict | None) -> None:
        super()._record(trainer, row if row is not None else {TIME_METRIC: round(float(trainer.elapsed_seconds), 4)})


def save_race_histories(histories: Mapping[str, History | None], run_paths: Mapping[str, Path]) -> dict[str, int]:
    """Write each model's history as ``history.npz`` into its race run folder; returns name -> bytes
    (models without a history are left out)."""
    return {name: write_history_file(Path(run_paths[name]) / HISTORY_FILE, history)
            for name, history in histories.items() if history is not None}


def load_race_histories(runs: Mapping[str, object]) -> tuple[dict[str, History | None], str]:
    """Each race run's checked history (None where missing or damaged) and a message saying what is
    wrong ("" when every model has one)."""
    histories, problems = {}, []
    for name, run in runs.items():
        if not (Path(run.path) / HISTORY_FILE).is_file():
            histories[name] = None
            problems.append("missing")
            continue
        try:
            histories[name] = load_history(run)
        except RunFileError as err:
            histories[name] = None
            problems.append(str(err))
    if not problems:
        return histories, ""
    if all(p == "missing" for p in problems):
        return histories, ("this race was trained before genlab recorded training timelines, so there is "
                           "nothing to replay; race again (same settings) to record one")
    return histories, "; ".join(p for p in problems if p != "missing")
