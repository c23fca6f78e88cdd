"""What a GAN page trains, in words (issue 20, section 1): the loss and every addition that is
active, each departure from the lecture's slide marked as such with its reason, and the slide's
own version named where the page offers it. Pure: config values in, Markdown out (no ``st.*``).

The GAN pages call :func:`recipe_markdown` with the run's real settings (the image and
transformer pages with the config dict they train; the 2D page with :data:`GAN2D_PRESETS` plus its
live controls, so that its first visit does not wait for PyTorch's import).
"""
from __future__ import annotations

from typing import Mapping

SLIDE_LOSS = "minimax"
LOSS_LABELS = {"minimax": "minimax (slide)", "non-saturating": "non-saturating", "lsgan": "least squares (LSGAN)"}
DEPARTURE = "*departure from the slide:*"

# Keyboard shortcuts of the GAN pages' training buttons: one key per action across the app (the guided
# walk uses ← / →; Streamlit reserves C and R). Bare letters: Streamlit does not fire them while a text,
# number or select field has the focus, and a focused slider only uses the arrow, Home/End and Page keys.
SHORTCUTS = {"train": "T", "pause": "P", "stop": "X", "step_d": "D", "step_g": "G", "step": "S"}


def shortcut_help(action: str) -> str:
    """The help text's sentence naming an action's keyboard shortcut."""
    return f"Keyboard: {SHORTCUTS[action]}."


# The 2D presets' values that the recipe names: genlab.train.gan_config.GAN_PRESETS over GANConfig /
# GANTrainConfig's defaults. Mirrored so that the 2D page draws its text without importing torch;
# tests/unit/test_gan_text.py checks them against gan_configs("gan", preset).
GAN2D_PRESETS: dict[str, dict] = {
    "vanilla": {"noise": "gaussian", "noise_skip": 0.0, "batch_size": 64, "ema": 0.0, "r1_gamma": 0.0,
                "r1_every": 1, "spectral_norm": False, "pack": 1, "betas": (0.5, 0.999), "momentum": 0.9},
    "default": {"noise": "clusters", "noise_skip": 1.0, "batch_size": 256, "ema": 0.999, "r1_gamma": 0.0,
                "r1_every": 1, "spectral_norm": False, "pack": 1, "betas": (0.5, 0.999), "momentum": 0.9},
}


def loss_line(loss: str) -> str:
    """The loss, and whether it is the slide's (Goodfellow et al. 2014, Algorithm 1) or a departure."""
    if loss == "minimax":
        return ("**Loss: the slide's minimax game.** D ascends J + J′ = log D(x) + log(1 − D(G(z))); "
                "G descends J′ = log(1 − D(G(z))), as in Algorithm 1.")
    if loss == "lsgan":
        return (f"**Loss: least squares (LSGAN)** — {DEPARTURE} D fits its raw score to 1 on real and 0 on fake "
                "data by squared error, and G pulls it to 1 (Mao et al. 2017), instead of the slide's log terms: "
                "fakes far on the wrong side of D's boundary still get a gradient. "
                "Pick *minimax (slide)* for the slide's game.")
    return (f"**Loss: non-saturating** — {DEPARTURE} D ascends the slide's log D(x) + log(1 − D(G(z))), but G "
            "minimises −log D(G(z)) instead of the slide's log(1 − D(G(z))). Same fixed point; the slide's G loss "
            "gives almost no gradient while D confidently rejects the fakes, which is the start of training "
            "(Goodfellow et al. 2014, §3, suggest this change themselves). Pick *minimax (slide)* for the "
            "slide's game.")


def _optimizer_words(name: str, betas, momentum) -> str:
    if name == "sgd":
        return f"SGD with momentum {float(momentum):g}"
    b1, b2 = (float(b) for b in betas)
    return f"Adam (β1 = {b1:g}, β2 = {b2:g})"


