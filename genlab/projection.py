"""2D projections of latent codes (for the latent-space pages), with an in-memory cache.

* ``K == 2``: the latents are shown as they are (``raw``), whatever ``method`` says.
* ``pca``: ``sklearn.decomposition.PCA(n_components=2, random_state=seed)``: the orthogonal
  projection ``Y = (Z - mean(Z)) W`` onto the two directions of largest variance.
* ``tsne``: ``sklearn.manifold.TSNE`` (Barnes-Hut, ``init="pca"``, ``learning_rate="auto"``):
  minimises ``KL(P || Q)`` between Gaussian neighbour affinities ``P`` (bandwidths set by the
  perplexity) in latent space and Student-t affinities ``Q`` in the plane. Tuned for speed on
  ~2000 points (400 iterations of which 250 early exaggeration, ``angle=0.7``): about 3 s of CPU
  time for 1797 digits (sklearn's defaults, 1000 iterations and angle 0.5, take ~4x longer).

Results are cached in an LRU keyed by a hash of the array bytes + shape + dtype + parameters, so
re-rendering a page with the same latents is instant; :func:`projection_cache_info` reports it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from genlab.errors import GenlabError, check_number

__all__ = ["PROJECTION_METHODS", "CacheInfo", "clear_projection_cache", "project", "projection_cache_info"]

PROJECTION_METHODS = ("pca", "tsne")
CACHE_SIZE = 32
MAX_POINTS = 20_000
TSNE_MAX_ITER = 400
TSNE_ANGLE = 0.7


class CacheInfo(NamedTuple):
    """Like ``functools.lru_cache``'s: ``hits``, ``misses``, ``maxsize``, ``currsize``."""

    hits: int
    misses: int
    maxsize: int
    currsize: int


_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_stats = {"hits": 0, "misses": 0}
_lock = threading.Lock()


def _as_latents(latents) -> np.ndarray:
    try:
        import torch

        if isinstance(latents, torch.Tensor):
            latents = latents.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a hard dependency of genlab
        pass
    try:
        array = np.asarray(latents, dtype=np.float32)
    except (TypeError, ValueError):
        raise GenlabError("latents must be a numeric array of shape (N, K)") from None
    if array.ndim != 2:
        raise GenlabError(f"latents must have shape (N, K) with K >= 2 (got shape {array.shape})")
    n, k = array.shape
    if k < 2:
        raise GenlabError(f"latents need at least 2 dimensions to show in a plane (got K = {k})")
    if n < 2:
        raise GenlabError(f"need at least 2 latent codes to project (got {n})")
    if n > MAX_POINTS:
        raise GenlabError(f"too many points to project ({n}); allowed: 2 to {MAX_POINTS}")
    if not np.isfinite(array).all():
        raise GenlabError("latents contain NaN or infinity; all values must be finite")
    return np.ascontiguousarray(array)


def _key(array: np.ndarray, method: str, seed: int, perplexity: float) -> str:
    digest = hashlib.blake2b(array.tobytes(), digest_size=16)
    digest.update(f"{array.shape}|{array.dtype}|{method}|{seed}|{perplexity!r}".encode())
    return digest.hexdigest()


def project(latents, method: str = "pca", seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """Project latent codes ``(N, K)`` to the plane: returns ``(N, 2)`` float32.

    Args:
        latents: numpy array or torch tensor ``(N, K)``, ``K >= 2``, ``2 <= N <= 20000``.
        method: ``"pca"`` or ``"tsne"``; ignored when ``K == 2`` (the latents are returned as
            they are: a 2D latent space needs no projection).
        seed: random state of PCA's solver / t-SNE's optimisation (same seed, same picture).
        perplexity: t-SNE's effective number of neighbours, ``0 < perplexity < N``.

    PCA: ``Y = (Z - mean(Z)) W`` with ``W`` the top-2 eigenvectors of the covariance of ``Z``.
    t-SNE: ``argmin_Y KL(P || Q)``, ``p_ij`` Gaussian affinities with per-point bandwidths set so
    that ``2^{H(P_i)} = perplexity``, ``q_ij ∝ (1 + ||y_i - y_j||^2)^{-1}``.

    Raises GenlabError for a bad shape, non-finite values, an unknown method or a perplexity
    outside ``(0, N)``. Results are cached (see :func:`projection_cache_info`); a copy is returned.
    """
    if method not in PROJECTION_METHODS:
        raise GenlabError(f"unknown projection method {method!r}; allowed: {', '.join(PROJECTION_METHODS)}")
    seed = check_number("seed", seed, lo=0, hi=2**32 - 1, integer=True)
    array = _as_latents(latents)
    n, k = array.shape
    if k == 2:
        return array.copy()
    if method == "tsne":
        try:
            perplexity = float(perplexity)
        except (TypeError, ValueError):
            raise GenlabError(f"perplexity must be a number (got {perplexity!r})") from None
        if not np.isfinite(perplexity) or not 0 < perplexity < n:
            raise GenlabError(f"perplexity must be > 0 and < the number of points N = {n} (got {perplexity}); "
                              "typical values are 5 to 50")
    else:
        perplexity = 0.0  # unused by PCA: do not split the cache on it
    key = _key(array, method, seed, perplexity)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            _stats["hits"] += 1
            return _cache[key].copy()
        _stats["misses"] += 1
    result = _pca(array, seed) if method == "pca" else _tsne(array, seed, perplexity)
    result = np.ascontiguousarray(result, dtype=np.float32)
    with _lock:
        _cache[key] = result
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result.copy()


def _pca(array: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(array.astype(np.float64))


def _tsne(array: np.ndarray, seed: int, perplexity: float) -> np.ndarray:
    from sklearn.manifold import TSNE

    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=seed,
                max_iter=TSNE_MAX_ITER, angle=TSNE_ANGLE, n_jobs=1)
    return tsne.fit_transform(array.astype(np.float64))


def projection_cache_info() -> CacheInfo:
    """Hits, misses, maximum and current size of the projection cache."""
    with _lock:
        return CacheInfo(_stats["hits"], _stats["misses"], CACHE_SIZE, len(_cache))


def clear_projection_cache() -> None:
    """Empty the projection cache and reset its counters."""
    with _lock:
        _cache.clear()
        _stats["hits"] = _stats["misses"] = 0
