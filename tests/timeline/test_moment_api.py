"""``GET /api/metrics/processes/at``: a real Runtime scanning the real process
table, with a process burning CPU and another holding memory; both are found
in the snapshot of their moment, read back from the store file. What ran then
(a test run) is listed; a bad time is a 400; a damaged row is a note; a store
that refuses writes stops neither the sampler nor the snapshots."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import Config, load_config
from dashboard_core.metrics.process_snapshots import TABLE
from dashboard_core.metrics.snapshot_codec import Scan
from dashboard_core.models import Trigger
from dashboard_core.runtime import Runtime
from tests.polling import wait_until

HELD = 300 * 2**20  # what the memory holder touches
BURN = "print('ready', flush=True)\nwhile True:\n    pass\n"
HOLD = textwrap.dedent(
    f"""
    import sys
    block = bytearray({HELD})
    for i in range(0, len(block), 4096):
        block[i] = 1
    print("ready", flush=True)
    sys.stdin.read()
    """
)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def config(write_config: Callable[[str], Path], tmp_path: Path) -> Config:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_quick.py").write_text("def test_quick():\n    pass\n")
    q = json.dumps
    return load_config(
        write_config(
            f"""
[sampler]
interval_seconds = 0.2
history_hours = 1
process_interval_seconds = 1
top_n = 200  # every process this test starts is in the lists, however busy the machine

[storage]
data_dir = {q(str(tmp_path / "data"))}

