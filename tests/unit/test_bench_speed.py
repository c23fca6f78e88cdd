"""bench/speed.py: the interaction-latency measurement (server-like AppTest reruns)."""

import torch

from bench import speed

torch.set_num_threads(1)


def test_server_like_apptest_compiles_a_page_once_and_times_every_script_run(tmp_path, monkeypatch):
    from streamlit.runtime.scriptrunner import script_cache
    from streamlit.testing.v1 import AppTest, local_script_runner

    page = tmp_path / "page.py"
    page.write_text("import streamlit as st\nx = st.slider('x', 0, 10, 3, key='x')\nst.markdown(str(x * 2))\n")
    compiled = []   # the page's compile() calls (a module global shadows the builtin in script_cache)
    monkeypatch.setattr(script_cache, "compile", lambda source, path, *args, **kwargs: (
        compiled.append(path), compile(source, path, *args, **kwargs))[1], raising=False)
    with speed._ServerLikeAppTest() as server:
        at = AppTest.from_file(str(page))
        at.run()
        for value in (5, 7, 9):
            at.slider(key="x").set_value(value)
            at.run()
        assert at.markdown[0].value == "18"
    assert len(server.runs) == 4 and all(wall > 0 and cpu >= 0 for wall, cpu in server.runs)
    assert len(compiled) == 1                                             # one compile for four runs, as on a server
    assert local_script_runner.ScriptCache is script_cache.ScriptCache   # AppTest is left as it was
    AppTest.from_file(str(page)).run()
    assert len(compiled) == 2 and len(server.runs) == 4                   # outside: AppTest's own behaviour again


def test_interaction_latency_quick_measures_both_kl_pages():
    table = speed.interaction_latency(quick=True)
    assert [row[0] for row in table.rows] == ["gaussian_kl", "kl_discrete"]
    for row in table.rows:
        server_median, server_max, cpu, apptest = row[2:6]
        assert 0 < server_median <= server_max and cpu > 0 and apptest > 0, row
        assert row[-1] in ("met", "NOT met"), row
