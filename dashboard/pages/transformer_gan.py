"""Transformer GAN (issue 9): TransGAN / ViTGAN on 8x8 digits, raced against DCGAN.

* From image to tokens: the digit cut into P x P patches, the token sequence with the class token.
* A race: the transformer GAN and DCGAN train side by side in one background job
  (genlab.train.race.EqualTimeRace), each for the same seconds of training time; the
  page shows both models' samples at equal training time and their Fréchet distance over time.
  A finished race is stored (run store, runs ``race-<key>-tgan`` / ``-dcgan``) and shown again
  at once for the same settings. The race of the default settings ships as a demo (``demos/``,
  made by ``python -m genlab demos``): shown at first start when the user has no race of their own.
* Inside the transformer: where the discriminator's class token [*] looks (last block's attention),
  the generator's image patch by patch, and the learned position embeddings.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import common, predict
from dashboard.figures import gan_text as gt
from dashboard.figures import transformer as tf
from genlab import configs
from genlab.errors import GenlabError
from genlab.jobs import get_job_manager
from genlab.models.transformer_gan import TransformerGANConfig
from genlab.train.race import RACE_DEFAULT_SECONDS, RACE_DEFAULTS

TITLE = "Transformer GAN"
ctx = common.setup_page(TITLE)
from dashboard.tour import tour_box  # noqa: E402  (the guided walk: before the controls, it sets them)
tour_box("transformer_gan")

SS = "_tgan_"
REFRESH_S = 1.0
PATCHES = (2, 4)
PATCH_LABELS = {2: "2×2 → 16 tokens", 4: "4×4 → 4 tokens"}
DIMS = (32, 48, 64, 96)
DEPTHS = (1, 2, 3)
HEADS = (1, 2, 4)
N_SHOW = 6          # images in the attention / patch-by-patch views
LOSSES = configs.GAN_LOSSES          # the trainer config's choices (genlab.configs)
MODEL_TITLES = {"tgan": "Transformer GAN", "dcgan": "DCGAN"}


# First visits on a busy server take seconds here (measured in bench/RESULTS.md): cached loads say what
# they do while they run; later visits hit the caches and show nothing.
@st.cache_resource(show_spinner="Loading the 8×8 test digits (first visit only)…")
def _digits():
    from genlab.data import load_image_dataset

    test = load_image_dataset("digits", "test")
    return test.images, test.labels.numpy()


@st.cache_data(show_spinner="Computing the race chart's reference lines (first visit only)…")
def _reference_lines() -> tuple[float, float]:
    from genlab import metrics

    return metrics.real_floor_frechet("digits"), metrics.gmm_baseline_frechet("digits")


def _store():
    from genlab.runs import RunStore

    return RunStore()


def _view(race, real_images) -> dict:
    """What the page draws: the race snapshot plus the transformer's inside views."""
    snap = race.snapshot()
    snap["inspect"] = race.trainers["tgan"].inspect(real_images, n_fake=N_SHOW, seed=0)
    return snap


def race_job(ctx_job, configs: dict, seconds: float, key: str, real_images) -> str:
    """Job: the equal-time race; stored in the run store when it finishes."""
    from genlab.train.race import new_race, save_race

    race = new_race(configs, seconds)

    def publish(r) -> None:
        done = min(1.0, r.training_seconds / seconds)
        steps = ", ".join(f"{name} step {t.step_count:,}" for name, t in r.trainers.items())
        ctx_job.set_progress(done, f"{r.training_seconds:,.0f} of {seconds:,.0f} s of training each ({steps})")
        ctx_job.publish(view=_view(r, real_images))

    status = race.run(should_stop=ctx_job.should_stop, on_progress=publish, progress_every_s=1.5)
    publish(race)
    ctx_job.publish(view={**_view(race, real_images), "histories": race.histories()})   # the timeline, once
    if status == "finished":
        save_race(race, _store(), key)
    return status


def _demo_store():
    from genlab.demos import demo_store

    return demo_store()


