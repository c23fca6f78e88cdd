"""Bayesian networks (directed graphical models) — the lecture's last section, issue 9.

Pick a preset or build a small DAG, read its factorization P(X_1..X_D) = Π_d P(X_d | parents(X_d)),
edit the conditional probability tables, sample ancestrally and compare the sample frequencies
with the exact joint, count parameters with and without the graph's independence assumptions,
and ask P(X | evidence) by enumeration. Everything is tiny and exact, so every rerun is instant.

URL settings: ``preset``, ``n`` (number of samples), ``seed``, and every change from the preset —
the graph (``vars``, ``edges``), the tables (``cpt``, and ``draft`` for tables typed but not valid
yet), the query variable (``query``) and the evidence (``ev``); see :mod:`dashboard.bayesnet_link`.
So a copied link reopens the same network, tables and question. A part of a link that cannot be
used falls back to the preset with a warning that says which.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:  # `streamlit run dashboard/pages/...` or AppTest from elsewhere
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from dashboard import common  # noqa: E402

ctx = common.setup_page("Bayesian networks")
from dashboard.tour import tour_box  # noqa: E402  (the guided walk: before the controls, it sets them)
tour_box("bayesian_networks")
# The first visit after a server start also loads pandas, pyarrow and plotly: a spinner says so. Closed at the end.
_done_building = common.first_visit_spinner("Building the page: the network, its tables, samples and figures")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dashboard import bayesnet_link as link  # noqa: E402
from dashboard import predict  # noqa: E402
from dashboard.figures import bayesnet as figs  # noqa: E402
from genlab import bayesnet as bn  # noqa: E402
from genlab.errors import GenlabError  # noqa: E402

DEFAULT_PRESET = "sprinkler/rain/wet grass"
NOT_OBSERVED = "(not observed)"
JOINT_BARS_MAX = 32  # above this many joint configurations the chart shows marginals
TV_CURVE_SIZES = (10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
MAX_N = 100_000
BAD_ROW_STYLE = "background-color: #f8d7da; color: #721c24; font-weight: 600"

ss = st.session_state


# --------------------------------------------------------------------------- #
# Session state
#   bn_net      the network (JSON dict): structure + the last *valid* table of every variable
#   bn_tables   {name: table} as the user typed it (may be invalid); what the editors show
#   bn_rev      {name: int} editor revision, bumped only when a table is *replaced* (preset, button,
#               normalize, graph change): the editor then starts afresh under a new key. A cell edit
#               keeps the key: the editor keeps its identity (a keyed, fixed-rows editor is identified
#               by its columns, not its values), so the browser keeps the grid and its focus while the
#               new values (live row sums) flow in; it is redrawn only when a row goes wrong or right
#               again (red rows need a Styler, another kind of data). Edits are absorbed into bn_tables
#               at once, so a redrawn editor loses none.
# --------------------------------------------------------------------------- #
def editor_key(name: str) -> str:
    """Session key of the CPT editor of ``name`` (changes whenever its table is replaced)."""
    return f"bn_cpt_{ss.get('bn_rev', {}).get(name, 0)}_{name}"


def stored_network() -> bn.BayesianNetwork:
    """The network with the last valid table of every variable."""
    return bn.BayesianNetwork.from_dict(ss["bn_net"])


def store_network(net: bn.BayesianNetwork) -> None:
    """Store ``net``; the editors restart from its tables (new keys)."""
    ss["bn_net"] = net.to_dict()
    ss["bn_tables"] = {name: net.cpt(name).tolist() for name in net.names}
    revisions = dict(ss.get("bn_rev", {}))
    for name in net.names:
        revisions[name] = revisions.get(name, 0) + 1
    ss["bn_rev"] = revisions


def load_preset(name: str) -> None:
    """Load a preset, its suggested query and evidence."""
    preset = bn.PRESETS[name]
    store_network(preset.network())
    ss["bn_loaded"] = name
    ss["bn_query"] = preset.query
    for variable in preset.variables:
        ss[f"bn_ev_{variable}"] = preset.evidence.get(variable, NOT_OBSERVED)


def apply_cell_edits(net: bn.BayesianNetwork, name: str, table: np.ndarray, state: object) -> bool:
    """Write the cell edits a data_editor keeps in session state (``{"edited_rows": {row:
    {column: value}}}``) into ``table`` (in place). Empty or non-numeric cells become NaN, which
    :meth:`BayesianNetwork.cpt_problems` reports. Returns True when there was an edit."""
    edited_rows = state.get("edited_rows") if isinstance(state, dict) else None
    if not edited_rows:
        return False
    columns = {net.state_column(name, s): j for j, s in enumerate(net.states(name))}
    for row, changes in edited_rows.items():
        try:
            r = int(row)
        except (TypeError, ValueError):
            continue
        if not 0 <= r < len(table) or not isinstance(changes, dict):
            continue
        for column, value in changes.items():
            if column in columns:
                try:
                    table[r, columns[column]] = np.nan if value is None else float(value)
                except (TypeError, ValueError):
                    table[r, columns[column]] = np.nan
    return True


def absorb_edits(net: bn.BayesianNetwork) -> tuple[bn.BayesianNetwork, dict[str, np.ndarray], dict[str, list]]:
    """Apply the editors' cell edits to ``bn_tables``, store every valid table in the network.

    Returns (network with the valid tables, the tables as typed, their row problems). An editor
    keeps all its edits since its table was last replaced, so applying them again is harmless.
    """
    typed = ss.get("bn_tables", {})
    tables: dict[str, np.ndarray] = {}
    problems: dict[str, list] = {}
    valid: dict[str, np.ndarray] = {}
    for name in net.names:
        table = np.array(typed.get(name, net.cpt(name)), dtype=float)
        if table.shape != net.cpt(name).shape:
            table = net.cpt(name)
        apply_cell_edits(net, name, table, ss.get(editor_key(name)))
        tables[name] = table
        problems[name] = net.cpt_problems(name, table)
        valid[name] = net.cpt(name) if problems[name] else table
    ss["bn_tables"] = {name: table.tolist() for name, table in tables.items()}
    current = bn.BayesianNetwork(net.variables, net.edges, valid)
    if current != net:
        ss["bn_net"] = current.to_dict()
    return current, tables, problems


# --------------------------------------------------------------------------- #
# The URL (the link to this view): the changes from the preset, see dashboard.bayesnet_link
#   bn_link     the page's link parameters as this page last wrote them; when the URL holds
#               something else (a link opened in this session), the URL wins
# --------------------------------------------------------------------------- #
def url_link_params() -> dict[str, str | None]:
    """The page's link parameters (``vars``, ``edges``, ``cpt``, ``draft``, ``query``, ``ev``) in the URL."""
    values: dict[str, str | None] = {}
    for param in link.PARAMS:
        try:
            value = st.query_params.get(param)
        except Exception:  # pragma: no cover - no script context
            value = None
        values[param] = None if value is None else str(value)
    return values


