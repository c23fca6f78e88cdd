"""Issue 20's acceptance in chromium, over every lesson page: each asks a question (a predict-<id>
box whose lock button starts with "Lock in") and opens its guided walk from the address, ?tour=1 and
?tour=2 showing different steps."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, wait_for_js

pytestmark = pytest.mark.browser

LESSONS = ("kl_discrete", "gaussian_kl", "latent_spaces", "vae_elbo", "gan_2d", "gan_images", "transformer_gan",
           "bayesian_networks", "image_editing")
TOUR_TEXT = "() => document.querySelector('.st-key-tour')?.innerText || ''"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_asks_a_question_and_walks_from_its_address(browser_page, app_server, lesson):
    page = browser_page
    open_page(page, f"{app_server}/{lesson}?tour=1")
    wait_for_js(page, "() => document.querySelector('[class*=\"st-key-predict-\"]') !== null",
                what=f"a predict-<id> box on {lesson}")
    assert page.locator('[class*="st-key-predict-"] button', has_text="Lock in").count() >= 1
    first = page.evaluate(TOUR_TEXT)
    assert "Step 1 of" in first
    open_page(page, f"{app_server}/{lesson}?tour=2")
    wait_for_js(page, f"() => ({TOUR_TEXT})().includes('Step 2 of')", what=f"step 2 of {lesson}'s walk")
    assert page.evaluate(TOUR_TEXT) != first
