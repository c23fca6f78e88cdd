"""Image editing with a VAE (issue 9): the lecture's inpainting, uncropping and super-resolution,
with a trained VAE as the image prior.

* Pick a test digit and hide part of it (a half: uncropping; the centre or a rectangle dragged on the
  picture: inpainting), or shrink it to 4x4 (super-resolution).
* Latent optimization fills it in: z* = argmin ‖A(decode(z)) − y‖² + λ‖z‖² from several random
  starts (genlab.editing); a conditional VAE trained on random masks does it in one pass.
* The digit classifier reads every result; "Score the test split" measures how often it still reads
  the right digit, against the masked input / bilinear upsampling.

Models: the VAE with these settings from the user's run store, else the shipped demo
(genlab.demos), else trained in the background (genlab.jobs) with progress; the conditional VAE is
trained once (under a minute) and cached on disk. Every setting is in the URL.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from dashboard import common
from dashboard import predict
from dashboard.figures import editing as ef
from genlab import editing as ed
from genlab.errors import GenlabError
from genlab.jobs import get_job_manager

TITLE = "Image editing with a VAE"
ctx = common.setup_page(TITLE)
from dashboard.tour import tour_box  # noqa: E402  (the guided walk: before the controls, it sets them)
tour_box("image_editing")

SS = "_edit_"
LATENT_DIMS = (2, 8, 16)
VAE_EPOCHS = 100                     # the latent pages' default run length (and the shipped demos')
LAMBDAS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
TASKS = ("inpaint", "superres")
TASK_LABELS = {"inpaint": "Inpainting & uncropping (hide part of the digit)",
               "superres": "Super-resolution (4×4 → 8×8)"}
HEADINGS = {"top": "the top half", "bottom": "the bottom half", "left": "the left half", "right": "the right half",
            "center": "the centre square", "rectangle": "the rectangle"}
MASK_LABELS = {"top": "top half", "bottom": "bottom half", "left": "left half", "right": "right half",
               "center": "centre square", "rectangle": "a rectangle (drag on the picture)"}
EVAL_SIZES = (60, 120, 360)
CVAE_CONFIG = ed.ConditionalVAEConfig()
REFRESH_S = 1.0


@st.cache_resource(show_spinner=False)
def _score_cache() -> dict:
    """Test-split scores already computed in this server (shared by all sessions)."""
    return {}


@st.cache_data(show_spinner=False)
def _vae_config(latent_dim: int) -> dict:
    """The full config_dict() of the VAE the page uses (the CLI's, the latent pages' and the demos'
    settings: β = 1, one sample, 100 epochs, seed 0), so an existing run with it is found."""
    from genlab.train.registry import build_trainer

    options = {"latent_dim": int(latent_dim), "epochs": VAE_EPOCHS, "seed": 0, "beta": 1.0, "mc_samples": 1}
    return build_trainer("vae", "digits", options).config_dict()


def _store():
    from genlab.runs import RunStore

    return RunStore()


def _resolve(config: dict):
    """(run, source) of a finished VAE with exactly these settings: the user's store, else a demo."""
    from genlab import demos

    try:
        return demos.resolve_run(config, _store(), exact_demo=True)
    except GenlabError:
        return None, None


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_vae(run_path: str, stamp: int):
    from genlab.runs import Run
    from genlab.train.recording import load_trainer

    return load_trainer(Run(run_path))


@st.cache_resource(show_spinner=False)
def _test_split():
    from genlab.data import load_image_dataset

    test = load_image_dataset("digits", "test")
    return test.images, test.labels.numpy()


def _vae_name(config: dict) -> str:
    from genlab.runs import config_hash

    return f"edit-vae-digits-K{config['model_config']['latent_dim']}-{config_hash(config)[:10]}"


def _rerun_once(job) -> None:
    """A polling fragment saw its job end: rerun the whole page once (never in a loop)."""
    if state.get(SS + "reran") != job.id:
        state[SS + "reran"] = job.id
        st.rerun()


