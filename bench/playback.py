"""Timeline playback in a real browser (issue 21): frames per second that ▶ Play draws.

A small Streamlit page (this module run as a script) shows the replay section of three runs trained
here with their histories (2D GAN, DCGAN, VAE); headless Chromium opens it, presses Plotly's ▶ Play
in the timeline figure and counts ``plotly_animatingframe`` events (one per frame drawn) for a few
seconds, at the page's 10 and 30 frames/s settings. Playback runs in the browser (Plotly.js frames),
so the server only sends the figure once.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Table, stop_server, verdict

ROOT = Path(__file__).resolve().parents[1]
KINDS = (("2D GAN ring8", "gan", "ring8", 2000), ("DCGAN digits", "dcgan", "digits", 300), ("VAE digits K=2", "vae", "digits", 230))

_COUNT_FRAMES = """async (seconds) => {
  const plot = [...document.querySelectorAll('.js-plotly-plot')].find(p => p.layout && p.layout.updatemenus);
  if (!plot) return -1;
  const times = [];
  plot.on('plotly_animatingframe', () => { times.push(performance.now()); });
  const play = [...plot.querySelectorAll('.updatemenu-button')].find(b => b.textContent.includes('Play'));
  if (!play) return -2;
  play.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  await new Promise(r => setTimeout(r, seconds * 1000));
  // frames drawn per second while it played (the run stops at its last frame)
  const kept = times.slice(2);
  return kept.length > 1 ? (kept.length - 1) / ((kept[kept.length - 1] - kept[0]) / 1000) : 0;
}"""


def _train_runs(root: Path, quick: bool) -> None:
    from genlab.runs import RunStore
    from genlab.train import registry
    from genlab.train.recording import train_run

    store = RunStore(root)
    for label, model, dataset, steps in KINDS:
        steps = max(130, steps // 4) if quick else steps
        trainer = registry.build_trainer(model, dataset, {"steps": steps}, device="cpu")
        train_run(trainer, store.create(model, trainer.config_dict()), steps)


def playback(quick: bool) -> Table:
    """The playback table: frames/s drawn per history kind at 10 and 30 frames/s asked."""
    from bench.speed import CHROMIUM, CHROMIUM_ARGS, _free_port

    table = Table("Timeline playback in the browser (▶ Play of the replay section, Plotly.js frames)",
                  ["run", "frames", "asked frames/s", "drawn frames/s", "target", "verdict"])
    t0 = time.perf_counter()
    if not Path(CHROMIUM).exists():
        table.skipped = f"{CHROMIUM} not found"
        return table
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="genlab-playback-"))
    _train_runs(tmp, quick)
    env = {**os.environ, "GENLAB_RUNS_DIR": str(tmp), "GENLAB_NO_DOWNLOAD": "1", "PYTHONPATH": str(ROOT)}
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(Path(__file__).resolve()),
                               "--server.headless", "true", "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watch = 3.0 if quick else 6.0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for label, model, _, _ in KINDS:
                for fps in (10, 30):
                    _open(page, f"http://127.0.0.1:{port}/?run={model}&fps={fps}&replay={model}")  # ?replay= draws the section at once
                    frames = page.evaluate("() => { const p = [...document.querySelectorAll('.js-plotly-plot')]"
                                           ".find(p => p.layout && p.layout.updatemenus); return p ? p._transitionData"
                                           " ? Object.keys(p._transitionData._frameHash).length : -1 : -1; }")
                    drawn = page.evaluate(_COUNT_FRAMES, watch)
                    table.add(label, frames, fps, drawn, "≥ 10", verdict(drawn, 10.0, "higher") if fps >= 10 else "—")
            browser.close()
    finally:
        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)
    table.note(f"Headless Chromium ({CHROMIUM}, software GL), 1400 × 1000; ▶ Play pressed, then "
               f"plotly_animatingframe events timed for {watch:.0f} s: frames/s = (frames − 1) / (last − first event time) while it plays (the first two frames skipped), at most one pass through the run's frames. Runs trained here with their history "
               "(120 frames each): " + ", ".join(f"{label} {steps} steps" for label, _, _, steps in KINDS) + ".")
    table.seconds = time.perf_counter() - t0
    return table


def _open(page, url: str) -> None:
    from bench.speed import _wait_app

    deadline = time.monotonic() + 90
    while True:
        try:
            page.goto(url, timeout=15_000)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    _wait_app(page, timeout_s=120)
    page.wait_for_selector(".js-plotly-plot .updatemenu-button", timeout=60_000)


def _page() -> None:
    """The benchmark page: the replay section of run ``?run=`` at ``?fps=`` frames/s."""
    import streamlit as st

    from dashboard import common
    from dashboard.replay_section import replay_section, run_source
    from genlab.runs import RunStore

    ctx = common.setup_page("Playback benchmark")
    name = st.query_params.get("run", "gan")
    st.session_state.setdefault("timeline_fps", int(st.query_params.get("fps", 10)))
    replay_section([run_source(name, RunStore().open(name))], palette=ctx.palette)


if __name__ == "__main__" and "streamlit" in sys.modules:
    _page()
