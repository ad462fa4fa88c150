"""A run of 5,000 tests on the Tests page in a real headless Chromium against a
real server: it opens with a page of its table, failures first, and filters to
its failures with the outcome pills (no reload, no sleeps)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from dashboard_core.store import open_store
from tests.e2e.conftest import Server
from tests.testing.large_run import fill_large_run, large_cases

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

N = 5000
FIRST_RENDER_MS = 90_000  # first page load on a fresh, loaded server
SUITE = '\n[[suites]]\nname = "big"\npaths = ["."]\ncwd = "."\n'


def test_a_large_run_opens_and_filters_to_its_failures(server_factory: Callable[..., Server], page: Any) -> None:
    from playwright.sync_api import expect

    server = server_factory(SUITE)
    store = open_store(server.config.parent / "data")
    try:
        run_id = fill_large_run(store, "big", N)
    finally:
        store.close()
    failing = [c.nodeid for c in large_cases(N) if c.outcome == "failed"]

    page.goto(f"{server.url}/tests?suite=big&run={run_id}")
    caption = page.get_by_text(re.compile(r"tests shown")).first
    expect(caption).to_contain_text(f"1–200 of {N:,} tests shown", timeout=FIRST_RENDER_MS)
    table = page.locator("table[data-table=tests_cases]")  # plain HTML: ui/style.py, html_table.py
    expect(table.locator("td").filter(has_text=failing[0]).first).to_be_attached(timeout=FIRST_RENDER_MS)

    pills = page.get_by_role("toolbar", name="Outcome")
    for outcome in ("passed", "error", "skipped", "xfailed", "xpassed"):
        pill = pills.get_by_role("button", name=re.compile(rf"^{outcome} [\d,]+$"))
        pill.click()
        expect(pill).not_to_have_attribute("aria-pressed", "true", timeout=FIRST_RENDER_MS)
    expect(caption).to_contain_text(f"{len(failing)} of {N:,} tests shown", timeout=FIRST_RENDER_MS)
    expect(pills.get_by_role("button", name=f"failed {len(failing)}")).to_have_attribute("aria-pressed", "true")
    expect(table.locator("td").filter(has_text=failing[0]).first).to_be_attached()
    expect(table.locator("td").filter(has_text="needs a GPU")).to_have_count(0)  # no skipped test left
