"""AppTest tests of the two GAN pages (issue 5): controls, URL binding, bad input, jobs.

Training runs in genlab.jobs' process-wide manager; every test stops the jobs it started.
Models are tiny (1 hidden layer of 8-16 units) so that steps take milliseconds.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from genlab.jobs import get_job_manager

ROOT = Path(__file__).resolve().parents[2]
GAN2D = str(ROOT / "dashboard" / "pages" / "gan_2d.py")
IMAGES = str(ROOT / "dashboard" / "pages" / "gan_images.py")
TINY = {"layers": "1", "width": "16"}


@pytest.fixture(autouse=True)
def _quiet_jobs(tmp_path, monkeypatch):
    """One torch thread, a temporary run store, and no job left running after a test."""
    torch.set_num_threads(1)
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path / "runs"))
    yield
    manager = get_job_manager()
    for job in manager.jobs(active_only=True):
        job.stop()
    for job in manager.jobs(active_only=True):
        job.wait(60)


def _app(path: str, **params) -> AppTest:
    at = AppTest.from_file(path, default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    return _run(at)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    parts = [c.value for c in at.caption] + [m.value for m in at.markdown] + [e.value for e in at.error]
    parts += [w.value for w in at.warning] + [i.value for i in at.info]
    parts += [p.proto.text for p in at.get("progress")]
    return "\n".join(str(p) for p in parts)


def _active_job():
    jobs = get_job_manager().jobs(active_only=True)
    return jobs[-1] if jobs else None


def _wait(predicate, timeout: float = 120, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


# --------------------------------------------------------------------------- #
# GAN lab — 2D
# --------------------------------------------------------------------------- #
def test_gan2d_renders_every_control():
    at = _app(GAN2D)
    assert at.title[0].value == "GAN lab — 2D"
    for key in ("lr_d", "lr_g"):
        assert at.number_input(key=key).value == pytest.approx(0.001)
    assert at.selectbox(key="opt_d").value == "adam" and at.selectbox(key="opt_g").value == "adam"
    assert at.slider(key="k").value == 1
    assert at.radio(key="loss").options == ["minimax (slide)", "non-saturating", "least squares (LSGAN)"]
    for key in ("show_real", "show_fake", "show_d", "show_manifold", "show_grad"):
        assert at.toggle(key=key).value is True
    assert at.selectbox(key="data").value == "ring8"
    assert set(at.selectbox(key="data").options) >= {"ring8", "grid25", "two-moons", "spiral", "two-gaussians",
                                                     "draw your own", "upload a CSV"}
    for key in ("layers",):
        assert at.slider(key=key).value == 3
    assert at.selectbox(key="width").value == 128 and at.selectbox(key="zdim").value == 2
    assert at.radio(key="noise").value == "gaussian"
    labels = [b.label for b in at.button]
    for label in ("Train", "Pause", "Reset", "1 D step", "1 G step", "1 step: k D + 1 G"):
        assert label in labels
    assert "Not trained yet" in _texts(at)
    assert not at.error


def test_gan2d_url_reproduces_the_view():
    at = _app(GAN2D, lr_d="0.005", lr_g="0.0002", k="3", loss="minimax", opt_g="sgd", data="grid25",
              show_d="0", zdim="1", noise="uniform", seed="7")
    assert at.number_input(key="lr_d").value == pytest.approx(0.005)
    assert at.number_input(key="lr_g").value == pytest.approx(0.0002)
    assert at.slider(key="k").value == 3
    assert at.radio(key="loss").value == "minimax"
    assert at.selectbox(key="opt_g").value == "sgd"
    assert at.selectbox(key="data").value == "grid25"
    assert at.toggle(key="show_d").value is False
    assert at.selectbox(key="zdim").value == 1 and at.radio(key="noise").value == "uniform"
    assert at.number_input(key="seed").value == 7
    # a changed control goes back into the URL
    at.slider(key="k").set_value(5)
    _run(at)
    assert at.query_params["k"] in ("5", ["5"])


@pytest.mark.parametrize("key, value, message", [
    ("lr_d", 0.0, "lr_D must be > 0 and <= 1"),
    ("lr_g", -0.01, "lr_G must be > 0 and <= 1"),
])
def test_gan2d_bad_live_values_give_a_message(key, value, message):
    at = _app(GAN2D, **TINY)
    at.number_input(key=key).set_value(value)
    _run(at)
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    # Train refuses to start with it, with the same message, and no job is created
    at.button(key="_gan2d_play").click()
    _run(at)
    assert _active_job() is None
    assert any(message in e.value for e in at.error)


def test_gan2d_bad_values_in_the_url_never_raise():
    at = _app(GAN2D, lr_d="abc", k="-3", loss="bogus", data="nope", width="7", shapes="%%%")
    assert at.number_input(key="lr_d").value == pytest.approx(0.001)      # unreadable -> default
    assert at.slider(key="k").value == 1                                  # clamped into the range
    assert not at.error
    assert at.radio(key="loss").value == "non-saturating"
    assert at.selectbox(key="data").value == "ring8"


def test_gan2d_k_starts_at_1_and_k_0_from_the_url_or_another_page_clamps():
    at = _app(GAN2D)
    assert at.slider(key="k").min == 1 and at.slider(key="k").value == 1
    at = _app(GAN2D, k="0")
    assert at.slider(key="k").value == 1 and not at.error
    assert "k" not in at.query_params                 # the default, so not in the link
    # a "k" of another page (the latent pages' latent size K) left in the session
    at = AppTest.from_file(GAN2D, default_timeout=120)
    at.session_state["k"] = 0
    _run(at)
    assert at.slider(key="k").value == 1 and not at.error


def test_gan2d_settings_are_at_the_top_of_the_page_not_in_the_sidebar():
    at = _app(GAN2D, data="upload a CSV")
    settings = ("data", "preset", "seed", "steps", "layers", "width", "zdim", "noise")
    in_sidebar = {w.key for kind in ("selectbox", "slider", "number_input", "radio")
                  for w in getattr(at.sidebar, kind)}
    assert not in_sidebar & set(settings), in_sidebar
    in_main = {w.key for kind in ("selectbox", "slider", "number_input", "radio") for w in getattr(at.main, kind)}
    assert set(settings) <= in_main
    assert not at.sidebar.get("file_uploader") and at.main.get("file_uploader")
    # the data set and the preset are the page's first choices
    first = [w.key for w in at.main.get("selectbox") + at.main.get("number_input")][:2]
    assert first == ["data", "preset"]
    assert any("Link to this view" in c.value for c in at.main.caption)


def test_gan2d_single_steps_follow_algorithm_1():
    at = _app(GAN2D, k="2", **TINY)
    at.button(key="_gan2d_step_d").click()
    _run(at)
    assert "Step 1 (D updates 1 · G updates 0)" in _texts(at)
    at.button(key="_gan2d_step_g").click()
    _run(at)
    assert "Step 2 (D updates 1 · G updates 1)" in _texts(at)
    at.button(key="_gan2d_step_both").click()         # k = 2 discriminator updates, then 1 generator update
    _run(at)
    assert "Step 3 (D updates 3 · G updates 2)" in _texts(at)
    assert len(at.get("plotly_chart")) >= 5           # the plane and the charts over time
    # a setting that shapes the model resets it
    at.selectbox(key="width").set_value(32)
    _run(at)
    assert "the model was reset" in _texts(at)
    assert "Not trained yet" in _texts(at)


def test_gan2d_train_pause_change_live_and_step():
    at = _app(GAN2D, **TINY, data="two-gaussians")
    at.button(key="_gan2d_play").click()
    _run(at)
    job = _wait(_active_job)
    _wait(lambda: job.snapshot().get("step", 0) >= 5 or job.done)
    assert job.status == "running", job.error
    _run(at)
    assert "Training: step" in _texts(at)
    assert at.button(key="_gan2d_play").disabled and not at.button(key="_gan2d_pause").disabled
    at.button(key="_gan2d_pause").click()
    _run(at)
    assert job.status == "paused"
    assert "Paused: step" in _texts(at)
    # live changes while paused: sent to the job, applied at the next step
    at.number_input(key="lr_d").set_value(0.002)
    _run(at)
    at.slider(key="k").set_value(3)
    _run(at)
    at.radio(key="loss").set_value("minimax")
    _run(at)
    step = job.snapshot()["step"]
    at.button(key="_gan2d_step_both").click()
    _run(at)
    snap = _wait(lambda: job.snapshot() if job.snapshot()["step"] == step + 1 else None, timeout=60)
    hp = snap["hyperparameters"]
    assert hp["lr_d"] == pytest.approx(0.002) and hp["k_disc"] == 3 and hp["loss"] == "minimax"
    assert job.status == "paused"
    # Train resumes; Reset stops the job and drops the model
    at.button(key="_gan2d_play").click()
    _run(at)
    assert job.status == "running"
    at.button(key="_gan2d_reset").click()
    _run(at)
    assert job.done
    assert "Not trained yet" in _texts(at)


def test_gan2d_drawn_data():
    at = _app(GAN2D, data="draw your own", **TINY)
    assert any("Nothing drawn yet" in w.value for w in at.warning)
    at.number_input(key="_gan2d_cx").set_value(1.5)
    at.number_input(key="_gan2d_cy").set_value(-1.0)
    at.button(key="_gan2d_add").click()
    _run(at)
    assert at.query_params["shapes"] in ("g:1.5,-1,0.2", ["g:1.5,-1,0.2"])
    assert not any("Nothing drawn yet" in w.value for w in at.warning)
    at.button(key="_gan2d_step_d").click()
    _run(at)
    assert "Step 1" in _texts(at)
    at.button(key="_gan2d_clear").click()
    _run(at)
    assert "shapes" not in at.query_params


def test_gan2d_drawn_shapes_from_the_url_and_bad_ones():
    at = _app(GAN2D, data="draw your own", shapes="g:1,1,0.2;b:-2,-1,-2,2", **TINY)
    assert not at.warning
    at = _app(GAN2D, data="draw your own", shapes="g:1,1", **TINY)
    assert any("unreadable" in w.value for w in at.warning)


def test_gan2d_upload_asks_for_a_csv():
    at = _app(GAN2D, data="upload a CSV")
    assert any("Upload a CSV" in w.value for w in at.warning)
    at.button(key="_gan2d_play").click()
    _run(at)
    assert _active_job() is None


# --------------------------------------------------------------------------- #
# Image GANs
# --------------------------------------------------------------------------- #
def test_images_renders_every_control():
    at = _app(IMAGES)
    assert at.title[0].value == "Image GANs — DCGAN, conditional, PatchGAN"
    assert at.radio(key="model").value == "dcgan" and at.selectbox(key="data").value == "digits"
    assert at.radio(key="disc").value == "standard" and at.selectbox(key="loss").value == "non-saturating"
    assert at.number_input(key="steps").value == 6000
    assert at.button(key="_ganimg_train").label == "Train"
    assert at.button(key="_ganimg_pause").disabled and at.button(key="_ganimg_stop").disabled


def test_images_missing_dataset_says_what_to_provide():
    at = _app(IMAGES, data="mnist")
    errors = " ".join(e.value for e in at.error)
    assert "MNIST" in errors and "not available" in errors
    assert at.button(key="_ganimg_train").disabled


def _train_stored_run(config, steps: int):
    """A finished run in the run store with exactly ``config`` (trained ``steps`` steps)."""
    from dashboard import gan_jobs as gj
    from genlab.runs import RunStore
    from genlab.train.recording import RecordRun
    from genlab.train.gan import GANTrainer

    store = RunStore()
    run = store.create(gj.run_name_for(config), config)
    trainer = GANTrainer.from_config(config)
    trainer.fit(steps, callbacks=[gj.ImageQuality(gj.ImageLive(trainer), steps), RecordRun(run, steps)])
    return run


def test_images_identical_settings_reuse_the_stored_run():
    from dashboard import gan_jobs as gj

    params = {"model": "cgan", "disc": "patch", "steps": "100", "zdim": "8"}
    config = gj.image_config("cgan", "digits", disc="patch", noise_dim=8, steps=100)
    run = _train_stored_run(config, 3)
    at = _app(IMAGES, **params)
    assert at.button(key="_ganimg_train").label == "Show stored run"
    at.button(key="_ganimg_train").click()
    _run(at)
    assert _active_job() is None                              # nothing trains
    assert any("exactly these settings" in i.value for i in at.info)
    assert f"Showing your run `{run.name}` at step 3" in _texts(at)
    assert len(at.get("image")) >= 2                           # sample grid + class samples
    labels = [m.label for m in at.metric]
    assert "Fréchet distance ↓" in labels and "Classified as y" in labels
    assert any(s.value.startswith("PatchGAN") for s in at.subheader)
    # pick a class and draw fresh samples from p(x | y)
    at.selectbox(key="y").set_value(7)
    _run(at)
    at.button(key="_ganimg_more").click()
    _run(at)
    assert at.query_params["y"] in ("7", ["7"])


def test_images_load_a_saved_run():
    from dashboard import gan_jobs as gj

    config = gj.image_config("dcgan", "digits", noise_dim=8, steps=100, seed=5)
    run = _train_stored_run(config, 2)
    at = _app(IMAGES)                                           # other settings: not the same run
    at.selectbox(key="_ganimg_run_choice").set_value(run.name)
    at.button(key="_ganimg_load").click()
    _run(at)
    assert f"Loaded run {run.name}." in _texts(at)
    assert f"Showing your run `{run.name}` at step 2" in _texts(at)


def test_images_train_stop_and_resume_label():
    at = _app(IMAGES, steps="100", zdim="8")
    at.button(key="_ganimg_train").click()
    _run(at)
    job = _wait(_active_job)
    _wait(lambda: job.snapshot().get("step", 0) >= 2 or job.done, timeout=240)
    assert not job.done, job.error
    _run(at)
    assert "Training: step" in _texts(at)
    at.button(key="_ganimg_stop").click()
    _run(at)
    assert job.done
    assert at.button(key="_ganimg_train").label == "Resume stored run"
    from genlab.runs import RunStore

    infos = RunStore().list()
    assert len(infos) == 1 and infos[0].status == "stopped" and infos[0].step >= 2


def test_images_link_to_a_loaded_run():
    from dashboard import gan_jobs as gj

    config = gj.image_config("dcgan", "digits", noise_dim=8, steps=100, seed=9)
    run = _train_stored_run(config, 2)
    at = _app(IMAGES, run=run.name)
    assert f"Showing your run `{run.name}` at step 2" in _texts(at)
    at = _app(IMAGES, run="no-such-run")
    assert any("not here" in w.value for w in at.warning)
    assert "run" not in at.query_params


def test_gan2d_shows_the_queue_position_when_the_server_is_busy():
    manager = get_job_manager()

    def busy(ctx):                      # another student's job holding every slot
        while not ctx.should_stop():
            time.sleep(0.02)

    others = [manager.submit(busy, session_id=f"other-{i}") for i in range(manager.max_concurrent + 1)]
    at = _app(GAN2D, **TINY)
    at.button(key="_gan2d_play").click()
    _run(at)
    mine = [j for j in manager.jobs(active_only=True) if j not in others]
    assert mine and mine[0].status == "queued"
    assert any("1 job ahead of you" in w.value for w in at.warning), [w.value for w in at.warning]
    for job in others:
        job.stop()
    _wait(lambda: mine[0].status == "running" or mine[0].done, timeout=60)
    _run(at)
    assert not any("ahead of you" in w.value for w in at.warning)


def test_images_page_shows_the_shipped_demo_at_first_visit(monkeypatch):
    """Default settings, no stored run: the shipped dcgan-digits demo is shown at once (no job)."""
    from genlab import demos

    monkeypatch.delenv("GENLAB_DEMOS_DIR", raising=False)
    if demos.find_demo(demos.SPECS_BY_NAME["dcgan-digits"].build_config(), exact=True) is None:
        pytest.skip("no shipped dcgan-digits demo (python -m genlab demos)")
    at = _app(IMAGES)
    assert "shipped demo run" in _texts(at) and "dcgan-digits" in _texts(at)
    assert _active_job() is None
    assert len(at.get("plotly_chart")) >= 3   # the demo run's loss, D(x) and Fréchet-distance curves
    # with a demos folder that lacks it, the page waits for Train
    monkeypatch.setenv("GENLAB_DEMOS_DIR", str(Path(__file__).parent / "no-such-folder"))
    at = _app(IMAGES)
    assert "shipped demo run" not in _texts(at) and _active_job() is None


def test_gan2d_live_feeds_serve_the_status_plane_and_charts(monkeypatch):
    """Served by dashboard/serve.py the page publishes two live feeds instead of polling with a
    fragment; what they answer is what the browser draws (dashboard/live_canvas.js)."""
    import json

    from dashboard import live_feed

    monkeypatch.setattr(live_feed, "_MOUNTED", {"base": ""})       # as if mounted by dashboard/serve.py
    at = _app(GAN2D, **TINY)
    at.button(key="_gan2d_play").click()
    _run(at)
    job = _wait(_active_job)
    _wait(lambda: job.snapshot().get("step", 0) >= 5 or job.done)
    _run(at)
    feeds = {feed.name: feed for feed in live_feed.feeds() if feed.name.startswith("gan2d_")}
    assert set(feeds) == {"gan2d_plane", "gan2d_charts"}
    tokens = {name: next(t for t, f in live_feed._FEEDS.items() if f is feed) for name, feed in feeds.items()}
    assert not at.get("progress"), "with a feed the status line is the component's, not a Streamlit rerun's"

    status, body = live_feed.read(tokens["gan2d_plane"])
    plane = json.loads(body)
    assert status == 200 and plane["state"] == "running", plane.get("status")
    assert plane["status"]["kind"] == "progress" and plane["status"]["text"].startswith("Training: step")
    assert [f["key"] for f in plane["figures"]] == ["gan2d_plane"] and 100 <= plane["poll_ms"] <= 1250
    traces = plane["figures"][0]["spec"]["data"]
    assert "heatmap" in {t["type"] for t in traces}                  # D(x) under the points
    charts = json.loads(live_feed.read(tokens["gan2d_charts"])[1])
    assert [f["key"] for f in charts["figures"]] == ["gan2d_loss", "gan2d_dout", "gan2d_div", "gan2d_modes"]
    assert live_feed.read(tokens["gan2d_plane"], since=plane["version"])[0] in (200, 204)

    # a layer toggled: the same feed, rebuilt with the new layers at the next read
    at.toggle(key="show_real").set_value(False)
    _run(at)
    again = json.loads(live_feed.read(tokens["gan2d_plane"])[1])
    assert again["version"] > plane["version"]
    assert len(again["figures"][0]["spec"]["data"]) < len(traces)     # the real points are gone

    at.button(key="_gan2d_pause").click()
    _run(at)
    assert json.loads(live_feed.read(tokens["gan2d_plane"])[1])["state"] == "paused"
    assert len(at.get("plotly_chart")) >= 5                           # paused: interactive charts again


# --------------------------------------------------------------------------- #
# Image GANs: settings at the top, which run the figures show (issue 23, items 4 and 5)
# --------------------------------------------------------------------------- #
def test_images_settings_sit_on_the_page_and_the_link_at_its_bottom():
    at = _app(IMAGES)
    keys = ("model", "data", "disc", "loss", "preset", "zdim", "steps", "seed")
    in_sidebar = {w.key for kind in ("radio", "selectbox", "number_input") for w in getattr(at.sidebar, kind)}
    in_main = {w.key for kind in ("radio", "selectbox", "number_input") for w in getattr(at.main, kind)}
    assert not in_sidebar & set(keys) and set(keys) <= in_main
    assert at.main.caption[-1].value.startswith(":material/link: Link to this view")
    assert len([c for c in at.caption if "Link to this view" in c.value]) == 1


def test_images_figures_name_their_run_and_say_when_the_settings_differ():
    from dashboard import gan_jobs as gj

    config = gj.image_config("dcgan", "digits", noise_dim=8, steps=100, seed=4)
    run = _train_stored_run(config, 2)
    at = _app(IMAGES, run=run.name, zdim="8", steps="100", seed="4")
    heading = [m.value for m in at.markdown if m.value.startswith("##### Showing")]
    assert heading == [f"##### Showing your run `{run.name}` at step 2 — "
                       "DCGAN · digits · standard D · non-saturating · z 8 · 100 steps · seed 4"]
    assert not any("not from the settings above" in w.value for w in at.warning)
    # the PatchGAN setting of the issue: the figures still show the standard-D run, and say so
    at.radio(key="disc").set_value("patch")
    at.number_input(key="steps").set_value(1500)
    _run(at)
    [warning] = [w.value for w in at.warning if "Mode collapse" not in w.value]   # a 2-step run has collapsed
    assert "not from the settings above" in warning
    assert "discriminator: standard D → PatchGAN D" in warning and "steps: 100 steps → 1,500 steps" in warning
    assert "Press **Train**" in warning


def test_images_shipped_demo_is_named_as_such(monkeypatch):
    from genlab import demos

    monkeypatch.delenv("GENLAB_DEMOS_DIR", raising=False)
    if demos.find_demo(demos.SPECS_BY_NAME["dcgan-digits"].build_config(), exact=True) is None:
        pytest.skip("no shipped dcgan-digits demo (python -m genlab demos)")
    at = _app(IMAGES)
    assert any(m.value.startswith("##### Showing the shipped demo run `dcgan-digits` at step 6,000 — DCGAN")
               for m in at.markdown)
    at.radio(key="disc").set_value("patch")
    _run(at)
    assert any("discriminator: standard D → PatchGAN D" in w.value for w in at.warning)


def test_images_page_says_when_the_generator_collapsed(monkeypatch):
    """A collapsed run (sample spread under gj.COLLAPSE_SPREAD: a 2-step run's samples are nearly
    alike) gets a warning under its samples that says what happened; a varied one does not
    (threshold lowered to 0 here)."""
    from dashboard import gan_jobs as gj

    config = gj.image_config("dcgan", "digits", noise_dim=8, steps=100, seed=6)
    run = _train_stored_run(config, 2)
    monkeypatch.setattr(gj, "COLLAPSE_SPREAD", 0.0)
    at = _app(IMAGES, run=run.name, zdim="8", steps="100", seed="6")
    assert not any("Mode collapse" in w.value for w in at.warning)
    monkeypatch.setattr(gj, "COLLAPSE_SPREAD", 0.5)
    at = _app(IMAGES, run=run.name, zdim="8", steps="100", seed="6")
    assert any("**Mode collapse:**" in w.value and "as much as real images" in w.value for w in at.warning)
