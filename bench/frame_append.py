"""RollingFrame cost: append (µs per row), reading a 24 h window into a pandas
DataFrame (ms) and memory (bytes per row), on a realistic 31-column frame
(25 float32 + 6 float64 columns, as the real field table's dtype rules give).

Why: the sampler appends once a second for days and every page redraw reads a
window, so both must stay cheap.

Every side stores the same 86,400 samples (the sampler's dicts of 31 floats,
built before the clock starts) and hands a reader the same 24 h window as a
DataFrame with a UTC DatetimeIndex that later appends cannot change:

- ours: ``RollingFrame.append(ts, values)``; read: ``to_frame(start, end)``,
  a copy of the window (the ring is written in place);
- ``pd.concat``: a one-row DataFrame per sample concatenated to the history and
  trimmed back to 24 h (the naive DataFrame store; its columns float64, as
  one-row frames of Python floats are); read: ``df.loc[start:end]``, no copy
  needed, as every append makes a new frame; its append is timed on
  ``--concat-appends`` samples at 86,400 rows, which is where it stays;
- deque of dicts: ``deque(maxlen=86,400).append((ts, values))``; read: the
  DataFrame built from the dicts (the conversion ours does per append, done
  here per read).

Append is the mean over the whole 24 h fill (the first row adds the columns),
wall clock, with this thread's CPU time beside it (what a busy machine barely
moves); read is the best of 7.

Targets: append under 5 µs, 24 h to DataFrame under 10 ms, under 200 bytes per row.

Run: .venv/bin/python bench/frame_append.py [--concat-appends 200]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections import deque

import pandas as pd
from _common import (
    DAY_ROWS,
    best_of,
    fill,
    machine_note,
    realistic_runtime,
    realistic_values,
    table,
    timestamps_ns,
    verdict,
)

APPEND_TARGET_US = 5.0
READ_TARGET_MS = 10.0
BYTES_TARGET = 200


def measured_bytes_per_row(rows: int) -> float:
    """Bytes per row seen by tracemalloc (numpy reports its buffers to it)."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    rt = realistic_runtime(rows)
    fill(rt, rows)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del rt
    return (after - before) / rows


def concat_baseline(columns: list[str], frame: pd.DataFrame, appends: int) -> tuple[float, pd.DataFrame]:
    """µs per ``pd.concat`` append (trimmed to 24 h) on a 86,400-row DataFrame."""
    df = frame.astype("float64")  # one-row frames of Python floats are float64
    values = realistic_values(columns, appends, seed=7).tolist()
    ts = timestamps_ns(appends, end_ns=int(df.index[-1].value) + appends * 1_000_000_000).tolist()
    rows = [
        (pd.DatetimeIndex(pd.to_datetime([t], unit="ns", utc=True), name="timestamp"), dict(zip(columns, v)))
        for t, v in zip(ts, values)
    ]
    cap = len(df)
    t0 = time.perf_counter()
    for index, row in rows:
        df = pd.concat([df, pd.DataFrame([row], index=index)]).iloc[-cap:]
    return (time.perf_counter() - t0) / appends * 1e6, df