@st.cache_resource(show_spinner="Loading the stored race's two models…", max_entries=4)
def _stored_race(key: str, stamp: str, names: tuple, root: str):
    """The finished race ``key`` of the run store at ``root`` (the user's or the shipped demos')."""
    from genlab.runs import RunStore
    from genlab.train.race import load_race

    try:
        return load_race(RunStore(root), key, names)
    except GenlabError:
        return None          # a broken stored race: the page offers Train instead


def _stored_stamp(key: str, names: tuple, store) -> str | None:
    """Modification times of the stored race's checkpoints in ``store`` (None: no complete stored race)."""
    from genlab.train.race import race_run_name

    stamps = []
    for name in names:
        run_name = race_run_name(key, name)
        if not store.exists(run_name):
            return None
        run = store.open(run_name)
        if not run.has_checkpoint() or run.status().get("status") != "finished":
            return None
        stamps.append(str(run.checkpoint_path.stat().st_mtime_ns))
    return "-".join(stamps)


SESSION = common.job_session()
manager = get_job_manager()
state = st.session_state
state.setdefault(SS + "job", None)
state.setdefault(SS + "view", None)          # (key, view) of the last finished/stopped race of this session
images, labels = _digits()
real_show = images[:N_SHOW]

# --------------------------------------------------------------------------- settings (top of the page)
common.caption("**Transformer GAN** — a race is defined by these settings.")
top = st.columns([1.5, 1, 1.25, 1], vertical_alignment="bottom")
with top[0]:
    patch = common.qp_radio("Patch size P", "patch", PATCHES, RACE_DEFAULTS["patch_size"], format_func=PATCH_LABELS.get,
                            horizontal=True,
                            help="8×8 digits cut into P×P patches. 4×4 gives 4 tokens of 16 pixels each: a step "
                                 "costs half as much and each token draws a whole piece of a stroke, so it learns "
                                 "fast enough to keep up with DCGAN in a one-minute race. 2×2 gives 16 tokens of "
                                 "4 pixels (a 4×4 attention map) but learns more slowly: in 30 s tests its Fréchet "
                                 "distance was 2-3× the 4×4 model's.")
with top[1]:
    dim = common.qp_select("Token size D", "dim", DIMS, RACE_DEFAULTS["dim"])
with top[2]:
    depth = common.qp_select("Transformer blocks (G and D)", "depth", DEPTHS, RACE_DEFAULTS["depth"])
with top[3]:
    heads = common.qp_select("Attention heads", "heads", HEADS, RACE_DEFAULTS["heads"])
row = st.columns([2.3, 1.2, 1.3, 0.9], vertical_alignment="bottom")
with row[0]:
    seconds = common.qp_slider("Training time per model (s)", "seconds", 15, 900, RACE_DEFAULT_SECONDS, step=15,
                               help="Both models get exactly this much training time (inside their training "
                                    "steps), taking turns in one process, so the comparison is fair on a busy CPU.")
with row[1]:
    with_dcgan = common.qp_toggle("Race against DCGAN", "dcgan", RACE_DEFAULTS["with_dcgan"])
with row[2]:
    loss = common.qp_select("Loss (both models)", "loss", LOSSES, "non-saturating", format_func=gt.LOSS_LABELS.get,
                            help="minimax (slide): G descends log(1 − D(G(z))), the slide's game. non-saturating: "
                                 "G descends −log D(G(z)) (Goodfellow et al. 2014, §3). Both models of the race "
                                 "use it, so that the race compares architectures.")
with row[3]:
    seed = common.qp_number("Seed", "seed", 0, 9999, RACE_DEFAULTS["seed"])

