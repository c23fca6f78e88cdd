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

A run whose status is ``running`` but whose process is gone is reported as ``interrupted``;
training it again resumes from its last checkpoint. On the same host the recorded pid and that
pid's start time say so (:mod:`genlab.processes`); a run trained on another host (servers sharing
one run store) is gone when its lease, a heartbeat the training process refreshes every few
seconds (``lease.json``, :mod:`genlab.run_lease`), has gone stale.

Runs may come from anybody (imported zips, copied folders), so every file is checked when it is
read (:mod:`genlab.run_files`, :mod:`genlab.run_metrics`: types, sizes, nesting) and a bad file
raises :class:`~genlab.run_files.RunFileError` naming the run and the file; zips are imported by
:mod:`genlab.run_import`; the server-level caps live in :mod:`genlab.limits`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genlab import run_import
from genlab.errors import GenlabError
from genlab.limits import IMPORT_FILE_LIMITS as IMPORT_LIMITS  # noqa: F401 - re-exported (tests patch it)
from genlab.processes import process_start_ticks, same_process_alive
from genlab.run_lease import lease_state
from genlab.run_files import (  # noqa: F401 - re-exported: the run store's file names and errors
    CHECKPOINT_FILE,
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    CONFIG_FILE,
    METRICS_FILE,
    RUN_FILES,
    SAMPLES_FILE,
    STATUS_FILE,
    STATUSES,
    RunFileError,
    load_checkpoint_file,
    read_config,
    read_status,
    remove_temp_files,
)
from genlab.run_files import scatter_png  # noqa: F401 - re-exported
from genlab.run_metrics import EXTRA_COLUMN, read_metrics_frame, truncate_metrics_file
from genlab.run_storage import (  # noqa: F401 - re-exported: names, hashes and writes of the run store
    MAX_NAME_LENGTH,
    _atomic_write_bytes,
    _atomic_write_json,
    _csv_value,
    _jsonable,
    _now,
    canonical_config_json,
    config_hash,
    validate_run_name,
)


