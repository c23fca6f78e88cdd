"""Faults (issue 8): a training process killed with SIGKILL, corrupt or truncated run files.

* ``kill -9`` of a real ``python -m genlab train`` process and of a process running the
  dashboard's job machinery (genlab.jobs + train_in_job): afterwards every saved run lists and
  loads, every metrics file parses, the killed run reads ``interrupted`` and training it again
  resumes from its last checkpoint (rows written after that checkpoint are dropped).
* Corrupt or truncated ``checkpoint.pt`` / ``metrics.csv`` / ``config.json`` / ``status.json``:
  a one-line message naming the run and the file (library and CLI), and the other runs still
  list and load. The pages are tested in tests/app/test_bad_input_pages.py.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from genlab import cli
from genlab.errors import GenlabError
from genlab.runs import Run, RunStore
from genlab.train.recording import load_trainer

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "GENLAB_NO_DOWNLOAD": "1",
           "PYTHONUNBUFFERED": "1"}
    env.pop("GENLAB_DEBUG", None)
    return env


def _wait_for(predicate, timeout: float, what: str, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended ({process.returncode}) before {what}:\n"
                                 + (log.read_text()[-2000:] if log else ""))
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _rows_after_checkpoint(run: Run, margin: int = 5, at_most: int | None = None):
    """The checkpoint's step once the metrics have at least ``margin`` rows after it, and at most
    ``at_most``: killed right away, the process is then well before its next checkpoint (a check
    read while the next checkpoint was being written would see no rows after it)."""
    if not run.has_checkpoint():
        return None
    try:
        step = run.load_checkpoint()["step_count"]
        rows = len(run.read_metrics())
    except GenlabError:          # caught between the checkpoint's rename and ... never partial; retry
        return None
    late = at_most is not None and rows > step + at_most
    return step if step > 0 and rows >= step + margin and not late else None


def _assert_store_healthy(store: RunStore) -> None:
    """Every run lists without error, its metrics parse (steps 1..n, no gaps) and it loads."""
    infos = store.list()
    assert infos and all(info.ok for info in infos), [(i.name, i.status) for i in infos]
    for info in infos:
        run = store.open(info.name)
        frame = run.read_metrics()
        steps = list(frame["step"].astype(int))
        assert steps == list(range(1, len(steps) + 1)), (info.name, steps[-5:])
        assert frame.drop(columns=["changed"], errors="ignore").select_dtypes("number").shape[1] >= 3
        trainer = load_trainer(run)
        assert trainer.step_count == run.load_checkpoint()["step_count"] >= 1


def _runs_listing(root: Path) -> dict[str, str]:
    result = subprocess.run([sys.executable, "-m", "genlab", "runs", "--root", str(root)], env=_env(),
                            capture_output=True, text=True, timeout=180, cwd=root.parent)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["NAME", "STATUS"]
    return {line.split()[0]: line.split()[1] for line in lines[1:]}


# --------------------------------------------------------------------------- kill -9


@pytest.mark.slow
def test_kill_9_during_cli_training_then_list_load_and_resume(tmp_path):
    root = tmp_path / "runs"
    assert cli.main(["train", "gan", "--dataset", "ring8", "--steps", "6", "--out", str(root / "done"),
                     "--device", "cpu", "--quiet", "--batch-size", "64"]) == 0
    log = tmp_path / "train.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "genlab", "train", "gan", "--dataset", "ring8", "--steps", "1000000",
             "--batch-size", "64", "--checkpoint-every", "300", "--out", str(root / "killed"), "--device", "cpu"],
            stdout=handle, stderr=subprocess.STDOUT, env=_env(), cwd=tmp_path)
    try:
        run = Run(root / "killed")
        _wait_for(lambda: _rows_after_checkpoint(run, 5, at_most=150), 240, "a checkpoint with rows after it", process, log)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    # the dead process could not say goodbye: the file says running, the store says interrupted
    raw = json.loads((run.path / "status.json").read_text())
    assert raw["status"] == "running" and raw["pid"] == process.pid
    checkpoint_step = run.load_checkpoint()["step_count"]
    assert run.status()["status"] == "interrupted" and raw["step"] <= checkpoint_step
    assert len(run.read_metrics()) > checkpoint_step          # rows after the checkpoint exist
    assert _runs_listing(root) == {"done": "finished", "killed": "interrupted"}
    _assert_store_healthy(RunStore(root))
    assert RunStore(root).mark_interrupted() == ["killed"]   # what a restarted server may persist
    assert json.loads((run.path / "status.json").read_text())["status"] == "interrupted"

    # training again resumes from the checkpoint; the rows after it are replaced
    target = checkpoint_step + 25
    result = subprocess.run(
        [sys.executable, "-m", "genlab", "train", "gan", "--dataset", "ring8", "--steps", str(target),
         "--out", str(root / "killed"), "--device", "cpu"],
        env=_env(), capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"resuming run {root / 'killed'} from step {raw['step']}" in result.stderr
    assert f"step {checkpoint_step + 1}/{target}" in result.stderr    # the first step after the checkpoint
    status = run.status()
    assert status["status"] == "finished" and status["step"] == target
    assert list(run.read_metrics()["step"]) == list(range(1, target + 1))
    _assert_store_healthy(RunStore(root))


JOB_PROCESS = textwrap.dedent("""
    # The dashboard's way of training: a JobManager thread running train_in_job into the run store.
    import sys, time
    import torch
    from genlab.jobs import JobManager, train_in_job
    from genlab.runs import RunStore
    from genlab.train.registry import build_trainer

    torch.set_num_threads(1)
    root, name, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
    trainer = build_trainer("gan", "ring8", {"batch_size": 64, "seed": 3})
    slow = lambda tr, row: time.sleep(0.02)          # about 50 steps/s at most: killed long before the end
    trainer.add_callback(slow)
    run = RunStore(root).create(name, trainer.config_dict())
    manager = JobManager(max_concurrent=2)
    job = manager.submit(lambda ctx: train_in_job(ctx, trainer, target, run=run, checkpoint_every=20),
                         session_id="student-1", name="GAN 2D")
    job.wait()
    print("job ended", job.status, job.error, flush=True)
