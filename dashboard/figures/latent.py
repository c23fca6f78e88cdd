"""Plotly figures of the latent pages (issue 4): data in, ``go.Figure`` out, no streamlit.

* :func:`latent_scatter` -- latent codes (or their 2D projection) coloured by class, hover shows
  the digit; optionally the prior N(0, I)'s 1σ/2σ/3σ circles and the prior samples that were decoded;
* :func:`latent_strip` -- the same for a one-dimensional latent space (K = 1);
* :func:`image_mosaic` / :func:`latent_grid_figure` / :func:`image_row` -- image grids drawn as one
  grey heatmap, white digits on black with white gaps, as on the GAN pages and the MNIST convention
  (prior samples, the decoded latent plane, interpolations, traversals);
* :func:`elbo_history`, :func:`kl_per_dim_history`, :func:`kl_per_dim_bars` -- the ELBO's terms
  during training (per epoch) and the KL of each latent dimension;
* :func:`gradient_variance_figure`, :func:`gradient_estimates_figure` -- score function vs
  reparameterization gradient estimators across S;
* :func:`beta_sweep_figure` -- reconstruction, KL and active dimensions against β.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.palette import CLASS_SYMBOL_GLYPHS, DEFAULT, REFERENCE_LINE, Palette, hex_rgb, rgba
from dashboard.figures.png import png_data_uri

__all__ = [
    "CLASS_COLOURS",
    "ESTIMATOR_COLOURS",
    "class_key_html",
    "latent_scatter",
    "latent_strip",
    "image_mosaic",
    "latent_grid_figure",
    "image_row",
    "elbo_history",
    "kl_per_dim_history",
    "kl_per_dim_bars",
    "gradient_variance_figure",
    "gradient_estimates_figure",
    "beta_sweep_figure",
    "placeholder_figure",
    "side_by_side",
]

# The default palette's colours (Tableau 10 for the classes); every builder that colours by role
# takes ``palette=`` (dashboard/figures/palette.py).
CLASS_COLOURS = DEFAULT.classes
ESTIMATOR_COLOURS = {"score function": DEFAULT.estimator_score, "reparameterization": DEFAULT.estimator_reparam}
TERM_COLOURS = {"recon": DEFAULT.term_recon, "kl": DEFAULT.term_kl, "loss": "#333333", "test": DEFAULT.term_test}
ELBO_LINE_ON_DARK = "#d0d4de"   # the −ELBO line in the dark theme: #333333 vanished on its #161a23 plot area


def _estimator_colours(palette: Palette) -> dict[str, str]:
    return {"score function": palette.estimator_score, "reparameterization": palette.estimator_reparam}
INACTIVE_KL = 0.01   # nats: a latent dimension below this average KL carries (almost) no information
# Digits: white ink (1) on a black ground (0), in both themes; tiles are separated by white lines
# (the GAN pages' image grids use the same look).
DIGIT_COLORSCALE = ((0.0, "#000000"), (1.0, "#ffffff"))
GAP_COLOUR = "#ffffff"


def _class_name(names: Sequence[str] | None, label: int) -> str:
    if names is not None and 0 <= label < len(names):
        return str(names[label])
    return str(label)


def _legend_bottom(fig: go.Figure, y: float = -0.12) -> None:
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=y, xanchor="center", x=0.5))


def class_key_html(labels: Sequence[int] = tuple(range(10)), class_names: Sequence[str] | None = None,
                   prefix: str = "", *, palette: Palette = DEFAULT) -> str:
    """A one-line colour key (HTML) for the class colours (and marker shapes), shared by side-by-side
    scatter plots (so that neither plot loses width to a legend)."""
    import html

    def glyph(c: int) -> str:
        return CLASS_SYMBOL_GLYPHS.get(palette.class_symbol(c), "●")

    parts = [f'<span style="color:{palette.class_colour(c)};font-size:1.3em">{glyph(int(c))}</span>&nbsp;'
             f'{html.escape(_class_name(class_names, int(c)))}' for c in labels]
    return (html.escape(prefix) + " " if prefix else "") + " &nbsp; ".join(parts)


def latent_scatter(points, labels, title: str = "", *, class_names: Sequence[str] | None = None,
                   axis_titles: tuple[str, str] = ("z₁", "z₂"), prior_circles: bool = False,
                   prior_points=None, xy_range: tuple[float, float] | None = None, height: int = 420,
                   marker_size: float = 6, show_legend: bool = True, item: str = "digit",
                   dark_background: bool = False, palette: Palette = DEFAULT) -> go.Figure:
    """Scatter of ``points`` (N, 2) coloured by ``labels`` (N,), one trace per class (the palette's
    class colours and marker shapes).

    Hover: ``<item> <class>`` and the coordinates. ``prior_circles`` draws the circles of radius
    1, 2, 3 (contours of N(0, I): 39 %, 86 %, 99 % of its mass in 2D); ``prior_points`` (M, 2) are
    shown as crosses (the prior samples the page decodes). ``xy_range``: a common
    (low, high) for both axes (square plot), else plotly chooses. The crosses, circles and zero
    lines are black, or white with ``dark_background`` (the dark theme), so they stay visible.
    """
    ink = "255,255,255" if dark_background else "0,0,0"
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    labels = np.asarray(labels).reshape(-1).astype(int)
    fig = go.Figure()
    for label in np.unique(labels):
        mask = labels == label
        name = _class_name(class_names, int(label))
        fig.add_trace(go.Scatter(
            x=np.round(points[mask, 0], 4), y=np.round(points[mask, 1], 4), mode="markers", name=name,
            marker=dict(size=marker_size, color=palette.class_colour(label), symbol=palette.class_symbol(label),
                        opacity=0.8, line=dict(width=0)),
            hovertemplate=f"{item} {name}<br>{axis_titles[0]} = %{{x:.2f}}<br>{axis_titles[1]} = %{{y:.2f}}<extra></extra>",
        ))
    if prior_points is not None:
        prior = np.asarray(prior_points, dtype=float).reshape(-1, 2)
        fig.add_trace(go.Scatter(
            x=np.round(prior[:, 0], 4), y=np.round(prior[:, 1], 4), mode="markers", name="z ~ N(0, I)",
            marker=dict(symbol="x-thin", size=marker_size + 2, color=f"rgb({ink})", line=dict(width=1.5, color=f"rgb({ink})")),
            hovertemplate="prior sample<br>z = (%{x:.2f}, %{y:.2f})<extra></extra>",
        ))
    if prior_circles:
        for radius in (1, 2, 3):
            fig.add_shape(type="circle", x0=-radius, y0=-radius, x1=radius, y1=radius, xref="x", yref="y",
                          line=dict(color=f"rgba({ink},0.45)", width=1.2, dash="dot"), layer="below")
    fig.update_layout(title=title or None, height=height, margin=dict(l=50, r=10, t=50 if title else 10, b=40),
                      showlegend=show_legend, legend_title_text="")
    fig.update_xaxes(title_text=axis_titles[0], zeroline=True, zerolinecolor=f"rgba({ink},0.25)")
    fig.update_yaxes(title_text=axis_titles[1], zeroline=True, zerolinecolor=f"rgba({ink},0.25)",
                     scaleanchor="x", scaleratio=1)
    if xy_range is not None:
        # a square plot with this range on both axes: the plot area shrinks, the range stays
        fig.update_xaxes(range=list(xy_range), constrain="domain")
        fig.update_yaxes(range=list(xy_range), constrain="domain")
    return fig


def latent_strip(values, labels, title: str = "", *, class_names: Sequence[str] | None = None,
                 height: int = 420, marker_size: float = 6, item: str = "digit",
                 palette: Palette = DEFAULT) -> go.Figure:
    """A one-dimensional latent space (K = 1): z on x, one row per class (with a little jitter)."""
    values = np.asarray(values, dtype=float).reshape(-1)
    labels = np.asarray(labels).reshape(-1).astype(int)
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, size=len(values))
    fig = go.Figure()
    for label in np.unique(labels):
        mask = labels == label
        name = _class_name(class_names, int(label))
        fig.add_trace(go.Scatter(
            x=np.round(values[mask], 4), y=np.round(label + jitter[mask], 3), mode="markers", name=name,
            marker=dict(size=marker_size, color=palette.class_colour(label), symbol=palette.class_symbol(label),
                        opacity=0.8),
            hovertemplate=f"{item} {name}<br>z = %{{x:.2f}}<extra></extra>",
        ))
    fig.update_layout(title=title or None, height=height, showlegend=False,
                      margin=dict(l=50, r=10, t=50 if title else 10, b=40))
    ticks = sorted(set(labels.tolist()))
    fig.update_xaxes(title_text="z (K = 1)")
    fig.update_yaxes(title_text="class", tickvals=ticks, ticktext=[_class_name(class_names, t) for t in ticks])
    return fig


def _mosaic_array(images, ncols: int, gap: int = 1) -> tuple[np.ndarray, int, int]:
    """(N, C, H, W) or (N, H, W) in [0, 1] -> one (rows*(H+gap)-gap, cols*(W+gap)-gap) array, NaN gaps."""
    x = np.asarray(images, dtype=float)
    if x.ndim == 4:
        x = x.mean(axis=1)  # grey images: C = 1
    if x.ndim != 3:
        raise ValueError(f"images must have shape (N, C, H, W) or (N, H, W); got {x.shape}")
    n, h, w = x.shape
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    out = np.full((nrows * (h + gap) - gap, ncols * (w + gap) - gap), np.nan)
    for index in range(n):
        r, c = divmod(index, ncols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = x[index]
    return out, h, w


def _mosaic_png(mosaic: np.ndarray) -> str:
    """A mosaic from :func:`_mosaic_array` as a PNG data URI: [0, 1] through :data:`DIGIT_COLORSCALE`,
    the NaN gaps in :data:`GAP_COLOUR`."""
    (_, low), (_, high) = DIGIT_COLORSCALE
    low, high, gap = (np.array(hex_rgb(c), dtype=float) for c in (low, high, GAP_COLOUR))
    x = np.clip(np.nan_to_num(mosaic, nan=0.0), 0.0, 1.0)[:, :, None]
    rgb = low + x * (high - low)                                      # (H, W, 3)
    rgb[np.isnan(mosaic)] = gap
    pixels = np.rint(rgb).astype(np.uint8)
    grey = (pixels == pixels[:, :, :1]).all()           # one channel is a third of the bytes
    return png_data_uri(pixels[:, :, 0] if grey else pixels)


def image_mosaic(images, ncols: int, title: str = "", *, height: int | None = None, gap: int = 1,
                 x_ticks: Sequence[str] | None = None, y_ticks: Sequence[str] | None = None,
                 x_title: str = "", y_title: str = "") -> go.Figure:
    """Images in a grid (row-major, ``ncols`` per row) as one picture (a PNG): white ink on black
    (:data:`DIGIT_COLORSCALE`), the tiles separated by lines of :data:`GAP_COLOUR` (the same whatever
    background a theme gives the plot). Axis units are the mosaic's pixels, drawn unsmoothed.

    ``x_ticks`` / ``y_ticks`` label the columns / rows at the tile centres (e.g. latent values).
    """
    mosaic, h, w = _mosaic_array(images, ncols, gap)
    nrows = (mosaic.shape[0] + gap) // (h + gap)
    ncols_used = (mosaic.shape[1] + gap) // (w + gap)
    fig = go.Figure(go.Image(source=_mosaic_png(mosaic), hoverinfo="skip", name="images"))
    if height is None:
        height = int(max(140, min(640, 60 + 520 * nrows / max(nrows, ncols_used))))
    fig.update_layout(title=title or None, height=height, margin=dict(l=10 if not y_ticks else 60, r=10,
                      t=45 if title else 10, b=10 if not x_ticks else 50), plot_bgcolor=GAP_COLOUR)
    fig.update_xaxes(showgrid=False, zeroline=False, constrain="domain",
                     showticklabels=bool(x_ticks), ticks="", title_text=x_title or None,
                     tickvals=[c * (w + gap) + (w - 1) / 2 for c in range(len(x_ticks))] if x_ticks else None,
                     ticktext=list(x_ticks) if x_ticks else None)
    fig.update_yaxes(showgrid=False, zeroline=False, autorange="reversed", scaleanchor="x", scaleratio=1,
                     constrain="domain", showticklabels=bool(y_ticks), ticks="", title_text=y_title or None,
                     tickvals=[r * (h + gap) + (h - 1) / 2 for r in range(len(y_ticks))] if y_ticks else None,
                     ticktext=list(y_ticks) if y_ticks else None)
    return fig


def _fmt(v: float) -> str:
    return f"{v:.1f}" if abs(v) < 10 else f"{v:.0f}"


def latent_grid_figure(images, values, title: str = "", *, dims: tuple[int, int] = (0, 1),
                       height: int | None = None, max_ticks: int = 8) -> go.Figure:
    """The decoded latent plane: ``images`` (n*n, C, H, W) from ``genlab.latent.latent_grid`` (row
    i from the top, column j; z_a = values[j] grows to the right, z_b = values[n-1-i] upwards)."""
    values = np.asarray(values, dtype=float).reshape(-1)
    n = len(values)
    every = max(1, math.ceil(n / max_ticks))
    x_ticks = [_fmt(v) if j % every == 0 or j == n - 1 else "" for j, v in enumerate(values)]
    y_values = values[::-1]
    y_ticks = [_fmt(v) if i % every == 0 or i == n - 1 else "" for i, v in enumerate(y_values)]
    sub = "₀₁₂₃₄₅₆₇₈₉"

    def name(d: int) -> str:
        return "z" + "".join(sub[int(ch)] for ch in str(d + 1))

    return image_mosaic(images, n, title, height=height, x_ticks=x_ticks, y_ticks=y_ticks,
                        x_title=name(dims[0]) + " →", y_title=name(dims[1]) + " →")


def image_row(images, labels: Sequence[str] | None = None, title: str = "", *, height: int | None = None,
              x_title: str = "") -> go.Figure:
    """One row of images (an interpolation or a traversal), labelled underneath."""
    images = np.asarray(images)
    fig = image_mosaic(images, len(images), title, x_ticks=labels, x_title=x_title,
                       height=height or (150 if not title else 185))
    return fig


_AXIS_KEYS = ("range", "autorange", "title", "tickvals", "ticktext", "showticklabels", "ticks", "showgrid",
              "zeroline", "zerolinecolor", "constrain", "type", "rangemode", "visible", "exponentformat", "dtick")


def _axis_ref(ref, suffix: str):
    """Map a single-panel axis reference ("x", "y domain", ...) to panel ``suffix``; None for paper refs."""
    ref = ref or ""
    for axis in ("x", "y"):
        if ref == axis:
            return axis + suffix
        if ref == axis + " domain":
            return f"{axis}{suffix} domain"
    return None


def side_by_side(figures: Sequence[go.Figure], titles: Sequence[str], *, height: int | None = None,
                 spacing: float = 0.07, legend: bool = False, projector: bool = False) -> go.Figure:
    """Put single-panel figures (from the builders above) next to each other in one figure: one
    title per panel, no per-figure margins, the full width for the plots (a projector at 1280 px
    has no room for two figures with their own margins and titles). Traces, shapes, axis-bound
    annotations and the axis settings (ranges, equal aspect, tick labels) are carried over.
    ``legend``: one legend (below) from the first panel's traces -- for panels that show the same
    series; otherwise legends are off. ``projector``: the legend case's margins for instructor mode's
    larger fonts (without a legend, style_figure's projector margins hold the panels' labels)."""
    from plotly.subplots import make_subplots

    n = len(figures)
    combined = make_subplots(rows=1, cols=n, subplot_titles=list(titles), horizontal_spacing=spacing)
    for index, figure in enumerate(figures, start=1):
        suffix = "" if index == 1 else str(index)
        for trace in figure.data:
            combined.add_trace(trace, row=1, col=index)
            if not (legend and index == 1) and "showlegend" in combined.data[-1]:   # an image has no legend entry
                combined.data[-1].showlegend = False
        for shape in figure.layout.shapes or ():
            xref, yref = _axis_ref(shape.xref or "x", suffix), _axis_ref(shape.yref or "y", suffix)
            if xref and yref:
                combined.add_shape(go.layout.Shape(shape.to_plotly_json()).update(xref=xref, yref=yref))
        for annotation in figure.layout.annotations or ():
            xref, yref = _axis_ref(annotation.xref or "x", suffix), _axis_ref(annotation.yref or "y", suffix)
            if xref and yref:
                combined.add_annotation(go.layout.Annotation(annotation.to_plotly_json()).update(xref=xref, yref=yref))
        for axis in ("xaxis", "yaxis"):
            source = figure.layout[axis].to_plotly_json()
            values = {k: v for k, v in source.items() if k in _AXIS_KEYS}
            if axis == "yaxis" and source.get("scaleanchor"):
                values["scaleanchor"] = "x" + suffix
                values["scaleratio"] = source.get("scaleratio", 1)
            combined.layout[axis + suffix].update(values)
    combined.update_layout(height=height or max(int(f.layout.height or 400) for f in figures),
                           # room for the tick labels and axis titles at the page font
                           margin=dict(l=65, r=15, t=45, b=60), showlegend=legend,
                           plot_bgcolor=figures[0].layout.plot_bgcolor if figures else None)
    if legend:
        # the gradient panels: a longer y title, the legend under the x titles
        combined.update_layout(margin=dict(l=92, r=15, t=45, b=125) if projector else dict(l=78, r=15, t=45, b=110))
        _legend_bottom(combined, -0.2)
    return combined


def placeholder_figure(text: str, height: int = 420) -> go.Figure:
    """An empty plot area with a centred message (a model that has not started yet). The message is
    placed on the axes' domain, not the paper, so :func:`side_by_side` keeps it in its panel."""
    fig = go.Figure()
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="x domain", yref="y domain", showarrow=False,
                       font=dict(size=16))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