def optimizer_line(optimizer_d: str, optimizer_g: str, betas=(0.5, 0.999), momentum: float = 0.9) -> str:
    """Which optimizer updates D and G; Adam is a departure from Goodfellow's SGD with momentum."""
    d, g = _optimizer_words(optimizer_d, betas, momentum), _optimizer_words(optimizer_g, betas, momentum)
    who = f"**Optimizer: {d}** for D and G" if d == g else f"**Optimizers: {d} for D, {g} for G**"
    if "adam" not in (optimizer_d, optimizer_g):
        return who + " — as Goodfellow et al. trained (the slide's Algorithm 1 uses momentum)."
    b1 = float(betas[0])
    why = ("β1 = 0.5 is the DCGAN paper's setting (Radford et al. 2016), which trains small GANs with "
           "little tuning" if b1 == 0.5 else
           f"β1 = {b1:g} (no momentum) is how GANs with the R1 penalty are trained (Mescheder et al. 2018, "
           "StyleGAN2), and TransGAN and ViTGAN too: D and G react to each other at once"
           if b1 == 0.0 else "per-weight step sizes need less tuning")
    return f"{who} — {DEPARTURE} Goodfellow et al. used SGD with momentum; {why}."


def k_line(k_disc: int, batch_size: int | None = None) -> str:
    """Algorithm 1's k (and the minibatch size m)."""
    k = int(k_disc)
    batch = f" Minibatch m = {int(batch_size)} real and {int(batch_size)} fake samples." if batch_size else ""
    if k == 1:
        return ("**Algorithm 1 with k = 1**: one D update, then one G update — Goodfellow's choice, the "
                f"cheapest.{batch}")
    return (f"**Algorithm 1 with k = {k}**: {k} D updates, then one G update (Goodfellow used k = 1, the "
            f"cheapest).{batch}")


def addition_lines(train: Mapping, model: Mapping | None = None, *, lr_decay: str | None = None) -> list[str]:
    """One line per active addition to the slide's recipe, each marked as a departure with its reason.
    ``train`` / ``model``: GANTrainConfig / model config values (dicts); ``lr_decay`` overrides the
    train config's (the 2D page never decays)."""
    model = model or {}
    lines = []
    noise = model.get("noise")
    if noise == "clusters":
        lines.append(f"**Clustered noise p(z)** — {DEPARTURE} the slide's p(z) is a standard Gaussian; 256 small "
                     "separate Gaussians let a continuous G send each piece to its own mode with no bridge of "
                     "bad samples in between (Khayatkhoei et al. 2018).")
    elif noise == "uniform":
        lines.append("**Uniform noise p(z) = U(−1, 1)** (the slide: typically a standard Gaussian).")
    if float(model.get("noise_skip") or 0) > 0:
        lines.append(f"**G(z) = z + MLP(z)** — {DEPARTURE} G adds its first two noise coordinates (scaled to unit "
                     "spread) to the network's output, so the first fakes lie spread over the plane like the "
                     "standardized data, not in a blob at the origin: every mode has fakes near it from the start.")
    if int(model.get("pack") or 1) > 1:
        lines.append(f"**PacGAN, pack {int(model['pack'])}** — {DEPARTURE} D judges {int(model['pack'])} samples "
                     "at once, so a G that makes the same point twice is caught (Lin et al. 2018).")
    if model.get("spectral_norm"):
        lines.append(f"**Spectral normalization on D** — {DEPARTURE} it bounds D's slope (Miyato et al. 2018).")
    gamma = float(train.get("r1_gamma") or 0)
    if gamma > 0:
        every = int(train.get("r1_every") or 1)
        lazy = (f"**Lazy R1 penalty** (γ = {gamma:g}, on every {_ordinal(every)} D update)" if every > 1
                else f"**R1 penalty** (γ = {gamma:g})")
        tail = (f"; applying it only every {_ordinal(every)} update is StyleGAN2's lazy regularization "
                "(Karras et al. 2020), cheaper per step") if every > 1 else ""
        lines.append(f"{lazy} — {DEPARTURE} D also pays γ/2 · ‖∇ₓ logit D(x)‖² on real data, which keeps D "
                     f"from growing steep at the data and the game from oscillating (Mescheder et al. 2018){tail}.")
    ema = float(train.get("ema") or 0)
    if ema > 0:
        lines.append(f"**EMA of G** (decay {ema:g}) — {DEPARTURE} the samples shown come from an exponential "
                     "moving average of G's weights, not from G itself: the average smooths out G's oscillation "
                     "around the equilibrium (Yazıcı et al. 2019). Training updates G as usual.")
    decay = lr_decay if lr_decay is not None else train.get("lr_decay", "none")
    if decay == "linear":
        final = float(train.get("lr_final") or 0)
        target = "0" if final == 0 else f"{final:g} × its start value"
        lines.append(f"**Learning rate decays linearly** to {target} over the run — "
                     f"{DEPARTURE} Algorithm 1's steps keep one rate; the decay lets the game settle at the end.")
    return lines


