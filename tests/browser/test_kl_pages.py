"""The two KL pages in chromium: they open, draw their figures, react to a control, raise nothing.

Screenshots: tests/screenshots/kl-*.png (1280x720 and 1920x1080, normal and instructor mode).
"""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, screenshot, wait_for_streamlit

pytestmark = pytest.mark.browser

PLOT = ".js-plotly-plot"


def _metric_values(page) -> list[str]:
    return [t.strip() for t in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]


def test_kl_discrete_in_chromium(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + "/kl_discrete")
    assert "KL divergence" in page.locator("h1").first.inner_text()
    assert _metric_values(page)[:2] == ["1.758 nats", "1.758 nats"]
    page.wait_for_selector(PLOT)
    assert page.locator(PLOT).count() == 2
    screenshot(page, "kl-discrete-1280")
    # switch to bits with the radio, as a student would
    page.locator('[data-testid="stRadio"] label').filter(has_text="bits").first.click()
    wait_for_streamlit(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
        ".some(e => e.innerText.trim() === '2.536 bits')"
    )
    assert "unit=bits" in page.url
    # a preset with KL = ∞ from the URL: shown as ∞, not as an error
    open_page(page, app_server + "/kl_discrete?preset=Zero+in+p%3A+q%28x%29+%3E+0+where+p%28x%29+%3D+0")
    assert _metric_values(page)[0] == "∞"
    assert page.locator('[data-testid="stAlertContentWarning"]').count() >= 1


def _step_label(page) -> str:
    """The animation's label in the plot (step and KL of the q drawn)."""
    return page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot .textpoint')]"
                         ".map(e => e.textContent).join(' | ')")


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def _overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_gaussian_kl_in_chromium(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + "/gaussian_kl?reveal=1&descent=1")
    assert "Gaussian KL" in page.locator("h1").first.inner_text()
    page.wait_for_selector(PLOT)
    assert _step_label(page) == "step 0: KL(q‖p) = 15.036 nats"
    # the toolbar (shown on hover) leaves the step slider and the play buttons free (issue 23)
    page.locator(PLOT).first.hover()
    page.wait_for_timeout(300)
    toolbar = _box(page, f"{PLOT} .modebar")
    assert not _overlap(toolbar, _box(page, f"{PLOT} .slider-container")), "the toolbar covers the slider"
    assert not _overlap(toolbar, _box(page, f"{PLOT} .updatemenu-container")), "the toolbar covers play"
    # the animation runs in the browser: press play; the label follows q to the end (it stayed at
    # "step 0" while q moved, issue 23), and no error may appear
    page.locator(f"{PLOT} .updatemenu-button").filter(has_text="play").first.click()
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot .textpoint')]"
                           ".some(e => e.textContent.startsWith('step 23:'))", timeout=30_000)
    assert _step_label(page) == "step 23: KL(q‖p) = 0.830 nats"  # the optimum, as the caption says
    screenshot(page, "kl-gaussian-1280")
    open_page(page, app_server + "/gaussian_kl?mode=Mixture+p+%28PRML+Fig.+10.3%29&reveal=1")
    page.wait_for_selector(PLOT)
    assert "moment matching" in page.locator("body").inner_text()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)], ids=["1280", "1920"])
def test_kl_pages_instructor_mode(browser_page, app_server, size):
    page = browser_page
    page.set_viewport_size({"width": size[0], "height": size[1]})
    for slug, query in (("kl_discrete", ""), ("gaussian_kl", "&reveal=1&descent=1")):
        open_page(page, f"{app_server}/{slug}?instructor=1{query}")
        page.wait_for_selector(PLOT)
        screenshot(page, f"kl-{slug}-instructor-{size[0]}")
        screenshot(page, f"kl-{slug}-instructor-{size[0]}-full", full_page=True)


@pytest.mark.parametrize("size, query", [((1400, 900), ""), ((1920, 1080), "&instructor=1")],
                         ids=["1400", "1920-instructor"])
def test_gaussian_figure_and_guess_kl_in_the_first_screen(browser_page, app_server, size, query):
    """Issue 23: at 1920x1080 in instructor mode the figure was cut off and "KL of your guess" was
    below the fold. The whole figure, the guess's KL and p's settings are in the first screen."""
    page = browser_page
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_page(page, app_server + "/gaussian_kl?descent=1&reveal=1" + query)
    page.wait_for_selector(PLOT)
    page.wait_for_timeout(500)
    figure = _box(page, '[data-testid="stPlotlyChart"]')
    assert figure["y"] >= 0 and figure["y"] + figure["height"] <= size[1], figure
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="KL(p‖q) of your guess").first.bounding_box()
    assert metric["y"] + metric["height"] <= size[1], metric
    first_slider = page.locator('[data-testid="stSlider"]').first.bounding_box()  # μ₁, p's first setting
    assert first_slider["y"] + first_slider["height"] <= size[1], first_slider
    screenshot(page, f"kl-gaussian-first-screen-{size[0]}")
