"""Shipped demo runs: pretrained runs for the default settings of the dashboard pages.

The folder ``demos/`` at the repository root is a read-only :class:`~genlab.runs.RunStore`
(``$GENLAB_DEMOS_DIR`` overrides it, e.g. in tests). Each demo is trained by the project's own
CLI with the page's default settings (``python -m genlab train MODEL ... --out demos/NAME``),
so a page can show a trained model at first start without waiting. One command regenerates
them all::

    python -m genlab demos                 # (re)train the demos that are missing or whose settings or code changed
    python -m genlab demos --force         # retrain all of them
    python -m genlab demos --only gan-ring8 --force
    python -m genlab demos --list          # name, status, steps, size, up to date?
    python -m genlab demos --check         # exit 1 if a demo is missing or out of date

The Transformer GAN page's default race is a demo too (:class:`RaceDemoSpec`, ``--only tgan-race``):
not a CLI run but the page's own :class:`~genlab.train.race.EqualTimeRace` (settings
``RACE_DEFAULTS``, ``RACE_DEFAULT_SECONDS`` of training time per model, shared with the page), stored
with ``save_race`` as ``race-<key>-tgan`` / ``race-<key>-dcgan``; the page finds it by the race's key
(``load_race(demo_store(), key, names)``), never through :func:`find_demo`.

``make demos`` runs the first form. To keep the repository small (``MAX_TOTAL_BYTES``), a demo's
checkpoint is *slimmed* after training: weights are stored as float16 and the optimizer state
(Adam's moment estimates) is dropped; ``metrics.csv`` keeps at most ``MAX_METRICS_ROWS`` evenly
spaced rows (plus every row with test/evaluation metrics and the last one); ``history.npz`` (the
timeline that ``python -m genlab replay`` and the pages' timelines show) keeps 64 of its 120
frames (:func:`genlab.train.history.slim_history`). A slimmed checkpoint
loads like any other (:func:`genlab.train.recording.load_trainer` casts the weights back to float32);
training a copy further restarts the optimizer's moment estimates.

How a page finds a trained model for its settings (``config`` = the trainer's ``config_dict()``)::

    from genlab import demos
    run, source = demos.resolve_run(config, store)    # store: the user's RunStore
    if source == "store":   ...  # the user's own finished run with these settings
    elif source == "demo":  st.info(demos.source_message(run))   # "Showing the shipped demo run ..."
    else:                   ...  # train in the background (genlab.jobs) and say "Training now ..."

:func:`find_demo` matches a demo by :func:`genlab.runs.config_hash` first; failing that, by the
same model, data set and settings apart from the run length (``steps`` / ``epochs``), after
filling in the trainers' defaults -- so a partial config from
:func:`genlab.train.registry.build_config` finds the demo trained with the same options.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

# The lookup and the slimming live in their own modules; their names stay importable from here.
from genlab.demo_match import (  # noqa: F401
    DEMO_DIR,
    DERIVED_MODEL_KEYS,
    LENGTH_KEYS,
    RACE_PREFIX,
    REGENERATE_COMMAND,
    REPO_ROOT,
    SLIM_NOTE,
    _INDEX_CACHE,
    _settings_key,
    _usable,
    complete_config,
    copy_demo,
    demo_dir,
    demo_store,
    find_demo,
    is_exact,
    list_demos,
    load_demo_trainer,
    open_demo,
    resolve_run,
    source_message,
)
from genlab.demo_slim import MAX_METRICS_ROWS, folder_bytes, slim_run, slim_state, thin_metrics  # noqa: F401
from genlab.errors import GenlabError
from genlab.runs import STATUS_FILE, Run, RunStore, config_hash

MAX_TOTAL_BYTES = 8 * 1024 * 1024      # the whole demos/ folder (each trained demo carries a ~0.3 MB history.npz)
BUILD_DIR_NAME = ".build"              # hidden: RunStore.names() skips it


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class DemoSpec:
    """One shipped demo: the CLI options of ``python -m genlab train`` and the page that uses it."""

    name: str
    model: str
    dataset: str
    options: dict = field(default_factory=dict)   # CLI option names with "_" (latent_dim, preset ...)
    page: str = ""                                # dashboard/pages/<page>
    title: str = ""                                # one line for listings

    def argv(self, out: str | os.PathLike, device: str = "cpu") -> list[str]:
        """Arguments of ``python -m genlab`` that train this demo into ``out``."""
        args = ["train", self.model, "--dataset", self.dataset]
        for key, value in self.options.items():
            args += ["--" + key.replace("_", "-"), _cli_value(value)]
        return args + ["--out", str(out), "--device", device, "--quiet"]

    def command(self, out: str | os.PathLike | None = None) -> str:
        """The CLI command line, as documented (``python -m genlab train ... --out demos/NAME``)."""
        out = out if out is not None else f"demos/{self.name}"
        return "python -m genlab " + " ".join(self.argv(out)[:-1])  # without --quiet

    def build_config(self) -> dict:
        """The partial ``config_dict()`` of these options (no data loaded)."""
        from genlab.train.registry import build_config

        return build_config(self.model, self.dataset, dict(self.options))

    def current_trainer(self):
        """The (untrained) trainer the current code builds for these options (loads the data set)."""
        from genlab.train.registry import build_trainer

        return build_trainer(self.model, self.dataset, dict(self.options), device="cpu")

    def current_config(self) -> dict:
        """The full ``config_dict()`` the current trainer code gives these options (loads the data set)."""
        return self.current_trainer().config_dict()


def _cli_value(value) -> str:
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


# The defaults of the pages (see the page files); the latent pages: K = 2, 100 epochs, seed 0
# (dashboard/latent_jobs.py DEFAULTS); the image GAN page: 6000 steps (its "Training steps" default);
# the 2D GAN page: ring8 and grid25 with the benchmark preset, and the vanilla preset (Adam, no stabiliser) on ring8.
DEMO_SPECS: tuple[DemoSpec, ...] = (
    DemoSpec("ae-digits-k2", "ae", "digits", {"latent_dim": 2, "epochs": 100, "seed": 0},
             "latent_spaces.py", "autoencoder, K = 2, digits (latent page default)"),
    DemoSpec("vae-digits-k2", "vae", "digits", {"latent_dim": 2, "epochs": 100, "seed": 0, "beta": 1.0, "mc_samples": 1},
             "latent_spaces.py", "VAE, K = 2, β = 1, digits (latent page default)"),
    DemoSpec("vae-digits-k8", "vae", "digits", {"latent_dim": 8, "epochs": 100, "seed": 0, "beta": 1.0, "mc_samples": 1},
             "vae_elbo.py", "VAE, K = 8, β = 1, digits"),
    DemoSpec("gan-ring8", "gan", "ring8", {"seed": 0},
             "gan_2d.py", "2D GAN, benchmark preset, ring of 8 Gaussians"),
    DemoSpec("gan-grid25", "gan", "grid25", {"seed": 0},
             "gan_2d.py", "2D GAN, benchmark preset, 5×5 grid of Gaussians"),
    DemoSpec("gan-ring8-vanilla", "gan", "ring8", {"preset": "vanilla", "seed": 0},
             "gan_2d.py", "2D GAN, vanilla preset (Adam and the non-saturating loss, no stabiliser: misses modes), ring8"),
    DemoSpec("dcgan-digits", "dcgan", "digits", {"steps": 6000, "seed": 0},
             "gan_images.py", "DCGAN on digits, 6000 steps (image GAN page default)"),
    DemoSpec("cgan-digits", "cgan", "digits", {"steps": 6000, "seed": 0},
             "gan_images.py", "conditional GAN on digits, 6000 steps"),
)
TRAIN_SPECS = DEMO_SPECS                # the demos trained by ``python -m genlab train``


@dataclass(frozen=True)
class RaceDemoSpec:
    """The Transformer GAN page's default race as a shipped demo.

    Not a CLI training run: an :class:`~genlab.train.race.EqualTimeRace` of the transformer
    GAN and DCGAN (``race_configs(**settings)``, ``seconds`` of training time each), stored with
    :func:`~genlab.train.race.save_race` as the two runs ``race-<key>-tgan`` /
    ``race-<key>-dcgan`` in the demo folder, where the page finds them by the race's key.
    """

    name: str
    settings: dict = field(default_factory=dict)  # keyword arguments of race_configs
    seconds: float = 120.0                        # training time per model
    page: str = "transformer_gan.py"
    title: str = ""
    model: str = "tgan"                           # the model family it shows

    def configs(self) -> dict[str, dict]:
        from genlab.train.race import race_configs

        return race_configs(**self.settings)

    def key(self) -> str:
        from genlab.train.race import race_key

        return race_key(self.configs(), self.seconds)

    def run_names(self, key: str | None = None) -> list[str]:
        """The run folders of the race with ``key`` (default: the current settings' key)."""
        from genlab.train.race import race_run_name

        key = key or self.key()
        return [race_run_name(key, name) for name in self.configs()]

    def command(self, out: str | os.PathLike | None = None) -> str:
        return f"{REGENERATE_COMMAND} --only {self.name}"


def _race_demo() -> RaceDemoSpec:
    from genlab.train.race import RACE_DEFAULT_SECONDS, RACE_DEFAULTS

    return RaceDemoSpec("tgan-race", dict(RACE_DEFAULTS), float(RACE_DEFAULT_SECONDS), "transformer_gan.py",
                        f"transformer GAN vs DCGAN, {RACE_DEFAULT_SECONDS} s each (Transformer GAN page default)")


RACE_DEMO = _race_demo()
DEMO_SPECS = (*TRAIN_SPECS, RACE_DEMO)
SPECS_BY_NAME = {spec.name: spec for spec in DEMO_SPECS}
# the race's run folders name their demo too (the Runs page looks a demo run's command up by its name)
SPECS_BY_NAME.update({run_name: RACE_DEMO for run_name in RACE_DEMO.run_names()})


def spec(name: str) -> DemoSpec | RaceDemoSpec:
    if name not in SPECS_BY_NAME:
        raise GenlabError(f"unknown demo {name!r}; the demos are: {', '.join(s.name for s in DEMO_SPECS)}")
    return SPECS_BY_NAME[name]


def trainer_fingerprint(trainer) -> str:
    """SHA-256 (16 hex digits) of what ``trainer``'s model *is*, stored with each demo.

    It hashes the family's ``recipe_version`` (bumped by hand in the trainer class when the training
    recipe changes what a model learns), the model's default config (``complete_config`` of the model
    with no options) and the names and shapes of every parameter and buffer of the trainer's networks
    (derived, so an architecture change cannot slip through). Comments and refactors leave it as it is.
    """
    import hashlib

    from genlab.train.registry import build_config

    model, dataset = trainer.model_name, trainer.dataset
    shapes = []
    for attribute, module in sorted(vars(trainer).items()):
        if isinstance(module, torch.nn.Module):
            tensors = [*module.named_parameters(), *module.named_buffers()]
            shapes += [f"{attribute}.{name}:{tuple(tensor.shape)}" for name, tensor in tensors]
    described = {
        "model": model,
        "recipe_version": int(getattr(trainer, "recipe_version", 0)),
        "default_config": complete_config(build_config(model, dataset, {})),
        "tensors": shapes,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:16]


def config_fingerprint(config: dict) -> str:
    """:func:`trainer_fingerprint` of the trainer the current code builds from ``config`` (loads its data set)."""
    from genlab.train.registry import trainer_class

    return trainer_fingerprint(trainer_class(config["model"]).from_config(config, device="cpu"))


# --------------------------------------------------------------------------- building


def demo_state(demo: DemoSpec, root: str | os.PathLike | None = None) -> str:
    """``missing``, ``broken``, ``stale`` (the current code gives these options another config),
    ``code-changed`` (same config, but the model/training code changed since it was trained, see
    :func:`trainer_fingerprint`) or ``ok``. Building the current config loads the (small) data set.
    The race demo: see :func:`race_demo_state`."""
    if isinstance(demo, RaceDemoSpec):
        return race_demo_state(demo, root)
    store = demo_store(root)
    if not store.exists(demo.name):
        return "missing"
    run = store.open(demo.name)
    if not _usable(run):
        return "broken"
    try:
        current = demo.current_trainer()
    except GenlabError:
        return "broken"
    if config_hash(current.config_dict()) != run.config_hash:
        return "stale"
    try:
        trained_with = run.read_status_file().get("code")
    except GenlabError:
        trained_with = None
    return "ok" if trained_with == trainer_fingerprint(current) else "code-changed"


def _stderr_log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _torch_threads(threads: int | None):
    """Train with ``threads`` torch threads (None: leave as is); the previous setting is restored."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _train_like_the_cli(demo: DemoSpec, store: RunStore, device: str) -> Run:
    """The library calls of ``python -m genlab train`` (genlab.cli.cmd_train) for a new run of ``demo``."""
    from genlab.device import resolve_device, seed_everything
    from genlab.train.recording import train_run
    from genlab.train import registry

    options = dict(demo.options)
    checked = registry.validate_options(demo.model, demo.dataset, options)
    seed_everything(checked.get("seed", 0))
    trainer = registry.build_trainer(demo.model, demo.dataset, options, device=resolve_device(device))
    run = store.create(demo.name, trainer.config_dict())
    status = train_run(trainer, run, registry.target_steps(trainer, options))
    if status != "finished":
        raise GenlabError(f"training demo {demo.name!r} ended {status!r} at step {trainer.step_count}")
    return run


def build_demo(demo: DemoSpec, root: str | os.PathLike | None = None, *, device: str = "cpu",
               threads: int | None = 1, evaluate: bool = True, log=None) -> Run:
    """Train ``demo`` into ``<root>/.build/<name>`` as ``python -m genlab train`` does, slim it, check that
    it loads, record ``trainer.evaluate()`` in status.json, then move it into place (replacing the old one)."""
    from genlab.train.history import slim_history
    from genlab.train.recording import load_trainer

    log = log or _stderr_log
    root_path = Path(root) if root is not None else demo_dir()
    build_root = root_path / BUILD_DIR_NAME
    build_path = build_root / demo.name
    if build_path.exists():
        shutil.rmtree(build_path)
    build_root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    fingerprint = trainer_fingerprint(demo.current_trainer())
    with _torch_threads(threads):
        log(f"[{demo.name}] {demo.command(build_path)}")
        run = _train_like_the_cli(demo, RunStore(build_root), device)
        slim_run(run)
        slim_history(run)                 # the timeline at about half its frames (~0.3 MB)
        trainer = load_trainer(run)       # the slimmed checkpoint must load
        status = run.read_status_file()
        status["code"] = fingerprint      # the model it was trained as (demo_state compares)
        if trainer_fingerprint(trainer) != fingerprint:
            log(f"[{demo.name}] warning: the model code changed while training; run `{REGENERATE_COMMAND}` again")
        if evaluate:
            with torch.no_grad():
                status["eval"] = {k: (float(v) if isinstance(v, (int, float)) and math.isfinite(float(v)) else None)
                                  for k, v in dict(trainer.evaluate()).items()}
        (run.path / STATUS_FILE).write_text(json.dumps(status, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    final = root_path / demo.name
    old = root_path / BUILD_DIR_NAME / f"{demo.name}.old"
    if final.exists():
        if old.exists():
            shutil.rmtree(old)
        os.replace(final, old)
    os.replace(build_path, final)
    if old.exists():
        shutil.rmtree(old)
    try:
        build_root.rmdir()
    except OSError:
        pass
    log(f"[{demo.name}] done in {time.monotonic() - started:.0f} s, {folder_bytes(final) / 1024:.0f} KB")
    return Run(final)


def race_demo_state(demo: RaceDemoSpec, root: str | os.PathLike | None = None) -> str:
    """``ok`` when the runs ``race-<key>-*`` of the current settings' key exist, are finished with a
    checkpoint and were trained with the current code; ``missing`` when no race is shipped,
    ``stale`` when only a race of another key (older settings or budget) is, ``broken`` when the
    current key's runs are incomplete, ``code-changed`` as for the other demos."""
    store = demo_store(root)
    names = demo.run_names()
    if not all(store.exists(name) for name in names):
        others = [n for n in store.names() if n.startswith(RACE_PREFIX)]
        return "stale" if others else "missing"
    try:
        runs = [store.open(name) for name in names]
    except GenlabError:
        return "broken"
    if not all(_usable(run) for run in runs):
        return "broken"
    try:
        trained_with = [run.read_status_file().get("code") for run in runs]
    except GenlabError:
        return "broken"
    current = [config_fingerprint(config) for config in demo.configs().values()]
    return "ok" if trained_with == current else "code-changed"


def install_race_demo(race, key: str, root: str | os.PathLike | None = None, *,
                      codes: dict[str, str] | None = None) -> list[Run]:
    """Ship a finished race: :func:`~genlab.train.race.save_race` into a hidden build folder,
    slim both runs (:func:`slim_run`, and their timelines with ``slim_history``), check that :func:`~genlab.train.race.load_race`
    rebuilds it, then move the runs into ``root`` and remove the runs of any other stored race.
    ``codes`` maps a race model's name to its :func:`trainer_fingerprint`, stored as status.json's "code"."""
    from genlab.train.race import load_race, save_race

    root_path = Path(root) if root is not None else demo_dir()
    build_root = root_path / BUILD_DIR_NAME / "race"
    if build_root.exists():
        shutil.rmtree(build_root)
    build_store = RunStore(build_root)
    from genlab.train.history import slim_history

    names = save_race(race, build_store, key)
    for model_name, run_name in names.items():
        run = build_store.open(run_name)
        slim_run(run)
        slim_history(run)                 # each model's timeline at a demo's frame budget
        if codes is not None:
            status = run.read_status_file()
            status["code"] = codes[model_name]
            (run.path / STATUS_FILE).write_text(json.dumps(status, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if load_race(build_store, key, tuple(names)) is None:     # the slimmed race must load
        raise GenlabError(f"the race {key} did not load back after slimming")
    for old in demo_store(root_path).names():
        if old.startswith(RACE_PREFIX):
            shutil.rmtree(root_path / old)
    for run_name in names.values():
        os.replace(build_root / run_name, root_path / run_name)
    shutil.rmtree(build_root, ignore_errors=True)
    try:
        (root_path / BUILD_DIR_NAME).rmdir()
    except OSError:
        pass
    return [Run(root_path / run_name) for run_name in names.values()]


def build_race_demo(demo: RaceDemoSpec, root: str | os.PathLike | None = None, *, device: str = "cpu",
                    threads: int | None = 1, log=None) -> list[Run]:
    """Run the race of ``demo`` as the page does (:func:`~genlab.train.race.new_race`:
    ``demo.seconds`` of training time per model, on ``threads`` CPU threads) and ship it
    (:func:`install_race_demo`). Returns the two runs."""
    from genlab.train.race import new_race

    log = log or _stderr_log
    started = time.monotonic()
    fingerprints = {name: config_fingerprint(config) for name, config in demo.configs().items()}
    with _torch_threads(threads):
        key = demo.key()
        log(f"[{demo.name}] race {key}: {', '.join(demo.configs())}, {demo.seconds:g} s of training each")
        race = new_race(demo.configs(), demo.seconds, device=device)
        if race.run() != "finished":
            raise GenlabError(f"the race of demo {demo.name!r} did not finish")
        runs = install_race_demo(race, key, root, codes=fingerprints)
    if {name: trainer_fingerprint(trainer) for name, trainer in race.trainers.items()} != fingerprints:
        log(f"[{demo.name}] warning: the model code changed while training; run `{REGENERATE_COMMAND}` again")
    size = sum(folder_bytes(run.path) for run in runs)
    fds = ", ".join(f"{name} FD {race.evals[name]['frechet_distance'][-1]:.1f}" for name in race.trainers)
    log(f"[{demo.name}] done in {time.monotonic() - started:.0f} s ({fds}), {size / 1024:.0f} KB")
    return runs


def write_index(root: str | os.PathLike | None = None) -> Path:
    """Write ``<root>/README.md``: what each demo is, the command that made it, size, key metrics."""
    root_path = Path(root) if root is not None else demo_dir()
    store = demo_store(root_path)
    lines = [
        "# Shipped demo runs",
        "",
        "Pretrained runs for the default settings of the dashboard pages, so a page shows a trained",
        "model at first start. Generated by the project's own code; do not edit by hand. Regenerate with",
        "",
        "```bash",
        f"{REGENERATE_COMMAND}            # retrains the demos that are missing or out of date (make demos)",
        f"{REGENERATE_COMMAND} --force    # retrains all of them",
        "```",
        "",
        f"Checkpoints are slimmed ({SLIM_NOTE}); metrics.csv keeps at most {MAX_METRICS_ROWS} evenly spaced",
        "rows plus the evaluation rows. See genlab/demos.py.",
        "",
        "| demo | page | what | steps | size | command |",
        "|---|---|---|---|---|---|",
    ]
    total = 0
    for demo in DEMO_SPECS:
        if isinstance(demo, RaceDemoSpec):
            runs = [store.path_of(name) for name in demo.run_names()]
            if not all(path.is_dir() for path in runs):
                lines.append(f"| {demo.name} | {demo.page} | {demo.title} | missing | | `{demo.command()}` |")
                continue
            size = sum(folder_bytes(path) for path in runs)
            total += size
            steps = " / ".join(f"{Run(path).status().get('step', 0)}" for path in runs)
            folders = ", ".join(path.name for path in runs)
            lines.append(f"| {demo.name} | {demo.page} | {demo.title}; runs {folders} | {steps} | "
                         f"{size / 1024:.0f} KB | `{demo.command()}` |")
            continue
        if not store.exists(demo.name):
            lines.append(f"| {demo.name} | {demo.page} | {demo.title} | missing | | `{demo.command()}` |")
            continue
        run = store.open(demo.name)
        size = folder_bytes(run.path)
        total += size
        step = run.status().get("step", 0)
        lines.append(f"| {demo.name} | {demo.page} | {demo.title} | {step} | {size / 1024:.0f} KB | `{demo.command()}` |")
    lines += ["", f"Total: {total / 1024 / 1024:.2f} MB (limit {MAX_TOTAL_BYTES / 1024 / 1024:.0f} MB).", ""]
    path = root_path / "README.md"
    root_path.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def regenerate(names: list[str] | None = None, *, force: bool = False, root: str | os.PathLike | None = None,
               device: str = "cpu", threads: int | None = 1, log=None) -> list[str]:
    """Train the demos that are missing, broken, stale or trained with older code (all of ``names``
    with ``force``);
    returns the names trained. Writes ``demos/README.md`` and checks the size limit."""
    log = log or _stderr_log
    chosen = [spec(n) for n in names] if names else list(DEMO_SPECS)
    trained = []
    for demo in chosen:
        state = "forced" if force else demo_state(demo, root)
        if state == "ok":
            log(f"[{demo.name}] up to date")
            continue
        log(f"[{demo.name}] {state}: training")
        if isinstance(demo, RaceDemoSpec):
            build_race_demo(demo, root, device=device, threads=threads, log=log)
        else:
            build_demo(demo, root, device=device, threads=threads, log=log)
        trained.append(demo.name)
    _INDEX_CACHE.clear()
    write_index(root)
    total = folder_bytes(Path(root) if root is not None else demo_dir())
    if total > MAX_TOTAL_BYTES:
        log(f"warning: demos take {total / 2**20:.2f} MB, more than the {MAX_TOTAL_BYTES / 2**20:.0f} MB limit")
    return trained
