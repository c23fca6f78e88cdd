"""genlab.polls: anonymous class-poll tallies shared through files (issue 20, section 3)."""
from __future__ import annotations

import json

import pytest

from genlab import polls
from genlab.errors import GenlabError
from genlab.polls import PollStore, new_session_token


@pytest.fixture
def store(tmp_path) -> PollStore:
    return PollStore(tmp_path / ".polls")


def test_one_answer_per_session_and_a_changed_answer_replaces_the_old_one(store):
    alice, bob = new_session_token(), new_session_token()
    assert alice != bob
    for _ in range(50):  # a flood of answers from one session counts once
        store.record("kl-larger", "before", alice, 0)
    store.record("kl-larger", "before", bob, 0)
    assert store.tally("kl-larger", "before", 3) == [2, 0, 0]
    store.record("kl-larger", "before", bob, 2)
    assert store.tally("kl-larger", "before", 3) == [1, 0, 1]
    assert store.answer_of("kl-larger", "before", bob) == 2
    assert store.answer_of("kl-larger", "before", new_session_token()) is None
    assert store.tally("kl-larger", "after", 3) == [0, 0, 0]  # rounds are counted apart


def test_the_file_holds_counts_only_nothing_identifying(store):
    token = new_session_token()
    store.record("q", "before", token, 1)
    text = (store.folder / "q.before.json").read_text()
    assert token not in text  # only a hash of the random token
    data = json.loads(text)
    assert list(data) == ["answers"] and list(data["answers"].values()) == [1]


def test_the_tally_is_capped_and_the_oldest_answer_goes_first(store, monkeypatch):
    monkeypatch.setattr(polls, "MAX_ANSWERS", 5)
    tokens = [new_session_token() for _ in range(8)]
    for i, token in enumerate(tokens):
        store.record("q", "before", token, i % 2)
    assert sum(store.tally("q", "before", 2)) == 5
    assert store.answer_of("q", "before", tokens[0]) is None
    assert store.answer_of("q", "before", tokens[-1]) == 1


def test_reset_clears_both_rounds_of_one_question_only(store):
    token = new_session_token()
    store.record("q", "before", token, 0)
    store.record("q", "after", token, 1)
    store.record("other", "before", token, 1)
    store.reset("q")
    assert store.tally("q", "before", 2) == [0, 0] and store.tally("q", "after", 2) == [0, 0]
    assert store.tally("other", "before", 2) == [0, 1]
    store.reset("never-asked")  # nothing to clear is not an error


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"answers": [1]}', "\x00\xff",
                                     '{"answers": {"zz": 1, "0123456789abcdef": "x"}}', "[" * 5000])
def test_a_damaged_file_reads_as_an_empty_tally_and_is_replaced_on_the_next_answer(store, content):
    store.folder.mkdir(parents=True)
    (store.folder / "q.before.json").write_text(content, errors="surrogateescape")
    assert store.tally("q", "before", 2) == [0, 0]
    store.record("q", "before", new_session_token(), 1)
    assert store.tally("q", "before", 2) == [0, 1]


def test_answers_to_options_a_question_no_longer_has_are_left_out(store):
    store.record("q", "before", new_session_token(), 3)
    store.record("q", "before", new_session_token(), 0)
    assert store.tally("q", "before", 2) == [1, 0]


def test_two_stores_on_one_folder_see_each_others_answers(tmp_path):
    replica_a, replica_b = PollStore(tmp_path / "shared"), PollStore(tmp_path / "shared")
    replica_a.record("q", "before", new_session_token(), 0)
    replica_b.record("q", "before", new_session_token(), 1)
    assert replica_a.tally("q", "before", 2) == replica_b.tally("q", "before", 2) == [1, 1]
    replica_b.reset("q")
    assert replica_a.tally("q", "before", 2) == [0, 0]


def test_default_folder_is_hidden_in_the_run_store(monkeypatch, tmp_path):
    monkeypatch.setenv("GENLAB_RUNS_DIR", str(tmp_path))
    assert PollStore().folder == tmp_path / ".polls"


@pytest.mark.parametrize("question, round_name, option", [
    ("../etc", "before", 0), ("Q", "before", 0), ("", "before", 0), ("q", "during", 0),
    ("q", "before", -1), ("q", "before", 99), ("q", "before", True)])
def test_bad_ids_and_options_are_genlab_errors(store, question, round_name, option):
    with pytest.raises(GenlabError):
        store.record(question, round_name, new_session_token(), option)


def test_an_unwritable_folder_is_a_genlab_error_not_a_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = PollStore(blocker / ".polls")
    with pytest.raises(GenlabError, match="could not be counted"):
        store.record("q", "before", new_session_token(), 0)
    assert store.tally("q", "before", 2) == [0, 0]
    with pytest.raises(GenlabError, match="could not be reset"):
        store.reset("q")


def test_poll_figure_bars_per_option_first_option_on_top_rounds_side_by_side():
    from dashboard.figures.poll import poll_figure, wrap_label

    options = ["KL(q‖p) is larger", "KL(p‖q) is larger", "They are equal"]
    one = poll_figure(options, [3, 0, 1])
    assert len(one.data) == 1 and not one.layout.showlegend
    bars = one.data[0]
    assert list(bars.y)[::-1] == options and list(bars.x)[::-1] == [3, 0, 1]  # plotly's last category is on top
    assert list(bars.text)[::-1] == ["3 (75%)", "0", "1 (25%)"]
    two = poll_figure(options, [3, 0, 1], [0, 0, 4])
    assert [trace.name for trace in two.data] == ["after, asked again", "before"] and two.layout.showlegend
    assert two.layout.barmode == "group"
    with pytest.raises(ValueError):
        poll_figure(options, [1, 2])
    assert wrap_label("x " * 100, width=10, max_lines=2).count("<br>") == 1
