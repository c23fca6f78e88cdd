"""Figure builders for the GAN pages (issue 5): numpy in, ``go.Figure`` / uint8 image out.

No ``st.*`` calls here; the pages style and show the figures with ``dashboard.common``.

Colours follow GAN Lab: real data and "D says real" are green, generated data and
"D says fake" are purple, so the heatmap and the points read the same way. Every builder takes
``palette=`` (:mod:`dashboard.figures.palette`): the colour-blind-safe one draws real in blue and
fake in orange, in the points, the heatmap and the charts alike.

The live pages rebuild these figures a few times a second while a model trains, so the
builders construct figures from plain dicts with plotly's validation switched off
(``go.Figure(..., _validate=False)``): several times faster, same JSON.
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.margins import bottom_margin_under_plot
from dashboard.figures.palette import DEFAULT, REFERENCE_LINE, Palette

__all__ = [
    "REAL_COLOR",
    "FAKE_COLOR",
    "D_COLORSCALE",
    "LAYERS",
    "LAYER_LABELS",
    "plane_figure",
    "plane_tick",
    "draw_canvas_figure",
    "loss_figure",
    "d_output_figure",
    "divergence_figure",
    "modes_figure",
    "quality_figure",
    "saturation_figure",
    "image_grid",
    "patch_map_figure",
    "history_columns",
]

# The default palette's colours (every builder takes ``palette=``; see dashboard/figures/palette.py)
REAL_COLOR = DEFAULT.real           # green: real data / D(x) -> 1
FAKE_COLOR = DEFAULT.fake           # purple: generated data / D(x) -> 0
MANIFOLD_COLOR = DEFAULT.manifold
GRADIENT_COLOR = DEFAULT.gradient   # orange arrows: where G's gradient pushes the fakes
SECOND_COLOR = DEFAULT.second
# Real and fake points of the 2D plane are drawn with WebGL ("scattergl") by default: a figure that is
# redrawn often (the replay's animation) redraws ~4x faster as WebGL than as 1000 SVG circles with
# outlines. A plane drawn once per rerun (the GAN lab's page) asks for SVG ("scatter"): a tab's first
# WebGL plot pays WebGL's start-up, ~3x the SVG plot's first draw (headless Chromium, software GL).
# WebGL traces sit above the SVG ones (heatmap, mesh, arrows); SVG traces in the order drawn.
POINTS_TRACE = "scattergl"
POINTS_TRACES = ("scattergl", "scatter")
REAL_MARKER_SIZE = 6
FAKE_MARKER_SIZE = 6
FAKE_OPACITY = 0.7
# D(x) heatmap: purple (fake, 0) -> white (undecided, 0.5) -> green (real, 1)
D_COLORSCALE = [list(stop) for stop in DEFAULT.d_colorscale]


def _scale(palette: Palette) -> list[list]:
    """The palette's D(x) colour scale as plotly wants it (a list of [position, colour])."""
    return [list(stop) for stop in palette.d_colorscale]

LAYERS = ("real", "fake", "heatmap", "manifold", "gradients")
LAYER_LABELS = {
    "real": "Real points",
    "fake": "Fake points G(z)",
    "heatmap": "D(x) heatmap",
    "manifold": "Generator manifold",
    "gradients": "G's gradient arrows",
}


def _fig(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts without plotly's (slow) property validation.

    Without a template of its own a new figure deep-copies plotly's default template (the
    defaults of every trace type): 6x the cost of building a live chart and 3x that of its JSON.
    The pages apply the theme's template anyway (``dashboard.common.style_figure``), so the
    figure starts with an empty one."""
    layout.setdefault("template", {})
    return go.Figure(data=data, layout=layout, _validate=False)


def _arr(values) -> np.ndarray:
    if values is None:
        return np.zeros((0,), dtype=float)
    if hasattr(values, "detach"):  # torch tensor
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)


def _list(values) -> np.ndarray:
    """A float32 array for plotly: sent as compact base64 typed arrays, and plotly copies
    arrays far faster than lists. NaN leaves a gap in a line."""
    return _arr(values).astype(np.float32)


def _points(values) -> np.ndarray:
    a = _arr(values)
    if a.size == 0:
        return np.zeros((0, 2))
    return a.reshape(-1, 2)


def _base_layout(title: str | None, height: int | None, **extra) -> dict:
    """Title on its own line at the top, the legend on the line below it (never overlapping); the
    bottom margin holds an x-axis title under its tick labels (instructor mode: style_figure's)."""
    layout = dict(
        margin=dict(l=60, r=20, t=80 if title else 40, b=60),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0.0),
        hovermode="closest",
        uirevision="keep",  # keep zoom / legend clicks across live refreshes
    )
    if title:
        layout["title"] = dict(text=title, x=0.01, xanchor="left", y=0.98, yanchor="top", yref="container")
    if height:
        layout["height"] = int(height)
    layout.update(extra)
    return layout


