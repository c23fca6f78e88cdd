"""An equal-time race's timeline as one picture per moment (issue 21), without torch.

:func:`race_timeline` joins the race models' histories (recorded at the same training times by
:class:`genlab.train.race_history.TimedRecordHistory`) into one ``image`` history that the pages and
``python -m genlab replay`` draw as usual: frame i shows the models' sample grids side by side (a grey
gap between them) at the same training time; its steps are the first model's (the transformer GAN's),
its metrics each frame's training time and each model's step. :func:`race_replay_history` finds the
other models of a race run (runs ``race-<key>-<model>`` side by side in one store) for the GIF.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import numpy as np

from genlab.errors import GenlabError
from genlab.run_files import HISTORY_FILE, RunFileError
from genlab.run_history import History, read_history_file

TIME_METRIC = "wall_time"        # a training row's training seconds (Trainer.step)
GAP_VALUE = 90                   # the grey of the sample grid's padding: the gap between the models
RACE_MODELS = ("tgan", "dcgan")  # a race's models, in the order they are drawn (left to right)
RACE_TITLES = {"tgan": "TGAN", "dcgan": "DCGAN"}


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
    the mapping's order (the last frame: every model's last, the end of the race). Metrics:
    ``train_seconds`` and ``<model> step`` per frame."""
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
        picks[name][-1] = len(times) - 1          # the race's end: every model's last frame, whatever its overshoot
    samples = np.stack([_side_by_side([np.asarray(histories[n].arrays["samples"][picks[n][i]]) for n in names], nrow)
                        for i in range(len(lead))])
    metric_names = ("train_seconds", *(f"{name} step" for name in names))
    metrics = np.column_stack([lead_times] + [histories[n].steps[picks[n]] for n in names]).astype(np.float32)
    arrays = {"samples": samples, "nrow": np.array(len(names) * (nrow + 1) - 1, dtype=np.int64)}
    return History("image", np.asarray(lead.steps, dtype=np.int64), arrays, metric_names, metrics)


def race_replay_history(path, run_name: str) -> tuple[History, str] | None:
    """For the run folder ``path`` of a race model (status.json names its ``race_key``): the race's
    joined timeline of every model whose run lies beside it with a readable history, and a title
    saying which grid is which; None for other runs (or a race run whose partners have no history)."""
    path = Path(path)
    try:
        key = json.loads((path / "status.json").read_text(encoding="utf-8")).get("race_key")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(key, str) or not path.name.startswith(f"race-{key}-"):
        return None
    histories = {}
    for model in RACE_MODELS:
        folder = path.parent / f"race-{key}-{model}"
        if (folder / HISTORY_FILE).is_file():
            try:
                histories[model] = read_history_file(folder / HISTORY_FILE, folder.name)
            except RunFileError:
                return None
    if len(histories) < 2:
        return None
    try:
        joined = race_timeline(histories)
    except GenlabError:
        return None
    names = list(histories)
    return joined, f"{RACE_TITLES[names[0]]} left, {RACE_TITLES[names[1]]} right"
