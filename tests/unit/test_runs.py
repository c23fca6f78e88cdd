"""Unit tests for genlab.runs: the run store (names, metrics, checkpoints, status, zip) and train_run."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab import runs as runs_module
from genlab.errors import GenlabError
from genlab.processes import process_start_ticks
from genlab.runs import RunStore, config_hash, validate_run_name
from genlab.train.recording import train_run
from genlab.train.base import Trainer

torch.set_num_threads(1)

CONFIG = {"model": "dummy", "dataset": "ring8", "model_config": {"width": 2}, "train_config": {"lr": 0.1, "seed": 0}}


class DummyTrainer(Trainer):
    """A tiny deterministic trainer: fits a 2x2 linear map to a fixed target (no data loading)."""

    model_name = "dummy"
    LIVE_HYPERPARAMETERS = ("lr",)
    default_steps = 10

    def __init__(self, seed: int = 0, lr: float = 0.1):
        super().__init__({"width": 2}, {"lr": lr, "seed": seed}, "ring8")
        torch.manual_seed(seed)
        self.model = torch.nn.Linear(2, 2)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.generator = torch.Generator().manual_seed(seed)

    def _train_step(self) -> dict:
        x = torch.randn(16, 2, generator=self.generator)
        loss = (self.model(x) - 2 * x).pow(2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    def sample(self, n, seed=None, labels=None):
        generator = torch.Generator().manual_seed(seed or 0)
        return self.model(torch.randn(n, 2, generator=generator)).detach()

    def state_dict(self) -> dict:
        return {**super().state_dict(), "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs")


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["", "../x", "..", ".", ".hidden", "a/b", "a\\b", "/abs", "a..b", "a b", "ü", "x" * 101, "a:b"])
def test_bad_run_names_are_refused(store, name):
    with pytest.raises(GenlabError, match="run name"):
        validate_run_name(name)
    with pytest.raises(GenlabError):
        store.create(name, CONFIG)


@pytest.mark.parametrize("name", ["vae-digits_1.2", "a", "x" * 100, "RUN.final"])
def test_good_run_names(name):
    assert validate_run_name(name) == name


# --------------------------------------------------------------------------- store


def test_create_open_list_round_trip(store):
    run = store.create("first", CONFIG)
    assert json.loads((run.path / "config.json").read_text()) == CONFIG
    with pytest.raises(GenlabError, match="already exists"):
        store.create("first", CONFIG)
    assert store.create("first", CONFIG, resume=True).path == run.path
    with pytest.raises(GenlabError, match="different configuration"):
        store.create("first", {**CONFIG, "dataset": "grid25"}, resume=True)
    assert store.open("first").config == CONFIG
    with pytest.raises(GenlabError, match="no run 'missing'"):
        store.open("missing")
    run.set_status("finished", step=3)
    [info] = store.list()
    assert (info.name, info.status, info.model, info.step) == ("first", "finished", "dummy", 3)
    assert info.config_hash == config_hash(CONFIG)


def test_config_hash_is_canonical_and_find_by_config(store):
    reordered = {"train_config": {"seed": 0, "lr": 0.1}, "model_config": {"width": 2}, "dataset": "ring8", "model": "dummy"}
    assert config_hash(reordered) == config_hash(CONFIG)
    assert config_hash({**CONFIG, "dataset": "grid25"}) != config_hash(CONFIG)
    assert store.find_by_config(CONFIG) is None
    store.create("other", {**CONFIG, "dataset": "grid25"})
    store.create("mine", CONFIG)
    assert store.find_by_config(reordered).name == "mine"


def test_corrupt_run_is_listed_and_does_not_break_the_list(store):
    store.create("good", CONFIG).set_status("finished")
    bad = store.root / "bad"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    (store.root / ".import-tmp").mkdir()  # hidden temp folders are not runs
    infos = {info.name: info for info in store.list()}
    assert set(infos) == {"bad", "good"}
    assert infos["bad"].status.startswith("corrupt: ") and "not valid JSON" in infos["bad"].status
    assert infos["good"].status == "finished"


# --------------------------------------------------------------------------- metrics


def test_metrics_new_columns_and_partial_last_line(store):
    run = store.create("m", CONFIG)
    assert run.read_metrics().empty
    run.append_metrics({"step": 1, "loss": 0.5, "changed": ""})
    run.append_metrics({"step": 2, "loss": 0.25, "changed": "lr=0.01", "grad_norm": 3.0})  # a new column
    with open(run.metrics_path, "a") as handle:
        handle.write("3,0.1")  # a writer caught mid-line
    frame = run.read_metrics()
    assert list(frame["step"]) == [1, 2]
    assert frame["loss"].tolist() == [0.5, 0.25]
    assert frame["changed"].tolist() == ["", "lr=0.01"]
    assert np.isnan(frame["grad_norm"][0]) and frame["grad_norm"][1] == 3.0
    assert run.metrics_path.read_text().splitlines()[0] == "step,loss,changed,extra"  # header written once


def test_metrics_readable_while_being_written(store):
    run = store.create("live", CONFIG)
    done = threading.Event()

    def writer():
        for step in range(1, 301):
            run.append_metrics({"step": step, "loss": 1.0 / step, "changed": ""})
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen = []
    while not done.is_set():
        frame = run.read_metrics()
        if not frame.empty:
            assert list(frame["step"]) == list(range(1, len(frame) + 1))
            seen.append(len(frame))
    thread.join()
    assert len(run.read_metrics()) == 300
    assert seen == sorted(seen)


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip_and_atomic_write(store, monkeypatch):
    run = store.create("ckpt", CONFIG)
    with pytest.raises(GenlabError, match="no checkpoint.pt yet"):
        run.load_checkpoint()
    state = {"weights": torch.arange(4.0), "step_count": 3, "nested": {"names": ["a", "b"]}}
    run.save_checkpoint(state)
    loaded = run.load_checkpoint()
    assert torch.equal(loaded["weights"], state["weights"]) and loaded["nested"] == {"names": ["a", "b"]}

    def crash(_fd):
        raise OSError("disk full")

    monkeypatch.setattr(runs_module.os, "fsync", crash)  # the crash happens before os.replace
    with pytest.raises(OSError):
        run.save_checkpoint({"weights": torch.zeros(4), "step_count": 4})
    monkeypatch.undo()
    assert run.load_checkpoint()["step_count"] == 3  # the previous checkpoint is intact
    assert sorted(p.name for p in run.path.iterdir()) == ["checkpoint.pt", "config.json"]  # no temp files


def test_corrupt_checkpoint_has_a_clear_message_and_other_runs_still_load(store):
    good, bad = store.create("good", CONFIG), store.create("bad", CONFIG)
    good.save_checkpoint({"w": torch.ones(1000)})
    bad.save_checkpoint({"w": torch.ones(1000)})
    data = bad.checkpoint_path.read_bytes()
    bad.checkpoint_path.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(GenlabError, match="'bad': checkpoint.pt is corrupt or truncated"):
        bad.load_checkpoint()
    bad.checkpoint_path.write_bytes(b"garbage")
    with pytest.raises(GenlabError, match="corrupt"):
        bad.load_checkpoint()
    torch.save({"something": torch.ones(1)}, bad.checkpoint_path)  # a valid torch file, not ours
    with pytest.raises(GenlabError, match="not a genlab checkpoint"):
        bad.load_checkpoint()
    assert torch.equal(good.load_checkpoint()["w"], torch.ones(1000))
    assert len(store.list()) == 2


class _Payload:
    """Unpickling this would create a marker file: weights_only=True must refuse it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickle_payload_checkpoint_is_refused(store, tmp_path):
    run = store.create("evil", CONFIG)
    marker = tmp_path / "pwned"
    torch.save({"format": "genlab-checkpoint", "version": 1, "state": {"x": _Payload(marker)}}, run.checkpoint_path)
    with pytest.raises(GenlabError, match="weights_only=True"):
        run.load_checkpoint()
    assert not marker.exists()


