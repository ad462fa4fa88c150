"""Agents: who is online, what each is doing, and when they came and went."""

from datetime import UTC, datetime

import streamlit as st

from dashboard_core.health.timeline import state_intervals, timeline_figure
from dashboard_core.health.views import agents_frame
from dashboard_core.labels import AGENT_EMOJI
from dashboard_core.models import AgentState, EventKind
from ui.widgets import browser_tz, require_runtime

rt = require_runtime()
tz = browser_tz()
st.title("🤖 Agents")
ttl = rt.config.agents.ttl_seconds
st.caption(
    f"Agents join by sending heartbeats to `POST /api/agents/<name>/heartbeat`; an agent with no heartbeat for "
    f"{ttl:g} s is offline, one named in `agents.expected` that never sent one is missing."
)

@st.fragment(run_every=2.0)
def live() -> None:
    overview = rt.agents.overview()
    now = datetime.now(UTC)
    counts = {s: sum(1 for a in overview.agents if a.state is s) for s in AgentState}
    cols = st.columns(3)
    for col, state in zip(cols, AgentState):
        col.metric(f"{AGENT_EMOJI[state]} {state.value.capitalize()}", counts[state], border=True)
    if not overview.agents:
        st.info("No agent has sent a heartbeat yet, and none is expected (`agents.expected` in dashboard.toml).")
        return
    frame = agents_frame(overview.agents, now)
    frame["state"] = [f"{AGENT_EMOJI[AgentState(s)]} {s}" for s in frame["state"]]
    frame["last_seen"] = frame["last_seen"].dt.tz_convert(tz).dt.tz_localize(None)
    st.dataframe(
        frame,
        hide_index=True,
        key="agents_table",
        column_config={
            "name": "Agent",
            "state": "State",
            "status": "Says",
            "role": "Role",
            "task": st.column_config.TextColumn("Current task", width="large"),
            "last_seen": st.column_config.DatetimeColumn("Last heartbeat", format="YYYY-MM-DD HH:mm:ss"),
            "seen_ago": st.column_config.NumberColumn("Seconds ago", format="%.0f"),
            "metrics": st.column_config.TextColumn("Metrics", width="medium"),
        },
    )
    changes = rt.events.latest(500, kinds=[EventKind.AGENT])
    figure = timeline_figure(state_intervals(changes, now), tz, "Online and offline over time")
    if figure is None:
        st.caption("No agent has changed state yet.")
    else:
        st.plotly_chart(figure, key="agents_timeline", config={"displaylogo": False})


live()
