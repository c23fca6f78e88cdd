"""Unit tests for genlab.latent (untrained small models: shapes, ordering, estimator statistics)."""

import math

import pytest
import torch

from genlab.errors import GenlabError
from genlab.latent import (
    encode_dataset,
    grid_values,
    gradient_variance_experiment,
    interpolate,
    latent_grid,
    latent_grid_points,
    traverse,
    true_gradient,
)
from genlab.models.autoencoder import Autoencoder, AutoencoderConfig

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Autoencoder(AutoencoderConfig(kind="vae", latent_dim=2, hidden_dims=(16,)))


def decode_mean(model, z):
    with torch.no_grad():
        return torch.sigmoid(model.decode(torch.as_tensor(z, dtype=torch.float32)))


def test_encode_dataset_means(model):
    x = torch.rand(5, 1, 8, 8)
    means = encode_dataset(model, x)
    assert means.shape == (5, 2)
    torch.testing.assert_close(means, model.encode(x)[0].detach())
    torch.testing.assert_close(encode_dataset(model, x.reshape(5, 64).numpy()), means)
    with pytest.raises(GenlabError, match="shape"):
        encode_dataset(model, torch.rand(5, 10))


def test_encode_dataset_accepts_a_trainer_like_object(model):
    class Holder:
        pass

    holder = Holder()
    holder.model = model
    assert encode_dataset(holder, torch.rand(2, 1, 8, 8)).shape == (2, 2)
    with pytest.raises(GenlabError, match="autoencoder"):
        encode_dataset(object(), torch.rand(2, 1, 8, 8))


def test_grid_values_linear_and_quantile():
    torch.testing.assert_close(grid_values(2.0, 5, "linear"), torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]))
    q = grid_values(3.0, 7, "quantile")
    assert q[0].item() == pytest.approx(-3.0, abs=1e-4) and q[-1].item() == pytest.approx(3.0, abs=1e-4)
    assert torch.all(q[1:] > q[:-1])
    gaps = q[1:] - q[:-1]
    assert gaps[3] < gaps[0]  # denser near 0
    # equally spaced in probability
    cdf = torch.distributions.Normal(0.0, 1.0).cdf(q)
    torch.testing.assert_close(cdf[1:] - cdf[:-1], torch.full((6,), (cdf[1] - cdf[0]).item()), atol=1e-5, rtol=0)
    for bad in [{"n": 1}, {"n": 51}, {"extent": 0}, {"spacing": "log"}]:
        with pytest.raises(GenlabError):
            grid_values(**{"extent": 1.0, "n": 5, "spacing": "linear", **bad})


def test_latent_grid_order_and_shape(model):
    n = 4
    images = latent_grid(model, extent=2.0, n=n)
    assert images.shape == (n * n, 1, 8, 8)
    points = latent_grid_points(2.0, n)
    assert points[0].tolist() == [-2.0, 2.0]        # top left: z1 smallest, z2 largest
    assert points[n - 1].tolist() == [2.0, 2.0]     # top right
    assert points[-1].tolist() == [2.0, -2.0]       # bottom right
    torch.testing.assert_close(images, decode_mean(model, points))


def test_latent_grid_higher_k_uses_base_and_dims():
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(kind="ae", latent_dim=4, hidden_dims=(16,)))
    base = torch.tensor([0.5, 0.0, 0.0, -1.0])
    images = latent_grid(model, extent=1.0, n=3, dims=(1, 2), base_z=base)
    points = latent_grid_points(1.0, 3)
    z = base.repeat(9, 1)
    z[:, 1], z[:, 2] = points[:, 0], points[:, 1]
    torch.testing.assert_close(images, decode_mean(model, z))
    with pytest.raises(GenlabError, match="allowed: 0 to 3"):
        latent_grid(model, dims=(0, 4))
    with pytest.raises(GenlabError, match="4 values"):
        latent_grid(model, base_z=[0.0, 1.0])


def test_latent_grid_needs_two_dims():
    model = Autoencoder(AutoencoderConfig(latent_dim=1, hidden_dims=(8,)))
    with pytest.raises(GenlabError, match="latent_dim >= 2"):
        latent_grid(model)


