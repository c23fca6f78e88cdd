"""Two β values side by side on the latent pages (issue 21 §3): trained by the latent pages' job,
then replayed on one timeline; and the replay of a finished run."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest


@pytest.fixture(autouse=True)
def run_store(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv("GENLAB_DEMOS_DIR", str(tmp_path / "no-demos"))
    return tmp_path


def _compare_page():
    from dashboard import common
    from dashboard.latent_compare import beta_compare_section, replay_runs
    from dashboard import latent_jobs as lj
    from genlab.jobs import get_job_manager

    ctx = common.setup_page("β compare test")
    settings = dict(dataset="digits", latent_dim=2, beta=1.0, epochs=1, mc_samples=1, seed=5)
    beta_compare_section(settings, palette=ctx.palette, session_id="beta-test", manager=get_job_manager)
    run = lj.find_finished(lj.autoencoder_config("vae", **settings))
    replay_runs({"VAE β = 1": run}, palette=ctx.palette)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_two_betas_train_together_and_replay_on_one_timeline():
    at = AppTest.from_function(_compare_page, default_timeout=60)
    at.query_params["cmp_beta"] = "4.0"
    _run(at)
    at.button(key="_latent_cmp_train").click()
    _run(at)
    from genlab.jobs import get_job_manager

    job = get_job_manager().get(at.session_state["_latent_cmp_job"])
    assert job.wait(180) and job.status == "finished", job.error
    _run(at)
    slider = at.select_slider(key="cmp_timeline")
    assert slider.value == 23                                          # 1 epoch of the digits: 23 steps
    slider.set_value(0)
    _run(at)
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")[:2]]
    assert titles == ["VAE β = 1 · step 0", "VAE β = 4 · step 0"]
    assert any("untrained" in c.value for c in at.caption)
    # the page's own run (β = 1) now has a replay with the timeline slider (drawn on demand)
    at.toggle(key="replay_on").set_value(True)
    _run(at)
    assert at.select_slider(key="timeline").value == 23
