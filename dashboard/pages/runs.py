"""Runs: the run store and the shipped demos.

Lists every run of the user's run store (``GENLAB_RUNS_DIR`` or ``./runs``) and every shipped
demo (``demos/``, see genlab/demos.py) with status (finished / running / stopped / interrupted /
corrupt), model, data set, steps and key metrics. The selected run (``?run=`` in the URL) shows
its metrics chart, its samples and its settings, and offers: metrics as CSV, the run as a zip
that ``genlab`` loads again, importing such a zip, deleting a run (with confirmation), copying
a demo into the run store, and resuming an interrupted or stopped run in a background job
(progress bar with time left, stop button).

Controls that an instructor link can hide (``?hide=...``): run, m, smooth, logy (the widgets)
and the sections table, export, import, manage, settings.
"""
from __future__ import annotations

import io
import logging
import math
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from dashboard import common
from dashboard.figures.palette import DEFAULT as DEFAULT_PALETTE
from dashboard.figures.palette import Palette
from dashboard.safe_text import md, plotly_text
from genlab import demos
from genlab.errors import GenlabError
from genlab.jobs import get_job_manager, train_in_job
from genlab.limits import MAX_IMAGE_PIXELS, MAX_MODEL_PARAMETERS
from genlab.run_files import check_samples_png, parse_json_bounded
from genlab.runs import EXTRA_COLUMN, METRICS_FILE, SAMPLES_FILE, Run, RunStore
from genlab.train.recording import check_model_fits

LOG = logging.getLogger(__name__)

SS = "_runs_"            # this page's session-state prefix
REFRESH_S = 1.0          # progress refresh while a resume job runs
MAX_CHART_POINTS = 5000  # per curve; longer runs are drawn from every k-th row
USER, DEMO = "run", "demo"
HIDDEN_COLUMNS = {"step", "wall_time", "epoch", "changed", "phase", EXTRA_COLUMN}
KEY_METRICS = ("test_elbo", "test_recon_mse", "modes_covered", "high_quality_share", "frechet_distance",
               "label_accuracy", "loss", "loss_d", "loss_g", "d_real", "d_fake")
DEFAULT_CHART = {
    "ae": ("recon_loss", "test_recon_loss"),
    "vae": ("recon_loss", "kl_loss", "test_recon_loss"),
    "gan": ("loss_d", "loss_g"),
    "dcgan": ("loss_d", "loss_g"),
    "cgan": ("loss_d", "loss_g"),
}
STATUS_BADGE = {
    "finished": ":green-badge[:material/check: finished]",
    "running": ":blue-badge[:material/autorenew: running]",
    "stopped": ":orange-badge[:material/pause: stopped]",
    "interrupted": ":red-badge[:material/error: interrupted]",
}


