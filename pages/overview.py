"""Overview: host summary and the dashboard's own health."""

import streamlit as st

from dashboard_core.metrics.cards import build_cards
from dashboard_core.metrics.windows import resolve_window
from dashboard_core.units import format_bytes, format_duration
from ui.widgets import local_time, require_runtime, show_cards

rt = require_runtime()
st.title("🏠 Overview")

host = rt.host_info()
st.caption(
    f"**{host.hostname}** · {host.platform} · {host.cpu_cores} cores · "
    f"{format_bytes(host.memory_total)} memory · up since {local_time(host.boot_time, st.context.timezone or 'UTC')}"
)


@st.fragment(run_every=max(2.0, rt.config.sampler.interval_seconds))
def live() -> None:
    st.subheader("Host")
    show_cards(build_cards(rt.history(resolve_window("2m")), rt.fields))

    st.subheader("This dashboard")
    health = rt.self_health()
    if not health.sampler_running:
        st.error("The metric sampler is not running: charts and cards are not updating. Check the server log.")
    if health.sampler_crashes:
        st.warning(
            f"The sampler crashed {health.sampler_crashes} time(s) and was restarted; "
            f"last error: {health.sampler_last_crash}"
        )
    for source, error in sorted(health.failing_sources.items()):
        st.warning(f"Metric source **{source}** fails, its readings stay empty: {error}")
    cols = st.columns(5)
    cols[0].metric("Uptime", format_duration(health.uptime_seconds), border=True)
    cols[1].metric(
        "Sampling interval",
        f"{health.sampling_interval_seconds:g} s",
        border=True,
        help=f"Process table scanned every {health.process_interval_seconds:g} s",
    )
    cols[2].metric(
        "Sampler CPU per sample",
        f"{health.sampler_cpu_ms_per_sample:.2f} ms" if health.sampler_cpu_ms_per_sample is not None else "—",
        border=True,
        help="CPU time of the sampler thread per host sample; a process-table scan costs "
        + (f"{health.process_scan_cpu_ms:.1f} ms" if health.process_scan_cpu_ms is not None else "—"),
    )
    cols[3].metric("Server memory (RSS)", format_bytes(health.process_rss), border=True)
    cols[4].metric("Server CPU", f"{health.process_cpu_percent:.1f} %", border=True, help="% of one core since start")
    st.progress(
        min(1.0, health.samples_held / health.capacity),
        text=f"{health.samples_held:,} of {health.capacity:,} samples held "
        f"({format_duration(health.history_span_seconds)} of history, {health.bytes_per_row} bytes per sample)",
    )


live()
