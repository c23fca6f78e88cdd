"""GAN lab — 2D (issue 5): a GAN on 2D points, trained live, with GAN Lab's views.

The model trains in a background job (dashboard.gan_jobs.run_gan2d, no st.* calls there); this
script only draws. While the job runs, one fragment polls its latest snapshot every
``REFRESH_S`` seconds (the thread publishes every ~0.2 s and never waits for the page).
Every control lives in the URL (common.qp_*); drawn data sets too (``?shapes=``), uploaded
CSV points do not (the link says so).
"""
from __future__ import annotations

import contextlib
import time

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard import common
from dashboard import gan_jobs as gj
from dashboard import live_canvas, live_feed, predict, safe_text
from dashboard.figures import gan as gf
from dashboard.figures import gan_text as gt
from genlab import configs
from genlab.errors import GenlabError
from genlab.validation import bounds
from genlab.jobs import get_job_manager

TITLE = "GAN lab — 2D"
ctx = common.setup_page(TITLE)
from dashboard.tour import tour_box  # noqa: E402  (the guided walk: before the controls, it sets them)
tour_box("gan_2d")

PLANE_HEIGHT = 560
PLANE_HEIGHT_INSTRUCTOR = 680
# the status line above the plane (two lines of text and the progress bar) has a fixed height, live
# (the canvas's) and paused (Streamlit's) alike: a text that wraps never moves the plane
STATUS_HEIGHT = 64
STATUS_HEIGHT_INSTRUCTOR = 84
REFRESH_S = 0.4                     # fragment polling period while training (~2.5 Hz; the job publishes every 0.2 s)
SS = "_gan2d_"                      # session-state prefix of this page
TOY = ("ring8", "grid25", "two-moons", "spiral", "two-gaussians")
DRAWN, UPLOADED = "draw your own", "upload a CSV"
DATA_OPTIONS = TOY + (DRAWN, UPLOADED)
LOSSES = configs.GAN_LOSSES          # the choices and limits are the trainer config's (genlab.configs)
LOSS_LABELS = gt.LOSS_LABELS
OPTIMIZERS = configs.OPTIMIZERS
LR_MAX = float(bounds(configs.GANTrainConfig, "lr_d")[1])
PRESETS = ("vanilla", "default")
# each label lists what the preset turns on (gan_text.GAN2D_PRESETS, checked against genlab's presets)
PRESET_LABELS = {"vanilla": "vanilla: Adam, Gaussian z, nothing added",
                 "default": "stabilised: clustered z, z + MLP(z), EMA of G"}
WIDTHS = (16, 32, 64, 128, 256)
NOISE_DIMS = (1, 2, 4, 8, 16)
DEFAULTS = {"lr_d": 0.001, "lr_g": 0.001, "k": 1, "loss": "non-saturating", "opt_d": "adam", "opt_g": "adam"}


# --------------------------------------------------------------------------- #
# Session: one job per browser tab; a closed tab stops its job
# --------------------------------------------------------------------------- #
@st.cache_resource(show_spinner=False)
def _warm_up():
    # torch's import and one-time optimizer import in a background thread, which then freezes the
    # heap (full GC passes no longer walk the imported modules); not on the render path, where a
    # full collection walks every module object until the server's warm-up has frozen them
    return gj.warm_up_torch()


@contextlib.contextmanager
def _loading(message: str):
    """A spinner saying ``message`` while PyTorch still loads (the first visit after the server
    started: 3-10 s on a busy machine, the page's controls are already drawn); else nothing."""
    if _warm_up().is_alive():
        with st.spinner(message, show_time=True):
            yield
    else:
        yield


SESSION = common.job_session()
_warm_up()


def manager():
    """genlab.jobs' job manager. Its creation imports torch (seconds, the first time after a server
    start), so the page asks for it only when a job exists or starts: a first visit draws its
    controls at once and says that PyTorch is loading where it waits for it."""
    return get_job_manager()


state = st.session_state
state.setdefault(SS + "holder", {"live": None})
state.setdefault(SS + "job_id", None)
state.setdefault(SS + "signature", None)
state.setdefault(SS + "snapshot", None)
state.setdefault(SS + "notice", None)


def _job():
    job_id = state[SS + "job_id"]
    return manager().get(job_id) if job_id else None


def _holder() -> dict:
    return state[SS + "holder"]


def _live():
    return _holder().get("live")


# --------------------------------------------------------------------------- #
# Data and model (changing these restarts training): at the top of the page, visible without
# scrolling; the model's shape in an expander whose label says what it is
# --------------------------------------------------------------------------- #
st.markdown("**Data & model** — changing these restarts training")
# one row also in instructor mode: two rows pushed the plane below the fold at 1920 x 1080
settings_row = st.columns([1.1, 2.1, 0.8, 1.1], vertical_alignment="bottom")
with settings_row[0]:
    dataset = common.qp_select("Data set", "data", DATA_OPTIONS, "ring8",
                               help="ring8 / grid25: 8 or 25 Gaussian modes (mode coverage is measured). "
                                    "'draw your own': click or drag on a canvas below the charts.")
with settings_row[1]:
    preset = common.qp_select("Preset", "preset", PRESETS, "vanilla", format_func=lambda p: PRESET_LABELS[p],
                              help="vanilla: a plain GAN as it is usually run today — Adam (β1 = 0.5) and the "
                                   "loss you pick below, no stabiliser; not Goodfellow's SGD with momentum (pick "
                                   "SGD and *minimax (slide)* below for the slide's recipe). stabilised: genlab's "
                                   "benchmark setting (clustered noise, G(z) = z + MLP(z), batch 256); the plotted "
                                   "fakes then come from an exponential moving average of G's weights.")
with settings_row[2]:
    seed = common.qp_number("Seed", "seed", 0, 9999, 0)
with settings_row[3]:
    budget = common.qp_number("Steps per Train", "steps", 100, 200_000, 20_000, step=1000,
                              help="Each press of Train runs up to this many more steps (progress bar), "
                                   "then stops; press Train again to continue.")