# --------------------------------------------------------------------------- #
# Session, job manager
# --------------------------------------------------------------------------- #
# --------------------------------------------------------------------------- #
# Reading runs (cached on the files' modification time and size)
# --------------------------------------------------------------------------- #
def _stamp(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return (0, 0)
    return (info.st_mtime_ns, info.st_size)


@st.cache_data(show_spinner=False, max_entries=6)   # a 200,000-step run's frame is ~25 MB
def _metrics_frame(run_path: str, stamp: tuple[int, int]):
    """All metrics rows of a run (pandas DataFrame; empty when there are none), with text columns
    of numbers (e.g. test metrics written as "nan" between evaluations) made numeric."""
    import pandas as pd

    frame = Run(run_path).read_metrics()
    for name in frame.columns:
        if name in HIDDEN_COLUMNS or pd.api.types.is_numeric_dtype(frame[name]):
            continue
        text = frame[name].astype(str).str.strip()
        numbers = pd.to_numeric(text.where(~text.str.lower().isin(["", "nan", "none"])), errors="coerce")
        meaningful = ~text.str.lower().isin(["", "nan", "none"])
        if meaningful.any() and numbers[meaningful].notna().all():
            frame[name] = numbers.astype(float)
    return frame


@st.cache_data(show_spinner=False, max_entries=256)
def _last_row(run_path: str, stamp: tuple[int, int]) -> dict:
    """The last complete metrics row, read from the end of metrics.csv (cheap for long runs)."""
    import csv

    path = Path(run_path) / METRICS_FILE
    try:
        with open(path, "rb") as handle:
            header = handle.readline().decode("utf-8", "replace")
            size = handle.seek(0, io.SEEK_END)
            handle.seek(max(len(header), size - 65536))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return {}
    lines = [line for line in tail.split("\n")[:-1] if line.strip()]  # the last piece may be partial
    if not header.endswith("\n") or not lines:
        return {}
    try:
        columns = next(csv.reader([header]))
        values = next(csv.reader([lines[-1]]))
    except (csv.Error, StopIteration):   # a damaged file: no summary (selecting the run says why)
        return {}
    row: dict = {}
    for name, text in zip(columns, values):
        if name == EXTRA_COLUMN and text:
            try:
                extra = parse_json_bounded(text)
            except ValueError:   # not JSON, or nested too deep: no summary (selecting the run says why)
                extra = {}
            row.update(extra if isinstance(extra, dict) else {})
            continue
        try:
            row[name] = float(text)
        except ValueError:
            row[name] = text
    return row


def _finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _key_metrics(row: dict, evaluation: dict | None, limit: int = 4) -> str:
    """A few headline numbers: the run's evaluation (demos) first, then the last metrics row."""
    values: dict[str, float] = {}
    for source in (evaluation or {}, row):
        for name in KEY_METRICS:
            number = _finite(source.get(name))
            if number is not None and name not in values:
                values[name] = number
    parts = [f"{name} {value:.4g}" for name, value in list(values.items())[:limit]]
    return " · ".join(parts)


def _entry(run: Run, where: str) -> dict:
    info = run.info()
    entry = {"id": f"{where}/{run.name}", "where": where, "name": run.name, "path": str(run.path),
             "status": info.status, "model": info.model, "dataset": info.dataset, "step": info.step,
             "target": None, "metrics": "", "updated": info.updated, "eval": None, "message": info.message}
    if not info.ok:
        return entry
    try:
        status = run.status()
    except GenlabError:
        status = {}
    entry["target"] = status.get("target_steps")
    entry["eval"] = status.get("eval") if isinstance(status.get("eval"), dict) else None
    metrics_path = run.path / METRICS_FILE
    entry["metrics"] = _key_metrics(_last_row(str(run.path), _stamp(metrics_path)), entry["eval"])
    return entry


def _entries(store: RunStore) -> list[dict]:
    rows = [_entry(Run(store.root / name), USER) for name in store.names()]
    rows += [_entry(Run(demos.demo_store().root / name), DEMO) for name in demos.demo_store().names()]
    return rows


def _steps_text(entry: dict) -> str:
    step, target = _finite(entry.get("step")) or 0, _finite(entry.get("target"))
    if target and int(target) != int(step):
        return f"{int(step):,} / {int(target):,}"
    return f"{int(step):,}"


def _label(entry: dict) -> str:
    where = "demo" if entry["where"] == DEMO else "your run"
    return f"{entry['name']}  ({where}, {entry['status'].split(':')[0]})"


# --------------------------------------------------------------------------- #
# Figures and images
# --------------------------------------------------------------------------- #
def _numeric_columns(frame) -> list[str]:
    import pandas as pd

    columns = []
    for name in frame.columns:
        if name in HIDDEN_COLUMNS or name.startswith("kl_dim_"):
            continue
        if pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name]) \
                and frame[name].notna().any():
            columns.append(name)
    return columns


