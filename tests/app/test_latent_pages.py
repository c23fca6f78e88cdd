"""AppTest tests of the two latent pages (issue 4): stored runs load at once, the controls drive
the figures and the URL, bad input is a message, the default settings train by themselves, Train
and Stop work. Runs are tiny (1-2 epochs of digits) in a temporary run store."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from dashboard import latent_jobs as lj
from genlab.jobs import JobManager, get_job_manager

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[2]
LATENT = str(ROOT / "dashboard" / "pages" / "latent_spaces.py")
ELBO = str(ROOT / "dashboard" / "pages" / "vae_elbo.py")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Finished 1-epoch runs: the AE + VAE pair for K = 2 and K = 3, and a VAE with β = 4 (K = 2)."""
    root = tmp_path_factory.mktemp("latent-runs")
    manager = JobManager(1, set_torch_threads=False)
    configs = {**{f"{m}2": c for m, c in lj.pair_configs(epochs=1, latent_dim=2).items()},
               **{f"{m}3": c for m, c in lj.pair_configs(epochs=1, latent_dim=3).items()},
               "vae-beta4": lj.autoencoder_config("vae", epochs=1, latent_dim=2, beta=4.0)}
    job = lj.submit_training(manager, configs, "fixture", "fixture runs", root)
    assert job.wait(300) and job.status == "finished", job.error
    return root


@pytest.fixture
def runs_env(store, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(store))
    lj.forget_found()
    return store


@pytest.fixture
def empty_store(tmp_path, monkeypatch):
    """No runs and no shipped demos: the pages must train (as on a checkout without demos/)."""
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("GENLAB_DEMOS_DIR", str(tmp_path / "no-demos"))
    lj.forget_found()
    return tmp_path / "runs"


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _page(path: str, **params) -> AppTest:
    at = AppTest.from_file(path, default_timeout=180)
    for name, value in params.items():
        at.query_params[name] = str(value)
    return _run(at)


def _charts(at: AppTest) -> dict[str, dict]:
    """Plotly charts by key -> their figure JSON."""
    out = {}
    for chart in at.get("plotly_chart"):
        key = chart.proto.id.rsplit("-", 1)[-1]
        out[key] = json.loads(chart.proto.spec)
    return out


def _rows(trace: dict) -> int:
    """Pixel rows of an image trace's PNG (``source``, a data URI)."""
    import base64
    import io

    from PIL import Image

    assert trace["type"] == "image" and trace["source"].startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(trace["source"].split(",", 1)[1]))).size[1]


def _texts(elements) -> str:
    return " | ".join(str(e.value) for e in elements)


def _stop_all(key: str) -> None:
    job = get_job_manager().job_for_key(key)
    if job is not None:
        job.stop()
        job.wait(60)


# --------------------------------------------------------------------------- #
# Latent spaces — autoencoder vs VAE
# --------------------------------------------------------------------------- #
def test_stored_pair_loads_with_both_latent_plots_and_scores(runs_env):
    at = _page(LATENT, epochs=1)
    assert at.title[0].value == "Latent spaces — autoencoder vs VAE"
    assert "Showing your stored runs" in _texts(at.success) and "latent-ae-digits-K2-" in _texts(at.success)
    assert "shipped demo" not in _texts(at.success) + _texts(at.info) + _texts(at.caption)
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"AE Fréchet distance", "VAE Fréchet distance", "AE confidence", "VAE confidence"}
    assert all(float(metrics[f"{m} Fréchet distance"]) > 0 for m in ("AE", "VAE"))
    assert all(metrics[f"{m} confidence"].endswith("%") for m in ("AE", "VAE"))
    charts = _charts(at)
    latent = charts["latent_pair"]
    titles = [a["text"] for a in latent["layout"]["annotations"]]
    assert titles == ["Autoencoder (AE)", "Variational autoencoder (VAE)"]
    assert {t.get("xaxis", "x") for t in latent["data"]} == {"x", "x2"}  # both latent spaces
    assert any("digit" in (t.get("hovertemplate") or "") for t in latent["data"])
    assert {"prior_pair", "grid_pair"} <= set(charts)
    assert not {"interp_ae", "trav_point"} & set(charts)      # only the open tab is computed
    assert at.button(key="_latent_train").disabled and at.button(key="_latent_stop").disabled