def write_link_params(values: dict[str, str | None]) -> None:
    """Put ``values`` into the URL (None removes a parameter) and remember them in ``bn_link``."""
    for param, value in values.items():
        if value is None:
            if param in st.query_params:
                del st.query_params[param]
        elif st.query_params.get(param) != value:
            st.query_params[param] = value
    ss["bn_link"] = {**ss.get("bn_link", {}), **values}


def load_link(preset_name: str) -> list[str]:
    """Load the preset with the URL's changes; returns warnings for the parts that were ignored."""
    state = link.state_from_link(preset_name, url_link_params())
    store_network(state.network)
    ss["bn_tables"] = {name: table.tolist() for name, table in state.typed.items()}
    ss["bn_loaded"] = preset_name
    ss["bn_query"] = state.query or state.network.names[0]
    for variable in state.network.names:
        ss[f"bn_ev_{variable}"] = state.evidence.get(variable, NOT_OBSERVED)
    return state.warnings


# --------------------------------------------------------------------------- #
# Callbacks of the graph builder (they run before the script, so the page redraws at once)
# --------------------------------------------------------------------------- #
def _report(kind: str, text: str) -> None:
    ss["bn_msg"] = (kind, text)


def _change(action, success: str) -> None:
    try:
        net = action(stored_network())
    except GenlabError as err:
        _report("error", str(err))
        return
    store_network(net)
    _report("success", success)