# a fixed label: an expander whose label changed with its settings would fold up at each change
with st.expander("Model: hidden layers, neurons per layer, noise z", expanded=False):
    model_row = st.columns(2) + st.columns(2) if ctx.instructor else st.columns([1, 1, 1, 1.6])
    with model_row[0]:
        layers = common.qp_slider("Hidden layers (G and D)", "layers", 1, 4, 3)
    with model_row[1]:
        width = common.qp_select("Neurons per layer", "width", WIDTHS, 128)
    with model_row[2]:
        noise_dim = common.qp_select("Noise dimension", "zdim", NOISE_DIMS, 2,
                                     help="1 or 2: the manifold shows all of G's noise space; more: a 2D slice.")
    with model_row[3]:
        noise = common.qp_radio("Noise distribution p(z)", "noise", gj.NOISE_DISTRIBUTIONS,
                                "gaussian" if preset == "vanilla" else "clusters", horizontal=True,
                                help="gaussian N(0, I) or uniform U(-1, 1): one connected blob, which a continuous "
                                     "G can only tear into separate modes by leaving thin bridges of bad samples "
                                     "between them. clusters: 256 small separate Gaussians (a 16 x 16 grid) — each "
                                     "piece can go to a mode with nothing in between (Khayatkhoei et al. 2018).")

# --------------------------------------------------------------------------- #
# Data: toy set, drawn shapes, or an uploaded CSV
# --------------------------------------------------------------------------- #
points = None
data_error = None
shapes: list = []
if dataset == DRAWN:
    try:
        shapes = gj.parse_shapes(st.query_params.get("shapes"))
    except GenlabError as err:
        data_error = f"The drawn shapes in the link are unreadable ({safe_text.md(err)}); they were cleared."
        shapes = []
    if shapes:
        points = gj.points_from_shapes(shapes, n=2000, seed=int(seed))
    else:
        data_error = data_error or "Nothing drawn yet: click the canvas below (a blob) or drag a box on it."
elif dataset == UPLOADED:
    upload = st.file_uploader("Points CSV (header x,y; 2 to 100 000 rows)", type=["csv", "txt"], key=SS + "csv")
    if upload is not None:
        from genlab.data import load_points_csv

        if state.get(SS + "csv_file_id") != upload.file_id:   # parse each upload once, not on every rerun
            state[SS + "csv_file_id"], state[SS + "csv_error"] = upload.file_id, None
            try:
                state[SS + "csv_points"] = load_points_csv(upload.getvalue())
            except GenlabError as err:
                state[SS + "csv_error"] = str(err)
        # a refused file keeps the points (and the model trained on them) of the last good upload
        points = state.get(SS + "csv_points")
        if state.get(SS + "csv_error"):
            kept = "" if points is None else f" The {len(points)} points of the last good file are kept."
            data_error = f"That file cannot be used: {safe_text.md(state[SS + 'csv_error'])}.{kept}"
    else:
        points = state.get(SS + "csv_points")
        if points is None:
            data_error = "Upload a CSV with a header line x,y and one point per line (the link cannot carry it)."

signature = (dataset, preset, layers, width, noise_dim, noise, int(seed),
             None if points is None else (len(points), float(np.asarray(points).sum())))


def _stop_job(wait: float = 5.0) -> None:
    job = _job()
    if job is not None and job.active:
        job.stop()
        job.wait(wait)


def _reset(message: str | None = None) -> None:
    """Drop the model (the next Train builds a fresh one with the current settings)."""
    _stop_job()
    state[SS + "holder"] = {"live": None}
    state[SS + "job_id"] = None
    state[SS + "snapshot"] = None
    state[SS + "signature"] = None
    if message:
        state[SS + "notice"] = message




# --------------------------------------------------------------------------- #
# Live controls (applied while training, no restart)
# --------------------------------------------------------------------------- #
def _factory():
    settings = dict(width=width, layers=layers, noise_dim=noise_dim, noise=noise, seed=int(seed),
                    lr_d=lr_ok(state.get("lr_d", DEFAULTS["lr_d"])), lr_g=lr_ok(state.get("lr_g", DEFAULTS["lr_g"])),
                    k_disc=max(1, int(state.get("k", 1))), loss=state.get("loss", DEFAULTS["loss"]),
                    optimizer_d=state.get("opt_d", "adam"), optimizer_g=state.get("opt_g", "adam"))
    ds, pts = dataset, points
    return lambda: gj.build_gan2d_live(ds if pts is None else "points", pts, preset=preset, **settings)


