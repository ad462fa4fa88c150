"""The SQLite store: what must outlive the server process (test runs and their
cases, events, component checks, agents, alerts, workflow runs and steps, long
metric history).

One file in the data folder, in WAL mode so readers never wait on the writer.
The schema is a list of migrations numbered by ``PRAGMA user_version``: a new
version appends a script, and an old file is brought up to date when opened.
One connection, shared by the Runtime's threads under a lock: the writes are
small and few, and a single connection keeps SQLite's locking out of the way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FILE_NAME = "dashboard.sqlite3"

MIGRATIONS: list[str] = [
    # 1: test runs and their cases
    """
    CREATE TABLE test_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        suite TEXT NOT NULL,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        queued_at REAL NOT NULL,
        started_at REAL,
        ended_at REAL,
        updated_at REAL,
        exit_code INTEGER,
        collected INTEGER,
        done INTEGER NOT NULL DEFAULT 0,
        passed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        xfailed INTEGER NOT NULL DEFAULT 0,
        xpassed INTEGER NOT NULL DEFAULT 0,
        argv TEXT NOT NULL DEFAULT '[]',
        rootdir TEXT,
        log_path TEXT,
        rerun_of INTEGER REFERENCES test_runs(id) ON DELETE SET NULL,
        selection TEXT,
        pid INTEGER,
        pid_created REAL
    );
    CREATE INDEX test_runs_by_suite ON test_runs (suite, id DESC);
    CREATE INDEX test_runs_by_status ON test_runs (status);
    CREATE TABLE test_cases (
        run_id INTEGER NOT NULL REFERENCES test_runs(id) ON DELETE CASCADE,
        nodeid TEXT NOT NULL,
        outcome TEXT NOT NULL,
        duration REAL NOT NULL DEFAULT 0,
        message TEXT,
        traceback TEXT,
        PRIMARY KEY (run_id, nodeid)
    );
    CREATE INDEX test_cases_by_nodeid ON test_cases (nodeid, run_id);
    """,
    # 2: events, component checks, agents, alerts
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        source TEXT NOT NULL,
        message TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_by_time ON events (at);
    CREATE TABLE health_checks (
        component TEXT NOT NULL,
        at REAL NOT NULL,
        ok INTEGER NOT NULL,
        latency_ms REAL,
        state TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX health_checks_by_component ON health_checks (component, at);
    CREATE TABLE agents (
        name TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        status TEXT,
        role TEXT,
        task TEXT,
        metrics TEXT NOT NULL DEFAULT '{}',
        first_seen REAL,
        last_seen REAL
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        state TEXT NOT NULL,
        began_at REAL NOT NULL,
        fired_at REAL,
        ended_at REAL,
        min REAL,
        max REAL,
        mean REAL,
        message TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX alerts_by_rule ON alerts (rule, id DESC);
    """,
    # 3: workflow runs and their steps
    """
    CREATE TABLE workflow_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workflow TEXT NOT NULL,
        trigger TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        started_at REAL NOT NULL,
        ended_at REAL,
        updated_at REAL
    );
    CREATE INDEX workflow_runs_by_workflow ON workflow_runs (workflow, id DESC);
    CREATE INDEX workflow_runs_by_status ON workflow_runs (status);
    CREATE TABLE workflow_steps (
        run_id INTEGER NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
        step TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        exit_code INTEGER,
        started_at REAL,
        ended_at REAL,
        restarts INTEGER NOT NULL DEFAULT 0,
        log_path TEXT,
        pid INTEGER,
        pid_created REAL,
        PRIMARY KEY (run_id, step)
    );
    """,
    # 4: long metric history: the column names of packed rows. Each tier's table
    # (metric_history_10s, ...) is made by dashboard_core.metrics.history_store
    # when first used, since the tiers come from the config.
    """
    CREATE TABLE metric_layouts (
        id INTEGER PRIMARY KEY,
        columns TEXT NOT NULL UNIQUE
    );
    """,
]


class StoreError(Exception):
    """The store file cannot be opened or used; ``str()`` says which file and why."""


class Store:
    """Opened on first use, so building a Runtime writes nothing to disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        with self._lock:
            if self._conn is None:
                self._conn = self._open()
            return self._conn

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash loses at most the last commits, never corrupts
            db.execute("PRAGMA foreign_keys=ON")
            self._migrate(db)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open the dashboard's store: {exc}") from None
        return db

    @property
    def version(self) -> int:
        row = self.one("PRAGMA user_version")
        return int(row[0]) if row else 0

    def _migrate(self, db: sqlite3.Connection) -> None:
        current = int(db.execute("PRAGMA user_version").fetchone()[0])
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: the store is at schema version {current}, newer than this dashboard knows "
                f"({len(MIGRATIONS)}); use the newer dashboard or another storage.data_dir"
            )
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            with _atomic(db):
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Statements inside commit together, or not at all."""
        with self._lock, _atomic(self._db) as db:
            yield db

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> None:
        with self.transaction() as db:
            db.executemany(sql, rows)

    def all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


@contextmanager
def _atomic(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def open_store(data_dir: Path) -> Store:
    return Store(data_dir / FILE_NAME)
