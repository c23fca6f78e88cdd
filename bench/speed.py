"""Speed benchmarks (issue #7): genlab trainers vs plain PyTorch loops, live page vs headless,
interaction latency and first render of the pages, projections, scaling with batch size and width.
"""

from __future__ import annotations

import copy
import csv
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bench.harness import Table, compare, log, measure, stop_server, verdict

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


# --------------------------------------------------------------------------- plain PyTorch loops


def plain_vae_loop(trainer, fused_adam: bool = False):
    """A pytorch/examples-style VAE loop (vae/main.py) on a copy of ``trainer``'s model: same weights,
    batch size, lr and decoder likelihood; main.py's ``optim.Adam`` (``fused_adam``: PyTorch's fused
    Adam kernel, as genlab's trainers use, so that the ratio shows the trainer's own bookkeeping).

    Each step: slice a batch of a shuffled epoch, encode, reparameterize, decode, -log p(x|z) + KL,
    zero_grad / backward / step, and ``train_loss += loss.item()`` (main.py's running loss). After
    each epoch a test pass over the test split under ``torch.no_grad()`` (main.py's ``test(epoch)``):
    the trainer, too, scores the test split at the end of every epoch, for the dashboard's test
    curves. Written out with torch ops only, not genlab's loss functions. Returns ``run(n_steps)``."""
    model = copy.deepcopy(trainer.model)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=trainer.train_config.lr, fused=fused_adam)
    data, test_data = trainer.train_images, trainer.test_images
    batch = trainer.train_config.batch_size
    gaussian = model.config.decoder == "gaussian"
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    state = {"order": torch.randperm(data.shape[0]), "pos": 0, "train_loss": 0.0}

    def loss_function(x):
        mu, logvar = model.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = model.decode(z).reshape(x.shape)
        if gaussian:   # N(x | sigmoid(logits), sigma^2) per pixel
            log_sigma = model.log_sigma
            nll = (0.5 * ((x - torch.sigmoid(logits)) / log_sigma.exp()).pow(2) + log_sigma + half_log_2pi).sum()
        else:          # Bernoulli: binary cross-entropy on the logits
            nll = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (nll + kld) / x.shape[0]

    def test() -> float:
        model.eval()
        total = 0.0
        with torch.no_grad():
            for x in test_data.split(1024):
                total += loss_function(x).item() * x.shape[0]
        model.train()
        return total / test_data.shape[0]

    def run(n: int) -> None:
        for _ in range(n):
            x = data[state["order"][state["pos"]:state["pos"] + batch]]
            state["pos"] += batch
            loss = loss_function(x)
            opt.zero_grad()
            loss.backward()
            state["train_loss"] += loss.item()
            opt.step()
            if state["pos"] >= data.shape[0]:   # end of the epoch
                test()
                state["order"], state["pos"], state["train_loss"] = torch.randperm(data.shape[0]), 0, 0.0

    return run


def plain_gan_loop(trainer, fused_adam: bool = False):
    """Goodfellow et al.'s Algorithm 1 (k = 1, non-saturating G loss, Adam), written plainly, on
    copies of ``trainer``'s networks (vanilla preset: no EMA, R1, packing or lr decay); ``fused_adam``
    as in :func:`plain_vae_loop`."""
    G, D = copy.deepcopy(trainer.generator), copy.deepcopy(trainer.discriminator)
    tc, mc = trainer.train_config, trainer.model_config
    opt_d = torch.optim.Adam(D.parameters(), lr=tc.lr_d, betas=tc.betas, fused=fused_adam)
    opt_g = torch.optim.Adam(G.parameters(), lr=tc.lr_g, betas=tc.betas, fused=fused_adam)
    data, batch = trainer.data, tc.batch_size

    def run(n: int) -> None:
        for _ in range(n):
            x = data[torch.randint(data.shape[0], (batch,))]
            z = torch.randn(batch, mc.noise_dim)
            real, fake = D(x), D(G(z).detach())
            loss_d = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                      + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            z = torch.randn(batch, mc.noise_dim)
            out = D(G(z))
            loss_g = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()

    return run


