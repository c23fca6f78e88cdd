"""Guided walks in chromium (issue 20 section 4): the keys ← / → move through the walk, a focused
slider and a focused tab keep their arrow keys, and the walk's box stays in view while the page
scrolls.

Screenshot: tests/screenshots/tour-elbo-1280.png.
"""
from __future__ import annotations

import pytest

from dashboard import tours
from tests.browser.conftest import open_page, screenshot, wait_for_js, wait_for_streamlit

pytestmark = pytest.mark.browser

BOX = ".st-key-tour"
PAGE = "vae_elbo"
STEP = next(n for n, step in enumerate(tours.WALKS[PAGE], 1) if "grad_var" in step.look_at and not step.settings)


def _wait_for_step(page, number: int) -> None:
    wait_for_js(page, "(n) => { const box = document.querySelector('.st-key-tour');"
                      " return box && box.innerText.includes('Step ' + n + ' of'); }",
                arg=number, timeout_ms=90_000, what=f"step {number} of the walk")
    wait_for_streamlit(page)


def _press(page, key: str) -> None:
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press(key)


def test_arrow_keys_walk_and_focused_controls_keep_them(browser_page, app_server):
    page = browser_page
    count = len(tours.WALKS[PAGE])
    following = tours.WALKS[PAGE][STEP]            # the step after STEP
    open_page(page, f"{app_server}/{PAGE}?tour={STEP}")
    page.wait_for_selector(".st-key-mu input[type=range]", timeout=120_000)
    # the step's first outlined element is brought into view below the sticky box, not under it
    step = tours.WALKS[PAGE][STEP - 1]
    first = f"predict-{step.question}" if step.question else step.look_at[0]
    wait_for_js(page, "(key) => { const el = document.querySelector('.st-key-' + key);"
                      " const box = document.querySelector('.st-key-tour');"
                      " const main = document.querySelector('[data-testid=stMain]');"
                      " return el && box && main.scrollTop > 0"
                      "   && el.getBoundingClientRect().top >= box.getBoundingClientRect().bottom - 2; }",
                arg=first, timeout_ms=30_000, what=f"{first} scrolled into view below the walk's box")
    assert f"Step {STEP} of {count}" in page.locator(BOX).inner_text()
    _press(page, "ArrowRight")
    _wait_for_step(page, STEP + 1)
    assert all(f"{name}={value}" in page.url for name, value in following.settings.items()), page.url
    _press(page, "ArrowLeft")
    _wait_for_step(page, STEP)
    assert f"tour={STEP}" in page.url and "mu=" not in page.url
    # a focused slider: → moves the slider, the walk stays where it is
    slider = page.locator(".st-key-mu input[type=range]")
    slider.focus()
    before = float(slider.input_value())
    page.keyboard.press("ArrowRight")
    wait_for_js(page, "() => location.search.includes('mu=')", timeout_ms=60_000, what="mu in the address")
    wait_for_streamlit(page)
    assert float(page.locator(".st-key-mu input[type=range]").input_value()) == pytest.approx(before + 0.1)
    # a focused tab: → moves to the next tab, the walk stays where it is
    page.locator('[role="tab"]').filter(has_text="Variance against S").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(1500)
    wait_for_streamlit(page)
    assert f"Step {STEP} of {count}" in page.locator(BOX).inner_text() and f"tour={STEP}" in page.url
    # the box stays at the top while the page scrolls
    page.locator('[data-testid="stMain"]').evaluate("main => main.scrollTo(0, 300)")
    page.wait_for_timeout(300)
    top = page.locator(BOX).bounding_box()["y"]
    assert 0 <= top < 150, top
    screenshot(page, "tour-elbo-1280")
