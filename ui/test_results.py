"""The results of one test run on the Tests page: its header and counts at once,
then tabs, of which only the open one runs and draws: Tests (a page of its cases,
filtered and sorted in the store and drawn as plain HTML, so a run of 20,000 tests
opens as fast as one of 20; its failures), Resources (the slowest and heaviest
tests), Slower tests, Output and the suite's history (their charts are drawn only
when their tab is picked)."""

from __future__ import annotations

import html
from collections.abc import Callable

import streamlit as st

from dashboard_core.app.case_table import (
    CASE_TABLE,
    SLOWEST_TABLE,
    TABLE_ROWS,
    case_table,
    cases_html,
    failing_cases,
    failure_details,
    slowest_cases,
    sort_choices,
    sort_label,
)
from dashboard_core.app.run_story import test_run_story
from dashboard_core.app.test_views import TAB_LABELS, RunTab, open_tab, run_tabs, status_text, tab_of_label, when
from dashboard_core.app.urls import TESTS
from dashboard_core.app.view_state import TestsView, place_case, results_query
from dashboard_core.labels import OUTCOME_ICON, RUN_ICON
from dashboard_core.models import CaseInfo, RunInfo, SuiteInfo
from dashboard_core.testing.case_query import CasePage
from dashboard_core.testing.reports import export_name
from dashboard_core.units import format_seconds
from ui.log_view import log_view
from ui.run_story import run_story
from ui.test_compare import compare_section
from ui.test_flaky import quarantine_note
from ui.test_regressions import slower_tests
from ui.test_resources import heaviest_tests
from ui.url_state import keep
from ui.widgets import PageContext, download_links, icon_text, material

OUTCOMES = list(OUTCOME_ICON)
OPERATOR = "operator"
# session state: the URL's case, then where it shows (the Failures list or the search)
CASE, FAILURE, SEARCH = "tests_case", "tests_failure", "tests_search"
# session state: the tab picked (a RunTab's value: the URL's ``tab``), and the tabs' own widget (a label)
TAB, TABS = "tests_tab", "tests_tabs"
OUTCOME_PILLS, SLOWER, SORT, PAGE, FILTERS = (
    "tests_outcomes",
    "tests_slower",
    "tests_sort",
    "tests_page",
    "tests_filters",
)

Rerun = Callable[[PageContext, str, int], None]  # the page's Re-run button callback: (page, suite, run id)
History = Callable[[PageContext, str], None]  # the page's suite history: (page, suite)
# The Tests tab's widgets: kept while another tab is open (Streamlit forgets a widget not drawn in a run).
KEPT = (OUTCOME_PILLS, SLOWER, SORT, PAGE, SEARCH, FAILURE)


def run_results(
    page: PageContext,
    run_id: int,
    by_name: dict[str, SuiteInfo],
    suite: str | None,
    rerun: Rerun,
    history: tuple[History, str],
) -> None:
    """The run's results; ``suite`` is the suite picked (None: all), for the URL;
    ``history`` draws a suite's history (in its tab) and names the suite."""
    run = page.rt.tests.run(run_id)
    failing = failing_cases(page.rt.tests, run_id)
    names = [c.nodeid for c in failing.items]
    if CASE in st.session_state:  # the test a link named: picked in Failures, or searched
        picked, search = place_case(st.session_state.pop(CASE), names)
        st.session_state.update({k: v for k, v in ((FAILURE, picked), (SEARCH, search)) if v is not None})
    tab = results(page, run, by_name.get(run.suite), failing, rerun, history)
    case = st.session_state.get(FAILURE)  # the URL follows them
    shown = TestsView(suite, run_id, case if case in names else None, tab)
    keep(TESTS, {**results_query(shown, names[0] if names else None), **compare_section(page, run)})


def header(page: PageContext, run: RunInfo) -> None:
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
        quarantine_note(page.rt.tests.history.quarantined_cases(run.id))  # its quarantined tests, marked
    else:
        st.info("This run is still going: the tests finished so far are below, more as they finish.")


def _tab_picked() -> None:
    picked = tab_of_label(st.session_state.get(TABS))
    st.session_state[TAB] = (picked or RunTab.TESTS).value


