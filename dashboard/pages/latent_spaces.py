"""Latent spaces — autoencoder vs VAE (issue 4): the lecture's "latent space is sparse" argument.

An AE and a VAE of the same architecture are trained on the same data (dashboard.latent_jobs,
in a background job through genlab.jobs; this script only draws). Stored runs with the same
settings are loaded instantly; the default settings train by themselves on the first visit.
Every control lives in the URL (common.qp_*).
"""
from __future__ import annotations

import math

import numpy as np
import streamlit as st
from dashboard import common
from dashboard import latent_jobs as lj
from dashboard import predict
from dashboard.figures import latent as lf
from genlab.errors import GenlabError
from genlab.jobs import get_job_manager

TITLE = "Latent spaces — autoencoder vs VAE"
ctx = common.setup_page(TITLE)
from dashboard.tour import tour_box  # noqa: E402  (the guided walk: before the controls, it sets them)
tour_box("latent_spaces")

SS = "_latent_"
REFRESH_S = 1.0
DATASET_LABELS = {"digits": "digits (8×8)", "mnist": "MNIST (28×28)", "fashion-mnist": "Fashion-MNIST (28×28)"}
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
PRIOR_SEED = 0
GRID_SAMPLES = 64          # prior samples shown (8 x 8); the scores use reference_size of them (360 for digits)
MAX_SLIDERS = 10
SAME_SCORE = 0.1          # Fréchet distances within 10 % of each other count as alike
D = lj.DEFAULTS
instructor = ctx.instructor
PLOT_H = 500 if instructor else 460
TITLES = ["Autoencoder (AE)", "Variational autoencoder (VAE)"]
INK = "white" if ctx.dark else "black"     # the prior's marks on the latent plots


def _pair(figures, key, height=None):
    """The AE's and the VAE's panel side by side in one figure (full width even on a projector)."""
    common.show_figure(lf.side_by_side(figures, TITLES, height=height or PLOT_H), key=key)


PRIOR_OPTIONS = ("The autoencoder's", "The VAE's", "Both about the same")


def prior_question(scores: dict | None = None, floor: float | None = None, item: str = "digit"):
    """Ask which model decodes random codes z ~ N(0, I) into better samples; the answer is read from
    the classifier's Fréchet distances of both models' prior samples (None: not trained yet)."""
    question = (f"The same random codes z ~ N(0, I) go into both decoders. Whose decoded samples will look "
                f"more like real {item}s?")
    if scores is None:
        return predict.predict("latent-prior", question, PRIOR_OPTIONS, answer=None,
                               pending="The AE and the VAE with these settings are not trained yet: the answer "
                                       "appears in section 2 (decoding samples from the prior) once they are.")
    ae, vae = scores["ae"], scores["vae"]
    if abs(ae["frechet"] - vae["frechet"]) <= SAME_SCORE * max(ae["frechet"], vae["frechet"]):
        answer = 2
    else:
        answer = 0 if ae["frechet"] < vae["frechet"] else 1
    why = (f"Classifier Fréchet distance of {ae['n']} prior samples: AE {ae['frechet']:.1f}, VAE {vae['frechet']:.1f} "
           f"(lower = closer to real {item}s, which score {floor:.1f}); mean confidence AE {ae['confidence']:.0%}, "
           f"VAE {vae['confidence']:.0%}. The AE's codes lie wherever training put them, so most draws from "
           "N(0, I) land between or away from them; the VAE's KL term packs its codes around N(0, I). Compare the "
           "two mosaics below.")
    return predict.predict("latent-prior", question, PRIOR_OPTIONS, answer=answer, why=why)


# --------------------------------------------------------------------------- #
# Session: a closed tab stops its job
# --------------------------------------------------------------------------- #
SESSION = common.job_session()
state = st.session_state
state.setdefault(SS + "auto", set())        # job keys this session started by itself (default settings)

common.explain(
    "An **autoencoder** learns a code z = f(x) only to reconstruct x: nothing says where the codes "
    "should lie, so its latent space is *sparse* — decoding a point drawn from N(0, I) usually lands "
    "between or away from the codes and gives garbage (or a copy of some training image). A **VAE** "
    "encodes q(z|x) = N(μ(x), σ²(x)) and pays KL(q(z|x) ‖ N(0, I)) for it, which packs the codes "
    "densely around the prior, so prior samples decode to plausible digits. Both models below have "
    "the same MLP architecture, data, epochs and seed."
)