def metrics_figure(frame, columns: list[str], smooth: int = 1, log_y: bool = False, title: str = "",
                   height: int | None = 440, palette: Palette = DEFAULT_PALETTE, projector: bool = False) -> go.Figure:
    """Metric curves against the step; NaN rows (e.g. between test evaluations) are skipped;
    ``smooth`` > 1 draws a moving average over that many rows (the raw curve stays, faint).
    A curve of more than MAX_CHART_POINTS points is drawn from every k-th point (the moving
    average is computed on all of them first). Column names are shown literally (no HTML).
    ``palette``: the curves take its ``series`` colours in order. ``projector``: the margins for instructor
    mode's larger fonts."""
    fig = go.Figure()
    steps = frame["step"].to_numpy(dtype=float) if "step" in frame else np.arange(1, len(frame) + 1, dtype=float)
    colours = palette.series
    for index, name in enumerate(columns):
        values = frame[name].to_numpy(dtype=float)
        keep = np.isfinite(values)
        x, y = steps[keep], values[keep]
        colour, label = colours[index % len(colours)], plotly_text(name)
        every = max(1, math.ceil(len(y) / MAX_CHART_POINTS))
        if smooth > 1 and len(y) > smooth:
            kernel = np.ones(smooth) / smooth
            smoothed = np.convolve(y, kernel, mode="valid")
            fig.add_trace(go.Scatter(x=x[::every], y=y[::every], mode="lines", line=dict(color=colour, width=1),
                                     opacity=0.25, name=f"{label} (raw)", showlegend=False, hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=x[smooth - 1:][::every], y=smoothed[::every], mode="lines",
                                     line=dict(color=colour, width=2.5), name=label))
        else:
            fig.add_trace(go.Scatter(x=x[::every], y=y[::every], mode="lines+markers" if len(y) < 60 else "lines",
                                     line=dict(color=colour, width=2.5), marker=dict(size=5), name=label))
    fig.update_layout(
        title=dict(text=plotly_text(title), x=0, xanchor="left", y=0.98, yanchor="top", yref="container")
        if title else None,
        xaxis_title="step", yaxis_title="value", height=height,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text=""),
        # room for tick labels such as "0.05", the axis titles and a legend row on top (see dashboard.figures)
        margin=dict(l=78 if projector else 70, r=20, t=95 if title else (64 if projector else 52), b=60),
    )
    if log_y:
        fig.update_yaxes(type="log")
    return fig


@st.cache_data(show_spinner=False, max_entries=16)
def _samples_png(path: str, stamp: tuple[int, int], run_name: str, min_side: int = 320) -> tuple[bytes | None, str]:
    """``(png, "")`` to show a run's samples.png, small grids enlarged with nearest-neighbour
    pixels (crisp digits on a projector); ``(None, why)`` for a file that is not a PNG of at
    most MAX_IMAGE_PIXELS pixels (checked before it is decoded)."""
    from PIL import Image

    from genlab.run_files import RunFileError

    try:
        width, height = check_samples_png(Path(path), run_name)
        data = Path(path).read_bytes()
    except RunFileError as err:
        return None, str(err)
    except OSError as err:
        return None, f"run {run_name!r}: {SAMPLES_FILE} cannot be read ({err.strerror})"
    side = max(width, height, 1)
    if side >= min_side:
        return data, ""
    factor = max(1, math.ceil(min_side / side))
    with Image.open(io.BytesIO(data)) as image:
        image = image.resize((width * factor, height * factor), Image.NEAREST)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
    return buffer.getvalue(), ""


# --------------------------------------------------------------------------- #
# URL-bound multiselect (the chosen curves live in the link too)
# --------------------------------------------------------------------------- #
def qp_multiselect(label: str, key: str, options: list[str], default: list[str], **kw) -> list[str]:
    """``st.multiselect`` bound to ``?key=a,b``; values not in ``options`` are dropped."""
    default = [o for o in default if o in options] or options[:1]
    url = st.query_params.get(key)
    from_url = [o for o in url.split(",") if o in options] if url is not None else None
    initial = from_url if from_url else default
    if common.control_hidden(key):
        return initial
    current = st.session_state.get(key)
    if current is None or any(o not in options for o in current):
        st.session_state[key] = initial

    def on_change() -> None:
        chosen = st.session_state[key]
        if list(chosen) == default:
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = ",".join(chosen)

    value = st.multiselect(label, options, key=key, on_change=on_change, **kw)
    if list(value) == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = ",".join(value)
    return list(value)


# --------------------------------------------------------------------------- #
# Actions (callbacks run before the script, so they may set widget state)
# --------------------------------------------------------------------------- #
def _notice(kind: str, text: str) -> None:
    st.session_state[SS + "notice"] = (kind, text)


