"""Mean-field Gaussian q against a Gaussian-mixture target p: both KL directions by Gauss-Hermite
quadrature, the moment-matching optimum of KL(p‖q), and gradient descent on q's parameters (the
Gaussian KL page's animation). Part of :mod:`genlab.divergences`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from genlab.divergences.closed_form import (
    _as_vector,
    _check_mean_cov,
    _objective,
    distribution_issues,
    kl_gaussian,
)
from genlab.errors import GenlabError, check_number


# --------------------------------------------------------------------------- #
# Mixture targets and mean-field KL against them
# --------------------------------------------------------------------------- #
@lru_cache(maxsize=8)
def _gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights with Σ w f(x) ≈ E[f(ε)], ε ~ N(0, 1)."""
    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / math.sqrt(2 * math.pi)


@lru_cache(maxsize=8)
def _gh_grid(n: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor-product Gauss–Hermite nodes (n^dim, dim) and weights for N(0, I)."""
    x, w = _gauss_hermite(n)
    grids = np.meshgrid(*([x] * dim), indexing="ij")
    wgrids = np.meshgrid(*([w] * dim), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    weights = np.prod(np.stack([g.ravel() for g in wgrids], axis=1), axis=1)
    return nodes, weights


@dataclass(frozen=True, eq=False)
class GaussianMixture:
    """p(z) = Σ_k π_k N(z | μ_k, Σ_k). One component = a plain Gaussian.

    Build with :meth:`create` (checks the inputs). ``weights`` (K,),
    ``means`` (K, D), ``covs`` (K, D, D).
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    precisions: np.ndarray
    log_norm: np.ndarray  # log π_k − ½ log det(2π Σ_k)
    chols: np.ndarray

    @classmethod
    def create(cls, weights: Sequence[float], means, covs) -> "GaussianMixture":
        w = _as_vector(weights, "mixture weights")
        issues = distribution_issues(w, "mixture weights")
        if issues:
            raise GenlabError("; ".join(i.message for i in issues))
        mu = np.asarray(means, dtype=float)
        if mu.ndim != 2 or mu.shape[0] != w.size:
            raise GenlabError(f"means must have shape (K, D) with K = {w.size} components; got {mu.shape}")
        cv = np.asarray(covs, dtype=float)
        if cv.shape != (w.size, mu.shape[1], mu.shape[1]):
            raise GenlabError(f"covs must have shape (K, D, D) = {(w.size, mu.shape[1], mu.shape[1])}; got {cv.shape}")
        chols, precs, log_norm = [], [], []
        for k in range(w.size):
            _, c, l = _check_mean_cov(mu[k], cv[k], f"p (component {k + 1})")
            chols.append(l)
            precs.append(np.linalg.inv(c))
            with np.errstate(divide="ignore"):
                log_norm.append(math.log(w[k]) if w[k] > 0 else -math.inf)
            log_norm[-1] -= float(np.sum(np.log(np.diag(l)))) + 0.5 * mu.shape[1] * math.log(2 * math.pi)
        return cls(w, mu, cv, np.array(precs), np.array(log_norm), np.array(chols))

    @classmethod
    def gaussian(cls, mu, cov) -> "GaussianMixture":
        mu = np.atleast_1d(np.asarray(mu, dtype=float))
        return cls.create([1.0], mu[None, :], np.asarray(cov, dtype=float)[None, :, :])

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def is_gaussian(self) -> bool:
        return self.weights.size == 1

    def _component_logs(self, z: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per component k: log(π_k N_k(z)) of shape (...) and Λ_k(z − μ_k) of shape (..., D)."""
        logs, sols = [], []
        for k in range(self.weights.size):
            diff = z - self.means[k]
            sol = diff @ self.precisions[k]  # precisions are symmetric
            logs.append(self.log_norm[k] - 0.5 * np.sum(diff * sol, axis=-1))
            sols.append(sol)
        return logs, sols

    def logpdf(self, z) -> np.ndarray:
        """log p(z) for points z of shape (..., D)."""
        logs, _ = self._component_logs(np.asarray(z, dtype=float))
        if len(logs) == 1:
            return logs[0]
        top = np.maximum.reduce(logs)
        return top + np.log(sum(np.exp(l - top) for l in logs))

    def pdf(self, z) -> np.ndarray:
        return np.exp(self.logpdf(z))

    def grad_logpdf(self, z) -> tuple[np.ndarray, np.ndarray]:
        """(log p(z), ∇ log p(z)) for z of shape (..., D)."""
        logs, sols = self._component_logs(np.asarray(z, dtype=float))
        top = np.maximum.reduce(logs) if len(logs) > 1 else logs[0]
        exps = [np.exp(l - top) for l in logs]
        total = sum(exps)
        grad = -sum(e[..., None] * sol for e, sol in zip(exps, sols)) / total[..., None]
        return top + np.log(total), grad

    def mean(self) -> np.ndarray:
        return self.weights @ self.means

    def marginal_variances(self) -> np.ndarray:
        """Var_p(zᵢ) per dimension (law of total variance)."""
        m = self.mean()
        second = np.einsum("k,kii->i", self.weights, self.covs) + self.weights @ (self.means ** 2)
        return second - m ** 2

    def entropy(self, n_nodes: int = 32) -> float:
        """H(p) = −E_p[log p] in nats: closed form for one Gaussian, else Gauss–Hermite quadrature
        (``n_nodes`` per dimension and component, exact for polynomials of degree < 2·n_nodes)."""
        d = self.dim
        if self.is_gaussian:
            return 0.5 * d * (1 + math.log(2 * math.pi)) + float(np.sum(np.log(np.diag(self.chols[0]))))
        nodes, w = _gh_grid(n_nodes, d)
        total = 0.0
        for k in range(self.weights.size):
            if self.weights[k] == 0:
                continue
            z = self.means[k] + nodes @ self.chols[k].T
            total -= self.weights[k] * float(w @ self.logpdf(z))
        return total


def _check_q(target: GaussianMixture, means, stds) -> tuple[np.ndarray, np.ndarray]:
    m = np.atleast_1d(np.asarray(means, dtype=float))
    s = np.atleast_1d(np.asarray(stds, dtype=float))
    if m.shape != (target.dim,) or s.shape != (target.dim,):
        raise GenlabError(f"q's means and standard deviations must each have {target.dim} entries")
    if not (np.isfinite(m).all() and np.isfinite(s).all()) or (s <= 0).any():
        raise GenlabError("q's means must be finite and its standard deviations finite and > 0")
    return m, s


def kl_mean_field(target: GaussianMixture, means, stds, objective: str, n_nodes: int = 64) -> float:
    """KL between q(z) = Πᵢ N(zᵢ | meansᵢ, stdsᵢ²) and ``target`` p, in nats.

    ``objective`` "KL(q||p)" or "KL(p||q)". For a Gaussian p both are the
    closed form :func:`kl_gaussian`. For a mixture there is no closed form:

    - KL(q‖p) = −H(q) − E_q[log p], with E_q[log p] by Gauss–Hermite quadrature
      on q's own grid of ``n_nodes`` points per dimension;
    - KL(p‖q) = −H(p) − E_p[log q], where E_p[log q] is exact (log q is
      quadratic, so only p's means and variances enter) and H(p) uses
      quadrature on each component.
    """
    obj = _objective(objective)
    m, s = _check_q(target, means, stds)
    if target.is_gaussian:
        cq = np.diag(s ** 2)
        if obj == "KL(q||p)":
            return kl_gaussian(m, cq, target.means[0], target.covs[0])
        return kl_gaussian(target.means[0], target.covs[0], m, cq)
    d = target.dim
    if obj == "KL(q||p)":
        nodes, w = _gh_grid(n_nodes, d)
        neg_entropy_q = -(0.5 * d * (1 + math.log(2 * math.pi)) + float(np.sum(np.log(s))))
        return max(neg_entropy_q - float(w @ target.logpdf(m + nodes * s)), 0.0)
    cross = _cross_entropy_p_q(target.mean(), target.marginal_variances(), m, s)
    return max(cross - target.entropy(n_nodes), 0.0)


def _cross_entropy_p_q(mean_p, var_p, m, s) -> float:
    """−E_p[log q] for factorized Gaussian q; needs only p's means and marginal variances."""
    return float(np.sum(0.5 * np.log(2 * math.pi * s ** 2) + (var_p + (mean_p - m) ** 2) / (2 * s ** 2)))


def moment_match(target: GaussianMixture) -> tuple[np.ndarray, np.ndarray]:
    """argmin over factorized Gaussians q of KL(p‖q): q's means and variances are p's marginal
    means and variances (exact for any p, including mixtures). Returns (means, variances)."""
    return target.mean(), target.marginal_variances()


# --------------------------------------------------------------------------- #
# The numeric route: gradient descent on q's parameters
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class DescentPath:
    """Iterates of :func:`mean_field_descent`; row t is q after t steps.

    ``means``/``stds`` have shape (T+1, D) (or (T+1, B, D) for a batch of
    starts), ``kl`` the objective value at each iterate, ``converged`` whether
    the last step moved less than the tolerance.
    """

    means: np.ndarray
    stds: np.ndarray
    kl: np.ndarray
    converged: np.ndarray | bool
    objective: str

    @property
    def steps(self) -> int:
        return self.means.shape[0] - 1


def _mixture_qp_value_grad(target: GaussianMixture, m: np.ndarray, s: np.ndarray, nodes, w):
    """KL(q‖p) for a mixture p (B,), and its gradients wrt m and log s (B, D), by quadrature.

    KL(q‖p) = −H(q) − E_q[log p]; with z = m + s·ε on Gauss–Hermite nodes ε,
    ∂/∂m E_q[log p] = E[∇log p(z)] and ∂/∂log sᵢ E_q[log p] = E[∂ᵢlog p(z)·εᵢ·sᵢ].
    """
    d = target.dim
    z = m[:, None, :] + s[:, None, :] * nodes[None, :, :]  # (B, N, D)
    logp, grad = target.grad_logpdf(z)
    value = -(0.5 * d * (1 + math.log(2 * math.pi)) + np.sum(np.log(s), axis=-1)) - logp @ w
    grad_m = -np.einsum("n,bnd->bd", w, grad)
    grad_ls = -1.0 - s * np.einsum("n,bnd,nd->bd", w, grad, nodes)
    return value, grad_m, grad_ls


def _descent_scalar(target: GaussianMixture, obj: str, m0: list[float], ls0: list[float],
                    steps: int, lr: float, tol: float):
    """Plain-Python descent (fast for small D) for the cases with closed-form gradients:
    a Gaussian p with KL(q‖p), and any p with KL(p‖q) (which only sees p's means and variances)."""
    d = target.dim
    two_pi = math.log(2 * math.pi)
    if obj == "KL(p||q)":
        mean_p = [float(v) for v in target.mean()]
        var_p = [float(v) for v in target.marginal_variances()]
        const = 0.5 * d * two_pi - target.entropy()

        def value_grad(m, ls):
            val, gm, gls = const, [], []
            for i in range(d):
                s2 = math.exp(2 * ls[i])
                r = (var_p[i] + (mean_p[i] - m[i]) ** 2) / s2
                val += ls[i] + 0.5 * r
                gm.append((m[i] - mean_p[i]) / s2)
                gls.append(1.0 - r)
            return val, gm, gls
    else:
        lam = target.precisions[0].tolist()
        mu = target.means[0].tolist()
        # KL(q‖p) = ½[Σᵢ Λᵢᵢ sᵢ² + (m−μ)ᵀΛ(m−μ) − d + log det Σ] − Σᵢ log sᵢ
        const = 0.5 * (-d) + (-float(target.log_norm[0]) - 0.5 * d * two_pi)

        def value_grad(m, ls):
            diff = [m[i] - mu[i] for i in range(d)]
            gm = [sum(lam[i][j] * diff[j] for j in range(d)) for i in range(d)]
            val, gls = const, []
            for i in range(d):
                t = lam[i][i] * math.exp(2 * ls[i])
                val += 0.5 * (t + diff[i] * gm[i]) - ls[i]
                gls.append(t - 1.0)
            return val, gm, gls

    m, ls = list(m0), list(ls0)
    ms, lss, vals = [tuple(m)], [tuple(ls)], []
    lo, hi = math.log(1e-4), math.log(1e4)
    converged = False
    for _ in range(steps):
        val, gm, gls = value_grad(m, ls)
        vals.append(val)
        biggest = 0.0
        for i in range(d):
            dm = min(max(lr * math.exp(2 * ls[i]) * gm[i], -0.5), 0.5)
            dls = min(max(lr * 0.5 * gls[i], -0.5), 0.5)
            m[i] -= dm
            ls[i] = min(max(ls[i] - dls, lo), hi)
            biggest = max(biggest, abs(dm), abs(dls))
        ms.append(tuple(m))
        lss.append(tuple(ls))
        if biggest < tol:
            converged = True
            break
    vals.append(value_grad(m, ls)[0])
    return np.array(ms), np.exp(np.array(lss)), np.maximum(np.array(vals), 0.0), converged


def mean_field_descent(target: GaussianMixture, objective: str, init_means, init_stds,
                       steps: int = 3000, lr: float = 0.5, tol: float = 1e-9,
                       n_nodes: int = 12) -> DescentPath:
    """Minimize ``objective`` over factorized Gaussians q by gradient descent.

    Parameters are q's means m and log standard deviations log s; each step is
    the gradient scaled by the inverse Fisher information of q (sᵢ² for mᵢ,
    ½ for log sᵢ — the *natural* gradient, which makes the step size
    scale-free):  m ← m − lr·s²·∂KL/∂m,  log s ← log s − lr·½·∂KL/∂log s.
    A single step is capped at 0.5 in every parameter.

    ``init_means``/``init_stds`` of shape (D,) or (B, D) (B starts at once).
    For a mixture p with KL(q‖p), E_q[log p] and its gradient use Gauss–Hermite
    quadrature with ``n_nodes`` per dimension. Stops after ``steps`` steps or
    when no parameter moves more than ``tol``.
    """
    obj = _objective(objective)
    if not isinstance(target, GaussianMixture):
        raise GenlabError("target must be a GaussianMixture (use GaussianMixture.gaussian(mu, cov))")
    m0 = np.asarray(init_means, dtype=float)
    s0 = np.asarray(init_stds, dtype=float)
    single = m0.ndim == 1
    m = np.atleast_2d(m0).copy()
    ls = np.log(np.atleast_2d(s0)).copy() if (s0 > 0).all() else None
    if ls is None or m.shape != ls.shape or m.shape[1] != target.dim or not np.isfinite(m).all() \
            or not np.isfinite(ls).all():
        raise GenlabError(
            f"start of the descent must give {target.dim} finite means and {target.dim} standard deviations > 0")
    steps = check_number("steps", steps, lo=0, integer=True)
    lr = check_number("lr", lr, lo=0, lo_open=True)
    if target.is_gaussian or obj == "KL(p||q)":
        runs = [_descent_scalar(target, obj, m[b].tolist(), ls[b].tolist(), steps, lr, tol)
                for b in range(m.shape[0])]
        if single:
            return DescentPath(*runs[0], obj)
        n = max(r[0].shape[0] for r in runs)

        def pad(a):  # a finished run stays at its last iterate
            return np.concatenate([a, np.repeat(a[-1:], n - a.shape[0], axis=0)])

        return DescentPath(np.stack([pad(r[0]) for r in runs], axis=1),
                           np.stack([pad(r[1]) for r in runs], axis=1),
                           np.stack([pad(r[2]) for r in runs], axis=1),
                           np.array([r[3] for r in runs]), obj)
    nodes, w = _gh_grid(n_nodes, target.dim)
    ms, lss, vals = [m.copy()], [ls.copy()], []
    converged = np.zeros(m.shape[0], dtype=bool)
    lo, hi = math.log(1e-4), math.log(1e4)
    for _ in range(steps):
        s = np.exp(ls)
        value, gm, gls = _mixture_qp_value_grad(target, m, s, nodes, w)
        vals.append(value)
        dm = np.clip(lr * s ** 2 * gm, -0.5, 0.5)
        dls = np.clip(lr * 0.5 * gls, -0.5, 0.5)
        m = m - dm
        ls = np.clip(ls - dls, lo, hi)
        ms.append(m)
        lss.append(ls)
        converged = np.maximum(np.abs(dm).max(axis=1), np.abs(dls).max(axis=1)) < tol
        if converged.all():
            break
    vals.append(_mixture_qp_value_grad(target, m, np.exp(ls), nodes, w)[0])
    means_path = np.array(ms)
    stds_path = np.exp(np.array(lss))
    kl = np.maximum(np.array(vals), 0.0)
    if single:
        return DescentPath(means_path[:, 0], stds_path[:, 0], kl[:, 0], bool(converged[0]), obj)
    return DescentPath(means_path, stds_path, kl, converged, obj)