# --------------------------------------------------------------------------- #
# The settings both models share, at the top of the page
# --------------------------------------------------------------------------- #
st.markdown("**The models** — the AE and the VAE share these settings; a stored run with the same settings "
            "is loaded at once")
if instructor:   # projector fonts: two rows
    settings_row = st.columns(3, vertical_alignment="bottom") + st.columns(4, vertical_alignment="bottom")
else:
    settings_row = st.columns([1.5, 1, 1, 1, 1, 1.25, 1.25], vertical_alignment="bottom")
with settings_row[0]:
    dataset = common.qp_select("Data set", "data", lj.DATASETS, D["dataset"], format_func=DATASET_LABELS.get,
                               help="MNIST / Fashion-MNIST need their files on disk (no download here).")
with settings_row[1]:
    latent_dim = common.qp_number("Latent size K", "k", None, None, D["latent_dim"], step=1,
                                  help="K = 2 shows the latent plane as it is; larger K is projected (PCA / t-SNE). "
                                       f"Allowed: {lj.LIMITS['latent_dim'][0]} to {lj.LIMITS['latent_dim'][1]}.")
with settings_row[2]:
    beta = common.qp_number("VAE's β", "beta", None, None, D["beta"], step=0.5, format="%.2f",
                            help="Weight of the VAE's KL term; at β = 1 the loss is the negative ELBO. Large β "
                                 "pushes q(z|x) onto the prior (posterior collapse). The AE has no KL term.")
with settings_row[3]:
    epochs = common.qp_number("Epochs", "epochs", None, None, D["epochs"], step=10,
                              help=f"Passes over the training split, {lj.LIMITS['epochs'][0]} to {lj.LIMITS['epochs'][1]}.")
with settings_row[4]:
    seed = common.qp_number("Seed", "seed", 0, 9999, D["seed"], help="Initial weights, batch order and ε.")


def _stop() -> None:
    """Stop the session's job -- unless other sessions watch the same (shared) job: then this
    session only leaves it and training goes on for them."""
    job = manager.get(state.get(SS + "job_id") or "")
    if job is None or not job.active:
        return
    if set(job.sessions) - {SESSION}:
        manager.release_session(SESSION)
        state[SS + "notice"] = ("Other sessions are training the same settings, so training goes on for them; "
                                "the finished runs will load here too.")
    else:
        job.stop()


def _loss_text(model_config: dict) -> str:
    """What the VAE minimises, with the decoder likelihood these settings really use."""
    if model_config.get("decoder") == "gaussian":
        sigma = float(model_config["gaussian_sigma"])
        fixed = "a learned scalar, starting at" if model_config.get("learn_sigma") else "a fixed"
        likelihood = (f"a Gaussian per pixel with {fixed} σ = {sigma:g}, p(x|z) = N(x̂(z), {sigma:g}² I) — a "
                      "simplification of the lecture's decoder N(μ_φ(z), σ²_φ(z)), which also learns σ² (why: the "
                      "ELBO page)")
    else:
        likelihood = "a Bernoulli per pixel (binary cross-entropy)"
    return ("**What the code runs.** The VAE minimises −E_q[log p(x|z)] + β·KL(q(z|x) ‖ N(0, I)), one sample of "
            "z per image; at β = 1 this is the **negative ELBO**, and ELBO = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)) "
            f"≤ log p(x). The decoder's likelihood is {likelihood}. The AE minimises the reconstruction term alone.")


# --------------------------------------------------------------------------- #
# Settings -> configs; bad input is a message, never a traceback. The first visit after a server
# start imports PyTorch here (seconds on a busy machine): the spinner says so.
# --------------------------------------------------------------------------- #
with st.spinner("Looking for stored runs with these settings (the first visit after a server start also "
                "loads PyTorch)…", show_time=True):
    manager = get_job_manager()
    try:
        settings = lj.check_settings(dataset, latent_dim, beta, epochs, 1, seed)
        lj.check_dataset_available(dataset)
    except GenlabError as err:
        st.error(str(err))
        st.stop()
    K = settings["latent_dim"]
    configs = lj.pair_configs(settings["dataset"], K, settings["beta"], settings["epochs"], settings["seed"])
    found = {model: lj.find_finished(config) for model, config in configs.items()}