def prepare_models(ctx_job, config: dict, cvae_config: ed.ConditionalVAEConfig) -> str:
    """Job: train the VAE into the run store unless a finished one exists, then the conditional VAE
    (unless cached). Progress: the VAE is the first half, the conditional VAE the second."""
    from genlab.train.recording import train_run
    from genlab.train.registry import trainer_class

    run, _ = _resolve(config)
    if run is None:
        store = _store()
        existing = store.find_by_config(config)
        run = existing if existing is not None else store.create(_vae_name(config), config, resume=True)
        trainer = trainer_class("vae").from_config(config)
        target = int(trainer.default_steps)

        def on_row(row) -> None:
            ctx_job.set_progress(0.5 * row["step"] / target, f"training the VAE: step {row['step']:,} of {target:,}")

        status = train_run(trainer, run, target, should_stop=ctx_job.should_stop, on_row=on_row)
        if status != "finished":
            return status

    def progress(step, total, loss) -> None:
        ctx_job.set_progress(0.5 + 0.5 * step / total, f"training the conditional VAE: step {step:,} of {total:,}")

    model = ed.get_conditional_vae(cvae_config, progress=progress, should_stop=ctx_job.should_stop)
    return "finished" if model is not None else "stopped"


def score_job(ctx_job, vae, cvae, n: int, fit: dict, key, cache: dict) -> str:
    """Job: the test-split scores (every mask kind, then super-resolution) into ``cache[key]``."""
    images, labels = _test_split()
    x, y = images[:n], labels[:n]
    kinds = ed.EVAL_KINDS
    total = len(kinds) + 1
    rows = []
    for i, kind in enumerate(kinds):
        if ctx_job.should_stop():
            return "stopped"
        ctx_job.set_progress(i / total, f"scoring: {MASK_LABELS[kind]} ({i + 1} of {total})")
        rows += ed.evaluate_editing(vae, x, y, kinds=(kind,), cvae=cvae, **fit)
    ctx_job.set_progress(len(kinds) / total, f"scoring: super-resolution ({total} of {total})")
    sr = ed.evaluate_super_resolution(vae, x, y, **fit)
    cache[key] = {"rows": rows, "sr": sr, "n": n}
    return "finished"


SESSION = common.job_session()
manager = get_job_manager()
state = st.session_state
state.setdefault(SS + "job", None)
state.setdefault(SS + "score_job", None)

common.explain(
    "The VAE's decoder maps a code z to a digit, so it is a **prior over digits**. To fill in a digit we only "
    "partly see, search for the code whose decoded image agrees with the part we *can* see — the visible pixels "
    "(inpainting, uncropping) or the 4×4 average-pooled image (super-resolution) — while staying likely under "
    "p(z) = N(0, I):  \n"
    "&nbsp;&nbsp;&nbsp;&nbsp;**z\\* = argmin ‖A(decode(z)) − y‖² + λ‖z‖²**,  "
    "A = *keep the visible pixels* or *2×2 average pooling*.  \n"
    "A **conditional VAE** does the same in one pass: its encoder and decoder also see the visible pixels and "
    "the mask, and it was trained on random masks."
)

# --------------------------------------------------------------------------- settings (top of the page)
st.markdown("**The VAE (image prior) and the latent optimization** — the same settings for every task below")
if ctx.instructor:   # projector fonts: two rows
    settings_row = st.columns(2, vertical_alignment="bottom") + st.columns(3, vertical_alignment="bottom")
else:
    settings_row = st.columns([1, 1, 1.4, 1.4, 0.9], vertical_alignment="bottom")
with settings_row[0]:
    latent_dim = common.qp_select("VAE's latent size K", "k", LATENT_DIMS, 8,
                                  help="K = 8 fills in digits far better than K = 2: two numbers cannot hold "
                                       "both the digit's identity and its style.")
with settings_row[1]:
    lam = common.qp_select("Prior weight λ", "lam", LAMBDAS, ed.DEFAULT_LAMBDA,
                           help="Objective ‖A(decode(z)) − y‖² + λ‖z‖². λ‖z‖² is −log N(z; 0, I) (×2λ): "
                                "it keeps z where the decoder has seen codes. 0 = fit the pixels only.")
with settings_row[2]:
    restarts = common.qp_slider("Random starts", "restarts", 1, 32, ed.DEFAULT_RESTARTS,
                                help="Adam is run from this many z ~ N(0, I); the lowest objective wins.")