common.explain(
    "**ViT on the slides:** the image is cut into P×P pixel patches, *each patch is embedded linearly*, a learned "
    "**1D positional embedding** says where it came from, and a learned **class token [\\*]** is put in front. "
    "A transformer lets every token attend to every other. ViT is a classifier, *not inherently a generative "
    "model* (the slide asks: is this even a generative model?). A GAN makes one with it: "
    "**the discriminator is such a ViT**, its real/fake score read from [\\*]'s output embedding (ViTGAN's "
    "figure; TransGAN's discriminator reads a class token too). **The generator is a transformer that, like "
    "ViTGAN's, generates the image patch by patch** — each output token is turned into the pixels of its patch. "
    "**TransGAN's** generator works differently: it starts from a small grid of tokens and **upsamples it in "
    "stages**, switching to grid self-attention once the resolution passes 32×32 (full attention over that many "
    "tokens costs too much). An 8×8 digit needs no stages: ours maps z to its token sequence with an MLP, as "
    "TransGAN's first stage does, and then emits the patches as ViTGAN does."
)

# --------------------------------------------------------------------------- 1. tokens
st.subheader("1. From an image to a sequence of tokens")
c1, c2 = st.columns([3, 1], vertical_alignment="center")
with c2:
    token_digit = common.qp_number("Test digit #", "digit", 0, len(images) - 1, 0)
with c1:
    common.show_figure(tf.patch_grid_figure(images[int(token_digit), 0].numpy(), int(patch), per_row=6 if ctx.instructor else 9,
                                            height=400 if ctx.instructor else 250, palette=ctx.palette),
                       key=SS + "patches")
g = 8 // int(patch)
border = TransformerGANConfig().patch_overlap      # the race's discriminator setting (race_configs)
common.caption(f"{g * g} patch tokens of {int(patch) ** 2} pixels, plus [\\*] at position 0 (numbers under the "
               f"tokens: their 1D positions): a sequence of "
               f"{g * g + 1}. Attention compares all {(g * g + 1) ** 2} pairs — nothing for a CPU.",
               explanation=(f"The discriminator embeds each patch with a {border}-pixel border around it "
                            "(ViTGAN's overlapping patches), so a stroke that crosses a patch border is seen "
                            "whole by one token; the generator emits the patches as drawn.") if border else "")

# --------------------------------------------------------------------------- 2. the race
st.subheader("2. Race: the transformer GAN vs DCGAN at equal training time" if with_dcgan
             else "2. Training the transformer GAN")
config_error = None
configs = key = None
try:
    from genlab.train.race import race_configs, race_key

    configs = race_configs(int(patch), int(dim), int(depth), int(heads), int(seed), bool(with_dcgan))
    for model_config in configs.values():         # the default loss leaves the configs (and the key) as they are
        model_config["train_config"]["loss"] = loss
    key = race_key(configs, float(seconds))
except GenlabError as err:
    config_error = str(err)
if config_error:
    st.error(config_error)
    common.copy_link_button()   # the page ends here: its one link, at the bottom as on every page
    st.stop()
names = tuple(configs)
# what each model of the race trains, departures marked (one line when the two lines would say the same)
summaries = {name: gt.recipe_summary(c["train_config"], c["model_config"], where="the box below", who="trains")
             for name, c in configs.items()}
if len(set(summaries.values())) == 1 and len(summaries) > 1:
    st.markdown(next(iter(summaries.values())).replace("**trains:**", "**Both models train:**", 1))
else:
    for name, line in summaries.items():
        st.markdown(line.replace("**trains:**", f"**{MODEL_TITLES[name]} trains:**", 1))
with st.expander("What trains here, and why it departs from the slide", expanded=False):
    for name, model_config in configs.items():
        st.markdown(f"**{MODEL_TITLES[name]}**\n\n" + gt.recipe_markdown(model_config["train_config"],
                                                                         model_config["model_config"]))
    st.caption("The learning-rate decay follows each model's training time: it ends when the time is up.")
job = manager.get(state[SS + "job"]) if state[SS + "job"] else None
running = job is not None and job.active


def _on_train() -> None:
    job = manager.get(state[SS + "job"]) if state[SS + "job"] else None
    if job is not None and job.active:
        return
    cfg, total, k, reals = dict(configs), float(seconds), key, real_show
    new = manager.submit(lambda c: race_job(c, cfg, total, k, reals), session_id=SESSION, key=f"race:{k}",
                         name="transformer GAN race")
    state[SS + "job"] = new.id
    state[SS + "view"] = None


