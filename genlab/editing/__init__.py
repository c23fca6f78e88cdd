"""Image editing with a trained VAE: inpainting, uncropping and super-resolution (the lecture's
"Image Editing" slides), done two ways.

**Latent optimization** (the VAE is a prior over images; find the code whose image agrees with what
we can see). For an observation ``y = A(x)`` of a test digit ``x`` -- the visible pixels
``A(x) = m ⊙ x`` (``m`` = 1 where visible) or the 4x4 average-pooled digit ``A(x) = avgpool2(x)`` --
solve, from ``restarts`` random starts ``z_0 ~ N(0, I)`` with Adam::

    z* = argmin_z  ‖A(decode(z)) − y‖²  +  λ ‖z‖²

``λ‖z‖²`` is the prior term ``−log N(z; 0, I) = ½‖z‖² + const`` (times 2λ): it keeps ``z`` where
the decoder was trained. (With a Gaussian likelihood ``N(x; decode(z), σ² I)`` the MAP objective is
exactly this with ``λ = σ²``.) The restart with the lowest objective wins. Inpainting keeps the
visible pixels and fills the rest: ``m ⊙ x + (1 − m) ⊙ decode(z*)``; super-resolution returns
``decode(z*)`` (8x8).

**A conditional VAE** (:class:`ConditionalVAE`, Sohn et al. 2015, "Learning Structured Output
Representation using Deep Conditional Generative Models"): a VAE whose encoder and decoder also see
the condition ``c = (m ⊙ x, m)`` (visible pixels and the mask), trained on random masks of the
training digits (:func:`train_conditional_vae`). Completing a digit is one decoder pass,
``decode(z, c)``: ``z = 0`` gives the most typical completion, ``z ~ N(0, I)`` different plausible
ones. No optimization at test time -- the work was done in training ("amortized").

Scores (:func:`evaluate_editing`, :func:`evaluate_super_resolution`): the genlab digit classifier
(:func:`genlab.metrics.get_classifier`) reads each completed test digit; the share read as the true
label is compared with the masked input (missing pixels black) and, for super-resolution, with
bilinear / nearest upsampling of the 4x4 image.

The package: :mod:`~genlab.editing.latent_fit` (masks, latent optimization),
:mod:`~genlab.editing.conditional_vae` and :mod:`~genlab.editing.scores`.
"""

from genlab.editing.conditional_vae import (
    ConditionalVAE,
    ConditionalVAEConfig,
    conditional_vae_path,
    editing_cache_dir,
    get_conditional_vae,
    load_conditional_vae,
    train_conditional_vae,
)
from genlab.editing.latent_fit import (
    DEFAULT_LAMBDA,
    DEFAULT_LR,
    DEFAULT_RESTARTS,
    DEFAULT_STEPS,
    EVAL_KINDS,
    MASK_KINDS,
    MASK_LABELS,
    MAX_RESTARTS,
    MAX_STEPS,
    LatentFit,
    check_fit_settings,
    check_rect,
    downsample,
    fit_latent,
    inpaint_latent,
    make_mask,
    random_masks,
    super_resolve_latent,
    upsample,
)
from genlab.editing.scores import (
    EditingScores,
    SuperResolutionScores,
    accuracy,
    classifier_probabilities,
    evaluate_editing,
    evaluate_super_resolution,
)
