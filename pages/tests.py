"""Tests: run a suite, watch it run, see how it went and how it has been going."""

from __future__ import annotations

import streamlit as st

from dashboard_core.app import actions, queries
from dashboard_core.app.caller import Refusal
from dashboard_core.app.links import suite_link
from dashboard_core.app.run_story import test_run_story
from dashboard_core.app.test_views import (
    active_state,
    counts_line,
    results_refresh,
    run_label,
    status_text,
    when,
)
from dashboard_core.app.urls import TESTS
from dashboard_core.app.view_state import TestsView, parse_tests, place_case, results_query
from dashboard_core.labels import BLANK, OUTCOME_ICON, RUN_COLOUR, RUN_ICON
from dashboard_core.models import CaseInfo, RunDetail, RunInfo, RunStatus, SuiteInfo, Trigger
from dashboard_core.testing.charts import history_figure
from dashboard_core.testing.reports import (
    FAILING,
    cases_frame,
    export_name,
    filter_cases,
    history_frame,
    pass_rate_spark,
    slowest,
)
from dashboard_core.timeline.figure_marks import elsewhere, history_axis
from dashboard_core.timeline.marks import marks_between
from dashboard_core.units import format_seconds
from ui.chart_marks import marked_chart
from ui.log_view import log_view
from ui.run_story import run_story
from ui.test_compare import compare_section, seed
from ui.test_flaky import flaky_panel, quarantine_note
from ui.test_regressions import slower_tests
from ui.test_resources import heaviest_tests
from ui.url_state import keep, opened
from ui.widgets import PageContext, download_link, icon_text, material, page_context

OUTCOMES = list(OUTCOME_ICON)
OPERATOR = "operator"
ALL_SUITES = "All suites"
RUN_CHOICES = 50  # runs offered in the results picker
SPARK_RUNS = 20
HISTORY_RUNS = 50

# session state
NOTES, ACTIVE, SUITE, RUN, RUN_LABEL = "tests_notes", "tests_active", "tests_suite", "tests_run", "tests_run_label"
CASE, FAILURE, SEARCH = "tests_case", "tests_failure", "tests_search"  # the URL's case, then where it shows

NO_SUITES = """No test suites are configured. Add one to `dashboard.toml` and restart the dashboard, e.g.:

```toml
[[suites]]
name = "unit"
description = "The project's unit tests"
paths = ["tests"]          # relative to cwd
cwd = "."                  # relative to dashboard.toml
```

See the configuration reference (docs/reference/configuration.md) for every `suites` key (pytest options, workers, timeouts, command suites)."""


CASE_COLUMNS = {
    "outcome": st.column_config.TextColumn("Outcome", width="small"),
    "nodeid": st.column_config.TextColumn("Test", width="large"),
    "duration": st.column_config.NumberColumn("Seconds", format="%.2f", width="small"),
    "message": st.column_config.TextColumn("Message", width="large"),
}


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
                "Cancel", icon=material("stop"), key=f"cancel_{suite.name}", width="stretch", on_click=cancel, args=(page, active.id)
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
                "Cancel", icon=material("stop"), key=f"cancel_run_{run.id}", width="stretch", on_click=cancel, args=(page, run.id)
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
        detail = page.rt.tests.detail(run.id)
        log_view(
            detail.log_tail, earlier=detail.log_tail_cut, stream=str(run.id), key=f"tests_log_{run.id}", height=260,
            whole_log=(f"api/testing/runs/{run.id}/log", export_name(run, "log")),
        )  # fmt: skip