# Run folders being trained by this process right now (see Run.status()).
_ACTIVE_RUNS: set[str] = set()
_ACTIVE_LOCK = threading.RLock()  # re-entered: train_run -> Run.status() -> _still_running


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
    """A run folder. Create it with :meth:`RunStore.create`, open it with :meth:`RunStore.open`.

    ``name`` is how messages call the run (default: the folder's name; an import checks its
    temp folder under the name the run will have)."""

    def __init__(self, path: str | os.PathLike, name: str | None = None):
        self.path = Path(path)
        self.name = name or self.path.name
        self._metrics_lock = threading.Lock()
        self._metrics_columns: list[str] | None = None

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    # ----------------------------------------------------------------- config
    @property
    def config(self) -> dict:
        """The stored config (``config.json``); RunFileError if missing or unreadable."""
        return read_config(self.path / CONFIG_FILE, self.name)

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

    def read_metrics(self):
        """All complete metrics rows as a pandas DataFrame (empty if none yet).

        Safe to call while another thread/process appends: a partially written last line is
        ignored; ``extra`` JSON is expanded into columns; ``changed`` is text (``""`` if none).
        A file that is not a genlab metrics file raises RunFileError (see genlab.run_metrics).
        """
        return read_metrics_frame(self.metrics_path, self.name)

    def truncate_metrics(self, last_step: int) -> None:
        """Drop rows with ``step > last_step`` (rows written after the checkpoint a resume starts
        from). Rewrites the file atomically, streaming; keeps the header and the ``extra`` column."""
        with self._metrics_lock:
            if not self.metrics_path.is_file():
                return
            self._metrics_columns = truncate_metrics_file(self.metrics_path, self.name, last_step)

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
        return load_checkpoint_file(self.checkpoint_path, self.name)

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
        """The checked status.json (``{}`` if there is none); RunFileError for a bad one."""
        return read_status(self.path / STATUS_FILE, self.name)

    def status(self) -> dict:
        """The run's status dict, with ``status`` corrected to ``interrupted`` when it says
        ``running`` but its process is gone (same host, and the pid is dead or now belongs to a
        process that started later; or this process, which is not training it; another host,
        and its lease is stale). A run without a
        status file counts as ``stopped``."""
        info = self.read_status_file()
        if not info:
            return {"status": "stopped", "message": "no status file", "step": 0}
        if info.get("status") == "running" and not self._still_running(info):
            info = {**info, "status": "interrupted", "message": "the training process is gone; train again to resume"}
        return info

    def _still_running(self, info: dict) -> bool:
        if info.get("host") not in (None, socket.gethostname()):
            # another machine's process: its heartbeat says (genlab.run_lease); a run written
            # by a genlab without leases has none, and then the file is all we know
            return lease_state(self.path) != "stale"
        pid = int(info.get("pid") or 0)
        if pid == os.getpid():
            with _ACTIVE_LOCK:
                return str(self.path.resolve()) in _ACTIVE_RUNS
        return same_process_alive(pid, info.get("pid_start"), info.get("updated"))

    def set_status(self, status: str, *, message: str = "", step: int | None = None, **extra) -> dict:
        """Record ``status`` (one of running/finished/stopped/interrupted) with timestamps, pid,
        the pid's start time (``pid_start``, so a reused pid is not taken for this one) and host."""
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
            "pid_start": process_start_ticks(os.getpid()),
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
                started=str(status.get("started") or ""), updated=str(status.get("updated") or ""),
                message=str(status.get("message") or ""),
            )
        except GenlabError as err:
            return RunInfo(name=self.name, path=self.path, status=f"corrupt: {err}")
        except Exception as err:  # noqa: BLE001 - a listing must survive any bad folder
            return RunInfo(name=self.name, path=self.path, status=f"corrupt: {type(err).__name__}: {err}")

    def export_zip(self) -> bytes:
        """The run's known files as a zip (flat names); partial temp files are never included."""
        return run_import.export_zip(self.path)

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
        """Names of the run folders (and links to run folders), sorted; hidden and foreign
        folders (``.import-...`` temp folders, names a run may not have) are skipped."""
        if not self.root.is_dir():
            return []
        names = []
        for child in sorted(self.root.iterdir()):
            try:
                if not child.is_dir():
                    continue
                validate_run_name(child.name)
            except (GenlabError, OSError):
                continue
            names.append(child.name)
        return names

    def list(self) -> list[RunInfo]:
        """Every run folder, sorted by name; bad runs appear with ``status="corrupt: <why>"``.
        Temp files that killed writers left in a run folder are removed once they are stale."""
        infos = []
        for name in self.names():
            path = self.root / name
            if not path.is_symlink():
                remove_temp_files(path)
            infos.append(Run(path).info())
        return infos

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
        """Delete run ``name``: its folder, or only the link when the store holds a symbolic
        link to a folder elsewhere (never what the link points to). Works for broken runs too."""
        path = self.path_of(name)
        try:
            if path.is_symlink():
                path.unlink()
                return
            if not path.is_dir():
                raise GenlabError(f"there is no run {name!r} in {self.root}")
            shutil.rmtree(path)
        except OSError as err:
            raise GenlabError(f"run {name!r} could not be deleted ({err.strerror or err}); "
                              f"remove {path} by hand") from None

    # ----------------------------------------------------------------- import
    def import_zip(self, data: bytes, name: str) -> Run:
        """Create run ``name`` from a zip made by :meth:`Run.export_zip`. Everything is checked
        before the run becomes visible (known flat file names, sizes and ratios within
        :mod:`genlab.limits`, every file as on read, the model's size, checkpoint.pt loaded with
        ``weights_only=True``; see :mod:`genlab.run_import`); messages name the run and the file."""
        validate_run_name(name)
        final = run_import.import_zip(self.root, data, name, _write_imported_status)
        return Run(final)


def _write_imported_status(folder: Path, status: dict) -> None:
    """An imported run is never ``running`` here: keep finished/stopped/interrupted, else stopped."""
    previous = status.get("status")
    state = previous if previous in ("finished", "stopped", "interrupted") else "stopped"
    _atomic_write_json(folder / STATUS_FILE, {**status, "status": state, "pid": None, "pid_start": None,
                                              "host": None, "updated": _now(), "message": "imported"})