def trainers_vs_plain(quick: bool, device: str) -> Table:
    from genlab.train.gan import GANTrainer, gan_configs
    from genlab.train.registry import build_trainer

    steps = 20 if quick else 400
    rounds = 3 if quick else 7
    table = Table("genlab trainers vs a plain PyTorch loop (same model, batch size, optimizer)",
                  ["model", "plain loop's Adam", "batch", "steps per round", "genlab steps/s",
                   "plain steps/s (peer)", "ratio genlab/plain", "target", "verdict"])
    t0 = time.perf_counter()
    vae = lambda: build_trainer("vae", "digits", {"latent_dim": 8}, device="cpu")   # noqa: E731
    gan = lambda: GANTrainer("gan", "ring8", *gan_configs("gan", "vanilla"))         # noqa: E731
    # the peer as pytorch/examples writes it (the target), then with the same fused Adam
    # kernel as genlab (information: what the trainer's metrics and bookkeeping cost)
    cases = [("VAE K=8 digits", vae, plain_vae_loop, False), ("2D GAN ring8 (vanilla preset)", gan, plain_gan_loop, False),
             ("VAE K=8 digits", vae, plain_vae_loop, True), ("2D GAN ring8 (vanilla preset)", gan, plain_gan_loop, True)]
    for name, make, plain, fused in cases:
        trainer = make()
        peer = plain(trainer, fused_adam=fused)
        result = compare(lambda: trainer.fit(trainer.step_count + steps), lambda: peer(steps), rounds=rounds)
        ours_rate = steps / result.ours.median
        peer_rate = steps / result.peer.median
        batch = trainer.train_config.batch_size
        log(f"trainers: {name} (fused peer: {fused}) done")
        target = "— (information)" if fused else "≥ 0.95"
        table.add(name, "fused" if fused else "default (examples)", batch, steps, ours_rate, peer_rate, result.ratio,
                  target, "—" if fused else verdict(result.ratio, 0.95, "higher"))
    table.seconds = time.perf_counter() - t0
    table.note(f"Medians of {rounds} alternating rounds (genlab, plain, plain, genlab, ...) in one process, "
               f"torch.set_num_threads({torch.get_num_threads()}). genlab's step also computes its metrics row "
               "(losses, per-dimension KL, gradient norms, D(x) and D(G(z))). Both VAE loops score the test split "
               "at each epoch end (genlab: recon MSE, recon NLL, KL; plain: main.py's test loss); the plain GAN "
               "loop reads no metrics. genlab's trainers use PyTorch's fused Adam kernel (genlab.train.base.adam_optimizer): "
               "the same update, one kernel for all tensors; the rows with a fused peer show the trainer's own overhead.")
    return table


# --------------------------------------------------------------------------- scaling


def scaling(quick: bool, device: str) -> Table:
    from genlab.train.gan import GANTrainer, gan_configs
    from genlab.train.registry import build_trainer

    devices = ["cpu"] + (["cuda"] if device == "cuda" and torch.cuda.is_available() else [])
    steps = 5 if quick else 50
    repeats = 2 if quick else 5
    table = Table("Scaling: step time vs batch size and model width",
                  ["device", "model", "batch", "width", "ms/step (median)", "steps/s", "spread"])
    t0 = time.perf_counter()
    batches = (32, 128) if quick else (32, 64, 128, 256, 512)
    widths = (64, 128) if quick else (64, 128, 256, 512)

    def sync(dev):
        if dev == "cuda":
            torch.cuda.synchronize()

    for dev in devices:
        for batch in batches:
            trainer = build_trainer("vae", "digits", {"latent_dim": 8, "batch_size": batch}, device=dev)

            def work(trainer=trainer, dev=dev):
                trainer.fit(trainer.step_count + steps)
                sync(dev)

            timing = measure(work, repeats=repeats)
            table.add(dev, "VAE K=8 digits", batch, "default", 1000 * timing.median / steps, steps / timing.median,
                      timing.spread())
        for width in widths:
            trainer = GANTrainer("gan", "ring8", *gan_configs("gan", hidden=width, disc_hidden=width), device=dev)

            def work(trainer=trainer, dev=dev):
                trainer.fit(trainer.step_count + steps)
                sync(dev)

            timing = measure(work, repeats=repeats)
            table.add(dev, "2D GAN ring8 (default preset)", trainer.train_config.batch_size, width,
                      1000 * timing.median / steps, steps / timing.median, timing.spread())
    if device != "cuda":
        table.note("No GPU table: run `python -m bench --only speed --device cuda` on a machine with a GPU.")
    elif not torch.cuda.is_available():
        table.note("--device cuda was asked for but torch sees no GPU: CPU only.")
    table.note(f"Each cell: median of {repeats} repeats of {steps} steps (after one warm-up); spread = (max-min)/median.")
    table.seconds = time.perf_counter() - t0
    return table


# --------------------------------------------------------------------------- projection


