"""Process snapshots ("what was running at a moment"): bytes per day in the store
at the defaults (a scan every 5 s, top 10 by CPU and top 10 by memory: 17,280
scans a day), beside the naive baseline, in the same run; and what keeping
them costs the sampler's thread per scan.

1. Real scans: ``--seconds`` of this machine's process table, scanned every
   ``--every`` seconds by the sampler's own ``ProcessScanner`` (CPU % over 1 s
   is noisier than over 5 s, which makes ours compress worse: a pessimistic
   figure). Each scan is timed (thread CPU) and handed to
   ``ProcessSnapshots.record`` as the sampler does, timed too: the extra CPU
   per scan (picking the rows, reading new processes' command lines).
2. Replay: ``--hours`` of scans at the default 5 s, the real ones replayed
   back and forth in order (so processes come and go as they did), written into
   a real store file by the real ``ProcessSnapshots`` (a row per 5 minutes,
   encoded and compressed, one transaction per batch, retention included).
   Baseline: the same rows, one row per process per scan (pid, name, user, CPU
   %, RSS, memory %, command line, time; indexed by time), one transaction per
   minute, into another store file. Write times: ours per batch (encoding
   included), the baseline per minute. Size: the growth of ``page_count x
   page_size``, extrapolated to a day.

    .venv/bin/python bench/process_snapshots.py [--seconds 60] [--every 1] [--hours 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import machine_note, table, verdict

from dashboard_core.config import SamplerConfig  # noqa: E402
from dashboard_core.metrics.process_snapshots import (  # noqa: E402
    BATCH_SECONDS,
    MAX_UNWRITTEN,
    ProcessSnapshots,
    pick,
)
from dashboard_core.metrics.processes import ProcessRow, ProcessScanner  # noqa: E402
from dashboard_core.store import Store  # noqa: E402

DAY = 86_400
TARGET_MB = 2.0
DEFAULTS = SamplerConfig()
INTERVAL = DEFAULTS.process_interval_seconds  # 5 s
TOP_N = DEFAULTS.top_n  # 10
CMDLINES: dict[int, str] = {}  # pid -> the command line the snapshots read in the real scans
NAIVE = """
CREATE TABLE process_rows (
    ts INTEGER NOT NULL, pid INTEGER NOT NULL, name TEXT NOT NULL, user TEXT NOT NULL,
    cpu_percent REAL NOT NULL, rss INTEGER NOT NULL, memory_percent REAL NOT NULL, cmdline TEXT NOT NULL
);
CREATE INDEX process_rows_by_time ON process_rows (ts)
"""


Scans = list[list[ProcessRow]]


def real_scans(seconds: float, every: float) -> tuple[Scans, list[float], list[float]]:
    """This machine's process table; the scan's and the snapshot's thread CPU (s) per scan."""
    scanner = ProcessScanner()
    scanner.scan()  # the CPU baseline: the first scan reads 0 % for everyone
    keeper = ProcessSnapshots(Store(Path("never-opened.sqlite3")), top_n=TOP_N, keep_seconds=DAY)
    scans: Scans = []
    scan_cpu: list[float] = []
    record_cpu: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(every)
        c0 = time.thread_time()
        rows = scanner.scan()
        c1 = time.thread_time()
        keeper.record(time.time_ns(), rows)  # never flushed: only the sampler's side is timed here
        c2 = time.thread_time()
        scans.append(rows)
        scan_cpu.append(c1 - c0)
        record_cpu.append(c2 - c1)
    # The command lines the snapshots read (the scan has none at the defaults), for the replay.
    for batch in keeper._held():
        for scan in batch.read():
            CMDLINES.update((r.pid, r.cmdline) for r in scan.rows)
    return scans, scan_cpu, record_cpu


def _with_cmdline(r: ProcessRow) -> ProcessRow:
    return ProcessRow(r.pid, r.name, r.user, r.cpu_percent, r.rss, r.memory_percent, CMDLINES.get(r.pid, ""))


def size_of(store: Store) -> int:
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return int(store.one("PRAGMA page_count")[0]) * int(store.one("PRAGMA page_size")[0])


