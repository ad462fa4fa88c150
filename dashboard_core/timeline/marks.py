"""Marks: what happened on the time axis, for every time chart to draw.

A mark is a span (a test run from start to end, an alert from pending to
resolved, an agent's time offline) or a point (a service restart, a user's
annotation without an end). Each says what it is in words, how it ended (its
colour) and where it leads (a relative deep link to the run, the rule, the
component). Charts draw spans as bands and points as markers; a toggle per kind
shows or hides them. Nothing needs configuring: the marks come from what the
store already records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from dashboard_core.app.links import suite_run_link
from dashboard_core.models.testing import RunStatus
from dashboard_core.store import Store


class MarkKind(StrEnum):
    TEST_RUN = "test_run"  # span: queued/started to ended, coloured by outcome
    WORKFLOW_RUN = "workflow_run"  # span: a workflow run
    WORKFLOW_STEP = "workflow_step"  # span: one step of a workflow run
    RESTART = "restart"  # point: a service step restarted
    ALERT = "alert"  # span: pending -> firing -> resolved
    COMPONENT = "component"  # span: a component not healthy (degraded, down)
    AGENT = "agent"  # span: an agent offline
    ANNOTATION = "annotation"  # point or span: a user's (or a CI job's) note


KIND_LABELS: dict[MarkKind, str] = {
    MarkKind.TEST_RUN: "Test runs",
    MarkKind.WORKFLOW_RUN: "Workflow runs",
    MarkKind.WORKFLOW_STEP: "Workflow steps",
    MarkKind.RESTART: "Restarts",
    MarkKind.ALERT: "Alerts",
    MarkKind.COMPONENT: "Components",
    MarkKind.AGENT: "Agents",
    MarkKind.ANNOTATION: "Annotations",
}

# Colours by state, shared with the state timelines where they overlap.
GOOD, BAD, WARN, BUSY, GREY, NOTE = "#21a366", "#d62728", "#ff9f1c", "#1f77b4", "#7f7f7f", "#9467bd"
_RUN_COLOURS = {
    RunStatus.PASSED: GOOD,
    RunStatus.FAILED: BAD,
    RunStatus.ERROR: BAD,
    RunStatus.TIMED_OUT: BAD,
    RunStatus.RUNNING: BUSY,
    RunStatus.QUEUED: BUSY,
    RunStatus.CANCELLED: GREY,
    RunStatus.INTERRUPTED: GREY,
}


class Mark(BaseModel):
    """One thing on the time axis."""

    kind: MarkKind
    key: str = Field(description="Stable id across reads, e.g. `test_run:12`.")
    start: datetime
    end: datetime | None = Field(None, description="None: a point in time (a marker, not a band).")
    ongoing: bool = Field(False, description="Still going on: `end` is the time of the read.")
    state: str = Field(description="How it ended or stands: passed, failed, firing, offline, ...")
    colour: str
    label: str = Field(description="What it is, in words: the first line of its hover text.")
    detail: str = ""
    source: str = Field(description="The suite, workflow, rule, component or agent it is about.")
    href: str | None = Field(None, description="Relative deep link to its page, if it has one.")


class MarkPage(BaseModel):
    start: datetime
    end: datetime
    kinds: list[MarkKind]
    marks: list[Mark] = Field(description="Oldest first.")


def _utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def test_run_marks(store: Store, start: float, end: float, now: float) -> list[Mark]:
    """Test runs that overlap [start, end] (epoch seconds): from start (or queue) to end."""
    rows = store.all(
        "SELECT id, suite, status, message, queued_at, started_at, ended_at, passed, failed, errors, skipped"
        " FROM test_runs WHERE COALESCE(started_at, queued_at) <= ? AND COALESCE(ended_at, ?) >= ?"
        " ORDER BY COALESCE(started_at, queued_at)",
        (end, now, start),
    )
    marks = []
    for row in rows:
        status = RunStatus(row["status"])
        began = row["started_at"] if row["started_at"] is not None else row["queued_at"]
        ongoing = row["ended_at"] is None
        counts = f"{row['passed']} passed, {row['failed']} failed, {row['errors']} errors, {row['skipped']} skipped"
        marks.append(
            Mark(
                kind=MarkKind.TEST_RUN,
                key=f"test_run:{row['id']}",
                start=_utc(began) or datetime.now(UTC),
                end=_utc(now if ongoing else row["ended_at"]),
                ongoing=ongoing,
                state=status.value,
                colour=_RUN_COLOURS.get(status, GREY),
                label=f"Test run {row['id']} of {row['suite']}: {status.value}",
                detail=counts,
                source=row["suite"],
                href=suite_run_link(row["suite"], row["id"]).href,
            )
        )
    return marks


Reader = Callable[[Store, float, float, float], list[Mark]]
READERS: dict[MarkKind, Reader] = {
    MarkKind.TEST_RUN: test_run_marks,
}


def marks_between(
    store: Store, start: datetime, end: datetime, kinds: Iterable[MarkKind] | None = None, now: datetime | None = None
) -> MarkPage:
    """The marks of ``kinds`` (all for None) that overlap [start, end], oldest first."""
    wanted = list(READERS) if kinds is None else [k for k in dict.fromkeys(kinds) if k in READERS]
    now_s = (now or datetime.now(UTC)).timestamp()
    marks: list[Mark] = []
    for kind in wanted:
        marks.extend(READERS[kind](store, start.timestamp(), end.timestamp(), now_s))
    marks.sort(key=lambda m: (m.start, m.key))
    return MarkPage(start=start, end=end, kinds=wanted, marks=marks)
