"""The app shell in chromium: Home, the navigation, every present page, instructor mode, dark theme.

Pages are visited through the sidebar navigation, as a student would, which also keeps the
app's JavaScript loaded between pages. Screenshots land in tests/screenshots/:
page-<name>-1280.png, page-<name>-1920.png, page-<name>-instructor.png (1920 wide, full length),
home-*.png.
"""
from __future__ import annotations

import pytest

from dashboard import common
from dashboard.navigation import present_pages, url_path
from tests.browser.conftest import open_page, screenshot, wait_for_streamlit

pytestmark = pytest.mark.browser

PAGES = [row for rows in present_pages().values() for row in rows]  # (file, title, icon)
NAV_LINK = '[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]'
INSTRUCTOR_FONT = f"{common.INSTRUCTOR_ROOT_FONT_PX}px"


def _slug(file_name: str) -> str:
    return file_name.removesuffix(".py")


def _toggle(page, label: str):
    """The clickable label of an st.toggle (its <input> is visually hidden)."""
    return page.locator('[data-testid="stCheckbox"] label').filter(has_text=label).first


def _root_font(page) -> str:
    return page.evaluate("() => getComputedStyle(document.documentElement).fontSize")


def _go(page, app_server: str, file_name: str, title: str) -> None:
    """Open a page with its sidebar link (the navigation is hidden while there is one page)."""
    if len(PAGES) > 1:
        page.locator(NAV_LINK).filter(has_text=title).first.click()
        page.wait_for_url(f"{app_server}/{url_path(file_name)}*")
    wait_for_streamlit(page)


def test_home_and_navigation(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + "/")
    assert "genlab" in page.locator("h1").first.inner_text()
    if len(PAGES) > 1:
        titles = [t.strip() for t in page.locator(NAV_LINK).all_inner_texts()]
        for _, title, _ in PAGES:
            assert any(title in t for t in titles), f"{title!r} missing from navigation {titles}"
    screenshot(page, "home-1280")
    screenshot(page, "home-1280-full", full_page=True)


@pytest.mark.timeout(1800)
def test_every_page_laptop_and_projector(browser_page, app_server):
    """Every page: no exception at 1280x720 and 1920x1080, then again in instructor mode."""
    page = browser_page
    problems: list[str] = []
    open_page(page, app_server + "/")
    for file_name, title, _ in PAGES:
        try:
            page.set_viewport_size({"width": 1280, "height": 720})
            _go(page, app_server, file_name, title)
            assert page.locator("h1").count() >= 1, f"{title}: no heading"
            screenshot(page, f"page-{_slug(file_name)}-1280")
            page.set_viewport_size({"width": 1920, "height": 1080})
            wait_for_streamlit(page)
            screenshot(page, f"page-{_slug(file_name)}-1920")
        except AssertionError as err:
            problems.append(f"{title}: {err}")
    # Instructor mode is kept while navigating; the URL says so too.
    _toggle(page, "Instructor mode").click()
    wait_for_streamlit(page)
    for file_name, title, _ in PAGES:
        try:
            _go(page, app_server, file_name, title)
            assert "instructor=1" in page.url, f"{title}: instructor=1 missing from {page.url}"
            assert _root_font(page) == INSTRUCTOR_FONT, f"{title}: instructor CSS not applied"
            screenshot(page, f"page-{_slug(file_name)}-instructor", full_page=True)
        except AssertionError as err:
            problems.append(f"{title} (instructor): {err}")
    assert not problems, "\n".join(problems)


def test_deep_link_first_after_server_start(browser_context, fresh_app_server, page_errors):
    """A shared link opened before anyone visited Home still gets genlab's navigation.

    (Streamlit would otherwise treat dashboard/pages/ as an old-style pages folder.)
    """
    file_name, title, _ = PAGES[-1]
    page = browser_context.new_page()
    page.on("pageerror", lambda err: page_errors.append(str(err)))
    try:
        open_page(page, f"{fresh_app_server}/{url_path(file_name)}?instructor=1")
        # setup_page reruns the first session through app.py; let that rerun settle.
        page.wait_for_function(
            f"() => getComputedStyle(document.documentElement).fontSize === '{INSTRUCTOR_FONT}'",
            timeout=60_000,
        )
        wait_for_streamlit(page)
        assert title in page.locator("h1").first.inner_text()
        if len(PAGES) > 1:
            nav = [t.strip() for t in page.locator(NAV_LINK).all_inner_texts()]
            assert any("Home" in t for t in nav), nav
            assert not any(t in ("app", "home") for t in nav), f"file-name navigation: {nav}"
        assert _root_font(page) == INSTRUCTOR_FONT
    finally:
        page.close()
    assert not page_errors, page_errors


