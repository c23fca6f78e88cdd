"""The GAN lab 2D page in chromium refuses bad uploads: a non-CSV file, a file over
server.maxUploadSize (refused in the browser before sending), and the server's own 413."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import open_page, wait_for_streamlit

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
