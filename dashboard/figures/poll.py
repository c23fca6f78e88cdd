"""The room's answers to a prediction question (issue 20, section 3): a pure figure builder.

Horizontal bars, one row per option, so long option texts stay readable on a projector; the
count is written at the end of each bar. With a second round ("ask again") the two rounds are
grouped side by side per option. No streamlit here.
"""
from __future__ import annotations

import textwrap
from typing import Sequence

import plotly.graph_objects as go

__all__ = ["COLOR_BEFORE", "COLOR_AFTER", "poll_figure", "wrap_label"]

# Okabe-Ito blue and orange: told apart with every common colour-vision deficiency.
COLOR_BEFORE = "#0072B2"
COLOR_AFTER = "#E69F00"
LABEL_WIDTH = 28  # characters per line of an option's label


def wrap_label(text: str, width: int = LABEL_WIDTH, max_lines: int = 3) -> str:
    """``text`` broken into lines of at most ``width`` characters (plotly ``<br>``), at most
    ``max_lines`` lines (the last one ends in "…" when text was cut)."""
    lines = textwrap.wrap(str(text), width=width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, width - 1)].rstrip() + "…"
    return "<br>".join(lines)


def _count_text(count: int, total: int) -> str:
    """"7 (35%)": the count, and its share of the round's answers."""
    return f"{count} ({round(100 * count / total)}%)" if count else "0"


def poll_figure(options: Sequence[str], before: Sequence[int], after: Sequence[int] | None = None,
                *, height: int | None = None) -> go.Figure:
    """Bars of the answers per option: ``before`` (first answers) and, when given, ``after``
    (answers once the question was asked again), side by side. The first option is at the top."""
    options = [str(option) for option in options]
    if len(before) != len(options) or (after is not None and len(after) != len(options)):
        raise ValueError("poll_figure: one count per option in every round")
    labels = [wrap_label(option) for option in options]
    rounds = [("first answer", list(before), COLOR_BEFORE)]
    if after is not None:
        rounds = [("before", list(before), COLOR_BEFORE), ("after, asked again", list(after), COLOR_AFTER)]
    fig = go.Figure()
    # plotly draws the first category at the bottom; reversed, the first option is on top.
    for name, counts, color in reversed(rounds):
        fig.add_trace(go.Bar(
            x=counts[::-1], y=labels[::-1], orientation="h", name=name, marker_color=color,
            text=[_count_text(c, sum(counts)) for c in counts[::-1]], textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{x} answers<extra>" + name + "</extra>",
        ))
    most = max([*before, *(after or []), 1])
    lines = sum(label.count("<br>") + 1 for label in labels)
    fig.update_layout(
        barmode="group", bargap=0.25, showlegend=after is not None,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, traceorder="reversed"),
        # the poll shows in instructor mode, at projector font sizes: a label line needs ~46 px
        height=height or int(120 + 46 * lines * (2 if after is not None else 1.3)),
        margin=dict(l=10, r=30, t=40 if after is not None else 10, b=40),
    )
    fig.update_xaxes(title_text="answers", rangemode="tozero", range=[0, most * 1.45 + 0.5],
                     tickformat="d", dtick=max(1, round(most / 5)))
    fig.update_yaxes(automargin=True, ticklabelstandoff=8)   # labels clear of the bars they name
    return fig
