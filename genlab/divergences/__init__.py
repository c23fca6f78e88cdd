"""KL divergences, the lecture's way (discrete, Gaussian, mean-field Gaussian).

Everything here is plain numpy, cheap enough to run on every dashboard rerun.
Notation follows the lecture and Bishop's PRML: ``q`` is the approximating
distribution and ``p`` the target, and

    KL(q‖p) = E_q[log q(x)/p(x)] = Σ_x q(x) log(q(x)/p(x)).

Public API
----------
- :func:`kl_discrete` (and :func:`kl_terms`, :func:`distribution_issues`,
  :func:`effect_in_words`): discrete KL with the lecture's conventions
  0·log 0 = 0 and q·log(q/0) = ∞.
- :func:`kl_gaussian`: closed form for two multivariate normals.
- :func:`mean_field_gaussian`: the optimal fully factorized Gaussian q for a
  Gaussian p under KL(q‖p) or KL(p‖q) (PRML §10.1.2).
- :func:`mean_field_descent`: the numeric route to the same optimum (gradient
  descent on q's means and log standard deviations), also for a mixture p.
- :class:`GaussianMixture`, :func:`kl_mean_field`, :func:`moment_match`: the
  target p as a mixture of Gaussians (one component = a plain Gaussian) and the
  two KL values of a factorized Gaussian q against it.

Invalid input raises :class:`genlab.errors.GenlabError` (a ``ValueError``) whose
message says which rule broke and what is allowed.

The package: :mod:`~genlab.divergences.closed_form` (discrete and Gaussian closed forms) and
:mod:`~genlab.divergences.mixture` (mixture targets, quadrature and gradient descent).
"""

from genlab.divergences.closed_form import (
    OBJECTIVES,
    SUM_TOLERANCE,
    ProbabilityIssue,
    bivariate_cov,
    distribution_issues,
    effect_in_words,
    kl_discrete,
    kl_gaussian,
    kl_terms,
    mean_field_gaussian,
)
from genlab.divergences.mixture import DescentPath, GaussianMixture, kl_mean_field, mean_field_descent, moment_match

__all__ = [
    "SUM_TOLERANCE",
    "OBJECTIVES",
    "ProbabilityIssue",
    "distribution_issues",
    "kl_discrete",
    "kl_terms",
    "effect_in_words",
    "kl_gaussian",
    "mean_field_gaussian",
    "GaussianMixture",
    "kl_mean_field",
    "moment_match",
    "DescentPath",
    "mean_field_descent",
    "bivariate_cov",
]
