"""Events as people read them: repeats collapsed into one row, kinds in words.

A service that crashes every 30 s (the shipped ``example-service`` does, on
purpose) writes an event each time: a page that lists them one by one greets a
new user with a wall of warnings that all say the same thing. Here events of
the same kind, about the same thing, as bad and saying the same words (numbers
aside: run ids, exit codes, delays) become one row, "example-service restarted
7 times in 6 min", placed where its newest event is. A gap longer than
:data:`REPEAT_GAP` starts a new row: repeats an hour apart are news again.

This is a view only: the store, the API and the streams keep every event.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from dashboard_core.labels import KIND_WORDS
from dashboard_core.models import Event, EventKind, Severity, StepStatus
from dashboard_core.units import format_duration

REPEAT_GAP = timedelta(hours=1)
ROW_COLUMNS = ["id", "at", "severity", "kind", "source", "message", "times"]
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

Key = tuple[EventKind, str, Severity, str]


@dataclass(frozen=True, slots=True)
class EventRow:
    """One row of an events table: an event, or a run of its repeats (newest first)."""

    events: tuple[Event, ...]

    @property
    def newest(self) -> Event:
        return self.events[0]

    @property
    def oldest(self) -> Event:
        return self.events[-1]

    @property
    def times(self) -> int:
        return len(self.events)

    @property
    def message(self) -> str:
        """The event's message; for repeats, how many in how long, then the newest's words."""
        newest = self.newest
        if self.times == 1:
            return newest.message
        span = format_duration((newest.at - self.oldest.at).total_seconds())
        if newest.kind is EventKind.WORKFLOW and newest.data.get("to") == StepStatus.BACKING_OFF.value:
            return f"{newest.source} restarted {self.times} times in {span} (newest: {newest.message})"
        return f"{self.times} times in {span} (newest: {newest.message})"


def repeat_key(event: Event) -> Key:
    """What makes two events repeats of each other: kind, subject, severity, and the
    message with its numbers left out."""
    return event.kind, event.source, event.severity, _NUMBER.sub("#", event.message)


def collapse(events: Sequence[Event], gap: timedelta = REPEAT_GAP) -> list[EventRow]:
    """Events (newest first) as rows, newest first: each run of repeats one row."""
    open_rows: dict[Key, list[Event]] = {}
    rows: list[list[Event]] = []
    for event in events:
        key = repeat_key(event)
        row = open_rows.get(key)
        if row is not None and row[-1].at - event.at <= gap:
            row.append(event)
            continue
        row = open_rows[key] = [event]
        rows.append(row)
    return [EventRow(tuple(row)) for row in rows]


def event_rows(events: Sequence[Event], collapsed: bool = True) -> list[EventRow]:
    """The rows of an events table: repeats collapsed, or (``collapsed=False``) one per event."""
    return collapse(events) if collapsed else [EventRow((e,)) for e in events]


def kind_words(kind: EventKind) -> str:
    """``test run``, not ``test_run``: how a kind reads on a page."""
    return KIND_WORDS.get(kind, kind.value.replace("_", " "))


def rows_frame(rows: Sequence[EventRow]) -> pd.DataFrame:
    """One line per row for the Events page: the newest event's id and time, the kind in
    words, the message (with the count for repeats) and how many events it stands for."""
    frame = pd.DataFrame(
        [
            {
                "id": r.newest.id,
                "at": r.newest.at,
                "severity": r.newest.severity.value,
                "kind": kind_words(r.newest.kind),
                "source": r.newest.source,
                "message": r.message,
                "times": r.times,
            }
            for r in rows
        ],
        columns=ROW_COLUMNS,
    )
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame
