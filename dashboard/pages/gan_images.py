"""Image GANs — DCGAN, conditional, PatchGAN (issue 5).

DCGAN / conditional GAN on digits (default; MNIST / Fashion-MNIST when their files are present)
with a standard or PatchGAN discriminator. Training runs in a background job
(dashboard.gan_jobs.run_image_gan) that records the run in the run store; a fragment polls the
job's snapshot twice a second. Identical settings reuse a stored run instead of training again,
and any saved run can be loaded.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import common, predict, safe_text
from dashboard import gan_jobs as gj
from dashboard.figures import gan as gf
from dashboard.figures import gan_text as gt
from genlab import configs
from genlab.errors import GenlabError
from genlab.jobs import get_job_manager
from genlab.runs import default_runs_root

TITLE = "Image GANs — DCGAN, conditional, PatchGAN"
ctx = common.setup_page(TITLE)
from dashboard.tour import tour_box  # noqa: E402  (the guided walk: before the controls, it sets them)
tour_box("gan_images")

REFRESH_S = 1.0   # the sample grid changes slowly; a cheaper page leaves more CPU to training
SS = "_ganimg_"
MODELS = ("dcgan", "cgan")
MODEL_LABELS = {"dcgan": "DCGAN (unconditional)", "cgan": "Conditional GAN p(x | y)"}
DATASETS = ("digits", "mnist", "fashion-mnist")
DATASET_LABELS = {"digits": "digits (8×8, built in)", "mnist": "MNIST (28×28)", "fashion-mnist": "Fashion-MNIST (28×28)"}
DISCS = configs.DISCRIMINATORS     # the choices are the model config's (genlab.configs)
DISC_LABELS = {"standard": "standard (one verdict per image)", "patch": "PatchGAN (one verdict per patch)"}
LOSSES = configs.GAN_LOSSES
PRESETS = ("default", "vanilla")
# each label lists what the preset turns on (genlab.train.gan_config's DCGAN_PRESETS over the image GANs' defaults)
PRESET_LABELS = {"default": "default: lazy R1, EMA of G, lr decay", "vanilla": "vanilla: Adam only, nothing added"}
NOISE_DIMS = (8, 16, 32, 64, 128)
CLASS_NAMES = {
    "fashion-mnist": ("T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                      "ankle boot"),
}


@st.cache_resource(show_spinner=False)
def _warm_up() -> bool:
    gj.warm_up_torch()   # in a thread that then freezes the heap (not on the render path: see gan_2d.py)
    return True


@st.cache_resource(show_spinner=False)
def _run_store(root: str):
    from genlab.runs import RunStore

    return RunStore(root)


@st.cache_data(show_spinner="Checking that the data set can be loaded…", ttl=30)
def _dataset_problem(name: str) -> str | None:
    """None when the data set can be loaded, else genlab's message saying what to provide."""
    from genlab.data import load_image_dataset

    try:
        load_image_dataset(name, "test", download=False)
    except GenlabError as err:
        return str(err)
    return None


SESSION = common.job_session()
_warm_up()
manager = get_job_manager()
store = _run_store(str(default_runs_root()))
state = st.session_state
state.setdefault(SS + "holder", {"live": None})
state.setdefault(SS + "job_id", None)
state.setdefault(SS + "snapshot", None)
state.setdefault(SS + "notice", None)
state.setdefault(SS + "loaded", None)      # name of the run whose model is in the holder
state.setdefault(SS + "shown", None)       # {"name", "demo", "config"} of the run the figures show
state.setdefault(SS + "sample_seed", 0)


def _job():
    job_id = state[SS + "job_id"]
    return manager.get(job_id) if job_id else None


# --------------------------------------------------------------------------- #
# Settings (top of the page, visible without scrolling): each defines the run; a stored run with
# the same settings is reused
# --------------------------------------------------------------------------- #
common.caption("**Model & data** — a run is defined by these; identical settings reuse the stored run.")
top = st.columns([1.25, 1.1, 1.45], vertical_alignment="bottom")
with top[0]:
    model = common.qp_radio("Model", "model", MODELS, "dcgan", format_func=lambda m: MODEL_LABELS[m])
