"""dashboard/figures/margins.py: the bottom margin that holds what hangs under a plot."""
from dashboard.figures.margins import bottom_margin_under_plot


def test_bottom_margin_holds_what_hangs_below_the_plot():
    b = bottom_margin_under_plot(450, 40, 0.13, 84)
    plot = 450 - 40 - b                       # the plot area's height with that margin
    assert 0.13 * plot + 84 <= b < 0.13 * plot + 84 + 1
    assert bottom_margin_under_plot(450, 40, 0.0, 60) == 60     # nothing hangs: just the labels