def projection(quick: bool) -> Table:
    from sklearn.datasets import load_digits

    from genlab.projection import clear_projection_cache, project

    x = (load_digits().data / 16.0).astype(np.float32)
    repeats = 1 if quick else 3
    table = Table(f"Projection of the digits set ({x.shape[0]} points, 64 dims)",
                  ["method", "cold s (median)", "cached s (median)", "target", "verdict"])
    t0 = time.perf_counter()
    for method in ("pca", "tsne"):
        def cold():
            clear_projection_cache()
            return project(x, method)

        cold_t = measure(cold, repeats=repeats, warmup=0)
        project(x, method)
        cached_t = measure(lambda: project(x, method), repeats=5, warmup=0)
        target = 3.0 if method == "tsne" else None
        table.add(method, cold_t.median, cached_t.median, "≤ 3 s cold" if target else None,
                  verdict(cold_t.median, target) if target else None)
    table.note(f"genlab.projection.project; cold = cache cleared first; {repeats} cold repeat(s), 5 cached.")
    table.seconds = time.perf_counter() - t0
    return table


# --------------------------------------------------------------------------- pages (AppTest)


def _with_empty_run_store(fn):
    """Run ``fn()`` with an empty temporary run store (pages show the shipped demos, never the user's runs)."""
    tmp = tempfile.mkdtemp(prefix="genlab-bench-pages-")
    saved = os.environ.get("GENLAB_RUNS_DIR")
    os.environ["GENLAB_RUNS_DIR"] = str(Path(tmp) / "runs")
    try:
        return fn()
    finally:
        if saved is None:
            os.environ.pop("GENLAB_RUNS_DIR", None)
        else:
            os.environ["GENLAB_RUNS_DIR"] = saved
        shutil.rmtree(tmp, ignore_errors=True)


def page_latency(quick: bool) -> list[Table]:
    """Interaction latency and first render (AppTest), with an empty temporary run store."""
    return [interaction_latency(quick), first_render(quick)]


class _ServerLikeAppTest:
    """Make AppTest rerun a page the way a running server does, and time the server's part.

    AppTest builds a new ``ScriptCache`` for every ``run()``, so it compiles the page (and
    rewrites its AST for Streamlit's "magic") on every rerun; a server keeps one cache and
    compiles a page once. Inside this context all AppTest runs share one cache, and every
    script run records ``(wall seconds, CPU seconds of the script thread)`` in ``runs``: the
    time from the rerun request reaching the script runner to the last element sent, which is
    the server time of an interaction (the browser's drawing is not in it). CPU time is the
    part that does not grow when other processes share the machine."""

    def __enter__(self):
        from streamlit.runtime.scriptrunner import script_runner
        from streamlit.runtime.scriptrunner.script_cache import ScriptCache
        from streamlit.testing.v1 import local_script_runner

        self.runs: list[tuple[float, float]] = []
        shared = ScriptCache()
        original_run = script_runner.ScriptRunner._run_script
        runs = self.runs

        def timed_run(runner, rerun_data):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return original_run(runner, rerun_data)
            finally:
                runs.append((time.perf_counter() - wall, time.thread_time() - cpu))

        self._restore = [(local_script_runner, "ScriptCache", local_script_runner.ScriptCache),
                         (script_runner.ScriptRunner, "_run_script", original_run)]
        local_script_runner.ScriptCache = lambda: shared
        script_runner.ScriptRunner._run_script = timed_run
        return self

    def __exit__(self, *exc):
        for owner, name, value in self._restore:
            setattr(owner, name, value)
        return False


def interaction_latency(quick: bool) -> Table:
    return _with_empty_run_store(lambda: _interaction_latency(quick))


