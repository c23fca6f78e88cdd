"""Reading and checking the files of a run folder, for runs that anyone may have handed in.

Every reader here validates what it reads (types, sizes, nesting) and raises
:class:`RunFileError` -- a GenlabError naming the run and the file -- instead of letting a bad
file reach a page as an exception. The same checks run when a zip is imported
(:mod:`genlab.run_import`) and every time a run is read, so a file damaged or replaced after
its import is caught too. Costs are bounded by :mod:`genlab.limits`.

For other modules:

* :func:`parse_json_bounded` -- ``json.loads`` with a nesting limit (no RecursionError);
* :func:`read_config`, :func:`check_config` -- config.json;
* :func:`read_status`, :func:`check_status` -- status.json;
* :func:`check_samples_png` -- samples.png (format, pixel count); :func:`scatter_png` draws one;
* :func:`load_checkpoint_file` -- checkpoint.pt (``weights_only=True``);
* :func:`read_metrics_frame`, :func:`scan_metrics` -- metrics.csv (see :mod:`genlab.run_metrics`);
* history.npz -- :func:`genlab.run_history.read_history_file` (the training timeline).
"""
from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import time
from pathlib import Path

import numpy as np

from genlab.errors import GenlabError
from genlab.limits import IMPORT_FILE_LIMITS, MAX_IMAGE_PIXELS, MAX_JSON_DEPTH
from genlab.safe_json import json_depth

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
CHECKPOINT_FILE = "checkpoint.pt"
SAMPLES_FILE = "samples.png"
STATUS_FILE = "status.json"
HISTORY_FILE = "history.npz"   # the training timeline; format, reader and writer: genlab.run_history
RUN_FILES = (CONFIG_FILE, METRICS_FILE, CHECKPOINT_FILE, SAMPLES_FILE, STATUS_FILE, HISTORY_FILE)
STATUSES = ("running", "finished", "stopped", "interrupted")
CHECKPOINT_FORMAT = "genlab-checkpoint"
CHECKPOINT_VERSION = 1
MAX_NAME_TEXT = 200            # config's model / dataset names
STALE_TEMP_SECONDS = 600       # a temp file older than this is left over from a killed writer


class RunFileError(GenlabError):
    """A file of a run is missing, damaged or not allowed. ``run_name`` and ``file_name`` say
    which; the message reads ``run '<run>': <file> <problem>``."""

    def __init__(self, run_name: str, file_name: str, problem: str):
        self.run_name, self.file_name, self.problem = run_name, file_name, problem
        super().__init__(f"run {run_name!r}: {file_name} {problem}")


# --------------------------------------------------------------------------- messages


_PLAIN = re.compile(r"[A-Za-z0-9_ .,+/-]{0,60}")


def shown_value(value) -> str:
    """``value`` as a message may quote it: numbers, short plain words in quotes; anything else
    (long text, text with brackets, tags, URLs, containers) only described. Messages about
    handed-in files are shown on pages, so they never carry a file's text verbatim."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if _PLAIN.fullmatch(value) else f"a text of {len(value)} characters"
    return {dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------- JSON


def parse_json_bounded(text: str | bytes, max_depth: int = MAX_JSON_DEPTH):
    """``json.loads(text)``, refusing values nested deeper than ``max_depth``.

    Raises ValueError with a short reason (invalid JSON, too deep) -- never RecursionError."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"it is nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"it is not valid JSON ({err.msg} at line {err.lineno})") from None
    except ValueError as err:   # e.g. an integer of more than 4300 digits
        raise ValueError(f"it is not valid JSON ({str(err)[:80]})") from None
    if json_depth(value) > max_depth:
        raise ValueError(f"it is nested deeper than {max_depth} levels")
    return value


def _read_json(path: Path, run_name: str, file_name: str):
    limit = IMPORT_FILE_LIMITS[file_name]
    try:
        size = path.stat().st_size
        if size > limit:
            raise RunFileError(run_name, file_name, f"is {size:,} bytes; at most {limit:,} are allowed")
        raw = path.read_bytes()
    except OSError as err:
        raise RunFileError(run_name, file_name, f"cannot be read ({err.strerror})") from None
    try:
        return parse_json_bounded(raw)
    except UnicodeDecodeError:
        raise RunFileError(run_name, file_name, "is not valid JSON (not UTF-8 text)") from None
    except ValueError as err:
        raise RunFileError(run_name, file_name, str(err).removeprefix("it ")) from None


# --------------------------------------------------------------------------- config.json


def check_config(config, run_name: str) -> dict:
    """``config`` if it is a genlab config (a JSON object with text ``model`` and ``dataset``,
    objects for ``model_config``/``train_config``), else RunFileError."""
    if not isinstance(config, dict) or "model" not in config or "dataset" not in config:
        raise RunFileError(run_name, CONFIG_FILE, "must be a JSON object with 'model' and 'dataset'")
    for key in ("model", "dataset"):
        value = config[key]
        if not isinstance(value, str) or not value or len(value) > MAX_NAME_TEXT:
            raise RunFileError(run_name, CONFIG_FILE, f"has {key} {shown_value(value)}; it must be a name "
                                                      f"(text of 1 to {MAX_NAME_TEXT} characters)")
    for key in ("model_config", "train_config"):
        if config.get(key) is not None and not isinstance(config[key], dict):
            raise RunFileError(run_name, CONFIG_FILE, f"has a {key} that is not a JSON object")
    return config


