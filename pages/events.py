"""Events: every change of state in a time range, newest first, with filters and search."""

from datetime import UTC, datetime

import streamlit as st

from dashboard_core.app.links import event_hrefs
from dashboard_core.app.urls import EVENTS, to_local, to_utc
from dashboard_core.app.view_state import EVENTS_WINDOW, EventsView, events_query, parse_events
from dashboard_core.events import visible_kinds
from dashboard_core.health.event_rows import event_rows, kind_words, rows_frame
from dashboard_core.labels import BLANK, SEVERITY_ICON
from dashboard_core.models import EventKind, Severity
from ui.annotations_panel import annotations_section
from ui.chart_marks import component_timeline
from ui.url_state import keep, opened
from ui.widgets import CUSTOM, browser_tz, current_caller, current_principal, material, require_runtime, window_picker

rt = require_runtime()
tz = browser_tz()
st.title("Events")
st.caption(
    "Component health, agents, alerts, test runs, workflows and annotations. The same events stream from "
    "`GET /api/events/stream` (Server-Sent Events) and `/api/ws`; the annotations of the time range are "
    "[below](#annotations)."
)

PAGE = 200
WINDOW, FROM, TO = "events_window", "events_window_from", "events_window_to"  # window_picker's keys

allowed = visible_kinds(current_principal(rt))
view, fresh = opened(EVENTS, lambda query: parse_events(query, allowed, datetime.now(UTC)))
if fresh:  # a link, a reload, Back: the filters it names
    st.session_state.update(
        events_kinds=list(view.kinds),
        events_severities=list(view.severities),
        events_source=view.source,
        events_text=view.text,
        **{WINDOW: CUSTOM if view.custom else view.window},
    )
    if view.start is not None and view.end is not None:
        st.session_state.update({FROM: to_local(view.start, tz), TO: to_local(view.end, tz)})

window = window_picker(WINDOW, default=EVENTS_WINDOW)
kind_col, source_col, text_col = st.columns([1, 1, 1], vertical_alignment="bottom")
kinds = kind_col.multiselect("Kind", allowed, format_func=kind_words, key="events_kinds")
source = source_col.text_input(
    "About", placeholder="a component, agent, rule, suite…", key="events_source", help="Exactly this name"
)
text = text_col.text_input("Search", placeholder="source or message", key="events_text")
severity_col, repeats_col = st.columns([3, 1], vertical_alignment="bottom")
severities = severity_col.pills(
    "Severity",
    list(Severity),
    selection_mode="multi",
    format_func=lambda s: f"{material(SEVERITY_ICON[s])} {s.value}",
    key="events_severities",
)
collapsed = repeats_col.toggle(
    "Collapse repeats",
    value=True,
    key="events_collapse",
    help="One row for events that repeat the same thing (a service restarting again and again).",
)
shown = st.session_state.setdefault("events_shown", PAGE)


def filters() -> EventsView:
    """The filters as the widgets hold them now, for the URL."""
    picked = st.session_state.get(WINDOW) or EVENTS_WINDOW
    start, end = st.session_state.get(FROM), st.session_state.get(TO)
    custom = picked == CUSTOM and start is not None and end is not None
    return EventsView(
        tuple(kinds),
        tuple(severities or ()),
        source.strip(),
        text.strip(),
        picked if picked != CUSTOM else EVENTS_WINDOW,
        to_utc(start, tz) if custom else None,
        to_utc(end, tz) if custom else None,
    )


keep(EVENTS, events_query(filters()))


@st.fragment(run_every=2.0)
def table() -> None:
    span = window()
    if list(kinds) == [EventKind.COMPONENT]:  # a component's history: its states over time, then its changes
        component_timeline(rt, current_principal(rt), source.strip() or None, span, tz)
    events = rt.events.latest(
        shown,
        who=current_principal(rt),
        kinds=kinds or None,
        severities=severities or None,
        source=source.strip() or None,
        text=text.strip() or None,
        start=span.start,
        end=span.end,
    )
    if not events:
        filtered = kinds or severities or source or text
        st.info("No events match." if filtered else "No events in this time range.")
        return
    rows = event_rows(events, collapsed)
    frame = rows_frame(rows)
    frame["at"] = frame["at"].dt.tz_convert(tz).dt.tz_localize(None)
    frame.insert(0, "link", event_hrefs([row.newest for row in rows]))  # relative: see dashboard_core/app/urls.py
    st.dataframe(
        frame,
        hide_index=True,
        key="events_table",
        height="content",
        placeholder=BLANK,
        column_config={
            "link": st.column_config.LinkColumn("Go to", display_text="^([a-z]+)", width="small"),
            "id": st.column_config.NumberColumn("#", width="small"),
            "at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
            "severity": st.column_config.TextColumn("Severity", width=110),
            "kind": "Kind",
            "source": "About",
            "message": st.column_config.TextColumn("What happened", width="large"),
            "times": st.column_config.NumberColumn("Times", width="small", help="Events this row stands for"),
        },
    )
    in_rows = f", in {len(rows)} rows" if len(rows) != len(events) else ""
    st.caption(f"The {len(events)} newest matching events{in_rows}; new ones appear by themselves.")


table()
if st.button(f"Show {PAGE} more", key="events_more"):
    st.session_state["events_shown"] = shown + PAGE
    st.rerun()

annotations_section(rt, current_caller(rt), tz, window)
