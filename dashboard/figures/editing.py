"""Figure builders of the image-editing page (issue 9): numpy in, ``go.Figure`` out, no ``st.*``.

Digits are white ink on black (``gray``), as on the other image pages; the missing region is tinted
red on the mask picker and outlined with a dashed yellow box on the results, so the eye finds the
filled-in part at once.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.palette import DEFAULT, Palette

__all__ = [
    "METHOD_COLORS",
    "mask_picker_figure",
    "panels_figure",
    "convergence_figure",
    "accuracy_figure",
    "missing_box",
]

# The default palette's colours; every builder takes ``palette=`` (dashboard/figures/palette.py).
MISSING_TINT = DEFAULT.missing_tint
OUTLINE = DEFAULT.outline
BEST = DEFAULT.best
METHOD_COLORS = dict(DEFAULT.methods)


GRAY = [[0.0, "#000000"], [1.0, "#ffffff"]]   # digits: black background, white ink


def _fig(data: list[dict], layout: dict) -> go.Figure:
    return go.Figure(data=data, layout=layout, _validate=False)


def _img(image) -> np.ndarray:
    a = np.asarray(image, dtype=float)
    return a.reshape(a.shape[-2], a.shape[-1])


def _list(a: np.ndarray) -> list:
    return np.where(np.isfinite(a), a, None).tolist()


def missing_box(mask) -> tuple[int, int, int, int] | None:
    """Bounding box ``(row0, row1, col0, col1)`` (end exclusive) of the missing pixels (mask 0)."""
    m = _img(mask)
    rows, cols = np.nonzero(m < 0.5)
    if rows.size == 0:
        return None
    return int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1


def mask_picker_figure(image, mask, *, title: str | None = None, height: int | None = 360,
                       palette: Palette = DEFAULT) -> go.Figure:
    """The test digit with its missing pixels tinted red. Every pixel centre carries an invisible
    marker, so a box drawn with the mouse (drag mode "select") selects pixels: the page turns the
    selection into the missing rectangle."""
    img, m = _img(image), _img(mask)
    H, W = img.shape
    tint = np.where(m < 0.5, 1.0, np.nan)
    rows, cols = np.mgrid[0:H, 0:W]
    data = [
        dict(type="heatmap", z=_list(img), colorscale=GRAY, zmin=0, zmax=1, showscale=False,
             hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"),
        dict(type="heatmap", z=_list(tint), colorscale=[[0, palette.missing_tint], [1, palette.missing_tint]], zmin=0, zmax=1,
             showscale=False, hoverinfo="skip"),
        dict(type="scatter", mode="markers", x=cols.ravel().tolist(), y=rows.ravel().tolist(),
             marker=dict(size=18, color="rgba(0,0,0,0)", symbol="square"),
             selected=dict(marker=dict(color="rgba(255, 212, 59, 0.45)")),
             unselected=dict(marker=dict(opacity=0)),
             hovertemplate="row %{y}, col %{x}<extra></extra>", showlegend=False, name="pixels"),
    ]
    layout = dict(title=dict(text=title) if title else None, height=height, showlegend=False,
                  dragmode="select", margin=dict(l=55, r=10, t=50 if title else 10, b=45),
                  xaxis=dict(range=[-0.5, W - 0.5], tickvals=list(range(W)), showgrid=False, zeroline=False,
                             title=dict(text="column"), constrain="domain"),
                  yaxis=dict(range=[H - 0.5, -0.5], tickvals=list(range(H)), showgrid=False, zeroline=False,
                             scaleanchor="x", title=dict(text="row"), constrain="domain"))
    return _fig(data, layout)


def panels_figure(panels: Sequence[dict], *, mask=None, title: str | None = None, height: int | None = 300,
                  highlight: int | None = None, palette: Palette = DEFAULT) -> go.Figure:
    """A row of images with a title and a caption each.

    ``panels``: dicts with ``image (S, S)`` (or (1, S, S)), ``title``, optional ``caption`` (e.g.
    the classifier's reading) and ``outline`` (draw the missing region's box, from ``mask``).
    ``highlight``: index of a panel to frame in green (the winning restart).
    """
    n = len(panels)
    if n == 0:
        raise ValueError("panels_figure needs at least one panel")
    box = missing_box(mask) if mask is not None else None
    data, shapes, annotations = [], [], []
    layout = dict(title=dict(text=title) if title else None, height=height, showlegend=False,
                  margin=dict(l=10, r=10, t=(110 if title else 78), b=40))  # room for two-line titles at projector font sizes
    gap = 0.025 if n > 1 else 0.0
    cell = (1 - gap * (n - 1)) / n
    for i, panel in enumerate(panels):
        img = _img(panel["image"])
        H, W = img.shape
        k = i + 1
        ax = "" if k == 1 else str(k)
        x0 = i * (cell + gap)
        layout[f"xaxis{ax}"] = dict(domain=[x0, x0 + cell], range=[-0.5, W - 0.5], visible=False, anchor=f"y{ax}",
                                    fixedrange=True)
        layout[f"yaxis{ax}"] = dict(domain=[0.0, 1.0], range=[H - 0.5, -0.5], visible=False, anchor=f"x{ax}",
                                    scaleanchor=f"x{ax}", fixedrange=True)
        data.append(dict(type="heatmap", z=_list(img), colorscale=GRAY, zmin=0, zmax=1, showscale=False,
                         xaxis=f"x{ax}", yaxis=f"y{ax}", hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"))
        if box is not None and panel.get("outline", False):
            r0, r1, c0, c1 = box
            shapes.append(dict(type="rect", xref=f"x{ax}", yref=f"y{ax}", x0=c0 - 0.5, x1=c1 - 0.5, y0=r0 - 0.5,
                               y1=r1 - 0.5, line=dict(color=palette.outline, width=2, dash="dash")))
        if highlight is not None and i == highlight:
            shapes.append(dict(type="rect", xref=f"x{ax}", yref=f"y{ax}", x0=-0.5, x1=W - 0.5, y0=-0.5, y1=H - 0.5,
                               line=dict(color=palette.best, width=5)))
        annotations.append(dict(xref=f"x{ax} domain", yref=f"y{ax} domain", x=0.5, y=1.01, yanchor="bottom",
                                showarrow=False, text=f"<b>{panel.get('title', '')}</b>", font=dict(size=13)))
        if panel.get("caption"):
            annotations.append(dict(xref=f"x{ax} domain", yref=f"y{ax} domain", x=0.5, y=-0.01, yanchor="top",
                                    showarrow=False, text=panel["caption"], font=dict(size=12)))
    layout["shapes"] = shapes
    layout["annotations"] = annotations
    return _fig(data, layout)


def convergence_figure(history, *, title: str | None = "Latent optimization: objective (best restart so far, mean)",
                       height: int | None = 260, palette: Palette = DEFAULT) -> go.Figure:
    """The objective ‖A(decode(z)) − y‖² + λ‖z‖² against the Adam step."""
    h = np.asarray(history, dtype=float)
    steps = np.arange(len(h))
    ok = np.isfinite(h) & (h > 0)
    data = [dict(type="scatter", mode="lines", x=steps[ok].tolist(), y=h[ok].tolist(), name="objective",
                 line=dict(color=palette.method_colour("latent"), width=2.5), hovertemplate="step %{x}: %{y:.4f}<extra></extra>")]
    layout = dict(title=dict(text=title) if title else None, height=height, showlegend=False,
                  # b: the x title under the tick labels; r: the last step's tick label at the plot's edge
                  margin=dict(l=60, r=25, t=50 if title else 15, b=60),
                  xaxis=dict(title=dict(text="Adam step")), yaxis=dict(title=dict(text="objective"), rangemode="tozero", nticks=5))
    return _fig(data, layout)


def accuracy_figure(categories: Sequence[str], series: dict, *, title: str, height: int | None = 360,
                    names: dict | None = None, palette: Palette = DEFAULT) -> go.Figure:
    """Grouped bars of classifier accuracy (%) per category (mask kind or task).

    ``series``: method -> list of accuracies in [0, 1] (None = not measured), in ``categories`` order.
    """
    labels = {"original": "original digit", "masked": "masked input (baseline)", "latent": "latent optimization",
              "cvae": "conditional VAE", "nearest": "nearest upsampling", "bilinear": "bilinear upsampling (baseline)"}
    labels.update(names or {})
    data = []
    for method, values in series.items():
        ys = [None if v is None else 100.0 * float(v) for v in values]
        data.append(dict(type="bar", x=list(categories), y=ys, name=labels.get(method, method),
                         marker=dict(color=palette.method_colour(method)),
                         text=["" if v is None else f"{v:.0f}" for v in ys], textposition="outside",
                         hovertemplate="%{x}: %{y:.1f}%<extra>" + labels.get(method, method) + "</extra>"))
    layout = dict(title=dict(text=title), height=height, barmode="group", margin=dict(l=60, r=20, t=95, b=50),
                  yaxis=dict(title=dict(text="classifier reads the right digit (%)"), range=[0, 112]),
                  legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return _fig(data, layout)