def on_add_variable() -> None:
    name = str(ss.get("bn_new_name", "")).strip()
    count = int(ss.get("bn_new_states", 2))
    names_text = str(ss.get("bn_new_state_names", "")).strip()
    if not name:
        _report("error", "type a name for the new variable (letters, digits, spaces or _ , starting with a letter)")
        return
    if names_text:
        states: list[str] | int = [s.strip() for s in names_text.split(",") if s.strip()]
        if len(states) != count:
            _report(
                "error",
                f"you typed {len(states)} state name(s) but chose {count} states; give {count} comma-separated "
                "names or leave the names empty for 0, 1, …",
            )
            return
    else:
        states = count
    _change(lambda net: net.with_variable(name, states), f"added {name}; connect it with an edge below")


def on_remove_variable() -> None:
    name = ss.get("bn_remove_var")
    _change(lambda net: net.without_variable(name), f"removed {name} and its edges")


def on_add_edge() -> None:
    parent, child = ss.get("bn_edge_parent"), ss.get("bn_edge_child")
    _change(
        lambda net: net.with_edge(parent, child),
        f"added {parent} → {child}; the CPT of {child} now has a row per parent assignment (reset to uniform)",
    )


def on_remove_edge() -> None:
    label = ss.get("bn_edge_remove") or ""
    parent, _, child = label.partition(" → ")
    _change(lambda net: net.without_edge(parent, child), f"removed {label}; the CPT of {child} was reset to uniform")


def on_uniform() -> None:
    _change(lambda net: net.with_uniform_cpts(), "every CPT row is now uniform")


def on_random() -> None:
    ss["bn_random_draw"] = ss.get("bn_random_draw", 0) + 1
    _change(lambda net: net.with_random_cpts(seed=ss["bn_random_draw"]), "drew new random CPTs (Dirichlet rows)")


def on_reset() -> None:
    load_preset(ss.get("bn_loaded", DEFAULT_PRESET))
    _report("success", "back to the preset's graph and tables")


def on_normalize(name: str) -> None:
    """Replace the typed table of ``name`` by its normalized rows (and store it)."""
    table = ss.get("bn_tables", {}).get(name)
    if table is None:
        return
    net = stored_network()
    try:
        store_network(net.with_cpt(name, bn.normalize_rows(table)))
    except GenlabError as err:  # pragma: no cover - normalize_rows always gives valid rows
        _report("error", str(err))


# --------------------------------------------------------------------------- #
# Cached computations (keyed by the network's JSON)
# --------------------------------------------------------------------------- #
@st.cache_data(max_entries=64, show_spinner=False)
def tv_curve(network_json: str, seed: int) -> pd.DataFrame:
    """TV of the first n samples for the sizes of TV_CURVE_SIZES (one run of MAX_N samples)."""
    net = bn.BayesianNetwork.from_dict(json.loads(network_json))
    return net.tv_by_sample_size(TV_CURVE_SIZES, seed)


# --------------------------------------------------------------------------- #
# The page
# --------------------------------------------------------------------------- #
common.page_state("bn_net", "bn_tables", "bn_rev", "bn_loaded", "bn_link")  # opened again: as fresh (issue 23)
font_size = getattr(common, "INSTRUCTOR_FONT", 22) if ctx.instructor else getattr(common, "NORMAL_FONT", 15)


def columns(spec, gap: str = "small", projector: int | None = None) -> list:
    """``st.columns(spec)``; in instructor mode (projector fonts) side-by-side blocks are stacked,
    or put ``projector`` to a row (at 1280 px they cut off formulas, tables and labels)."""
    count = spec if isinstance(spec, int) else len(spec)
    if not ctx.instructor:
        return list(st.columns(spec, gap=gap))
    if projector is None:
        return [st.container() for _ in range(count)]
    out: list = []
    while len(out) < count:
        out += list(st.columns(min(projector, count - len(out)), gap=gap))
    return out


