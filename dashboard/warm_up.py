"""Warm imports at server start (issue 22 §1: the first page after a start within 3 s).

The pages' heavy imports (torch, Plotly, pandas, the trainers, the figure builders) cost several
seconds the first time any page needs them. ``dashboard/serve.py`` calls :func:`start` once: a
daemon thread imports them while the server waits for its first visitor, so the first page only
runs its own script. A page that arrives mid-warm-up waits on Python's import lock for the module
it needs, never longer than importing it itself would take. Then it pays the other one-time costs
of a first visit (:data:`CALLS`): PyTorch's first optimizer (it imports ``torch._dynamo``), the
digits split (it imports scikit-learn) and the digit classifier, each cached per process by genlab.
Between two steps it waits while a page's script runs (at most :data:`MAX_YIELD_S`), so a page
that comes early does not share the interpreter with the warm-up. Nothing is trained for a session
or drawn here, and a failing step is logged and skipped (the page will then say what is wrong).
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


CALLS = (("first optimizer", _first_optimizer), ("digits split", _digits), ("digit classifier", _classifier))

_started = threading.Event()


def _yield_to_pages(max_s: float = MAX_YIELD_S) -> None:
    """Wait while a page's script runs in this process, at most ``max_s`` seconds."""
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline and any(t.name == SCRIPT_THREAD for t in threading.enumerate()):
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
    """Start :func:`warm_up` in a daemon thread, once per process (``GENLAB_WARM_UP=0``: not at all)."""
    if _started.is_set() or os.environ.get("GENLAB_WARM_UP", "1").strip() == "0":
        return
    _started.set()
    threading.Thread(target=warm_up, kwargs={"freeze": True, "calls": CALLS}, name="genlab-warm-up",
                     daemon=True).start()