with settings_row[3]:
    steps = common.qp_slider("Adam steps", "steps", 0, 500, ed.DEFAULT_STEPS, step=25)
with settings_row[4]:
    seed = common.qp_number("Seed", "seed", 0, 9999, 0, help="Random starts of z and the conditional VAE's draws.")
fit_kwargs = {"lam": float(lam), "restarts": int(restarts), "steps": int(steps), "lr": ed.DEFAULT_LR, "seed": int(seed)}

# --------------------------------------------------------------------------- models
# The first visit after a server start imports PyTorch, the data set and the training code here
# (seconds on a busy machine): the spinner says so.
with st.spinner("Looking for the trained VAE and conditional VAE (the first visit after a server start also "
                "loads PyTorch and the data set)…", show_time=True):
    try:
        vae_config = _vae_config(int(latent_dim))
    except GenlabError as err:
        st.error(str(err))
        st.stop()
    run, source = _resolve(vae_config)
    cvae = ed.load_conditional_vae(CVAE_CONFIG)
job = manager.get(state[SS + "job"]) if state[SS + "job"] else None
if (run is None or cvae is None) and (job is None or job.done):
    job = manager.submit(lambda c: prepare_models(c, vae_config, CVAE_CONFIG), session_id=SESSION,
                         key=f"edit-models:{_vae_name(vae_config)}", name="VAE + conditional VAE")
    state[SS + "job"] = job.id


@st.fragment(run_every=REFRESH_S if (run is None or cvae is None) else None)
def model_status() -> None:
    job = manager.get(state[SS + "job"]) if state[SS + "job"] else None
    if run is not None:
        from genlab import demos

        st.caption(demos.source_message(run, source, vae_config) + " Conditional VAE: "
                   + ("trained and cached." if cvae is not None else "training (under a minute)."))
    if job is None or (run is not None and cvae is not None):
        return
    if job.status == "failed":
        st.error(f"Training failed: {job.error}")
        return
    if job.status == "queued":
        st.warning(f"The server is busy: {job.jobs_ahead() or 0} job(s) ahead of yours. It starts automatically.")
        return
    st.progress(job.progress, text=job.message or "starting")
    if job.done:
        _rerun_once(job)


model_status()
if run is None:
    st.info("The page needs a trained VAE with these settings; it is being trained now (progress above). "
            "Everything appears when it is done.")
    common.copy_link_button()   # the page ends here until the VAE is trained: the link is still at its bottom
    st.stop()
with st.spinner("Loading the VAE and the test digits…", show_time=True):
    vae = _load_vae(str(run.path), run.checkpoint_path.stat().st_mtime_ns)
    images, labels = _test_split()

# --------------------------------------------------------------------------- task and digit
top = st.columns([2.2, 1, 1], vertical_alignment="bottom")
with top[0]:
    task = common.qp_radio("Task", "task", TASKS, "inpaint", format_func=TASK_LABELS.get, horizontal=True)
with top[1]:
    index = common.qp_number("Test digit #", "digit", 0, len(images) - 1, 0,
                             help=f"One of the {len(images)} test digits (the VAE never trained on them).")


def _random_digit() -> None:
    value = int(np.random.default_rng().integers(len(images)))
    state["digit"] = value
    st.query_params["digit"] = str(value)


with top[2]:
    st.button("Random digit", icon=":material/casino:", on_click=_random_digit, width="stretch")
index = int(index)
x = images[index:index + 1]
label = int(labels[index])


def _reading(image) -> tuple[int, float]:
    probs = ed.classifier_probabilities(image)[0]
    return int(probs.argmax()), float(probs.max())


def _caption(image) -> str:
    digit, p = _reading(image)
    mark = "✓" if digit == label else "✗"
    color = ctx.palette.right if digit == label else ctx.palette.wrong
    return f"<span style='color:{color}'>{mark} reads {digit} ({p:.0%})</span>"


def _vae_from_key(run_key: str):
    path, stamp = run_key.rsplit("|", 1)
    return _load_vae(path, int(stamp))


