"""The equal-time race: several GAN trainers trained side by side for the same training time.

:func:`train_equal_time` trains the trainers with :func:`~genlab.train.base.fit_group` so that each has
spent the same wall time inside ``step()`` -- the fair way to compare the transformer GAN with DCGAN on
a CPU, where one step of each costs a different amount of time. :class:`EqualTimeRace` adds the
evaluations and the snapshot the Transformer GAN page draws; :func:`save_race` / :func:`load_race` keep
a race as runs ``race-<key>-<model>`` of a :class:`~genlab.runs.RunStore` (the page's runs and the
shipped demo). ``python -m genlab.train.race speed|train ...`` prints the numbers of the bench notes.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Callable, Mapping, Sequence

import torch

from genlab.errors import GenlabError, check_number
from genlab.runs import canonical_config_json
from genlab.train.recording import load_trainer, save_samples
from genlab.train.base import Callback, fit_group, least_training_time
from genlab.train.callbacks import PerTrainer
from genlab.train.gan import GANTrainer, gan_configs
from genlab.train.registry import trainer_class
from genlab.train.transformer_gan import MODEL_NAME, TransformerGANTrainer, tgan_configs


def train_equal_time(trainers: Mapping[str, object], seconds: float, *,
                     should_stop: Callable[[], bool] = lambda: False,
                     on_step: Callable[[str, object, dict], None] | None = None,
                     max_steps: int | None = None, callbacks: Sequence[Callback] = ()) -> dict[str, int]:
    """Train every trainer until each has spent ``seconds`` inside ``step()``: :func:`fit_group`
    with the :func:`least_training_time` turn policy (at every turn the trainer with the least
    training time steps, so the models alternate in the same process, under the same load).
    ``on_step(name, trainer, row)`` is called after every step; ``should_stop()`` before every step;
    ``max_steps`` caps each trainer's step count; ``callbacks`` are more fit callbacks (e.g. a
    :class:`~genlab.train.callbacks.PerTrainer` recording each model's history). Returns ``name -> steps taken``.
    """
    if not trainers:
        raise GenlabError("train_equal_time needs at least one trainer")
    seconds = check_number("seconds", seconds, lo=0, lo_open=True)
    start = {name: t.step_count for name, t in trainers.items()}

    def done(trainer) -> bool:
        return trainer.elapsed_seconds >= seconds or (max_steps is not None and trainer.step_count >= max_steps)

    callbacks = list(callbacks) + ([_NamedStepCallback(trainers, on_step)] if on_step is not None else [])
    fit_group(trainers, done, callbacks=callbacks, should_stop=should_stop, turn=least_training_time)
    return {name: t.step_count - start[name] for name, t in trainers.items()}


class _NamedStepCallback(Callback):
    """Calls ``on_step(name, trainer, row)`` after each step of a group of named trainers."""

    def __init__(self, trainers: Mapping[str, object], on_step: Callable[[str, object, dict], None]):
        self.names = {id(trainer): name for name, trainer in trainers.items()}
        self.on_step = on_step

    def on_step_end(self, trainer, row: dict) -> None:
        self.on_step(self.names[id(trainer)], trainer, row)


def _project_schedule(trainer, seconds: float) -> None:
    """Make a trainer's linear learning-rate decay follow training *time*: its ``default_steps``
    becomes the step count it will have reached after ``seconds`` at its speed so far, so
    ``step_count / default_steps`` = ``elapsed_seconds / seconds`` (GANTrainer.lr_factor)."""
    if trainer.step_count > 0 and trainer.elapsed_seconds > 0:
        trainer.default_steps = max(1, int(round(trainer.step_count * seconds / trainer.elapsed_seconds)))


class EqualTimeRace:
    """Two (or more) GAN trainers trained for the same wall time, side by side (the page's race).

    * :meth:`run` alternates the trainers with :func:`train_equal_time` until each has spent
      ``seconds`` inside ``step()``; with ``time_schedule`` the linear learning-rate decay follows the
      training time (each trainer's decay ends when its time is up, whatever its speed).
    * Every ``eval_every_s`` seconds of training time each trainer is evaluated
      (``trainer.evaluate()``: classifier Fréchet distance of 360 samples to the test split), at the
      same training time for all of them; ``evals[name]`` holds ``seconds, steps, frechet_distance``.
    * :meth:`snapshot` is what a page draws: steps, speed, samples from fixed noise, the evaluations.
    * Each trainer's timeline (fixed-noise sample grid + metrics) is recorded at the same training
      times (:class:`~genlab.train.race_history.TimedRecordHistory`, one per trainer through a
      :class:`~genlab.train.callbacks.PerTrainer` fit callback); :meth:`histories` returns them.
    """

    def __init__(self, trainers: Mapping[str, object], seconds: float, *, eval_every_s: float | None = None,
                 time_schedule: bool = True, sample_n: int = 32, sample_seed: int = 0):
        if not trainers:
            raise GenlabError("a race needs at least one trainer")
        seconds = check_number("the training time in seconds", seconds, lo=0, lo_open=True)
        self.trainers = dict(trainers)
        self.seconds = seconds
        self.eval_every_s = float(eval_every_s) if eval_every_s else max(seconds / 8, 1.0)
        self.time_schedule = bool(time_schedule)
        self.sample_n, self.sample_seed = int(sample_n), int(sample_seed)
        self.evals: dict[str, dict[str, list]] = {name: {"seconds": [], "steps": [], "frechet_distance": []}
                                                   for name in self.trainers}
        self.rows: dict[str, list[dict]] = {name: [] for name in self.trainers}
        self._next_eval = self.eval_every_s   # training time of the next evaluation
        from genlab.train.race_history import TimedRecordHistory

        self.recorders = {name: TimedRecordHistory(seconds) for name in self.trainers}
        self.loaded_histories: dict | None = None     # a stored race's (load_race)
        self.history_problem = ""                     # why a stored race has no timeline ("" if it has)

    @property
    def training_seconds(self) -> float:
        """The training time every trainer has reached (the slowest one's)."""
        return min(t.elapsed_seconds for t in self.trainers.values())

    @property
    def done(self) -> bool:
        return self.training_seconds >= self.seconds

    def evaluate(self) -> None:
        for name, trainer in self.trainers.items():
            ev = self.evals[name]
            if ev["steps"] and ev["steps"][-1] == trainer.step_count:
                continue
            ev["seconds"].append(round(float(min(trainer.elapsed_seconds, self.seconds)), 3))
            ev["steps"].append(int(trainer.step_count))
            ev["frechet_distance"].append(float(trainer.evaluate().get("frechet_distance", float("nan"))))

    def run(self, should_stop: Callable[[], bool] = lambda: False,
            on_progress: Callable[["EqualTimeRace"], None] | None = None, progress_every_s: float = 0.5) -> str:
        """Train to the time budget (evaluating on the way); returns ``finished`` or ``stopped``.
        ``on_progress(race)`` is called at most every ``progress_every_s`` seconds of wall time."""
        import time

        last = [time.monotonic()]

        def on_step(name, trainer, row) -> None:
            self.rows[name].append(row)
            now = time.monotonic()
            if on_progress is not None and now - last[0] >= progress_every_s:
                last[0] = now
                on_progress(self)

        while True:
            target = min(self._next_eval, self.seconds)
            stopped = [False]

            def gate() -> bool:
                if should_stop():
                    stopped[0] = True
                    return True
                if self.time_schedule:
                    for trainer in self.trainers.values():
                        if getattr(trainer.train_config, "lr_decay", "none") != "none":
                            _project_schedule(trainer, self.seconds)
                return False

            recording = PerTrainer({id(t): self.recorders[name] for name, t in self.trainers.items()})
            train_equal_time(self.trainers, target, should_stop=gate, on_step=on_step, callbacks=[recording])
            if stopped[0]:
                return "stopped"
            self.evaluate()
            if on_progress is not None:
                on_progress(self)
            if target >= self.seconds:
                return "finished"
            self._next_eval = target + self.eval_every_s

    def histories(self) -> dict:
        """name -> the model's recorded History (None where it has none): a stored race's as loaded,
        else what this race recorded so far."""
        if self.loaded_histories is not None:
            return dict(self.loaded_histories)
        return {name: recorder.history for name, recorder in self.recorders.items()}

    def snapshot(self) -> dict:
        """``{"seconds": budget, "training_seconds", "done", "models": {name: {step, seconds,
        steps_per_s, samples (n, 1, S, S), frechet_distance}}, "evals": {...}}``."""
        models = {}
        for name, trainer in self.trainers.items():
            samples = trainer.sample(self.sample_n, seed=self.sample_seed).numpy()
            fd = self.evals[name]["frechet_distance"]
            models[name] = {
                "step": int(trainer.step_count),
                "seconds": float(trainer.elapsed_seconds),
                "steps_per_s": float(trainer.step_count / trainer.elapsed_seconds) if trainer.elapsed_seconds else float("nan"),
                "samples": samples,
                "frechet_distance": fd[-1] if fd else float("nan"),
            }
        return {"seconds": self.seconds, "training_seconds": self.training_seconds, "done": self.done,
                "models": models, "evals": {k: {kk: list(vv) for kk, vv in v.items()} for k, v in self.evals.items()}}


def race_key(configs: Mapping[str, dict], seconds: float) -> str:
    """Hash naming a race: the trainers' configs and the time budget."""
    import hashlib
    import json


    text = json.dumps({"configs": {k: canonical_config_json(v) for k, v in sorted(configs.items())},
                       "seconds": round(float(seconds), 3)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def race_run_name(key: str, name: str) -> str:
    return f"race-{key}-{name}"


def save_race(race: EqualTimeRace, store, key: str, status: str = "finished") -> dict[str, str]:
    """Store every trainer of the race as a run ``race-<key>-<name>`` (config, metrics rows,
    checkpoint, samples.png, history.npz of its timeline; status.json records the race budget and its
    evaluations, so :func:`load_race` can show the race again). Returns ``name -> run name``."""
    from genlab.train.race_history import save_race_histories

    names = {}
    for name, trainer in race.trainers.items():
        run_name = race_run_name(key, name)
        if store.exists(run_name):
            store.delete(run_name)
        run = store.create(run_name, trainer.config_dict())
        for row in race.rows[name]:
            run.append_metrics(row)
        run.save_checkpoint(trainer.state_dict())
        try:
            save_samples(trainer, run)
        except Exception:  # noqa: BLE001 - a preview must not lose the run
            pass
        save_race_histories({name: race.histories().get(name)}, {name: run.path})
        run.set_status(status, step=trainer.step_count, race_seconds=race.seconds, race_key=key,
                       race_evals=race.evals[name])
        names[name] = run_name
    return names


def load_race(store, key: str, names: tuple[str, ...] = ("tgan", "dcgan")) -> EqualTimeRace | None:
    """The stored, finished race ``key`` rebuilt (trainers with their weights, evaluations, the
    models' timelines in ``loaded_histories`` or why not in ``history_problem``), or None."""
    from genlab.train.race_history import load_race_histories

    trainers, evals, runs, seconds = {}, {}, {}, None
    for name in names:
        run_name = race_run_name(key, name)
        if not store.exists(run_name):
            return None
        run = store.open(run_name)
        status = run.status()
        if status.get("status") != "finished" or not run.has_checkpoint():
            return None
        runs[name] = run
        trainers[name] = load_trainer(run)
        evals[name] = status.get("race_evals") or {"seconds": [], "steps": [], "frechet_distance": []}
        seconds = float(status.get("race_seconds") or 0) or seconds
    if seconds is None:
        return None
    race = EqualTimeRace(trainers, seconds)
    race.evals = {k: {kk: list(vv) for kk, vv in v.items()} for k, v in evals.items()}
    race.loaded_histories, race.history_problem = load_race_histories(runs)
    return race


# The Transformer GAN page's default race, in one place: the page's widgets start at these values and
# genlab.demos ships this race (python -m genlab demos), so the two cannot drift apart.
RACE_DEFAULTS: dict = {"patch_size": 4, "dim": 64, "depth": 1, "heads": 4, "seed": 0, "with_dcgan": True}
RACE_DEFAULT_SECONDS = 120       # training time per model
RACE_SAMPLE_N = 32               # samples per model in the race view


def race_eval_every(seconds: float) -> float:
    """Training seconds between the page's evaluations of a race (six points on its curve)."""
    return max(float(seconds) / 6, 2.0)


def new_race(configs: Mapping[str, dict], seconds: float, device="cpu") -> EqualTimeRace:
    """A fresh race as the page runs it: new trainers, ``race_eval_every`` evaluations, ``RACE_SAMPLE_N``
    samples per model."""
    return EqualTimeRace(build_race_trainers(configs, device=device), seconds,
                         eval_every_s=race_eval_every(seconds), sample_n=RACE_SAMPLE_N)


def race_configs(patch_size: int = RACE_DEFAULTS["patch_size"], dim: int = RACE_DEFAULTS["dim"],
                 depth: int = RACE_DEFAULTS["depth"], heads: int = RACE_DEFAULTS["heads"],
                 seed: int = RACE_DEFAULTS["seed"], with_dcgan: bool = RACE_DEFAULTS["with_dcgan"]) -> dict[str, dict]:
    """The full ``config_dict()``s of the page's race (built without loading data): the transformer
    GAN with these settings (``depth`` blocks in G and in D) and, with ``with_dcgan``, DCGAN with
    its benchmark settings and the same seed."""

    model, train = tgan_configs(patch_size=patch_size, dim=dim, depth_g=depth, depth_d=depth, heads=heads, seed=seed)
    model.validate()
    configs = {"tgan": {"model": MODEL_NAME, "dataset": "digits", "model_config": asdict(model),
                        "train_config": asdict(train)}}
    if with_dcgan:
        model, train = gan_configs("dcgan", seed=seed)
        configs["dcgan"] = {"model": "dcgan", "dataset": "digits", "model_config": asdict(model),
                            "train_config": asdict(train)}
    return configs


def build_race_trainers(configs: Mapping[str, dict], device="cpu") -> dict:
    """Fresh trainers for :func:`race_configs` output (name -> trainer, same order)."""

    return {name: trainer_class(config["model"]).from_config(config, device=device) for name, config in configs.items()}


# ====================================================================== benchmark


def measure_speed(trainers: Mapping[str, object], rounds: int = 6, block: int = 5, warmup: int = 3) -> dict[str, dict]:
    """Steps per second of each trainer, measured back to back in this process: ``rounds`` times,
    ``block`` steps of each in turn (so a change in the machine's load hits all of them alike).
    Returns ``name -> {"steps_per_s": wall, "cpu_steps_per_s": process CPU time}``."""
    import time

    for trainer in trainers.values():
        trainer.fit(trainer.step_count + warmup)
    wall = {name: 0.0 for name in trainers}
    cpu = {name: 0.0 for name in trainers}
    for _ in range(int(rounds)):
        for name, trainer in trainers.items():
            w0, c0 = time.perf_counter(), time.process_time()
            trainer.fit(trainer.step_count + int(block))
            wall[name] += time.perf_counter() - w0
            cpu[name] += time.process_time() - c0
    n = int(rounds) * int(block)
    return {name: {"steps_per_s": n / wall[name], "cpu_steps_per_s": n / cpu[name]} for name in trainers}


def _bench_main(argv=None) -> int:
    """``python -m genlab.train.race speed|train ...``: the numbers of the closing note.

    * ``speed``: steps/s of the default DCGAN and the default transformer GAN, back to back.
    * ``train MODEL STEPS [--every N] [--set k=v ...]``: train ``dcgan`` or ``tgan`` with its default
      recipe for STEPS steps (the learning-rate decay ends at STEPS) and print the Fréchet distance
      every N steps as JSON lines.
    """
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m genlab.train.race", description=_bench_main.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("speed", "train"))
    parser.add_argument("model", nargs="?", choices=("dcgan", "tgan"))
    parser.add_argument("steps", nargs="?", type=int)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        try:
            overrides[name] = json.loads(value)
        except ValueError:
            overrides[name] = value

    def build(model: str, steps: int | None = None):
        extra = {"steps": steps} if steps else {}
        if model == "dcgan":
            return GANTrainer("dcgan", "digits", *gan_configs("dcgan", seed=args.seed, **extra))
        return TransformerGANTrainer("digits", *tgan_configs(seed=args.seed, **{**overrides, **extra}))

    if args.command == "speed":
        speeds = measure_speed({"dcgan": build("dcgan"), "tgan": build("tgan")}, rounds=args.rounds)
        speeds["ratio_tgan_to_dcgan"] = {
            "steps_per_s": speeds["tgan"]["steps_per_s"] / speeds["dcgan"]["steps_per_s"],
            "cpu_steps_per_s": speeds["tgan"]["cpu_steps_per_s"] / speeds["dcgan"]["cpu_steps_per_s"]}
        print(json.dumps({"threads": args.threads, "overrides": overrides, **speeds}), flush=True)
        return 0
    if not args.model or not args.steps:
        parser.error("train needs MODEL (dcgan or tgan) and STEPS")
    trainer = build(args.model, args.steps)

    class PrintEvaluations(Callback):
        def on_step_end(self, trainer, row: dict) -> None:
            if trainer.step_count % args.every == 0 or trainer.step_count == args.steps:
                out = {"model": args.model, "overrides": overrides if args.model == "tgan" else {},
                       "step": trainer.step_count, "train_seconds": round(trainer.elapsed_seconds, 1),
                       "steps_per_s": round(trainer.step_count / trainer.elapsed_seconds, 3),
                       **{k: round(v, 2) for k, v in trainer.evaluate().items()}}
                print(json.dumps(out), flush=True)

    trainer.fit(args.steps, callbacks=[PrintEvaluations()])
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_bench_main())