with top[1]:
    dataset = common.qp_select("Data set", "data", DATASETS, "digits", format_func=lambda d: DATASET_LABELS[d])
with top[2]:
    disc = common.qp_radio("Discriminator", "disc", DISCS, "standard", format_func=lambda d: DISC_LABELS[d])
row = st.columns([1.15, 1.9, 0.85, 1.1, 0.9], vertical_alignment="bottom")   # the preset's label lists a lot
with row[0]:
    loss = common.qp_select("Loss", "loss", LOSSES, "non-saturating", format_func=gt.LOSS_LABELS.get,
                            help="minimax (slide): G descends log(1 − D(G(z))), the slide's game. "
                                 "non-saturating: G descends −log D(G(z)) (Goodfellow et al. 2014, §3).")
with row[1]:
    preset = common.qp_select("Preset", "preset", PRESETS, "default", format_func=lambda p: PRESET_LABELS[p])
with row[2]:
    noise_dim = common.qp_select("Noise dimension", "zdim", NOISE_DIMS, 32)
with row[3]:
    steps = common.qp_number("Training steps", "steps", 100, 100_000, 6000, step=500,
                             help="Total generator steps of the run (each: 1 D update + 1 G update, batch 64).")
with row[4]:
    seed = common.qp_number("Seed", "seed", 0, 9999, 0)

problem = _dataset_problem(dataset)
config = None
config_error = None
try:
    config = gj.image_config(model, dataset, preset=preset, disc=disc, loss=loss, noise_dim=int(noise_dim),
                             steps=int(steps), seed=int(seed))
except GenlabError as err:
    config_error = str(err)
run_name = gj.run_name_for(config) if config is not None else None
if config is not None:
    # what the settings above train: the loss and every addition, each departure from the slide marked
    st.markdown(gt.recipe_summary(config["train_config"], config["model_config"], where="the box below"))
    with st.expander("What trains here, and why it departs from the slide", expanded=False):
        st.markdown(gt.recipe_markdown(config["train_config"], config["model_config"]))
        st.caption("The slide's recipe is the loss *minimax (slide)* with the *vanilla* preset (still Adam: "
                   "this page offers no SGD).")


def _stored_run():
    """The stored run with exactly these settings (finished first), or None."""
    if config is None:
        return None
    try:
        return store.find_by_config(config)
    except GenlabError:
        return None


def _load_run(name: str, message: str | None = None, run=None, link: bool = True) -> None:
    """Load a stored run's model into the page (no training); ``run``: a Run of another folder
    (a shipped demo), which a ``?run=`` link cannot name (``link=False``: the banner over the
    figures then calls it the shipped demo run)."""
    from genlab.train.recording import load_trainer

    try:
        run = run if run is not None else store.open(name)
        if run.config.get("model") not in MODELS:     # e.g. a VAE run named in a ?run= link
            raise GenlabError(f"it is a {run.config.get('model')} run, and this page shows image GAN runs "
                              f"({', '.join(MODELS)}); open it on the Runs page")
        trainer = load_trainer(run)
        live = gj.ImageLive.from_run(trainer, run.read_metrics())
        if trainer.step_count and not len(live.evals.arrays()["step"]):
            live.evals.add({"step": trainer.step_count, **live.evaluate()})
        live.compute_view()
    except GenlabError as err:
        hint = (" It was trained by an older version of this model (before the 8×8 PatchGAN discriminator got "
                "its 3×3 layer): delete it on the Runs page, or pick another seed, to train these settings "
                "afresh." if "does not match its config" in str(err) else "")
        state[SS + "notice"] = ("error", f"Cannot load run {safe_text.md(name)}: {safe_text.md(err)}{hint}")
        if link and st.query_params.get("run") == name:
            del st.query_params["run"]                 # the page goes back to its own settings
        return
    state[SS + "holder"] = {"live": live}
    state[SS + "snapshot"] = live.snapshot(target=trainer.step_count, run_name=name)
    state[SS + "loaded"] = name
    state[SS + "shown"] = {"name": name, "demo": not link, "config": run.config}
    state[SS + "job_id"] = None
    if link:
        st.query_params["run"] = name      # a link to this view reopens the run
    elif "run" in st.query_params:
        del st.query_params["run"]
    if message:
        state[SS + "notice"] = ("info", message)


