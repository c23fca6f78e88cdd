"""Figure builders of the Transformer GAN page (issue 9): numpy in, ``go.Figure`` / uint8 image out.

No ``st.*`` calls. Digits are drawn as on the image-GAN page (white ink on black, ``gray``);
attention weights use ``Viridis`` (dark = ignored, yellow = attended). Figures are built from plain
dicts with plotly's validation off (``go.Figure(..., _validate=False)``) because the live page
redraws them while the models train.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.palette import DEFAULT, Palette

__all__ = [
    "TGAN_COLOR",
    "DCGAN_COLOR",
    "image_grid",
    "patch_grid_figure",
    "attention_figure",
    "position_similarity_figure",
    "patch_by_patch_figure",
    "race_figure",
]

# The default palette's colours; builders take ``palette=`` (dashboard/figures/palette.py).
TGAN_COLOR = DEFAULT.tgan     # orange: the transformer GAN
DCGAN_COLOR = DEFAULT.dcgan   # blue: DCGAN
GRID_COLOR = DEFAULT.patch_grid   # patch borders over a digit
ATTENTION_SCALE = "Viridis"


GRAY = [[0.0, "#000000"], [1.0, "#ffffff"]]   # digits: black background, white ink


def _fig(data: list[dict], layout: dict) -> go.Figure:
    return go.Figure(data=data, layout=layout, _validate=False)


def _img(image) -> np.ndarray:
    a = np.asarray(image, dtype=float)
    return a.reshape(a.shape[-2], a.shape[-1])


def _list(a: np.ndarray) -> list:
    return np.where(np.isfinite(a), a, None).tolist() if a.dtype.kind == "f" else a.tolist()


def _axes(layout: dict, k: int, domain_x, domain_y, W: int, H: int) -> str:
    ax = "" if k == 1 else str(k)
    layout[f"xaxis{ax}"] = dict(domain=list(domain_x), range=[-0.5, W - 0.5], visible=False, anchor=f"y{ax}",
                                fixedrange=True)
    layout[f"yaxis{ax}"] = dict(domain=list(domain_y), range=[H - 0.5, -0.5], visible=False, anchor=f"x{ax}",
                                scaleanchor=f"x{ax}", fixedrange=True)
    return ax


def image_grid(images, nrow: int = 8, *, pad: int = 1, target_width: int = 480, pad_value: float = 0.35) -> np.ndarray:
    """Tile images ``(N, 1, H, W)`` in [0, 1] into a uint8 grey picture, upscaled by the largest
    integer factor that keeps it at most ``target_width`` wide (crisp pixels for ``st.image``)."""
    a = np.asarray(images, dtype=np.float32)
    if a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4 or a.shape[0] == 0:
        raise ValueError(f"expected images (N, 1, H, W), got shape {a.shape}")
    a = np.nan_to_num(a[:, 0], nan=0.0).clip(0, 1)
    n, H, W = a.shape
    cols = max(1, min(int(nrow), n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * (H + pad) + pad, cols * (W + pad) + pad), pad_value, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[pad + r * (H + pad):pad + r * (H + pad) + H, pad + c * (W + pad):pad + c * (W + pad) + W] = a[i]
    scale = max(1, int(target_width) // grid.shape[1])
    out = (grid * 255).round().astype(np.uint8)
    return out.repeat(scale, axis=0).repeat(scale, axis=1)


# --------------------------------------------------------------------------- the patch grid


def patch_grid_figure(image, patch_size: int, *, title: str | None = None, height: int | None = 330,
                      per_row: int = 9, palette: Palette = DEFAULT) -> go.Figure:
    """A digit cut into ``P x P`` patches (red grid, token numbers 1..T) and, beside it, the token
    sequence the transformer reads: ``[*]`` (the class token) then patch 1 .. T, each a little
    ``P x P`` picture, with its 1D position index underneath (``per_row`` tokens to a row)."""
    img = _img(image)
    H, W = img.shape
    p = int(patch_size)
    g = H // p
    T = g * g
    data: list[dict] = []
    layout = dict(title=dict(text=title) if title else None, height=height, showlegend=False,
                  margin=dict(l=10, r=10, t=50 if title else 10, b=10), plot_bgcolor="rgba(0,0,0,0)")
    # left: the digit with the grid
    _axes(layout, 1, (0.0, 0.3), (0.08, 1.0), W, H)   # adds the axes to layout
    data.append(dict(type="heatmap", z=_list(img), colorscale=GRAY, zmin=0, zmax=1, showscale=False,
                     xaxis="x", yaxis="y", hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"))
    shapes, annotations = [], []
    for i in range(1, g):
        shapes.append(dict(type="line", xref="x", yref="y", x0=i * p - 0.5, x1=i * p - 0.5, y0=-0.5, y1=H - 0.5,
                           line=dict(color=palette.patch_grid, width=2)))
        shapes.append(dict(type="line", xref="x", yref="y", y0=i * p - 0.5, y1=i * p - 0.5, x0=-0.5, x1=W - 0.5,
                           line=dict(color=palette.patch_grid, width=2)))
    shapes.append(dict(type="rect", xref="x", yref="y", x0=-0.5, x1=W - 0.5, y0=-0.5, y1=H - 0.5,
                       line=dict(color=palette.patch_grid, width=2)))
    for t in range(T):
        r, c = divmod(t, g)
        annotations.append(dict(xref="x", yref="y", x=c * p - 0.5 + 0.12 * p, y=r * p - 0.5 + 0.12 * p,
                                text=str(t + 1), showarrow=False, xanchor="left", yanchor="top",
                                font=dict(color="#ffd43b", size=12)))
    # right: the sequence [*], 1..T as a strip of P x P pictures separated by gaps
    gap = 1
    strip_w = (T + 1) * (p + gap) - gap
    strip = np.full((p, strip_w), np.nan)
    patches = img.reshape(g, p, g, p).transpose(0, 2, 1, 3).reshape(T, p, p)
    for t in range(T):
        x0 = (t + 1) * (p + gap)
        strip[:, x0:x0 + p] = patches[t]
    # the strip may have to wrap into rows to stay readable: at most 9 tokens per row
    per_row = max(1, min(T + 1, int(per_row)))
    n_rows = math.ceil((T + 1) / per_row)
    row_w = per_row * (p + gap) - gap
    wrapped = np.full((n_rows * (p + 2) - 2, row_w), np.nan)
    for slot in range(T + 1):
        rr, cc = divmod(slot, per_row)
        src = strip[:, slot * (p + gap):slot * (p + gap) + p]
        wrapped[rr * (p + 2):rr * (p + 2) + p, cc * (p + gap):cc * (p + gap) + p] = src
    ax2 = _axes(layout, 2, (0.36, 1.0), (0.08, 1.0), row_w, wrapped.shape[0])
    layout[f"yaxis{ax2}"]["range"] = [wrapped.shape[0] - 0.5 + 0.9, -0.5]
    data.append(dict(type="heatmap", z=_list(wrapped), colorscale=GRAY, zmin=0, zmax=1, showscale=False,
                     xaxis=f"x{ax2}", yaxis=f"y{ax2}", hoverinfo="skip"))
    for slot in range(T + 1):
        rr, cc = divmod(slot, per_row)
        cx = cc * (p + gap) + (p - 1) / 2
        top = rr * (p + 2)
        if slot == 0:
            shapes.append(dict(type="rect", xref=f"x{ax2}", yref=f"y{ax2}", x0=cx - p / 2, x1=cx + p / 2,
                               y0=top - 0.5, y1=top + p - 0.5, fillcolor="#7b3fb5", line=dict(color="#7b3fb5")))
            annotations.append(dict(xref=f"x{ax2}", yref=f"y{ax2}", x=cx, y=top + (p - 1) / 2, text="<b>[*]</b>",
                                    showarrow=False, font=dict(color="white", size=13)))
        annotations.append(dict(xref=f"x{ax2}", yref=f"y{ax2}", x=cx, y=top + p - 0.5, yanchor="top",
                                text=str(slot), showarrow=False, font=dict(size=11)))
    layout["shapes"] = shapes
    layout["annotations"] = annotations
    return _fig(data, layout)


# --------------------------------------------------------------------------- attention


def attention_figure(images, weights, scores, *, labels: Sequence[str] | None = None, head: int | None = None,
                     per_row: int = 6, title: str | None = None, height: int | None = None,
                     projector: bool = False) -> go.Figure:
    """Per image, side by side: the digit and the class token's attention over its patches.

    ``images (N, 1, S, S)``, ``weights (N, heads, g, g)`` (last block, row of [*]), ``scores (N,)``
    = D(x); ``labels`` name each image (e.g. "real 7", "fake"). ``head=None`` averages the heads.
    Pairs are laid out ``per_row`` to a row. All maps share one colour scale (0 to the largest weight
    shown), so they are comparable across images. ``projector``: the margins for instructor mode's fonts.
    """
    imgs = np.asarray(images, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = min(len(imgs), len(w), len(scores))
    if n == 0:
        raise ValueError("attention_figure needs at least one image")
    maps = w[:n].mean(axis=1) if head is None else w[:n, int(head)]
    vmax = float(np.nanmax(maps)) if np.isfinite(maps).any() else 1.0
    per_row = max(1, min(int(per_row), n))
    rows = math.ceil(n / per_row)
    height = height or 170 * rows + (60 if title else 20)
    data: list[dict] = []
    top_margin = 60 if title else 20
    # the right margin holds the colour bar and its title
    layout = dict(title=dict(text=title) if title else None, height=height, showlegend=False,
                  margin=dict(l=10, r=154 if projector else 116, t=top_margin, b=10))
    annotations = []
    pair_w = 1.0 / per_row
    row_h = 1.0 / rows
    for i in range(n):
        r, c = divmod(i, per_row)
        img = _img(imgs[i])
        H, W = img.shape
        m = maps[i]
        g = m.shape[-1]
        x0 = c * pair_w
        y1 = 1.0 - r * row_h
        y0 = y1 - row_h * 0.7
        ax = _axes(layout, 2 * i + 1, (x0 + 0.04 * pair_w, x0 + 0.48 * pair_w), (y0, y1), W, H)
        data.append(dict(type="heatmap", z=_list(img), colorscale=GRAY, zmin=0, zmax=1, showscale=False,
                         xaxis=f"x{ax}", yaxis=f"y{ax}", hoverinfo="skip"))
        ax2 = _axes(layout, 2 * i + 2, (x0 + 0.52 * pair_w, x0 + 0.96 * pair_w), (y0, y1), g, g)
        data.append(dict(type="heatmap", z=_list(m), colorscale=ATTENTION_SCALE, zmin=0, zmax=vmax,
                         xaxis=f"x{ax2}", yaxis=f"y{ax2}", showscale=(i == 0),
                         colorbar=dict(title=dict(text="attention"), thickness=12, len=0.8),
                         hovertemplate="patch row %{y}, col %{x}: %{z:.3f}<extra></extra>"))
        label = labels[i] if labels is not None and i < len(labels) else ""
        annotations.append(dict(xref="paper", yref="paper", x=x0 + 0.5 * pair_w, y=y0 - 0.01, yanchor="top",
                                showarrow=False, text=f"{label}<br>D(x) = {float(scores[i]):.2f}", font=dict(size=12)))
    layout["annotations"] = annotations
    return _fig(data, layout)


def position_similarity_figure(similarity, *, title: str | None = "Learned 1D position embeddings: cosine similarity",
                               height: int | None = 380, projector: bool = False) -> go.Figure:
    """ViT's figure 7: for each patch position (a cell of the g x g grid) a small g x g map of the
    cosine similarity of its position embedding with every other position's. A network that has
    discovered the 2D layout shows a bright spot around each cell's own place. ``projector``: the margins
    for instructor mode's fonts."""
    sim = np.asarray(similarity, dtype=float)
    T = sim.shape[0]
    g = math.isqrt(T)
    gap = 1
    size = g * (g + gap) - gap
    canvas = np.full((size, size), np.nan)
    for t in range(T):
        r, c = divmod(t, g)
        canvas[r * (g + gap):r * (g + gap) + g, c * (g + gap):c * (g + gap) + g] = sim[t].reshape(g, g)
    # the right margin holds the colour bar
    layout = dict(title=dict(text=title) if title else None, height=height, showlegend=False,
                  margin=dict(l=10, r=112 if projector else 88, t=50 if title else 10, b=10))
    _axes(layout, 1, (0.0, 1.0), (0.0, 1.0), size, size)
    data = [dict(type="heatmap", z=_list(canvas), colorscale="RdBu", reversescale=True, zmin=-1, zmax=1,
                 colorbar=dict(title=dict(text="cos"), thickness=12), xaxis="x", yaxis="y",
                 hovertemplate="%{z:.2f}<extra></extra>")]
    return _fig(data, layout)