def test_controls_change_the_figures_and_the_url(runs_env):
    at = _page(LATENT, epochs=1)
    assert len(_charts(at)["latent_pair"]["layout"]["shapes"]) == 6  # 3 prior circles per panel
    at.toggle(key="prior").set_value(False)
    _run(at)
    assert not _charts(at)["latent_pair"]["layout"].get("shapes")
    assert at.query_params["prior"] == "0"
    at.slider(key="grid").set_value(7)
    _run(at)
    grid = _charts(at)["grid_pair"]["data"][0]
    assert _rows(grid) == 7 * 9 - 1  # 7 tiles of 8 pixels with 1-pixel gaps
    assert at.query_params["grid"] == "7"
    at.radio(key="spacing").set_value("quantile")
    _run(at)
    assert at.query_params["spacing"] == "quantile"
    at = _page(LATENT, epochs=1, walk="interpolation")       # a link opens its tab
    assert "interp_ae" in _charts(at) and "grid_pair" not in _charts(at)
    at.number_input(key="ia").set_value(3)
    at.slider(key="isteps").set_value(5)
    _run(at)
    assert "A is a " in _texts(at.caption)
    interp = _charts(at)["interp_ae"]
    assert len(interp["layout"]["xaxis"]["ticktext"]) == 5 + 2  # A, 5 steps, B
    assert at.query_params["walk"] == "interpolation"
    at = _page(LATENT, epochs=1, walk="traversal")
    before = _charts(at)["trav_point"]["data"][0]["source"]
    at.slider(key="z1").set_value(2.5)
    _run(at)
    assert at.query_params["z1"] == "2.5"
    assert _charts(at)["trav_point"]["data"][0]["source"] != before


def test_url_reproduces_the_view(runs_env):
    at = _page(LATENT, epochs=1, grid=9, same=0, z2=-1.5, tdim=2)
    assert at.slider(key="grid").value == 9 and at.toggle(key="same").value is False
    assert _rows(_charts(at)["grid_pair"]["data"][0]) == 9 * 9 - 1
    at = _page(LATENT, epochs=1, grid=9, same=0, z2=-1.5, tdim=2, walk="traversal")   # the open tab too
    assert at.slider(key="z2").value == -1.5 and at.selectbox(key="tdim").value == 2
    assert "trav_point" in _charts(at) and "grid_pair" not in _charts(at)
    assert at.query_params["walk"] == "traversal" and at.query_params["grid"] == "9"   # the other tab's setting stays


def test_k3_is_projected_with_pca_and_tsne(runs_env):
    at = _page(LATENT, epochs=1, k=3, perp=10)
    pca = _charts(at)["latent_pair"]
    assert pca["layout"]["xaxis"]["title"]["text"] == "PC 1"
    assert at.selectbox(key="gx").value == 1 and at.selectbox(key="gy").value == 2
    assert at.slider(key="perp").disabled and at.slider(key="perp").value == 10  # only for t-SNE
    at.radio(key="proj").set_value("tsne")
    _run(at)
    assert not at.slider(key="perp").disabled
    tsne = _charts(at)["latent_pair"]
    assert tsne["layout"]["xaxis"]["title"]["text"] == "t-SNE 1"
    assert at.query_params["proj"] == "tsne" and at.query_params["perp"] == "10"
    at.selectbox(key="gy").set_value(1)
    _run(at)
    assert "two different latent dimensions" in _texts(at.error)


@pytest.mark.parametrize("params, message", [
    ({"k": 0}, "The latent size K must be a whole number from 1 to 64 (got 0)"),
    ({"k": 65}, "The latent size K must be a whole number from 1 to 64"),
    ({"epochs": 0}, "Epochs must be a whole number from 1 to 500"),
    ({"epochs": 9999}, "Epochs must be a whole number from 1 to 500"),
    ({"beta": -1}, "β must be a number from 0 to 100"),
])
def test_bad_input_is_a_clear_message(runs_env, params, message):
    at = _page(LATENT, **params)
    assert message in _texts(at.error)
    assert not at.get("plotly_chart")


