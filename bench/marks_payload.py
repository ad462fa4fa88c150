"""What the marks add to a 24 h chart's payload: the Metrics page fetches its charts
(``GET /api/ui/charts?window=24h``) and, beside them, the marks of the same window
(``GET /api/timeline/marks``). Both are measured in one run, through the API as the
server serves it (its gzip middleware, the browser's ``Accept-Encoding: gzip``), on
a real (never started) Runtime whose memory holds 24 h at 1 s (``_common.py``'s
realistic host) and whose store holds a busy 24 h of marks of every kind, as
``bench/timeline_read.py`` fills a day: a suite every 10 minutes, a 3-step
workflow every hour, service restarts, alerts, component flaps, agents going
offline, and 33 annotations (a thousand a month). The marks are asked for as the
Metrics page asks (``width=1000``; at 24 h nothing that size merges).

Both sizes are printed as sent (gzip) and as JSON (uncompressed), with the marks'
share of the charts' payload.

Target (issue 23): a 24 h chart's payload grows by at most 10 % with its marks,
both as sent and uncompressed.

Run: .venv/bin/python bench/marks_payload.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from _common import DAY_ROWS, WATCHED, fill, machine_note, table, verdict
from fastapi.testclient import TestClient
from starlette.middleware.gzip import GZipMiddleware
from timeline_read import fill as fill_marks

from dashboard_core.api import create_api
from dashboard_core.config import Config, SamplerConfig, WatchConfig
from dashboard_core.config.metrics import StorageConfig
from dashboard_core.runtime import Runtime

TARGET = 0.10  # the marks may add at most 10 % to the charts' payload


def measure(client: TestClient, url: str) -> tuple[int, int]:
    """Bytes as sent (gzip) and as JSON."""
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    response.raise_for_status()
    return response.num_bytes_downloaded, len(response.content)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(
            sampler=SamplerConfig(history_hours=DAY_ROWS / 3600),
            storage=StorageConfig(data_dir=Path(tmp)),
            watch=[WatchConfig(label=w, match="cmdline", pattern=r"streamlit_app\.py") for w in WATCHED],
        )
        rt = Runtime(config)
        fill(rt, DAY_ROWS)
        counts = fill_marks(rt.store, datetime.now(UTC).timestamp(), days=1, annotations=33)
        print(
            f"24 h in memory at 1 s ({DAY_ROWS:,} rows); in the store: "
            + ", ".join(f"{n:,} {w}" for w, n in counts.items())
        )
        print(machine_note() + "\n")
        with TestClient(GZipMiddleware(create_api(lambda: rt), minimum_size=1000)) as client:
            charts_gz, charts_raw = measure(client, "/ui/charts?window=24h&tz=Europe/Berlin")
            marks_url = "/timeline/marks?window=24h&width=1000"
            marks_gz, marks_raw = measure(client, marks_url)
            count = sum(len(marks) for marks in client.get(marks_url).json()["marks"].values())  # by kind
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