@st.cache_data(show_spinner=False, max_entries=64)
def _inpaint(run_key: str, index: int, mask_bytes: bytes, fit: tuple) -> dict:
    mask = torch.from_numpy(np.frombuffer(mask_bytes, dtype=np.float32).reshape(1, 1, 8, 8).copy())
    completed, fit_out = ed.inpaint_latent(_vae_from_key(run_key), images[index:index + 1], mask, **dict(fit))
    return {"completed": completed.numpy(), "all": fit_out.all_images.numpy(), "objectives": fit_out.all_objectives.numpy(),
            "best": int(fit_out.best[0]), "history": fit_out.history, "data": float(fit_out.data_term[0]),
            "prior": float(fit_out.prior_term[0])}


@st.cache_data(show_spinner=False, max_entries=64)
def _superres(run_key: str, index: int, fit: tuple) -> dict:
    low = ed.downsample(images[index:index + 1])
    high, fit_out = ed.super_resolve_latent(_vae_from_key(run_key), low, **dict(fit))
    return {"low": low.numpy(), "high": high.numpy(), "all": fit_out.all_images.numpy(),
            "objectives": fit_out.all_objectives.numpy(), "best": int(fit_out.best[0]), "history": fit_out.history}


def _short(image) -> str:
    digit, p = _reading(image)
    mark = "✓" if digit == label else "✗"   # the mark as well as the colour: colour alone is not enough
    color = ctx.palette.right if digit == label else ctx.palette.wrong
    return f"<span style='color:{color}'>{mark} {digit} · {p:.0%}</span>"


INPAINT_OPTIONS = ("Both", "Only latent optimization", "Only the VAE encoder on the masked digit", "Neither")


def inpaint_question(reading_encoder: tuple[int, float], reading_latent: tuple[int, float], digit: int,
                     hidden: str) -> predict.Prediction:
    """Ask which completion the classifier will read as the right digit; the answer is the
    classifier's reading of the two completions the page just computed."""
    encoder_right, latent_right = reading_encoder[0] == digit, reading_latent[0] == digit
    answer = (0 if encoder_right and latent_right else 1 if latent_right
              else 2 if encoder_right else 3)
    reasons = (
        "Both completions look enough like the digit: the visible part leaves little doubt here.",
        "The encoder never saw holes, so it takes the black pixels as part of the digit; latent optimization only "
        "asks the decoder to match the visible pixels and fills in the rest from what digits look like.",
        f"Here latent optimization found a code whose decoded digit, a {reading_latent[0]}, matches the visible "
        "pixels just as well: several digits share them. The encoder's guess happened to be right.",
        "The visible part fits other digits as well as this one, and both methods picked another.",
    )
    why = (f"The classifier reads the encoder's version as a {reading_encoder[0]} ({reading_encoder[1]:.0%}) and "
           f"latent optimization's as a {reading_latent[0]} ({reading_latent[1]:.0%}); the digit is a {digit}. "
           f"{reasons[answer]} See the panels below; other digits and masks can go either way (*Score the test "
           "split* counts how often each method reads right).")
    return predict.predict(
        "edit-inpaint", f"This digit is a {digit} and {hidden} is hidden. Two ways to fill it in: the VAE's encoder "
        "and decoder run on the masked digit, or latent optimization. Which result will the classifier read as "
        f"a {digit}?", INPAINT_OPTIONS, answer=answer, why=why)


SUPERRES_OPTIONS = ("Bilinear upsampling", "Latent optimization", "About the same")
SAME_MSE = 0.05       # MSEs within 5 % of each other count as the same


def superres_question(mse_bilinear: float, mse_latent: float, digit: int) -> predict.Prediction:
    """Ask which 8×8 reconstruction will be closer to the original, from the two MSEs the page computed."""
    answer = 2 if abs(mse_bilinear - mse_latent) <= SAME_MSE * max(mse_bilinear, mse_latent) \
        else 0 if mse_bilinear < mse_latent else 1
    reasons = (
        "Here the digit latent optimization drew is sharp but a little off the original's strokes, and squared "
        "error punishes a misplaced stroke more than the blur of bilinear upsampling.",
        "Bilinear upsampling can only smooth the 4×4 blocks; the VAE knows what digits look like, so among all "
        "8×8 images whose 2×2 averages match it picks one that looks like a digit.",
        "The two are about as far from the original: bilinear by blur, latent optimization by its own version of "
        "the strokes.",
    )
    why = (f"Mean squared error to the original 8×8 digit: bilinear {mse_bilinear:.4f}, latent optimization "
           f"{mse_latent:.4f}. {reasons[answer]} See the panels below.")
    return predict.predict(
        "edit-superres", f"Only the 4×4 average-pooled image of this {digit} is seen. Which 8×8 reconstruction "
        "will be closer to the original (lower mean squared error)?", SUPERRES_OPTIONS, answer=answer, why=why)


