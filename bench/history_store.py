"""Long metric history in the store: write cost per flush, the read of a 30-day
window from the 1-minute tier (into a DataFrame and through the chart builder),
and the file size per day of history at the default tiers; next to a naive
long-format table ``(tier, ts, name, value)``, primary key ``(tier, ts, name)``,
holding the same data. Each pair does the same work:

- flush: the same buckets (the writer's, bucketed once from the rolling frame:
  a step both sides need, shown on its own) upserted, then retention, in one
  transaction. Ours: ``HistoryStore.write`` (a row per bucket, values packed);
  long: ``INSERT OR REPLACE`` a row per value, then ``DELETE`` what is past
  each tier's retention. Ours writes into a store holding 7 + 90 days; the long
  table starts empty (97 days of it are 14 million rows), which flatters it;
- size: the same days of buckets of both tiers, ``page_count x page_size``;
- read: the same 30 days of 1-minute means from the store into a DataFrame
  indexed by time, a column per metric. Ours: ``HistoryReader`` with nothing
  in memory; long: select by ``(tier, ts)`` and pivot. The page's own read
  (the last 24 h bucketed from memory) and the charts are ours only.

    .venv/bin/python bench/history_store.py [--flushes 360] [--days 3] [--repeat 5]

Synthetic data, realistic shape: the 31 columns of bench/_common.py's host.
Days of history are written as buckets straight into the tier tables (one
synthetic sample per bucket: a row's size does not depend on its values), so
40 days take seconds; the flush figures go through the real writer fed by a
rolling frame at 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import plotly.io as pio  # noqa: E402
from _common import best_of, machine_note, realistic_columns, realistic_runtime, realistic_values, table, verdict

from dashboard_core.config import HistoryConfig  # noqa: E402
from dashboard_core.metrics.figure_cache import sent_figures  # noqa: E402
from dashboard_core.metrics.frame import RollingFrame  # noqa: E402
from dashboard_core.metrics.history_read import HistoryReader  # noqa: E402
from dashboard_core.metrics.history_store import HistoryStore  # noqa: E402
from dashboard_core.metrics.history_writer import HistoryWriter  # noqa: E402
from dashboard_core.metrics.tiers import Buckets, Tier, bucket, tiers_of  # noqa: E402
from dashboard_core.metrics.windows import Window  # noqa: E402
from dashboard_core.runtime import Runtime  # noqa: E402
from dashboard_core.store import Store  # noqa: E402

DAY = 86_400
READ_TARGET_MS = 200.0
SIZE_TARGET_MB = 5.0
TIERS = tiers_of(HistoryConfig().tiers)  # the defaults: 10 s mean 7 days, 1 min min/mean/max 90 days
TEN_S, ONE_MIN = TIERS


def synthetic(tier: Tier, start_s: int, end_s: int, columns: list[str], seed: int) -> Buckets:
    times = np.arange(start_s, end_s, int(tier.seconds), dtype=np.int64)
    return bucket(times * 1_000_000_000, realistic_values(columns, len(times), seed), columns, tier.ms)


def write_days(history: HistoryStore, tier: Tier, start_s: int, days: float, columns: list[str]) -> None:
    """Whole days of a tier, a day per transaction."""
    for d in range(int(np.ceil(days))):
        lo = start_s + d * DAY
        history.write([(tier, synthetic(tier, lo, min(lo + DAY, start_s + int(days * DAY)), columns, seed=d))])


# -- the naive baseline: one row per value ---------------------------------------------------
LONG_SCHEMA = """
CREATE TABLE IF NOT EXISTS metric_long (
    tier INTEGER NOT NULL, ts INTEGER NOT NULL, name TEXT NOT NULL, value REAL, PRIMARY KEY (tier, ts, name)
)
"""


def long_rows(tier: Tier, buckets: Buckets) -> list[tuple[int, int, str, float]]:
    rows = []
    for stat in tier.stats:
        suffix = "" if stat == "mean" else f":{stat}"
        values = buckets.stat(stat)
        for i, ts in enumerate(buckets.start_ms.tolist()):
            rows += [(tier.ms, ts, c + suffix, v) for c, v in zip(buckets.columns, values[i].tolist())]
    return rows


def long_write(store: Store, tier: Tier, buckets: Buckets) -> None:
    store.executemany("INSERT OR REPLACE INTO metric_long VALUES (?, ?, ?, ?)", long_rows(tier, buckets))


def long_flush(store: Store, pending: dict[Tier, Buckets], now_ms: int) -> None:
    """What HistoryStore.write does, in long format: upsert, then retention, one transaction."""
    with store.transaction() as db:
        for tier, buckets in pending.items():
            db.executemany("INSERT OR REPLACE INTO metric_long VALUES (?, ?, ?, ?)", long_rows(tier, buckets))
        for tier in pending:
            db.execute("DELETE FROM metric_long WHERE tier = ? AND ts < ?", (tier.ms, now_ms - tier.keep_ms))


def long_read(store: Store, tier: Tier, start_ms: int, end_ms: int) -> pd.DataFrame:
    rows = store.all(
        "SELECT ts, name, value FROM metric_long WHERE tier = ? AND ts >= ? AND ts < ? AND name NOT LIKE '%:%'",
        (tier.ms, start_ms, end_ms),
    )
    long = pd.DataFrame([tuple(r) for r in rows], columns=["ts", "name", "value"])
    wide = long.pivot(index="ts", columns="name", values="value")
    wide.index = pd.to_datetime(wide.index, unit="ms", utc=True)
    return wide


def fresh_store(folder: Path, name: str) -> tuple[Store, HistoryStore]:
    store = Store(folder / name / "dashboard.sqlite3")
    history = HistoryStore(store, TIERS)
    history.prepare(int(time.time() * 1000))
    return store, history


# -- the three measurements ----------------------------------------------------------------------
def measure_flushes(
    folder: Path, columns: list[str], dtype_of: Callable[[str], str], flushes: int, now_s: int
) -> dict[str, list[float]]:
    """The writer as it runs: 10 samples at 1 s appended, then one tick that reads
    them from the frame, buckets them and writes (with retention) in one
    transaction; on a store already holding 7 and 90 days. Baseline: the same
    buckets upserted as long-format rows, then its retention, in one transaction."""
    store, history = fresh_store(folder, "flush")
    write_days(history, TEN_S, now_s - 7 * DAY, 7, columns)
    write_days(history, ONE_MIN, now_s - 90 * DAY, 90, columns)
    for statement in filter(str.strip, LONG_SCHEMA.split(";")):
        store.execute(statement)
    frame = RollingFrame(3600, dtype_of=dtype_of)
    clock_s = [float(now_s)]
    writer = HistoryWriter(history, frame, flush_seconds=10, sample_interval=1, clock=lambda: clock_s[0])
    writer.tick(flush=True)  # prepare: the carried-over newest rows
    values = realistic_values(columns, flushes * 10, seed=7)
    pull_ms, write_ms, long_ms = [], [], []
    rng = np.random.default_rng(8)
    for f in range(flushes):
        for i in range(10):
            t = now_s + f * 10 + i
            frame.append(t * 1_000_000_000 + int(rng.integers(0, 3_000_000)), dict(zip(columns, values[f * 10 + i])))
        clock_s[0] = now_s + f * 10 + 10
        t0 = time.perf_counter()
        writer.pull()
        t1 = time.perf_counter()
        pending = {t: writer._pending[t] for t in TIERS}  # what this flush writes, for the baseline
        writer.flush()
        t2 = time.perf_counter()
        long_flush(store, pending, round(clock_s[0] * 1000))
        long_ms.append((time.perf_counter() - t2) * 1000)
        pull_ms.append((t1 - t0) * 1000)
        write_ms.append((t2 - t1) * 1000)
    store.close()
    return {"pull": pull_ms, "write": write_ms, "long": long_ms}


def measure_size(folder: Path, columns: list[str], days: float, now_s: int) -> dict[str, float]:
    """Bytes per day of history: each default tier alone, and the long baseline."""
    out: dict[str, float] = {}
    for tier in TIERS:
        store, history = fresh_store(folder, f"size-{tier.table}")
        before = history.size().bytes
        write_days(history, tier, now_s - int(days * DAY), days, columns)
        out[tier.table] = (history.size().bytes - before) / days
        store.close()
    store = Store(folder / "size-long" / "dashboard.sqlite3")
    for statement in filter(str.strip, LONG_SCHEMA.split(";")):
        store.execute(statement)
    before = int(store.one("PRAGMA page_count")[0]) * int(store.one("PRAGMA page_size")[0])
    for tier in TIERS:  # one day is enough: it grows linearly
        long_write(store, tier, synthetic(tier, now_s - DAY, now_s, columns, seed=0))
    out["long"] = int(store.one("PRAGMA page_count")[0]) * int(store.one("PRAGMA page_size")[0]) - before
    store.close()
    return out


def measure_read(folder: Path, rt: Runtime, columns: list[str], repeat: int, now_s: int) -> dict[str, float]:
    """A 30-day window: the store's 1-minute rows alone; the page's path (29
    days from the store, the last 24 h bucketed from a full frame in memory);
    that plus every chart; and the long table read and pivoted."""
    store, history = fresh_store(folder, "read")
    write_days(history, TEN_S, now_s - 7 * DAY, 7, columns)
    write_days(history, ONE_MIN, now_s - 40 * DAY, 40, columns)
    for statement in filter(str.strip, LONG_SCHEMA.split(";")):
        store.execute(statement)
    for d in range(30):
        long_write(store, ONE_MIN, synthetic(ONE_MIN, now_s - (30 - d) * DAY, now_s - (29 - d) * DAY, columns, d))
    window = Window(pd.Timestamp(now_s - 30 * DAY, unit="s", tz="UTC"), pd.Timestamp(now_s, unit="s", tz="UTC"))
    lo, hi = (now_s - 30 * DAY) * 1000, now_s * 1000 + 1

    # The frame the page reads with: the last 24 h at 1 s, in memory.
    frame = RollingFrame(DAY, dtype_of=rt._dtype_of)
    values = realistic_values(columns, DAY, seed=9)
    for i, row in enumerate(values.tolist()):
        frame.append((now_s - DAY + i) * 1_000_000_000, dict(zip(columns, row)))
    page = HistoryReader(frame, history, sample_interval=1, dtype_of=rt._dtype_of, clock=lambda: now_s)
    store_only = HistoryReader(RollingFrame(10), history, sample_interval=1, dtype_of=rt._dtype_of, clock=lambda: now_s)

    def charts() -> list[int]:
        read = page.read(window)
        chart = read.chart_rows()
        figs = sent_figures(chart, rt.fields)  # as the figure cache builds them on a miss
        return [len(pio.to_json(f, validate=False)) for _spec, f in figs]

    rows_ms, _ = best_of(repeat, lambda: history.read(ONE_MIN, lo, hi))
    store_ms, got = best_of(repeat, lambda: store_only.read(window))
    page_ms, read = best_of(repeat, lambda: page.read(window))
    chart_ms, sizes = best_of(repeat, charts)
    long_ms, wide = best_of(max(1, repeat // 2), lambda: long_read(store, ONE_MIN, lo, hi))
    store.close()
    assert read.token == "1m" and got.token == "1m", (read.token, got.token)
    return {
        "rows": len(read.frame),
        "store_rows": len(got.frame),
        "long_rows": len(wide),
        "rows_ms": rows_ms * 1000,
        "store_ms": store_ms * 1000,
        "page_ms": page_ms * 1000,
        "chart_ms": chart_ms * 1000,
        "chart_kb": max(sizes) / 1024,
        "figures": len(sizes),
        "long_ms": long_ms * 1000,
        "sources": " + ".join(read.sources),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flushes", type=int, default=360, help="flushes timed (10 s of samples each)")
    parser.add_argument("--days", type=float, default=3, help="days written per tier to measure the size")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many reads")
    args = parser.parse_args()
    print(machine_note())
    rt = realistic_runtime(rows=10)
    columns = realistic_columns(rt.fields)
    now_s = int(time.time()) // 60 * 60
    print(
        f"{len(columns)} columns; default tiers: "
        + ", ".join(f"{t.label} {'/'.join(t.stats)} for {t.keep_days:g} days" for t in TIERS)
    )
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        folder = Path(tmp)
        flush = measure_flushes(folder, columns, rt._dtype_of, args.flushes, now_s)
        size = measure_size(folder, columns, args.days, now_s)
        read = measure_read(folder, rt, columns, args.repeat, now_s)

    def p(values: list[float], q: float) -> float:
        return float(np.percentile(values, q))

    ours_flush = [a + b for a, b in zip(flush["pull"], flush["write"])]
    print(
        f"\nWrite cost per flush (10 samples at 1 s, default tiers, store already holding 7 + 90 days; {args.flushes} flushes):"
    )
    print(
        table(
            ["", "median ms", "p95 ms", "max ms", "% of one core at 10 s"],
            [
                [
                    f"ours: {name}",
                    f"{statistics.median(v):.2f}",
                    f"{p(v, 95):.2f}",
                    f"{max(v):.2f}",
                    f"{statistics.median(v) / 100:.4f}",
                ]
                for name, v in (
                    ("pull (frame -> buckets; both sides need it)", flush["pull"]),
                    ("write (upsert + retention, one transaction)", flush["write"]),
                    ("pull + write", ours_flush),
                )
            ]
            + [
                [
                    "long format: write (upsert + retention, one transaction)",
                    f"{statistics.median(flush['long']):.2f}",
                    f"{p(flush['long'], 95):.2f}",
                    f"{max(flush['long']):.2f}",
                    f"{statistics.median(flush['long']) / 100:.4f}",
                ]
            ],
        )
    )

    per_day = size[TEN_S.table] + size[ONE_MIN.table]
    steady = size[TEN_S.table] * TEN_S.keep_days + size[ONE_MIN.table] * ONE_MIN.keep_days
    mb = 1e6
    print(f"\nFile size per day of history ({args.days:g} days written per tier; page_count x page_size):")
    print(
        table(
            ["", "MB per day", "at full retention (7 d / 90 d)"],
            [
                [f"ours: {TEN_S.label} mean", f"{size[TEN_S.table] / mb:.2f}", f"{size[TEN_S.table] * 7 / mb:.0f} MB"],
                [
                    f"ours: {ONE_MIN.label} min/mean/max",
                    f"{size[ONE_MIN.table] / mb:.2f}",
                    f"{size[ONE_MIN.table] * 90 / mb:.0f} MB",
                ],
                ["ours: both tiers (the first 7 days)", f"{per_day / mb:.2f}", f"{steady / mb:.0f} MB"],
                ["long format, both tiers", f"{size['long'] / mb:.2f}", ""],
            ],
        )
    )

    print(f"\nRead of a 30-day window from the {ONE_MIN.label} tier (best of {args.repeat}):")
    print(
        table(
            ["", "ms", "rows"],
            [
                ["ours: tier rows (SQLite -> float32 matrix)", f"{read['rows_ms']:.1f}", f"{read['store_rows']:,}"],
                ["ours: into a DataFrame, all from the store", f"{read['store_ms']:.1f}", f"{read['store_rows']:,}"],
                ["long format: select + pivot to a DataFrame", f"{read['long_ms']:.1f}", f"{read['long_rows']:,}"],
                [
                    f"ours: the page's read ({read['sources']}, 24 h in memory)",
                    f"{read['page_ms']:.1f}",
                    f"{read['rows']:,}",
                ],
                [
                    f"ours: that + {read['figures']} charts built and serialised (largest {read['chart_kb']:.0f} KB)",
                    f"{read['chart_ms']:.1f}",
                    "",
                ],
            ],
        )
    )
    print(
        "\nFlush: the same buckets on both sides (the long table starts empty, ours holds 7 + 90 days). Read: the"
        " same 30 days of\n1-minute means from the store on both sides; the page's read and the charts are ours only."
    )
    checks = [
        (
            read["page_ms"] < READ_TARGET_MS,
            f"30-day read into a DataFrame {read['page_ms']:.0f} ms < {READ_TARGET_MS:.0f} ms",
        ),
        (
            per_day / mb < SIZE_TARGET_MB,
            f"{per_day / mb:.2f} MB per day of history at default tiers < {SIZE_TARGET_MB:g} MB",
        ),
    ]
    print()
    for ok, text in checks:
        print(verdict(ok, text))
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
