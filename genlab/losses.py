"""GAN losses, each written as its paper writes it, all computed from D's logits.

Notation: ``D(x) = sigmoid(l(x))`` where ``l`` is the discriminator's raw output (its *logit*).
Working with logits keeps every loss numerically stable: ``log D = -softplus(-l)`` and
``log(1 - D) = -softplus(l)`` never take the log of a rounded 0.

* ``"minimax"`` (Goodfellow et al. 2014, arXiv 1406.2661, eq. 1 and Algorithm 1)::

      D: max_φ  E_x[log D(x)] + E_z[log(1 − D(G(z)))]
      G: min_θ  E_z[log(1 − D(G(z)))]

  The generator's gradient vanishes when D confidently rejects its samples (D(G(z)) ≈ 0),
  which is exactly the situation early in training: the loss *saturates*.
* ``"non-saturating"`` (same paper, section 3): D as above, but G maximizes ``E_z[log D(G(z))]``
  (we minimize ``−E_z[log D(G(z))]``). Same fixed point, strong gradients when D wins.
* ``"lsgan"`` (Mao et al. 2017, arXiv 1611.04076, eq. 2 with a=0, b=1, c=1): D's raw output is
  a least-squares score, not a probability (no sigmoid)::

      D: min  ½ E_x[(D(x) − 1)²] + ½ E_z[D(G(z))²]
      G: min  ½ E_z[(D(G(z)) − 1)²]

Losses are returned as quantities to *minimize* (the discriminator's loss is the negated
objective it ascends). Logits of any shape are averaged over every element, so a PatchGAN
discriminator (Isola et al. 2017, arXiv 1611.07004) whose output is a map of per-patch logits
``(B, 1, h, w)`` gets the mean over all patches.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genlab.configs import GAN_LOSSES  # noqa: F401 - the choices live with the settings (genlab.configs)
from genlab.errors import GenlabError


def check_loss(name: str) -> str:
    """Return ``name`` if it is a known GAN loss, else raise GenlabError listing the choices."""
    if name not in GAN_LOSSES:
        raise GenlabError(f"unknown GAN loss {name!r}; allowed: {', '.join(GAN_LOSSES)}")
    return name


def discriminator_output(logits: torch.Tensor, loss: str) -> torch.Tensor:
    """What the lesson calls D(x): ``sigmoid(logits)`` for minimax / non-saturating,
    the raw least-squares score for ``lsgan`` (target 1 for real, 0 for fake)."""
    check_loss(loss)
    return logits if loss == "lsgan" else torch.sigmoid(logits)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, loss: str) -> torch.Tensor:
    """The discriminator's loss (to minimize).

    minimax / non-saturating: ``−(E[log D(x)] + E[log(1 − D(G(z)))])``
    ``= E[softplus(−l(x))] + E[softplus(l(G(z)))]`` (binary cross-entropy, real = 1, fake = 0).
    lsgan: ``½ E[(D(x) − 1)²] + ½ E[D(G(z))²]``.
    """
    check_loss(loss)
    if loss == "lsgan":
        return 0.5 * (real_logits - 1).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()
    # log D(x) = −softplus(−l),  log(1 − D(G(z))) = −softplus(l)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, loss: str) -> torch.Tensor:
    """The generator's loss (to minimize).

    minimax: ``E[log(1 − D(G(z)))] = −E[softplus(l(G(z)))]`` (Goodfellow's Algorithm 1; ≤ 0).
    non-saturating: ``−E[log D(G(z))] = E[softplus(−l(G(z)))]``.
    lsgan: ``½ E[(D(G(z)) − 1)²]``.
    """
    check_loss(loss)
    if loss == "minimax":
        return -F.softplus(fake_logits).mean()
    if loss == "non-saturating":
        return F.softplus(-fake_logits).mean()
    return 0.5 * (fake_logits - 1).pow(2).mean()


def r1_penalty(real_logits: torch.Tensor, real_inputs: torch.Tensor) -> torch.Tensor:
    """R1 gradient penalty (Mescheder et al. 2018, arXiv 1801.04406, eq. 9) without the γ/2:
    ``E_x[‖∇_x l(x)‖²]`` on real data. ``real_inputs`` must have ``requires_grad=True`` and
    ``real_logits`` must be computed from it. Penalizing D's slope at the data keeps the
    game from oscillating around the equilibrium."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_inputs, create_graph=True)
    return grad.pow(2).reshape(grad.shape[0], -1).sum(dim=1).mean()
