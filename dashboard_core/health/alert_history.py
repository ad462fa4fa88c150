"""The store's ``alerts`` table: a row per firing, its figures while it fires, its end;
and a row per time a rule was pending and did not fire.

A row is created when a rule fires: ``began_at`` is when the condition started to
hold, ``min``/``max``/``mean`` are of the rule's value over the whole interval
(pending part included) and are updated while it fires; ``ended_at`` and state
``resolved`` are set when it ends. A full disk never stops an alert: the figures
are written at the next evaluation, and a row left firing is closed at the next start.

A rule whose condition held and stopped holding before its duration was up leaves
a row of state ``pending`` without ``fired_at`` (the time axis draws it); a rule
that holds on and off keeps one such row, stretched while each new pending time
begins within the rule's duration (at least :data:`PENDING_JOIN_SECONDS`) of its
end. The alert history (:meth:`AlertHistory.read`) lists firings only.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

from dashboard_core.health.alert_quiet import row_ack, row_mute
from dashboard_core.health.alert_state import RuleTrack, duration_text
from dashboard_core.health.compiled_rules import CompiledRule
from dashboard_core.models import AlertRecord, AlertState, Severity
from dashboard_core.store import Store, StoreError
from dashboard_core.units import from_epoch

log = logging.getLogger(__name__)

PENDING_JOIN_SECONDS = 60.0
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
            alert_id = int(cursor.lastrowid or 0)
            if track.run_id is not None:  # a suite rule's alert: the run it is about
                try:
                    self.store.execute("UPDATE alerts SET run_id = ? WHERE id = ?", (track.run_id, alert_id))
                except StoreError:
                    pass  # a full disk: only the alert's link to its run is missing
            return alert_id
        except StoreError:
            # A full disk: it fires all the same (state, event, webhook); only its row is missing.
            return None

    def pending_ended(self, rule: CompiledRule, track: RuleTrack, at: float) -> None:
        """The rule was pending from ``track.began`` to ``at`` and did not fire: keep that
        (a new row, or the rule's last pending row stretched); a full disk loses only it."""
        if track.began is None:
            return
        note = f"pending {duration_text(at - track.began)} of {duration_text(rule.rule.seconds)}; it did not fire"
        try:
            last = self.store.one(
                "SELECT id, state, fired_at, ended_at FROM alerts WHERE rule = ? ORDER BY id DESC LIMIT 1", (rule.name,)
            )
            join = max(rule.rule.seconds, PENDING_JOIN_SECONDS)
            if (
                last is not None
                and last["state"] == AlertState.PENDING.value
                and last["fired_at"] is None
                and last["ended_at"] is not None
                and track.began - last["ended_at"] <= join
            ):
                self.store.execute(
                    "UPDATE alerts SET ended_at = ?, min = COALESCE(MIN(min, ?), min, ?),"
                    " max = COALESCE(MAX(max, ?), max, ?), mean = NULL, message = ? WHERE id = ?",
                    (at, track.low, track.low, track.high, track.high, f"on and off; last {note}", last["id"]),
                )
            else:
                self.store.execute(
                    "INSERT INTO alerts (rule, severity, state, began_at, ended_at, min, max, mean, message)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        rule.name,
                        rule.config.severity,
                        AlertState.PENDING.value,
                        track.began,
                        at,
                        track.low,
                        track.high,
                        track.mean,
                        note,
                    ),
                )
        except StoreError:
            pass  # a full disk: the rule is judged all the same; only this trace is missing

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
        rows = self.store.all(
            "SELECT * FROM alerts WHERE state IN (?, ?) AND ended_at IS NULL ORDER BY id", ("firing", "pending")
        )
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
        """Alerts (firings) from the store, newest first; not the times a rule was only pending."""
        limit = max(1, min(limit, 1000))
        fired = "fired_at IS NOT NULL"
        if rule is None:
            rows = self.store.all(f"SELECT * FROM alerts WHERE {fired} ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self.store.all(
                f"SELECT * FROM alerts WHERE rule = ? AND {fired} ORDER BY id DESC LIMIT ?", (rule, limit)
            )
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
        run_id=row["run_id"],
        muted=row_mute(row),
        acknowledged=row_ack(row),
    )
