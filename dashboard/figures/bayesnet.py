"""Plotly figures for the Bayesian-networks page (pure builders: data in, ``go.Figure`` out).

* :func:`network_figure` — the DAG drawn in layers (parents above children), arrows for edges,
  observed variables shaded, the query variable outlined;
* :func:`joint_comparison_figure` / :func:`marginal_comparison_figure` — sample frequencies
  next to exact probabilities;
* :func:`tv_curve_figure` — total-variation distance against the number of samples (log-log);
* :func:`query_figure` — P(X) before and P(X | evidence) after observing the evidence.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.palette import DEFAULT, Palette
from genlab.bayesnet import BayesianNetwork

# The default palette's colours; every builder takes ``palette=`` (dashboard/figures/palette.py).
EXACT_COLOUR = DEFAULT.exact  # exact probabilities (blue)
SAMPLE_COLOUR = DEFAULT.sample  # sample frequencies (orange)
PRIOR_COLOUR = DEFAULT.prior  # before the evidence (grey)
POSTERIOR_COLOUR = DEFAULT.posterior  # after the evidence (red)
QUERY_COLOUR = DEFAULT.query
OBSERVED_FILL = "#A9B4C2"
NODE_FILL = "#FFFFFF"
NODE_TEXT = "#111111"


# --------------------------------------------------------------------------- #
# The graph
# --------------------------------------------------------------------------- #
def wrap_label(name: str, width: int = 10) -> list[str]:
    """Split a variable name at spaces into lines of at most ``width`` characters (words kept whole)."""
    lines: list[str] = []
    for word in name.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [name]


def layer_positions(network: BayesianNetwork) -> dict[str, tuple[float, float]]:
    """(x, y) of every variable: y = −depth (roots on top, every edge points down), and within a
    layer the variables are ordered by the mean x of their parents (fewer crossings), centred on 0."""
    depth = network.depths()
    layers: dict[int, list[str]] = {}
    for name in network.topological_order():
        layers.setdefault(depth[name], []).append(name)
    x: dict[str, float] = {}
    for d in sorted(layers):
        names = layers[d]
        if d > 0:
            original = {name: i for i, name in enumerate(names)}

            def barycentre(name: str) -> tuple[float, int]:
                parents = network.parents(name)
                return (float(np.mean([x[p] for p in parents])) if parents else 0.0, original[name])

            names = sorted(names, key=barycentre)
        m = len(names)
        for j, name in enumerate(names):
            x[name] = j - (m - 1) / 2
    return {name: (x[name], -float(depth[name])) for name in network.names}


def _node_diameter(names: Iterable[str], font_size: float) -> int:
    longest = max((len(line) for name in names for line in wrap_label(name)), default=1)
    lines = max((len(wrap_label(name)) for name in names), default=1)
    return int(max(0.62 * font_size * longest + 22, 1.25 * font_size * lines + 26, 3.6 * font_size))


def _distance_to_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = float(np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab)))


def _edge_arrows(network: BayesianNetwork, pos: dict, diameter: float,
                 arrow_colour: str) -> tuple[list[dict], list[dict]]:
    """One arrow per edge parent → child (an annotation); an edge that would pass through another
    node bends sideways as a curve (a trace) with the arrowhead on its last piece."""
    traces: list[dict] = []
    annotations: list[dict] = []
    for parent, child in network.edges:
        start, end = np.array(pos[parent]), np.array(pos[child])
        blocked = any(
            _distance_to_segment(np.array(pos[other]), start, end) < 0.3
            for other in network.names
            if other not in (parent, child)
        )
        if blocked:
            # quadratic Bézier curve bulging sideways, arrowhead along its last piece
            direction = end - start
            normal = np.array([direction[1], -direction[0]]) / max(np.linalg.norm(direction), 1e-9)
            if normal[0] < 0:
                normal = -normal
            control = (start + end) / 2 + 0.55 * normal
            t = np.linspace(0.0, 1.0, 30)[:, None]
            curve = (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end
            traces.append(
                dict(
                    type="scatter",
                    x=curve[:, 0].tolist(),
                    y=curve[:, 1].tolist(),
                    mode="lines",
                    line=dict(color=arrow_colour, width=2.5),
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
            tail = curve[-4]
        else:
            tail = start
        annotations.append(
            dict(
                x=end[0],
                y=end[1],
                ax=tail[0],
                ay=tail[1],
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                text="",
                showarrow=True,
                arrowhead=2,
                arrowsize=1.3,
                arrowwidth=2.5,
                arrowcolor=arrow_colour,
                standoff=diameter / 2 + 2,
                startstandoff=0 if blocked else diameter / 2,
            )
        )
    return traces, annotations


def network_figure(
    network: BayesianNetwork,
    *,
    observed: Iterable[str] = (),
    query: str | None = None,
    font_size: float = 16,
    dark: bool = False,
    palette: Palette = DEFAULT,
) -> go.Figure:
    """Draw the DAG: one circle per variable, layered by depth (parents above children), one arrow
    per edge parent → child. ``observed`` variables are shaded grey (the usual convention for
    evidence); ``query`` gets an orange outline. Hover a node for its states and CPT size.

    Edges that would pass through another node are drawn as curves. ``font_size`` sets the label
    size (the nodes grow with it); ``dark`` picks arrow colours for a dark background.
    """
    pos = layer_positions(network)
    observed = set(observed)
    diameter = _node_diameter(network.names, font_size)
    n_layers = 1 + max(network.depths().values())
    layer_px = diameter + 80
    height = int(max(n_layers * layer_px + 40, 260))
    max_width = max(sum(1 for p in pos.values() if p[1] == y) for y in {p[1] for p in pos.values()})
    arrow_colour = "#C9D1E0" if dark else "#3A3F4B"

    traces, annotations = _edge_arrows(network, pos, diameter, arrow_colour)

    names = list(network.names)
    hover = []
    for name in names:
        parents = network.parents(name)
        hover.append(
            f"<b>{name}</b><br>states: {', '.join(network.states(name))}<br>"
            f"parents: {', '.join(parents) if parents else 'none (a root)'}<br>"
            f"CPT: {network.parent_configurations(name)} row(s) × {len(network.states(name))}"
            + ("<br><i>observed (evidence)</i>" if name in observed else "")
        )
    traces.append(
        dict(
            type="scatter",
            x=[pos[n][0] for n in names],
            y=[pos[n][1] for n in names],
            mode="markers+text",
            text=["<br>".join(wrap_label(n)) for n in names],
            textposition="middle center",
            textfont=dict(size=font_size, color=NODE_TEXT),
            marker=dict(
                size=diameter,
                color=[OBSERVED_FILL if n in observed else NODE_FILL for n in names],
                line=dict(
                    color=[palette.query if n == query else "#222222" for n in names],
                    width=[5 if n == query else 2 for n in names],
                ),
            ),
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
            cliponaxis=False,
        )
    )
    pad_y = (diameter / 2 + 16) / layer_px
    half_width = (max_width - 1) / 2
    layout = dict(
        annotations=annotations,
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        showlegend=False,
        dragmode=False,
        xaxis=dict(visible=False, range=[-half_width - 0.7, half_width + 0.7], fixedrange=True),
        yaxis=dict(visible=False, range=[-(n_layers - 1) - pad_y, pad_y], fixedrange=True),
    )
    # dicts, not go.Scatter objects: one validation pass instead of many (keeps reruns fast)
    return go.Figure(data=traces, layout=layout)


# --------------------------------------------------------------------------- #
# Samples against the exact distribution
# --------------------------------------------------------------------------- #
def configuration_labels(table: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """One short label per joint configuration: the states joined by '/' (in ``names`` order)."""
    return ["/".join(str(v) for v in row) for row in table[list(names)].itertuples(index=False)]


def _legend_on_top() -> dict:
    return dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0)


def _bar(name: str, x: Sequence[str], y: Sequence[float], colour: str, **extra) -> dict:
    return dict(type="bar", name=name, x=list(x), y=[float(v) for v in y], marker=dict(color=colour), **extra)


# Margins that hold the labels (see dashboard.figures); ``projector``: instructor mode's larger fonts.
_TOP_LEGEND = {False: 52, True: 60}  # a one-row legend on top of the plot
_LEFT_PROBABILITY = {False: 70, True: 82}  # a probability axis: tick labels up to "0.05" and its title


def _bars_bottom(labels: Sequence[str], projector: bool) -> int:
    """Bottom margin of a bar chart with ``labels`` under it and an axis title below them: a row of
    horizontal labels, or labels turned by 45° (more than 8 bars), which need ~a third of the tick
    font's size in px per character."""
    if len(labels) <= 8:
        return 70 if projector else 60
    longest = max((len(label) for label in labels), default=0)
    return (64 if projector else 56) + math.ceil(longest * (20 if projector else 15) / 3)