def _on_stop() -> None:
    job = manager.get(state[SS + "job"]) if state[SS + "job"] else None
    if job is not None and job.active:
        job.stop()
        job.wait(10)
        snap = job.snapshot()
        if snap.get("view"):
            state[SS + "view"] = (job.key, snap["view"])


def _find_stored_race(key: str, names: tuple):
    """``(race, source)``: the user's stored race for these settings (``"store"``), else the shipped
    demo race (``"demo"``, demos/), else ``(None, None)``."""
    for source, store in (("store", _store()), ("demo", _demo_store())):
        try:
            stamp = _stored_stamp(key, names, store)
        except GenlabError:
            stamp = None         # an unreadable run folder counts as no stored race
        race = _stored_race(key, stamp, names, str(store.root)) if stamp else None
        if race is not None:
            return race, source
    return None, None


stored, stored_source = _find_stored_race(key, names)
buttons = st.columns([1.3, 1, 3.7], vertical_alignment="center")
buttons[0].button("Train",
                  icon=":material/play_arrow:", type="primary", disabled=running or stored is not None,
                  on_click=_on_train, key=SS + "train", width="stretch", shortcut=gt.SHORTCUTS["train"],
                  help="Race the two models (equal training time each). " + gt.shortcut_help("train"))
buttons[1].button("Stop", icon=":material/stop:", disabled=not running, on_click=_on_stop, key=SS + "stop",
                  width="stretch", shortcut=gt.SHORTCUTS["stop"],
                  help="Stop the race and keep what it drew so far. " + gt.shortcut_help("stop"))
with buttons[2]:
    if stored_source == "demo":
        st.caption("Showing the shipped demo race (made with `python -m genlab demos`, no waiting) for exactly "
                   f"these settings (runs `race-{key}-…` in demos/). Change a setting to race your own.")
    elif stored is not None:
        st.caption(f"A stored race has exactly these settings (runs `race-{key}-…`): shown below, no training.")
    else:
        st.caption(f"Each model trains for {int(seconds)} s, taking turns step by step. Samples use fixed noise.")


def _current_view():
    job = manager.get(state[SS + "job"]) if state[SS + "job"] else None
    if job is not None and job.key == f"race:{key}":
        snap = job.snapshot()
        if snap.get("view"):
            return snap["view"], job
    if stored is not None:
        return _view(stored, real_show), None
    held = state[SS + "view"]
    if held and held[0] == f"race:{key}":
        return held[1], None
    return None, job


def _model_column(name: str, model: dict, title: str, color: str) -> None:
    st.markdown(f"<span style='color:{color};font-weight:700'>{title}</span> — step {model['step']:,}, "
                f"{model['seconds']:,.0f} s, {model['steps_per_s']:,.1f} steps/s", unsafe_allow_html=True)
    st.image(tf.image_grid(model["samples"], nrow=8, target_width=520), width="stretch", clamp=True)
    fd = model.get("frechet_distance")
    st.metric("Fréchet distance (classifier features)", "—" if fd is None or not np.isfinite(fd) else f"{fd:,.1f}",
              help="FID's formula on the genlab digit classifier's features: 360 samples vs the test split. "
                   "Lower is better.")