common.explain(
    "A **Bayesian network** (a *directed graphical model*) consists of a graph G — the *qualitative* "
    "specification, from domain knowledge or learned from data — and one conditional probability table "
    "per variable — the *quantitative* specification. Together they define the joint distribution:"
)
st.latex(r"P(X_1,\dots,X_D) \;=\; \prod_{d=1}^{D} P\big(X_d \mid \mathrm{parents}(X_d)\big)")

asked = st.query_params.get("preset")  # before qp_select drops an unknown name from the URL
select_col, about_col = columns([1, 2.2], gap="large")
with select_col:
    preset = common.qp_select(
        "Network", "preset", bn.PRESET_NAMES, DEFAULT_PRESET,
        help="A ready-made graph with tables; change it below or start from the empty graph.",
    )
link_warnings: list[str] = []
if "bn_net" not in ss:  # first visit: the link's network
    link_warnings = load_link(preset)
    if asked is not None and asked != preset:
        link_warnings.insert(
            0, f"This link's `preset` setting {asked!r} is not one of the networks; showing “{preset}” instead."
        )
elif ss.get("bn_loaded") != preset:  # another preset chosen: its own graph and tables
    load_preset(preset)
elif url_link_params() != ss.get("bn_link"):  # the URL changed under the page
    link_warnings = load_link(preset)
with about_col:
    common.explain(bn.PRESETS[preset].description)
# Notes that come and go live in containers that are always there: an element inserted above the
# rest shifts every later element's place in the page, the browser then rebuilds them all (grids,
# figures) and the page jumps back up at each edit (issue 23).
notices = st.container()
for text in link_warnings:
    notices.warning(text, icon="⚠️")

try:
    stored = stored_network()
except GenlabError as err:  # pragma: no cover - only valid networks are stored
    st.error(str(err))
    load_preset(preset)
    stored = stored_network()

# Cell edits of the CPT editors (from the last interaction) go into the tables first, so
# everything on the page — graph, counts, sampling, queries — uses them.
current, typed_tables, problems_by_name = absorb_edits(stored)
invalid = [name for name, problems in problems_by_name.items() if problems]
write_link_params(link.link_params(bn.PRESETS[preset].network(), current, typed_tables))
if invalid or current != bn.PRESETS[preset].network():
    notices.caption(f"✏️ Changed from the preset “{preset}” — *Reset to preset* (under “Change the graph”) goes back.")

# Query / evidence as the widgets at the bottom of the page left them (for shading the graph).
query_now = ss.get("bn_query") if ss.get("bn_query") in current.names else None
observed_now = [
    name for name in current.names
    if name != query_now and ss.get(f"bn_ev_{name}") in current.states(name)
]

# --------------------------------------------------------------------------- graph + factorization
graph_col, formula_col = columns([1.1, 1], gap="large")
with graph_col:
    st.subheader("The graph G")
    common.show_figure(
        figs.network_figure(current, observed=observed_now, query=query_now, font_size=font_size, dark=ctx.dark,
                            palette=ctx.palette),
        key="bn_graph",
    )
    common.caption(
        "Parents are drawn above their children. Grey = observed (evidence in the query below), "
        "orange ring = query variable.",
        explanation="Hover a variable for its states.",
    )
with formula_col:
    st.subheader("Its factorization")
    st.latex(current.factorization_latex(max_line_chars=36))
    order = current.topological_order()
    if len(order) > 1:
        st.caption("Factors in topological order (parents first): " + " → ".join(order))
    example = current.joint_table().sort_values(bn.PROBABILITY_COLUMN, ascending=False).iloc[0]
    assignment = {name: example[name] for name in current.names}
    terms = current.product_rule_terms(assignment)
    common.explain(
        "**One joint probability by the product rule** (the most likely configuration): "
        + f"P({', '.join(f'{k}={v}' for k, v in assignment.items())}) = "
        + " × ".join(f"{value:.3g}" for _, value in terms)
        + f" = **{example[bn.PROBABILITY_COLUMN]:.4g}**"
    )

    st.subheader("Parameter count")
    with_graph, full = current.parameter_count(), current.full_joint_parameter_count()
    m1, m2 = st.columns(2)
    m1.metric("with graph", f"{with_graph:,}", help="Free numbers in the CPTs of this graph.")
    m2.metric("full table", f"{full:,}", help="Free numbers in a joint table of every configuration.")
    st.latex(
        r"\begin{aligned}&\textstyle\sum_d (|X_d|-1)\prod_{U \in \mathrm{pa}(X_d)} |U| \\ &\quad= "
        + current.parameter_count_formula()
        + r" \\[4pt] &\textstyle\prod_d |X_d| - 1 \\ &\quad= "
        + current.full_joint_parameter_count_formula().replace("·", r"\cdot ").replace("−", "-")
        + r"\end{aligned}"
    )
    if full > with_graph:
        st.caption(f"The graph's independence assumptions save {full - with_graph:,} of {full:,} parameters.")
    else:
        st.caption("Same count: this graph makes no independence assumption (every pair is connected).")
    common.explain(
        "Each CPT row has |X_d| entries but only |X_d| − 1 are free (a row sums to 1), and there is "
        "one row per assignment of the parents. A full joint table needs one number per configuration "
        "(minus one). The missing edges are the independence assumptions that save parameters."
    )

