"""The story of a window: what happened in it and how the host fared.

For any window (a preset, a custom range, a span dragged on a chart) the
Metrics page's "What happened in this window" panel and the evidence bundle
(``timeline/bundle.py``) show the marks inside it grouped by kind, the events
logged in it by kind, and the minimum, mean and maximum of the host's main
metrics. The metrics are read as the charts and the CSV read them
(``Runtime.read_history``): every sample for a recent window, a tier's bucket
means for days, with each bucket's own minimum and maximum where the tier keeps
them, so a short spike inside a 1-minute bucket still shows as the maximum.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import numpy as np
from pydantic import BaseModel, Field

from dashboard_core.events import MAX_PAGE, EventLog
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.history_read import HistoryRead
from dashboard_core.metrics.windows import Window
from dashboard_core.models import Event
from dashboard_core.store import Store
from dashboard_core.timeline.marks import KIND_LABELS, Mark, MarkKind, MarkPage, marks_between
from dashboard_core.units import format_value, local_time

if TYPE_CHECKING:
    from dashboard_core.events import Reader

# The host's main metrics, in the order the panel lists them.
MAIN_METRICS = ("cpu.total", "memory.percent", "load.1", "disk.read", "disk.write", "net.sent", "net.recv")
# At most this many events are read for one window (a bundle of 30 busy days stays a download, not a dump).
EVENT_LIMIT = 20_000


class Sources(Protocol):
    """What a story is read from: the Runtime (named so, not imported: it sits above)."""

    store: Store
    events: EventLog
    fields: FieldTable

    def read_history(self, window: Window, *, extremes: bool = False) -> HistoryRead: ...


class MetricSummary(BaseModel):
    """One metric over the window: None where it has no value in it."""

    name: str
    label: str
    unit: str
    min: float | None
    mean: float | None
    max: float | None


class KindGroup(BaseModel):
    kind: MarkKind
    label: str = Field(description="The kind in words, e.g. `Test runs`.")
    count: int
    marks: list[Mark] = Field(description="Oldest first.")


class WindowStory(BaseModel):
    """What happened in a window, and how the host fared."""

    start: datetime
    end: datetime
    resolution: str = Field(description="What the metric figures are read from: `full` or a tier, e.g. `1m`.")
    marks: int = Field(description="How many marks overlap the window, of every kind.")
    groups: list[KindGroup] = Field(description="The marks by kind; only kinds with marks in the window.")
    events: dict[str, int] = Field(description="How many events of each kind were logged in the window.")
    events_truncated: bool = Field(False, description=f"More than {EVENT_LIMIT:,} events: only the newest counted.")
    metrics: list[MetricSummary] = Field(description="Minimum, mean and maximum of the host's main metrics.")


def summarise(read: HistoryRead, fields: FieldTable, names: tuple[str, ...] = MAIN_METRICS) -> list[MetricSummary]:
    """Min, mean and max of each of ``names`` the read holds (NaN gaps left out);
    from a tier's own min and max rows when it keeps them."""
    rows = read.rows
    lows, highs = read.extreme_rows.get("min"), read.extreme_rows.get("max")
    out = []
    for name in names:
        if name not in rows.columns:
            continue
        means = rows.column(name)
        low = lows.column(name) if lows is not None and name in lows.columns else means
        high = highs.column(name) if highs is not None and name in highs.columns else means
        out.append(
            MetricSummary(
                name=name,
                label=fields.label_of(name),
                unit=fields.unit_of(name),
                min=_stat(np.nanmin, low),
                mean=_stat(np.nanmean, means),
                max=_stat(np.nanmax, high),
            )
        )
    return out


def _stat(reduce: object, values: np.ndarray) -> float | None:
    if not len(values) or np.isnan(values).all():
        return None
    value = float(reduce(values))  # type: ignore[operator]
    return value if math.isfinite(value) else None


