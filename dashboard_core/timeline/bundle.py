"""The evidence bundle of a window: one zip with all that is known about it.

``story.json`` (the window's story: marks by kind, event counts, the main
metrics' min/mean/max), ``marks.csv`` (every mark overlapping the window),
``events.csv`` (every event logged in it) and ``metrics.csv`` (the metric
history of the same window, the bytes ``GET /api/metrics/history.csv`` sends).
What someone attaches to a bug report or an incident review, in one click.
Built when asked for (pandas is loaded then, as for any CSV export).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime

import orjson

from dashboard_core.metrics.windows import Window
from dashboard_core.models import Event
from dashboard_core.timeline.marks import Mark
from dashboard_core.timeline.story import WindowStory
from dashboard_core.units import utc_iso

MEMBERS = ("story.json", "marks.csv", "events.csv", "metrics.csv")
MARK_COLUMNS = ("kind", "key", "start", "end", "ongoing", "state", "label", "detail", "source", "href")
EVENT_COLUMNS = ("id", "at", "kind", "severity", "source", "message", "data")


def bundle_filename(window: Window) -> str:
    """``window_20261206T100000Z_20261206T110000Z.zip``: the window in the name."""
    return f"window_{window.start:%Y%m%dT%H%M%SZ}_{window.end:%Y%m%dT%H%M%SZ}.zip"


def _iso(at: datetime | None) -> str | None:
    return None if at is None else utc_iso(at, "auto")


def marks_csv(marks: list[Mark]) -> bytes:
    """One row per mark, times ISO 8601 UTC, text cells safe for spreadsheets."""
    rows = [
        [m.kind.value, m.key, _iso(m.start), _iso(m.end), m.ongoing, m.state, m.label, m.detail, m.source, m.href]
        for m in marks
    ]
    return _table_csv(MARK_COLUMNS, rows)


def events_csv(events: list[Event]) -> bytes:
    """One row per event, oldest first; ``data`` as JSON."""
    rows = [
        [e.id, _iso(e.at), e.kind.value, e.severity.value, e.source, e.message, orjson.dumps(e.data).decode()]
        for e in events
    ]
    return _table_csv(EVENT_COLUMNS, rows)


def _table_csv(columns: tuple[str, ...], rows: Sequence[Sequence[object]]) -> bytes:
    import pandas as pd

    from dashboard_core.metrics.csv_writer import write_csv

    frame = pd.DataFrame(rows, columns=list(columns)).astype({c: "object" for c in columns if c != "id"})
    return write_csv(frame)


def bundle_zip(story: WindowStory, events: list[Event], metrics_csv: bytes) -> bytes:
    """The zip's bytes (deflated): the members in :data:`MEMBERS`' order."""
    marks = [mark for group in story.groups for mark in group.marks]
    marks.sort(key=lambda m: (m.start, m.key))
    members = {
        "story.json": orjson.dumps(story.model_dump(mode="json"), option=orjson.OPT_INDENT_2),
        "marks.csv": marks_csv(marks),
        "events.csv": events_csv(events),
        "metrics.csv": metrics_csv,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name in MEMBERS:
            archive.writestr(zipfile.ZipInfo(name, date_time=_zip_time(story.end)), members[name], zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _zip_time(at: datetime) -> tuple[int, int, int, int, int, int]:
    """The members' time: the window's end (a zip holds local time without a zone; UTC here)."""
    return (max(at.year, 1980), at.month, at.day, at.hour, at.minute, at.second)
