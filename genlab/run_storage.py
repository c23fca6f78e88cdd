"""Low-level pieces of the run store: run names, canonical config hashes, atomic writes.

Split from :mod:`genlab.runs` (which re-exports the public names) so that the modules that
check and import run files can use them without importing the store.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.atomic_file import atomic_write_bytes as _atomic_write_bytes  # the run store's name for it
from genlab.errors import GenlabError

MAX_NAME_LENGTH = 100
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")

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


def _atomic_write_json(path: Path, value) -> None:
    _atomic_write_bytes(path, (json.dumps(_jsonable(value), indent=2, sort_keys=True) + "\n").encode())

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

