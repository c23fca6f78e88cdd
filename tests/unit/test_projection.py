"""Unit tests for genlab.projection (PCA / t-SNE of latents, cached)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab import projection
from genlab.errors import GenlabError

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def fresh_cache():
    projection.clear_projection_cache()
    yield
    projection.clear_projection_cache()


def _blobs(n_per: int = 40, k: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.eye(k)[:3] * 10.0
    return np.concatenate([c + rng.standard_normal((n_per, k)) for c in centres]).astype(np.float32)


def test_two_dimensional_latents_are_returned_raw():
    z = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    for method in projection.PROJECTION_METHODS:
        out = projection.project(z, method=method)
        assert out.shape == (20, 2)
        np.testing.assert_array_equal(out, z)
        assert out is not z


def test_pca_shape_and_variance_order():
    z = _blobs()
    out = projection.project(z, "pca")
    assert out.shape == (z.shape[0], 2) and out.dtype == np.float32
    assert out[:, 0].var() >= out[:, 1].var()
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)
    # torch input gives the same result
    np.testing.assert_allclose(projection.project(torch.from_numpy(z), "pca"), out)


def test_tsne_shape_deterministic_and_separates_blobs():
    z = _blobs(n_per=30)
    out = projection.project(z, "tsne", seed=0, perplexity=10.0)
    assert out.shape == (90, 2)
    assert np.isfinite(out).all()
    projection.clear_projection_cache()
    again = projection.project(z, "tsne", seed=0, perplexity=10.0)
    np.testing.assert_allclose(again, out, rtol=1e-5, atol=1e-5)
    # blobs stay apart: each point's nearest neighbour is from its own blob
    d = ((out[:, None] - out[None]) ** 2).sum(-1) + np.eye(90) * 1e9
    labels = np.repeat(np.arange(3), 30)
    assert (labels[d.argmin(1)] == labels).mean() > 0.95


def test_cache_hits_and_returns_identical_copies():
    z = _blobs()
    first = projection.project(z, "pca")
    info = projection.projection_cache_info()
    assert (info.hits, info.misses, info.currsize) == (0, 1, 1)
    second = projection.project(z.copy(), "pca")
    assert projection.projection_cache_info().hits == 1
    np.testing.assert_array_equal(first, second)
    second[:] = 0  # mutating a result does not corrupt the cache
    np.testing.assert_array_equal(projection.project(z, "pca"), first)
    projection.project(z, "pca", seed=1)  # other params: another entry
    projection.project(z + 1, "pca")      # other data: another entry
    assert projection.projection_cache_info().currsize == 3


def test_cached_tsne_is_faster():
    import time

    z = _blobs(n_per=30)
    start = time.perf_counter()
    cold = projection.project(z, "tsne", perplexity=10.0)
    cold_time = time.perf_counter() - start
    start = time.perf_counter()
    warm = projection.project(z, "tsne", perplexity=10.0)
    warm_time = time.perf_counter() - start
    np.testing.assert_array_equal(cold, warm)
    assert warm_time < cold_time


def test_cache_is_bounded():
    z = _blobs(n_per=5)
    for i in range(projection.CACHE_SIZE + 5):
        projection.project(z + i, "pca")
    assert projection.projection_cache_info().currsize == projection.CACHE_SIZE


@pytest.mark.parametrize("latents,kwargs,match", [
    (np.zeros((10, 3)), {"method": "umap"}, "allowed: pca, tsne"),
    (np.zeros(10), {}, r"\(N, K\)"),
    (np.zeros((10, 1)), {}, "at least 2 dimensions"),
    (np.zeros((1, 5)), {}, "at least 2 latent codes"),
    (np.full((10, 3), np.nan), {}, "NaN"),
    (np.zeros((10, 3)), {"method": "tsne", "perplexity": 10.0}, "perplexity must be > 0 and < the number"),
    (np.zeros((10, 3)), {"method": "tsne", "perplexity": 0}, "perplexity"),
    (np.zeros((10, 3)), {"seed": -1}, "seed"),
    ([["a", "b"]], {}, "numeric"),
])
def test_bad_inputs(latents, kwargs, match):
    with pytest.raises(GenlabError, match=match):
        projection.project(latents, **kwargs)
