"""Finding a shipped demo (or the user's own run) for a page's settings: where the demos live,
a config completed with the trainers' defaults, the match by config hash or by the same settings
apart from the run length, and the message a page shows. See :mod:`genlab.demos`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path


from genlab.errors import GenlabError
from genlab.runs import (
    CONFIG_FILE,
    Run,
    RunInfo,
    RunStore,
    canonical_config_json,
    config_hash,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
REGENERATE_COMMAND = "python -m genlab demos"
DEMO_DIR = REPO_ROOT / "demos"
LENGTH_KEYS = ("steps", "epochs")      # run length: ignored by the fallback match
# Settings derived from the data set by the trainers (not user options).
DERIVED_MODEL_KEYS = ("image_size", "num_classes", "conditional", "image_shape")
RACE_PREFIX = "race-"                  # run folders of a stored race (race-<key>-<model>)
SLIM_NOTE = "float16 weights, no optimizer state"


def demo_dir() -> Path:
    """``$GENLAB_DEMOS_DIR`` or the repository's ``demos/`` folder."""
    value = os.environ.get("GENLAB_DEMOS_DIR")
    return Path(value) if value else DEMO_DIR


def demo_store(root: str | os.PathLike | None = None) -> RunStore:
    """The shipped demos as a (read-only by convention) :class:`RunStore`."""
    return RunStore(Path(root) if root is not None else demo_dir())


def complete_config(config: dict) -> dict | None:
    """``config`` (full or partial ``config_dict()``-shaped) with the trainers' defaults filled in,
    computed without loading data; None when it is not a valid config of a known model."""
    from genlab.train.registry import AUTOENCODERS, IMAGE_SHAPES, MODELS

    if not isinstance(config, dict):
        return None
    model, dataset = config.get("model"), config.get("dataset")
    if model not in MODELS or not isinstance(dataset, str):
        return None
    model_values, train_values = config.get("model_config") or {}, config.get("train_config") or {}
    if not isinstance(model_values, dict) or not isinstance(train_values, dict):
        return None
    model_values, train_values = dict(model_values), dict(train_values)
    try:
        if model in AUTOENCODERS:
            from genlab.models.autoencoder import AutoencoderConfig
            from genlab.train.autoencoder import DEFAULT_EPOCHS, AutoencoderTrainConfig
            from genlab.train.base import dataclass_from_dict

            model_values.setdefault("kind", model)
            model_values.setdefault("image_shape", list(IMAGE_SHAPES.get(dataset, (1, 8, 8))))
            model_config = asdict(dataclass_from_dict(AutoencoderConfig, model_values))
            train_config = asdict(dataclass_from_dict(AutoencoderTrainConfig, train_values))
            if train_config.get("epochs") is None:
                train_config["epochs"] = DEFAULT_EPOCHS.get(dataset)
            model_config["beta"] = train_config["beta"]   # what the trainer does
        else:
            from genlab.train.gan import DEFAULT_STEPS, gan_configs

            base_model, base_train = gan_configs(model, str(config.get("preset", "default")))
            model_config = {**asdict(base_model), **model_values}
            train_config = {**asdict(base_train), **train_values}
            if train_config.get("steps") is None:
                train_config["steps"] = DEFAULT_STEPS[model]
    except (GenlabError, TypeError, ValueError, KeyError):
        return None
    out = {"model": model, "dataset": dataset, "model_config": model_config, "train_config": train_config}
    if "points" in config:
        out["points"] = config["points"]
    return json.loads(canonical_config_json(out))


def _settings_key(config: dict | None) -> str | None:
    """Canonical JSON of a completed config without the run length and the data-derived fields."""
    if config is None:
        return None
    model_config = {k: v for k, v in config["model_config"].items() if k not in DERIVED_MODEL_KEYS}
    train_config = {k: v for k, v in config["train_config"].items() if k not in LENGTH_KEYS}
    return canonical_config_json({**config, "model_config": model_config, "train_config": train_config})


def _length(config: dict | None) -> dict:
    if config is None:
        return {}
    return {k: config["train_config"].get(k) for k in LENGTH_KEYS if k in config["train_config"]}


_INDEX_CACHE: dict[str, tuple[tuple, list]] = {}


def _index(root: Path) -> list[tuple[Run, str, str | None, dict | None]]:
    """(run, config hash, settings key, completed config) of every readable demo; cached on the
    config files' modification times."""
    store = demo_store(root)
    names = [name for name in store.names() if not name.startswith(RACE_PREFIX)]   # races: by key only
    stamp = []
    for name in names:
        try:
            stamp.append((name, (store.root / name / CONFIG_FILE).stat().st_mtime_ns))
        except OSError:
            stamp.append((name, None))
    key = str(Path(store.root).resolve())
    cached = _INDEX_CACHE.get(key)
    if cached is not None and cached[0] == tuple(stamp):
        return cached[1]
    entries = []
    for name in names:
        run = Run(store.root / name)
        try:
            config = run.config
        except GenlabError:
            continue
        completed = complete_config(config)
        entries.append((run, config_hash(config), _settings_key(completed), completed))
    _INDEX_CACHE[key] = (tuple(stamp), entries)
    return entries


