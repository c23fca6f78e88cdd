"""Unit tests for genlab.divergences: the lecture's numbers, closed forms vs torch, bad inputs."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import MultivariateNormal, kl_divergence

from genlab.divergences import (
    OBJECTIVES,
    GaussianMixture,
    bivariate_cov,
    distribution_issues,
    effect_in_words,
    kl_discrete,
    kl_gaussian,
    kl_mean_field,
    kl_terms,
    mean_field_descent,
    mean_field_gaussian,
    moment_match,
)
from genlab.errors import GenlabError

torch.set_num_threads(1)

# --------------------------------------------------------------------------- #
# The slide "KL Divergence: Example": rows (q(x'), p(x')) -> q log(q/p), effect
# --------------------------------------------------------------------------- #
SLIDE_ROWS = [
    # q, p, rounded term (2 dp), slide's printed (truncated) value, effect
    (0.9, 0.9, 0.00, 0.0, "no increase"),
    (0.9, 0.1, 1.98, 1.97, "big increase"),
    (0.1, 0.9, -0.22, -0.21, "little decrease"),
    (0.1, 0.1, 0.00, 0.0, "no increase"),  # the slide (as OCR'd) says "little decrease": term is 0
]


@pytest.mark.parametrize("q, p, rounded, printed, effect", SLIDE_ROWS)
def test_slide_rows(q, p, rounded, printed, effect):
    # Each slide row as a two-outcome pair (the rest of the mass on a second outcome).
    term = kl_terms([q, 1 - q], [p, 1 - p])[0]
    assert round(term, 2) == rounded
    # The slide truncates to two decimals.
    assert math.trunc(term * 100) / 100 == pytest.approx(printed)
    assert effect_in_words(term) == effect


def test_slide_two_outcome_example():
    q, p = [0.9, 0.1], [0.1, 0.9]
    terms = kl_terms(q, p)
    assert terms == pytest.approx([0.9 * math.log(9), 0.1 * math.log(1 / 9)])
    assert kl_discrete(q, p) == pytest.approx(0.8 * math.log(9))
    # Swapping the outcomes swaps q and p, so here (only) the two directions agree.
    assert kl_discrete(p, q) == pytest.approx(kl_discrete(q, p))


def test_units_bits():
    q, p = [0.5, 0.5], [0.25, 0.75]
    assert kl_discrete(q, p, base=2) == pytest.approx(kl_discrete(q, p) / math.log(2))
    assert kl_discrete([1, 0], [0.5, 0.5], base=2) == pytest.approx(1.0)


def test_properties_nonnegative_zero_iff_equal_not_symmetric():
    rng = np.random.default_rng(0)
    for _ in range(50):
        q = rng.dirichlet(np.ones(5))
        p = rng.dirichlet(np.ones(5))
        assert kl_discrete(q, p) > 0
        assert kl_discrete(q, q) == 0.0
    q, p = [0.5, 0.5, 0.0], [0.7, 0.2, 0.1]
    assert kl_discrete(q, p) != pytest.approx(kl_discrete(p, q))


def test_zero_conventions():
    # 0 log 0 = 0 and 0 log(0/p) = 0
    assert kl_terms([1.0, 0.0], [1.0, 0.0]).tolist() == [0.0, 0.0]
    assert kl_discrete([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    # q > 0 where p = 0 -> inf, and the term of that row is inf
    assert kl_discrete([0.5, 0.5], [1.0, 0.0]) == math.inf
    terms = kl_terms([0.5, 0.5], [1.0, 0.0])
    assert terms[1] == math.inf and terms[0] == pytest.approx(0.5 * math.log(0.5))
    assert effect_in_words(math.inf) == "infinite increase"


def test_effect_words():
    assert effect_in_words(0.0) == "no increase"
    assert effect_in_words(0.1) == "little increase"
    assert effect_in_words(0.7) == "big increase"
    assert effect_in_words(-0.3) == "little decrease"
    assert effect_in_words(float("nan")) == "—"


def test_tolerance_of_sum():
    assert kl_discrete([0.5 + 5e-7, 0.5], [0.5, 0.5]) >= 0
    with pytest.raises(ValueError, match="sum to 1"):
        kl_discrete([0.5 + 5e-6, 0.5], [0.5, 0.5])


@pytest.mark.parametrize(
    "q, p, match",
    [
        ([0.5, 0.5], [0.5, 0.25, 0.25], "same length"),
        ([[0.5, 0.5]], [[0.5, 0.5]], "1-D"),
        ([], [], "at least one"),
        ([float("nan"), 1.0], [0.5, 0.5], r"q\[0\].*finite"),
        ([0.5, 0.5], [float("inf"), 0.5], r"p\[0\].*finite"),
        ([1.2, -0.2], [0.5, 0.5], r"q\[1\].*negative.*>= 0"),
        ([0.5, 0.5], [0.6, 0.6], "p sums to 1.2.*must sum to 1"),
        ([0.3, 0.3], [0.5, 0.5], "q sums to 0.6"),
        (["a", "b"], [0.5, 0.5], "numbers"),
    ],
)
def test_kl_discrete_bad_inputs(q, p, match):
    with pytest.raises(ValueError, match=match) as info:
        kl_discrete(q, p)
    assert isinstance(info.value, GenlabError)


def test_bad_base():
    for base in (1, 0, -2, "x", float("nan")):
        with pytest.raises(ValueError, match="base"):
            kl_discrete([1.0], [1.0], base=base)


def test_distribution_issues_names_cells():
    issues = distribution_issues([0.5, -0.1, float("nan")], "q")
    assert [(i.rule, i.index) for i in issues] == [("non-negative", 1), ("finite", 2)]
    issues = distribution_issues([0.5, 0.6], "p")
    assert [(i.rule, i.index) for i in issues] == [("sum", None)]
    assert distribution_issues([0.25] * 4) == []


# --------------------------------------------------------------------------- #
# Gaussian KL vs torch.distributions
# --------------------------------------------------------------------------- #
def _random_spd(rng, k):
    a = rng.normal(size=(k, k))
    return a @ a.T + 0.3 * np.eye(k)


def _torch_kl(mq, cq, mp, cp):
    q = MultivariateNormal(torch.tensor(mq, dtype=torch.float64), torch.tensor(cq, dtype=torch.float64))
    p = MultivariateNormal(torch.tensor(mp, dtype=torch.float64), torch.tensor(cp, dtype=torch.float64))
    return float(kl_divergence(q, p))


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_kl_gaussian_matches_torch(k):
    rng = np.random.default_rng(k)
    for _ in range(5):
        mq, mp = rng.normal(size=k), rng.normal(size=k)
        cq, cp = _random_spd(rng, k), _random_spd(rng, k)
        assert kl_gaussian(mq, cq, mp, cp) == pytest.approx(_torch_kl(mq, cq, mp, cp), rel=1e-9, abs=1e-12)


def test_kl_gaussian_basic_facts():
    cov = bivariate_cov(1.0, 2.0, 0.5)
    assert kl_gaussian([0, 0], cov, [0, 0], cov) == 0.0
    # 1-D: KL(N(0,1) || N(1,1)) = 1/2
    assert kl_gaussian([0.0], [[1.0]], [1.0], [[1.0]]) == pytest.approx(0.5)
    assert kl_gaussian(0.0, 1.0, 1.0, 1.0) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "cov, match",
    [
        ([[1.0, 0.5], [0.4, 1.0]], "symmetric"),
        ([[1.0, 1.0], [1.0, 1.0]], "positive definite"),  # correlation 1
        ([[1.0, -1.0], [-1.0, 1.0]], "positive definite"),  # correlation -1
        ([[1.0, 2.0], [2.0, 1.0]], "positive definite"),
        ([[-1.0, 0.0], [0.0, 1.0]], "positive definite"),
        ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], "2x2"),
        ([[float("nan"), 0.0], [0.0, 1.0]], "finite"),
    ],
)
def test_kl_gaussian_bad_covariance(cov, match):
    good = np.eye(2)
    with pytest.raises(ValueError, match=match):
        kl_gaussian([0, 0], cov, [0, 0], good)
    with pytest.raises(ValueError, match=match):
        kl_gaussian([0, 0], good, [0, 0], cov)


def test_kl_gaussian_dimension_mismatch():
    with pytest.raises(ValueError, match="same dimension"):
        kl_gaussian([0.0], [[1.0]], [0.0, 0.0], np.eye(2))


def test_bivariate_cov_rules():
    assert bivariate_cov(2.0, 3.0, -0.5).tolist() == [[4.0, -3.0], [-3.0, 9.0]]
    for rho in (1.0, -1.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="strictly between -1 and 1"):
            bivariate_cov(1.0, 1.0, rho)
    for sd in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="> 0"):
            bivariate_cov(sd, 1.0, 0.0)


# --------------------------------------------------------------------------- #
# Mean-field Gaussian: closed form (PRML 10.1.2) and the numeric route
# --------------------------------------------------------------------------- #
def test_mean_field_closed_form_prml():
    mu = np.array([0.5, -1.0])
    cov = bivariate_cov(1.0, 2.0, 0.8)
    lam = np.linalg.inv(cov)
    m, v = mean_field_gaussian(mu, cov, "KL(q||p)")
    assert m.tolist() == mu.tolist()
    assert v == pytest.approx(1.0 / np.diag(lam))
    assert v == pytest.approx(np.diag(cov) * (1 - 0.8 ** 2))  # σᵢ²(1 − ρ²) in 2-D
    m, v = mean_field_gaussian(mu, cov, "KL(p‖q)")  # unicode bars accepted
    assert v == pytest.approx(np.diag(cov))


def test_mean_field_is_the_minimum():
    """Perturbing the closed-form optimum increases its own objective (checked with torch)."""
    mu = np.array([0.0, 0.0])
    cov = bivariate_cov(1.5, 1.0, -0.7)
    rng = np.random.default_rng(1)
    for obj in OBJECTIVES:
        m, v = mean_field_gaussian(mu, cov, obj)

        def kl(mm, vv):
            q = (mm, np.diag(vv))
            return _torch_kl(*q, mu, cov) if obj == "KL(q||p)" else _torch_kl(mu, cov, *q)

        best = kl(m, v)
        for _ in range(20):
            assert kl(m + rng.normal(scale=0.1, size=2), v * np.exp(rng.normal(scale=0.1, size=2))) > best


def test_mean_field_bad_inputs():
    with pytest.raises(ValueError, match="objective must be one of"):
        mean_field_gaussian([0, 0], np.eye(2), "forward")
    with pytest.raises(ValueError, match="positive definite"):
        mean_field_gaussian([0, 0], [[1, 1], [1, 1]], "KL(q||p)")


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, -0.95])
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_descent_reaches_closed_form(rho, objective):
    mu = np.array([0.3, -0.5])
    cov = bivariate_cov(1.2, 0.7, rho)
    target = GaussianMixture.gaussian(mu, cov)
    path = mean_field_descent(target, objective, [2.0, 1.0], [0.3, 2.0], steps=5000)
    m, v = mean_field_gaussian(mu, cov, objective)
    assert path.converged
    assert path.means[-1] == pytest.approx(m, abs=1e-5)
    assert path.stds[-1] ** 2 == pytest.approx(v, rel=1e-5)
    # the objective decreases along the path (natural-gradient steps with the cap)
    assert np.all(np.diff(path.kl) <= 1e-12)
    assert path.kl[-1] == pytest.approx(kl_mean_field(target, m, np.sqrt(v), objective), abs=1e-9)


def test_descent_gaussian_3d_and_batch():
    rng = np.random.default_rng(3)
    cov = _random_spd(rng, 3)
    target = GaussianMixture.gaussian(np.zeros(3), cov)
    path = mean_field_descent(target, "KL(q||p)", [[1.0, 1.0, 1.0], [-1.0, 0.0, 2.0]], np.ones((2, 3)), steps=20000)
    _, v = mean_field_gaussian(np.zeros(3), cov, "KL(q||p)")
    assert path.means.shape[1:] == (2, 3)
    assert path.converged.all()
    for b in range(2):
        assert path.stds[-1, b] ** 2 == pytest.approx(v, rel=1e-5)


def test_descent_bad_inputs():
    target = GaussianMixture.gaussian([0, 0], np.eye(2))
    with pytest.raises(ValueError, match="standard deviations > 0"):
        mean_field_descent(target, "KL(q||p)", [0, 0], [1, 0])
    with pytest.raises(ValueError, match="2 finite means"):
        mean_field_descent(target, "KL(q||p)", [0, 0, 0], [1, 1, 1])
    with pytest.raises(ValueError, match="steps"):
        mean_field_descent(target, "KL(q||p)", [0, 0], [1, 1], steps=-1)
    with pytest.raises(ValueError, match="lr"):
        mean_field_descent(target, "KL(q||p)", [0, 0], [1, 1], lr=0)
    with pytest.raises(ValueError, match="GaussianMixture"):
        mean_field_descent("p", "KL(q||p)", [0, 0], [1, 1])


# --------------------------------------------------------------------------- #
# Mixtures (PRML Fig. 10.3)
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def mixture():
    return GaussianMixture.create([0.5, 0.5], [[-1.5, -1.5], [1.5, 1.5]], [bivariate_cov(1.0, 1.0, -0.5)] * 2)


def _grid_expectation(f_logq_or_p, lo=-11, hi=11, n=881):
    x = np.linspace(lo, hi, n)
    zz = np.stack(np.meshgrid(x, x, indexing="ij"), axis=-1)
    return zz, (x[1] - x[0]) ** 2


def test_mixture_logpdf_matches_torch(mixture):
    z = np.random.default_rng(0).normal(size=(50, 2)) * 2
    comps = [MultivariateNormal(torch.tensor(mixture.means[k]), torch.tensor(mixture.covs[k])) for k in range(2)]
    zt = torch.tensor(z)
    ref = torch.logsumexp(torch.stack([c.log_prob(zt) + math.log(0.5) for c in comps]), dim=0)
    assert mixture.logpdf(z) == pytest.approx(ref.numpy(), rel=1e-10)
    # gradient vs autograd
    zt.requires_grad_(True)
    lp = torch.logsumexp(torch.stack([c.log_prob(zt) + math.log(0.5) for c in comps]), dim=0)
    lp.sum().backward()
    assert mixture.grad_logpdf(z)[1] == pytest.approx(zt.grad.numpy(), rel=1e-8, abs=1e-12)


def test_mixture_kl_matches_fine_grid(mixture):
    """Quadrature KLs against brute-force integration on a fine grid."""
    zz, da = _grid_expectation(None)
    logp = mixture.logpdf(zz)
    for m, s in [((1.0, 1.2), (0.8, 1.1)), ((0.0, 0.0), (2.0, 2.0)), ((-1.5, -1.4), (0.5, 0.6))]:
        m, s = np.array(m), np.array(s)
        logq = np.sum(-0.5 * ((zz - m) / s) ** 2 - np.log(s) - 0.5 * math.log(2 * math.pi), axis=-1)
        qz, pz = np.exp(logq), np.exp(logp)
        ref_qp = float(np.sum(qz * (logq - logp)) * da)
        ref_pq = float(np.sum(pz * (logp - logq)) * da)
        assert kl_mean_field(mixture, m, s, "KL(q||p)") == pytest.approx(ref_qp, abs=5e-3)
        assert kl_mean_field(mixture, m, s, "KL(p||q)") == pytest.approx(ref_pq, abs=2e-3)


def test_mixture_moment_match_is_kl_pq_optimum(mixture):
    m, v = moment_match(mixture)
    assert m == pytest.approx([0.0, 0.0])
    assert v == pytest.approx([1.0 + 1.5 ** 2] * 2)
    path = mean_field_descent(mixture, "KL(p||q)", [1.0, -2.0], [0.5, 0.5])
    assert path.means[-1] == pytest.approx(m, abs=1e-6)
    assert path.stds[-1] ** 2 == pytest.approx(v, rel=1e-6)
    best = kl_mean_field(mixture, m, np.sqrt(v), "KL(p||q)")
    assert kl_mean_field(mixture, m + 0.1, np.sqrt(v), "KL(p||q)") > best


def test_mixture_kl_qp_finds_one_mode_per_start(mixture):
    """Different starts -> different local minima of KL(q‖p), each sitting on one mode,
    with a lower KL(q‖p) than the mode-covering moment-matched q."""
    path = mean_field_descent(mixture, "KL(q||p)", [[1.0, 1.0], [-2.0, -1.0]], np.ones((2, 2)), lr=1.0, steps=400)
    assert path.converged.all()
    end_a, end_b = path.means[-1]
    assert np.all(end_a > 1.0) and np.all(end_b < -1.0)
    assert path.kl[-1, 0] == pytest.approx(path.kl[-1, 1], abs=1e-6)  # symmetric mixture
    m, v = moment_match(mixture)
    covering = kl_mean_field(mixture, m, np.sqrt(v), "KL(q||p)")
    found = kl_mean_field(mixture, path.means[-1, 0], path.stds[-1, 0], "KL(q||p)")
    assert found < covering
    # and the local minimum is (numerically) stationary for the accurate quadrature too
    for delta in (np.array([0.02, 0.0]), np.array([0.0, -0.02])):
        assert kl_mean_field(mixture, path.means[-1, 0] + delta, path.stds[-1, 0], "KL(q||p)") > found - 1e-4


def test_mixture_entropy_single_component_closed_form():
    cov = bivariate_cov(1.0, 2.0, 0.3)
    g = GaussianMixture.gaussian([0, 0], cov)
    two = GaussianMixture.create([0.5, 0.5], [[0, 0], [0, 0]], [cov, cov])
    assert two.entropy() == pytest.approx(g.entropy(), rel=1e-10)


def test_mixture_bad_inputs():
    with pytest.raises(ValueError, match="mixture weights sums to"):
        GaussianMixture.create([0.5, 0.6], [[0, 0], [1, 1]], [np.eye(2)] * 2)
    with pytest.raises(ValueError, match="positive definite"):
        GaussianMixture.create([0.5, 0.5], [[0, 0], [1, 1]], [np.eye(2), [[1, 1], [1, 1]]])
    with pytest.raises(ValueError, match="shape"):
        GaussianMixture.create([0.5, 0.5], [[0, 0]], [np.eye(2)] * 2)
    g = GaussianMixture.gaussian([0, 0], np.eye(2))
    with pytest.raises(ValueError, match="standard deviations"):
        kl_mean_field(g, [0, 0], [1, -1], "KL(q||p)")
