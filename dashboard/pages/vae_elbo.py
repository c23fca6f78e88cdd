"""Latent ELBO & reparameterization (issue 4): the VAE objective term by term, and why z = μ + σ ⊙ ε.

* The ELBO of a VAE during training, split into reconstruction −E_q[log p(x|z)] and
  KL(q(z|x) ‖ p(z)), and the KL of every latent dimension (read from the run's metrics.csv, live
  while a background job trains it: dashboard.latent_jobs through genlab.jobs).
* β and S: VAEs stored with the same settings but other β (a β sweep can be trained) or other S.
* The reparameterization trick: variance of the score-function and the reparameterized gradient
  estimators of ∂/∂(μ, σ) E_q[f(z)] across S (genlab.latent.gradient_variance_experiment).
Every control lives in the URL (common.qp_*).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import common
from dashboard import latent_jobs as lj
from dashboard import predict
from dashboard.figures import latent as lf
from genlab.errors import GenlabError
from genlab.jobs import get_job_manager

TITLE = "Latent ELBO & reparameterization"
ctx = common.setup_page(TITLE)
from dashboard.tour import tour_box  # noqa: E402  (the guided walk: before the controls, it sets them)
tour_box("vae_elbo")

SS = "_elbo_"
REFRESH_S = 1.0
DATASET_LABELS = {"digits": "digits (8×8)", "mnist": "MNIST (28×28)", "fashion-mnist": "Fashion-MNIST (28×28)"}
BETA_SWEEP = (0.1, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
SAMPLE_COUNTS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
FUNCTIONS = {"square": "f(z) = z²", "cos": "f(z) = cos z", "sigmoid": "f(z) = sigmoid(z) (decoder-like)"}
D = lj.DEFAULTS
instructor = ctx.instructor
PLOT_H = 460 if instructor else 380


SESSION = common.job_session()
state = st.session_state
state.setdefault(SS + "auto", set())
# The first visit after a server start imports PyTorch here (seconds on a busy machine): say so.
with st.spinner("Loading PyTorch (the first visit after a server start)…", show_time=True):
    from genlab.models.autoencoder import AutoencoderConfig

    manager = get_job_manager()
    SIGMA = AutoencoderConfig().gaussian_sigma   # the default decoder's fixed noise level (0.15)

common.explain(
    r"The **evidence lower bound** of an image x is "
    r"$\mathrm{ELBO}(x) = \mathbb{E}_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\|\,p(z)) \le \log p(x)$. "
    r"For each image the VAE minimises its negative, the lecture's loss "
    r"$L_i = -\mathrm{ELBO}(x_i) = -\mathbb{E}_{q(z|x_i)}[\log p(x_i|z)] + \mathrm{KL}(q(z|x_i)\,\|\,p(z))$: "
    "the first term asks the decoder to reconstruct x from a sampled code, the second keeps "
    r"$q(z|x) = \mathcal{N}(\mu, \sigma^2)$ close to the prior $\mathcal{N}(0, I)$. The expectation is "
    r"estimated with S samples $z_s = \mu + \sigma \odot \varepsilon_s$, $\varepsilon_s \sim \mathcal{N}(0, I)$ "
    r"(the reparameterization trick, section 3); the KL of two Gaussians is exact, per latent dimension: "
    r"$\mathrm{KL}_k = \tfrac12(\mu_k^2 + \sigma_k^2 - 1 - \log \sigma_k^2)$. "
    r"The decoder's likelihood is a Gaussian per pixel with a fixed noise level, "
    rf"$p(x|z) = \mathcal{{N}}(x;\ \hat x(z),\ {SIGMA:g}^2 I)$, so the reconstruction term is "
    rf"$\sum_j (x_j - \hat x_j)^2 / (2 \cdot {SIGMA:g}^2) + D \log({SIGMA:g}\sqrt{{2\pi}})$ over the D pixels: a squared "
    "error in nats. A density can exceed 1, so this term (and the ELBO) can be negative; only changes matter.\n\n"
    r"**A simplification of the lecture's decoder.** The slides' decoder learns its variance too, "
    r"$p_\phi(x|z) = \mathcal{N}(\mu_\phi(z), \sigma^2_\phi(z))$; here only the mean is learned and "
    rf"$\sigma = {SIGMA:g}$ is fixed, about the decoder's pixel error on test digits. Why: with a learned σ "
    "the 1 437 training digits pull σ down to the *training* error, the KL term then counts for little, the "
    "codes spread out and prior samples land in holes (measured in genlab/models/autoencoder.py)."
)

# --------------------------------------------------------------------------- #
# The VAE's settings, at the top of the page
# --------------------------------------------------------------------------- #
st.markdown("**The VAE** — a stored run with these settings is loaded at once")
if instructor:   # projector fonts: two rows
    row = st.columns(3, vertical_alignment="bottom") + st.columns(3, vertical_alignment="bottom")
else:
    row = st.columns([1.6, 1, 1, 1, 1, 1], vertical_alignment="bottom")
with row[0]:
    dataset = common.qp_select("Data set", "data", lj.DATASETS, D["dataset"], format_func=DATASET_LABELS.get,
                               help="MNIST / Fashion-MNIST need their files on disk (no download here).")
with row[1]:
    latent_dim = common.qp_number("Latent size K", "k", None, None, D["latent_dim"], step=1,
                                  help=f"Allowed: {lj.LIMITS['latent_dim'][0]} to {lj.LIMITS['latent_dim'][1]}.")
with row[2]:
    beta = common.qp_number("β (KL weight)", "beta", None, None, D["beta"], step=0.5, format="%.2f",
                            help="The optimizer minimises reconstruction + β·KL; at β = 1 that is the negative ELBO.")
with row[3]:
    mc_samples = common.qp_number("S (samples of z)", "s", None, None, D["mc_samples"], step=1,
                                  help="Monte-Carlo samples per image: −E_q[log p(x|z)] ≈ −1/S Σ_s log p(x|z_s). "
                                       f"Allowed: {lj.LIMITS['mc_samples'][0]} to {lj.LIMITS['mc_samples'][1]}.")
with row[4]:
    epochs = common.qp_number("Epochs", "epochs", None, None, D["epochs"], step=10,
                              help=f"{lj.LIMITS['epochs'][0]} to {lj.LIMITS['epochs'][1]}.")
with row[5]:
    seed = common.qp_number("Seed", "seed", 0, 9999, D["seed"])
buttons = st.columns([1, 1, 1] if instructor else [1, 1, 4], vertical_alignment="center")

setting_error = None
try:
    settings = lj.check_settings(dataset, latent_dim, beta, epochs, mc_samples, seed)
    lj.check_dataset_available(dataset)
except GenlabError as err:
    setting_error = str(err)
    settings = None


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


def _queue_text(job) -> str:
    ahead = job.jobs_ahead() or 0
    busy = len(manager.running())
    if ahead == 0:
        return (f"The server is busy ({busy} training job{'s' if busy != 1 else ''} running): yours is next "
                "in the queue and starts by itself.")
    return (f"The server is busy: {ahead} job{'s' if ahead != 1 else ''} ahead of you in the queue ({busy} running). "
            "Yours starts by itself; Stop cancels it.")


# --------------------------------------------------------------------------- #
# 1. The ELBO during training
# --------------------------------------------------------------------------- #
st.subheader("1 · The ELBO during training, term by term")
vae_run = None
job = None
training = False
if setting_error is not None:
    st.error(setting_error)
else:
    K = settings["latent_dim"]
    config = lj.autoencoder_config("vae", settings["dataset"], K, settings["beta"], settings["epochs"],
                                   settings["mc_samples"], settings["seed"])
    configs = {"vae": config}
    key = lj.job_key(configs)
    is_default = all(settings[name] == D[name] for name in D)
    sweep_configs = {f"β={b:g}": lj.autoencoder_config("vae", settings["dataset"], K, b, settings["epochs"],
                                                       settings["mc_samples"], settings["seed"]) for b in BETA_SWEEP}
    sweep_key = lj.job_key(sweep_configs)

    def _train() -> None:
        job = lj.submit_training(manager, configs, SESSION,
                                 name=f"VAE · {dataset} · K={K} · β={settings['beta']:g} · S={settings['mc_samples']}")
        state[SS + "job_id"] = job.id

    def _train_sweep() -> None:
        job = lj.submit_training(manager, sweep_configs, SESSION,
                                 name=f"β sweep · {dataset} · K={K} · S={settings['mc_samples']}")
        state[SS + "job_id"] = job.id

    vae_run = lj.find_finished(config)
    job = manager.get(state.get(SS + "job_id") or "")
    shared = manager.job_for_key(key) or manager.job_for_key(sweep_key)
    if shared is not None:
        job = shared
        state[SS + "job_id"] = job.id
    if vae_run is None and (job is None or job.done) and is_default and key not in state[SS + "auto"]:
        state[SS + "auto"].add(key)
        _train()
        job = manager.get(state[SS + "job_id"])
    training = job is not None and job.active
    buttons[0].button("Train", icon=":material/play_arrow:", type="primary", on_click=_train,
                      disabled=vae_run is not None or training, key=SS + "train", width="stretch",
                      help=f"Train this VAE: {lj.expected_steps(config):,} Adam steps; stored in the run store.")
    buttons[1].button("Stop", icon=":material/stop:", on_click=_stop, disabled=not training, key=SS + "stop",
                      width="stretch", help="Stops after the current step; Train resumes from the checkpoint.")
    if state.get(SS + "notice"):
        st.info(state.pop(SS + "notice"))

    def _frame_of(name: str | None):
        if not name:
            return None
        from genlab.runs import RunStore

        store = RunStore()
        if not store.exists(name):
            return None
        try:
            return lj.read_metrics(store.open(name))
        except GenlabError:
            return None

    def _elbo_figures(frame, live: bool) -> None:
        if frame is None or frame.empty or "recon_loss" not in frame.columns:
            st.caption("Waiting for the first training steps…")
            return
        # side by side; stacked on a projector (each figure needs the full width there)
        left, right = (st.container(), st.container()) if instructor else st.columns([1.25, 1], gap="medium")
        with left:
            common.show_figure(lf.elbo_history(frame, "ELBO terms per epoch",
                                               beta=settings["beta"], height=PLOT_H, projector=instructor,
                                               dark_background=ctx.dark, palette=ctx.palette),
                               key="elbo_live" if live else "elbo")
        with right:
            common.show_figure(lf.kl_per_dim_history(frame, K, "KL of each latent dimension", height=PLOT_H,
                                                     palette=ctx.palette, projector=instructor),
                               key="kl_dims_live" if live else "kl_dims")

    @st.fragment(run_every=REFRESH_S if training else None)
    def live_elbo():
        job = manager.get(state.get(SS + "job_id") or "")
        if job is None:
            return
        if job.done:
            if training:
                st.rerun()
            return
        if job.status == "queued":
            st.warning(_queue_text(job))
            return
        st.progress(job.progress, text=f"Training in the background ({job.name}): {job.message or 'starting'}")
        snap = job.snapshot()
        model = (snap.get("models") or {}).get("vae")
        if model is not None:
            _elbo_figures(_frame_of(model.get("run")), live=True)
        else:
            st.caption("A β sweep is training; its VAEs appear in section 2 as they finish.")

    if vae_run is not None:
        frame = lj.read_metrics(vae_run)   # the metrics only: loading the model would import its training code
        just_trained = job is not None and job.status == "finished"
        shown_demo = not just_trained and lj.is_demo(vae_run)
        (st.info if shown_demo else st.success)(
            f"{lj.source_text([vae_run], just_trained)} — {settings['epochs']} epochs, "
            f"{int(frame['step'].max()):,} steps.",
            icon=":material/inventory_2:" if shown_demo else ":material/check_circle:")
        _elbo_figures(frame, live=False)
        last_epoch = frame[frame["epoch"] == frame["epoch"].max()]
        kl_dims = np.array([last_epoch[f"kl_dim_{k}"].mean() for k in range(K)])
        test = frame[frame["test_elbo"].notna()].iloc[-1] if frame["test_elbo"].notna().any() else None
        c = (st.columns(2) + st.columns(2)) if instructor else st.columns(4)
        if test is not None:
            c[0].metric("Test ELBO (nats / image)", f"{test['test_elbo']:.2f}",
                        help="−(reconstruction + KL) on the test split, one sample of z per image.")
            c[1].metric("Reconstruction −log p(x|z)", f"{test['test_recon_loss']:.2f}")
            c[2].metric("KL(q(z|x) ‖ p(z))", f"{test['test_kl']:.2f}")
        active = int((kl_dims >= lf.INACTIVE_KL).sum())
        c[3].metric("Active latent dimensions", f"{active} of {K}",
                    help=f"Dimensions whose average KL is at least {lf.INACTIVE_KL} nats. An inactive one has "
                         "q(z_k|x) = p(z_k) for every x: it carries no information (posterior collapse).")
    else:
        if job is not None and job.status == "failed":
            st.error(f"Training failed: {job.error}")
        elif job is not None and job.status == "stopped":
            st.info("Training was stopped; its checkpoint is kept. **Train** continues from there.")
        elif not training:
            st.info(f"No stored VAE with these settings yet: press **Train** "
                    f"({lj.expected_steps(config):,} steps).")
        if training:
            live_elbo()

# --------------------------------------------------------------------------- #
# 2. β and S
# --------------------------------------------------------------------------- #
st.subheader("2 · Varying β and S")
common.explain(
    "β weighs the KL term against reconstruction: the optimizer minimises reconstruction + β·KL. S only "
    "changes the noise of the reconstruction estimate — more samples per image, smoother gradients, same "
    "objective."
)
BETA_EXPLAINED = (   # shown with the β sweep's results (it answers the β question)
    "β trades the two terms: a small β gives sharp reconstructions and a latent space that ignores the "
    "prior; a large β pushes every q(z|x) onto N(0, I) until latent dimensions carry nothing about x "
    "(**posterior collapse**: their KL drops to 0 and the decoder ignores them)."
)


BETA_OPTIONS = ("It grows", "It shrinks", "It stays about the same")
SAME_KL = 0.05        # test KLs within 5 % of each other count as the same


def beta_question(runs_beta: dict, K: int):
    """Ask what β = 4 does to the KL term; the answer is read from the stored β = 1 and β = 4 VAEs
    with the page's other settings (pending until both are trained)."""
    question = (f"Train the same VAE (K = {K}, the other settings above) with β = 4 instead of β = 1. What happens "
                "to the KL term KL(q(z|x) ‖ p(z)) on the test split?")
    missing = [b for b in (1.0, 4.0) if b not in runs_beta]
    if missing:
        return predict.predict(
            "elbo-beta4", question, BETA_OPTIONS, answer=None,
            pending=f"The run store has no VAE with β = {' and β = '.join(f'{b:g}' for b in missing)} and these "
                    "settings yet (the β sweep does not use the shipped demo): "
                    "press **Train the β sweep** below (or set β above and **Train**); the answer then comes "
                    "from the two runs.")
    one, four = runs_beta[1.0], runs_beta[4.0]
    if abs(four["kl"] - one["kl"]) <= SAME_KL * max(abs(one["kl"]), abs(four["kl"])):
        answer = 2
    else:
        answer = 0 if four["kl"] > one["kl"] else 1
    why = (f"Test KL: {one['kl']:.2f} nats at β = 1, {four['kl']:.2f} at β = 4; active dimensions {one['active']} → "
           f"{four['active']}; reconstruction {one['recon']:.1f} → {four['recon']:.1f}. A larger β makes every nat "
           "of KL cost more, so the optimizer pulls q(z|x) toward N(0, I) and lets dimensions collapse, paying "
           "with reconstruction. See the β sweep chart below.")
    return predict.predict("elbo-beta4", question, BETA_OPTIONS, answer=answer, why=why)