def _restarts_and_history(result: dict, prefix: str) -> None:
    """Every random start's decode(z*) (best first, framed) and the convergence curve."""
    order = np.argsort(result["objectives"][0])
    restart_panels = [{"title": f"start {int(i) + 1}", "image": result["all"][0, int(i), 0],
                       "caption": f"{result['objectives'][0, int(i)]:.3f}"} for i in order[:12]]
    c1, c2 = st.columns([2, 1], gap="medium")
    with c1:
        st.markdown("**Each random start's decode(z)** and its objective — best first (framed)")
        common.show_figure(ef.panels_figure(restart_panels, height=height - 60, highlight=0, palette=ctx.palette),
                           key=SS + prefix + "restarts")
    with c2:
        st.markdown("**Objective** (mean over starts of the best so far)")
        common.show_figure(ef.convergence_figure(result["history"], height=height - 60, title=None, palette=ctx.palette),
                           key=SS + prefix + "history")


run_key = f"{run.path}|{run.checkpoint_path.stat().st_mtime_ns}"
fit_key = tuple(sorted(fit_kwargs.items()))
height = 330 if ctx.instructor else 270

# --------------------------------------------------------------------------- inpainting / uncropping
if task == "inpaint":
    def _on_box() -> None:
        event = state.get(SS + "picker") or {}
        points = (event.get("selection") or {}).get("points") or []
        cells = [(int(round(p["y"])), int(round(p["x"]))) for p in points if "x" in p and "y" in p]
        if not cells:
            return
        rows_sel = [r for r, _ in cells]
        cols_sel = [c for _, c in cells]
        r0, r1, c0, c1 = min(rows_sel), max(rows_sel), min(cols_sel), max(cols_sel)
        if (r1 - r0 + 1) * (c1 - c0 + 1) >= 64:
            state[SS + "box_note"] = "That box covers the whole digit; leave some of it visible."
            return
        state["mask"] = "rectangle"
        state["rows"], state["cols"] = (r0, r1), (c0, c1)

    left, right = st.columns([1, 2.3], gap="medium")
    with left:
        picker_box = st.container()
        kind = common.qp_radio("Missing part", "mask", ed.MASK_KINDS, "bottom", format_func=MASK_LABELS.get)
        rows = cols = None
        if kind == "rectangle":
            rows = common.qp_slider("Missing rows (0 = top)", "rows", 0, 7, (2, 5))
            cols = common.qp_slider("Missing columns (0 = left)", "cols", 0, 7, (2, 5))
        note = state.pop(SS + "box_note", None)
        if note:
            st.warning(note)
        try:
            rect = (rows[0], rows[1] + 1, cols[0], cols[1] + 1) if kind == "rectangle" else None
            mask = ed.make_mask(kind, 8, rect)
        except GenlabError as err:
            st.error(str(err))
            mask = ed.make_mask("bottom")
    with picker_box:
        st.markdown(f"**Test digit #{index}** (a {label}) — drag a box to hide it")
        common.show_figure(ef.mask_picker_figure(x[0, 0].numpy(), mask[0, 0].numpy(),
                                                 height=380 if ctx.instructor else 300, palette=ctx.palette),
                           key=SS + "picker", on_select=_on_box, selection_mode=("box",))
        st.caption(f"{ctx.palette.missing_name.capitalize()} = missing. Drag a box over the digit to hide that rectangle (it goes into the link).")
    with right:
        try:
            with st.spinner(f"Latent optimization: {int(restarts)} random starts × {int(steps)} Adam steps…",
                            show_time=True):
                result = _inpaint(run_key, index, mask.numpy().astype(np.float32).tobytes(), fit_key)
        except GenlabError as err:
            st.error(str(err))
            st.stop()
        masked = (x * mask).numpy()
        naive = vae.reconstruct(x * mask).numpy()
        panels = [
            {"title": "original", "image": x[0, 0].numpy(), "caption": _caption(x)},
            {"title": "what we<br>see", "image": masked[0, 0], "caption": _caption(masked), "outline": True},
            {"title": "VAE encoder<br>on it", "image": naive[0, 0], "caption": _caption(naive), "outline": True},
            {"title": "latent<br>optimization", "image": result["completed"][0, 0],
             "caption": _caption(result["completed"]), "outline": True},
        ]
        m_t = mask.expand(1, -1, -1, -1)
        cvae_draws = None
        if cvae is not None:
            filled = cvae.complete(x, m_t).numpy()
            panels.append({"title": "conditional<br>VAE", "image": filled[0, 0], "caption": _caption(filled), "outline": True})
            cvae_draws = cvae.complete(x, m_t, samples=8, seed=int(seed))[0].numpy()
        inpaint_asked = inpaint_question(_reading(naive), _reading(result["completed"]), label, HEADINGS[kind])
        st.markdown(f"**Filling in {HEADINGS[kind]}** (dashed box)")
        with predict.covered(inpaint_asked.revealed, "edit-inpaint"):
            common.show_figure(ef.panels_figure(panels, mask=mask[0, 0].numpy(), height=height, palette=ctx.palette),
                               key=SS + "panels")
            common.caption(f"Latent optimization: ‖m ⊙ (decode(z\\*) − x)‖² = {result['data']:.3f}, "
                           f"λ‖z\\*‖² = {result['prior']:.3f}.",
                           explanation="“VAE encoder on it” = decode(encoder(masked digit)): the encoder never saw "
                                       "holes, so it explains the black pixels as part of the digit.")
        if cvae_draws is not None:
            draws = [{"title": f"z{i + 1}", "image": cvae_draws[i, 0], "caption": _short(cvae_draws[i:i + 1]),
                      "outline": True} for i in range(len(cvae_draws))]
            st.markdown("**Conditional VAE: different completions**, z ~ N(0, I)")
            common.show_figure(ef.panels_figure(draws, mask=mask[0, 0].numpy(), height=height - 60, palette=ctx.palette),
                               key=SS + "cvae_draws")

    order = np.argsort(result["objectives"][0])
    _restarts_and_history(result, "")

