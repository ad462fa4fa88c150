"""What a mark is: its kinds, its fields and its colours (the readers that make marks
are in :mod:`~dashboard_core.timeline.run_marks`, :mod:`~dashboard_core.timeline.state_marks`
and :mod:`~dashboard_core.timeline.annotations`; :mod:`~dashboard_core.timeline.marks` reads them all).

A mark is a span (a test run from start to end, an alert from pending to
resolved, an agent's time offline) or a point (a service restart, a user's
annotation without an end). Each says what it is in words, how it ended (its
colour) and where it leads (a relative deep link to the run, the rule, the
component). Charts draw spans as bands and points as markers; a toggle per kind
shows or hides them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field

from dashboard_core.models import Severity
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
    SILENCE = "silence"  # span: a silence, from its start to its end (or its expiry)
    MAINTENANCE = "maintenance"  # span: a maintenance window in force (from the config or the API)


KIND_LABELS: dict[MarkKind, str] = {
    MarkKind.TEST_RUN: "Test runs",
    MarkKind.WORKFLOW_RUN: "Workflow runs",
    MarkKind.WORKFLOW_STEP: "Workflow steps",
    MarkKind.RESTART: "Restarts",
    MarkKind.ALERT: "Alerts",
    MarkKind.COMPONENT: "Components",
    MarkKind.AGENT: "Agents",
    MarkKind.ANNOTATION: "Annotations",
    MarkKind.SILENCE: "Silences",
    MarkKind.MAINTENANCE: "Maintenance",
}

# Colours by state, shared with the state timelines where they overlap.
GOOD, BAD, WARN, BUSY, GREY, NOTE = "#21a366", "#d62728", "#ff9f1c", "#1f77b4", "#7f7f7f", "#9467bd"
SEVERITY_COLOURS: dict[Severity, str] = {Severity.CRITICAL: BAD, Severity.WARNING: WARN, Severity.INFO: BUSY}


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


class Reader(Protocol):
    """The marks of one kind that overlap [start, end] (epoch seconds), with the time of
    the read (the end of what is still going on); one indexed query each. With
    ``resolution_s`` (a chart's seconds a pixel), neighbours too narrow to see come
    merged (:mod:`~dashboard_core.timeline.mark_groups`' rule)."""

    def __call__(
        self, store: Store, start: float, end: float, now: float, resolution_s: float | None = None
    ) -> list[Mark]: ...


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def span_end(ended_at: float | None, now: float) -> tuple[datetime, bool]:
    """A span's end and whether it is still going on (then it ends now)."""
    return (utc(now), True) if ended_at is None else (utc(ended_at), False)
