"""The Overview's Cluster part: the Ray cluster's nodes and the dashboard's jobs on it
(shown only with ``[ray] address`` set). Layout only: dashboard_core.app.ray_cluster
reads the cluster, dashboard_core.app.ray_cluster_view says what each card and row says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st

from dashboard_core.app.ray_cluster import REFRESH, cluster_shown, ray_cluster
from dashboard_core.app.ray_cluster_view import cluster_caption, cluster_cards, job_rows, node_rows
from dashboard_core.models.ray_cluster import ClusterState
from dashboard_core.runtime import Runtime
from ui.widgets import SUMMARY_KEY, material, show_summary

NODE_COLUMNS: dict[str, Any] = {
    "node": "Node",
    "ip": "IP",
    "state": "State",
    "cpus": "CPUs used",
    "gpus": "GPUs used",
    "memory": "Memory used",
    "since": st.column_config.TextColumn("Since", help="Alive: when it started; dead: when it died."),
    "note": "Note",
    "id": "Node id",
}
JOB_COLUMNS: dict[str, Any] = {
    "started": "Started",
    "status": "Status",
    "run": "Run",
    "link": st.column_config.LinkColumn("Go to", display_text="^([a-z]+)", width="small"),
    "ended": "Ended",
    "submission_id": "Submission id",
    "message": "Ray says",
    "entrypoint": st.column_config.TextColumn("Entrypoint", width="large"),
}


def cluster_section(rt: Runtime, tz: str) -> None:
    """The part's heading, then its own fragment (redrawn every few seconds, apart from the page)."""
    if not cluster_shown(rt):
        return
    st.subheader("Cluster")
    _cluster(rt, tz)


@st.fragment(run_every=REFRESH)
def _cluster(rt: Runtime, tz: str) -> None:
    view = ray_cluster(rt)
    if view is None:
        return
    now = datetime.now(UTC)
    st.caption(cluster_caption(view, tz, now))
    if view.state is ClusterState.PENDING:
        st.info(f"Asking the Ray cluster at {view.address}…", icon=material("hourglass_empty"))
        return
    if view.state is ClusterState.UNREACHABLE:
        st.warning(view.problem or "cluster unreachable", icon=material("cloud_off"))
        return
    show_summary(cluster_cards(view), key=f"{SUMMARY_KEY}_ray")
    st.dataframe(node_rows(view, tz, now), hide_index=True, key="ray_nodes", column_config=NODE_COLUMNS)
    st.markdown("**Jobs this dashboard submitted**")
    if view.jobs:
        st.dataframe(job_rows(view.jobs, tz, now), hide_index=True, key="ray_jobs", column_config=JOB_COLUMNS)
    else:
        st.caption('None the cluster knows: suites with `executor = "ray"` show their jobs here.')
