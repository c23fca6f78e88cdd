"""The lecture-hall features of issue 6 in chromium, page by page.

For each present lesson page (the two KL pages always; the GAN, transformer GAN, latent, image
editing, Bayesian-network and Runs pages when they exist):

1. open it, change a setting as a student would, and see the setting appear in the address;
2. open that address in a *new tab* (a new Streamlit session) and see the same setting;
3. open the instructor link ``?instructor=1&hide=<that control>,explanations``: the control is
   gone, text is projector-sized (root font 22 px), figure ticks are >= 18 px, and screenshots at
   1280x720 and 1920x1080 are saved to tests/screenshots/classroom-<page>-instructor-<width>.png
   (README: "Screenshots"). A normal-mode screenshot is saved as classroom-<page>-1280.png.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from dashboard import common
from dashboard.navigation import present_pages
from tests.browser.conftest import open_page, screenshot, wait_for_streamlit

pytestmark = pytest.mark.browser

PRESENT = {row[0] for rows in present_pages().values() for row in rows}
INSTRUCTOR_FONT = f"{common.INSTRUCTOR_ROOT_FONT_PX}px"
PLOT = ".js-plotly-plot"


# --------------------------------------------------------------------------- #
# Widget helpers (Streamlit's DOM: labelled inputs, range-input slider thumbs, radio/switch inputs)
# --------------------------------------------------------------------------- #
def _widget(page, testid: str, label: str):
    return page.locator(f'[data-testid="{testid}"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]').filter(has_text=label)).first


def set_number(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True).first
    box.fill(str(value))
    box.press("Enter")
    wait_for_streamlit(page)


def number_value(page, label: str) -> str:
    return page.get_by_label(label, exact=True).first.input_value()


def _thumb(page, label: str):
    """The slider's focusable range input (react-aria slider in Streamlit 1.67)."""
    return _widget(page, "stSlider", label).locator('input[type="range"], [role="slider"]').first


def nudge_slider(page, label: str, presses: int) -> None:
    thumb = _thumb(page, label)
    thumb.focus()
    for _ in range(presses):
        thumb.press("ArrowRight")
    wait_for_streamlit(page)


def slider_value(page, label: str) -> str:
    thumb = _thumb(page, label)
    return thumb.get_attribute("aria-valuenow") or thumb.input_value()


def click_radio(page, label: str, option: str) -> None:
    _widget(page, "stRadio", label).locator("label").filter(has_text=option).first.click()
    wait_for_streamlit(page)


def radio_checked(page, label: str, option: str) -> bool:
    return _widget(page, "stRadio", label).get_by_role("radio", name=option).is_checked()


def click_toggle(page, label: str) -> None:
    page.locator('[data-testid="stCheckbox"] label').filter(has_text=label).first.click()
    wait_for_streamlit(page)


def toggle_checked(page, label: str) -> bool:
    return page.locator('[data-testid="stCheckbox"]').filter(has_text=label).first.locator("input").is_checked()


def widget_labels(page) -> list[str]:
    return [t.strip() for t in page.locator('[data-testid="stWidgetLabel"]').all_inner_texts()]


def root_font(page) -> str:
    return page.evaluate("() => getComputedStyle(document.documentElement).fontSize")


def tick_font_px(page) -> float | None:
    """Font size of the first x-axis tick label of the first plotly figure (None: no figure)."""
    return page.evaluate(
        """() => { const t = document.querySelector('.js-plotly-plot .xtick text');
                   return t ? parseFloat(getComputedStyle(t).fontSize) : null; }"""
    )


def open_lesson(page, url: str) -> None:
    """open_page, and wait for the page heading. A deep link opened first after a server start
    can end blank in Streamlit's pages-folder mode (see common._leave_pages_folder_mode); one
    reload then lands on the page."""
    open_page(page, url)
    try:
        page.wait_for_selector("h1", timeout=20_000)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError
        open_page(page, url)
        page.wait_for_selector("h1", timeout=60_000)
    wait_for_streamlit(page)


def wait_for_query(page, fragment: str) -> None:
    page.wait_for_function(f"() => location.search.includes({fragment!r})", timeout=60_000)


# --------------------------------------------------------------------------- #
# The cases
# --------------------------------------------------------------------------- #
@dataclass
class Case:
    file: str
    slug: str
    start: str                      # query string of the first visit ("" or "?seed=1" ...)
    change: Callable                # page -> None: a student's change
    query: list[str]                # fragments the address must then contain
    check: Callable                 # page -> None: asserts the changed setting in a new tab
    hide: str                       # a control the instructor link hides (its query key)
    hidden_label: str               # ... and that control's label, which must then be absent


def _kl_discrete_change(page):
    click_radio(page, "Units", "bits")


def _kl_discrete_check(page):
    assert radio_checked(page, "Units", "bits")


def _gaussian_change(page):
    nudge_slider(page, "μ₁", 3)
    click_toggle(page, "Reveal optimum")


def _gaussian_check(page):
    assert float(slider_value(page, "μ₁")) == pytest.approx(0.3)
    assert toggle_checked(page, "Reveal optimum")


