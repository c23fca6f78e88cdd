"""bench/beyond.py (issue #9's closing-note numbers) in quick mode: a race of 2 s per model and tiny
editing budgets (about 10 s on one core), then the tables' shape and the peers' sanity."""

from __future__ import annotations

import pytest
import torch

from bench import beyond, harness
from genlab import editing as ed


def test_nearest_fill_keeps_visible_pixels_and_copies_the_closest_train_digit():
    train = torch.stack([torch.zeros(1, 8, 8), torch.ones(1, 8, 8)])
    x = torch.full((1, 1, 8, 8), 0.9)
    m = ed.make_mask("bottom", 8)
    filled = beyond._nearest_fill(x, m, train)
    assert torch.equal(filled * m, x * m)                       # visible pixels untouched
    assert torch.equal(filled[..., 4:, :], torch.ones(1, 1, 4, 8))   # missing half from the all-ones digit
    assert torch.equal(beyond._nearest_low(ed.downsample(x), train), train[1:2])


@pytest.mark.slow
def test_quick_section_builds_its_tables(monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setattr(beyond, "QUICK_RACE_SECONDS", 1.0)
    tables = beyond.run(quick=True)
    assert len(tables) == 4
    race, acc, mse, sr = tables
    assert [row[0] for row in race.rows][:2] == ["transformer GAN (page default)", "DCGAN (gan_configs defaults)"]
    tgan, dcgan = race.rows[0], race.rows[1]
    assert tgan[3] >= 1.0 and dcgan[3] >= 1.0                   # each trained its full budget
    assert tgan[6] == pytest.approx(tgan[4] / dcgan[4])         # ratio = FD(tgan) / FD(DCGAN)
    assert tgan[8] in ("met", "NOT met")
    assert len(acc.rows) == len(mse.rows) == len(beyond.EDIT_KINDS)
    for row in acc.rows:
        assert all(0.0 <= v <= 1.0 for v in row[1:7])
    for row in mse.rows:
        assert row[1] > row[2]                                  # black holes are worse than the mean image
    assert [row[0] for row in sr.rows][1] == "bilinear upsampling (peer)"
    text = "\n".join(t.markdown() for t in tables)
    assert "Section time" in text and "gan_configs('dcgan'" in text
    assert harness.fmt(race.rows[0][4]) != "nan"