def test_mnist_offline_shows_the_dataset_message(runs_env, monkeypatch, tmp_path):
    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path))
    lj._AVAILABLE.discard("mnist")
    at = _page(LATENT, data="mnist")
    text = _texts(at.error)
    assert "mnist is not on disk" in text and str(tmp_path) in text
    at = _page(ELBO, data="mnist")
    assert "mnist is not on disk" in _texts(at.error)


def test_default_settings_load_the_shipped_demos_at_once(empty_store, monkeypatch):
    from genlab import demos

    monkeypatch.delenv("GENLAB_DEMOS_DIR")                               # the repository's demos/
    lj.forget_found()
    configs = lj.pair_configs()
    if not all(demos.find_demo(c, exact=True) for c in configs.values()):
        pytest.skip("no shipped demos for the default settings (python -m genlab demos)")
    at = _page(LATENT)
    assert get_job_manager().job_for_key(lj.job_key(configs)) is None      # nothing trains
    # one message, which says demo (not "stored run"), names both demos and appears once
    infos = [i.value for i in at.info if "shipped demo run" in i.value]
    assert len(infos) == 1, _texts(at.info)
    assert "ae-digits-k2" in infos[0] and "vae-digits-k2" in infos[0] and "python -m genlab demos" in infos[0]
    assert not _texts(at.success) and "stored run" not in infos[0]                # no second, green box
    assert "shipped demo" not in _texts(at.caption) + _texts(at.markdown)
    assert at.button(key="_latent_train").disabled                          # already trained
    at = _page(ELBO)
    infos = [i.value for i in at.info if "shipped demo run" in i.value]
    assert len(infos) == 1 and "vae-digits-k2" in infos[0], _texts(at.info)
    assert not _texts(at.success) and "stored run" not in infos[0]                # no second, green box
    assert "shipped demo" not in _texts(at.caption) + _texts(at.markdown)


def test_default_settings_train_by_themselves_and_stop(empty_store):
    key = lj.job_key(lj.pair_configs())
    try:
        at = _page(LATENT)
        job = get_job_manager().job_for_key(key)
        assert job is not None and job.active
        progress = at.get("progress")
        queued = _texts(at.warning)
        assert progress or "queue" in queued
        assert at.button(key="_latent_stop").disabled is False and at.button(key="_latent_train").disabled
        at.button(key="_latent_stop").click()
        _run(at)
        assert job.wait(60) and job.status == "stopped"
        _run(at)
        assert "Training was stopped" in _texts(at.info)
        # stopped by the user: not restarted by itself on the next rerun
        assert get_job_manager().job_for_key(key) is None
    finally:
        _stop_all(key)


def test_train_button_trains_then_the_runs_load(empty_store):
    configs = lj.pair_configs(epochs=2)
    at = _page(LATENT, epochs=2)
    assert "have not been trained yet" in _texts(at.info)
    assert get_job_manager().job_for_key(lj.job_key(configs)) is None  # only the defaults start by themselves
    at.button(key="_latent_train").click()
    _run(at)
    job = get_job_manager().job_for_key(lj.job_key(configs))
    assert job is not None
    assert job.wait(180) and job.status == "finished", job.error
    _run(at)
    assert "Trained just now" in _texts(at.success)
    assert "latent_pair" in _charts(at)


def _leaves(block) -> list:
    """The elements under ``block`` (at.main, at.sidebar) in page order."""
    from streamlit.testing.v1.element_tree import Block

    out = []
    for index in sorted(block.children):
        child = block.children[index]
        out += _leaves(child) if isinstance(child, Block) else [child]
    return out


def assert_link_at_the_bottom(at: AppTest) -> None:
    """"Link to this view" once, as the last thing of the main page; the sidebar has no link."""
    main, sidebar = _leaves(at.main), _leaves(at.sidebar)
    links = [e for e in main if e.type == "code" and e.value.startswith("http")]
    assert len(links) == 1, [link.value for link in links]
    assert main[-1] is links[0] and "Link to this view" in main[-2].value
    assert not [e for e in sidebar if e.type == "code" or "Link to this view" in str(getattr(e, "value", ""))]