def lr_ok(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if 0 < v <= 1 else None


def _live_values() -> dict:
    return {"lr_d": state.get("lr_d"), "lr_g": state.get("lr_g"), "k_disc": state.get("k"),
            "loss": state.get("loss"), "optimizer_d": state.get("opt_d"), "optimizer_g": state.get("opt_g")}


def _send_live() -> None:
    """on_change of a live control: validate, then hand the change to the running job."""
    values = _live_values()
    try:
        gj.check_live_settings(values["lr_d"], values["lr_g"], values["k_disc"])
    except GenlabError as err:
        state[SS + "live_error"] = str(err)
        return
    state[SS + "live_error"] = None
    job = _job()
    if job is not None and job.active:
        try:
            job.send({"set": values})
        except GenlabError:
            pass
    elif _live() is not None:
        try:
            _live().trainer.set_hyperparameters(**values)
        except GenlabError as err:
            state[SS + "live_error"] = str(err)


# --------------------------------------------------------------------------- #
# Buttons
# --------------------------------------------------------------------------- #
def _on_train() -> None:
    job = _job()
    if job is not None and job.active:
        job.resume()
        return
    if data_error is not None and points is None and dataset in (DRAWN, UPLOADED):
        state[SS + "notice"] = data_error
        return
    try:
        gj.check_live_settings(state.get("lr_d"), state.get("lr_g"), state.get("k"))
    except GenlabError as err:
        state[SS + "live_error"] = str(err)
        return
    holder = _holder()
    if holder.get("live") is not None:
        holder["live"].trainer.set_hyperparameters(**_live_values())
    state[SS + "signature"] = signature
    factory = _factory()
    steps = int(budget)
    new = manager().submit(lambda c: gj.run_gan2d(c, holder, steps, factory=factory),
                         session_id=SESSION, name=f"GAN 2D {dataset}")
    state[SS + "job_id"] = new.id


def _on_pause() -> None:
    job = _job()
    if job is not None and job.active:
        version = job.snapshot_version
        job.pause()
        # the job publishes exactly where it paused: wait (briefly) for that snapshot, so that the
        # paused page, and the single steps taken from it, show the right step
        state[SS + "await_version"] = version


def _on_reset() -> None:
    _reset("Model reset: the next Train starts from fresh weights.")


def _on_single(phase: str) -> None:
    job = _job()
    if job is not None and job.active:
        job.pause()
        try:
            job.send({"step": phase})
        except GenlabError:
            return
        state[SS + "await_version"] = job.snapshot_version
        return
    try:
        gj.check_live_settings(state.get("lr_d"), state.get("lr_g"), state.get("k"))
    except GenlabError as err:
        state[SS + "live_error"] = str(err)
        return
    # taken by the script run (take_pending_step), where a spinner can say what a slow first step waits for
    state[SS + "pending_step"] = phase


def take_pending_step() -> None:
    """The single step a button asked for while no job runs: build the model if there is none,
    take the step and keep its snapshot. Right after a server start the model waits for PyTorch
    to load: a spinner says so."""
    phase = state.pop(SS + "pending_step", None)
    if phase is None:
        return
    holder = _holder()
    if holder.get("live") is None and data_error is not None and points is None and dataset in (DRAWN, UPLOADED):
        return                          # the warning at the top of the page says what the data set lacks
    # the model's build and its first optimizer step wait for the warm-up's imports (torch._dynamo)
    loading = _warm_up().is_alive()
    with st.spinner("Taking the step: PyTorch is still loading (once per server start)…" if loading
                    else "Taking the step…", show_time=loading):
        if holder.get("live") is None:
            try:
                holder["live"] = _factory()()
            except GenlabError as err:
                st.warning(str(err))
                return
            state[SS + "signature"] = signature
        live = holder["live"]
        live.trainer.set_hyperparameters(**_live_values())
        live.single_step(phase)
        state[SS + "snapshot"] = live.refresh()


# A restart setting changed since the model was built: stop and drop it, and start again
# with the new settings if it was training (a clean restart).
if state[SS + "signature"] is not None and state[SS + "signature"] != signature:
    _old = _job()
    _was_training = _old is not None and _old.status in ("running", "queued")
    _reset("Settings that shape the model or the data changed: training restarted from scratch."
           if _was_training else "Settings that shape the model or the data changed: the model was reset.")
    if _was_training and not (data_error is not None and points is None):
        _on_train()

job = _job()


def pausing(job) -> bool:
    """Pause was pressed but the job still finishes the step it was taking: it has not yet published
    the snapshot of where it stopped (``paused`` in it). The page stays live until it has."""
    if job is None or job.status != "paused":
        return False
    snap = job.snapshot()
    return bool(snap) and not snap.get("paused")


def live_job(job) -> bool:
    """The job is training, queued or pausing: the page draws it live."""
    return job is not None and (job.status in ("running", "queued") or pausing(job))


running = live_job(job)
paused = job is not None and job.status == "paused"

# A single step sent to a paused job: wait (briefly) for the job to publish its result.
if job is not None and state.get(SS + "await_version") is not None:
    deadline = time.monotonic() + 3.0
    while job.snapshot_version <= state[SS + "await_version"] and job.active and time.monotonic() < deadline:
        time.sleep(0.02)
    state[SS + "await_version"] = None

if state[SS + "notice"]:
    st.info(state[SS + "notice"])
    state[SS + "notice"] = None
if data_error and dataset in (DRAWN, UPLOADED):
    st.warning(data_error)

# --------------------------------------------------------------------------- #
# Drawing canvas (data set "draw your own"): shown above the training controls
# --------------------------------------------------------------------------- #
def draw_section() -> None:
    common.caption(explanation="Click anywhere on the canvas to add a Gaussian blob there. For a uniform "
                               "rectangle, pick the box-select tool in the chart's toolbar (top right) and drag. "
                               "The shapes are kept in the link; training restarts when the data change.")
    d1, d2 = st.columns([2, 1])
    with d2:
        st.slider("Blob size (std)", 0.05, 1.0, 0.2, 0.05, key=SS + "blob_std")
        st.markdown("**Add a cluster at (x, y)**")
        st.number_input("x", -5.0, 5.0, 0.0, 0.5, key=SS + "cx")
        st.number_input("y", -5.0, 5.0, 0.0, 0.5, key=SS + "cy")

        def _add_blob() -> None:
            try:
                new = shapes + [gj.blob(state[SS + "cx"], state[SS + "cy"], state[SS + "blob_std"])]
                st.query_params["shapes"] = gj.shapes_to_text(new)
            except GenlabError as err:
                state[SS + "notice"] = str(err)

        def _clear() -> None:
            if "shapes" in st.query_params:
                del st.query_params["shapes"]

        def _undo() -> None:
            if shapes:
                text = gj.shapes_to_text(shapes[:-1])
                if text:
                    st.query_params["shapes"] = text
                else:
                    _clear()

        st.button("Add cluster", on_click=_add_blob, key=SS + "add")
        b1, b2 = st.columns(2)
        b1.button("Undo last", on_click=_undo, key=SS + "undo", disabled=not shapes)
        b2.button("Clear", on_click=_clear, key=SS + "clear", disabled=not shapes)
    with d1:
        def _on_draw() -> None:
            selection = state.get(SS + "canvas")
            try:
                shape = gj.shape_from_selection(selection, blob_std=state.get(SS + "blob_std", 0.2))
            except GenlabError as err:
                state[SS + "notice"] = str(err)
                return
            if shape is None:
                return
            new = shapes + [shape]
            if len(new) > gj.MAX_SHAPES:
                state[SS + "notice"] = f"At most {gj.MAX_SHAPES} shapes; use Undo or Clear."
                return
            st.query_params["shapes"] = gj.shapes_to_text(new)

        canvas_points = points if points is not None else np.zeros((0, 2))
        common.show_figure(gf.draw_canvas_figure(canvas_points, height=380, palette=ctx.palette,
                                                   projector=ctx.instructor), key=SS + "canvas", on_select=_on_draw,
                           selection_mode=("points", "box", "lasso"))


if dataset == DRAWN:
    with st.expander("Draw your data set", expanded=True):
        draw_section()

# Instructor mode (projector, large fonts): buttons in two rows, controls stacked, so nothing is cut
# off at 1280x720 with the sidebar open.
if ctx.instructor:
    row1, row2 = st.columns(3), st.columns(3)
    buttons = [*row1, *row2]
else:
    buttons = st.columns([1.1, 1, 1, 1, 1, 1.5], vertical_alignment="bottom")
# Keyboard shortcuts (gan_text.SHORTCUTS, the same key for the same action on every GAN page): bare
# letters, which Streamlit ignores while a text or number field has the focus and which no slider uses
buttons[0].button("Train", icon=":material/play_arrow:", type="primary", on_click=_on_train, disabled=running,
                  key=SS + "play", shortcut=gt.SHORTCUTS["train"],
                  help="Run Algorithm 1 in the background: k D steps, then 1 G step, repeated. "
                       + gt.shortcut_help("train"), width="stretch")
buttons[1].button("Pause", icon=":material/pause:", on_click=_on_pause, disabled=not running, key=SS + "pause",
                  shortcut=gt.SHORTCUTS["pause"], help="Pause training (Train resumes). " + gt.shortcut_help("pause"),
                  width="stretch")
buttons[2].button("Reset", icon=":material/restart_alt:", on_click=_on_reset, key=SS + "reset", width="stretch",
                  help="Fresh weights (same settings).")
buttons[3].button("1 D step", on_click=_on_single, args=("d",), key=SS + "step_d", width="stretch",
                  shortcut=gt.SHORTCUTS["step_d"],
                  help="One discriminator update, G fixed (pauses training). " + gt.shortcut_help("step_d"))
buttons[4].button("1 G step", on_click=_on_single, args=("g",), key=SS + "step_g", width="stretch",
                  shortcut=gt.SHORTCUTS["step_g"],
                  help="One generator update, D fixed (pauses training). " + gt.shortcut_help("step_g"))
buttons[5].button("1 step: k D + 1 G", on_click=_on_single, args=("both",), key=SS + "step_both", width="stretch",
                  shortcut=gt.SHORTCUTS["step"],
                  help="One iteration of Algorithm 1 (pauses training). " + gt.shortcut_help("step"))

SHORT_LAYER_LABELS = {"real": "Real", "fake": "Fake", "heatmap": "D(x)", "manifold": "Mesh",
                      "gradients": "Arrows"}
LAYER_KEYS = {"real": "show_real", "fake": "show_fake", "heatmap": "show_d", "manifold": "show_manifold",
              "gradients": "show_grad"}


def layer_toggles() -> list[str]:
    """The plane's layers, one toggle each (drawn by the live fragment above the plane, so that
    toggling one reruns only that fragment)."""
    shown = []
    with st.container(horizontal=True, gap="small"):     # one row at their own widths, wraps if narrow
        for name, key in LAYER_KEYS.items():
            if common.qp_toggle(SHORT_LAYER_LABELS[name], key, True, width="content"):
                shown.append(name)
    return shown


# --------------------------------------------------------------------------- #
# Main area: the plane (live) | live controls and the explanation
# --------------------------------------------------------------------------- #
left, right = st.columns([1.7, 1] if ctx.instructor else [1.35, 1], gap="medium")


@st.fragment
def live_settings() -> None:
    """The live settings. A change reruns only this fragment (a full page rerun cost a browser on a
    shared 2-core machine ~0.4 s of main-thread time), reaches the running job through on_change
    and updates the link. Changing the loss reruns the page: the minimax explanation opens or closes."""
    st.markdown("**Live settings** — applied at the next step, no restart")
    c1, c2 = (st.container(), st.container()) if ctx.instructor else st.columns(2)
    with c1:
        lr_d = common.qp_number("lr_D (discriminator)", "lr_d", None, LR_MAX, DEFAULTS["lr_d"], step=0.0001,
                                format="%.5f", on_change=_send_live)
        common.qp_select("Optimizer D", "opt_d", OPTIMIZERS, "adam", on_change=_send_live)
    with c2:
        lr_g = common.qp_number("lr_G (generator)", "lr_g", None, LR_MAX, DEFAULTS["lr_g"], step=0.0001,
                                format="%.5f", on_change=_send_live)
        common.qp_select("Optimizer G", "opt_g", OPTIMIZERS, "adam", on_change=_send_live)
    k_now = state.get("k", 1)
    if isinstance(k_now, bool) or not isinstance(k_now, int) or not 1 <= k_now <= 10:
        state.pop("k", None)         # another page's "k" (e.g. a latent size): the slider reads the URL again
    k_disc = common.qp_slider("k: discriminator steps per generator step", "k", 1, 10, 1, on_change=_send_live,
                              help="Algorithm 1's inner loop: k discriminator updates, then one generator update.")
    common.qp_radio("Loss", "loss", LOSSES, DEFAULTS["loss"], horizontal=True,
                    format_func=lambda v: LOSS_LABELS[v], on_change=_on_loss)
    live_error = None
    try:
        gj.check_live_settings(lr_d, lr_g, k_disc)
    except GenlabError as err:
        live_error = str(err)
    if live_error:
        st.error(f"{live_error}. Training keeps the last valid value.")
    state[SS + "live_error"] = live_error
    recipe_view()
    if state.pop(SS + "loss_changed", False):
        st.rerun()


def recipe_view() -> None:
    """What trains with the settings on screen (inside the live-settings fragment, so a live change
    updates it at once): one line with the departures from the slide marked, the reasons below it."""
    train = {**gt.GAN2D_PRESETS[preset], "loss": state.get("loss", DEFAULTS["loss"]),
             "optimizer_d": state.get("opt_d", "adam"), "optimizer_g": state.get("opt_g", "adam")}
    model = {**gt.GAN2D_PRESETS[preset], "noise": noise}
    k_now = state.get("k", 1)
    st.markdown(gt.recipe_summary(train, model, lr_decay="none", k_disc=k_now))
    with st.expander("What trains here, and why it departs from the slide", expanded=False):
        st.markdown(gt.recipe_markdown(train, model, lr_decay="none", k_disc=k_now))
        st.caption("The learning rates are yours and stay fixed (no decay on this page). The slide's recipe: "
                   "*minimax (slide)*, SGD for both optimizers, k = 1, the vanilla preset.")


def _on_loss() -> None:
    _send_live()
    state[SS + "loss_changed"] = True


with right:
    live_settings()
loss = state.get("loss", DEFAULTS["loss"])

def _current_snapshot():
    job = _job()
    if job is not None:
        snap = job.snapshot()
        if snap:
            if job.done:
                state[SS + "snapshot"] = snap
            return snap
    return state[SS + "snapshot"]


def _updates_text(snap) -> str:
    return f"D updates {snap.get('d_updates', 0):,} · G updates {snap.get('g_updates', 0):,}"


def queue_text(job) -> str:
    """"2 jobs ahead of you" for a queued job."""
    ahead = job.jobs_ahead() or 0
    busy = len(manager().running())
    if ahead == 0:
        return (f"The server is busy ({busy} training job{'s' if busy != 1 else ''} running): "
                "yours is next in the queue and starts automatically.")
    return (f"The server is busy: {ahead} job{'s' if ahead != 1 else ''} ahead of you in the queue "
            f"({busy} running). Yours starts automatically; Reset cancels it.")


def status_record(job, snap) -> dict:
    """What the status line says: ``{"kind": "progress" | "warning" | "caption" | "error", "text",
    "value" (progress 0..1), "error" (a refused live change)}``. Pure (no ``st.*``): the live feed
    builds it in a server thread, the page draws it with Streamlit when there is no feed."""
    if job is None or job.done:
        if job is not None and job.status == "failed":
            return {"kind": "error", "text": f"Training failed: {job.error}"}
        if snap:
            return {"kind": "caption", "text": f"Step {snap['step']:,} ({_updates_text(snap)}), not training. "
                                               "Train continues from here; Reset starts over."}
        return {"kind": "caption", "text": "Not trained yet: press Train (or take single steps)."}
    if job.status == "queued":
        return {"kind": "warning", "text": queue_text(job)}
    if not snap:
        return {"kind": "progress", "value": 0.0, "text": job.message or "starting"}
    rate = snap.get("steps_per_s")
    rate_text = f" · {rate:,.0f} steps/s" if rate is not None and np.isfinite(rate) else ""
    left = snap.get("target", snap["step"]) - snap["step"]
    if rate and np.isfinite(rate) and rate > 0 and left > 0 and job.status != "paused":
        seconds = left / rate
        rate_text += f" · about {seconds / 60:.0f} min left" if seconds >= 90 else f" · about {seconds:.0f} s left"
    # paused, but the job still finishes the step it was taking: "Pausing" until it publishes where it stopped
    label = ("Paused" if snap.get("paused") else "Pausing") if job.status == "paused" else "Training"
    error = snap.get("command_error")
    return {"kind": "progress", "value": float(job.progress),
            "text": f"{label}: step {snap['step']:,} of {snap.get('target', snap['step']):,} · "
                    f"{_updates_text(snap)}{rate_text}",
            "error": f"Live change refused: {error}" if error else None}


def _status_height() -> int:
    return STATUS_HEIGHT_INSTRUCTOR if ctx.instructor else STATUS_HEIGHT


def _status_box():
    """The status line's container: a fixed height, whatever it holds (a wrapped text, a spinner)."""
    return st.container(height=_status_height(), border=False)


def _status_line(job, snap, box) -> None:
    status = status_record(job, snap)
    with box:
        if status["kind"] == "progress":
            st.progress(status["value"], text=status["text"])
        else:
            {"error": st.error, "warning": st.warning, "caption": st.caption}[status["kind"]](status["text"])
    if status.get("error"):
        st.error(status["error"])


def _plane_figure(snap, shown: list[str], preview=None):
    """The plane with the layers ``shown``; pure when ``preview`` (the real points shown before the
    first snapshot) is given. Points as SVG: the page draws this figure once per rerun, and a tab's
    first WebGL plot costs more than the whole SVG one (the live view redraws with its own renderer)."""
    height = PLANE_HEIGHT_INSTRUCTOR if ctx.instructor else PLANE_HEIGHT
    if snap and snap.get("view"):
        view = snap["view"]
        return gf.plane_figure(
            snap["real"], view.get("fake"), heatmap=view.get("heatmap"), manifold=view.get("manifold"),
            gradients=view.get("gradients"), layers=shown, bounds=snap["bounds"], show_legend=False, height=height,
            palette=ctx.palette, points_trace="scatter", projector=ctx.instructor,
        )
    return gf.plane_figure(_preview_real() if preview is None else preview, None,
                           layers=[n for n in shown if n == "real"], show_legend=False, height=height,
                           palette=ctx.palette, points_trace="scatter", projector=ctx.instructor)


def plane_view(job, snap, live: bool, shown: list[str], box) -> None:
    """The status line (in ``box``, see :func:`_status_box`) and the plane: on the live canvas while
    training, else the Plotly figure."""
    _status_line(job, snap, box)
    with _loading("Loading PyTorch and the data (once per server start: a few seconds)…"):
        fig = _plane_figure(snap, shown)
    if live:
        live_canvas.show_live_figures([("gan2d_plane", fig)], key="gan2d_plane_live")
    else:
        common.show_figure(fig, key="gan2d_plane")


@st.cache_data(show_spinner=False, max_entries=16)
def _toy_preview(name: str, seed: int) -> np.ndarray:
    from genlab.data import sample_toy

    return sample_toy(name, 600, seed)


def _preview_real() -> np.ndarray:
    if points is not None:
        return np.asarray(points)[:600]
    if dataset in TOY:
        return _toy_preview(dataset, int(seed))
    return np.zeros((0, 2))


def slide_objective() -> None:
    """The lecture's objective and its training, as the slides write them (issue 20: content no page
    taught yet), with the slide's question about backpropagating through z answered for GANs."""
    if common.control_hidden("explanations"):
        return
    with st.expander("On the slide: L = J + J′, trained by alternating — and can we backpropagate through z?"):
        st.markdown(
            "**The objective.** For a real image x ~ p_data and noise z ~ p(z): "
            "J = log D_φ(x) (D calls the real one real), J′ = log(1 − D_φ(G_θ(z))) (D calls the fake one fake), "
            "L = J + J′. D maximises L over φ; G minimises J′, the only term that depends on θ: "
            "min_θ max_φ L. **Both objectives, and hence their sum, are differentiable** in θ and φ: G's "
            "gradient flows back through D into G.\n\n"
            "**Training alternates:** (1) keep θ fixed and backpropagate through D: a step *up* L for φ; "
            "(2) keep φ fixed and backpropagate through D into G: a step *down* J′ for θ. That is block "
            "coordinate descent, except that each block gets one minibatch SGD step instead of being optimised "
            "exactly. Algorithm 1 repeats (1) k times before each (2); Goodfellow et al. used k = 1, the least "
            "expensive option. The buttons *1 D step* and *1 G step* are the two blocks.\n\n"
            "**Can we backpropagate through z, given that it is stochastic?** In a GAN we never need to: z is an "
            "*input*, drawn before the forward pass, and nothing that is sampled depends on θ or φ. "
            "The loss depends on θ only through the deterministic G_θ(z), so ∇_θ J′ is the average of "
            "∇_θ log(1 − D(G_θ(z))) over the sampled z. A VAE is different: its code z ~ q_φ(z | x) is drawn "
            "from a distribution whose parameters φ are being learned, and the reparameterization "
            "z = μ_φ(x) + σ_φ(x) ⊙ ε, ε ~ N(0, I), moves the randomness into an input so that the gradient "
            "can reach φ."
        )
        try:
            st.page_link("pages/vae_elbo.py", label="The VAE's answer: Latent ELBO & reparameterization",
                         icon=":material/arrow_forward:")
        except StreamlitAPIException:      # the page run on its own (AppTest): no page registry
            st.caption("The VAE's answer: page *Latent ELBO & reparameterization*.")


over_time = st.container()       # below the two columns; the live fragment draws the charts here
with over_time:
    st.subheader("Over time")

def _demo_eval(name: str) -> dict | None:
    """The final evaluation (status.json) of a shipped demo run, read without importing torch; None
    when the demo is missing or unreadable."""
    import os
    from pathlib import Path

    return _demo_eval_in(os.environ.get("GENLAB_DEMOS_DIR") or str(Path(__file__).resolve().parents[2] / "demos"),
                         name)


@st.cache_data(show_spinner=False, ttl=60, max_entries=8)
def _demo_eval_in(root: str, name: str) -> dict | None:
    # the folder is part of the cache key: GENLAB_DEMOS_DIR pointed elsewhere reads there
    from pathlib import Path

    from genlab.run_files import read_status

    try:
        return read_status(Path(root) / name / "status.json", name).get("eval") or None
    except (GenlabError, OSError):
        return None


def _ask(question_id: str, question: str, options, result: tuple) -> None:
    """One predict-then-reveal question whose answer (or what the page still lacks) is ``result``."""
    answer, text = result
    predict.predict(question_id, question, options, answer=answer, why=text if answer is not None else "",
                    pending=text if answer is None else None)


def questions() -> None:
    """Predict, then reveal: the shipped demos answer the preset question; the page's own run answers
    the k question (it says what to run until the run exists)."""
    _ask("gan2d-preset-modes",
         "Two shipped demo runs trained ring8 for 6 000 steps from seed 0: one with the vanilla preset, one with "
         "the stabilised preset (and genlab's benchmark learning rate, 5·10⁻⁴ decaying to 0). "
         "Which one covered more of the 8 modes?",
         gt.PRESET_MODES_OPTIONS,
         gt.preset_modes_answer(_demo_eval(gt.RING8_DEMOS["vanilla"]), _demo_eval(gt.RING8_DEMOS["default"])))
    if dataset == "ring8":
        demo = _demo_eval(gt.RING8_DEMOS["vanilla"])
        demo_modes = f"{demo['modes_covered']:g} of 8" if demo and "modes_covered" in demo else "only some"
        page = {"dataset": dataset, "preset": preset, "layers": layers, "width": width, "zdim": noise_dim,
                "noise": noise, "seed": int(seed)}
        _ask("gan2d-more-d-steps",
             f"The vanilla GAN misses modes on ring8: the shipped vanilla demo (k = 1) covered {demo_modes} after "
             "6 000 steps. With **k = 5** discriminator steps per generator step (the same settings otherwise), "
             "what will your run cover at step 6 000?",
             gt.D_STEPS_OPTIONS, gt.more_d_steps_answer(_current_snapshot(), page, demo))


with right:
    questions()
    real_name, fake_name = ctx.palette.real_name, ctx.palette.fake_name  # the session's palette names them
    common.explain(
        f"**What you see.** {real_name.capitalize()} points are real data x ~ p_data, {fake_name} points are fakes G(z) "
        "(always the same z, so you watch them move). The background is the discriminator's "
        f"opinion D(x): {real_name} where it says *real*, {fake_name} where it says *fake*. The **mesh** is the "
        "generator's manifold: G applied to a grid of noise vectors (how G folds the noise space into "
        f"the plane); {ctx.palette.gradient_name} **arrows** show where G's update pushes each fake.\n\n"
        "**The game.** D ascends the slide's log D(x) + log(1 − D(G(z))): it paints the background "
        f"{real_name} under real points and {fake_name} under fakes. G wants D to say *real* for its fakes: on the slide "
        "it descends log(1 − D(G(z))) (the loss *minimax (slide)*); by default here it descends −log D(G(z)) "
        "(*non-saturating*, see the line under the settings). Either way the arrows point uphill on D's map, "
        "toward where D says *real*. **Algorithm 1**: every step makes k discriminator updates, then one "
        "generator update — try the single-step buttons, and raise k to let D get ahead. At the equilibrium "
        "p_G = p_data and D(x) = ½ everywhere (white)."
    )
    slide_objective()

# --------------------------------------------------------------------------- #
# Charts over time (live)
# --------------------------------------------------------------------------- #


def _last(values) -> float | None:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values[-1]) if len(values) else None


