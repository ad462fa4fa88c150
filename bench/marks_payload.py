"""What the marks add to a 24 h chart's payload: the Metrics page fetches its charts
(``GET /api/ui/charts?window=24h``) and, beside them, the marks of the same window
(``GET /api/timeline/marks``). Both are measured in one run, through the API as the
server serves it (its gzip middleware, the browser's ``Accept-Encoding: gzip``), on
a real (never started) Runtime whose memory holds 24 h at 1 s (``_common.py``'s
realistic host) and whose store holds a busy 24 h of marks: a test run every 10
minutes (144 runs of 3 minutes, one in five failed), and whatever other kinds of
mark the store's readers find (none more in this data set).

Both sizes are printed as sent (gzip) and as JSON (uncompressed), with the marks'
share of the charts' payload.

Target (issue 23): a 24 h chart's payload grows by at most 10 % with its marks,
both as sent and uncompressed.

Run: .venv/bin/python bench/marks_payload.py [--runs-every 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import DAY_ROWS, WATCHED, fill, machine_note, table, verdict
from fastapi.testclient import TestClient
from starlette.middleware.gzip import GZipMiddleware

from dashboard_core.api import create_api
from dashboard_core.config import Config, SamplerConfig, WatchConfig
from dashboard_core.config.metrics import StorageConfig
from dashboard_core.models.testing import RunCounts, RunStatus, Trigger
from dashboard_core.runtime import Runtime
from dashboard_core.testing.history import RunHistory

TARGET = 0.10  # the marks may add at most 10 % to the charts' payload


def busy_day(rt: Runtime, every_minutes: int) -> int:
    """A test run every ``every_minutes`` over the last 24 h, each 3 minutes; the count."""
    runs = RunHistory(rt.store)
    now = datetime.now(UTC)
    start = now - timedelta(hours=24)
    n = 0
    at = start
    while at < now - timedelta(minutes=3):
        failed = n % 5 == 4
        run = runs.insert("integration" if n % 2 else "smoke", Trigger.API, at, ["pytest", "-q"])
        counts = RunCounts(collected=120, done=120, passed=118 if failed else 120, failed=2 if failed else 0)
        runs.update(
            run,
            status=RunStatus.FAILED if failed else RunStatus.PASSED,
            started_at=at,
            ended_at=at + timedelta(minutes=3),
            counts=counts,
        )
        n += 1
        at += timedelta(minutes=every_minutes)
    return n


def measure(client: TestClient, url: str) -> tuple[int, int]:
    """Bytes as sent (gzip) and as JSON."""
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    response.raise_for_status()
    return response.num_bytes_downloaded, len(response.content)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-every", type=int, default=10, help="minutes between test runs in the busy day")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(
            sampler=SamplerConfig(history_hours=DAY_ROWS / 3600),
            storage=StorageConfig(data_dir=Path(tmp)),
            watch=[WatchConfig(label=w, match="cmdline", pattern=r"streamlit_app\.py") for w in WATCHED],
        )
        rt = Runtime(config)
        fill(rt, DAY_ROWS)
        runs = busy_day(rt, args.runs_every)
        print(f"24 h in memory at 1 s ({DAY_ROWS:,} rows); {runs} test runs in the store")
        print(machine_note() + "\n")
        with TestClient(GZipMiddleware(create_api(lambda: rt), minimum_size=1000)) as client:
            charts_gz, charts_raw = measure(client, "/ui/charts?window=24h&tz=Europe/Berlin")
            marks_url = "/timeline/marks?window=24h"
            marks_gz, marks_raw = measure(client, marks_url)
            count = len(client.get(marks_url).json()["marks"])
        rt.store.close()
    share_gz, share_raw = marks_gz / charts_gz, marks_raw / charts_raw
    print(
        table(
            ["24 h window", "as sent (gzip), KB", "JSON, KB"],
            [
                ["charts: GET /api/ui/charts", f"{charts_gz / 1000:,.1f}", f"{charts_raw / 1000:,.1f}"],
                [f"marks: GET /api/timeline/marks ({count})", f"{marks_gz / 1000:,.1f}", f"{marks_raw / 1000:,.1f}"],
                ["marks / charts", f"{share_gz:.1%}", f"{share_raw:.1%}"],
            ],
        )
    )
    ok_gz, ok_raw = share_gz <= TARGET, share_raw <= TARGET
    print()
    print(verdict(ok_gz, f"the marks add {share_gz:.1%} to the 24 h charts as sent (target <= {TARGET:.0%})"))
    print(verdict(ok_raw, f"the marks add {share_raw:.1%} to the 24 h charts as JSON (target <= {TARGET:.0%})"))
    return 0 if ok_gz and ok_raw else 1


if __name__ == "__main__":
    sys.exit(main())
