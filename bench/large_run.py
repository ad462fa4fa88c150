"""A run of 20,000 tests: how long its results take to open on the Tests page and
through the API.

A real store (in a temp folder) holds one finished run of ``--tests`` tests
(realistic node ids, 1 % failures with tracebacks, 2 % skips, log-normal
durations, a few tests with subtests: ``tests/testing/large_run.py``); the real
server (``streamlit run streamlit_app.py``, as the browser tests start it) opens
that store. Then:

- **API**, best of ``--repeat``: ``GET /api/testing/runs/{id}/cases`` (the first
  page of 200, failures first, with the counts per outcome: what the page reads)
  beside the baseline ``GET /api/testing/runs/{id}`` (the run with every case:
  what the page read before issue 24 loaded into its table); ms and bytes.
- **Page**: headless Debian Chromium, a fresh tab each time (the first visit,
  which fills the HTTP cache and warms the server, is not counted), seconds from
  navigation start (``performance.now()`` in the new document) to the first
  animation frame in which the run's header shows its status and the results
  table has its first row of tests (a ``td`` holding a node id); median of
  ``--repeat``.

Prints PASS/FAIL per target: page open < 2 s; the paged read below 1/10 of the
baseline's bytes. About a minute.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - puts the repository on sys.path
from _common import machine_note, table, verdict

from dashboard_core.store import open_store
from tests.e2e.conftest import launch_server
from tests.localhost import launch_chromium
from tests.testing.large_run import fill_large_run

SUITE = "big"
OPEN_TARGET = 2.0  # seconds
# The results table has a row of tests and the run's header its status: performance.now(), else null.
TABLE_SHOWN = """() => {
  const cells = [...document.querySelectorAll('[data-testid=stDataFrame] td')];
  const row = cells.some(td => (td.textContent || '').includes('::test_case_'));
  const status = [...document.querySelectorAll('[data-testid=stMetricValue]')].some(m => m.textContent.includes('failed'));
  return row && status ? performance.now() : null;
}"""


def suite_config(folder: Path) -> str:
    return f'\n[[suites]]\nname = "{SUITE}"\npaths = ["."]\ncwd = "{folder.as_posix()}"\n'


def api_times(client: object, run_id: int, repeat: int) -> list[list[str]]:
    rows = []
    for label, path in (
        (
            "paged: GET /api/testing/runs/{id}/cases (200, failures first)",
            f"/api/testing/runs/{run_id}/cases?limit=200",
        ),
        ("baseline: GET /api/testing/runs/{id} (every case)", f"/api/testing/runs/{run_id}"),
    ):
        best, size = float("inf"), 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            response = client.get(path, timeout=120)  # type: ignore[attr-defined]
            best = min(best, time.perf_counter() - t0)
            assert response.status_code == 200, response.text[:500]
            size = len(response.content)
        rows.append([label, f"{best * 1000:.0f}", f"{size / 1e6:.2f}"])
    return rows


def page_open(browser: object, url: str, repeat: int) -> list[float]:
    times = []
    for i in range(repeat + 1):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        page = context.new_page()
        try:
            page.goto(url, wait_until="commit")
            shown = page.wait_for_function(f"() => new Promise(r => {{ const f = {TABLE_SHOWN}; const tick = () => "
                                           "{ const t = f(); t ? r(t) : requestAnimationFrame(tick); }; tick(); })",
                                           timeout=120_000)  # fmt: skip
            seconds = shown.json_value() / 1000
            if i:  # the first visit warms the cache and the server
                times.append(seconds)
            print(f"  visit {i}: {seconds:.2f} s{'' if i else ' (warm-up, not counted)'}  load {machine_note()}")
        finally:
            context.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine_note())
    with tempfile.TemporaryDirectory(prefix="large-run-") as tmp:
        folder = Path(tmp)
        data = folder / "server" / "data"  # the data dir launch_server's config names
        data.mkdir(parents=True)
        store = open_store(data)
        t0 = time.perf_counter()
        run_id = fill_large_run(store, SUITE, args.tests)
        store.close()
        print(f"store: run #{run_id} of {args.tests:,} tests written in {time.perf_counter() - t0:.1f} s")
        server = launch_server(folder / "server", suite_config(folder))
        try:
            with server.client() as client:
                api = api_times(client, run_id, args.repeat)
            print(table(["read", "ms (best)", "MB"], api))
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    times = page_open(browser, f"{server.url}/tests?suite={SUITE}&run={run_id}", args.repeat)
                finally:
                    browser.close()
        finally:
            server.stop()
    opened = statistics.median(times)
    print(f"page open (navigation to header and first rows of the table): median {opened:.2f} s of {times}")
    paged_mb, all_mb = float(api[0][2]), float(api[1][2])
    print(machine_note())
    results = [
        verdict(
            opened < OPEN_TARGET, f"a run of {args.tests:,} tests opens in {opened:.2f} s (target < {OPEN_TARGET} s)"
        ),
        verdict(
            paged_mb * 10 < all_mb,
            f"first page {api[0][1]} ms, {paged_mb} MB vs every case {api[1][1]} ms, {all_mb} MB (target < 1/10 of the bytes)",
        ),
    ]
    print("\n".join(results))
    return 0 if all(r.startswith("PASS") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
