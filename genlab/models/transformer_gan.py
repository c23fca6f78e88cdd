"""A small transformer GAN for 8x8 digits (TransGAN, Jiang et al. 2021, arXiv 2102.07074; ViTGAN,
Lee et al. 2021, arXiv 2107.04589), built from the Vision Transformer of the slides (ViT,
Dosovitskiy et al. 2020, arXiv 2010.11929).

Tokens. An ``S x S`` image is cut into ``P x P`` patches, read row by row: ``T = (S / P)^2`` tokens.
Digits use ``P = 4`` by default: ``T = 4`` tokens of 16 pixels each (a 2 x 2 grid; the class token
makes the discriminator's sequence 5 long). ``P = 2`` (16 tokens of 4 pixels, a 4 x 4 attention map)
is the more detailed picture, but it learns much more slowly on the CPU budget of the lesson page:
in a short CPU screen its samples stayed speckled noise while 4 x 4 patches came close to DCGAN in
the same time (the screens: docs/TUNING.md). Two likely reasons: with 4 tokens a step costs about
half as much, so G gets twice the updates, and each output token draws a whole 4 x 4 piece of a
stroke, a linear map of one token, so neighbouring pixels are drawn together instead of by 16
separately attending tokens. Larger images (28 x 28) use ``P = 4`` too: 49 tokens.

Overlapping patches (ViTGAN). By default each discriminator token embeds its patch *plus a 1-pixel
border* (``patch_overlap = 1``: a 6 x 6 window around each 4 x 4 patch), so a seam or a stroke that
crosses a patch border is seen by one token whole. In the short screens this lowered the Fréchet
distance, most early in training, and with 2 x 2 patches it is what makes the 16-token model learn
at all (numbers: docs/TUNING.md).

Discriminator (a ViT classifier with one output, the real/fake logit)::

    x                                        (B, 1, S, S)        pixels in [-1, 1]
    patchify                                 (B, T, w*w)         patch t = rows/cols of grid cell t,
                                                                 with its border: w = P + 2*patch_overlap
    Linear(w*w -> D)                         (B, T, D)           "each patch is embedded linearly"
    prepend the class token [*]              (B, 1 + T, D)       a learned vector
    + 1D positional embedding                (B, 1 + T, D)       one learned vector per position
    depth x Block                            (B, 1 + T, D)
    LayerNorm, take token 0 ([*])            (B, D)
    Linear(D -> 1)                           (B, 1)              logit l(x); D(x) = sigmoid(l)

The score comes from the classification embedding [*], as in ViTGAN's figure: the class token
attends to the patches, so its attention weights (last block, :meth:`TransformerDiscriminator.
class_attention`) say which patches the verdict looked at.

Generator (TransGAN's "MLP maps z to a token sequence", then a transformer, then every output token
is projected to its own patch of pixels: the image is produced patch by patch)::

    z                                        (B, noise_dim)
    Linear(noise_dim -> T*D), reshape        (B, T, D)
    + 1D positional embedding                (B, T, D)           which patch each token will become
    depth x Block                            (B, T, D)
    LayerNorm, Linear(D -> P*P), tanh        (B, T, P*P)         patch t's pixels
    unpatchify                               (B, 1, S, S)

Block (pre-norm transformer encoder layer)::

    h = h + MHSA(LN(h));   h = h + MLP(LN(h))        MLP: Linear(D -> r*D), GELU, Linear(r*D -> D)
    MHSA: per head, A = softmax(Q K^T / sqrt(d_head)) (rows sum to 1), out = A V

Attention is written out (q, k, v projections and the softmax) so that the weights ``A`` can be
returned.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from genlab.errors import GenlabError
from genlab.configs import AUGMENTATIONS, IMAGE_SIZES, TransformerGANConfig  # noqa: F401 - the settings live in genlab.configs
DEFAULT_PATCH = {8: 4, 28: 4}   # patch size per image size (see the module docstring)


# --------------------------------------------------------------------------- patches


def patchify(x: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Images ``(B, C, S, S)`` -> patch vectors ``(B, T, C*P*P)``; patch ``t`` is grid cell
    ``(t // (S/P), t % (S/P))`` (row by row), its pixels in row-major order."""
    b, c, h, w = x.shape
    p = patch_size
    x = x.reshape(b, c, h // p, p, w // p, p)               # (B, C, gh, P, gw, P)
    x = x.permute(0, 2, 4, 1, 3, 5)                         # (B, gh, gw, C, P, P)
    return x.reshape(b, (h // p) * (w // p), c * p * p)


def unpatchify(tokens: torch.Tensor, patch_size: int, channels: int = 1) -> torch.Tensor:
    """Inverse of :func:`patchify`: ``(B, T, C*P*P)`` -> ``(B, C, S, S)``."""
    b, t, _ = tokens.shape
    g, p = math.isqrt(t), patch_size
    x = tokens.reshape(b, g, g, channels, p, p)             # (B, gh, gw, C, P, P)
    x = x.permute(0, 3, 1, 4, 2, 5)                         # (B, C, gh, P, gw, P)
    return x.reshape(b, channels, g * p, g * p)


# --------------------------------------------------------------------------- transformer pieces


class SelfAttention(nn.Module):
    """Multi-head self-attention written out: ``A = softmax(Q K^T / sqrt(d_head))``, ``out = A V``.

    ``forward(h)`` returns ``(out (B, N, D), A (B, heads, N, N))``; row ``i`` of ``A`` is how token
    ``i`` spreads its attention over all tokens (it sums to 1).
    """

    def __init__(self, dim: int, heads: int, wrap=lambda layer: layer):
        super().__init__()
        self.heads = heads
        self.qkv = wrap(nn.Linear(dim, 3 * dim))
        self.out = wrap(nn.Linear(dim, dim))

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, n, d = h.shape
        q, k, v = self.qkv(h).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # (B, H, N, dh) each
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads), dim=-1)     # (B, H, N, N)
        out = (weights @ v).transpose(1, 2).reshape(b, n, d)                                      # (B, N, D)
        return self.out(out), weights


class Block(nn.Module):
    """Pre-norm transformer encoder block: ``h + MHSA(LN(h))``, then ``h + MLP(LN(h))``."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int, wrap=lambda layer: layer):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, wrap)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(wrap(nn.Linear(dim, mlp_ratio * dim)), nn.GELU(), wrap(nn.Linear(mlp_ratio * dim, dim)))

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, weights = self.attn(self.norm1(h))
        h = h + a
        return h + self.mlp(self.norm2(h)), weights


def _check_images(x: torch.Tensor, size: int) -> None:
    if x.dim() != 4 or tuple(x.shape[1:]) != (1, size, size):
        raise GenlabError(f"images must have shape (B, 1, {size}, {size}) (got {tuple(x.shape)})")


# --------------------------------------------------------------------------- the two networks


class TransformerDiscriminator(nn.Module):
    """ViT discriminator: ``l(x)`` logits ``(B, 1)`` of images ``(B, 1, S, S)`` in [-1, 1]
    (see the module docstring). ``forward(x, return_attention=True)`` also returns the attention
    weights of every block, ``[(B, heads, 1+T, 1+T), ...]``."""

    def __init__(self, config: TransformerGANConfig):
        super().__init__()
        self.config = config
        d, p = config.dim, config.patch_size
        wrap = nn.utils.parametrizations.spectral_norm if config.spectral_norm else (lambda layer: layer)
        window = p + 2 * config.patch_overlap
        self.embed = wrap(nn.Linear(window * window, d))                          # patch embedding E
        self.class_token = nn.Parameter(torch.zeros(1, 1, d))                    # [*]
        self.position = nn.Parameter(torch.randn(1, 1 + config.tokens, d) * 0.02)  # 1D positions 0..T
        self.blocks = nn.ModuleList(Block(d, config.heads, config.mlp_ratio, wrap) for _ in range(config.depth_d))
        self.norm = nn.LayerNorm(d)
        self.head = wrap(nn.Linear(d, 1))

    def forward(self, x: torch.Tensor, return_attention: bool = False):
        _check_images(x, self.config.image_size)
        tokens = self.embed(self.patches(x))                                      # (B, T, D)
        cls = self.class_token.expand(x.shape[0], -1, -1)                         # (B, 1, D)
        h = torch.cat([cls, tokens], dim=1) + self.position                       # (B, 1+T, D)
        attentions = []
        for block in self.blocks:
            h, weights = block(h)
            attentions.append(weights)
        logits = self.head(self.norm(h[:, 0]))                                    # (B, 1) from [*]
        return (logits, attentions) if return_attention else logits

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """The pixels each token embeds, ``(B, T, w*w)``: the ``P x P`` patches, or with
        ``patch_overlap = o`` windows of ``P + 2o`` pixels around them (background padding)."""
        o, p = self.config.patch_overlap, self.config.patch_size
        if o == 0:
            return patchify(x, p)
        windows = F.unfold(F.pad(x, (o, o, o, o), value=-1.0), kernel_size=p + 2 * o, stride=p)  # (B, w*w, T)
        return windows.transpose(1, 2)

    @torch.no_grad()
    def class_attention(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The class token's attention over the patches in the last block, and the logits.

        Returns ``(weights (B, heads, gh, gw), logits (B,))``: ``weights[b, h, i, j]`` is how much
        head ``h`` of [*] attends to the patch in grid row ``i``, column ``j`` (each head's weights
        over the ``T`` patches and [*] itself sum to 1; the share [*] keeps for itself is
        ``1 - weights[b, h].sum()``).
        """
        logits, attentions = self.forward(x, return_attention=True)
        g = self.config.grid
        weights = attentions[-1][:, :, 0, 1:]                                     # (B, H, T) row of [*]
        return weights.reshape(x.shape[0], self.config.heads, g, g), logits[:, 0]


class TransformerGenerator(nn.Module):
    """Transformer generator: noise ``(B, noise_dim)`` -> images ``(B, 1, S, S)`` in [-1, 1],
    every output token projected to the pixels of its own patch (see the module docstring). With
    ``output_overlap = o`` each token emits a ``(P + 2o)``-pixel window centred on its patch and
    the windows are added up where they overlap before the tanh (as a transposed convolution with
    kernel ``P + 2o`` and stride ``P`` would), so neighbouring patches blend instead of meeting at
    a seam."""

    def __init__(self, config: TransformerGANConfig):
        super().__init__()
        self.config = config
        d, p, o = config.dim, config.patch_size, config.output_overlap
        self.window = p + 2 * o
        self.project = nn.Linear(config.noise_dim, config.tokens * d)             # z -> T tokens
        self.position = nn.Parameter(torch.randn(1, config.tokens, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, config.heads, config.mlp_ratio) for _ in range(config.depth_g))
        self.norm = nn.LayerNorm(d)
        self.to_pixels = nn.Linear(d, self.window * self.window)                   # token t -> its patch (window)

    def tokens(self, z: torch.Tensor) -> torch.Tensor:
        """The output tokens as pixel windows before the tanh: ``(B, T, w*w)``, ``w = P + 2o``."""
        h = self.project(z).reshape(z.shape[0], self.config.tokens, self.config.dim) + self.position
        for block in self.blocks:
            h, _ = block(h)
        return self.to_pixels(self.norm(h))

    def assemble(self, windows: torch.Tensor) -> torch.Tensor:
        """Pixel windows ``(B, T, w*w)`` -> images ``(B, 1, S, S)`` in [-1, 1] (overlaps added)."""
        o, p, S = self.config.output_overlap, self.config.patch_size, self.config.image_size
        if o == 0:
            return torch.tanh(unpatchify(windows, p))
        summed = F.fold(windows.transpose(1, 2), output_size=(S + 2 * o, S + 2 * o), kernel_size=self.window, stride=p)
        return torch.tanh(summed[:, :, o:o + S, o:o + S])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.assemble(self.tokens(z))


def translate(x: torch.Tensor, generator: torch.Generator | None = None, shift: int = 1) -> torch.Tensor:
    """DiffAugment's translation (Zhao et al. 2020, arXiv 2006.10738): every image moved by its own
    random ``-shift..shift`` pixels in x and y, the uncovered border filled with background (-1).
    Differentiable in ``x``, so G's gradient passes through it."""
    b, c, h, w = x.shape
    padded = F.pad(x, (shift, shift, shift, shift), value=-1.0)                  # (B, C, H+2s, W+2s)
    offsets = torch.randint(0, 2 * shift + 1, (b, 2), generator=generator).to(x.device)
    rows = (offsets[:, 0:1] + torch.arange(h, device=x.device))[:, None, :, None]   # (B, 1, H, 1)
    cols = (offsets[:, 1:2] + torch.arange(w, device=x.device))[:, None, None, :]   # (B, 1, 1, W)
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def position_similarity(module: nn.Module) -> torch.Tensor:
    """Cosine similarity of the learned positional embeddings of the patch tokens, ``(T, T)``
    (the ViT paper's figure 7: after training, nearby patches have similar embeddings)."""
    position = module.position.detach()[0]
    if isinstance(module, TransformerDiscriminator):
        position = position[1:]                                                   # drop [*]'s slot
    unit = F.normalize(position, dim=-1)
    return unit @ unit.T