def replay(scans: Scans, hours: float, folder: Path) -> dict[str, float]:
    """Write ``hours`` of scans at 5 s both ways; bytes, rows and write times."""
    count = round(hours * 3600 / INTERVAL)
    period = max(1, 2 * len(scans) - 2)
    order = [i % period if i % period < len(scans) else period - i % period for i in range(count)]
    start_ns = (int(time.time()) - int(hours * 3600)) * 1_000_000_000

    ours_store = Store(folder / "ours" / "dashboard.sqlite3")
    ours_store.open()
    keeper = ProcessSnapshots(ours_store, top_n=TOP_N, keep_seconds=7 * DAY, cmdline=lambda pid: CMDLINES.get(pid, ""))
    naive_store = Store(folder / "naive" / "dashboard.sqlite3")
    naive_store.open()
    for statement in filter(str.strip, NAIVE.split(";")):
        naive_store.execute(statement)
    ours0, naive0 = size_of(ours_store), size_of(naive_store)

    flush_ms: list[float] = []
    naive_ms: list[float] = []
    minute: list[tuple[int, ProcessRow]] = []
    rows_kept = 0
    for k, i in enumerate(order):
        ts_ns = start_ns + round(k * INTERVAL * 1e9)
        keeper.record(ts_ns, scans[i])
        picked = [_with_cmdline(r) for r in pick(scans[i], TOP_N)]
        rows_kept += len(picked)
        minute += [(ts_ns // 1_000_000, r) for r in picked]
        if (k + 1) % round(60 / INTERVAL) == 0:
            t0 = time.perf_counter()
            wrote = keeper.flush()  # a batch sealed since the last minute, if any (one in five)
            t1 = time.perf_counter()
            naive_store.executemany(
                "INSERT INTO process_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(t, r.pid, r.name, r.user, r.cpu_percent, int(r.rss), r.memory_percent, r.cmdline) for t, r in minute],
            )
            naive_ms.append((time.perf_counter() - t1) * 1000)
            if wrote:
                flush_ms.append((t1 - t0) * 1000)
            minute = []
    keeper.flush(seal=True)
    out = {
        "scans": count,
        "rows": rows_kept,
        "ours": (size_of(ours_store) - ours0) * DAY / (hours * 3600),
        "naive": (size_of(naive_store) - naive0) * DAY / (hours * 3600),
        "blob": keeper.status.bytes_written * DAY / (hours * 3600),
        "batches": keeper.status.batches_written,
        "flush_ms": statistics.median(flush_ms) if flush_ms else 0.0,
        "naive_ms": statistics.median(naive_ms) if naive_ms else 0.0,
    }
    ours_store.close()
    naive_store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of real scans (default 60)")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between real scans (default 1)")
    parser.add_argument("--hours", type=float, default=6.0, help="hours of scans replayed into the stores (default 6)")
    args = parser.parse_args()

    print(machine_note())
    print(f"defaults: a scan every {INTERVAL:g} s ({DAY / INTERVAL:,.0f} a day), top {TOP_N} by CPU and by memory")
    scans, scan_cpu, record_cpu = real_scans(args.seconds, args.every)
    processes = statistics.mean(len(s) for s in scans)
    picked = statistics.mean(len(pick(s, TOP_N)) for s in scans)
    print(f"real scans: {len(scans)} of this machine's {processes:.0f} processes; {picked:.1f} kept per scan")
    with tempfile.TemporaryDirectory() as folder:
        result = replay(scans, args.hours, Path(folder))

    mb = 1e6
    per_scan = result["rows"] / result["scans"]
    print(f"\n{result['scans']:,} scans replayed ({args.hours:g} h at {INTERVAL:g} s), {result['rows']:,} rows:")
    print(
        table(
            ["store", "MB per day", "bytes per scan", "bytes per row", "ms per write (median)"],
            [
                [
                    f"ours: a row per {BATCH_SECONDS / 60:g} min, packed + zlib",
                    f"{result['ours'] / mb:.2f}",
                    f"{result['ours'] / (DAY / INTERVAL):.0f}",
                    f"{result['ours'] / (DAY / INTERVAL) / per_scan:.1f}",
                    f"{result['flush_ms']:.2f}",
                ],
                [
                    "naive: a row per process per scan",
                    f"{result['naive'] / mb:.2f}",
                    f"{result['naive'] / (DAY / INTERVAL):.0f}",
                    f"{result['naive'] / (DAY / INTERVAL) / per_scan:.1f}",
                    f"{result['naive_ms']:.2f}",
                ],
            ],
        )
    )
    print(
        f"ours: {result['blob'] / mb:.2f} MB a day of compressed blobs in {result['batches']} rows; "
        f"{result['naive'] / result['ours']:.1f}x smaller than the naive table; at the default 7-day retention "
        f"the table holds {7 * result['ours'] / mb:.1f} MB. While the store takes no writes, up to "
        f"{MAX_UNWRITTEN} batches wait in memory (~{MAX_UNWRITTEN * BATCH_SECONDS * result['blob'] / DAY / mb:.1f} MB)."
    )
    scan_ms = statistics.mean(scan_cpu) * 1000
    record_ms = statistics.mean(record_cpu) * 1000
    print(
        f"\nthe sampler's thread, per scan (thread CPU, mean of {len(scans)}): the scan itself {scan_ms:.2f} ms, "
        f"keeping the snapshot {record_ms:.3f} ms (+{record_ms / scan_ms * 100:.1f} %), "
        f"= {record_ms / INTERVAL / 10:.4f} % of one core at one scan per {INTERVAL:g} s"
    )
    ok = result["ours"] / mb < TARGET_MB
    print(verdict(ok, f"process snapshots {result['ours'] / mb:.2f} MB per day < {TARGET_MB:g} MB at the defaults"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
