"""The colours of every figure, as data: the default palette and a colour-blind-safe one.

A :class:`Palette` names colours by their *role* in a lesson (real vs fake data, q vs p, the two
KL directions, exact probabilities vs sample frequencies, ...). Figure builders take one as an
argument (``palette=DEFAULT`` unless a page passes another); pages get the session's palette from
``dashboard.common`` (``ctx.palette``), so a palette is never global state shared by sessions.

* :data:`DEFAULT` -- the colours the pages have always used (GAN Lab's green real / purple fake,
  PRML's green p, Tableau colours).
* :data:`COLOUR_BLIND` (``?palette=cb``) -- Okabe & Ito's colour-blind-safe set ("Color Universal
  Design", 2008). Every pair a lesson compares (real/fake, q/p, KL(q‖p)/KL(p‖q), D/G losses,
  exact/sample, before/after evidence, AE/VAE class colours) stays apart under simulated
  protanopia, deuteranopia and tritanopia (checked in ``tests/unit/test_palette.py``). The ten
  digit classes get a marker shape each as well: no set of ten colours stays apart for everyone.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Palette",
    "DEFAULT",
    "COLOUR_BLIND",
    "PALETTES",
    "PALETTE_PARAM",
    "get_palette",
    "rgba",
    "CLASS_SYMBOL_GLYPHS",
    "REFERENCE_LINE",
]

PALETTE_PARAM = "palette"   # the query parameter; its value is a palette's ``name``
# Dashed reference lines ("true value", "now"): a mid grey reads on the light theme's white and on the
# dark theme's #161a23 plot area alike (black or #333 vanished on the dark one).
REFERENCE_LINE = "#8a8f9c"

# Okabe & Ito's eight colours.
OKABE_ITO = {
    "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "black": "#000000",
}
_OI = OKABE_ITO

# A text glyph for each plotly marker symbol the palettes use (for colour keys drawn in HTML).
CLASS_SYMBOL_GLYPHS = {
    "circle": "●", "square": "■", "diamond": "◆", "triangle-up": "▲", "triangle-down": "▼",
    "triangle-left": "◀", "triangle-right": "▶", "cross": "✚", "x": "✖", "star": "★", "pentagon": "⬟", "hexagon": "⬢",
}


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` -> ``(r, g, b)``, each 0-255."""
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"expected a colour like '#1b9e4b', got {colour!r}")
    r, g, b = (int(text[i:i + 2], 16) for i in (0, 2, 4))
    return r, g, b


def rgba(colour: str, alpha: float) -> str:
    """``"#rrggbb"`` -> ``"rgba(r,g,b,alpha)"`` (a see-through version of a palette colour)."""
    r, g, b = hex_rgb(colour)
    return f"rgba({r},{g},{b},{alpha:g})"


