"""Bad input and broken files on the pages (issue 8): a clear message saying what is allowed,
never a traceback, nothing lost.

AppTest: the KL pages (negative / NaN / not-summing probabilities, ρ = ±1 from a link), the GAN 2D
page (CSV uploads that are empty, text, NaN/inf, not a CSV, too long; lr ≤ 0 and k = 0 from a
link), the latent pages (K = 0, epochs = 0, β < 0, MNIST offline), the Runs page (a run killed with
SIGKILL mid-training lists as interrupted and resumes; corrupt checkpoint / metrics / config files;
uploads of a zip with a pickle payload, a run name with ``../``, a file that is not a zip) and the
image GAN page (loading a run whose checkpoint is corrupt).

Playwright (marker ``browser``): the real GAN 2D page refuses an upload over
``server.maxUploadSize`` (also a direct HTTP upload that bypasses the page's own check) and shows
the message for a file that is not a CSV.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from genlab import cli
from genlab.jobs import get_job_manager
from genlab.runs import Run, RunStore

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "dashboard" / "pages"
KL = str(PAGES / "kl_discrete.py")
GAUSSIAN = str(PAGES / "gaussian_kl.py")
GAN2D = str(PAGES / "gan_2d.py")
IMAGES = str(PAGES / "gan_images.py")
RUNS = str(PAGES / "runs.py")


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """A temporary run store, no demos, no downloads, one torch thread; no job left behind."""
    torch.set_num_threads(1)
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("GENLAB_DEMOS_DIR", str(tmp_path / "no-demos"))
    monkeypatch.setenv("GENLAB_NO_DOWNLOAD", "1")
    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path / "no-data"))
    yield
    manager = get_job_manager()
    for job in manager.jobs(active_only=True):
        job.stop()
    for job in manager.jobs(active_only=True):
        job.wait(60)


def _app(path: str, **params) -> AppTest:
    at = AppTest.from_file(path, default_timeout=180)
    for name, value in params.items():
        at.query_params[name] = value
    return _run(at)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _messages(at: AppTest, *kinds: str, raw: bool = False) -> str:
    """The text of the page's messages; unless ``raw``, with safe_text.md's backslash escapes removed."""
    kinds = kinds or ("error", "warning", "info", "success")
    text = "\n".join(el.value for kind in kinds for el in getattr(at, kind))
    text = text if raw else re.sub(r"\\([\\`*_{}\[\]()#+!|<>~$:&@.\-])", r"\1", text)
    return text if raw else text.replace("\u200b", "")      # md breaks bare URLs with zero-width spaces


def _texts(at: AppTest) -> str:
    parts = [c.value for c in at.caption] + [m.value for m in at.markdown] + [_messages(at)]
    parts += [p.proto.text for p in at.get("progress")]
    return "\n".join(str(p) for p in parts)


def _wait(predicate, timeout: float = 180, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


def _no_job() -> bool:
    return not get_job_manager().jobs(active_only=True)


class Payload:
    """Unpickling this creates ``marker`` (a stand-in for a malicious pickle payload)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


# --------------------------------------------------------------------------- KL pages


@pytest.mark.parametrize("table, needles", [
    ('[["a",NaN,0.5],["b",-0.5,0.5],["c",Infinity,0]]',
     ["is empty (or not a number): a probability must be a number between 0 and 1", "is -0.5: a probability must be ≥ 0",
      "is infinite"]),
    ('[["a",0.2,0.5],["b",0.2,0.7]]', ["**q(x)** column sums to 0.4, not 1", "must add up to 1", "Normalize"]),
    ('[["a",-1,2],["b",2,-1]]', ["must be ≥ 0"]),
])
def test_kl_discrete_bad_probabilities_from_a_link(table, needles):
    at = _app(KL, table=table)
    error = _messages(at, "error")
    assert error.startswith("This table is not a pair of probability distributions yet")
    for needle in needles:
        assert needle in error, error
    assert {m.label: m.value for m in at.metric}["KL(q‖p)"] == "—"