def find_demo(config: dict, *, exact: bool = False, root: str | os.PathLike | None = None) -> Run | None:
    """The shipped demo run for ``config`` (a trainer's ``config_dict()``, full or partial), or None.

    1. a demo with the same :func:`~genlab.runs.config_hash`;
    2. a demo whose config equals ``config`` after filling in the trainers' defaults;
    3. (unless ``exact``) a demo with the same model, data set and settings apart from the run
       length (``steps`` / ``epochs``) -- :func:`is_exact` tells the page which case it got.

    Only finished demos with a checkpoint count. Never raises for a bad ``config`` (None).
    """
    root_path = Path(root) if root is not None else demo_dir()
    if not root_path.is_dir() or not isinstance(config, dict):
        return None
    try:
        wanted_hash = config_hash(config)
    except (TypeError, ValueError):
        return None
    entries = [e for e in _index(root_path) if _usable(e[0])]
    for run, digest, _, _ in entries:
        if digest == wanted_hash:
            return run
    completed = complete_config(config)
    if completed is None:
        return None
    full = canonical_config_json(completed)
    for run, _, _, demo_completed in entries:
        if demo_completed is not None and canonical_config_json(demo_completed) == full:
            return run
    if exact:
        return None
    wanted = _settings_key(completed)
    for run, _, settings, _ in entries:
        if settings == wanted:
            return run
    return None


def is_exact(run: Run, config: dict) -> bool:
    """Whether demo ``run`` was trained with exactly ``config`` (incl. the run length)."""
    try:
        if config_hash(run.config) == config_hash(config):
            return True
        mine, theirs = complete_config(run.config), complete_config(config)
    except GenlabError:
        return False
    return mine is not None and theirs is not None and canonical_config_json(mine) == canonical_config_json(theirs)


def _usable(run: Run) -> bool:
    try:
        return run.has_checkpoint() and run.status().get("status") == "finished"
    except GenlabError:
        return False


def list_demos(root: str | os.PathLike | None = None) -> list[RunInfo]:
    """Every shipped demo (:meth:`RunStore.list` of the demo store)."""
    return demo_store(root).list()


def open_demo(name: str, root: str | os.PathLike | None = None) -> Run:
    """The demo run ``name`` (GenlabError naming the demos and the regenerate command if missing)."""
    store = demo_store(root)
    if not store.exists(name):
        known = ", ".join(store.names()) or "none"
        raise GenlabError(f"there is no shipped demo {name!r} (shipped: {known}); "
                          f"create the demos with `{REGENERATE_COMMAND}`")
    return store.open(name)


def load_demo_trainer(name: str, device="cpu", root: str | os.PathLike | None = None):
    """Rebuild the trainer of demo ``name`` with its weights (GenlabError if it does not load,
    e.g. after the model code changed: the message says to regenerate the demos)."""
    from genlab.train.recording import load_trainer

    run = open_demo(name, root)
    try:
        return load_trainer(run, device=device)
    except GenlabError as err:
        raise GenlabError(f"{err} (shipped demo {name!r}: regenerate it with "
                          f"`{REGENERATE_COMMAND} --only {name} --force`)") from None


def resolve_run(config: dict, store: RunStore | None = None, *, exact_demo: bool = False,
                demo_root: str | os.PathLike | None = None) -> tuple[Run | None, str | None]:
    """Where a page gets a trained model for ``config``: ``(run, "store")`` for a finished run in
    the user's ``store`` with the same config hash, else ``(demo, "demo")`` (:func:`find_demo`),
    else ``(None, None)`` -- the page then trains in the background."""
    if store is not None:
        run = _find_in_store(store, config)
        if run is not None:
            return run, "store"
    demo = find_demo(config, exact=exact_demo, root=demo_root)
    if demo is not None:
        return demo, "demo"
    return None, None


def _find_in_store(store: RunStore, config: dict) -> Run | None:
    """A finished run with a checkpoint in ``store`` for ``config``: same hash, or (for a partial
    config) the same config once the trainers' defaults are filled in."""
    def finished(run: Run | None) -> bool:
        try:
            return run is not None and run.has_checkpoint() and run.status().get("status") == "finished"
        except GenlabError:
            return False

    try:
        run = store.find_by_config(config)
    except (GenlabError, TypeError, ValueError):
        run = None
    if finished(run):
        return run
    completed = complete_config(config)
    if completed is None or config_hash(completed) == config_hash(config):
        return None
    wanted = canonical_config_json(completed)
    for info in store.list():
        if not info.ok or info.status != "finished":
            continue
        candidate = Run(info.path)
        try:
            theirs = complete_config(candidate.config)
        except GenlabError:
            continue
        if theirs is not None and canonical_config_json(theirs) == wanted and finished(candidate):
            return candidate
    return None


def source_message(run: Run | None, source: str | None = None, config: dict | None = None) -> str:
    """One line (Markdown) for the page saying where its model comes from."""
    if run is None or source is None:
        return "No trained model for these settings yet: **training now** in the background."
    try:
        step = int(run.status().get("step") or 0)
    except GenlabError:
        step = 0
    if source == "store":
        return f"Showing your stored run `{run.name}` ({step:,} steps), trained earlier with these settings."
    text = (f"Showing the **shipped demo run** `{run.name}` ({step:,} steps), trained with "
            f"`{REGENERATE_COMMAND}` — no waiting.")
    if config is not None and not is_exact(run, config):
        text += " Its run length differs from your setting; train to get exactly yours."
    return text


def copy_demo(name: str, store: RunStore, new_name: str | None = None,
              root: str | os.PathLike | None = None) -> Run:
    """Copy demo ``name`` into the user's ``store`` (to keep training it there); returns the copy."""
    source = open_demo(name, root)
    target = store.path_of(new_name or name)
    if target.exists():
        raise GenlabError(f"run {target.name!r} already exists in {store.root}; choose another name")
    return store.import_zip(source.export_zip(), target.name)
