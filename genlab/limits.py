"""Server-level caps on what one run (imported, resumed or just viewed) may cost.

Everything a visitor can hand the server as a run -- a zip on the Runs page, a folder in the run
store -- is bounded here, in one place, so that one run cannot take the server's memory or time:

* :data:`MAX_MODEL_PARAMETERS` -- networks built from a run's config.json (import, resume);
* :data:`MAX_IMAGE_PIXELS` -- ``samples.png`` (import, and every time a page shows it);
* :data:`MAX_METRICS_ROWS`, :data:`MAX_METRICS_COLUMNS` -- ``metrics.csv`` (import and read);
* :data:`MAX_JSON_DEPTH` -- nesting of config.json, status.json and metrics' ``extra`` cells;
* :data:`IMPORT_FILE_LIMITS`, :data:`MAX_IMPORT_TOTAL_BYTES`, :data:`MAX_IMPORT_ZIP_BYTES`,
  :data:`MAX_IMPORT_ENTRIES`, :data:`MAX_COMPRESSION_RATIO` -- run zips, checked from the zip's
  directory before anything is decompressed, and again while decompressing.

:data:`MAX_MODEL_PARAMETERS` is stricter than the config dataclasses' absolute limits
(:mod:`genlab.validation`): settings every config accepts can still describe a model this server
refuses. It is applied in one place, :func:`check_model_size`, which the run import
(:mod:`genlab.run_import`) and :func:`genlab.train.recording.check_model_fits` call; the latter
guards every load or resume of a stored run (``load_trainer``: pages, ``eval``/``sample``, the
race; the CLI's ``train`` resume; the Runs page). New runs from a page's controls stay far below it.

A server admin may change the first two with the environment variables
``GENLAB_MAX_MODEL_PARAMETERS`` and ``GENLAB_MAX_IMAGE_PIXELS`` (whole numbers; an unreadable
value keeps the default). The README's "Serving a class on a network" states the defaults.
"""
from __future__ import annotations

import os
from dataclasses import asdict

from genlab.errors import GenlabError

MB = 1024 * 1024


def _env_int(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


# 10M parameters: about 40 MB of float32 weights, ~160 MB with gradients and Adam's two moments.
# The largest models the pages offer have ~1.5M.
MAX_MODEL_PARAMETERS = _env_int("GENLAB_MAX_MODEL_PARAMETERS", 10_000_000)
# 4 megapixels: at most 16 MB decoded (RGBA); a sample grid of 64 MNIST digits is 233 x 233.
MAX_IMAGE_PIXELS = _env_int("GENLAB_MAX_IMAGE_PIXELS", 4_000_000)

MAX_METRICS_ROWS = 500_000       # a 200,000-step run writes 200,000 rows
MAX_METRICS_COLUMNS = 256        # a VAE with latent_dim 64 writes ~80
MAX_JSON_DEPTH = 32              # genlab writes depth <= 4

IMPORT_FILE_LIMITS = {           # uncompressed bytes per file of a run zip
    "config.json": 16 * MB,      # a gan on user points stores its points (<= 100k rows)
    "metrics.csv": 64 * MB,      # 200,000 rows of a 2D GAN are ~40 MB
    "checkpoint.pt": 192 * MB,
    "samples.png": 8 * MB,
    "status.json": 64 * 1024,
    "history.npz": 32 * MB,      # the training timeline; a default run's is 0.3-2 MB
}
MAX_IMPORT_TOTAL_BYTES = 256 * MB    # all files of one zip together, uncompressed
MAX_IMPORT_ZIP_BYTES = 256 * MB      # the zip itself
MAX_IMPORT_ENTRIES = len(IMPORT_FILE_LIMITS)
# deflate reaches ~1000:1 at most on real data; genlab's exports compress 2-10:1
MAX_COMPRESSION_RATIO = 200
SMALL_ENTRY_BYTES = 1 * MB           # entries this small are not ratio-checked


def count_parameters(config: dict) -> int | None:
    """Parameters of the networks ``config`` (a run's config.json) describes, or None for a model
    genlab does not know. The networks are built on PyTorch's ``meta`` device: shapes only, no
    memory, a few milliseconds. Settings the model's config refuses raise GenlabError."""
    import torch

    try:
        with torch.device("meta"):
            networks = _networks(config)
    except GenlabError:
        raise
    except Exception as err:  # noqa: BLE001 - any bad value in an uploaded config: one message
        raise GenlabError(f"model_config does not describe a valid {config.get('model')} "
                          f"({type(err).__name__}: {str(err)[:160]})") from None
    if networks is None:
        return None
    return sum(p.numel() for network in networks for p in network.parameters())


def _networks(config: dict):
    """The trainer's networks for ``config`` (built from the same defaults as ``from_config``)."""
    from genlab.train.base import dataclass_from_dict

    model = config.get("model")
    values = config.get("model_config") or {}
    if not isinstance(values, dict):
        raise GenlabError("model_config must be a JSON object")
    preset = config.get("preset", "default")
    if model in ("ae", "vae"):
        from genlab.models.autoencoder import Autoencoder, AutoencoderConfig

        return [Autoencoder(dataclass_from_dict(AutoencoderConfig, {"kind": model, **values}))]
    if model == "gan":
        from genlab.models.gan import Discriminator2D, GANConfig, Generator2D
        from genlab.train.gan import gan_configs

        base, train = gan_configs("gan", preset)
        cfg = dataclass_from_dict(GANConfig, {**asdict(base), **values}).validate()
        return [Generator2D(cfg), Discriminator2D(cfg)] + ([Generator2D(cfg)] if _ema(config, train) else [])
    if model in ("dcgan", "cgan"):
        from genlab.models.dcgan import DCDiscriminator, DCGANConfig, DCGenerator
        from genlab.train.gan import gan_configs

        base, train = gan_configs(model, preset)
        cfg = dataclass_from_dict(DCGANConfig, {**asdict(base), **values})
        cfg.conditional = model == "cgan"
        cfg.validate()
        return [DCGenerator(cfg), DCDiscriminator(cfg)] + ([DCGenerator(cfg)] if _ema(config, train) else [])
    if model == "tgan":
        # tgan's presets change only training settings, so the model config's defaults suffice
        # (genlab.train.transformer_gan is not imported: it imports the run store)
        from genlab.models.transformer_gan import TransformerDiscriminator, TransformerGANConfig, TransformerGenerator
        from genlab.train.gan import GANTrainConfig

        cfg = dataclass_from_dict(TransformerGANConfig, values)
        cfg.validate()
        extra = [TransformerGenerator(cfg)] if _ema(config, GANTrainConfig()) and preset != "vanilla" else []
        return [TransformerGenerator(cfg), TransformerDiscriminator(cfg)] + extra
    return None


def _ema(config: dict, base_train) -> bool:
    """Whether the trainer keeps an EMA copy of the generator (``ema > 0``)."""
    train = config.get("train_config") or {}
    value = train.get("ema", getattr(base_train, "ema", 0)) if isinstance(train, dict) else 0
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def check_model_size(config: dict) -> int | None:
    """The parameter count of ``config``'s networks; GenlabError when it exceeds
    :data:`MAX_MODEL_PARAMETERS` (or the settings are invalid). None for an unknown model."""
    count = count_parameters(config)
    if count is not None and count > MAX_MODEL_PARAMETERS:
        raise GenlabError(f"the model has {count:,} parameters; this server allows at most "
                          f"{MAX_MODEL_PARAMETERS:,} (GENLAB_MAX_MODEL_PARAMETERS)")
    return count