@pytest.mark.parametrize("table, needle", [
    ("[" * 5000 + "]" * 5000, "the table in the link is nested too deeply"),      # was a RecursionError
    ('[[["a"]], [["b"]], [["c"]]]', "the table in the link is nested 3 levels deep; at most 2"),
    ("[" + ",".join(['["x",0.5,0.5]'] * 60) + "]", "the table in the link has 60 rows; allowed: a JSON list of 1 to 50"),
    ('{"a": 1}', "the table in the link is not a JSON list of 1 to 50 rows"),
    ("x" * 10_000, "the table in the link is not valid JSON"),
    ('[["' + "a" * 30_000 + '",1,1]]', "30,010 characters; at most 20,000"),
])
def test_kl_discrete_unreadable_table_in_the_link_shows_the_preset(table, needle):
    """Issue 24 item 6: a deeply nested ?table= showed an exception."""
    at = _app(KL, table=table)
    warning = _messages(at, "warning")
    assert needle in warning and "Showing the preset" in warning, warning
    assert not at.error and {m.label: m.value for m in at.metric}["KL(q‖p)"] != "—"


def test_kl_discrete_outcome_names_from_a_link_are_shown_literally():
    evil = "[log in](http://evil/p) ![b](http://evil/b.png) <b>x</b>"
    at = _app(KL, table=json.dumps([[evil, 0.5, -0.5], ["b", 0.5, 1.5]]))
    raw = _messages(at, "error", raw=True)
    assert r"\[log in\]\(http" in raw and "](http" not in raw.replace("\\]", ""), raw
    assert "[log in](http://evil/p)" in _messages(at, "error")


def test_kl_discrete_nan_and_negative_typed_into_the_table():
    at = _app(KL)
    at.session_state["kl_table_0"] = {"edited_rows": {0: {"q(x)": math.nan}, 1: {"p(x)": -2}},
                                      "added_rows": [], "deleted_rows": []}
    _run(at)
    error = _messages(at, "error")
    assert "is empty (or not a number)" in error and "is -2: a probability must be ≥ 0" in error


@pytest.mark.parametrize("params, key, used", [
    ({"rho": "1"}, "rho", 0.99),
    ({"rho": "-1"}, "rho", -0.99),
    ({"mode": "Mixture p (PRML Fig. 10.3)", "crho": "-1"}, "crho", -0.9),
])
def test_gaussian_kl_correlation_plus_minus_one_from_a_link(params, key, used):
    at = _app(GAUSSIAN, **params)
    warning = _messages(at, "warning")
    value = params[key]
    assert f"= {value} in the link is outside the allowed range" in warning
    assert "covariance is singular — not positive definite" in warning and f"Using {used:g}" in warning
    assert at.slider(key=key).value == pytest.approx(used)
    assert not at.error


# --------------------------------------------------------------------------- GAN 2D


BAD_CSV = {
    "empty.csv": (b"", "the CSV is empty; expected a header line 'x,y'"),
    "text.csv": (b"x,y\n1,2\nabc,3\n", "line 3 of the CSV has a value that is not a number"),
    "nan.csv": (b"x,y\n1,2\nnan,4\n", "x and y must be finite numbers"),
    "inf.csv": (b"x,y\n1,2\n3,inf\n", "line 3 of the CSV has NaN or infinity"),
    "picture.csv": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300), "this is not a CSV text file"),
    "columns.csv": (b"a,b\n1,2\n3,4\n", "the CSV needs columns named x and y"),
    "long.csv": (b"x,y\n" + b"0,1\n" * 150_000, "more than 100000 rows; allowed: 2 to 100000 points"),
    "three.csv": (b"x,X,y\n1,2,3\n4,5,6\n", "the CSV has 3 columns (x, X, y); allowed: exactly 2 columns named x and y"),
    "wide.csv": (",".join(f"c{i}" for i in range(600_000)).encode() + b"\n1,2\n",
                 "the CSV's first line is 4,688,889 characters long (600,000 columns)"),
}