def _select(entry_id: str) -> None:
    st.session_state["run"] = entry_id
    st.query_params["run"] = entry_id


def _ask_delete(name: str) -> None:
    st.session_state[SS + "confirm"] = name


def _cancel_delete() -> None:
    st.session_state[SS + "confirm"] = None


def _delete(store_root: str, name: str) -> None:
    st.session_state[SS + "confirm"] = None
    store = RunStore(store_root)
    try:
        try:   # a broken run (no or bad config/status) can always be deleted
            running = Run(store.path_of(name)).status().get("status") == "running"
        except GenlabError:
            running = False
        if running:
            raise GenlabError(f"run {name!r} is being trained right now; stop it first, then delete it")
        store.delete(name)
    except GenlabError as err:
        _notice("error", md(err))
        return
    st.session_state.pop("run", None)
    st.query_params.pop("run", None)
    _notice("success", f"Deleted run `{name}`.")


def _import(store_root: str) -> None:
    upload = st.session_state.get("import_zip")
    name = (st.session_state.get("import_name") or "").strip()
    if upload is None:
        _notice("error", "Choose a run zip first (exported from this page or from genlab).")
        return
    if not name:
        name = _name_from_file(upload.name)
    try:
        run = RunStore(store_root).import_zip(upload.getvalue(), name)
    except GenlabError as err:
        _notice("error", f"Import failed: {md(err)}")
        return
    _select(f"{USER}/{run.name}")
    _notice("success", f"Imported run `{run.name}`; it is selected below.")


def _name_from_file(file_name: str) -> str:
    stem = Path(file_name or "imported").stem
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip(".-") or "imported"
    return stem[:100]


def _copy_demo(store_root: str, name: str) -> None:
    store = RunStore(store_root)
    target = name
    counter = 2
    while store.exists(target):
        target = f"{name}-{counter}"
        counter += 1
    try:
        run = demos.copy_demo(name, store, target)
    except GenlabError as err:
        _notice("error", str(err))
        return
    _select(f"{USER}/{run.name}")
    _notice("success", f"Copied the demo into your runs as `{run.name}`; train it further from there.")


def _resume_fn(run_path: str, target: int):
    def fn(ctx):
        from genlab.train.registry import trainer_class

        run = Run(run_path)
        config = check_model_fits(run)   # an imported config must not build a huge model
        ctx.set_progress(0.0, "loading the checkpoint")
        trainer = trainer_class(str(config["model"])).from_config(config)
        return train_in_job(ctx, trainer, target, run=run, publish_every=25)
    return fn


def _resume(run_path: str, target: int, name: str) -> None:
    manager = get_job_manager()
    job = manager.submit(_resume_fn(run_path, target), session_id=SESSION, key=f"resume:{run_path}",
                         name=f"resume {name}")
    st.session_state[SS + "job"] = job.id
    _notice("info", f"Resuming `{name}` in the background up to step {target:,}.")


def _stop(job_id: str) -> None:
    job = get_job_manager().get(job_id)
    if job is not None:
        job.stop()


# --------------------------------------------------------------------------- #
# Page sections (each shows text from a run only through safe_text.md: runs come from anybody)
# --------------------------------------------------------------------------- #
def _runs_table(entries: list[dict], instructor: bool) -> None:
    import pandas as pd

    # st.dataframe shows text as it is; st.table (instructor mode) renders Markdown: escape there
    text = md if instructor else (lambda value: str(value))
    table = pd.DataFrame([{
        "where": "demo" if e["where"] == DEMO else "your runs",
        "run": e["name"],
        "status": text(e["status"]),
        "model": text(e["model"]),
        "data set": text(e["dataset"]),
        "steps": _steps_text(e),
        "key metrics": e["metrics"],
        "updated": text(str(e["updated"]).replace("T", " ").split("+")[0]),
    } for e in entries])
    if instructor:   # HTML table: its text grows with instructor mode's font size
        st.table(table.set_index("run"))
    else:
        st.dataframe(table, hide_index=True, width="stretch", key="runs_table")