""")


def start_job_process(root: Path, name: str, target: int, log: Path) -> subprocess.Popen:
    """A process training run ``name`` the way the dashboard does (see JOB_PROCESS)."""
    with open(log, "w") as handle:
        return subprocess.Popen([sys.executable, "-c", JOB_PROCESS, str(root), name, str(target)],
                                stdout=handle, stderr=subprocess.STDOUT, env=_env(), cwd=root.parent)


@pytest.mark.slow
def test_kill_9_of_a_process_running_a_dashboard_job(tmp_path):
    from genlab.jobs import JobManager, train_in_job
    from genlab.train.registry import trainer_class

    root = tmp_path / "runs"
    root.mkdir()
    log = tmp_path / "job.log"
    process = start_job_process(root, "gan-job", 400, log)
    run = Run(root / "gan-job")
    try:
        _wait_for(lambda: (run.path / "config.json").is_file() and _rows_after_checkpoint(run, 3, at_most=10), 240,
                  "the job's first checkpoint", process, log)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    checkpoint_step = run.load_checkpoint()["step_count"]
    status = run.status()
    assert status["status"] == "interrupted" and status["target_steps"] == 400
    _assert_store_healthy(RunStore(root))

    # what the Runs page's Resume button does: a job rebuilding the trainer from config.json
    manager = JobManager(max_concurrent=1, set_torch_threads=False)
    config = run.config
    trainer = trainer_class(config["model"]).from_config(config)
    target = checkpoint_step + 15
    job = manager.submit(lambda ctx: train_in_job(ctx, trainer, target, run=run), session_id="s")
    assert job.wait(timeout=240) and job.status == "finished", job.error
    assert run.status()["status"] == "finished" and run.load_checkpoint()["step_count"] == target
    assert list(run.read_metrics()["step"]) == list(range(1, target + 1))


# --------------------------------------------------------------------------- corrupt files


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> Path:
    """A store with two finished tiny GAN runs, 'good' and 'victim' (copied per test)."""
    root = tmp_path_factory.mktemp("store") / "runs"
    for name in ("good", "victim"):
        assert cli.main(["train", "gan", "--dataset", "ring8", "--steps", "4", "--out", str(root / name),
                         "--device", "cpu", "--quiet", "--batch-size", "32"]) == 0
    return root


@pytest.fixture
def store(two_runs, tmp_path) -> RunStore:
    import shutil

    shutil.copytree(two_runs, tmp_path / "runs")
    return RunStore(tmp_path / "runs")


def _one_line(capsys, argv) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1, err
    return code, err.strip()


CORRUPT_METRICS = {
    "binary": os.urandom(3000),
    "nul-bytes": b"step,loss_d,extra\n1,0.5,\n\x00\x00\x00\x00\n",
    "not-utf8": b"step,loss_d,extra\n1,\xff\xfe,\n",
    "no-step-column": b"hello,world\n1,2\n",
    "html": b"<html><body>404 Not Found</body></html>\n",
    "csv-error": b'step,loss_d\n1,"' + b"x" * 200_000 + b'"\n',
}


@pytest.mark.parametrize("kind", list(CORRUPT_METRICS))
def test_corrupt_metrics_file_gives_a_clear_message_and_the_run_still_loads(store, capsys, kind):
    victim = store.open("victim")
    victim.metrics_path.write_bytes(CORRUPT_METRICS[kind])
    with pytest.raises(GenlabError) as info:
        victim.read_metrics()
    message = str(info.value)
    assert message.startswith("run 'victim': metrics.csv is corrupt") and "checkpoint is not affected" in message
    assert "\n" not in message and len(message) < 400
    # the run's weights, the listing and the other run are unaffected
    assert load_trainer(victim).step_count == 4
    assert [(i.name, i.status) for i in store.list()] == [("good", "finished"), ("victim", "finished")]
    assert len(store.open("good").read_metrics()) == 4
    # CLI: eval needs no metrics; training on (resuming) refuses with one line, changing nothing
    code, _ = _one_line(capsys, ["eval", victim.path])
    assert code == 0
    before = victim.metrics_path.read_bytes()
    code, err = _one_line(capsys, ["train", "gan", "--out", victim.path, "--steps", "6", "--quiet"])
    assert code == 2 and "metrics.csv is corrupt" in err
    assert victim.metrics_path.read_bytes() == before and victim.status()["step"] == 4


def test_truncated_metrics_file_keeps_every_complete_row(store):
    victim = store.open("victim")
    data = victim.metrics_path.read_bytes()
    lines = data.split(b"\n")
    victim.metrics_path.write_bytes(b"\n".join(lines[:3]) + b"\n" + lines[3][: len(lines[3]) // 2])
    assert list(victim.read_metrics()["step"]) == [1, 2]          # the cut row is ignored
    victim.metrics_path.write_bytes(data + "0.5,\u00e9".encode()[:-1])  # cut inside a UTF-8 character
    assert list(victim.read_metrics()["step"]) == [1, 2, 3, 4]
    victim.metrics_path.write_bytes(data[:5])                       # cut inside the header
    assert victim.read_metrics().empty
    victim.metrics_path.write_bytes(b"")
    assert victim.read_metrics().empty


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_corrupt_checkpoint_on_the_cli_and_in_the_listing(store, capsys, damage):
    victim = store.open("victim")
    data = victim.checkpoint_path.read_bytes()
    victim.checkpoint_path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"",
                                        "garbage": os.urandom(2048)}[damage])
    for argv in (["eval", victim.path], ["sample", victim.path, "--n", "3", "--out", store.root / "s.npy"],
                 ["train", "gan", "--out", victim.path, "--steps", "8", "--quiet"]):
        code, err = _one_line(capsys, argv)
        assert code == 2 and "run 'victim': checkpoint.pt is corrupt or truncated" in err and "retrain" in err
    assert not (store.root / "s.npy").exists()
    code, _ = _one_line(capsys, ["eval", store.root / "good"])
    assert code == 0
    assert load_trainer(store.open("good")).step_count == 4
    assert [i.status for i in store.list()] == ["finished", "finished"]   # the listing reads no weights


@pytest.mark.parametrize("file, content, needle", [
    ("config.json", b"{not json", "config.json is not valid JSON"),
    ("config.json", b"[1, 2]", "must be a JSON object with 'model' and 'dataset'"),
    ("status.json", b"\x00\x01garbage", "status.json is not valid JSON"),
    ("status.json", b'"running"', "status.json must be a JSON object"),
])
def test_corrupt_config_or_status_lists_as_corrupt_and_others_still_load(store, capsys, file, content, needle):
    (store.root / "victim" / file).write_bytes(content)
    infos = {i.name: i for i in store.list()}
    assert infos["good"].status == "finished"
    assert infos["victim"].status.startswith("corrupt: ") and needle in infos["victim"].status
    code = cli.main(["runs", "--root", str(store.root)])
    out = capsys.readouterr().out
    assert code == 0 and "corrupt:" in out and "good" in out
    code, err = _one_line(capsys, ["eval", store.root / "victim"])
    assert (code == 2 and needle in err) or (file == "status.json" and code == 0)
    assert load_trainer(store.open("good")).step_count == 4


def test_a_kill_during_a_checkpoint_write_leaves_the_previous_checkpoint(store, monkeypatch):
    """Checkpoints are written to a temp file and renamed: a crash mid-write (simulated by a
    failing write) keeps the old file, and the leftover temp file disturbs nothing."""
    victim = store.open("victim")
    before = victim.checkpoint_path.read_bytes()
    (victim.path / ".checkpoint.pt.abc123.tmp").write_bytes(before[:100])   # what a SIGKILL mid-write leaves

    def power_cut(*args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OSError):
        victim.save_checkpoint({"w": torch.zeros(3)})
    monkeypatch.undo()
    assert victim.checkpoint_path.read_bytes() == before
    assert load_trainer(victim).step_count == 4
    assert [i.name for i in store.list()] == ["good", "victim"]
    import zipfile
    import io

    names = zipfile.ZipFile(io.BytesIO(victim.export_zip())).namelist()
    assert not [n for n in names if n.endswith(".tmp")]
