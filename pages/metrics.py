"""Metrics: live cards, history charts over a chosen window, processes, CSV export."""

import streamlit as st

from dashboard_core.metrics.charts import selected_range
from dashboard_core.metrics.export import csv_filename
from dashboard_core.metrics.windows import Window
from dashboard_core.routes.metrics import history_csv_link
from dashboard_core.units import local_time
from ui.widgets import browser_tz, download_link, require_runtime, show_cards, show_charts, window_picker

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


@st.fragment(run_every=rt.config.sampler.interval_seconds)
def live_cards() -> None:
    show_cards(rt.live_cards())


live_cards()

pick, live_col = st.columns([5, 1], vertical_alignment="center")
with pick:
    current_window = window_picker()
live = live_col.toggle("Live", value=True, key="live", help="Redraw the charts as new samples arrive.")
zoom: Window | None = st.session_state.get("zoom")
if zoom is not None:
    note, reset = st.columns([5, 1], vertical_alignment="center")
    note.info(f"Zoomed to {local_time(zoom.start, tz)} – {local_time(zoom.end, tz)}; live redraw paused.")
    if reset.button("Reset zoom", key="reset_zoom"):
        del st.session_state["zoom"]
        st.rerun()
else:
    st.caption("Drag across a chart to zoom into that span; it is redrawn at full detail.")


def zoom_to(chart_key: str) -> None:
    """A box selection on a chart becomes the zoomed window.

    A callback, not the return value: the chart's widget id follows its data,
    so by the time the page reruns with fresh data the selection is gone.
    """
    picked = selected_range(st.session_state[chart_key].selection, tz)
    if picked is not None:
        st.session_state["zoom"] = Window(*picked)


@st.fragment(run_every=rt.config.ui.chart_refresh_seconds if live and zoom is None else None)
def charts() -> None:
    if st.session_state.get("zoom") != zoom:  # a chart was just zoomed: redraw the whole page
        st.rerun()
    shown = zoom or current_window()
    read = rt.read_history(shown)  # memory or the store's tiers, by the window
    frame = read.chart_frame()
    download_link(
        f"Download CSV ({len(read.frame):,} rows, every column)",
        history_csv_link(shown.start, shown.end),
        csv_filename("metrics", shown.start, shown.end),
        key="download_csv",
    )
    st.caption(f"Resolution: {read.description}")
    if frame.empty:
        st.warning("No samples in this window yet.")
        return
    show_charts(rt.figures.figures(frame, tz), "chart_", zoom_to)


charts()


@st.fragment(run_every=rt.config.sampler.process_interval_seconds)
def processes() -> None:
    st.subheader("Processes")
    st.caption(f"Top {rt.config.sampler.top_n}, refreshed every {rt.config.sampler.process_interval_seconds:g} s.")
    columns = {
        "cpu_percent": st.column_config.NumberColumn("CPU %", format="%.1f"),
        "rss": st.column_config.NumberColumn("RSS", format="bytes"),
        "memory_percent": st.column_config.NumberColumn("Mem %", format="%.1f"),
    }
    by_cpu, by_mem = st.columns(2)
    by_cpu.markdown("**By CPU**")
    by_cpu.dataframe(rt.processes_frame("cpu"), hide_index=True, column_config=columns, key="top_cpu")
    by_mem.markdown("**By memory**")
    by_mem.dataframe(rt.processes_frame("memory"), hide_index=True, column_config=columns, key="top_mem")


processes()