@st.fragment(run_every=REFRESH_S if running else None)
def race_view() -> None:
    view, job = _current_view()
    if job is not None and job.status == "failed":
        st.error(f"Training failed: {job.error}")
    elif job is not None and job.status == "queued":
        st.warning(f"The server is busy: {job.jobs_ahead() or 0} job(s) ahead of yours. It starts automatically.")
    elif job is not None and job.active:
        st.progress(job.progress, text=job.message or "starting")
    if view is None:
        if job is None or not job.active:
            st.info("Press **Train** to race the two models (or change the settings to a stored race).")
        return
    models = view["models"]
    cols = st.columns(len(models), gap="medium")
    titles = {"tgan": ("Transformer GAN", ctx.palette.tgan), "dcgan": ("DCGAN", ctx.palette.dcgan)}
    for col, name in zip(cols, models):
        with col:
            _model_column(name, models[name], *titles[name])
    curves = {name: (ev["seconds"], ev["frechet_distance"]) for name, ev in view["evals"].items()}
    floor, gmm = _reference_lines()
    common.show_figure(tf.race_figure(curves, floor=floor, baseline=gmm, height=380 if ctx.instructor else 320,
                                       palette=ctx.palette), key=SS + "race")
    if running and job is not None and job.done:   # the race ended while this view polled: redraw the page
        st.rerun()


def race_question():
    """Predict, then reveal: which model wins the equal-time race? Answered by the race on the page (the
    stored or shipped one for these settings, or the student's when it ends). The race view stays
    covered until the student answers; without DCGAN there is no race to ask about."""
    if not with_dcgan:
        return None
    view, job = _current_view()
    finished = view is not None and not (job is not None and job.active)
    answer, text = gt.race_answer(view["evals"] if view else None, finished)
    return predict.predict(
        "tgan-race",
        f"Both models get the same {int(seconds)} s of training time on 8×8 digits. Which one ends the race with "
        "samples closer to the real digits (the lower Fréchet distance)?",
        gt.RACE_OPTIONS, answer=answer, why=text if answer is not None else "",
        pending=text if answer is None else None)


# --------------------------------------------------------------------------- the race, replayed (issue 21)
from dashboard import replay_section  # noqa: E402  (only once the page got here)

DEMO_REGENERATE = "python -m genlab demos --only tgan-race --force"


def _race_histories(view) -> tuple[dict, str]:
    """The shown race's timelines (model -> History or None) and why there are none ("" if there are)."""
    if stored is not None:
        return stored.histories(), stored.history_problem
    histories = (view or {}).get("histories")
    if not histories or any(h is None for h in histories.values()):
        return {}, "this race recorded no timeline (it was stopped before its first step, or recording failed)"
    return histories, ""


def _race_source() -> list:
    """The finished, stopped, stored or shipped race of these settings as one replay source (none while
    it trains)."""
    view, job = _current_view()
    if view is None or (job is not None and job.active):
        return []
    histories, problem = _race_histories(view)
    order = [name for name in ("tgan", "dcgan") if name in histories]
    side = " · ".join(f"{MODEL_TITLES[n]} {where}" for n, where in zip(order, ("left", "right")))
    note = (f"Both models' fixed-noise samples at the same **training time** ({side}). The slider counts the "
            "Transformer GAN's steps; DCGAN is shown at its recording nearest in training time.") if len(order) > 1 \
        else "The Transformer GAN's fixed-noise samples over its training."
    recorded = not problem or "before genlab recorded" not in problem
    if not recorded:
        note = ("This race was stored before genlab recorded training timelines, so it has none to replay. "
                + (f"The shipped demo race gets one when it is regenerated (`{DEMO_REGENERATE}`)."
                   if stored_source == "demo" else "Delete its runs (Runs page) and race again to record one."))

    def load():
        from genlab.race_timeline import race_timeline

        if problem:
            raise GenlabError(problem)
        return race_timeline({name: histories[name] for name in order})

    signature = "-".join(f"{n}{len(histories[n])}:{int(histories[n].steps[-1])}" for n in order) if not problem else ""
    title = "TGAN left, DCGAN right" if len(order) > 1 else "Transformer GAN"
    return [replay_section.ReplaySource("race", "This race", load, f"race:{stored_source}:{key}:{signature}", title,
                                        note, recorded=recorded)]


