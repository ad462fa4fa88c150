"""Tables as a new user reads them, in a real headless Chromium against a real server:
a crash-looping service is one Events row ("crashy restarted 12 times in ..."), kinds
in words, a time range, the whole table at once, severity pills whole at 1400 and
390 px, and no "None" in any cell of the Events, Tests and Workflows tables."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import REPO, Server
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST_RENDER_MS = 60_000  # first page load on a fresh, loaded server
RESTARTS = 12
RUN_SECONDS = 150  # a dozen Python starts and a pytest run on a loaded 2-core machine

q = json.dumps  # TOML basic strings are JSON strings


def config() -> str:
    crash = [sys.executable, "-c", "raise SystemExit(3)"]
    return f"""
[[suites]]
name = "demo"
paths = ["examples/demo_suite"]
cwd = {q(str(REPO))}

[[workflows]]
name = "crashy"
service = true
restart = "always"
backoff_seconds = 0.05
backoff_max_seconds = 0.1
max_restarts = {RESTARTS}
autostart = true
[[workflows.steps]]
name = "serve"
argv = {q(crash)}
"""


def settled(server: Server) -> int:
    """Run the demo suite and wait for it and for the crashing service to give up; the
    number of events then."""
    with server.client() as api:
        run = api.post("/api/dashboard/testing/run-suite", json={"test_suite": "demo"}).json()["test_id"]

        def done() -> bool:
            suite = api.get(f"/api/testing/runs/{run}").json()["status"] not in ("queued", "running")
            service = [r["status"] for r in api.get("/api/workflows/runs", params={"workflow": "crashy"}).json()]
            return suite and service == ["failed"]

        wait_until(done, RUN_SECONDS, "the demo run to end and crashy to give up")
        return len(api.get("/api/events", params={"limit": 1000}).json()["events"])


def cells(page: Any) -> list[str]:
    """The text of every cell of the tables on the page (the grids' accessible tables, hidden)."""
    return [t.strip() for t in page.get_by_test_id("stDataFrame").locator("td").all_text_contents()]


# The tables are drawn on a canvas (glide-data-grid), and their accessible copy leaves a
# missing value empty where the canvas writes "None": so record what the canvas writes.
RECORD_CANVAS_TEXT = """(() => {
    const fill = CanvasRenderingContext2D.prototype.fillText;
    window.__drawn = new Set();
    CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
        window.__drawn.add(String(text));
        return fill.call(this, text, ...rest);
    };
})();"""


def drawn(page: Any) -> list[str]:
    return page.evaluate("() => [...window.__drawn]")


def no_none_cells(page: Any, what: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stDataFrame").first.locator("td").first).to_be_attached()
    # A cell is drawn once the grid has its data: wait for a cell's text on the canvas (one
    # of the first row's: a link cell, as the Events table's first, draws another text).
    first = set(page.get_by_test_id("stDataFrame").first.locator("td").all_text_contents()[:8])
    wait_until(lambda: bool(first & set(drawn(page))), 30, f"{what}: the table to be drawn")
    assert "None" not in drawn(page), f"{what}: {sorted(drawn(page))}"


# Each pill not seen whole: wider than its box, past the window, or clipped by what holds it
# (then its right end is not what the browser finds at that point).
CUT_PILLS = """() => [...document.querySelectorAll('[data-testid="stButtonGroup"] button')]
    .filter(b => {
        const r = b.getBoundingClientRect();
        const end = document.elementFromPoint(r.right - 3, r.top + r.height / 2);
        return b.scrollWidth > b.clientWidth + 1 || r.right > window.innerWidth || !b.contains(end);
    })
    .map(b => b.innerText)"""


def no_cut_pills(page: Any) -> None:
    """Every severity pill whole, once nothing lies over them: under load the closing
    dropdown above them still covered all three (each "cut" at its right edge)."""
    wait_until(lambda: page.evaluate(CUT_PILLS) == [], 30, "the severity pills to be whole and uncovered")


def test_events_collapse_repeats_read_in_words_in_a_time_range_at_full_height(
    server_factory: Callable[..., Server], page: Any
) -> None:
    from playwright.sync_api import expect

    page.add_init_script(RECORD_CANVAS_TEXT)
    server = server_factory(config())
    total = settled(server)
    assert total > RESTARTS + 2, total
    page.goto(f"{server.url}/events")
    expect(page.get_by_role("heading", name=re.compile(r"^\W*Events$"))).to_be_visible(timeout=FIRST_RENDER_MS)

    # A time range, preset like the Metrics window; the last 24 h to begin with.
    expect(page.get_by_role("radio", name="Last 24 h")).to_be_checked()
    expect(page.get_by_role("radio", name="Custom")).to_be_visible()

    # The crash loop is one row; kinds read as words.
    table = page.get_by_test_id("stDataFrame").first
    expect(table.locator("td", has_text=re.compile(rf"^crashy restarted {RESTARTS} times in "))).to_have_count(1)
    expect(table.locator("td", has_text=re.compile(r"^test run$")).first).to_be_attached()
    assert "test_run" not in cells(page)
    page.get_by_role("combobox", name="Kind").click()
    expect(page.get_by_role("option", name="test run")).to_be_visible()
    page.keyboard.press("Escape")
    no_none_cells(page, "the Events table")
    page.get_by_role("button", name=re.compile("critical$")).scroll_into_view_if_needed()
    no_cut_pills(page)

    # Every event, one row each, in a table as tall as its rows (not a box of ten rows).
    page.get_by_text("Collapse repeats", exact=True).click()
    expect(page.get_by_text(re.compile(rf"^The {total} newest matching events; "))).to_be_visible()
    expect(table.locator("td", has_text=re.compile(r"^crashy restarted"))).to_have_count(0)
    height = table.bounding_box()["height"]
    assert height >= 30 * (total + 1), (height, total)

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name=re.compile("critical$")).scroll_into_view_if_needed()
    expect(page.get_by_role("button", name=re.compile("critical$"))).to_be_in_viewport()
    no_cut_pills(page)


def test_no_none_in_the_tests_and_workflows_tables_and_failures_first(
    server_factory: Callable[..., Server], page: Any
) -> None:
    from playwright.sync_api import expect

    page.add_init_script(RECORD_CANVAS_TEXT)
    server = server_factory(config())
    settled(server)
    page.goto(f"{server.url}/tests")
    expect(page.get_by_text("12 of 12 tests shown.").first).to_be_visible(timeout=FIRST_RENDER_MS)
    # The results table is plain HTML (dashboard_core/app/html_table.py): no canvas, its
    # cells' text is what shows, and an empty cell is drawn as a dash by the CSS.
    table = page.locator("table[data-table=tests_cases]")
    expect(table.locator("tbody td").first).to_be_attached()
    texts = [t.strip() for t in table.locator("td").all_text_contents()]
    assert "None" not in texts and "nan" not in texts, texts
    assert "" in texts  # a passing test has no message...
    blank = "el => getComputedStyle(el, '::before').content"
    assert table.locator("td:empty").first.evaluate(blank) == '"—"'  # ...and shows a dash
    expect(table.locator("tbody tr").first).to_contain_text(re.compile(r"failed|error"))  # failures first

    page.goto(f"{server.url}/workflows")
    expect(page.get_by_role("heading", name=re.compile(r"^\W*Workflows$"))).to_be_visible(timeout=FIRST_RENDER_MS)
    no_none_cells(page, "the Workflows page's tables")
