"""Server memory over time with one live viewer: starts the real server
(``streamlit run streamlit_app.py`` with a copy of dashboard.toml), opens ONE
headless Chromium page on /metrics (Live on: cards every second, charts every
5 s) and records the server's RSS (its process tree, psutil) every 10 s.

Why: the dashboard runs for weeks; a page that leaks per redraw, or history
that grows past its ring buffer, shows up as RSS that keeps climbing. The
sampler's frame is preallocated, so after start-up the curve should be flat.
The baseline is the server itself at the 2nd minute (start-up and the first
page loads done); growth from there to the end must stay under 10 %.

Run: .venv/bin/python bench/server_rss.py [--minutes 10] [--every 10]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
from _common import ROOT, machine_note, table, verdict
from playwright.sync_api import Browser, Page, sync_playwright

from tests.localhost import free_port, launch_chromium

GROWTH_LIMIT = 0.10
REFERENCE_SECONDS = 120.0  # "the 2nd minute"


def start_server(port: int, workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """The real server with a copy of dashboard.toml (its data dir in ``workdir``)."""
    config = workdir / "dashboard.toml"
    shutil.copy(ROOT / "dashboard.toml", config)
    # Paths in the config are relative to it: the example suites and workflows come along.
    shutil.copytree(ROOT / "examples", workdir / "examples")
    log = workdir / "server.log"
    cmd = [
        str(ROOT / ".venv" / "bin" / "streamlit"), "run", "streamlit_app.py",
        "--server.port", str(port), "--server.headless", "true",
        "--", "--config", str(config),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return proc, log


def wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 90.0) -> float:
    """Seconds until /_stcore/health answers 200."""
    t0 = time.monotonic()
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server not healthy after {timeout:.0f} s:\n{log.read_text(errors='replace')[-2000:]}")


def tree_rss(pid: int) -> int:
    """RSS of the process and its children, bytes."""
    root = psutil.Process(pid)
    total = 0
    for p in [root, *root.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def open_page(browser: Browser, port: int) -> tuple[Page, str]:
    """The /metrics page, and whether its charts were drawn."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"http://127.0.0.1:{port}/metrics", wait_until="domcontentloaded", timeout=60_000)
    try:
        page.wait_for_selector(".js-plotly-plot", timeout=90_000)
        state = f"{page.locator('.js-plotly-plot').count()} charts drawn"
    except Exception as exc:  # noqa: BLE001 - report and keep measuring
        state = f"no chart seen ({type(exc).__name__}); measuring anyway"
    return page, state


def record(pid: int, page: Page, minutes: float, every: float) -> list[tuple[float, int]]:
    """(seconds since the page opened, RSS bytes) every ``every`` s; prints as it goes."""
    curve: list[tuple[float, int]] = []
    t0 = time.monotonic()
    end = t0 + minutes * 60
    next_at = t0
    while True:
        now = time.monotonic()
        curve.append((now - t0, tree_rss(pid)))
        print(f"  {curve[-1][0]:6.0f} s  {curve[-1][1] / 2**20:7.1f} MiB", flush=True)
        if now >= end - 0.5:
            return curve
        next_at = min(next_at + every, end)
        page.wait_for_timeout(max(0.0, next_at - time.monotonic()) * 1000)  # keeps Playwright's loop serviced


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def report(curve: list[tuple[float, int]]) -> bool:
    total = curve[-1][0]
    long_enough = total >= REFERENCE_SECONDS + 60
    ref_at = REFERENCE_SECONDS if long_enough else total / 2
    ref = next(rss for t, rss in curve if t >= ref_at - 0.5)
    last = curve[-1][1]
    growth = (last - ref) / ref
    peak = max(rss for _, rss in curve)
    minutes = [(t, rss) for t, rss in curve if round(t) % 60 == 0 or (t, rss) == curve[-1]]
    print("\nper minute:\n" + table(["seconds", "RSS MiB"], [[f"{t:.0f}", f"{rss / 2**20:.1f}"] for t, rss in minutes]))
    print(f"\nfirst {curve[0][1] / 2**20:.1f} MiB, at {ref_at:.0f} s {ref / 2**20:.1f} MiB, end {last / 2**20:.1f} MiB, "
          f"peak {peak / 2**20:.1f} MiB; growth from {ref_at:.0f} s to the end {growth * 100:+.1f} %")
    if not long_enough:
        print(f"(run shorter than {REFERENCE_SECONDS + 60:.0f} s: the reference is the midpoint, not the 2nd minute)")
    ok = growth < GROWTH_LIMIT
    print("\n" + verdict(ok, f"RSS {'flat' if ok else 'growing'}: {growth * 100:+.1f} % from {ref_at:.0f} s to "
                             f"{total:.0f} s (limit {GROWTH_LIMIT * 100:.0f} %)"))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to record after the page opened")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between RSS readings")
    args = parser.parse_args()

    print(machine_note(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        port = free_port()
        proc, log = start_server(port, Path(tmp))
        try:
            up = wait_healthy(proc, port, log)
            print(f"server pid {proc.pid} on port {port}: healthy after {up:.1f} s, RSS {tree_rss(proc.pid) / 2**20:.1f} MiB",
                  flush=True)
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    page, state = open_page(browser, port)
                    print(f"one Chromium page on /metrics: {state}; RSS every {args.every:g} s for {args.minutes:g} min",
                          flush=True)
                    curve = record(proc.pid, page, args.minutes, args.every)
                finally:
                    browser.close()
        finally:
            stop_server(proc)
    return 0 if report(curve) else 1


if __name__ == "__main__":
    sys.exit(main())