# --------------------------------------------------------------------------- three types of graphical models
with st.expander("Three types of graphical models — this network drawn as each", expanded=True):
    common.show_figure(figs.graph_types_figure(current, font_size=font_size - 1, dark=ctx.dark,
                                               height=360 if ctx.instructor else 290, palette=ctx.palette),
                       key="bn_graph_types")
    short = figs.short_labels(current.names)
    if any(label != name for name, label in short.items()):
        st.caption(", ".join(f"{label} = {name}" for name, label in short.items()) + ".")
    _, married = figs.moral_edges(current)
    married_text = (
        "To hold this network's factors, the undirected graph must join parents that share a child "
        "(“moralization”, dashed: "
        + ", ".join(f"{short[a]}–{short[b]}" for a, b in married)
        + "); the undirected graph then no longer shows an independence that only the arrows encode (in the "
        "v-structure preset, Burglary and Earthquake are independent until the alarm is seen)."
        if married else "This network has no two parents of one child, so the undirected graph is its arrows "
        "without direction."
    )
    common.explain(
        "- **Directed** — a *Bayesian network*, this page: an arrow from each parent to its child. Every factor "
        "P(X_d | parents(X_d)) is a probability table, so the product needs no normalizing and can be sampled "
        "parent-first.\n"
        "- **Undirected** — a *Markov random field*: plain edges and P(x) = (1/Z) ∏_C ψ_C(x_C) over the cliques C. "
        "The potentials ψ_C ≥ 0 need not be probabilities, hence the normalizer Z. " + married_text + "\n"
        "- **Factor graph** — variables (circles) and factors (squares), a factor joined to every variable it "
        "uses: it shows exactly which terms the product has — here one square per table P(X_d | parents). "
        "Inference by message passing (sum-product) runs on it."
    )

