"""AppTest tests of the Runs page (issue 6): listing (incl. interrupted and corrupt runs and the
shipped demos), URL state, demo loading, delete with confirmation, resume in the background + stop,
hidden controls.

Each test gets its own run store (GENLAB_RUNS_DIR) and demo folder (GENLAB_DEMOS_DIR) with tiny
runs (a few steps of the 2D GAN), so nothing here depends on the real ./runs or demos/.
"""
from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from genlab import demos
from genlab.runs import RunStore, _atomic_write_json
from genlab.train.recording import train_run
from genlab.train.registry import build_trainer

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard" / "pages" / "runs.py")
TINY_OPTIONS = {"seed": 0, "steps": 12}


# --------------------------------------------------------------------------- helpers (also used by test_export.py)
_TEMPLATES: dict[int, Path] = {}


def tiny_run(store: RunStore, name: str, steps: int = 12, target: int | None = None):
    """A finished (or, with ``target`` > ``steps``, stopped) 2D GAN run of ``steps`` steps.

    Each length is trained once per test session into a template folder and copied."""
    template = _TEMPLATES.get(steps)
    if template is None or not template.is_dir():
        import atexit
        import tempfile

        holder = RunStore(tempfile.mkdtemp(prefix="genlab-runs-template-"))
        atexit.register(shutil.rmtree, holder.root, True)
        trainer = build_trainer("gan", "ring8", dict(TINY_OPTIONS))
        train_run(trainer, holder.create("template", trainer.config_dict()), steps, checkpoint_every=5)
        template = _TEMPLATES[steps] = holder.root / "template"
    store.root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template, store.root / name)
    run = store.open(name)
    if target is not None:
        run.set_status("stopped", step=steps, target_steps=target)
    return run


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """One torch thread and a private job manager that leaves the thread count alone: the test
    machine is shared, and more threads than free cores make every step many times slower."""
    from genlab import jobs

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    manager = jobs.JobManager(max_concurrent=1, set_torch_threads=False)
    monkeypatch.setattr(jobs, "_MANAGER", manager)
    yield manager
    manager.shutdown(timeout=10)
    torch.set_num_threads(previous)


def make_interrupted(run, target: int) -> None:
    """Mark ``run`` as 'running' in a process that no longer exists (what a crash leaves)."""
    info = run.read_status_file()
    info.update(status="running", pid=2**22 + 12345, host=socket.gethostname(), target_steps=target)
    _atomic_write_json(run.path / "status.json", info)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """A tiny shipped-demo folder built with genlab.demos (the CLI path), made once."""
    root = tmp_path_factory.mktemp("demos")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        demos.build_demo(demos.DemoSpec("gan-ring8", "gan", "ring8", dict(TINY_OPTIONS), "gan_2d.py", "tiny"),
                         root, log=lambda text: None)
        demos.build_demo(demos.DemoSpec("ae-digits-k2", "ae", "digits", {"latent_dim": 2, "epochs": 1, "seed": 0},
                                        "latent_spaces.py", "tiny"), root, log=lambda text: None)
    finally:
        torch.set_num_threads(previous)
    return root


@pytest.fixture
def env(tmp_path, monkeypatch, demo_template):
    """(user store, demo root) for one test, wired into the page through the environment."""
    store = RunStore(tmp_path / "runs")
    demo_root = tmp_path / "demos"
    shutil.copytree(demo_template, demo_root)
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(store.root))
    monkeypatch.setenv("GENLAB_DEMOS_DIR", str(demo_root))
    return store, demo_root


def run_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return ok(at)


def ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table(at: AppTest):
    return at.dataframe[0].value


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [m.value for m in at.caption]
    for kind in (at.info, at.warning, at.error, at.success):
        parts += [m.value for m in kind]
    return "\n".join(parts)


# --------------------------------------------------------------------------- tests
def test_lists_runs_statuses_and_demos(env):
    store, _ = env
    tiny_run(store, "finished-run")
    make_interrupted(tiny_run(store, "crashed-run", steps=10), target=40)
    (store.root / "broken").mkdir()
    (store.root / "broken" / "config.json").write_text("{not json")
    at = run_page()
    frame = table(at)
    status = dict(zip(frame["run"], frame["status"]))
    assert status["finished-run"] == "finished"
    assert status["crashed-run"] == "interrupted"
    assert status["broken"].startswith("corrupt")
    assert status["gan-ring8"] == "finished"
    where = dict(zip(frame["run"], frame["where"]))
    assert where["gan-ring8"] == "demo" and where["finished-run"] == "your runs"
    row = frame[frame["run"] == "crashed-run"].iloc[0]
    assert row["model"] == "gan" and row["data set"] == "ring8" and row["steps"] == "10 / 40"
    assert "loss_d" in frame[frame["run"] == "finished-run"].iloc[0]["key metrics"]
    assert "modes_covered" in frame[frame["run"] == "gan-ring8"].iloc[0]["key metrics"]  # the demo's evaluation


