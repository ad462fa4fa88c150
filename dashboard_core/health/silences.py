"""The silence book: timed mutes over the alerts' labels, kept in the store's ``silences`` table.

A silence is a set of label matchers (:mod:`~dashboard_core.health.alert_labels` says
which labels an alert has), a start and an end, who made it and why, as Alertmanager's
are. It is *pending* before its start, *active* until its end, *expired* after; expiring
one early sets its end to that moment (and says who). Silences are never deleted: the
list and the charts show when each held.

The book is a :class:`~dashboard_core.health.mutes.MuteSource`: the alert engine asks it
whether a silence covers an alert now. Silences from elsewhere (Alertmanager's) come in
through :attr:`SilenceBook.remote`, are listed with the dashboard's and mute as they do;
whoever copies the dashboard's silences elsewhere listens on :attr:`SilenceBook.on_change`.
"""

from __future__ import annotations

import builtins
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Literal

from dashboard_core.health.mutes import silence_covers
from dashboard_core.models.silences import Matcher, Mute, Silence, SilenceState
from dashboard_core.store import Store

log = logging.getLogger(__name__)

Change = Literal["created", "expired"]
MAX_LIST = 500


class SilenceError(ValueError):
    """A silence that cannot be made or ended as asked; the message says why."""


class SilenceBook:
    """The dashboard's silences (in the store) and those from elsewhere (:attr:`remote`)."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        # Called after a dashboard silence is created or expired (e.g. to copy it to Alertmanager).
        self.on_change: builtins.list[Callable[[Silence, Change], None]] = []
        # Extra silences from elsewhere (origin "alertmanager"): listed, and muting alerts too.
        self.remote: builtins.list[Callable[[], builtins.list[Silence]]] = []

    # -- changing ----------------------------------------------------------------
    def create(
        self, matchers: tuple[Matcher, ...], starts_at: datetime, ends_at: datetime, created_by: str, comment: str
    ) -> Silence:
        """Record a silence; SilenceError if it ends before it starts, or has ended already."""
        now = self.clock()
        if not matchers:
            raise SilenceError("a silence needs at least one matcher")
        if ends_at <= starts_at:
            raise SilenceError(f"it ends ({_text(ends_at)}) before it starts ({_text(starts_at)})")
        if ends_at.timestamp() <= now:
            raise SilenceError(f"it ends ({_text(ends_at)}) in the past: a silence must end after now")
        cursor = self.store.execute(
            "INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                json.dumps([m.model_dump() for m in matchers]),
                starts_at.timestamp(),
                ends_at.timestamp(),
                created_by,
                comment,
                now,
            ),
        )
        silence = self.get(str(cursor.lastrowid))
        assert silence is not None
        self._tell(silence, "created")
        return silence

    def expire(self, silence_id: str, by: str) -> Silence:
        """End a dashboard silence now (a pending one never starts); SilenceError if it has ended."""
        silence = self.get(silence_id)
        if silence is None:
            raise KeyError(silence_id)
        if silence.state == "expired":
            raise SilenceError(f"silence {silence_id} has already ended ({_text(silence.ends_at)})")
        now = self.clock()
        if silence.origin != "dashboard":  # Alertmanager's own: the sync expires it there
            remote = silence.model_copy(
                update={"ends_at": datetime.fromtimestamp(now, UTC), "state": "expired", "expired_by": by}
            )
            self._tell(remote, "expired")
            return remote
        self.store.execute(
            "UPDATE silences SET starts_at = MIN(starts_at, ?), ends_at = ?, expired_by = ? WHERE id = ?",
            (now, now, by, int(silence_id)),
        )
        ended = self.get(silence_id)
        assert ended is not None
        self._tell(ended, "expired")
        return ended

    def set_alertmanager_id(self, silence_id: str, am_id: str) -> None:
        """Remember the Alertmanager silence a dashboard silence was copied to."""
        self.store.execute("UPDATE silences SET alertmanager_id = ? WHERE id = ?", (am_id, _number(silence_id)))

    # -- reading -----------------------------------------------------------------
    def get(self, silence_id: str) -> Silence | None:
        """A dashboard silence by id, or a remote one by its id."""
        number = _number(silence_id)
        if number is not None:
            row = self.store.one("SELECT * FROM silences WHERE id = ?", (number,))
            return None if row is None else self._silence(row, self.clock())
        return next((s for s in self._remote() if s.id == silence_id), None)

    def listing(self, state: SilenceState | None = None, limit: int = MAX_LIST) -> builtins.list[Silence]:
        """Silences in force or to come first (by end), then the expired (latest end first); remote ones too."""
        now = self.clock()
        rows = self.store.all(
            "SELECT * FROM (SELECT * FROM silences WHERE ends_at > ? ORDER BY ends_at)"
            " UNION ALL SELECT * FROM (SELECT * FROM silences WHERE ends_at <= ? ORDER BY ends_at DESC LIMIT ?)",
            (now, now, limit),
        )
        found = [self._silence(r, now) for r in rows] + self._remote()
        order = {"active": 0, "pending": 1, "expired": 2}
        found.sort(key=lambda s: (order[s.state], s.ends_at.timestamp() * (-1 if s.state == "expired" else 1)))
        return [s for s in found if state is None or s.state == state][:limit]

    def between(self, start: float, end: float) -> builtins.list[Silence]:
        """The dashboard's silences that held at some time in [start, end] (epoch seconds)."""
        now = self.clock()
        rows = self.store.all(
            "SELECT * FROM silences WHERE ends_at >= ? AND starts_at <= ? ORDER BY starts_at", (start, end)
        )
        return [self._silence(r, now) for r in rows]

    def covering(self, labels: Mapping[str, str], at: datetime) -> builtins.list[Silence]:
        """The silences (the dashboard's and the remote) covering an alert with ``labels`` at ``at``."""
        t = at.timestamp()
        rows = self.store.all("SELECT * FROM silences WHERE starts_at <= ? AND ends_at > ? ORDER BY ends_at", (t, t))
        silences = [self._silence(r, self.clock()) for r in rows] + self._remote()
        return [s for s in silences if silence_covers(s, labels, at)]

    def mute_for(self, labels: Mapping[str, str], at: datetime) -> Mute | None:
        """The MuteSource's answer: the covering silence that lasts longest."""
        found = self.covering(labels, at)
        if not found:
            return None
        silence = max(found, key=lambda s: s.ends_at)
        return Mute(kind="silence", id=silence.id, reason=silence.comment, until=silence.ends_at)

    def list(self, state: SilenceState | None = None) -> builtins.list[Silence]:
        """:meth:`listing` under the name the Alertmanager sync asks for (its catch-up at start)."""
        return self.listing(state)

    # -- inside ------------------------------------------------------------------
    def _remote(self) -> builtins.list[Silence]:
        found: builtins.list[Silence] = []
        now = datetime.fromtimestamp(self.clock(), UTC)
        for source in list(self.remote):
            try:
                found.extend(s.model_copy(update={"state": state_at(s, now)}) for s in source())
            except Exception:  # a source that fails (Alertmanager down) must not stop the alerts
                log.exception("Cannot read the silences of %r", source)
        return found

    def _tell(self, silence: Silence, change: Change) -> None:
        for listener in list(self.on_change):
            try:
                listener(silence, change)
            except Exception:
                log.exception("A silence listener failed on %s silence %s", change, silence.id)

    def _silence(self, row: sqlite3.Row, now: float) -> Silence:
        start, end = row["starts_at"], row["ends_at"]
        state: SilenceState = "pending" if now < start else "active" if now < end else "expired"
        return Silence(
            id=str(row["id"]),
            matchers=tuple(Matcher.model_validate(m) for m in json.loads(row["matchers"])),
            starts_at=datetime.fromtimestamp(start, UTC),
            ends_at=datetime.fromtimestamp(end, UTC),
            created_by=row["created_by"],
            comment=row["comment"],
            state=state,
            alertmanager_id=row["alertmanager_id"],
            expired_by=row["expired_by"],
        )


def state_at(silence: Silence, at: datetime) -> SilenceState:
    return "pending" if at < silence.starts_at else "active" if at < silence.ends_at else "expired"


def matchers_text(matchers: tuple[Matcher, ...]) -> str:
    """``alertname="cpu-high", component=~"db.*"`` as Alertmanager writes them."""
    ops = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}
    return ", ".join(f"{m.name}{ops[(m.is_regex, m.is_equal)]}{json.dumps(m.value)}" for m in matchers)


def _number(silence_id: str) -> int | None:
    return int(silence_id) if silence_id.isdecimal() and len(silence_id) < 19 else None


def _text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
