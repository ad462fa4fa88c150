"""Long metric history: bucketing, the store's tier tables, the writer, and
reading across memory and the store.

Time is injected: samples carry chosen timestamps and the store is filled
with synthetic rows, so a 30-day window needs no waiting. One test runs the
real writer thread inside a started Runtime; tests/e2e/test_history_server.py
kills a real server while it writes.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core import store as store_module
from dashboard_core.api import create_api
from dashboard_core.config import Config, HistoryConfig, load_config
from dashboard_core.metrics import history_store as history_store_module
from dashboard_core.metrics.frame import RollingFrame
from dashboard_core.metrics.history_read import HistoryRead, HistoryReader
from dashboard_core.metrics.history_store import HistoryStore
from dashboard_core.metrics.history_writer import HistoryWriter
from dashboard_core.metrics.tiers import MAX_ROWS, Buckets, Tier, bucket, merge, pick_tier, tiers_of
from dashboard_core.metrics.windows import Window, resolve_window
from dashboard_core.store import Store
from tests.polling import wait_until

T0 = 1_800_000_000  # epoch seconds, a multiple of 60: bucket boundaries fall on it
NS = 1_000_000_000
TEN_S = Tier(10, 7, ("mean",))
ONE_MIN = Tier(60, 90, ("min", "mean", "max"))
DEFAULT = tiers_of(HistoryConfig().tiers)


def ns(seconds: float) -> int:
    return int(round(seconds * NS))


def utc(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(ns(seconds), unit="ns", tz="UTC")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(tmp_path / "dashboard.sqlite3")
    yield db
    db.close()


@pytest.fixture
def history(store: Store) -> HistoryStore:
    return HistoryStore(store, DEFAULT)


def synthetic(tier: Tier, start_s: float, end_s: float, columns: list[str], seed: int = 0) -> Buckets:
    """One bucket per ``tier.seconds`` in [start, end), built from one sample each
    (values exact in float32, so a round trip compares with ==)."""
    times = np.arange(start_s, end_s, tier.seconds)
    rng = np.random.default_rng(seed)
    values = np.round(rng.uniform(0, 100, (len(times), len(columns))) * 4) / 4
    return bucket((times * NS).astype(np.int64), values, columns, tier.ms)


def fill_frame(frame: RollingFrame, start_s: float, end_s: float, columns: list[str], step: float = 1.0) -> np.ndarray:
    """Append one sample per ``step`` seconds in [start, end); returns the values."""
    times = np.arange(start_s, end_s, step)
    values = np.column_stack([np.sin(times / (97 + 13 * j)) * 40 + 50 for j in range(len(columns))])
    for t, row in zip(times.tolist(), values.tolist()):
        frame.append(ns(t), dict(zip(columns, row)))
    return values


# -- bucketing -------------------------------------------------------------------------
def test_bucketing_means_min_max_and_nan_aware_counts() -> None:
    ts = np.array([ns(T0 + s) for s in (0, 1, 2, 9.999, 10, 15)])
    nan = np.nan
    values = np.array([[1, nan], [3, nan], [nan, nan], [5, nan], [7, nan], [nan, nan]], dtype=np.float64)
    b = bucket(ts, values, ["a", "b"], 10_000)
    assert b.start_ms.tolist() == [T0 * 1000, (T0 + 10) * 1000]
    assert b.n.tolist() == [4, 2]
    assert b.count.tolist() == [[3, 0], [1, 0]]  # a missing reading is not a zero
    np.testing.assert_array_equal(b.stat("mean"), [[3.0, nan], [7.0, nan]])
    np.testing.assert_array_equal(b.stat("min"), [[1.0, nan], [7.0, nan]])
    np.testing.assert_array_equal(b.stat("max"), [[5.0, nan], [7.0, nan]])


def test_a_bucket_filled_across_pulls_equals_one_pull_even_when_a_column_appears() -> None:
    rng = np.random.default_rng(3)
    ts = (T0 * NS + np.cumsum(rng.integers(200_000_000, 1_500_000_000, 300))).astype(np.int64)
    values = rng.normal(50, 20, (300, 3))
    values[rng.random((300, 3)) < 0.1] = np.nan
    values[:137, 2] = np.nan  # column c appears at row 137
    whole = bucket(ts, values, ["a", "b", "c"], 60_000)
    first = bucket(ts[:137], values[:137, :2], ["a", "b"], 60_000)  # the earlier pull never saw c
    parts = merge(merge(first, bucket(ts[137:200], values[137:200], ["a", "b", "c"], 60_000)), Buckets.empty())
    parts = merge(parts, bucket(ts[200:], values[200:], ["a", "b", "c"], 60_000))
    assert parts.columns == whole.columns and parts.start_ms.tolist() == whole.start_ms.tolist()
    assert parts.n.tolist() == whole.n.tolist() and parts.count.tolist() == whole.count.tolist()
    for stat in ("min", "mean", "max"):
        np.testing.assert_allclose(parts.stat(stat), whole.stat(stat), rtol=1e-12)


@pytest.mark.parametrize(
    ("window", "expected"),
    [(pd.Timedelta("15m"), None), (pd.Timedelta("6h"), None), (pd.Timedelta("3D"), 10), (pd.Timedelta("30D"), 60)],
)
def test_pick_tier_by_retention_and_rows(window: pd.Timedelta, expected: int | None) -> None:
    now_ms = T0 * 1000
    tier = pick_tier(now_ms - int(window.total_seconds() * 1000), window.total_seconds(), now_ms, DEFAULT)
    # The two short windows fit the 10 s tier too; whether memory serves them is the reader's call.
    assert tier.seconds == (expected or 10)
    assert window.total_seconds() / tier.seconds <= MAX_ROWS


def test_pick_tier_falls_back_to_the_longest_retention() -> None:
    now_ms = T0 * 1000
    year = 365 * 86400
    assert pick_tier(now_ms - year * 1000, year, now_ms, DEFAULT) is DEFAULT[1]  # older than any tier keeps


def test_pick_tier_prefers_a_tier_whose_data_reaches_the_start() -> None:
    now_ms = T0 * 1000
    start_ms = now_ms - 3 * 86_400_000
    three_days = 3 * 86400
    # The 10 s tier was added an hour ago; the 1 min tier has a month: a 3-day window reads 1 min.
    oldest = {DEFAULT[0]: now_ms - 3_600_000, DEFAULT[1]: now_ms - 30 * 86_400_000}
    assert pick_tier(start_ms, three_days, now_ms, DEFAULT, oldest) is DEFAULT[1]
    # A new install (both tiers began a day ago): the finest.
    oldest = {DEFAULT[0]: now_ms - 86_400_000, DEFAULT[1]: now_ms - 86_400_000}
    assert pick_tier(start_ms, three_days, now_ms, DEFAULT, oldest) is DEFAULT[0]
    assert pick_tier(start_ms, three_days, now_ms, DEFAULT, {}) is DEFAULT[0]  # nothing stored yet


def test_tier_names() -> None:
    assert [(t.table, t.label, t.token) for t in DEFAULT] == [
        ("metric_history_10s", "10 s", "10s"),
        ("metric_history_60s", "1 min", "1m"),
    ]
    assert Tier(1.5, 1, ("mean",)).table == "metric_history_1500ms"
    assert Tier(3600, 1, ("max",)).main_stat == "max"


# -- the store ---------------------------------------------------------------------------
def test_write_and_read_round_trip_exact_values(history: HistoryStore) -> None:
    columns = ["cpu.total", "memory.used", "disk.percent[/]"]
    mean_only = synthetic(TEN_S, T0, T0 + 600, columns, seed=1)
    with_extremes = synthetic(ONE_MIN, T0, T0 + 3600, columns, seed=2)
    assert history.write([(DEFAULT[0], mean_only), (DEFAULT[1], with_extremes)]) == 60 + 60
    got = history.read(DEFAULT[0], T0 * 1000, (T0 + 600) * 1000, ("mean", "min"))
    assert got.columns == columns and got.start_ms.tolist() == mean_only.start_ms.tolist()
    assert np.array_equal(got.stats["mean"], mean_only.stat("mean").astype(np.float32))
    assert np.isnan(got.stats["min"]).all()  # the 10 s tier keeps no min
    got = history.read(DEFAULT[1], T0 * 1000, (T0 + 3600) * 1000, ("min", "mean", "max"))
    for stat in ("min", "mean", "max"):
        assert np.array_equal(got.stats[stat], with_extremes.stat(stat).astype(np.float32))
    half = history.read(DEFAULT[1], (T0 + 600) * 1000, (T0 + 1200) * 1000)  # start inclusive, end exclusive
    assert half.start_ms.tolist() == [(T0 + 600 + 60 * i) * 1000 for i in range(10)]


def test_a_column_that_appears_gets_a_new_layout_and_old_rows_keep_theirs(history: HistoryStore, store: Store) -> None:
    before = synthetic(TEN_S, T0, T0 + 100, ["cpu.total", "nic.recv[eth0]"], seed=4)
    after = synthetic(TEN_S, T0 + 100, T0 + 200, ["cpu.total", "nic.recv[eth0]", "nic.recv[usb0]"], seed=5)
    history.write([(DEFAULT[0], before)])
    history.write([(DEFAULT[0], after)])
    history.write([(DEFAULT[0], after)])  # the same layout again: no third one
    layouts = [json.loads(r[0]) for r in store.all("SELECT columns FROM metric_layouts ORDER BY id")]
    assert layouts == [["cpu.total", "nic.recv[eth0]"], ["cpu.total", "nic.recv[eth0]", "nic.recv[usb0]"]]
    got = history.read(DEFAULT[0], T0 * 1000, (T0 + 200) * 1000)
    assert got.columns == ["cpu.total", "nic.recv[eth0]", "nic.recv[usb0]"]
    mean = got.stats["mean"]
    assert np.array_equal(mean[:10, :2], before.stat("mean").astype(np.float32))
    assert np.isnan(mean[:10, 2]).all()  # usb0 did not exist yet
    assert np.array_equal(mean[10:], after.stat("mean").astype(np.float32))
    # A reader that never saw the layouts (another process) reads them from the table.
    assert HistoryStore(store, DEFAULT).read(DEFAULT[0], T0 * 1000, (T0 + 200) * 1000).columns == got.columns


def test_a_failed_flush_writes_nothing_and_the_next_one_writes_it_all(
    history: HistoryStore, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = RollingFrame(1000)
    writer = HistoryWriter(history, frame, flush_seconds=10, sample_interval=1, clock=lambda: T0 + 300)
    fill_frame(frame, T0, T0 + 300, ["cpu.total", "new.column"])
    real_rows = HistoryStore._rows

    def fail_on_the_second_tier(self: HistoryStore, tier: Tier, buckets: Buckets, layout: int) -> list[tuple]:
        if tier is DEFAULT[1]:
            raise sqlite3.OperationalError("disk I/O error (injected)")
        return real_rows(self, tier, buckets, layout)

    monkeypatch.setattr(HistoryStore, "_rows", fail_on_the_second_tier)
    writer.tick(flush=True)
    assert writer.status.last_error == "OperationalError: disk I/O error (injected)"
    # The 10 s tier's rows and the new layout were in the same transaction: gone too.
    assert [history.count(t) for t in DEFAULT] == [0, 0]
    assert store.all("SELECT * FROM metric_layouts") == []
    monkeypatch.setattr(HistoryStore, "_rows", real_rows)
    writer.tick(flush=True)
    assert writer.status.last_error is None
    assert [history.count(t) for t in DEFAULT] == [30, 5]  # nothing was lost: the buckets were kept
    assert json.loads(store.one("SELECT columns FROM metric_layouts")[0]) == ["cpu.total", "new.column"]


def test_a_restart_inside_a_bucket_merges_into_the_stored_row(store: Store) -> None:
    columns = ["cpu.total"]
    first_frame = RollingFrame(1000)
    first = HistoryWriter(HistoryStore(store, [ONE_MIN]), first_frame, flush_seconds=10, sample_interval=1)
    values = fill_frame(first_frame, T0, T0 + 25, columns)  # 25 samples of the bucket at T0...
    first.tick(flush=True)  # ...flushed, then the process dies
    second_frame = RollingFrame(1000)
    second = HistoryWriter(HistoryStore(store, [ONE_MIN]), second_frame, flush_seconds=10, sample_interval=1)
    more = fill_frame(second_frame, T0 + 30, T0 + 70, columns)  # the new process, 5 s later
    second.tick(flush=True)
    got = HistoryStore(store, [ONE_MIN]).read(ONE_MIN, T0 * 1000, (T0 + 120) * 1000, ("min", "mean", "max"))
    both = np.concatenate([values[:, 0], more[:30, 0]])
    assert got.start_ms.tolist() == [T0 * 1000, (T0 + 60) * 1000]
    assert store.one(f"SELECT n FROM {ONE_MIN.table} WHERE ts = ?", (T0 * 1000,))[0] == 55
    assert got.stats["mean"][0, 0] == pytest.approx(both.mean(), rel=1e-6)
    assert got.stats["min"][0, 0] == np.float32(both.min()) and got.stats["max"][0, 0] == np.float32(both.max())
    assert got.stats["mean"][1, 0] == pytest.approx(more[30:, 0].mean(), rel=1e-6)


def test_a_tier_no_longer_configured_is_dropped(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    old = HistoryStore(store, [Tier(30, 1, ("mean",)), *DEFAULT])
    old.write([(old.tiers[0], synthetic(old.tiers[0], T0, T0 + 300, ["cpu.total"]))])
    with caplog.at_level(logging.WARNING):
        HistoryStore(store, DEFAULT).prepare(T0 * 1000)
    tables = {r[0] for r in store.all("SELECT name FROM sqlite_master WHERE name LIKE 'metric_history_%'")}
    assert tables == {"metric_history_10s", "metric_history_60s"}
    assert "metric_history_30s is no longer a configured tier; its 10 rows were deleted" in caplog.text


# -- retention and size --------------------------------------------------------------------
def _bytes_per_row(columns: int, stats: int) -> int:
    """What a row costs at most: the blobs, a dozen bytes of key and counters, the
    record and cell headers (~10), and a b-tree page left ~3/4 full at worst."""
    return int((columns * 4 * stats + 12 + 10) / 0.75)


def test_retention_deletes_old_rows_and_the_file_stays_bounded(history: HistoryStore) -> None:
    tier = Tier(10, 0.5, ("mean",))  # half a day of 10 s rows
    history = HistoryStore(history.store, [tier])
    history.prepare(T0 * 1000)
    empty = history.size().bytes
    columns = [f"c{i}" for i in range(31)]
    hour = 3600
    for h in range(48):  # two days, an hour per flush, retention with each
        start = T0 + h * hour
        history.write([(tier, synthetic(tier, start, start + hour, columns, seed=h))], (start + hour) * 1000)
    now_s = T0 + 48 * hour
    kept = int(tier.keep_days * 86400 / tier.seconds)
    assert history.count(tier) == kept
    oldest, newest = history.span(tier)
    assert oldest == (now_s - tier.keep_days * 86400) * 1000 and newest == (now_s - 10) * 1000
    # Deleted pages are reused: the file holds about half a day (plus one flush), not two days.
    bound = empty + (kept + 360) * _bytes_per_row(31, 1)
    assert history.size().bytes <= bound
    assert history.size().bytes < 48 * 360 * 31 * 4  # what two days of blobs alone would take
    history.store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert history.store.path.stat().st_size <= bound


def test_incremental_vacuum_gives_deleted_history_back(history: HistoryStore) -> None:
    history.prepare(T0 * 1000)
    assert history.size().auto_vacuum == 2  # incremental, switched on for a new store
    empty = history.size().bytes
    columns = [f"c{i}" for i in range(31)]
    history.write([(TEN_S, synthetic(TEN_S, T0, T0 + 86400, columns))])
    full = history.size()
    assert full.bytes >= 8640 * 31 * 4
    # Ten days later every row is past the 7 days the 10 s tier keeps.
    assert history.enforce_retention((T0 + 10 * 86400) * 1000) == 8640
    freed = history.size()
    assert freed.page_count == full.page_count and freed.freelist * freed.page_size >= 8640 * 31 * 4
    assert history.maintain() == freed.freelist
    after = history.size()
    assert after.freelist == 0 and after.bytes <= empty + 4 * after.page_size
    assert history.store.path.stat().st_size == after.bytes  # the WAL checkpointed, the file truncated


def test_an_existing_store_gets_incremental_vacuum_when_small_and_is_left_alone_when_big(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    migrations = store_module.MIGRATIONS
    for name, limit, expected in (("small", 32 * 2**20, 2), ("big", 0, 0)):
        path = tmp_path / name / "dashboard.sqlite3"
        monkeypatch.setattr(store_module, "MIGRATIONS", migrations[:3])  # a store of the previous version
        old = Store(path)
        old.execute("INSERT INTO events (at, kind, severity, source, message) VALUES (0, 'x', 'info', 't', 'kept')")
        assert (old.version, old.one("PRAGMA auto_vacuum")[0]) == (3, 0)
        old.close()
        monkeypatch.setattr(store_module, "MIGRATIONS", migrations)
        monkeypatch.setattr(history_store_module, "CONVERT_MAX_BYTES", limit)
        store = Store(path)
        assert store.version == len(migrations)
        with caplog.at_level(logging.INFO):
            HistoryStore(store, DEFAULT).prepare(T0 * 1000)
        assert store.one("PRAGMA auto_vacuum")[0] == expected
        assert store.one("SELECT message FROM events")[0] == "kept"
        assert store.one("PRAGMA integrity_check")[0] == "ok"
        store.close()
    assert "will not shrink" in caplog.text


# -- reading across memory and the store ---------------------------------------------------------
def dtype_of(column: str) -> str:
    return "float64" if column == "memory.used" else "float32"  # as the field table says


def history_of_3_hours(
    store: Store, restart_at: float | None = None, stall_at: float | None = None
) -> tuple[RollingFrame, np.ndarray, np.ndarray]:
    """Three hours of 1 s samples, written through the writer a minute at a time
    into a frame that holds only the last hour (older samples leave memory).
    With ``restart_at``, the process dies there: a new, empty frame and writer.
    With ``stall_at``, no flush succeeds from then on (a full disk).
    Returns the frame now in memory, and every sample's time and values."""
    columns = ["cpu.total", "memory.used"]
    frame = RollingFrame(3600, dtype_of=dtype_of)
    writer = HistoryWriter(HistoryStore(store, DEFAULT), frame, flush_seconds=60, sample_interval=1)
    times, values = [], []
    for minute in range(180):
        start = T0 + minute * 60
        if restart_at is not None and start == restart_at:
            frame = RollingFrame(3600, dtype_of=dtype_of)
            writer = HistoryWriter(HistoryStore(store, DEFAULT), frame, flush_seconds=60, sample_interval=1)
        step = np.arange(start, start + 60, 1.0)
        values.append(fill_frame(frame, start, start + 60, columns))
        times.append(step)
        writer.tick(flush=stall_at is None or start < stall_at)
    return frame, np.concatenate(times), np.concatenate(values)


