"""The Tests page's "Slower tests" section of a finished run: the tests that got
slower beyond their noise, each labelled (regression, host busy, not enough
history), and a small chart of the first few. Everything it shows is decided in
dashboard_core.app.regressions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_core.app.regressions import CHARTS, VERDICT_ICON, run_regressions, slowdown_chart
from dashboard_core.labels import BLANK
from dashboard_core.models import RunInfo
from dashboard_core.runtime import Runtime
from ui.widgets import icon_text

COLUMNS = {
    "verdict": st.column_config.TextColumn("Verdict", width="small"),
    "nodeid": st.column_config.TextColumn("Test", width="large"),
    "duration_seconds": st.column_config.NumberColumn("Seconds", format="%.3f", width="small"),
    "median_seconds": st.column_config.NumberColumn("Median before", format="%.3f", width="small"),
    "ratio": st.column_config.NumberColumn("× median", format="%.1f", width="small"),
    "others_cpu": st.column_config.NumberColumn("Others' CPU %", format="%.0f", width="small"),
}


def slower_tests(rt: Runtime, run: RunInfo) -> None:
    """The section for a finished run."""
    found = run_regressions(rt, run)
    st.markdown("**Slower tests**")
    st.caption(found.note)
    if not found.tests:
        return
    rows = [
        {
            "verdict": t.verdict.value,
            "nodeid": t.nodeid,
            "duration_seconds": t.duration_seconds,
            "median_seconds": t.median_seconds,
            "ratio": t.ratio,
            "others_cpu": t.host.others_cpu_percent if t.host is not None else None,
        }
        for t in found.tests
    ]
    st.dataframe(
        pd.DataFrame(rows, columns=list(COLUMNS)),
        hide_index=True,
        placeholder=BLANK,
        column_config=COLUMNS,
        key="tests_regressions",
    )
    for i, test in enumerate(found.tests[:CHARTS]):
        with st.container(border=True, key=f"tests_slower_{i}"):
            st.markdown(f"{icon_text(VERDICT_ICON[test.verdict], test.verdict.value)} · `{test.nodeid}`")
            st.plotly_chart(slowdown_chart(found, test), key=f"tests_slower_chart_{i}", config={"displaylogo": False})
