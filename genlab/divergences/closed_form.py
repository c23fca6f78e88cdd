"""Discrete KL with its terms and validation, and the closed-form Gaussian cases (KL of two
Gaussians, the mean-field optima of both KL directions). Part of :mod:`genlab.divergences`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from genlab.errors import GenlabError, check_number


#: How far from 1 the sum of a probability vector may be.
SUM_TOLERANCE = 1e-6
#: The two objectives of :func:`mean_field_gaussian` (ASCII names; "‖" is accepted too).
OBJECTIVES = ("KL(q||p)", "KL(p||q)")


# --------------------------------------------------------------------------- #
# Discrete KL
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class ProbabilityIssue:
    """One broken rule of a probability vector.

    ``rule`` is one of "shape", "empty", "finite", "non-negative", "sum";
    ``index`` is the offending entry (None for whole-vector rules).
    """

    name: str
    rule: str
    index: int | None
    message: str


def _as_vector(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise GenlabError(
            f"{name} must be a 1-D list of numbers (probabilities); got {values!r}"
        ) from None
    return arr


def distribution_issues(values, name: str = "q", tol: float = SUM_TOLERANCE) -> list[ProbabilityIssue]:
    """Every broken rule of a probability vector (empty list = valid).

    Rules: 1-D and not empty; every entry finite (no NaN/inf); every entry
    ≥ 0; entries sum to 1 within ``tol``. The sum rule is only checked when
    the entries themselves are valid.
    """
    arr = _as_vector(values, name)
    if arr.ndim != 1:
        return [ProbabilityIssue(name, "shape", None,
                                 f"{name} must be 1-D (a list of probabilities); got shape {arr.shape}")]
    if arr.size == 0:
        return [ProbabilityIssue(name, "empty", None, f"{name} must have at least one outcome")]
    issues: list[ProbabilityIssue] = []
    for i, v in enumerate(arr):
        if not math.isfinite(v):
            issues.append(ProbabilityIssue(
                name, "finite", i,
                f"{name}[{i}] is {v}: probabilities must be finite numbers between 0 and 1"))
        elif v < 0:
            issues.append(ProbabilityIssue(
                name, "non-negative", i,
                f"{name}[{i}] = {v:g} is negative: probabilities must be >= 0"))
    if not issues:
        total = float(arr.sum())
        if abs(total - 1.0) > tol:
            issues.append(ProbabilityIssue(
                name, "sum", None,
                f"{name} sums to {total:.6g}: probabilities must sum to 1 (within {tol:g}); normalize it"))
    return issues


def _check_pair(q, p) -> tuple[np.ndarray, np.ndarray]:
    qa, pa = _as_vector(q, "q"), _as_vector(p, "p")
    issues = distribution_issues(qa, "q") + distribution_issues(pa, "p")
    shape_issues = [i for i in issues if i.rule in ("shape", "empty")]
    if shape_issues:
        raise GenlabError("; ".join(i.message for i in shape_issues))
    if qa.shape != pa.shape:
        raise GenlabError(
            f"q and p must have the same length (one entry per outcome); got {qa.size} and {pa.size}")
    if issues:
        raise GenlabError("; ".join(i.message for i in issues))
    return qa, pa


def _log_base(base: float) -> float:
    try:
        b = float(base)
    except (TypeError, ValueError):
        raise GenlabError(f"base must be a number > 0 and != 1 (e.g. math.e or 2); got {base!r}") from None
    if not math.isfinite(b) or b <= 0 or b == 1:
        raise GenlabError(f"base must be a number > 0 and != 1 (e.g. math.e or 2); got {base!r}")
    return math.log(b)


def kl_terms(q, p, base: float = math.e) -> np.ndarray:
    """Per-outcome terms q(x)·log(q(x)/p(x)) of KL(q‖p), in units of ``log base``.

    Conventions: a term with q(x) = 0 is 0 (0·log 0 = 0, whatever p(x) is);
    a term with q(x) > 0 and p(x) = 0 is +inf. Terms can be negative (at most
    p(x)/e nats below zero); their sum cannot. Inputs are checked as in
    :func:`kl_discrete`.
    """
    qa, pa = _check_pair(q, p)
    scale = _log_base(base)
    terms = np.zeros_like(qa)
    pos = qa > 0
    with np.errstate(divide="ignore"):
        terms[pos] = qa[pos] * (np.log(qa[pos]) - np.log(pa[pos]))
    return terms / scale


def kl_discrete(q, p, base: float = math.e) -> float:
    """KL(q‖p) = Σ_x q(x) log(q(x)/p(x)) for two distributions on the same outcomes.

    ``base`` picks the unit: ``math.e`` gives nats, ``2`` gives bits.
    0·log 0 counts as 0; q(x) > 0 where p(x) = 0 gives ``math.inf``.
    q and p must be 1-D, the same length, finite, non-negative and each sum
    to 1 within 1e-6; otherwise ``ValueError`` (GenlabError) says which rule
    broke. The result is ≥ 0, and = 0 only when q = p.
    """
    terms = kl_terms(q, p, base)
    if np.isinf(terms).any():
        return math.inf
    # Rounding can make a KL of identical distributions come out at -1e-17.
    return max(float(terms.sum()), 0.0)


def effect_in_words(term_nats: float, tol: float = 1e-12) -> str:
    """The slide's "effect on KL(q‖p)" column for one term q·log(q/p) in nats.

    "no increase" (term 0: q(x) = p(x), or q(x) = 0), "little increase"
    (0 < term < 0.5), "big increase" (≥ 0.5), "infinite increase" (p(x) = 0
    < q(x)) and "little decrease" (term < 0; a term can never be below
    -p(x)/e ≥ -0.37 nats, so a decrease is always little).
    """
    t = float(term_nats)
    if math.isnan(t):
        return "—"
    if math.isinf(t) and t > 0:
        return "infinite increase"
    if abs(t) <= tol:
        return "no increase"
    if t > 0:
        return "big increase" if t >= 0.5 else "little increase"
    return "little decrease"


# --------------------------------------------------------------------------- #
# Gaussian KL
# --------------------------------------------------------------------------- #
def _check_mean_cov(mu, cov, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (mu, cov, cholesky(cov)) as float arrays or raise GenlabError."""
    try:
        m = np.atleast_1d(np.asarray(mu, dtype=float))
        c = np.asarray(cov, dtype=float)
    except (TypeError, ValueError):
        raise GenlabError(f"mean and covariance of {name} must be numbers") from None
    if m.ndim != 1:
        raise GenlabError(f"mean of {name} must be a 1-D vector; got shape {m.shape}")
    k = m.size
    if c.ndim == 0 and k == 1:
        c = c.reshape(1, 1)
    if c.shape != (k, k):
        raise GenlabError(
            f"covariance of {name} must be a {k}x{k} matrix (matching its mean); got shape {c.shape}")
    if not (np.isfinite(m).all() and np.isfinite(c).all()):
        raise GenlabError(f"mean and covariance of {name} must be finite numbers (no NaN or inf)")
    scale = max(1.0, float(np.abs(c).max()))
    if not np.allclose(c, c.T, rtol=0, atol=1e-9 * scale):
        raise GenlabError(
            f"covariance of {name} must be symmetric (Σ = Σᵀ); got {c.tolist()}")
    try:
        chol = np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        chol = None
    if chol is None or not np.all(np.diag(chol) > 1e-12 * math.sqrt(scale)):
        eig = np.linalg.eigvalsh(c)
        raise GenlabError(
            f"covariance of {name} must be positive definite (all eigenvalues > 0; in 2-D: "
            f"variances > 0 and correlation strictly between -1 and 1); smallest eigenvalue is {eig.min():.3g}")
    return m, c, chol


