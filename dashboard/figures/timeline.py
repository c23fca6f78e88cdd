"""Figures of a training's timeline (issue 21): one moment of a recorded history, and the whole
history as one Plotly animation that plays in the browser.

Pure functions: a :class:`genlab.run_history.History` (or its arrays) in, a figure out. Playback is
Plotly.js's own animation (``frames`` + Play / Pause buttons + a slider inside the figure): the
browser steps through the frames at the chosen rate without asking the server, so it keeps 10+
frames per second where a Streamlit rerun per frame could not.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.palette import DEFAULT, Palette
from dashboard.figures.png import png_data_uri

__all__ = [
    "plane_at",
    "samples_at",
    "latent_at",
    "figure_at",
    "animated",
    "mark_step",
    "nearest_frame",
    "SPEEDS",
]

SPEEDS = (5, 10, 20, 30)          # frames per second offered for playback


def nearest_frame(steps: Sequence[int], step: int) -> int:
    """Index of the last frame at or before ``step`` (the first frame if ``step`` is earlier)."""
    steps = np.asarray(steps)
    index = int(np.searchsorted(steps, int(step), side="right")) - 1
    return max(0, min(index, len(steps) - 1))


def _heatmap_axes(extent, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of a ``size`` x ``size`` grid over ``extent`` = (x0, x1, y0, y1)."""
    x0, x1, y0, y1 = (float(v) for v in extent)
    xs = x0 + (np.arange(size) + 0.5) * (x1 - x0) / size
    ys = y0 + (np.arange(size) + 0.5) * (y1 - y0) / size
    return xs, ys


def plane_at(history, index: int, *, palette: Palette = DEFAULT, height: int | None = 560,
             title: str | None = None) -> go.Figure:
    """The 2D GAN plane at frame ``index`` of a ``gan2d`` history: D(x) on the grid, G's manifold,
    the fakes of the fixed noise batch and the real points (as the live page draws them)."""
    from dashboard.figures.gan import plane_figure

    arrays = history.arrays
    heat = np.asarray(arrays["heatmap"][index], dtype=np.float32)
    xs, ys = _heatmap_axes(arrays["extent"], heat.shape[-1])
    extent = tuple(float(v) for v in arrays["extent"])
    step = int(history.steps[index])
    fig = plane_figure(np.asarray(arrays["real"], dtype=np.float32), np.asarray(arrays["fake"][index], dtype=np.float32),
                       heatmap=(xs, ys, heat), manifold=np.asarray(arrays["manifold"][index], dtype=np.float32),
                       bounds=extent, height=height, palette=palette,
                       title=title if title is not None else f"step {step:,}")
    # D(x)'s colour bar to the right: under the plane sit the animation's Play / Pause and slider
    fig.update_traces(colorbar=dict(orientation="v", x=1.02, xanchor="left", y=0.5, yanchor="middle", len=0.9,
                                    title=dict(text="D(x)", side="top")), selector=dict(type="heatmap"))
    fig.update_layout(margin=dict(b=50))
    return fig


def _grid_png(samples: np.ndarray, nrow: int) -> str:
    """uint8 images (N, C, H, W) tiled ``nrow`` per row (torchvision's make_grid), as a PNG data URI."""
    import torch
    from torchvision.utils import make_grid

    grid = make_grid(torch.from_numpy(np.ascontiguousarray(samples)), nrow=max(1, int(nrow)), padding=1, pad_value=90)
    array = grid.permute(1, 2, 0).numpy()
    return png_data_uri(array[:, :, 0] if array.shape[2] == 1 else array)


def _image_figure(source: str, title: str, height: int | None) -> go.Figure:
    fig = go.Figure(go.Image(source=source, hoverinfo="skip"))
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10),
                      xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"))
    return fig


def samples_at(history, index: int, *, height: int | None = 520, title: str | None = None) -> go.Figure:
    """The image GAN's fixed-noise sample grid at frame ``index`` of an ``image`` history."""
    arrays = history.arrays
    step = int(history.steps[index])
    return _image_figure(_grid_png(arrays["samples"][index], int(arrays["nrow"])),
                         title if title is not None else f"samples at step {step:,}", height)


