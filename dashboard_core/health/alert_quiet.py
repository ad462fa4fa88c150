"""Who is told about a firing alert, and who is on it: its mute and its acknowledgement.

A muted alert (a silence or a maintenance window covers it) still fires, records its
interval and shows, marked with its :class:`~dashboard_core.models.silences.Mute`;
nobody is notified. The engine asks again at every evaluation while it fires, so:

- a silence that starts while it fires marks it from then on (those already told of it
  were told; nothing more is sent);
- a silence that ends while it still fires, nobody having been told, notifies then, once,
  as Alertmanager would (the alert is news to the receivers);
- its resolution notifies exactly those told it fired: nobody if it fired muted and
  stayed so, its receivers if they were told (even if it was silenced since), so no
  receiver is left thinking it still fires.

The mute, whether anyone was told, and the acknowledgement (who, when, a note) are kept
on the alert's row (``muted``, ``notified``, ``ack_*``), so the history shows them and
a restart knows whom a left-firing alert's closing concerns.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from dashboard_core.models import AlertRecord
from dashboard_core.models.silences import Ack, Mute
from dashboard_core.store import Store, StoreError


@dataclass(slots=True)
class _Quiet:
    alert_id: int
    mute: Mute | None
    told: bool
    ack: Ack | None = None


class AlertQuiet:
    """The firing alerts' mutes, acknowledgements and whether they were told, per rule."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_rule: dict[str, _Quiet] = {}
        self._lock = threading.Lock()

    def fired(self, record: AlertRecord, mute: Mute | None) -> AlertRecord:
        """A rule fired (muted or not): the record to announce."""
        quiet = _Quiet(record.id, mute, told=mute is None)
        with self._lock:
            self._by_rule[record.rule] = quiet
        self._save(quiet)
        return record.model_copy(update={"muted": mute})

    def recheck(self, record: AlertRecord, mute: Mute | None) -> AlertRecord | None:
        """A firing alert at a later evaluation: keeps its mute current; returns the record to
        notify as firing when its mute ended and nobody has been told yet (once), else None."""
        with self._lock:
            quiet = self._by_rule.setdefault(record.rule, _Quiet(record.id, None, told=True))
            changed = quiet.mute != mute
            quiet.mute = mute
            tell = mute is None and not quiet.told
            quiet.told = quiet.told or tell
        if changed or tell:
            self._save(quiet)
        return record.model_copy(update={"muted": None, "acknowledged": quiet.ack}) if tell else None

    def resolved(self, record: AlertRecord) -> AlertRecord:
        """A rule resolved: the record to announce, muted (so nobody is notified) unless someone was told it fired."""
        with self._lock:
            quiet = self._by_rule.pop(record.rule, None)
        if quiet is None or quiet.alert_id != record.id:
            return record
        return record.model_copy(update={"muted": None if quiet.told else quiet.mute, "acknowledged": quiet.ack})

    def closed_at_start(self, record: AlertRecord) -> AlertRecord:
        """An alert a previous process left firing, closed now: muted unless someone was told it fired."""
        row = self.store.one("SELECT notified FROM alerts WHERE id = ?", (record.id,))
        told = row is None or bool(row["notified"])
        return record.model_copy(update={"muted": None}) if told else record

    def marked(self, record: AlertRecord) -> AlertRecord:
        """A firing alert as shown: with its mute and its acknowledgement."""
        with self._lock:
            quiet = self._by_rule.get(record.rule)
            if quiet is None or quiet.alert_id != record.id:
                return record
            return record.model_copy(update={"muted": quiet.mute, "acknowledged": quiet.ack})

    def acknowledge(self, record: AlertRecord, by: str, note: str, at: datetime) -> AlertRecord:
        """Record that ``by`` is on a firing alert (a second acknowledgement replaces the first)."""
        ack = Ack(by=by, at=at, note=note)
        self.store.execute(
            "UPDATE alerts SET ack_by = ?, ack_at = ?, ack_note = ? WHERE id = ?",
            (by, at.timestamp(), note, record.id),
        )
        with self._lock:
            quiet = self._by_rule.setdefault(record.rule, _Quiet(record.id, record.muted, told=True))
            quiet.ack = ack
        return self.marked(record)

    def _save(self, quiet: _Quiet) -> None:
        if not quiet.alert_id:
            return  # a full disk: the alert has no row to mark
        try:
            self.store.execute(
                "UPDATE alerts SET muted = ?, notified = ? WHERE id = ?",
                (None if quiet.mute is None else quiet.mute.model_dump_json(), int(quiet.told), quiet.alert_id),
            )
        except StoreError:
            pass  # a full disk: the alert is muted all the same; only its row says less


def row_mute(row: sqlite3.Row) -> Mute | None:
    """The Mute kept on an alert's row, if any."""
    text = row["muted"] if "muted" in row.keys() else None
    return None if not text else Mute.model_validate(json.loads(text))


def row_ack(row: sqlite3.Row) -> Ack | None:
    """The acknowledgement kept on an alert's row, if any."""
    if "ack_by" not in row.keys() or row["ack_by"] is None:
        return None
    return Ack(by=row["ack_by"], at=datetime.fromtimestamp(row["ack_at"], UTC), note=row["ack_note"] or "")