# --------------------------------------------------------------------------- super-resolution
else:
    try:
        with st.spinner(f"Latent optimization: {int(restarts)} random starts × {int(steps)} Adam steps…",
                        show_time=True):
            result = _superres(run_key, index, fit_key)
    except GenlabError as err:
        st.error(str(err))
        st.stop()
    low = torch.from_numpy(result["low"])
    near = ed.upsample(low, "nearest").numpy()
    bil = ed.upsample(low, "bilinear").numpy()
    high = result["high"]

    def mse(img) -> str:
        return f"MSE {float(((img - x.numpy()) ** 2).mean()):.4f}"

    panels = [
        {"title": "original 8×8", "image": x[0, 0].numpy(), "caption": _caption(x)},
        {"title": "observed 4×4", "image": result["low"][0, 0], "caption": "2×2 averages"},
        {"title": "nearest", "image": near[0, 0], "caption": f"{_caption(near)}<br>{mse(near)}"},
        {"title": "bilinear", "image": bil[0, 0], "caption": f"{_caption(bil)}<br>{mse(bil)}"},
        {"title": "latent optimization", "image": high[0, 0], "caption": f"{_caption(high)}<br>{mse(high)}"},
    ]
    superres_asked = superres_question(float(((bil - x.numpy()) ** 2).mean()), float(((high - x.numpy()) ** 2).mean()),
                                       label)
    st.markdown("**Super-resolution:** find z with avgpool2(decode(z)) ≈ the 4×4 image")
    with predict.covered(superres_asked.revealed, "edit-superres"):
        common.show_figure(ef.panels_figure(panels, height=height + 20, palette=ctx.palette), key=SS + "sr_panels")
    _restarts_and_history(result, "sr_")
    if superres_asked.revealed:   # the answer's reason
        common.explain("Bilinear upsampling can only smooth the 4×4 blocks; the VAE knows what digits look like, so "
                       "among all 8×8 images whose 2×2 averages match, it picks one that looks like a digit.")

