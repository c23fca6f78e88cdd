"""Latent-space utilities for the lesson pages (pure functions; no streamlit).

Every function that needs a model takes either an ``AutoencoderTrainer`` or an ``Autoencoder``
and works on its encoder means ``mu(x)`` (the AE's codes) and decoder means ``sigmoid(decoder(z))``.
Images come back as CPU tensors ``(N, C, H, W)`` in [0, 1].

* :func:`encode_dataset` -- latent means of many images (scatter plots of the latent plane),
* :func:`latent_grid` -- decode a regular grid over the latent plane (the "manifold" figure of
  the Keras VAE example / Kingma & Welling 2013, fig. 4),
* :func:`interpolate` -- decode the straight line between two images' latent means,
* :func:`traverse` -- vary one latent coordinate from a base point,
* :func:`gradient_variance_experiment` -- score-function (REINFORCE) vs reparameterization
  gradient estimates of ``d/d(mu, sigma) E_{z ~ N(mu, sigma^2)}[f(z)]`` (why the VAE samples
  ``z = mu + sigma * eps``).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from genlab.errors import GenlabError, check_number, check_range
from genlab.models.autoencoder import Autoencoder

GRID_SPACINGS = ("linear", "quantile")
TEST_FUNCTIONS = ("square", "cos", "sigmoid")
_BATCH = 1024


def _model(source) -> Autoencoder:
    """The Autoencoder of a trainer (``.model``) or the model itself."""
    model = getattr(source, "model", source)
    if not isinstance(model, Autoencoder):
        raise GenlabError("expected an autoencoder/VAE trainer or model (ae or vae)")
    return model


def _images(model: Autoencoder, x) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    shape = tuple(model.config.image_shape)
    if not isinstance(x, torch.Tensor):
        raise GenlabError("images must be a tensor or numpy array")
    if x.dim() == 3 and tuple(x.shape) == shape:
        x = x.unsqueeze(0)
    elif x.dim() == 2 and x.shape[1] == math.prod(shape):
        x = x.reshape(-1, *shape)
    elif x.dim() == 1 and x.shape[0] == math.prod(shape):
        x = x.reshape(1, *shape)
    if x.dim() != 4 or tuple(x.shape[1:]) != shape:
        raise GenlabError(f"images must have shape (N, {', '.join(map(str, shape))}) (got {tuple(x.shape)})")
    return x.float()


def _device(model: Autoencoder) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def _encode(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    was_training = model.training
    model.eval()
    device = _device(model)
    means = [model.encode(chunk.to(device))[0].cpu() for chunk in x.split(_BATCH)]
    model.train(was_training)
    return torch.cat(means)


@torch.no_grad()
def _decode(model: Autoencoder, z: torch.Tensor) -> torch.Tensor:
    was_training = model.training
    model.eval()
    device = _device(model)
    images = [torch.sigmoid(model.decode(chunk.float().to(device))).cpu() for chunk in z.split(_BATCH)]
    model.train(was_training)
    return torch.cat(images)


def encode_dataset(source, images) -> torch.Tensor:
    """Encoder means mu(x) of ``images`` (N, C, H, W) or (N, C*H*W) -> (N, K)."""
    model = _model(source)
    return _encode(model, _images(model, images))


def grid_values(extent: float = 3.0, n: int = 15, spacing: str = "linear") -> torch.Tensor:
    """The n coordinates of one grid axis, increasing.

    ``linear``: ``linspace(-extent, extent, n)``. ``quantile``: equally spaced in probability
    under N(0, 1) between the end points +-extent, i.e. ``Phi^{-1}(linspace(Phi(-e), Phi(e), n))``
    (the Keras VAE manifold uses ``norm.ppf(linspace(0.05, 0.95, n))``, which is extent 1.645):
    dense near 0 where most prior mass is.
    """
    check_range("extent", extent, 0, 100, low_inclusive=False)
    n = check_number("grid size n", n, lo=2, hi=50, integer=True)
    if spacing not in GRID_SPACINGS:
        raise GenlabError(f"unknown grid spacing {spacing!r}; allowed: {', '.join(GRID_SPACINGS)}")
    if spacing == "linear":
        return torch.linspace(-extent, extent, int(n), dtype=torch.float64).float()
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64), 1.0)
    low = normal.cdf(torch.tensor(-float(extent), dtype=torch.float64))
    probs = torch.linspace(float(low), float(1 - low), int(n), dtype=torch.float64)
    return normal.icdf(probs).float()


def latent_grid_points(extent: float = 3.0, n: int = 15, spacing: str = "linear") -> torch.Tensor:
    """The (n*n, 2) grid points in image order: point ``i*n + j`` (row i from the top, column j)
    is ``(v[j], v[n-1-i])``, so z_1 grows to the right and z_2 grows upwards."""
    v = grid_values(extent, n, spacing)
    rows = v.flip(0)
    return torch.stack([v.repeat(len(v)), rows.repeat_interleave(len(v))], dim=1)  # (n*n, 2)


def latent_grid(source, extent: float = 3.0, n: int = 15, spacing: str = "linear",
                dims: tuple[int, int] = (0, 1), base_z=None) -> torch.Tensor:
    """Decode a regular n x n grid over the latent plane -> images (n*n, C, H, W), row-major with
    z_1 (``dims[0]``) growing to the right and z_2 (``dims[1]``) upwards (see
    :func:`latent_grid_points`; spacing ``linear`` or ``quantile`` as in :func:`grid_values`).

    For K = 2 this is the whole latent space; for K > 2 the other coordinates are those of
    ``base_z`` (default 0, the prior mean). The VAE's grid over +-3 covers where its codes live;
    the AE's codes have an arbitrary scale, so the same grid may show only a few digits.
    """
    model = _model(source)
    K = model.config.latent_dim
    if K < 2:
        raise GenlabError("latent_grid needs latent_dim >= 2; use traverse() for a one-dimensional latent space")
    d0, d1 = dims
    for d in dims:
        if not 0 <= d < K:
            raise GenlabError(f"latent dimension {d} does not exist; allowed: 0 to {K - 1}")
    if d0 == d1:
        raise GenlabError("latent_grid needs two different dimensions")
    points = latent_grid_points(extent, n, spacing)
    z = _base(base_z, K).repeat(len(points), 1)                                   # (n*n, K)
    z[:, d0], z[:, d1] = points[:, 0], points[:, 1]
    return _decode(model, z)


def _base(base_z, K: int) -> torch.Tensor:
    if base_z is None:
        return torch.zeros(1, K)
    z = torch.as_tensor(base_z, dtype=torch.float32).reshape(-1)
    if z.numel() != K:
        raise GenlabError(f"base_z must have {K} values (the latent dimension) (got {z.numel()})")
    return z.reshape(1, K).clone()


def interpolate(source, image_a, image_b, steps: int = 10) -> torch.Tensor:
    """Decode ``z_t = (1 - t) mu(a) + t mu(b)``, t = 0..1 in ``steps`` steps -> (steps, C, H, W)."""
    model = _model(source)
    steps = check_number("steps", steps, lo=2, hi=100, integer=True)
    a, b = _images(model, image_a), _images(model, image_b)
    if len(a) != 1 or len(b) != 1:
        raise GenlabError("interpolate takes one image a and one image b")
    mu = _encode(model, torch.cat([a, b]))                                         # (2, K)
    t = torch.linspace(0, 1, int(steps)).unsqueeze(1)                              # (steps, 1)
    return _decode(model, (1 - t) * mu[0] + t * mu[1])


def traverse(source, base_z, dim: int, values) -> torch.Tensor:
    """Decode ``base_z`` with coordinate ``dim`` set to each of ``values`` -> (len(values), C, H, W)."""
    model = _model(source)
    K = model.config.latent_dim
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 0 <= dim < K:
        raise GenlabError(f"latent dimension {dim!r} does not exist; allowed: 0 to {K - 1}")
    values = torch.as_tensor(values, dtype=torch.float32).reshape(-1)
    if not 1 <= values.numel() <= 1000 or not torch.isfinite(values).all():
        raise GenlabError("values must be 1 to 1000 finite numbers")
    z = _base(base_z, K).repeat(values.numel(), 1)                                # (V, K)
    z[:, dim] = values
    return _decode(model, z)


# --------------------------------------------------------------------------- gradient estimators


def _test_function(f) -> tuple[Callable[[torch.Tensor], torch.Tensor], str]:
    if callable(f):
        return f, getattr(f, "__name__", "f")
    if f == "square":
        return (lambda z: z * z), "z^2"
    if f == "cos":
        return torch.cos, "cos z"
    if f == "sigmoid":
        return torch.sigmoid, "sigmoid z"
    raise GenlabError(f"unknown test function {f!r}; allowed: {', '.join(TEST_FUNCTIONS)} or a callable")


def true_gradient(mu: float, sigma: float, f) -> tuple[float, float]:
    """Exact ``(d/dmu, d/dsigma) E_{z ~ N(mu, sigma^2)}[f(z)]``.

    Closed form for ``square`` (E = mu^2 + sigma^2: (2 mu, 2 sigma)) and ``cos``
    (E = cos(mu) exp(-sigma^2/2): (-sin(mu) e^{-sigma^2/2}, -sigma cos(mu) e^{-sigma^2/2}));
    otherwise Gauss-Hermite quadrature (80 nodes) of E[f'(z)] and E[f'(z) eps], z = mu + sigma eps.
    """
    if f == "square":
        return 2 * mu, 2 * sigma
    if f == "cos":
        damp = math.exp(-sigma**2 / 2)
        return -math.sin(mu) * damp, -sigma * math.cos(mu) * damp
    fn, _ = _test_function(f)
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)      # for the weight exp(-x^2/2)
    eps = torch.tensor(nodes, dtype=torch.float64)
    w = torch.tensor(weights / math.sqrt(2 * math.pi), dtype=torch.float64)
    z = (mu + sigma * eps).requires_grad_(True)
    (g,) = torch.autograd.grad(fn(z).sum(), z)                   # f'(z) at the nodes
    return float((w * g).sum()), float((w * g * eps).sum())


def gradient_variance_experiment(mu: float, sigma: float, f="square",
                                 sample_counts=(1, 2, 5, 10, 50, 100), repeats: int = 200,
                                 seed: int = 0) -> list[dict]:
    """Compare two Monte-Carlo estimators of the gradient of ``E_{z ~ N(mu, sigma^2)}[f(z)]``.

    With S samples ``z_s = mu + sigma eps_s``, eps_s ~ N(0, 1):

    * score function / REINFORCE (Williams 1992): ``1/S sum_s f(z_s) d/dtheta log N(z_s; mu, sigma^2)``
      with ``d/dmu log q = (z - mu) / sigma^2`` and ``d/dsigma log q = ((z - mu)^2 - sigma^2) / sigma^3``,
    * reparameterization (Kingma & Welling 2013, sec. 2.4): ``1/S sum_s d/dtheta f(mu + sigma eps_s)``,
      i.e. ``f'(z_s)`` for mu and ``f'(z_s) eps_s`` for sigma.

    Both are unbiased; each is repeated ``repeats`` times per S (the two share their eps draws).
    ``f``: ``"square"`` (z^2), ``"cos"``, ``"sigmoid"`` (a decoder-like squashing) or a callable
    on float64 tensors (elementwise, differentiable). Returns one row per (S, estimator)::

        {"samples": S, "estimator": "score function" | "reparameterization",
         "grad_mu_mean", "grad_mu_var", "grad_sigma_mean", "grad_sigma_var",
         "true_grad_mu", "true_grad_sigma", "function"}

    (means and variances over the repeats; the variance of an S-sample average falls like 1/S.)
    The reparameterization estimator usually has (much) lower variance -- for ``square`` and
    ``sigmoid`` at any mu, sigma, and the more so the larger |E f| -- but it is not a theorem: for a
    bounded, oscillating f such as ``cos`` at mu = 0.5, sigma = 1 the score function is lower for mu.
    """
    check_range("mu", mu, -100, 100)
    check_range("sigma", sigma, 0, 100, low_inclusive=False)
    fn, label = _test_function(f)
    try:
        counts = [int(s) for s in sample_counts]
        bad = not counts or any(s != s_in or not 1 <= s <= 10_000 for s, s_in in zip(counts, sample_counts))
    except (TypeError, ValueError):
        bad = True
    if bad:
        raise GenlabError(f"sample_counts must be whole numbers from 1 to 10000 (got {sample_counts!r})")
    repeats = check_number("repeats", repeats, lo=2, hi=100_000, integer=True)
    mu, sigma = float(mu), float(sigma)
    true_mu, true_sigma = true_gradient(mu, sigma, f)
    generator = torch.Generator().manual_seed(int(seed))
    rows = []
    for S in counts:
        eps = torch.randn(int(repeats), S, generator=generator, dtype=torch.float64)  # (R, S)
        z = (mu + sigma * eps).requires_grad_(True)
        fz = fn(z)
        (df,) = torch.autograd.grad(fz.sum(), z)                                   # f'(z_s)
        fz = fz.detach()
        estimates = {
            "score function": (
                (fz * eps / sigma).mean(1),                     # f(z) (z - mu) / sigma^2
                (fz * (eps**2 - 1) / sigma).mean(1),            # f(z) ((z - mu)^2 - sigma^2) / sigma^3
            ),
            "reparameterization": ((df).mean(1), (df * eps).mean(1)),
        }
        for name, (g_mu, g_sigma) in estimates.items():
            rows.append({
                "samples": S,
                "estimator": name,
                "grad_mu_mean": g_mu.mean().item(),
                "grad_mu_var": g_mu.var().item(),
                "grad_sigma_mean": g_sigma.mean().item(),
                "grad_sigma_var": g_sigma.var().item(),
                "true_grad_mu": true_mu,
                "true_grad_sigma": true_sigma,
                "function": label,
            })
    return rows
