"""Compare two settings on the 2D GAN lab (issue 21 §3), the page section: the choice in the address,
B's differences named, Train both, and one timeline for the two finished trainings."""
from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest


def _compare_page():
    from dashboard import common
    from dashboard.gan2d_compare import compare_section
    from genlab.jobs import get_job_manager

    ctx = common.setup_page("Compare test")
    settings = dict(preset="vanilla", width=16, layers=1, noise_dim=2, noise="gaussian", seed=3,
                    lr_d=0.001, lr_g=0.001, k_disc=1, loss="non-saturating", optimizer_d="adam", optimizer_g="adam")
    compare_section(settings, dataset="ring8", points=None, palette=ctx.palette, session_id="compare-test",
                    manager=get_job_manager, height=300)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_compare_names_the_difference_trains_both_and_replays_them_on_one_timeline():
    at = AppTest.from_function(_compare_page, default_timeout=60)
    at.query_params["cmp"] = "k"
    at.query_params["cmp_b"] = "3"
    at.query_params["cmp_steps"] = "500"
    _run(at)
    assert any("k_disc: 1 → 3" in m.value for m in at.markdown)
    at.button(key="_gan2d_cmp_train").click()
    _run(at)
    from genlab.jobs import get_job_manager

    job = get_job_manager().get(at.session_state["_gan2d_cmp_job_id"])
    assert job.wait(120) and job.status == "finished", job.error
    _run(at)
    slider = at.select_slider(key="cmp_timeline")
    assert slider.value == 500
    slider.set_value(3)                                            # step 3: an early frame (log-spaced)
    _run(at)
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(titles) == 2 and "A: k (D steps per G step) = 1" in titles[0] and "= 3" in titles[1]
    # Reset drops both models
    at.button(key="_gan2d_cmp_reset").click()
    _run(at)
    assert at.session_state["_gan2d_cmp_job_id"] is None
    time.sleep(0.1)
