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


def test_gaussian_kl_in_chromium(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + "/gaussian_kl?reveal=1&descent=1")
    assert "Gaussian KL" in page.locator("h1").first.inner_text()
    page.wait_for_selector(PLOT)
    # the animation runs in the browser: press play, let it go, no error may appear
    page.locator(f"{PLOT} .updatemenu-button").filter(has_text="play").first.click()
    page.wait_for_timeout(1500)
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
