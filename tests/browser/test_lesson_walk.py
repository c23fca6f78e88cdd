"""A lesson walk in chromium: the sidebar, page after page in lecture order, in one tab, and back.

Issue 23's acceptance test. A page's settings once leaked into the next page through session state
(from "Latent spaces" the ELBO page opened with ``?k=0&beta=0&epochs=0`` and an error; from "GAN lab
— 2D" the image GAN page opened with the 2D page's loss, noise size and steps). Each page reached
through the sidebar must open exactly as a fresh visit of its own address does: same query string,
no error box, no exception. Display options carry: the walk back runs in instructor mode, opened
with ``?instructor=1``, and every page keeps ``instructor=1`` and the projector font.
"""
from __future__ import annotations

import urllib.parse

import pytest

from dashboard import common
from dashboard.navigation import present_pages, url_path
from tests.browser.conftest import EXCEPTION, RUN_TIMEOUT_MS, open_page, wait_for_streamlit

pytestmark = pytest.mark.browser

PAGES = [row for rows in present_pages().values() for row in rows]  # (file, title, icon), lecture order
NAV_LINK = '[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]'
ERROR_BOX = f'[data-testid="stAlertContentError"], {EXCEPTION}'


def _query(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def _errors(page) -> list[str]:
    return [text[:300] for text in page.locator(ERROR_BOX).all_inner_texts()]


@pytest.fixture(scope="module")
def fresh_queries(browser_context, app_server) -> dict[str, dict[str, str]]:
    """Each page's query string on a fresh visit of its address (a new tab, i.e. a new session each).

    The tabs are opened together and then waited for, so their first runs overlap."""
    tabs = {}
    try:
        for file_name, _, _ in PAGES:
            tab = browser_context.new_page()
            tab.goto(f"{app_server}/{url_path(file_name)}")
            tabs[file_name] = tab
        queries, problems = {}, []
        for file_name, tab in tabs.items():
            wait_for_streamlit(tab)
            queries[file_name] = _query(tab.url)
            problems += [f"{file_name} (fresh): {text}" for text in _errors(tab)]
    finally:
        for tab in tabs.values():
            tab.close()
    assert not problems, "\n".join(problems)
    return queries


def _walk(page, app_server: str, rows, fresh: dict[str, dict[str, str]], extra: dict[str, str]) -> list[str]:
    """Click each page of ``rows`` in the sidebar; return what differs from a fresh visit."""
    problems = []
    for file_name, title, _ in rows:
        page.locator(NAV_LINK).filter(has_text=title).first.click()
        page.wait_for_url(f"{app_server}/{url_path(file_name)}*", timeout=RUN_TIMEOUT_MS)
        wait_for_streamlit(page)
        expected = {**fresh[file_name], **extra}
        got = _query(page.url)
        if got != expected:
            problems.append(f"{title}: query {got} instead of {expected} (a fresh visit's)")
        problems += [f"{title}: error box: {text}" for text in _errors(page)]
        if extra.get("instructor") == "1":
            root = page.evaluate("() => getComputedStyle(document.documentElement).fontSize")
            if root != f"{common.INSTRUCTOR_ROOT_FONT_PX}px":
                problems.append(f"{title}: root font {root} in instructor mode")
    return problems


@pytest.mark.timeout(900)
def test_sidebar_walk_in_lecture_order_and_back(browser_page, app_server, fresh_queries):
    page = browser_page
    open_page(page, app_server + "/")
    assert _query(page.url) == fresh_queries[PAGES[0][0]]
    forward, back = PAGES[1:], PAGES[-2::-1]
    problems = _walk(page, app_server, forward + back, fresh_queries, {})
    assert not problems, "\n".join(problems)


@pytest.mark.timeout(900)
def test_instructor_walk_back_keeps_instructor_mode(browser_page, app_server, fresh_queries):
    page = browser_page
    last = PAGES[-1][0]
    open_page(page, f"{app_server}/{url_path(last)}?instructor=1")
    assert _query(page.url) == {**fresh_queries[last], "instructor": "1"}
    problems = _walk(page, app_server, PAGES[-2::-1], fresh_queries, {"instructor": "1"})
    assert not problems, "\n".join(problems)
