"""First paint of every page in a real browser (issue 22 §1).

A fresh server (``dashboard/serve.py``, an empty run store, the shipped demos), then every page opened
by its address in one headless Chromium tab, the GAN 2D lab first (the page a class opens first after
the server starts), then every page in lecture order. Each time is taken from the navigation to the
moment the page's script has finished *and* the first chart, table or image is drawn: what a student
waits for. The browser's cache is warm after the first page, as in class.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Table, stop_server, verdict

ROOT = Path(__file__).resolve().parents[1]
FIRST_PAGE = "gan_2d.py"
FIRST_TARGET_S, PAGE_TARGET_S = 3.0, 2.0

# Done = Streamlit says the script is not running, no skeleton is left, and something is drawn:
# a Plotly plot with its SVG, a data grid, a table or an image (st.image / st.pyplot); Home, which
# has no figure, when its page links are drawn.
_PAINTED = """(linksOnly) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  const main = document.querySelector('[data-testid="stMain"]') || app;
  if (linksOnly) return !!main.querySelector('[data-testid="stPageLink"]');
  return !!main.querySelector('.js-plotly-plot .main-svg, [data-testid="stDataFrame"] canvas, '
    + '[data-testid="stTable"] table, [data-testid="stImage"] img, [data-testid="stDataFrameResizable"], '
    + '[data-testid="stGraphVizChart"] svg, .genlab-live canvas');
}"""


def _pages() -> list[tuple[str, str]]:
    """(file, title) of every page, in the sidebar's (lecture) order."""
    from dashboard.navigation import present_pages

    return [(name, title) for rows in present_pages().values() for name, title, _ in rows]


def _open_timed(page, url: str, home: bool = False, timeout_s: float = 120) -> float:
    """Seconds from navigation to :data:`_PAINTED` (polled every 50 ms in the page)."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
    page.wait_for_function(_PAINTED, arg=home, polling=50, timeout=timeout_s * 1000)
    return time.perf_counter() - start


def _wait_server(page, base: str, timeout_s: float = 90) -> None:
    """Until the server answers its health check (not timed: the page is opened after this)."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the server did not start")
        time.sleep(0.2)


def first_paint(quick: bool) -> Table:
    """The per-page table: seconds until each page is ready in the browser."""
    from bench.speed import CHROMIUM, CHROMIUM_ARGS, _free_port
    from dashboard.navigation import url_path

    table = Table("First paint of every page in the browser (navigation → script done and first figure drawn)",
                  ["page", "order", "seconds", "target", "verdict"])
    t0 = time.perf_counter()
    if not Path(CHROMIUM).exists():
        table.skipped = f"{CHROMIUM} not found"
        return table
    from playwright.sync_api import sync_playwright

    tmp = tempfile.mkdtemp(prefix="genlab-paint-")
    env = {**os.environ, "GENLAB_RUNS_DIR": tmp, "GENLAB_NO_DOWNLOAD": "1"}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/serve.py", "--server.headless",
                               "true", "--server.port", str(port), "--server.address", "127.0.0.1",
                               "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pages = _pages()
    titles = dict(pages)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            _wait_server(page, base)
            seconds = _open_timed(page, f"{base}/{url_path(FIRST_PAGE)}")
            table.add(titles[FIRST_PAGE], "first after server start", seconds, f"< {FIRST_TARGET_S:g} s",
                      verdict(seconds, FIRST_TARGET_S, "lower"))
            for name, title in pages[:3] if quick else pages:
                seconds = _open_timed(page, f"{base}/{url_path(name)}", home=name == "home.py")
                table.add(title, "in lecture order", seconds, f"< {PAGE_TARGET_S:g} s",
                          verdict(seconds, PAGE_TARGET_S, "lower"))
            browser.close()
    finally:
        stop_server(server)
    table.note(f"Headless Chromium ({CHROMIUM}), 1400 × 1000, one tab: a fresh `streamlit run dashboard/serve.py` "
               "(empty run store, shipped demos), the server's health check answered before the first page; then "
               "each page opened by its address. Seconds from navigation until the script is done (no skeleton "
               "left) and the first chart, table or image is drawn.")
    table.seconds = time.perf_counter() - t0
    return table
