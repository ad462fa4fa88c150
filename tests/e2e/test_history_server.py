"""A real server writing metric history to its store, killed with SIGKILL while
it flushes every second: the store opens whole, has lost at most the last
flush, and the next server on the same data folder serves the old history
next to the new (read across the store and memory)."""

from __future__ import annotations

import io
import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pandas as pd

from tests.e2e.conftest import SAMPLE_INTERVAL, launch_server
from tests.polling import wait_until

FLUSH_SECONDS = 1.0
FINEST = 1.0  # seconds per bucket of the finest tier
EXTRA = f"""
[history]
flush_seconds = {FLUSH_SECONDS:g}

[[history.tiers]]
seconds = {FINEST:g}
keep_days = 1

[[history.tiers]]
seconds = 5
keep_days = 2
stats = ["min", "mean", "max"]
"""
FINEST_TABLE = "metric_history_1s"


def query(db_path: Path, sql: str) -> list[tuple]:
    """A short read of the store from outside the server (WAL: it never waits for the writer)."""
    with closing(sqlite3.connect(db_path, timeout=10)) as db:
        return db.execute(sql).fetchall()


def newest_bucket(db_path: Path) -> float:
    """The start of the newest finest bucket, in epoch seconds (0 while there is none)."""
    try:
        (ms,) = query(db_path, f"SELECT max(ts) FROM {FINEST_TABLE}")[0]
    except sqlite3.OperationalError:  # the table is made at the writer's first flush
        return 0.0
    return (ms or 0) / 1000


def test_sigkill_while_flushing_keeps_the_store_whole_and_the_history_is_served_after_a_restart(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "server"
    db_path = directory / "data" / "dashboard.sqlite3"
    first = launch_server(directory, EXTRA)
    try:
        started = time.time()
        wait_until(lambda: newest_bucket(db_path) >= started, 30, "the first flushes of metric history")
        seen = newest_bucket(db_path)
        wait_until(lambda: newest_bucket(db_path) > seen + 2, 30, "a few more flushes")
        killed_at = time.time()
        first.proc.send_signal(signal.SIGKILL)  # no shutdown, no last flush: a crash
        first.proc.wait(30)
    finally:
        first.stop()

    assert query(db_path, "PRAGMA integrity_check") == [("ok",)]
    lost = killed_at - newest_bucket(db_path)
    # At most a flush interval, plus the bucket and the sample the last flush was still in.
    assert 0 <= lost <= FLUSH_SECONDS + FINEST + SAMPLE_INTERVAL + 1.0, f"{lost:.2f} s lost"
    stored = query(db_path, f"SELECT count(*), min(ts) FROM {FINEST_TABLE}")[0]
    assert stored[0] >= 3 and query(db_path, "SELECT count(*) FROM metric_history_5s")[0][0] >= 1

    second = launch_server(directory, EXTRA)
    try:
        restarted_at = time.time()
        window = f"{int(time.time() - stored[1] / 1000) + 5}s"  # from before the first bucket until now
        with second.client() as client:
            response = client.get("/api/metrics/history.csv", params={"window": window})
    finally:
        second.stop()
    assert response.status_code == 200, response.text
    assert response.headers["x-resolution"] == "1s"  # memory began at the restart: the store's 1 s tier
    df = pd.read_csv(io.BytesIO(response.content))
    stamps = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    assert stamps.is_monotonic_increasing and stamps.is_unique
    before = stamps[stamps < pd.Timestamp(killed_at, unit="s", tz="UTC")]
    assert len(before) >= stored[0] - 1  # the first server's history, as stored
    assert before.iloc[0] == pd.Timestamp(stored[1], unit="ms", tz="UTC")
    assert (stamps > pd.Timestamp(restarted_at - 30, unit="s", tz="UTC")).any()  # and the new server's own
    assert df.loc[stamps < pd.Timestamp(killed_at, unit="s", tz="UTC"), "cpu.total"].notna().sum() >= 2
