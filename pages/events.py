"""Events: every change of state, newest first, with filters and search."""

import streamlit as st

from dashboard_core.events import visible_kinds
from dashboard_core.health.views import events_frame
from dashboard_core.labels import SEVERITY_ICON
from dashboard_core.models import Severity
from ui.widgets import browser_tz, current_principal, material, require_runtime

rt = require_runtime()
tz = browser_tz()
st.title("Events")
st.caption(
    "Component health, agents, alerts, test runs and workflows. The same events stream from "
    "`GET /api/events/stream` (Server-Sent Events) and `/api/ws`."
)

PAGE = 200

kind_col, severity_col, text_col = st.columns([3, 2, 3], vertical_alignment="bottom")
kinds = kind_col.multiselect(
    "Kind", visible_kinds(current_principal(rt)), format_func=lambda k: k.value, key="events_kinds"
)
severities = severity_col.pills(
    "Severity",
    list(Severity),
    selection_mode="multi",
    format_func=lambda s: f"{material(SEVERITY_ICON[s])} {s.value}",
    key="events_severities",
)
text = text_col.text_input("Search", placeholder="source or message", key="events_text")
shown = st.session_state.setdefault("events_shown", PAGE)


@st.fragment(run_every=2.0)
def table() -> None:
    events = rt.events.latest(
        shown, who=current_principal(rt), kinds=kinds or None, severities=severities or None, text=text.strip() or None
    )
    if not events:
        st.info("No events match." if (kinds or severities or text) else "No events yet.")
        return
    frame = events_frame(events)
    frame["at"] = frame["at"].dt.tz_convert(tz).dt.tz_localize(None)
    st.dataframe(
        frame,
        hide_index=True,
        key="events_table",
        column_config={
            "id": st.column_config.NumberColumn("#", width="small"),
            "at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
            "severity": "Severity",
            "kind": "Kind",
            "source": "About",
            "message": st.column_config.TextColumn("What happened", width="large"),
        },
    )
    st.caption(f"{len(events)} newest matching events; new ones appear by themselves.")


table()
if st.button(f"Show {PAGE} more", key="events_more"):
    st.session_state["events_shown"] = shown + PAGE
    st.rerun()
