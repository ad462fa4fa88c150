"""Annotations in the store: create, list by time and tags, get, update, delete; and
their marks on the time axis (a point without an end, else a span).

Every change publishes an event of kind ``annotation`` (``data``: its id and what was
done), so an open chart that follows the event stream redraws its marks at once. Who
may change them, and the audit line, are the application layer's
(:mod:`dashboard_core.timeline.annotation_actions`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from dashboard_core.app.links import annotations_href
from dashboard_core.events import EventLog
from dashboard_core.models import EventKind
from dashboard_core.models.annotations import Annotation, AnnotationPatch, AnnotationRequest
from dashboard_core.store import Store, StoreError
from dashboard_core.timeline.mark_model import NOTE, Mark, MarkKind, utc
from dashboard_core.timeline.mark_sql import read_marks

log = logging.getLogger(__name__)

MAX_LIST = 1000
_COLUMNS = "id, start_at, end_at, text, tags, author, created_at, updated_at"
# Overlaps [start, end]: through the index on when it ends (a point ends when it starts).
_OVERLAPS = "COALESCE(end_at, start_at) >= :start AND start_at <= :end"


class Annotations:
    """The annotations of one store; ``events`` (if given) hears of each change."""

    def __init__(self, store: Store, events: EventLog | None = None, clock: Callable[[], float] = time.time) -> None:
        self.store, self.events, self.clock = store, events, clock

    def create(self, request: AnnotationRequest, author: str) -> Annotation:
        """Store a new annotation; raises ValueError if it ends before it starts."""
        now = self.clock()
        start, end = request.span(utc(now))
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO annotations (start_at, end_at, text, tags, author, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (start.timestamp(), _epoch(end), request.text, json.dumps(request.tags), author, now, now),
            )
            annotation_id = int(cursor.lastrowid or 0)
        made = self.get(annotation_id)
        assert made is not None  # just written, in this process
        self._publish(made, "added", author)
        return made

    def get(self, annotation_id: int) -> Annotation | None:
        row = self.store.one(f"SELECT {_COLUMNS} FROM annotations WHERE id = ?", (annotation_id,))
        return _annotation(row) if row is not None else None

    def between(
        self, start: datetime, end: datetime, tags: Sequence[str] = (), limit: int = MAX_LIST
    ) -> list[Annotation]:
        """The annotations that overlap [start, end] and carry every one of ``tags``, oldest first."""
        params: dict[str, object] = {"start": start.timestamp(), "end": end.timestamp()}
        where = _OVERLAPS
        for i, tag in enumerate(dict.fromkeys(tags)):
            where += f" AND EXISTS (SELECT 1 FROM json_each(tags) WHERE value = :tag{i})"
            params[f"tag{i}"] = tag
        params["limit"] = max(1, min(limit, MAX_LIST))
        rows = self.store.all(
            f"SELECT {_COLUMNS} FROM annotations WHERE {where} ORDER BY start_at, id LIMIT :limit", params
        )
        return [_annotation(r) for r in rows]

    def update(self, annotation_id: int, patch: AnnotationPatch, author: str) -> Annotation | None:
        """Change what ``patch`` gives (None if there is no such annotation); raises
        ValueError if the new times end before they start."""
        old = self.get(annotation_id)
        if old is None:
            return None
        start, end = patch.span(old.start, old.end)
        text = patch.text if patch.text is not None else old.text
        tags = patch.tags if patch.tags is not None else old.tags
        self.store.execute(
            "UPDATE annotations SET start_at = ?, end_at = ?, text = ?, tags = ?, updated_at = ? WHERE id = ?",
            (start.timestamp(), _epoch(end), text, json.dumps(tags), self.clock(), annotation_id),
        )
        new = self.get(annotation_id)
        if new is not None:
            self._publish(new, "edited", author)
        return new

    def delete(self, annotation_id: int, author: str) -> Annotation | None:
        """Delete one; what it was (None if there was no such annotation)."""
        old = self.get(annotation_id)
        if old is None:
            return None
        self.store.execute("DELETE FROM annotations WHERE id = ?", (annotation_id,))
        self._publish(old, "deleted", author)
        return old

    def _publish(self, note: Annotation, action: str, author: str) -> None:
        if self.events is None:
            return
        first_line = note.text.splitlines()[0] if note.text else ""
        short = first_line if len(first_line) <= 80 else first_line[:79] + "…"
        tags = f" [{', '.join(note.tags)}]" if note.tags else ""
        data: dict[str, object] = {
            "annotation_id": note.id,
            "action": action,
            "start": note.start.isoformat(),
            "end": note.end.isoformat() if note.end is not None else None,
        }
        message = f"{author} {action} annotation {note.id}: {short}{tags}"
        try:
            self.events.publish(EventKind.ANNOTATION, author, message, data=data)
        except StoreError as exc:  # the event is a witness: the change itself is saved
            log.warning("Cannot record the event %r: %s", message, exc)


def annotation_marks(
    store: Store, start: float, end: float, now: float, resolution_s: float | None = None
) -> list[Mark]:
    """Annotations as marks: a point without an end, else a span; they lead to the
    Events page's annotations over their time."""
    base = (
        "SELECT 'annotation:' || id AS k, start_at AS b, COALESCE(end_at, start_at) AS f,"
        " CASE WHEN end_at IS NULL THEN 'point' ELSE 'span' END AS st, author AS src, 0 AS ongoing,"
        " id, end_at, text, (SELECT group_concat(value, ', ') FROM json_each(tags)) AS tag_list"  # no JSON parsed in Python
        f" FROM annotations WHERE {_OVERLAPS} ORDER BY start_at, id LIMIT :limit"
    )
    params = {"start": start, "end": end, "limit": 10 * MAX_LIST}
    return read_marks(store, MarkKind.ANNOTATION, base, params, _annotation_mark, lambda _row: NOTE, resolution_s)


def _annotation_mark(row: sqlite3.Row) -> Mark:
    start_at, end_at = row["b"], row["end_at"]
    tags = row["tag_list"] or ""
    text = row["text"]
    return Mark(
        kind=MarkKind.ANNOTATION,
        key=row["k"],
        start=utc(start_at),
        end=utc(end_at) if end_at is not None else None,
        ongoing=False,
        state=row["st"],
        colour=NOTE,
        label=text.splitlines()[0] if text else f"Annotation {row['id']}",
        detail=(f"tags: {tags}; " if tags else "") + f"by {row['src']}",
        source=row["src"],
        href=annotations_href(start_at, row["f"]),
    )


def _epoch(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def _annotation(row: sqlite3.Row) -> Annotation:
    tags = json.loads(row["tags"])
    return Annotation(
        id=row["id"],
        start=utc(row["start_at"]),
        end=utc(row["end_at"]) if row["end_at"] is not None else None,
        text=row["text"],
        tags=[str(t) for t in tags] if isinstance(tags, list) else [],
        author=row["author"],
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
    )
