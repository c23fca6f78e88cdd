"""Gaussian KL — in-class exercise (issue 3).

The lecture's exercise: which factorized q(z₁,z₂) = N(z₁|m₁,s₁²) N(z₂|m₂,s₂²)
minimizes KL(q‖p) for p = N(μ, Σ)? Students guess with sliders, the page
reveals both optima (KL(q‖p) and KL(p‖q)), animates gradient descent from the
guess, and repeats the story for a two-component mixture p (PRML Fig. 10.3).
All settings are query-param widgets; heavy numbers are cached.
"""
from __future__ import annotations

import math

import streamlit as st

from dashboard import common

TITLE = "Gaussian KL — in-class exercise"
ctx = common.setup_page(TITLE)
from dashboard.tour import tour_box  # noqa: E402  (the guided walk: before the controls, it sets them)
tour_box("gaussian_kl")
# The first visit after a server start also loads pandas and plotly: a spinner says so.
_done_building = common.first_visit_spinner()  # closed at the end
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dashboard import predict  # noqa: E402
from dashboard.figures import kl as klfig  # noqa: E402
from genlab import divergences as dv  # noqa: E402
from genlab.errors import GenlabError  # noqa: E402

URL_AT_START = {k: st.query_params.get(k) for k in st.query_params}  # before widgets clamp the values

MODES = ["Gaussian p (the exercise)", "Mixture p (PRML Fig. 10.3)"]
QP, PQ = "KL(q||p)", "KL(p||q)"
PRETTY = {QP: "KL(q‖p)", PQ: "KL(p‖q)"}
FRAMES = 24  # animation frames shown (iterates are subsampled; each frame costs plotly validation time)


def _subsample(n_iterates: int, frames: int = FRAMES) -> np.ndarray:
    """Frame indices 0..n-1, dense at the start where q moves most."""
    if n_iterates <= frames:
        return np.arange(n_iterates)
    idx = np.unique(np.round(np.geomspace(1, n_iterates - 1, frames - 1)).astype(int))
    return np.concatenate([[0], idx])


@st.cache_data(max_entries=256, show_spinner=False)
def gaussian_numbers(mu: tuple, sds: tuple, rho: float, guess_m: tuple, guess_s: tuple) -> dict:
    """Optima and KLs (of the optima and of the guess), for p = N(μ, Σ)."""
    cov = dv.bivariate_cov(sds[0], sds[1], rho)
    target = dv.GaussianMixture.gaussian(mu, cov)
    out = {"cov": cov, "lam": np.linalg.inv(cov)}
    for obj in (QP, PQ):
        m, v = dv.mean_field_gaussian(mu, cov, obj)
        s = np.sqrt(v)
        out[obj] = dict(m=m, s=s, kl_qp=dv.kl_mean_field(target, m, s, QP), kl_pq=dv.kl_mean_field(target, m, s, PQ))
    out["guess"] = dict(kl_qp=dv.kl_mean_field(target, guess_m, guess_s, QP),
                        kl_pq=dv.kl_mean_field(target, guess_m, guess_s, PQ))
    return out


@st.cache_data(max_entries=256, show_spinner=False)
def gaussian_path(mu: tuple, sds: tuple, rho: float, guess_m: tuple, guess_s: tuple, objective: str) -> dict:
    """Gradient descent from the guess, for p = N(μ, Σ). Only computed while the animation is on:
    from the default guess at ρ = −0.99 it takes 2107 steps (~20 ms), which every move of a
    slider would otherwise pay for a path nobody sees."""
    target = dv.GaussianMixture.gaussian(mu, dv.bivariate_cov(sds[0], sds[1], rho))
    path = dv.mean_field_descent(target, objective, guess_m, guess_s, steps=4000, lr=0.5, tol=1e-7)
    idx = _subsample(path.means.shape[0])
    return dict(means=path.means[idx], stds=path.stds[idx], kl=path.kl[idx], steps=idx,
                n_steps=path.steps, converged=path.converged, end_m=path.means[-1], end_s=path.stds[-1],
                end_kl=float(path.kl[-1]))


