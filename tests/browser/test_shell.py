"""The app shell in chromium: Home, the navigation, every present page, instructor mode, dark theme.

Screenshots land in tests/screenshots/ (page-<name>-1280.png, -1920.png, -instructor.png, ...).
"""
from __future__ import annotations

import pytest

from dashboard import common
from dashboard.app import present_pages, url_path
from tests.browser.conftest import open_page, screenshot, wait_for_streamlit

pytestmark = pytest.mark.browser

PAGES = [row for rows in present_pages().values() for row in rows]  # (file, title, icon)
NAV_LINK = '[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]'


def _slug(file_name: str) -> str:
    return file_name.removesuffix(".py")


def _toggle(page, label: str):
    """The clickable label of an st.toggle (its <input> is visually hidden)."""
    return page.locator('[data-testid="stCheckbox"] label').filter(has_text=label).first


def test_home_and_navigation(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + "/")
    assert "genlab" in page.locator("h1").first.inner_text()
    assert page.title().startswith(("Home", "genlab"))
    if len(PAGES) > 1:  # Streamlit hides the navigation while there is a single page
        titles = [t.strip() for t in page.locator(NAV_LINK).all_inner_texts()]
        for _, title, _ in PAGES:
            assert any(title in t for t in titles), f"{title!r} missing from navigation {titles}"
    screenshot(page, "home-1280")
    screenshot(page, "home-1280-full", full_page=True)


def test_click_through_every_page(browser_page, app_server):
    """Navigate with the sidebar links, as a student would; no page may raise."""
    page = browser_page
    open_page(page, app_server + "/")
    for file_name, title, _ in PAGES:
        if len(PAGES) > 1:
            page.locator(NAV_LINK).filter(has_text=title).first.click()
            page.wait_for_url(f"{app_server}/{url_path(file_name)}*")
            wait_for_streamlit(page)
        assert page.locator("h1").count() >= 1, f"{title}: no heading"
        screenshot(page, f"page-{_slug(file_name)}-1280")


@pytest.mark.parametrize("file_name", [row[0] for row in PAGES], ids=_slug)
def test_page_large_and_instructor(browser_page, app_server, file_name):
    """Each page at 1920x1080, then in instructor mode (projector) at 1920x1080, full length."""
    page = browser_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    base = f"{app_server}/{url_path(file_name)}"
    open_page(page, base)
    screenshot(page, f"page-{_slug(file_name)}-1920")
    open_page(page, base + "?instructor=1")
    root_font = page.evaluate("() => getComputedStyle(document.documentElement).fontSize")
    assert root_font == f"{common.INSTRUCTOR_ROOT_FONT_PX}px", f"instructor CSS not applied (root font {root_font})"
    screenshot(page, f"page-{_slug(file_name)}-instructor", full_page=True)


def test_instructor_mode_survives_navigation(browser_page, app_server):
    page = browser_page
    open_page(page, app_server + "/?instructor=1")
    toggle = page.get_by_role("switch", name="Instructor mode")
    assert toggle.is_checked()
    if len(PAGES) > 1:
        file_name, title, _ = PAGES[1]
        page.locator(NAV_LINK).filter(has_text=title).first.click()
        page.wait_for_url(f"{app_server}/{url_path(file_name)}*")
        wait_for_streamlit(page)
        assert page.get_by_role("switch", name="Instructor mode").is_checked()
        assert "instructor=1" in page.url
    # Switching it off removes it from the URL and shrinks the fonts back.
    _toggle(page, "Instructor mode").click()
    wait_for_streamlit(page)
    page.wait_for_function("() => !location.search.includes('instructor=1')")
    assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") != f"{common.INSTRUCTOR_ROOT_FONT_PX}px"


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