def number_case(file: str, start: str, label: str, value, key: str) -> Case:
    """A page whose change is typing ``value`` into the number input ``label`` (query key ``key``)."""
    def change(page):
        set_number(page, label, value)

    def check(page):
        assert float(number_value(page, label)) == pytest.approx(float(value))

    query = [f"{key}={value}"] + ([start.lstrip("?")] if start else [])
    return Case(file, file.removesuffix(".py"), start, change, query, check, key, label)


def _runs_change(page):
    nudge_slider(page, "Smoothing", 4)


def _runs_check(page):
    assert slider_value(page, "Smoothing") == "5"


CASES = [
    Case("kl_discrete.py", "kl_discrete", "", _kl_discrete_change, ["unit=bits"], _kl_discrete_check,
         "unit", "Units"),
    Case("gaussian_kl.py", "gaussian_kl", "", _gaussian_change, ["mu1=0.3", "reveal=1"], _gaussian_check,
         "mu1", "μ₁"),
    number_case("gan_2d.py", "", "Seed", 7, "seed"),
    number_case("gan_images.py", "", "Seed", 7, "seed"),
    # non-default seeds: the latent pages would otherwise start training their default models
    number_case("latent_spaces.py", "?seed=1", "Latent size K", 3, "k"),
    number_case("vae_elbo.py", "?seed=1", "Latent size K", 3, "k"),
    number_case("transformer_gan.py", "", "Seed", 7, "seed"),
    number_case("image_editing.py", "", "Seed", 7, "seed"),
    number_case("bayesian_networks.py", "", "Number of samples n", 500, "n"),
    Case("runs.py", "runs", "", _runs_change, ["smooth=5"], _runs_check, "smooth",
         "Smoothing"),
]


INSTRUCTOR_CHECKED = {"kl_discrete", "gan_2d", "latent_spaces", "image_editing", "runs"}


def _params() -> list:
    out = []
    for case in CASES:
        marks = [] if case.file in PRESENT else [pytest.mark.skip(reason=f"{case.file} does not exist yet")]
        out.append(pytest.param(case, id=case.slug, marks=marks))
    return out


@pytest.mark.timeout(900)
@pytest.mark.parametrize("case", _params())
def test_link_reproduces_settings_and_instructor_link_hides_controls(browser_page, browser_context, app_server,
                                                                      case: Case):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 720})
    open_lesson(page, f"{app_server}/{case.slug}{case.start}")
    if case.slug == "runs" and not page.locator('[data-testid="stSlider"]').filter(has_text="Smoothing").count():
        pytest.skip("no runs and no shipped demos to show (python -m genlab demos)")
    screenshot(page, f"classroom-{case.slug}-1280")
    assert case.hidden_label in widget_labels(page) or any(case.hidden_label in t for t in widget_labels(page))

    # 1. a student's change goes into the address
    case.change(page)
    for fragment in case.query:
        wait_for_query(page, fragment)
    url = page.url

    # 2. the address in a new tab (a new session) shows the same settings
    other = browser_context.new_page()
    errors: list[str] = []
    other.on("pageerror", lambda err: errors.append(str(err)))
    try:
        open_lesson(other, url)
        case.check(other)
        assert all(fragment in other.url for fragment in case.query), other.url
    finally:
        other.close()
    assert not errors, errors

    # 3. the instructor link hides the control and the explanations, and enlarges everything. ?hide= and
    # the instructor styles come from dashboard/common.py for every page; checked here on a sample of
    # pages to keep `make test` within its time (test_shell opens every page in instructor mode).
    if case.slug not in INSTRUCTOR_CHECKED:
        return
    hide_url = f"{app_server}/{case.slug}?instructor=1&hide={case.hide},explanations"
    if case.start:
        hide_url += "&" + case.start.lstrip("?")
    for width, height in ((1280, 720), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        if width == 1280:
            open_lesson(page, hide_url)
        else:
            wait_for_streamlit(page)
        assert not any(case.hidden_label == t or t.startswith(case.hidden_label) for t in widget_labels(page)), \
            f"{case.hidden_label!r} still shown: {widget_labels(page)}"
        assert root_font(page) == INSTRUCTOR_FONT
        assert page.get_by_text(f"Hidden by this link: {', '.join(sorted([case.hide, 'explanations']))}").count() == 1
        size = tick_font_px(page)
        assert size is None or size >= 18, f"figure ticks {size}px in instructor mode"
        page.wait_for_timeout(300)
        screenshot(page, f"classroom-{case.slug}-instructor-{width}")


def test_projector_dark_theme(browser_page, app_server):
    """Instructor mode with the dark theme at 1920x1080 (a projector in a darkened room)."""
    page = browser_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_lesson(page, f"{app_server}/kl_discrete?instructor=1")
    click_toggle(page, "Dark theme")
    page.wait_for_function(
        """() => getComputedStyle(document.querySelector('[data-testid="stApp"]'))
                  .backgroundColor === 'rgb(15, 17, 23)'"""
    )
    page.wait_for_selector(PLOT)
    assert root_font(page) == INSTRUCTOR_FONT
    assert tick_font_px(page) >= 18
    screenshot(page, "classroom-kl_discrete-instructor-dark-1920")
