"""A suite's tests in quarantine, in the store (``test_quarantine``): who put each there,
when and why. A quarantined test still runs and shows; its failure does not fail the run
(:mod:`dashboard_core.testing.run_verdict`). Who may change it is decided above, in
:mod:`dashboard_core.app.quarantine`."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from dashboard_core.models.quarantine import Quarantined
from dashboard_core.store import Store
from dashboard_core.units import from_epoch

_COLUMNS = "suite, nodeid, reason, who, at"


class Quarantine:
    def __init__(self, store: Store) -> None:
        self.store = store

    def entries(self, suite: str) -> dict[str, Quarantined]:
        """The suite's quarantined tests by node id, oldest first."""
        rows = self.store.all(f"SELECT {_COLUMNS} FROM test_quarantine WHERE suite = ? ORDER BY at, nodeid", (suite,))
        return {r["nodeid"]: _entry(r) for r in rows}

    def nodeids(self, suite: str) -> frozenset[str]:
        rows = self.store.all("SELECT nodeid FROM test_quarantine WHERE suite = ?", (suite,))
        return frozenset(r[0] for r in rows)

    def put(self, suite: str, nodeid: str, reason: str, who: str, at: datetime) -> Quarantined:
        """Quarantine the test (again: a new reason, who and when replace the old)."""
        self.store.execute(
            f"INSERT INTO test_quarantine ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (suite, nodeid) DO UPDATE SET reason = excluded.reason, who = excluded.who, at = excluded.at",
            (suite, nodeid, reason, who, at.timestamp()),
        )
        return Quarantined(suite=suite, nodeid=nodeid, reason=reason, by=who, at=at)

    def release(self, suite: str, nodeid: str) -> Quarantined | None:
        """Take the test out of quarantine; what it was, or None if it was not in it."""
        with self.store.transaction() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM test_quarantine WHERE suite = ? AND nodeid = ?", (suite, nodeid)
            ).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM test_quarantine WHERE suite = ? AND nodeid = ?", (suite, nodeid))
        return _entry(row)


def _entry(r: sqlite3.Row) -> Quarantined:
    return Quarantined(suite=r["suite"], nodeid=r["nodeid"], reason=r["reason"], by=r["who"], at=from_epoch(r["at"]))