def bounds_for(*point_sets, margin: float = 0.15, square: bool = True) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) covering all point sets plus a margin (square when asked)."""
    pts = [p for p in (_points(s) for s in point_sets) if len(p)]
    if not pts:
        return (-3.0, 3.0, -3.0, 3.0)
    allp = np.concatenate(pts)
    allp = allp[np.isfinite(allp).all(axis=1)]
    if not len(allp):
        return (-3.0, 3.0, -3.0, 3.0)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 1e-3)
    lo, hi = lo - margin * span, hi + margin * span
    if square:
        centre, half = (lo + hi) / 2, float(np.max(hi - lo)) / 2
        lo, hi = centre - half, centre + half
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


# --------------------------------------------------------------------------- #
# The 2D plane: real, fake, D(x) heatmap, generator manifold, gradient arrows
# --------------------------------------------------------------------------- #
def plane_tick(span: float, ticks: int = 6) -> float:
    """The plane's tick spacing (both axes, so that its grid is square): the first of 1, 2, 5 x 10^n
    that gives at most ``ticks`` intervals over ``span``. Set explicitly, so that Plotly and the live
    canvas draw the same ticks."""
    rough = abs(float(span)) / max(1, ticks)
    if not np.isfinite(rough) or rough <= 0:
        return 1.0
    base = 10.0 ** math.floor(math.log10(rough))
    return next(m * base for m in (1, 2, 5, 10) if m * base >= rough * (1 - 1e-9))


def _manifold_trace(grid, colour: str = MANIFOLD_COLOR) -> dict | None:
    """Lines along the rows and columns of a (R, C, 2) grid of generator outputs."""
    g = _arr(grid)
    if g.size == 0 or g.ndim != 3 or g.shape[-1] != 2:
        return None
    lines = list(g) + list(g.transpose(1, 0, 2))
    sep = np.full((1, 2), np.nan)
    seq = np.concatenate([np.concatenate([line, sep]) for line in lines])
    return dict(
        type="scatter", x=_list(seq[:, 0]), y=_list(seq[:, 1]), mode="lines", name=LAYER_LABELS["manifold"],
        line=dict(color=colour, width=1.2), hoverinfo="skip",
    )


def _arrow_traces(points, vectors, span: float, max_len_frac: float = 0.09,
                  colour: str = GRADIENT_COLOR) -> list[dict]:
    """Arrows from ``points`` along ``vectors`` (rescaled: the longest is ``max_len_frac`` of the span).

    Returns a line trace (the shafts) and a marker trace (arrow heads rotated to the direction).
    """
    p, v = _points(points), _points(vectors)
    n = min(len(p), len(v))
    if n == 0:
        return []
    p, v = p[:n], v[:n]
    norms = np.linalg.norm(v, axis=1)
    finite = np.isfinite(norms) & np.isfinite(p).all(axis=1)
    p, v, norms = p[finite], v[finite], norms[finite]
    if not len(p):
        return []
    longest = float(norms.max())
    scale = (max_len_frac * span / longest) if longest > 0 else 0.0
    ends = p + v * scale
    xs = np.full(3 * len(p), np.nan)
    ys = np.full(3 * len(p), np.nan)
    xs[0::3], xs[1::3] = p[:, 0], ends[:, 0]
    ys[0::3], ys[1::3] = p[:, 1], ends[:, 1]
    # marker angle: degrees clockwise from "up"
    angles = np.degrees(np.arctan2(v[:, 0], v[:, 1]))
    shown = norms * scale > 1e-4 * span
    return [
        dict(type="scatter", x=_list(xs), y=_list(ys), mode="lines", name=LAYER_LABELS["gradients"],
             legendgroup="grad", line=dict(color=colour, width=1.5), hoverinfo="skip"),
        dict(type="scatter", x=_list(ends[shown, 0]), y=_list(ends[shown, 1]), mode="markers",
             legendgroup="grad", showlegend=False, hoverinfo="skip",
             marker=dict(symbol="triangle-up", size=7, color=colour,
                         angle=_list(angles[shown]))),
    ]


def _points_traces(real_p: np.ndarray, fake_p: np.ndarray | None, show_real: bool, palette: Palette,
                   trace_type: str) -> list[dict]:
    """The plane's fake points (see-through) and real points (outlined, on top): real data stays
    visible where the fakes pile onto it, which is where a good generator puts them."""
    data = []
    if fake_p is not None and len(fake_p):
        data.append(dict(
            type=trace_type, x=_list(fake_p[:, 0]), y=_list(fake_p[:, 1]), mode="markers", name="fake G(z)",
            marker=dict(color=palette.fake, size=FAKE_MARKER_SIZE, opacity=FAKE_OPACITY),
            hovertemplate="fake (%{x:.2f}, %{y:.2f})<extra></extra>",
        ))
    if show_real and len(real_p):
        data.append(dict(
            type=trace_type, x=_list(real_p[:, 0]), y=_list(real_p[:, 1]), mode="markers", name="real x ~ p_data",
            marker=dict(color=palette.real, size=REAL_MARKER_SIZE, line=dict(color="white", width=1), opacity=1),
            hovertemplate="real (%{x:.2f}, %{y:.2f})<extra></extra>",
        ))
    return data


def plane_figure(
    real,
    fake=None,
    *,
    heatmap: tuple | None = None,
    manifold=None,
    gradients: tuple | None = None,
    layers: Iterable[str] = LAYERS,
    bounds: tuple[float, float, float, float] | None = None,
    title: str | None = None,
    height: int | None = 560,
    step: int | None = None,
    show_legend: bool = True,
    palette: Palette = DEFAULT,
    points_trace: str = POINTS_TRACE,
    projector: bool = False,
) -> go.Figure:
    """The GAN Lab picture of one moment of training.

    real, fake: (N, 2) points. heatmap: (xs (nx,), ys (ny,), d (ny, nx)) discriminator
    outputs D(x) in [0, 1] on a grid. manifold: (R, C, 2) generator outputs of a grid in
    noise space. gradients: (points (K, 2), vectors (K, 2)) the direction each fake point
    moves under the generator's update (minus the loss gradient). ``layers`` picks
    which of ``LAYERS`` to draw. ``bounds`` = (x0, x1, y0, y1) fixes the view. ``palette``: the
    colours of real, fake, D(x), the mesh and the arrows. ``points_trace``: ``scattergl`` (WebGL)
    or ``scatter`` (SVG) for the real and fake points (see :data:`POINTS_TRACE`). ``projector``: the
    margins for instructor mode's larger fonts.
    """
    if points_trace not in POINTS_TRACES:
        raise ValueError(f"points_trace {points_trace!r}: allowed {', '.join(POINTS_TRACES)}")
    layers = set(layers)
    unknown = layers - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown layers {sorted(unknown)}; allowed: {', '.join(LAYERS)}")
    real_p, fake_p = _points(real), _points(fake)
    if bounds is None:
        bounds = bounds_for(real_p, fake_p if "fake" in layers else None)
    x0, x1, y0, y1 = bounds
    span = max(x1 - x0, y1 - y0)
    data: list[dict] = []
    if "heatmap" in layers and heatmap is not None:
        hx, hy, hz = heatmap
        z = _arr(hz)
        if z.size:
            data.append(dict(
                type="heatmap", x=_list(hx), y=_list(hy), z=_list(z),
                zmin=0.0, zmax=1.0, colorscale=_scale(palette), zsmooth="fast", name="D(x)",
                colorbar=dict(title=dict(text="D(x)", side="top"), thickness=12, len=0.9, orientation="h",
                              x=0.5, xanchor="center", y=-0.13, yanchor="top",
                              tickvals=[0, 0.5, 1], ticktext=["0 fake", "0.5", "1 real"]),
                hovertemplate="x=%{x:.2f}, y=%{y:.2f}<br>D(x)=%{z:.2f}<extra></extra>",
            ))
    if "manifold" in layers and manifold is not None:
        trace = _manifold_trace(manifold, palette.manifold)
        if trace:
            data.append(trace)
    data += _points_traces(real_p, fake_p if "fake" in layers else None, "real" in layers, palette, points_trace)
    if "gradients" in layers and gradients is not None:
        data.extend(_arrow_traces(gradients[0], gradients[1], span, colour=palette.gradient))
    if title is None and step is not None:
        title = f"step {step}"
    tick = plane_tick(span)
    has_colorbar = any(t.get("type") == "heatmap" for t in data)
    layout = _base_layout(
        title, height, showlegend=show_legend,
        xaxis=dict(range=[x0, x1], title=dict(text="x₁", standoff=4), zeroline=False, constrain="domain",
                   tick0=0, dtick=tick),
        yaxis=dict(range=[y0, y1], title=dict(text="x₂"), zeroline=False, scaleanchor="x", scaleratio=1,
                   constrain="domain", tick0=0, dtick=tick),
    )
    # room for what lies under the plot: the x-axis title alone, or also the D(x) colour bar, which
    # hangs 13% of the plot's height below it
    bottom = 50
    if has_colorbar:
        bottom = bottom_margin_under_plot(int(height or 450), layout["margin"]["t"], 0.13, 99 if projector else 84)
    layout["margin"]["b"] = bottom
    return _fig(data, layout)


def draw_canvas_figure(points, bounds=(-5.0, 5.0, -5.0, 5.0), *, grid_n: int = 41, height: int = 420,
                       palette: Palette = DEFAULT, projector: bool = False) -> go.Figure:
    """A canvas to draw a data set on: the points so far plus an almost invisible grid of
    clickable points (Streamlit reports a click only on a point). Show it with
    ``on_select`` and ``selection_mode=("points", "box", "lasso")``: a click selects the nearest
    grid point; the toolbar's box / lasso tools select an area. ``projector``: the margins for instructor
    mode's larger fonts."""
    x0, x1, y0, y1 = bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, grid_n), np.linspace(y0, y1, grid_n))
    pts = _points(points)
    data = [
        dict(type="scatter", x=_list(gx.ravel()), y=_list(gy.ravel()), mode="markers", name="click target",
             showlegend=False, marker=dict(size=9, color="rgba(47,95,208,0.04)"),
             hovertemplate="add a cluster at (%{x:.1f}, %{y:.1f})<extra></extra>"),
        dict(type="scatter", x=_list(pts[:, 0]), y=_list(pts[:, 1]),
             mode="markers", name=f"your points ({len(pts)})",
             marker=dict(color=palette.real, size=5, opacity=0.85), hoverinfo="skip"),
    ]
    layout = _base_layout(
        None, height,   # no dragmode: Streamlit then lets a click select a point (a drag-select would not)
        xaxis=dict(range=[x0, x1], title=dict(text="x₁"), zeroline=True, fixedrange=True),
        yaxis=dict(range=[y0, y1], title=dict(text="x₂"), zeroline=True, scaleanchor="x", fixedrange=True),
    )
    layout["margin"]["t"] = 58 if projector else 50   # the legend's row above the plot
    return _fig(data, layout)


