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
import sqlite3
from collections.abc import Callable

from dashboard_core.app.links import run_of, suite_run_href, workflow_run_href
from dashboard_core.models import EventKind, RunStatus, StepStatus, WorkflowStatus
from dashboard_core.store import Store
from dashboard_core.timeline.mark_model import BAD, BUSY, GOOD, GREY, WARN, Mark, MarkKind, utc
from dashboard_core.timeline.mark_sql import read_marks
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
_COUNTS = ("passed", "failed", "errors", "skipped")
# A run overlaps [start, end] if it began by the end and ended after the start (or goes on).
_ENDS_AFTER = "(ended_at >= :start OR ended_at IS NULL)"
# Nothing goes on in a window that begins after the time of the read.
_NOT_YET = " AND (ended_at IS NOT NULL OR :now >= :start)"


def test_run_marks(store: Store, start: float, end: float, now: float, resolution_s: float | None = None) -> list[Mark]:
    """Test runs that overlap [start, end] (epoch seconds): from start (or queue) to end."""
    base = (
        "SELECT 'test_run:' || id AS k, COALESCE(started_at, queued_at) AS b, COALESCE(ended_at, :now) AS f,"
        " status AS st, suite AS src, ended_at IS NULL AS ongoing, id, ended_at, passed, failed, errors, skipped"
        f" FROM test_runs WHERE {_ENDS_AFTER} AND COALESCE(started_at, queued_at) <= :end{_NOT_YET}"
    )
    params = {"start": start, "end": end, "now": now}
    return read_marks(store, MarkKind.TEST_RUN, base, params, _test_run, _colour(_RUN_COLOURS), resolution_s)


def _test_run(row: sqlite3.Row) -> Mark:
    status = row["st"]
    counts = ", ".join(f"{row[what]} {what}" for what in _COUNTS if row[what])  # "120 passed": no zeros to read
    return Mark(
        kind=MarkKind.TEST_RUN,
        key=row["k"],
        start=utc(row["b"]),
        end=utc(row["f"]),
        ongoing=row["ongoing"],
        state=status,
        colour=_RUN_COLOURS.get(status, GREY),
        label=f"Test run {row['id']} of {row['src']}: {status}",
        detail=counts,
        source=row["src"],
        href=suite_run_href(row["src"], row["id"]),
    )


def workflow_run_marks(
    store: Store, start: float, end: float, now: float, resolution_s: float | None = None
) -> list[Mark]:
    """Workflow runs that overlap the window, coloured by how they ended."""
    base = (
        "SELECT 'workflow_run:' || id AS k, started_at AS b, COALESCE(ended_at, :now) AS f, status AS st,"
        " workflow AS src, ended_at IS NULL AS ongoing, id, trigger, message FROM workflow_runs"
        f" WHERE {_ENDS_AFTER} AND started_at <= :end{_NOT_YET}"
    )
    params = {"start": start, "end": end, "now": now}
    return read_marks(
        store, MarkKind.WORKFLOW_RUN, base, params, _workflow_run, _colour(_WORKFLOW_COLOURS), resolution_s
    )


def _workflow_run(row: sqlite3.Row) -> Mark:
    status = row["st"]
    took = format_duration(row["f"] - row["b"])
    return Mark(
        kind=MarkKind.WORKFLOW_RUN,
        key=row["k"],
        start=utc(row["b"]),
        end=utc(row["f"]),
        ongoing=row["ongoing"],
        state=status,
        colour=_WORKFLOW_COLOURS.get(status, GREY),
        label=f"Workflow run {row['id']} of {row['src']}: {status}",
        detail=f"{took}, started by {row['trigger']}" + (f"; {row['message']}" if row["message"] else ""),
        source=row["src"],
        href=workflow_run_href(row["src"], row["id"]),
    )


def workflow_step_marks(
    store: Store, start: float, end: float, now: float, resolution_s: float | None = None
) -> list[Mark]:
    """The steps that ran within the window (a step that never started is no span);
    a step whose run ended without its own end ends with the run."""
    base = (
        "SELECT 'workflow_step:' || r.id || ':' || s.step AS k, s.started_at AS b,"
        " COALESCE(s.ended_at, r.ended_at, :now) AS f, s.status AS st, r.workflow AS src,"
        " COALESCE(s.ended_at, r.ended_at) IS NULL AS ongoing, r.id, s.step, s.message, s.restarts"
        " FROM workflow_runs r JOIN workflow_steps s ON s.run_id = r.id"
        " WHERE (r.ended_at >= :start OR r.ended_at IS NULL) AND r.started_at <= :end"
        " AND s.started_at IS NOT NULL AND s.started_at <= :end AND COALESCE(s.ended_at, r.ended_at, :now) >= :start"
    )
    params = {"start": start, "end": end, "now": now}
    return read_marks(store, MarkKind.WORKFLOW_STEP, base, params, _workflow_step, _colour(_STEP_COLOURS), resolution_s)


def _workflow_step(row: sqlite3.Row) -> Mark:
    status = row["st"]
    restarts = f", {row['restarts']} restarts in a row" if row["restarts"] else ""
    return Mark(
        kind=MarkKind.WORKFLOW_STEP,
        key=row["k"],
        start=utc(row["b"]),
        end=utc(row["f"]),
        ongoing=row["ongoing"],
        state=status,
        colour=_STEP_COLOURS.get(status, GREY),
        label=f"Step {row['step']} of {row['src']} (run {row['id']}): {status}",
        detail=(row["message"] or "") + restarts,
        source=row["src"],
        href=workflow_run_href(row["src"], row["id"]),
    )


def _colour(colours: dict[str, str]) -> Callable[[sqlite3.Row], str]:
    return lambda row: colours.get(row["st"], GREY)


def restart_marks(store: Store, start: float, end: float, now: float, resolution_s: float | None = None) -> list[Mark]:
    """A service step that ended and is to be started again: the events of kind
    ``workflow`` whose data says it went to "backing off" (with the step and the count)."""
    base = (
        "SELECT 'restart:' || id AS k, at AS b, at AS f, 'restarting' AS st, source AS src, 0 AS ongoing,"
        " id, message, data FROM events"
        " WHERE kind = :kind AND at >= :start AND at <= :end AND json_extract(data, '$.to') = :to"
    )
    params = {"kind": EventKind.WORKFLOW.value, "start": start, "end": end, "to": StepStatus.BACKING_OFF.value}
    return read_marks(store, MarkKind.RESTART, base, params, _restart, lambda _row: WARN, resolution_s)


def _restart(row: sqlite3.Row) -> Mark:
    data = json.loads(row["data"])
    run, step, n = run_of(data), data.get("step", "?"), data.get("restarts")
    source = row["src"]
    return Mark(
        kind=MarkKind.RESTART,
        key=row["k"],
        start=utc(row["b"]),
        end=None,
        ongoing=False,
        state="restarting",
        colour=WARN,
        label=f"Restart {n} of {step} ({source}" + (f", run {run})" if run else ")"),
        detail=row["message"],
        source=source,
        href=workflow_run_href(source, run) if run is not None else None,
    )
