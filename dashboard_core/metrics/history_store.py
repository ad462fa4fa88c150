"""Long metric history in the SQLite store: one table per tier, one row per bucket.

A row holds every column of a bucket as one packed little-endian float32 BLOB
per kept statistic (``mean``, ``min``, ``max``), so a 31-column host costs
about 124 bytes per statistic per row instead of 31 rows of a long
``(ts, column, value)`` table (bench/history_store.py measures both). Which
column is where is the row's *layout*: ``metric_layouts`` maps a layout id to
its ordered column names, and a new layout appears when the column set
changes (a disk or an interface appeared), so history is never lost or
misread. Tier tables are ordinary rowid tables keyed by the bucket start in
epoch milliseconds (``ts INTEGER PRIMARY KEY``): one WITHOUT ROWID table keyed
by (tier, ts) measured 11 % larger for 31 columns and 59 % larger for a
120-column host, whose rows no longer fit an index b-tree cell. A tier's table is created when first used,
named after its resolution (``metric_history_10s``); the table of a tier that
is no longer configured is dropped at start.

Retention runs with every write (an indexed range delete per tier). Freed
pages are reused by later rows, so the file stops growing once a tier is
full; with ``auto_vacuum = INCREMENTAL`` :meth:`HistoryStore.maintain` also
gives them back to the file system. That mode can only be switched on by
rewriting the file (VACUUM): done once at start while the store is small,
which covers every new store; a big existing one keeps its size instead.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dashboard_core.metrics.tiers import STATS, Buckets, Tier, from_stats
from dashboard_core.store import Store

log = logging.getLogger(__name__)

DTYPE = np.dtype("<f4")  # what a value costs on disk: 4 bytes, whatever the machine
# One stored bucket: ts, layout, n, then the mean, min and max blobs (None for a stat not kept).
_Row = tuple[int, int, int, bytes | None, bytes | None, bytes | None]
LAYOUTS = "metric_layouts"
TABLE_PREFIX = "metric_history_"
CONVERT_MAX_BYTES = 32 * 2**20  # switch auto_vacuum on (a VACUUM) only below this size
VACUUM_STEP = 2_000  # pages freed per transaction, so other writers are not held up long
_AUTO_VACUUM_INCREMENTAL = 2


@dataclass(frozen=True, slots=True)
class TierRows:
    """Rows read from one tier: bucket starts, the union of their columns and a
    (rows x columns) float32 matrix per statistic (NaN where a row lacks one)."""

    start_ms: np.ndarray
    columns: list[str]
    stats: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.start_ms)


@dataclass(frozen=True, slots=True)
class StoreSize:
    page_size: int
    page_count: int
    freelist: int
    auto_vacuum: int

    @property
    def bytes(self) -> int:
        return self.page_size * self.page_count


class HistoryStore:
    """Reads and writes the tier tables; thread-safe through the Store's lock."""

    def __init__(self, store: Store, tiers: list[Tier]) -> None:
        self.store = store
        self.tiers = list(tiers)
        self._layout_ids: dict[tuple[str, ...], int] = {}
        self._layout_columns: dict[int, list[str]] = {}
        self._ready = False
        self._ready_lock = threading.Lock()

    # -- schema and upkeep ---------------------------------------------------------
    def ensure_tables(self) -> None:
        """Create the configured tiers' tables (idempotent, cheap after the first call)."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with self.store.transaction() as db:
                for tier in self.tiers:
                    db.execute(
                        f"CREATE TABLE IF NOT EXISTS {tier.table} ("
                        " ts INTEGER PRIMARY KEY,"  # bucket start, ms since the epoch (UTC)
                        " layout INTEGER NOT NULL,"  # metric_layouts.id: the blobs' column names
                        " n INTEGER NOT NULL,"  # samples in the bucket
                        " mean BLOB, min BLOB, max BLOB)"  # float32 little-endian per column; NULL if not kept
                    )
            self._ready = True

    def prepare(self, now_ms: int) -> None:
        """At start: tables, drop tiers no longer configured, auto_vacuum, retention."""
        self.ensure_tables()
        self._drop_unconfigured()
        self._enable_incremental_vacuum()
        self.enforce_retention(now_ms)
        self.maintain()

    def _drop_unconfigured(self) -> None:
        wanted = {t.table for t in self.tiers}
        rows = self.store.all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ESCAPE '\\'",
            (TABLE_PREFIX.replace("_", "\\_") + "%",),
        )
        for (name,) in rows:
            if name not in wanted:
                counted = self.store.one(f"SELECT count(*) FROM {name}")
                count = int(counted[0]) if counted else 0
                self.store.execute(f"DROP TABLE {name}")
                log.warning("Metric history: %s is no longer a configured tier; its %d rows were deleted", name, count)

    def _enable_incremental_vacuum(self) -> None:
        size = self.size()
        if size.auto_vacuum != 0:
            return
        if size.bytes > CONVERT_MAX_BYTES:
            log.info(
                "The store (%s, %.0f MB) was made without auto_vacuum: deleted history is reused but the file "
                "will not shrink. To let it shrink, stop the dashboard and run: "
                "sqlite3 %s 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM'",
                self.store.path,
                size.bytes / 1e6,
                self.store.path,
            )
            return
        self.store.execute("PRAGMA auto_vacuum = INCREMENTAL")
        self.store.execute("VACUUM")  # the only way to switch it on once tables exist
        self.store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        log.info("The store now gives the space of deleted history back (auto_vacuum = incremental)")

    def enforce_retention(self, now_ms: int) -> int:
        with self.store.transaction() as db:
            return self._retention(db, now_ms)

    def _retention(self, db: sqlite3.Connection, now_ms: int) -> int:
        deleted = 0
        for tier in self.tiers:
            deleted += db.execute(f"DELETE FROM {tier.table} WHERE ts < ?", (now_ms - tier.keep_ms,)).rowcount
        return deleted

    def maintain(self, min_free_bytes: int = 1 << 20) -> int:
        """Give free pages back to the file system (incremental vacuum) once there
        are at least ``min_free_bytes`` of them; the pages freed."""
        size = self.size()
        if size.auto_vacuum != _AUTO_VACUUM_INCREMENTAL or size.freelist * size.page_size < min_free_bytes:
            return 0
        freed = 0
        while freed < size.freelist:
            step = min(VACUUM_STEP, size.freelist - freed)
            with self.store.transaction() as db:
                # Python's sqlite3 steps a PRAGMA without result columns once, and each
                # step of incremental_vacuum frees one page: so one call per page.
                for _ in range(step):
                    db.execute("PRAGMA incremental_vacuum")
            freed += step
        self.store.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and the WAL back to empty
        return freed

    def size(self) -> StoreSize:
        def pragma(name: str) -> int:
            row = self.store.one(f"PRAGMA {name}")
            return int(row[0]) if row else 0

        return StoreSize(pragma("page_size"), pragma("page_count"), pragma("freelist_count"), pragma("auto_vacuum"))

    # -- writing -------------------------------------------------------------------
    def write(self, batches: Iterable[tuple[Tier, Buckets]], now_ms: int | None = None) -> int:
        """Write (insert or replace) every bucket of every batch and enforce
        retention, in one transaction: all of it lands, or none. Rows written."""
        self.ensure_tables()
        fresh: dict[tuple[str, ...], int] = {}
        written = 0
        with self.store.transaction() as db:
            for tier, buckets in batches:
                if len(buckets) == 0:
                    continue
                layout = self._layout_id(db, buckets.columns, fresh)
                db.executemany(
                    f"INSERT OR REPLACE INTO {tier.table} (ts, layout, n, mean, min, max) VALUES (?, ?, ?, ?, ?, ?)",
                    self._rows(tier, buckets, layout),
                )
                written += len(buckets)
            if now_ms is not None:
                self._retention(db, now_ms)
        # Only now: a rolled-back layout id must not stay in the cache.
        for columns, layout_id in fresh.items():
            self._layout_ids[columns] = layout_id
            self._layout_columns[layout_id] = list(columns)
        return written

    def _rows(self, tier: Tier, buckets: Buckets, layout: int) -> list[_Row]:
        packed = {s: buckets.stat(s).astype(DTYPE) if s in tier.stats else None for s in STATS}
        rows: list[_Row] = []
        for i, (ts, n) in enumerate(zip(buckets.start_ms.tolist(), buckets.n.tolist())):
            mean, low, high = (
                None if (kept := packed[s]) is None else kept[i].tobytes() for s in ("mean", "min", "max")
            )
            rows.append((ts, layout, n, mean, low, high))
        return rows

    def _layout_id(self, db: sqlite3.Connection, columns: list[str], fresh: dict[tuple[str, ...], int]) -> int:
        key = tuple(columns)
        known = self._layout_ids.get(key) or fresh.get(key)
        if known is not None:
            return known
        text = json.dumps(columns, separators=(",", ":"))
        row = db.execute(f"SELECT id FROM {LAYOUTS} WHERE columns = ?", (text,)).fetchone()
        if row:
            layout_id = int(row[0])
        else:
            inserted = db.execute(f"INSERT INTO {LAYOUTS} (columns) VALUES (?)", (text,)).lastrowid
            assert inserted is not None  # set by every INSERT
            layout_id = inserted
        fresh[key] = layout_id
        return layout_id

    # -- reading -------------------------------------------------------------------
    def read(self, tier: Tier, start_ms: int, end_ms: int, stats: Iterable[str] = ("mean",)) -> TierRows:
        """Rows with ``start_ms <= ts < end_ms``, oldest first."""
        self.ensure_tables()
        wanted = [s for s in STATS if s in set(stats)]
        rows = self.store.all(
            f"SELECT ts, layout, {', '.join(wanted)} FROM {tier.table} WHERE ts >= ? AND ts < ? ORDER BY ts",
            (start_ms, end_ms),
        )
        if not rows:
            return TierRows(np.empty(0, np.int64), [], {s: np.empty((0, 0), DTYPE) for s in wanted})
        cols = list(zip(*rows))
        start = np.array(cols[0], dtype=np.int64)
        layouts = np.array(cols[1], dtype=np.int64)
        runs = np.concatenate(([0], np.flatnonzero(np.diff(layouts)) + 1, [len(rows)]))
        names = self._columns_of(set(layouts.tolist()))
        union: dict[str, int] = {}
        for a in runs[:-1]:
            for c in names[int(layouts[a])]:
                union.setdefault(c, len(union))
        out = {s: np.full((len(rows), len(union)), np.nan, dtype=DTYPE) for s in wanted}
        for a, b in zip(runs[:-1].tolist(), runs[1:].tolist()):
            layout_cols = names[int(layouts[a])]
            where = [union[c] for c in layout_cols]
            for j, s in enumerate(wanted):
                out[s][a:b, where] = _unpack(cols[2 + j][a:b], len(layout_cols))
        return TierRows(start, list(union), out)

    def newest(self, tier: Tier) -> Buckets | None:
        """The newest row of a tier as a bucket (to merge a restart into it), or None."""
        self.ensure_tables()
        row = self.store.one(f"SELECT ts, layout, n, mean, min, max FROM {tier.table} ORDER BY ts DESC LIMIT 1")
        if row is None:
            return None
        columns = self._columns_of({int(row[1])})[int(row[1])]
        stats = {
            s: _unpack([blob], len(columns))[0] for s, blob in zip(("mean", "min", "max"), row[3:]) if blob is not None
        }
        return from_stats(columns, int(row[0]), int(row[2]), stats)

    def has_rows(self, tier: Tier, start_ms: int, end_ms: int) -> bool:
        self.ensure_tables()
        return (
            self.store.one(f"SELECT 1 FROM {tier.table} WHERE ts >= ? AND ts < ? LIMIT 1", (start_ms, end_ms))
            is not None
        )

    def count(self, tier: Tier) -> int:
        self.ensure_tables()
        row = self.store.one(f"SELECT count(*) FROM {tier.table}")
        return int(row[0]) if row else 0

    def span(self, tier: Tier) -> tuple[int, int] | None:
        """Oldest and newest bucket start (ms) of a tier, or None when empty."""
        self.ensure_tables()
        # Two subqueries: SQLite answers min() and max() from the key only one at a time.
        row = self.store.one(f"SELECT (SELECT min(ts) FROM {tier.table}), (SELECT max(ts) FROM {tier.table})")
        return None if row is None or row[0] is None else (int(row[0]), int(row[1]))

    def newest_start(self, tier: Tier, before_ms: int) -> int | None:
        """The newest bucket start (ms) before ``before_ms``, or None."""
        self.ensure_tables()
        row = self.store.one(f"SELECT max(ts) FROM {tier.table} WHERE ts < ?", (before_ms,))
        return None if row is None or row[0] is None else int(row[0])

    def oldest(self, tier: Tier) -> int | None:
        """The oldest bucket start (ms) of a tier, or None when empty."""
        self.ensure_tables()
        row = self.store.one(f"SELECT min(ts) FROM {tier.table}")
        return None if row is None or row[0] is None else int(row[0])

    def _columns_of(self, ids: set[int]) -> dict[int, list[str]]:
        missing = [i for i in ids if i not in self._layout_columns]
        if missing:
            marks = ",".join("?" * len(missing))
            for layout_id, text in self.store.all(f"SELECT id, columns FROM {LAYOUTS} WHERE id IN ({marks})", missing):
                self._layout_columns[int(layout_id)] = json.loads(text)
        return {i: self._layout_columns.get(i, []) for i in ids}


def _unpack(blobs: Sequence[bytes | None], width: int) -> np.ndarray:
    """Blobs of one layout as a (rows x width) float32 matrix; a missing or
    malformed blob (a stat not kept then, a damaged row) reads as NaN."""
    size = width * DTYPE.itemsize
    whole = [b for b in blobs if b is not None and len(b) == size]
    if len(whole) == len(blobs):
        return np.frombuffer(b"".join(whole), dtype=DTYPE).reshape(len(blobs), width)
    out = np.full((len(blobs), width), np.nan, dtype=DTYPE)
    for i, b in enumerate(blobs):
        if b is not None and len(b) == size:
            out[i] = np.frombuffer(b, dtype=DTYPE)
    return out
