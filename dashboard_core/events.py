"""The event log: every state change, published in the process and kept in the store.

An event gets its id from the store (``AUTOINCREMENT``: ids only grow, even
after old events are pruned), so a client that was away can ask for everything
after the last id it saw (Server-Sent Events' ``Last-Event-ID``). Subscribers
inside the process (the pages' toasts, the alert engine) are called after the
event is stored; one that raises is logged and never stops the others.

Not everyone may see every event: the audit log (logins, failed logins, who ran
and stopped what, from which address) is for admins. That rule lives here, once
(:data:`RESTRICTED`): whatever shows or sends events to a person (pages, toasts,
the API, its streams) reads them with ``who=`` that person, and the query
itself leaves out what they may not see, so a page of 10 is 10 they may see.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from dashboard_core.models import Event, EventKind, Severity
from dashboard_core.printable import printable
from dashboard_core.store import Store

log = logging.getLogger(__name__)

Listener = Callable[[Event], None]
MAX_PAGE = 1000

# Kinds of event not everyone may see, and the role each needs.
RESTRICTED: dict[EventKind, str] = {EventKind.AUDIT: "admin"}


class Reader(Protocol):
    """Who reads events: all the log needs of a principal (``auth.principals.Principal``)."""

    def can(self, role: str) -> bool: ...


def hidden_kinds(who: Reader) -> list[EventKind]:
    """The kinds of event ``who`` may not see."""
    return [kind for kind, role in RESTRICTED.items() if not who.can(role)]


def visible_kinds(who: Reader) -> list[EventKind]:
    """The kinds of event ``who`` may see (a page offers these as filters)."""
    hidden = hidden_kinds(who)
    return [kind for kind in EventKind if kind not in hidden]


class EventLog:
    def __init__(self, store: Store, keep_days: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.keep_days = keep_days
        self.clock = clock
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._last_id: int | None = None

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with each new event; returns the function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(
        self,
        kind: EventKind,
        source: str,
        message: str,
        *,
        severity: Severity = Severity.INFO,
        data: dict[str, object] | None = None,
    ) -> Event:
        at = self.clock()
        source, message = printable(source), printable(message)  # names from outside end up in both
        payload = json.dumps(data or {}, default=str)
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO events (at, kind, severity, source, message, data) VALUES (?, ?, ?, ?, ?, ?)",
                (at, kind.value, severity.value, source, message, payload),
            )
            event_id = int(cursor.lastrowid or 0)
        event = Event(
            id=event_id,
            at=datetime.fromtimestamp(at, UTC),
            kind=kind,
            severity=severity,
            source=source,
            message=message,
            data=json.loads(payload),
        )
        with self._changed:
            self._last_id = max(self._last_id or 0, event_id)  # two publishers may get here out of order
            listeners = list(self._listeners)
            self._changed.notify_all()
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("An event listener failed on event %s", event_id)
        return event

    @property
    def last_id(self) -> int:
        """The newest event id (0 if there is none)."""
        if self._last_id is None:
            row = self.store.one("SELECT MAX(id) FROM events")
            self._last_id = int(row[0] or 0) if row else 0
        return self._last_id

    def since(
        self,
        after_id: int = 0,
        limit: int = 100,
        *,
        who: Reader | None = None,
        kinds: list[EventKind] | None = None,
        severities: list[Severity] | None = None,
    ) -> list[Event]:
        """Events with an id above ``after_id``, oldest first, filtered; only those ``who``
        may see (``None``: all of them, for the dashboard's own use, never to show a person)."""
        where, params = _where(who, after_id=after_id, kinds=kinds, severities=severities)
        rows = self.store.all(
            f"SELECT * FROM events{where} ORDER BY id LIMIT ?", [*params, max(1, min(limit, MAX_PAGE))]
        )
        return [_event(r) for r in rows]

    def next_batch(
        self, after_id: int, limit: int, *, who: Reader, severities: list[Severity] | None = None
    ) -> tuple[list[Event], int]:
        """For a reader that follows the log (a stream, a page's toasts): the next events
        after ``after_id`` that ``who`` may see, oldest first, and the id to go on from.
        That id passes the events ``who`` may not see too, so a reader whose newest
        events are all hidden does not read the store again and again for nothing."""
        newest = self.last_id  # every event up to here is stored: ids are given in the store's write order
        limit = max(1, min(limit, MAX_PAGE))
        batch = self.since(after_id, limit, who=who, severities=severities)
        if len(batch) == limit:
            return batch, batch[-1].id
        return batch, max(after_id, newest)

    def latest(
        self,
        limit: int = 100,
        *,
        who: Reader | None = None,
        kinds: list[EventKind] | None = None,
        severities: list[Severity] | None = None,
        source: str | None = None,
        text: str | None = None,
        before_id: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Event]:
        """The newest events first, filtered; ``text`` is searched in source and message,
        ``start`` and ``end`` bound when they happened (both included).
        Only those ``who`` may see (``None``: all, as in :meth:`since`)."""
        where, params = _where(
            who, kinds=kinds, severities=severities, source=source, text=text, before_id=before_id, start=start, end=end
        )
        rows = self.store.all(
            f"SELECT * FROM events{where} ORDER BY id DESC LIMIT ?", [*params, max(1, min(limit, MAX_PAGE))]
        )
        return [_event(r) for r in rows]

    def wait(self, after_id: int, timeout: float) -> bool:
        """Block until an event newer than ``after_id`` exists (True) or the timeout passes."""
        with self._changed:
            return self._changed.wait_for(lambda: (self._last_id or 0) > after_id, timeout)

    def prune(self) -> int:
        """Drop events older than ``keep_days``; the number dropped."""
        cutoff = self.clock() - self.keep_days * 86400
        cursor = self.store.execute("DELETE FROM events WHERE at < ?", (cutoff,))
        return cursor.rowcount


def _where(
    who: Reader | None,
    *,
    after_id: int | None = None,
    kinds: list[EventKind] | None = None,
    severities: list[Severity] | None = None,
    source: str | None = None,
    text: str | None = None,
    before_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[str, list[object]]:
    """The WHERE clause (with its parameters) of an event query."""
    clauses: list[str] = []
    params: list[object] = []
    hidden = hidden_kinds(who) if who is not None else []
    if hidden:
        clauses.append(f"kind NOT IN ({','.join('?' * len(hidden))})")
        params += [k.value for k in hidden]
    if after_id is not None:
        clauses.append("id > ?")
        params.append(after_id)
    if kinds:
        clauses.append(f"kind IN ({','.join('?' * len(kinds))})")
        params += [k.value for k in kinds]
    if severities:
        clauses.append(f"severity IN ({','.join('?' * len(severities))})")
        params += [s.value for s in severities]
    if source:
        clauses.append("source = ?")
        params.append(source)
    if text:
        clauses.append("(instr(lower(message), ?) > 0 OR instr(lower(source), ?) > 0)")
        params += [text.lower(), text.lower()]
    if before_id is not None:
        clauses.append("id < ?")
        params.append(before_id)
    if start is not None:
        clauses.append("at >= ?")
        params.append(start.timestamp())
    if end is not None:
        clauses.append("at <= ?")
        params.append(end.timestamp())
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _event(r: sqlite3.Row) -> Event:
    return Event(
        id=r["id"],
        at=datetime.fromtimestamp(r["at"], UTC),
        kind=EventKind(r["kind"]),
        severity=Severity(r["severity"]),
        source=r["source"],
        message=r["message"],
        data=json.loads(r["data"] or "{}"),
    )
