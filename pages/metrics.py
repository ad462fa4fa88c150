"""Metrics: live cards, history charts over a chosen window, processes, CSV export."""

import streamlit as st

from dashboard_core.metrics.export import csv_filename
from dashboard_core.routes.metrics import HISTORY_CSV
from ui.live import live_cards, live_charts, live_processes
from ui.metrics_view import current_view, window_row, zoom_to
from ui.widgets import browser_tz, download_link, require_runtime
from ui.window_story import story_panel

rt = require_runtime()
tz = browser_tz()
st.title("Metrics")

# -- Fleet view: other hosts through Prometheus (only when prometheus.url is set) ------
if rt.config.prometheus.url:
    from ui.fleet import host_selector, show_remote_host

    remote_host = host_selector(rt.config.prometheus)
    if remote_host is not None:
        show_remote_host(rt, remote_host, tz)
        st.stop()  # everything below is this machine's
# -- end of the fleet view -------------------------------------------------------------

live_cards(rt.config.sampler.interval_seconds)

view = current_view(tz)
live = window_row(view, tz)
story_panel(rt, view, tz)
if view.live:
    st.caption("Drag across a chart to zoom into that span; it is redrawn at full detail.")
shown = view.fixed
download_link(
    "Download CSV (every column)",
    f"api{HISTORY_CSV}?{view.csv_query()}",
    csv_filename("metrics", shown.start, shown.end) if shown else "",
    key="download_csv",
)
live_charts(
    view.charts_query(),
    tz,
    live=live,
    refresh_seconds=rt.config.ui.chart_refresh_seconds,
    focus=view.chart,
    on_zoom=lambda: zoom_to("live_charts", tz),
)


st.subheader("Processes")
interval = rt.config.sampler.process_interval_seconds
st.caption(f"Top {rt.config.sampler.top_n}, refreshed every {interval:g} s. Hover a row for its command line.")
live_processes(rt.config.sampler.top_n, interval)
