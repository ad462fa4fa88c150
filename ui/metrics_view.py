"""The Metrics page's window: presets, a custom range, a zoom, the URL and Live.

The view (``dashboard_core.metrics.view_state.MetricsView``) lives in the session;
the widgets and the URL show it. A link opened (or the URL edited) sets it; a
preset, a custom range or a zoom (a box drawn on a chart) changes it and the URL
follows. A fixed window (custom or zoomed) shows the preset row on "Custom" and
Live as paused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard_core.metrics.charts import selected_range
from dashboard_core.metrics.view_state import MetricsView, parse_view
from dashboard_core.metrics.windows import PRESETS, Window, WindowError, resolve_window
from dashboard_core.units import local_time
from ui.widgets import CUSTOM, as_utc

_VIEW, _URL, _BEFORE_ZOOM, _PROBLEM = "metrics_view", "metrics_url", "metrics_before_zoom", "metrics_range_problem"
_CHOICE, _FROM, _TO = "window", "window_from", "window_to"


def current_view(tz: str) -> MetricsView:
    """The view to show: the URL's when it was changed (a link opened), else the session's."""
    params = st.query_params.to_dict()
    if params and params != st.session_state.get(_URL):
        view = parse_view(params)
        if view.problem:
            st.warning(view.problem)
        _set(view, tz)
    elif _VIEW not in st.session_state:
        _set(MetricsView(), tz)
    view: MetricsView = st.session_state[_VIEW]
    written = view.params()
    if st.query_params.to_dict() != written:
        st.query_params.from_dict(written)
    st.session_state[_URL] = written
    return view


def _set(view: MetricsView, tz: str) -> None:
    """The view, and the widgets that show it (called before they are drawn)."""
    st.session_state[_VIEW] = view
    st.session_state[_CHOICE] = view.preset if view.fixed is None else CUSTOM
    if view.fixed is not None:
        st.session_state[_FROM] = _local(view.fixed.start, tz)
        st.session_state[_TO] = _local(view.fixed.end, tz)


def _local(ts: datetime, tz: str) -> datetime:
    """As the From/To inputs show it: local time, whole minutes (their step)."""
    return ts.astimezone(ZoneInfo(tz)).replace(tzinfo=None, second=0, microsecond=0)


def window_row(view: MetricsView, tz: str) -> bool:
    """The preset row (and the range when custom), Live beside it; whether the charts follow new samples."""
    pick, live_col = st.columns([5, 1], vertical_alignment="center")
    with pick:
        st.segmented_control(
            "Window",
            [*PRESETS, CUSTOM],
            format_func=lambda o: PRESETS.get(o, o),
            key=_CHOICE,
            on_change=_chosen,
            args=(tz,),
            label_visibility="collapsed",
            wrap=True,  # in a column Streamlit keeps one row that scrolls, its end out of sight on a phone
        )
    if view.fixed is None:
        live: bool = live_col.toggle("Live", value=True, key="live", help="Extend the charts as new samples arrive.")
    else:
        live_col.toggle(
            "Live",
            value=False,
            disabled=True,
            key="live_paused",
            help="Paused: this window is fixed (a custom range or a zoom). Pick a preset to follow new samples.",
        )
        live = False
        left, right = st.columns(2)
        left.datetime_input("From", key=_FROM, step=60, on_change=_range_changed, args=(tz,))
        right.datetime_input("To", key=_TO, step=60, on_change=_range_changed, args=(tz,))
        problem = st.session_state.pop(_PROBLEM, None)
        if problem:
            st.error(f"That range does not work: {problem}. The charts still show the range before it.")
        _zoom_note(view, tz)
    return live


def _zoom_note(view: MetricsView, tz: str) -> None:
    before: MetricsView | None = st.session_state.get(_BEFORE_ZOOM)
    if before is None or view.fixed is None:
        return
    note, reset = st.columns([5, 1], vertical_alignment="center")
    note.info(f"Zoomed to {local_time(view.fixed.start, tz)} – {local_time(view.fixed.end, tz)}; live paused.")
    reset.button("Reset zoom", key="reset_zoom", on_click=_unzoom, args=(tz,))


def _chosen(tz: str) -> None:
    view: MetricsView = st.session_state[_VIEW]
    choice = st.session_state.get(_CHOICE)
    st.session_state.pop(_BEFORE_ZOOM, None)
    if choice is None:  # the selected option clicked again: keep it
        _set(view, tz)
    elif choice == CUSTOM:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        fixed = view.fixed or Window(now - timedelta(hours=1), now)
        _set(MetricsView(view.preset, fixed, view.chart), tz)
    else:
        _set(MetricsView(choice, None, view.chart), tz)


def _range_changed(tz: str) -> None:
    view: MetricsView = st.session_state[_VIEW]
    start, end = st.session_state[_FROM], st.session_state[_TO]
    if view.fixed is not None and (start, end) == (_local(view.fixed.start, tz), _local(view.fixed.end, tz)):
        return  # the inputs only rounded a zoom's seconds to their minutes: keep the zoom exact
    st.session_state.pop(_BEFORE_ZOOM, None)
    try:
        fixed = resolve_window(start=as_utc(start, tz), end=as_utc(end, tz))
    except (WindowError, ValueError) as exc:
        st.session_state[_PROBLEM] = str(exc)
        return
    st.session_state[_VIEW] = MetricsView(view.preset, fixed, view.chart)


def zoom_to(component_key: str, tz: str) -> None:
    """A box drawn on a chart (the charts component's ``zoom`` trigger) becomes a fixed window."""
    value: Any = st.session_state.get(component_key) or {}
    zoom = value.get("zoom") if hasattr(value, "get") else None
    picked = selected_range({"box": [{"x": zoom.get("x")}]}, tz) if isinstance(zoom, dict) else None
    if picked is None:
        return
    view: MetricsView = st.session_state[_VIEW]
    st.session_state.setdefault(_BEFORE_ZOOM, view)
    _set(MetricsView(view.preset, Window(*picked), view.chart), tz)


def _unzoom(tz: str) -> None:
    before: MetricsView | None = st.session_state.pop(_BEFORE_ZOOM, None)
    if before is not None:
        _set(before, tz)