def _chart_figures(snap) -> list:
    hist, evals = snap["history"], snap["evals"]
    changes = snap.get("changes") or []
    loss_name = (snap.get("hyperparameters") or {}).get("loss")
    h = 300 if ctx.instructor else 270
    label = common.INSTRUCTOR_FONT if ctx.instructor else gf.CHANGE_FONT     # the change labels' size
    figs = [
        ("gan2d_loss", gf.loss_figure(hist["step"], hist["loss_d"], hist["loss_g"], loss_name=loss_name,
                                      changes=changes, height=h, label_font=label, palette=ctx.palette)),
        ("gan2d_dout", gf.d_output_figure(hist["step"], hist["d_real"], hist["d_fake"], changes=changes, height=h,
                                          label_font=label, palette=ctx.palette)),
        ("gan2d_div", gf.divergence_figure(evals["step"], evals["kl"], evals["js"], bins=gj.KL_BINS, height=h,
                                           palette=ctx.palette)),
    ]
    if snap.get("n_modes"):
        figs.append(("gan2d_modes", gf.modes_figure(evals["step"], evals["modes"], evals["hq"],
                                                    n_modes=snap["n_modes"], height=h, palette=ctx.palette)))
    else:
        figs.append(("gan2d_sat", gf.saturation_figure(_last(hist["d_fake"]), loss=loss_name, height=h,
                                                           palette=ctx.palette)))
    return figs


