"""Unit tests for genlab.jobs: queue positions, pause/resume/stop, commands, failures, sharing, sessions."""
from __future__ import annotations

import threading
import time
import types

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


# --------------------------------------------------------------------------- CPU turns


def _turn_taker(log: list, name: str, steps: int, step_s: float = 0.01):
    """A job loop as the pages write it: wait for a compute slot, then one 'step' of busy work."""
    def fn(ctx):
        done = 0
        while done < steps and ctx.wait_for_cpu():
            start = time.monotonic()
            while time.monotonic() - start < step_s:
                pass
            log.append((name, start, time.monotonic()))
            done += 1
        return done
    return fn


def test_cpu_turns_one_job_computes_at_a_time_and_all_progress():
    manager = JobManager(max_concurrent=3, compute_slots=1, turn_s=0.05, set_torch_threads=False)
    log: list = []
    jobs = [manager.submit(_turn_taker(log, f"j{i}", 30), session_id=f"s{i}") for i in range(3)]
    for job in jobs:
        assert job.wait(30), job
    assert [job.result for job in jobs] == [30, 30, 30]
    spans = sorted(log, key=lambda r: r[1])
    # one compute slot: no two steps overlap in time
    assert all(a[2] <= b[1] + 1e-4 for a, b in zip(spans, spans[1:]))
    # turns rotate: every job computed before any job finished its 30 steps (no job ran to the end alone)
    first_end = min(max(t for n, _, t in log if n == name) for name in ("j0", "j1", "j2"))
    assert all(min(s for n, s, _ in log if n == name) < first_end for name in ("j0", "j1", "j2"))
    # a turn lasts about turn_s: runs of consecutive steps by one job are short (~5 steps of 10 ms)
    runs, last, length = [], None, 0
    for name, _, _ in spans:
        length = length + 1 if name == last else 1
        if name != last and last is not None:
            runs.append(prev_length)
        prev_length, last = length, name
    assert runs and max(runs) <= 12


def test_turns_shrink_when_many_jobs_share_a_slot():
    manager = JobManager(max_concurrent=12, compute_slots=1, turn_s=0.1, round_s=0.6, set_torch_threads=False)
    assert manager.turn_length() == 0.1                    # nobody shares: the full turn
    with manager._cond:                                    # 10 jobs on the slot (1 holds it, 9 wait)
        manager._holders = {object(): 0.0}
        manager._waiting.extend(object() for _ in range(9))
    assert manager.turn_length() == pytest.approx(0.06)    # a round of 10 turns still takes 0.6 s
    with manager._cond:
        manager._waiting.extend(object() for _ in range(90))
    assert manager.turn_length() == pytest.approx(0.02)    # never shorter than 0.02 s
    with manager._cond:
        manager._holders, manager._waiting = {}, type(manager._waiting)()


def test_a_turn_ends_only_where_the_job_saw_it_end(monkeypatch):
    """cpu_turn_over() said no, then the thread was descheduled past the turn's end: the next
    wait_for_cpu() keeps the slot (the caller did not publish this turn's end; handing over now
    would leave its page without a step count for a second round). Seen at the next check, it goes."""
    clock = {"now": 100.0}
    monkeypatch.setattr(jobs_module, "time", types.SimpleNamespace(monotonic=lambda: clock["now"],
                                                                  time=time.time))
    manager = JobManager(max_concurrent=2, compute_slots=1, turn_s=0.1, set_torch_threads=False)
    a, b = (jobs_module.Job(manager, lambda ctx: None, session_id=name, key=None, name=name) for name in "ab")
    with manager._cond:
        manager._holders[a] = clock["now"]
        manager._waiting.append(b)
    ctx = jobs_module.JobContext(a)
    a._stop_requested = True                       # (so that no call below waits for a next turn)
    clock["now"] += 0.05
    assert ctx.cpu_turn_over() is False
    clock["now"] += 0.06                           # the turn ends unseen
    assert manager._turn_over(a)                   # (what a second look would act on)
    ctx.wait_for_cpu()
    assert a in manager._holders and list(manager._waiting) == [b]
    assert ctx.cpu_turn_over() is True             # seen now: the caller publishes, then hands over
    ctx.wait_for_cpu()
    assert b in manager._holders and a not in manager._holders and a not in manager._waiting