# --------------------------------------------------------------------------- #
# Buttons
# --------------------------------------------------------------------------- #
def _on_train() -> None:
    job = _job()
    if job is not None and job.active:
        job.resume()
        return
    if problem or config is None:
        return
    stored = _stored_run()
    if stored is not None:
        status = stored.status().get("status")
        if status == "finished":
            _load_run(stored.name, f"A stored run has exactly these settings ({stored.name}): showing it "
                                   "instead of training again.")
            return
        run = stored               # stopped / interrupted: train_run resumes from its checkpoint
        resume_note = f"Resuming the stored run {stored.name} from its checkpoint."
    else:
        try:
            run = store.create(run_name, config)
        except GenlabError as err:
            state[SS + "notice"] = ("error", str(err))
            return
        resume_note = None
    holder = {"live": None}
    state[SS + "holder"] = holder
    state[SS + "loaded"] = run.name
    state[SS + "shown"] = {"name": run.name, "demo": False, "config": dict(config)}
    if "run" in st.query_params:
        del st.query_params["run"]
    cfg, total = dict(config), int(steps)

    def factory():
        from genlab.train.gan import GANTrainer

        return GANTrainer.from_config(cfg)

    job = manager.submit(lambda c: gj.run_image_gan(c, holder, total, factory=factory, run=run),
                         session_id=SESSION, key=run.name, name=f"{model} {dataset}")
    state[SS + "job_id"] = job.id
    state[SS + "snapshot"] = None
    if resume_note:
        state[SS + "notice"] = ("info", resume_note)


def _on_pause() -> None:
    job = _job()
    if job is not None and job.active:
        job.pause()


def _on_stop() -> None:
    job = _job()
    if job is not None and job.active:
        job.stop()
        job.wait(10)
        snap = job.snapshot()
        if snap:
            state[SS + "snapshot"] = snap


job = _job()
running = job is not None and job.status in ("running", "queued")
paused = job is not None and job.status == "paused"

# ?run=<name> (a shared link to a loaded run): show that run
url_run = st.query_params.get("run")
if url_run and url_run != state[SS + "loaded"] and not (running or paused):
    try:
        store.open(url_run)
    except GenlabError as err:
        st.warning(f"The link names a run that is not here: {safe_text.md(err)}")
        del st.query_params["run"]
    else:
        _load_run(url_run)

# Nothing shown yet: a finished stored run or the shipped demo (genlab.demos) with exactly these
# settings is shown at once, without training (once per settings and session: Train still trains).
if (state[SS + "holder"].get("live") is None and job is None and not url_run and config is not None
        and not problem and state.get(SS + "auto_loaded") != run_name):
    state[SS + "auto_loaded"] = run_name
    from genlab import demos

    with st.spinner("Looking for a stored run or the shipped demo with these settings and loading its model "
                    "(no training)…"):
        found, source = demos.resolve_run(config, store, exact_demo=True)
        if found is not None:
            _load_run(found.name, demos.source_message(found, source, config), run=found, link=source == "store")

if problem:
    st.error(f"{DATASET_LABELS[dataset]} is not available on this server. {problem}")
if config_error:
    st.error(config_error)
notice = state[SS + "notice"]
if notice:
    (st.error if notice[0] == "error" else st.info)(notice[1])
    state[SS + "notice"] = None

stored = _stored_run() if not running and not paused else None
stored_status = stored.status().get("status") if stored is not None else None
train_label = "Train"
if paused:
    train_label = "Resume"
elif stored_status == "finished":
    train_label = "Show stored run"
elif stored_status in ("stopped", "interrupted"):
    train_label = "Resume stored run"

buttons = st.columns([1.8, 1.1, 1.1] if ctx.instructor else [1.4, 1, 1, 3.6], vertical_alignment="center")
buttons[0].button(train_label, icon=":material/play_arrow:", type="primary", on_click=_on_train, key=SS + "train",
                  disabled=running or bool(problem) or config is None, width="stretch",
                  shortcut=gt.SHORTCUTS["train"], help=gt.shortcut_help("train"))
