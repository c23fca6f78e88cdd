"""Warm imports at server start (issue 22 §1: the first page after a start within 3 s).

The pages' heavy imports (torch, Plotly, pandas, the trainers, the figure builders) and PyTorch's
first optimizer (it imports ``torch._dynamo``; every trainer a page builds makes one) cost seconds
the first time any page needs them. ``dashboard/serve.py`` calls :func:`start` once, before the
server listens: it pays those there (:data:`MODULES`, :data:`FIRST_CALLS`) and freezes the heap,
so the server answers once a page has nothing left to import. In a thread, as before, a first page
shared the interpreter with the imports and waited for them anyway, and so did the app's JavaScript
files, which the same process serves. Once the server has answered its first request, a daemon
thread pays the rarer one-time cost (:data:`LATER_CALLS`: the digit classifier, cached per process
by genlab, trained once per machine when not on disk, its features of the data splits, and the Latent
spaces page's default AE and VAE, loaded and scored as its first visit would; all of it before the
server listens when the classifier is on disk, since loading it is then cheap); before each step it
waits while a page's script runs or a browser is still fetching (an HTTP request in the last
:data:`QUIET_S`, noted by :class:`NoteRequests`; at most :data:`MAX_YIELD_S`), so a page that comes
meanwhile, the first one above all, does not share the interpreter with it. Nothing is trained for
a session or drawn here, and a failing step is logged and skipped (the page will then say what is
wrong).
"""
from __future__ import annotations

import functools
import gc
import importlib
import logging
import os
import threading
import time

log = logging.getLogger("genlab.warm_up")

# In the order the first pages need them: shared heavy libraries first, then the app's modules.
MODULES = (
    "numpy", "pandas", "torch", "plotly.graph_objects", "plotly.io",
    "streamlit.emojis",   # st.set_page_config's icon check imports this table of every emoji
    "genlab.errors", "genlab.configs", "genlab.jobs", "genlab.runs", "genlab.demos", "genlab.data",
    "genlab.train.registry", "genlab.train.gan", "genlab.train.autoencoder", "genlab.train.race",
    "genlab.train.history", "genlab.replay", "genlab.metrics", "genlab.divergences", "genlab.bayesnet",
    "genlab.editing", "genlab.projection",
    "dashboard.common", "dashboard.tour", "dashboard.predict", "dashboard.gan_jobs", "dashboard.latent_jobs",
    "dashboard.live_canvas", "dashboard.replay_section", "dashboard.timeline", "dashboard.gan2d_compare",
    "dashboard.latent_compare", "dashboard.figures.gan", "dashboard.figures.gan_text", "dashboard.figures.kl",
    "dashboard.figures.latent", "dashboard.figures.transformer", "dashboard.figures.editing",
    "dashboard.figures.bayesnet", "dashboard.figures.timeline",
)

# Streamlit runs each script run (and fragment run) in a thread of this name.
SCRIPT_THREAD = "ScriptRunner.scriptThread"
MAX_YIELD_S = 5.0
QUIET_S = 1.0       # no HTTP request for this long: no browser is loading a page
FIRST_REQUEST_WAIT_S = 60.0
_last_request = float("-inf")   # time.monotonic() of the server's latest HTTP request


def note_request() -> None:
    """Note that a browser asked for something now (see :data:`QUIET_S`)."""
    global _last_request
    _last_request = time.monotonic()


