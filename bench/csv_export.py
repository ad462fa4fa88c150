"""CSV export of 24 h of history (86,400 rows x 31 columns of realistic values:
percentages with decimals, byte counts, per-second rates): our ``frame_to_csv``
(pyarrow writer, ISO 8601 UTC timestamps, spreadsheet-safe headers) against
``DataFrame.to_csv`` with its default ISO timestamps and with an explicit
``...T...Z`` date_format, and plain ``pyarrow.csv.write_csv`` for reference.

Why: "Download CSV" of a 24 h window runs inside a page request or API call;
it must not stall the server. Best of 3 each, all measured in this run.

Target: ours under 0.3 s.

Run: .venv/bin/python bench/csv_export.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from _common import DAY_ROWS, best_of, fill, machine_note, realistic_runtime, table, verdict

from dashboard_core.metrics.export import frame_to_csv

TARGET_S = 0.3


def pyarrow_plain(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(pa.Table.from_pandas(frame), sink)
    return sink.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; the best counts")
    args = parser.parse_args()

    rt = realistic_runtime(DAY_ROWS)
    fill(rt, DAY_ROWS)
    frame = rt.frame.to_frame()
    methods = {
        "ours: frame_to_csv": lambda: frame_to_csv(frame),
        "DataFrame.to_csv() (default ISO timestamps)": lambda: frame.to_csv().encode(),
        "DataFrame.to_csv(date_format='%Y-%m-%dT%H:%M:%S.%fZ')": lambda: frame.to_csv(
            date_format="%Y-%m-%dT%H:%M:%S.%fZ"
        ).encode(),
        "pyarrow.csv.write_csv (plain, reference)": lambda: pyarrow_plain(frame),
    }
    timings: dict[str, tuple[float, bytes]] = {name: best_of(args.repeat, fn) for name, fn in methods.items()}

    ours_s, ours_csv = timings["ours: frame_to_csv"]
    lines = ours_csv.count(b"\n")
    assert lines == len(frame) + 1, f"ours wrote {lines} lines for {len(frame)} rows"
    print(machine_note())
    print(f"24 h frame: {len(frame):,} rows x {frame.shape[1]} columns; pandas {pd.__version__}, pyarrow {pa.__version__}")
    first_row = ours_csv.split(b"\n", 2)[1][:90].decode()
    print(f"ours, first row: {first_row}...\n")
    rows = [
        [name, f"{s:.3f}", f"{len(body) / 2**20:.1f}", f"{s / ours_s:.1f}x"] for name, (s, body) in timings.items()
    ]
    print(table(["method", f"best of {args.repeat}, s", "MiB", "vs ours"], rows))
    print("\n" + verdict(ours_s < TARGET_S, f"ours {ours_s:.3f} s < {TARGET_S} s"))
    return 0 if ours_s < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