buttons[1].button("Pause", icon=":material/pause:", on_click=_on_pause, disabled=not running, key=SS + "pause",
                  width="stretch", shortcut=gt.SHORTCUTS["pause"],
                  help="Pause training (Resume continues). " + gt.shortcut_help("pause"))
buttons[2].button("Stop", icon=":material/stop:", on_click=_on_stop, disabled=not (running or paused),
                  key=SS + "stop", width="stretch", shortcut=gt.SHORTCUTS["stop"],
                  help="Stop and keep the checkpoint (Train resumes it). " + gt.shortcut_help("stop"))
with (st.container() if ctx.instructor else buttons[3]):
    if stored_status == "finished" and state[SS + "loaded"] != stored.name:
        st.caption(f"Stored run with these settings: **{stored.name}** (finished) — shown at once, no training.")
    elif run_name:
        st.caption(f"Run name: `{run_name}`")

# --------------------------------------------------------------------------- #
# Load any saved run
# --------------------------------------------------------------------------- #
with st.expander("Load a saved run", expanded=False):
    infos = [i for i in store.list() if i.ok and i.model in MODELS]
    if not infos:
        st.caption("No saved image-GAN runs yet: train one and it is stored automatically.")
    else:
        labels = {i.name: f"{i.name} — {i.model} on {i.dataset}, step {i.step}, {i.status}" for i in infos}
        choice = st.selectbox("Saved runs", list(labels), format_func=labels.get, key=SS + "run_choice")
        st.button("Load", on_click=_load_run, args=(choice, f"Loaded run {choice}."), key=SS + "load",
                  disabled=running or paused)


# --------------------------------------------------------------------------- #
# Live view
# --------------------------------------------------------------------------- #
def _current_snapshot():
    job = _job()
    if job is not None:
        snap = job.snapshot()
        if snap:
            if job.done:
                state[SS + "snapshot"] = snap
            return snap
    return state[SS + "snapshot"]


def _status(job, snap) -> None:
    if job is not None and job.status == "queued":
        ahead = job.jobs_ahead() or 0
        busy = len(manager.running())
        if ahead:
            st.warning(f"The server is busy: {ahead} job{'s' if ahead != 1 else ''} ahead of you in the queue "
                       f"({busy} running). Yours starts automatically.")
        else:
            st.warning(f"The server is busy ({busy} training now): yours is next and starts automatically.")
        return
    if job is not None and job.status == "failed":
        st.error(f"Training failed: {job.error}")
        return
    if job is not None and job.active:
        if not snap:
            st.progress(0.0, text=job.message or "starting")
            return
        rate = snap.get("steps_per_s")
        eta = job.eta_seconds()
        extra = f" · {rate:,.1f} steps/s" if rate is not None and np.isfinite(rate) else ""
        if eta:
            extra += f" · about {eta:,.0f} s left"
        label = "Paused" if job.status == "paused" else "Training"
        st.progress(job.progress, text=f"{label}: step {snap['step']:,} of {snap.get('target', 0):,}{extra}")
        return
    if not snap:
        st.caption("Press Train: the run is stored as it trains (Runs page), and the same settings later "
                   "show it at once.")


def _which_run(snap) -> None:
    """The banner over the figures: which run they show (the shipped demo or the student's own,
    its settings and step) and, when the settings above no longer match it, how they differ."""
    shown = state[SS + "shown"] or {}
    name = snap.get("run_name") or shown.get("name") or state[SS + "loaded"]
    whose = "the shipped demo run" if shown.get("demo") else "your run"
    settings = f" — {safe_text.md(gj.describe_image_config(shown['config']))}" if shown.get("config") else ""
    st.markdown(f"##### Showing {whose} `{name}` at step {snap['step']:,}{settings}")
    differences = gj.image_settings_differences(shown["config"], config) if shown.get("config") and config else []
    if differences:
        after = ("Stop this run first, then press **Train**" if running or paused
                 else f"Press **{train_label}**") + " to show a run with those settings."
        st.warning("**These figures are not from the settings above** (" + "; ".join(differences) + "). " + after)


def _last(values) -> float | None:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values[-1]) if len(values) else None