def test_settings_on_top_and_link_at_the_bottom_of_both_latent_pages(runs_env):
    at = _page(LATENT, epochs=1)
    assert_link_at_the_bottom(at)
    sidebar_keys = {getattr(e, "key", None) for e in _leaves(at.sidebar)}
    assert not sidebar_keys & {"data", "k", "beta", "epochs", "seed"}           # the settings are on the page
    first = [getattr(e, "key", None) for e in _leaves(at.main)][:12]
    assert {"data", "k", "beta", "epochs", "seed"} <= set(first)                 # ... at its top
    at = _page(LATENT, epochs=3)                                                 # untrained: the page ends early
    assert "have not been trained yet" in _texts(at.info)
    assert_link_at_the_bottom(at)
    at = _page(ELBO, epochs=1)
    assert_link_at_the_bottom(at)
    assert not {getattr(e, "key", None) for e in _leaves(at.sidebar)} & {"data", "k", "beta", "s", "epochs", "seed"}


def test_a_stored_model_waits_for_the_other_one_in_the_live_view(runs_env, monkeypatch):
    """While one model of the pair trains, the other one (already stored, e.g. a shipped demo) is
    shown as it is and says that it waits; a model still preparing says so (no blank panel)."""
    import threading

    from genlab import jobs

    manager = JobManager(1, set_torch_threads=False)
    monkeypatch.setattr(jobs, "_MANAGER", manager)
    configs = lj.pair_configs(epochs=1, beta=2.0)       # the AE ignores β: the stored K = 2 AE serves
    assert lj.find_finished(configs["ae"]) is not None and lj.find_finished(configs["vae"]) is None
    release, published, preparing, published_again = (threading.Event() for _ in range(4))
    codes = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)

    def fake_training(ctx):   # the snapshot train_models publishes while the VAE trains
        ctx.publish(models={"ae": {"label": "ae", "state": "reused", "step": 23, "target": 23, "message": ""},
                            "vae": {"label": "vae", "state": "training", "step": 5, "target": 23, "message": ""}},
                    codes={"vae": codes}, labels=np.arange(50) % 10)
        ctx.set_progress(0.6, "AE already trained (stored run) · VAE step 5 of 23")
        published.set()
        preparing.wait(60)   # then: the VAE has not started yet (its data set and model are being built)
        ctx.publish(models={"ae": {"label": "ae", "state": "reused", "step": 23, "target": 23, "message": ""},
                            "vae": {"label": "vae", "state": "waiting", "step": 0, "target": 23, "message": ""}},
                    codes={})
        published_again.set()
        release.wait(60)

    manager.submit(fake_training, session_id="test", key=lj.job_key(configs), name="pair")
    try:
        assert published.wait(30)
        at = _page(LATENT, epochs=1, beta=2)
        assert "AE already trained (stored run)" in at.get("progress")[0].proto.text
        live = _charts(at)["live_pair"]
        titles = [a["text"] for a in live["layout"]["annotations"]]
        assert titles == ["AE: already trained, waits for the VAE", "Variational autoencoder (VAE), step 5"]
        assert {t.get("xaxis", "x") for t in live["data"] if t["type"] == "scatter"} == {"x", "x2"}   # both drawn
        assert "already stored" in _texts(at.caption)
        preparing.set()
        assert published_again.wait(30)
        _run(at)
        texts = [a["text"] for a in _charts(at)["live_pair"]["layout"]["annotations"]]
        assert any("VAE: preparing" in t for t in texts), texts
    finally:
        release.set()
        manager.shutdown(10)