# --------------------------------------------------------------------------- graph builder
message = ss.pop("bn_msg", None)
with st.expander(
    "✏️ Change the graph — add or remove variables and edges",
    expanded=message is not None or preset.startswith("empty"),
):
    if message is not None:
        (st.error if message[0] == "error" else st.success)(message[1])
    names = list(current.names)
    add_col, remove_col, edge_col, unedge_col = columns(4, projector=2)
    with add_col:
        st.markdown("**Add a variable**")
        st.text_input("Name", key="bn_new_name", placeholder="e.g. Traffic", max_chars=24)
        st.number_input("Number of states", min_value=2, max_value=bn.MAX_STATES, value=2, step=1, key="bn_new_states")
        st.text_input("State names (optional)", key="bn_new_state_names", placeholder="e.g. no, yes")
        st.button("Add variable", on_click=on_add_variable, disabled=len(names) >= bn.MAX_VARIABLES)
        if len(names) >= bn.MAX_VARIABLES:
            st.caption(f"At most {bn.MAX_VARIABLES} variables, so the exact joint stays small.")
    with remove_col:
        st.markdown("**Remove a variable**")
        if ss.get("bn_remove_var") not in names:
            ss["bn_remove_var"] = names[-1]
        st.selectbox("Variable", names, key="bn_remove_var")
        st.button("Remove variable", on_click=on_remove_variable, disabled=len(names) <= 1)
    with edge_col:
        st.markdown("**Add an edge parent → child**")
        for key, fallback in (("bn_edge_parent", names[0]), ("bn_edge_child", names[-1])):
            if ss.get(key) not in names:
                ss[key] = fallback
        st.selectbox("Parent", names, key="bn_edge_parent")
        st.selectbox("Child", names, key="bn_edge_child")
        st.button(f"Add {ss['bn_edge_parent']} → {ss['bn_edge_child']}", key="bn_add_edge", on_click=on_add_edge)
    with unedge_col:
        st.markdown("**Remove an edge**")
        edge_labels = [f"{p} → {c}" for p, c in current.edges]
        if edge_labels:
            if ss.get("bn_edge_remove") not in edge_labels:
                ss["bn_edge_remove"] = edge_labels[0]
            st.selectbox("Edge", edge_labels, key="bn_edge_remove")
            st.button("Remove edge", on_click=on_remove_edge)
        else:
            st.caption("No edges yet: every variable is independent of the others.")
    common.caption(explanation=(
        "A Bayesian network's graph must be acyclic: an edge that would close a directed cycle is refused. "
        "Adding or removing an edge resets the child's table to uniform (its rows change)."
    ))
    b1, b2, b3, b4 = columns(4, projector=2)
    b1.button("Uniform tables", on_click=on_uniform, help="Every row 1/|X|.")
    b2.button("Random tables", on_click=on_random, help="Rows drawn from a Dirichlet(1) distribution.")
    b3.button("Reset to preset", on_click=on_reset)
    b4.download_button(
        "Download network (JSON)",
        json.dumps(current.to_dict(), indent=2),
        file_name="bayesian-network.json",
        mime="application/json",
    )

# --------------------------------------------------------------------------- CPT editors
st.subheader("Conditional probability tables")
common.explain(
    "One table per variable: each row is the distribution P(X_d | parents = that row's values) and must "
    "sum to 1. Edit a number and everything below updates. A row that is not a distribution is shown "
    "in red and the rest of the page keeps using the last valid table until you fix it or press "
    "*Normalize rows* (which divides each row by its sum)."
)
open_pair: list = []  # the right-hand column of a pair whose left half is used
for name in current.topological_order():
    table, problems = typed_tables[name], problems_by_name[name]
    parents = list(current.parents(name))
    state_columns = [current.state_column(name, s) for s in current.states(name)]
    bad_rows = {p.row for p in problems}
    frame = current.cpt_frame(name)
    frame[state_columns] = table  # as typed, possibly invalid
    frame["row sum"] = np.nansum(table, axis=1)
    # Styler colours only the read-only columns; used only when a row is wrong (styling is slow). Switching between the two gives the editor a new identity: that one grid is redrawn.
    styled = (
        frame.style.apply(lambda row: [BAD_ROW_STYLE if row.name in bad_rows else "" for _ in row], axis=1)
        if bad_rows
        else frame
    )
    config = {p: st.column_config.TextColumn(p, disabled=True) for p in parents}
    for column, state in zip(state_columns, current.states(name)):
        config[column] = st.column_config.NumberColumn(
            column, min_value=0.0, max_value=1.0, step=0.01, format="%.3f",
            help=f"P({name}={state} | the row's parent values)",
        )
    config["row sum"] = st.column_config.NumberColumn("row sum", disabled=True, format="%.3f")
    factor = current.factors()[current.topological_order().index(name)]
    # narrow tables two per row; a table with many or long columns gets the full width
    header_chars = sum(len(c) + 4 for c in list(frame.columns))
    if header_chars > 48 or ctx.instructor:
        open_pair = []
        place = st.container()
    elif open_pair:
        place = open_pair.pop()
    else:
        left, right = st.columns(2, gap="large")
        place, open_pair = left, [right]
    with place:
        st.markdown(f"**{factor}**")
        st.data_editor(
            styled,
            key=editor_key(name),
            hide_index=True,
            num_rows="fixed",
            column_config=config,
            disabled=parents + ["row sum"],
            width="stretch",
        )
        for problem in problems:
            st.error(problem.message)
        if problems:
            st.button(
                f"Normalize rows of {factor}", key=f"bn_normalize_{name}", on_click=on_normalize, args=(name,),
                help="p_s ← max(p_s, 0) / Σ_t max(p_t, 0); an all-zero row becomes uniform.",
            )

