"""The benchmark harness (bench/harness.py) on toy functions, and the results writer. Fast: no training."""

from __future__ import annotations

import time

import pytest

from bench import harness
from bench.harness import Table, compare, fmt, measure, verdict


def test_measure_counts_calls_and_returns_median():
    calls = []

    def fn():
        calls.append(1)
        return len(calls)

    timing = measure(fn, repeats=5, warmup=2)
    assert len(calls) == 7
    assert len(timing.times) == 5
    assert timing.value == 7
    assert min(timing.times) <= timing.median <= max(timing.times)
    assert timing.best == min(timing.times)
    with pytest.raises(ValueError):
        measure(fn, repeats=0)


def test_compare_alternates_and_ratio_favours_the_faster():
    order = []

    def fast():
        order.append("a")
        return "fast"

    def slow():
        order.append("b")
        time.sleep(0.01)
        return "slow"

    result = compare(fast, slow, rounds=4, warmup=1)
    assert order[:2] == ["a", "b"]          # warm-up
    assert order[2:] == ["a", "b", "b", "a", "a", "b", "b", "a"]   # order swapped every round
    assert len(result.ours.times) == len(result.peer.times) == 4
    assert result.ours.value == "fast" and result.peer.value == "slow"
    assert result.ratio > 1.0               # peer time / our time


def test_fmt_and_verdict():
    assert fmt(None) == "—"
    assert fmt(True) == "yes"
    assert fmt(0.123456) == "0.123"
    assert fmt(12345.6) == "12,346"
    assert fmt(float("nan")) == "nan"
    assert fmt(3) == "3"
    assert verdict(0.5, 1.0) == "met"
    assert verdict(1.5, 1.0) == "NOT met"
    assert verdict(0.96, 0.95, "higher") == "met"
    assert verdict(None, 1.0) == "—"


def test_table_rejects_wrong_row_length_and_renders_markdown():
    table = Table("Toy", ["name", "value"])
    table.add("a|b", 1.5)
    with pytest.raises(ValueError):
        table.add("only one cell")
    table.note("a note")
    table.seconds = 1.25
    text = table.markdown()
    assert "### Toy" in text
    assert "| name | value |" in text
    assert "| a\\|b | 1.5 |" in text       # pipes in cells are escaped
    assert "- a note" in text and "Section time: 1.2" in text
    skipped = Table("Skipped one", ["x"])
    skipped.skipped = "no chromium"
    assert "*Skipped: no chromium*" in skipped.markdown()


def test_write_results_has_machine_command_and_tables(tmp_path):
    # machine_info() imports torch (slow on a busy machine): build the same dict by hand here
    assert harness.cpu_model()
    info = {"cpus": 2, "cpu_model": harness.cpu_model(), "python": "3.11", "load_at_start": harness.load_average(),
            "busy": False, "torch": "x", "torch_threads": 2}
    table = Table("Toy benchmark", ["figure", "peer", "ratio"])
    timing = measure(lambda: sum(range(1000)), repeats=3)
    table.add(timing.median, timing.median * 2, 2.0)
    path = harness.write_results([table], info, "python -m bench --quick", "quick (smoke run)", 1.0,
                                 tmp_path / "RESULTS.md", {"quality": 0.5})
    text = path.read_text()
    assert text.startswith("# genlab benchmarks")
    assert "`python -m bench --quick`" in text
    assert "CPU(s)" in text and "torch" in text and "load average at start" in text
    assert "### Toy benchmark" in text and "| figure | peer | ratio |" in text
    assert "smoke run" in text
    assert "Sections: quality 0.5 s" in text


def test_busy_machine_is_flagged():
    info = {"cpus": 2, "cpu_model": "x", "python": "3", "load_at_start": (9.0, 9.0, 9.0), "busy": True,
            "torch": "2", "torch_threads": 2}
    assert "busy" in harness.machine_line(info)
