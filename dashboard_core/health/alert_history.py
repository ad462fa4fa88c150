"""The store's ``alerts`` table: a row per firing, its figures while it fires, its end.

A row is created when a rule fires: ``began_at`` is when the condition started to
hold, ``min``/``max``/``mean`` are of the rule's value over the whole interval
(pending part included) and are updated while it fires; ``ended_at`` and state
``resolved`` are set when it ends. A full disk never stops an alert: the figures
are written at the next evaluation, and a row left firing is closed at the next start.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

from dashboard_core.health.alert_state import RuleTrack
from dashboard_core.health.compiled_rules import CompiledRule
from dashboard_core.models import AlertRecord, AlertState, Severity
from dashboard_core.store import Store, StoreError
from dashboard_core.units import from_epoch

log = logging.getLogger(__name__)

RESTART_NOTE = "closed at start-up: the dashboard restarted while this alert was firing, so its true end is unknown"


class AlertHistory:
    """Writes and reads the alert rows; no state of its own."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open(self, rule: CompiledRule, track: RuleTrack, at: float) -> int | None:
        """The row of an alert that fires at ``at``; None when the store cannot write it."""
        try:
            cursor = self.store.execute(
                "INSERT INTO alerts (rule, severity, state, began_at, fired_at, min, max, mean, message)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rule.name,
                    rule.config.severity,
                    "firing",
                    track.began,
                    at,
                    track.low,
                    track.high,
                    track.mean,
                    track.alert_message,
                ),
            )
            return int(cursor.lastrowid or 0)
        except StoreError:
            # A full disk: it fires all the same (state, event, webhook); only its row is missing.
            return None

    def save_progress(self, track: RuleTrack, *, resolved: bool = False) -> None:
        if track.alert_id is None:
            return
        try:
            self._write_progress(track, resolved)
        except StoreError:
            # A full disk: the store said why. The figures are written at the next evaluation;
            # a row left firing is closed at the next start.
            pass

    def _write_progress(self, track: RuleTrack, resolved: bool) -> None:
        if resolved:
            self.store.execute(
                "UPDATE alerts SET state = ?, ended_at = ?, min = ?, max = ?, mean = ? WHERE id = ?",
                ("resolved", track.ended, track.low, track.high, track.mean, track.alert_id),
            )
        else:
            self.store.execute(
                "UPDATE alerts SET min = ?, max = ?, mean = ? WHERE id = ?",
                (track.low, track.high, track.mean, track.alert_id),
            )

    def close_left_firing(self, now: float) -> Iterator[AlertRecord]:
        """Close, one by one, every alert the store says is still firing (a previous
        process stopped while it fired) as resolved, with a note; yield each once closed."""
        rows = self.store.all("SELECT * FROM alerts WHERE state IN (?, ?) ORDER BY id", ("firing", "pending"))
        for row in rows:
            message = f"{row['message']}; {RESTART_NOTE}" if row["message"] else RESTART_NOTE
            try:
                self.store.execute(
                    "UPDATE alerts SET state = ?, ended_at = ?, message = ? WHERE id = ?",
                    (AlertState.RESOLVED.value, now, message, row["id"]),
                )
            except StoreError as exc:  # a full disk: the next start closes it
                log.error("Cannot close alert %s of %s: %s", row["id"], row["rule"], exc)
                continue
            yield _record(row).model_copy(
                update={"state": AlertState.RESOLVED, "ended_at": from_epoch(now), "message": message}
            )

    def read(self, limit: int = 100, rule: str | None = None) -> list[AlertRecord]:
        """Alerts from the store, newest first."""
        limit = max(1, min(limit, 1000))
        if rule is None:
            rows = self.store.all("SELECT * FROM alerts ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self.store.all("SELECT * FROM alerts WHERE rule = ? ORDER BY id DESC LIMIT ?", (rule, limit))
        return [_record(r) for r in rows]


def _record(row: sqlite3.Row) -> AlertRecord:
    return AlertRecord(
        id=row["id"],
        rule=row["rule"],
        severity=Severity(row["severity"]),
        state=AlertState(row["state"]),
        began_at=from_epoch(row["began_at"]),
        fired_at=from_epoch(row["fired_at"]),
        ended_at=from_epoch(row["ended_at"]),
        min=row["min"],
        max=row["max"],
        mean=row["mean"],
        message=row["message"],
    )