def test_interpolate_endpoints_are_the_reconstructions(model):
    a, b = torch.rand(1, 8, 8), torch.rand(1, 8, 8)
    path = interpolate(model, a, b, steps=5)
    assert path.shape == (5, 1, 8, 8)
    mu = model.encode(torch.stack([a, b]))[0].detach()
    torch.testing.assert_close(path[0], decode_mean(model, mu[:1])[0])
    torch.testing.assert_close(path[-1], decode_mean(model, mu[1:])[0])
    torch.testing.assert_close(path[2], decode_mean(model, mu.mean(0, keepdim=True))[0])
    with pytest.raises(GenlabError, match="steps"):
        interpolate(model, a, b, steps=1)
    with pytest.raises(GenlabError, match="one image"):
        interpolate(model, torch.rand(2, 1, 8, 8), b)


def test_traverse_sets_one_coordinate(model):
    values = [-1.0, 0.0, 2.0]
    images = traverse(model, [0.3, -0.2], 1, values)
    assert images.shape == (3, 1, 8, 8)
    torch.testing.assert_close(images, decode_mean(model, [[0.3, -1.0], [0.3, 0.0], [0.3, 2.0]]))
    with pytest.raises(GenlabError, match="allowed: 0 to 1"):
        traverse(model, [0.0, 0.0], 2, values)
    with pytest.raises(GenlabError, match="finite"):
        traverse(model, [0.0, 0.0], 0, [math.nan])


@pytest.mark.parametrize("f", ["square", "cos"])
def test_true_gradient_closed_form_matches_quadrature(f):
    fn = (lambda z: z * z) if f == "square" else torch.cos  # callables go through quadrature
    closed = true_gradient(0.7, 1.3, f)
    numeric = true_gradient(0.7, 1.3, fn)
    assert closed == pytest.approx(numeric, abs=1e-8)


@pytest.mark.parametrize("f, mu, sigma", [("square", 1.0, 0.5), ("cos", 0.5, 1.0), ("sigmoid", 0.3, 1.5)])
def test_both_estimators_unbiased_and_reparameterization_has_lower_variance(f, mu, sigma):
    repeats = 4000
    rows = gradient_variance_experiment(mu, sigma, f, sample_counts=(1, 10), repeats=repeats, seed=1)
    assert len(rows) == 4
    for row in rows:
        for param in ("mu", "sigma"):
            mean, var, true = row[f"grad_{param}_mean"], row[f"grad_{param}_var"], row[f"true_grad_{param}"]
            assert abs(mean - true) < 5 * math.sqrt(var / repeats) + 1e-9, (row, param)
    by = {(r["samples"], r["estimator"]): r for r in rows}
    if f != "cos":  # not a theorem: for cos near mu = 0.5 the score function wins on mu (see docstring)
        for S in (1, 10):
            score, reparam = by[(S, "score function")], by[(S, "reparameterization")]
            assert reparam["grad_mu_var"] < score["grad_mu_var"]
            assert reparam["grad_sigma_var"] < score["grad_sigma_var"]
    # the variance of an S-sample average falls like 1/S
    for name in ("score function", "reparameterization"):
        ratio = by[(1, name)]["grad_mu_var"] / by[(10, name)]["grad_mu_var"]
        assert 7 < ratio < 14


def test_gradient_experiment_default_table_and_determinism():
    rows = gradient_variance_experiment(1.0, 1.0, "square")
    assert [r["samples"] for r in rows[::2]] == [1, 2, 5, 10, 50, 100]
    assert {r["estimator"] for r in rows} == {"score function", "reparameterization"}
    assert rows == gradient_variance_experiment(1.0, 1.0, "square")
    assert rows[0]["true_grad_mu"] == 2.0 and rows[0]["true_grad_sigma"] == 2.0


@pytest.mark.parametrize("kwargs, message", [
    ({"sigma": 0}, "sigma"), ({"f": "exp"}, "allowed: square"), ({"sample_counts": (0,)}, "sample_counts"),
    ({"sample_counts": (1.5,)}, "sample_counts"), ({"repeats": 1}, "repeats"), ({"sample_counts": ("a",)}, "sample_counts"),
])
def test_gradient_experiment_bad_input(kwargs, message):
    with pytest.raises(GenlabError, match=message):
        gradient_variance_experiment(**{"mu": 0.0, "sigma": 1.0, "f": "square", **kwargs})
