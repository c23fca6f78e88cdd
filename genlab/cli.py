"""Command line interface: ``python -m genlab {train,eval,sample,reconstruct,encode,runs,demos,replay}``.

::

    python -m genlab train MODEL --dataset NAME --out RUN_DIR [--epochs N | --steps N]
                           [--latent-dim K] [--seed S] [--device auto|cpu|cuda|mps] [model options]
    python -m genlab eval RUN_DIR                       # prints one JSON object of metrics
    python -m genlab sample RUN_DIR --n N --out F.npy [--label Y] [--seed S]
    python -m genlab reconstruct RUN_DIR --input F.npy --out G.npy
    python -m genlab encode RUN_DIR --input F.npy --out Z.npy   # latent means, (N, K)
    python -m genlab runs [--root DIR]                  # lists runs
    python -m genlab demos [--only NAME ...] [--force] [--list] [--check]   # shipped demo runs (genlab.demos)
    python -m genlab replay RUN_DIR --out F.gif [--fps N] [--every K]   # a run's history as a GIF (genlab.replay)

``RUN_DIR`` is a run folder: its parent is the run store root and its name the run name (letters,
digits, ``- _ .``). Training prints progress to stderr; Ctrl-C stops after the current step and
saves a checkpoint (a second Ctrl-C aborts at once, keeping the last periodic checkpoint).
Running ``train`` again with the same ``--out`` resumes the run: the stored configuration is
used, ``--steps``/``--epochs`` set the new total, and any other option given must match the run.

Arrays are float32 ``.npy`` files (read with ``allow_pickle=False``): images ``(N, C, H, W)`` in
[0, 1] (``--input`` also accepts ``(N, C*H*W)``), 2D points ``(N, 2)`` in data coordinates.

Exit status: 0 ok; 2 bad input or a problem of the machine the user can fix (a full disk, a file
that may not be written, a JSON file nested too deeply: one line on stderr saying what is wrong and
what to do); 1 an unexpected error (one line; ``GENLAB_DEBUG=1`` prints the traceback); 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import signal
import sys
import time
import warnings
from pathlib import Path

from genlab.errors import GenlabError, check_number
from genlab.safe_json import MAX_JSON_DEPTH

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_SAMPLES = 100_000
MAX_INPUT_ROWS = 1_000_000
MODELS = ("ae", "vae", "gan", "dcgan", "cgan", "tgan")  # = genlab.train.registry.MODELS (kept import-free)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (exit 2) instead of usage + message."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise GenlabError(f"{self.prog}: {message} (see {self.prog} --help)")


def _add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                        help="auto picks cuda, then mps, then cpu (default: auto)")
    parser.add_argument("--data-dir", default=None, help="folder with downloaded data sets (or GENLAB_DATA_DIR)")


# The train command's model options: (flag, type, help). Their ranges, choices and defaults are
# the config dataclass fields' they set (genlab.train.registry.option_field), added to the help.
_TRAIN_OPTIONS = {
    "shared model options": (
        ("--lr", float, "learning rate (gan: both networks)"), ("--batch-size", int, "examples per step")),
    "ae / vae options": (
        ("--beta", float, "KL weight (vae)"), ("--mc-samples", int, "samples of z per example (vae)"),
        ("--arch", str, "network"),
        ("--decoder", str, "likelihood p(x|z) of the decoder (gaussian: fixed sigma 0.15)")),
    "gan / dcgan / cgan / tgan options": (
        ("--lr-d", float, "discriminator learning rate"), ("--lr-g", float, "generator learning rate"),
        ("--k-disc", int, "discriminator steps per generator step"), ("--loss", str, "GAN loss"),
        ("--optimizer", str, "both networks' optimizer"), ("--optimizer-d", str, "discriminator optimizer"),
        ("--optimizer-g", str, "generator optimizer"), ("--disc", str, "discriminator (patch: PatchGAN)"),
        ("--noise-dim", int, "generator noise size"), ("--preset", str, "settings preset")),
}


def _add_train_parser(commands, limits: bool = True) -> None:
    """The ``train`` command and its options (model options grouped by model family); ``limits``:
    each option's help lists its allowed values and defaults (this imports the models)."""
    train = commands.add_parser(
        "train", help="train a model into a run folder (resumes an existing one)",
        description="Train MODEL; defaults are each model's benchmark settings.",
        epilog="Progress goes to stderr. Ctrl-C stops after the current step and saves a checkpoint; "
               "running train again with the same --out resumes (the stored settings are used, "
               "--steps/--epochs set the new total, other options given must match the run).",
    )
    if limits:
        from genlab.train.registry import describe_option

    def described(flag: str, text: str) -> str:
        return f"{text} ({describe_option(flag[2:].replace('-', '_'))})".replace("%", "%%") if limits else text

    train.add_argument("model", metavar="MODEL", help=f"one of: {', '.join(MODELS)}")
    train.add_argument("--dataset", default=None,
                       help="digits (default for image models), mnist, fashion-mnist; gan: ring8 (default), "
                            "grid25, two-moons, spiral, two-gaussians")
    train.add_argument("--out", required=True, metavar="RUN_DIR", help="run folder; its parent is the run store")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, default=None, help=described("--epochs", "epochs (sets the total number of steps)"))
    length.add_argument("--steps", type=int, default=None, help=described("--steps", "total training steps"))
    train.add_argument("--latent-dim", type=int, default=None, help=described("--latent-dim", "latent size K (gan models: noise size)"))
    train.add_argument("--seed", type=int, default=None, help=described("--seed", "random seed"))
    _add_device(train)
    train.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints (default 500)")
    train.add_argument("--quiet", action="store_true", help="no progress lines")
    for title, flags in _TRAIN_OPTIONS.items():
        group = train.add_argument_group(title)
        for flag, kind, text in flags:
            group.add_argument(flag, type=kind, default=None, help=described(flag, text))
    group.add_argument("--points", default=None, metavar="CSV", help="gan: train on your own points (columns x,y)")


