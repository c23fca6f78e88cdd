"""The run store: one folder per training run.

A run is a folder ``<root>/<name>/`` holding

* ``config.json``   -- the trainer's :meth:`~genlab.train.base.Trainer.config_dict` (rebuilds it),
* ``metrics.csv``   -- one row per training step, appended while training (readable meanwhile),
* ``checkpoint.pt`` -- model/optimizer/trainer state, written atomically, loaded ``weights_only=True``,
* ``samples.png``   -- a grid of samples (images) or a scatter plot drawn with PIL (2D points),
* ``status.json``   -- ``running | finished | stopped | interrupted``, timestamps, pid, host, step.

The root is ``$GENLAB_RUNS_DIR`` or ``runs/`` in the current directory. Typical use::

    store = RunStore()
    run = store.create("vae-digits", trainer.config_dict())
    train_run(trainer, run, steps=2000)          # metrics, checkpoints, samples.png, status
    trainer = load_trainer(store.open("vae-digits"))

``metrics.csv`` format: the header is written once from the first row's keys plus a final
``extra`` column. A later row with keys the header does not have (say a metric that appears only
after a live change) stores those as a JSON object in ``extra``; :meth:`Run.read_metrics` expands
them into columns. Every row is written with a single ``write`` of a complete line, so a reader
may at worst see a partially written *last* line, which it ignores.

A run whose status is ``running`` but whose process (same host, recorded pid) is gone is
reported as ``interrupted``; training it again resumes from its last checkpoint.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import pickle
import re
import shutil
import socket
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from genlab.errors import GenlabError
from genlab.train.base import Callback

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
CHECKPOINT_FILE = "checkpoint.pt"
SAMPLES_FILE = "samples.png"
STATUS_FILE = "status.json"
RUN_FILES = (CONFIG_FILE, METRICS_FILE, CHECKPOINT_FILE, SAMPLES_FILE, STATUS_FILE)

STATUSES = ("running", "finished", "stopped", "interrupted")
EXTRA_COLUMN = "extra"
MAX_NAME_LENGTH = 100
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
CHECKPOINT_FORMAT = "genlab-checkpoint"
CHECKPOINT_VERSION = 1

# Limits for RunStore.import_zip (uncompressed bytes per file).
IMPORT_LIMITS = {
    CONFIG_FILE: 16 * 1024 * 1024,  # a gan on user points stores its points (<= 100k rows)
    METRICS_FILE: 64 * 1024 * 1024,
    CHECKPOINT_FILE: 512 * 1024 * 1024,
    SAMPLES_FILE: 32 * 1024 * 1024,
    STATUS_FILE: 64 * 1024,
}
MAX_IMPORT_ZIP_BYTES = 600 * 1024 * 1024

# Run folders being trained by this process right now (see Run.status()).
_ACTIVE_RUNS: set[str] = set()
_ACTIVE_LOCK = threading.RLock()  # re-entered: train_run -> Run.status() -> _still_running


# --------------------------------------------------------------------------- helpers


def validate_run_name(name: str) -> str:
    """Return ``name`` if it is a safe run name, else raise GenlabError.

    Allowed: 1 to 100 characters from letters, digits, ``-``, ``_`` and ``.``; it must not start
    with ``.`` and must not contain ``..`` (so no hidden folders, no path tricks).
    """
    if not isinstance(name, str) or not name:
        raise GenlabError("the run name is empty; use 1-100 characters from letters, digits, - _ .")
    if len(name) > MAX_NAME_LENGTH:
        raise GenlabError(f"the run name is {len(name)} characters long; at most {MAX_NAME_LENGTH} are allowed")
    if "/" in name or "\\" in name:
        raise GenlabError(f"the run name {name!r} contains a path separator; use only letters, digits, - _ .")
    if ".." in name or name.startswith("."):
        raise GenlabError(f"the run name {name!r} must not start with '.' or contain '..'; use letters, digits, - _ .")
    if not _NAME_RE.match(name):
        raise GenlabError(f"the run name {name!r} has characters that are not allowed; use only letters, digits, - _ .")
    return name


def canonical_config_json(config: dict) -> str:
    """Canonical JSON of a config (sorted keys, no spaces, tuples as lists)."""
    return json.dumps(_jsonable(config), sort_keys=True, separators=(",", ":"), allow_nan=True)


def config_hash(config: dict) -> str:
    """Stable short hash (16 hex digits of SHA-256) of the canonical config JSON.

    Identical configurations -> identical hash; the dashboard shares one stored run (and one job)
    per hash.
    """
    return hashlib.sha256(canonical_config_json(config).encode()).hexdigest()[:16]


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return value


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file next to ``path``, fsync, then ``os.replace`` it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _atomic_write_json(path: Path, value) -> None:
    _atomic_write_bytes(path, (json.dumps(_jsonable(value), indent=2, sort_keys=True) + "\n").encode())


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (never sends a real signal)."""
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _csv_value(value) -> Any:
    """A metrics value as written to CSV: numbers stay numbers, text has no newlines."""
    if isinstance(value, torch.Tensor):
        value = value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) or value is None:
        return "" if value is None else value
    if isinstance(value, (list, tuple, dict)):
        value = json.dumps(_jsonable(value))
    return str(value).replace("\r", " ").replace("\n", " ")