def results(page: PageContext, run: RunDetail, suite: SuiteInfo | None) -> None:
    tz = page.tz
    cols = st.columns(4)
    cols[0].metric("Status", icon_text(RUN_ICON[run.status], status_text(run.status)))
    finished = run.status.finished
    cols[1].metric(
        "Duration", format_seconds(run.duration_seconds) if finished and run.duration_seconds is not None else "—"
    )
    cols[2].metric(
        "Started", when(run, tz, "%H:%M:%S"), when(run, tz, "%Y-%m-%d"), delta_color="gray", delta_arrow="off"
    )
    cols[3].metric("Triggered from", str(run.trigger).upper())
    rerun = f" · re-run of the {run.selected} failed tests of run #{run.rerun_of}" if run.rerun_of is not None else ""
    if finished:
        st.markdown(f"**{run.summary()}** · {run.message}{rerun}")
        quarantine_note(run.cases)  # its quarantined tests, marked
    else:
        st.info("This run is still going: the tests finished so far are below, more as they finish.")

    failing = [c for c in run.cases if c.outcome in FAILING]
    links = st.columns([1, 1, 1, 2], vertical_alignment="center")
    with links[0]:
        download_link("Results CSV", f"api/testing/runs/{run.id}/cases.csv", export_name(run, "csv"), "dl_csv")
    with links[1]:
        download_link("JUnit XML", f"api/testing/runs/{run.id}/junit.xml", export_name(run, "xml"), "dl_junit")
    if run.log_path:
        with links[2]:
            download_link("Full log", f"api/testing/runs/{run.id}/log", export_name(run, "log"), "dl_log")
    if failing and finished and suite is not None and suite.kind == "pytest" and page.may(OPERATOR):
        n = len(failing)
        links[3].button(
            f"Re-run the {n} failed test{'s' if n != 1 else ''}",
            icon=material("replay"),
            key="rerun_failed",
            on_click=start,
            args=(page, run.suite, run.id),
        )

    frame = cases_frame(run.cases)
    if frame.empty:
        st.caption("No test results were recorded for this run." if finished else "No test has finished yet.")
    else:
        outcomes_col, text_col = st.columns([3, 2], vertical_alignment="bottom")
        outcomes = outcomes_col.pills(
            "Outcome",
            OUTCOMES,
            selection_mode="multi",
            default=OUTCOMES,
            format_func=lambda o: f"{material(OUTCOME_ICON[o])} {o}",
            key="tests_outcomes",
            wrap=True,  # in a column they would stay on one row, its end out of sight on a phone
        )
        text = text_col.text_input("Search", placeholder="part of a test name or message", key="tests_search")
        shown = filter_cases(frame, outcomes, text)
        st.dataframe(shown, hide_index=True, placeholder=BLANK, column_config=CASE_COLUMNS, key="tests_cases")
        st.caption(f"{len(shown)} of {len(frame)} tests shown.")

    if failing:
        failure(failing)
    if run.cases:
        st.markdown("**Slowest tests**")
        st.dataframe(
            slowest(run.cases, 10),
            hide_index=True,
            placeholder=BLANK,
            column_config=CASE_COLUMNS,
            column_order=["duration", "nodeid", "outcome"],
            key="tests_slowest",
        )
    heaviest_tests(page.rt, run)  # what each test cost: CPU, peak memory, growth
    run_story(test_run_story(page.rt, run), page.tz, key="tests_resources")
    if finished:
        slower_tests(page.rt, run, run.cases)  # tests slower than their history, and whether the host was busy
        with st.expander("Output, last lines", expanded=not run.cases):
            log_view(
                run.log_tail, earlier=run.log_tail_cut, stream=str(run.id), key="tests_output", empty="(no output)",
                whole_log=(f"api/testing/runs/{run.id}/log", export_name(run, "log")) if run.log_path else None,
            )  # fmt: skip


def run_results(page: PageContext, run_id: int, by_name: dict[str, SuiteInfo]) -> None:
    detail = page.rt.tests.detail(run_id)
    failing = [c.nodeid for c in detail.cases if c.outcome in FAILING]
    if CASE in st.session_state:  # the test a link named: picked in Failures, or searched
        picked, search = place_case(st.session_state.pop(CASE), failing)
        st.session_state.update({k: v for k, v in ((FAILURE, picked), (SEARCH, search)) if v is not None})
    results(page, detail, by_name.get(detail.suite))
    suite, case = st.session_state.get(SUITE, ALL_SUITES), st.session_state.get(FAILURE)  # the URL follows them
    shown = TestsView(None if suite == ALL_SUITES else suite, run_id, case if case in failing else None)
    keep(TESTS, {**results_query(shown, failing[0] if failing else None), **compare_section(page, detail)})


def failure(failing: list[CaseInfo]) -> None:
    st.markdown("**Failures**")
    by_id = {c.nodeid: c for c in failing}
    picked = st.selectbox(
        "Failed test",
        list(by_id),
        key="tests_failure",
    )
    case = by_id.get(picked, failing[0])
    if case.message:
        st.caption(case.message)
    st.code(case.traceback or "(no traceback recorded)", language=None)


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
    st.session_state.update({SUITE: view.suite or ALL_SUITES, RUN: view.run, CASE: view.case, **seed(rt)})
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
    detail = rt.tests.detail(run_id)
    # A run still going refreshes its results as its tests finish; the live section reruns
    # the whole page when it ends.
    st.fragment(run_results, run_every=results_refresh(detail))(page, run_id, by_name)
    shown_suite = suite_choice if suite_choice in by_name else by_name.get(detail.suite, suites[0]).name

history(page, shown_suite)
