"""Process snapshots in a real store file: the compact form reads back what was
kept, retention deletes old batches, a damaged or missing blob is a note, and a
store that refuses writes keeps the snapshots in memory until it takes them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard_core.config import Config
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.frame import RollingFrame
from dashboard_core.metrics.process_snapshots import TABLE, ProcessSnapshots, keep_seconds, pick
from dashboard_core.metrics.processes import ProcessRow
from dashboard_core.metrics.sampler import Sampler
from dashboard_core.metrics.snapshot_codec import Scan, SnapshotDamaged, decode, encode
from dashboard_core.store import Store
from dashboard_core.timeline.moment import ProcessMoment, moment_at

GIB = 2**30
NOW = 1_790_000_000.0  # epoch seconds: 2026-09-21
TOTAL = 16 * GIB


def row(pid: int, cpu: float, rss_mib: int, name: str = "") -> ProcessRow:
    rss = float(rss_mib * 2**20)
    return ProcessRow(pid, name or f"proc{pid}", "alice", cpu, rss, rss / TOTAL * 100, "")


def table_at(second: int) -> list[ProcessRow]:
    """A process table: 30 processes, CPU and memory varying with time."""
    return [row(pid, cpu=(pid * 7 + second) % 50 / 3, rss_mib=pid * 10 + second % 3) for pid in range(1, 31)]


def keeper(store: Store, *, keep_seconds: float = 7 * 86_400, now: list[float] | None = None) -> ProcessSnapshots:
    clock = now or [NOW + 3600]  # what the store's clock says: an hour after the scans, unless told
    return ProcessSnapshots(
        store,
        top_n=5,
        keep_seconds=keep_seconds,
        batch_seconds=60,  # a row per minute: 12 scans at 5 s
        clock=lambda: clock[0],
        cmdline=lambda pid: f"/bin/proc {pid}",
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "dashboard.sqlite3")
    s.open()
    yield s
    s.close()


def record_seconds(snaps: ProcessSnapshots, seconds: range) -> None:
    for s in seconds:
        snaps.record(int((NOW + s) * 1e9), table_at(s))


def moment(snaps: ProcessSnapshots, store: Store, at: float) -> ProcessMoment:
    when = datetime.fromtimestamp(at, UTC)
    return moment_at(snaps, store, when, scan_interval=5, top_n=5, now=datetime.fromtimestamp(snaps.clock(), UTC))


def test_a_batch_reads_back_what_each_scan_kept() -> None:
    scans = [
        Scan(1000 + 5000 * i, float(TOTAL), tuple(pick(table_at(5 * i), 5))) for i in range(12)
    ]  # the union of top 5 by CPU and top 5 by memory, as recorded
    back = decode(encode(scans))
    assert [s.ts_ms for s in back] == [s.ts_ms for s in scans]
    for kept, read in zip(scans, back):  # the rows of a scan in any order
        assert read.total_memory == kept.total_memory
        kept_rows, read_rows = (sorted(s.rows, key=lambda r: r.pid) for s in (kept, read))
        assert [(r.pid, r.name, r.user, r.rss, r.cmdline) for r in read_rows] == [
            (r.pid, r.name, r.user, r.rss, r.cmdline) for r in kept_rows
        ]
        assert [r.cpu_percent for r in read_rows] == pytest.approx([r.cpu_percent for r in kept_rows], abs=0.05)
        assert [r.memory_percent for r in read_rows] == pytest.approx([r.memory_percent for r in kept_rows])


@pytest.mark.parametrize(
    ("blob", "reason"),
    [(b"", "unknown format"), (b"PS1\nnot zlib", "damaged process snapshot"), (b"garbage", "unknown format")],
)
def test_a_blob_that_is_not_a_snapshot_is_refused_with_its_reason(blob: bytes, reason: str) -> None:
    with pytest.raises(SnapshotDamaged, match=reason):
        decode(blob)


def test_a_truncated_blob_is_refused() -> None:
    blob = encode([Scan(0, float(TOTAL), tuple(table_at(0)))])
    with pytest.raises(SnapshotDamaged):
        decode(blob[:-5])


def test_the_top_by_cpu_and_by_memory_are_found_at_their_moment_from_the_store(store: Store) -> None:
    snaps = keeper(store)
    record_seconds(snaps, range(0, 120, 5))  # two minutes: one batch sealed, one filling
    assert snaps.flush(seal=True) == 2
    assert snaps._held() == []  # all written: what follows is read from the file
    got = moment(snaps, store, NOW + 62)
    assert got.at == datetime.fromtimestamp(NOW + 60, UTC) and got.note == ""
    expected = table_at(60)
    assert [p.pid for p in got.by_cpu] == [r.pid for r in sorted(expected, key=lambda r: -r.cpu_percent)[:5]]
    assert [p.pid for p in got.by_memory] == [30, 29, 28, 27, 26]
    assert got.by_memory[0].cmdline == "/bin/proc 30"
    assert got.by_memory[0].rss == int(expected[29].rss)


def test_a_moment_without_a_scan_close_before_it_says_why(store: Store) -> None:
    snaps = keeper(store)
    record_seconds(snaps, range(0, 15, 5))
    record_seconds(snaps, range(600, 615, 5))  # ten minutes later: the dashboard was down between
    snaps.flush(seal=True)
    gap = moment(snaps, store, NOW + 300)
    assert gap.at is None and gap.by_cpu == [] and gap.by_memory == []
    assert "No process snapshot within 10 s before" in gap.note
    assert "the last one before it is from 2026-09-21 " in gap.note and "the next from 2026-09-21 " in gap.note
    assert "not running" in gap.note
    before = moment(snaps, store, NOW - 60)
    assert "is before the first process snapshot" in before.note
    future = moment(snaps, store, NOW + 86_400)
    assert "is in the future" in future.note


def test_retention_deletes_batches_older_than_the_10s_tier_keeps(store: Store) -> None:
    clock = [NOW]
    snaps = keeper(store, keep_seconds=3600, now=clock)
    record_seconds(snaps, range(0, 180, 5))  # three minutes
    snaps.flush(seal=True)
    assert snaps.count() == 3
    clock[0] = NOW + 2 * 3600  # two hours later: past the retention of one hour
    record_seconds(snaps, range(7200, 7260, 5))
    snaps.flush(seal=True)
    stored = store.all(f"SELECT ts FROM {TABLE}")
    assert [r[0] for r in stored] == [round((NOW + 7200) * 1000)]
    old = moment(snaps, store, NOW + 60)
    assert old.at is None and "is older than process snapshots are kept (1 h 0 min" in old.note


@pytest.mark.parametrize("data", [b"", b"\x00" * 40, b"PS1\n\x78\x9c broken"])
def test_a_damaged_row_is_a_note_not_an_error(store: Store, data: bytes) -> None:
    snaps = keeper(store)
    record_seconds(snaps, range(0, 60, 5))
    snaps.flush(seal=True)
    with closing(sqlite3.connect(store.path, isolation_level=None)) as other:
        other.execute(f"UPDATE {TABLE} SET data = ?", (data,))
    got = moment(snaps, store, NOW + 30)
    assert got.at is None
    assert "The process snapshots stored for 2026-09-21 " in got.note and "cannot be read" in got.note


def test_a_store_that_refuses_writes_keeps_them_in_memory_until_it_takes_them(store: Store) -> None:
    snaps = keeper(store)
    record_seconds(snaps, range(0, 65, 5))  # a batch sealed
    store.execute("PRAGMA query_only = 1")  # every write now fails: SQLITE_READONLY
    snaps.tick()  # never raises
    assert "readonly" in (snaps.status.last_error or "")
    record_seconds(snaps, range(65, 130, 5))  # recording goes on
    snaps.tick(seal=True)
    assert snaps.count() == 0
    assert moment(snaps, store, NOW + 30).at == datetime.fromtimestamp(NOW + 30, UTC)  # from memory
    store.execute("PRAGMA query_only = 0")
    snaps.tick()
    assert snaps.status.last_error is None and snaps.count() == 3 and snaps._held() == []
    assert moment(snaps, store, NOW + 125).at == datetime.fromtimestamp(NOW + 125, UTC)  # from the file


@pytest.mark.parametrize(
    ("history", "days"),
    [
        ({}, 7.0),  # the default 10 s tier
        ({"tiers": [{"seconds": 5, "keep_days": 2}, {"seconds": 10, "keep_days": 3}]}, 3.0),
        ({"tiers": [{"seconds": 30, "keep_days": 4}, {"seconds": 60, "keep_days": 30}]}, 4.0),  # the finest
        ({"enabled": False}, 0.5),  # as long as the charts reach back: sampler.history_hours
    ],
)
def test_snapshots_are_kept_as_long_as_the_10s_tier(history: dict[str, object], days: float) -> None:
    config = Config(sampler={"history_hours": 12}, history=history)
    assert keep_seconds(config) == days * 86_400


def test_a_scan_listener_that_fails_stops_neither_the_scans_nor_the_other_listeners() -> None:
    sampler = Sampler([], RollingFrame(10), FieldTable([]), interval=0.1, process_interval=0)
    seen: list[tuple[int, int]] = []

    def broken(ts_ns: int, rows: list[ProcessRow]) -> None:
        raise RuntimeError("boom")

    sampler.scan_listeners += [broken, lambda ts_ns, rows: seen.append((ts_ns, len(rows)))]
    sampler.sample_once()
    sampler.sample_once()
    assert sampler.status.scans == 2 and len(seen) == 2
    assert seen[0][1] > 0 and seen[1][0] >= seen[0][0]  # the real process table, at the scan's time