# --------------------------------------------------------------------------- run


@dataclass
class RunInfo:
    """One line of :meth:`RunStore.list`. ``status`` is ``"corrupt: <why>"`` for an unreadable run."""

    name: str
    path: Path
    status: str
    model: str = ""
    dataset: str = ""
    step: int = 0
    config_hash: str = ""
    started: str = ""
    updated: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.status.startswith("corrupt")


class Run:
    """A run folder. Create it with :meth:`RunStore.create`, open it with :meth:`RunStore.open`."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.name = self.path.name
        self._metrics_lock = threading.Lock()
        self._metrics_columns: list[str] | None = None

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    # ----------------------------------------------------------------- config
    @property
    def config(self) -> dict:
        """The stored config (``config.json``); GenlabError if missing or unreadable."""
        path = self.path / CONFIG_FILE
        if not path.is_file():
            raise GenlabError(f"run {self.name!r} has no {CONFIG_FILE}; it is not a genlab run folder")
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise GenlabError(f"run {self.name!r}: {CONFIG_FILE} is not valid JSON ({err.__class__.__name__})") from None
        if not isinstance(config, dict) or "model" not in config or "dataset" not in config:
            raise GenlabError(f"run {self.name!r}: {CONFIG_FILE} must be a JSON object with 'model' and 'dataset'")
        return config

    def write_config(self, config: dict) -> None:
        _atomic_write_json(self.path / CONFIG_FILE, config)

    @property
    def config_hash(self) -> str:
        return config_hash(self.config)

    # ----------------------------------------------------------------- metrics
    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    def _read_header(self) -> list[str] | None:
        path = self.metrics_path
        if not path.is_file():
            return None
        with open(path, encoding="utf-8", newline="") as handle:
            first = handle.readline()
        if not first.endswith("\n"):
            return None
        return next(csv.reader([first]))

    def append_metrics(self, row: dict) -> None:
        """Append one metrics row (one complete line, flushed). Thread-safe within a process.

        The first row fixes the columns (plus ``extra``); keys the header lacks go to ``extra``
        as JSON and come back as columns from :meth:`read_metrics`.
        """
        with self._metrics_lock:
            path = self.metrics_path
            if self._metrics_columns is None:
                header = self._read_header()
                if header is None:
                    header = [str(k) for k in row if str(k) != EXTRA_COLUMN] + [EXTRA_COLUMN]
                    buffer = io.StringIO()
                    csv.writer(buffer, lineterminator="\n").writerow(header)
                    _atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
                self._metrics_columns = header
            columns = self._metrics_columns
            known = set(columns)
            extra = {str(k): _jsonable(v) for k, v in row.items() if str(k) not in known}
            values = [_csv_value(row.get(c)) if c != EXTRA_COLUMN else "" for c in columns]
            if EXTRA_COLUMN in known and extra:
                values[columns.index(EXTRA_COLUMN)] = json.dumps(extra, separators=(",", ":"))
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerow(values)
            with open(path, "a", encoding="utf-8", newline="") as handle:
                handle.write(buffer.getvalue())  # one write of a complete line
                handle.flush()

    def _complete_metrics_rows(self) -> list[list[str]]:
        """The CSV rows of metrics.csv up to its last complete line ([] if none).

        GenlabError for a file that is not a genlab metrics file (binary, not UTF-8, no ``step``
        column in the header), so pages and the CLI say so instead of plotting garbage."""
        try:
            raw = self.metrics_path.read_bytes()
        except OSError as err:
            raise GenlabError(f"run {self.name!r}: cannot read {METRICS_FILE} ({err.strerror})") from None
        raw = raw[: raw.rfind(b"\n") + 1]  # a partially written last line is ignored
        fix = (f"the run's checkpoint is not affected; move {METRICS_FILE} out of {self.path} to use the run "
               "without its curves")
        try:
            if b"\x00" in raw:
                raise UnicodeDecodeError("utf-8", raw, 0, 1, "NUL byte")
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise GenlabError(f"run {self.name!r}: {METRICS_FILE} is corrupt (not a text file); {fix}") from None
        if not text.strip():
            return []
        try:
            rows = list(csv.reader(io.StringIO(text)))
        except csv.Error as err:
            raise GenlabError(f"run {self.name!r}: {METRICS_FILE} is corrupt ({err}); {fix}") from None
        if "step" not in rows[0]:
            raise GenlabError(f"run {self.name!r}: {METRICS_FILE} is corrupt (its header has no 'step' column); {fix}")
        return rows

    def read_metrics(self):
        """All complete metrics rows as a pandas DataFrame (empty if none yet).

        Safe to call while another thread/process appends: a partially written last line is
        ignored; ``extra`` JSON is expanded into columns; ``changed`` is text (``""`` if none).
        """
        import pandas as pd

        path = self.metrics_path
        if not path.is_file():
            return pd.DataFrame()
        rows = self._complete_metrics_rows()
        if not rows:
            return pd.DataFrame()
        header, body = rows[0], [r for r in rows[1:] if r]
        width = len(header)
        body = [r[:width] + [""] * (width - len(r)) for r in body]
        frame = pd.DataFrame(body, columns=header)
        extras: list[dict] = []
        if EXTRA_COLUMN in frame.columns:
            for cell in frame.pop(EXTRA_COLUMN):
                try:
                    value = json.loads(cell) if cell else {}
                except json.JSONDecodeError:
                    value = {}
                extras.append(value if isinstance(value, dict) else {})
        for column in frame.columns:
            if column == "changed":
                continue
            converted = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce")
            # keep text columns as text; numbers (and empty cells -> NaN) become numeric
            if converted.notna().sum() == (frame[column] != "").sum():
                frame[column] = converted
        if any(extras):
            extra_frame = pd.DataFrame(extras, index=frame.index)
            for column in extra_frame.columns:
                if column in frame.columns:
                    frame[column] = frame[column].where(extra_frame[column].isna(), extra_frame[column])
                else:
                    frame[column] = extra_frame[column]
        if "changed" in frame.columns:
            frame["changed"] = frame["changed"].fillna("").astype(str)
        return frame

    def truncate_metrics(self, last_step: int) -> None:
        """Drop rows with ``step > last_step`` (rows written after the checkpoint a resume starts
        from). Rewrites the file atomically; keeps the header and the ``extra`` column."""
        with self._metrics_lock:
            path = self.metrics_path
            if not path.is_file():
                return
            rows = self._complete_metrics_rows()
            if not rows:
                path.unlink()
                self._metrics_columns = None
                return
            header, body = rows[0], rows[1:]
            if "step" in header:
                index = header.index("step")
                kept = []
                for row in body:
                    try:
                        if len(row) > index and float(row[index]) <= last_step:
                            kept.append(row)
                    except ValueError:
                        continue
                body = kept
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows([header, *body])
            _atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
            self._metrics_columns = header

    # ----------------------------------------------------------------- checkpoint
    @property
    def checkpoint_path(self) -> Path:
        return self.path / CHECKPOINT_FILE

    def has_checkpoint(self) -> bool:
        return self.checkpoint_path.is_file()

    def save_checkpoint(self, state: dict) -> None:
        """Save ``state`` (a dict of tensors, state dicts and plain values) atomically.

        The file holds ``{"format", "version", "config", "state"}``; it is written to a temp
        file in the run folder and moved into place with ``os.replace``, so a crash mid-write
        leaves the previous checkpoint intact.
        """
        payload = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "config": _jsonable(self.config) if (self.path / CONFIG_FILE).is_file() else {},
            "state": state,
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        _atomic_write_bytes(self.checkpoint_path, buffer.getvalue())

    def load_checkpoint(self) -> dict:
        """Return the state saved by :meth:`save_checkpoint` (tensors on CPU).

        Loaded with ``torch.load(..., weights_only=True)``: a file that needs arbitrary Python
        objects (a pickle payload) is refused. Missing, truncated or foreign files raise
        GenlabError with a message naming the run and what to do.
        """
        return _load_checkpoint_file(self.checkpoint_path, self.name)

    # ----------------------------------------------------------------- samples
    def save_samples(self, samples: torch.Tensor | np.ndarray, reference: np.ndarray | None = None) -> Path:
        """Write ``samples.png``: an image grid for ``(N, C, H, W)``, a PIL scatter for ``(N, 2)``."""
        samples = torch.as_tensor(np.asarray(samples.detach().cpu() if isinstance(samples, torch.Tensor) else samples))
        path = self.path / SAMPLES_FILE
        if samples.ndim == 4:
            from torchvision.utils import make_grid, save_image

            grid = make_grid(samples.float().clamp(0, 1), nrow=int(math.ceil(math.sqrt(len(samples)))), padding=1, pad_value=1.0)
            buffer = io.BytesIO()
            save_image(grid, buffer, format="png")
            _atomic_write_bytes(path, buffer.getvalue())
        elif samples.ndim == 2 and samples.shape[1] == 2:
            image = scatter_png(samples.numpy(), reference)
            _atomic_write_bytes(path, image)
        else:
            raise GenlabError(f"samples must be images (N, C, H, W) or points (N, 2); got shape {tuple(samples.shape)}")
        return path

    # ----------------------------------------------------------------- status
    def read_status_file(self) -> dict:
        path = self.path / STATUS_FILE
        if not path.is_file():
            return {}
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise GenlabError(f"run {self.name!r}: {STATUS_FILE} is not valid JSON") from None
        if not isinstance(value, dict):
            raise GenlabError(f"run {self.name!r}: {STATUS_FILE} must be a JSON object")
        return value

    def status(self) -> dict:
        """The run's status dict, with ``status`` corrected to ``interrupted`` when it says
        ``running`` but its process is gone (same host, pid not alive; or this process, which is
        not training it). A run without a status file counts as ``stopped``."""
        info = self.read_status_file()
        if not info:
            return {"status": "stopped", "message": "no status file", "step": 0}
        if info.get("status") == "running" and not self._still_running(info):
            info = {**info, "status": "interrupted", "message": "the training process is gone; train again to resume"}
        return info

    def _still_running(self, info: dict) -> bool:
        if info.get("host") not in (None, socket.gethostname()):
            return True  # another machine's process: we cannot tell, trust the file
        try:
            pid = int(info.get("pid") or 0)
        except (TypeError, ValueError):
            return False
        if pid == os.getpid():
            with _ACTIVE_LOCK:
                return str(self.path.resolve()) in _ACTIVE_RUNS
        return _pid_alive(pid)

    def set_status(self, status: str, *, message: str = "", step: int | None = None, **extra) -> dict:
        """Record ``status`` (one of running/finished/stopped/interrupted) with timestamps, pid, host."""
        if status not in STATUSES:
            raise GenlabError(f"unknown run status {status!r}; allowed: {', '.join(STATUSES)}")
        try:
            previous = self.read_status_file()
        except GenlabError:
            previous = {}
        now = _now()
        info = {
            **previous,
            **extra,
            "status": status,
            "message": message,
            "started": previous.get("started") or now,
            "updated": now,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        if step is not None:
            info["step"] = int(step)
        if status == "running" and previous.get("status") != "running":
            info["started"] = now
        _atomic_write_json(self.path / STATUS_FILE, info)
        return info

    # ----------------------------------------------------------------- info / export
    def info(self) -> RunInfo:
        """Summary for listings; never raises (a bad run gets ``status="corrupt: <why>"``)."""
        try:
            config = self.config
            status = self.status()
            return RunInfo(
                name=self.name, path=self.path, status=str(status.get("status", "stopped")),
                model=str(config.get("model", "")), dataset=str(config.get("dataset", "")),
                step=int(status.get("step") or 0), config_hash=config_hash(config),
                started=str(status.get("started", "")), updated=str(status.get("updated", "")),
                message=str(status.get("message", "")),
            )
        except GenlabError as err:
            return RunInfo(name=self.name, path=self.path, status=f"corrupt: {err}")
        except Exception as err:  # noqa: BLE001 - a listing must survive any bad folder
            return RunInfo(name=self.name, path=self.path, status=f"corrupt: {type(err).__name__}: {err}")

    def export_zip(self) -> bytes:
        """The run's known files as a zip (flat names); partial temp files are never included."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in RUN_FILES:
                path = self.path / name
                if path.is_file():
                    archive.writestr(name, path.read_bytes())
        return buffer.getvalue()