def patch_by_patch_figure(patches, shown: int, *, title: str | None = None, height: int | None = 300,
                          palette: Palette = DEFAULT) -> go.Figure:
    """Generated samples as the generator emits them: ``patches (N, T, P, P)`` (its output tokens
    as pixels); only the first ``shown`` tokens are drawn, the rest are left empty (hatched grey),
    the most recent one outlined."""
    pt = np.asarray(patches, dtype=float)
    n, T, p, _ = pt.shape
    g = math.isqrt(T)
    shown = int(max(0, min(T, shown)))
    S = g * p
    data: list[dict] = []
    layout = dict(title=dict(text=title) if title else None, height=height, showlegend=False,
                  margin=dict(l=10, r=10, t=50 if title else 10, b=10), plot_bgcolor="#8a8f99")
    shapes = []
    gap = 0.02
    cell = (1 - gap * (n - 1)) / n
    for i in range(n):
        img = np.full((S, S), np.nan)
        for t in range(shown):
            r, c = divmod(t, g)
            img[r * p:(r + 1) * p, c * p:(c + 1) * p] = pt[i, t]
        x0 = i * (cell + gap)
        ax = _axes(layout, i + 1, (x0, x0 + cell), (0.0, 1.0), S, S)
        data.append(dict(type="heatmap", z=_list(img), colorscale=GRAY, zmin=0, zmax=1, showscale=False,
                         xaxis=f"x{ax}", yaxis=f"y{ax}", hoverinfo="skip"))
        shapes.append(dict(type="rect", xref=f"x{ax}", yref=f"y{ax}", x0=-0.5, x1=S - 0.5, y0=-0.5, y1=S - 0.5,
                           line=dict(color="#555", width=1)))
        if shown:
            r, c = divmod(shown - 1, g)
            shapes.append(dict(type="rect", xref=f"x{ax}", yref=f"y{ax}", x0=c * p - 0.5, x1=(c + 1) * p - 0.5,
                               y0=r * p - 0.5, y1=(r + 1) * p - 0.5, line=dict(color=palette.patch_grid, width=3)))
    layout["shapes"] = shapes
    return _fig(data, layout)


