"""genlab: a hands-on lab for generative models (autoencoders, VAEs, GANs, KL divergence).

The core library: data sets, models, step-wise trainers, divergences, metrics, a run store and a
CLI (``python -m genlab``). It never imports streamlit; the dashboard is a thin UI over it.
"""

__version__ = "0.1.0"