@pytest.mark.parametrize(
    ("restart_at", "stall_at"),
    [(None, None), (T0 + 150 * 60, None), (None, T0 + 140 * 60)],
    ids=["one process", "restarted 30 min ago", "no flush for 40 min"],
)
def test_a_window_across_store_and_memory_has_no_seam(
    store: Store, restart_at: float | None, stall_at: float | None
) -> None:
    frame, times, values = history_of_3_hours(store, restart_at, stall_at)
    now = T0 + 180 * 60
    reader = HistoryReader(frame, HistoryStore(store, DEFAULT), sample_interval=1, dtype_of=dtype_of, clock=lambda: now)
    read = reader.read(Window(utc(T0 + 1800), utc(now - 1)))  # 2.5 h: memory holds only the last hour
    assert read.tier is DEFAULT[0] and read.sources == ("store", "memory")
    index = read.frame.index
    assert index.is_monotonic_increasing and index.is_unique
    assert (np.diff(index.asi8) == 10 * NS).all()  # contiguous: every 10 s bucket once, no gap at the seam
    assert index[0] == utc(T0 + 1800) and index[-1] == utc(now - 10)
    expected = bucket((times * NS).astype(np.int64), values, ["cpu.total", "memory.used"], 10_000)
    first = int((T0 + 1800 - T0) / 10)
    want = pd.DataFrame(expected.stat("mean")[first:], columns=expected.columns, index=index)
    # float32 on disk for the older part; the float64 column keeps its dtype.
    assert read.frame.dtypes.astype(str).tolist() == ["float32", "float64"]
    pd.testing.assert_frame_equal(read.frame.astype(np.float64), want, check_exact=False, rtol=1e-6)