@pytest.mark.parametrize("name", list(BAD_CSV))
def test_gan2d_bad_csv_upload_says_what_is_allowed(name):
    content, needle = BAD_CSV[name]
    at = _app(GAN2D, data="upload a CSV", layers="1", width="16")
    assert at.file_uploader[0].allowed_type == [".csv", ".txt"]
    at.file_uploader[0].set_value((name, content, "text/csv"))
    _run(at)
    warning = _messages(at, "warning")
    assert "That file cannot be used: " in warning and needle in warning, warning
    at.button(key="_gan2d_play").click()
    _run(at)
    assert _no_job()                                  # nothing trains on a refused file
    at.button(key="_gan2d_step_both").click()
    _run(at)
    assert "Not trained yet" in _texts(at)


def test_gan2d_good_csv_upload_trains():
    at = _app(GAN2D, data="upload a CSV", layers="1", width="16")
    at.file_uploader[0].set_value(("ok.csv", b"x,y\n" + b"0,1\n1,0\n-1,0\n0,-1\n" * 32, "text/csv"))
    _run(at)
    assert "cannot be used" not in _messages(at)
    at.button(key="_gan2d_step_both").click()
    _run(at)
    assert "Step 1 " in _texts(at)


def test_gan2d_a_refused_upload_keeps_the_model_and_the_earlier_points():
    at = _app(GAN2D, data="upload a CSV", layers="1", width="16")
    at.file_uploader[0].set_value(("ok.csv", b"x,y\n" + b"0,1\n1,0\n-1,0\n0,-1\n" * 32, "text/csv"))
    _run(at)
    for _ in range(2):
        at.button(key="_gan2d_step_both").click()
        _run(at)
    assert "Step 2 " in _texts(at)
    at.file_uploader[0].set_value(("bad.csv", b"x,y\n1,2\nabc,3\n", "text/csv"))
    _run(at)
    assert "That file cannot be used" in _messages(at, "warning")
    assert "The 128 points of the last good file are kept" in _messages(at, "warning")
    assert "Step 2 " in _texts(at), "a bad upload must not discard the model trained on the earlier points"


def test_gan2d_parses_each_upload_once(monkeypatch):
    """Issue 24 item 5: the CSV was parsed again on every rerun (Reset of a 600 000-column file: 19.5 s)."""
    from genlab import data

    calls = []
    real = data.load_points_csv
    monkeypatch.setattr(data, "load_points_csv", lambda raw, *a, **k: calls.append(len(raw)) or real(raw, *a, **k))
    at = _app(GAN2D, data="upload a CSV", layers="1", width="16")
    at.file_uploader[0].set_value(("bad.csv", b"x,X,y\n1,2,3\n4,5,6\n", "text/csv"))
    for _ in range(3):
        _run(at)
    assert len(calls) == 1 and "has 3 columns" in _messages(at, "warning")
    at.file_uploader[0].set_value(("ok.csv", b"x,y\n" + b"0,1\n1,0\n-1,0\n0,-1\n" * 32, "text/csv"))
    _run(at)
    at.button(key="_gan2d_step_both").click()
    _run(at)
    _run(at)
    assert len(calls) == 2 and "cannot be used" not in _messages(at) and "Step 1 " in _texts(at)


def test_gan2d_upload_text_is_shown_literally():
    """Issue 24 item 3: a CSV header is anybody's text; it must not become a link or an image."""
    at = _app(GAN2D, data="upload a CSV", layers="1", width="16")
    at.file_uploader[0].set_value(("evil.csv", b"[log in](http://evil/p),![b](http://evil/b.png)\n1,2\n", "text/csv"))
    _run(at)
    raw = _messages(at, "warning", raw=True)
    assert "That file cannot be used" in raw and r"\[log in\]\(http" in raw, raw
    assert "](http" not in raw.replace("\\]", "") and "[log in](http://evil/p)" in _messages(at, "warning")


@pytest.mark.parametrize("params, needle", [
    ({"lr_d": "-1"}, "lr_D must be > 0 and <= 1 (got -1.0)"),
    ({"lr_g": "0"}, "lr_G must be > 0 and <= 1 (got 0.0)"),
])
def test_gan2d_bad_hyperparameters_from_a_link(params, needle):
    at = _app(GAN2D, layers="1", width="16", **params)
    error = _messages(at, "error")
    assert needle in error, error
    at.button(key="_gan2d_play").click()
    _run(at)
    assert _no_job()


