"""genlab benchmark suite (issue #7): ``python -m bench`` (``make bench``) writes bench/RESULTS.md.

Sections: ``quality`` (bench/quality.py) and ``speed`` (bench/speed.py); the harness
(bench/harness.py) times with medians, alternates ours/peer runs for ratios and writes the tables.
bench/gan_quality.py is the GAN developer's standalone per-seed tool (not part of the suite run).
"""