[[suites]]
name = "quick"
paths = [{q(str(suite))}]
args = ["-p", "no:cacheprovider"]
cwd = {q(str(suite))}
"""
        )
    )


@pytest.fixture
def live(config: Config) -> Iterator[tuple[Runtime, TestClient]]:
    with runtime_module.running(config) as rt, TestClient(create_api(lambda: rt)) as client:
        yield rt, client


@pytest.fixture
def busy() -> Iterator[tuple[int, int]]:
    """A process burning CPU and one holding HELD bytes: their pids."""
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for code in (BURN, HOLD)
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline() == "ready\n"
        yield procs[0].pid, procs[1].pid
    finally:
        for p in procs:
            p.kill()
            p.communicate(timeout=30)  # reaps it and closes its pipes


def newest_scan(rt: Runtime) -> Scan | None:
    return rt.snapshots.scan_at(time.time_ns() // 1_000_000 + 60_000).scan


def at(client: TestClient, when: str) -> dict[str, Any]:
    response = client.get("/metrics/processes/at", params={"at": when})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_busy_and_a_big_process_are_found_at_their_moment_in_the_store(
    live: tuple[Runtime, TestClient], busy: tuple[int, int]
) -> None:
    rt, client = live
    burner, holder = busy

    def both_seen() -> Scan | None:
        scan = newest_scan(rt)
        if scan is None:
            return None
        rows = {r.pid: r for r in scan.rows}
        ok = burner in rows and rows[burner].cpu_percent > 0 and holder in rows and rows[holder].rss >= HELD
        return scan if ok else None

    scan = wait_until(both_seen, timeout=60, what="a scan with the CPU burner busy and the memory holder")
    rt.snapshots.flush(seal=True)  # written: from here the moment is read from the file
    with closing(sqlite3.connect(rt.store.path)) as other:
        rows = other.execute(f"SELECT count(*) FROM {TABLE} WHERE ts <= ? AND last_ts >= ?", (scan.ts_ms, scan.ts_ms))
        assert rows.fetchone()[0] == 1

    body = at(client, iso(scan.ts_ms + 300))
    assert body["note"] == "" and body["at"] is not None
    assert datetime.fromisoformat(body["at"]) == datetime.fromtimestamp(scan.ts_ms / 1000, UTC)
    by_cpu = {p["pid"]: p for p in body["by_cpu"]}
    by_memory = {p["pid"]: p for p in body["by_memory"]}
    assert by_cpu[burner]["cpu_percent"] > 0 and by_cpu[burner]["name"].startswith("python")
    assert by_memory[holder]["rss"] >= HELD and by_memory[holder]["memory_percent"] > 0
    assert "bytearray" in by_memory[holder]["cmdline"]  # a short command line, read for the snapshot
    assert [p["rss"] for p in body["by_memory"]] == sorted((p["rss"] for p in body["by_memory"]), reverse=True)


def test_the_runs_going_on_at_the_moment_are_listed(live: tuple[Runtime, TestClient]) -> None:
    rt, client = live
    run = rt.tests.run_suite("quick", Trigger.API).run
    done = rt.tests.wait(run.id, timeout=120)
    assert done.started_at is not None and done.ended_at is not None
    middle = done.started_at + (done.ended_at - done.started_at) / 2
    body = at(client, middle.isoformat())
    assert [m["key"] for m in body["running"]] == [f"test_run:{run.id}"]
    assert body["running"][0]["href"]
    later = at(client, (done.ended_at + timedelta(minutes=5)).isoformat())
    assert later["running"] == []


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("yesterday", "at 'yesterday' is not a date and time (ISO 8601, e.g. 2026-11-25T08:00:00Z)"),
        ("", "at is empty"),
        ("12000-01-01T00:00:00Z", "is not a date and time"),
    ],
)
def test_a_bad_time_is_refused_saying_what_is_wrong(live: tuple[Runtime, TestClient], when: str, message: str) -> None:
    _, client = live
    response = client.get("/metrics/processes/at", params={"at": when})
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_moments_without_a_snapshot_say_why(live: tuple[Runtime, TestClient]) -> None:
    rt, client = live
    wait_until(lambda: newest_scan(rt), timeout=60, what="the first process scan")
    now = datetime.now(UTC)
    for when, why in [
        (now - timedelta(days=30), "is older than process snapshots are kept (7 d 0 h 0 min): they have been deleted"),
        (now - timedelta(hours=1), "is before the first process snapshot"),
        (now + timedelta(days=1), "is in the future"),
    ]:
        body = at(client, when.isoformat())
        assert body["at"] is None and body["by_cpu"] == [] and why in body["note"], body["note"]


def test_a_damaged_row_gives_a_note_not_an_error(live: tuple[Runtime, TestClient]) -> None:
    rt, client = live
    start = round((time.time() - 600) * 1000)
    with closing(sqlite3.connect(rt.store.path, timeout=10, isolation_level=None)) as other:
        other.execute(f"INSERT INTO {TABLE} VALUES (?, ?, 12, ?)", (start, start + 55_000, b"PS1\nnot compressed"))
    body = at(client, iso(start + 20_000))
    assert body["at"] is None and "cannot be read (damaged process snapshot" in body["note"]


def test_a_store_that_refuses_writes_stops_neither_sampling_nor_snapshots(live: tuple[Runtime, TestClient]) -> None:
    rt, client = live
    wait_until(lambda: newest_scan(rt), timeout=60, what="the first process scan")
    written = rt.snapshots.count()
    rt.store.execute("PRAGMA query_only = 1")  # every write fails (SQLITE_READONLY), as on a full disk
    try:
        rt.snapshots.tick(seal=True)
        assert "readonly" in (rt.snapshots.status.last_error or "")
        scans = rt.sampler.status.scans
        wait_until(lambda: rt.sampler.status.scans >= scans + 3, timeout=60, what="three more scans")
        scan = newest_scan(rt)
        assert scan is not None
        body = at(client, iso(scan.ts_ms))  # from memory
        assert body["at"] is not None and body["by_memory"]
        assert rt.snapshots.count() == written
    finally:
        rt.store.execute("PRAGMA query_only = 0")
    rt.snapshots.tick(seal=True)
    assert rt.snapshots.status.last_error is None and rt.snapshots.count() > written
