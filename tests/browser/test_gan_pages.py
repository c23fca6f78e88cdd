"""The GAN pages in chromium (issue 5 acceptance).

* GAN lab — 2D: start training, see the step counter, the plane and the charts change over a few
  seconds, pause, change lr_D and k live, take a single Algorithm-1 step with the new k, resume,
  and no exception or console error anywhere.
* Bad CSV uploads give a clear message (never a traceback).
* Image GANs: train a little, see the live sample grid and charts, stop.
* Screenshots (tests/screenshots/gan-*.png) at 1280x720, 1920x1080 and in instructor mode.

Training needs CPU: on a busy shared machine a step can take a while, so the waits are long
(they return as soon as the condition holds).
"""
from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import open_page, screenshot, wait_for_js, wait_for_streamlit, wait_for_text

pytestmark = pytest.mark.browser

# first Train: torch's one-time optimizer import + model build. Under pytest's 300 s per test, so that
# a timeout quotes what the page showed instead of being cut off by pytest-timeout.
TRAIN_TIMEOUT_MS = 200_000
TINY_2D = "layers=1&width=32&data=two-gaussians"

STATUS_JS = r"""() => {
    const m = document.body.innerText.match(/(Training|Paused): step ([\d,]+) of [\d,]+ · D updates ([\d,]+) · G updates ([\d,]+)/);
    return m ? {state: m[1], step: +m[2].replace(/,/g, ''), d: +m[3].replace(/,/g, ''), g: +m[4].replace(/,/g, '')} : null;
}"""

# While training the plane and the charts are drawn on the live canvas (dashboard/live_canvas.js):
# a fingerprint of what each canvas shows (its first trace's length and last x) and of its pixels.
LIVE_JS = r"""() => Array.from(document.querySelectorAll('canvas.genlab-live-figure')).map(c => {
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < px.length; i += 397) sum = (sum * 31 + px[i]) % 1000003;
    return [c.dataset.key, c.dataset.points, c.dataset.lastX, sum].join(':');
}).join('#')"""

# Share of the plane canvas's pixels near a colour (real points green #1b9e4b, fakes purple #7b3fb5).
PLANE_COLOR_JS = r"""([r, g, b]) => {
    const c = document.querySelector('canvas.genlab-live-figure[data-key="gan2d_plane"]');
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let hits = 0;
    for (let i = 0; i < px.length; i += 4)
        if (Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 60) hits++;
    return hits / (px.length / 4);
}"""


# the plane's top edge: the live canvas's while training, else the Plotly figure's
PLANE_TOP_JS = r"""() => {
    const plane = document.querySelector('canvas.genlab-live-figure[data-key="gan2d_plane"]')
        || document.querySelector('[data-testid="stMain"] .js-plotly-plot');
    const main = document.querySelector('[data-testid="stMain"]');
    return plane.getBoundingClientRect().top + main.scrollTop;
}"""
FAKE_ON_LIGHT = [round(0.7 * c + 0.3 * 255) for c in (0x7B, 0x3F, 0xB5)]   # a fake point over white


def _main(page):
    return page.locator('[data-testid="stMain"]')


def _button(page, name: str):
    """A main-area button by its label; a training button's keyboard shortcut (issue 20) adds
    "Shortcut T" (its key) to the button's accessible name."""
    return _main(page).get_by_role("button", name=re.compile(rf"^{re.escape(name)}( Shortcut \S+)?$"))


def _status(page) -> dict | None:
    return page.evaluate(STATUS_JS)


def _wait_status(page, predicate_js: str, timeout_ms: int = TRAIN_TIMEOUT_MS) -> dict:
    wait_for_js(page, f"() => {{ const s = ({STATUS_JS})(); return s && ({predicate_js}); }}",
                timeout_ms=timeout_ms)
    return _status(page)


