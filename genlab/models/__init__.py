"""Generative models (plain ``torch.nn.Module`` classes; their ``@dataclass`` configs live in
:mod:`genlab.configs`, torch-free, and are re-exported here next to each model).

Import the module you need, e.g. ``from genlab.models.autoencoder import Autoencoder``;
this package file stays import-light on purpose.

* ``autoencoder``: ``AutoencoderConfig``, ``Autoencoder`` (kind ``ae`` or ``vae``, MLP or conv),
  ``AutoencoderOutput``, ``gaussian_kl_per_dim``.
"""