def latent_at(history, index: int, *, palette: Palette = DEFAULT, height: int | None = 520,
              limit: float | None = None, title: str | None = None) -> go.Figure:
    """The latent codes (encoder means, first two dimensions) of the fixed test subset at frame
    ``index`` of a ``latent`` history, coloured by class; the axes fixed to ±``limit`` (default:
    the 99th percentile of |code| over the whole history, at least 3) so frames compare."""
    arrays = history.arrays
    codes = np.asarray(arrays["codes"], dtype=np.float32)
    if limit is None:
        finite = np.abs(codes[np.isfinite(codes)])
        limit = max(3.0, float(np.quantile(finite, 0.99)) * 1.1) if finite.size else 3.0
    labels = np.asarray(arrays.get("labels", np.zeros(codes.shape[1], dtype=int)))
    frame = codes[index]
    y_values = frame[:, 1] if frame.shape[1] > 1 else np.zeros(len(frame))
    data = []
    for cls in np.unique(labels):
        pick = labels == cls
        data.append(go.Scattergl(x=frame[pick, 0], y=y_values[pick], mode="markers", name=str(int(cls)),
                                 marker=dict(size=6, color=palette.classes[int(cls) % len(palette.classes)]),
                                 hovertemplate=f"class {int(cls)}<extra></extra>"))
    step = int(history.steps[index])
    fig = go.Figure(data)
    fig.update_layout(title=title if title is not None else f"codes z = μ(x) at step {step:,}", height=height,
                      margin=dict(l=50, r=10, t=50, b=40), legend=dict(title="class"),
                      xaxis=dict(range=[-limit, limit], title="z₁"),
                      yaxis=dict(range=[-limit, limit], title="z₂" if frame.shape[1] > 1 else "", scaleanchor="x"))
    return fig


def figure_at(history, index: int, *, palette: Palette = DEFAULT, height: int | None = 540) -> go.Figure:
    """The main picture of any history kind at frame ``index``."""
    if history.kind == "gan2d":
        return plane_at(history, index, palette=palette, height=height)
    if history.kind == "image":
        return samples_at(history, index, height=height)
    return latent_at(history, index, palette=palette, height=height)


def animated(history, *, start: int = 0, fps: float = 10, every: int = 1, title: str = "",
             height: int | None = 520) -> go.Figure:
    """One figure that plays the history in the browser: frame ``i`` is the picture of
    :func:`genlab.replay.frame_image` (the GIF's frames: the step written on each), Plotly's
    Play / Pause buttons and slider run the frames at ``fps`` per second with no server round trip,
    and the figure opens at frame ``start``. ``every``: keep every k-th frame (and the last).

    Pictures, not Plotly traces: swapping one image is a cheap redraw (a few ms), so the browser keeps
    the asked rate; redrawing the plane's heatmap, mesh and WebGL points per frame held 6-8 frames/s
    in headless Chromium (bench/RESULTS.md)."""
    from genlab.replay import frame_image, latent_limit

    indices = list(range(0, len(history), max(1, int(every))))
    if indices[-1] != len(history) - 1:
        indices.append(len(history) - 1)
    start = min(indices, key=lambda i: abs(i - start))
    limit = latent_limit(history.arrays["codes"]) if history.kind == "latent" else None
    sources = {i: png_data_uri(frame_image(history, i, title, limit), optimize=True) for i in indices}
    names = [str(int(history.steps[i])) for i in indices]
    base = go.Figure(go.Image(source=sources[start], hoverinfo="skip"))
    base.frames = [go.Frame(data=[go.Image(source=sources[i], hoverinfo="skip")], name=name)
                   for i, name in zip(indices, names)]
    # Plotly starts a frame's timer after drawing the previous one: the interval is shortened by about
    # one image draw so that the drawn rate is the asked one
    duration = max(10, int(round(0.85 * 1000 / max(float(fps), 0.1))))
    play = dict(frame=dict(duration=duration, redraw=True), transition=dict(duration=0), fromcurrent=True, mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=True), transition=dict(duration=0), mode="immediate")
    base.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=110),
        xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"),
        updatemenus=[dict(type="buttons", direction="left", showactive=False, x=0, xanchor="left", y=-0.02,
                          yanchor="top", pad=dict(t=6, r=6),
                          buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                   dict(label="Pause", method="animate", args=[[None], pause])])],
        sliders=[dict(active=indices.index(start), x=0.22, len=0.78, y=-0.02, yanchor="top", pad=dict(t=6),
                      currentvalue=dict(prefix="step ", visible=True),
                      steps=[dict(label=name, method="animate", args=[[name], pause]) for name in names])],
    )
    return base


def mark_step(fig: go.Figure, step: int, text: str = "shown") -> go.Figure:
    """Draw the timeline's moment on a metrics chart: a vertical line at ``step`` with a label."""
    fig.add_vline(x=step, line=dict(color="#888", width=2, dash="dot"),
                  annotation=dict(text=f"{text}: step {int(step):,}", font=dict(size=13)),
                  annotation_position="bottom right")
    return fig
