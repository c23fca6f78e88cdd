"""KL divergence — discrete (issue 3): the lecture's "KL Divergence: Example" slide, editable.

The table (x, q(x), p(x)) lives in the URL as ``?table=`` (JSON rows) so a link
reproduces it; presets, units and everything else use common.qp_* widgets.
Edits are never an error page: bad cells are marked and a "normalize" action
is offered.
"""
from __future__ import annotations

import json
import math

import streamlit as st

from dashboard import common

TITLE = "KL divergence — discrete"
ctx = common.setup_page(TITLE)
from dashboard.tour import tour_box  # noqa: E402  (the guided walk: before the controls, it sets them)
tour_box("kl_discrete")
# The first visit after a server start loads pandas, plotly and the page's numerics: a spinner says so.
_done_building = common.first_visit_spinner()  # closed at the end
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dashboard import predict, safe_text  # noqa: E402
from dashboard.figures import kl as klfig  # noqa: E402
from dashboard.figures.palette import rgba  # noqa: E402
from genlab import divergences as dv  # noqa: E402
from genlab.errors import GenlabError  # noqa: E402
from genlab.safe_json import loads_bounded  # noqa: E402

LN2 = math.log(2)
COLS = ("x", "q(x)", "p(x)")
BASE_KEY = "_kl_base"  # the table the editor starts from (list of [x, q, p])
VER_KEY = "_kl_ver"  # bumped when a preset/button replaces the table (new editor widget)
CUR_KEY = "_kl_current"  # the table as last edited (for the buttons' callbacks)
common.page_state(BASE_KEY, VER_KEY, CUR_KEY)  # the table is a lesson setting: opened again, as fresh (issue 23)

PRESETS: dict[str, list[list]] = {
    "Slide rows 2 & 3: q = (0.9, 0.1), p = (0.1, 0.9)": [
        ["x₁ (slide row 2)", 0.9, 0.1], ["x₂ (slide row 3)", 0.1, 0.9]],
    "Slide rows 1 & 4: q = p = (0.9, 0.1)": [
        ["x₁ (slide row 1)", 0.9, 0.9], ["x₂ (slide row 4)", 0.1, 0.1]],
    "Zero in p: q(x) > 0 where p(x) = 0": [["a", 0.5, 1.0], ["b", 0.5, 0.0]],
    "Zero in q: 0 · log 0 = 0": [["a", 0.5, 0.25], ["b", 0.5, 0.25], ["c", 0.0, 0.5]],
    "Fair die q vs loaded die p": [[str(i), 1 / 6, 0.5 if i == 6 else 0.1] for i in range(1, 7)],
    "Uniform q vs peaked p (4 outcomes)": [[f"x{i}", 0.25, v] for i, v in enumerate([0.7, 0.1, 0.1, 0.1], 1)],
}
PRESET_NAMES = list(PRESETS)
DEFAULT_PRESET = PRESET_NAMES[0]


# --------------------------------------------------------------------------- #
# Table state: URL <-> session <-> editor
# --------------------------------------------------------------------------- #
def _url_get(name: str) -> str | None:
    value = st.query_params.get(name)
    return None if value is None else str(value)


def _url_set(name: str, value: str | None) -> None:
    if value is None:
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != value:
        st.query_params[name] = value