def charts_view(snap, live: bool) -> None:
    """The four charts over time: one live canvas grid while training, else Plotly charts."""
    if not snap:
        return
    figs = _chart_figures(snap)
    per_row = 1 if ctx.instructor else 2          # projector: one chart per row, full width
    if live:
        live_canvas.show_live_figures(figs, key="gan2d_charts_live", columns=per_row)
        st.caption("Drawn live while training; pause for interactive charts (hover, zoom, download).")
        return
    for row in range(0, len(figs), per_row):
        cols = st.columns(per_row)
        for col, (key, fig) in zip(cols, figs[row:row + per_row]):
            with col:
                common.show_figure(fig, key=key)


# Served by dashboard/serve.py (make run) the page's browser fetches the live figures itself from
# two live feeds (dashboard/live_feed.py): no fragment rerun per refresh, which cost a browser on a
# shared 2-core machine ~150 ms each. Without the feed route (plain `streamlit run dashboard/app.py`,
# AppTest) the fragment below polls the job instead.
FEED = live_feed.available()


def _poll_s(feed: bool = True) -> float:
    """Seconds between live refreshes (dashboard.gan_jobs.poll_period). A fragment polls about once
    per round of CPU turns (with many jobs each job publishes less often) and backs off with the
    number of live pages: its rerun costs a browser ~150 ms of main-thread time (measured, 2D page,
    headless Chromium). A feed's request waits for the job's next publish itself (long polling) and
    its refresh costs a browser ~13 ms: its period is only a cap on the refresh rate, 4x smaller
    per live page, so that a publish reaches the page within ~0.3 s even with 10 training tabs."""
    computing = sum(1 for j in manager().running() if j.status == "running")
    if feed:
        return gj.poll_period(REFRESH_S, computing, manager().compute_slots, 0.0, per_page_s=0.03, max_s=1.0)
    return gj.poll_period(REFRESH_S, computing, manager().compute_slots, manager().turn_length())


