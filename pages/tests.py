"""Tests: run a suite, watch it run, see how it went and how it has been going."""

from __future__ import annotations

import streamlit as st

from dashboard_core.app import actions, queries
from dashboard_core.app.caller import Refusal
from dashboard_core.app.links import suite_link
from dashboard_core.app.test_views import (
    active_state,
    counts_line,
    results_refresh,
    run_label,
    status_text,
    when,
)
from dashboard_core.app.urls import TESTS
from dashboard_core.app.view_state import parse_tests
from dashboard_core.labels import RUN_COLOUR, RUN_ICON
from dashboard_core.models import RunInfo, RunStatus, SuiteInfo, Trigger
from dashboard_core.testing.charts import history_figure
from dashboard_core.testing.reports import (
    export_name,
    history_frame,
    pass_rate_spark,
)
from dashboard_core.timeline.figure_marks import elsewhere, history_axis
from dashboard_core.timeline.marks import marks_between
from dashboard_core.units import format_seconds
from ui.chart_marks import marked_chart
from ui.log_view import log_view
from ui.test_compare import seed
from ui.test_flaky import flaky_panel
from ui.test_results import CASE, TAB, run_results
from ui.url_state import opened
from ui.widgets import PageContext, icon_text, material, page_context

OPERATOR = "operator"
ALL_SUITES = "All suites"
RUN_CHOICES = 50  # runs offered in the results picker
SPARK_RUNS = 20
HISTORY_RUNS = 50

# session state
NOTES, ACTIVE, SUITE, RUN, RUN_LABEL = "tests_notes", "tests_active", "tests_suite", "tests_run", "tests_run_label"

NO_SUITES = """No test suites are configured. Add one to `dashboard.toml` and restart the dashboard, e.g.:

```toml
[[suites]]
name = "unit"
description = "The project's unit tests"
paths = ["tests"]          # relative to cwd
cwd = "."                  # relative to dashboard.toml
```

See the configuration reference (docs/reference/configuration.md) for every `suites` key (pytest options, workers, timeouts, command suites)."""


# -- actions (button callbacks: they run before the page, so they may set widget state) ----
def note(kind: str, text: str) -> None:
    st.session_state.setdefault(NOTES, []).append((kind, text))


def show_notes() -> None:
    for kind, text in st.session_state.pop(NOTES, []):
        getattr(st, kind)(text)


def select_run(run: RunInfo) -> None:
    st.session_state[RUN] = run.id
    if st.session_state.get(SUITE, ALL_SUITES) not in (ALL_SUITES, run.suite):
        st.session_state[SUITE] = run.suite


def start(page: PageContext, name: str, rerun_of: int | None = None) -> None:
    try:
        started = actions.run_suite(page.rt, page.caller, name, Trigger.UI, rerun_failed_of=rerun_of)
    except Refusal as refusal:
        note("error", str(refusal))
        return
    run = started.run
    if started.created:
        what = f"the {run.selected} failed tests of run {rerun_of}" if rerun_of is not None else "the suite"
        note("success", f"Started run {run.id} of **{name}** ({what}).")
    else:
        doing = "queued" if run.status is RunStatus.QUEUED else "running"
        note("info", f"**{name}** is already {doing} as run {run.id}: showing that run, no second one was started.")
    select_run(run)


def cancel(page: PageContext, run_id: int) -> None:
    try:
        actions.cancel_run(page.rt, page.caller, run_id)
    except Refusal as refusal:
        note("error", str(refusal))