def _comparison_figure(labels: list[str], exact: Sequence[float], empirical: Sequence[float], n: int,
                       exact_name: str, x_title: str, palette: Palette, projector: bool) -> go.Figure:
    layout = dict(
        barmode="group",
        height=400,
        margin=dict(l=_LEFT_PROBABILITY[projector], r=20, t=_TOP_LEGEND[projector], b=_bars_bottom(labels, projector)),
        legend=_legend_on_top(),
        xaxis=dict(title=dict(text=x_title), tickangle=-45 if len(labels) > 8 else None),
        yaxis=dict(title=dict(text="probability")),
    )
    traces = [
        _bar(exact_name, labels, exact, palette.exact),
        _bar(f"sample frequency (n={n:,})", labels, empirical, palette.sample),
    ]
    return go.Figure(data=traces, layout=layout)


def joint_comparison_figure(table: pd.DataFrame, names: Sequence[str], n: int, *,
                            palette: Palette = DEFAULT, projector: bool = False) -> go.Figure:
    """Grouped bars per joint configuration: exact P(x) next to the frequency in ``n`` samples.

    ``table`` is :attr:`SampleComparison.table` (columns ``names`` + ``exact``, ``empirical``).
    ``projector``: margins for instructor mode's larger fonts.
    """
    labels = configuration_labels(table, names)
    return _comparison_figure(labels, table["exact"], table["empirical"], n, "exact P(x)", " / ".join(names),
                              palette, projector)


