"""The training lease (genlab.run_lease) and how the run store reads it: a run left ``running`` by
a process on another host is interrupted (resumable) once its heartbeat is stale."""
from __future__ import annotations

import json
import socket
import time

import pytest

from genlab import run_lease
from genlab.run_lease import LEASE_FILE, Heartbeat, lease_state, read_beat, write_beat
from genlab.run_storage import _atomic_write_json
from genlab.runs import RunStore


def test_a_fresh_beat_is_fresh_and_an_old_one_stale(tmp_path):
    assert lease_state(tmp_path) == "none"
    write_beat(tmp_path, now=1000.0)
    assert read_beat(tmp_path)["beat"] == 1000.0
    assert read_beat(tmp_path)["host"] == socket.gethostname()
    assert lease_state(tmp_path, now=1000.0 + run_lease.STALE_SECONDS) == "fresh"
    assert lease_state(tmp_path, now=1000.0 + run_lease.STALE_SECONDS + 0.1) == "stale"
    assert lease_state(tmp_path, now=990.0) == "fresh"          # another host's clock a little ahead


@pytest.mark.parametrize("text", ["", "{", "[]", '{"beat": "soon"}', '{"beat": true}', '{"host": "a"}'])
def test_an_unreadable_lease_is_no_sign_of_life(tmp_path, text):
    (tmp_path / LEASE_FILE).write_text(text)
    assert read_beat(tmp_path) is None
    assert lease_state(tmp_path) == "none"


def test_the_heartbeat_refreshes_the_lease_and_removes_it_at_stop(tmp_path):
    beat = Heartbeat(tmp_path, every=0.05).start()
    try:
        first = read_beat(tmp_path)["beat"]
        deadline = time.monotonic() + 10
        while read_beat(tmp_path)["beat"] == first and time.monotonic() < deadline:
            time.sleep(0.02)
        assert read_beat(tmp_path)["beat"] > first
        assert lease_state(tmp_path) == "fresh"
    finally:
        beat.stop()
    assert not (tmp_path / LEASE_FILE).exists()
    assert lease_state(tmp_path) == "none"


def _running_elsewhere(store: RunStore, name: str):
    """A run whose status says ``running`` in a process on another machine."""
    run = store.create(name, {"model": "gan", "dataset": "ring8", "seed": 0})
    run.set_status("running", step=40)
    info = json.loads((run.path / "status.json").read_text())
    _atomic_write_json(run.path / "status.json", {**info, "host": "replica-b.example", "pid": 4242, "pid_start": 1})
    return run


def test_another_hosts_run_is_running_while_its_lease_is_fresh(tmp_path):
    store = RunStore(tmp_path)
    run = _running_elsewhere(store, "a")
    write_beat(run.path)
    assert run.status()["status"] == "running"
    assert store.mark_interrupted() == []


def test_another_hosts_run_is_interrupted_once_its_lease_is_stale(tmp_path):
    store = RunStore(tmp_path)
    run = _running_elsewhere(store, "a")
    write_beat(run.path, now=time.time() - run_lease.STALE_SECONDS - 5)
    status = run.status()
    assert status["status"] == "interrupted"
    assert "train again to resume" in status["message"]
    assert [info.status for info in store.list()] == ["interrupted"]
    assert store.mark_interrupted() == ["a"]
    assert json.loads((run.path / "status.json").read_text())["status"] == "interrupted"


def test_another_hosts_run_without_a_lease_is_trusted(tmp_path):
    # written by a genlab from before leases: nothing tells us it is gone
    run = _running_elsewhere(RunStore(tmp_path), "a")
    assert run.status()["status"] == "running"


def test_training_a_run_holds_its_lease_and_releases_it(tmp_path):
    from genlab.train.recording import train_run
    from genlab.train.registry import build_trainer

    seen = []

    class Watch:
        def __call__(self, row):
            seen.append(lease_state(run.path))

    trainer = build_trainer("gan", "ring8", {"seed": 0, "steps": 3})
    run = RunStore(tmp_path).create("g", trainer.config_dict())
    train_run(trainer, run, steps=3, on_row=Watch())
    assert seen and set(seen) == {"fresh"}
    assert not (run.path / LEASE_FILE).exists()
    assert run.status()["status"] == "finished"


def test_another_hosts_run_is_resumed_here_only_once_its_lease_is_stale(tmp_path):
    from genlab.errors import GenlabError
    from genlab.train.recording import train_run
    from genlab.train.registry import build_trainer

    store = RunStore(tmp_path)
    first = build_trainer("gan", "ring8", {"seed": 0, "steps": 6})
    run = store.create("g", first.config_dict())
    assert train_run(first, run, 3) == "finished"      # a checkpoint at step 3, as a dead replica left it
    info = json.loads((run.path / "status.json").read_text())
    _atomic_write_json(run.path / "status.json", {**info, "status": "running", "host": "replica-b.example",
                                                  "pid": 4242, "pid_start": 1})
    write_beat(run.path)                                # replica b is still alive
    with pytest.raises(GenlabError, match="is being trained by process 4242 on replica-b.example"):
        train_run(build_trainer("gan", "ring8", {"seed": 0, "steps": 6}), run, 6)
    write_beat(run.path, now=time.time() - run_lease.STALE_SECONDS - 1)   # replica b died
    again = build_trainer("gan", "ring8", {"seed": 0, "steps": 6})
    assert train_run(again, run, 6) == "finished"
    assert again.step_count == 6 and run.status()["host"] == socket.gethostname()
    assert list(run.read_metrics()["step"]) == list(range(1, 7))   # resumed from step 3, not restarted