def test_gan2d_k_zero_from_a_link_is_clamped_to_one():
    """The k slider starts at 1 (issue 23 item 9): ?k=0 (or another page's k) shows k = 1."""
    at = _app(GAN2D, layers="1", width="16", k="0")
    assert at.slider(key="k").value == 1 and not at.error


# --------------------------------------------------------------------------- latent pages


@pytest.mark.parametrize("page", ["vae_elbo", "latent_spaces"])
@pytest.mark.parametrize("params, needle", [
    ({"k": "0"}, "latent size K must be a whole number from 1 to"),
    ({"epochs": "0"}, "Epochs must be a whole number from 1 to"),
    ({"beta": "-1"}, "β must be a number from 0 to"),
    ({"data": "mnist"}, "mnist is not on disk and is not downloaded here. Put the four files"),
])
def test_latent_pages_bad_settings(page, params, needle):
    at = _app(str(PAGES / f"{page}.py"), **params)
    assert needle in _messages(at, "error"), _messages(at)
    assert _no_job()                                  # bad settings never start a job


# --------------------------------------------------------------------------- Runs page: kill -9, corrupt files


JOB_PROCESS = textwrap.dedent("""
    # Trains like the dashboard does (a genlab.jobs thread running train_in_job into the store),
    # slowly, until it is killed.
    import sys, time
    import torch
    from genlab.jobs import JobManager, train_in_job
    from genlab.runs import RunStore
    from genlab.train.registry import build_trainer

    torch.set_num_threads(1)
    root, name, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
    trainer = build_trainer("gan", "ring8", {"batch_size": 64, "seed": 3})
    trainer.add_callback(lambda tr, row: time.sleep(0.02))
    run = RunStore(root).create(name, trainer.config_dict())
    job = JobManager(max_concurrent=1).submit(
        lambda ctx: train_in_job(ctx, trainer, target, run=run, checkpoint_every=20), session_id="s")
    job.wait()
""")


