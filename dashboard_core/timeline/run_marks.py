"""Marks of what ran: test runs, workflow runs and their steps (spans), and the
restarts of a service (points).

Each reader is one query over the window, through an index: runs by when they
ended (the few still going on have no end: the ``IS NULL`` half of the same
index), restarts by the events of kind ``workflow`` in the window. A 30-day
chart reads thousands, so the links come from cached prefixes (a link encoded
per mark was half the time) and statuses stay the stored text.
"""

from __future__ import annotations

import json

from dashboard_core.app.links import run_of, suite_run_href, workflow_run_href
from dashboard_core.models import EventKind, RunStatus, StepStatus, WorkflowStatus
from dashboard_core.store import Store
from dashboard_core.timeline.mark_model import BAD, BUSY, GOOD, GREY, WARN, Mark, MarkKind, span_end, utc
from dashboard_core.units import format_duration

# By the stored status (a StrEnum key matches its text).
_RUN_COLOURS: dict[str, str] = {
    RunStatus.PASSED: GOOD,
    RunStatus.FAILED: BAD,
    RunStatus.ERROR: BAD,
    RunStatus.TIMED_OUT: BAD,
    RunStatus.RUNNING: BUSY,
    RunStatus.QUEUED: BUSY,
    RunStatus.CANCELLED: GREY,
    RunStatus.INTERRUPTED: GREY,
}
_WORKFLOW_COLOURS: dict[str, str] = {
    WorkflowStatus.SUCCEEDED: GOOD,
    WorkflowStatus.FAILED: BAD,
    WorkflowStatus.RUNNING: BUSY,
    WorkflowStatus.STOPPED: GREY,
    WorkflowStatus.INTERRUPTED: GREY,
}
_STEP_COLOURS: dict[str, str] = {
    StepStatus.SUCCEEDED: GOOD,
    StepStatus.FAILED: BAD,
    StepStatus.RUNNING: BUSY,
    StepStatus.BACKING_OFF: WARN,
    StepStatus.STOPPED: GREY,
    StepStatus.INTERRUPTED: GREY,
}
# A run overlaps [start, end] if it began by the end and ended after the start (or goes on).
_ENDS_AFTER = "(ended_at >= :start OR ended_at IS NULL)"


def test_run_marks(store: Store, start: float, end: float, now: float) -> list[Mark]:
    """Test runs that overlap [start, end] (epoch seconds): from start (or queue) to end."""
    rows = store.all(
        "SELECT id, suite, status, queued_at, started_at, ended_at, passed, failed, errors, skipped"
        f" FROM test_runs WHERE {_ENDS_AFTER} AND COALESCE(started_at, queued_at) <= :end",
        {"start": start, "end": end},
    )
    marks = []
    for row in rows:
        if row["ended_at"] is None and now < start:
            continue
        status = row["status"]
        began = row["started_at"] if row["started_at"] is not None else row["queued_at"]
        stop, ongoing = span_end(row["ended_at"], now)
        counts = f"{row['passed']} passed, {row['failed']} failed, {row['errors']} errors, {row['skipped']} skipped"
        marks.append(
            Mark(
                kind=MarkKind.TEST_RUN,
                key=f"test_run:{row['id']}",
                start=utc(began),
                end=stop,
                ongoing=ongoing,
                state=status,
                colour=_RUN_COLOURS.get(status, GREY),
                label=f"Test run {row['id']} of {row['suite']}: {status}",
                detail=counts,
                source=row["suite"],
                href=suite_run_href(row["suite"], row["id"]),
            )
        )
    return marks


def workflow_run_marks(store: Store, start: float, end: float, now: float) -> list[Mark]:
    """Workflow runs that overlap the window, coloured by how they ended."""
    rows = store.all(
        "SELECT id, workflow, trigger, status, message, started_at, ended_at FROM workflow_runs"
        f" WHERE {_ENDS_AFTER} AND started_at <= :end",
        {"start": start, "end": end},
    )
    marks = []
    for row in rows:
        if row["ended_at"] is None and now < start:
            continue
        status = row["status"]
        stop, ongoing = span_end(row["ended_at"], now)
        took = format_duration(stop.timestamp() - row["started_at"])
        marks.append(
            Mark(
                kind=MarkKind.WORKFLOW_RUN,
                key=f"workflow_run:{row['id']}",
                start=utc(row["started_at"]),
                end=stop,
                ongoing=ongoing,
                state=status,
                colour=_WORKFLOW_COLOURS.get(status, GREY),
                label=f"Workflow run {row['id']} of {row['workflow']}: {status}",
                detail=f"{took}, started by {row['trigger']}" + (f"; {row['message']}" if row["message"] else ""),
                source=row["workflow"],
                href=workflow_run_href(row["workflow"], row["id"]),
            )
        )
    return marks


def workflow_step_marks(store: Store, start: float, end: float, now: float) -> list[Mark]:
    """The steps that ran within the window (a step that never started is no span);
    a step whose run ended without its own end ends with the run."""
    rows = store.all(
        "SELECT r.id, r.workflow, s.step, s.status, s.message, s.started_at,"
        " COALESCE(s.ended_at, r.ended_at) AS stopped_at, s.restarts"
        " FROM workflow_runs r JOIN workflow_steps s ON s.run_id = r.id"
        " WHERE (r.ended_at >= :start OR r.ended_at IS NULL) AND r.started_at <= :end"
        " AND s.started_at IS NOT NULL AND s.started_at <= :end",
        {"start": start, "end": end},
    )
    marks = []
    for row in rows:
        stop, ongoing = span_end(row["stopped_at"], now)
        if stop.timestamp() < start:
            continue
        status = row["status"]
        restarts = f", {row['restarts']} restarts in a row" if row["restarts"] else ""
        marks.append(
            Mark(
                kind=MarkKind.WORKFLOW_STEP,
                key=f"workflow_step:{row['id']}:{row['step']}",
                start=utc(row["started_at"]),
                end=stop,
                ongoing=ongoing,
                state=status,
                colour=_STEP_COLOURS.get(status, GREY),
                label=f"Step {row['step']} of {row['workflow']} (run {row['id']}): {status}",
                detail=(row["message"] or "") + restarts,
                source=row["workflow"],
                href=workflow_run_href(row["workflow"], row["id"]),
            )
        )
    return marks


def restart_marks(store: Store, start: float, end: float, now: float) -> list[Mark]:
    """A service step that ended and is to be started again: the events of kind
    ``workflow`` whose data says it went to "backing off" (with the step and the count)."""
    rows = store.all(
        "SELECT id, at, source, message, data FROM events"
        " WHERE kind = :kind AND at >= :start AND at <= :end AND json_extract(data, '$.to') = :to",
        {"kind": EventKind.WORKFLOW.value, "start": start, "end": end, "to": StepStatus.BACKING_OFF.value},
    )
    marks = []
    for row in rows:
        data = json.loads(row["data"])
        run, step, n = run_of(data), data.get("step", "?"), data.get("restarts")
        marks.append(
            Mark(
                kind=MarkKind.RESTART,
                key=f"restart:{row['id']}",
                start=utc(row["at"]),
                end=None,
                ongoing=False,
                state="restarting",
                colour=WARN,
                label=f"Restart {n} of {step} ({row['source']}" + (f", run {run})" if run else ")"),
                detail=row["message"],
                source=row["source"],
                href=workflow_run_href(row["source"], run) if run is not None else None,
            )
        )
    return marks