# --------------------------------------------------------------------------- #
# The ELBO during training
# --------------------------------------------------------------------------- #
def _per_epoch(frame, columns: Sequence[str]):
    """Mean of ``columns`` per epoch (x = the last step of each epoch); the per-step rows if
    there is no ``epoch`` column."""
    import pandas as pd

    present = [c for c in columns if c in frame.columns]
    if "epoch" not in frame.columns or frame.empty:
        return frame[["step", *present]] if "step" in frame.columns else pd.DataFrame(columns=["step", *present])
    grouped = frame.groupby("epoch", sort=True)
    out = grouped[present].mean()
    out["step"] = grouped["step"].max()
    return out.reset_index()


def elbo_history(frame, title: str = "", *, beta: float = 1.0, height: int = 380,
                 projector: bool = False, dark_background: bool = False, palette: Palette = DEFAULT) -> go.Figure:
    """Reconstruction −E_q[log p(x|z)], KL(q(z|x)‖p(z)) and −ELBO (their sum) per epoch
    (training-batch means, nats per image), and the test split's −ELBO where it was evaluated.

    ``projector``: instructor-mode layout -- the legend at the bottom edge of the figure, below the
    x-axis title (a legend beside the plot left it a third of the width at 1280 px).
    ``dark_background``: the −ELBO line is light grey instead of dark grey (the dark theme)."""
    epoch = _per_epoch(frame, ["recon_loss", "kl_loss", "loss"])
    fig = go.Figure()
    if not epoch.empty and "recon_loss" in epoch:
        recon = epoch["recon_loss"].to_numpy(float)
        kl = epoch["kl_loss"].to_numpy(float) if "kl_loss" in epoch else np.zeros_like(recon)
        steps = epoch["step"].to_numpy(float)
        fig.add_trace(go.Scatter(x=steps, y=recon + kl, name="−ELBO = reconstruction + KL", mode="lines",
                                 line=dict(color=ELBO_LINE_ON_DARK if dark_background else TERM_COLOURS["loss"],
                                           width=2.5)))
        fig.add_trace(go.Scatter(x=steps, y=recon, name="reconstruction −E_q[log p(x|z)]", mode="lines",
                                 line=dict(color=palette.term_recon, width=2)))
        fig.add_trace(go.Scatter(x=steps, y=kl, name="KL(q(z|x) ‖ p(z))", mode="lines",
                                 line=dict(color=palette.term_kl, width=2)))
    if "test_elbo" in frame.columns:
        test = frame[frame["test_elbo"].notna()]
        if not test.empty:
            fig.add_trace(go.Scatter(x=test["step"], y=-test["test_elbo"], name="−ELBO on the test split",
                                     mode="lines", line=dict(color=palette.term_test, width=2, dash="dash")))
    beta_text = "" if beta == 1 else f" · the optimizer minimises reconstruction + {beta:g}·KL"
    # the margins hold the tick labels, axis titles and the legend under the plot (four rows beside the KL
    # chart at 1400 px; one row at the bottom edge on a projector)
    fig.update_layout(title=title or None, height=height, hovermode="x unified",
                      margin=dict(l=78, r=10, t=50 if title else 10, b=110) if projector
                      else dict(l=60, r=10, t=50 if title else 10, b=150))
    fig.update_xaxes(title_text="training step" + beta_text)
    fig.update_yaxes(title_text="nats per image", rangemode="tozero")
    if projector:   # big fonts: the legend in its own strip at the bottom, clear of the axis title
        fig.update_layout(height=height + 110,
                          legend=dict(orientation="h", yref="container", y=0, yanchor="bottom",
                                      xanchor="center", x=0.5))
    else:
        _legend_bottom(fig, -0.22)
    return fig


