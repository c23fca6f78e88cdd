"""Home: the lecture's map, each topic linked to the genlab page that demonstrates it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard import common
from dashboard.navigation import PAGE_TABLE

PAGES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Topic:
    name: str
    what: str
    page: str | None = None  # file in dashboard/pages/, None = not covered in genlab


@dataclass(frozen=True)
class Section:
    heading: str
    icon: str
    intro: str
    topics: tuple[Topic, ...]


# Page titles, exactly as the router registers them.
TITLES = {name: title for rows in PAGE_TABLE.values() for name, title, _ in rows}

TASKS = Section(
    "Image generation tasks",
    ":material/photo_library:",
    "The tasks the lecture lists under *Image Generation*, and where genlab lets you try them "
    "(on small 8×8 / 28×28 digit images, trained on this machine).",
    (
        Topic("Class-conditional generation",
              "Given a class label y, sample a new image from p(x | y) — classification run in reverse.",
              "gan_images.py"),
        Topic("Super-resolution",
              "Given a low-resolution image, generate a high-resolution reconstruction.",
              "image_editing.py"),
        Topic("Image editing: inpainting",
              "Fill in pre-specified missing pixels.",
              "image_editing.py"),
        Topic("Image editing: uncropping",
              "Reconstruct a missing side of an image.",
              "image_editing.py"),
        Topic("Image editing: colorization",
              "Restore colour to a greyscale image — the digit data sets are greyscale, so "
              "there is nothing to colour.",
              None),
        Topic("Style transfer",
              "Present the content of a source image in the style of a reference image.",
              None),
        Topic("Text-to-image (TTI) generation",
              "Sample an image that depicts a text prompt (SDXL, DALL·E, Imagen).",
              None),
    ),
)

KL = Section(
    "KL divergence",
    ":material/bar_chart:",
    "KL(q ‖ p) = E_q[log q(x)/p(x)]: how far q is from p; zero only when q = p; not symmetric.",
    (
        Topic("KL on a discrete distribution",
              "The lecture's table: an x with q(x) large and p(x) small adds a lot to KL(q ‖ p); "
              "one with q(x) small and p(x) large takes off only a little. Compare KL(q ‖ p) with KL(p ‖ q).",
              "kl_discrete.py"),
        Topic("In-class exercise: which q minimizes KL(q ‖ p)?",
              "Fit a factorized Gaussian q(z₁, z₂) = N₁ N₂ to a correlated 2D Gaussian p.",
              "gaussian_kl.py"),
    ),
)

LATENT = Section(
    "Autoencoders & VAEs",
    ":material/scatter_plot:",
    "Learn a low-dimensional representation, sample there, and project back up to images.",
    (
        Topic("Autoencoders",
              "Encoder → code → decoder; the latent space is sparse, so random codes decode "
              "to near-copies of training images or to junk.",
              "latent_spaces.py"),
        Topic("Variational autoencoders",
              "The encoder outputs a mean and a diagonal covariance; the KL term keeps the "
              "latent space dense, so samples decode to new images.",
              "latent_spaces.py"),
        Topic("ELBO",
              "ELBO = E_q[log p(x | z)] − KL(q(z | x) ‖ p(z)) ≤ log p(x). The VAE minimizes its negative, "
              "−E_q[log p(x | z)] + KL(q(z | x) ‖ p(z)): reconstruction term plus regularizer.",
              "vae_elbo.py"),
        Topic("Reparameterization trick",
              "z = μ(x) + σ(x) ⊙ ε with ε ~ N(0, I): sampling becomes differentiable.",
              "vae_elbo.py"),
    ),
)

GANS = Section(
    "GANs",
    ":material/sports_kabaddi:",
    "A generator G(z) and a discriminator D(x) playing a two-player minimax game.",
    (
        Topic("Minimax game & Algorithm 1",
              "k discriminator steps, then one generator step, on minibatches (Goodfellow et al.). "
              "Watch it on 2D toy data.",
              "gan_2d.py"),
        Topic("DCGAN",
              "An inverted CNN generator: fractionally-strided convolutions grow the image.",
              "gan_images.py"),
        Topic("PatchGAN discriminator",
              "Scores each patch real or fake; discourages blurry images.",
              "gan_images.py"),
        Topic("Conditional GAN",
              "A label embedding appended to the inputs of G and D picks the class to generate.",
              "gan_images.py"),
        Topic("TransGAN / ViTGAN",
              "Generator and discriminator built from Vision Transformer blocks on image patches.",
              "transformer_gan.py"),
    ),
)

BEYOND = Section(
    "Beyond",
    ":material/account_tree:",
    "Graphical models, editing images with a trained model, and your own training runs.",
    (
        Topic("Bayesian networks",
              "P(X₁,…,X_D) = ∏ P(X_d | parents(X_d)): a graph plus conditional probabilities.",
              "bayesian_networks.py"),
        Topic("Image editing with a VAE",
              "Inpaint, uncrop and upsample digits by searching the latent space of a trained VAE.",
              "image_editing.py"),
        Topic("Runs",
              "Every model you train is saved; compare curves, samples and settings.",
              "runs.py"),
    ),
)

SECTIONS = (TASKS, KL, LATENT, GANS, BEYOND)


def page_exists(page: str | None) -> bool:
    return page is not None and (PAGES_DIR / page).is_file()


def render_topic(topic: Topic) -> None:
    """One topic: name, one line from the lecture, and a link (or why there is none)."""
    st.markdown(f"**{topic.name}**  \n{topic.what}")
    if topic.page is None:
        st.markdown(":orange-badge[:material/block: not covered in genlab]")
        return
    title = TITLES[topic.page]
    if not page_exists(topic.page):
        st.markdown(":gray-badge[:material/construction: page coming soon]")
        return
    try:
        st.page_link(f"pages/{topic.page}", label=title,
                     icon=":material/arrow_forward:")
    except StreamlitAPIException:
        # The page is not registered (e.g. home.py run on its own by AppTest).
        st.markdown(f":blue-badge[:material/arrow_forward: {title}]")


def render_section(section: Section, columns: int = 1) -> None:
    """A bordered card per section; its topics in ``columns`` columns."""
    with st.container(border=True):
        st.subheader(f"{section.icon} {section.heading}", anchor=False)
        common.explain(section.intro)
        for start in range(0, len(section.topics), columns):
            row = section.topics[start:start + columns]
            for col, topic in zip(st.columns(columns, gap="medium"), row):
                with col:
                    render_topic(topic)


ctx = common.setup_page("genlab — generative models, hands on")

st.markdown(
    "A teaching lab for the **generative models** lecture: every idea on the slides has a page "
    "where you change a number and watch what happens. Models are small and train on this "
    "machine's CPU in seconds."
)
common.explain(
    "**How to use it.** Pick a lesson below or in the sidebar. Every control is stored in the "
    "page address, so a copied link reopens the same view. **Instructor mode** (sidebar, or "
    "`?instructor=1` in the address) makes text, tables and figures projector-sized; "
    "**Dark theme** is `?theme=dark`; `?hide=explanations` hides these explanations. "
    "Display options stay on from page to page; a lesson page's own settings do not: "
    "each page opens with its defaults (or the settings its link names)."
)

render_section(TASKS, columns=4)
left, middle, right = st.columns(3, gap="medium")
with left:
    render_section(KL)
with middle:
    render_section(LATENT)
with right:
    render_section(GANS)
render_section(BEYOND, columns=3)

missing = sorted({t.page for s in SECTIONS for t in s.topics if t.page and not page_exists(t.page)})
if missing:
    st.caption(f"{len(missing)} lesson page(s) are still being written: "
               + ", ".join(TITLES[m] for m in missing) + ".")
