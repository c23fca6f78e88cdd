"""Browser test fixtures: a live genlab server and Playwright pages in Debian's chromium.

Fixtures
    app_server    (session) base URL of `streamlit run dashboard/serve.py` on a free port
    fresh_app_server (function) the same, a new server per test (slow: only for first-visit tests)
    cold_app_server (function) a new server without the start-up imports (GENLAB_WARM_UP=0)
    browser       (session, tests/conftest.py) Playwright Browser (/usr/bin/chromium, headless)
    browser_context (session) the context all pages share (HTTP cache of the app's JS)
    browser_page  (function) a new tab at 1280x720; the test fails if a console
                  error, a page error or a Streamlit exception box shows up
    page_errors   (function) the list browser_page collects into (clear it to accept
                  an error you provoked on purpose)

Helpers (import them: ``from tests.browser.conftest import open_page, screenshot, wait_for_streamlit``)
    wait_for_streamlit(page)        wait until the script run is over; raise on a Streamlit exception
    open_page(page, url)            goto + wait_for_streamlit
    wait_for_js(page, expression, arg=, timeout_ms=, what=)  wait_for_function; on timeout quotes the page
    wait_for_text(page, text, timeout_ms)  wait until the page shows text; on timeout the error quotes the page
    screenshot(page, name, full_page=False) -> Path   save tests/screenshots/<name>.png

Browser tests are skipped, with the reason, when /usr/bin/chromium is missing or cannot start.
"""
from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = os.environ.get("GENLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 90  # seconds; the machine is shared and slow
RUN_TIMEOUT_MS = 180_000  # one page: script run plus lazy-loaded widget code (slow when the CPU is busy)
EXCEPTION = '[data-testid="stException"]'
# Console errors that are not app errors, matched against "<message> @ <resource url>".
# Opening a page URL directly (e.g. /kl_discrete) makes Streamlit's frontend probe
# /kl_discrete/_stcore/health and .../host-config first (404) before the app root.
# A live image (st.image redrawn twice a second while a GAN trains) replaces its media file: the
# browser may still fetch the previous frame's file after the server dropped it (404, "Image source
# error"); the next frame follows at once.
IGNORED_CONSOLE = (
    re.compile(r"status of 404 .* @ \S+/_stcore/(health|host-config)$"),
    re.compile(r"status of 404 \(Not Found\) @ \S+/media/[0-9a-f]+\.(jpg|png)$"),
    re.compile(r"Image source error - \S+/media/[0-9a-f]+\.(jpg|png) @ "),
)


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def wait_for_streamlit(page, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
    """Wait until the app is connected and no script run is going on; raise on an exception box.

    A run that starts just after a click may not have begun yet, so the state must stay
    "not running" for two checks in a row, 250 ms apart.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    calm = 0
    while calm < 2:
        if time.monotonic() > deadline:
            raise AssertionError(f"Streamlit still running after {timeout_ms} ms at {page.url}")
        state = page.evaluate(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                if (!app) return 'missing';
                const run = app.getAttribute('data-test-script-state');
                const conn = app.getAttribute('data-test-connection-state');
                const busy = document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
                          || document.querySelector('[data-testid="stSkeleton"]');
                return [run, conn, busy ? 'busy' : 'idle'].join('|');
            }"""
        )
        run, conn, busy = (state.split("|") + ["", ""])[:3]
        calm = calm + 1 if (run == "notRunning" and conn == "CONNECTED" and busy == "idle") else 0
        page.wait_for_timeout(250)
    assert_no_exception(page)


def wait_for_js(page, expression: str, *, arg=None, timeout_ms: int = 120_000, what: str = ""):
    """``page.wait_for_function(expression, arg=arg)``; on a timeout the assertion quotes what the page
    did show (a failure under load then says why -- "2 jobs ahead of you", "building the model" --
    instead of just "timeout"). Keep ``timeout_ms`` well under pytest's 300 s per test, or pytest's
    timeout fires first and nothing is quoted. Returns the JSHandle of the truthy value."""
    try:
        return page.wait_for_function(expression, arg=arg, timeout=timeout_ms)
    except Exception as err:
        try:
            shown = page.locator('[data-testid="stMain"]').inner_text(timeout=5000)[:1500]
        except Exception:
            shown = "(page text unavailable)"
        with contextlib.suppress(Exception):
            screenshot(page, "FAILED-wait-" + _file_name(what or expression)[:60])
        log = server_log_tail(page.url)
        raise AssertionError(f"{what or expression} not seen after {timeout_ms} ms at {page.url} "
                             f"({type(err).__name__}); the page showed:\n{shown}"
                             + (f"\n-- the server's log ends with:\n{log}" if log else "")) from None


def wait_for_text(page, text: str, timeout_ms: int = 120_000) -> None:
    """Wait until ``text`` is part of the page's visible text (quoting the page on a timeout)."""
    wait_for_js(page, "(t) => document.body.innerText.includes(t)", arg=text, timeout_ms=timeout_ms,
                what=repr(text))


def assert_no_exception(page) -> None:
    boxes = page.locator(EXCEPTION)
    if boxes.count():
        text = boxes.first.inner_text()[:2000]
        raise AssertionError(f"Streamlit exception on {page.url}:\n{text}")


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_for_streamlit(page)


def screenshot(page, name: str, full_page: bool = False) -> Path:
    """Save tests/screenshots/<name>.png.

    Streamlit scrolls inside its own container, so ``full_page=True`` grows the
    viewport to the height of the content for the shot and then restores it.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if not full_page:
        page.screenshot(path=str(path))
        return path
    size = page.viewport_size or {"width": 1280, "height": 720}
    height = page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stMain"]')
                      || document.querySelector('section.main') || document.body;
            return Math.max(main.scrollHeight, document.body.scrollHeight);
        }"""
    )
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 8000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


