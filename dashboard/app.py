"""genlab dashboard entry point: ``streamlit run dashboard/app.py`` from the repo root.

Registers every page listed in docs/ARCHITECTURE.md; page files that do not
exist yet are skipped, so the app runs while pages are being written.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `from dashboard import common` and `import genlab` in pages
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.navigation import build_navigation  # noqa: E402

# Streamlit executes this script with __name__ != "__main__", so no main guard here: a guard
# silently fell back to Streamlit's auto-discovered pages/ list and the centered layout.
st.set_page_config(page_title="genlab", page_icon="🧪", layout="wide")
st.navigation(build_navigation(), expanded=True).run()
