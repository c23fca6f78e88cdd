"""Unit tests for genlab.jobs: queue positions, pause/resume/stop, commands, failures, sharing, sessions."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from genlab import jobs as jobs_module
from genlab.errors import GenlabError
from genlab.jobs import JobManager, default_max_concurrent, train_in_job
from genlab.train.base import Trainer

torch.set_num_threads(1)
TIMEOUT = 10.0


def wait_for(condition, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def blocking(event: threading.Event):
    """A job that runs until ``event`` is set or it is stopped."""

    def fn(ctx):
        while not event.is_set() and not ctx.should_stop():
            ctx.wait_if_paused(timeout=0.01)
            time.sleep(0.002)
        return "done"

    return fn


def looping(counter: list):
    """A job that counts loop iterations, honouring pause and stop."""

    def fn(ctx):
        while ctx.wait_if_paused():
            counter[0] += 1
            ctx.set_progress(min(0.99, counter[0] / 1e6), f"{counter[0]} loops")
            time.sleep(0.001)

    return fn


@pytest.fixture
def manager():
    manager = JobManager(max_concurrent=1, set_torch_threads=False)
    yield manager
    assert manager.shutdown(timeout=TIMEOUT)


def test_fifo_queue_positions(manager):
    release = threading.Event()
    first = manager.submit(blocking(release), session_id="a", name="first")
    second = manager.submit(blocking(release), session_id="b")
    third = manager.submit(blocking(release), session_id="c")
    wait_for(lambda: first.status == "running")
    assert first.queue_position() is None
    assert (second.status, second.queue_position(), second.jobs_ahead()) == ("queued", 1, 0)
    assert (third.queue_position(), third.jobs_ahead()) == (2, 1)
    assert second.eta_seconds() is None
    first.stop()
    wait_for(lambda: second.status == "running")
    assert first.status == "stopped" and third.queue_position() == 1
    release.set()
    assert third.wait(TIMEOUT)
    assert (second.status, third.status, third.result, third.progress) == ("finished", "finished", "done", 1.0)
    assert manager.queued() == [] and manager.running() == []


def test_pause_resume_stop(manager):
    counter = [0]
    job = manager.submit(looping(counter), session_id="a")
    wait_for(lambda: counter[0] > 3)
    job.pause()
    assert job.status == "paused"
    time.sleep(0.05)
    frozen = counter[0]
    time.sleep(0.1)
    assert counter[0] <= frozen + 1  # at most the iteration in flight
    job.resume()
    assert job.status == "running"
    wait_for(lambda: counter[0] > frozen + 3)
    assert job.progress > 0 and "loops" in job.message and job.eta_seconds() > 0
    job.pause()
    job.stop()  # stopping a paused job wakes it up
    assert job.wait(TIMEOUT) and job.status == "stopped"
    with pytest.raises(GenlabError, match="already ended"):
        job.send("step")


def test_stop_a_queued_job_removes_it_at_once(manager):
    release = threading.Event()
    running = manager.submit(blocking(release), session_id="a")
    queued = manager.submit(blocking(release), session_id="b")
    queued.stop()
    assert queued.status == "stopped" and queued.queue_position() is None and queued.started_at is None
    release.set()
    assert running.wait(TIMEOUT) and running.status == "finished"


def test_commands_snapshots_and_progress(manager):
    seen = []

    def fn(ctx):
        while not ctx.should_stop():
            for command in ctx.take_commands():
                seen.append(command)
                if command == "quit":
                    return len(seen)
            points = np.arange(6.0).reshape(3, 2)
            ctx.publish(points=points, step=len(seen))
            points[:] = -1  # mutating after publish must not change the snapshot
            ctx.wait_if_paused(timeout=0.01)
            time.sleep(0.002)

    job = manager.submit(fn, session_id="a")
    job.send({"set": {"lr": 0.01}})
    job.send("step")
    wait_for(lambda: job.snapshot().get("step") == 2)
    snapshot = job.snapshot()
    np.testing.assert_array_equal(snapshot["points"], np.arange(6.0).reshape(3, 2))
    snapshot["points"][:] = 99  # the copy is ours
    assert job.snapshot()["points"][0, 0] == 0
    job.send("quit")
    assert job.wait(TIMEOUT) and job.result == 3
    assert seen == [{"set": {"lr": 0.01}}, "step", "quit"]


def test_failures_keep_a_readable_error_and_log_the_traceback(manager, caplog):
    def broken(ctx):
        raise ZeroDivisionError("division by zero\nsecond line")

    def bad_input(ctx):
        raise GenlabError("lr must be > 0 (got 0)")

    job = manager.submit(broken, session_id="a")
    assert job.wait(TIMEOUT)
    assert job.status == "failed" and job.error == "ZeroDivisionError: division by zero"
    assert "Traceback" in caplog.text  # the server log has it, the job's error does not
    job = manager.submit(bad_input, session_id="a")
    assert job.wait(TIMEOUT) and job.error == "lr must be > 0 (got 0)"
    counter = [0]
    after = manager.submit(looping(counter), session_id="b")  # the manager still works
    wait_for(lambda: counter[0] > 0)
    after.stop()


def test_same_key_shares_one_job_until_every_session_released(manager):
    counter = [0]
    job = manager.submit(looping(counter), session_id="a", key="hash1")
    assert manager.submit(looping([0]), session_id="b", key="hash1") is job
    assert job.sessions == {"a", "b"} and manager.job_for_key("hash1") is job
    manager.release_session("a")
    assert not job.stop_requested
    manager.release_session("b")
    assert job.wait(TIMEOUT) and job.status == "stopped"
    again = manager.submit(looping(counter), session_id="a", key="hash1")  # ended jobs are not shared
    assert again is not job
    again.stop()


def test_one_job_per_session_new_submission_replaces_the_old(manager):
    release = threading.Event()
    old = manager.submit(blocking(release), session_id="a", name="old")
    wait_for(lambda: old.status == "running")
    new = manager.submit(blocking(release), session_id="a", name="new")
    assert old.wait(TIMEOUT) and old.status == "stopped"
    wait_for(lambda: new.status == "running")
    assert manager.job_for_session("a") is new
    assert [j.name for j in manager.jobs("a", active_only=True)] == ["new"]
    assert manager.release_session("a") == [new]
    assert new.wait(TIMEOUT) and new.status == "stopped"


def test_paused_too_long_is_stopped():
    manager = JobManager(max_concurrent=2, set_torch_threads=False, paused_timeout_s=0.05)
    job = manager.submit(looping([0]), session_id="a")
    job.pause()
    assert job.wait(TIMEOUT) and job.status == "stopped" and "paused for too long" in job.message


def test_max_concurrent_setting(monkeypatch):
    monkeypatch.delenv("GENLAB_MAX_JOBS", raising=False)
    assert default_max_concurrent(2) == 1 and default_max_concurrent(8) == 4 and default_max_concurrent(64) == 4
    monkeypatch.setenv("GENLAB_MAX_JOBS", "3")
    assert default_max_concurrent(2) == 3
    assert JobManager(set_torch_threads=False).max_concurrent == 3
    monkeypatch.setenv("GENLAB_MAX_JOBS", "zero")
    with pytest.raises(GenlabError, match="GENLAB_MAX_JOBS must be a whole number"):
        default_max_concurrent()
    with pytest.raises(GenlabError, match="max_concurrent"):
        JobManager(max_concurrent=0, set_torch_threads=False)
    threads = torch.get_num_threads()
    try:
        manager = JobManager(max_concurrent=1)  # sets torch threads process-wide
        assert torch.get_num_threads() == manager.torch_threads >= 1
    finally:
        torch.set_num_threads(threads)


def test_singleton_and_module_release(monkeypatch):
    monkeypatch.setattr(jobs_module, "_MANAGER", JobManager(max_concurrent=1, set_torch_threads=False))
    assert jobs_module.get_job_manager() is jobs_module.get_job_manager()
    job = jobs_module.get_job_manager().submit(looping([0]), session_id="tab-1")
    jobs_module.release_session("tab-1")
    assert job.wait(TIMEOUT) and job.status == "stopped"


class CountingTrainer(Trainer):
    """A trainer whose step only counts (and records the live 'lr')."""

    LIVE_HYPERPARAMETERS = ("lr",)

    def __init__(self):
        super().__init__({}, type("Config", (), {"lr": 0.1})(), "ring8")

    def validate_hyperparameter(self, name, value):
        if value <= 0:
            raise GenlabError(f"lr must be > 0 (got {value})")
        return value

    def _train_step(self) -> dict:
        time.sleep(0.001)
        return {"loss": 1.0, "lr": self.train_config.lr}


def test_train_in_job_commands_and_single_steps(manager):
    trainer = CountingTrainer()
    job = manager.submit(lambda ctx: train_in_job(ctx, trainer, 10_000, publish_every=5), session_id="a")
    job.pause()
    wait_for(lambda: job.status == "paused")
    time.sleep(0.05)
    start = trainer.step_count
    job.send({"set": {"lr": -1}})
    wait_for(lambda: "lr must be > 0" in job.snapshot().get("command_error", ""))
    job.send({"set": {"lr": 0.5}})
    job.send({"step": 2})
    wait_for(lambda: trainer.step_count == start + 2)
    wait_for(lambda: job.snapshot().get("step") == start + 2)
    assert job.snapshot()["row"]["lr"] == 0.5 and job.snapshot()["hyperparameters"] == {"lr": 0.5}
    assert job.snapshot()["command_error"] == ""
    time.sleep(0.05)
    assert trainer.step_count == start + 2  # still paused
    job.resume()
    wait_for(lambda: trainer.step_count > start + 10)
    job.stop()
    assert job.wait(TIMEOUT) and job.status == "stopped" and job.result == "stopped"
    assert 0 < job.progress < 1


def test_train_in_job_with_a_run_store(tmp_path):
    from genlab.runs import RunStore

    manager = JobManager(max_concurrent=1, set_torch_threads=False)
    run = RunStore(tmp_path).create("job-run", {"model": "counting", "dataset": "ring8"})
    trainer = CountingTrainer()
    trainer.sample = lambda n, seed=None, labels=None: torch.zeros(n, 2)
    trainer.state_dict = lambda: {"step_count": trainer.step_count}
    job = manager.submit(lambda ctx: train_in_job(ctx, trainer, 20, run=run), session_id="a")
    assert job.wait(TIMEOUT) and job.status == "finished" and job.result == "finished"
    assert len(run.read_metrics()) == 20 and run.status()["status"] == "finished"
    assert len(job.snapshot()["rows"]) == 20