def test_the_reader_picks_the_resolution_by_the_window(store: Store) -> None:
    now = T0 + 40 * 86400
    columns = ["cpu.total", "memory.percent"]
    history = HistoryStore(store, DEFAULT)
    history.write([(DEFAULT[0], synthetic(DEFAULT[0], now - 7 * 86400, now - 7 * 3600, columns))])
    history.write([(DEFAULT[1], synthetic(DEFAULT[1], now - 40 * 86400, now - 7 * 3600, columns))])
    frame = RollingFrame(8 * 3600)
    fill_frame(frame, now - 7 * 3600, now, columns)  # memory: the last 7 hours at 1 s
    reader = HistoryReader(frame, history, sample_interval=1, clock=lambda: now)

    def read(span: str) -> HistoryRead:
        return reader.read(resolve_window(span, now=utc(now)), extremes=True)

    for span, resolution, sources, rows in (
        ("15m", "full", ("memory",), 900),
        ("6h", "full", ("memory",), 6 * 3600),
        ("3d", "10 s", ("store", "memory"), 3 * 8640),
        ("30d", "1 min", ("store", "memory"), 30 * 1440),
    ):
        got = read(span)
        assert (got.resolution, got.sources, len(got.frame)) == (resolution, sources, rows), span
    month = read("30d")
    assert month.token == "1m" and month.description == (
        "1-minute means from the store and memory. The CSV adds each bucket's min and max."
    )
    csv = month.csv_frame()
    assert list(csv.columns) == [*columns, "cpu.total:min", "memory.percent:min", "cpu.total:max", "memory.percent:max"]
    assert (csv["cpu.total:min"] <= csv["cpu.total"]).all() and (csv["cpu.total"] <= csv["cpu.total:max"]).all()
    assert read("15m").description == "Every sample (full resolution, 1 s), from memory."