def _file_name(text: str) -> str:
    """``text`` with every run of characters other than letters, digits, ``_ . -`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


SERVER_LOGS: dict[str, Path] = {}   # base URL -> the server's log file (see serve_app)


def server_log_tail(url: str, lines: int = 25) -> str:
    """The last ``lines`` lines of the log of the test server that serves ``url`` ("" if none)."""
    for base, path in SERVER_LOGS.items():
        if url.startswith(base) and path.exists():
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- #
# Fixtures
# --------------------------------------------------------------------------- #
def wait_healthy(process: subprocess.Popen, base: str, log_path: Path, timeout_s: float, what: str) -> None:
    """Wait until ``base``/_stcore/health answers 200 (Streamlit's, or HAProxy's in front of it);
    fail the test with the end of ``log_path`` if ``process`` exits or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not healthy after {timeout_s:.0f} s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.3)


@contextlib.contextmanager
def serve_app(tmp_dir: Path, extra_env: dict[str, str] | None = None):
    """Run `streamlit run dashboard/serve.py` (the app and its live-feed route) on a free port;
    yield the base URL."""
    port = _free_port()
    log_path = tmp_dir / f"server-{port}.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "dashboard/serve.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "full",  # tracebacks in failing tests
    ]
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(extra_env or {}))
    env.setdefault("GENLAB_LOG", "info")      # job queued/started/ended lines: quoted when a wait times out
    # Runs trained during browser tests go to a temporary store, not ./runs.
    env.setdefault("GENLAB_RUNS_DIR", str(tmp_dir / "runs"))
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    SERVER_LOGS[base] = log_path
    try:
        wait_healthy(proc, base, log_path, SERVER_START_TIMEOUT, "streamlit")
        yield base
    finally:
        SERVER_LOGS.pop(base, None)       # a later server may get the same port
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """The dashboard on a free port for the whole session; yields "http://127.0.0.1:PORT"."""
    with serve_app(tmp_path_factory.mktemp("streamlit")) as base:
        yield base


@pytest.fixture
def fresh_app_server(tmp_path):
    """A server of its own that no browser has opened yet (for first-visit behaviour)."""
    with serve_app(tmp_path) as base:
        yield base


@pytest.fixture
def cold_app_server(tmp_path):
    """A fresh server without the start-up imports (``GENLAB_WARM_UP=0``): its first page pays for
    torch and pandas itself, as on a server started without them. The first import of pandas takes
    2 s more (tests/browser/slow_first_imports/sitecustomize.py), as on a slow or busy machine, so
    that a first visit is slow on any machine."""
    shim = str(Path(__file__).with_name("slow_first_imports"))
    path = os.pathsep.join(p for p in (shim, os.environ.get("PYTHONPATH", "")) if p)
    with serve_app(tmp_path, {"GENLAB_WARM_UP": "0", "PYTHONPATH": path}) as base:
        yield base


# `browser` (the one session-wide chromium) is in tests/conftest.py: Playwright's sync API allows one
# running instance per thread, so tests/app, tests/browser and tests/load must share one fixture.


@pytest.fixture(scope="session")
def browser_context(browser):
    """One context for the session, so the app's JavaScript is fetched and compiled once."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.set_default_timeout(RUN_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def browser_page(browser_context, app_server, page_errors, request):
    """A new tab (1280x720; each tab is its own Streamlit session).

    Fails the test on console errors, page errors or Streamlit exception boxes.
    """
    page = browser_context.new_page()

    def on_console(msg) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        text = f"{msg.text} @ {where}"
        if not any(p.search(text) for p in IGNORED_CONSOLE):
            page_errors.append(f"console error: {text}")

    page.on("console", on_console)
    page.on("pageerror", lambda err: page_errors.append(f"page error: {err}"))
    yield page
    try:
        exceptions = page.locator(EXCEPTION).count() if not page.is_closed() else 0
        if (exceptions or page_errors) and not page.is_closed():
            screenshot(page, f"FAILED-{_file_name(request.node.name)}")
        if exceptions:
            page_errors.append(f"Streamlit exception on {page.url}: "
                               + page.locator(EXCEPTION).first.inner_text()[:2000])
    finally:
        page.close()
    if page_errors:
        pytest.fail("browser reported errors:\n" + "\n".join(page_errors), pytrace=False)
