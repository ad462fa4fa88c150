"""The SQLite store: what must outlive the server process (test runs and their
cases, events, component checks, agents, alerts, workflow runs and steps, long
metric history).

One file in the data folder, in WAL mode so readers never wait on the writer.
The schema is a list of migrations numbered by ``PRAGMA user_version``
(:mod:`~dashboard_core.store_schema`): a new version appends a script, and an old
file is brought up to date when opened.
One connection, shared by the Runtime's threads under a lock: the writes are
small and few, and a single connection keeps SQLite's locking out of the way.

A write the file cannot take (a full disk, an I/O error, a read-only file)
raises :class:`StoreWriteError`, is logged once and is kept as
:attr:`Store.write_failure` until a write succeeds again; what the file holds
stays readable all the while. The first good write after failures is queued
for :meth:`Store.take_recoveries`, so the Runtime can say that it recovered.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboard_core.store_schema import MIGRATIONS  # read from here when a file is opened (tests replace it)

log = logging.getLogger(__name__)

FILE_NAME = "dashboard.sqlite3"

# SQLite's primary result codes that mean the file is damaged: CORRUPT, NOTADB.
_DAMAGED = frozenset({11, 26})

# SQLite's primary result codes that mean the file cannot take a write now (as
# opposed to a bad statement): PERM, BUSY, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB.
_CANNOT_WRITE = frozenset({3, 5, 8, 10, 11, 13, 14, 26})


class StoreError(Exception):
    """The store file cannot be opened or used; ``str()`` says which file and why."""


class StoreCorrupt(StoreError):
    """The store file is damaged, or is not a SQLite database at all."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: the dashboard's store is damaged: {reason}")


class StoreWriteError(StoreError):
    """A write the store file could not take (a full disk, an I/O error, a read-only
    file); nothing it already holds is lost."""


@dataclass(frozen=True, slots=True)
class WriteFailure:
    """Writes that failed in a row: since when, the last one, how many, and why (SQLite's words)."""

    since: float  # epoch seconds
    last: float
    count: int
    reason: str

    def sentence(self, path: Path) -> str:
        """What the Overview says while the store cannot be written."""
        writes = "write" if self.count == 1 else "writes"
        return (
            f"The store {path} cannot be written since {_clock(self.since)} UTC ({self.count} failed {writes}, "
            f"the last at {_clock(self.last)} UTC): {self.reason}. What it already holds is kept and readable; "
            "new records are not saved until it can write again (free space on its disk)."
        )


def _clock(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


class Store:
    """Opened on first use, so building a Runtime writes nothing to disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._state_lock = threading.Lock()  # guards the failure bookkeeping below
        self._failure: WriteFailure | None = None
        self._recoveries: list[tuple[WriteFailure, float]] = []
        self.recovered = threading.Event()  # set when writes work again after failing

    @property
    def write_failure(self) -> WriteFailure | None:
        """The writes failing now (None while writes work)."""
        return self._failure

    def take_recoveries(self) -> list[tuple[WriteFailure, float]]:
        """Each run of failed writes that has ended since the last call, with when it ended."""
        with self._state_lock:
            taken, self._recoveries = self._recoveries, []
            self.recovered.clear()
        return taken

    def _write_failed(self, exc: sqlite3.Error) -> None:
        """Raise :class:`StoreWriteError` if ``exc`` says the file cannot take a write."""
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None or code & 0xFF not in _CANNOT_WRITE:
            return
        now = time.time()
        with self._state_lock:
            before = self._failure
            since, count = (before.since, before.count) if before is not None else (now, 0)
            self._failure = WriteFailure(since, now, count + 1, str(exc))
        if before is None:
            log.error(
                "%s: cannot write to the dashboard's store: %s. What it holds is kept and readable; "
                "new records are not saved until it can write again.",
                self.path,
                exc,
            )
        raise StoreWriteError(f"{self.path}: cannot write to the dashboard's store: {exc}") from exc

    def _wrote(self) -> None:
        if self._failure is None:  # the usual case: no lock
            return
        now = time.time()
        with self._state_lock:
            ended, self._failure = self._failure, None
            if ended is None:
                return
            self._recoveries.append((ended, now))
            self.recovered.set()
        log.warning("%s: the dashboard's store can be written again (%d writes had failed)", self.path, ended.count)

    @property
    def _db(self) -> sqlite3.Connection:
        with self._lock:
            if self._conn is None:
                self._conn = self._open()
            return self._conn

    def open(self) -> None:
        """Open the file now (creating or migrating it) rather than on first use;
        raises :class:`StoreError` (:class:`StoreCorrupt` for a damaged file)."""
        with self._lock:
            if self._conn is None:
                self._conn = self._open()

    def check(self) -> None:
        """Open the file and run SQLite's quick check (a read of every page, a
        fraction of a second for hundreds of MB): what start-up does before serving."""
        with self._lock:
            try:
                rows = self._db.execute("PRAGMA quick_check(5)").fetchall()
            except sqlite3.Error as exc:
                raise _open_error(self.path, exc) from None
        problems = [str(r[0]) for r in rows if r[0] != "ok"]
        if problems:
            raise StoreCorrupt(self.path, "; ".join(problems))

    def _open(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash loses at most the last commits, never corrupts
            db.execute("PRAGMA foreign_keys=ON")
            self._migrate(db)
        except (OSError, sqlite3.Error) as exc:
            if db is not None:
                db.close()
            raise _open_error(self.path, exc) from None
        except StoreError:
            if db is not None:
                db.close()
            raise
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
        with self._lock:
            db = self._db
            before = db.total_changes
            try:
                with _atomic(db):
                    yield db
            except sqlite3.Error as exc:
                self._write_failed(exc)
                raise
            if db.total_changes != before:
                self._wrote()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            db = self._db
            before = db.total_changes
            try:
                cursor = db.execute(sql, params)
            except sqlite3.Error as exc:
                self._write_failed(exc)
                raise
            if db.total_changes != before:
                self._wrote()
            return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> None:
        with self.transaction() as db:
            db.executemany(sql, rows)

    def all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, params).fetchone()  # row_factory is sqlite3.Row
            return row

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _open_error(path: Path, exc: OSError | sqlite3.Error) -> StoreError:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _DAMAGED:
        return StoreCorrupt(path, str(exc))
    return StoreError(f"{path}: cannot open the dashboard's store: {exc}")


@contextmanager
def _atomic(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        # A COMMIT that failed (disk full, busy) may leave the transaction open:
        # close it, or every later BEGIN fails even once the disk has room again.
        if db.in_transaction:
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise


def open_store(data_dir: Path) -> Store:
    return Store(data_dir / FILE_NAME)
