"""Figures for the KL pages (issue 3): pure functions, data in, plotly figure out.

No streamlit here. Trace data is passed as rounded Python lists: plotly
validates lists much faster than numpy arrays, which keeps every rerun of the
pages well under 0.1 s even with an animation of 40 frames.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.margins import bottom_margin_under_plot
from dashboard.figures.palette import DEFAULT, Palette, rgba

__all__ = [
    "COLOR_P",
    "COLOR_QP",
    "COLOR_PQ",
    "COLOR_GUESS",
    "COLOR_GUESS_DARK",
    "COLOR_DESCENT",
    "QCurve",
    "Animation",
    "ellipse_points",
    "distributions_figure",
    "contributions_figure",
    "exercise_figure",
    "step_label",
]

# The default palette's colours; every builder takes ``palette=`` (dashboard/figures/palette.py).
COLOR_P = DEFAULT.p  # green, like PRML Figs 10.2/10.3
COLOR_QP = DEFAULT.kl_qp  # red: argmin KL(q‖p)
COLOR_PQ = DEFAULT.kl_pq  # blue: argmin KL(p‖q)
COLOR_GUESS = "#222222"
COLOR_GUESS_DARK = "#e8e8e8"  # the guess on the dark theme's background (near-black was invisible)
COLOR_DESCENT = DEFAULT.descent
COLOR_Q = DEFAULT.q


def _r(values, nd: int = 4) -> list:
    """Rounded list for plotly (None for non-finite)."""
    out = []
    for v in np.asarray(values, dtype=float).ravel():
        out.append(round(float(v), nd) if math.isfinite(v) else None)
    return out


def _fmt(value: float, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{digits}f}".replace("-", "−")


# --------------------------------------------------------------------------- #
# Discrete KL
# --------------------------------------------------------------------------- #
def distributions_figure(labels: Sequence[str], q: Sequence[float], p: Sequence[float],
                         highlight: Sequence[int] = (), *, palette: Palette = DEFAULT) -> go.Figure:
    """Grouped bars of q(x) and p(x) per outcome; ``highlight`` rows get an outline in the KL(q‖p)
    colour (red by default)."""
    labels = [str(l) for l in labels]
    line_w = [3 if i in highlight else 0 for i in range(len(labels))]
    data = [
        dict(type="bar", name=name, x=labels, y=_r(values),
             marker=dict(color=color, line=dict(color=palette.kl_qp, width=line_w)),
             text=[_fmt(v, 2) for v in values], textposition="outside", cliponaxis=False)
        for name, values, color in (("q(x)", q, palette.q), ("p(x)", p, palette.p))
    ]
    top = max([1e-9] + [v for v in list(q) + list(p) if math.isfinite(v)])
    layout = dict(
        barmode="group",
        yaxis=dict(title=dict(text="probability"), range=[0, max(1.0, top) * 1.15]),
        xaxis=dict(type="category", automargin=True),
        title=dict(text="The two distributions", x=0, xanchor="left", y=0.98, yanchor="top"),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0),
        margin=dict(l=60, r=20, t=90, b=40),
        height=420,
    )
    return go.Figure(dict(data=data, layout=layout))


def contributions_figure(labels: Sequence[str], terms_qp: Sequence[float], terms_pq: Sequence[float],
                         unit: str = "nats", *, palette: Palette = DEFAULT, projector: bool = False) -> go.Figure:
    """Per-outcome contributions to each direction, as grouped bars.

    ``terms_qp[i]`` = q log(q/p) (adds up to KL(q‖p)), ``terms_pq[i]`` = p log(p/q)
    (adds up to KL(p‖q)). Infinite terms are drawn as hatched bars up to the
    top of the axis, labelled "∞". ``projector``: the margins for instructor mode's larger fonts.
    """
    labels = [str(l) for l in labels]
    finite = [float(v) for v in list(terms_qp) + list(terms_pq) if math.isfinite(v)]
    cap = max([0.5] + [abs(v) for v in finite]) * 1.25
    data = []
    for name, terms, color in (("q log(q/p) → KL(q‖p)", terms_qp, palette.kl_qp),
                               ("p log(p/q) → KL(p‖q)", terms_pq, palette.kl_pq)):
        ys, texts, patterns = [], [], []
        for v in terms:
            if math.isinf(v):
                ys.append(cap)
                texts.append("∞")
                patterns.append("/")
            else:
                ys.append(round(float(v), 4))
                texts.append(_fmt(v, 2))
                patterns.append("")
        data.append(dict(
            type="bar", name=name, x=labels, y=ys, text=texts, textposition="outside", cliponaxis=False,
            marker=dict(color=color, pattern=dict(shape=patterns)),
            hovertemplate="%{x}: %{text} " + unit + "<extra>" + name + "</extra>",
        ))
    low = min([0.0] + finite)
    layout = dict(
        barmode="group",
        yaxis=dict(title=dict(text=f"contribution ({unit})"), range=[min(low - 0.14 * cap, -0.06 * cap), cap * 1.12],
                   zeroline=True, zerolinewidth=2, zerolinecolor="#888"),
        xaxis=dict(type="category", automargin=True),
        title=dict(text=f"Contribution of each outcome ({unit})", x=0, xanchor="left", y=0.98, yanchor="top"),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0),
        # left: room for negative tick labels ("−0.2") and the axis title
        margin=dict(l=84 if projector else 70, r=20, t=90, b=40),
        height=420,
    )
    return go.Figure(dict(data=data, layout=layout))


# --------------------------------------------------------------------------- #
# Gaussian exercise
# --------------------------------------------------------------------------- #
def ellipse_points(mean, cov, radius: float = 2.0, n: int = 49) -> tuple[np.ndarray, np.ndarray]:
    """x, y of the contour {z : (z−μ)ᵀΣ⁻¹(z−μ) = radius²} of a 2-D Gaussian."""
    mean = np.asarray(mean, dtype=float)
    chol = np.linalg.cholesky(np.asarray(cov, dtype=float))
    t = np.linspace(0, 2 * math.pi, n)
    pts = mean[:, None] + radius * chol @ np.vstack([np.cos(t), np.sin(t)])
    return pts[0], pts[1]


_N_ELLIPSE = 41  # points per drawn ellipse
SLIDER_PX = 48  # height of the animation's step slider (rail, ticks, labels) above the plot


def _axis_ellipse(means, stds, radius: float = 2.0, n: int = _N_ELLIPSE) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 2 * math.pi, n)
    return means[0] + radius * stds[0] * np.cos(t), means[1] + radius * stds[1] * np.sin(t)


@dataclass
class QCurve:
    """A factorized Gaussian q to draw: its 2-s.d. ellipse and its centre."""

    label: str
    means: Sequence[float]
    stds: Sequence[float]
    color: str
    dash: str = "solid"
    width: float = 3.0


@dataclass
class Animation:
    """Iterates of gradient descent to animate (frames = rows)."""

    label: str
    means: np.ndarray  # (T, 2)
    stds: np.ndarray  # (T, 2)
    steps: Sequence[int]  # iteration number of each row
    kl: Sequence[float] = field(default_factory=list)  # objective at each row
    color: str = COLOR_DESCENT
    objective: str = "objective"  # its name, shown with the value


def _step_note(text: str, corner: tuple[float, float], colour: str = COLOR_DESCENT) -> dict:
    """The animation's label (the step and the objective's value) as a text trace at ``corner``
    (the plot's bottom-right, in data units). A trace, not a layout annotation: frames played with
    ``redraw=False`` update traces only, so an annotation stayed at step 0 while q moved."""
    return dict(type="scatter", x=[corner[0]], y=[corner[1]], mode="text", text=[text],
                textposition="top left", textfont=dict(color=colour), showlegend=False,
                hoverinfo="skip", cliponaxis=False)


def step_label(step: int, objective: str, kl: float | None) -> str:
    """The text the animation shows for one frame, e.g. ``step 12: KL(q‖p) = 0.405 nats``."""
    return f"step {int(step)}" + (f": {objective} = {_fmt(kl)} nats" if kl is not None else "")


def _q_trace(means, stds, radius: float, **kw) -> dict:
    """The ``radius``-s.d. ellipse of a factorized Gaussian and (after a gap) its centre, as one trace."""
    x, y = _axis_ellipse(np.asarray(means, float), np.asarray(stds, float), radius)
    return dict(type="scatter", x=_r(x) + [None, round(float(means[0]), 4)],
                y=_r(y) + [None, round(float(means[1]), 4)], **kw)


def _animate(data: list[dict], layout: dict, animation: Animation,
             extent: tuple[float, float, float, float] | None, radius: float) -> list[dict]:
    """Add the animated q (its trail, its ellipse, its label), the play buttons and the step slider
    to ``data`` and ``layout``; return the frames."""
    a_means = np.asarray(animation.means, float)
    a_stds = np.asarray(animation.stds, float)
    # the centre's trail (static) and the moving ellipse (frames)
    data.append(dict(type="scatter", x=_r(a_means[:, 0]), y=_r(a_means[:, 1]), mode="lines",
                     name="path of q's centre", line=dict(color=animation.color, width=1.5, dash="dot"),
                     hoverinfo="skip"))
    data.append(_q_trace(a_means[0], a_stds[0], radius, mode="lines+markers", name=animation.label,
                         line=dict(color=animation.color, width=3.5),
                         marker=dict(size=[0] * _N_ELLIPSE + [0, 9], color=animation.color), hoverinfo="name"))
    moving = len(data) - 1
    if extent is not None:
        corner = (extent[1], extent[2])
    else:
        corner = (float(np.max(a_means[:, 0] + 2 * a_stds[:, 0])), float(np.min(a_means[:, 1] - 2 * a_stds[:, 1])))
    kls = [float(v) for v in animation.kl] if len(animation.kl) else [None] * len(a_means)
    data.append(_step_note(step_label(animation.steps[0], animation.objective, kls[0]), corner, animation.color))
    label = len(data) - 1
    frames, slider_steps = [], []
    for i, step in enumerate(animation.steps):
        name = str(int(step))
        frames.append(dict(name=name, traces=[moving, label],
                           data=[_q_trace(a_means[i], a_stds[i], radius),
                                 _step_note(step_label(step, animation.objective, kls[i]), corner, animation.color)]))
        slider_steps.append(dict(method="animate", label=name,
                                 args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                                    transition=dict(duration=0))]))
    # the buttons in the top band (left; the toolbar appears on the right), the slider under them
    # across the whole width: side by side the buttons covered the slider's start in a narrow figure
    layout["updatemenus"] = [dict(
        type="buttons", direction="left", x=0.0, y=1.0, xanchor="left", yanchor="bottom",
        pad=dict(r=10, t=0, b=SLIDER_PX), showactive=False,
        buttons=[
            dict(label="▶ play", method="animate",
                 args=[None, dict(frame=dict(duration=90, redraw=False), fromcurrent=True,
                                  transition=dict(duration=0), mode="immediate")]),
            dict(label="❚❚ pause", method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate",
                                    transition=dict(duration=0))]),
        ],
    )]
    layout["sliders"] = [dict(active=0, steps=slider_steps, x=0.0, len=1.0, y=1.0, yanchor="bottom",
                              currentvalue=dict(visible=False), pad=dict(t=0, b=8), ticklen=3,
                              font=dict(size=11))]
    return frames


def exercise_figure(*, p_mean=None, p_cov=None, p_grid=None, qs: Sequence[QCurve] = (),
                    animation: Animation | None = None, title: str = "",
                    extent: tuple[float, float, float, float] | None = None,
                    radius: float = 2.0, height: int = 640, palette: Palette = DEFAULT,
                    projector: bool = False) -> go.Figure:
    """p's contours with q ellipses on top, optionally an animated q.

    p is either a Gaussian (``p_mean``, ``p_cov``: ellipses at 1 and 2 standard
    deviations) or a density on a grid (``p_grid`` = (xs, ys, density[y, x]):
    contour lines). Each q is drawn as its ``radius``-s.d. ellipse (2 s.d.
    holds 86% of a 2-D Gaussian's mass) and its centre. ``extent`` = (x0, x1,
    y0, y1) fixes the axes (needed for a steady animation). The animation's label (step and
    objective) sits in the bottom-right corner and follows the frames.
    The figure is built from one dict (a single plotly validation pass). ``palette`` gives p's
    colour; each q and the animation carry their own (e.g. ``palette.kl_qp``). ``projector``: the
    margins for instructor mode's larger fonts.
    """
    data: list[dict] = []
    if p_grid is not None:
        xs, ys, dens = p_grid
        top = float(np.max(dens))
        data.append(dict(
            # a big 2-D array stays numpy: plotly copies and encodes it in one piece (lists go cell by cell)
            type="contour", x=np.round(np.asarray(xs, float), 3), y=np.round(np.asarray(ys, float), 3),
            z=np.round(np.asarray(dens, float) / top, 4),
            name="p (mixture)", contours=dict(coloring="lines", start=0.1, end=0.9, size=0.2), line=dict(width=2),
            colorscale=[[0, palette.p], [1, palette.p]], showscale=False, showlegend=True, hoverinfo="skip",
        ))
    elif p_mean is not None:
        for k, r in enumerate((1.0, 2.0)):
            x, y = ellipse_points(p_mean, p_cov, r)
            data.append(dict(
                type="scatter", x=_r(x), y=_r(y), mode="lines", name="p = N(μ, Σ)", legendgroup="p",
                showlegend=k == 1, line=dict(color=palette.p, width=3 if r == radius else 2), fill="toself",
                fillcolor=rgba(palette.p, 0.10), hoverinfo="skip",
            ))

    for q in qs:
        data.append(_q_trace(q.means, q.stds, radius, mode="lines+markers", name=q.label,
                            line=dict(color=q.color, dash=q.dash, width=q.width),
                            marker=dict(size=[0] * _N_ELLIPSE + [0, 9], color=q.color), hoverinfo="name"))
    layout: dict = dict(
        title=dict(text=title) if title else None,
        xaxis=dict(title=dict(text="z₁"), zeroline=False, constrain="domain"),
        yaxis=dict(title=dict(text="z₂"), zeroline=False, scaleanchor="x", scaleratio=1),
        legend=dict(orientation="h", x=0, xanchor="left", y=-0.16, yanchor="top"),
        # with an animation the top margin holds the play buttons and the step slider below the
        # figure's toolbar (which covered the slider's right end in a 60 px margin)
        margin=dict(l=60, r=20, t=(150 if title else 110) if animation is not None else (70 if title else 30), b=40),
        height=height,
    )
    # the bottom margin holds the tick labels, the axis title and the legend below them, which hangs 16% of
    # the plot's height below the plot; it fits a one-row legend (p and your guess): a legend in more rows
    # (the optima, the descent) is left to automargin.
    layout["margin"]["b"] = bottom_margin_under_plot(height, layout["margin"]["t"], 0.16, 53 if projector else 45)
    if layout["title"] is None:
        del layout["title"]
    if extent is not None:
        layout["xaxis"]["range"] = [extent[0], extent[1]]
        layout["yaxis"]["range"] = [extent[2], extent[3]]
    frames: list[dict] = []
    if animation is not None and len(animation.means):
        frames = _animate(data, layout, animation, extent, radius)
    return go.Figure(dict(data=data, layout=layout, frames=frames))