def _run_heading(selected: dict, run: Run, is_demo: bool) -> None:
    status = selected["status"]
    badge = STATUS_BADGE.get(status, ":red-badge[:material/broken_image: broken]")
    where = ":violet-badge[shipped demo]" if is_demo else ":gray-badge[your run]"
    st.subheader(md(selected["name"]), anchor=False)
    if status.startswith("corrupt"):
        st.markdown(f"{badge} {where}")
        st.error(f"This run cannot be read: {md(status.removeprefix('corrupt: '))}. Delete it below, or fix "
                 f"its files in `{run.path}`.")
        return
    st.markdown(f"{badge} {where} **{md(selected['model'])}** on **{md(selected['dataset'])}** · "
                f"{_steps_text(selected)} steps"
                + (f" · {selected['metrics']}" if selected["metrics"] else ""))
    if status == "interrupted":
        st.warning("This run was interrupted (its training process is gone). Resume it below: training "
                   "continues from its last checkpoint.")
    if is_demo:
        spec = demos.SPECS_BY_NAME.get(selected["name"])
        command = spec.command() if spec else f"{demos.REGENERATE_COMMAND} --only {selected['name']}"
        st.info(f"Shipped demo run, trained with `{demos.REGENERATE_COMMAND}`, i.e. `{command}`. "
                f"Its checkpoint is slimmed ({demos.SLIM_NOTE}); copy it into your runs to train it further.",
                icon=":material/inventory_2:")


def _run_charts(selected: dict, run: Run, instructor: bool) -> None:
    """The metrics chart (with its curve, smoothing and log controls), samples and evaluation."""
    try:
        frame = _metrics_frame(str(run.path), _stamp(run.path / METRICS_FILE))
    except GenlabError as err:
        st.error(md(err))
        frame = None
    columns = _numeric_columns(frame) if frame is not None and len(frame) else []
    if columns:
        default = list(DEFAULT_CHART.get(selected["model"], columns[:2]))
        c1, c2, c3 = st.columns([4, 3, 1], vertical_alignment="bottom")
        with c1:
            chosen = qp_multiselect("Curves", "m", columns, default,
                                    help="Metrics of the run, one curve each (NaN rows are skipped).")
        with c2:
            smooth = common.qp_slider("Smoothing", "smooth", 1, 200, 1,
                                      help="Moving average over this many rows (1 = raw values).")
        with c3:
            log_y = common.qp_toggle("log y", "logy", False)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        if columns:
            # instructor mode: no figure title (the heading names the run; the legend gets the
            # room) and common.style_figure's projector height
            fig = metrics_figure(frame, chosen or columns[:1], smooth=int(smooth), log_y=bool(log_y),
                                 title="" if instructor else f"{selected['name']}: metrics per step",
                                 height=None if instructor else 440, palette=common.palette(),
                                 projector=instructor)
            common.show_figure(fig, key="run-metrics")
            if len(frame) > MAX_CHART_POINTS:
                st.caption(f"{len(frame):,} rows: the chart draws every "
                           f"{math.ceil(len(frame) / MAX_CHART_POINTS)}th of them (the CSV export has all).")
        elif frame is not None:
            st.caption("No metrics recorded yet.")
    with right:
        _samples_and_evaluation(selected, run)


def _samples_and_evaluation(selected: dict, run: Run) -> None:
    samples = run.path / SAMPLES_FILE
    if samples.is_file():
        data, problem = _samples_png(str(samples), _stamp(samples), run.name)
        if data is None:
            allowed = "" if "pixels" in problem else f" Allowed: a PNG of at most {MAX_IMAGE_PIXELS:,} pixels."
            st.warning(f"The sample picture is not shown: {md(problem)}.{allowed}")
        else:
            st.markdown("**Samples** (written when training ended or stopped)")
            st.image(data, width="stretch")
    else:
        st.caption("No sample picture yet (written when training ends or stops).")
    evaluation = selected.get("eval")
    if evaluation:
        shown = {k: v for k, v in evaluation.items() if _finite(v) is not None}
        st.markdown("**Evaluation at the end of training**  \n"
                    + " · ".join(f"{md(k, 60)} = {round(float(v), 4):g}" for k, v in shown.items()))


