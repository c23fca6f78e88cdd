"""Replay and compare in chromium (issue 21): the timeline of the shipped vanilla ring8 demo (the
slider moves the plane, ?t= reopens a moment, Download as GIF), and two settings trained in lockstep
that survive Pause and Reset."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import open_page, wait_for_js, wait_for_streamlit, wait_for_text

pytestmark = pytest.mark.browser

TINY_2D = "layers=1&width=16&data=two-gaussians"
SHOWN = """() => { const p = document.querySelector('.st-key-replay-view .js-plotly-plot');
    return p && p._transitionData && p.layout.sliders ? p._transitionData._frames[p.layout.sliders[0].active].name : null; }"""


def _step(page) -> int:
    """The step of the frame the timeline's picture shows (its Plotly slider's active frame)."""
    wait_for_js(page, f"() => ({SHOWN})() !== null", what="the timeline's picture")
    return int(page.evaluate(SHOWN))


def test_demo_timeline_slider_link_and_gif(browser_page, app_server):
    page = browser_page
    open_page(page, f"{app_server}/gan_2d?{TINY_2D}&replay=gan-ring8-vanilla")
    assert _step(page) == 6000                                # a finished run opens at its end
    slider = page.locator('.st-key-timeline input[type="range"]')
    slider.focus()
    slider.press("Home")                                      # back to the untrained model
    wait_for_js(page, f"() => ({SHOWN})() === '0'", what="step 0 shown")
    wait_for_streamlit(page)
    assert re.search(r"[?&]t=0(&|$)", page.url)              # the address links to the moment
    # a link to a moment opens it (the last frame at or before the step)
    open_page(page, f"{app_server}/gan_2d?{TINY_2D}&replay=gan-ring8-vanilla&t=1500")
    assert 1000 < _step(page) <= 1500
    with page.expect_download(timeout=120_000) as download:
        page.locator(".st-key-replay-view-gif button, [class*='st-key-replay-view-gif'] button").first.click()
    with open(download.value.path(), "rb") as gif:
        assert gif.read(6) == b"GIF89a"


def test_compare_trains_in_lockstep_and_survives_pause_and_reset(browser_page, app_server):
    page = browser_page
    open_page(page, f"{app_server}/gan_2d?{TINY_2D}&cmp=k&cmp_b=3&cmp_steps=5000")
    main = page.locator('[data-testid="stMain"]')
    assert "k_disc: 1 → 3" in main.inner_text()
    main.get_by_role("button", name="Train both").click()
    wait_for_js(page, "() => [...document.querySelectorAll('.gtitle')].some(t => t.textContent.startsWith('B: k'))",
                timeout_ms=180_000, what="the two live planes")
    main.get_by_role("button", name="Pause both").click()
    wait_for_streamlit(page)
    page.wait_for_timeout(1500)
    steps = page.evaluate("""() => [...document.querySelectorAll('.gtitle')].map(t => t.textContent)
        .filter(t => /^[AB]: /.test(t)).map(t => t.split('step ')[1])""")
    assert len(steps) == 2 and steps[0] == steps[1], steps   # paused at the same step
    page.locator(".st-key-_gan2d_cmp_reset button").first.click()
    wait_for_text(page, "Press Train both")