REPARAM_OPTIONS = ("The score function", "The reparameterization", "About the same")


def reparam_question(variance: dict):
    """Ask which one-sample estimate of ∂/∂μ varies less; the answer is read from the page's own
    experiment (its variance at S = 1)."""
    score, reparam = variance[("score function", 1)]["grad_mu_var"], variance[("reparameterization", 1)]["grad_mu_var"]
    ratio = score / max(reparam, 1e-300)
    answer = 2 if 0.9 <= ratio <= 1.1 else 1 if ratio > 1 else 0
    why = (f"Variance of the one-sample estimate of ∂/∂μ here: score function {score:.3g}, reparameterization "
           f"{reparam:.3g} ({ratio:,.1f}×). Lower variance means fewer samples for the same accuracy — that is "
           "why the VAE samples z = μ + σ ⊙ ε. See the variance plot below (the two curves at S = 1).")
    return predict.predict(
        "elbo-reparam", "With one sample of z (S = 1), which estimate of ∂/∂μ E[f(z)] will vary less from draw to "
        "draw, for the function and μ, σ chosen above?", REPARAM_OPTIONS, answer=answer, why=why)


def _matching_runs(settings: dict, vary: str) -> list[dict]:
    """Finished VAE runs in the store equal to ``settings`` except for ``vary`` ("beta" or "mc_samples")."""
    return lj.vae_variants(settings, vary)