# -- sections ------------------------------------------------------------------------
def suite_card(page: PageContext, suite: SuiteInfo) -> None:
    rt, tz = page.rt, page.tz
    last, active = suite.last_full_run, suite.active_run
    with st.container(border=True, key=f"card_{suite.name}"):
        st.markdown(
            f"**{suite.name}**" + (" · command" if suite.kind == "command" else ""),
            help=f"Runs `{' '.join(suite.command)}` in `{suite.cwd}`",
        )
        st.caption(suite.description or f"a {suite.kind} suite (no description)")
        rate = None if last is None or last.pass_rate is None else f"{100 * last.pass_rate:.0f} % passed"
        st.metric(
            "Last run",
            icon_text(RUN_ICON[last.status], status_text(last.status)) if last else "never run",
            rate,
            delta_color=RUN_COLOUR.get(last.status, "gray") if last else "gray",
            delta_arrow="off",
            chart_data=pass_rate_spark(rt.tests.recent(suite.name, SPARK_RUNS)) or None,
            help=f"Pass rate of the last {SPARK_RUNS} full runs, oldest to newest.",
        )
        if last is not None:
            duration = format_seconds(last.duration_seconds) if last.duration_seconds is not None else "—"
            rerun = f" · re-run of #{last.rerun_of}'s failed tests" if last.rerun_of is not None else ""
            st.caption(f"#{last.id}{rerun} · {last.summary()} · {duration} · {when(last, tz)}")
        newest = suite.last_run
        if newest is not None and newest.rerun_of is not None and (last is None or newest.id > last.id):
            st.caption(
                f"Since then: #{newest.id}, a re-run of failed tests: {icon_text(RUN_ICON[newest.status], status_text(newest.status))}, {newest.summary()}"
            )
        if active is not None:
            st.caption(f"{icon_text(RUN_ICON[active.status], status_text(active.status))} now as run #{active.id}")
        run_col, cancel_col = st.columns(2)
        if not page.may(OPERATOR):  # viewers see everything but the buttons that act
            return
        run_col.button(
            "Run",
            icon=material("play_arrow"),
            key=f"run_{suite.name}",
            type="primary",
            width="stretch",
            on_click=start,
            args=(page, suite.name),
        )
        if active is not None:
            cancel_col.button(
                "Cancel",
                icon=material("stop"),
                key=f"cancel_{suite.name}",
                width="stretch",
                on_click=cancel,
                args=(page, active.id),
            )


def active_run(page: PageContext, run: RunInfo) -> None:
    with st.container(border=True, key=f"active_{run.id}"):
        head, button = st.columns([6, 1], vertical_alignment="center")
        rerun = f" · re-run of #{run.rerun_of} ({run.selected} tests)" if run.rerun_of is not None else ""
        head.markdown(
            f"{icon_text(RUN_ICON[run.status], status_text(run.status))} · **#{run.id} · {run.suite}** · started from the {str(run.trigger).upper()}{rerun}"
        )
        if page.may(OPERATOR):
            button.button(
                "Cancel",
                icon=material("stop"),
                key=f"cancel_run_{run.id}",
                width="stretch",
                on_click=cancel,
                args=(page, run.id),
            )
        if run.status is RunStatus.QUEUED:
            st.caption(f"Position {run.queue_position} in the queue: {run.message}.")
            return
        c = run.counts
        if c.collected:
            st.progress(min(1.0, c.done / c.collected), text=f"{c.done} of {c.collected} tests done")
        else:
            st.progress(0, text="Collecting tests…")
        st.markdown(counts_line(c))
        timing = f"{material('timer')} {format_seconds(run.duration_seconds or 0)} elapsed"
        if run.eta_seconds is not None:
            timing += f" · about {format_seconds(run.eta_seconds)} left"
        if run.message not in ("", "running"):
            timing += f" · {run.message}"
        st.caption(timing + (f" · now: `{run.current_test}`" if run.current_test else ""))
        tail = page.rt.tests.log_tail(run.id)  # not the cases: a run of 20,000 tests reads them a page at a time
        log_view(
            tail.text, earlier=tail.earlier, stream=str(run.id), key=f"tests_log_{run.id}", height=260,
            whole_log=(f"api/testing/runs/{run.id}/log", export_name(run, "log")),
        )  # fmt: skip