def read_config(path: Path, run_name: str) -> dict:
    """The checked config.json at ``path`` (RunFileError if missing or bad)."""
    if not path.is_file():
        raise RunFileError(run_name, CONFIG_FILE, "is missing; it is not a genlab run folder")
    return check_config(_read_json(path, run_name, CONFIG_FILE), run_name)


# --------------------------------------------------------------------------- status.json


def _whole(value, low: int = 0) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and float(value).is_integer() and value >= low


def check_status(info, run_name: str) -> dict:
    """``info`` (a parsed status.json) if its fields have the types genlab writes, else
    RunFileError naming the field. Fields genlab does not know are left alone."""
    if not isinstance(info, dict):
        raise RunFileError(run_name, STATUS_FILE, "must be a JSON object")

    def bad(field: str, allowed: str):
        return RunFileError(run_name, STATUS_FILE, f"has {field} {shown_value(info[field])}; it must be {allowed}")

    if "status" in info and info["status"] not in STATUSES:
        raise bad("status", "one of " + ", ".join(STATUSES))
    for field in ("step", "target_steps", "pid", "pid_start"):
        if info.get(field) is not None and not _whole(info[field]):
            raise bad(field, "a whole number >= 0")
    for field in ("message", "started", "updated", "host", "code"):
        if info.get(field) is not None and not isinstance(info[field], str):
            raise bad(field, "text")
    evaluation = info.get("eval")
    if evaluation is not None:
        if not isinstance(evaluation, dict):
            raise bad("eval", "an object of metric names and numbers")
        for key, value in evaluation.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RunFileError(run_name, STATUS_FILE,
                                   f"has eval {shown_value(key)} = {shown_value(value)}; it must be a number")
    return info


def read_status(path: Path, run_name: str) -> dict:
    """The checked status.json at ``path``; ``{}`` when there is none."""
    if not path.is_file():
        return {}
    return check_status(_read_json(path, run_name, STATUS_FILE), run_name)


# --------------------------------------------------------------------------- samples.png


def check_samples_png(path: Path, run_name: str) -> tuple[int, int]:
    """``(width, height)`` of a samples.png that a page may decode: a PNG of at most
    :data:`MAX_IMAGE_PIXELS` pixels whose data decodes. RunFileError otherwise."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                raise RunFileError(run_name, SAMPLES_FILE, f"is a {image.format} image, not a PNG")
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise RunFileError(run_name, SAMPLES_FILE,
                                   f"is {width} x {height} pixels; at most {MAX_IMAGE_PIXELS:,} pixels are allowed")
            image.load()
    except RunFileError:
        raise
    except Image.DecompressionBombError:
        raise RunFileError(run_name, SAMPLES_FILE, f"is larger than {MAX_IMAGE_PIXELS:,} pixels") from None
    except Exception as err:  # noqa: BLE001 - PIL raises many kinds for damaged files
        raise RunFileError(run_name, SAMPLES_FILE, f"is not a readable PNG image ({type(err).__name__})") from None
    return width, height


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


# --------------------------------------------------------------------------- checkpoint.pt


def load_checkpoint_file(path: Path, run_name: str) -> dict:
    """The state stored in a genlab checkpoint, loaded with ``weights_only=True`` (a pickle
    payload is refused); GenlabError naming the run for a missing, damaged or foreign file."""
    import torch

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
    version = payload.get("version", 0)
    if not _whole(version):
        raise GenlabError(f"run {run_name!r}: {CHECKPOINT_FILE} is not a genlab checkpoint (bad version); retrain the run")
    if int(version) > CHECKPOINT_VERSION:
        raise GenlabError(
            f"run {run_name!r}: checkpoint format version {version} is newer than this genlab "
            f"supports ({CHECKPOINT_VERSION}); update genlab"
        )
    return payload["state"]


# --------------------------------------------------------------------------- temp files


def is_temp_file(name: str) -> bool:
    """Whether ``name`` is a temp file of an atomic write (``.<run file>.<random>.tmp``)."""
    return name.startswith(".") and name.endswith(".tmp") and any(name.startswith(f".{f}.") for f in RUN_FILES)


def remove_temp_files(folder: Path, older_than: float | None = STALE_TEMP_SECONDS) -> list[str]:
    """Delete the atomic-write temp files in ``folder`` left by a killed writer: those older than
    ``older_than`` seconds, or all of them when None (the caller owns the run). Returns the names."""
    removed = []
    try:
        children = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for child in children:
        if not is_temp_file(child.name) or not child.is_file(follow_symlinks=False):
            continue
        try:
            if older_than is None or now - child.stat(follow_symlinks=False).st_mtime > older_than:
                os.unlink(child.path)
                removed.append(child.name)
        except OSError:
            continue
    return removed
