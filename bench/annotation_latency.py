"""From ``POST /api/annotations`` to the mark drawn on an open chart: the real server
(``dashboard serve`` with a copy of dashboard.toml, as ``server_rss.py`` starts it)
and a headless Chromium tab on the Metrics page (15 minutes window, live). Each
trial posts an annotation through the API (as a CI job or a deploy script would;
trial i at i x 30 s ago, so no two are within a pixel and drawn merged) and waits,
one animation frame at a time in the page, until the CPU chart's lane has its
handle (named by its text); the time is taken in this process, from just before
the POST to the page's answer.

What it goes through: the store, the event of kind ``annotation``, the page's
event stream (``/api/events/stream``), which asks for the marks again
(``/api/timeline/marks``), and the redraw.

Target (issue 23): a new annotation is on open charts within 1 s: every trial.

    .venv/bin/python bench/annotation_latency.py [--trials 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _browser import BROWSER_ARGS, VIEWPORT
from _common import machine_note, table, verdict
from playwright.sync_api import sync_playwright
from server_rss import start_server, stop_server, wait_healthy

from tests.localhost import CHROMIUM, free_port

TARGET_S = 1.0
SPACING_S = 30  # between two trials' annotations on the time axis: never within a pixel of 15 min
DRAWN = "text => [...document.querySelectorAll(\"#chart-cpu [data-testid='dlMark']\")].some(h => h.getAttribute('aria-label') === text)"


def post_annotation(base: str, text: str, ago_s: float) -> None:
    at = datetime.now(UTC) - timedelta(seconds=ago_s)
    body = json.dumps({"text": text, "tags": ["bench"], "start": at.isoformat()}).encode()
    request = urllib.request.Request(
        f"{base}/api/annotations", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status not in (200, 201):
            raise RuntimeError(f"POST /api/annotations answered {response.status}")


def trials(base: str, n: int, pause_s: float) -> list[float]:
    """Seconds from each POST to its mark drawn."""
    seen: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{base}/metrics?window=15m")
            page.wait_for_selector("#chart-cpu .js-plotly-plot", timeout=120_000)
            page.wait_for_function(  # the marks' first read is in: nothing drawn yet, the lane is there
                "() => document.querySelector('#chart-cpu .js-plotly-plot')?._fullData?.length > 0", timeout=120_000
            )
            for i in range(n):
                text = f"bench annotation {i + 1}"
                t0 = time.perf_counter()
                post_annotation(base, text, i * SPACING_S)
                page.wait_for_function(DRAWN, arg=text, polling="raf", timeout=30_000)
                seen.append(time.perf_counter() - t0)
                print(f"trial {i + 1}: {seen[-1] * 1000:.0f} ms", flush=True)
                time.sleep(pause_s)  # a pause between trials, not synchronisation
        finally:
            browser.close()
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10, help="annotations posted, one after another (at most 25)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between two trials")
    args = parser.parse_args()
    if not 1 <= args.trials <= 25:
        parser.error("--trials: 1 to 25 (each 30 s further back in the 15-minute window)")
    with tempfile.TemporaryDirectory(prefix="bench-annotation-") as tmp:
        workdir = Path(tmp) / "server"
        workdir.mkdir()
        port = free_port()
        proc, log = start_server(port, workdir)
        try:
            up = wait_healthy(proc, port, log)
            print(f"{machine_note()}\nserver on port {port}: healthy after {up:.1f} s", flush=True)
            seen = trials(f"http://127.0.0.1:{port}", args.trials, args.pause)
        finally:
            stop_server(proc)
    ms = sorted(s * 1000 for s in seen)
    print(
        table(
            ["trials", "median, ms", "max, ms", "min, ms"],
            [[str(len(ms)), f"{statistics.median(ms):.0f}", f"{ms[-1]:.0f}", f"{ms[0]:.0f}"]],
        )
    )
    ok = ms[-1] <= TARGET_S * 1000
    print(verdict(ok, f"every annotation drawn on the open chart within {TARGET_S:g} s (slowest {ms[-1]:.0f} ms)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