def marginal_comparison_figure(frame: pd.DataFrame, n: int, *, palette: Palette = DEFAULT,
                               projector: bool = False) -> go.Figure:
    """Grouped bars per (variable, state): exact marginal P(X_d = s) next to the sample frequency.

    ``frame`` is :meth:`BayesianNetwork.compare_marginals` output. ``projector``: margins for instructor
    mode's larger fonts.
    """
    labels = [f"{v}={s}" for v, s in zip(frame["variable"], frame["state"])]
    return _comparison_figure(labels, frame["exact"], frame["empirical"], n, "exact P(X=s)", "variable = state",
                              palette, projector)


def tv_curve_figure(curve: pd.DataFrame, current_n: int | None = None, current_tv: float | None = None, *,
                    palette: Palette = DEFAULT, projector: bool = False) -> go.Figure:
    """TV(sample frequencies, exact joint) against n on log-log axes, with the typical size
    ½ Σ_x √(2p(1−p)/(πn)) ∝ 1/√n as a dashed reference and the current n marked.
    ``projector``: margins for instructor mode's larger fonts (the figure then has the page's width)."""
    sizes = [int(v) for v in curve["n"]]
    traces = [
        dict(
            type="scatter", x=sizes, y=[max(float(v), 1e-6) for v in curve["tv"]], mode="lines+markers",
            name="TV of the first n samples", line=dict(color=palette.sample, width=2.5),
        ),
        dict(
            type="scatter", x=sizes, y=[float(v) for v in curve["expected"]], mode="lines",
            name="typical TV ∝ 1/√n", line=dict(color=palette.exact, dash="dash", width=2),
        ),
    ]
    if current_n is not None and current_tv is not None:
        traces.append(
            dict(
                type="scatter", x=[int(current_n)], y=[max(float(current_tv), 1e-6)], mode="markers",
                name=f"your n = {current_n:,}", marker=dict(color=palette.posterior, size=14, symbol="diamond"),
            )
        )
    layout = dict(
        height=400,
        # left: tick labels down to "0.001"; top: the legend in two rows beside the samples table (normal
        # mode), in one row at the page's width (instructor mode stacks the two)
        margin=dict(l=82 if projector else 70, r=20, t=60 if projector else 74, b=70 if projector else 60),
        legend=_legend_on_top(),
        xaxis=dict(type="log", dtick=1, title=dict(text="number of samples n")),
        yaxis=dict(type="log", dtick=1, title=dict(text="total variation distance")),
    )
    return go.Figure(data=traces, layout=layout)


def query_figure(prior: pd.Series, posterior: pd.Series | None, *, palette: Palette = DEFAULT,
                 projector: bool = False) -> go.Figure:
    """Bars of P(X = s) without evidence next to P(X = s | evidence) (when given).
    ``projector``: margins for instructor mode's larger fonts."""
    states = [str(s) for s in prior.index]
    traces = [
        _bar(str(prior.name or "before"), states, prior.to_numpy(), palette.prior,
             text=[f"{v:.3f}" for v in prior.to_numpy()], textposition="outside"),
    ]
    if posterior is not None:
        traces.append(
            _bar(str(posterior.name or "after"), states, posterior.to_numpy(), palette.posterior,
                 text=[f"{v:.3f}" for v in posterior.to_numpy()], textposition="outside")
        )
    layout = dict(
        barmode="group",
        height=380,
        margin=dict(l=60, r=20, t=_TOP_LEGEND[projector], b=_bars_bottom(states, projector)),
        legend=_legend_on_top(),
        yaxis=dict(title=dict(text="probability"), range=[0, 1.12]),
        xaxis=dict(title=dict(text=str(prior.index.name or ""))),
    )
    return go.Figure(data=traces, layout=layout)


# --------------------------------------------------------------------------- #
# Three types of graphical models (the lecture's slide): one network drawn three ways
# --------------------------------------------------------------------------- #
GRAPH_TYPE_TITLES = (("Directed", "Bayesian network"), ("Undirected", "Markov random field"),
                     ("Factor graph", "variables and factors"))


def short_labels(names: Sequence[str], longest: int = 3) -> dict[str, str]:
    """The shortest common prefix length that tells the names apart (``Cloudy`` → ``C``); when that
    needs more than ``longest`` characters, X1, X2, … in network order."""
    for length in range(1, longest + 1):
        labels = [name[:length].strip() for name in names]
        if len(set(labels)) == len(labels):
            return dict(zip(names, labels))
    return {name: f"X{i + 1}" for i, name in enumerate(names)}