def test_selection_and_chart_settings_live_in_the_url(env):
    store, _ = env
    tiny_run(store, "a-run")
    at = run_page()
    assert at.selectbox(key="run").value == "run/a-run"          # the user's runs come first
    assert len(at.get("plotly_chart")) == 1
    at.selectbox(key="run").set_value("demo/gan-ring8")
    ok(at)
    at.slider(key="smooth").set_value(5)
    ok(at)
    at.multiselect(key="m").set_value(["loss_g", "d_fake"])
    ok(at)
    assert at.query_params["run"] == ["demo/gan-ring8"] or at.query_params["run"] == "demo/gan-ring8"
    query = {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert query["smooth"] == "5" and query["m"] == "loss_g,d_fake"
    # the same link in a new session shows the same view
    again = run_page(query)
    assert again.selectbox(key="run").value == "demo/gan-ring8"
    assert again.slider(key="smooth").value == 5
    assert again.multiselect(key="m").value == ["loss_g", "d_fake"]
    assert "gan-ring8" in again.subheader[0].value
    assert "http" in again.code[-1].value and "run=demo" in again.code[-1].value   # the copy-link box


def test_demo_is_labelled_and_can_be_copied_into_the_store(env):
    store, _ = env
    at = run_page()   # no user runs: the first demo is selected
    assert at.selectbox(key="run").value == "demo/ae-digits-k2"
    at.selectbox(key="run").set_value("demo/gan-ring8")
    ok(at)
    assert "python -m genlab demos" in texts(at) and "Shipped demo run" in texts(at)
    assert [b.label for b in at.button if b.label.startswith("Delete")] == []   # demos cannot be deleted
    at.button(key="copy_demo").click()
    ok(at)
    assert store.exists("gan-ring8")
    assert at.selectbox(key="run").value == "run/gan-ring8"
    assert "Copied the demo" in texts(at)
    at.selectbox(key="run").set_value("demo/gan-ring8")
    ok(at)
    at.button(key="copy_demo").click()
    ok(at)
    assert store.exists("gan-ring8-2")


def test_delete_asks_for_confirmation(env):
    store, _ = env
    tiny_run(store, "doomed")
    at = run_page()
    at.button(key="delete").click()
    ok(at)
    assert "cannot be undone" in texts(at)
    at.button(key="delete_no").click()
    ok(at)
    assert store.exists("doomed") and "cannot be undone" not in texts(at)
    at.button(key="delete").click()
    ok(at)
    at.button(key="delete_yes").click()
    ok(at)
    assert not store.exists("doomed")
    assert "Deleted run" in texts(at)
    assert at.selectbox(key="run").value == "demo/ae-digits-k2"


def _wait_job(at: AppTest, timeout: float = 60.0):
    from genlab.jobs import get_job_manager

    job = get_job_manager().get(at.session_state["_runs_job"])
    assert job is not None
    job.wait(timeout)
    return job


def test_resume_an_interrupted_run_in_the_background(env):
    store, _ = env
    run = tiny_run(store, "crashed", steps=10)
    make_interrupted(run, target=24)
    at = run_page()
    assert "interrupted" in texts(at)
    at.button(key="resume").click()
    ok(at)
    job = _wait_job(at)
    assert job.status == "finished", job.error
    ok(at)
    assert run.status()["status"] == "finished" and run.status()["step"] == 24
    assert table(at).set_index("run").loc["crashed", "status"] == "finished"
    assert "Training finished" in texts(at)


def test_stop_button_stops_a_resumed_run(env):
    store, _ = env
    run = tiny_run(store, "long", steps=10, target=1_000_000)
    at = run_page()
    at.button(key="resume").click()
    ok(at)
    from genlab.jobs import get_job_manager

    job = get_job_manager().get(at.session_state["_runs_job"])
    deadline = time.monotonic() + 60
    while job.status in ("queued",) or (job.status == "running" and job.progress == 0.0):
        assert time.monotonic() < deadline, "the resume job did not start"
        time.sleep(0.1)
    ok(at)
    assert at.get("progress"), "no progress bar while resuming"
    at.button(key="stop_resume").click()
    ok(at)
    job.wait(60)
    assert job.status == "stopped"
    status = run.status()
    assert status["status"] == "stopped" and 10 < status["step"] < 1_000_000


def test_autoencoder_demo_chart_has_the_test_metrics(env):
    """AE/VAE metrics hold test metrics only at the end of each epoch ("nan" in between)."""
    at = run_page({"run": "demo/ae-digits-k2"})
    options = at.multiselect(key="m").options
    assert {"recon_loss", "test_recon_loss", "test_elbo"} <= set(options)
    assert at.multiselect(key="m").value == ["recon_loss", "test_recon_loss"]
    figure = at.get("plotly_chart")[0].proto.spec
    assert '"test_recon_loss"' in figure
    assert "test_recon_mse" in table(at).set_index("run").loc["ae-digits-k2", "key metrics"]


def test_instructor_link_hides_chosen_controls(env):
    store, _ = env
    tiny_run(store, "shown")
    at = run_page({"instructor": "1", "hide": "import,manage,table,explanations,run", "run": "demo/gan-ring8"})
    assert not at.file_uploader and not at.dataframe
    assert not [b for b in at.button if b.key in ("delete", "copy_demo", "resume")]
    assert not [s for s in at.selectbox if s.key == "run"]
    assert "gan-ring8" in at.subheader[0].value                 # the hidden selector keeps the link's value
    assert "Every model trained" not in texts(at)
    assert at.download_button                                     # export is still there
    assert at.session_state["_genlab_instructor"] is True


def test_corrupt_run_shows_a_message_not_an_exception(env):
    store, _ = env
    run = tiny_run(store, "bad")
    (run.path / "checkpoint.pt").write_bytes(b"garbage")
    (run.path / "metrics.csv").write_bytes(b"\xff\xfe not a csv")
    (store.root / "worse").mkdir()
    (store.root / "worse" / "config.json").write_text("[]")
    for name in ("run/bad", "run/worse"):
        at = run_page({"run": name})
        assert at.selectbox(key="run").value == name
    assert "cannot be read" in texts(at)


def test_empty_store_and_no_demos(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("GENLAB_DEMOS_DIR", str(tmp_path / "no-demos"))
    at = run_page({"run": "run/ghost"})
    assert "No runs yet" in texts(at) and "python -m genlab demos" in texts(at)
    assert at.file_uploader      # importing is still possible
