"""Bad uploads and handed-in runs in chromium.

The GAN lab 2D page refuses bad uploads: a non-CSV file, a file over server.maxUploadSize (refused
in the browser before sending), and the server's own 413. The Runs page, on a run store full of
hostile runs (tests/hostile_runs.py: bad file types, bombs, deep JSON, a huge model, Markdown and
HTML injection, a symlink) next to a good one, shows every run's view without an exception,
with no injected link or image and no request to the injected address (issue 24).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import EXCEPTION, IGNORED_CONSOLE, open_page, serve_app, wait_for_streamlit

ROOT = Path(__file__).resolve().parents[2]
UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'


def _limit_mb() -> int:
    import tomllib

    return int(tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"])


@pytest.mark.browser
def test_real_page_refuses_uploads_over_the_limit_and_non_csv_files(browser_page, app_server, tmp_path, page_errors):
    page = browser_page
    open_page(page, f"{app_server}/gan_2d?data=upload+a+CSV&layers=1&width=16")
    page.wait_for_selector(UPLOAD_INPUT, state="attached")
    # 1. a file that is not a CSV (a PNG renamed .csv): the page says what is allowed
    picture = tmp_path / "picture.csv"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300))
    seen = []
    page.on("request", lambda r: seen.append(r) if "/_stcore/upload_file/" in r.url and r.method == "PUT" else None)
    page.locator(UPLOAD_INPUT).set_input_files(str(picture))
    page.get_by_text("That file cannot be used: this is not a CSV text file").wait_for(timeout=180_000)
    wait_for_streamlit(page)
    assert seen, "the upload went to the server"
    upload_url = seen[-1].url
    # 2. a file over server.maxUploadSize (millions of rows): refused before it is sent
    limit = _limit_mb()
    big = tmp_path / "millions.csv"
    with open(big, "wb") as handle:
        handle.write(b"x,y\n")
        handle.write(b"0.5,-1.25\n" * ((limit * 2**20) // 10 + 1000))
    sent_before = len(seen)
    page.locator(UPLOAD_INPUT).set_input_files(str(big))
    page.get_by_text("File must be").first.wait_for(timeout=60_000)
    error_text = page.locator('[data-testid="stFileUploader"]').inner_text()
    assert f"File must be {limit}" in error_text and "or smaller" in error_text, error_text
    page.wait_for_timeout(1000)
    assert len(seen) == sent_before, "an oversized file was uploaded"
    # 3. the server enforces the limit too (a client that skips the page's check gets 413)
    status = page.evaluate(
        """async ([url, size]) => {
            const form = new FormData();
            form.append('file', new Blob([new Uint8Array(size)]), 'huge.csv');
            const response = await fetch(url, {method: 'PUT', body: form,
                                               headers: {'X-Xsrftoken': document.cookie.replace(/.*_streamlit_xsrf=([^;]*).*/, '$1')}});
            return response.status;
        }""",
        [upload_url, (limit + 2) * 2**20],
    )
    assert status == 413, status
    page_errors.clear()   # the browser logs the refused request as a console error


# one view per kind of damage (the AppTest in tests/app/test_hostile_runs_page.py opens all of them)
BROWSER_VIEWS = ("aa-injected", "aa-target-steps-text", "aa-eval-text", "aa-samples-random", "aa-real-9000-png",
                 "aa-extra-deep", "aa-no-config", "aa-million-rows", "aa-symlink", "zz-good")


@pytest.mark.browser
@pytest.mark.timeout(600)   # ten full page loads; ~3 s each on a quiet 2-core machine
def test_runs_page_shows_hostile_runs_without_exception_or_injection(browser_context, tmp_path, monkeypatch):
    import torch

    from genlab.runs import RunStore
    from genlab.train.recording import train_run
    from genlab.train.registry import build_trainer
    from tests.hostile_runs import EVIL, fill_store

    store = RunStore(tmp_path / "runs")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        trainer = build_trainer("gan", "ring8", {"seed": 0, "steps": 12})
        good = store.create("zz-good", trainer.config_dict())
        train_run(trainer, good, 12, checkpoint_every=5)
    finally:
        torch.set_num_threads(previous)
    fill_store(store.root, good.path, tmp_path / "outside")
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(store.root))
    evil_host = EVIL.split("/")[2]
    requests, errors = [], []
    with serve_app(tmp_path) as base:
        page = browser_context.new_page()
        page.on("request", lambda r: requests.append(r.url) if evil_host in r.url else None)
        page.on("pageerror", lambda err: errors.append(str(err)))

        def on_console(message) -> None:
            text = f"{message.text} @ {(message.location or {}).get('url', '')}"
            if message.type == "error" and not any(p.search(text) for p in IGNORED_CONSOLE):
                errors.append(text)

        page.on("console", on_console)
        try:
            for name in BROWSER_VIEWS:
                open_page(page, f"{base}/runs?run=run/{name}")
                page.get_by_role("button", name="Delete").first.wait_for(timeout=60_000)
                assert page.locator(EXCEPTION).count() == 0, (name, page.locator(EXCEPTION).first.inner_text())
                assert page.locator(f'a[href*="{evil_host}"], img[src*="{evil_host}"]').count() == 0, name
                assert name in page.locator("h3").first.inner_text(), name
            page.wait_for_timeout(500)
        finally:
            page.close()
    assert not requests, requests
    assert not errors, errors
