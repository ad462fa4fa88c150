"""Agents: who is online, what each is doing, and when they came and went."""

from datetime import UTC, datetime

import streamlit as st

from dashboard_core.app import actions
from dashboard_core.app.caller import Refusal
from dashboard_core.app.links import agent_link, events_of
from dashboard_core.app.urls import AGENTS
from dashboard_core.app.view_state import one_query, parse_agents
from dashboard_core.health.timeline import state_intervals, time_span, timeline_figure
from dashboard_core.health.views import agents_frame
from dashboard_core.labels import AGENT_ICON, BLANK
from dashboard_core.models import AgentState, EventKind
from dashboard_core.timeline.figure_marks import elsewhere
from dashboard_core.timeline.marks import marks_between
from ui.chart_marks import marked_chart
from ui.url_state import keep, opened, page_link
from ui.widgets import PageContext, material, page_context

page = page_context()
rt, tz = page.rt, page.tz
st.title("Agents")
ttl = rt.config.agents.ttl_seconds
st.caption(
    f"Agents join by sending heartbeats to `POST /api/agents/<name>/heartbeat`; an agent with no heartbeat for "
    f"{ttl:g} s is offline, one named in `agents.expected` that never sent one is missing. One offline for more "
    f"than {rt.config.agents.forget_after_hours:g} h is forgotten (`agents.forget_after_hours`)."
)


AGENT, ALL_AGENTS = "agents_agent", "All agents"
names = [a.name for a in rt.agents.agents()]
linked, fresh = opened(AGENTS, lambda query: parse_agents(query, names))
if fresh or st.session_state.get(AGENT) not in (ALL_AGENTS, *names):  # a link, a reload, Back; or one removed
    st.session_state[AGENT] = linked or ALL_AGENTS
picked = st.selectbox("Agent", [ALL_AGENTS, *names], key=AGENT)
keep(AGENTS, one_query("agent", None if picked == ALL_AGENTS else picked))
if picked != ALL_AGENTS:
    page_link(events_of(EventKind.AGENT, picked))


@st.fragment(run_every=2.0)
def live() -> None:
    overview = rt.agents.overview()
    now = datetime.now(UTC)
    counts = {s: sum(1 for a in overview.agents if a.state is s) for s in AgentState}
    cols = st.columns(3)
    for col, state in zip(cols, AgentState):
        col.metric(state.value.capitalize(), counts[state], border=True, icon=material(AGENT_ICON[state]))
    if not overview.agents:
        st.info("No agent has sent a heartbeat yet, and none is expected (`agents.expected` in dashboard.toml).")
        return
    frame = agents_frame([a for a in overview.agents if picked in (ALL_AGENTS, a.name)], now)
    frame["last_seen"] = frame["last_seen"].dt.tz_convert(tz).dt.tz_localize(None)
    st.dataframe(
        frame,
        hide_index=True,
        placeholder=BLANK,
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
    changes = [e for e in rt.agents.changes(500) if picked in (ALL_AGENTS, e.source)]
    intervals = state_intervals(changes, now)
    figure = timeline_figure(intervals, tz, "Online and offline over time")
    if figure is None:
        st.caption("No agent has changed state yet.")
    else:
        shown = time_span(intervals)
        marks = marks_between(rt.store, *shown, now=now).marks  # not the agents' own states: the bars are them
        drawn = elsewhere(marks, *(agent_link(name).href for name in set(intervals["name"])))
        marked_chart(figure, drawn, tz, "agents_timeline", window=shown)


def remove(page: PageContext) -> None:
    """The Remove button's callback: before the next run, so the list no longer offers the agent."""
    name = st.session_state.get("agents_remove_name")
    if name is None:
        return
    try:
        actions.remove_agent(page.rt, page.caller, name)
    except Refusal as refusal:
        st.session_state["agents_remove_note"] = ("error", str(refusal))
        return
    st.session_state["agents_remove_name"] = None
    st.session_state["agents_remove_note"] = ("success", f"Removed **{name}**; if it still runs, it joins again.")


live()
if page.may("admin"):
    with st.expander("Remove an agent", icon=material("delete"), expanded="agents_remove_note" in st.session_state):
        kind, text = st.session_state.pop("agents_remove_note", (None, None))
        if kind == "success":
            st.success(text)
        elif kind == "error":
            st.error(text)
        removable = [a.name for a in rt.agents.agents() if not a.expected]
        if not removable:
            st.caption("No agent to remove (those in `agents.expected` stay: remove them from the config).")
        else:
            left, right = st.columns([3, 1], vertical_alignment="bottom")
            left.selectbox("Agent", removable, index=None, placeholder="Choose an agent", key="agents_remove_name")
            right.button("Remove", key="agents_remove", on_click=remove, args=(page,), type="primary")
            st.caption(
                "It leaves the list and the store, and the removal is in the audit log. An agent that still "
                "runs joins again with its next heartbeat: revoke its token to keep it out."
            )