def _export_buttons(selected: dict, run: Run) -> None:
    st.markdown("**Export**")
    e1, e2, e3 = st.columns(3)
    run_path = str(run.path)
    e1.download_button(
        "Metrics (CSV)", data=lambda: Run(run_path).read_metrics().to_csv(index=False).encode("utf-8"),
        file_name=f"{selected['name']}-metrics.csv", mime="text/csv", key="download_csv",
        icon=":material/table:", on_click="ignore", width="stretch",
        help="One row per step (thinned for demos), every metric a column.",
    )
    e2.download_button(
        "Run (zip)", data=lambda: Run(run_path).export_zip(), file_name=f"{selected['name']}.zip",
        mime="application/zip", key="download_zip", icon=":material/folder_zip:", on_click="ignore",
        width="stretch",
        help="config.json, metrics.csv, checkpoint.pt, samples.png, status.json: import it below or "
             "unzip it into a run store folder and use `python -m genlab eval/sample` on it.",
    )
    e3.caption("Figures: the camera icon in each chart's toolbar saves PNG or SVG (sidebar choice).")


def _run_view(selected: dict, run: Run, is_demo: bool, instructor: bool) -> None:
    """Everything about the selected run except managing it."""
    _run_heading(selected, run, is_demo)
    if selected["status"].startswith("corrupt"):
        return
    _run_charts(selected, run, instructor)
    if not common.control_hidden("export"):
        _export_buttons(selected, run)
    if not common.control_hidden("settings"):
        with st.expander("Settings of this run (config.json)"):
            try:
                st.json(run.config, expanded=2)
            except GenlabError as err:
                st.error(md(err))


def _manage(selected: dict, run: Run, is_demo: bool, store: RunStore) -> None:
    """Resume / copy / delete buttons and the resume job's progress. Always shown, even for a
    run that cannot be read, so that any run can be deleted."""
    status = selected["status"]
    manager = get_job_manager()
    job = manager.get(state[SS + "job"]) if state[SS + "job"] else None
    job_here = job is not None and job.key == f"resume:{run.path}"
    try:
        run_status = run.status() if not status.startswith("corrupt") else {}
    except GenlabError:
        run_status = {}
    target = int(run_status.get("target_steps") or 0)
    step = int(run_status.get("step") or 0)
    resumable = (not is_demo and status in ("interrupted", "stopped") and run.has_checkpoint()
                 and target > step)
    m1, m2, m3 = st.columns(3)
    if resumable and not (job_here and job.active):
        m1.button(f"Resume training to step {target:,}", key="resume", icon=":material/play_arrow:",
                  type="primary", on_click=_resume, args=(str(run.path), target, selected["name"]),
                  width="stretch",
                  help=f"Models of at most {MAX_MODEL_PARAMETERS:,} parameters train on this server.")
    if is_demo:
        m2.button("Copy into your runs", key="copy_demo", icon=":material/content_copy:",
                  on_click=_copy_demo, args=(str(store.root), selected["name"]), width="stretch",
                  help="A copy in the run store can be trained further, renamed or deleted.")
    elif state[SS + "confirm"] != selected["name"]:
        m3.button("Delete…", key="delete", icon=":material/delete:", on_click=_ask_delete,
                  args=(selected["name"],), width="stretch")
    if not is_demo and state[SS + "confirm"] == selected["name"]:
        st.warning(f"Delete run `{selected['name']}` and all its files? This cannot be undone.")
        d1, d2, _ = st.columns([1, 1, 2])
        d1.button("Yes, delete", key="delete_yes", type="primary", on_click=_delete,
                  args=(str(store.root), selected["name"]))
        d2.button("Cancel", key="delete_no", on_click=_cancel_delete)
    if job_here:
        _resume_progress(manager, job)