def window_events(log: EventLog, window: Window, who: Reader, limit: int = EVENT_LIMIT) -> tuple[list[Event], bool]:
    """The events ``who`` may see logged in the window, oldest first, and whether
    there were more than ``limit`` (then the newest ``limit``)."""
    found: list[Event] = []
    before: int | None = None
    while len(found) < limit:
        page = log.latest(MAX_PAGE, who=who, start=window.start, end=window.end, before_id=before)
        found.extend(page)
        if len(page) < MAX_PAGE:
            return found[::-1], False
        before = page[-1].id
    more = bool(log.latest(1, who=who, start=window.start, end=window.end, before_id=found[limit - 1].id))
    return found[:limit][::-1], more


def tell(page: MarkPage, read: HistoryRead, fields: FieldTable, events: list[Event], truncated: bool) -> WindowStory:
    """The story from what was read: marks grouped by kind (in the kinds' order), events counted."""
    by_kind: dict[MarkKind, list[Mark]] = {}
    for mark in page.marks:
        by_kind.setdefault(mark.kind, []).append(mark)
    groups = [
        KindGroup(kind=kind, label=KIND_LABELS.get(kind, kind.value), count=len(by_kind[kind]), marks=by_kind[kind])
        for kind in MarkKind
        if kind in by_kind
    ]
    counts = Counter(event.kind.value for event in events)
    return WindowStory(
        start=page.start,
        end=page.end,
        resolution=read.token,
        marks=len(page.marks),
        groups=groups,
        events=dict(sorted(counts.items())),
        events_truncated=truncated,
        metrics=summarise(read, fields),
    )


def window_story(rt: Sources, window: Window, who: Reader, now: datetime | None = None) -> WindowStory:
    """The story of ``window`` as ``who`` may see it."""
    story, _events, _read = read_story(rt, window, who, now)
    return story


def read_story(
    rt: Sources, window: Window, who: Reader, now: datetime | None = None, read: HistoryRead | None = None
) -> tuple[WindowStory, list[Event], HistoryRead]:
    """The story, with the events and the metric history it was told from (for the
    bundle); ``read``: the window's history when the caller has read it already."""
    page = marks_between(rt.store, window.start, window.end, None, now or datetime.now(UTC))
    if read is None:
        read = rt.read_history(window, extremes=True)
    events, truncated = window_events(rt.events, window, who)
    return tell(page, read, rt.fields, events, truncated), events, read


# -- as the Metrics page's panel lists it --------------------------------------------------


def mark_rows(story: WindowStory, tz: str) -> list[dict[str, str | None]]:
    """One row per mark, by kind then time: its link, what it is, when (the viewer's clock)."""
    return [
        {
            "link": mark.href,
            "kind": group.label,
            "what": mark.label,
            "detail": mark.detail,
            "from": local_time(mark.start, tz),
            "to": ("point" if mark.end is None else local_time(mark.end, tz) + (" (going on)" if mark.ongoing else "")),
        }
        for group in story.groups
        for mark in group.marks
    ]


def metric_rows(story: WindowStory) -> list[dict[str, str]]:
    """Min, mean and max of each main metric, with its unit."""
    return [
        {
            "metric": m.label,
            "min": format_value(m.min, m.unit),
            "mean": format_value(m.mean, m.unit),
            "max": format_value(m.max, m.unit),
        }
        for m in story.metrics
    ]


def summary_line(story: WindowStory) -> str:
    """``3 marks (Test runs: 2, Annotations: 1); 12 events logged.``"""
    kinds = ", ".join(f"{g.label}: {g.count}" for g in story.groups)
    marks = (
        f"{story.marks} mark{'s' * (story.marks != 1)} ({kinds})"
        if story.marks
        else "No runs, alerts, restarts or annotations"
    )
    total = sum(story.events.values())
    events = f"{total:,}{'+' if story.events_truncated else ''} events logged"
    return f"{marks}; {events}."