def test_instructor_link_and_toggle_off(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + "/?instructor=1")
    assert _root_font(page) == INSTRUCTOR_FONT
    _toggle(page, "Instructor mode").click()
    wait_for_streamlit(page)
    page.wait_for_function("() => !location.search.includes('instructor=1')")
    assert _root_font(page) != INSTRUCTOR_FONT


def test_hide_explanations_link(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + "/")
    assert page.get_by_text("How to use it.").count() == 1
    open_page(page, app_server + "/?hide=explanations")
    assert page.get_by_text("How to use it.").count() == 0
    assert page.get_by_text("Hidden by this link: explanations").count() == 1


def test_dark_theme_toggle(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + "/")
    _toggle(page, "Dark theme").click()
    wait_for_streamlit(page)
    page.wait_for_function(
        """() => getComputedStyle(document.querySelector('[data-testid="stApp"]'))
                  .backgroundColor === 'rgb(15, 17, 23)'"""
    )
    screenshot(page, "home-dark-1280")


# Contrast ratio (WCAG) of an element's text against a ground colour, composited over the page.
_CONTRAST_JS = """
([selector, groundSelector]) => {
  const rgba = (text) => { const v = text.match(/[\\d.]+/g).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
  const over = (top, bottom) => top.slice(0, 3).map((c, i) => c * top[3] + bottom[i] * (1 - top[3]));
  const lum = (rgb) => { const l = rgb.map(c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
                         return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
  const page = rgba(getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor);
  return Array.from(document.querySelectorAll(selector)).map(el => {
    const groundEl = groundSelector ? el.closest(groundSelector) : null;
    const ground = groundEl ? over(rgba(getComputedStyle(groundEl).backgroundColor), page.slice(0, 3)) : page.slice(0, 3);
    const text = over(rgba(getComputedStyle(el).color), ground);
    const [a, b] = [lum(text), lum(ground)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  });
}
"""


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_message_boxes_readable_and_disabled_buttons_dim(browser_page, app_server, theme):
    """Both themes: text in st.info/warning/error boxes reads against their ground (WCAG AA, 4.5:1);
    a disabled button's label is dimmer than a live one's (Pause/Stop with nothing running)."""
    page = browser_page
    alerts, disabled, live = [], [], []
    for file_name in ("gan_images.py", "latent_spaces.py"):
        if not any(row[0] == file_name for row in PAGES):
            continue
        open_page(page, f"{app_server}/{url_path(file_name)}?theme={theme}")
        assert ("theme=dark" in page.url) is (theme == "dark")
        alerts += page.evaluate(_CONTRAST_JS, ['[data-testid="stAlertContainer"] p', '[data-testid="stAlertContainer"]'])
        disabled += page.evaluate(_CONTRAST_JS, ["[data-testid='stMain'] button:disabled p", "button"])
        live += page.evaluate(_CONTRAST_JS, ["[data-testid='stMain'] button:not(:disabled) p", "button"])
        screenshot(page, f"{theme}-{_slug(file_name)}-1280")
    assert alerts and disabled and live, "no message box or disabled button to check"
    assert min(alerts) >= 4.5, f"message box text contrast {min(alerts):.2f}:1"
    assert max(disabled) < min(live) and max(disabled) < 4.5, (disabled, live)


def test_instructor_link_tables_projector_sized_from_the_first_render(browser_page, app_server):
    """The canvas tables take their font size from the root font when they mount: with ?instructor=1
    they must mount at projector size (0.875 rem of 22 px), not at 14 px."""
    page = browser_page
    if not any(row[0] == "kl_discrete.py" for row in PAGES):
        pytest.skip("kl_discrete.py (a page with tables) is not present")
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_page(page, f"{app_server}/kl_discrete?instructor=1")
    sizes = page.evaluate(
        """() => Array.from(document.querySelectorAll('[style*="--gdg-base-font-style"]'))
                 .map(e => parseFloat(e.style.getPropertyValue('--gdg-base-font-style').trim().split(' ').pop()))"""
    )
    assert sizes, "no table found"
    assert min(sizes) >= 0.875 * common.INSTRUCTOR_ROOT_FONT_PX - 0.5, sizes
    screenshot(page, "kl_discrete-instructor-first-render")