if settings is not None:
    b_tab, s_tab = common.qp_tabs(["β: posterior collapse", "S: Monte-Carlo samples"], "vary",
                                  names=("beta", "samples"))
    if b_tab.open is not False:   # only the open tab is computed (a tab switch reruns the page)
        with b_tab:
            runs_beta = {r["beta"]: r for r in _matching_runs(settings, "beta")}
            missing = [b for b in BETA_SWEEP if b not in runs_beta]
            # on a projector the button's label needs the full width (it was cut to "Train the β sw…")
            c1, c2 = (st.container(), st.container()) if instructor else st.columns([1, 2], vertical_alignment="center")
            sweep_active = job is not None and job.active and job.key == sweep_key
            c1.button(f"Train the β sweep ({len(missing)} to go)" if missing else "β sweep complete",
                      on_click=_train_sweep, disabled=not missing or sweep_active, key=SS + "sweep",
                      icon=":material/tune:",
                      help=f"VAEs with β = {', '.join(f'{b:g}' for b in BETA_SWEEP)} and the other settings above, "
                           "trained side by side; stored runs are reused.")
            c2.caption(f"Stored VAEs with K = {K}, S = {settings['mc_samples']}, {settings['epochs']} epochs, seed "
                       f"{settings['seed']}: β = {', '.join(f'{b:g}' for b in sorted(runs_beta)) or 'none yet'}.")
            if sweep_active:
                if job.status == "queued":
                    st.warning(_queue_text(job))
                else:
                    st.progress(job.progress, text=f"β sweep: {job.message or 'starting'}")
            beta_asked = beta_question(runs_beta, K)
            if len(runs_beta) >= 2:
                with predict.covered(beta_asked.revealed, "elbo-beta4"):
                    rows = list(runs_beta.values())
                    common.show_figure(lf.beta_sweep_figure(rows, "Test-split terms and active dimensions against β",
                                                            height=PLOT_H, palette=ctx.palette), key="beta_sweep")
                    common.explain(BETA_EXPLAINED)
                    if settings["dataset"] == "digits" or len(rows) <= 4:
                        st.markdown("**Decoded prior samples for each β** (the same 12 draws z ~ N(0, I))")
                        z = lj.prior_z(K, 12, 0)
                        betas = sorted(runs_beta)
                        with st.spinner(f"Loading the {len(betas)} VAEs of the β sweep…", show_time=True):
                            images = np.concatenate([lj.load_model(runs_beta[b]["run"]).decode(z) for b in betas])
                        fig = lf.image_mosaic(images, 12, height=60 + 52 * len(betas) if not instructor else 80 + 64 * len(betas),
                                              y_ticks=[f"β={b:g}" for b in betas])
                        common.show_figure(fig, key="beta_samples")
                        common.caption(explanation="At large β the samples stop depending on z: the decoder has learnt "
                                                   "to ignore the collapsed latent dimensions and draws an average image.")
            else:
                st.info("Train the β sweep (or train single VAEs with other β above) to compare them here.")
    if s_tab.open is not False:
        with s_tab:
            runs_s = sorted(_matching_runs(settings, "mc_samples"), key=lambda r: r["S"])
            if runs_s:
                table = pd.DataFrame([{"S": r["S"], "test ELBO": r["elbo"], "reconstruction": r["recon"], "KL": r["kl"],
                                       "active dims": r["active"], "training time (s)": r["seconds"]} for r in runs_s])
                st.dataframe(table, hide_index=True, width="stretch",
                             column_config={c: st.column_config.NumberColumn(format="%.2f")
                                            for c in ("test ELBO", "reconstruction", "KL", "training time (s)")})
            common.caption(f"Stored VAEs with β = {settings['beta']:g} and these settings, by S.",
                           explanation="Change S above and train to add a row: the ELBO barely moves while each step "
                                       "costs about S times more decoding.")

