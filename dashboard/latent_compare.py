"""Replay and compare on the latent pages (issue 21 §2-3): the latent codes of a VAE (or AE) run as a
timeline, and two β values trained the same way and replayed on one timeline.

:func:`replay_runs` offers the page's runs to :func:`dashboard.replay_section.replay_section`.
:func:`beta_compare_section` trains a second VAE that differs from the page's only in β (same data,
K, epochs and seed) through the latent pages' own job (:func:`dashboard.latent_jobs.submit_training`:
one ``fit_group``, one step each in turn, each run recorded with its history), then one slider
(``?cmp_t=``) moves both latent planes; the choice lives in the address (``?cmp_beta=``).
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

from dashboard import common
from dashboard import latent_jobs as lj
from dashboard.figures import timeline as timeline_figures
from dashboard.safe_text import md

OFF = "off"
BETAS = (0.1, 0.5, 1.0, 2.0, 4.0, 8.0)
SS = "_latent_cmp_"


def replay_runs(runs: dict[str, object], *, palette, key: str = "replay",
                heading: str = "Replay the training") -> None:
    """The replay section over the page's finished runs (label -> :class:`genlab.runs.Run`)."""
    from dashboard.replay_section import replay_section, run_source

    sources = [run_source(label, run, "Codes z = μ(x) of a fixed test subset and decodes of fixed prior draws, "
                                      "recorded while it trained.")
               for label, run in runs.items() if run is not None]
    replay_section(sources, palette=palette, metrics=("loss", "recon_loss", "kl_loss"), heading=heading, key=key)


def _label(beta: float) -> str:
    return f"β = {beta:g}"


def beta_compare_section(settings: dict, *, palette, session_id: str, manager: Callable, root=None) -> None:
    """Train and replay a VAE at another β next to the page's (``settings``: dataset, latent_dim,
    beta, epochs, mc_samples, seed as :func:`dashboard.latent_jobs.autoencoder_config` takes them)."""
    chosen = st.session_state.get("cmp_beta", st.query_params.get("cmp_beta", OFF))
    with st.expander("Compare two β values side by side (same data, K, epochs and seed)", expanded=chosen != OFF):
        beta = float(settings["beta"])
        others = [b for b in BETAS if abs(b - beta) > 1e-9]
        other = common.qp_select("Compare with β", "cmp_beta", (OFF, *others), OFF,
                                 format_func=lambda b: "— choose —" if b == OFF else f"{b:g}")
        if other == OFF:
            st.caption("Pick a β: a second VAE with only that β changed trains next to this one (one step each), "
                       "and one slider then replays both latent spaces.")
            return
        configs = {_label(beta): lj.autoencoder_config("vae", **settings),
                   _label(other): lj.autoencoder_config("vae", **{**settings, "beta": other})}
        found = {label: lj.find_finished(config, root) for label, config in configs.items()}
        if all(run is not None for run in found.values()):
            _replay_pair(found, palette)
            return
        _train_pair(configs, found, session_id, manager, root)


def _train_pair(configs: dict, found: dict, session_id: str, manager: Callable, root) -> None:
    missing = ", ".join(label for label, run in found.items() if run is None)
    job_id = st.session_state.get(SS + "job")
    job = manager().get(job_id) if job_id else None
    if job is not None and job.key != lj.job_key(configs):
        job = None
    if job is None or not job.active:
        if job is not None and job.error:
            st.error(f"Training stopped: {md(job.error, 300)}")
        st.caption(f"Not trained yet: {missing}. Training both takes about as long as the page's own pair.")
        if st.button("Train both", key=SS + "train", type="primary"):
            new = lj.submit_training(manager(), configs, session_id, "VAE β compare", root)
            st.session_state[SS + "job"] = new.id
            st.rerun()
        return

    @st.fragment(run_every=1.0)
    def progress() -> None:
        current = manager().get(job.id)
        if current is None or not current.active:
            st.rerun()
        snapshot = current.snapshot() or {}
        models = snapshot.get("models") or {}
        st.progress(current.progress, text=" · ".join(
            f"{label}: step {m.get('step', 0):,} of {m.get('target', 0):,}" for label, m in models.items()) or "starting")
        if st.button("Stop", key=SS + "stop"):
            current.stop()

    progress()


def _replay_pair(found: dict, palette) -> None:
    """One slider over both runs' timelines (same schedule: the frames are at the same steps)."""
    from dashboard.timeline import timeline_slider
    from genlab.errors import GenlabError
    from genlab.train.history import load_history

    try:
        histories = {label: load_history(run) for label, run in found.items()}
    except GenlabError as err:
        st.warning(f"A timeline cannot be shown: {md(str(err), 300)}")
        return
    labels = list(histories)
    first = histories[labels[0]]
    index = timeline_slider(first, label="Moment of both trainings", key="cmp_timeline", param="cmp_t")
    step = int(first.steps[index])
    limit = max(_limit(history) for history in histories.values())
    columns = st.columns(2)
    for column, label in zip(columns, labels):
        history = histories[label]
        frame = timeline_figures.nearest_frame(history.steps, step)
        with column:
            fig = timeline_figures.latent_at(history, frame, palette=palette, height=420, limit=limit,
                                             title=f"VAE {label} · step {int(history.steps[frame]):,}")
            common.show_figure(fig, key=f"cmp-latent-{label}")
            st.caption(_kl_text(history, frame))


def _limit(history) -> float:
    import numpy as np

    codes = np.abs(np.asarray(history.arrays["codes"], dtype=np.float32))
    codes = codes[np.isfinite(codes)]
    return max(3.0, float(np.quantile(codes, 0.99)) * 1.1) if codes.size else 3.0


def _kl_text(history, frame: int) -> str:
    names = list(history.metric_names)
    parts = []
    for name, text in (("kl_loss", "KL(q(z|x)‖p(z))"), ("recon_loss", "reconstruction −E_q[log p(x|z)]")):
        if name in names and history.metrics is not None:
            value = float(history.metrics[frame, names.index(name)])
            if value == value:
                parts.append(f"{text} = {value:.2f}")
    return " · ".join(parts) or "no training row at this frame (step 0 is the untrained model)"