def test_gan2d_train_watch_pause_change_live(browser_page, app_server):
    page = browser_page
    frames: list[float] = []             # Streamlit's websocket messages to the page
    page.on("websocket", lambda ws: ws.on("framereceived", lambda _: frames.append(time.monotonic())))
    open_page(page, f"{app_server}/gan_2d?{TINY_2D}")
    assert "GAN lab — 2D" in page.locator("h1").first.inner_text()
    screenshot(page, "gan-2d-1280-idle")

    _button(page, "Train").click()
    first = _wait_status(page, "s.state === 'Training' && s.step >= 2")
    # the plane + 4 charts over time on the live canvas, redrawn as training goes on
    wait_for_js(page, "() => document.querySelectorAll('canvas.genlab-live-figure').length >= 5",
                timeout_ms=120_000)
    charts_before = page.evaluate(LIVE_JS)
    page.wait_for_timeout(4000)
    later = _wait_status(page, f"s.step > {first['step']}", timeout_ms=120_000)
    assert later["step"] > first["step"]
    wait_for_js(page, f"() => ({LIVE_JS})() !== {charts_before!r}", timeout_ms=120_000)
    titles = page.evaluate("() => Array.from(document.querySelectorAll('canvas.genlab-live-figure'))"
                           ".map(c => c.dataset.title)")
    assert any(t.startswith("Losses") for t in titles) and any(t.startswith("Mean D(x)") for t in titles)
    # the plane shows real (green) and fake (purple, see-through: 70 % over the light background) points
    assert page.evaluate(PLANE_COLOR_JS, [0x1B, 0x9E, 0x4B]) > 0.0005
    assert page.evaluate(PLANE_COLOR_JS, FAKE_ON_LIGHT) > 0.0005
    live_top = page.evaluate(PLANE_TOP_JS)
    screenshot(page, "gan-2d-1280-training")
    # the browser fetches the live figures itself (dashboard/live_feed.py): the feed's version goes
    # up several times while Streamlit sends the page nothing (no fragment reruns)
    version = "() => +(document.querySelector('.genlab-live').dataset.feedVersion || 0)"
    quiet_from, v0 = len(frames), page.evaluate(version)
    page.wait_for_timeout(3000)
    assert page.evaluate(version) >= v0 + 3
    assert len(frames) - quiet_from <= 1, f"{len(frames) - quiet_from} websocket messages in 3 s of training"
    # a layer toggled while training: only the live fragment reruns, the plane loses its green points
    toggle = _main(page).locator('[data-testid="stCheckbox"] label', has_text="Real").first
    toggle.click()
    wait_for_js(page, f"() => ({PLANE_COLOR_JS})([0x1B, 0x9E, 0x4B]) < 0.0002", timeout_ms=60_000)
    assert "show_real=0" in page.url
    toggle.click()
    wait_for_js(page, f"() => ({PLANE_COLOR_JS})([0x1B, 0x9E, 0x4B]) > 0.0005", timeout_ms=60_000)

    # Pause: "Pausing" while the job finishes its step, "Paused" at the step where it stopped; then the
    # interactive Plotly figures (hover, zoom, download) replace the live canvas, in the same place: the
    # status line above the plane has the same height whatever its text
    _button(page, "Pause").click()
    paused = _wait_status(page, "s.state === 'Paused'", timeout_ms=120_000)
    wait_for_js(page, "() => document.querySelectorAll('.js-plotly-plot').length >= 5", timeout_ms=60_000)
    wait_for_streamlit(page)
    # the page's own status line (the live feed's is gone with the canvas): read once it is drawn (a
    # loaded fresh-clone run once read the page between the two)
    _wait_status(page, f"s.state === 'Paused' && s.step === {paused['step']}", timeout_ms=30_000)
    page.wait_for_timeout(1500)
    assert _status(page)["step"] == paused["step"]          # the counter stopped
    assert abs(page.evaluate(PLANE_TOP_JS) - live_top) <= 2, (live_top, page.evaluate(PLANE_TOP_JS))

    # Change lr_D and k live (while paused: applied at the next step)
    lr = _main(page).get_by_label("lr_D (discriminator)")
    lr.fill("0.002")
    lr.press("Enter")
    wait_for_js(page, "() => location.search.includes('lr_d=0.002')", timeout_ms=120_000)
    slider = _main(page).locator('[data-testid="stSlider"]', has_text="k: discriminator").get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    wait_for_js(page, "() => location.search.includes('k=2')", timeout_ms=120_000)
    slider.press("ArrowRight")
    wait_for_js(page, "() => location.search.includes('k=3')", timeout_ms=120_000)

    # One Algorithm-1 iteration with the new k: 3 discriminator updates, 1 generator update
    before = _status(page)
    _button(page, "1 step: k D + 1 G").click()
    after = _wait_status(page, f"s.step === {before['step'] + 1}", timeout_ms=120_000)
    assert after["d"] == before["d"] + 3 and after["g"] == before["g"] + 1
    assert after["state"] == "Paused"
    # the loss chart marks the live change
    wait_for_js(page, "() => document.body.innerText.includes('lr_d=0.002') || "
                "Array.from(document.querySelectorAll('.js-plotly-plot text')).some(t => "
                "t.textContent.includes('lr_d=0.002'))", timeout_ms=120_000)

    # Resume: training continues with the new settings
    _button(page, "Train").click()
    resumed = _wait_status(page, f"s.state === 'Training' && s.step > {after['step'] + 1}", timeout_ms=120_000)
    assert resumed["step"] > after["step"]
    screenshot(page, "gan-2d-1280-after-live-change")
    _button(page, "Reset").click()
    wait_for_js(page, "() => document.body.innerText.includes('Not trained yet')", timeout_ms=120_000)
    wait_for_streamlit(page)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"x,y\n" + b"1,2\n" * 100_001, "more than 100000 rows"),
    (b"hello world, this is text\nnot,numbers\n", "columns named x and y"),
    (b"x,y\n1,2\nnan,3\n", "not a number"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a CSV"),
])
def test_gan2d_bad_csv_gives_a_clear_message(browser_page, app_server, content, message):
    page = browser_page
    open_page(page, f"{app_server}/gan_2d?data=upload%20a%20CSV")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "points.csv", "mimeType": "text/csv", "buffer": content}])
    wait_for_js(
        page, "() => Array.from(document.querySelectorAll('[data-testid=\"stAlertContentWarning\"], "
        "[data-testid=\"stAlertContentError\"]')).some(e => e.innerText.includes('That file cannot be used'))",
        timeout_ms=120_000)
    wait_for_streamlit(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert re.search(message, text, re.I), text[:2000]
    assert "Traceback" not in text


def test_gan2d_good_csv_trains(browser_page, app_server):
    page = browser_page
    open_page(page, f"{app_server}/gan_2d?data=upload%20a%20CSV&layers=1&width=16")
    rows = "\n".join(f"{x},{y}" for x, y in [(0, 0), (1, 1), (2, 0), (0.5, 0.2), (1.5, 0.8), (3, 3)] * 20)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "points.csv", "mimeType": "text/csv", "buffer": ("x,y\n" + rows + "\n").encode()}])
    wait_for_streamlit(page)
    assert "That file cannot be used" not in _main(page).inner_text()
    _button(page, "1 D step").click()
    wait_for_js(page, "() => document.body.innerText.includes('Step 1 (D updates 1')", timeout_ms=TRAIN_TIMEOUT_MS)
    wait_for_streamlit(page)


