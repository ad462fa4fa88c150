"""Many viewers and a steady API load at once: 20 headless Chromium sessions on
the live Metrics page and /api/health at 200 requests/s, for 10 minutes, on the
real server (``streamlit run streamlit_app.py`` with a copy of dashboard.toml).

Prints the server's CPU (% of one core, its process tree) and RSS every 30 s,
then the API latency percentiles side by side: the API alone (30 s before any
browser opens, the baseline) and with the sessions live. The latency of each
request counts from when it was due (open loop), measured by a separate
process.

The browsers stand in for 20 analysts' own machines but share the server's two
cores here, and one live Metrics page costs headless Chromium (software
rendering, no GPU) about a third of a core: 20 of them would take the CPU from
the server they are meant to load. So Chromium runs in a cpu cgroup with a tiny
share: the server and the API client come first, the browsers get what is left
and fall behind. To say how much load they still made, each page counts the
WebSocket messages it receives; the script prints that rate next to the rate
of one session alone (a session that keeps up).

Targets: p99 of /api/health under 20 ms at 200 requests/s on the 2-core
machine while the sessions run; RSS flat (under 10 % growth from the 2nd minute
to the end); no failed requests.

Run: .venv/bin/python bench/load.py [--sessions 20] [--rate 200] [--minutes 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from _common import ROOT, machine_note, table, verdict
from playwright.sync_api import sync_playwright
from server_rss import start_server, stop_server, tree_rss, wait_healthy

from tests.localhost import CHROMIUM, CHROMIUM_ARGS, free_port

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


CPU_CGROUP = Path("/sys/fs/cgroup/cpu")  # cgroup v1 cpu controller, as on this machine
BROWSER_SHARES = 2  # against 1024 for everything else: browsers get only what is left
# Counts WebSocket messages in the page itself (a listener in this process would
# cost the CPU the server needs).
COUNT_MESSAGES = """(() => {
  const Native = window.WebSocket;
  window.__messages = 0;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); this.addEventListener("message", () => { window.__messages += 1; }); }
  };
})();"""


@contextmanager
def low_priority_chromium(workdir: Path, cpus: float = 0.0) -> Iterator[tuple[Path, str]]:
    """A wrapper that starts Chromium with little CPU weight, and how.

    ``nice`` is not enough: Chromium running as root sets its renderers back to
    nice 0 (and its own display threads to -8). A cpu cgroup with a small
    ``cpu.shares`` holds every process it forks, whatever their nice. Falls back
    to ``nice -n 19`` where cgroups cannot be made (not root, no v1 cpu
    controller), and says so.
    """
    wrapper = workdir / "low-priority-chromium"
    group = CPU_CGROUP / f"dashboard-bench-browsers-{os.getpid()}"
    try:
        group.mkdir()
        (group / "cpu.shares").write_text(str(BROWSER_SHARES))
        if cpus > 0:  # a hard cap too: at most ``cpus`` cores' time per period
            period = int((group / "cpu.cfs_period_us").read_text())
            (group / "cpu.cfs_quota_us").write_text(str(int(cpus * period)))
    except OSError as exc:
        wrapper.write_text(f'#!/bin/sh\nexec nice -n 19 {CHROMIUM} "$@"\n')
        how = f"nice 19 (no cpu cgroup: {exc.strerror}); Chromium as root undoes it, so expect the browsers to compete"
        group = None
    else:
        wrapper.write_text(f'#!/bin/sh\necho $$ > {group / "cgroup.procs"}\nexec {CHROMIUM} "$@"\n')
        how = f"in cpu cgroup {group.name} with cpu.shares {BROWSER_SHARES} (1024 for the rest)"
        how += f", capped at {cpus:g} cores" if cpus > 0 else ""
    wrapper.chmod(0o755)
    try:
        yield wrapper, how
    finally:
        if group is not None:
            _remove_cgroup(group)


def _remove_cgroup(group: Path) -> None:
    """rmdir once the browsers' processes are gone (a few may take a moment to exit)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            group.rmdir()
            return
        except OSError:
            if time.monotonic() > deadline:
                print(f"note: could not remove {group}; remove it with rmdir once Chromium has exited", flush=True)
                return
            time.sleep(0.1)  # polling for processes to exit, with a deadline


def open_live_page(context: Any, url: str) -> Any:
    """A new session on the live Metrics page, returned once its charts are drawn.
    Pages share one browser context (its HTTP cache): each is still its own
    Streamlit session with its own WebSocket."""
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded", timeout=300_000)
    page.wait_for_selector(".js-plotly-plot", timeout=300_000)
    return page


def set_frozen(context: Any, page: Any, frozen: bool) -> None:
    """Freeze a page's timers (Chrome's page lifecycle), or let it run again.

    While the next page loads, the ones already open are frozen: twenty live
    pages sharing the browsers' small CPU share would make the last to open
    wait a quarter of an hour. Their WebSockets stay open; what arrives waits.
    """
    session = context.new_cdp_session(page)
    session.send("Page.setWebLifecycleState", {"state": "frozen" if frozen else "active"})
    session.detach()


def received(pages: list[Any]) -> list[int]:
    return [int(page.evaluate("window.__messages")) for page in pages]


def message_rate(pages: list[Any], seconds: float) -> float:
    """Messages per second per session over ``seconds``."""
    before, t0 = received(pages), time.monotonic()
    pages[0].wait_for_timeout(seconds * 1000)
    elapsed = time.monotonic() - t0
    return statistics.mean((n - n0) / elapsed for n, n0 in zip(received(pages), before))