def test_memory_alone_is_full_resolution_while_the_store_has_nothing_older(store: Store) -> None:
    frame = RollingFrame(3600)
    fill_frame(frame, T0, T0 + 600, ["cpu.total"])  # a new install: 10 minutes so far
    history = HistoryStore(store, DEFAULT)
    writer = HistoryWriter(history, frame, flush_seconds=10, sample_interval=1, clock=lambda: T0 + 600)
    writer.tick(flush=True)  # the store holds those same 10 minutes
    reader = HistoryReader(frame, history, sample_interval=1, clock=lambda: T0 + 600)
    read = reader.read(resolve_window("15m", now=utc(T0 + 600)))
    assert read.resolution == "full" and len(read.frame) == 600


def test_before_the_first_flush_a_long_window_shows_what_memory_holds(store: Store) -> None:
    frame = RollingFrame(3600)
    values = fill_frame(frame, T0 + 30, T0 + 100, ["cpu.total"])  # started mid-minute, nothing stored yet
    reader = HistoryReader(frame, HistoryStore(store, DEFAULT), sample_interval=1, clock=lambda: T0 + 100)
    read = reader.read(resolve_window("30d", now=utc(T0 + 100)))
    assert (read.resolution, read.sources) == ("1 min", ("memory",))
    assert read.frame.index.tolist() == [utc(T0), utc(T0 + 60)]  # the first minute too, partly held
    np.testing.assert_allclose(read.frame["cpu.total"], [values[:30, 0].mean(), values[30:, 0].mean()], rtol=1e-6)


