"""Compare two settings on the GAN lab 2D page (issue 21 §3): the same seed, data and noise, one
setting different, trained side by side in lockstep, then replayed on one timeline.

The page hands :func:`compare_section` its current settings (model A); the student picks the one
setting that B changes (loss, k, a learning rate, the noise, or the preset, whose differing fields
are then all named). ``Train both`` submits :func:`dashboard.gan_jobs.run_gan2d_compare` (one
``fit_group``, one step each in turn); a fragment polls the job's snapshot while it runs. When it
stops, one slider (``?cmp_t=``; the page's own replay has ``timeline`` / ``?t=``) moves both planes. The choice lives in the address
(``?cmp=k&cmp_b=3``). Nothing here trains in the script run.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Callable

import streamlit as st

from dashboard import common
from dashboard import gan_jobs as gj
from dashboard.figures import gan as gf
from dashboard.figures import timeline as timeline_figures
from genlab.errors import GenlabError

SS = "_gan2d_cmp_"
OFF = "off"
# setting -> (label, B's choices, the build_gan2d_live keyword it sets)
COMPARED = {
    "loss": ("loss", ("minimax", "non-saturating", "lsgan"), "loss"),
    "k": ("k (D steps per G step)", (1, 2, 3, 5), "k_disc"),
    "lr_d": ("lr_D", (0.0001, 0.0003, 0.001, 0.003, 0.01), "lr_d"),
    "lr_g": ("lr_G", (0.0001, 0.0003, 0.001, 0.003, 0.01), "lr_g"),
    "noise": ("noise p(z)", gj.NOISE_DISTRIBUTIONS, "noise"),
    "preset": ("preset", ("vanilla", "default"), "preset"),
}
STEP_CHOICES = (500, 1000, 2000, 5000, 10000)
NAMES = ("A", "B")


def _configs(settings: dict, dataset: str) -> dict:
    """The full GAN config dicts the two builds would use (to name every field that differs)."""
    from genlab.train.gan import gan_configs

    values = dict(settings)
    preset = values.pop("preset")
    model_config, train_config = gan_configs("gan", preset, **gj.gan2d_overrides(**values))
    return {**asdict(model_config), **asdict(train_config)}


def differences(settings_a: dict, settings_b: dict, dataset: str) -> list[str]:
    """``name: A -> B`` for every config field the two settings set differently."""
    a, b = _configs(settings_a, dataset), _configs(settings_b, dataset)
    return [f"{name}: {a[name]} → {b[name]}" for name in a if a[name] != b.get(name)]


def _b_settings(settings: dict, setting: str, value) -> dict:
    keyword = COMPARED[setting][2]
    return {**settings, keyword: value}


def _state(key: str, default=None):
    return st.session_state.setdefault(SS + key, default)


def _job(manager):
    job_id = _state("job_id")
    return manager().get(job_id) if job_id else None


def _reset(manager) -> None:
    job = _job(manager)
    if job is not None and job.active:
        job.stop()
        job.wait(5)
    st.session_state[SS + "holder"] = {}
    st.session_state[SS + "job_id"] = None


def compare_section(settings: dict, *, dataset: str, points, palette, session_id: str,
                    manager: Callable, height: int = 420) -> None:
    """The compare expander: choose B's difference, train both, watch, replay on one timeline.
    ``settings``: the page's model A as :func:`dashboard.gan_jobs.build_gan2d_live` keywords (with
    ``preset``); ``manager``: returns the job manager (imports torch: called only when needed)."""
    chosen = st.session_state.get("cmp", st.query_params.get("cmp", OFF))
    with st.expander("Compare two settings side by side (same seed, data and noise)", expanded=chosen != OFF):
        setting = common.qp_select("Setting that B changes", "cmp", (OFF, *COMPARED), OFF,
                                   format_func=lambda s: "— choose —" if s == OFF else COMPARED[s][0])
        if setting == OFF:
            st.caption("Pick a setting: model B is the page's model with that one setting changed; both train "
                       "in turn, one step each, so their planes move in lockstep.")
            return
        from genlab.data import TOY_DATASETS

        if points is None and dataset not in TOY_DATASETS:
            st.info("Draw or upload the points first: both models train on them.")
            return
        label, choices, keyword = COMPARED[setting]
        current = settings.get(keyword)
        others = [c for c in choices if c != current] or list(choices)
        b_value = common.qp_select(f"B's {label} (A has {current})", "cmp_b", others, others[0])
        steps = common.qp_select("Steps", "cmp_steps", STEP_CHOICES, 2000)
        b_settings = _b_settings(settings, setting, b_value)
        try:
            named = differences(settings, b_settings, dataset)
        except GenlabError as err:
            st.warning(f"These settings cannot be compared: {err}")
            return
        signature = (repr(sorted(settings.items())), setting, repr(b_value), dataset,
                     None if points is None else len(points))
        if _state("signature") != signature:
            _reset(manager)
            st.session_state[SS + "signature"] = signature
        titles = {"A": f"A: {label} = {current}", "B": f"B: {label} = {b_value}"}
        st.markdown("**B differs from A in:** " + ("; ".join(named) if named else "nothing (pick another value)"))
        _buttons(settings, b_settings, dataset, points, int(steps), session_id, manager)
        _pair_view(titles, palette, manager, height)


def _buttons(settings_a, settings_b, dataset, points, steps, session_id, manager) -> None:
    job = _job(manager) if _state("job_id") else None
    running = job is not None and job.active and job.status != "paused"
    columns = st.columns(3)
    if columns[0].button("Train both" if job is None or not job.active else "Resume both", key=SS + "train",
                         type="primary", disabled=running):
        if job is not None and job.active:
            job.resume()
        else:
            holder = _state("holder", {})
            data = dataset if points is None else "points"

            def build(values):
                values = dict(values)
                preset = values.pop("preset")
                return lambda: gj.build_gan2d_live(data, points, preset=preset, **values)

            factories = {"A": build(settings_a), "B": build(settings_b)}
            new = manager().submit(lambda c: gj.run_gan2d_compare(c, holder, steps, factories=factories),
                                   session_id=session_id, name=f"GAN 2D compare {dataset}")
            st.session_state[SS + "job_id"] = new.id
        st.rerun()
    if columns[1].button("Pause both", key=SS + "pause", disabled=not running):
        job.pause()
        st.rerun()
    if columns[2].button("Reset", key=SS + "reset", help="Drop both models; the next Train builds them anew."):
        _reset(manager)
        st.rerun()


def _plane(snapshot: dict, title: str, palette, height: int):
    view = snapshot.get("view") or {}
    return gf.plane_figure(snapshot["real"], view.get("fake"), heatmap=view.get("heatmap"),
                           manifold=view.get("manifold"), bounds=snapshot.get("bounds"), height=height,
                           title=f"{title} · step {snapshot.get('step', 0):,}", show_legend=False, palette=palette)


def _numbers(snapshot: dict) -> str:
    evals = snapshot.get("evals") or {}
    parts = []
    kl = evals.get("kl")
    if kl is not None and len(kl):
        parts.append(f"grid KL(real‖fake) {float(kl[-1]):.2f}")
    modes = evals.get("modes")
    if modes is not None and len(modes) and snapshot.get("n_modes"):
        parts.append(f"modes covered {int(modes[-1])} of {snapshot['n_modes']}")
    return " · ".join(parts) or "metrics after the first evaluation"


def _pair_view(titles: dict, palette, manager, height: int) -> None:
    job = _job(manager) if _state("job_id") else None
    live = job is not None and job.active and job.status != "paused"

    @st.fragment(run_every=0.6 if live else None)
    def planes() -> None:
        current = _job(manager) if _state("job_id") else None
        snapshot = current.snapshot() if current is not None else None
        lives = _state("holder", {}).get("lives")
        still = current is not None and current.active and current.status != "paused"
        if not still and lives and all(l.recorded is not None and len(l.recorded) >= 2 for l in lives.values()):
            _replay(lives, titles, palette, height)
        elif snapshot and snapshot.get("pair"):
            columns = st.columns(2)
            for column, name in zip(columns, NAMES):
                with column:
                    common.show_figure(_plane(snapshot["pair"][name], titles[name], palette, height), key=f"cmp-live-{name}")
                    st.caption(_numbers(snapshot["pair"][name]))
            if current is not None and current.error:
                st.error(f"Training stopped: {current.error}")
        else:
            st.info("Press **Train both**: the two planes appear here and move in lockstep.")
        if live and not still:
            st.rerun()              # the job ended: redraw the buttons and the timeline

    planes()


def _replay(lives: dict, titles: dict, palette, height: int) -> None:
    """One timeline for both models (their frames are at the same steps: same schedule, lockstep)."""
    from dashboard.timeline import timeline_slider

    histories = {name: lives[name].recorded for name in NAMES}
    index = timeline_slider(histories["A"], label="Moment of both trainings", key="cmp_timeline", param="cmp_t")
    step = int(histories["A"].steps[index])
    columns = st.columns(2)
    for column, name in zip(columns, NAMES):
        history = histories[name]
        with column:
            frame = timeline_figures.nearest_frame(history.steps, step)
            fig = timeline_figures.plane_at(history, frame, palette=palette, height=height,
                                            title=f"{titles[name]} · step {int(history.steps[frame]):,}")
            common.show_figure(fig, key=f"cmp-replay-{name}")