def _kill_mid_training(root: Path, name: str, target: int) -> Run:
    """Run ``name`` trained by a dashboard-style job in another process, killed with SIGKILL
    after its first checkpoint."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-c", JOB_PROCESS, str(root), name, str(target)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run = Run(root / name)
    try:
        _wait(lambda: run.has_checkpoint() or process.poll() is not None, timeout=240)
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    return run


def _train(root: Path, name: str, model: str = "gan", dataset: str = "ring8", steps: int = 4) -> Run:
    assert cli.main(["train", model, "--dataset", dataset, "--steps", str(steps), "--out", str(root / name),
                     "--device", "cpu", "--quiet", "--batch-size", "32"]) == 0
    return Run(root / name)


@pytest.fixture
def damaged_store(tmp_path) -> Path:
    root = tmp_path / "runs"
    for name in ("good", "bad-checkpoint", "bad-metrics", "bad-config"):
        _train(root, name)
    (root / "bad-checkpoint" / "checkpoint.pt").write_bytes(b"\x00garbage")
    st = json.loads((root / "bad-checkpoint" / "status.json").read_text())
    (root / "bad-checkpoint" / "status.json").write_text(json.dumps({**st, "status": "stopped", "target_steps": 50}))
    (root / "bad-metrics" / "metrics.csv").write_bytes(b"\x00\x01\x02 binary junk\n\xff\xfe\x00\n")
    (root / "bad-config" / "config.json").write_bytes(b"{oops")
    return root


def test_runs_page_after_kill_9_lists_interrupted_and_resumes(tmp_path, damaged_store):
    root = damaged_store
    killed = _kill_mid_training(root, "killed", 120)
    checkpoint_step = killed.load_checkpoint()["step_count"]
    at = _app(RUNS)
    table = at.dataframe[0].value.set_index("run")["status"].to_dict()
    assert table["killed"] == "interrupted" and table["good"] == table["bad-metrics"] == "finished"
    assert table["bad-checkpoint"] == "stopped" and table["bad-config"].startswith("corrupt: ")

    at = _app(RUNS, run="run/killed")
    assert "This run was interrupted (its training process is gone)" in _messages(at, "warning")
    assert any(":material/error: interrupted" in m.value for m in at.markdown)
    resume = at.button(key="resume")
    assert resume.label == "Resume training to step 120"
    resume.click()
    _run(at)
    job = get_job_manager().get(at.session_state["_runs_job"])
    assert job.wait(240) and job.status == "finished", job.error
    status = killed.status()
    assert status["status"] == "finished" and status["step"] == 120 > checkpoint_step
    assert list(killed.read_metrics()["step"]) == list(range(1, 121))
    _run(at)
    assert any(":material/check: finished" in m.value for m in at.markdown)


@pytest.mark.parametrize("name, kind, needle", [
    ("bad-metrics", "error", "run 'bad-metrics': metrics.csv is corrupt (not a text file); the run's checkpoint is not affected"),
    ("bad-config", "error", "This run cannot be read: run 'bad-config': config.json is not valid JSON"),
])
def test_runs_page_corrupt_files_give_a_message_and_other_runs_still_show(damaged_store, name, kind, needle):
    at = _app(RUNS, run=f"run/{name}")
    assert needle in _messages(at, kind), _messages(at)
    at = _app(RUNS, run="run/good")
    assert not at.error and at.get("plotly_chart"), "the good run's metrics chart"


def test_runs_page_survives_a_binary_metrics_file(damaged_store):
    """A bare carriage return in a metrics.csv once broke the whole page (fixed in ddf42cb)."""
    (damaged_store / "bad-metrics" / "metrics.csv").write_bytes(b"step,loss\n1,0.5\n2,\r0.4\x00\n" + os.urandom(500))
    at = _app(RUNS, run="run/good")
    assert not at.error and at.get("plotly_chart")
    at = _app(RUNS, run="run/bad-metrics")
    assert "metrics.csv is corrupt" in _messages(at, "error")


def test_runs_page_resuming_a_run_with_a_corrupt_checkpoint_says_so(damaged_store):
    at = _app(RUNS, run="run/bad-checkpoint")
    at.button(key="resume").click()
    _run(at)
    job = get_job_manager().get(at.session_state["_runs_job"])
    job.wait(120)
    assert job.status == "failed"
    _run(at)
    error = _messages(at, "error")
    assert "Resuming failed: run 'bad-checkpoint': checkpoint.pt is corrupt or truncated" in error
    assert "Traceback" not in _texts(at)
    assert (damaged_store / "bad-checkpoint" / "checkpoint.pt").read_bytes() == b"\x00garbage"   # left as it was


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _import(at: AppTest, file_name: str, data: bytes, run_name: str = "") -> AppTest:
    at.file_uploader(key="import_zip").set_value((file_name, data, "application/zip"))
    at.text_input(key="import_name").set_value(run_name)
    at.button(key="import").click()
    return _run(at)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_runs_page_import_refuses_pickles_path_tricks_and_non_zips(tmp_path):
    root = tmp_path / "runs"
    good = _train(root, "good")
    before = sorted(p.name for p in root.iterdir())
    marker = tmp_path / "pwned"
    evil = io.BytesIO()
    torch.save({"format": "genlab-checkpoint", "version": 1, "state": {"x": Payload(marker)}}, evil)
    config = (good.path / "config.json").read_bytes()
    at = _app(RUNS)
    for file_name, data, name, needle in [
        ("evil.zip", _zip({"config.json": config, "checkpoint.pt": evil.getvalue()}), "evil",
         "checkpoint.pt contains Python objects other than tensors"),
        ("fine.zip", good.export_zip(), "../escaped", "path separator"),
        ("fine.zip", good.export_zip(), "..", "must not start with '.'"),
        ("notes.zip", b"just some text, not a zip", "notes", "the upload is not a zip file"),
        ("slip.zip", _zip({"config.json": config, "../../evil.py": b"print('hi')"}), "slip", "which is not allowed"),
    ]:
        _import(at, file_name, data, name)
        error = _messages(at, "error")
        assert error.startswith("Import failed: ") and needle in error, error
        assert sorted(p.name for p in root.iterdir()) == before
    assert not marker.exists() and not (tmp_path / "escaped").exists() and not (tmp_path / "evil.py").exists()
    _import(at, "good.zip", good.export_zip(), "copy-of-good")
    assert "Imported run `copy-of-good`" in _messages(at, "success")
    assert RunStore(root).open("copy-of-good").load_checkpoint()["step_count"] == 4


def test_runs_page_link_to_a_path_outside_the_store_falls_back():
    root = Path(os.environ["GENLAB_RUNS_DIR"])
    _train(root, "only")
    for bad in ("run/../../etc", "run/%2e%2e", "../only", "demo/../../x"):
        at = _app(RUNS, run=bad)
        assert at.selectbox(key="run").value == "run/only" and not at.error


# --------------------------------------------------------------------------- image GANs


def test_images_page_loading_a_run_with_a_corrupt_checkpoint(tmp_path):
    root = tmp_path / "runs"
    run = _train(root, "dcgan-broken", model="dcgan", dataset="digits", steps=1)
    data = run.checkpoint_path.read_bytes()
    run.checkpoint_path.write_bytes(data[: len(data) // 2])
    at = _app(IMAGES)
    at.selectbox(key="_ganimg_run_choice").set_value("dcgan-broken")
    at.button(key="_ganimg_load").click()
    _run(at)
    error = _messages(at, "error")
    assert "Cannot load run dcgan-broken: run 'dcgan-broken': checkpoint.pt is corrupt or truncated" in error


def test_images_page_refuses_a_vae_run_and_a_deeply_nested_run_from_a_link(tmp_path):
    """Issue 24 items 6, 7: ?run=<a VAE run> showed the VAE's samples as GAN samples; ?run=<a run
    whose config.json is 5000 levels deep> showed an exception."""
    root = tmp_path / "runs"
    _train(root, "a-vae", model="vae", dataset="digits", steps=1)
    deep = _train(root, "deep", model="dcgan", dataset="digits", steps=1)
    config = (deep.path / "config.json").read_text()
    (deep.path / "config.json").write_text(config.rstrip()[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}")
    at = _app(IMAGES, run="a-vae")
    error = _messages(at, "error")
    assert "Cannot load run a-vae: it is a vae run, and this page shows image GAN runs (dcgan, cgan)" in error, error
    assert at.query_params.get("run") in (None, [], [""]) and at.session_state["_ganimg_loaded"] != "a-vae"
    at = _app(IMAGES, run="deep")
    error = _messages(at, "error")
    assert "Cannot load run deep: run 'deep': config.json is nested deeper than 32 levels" in error, error
    at = _app(IMAGES, run="x" * 10_000)
    assert "The link names a run that is not here" in _messages(at, "warning")


# --------------------------------------------------------------------------- every page, absurd links


ABSURD = ["9" * 400, "nan", "-inf", "[" * 5000 + "]" * 5000, "x" * 10_000, "\u202e\x00<b>[a](http://e/p)</b>"]
LINK_EXTRAS = {"kl_discrete": ["table"], "bayesian_networks": ["vars", "edges", "cpt", "draft", "query", "ev"],
               "gan_images": ["run"], "runs": ["run"], "gan_2d": ["shapes"]}


def _link_params(page: Path) -> list[str]:
    """The query parameters a page reads (common.qp_* keys and st.query_params names)."""
    source = page.read_text()
    names = set(re.findall(r'qp_\w+\(\s*[^,]+,\s*"(\w+)"', source))
    names |= set(re.findall(r'query_params(?:\.get\(|\[)"(\w+)"', source))
    return sorted(names | set(LINK_EXTRAS.get(page.stem, [])) | {"instructor", "tab", "theme"})


@pytest.mark.parametrize("page", sorted(p.stem for p in PAGES.glob("*.py")))
def test_every_page_survives_absurd_link_values(page):
    """Issue 24: each parameter of the page gets one of: a 400-digit number, NaN, -inf, JSON 5000
    levels deep, 10 KB of text, control characters with Markdown/HTML (rotated over the parameters,
    so that the link stays under Streamlit's 512 KB query limit). By hand, every parameter of every
    page was also tried with each of these values: no exception."""
    path = PAGES / f"{page}.py"
    names = _link_params(path)
    assert page == "home" or len(names) > 3, names
    _app(str(path), **{name: ABSURD[i % len(ABSURD)] for i, name in enumerate(names)})
