"""Warm imports at server start (issue 22 §1: the first page after a start within 3 s).

The pages' heavy imports (torch, Plotly, pandas, the trainers, the figure builders) cost several
seconds the first time any page needs them. ``dashboard/serve.py`` calls :func:`start` once: a
daemon thread imports them while the server waits for its first visitor, so the first page only
runs its own script. A page that arrives mid-warm-up waits on Python's import lock for the module
it needs, never longer than importing it itself would take. Nothing is trained, loaded per session
or drawn here, and a failing import is logged and skipped (the page will then say what is wrong).
"""
from __future__ import annotations

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

_started = threading.Event()


def warm_up(modules=MODULES, freeze: bool = False) -> float:
    """Import ``modules`` (skipping any that fail, with a log line); returns the seconds it took.
    ``freeze``: then move every object alive to the collector's permanent generation (``gc.freeze``),
    so the full collections that run while many jobs train no longer walk torch's and Plotly's
    module objects (shorter pauses of every thread)."""
    start = time.perf_counter()
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - a broken optional module must not stop the server
            log.warning("warm-up: importing %s failed: %s", name, err)
    if freeze:
        gc.collect()
        gc.freeze()
    seconds = time.perf_counter() - start
    log.info("warm-up: %d modules imported in %.1f s", len(modules), seconds)
    return seconds


def start() -> None:
    """Start :func:`warm_up` in a daemon thread, once per process (``GENLAB_WARM_UP=0``: not at all)."""
    if _started.is_set() or os.environ.get("GENLAB_WARM_UP", "1").strip() == "0":
        return
    _started.set()
    threading.Thread(target=warm_up, kwargs={"freeze": True}, name="genlab-warm-up", daemon=True).start()