def test_the_chart_frame_draws_a_gap_where_the_server_was_down(store: Store) -> None:
    history = HistoryStore(store, DEFAULT)
    history.write([(DEFAULT[1], synthetic(DEFAULT[1], T0, T0 + 3600, ["cpu.total"]))])
    history.write([(DEFAULT[1], synthetic(DEFAULT[1], T0 + 5 * 3600, T0 + 6 * 3600, ["cpu.total"]))])
    reader = HistoryReader(RollingFrame(10), history, sample_interval=1, clock=lambda: T0 + 6 * 3600)
    read = reader.read(Window(utc(T0), utc(T0 + 6 * 3600)))
    assert read.tier is DEFAULT[1]  # the 10 s tier would fit, but holds nothing of these hours
    chart = read.chart_rows()
    assert len(chart) == len(read.frame) + 1
    (at,) = np.flatnonzero(chart.ts_ns == (T0 + 3600) * NS)  # one empty row, in time order
    assert np.isnan(chart.column("cpu.total")[at]) and (np.diff(chart.ts_ns) > 0).all()


# -- the Runtime, the API and the alert rules ------------------------------------------------------
@pytest.fixture
def history_config(write_config: Callable[[str], Path]) -> Config:
    return load_config(
        write_config(
            """
[sampler]
interval_seconds = 0.1
history_hours = 1

[history]
flush_seconds = 1
"""
        )
    )