common.explain(_loss_text(configs["vae"]["model_config"]))
key = lj.job_key(configs)
is_default = all(settings[name] == D[name] for name in ("dataset", "latent_dim", "beta", "epochs", "seed"))
steps_per_model = lj.expected_steps(configs["vae"])
class_names = FASHION if dataset == "fashion-mnist" else None
item = "class" if dataset == "fashion-mnist" else "digit"


def _train() -> None:
    job = lj.submit_training(manager, configs, SESSION,
                             name=f"AE + VAE · {dataset} · K={K} · β={settings['beta']:g} · {settings['epochs']} epochs")
    state[SS + "job_id"] = job.id


ready = all(run is not None for run in found.values())
job = manager.job_for_key(key)
if job is None:
    mine = manager.get(state.get(SS + "job_id") or "")
    if mine is not None and mine.key == key:
        job = mine                      # the session's ended job for these settings (finished / stopped / failed)
if job is not None and job.active:
    state[SS + "job_id"] = job.id
if not ready and job is None and is_default and key not in state[SS + "auto"]:
    state[SS + "auto"].add(key)         # once per session: a stopped default run is not restarted by itself
    _train()
    job = manager.get(state[SS + "job_id"])
training = job is not None and job.active

settings_row[5].button("Train", icon=":material/play_arrow:", type="primary", on_click=_train,
                       disabled=ready or training, key=SS + "train", width="stretch",
                       help=f"Train the AE and the VAE: {steps_per_model:,} Adam steps each, taking turns; stored in "
                            "the run store, so these settings never train twice.")
settings_row[6].button("Stop", icon=":material/stop:", on_click=_stop, disabled=not training, key=SS + "stop",
                       width="stretch", help="Stops after the current step; the checkpoint is kept and Train resumes it.")
if state.get(SS + "notice"):
    st.info(state.pop(SS + "notice"))


# --------------------------------------------------------------------------- #
# Training status (live)
# --------------------------------------------------------------------------- #
def _queue_text(job) -> str:
    ahead = job.jobs_ahead() or 0
    busy = len(manager.running())
    if ahead == 0:
        return (f"The server is busy ({busy} training job{'s' if busy != 1 else ''} running): yours is next "
                "in the queue and starts by itself.")
    return (f"The server is busy: {ahead} job{'s' if ahead != 1 else ''} ahead of you in the queue ({busy} running). "
            "Yours starts by itself; Stop cancels it.")


def _class_key() -> None:
    st.markdown(lf.class_key_html(range(10), class_names, prefix="Colour = " + item + ":",
                                   palette=ctx.palette),
                unsafe_allow_html=True)


def _live_figure(points, labels, limit=None):
    if K == 1:
        return lf.latent_strip(points[:, 0], labels, class_names=class_names, height=PLOT_H, item=item,
                               palette=ctx.palette)
    if K > 2:
        from genlab.projection import project

        points = project(points, "pca", 0)
    return lf.latent_scatter(points, labels, class_names=class_names, prior_circles=K == 2, height=PLOT_H,
                             item=item, axis_titles=("z₁", "z₂") if K == 2 else ("PC 1", "PC 2"),
                             xy_range=(-limit, limit) if limit and K == 2 else None, show_legend=False,
                             dark_background=ctx.dark, palette=ctx.palette)


def _stored_codes(model: str):
    """Codes of a model that this job does not train (its run is already stored): shown as they are."""
    run = lj.find_finished(configs[model])
    if run is None:
        return None
    loaded = lj.load_model(run, model.upper())
    return loaded.codes(), loaded.test_images()[1]


