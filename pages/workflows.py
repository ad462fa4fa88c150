"""Workflows: start one with its parameters, watch its steps run, stop or restart it, look back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from dashboard_core.app import actions, queries
from dashboard_core.app.caller import Refusal
from dashboard_core.app.links import workflow_run_link
from dashboard_core.app.run_story import workflow_run_story
from dashboard_core.app.urls import WORKFLOWS
from dashboard_core.app.view_state import WorkflowsView, parse_workflows, workflows_query
from dashboard_core.labels import BLANK, WORKFLOW_ICON
from dashboard_core.models import ParamInfo, StepStatus, Trigger, WorkflowInfo, WorkflowRunInfo
from dashboard_core.timeline.figure_marks import elsewhere
from dashboard_core.timeline.marks import marks_between
from dashboard_core.units import format_bytes, format_seconds, local_time
from dashboard_core.workflows.views import card_run, number_field, run_span, runs_frame, steps_figure, steps_frame
from ui.chart_marks import marked_chart
from ui.log_view import log_view
from ui.run_story import run_story
from ui.url_state import keep, opened
from ui.widgets import PageContext, download_link, icon_text, material, page_context

page = page_context()
st.title("Workflows")
OPERATOR = "operator"

NOTES, SHOWN, RUN, ACTIVE = "workflows_notes", "workflows_shown", "workflows_run", "workflows_active"
NO_WORKFLOWS = """No workflows are configured. Add one to `dashboard.toml` and restart the dashboard, e.g.:

```toml
[[workflows]]
name = "nightly"
[[workflows.steps]]
name = "build"
argv = ["make", "all"]
[[workflows.steps]]
name = "test"
argv = ["make", "test"]
depends_on = ["build"]
```