def _load_checkpoint_file(path: Path, run_name: str) -> dict:
    if not path.is_file():
        raise GenlabError(f"run {run_name!r} has no {CHECKPOINT_FILE} yet; train it first (python -m genlab train ...)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "unsupported global" in str(err).lower():  # a class/function reference: a pickle payload
            raise GenlabError(
                f"run {run_name!r}: {CHECKPOINT_FILE} contains Python objects other than tensors and plain "
                "containers and was refused (checkpoints load with weights_only=True for safety); retrain the run"
            ) from None
        raise GenlabError(f"run {run_name!r}: {CHECKPOINT_FILE} is corrupt or truncated; delete it and retrain") from None
    except Exception as err:  # noqa: BLE001 - zip/EOF/runtime errors all mean: unusable file
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise GenlabError(
            f"run {run_name!r}: {CHECKPOINT_FILE} is corrupt or truncated ({reason}); delete it and retrain"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT or not isinstance(payload.get("state"), dict):
        raise GenlabError(f"run {run_name!r}: {CHECKPOINT_FILE} is not a genlab checkpoint; retrain the run")
    if int(payload.get("version", 0)) > CHECKPOINT_VERSION:
        raise GenlabError(
            f"run {run_name!r}: checkpoint format version {payload.get('version')} is newer than this genlab "
            f"supports ({CHECKPOINT_VERSION}); update genlab"
        )
    return payload["state"]


def scatter_png(points: np.ndarray, reference: np.ndarray | None = None, size: int = 320) -> bytes:
    """A PNG scatter plot of ``points`` (N, 2) in blue over optional ``reference`` points in grey.

    Drawn with PIL (no matplotlib dependency): square axes covering both point sets with a margin.
    """
    from PIL import Image, ImageDraw

    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    sets = [p for p in (reference, points) if p is not None and len(p)]
    everything = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in sets]) if sets else np.zeros((1, 2))
    everything = everything[np.isfinite(everything).all(axis=1)]
    if len(everything) == 0:
        everything = np.zeros((1, 2))
    centre = (everything.max(0) + everything.min(0)) / 2
    half = max(float((everything.max(0) - everything.min(0)).max()) / 2 * 1.1, 1e-3)
    margin = 10
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([margin - 1, margin - 1, size - margin, size - margin], outline=(200, 200, 200))

    def to_pixels(p: np.ndarray) -> np.ndarray:
        scaled = (p - centre) / half  # [-1, 1]
        x = margin + (scaled[:, 0] + 1) / 2 * (size - 2 * margin)
        y = margin + (1 - (scaled[:, 1] + 1) / 2) * (size - 2 * margin)
        return np.stack([x, y], axis=1)

    for data, colour in ((reference, (170, 170, 170)), (points, (31, 119, 180))):
        if data is None:
            continue
        data = np.asarray(data, dtype=np.float64).reshape(-1, 2)
        data = data[np.isfinite(data).all(axis=1)]
        for x, y in to_pixels(data):
            draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- store