def _live_panel(model: str, info: dict, codes: dict, labels, limit):
    """(title, figure) of one model's live panel: its codes, or what it is doing instead."""
    title = dict(zip(("ae", "vae"), TITLES))[model]
    state_name = info.get("state", "waiting")
    if model in codes and labels is not None:
        return f"{title}, step {info.get('step', 0):,}", _live_figure(np.asarray(codes[model]), labels, limit)
    other = "VAE" if model == "ae" else "AE"
    if state_name == "reused":
        stored = _stored_codes(model)
        if stored is not None:     # a short title: it must fit half the width at projector font sizes
            return (f"{model.upper()}: already trained, waits for the {other}",
                    _live_figure(stored[0], stored[1], limit))
    if state_name == "waiting" and info.get("message"):
        text = f"{model.upper()} waits: {info['message']}<br>(step {info.get('step', 0):,} of {info.get('target', 0):,})"
    elif state_name == "waiting":
        text = f"{model.upper()}: preparing —<br>loading the data set and building the model…"
    else:
        text = f"{model.upper()}: {state_name}, step {info.get('step', 0):,} of {info.get('target', 0):,}"
    return f"{title}, step {info.get('step', 0):,}", lf.placeholder_figure(text, height=PLOT_H)


@st.fragment(run_every=REFRESH_S if training else None)
def live_status():
    job = manager.get(state.get(SS + "job_id") or "")
    if job is None:
        return
    if job.done:
        if training:
            st.rerun()              # finished / stopped / failed: one full rerun shows the result
        return
    if job.status == "queued":
        st.warning(_queue_text(job))
        return
    snap = job.snapshot()
    st.progress(job.progress, text=f"Training in the background ({'default settings, first visit' if is_default else 'your settings'}): "
                                   f"{job.message or 'starting'}")
    codes, labels = snap.get("codes") or {}, snap.get("labels")
    limit = lj.robust_limit(*codes.values())
    _class_key()
    models = snap.get("models") or {}
    panels = [_live_panel(model, models.get(model, {}), codes, labels, limit) for model in ("ae", "vae")]
    common.show_figure(lf.side_by_side([figure for _, figure in panels], [title for title, _ in panels],
                                       height=PLOT_H), key="live_pair")
    reused = [model.upper() for model in ("ae", "vae") if models.get(model, {}).get("state") == "reused"]
    st.caption("Live view: the encoder means of test images while the models train"
               + (" (PCA of the codes; t-SNE once training is done)." if K > 2 else ".")
               + (f" The {' and '.join(reused)} with these settings is already stored (for example a shipped "
                  "demo): it is shown as it is, and the page shows both once the other one has finished."
                  if reused else ""))


if not ready:
    if job is not None and job.status == "failed":
        st.error(f"Training failed: {job.error}")
    elif job is not None and job.status == "stopped":
        st.info("Training was stopped; its checkpoint is kept. **Train** continues from there.")
    elif job is None:
        st.info(f"These settings have not been trained yet. Press **Train** "
                f"({steps_per_model:,} steps per model; stored runs are loaded instantly next time).")
    if training:
        live_status()
    prior_question(item=item)
    common.copy_link_button()
    st.stop()

# --------------------------------------------------------------------------- #
# Both runs are stored: load them
# --------------------------------------------------------------------------- #
with st.spinner("Loading the stored AE and VAE (the first time after a server start also loads the data set "
                "and the training code)…", show_time=True):
    try:
        models = {model: lj.load_model(found[model], model.upper()) for model in ("ae", "vae")}
    except GenlabError as err:
        st.error(f"A stored run could not be loaded: {err}")
        st.stop()
ae, vae = models["ae"], models["vae"]


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


just_trained = job is not None and job.status == "finished"
# one message: trained just now / your stored runs / the shipped demos (never a demo called a stored run)
shown_demo = not just_trained and any(lj.is_demo(found[model]) for model in ("ae", "vae"))
(st.info if shown_demo else st.success)(
    f"{lj.source_text([found['ae'], found['vae']], just_trained)} — {settings['epochs']} epochs, "
    f"{ae.steps:,} steps each (training took {_seconds(ae.wall_time)} + {_seconds(vae.wall_time)}).",
    icon=":material/inventory_2:" if shown_demo else ":material/check_circle:",
)

with st.spinner("Encoding the test images…", show_time=True):
    images, labels = ae.test_images()
    codes = {"ae": ae.codes(), "vae": vae.codes()}