def kl_per_dim_history(frame, latent_dim: int, title: str = "", *, height: int = 340,
                       palette: Palette = DEFAULT, projector: bool = False) -> go.Figure:
    """KL_k per epoch for each latent dimension k (lines for K ≤ 10, a heatmap above).
    ``projector``: the margins for instructor mode's larger fonts."""
    columns = [f"kl_dim_{k}" for k in range(int(latent_dim))]
    epoch = _per_epoch(frame, columns)
    present = [c for c in columns if c in epoch.columns]
    fig = go.Figure()
    if latent_dim <= 10:
        for k, column in enumerate(present):
            fig.add_trace(go.Scatter(x=epoch["step"], y=epoch[column], name=f"z{k + 1}", mode="lines",
                                     line=dict(color=palette.class_colour(k), width=2)))
        fig.update_yaxes(title_text="KL_k (nats)", rangemode="tozero")
        fig.update_xaxes(title_text="training step")
        _legend_bottom(fig, -0.25)
        # the tick labels, the axis title and the legend under the plot: one row on a projector (the page's
        # width), beside the ELBO chart at 1400 px five entries to a row (z10 starts a third)
        rows = 1 if projector or latent_dim <= 5 else (2 if latent_dim <= 9 else 3)
        margin = dict(l=60, r=10, b=(120 if projector else 100) + 18 * (rows - 1))
    else:
        z = np.array([epoch[c].to_numpy(float) for c in present]) if present else np.zeros((0, 0))
        fig.add_trace(go.Heatmap(z=z, x=epoch["step"], y=[f"z{k + 1}" for k in range(len(present))],
                                 colorscale="Viridis", colorbar=dict(title="nats")))
        fig.update_xaxes(title_text="training step")
        fig.update_yaxes(title_text="latent dimension")
        # the colour bar and its title on the right, the tick labels ("z16") and titles (as above)
        margin = dict(l=76, r=115, b=70) if projector else dict(l=65, r=88, b=60)
    fig.update_layout(title=title or None, height=height, margin=dict(t=50 if title else 10, **margin))
    return fig


