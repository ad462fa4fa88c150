"""Marks: what happened on the time axis, for every time chart to draw.

A mark is a span (a test run from start to end, an alert from pending to
resolved, an agent's time offline) or a point (a service restart, a user's
annotation without an end); :mod:`~dashboard_core.timeline.mark_model` says what
one holds. Nothing needs configuring: the marks come from what the store already
records, one indexed query per kind over the window (the readers in
:mod:`~dashboard_core.timeline.run_marks`, :mod:`~dashboard_core.timeline.state_marks`
and :mod:`~dashboard_core.timeline.annotations`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from dashboard_core.store import Store
from dashboard_core.timeline.annotations import annotation_marks
from dashboard_core.timeline.maintenance_marks import maintenance_marks
from dashboard_core.timeline.mark_model import (
    BAD,
    BUSY,
    GOOD,
    GREY,
    KIND_LABELS,
    NOTE,
    WARN,
    Mark,
    MarkKind,
    MarkPage,
    Reader,
)
from dashboard_core.timeline.run_marks import restart_marks, test_run_marks, workflow_run_marks, workflow_step_marks
from dashboard_core.timeline.silence_marks import silence_marks
from dashboard_core.timeline.state_marks import agent_marks, alert_marks, component_marks

__all__ = [
    "BAD",
    "BUSY",
    "GOOD",
    "GREY",
    "KIND_LABELS",
    "NOTE",
    "READERS",
    "WARN",
    "Mark",
    "MarkKind",
    "MarkPage",
    "marks_between",
]

READERS: dict[MarkKind, Reader] = {
    MarkKind.TEST_RUN: test_run_marks,
    MarkKind.WORKFLOW_RUN: workflow_run_marks,
    MarkKind.WORKFLOW_STEP: workflow_step_marks,
    MarkKind.RESTART: restart_marks,
    MarkKind.ALERT: alert_marks,
    MarkKind.COMPONENT: component_marks,
    MarkKind.AGENT: agent_marks,
    MarkKind.ANNOTATION: annotation_marks,
    MarkKind.SILENCE: silence_marks,
    MarkKind.MAINTENANCE: maintenance_marks,
}


def marks_between(
    store: Store,
    start: datetime,
    end: datetime,
    kinds: Iterable[MarkKind] | None = None,
    now: datetime | None = None,
    *,
    resolution_s: float | None = None,
) -> MarkPage:
    """The marks of ``kinds`` (all for None) that overlap [start, end], oldest first;
    with ``resolution_s`` (a chart's seconds per pixel), neighbours too narrow to see
    merged (:func:`~dashboard_core.timeline.mark_groups.merge_narrow`'s rule, in each
    reader's SQL: :mod:`~dashboard_core.timeline.mark_sql`), so few rows come back."""
    wanted = list(READERS) if kinds is None else [k for k in dict.fromkeys(kinds) if k in READERS]
    now_s = (now or datetime.now(UTC)).timestamp()
    marks: list[Mark] = []
    for kind in wanted:
        marks.extend(READERS[kind](store, start.timestamp(), end.timestamp(), now_s, resolution_s))
    marks.sort(key=lambda m: (m.start, m.key))
    return MarkPage(start=start, end=end, kinds=wanted, marks=marks)
