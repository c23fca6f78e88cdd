"""Step-wise trainers: ``base.Trainer`` (the protocol) and one trainer module per model family.

Import the module you need, e.g. ``from genlab.train.autoencoder import AutoencoderTrainer``.
"""
