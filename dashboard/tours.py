"""The guided walks' content (issue 20 section 4): pure data, drawn by dashboard/tour.py.

``WALKS[page_id]`` is a lesson page's walk: 4 to 8 :class:`Step`. A step's ``settings`` are query
values exactly as the page's qp_* widgets write them in the address (``str(option)`` for a select
or radio, numbers as ``common`` formats them: ``0.5``, ``-0.9``, ``0``; ``1``/``0`` for a toggle;
a tab's URL name), never a control's default (the page leaves a default out of its address).
Each step starts from the page's defaults: opened from ``?tour=N`` or reached with Next, step N
shows the same view. ``look_at`` names the keys of the elements the step points at (the page's
``key=`` of a figure, table, widget or ``st.container``; ``predict-<id>`` for a prediction
question); ``look_label`` says in words what that is. ``question`` is the id of the prediction question
(dashboard/predict.py) the step asks the student to answer; its box is then outlined too.

What a step says must be what the page computes (tests/app/test_tour_content.py checks the
numbers quoted here against genlab) and what the lecture says.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

__all__ = ["Step", "WALKS", "PAGES"]


@dataclass(frozen=True)
class Step:
    """One step of a walk: what to set, where to look, what to notice."""

    title: str
    text: str                                    # markdown: what to do and what to notice
    settings: Mapping[str, str] = field(default_factory=dict)   # query name -> URL value
    look_at: tuple[str, ...] = ()                # element keys to outline
    look_label: str = ""                         # the same in words ("the bar chart of the terms")
    question: str = ""                           # id of the page's prediction question this step asks

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        if self.look_at and not self.look_label:
            raise ValueError(f"step {self.title!r}: look_at needs a look_label")


KL_SLIDE = "Slide rows 2 & 3: q = (0.9, 0.1), p = (0.1, 0.9)"
KL_EQUAL = "Slide rows 1 & 4: q = p = (0.9, 0.1)"
KL_ZERO_P = "Zero in p: q(x) > 0 where p(x) = 0"
KL_ZERO_Q = "Zero in q: 0 · log 0 = 0"
KL_DIE = "Fair die q vs loaded die p"

GKL_MIXTURE = "Mixture p (PRML Fig. 10.3)"

BN_SPRINKLER = "sprinkler/rain/wet grass"
BN_COLLIDER = "v-structure (collider, explaining away)"
BN_CHAIN = "chain A → B → C"

_KL_DISCRETE = (
    Step("Predict: which is larger?",
         "The slide's rows 2 and 3 as a table: q = (0.9, 0.1), p = (0.1, 0.9). Before the numbers "
         "show: which is larger, KL(q‖p) or KL(p‖q)? Answer the question on the right.",
         question="kl-larger",
         look_at=("kl_table_0",), look_label="the table of q and p"),
    Step("One term per outcome",
         "Each row adds q(x)·log(q(x)/p(x)) to KL(q‖p): where q puts much mass that p does not expect "
         "the term is large (0.9·ln 9 ≈ **1.98**, a *big increase*); where q has little mass it can "
         "only be a little negative (0.1·ln(1/9) ≈ **−0.22**). KL(q‖p) is their sum, **1.76** nats. "
         "Here p is q with the outcomes swapped, so KL(p‖q) has the same terms: equal, by accident.",
         look_at=("kl_contributions",), look_label="the bar chart of each outcome's term"),
    Step("Not symmetric",
         "A fair die q against a loaded die p (a six half of the time): KL(q‖p) ≈ **0.24** but "
         "KL(p‖q) ≈ **0.29** nats. Compare each outcome's two bars: the six, where p has 0.5 and q "
         "only 1/6, weighs 0.5·ln 3 in KL(p‖q) but 1/6·ln(1/3) in KL(q‖p). (Opened here first? "
         "The page shows its numbers once you have answered its question.)",
         settings={"preset": KL_DIE}, question="kl-larger",
         look_at=("kl_contributions",), look_label="the bar chart of the terms of both directions"),
    Step("A zero in p: KL(q‖p) = ∞",
         "Outcome b has q(b) = 0.5 but p(b) = 0: q puts mass where p says the outcome is impossible, "
         "log(q/0) = ∞, so **KL(q‖p) = ∞**. That is not an error, it is the answer. KL(p‖q) stays "
         "finite: the term of b in that sum is 0·log 0 = 0.",
         settings={"preset": KL_ZERO_P},
         look_at=("kl_distributions",), look_label="the two distributions (the hatched bar)"),
    Step("A zero in q: 0 · log 0 = 0",
         "Now q(c) = 0 where p(c) = 0.5. In KL(q‖p) the row counts as 0 (0·log 0 = 0), so KL(q‖p) = "
         "ln 2 ≈ **0.69** nats is finite, while **KL(p‖q) = ∞**. Which direction punishes a q that "
         "misses part of p? That is what a VAE's KL(q(z|x)‖p(z)) and a GAN's divergence differ on.",
         settings={"preset": KL_ZERO_Q},
         look_at=("kl_contributions",), look_label="the bars of outcome c"),
    Step("KL = 0 only when q = p",
         "The slide's rows 1 and 4: q = p = (0.9, 0.1). Every term is 0, so both divergences are "
         "exactly 0 — the second of the slide's three properties. Edit one cell of q (and press "
         "Normalize): both become positive.",
         settings={"preset": KL_EQUAL},
         look_at=("kl_table_0",), look_label="the editable table"),
    Step("The slide's table, reproduced",
         "The slide's four rows, one outcome x′ each, all else constant. The slide prints 1.97 and "
         "−0.21 where the terms are 1.9775… and −0.2197… nats: it truncates. Its row 4 (q = p = 0.1) "
         "is exactly 0, *no increase*, like row 1.",
         look_label="the slide's table at the bottom of the page"),
)

_GAUSSIAN_KL = (
    Step("The exercise",
         "p = N(0, Σ) with σ₁ = σ₂ = 1 and correlation ρ = 0.9: a tilted ellipse. q must be a "
         "product of two independent Gaussians, an ellipse **without tilt** (your guess, dashed). Move m₁, m₂, "
         "s₁, s₂ on the right and make **KL(q‖p)** of your guess as small as you can.",
         look_at=("gaussian_kl_figure",), look_label="the figure: p and your guess q"),
    Step("Predict: narrow or wide?",
         "Your guess now has p's means and marginal widths (s = 1). Move s₁ and watch both numbers "
         "above the sliders: KL(q‖p) and KL(p‖q) do not agree on the best width. Then answer the "
         "question: which optimal q is narrower?",
         settings={"gm1": "0", "gm2": "0", "gs1": "1", "gs2": "1"}, question="gkl-narrow",
         look_at=("gs1",), look_label="the s₁ slider"),
    Step("The optimum, revealed",
         "Both optima keep the means at μ. **argmin KL(q‖p)** is narrow: sᵢ² = 1/Λᵢᵢ = "
         "σᵢ²(1 − ρ²), here s ≈ **0.44**; it stays inside p. **argmin KL(p‖q)** matches p's "
         "marginals, s = **1**, and covers p, also where p is small (PRML §10.1.2).",
         settings={"reveal": "1"},
         look_at=("gaussian_kl_figure",), look_label="the figure, and the table of the optima under it"),
    Step("No correlation, no difference",
         "ρ = 0: p itself factorizes, so q can equal p and both optima coincide with it (s = 1). The "
         "gap between the two answers comes only from the correlation that q cannot express.",
         settings={"reveal": "1", "rho": "0"},
         look_at=("gaussian_kl_figure",), look_label="the figure, and the table of the optima under it"),
    Step("Gradient descent from your guess",
         "Animate descent runs gradient descent on KL(q‖p) from your guess (m = (1, −1)). Press ▶ "
         "under the figure and watch q shrink into p's ellipse; the caption says where it ends.",
         settings={"reveal": "1", "descent": "1"},
         look_at=("gaussian_kl_figure",), look_label="the figure and its ▶ play button"),
    Step("Predict: two modes",
         "p is now a mixture of two Gaussians (PRML Fig. 10.3); q is still one Gaussian without "
         "tilt. Which fit will sit on one mode, and which will spread over both? Answer the question.",
         settings={"mode": GKL_MIXTURE}, question="gkl-modes",
         look_at=("gaussian_kl_figure",), look_label="the figure: the mixture p"),
    Step("Two modes: KL(q‖p) picks one",
         "Started near a mode, KL(q‖p) locks onto that mode: two local minima, each "
         "*mode-seeking*. KL(p‖q) has one optimum, moment matching: q covers both modes and puts "
         "mass between them, where p has little. The legend names each curve.",
         settings={"mode": GKL_MIXTURE, "reveal": "1"},
         look_at=("gaussian_kl_figure",), look_label="the figure: the mixture and the optima"),
    Step("Descent on KL(p‖q)",
         "The same descent on the other direction, KL(p‖q): from your guess it spreads q over both "
         "modes. This is the difference between a q fitted by KL(q‖p), as in the VAE's ELBO, and one "
         "fitted by KL(p‖q), as maximum likelihood does.",
         settings={"mode": GKL_MIXTURE, "reveal": "1", "descent": "1", "obj": "KL(p||q)"},
         look_at=("gaussian_kl_figure",), look_label="the figure and its ▶ play button"),
)

_LATENT = (
    Step("Two latent spaces",
         "An autoencoder (left) and a VAE (right), same network, data and seed, K = 2. Each dot is the "
         "code of a test digit. The AE puts its codes wherever reconstruction likes them; the VAE pays "
         "KL(q(z|x)‖N(0, I)) and packs them inside the prior's circles (radius 1, 2, 3).",
         look_at=("latent_pair",), look_label="the two latent planes"),
    Step("Predict: decoding random codes",
         "Section 2 decodes 64 random draws z ~ N(0, I) — the × marks on the planes. Before you "
         "scroll there: whose decoded samples will look more like real digits, the autoencoder's or "
         "the VAE's? Answer the question.",
         question="latent-prior",
         look_at=("latent_pair",), look_label="the × marks: the 64 prior samples"),
    Step("Samples from the prior",
         "The lecture's point: the AE's latent space is sparse, so many prior samples land between or "
         "away from its codes. Compare the two mosaics, and the numbers: the Fréchet distance (lower = "
         "more like real digits) and the classifier's confidence. (Opened here first? The mosaics "
         "show once you have answered the question above them.)",
         look_at=("prior_pair",), look_label="the two mosaics of decoded prior samples"),
    Step("The decoded latent plane",
         "Every tile decodes one point of a grid over [−4, 4]². The VAE's plane changes smoothly and "
         "every tile looks like a digit; parts of the AE's square decode to blurs because no code "
         "lies there.",
         settings={"extent": "4"},
         look_at=("grid_pair",), look_label="the two decoded grids"),
    Step("Interpolation",
         "Walk in a straight line from the code of test image A to that of B. Notice whether the "
         "in-between images are digits all the way (no holes on the path) or pass through blurs.",
         settings={"walk": "interpolation"},
         look_at=("interp_ae", "interp_vae"), look_label="the two rows of interpolated images"),
    Step("Latent traversal",
         "Move one coordinate of z from −3 to 3, the other held at the sliders' value. Each step of "
         "the sweep is one image: what does z₁ change in the VAE's digits, and in the AE's?",
         settings={"walk": "traversal"},
         look_at=("trav_ae", "trav_vae"), look_label="the two sweeps"),
    Step("More dimensions: K = 8",
         "With K = 8 the AE has more room to scatter its codes. The VAE with K = 8 is a shipped "
         "demo; the AE trains when you press **Train** (the live view shows its codes). Then compare "
         "section 2 again: does the gap between the AE's and the VAE's samples grow?",
         settings={"k": "8"},
         look_at=("_latent_train",), look_label="the Train button"),
)

_ELBO = (
    Step("The ELBO, term by term",
         "The VAE minimises the negative ELBO, reconstruction −E_q[log p(x|z)] plus KL(q(z|x)‖p(z)), "
         "per image. Watch the two terms over the epochs: reconstruction falls while the KL term, after "
         "the first epochs, grows — the codes carry more information about x, and that costs KL.",
         look_at=("elbo",), look_label="the chart of the ELBO terms per epoch"),
    Step("KL of each latent dimension",
         "The KL term is a sum over the K latent dimensions. With K = 8, count how many carry "
         "information (KL well above 0): the metric *Active latent dimensions* counts them. An "
         "inactive dimension has q(z_k|x) = p(z_k) for every x.",
         settings={"k": "8"},
         look_at=("kl_dims",), look_label="the KL of each latent dimension"),
    Step("Predict: β = 4",
         "β weights the KL term: the loss is reconstruction + β·KL (β = 1 is the negative ELBO). "
         "What happens to the KL term on the test split at β = 4? Answer the question; it is "
         "answered from stored runs with β = 1 and β = 4 (the β sweep trains them).",
         question="elbo-beta4",
         look_at=("_elbo_sweep",), look_label="the button that trains the β sweep"),
    Step("The β sweep: posterior collapse",
         "Seven VAEs with β from 0.1 to 16, once the sweep is trained. As β grows, KL drops, "
         "dimensions go inactive and reconstruction worsens; at large β the decoded prior samples "
         "stop depending on z.",
         look_at=("beta_sweep", "_elbo_sweep"), look_label="the β sweep chart (or its Train button)"),
    Step("Can we backpropagate through z?",
         "Sampling z blocks the gradient. Two unbiased estimators of ∇E[f(z)]: the score function and "
         "the reparameterization z = μ + σ·ε. With one sample, which varies less? Answer, then read "
         "the chart of their variance against S.",
         question="elbo-reparam",
         look_at=("grad_var",), look_label="the variance chart"),
    Step("When the trick does not win",
         "f(z) = cos z at μ = 0.5: a bounded, wiggly f. Compare the variance ratio for ∂/∂μ with "
         "the one for f(z) = z²: the reparameterization is usually far better, not always.",
         settings={"f": "cos", "mu": "0.5"},
         look_at=("grad_var",), look_label="the variance chart"),
)

_GAN_2D = (
    Step("The plane",
         "The real data: 8 Gaussians on a ring. Once G and D exist (the first step, next), the plane "
         "also shows the generator's fakes G(z) for a fixed set of z, the discriminator's opinion D(x) "
         "as its background, and arrows where G's next update pushes each fake.",
         look_at=("gan2d_plane", "gan2d_plane_live"), look_label="the plane"),
    Step("One step at a time",
         "Algorithm 1 alternates. Press **1 D step** a few times: θ (G) stays fixed, only the "
         "background changes. Then **1 G step**: φ (D) stays fixed and the fakes move along the "
         "arrows, toward where D says *real*.",
         look_at=("_gan2d_step_d", "_gan2d_step_g"), look_label="the single-step buttons"),
    Step("Train the vanilla GAN",
         "Press **Train** and watch the fakes. On ring8 the plain GAN often gathers on a few of the "
         "eight modes and hops between them: *mode collapse*. The chart of modes covered (under "
         "Over time) counts them.",
         look_at=("_gan2d_play", "gan2d_modes", "gan2d_charts_live"),
         look_label="Train, and the modes-covered chart"),
    Step("Predict: more discriminator steps",
         "k is the number of D updates per G update (Goodfellow's k = 1 is the cheapest). The vanilla "
         "GAN misses modes on ring8: what will k = 5 do? Answer the question, then Reset and Train.",
         settings={"k": "5"}, question="gan2d-more-d-steps",
         look_at=("k",), look_label="the k slider"),
    Step("The slide's minimax loss",
         "G minimises log(1 − D(G(z))), the slide's game, with k = 5 so D wins early. When D "
         "confidently rejects the fakes, D(G(z)) ≈ 0 and G's gradient vanishes: G stalls. The "
         "non-saturating −log D(G(z)) (the default) has the same fixed point but a strong gradient there.",
         settings={"k": "5", "loss": "minimax"},
         look_at=("gan2d_saturation",), look_label="the saturation chart"),
    Step("The stabilised preset",
         "genlab's benchmark setting: clustered noise, G(z) = z + MLP(z), an EMA of G's weights and "
         "batch 256. Which preset covers more modes? Answer the question (two shipped demo runs "
         "answer it), then train it on ring8 and compare with your vanilla run.",
         settings={"preset": "default"}, question="gan2d-preset-modes",
         look_at=("_gan2d_play", "gan2d_modes", "gan2d_charts_live"),
         look_label="Train, and the modes-covered chart"),
    Step("25 modes",
         "The same preset on a 5×5 grid of Gaussians: a harder target. Watch the high-quality share "
         "(fakes near some mode) and the modes covered.",
         settings={"preset": "default", "data": "grid25"},
         look_at=("gan2d_modes", "gan2d_charts_live"), look_label="the modes-covered chart"),
)

_GAN_IMAGES = (
    Step("A DCGAN on digits",
         "A shipped demo run: G projects z and grows the image with fractionally-strided "
         "convolutions; D is a strided CNN. The grid shows samples from fixed noise; the Fréchet "
         "distance (lower is better) compares them with real test digits.",
         look_at=("img_fd",), look_label="the Fréchet distance over training"),
    Step("The two players",
         "D(x) on real images and D(G(z)) on fakes over training: D tries to keep them apart, G to "
         "close the gap. Neither curve settles at 1 or 0 — the game goes on.",
         look_at=("img_dout", "img_loss"), look_label="D's outputs and the two losses"),
    Step("Class-conditional: p(x | y)",
         "A label embedding is appended to G's noise and to D's input, so G learns p(x | y): "
         "classification run in reverse. Does telling both networks the class give better samples? "
         "Answer the question, then pick a class below the grid.",
         settings={"model": "cgan", "y": "7"}, question="ganimg-conditional",
         look_at=("y",), look_label="the class picker"),
    Step("PatchGAN",
         "A PatchGAN discriminator outputs one verdict per patch instead of one per image, so G is "
         "pushed to make every patch look real. No stored run has these settings: press **Train**; "
         "the map of D's verdicts per patch appears as it trains.",
         settings={"disc": "patch"},
         look_at=("img_patch",), look_label="D's verdict per patch"),
    Step("The slide's minimax loss",
         "The slide's game, G minimising log(1 − D(G(z))), instead of the default non-saturating "
         "loss. Train it and compare the Fréchet distance with the demo's.",
         settings={"loss": "minimax"},
         look_at=("img_fd",), look_label="the Fréchet distance over training"),
)

_TRANSFORMER = (
    Step("An image as a sequence",
         "ViT on the slides: the image is cut into P×P patches, each embedded linearly, with a "
         "learned 1D position, and a class token [\\*] in front. With P = 4 an 8×8 digit is 4 tokens "
         "of 16 pixels plus [\\*]: a sequence of 5.",
         look_at=("_tgan_patches",), look_label="the patches of a test digit"),
    Step("Smaller patches, longer sequences",
         "P = 2: 16 tokens of 4 pixels, a sequence of 17, and attention compares all 17² = 289 "
         "pairs. Smaller patches see finer detail but each step costs more.",
         settings={"patch": "2"},
         look_at=("_tgan_patches",), look_label="the patches of a test digit"),
    Step("The race",
         "ViT is not inherently a generative model; TransGAN and ViTGAN make both players "
         "transformers. Here a transformer GAN and a DCGAN train for the same time. The shipped demo "
         "race shows their Fréchet distance against seconds of training: which one ends lower? "
         "Answer the question first.",
         question="tgan-race",
         look_at=("_tgan_race",), look_label="the race chart"),
    Step("Where does [\\*] look?",
         "The discriminator reads its real/fake score from [\\*]'s output. Each map is one row of the "
         "last block's attention: how [\\*] spreads its attention over the patches, for real digits "
         "(top) and generated ones (bottom).",
         look_at=("_tgan_attention",), look_label="the attention maps"),
    Step("Patch by patch",
         "The generator emits one token per patch and turns each into the pixels of its patch "
         "(as ViTGAN's generator does). Move the slider to add the tokens one at a time.",
         settings={"tokens": "1"},
         look_at=("_tgan_pbp", "tokens"), look_label="the patch-by-patch figure and its slider"),
)

_BAYES = (
    Step("A graph and its tables",
         "A Bayesian network is a graph G (the qualitative part) and one conditional probability "
         "table per variable (the quantitative part). The joint is the product "
         "P(Cloudy) P(Sprinkler | Cloudy) P(Rain | Cloudy) P(Wet grass | Sprinkler, Rain).",
         look_at=("bn_graph",), look_label="the graph G"),
    Step("Three types of graphical models",
         "The same network as a directed graph, an undirected graph (its parents married: Sprinkler–Rain) "
         "and a factor graph with one square per table. The missing edges are the independence "
         "assumptions: 9 free parameters instead of 15 for a full joint table.",
         look_at=("bn_graph_types",), look_label="the three drawings"),
    Step("Ancestral sampling",
         "Draw each variable after its parents. With n = 100 samples the sampled joint is rough; the "
         "chart of the total-variation distance shows it shrinking as n grows.",
         settings={"n": "100"},
         look_at=("bn_joint_bars", "bn_tv_curve"), look_label="the sampled vs exact joint, and the TV curve"),
    Step("A query: is it raining?",
         "The grass is wet. By enumeration over the joint, P(Rain = yes | Wet grass = yes) ≈ 0.71, "
         "up from 0.5 before the evidence.",
         look_at=("bn_query_chart",), look_label="the chart of P(Rain) before and after"),
    Step("Predict: the sprinkler was on",
         "Given the grass is wet, does learning that the sprinkler was on make rain more or less "
         "likely? Answer the question before the next step adds Sprinkler = yes to the evidence.",
         question="bn-explaining-away"),
    Step("The sprinkler explains the wet grass away",
         "With Sprinkler = yes observed as well, P(Rain = yes) falls to ≈ 0.32: the two causes "
         "compete once their common effect is seen. Cloudy links them too, but here the sprinkler "
         "being on is evidence *against* clouds, and so against rain.",
         settings={"ev": "Sprinkler:yes|Wet grass:yes"},
         look_at=("bn_query_chart",), look_label="the chart of P(Rain)"),
    Step("Explaining away, the v-structure",
         "Burglary and Earthquake are independent until the alarm is observed. Given Alarm = yes, "
         "also learning Earthquake = yes lowers P(Burglary = yes) from ≈ 0.39 to ≈ 0.15.",
         settings={"preset": BN_COLLIDER, "ev": "Earthquake:yes|Alarm:yes"},
         look_at=("bn_query_chart", "bn_graph"), look_label="the query chart and the graph"),
)

_EDITING = (
    Step("Predict: filling in a hidden half",
         "The bottom half of a test digit is hidden. Latent optimization looks for the code z whose "
         "decoded image matches the visible pixels and stays likely under N(0, I): "
         "argmin ‖A(decode(z)) − y‖² + λ‖z‖². Which completion will the classifier read as the right "
         "digit? Answer the question, then compare the panels.",
         question="edit-inpaint",
         look_at=("_edit_panels",), look_label="the row of panels"),
    Step("No prior: λ = 0",
         "Fit the visible pixels only. Without λ‖z‖² nothing keeps z where the decoder has seen "
         "codes; look at whether the filled-in half still reads as a digit.",
         settings={"lam": "0.0"},
         look_at=("_edit_panels",), look_label="the row of panels"),
    Step("Two numbers are not enough: K = 2",
         "The VAE of the latent-spaces page, K = 2: two numbers must hold both the digit's identity "
         "and its style, so the completions match the visible half less well.",
         settings={"k": "2"},
         look_at=("_edit_panels",), look_label="the row of panels"),
    Step("Uncropping",
         "Hide the left half instead: uncropping. The conditional VAE draws several completions "
         "from different z — the missing half is uncertain, and its draws show that.",
         settings={"mask": "left"},
         look_at=("_edit_panels",), look_label="the row of panels"),
    Step("Super-resolution",
         "The 4×4 average-pooled image is all we see. Nearest and bilinear upsampling can only smooth "
         "its blocks; the VAE knows what digits look like. Which will be closer to the original? "
         "Answer the question, then compare the MSE under each image.",
         settings={"task": "superres"}, question="edit-superres",
         look_at=("_edit_sr_panels",), look_label="the super-resolution panels"),
    Step("Over the test split",
         "One digit proves little. **Score the test split** runs every mask and super-resolution on "
         "many test digits and asks the digit classifier whether it still reads the right digit.",
         look_at=("_edit_scores",), look_label="the accuracy chart (after scoring)"),
)

# page id (the page file's stem) -> its walk
WALKS: Mapping[str, tuple[Step, ...]] = MappingProxyType({
    "kl_discrete": _KL_DISCRETE,
    "gaussian_kl": _GAUSSIAN_KL,
    "latent_spaces": _LATENT,
    "vae_elbo": _ELBO,
    "gan_2d": _GAN_2D,
    "gan_images": _GAN_IMAGES,
    "transformer_gan": _TRANSFORMER,
    "bayesian_networks": _BAYES,
    "image_editing": _EDITING,
})
PAGES = tuple(WALKS)
