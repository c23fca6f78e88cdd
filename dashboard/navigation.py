"""The lesson pages: section -> (file, title, icon). Pure data and helpers, importable by tests
without running the app (dashboard/app.py builds st.navigation from it)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parent / "pages"

# section -> [(file name, title, icon)], titles exactly as in docs/ARCHITECTURE.md
PAGE_TABLE: dict[str, list[tuple[str, str, str]]] = {
    "Start": [
        ("home.py", "Home", ":material/map:"),
    ],
    "KL divergence": [
        ("kl_discrete.py", "KL divergence — discrete", ":material/bar_chart:"),
        ("gaussian_kl.py", "Gaussian KL — in-class exercise", ":material/blur_on:"),
    ],
    "Autoencoders & VAEs": [
        ("latent_spaces.py", "Latent spaces — autoencoder vs VAE", ":material/scatter_plot:"),
        ("vae_elbo.py", "Latent ELBO & reparameterization", ":material/functions:"),
    ],
    "GANs": [
        ("gan_2d.py", "GAN lab — 2D", ":material/sports_kabaddi:"),
        ("gan_images.py", "Image GANs — DCGAN, conditional, PatchGAN", ":material/image:"),
        ("transformer_gan.py", "Transformer GAN", ":material/view_module:"),
    ],
    "Beyond": [
        ("bayesian_networks.py", "Bayesian networks", ":material/account_tree:"),
        ("image_editing.py", "Image editing with a VAE", ":material/auto_fix_high:"),
        ("runs.py", "Runs", ":material/history:"),
    ],
}


def present_pages() -> dict[str, list[tuple[str, str, str]]]:
    """PAGE_TABLE restricted to the page files that exist (empty sections dropped)."""
    sections = {
        section: [row for row in rows if (PAGES_DIR / row[0]).is_file()]
        for section, rows in PAGE_TABLE.items()
    }
    return {section: rows for section, rows in sections.items() if rows}


def url_path(file_name: str) -> str:
    """The URL path Streamlit gives a page ("" for Home, the default page)."""
    return "" if file_name == "home.py" else Path(file_name).stem


def build_navigation() -> dict[str, list]:
    """st.Page objects for the page files that exist, grouped by section."""
    return {
        section: [
            st.Page(PAGES_DIR / name, title=title, icon=icon, default=(name == "home.py"))
            for name, title, icon in rows
        ]
        for section, rows in present_pages().items()
    }

