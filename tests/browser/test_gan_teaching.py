"""The GAN pages' teaching additions in chromium (issue 20): a keyboard shortcut takes a training
step (and a focused number field keeps its keys), and a question box reveals its answer from the
shipped demos once the student locks in."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, wait_for_js, wait_for_streamlit, wait_for_text

pytestmark = pytest.mark.browser

TINY_2D = "layers=1&width=32&data=two-gaussians"


def test_gan2d_shortcut_takes_a_d_step_and_a_question_reveals(browser_page, app_server):
    page = browser_page
    open_page(page, f"{app_server}/gan_2d?{TINY_2D}")
    main = page.locator('[data-testid="stMain"]')
    # typing into a number field is not a shortcut: "d" there does not step
    field = main.get_by_label("lr_D (discriminator)")
    field.click()
    field.press("d")
    page.wait_for_timeout(1500)
    assert "D updates" not in main.inner_text()
    # on the page itself, D takes one discriminator step (the button's shortcut)
    main.get_by_text("Live settings").click()
    page.keyboard.press("d")
    wait_for_js(page, "() => document.body.innerText.includes('(D updates 1 · G updates 0')", timeout_ms=200_000,
                what="one D step from the keyboard")
    wait_for_streamlit(page)
    # predict, then reveal: the preset question answers from the shipped demos
    box = page.locator(".st-key-predict-gan2d-preset-modes")
    box.get_by_text("stabilised", exact=True).click()
    wait_for_streamlit(page)
    box.get_by_role("button", name="Lock in my answer").click()
    wait_for_text(page, "the stabilised one")
    assert "of 8" in box.inner_text()