REFRESH_NOW = _poll_s(feed=False) if running else None


def _publish_feeds(job_id: str, shown: list[str]) -> tuple[str, str]:
    """Tokens of the plane's and the charts' live feeds of job ``job_id``, drawn with this script
    run's settings (layers, instructor mode). Their ``build`` runs in a server thread, only when the
    job published something new: pure functions of the job's snapshot."""
    preview = _preview_real()         # st.cache_data: read here, in the script thread

    def _snapshot():
        job = manager().get(job_id)
        return job, (job.snapshot() if job is not None else None)

    def changed():
        job = manager().get(job_id)
        if job is None:
            return None
        queue = (job.jobs_ahead(), len(manager().running())) if job.status == "queued" else None
        return job.snapshot_version, job.status, queue

    plane = {"view": None, "entry": None}

    def build_plane() -> dict:
        job, snap = _snapshot()
        view = (snap or {}).get("view") or {}
        # a turn-end publish may keep the last view (the costly part): then keep its drawing too
        last = plane["view"]
        if not view or last is None or len(last) != len(view) or any(view.get(k) is not v for k, v in last.items()):
            plane["entry"] = live_canvas.live_payload([("gan2d_plane", _plane_figure(snap, shown, preview))])[0]
            plane["view"] = dict(view) if view else None
        state_now = "gone" if job is None else "running" if pausing(job) else job.status
        return {"state": state_now, "status": status_record(job, snap),
                "figures": [plane["entry"]], "poll_ms": round(1000 * _poll_s())}

    def build_charts() -> dict:
        _, snap = _snapshot()
        return {"figures": live_canvas.live_payload(_chart_figures(snap)) if snap else [],
                "poll_ms": round(1000 * _poll_s())}

    # a rerun with the same options keeps the feeds (and their caches) as they are
    return (live_feed.publish(SESSION, "gan2d_plane", build_plane, changed,
                              options=(job_id, tuple(shown), ctx.instructor, signature, ctx.palette.name)),
            live_feed.publish(SESSION, "gan2d_charts", build_charts, changed, options=(job_id, ctx.instructor, ctx.palette.name)))


