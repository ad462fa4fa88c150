"""State timelines (agents, components) from the event log, and their chart.

Each state-change event says what a thing became (``data["to"]``); a thing's
timeline is the sequence of intervals between its changes, the last one open
until now. Drawn as a Gantt chart: one row per thing, one bar per interval,
coloured by state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from dashboard_core.figure_title import set_title, title_band
from dashboard_core.models import Event

STATE_COLOURS = {
    "online": "#21a366",
    "healthy": "#21a366",
    "degraded": "#ff9f1c",
    "offline": "#d62728",
    "down": "#d62728",
    "missing": "#7f7f7f",
    "unknown": "#bdbdbd",
    # workflow steps
    "running": "#1f77b4",
    "succeeded": "#21a366",
    "failed": "#d62728",
    "stopped": "#7f7f7f",
    "interrupted": "#9467bd",
    "backing off": "#ff9f1c",
}
COLUMNS = ["name", "state", "start", "end"]


def state_intervals(events: Iterable[Event], now: datetime) -> pd.DataFrame:
    """One row per (name, state) interval, oldest first; events in any order."""
    by_name: dict[str, list[Event]] = {}
    for event in sorted(events, key=lambda e: e.id):
        if isinstance(event.data.get("to"), str):
            by_name.setdefault(event.source, []).append(event)
    rows = []
    for name, changes in by_name.items():
        for this, following in zip(changes, [*changes[1:], None]):
            end = following.at if following is not None else now
            rows.append({"name": name, "state": this.data["to"], "start": this.at, "end": end})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.sort_values(["name", "start"], kind="stable").reset_index(drop=True)


def time_span(intervals: pd.DataFrame) -> tuple[datetime, datetime]:
    """From the first interval's start to the last one's end: the time a timeline shows
    (and the window of the marks drawn on it). ``intervals`` must not be empty."""
    return intervals["start"].min().to_pydatetime(), intervals["end"].max().to_pydatetime()


def timeline_figure(intervals: pd.DataFrame, tz: str = "UTC", title: str = "State over time") -> go.Figure | None:
    """Horizontal bars from start to end per name, coloured by state (local time on the axis)."""
    if intervals.empty:
        return None
    start = intervals["start"].dt.tz_convert(tz).dt.tz_localize(None)
    end = intervals["end"].dt.tz_convert(tz).dt.tz_localize(None)
    fig = go.Figure()
    for state in dict.fromkeys(intervals["state"]):
        keep = (intervals["state"] == state).to_numpy()
        base = start[keep]
        fig.add_trace(
            go.Bar(
                y=intervals["name"][keep],
                base=base,
                x=(end[keep] - base).dt.total_seconds() * 1000,  # ms on a date axis
                orientation="h",
                name=state,
                marker={"color": STATE_COLOURS.get(state, "#1f77b4")},
                customdata=list(zip(base.dt.strftime("%H:%M:%S"), end[keep].dt.strftime("%H:%M:%S"))),
                hovertemplate="%{y}: " + state + "<br>%{customdata[0]} – %{customdata[1]}<extra></extra>",
            )
        )
    names = list(dict.fromkeys(intervals["name"]))
    fig.update_layout(
        barmode="overlay",
        height=84 + 28 * len(names) + title_band(),
        margin={"l": 10, "r": 10, "b": 10},
        xaxis={"type": "date"},
        yaxis={"categoryorder": "array", "categoryarray": names[::-1], "title": None},
        legend={"orientation": "h", "y": -0.2},
    )
    set_title(fig, title)
    return fig
