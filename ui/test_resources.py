"""A run's heaviest tests (CPU, peak memory) and the tests whose cost grew, on the
Tests page; what to show is decided in dashboard_core.app.case_costs."""

from __future__ import annotations

import streamlit as st

from dashboard_core.app.case_costs import growth_frame, heaviest_frame, run_costs
from dashboard_core.labels import BLANK
from dashboard_core.models import RunInfo
from dashboard_core.runtime import Runtime

_TEST = st.column_config.TextColumn("Test", width="large")
_SECONDS = st.column_config.NumberColumn("Seconds", format="%.2f", help="Wall time, setup to teardown.")


def _bar(label: str, top: float, fmt: str, help: str) -> st.column_config.ProgressColumn:
    return st.column_config.ProgressColumn(label, format=fmt, min_value=0.0, max_value=max(top, 1e-9), help=help)


def heaviest_tests(rt: Runtime, run: RunInfo) -> None:
    costs = run_costs(rt, run)
    if costs.note is not None:
        st.markdown("**Heaviest tests**")
        st.caption(costs.note)
        return
    if not costs.by_cpu.items:
        return
    cpu_col, memory_col = st.columns(2)
    cpu = heaviest_frame(costs.by_cpu)
    cpu_col.markdown("**Heaviest tests: CPU**")
    cpu_col.dataframe(
        cpu,
        hide_index=True,
        placeholder=BLANK,
        key="tests_heaviest_cpu",
        column_config={
            "cpu_seconds": _bar("CPU s", float(cpu["cpu_seconds"].max()), "%.2f", "User + system CPU seconds."),
            "nodeid": _TEST,
            "cpu_user_seconds": st.column_config.NumberColumn("User", format="%.2f"),
            "cpu_system_seconds": st.column_config.NumberColumn("System", format="%.2f"),
            "cpu_ratio": st.column_config.NumberColumn(
                "CPU/wall", format="%.2f", help="~1 computing, ~0 waiting, above 1 several threads at once."
            ),
            "duration": _SECONDS,
        },
    )
    memory = heaviest_frame(costs.by_memory)
    memory_col.markdown("**Heaviest tests: peak memory**")
    memory_col.dataframe(
        memory,
        hide_index=True,
        placeholder=BLANK,
        key="tests_heaviest_memory",
        column_config={
            "peak_rss_mib": _bar(
                "Peak MiB",
                float(memory["peak_rss_mib"].max()) if len(memory) else 1.0,
                "%.0f",
                "Peak resident memory of the process that ran the test (its pytest, or its xdist worker), "
                "while the test ran: what that process held before the test counts too.",
            ),
            "nodeid": _TEST,
            "cpu_seconds": st.column_config.NumberColumn("CPU s", format="%.2f"),
            "duration": _SECONDS,
        },
    )
    growth = costs.growth
    if growth is None:
        st.caption("Which tests grew in cost shows once the run has finished.")
        return
    st.markdown("**Tests whose cost grew**")
    if not growth.items:
        st.caption(f"None, against the suite's last {growth.window} runs before this one. {growth.rule}")
        return
    st.dataframe(
        growth_frame(growth),
        hide_index=True,
        placeholder=BLANK,
        key="tests_cost_growth",
        column_config={
            "nodeid": _TEST,
            "metric": "Of",
            "now": "This run",
            "median": "Usually (median)",
            "growth_percent": st.column_config.NumberColumn("Growth", format="+%.0f %%"),
            "baseline_runs": st.column_config.NumberColumn("Runs compared", format="%d"),
        },
    )
    st.caption(growth.rule)
