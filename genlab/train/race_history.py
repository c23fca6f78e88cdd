"""Timelines of an equal-time race (issue 21): each model's history, recorded at the same training times.

* :class:`TimedRecordHistory` is :class:`~genlab.train.history.RecordHistory` (fixed-noise sample grid +
  metrics row per frame) with its frames planned in *training time* (``trainer.elapsed_seconds``)
  instead of steps: a race's budget is seconds, its step counts are unknown in advance and differ per
  model, so both models are recorded at the same moments of training time. The frame budget and the
  dense-early spacing are :func:`~genlab.train.history.frame_schedule`'s, applied to hundredths of a second.
* :func:`race_timeline` joins the models' histories into one ``image`` history that the pages and
  ``genlab.replay`` draw as usual: frame i shows the models' sample grids side by side (a grey gap
  between them) at the same training time; its steps are the first model's (the transformer GAN's),
  and its metrics say each model's step and the training time of the frame.
* :func:`save_race_histories` / :func:`load_race_histories`: ``history.npz`` in each race run.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from genlab.errors import GenlabError
from genlab.run_files import HISTORY_FILE, RunFileError
from genlab.run_history import History, write_history_file
from genlab.train.history import HISTORY_FRAMES, RecordHistory, _metric_names, frame_schedule, load_history

TIME_METRIC = "wall_time"        # a training row's training seconds (Trainer.step)
TICKS_PER_SECOND = 100           # the time schedule's resolution
GAP_VALUE = 90                   # the grey of the sample grid's padding: the gap between the models


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


def frame_seconds(history: History) -> np.ndarray:
    """The training seconds of each frame of a race model's history (its ``wall_time`` metric;
    step 0 and frames without one count as 0 s)."""
    if history.metrics is None or TIME_METRIC not in history.metric_names:
        raise GenlabError("this history has no training times (wall_time): it is not a race model's")
    column = history.metrics[:, list(history.metric_names).index(TIME_METRIC)].astype(np.float64)
    column = np.where(np.isfinite(column), column, 0.0)
    return np.maximum.accumulate(column)


def _side_by_side(grids: list[np.ndarray], nrow: int) -> np.ndarray:
    """Sample sets (N, C, H, W) of the models, each tiled ``nrow`` per row, as one set tiled
    ``len(grids) * (nrow + 1) - 1`` per row: the models' rows side by side with a grey tile between."""
    rows = max(-(-len(g) // nrow) for g in grids)
    shape = grids[0].shape[1:]
    gap = np.full((1, *shape), GAP_VALUE, dtype=np.uint8)
    tiles = []
    for r in range(rows):
        for m, grid in enumerate(grids):
            part = grid[r * nrow:(r + 1) * nrow]
            fill = np.full((nrow - len(part), *shape), GAP_VALUE, dtype=np.uint8)
            tiles.extend([part, fill] + ([gap] if m < len(grids) - 1 else []))
    return np.concatenate(tiles)


def race_timeline(histories: Mapping[str, History]) -> History:
    """One ``image`` history of the race: the first model's frames (its steps are the timeline's
    steps); at each, every model's sample grid at the nearest recorded training time, side by side in
    the mapping's order. Metrics: ``train_seconds`` and ``<model> step`` per frame."""
    if not histories:
        raise GenlabError("a race timeline needs at least one model's history")
    names = list(histories)
    lead = histories[names[0]]
    if any(h.kind != "image" for h in histories.values()):
        raise GenlabError("a race timeline joins image histories only")
    shapes = {h.arrays["samples"].shape[2:] for h in histories.values()}
    if len(shapes) != 1:
        raise GenlabError(f"the race's models drew images of different shapes ({sorted(shapes)})")
    nrow = int(lead.arrays["nrow"])
    lead_times = frame_seconds(lead)
    picks = {}
    for name in names:
        times = frame_seconds(histories[name])
        right = np.clip(np.searchsorted(times, lead_times), 0, len(times) - 1)
        left = np.clip(right - 1, 0, len(times) - 1)
        picks[name] = np.where(np.abs(times[left] - lead_times) <= np.abs(times[right] - lead_times), left, right)
    samples = np.stack([_side_by_side([np.asarray(histories[n].arrays["samples"][picks[n][i]]) for n in names], nrow)
                        for i in range(len(lead))])
    metric_names = ("train_seconds", *(f"{name} step" for name in names))
    metrics = np.column_stack([lead_times] + [histories[n].steps[picks[n]] for n in names]).astype(np.float32)
    arrays = {"samples": samples, "nrow": np.array(len(names) * (nrow + 1) - 1, dtype=np.int64)}
    return History("image", np.asarray(lead.steps, dtype=np.int64), arrays, metric_names, metrics)


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
