"""The figure palettes (issue 20 §5): the colour-blind-safe palette keeps every pair a lesson compares
apart under simulated colour-vision deficiencies, and the figure builders draw with the palette
they are given (the default one unless told otherwise)."""
from __future__ import annotations

import colorsys
import json

import numpy as np
import pandas as pd
import pytest

from dashboard.figures import bayesnet as bf
from dashboard.figures import canvas as cf
from dashboard.figures import gan as gf
from dashboard.figures import kl as kf
from dashboard.figures import latent as lf
from dashboard.figures.palette import COLOUR_BLIND, DEFAULT, PALETTES, get_palette, rgba

# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
CVD = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def _linear(colour: str) -> np.ndarray:
    c = np.array([int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear_rgb
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _worst_distance(a: str, b: str) -> tuple[float, str]:
    """The smallest CIELAB distance (ΔE*76) between two colours as seen with each deficiency."""
    seen = {name: float(np.linalg.norm(_lab(np.clip(m @ _linear(a), 0, 1)) - _lab(np.clip(m @ _linear(b), 0, 1))))
            for name, m in CVD.items()}
    name = min(seen, key=seen.get)
    return seen[name], name


# The pairs a lesson asks students to tell apart, with the smallest simulated distance allowed.
# ΔE ≈ 20 is an obvious difference side by side; the main pairs keep 40 and more.
MAIN_PAIRS = [("real", "fake"), ("q", "p"), ("kl_qp", "kl_pq"), ("exact", "sample"), ("prior", "posterior"),
              ("estimator_score", "estimator_reparam"), ("term_recon", "term_kl"), ("tgan", "dcgan"),
              ("p", "kl_qp"), ("right", "wrong")]
SECONDARY_PAIRS = [("real", "gradient"), ("fake", "gradient"), ("fake", "second"), ("p", "kl_pq"), ("p", "descent"),
                   ("kl_qp", "descent"), ("kl_pq", "descent"), ("kl_qp", "flag"), ("kl_pq", "flag")]


@pytest.mark.parametrize("a, b", MAIN_PAIRS)
def test_colour_blind_palette_keeps_the_main_pairs_far_apart(a, b):
    distance, deficiency = _worst_distance(getattr(COLOUR_BLIND, a), getattr(COLOUR_BLIND, b))
    assert distance >= 35, f"{a} vs {b}: ΔE {distance:.1f} with {deficiency}"


@pytest.mark.parametrize("a, b", SECONDARY_PAIRS)
def test_colour_blind_palette_keeps_colours_that_share_a_figure_apart(a, b):
    distance, deficiency = _worst_distance(getattr(COLOUR_BLIND, a), getattr(COLOUR_BLIND, b))
    assert distance >= 15, f"{a} vs {b}: ΔE {distance:.1f} with {deficiency}"


def test_the_runs_pages_first_curves_stay_apart():
    """The Runs page compares metrics as curves in ``series`` order: the first four stay apart."""
    first = COLOUR_BLIND.series[:4]
    for i, a in enumerate(first):
        for b in first[i + 1:]:
            distance, deficiency = _worst_distance(a, b)
            assert distance >= 15, f"{a} vs {b}: ΔE {distance:.1f} with {deficiency}"


# Hue ranges (degrees, HSV) of the colour names page text uses; a range may wrap past 360.
HUES = {"red": (340, 30), "red-orange": (8, 35), "orange": (12, 45), "yellow": (45, 70), "green": (75, 170),
        "blue": (185, 230), "light blue": (190, 215), "purple": (255, 300), "pink": (300, 345)}
NAMED = [("real", "real_name"), ("fake", "fake_name"), ("gradient", "gradient_name"), ("kl_qp", "kl_qp_name"),
         ("kl_pq", "kl_pq_name"), ("descent", "descent_name"), ("flag", "flag_name"), ("missing_tint", "missing_name")]


def _hue(colour: str) -> float:
    if colour.startswith("rgba("):
        r, g, b = (int(part) for part in colour[5:].split(",")[:3])
    else:
        r, g, b = (int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)[0] * 360


@pytest.mark.parametrize("palette", list(PALETTES.values()), ids=list(PALETTES))
@pytest.mark.parametrize("colour, name", NAMED)
def test_page_text_names_each_colour_as_it_looks(palette, colour, name):
    """Pages say "blue points are real" from these names: each name fits its colour's hue."""
    hue, word = _hue(getattr(palette, colour)), getattr(palette, name)
    low, high = HUES[word]
    assert (low <= hue <= high) if low < high else (hue >= low or hue <= high), f"{colour} {hue:.0f}° is not {word}"


def test_the_simulation_finds_the_default_palettes_red_green_problem():
    """The default KL picture draws p green and argmin KL(q‖p) red: the pair deuteranopes lose
    (which is why the colour-blind palette exists, and a check that the simulation works)."""
    distance, deficiency = _worst_distance(DEFAULT.p, DEFAULT.kl_qp)
    assert distance < 10 and deficiency == "deuteranopia"
    assert _worst_distance(COLOUR_BLIND.p, COLOUR_BLIND.kl_qp)[0] > 3 * distance


def test_digit_classes_differ_in_colour_or_shape():
    pairs = {(COLOUR_BLIND.class_colour(c), COLOUR_BLIND.class_symbol(c)) for c in range(10)}
    assert len(pairs) == 10 and len({COLOUR_BLIND.class_symbol(c) for c in range(10)}) == 10
    assert "#000000" not in COLOUR_BLIND.classes        # black would vanish on the dark theme
    assert not {"x", "x-thin"} & set(COLOUR_BLIND.class_symbols)    # the prior samples' mark
    for c in range(10):             # a class that reuses another's colour has a shape of its own
        same_colour = [o for o in range(10) if o != c and COLOUR_BLIND.class_colour(o) == COLOUR_BLIND.class_colour(c)]
        assert all(COLOUR_BLIND.class_symbol(o) != COLOUR_BLIND.class_symbol(c) for o in same_colour)


def test_get_palette_and_rgba():
    assert get_palette(None) is DEFAULT and get_palette("cb") is COLOUR_BLIND and get_palette(" CB ") is COLOUR_BLIND
    assert set(PALETTES) == {"default", "cb"}
    with pytest.raises(ValueError, match="allowed: cb, default"):
        get_palette("neon")
    assert rgba("#59a14f", 0.35) == "rgba(89,161,79,0.35)"
    with pytest.raises(ValueError):
        rgba("red", 1)


def _plane(**palette):
    rng = np.random.default_rng(0)
    xs = np.linspace(-2, 2, 8)
    return gf.plane_figure(rng.normal(size=(20, 2)), rng.normal(size=(20, 2)), heatmap=(xs, xs, rng.uniform(size=(8, 8))),
                           manifold=rng.normal(size=(4, 4, 2)), gradients=(rng.normal(size=(5, 2)), rng.normal(size=(5, 2))),
                           **palette)


def _colours(fig) -> set[str]:
    """Every colour string in a figure's JSON."""
    text = json.dumps(fig.to_plotly_json()["data"]) + json.dumps(fig.to_plotly_json()["layout"].get("shapes", []))
    found = set()
    for token in text.replace("[", " ").replace("]", " ").replace(",", " ").split('"'):
        token = token.strip()
        if token.startswith("#") and len(token) == 7 or token.startswith("rgba("):
            found.add(token.lower())
    return found


def test_gan_plane_draws_with_the_palette_it_is_given():
    default, cb = _plane(), _plane(palette=COLOUR_BLIND)
    assert json.dumps(default.to_plotly_json(), default=str) == json.dumps(_plane(palette=DEFAULT).to_plotly_json(), default=str)
    traces = {t.name: t for t in cb.data}
    assert traces["real x ~ p_data"].marker.color == COLOUR_BLIND.real
    assert traces["fake G(z)"].marker.color == COLOUR_BLIND.fake
    assert [list(s) for s in traces["D(x)"].colorscale] == [list(s) for s in COLOUR_BLIND.d_colorscale]
    assert traces[gf.LAYER_LABELS["gradients"]].line.color == COLOUR_BLIND.gradient
    assert traces[gf.LAYER_LABELS["manifold"]].line.color == COLOUR_BLIND.manifold
    assert {DEFAULT.real.lower(), DEFAULT.fake.lower()} <= _colours(default)
    assert not {DEFAULT.real.lower(), DEFAULT.fake.lower(), DEFAULT.gradient.lower()} & _colours(cb)
    # the live canvas draws the same figure: the colours reach it through the figure's data
    spec = cf.canvas_spec(cb)
    assert {t["marker"]["color"] for t in spec["data"] if t.get("name") in ("real x ~ p_data", "fake G(z)")} \
        == {COLOUR_BLIND.real, COLOUR_BLIND.fake}


def test_gan_charts_draw_d_and_g_in_the_palettes_real_and_fake_colours():
    steps, a, b = np.arange(10), np.linspace(1, 0.5, 10), np.linspace(0.2, 0.7, 10)
    for builder in (gf.loss_figure, gf.d_output_figure):
        for palette in (DEFAULT, COLOUR_BLIND):
            fig = builder(steps, a, b, palette=palette)
            assert [t.line.color for t in fig.data] == [palette.real, palette.fake]
    fig = gf.divergence_figure(steps, a, b, palette=COLOUR_BLIND)
    assert [t.line.color for t in fig.data] == [COLOUR_BLIND.second, COLOUR_BLIND.fake]
    maps = np.random.default_rng(1).uniform(size=(2, 1, 4, 4))
    images = np.zeros((2, 1, 8, 8))
    patch = gf.patch_map_figure(images, maps, images, maps, n=2, palette=COLOUR_BLIND)
    assert [list(s) for s in patch.data[1].colorscale] == [list(s) for s in COLOUR_BLIND.d_colorscale]


def test_kl_figures_draw_q_p_and_both_directions_in_the_palette():
    labels, q, p = ["a", "b", "c"], [0.2, 0.3, 0.5], [0.5, 0.25, 0.25]
    for palette in (DEFAULT, COLOUR_BLIND):
        bars = kf.distributions_figure(labels, q, p, palette=palette)
        assert [t.marker.color for t in bars.data] == [palette.q, palette.p]
        terms = kf.contributions_figure(labels, [0.1, 0.2, 0.3], [0.3, 0.2, 0.1], palette=palette)
        assert [t.marker.color for t in terms.data] == [palette.kl_qp, palette.kl_pq]
    exercise = kf.exercise_figure(p_mean=(0, 0), p_cov=np.eye(2),
                                  qs=[kf.QCurve("q", (0, 0), (1, 1), COLOUR_BLIND.kl_qp)], palette=COLOUR_BLIND)
    assert exercise.data[0].line.color == COLOUR_BLIND.p and exercise.data[0].fillcolor == rgba(COLOUR_BLIND.p, 0.1)
    assert kf.exercise_figure(p_mean=(0, 0), p_cov=np.eye(2)).data[0].line.color == kf.COLOR_P


def test_latent_scatter_gives_classes_the_palettes_colours_and_shapes():
    points, labels = np.random.default_rng(2).normal(size=(40, 2)), np.arange(40) % 10
    default = lf.latent_scatter(points, labels)
    cb = lf.latent_scatter(points, labels, palette=COLOUR_BLIND)
    assert [t.marker.color for t in default.data] == list(lf.CLASS_COLOURS)
    assert [t.marker.color for t in cb.data] == [COLOUR_BLIND.class_colour(c) for c in range(10)]
    assert [t.marker.symbol for t in cb.data] == list(COLOUR_BLIND.class_symbols)
    key = lf.class_key_html(range(10), palette=COLOUR_BLIND)
    assert COLOUR_BLIND.classes[0] in key and "■" in key and "■" not in lf.class_key_html(range(10))


def test_bayes_network_figures_draw_in_the_palette():
    prior = pd.Series([0.7, 0.3], index=["no", "yes"], name="before")
    after = pd.Series([0.2, 0.8], index=["no", "yes"], name="after")
    fig = bf.query_figure(prior, after, palette=COLOUR_BLIND)
    assert [t.marker.color for t in fig.data] == [COLOUR_BLIND.prior, COLOUR_BLIND.posterior]
    assert [t.marker.color for t in bf.query_figure(prior, after).data] == [bf.PRIOR_COLOUR, bf.POSTERIOR_COLOUR]