See the configuration reference (docs/reference/configuration.md) for parameters, parallel steps and services."""


# -- actions (button callbacks run before the page reruns) --------------------------------
def note(kind: str, text: str) -> None:
    st.session_state.setdefault(NOTES, []).append((kind, text))


def show_notes() -> None:
    """The notes of the last actions, once; kept aside in case this run is cut short."""
    shown = st.session_state[SHOWN] = st.session_state.pop(NOTES, [])
    for kind, text in shown:
        getattr(st, kind)(text)


def keep_notes() -> None:
    """Before a rerun: the notes this run showed are shown again (else they would flash by)."""
    st.session_state[NOTES] = st.session_state.pop(SHOWN, []) + st.session_state.get(NOTES, [])


def act(page: PageContext, what: str, action: Callable[..., WorkflowRunInfo], *args: Any) -> None:
    """Run an action of the application layer; its refusal (403, 404, 409, 422) becomes a note."""
    try:
        run = action(page.rt, page.caller, *args)
    except Refusal as refusal:
        if refusal.errors:  # bad parameters: one line each, "params.<name>: why"
            items = (line.removeprefix("params.").partition(": ") for line in refusal.errors)
            bullets = "".join(f"\n- `{name}`{sep}{why}" for name, sep, why in items)
            note("error", f"Not started: fix these parameters.{bullets}")
        else:
            note("error", str(refusal))
        return
    st.session_state[RUN] = run.id
    note("success", f"{what} run {run.id} of **{run.workflow}**.")


def start(page: PageContext, workflow: WorkflowInfo) -> None:
    params = {}
    for p in workflow.params:
        value = st.session_state.get(f"param_{workflow.name}_{p.name}")
        if p.required and isinstance(value, str) and not value.strip():
            value = None  # an empty required field is missing, not a value
        params[p.name] = value
    act(page, "Started", actions.start_workflow, workflow.name, params, Trigger.UI)


# -- sections ------------------------------------------------------------------------
def param_input(workflow: str, param: ParamInfo) -> None:
    key = f"param_{workflow}_{param.name}"
    label = param.name + (" *" if param.required and param.default is None else "")
    help_text = param.description or None
    if param.choices:
        options = list(param.choices)
        index = options.index(param.default) if param.default in options else 0
        st.selectbox(label, options, index=index, key=key, help=help_text)
    elif param.type == "bool":
        st.checkbox(label, value=bool(param.default), key=key, help=help_text)
    elif param.type in ("int", "float"):
        value, low, high = number_field(param)
        step, shown = (1, "%d") if param.type == "int" else (None, "%g")
        st.number_input(
            label, min_value=low, max_value=high, value=value, step=step, format=shown, key=key, help=help_text
        )
    else:
        st.text_input(label, value=str(param.default or ""), key=key, help=help_text)


@st.fragment(run_every=2.0)
def card_status(page: PageContext, name: str, last_run: WorkflowRunInfo | None) -> None:
    """The card's status line, live; the rest of the card changes only on a full rerun
    (the live section below reruns the page when a run starts or ends)."""
    shown = card_run(name, page.rt.workflows.active(), last_run)  # runs going on: from memory, no store query
    if shown is None:
        st.markdown("never run")
        return
    done = sum(1 for s in shown.steps if s.status is StepStatus.SUCCEEDED)
    st.markdown(
        f"{icon_text(WORKFLOW_ICON[shown.status])} **{shown.status}** · run #{shown.id} · "
        f"{done}/{len(shown.steps)} steps done · {local_time(shown.started_at, page.tz, '%H:%M:%S')}"
    )
    if shown.message and shown.message != shown.status.value:  # "running", "stopped": the line says it
        st.caption(shown.message)


def workflow_card(page: PageContext, workflow: WorkflowInfo) -> None:
    active = workflow.active_runs[0] if workflow.active_runs else None
    shown = active or workflow.last_run
    with st.container(border=True, key=f"workflow_{workflow.name}"):
        kind = f"service · restart {workflow.restart}" + (" · autostart" if workflow.autostart else "")
        steps = f"{len(workflow.steps)} step" + ("" if len(workflow.steps) == 1 else "s")
        st.markdown(f"**{workflow.name}** · " + (kind if workflow.service else steps))
        st.caption(workflow.description or "(no description)")
        card_status(page, workflow.name, workflow.last_run)
        if not page.may(OPERATOR):  # viewers see the state, not the controls
            return
        busy = active is not None and not workflow.concurrent
        with st.popover("Start…", icon=material("play_arrow"), width="stretch", disabled=busy):
            with st.form(f"start_{workflow.name}", border=False):
                for param in workflow.params:
                    param_input(workflow.name, param)
                if not workflow.params:
                    st.caption("This workflow takes no parameters.")
                st.form_submit_button("Start", type="primary", on_click=start, args=(page, workflow))
        if active is not None:  # side by side; alone, Restart takes the row
            stop_col, restart_col = st.columns(2)
            stop_col.button(
                "Stop", icon=material("stop"), key=f"stop_{workflow.name}", width="stretch",
                on_click=act, args=(page, "Stopped", actions.stop_workflow, active.id),
            )  # fmt: skip
        else:
            restart_col = st.container()
        if shown is not None:
            restart_col.button(
                "Restart", icon=material("replay"), key=f"restart_{workflow.name}", width="stretch",
                on_click=act, args=(page, "Restarted as", actions.restart_workflow, shown.id, Trigger.UI),
                help="Stop (if it runs) and start again with the same parameters.",
            )  # fmt: skip


def run_view(page: PageContext, run: WorkflowRunInfo) -> None:
    tz = page.tz
    now = datetime.now(UTC)
    head = f"{icon_text(WORKFLOW_ICON[run.status])} **Run {run.id} of {run.workflow}: {run.status}**"
    params = ", ".join(f"{k}={v}" for k, v in run.params.items())
    duration = format_seconds(run.duration_seconds) if run.duration_seconds is not None else "—"
    st.markdown(f"{head} · started {local_time(run.started_at, tz)} from the {run.trigger.value.upper()} · {duration}")
    if params:
        st.caption(f"Parameters: {params}")
    if run.message and run.message != run.status.value:
        st.caption(run.message)
    figure = steps_figure(run, now, tz)
    if figure is not None:  # what else happened meanwhile; not the run itself (the chart is it)
        shown = run_span(run, now)
        marks = marks_between(page.rt.store, *shown, now=now).marks
        here = workflow_run_link(run.workflow, run.id).href
        marked_chart(figure, elsewhere(marks, here), tz, "workflow_gantt", window=shown)
    table = steps_frame(run)
    for column in ("started", "ended"):
        table[column] = table[column].dt.tz_convert(tz).dt.tz_localize(None)
    table["rss"] = [format_bytes(v) if v == v and v is not None else None for v in table["rss"]]
    st.dataframe(
        table,
        hide_index=True,
        placeholder=BLANK,
        key="workflow_steps",
        column_config={
            "step": "Step",
            "status": st.column_config.TextColumn("Status", width=130),
            "exit_code": st.column_config.NumberColumn("Exit", format="%d"),
            "started": st.column_config.DatetimeColumn("Started", format="HH:mm:ss", width=85),
            "ended": st.column_config.DatetimeColumn("Ended", format="HH:mm:ss", width=85),
            "duration": st.column_config.NumberColumn("Seconds", format="%.1f"),
            "cpu_percent": st.column_config.NumberColumn("CPU %", format="%.1f"),
            "rss": "Memory",
            "restarts": "Restarts",
            "message": st.column_config.TextColumn("What happened", width="large"),
        },
    )
    run_story(workflow_run_story(page.rt, run), tz, key="workflow_resources")
    with_logs = [s for s in run.steps if s.log_path]
    if not with_logs:
        return
    running = next((s.name for s in with_logs if s.status is StepStatus.RUNNING), with_logs[-1].name)
    names = [s.name for s in with_logs]
    key, followed = f"log_step_{run.id}", f"log_step_{run.id}_followed"
    if st.session_state.get(key) in (None, st.session_state.get(followed)):  # not picked: follow the running step
        st.session_state[key] = running
    st.session_state[followed] = running
    picked = st.segmented_control("Log of step", names, key=key) or running
    step = next(s for s in with_logs if s.name == picked)
    whole_log = f"api/workflows/runs/{run.id}/steps/{step.name}/log", f"{run.workflow}_run-{run.id}_{step.name}.log"
    log_view(
        step.log_tail, earlier=step.log_tail_cut, stream=f"{run.id}/{step.name}", key="workflow_log_view",
        whole_log=whole_log,
    )  # fmt: skip
    download_link(f"Whole log of {step.name}", *whole_log, key="workflow_log")


# -- the page ------------------------------------------------------------------------
listing = page.rt.workflows.workflows()
if not listing.workflows:
    st.info(NO_WORKFLOWS)
    st.stop()
view, fresh = opened(
    WORKFLOWS,
    lambda query: parse_workflows(
        query,
        [w.name for w in listing.workflows],
        lambda i: queries.workflow_run(page.rt, i),
        lambda name: queries.newest_workflow_run(page.rt, name),
    ),
)
if fresh:  # a link, a reload, Back: the run and step it names (the newest run if none)
    st.session_state[RUN] = view.run
    if view.run is not None and view.step is not None:
        st.session_state[f"log_step_{view.run}"] = view.step
st.session_state[ACTIVE] = [r.id for r in listing.active]
show_notes()

for row in range(0, len(listing.workflows), 3):
    for col, workflow in zip(st.columns(3), listing.workflows[row : row + 3]):
        with col:
            workflow_card(page, workflow)


@st.fragment(run_every=1.0)
def live(page: PageContext) -> None:
    """The selected run, live; a run starting or ending refreshes the whole page (cards, buttons)."""
    rt, tz = page.rt, page.tz
    active = [r.id for r in rt.workflows.active()]
    if active != st.session_state.get(ACTIVE):
        st.session_state[ACTIVE] = active
        keep_notes()
        st.rerun()
    st.session_state.pop(SHOWN, None)  # this page is complete: its notes were seen
    total, recent = rt.workflows.runs(limit=30)
    if not recent:
        st.caption(f"No runs yet: press {material('play_arrow')} Start… on a workflow.")
        return
    st.subheader("Run")
    choices = {r.id: r for r in recent}
    if st.session_state.get(RUN) not in (None, *choices):  # an older run a link named stays in the list
        linked = queries.workflow_run(rt, st.session_state[RUN])
        choices.update({linked.id: linked} if linked is not None else {})
    if st.session_state.get(RUN) not in choices:
        st.session_state[RUN] = next(iter(choices))
    run_id = st.selectbox(
        "Run",
        list(choices),
        format_func=lambda i: f"#{i} · {choices[i].workflow} · {choices[i].status} · "
        f"{local_time(choices[i].started_at, tz, '%Y-%m-%d %H:%M:%S')}",
        key=RUN,
        label_visibility="collapsed",
    )
    run_view(page, rt.workflows.detail(run_id))
    step, followed = st.session_state.get(f"log_step_{run_id}"), st.session_state.get(f"log_step_{run_id}_followed")
    shown = WorkflowsView(choices[run_id].workflow, run_id, step if step != followed else None)
    keep(WORKFLOWS, workflows_query(shown))  # the URL follows the run and the step picked

    st.subheader("History")
    history = runs_frame(recent)
    history["started"] = history["started"].dt.tz_convert(tz).dt.tz_localize(None)
    st.dataframe(
        history,
        hide_index=True,
        placeholder=BLANK,
        key="workflow_history",
        column_config={
            "id": st.column_config.NumberColumn("#", width="small"),
            "workflow": "Workflow",
            "status": st.column_config.TextColumn("Status", width=130),
            "trigger": "Trigger",
            "started": st.column_config.DatetimeColumn("Started", format="YYYY-MM-DD HH:mm:ss"),
            "params": "Parameters",
            "duration": st.column_config.NumberColumn("Seconds", format="%.1f"),
            "message": st.column_config.TextColumn("What happened", width="large"),
        },
    )
    st.caption(f"The {len(recent)} newest of {total} runs.")


live(page)
