"""Show text that came from a run or an upload without letting it format the page.

Streamlit renders Markdown (links, images, HTML-like tags, ``:color[...]`` and
``:material/...:`` directives, ``$`` math) in ``st.markdown``, ``st.caption``, ``st.error`` and
friends, and Plotly renders a few HTML tags (``<a href>``, ``<b>``) in titles, legends and
hover text. A run's files, a zip's entry names or a CSV header are anybody's text: a model
name ``[log in](http://...) ![x](http://.../beacon.png)`` became a real link and made every
visitor's browser fetch the image. Pass such text through :func:`md` (Markdown) or
:func:`plotly_text` (Plotly) before showing it.
"""
from __future__ import annotations

import html
import re

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that start syntax
# anywhere in a line in Markdown, GitHub-flavoured Markdown, Streamlit's directives or its math.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~$:&@])")
# GitHub-flavoured Markdown turns bare "http://x", "www.x" and "a@b.c" into links *after* escapes
# are resolved, so a backslash does not stop it; a zero-width space inside the pattern does.
_BARE_LINKS = ((re.compile(r"(?i)(https?\\:)(//)"), "\\1\u200b\\2"),
               (re.compile(r"(?i)\b(www)(\\?\.)"), "\\1\u200b\\2"),
               (re.compile(r"(\\@)"), "\\1\u200b"))
# ... and these only at the start of a line: "- item", "1. item", "1) item"
_LINE_START = re.compile(r"^(\d*)([-.)])")
MAX_SHOWN = 500


def md(value, limit: int = MAX_SHOWN) -> str:
    """``value`` as text that Markdown shows literally: one line, at most ``limit`` characters,
    every Markdown/HTML/directive character backslash-escaped, bare URLs and e-mail addresses
    broken by a zero-width space (shown as text, not as links)."""
    text = str(value)
    text = " ".join(text.split())          # no newlines: no headings, lists or code blocks
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = _LINE_START.sub(r"\1\\\2", _MARKDOWN_SPECIAL.sub(r"\\\1", text))
    for pattern, replacement in _BARE_LINKS:
        text = pattern.sub(replacement, text)
    return text


def plotly_text(value, limit: int = 120) -> str:
    """``value`` for a Plotly title, trace name or hover text: tags and entities shown literally."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=False)   # Plotly shows &quot; literally; only < > & matter