def build_parser(limits: bool = True) -> argparse.ArgumentParser:
    """The CLI's argument parser: one sub-command per entry of COMMANDS (``limits``: the train
    options' help lists their ranges, which imports the models; main() asks for it for train only)."""
    parser = _Parser(prog="python -m genlab", description="genlab: train and use small generative models.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    _add_train_parser(commands, limits)

    evaluate = commands.add_parser("eval", help="print one JSON object of metrics")
    evaluate.add_argument("run_dir", metavar="RUN_DIR")
    _add_device(evaluate)

    sample = commands.add_parser("sample", help="draw samples into a .npy file")
    sample.add_argument("run_dir", metavar="RUN_DIR")
    sample.add_argument("--n", type=int, required=True, help=f"number of samples, 1 to {MAX_SAMPLES}")
    sample.add_argument("--out", required=True, metavar="F.npy")
    sample.add_argument("--label", type=int, default=None, help="class label (cgan only)")
    sample.add_argument("--seed", type=int, default=0)
    _add_device(sample)

    for name, text in (("reconstruct", "reconstruct images (ae/vae)"), ("encode", "latent means (N, K) (ae/vae)")):
        command = commands.add_parser(name, help=text)
        command.add_argument("run_dir", metavar="RUN_DIR")
        command.add_argument("--input", required=True, metavar="F.npy", help="images (N, C, H, W) or (N, C*H*W) in [0, 1]")
        command.add_argument("--out", required=True, metavar="G.npy")
        _add_device(command)

    listing = commands.add_parser("runs", help="list the runs in a run store")
    listing.add_argument("--root", default=None, help="run store folder (default: GENLAB_RUNS_DIR or ./runs)")

    demos = commands.add_parser(
        "demos", help="(re)train the shipped demo runs (demos/) with the pages' default settings",
        description="Train the shipped demo runs that are missing or out of date (their settings differ from "
                    "what the current code gives the same options, or the model changed since they were trained: "
                    "another recipe version or other network shapes) with `python -m genlab train`, then slim them (float16 weights, no optimizer "
                    "state, thinned metrics) for the repository.",
    )
    demos.add_argument("--only", nargs="+", default=None, metavar="NAME", help="only these demos")
    demos.add_argument("--force", action="store_true", help="retrain even if up to date")
    demos.add_argument("--list", action="store_true", help="list the demos and whether they are up to date")
    demos.add_argument("--check", action="store_true", help="exit 1 if a demo is missing or out of date")
    demos.add_argument("--root", default=None, help="demo folder (default: GENLAB_DEMOS_DIR or the repository's demos/)")
    demos.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda", "mps"),
                       help="device to train on (default: cpu, reproducible)")
    demos.add_argument("--threads", type=int, default=1,
                       help="torch CPU threads while training (default 1: fastest on a busy machine)")
    from genlab.replay import add_replay_parser   # replay RUN_DIR --out F.gif [--fps N] [--every K]
    add_replay_parser(commands)
    return parser


