"""Background training loops of the GAN pages, and the pure helpers they share.

The pages submit :func:`run_gan2d` / :func:`run_image_gan` to ``genlab.jobs`` (a daemon thread
per job). Nothing here imports or calls streamlit: the thread talks to the page only through the
job's ``publish`` / ``take_commands`` / ``should_stop`` / ``wait_if_paused``.

Speed rules (the live page should train at nearly headless speed):

* the loop publishes a snapshot every ``publish_every_s`` seconds of wall time (default 0.2 s),
  not every step; between publishes it only steps the trainer and adds the row to a
  :class:`MetricHistory` (a few dict operations);
* the expensive views (D(x) on a grid, the generator manifold, gradient arrows, KL/JS, mode
  coverage, Fréchet distance) are computed only at publish time, on small fixed inputs;
* the thread never waits for the page: ``publish`` just swaps the latest snapshot in.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from genlab.errors import GenlabError
from genlab.train.callbacks import Callback, PerTrainer

log = logging.getLogger("genlab.gan_jobs")

__all__ = [
    "MetricHistory",
    "Shape",
    "parse_shapes",
    "shapes_to_text",
    "points_from_shapes",
    "shape_from_selection",
    "check_live_settings",
]

# --------------------------------------------------------------------------- #
# Metric history: bounded, averaged
# --------------------------------------------------------------------------- #


class MetricHistory:
    """Per-step metric rows folded into at most ``max_points`` averaged points per column.

    Each stored point is the mean of ``every`` consecutive steps (its ``step`` is the last step
    of the block). When the history is full, neighbouring points are merged pairwise and
    ``every`` doubles, so memory and chart size stay bounded however long training runs,
    while short runs keep every step.
    """

    def __init__(self, names: Sequence[str], max_points: int = 2000):
        if max_points < 4:
            raise ValueError("max_points must be at least 4")
        self.names = tuple(names)
        self.max_points = int(max_points)
        self.every = 1
        self._cols: dict[str, list[float]] = {name: [] for name in ("step", *self.names)}
        self._sums = {name: 0.0 for name in self.names}
        self._counts = {name: 0 for name in self.names}
        self._pending = 0

    def __len__(self) -> int:
        return len(self._cols["step"])

    def add(self, row: dict) -> None:
        for name in self.names:
            value = row.get(name)
            if value is None:
                continue
            try:
                v = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(v):
                self._sums[name] += v
                self._counts[name] += 1
        self._pending += 1
        if self._pending >= self.every:
            self._flush(row.get("step"))

    def _flush(self, step) -> None:
        if self._pending == 0:
            return
        self._cols["step"].append(float(step) if step is not None else float(len(self)))
        for name in self.names:
            count = self._counts[name]
            self._cols[name].append(self._sums[name] / count if count else float("nan"))
            self._sums[name] = 0.0
            self._counts[name] = 0
        self._pending = 0
        if len(self) > self.max_points:
            self._halve()

    def _halve(self) -> None:
        n = len(self) // 2 * 2
        for name, values in self._cols.items():
            a = np.asarray(values[:n], dtype=float).reshape(-1, 2)
            merged = a[:, 1] if name == "step" else _pair_mean(a)
            self._cols[name] = merged.tolist() + values[n:]
        self.every *= 2

    def arrays(self) -> dict[str, np.ndarray]:
        """Copies of the columns (``step`` and every name) as float arrays."""
        return {name: np.asarray(values, dtype=float) for name, values in self._cols.items()}

    def last(self, name: str) -> float:
        values = self._cols.get(name) or []
        return values[-1] if values else float("nan")


def _pair_mean(a: np.ndarray) -> np.ndarray:
    """Row means of an (n, 2) array ignoring NaN (NaN where both are NaN), without warnings."""
    valid = ~np.isnan(a)
    counts = valid.sum(axis=1)
    sums = np.where(valid, a, 0.0).sum(axis=1)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


# --------------------------------------------------------------------------- #
# Drawn data sets: a list of shapes that fits in the URL
# --------------------------------------------------------------------------- #
MAX_SHAPES = 40
COORD_LIMIT = 50.0


@dataclass(frozen=True)
class Shape:
    """A drawn cluster: ``kind`` "g" = Gaussian blob (x, y, std) or "b" = uniform box (x0, x1, y0, y1)."""

    kind: str
    values: tuple[float, ...]

    def text(self) -> str:
        return self.kind + ":" + ",".join(format(round(v, 3), "g") for v in self.values)


def _check_shape(kind: str, values: Sequence[float]) -> Shape:
    values = tuple(float(v) for v in values)
    if not all(math.isfinite(v) and abs(v) <= COORD_LIMIT for v in values):
        raise GenlabError(f"drawn shapes need finite coordinates within ±{COORD_LIMIT:g}")
    if kind == "g":
        if len(values) != 3:
            raise GenlabError("a blob needs x, y, std")
        if not 0 < values[2] <= 10:
            raise GenlabError("a blob's std must be > 0 and at most 10")
    elif kind == "b":
        if len(values) != 4:
            raise GenlabError("a box needs x0, x1, y0, y1")
        x0, x1, y0, y1 = values
        values = (min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1))
        if values[1] - values[0] < 1e-3 or values[3] - values[2] < 1e-3:
            raise GenlabError("a box must have a width and a height")
    else:
        raise GenlabError(f"unknown shape {kind!r}; allowed: g (blob), b (box)")
    return Shape(kind, values)


def blob(x: float, y: float, std: float = 0.15) -> Shape:
    return _check_shape("g", (x, y, std))


def box(x0: float, x1: float, y0: float, y1: float) -> Shape:
    return _check_shape("b", (x0, x1, y0, y1))


def parse_shapes(text: str | None) -> list[Shape]:
    """Shapes from their URL text ``g:x,y,s;b:x0,x1,y0,y1;...``; GenlabError if unreadable."""
    if not text:
        return []
    shapes = []
    for part in str(text).split(";"):
        part = part.strip()
        if not part:
            continue
        kind, _, numbers = part.partition(":")
        try:
            values = [float(v) for v in numbers.split(",")]
        except ValueError:
            raise GenlabError(f"cannot read the drawn shape {part!r}; expected g:x,y,std or b:x0,x1,y0,y1") from None
        shapes.append(_check_shape(kind.strip(), values))
        if len(shapes) > MAX_SHAPES:
            raise GenlabError(f"at most {MAX_SHAPES} drawn shapes are allowed")
    return shapes


def shapes_to_text(shapes: Iterable[Shape]) -> str:
    return ";".join(s.text() for s in shapes)


def points_from_shapes(shapes: Sequence[Shape], n: int = 2000, seed: int = 0) -> np.ndarray:
    """``n`` points (float32) drawn from the shapes, an equal share for each."""
    if not shapes:
        raise GenlabError("nothing drawn yet: click the canvas to add a cluster, or drag a box")
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(shapes), size=int(n))
    out = np.empty((int(n), 2))
    for i, shape in enumerate(shapes):
        idx = np.flatnonzero(which == i)
        if shape.kind == "g":
            x, y, s = shape.values
            out[idx] = np.array([x, y]) + s * rng.standard_normal((len(idx), 2))
        else:
            x0, x1, y0, y1 = shape.values
            out[idx, 0] = rng.uniform(x0, x1, len(idx))
            out[idx, 1] = rng.uniform(y0, y1, len(idx))
    return out.astype(np.float32)


def shape_from_selection(selection: dict | None, blob_std: float = 0.15) -> Shape | None:
    """The shape a Plotly selection event describes (Streamlit's ``on_select`` state):
    a dragged box -> uniform box; a lasso -> its bounding box; a click on a point -> a blob."""
    if not selection:
        return None
    sel = selection.get("selection", selection)
    boxes = sel.get("box") or []
    if boxes:
        b = boxes[-1]
        xs, ys = b.get("x") or [], b.get("y") or []
        if len(xs) >= 2 and len(ys) >= 2:
            return box(xs[0], xs[1], ys[0], ys[1])
    lassos = sel.get("lasso") or []
    if lassos:
        lasso = lassos[-1]
        xs, ys = lasso.get("x") or [], lasso.get("y") or []
        if len(xs) >= 3:
            return box(min(xs), max(xs), min(ys), max(ys))
    points = sel.get("points") or []
    if points:
        p = points[-1]
        if p.get("x") is not None and p.get("y") is not None:
            return blob(p["x"], p["y"], blob_std)
    return None


# --------------------------------------------------------------------------- #
# Live settings validation (the page shows the message; never a traceback)
# --------------------------------------------------------------------------- #
def check_live_settings(lr_d: float, lr_g: float, k_disc: int) -> None:
    """GenlabError with a clear message for a learning rate or k outside GANTrainConfig's limits."""
    from genlab.configs import GANTrainConfig
    from genlab.validation import check_option

    for name, label, value in (("lr_d", "lr_D", lr_d), ("lr_g", "lr_G", lr_g)):
        try:
            check_option(GANTrainConfig, name, value, label=label)
        except GenlabError as err:
            raise GenlabError(f"{err}; try 0.0002 to 0.01") from None
    check_option(GANTrainConfig, "k_disc", k_disc, label="k (discriminator steps per generator step)")


# --------------------------------------------------------------------------- #
# Small shared pieces of the loops
# --------------------------------------------------------------------------- #
class RateMeter:
    """Training speed while running (paused time excluded): steps / seconds."""

    def __init__(self):
        self.steps = 0
        self.seconds = 0.0
        self._window_steps = 0
        self._window_start: float | None = None
        self.recent = float("nan")   # steps/s over the last publish window

    def start(self) -> None:
        self._window_start = time.perf_counter()
        self._window_steps = 0

    def tick(self, n: int = 1) -> None:
        self._window_steps += n

    def close_window(self) -> None:
        """End the current window (at a publish or a pause); fold it into the totals."""
        if self._window_start is None:
            return
        elapsed = time.perf_counter() - self._window_start
        if elapsed > 0 and self._window_steps:
            self.recent = self._window_steps / elapsed
        self.steps += self._window_steps
        self.seconds += elapsed
        self._window_start = None
        self._window_steps = 0

    @property
    def overall(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else float("nan")


def _handle_set(trainer, changes: dict) -> str:
    """Queue live changes on the trainer; '' or the error message."""
    try:
        trainer.set_hyperparameters(**changes)
    except GenlabError as err:
        return str(err)
    return ""


# --------------------------------------------------------------------------- #
# 2D GAN: state, views, loop
# --------------------------------------------------------------------------- #
GAN2D_METRICS = ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g")
from genlab.configs import NOISE_DISTRIBUTIONS  # noqa: E402  (torch-free: the page draws its controls at once)

GAN2D_EVALS = ("kl", "js", "modes", "hq")
FAKE_SEED = 7          # the fixed noise whose samples the plane shows (points move smoothly)
EVAL_SEED = 1234       # the fixed noise of the KL/JS and mode metrics
KL_BINS = 30


class Gan2DLive:
    """One 2D GAN on the page: trainer, histories, fixed display inputs.

    Used by one thread at a time: the job's thread while a job holds it, otherwise the page
    (single steps when no job runs). The page only reads :meth:`snapshot` results.
    """

    def __init__(self, trainer, *, n_display: int = 500, grid: int = 40, manifold_n: int = 15,
                 n_arrows: int = 100, n_eval: int = 2000, seed: int = 0):
        from genlab.data import toy_modes, toy_std

        from dashboard.figures.gan import bounds_for

        self.trainer = trainer
        real = trainer.real_points()
        rng = np.random.default_rng(seed)
        pick = rng.choice(len(real), size=min(n_display, len(real)), replace=False)
        self.real_display = real[pick]
        eval_pick = rng.choice(len(real), size=min(n_eval, len(real)), replace=False)
        self.real_eval = real[eval_pick]
        self.bounds = bounds_for(real[rng.choice(len(real), size=min(5000, len(real)), replace=False)], margin=0.2)
        self.n_display, self.grid, self.manifold_n, self.n_arrows, self.n_eval = n_display, grid, manifold_n, n_arrows, n_eval
        self.modes = toy_modes(trainer.dataset) if trainer.dataset in ("ring8", "grid25") else None
        self.mode_std = toy_std(trainer.dataset) if self.modes is not None else None
        self.history = MetricHistory(GAN2D_METRICS)
        self.evals = MetricHistory(GAN2D_EVALS, max_points=1000)
        self.changes: list[tuple[int, str]] = []
        self.view: dict = {}
        self.last_eval: dict = {}
        self.rate = RateMeter()
        self.recorded = None               # the training's timeline (genlab.run_history.History) so far

    # ----------------------------------------------------------------- recording
    def record(self, row: dict) -> None:
        self.history.add(row)
        changed = row.get("changed")
        if changed:
            self.changes.append((int(row["step"]), str(changed)))
            del self.changes[:-50]

    def single_step(self, phase: str) -> dict:
        """One D update ("d"), one G update ("g") or one Algorithm-1 iteration ("both")."""
        row = self.trainer.step(phase)
        self.record(row)
        return row

    # ----------------------------------------------------------------- views
    def evaluate(self) -> dict:
        """KL / JS of 30x30 histograms over the plotted square (2000 real vs 2000 fake points
        from fixed noise; empty cells get 1e-6) and, for ring8 / grid25, mode coverage."""
        from genlab import metrics

        fake = self.trainer.sample(self.n_eval, seed=EVAL_SEED).numpy()
        finite = np.isfinite(fake).all(axis=1)
        out = {"kl": float("nan"), "js": float("nan"), "modes": float("nan"), "hq": float("nan")}
        if finite.sum() >= 2:
            div = metrics.grid_divergences(self.real_eval, fake[finite], bins=KL_BINS, extent=self.bounds)
            out["kl"], out["js"] = div["kl_real_fake"], div["js"]
            if self.modes is not None:
                cov = metrics.mode_coverage(fake[finite], self.modes, self.mode_std)
                out["modes"], out["hq"] = float(cov.modes_covered), float(cov.high_quality_share)
        self.evals.add({"step": self.trainer.step_count, **out})
        self.last_eval = out
        return out

    def compute_view(self) -> dict:
        """Fake points (fixed noise), D(x) on a grid, the generator manifold, G's gradient arrows."""
        from genlab.train.gan import discriminator_grid, generator_gradients, generator_manifold

        tr = self.trainer
        fake = tr.sample(self.n_display, seed=FAKE_SEED).numpy()
        heat = discriminator_grid(tr, self.bounds, self.grid)
        _, manifold = generator_manifold(tr, self.manifold_n)
        if manifold.ndim == 2:                 # noise_dim 1: a curve -> one "row" of a grid
            manifold = manifold[None, :, :]
        arrows_at = fake[: self.n_arrows]
        grads = generator_gradients(tr, arrows_at)
        self.view = {"fake": fake, "heatmap": heat, "manifold": manifold, "gradients": (arrows_at, grads)}
        return self.view

    def snapshot(self, **extra) -> dict:
        """Everything the page draws, as plain arrays and numbers."""
        tr = self.trainer
        return {
            "step": tr.step_count,
            "d_updates": getattr(tr, "d_updates", 0),
            "g_updates": getattr(tr, "g_updates", 0),
            "history": self.history.arrays(),
            "evals": self.evals.arrays(),
            "changes": list(self.changes),
            "hyperparameters": tr.hyperparameters(),
            "view": dict(self.view),
            "real": self.real_display,
            "bounds": self.bounds,
            "n_modes": 0 if self.modes is None else len(self.modes),
            "steps_per_s": self.rate.recent,
            "steps_per_s_overall": self.rate.overall,
            "published_at": time.time(),
            **extra,
        }

    def refresh(self, evaluate: bool = True) -> dict:
        """Recompute the views (and metrics) now and return a snapshot (page-side single steps)."""
        self.compute_view()
        if evaluate:
            self.evaluate()
        return self.snapshot()


def poll_period(base_s: float, computing_jobs: int, compute_slots: int, turn_s: float, *,
                per_page_s: float = 0.12, max_s: float = 1.25) -> float:
    """Seconds between a live page's polls: ``base_s`` while every job computes at once.

    When jobs take CPU turns (``computing_jobs > compute_slots``) a job publishes about once per
    round of ``turn_s * computing_jobs / compute_slots`` seconds, and every live page's refresh costs
    the server and, on a shared machine, the browsers CPU (2D page, 2 cores, headless Chromium: a
    live feed's refresh ~13 ms of browser main thread, a fragment rerun's ~150 ms, which is what the
    default ``per_page_s`` is sized for): so poll every ``max(round, per_page_s * computing_jobs)``
    seconds, at most ``max_s`` (the pages promise an update at least every 2 s)."""
    if computing_jobs <= compute_slots:
        return float(base_s)
    round_s = turn_s * computing_jobs / max(1, compute_slots)
    return float(min(max_s, max(base_s, round_s, per_page_s * computing_jobs)))


class Gan2DFeed(Callback):
    """Fit callback of the 2D page's job: commands, pause, CPU turns and what the page draws, for one
    model or for the models of a side-by-side compare (one :func:`~genlab.train.base.fit_group`).

    Commands (``Job.send``): ``{"set": {...}}`` live hyperparameters, for every model (errors are
    published as ``command_error``); ``{"step": "d" | "g" | "both"}`` one single step of every model
    (meant for a paused job). Publishes a snapshot every ``publish_every_s`` seconds while running,
    right after commands, where a pause began, at each CPU turn's end and at the end; KL/JS and mode
    metrics at most every ``eval_every_s`` seconds. The costly parts (the plane's view, the metrics)
    are timed and never take more than about a fifth (view) or a tenth (metrics) of the time; at a
    CPU turn's end (many jobs on few cores) the view comes at most every other round and never in
    the same publish as the metrics, so no turn pays for both and every round stays short. One model publishes its :meth:`Gan2DLive.snapshot`; a compare publishes ``{"pair": {name:
    snapshot}}`` with ``step`` (the fewest steps of the models), ``target`` and ``paused``.
    """

    def __init__(self, ctx, lives: "Gan2DLive | dict[str, Gan2DLive]", target: int, *, publish_every_s: float = 0.2,
                 eval_every_s: float = 2.0, turn_view_every_s: float = 1.5,
                 clock: Callable[[], float] = time.perf_counter):
        self.pair = isinstance(lives, dict)
        self.lives: dict[str, Gan2DLive] = dict(lives) if self.pair else {"": lives}
        self.by_trainer = {id(live.trainer): live for live in self.lives.values()}
        self.ctx, self.target, self.clock = ctx, int(target), clock
        self.publish_every_s, self.eval_every_s, self.turn_view_every_s = publish_every_s, eval_every_s, turn_view_every_s
        self.start = min(live.trainer.step_count for live in self.lives.values())
        self.command_error = ""
        self.dirty = False                 # a command changed something: publish after the next step
        self.paused_published = False
        self.cost = {"view": 0.0, "eval": 0.0}
        self.last = {"publish": -1e9, "eval": -1e9, "view": -1e9, "turn": -1e9, "turn_end": None}

    def _rates(self, action: str) -> None:
        for live in self.lives.values():
            getattr(live.rate, action)()

    def on_fit_start(self, trainer) -> None:
        if trainer is next(iter(self.lives.values())).trainer:     # once, not once per model
            self.publish(force_eval=True)
            self._rates("start")

    def before_step(self, trainer) -> bool:
        ctx = self.ctx
        if self.pair and trainer.step_count < max(live.trainer.step_count for live in self.lives.values()):
            return ctx.should_stop()       # finish the round first: the models pause at the same step
        while True:
            self.dirty = self._run_commands() or self.dirty
            if ctx.should_stop():
                return True
            if not ctx.is_paused():
                break
            self._rates("close_window")
            if self.dirty or not self.paused_published:   # show exactly where it paused / the single step
                self.publish(force_eval=True, paused=True)
                self.paused_published, self.dirty = True, False
            ctx.wait_if_paused(timeout=1.0)
            if not ctx.is_paused():
                self._rates("start")
        self.paused_published = False
        if trainer.step_count >= self.target:          # single steps while paused reached the target
            return True
        # CPU turns (genlab.jobs): show where this turn ended before handing the slot over, so the page
        # never waits a whole round; the costly view at most every turn_view_every_s and at most every
        # other round (with many jobs the views' cost, paid inside the slot, is what lengthens a round)
        if ctx.cpu_turn_over():
            self._rates("close_window")
            self._rates("start")
            now = self.clock()
            round_s = 0.0 if self.last["turn_end"] is None else now - self.last["turn_end"]
            self.last["turn_end"] = now
            view = now - self.last["view"] >= max(self.turn_view_every_s, 1.5 * round_s)
            self.publish(view=view, evaluate=not view)    # the two costly parts in different turns
        asked = self.clock()
        if not ctx.wait_for_cpu():
            return True
        if self.clock() - asked > 0.005:
            # it waited for its turn: the periodic publish counts from the turn's start (else the first
            # step of every turn would redraw the costly view, and then the turn end again)
            self.last["turn"] = self.clock()
        return False

    def _run_commands(self) -> bool:
        """Apply the queued commands to every model; True if any changed a model or its settings."""
        dirty = False
        for command in self.ctx.take_commands():
            if isinstance(command, dict) and "set" in command:
                errors = [_handle_set(live.trainer, dict(command["set"])) for live in self.lives.values()]
                self.command_error = next((error for error in errors if error), "")
                dirty = True
            elif isinstance(command, dict) and command.get("step") in ("d", "g", "both"):
                for live in self.lives.values():
                    live.single_step(command["step"])
                dirty = True
        return dirty

    def on_step_end(self, trainer, row: dict) -> None:
        live = self.by_trainer[id(trainer)]
        live.record(row)
        live.rate.tick()
        if self.pair and trainer.step_count > min(other.trainer.step_count for other in self.lives.values()):
            return                             # a compare publishes when both models made the step
        since = self.clock() - max(self.last["publish"], self.last["turn"])
        if self.dirty or since >= max(self.publish_every_s, 4 * self.cost["view"]):
            self.dirty = False
            # the publish's own time counts in the next window: steps/s is the real wall rate
            self._rates("close_window")
            self._rates("start")
            self.publish()

    def on_fit_end(self, trainer, status: str) -> None:
        if status != "interrupted" and trainer is next(iter(self.lives.values())).trainer:
            self._rates("close_window")
            self.publish(force_eval=True)

    def publish(self, force_eval: bool = False, view: bool = True, paused: bool = False,
                evaluate: bool = True) -> None:
        """Publish a snapshot: with the plane's view recomputed if ``view``, and the KL/JS and mode
        metrics if ``force_eval``, or if ``evaluate`` and they are due (``eval_every_s``)."""
        clock = self.clock
        now = clock()
        if view:
            for live in self.lives.values():
                live.compute_view()
            self.cost["view"] = clock() - now
            self.last["view"] = now
        if force_eval or (evaluate and now - self.last["eval"] >= max(self.eval_every_s, 10 * self.cost["eval"])):
            began = clock()
            for live in self.lives.values():
                live.evaluate()
            self.cost["eval"] = clock() - began
            self.last["eval"] = now
        step = min(live.trainer.step_count for live in self.lives.values())
        self.ctx.set_progress((step - self.start) / max(1, self.target - self.start), f"step {step} of {self.target}")
        extra = dict(command_error=self.command_error, target=self.target, paused=paused)
        if self.pair:
            # paused: the snapshot of where the job paused (the page says "Paused" only from this one on)
            self.ctx.publish(pair={name: live.snapshot(**extra) for name, live in self.lives.items()},
                             step=step, published_at=time.time(), **extra)
        else:
            self.ctx.publish(**self.lives[""].snapshot(**extra))
        self.last["publish"] = clock()
        log.debug("gan2d publish: step %d, view %.0f ms, eval %.0f ms", step,
                  1000 * self.cost["view"], 1000 * self.cost["eval"])


def run_gan2d(ctx, holder: dict, steps: int, *, factory: Callable[[], "Gan2DLive"] | None = None,
              **feed_options) -> str:
    """The job: :meth:`Trainer.fit` ``holder["live"].trainer`` for up to ``steps`` more steps with a
    :class:`Gan2DFeed`; return ``finished`` or ``stopped``.

    ``holder`` is a dict the page keeps in its session: when ``holder["live"]`` is None the job
    builds it with ``factory()`` first (building loads data and initialises the networks: it
    belongs in the thread, not in the page's script run) and stores it there, so the next job
    continues the same model, and its timeline: ``live.recorded`` (a
    :class:`genlab.train.history.RecordHistory` history, kept in memory across jobs). ``feed_options``
    go to :class:`Gan2DFeed` (publish and metric periods).
    """
    if holder.get("live") is None:
        if factory is None:
            raise GenlabError("no model to train: reset and press Train again")
        ctx.set_progress(0.0, "building the model")
        holder["live"] = factory()
    return _fit_gan2d(ctx, {"": holder["live"]}, steps, feed_options)


def run_gan2d_compare(ctx, holder: dict, steps: int, *, factories: dict[str, Callable[[], "Gan2DLive"]] | None = None,
                      **feed_options) -> str:
    """The compare job: two (or more) 2D GANs ``holder["lives"]`` (name -> :class:`Gan2DLive`, built
    with ``factories`` when missing) trained side by side in one :func:`~genlab.train.base.fit_group`,
    one step each in turn (:func:`~genlab.train.base.fewest_steps`): the planes move in lockstep.
    Publishes ``{"pair": {name: snapshot}}`` (see :class:`Gan2DFeed`)."""
    if not holder.get("lives"):
        if not factories:
            raise GenlabError("no models to compare: reset and press Train again")
        ctx.set_progress(0.0, "building the two models")
        holder["lives"] = {name: factory() for name, factory in factories.items()}
    return _fit_gan2d(ctx, dict(holder["lives"]), steps, feed_options)


def _fit_gan2d(ctx, lives: dict[str, "Gan2DLive"], steps: int, feed_options: dict) -> str:
    """Fit every live model ``steps`` more steps (together, in turns), recording each one's timeline."""
    from genlab.train.base import fewest_steps, fit_group
    from genlab.train.history import RecordHistory

    target = min(live.trainer.step_count for live in lives.values()) + int(steps)
    recorders = {name: RecordHistory(steps=target, history=live.recorded) for name, live in lives.items()}
    feed = Gan2DFeed(ctx, lives if len(lives) > 1 or "" not in lives else lives[""], target, **feed_options)
    trainers = {name or "model": live.trainer for name, live in lives.items()}
    by_trainer = {id(live.trainer): recorders[name] for name, live in lives.items()}
    try:
        fit_group(trainers, lambda trainer: trainer.step_count >= target,
                  callbacks=[PerTrainer(by_trainer), feed], turn=fewest_steps)
    finally:
        for name, live in lives.items():
            live.recorded = recorders[name].history or live.recorded
    return "finished" if all(live.trainer.step_count >= target for live in lives.values()) else "stopped"


def gan2d_overrides(*, width: int | None = None, layers: int | None = None, noise_dim: int | None = None,
                    noise: str | None = None, seed: int | None = None, lr_d: float | None = None,
                    lr_g: float | None = None, k_disc: int | None = None, loss: str | None = None,
                    optimizer_d: str | None = None, optimizer_g: str | None = None) -> dict:
    """GANConfig / GANTrainConfig overrides for the 2D page (None = the preset's value).

    The live page never decays the learning rate (students set it themselves while it trains),
    so ``lr_decay`` is always ``"none"`` here.
    """
    values = dict(hidden=width, disc_hidden=width, layers=layers, disc_layers=layers, noise_dim=noise_dim,
                  noise=noise, seed=seed, lr_d=lr_d, lr_g=lr_g, k_disc=k_disc, loss=loss,
                  optimizer_d=optimizer_d, optimizer_g=optimizer_g)
    out = {k: v for k, v in values.items() if v is not None}
    out["lr_decay"] = "none"
    return out


def build_gan2d_live(dataset: str, points=None, *, preset: str = "vanilla", **settings) -> Gan2DLive:
    """A fresh 2D GAN (``genlab.train.gan.GANTrainer``) wrapped for the page.

    ``dataset``: a toy set name or ``"points"`` with ``points`` (N, 2). ``settings``: see
    :func:`gan2d_overrides`.
    """
    from genlab.train.gan import GANTrainer, gan_configs

    model_config, train_config = gan_configs("gan", preset, **gan2d_overrides(**settings))
    if points is not None:
        trainer = GANTrainer("gan", "points", model_config, train_config, points=np.asarray(points, dtype=np.float32))
    else:
        trainer = GANTrainer("gan", dataset, model_config, train_config)
    return Gan2DLive(trainer, seed=int(settings.get("seed") or 0))


def freeze_heap() -> int:
    """Move every object alive now into the garbage collector's permanent generation.

    The server process holds millions of long-lived objects (torch, plotly, streamlit, numpy
    modules). Each full (generation 2) collection walks them all while holding the GIL: measured
    1-3 s per collection on the busy dev machine, every few seconds while a page redraws live
    charts, which froze the training thread too (the live 2D GAN fell from ~15 to ~2 steps/s).
    After ``gc.freeze()`` full collections only walk objects created later. Call it once the
    heavy modules are imported (the pages do, once per process). Returns the frozen count.
    """
    import gc

    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def warm_up_torch() -> threading.Thread:
    """Pay torch's import and its one-time optimizer import (torch._dynamo, seconds) in a
    background thread when the page first loads, so the first Train press starts training sooner;
    then freeze the heap again (:func:`freeze_heap`), since that import creates a great many
    objects. While the thread is alive the page says it is loading PyTorch."""

    def work() -> None:
        import torch
        import genlab.train.gan  # noqa: F401  (the trainer's modules: a first model builds at once)

        p = torch.zeros(2, requires_grad=True)
        opt = torch.optim.Adam([p], lr=1e-3)
        (p * p).sum().backward()
        opt.step()
        log.debug("froze %d objects after the torch warm-up", freeze_heap())   # torch._dynamo is huge

    thread = threading.Thread(target=work, name="genlab-warmup", daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------- #
# Image GANs (dcgan / cgan, standard or PatchGAN discriminator)
# --------------------------------------------------------------------------- #
IMAGE_METRICS = ("loss_d", "loss_g", "d_real", "d_fake")
IMAGE_EVALS = ("frechet_distance", "label_accuracy")
GRID_SEED = 11          # the fixed noise of the live sample grid
GRID_PAD = 0.35         # grey lines between the white-on-black digits (as on the Transformer GAN page)
# Below this sample spread (ImageLive.sample_spread) the page says the generator has collapsed
# (bench/RESULTS.md, "PatchGAN at the page's step counts": collapsed runs under 0.45, learning ones over 0.8).
COLLAPSE_SPREAD = 0.5
PATCH_SEED = 5


def png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of a uint8 image (grey (H, W) or colour (H, W, 3))."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()


def image_config(model: str, dataset: str, *, preset: str = "default", **overrides) -> dict:
    """The ``config_dict()`` a :class:`~genlab.train.gan.GANTrainer` built with these settings
    would have, computed without loading data or building networks (the page uses it to find
    a stored run with identical settings before training anything)."""
    from dataclasses import asdict

    from genlab.train.gan import gan_configs

    shapes = {"digits": 8, "mnist": 28, "fashion-mnist": 28}
    if dataset not in shapes:
        raise GenlabError(f"unknown image data set {dataset!r}; allowed: {', '.join(shapes)}")
    model_config, train_config = gan_configs(model, preset, **overrides)
    model_config.image_size = shapes[dataset]
    model_config.num_classes = 10
    model_config.conditional = model == "cgan"
    model_config.validate()
    return {"model": model, "dataset": dataset, "model_config": asdict(model_config),
            "train_config": asdict(train_config)}


_IMAGE_MODEL_NAMES = {"dcgan": "DCGAN", "cgan": "conditional GAN"}
_DISC_NAMES = {"standard": "standard D", "patch": "PatchGAN D"}


def _image_settings(config: dict) -> dict[str, str]:
    """The settings a student picks on the Image GANs page, as words (for banners and diffs)."""
    mc, tc = config.get("model_config") or {}, config.get("train_config") or {}
    steps = tc.get("steps")
    return {
        "model": _IMAGE_MODEL_NAMES.get(config.get("model"), str(config.get("model"))),
        "data set": str(config.get("dataset")),
        "discriminator": _DISC_NAMES.get(mc.get("disc", "standard"), str(mc.get("disc"))),
        "loss": str(tc.get("loss", "non-saturating")),
        "noise dimension": f"z {mc.get('noise_dim')}",
        "steps": f"{int(steps):,} steps" if isinstance(steps, (int, float)) else "default steps",
        "seed": f"seed {tc.get('seed', 0)}",
    }


def describe_image_config(config: dict) -> str:
    """One line naming an image-GAN run's settings, e.g. ``DCGAN · digits · PatchGAN D ·
    non-saturating · z 32 · 1,500 steps · seed 0``."""
    return " · ".join(_image_settings(config).values())


def image_settings_differences(shown: dict, wanted: dict) -> list[str]:
    """How the settings of the run on screen (``shown``) differ from the page's (``wanted``):
    ``["discriminator: standard D → PatchGAN D", ...]``; ``["other training settings"]`` when
    only settings the page does not offer differ; ``[]`` when both are the same run."""
    from genlab.demos import complete_config
    from genlab.runs import canonical_config_json, config_hash

    a, b = _image_settings(shown), _image_settings(wanted)
    changed = [f"{name}: {a[name]} → {b[name]}" for name in a if a[name] != b[name]]
    if not changed and config_hash(shown) != config_hash(wanted):
        full_a, full_b = complete_config(shown), complete_config(wanted)
        if full_a is None or full_b is None or canonical_config_json(full_a) != canonical_config_json(full_b):
            changed = ["other training settings (preset or a stored run's own recipe)"]
    return changed


def run_name_for(config: dict) -> str:
    """Stable run-store name of a configuration: ``<model>-<dataset>-<config hash>``."""
    from genlab.runs import config_hash

    return f"{config['model']}-{config['dataset']}-{config_hash(config)[:10]}"


class ImageLive:
    """One image GAN on the page: trainer, histories and the fixed inputs of the live views."""

    def __init__(self, trainer, *, grid_n: int = 64, per_class: int = 10, n_patch: int = 6):
        self.trainer = trainer
        self.grid_n, self.per_class, self.n_patch = grid_n, per_class, n_patch
        self.history = MetricHistory(IMAGE_METRICS)
        self.evals = MetricHistory(IMAGE_EVALS, max_points=500)
        self.view: dict = {}
        self.rate = RateMeter()
        self.last_eval_cost = 0.0
        self._patch_real = None
        self._real_spread = None

    @property
    def conditional(self) -> bool:
        return bool(getattr(self.trainer, "conditional", False))

    @property
    def patch(self) -> bool:
        return getattr(self.trainer.model_config, "disc", "standard") == "patch"

    def record(self, row: dict) -> None:
        self.history.add(row)
        if "frechet_distance" in row:
            self.evals.add({"step": row["step"], "frechet_distance": row.get("frechet_distance"),
                            "label_accuracy": row.get("label_accuracy")})

    def evaluate(self) -> dict:
        """Fréchet distance of 360 samples (fixed noise) to the test split in the digit
        classifier's features; cGAN: also the share classified as the asked class."""
        t = time.perf_counter()
        out = {k: float(v) for k, v in self.trainer.evaluate().items()}
        self.last_eval_cost = time.perf_counter() - t
        return out

    def compute_view(self) -> dict:
        """Sample grid from fixed noise; cGAN: 10 rows, one per class; PatchGAN: per-patch maps."""
        import torch

        from dashboard.figures.gan import image_grid

        tr = self.trainer
        view: dict = {}
        if self.conditional:
            labels = torch.arange(10).repeat_interleave(self.per_class)
            samples = tr.sample(10 * self.per_class, seed=GRID_SEED, labels=labels)
            view["class_rows"] = samples.numpy()              # (10 * per_class, 1, H, W), row = class
            view["grid"] = image_grid(samples, nrow=self.per_class, target_width=900, pad_value=GRID_PAD)
        else:
            samples = tr.sample(self.grid_n, seed=GRID_SEED)
            view["grid"] = image_grid(samples, nrow=int(math.sqrt(self.grid_n)), target_width=900, pad_value=GRID_PAD)
        view["grid_png"] = png_bytes(view["grid"])   # encoded here, not in the page's script run
        view["diversity"] = self.sample_spread(samples)
        if self.patch:
            view["patch"] = self.patch_maps()
        self.view = view
        return view

    def sample_spread(self, samples) -> float:
        """Mean pairwise pixel distance of ``samples`` over that of as many real test images: about
        1 when the samples vary as much as the data, near 0 when the generator has collapsed onto
        one image (the page then says so)."""
        import torch

        from genlab.data import load_image_dataset

        def spread(x) -> float:
            flat = torch.as_tensor(x, dtype=torch.float64).reshape(len(x), -1)
            return float(torch.cdist(flat, flat).sum()) / max(1, len(x) * (len(x) - 1))

        n = min(len(samples), 64)
        if self._real_spread is None:
            self._real_spread = spread(load_image_dataset(self.trainer.dataset, "test", download=False).images[:n])
        return spread(samples[:n]) / max(self._real_spread, 1e-12)

    def patch_maps(self) -> dict:
        """PatchGAN: D's per-patch probability map over a few real test images and fakes."""
        import torch

        from genlab.data import load_image_dataset
        from genlab.losses import discriminator_output

        tr = self.trainer
        n = self.n_patch
        if self._patch_real is None:                      # a few fixed test images, loaded once
            test = load_image_dataset(tr.dataset, "test", download=False)
            self._patch_real = (test.images[:n].clone(), test.labels[:n].long().clone())
        real, real_labels = self._patch_real
        fake_labels = torch.arange(n) % 10
        fake = tr.sample(n, seed=PATCH_SEED, labels=fake_labels if self.conditional else None)
        disc = tr.discriminator
        was_training = disc.training
        disc.eval()
        with torch.no_grad():
            def maps(images, labels):
                x = (images * 2 - 1).to(tr.device)
                logits = disc(x, labels.to(tr.device)) if self.conditional else disc(x)
                out = discriminator_output(logits, tr.train_config.loss)
                if tr.train_config.loss == "lsgan":
                    out = out.clamp(0, 1)
                return out.cpu().numpy()
            real_maps, fake_maps = maps(real, real_labels), maps(fake, fake_labels)
        disc.train(was_training)
        return {"real": real.numpy(), "real_maps": real_maps, "fake": fake.numpy(), "fake_maps": fake_maps}

    def snapshot(self, **extra) -> dict:
        tr = self.trainer
        return {
            "step": tr.step_count,
            "history": self.history.arrays(),
            "evals": self.evals.arrays(),
            "view": dict(self.view),
            "conditional": self.conditional,
            "patch": self.patch,
            "steps_per_s": self.rate.recent,
            "published_at": time.time(),
            **extra,
        }

    @classmethod
    def from_run(cls, trainer, frame) -> "ImageLive":
        """A loaded run: histories from its metrics.csv (a pandas DataFrame), views computed now."""
        live = cls(trainer)
        if frame is not None and len(frame):
            records = frame.to_dict("records")
            for row in records:
                clean = {k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
                live.history.add(clean)
                if "frechet_distance" in clean:
                    live.evals.add({"step": clean.get("step"), "frechet_distance": clean.get("frechet_distance"),
                                    "label_accuracy": clean.get("label_accuracy")})
        return live


class ImageQuality(Callback):
    """Fit callback: adds the quality numbers (:meth:`ImageLive.evaluate`) to a step's row when they
    are due -- the first step of a fresh model, then about every ``eval_every_s`` seconds (never more
    than ~1/8 of the time), and the last step -- and keeps every row in the live histories. Put it
    before :class:`genlab.train.recording.RecordRun` so that metrics.csv keeps the numbers."""

    def __init__(self, live: "ImageLive", target: int, eval_every_s: float = 4.0,
                 clock: Callable[[], float] = time.perf_counter):
        self.live, self.target, self.eval_every_s, self.clock = live, int(target), eval_every_s, clock
        self.due_now = live.trainer.step_count == 0
        self.last_eval = clock()

    def on_step_end(self, trainer, row: dict) -> None:
        now = self.clock()
        if self.due_now or trainer.step_count >= self.target \
                or now - self.last_eval >= max(self.eval_every_s, 8 * self.live.last_eval_cost):
            self.due_now = False
            row.update(self.live.evaluate())
            self.last_eval = self.clock()
        self.live.record(row)


class ImageFeed(Callback):
    """Fit callback of the image-GAN job: stop, pause, CPU turns and publishing the sample grid (and
    PatchGAN's maps) every ``publish_every_s`` seconds, never more than ~1/5 of the time. Commands
    (``Job.send``) are ignored: the page samples itself when no job holds the model."""

    def __init__(self, ctx, live: "ImageLive", target: int, run_name: str | None = None, *,
                 publish_every_s: float = 0.5, clock: Callable[[], float] = time.perf_counter):
        self.ctx, self.live, self.target, self.run_name = ctx, live, int(target), run_name
        self.publish_every_s, self.clock = publish_every_s, clock
        self.last_publish, self.view_cost = -1e9, 0.0

    def on_fit_start(self, trainer) -> None:
        self.publish()
        self.live.rate.start()

    def before_step(self, trainer) -> bool:
        ctx, rate = self.ctx, self.live.rate
        ctx.take_commands()
        if ctx.should_stop():
            return True
        if ctx.is_paused():
            rate.close_window()
            self.publish()
            while ctx.is_paused() and not ctx.should_stop():
                ctx.wait_if_paused(timeout=1.0)
                ctx.take_commands()
            rate.start()
        if ctx.cpu_turn_over():         # CPU turns (genlab.jobs): show this turn's end, then wait
            rate.close_window()
            rate.start()
            self.publish()
        return not ctx.wait_for_cpu()

    def on_step_end(self, trainer, row: dict) -> None:
        self.live.rate.tick()
        if self.clock() - self.last_publish >= max(self.publish_every_s, 5 * self.view_cost):
            self.live.rate.close_window()
            self.live.rate.start()
            self.publish()

    def on_fit_end(self, trainer, status: str) -> None:
        if status == "interrupted":
            return
        self.live.rate.close_window()
        if status != "finished" and trainer.step_count > 0:   # stopped early: one last quality number
            self.live.evals.add({"step": trainer.step_count, **self.live.evaluate()})
        self.publish()

    def publish(self) -> None:
        began = self.clock()
        self.live.compute_view()
        self.view_cost = self.clock() - began
        step = self.live.trainer.step_count
        self.ctx.set_progress(step / max(1, self.target), f"step {step} of {self.target}")
        self.ctx.publish(**self.live.snapshot(target=self.target, run_name=self.run_name))
        self.last_publish = self.clock()


def run_image_gan(ctx, holder: dict, steps: int, *, factory: Callable[[], Any] | None = None,
                  run=None, publish_every_s: float = 0.5, eval_every_s: float = 4.0) -> str:
    """The job: :meth:`Trainer.fit` an image GAN up to ``steps`` total steps with :class:`ImageQuality`
    and :class:`ImageFeed`, recording it in ``run`` (a :class:`genlab.runs.Run`; resumes from its
    checkpoint) when given. Returns ``finished`` or ``stopped``.

    Builds ``holder["live"]`` with ``factory()`` first if needed (data loading, network init
    and the digit classifier of the quality metric all happen here, in the thread).
    """
    from genlab import metrics

    if holder.get("live") is None:
        if factory is None:
            raise GenlabError("no model to train: press Train again")
        ctx.set_progress(0.0, "building the model")
        holder["live"] = ImageLive(factory())
    trainer = holder["live"].trainer
    ctx.set_progress(0.0, "preparing the quality metric (the digit classifier is trained once, then cached)")
    metrics.get_classifier(trainer.dataset)
    if run is not None and trainer.step_count == 0 and run.has_checkpoint():
        trainer.load_state_dict(run.load_checkpoint())
        holder["live"] = ImageLive.from_run(trainer, run.read_metrics())
    live: ImageLive = holder["live"]
    target = int(steps)
    callbacks: list[Callback] = [ImageQuality(live, target, eval_every_s),
                                 ImageFeed(ctx, live, target, None if run is None else run.name,
                                           publish_every_s=publish_every_s)]
    if run is not None:
        from genlab.train.recording import recording_callbacks

        callbacks.extend(recording_callbacks(run, target))   # after ImageQuality: the rows carry its numbers
    return trainer.fit(target, callbacks=callbacks)