def results(
    page: PageContext,
    run: RunInfo,
    suite: SuiteInfo | None,
    failing: CasePage,
    rerun: Rerun,
    history: tuple[History, str],
) -> RunTab:
    """The header, the links, and the run's tabs, of which only the open one runs and
    draws (so opening a run draws no chart); returns that tab."""
    header(page, run)
    finished = run.status.finished
    exports = [
        ("Results CSV", f"api/testing/runs/{run.id}/cases.csv", export_name(run, "csv"), "dl_csv"),
        ("JUnit XML", f"api/testing/runs/{run.id}/junit.xml", export_name(run, "xml"), "dl_junit"),
    ]
    if run.log_path:
        exports.append(("Full log", f"api/testing/runs/{run.id}/log", export_name(run, "log"), "dl_log"))
    links = st.columns([3, 2], vertical_alignment="center")
    with links[0]:
        download_links(exports)
    if failing.total and finished and suite is not None and suite.kind == "pytest" and page.may(OPERATOR):
        n = failing.total  # tests, not pytest's count (which has each failed subtest)
        links[1].button(
            f"Re-run the {n} failed test{'s' if n != 1 else ''}",
            icon=material("replay"),
            key="rerun_failed",
            on_click=rerun,
            args=(page, run.suite, run.id),
        )
    state = st.session_state
    tabs = run_tabs(run)
    tab = open_tab(state.get(TAB), tabs)
    state[TAB] = tab.value
    state[TABS] = TAB_LABELS[tab]  # the tab picked stays open across reruns, and when the run ends
    containers = dict(zip(tabs, st.tabs([TAB_LABELS[t] for t in tabs], key=TABS, on_change=_tab_picked), strict=True))
    if tab is not RunTab.TESTS:
        for key in KEPT:
            if key in state:
                state[key] = state[key]
    with containers[tab]:
        if tab is RunTab.TESTS:
            tests_tab(page, run, failing)
        elif tab is RunTab.RESOURCES:
            slowest_tests(page, run)  # wall time, then CPU and peak memory
            heaviest_tests(page.rt, run)  # what each test cost: CPU, peak memory, growth
            run_story(test_run_story(page.rt, run), page.tz, key="tests_resources")
        elif tab is RunTab.SLOWER:
            slower_tests(page.rt, run)  # tests slower than their history, and whether the host was busy
        elif tab is RunTab.OUTPUT:
            tail = page.rt.tests.log_tail(run.id)
            log_view(
                tail.text, earlier=tail.earlier, stream=str(run.id), key="tests_output", empty="(no output)",
                whole_log=(f"api/testing/runs/{run.id}/log", export_name(run, "log")) if run.log_path else None,
            )  # fmt: skip
        else:
            draw, name = history
            draw(page, name)
    return tab


def tests_tab(page: PageContext, run: RunInfo, failing: CasePage) -> None:
    """The filters, a page of the table, and the failures (the slowest tests are on the
    Resources tab, with the heaviest: what each test cost)."""
    cases_table(page, run)
    if failing.items:
        failure(failing.items)


def slowest_tests(page: PageContext, run: RunInfo) -> None:
    slowest = slowest_cases(page.rt.tests, run.id)
    if slowest:
        st.markdown("**Slowest tests**")
        st.html(cases_html(slowest, SLOWEST_TABLE, "tests_slowest", "The run's slowest tests", "No tests."))


def cases_table(page: PageContext, run: RunInfo) -> None:
    """The filters and one page of the table."""
    state = st.session_state
    outcomes, slower, text, sort = (
        state.get(OUTCOME_PILLS, OUTCOMES), state.get(SLOWER), state.get(SEARCH, ""), state.get(SORT, "failures")
    )  # fmt: skip
    if state.get(FILTERS) != (filters := (tuple(outcomes or ()), slower, text, sort)):
        state[FILTERS], state[PAGE] = filters, 1  # other filters: back to the first page
    table = case_table(page.rt.tests, run.id, outcomes or [], slower, text, sort, state.get(PAGE, 1))
    if table.page.run_total == 0:
        st.caption(
            "No test results were recorded for this run." if run.status.finished else "No test has finished yet."
        )
        return
    state[PAGE] = table.number
    outcomes_col, slower_col, text_col, sort_col = st.columns([5, 2, 3, 2], vertical_alignment="bottom")
    outcomes_col.pills(
        "Outcome",
        OUTCOMES,
        selection_mode="multi",
        default=OUTCOMES,
        format_func=lambda o: f"{material(OUTCOME_ICON[o])} {table.outcome_label(o)}",
        key=OUTCOME_PILLS,
        wrap=True,  # in a column they would stay on one row, its end out of sight on a phone
    )
    slower_col.number_input(
        "Slower than (s)", min_value=0.0, value=None, step=0.1, placeholder="any", key=SLOWER,
        help="Only tests that took at least this many seconds (setup, call and teardown).",
    )  # fmt: skip
    text_col.text_input("Search", placeholder="part of a test name or message", key=SEARCH)
    sort_col.selectbox("Sort", sort_choices(), format_func=sort_label, key=SORT)
    label = f"Tests of run {run.id}: {table.caption}"
    st.html(cases_html(table.page.items, CASE_TABLE, "tests_cases", label, "No test matches these filters."))
    caption_col, page_col = st.columns([5, 1], vertical_alignment="center")
    caption_col.caption(table.caption)
    if table.pages > 1:
        page_col.number_input(
            f"Page (of {table.pages:,})", min_value=1, max_value=table.pages, step=1, key=PAGE,
            help=f"{TABLE_ROWS} tests a page, in the order picked in Sort.",
        )  # fmt: skip


def failure(failing: list[CaseInfo]) -> None:
    st.markdown("**Failures**")
    by_id = {c.nodeid: c for c in failing}
    picked = st.selectbox("Failed test", list(by_id), key=FAILURE)
    case = by_id.get(picked, failing[0])
    for title, traceback in failure_details(case):
        if title:
            st.caption(title)
        traceback_block(traceback)


TRACEBACK_STYLE = (
    "margin:0;padding:0.75rem 1rem;border-radius:0.5rem;overflow:auto;max-height:28rem;"
    "white-space:pre;font-family:var(--st-code-font,monospace);font-size:0.8rem;line-height:1.45;"
    "background:rgba(128,128,128,0.1)"  # readable on the light and the dark theme
)


def traceback_block(text: str) -> None:
    """A traceback as plain preformatted text: st.code would load Streamlit's 1.5 MB syntax
    highlighter into the tab while the results table is still being drawn."""
    st.html(f'<pre style="{TRACEBACK_STYLE}">{html.escape(text)}</pre>')
