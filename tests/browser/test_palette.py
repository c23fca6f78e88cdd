"""The colour-blind-safe palette in chromium (issue 20 §5): ``?palette=cb`` changes the colours the
browser draws, and the sidebar toggle switches back and clears the address's parameter.

Screenshot: tests/screenshots/palette-cb-kl-discrete.png.
"""
from __future__ import annotations

import pytest

from dashboard.figures.palette import COLOUR_BLIND, DEFAULT
from tests.browser.conftest import open_page, screenshot, wait_for_js, wait_for_streamlit

pytestmark = pytest.mark.browser

# the fill colours of the bars Plotly drew (as "rgb(r, g, b)")
BAR_FILLS_JS = r"""() => [...new Set([...document.querySelectorAll('.js-plotly-plot .barlayer path')]
    .map(p => p.style.fill).filter(Boolean))]"""


def _rgb(colour: str) -> str:
    r, g, b = (int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


def test_palette_cb_recolours_the_figures_in_the_browser(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + "/kl_discrete?palette=cb&hide=predict")
    wait_for_js(page, f"() => ({BAR_FILLS_JS})().length >= 4", timeout_ms=60_000, what="the KL bar charts")
    fills = set(page.evaluate(BAR_FILLS_JS))
    assert {_rgb(c) for c in (COLOUR_BLIND.q, COLOUR_BLIND.p, COLOUR_BLIND.kl_qp, COLOUR_BLIND.kl_pq)} <= fills
    assert not {_rgb(c) for c in (DEFAULT.q, DEFAULT.p, DEFAULT.kl_qp, DEFAULT.kl_pq)} & fills
    screenshot(page, "palette-cb-kl-discrete")
    # the sidebar toggle turns it off: default colours, no palette in the address
    page.locator('[data-testid="stSidebar"] label').filter(has_text="Colour-blind-safe colours").click()
    wait_for_streamlit(page)
    wait_for_js(page, f"() => ({BAR_FILLS_JS})().includes({_rgb(DEFAULT.q)!r})", timeout_ms=60_000,
                what="the default colours after the toggle")
    assert "palette=" not in page.url
