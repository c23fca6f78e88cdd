"""Slimming a demo run for the repository: float16 weights without optimizer state, a thinned
metrics.csv (evenly spaced rows plus the evaluation rows and the last one). See :mod:`genlab.demos`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import torch

from genlab.runs import (
    STATUS_FILE,
    Run,
)
from genlab.demo_match import SLIM_NOTE

MAX_METRICS_ROWS = 400                 # evenly spaced rows kept in a demo's metrics.csv


def slim_state(value: Any, *, _key: str = "") -> Any:
    """A checkpoint state with float32 tensors as float16 and optimizer state dropped.

    Optimizer entries (keys starting with ``optimizer``) keep their ``param_groups`` and get an
    empty ``state``, so ``Optimizer.load_state_dict`` still accepts them. RNG states (uint8) and
    integer tensors are left alone.
    """
    if isinstance(value, dict):
        if _key.startswith("optimizer") and "param_groups" in value and "state" in value:
            return {**value, "state": {}}
        return {k: slim_state(v, _key=str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [slim_state(v, _key=_key) for v in value]
        return type(value)(items) if isinstance(value, tuple) else items
    if isinstance(value, torch.Tensor) and value.dtype == torch.float32:
        return value.to(torch.float16)
    return value


def thin_metrics(path: Path, max_rows: int = MAX_METRICS_ROWS) -> None:
    """Keep at most ``max_rows`` evenly spaced rows of a metrics.csv, plus the rows that carry
    test/evaluation metrics (non-empty, non-NaN ``test_*`` etc.), rows with live changes, and the
    last row. Rewrites the file in place; a missing file is left alone."""
    if not path.is_file():
        return
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    if len(rows) <= max_rows + 1:
        return
    header, body = rows[0], [r for r in rows[1:] if r]
    special = [i for i, name in enumerate(header)
               if name.startswith("test_") or name in ("frechet_distance", "label_accuracy", "modes_covered")]
    changed = header.index("changed") if "changed" in header else None
    every = max(1, math.ceil(len(body) / max_rows))
    kept = []
    for index, row in enumerate(body):
        keep = index % every == 0 or index == len(body) - 1
        if not keep and changed is not None and len(row) > changed and row[changed]:
            keep = True
        if not keep:
            for column in special:
                if len(row) > column and row[column] not in ("", "nan", "NaN"):
                    keep = True
                    break
        if keep:
            kept.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *kept])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def slim_run(run: Run, max_rows: int = MAX_METRICS_ROWS) -> None:
    """Slim a finished run in place for shipping (checkpoint, metrics, status without pid/host)."""
    state = run.load_checkpoint()
    run.save_checkpoint(slim_state(state))
    thin_metrics(run.metrics_path, max_rows)
    status = run.read_status_file()
    status.update(pid=None, pid_start=None, host=None, message=f"shipped demo ({SLIM_NOTE})", slim=SLIM_NOTE)
    (run.path / STATUS_FILE).write_text(json.dumps(status, indent=2, sort_keys=True) + "\n", encoding="utf-8")