def kl_per_dim_bars(values, title: str = "", *, height: int = 300, palette: Palette = DEFAULT) -> go.Figure:
    """Average KL of each latent dimension at the end of training; dimensions under
    ``INACTIVE_KL`` nats are grey: they carry no information about x (posterior collapse)."""
    values = np.asarray(values, dtype=float).reshape(-1)
    colours = ["#bbbbbb" if v < INACTIVE_KL else palette.term_kl for v in values]
    fig = go.Figure(go.Bar(x=[f"z{k + 1}" for k in range(len(values))], y=values, marker_color=colours,
                           hovertemplate="%{x}: KL = %{y:.3f} nats<extra></extra>"))
    fig.update_layout(title=title or None, height=height, margin=dict(l=60, r=10, t=50 if title else 10, b=40))
    fig.update_yaxes(title_text="KL_k (nats)", rangemode="tozero")
    return fig


# --------------------------------------------------------------------------- #
# Reparameterization trick
# --------------------------------------------------------------------------- #
_PARAM_LABEL = {"mu": "μ", "sigma": "σ"}


def gradient_variance_figure(rows: Sequence[dict], param: str = "mu", title: str = "", *,
                             height: int = 380, palette: Palette = DEFAULT) -> go.Figure:
    """Variance of the two estimators of ∂/∂μ (or ∂/∂σ) E[f(z)] against S, log-log, with the 1/S slope."""
    key = f"grad_{param}_var"
    fig = go.Figure()
    for estimator, colour in _estimator_colours(palette).items():
        sub = [r for r in rows if r["estimator"] == estimator]
        if not sub:
            continue
        fig.add_trace(go.Scatter(
            x=[r["samples"] for r in sub], y=[max(r[key], 1e-300) for r in sub], name=estimator,
            mode="lines+markers", line=dict(color=colour, width=2.5), marker=dict(size=7),
            hovertemplate=f"{estimator}<br>S = %{{x}}<br>variance = %{{y:.3g}}<extra></extra>",
        ))
    score = [r for r in rows if r["estimator"] == "score function"]
    if score:
        s0, v0 = score[0]["samples"], score[0][key]
        xs = [r["samples"] for r in score]
        fig.add_trace(go.Scatter(x=xs, y=[v0 * s0 / s for s in xs], name="∝ 1/S", mode="lines",
                                 line=dict(color="#999999", dash="dot", width=1.5), hoverinfo="skip"))
    label = _PARAM_LABEL.get(param, param)
    fig.update_layout(title=title or None, height=height, margin=dict(l=70, r=10, t=50 if title else 10, b=40))
    fig.update_xaxes(type="log", title_text="Monte-Carlo samples S", dtick=1)
    fig.update_yaxes(type="log", title_text=f"variance of the ∂/∂{label} estimate", exponentformat="power", dtick=1)
    _legend_bottom(fig, -0.22)
    return fig


