"""Generative models (plain ``torch.nn.Module`` classes, each next to its ``@dataclass`` config).

Import the module you need, e.g. ``from genlab.models.autoencoder import Autoencoder``;
this package file stays import-light on purpose.

* ``autoencoder``: ``AutoencoderConfig``, ``Autoencoder`` (kind ``ae`` or ``vae``, MLP or conv),
  ``AutoencoderOutput``, ``gaussian_kl_per_dim``.
"""