def race_replay() -> None:
    """'Replay the race': the race's timeline, then the Fréchet distance chart with the moment marked."""
    sources = _race_source()
    if not sources:
        return
    if not sources[0].recorded:         # one message saying why and what to do (Train may be disabled here)
        st.subheader("Replay the race")
        st.info(sources[0].note)
        return
    index = replay_section.replay_section(sources, palette=ctx.palette, heading="Replay the race")
    if index is None:
        return
    history = sources[0].load()
    moment = history.frame(index)["metrics"]
    steps = ", ".join(f"{MODEL_TITLES[name.split()[0]]} step {int(value):,}" for name, value in moment.items()
                      if name.endswith(" step"))
    st.caption(f"Shown: **{moment['train_seconds']:,.1f} s** of training each — {steps}.")
    view, _ = _current_view()
    curves = {name: (ev["seconds"], ev["frechet_distance"]) for name, ev in view["evals"].items()}
    floor, gmm = _reference_lines()
    fig = tf.race_figure(curves, title="Fréchet distance at equal training time, the shown moment marked",
                         floor=floor, baseline=gmm, height=340 if ctx.instructor else 300, palette=ctx.palette)
    fig.add_vline(x=float(moment["train_seconds"]), line=dict(color="#888", width=2, dash="dot"),
                  annotation=dict(text=f"shown: {moment['train_seconds']:,.1f} s"), annotation_position="bottom right")
    common.show_figure(fig, key=SS + "replay-race")


asked_race = race_question()
with predict.covered(asked_race is None or asked_race.revealed, "tgan-race"):
    race_view()
    race_replay()

# --------------------------------------------------------------------------- 3. inside the transformer
view, _ = _current_view()
st.subheader("3. Where does the discriminator's class token look?")
if view is None:
    st.caption("Appears once a transformer GAN has trained (press Train above).")
else:
    ins = view["inspect"]
    head_options = ["mean"] + [str(h + 1) for h in range(int(ins["heads"]))]
    head = common.qp_select("Attention head", "head", head_options, "mean",
                            help="Each head has its own query/key/value projections and attends differently.")
    head_index = None if head == "mean" else int(head) - 1
    both = np.concatenate([ins["real_images"], ins["fake_images"]])
    weights = np.concatenate([ins["real_attention"], ins["fake_attention"]])
    scores = np.concatenate([ins["real_scores"], ins["fake_scores"]])
    tags = [f"real {int(d)}" for d in labels[:len(ins["real_images"])]] + ["fake"] * len(ins["fake_images"])
    st.markdown("**[\\*]'s attention over the patches** (last block) — top row real test digits, bottom row "
                "generated ones; each digit with its attention map beside it")
    common.show_figure(tf.attention_figure(both, weights, scores, labels=tags, head=head_index, per_row=N_SHOW,
                                           height=440 if ctx.instructor else 360, projector=ctx.instructor),
                       key=SS + "attention")
    common.explain(
        "Each map is one row of the last block's attention matrix: how [\\*] — whose output becomes the "
        "real/fake score — spreads its attention over the patches (bright = looked at). "
        "D(x) is the discriminator's probability that the image is real."
    )
    T = int(np.asarray(ins["patches"]).shape[1])
    st.subheader("4. The generator draws patch by patch (as ViTGAN's does)")
    shown = common.qp_slider("Tokens shown", "tokens", 1, T, T,
                             help="Each of the generator's output tokens becomes one patch of pixels.")
    common.show_figure(tf.patch_by_patch_figure(ins["patches"], int(shown), height=300 if ctx.instructor else 240,
                                                title=f"The first {int(shown)} of {T} output tokens as pixels "
                                                      "(red: the latest)", palette=ctx.palette), key=SS + "pbp")
    with st.expander("Learned 1D position embeddings (discriminator)", expanded=False):
        common.show_figure(tf.position_similarity_figure(ins["position_similarity"],
                                                         height=460 if ctx.instructor else 380,
                                                         projector=ctx.instructor), key=SS + "pos")
        common.caption("Cell (i, j) shows how similar the embedding of patch position (i, j) is to every other "
                       "position's (red = similar).",
                       explanation="The positions are only numbered 0..T; a trained ViT often learns the 2D "
                                   "neighbourhood from the data (ViT paper, fig. 7).")

common.copy_link_button()