shown_prior = lj.prior_z(K, GRID_SAMPLES, PRIOR_SEED)   # the first of the scored draws

# --------------------------------------------------------------------------- #
# 1. The two latent spaces
# --------------------------------------------------------------------------- #
st.subheader("1 · The two latent spaces")
_class_key()
if K == 2:
    c1, c2 = st.columns([1, 1])
    with c1:
        same_axes = common.qp_toggle("Same axes for both", "same", True,
                                     help="Both plots on the same square: compare where the codes lie.")
    with c2:
        show_prior = common.qp_toggle("Show the prior N(0, I)", "prior", True,
                                      help=f"Dotted circles of radius 1, 2, 3 and the 64 prior samples decoded in section 2 ({INK} ×).")
    limit = lj.robust_limit(codes["ae"], codes["vae"])
    _pair([lf.latent_scatter(codes[model], labels, class_names=class_names, prior_circles=show_prior,
                             prior_points=shown_prior if show_prior else None,
                             xy_range=(-limit, limit) if same_axes else None, item=item, show_legend=False,
                             dark_background=ctx.dark, palette=ctx.palette)
           for model in ("ae", "vae")], key="latent_pair")
    spread = {m: float(np.sqrt((codes[m] ** 2).sum(1)).mean()) for m in codes}
    st.caption(f"Encoder means μ(x) of {len(labels)} test images. Mean distance of a code from 0: AE {spread['ae']:.2f}, VAE {spread['vae']:.2f} "
               f"(under the prior N(0, I) it is {math.sqrt(math.pi / 2):.2f}). Dotted circles: radius 1, 2, 3 of the prior; "
               f"{INK} ×: the 64 prior samples decoded in section 2. Hover a point to see its {item}.")
elif K == 1:
    _pair([lf.latent_strip(codes[model][:, 0], labels, class_names=class_names, item=item,
                            palette=ctx.palette) for model in ("ae", "vae")],
          key="latent_pair")
    st.caption(f"K = 1: the code of each of {len(labels)} test images, one row per {item}.")
else:
    c1, c2, c3 = st.columns([1.2, 1, 1])
    with c1:
        method = common.qp_radio("Projection to the plane", "proj", ("pca", "tsne"), "pca", horizontal=True,
                                 format_func={"pca": "PCA", "tsne": "t-SNE"}.get,
                                 help="PCA: the two directions of largest variance (linear). t-SNE: keeps "
                                      "neighbours together (non-linear; distances between clusters mean little).")
    with c2:
        perplexity = common.qp_slider("t-SNE perplexity", "perp", 5, 50, 30, disabled=method != "tsne")
    with c3:
        proj_seed = common.qp_number("Projection seed", "pseed", 0, 9999, 0)
    from genlab.projection import project

    projected = {}
    for model in ("ae", "vae"):
        if method == "tsne":
            with st.spinner(f"t-SNE of {len(labels)} {model.upper()} codes (cached after the first time)…"):
                projected[model] = project(codes[model], "tsne", int(proj_seed), float(perplexity))
        else:
            projected[model] = project(codes[model], "pca", int(proj_seed))
    names = ("PC 1", "PC 2") if method == "pca" else ("t-SNE 1", "t-SNE 2")
    _pair([lf.latent_scatter(projected[model], labels, class_names=class_names, item=item, axis_titles=names,
                             show_legend=False, dark_background=ctx.dark, palette=ctx.palette) for model in ("ae", "vae")],
          key="latent_pair")
    st.caption(f"{'PCA' if method == 'pca' else 't-SNE'} of the K = {K} encoder means of {len(labels)} test images. "
               f"Hover a point to see its {item}. UMAP is not offered: it is not installed on this server.")

# --------------------------------------------------------------------------- #
# 2. Sampling from the prior
# --------------------------------------------------------------------------- #
st.subheader("2 · Decoding samples from the prior z ~ N(0, I)")
with st.spinner("Scoring the prior samples with the classifier (trained once, then cached)…", show_time=True):
    from genlab import metrics

    scores = {m: models[m].prior_scores(PRIOR_SEED) for m in ("ae", "vae")}
    floor = metrics.real_floor_frechet(dataset)
