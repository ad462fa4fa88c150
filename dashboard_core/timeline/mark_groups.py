"""Marks too narrow to see on a long chart, merged into one that says how many.

A 30-day chart is about a thousand pixels wide, 43 minutes a pixel: a suite run
every 10 minutes is 4,000 bands there, most of them the same pixel, and 2.8 MB of
marks for the browser to draw on every chart. Given the chart's resolution
(seconds a pixel), consecutive marks of one kind, one thing and one outcome, each
narrower than a pixel and less than a pixel apart, become one mark: "36 test runs
of smoke: passed", spanning them, linked to their events on the Events page.
A failure among passes stays its own mark and ends the run of passes before it,
so a group never covers another outcome.
"""

from __future__ import annotations

from datetime import datetime

from dashboard_core.app.links import events_span_href
from dashboard_core.models import EventKind
from dashboard_core.timeline.mark_model import KIND_LABELS, Mark, MarkKind

# The events each kind of mark is made of: a group links to them.
_EVENTS_OF = {
    MarkKind.TEST_RUN: EventKind.TEST_RUN,
    MarkKind.WORKFLOW_RUN: EventKind.WORKFLOW,
    MarkKind.WORKFLOW_STEP: EventKind.WORKFLOW,
    MarkKind.RESTART: EventKind.WORKFLOW,
    MarkKind.ALERT: EventKind.ALERT,
    MarkKind.COMPONENT: EventKind.COMPONENT,
    MarkKind.AGENT: EventKind.AGENT,
    MarkKind.ANNOTATION: EventKind.ANNOTATION,
    MarkKind.SILENCE: EventKind.AUDIT,  # made and expired by someone: the audit log says who
}


def merge_narrow(marks: list[Mark], resolution_s: float) -> list[Mark]:
    """``marks`` (oldest first) with each run of two or more narrow neighbours of one
    kind and thing in one state merged into one mark (another state, or a wide mark,
    between them ends the run); oldest first."""
    out: list[Mark] = []
    groups: dict[tuple[MarkKind, str], list[Mark]] = {}  # per kind and thing: the run of one state going on
    reach: dict[tuple[MarkKind, str], float] = {}  # where each open group ends
    for mark in marks:
        begin = mark.start.timestamp()
        finish = (mark.end or mark.start).timestamp()
        key = (mark.kind, mark.source)
        group = groups.get(key)
        wide, apart = finish - begin >= resolution_s, group is not None and begin - reach[key] > resolution_s
        if group is not None and (wide or apart or mark.state != group[0].state):
            out.append(_merged(group))
            group = None
            del groups[key]
        if wide:
            out.append(mark)  # wide enough to see on its own
        elif group is None:
            groups[key], reach[key] = [mark], finish
        else:
            group.append(mark)
            reach[key] = max(reach[key], finish)
    out.extend(_merged(group) for group in groups.values())
    out.sort(key=lambda m: (m.start, m.key))
    return out


def _merged(group: list[Mark]) -> Mark:
    if len(group) == 1:
        return group[0]
    first = group[0]
    end = max((m.end or m.start) for m in group)
    ongoing = any(m.ongoing for m in group)
    return group_mark(
        first.kind, first.key, len(group), first.start, end, ongoing, first.state, first.colour, first.source
    )


def group_mark(
    kind: MarkKind,
    first_key: str,
    n: int,
    start: datetime,
    end: datetime,
    ongoing: bool,
    state: str,
    colour: str,
    source: str,
) -> Mark:
    """The one mark of ``n`` narrow neighbours of ``kind`` and ``source`` in ``state``,
    from the first's start to the latest end (merged here or in SQL: one wording)."""
    what = KIND_LABELS[kind].lower()
    return Mark(
        kind=kind,
        key=f"{first_key}+{n - 1}",
        start=start,
        end=end,
        ongoing=ongoing,
        state=state,
        colour=colour,
        label=f"{n} {what} of {source}: {state}",
        detail=f"{_at(start)} to {_at(end)} UTC, each too short to see at this zoom: zoom in for each one",
        source=source,
        href=events_span_href(_EVENTS_OF[kind], source, start.timestamp(), end.timestamp()),
    )


def _at(when: datetime) -> str:
    return str(when)[:16]  # "%Y-%m-%d %H:%M": str() is isoformat's C code, a fifth of strftime's time
