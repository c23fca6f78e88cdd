"""The latent pages in chromium (issue 4): the default view shows the shipped demos at once; a
training shows both latent spaces live (then Stop); a small pair trained with the Train button shows both latent plots, the
prior samples and the tabs, in normal and instructor mode; the ELBO page loads its VAE.
Screenshots: tests/screenshots/latent-*.png and vae-elbo-*.png."""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, screenshot, wait_for_streamlit

pytestmark = pytest.mark.browser

LATENT = "/latent_spaces"
ELBO = "/vae_elbo"
TRAIN_TIMEOUT_MS = 240_000  # the CI machine is shared: training 2 x 46 steps can take a while


def _button(page, name: str):
    """A button of the page itself (Streamlit's own running-status widget has a "Stop" button too)."""
    return page.locator('[data-testid="stMain"]').get_by_role("button", name=name, exact=True)


def _latent_pair_points(page) -> int:
    """Markers drawn in the first plotly figure on the page (the latent spaces)."""
    return page.locator(".js-plotly-plot").first.locator(".scatterlayer .point").count()


def _both_titles_visible(page, live: bool = False) -> None:
    plot = page.locator(".js-plotly-plot").first
    ae = "Autoencoder (AE), step" if live else "Autoencoder (AE)"
    plot.get_by_text(ae).first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    plot.get_by_text("Variational autoencoder (VAE)").first.wait_for(timeout=TRAIN_TIMEOUT_MS)


def test_default_view_shows_the_shipped_demos_at_once(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + LATENT)
    # the default settings are not in the (temporary) run store, but demos/ ships them: no waiting
    page.get_by_text("shipped demo run").first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    # one message, in one alert box, that does not call the demos stored runs
    assert page.locator('[data-testid="stAlert"]', has_text="shipped demo run").count() == 1
    assert page.get_by_text("Loaded stored runs").count() == 0
    _both_titles_visible(page)
    assert _latent_pair_points(page) >= 2 * 360   # every test digit in both latent spaces
    assert not _button(page, "Train").is_enabled()
    _assert_link_in_main_only(page)
    screenshot(page, "latent-demo-1280")


def _assert_link_in_main_only(page) -> None:
    """"Link to this view" once, in the main page (at its bottom), not in the sidebar."""
    assert page.locator('[data-testid="stMain"]').get_by_role("button", name="Link to this view").count() == 1
    assert page.locator('[data-testid="stSidebar"]').get_by_text("Link to this view").count() == 0


def test_a_stored_vae_waits_for_the_autoencoder_in_the_live_view(browser_page, app_server):
    """K = 8: the VAE is a shipped demo, only the AE trains; the VAE's panel shows the demo's codes
    and says it waits (it was blank)."""
    page = browser_page
    open_page(page, app_server + LATENT + "?k=8")
    if page.get_by_text("These settings have not been trained yet").count() == 0:
        pytest.skip("the K = 8 pair is already stored, or there is no K = 8 VAE demo")
    _button(page, "Train").click()
    plot = page.locator(".js-plotly-plot").first
    plot.get_by_text("VAE: already trained, waits for the AE").first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    assert page.get_by_text("VAE already trained (stored run)").count() >= 1      # the progress line
    screenshot(page, "latent-live-vae-waits-1280")
    _button(page, "Stop").click()
    page.get_by_text("Training was stopped").wait_for(timeout=TRAIN_TIMEOUT_MS)


def test_training_shows_both_latent_spaces_live_then_stops(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + LATENT + "?epochs=400")   # long enough that Stop always comes first
    _button(page, "Train").click()
    _both_titles_visible(page, live=True)
    page.wait_for_function(
        """() => { const p = document.querySelector('.js-plotly-plot');
                   return p && p.querySelectorAll('.scatterlayer .point').length >= 2 * 300; }""",
        timeout=TRAIN_TIMEOUT_MS)
    screenshot(page, "latent-live-1280")
    _button(page, "Stop").click()
    page.get_by_text("Training was stopped").wait_for(timeout=TRAIN_TIMEOUT_MS)
    wait_for_streamlit(page)
    assert _button(page, "Train").is_enabled()


def test_trained_pair_shows_both_latent_plots_samples_and_tabs(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + LATENT + "?epochs=2")
    assert page.locator("h1").first.inner_text().strip() == "Latent spaces — autoencoder vs VAE"
    assert page.get_by_text("These settings have not been trained yet").count() == 1
    _button(page, "Train").click()
    page.get_by_text("Trained just now").wait_for(timeout=TRAIN_TIMEOUT_MS)
    wait_for_streamlit(page)
    _both_titles_visible(page)
    assert _latent_pair_points(page) >= 2 * 360  # every test digit in both latent spaces
    assert page.locator('[data-testid="stMetric"]').count() == 4
    assert page.get_by_text("AE Fréchet distance", exact=True).count() == 1
    assert page.locator(".js-plotly-plot").count() >= 3  # latent spaces, prior samples, decoded plane
    screenshot(page, "latent-1280")
    screenshot(page, "latent-1280-full", full_page=True)
    for tab, name in (("Interpolation", "interpolation"), ("Latent traversal", "traversal")):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(500)
        wait_for_streamlit(page)
        assert f"walk={name}" in page.url, page.url          # a link keeps the open tab
    _assert_link_in_main_only(page)
    slider = page.get_by_role("slider").first
    slider.scroll_into_view_if_needed()
    screenshot(page, "latent-traversal-1280")


def test_instructor_view_at_1920_and_elbo_page(browser_page, app_server):
    page = browser_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    # the 2-epoch pair of the previous test is stored, or trains now (tests may run alone)
    page.goto(app_server + LATENT + "?epochs=2&instructor=1")
    page.wait_for_timeout(2000)
    if page.get_by_text("These settings have not been trained yet").count():
        _button(page, "Train").click()
    page.get_by_text("Variational autoencoder (VAE)").first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    wait_for_streamlit(page)
    _both_titles_visible(page)
    screenshot(page, "latent-instructor-1920")
    screenshot(page, "latent-instructor-1920-full", full_page=True)

    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, app_server + ELBO + "?epochs=2")
    assert page.locator("h1").first.inner_text().strip() == "Latent ELBO & reparameterization"
    assert page.get_by_text("Showing your stored run").count() == 1
    assert page.get_by_text("Can we backpropagate through z").count() == 1
    # ELBO terms, KL per dimension, the variance plots (the estimates tab is drawn when it is opened)
    assert page.locator(".js-plotly-plot").count() >= 3
    page.get_by_role("tab", name="Estimates ± 1 sd").click()
    page.wait_for_timeout(500)
    wait_for_streamlit(page)
    assert "grad=estimates" in page.url, page.url                 # a link keeps the open tab
    assert page.get_by_text("true ∂/∂μ").count() >= 1
    screenshot(page, "vae-elbo-1280-full", full_page=True)
    open_page(page, app_server + ELBO + "?epochs=2&instructor=1&f=sigmoid&mu=0.5")
    screenshot(page, "vae-elbo-instructor-1280")