def _mixture(sep: float, weight: float, csd: float, crho: float) -> dv.GaussianMixture:
    c = sep / 2 / math.sqrt(2)
    cov = dv.bivariate_cov(csd, csd, crho)
    return dv.GaussianMixture.create([weight, 1 - weight], [[-c, -c], [c, c]], [cov, cov])


@st.cache_data(max_entries=64, show_spinner=False)
def mixture_setup(sep: float, weight: float, csd: float, crho: float) -> dict:
    """Density grid, moment-matched q (argmin KL(p‖q)) and the local minima of KL(q‖p)
    reached from a start near each mode."""
    target = _mixture(sep, weight, csd, crho)
    m_pq, v_pq = dv.moment_match(target)
    s_pq = np.sqrt(v_pq)
    half = max(3.0, sep / 2 / math.sqrt(2) + 3.2 * csd)
    xs = np.linspace(-half, half, 80)
    zz = np.stack(np.meshgrid(xs, xs, indexing="xy"), axis=-1)
    dens = target.pdf(zz)
    starts_m = target.means + 0.3 * csd
    starts_s = np.full_like(starts_m, csd)
    path = dv.mean_field_descent(target, QP, starts_m, starts_s, steps=300, lr=1.0, tol=1e-6)
    minima = []
    for b in range(2):
        m, s = path.means[-1, b], path.stds[-1, b]
        minima.append(dict(m=m, s=s, start=starts_m[b], converged=bool(path.converged[b]),
                           kl_qp=dv.kl_mean_field(target, m, s, QP), kl_pq=dv.kl_mean_field(target, m, s, PQ)))
    return dict(grid=(xs, xs, dens), half=half,
                pq=dict(m=m_pq, s=s_pq, kl_qp=dv.kl_mean_field(target, m_pq, s_pq, QP),
                        kl_pq=dv.kl_mean_field(target, m_pq, s_pq, PQ)),
                minima=minima)


@st.cache_data(max_entries=256, show_spinner=False)
def mixture_guess(sep: float, weight: float, csd: float, crho: float, guess_m: tuple, guess_s: tuple) -> dict:
    target = _mixture(sep, weight, csd, crho)
    return dict(kl_qp=dv.kl_mean_field(target, guess_m, guess_s, QP),
                kl_pq=dv.kl_mean_field(target, guess_m, guess_s, PQ))


@st.cache_data(max_entries=256, show_spinner=False)
def mixture_path(sep: float, weight: float, csd: float, crho: float, guess_m: tuple, guess_s: tuple,
                 objective: str) -> dict:
    """Gradient descent from the guess (only computed while the animation is on)."""
    target = _mixture(sep, weight, csd, crho)
    path = dv.mean_field_descent(target, objective, guess_m, guess_s, steps=200,
                                 lr=1.0 if objective == QP else 0.5, tol=1e-6)
    idx = _subsample(path.means.shape[0])
    end_m, end_s = path.means[-1], path.stds[-1]
    # The descent integrates with a coarse 12 × 12 quadrature; the frames show a finer one (24 × 24,
    # within ~0.01 nats) and the start and end the same accurate values as the rest of the page.
    kl_frames = np.array([dv.kl_mean_field(target, path.means[i], path.stds[i], objective, n_nodes=24)
                          for i in idx])
    kl_frames[0] = dv.kl_mean_field(target, guess_m, guess_s, objective)
    end_kl = dv.kl_mean_field(target, end_m, end_s, objective)
    if idx[-1] == path.means.shape[0] - 1:
        kl_frames[-1] = end_kl
    return dict(means=path.means[idx], stds=path.stds[idx], kl=kl_frames, steps=idx, n_steps=path.steps,
                converged=path.converged, end_m=end_m, end_s=end_s, end_kl=end_kl)


