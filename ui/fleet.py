"""The Metrics page's fleet view: a host selector fed by a Prometheus server's
``up{job=...}`` targets, and a remote host's charts drawn exactly like this
machine's (same chart specs, same field labels, same CSV columns).

Only used when ``prometheus.url`` is set. A Prometheus that is down or slow is
an ``st.error`` with the client's sentence, after at most
``prometheus.timeout_seconds``; "This machine" keeps working.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_core.config import PrometheusConfig
from dashboard_core.metrics.cards import build_cards
from dashboard_core.metrics.charts import selected_range
from dashboard_core.metrics.prometheus_api import PrometheusError
from dashboard_core.metrics.prometheus_source import Target, source_for
from dashboard_core.metrics.windows import Window
from dashboard_core.routes.prometheus import fleet_csv_filename, fleet_csv_link
from dashboard_core.runtime import Runtime
from dashboard_core.timeline.marks import marks_between
from dashboard_core.units import local_time
from ui.widgets import download_link, show_cards, show_charts, window_picker

LOCAL = ""  # the selector's value for this machine
HOST_KEY = "metrics_host"
ZOOM_KEY = "fleet_zoom"  # (instance, Window) of a box selection on a remote host's chart
TARGETS_TTL = 10  # seconds the target list (or the failure to get it) is reused across reruns


@st.cache_data(ttl=TARGETS_TTL, show_spinner=False)
def _targets(
    url: str, job: str, timeout: float, max_points: int, headers: tuple[tuple[str, str], ...] = ()
) -> tuple[list[Target], str | None]:
    """The targets, or the sentence saying why there are none; cached briefly so a
    slow Prometheus costs its timeout once per TTL, not on every rerun."""
    config = PrometheusConfig(url=url, job=job, timeout_seconds=timeout, max_points=max_points, headers=dict(headers))
    source = source_for(config)
    assert source is not None
    try:
        return source.targets(), None
    except PrometheusError as exc:
        return [], str(exc)


def host_selector(config: PrometheusConfig) -> Target | None:
    """The selector: this machine and the Prometheus targets; the chosen remote target, or None."""
    headers = tuple(sorted(config.headers.items()))
    targets, error = _targets(config.url or "", config.job, config.timeout_seconds, config.max_points, headers)
    by_instance = {t.instance: t for t in targets}
    chosen = st.session_state.get(HOST_KEY, LOCAL)
    options = [LOCAL, *by_instance]
    if chosen not in options:  # Prometheus lost it (or is down): keep the choice, say what happened below
        options.append(chosen)
        by_instance[chosen] = Target(instance=chosen, job=config.job, up=False, last_scrape=None)
    labels = {LOCAL: "This machine", **{i: t.label for i, t in by_instance.items()}}
    pick, note = st.columns([2, 3], vertical_alignment="bottom")
    choice = pick.selectbox("Host", options, format_func=lambda o: labels.get(o, o), key=HOST_KEY)
    if error:
        st.error(f"{error} Only this machine can be shown until it answers.", icon=":material/power_off:")
    elif not targets:
        note.caption(f"Prometheus at {config.url} has no targets with job {config.job!r}.")
    else:
        up = sum(t.up for t in targets)
        note.caption(f"{up} of {len(targets)} hosts up in Prometheus at {config.url} (job {config.job!r}).")
    return by_instance[choice] if choice != LOCAL else None


def _zoom_to(chart_key: str, instance: str, tz: str) -> None:
    picked = selected_range(st.session_state[chart_key].selection, tz)
    if picked is not None:
        st.session_state[ZOOM_KEY] = (instance, Window(*picked))


def show_remote_host(rt: Runtime, target: Target, tz: str) -> None:
    """A remote host's cards, charts and CSV link over the chosen window."""
    config = rt.config.prometheus
    source = source_for(config)
    assert source is not None
    scraped = f"last scraped {local_time(target.last_scrape, tz)}" if target.last_scrape else "never scraped"
    st.caption(
        f"{target.label}: node_exporter read through Prometheus at {config.url} ({scraped}). "
        "Processes and watched processes are this machine's only."
    )
    pick, live_col = st.columns([5, 1], vertical_alignment="center")
    with pick:
        current_window = window_picker()
    live = live_col.toggle("Live", value=True, key="fleet_live", help="Ask Prometheus again every few seconds.")
    zoomed = st.session_state.get(ZOOM_KEY)
    zoom = zoomed[1] if zoomed and zoomed[0] == target.instance else None
    if zoom is not None:
        note, reset = st.columns([5, 1], vertical_alignment="center")
        note.info(f"Zoomed to {local_time(zoom.start, tz)} – {local_time(zoom.end, tz)}; live redraw paused.")
        if reset.button("Reset zoom", key="fleet_reset_zoom"):
            del st.session_state[ZOOM_KEY]
            st.rerun()
    else:
        st.caption("Drag across a chart to zoom into that span; Prometheus is asked again at a finer step.")

    @st.fragment(run_every=rt.config.ui.chart_refresh_seconds if live and zoom is None else None)
    def remote_charts() -> None:
        now_zoomed = st.session_state.get(ZOOM_KEY)
        if (now_zoomed[1] if now_zoomed and now_zoomed[0] == target.instance else None) != zoom:
            st.rerun()  # a chart was just zoomed: redraw the whole page
        shown = zoom or current_window()
        try:
            frame = source.history(target.instance, shown.start, shown.end)
        except PrometheusError as exc:
            st.error(f"{exc} Choose This machine above to see local data meanwhile.", icon=":material/power_off:")
            return
        download_link(
            f"Download CSV ({len(frame):,} rows, every column)",
            fleet_csv_link(target.instance, shown.start, shown.end),
            fleet_csv_filename(target.instance, shown.start, shown.end),
            key="fleet_download_csv",
        )
        if frame.empty:
            st.warning(f"Prometheus holds no samples of {target.instance} in this window.")
            return
        show_cards(build_cards(frame[frame.index >= frame.index[-1] - pd.Timedelta(minutes=2)], rt.fields))
        marks = marks_between(rt.store, shown.start, shown.end).marks  # this machine's: its runs, alerts, notes
        figures = rt.figures.figures(frame, tz)
        span = (shown.start, shown.end)
        show_charts(figures, "fleet_chart_", lambda key: _zoom_to(key, target.instance, tz), marks, tz, span)

    remote_charts()