invalid_note = st.container()  # always there, see `notices`
if invalid:
    invalid_note.warning(
        f"The table(s) of {', '.join(invalid)} have invalid rows; sampling and queries below use their last "
        "valid version until they are fixed."
    )

# --------------------------------------------------------------------------- ancestral sampling
st.subheader("Ancestral sampling")
common.explain(
    "Visit the variables in topological order — **" + " → ".join(current.topological_order()) + "** — and "
    "draw each one from its table row selected by the values already drawn for its parents. Repeat n times. "
    "The sample frequencies approach the exact joint; their distance is measured by the total variation "
    "TV = ½ Σ_x |P̂(x) − P(x)|, which shrinks roughly like 1/√n."
)
n_col, seed_col, tv_col, full_col = columns(4, projector=2)
with n_col:
    n = int(common.qp_number("Number of samples n", "n", 1, MAX_N, 1000, step=100))
with seed_col:
    seed = int(common.qp_number("Seed", "seed", 0, 1_000_000, 0, step=1))
samples = current.sample_indices(n, seed)
comparison = current.compare_joint(samples)
with tv_col:
    st.metric("TV distance", f"{comparison.tv:.4f}", help="TV(sample frequencies, exact joint) = ½ Σ_x |P̂(x) − P(x)|")
with full_col:
    st.metric("typical TV", f"{bn.expected_tv(comparison.table['exact'], n):.4f}",
              help="The typical TV for this n: ½ Σ_x √(2 P(x)(1 − P(x)) / (π n)), the normal approximation of E[TV].")

if current.joint_size <= JOINT_BARS_MAX:
    st.markdown(f"**Sample frequencies vs the exact joint** ({current.joint_size} configurations)")
    common.show_figure(figs.joint_comparison_figure(comparison.table, current.names, n, palette=ctx.palette,
                                                  projector=ctx.instructor), key="bn_joint_bars")
else:
    st.markdown(
        f"**Sample frequencies vs exact marginals** (the joint has {current.joint_size:,} configurations — "
        "too many bars; the TV above still uses the full joint)"
    )
    common.show_figure(
        figs.marginal_comparison_figure(current.compare_marginals(samples), n, palette=ctx.palette,
                                        projector=ctx.instructor), key="bn_marginal_bars"
    )

curve_col, samples_col = columns([1.6, 1], gap="large")
with curve_col:
    st.markdown("**TV shrinks as n grows** (the first n of one run of samples)")
    curve = tv_curve(json.dumps(current.to_dict()), seed)
    common.show_figure(figs.tv_curve_figure(curve, n, comparison.tv, palette=ctx.palette,
                                            projector=ctx.instructor), key="bn_tv_curve")
with samples_col:
    st.markdown("**The first samples** (one row per sample)")
    st.dataframe(current.sample(min(n, 10), seed), hide_index=False)

# --------------------------------------------------------------------------- query
# The explaining-away question of the presets with two causes of one observed effect:
# preset -> (query variable and state, the observed effect, the other cause learnt afterwards, question)
EXPLAINING_AWAY = {
    "sprinkler/rain/wet grass": (
        ("Rain", "yes"), ("Wet grass", "yes"), ("Sprinkler", "yes"),
        "Given the grass is wet, does learning that the sprinkler was on make rain more or less likely?"),
    "v-structure (collider, explaining away)": (
        ("Burglary", "yes"), ("Alarm", "yes"), ("Earthquake", "yes"),
        "Given the alarm went off, does learning that there was an earthquake make a burglary more or less likely?"),
}
MORE_LESS = ("More likely", "Less likely", "No change")


