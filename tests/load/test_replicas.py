"""Load (issue 22 §5): a class on two genlab servers behind HAProxy (``make serve-class``'s setup).

``test_two_replicas_share_a_class`` (marker ``load``, ``make test-load``): two Streamlit replicas
with one run store and one cookie secret, HAProxy in front with deploy/haproxy_config.py's
config. 10 chromium contexts (one browser, one client address) open GAN lab — 2D through the
balancer and each trains; pass:

* the sessions are spread over both replicas (the ``SERVERID`` cookie names each one's replica)
  and each keeps its replica throughout (the cookie never changes while both are up);
* the limits of ``test_ten_sessions_train_and_stay_responsive`` hold (its ``watch_sessions`` and
  ``limit_problems``);
* a run imported on the Runs page through one replica appears on the other's Runs page, both ways
  (an upload: the XSRF check passes with the shared cookie secret);
* one replica is killed (SIGKILL): no saved run is lost, and every session it served reconnects
  to the survivor within a minute (its cookie now names the survivor, the page is drawn and
  connected); what the page shows in between is recorded (``reconnect_texts``) and screenshotted;
  reloaded, such a page says that its server stopped (the notice that HAProxy's ``genlab_moved``
  cookie brings up, dashboard/common.py).

Figures go to tests/screenshots/load-replicas-figures.json. Knobs: GENLAB_LOAD_SESSIONS (10),
GENLAB_LOAD_WATCH_S (60), as the one-server test.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from deploy.haproxy_config import COOKIE, backends_from, render
from genlab import run_import
from genlab.runs import RunStore
from tests.browser.conftest import CHROMIUM, _free_port, wait_for_streamlit
from tests.load.conftest import genlab_server, wait_healthy
from tests.load.test_load import (
    PAGE_TIMEOUT_MS, TRAIN, WATCHER, _exceptions, _open_sessions, _say, _wait_text, limit_problems, watch_sessions,
)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
FIGURES = SCREENSHOTS / "load-replicas-figures.json"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
RECONNECT_S = 60
# What a Streamlit page shows while its server is away (the status widget, a dialog, an alert).
SHOWN = """() => [...document.querySelectorAll('[data-testid="stStatusWidget"], [role="dialog"], [data-testid="stAlert"]')]
    .map(e => e.innerText.trim()).filter(Boolean).join(' | ')"""
CONNECTED = """() => { const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'; }"""


@contextlib.contextmanager
def haproxy_in_front(tmp_dir: Path, servers):
    """HAProxy on 127.0.0.1:<free port> over ``servers`` (r1, r2, ... in order); yields its base URL."""
    port = _free_port()
    config = tmp_dir / "haproxy.cfg"
    addresses = [server.base.removeprefix("http://") for server in servers]
    config.write_text(render(backends_from(addresses), f"127.0.0.1:{port}", check_every_s=1.0))
    log_path = tmp_dir / "haproxy.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(process, base, log_path, 30, "haproxy")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def replica_of(context) -> str | None:
    """The replica (r1, r2) that HAProxy's cookie pins this browser context to."""
    return next((c["value"] for c in context.cookies() if c["name"] == COOKIE), None)


def _import_run(page, base: str, data: Path, name: str) -> str:
    """On the Runs page (through the balancer, in this session): import ``data`` as ``name``."""
    page.goto(f"{base}/runs", wait_until="commit")
    wait_for_streamlit(page, timeout_ms=PAGE_TIMEOUT_MS)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(data))
    page.get_by_label("Name for the imported run", exact=False).fill(name)
    page.get_by_label("Name for the imported run", exact=False).press("Enter")
    wait_for_streamlit(page, timeout_ms=PAGE_TIMEOUT_MS)
    page.get_by_role("button", name="Import").click()
    page.get_by_text(f"Imported run {name}", exact=False).wait_for(timeout=PAGE_TIMEOUT_MS)
    return replica_of(page.context)