def fmt(x: float, d: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if math.isinf(x):
        return "∞"
    return f"{x:.{d}f}".replace("-", "−")


def url_clamp_notes(specs: list[tuple[str, str, float, float, float]]) -> list[str]:
    """Messages for URL values that the widgets had to clamp: (key, name, lo, hi, value used)."""
    notes = []
    for key, name, lo, hi, used in specs:
        raw = URL_AT_START.get(key)
        if raw is None:
            continue
        try:
            given = float(raw)
        except ValueError:
            notes.append(f"{name} = {raw!r} in the link is not a number; allowed: {lo:g} … {hi:g}. Using {used:g}.")
            continue
        if not math.isfinite(given) or given < lo - 1e-12 or given > hi + 1e-12:
            extra = ""
            if key in ("rho", "crho") and math.isfinite(given) and abs(given) >= 1:
                extra = (" At |ρ| = 1 (or beyond) the covariance is singular — not positive definite — so p has "
                         "no density and KL is undefined.")
            notes.append(f"{name} = {raw} in the link is outside the allowed range {lo:g} … {hi:g}.{extra} "
                         f"Using {used:g}.")
    return notes


def p_sliders(gaussian: bool) -> list[tuple[str, str, float, float, float]]:
    """p's sliders, one under the other; returns (key, name, lo, hi, value) per slider."""
    if gaussian:
        st.markdown("**p = N(μ, Σ)** with Σ = [[σ₁², ρσ₁σ₂], [ρσ₁σ₂, σ₂²]]")
        mu1 = common.qp_slider("μ₁", "mu1", -2.0, 2.0, 0.0, 0.1, help="mean of z₁")
        mu2 = common.qp_slider("μ₂", "mu2", -2.0, 2.0, 0.0, 0.1, help="mean of z₂")
        sd1 = common.qp_slider("σ₁", "sd1", 0.3, 2.5, 1.0, 0.05, help="standard deviation of z₁")
        sd2 = common.qp_slider("σ₂", "sd2", 0.3, 2.5, 1.0, 0.05, help="standard deviation of z₂")
        rho = common.qp_slider("ρ", "rho", -0.99, 0.99, 0.9, 0.01,
                               help="correlation, strictly between −1 and 1: at ±1 the covariance is not "
                                    "positive definite.")
        return [("mu1", "μ₁", -2, 2, mu1), ("mu2", "μ₂", -2, 2, mu2), ("sd1", "σ₁", 0.3, 2.5, sd1),
                ("sd2", "σ₂", 0.3, 2.5, sd2), ("rho", "ρ", -0.99, 0.99, rho)]
    st.markdown("**p = π N(μ_a, Σ_c) + (1 − π) N(μ_b, Σ_c)**, modes a (lower left) and b (upper right) "
                "on the diagonal")
    sep = common.qp_slider("distance a–b", "sep", 0.0, 6.0, 4.0, 0.1, help="distance between the two means")
    weight = common.qp_slider("π", "w", 0.1, 0.9, 0.5, 0.05, help="weight of mode a")
    csd = common.qp_slider("σ_c", "csd", 0.3, 1.5, 0.8, 0.05, help="standard deviation of each component")
    crho = common.qp_slider("ρ_c", "crho", -0.9, 0.9, 0.0, 0.05, help="correlation within each component")
    return [("sep", "distance", 0, 6, sep), ("w", "π", 0.1, 0.9, weight),
            ("csd", "σ_c", 0.3, 1.5, csd), ("crho", "ρ_c", -0.9, 0.9, crho)]


# --------------------------------------------------------------------------- #
# Controls
# --------------------------------------------------------------------------- #
common.explain(
    "**In-class exercise** (lecture, *KL Divergence*). Which $q(z_1,z_2)=\\mathcal N(z_1\\mid m_1,s_1^2)\\,"
    "\\mathcal N(z_2\\mid m_2,s_2^2)$ minimizes $\\mathrm{KL}(q\\,\\|\\,p)$ for $p=\\mathcal N(\\mu,\\Sigma)$? "
    "Set p, make your guess for q with the sliders and watch both KL values; then reveal the optimum. "
    "Ellipses are drawn at 2 standard deviations (they hold 86% of a 2-D Gaussian's mass)."
)
# One row of three columns, so that the settings, the figure and the guess's KL are all in the first
# screen (1400x900, and 1920x1080 in instructor mode): p's settings | the figure | the guess and its KL.
url_notes = st.container()  # above the row: what the link asked for and could not have
settings_col, fig_col, ctrl = st.columns([1.05, 2.3, 1.05], gap="medium")
with settings_col:
    mode = common.qp_radio("p is", "mode", MODES, MODES[0])
    gaussian = mode == MODES[0]
    reveal = common.qp_toggle("Reveal optimum", "reveal", False)
    descent = common.qp_toggle("Animate descent", "descent", False)
    objective = QP
    if descent:
        objective = common.qp_radio("gradient descent on", "obj", [QP, PQ], QP, horizontal=True,
                                    format_func=lambda o: PRETTY[o])
    clamp_specs = p_sliders(gaussian)
if gaussian:
    mu1, mu2, sd1, sd2, rho = (spec[4] for spec in clamp_specs)
else:
    sep, weight, csd, crho = (spec[4] for spec in clamp_specs)

with ctrl:
    st.markdown("**Your guess for q**")
    score = st.container()  # the guess's two KL values go here, once computed: above the sliders, in sight
    gm1 = common.qp_slider("m₁", "gm1", -3.0, 3.0, 1.0, 0.1)
    gm2 = common.qp_slider("m₂", "gm2", -3.0, 3.0, -1.0, 0.1)
    gs1 = common.qp_slider("s₁", "gs1", 0.1, 3.0, 1.5, 0.05)
    gs2 = common.qp_slider("s₂", "gs2", 0.1, 3.0, 0.5, 0.05)
    clamp_specs += [("gm1", "m₁", -3, 3, gm1), ("gm2", "m₂", -3, 3, gm2), ("gs1", "s₁", 0.1, 3, gs1),
                    ("gs2", "s₂", 0.1, 3, gs2)]

for note in url_clamp_notes(clamp_specs):
    url_notes.warning(note)

guess_m, guess_s = (gm1, gm2), (gs1, gs2)
try:
    if gaussian:
        res = gaussian_numbers((mu1, mu2), (sd1, sd2), rho, guess_m, guess_s)
        guess_kl = res["guess"]
        path = gaussian_path((mu1, mu2), (sd1, sd2), rho, guess_m, guess_s, objective) if descent else None
        optima = [
            ("argmin KL(q‖p): sᵢ² = 1/Λᵢᵢ", res[QP], ctx.palette.kl_qp),
            ("argmin KL(p‖q): sᵢ² = Σᵢᵢ", res[PQ], ctx.palette.kl_pq),
        ]
    else:
        setup = mixture_setup(sep, weight, csd, crho)
        guess_kl = mixture_guess(sep, weight, csd, crho, guess_m, guess_s)
        path = mixture_path(sep, weight, csd, crho, guess_m, guess_s, objective) if descent else None
        optima = [(f"local min of KL(q‖p) from mode {'ab'[b]}", mn, ctx.palette.kl_qp)
                  for b, mn in enumerate(setup["minima"])]
        optima.append(("argmin KL(p‖q): moment matching", setup["pq"], ctx.palette.kl_pq))
except GenlabError as err:  # only reachable with a hand-made bad value
    st.error(str(err))
    _done_building()
    st.stop()

# --------------------------------------------------------------------------- #
# Numbers
# --------------------------------------------------------------------------- #
with score:  # one under the other: the column is narrow in instructor mode
    st.metric("KL(q‖p) of your guess", fmt(guess_kl["kl_qp"]) + " nats")
    st.metric("KL(p‖q) of your guess", fmt(guess_kl["kl_pq"]) + " nats")

# --------------------------------------------------------------------------- #
# Predict, then reveal: locking in (or skipping) switches "Reveal optimum" on
# --------------------------------------------------------------------------- #
NARROW = ("argmin KL(q‖p) is narrower", "argmin KL(p‖q) is narrower", "Both have the same widths")
ON_A_MODE = ("The KL(q‖p) fit sits on one mode", "The KL(p‖q) fit sits on one mode", "Both sit on one mode",
             "Neither: both spread over p")


def _reveal_optimum() -> None:
    st.session_state["reveal"] = True


def narrow_answer() -> int:
    """Which optimum is narrower along z₁ and z₂ (index in NARROW), from the computed optima."""
    s_qp, s_pq = np.asarray(res[QP]["s"]), np.asarray(res[PQ]["s"])
    if np.allclose(s_qp, s_pq, atol=5e-4):
        return 2
    return 0 if np.all(s_qp <= s_pq + 5e-4) else 1


def narrow_why(_correct: int | None) -> str:
    s_qp, s_pq = res[QP]["s"], res[PQ]["s"]
    numbers = (f"Here (ρ = {rho:g}) argmin KL(q‖p) has s = ({fmt(s_qp[0])}, {fmt(s_qp[1])}) and argmin KL(p‖q) "
               f"has s = ({fmt(s_pq[0])}, {fmt(s_pq[1])}): the {ctx.palette.kl_qp_name} and the {ctx.palette.kl_pq_name} "
               "ellipse in the figure, and the "
               "table below it. ")
    if narrow_answer() == 2:
        return numbers + "With ρ = 0, p factorizes: both optima are p itself."
    return numbers + ("KL(q‖p) charges q for mass where p has little, so q squeezes inside p (sᵢ² = 1/Λᵢᵢ); "
                      "KL(p‖q) charges q for missing p's mass, so q keeps p's marginal widths (sᵢ² = Σᵢᵢ).")


def _mode_means() -> np.ndarray:
    c = sep / 2 / math.sqrt(2)
    return np.array([[-c, -c], [c, c]])


def _on_a_mode(mean) -> bool:
    """Within one component standard deviation of one of p's two means."""
    return bool(np.min(np.linalg.norm(_mode_means() - np.asarray(mean), axis=1)) < csd)


def mode_answer() -> int:
    """Which fits sit on one mode (index in ON_A_MODE), from the computed minima and moment match."""
    qp_on = all(_on_a_mode(found["m"]) for found in setup["minima"])
    pq_on = _on_a_mode(setup["pq"]["m"])
    return {(True, False): 0, (False, True): 1, (True, True): 2, (False, False): 3}[(qp_on, pq_on)]


def mode_why(_correct: int | None) -> str:
    centres = ", ".join(f"({fmt(found['m'][0], 2)}, {fmt(found['m'][1], 2)})" for found in setup["minima"])
    c = sep / 2 / math.sqrt(2)
    text = (f"p's modes are at ±({fmt(c, 2)}, {fmt(c, 2)}); the {ctx.palette.kl_qp_name} ellipses (KL(q‖p), one descent from each "
            f"mode) end at {centres}, the {ctx.palette.kl_pq_name} one (KL(p‖q), moment matching) at "
            f"({fmt(setup['pq']['m'][0], 2)}, {fmt(setup['pq']['m'][1], 2)}). \"On a mode\" here: within "
            f"σ_c = {csd:g} of a mode's mean. ")
    answer = mode_answer()
    if answer == 0:
        return text + ("KL(q‖p) is mode-seeking: q pays for mass where p has little, so it settles on one mode; "
                       "KL(p‖q) must cover all of p's mass, so it spreads over both.")
    if answer == 2:
        return text + "The modes are close enough (or unequal enough) that every fit sits on the same bump."
    return text + "With these settings p's two modes overlap, so no fit sits on one of them alone."


# under the row of settings, figure and guess: after the guess, before the optimum
if gaussian:
    asked = predict.predict(
        "gkl-narrow", "Which optimal q is narrower: argmin KL(q‖p) or argmin KL(p‖q)?", NARROW, answer=narrow_answer,
        why=narrow_why, on_reveal=_reveal_optimum,
        shown_anyway="The optimum is shown already (Reveal optimum is on): switch it off to predict first."
        if reveal else None)
else:
    asked = predict.predict(
        "gkl-modes", "Which fit sits on one mode of p (mode-seeking)?", ON_A_MODE, answer=mode_answer,
        why=mode_why, on_reveal=_reveal_optimum,
        shown_anyway="The optimum is shown already (Reveal optimum is on): switch it off to predict first."
        if reveal else None)

# --------------------------------------------------------------------------- #
# Figure
# --------------------------------------------------------------------------- #
guess_color = klfig.COLOR_GUESS_DARK if ctx.dark else klfig.COLOR_GUESS
qs = [klfig.QCurve("your guess q", guess_m, guess_s, guess_color, dash="dash", width=2.5)]
if reveal:
    for k, (label, res_q, color) in enumerate(optima):
        dash = "solid" if k == 0 or color == ctx.palette.kl_pq else "dashdot"
        qs.append(klfig.QCurve(label, res_q["m"], res_q["s"], color, dash=dash))
animation = None
if descent:
    animation = klfig.Animation(f"q during descent on {PRETTY[objective]}", path["means"], path["stds"],
                                path["steps"], path["kl"], objective=PRETTY[objective],
                                color=ctx.palette.descent)

# a fixed, square view holding p and every q drawn
boxes = []
if gaussian:
    boxes.append((mu1 - 2.2 * sd1, mu1 + 2.2 * sd1, mu2 - 2.2 * sd2, mu2 + 2.2 * sd2))
else:
    h = setup["half"]
    boxes.append((-h, h, -h, h))
for q in qs:
    boxes.append((q.means[0] - 2 * q.stds[0], q.means[0] + 2 * q.stds[0],
                  q.means[1] - 2 * q.stds[1], q.means[1] + 2 * q.stds[1]))
if animation is not None:
    am, as_ = np.asarray(animation.means), np.asarray(animation.stds)
    boxes.append((float(np.min(am[:, 0] - 2 * as_[:, 0])), float(np.max(am[:, 0] + 2 * as_[:, 0])),
                  float(np.min(am[:, 1] - 2 * as_[:, 1])), float(np.max(am[:, 1] + 2 * as_[:, 1]))))
x0, x1 = min(bx[0] for bx in boxes), max(bx[1] for bx in boxes)
y0, y1 = min(bx[2] for bx in boxes), max(bx[3] for bx in boxes)
pad = 0.06 * max(x1 - x0, y1 - y0)
extent = (x0 - pad, x1 + pad, y0 - pad, y1 + pad)

title = ""  # the legend names every curve; the page heading names the figure
# instructor mode: the projector's legend and margins take more room; 740 px still ends above the fold at 1080
fig_height = 740 if ctx.instructor else 640
with fig_col:
    if gaussian:
        fig = klfig.exercise_figure(p_mean=(mu1, mu2), p_cov=res["cov"], qs=qs, animation=animation,
                                    title=title, extent=extent, height=fig_height, palette=ctx.palette,
                                    projector=ctx.instructor)
    else:
        fig = klfig.exercise_figure(p_grid=setup["grid"], qs=qs, animation=animation, title=title, extent=extent,
                                    height=fig_height, palette=ctx.palette, projector=ctx.instructor)
    # a short toolbar: it shares the band above the slider with the play buttons
    common.show_figure(fig, key="gaussian_kl_figure", config={"modeBarButtonsToRemove": [
        "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"]})
    if descent:
        state = (f"converged after {path['n_steps']} steps" if path["converged"]
                 else f"stopped after {path['n_steps']} steps (not yet converged)")
        common.caption(
            f"Gradient descent on {PRETTY[objective]} from your guess ({state}): q ends at "
            f"m = ({fmt(path['end_m'][0], 2)}, {fmt(path['end_m'][1], 2)}), "
            f"s = ({fmt(path['end_s'][0], 2)}, {fmt(path['end_s'][1], 2)}), "
            f"{PRETTY[objective]} = {fmt(path['end_kl'])} nats. Press ▶ play or drag the step slider; "
            f"the {ctx.palette.descent_name} label in the plot's corner gives the step and {PRETTY[objective]} of the q drawn.",
            explanation="Each step moves q's means and log standard deviations against the gradient, scaled "
                        "by sᵢ² (the natural gradient).",
        )

# --------------------------------------------------------------------------- #
# The optimum, revealed
# --------------------------------------------------------------------------- #
if reveal:
    st.subheader("The optimal q")
    rows = [dict(q="your guess", **{"m₁": fmt(gm1, 2), "m₂": fmt(gm2, 2), "s₁": fmt(gs1, 3), "s₂": fmt(gs2, 3),
                                   "KL(q‖p)": fmt(guess_kl["kl_qp"]), "KL(p‖q)": fmt(guess_kl["kl_pq"])})]
    for label, res_q, _ in optima:
        rows.append(dict(q=label, **{"m₁": fmt(res_q["m"][0], 2), "m₂": fmt(res_q["m"][1], 2),
                                     "s₁": fmt(res_q["s"][0]), "s₂": fmt(res_q["s"][1]),
                                     "KL(q‖p)": fmt(res_q["kl_qp"]), "KL(p‖q)": fmt(res_q["kl_pq"])}))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="gkl_optima")
    if gaussian:
        lam = res["lam"]
        st.markdown(
            f"With Λ = Σ⁻¹ (Λ₁₁ = {lam[0, 0]:.3f}, Λ₂₂ = {lam[1, 1]:.3f}), both optima keep the means at μ "
            f"(PRML §10.1.2):\n\n"
            f"- **argmin KL(q‖p)**: sᵢ² = 1/Λᵢᵢ = σᵢ²(1 − ρ²) → s = ({fmt(res[QP]['s'][0])}, {fmt(res[QP]['s'][1])}). "
            "q is too *narrow*: it must avoid putting mass where p has little, so it fits inside p "
            "(PRML eqs 10.11–10.14).\n"
            f"- **argmin KL(p‖q)**: sᵢ² = Σᵢᵢ = σᵢ² → s = ({fmt(res[PQ]['s'][0])}, {fmt(res[PQ]['s'][1])}). "
            "q matches p's marginals and *covers* p, including where p is small (PRML eq 10.17).\n\n"
            f"Both agree only when ρ = 0. Here ρ = {rho:g}."
        )
    else:
        mins = setup["minima"]
        same = np.allclose(mins[0]["m"], mins[1]["m"], atol=0.05)
        st.markdown(
            "A mixture has no closed-form KL: the values are numeric integrals (Gauss–Hermite quadrature, "
            "64 × 64 nodes on q or on each mixture component; E_p[log q] is exact), accurate to about 0.005 nats.\n\n"
            f"- **KL(q‖p)** ({ctx.palette.kl_qp_name}) is minimized by gradient descent, and the answer depends on where it starts: "
            + ("here both starts end in the *same* minimum — the modes are too close or too unequal to hold q. "
               if same else
               f"from mode a it locks onto mode a (KL(q‖p) = {fmt(mins[0]['kl_qp'])}), from mode b onto mode b "
               f"(KL(q‖p) = {fmt(mins[1]['kl_qp'])}): two local minima, each *mode-seeking*. ")
            + "Try other starts with your guess and the gradient-descent animation.\n"
            f"- **KL(p‖q)** ({ctx.palette.kl_pq_name}) has a single optimum, found in closed form by *moment matching*: q's means and "
            f"variances are p's (m = ({fmt(setup['pq']['m'][0], 2)}, {fmt(setup['pq']['m'][1], 2)}), "
            f"s = ({fmt(setup['pq']['s'][0])}, {fmt(setup['pq']['s'][1])})). It *covers* both modes and puts "
            "mass between them, where p has little."
        )
    common.explain(
        "Names: this page says KL(q‖p) and KL(p‖q) rather than \"forward\" and \"reverse\" KL, "
        "because PRML and much of the ML literature use those two words in opposite ways."
    )

common.copy_link_button()
_done_building()