def _interaction_latency(quick: bool) -> Table:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    repeats = 3 if quick else 10
    latency = Table("Interaction latency: server time of the rerun after a control change (AppTest)",
                    ["page", "control", "server median ms", "server max ms", "CPU median ms",
                     "AppTest.run() median ms", "target", "verdict"])
    t0 = time.perf_counter()
    cases = [
        # a new ρ every time (0.80, 0.73, ..., 0.17): each rerun is a cache miss, as when a student drags the slider
        ("dashboard/pages/gaussian_kl.py", "slider rho (new value)",
         lambda at, i: at.slider(key="rho").set_value(round(0.8 - 0.07 * i, 2))),
        ("dashboard/pages/kl_discrete.py", "radio unit", lambda at, i: at.radio(key="unit").set_value("bits" if i % 2 == 0 else "nats")),
    ]
    def reruns(path, change) -> list[float]:
        """AppTest.run() seconds of ``repeats`` reruns, each after one control change (fresh page, fresh caches)."""
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / path), default_timeout=120)
        at.run()
        totals = []
        for i in range(repeats):
            change(at, i)
            t = time.perf_counter()
            at.run()
            totals.append(time.perf_counter() - t)
            if at.exception:
                raise RuntimeError(str(at.exception[0].value)[:200])
        return totals

    for path, control, change in cases:
        try:
            totals = reruns(path, change)          # AppTest as it is: recompiles the page on every run
            with _ServerLikeAppTest() as server:   # the same reruns again, the page compiled once
                reruns(path, change)
            del server.runs[0]                     # the first render, not an interaction
            wall = [w for w, _ in server.runs]
            cpu = [c for _, c in server.runs]
            med = float(np.median(wall))
            latency.add(Path(path).stem, control, 1000 * med, 1000 * max(wall), 1000 * float(np.median(cpu)),
                        1000 * float(np.median(totals)), "< 50 ms", verdict(med, 0.050))
        except Exception as err:  # a page problem must not stop the suite
            latency.add(Path(path).stem, control, None, None, None, None, "< 50 ms",
                        f"error: {type(err).__name__}: {err}"[:120])
    latency.note(f"Median of {repeats} reruns. Server time = the script runner's whole run of the "
                 "page (widget states in, page script, every element sent), with the page's bytecode compiled once "
                 "as a server does. CPU = CPU time of the script thread, which other load on the machine does not "
                 "inflate. AppTest.run(): the same reruns timed around AppTest.run() as it is, which also "
                 "recompiles the page every time and adds its own thread start-up and message parsing (an upper "
                 "bound).")
    latency.seconds = time.perf_counter() - t0
    return latency


def first_render(quick: bool) -> Table:
    return _with_empty_run_store(lambda: _first_render(quick))


def _first_render(quick: bool) -> Table:
    from streamlit.testing.v1 import AppTest

    from dashboard.navigation import PAGES_DIR, present_pages

    first = Table("First render of every page (AppTest.from_file(...).run(), fresh each time)",
                  ["page", "seconds", "target", "verdict"])
    t0 = time.perf_counter()
    for rows in present_pages().values():
        for name, title, _ in rows:
            try:
                at = AppTest.from_file(str(PAGES_DIR / name), default_timeout=180)
                t = time.perf_counter()
                at.run()
                seconds = time.perf_counter() - t
                status = verdict(seconds, 2.0)
                if at.exception:
                    status = f"exception: {str(at.exception[0].value)[:80]}"
                first.add(title, seconds, "< 2 s", status)
            except Exception as err:
                first.add(title, None, "< 2 s", f"error: {type(err).__name__}: {err}"[:120])
    first.note("In one process, pages in navigation order: shared imports (torch, plotly) are paid by the first page "
               "that needs them. Pages that load shipped demos do so here.")
    first.seconds = time.perf_counter() - t0
    return first


# --------------------------------------------------------------------------- live page vs headless


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_app(page, timeout_s: float = 180) -> None:
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    deadline, calm = time.monotonic() + timeout_s, 0
    while calm < 2:
        if time.monotonic() > deadline:
            raise TimeoutError("Streamlit page still running")
        state = page.evaluate("""() => { const a = document.querySelector('[data-testid="stApp"]');
            const busy = document.querySelector('[data-testid="stSkeleton"]');
            return a ? [a.getAttribute('data-test-script-state'), busy ? 'busy' : 'idle'].join('|') : 'missing'; }""")
        calm = calm + 1 if state == "notRunning|idle" else 0
        page.wait_for_timeout(250)