def gradient_estimates_figure(rows: Sequence[dict], param: str = "mu", title: str = "", *,
                              height: int = 380, palette: Palette = DEFAULT) -> go.Figure:
    """Mean ± one standard deviation of each estimator against S, and the true gradient."""
    mean_key, var_key, true_key = f"grad_{param}_mean", f"grad_{param}_var", f"true_grad_{param}"
    fig = go.Figure()
    offsets = {"score function": 0.97, "reparameterization": 1.03}  # side by side on the log axis
    for estimator, colour in _estimator_colours(palette).items():
        sub = [r for r in rows if r["estimator"] == estimator]
        if not sub:
            continue
        fig.add_trace(go.Scatter(
            x=[r["samples"] * offsets[estimator] for r in sub], y=[r[mean_key] for r in sub], name=estimator,
            mode="markers", marker=dict(color=colour, size=8),
            error_y=dict(type="data", array=[math.sqrt(max(r[var_key], 0.0)) for r in sub], color=colour, thickness=2),
            customdata=[r["samples"] for r in sub],
            hovertemplate=f"{estimator}<br>S = %{{customdata}}<br>mean = %{{y:.3f}}<extra></extra>",
        ))
    if rows:
        fig.add_hline(y=rows[0][true_key], line=dict(color=REFERENCE_LINE, dash="dash", width=1.5),
                      annotation_text=f"true ∂/∂{_PARAM_LABEL.get(param, param)} = {rows[0][true_key]:.3f}",
                      annotation_position="bottom right")
    label = _PARAM_LABEL.get(param, param)
    fig.update_layout(title=title or None, height=height, margin=dict(l=70, r=10, t=50 if title else 10, b=40))
    fig.update_xaxes(type="log", title_text="Monte-Carlo samples S", dtick=1)
    fig.update_yaxes(title_text=f"estimate of ∂/∂{label} E[f(z)] (± 1 sd)")
    _legend_bottom(fig, -0.22)
    return fig