def moral_edges(network: BayesianNetwork) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The undirected graph that can hold the network's factors: (the edges without direction, the
    edges added between parents of a common child, 'married' by moralization)."""
    plain = {frozenset(edge) for edge in network.edges}
    married: list[tuple[str, str]] = []
    for child in network.names:
        parents = network.parents(child)
        for i, a in enumerate(parents):
            for b in parents[i + 1:]:
                pair = frozenset((a, b))
                if pair not in plain and pair not in {frozenset(m) for m in married}:
                    married.append((a, b))
    return list(network.edges), married


def _segments(pairs: Iterable[tuple[str, str]], pos: dict) -> tuple[list, list]:
    xs: list = []
    ys: list = []
    for a, b in pairs:
        xs += [pos[a][0], pos[b][0], None]
        ys += [pos[a][1], pos[b][1], None]
    return xs, ys


def graph_types_figure(network: BayesianNetwork, *, font_size: float = 14, dark: bool = False,
                       height: int = 280, palette: Palette = DEFAULT) -> go.Figure:
    """The network three ways, side by side: directed (its arrows), undirected (the moral graph:
    co-parents joined, dashed) and the factor graph (one square per table P(X_d | parents), joined
    to the variables it uses). Nodes carry short labels (:func:`short_labels`); hover for the name.
    The added (moral) edges take ``palette.query``."""
    pos = layer_positions(network)
    labels = short_labels(network.names)
    diameter = max(int(2.4 * font_size + 0.7 * font_size * max(len(v) for v in labels.values())), 30)
    ink = "#C9D1E0" if dark else "#3A3F4B"
    married_colour = palette.query
    half_width = max(abs(p[0]) for p in pos.values()) + 0.6
    lowest = min(p[1] for p in pos.values())
    traces: list[dict] = []
    arrow_traces, annotations = _edge_arrows(network, pos, diameter, ink)
    traces += arrow_traces
    plain, married = moral_edges(network)
    xs, ys = _segments(plain, pos)
    traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", line=dict(color=ink, width=2.5),
                       hoverinfo="skip", showlegend=False, xaxis="x2", yaxis="y2"))
    if married:
        xs, ys = _segments(married, pos)
        traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                           line=dict(color=married_colour, width=2.5, dash="dash"), xaxis="x2", yaxis="y2"))
    factor_pos = {name: (pos[name][0], pos[name][1] + 0.5) for name in network.names}
    pairs = [(f"f:{name}", other) for name in network.names for other in (name, *network.parents(name))]
    both = {**pos, **{f"f:{name}": p for name, p in factor_pos.items()}}
    xs, ys = _segments(pairs, both)
    traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", line=dict(color=ink, width=2),
                       hoverinfo="skip", showlegend=False, xaxis="x3", yaxis="y3"))
    factor_names = [f"P({labels[n]}" + (" | " + ", ".join(labels[p] for p in network.parents(n)) if network.parents(n) else "")
                    + ")" for n in network.names]
    traces.append(dict(type="scatter", x=[p[0] for p in factor_pos.values()], y=[p[1] for p in factor_pos.values()],
                       mode="markers", marker=dict(symbol="square", size=font_size, color=ink),
                       hovertext=factor_names, hoverinfo="text", showlegend=False, cliponaxis=False,
                       xaxis="x3", yaxis="y3"))
    names = list(network.names)
    for axis in ("", "2", "3"):
        traces.append(dict(
            type="scatter", x=[pos[n][0] for n in names], y=[pos[n][1] for n in names], mode="markers+text",
            text=[labels[n] for n in names], textposition="middle center",
            textfont=dict(size=font_size, color=NODE_TEXT),
            marker=dict(size=diameter, color=NODE_FILL, line=dict(color="#222222", width=2)),
            hovertext=names, hoverinfo="text", showlegend=False, cliponaxis=False,
            xaxis="x" + axis, yaxis="y" + axis))
    layout = dict(annotations=annotations, height=height, margin=dict(l=10, r=10, t=int(3.6 * font_size), b=6),
                  showlegend=False, dragmode=False, plot_bgcolor="rgba(0,0,0,0)")   # one background, not three
    gap = 0.04
    for i, (title, subtitle) in enumerate(GRAPH_TYPE_TITLES):
        suffix = "" if i == 0 else str(i + 1)
        start, end = i / 3 + (gap if i else 0), (i + 1) / 3 - (gap if i < 2 else 0)
        layout["xaxis" + suffix] = dict(visible=False, domain=[start, end], fixedrange=True,
                                        range=[-half_width, half_width])
        layout["yaxis" + suffix] = dict(visible=False, fixedrange=True, range=[lowest - 0.4, 0.85])
        annotations.append(dict(text=f"<b>{title}</b><br>{subtitle}", x=(start + end) / 2, y=1, xref="paper", yref="paper",
                                yanchor="bottom", showarrow=False, font=dict(size=font_size)))
    return go.Figure(data=traces, layout=layout)