@st.fragment(run_every=REFRESH_S if running else None)
def live_view() -> None:
    job = _job()
    snap = _current_snapshot()
    _status(job, snap)
    if not snap or not snap.get("view"):
        return
    _which_run(snap)
    view, hist, evals = snap["view"], snap["history"], snap["evals"]
    left, right = st.columns([1.05, 1], gap="medium")
    with left:
        if snap.get("conditional"):
            st.markdown(f"**Samples, one row per class y = 0…9** (fixed noise) — step {snap['step']:,}")
        else:
            st.markdown(f"**Samples from fixed noise** — step {snap['step']:,}")
        st.image(view.get("grid_png", view["grid"]), width="stretch")
        spread = view.get("diversity")
        if spread is not None and spread < gj.COLLAPSE_SPREAD:
            st.warning(f"**Mode collapse:** these samples vary only {spread:.0%} as much as real images of "
                       "the data set do. G has found a few images that D "
                       "cannot tell from real ones and makes little else; D's feedback (the charts on the right) "
                       "no longer separates real from fake. Try another seed, the default preset, or more steps.")
        fd = _last(evals.get("frechet_distance", []))
        acc = _last(evals.get("label_accuracy", []))
        c1, c2 = st.columns(2)
        c1.metric("Fréchet distance ↓", "—" if fd is None else f"{fd:,.1f}",
                  help="Lower is better: the FID formula on the genlab digit classifier's 64 features, "
                       "360 samples vs the test split.")
        if snap.get("conditional"):
            c2.metric("Classified as y", "—" if acc is None else f"{acc:.0%}",
                      help="Share of samples generated for class y that the digit classifier calls y.")
    with right:
        h = 250 if not ctx.instructor else 290
        common.show_figure(gf.loss_figure(hist["step"], hist["loss_d"], hist["loss_g"], height=h, palette=ctx.palette),
                           key="img_loss")
        common.show_figure(gf.d_output_figure(hist["step"], hist["d_real"], hist["d_fake"], height=h, palette=ctx.palette),
                           key="img_dout")
        common.show_figure(gf.quality_figure(evals["step"], evals["frechet_distance"], height=h,
                                            palette=ctx.palette), key="img_fd")
    if running and job is not None and job.status not in ("running", "queued"):
        st.rerun()


def _demo_eval(name: str) -> dict | None:
    """The final evaluation (status.json) of a shipped demo run; None when it is missing or unreadable."""
    from genlab.demo_match import demo_dir

    return _demo_eval_in(str(demo_dir()), name)


@st.cache_data(show_spinner=False, ttl=60, max_entries=8)
def _demo_eval_in(root: str, name: str) -> dict | None:
    # the folder is part of the cache key: GENLAB_DEMOS_DIR pointed elsewhere reads there
    from genlab.demo_match import open_demo

    try:
        return open_demo(name, root).status().get("eval") or None
    except (GenlabError, OSError):
        return None


def conditional_question() -> None:
    """Predict, then reveal: does conditioning on y help? Answered by the two shipped digit demos."""
    answer, text = gt.conditional_fd_answer(_demo_eval(gt.IMAGE_DEMOS["dcgan"]), _demo_eval(gt.IMAGE_DEMOS["cgan"]))
    predict.predict(
        "ganimg-conditional",
        "The shipped demos trained DCGAN and the conditional GAN (the label embedding e(y) appended to G's noise "
        "and to D's input) on digits for 6 000 steps each, with the same settings otherwise. Does telling both "
        "networks the class y give samples closer to the real digits?",
        gt.CONDITIONAL_OPTIONS, answer=answer, why=text if answer is not None else "",
        pending=text if answer is None else None)


conditional_question()
live_view()

snap = _current_snapshot()
live = state[SS + "holder"].get("live")
idle = not running and not paused and live is not None

