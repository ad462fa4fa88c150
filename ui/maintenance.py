"""The Safety page's maintenance windows: which are in force, which come next."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboard_core.health.maintenance import MAINTENANCE_ICON, window_rows
from dashboard_core.runtime import Runtime
from ui.widgets import material


def maintenance_windows(rt: Runtime, tz: str) -> None:
    """A small table of the configured windows; nothing when there are none."""
    views = rt.health.maintenance.views(datetime.now(UTC))
    if not views:
        return
    st.subheader("Maintenance windows")
    active = [v.name for v in views if v.active]
    if active:
        st.info(
            f"In force now: **{', '.join(active)}**: checks go on, the alerts they cover notify no one.",
            icon=material(MAINTENANCE_ICON),
        )
    st.dataframe(
        window_rows(views, tz),
        hide_index=True,
        key="maintenance_windows",
        column_config={
            "name": "Window",
            "state": "State",
            "covers": st.column_config.TextColumn("Covers", width="medium"),
            "schedule": "Schedule",
            "now": "In force",
            "next": "Next",
            "description": st.column_config.TextColumn("What", width="medium"),
        },
    )
    st.caption("From `[[maintenance]]` in dashboard.toml; the same from `GET /api/maintenance`.")
