"""The 2D page's job callback at CPU turns' ends (issue 19, load test): with many jobs on few cores a
round of turns is long, and what a turn-end publish computes inside the slot lengthens every round.
The plane's view comes at most every other round and never in the same publish as the metrics."""
from __future__ import annotations

from dashboard import gan_jobs as gj
from genlab.train.gan import GANTrainer, gan_configs


class TurnsContext:
    """A job context whose every step ends a CPU turn; records what each publish held."""

    def __init__(self):
        self.published: list[dict] = []

    def should_stop(self) -> bool:
        return False

    def is_paused(self) -> bool:
        return False

    def take_commands(self) -> list:
        return []

    def cpu_turn_over(self) -> bool:
        return True

    def wait_for_cpu(self) -> bool:
        return True

    def set_progress(self, fraction, message=None) -> None:
        pass

    def publish(self, **snapshot) -> None:
        self.published.append(snapshot)


def _feed_with_counts():
    """A feed on a tiny 2D GAN, a clock the test moves, and a record of the views
    and metric evaluations each publish computed."""
    trainer = GANTrainer("gan", "ring8", *gan_configs("gan", "vanilla"))
    live = gj.Gan2DLive(trainer, n_display=50, grid=8, manifold_n=4, n_arrows=5, n_eval=100)
    calls: list[str] = []
    live.compute_view = lambda: calls.append("view") or {}
    live.evaluate = lambda: calls.append("eval") or {}
    clock = {"now": 0.0}
    feed = gj.Gan2DFeed(TurnsContext(), live, target=10_000, clock=lambda: clock["now"])
    return feed, trainer, calls, clock


def _turn_ends(feed, trainer, calls, clock, round_s: float, turns: int) -> list[list[str]]:
    """What each of ``turns`` turn-end publishes computed (a round of ``round_s`` between them)."""
    per_turn = []
    for _ in range(turns):
        clock["now"] += round_s
        before = len(calls)
        assert feed.before_step(trainer) is False
        per_turn.append(calls[before:])
    return per_turn


def test_long_rounds_view_every_other_round_and_never_with_the_metrics():
    feed, trainer, calls, clock = _feed_with_counts()
    feed.on_fit_start(trainer)
    assert calls == ["view", "eval"]           # the first publish shows everything at once
    per_turn = _turn_ends(feed, trainer, calls, clock, 1.6, 12)
    views = [i for i, done in enumerate(per_turn) if "view" in done]
    assert all(set(done) != {"view", "eval"} for done in per_turn)       # never both in one turn
    assert all(b - a >= 2 for a, b in zip(views, views[1:])) and len(views) >= 4   # every other round
    assert sum("eval" in done for done in per_turn) >= 4                 # metrics still every ~2 s
    assert len(feed.ctx.published) == 1 + 12   # every turn end still publishes the step counter


def test_short_rounds_keep_the_view_every_turn_view_period():
    feed, trainer, calls, clock = _feed_with_counts()
    feed.on_fit_start(trainer)
    per_turn = _turn_ends(feed, trainer, calls, clock, 0.5, 12)
    views = [i for i, done in enumerate(per_turn) if "view" in done]
    # short rounds: the view's own period (turn_view_every_s) decides, not the every-other-round rule
    assert views == [2, 5, 8, 11]