def _ordinal(n: int) -> str:
    return {2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def recipe_markdown(train: Mapping, model: Mapping | None = None, *, lr_decay: str | None = None,
                    k_disc: int | None = None) -> str:
    """A Markdown list: loss, optimizer, Algorithm 1's k and every active addition (see the module
    docstring). ``k_disc`` / ``lr_decay`` override the train config's values."""
    lines = [loss_line(str(train.get("loss", "non-saturating"))),
             optimizer_line(train.get("optimizer_d", "adam"), train.get("optimizer_g", "adam"),
                            train.get("betas", (0.5, 0.999)), train.get("momentum", 0.9)),
             k_line(k_disc if k_disc is not None else train.get("k_disc", 1), train.get("batch_size"))]
    lines += addition_lines(train, model, lr_decay=lr_decay)
    return "\n".join(f"- {line}" for line in lines)


def recipe_summary(train: Mapping, model: Mapping | None = None, *, lr_decay: str | None = None,
                   k_disc: int | None = None, where: str = "below", who: str = "Trains") -> str:
    """One line naming what trains, each departure from the slide marked with †: e.g.
    ``Trains: non-saturating loss† · Adam† · k = 1 · m = 64 · EMA of G†``; ``where`` says where the
    reasons are (:func:`recipe_markdown`), ``who`` is the line's first word(s)."""
    model = model or {}
    loss = str(train.get("loss", "non-saturating"))
    parts = [f"{LOSS_LABELS.get(loss, loss)} loss" + ("" if loss == SLIDE_LOSS else "†")]
    optimizers = {train.get("optimizer_d", "adam"), train.get("optimizer_g", "adam")}
    parts.append(" / ".join("Adam†" if o == "adam" else "SGD + momentum" for o in sorted(optimizers)))
    # no-break spaces: "k = 1" and "m = 64" never wrap inside
    parts.append(f"k\u00a0=\u00a0{int(k_disc if k_disc is not None else train.get('k_disc', 1))}")
    if train.get("batch_size"):
        parts.append(f"m\u00a0=\u00a0{int(train['batch_size'])}")
    if model.get("noise") == "clusters":
        parts.append("clustered z†")
    if float(model.get("noise_skip") or 0) > 0:
        parts.append("z + MLP(z)†")
    if int(model.get("pack") or 1) > 1:
        parts.append("PacGAN†")
    if model.get("spectral_norm"):
        parts.append("spectral norm†")
    if float(train.get("r1_gamma") or 0) > 0:
        parts.append("lazy R1†" if int(train.get("r1_every") or 1) > 1 else "R1†")
    if float(train.get("ema") or 0) > 0:
        parts.append("EMA of G†")
    if (lr_decay if lr_decay is not None else train.get("lr_decay", "none")) == "linear":
        parts.append("lr decay†")
    text = " · ".join(parts)
    tail = f" — † departs from the slide (why: {where})." if "†" in text else " — the slide's recipe."
    return f"**{who}:** {text}{tail}"


def dcgan_scale_line(model: Mapping) -> str:
    """How the page's DCGAN is scaled down from the slide's (Radford et al. 2016: "project and reshape"
    to 4×4×1024, then four fractionally-strided convolutions up to a 64×64 colour image)."""
    size = int(model.get("image_size", 8))
    channels = int(model.get("channels", 64))
    start = size // 4
    return (f"**Scaled down from the slide's DCGAN.** The slide's generator projects z to 4×4×1024 and grows a "
            "64×64 colour image (three channels) through **four** fractionally-strided convolutions; ours projects "
            f"z to {start}×{start}×{2 * channels} and grows a {size}×{size} grey image (one channel) through "
            "**two** — small enough to train on a CPU during the lecture.")


# --------------------------------------------------------------------------- predict-then-reveal answers
# (issue 20, section 2): computed from what the page has, a shipped demo's evaluation or the page's own run;
# ``None`` with a message saying what is missing when the page cannot know yet.
RING8_DEMOS = {"vanilla": "gan-ring8-vanilla", "default": "gan-ring8"}
PRESET_MODES_OPTIONS = ("vanilla", "stabilised", "both the same")
D_STEPS_OPTIONS = ("more modes than the demo", "the same number", "fewer modes")
# the page's settings that must match the vanilla demo's for the k question to compare like with like
VANILLA_DEMO_SETTINGS = {"dataset": "ring8", "preset": "vanilla", "layers": 3, "width": 128, "zdim": 2,
                         "noise": "gaussian", "seed": 0}
VANILLA_DEMO_LIVE = {"lr_d": 1e-3, "lr_g": 1e-3, "loss": "non-saturating", "optimizer_d": "adam",
                     "optimizer_g": "adam"}


def _n(value) -> str:
    """A step count as the pages write it: 6 000."""
    return f"{int(value):,}".replace(",", "\u2009")


def _modes(evaluation: Mapping | None) -> float | None:
    value = (evaluation or {}).get("modes_covered")
    return float(value) if isinstance(value, (int, float)) else None


def preset_modes_answer(vanilla_eval: Mapping | None, stabilised_eval: Mapping | None) -> tuple[int | None, str]:
    """``(answer index into PRESET_MODES_OPTIONS or None, why or what is missing)`` from the final
    evaluations of the two shipped ring8 demos (status.json's ``eval``)."""
    a, b = _modes(vanilla_eval), _modes(stabilised_eval)
    if a is None or b is None:
        return None, ("The shipped ring8 demos (demos/gan-ring8-vanilla, demos/gan-ring8) are not on this server, "
                      "so the page cannot answer: make them with `python -m genlab demos`, or train both presets "
                      "here and compare the *Modes covered* chart.")
    index = 0 if a > b else 1 if b > a else 2
    hq = [float((e or {}).get("high_quality_share", float("nan"))) for e in (vanilla_eval, stabilised_eval)]
    return index, (f"After 6 000 steps the vanilla demo covered **{a:g} of 8** modes ({hq[0]:.0%} of its samples "
                   f"near a mode), the stabilised one **{b:g} of 8** ({hq[1]:.0%}) — measured on 2 500 samples "
                   "(demos/gan-ring8-vanilla and demos/gan-ring8, one seed each). Clustered noise gives G separate "
                   "pieces to send to separate modes, with no bridge of bad samples between them. Train either "
                   "preset on ring8 here and watch the *Modes covered* chart under the plane.")


def _setting_differences(page: Mapping, live: Mapping) -> list[str]:
    wrong = [f"{name} {page.get(name)!r} (the demo: {value!r})" for name, value in VANILLA_DEMO_SETTINGS.items()
             if page.get(name) != value]
    for name, value in VANILLA_DEMO_LIVE.items():
        got = live.get(name)
        if isinstance(value, float):
            same = isinstance(got, (int, float)) and abs(float(got) - value) < 1e-12
        else:
            same = got == value
        if not same:
            wrong.append(f"{name} {got!r} (the demo: {value!r})")
    return wrong


def more_d_steps_answer(snap: Mapping | None, page: Mapping, demo_eval: Mapping | None,
                        target_step: int = 6000) -> tuple[int | None, str]:
    """``(answer index into D_STEPS_OPTIONS or None, why or what the run still lacks)``: the page's own
    vanilla run on ring8 with k ≥ 2 from its first step, its mode coverage at ``target_step`` against
    the shipped vanilla demo's (k = 1, same settings otherwise). ``page``: the page's restart settings
    (keys of VANILLA_DEMO_SETTINGS); ``snap``: the run's snapshot (evals, hyperparameters, changes)."""
    demo = _modes(demo_eval)
    if demo is None:
        return None, ("The shipped vanilla demo (demos/gan-ring8-vanilla) is not on this server: the page has "
                      "nothing to compare your run with (`python -m genlab demos` makes it).")
    todo = (f"This question is about a run the page does not have yet: with the vanilla preset on ring8 and the "
            f"starting settings, set k = 5, press Train and let it pass step {_n(target_step)} (pause, or let it "
            "finish, to see the answer here).")
    if not snap:
        return None, todo
    live = snap.get("hyperparameters") or {}
    differences = _setting_differences(page, live)
    k = live.get("k_disc")
    k_changed = any("k_disc=" in str(change) for _, change in (snap.get("changes") or []))
    if differences or not isinstance(k, int) or k < 2 or k_changed:
        why = ("; ".join(differences) if differences else
               "k changed during the run" if k_changed else f"k = {k}")
        return None, f"{todo} The run on the page does not compare with the demo ({why}): Reset and start again."
    steps = list((snap.get("evals") or {}).get("step", []))
    modes = list((snap.get("evals") or {}).get("modes", []))
    at = next((i for i, s in enumerate(steps) if s >= target_step and modes[i] == modes[i]), None)
    if at is None:
        return None, f"{todo} Your run (k = {k}) is at step {_n(snap.get('step', 0))}."
    mine = float(modes[at])
    index = 0 if mine > demo else 2 if mine < demo else 1
    return index, (f"Your run with k = {k} covered **{mine:g} of 8** modes at step {_n(steps[at])}; the demo "
                   f"with k = 1 covered **{demo:g}** at step 6 000 (see the *Modes covered* chart under the plane). "
                   "One seed each, and coverage hops between evaluations as G chases D: try another seed before "
                   "you trust the difference.")


IMAGE_DEMOS = {"dcgan": "dcgan-digits", "cgan": "cgan-digits"}
CONDITIONAL_OPTIONS = ("yes: a lower Fréchet distance", "about the same (within 10 %)", "no: a higher Fréchet distance")


def conditional_fd_answer(dcgan_eval: Mapping | None, cgan_eval: Mapping | None) -> tuple[int | None, str]:
    """``(answer index into CONDITIONAL_OPTIONS or None, why or what is missing)`` from the shipped
    DCGAN and conditional-GAN demos' final Fréchet distances (lower is better)."""
    fd = [(e or {}).get("frechet_distance") for e in (dcgan_eval, cgan_eval)]
    if not all(isinstance(v, (int, float)) and v == v for v in fd):
        return None, ("The shipped digit demos (demos/dcgan-digits, demos/cgan-digits) are not on this server, so "
                      "the page cannot answer: make them with `python -m genlab demos`, or train both models here.")
    plain, conditional = (float(v) for v in fd)
    ratio = conditional / plain
    index = 1 if abs(ratio - 1) <= 0.1 else 0 if ratio < 1 else 2
    accuracy = (cgan_eval or {}).get("label_accuracy")
    named = (f", and the digit classifier calls {float(accuracy):.0%} of its samples the class they were made for"
             if isinstance(accuracy, (int, float)) else "")
    return index, (f"Fréchet distance after 6 000 steps: DCGAN **{plain:.1f}**, conditional GAN **{conditional:.1f}**"
                   f"{named} (one seed each, scored when the demos were made; the page scores a loaded run again "
                   "from its stored weights, which can differ in the last digit). Pick *Conditional GAN p(x | y)* above to see its samples, one row per "
                   "class: D judges *is this a real image of class y?*, a sharper question than *is this real?*.")


RACE_OPTIONS = ("the transformer GAN", "DCGAN", "about the same (within 10 %)")


def race_answer(evals: Mapping | None, finished: bool) -> tuple[int | None, str]:
    """``(answer index into RACE_OPTIONS or None, why or what is missing)``: which model of an
    equal-time race ended with the lower Fréchet distance (``evals``: model name -> its curve, as
    the race view holds them; ``finished``: the race has ended)."""
    if not evals or not finished:
        return None, ("This question is about a race the page does not have yet for these settings: press Train "
                      "(both models train in turns), and the answer appears here when the race ends."
                      if not evals else "The race is still running: the answer appears here when it ends.")
    last = {}
    for name in ("tgan", "dcgan"):
        values = [float(v) for v in (evals.get(name) or {}).get("frechet_distance", []) if v is not None and v == v]
        if not values:
            return None, "The race has no Fréchet distance for both models yet: train it again."
        last[name] = values[-1]
    ratio = last["tgan"] / last["dcgan"]
    index = 2 if abs(ratio - 1) <= 0.1 else 0 if ratio < 1 else 1
    return index, (f"At the end of the race: transformer GAN **{last['tgan']:.1f}**, DCGAN **{last['dcgan']:.1f}** "
                   "(Fréchet distance, lower is better; one seed). See the race chart below: which model leads can "
                   "change during the race, and the transformer needs its tricks (few tokens, R1, overlapping "
                   "patches) to keep up with a CNN on 8×8 digits.")