def explaining_away_question(net: bn.BayesianNetwork, preset_name: str) -> predict.Prediction | None:
    """Ask the preset's explaining-away question (None when the preset has none or the network
    no longer has its variables); the answer is computed by enumeration on ``net`` as it is now."""
    if preset_name not in EXPLAINING_AWAY:
        return None
    (query, state), (effect, seen), (cause, learnt), question = EXPLAINING_AWAY[preset_name]
    if any(name not in net.names or value not in net.states(name)
           for name, value in ((query, state), (effect, seen), (cause, learnt))):
        return None
    try:
        before = float(net.conditional(query, {effect: seen})[state])
        after = float(net.conditional(query, {effect: seen, cause: learnt})[state])
    except GenlabError as err:   # evidence of probability 0 with these tables
        return predict.predict("bn-explaining-away", question, MORE_LESS, answer=None,
                               pending=f"With these tables the question has no answer: {err}")
    answer = 0 if after > before + 1e-12 else 1 if after < before - 1e-12 else 2
    why = (f"By enumeration: P({query}={state} | {effect}={seen}) = {before:.4f}, and with {cause}={learnt} as well "
           f"P({query}={state} | {effect}={seen}, {cause}={learnt}) = {after:.4f}. ")
    if answer == 1:
        why += (f"{cause} already explains {effect}, so {query} is no longer needed to explain it: *explaining "
                f"away*. The two causes compete once their common effect is observed. See it below: set "
                f"{cause} = {learnt} in the evidence.")
    else:
        why += f"With these tables explaining away does not win; see it below by setting {cause} = {learnt}."
    return predict.predict("bn-explaining-away", question, MORE_LESS, answer=answer, why=why)


st.subheader("Ask a question: P(X | evidence)")
common.explain(
    "By enumeration over the exact joint: P(q | e) = Σ_h P(q, e, h) / Σ_{q′,h} P(q′, e, h), where h runs over "
    "the variables that are neither query nor evidence."
)
explaining_away = explaining_away_question(current, preset)
if explaining_away is None or explaining_away.revealed:   # the hint would give the answer away
    common.explain("Try the v-structure preset: observing the alarm makes a burglary likely; *also* observing "
                   "an earthquake explains the alarm away.")
names = list(current.names)
if ss.get("bn_query") not in names:
    ss["bn_query"] = names[0]
query_col, evidence_col = columns([1, 3], gap="large")
with query_col:
    query = st.selectbox("Query variable X", names, key="bn_query")
evidence: dict[str, str] = {}
others = [name for name in names if name != query]
with evidence_col:
    if others:
        st.markdown("**Evidence** (observed values)")
        cells = st.columns(min(len(others), 2 if ctx.instructor else 4))
        for j, name in enumerate(others):
            options = [NOT_OBSERVED] + current.states(name)
            key = f"bn_ev_{name}"
            if ss.get(key) not in options:
                ss[key] = NOT_OBSERVED
            with cells[j % len(cells)]:
                value = st.selectbox(name, options, key=key)
            if value != NOT_OBSERVED:
                evidence[name] = value
    else:
        st.caption("Only one variable: nothing to observe.")

prior = current.marginal(query)
try:
    posterior = current.conditional(query, evidence) if evidence else None
except GenlabError as err:
    st.error(str(err))
    posterior = None
answer_col, chart_col = columns([1, 1.35], gap="large")
with answer_col:
    given = ", ".join(f"{k}={v}" for k, v in evidence.items())
    shown = posterior if posterior is not None else prior
    rows = pd.DataFrame({"state": prior.index, "P(X) before": prior.to_numpy()})
    if posterior is not None:
        rows[f"P(X | {given})"] = posterior.to_numpy()
    st.dataframe(rows.style.format({c: "{:.4f}" for c in rows.columns if c != "state"}), hide_index=True)
    best = shown.idxmax()
    if posterior is not None:
        st.markdown(f"Most likely: **{query} = {best}** with P({query}={best} | {given}) = **{shown[best]:.4f}** "
                    f"(before the evidence: {prior[best]:.4f}).")
    else:
        st.markdown(f"No evidence: this is the marginal P({query}). Choose observed values on the right.")
with chart_col:
    common.show_figure(figs.query_figure(prior, posterior, palette=ctx.palette, projector=ctx.instructor), key="bn_query_chart")

write_link_params(link.query_params_for(bn.PRESETS[preset], query, evidence))
common.copy_link_button()
_done_building()