def _clean_number(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return v


TABLE_RULE = 'a JSON list of 1 to 50 rows ["name", q, p], e.g. [["a",0.5,0.5],["b",0.5,0.5]]'


def _rows_from_url(text: str | None) -> list[list] | None:
    """Rows from ``?table=`` JSON, None when it is missing; GenlabError saying what is allowed when
    it is unreadable (not JSON, nested deeper than rows of cells, over 20 000 characters)."""
    if not text:
        return None
    data = loads_bounded(text, what="the table in the link", max_depth=2, max_chars=20_000)
    try:
        rows = [[str(r[0]), _clean_number(r[1]), _clean_number(r[2])] for r in data]
    except (TypeError, IndexError, KeyError):
        raise GenlabError(f"the table in the link is not {TABLE_RULE}") from None
    if not 0 < len(rows) <= 50:
        raise GenlabError(f"the table in the link has {len(rows)} rows; allowed: {TABLE_RULE}")
    return rows


def _rows_to_url(rows: list[list]) -> str:
    def num(v):
        return None if not math.isfinite(v) else round(v, 10)

    return json.dumps([[r[0], num(r[1]), num(r[2])] for r in rows], ensure_ascii=False, separators=(",", ":"))


def _same_rows(a: list[list], b: list[list]) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        if ra[0] != rb[0]:
            return False
        for va, vb in zip(ra[1:], rb[1:]):
            if not (va == vb or (math.isnan(va) and math.isnan(vb)) or abs(va - vb) < 1e-12):
                return False
    return True


def _replace_table(rows: list[list]) -> None:
    st.session_state[BASE_KEY] = [list(r) for r in rows]
    st.session_state[CUR_KEY] = [list(r) for r in rows]
    st.session_state[VER_KEY] = st.session_state.get(VER_KEY, 0) + 1


def _on_preset() -> None:
    _replace_table(PRESETS[st.session_state["preset"]])
    _url_set("table", None)


def _normalized(rows: list[list]) -> tuple[list[list], list[str]]:
    """Each column with NaN/negatives set to 0, then divided by its sum."""
    out = [list(r) for r in rows]
    notes = []
    for j, name in ((1, "q"), (2, "p")):
        col = np.array([r[j] for r in rows], dtype=float)
        bad = ~np.isfinite(col) | (col < 0)
        if bad.any():
            notes.append(f"{name}: {int(bad.sum())} empty/negative cell(s) set to 0")
        col[bad] = 0.0
        total = col.sum()
        if total <= 0:
            notes.append(f"{name} is all zeros, so it cannot be normalized: enter a positive probability")
            continue
        for i, v in enumerate(col / total):
            out[i][j] = float(v)
    return out, notes


def _on_normalize() -> None:
    rows, notes = _normalized(st.session_state.get(CUR_KEY, st.session_state[BASE_KEY]))
    _replace_table(rows)
    st.session_state["_kl_norm_notes"] = notes


def _on_add() -> None:
    rows = [list(r) for r in st.session_state.get(CUR_KEY, st.session_state[BASE_KEY])]
    names = {r[0] for r in rows}
    i = len(rows) + 1
    while f"x{i}" in names:
        i += 1
    rows.append([f"x{i}", 0.0, 0.0])
    _replace_table(rows)


def _on_remove() -> None:
    rows = [list(r) for r in st.session_state.get(CUR_KEY, st.session_state[BASE_KEY])]
    if len(rows) > 1:
        _replace_table(rows[:-1])


# --------------------------------------------------------------------------- #
# Controls
# --------------------------------------------------------------------------- #
common.explain(
    "The lecture defines, for two distributions q(x) and p(x) over the same outcomes x,\n\n"
    "$$\\mathrm{KL}(q\\,\\|\\,p) = \\mathbb{E}_q\\!\\left[\\log\\frac{q(x)}{p(x)}\\right]"
    " = \\sum_x q(x)\\,\\log\\frac{q(x)}{p(x)}.$$\n\n"
    "Edit the table (double-click a cell), add or delete outcomes, or pick a preset. "
    "Each row's term $q(x)\\log(q(x)/p(x))$ is its effect on KL(q‖p)."
)

top = st.columns([3, 1.2])
with top[0]:
    preset = common.qp_select("Preset", "preset", PRESET_NAMES, DEFAULT_PRESET, on_change=_on_preset)
with top[1]:
    unit = common.qp_radio("Units", "unit", ["nats", "bits"], "nats", horizontal=True,
                           help="nats use the natural log, bits log base 2 (1 bit = ln 2 ≈ 0.693 nats).")

if BASE_KEY not in st.session_state:
    try:
        from_url = _rows_from_url(_url_get("table"))
    except GenlabError as err:
        from_url = None
        st.warning(f"The link's table cannot be used: {safe_text.md(err)}. Showing the preset "
                   f"{safe_text.md(preset)} instead.")
    st.session_state[BASE_KEY] = from_url or [list(r) for r in PRESETS[preset]]
    st.session_state.setdefault(VER_KEY, 0)
version = st.session_state.get(VER_KEY, 0)
base = st.session_state[BASE_KEY]

left, right = st.columns([1.25, 1], gap="medium")
with left:
    st.markdown("**Edit q and p** — double-click a cell; the empty last row adds an outcome")
    edited = st.data_editor(
        pd.DataFrame(base, columns=list(COLS)),
        key=f"kl_table_{version}",
        num_rows="dynamic",
        width="stretch",
        hide_index=True,
        column_config={
            "x": st.column_config.TextColumn("x", help="outcome name"),
            "q(x)": st.column_config.NumberColumn("q(x)", step=0.01, format="%.4f"),
            "p(x)": st.column_config.NumberColumn("p(x)", step=0.01, format="%.4f"),
        },
    )
b1, b2, b3 = st.columns(3)
b1.button("Normalize", on_click=_on_normalize, key="kl_normalize", width="stretch",
          help="Set empty/negative cells to 0, then divide each column by its sum.")
b2.button("Add row", on_click=_on_add, key="kl_add", width="stretch")
b3.button("Remove row", on_click=_on_remove, key="kl_remove", width="stretch", disabled=len(base) <= 1)
for note in st.session_state.pop("_kl_norm_notes", []):
    st.caption("Normalize: " + note)

# The table as edited now
rows: list[list] = []
for i, rec in enumerate(edited.itertuples(index=False)):
    label = rec[0]
    label = f"x{i + 1}" if label is None or (isinstance(label, float) and math.isnan(label)) or not str(label).strip() \
        else str(label)
    rows.append([label, _clean_number(rec[1]), _clean_number(rec[2])])
st.session_state[CUR_KEY] = rows
if rows and _same_rows(rows, PRESETS[preset]):
    _url_set("table", None)
elif rows:
    _url_set("table", _rows_to_url(rows))

# --------------------------------------------------------------------------- #
# Checks
# --------------------------------------------------------------------------- #
labels = [r[0] for r in rows]
md_labels = [safe_text.md(label, 60) for label in labels]   # names come from links: shown literally
q = np.array([r[1] for r in rows], dtype=float)
p = np.array([r[2] for r in rows], dtype=float)
bad_cells: set[tuple[int, str]] = set()
problems: list[str] = []
if not rows:
    problems.append("The table is empty: add at least one outcome (button **Add row**).")
else:
    for col, name, values in (("q(x)", "q", q), ("p(x)", "p", p)):
        for issue in dv.distribution_issues(values, name):
            if issue.index is not None:
                bad_cells.add((issue.index, col))
                v = values[issue.index]
                what = "empty (or not a number)" if math.isnan(v) else ("infinite" if math.isinf(v) else f"{v:g}")
                rule = "must be a number between 0 and 1" if issue.rule == "finite" else "must be ≥ 0"
                problems.append(f"**{col}** in row {issue.index + 1} (**{md_labels[issue.index]}**) is {what}: "
                                f"a probability {rule}.")
            else:
                for i in range(len(rows)):
                    bad_cells.add((i, col))
                problems.append(f"The **{col}** column sums to {float(np.sum(values)):.4g}, not 1: "
                                f"probabilities must add up to 1 (within {dv.SUM_TOLERANCE:g}). "
                                f"Press **Normalize** to divide each column by its sum.")
valid = not problems
scale = 1.0 if unit == "nats" else 1.0 / LN2

if valid:
    terms_qp = dv.kl_terms(q, p)  # nats
    terms_pq = dv.kl_terms(p, q)
    kl_qp = dv.kl_discrete(q, p)
    kl_pq = dv.kl_discrete(p, q)
    inf_qp = [i for i in range(len(rows)) if math.isinf(terms_qp[i])]
    inf_pq = [i for i in range(len(rows)) if math.isinf(terms_pq[i])]
else:
    terms_qp = terms_pq = np.full(len(rows), np.nan)
    kl_qp = kl_pq = float("nan")
    inf_qp = inf_pq = []


def fmt(value: float, digits: int = 3) -> str:
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞"
    text = f"{value:.{digits}f}"
    return "0" if float(text) == 0 else text.replace("-", "−")


# --------------------------------------------------------------------------- #
# Predict, then reveal
# --------------------------------------------------------------------------- #
LARGER = ("KL(q‖p) is larger", "KL(p‖q) is larger", "They are equal")


def larger_answer() -> int | None:
    """The index in LARGER that this table makes true (None while the table is not valid)."""
    if not valid:
        return None
    if kl_qp == kl_pq or abs(kl_qp - kl_pq) <= 1e-9 * max(1.0, abs(kl_qp)):  # (∞ == ∞ too)
        return 2
    return 0 if kl_qp > kl_pq else 1


def larger_why() -> str:
    """Why, with this table's numbers, pointing at where the page shows them."""
    values = (f"KL(q‖p) = {fmt(kl_qp * scale)} and KL(p‖q) = {fmt(kl_pq * scale)} {unit} "
              "(the two numbers beside the table; the bar chart below shows each outcome's term in "
              "both directions).")
    if math.isinf(kl_qp) and math.isinf(kl_pq):
        return values + " Both are ∞, for different rows: each direction has a row where its first " \
                        "distribution puts mass and the other puts none."
    if math.isinf(kl_qp) or math.isinf(kl_pq):
        return values + " A zero in one distribution where the other has mass makes that direction ∞ " \
                        "(the highlighted row in the table below)."
    if larger_answer() == 2:
        if sorted(q.tolist()) == sorted(p.tolist()):
            return values + " p is q with the outcomes' probabilities swapped, so both sums have the same " \
                            "terms in another order. In general KL is not symmetric: try the preset " \
                            "*Uniform q vs peaked p*."
        return values + " Equal here only by a coincidence of these numbers: in general KL is not symmetric."
    return values + " KL is not symmetric: swapping q and p changes which outcomes weigh most."


# --------------------------------------------------------------------------- #
# Results
# --------------------------------------------------------------------------- #
with right:
    asked = predict.predict(
        "kl-larger", "For this table, which is larger: KL(q‖p) or KL(p‖q)?", LARGER,
        answer=larger_answer, why=lambda _correct: larger_why(),
        pending="This table is not a pair of probability distributions yet (see the message below): "
                "fix it, and the answer shows here.")
    st.markdown("**The two divergences**")
    with predict.covered(asked.revealed or not valid, "kl-numbers"):
        m1, m2 = st.columns(2)
        m1.metric("KL(q‖p)", fmt(kl_qp * scale if valid else kl_qp)
                  + (f" {unit}" if valid and math.isfinite(kl_qp) else ""))
        m2.metric("KL(p‖q)", fmt(kl_pq * scale if valid else kl_pq)
                  + (f" {unit}" if valid and math.isfinite(kl_pq) else ""))
    if problems:
        st.error("This table is not a pair of probability distributions yet, so KL is not defined:\n\n"
                 + "\n".join(f"- {m}" for m in problems)
                 + f"\n\nThe wrong cells are marked ⚠ ({ctx.palette.flag_name}) in the table below.")
        st.button("Normalize q and p", on_click=_on_normalize, key="kl_normalize_fix", type="primary",
                  help="Set empty/negative cells to 0, then divide each column by its sum.")

    if valid and (inf_qp or inf_pq):
        notes = []
        for i in inf_qp:
            notes.append(f"Row **{md_labels[i]}**: q(x) = {q[i]:g} > 0 but p(x) = 0, so log(q/p) = log(q/0) = ∞ and "
                         f"**KL(q‖p) = ∞**: q puts mass where p says the outcome is impossible.")
        for i in inf_pq:
            notes.append(f"Row **{md_labels[i]}**: p(x) = {p[i]:g} > 0 but q(x) = 0, so **KL(p‖q) = ∞** "
                         f"(the same row adds nothing to KL(q‖p), because 0 · log 0 counts as 0).")
        with predict.covered(asked.revealed, "kl-infinite", note="(one more message, after your answer)"):
            st.warning("An infinite KL is not an error — it is the answer:\n\n"
                       + "\n".join(f"- {n}" for n in notes)
                       + "\n\nThe row is highlighted in the table and hatched in the bar chart.")

# full width: the six columns of the slide (+ the other direction)
def cell(i: int, col: str, v: float) -> str:
    text = fmt(v, 4) if math.isfinite(v) else ("empty" if math.isnan(v) else "∞")
    return f"⚠ {text}" if (i, col) in bad_cells else text


table = pd.DataFrame({
    "x": labels,
    "q(x)": [cell(i, "q(x)", v) for i, v in enumerate(q)],
    "p(x)": [cell(i, "p(x)", v) for i, v in enumerate(p)],
    "q(x) log(q(x)/p(x))": [fmt(t * scale) for t in terms_qp],
    "effect on KL(q‖p)": [dv.effect_in_words(t) if valid else "—" for t in terms_qp],
    "p(x) log(p(x)/q(x))": [fmt(t * scale) for t in terms_pq],
})


def _style(df: pd.DataFrame) -> pd.DataFrame:
    """Infinite terms in the colour of their KL direction, wrong cells flagged (the session's palette)."""
    css = pd.DataFrame("", index=df.index, columns=df.columns)
    colours = ctx.palette
    for i in inf_qp + inf_pq:
        css.iloc[i, :] = f"background-color: {rgba(colours.kl_qp, 0.18)}"
    for i in inf_qp:
        css.loc[i, "q(x) log(q(x)/p(x))"] = f"background-color: {rgba(colours.kl_qp, 0.55)}; font-weight: bold"
    for i in inf_pq:
        css.loc[i, "p(x) log(p(x)/q(x))"] = f"background-color: {rgba(colours.kl_pq, 0.45)}; font-weight: bold"
    for i, col in bad_cells:
        css.loc[i, col] = f"background-color: {rgba(colours.flag, 0.6)}; font-weight: bold"
    return css


# what follows gives the answer away: blurred until the student answers (or while the table is not valid)
with predict.covered(asked.revealed or not valid, "kl-results"):
    st.markdown(f"**Each outcome's term** (in {unit})")
    # Colours need a pandas Styler, which costs more than the rest of the page: only when something is marked.
    marked = bool(inf_qp or inf_pq or bad_cells)
    st.dataframe(table.style.apply(_style, axis=None) if marked else table, hide_index=True, width="stretch",
                 key="kl_results")

    if valid:
        # side by side on a wide screen; one under the other in instructor mode (projector-sized fonts)
        c1, c2 = (st.container(), st.container()) if common.is_instructor() else st.columns(2)
        with c1:
            common.show_figure(klfig.contributions_figure([safe_text.plotly_text(x) for x in labels], terms_qp * scale, terms_pq * scale, unit,
                                                           palette=ctx.palette, projector=common.is_instructor()),
                               key="kl_contributions")
        with c2:
            common.show_figure(klfig.distributions_figure([safe_text.plotly_text(x) for x in labels], q, p, highlight=inf_qp + inf_pq,
                                                           palette=ctx.palette),
                               key="kl_distributions")

        # The three properties, tied to this table: teaching text, left out like every explanation
        # when the link says ?hide=explanations (the instructor says it instead)
        if not common.control_hidden("explanations"):
            st.subheader("The three properties, on this table")
        differ = [md_labels[i] for i in range(len(rows)) if abs(q[i] - p[i]) > 1e-12]
        negative = [i for i in range(len(rows)) if terms_qp[i] < -1e-12]
        neg_text = ""
        if negative:
            i = negative[0]
            neg_text = (f" A single row can be negative (here **{md_labels[i]}**: {fmt(terms_qp[i] * scale)}), "
                        f"but never below −p(x)/e, and the rows always add up to ≥ 0 (Gibbs' inequality).")
        lines = [f"1. **KL ≥ 0.** KL(q‖p) = {fmt(kl_qp * scale)} ≥ 0 and KL(p‖q) = {fmt(kl_pq * scale)} ≥ 0."
                 + neg_text]
        if not differ:
            lines.append("2. **KL = 0 only when q = p.** Here q = p in every row, so both are exactly 0. "
                         "Change any cell (and normalize) and both become positive.")
        else:
            shown = ", ".join(differ[:5]) + ("…" if len(differ) > 5 else "")
            lines.append(f"2. **KL = 0 only when q = p.** Here q ≠ p (they differ at {shown}), so both are > 0.")
        if math.isinf(kl_qp) or math.isinf(kl_pq):
            if math.isinf(kl_qp) and math.isinf(kl_pq):
                sym = "both are ∞ here, for different rows."
            else:
                sym = (f"KL(q‖p) = {fmt(kl_qp * scale)} but KL(p‖q) = {fmt(kl_pq * scale)}: one direction is finite, "
                       f"the other infinite.")
            lines.append(f"3. **Not symmetric.** {sym}")
        elif abs(kl_qp - kl_pq) < 1e-9:
            why = (" (p is q with the probabilities of the outcomes swapped, which makes the two sums the same)"
                   if sorted(q.tolist()) == sorted(p.tolist()) else " (a coincidence of these numbers)")
            lines.append(f"3. **Not symmetric.** Here KL(q‖p) = KL(p‖q) = {fmt(kl_qp * scale)} only by accident"
                         f"{why}; in general they differ — try the preset *Uniform q vs peaked p*.")
        else:
            lines.append(f"3. **Not symmetric.** KL(q‖p) = {fmt(kl_qp * scale)} but KL(p‖q) = {fmt(kl_pq * scale)}: "
                         "swapping q and p changes the value.")
        common.explain("\n".join(lines))

# --------------------------------------------------------------------------- #
# The slide, reproduced
# --------------------------------------------------------------------------- #
SLIDE = [(0.9, 0.9, "0", "no increase"), (0.9, 0.1, "1.97", "big increase"),
         (0.1, 0.9, "−0.21", "little decrease"), (0.1, 0.1, "0", "little decrease")]
slide_rows = []
for k, (qs, ps, printed, slide_word) in enumerate(SLIDE, 1):
    term = float(dv.kl_terms([qs, 1 - qs], [ps, 1 - ps])[0])  # the rest of the mass on another outcome
    slide_rows.append({
        "": k, "q(x′)": f"{qs:.1f}", "p(x′)": f"{ps:.1f}",
        "q(x′) log(q(x′)/p(x′)) in nats": fmt(term, 2),
        "slide prints": printed,
        "effect on KL(q‖p)": dv.effect_in_words(term),
        "slide says": slide_word,
    })
if not common.control_hidden("explanations"):  # the slide, with what it means: teaching text
    st.subheader("The slide's table, reproduced")
    st.dataframe(pd.DataFrame(slide_rows), hide_index=True, width="stretch", key="kl_slide")
common.explain(
    "\"Keeping all else constant\", each row looks at one outcome x′. The terms are "
    "0.9·ln 9 = 1.9775… and 0.1·ln(1/9) = −0.2197…: rounded to two decimals **1.98** and **−0.22**; "
    "the slide prints **1.97** and **−0.21** because it truncates instead of rounding. "
    "Row 4 has q(x′) = p(x′) = 0.1, so its term is exactly 0 — *no increase*, like row 1; "
    "the slide's \"little decrease\" on that row looks like a slip, and this page says \"no increase\". "
    "A row can decrease KL(q‖p) only a little: a term q·log(q/p) is never below −p/e ≈ −0.37·p nats."
)

common.copy_link_button()
_done_building()
