"""The Metrics page's "What happened in this window" panel: the window's marks
with links, the events logged in it, the host's main metrics' min/mean/max, and
the evidence bundle to download. The story is told by
``dashboard_core.timeline.story``; read only while the panel is open."""

from __future__ import annotations

import streamlit as st

from dashboard_core.metrics.view_state import MetricsView
from dashboard_core.metrics.windows import resolve_window
from dashboard_core.runtime import Runtime
from dashboard_core.timeline.bundle import bundle_filename
from dashboard_core.timeline.story import mark_rows, metric_rows, summary_line, window_story
from dashboard_core.units import local_time
from ui.widgets import current_principal, download_link

BUNDLE = "api/timeline/bundle.zip"


def story_panel(rt: Runtime, view: MetricsView, tz: str) -> None:
    """The panel for the view's window: a preset (ending when the panel is drawn), a
    custom range or a zoom (a span dragged on a chart)."""
    panel = st.expander("What happened in this window", key="window_story", on_change="rerun")
    if not panel.open:
        return
    window = view.fixed or resolve_window(view.preset)
    with panel:
        story = window_story(rt, window, current_principal(rt))
        st.caption(f"{local_time(window.start, tz)} – {local_time(window.end, tz)} ({tz}). {summary_line(story)}")
        if story.groups:
            st.dataframe(
                mark_rows(story, tz),
                hide_index=True,
                key="window_story_marks",
                column_config={
                    "link": st.column_config.LinkColumn("Go to", display_text="^([a-z]+)", width="small"),
                    "kind": st.column_config.TextColumn("Kind", width="small"),
                    "what": st.column_config.TextColumn("What", width="large"),
                    "detail": "Detail",
                    "from": "From",
                    "to": "To",
                },
            )
        if story.events:
            counts = " · ".join(f"{kind}: {n:,}" for kind, n in story.events.items())
            st.caption(f"Events logged in the window by kind: {counts}. The Events page lists them.")
        if story.metrics:
            st.dataframe(
                metric_rows(story),
                hide_index=True,
                key="window_story_metrics",
                column_config={"metric": "This host", "min": "Minimum", "mean": "Mean", "max": "Maximum"},
            )
        download_link(
            "Download the evidence bundle (zip: story, marks, events, metrics)",
            f"{BUNDLE}?{view.csv_query()}",
            bundle_filename(window) if view.fixed else "",  # a preset's is named by the server when clicked
            key="download_bundle",
        )