def kl_gaussian(mu_q, cov_q, mu_p, cov_p) -> float:
    """KL(q‖p) for q = N(mu_q, cov_q) and p = N(mu_p, cov_p) in k dimensions, in nats:

        KL = ½ [ tr(Σp⁻¹ Σq) + (μp − μq)ᵀ Σp⁻¹ (μp − μq) − k + ln(det Σp / det Σq) ].

    Covariances must be symmetric and positive definite (else ValueError).
    """
    mq, cq, lq = _check_mean_cov(mu_q, cov_q, "q")
    mp, cp, lp = _check_mean_cov(mu_p, cov_p, "p")
    if mq.size != mp.size:
        raise GenlabError(f"q and p must have the same dimension; got {mq.size} and {mp.size}")
    k = mq.size
    # Σp⁻¹ Σq via the Cholesky factor: tr(Lp⁻¹ Σq Lp⁻ᵀ) = ‖Lp⁻¹ Lq‖²_F.
    a = np.linalg.solve(lp, lq)
    trace = float(np.sum(a * a))
    d = np.linalg.solve(lp, mp - mq)
    maha = float(d @ d)
    logdet = 2.0 * float(np.sum(np.log(np.diag(lp))) - np.sum(np.log(np.diag(lq))))
    return max(0.5 * (trace + maha - k + logdet), 0.0)


def _objective(objective: str) -> str:
    text = str(objective).replace("‖", "||").replace(" ", "")
    if text not in OBJECTIVES:
        raise GenlabError(f"objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
    return text


def mean_field_gaussian(mu, cov, objective: str) -> tuple[np.ndarray, np.ndarray]:
    """The optimal fully factorized Gaussian q(z) = Πᵢ N(zᵢ | mᵢ, sᵢ²) for p = N(mu, cov).

    - ``"KL(q||p)"``: mᵢ = μᵢ, sᵢ² = 1/Λᵢᵢ with Λ = Σ⁻¹ (PRML eqs 10.11–10.14):
      too narrow, it fits inside p.
    - ``"KL(p||q)"``: mᵢ = μᵢ, sᵢ² = Σᵢᵢ (PRML eq 10.17, moment matching of
      the marginals): it covers p.

    Returns ``(means, variances)`` as float arrays.
    """
    obj = _objective(objective)
    m, c, _ = _check_mean_cov(mu, cov, "p")
    if obj == "KL(q||p)":
        variances = 1.0 / np.diag(np.linalg.inv(c))
    else:
        variances = np.diag(c).copy()
    return m.copy(), variances


def bivariate_cov(sd1: float, sd2: float, rho: float) -> np.ndarray:
    """[[σ₁², ρσ₁σ₂], [ρσ₁σ₂, σ₂²]] after checking σᵢ > 0 and −1 < ρ < 1."""
    for name, v in (("standard deviation σ1", sd1), ("standard deviation σ2", sd2)):
        check_number(name, v, lo=0, lo_open=True)
    if not (isinstance(rho, (int, float, np.floating)) and math.isfinite(rho) and -1 < rho < 1):
        raise GenlabError(
            f"correlation ρ must be strictly between -1 and 1 (at ±1 the covariance is singular, "
            f"not positive definite); got {rho!r}")
    off = rho * sd1 * sd2
    return np.array([[sd1 * sd1, off], [off, sd2 * sd2]], dtype=float)
