"""Many viewers and a steady API load at once: 20 headless Chromium sessions on
the live Metrics page and /api/health at 200 requests/s, for 10 minutes, on the
real server (``streamlit run streamlit_app.py`` with a copy of dashboard.toml).

Prints the server's CPU (% of one core, its process tree) and RSS every 30 s,
then the API latency percentiles. The latency of each request counts from when
it was due (open loop), measured by a separate process.

Targets: p99 of /api/health under 20 ms at 200 requests/s on the 2-core
machine while the sessions run; RSS flat (under 10 % growth from the 2nd minute
to the end); no failed requests.

Run: .venv/bin/python bench/load.py [--sessions 20] [--rate 200] [--minutes 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _common import ROOT, machine_note, table, verdict
from playwright.sync_api import sync_playwright
from server_rss import start_server, stop_server, tree_rss, wait_healthy

from tests.localhost import free_port, launch_chromium

P99_TARGET_MS = 20.0
GROWTH_LIMIT = 0.10
REFERENCE_SECONDS = 120.0


def tree_cpu_seconds(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second to /api/health")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between CPU/RSS readings")
    args = parser.parse_args()
    print(machine_note(), flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        port = free_port()
        proc, log = start_server(port, Path(tmp))
        rows: list[tuple[float, float, int]] = []
        try:
            wait_healthy(proc, port, log)
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    pages = []
                    for _ in range(args.sessions):
                        context = browser.new_context(viewport={"width": 1400, "height": 1000})
                        page = context.new_page()
                        page.goto(f"http://127.0.0.1:{port}/metrics", wait_until="domcontentloaded", timeout=120_000)
                        pages.append(page)
                    drawn = 0
                    deadline = time.monotonic() + 180  # one deadline for all: a slow page must not stall the rest
                    for page in pages:
                        try:
                            left = max(1.0, deadline - time.monotonic())
                            page.wait_for_selector(".js-plotly-plot", timeout=left * 1000)
                            drawn += 1
                        except Exception:  # noqa: BLE001 - counted and reported
                            pass
                    print(f"{args.sessions} sessions on /metrics, {drawn} with charts drawn; "
                          f"/api/health at {args.rate:g}/s for {args.minutes:g} min", flush=True)  # fmt: skip
                    out = Path(tmp) / "latencies.json"
                    load = subprocess.Popen(
                        [sys.executable, str(ROOT / "bench" / "_api_load.py"), f"http://127.0.0.1:{port}/api/health",
                         str(args.rate), str(args.minutes * 60), str(out)],
                        cwd=ROOT,
                    )  # fmt: skip
                    t0 = time.monotonic()
                    cpu0 = tree_cpu_seconds(proc.pid)
                    last_t, last_cpu = t0, cpu0
                    end = t0 + args.minutes * 60
                    while time.monotonic() < end:
                        pages[0].wait_for_timeout(min(args.every, max(0.0, end - time.monotonic())) * 1000)
                        now, cpu = time.monotonic(), tree_cpu_seconds(proc.pid)
                        rows.append((now - t0, (cpu - last_cpu) / (now - last_t) * 100, tree_rss(proc.pid)))
                        last_t, last_cpu = now, cpu
                        print(f"  {rows[-1][0]:6.0f} s  CPU {rows[-1][1]:6.1f} %  RSS {rows[-1][2] / 2**20:7.1f} MiB",
                              flush=True)  # fmt: skip
                    load.wait(120)
                finally:
                    browser.close()
            result = json.loads(out.read_text())
        finally:
            stop_server(proc)

    latencies = [x * 1000 for x in result["latencies"]]
    failed = sum(result["errors"].values())
    print("\nAPI /api/health latency (ms, from when each request was due):")
    print(table(["requests", "ok", "failed", "p50", "p95", "p99", "max", "achieved rate"], [[
        str(result["sent"]), str(len(latencies)), f"{failed} {result['errors'] or ''}",
        *(f"{percentile(latencies, q):.1f}" for q in (50, 95, 99)), f"{max(latencies):.1f}",
        f"{result['sent'] / result['seconds']:.0f}/s",
    ]]))  # fmt: skip
    cpu = [r[1] for r in rows]
    print(f"\nserver CPU (process tree, % of one core): mean {statistics.mean(cpu):.1f}, max {max(cpu):.1f}")
    ref = next((r[2] for r in rows if r[0] >= REFERENCE_SECONDS), rows[len(rows) // 2][2])
    growth = (rows[-1][2] - ref) / ref
    print(f"server RSS: start {rows[0][2] / 2**20:.1f} MiB, reference {ref / 2**20:.1f} MiB, "
          f"end {rows[-1][2] / 2**20:.1f} MiB ({growth * 100:+.1f} %)")
    p99 = percentile(latencies, 99)
    checks = [
        verdict(p99 < P99_TARGET_MS, f"p99 of /api/health {p99:.1f} ms at {args.rate:g}/s < {P99_TARGET_MS:g} ms"),
        verdict(growth < GROWTH_LIMIT, f"RSS growth {growth * 100:+.1f} % < {GROWTH_LIMIT * 100:.0f} %"),
        verdict(failed == 0, f"{failed} failed requests"),
    ]
    print("\n" + "\n".join(checks))
    return 0 if all(c.startswith("PASS") for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