def test_the_csv_and_its_header_say_the_resolution(history_config: Config) -> None:
    rt = runtime_module.Runtime(history_config)
    now = pd.Timestamp.now(tz="UTC").floor("min").value // NS
    columns = ["cpu.total", "memory.used"]
    rt.history_store.write([(DEFAULT[1], synthetic(DEFAULT[1], now - 30 * 86400, now - 3600, columns))])
    for _ in range(3):
        rt.sampler.sample_once()
    with TestClient(create_api(lambda: rt)) as client:
        month = client.get("/metrics/history.csv", params={"window": "30d"})
        recent = client.get("/metrics/history.csv", params={"window": "15m"})
    assert month.status_code == 200 and month.headers["x-resolution"] == "1m"
    df = pd.read_csv(io.BytesIO(month.content))
    # timestamp, the means under the usual names, then every column's min, then every max
    means = [c for c in df.columns[1:] if ":" not in c]
    assert {"cpu.total", "memory.used"} <= set(means)
    assert list(df.columns) == ["timestamp", *means, *(f"{c}:min" for c in means), *(f"{c}:max" for c in means)]
    assert len(df) == int(month.headers["x-rows"]) >= 30 * 1440 - 61  # the last hour: memory's 3 samples
    assert not df["timestamp"].str.startswith("#").any()  # no comments in the body
    assert recent.headers["x-resolution"] == "full"
    assert ":min" not in recent.text.splitlines()[0]
    rt.store.close()