def _tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: ``amount`` = 1 is the colour, 0 is white."""
    mixed = (round(255 - amount * (255 - v)) for v in hex_rgb(colour))
    return "#" + "".join(f"{v:02x}" for v in mixed)


def _shade(colour: str, amount: float) -> tuple[int, int, int]:
    """``colour`` mixed with black: ``amount`` = 1 is the colour."""
    text = colour.lstrip("#")
    r, g, b = (round(amount * int(text[i:i + 2], 16)) for i in (0, 2, 4))
    return r, g, b


def _diverging(low: str, high: str) -> tuple[tuple[float, str], ...]:
    """Pale ``low`` at 0, white at 0.5, pale ``high`` at 1: a heatmap under points of both colours."""
    return ((0.0, _tint(low, 0.55)), (0.25, _tint(low, 0.27)), (0.5, "#ffffff"),
            (0.75, _tint(high, 0.27)), (1.0, _tint(high, 0.55)))


@dataclass(frozen=True)
class Palette:
    """Colours by role. Colours are ``"#rrggbb"`` unless the field says otherwise."""

    name: str                 # the value of ``?palette=`` ("default" means no parameter)
    label: str                # shown to people
    # GAN pages
    real: str                 # real data, D(x) -> 1, loss_D, D(x) on real samples
    fake: str                 # generated data, D(x) -> 0, loss_G, D(G(z))
    real_name: str            # the colours' names, for page text ("green points are real")
    fake_name: str
    gradient: str             # G's gradient arrows on the 2D plane
    gradient_name: str
    manifold: str             # the generator's manifold mesh (rgba)
    second: str               # a third series next to real/fake (KL line, quality, ...)
    d_colorscale: tuple[tuple[float, str], ...]   # D(x) heatmap: 0 fake -> 0.5 white -> 1 real
    # KL pages
    p: str                    # the target distribution p
    q: str                    # the approximation q (discrete page)
    kl_qp: str                # KL(q‖p), its terms and its minimiser
    kl_pq: str                # KL(p‖q), its terms and its minimiser
    descent: str              # the animated q of gradient descent
    kl_qp_name: str           # the names of kl_qp, kl_pq and descent, for page text
    kl_pq_name: str
    descent_name: str
    flag: str                 # a table cell that is not a probability (discrete KL page)
    flag_name: str
    # latent pages
    classes: tuple[str, ...]                  # one colour per digit / class, cycled
    class_symbols: tuple[str, ...]            # plotly marker symbol per class, cycled
    estimator_score: str      # score-function gradient estimator
    estimator_reparam: str    # reparameterization gradient estimator
    term_recon: str           # the ELBO's reconstruction term
    term_kl: str              # the ELBO's KL term
    term_test: str            # the test split's -ELBO, active dimensions
    # Bayesian networks
    exact: str                # exact probabilities
    sample: str               # sample frequencies
    prior: str                # P(X) before the evidence
    posterior: str            # P(X | evidence)
    query: str                # the query variable's outline
    # image editing
    missing_tint: str         # the missing pixels on the mask picker (rgba)
    outline: str              # the missing region's box on the results
    best: str                 # the winning restart's frame
    methods: tuple[tuple[str, str], ...]      # (method, colour) of the accuracy bars
    missing_name: str         # the name of missing_tint, for page text
    right: str                # the classifier reads the original digit
    wrong: str                # the classifier reads another digit
    # Runs page: one colour per compared metric curve, in order
    series: tuple[str, ...]
    # transformer GAN
    tgan: str
    dcgan: str
    patch_grid: str           # patch borders over a digit

    def class_colour(self, label: int) -> str:
        """The colour of class ``label`` (the colours repeat after ``len(classes)``)."""
        return self.classes[int(label) % len(self.classes)]

    def class_symbol(self, label: int) -> str:
        """The plotly marker symbol of class ``label``."""
        return self.class_symbols[int(label) % len(self.class_symbols)]

    def method_colour(self, method: str) -> str | None:
        """The colour of an image-editing method (None for an unknown one: plotly picks)."""
        return dict(self.methods).get(method)


DEFAULT = Palette(
    name="default",
    label="default colours",
    real="#1b9e4b", fake="#7b3fb5", real_name="green", fake_name="purple",
    gradient="#d9480f", gradient_name="orange", manifold="rgba(90, 40, 140, 0.55)", second="#2f5fd0",
    d_colorscale=((0.0, "#b69ad6"), (0.25, "#dccdef"), (0.5, "#ffffff"), (0.75, "#c6ebd1"), (1.0, "#82cf9b")),
    p="#2ca02c", q="#9467bd", kl_qp="#d62728", kl_pq="#1f77b4", descent="#ff7f0e",
    kl_qp_name="red", kl_pq_name="blue", descent_name="orange", flag="#ffa500", flag_name="orange",
    # Tableau 10
    classes=("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
             "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#7f7f7f"),
    class_symbols=("circle",),
    estimator_score="#e15759", estimator_reparam="#4e79a7",
    term_recon="#4e79a7", term_kl="#e15759", term_test="#59a14f",
    exact="#4C78A8", sample="#F58518", prior="#9DA5B4", posterior="#E45756", query="#F58518",
    missing_tint="rgba(230, 40, 40, 0.55)", outline="#ffd43b", best="#2fb344",
    methods=(("original", "#868e96"), ("masked", "#c92a2a"), ("nearest", "#e8590c"), ("bilinear", "#c92a2a"),
             ("latent", "#1971c2"), ("cvae", "#7b3fb5")),
    missing_name="red", right="#2fb344", wrong="#e03131",
    # D3's category10
    series=("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"),
    tgan="#d9480f", dcgan="#2f5fd0", patch_grid="#ff4d4d",
)

COLOUR_BLIND = Palette(
    name="cb",
    label="colour-blind-safe colours (Okabe–Ito)",
    # blue vs orange: the pair that stays furthest apart under all three colour-vision deficiencies
    real=_OI["blue"], fake=_OI["orange"], real_name="blue", fake_name="orange",
    # G's arrows start at the (orange) fakes: reddish purple stays far from orange for protan/deutan
    gradient=_OI["reddish purple"], gradient_name="pink", manifold="rgba({},{},{},0.6)".format(*_shade(_OI["orange"], 0.65)),
    second=_OI["bluish green"],
    d_colorscale=_diverging(_OI["orange"], _OI["blue"]),
    p=_OI["bluish green"], q=_OI["orange"], kl_qp=_OI["vermillion"], kl_pq=_OI["blue"],
    descent=_OI["sky blue"],
    # vermillion is read as red; the table's flag is yellow: orange would sit next to vermillion's ∞ rows
    kl_qp_name="red", kl_pq_name="blue", descent_name="light blue", flag=_OI["yellow"], flag_name="yellow",
    # Okabe-Ito without black (invisible on the dark theme), grey in its place; shapes tell the rest apart
    classes=(_OI["orange"], _OI["sky blue"], _OI["bluish green"], _OI["yellow"], _OI["blue"],
             _OI["vermillion"], _OI["reddish purple"], "#999999"),
    # classes 8 and 9 share 0's and 1's colours: they get shapes far from theirs (triangles vs circle and
    # square); no class is an x, the mark of the prior samples on the latent pages
    class_symbols=("circle", "square", "diamond", "triangle-up", "star", "triangle-down", "cross", "pentagon",
                   "triangle-right", "triangle-left"),
    estimator_score=_OI["vermillion"], estimator_reparam=_OI["blue"],
    term_recon=_OI["blue"], term_kl=_OI["vermillion"], term_test=_OI["bluish green"],
    exact=_OI["blue"], sample=_OI["orange"], prior="#999999", posterior=_OI["vermillion"], query=_OI["orange"],
    missing_tint=rgba(_OI["vermillion"], 0.55), outline=_OI["yellow"], best=_OI["bluish green"],
    methods=(("original", "#999999"), ("masked", _OI["vermillion"]), ("nearest", _OI["orange"]),
             ("bilinear", _OI["vermillion"]), ("latent", _OI["blue"]), ("cvae", _OI["reddish purple"])),
    # right / wrong in blue / vermillion: green / red is the pair red-green colour blindness merges
    missing_name="red-orange", right=_OI["blue"], wrong=_OI["vermillion"],
    series=(_OI["blue"], _OI["vermillion"], _OI["bluish green"], _OI["reddish purple"], _OI["orange"],
            _OI["sky blue"], "#999999", _OI["yellow"]),
    tgan=_OI["orange"], dcgan=_OI["blue"], patch_grid=_OI["vermillion"],
)

PALETTES = {palette.name: palette for palette in (DEFAULT, COLOUR_BLIND)}


def get_palette(name: str | None) -> Palette:
    """The palette called ``name`` (``"cb"``, ``"default"``); ``None`` gives :data:`DEFAULT`.

    Raises ``ValueError`` naming the allowed values for any other name."""
    if name is None:
        return DEFAULT
    key = str(name).strip().lower()
    if key not in PALETTES:
        raise ValueError(f"unknown palette {name!r}; allowed: {', '.join(sorted(PALETTES))}")
    return PALETTES[key]
