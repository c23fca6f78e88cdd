"""Benchmarks of the "Beyond the lecture's pictures" pages (issue #9): the numbers of its closing note.

1. **Transformer GAN vs DCGAN at equal wall time (CPU).** The Transformer GAN page's race with its
   default settings: :func:`genlab.train.race.race_configs` (the page's transformer GAN,
   and DCGAN with ``genlab.train.gan.gan_configs("dcgan")`` as they are at run time, same seed),
   trained by :class:`~genlab.train.race.EqualTimeRace` until each has spent
   :data:`RACE_SECONDS` inside ``step()`` (the two take turns step by step in one process, so a change
   in the machine's load hits both alike; each one's linear learning-rate decay ends when its time is
   up). Score: ``trainer.evaluate()["frechet_distance"]`` (360 samples vs the test split in the
   digit classifier's features). Target: FD(tgan) ≤ 1.5 × FD(DCGAN).
2. **Image editing with a VAE.** The image-editing page's models (the VAE with K = 8 trained the
   way the CLI / latent pages / demos train it, and the conditional VAE with
   ``ConditionalVAEConfig()``), both trained here from scratch, and its scores
   (:func:`genlab.editing.evaluate_editing`, :func:`genlab.editing.evaluate_super_resolution`) on the
   whole digits test split, next to peers measured in the same run: the masked input as is (missing
   pixels black), the missing pixels filled with the train split's mean image, the nearest train
   digit (on the visible pixels / on the 4x4 image), bilinear and nearest upsampling.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
import torch

from bench.harness import Table, fmt, log, verdict

RACE_SECONDS = 60.0          # training seconds per model in the full run (the page's default is 120 s)
QUICK_RACE_SECONDS = 2.0
RACE_EVALS = 6               # evaluations during the race (every RACE_SECONDS / 6 of training time)
TARGET_RATIO = 1.5           # FD(tgan) <= 1.5 x FD(DCGAN)
SEED = 0

VAE_OPTIONS = {"latent_dim": 8, "epochs": 100, "seed": SEED, "beta": 1.0, "mc_samples": 1}   # the page's default VAE
EDIT_KINDS = ("top", "bottom", "left", "right", "center")
KIND_LABELS = {"top": "top half", "bottom": "bottom half", "left": "left half", "right": "right half",
               "center": "centre square"}

# Quick (smoke) mode: tiny budgets everywhere.
QUICK_VAE_EPOCHS = 2
QUICK_CVAE_STEPS = 100
QUICK_TEST_DIGITS = 40
QUICK_FIT = {"restarts": 2, "steps": 20}

DCGAN_SETTINGS = ("batch_size", "lr_d", "lr_g", "k_disc", "loss", "lr_decay", "ema", "r1_gamma", "r1_every")
TRAIN_SETTINGS = DCGAN_SETTINGS + ("betas",)   # the transformer GAN's recipe, as read in the run


# --------------------------------------------------------------------------- 1. the race


def race(quick: bool = False, seed: int = SEED, seconds: float | None = None) -> Table:
    """Transformer GAN vs DCGAN after the same training wall time on the CPU (``seconds`` each;
    default: :data:`RACE_SECONDS`, or :data:`QUICK_RACE_SECONDS` with ``quick``)."""
    from genlab import metrics
    from genlab.train.race import EqualTimeRace, build_race_trainers, race_configs

    if seconds is None:
        seconds = QUICK_RACE_SECONDS if quick else RACE_SECONDS
    t0 = time.perf_counter()
    configs = race_configs(seed=seed)            # the page's defaults; DCGAN: gan_configs("dcgan", seed=seed)
    trainers = build_race_trainers(configs, device="cpu")
    contest = EqualTimeRace(trainers, seconds, eval_every_s=seconds / RACE_EVALS, sample_n=4)
    status = contest.run()
    log(f"beyond: race {status} ({seconds:g} s each; "
        + ", ".join(f"{n} {t.step_count} steps" for n, t in trainers.items()) + ")")
    fd = {name: contest.evals[name]["frechet_distance"][-1] for name in trainers}
    floor_fd = float(metrics.real_floor_frechet("digits"))

    table = Table(f"Transformer GAN vs DCGAN at equal training time on the CPU ({seconds:g} s each, digits)",
                  ["model", "steps", "steps/s", "train s", "FD", "DCGAN FD (peer)", "ratio to DCGAN",
                   "target", "verdict"])
    ratio = fd["tgan"] / fd["dcgan"] if fd["dcgan"] > 0 else float("nan")
    for name, label in (("tgan", "transformer GAN (page default)"), ("dcgan", "DCGAN (gan_configs defaults)")):
        trainer = trainers[name]
        steps, train_s = int(trainer.step_count), float(trainer.elapsed_seconds)
        is_tgan = name == "tgan"
        table.add(label, steps, steps / train_s if train_s else None, train_s, fd[name], fd["dcgan"],
                  ratio if is_tgan else 1.0, f"≤ {fmt(TARGET_RATIO)}× DCGAN" if is_tgan else None,
                  verdict(ratio, TARGET_RATIO) if is_tgan else None)
    table.add("real floor (test vs train split)", None, None, None, floor_fd, fd["dcgan"],
              floor_fd / fd["dcgan"] if fd["dcgan"] > 0 else None, None, None)
    table.seconds = time.perf_counter() - t0

    tm, tt, dm = trainers["tgan"].model_config, trainers["tgan"].train_config, trainers["dcgan"].train_config
    params = trainers["tgan"].parameter_counts()
    table.note(f"Transformer GAN: race_configs() defaults = the Transformer GAN page's race: patch {tm.patch_size}, "
               f"D = {tm.dim}, {tm.depth_g} blocks in G and {tm.depth_d} in D, {tm.heads} heads "
               f"({params['generator']:,} parameters in G, {params['discriminator']:,} in D); training: "
               + ", ".join(f"{k} {getattr(tt, k)}" for k in TRAIN_SETTINGS) + ".")
    dcgan_text = ", ".join([f"channels {getattr(trainers['dcgan'].model_config, 'channels', '?')}"]
                           + [f"{k} {getattr(dm, k)}" for k in DCGAN_SETTINGS if hasattr(dm, k)])
    table.note(f"DCGAN: genlab.train.gan.gan_configs('dcgan', seed={seed}) as read in this run ({dcgan_text}).")
    table.note("Equal time: EqualTimeRace alternates the two trainers step by step until each has spent the budget "
               "inside step() (evaluation excluded); each one's linear lr decay is stretched to end when its time is "
               f"up (time_schedule). Both train on CPU in one process, one seed ({seed}). The step counts within the "
               "budget depend on the machine's speed and load, so the race is not bit-for-bit reproducible (the "
               "image-editing tables are): the transformer GAN's FD in particular differs a lot between runs.")
    history = []
    for name in trainers:
        ev = contest.evals[name]
        history.append(f"{name}: " + ", ".join(f"{s:g} s {v:.1f}" for s, v in zip(ev["seconds"], ev["frechet_distance"])))
    table.note("FD during the race (training seconds, FD): " + "; ".join(history) + ".")
    table.note("FD = genlab.metrics Fréchet distance of 360 samples (fixed noise, EMA generator) to the test split in "
               "the digit classifier's features (trainer.evaluate()). DCGAN at its full default length is in the "
               "quality section's FD table.")
    return table


# --------------------------------------------------------------------------- 2. image editing


def _nearest_fill(x: torch.Tensor, m: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """Peer: the missing pixels copied from the train digit closest on the visible pixels."""
    xf, mf, tf = x.flatten(1), m.flatten(1), train.flatten(1)
    # ||m*(x - t)||^2 = sum m x^2 - 2 sum m x t + sum m t^2   (m is 0/1)
    d = (mf * xf.pow(2)).sum(1, keepdim=True) - 2 * (mf * xf) @ tf.T + mf @ tf.pow(2).T
    nn_images = train[d.argmin(1)]
    return m * x + (1 - m) * nn_images


def _nearest_low(low: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """Peer for super-resolution: the train digit whose 4x4 image is closest."""
    from genlab.editing import downsample

    d = torch.cdist(low.flatten(1), downsample(train).flatten(1))
    return train[d.argmin(1)]


def editing(quick: bool = False) -> list[Table]:
    from genlab import editing as ed
    from genlab.data import load_image_dataset
    from genlab.train.registry import build_trainer

    t0 = time.perf_counter()
    train = load_image_dataset("digits", "train")
    test = load_image_dataset("digits", "test")
    x_train = train.images.float()
    n = QUICK_TEST_DIGITS if quick else int(test.images.shape[0])
    x, y = test.images[:n].float(), test.labels[:n].numpy()
    fit = dict(QUICK_FIT) if quick else {}

    options = {**VAE_OPTIONS, **({"epochs": QUICK_VAE_EPOCHS} if quick else {})}
    vae = build_trainer("vae", "digits", options, device="cpu")
    t_vae = time.perf_counter()
    vae.fit(vae.default_steps)
    vae_s = time.perf_counter() - t_vae
    log(f"beyond: VAE K={options['latent_dim']} trained ({vae.step_count} steps, {vae_s:.1f} s)")
    cvae_config = ed.ConditionalVAEConfig(**({"steps": QUICK_CVAE_STEPS} if quick else {}))
    t_cvae = time.perf_counter()
    cvae = ed.train_conditional_vae(x_train, cvae_config)
    cvae_s = time.perf_counter() - t_cvae
    log(f"beyond: conditional VAE trained ({cvae_config.steps} steps, {cvae_s:.1f} s)")
    models_s = time.perf_counter() - t0

    # ------------------------------------------------------------ inpainting / uncropping
    t_edit = time.perf_counter()
    mean_image = x_train.mean(0, keepdim=True)
    rows = []
    for kind in EDIT_KINDS:
        scores = ed.evaluate_editing(vae, x, y, kinds=(kind,), cvae=cvae, **fit)[0]
        m = ed.make_mask(kind, x.shape[-1]).expand(n, -1, -1, -1).clone()
        missing = (1 - m).sum().clamp_min(1)
        mean_fill = m * x + (1 - m) * mean_image
        nearest = _nearest_fill(x, m, x_train)

        def mse(img, m=m, missing=missing):
            return float(((img - x) * (1 - m)).pow(2).sum() / missing)

        rows.append({"kind": kind, "scores": scores,
                     "acc_mean": ed.accuracy(mean_fill, y), "mse_mean": mse(mean_fill),
                     "acc_nn": ed.accuracy(nearest, y), "mse_nn": mse(nearest)})
        log(f"beyond: editing {kind}: latent {scores.acc_latent:.3f}, cvae {scores.acc_cvae:.3f}, "
            f"masked {scores.acc_masked:.3f}")
    edit_s = time.perf_counter() - t_edit

    acc = Table(f"Inpainting / uncropping with a VAE: share of the completed test digits the classifier reads "
                f"as the true digit ({n} test digits)",
                ["missing part", "original (reference)", "masked input (peer)", "mean-image fill (peer)",
                 "nearest train digit (peer)", "VAE latent optimization", "conditional VAE",
                 "latent − best peer", "CVAE − best peer"])
    mse_t = Table(f"Inpainting / uncropping with a VAE: mean squared error on the missing pixels ({n} test digits)",
                  ["missing part", "masked input (peer)", "mean-image fill (peer)", "nearest train digit (peer)",
                   "VAE latent optimization", "conditional VAE", "ratio latent / mean fill", "ratio CVAE / mean fill"])
    for r in rows:
        s = r["scores"]
        best_peer = max(s.acc_masked, r["acc_mean"], r["acc_nn"])
        acc.add(KIND_LABELS[r["kind"]], s.acc_original, s.acc_masked, r["acc_mean"], r["acc_nn"], s.acc_latent,
                s.acc_cvae, s.acc_latent - best_peer, None if s.acc_cvae is None else s.acc_cvae - best_peer)
        mse_t.add(KIND_LABELS[r["kind"]], s.mse_masked, r["mse_mean"], r["mse_nn"], s.mse_latent, s.mse_cvae,
                  s.mse_latent / r["mse_mean"], None if s.mse_cvae is None else s.mse_cvae / r["mse_mean"])
    settings = {"lam": ed.DEFAULT_LAMBDA, "restarts": ed.DEFAULT_RESTARTS, "steps": ed.DEFAULT_STEPS,
                "lr": ed.DEFAULT_LR, **fit}
    acc.note(f"VAE: build_trainer('vae', 'digits', {options}) trained here ({vae.step_count} steps, {vae_s:.1f} s) — "
             f"the image-editing page's default VAE (K = 8; the shipped demo vae-digits-k8 has the same settings). "
             f"Conditional VAE: ConditionalVAEConfig({', '.join(f'{k}={v}' for k, v in asdict(cvae_config).items())}) "
             f"trained here on random masks of the train split ({cvae_s:.1f} s).")
    acc.note(f"Latent optimization: genlab.editing.inpaint_latent, z* = argmin ‖m⊙decode(z) − m⊙x‖² + λ‖z‖², "
             f"λ = {settings['lam']}, {settings['restarts']} random starts, {settings['steps']} Adam steps, "
             f"lr {settings['lr']}; visible pixels kept. Conditional VAE: one decoder pass at z = 0, visible pixels kept.")
    acc.note("Peers (same test digits, same classifier): the masked input with the missing pixels black; the missing "
             "pixels filled with the train split's mean image; the missing pixels copied from the train digit nearest "
             "on the visible pixels. 'original' = the classifier on the untouched test digits (the ceiling). "
             "'− best peer' = accuracy minus the best of the three peers (positive: the VAE helps).")
    acc.note("Classifier: genlab.metrics.get_classifier('digits') (genlab.editing.accuracy).")
    acc.seconds = models_s + edit_s
    mse_t.note("MSE = Σ over test digits of Σ over the missing pixels of (completion − original)², / number of "
               "missing pixels (pixels in [0, 1]); the masked input scores the missing pixels as 0.")

    # ------------------------------------------------------------ super-resolution
    t_sr = time.perf_counter()
    sr = ed.evaluate_super_resolution(vae, x, y, **fit)
    low = ed.downsample(x)
    nearest_sr = _nearest_low(low, x_train)
    acc_nn_sr, mse_nn_sr = ed.accuracy(nearest_sr, y), float((nearest_sr - x).pow(2).mean())
    srt = Table(f"Super-resolution 4×4 → 8×8 with a VAE ({n} test digits)",
                ["method", "classifier reads the true digit", "MSE per pixel", "ratio MSE to bilinear",
                 "accuracy − bilinear"])
    srt.add("original 8×8 (reference)", sr.acc_original, 0.0, None, sr.acc_original - sr.acc_bilinear)
    srt.add("bilinear upsampling (peer)", sr.acc_bilinear, sr.mse_bilinear, 1.0, 0.0)
    srt.add("nearest upsampling (peer)", sr.acc_nearest, sr.mse_nearest, sr.mse_nearest / sr.mse_bilinear,
            sr.acc_nearest - sr.acc_bilinear)
    srt.add("nearest train digit on 4×4 (peer)", acc_nn_sr, mse_nn_sr, mse_nn_sr / sr.mse_bilinear,
            acc_nn_sr - sr.acc_bilinear)
    srt.add("VAE latent optimization", sr.acc_latent, sr.mse_latent, sr.mse_latent / sr.mse_bilinear,
            sr.acc_latent - sr.acc_bilinear)
    srt.seconds = time.perf_counter() - t_sr
    srt.note("Observation: 2×2 average pooling of the 8×8 test digit (genlab.editing.downsample). Latent optimization: "
             "genlab.editing.super_resolve_latent, z* = argmin ‖avgpool2(decode(z)) − low‖² + λ‖z‖² with the settings "
             "above; the result is decode(z*). Bilinear / nearest: genlab.editing.upsample. Same VAE as the tables above.")
    log(f"beyond: super-resolution: latent {sr.acc_latent:.3f}, bilinear {sr.acc_bilinear:.3f}")
    return [acc, mse_t, srt]


def run(quick: bool = False, device: str = "cpu") -> list[Table]:
    """The section's tables. Everything runs on the CPU (the race is a CPU comparison), whatever ``device``."""
    tables = [race(quick)]
    tables += editing(quick)
    if device != "cpu":
        tables[0].note(f"--device {device} was given; this section runs on the CPU anyway.")
    return tables


def _main(argv=None) -> int:
    """``python -m bench.beyond [--seeds 0 1] [--seconds 60] [--threads 1]``: only the race (no image editing),
    one race per seed, each table printed as Markdown (RESULTS.md is not touched)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.beyond", description=_main.__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[SEED])
    parser.add_argument("--seconds", type=float, default=RACE_SECONDS, help="training seconds per model")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        parser.error(f"--seconds must be a positive number (got {args.seconds})")
    torch.set_num_threads(args.threads)
    for seed in args.seeds:
        print(race(seed=seed, seconds=args.seconds).markdown(), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