# --------------------------------------------------------------------------- #
# 3. The reparameterization trick
# --------------------------------------------------------------------------- #
st.subheader("3 · Can we backpropagate through z, given that it is stochastic?")
common.explain(
    r"Training needs $\nabla_{\mu,\sigma}\, \mathbb{E}_{z \sim \mathcal{N}(\mu, \sigma^2)}[f(z)]$ "
    r"($f$ stands for $\log p(x|z)$). Sampling z blocks the gradient, so there are two Monte-Carlo estimators "
    "with S samples:\n"
    r"- **score function** (REINFORCE): $\frac1S \sum_s f(z_s)\, \nabla \log \mathcal{N}(z_s; \mu, \sigma^2)$ "
    "— needs only values of f;\n"
    r"- **reparameterization**: write $z_s = \mu + \sigma \varepsilon_s$ with $\varepsilon_s \sim \mathcal{N}(0, 1)$ "
    r"*outside* the parameters, then $\frac1S \sum_s \nabla f(\mu + \sigma \varepsilon_s)$ — ordinary "
    "backpropagation through f.\n\n"
    "Both are unbiased; the plots show their variance over repeated estimates."
)

if instructor:
    r1, r2, r3 = st.columns(3)
    r4, r5, _ = st.columns(3)
else:
    r1, r2, r3, r4, r5 = st.columns(5)
