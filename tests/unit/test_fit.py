"""Unit tests for the one training loop: Trainer.fit, fit_group and their callbacks."""
from __future__ import annotations

import pytest

from genlab.train.base import Callback, CollectRows, Trainer, fewest_steps, fit_group, least_training_time


class FakeTrainer(Trainer):
    """A trainer whose step costs ``cost`` seconds of (pretend) training time and can fail on demand."""

    model_name = "fake"

    def __init__(self, cost: float = 1.0, fail_at: int | None = None):
        super().__init__({}, {}, "none")
        self.cost, self.fail_at = cost, fail_at

    def _train_step(self) -> dict:
        if self.fail_at is not None and self.step_count + 1 == self.fail_at:
            raise RuntimeError("boom")
        return {"loss": 1.0 / (self.step_count + 1)}

    def step(self) -> dict:
        row = super().step()
        self.elapsed_seconds = self.step_count * self.cost   # deterministic training time
        return row


class Log(Callback):
    def __init__(self, stop_before: int | None = None):
        self.events: list[tuple] = []
        self.stop_before = stop_before

    def on_fit_start(self, trainer):
        self.events.append(("start", trainer.step_count))

    def before_step(self, trainer):
        self.events.append(("before", trainer.step_count))
        return self.stop_before is not None and trainer.step_count >= self.stop_before

    def on_step_end(self, trainer, row):
        self.events.append(("end", row["step"]))

    def on_fit_end(self, trainer, status):
        self.events.append(("fit_end", status))


def test_fit_trains_to_a_total_and_calls_back_in_order():
    trainer, log = FakeTrainer(), Log()
    assert trainer.fit(2, callbacks=[log]) == "finished"
    assert log.events == [("start", 0), ("before", 0), ("end", 1), ("before", 1), ("end", 2), ("fit_end", "finished")]
    assert trainer.fit(2, callbacks=[log]) == "finished" and trainer.step_count == 2  # a total, not an increment
    assert trainer.fit(4) == "finished" and trainer.step_count == 4


def test_should_stop_and_a_callback_stop_the_fit():
    trainer, log = FakeTrainer(), Log()
    assert trainer.fit(10, callbacks=[log], should_stop=lambda: trainer.step_count >= 3) == "stopped"
    assert trainer.step_count == 3 and log.events[-1] == ("fit_end", "stopped")
    assert trainer.fit(10, callbacks=[Log(stop_before=5)]) == "stopped" and trainer.step_count == 5


def test_an_exception_ends_the_fit_interrupted_and_is_raised():
    trainer, log = FakeTrainer(fail_at=3), Log()
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(10, callbacks=[log])
    assert trainer.step_count == 2 and log.events[-1] == ("fit_end", "interrupted")


def test_run_returns_the_rows_of_this_fit():
    trainer = FakeTrainer()
    assert [row["step"] for row in trainer.run(3)] == [1, 2, 3]
    collect = CollectRows()
    trainer.fit(5, callbacks=[collect])
    assert [row["step"] for row in collect.rows] == [4, 5]


def test_fit_group_takes_turns_by_least_training_time_until_each_is_done():
    fast, slow = FakeTrainer(cost=1.0), FakeTrainer(cost=3.0)
    order = []

    class Who(Callback):
        def on_step_end(self, trainer, row):
            order.append("fast" if trainer is fast else "slow")

    status = fit_group({"fast": fast, "slow": slow}, lambda t: t.elapsed_seconds >= 6, callbacks=[Who()],
                       turn=least_training_time)
    assert status == "finished"
    assert (fast.step_count, slow.step_count) == (6, 2)        # the same training time each
    # at every turn the one behind in training time steps (ties: by name)
    assert order == ["fast", "slow", "fast", "fast", "fast", "slow", "fast", "fast"]


def test_fit_group_fewest_steps_alternates_and_a_resumed_trainer_waits():
    a, b = FakeTrainer(), FakeTrainer()
    b.step_count = 2                                          # resumed from a checkpoint
    order = []

    class Who(Callback):
        def on_step_end(self, trainer, row):
            order.append("a" if trainer is a else "b")

    assert fit_group({"a": a, "b": b}, lambda t: t.step_count >= 4, callbacks=[Who()], turn=fewest_steps) == "finished"
    assert order == ["a", "a", "a", "b", "a", "b"]            # a catches up, then one step each


def test_a_failing_start_ends_only_the_callbacks_that_started():
    first, second = FakeTrainer(), FakeTrainer()
    log = Log()

    class RefuseSecond(Callback):
        def on_fit_start(self, trainer):
            if trainer is second:
                raise RuntimeError("taken")

    with pytest.raises(RuntimeError, match="taken"):
        fit_group({"first": first, "second": second}, lambda t: t.step_count >= 1, callbacks=[log, RefuseSecond()])
    # log started for both trainers and is ended for both; RefuseSecond ended only for the first
    assert log.events == [("start", 0), ("start", 0), ("fit_end", "interrupted"), ("fit_end", "interrupted")]
    assert first.step_count == second.step_count == 0


def test_adam_optimizer_is_fused_and_makes_the_same_update_as_plain_adam():
    import torch

    from genlab.train.base import adam_optimizer

    torch.manual_seed(0)
    plain_net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    fused_net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    fused_net.load_state_dict(plain_net.state_dict())
    plain = torch.optim.Adam(plain_net.parameters(), lr=1e-2, weight_decay=1e-3)
    fused = adam_optimizer(fused_net.parameters(), lr=1e-2, weight_decay=1e-3)
    assert fused.defaults["fused"] is True
    x = torch.randn(16, 4)
    for _ in range(5):
        for net, optimizer in ((plain_net, plain), (fused_net, fused)):
            optimizer.zero_grad()
            net(x).pow(2).mean().backward()
            optimizer.step()
    for a, b in zip(plain_net.parameters(), fused_net.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_adam_optimizer_falls_back_where_there_is_no_fused_kernel(monkeypatch):
    import torch

    from genlab.train import base

    real_adam = torch.optim.Adam

    def adam_without_fused_kernel(params, fused=None, **options):
        if fused:
            raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported devices")
        return real_adam(params, **options)

    monkeypatch.setattr(torch.optim, "Adam", adam_without_fused_kernel)
    optimizer = base.adam_optimizer(torch.nn.Linear(2, 2).parameters(), lr=1e-3)
    assert not optimizer.defaults.get("fused")
    assert len(optimizer.param_groups[0]["params"]) == 2