# --------------------------------------------------------------------------- status / train_run


def test_running_status_of_a_dead_process_reads_interrupted(store):
    run = store.create("crashed", CONFIG)
    run.set_status("running", step=5)
    raw = json.loads((run.path / "status.json").read_text())
    assert raw["pid"] > 0 and raw["status"] == "running" and raw["started"] and raw["updated"]
    # our own pid, but this process is not training it -> interrupted
    assert run.status()["status"] == "interrupted"
    raw["pid"] = dead_pid()
    (run.path / "status.json").write_text(json.dumps(raw))
    assert store.list()[0].status == "interrupted"
    raw["pid"], raw["pid_start"] = 1, process_start_ticks(1)  # pid 1, started when it was recorded: running
    (run.path / "status.json").write_text(json.dumps(raw))
    assert run.status()["status"] == "running"
    raw["pid"] = dead_pid()
    (run.path / "status.json").write_text(json.dumps(raw))
    assert store.mark_interrupted() == ["crashed"]
    assert json.loads((run.path / "status.json").read_text())["status"] == "interrupted"
    with pytest.raises(GenlabError, match="unknown run status"):
        run.set_status("exploded")


@pytest.mark.skipif(process_start_ticks(1) is None, reason="needs /proc")
def test_a_reused_pid_does_not_keep_a_crashed_run_running(store):
    """A crash, then the system gives the dead trainer's pid to another (live) process: the run
    reads interrupted (and may be resumed) because the pid's start time differs."""
    run = store.create("crashed", CONFIG)
    run.set_status("running", step=5)
    raw = json.loads((run.path / "status.json").read_text())
    assert raw["pid_start"] == process_start_ticks(os.getpid())
    raw["pid"] = 1                              # alive, but not the process that wrote the status
    (run.path / "status.json").write_text(json.dumps(raw))
    assert run.status()["status"] == "interrupted"
    assert train_run(DummyTrainer(), run, 2) == "finished"          # resume is not refused
    # a status written before pid_start was recorded: the pid's process must have started before it
    legacy = {"status": "running", "pid": 1, "host": raw["host"], "step": 0,
              "started": "2000-01-01T00:00:00+00:00", "updated": "2000-01-01T00:00:00+00:00"}
    (run.path / "status.json").write_text(json.dumps(legacy))
    assert run.status()["status"] == "interrupted"
    legacy["updated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    (run.path / "status.json").write_text(json.dumps(legacy))
    assert run.status()["status"] == "running"                      # pid 1 started before that write


def test_train_run_resumes_a_run_left_running_by_this_process(store):
    run = store.create("stale", CONFIG)
    run.set_status("running", step=0)  # our pid, but nothing trains it: interrupted, may resume
    assert train_run(DummyTrainer(), run, 2) == "finished"


def test_train_run_finishes_checkpoints_and_writes_samples(store):
    run = store.create("t", CONFIG)
    rows = []
    assert train_run(DummyTrainer(), run, 6, checkpoint_every=4, on_row=rows.append) == "finished"
    assert [r["step"] for r in rows] == list(range(1, 7))
    assert run.load_checkpoint()["step_count"] == 6
    assert run.status()["status"] == "finished" and run.status()["step"] == 6
    assert (run.path / "samples.png").read_bytes()[:4] == b"\x89PNG"
    assert len(run.read_metrics()) == 6
    stop_run = store.create("s", CONFIG)
    trainer = DummyTrainer()
    assert train_run(trainer, stop_run, 100, should_stop=lambda: trainer.step_count >= 3) == "stopped"
    assert stop_run.status()["status"] == "stopped" and stop_run.load_checkpoint()["step_count"] == 3


def test_interrupted_run_resumes_from_its_checkpoint_exactly(store):
    reference = store.create("ref", CONFIG)
    train_run(DummyTrainer(), reference, 10)

    run = store.create("crash", CONFIG)

    def crash_at_7(row):
        if row["step"] == 7:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        train_run(DummyTrainer(), run, 10, checkpoint_every=4, on_row=crash_at_7)
    status = run.status()
    assert status["status"] == "interrupted" and "power cut" in status["message"] and status["step"] == 4
    assert len(run.read_metrics()) == 7
    assert train_run(DummyTrainer(), run, 10) == "finished"  # fresh trainer: loads the step-4 checkpoint
    frame = run.read_metrics()
    assert list(frame["step"]) == list(range(1, 11))  # rows 5-7 of the crashed attempt were dropped
    np.testing.assert_allclose(frame["loss"], reference.read_metrics()["loss"])
    assert torch.equal(run.load_checkpoint()["model"]["weight"], reference.load_checkpoint()["model"]["weight"])


def test_samples_png_for_images_and_points(store):
    run = store.create("img", CONFIG)
    run.save_samples(torch.rand(10, 1, 8, 8))
    from PIL import Image

    assert Image.open(run.path / "samples.png").size[0] > 8
    run.save_samples(np.random.default_rng(0).normal(size=(50, 2)), reference=np.zeros((5, 2)))
    assert Image.open(run.path / "samples.png").size == (320, 320)
    with pytest.raises(GenlabError, match="images"):
        run.save_samples(torch.rand(3, 5))


# --------------------------------------------------------------------------- zip export / import


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_export_import_round_trip(store, tmp_path):
    run = store.create("orig", CONFIG)
    train_run(DummyTrainer(), run, 3)
    data = run.export_zip()
    other = RunStore(tmp_path / "elsewhere")
    copy = other.import_zip(data, "copy")
    assert copy.config == CONFIG
    assert torch.equal(copy.load_checkpoint()["model"]["weight"], run.load_checkpoint()["model"]["weight"])
    assert copy.read_metrics().equals(run.read_metrics())
    assert copy.status()["status"] == "finished"
    with pytest.raises(GenlabError, match="already exists"):
        other.import_zip(data, "copy")
    with pytest.raises(GenlabError, match="run name"):
        other.import_zip(data, "../escape")


@pytest.mark.parametrize("entry", ["../config.json", "/etc/passwd", "sub/config.json", "evil.py", "config.json/", "..\\x"])
def test_import_refuses_unknown_or_traversing_entries(store, entry):
    data = _zip({"config.json": json.dumps(CONFIG).encode(), entry: b"x"})
    with pytest.raises(GenlabError, match="not allowed"):
        store.import_zip(data, "bad")
    assert not store.root.exists() or store.list() == []


def test_import_refuses_bad_archives(store, monkeypatch, tmp_path):
    good_config = json.dumps(CONFIG).encode()
    with pytest.raises(GenlabError, match="not a zip"):
        store.import_zip(b"PK\x03\x04 not really", "x")
    with pytest.raises(GenlabError, match="no config.json"):
        store.import_zip(_zip({"metrics.csv": b"step\n1\n"}), "x")
    with pytest.raises(GenlabError, match="config.json"):
        store.import_zip(_zip({"config.json": b"[1, 2]"}), "x")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", good_config)
        with pytest.warns(UserWarning, match="Duplicate"):
            archive.writestr("config.json", good_config)
    with pytest.raises(GenlabError, match="twice"):
        store.import_zip(buffer.getvalue(), "x")
    monkeypatch.setitem(runs_module.IMPORT_LIMITS, "metrics.csv", 1000)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", good_config)
        archive.writestr("metrics.csv", b"0" * 100_000)
    with pytest.raises(GenlabError, match="too large"):
        store.import_zip(bomb.getvalue(), "x")
    checkpoint = io.BytesIO()
    marker = tmp_path / "pwned"
    torch.save({"format": "genlab-checkpoint", "version": 1, "state": {"x": _Payload(marker)}}, checkpoint)
    with pytest.raises(GenlabError, match="weights_only=True"):
        store.import_zip(_zip({"config.json": good_config, "checkpoint.pt": checkpoint.getvalue()}), "x")
    assert not marker.exists()
    assert store.list() == [] and [p.name for p in store.root.iterdir()] == []  # temp folders cleaned up
