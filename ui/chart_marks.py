"""Marks on the charts the server draws: a toggle per kind above the chart, the chart
with its bands and markers, and a click on one opening its page.

What is drawn and which kinds are offered is decided in
:mod:`dashboard_core.timeline.figure_marks`; here are only the widgets. The kinds the
viewer hides are kept for the session, for every chart: hiding restarts on one page
hides them on the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from dashboard_core.app.links import component_history
from dashboard_core.app.urls import parse_href
from dashboard_core.auth.principals import Principal
from dashboard_core.metrics.windows import Window
from dashboard_core.models import EventKind
from dashboard_core.runtime import Runtime
from dashboard_core.timeline.figure_marks import (
    Axis,
    add_marks,
    clicked_href,
    elsewhere,
    hidden_after,
    kind_label,
    offered_kinds,
    shown_kinds,
)
from dashboard_core.timeline.marks import Mark, MarkKind, marks_between

HIDDEN = "marks_hidden"  # the kinds (values) the viewer hid, for every chart of the session
OPEN = "marks_open"  # the link of the mark just clicked: followed once the chart is drawn
CONFIG = {"displaylogo": False}


def mark_toggles(marks: Sequence[Mark], key: str, where: Any = st) -> list[MarkKind]:
    """A pill per kind that has marks here (none without marks); the kinds shown."""
    offered = offered_kinds(marks)
    if not offered:
        return []
    hidden: set[str] = st.session_state.setdefault(HIDDEN, set())
    widget = f"{key}_marks"
    st.session_state[widget] = shown_kinds(offered, hidden)  # the session's choice, on every chart

    def changed() -> None:
        st.session_state[HIDDEN] = hidden_after(offered, st.session_state.get(widget) or [], hidden)

    picked = where.pills(
        "Show on the chart",
        offered,
        selection_mode="multi",
        format_func=kind_label,
        key=widget,
        on_change=changed,
        label_visibility="collapsed",
        help="What happened in this time: hover a band or marker to see what it is, click it to open it.",
    )
    return list(picked or [])


def remember_click(key: str) -> bool:
    """A chart's ``on_select``: keep the link of the mark clicked, if a mark was; whether one was."""
    state = st.session_state.get(key)
    href = clicked_href(state.get("selection") if state is not None else None)
    if href is not None:
        st.session_state[OPEN] = href
    return href is not None


def follow_click() -> None:
    """After the charts: open the page of the mark just clicked (once)."""
    href = st.session_state.pop(OPEN, None)
    target = parse_href(href) if href else None
    if target is not None:
        page, query = target
        st.switch_page(f"../pages/{page or 'overview'}.py", query_params=query)


def marked_chart(
    figure: Any,
    marks: Sequence[Mark],
    tz: str,
    key: str,
    *,
    axis: Axis | None = None,
    window: tuple[datetime, datetime] | None = None,
    where: Any = st,
) -> None:
    """The toggles, then ``figure`` (a ``go.Figure``) with the marks shown; a click on a
    mark opens it. A click elsewhere selects a bar or point too, which would dim the rest
    of the chart: its traces keep their colours."""
    kinds = mark_toggles(marks, key, where)
    drawn = add_marks(figure, marks, tz, kinds, axis, window)
    drawn.update_traces(unselected={"marker": {"opacity": 1}}, selector=lambda t: t.type in ("bar", "scatter"))
    where.plotly_chart(drawn, key=key, on_select=lambda: remember_click(key), selection_mode="points", config=CONFIG)
    follow_click()


STATE_EVENTS = 500  # a component's changes of state read for its timeline, newest first


def component_timeline(rt: Runtime, who: Principal, source: str | None, window: Window, tz: str) -> None:
    """Components' state over the window (one, if ``source`` names it) with the marks:
    what the Events page draws above a component's history (``component_history``)."""
    from dashboard_core.health.timeline import state_intervals, time_span, timeline_figure  # Plotly: when drawn

    now = datetime.now(UTC)
    end = min(now, window.end)
    events = rt.events.latest(
        STATE_EVENTS, who=who, kinds=[EventKind.COMPONENT], source=source, start=window.start, end=end
    )
    intervals = state_intervals(events, end)
    figure = timeline_figure(intervals, tz, "State over time")
    if figure is not None:
        shown = time_span(intervals)
        marks = marks_between(rt.store, *shown, now=now).marks  # not the components' own states: the bars are them
        drawn = elsewhere(marks, *(component_history(name).href for name in set(intervals["name"])))
        marked_chart(figure, drawn, tz, "events_component_timeline", window=shown)