def api_load(port: int, rate: float, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """/api/health at ``rate`` for ``seconds`` from a separate process; results in ``out``."""
    url = f"http://127.0.0.1:{port}/api/health"
    return subprocess.Popen([sys.executable, str(ROOT / "bench" / "_api_load.py"), url, str(rate), str(seconds), str(out)])


def latency_row(label: str, result: dict[str, Any]) -> list[str]:
    latencies = [x * 1000 for x in result["latencies"]]
    failed = sum(result["errors"].values())
    return [
        label,
        str(result["sent"]),
        str(len(latencies)),
        f"{failed} {result['errors'] or ''}",
        *(f"{percentile(latencies, q):.1f}" for q in (50, 95, 99)),
        f"{max(latencies):.1f}",
        f"{result['sent'] / result['seconds']:.0f}/s",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second to /api/health")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between CPU/RSS readings")
    parser.add_argument("--browser-cpus", type=float, default=0.0, help="hard cap on the browsers' CPU, cores (0: none)")
    parser.add_argument("--baseline-seconds", type=float, default=30.0, help="API load alone, before any browser")
    args = parser.parse_args()
    print(machine_note(), flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        port = free_port()
        proc, log = start_server(port, Path(tmp))
        rows: list[tuple[float, float, int]] = []
        try:
            wait_healthy(proc, port, log)
            quiet = Path(tmp) / "baseline.json"
            print(f"baseline: /api/health at {args.rate:g}/s for {args.baseline_seconds:g} s, no browser", flush=True)
            api_load(port, args.rate, args.baseline_seconds, quiet).wait()
            baseline = json.loads(quiet.read_text())
            with low_priority_chromium(Path(tmp), args.browser_cpus) as (chromium, how), sync_playwright() as pw:
                print(f"Chromium {how}", flush=True)
                browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
                try:
                    url = f"http://127.0.0.1:{port}/metrics"
                    context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    context.add_init_script(COUNT_MESSAGES)
                    pages = [open_live_page(context, url)]
                    alone = message_rate(pages, seconds=20)
                    print(f"one session alone receives {alone:.1f} messages/s (keeping up)", flush=True)
                    opened = time.monotonic()
                    for _ in range(args.sessions - 1):
                        set_frozen(context, pages[-1], True)
                        pages.append(open_live_page(context, url))
                    for page in pages[:-1]:
                        set_frozen(context, page, False)
                    print(f"{args.sessions} sessions on /metrics, charts drawn in each "
                          f"({time.monotonic() - opened:.0f} s to open them one by one); "
                          f"/api/health at {args.rate:g}/s for {args.minutes:g} min", flush=True)  # fmt: skip
                    out = Path(tmp) / "latencies.json"
                    load = api_load(port, args.rate, args.minutes * 60, out)
                    t0 = time.monotonic()
                    cpu0 = tree_cpu_seconds(proc.pid)
                    messages0 = received(pages)
                    last_t, last_cpu = t0, cpu0
                    end = t0 + args.minutes * 60
                    while time.monotonic() < end:
                        pages[0].wait_for_timeout(min(args.every, max(0.0, end - time.monotonic())) * 1000)
                        now, cpu = time.monotonic(), tree_cpu_seconds(proc.pid)
                        rows.append((now - t0, (cpu - last_cpu) / (now - last_t) * 100, tree_rss(proc.pid)))
                        last_t, last_cpu = now, cpu
                        print(f"  {rows[-1][0]:6.0f} s  CPU {rows[-1][1]:6.1f} %  RSS {rows[-1][2] / 2**20:7.1f} MiB",
                              flush=True)  # fmt: skip
                    per_session = [(n - n0) / (time.monotonic() - t0) for n, n0 in zip(received(pages), messages0)]
                    load.wait(120)
                finally:
                    browser.close()
            result = json.loads(out.read_text())
        finally:
            stop_server(proc)

    latencies = [x * 1000 for x in result["latencies"]]
    failed = sum(result["errors"].values())
    print("\nAPI /api/health latency (ms, from when each request was due):")
    print(table(["", "requests", "ok", "failed", "p50", "p95", "p99", "max", "achieved rate"], [
        latency_row("no browser (baseline)", baseline),
        latency_row(f"{args.sessions} live sessions", result),
    ]))  # fmt: skip
    print(f"\nmessages per session: {statistics.mean(per_session):.1f}/s mean, {min(per_session):.1f} to "
          f"{max(per_session):.1f}/s ({statistics.mean(per_session) / alone * 100:.0f} % of one session alone, "
          f"{alone:.1f}/s)")  # fmt: skip
    cpu = [r[1] for r in rows]
    print(f"\nserver CPU (process tree, % of one core): mean {statistics.mean(cpu):.1f}, max {max(cpu):.1f}")
    ref = next((r[2] for r in rows if r[0] >= REFERENCE_SECONDS), rows[len(rows) // 2][2])
    growth = (rows[-1][2] - ref) / ref
    print(
        f"server RSS: start {rows[0][2] / 2**20:.1f} MiB, reference {ref / 2**20:.1f} MiB, "
        f"end {rows[-1][2] / 2**20:.1f} MiB ({growth * 100:+.1f} %)"
    )
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
