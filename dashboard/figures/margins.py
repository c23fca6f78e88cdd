"""Margin arithmetic shared by the figure builders (see dashboard.figures on why builders size margins)."""
from __future__ import annotations

import math


def bottom_margin_under_plot(height: int, top: int, hang: float, labels: int) -> int:
    """Bottom margin ``b`` that holds something hanging ``hang`` × the plot's height below the plot
    (a legend or colour bar placed at ``y = -hang`` in paper coordinates) plus ``labels`` px for it
    and the tick labels: ``b = hang · (height − top − b) + labels``, solved for ``b`` and rounded up."""
    return math.ceil((hang * (height - top) + labels) / (1 + hang))