def test_alert_rules_keep_reading_every_sample_from_memory(history_config: Config) -> None:
    rt = runtime_module.Runtime(history_config)
    now = pd.Timestamp.now(tz="UTC").floor("min").value // NS
    rt.history_store.write([(DEFAULT[0], synthetic(DEFAULT[0], now - 3600, now, ["cpu.total"]))])
    for _ in range(3):
        rt.sampler.sample_once()
    window = resolve_window("1h")
    assert rt.read_history(window).resolution == "10 s"  # the page would show the store's buckets...
    start_ns, end_ns = pd.Timestamp(window.start).value, pd.Timestamp(window.end).value
    rules_see = runtime_module._AlertInputs(rt).samples(start_ns, end_ns)
    samples = rt.frame.to_frame(window.start, window.end)  # ...rules see every sample, from memory
    assert rules_see.columns == list(samples.columns) and len(rules_see) == len(samples) == 3
    assert (rules_see.ts_ns == samples.index.as_unit("ns").asi8).all()
    np.testing.assert_array_equal(rules_see.values, samples.to_numpy(dtype=np.float64))
    rt.store.close()


def test_a_running_runtime_writes_history_on_its_own_and_at_stop(history_config: Config) -> None:
    with runtime_module.running(history_config) as rt:
        wait_until(lambda: rt.history_writer.status.flushes >= 2, 30, "two flushes by the writer thread")
        assert rt.history_writer.alive and rt.history_writer.status.last_error is None
        assert rt.history_store.count(DEFAULT[0]) >= 1
    newest_sample = rt.frame.span()[1]
    reopened = Store(history_config.data_dir / "dashboard.sqlite3")
    history = HistoryStore(reopened, DEFAULT)
    _, newest_bucket = history.span(DEFAULT[0])
    assert newest_bucket == DEFAULT[0].floor_ms(int(newest_sample.value // 1_000_000))  # the stop wrote the last one
    reopened.close()