def test_cpu_turns_free_slots_never_wait_and_pause_releases_the_slot():
    manager = JobManager(max_concurrent=2, compute_slots=2, turn_s=0.01, set_torch_threads=False)
    log: list = []
    a = manager.submit(_turn_taker(log, "a", 20), session_id="a")
    b = manager.submit(_turn_taker(log, "b", 20), session_id="b")
    assert a.wait(30) and b.wait(30)
    overlap = any(x[0] != y[0] and x[1] < y[2] and y[1] < x[2] for x in log for y in log)
    assert overlap                      # two slots: both computed at the same time, nobody waited

    solo = JobManager(max_concurrent=2, compute_slots=1, turn_s=0.01, set_torch_threads=False)
    gate = threading.Event()

    def pausing(ctx):
        ctx.wait_for_cpu()
        gate.set()
        ctx.job.pause()
        ctx.wait_if_paused(timeout=5)      # paused: the slot goes to the other job
        return "resumed"

    first = solo.submit(pausing, session_id="p")
    assert gate.wait(10)
    other_log: list = []
    other = solo.submit(_turn_taker(other_log, "o", 5), session_id="o")
    assert other.wait(10) and other.result == 5       # ran while the first job was paused
    first.resume()
    assert first.wait(10) and first.result == "resumed"


def test_cpu_turns_stop_while_waiting_and_settings(monkeypatch):
    manager = JobManager(max_concurrent=2, compute_slots=1, turn_s=10.0, set_torch_threads=False)
    hold, holding = threading.Event(), threading.Event()

    def hog(ctx):
        ctx.wait_for_cpu()
        holding.set()
        hold.wait(10)
        return "hog"

    waiting_started = threading.Event()

    def waiter(ctx):
        waiting_started.set()
        return ctx.wait_for_cpu()

    h = manager.submit(hog, session_id="h")
    assert holding.wait(10)
    w = manager.submit(waiter, session_id="w")
    assert waiting_started.wait(10)
    time.sleep(0.05)
    w.stop()                                  # a job stopped while it waits for the CPU ends at once
    assert w.wait(5) and w.status == "stopped" and w.result is False
    hold.set()
    assert h.wait(5)
    monkeypatch.setenv("GENLAB_COMPUTE_SLOTS", "3")
    assert jobs_module.default_compute_slots(16) == 3
    monkeypatch.setenv("GENLAB_COMPUTE_SLOTS", "zero")
    with pytest.raises(GenlabError, match="GENLAB_COMPUTE_SLOTS must be a whole number"):
        jobs_module.default_compute_slots()
    monkeypatch.delenv("GENLAB_COMPUTE_SLOTS")
    assert jobs_module.default_compute_slots(2) == 1 and jobs_module.default_compute_slots(64) == 4
    with pytest.raises(GenlabError, match="compute_slots must be a whole number"):
        JobManager(compute_slots=0, set_torch_threads=False)


def test_the_log_says_when_jobs_queue_start_stop_and_end(caplog):
    """Operators (and a failing browser test) read the server log: each job's queueing, start and
    end is one INFO line on the ``genlab.jobs`` logger."""
    caplog.set_level("INFO", logger="genlab.jobs")
    manager = JobManager(max_concurrent=1, set_torch_threads=False)
    release = threading.Event()
    first = manager.submit(blocking(release), session_id="a", name="first")
    second = manager.submit(blocking(release), session_id="b", name="second")
    first.stop()
    assert second.wait(0) is False
    wait_for(lambda: second.status == "running")
    release.set()
    assert second.wait(TIMEOUT)
    text = caplog.text
    assert f"{second.id} (second) queued: 0 ahead; running: {first.id} (first, running)" in text
    assert f"{first.id} (first) asked to stop (running)" in text
    assert f"{first.id} (first) stopped after" in text
    assert f"{second.id} (second) started for session b" in text
    assert f"{second.id} (second) finished after" in text
