"""Test runs and their cases in the store: written while a run goes on, read for
the history views. Times are UTC epoch seconds in the file, datetimes outside."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashboard_core.models import CaseInfo, RunCounts, RunInfo, RunStatus, Trigger
from dashboard_core.store import Store
from dashboard_core.testing.case_query import CasePage, CaseQueryBase, case_of, case_page, subtests_json
from dashboard_core.units import from_epoch

ACTIVE = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)
_COUNT_COLUMNS = ("collected", "done", "passed", "failed", "errors", "skipped", "xfailed", "xpassed")


@dataclass(frozen=True, slots=True)
class RunFilter:
    suite: str | None = None
    status: RunStatus | None = None
    trigger: Trigger | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for column, value in (("suite", self.suite), ("status", self.status), ("trigger", self.trigger)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(str(value))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def epoch(ts: datetime | None) -> float | None:
    return ts.timestamp() if ts is not None else None


class RunHistory:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- writing -----------------------------------------------------------------
    def insert(
        self,
        suite: str,
        trigger: Trigger,
        queued_at: datetime,
        argv: Sequence[str],
        rerun_of: int | None = None,
        selection: Sequence[str] | None = None,
    ) -> int:
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO test_runs (suite, trigger, status, queued_at, updated_at, argv, rerun_of, selection)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    suite,
                    str(trigger),
                    RunStatus.QUEUED.value,
                    epoch(queued_at),
                    epoch(queued_at),
                    json.dumps(list(argv)),
                    rerun_of,
                    json.dumps(list(selection)) if selection is not None else None,
                ),
            )
            return int(cursor.lastrowid or 0)

    def update(self, run_id: int, **values: Any) -> None:
        """Set columns of one run; datetimes become epoch seconds, counts are spread out."""
        row: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, RunCounts):
                row.update(value.model_dump())
            elif isinstance(value, datetime):
                row[key] = epoch(value)
            elif isinstance(value, RunStatus | Trigger):
                row[key] = value.value
            elif isinstance(value, list | tuple):
                row[key] = json.dumps(list(value))
            else:
                row[key] = value
        if not row:
            return
        assignments = ", ".join(f"{k} = :{k}" for k in row)
        self.store.execute(f"UPDATE test_runs SET {assignments} WHERE id = :_id", {**row, "_id": run_id})

    def save_cases(self, run_id: int, cases: Iterable[CaseInfo]) -> None:
        self.store.executemany(
            "INSERT INTO test_cases (run_id, nodeid, outcome, duration, message, traceback, ordinal,"
            " retries, quarantined, cpu_user_seconds, cpu_system_seconds, peak_rss_bytes, started_at, subtests)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (run_id, nodeid) DO UPDATE SET outcome = excluded.outcome, duration = excluded.duration,"
            " message = excluded.message, traceback = excluded.traceback, ordinal = excluded.ordinal,"
            " retries = excluded.retries, quarantined = excluded.quarantined,"
            " cpu_user_seconds = excluded.cpu_user_seconds, cpu_system_seconds = excluded.cpu_system_seconds,"
            " peak_rss_bytes = excluded.peak_rss_bytes, started_at = excluded.started_at, subtests = excluded.subtests",
            [
                (
                    run_id,
                    c.nodeid,
                    c.outcome,
                    c.duration,
                    c.message,
                    c.traceback,
                    c.ordinal,
                    c.retries,
                    c.quarantined,
                    c.cpu_user_seconds,
                    c.cpu_system_seconds,
                    c.peak_rss_bytes,
                    epoch(c.started_at),
                    subtests_json(c),
                )
                for c in cases
            ],
        )

    # -- reading -----------------------------------------------------------------
    def get(self, run_id: int) -> RunInfo | None:
        row = self.store.one("SELECT * FROM test_runs WHERE id = ?", (run_id,))
        return run_from_row(row) if row is not None else None

    def row(self, run_id: int) -> sqlite3.Row | None:
        return self.store.one("SELECT * FROM test_runs WHERE id = ?", (run_id,))

    def page(self, where: RunFilter, limit: int, offset: int) -> tuple[int, list[RunInfo]]:
        clause, params = where.where()
        total = self.store.one(f"SELECT COUNT(*) FROM test_runs{clause}", params)
        rows = self.store.all(
            f"SELECT * FROM test_runs{clause} ORDER BY id DESC LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return int(total[0] if total else 0), [run_from_row(r) for r in rows]

    def recent_finished(self, suite: str, n: int, *, full_only: bool = False) -> list[RunInfo]:
        """The suite's newest ``n`` finished runs, newest first."""
        only_full = " AND selection IS NULL" if full_only else ""
        rows = self.store.all(
            f"SELECT * FROM test_runs WHERE suite = ? AND status NOT IN (?, ?){only_full} ORDER BY id DESC LIMIT ?",
            (suite, *ACTIVE, n),
        )
        return [run_from_row(r) for r in rows]

    def cases(self, run_id: int) -> list[CaseInfo]:
        """The run's cases in the order they ran (``ordinal`` 0, 1, ...)."""
        return self._cases(run_id)

    def quarantined_cases(self, run_id: int) -> list[CaseInfo]:
        """The run's cases that were in quarantine when it ended (a few of a large run's)."""
        return self._cases(run_id, " AND quarantined = 1")

    def passed_over(self, run_id: int, seconds: float) -> tuple[int, list[CaseInfo]]:
        """How many of the run's tests passed, and those that took longer than ``seconds``
        (what a duration regression can be among), without reading the rest."""
        passed = self.store.one("SELECT count(*) FROM test_cases WHERE run_id = ? AND outcome = 'passed'", (run_id,))
        return int(passed[0]) if passed else 0, self._cases(run_id, " AND outcome = 'passed' AND duration > ?", seconds)

    def _cases(self, run_id: int, where: str = "", *params: object) -> list[CaseInfo]:
        rows = self.store.all(
            "SELECT nodeid, outcome, duration, message, traceback, retries, quarantined, cpu_user_seconds,"
            f" cpu_system_seconds, peak_rss_bytes, started_at, subtests FROM test_cases WHERE run_id = ?{where}"
            " ORDER BY ordinal, rowid",  # a run saved before ordinals: the order its rows were written
            (run_id, *params),
        )
        return [case_of(r, i) for i, r in enumerate(rows)]

    def case_page(self, run_id: int, query: CaseQueryBase) -> CasePage:
        """One page of the run's cases, filtered and sorted as ``query`` asks."""
        return case_page(self.store, run_id, query)

    def outcomes(self, run_ids: Sequence[int]) -> list[tuple[int, str, str]]:
        """(run id, node id, outcome) of every case of these runs."""
        if not run_ids:
            return []
        marks = ",".join("?" * len(run_ids))
        rows = self.store.all(f"SELECT run_id, nodeid, outcome FROM test_cases WHERE run_id IN ({marks})", run_ids)
        return [(r[0], r[1], r[2]) for r in rows]

    def unfinished(self) -> list[sqlite3.Row]:
        """Runs the store says are queued or running (after a crash: none is)."""
        return self.store.all("SELECT * FROM test_runs WHERE status IN (?, ?) ORDER BY id", ACTIVE)

    # -- flaky verdicts ------------------------------------------------------------
    def attempts(self, run_ids: Sequence[int]) -> list[tuple[int, str, str, int]]:
        """(run id, node id, outcome, retries) of every case of these runs."""
        if not run_ids:
            return []
        marks = ",".join("?" * len(run_ids))
        rows = self.store.all(
            f"SELECT run_id, nodeid, outcome, retries FROM test_cases WHERE run_id IN ({marks})", run_ids
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def ran_in_suite(self, suite: str, nodeid: str) -> bool:
        """Whether any recorded run of the suite has this test."""
        row = self.store.one(
            "SELECT 1 FROM test_cases JOIN test_runs ON test_runs.id = test_cases.run_id"
            " WHERE test_cases.nodeid = ? AND test_runs.suite = ? LIMIT 1",
            (nodeid, suite),
        )
        return row is not None


def run_from_row(row: sqlite3.Row) -> RunInfo:
    keys = row.keys()
    selection = json.loads(row["selection"]) if row["selection"] else None
    started, ended = row["started_at"], row["ended_at"]
    return RunInfo(
        id=row["id"],
        suite=row["suite"],
        trigger=Trigger(row["trigger"]),
        status=RunStatus(row["status"]),
        message=row["message"],
        queued_at=from_epoch(row["queued_at"]),
        started_at=from_epoch(started),
        ended_at=from_epoch(ended),
        duration_seconds=(ended - started) if started is not None and ended is not None else None,
        exit_code=row["exit_code"],
        counts=RunCounts(**{k: row[k] for k in _COUNT_COLUMNS if k in keys}),
        rerun_of=row["rerun_of"],
        selected=len(selection) if selection is not None else None,
        log_path=row["log_path"],
    )