def test_gan2d_settings_at_the_top_visible_at_1400x900(browser_page, app_server):
    """Issue 23 item 4: the data set / preset / steps settings, Train and the plane's first rows are in
    view without scrolling (not below the sidebar's page list); the link is at the bottom of the page."""
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    open_page(page, f"{app_server}/gan_2d")
    sidebar = page.locator('[data-testid="stSidebar"]')
    for label in ("Data set", "Preset", "Steps per Train"):
        assert sidebar.get_by_text(label, exact=True).count() == 0, label
        box = _main(page).get_by_text(label, exact=True).first.bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= 900, (label, box)
    train = _button(page, "Train").bounding_box()
    assert train["y"] + train["height"] <= 900
    assert page.evaluate(PLANE_TOP_JS) < 900 - 150                 # the plane starts well above the fold
    link = _main(page).get_by_role("button", name="Link to this view").bounding_box()
    assert link["y"] > page.evaluate(PLANE_TOP_JS)                  # at the bottom, below the plane
    screenshot(page, "gan-2d-1400-settings")
    # the link opens in a popover (its code block's highlighter loads only then): the page's address
    _main(page).get_by_role("button", name="Link to this view").click()
    code = page.locator('[data-testid="stCode"]')
    code.wait_for(timeout=20_000)
    assert code.inner_text().strip().startswith(f"{app_server}/gan_2d")
    page.keyboard.press("Escape")
    page.locator('[data-testid="stSidebar"] label', has_text="Dark theme").first.click()
    wait_for_streamlit(page)
    screenshot(page, "gan-2d-1400-settings-dark")


def test_image_gan_settings_at_the_top_visible_at_1400x900(browser_page, app_server):
    """Issue 23 item 4: the Image GANs page's model / data set / discriminator / steps settings and
    Train are in view without scrolling at 1400x900 (not in the sidebar); the link is at the bottom."""
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 900})
    open_page(page, f"{app_server}/gan_images")
    sidebar = page.locator('[data-testid="stSidebar"]')
    for label in ("Model", "Data set", "Discriminator", "Loss", "Training steps", "Seed"):
        assert sidebar.get_by_text(label, exact=True).count() == 0, label
        box = _main(page).get_by_text(label, exact=True).first.bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= 900, (label, box)
    train = _button(page, "Train").bounding_box()
    assert train["y"] + train["height"] <= 900
    link = _main(page).get_by_role("button", name="Link to this view").bounding_box()
    assert link["y"] > train["y"]
    screenshot(page, "gan-images-1400-settings")
    page.locator('[data-testid="stSidebar"] label', has_text="Dark theme").first.click()
    wait_for_streamlit(page)
    screenshot(page, "gan-images-1400-settings-dark")