# --------------------------------------------------------------------------- #
# Latent ELBO & reparameterization
# --------------------------------------------------------------------------- #
def test_elbo_page_loads_terms_and_beta_comparison(runs_env):
    at = _page(ELBO, epochs=1)
    assert at.title[0].value == "Latent ELBO & reparameterization"
    assert "Showing your stored run" in _texts(at.success) and "shipped demo" not in _texts(at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Active latent dimensions"].endswith("of 2")
    assert float(metrics["Test ELBO (nats / image)"]) < 0
    charts = _charts(at)
    names = [t["name"] for t in charts["elbo"]["data"]]
    assert names[:3] == ["−ELBO = reconstruction + KL", "reconstruction −E_q[log p(x|z)]", "KL(q(z|x) ‖ p(z))"]
    assert [t["name"] for t in charts["kl_dims"]["data"]] == ["z1", "z2"]
    sweep = charts["beta_sweep"]
    assert sorted(sweep["data"][0]["x"]) == [1.0, 4.0]  # the stored β = 1 and β = 4 runs
    assert "beta_samples" in charts


def test_gradient_controls_drive_the_variance_experiment(runs_env):
    at = _page(ELBO, epochs=1)
    ratio = {m.label: m.value for m in at.metric}["Variance ratio at S = 1, ∂/∂μ"]
    assert float(ratio.rstrip("×").replace(",", "")) > 1  # z²: the reparameterization wins
    at.selectbox(key="f").set_value("cos")
    at.slider(key="mu").set_value(0.5)
    at.selectbox(key="rep").set_value(200)
    _run(at)
    assert at.query_params["f"] == "cos" and at.query_params["mu"] == "0.5"
    assert {m.label: m.value for m in at.metric}["Variance ratio at S = 1, ∂/∂μ"] != ratio
    variance = _charts(at)["grad_var"]
    names = [t["name"] for t in variance["data"]]
    assert names == ["score function", "reparameterization", "∝ 1/S"] * 2  # ∂/∂μ and ∂/∂σ panels
    assert variance["data"][0]["x"] == [1, 2, 5, 10, 20, 50, 100, 200, 500]
    assert variance["data"][3]["xaxis"] == "x2"
    at = _page(ELBO, epochs=1, grad="estimates")            # a link opens its tab; only that one is drawn
    assert "grad_var" not in _charts(at)
    estimates = _charts(at)["grad_est"]
    assert any("true ∂/∂σ" in a["text"] for a in estimates["layout"]["annotations"])


def test_elbo_code_is_drawn_once_its_expander_is_opened(runs_env):
    at = _page(ELBO, epochs=1)
    assert "The trick in PyTorch" in [e.label for e in at.expander]
    python = lambda: [c.value for c in at.code if c.language == "python"]  # noqa: E731 (the link's is plain)
    assert not python()                 # closed: no code block (and no syntax highlighter in the browser)
    at.session_state["elbo_trick_code"] = True
    _run(at)
    assert "eps = torch.randn_like(mu)" in python()[0]


def test_elbo_hide_explanations_hides_the_teaching_captions(runs_env):
    shown = _page(ELBO, epochs=1)
    hidden = _page(ELBO, epochs=1, instructor="1", hide="explanations")
    assert "Both variances fall like 1/S" in _texts(shown.caption)
    assert "Both variances fall like 1/S" not in _texts(hidden.caption)
    assert "For each image the VAE minimises" not in _texts(hidden.markdown)     # explain() text too
    assert "grad_var" in _charts(hidden)                                          # the figures stay


def test_elbo_bad_input_and_untrained_settings(runs_env):
    at = _page(ELBO, epochs=1, s=0)
    assert "Monte-Carlo samples S must be a whole number from 1 to 100" in _texts(at.error)
    assert "grad_var" in _charts(at)  # the reparameterization section still works
    at = _page(ELBO, epochs=1, s=3)
    assert "No stored VAE with these settings" in _texts(at.info)


def test_beta_sweep_button_trains_the_missing_betas(runs_env):
    at = _page(ELBO, epochs=1)
    button = at.button(key="_elbo_sweep")
    assert "5 to go" in button.label
    button.click()
    _run(at)
    sweep_configs = {b: lj.autoencoder_config("vae", epochs=1, latent_dim=2, beta=b) for b in (0.1, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)}
    job = get_job_manager().job_for_key(lj.job_key(sweep_configs))
    assert job is not None and job.wait(300) and job.status == "finished", job and job.error
    assert job.result["β=1"] == "reused" and job.result["β=4"] == "reused"
    _run(at)
    sweep = _charts(at)["beta_sweep"]
    assert sorted(sweep["data"][0]["x"]) == [0.1, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
    assert "β sweep complete" in at.button(key="_elbo_sweep").label
    active = np.asarray(sweep["data"][2]["y"])
    assert active.shape == (7,)


def test_busy_server_shows_the_queue_position(empty_store, monkeypatch):
    """With every job slot taken the default training waits in the queue, and the page says so."""
    import threading

    from genlab import jobs

    manager = JobManager(1, set_torch_threads=False)
    monkeypatch.setattr(jobs, "_MANAGER", manager)
    release = threading.Event()
    blocker = manager.submit(lambda ctx: release.wait(60), session_id="someone else", name="blocker")
    try:
        at = _page(LATENT)
        assert "yours is next in the queue" in _texts(at.warning)
        job = manager.job_for_key(lj.job_key(lj.pair_configs()))
        assert job is not None and job.status == "queued" and job.queue_position() == 1
        at.button(key="_latent_stop").click()
        _run(at)
        assert job.status == "stopped"  # a queued job stops at once
    finally:
        release.set()
        blocker.wait(10)
        manager.shutdown(10)


def test_stop_leaves_a_job_that_other_sessions_share(empty_store, monkeypatch):
    """Two students with the same settings share one job; one pressing Stop only leaves it."""
    from genlab import jobs

    manager = JobManager(1, set_torch_threads=False)
    monkeypatch.setattr(jobs, "_MANAGER", manager)
    configs = lj.pair_configs(epochs=50)
    other = lj.submit_training(manager, configs, "another student", "pair")
    try:
        at = _page(LATENT, epochs=50)
        assert manager.job_for_key(lj.job_key(configs)) is other  # the page shows the running job
        assert at.button(key="_latent_train").disabled  # no second training of the same settings
        at.button(key="_latent_stop").click()
        _run(at)
        assert other.active and other.sessions == {"another student"}
        assert "training goes on for them" in _texts(at.info)
    finally:
        manager.shutdown(30)


# --------------------------------------------------------------------------- #
# Predict, then reveal (issue 20 §2)
# --------------------------------------------------------------------------- #
def _question_box(at: AppTest, question_id: str) -> bool:
    """True when the page holds the question's box, st.container(key="predict-<id>")."""
    from streamlit.testing.v1.element_tree import Block

    def blocks(node):
        for child in getattr(node, "children", {}).values():
            if isinstance(child, Block):
                yield child
                yield from blocks(child)

    return any(str(getattr(b.proto, "id", "")).endswith(f"-predict-{question_id}") for b in blocks(at._tree))


def _lock_in(at: AppTest, question_id: str, option: str) -> str:
    """Lock in ``option``; the revealed result's text."""
    at.radio(key=f"predict_{question_id}_before").set_value(option)
    _run(at).button(key=f"predict_{question_id}_before_lock").click()
    _run(at)
    return _texts(at.success) + _texts(at.warning) + _texts(at.info)


def test_latent_prior_question_answers_from_the_scores(runs_env):
    at = _page(LATENT, epochs=1)
    assert _question_box(at, "latent-prior")
    assert "What the classifier calls the samples" not in _texts(at.caption)     # the answer waits
    metrics = {m.label: float(m.value) for m in at.metric if "Fréchet" in m.label}
    ae, vae = metrics["AE Fréchet distance"], metrics["VAE Fréchet distance"]
    expected = ("Both about the same" if abs(ae - vae) <= 0.1 * max(ae, vae)
                else "The autoencoder's" if ae < vae else "The VAE's")
    revealed = _lock_in(at, "latent-prior", "The VAE's")
    assert f"**{expected}**" in revealed and f"AE {ae:.1f}, VAE {vae:.1f}" in revealed
    assert ("Your prediction held" in revealed) == (expected == "The VAE's")
    assert "What the classifier calls the samples" in _texts(at.caption)


def test_elbo_questions_answer_from_the_stored_runs_or_say_what_is_missing(runs_env):
    at = _page(ELBO, epochs=1)
    assert _question_box(at, "elbo-beta4") and _question_box(at, "elbo-reparam")
    revealed = _lock_in(at, "elbo-beta4", "It shrinks")
    assert "at β = 1" in revealed and "at β = 4" in revealed and "β sweep chart" in revealed
    at.button(key="predict_elbo-reparam_skip").click()
    assert "score function" in _texts(_run(at).info) and "The answer here" in _texts(at.info)
    pending = _page(ELBO, epochs=1, k=3)          # K = 3: no stored β = 4 VAE
    assert "has no VAE with β = 4 and these settings" in _lock_in(pending, "elbo-beta4", "It grows")