# --------------------------------------------------------------------------- helpers


def _printable(text) -> str:
    """``text`` with control and format characters (a run's or a file's text may carry terminal
    escape sequences or right-to-left overrides) shown as Python escapes, e.g. ``\\x1b``."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(text))


def _err(message: str) -> None:
    print(_printable(" ".join(str(message).split())), file=sys.stderr, flush=True)


def _split_run_dir(path_text: str, flag: str = "RUN_DIR"):
    """``runs/vae1`` -> (RunStore('runs'), 'vae1'), validating the name and refusing ``..``."""
    from genlab.runs import RunStore, validate_run_name

    if not path_text or not path_text.strip():
        raise GenlabError(f"{flag} is empty; give a run folder such as runs/my-run")
    path = Path(path_text)
    if ".." in path.parts:
        raise GenlabError(f"{flag} {path_text!r} contains '..'; give the run folder without '..' (e.g. runs/my-run)")
    try:
        validate_run_name(path.name)
    except GenlabError as err:
        raise GenlabError(f"{flag} {path_text!r}: {err}") from None
    return RunStore(path.parent), path.name


def _open_run(path_text: str):
    store, name = _split_run_dir(path_text)
    if not (store.root / name).is_dir():
        raise GenlabError(f"run folder {path_text!r} does not exist; train one with `python -m genlab train ... --out {path_text}`")
    return store.open(name)


def _load_trainer(args):
    from genlab.device import resolve_device
    from genlab.train.recording import load_trainer

    run = _open_run(args.run_dir)
    device = resolve_device(args.device)
    return run, load_trainer(run, device=device, data_dir=args.data_dir)


def _out_path(text: str) -> Path:
    path = Path(text)
    if path.suffix != ".npy":
        raise GenlabError(f"--out {text!r} must be a .npy file name, e.g. samples.npy")
    if not path.parent.is_dir():
        raise GenlabError(f"the folder of --out {text!r} does not exist; create {path.parent} first")
    return path


def _save_npy(path: Path, array) -> None:
    import numpy as np

    from genlab.atomic_file import atomic_write

    def write(tmp: str) -> None:
        with open(tmp, "wb") as handle:   # a file object: np.save would add ".npy" to a name
            np.save(handle, np.ascontiguousarray(np.asarray(array, dtype=np.float32)), allow_pickle=False)

    atomic_write(path, write, mode=0o644)


def _load_images(text: str, image_shape: tuple[int, int, int]):
    """Read ``--input``: float images (N, C, H, W) or (N, C*H*W) in [0, 1] -> float32 (N, C, H, W)."""
    import numpy as np

    path = Path(text)
    if not path.is_file():
        raise GenlabError(f"--input {text!r} does not exist; give a .npy file of images")
    with open(path, "rb") as handle:
        if handle.read(6) != b"\x93NUMPY":
            raise GenlabError(f"--input {text!r} is not a valid .npy file; save the images with numpy.save")
    try:
        array = np.load(path, allow_pickle=False, mmap_mode="r")
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise GenlabError(f"--input {text!r} holds Python objects; only numeric .npy arrays are allowed") from None
        raise GenlabError(f"--input {text!r} is not a valid .npy file ({err})") from None
    except (OSError, EOFError) as err:
        raise GenlabError(f"--input {text!r} is not a readable .npy file ({type(err).__name__}); save it with numpy.save") from None
    if not isinstance(array, np.ndarray):
        raise GenlabError(f"--input {text!r} must be a .npy array, not an .npz archive")
    c, h, w = image_shape
    expected = f"(N, {c}, {h}, {w}) or (N, {c * h * w})"
    if array.dtype.kind not in "fiub" or array.dtype.kind == "b":
        raise GenlabError(f"--input must hold numbers (float32 images {expected} in [0, 1]); got dtype {array.dtype}")
    if array.ndim == 2 and array.shape[1] == c * h * w:
        array = array.reshape(-1, c, h, w)
    if array.ndim != 4 or tuple(array.shape[1:]) != (c, h, w):
        raise GenlabError(f"--input has shape {tuple(array.shape)}; this run needs images {expected}")
    if not 1 <= array.shape[0] <= MAX_INPUT_ROWS:
        raise GenlabError(f"--input has {array.shape[0]} images; allowed: 1 to {MAX_INPUT_ROWS}")
    array = np.asarray(array, dtype=np.float32)
    if not np.isfinite(array).all():
        raise GenlabError("--input contains NaN or infinity; pixel values must be finite numbers in [0, 1]")
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise GenlabError(f"--input values lie in [{low:g}, {high:g}]; pixel values must lie in [0, 1] (divide by 255?)")
    return array


def _jsonable_metrics(metrics: dict) -> dict:
    out = {}
    for key, value in metrics.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        out[str(key)] = value
    return out


class _Progress:
    """Progress lines on stderr: step, a few losses, steps/s (about every 2 s and at the end)."""

    def __init__(self, target: int, quiet: bool = False, every_s: float = 2.0):
        self.target, self.quiet, self.every_s = target, quiet, every_s
        self.start = time.monotonic()
        self.last_time = self.start
        self.last_step: int | None = None
        self.first_step: int | None = None

    def __call__(self, row: dict) -> None:
        step = int(row["step"])
        if self.first_step is None:
            self.first_step = step - 1
        now = time.monotonic()
        if self.quiet or (now - self.last_time < self.every_s and step < self.target and step != self.first_step + 1):
            return
        rate = (step - self.first_step) / max(now - self.start, 1e-9)
        parts = [f"step {step}/{self.target}"]
        shown = 0
        for key, value in row.items():
            if key in ("step", "wall_time", "changed", "epoch") or key.startswith("kl_dim_"):
                continue
            if isinstance(value, (int, float)) and math.isfinite(value) and shown < 6:
                parts.append(f"{key} {value:.4g}")
                shown += 1
        parts.append(f"{rate:.1f} steps/s")
        print("  ".join(parts), file=sys.stderr, flush=True)
        self.last_time = now


# --------------------------------------------------------------------------- commands


TRAIN_OPTION_NAMES = ("epochs", "steps", "latent_dim", "seed", "lr", "batch_size", "beta", "mc_samples", "arch",
                      "decoder", "lr_d", "lr_g", "k_disc", "loss", "optimizer", "optimizer_d", "optimizer_g", "disc",
                      "noise_dim", "preset", "points")


def cmd_train(args) -> int:
    from genlab.device import resolve_device, seed_everything
    from genlab.train.recording import train_run
    from genlab.train import registry

    registry.check_model(args.model)
    options = {name: getattr(args, name) for name in TRAIN_OPTION_NAMES if getattr(args, name) is not None}
    if args.points is not None and args.dataset is not None:
        raise GenlabError("give either --dataset or --points (your own 2D points), not both")
    dataset = registry.POINTS_DATASET if args.points is not None else (
        args.dataset or ("ring8" if args.model == "gan" else "digits"))
    device = resolve_device(args.device)
    check_number("--checkpoint-every", args.checkpoint_every, lo=1, hi=registry.MAX_STEPS, integer=True)
    store, name = _split_run_dir(args.out, "--out")
    checked = registry.validate_options(args.model, dataset, options)  # fast errors before loading data
    seed_everything(checked.get("seed", 0))

    if store.exists(name):
        run = store.open(name)
        current = run.status()
        if current.get("status") == "running":
            raise GenlabError(f"run {name!r} is being trained right now (process {current.get('pid')}); "
                              "wait for it to finish or stop it (Ctrl-C) first")
        trainer, target = _resume_trainer(run, args.model, args.dataset, options, device, args.data_dir)
        if not args.quiet:
            where = f"step {current.get('step', 0)}" if run.has_checkpoint() else "the start (no checkpoint yet)"
            print(f"resuming run {run.path} from {where}", file=sys.stderr, flush=True)
    else:
        trainer = registry.build_trainer(args.model, dataset, options, device=device, data_dir=args.data_dir)
        target = registry.target_steps(trainer, options)
        run = store.create(name, trainer.config_dict())

    stop = {"requested": False}

    def on_sigint(signum, frame):
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        print("stopping after this step (Ctrl-C again to abort)...", file=sys.stderr, flush=True)

    progress = _Progress(target, quiet=args.quiet)
    previous = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not in the main thread (e.g. called from a test thread)
        previous = None
    try:
        status = train_run(trainer, run, target, should_stop=lambda: stop["requested"],
                           checkpoint_every=args.checkpoint_every, on_row=progress)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if status == "stopped":
        _err(f"stopped at step {trainer.step_count}/{target}; checkpoint saved in {run.path}; "
             f"run the same command again to resume")
        return EXIT_INTERRUPTED
    if not args.quiet:
        print(f"finished {trainer.step_count} steps in {trainer.elapsed_seconds:.1f} s -> {run.path}",
              file=sys.stderr, flush=True)
    return EXIT_OK


def _resume_trainer(run, model: str, dataset: str | None, options: dict, device, data_dir):
    """Rebuild an existing run's trainer to train on; the options given must agree with its
    config, except the run length (``--steps`` / ``--epochs``), which may grow."""
    from genlab.runs import canonical_config_json
    from genlab.train import registry
    from genlab.train.recording import check_model_fits

    config = check_model_fits(run)   # the server's cap on model size, as for every stored run loaded
    if config.get("model") != model:
        raise GenlabError(f"run {run.name!r} is a {config.get('model')} run, not {model}; use a new --out")
    if dataset is not None and config.get("dataset") != dataset:
        raise GenlabError(f"run {run.name!r} was trained on {config.get('dataset')}, not {dataset}; use a new --out")
    length = {k: v for k, v in options.items() if k in ("steps", "epochs")}
    others = {k: v for k, v in options.items() if k not in length}
    applied = registry.apply_options(config, others)
    for section in ("model_config", "train_config", "points"):
        old, new = config.get(section), applied.get(section)
        if canonical_config_json({"v": old}) == canonical_config_json({"v": new}):
            continue
        if section == "points":
            raise GenlabError(f"run {run.name!r} was trained on other points; use a new --out")
        for key in sorted(set(old or {}) | set(new or {})):
            before, after = (old or {}).get(key), (new or {}).get(key)
            if canonical_config_json({"v": before}) != canonical_config_json({"v": after}):
                raise GenlabError(
                    f"run {run.name!r} exists with {key}={before!r}, but {key}={after!r} was given; "
                    f"use a new --out, or leave the option out to resume"
                )
    updated = registry.apply_options(config, length) if length else config
    trainer = registry.trainer_class(model).from_config(updated, device=device, data_dir=data_dir)
    if canonical_config_json(trainer.config_dict()) != canonical_config_json(config):
        run.write_config(trainer.config_dict())  # a longer run: new --epochs / --steps recorded
    return trainer, registry.target_steps(trainer, options)


def cmd_eval(args) -> int:
    run, trainer = _load_trainer(args)
    metrics = dict(trainer.evaluate())
    status = run.status()
    result = {
        "run": run.name,
        "model": run.config.get("model"),
        "dataset": run.config.get("dataset"),
        "step": trainer.step_count,
        "status": status.get("status"),
        "train_seconds": round(float(trainer.elapsed_seconds), 3),
        **metrics,
    }
    print(json.dumps(_jsonable_metrics(result), sort_keys=False))
    return EXIT_OK


def cmd_sample(args) -> int:
    import torch

    check_number("--n", args.n, lo=1, hi=MAX_SAMPLES, integer=True)
    check_number("--seed", args.seed, lo=0, hi=2**63 - 1, integer=True)
    out = _out_path(args.out)
    model = _open_run(args.run_dir).config.get("model")
    if args.label is not None and model != "cgan":
        raise GenlabError(f"--label is only for cgan runs; this run is a {model} (leave --label out)")
    run, trainer = _load_trainer(args)
    labels = None
    if args.label is not None:
        classes = int(getattr(trainer, "num_classes", 10))
        if not 0 <= args.label < classes:
            raise GenlabError(f"--label must be a class from 0 to {classes - 1} (got {args.label})")
        labels = torch.full((args.n,), args.label, dtype=torch.long)
    with torch.no_grad():
        samples = trainer.sample(args.n, seed=args.seed, labels=labels)
    _save_npy(out, samples.detach().cpu().numpy())
    return EXIT_OK


def _autoencoder_command(args, what: str) -> int:
    import torch

    out = _out_path(args.out)
    model = _open_run(args.run_dir).config.get("model")
    if model not in ("ae", "vae"):
        raise GenlabError(f"{what} works on ae and vae runs; this run is a {model}")
    run, trainer = _load_trainer(args)
    image_shape = tuple(trainer.model_config.image_shape)
    images = torch.from_numpy(_load_images(args.input, image_shape))
    with torch.no_grad():
        result = trainer.encode(images) if what == "encode" else trainer.reconstruct(images)
    _save_npy(out, result.detach().cpu().numpy())
    return EXIT_OK


def cmd_runs(args) -> int:
    from genlab.runs import RunStore

    store = RunStore(args.root)
    if args.root is not None and not Path(args.root).is_dir():
        raise GenlabError(f"--root {args.root!r} is not a folder")
    infos = store.list()
    if not infos:
        print(f"no runs in {store.root}")
        return EXIT_OK
    header = ("NAME", "STATUS", "MODEL", "DATASET", "STEP", "UPDATED")
    rows = [tuple(_printable(v) for v in (i.name, i.status, i.model, i.dataset, str(i.step), i.updated))
            for i in infos]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return EXIT_OK


def cmd_demos(args) -> int:
    from genlab import demos

    names = args.only
    for name in names or ():
        demos.spec(name)  # unknown name: one-line error listing the demos
    if args.threads is not None:
        check_number("--threads", args.threads, lo=1, hi=256, integer=True)
    chosen = [demos.spec(n) for n in names] if names else list(demos.DEMO_SPECS)
    if args.list or args.check:
        store = demos.demo_store(args.root)
        bad = []
        for demo in chosen:
            state = demos.demo_state(demo, args.root)
            if state != "ok":
                bad.append(demo.name)
            # a race demo is two run folders (one per model): their sizes add up, steps listed per model
            folders = demo.run_names() if isinstance(demo, demos.RaceDemoSpec) else [demo.name]
            present = [name for name in folders if store.exists(name)]
            size = sum(demos.folder_bytes(store.root / name) for name in present)
            step = "+".join(str(store.open(name).status().get("step", 0)) for name in present) or "0"
            print(f"{demo.name:<20} {state:<12} {step:>9} steps {size / 1024:>7.0f} KB  {demo.page}")
        total = demos.folder_bytes(store.root) if store.root.is_dir() else 0
        print(f"total {total / 2**20:.2f} MB in {store.root}")
        if args.check and bad:
            _err(f"demos missing or out of date: {', '.join(bad)}; run `python -m genlab demos`")
            return EXIT_ERROR
        return EXIT_OK
    demos.regenerate(names, force=args.force, root=args.root, device=args.device, threads=args.threads)
    return EXIT_OK


COMMANDS = {
    "train": cmd_train,
    "eval": cmd_eval,
    "sample": cmd_sample,
    "reconstruct": lambda args: _autoencoder_command(args, "reconstruct"),
    "encode": lambda args: _autoencoder_command(args, "encode"),
    "runs": cmd_runs,
    "demos": cmd_demos,
    "replay": lambda args: args.replay_command(args),   # genlab.replay.cmd_replay
}


def _os_error_message(err: OSError) -> str | None:
    """A plain message (what happened, what to do) for file-system errors the user can fix:
    a full disk or quota, no permission, a read-only file system; None for the others."""
    where = f" ({err.filename})" if err.filename else ""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"the disk is full{where}: nothing more could be written. Free some space (or write to "
                "another disk) and run the command again; a training run keeps its last checkpoint")
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"not allowed to write or read{where}: {err.strerror}. Use a folder of your own "
                "(e.g. --out runs/NAME, --data-dir ~/data)")
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (never raises, except SystemExit from --help)."""
    debug = os.environ.get("GENLAB_DEBUG", "") not in ("", "0", "false", "no")
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.simplefilter("ignore")  # keep stderr to progress lines and one-line errors
            argv = sys.argv[1:] if argv is None else argv
            args = build_parser(limits=argv[:1] == ["train"]).parse_args(argv)
            return COMMANDS[args.command](args)
    except GenlabError as err:
        _err(f"error: {err}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _err("interrupted; the last periodic checkpoint is kept; run the same command again to resume")
        return EXIT_INTERRUPTED
    except MemoryError:
        _err("error: out of memory; try a smaller --batch-size, --n or input file")
        return EXIT_ERROR
    except RecursionError:
        # genlab reads JSON through genlab.safe_json (bounded depth); this is the net under it
        _err(f"error: a file read by this command is nested too deeply to read (JSON may be at most "
             f"{MAX_JSON_DEPTH} levels deep); check the run's config.json and status.json")
        return EXIT_USAGE
    except Exception as err:  # noqa: BLE001 - one line for users, the traceback on request
        message = _os_error_message(err) if isinstance(err, OSError) else None
        if message is not None:
            _err(f"error: {message}")
            return EXIT_USAGE
        if debug:
            import traceback

            traceback.print_exc()
        text = str(err).splitlines()[0] if str(err) else ""
        _err(f"internal error: {type(err).__name__}{': ' + text if text else ''} (set GENLAB_DEBUG=1 for the traceback)")
        return EXIT_ERROR