# --------------------------------------------------------------------------- test-split scores
st.subheader("How often does the classifier still read the right digit?")
n_eval = common.qp_select("Test digits to score", "n_eval", EVAL_SIZES, 120,
                          help="The first N digits of the test split (all ten classes). Every mask kind and "
                               "super-resolution are scored with the settings at the top of the page.")
cache = _score_cache()
score_key = (run_key, cvae is not None, int(n_eval), fit_key)
score_job_id = state[SS + "score_job"]
sjob = manager.get(score_job_id) if score_job_id else None


def _start_scoring() -> None:
    global_cache = _score_cache()
    job = manager.submit(lambda c: score_job(c, vae, cvae, int(n_eval), fit_kwargs, score_key, global_cache),
                         session_id=SESSION, key=f"edit-score:{hash(score_key)}", name="editing scores")
    state[SS + "score_job"] = job.id


scores = cache.get(score_key)
if scores is None:
    busy = sjob is not None and sjob.active
    st.button("Score the test split", icon=":material/fact_check:", on_click=_start_scoring, disabled=busy,
              help="Runs in the background: about a second per digit and mask kind on a busy CPU.")


@st.fragment(run_every=REFRESH_S if (sjob is not None and sjob.active) else None)
def score_status() -> None:
    job = manager.get(state[SS + "score_job"]) if state[SS + "score_job"] else None
    if job is None or score_key in _score_cache():
        return
    if job.status == "failed":
        st.error(f"Scoring failed: {job.error}")
    elif job.active:
        st.progress(job.progress, text=job.message or "queued")
    if job.done:
        _rerun_once(job)


score_status()
if scores is not None:
    rows = scores["rows"]
    cats = [MASK_LABELS[r.kind] for r in rows] + ["super-resolution"]
    sr = scores["sr"]
    series = {
        "original": [r.acc_original for r in rows] + [sr.acc_original],
        "masked": [r.acc_masked for r in rows] + [None],
        "bilinear": [None] * len(rows) + [sr.acc_bilinear],
        "latent": [r.acc_latent for r in rows] + [sr.acc_latent],
        "cvae": [r.acc_cvae for r in rows] + [None],
    }
    if cvae is None:
        series.pop("cvae")
    common.show_figure(ef.accuracy_figure(cats, series, height=420 if ctx.instructor else 380,
                                          title=f"Classifier accuracy on {scores['n']} test digits", palette=ctx.palette),
                       key=SS + "scores")
    import pandas as pd

    table = pd.DataFrame({
        "task": cats,
        "masked input / bilinear": [f"{r.acc_masked:.0%}" for r in rows] + [f"{sr.acc_bilinear:.0%}"],
        "latent optimization": [f"{r.acc_latent:.0%}" for r in rows] + [f"{sr.acc_latent:.0%}"],
        "conditional VAE": [("—" if r.acc_cvae is None else f"{r.acc_cvae:.0%}") for r in rows] + ["—"],
        "MSE baseline": [f"{r.mse_masked:.3f}" for r in rows] + [f"{sr.mse_bilinear:.4f}"],
        "MSE latent opt.": [f"{r.mse_latent:.3f}" for r in rows] + [f"{sr.mse_latent:.4f}"],
        "MSE cond. VAE": [("—" if r.mse_cvae is None else f"{r.mse_cvae:.3f}") for r in rows] + ["—"],
    })
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("MSE: inpainting/uncropping on the missing pixels only; super-resolution on all 64 pixels. "
               "The classifier reads the untouched digits with the accuracy in the first bar.")

common.explain(
    "**Reading the results.** Blacking out half a digit often leaves the classifier guessing; a completion "
    "that the VAE's prior makes look like a whole digit gives most of the accuracy back. Latent optimization "
    "needs no extra training but runs Adam for every image; the conditional VAE was trained for this job "
    "(random masks) and answers in one pass — and its different z give different plausible completions. "
    "Super-resolution works the same way with A = 2×2 average pooling."
)
common.copy_link_button()