def default_runs_root() -> Path:
    """``$GENLAB_RUNS_DIR`` or ``./runs``."""
    return Path(os.environ.get("GENLAB_RUNS_DIR") or "runs")


class RunStore:
    """A folder of runs. ``RunStore()`` uses :func:`default_runs_root`."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_runs_root()

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    def path_of(self, name: str) -> Path:
        return self.root / validate_run_name(name)

    def exists(self, name: str) -> bool:
        return self.path_of(name).is_dir()

    def create(self, name: str, config: dict, *, resume: bool = False) -> Run:
        """Create run ``name`` with ``config``. If it exists: GenlabError, unless ``resume`` (then
        the existing run is returned; its stored config must equal ``config``)."""
        path = self.path_of(name)
        if path.exists():
            if not resume:
                raise GenlabError(f"run {name!r} already exists in {self.root}; choose another name or resume it")
            run = self.open(name)
            if config_hash(run.config) != config_hash(config):
                raise GenlabError(f"run {name!r} exists with a different configuration; use a new run name")
            return run
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            raise GenlabError(f"run {name!r} already exists in {self.root}; choose another name") from None
        run = Run(path)
        run.write_config(config)
        return run

    def open(self, name: str) -> Run:
        """Open an existing run (GenlabError if there is no such folder with a config.json)."""
        path = self.path_of(name)
        if not path.is_dir():
            raise GenlabError(f"there is no run {name!r} in {self.root}; see `python -m genlab runs --root {self.root}`")
        if not (path / CONFIG_FILE).is_file():
            raise GenlabError(f"{path} is not a genlab run folder (no {CONFIG_FILE})")
        return Run(path)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        names = []
        for child in sorted(self.root.iterdir()):
            if not child.is_dir():
                continue
            try:
                validate_run_name(child.name)
            except GenlabError:
                continue  # temp folders (.import-...) and foreign folders
            names.append(child.name)
        return names

    def list(self) -> list[RunInfo]:
        """Every run folder, sorted by name; bad runs appear with ``status="corrupt: <why>"``."""
        return [Run(self.root / name).info() for name in self.names()]

    def find_by_config(self, config: dict) -> Run | None:
        """A run whose config has the same :func:`config_hash` (a finished one first), or None."""
        wanted = config_hash(config)
        matches = [info for info in self.list() if info.ok and info.config_hash == wanted]
        if not matches:
            return None
        order = {"finished": 0, "running": 1, "stopped": 2, "interrupted": 3}
        matches.sort(key=lambda info: (order.get(info.status, 9), -info.step))
        return Run(matches[0].path)

    def mark_interrupted(self) -> list[str]:
        """Persist ``interrupted`` for runs whose status says running but whose process is gone
        (call at startup); returns their names."""
        fixed = []
        for name in self.names():
            run = Run(self.root / name)
            try:
                raw = run.read_status_file()
                if raw.get("status") == "running" and run.status()["status"] == "interrupted":
                    info = {**raw, "status": "interrupted", "updated": _now(),
                            "message": "the training process is gone; train again to resume"}
                    _atomic_write_json(run.path / STATUS_FILE, info)
                    fixed.append(name)
            except GenlabError:
                continue
        return fixed

    def delete(self, name: str) -> None:
        shutil.rmtree(self.open(name).path)

    # ----------------------------------------------------------------- import
    def import_zip(self, data: bytes, name: str) -> Run:
        """Create run ``name`` from a zip made by :meth:`Run.export_zip`.

        Validated before anything becomes visible: only the known flat file names
        (config.json, metrics.csv, checkpoint.pt, samples.png, status.json), no folders, no
        duplicates, per-file size limits counted while decompressing (zip bombs stop early),
        config.json must be a genlab config, and checkpoint.pt must load with
        ``weights_only=True``. The files go to a hidden temp folder that is renamed into place.
        """
        validate_run_name(name)
        if self.path_of(name).exists():
            raise GenlabError(f"run {name!r} already exists in {self.root}; choose another name for the import")
        if len(data) > MAX_IMPORT_ZIP_BYTES:
            raise GenlabError(f"the zip is too large ({len(data) // 2**20} MB); at most {MAX_IMPORT_ZIP_BYTES // 2**20} MB")
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError):
            raise GenlabError("the upload is not a zip file; export a run from genlab and upload that zip") from None
        allowed = ", ".join(RUN_FILES)
        files: dict[str, bytes] = {}
        with archive:
            for entry in archive.infolist():
                entry_name = entry.filename
                if entry_name not in RUN_FILES or entry.is_dir():
                    raise GenlabError(f"the zip contains {entry_name!r}, which is not allowed; allowed files: {allowed}")
                if entry_name in files:
                    raise GenlabError(f"the zip contains {entry_name!r} twice; each of {allowed} may appear once")
                limit = IMPORT_LIMITS[entry_name]
                if entry.file_size > limit:
                    raise GenlabError(f"{entry_name} in the zip is too large ({entry.file_size} bytes, at most {limit})")
                try:
                    with archive.open(entry) as handle:
                        content = handle.read(limit + 1)
                except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError) as err:
                    raise GenlabError(f"cannot read {entry_name} from the zip ({type(err).__name__}); the zip is damaged") from None
                if len(content) > limit:
                    raise GenlabError(f"{entry_name} in the zip is too large (at most {limit} bytes)")
                files[entry_name] = content
        if CONFIG_FILE not in files:
            raise GenlabError(f"the zip has no {CONFIG_FILE}; a genlab run export has {allowed}")
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=self.root))
        try:
            for entry_name, content in files.items():
                (tmp / entry_name).write_bytes(content)
            run = Run(tmp)
            run.config  # noqa: B018 - validates config.json
            if CHECKPOINT_FILE in files:
                _load_checkpoint_file(tmp / CHECKPOINT_FILE, name)
            if METRICS_FILE in files:
                run.read_metrics()
            try:
                status = run.read_status_file()
            except GenlabError:
                status = {}
            previous = status.get("status")
            state = previous if previous in ("finished", "stopped", "interrupted") else "stopped"
            _atomic_write_json(tmp / STATUS_FILE, {**status, "status": state, "pid": None, "host": None,
                                                   "updated": _now(), "message": "imported"})
            final = self.path_of(name)
            try:
                os.rename(tmp, final)
            except OSError:
                raise GenlabError(f"run {name!r} already exists in {self.root}; choose another name") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return Run(final)


# --------------------------------------------------------------------------- training glue


def load_trainer(run: Run, device: str | torch.device = "cpu", data_dir=None):
    """Rebuild the run's trainer from ``config.json`` (via the registry) and load its checkpoint."""
    from genlab.train.registry import trainer_class

    config = run.config
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
    """

    def __init__(self, run: Run, steps: int, checkpoint_every: int = 500, checkpoint_seconds: float = 60.0,
                 sample_count: int = 64):
        self.run, self.steps = run, int(steps)
        self.checkpoint_every, self.checkpoint_seconds = checkpoint_every, checkpoint_seconds
        self.sample_count = sample_count
        self._key = str(run.path.resolve())
        self._last_saved = (0, 0.0)   # (step, time.monotonic()) of the last checkpoint

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
            if trainer.step_count == 0 and run.has_checkpoint():
                restore_trainer(trainer, run)
            run.truncate_metrics(trainer.step_count)
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
        with _ACTIVE_LOCK:
            _ACTIVE_RUNS.discard(self._key)


class _OnRow(Callback):
    """Adapts a plain ``on_row(row)`` function to a fit callback."""

    def __init__(self, on_row: Callable[[dict], None]):
        self.on_row = on_row

    def on_step_end(self, trainer, row: dict) -> None:
        self.on_row(row)


def train_run(
    trainer,
    run: Run,
    steps: int,
    should_stop: Callable[[], bool] | None = None,
    checkpoint_every: int = 500,
    on_row: Callable[[dict], None] | None = None,
    checkpoint_seconds: float = 60.0,
    sample_count: int = 64,
) -> str:
    """Train ``trainer`` until ``trainer.step_count == steps`` (a total, not an increment), recording
    everything in ``run`` (:class:`RecordRun`); return the final status. ``on_row(row)`` is called
    after every step, ``should_stop()`` between steps (it may block, e.g. while a job is paused)."""
    callbacks: list[Callback] = [RecordRun(run, steps, checkpoint_every, checkpoint_seconds, sample_count)]
    if on_row is not None:
        callbacks.append(_OnRow(on_row))
    return trainer.fit(steps, callbacks=callbacks, should_stop=should_stop)