def _resume_progress(manager, job) -> None:
    @st.fragment(run_every=REFRESH_S if job.active else None)
    def _progress() -> None:
        current = manager.get(job.id)
        if current is None:
            return
        if current.status == "queued":
            ahead = current.jobs_ahead() or 0
            st.progress(0.0, text=f"Queued: {ahead} job(s) ahead; starts automatically.")
        elif current.active:
            eta = current.eta_seconds()
            left_text = f" · about {eta:,.0f} s left" if eta else ""
            label = "Paused" if current.status == "paused" else "Resuming"
            st.progress(current.progress, text=f"{label}: {md(current.message)}{left_text}")
            st.button("Stop", key="stop_resume", icon=":material/stop:", on_click=_stop, args=(current.id,))
        elif current.status == "failed":
            st.error(f"Resuming failed: {md(current.error)}")
        else:
            st.success(f"Training {current.status} at {md(current.message or 'the end')}.")
        if not current.active and state.get(SS + "shown_end") != current.id:
            state[SS + "shown_end"] = current.id
            st.rerun(scope="app")   # refresh the table, chart and samples once

    _progress()


def _import_section(store: RunStore) -> None:
    st.markdown("**Import a run**")
    limit = st.get_option("server.maxUploadSize")
    st.file_uploader(f"Run zip (exported above or by genlab; at most {limit} MB on this server)",
                     type=["zip"], key="import_zip",
                     help=f"Every file is checked before the run appears: models of at most "
                          f"{MAX_MODEL_PARAMETERS:,} parameters, sample pictures of at most "
                          f"{MAX_IMAGE_PIXELS:,} pixels (see the README, \"Serving a class\").")
    i1, i2 = st.columns([3, 1], vertical_alignment="bottom")
    with i1:
        st.text_input("Name for the imported run (letters, digits, - _ .; empty: the file name)",
                      key="import_name", max_chars=100)
    with i2:
        st.button("Import", key="import", icon=":material/upload:", on_click=_import, args=(str(store.root),),
                  width="stretch")


def _guarded(section, *args) -> None:
    """Run one page section; an unexpected error in it (a run nobody foresaw) is logged and shown
    as a message, and the rest of the page -- the Delete button above all -- still renders."""
    try:
        section(*args)
    except Exception:  # noqa: BLE001 - one bad run must not take the page down for everyone
        LOG.exception("Runs page: %s failed", section.__name__)
        st.error("This part of the page could not be shown for this run (the server's log has the details). "
                 "The run's files may be damaged: delete it below, or fix its files.")


# --------------------------------------------------------------------------- #
# Page
# --------------------------------------------------------------------------- #
ctx = common.setup_page("Runs")
SESSION = common.job_session()
state = st.session_state
state.setdefault(SS + "confirm", None)
state.setdefault(SS + "job", None)
store = RunStore()

common.explain(
    "Every model trained in genlab is a **run**: a folder with its settings (`config.json`), one row of "
    "metrics per step (`metrics.csv`), the weights (`checkpoint.pt`) and a picture of samples. "
    "**Your runs** live in the run store "
    f"(`{store.root}`, shared by everyone using this server); **demos** are pretrained runs shipped with "
    f"genlab for the pages' default settings (made with `{demos.REGENERATE_COMMAND}`)."
)

notice = state.pop(SS + "notice", None)
if notice:
    getattr(st, notice[0])(notice[1])

entries = _entries(store)
by_id = {e["id"]: e for e in entries}

if not common.control_hidden("table"):
    if entries:
        _guarded(_runs_table, entries, ctx.instructor)
    else:
        st.info(f"No runs yet: train a model on a lesson page (or `python -m genlab train ...`), "
                f"and no shipped demos in `{demos.demo_dir()}` (create them with `{demos.REGENERATE_COMMAND}`).")

if not entries:
    selected = None
else:
    ids = [e["id"] for e in entries]
    if state.get("run") is not None and state["run"] not in ids:
        del state["run"]   # a deleted run: fall back to the default
    selected_id = common.qp_select("Run", "run", ids, ids[0], format_func=lambda i: _label(by_id[i]),
                                   help="Your runs first, then the shipped demos. The link keeps the choice.")
    selected = by_id[selected_id]

if selected is not None:
    run = Run(selected["path"])
    is_demo = selected["where"] == DEMO
    _guarded(_run_view, selected, run, is_demo, ctx.instructor)
    if not common.control_hidden("manage"):
        _guarded(_manage, selected, run, is_demo, store)

if not common.control_hidden("import"):
    _import_section(store)

common.copy_link_button()