# --------------------------------------------------------------------------- #
# Charts over time
# --------------------------------------------------------------------------- #
def history_columns(rows: Sequence[Mapping], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Columns ``names`` of a list of metric rows (missing values become NaN)."""
    out = {}
    for name in names:
        out[name] = np.array([_float(r.get(name)) for r in rows], dtype=float)
    return out


def _float(value) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return f


def _thin(x, *ys, max_points: int = 1500):
    """Keep at most ``max_points`` evenly spaced samples (the live charts stay light)."""
    x = _arr(x)
    n = len(x)
    if n <= max_points:
        return (x, *[_arr(y) for y in ys])
    idx = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return (x[idx], *[_arr(y)[idx] for y in ys])


def _line(x, y, name, color, dash=None, yaxis=None) -> dict:
    trace = dict(type="scatter", x=_list(x), y=_list(y), mode="lines", name=name,
                 line=dict(color=color, width=2, dash=dash))
    if yaxis:
        trace["yaxis"] = yaxis
    return trace


# Change labels: horizontal text beside each change's dotted line, packed into rows so that labels of
# close changes never overlap. The builder cannot know the chart's width in pixels: it assumes a narrow
# chart (CHANGE_PLOT_PX wide, two charts per row at 1280 px) and an average character width at
# CHANGE_FONT, i.e. a chart that widens with its font (instructor mode: larger labels, one chart per row).
CHANGE_PLOT_PX = 360
CHANGE_CHAR_PX = 6.6          # average width of a character at CHANGE_FONT
CHANGE_FONT = 11
CHANGE_ROWS = 4


def _merge_changes(texts: Sequence[str]) -> str:
    """One label for changes made close together: each setting once, at its last value
    (``["k_disc=2", "k_disc=3, loss=minimax"]`` -> ``"k_disc=3, loss=minimax"``)."""
    latest: dict[str, str] = {}
    for text in texts:
        for part in str(text).split(","):
            part = part.strip()
            if part:
                key = part.split("=", 1)[0].strip()
                latest.pop(key, None)           # a later value replaces it, in the order of the last changes
                latest[key] = part
    return ", ".join(latest.values())


def _change_shapes(changes: Sequence[tuple[float, str]] | None, steps=None, *, max_marks: int = 12,
                   label_font: int = CHANGE_FONT) -> tuple[list, list]:
    """Vertical dotted lines at the steps where settings changed live, and their labels.

    Changes whose steps lie within 1 % of the chart's step range share one label ("k=3, loss=minimax");
    the labels are laid out in up to :data:`CHANGE_ROWS` rows from the top of the plot (``yshift``),
    each in the first row where it does not overlap the one before it (a label near the right edge
    ends at its line instead of starting there). ``steps``: the chart's x values (its step range).
    """
    marks = [(float(step), str(text)) for step, text in list(changes or [])[-max_marks:]]
    shapes = [dict(type="line", xref="x", yref="paper", x0=step, x1=step, y0=0, y1=1,
                   line=dict(color="rgba(120,120,120,0.6)", width=1, dash="dot")) for step, _ in marks]
    if not marks:
        return shapes, []
    xs = _arr(steps)
    xs = np.concatenate([xs[np.isfinite(xs)], [step for step, _ in marks]])
    lo, span = float(xs.min()), max(float(xs.max() - xs.min()), 1.0)
    groups: list[list] = []                     # [first step, last step, texts]
    for step, text in sorted(marks):
        if groups and step - groups[-1][1] <= 0.01 * span:
            groups[-1][1] = step
            groups[-1][2].append(text)
        else:
            groups.append([step, step, [text]])
    row_ends: list[float] = []                  # per row: where its last label ends (fraction of the range)
    annotations = []
    for step, _, texts in groups:
        text = _merge_changes(texts)[:40]
        start = (step - lo) / span
        width = (len(text) * CHANGE_CHAR_PX + 6) / CHANGE_PLOT_PX
        right = start + width > 1.0             # no room to the right: the label ends at its line
        left_edge, right_edge = (start - width, start) if right else (start, start + width)
        row = next((r for r, end in enumerate(row_ends) if left_edge >= end), None)
        if row is None and len(row_ends) < CHANGE_ROWS:
            row = len(row_ends)
            row_ends.append(0.0)
        elif row is None:                       # every row taken: the one that ends first
            row = int(np.argmin(row_ends))
        row_ends[row] = right_edge
        annotations.append(dict(
            x=step, y=1, xref="x", yref="paper", text=text, showarrow=False, xanchor="right" if right else "left",
            yanchor="top", xshift=-3 if right else 3, yshift=-round(row * label_font * 1.35),
            font=dict(size=label_font),
        ))
    return shapes, annotations


# Right margin of a chart over training steps: its last tick label (e.g. "6000") can sit at the plot's
# right edge, half of it past it.
STEP_AXIS_RIGHT = 35


def loss_figure(steps, loss_d, loss_g, *, loss_name: str | None = None, changes=None,
                title: str = "Losses", height: int | None = 300, label_font: int = CHANGE_FONT,
                palette: Palette = DEFAULT) -> go.Figure:
    """loss_D and loss_G over training steps (dotted lines mark live setting changes, labelled in
    ``label_font``-sized text)."""
    x, d, g = _thin(steps, loss_d, loss_g)
    shapes, annotations = _change_shapes(changes, x, label_font=label_font)
    layout = _base_layout(
        title + (f" ({loss_name})" if loss_name else ""), height,
        xaxis=dict(title=dict(text="step")), yaxis=dict(title=dict(text="loss")),
        shapes=shapes, annotations=annotations,
    )
    layout["margin"]["r"] = STEP_AXIS_RIGHT
    return _fig([_line(x, d, "loss_D", palette.real), _line(x, g, "loss_G", palette.fake)], layout)


def d_output_figure(steps, d_real, d_fake, *, changes=None, title: str = "Mean D(x) and D(G(z))",
                    height: int | None = 300, label_font: int = CHANGE_FONT, palette: Palette = DEFAULT) -> go.Figure:
    """Mean discriminator output on real and on fake samples; 0.5 = D cannot tell them apart (dotted
    lines mark live setting changes, labelled in ``label_font``-sized text)."""
    x, r, f = _thin(steps, d_real, d_fake)
    shapes, annotations = _change_shapes(changes, x, label_font=label_font)
    shapes.append(dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=0.5, y1=0.5,
                       line=dict(color="#888", width=1, dash="dash")))
    layout = _base_layout(
        title, height,
        xaxis=dict(title=dict(text="step")), yaxis=dict(title=dict(text="D output"), range=[-0.02, 1.02]),
        shapes=shapes, annotations=annotations,
    )
    layout["margin"]["r"] = STEP_AXIS_RIGHT
    return _fig([_line(x, r, "D(x) real", palette.real), _line(x, f, "D(G(z)) fake", palette.fake)], layout)


def divergence_figure(steps, kl, js, *, bins: int | None = None, title: str = "KL and JS (grid histogram)",
                      height: int | None = 300, palette: Palette = DEFAULT) -> go.Figure:
    """KL(p_real || p_fake) and JS between real and fake, estimated from 2D histograms."""
    x, k, j = _thin(steps, kl, js)
    shapes = [dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=math.log(2), y1=math.log(2),
                   line=dict(color="#888", width=1, dash="dash"))]
    annotations = [dict(xref="paper", x=1, y=math.log(2), yref="y", text="JS max = ln 2", showarrow=False,
                        xanchor="right", yanchor="bottom", font=dict(size=11, color="#666"))]
    layout = _base_layout(
        title if bins is None else f"{title}, {bins}×{bins} bins", height,
        xaxis=dict(title=dict(text="step")), yaxis=dict(title=dict(text="nats"), rangemode="tozero"),
        shapes=shapes, annotations=annotations,
    )
    layout["margin"]["r"] = STEP_AXIS_RIGHT
    return _fig([_line(x, k, "KL(real‖fake)", palette.second), _line(x, j, "JS", palette.fake, dash="dot")], layout)


def modes_figure(steps, modes_covered, high_quality, *, n_modes: int, title: str = "Modes covered, sample quality",
                 height: int | None = 300, palette: Palette = DEFAULT) -> go.Figure:
    """Number of modes with at least one nearby sample (left axis) and the share of samples
    close to some mode (right axis) -- the standard ring8 / grid25 mode-collapse numbers."""
    x, m, q = _thin(steps, modes_covered, high_quality)
    layout = _base_layout(
        title, height,
        xaxis=dict(title=dict(text="step")),
        yaxis=dict(title=dict(text=f"modes (of {n_modes})"), range=[-0.3, n_modes + 0.3]),
        yaxis2=dict(title=dict(text="high-quality share"), overlaying="y", side="right", range=[-0.02, 1.02],
                    tickformat=".0%", showgrid=False, automargin=True),
    )
    layout["margin"]["r"] = 85   # the right axis's tick labels and title
    return _fig([
        _line(x, m, "modes covered", palette.real),
        _line(x, q, "high-quality share", palette.fake, dash="dot", yaxis="y2"),
    ], layout)


def quality_figure(steps, values, *, name: str = "Fréchet distance (classifier features)",
                   title: str = "Sample quality (lower is better)", height: int | None = 300,
                   palette: Palette = DEFAULT) -> go.Figure:
    """One quality number over training, e.g. the Fréchet distance in the digit classifier's features."""
    x, v = _thin(steps, values)
    xaxis = dict(title=dict(text="step"))
    trace = _line(x, v, name, palette.second)
    trace["mode"] = "lines+markers"
    xs = np.asarray(x, dtype=float)
    xs = xs[np.isfinite(xs)]
    if len(xs) and np.ptp(xs) == 0:
        # one evaluation (a loaded run): Plotly would span ±1 step around it; show it from step 0, labelled
        xaxis.update(range=[0, max(1.0, float(xs[0])) * 1.12], rangemode="tozero")
        trace.update(mode="markers+text", marker=dict(size=11, color=palette.second), textposition="middle left",
                     text=[f"{val:,.1f} at step {int(step):,}  " if np.isfinite(val) else "" for step, val in zip(x, v)])
    layout = _base_layout(title, height, xaxis=xaxis, yaxis=dict(title=dict(text="distance"), rangemode="tozero"))
    return _fig([trace], layout)


def saturation_figure(current_d_fake: float | None = None, *, loss: str | None = None,
                      height: int | None = 320, palette: Palette = DEFAULT) -> go.Figure:
    """Why the slide's minimax generator loss stalls early.

    With D = sigmoid(a), the generator's gradient through the logit a is
    d/da log(1 - D) = -D  (minimax, on the slide) and  d/da -log D = -(1 - D)  (non-saturating).
    Early in training D(G(z)) ~ 0, so the minimax gradient vanishes while the
    non-saturating one is ~1. ``current_d_fake`` marks where training is now.
    """
    d = np.linspace(0.001, 0.999, 200)
    data = [
        _line(d, d, "minimax: |∂/∂a log(1−D)| = D", palette.fake),
        _line(d, 1 - d, "non-saturating: |∂/∂a −log D| = 1−D", palette.real),
    ]
    shapes, annotations = [], []
    if current_d_fake is not None and np.isfinite(current_d_fake):
        c = float(np.clip(current_d_fake, 0, 1))
        shapes.append(dict(type="line", xref="x", yref="paper", x0=c, x1=c, y0=0, y1=1,
                           line=dict(color=REFERENCE_LINE, width=2, dash="dash")))
        annotations.append(dict(x=c, y=1.0, xref="x", yref="paper", showarrow=False, xanchor="left",
                                yanchor="top", text=f" now: D(G(z))={c:.2f}", font=dict(size=12)))
    annotations.append(dict(x=0.02, y=0.55, xref="x", yref="y", showarrow=False, xanchor="left",
                            text="early: D rejects fakes,<br>D(G(z)) ≈ 0", font=dict(size=11, color="#555")))
    title = "G's gradient vs D(G(z))"
    if loss:
        title += f" ({loss})"
    layout = _base_layout(
        title, height, shapes=shapes, annotations=annotations,
        xaxis=dict(title=dict(text="D(G(z))"), range=[0, 1]),
        yaxis=dict(title=dict(text="gradient size (logit)"), range=[0, 1.05]),
    )
    return _fig(data, layout)


# --------------------------------------------------------------------------- #
# Images
# --------------------------------------------------------------------------- #
def image_grid(images, nrow: int = 8, *, pad: int = 1, scale: int | None = None, target_width: int = 720,
               pad_value: float = 1.0) -> np.ndarray:
    """Tile images (N, C, H, W) in [0, 1] with ``torchvision.utils.make_grid`` and upscale by an
    integer factor (nearest neighbour: pixels stay crisp on a projector).

    ``scale`` defaults to the largest integer that keeps the width <= ``target_width`` (at least 1).
    Returns a uint8 array (H', W') for grey images or (H', W', 3) for colour.
    """
    import torch
    from torchvision.utils import make_grid

    t = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images, dtype=np.float32))
    t = t.detach().float().cpu()
    if t.ndim == 3:
        t = t.unsqueeze(1)
    if t.ndim != 4 or t.shape[0] == 0:
        raise ValueError(f"expected images (N, C, H, W), got shape {tuple(t.shape)}")
    t = torch.nan_to_num(t, nan=0.0).clamp(0, 1)
    grid = make_grid(t, nrow=max(1, int(nrow)), padding=pad, pad_value=pad_value)  # (3 or C, H', W')
    arr = (grid.numpy() * 255).round().astype(np.uint8)
    if t.shape[1] == 1:
        arr = arr[0]
    else:
        arr = arr.transpose(1, 2, 0)
    if scale is None:
        scale = max(1, target_width // max(1, arr.shape[1]))
    if scale > 1:
        arr = arr.repeat(scale, axis=0).repeat(scale, axis=1)
    return arr


def patch_map_figure(real_images, real_maps, fake_images, fake_maps, *, n: int = 6,
                     title: str = "PatchGAN: D's verdict per patch", height: int | None = 380,
                     palette: Palette = DEFAULT, projector: bool = False) -> go.Figure:
    """Two rows (real, fake) of images with the PatchGAN discriminator's per-patch output
    D in [0, 1] laid over them (green = "real", purple = "fake").

    *_images: (N, 1, H, W) in [0, 1]; *_maps: (N, h, w) or (N, 1, h, w) per-patch probabilities.
    ``projector``: the margins for instructor mode's larger fonts.
    """
    rows = [("real", _arr(real_images), _arr(real_maps)), ("fake", _arr(fake_images), _arr(fake_maps))]
    n = int(min(n, *(len(r[1]) for r in rows), *(len(r[2]) for r in rows)))
    if n <= 0:
        raise ValueError("patch_map_figure needs at least one real and one fake image with its map")
    data: list[dict] = []
    layout = _base_layout(title, height, showlegend=False)
    # the right margin holds the colour bar and its title
    layout["margin"] = dict(l=60, r=154 if projector else 115, t=60, b=10)
    gap = 0.02
    cell_w = (1 - gap * (n - 1)) / n
    cell_h = 0.42
    annotations = []
    for r, (label, imgs, maps) in enumerate(rows):
        y_top = 1 - r * (cell_h + 0.1) - 0.03
        for i in range(n):
            k = r * n + i + 1
            ax = "" if k == 1 else str(k)
            img = imgs[i].reshape(imgs[i].shape[-2], imgs[i].shape[-1])
            m = maps[i].reshape(maps[i].shape[-2], maps[i].shape[-1])
            H, W = img.shape
            h, w = m.shape
            x0 = i * (cell_w + gap)
            layout[f"xaxis{ax}"] = dict(domain=[x0, x0 + cell_w], range=[-0.5, W - 0.5], visible=False,
                                        anchor=f"y{ax}")
            layout[f"yaxis{ax}"] = dict(domain=[y_top - cell_h, y_top], range=[H - 0.5, -0.5], visible=False,
                                        anchor=f"x{ax}", scaleanchor=f"x{ax}")
            data.append(dict(type="heatmap", z=_list(img), colorscale=[[0.0, "#000000"], [1.0, "#ffffff"]],
                             zmin=0, zmax=1, showscale=False, xaxis=f"x{ax}", yaxis=f"y{ax}", hoverinfo="skip"))
            data.append(dict(
                type="heatmap", z=_list(m), x0=(W / w - 1) / 2, dx=W / w, y0=(H / h - 1) / 2,
                dy=H / h, zmin=0, zmax=1, colorscale=_scale(palette), opacity=0.55, xaxis=f"x{ax}",
                yaxis=f"y{ax}", showscale=(k == 1),
                colorbar=dict(title=dict(text="D(patch)"), tickvals=[0, 0.5, 1], ticktext=["fake", "0.5", "real"],
                              thickness=12, len=0.8),
                hovertemplate="D(patch)=%{z:.2f}<extra></extra>",
            ))
            annotations.append(dict(xref=f"x{ax} domain", yref=f"y{ax} domain", x=0.5, y=-0.02, showarrow=False,
                                    yanchor="top", text=f"{float(np.mean(m)):.2f}", font=dict(size=12)))
        annotations.append(dict(xref="paper", yref="paper", x=-0.01, y=y_top - cell_h / 2, showarrow=False,
                                xanchor="right", text=f"<b>{label}</b>", textangle=-90, font=dict(size=14)))
    layout["annotations"] = annotations
    return _fig(data, layout)
