"""Test-wide setup: the repo root is importable and the markers are registered (pyproject.toml)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/browser gets the `browser` marker."""
    for item in items:
        if "browser" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.browser)


# The one headless chromium for every test that drives a browser (tests/browser, tests/load). It
# lives here, not in tests/browser/conftest.py, because Playwright's sync API runs an asyncio loop
# in the main thread while an instance is started: a second session-scoped copy of this fixture
# (another conftest importing it) fails with "using Playwright Sync API inside the asyncio loop".
@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium driven by Playwright; skips when it cannot start."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:  # pragma: no cover
        pytest.skip(f"playwright is not installed ({err}); browser tests skipped")
    manager = sync_playwright().start()
    try:
        instance = manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception as err:
        manager.stop()
        pytest.skip(f"playwright could not launch {CHROMIUM}: {str(err).splitlines()[0]}")
    yield instance
    instance.close()
    manager.stop()


def run_coroutine(coroutine):
    """``asyncio.run(coroutine)`` in a thread of its own: after a browser test in the same pytest
    worker, Playwright's sync API keeps an asyncio loop running in the main thread, where
    ``asyncio.run`` refuses to start ("cannot be called from a running event loop")."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
