"""The Tests page's comparison view: a finished run beside another run of its suite
(the last passed one first), with its URL part (``compare=<run>``). Layout only: what
to show is decided in dashboard_core (app.run_compare, app.compare_view)."""

from __future__ import annotations

import streamlit as st

from dashboard_core.app import queries
from dashboard_core.app.compare_view import (
    compare_choices,
    environment_lines,
    headline,
    load_rows,
    named,
    package_rows,
    table_columns,
    table_rows,
)
from dashboard_core.app.run_compare import RunComparison, compare_runs, comparison_name
from dashboard_core.app.test_views import run_label
from dashboard_core.app.urls import Query
from dashboard_core.app.view_state import compare_query, parse_compare
from dashboard_core.labels import BLANK
from dashboard_core.models import RunInfo
from dashboard_core.runtime import Runtime
from dashboard_core.testing.compare_charts import delta_figure
from dashboard_core.testing.errors import SuiteError
from ui.url_state import current_query
from ui.widgets import PageContext, download_link, material

COMPARE, FOR, PICKED = "tests_compare", "tests_compare_for", "tests_compare_with"
COLUMNS = {
    "change": st.column_config.TextColumn("Change", width="small"),
    "nodeid": st.column_config.TextColumn("Test", width="large"),
    "base_seconds": st.column_config.NumberColumn("Other run, s", format="%.3f"),
    "head_seconds": st.column_config.NumberColumn("This run, s", format="%.3f"),
    "delta_seconds": st.column_config.NumberColumn("Change, s", format="%+.3f"),
    "verdict": st.column_config.TextColumn("Duration", help="Mann-Whitney U over each side's passed runs"),
    "p_value": st.column_config.NumberColumn("p", format="%.3g"),
    "cpu_delta_seconds": st.column_config.NumberColumn("CPU change, s", format="%+.3f"),
    "peak_rss_delta_bytes": st.column_config.NumberColumn("Peak memory change, bytes", format="%+d"),
}


def seed(rt: Runtime) -> dict[str, int | None]:
    """On a URL new to the page: the session state that opens the comparison its
    ``compare`` names, for the run the page shows (its problems said on the page)."""
    parsed = parse_compare(current_query(), lambda i: queries.run_of_suite(rt, i, None))
    for problem in parsed.problems:
        st.warning(problem, icon=material("link_off"))
    return {COMPARE: parsed.view, FOR: None, PICKED: parsed.view}


def compared_with(run_id: int) -> int | None:
    """The run that run ``run_id`` is compared with; None when the view is closed. Picking
    another run to show closes it."""
    other, owner = st.session_state.get(COMPARE), st.session_state.get(FOR)
    if other is None:
        return None
    if owner is None:  # opened by a URL: it is for the run the page shows
        st.session_state[FOR] = run_id
    elif owner != run_id:
        st.session_state[COMPARE] = None
        return None
    return int(other)


def _open(run_id: int, other: int) -> None:
    st.session_state.update({COMPARE: other, FOR: run_id, PICKED: other})


def _picked() -> None:
    st.session_state[COMPARE] = st.session_state.get(PICKED)


def _close() -> None:
    st.session_state[COMPARE] = None


def compare_section(page: PageContext, run: RunInfo) -> Query:
    """A Compare button under a finished run, the comparison once opened; the URL's part
    for it (``compare=<run>``)."""
    if not run.status.finished:
        return {}
    choices, default = compare_choices(page.rt, run)
    other = compared_with(run.id)
    if other is None:
        st.button(
            "Compare with another run",
            icon=material("compare_arrows"),
            key="tests_compare_open",
            disabled=default is None,
            help="This run beside the last passed run of the suite (or another you pick): "
            "tests newly failing, added, removed, slower, and what changed around the suite."
            if default is not None
            else "This suite has no other finished run yet.",
            on_click=_open,
            args=(run.id, default),
        )
        return {}
    by_id = {r.id: r for r in choices}
    if other not in by_id:
        by_id[other] = page.rt.tests.run(other)
    with st.container(border=True, key="tests_compare"):
        head, close = st.columns([6, 1], vertical_alignment="bottom")
        st.session_state[PICKED] = other  # the picker shows the run compared with, however it was opened
        head.selectbox(
            "Compare with",
            list(by_id),
            format_func=lambda i: run_label(by_id.get(i), page.tz),
            key=PICKED,
            on_change=_picked,
        )
        close.button("Close", icon=material("close"), key="tests_compare_close", on_click=_close, width="stretch")
        try:
            comparison_body(compare_runs(page.rt, run.id, other))
        except SuiteError as refusal:  # another suite's run named by a link, say
            st.warning(str(refusal))
    return compare_query(other)


def comparison_body(c: RunComparison) -> None:
    counts = c.counts
    slower = sum(1 for r in c.cases if r.duration is not None and r.duration.verdict == "slower")
    cols = st.columns(5)
    for col, (label, value) in zip(
        cols,
        [
            ("Newly failing", counts["newly failing"]),
            ("Newly passing", counts["newly passing"]),
            ("Added", counts["added"]),
            ("Removed", counts["removed"]),
            ("Slower beyond noise", slower),
        ],
    ):
        col.metric(label, value)
    st.markdown(headline(c))
    for change in ("newly failing", "newly passing"):
        line = named(c, change)
        if line is not None:
            st.markdown(line)
    figure = delta_figure(c.cases)
    if figure is not None:
        st.plotly_chart(figure, key="tests_compare_chart", config={"displaylogo": False})
    everything = st.toggle("Show every test", key="tests_compare_all")
    rows = table_rows(c, everything)
    if rows:
        st.dataframe(
            rows,
            hide_index=True,
            placeholder=BLANK,
            column_config=COLUMNS,
            column_order=table_columns(rows),
            key="tests_compare_table",
        )
    else:
        st.caption("No test changed its outcome or its time beyond its noise.")
    st.caption(
        f"Durations are tested with a Mann-Whitney U test (alpha {c.alpha}) over each side's passed runs: "
        f"{len(c.base_side)} on the other run's side, {len(c.head_side)} on this one's. "
        "'too few runs' means no answer is possible from that many."
    )
    load, around = st.columns(2)
    with load:
        st.markdown("**The host during each run**")
        st.dataframe(load_rows(c), hide_index=True, placeholder=BLANK, key="tests_compare_load")
    with around:
        st.markdown("**Around the suite**")
        for line in environment_lines(c.environment):
            st.markdown(line)
        packages = package_rows(c.environment)
        if packages:
            st.dataframe(packages, hide_index=True, placeholder=BLANK, key="tests_compare_packages")
    download_link(
        "Comparison CSV",
        f"api/testing/runs/{c.head.id}/compare.csv?with={c.base.id}",
        comparison_name(c),
        "dl_compare",
    )