# --------------------------------------------------------------------------- the race


def race_figure(curves: dict, *, title: str = "Fréchet distance at equal training time (lower is better)",
                floor: float | None = None, baseline: float | None = None, height: int | None = 320,
                palette: Palette = DEFAULT) -> go.Figure:
    """Fréchet distance against training seconds: ``curves = {name: (seconds, values)}``; optional
    horizontal lines for real data (the floor) and the Gaussian-mixture baseline. Log y axis."""
    colors = {"tgan": palette.tgan, "dcgan": palette.dcgan}
    names = {"tgan": "Transformer GAN", "dcgan": "DCGAN"}
    data = []
    for key, (x, y) in curves.items():
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        ok = np.isfinite(x) & np.isfinite(y) & (y > 0)
        data.append(dict(type="scatter", mode="lines+markers", x=x[ok].tolist(), y=y[ok].tolist(),
                         name=names.get(key, key), line=dict(color=colors.get(key), width=2.5),
                         marker=dict(size=6), hovertemplate="%{x:.0f} s: %{y:.1f}<extra>" + names.get(key, key) + "</extra>"))
    shapes, annotations = [], []
    for value, text, dash in ((floor, "real data (test vs train)", "dot"), (baseline, "Gaussian mixture baseline", "dash")):
        if value is not None and np.isfinite(value) and value > 0:
            shapes.append(dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=value, y1=value,
                               line=dict(color="#777", dash=dash, width=1.5)))
            annotations.append(dict(xref="paper", x=1, yref="y", y=math.log10(value), xanchor="right", yanchor="bottom",
                                    text=text, showarrow=False, font=dict(size=11, color="#666")))
    layout = dict(title=dict(text=title), height=height, margin=dict(l=60, r=20, t=60, b=60),   # b: tick labels + title
                  xaxis=dict(title=dict(text="training time (s, inside step())"), rangemode="tozero"),
                  yaxis=dict(title=dict(text="Fréchet distance"), type="log", dtick=1),
                  legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0), shapes=shapes, annotations=annotations)
    return _fig(data, layout)