# --------------------------------------------------------------------------- #
# β sweep
# --------------------------------------------------------------------------- #
def beta_sweep_figure(rows: Sequence[dict], title: str = "", *, height: int = 380,
                      palette: Palette = DEFAULT) -> go.Figure:
    """Test reconstruction −log p(x|z) and KL against β (log axis), and the number of active
    latent dimensions (KL_k ≥ ``INACTIVE_KL``) on the right axis. ``rows``: dicts with
    ``beta``, ``recon``, ``kl``, ``active`` (any order)."""
    rows = sorted(rows, key=lambda r: r["beta"])
    betas = [max(r["beta"], 1e-3) for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=betas, y=[r["recon"] for r in rows], name="reconstruction −log p(x|z)",
                             mode="lines+markers", line=dict(color=palette.term_recon, width=2.5)))
    fig.add_trace(go.Scatter(x=betas, y=[r["kl"] for r in rows], name="KL(q(z|x) ‖ p(z))",
                             mode="lines+markers", line=dict(color=palette.term_kl, width=2.5)))
    fig.add_trace(go.Bar(x=betas, y=[r["active"] for r in rows], name="active latent dimensions", yaxis="y2",
                         marker_color=rgba(palette.term_test, 0.35), width=[b * 0.25 for b in betas]))
    fig.update_layout(
        title=title or None, height=height, margin=dict(l=60, r=60, t=50 if title else 10, b=40),
        yaxis=dict(title_text="nats per test image", rangemode="tozero"),
        yaxis2=dict(title_text="active dimensions", overlaying="y", side="right", rangemode="tozero",
                    showgrid=False, dtick=1),
    )
    fig.update_xaxes(type="log", title_text="β (weight of the KL term)", tickvals=betas,
                     ticktext=[f"{b:g}" for b in betas])
    _legend_bottom(fig, -0.22)
    return fig
