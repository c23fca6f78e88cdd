"""bench/judges.py (issue 22 §3): the targets' logic, the tables and one tiny scored training."""

from __future__ import annotations

import pytest
import torch

from bench import judges as bench_judges


def _entry(fd_cnn, kid_cnn, fd_mlp, kid_mlp):
    return {"cnn": {"fd": fd_cnn, "kid": kid_cnn, "kid_se": 0.1}, "mlp": {"fd": fd_mlp, "kid": kid_mlp, "kid_se": 0.01},
            "heldout": {"fd": 2 * fd_cnn, "kid": kid_cnn / 100, "kid_se": 0.1},
            "pixels": {"fd": 0.2, "kid": 0.0, "kid_se": 0.001}}


GMM = _entry(16.0, 200.0, 2.0, 0.01)


def test_dcgan_targets_need_both_classifier_spaces_and_a_lower_kid():
    assert bench_judges.dcgan_targets(_entry(12.0, 150.0, 1.5, 0.005), GMM)
    held_out_worse = {**_entry(12.0, 150.0, 1.5, 0.005), "heldout": {"fd": 99.0, "kid": 9.0, "kid_se": 0.1}}
    assert bench_judges.dcgan_targets(held_out_worse, GMM)   # the held-out judge validates, it is no target
    assert not bench_judges.dcgan_targets(_entry(12.0, 150.0, 2.1, 0.005), GMM)   # mlp FD 1.05x the GMM's
    assert not bench_judges.dcgan_targets(_entry(12.0, 250.0, 1.5, 0.005), GMM)   # cnn KID above the GMM's
    assert not bench_judges.dcgan_targets(_entry(12.1, 150.0, 1.5, 0.005), GMM)   # cnn FD 0.756x


def test_tables_mark_targets_and_ratios():
    rows = [{"model": "dcgan", "steps": 10, "train_s": 1.0, **_entry(12.0, 150.0, 2.1, 0.005)},
            {"model": "cgan", "steps": 10, "train_s": 1.0, **_entry(14.0, 150.0, 1.5, 0.005),
             "label_accuracy": {"cnn": 0.95, "mlp": 0.85, "heldout": 0.97}}]
    quality, accuracy = bench_judges._tables(rows, GMM, _entry(3.0, -1.0, 0.8, -0.001),
                                                 {"cnn": 0.98, "mlp": 0.97, "heldout": 0.975})
    names = [row[0] for row in quality.rows]
    assert names == ["real floor (test vs train split)", "GMM (10 comp., full cov.; mean of 5 fits)", "DCGAN", "cGAN"]
    dcgan = quality.rows[2]
    assert dcgan[4] == pytest.approx(12.0 / 16.0) and dcgan[7] == pytest.approx(2.1 / 2.0)
    assert dcgan[10] == pytest.approx(24.0 / 32.0) and "FD heldout" in quality.columns
    assert dcgan[-1] == "NOT met"
    assert accuracy.rows == [["cGAN", 0.95, 0.85, 0.97, "≥ 0.9 by cnn and mlp", "NOT met"]]
    assert "Pixel FD is for information only" in quality.markdown()


@pytest.mark.slow
def test_score_model_trains_through_the_cli_path_and_scores_every_space(monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setattr(bench_judges, "KID_SUBSETS", 5)
    row = bench_judges.score_model("cgan", seed=0, overrides={"steps": 3})
    assert row["steps"] == 3 and row["train_s"] > 0
    for judge in ("cnn", "mlp", "heldout", "pixels"):
        assert row[judge]["fd"] > 0 and row[judge]["kid_se"] > 0
    assert set(row["label_accuracy"]) == {"cnn", "mlp", "heldout"}
    assert all(0.0 <= v <= 1.0 for v in row["label_accuracy"].values())


def test_gmm_baseline_is_the_mean_over_its_fits(monkeypatch):
    fits = {0: _entry(10.0, 100.0, 1.0, 0.01), 1: _entry(14.0, 300.0, 2.0, 0.03)}
    monkeypatch.setattr(bench_judges, "GMM_SEEDS", (0, 1))
    monkeypatch.setattr(bench_judges, "gmm_samples", lambda n, seed: seed)
    monkeypatch.setattr(bench_judges, "score", lambda images: fits[images])
    gmm = bench_judges.gmm_scores(5)
    assert gmm["cnn"]["fd"] == pytest.approx(12.0) and gmm["cnn"]["kid"] == pytest.approx(200.0)
    assert gmm["mlp"]["fd"] == pytest.approx(1.5) and gmm["mlp"]["fd_range"] == (1.0, 2.0)
    quality, _ = bench_judges._tables([], gmm, _entry(3.0, -1.0, 0.8, -0.001), {"cnn": 0.98, "mlp": 0.97})
    assert "mean over 2 EM fits" in quality.markdown() and "mlp 1-2" in quality.markdown()