def test_gan2d_screens_1920_and_instructor(browser_page, app_server):
    page = browser_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_page(page, f"{app_server}/gan_2d?{TINY_2D}")
    _button(page, "1 step: k D + 1 G").click()
    wait_for_js(page, "() => document.body.innerText.includes('Step 1 (D updates 1')", timeout_ms=TRAIN_TIMEOUT_MS)
    wait_for_streamlit(page)
    screenshot(page, "gan-2d-1920")
    open_page(page, f"{app_server}/gan_2d?{TINY_2D}&instructor=1")
    assert float(page.evaluate("() => getComputedStyle(document.documentElement).fontSize")[:-2]) > 18
    screenshot(page, "gan-2d-1920-instructor")
    screenshot(page, "gan-2d-1920-instructor-full", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(500)
    screenshot(page, "gan-2d-1280-instructor")


def test_image_gan_trains_live_and_stops(browser_page, app_server):
    page = browser_page
    open_page(page, f"{app_server}/gan_images?steps=20000&zdim=8&disc=patch")
    assert "Image GANs" in page.locator("h1").first.inner_text()
    _button(page, "Train").click()
    wait_for_js(page, r"() => /Training: step [1-9]/.test(document.body.innerText)", timeout_ms=TRAIN_TIMEOUT_MS)
    images = _main(page).locator('[data-testid="stImage"] img')
    images.first.wait_for(timeout=120_000)
    src = images.first.get_attribute("src")
    wait_for_js(
        page, "(src) => { const i = document.querySelector('[data-testid=\"stMain\"] [data-testid=\"stImage\"] img');"
        " return i && i.getAttribute('src') !== src; }", arg=src, timeout_ms=120_000)   # the grid updates
    screenshot(page, "gan-images-1280-training")
    _button(page, "Stop").click()
    wait_for_text(page, "Showing your run")
    wait_for_streamlit(page)
    assert _button(page, "Resume stored run").count() == 1
    run_name = re.search(r"Showing your run (\S+) at step", _main(page).inner_text()).group(1)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(800)
    screenshot(page, "gan-images-1920-stopped", full_page=True)
    # the stopped run reopens from its link in instructor mode (the Load button is covered by AppTests)
    open_page(page, f"{app_server}/gan_images?run={run_name}&instructor=1")
    wait_for_text(page, f"Showing your run {run_name}")
    wait_for_streamlit(page)
    screenshot(page, "gan-images-1920-instructor")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(500)
    screenshot(page, "gan-images-1280-instructor")


def test_gan2d_draw_by_clicking_and_box_select(browser_page, app_server):
    page = browser_page
    open_page(page, f"{app_server}/gan_2d?data=draw%20your%20own&layers=1&width=16")
    canvas = _main(page).locator('[data-testid="stExpander"] .js-plotly-plot').first
    canvas.wait_for(timeout=120_000)
    canvas.scroll_into_view_if_needed()

    def pixel(x: float, y: float):
        return page.evaluate(
            """([el, x, y]) => { const L = el._fullLayout; const r = el.getBoundingClientRect();
                return [r.left + L.xaxis._offset + L.xaxis.l2p(x), r.top + L.yaxis._offset + L.yaxis.l2p(y)]; }""",
            [canvas.element_handle(), x, y])

    # a click adds a Gaussian blob where it lands (the nearest point of the click grid). Plotly reports a
    # click on a point only once its hover has found that point: wait for the hover (and aim again if the
    # page moved the canvas under the pointer while it finished drawing), as a person sees the highlight
    canvas_handle = canvas.element_handle()
    for _ in range(5):
        px, py = pixel(-2.5, 2.5)
        page.mouse.move(px, py)
        try:
            page.wait_for_function("el => (el._hoverdata || []).length > 0", arg=canvas_handle, timeout=5_000)
            break
        except Exception:
            page.mouse.move(px + 40, py + 40)
    page.mouse.click(px, py)
    wait_for_js(page, "() => location.search.includes('shapes=g')", timeout_ms=120_000)
    wait_for_streamlit(page)
    # the box-select tool adds a uniform rectangle
    canvas = _main(page).locator('[data-testid="stExpander"] .js-plotly-plot').first
    canvas.hover()
    canvas.locator('.modebar-btn[data-val="select"]').click()
    x0, y0 = pixel(1.0, -1.0)
    x1, y1 = pixel(3.0, -3.0)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()
    wait_for_js(page, "() => location.search.includes('%3Bb') || location.search.includes(';b')",
                timeout_ms=120_000)
    wait_for_streamlit(page)
    assert "Nothing drawn yet" not in _main(page).inner_text()
    _button(page, "1 D step").click()
    wait_for_js(page, "() => document.body.innerText.includes('Step 1 (D updates 1')", timeout_ms=TRAIN_TIMEOUT_MS)
    wait_for_streamlit(page)
    screenshot(page, "gan-2d-1280-drawn", full_page=True)