def _runs_page_lists(page, base: str, name: str) -> bool:
    """Whether the Runs page (opened anew in this session) names run ``name``."""
    page.goto(f"{base}/runs", wait_until="commit")
    wait_for_streamlit(page, timeout_ms=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(500)
    return page.get_by_text(name, exact=False).count() > 0 or name in page.content()


@pytest.mark.load
@pytest.mark.timeout(2400)
def test_two_replicas_share_a_class(browser, tmp_path, record_property):
    if not Path(CHROMIUM).exists():  # pragma: no cover - the browser fixture skips first
        pytest.skip(f"{CHROMIUM} is missing")
    if not Path(HAPROXY).exists():
        pytest.skip(f"{HAPROXY} is missing (make haproxy installs it)")
    sessions = int(os.environ.get("GENLAB_LOAD_SESSIONS", "10"))
    watch_s = float(os.environ.get("GENLAB_LOAD_WATCH_S", "60"))
    env = {"GENLAB_MAX_JOBS": str(sessions), "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_urlsafe(32)}
    errors: list[str] = []
    problems: list[str] = []
    figures: dict = {"sessions": sessions, "watch_s": watch_s, "replicas": 2, "cores": os.cpu_count(),
                     "load_average_before": os.getloadavg()}
    demo_zip = tmp_path / "demo-run.zip"
    demo_zip.write_bytes(run_import.export_zip(ROOT / "demos" / "gan-ring8"))
    with genlab_server(tmp_path, **env) as first, genlab_server(tmp_path, **env) as second, \
            haproxy_in_front(tmp_path, [first, second]) as base:
        servers = {"r1": first, "r2": second}
        t0 = time.time()
        contexts, pages = _open_sessions(browser, base, sessions, "steps=200000", errors)
        figures["all_pages_loaded_s"] = round(time.time() - t0, 1)
        placed = [replica_of(context) for context in contexts]
        figures["sessions_per_replica"] = dict(sorted(collections.Counter(placed).items()))
        _say(f"{sessions} pages loaded in {figures['all_pages_loaded_s']} s: {figures['sessions_per_replica']}")
        assert set(placed) == {"r1", "r2"}, f"sessions not spread over both replicas: {placed}"

        for page in pages:
            page.evaluate(WATCHER)
            page.locator(TRAIN).first.click()
        for page in pages:
            _wait_text(page, "Training: step", timeout_s=600)
        cpu_start = {name: server.cpu_seconds() for name, server in servers.items()}
        watched, start, end = watch_sessions(contexts, pages, watch_s, errors)
        figures.update(watched)
        figures["server_cpu_cores_while_training"] = {
            name: round((server.cpu_seconds() - cpu_start[name]) / (end - start), 2) for name, server in servers.items()}
        figures["rss_peak_mb"] = {name: round(server.peak_rss_mb(), 1) for name, server in servers.items()}
        problems += limit_problems(figures)
        stuck = [replica_of(context) for context in contexts]
        figures["sessions_that_changed_replica"] = sum(a != b for a, b in zip(placed, stuck))
        if stuck != placed:
            problems.append(f"sessions changed replica while both were up: {placed} -> {stuck}")

        # a run saved through each replica shows on the other's Runs page
        on = {name: pages[placed.index(name)] for name in ("r1", "r2")}
        for source, target in (("r1", "r2"), ("r2", "r1")):
            name = f"saved-on-{source}"
            assert _import_run(on[source], base, demo_zip, name) == source
            if not _runs_page_lists(on[target], base, name):
                problems.append(f"run {name} does not appear on {target}'s Runs page")
        saved_before = {info.name: info.status for info in RunStore(tmp_path / "runs").list()}

        # one replica dies: its sessions reconnect to the other, no saved run is lost
        victims = [page for page, name in zip(pages, placed) if name == "r1"]
        before_kill = len(errors)
        os.kill(first.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        texts: set[str] = set()
        reconnected: dict[int, float] = {}
        shot = False
        while len(reconnected) < len(victims) and time.monotonic() - killed_at < RECONNECT_S:
            for index, page in enumerate(victims):
                if index in reconnected:
                    continue
                with contextlib.suppress(Exception):   # a page in the middle of reloading
                    shown = page.evaluate(SHOWN)
                    if shown:
                        texts.add(shown[:200])
                        if not shot:
                            page.screenshot(path=str(SCREENSHOTS / "load-replicas-server-gone.png"))
                            shot = True
                    if replica_of(page.context) == "r2" and page.evaluate(CONNECTED):
                        reconnected[index] = round(time.monotonic() - killed_at, 1)
            time.sleep(0.5)
        figures["reconnect_texts"] = sorted(texts)
        figures["reconnected_after_s"] = sorted(reconnected.values())
        figures["console_errors_after_kill"] = len(errors) - before_kill
        del errors[before_kill:]        # a dead server's websocket errors are expected in the console
        if len(reconnected) < len(victims):
            problems.append(f"{len(victims) - len(reconnected)} of {len(victims)} sessions of the killed replica "
                            f"did not reconnect to the other within {RECONNECT_S} s (shown: {sorted(texts)})")
        if victims:
            victims[0].reload(wait_until="commit")
            wait_for_streamlit(victims[0], timeout_ms=PAGE_TIMEOUT_MS)
            notice = victims[0].locator('[data-testid="stToast"]', has_text="Your server stopped")
            with contextlib.suppress(Exception):
                notice.first.wait_for(timeout=30_000)
            figures["moved_notice_after_reload"] = notice.count() > 0
            victims[0].screenshot(path=str(SCREENSHOTS / "load-replicas-after-reload.png"))
            if replica_of(victims[0].context) != "r2":
                problems.append("a reload after the kill did not land on the live replica")
            if not figures["moved_notice_after_reload"]:
                problems.append("the reloaded page of a moved session does not say that its server stopped")
        saved_after = {info.name: info.status for info in RunStore(tmp_path / "runs").list()}
        figures["saved_runs"] = saved_after
        if any(saved_after.get(name) != status for name, status in saved_before.items()):
            problems.append(f"saved runs changed after the kill: {saved_before} -> {saved_after}")
        if not all(_runs_page_lists(pages[placed.index("r2")], base, name) for name in saved_before):
            problems.append("the surviving replica's Runs page does not list every saved run")
        for index, page in enumerate(pages):
            for text in _exceptions(page):
                errors.append(f"session {index}: Streamlit exception: {text}")
        for context in contexts:
            context.close()
        figures["load_average_after"] = os.getloadavg()

    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n")
    print("\nload test figures (2 replicas):\n" + json.dumps(figures, indent=2))
    for name, value in figures.items():
        record_property(name, value)
    problems = errors + problems
    assert not problems, "\n".join(problems) + f"\n(figures in {FIGURES})"