def headless_rate(steps: int, env: dict) -> float:
    """steps/s of the 2D page's default config (vanilla ring8) trained by the CLI, from metrics.csv wall times."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "headless"
        subprocess.run([sys.executable, "-m", "genlab", "train", "gan", "--dataset", "ring8", "--preset", "vanilla",
                        "--steps", str(steps), "--out", str(out), "--quiet"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
        with open(out / "metrics.csv", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r.get("wall_time") not in (None, "")]
        skip = min(len(rows) // 10, 50)
        a, b = rows[skip], rows[-1]
        return (float(b["step"]) - float(a["step"])) / (float(b["wall_time"]) - float(a["wall_time"]))


def live_vs_headless(quick: bool) -> Table:
    table = Table("Live page vs headless: 2D GAN lab (ring8, vanilla preset) trained from the page in a real "
                  "browser while its charts refresh, vs the same config from the CLI",
                  ["measure", "value", "peer (CLI headless)", "ratio", "target", "verdict"])
    t0 = time.perf_counter()
    if not Path(CHROMIUM).exists():
        table.skipped = f"{CHROMIUM} not found (install Debian's chromium to measure it)"
        return table
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        table.skipped = "playwright is not installed in this environment"
        return table
    watch_s = 8.0 if quick else 30.0
    tmp = tempfile.mkdtemp(prefix="genlab-bench-")
    env = {**os.environ, "GENLAB_RUNS_DIR": str(Path(tmp) / "runs"), "GENLAB_NO_DOWNLOAD": "1"}
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/serve.py", "--server.headless", "true",
                               "--server.port", str(port), "--server.address", "127.0.0.1",
                               "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    observations: list[tuple[float, int, str]] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            deadline = time.monotonic() + 90
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/gan_2d", timeout=10_000)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1)
            t_first = time.perf_counter()
            train = page.get_by_role("button", name=re.compile(r"^Train( Shortcut \S+)?$"))   # + its shortcut key
            train.wait_for(state="visible", timeout=180_000)
            first_render = time.perf_counter() - t_first     # until the Train button is drawn
            try:
                _wait_app(page, timeout_s=60)
            except TimeoutError:
                pass  # a page that never settles is still usable for the rate measurement
            train.click()
            # the status line: the live feed's while training (dashboard/live_feed.py), else Streamlit's
            bar = page.locator('.genlab-live-status, [data-testid="stProgress"]').first
            bar.wait_for(timeout=120_000)
            pattern = re.compile(r"step ([\d,]+) of")
            # wait (up to 120 s) until the job runs: the counter has moved since the first reading
            start_deadline, first_step = time.monotonic() + 120, None
            while time.monotonic() < start_deadline:
                try:
                    m = pattern.search(bar.inner_text(timeout=2000))
                except Exception:
                    m = None
                if m:
                    step = int(m.group(1).replace(",", ""))
                    if first_step is None:
                        first_step = step
                    elif step > first_step:
                        break
                page.wait_for_timeout(100)
            end = time.monotonic() + watch_s
            while time.monotonic() < end:
                try:
                    text = bar.inner_text(timeout=2000)
                except Exception:
                    text = ""
                m = pattern.search(text)
                if m:
                    observations.append((time.perf_counter(), int(m.group(1).replace(",", "")), text))
                page.wait_for_timeout(50)
            browser.close()
    except Exception as err:
        table.skipped = f"browser measurement failed: {type(err).__name__}: {str(err)[:200]}"
        return table
    finally:
        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)
    if len(observations) < 2 or observations[-1][1] == observations[0][1]:
        last = observations[-1][2] if observations else "no 'step N of M' progress text"
        table.skipped = f"the page showed no training progress while watched (last progress text: {last[:120]!r})"
        return table
    (ta, sa, _), (tb, sb, _) = observations[0], observations[-1]
    live = (sb - sa) / (tb - ta)
    changes = sum(1 for a, b in zip(observations, observations[1:]) if a[1] != b[1])
    refresh_hz = changes / (tb - ta)
    headless = headless_rate(1000 if quick else 5000, {**os.environ, "GENLAB_NO_DOWNLOAD": "1"})
    ratio = live / headless
    table.add("steps/s while the page refreshes", live, headless, ratio, "≥ 0.8", verdict(ratio, 0.8, "higher"))
    table.add("chart refresh (Hz, step counter changes seen)", refresh_hz, None, None, "≥ 2 Hz",
              verdict(refresh_hz, 2.0, "higher"))
    table.add("first render in the browser: Train button drawn (s)", first_render, None, None, "< 2 s", verdict(first_render, 2.0))
    table.note(f"Watched for {watch_s:.0f} s, polling the status line's 'step N of M' every 50 ms (the page fetches "
               "it with its live figures from the server's live feed); steps/s = slope "
               "between the first and last reading. Headless: `python -m genlab train gan --dataset ring8 --preset "
               "vanilla`, steps/s from metrics.csv wall times (start-up excluded). The browser shares the CPU with "
               "the server, as in class.")
    table.seconds = time.perf_counter() - t0
    return table


def run(quick: bool = False, device: str = "cpu") -> list[Table]:
    tables = [trainers_vs_plain(quick, device), scaling(quick, device), projection(quick)]
    tables += page_latency(quick)
    tables.append(live_vs_headless(quick))
    return tables