with r1:
    f_name = common.qp_select("Test function", "f", list(FUNCTIONS), "square", format_func=FUNCTIONS.get)
with r2:
    mu = common.qp_slider("μ", "mu", -3.0, 3.0, 1.0, step=0.1)
with r3:
    sigma = common.qp_slider("σ", "sigma", 0.1, 3.0, 1.0, step=0.1)
with r4:
    repeats = common.qp_select("Repeats per S", "rep", [100, 200, 500, 1000], 500,
                               help="How many independent estimates the variance is computed from.")
with r5:
    g_seed = common.qp_number("Seed", "gseed", 0, 9999, 0)


@st.cache_data(show_spinner=False, max_entries=32)
def _gradient_rows(mu: float, sigma: float, f_name: str, repeats: int, seed: int) -> list[dict]:
    """The estimators' statistics (deterministic in these): once per setting, not on every rerun."""
    from genlab.latent import gradient_variance_experiment

    return gradient_variance_experiment(mu, sigma, f_name, SAMPLE_COUNTS, repeats, seed)


try:
    rows = _gradient_rows(float(mu), float(sigma), f_name, int(repeats), int(g_seed))
except GenlabError as err:
    st.error(str(err))
    rows = []
if rows:
    variance = {(r["estimator"], r["samples"]): r for r in rows}
    reparam_asked = reparam_question(variance)
    with predict.covered(reparam_asked.revealed, "elbo-reparam"):
        score1, reparam1 = variance[("score function", 1)], variance[("reparameterization", 1)]
        m = (st.columns(2) + st.columns(1)) if instructor else st.columns(3)
        for col, param, label in ((m[0], "mu", "μ"), (m[1], "sigma", "σ")):
            ratio = score1[f"grad_{param}_var"] / max(reparam1[f"grad_{param}_var"], 1e-300)
            col.metric(f"Variance ratio at S = 1, ∂/∂{label}", f"{ratio:,.1f}×",
                       help="score-function variance / reparameterization variance (one sample each). "
                            "Above 1: the reparameterized estimate is the better one.")
        need = next((s for s in SAMPLE_COUNTS
                     if variance[("score function", s)]["grad_mu_var"] <= reparam1["grad_mu_var"]), None)
        m[2].metric("S the score function needs for ∂/∂μ", f"{need}" if need else f"> {SAMPLE_COUNTS[-1]}",
                    help="Smallest S whose score-function variance is at most the variance of one reparameterized sample.")
        tab_var, tab_est = common.qp_tabs(["Variance against S", "Estimates ± 1 sd"], "grad",
                                          names=("variance", "estimates"))
        titles = ["∂/∂μ", "∂/∂σ"]

        def _gradient_panels(builder, y_title: str):
            """The ∂/∂μ and ∂/∂σ panels; the panel titles name the parameter, so one short y-axis title
            on the left (the right panel's own title ran into the left panel at 1280 px)."""
            fig = lf.side_by_side([builder(rows, p, palette=ctx.palette) for p in ("mu", "sigma")], titles,
                                  height=PLOT_H + 60, spacing=0.12 if instructor else 0.1, legend=True,
                                  projector=instructor)
            return fig.update_layout(yaxis_title_text=y_title, yaxis2_title_text=None)

        if tab_var.open is not False:   # only the open tab is drawn (a tab switch reruns the page)
            with tab_var:
                common.show_figure(_gradient_panels(lf.gradient_variance_figure, "variance of the estimate"),
                                   key="grad_var")
        if tab_est.open is not False:
            with tab_est:
                common.show_figure(_gradient_panels(lf.gradient_estimates_figure, "estimate ± 1 sd"), key="grad_est")
        common.caption(explanation="Both variances fall like 1/S (dotted line), but the score function starts much "
                                   "higher: it multiplies f(z) by a noisy weight and ignores how f changes. For a "
                                   "bounded, wiggly f (cos at μ = 0.5) it can win for μ — the trick is not a theorem, "
                                   "just usually far better.")
    # the code is drawn once the expander is opened: a code block brings Streamlit's 1.5 MB syntax
    # highlighter to the browser, which would run on every visit before the page is ready
    trick_code = st.expander("The trick in PyTorch", key="elbo_trick_code", on_change="rerun")
    if trick_code.open:
        trick_code.code(
            "mu, log_var = encoder(x)                # q(z|x) = N(mu, sigma^2)\n"
            "eps = torch.randn_like(mu)              # the randomness, outside the graph\n"
            "z = mu + torch.exp(0.5 * log_var) * eps # differentiable in mu and sigma\n"
            "loss = recon_nll(decoder(z), x) + beta * kl(mu, log_var)\n"
            "loss.backward()                         # gradients reach the encoder through z\n"
            "# torch.distributions.Normal(mu, sigma).rsample() does the same; .sample() cuts the gradient",
            language="python",
        )

# --------------------------------------------------------------------------- #
# 4 · This VAE's training as a timeline (issue 21)
# --------------------------------------------------------------------------- #
from dashboard import latent_compare  # noqa: E402  (plotly animation builders: only once the page got here)

latent_compare.replay_runs({"VAE": vae_run}, palette=ctx.palette, heading="4 · Replay the training")

common.copy_link_button()