def dict_list_baseline(columns: list[str], rows: int) -> tuple[float, float, float]:
    """A deque of (ts, dict): µs per append, ms to build the 24 h DataFrame, bytes per row."""
    values = realistic_values(columns, rows, seed=3).tolist()
    ts = timestamps_ns(rows).tolist()
    dicts = [dict(zip(columns, v)) for v in values]
    store: deque[tuple[int, dict[str, float]]] = deque(maxlen=rows)
    t0 = time.perf_counter()
    for t, d in zip(ts, dicts):
        store.append((t, d))
    append_us = (time.perf_counter() - t0) / rows * 1e6

    def read() -> pd.DataFrame:
        items = list(store)
        index = pd.DatetimeIndex(pd.to_datetime([t for t, _ in items], unit="ns", utc=True), name="timestamp")
        return pd.DataFrame([d for _, d in items], index=index)

    read_s, _ = best_of(3, read)
    one = store[-1]
    per_row = (
        8
        + sys.getsizeof(one)
        + sys.getsizeof(one[0])
        + sys.getsizeof(one[1])
        + sum(sys.getsizeof(v) for v in one[1].values())
    )
    return append_us, read_s * 1000, float(per_row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concat-appends", type=int, default=200, help="appends timed for the pd.concat baseline")
    args = parser.parse_args()

    rt = realistic_runtime(DAY_ROWS)
    columns, append_s, append_cpu_s = fill(rt, DAY_ROWS)
    frame = rt.frame
    append_us = append_s / DAY_ROWS * 1e6
    append_cpu_us = append_cpu_s / DAY_ROWS * 1e6
    start, end = frame.span()  # type: ignore[misc]
    read_s, df = best_of(7, lambda: frame.to_frame(start, end))
    assert len(df) == DAY_ROWS and list(df.columns) == columns, "to_frame returned the wrong window"
    bpr = frame.bytes_per_row
    bpr_measured = measured_bytes_per_row(20_000)
    n32 = sum(str(t) == "float32" for t in df.dtypes)

    concat_us, concat_df = concat_baseline(columns, df, args.concat_appends)
    concat_bpr = concat_df.memory_usage(deep=True).sum() / len(concat_df)  # before .loc builds its index engine
    concat_read_s, _ = best_of(7, lambda: concat_df.loc[start:end])
    dl_append_us, dl_read_ms, dl_bpr = dict_list_baseline(columns, DAY_ROWS)

    print(
        f"RollingFrame: {len(columns)} columns ({n32} float32, {len(columns) - n32} float64), {DAY_ROWS:,} rows (24 h at 1 s)"
    )
    print(f"pandas {pd.__version__}; {machine_note()}\n")
    print(
        table(
            ["", "ours (RollingFrame)", "pd.concat per sample", "deque of dicts"],
            [
                ["append, µs/row", f"{append_us:.2f}", f"{concat_us:,.0f}", f"{dl_append_us:.2f}"],
                ["  CPU (this thread), µs/row", f"{append_cpu_us:.2f}", "", ""],
                [
                    "24 h window -> DataFrame, ms",
                    f"{read_s * 1000:.2f}",
                    f"{concat_read_s * 1000:.2f} (df.loc)",
                    f"{dl_read_ms:,.0f}",
                ],
                ["bytes per row", f"{bpr} ({bpr_measured:.0f} measured)", f"{concat_bpr:.0f}", f"~{dl_bpr:,.0f}"],
            ],
        )
    )
    print(
        "\nEvery side: the same 86,400 samples (dicts of 31 floats), the same 24 h window read back as a DataFrame\n"
        "with a UTC DatetimeIndex that later appends cannot change. Append: mean over the fill, wall (CPU beside);"
        " read: best of 7.\n"
        "ours: RollingFrame.append; read to_frame(start, end), a copy. pd.concat: a one-row DataFrame per sample,"
        " concatenated\n"
        f"and trimmed to 24 h ({args.concat_appends} appends at {DAY_ROWS:,} rows; float64); read df.loc[start:end]"
        " (every append makes a new frame:\nno copy needed). deque of dicts: append the dict; read builds the"
        f" DataFrame from them. Ours appends {concat_us / append_us:,.0f}x faster than pd.concat."
    )
    results = [
        verdict(append_us < APPEND_TARGET_US, f"append {append_us:.2f} µs/row < {APPEND_TARGET_US:g} µs"),
        verdict(read_s * 1000 < READ_TARGET_MS, f"24 h to DataFrame {read_s * 1000:.2f} ms < {READ_TARGET_MS:g} ms"),
        verdict(max(bpr, bpr_measured) < BYTES_TARGET, f"{max(bpr, bpr_measured):.0f} bytes/row < {BYTES_TARGET}"),
    ]
    print("\n" + "\n".join(results))
    return 0 if all(r.startswith("PASS") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
