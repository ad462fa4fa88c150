"""What the Workflows page shows: a run's steps as a table and as a Gantt chart,
and the history of runs. Plain values over the models, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from dashboard_core.figure_title import legend_under_title
from dashboard_core.health.timeline import COLUMNS, timeline_figure
from dashboard_core.models import ParamInfo, WorkflowRunInfo

STEP_COLUMNS = [
    "step",
    "status",
    "exit_code",
    "started",
    "ended",
    "duration",
    "cpu_percent",
    "rss",
    "restarts",
    "message",
]
RUN_COLUMNS = ["id", "workflow", "status", "trigger", "started", "duration", "params", "message"]


def card_run(
    workflow: str, active: Sequence[WorkflowRunInfo], last_run: WorkflowRunInfo | None
) -> WorkflowRunInfo | None:
    """The run a workflow's card shows: its oldest run going on, else its newest finished one."""
    return next((r for r in active if r.workflow == workflow), last_run)


def number_field(param: ParamInfo) -> tuple[int | float, int | float | None, int | float | None]:
    """A number parameter's start-form input: its first value (the default, else 0 moved
    inside the bounds) and its bounds, all of the parameter's type (the input wants one)."""
    kind = int if param.type == "int" else float
    low = None if param.min is None else kind(param.min)
    high = None if param.max is None else kind(param.max)
    first = kind(param.default) if isinstance(param.default, int | float) else kind(0)
    if low is not None and first < low:
        first = low
    if high is not None and first > high:
        first = high
    return first, low, high


def step_intervals(run: WorkflowRunInfo, now: datetime) -> pd.DataFrame:
    """Each step that started, from its start to its end (or now), in config order."""
    rows = [
        {"name": s.name, "state": s.status.value, "start": s.started_at, "end": s.ended_at or now}
        for s in run.steps
        if s.started_at is not None
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def steps_figure(run: WorkflowRunInfo, now: datetime, tz: str = "UTC") -> go.Figure | None:
    """The run's step timeline (a Gantt chart); None before any step started."""
    figure = timeline_figure(step_intervals(run, now), tz, f"Steps of run {run.id} ({run.workflow})")
    if figure is not None:  # a chart of a few rows is short: below it, the legend would cover the time axis
        legend_under_title(figure)
    return figure


def run_span(run: WorkflowRunInfo, now: datetime) -> tuple[datetime, datetime]:
    """The time a run's steps chart shows: from the run's start to its end (or now)."""
    return run.started_at, run.ended_at or now


def steps_frame(run: WorkflowRunInfo) -> pd.DataFrame:
    rows = [
        {
            "step": s.name,
            "status": s.status.value,
            "exit_code": s.exit_code,
            "started": s.started_at,
            "ended": s.ended_at,
            "duration": s.duration_seconds,
            "cpu_percent": s.cpu_percent,
            "rss": s.rss,
            "restarts": s.restarts,
            "message": s.message,
        }
        for s in run.steps
    ]
    frame = pd.DataFrame(rows, columns=STEP_COLUMNS)
    for column in ("started", "ended"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def runs_frame(runs: Sequence[WorkflowRunInfo]) -> pd.DataFrame:
    rows = [
        {
            "id": r.id,
            "workflow": r.workflow,
            "status": r.status.value,
            "trigger": r.trigger.value,
            "started": r.started_at,
            "duration": r.duration_seconds,
            "params": ", ".join(f"{k}={v}" for k, v in r.params.items()),
            "message": r.message,
        }
        for r in runs
    ]
    frame = pd.DataFrame(rows, columns=RUN_COLUMNS)
    frame["started"] = pd.to_datetime(frame["started"], utc=True)
    return frame