# --------------------------------------------------------------------------- #
# Conditional GAN: pick a class y, sample p(x | y)
# --------------------------------------------------------------------------- #
if snap and snap.get("conditional"):
    st.subheader("Sample p(x | y): pick a class")
    names = CLASS_NAMES.get(live.trainer.dataset if live else dataset)
    y = common.qp_select("Class y", "y", list(range(10)), 3,
                         format_func=lambda v: f"{v} — {names[v]}" if names else str(v))
    c1, c2 = st.columns([3, 1])
    with c2:
        def _more() -> None:
            state[SS + "sample_seed"] += 1

        st.button("New samples", icon=":material/casino:", on_click=_more, disabled=not idle, key=SS + "more",
                  help="Fresh noise z for the same class (after training ends or is stopped).")
    with c1:
        if idle:
            samples = live.trainer.sample(32, seed=1000 + state[SS + "sample_seed"], labels=int(y))
            st.image(gf.image_grid(samples, nrow=16, target_width=900, pad_value=gj.GRID_PAD), width="stretch")
        else:
            rows = np.asarray(snap["view"]["class_rows"])
            per = len(rows) // 10
            st.image(gf.image_grid(rows[y * per:(y + 1) * per], nrow=per, target_width=900, pad_value=gj.GRID_PAD),
                     width="stretch")
            st.caption("While training: the row of the grid above for this class. New samples after training.")
    common.explain(
        "**Class-conditional GAN.** A label embedding e(y) is appended to G's noise and to D's input "
        "(tiled over the image), so D judges *is this a real image of class y?* and G learns p(x | y): "
        "classification run in reverse."
    )

# --------------------------------------------------------------------------- #
# PatchGAN: D's verdict per patch
# --------------------------------------------------------------------------- #
if snap and snap.get("patch") and snap["view"].get("patch"):
    st.subheader("PatchGAN: the discriminator's verdict per patch")
    p = snap["view"]["patch"]
    common.show_figure(gf.patch_map_figure(p["real"], p["real_maps"], p["fake"], p["fake_maps"],
                                           height=420 if ctx.instructor else 380, palette=ctx.palette,
                                           projector=ctx.instructor), key="img_patch")
    common.explain(
        "A PatchGAN discriminator is fully convolutional: instead of one real/fake probability per image it "
        "outputs a map, one probability per overlapping patch (here a 4×4 map whose cells each see a 5×5 to 7×7 "
        "window of an 8×8 digit, or a 7×7 map of 18×18 patches of a 28×28 image). On 8×8 digits, 4×4 patches "
        "were too small: every patch of a collage of strokes looked real, D said 0.5 everywhere and G "
        "collapsed onto one image (bench/RESULTS.md). The loss averages the patch votes, so G is pushed to make "
        "*every* patch "
        "look real — sharper local detail rather than a blurry average. Numbers under each image: mean D."
    )

common.explain(
    "**DCGAN**, the slide's example generator: G projects z and reshapes it, then fractionally-strided "
    "convolutions grow the image; D is a strided CNN. "
    + (gt.dcgan_scale_line(config["model_config"]) + " " if config is not None else
       "Ours is scaled down from the slide's (fewer layers, grey images). ")
    + "G and D train with Algorithm 1 (k = 1) and the loss picked above; the line under the settings marks "
    "what departs from the slide's minimax game. "
    "**Quality number:** the Fréchet distance between Gaussians fitted to the digit classifier's features "
    "of 360 samples and of the test images — FID's formula with a small classifier trained on the data set "
    "itself (Inception would be meaningless on 8×8 digits)."
)

# --------------------------------------------------------------------------- #
# The run shown, replayed (issue 21): its sample grid over training, from its history.npz
# --------------------------------------------------------------------------- #
from dashboard import replay_section  # noqa: E402  (only once the page got here)


def _replay_sources() -> list:
    snap = _current_snapshot() or {}
    shown = state[SS + "shown"] or {}
    name = snap.get("run_name") or shown.get("name") or state[SS + "loaded"]
    if not name or running:
        return []
    try:
        if shown.get("demo") and shown.get("name") == name:
            from genlab.demo_match import open_demo

            run = open_demo(name)
        else:
            run = store.open(name)
    except GenlabError:
        return []
    note = ("The fixed-noise sample grid (cGAN: one row per class) as it trained"
            + (" (PatchGAN's per-patch maps are in the GIF)." if run.config.get("model_config", {}).get("disc") == "patch"
               else "."))
    return [replay_section.run_source(f"Run {name}", run, note, id="shown")]


replay_section.replay_section(_replay_sources(), palette=ctx.palette,
                              metrics=("loss_d", "loss_g", "frechet_distance"), heading="Replay the training")
common.copy_link_button()
