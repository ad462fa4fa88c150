"""Drill into a moment: which processes used the host, and which test run or
workflow step was going on, at one point in time (a click on a chart).

The processes come from the process snapshots (every process-table scan,
kept in the store: :mod:`~dashboard_core.metrics.process_snapshots`): the
newest scan at or before the moment, if it is at most two scan intervals older
(a scan every 5 s by default, so a moment finds the scan that covered it, and
one missed scan is no gap). Otherwise there is no snapshot, and ``note`` says
why: the moment is in the future, before the first snapshot, older than their
retention, in a time the dashboard was not running, or in a damaged row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from dashboard_core.metrics.process_snapshots import ProcessSnapshots, process_info
from dashboard_core.metrics.processes import top_processes
from dashboard_core.models import ProcessInfo
from dashboard_core.store import Store
from dashboard_core.timeline.marks import Mark, MarkKind, marks_between
from dashboard_core.units import format_duration, from_epoch

RUNNING_KINDS = (MarkKind.TEST_RUN, MarkKind.WORKFLOW_RUN, MarkKind.WORKFLOW_STEP)
AROUND = timedelta(seconds=1)  # what was running: marks overlapping the moment +- this
SCANS_OF_SLACK = 2  # a snapshot this many scan intervals older than the moment still covers it


class ProcessMoment(BaseModel):
    """The top processes and what was running at one moment."""

    requested: datetime = Field(description="The moment asked for (UTC).")
    at: datetime | None = Field(
        description="When the snapshot shown was taken: the newest at or before `requested`, at most two "
        "process-scan intervals older. None: there is none, and `note` says why."
    )
    by_cpu: list[ProcessInfo] = Field(description="Top processes by CPU then (empty without a snapshot).")
    by_memory: list[ProcessInfo] = Field(description="Top processes by resident memory then.")
    running: list[Mark] = Field(description="Test runs, workflow runs and workflow steps going on then.")
    note: str = Field("", description="Why there is no snapshot; empty when there is one.")


def moment_at(
    snapshots: ProcessSnapshots,
    store: Store,
    at: datetime,
    *,
    scan_interval: float,
    top_n: int,
    now: datetime,
) -> ProcessMoment:
    """What the host ran at ``at`` (aware UTC), as the Metrics page's "drill into a moment" shows it."""
    at_ms = round(at.timestamp() * 1000)
    slack_ms = round(SCANS_OF_SLACK * scan_interval * 1000)
    running = marks_between(store, at - AROUND, at + AROUND, RUNNING_KINDS, now).marks
    found = snapshots.scan_at(at_ms)
    scan = found.scan
    if scan is not None and at_ms - scan.ts_ms <= slack_ms:
        return ProcessMoment(
            requested=at,
            at=from_epoch(scan.ts_ms / 1000),
            by_cpu=[process_info(r) for r in top_processes(scan.rows, top_n, "cpu")],
            by_memory=[process_info(r) for r in top_processes(scan.rows, top_n, "memory")],
            running=running,
        )
    note = _why_none(snapshots, found.damaged, scan.ts_ms if scan else None, at_ms, slack_ms, now)
    return ProcessMoment(requested=at, at=None, by_cpu=[], by_memory=[], running=running, note=note)


def _why_none(
    snapshots: ProcessSnapshots,
    damaged: tuple[int, int, str] | None,
    before_ms: int | None,
    at_ms: int,
    slack_ms: int,
    now: datetime,
) -> str:
    now_ms = round(now.timestamp() * 1000)
    moment = _when(at_ms)
    if at_ms > now_ms + slack_ms:
        return f"{moment} is in the future: the server's clock says {_when(now_ms)}."
    if damaged is not None and at_ms <= damaged[1] + slack_ms:
        first, last, reason = damaged
        return (
            f"The process snapshots stored for {_when(first)} to {_when(last)} cannot be read ({reason}); "
            f"{moment} falls in them."
        )
    if at_ms < now_ms - snapshots.keep_ms:
        return (
            f"{moment} is older than process snapshots are kept ({format_duration(snapshots.keep_ms / 1000)}): "
            "they have been deleted."
        )
    oldest = snapshots.oldest()
    if oldest is None:
        return "No process snapshot has been taken yet: the first comes with the sampler's first process scan."
    if oldest > at_ms:
        return f"{moment} is before the first process snapshot ({_when(oldest)}): the dashboard was not running yet."
    after = snapshots.next_after(at_ms)
    previous = (
        f"the last one before it is from {_when(before_ms)}" if before_ms is not None else "none is kept before it"
    )
    following = f"the next from {_when(after)}" if after is not None else "none came after it yet"
    return (
        f"No process snapshot within {format_duration(slack_ms / 1000)} before {moment}: {previous}, {following}. "
        "The dashboard was not running (or not scanning) then."
    )


def _when(ms: int) -> str:
    return f"{from_epoch(ms / 1000):%Y-%m-%d %H:%M:%S} UTC"