def live_feeds_view(job, shown: list[str]) -> None:
    """While a job is queued or trains: the status line and the plane, and the charts below the
    columns, fetched by the browser from the live feeds (no reruns). When the feed says the job
    stopped, the component's "ended" trigger reruns this fragment, which reruns the page."""
    plane_token, charts_token = _publish_feeds(job.id, shown)
    poll = _poll_s()
    live_canvas.show_live_figures(key="gan2d_plane_live", feed=plane_token, poll_s=poll,
                                  status_height=_status_height())
    with over_time:
        with st.container():
            live_canvas.show_live_figures(key="gan2d_charts_live", feed=charts_token, poll_s=poll,
                                          columns=1 if ctx.instructor else 2)
            st.caption("Drawn live while training; pause for interactive charts (hover, zoom, download).")


@st.fragment(run_every=REFRESH_NOW if running and not FEED else None)
def live_view() -> None:
    """The status, the plane (left column) and the charts over time (the container below the
    columns): from the live feeds while training (``FEED``), else one fragment polls the job and
    redraws all of them, one rerun per refresh and one snapshot for all."""
    started = time.perf_counter()
    shown = layer_toggles()
    job = _job()
    if FEED and live_job(job):
        live_feeds_view(job, shown)
    else:
        box = _status_box()
        with box:                        # a single step's spinner where its result will show
            take_pending_step()
        snap = _current_snapshot()
        # while training the figures go to the live canvas (a Plotly redraw of five figures cost the
        # browser 0.5-1 s per refresh); paused, stopped or finished: the interactive Plotly figures
        live = bool(job is not None and (job.status == "running" or pausing(job)) and snap and snap.get("view"))
        plane_view(job, snap, live, shown, box)
        with over_time:                  # written on every run (also without data): a stable position
            with st.container():
                charts_view(snap, live)
    gj.log.debug("gan2d live fragment: %.0f ms", 1000 * (time.perf_counter() - started))
    # The job ended or was paused elsewhere (e.g. timeout): one full rerun switches polling off.
    if running and not live_job(job):
        st.rerun()