def history(page: PageContext, suite: str) -> None:
    rt, tz = page.rt, page.tz
    st.subheader(f"History of {suite}")
    chart, flaky_col = st.columns([3, 2])
    runs = history_frame(rt.tests.recent(suite, HISTORY_RUNS))
    figure = history_figure(runs, tz)
    if figure is None:
        chart.caption(f"No finished runs of {suite} yet.")
    else:  # what else happened during these runs; not the runs themselves (the chart's columns)
        axis = history_axis(runs)
        marks = elsewhere(marks_between(rt.store, *axis.window()).marks, suite_link(suite).href)
        marked_chart(figure, marks, tz, "tests_history", axis=axis, where=chart)
    flaky_panel(page, suite, flaky_col)  # flaky, broken and recovered tests; the quarantine


# -- the page ------------------------------------------------------------------------
page = page_context()
rt, tz = page.rt, page.tz
st.title("Tests")

suites = rt.tests.suites()
if not suites:
    st.info(NO_SUITES)
    st.stop()
by_name = {s.name: s for s in suites}
view, fresh = opened(
    TESTS, lambda query: parse_tests(query, list(by_name), lambda i: queries.run_of_suite(rt, i, None))
)
if fresh:  # a link, a reload, Back: the suite, run and test it names (the newest run if none)
    st.session_state.update(
        {SUITE: view.suite or ALL_SUITES, RUN: view.run, CASE: view.case, TAB: view.tab, **seed(rt)}
    )
st.session_state[ACTIVE] = active_state(rt.tests.active())
show_notes()


@st.fragment(run_every=1.0)
def active_runs(page: PageContext) -> None:
    show_notes()  # from a Cancel clicked in here
    runs = page.rt.tests.active()
    before, now = st.session_state.get(ACTIVE), active_state(runs)
    st.session_state[ACTIVE] = now
    if before is not None and before != now:  # a run started or ended: refresh the cards and results
        st.rerun()
    st.subheader("Active runs")
    if not runs:
        st.caption(f"Nothing is running. {material('play_arrow')} Run a suite below: its progress shows here.")
    for run in runs:
        active_run(page, run)


active_runs(page)  # at the top: after Run, the run's progress is in view without scrolling

st.subheader("Suites")
for row in range(0, len(suites), 3):
    for col, suite in zip(st.columns(3), suites[row : row + 3]):
        with col:
            suite_card(page, suite)

st.subheader("Results")
suite_col, run_col = st.columns([1, 3])
suite_choice = suite_col.selectbox("Suite", [ALL_SUITES, *by_name], key=SUITE)
choices = {
    r.id: r for r in rt.tests.runs(suite=None if suite_choice == ALL_SUITES else suite_choice, limit=RUN_CHOICES).items
}
if st.session_state.get(RUN) not in choices:  # an older run a link named stays in the list
    linked = queries.run_of_suite(rt, st.session_state.get(RUN), None if suite_choice == ALL_SUITES else suite_choice)
    choices.update({linked.id: linked} if linked is not None else {})
if not choices:
    run_col.caption(f"No runs yet: press {material('play_arrow')} Run on a suite.")
    shown_suite = suite_choice if suite_choice in by_name else suites[0].name
else:
    if st.session_state.get(RUN) not in choices:
        st.session_state[RUN] = next(iter(choices))  # the newest
    label = run_label(choices[st.session_state[RUN]], tz)
    if st.session_state.get(RUN_LABEL) != label:  # the run ended since: tell the browser its new label
        st.session_state[RUN] = st.session_state[RUN]
        st.session_state[RUN_LABEL] = label
    run_id = run_col.selectbox("Run", list(choices), format_func=lambda i: run_label(choices.get(i), tz), key=RUN)
    detail = rt.tests.run(run_id)
    # A run still going refreshes its results as its tests finish; the live section reruns
    # the whole page when it ends.
    picked = None if suite_choice == ALL_SUITES else suite_choice
    shown_suite = suite_choice if suite_choice in by_name else by_name.get(detail.suite, suites[0]).name
    # the suite's history is a tab of the run's view: drawn only when picked
    st.fragment(run_results, run_every=results_refresh(detail))(
        page, run_id, by_name, picked, start, (history, shown_suite)
    )

if not choices:
    history(page, shown_suite)