prior_asked = prior_question(scores, floor, item)
common.explain(
    f"The same {GRID_SAMPLES} draws z ~ N(0, I) decoded by each model. The numbers score "
    f"{scores['ae']['n']} such draws with genlab's own {item} classifier (trained once on the training split, "
    "then cached): the **Fréchet distance** between its features of the samples and of the test split "
    "(lower = the samples look and vary like real data), and its mean **confidence** (does each sample "
    f"look like *some* {item}?)."
)
with predict.covered(prior_asked.revealed, "latent-prior"):
    metric_slots = (st.columns(2) + st.columns(2)) if instructor else st.columns(4)
    for slot, model in zip(metric_slots[:2], ("ae", "vae")):
        slot.metric(f"{model.upper()} Fréchet distance", f"{scores[model]['frechet']:.1f}",
                    help=f"Classifier Fréchet distance of {scores[model]['n']} prior samples to the test split (lower "
                         f"is better); real training images score {floor:.1f}.")
    for slot, model in zip(metric_slots[2:], ("ae", "vae")):
        slot.metric(f"{model.upper()} confidence", f"{scores[model]['confidence']:.0%}",
                    help="Mean over the samples of the classifier's largest softmax probability.")
    _pair([lf.image_mosaic(models[model].decode(shown_prior), 8) for model in ("ae", "vae")], key="prior_pair")


def _top_classes(share) -> str:
    order = np.argsort(share)[::-1][:3]
    return ", ".join(f"{lf._class_name(class_names, int(c))} {share[c]:.0%}" for c in order if share[c] > 0)


if prior_asked.revealed:   # the classifier's reading of the samples gives the answer away
    classes_seen = {m: int((scores[m]["class_share"] >= 0.02).sum()) for m in ("ae", "vae")}
    st.caption(
        f"What the classifier calls the samples — AE: {_top_classes(scores['ae']['class_share'])} … "
        f"({classes_seen['ae']} of 10 classes with at least 2 %); VAE: {_top_classes(scores['vae']['class_share'])} "
        f"… ({classes_seen['vae']} of 10). Confidence only asks whether each sample looks like *some* {item}; the "
        f"Fréchet distance also asks whether the samples vary like real data. For scale: real training images score "
        f"{floor:.1f}. Try K = 8 or 16: the AE's latent space gets sparser and its samples worse."
    )

# --------------------------------------------------------------------------- #
# 3. Exploring the latent spaces
# --------------------------------------------------------------------------- #
st.subheader("3 · Walking through the latent spaces")
# the open tab is in the URL (?walk=); only the open tab is computed (switching tabs reruns the page)
tab_grid, tab_interp, tab_trav = common.qp_tabs(["Decoded latent plane", "Interpolation", "Latent traversal"],
                                                "walk", names=("plane", "interpolation", "traversal"))

if tab_grid.open is not False:
    with tab_grid:
        if K < 2:
            st.info("With K = 1 there is no plane: use the traversal tab.")
        else:
            g1, g2, g3, g4 = st.columns(4)
            with g1:
                extent = common.qp_slider("Grid range ±", "extent", 0.5, 10.0, 3.0, step=0.5,
                                          help="The grid covers [−range, range]² of the latent plane.")
            with g2:
                n_grid = common.qp_slider("Images per side", "grid", 5, 25, 15 if dataset == "digits" else 12)
            with g3:
                spacing = common.qp_radio("Spacing", "spacing", ("linear", "quantile"), "linear", horizontal=True,
                                          help="quantile: equal steps of prior probability (the Keras VAE example), "
                                               "dense near 0.")
            dims = (0, 1)
            if K > 2:
                with g4:
                    dim_options = list(range(1, K + 1))
                    da = common.qp_select("Horizontal dimension", "gx", dim_options, 1, format_func=lambda d: f"z{d}")
                    db = common.qp_select("Vertical dimension", "gy", dim_options, 2, format_func=lambda d: f"z{d}")
                dims = (da - 1, db - 1)
            if dims[0] == dims[1]:
                st.error("Choose two different latent dimensions for the grid.")
            else:
                from genlab.latent import grid_values, latent_grid

                values = grid_values(float(extent), int(n_grid), spacing).numpy()
                _pair([lf.latent_grid_figure(latent_grid(models[model].trainer, float(extent), int(n_grid), spacing,
                                                         dims=dims).numpy(), values, dims=dims)
                       for model in ("ae", "vae")], key="grid_pair", height=PLOT_H + 40)
                note = "" if K == 2 else " The other coordinates are 0 (the prior mean)."
                common.caption("Each tile decodes one grid point (like the Keras VAE example's manifold)." + note,
                               explanation="The VAE's plane changes smoothly and every tile is a plausible image; the "
                                           "AE's codes live on their own scale, so parts of the same square decode "
                                           "to blurs.")