with left:
    live_view()


common.explain(
    "**How KL and JS are measured** (as GAN Lab does): both the real points and 2000 fakes from a fixed "
    f"noise sample are binned into a {gj.KL_BINS}×{gj.KL_BINS} grid over the plotted square; empty cells "
    "get probability 10⁻⁶, then KL(p_real ‖ p_fake) = Σ p log(p/q) and JS = ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2 "
    "(JS ≤ ln 2 ≈ 0.69). For ring8 / grid25 a mode is *covered* when at least 20 of 2500 samples lie within "
    "3 standard deviations of it; *high-quality share* = fraction of samples within 3 std of some mode."
)

# --------------------------------------------------------------------------- #
# Minimax vs non-saturating
# --------------------------------------------------------------------------- #
with st.expander("Why the slide's minimax loss stalls early (minimax vs non-saturating)",
                 expanded=(loss == "minimax")):
    snap = _current_snapshot()
    d_fake_now = _last(snap["history"]["d_fake"]) if snap else None
    common.show_figure(gf.saturation_figure(d_fake_now, loss=loss, height=340, palette=ctx.palette), key="gan2d_saturation")
    common.explain(
        "Write D = σ(a) with a the discriminator's logit. The slide's generator loss log(1 − D(G(z))) "
        "has gradient −D(G(z)) with respect to a: when D confidently rejects the fakes — which is exactly "
        "the start of training, D(G(z)) ≈ 0 — G gets almost no gradient and **stalls**. The non-saturating "
        "loss −log D(G(z)) (Goodfellow et al. 2014, §3) has the same fixed point but gradient −(1 − D(G(z))) ≈ −1 "
        "there. Try it: Reset, "
        "pick *minimax (slide)*, raise k to 5 so D wins early, and compare loss_G and the arrows with "
        "*non-saturating*."
    )

# --------------------------------------------------------------------------- #
# Replay a training (this page's, or a shipped demo's); compare two settings (issue 21)
# --------------------------------------------------------------------------- #
from dashboard import gan2d_compare, replay_section  # noqa: E402  (only once the page got here)

DEMO_REPLAYS = (
    ("gan-ring8-vanilla", "Demo: vanilla GAN, ring8", "The shipped vanilla run on ring8 (6 000 steps): scrub back "
     "or press ▶ Play to see the fakes jump between the eight modes while D's map chases them."),
    ("gan-ring8", "Demo: stabilised GAN, ring8", "The shipped stabilised run (clustered z, z + MLP(z), EMA of G): "
     "all eight modes."),
    ("gan-grid25", "Demo: stabilised GAN, grid25", "The shipped stabilised run on the 25-mode grid."),
)


def _replay_sources() -> list:
    sources = []
    live, job = _live(), _job() if state[SS + "job_id"] else None
    busy = job is not None and job.active and job.status != "paused"
    if live is not None and live.recorded is not None and len(live.recorded) >= 2 and not busy:
        recorded = live.recorded
        sources.append(replay_section.ReplaySource(
            "page", "Your training on this page", lambda: recorded, f"page:{id(live)}:{recorded.steps[-1]}",
            title="2D GAN (this page)", note="What this page trained so far (its recorded frames; Train continues it)."))
    return sources + replay_section.demo_sources(DEMO_REPLAYS)


replay_section.replay_section(_replay_sources(), palette=ctx.palette, metrics=("loss_d", "loss_g"),
                              heading="Replay a training")
gan2d_compare.compare_section(
    dict(preset=preset, width=width, layers=layers, noise_dim=noise_dim, noise=noise, seed=int(seed),
         lr_d=lr_ok(state.get("lr_d", DEFAULTS["lr_d"])) or DEFAULTS["lr_d"],
         lr_g=lr_ok(state.get("lr_g", DEFAULTS["lr_g"])) or DEFAULTS["lr_g"],
         k_disc=max(1, int(state.get("k", 1))), loss=state.get("loss", DEFAULTS["loss"]),
         optimizer_d=state.get("opt_d", "adam"), optimizer_g=state.get("opt_g", "adam")),
    dataset=dataset, points=points, palette=ctx.palette, session_id=SESSION, manager=manager,
    height=PLANE_HEIGHT_INSTRUCTOR if ctx.instructor else 440)

common.copy_link_button()