class NoteRequests:
    """ASGI middleware (``dashboard/serve.py``): :func:`note_request` on every HTTP request. A page
    load is a burst of ~100 requests, then its websocket and script; the warm-up's steps wait for
    the burst to end instead of taking the interpreter while the page loads."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") == "http":
            note_request()
        await self.app(scope, receive, send)


def _first_optimizer() -> None:
    """PyTorch's first optimizer step imports ``torch._dynamo`` (seconds): every trainer built on a
    page (the demos' models too) constructs an optimizer."""
    import torch

    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.Adam([p], lr=1e-3)
    (p * p).sum().backward()
    opt.step()


def _digits() -> None:
    from genlab.data import digits_split

    digits_split()


def _classifier() -> None:
    from genlab.classifier import get_classifier

    get_classifier("digits")


def _classifier_statistics() -> None:
    """The classifier's features of the test and train splits (every Fréchet distance a page shows
    compares with them) and the real floor."""
    from genlab import metrics

    metrics.real_floor_frechet("digits")


def _latent_demos() -> None:
    """The Latent spaces page's default AE and VAE (the shipped demos, when the store has no run of
    their own): loaded, encoded and their prior samples scored, as the page's first visit would."""
    from dashboard import latent_jobs as lj

    d = lj.DEFAULTS
    configs = lj.pair_configs(d["dataset"], d["latent_dim"], d["beta"], d["epochs"], d["seed"], d["mc_samples"])
    for model, config in configs.items():
        run = lj.find_finished(config)
        if run is not None:
            loaded = lj.load_model(run, model.upper())
            loaded.codes()
            loaded.prior_scores(0)


def _scores_when_cached() -> None:
    """Before listening only when cheap (a fraction of a second): the classifier is on disk."""
    from genlab.classifier import classifier_is_cached

    if classifier_is_cached("digits"):
        for _, call in LATER_CALLS:
            call()


FIRST_CALLS = (("first optimizer", _first_optimizer), ("digits split", _digits),
               ("cached classifier, its statistics, latent demos", _scores_when_cached))
# the classifier is trained once per machine when not cached (seconds); each step is a no-op once done
LATER_CALLS = (("digit classifier", _classifier), ("classifier statistics", _classifier_statistics),
               ("latent spaces demos", _latent_demos))

_started = threading.Event()


def _pages_busy() -> bool:
    """A page's script runs in this process, or a browser fetched something in the last :data:`QUIET_S`."""
    return (time.monotonic() - _last_request < QUIET_S
            or any(t.name == SCRIPT_THREAD for t in threading.enumerate()))


def _yield_to_pages(max_s: float = MAX_YIELD_S) -> None:
    """Wait while pages are busy (:func:`_pages_busy`), at most ``max_s`` seconds."""
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline and _pages_busy():
        time.sleep(0.02)


def warm_up(modules=MODULES, freeze: bool = False, calls=()) -> float:
    """Import ``modules``, then run ``calls`` (``(name, function)`` pairs), skipping any that fail
    with a log line, each after :func:`_yield_to_pages`; returns the seconds it took.
    ``freeze``: then move every object alive to the collector's permanent generation (``gc.freeze``),
    so the full collections that run while many jobs train no longer walk torch's and Plotly's
    module objects (shorter pauses of every thread)."""
    start = time.perf_counter()
    steps = [(f"importing {name}", functools.partial(importlib.import_module, name)) for name in modules]
    for what, function in steps + list(calls):
        _yield_to_pages()
        try:
            function()
        except Exception as err:  # noqa: BLE001 - a broken optional step must not stop the server
            log.warning("warm-up: %s failed: %s", what, err)
    if freeze:
        _yield_to_pages()
        gc.collect()
        gc.freeze()
    seconds = time.perf_counter() - start
    log.info("warm-up: %d modules imported, %d one-time steps, in %.1f s", len(modules), len(calls), seconds)
    return seconds


def start() -> None:
    """Once per process (``GENLAB_WARM_UP=0``: not at all): import :data:`MODULES` and run
    :data:`FIRST_CALLS` now, then :data:`LATER_CALLS` in a daemon thread; each freezes the heap."""
    if _started.is_set() or os.environ.get("GENLAB_WARM_UP", "1").strip() == "0":
        return
    _started.set()
    warm_up(MODULES, freeze=True, calls=FIRST_CALLS)
    threading.Thread(target=_later, name="genlab-warm-up", daemon=True).start()


def _later(first_request_wait_s: float = FIRST_REQUEST_WAIT_S) -> None:
    """:data:`LATER_CALLS` once the server has answered its first request (a health check or a
    page; at most ``first_request_wait_s`` later): started earlier, a step such as scikit-learn's
    import would still hold the interpreter when the first page arrives."""
    deadline = time.monotonic() + first_request_wait_s
    while _last_request == float("-inf") and time.monotonic() < deadline:
        time.sleep(0.05)
    warm_up((), freeze=True, calls=LATER_CALLS)