n_test = len(labels)
if tab_interp.open is not False:
    with tab_interp:
        i1, i2, i3 = st.columns(3)
        with i1:
            index_a = common.qp_number(f"Test image A (0–{n_test - 1})", "ia", 0, n_test - 1, 0)
        with i2:
            index_b = common.qp_number(f"Test image B (0–{n_test - 1})", "ib", 0, n_test - 1, min(5, n_test - 1))
        with i3:
            steps = common.qp_slider("Steps", "isteps", 3, 15, 9)
        from genlab.latent import interpolate

        ends = images[[int(index_a), int(index_b)]]
        t_labels = [f"{t:.2f}" for t in np.linspace(0, 1, int(steps))]
        name_a = lf._class_name(class_names, int(labels[int(index_a)]))
        name_b = lf._class_name(class_names, int(labels[int(index_b)]))
        st.caption(f"z_t = (1 − t)·μ(A) + t·μ(B): A is a {name_a}, B is a {name_b}.")
        for model, title in zip(("ae", "vae"), TITLES):
            row = interpolate(models[model].trainer, ends[0], ends[1], int(steps)).numpy()
            strip = np.concatenate([ends[:1].numpy(), row, ends[1:].numpy()])
            fig = lf.image_row(strip, ["A"] + t_labels + ["B"], title, height=250 if instructor else 190)
            common.show_figure(fig, key=f"interp_{model}")

if tab_trav.open is not False:
    with tab_trav:
        shown = min(K, MAX_SLIDERS)
        left, right = st.columns([1, 2], gap="medium")
        with left:
            st.markdown("**z** — one slider per latent dimension" + (f" (the first {MAX_SLIDERS}; the rest are 0)" if K > shown else ""))
            z_point = np.zeros(K, dtype=np.float32)
            for k in range(shown):
                z_point[k] = common.qp_slider(f"z{k + 1}", f"z{k + 1}", -4.0, 4.0, 0.0, step=0.1)
            trav_dim = common.qp_select("Sweep dimension", "tdim", list(range(1, K + 1)), 1, format_func=lambda d: f"z{d}")
        from genlab.latent import traverse

        sweep = np.linspace(-3, 3, 9)
        with right:
            point_images = np.concatenate([models[m].decode(z_point[None, :]) for m in ("ae", "vae")])
            fig = lf.image_row(point_images, ["AE", "VAE"], "decode(z) at the sliders",
                               height=320 if instructor else 260)
            common.show_figure(fig, key="trav_point")
            st.caption(f"z{int(trav_dim)} swept from −3 to 3, the other coordinates at the sliders:")
            for model, title in zip(("ae", "vae"), TITLES):
                row = traverse(models[model].trainer, z_point, int(trav_dim) - 1, sweep).numpy()
                fig = lf.image_row(row, [f"{v:+.1f}" for v in sweep], title, height=250 if instructor else 190)
                common.show_figure(fig, key=f"trav_{model}")

# --------------------------------------------------------------------------- #
# 4 · The trainings as timelines, and another β next to this one (issue 21)
# --------------------------------------------------------------------------- #
from dashboard import latent_compare  # noqa: E402  (plotly animation builders: only once the page got here)

latent_compare.replay_runs({"AE": found["ae"], "VAE": found["vae"]}, palette=ctx.palette,
                           heading="4 · Replay the training")
latent_compare.beta_compare_section(settings, palette=ctx.palette, session_id=SESSION, manager=get_job_manager)

common.copy_link_button()
