"""The walks' content (dashboard/tours.py) against what the pages compute: the numbers a step
quotes come from genlab, each step's settings are query values that its page binds, and each
question a step asks is one its page has."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from dashboard import tours
from genlab import bayesnet as bn
from genlab import divergences as dv

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "pages"
# query values that a page reads from its link without a qp_* widget
LINK_PARAMS = {"bayesian_networks": {"query", "ev"}}


def _step(page: str, title: str) -> tours.Step:
    return next(step for step in tours.WALKS[page] if step.title == title)


def _quoted(text: str, value: float, digits: int = 2) -> bool:
    """``value`` rounded to ``digits`` decimals appears in ``text`` (with − or - for a minus)."""
    shown = f"{value:.{digits}f}"
    return shown in text or shown.replace("-", "−") in text


@pytest.mark.parametrize("page", list(tours.WALKS))
def test_settings_are_query_values_of_the_page_and_questions_are_the_pages(page):
    source = (PAGES / f"{page}.py").read_text(encoding="utf-8")
    bound = set(re.findall(r"qp_(?:slider|select|radio|number|toggle)\(\s*[^,]+,\s*f?\"([^\"{]+)\"", source))
    bound |= set(re.findall(r"qp_tabs\(\[[^\]]*\],\s*\"([^\"]+)\"", source))
    bound |= LINK_PARAMS.get(page, set())
    for step in tours.WALKS[page]:
        assert set(step.settings) <= bound, (step.title, set(step.settings) - bound)
        if step.question:
            assert f'"{step.question}"' in source, (step.title, step.question)


def test_kl_numbers():
    terms = dv.kl_terms([0.9, 0.1], [0.1, 0.9])
    text = _step("kl_discrete", "One term per outcome").text
    assert _quoted(text, terms[0]) and _quoted(text, terms[1]) and _quoted(text, float(terms.sum()))
    assert math.isclose(dv.kl_discrete([0.9, 0.1], [0.1, 0.9]), dv.kl_discrete([0.1, 0.9], [0.9, 0.1]))
    q, p = np.full(6, 1 / 6), np.array([0.1] * 5 + [0.5])
    text = _step("kl_discrete", "Not symmetric").text
    assert _quoted(text, dv.kl_discrete(q, p)) and _quoted(text, dv.kl_discrete(p, q))
    assert dv.kl_discrete(p, q) > dv.kl_discrete(q, p)
    text = _step("kl_discrete", "A zero in q: 0 · log 0 = 0").text
    assert _quoted(text, dv.kl_discrete([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]))
    assert math.isinf(dv.kl_discrete([0.25, 0.25, 0.5], [0.5, 0.5, 0.0]))
    assert math.isinf(dv.kl_discrete([0.5, 0.5], [1.0, 0.0]))


def test_gaussian_optimum_width():
    cov = dv.bivariate_cov(1.0, 1.0, 0.9)
    _, var_qp = dv.mean_field_gaussian((0.0, 0.0), cov, "KL(q||p)")
    _, var_pq = dv.mean_field_gaussian((0.0, 0.0), cov, "KL(p||q)")
    text = _step("gaussian_kl", "The optimum, revealed").text
    assert _quoted(text, math.sqrt(var_qp[0])) and np.allclose(np.sqrt(var_pq), 1.0)


def _p(preset: str, query: str, evidence: dict, state: str = "yes") -> float:
    return float(bn.PRESETS[preset].network().conditional(query, evidence)[state])


def test_bayesian_network_numbers():
    text = _step("bayesian_networks", "A query: is it raining?").text
    assert _quoted(text, _p(tours.BN_SPRINKLER, "Rain", {"Wet grass": "yes"}))
    text = _step("bayesian_networks", "The sprinkler explains the wet grass away").text
    assert _quoted(text, _p(tours.BN_SPRINKLER, "Rain", {"Wet grass": "yes", "Sprinkler": "yes"}))
    text = _step("bayesian_networks", "Explaining away, the v-structure").text
    assert _quoted(text, _p(tours.BN_COLLIDER, "Burglary", {"Alarm": "yes"}))
    assert _quoted(text, _p(tours.BN_COLLIDER, "Burglary", {"Alarm": "yes", "Earthquake": "yes"}))
    net = bn.PRESETS[tours.BN_SPRINKLER].network()
    text = _step("bayesian_networks", "Three types of graphical models").text
    assert f"{net.parameter_count()} free parameters instead of {net.full_joint_parameter_count()}" in text
