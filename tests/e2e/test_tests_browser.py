"""The Tests page in a real headless Chromium against a real server: press Run,
watch the run live, and see its results when it ends (no reload, no sleeps)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.polling import wait_until
from tests.testing.conftest import suites_entries

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST_RENDER_MS = 60_000  # first page load on a fresh, loaded server
RUN_MS = 120_000  # a pytest run on a loaded 2-core machine


def card(page: Any, suite: str) -> Any:
    return page.locator(f".st-key-card_{suite}")


def showing(scope: Any, test_id: str, text: str | re.Pattern[str]) -> Any:
    """The first element of this kind that shows the text.

    While Streamlit reruns, an element it is replacing can sit next to the new
    one for a moment: a locator for "the" element would then match two.
    """
    return scope.get_by_test_id(test_id).filter(has_text=text).first


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(text)}$")


def with_icon(text: str) -> re.Pattern[str]:
    """The text after a Material icon (the browser's text of one is its name, ``check_circle``)."""
    return re.compile(rf"^[a-z_]+\s*{re.escape(text)}$")


def test_run_a_suite_watch_it_live_and_see_its_results(
    server_factory: Callable[..., Server], page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server = server_factory(suites_entries(tmp_path))
    page.goto(f"{server.url}/tests")
    expect(page.get_by_role("heading", name=re.compile(r"^\W*Tests$"))).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(showing(card(page, "demo"), "stMetricValue", exactly("never run"))).to_be_visible()
    expect(page.get_by_text("Nothing is running", exact=False)).to_be_visible()

    # Live: the gated run stops half way until the test lets it go on.
    card(page, "gated").get_by_role("button", name=re.compile("Run$")).first.click()
    live = page.locator("[class*='st-key-active_']")
    expect(showing(live, "stProgress", "1 of 3 tests done")).to_be_visible(timeout=RUN_MS)
    expect(showing(live, "stMarkdown", "1 passed · 0 failed · 0 errors")).to_be_visible()
    expect(showing(live, "stCaptionContainer", "test_waits_for_the_gate")).to_be_visible()  # the current test
    expect(live.get_by_role("log").filter(has_text="test_gated.py").first).to_be_visible()  # the log tail
    expect(card(page, "gated").get_by_role("button", name=re.compile("Cancel$")).first).to_be_visible()
    (tmp_path / "gate").touch()
    # The page notices the end by itself and refreshes the card.
    expect(showing(card(page, "gated"), "stMetricValue", with_icon("passed"))).to_be_visible(timeout=RUN_MS)
    expect(live).to_have_count(0)

    # The demo: every outcome, results table, downloads.
    card(page, "demo").get_by_role("button", name=re.compile("Run$")).first.click()
    expect(showing(card(page, "demo"), "stMetricValue", with_icon("failed"))).to_be_visible(timeout=RUN_MS)
    expect(showing(card(page, "demo"), "stCaptionContainer", "1 failed, 7 passed")).to_be_visible()
    status = page.get_by_test_id("stMetric").filter(has=page.get_by_text("Status", exact=True))
    expect(showing(status, "stMetricValue", with_icon("failed"))).to_be_visible()
    summary = page.get_by_text("1 failed, 7 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error", exact=True)
    expect(summary.first).to_be_visible()
    # The run picker shows the run just started, relabelled now that it ended.
    picker = page.get_by_role("combobox", name="Run", exact=True).first
    expect(picker).to_have_value(re.compile(r"^#\d+ · demo · failed · 1 failed, 7 passed… · "))
    expect(page.get_by_role("table", name=re.compile(r"^Tests of run \d+: 12 of 12 tests shown\.$"))).to_be_visible()
    expect(page.get_by_text("12 of 12 tests shown.").first).to_be_visible()
    expect(page.get_by_role("link", name="Results CSV").first).to_have_attribute(
        "href", re.compile(r"^api/testing/runs/\d+/cases\.csv$")
    )
    expect(page.get_by_role("button", name=re.compile("Re-run the 2 failed tests$")).first).to_be_visible()
    # The run opens on its Tests tab: its charts are drawn only when their tab is picked.
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(0)
    page.get_by_role("tab", name="Suite history").click()
    expect(page.get_by_role("heading", name=re.compile("History of demo")).first).to_be_visible(timeout=RUN_MS)
    expect(page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg').first).to_be_attached()
    wait_until(lambda: "tab=history" in page.url, 30, "the tab in the page's URL")


def more_suites(tmp_path: Path, n: int) -> str:
    """``n`` more suites (copies of the gated one), so the suite cards fill more than a screen."""
    gated = json.dumps(str(tmp_path / "gated"))
    return "".join(f'\n[[suites]]\nname = "more{i}"\npaths = [{gated}]\ncwd = {gated}\n' for i in range(n))


def test_after_run_the_progress_is_in_view_and_the_results_fill_in_while_it_runs(
    server_factory: Callable[..., Server], page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 1400, "height": 800})
    server = server_factory(suites_entries(tmp_path) + more_suites(tmp_path, 6))
    page.goto(f"{server.url}/tests")
    expect(page.get_by_role("heading", name=re.compile(r"^\W*Tests$"))).to_be_visible(timeout=FIRST_RENDER_MS)
    card(page, "gated").get_by_role("button", name=re.compile("Run$")).first.click()

    # The run's progress shows where the person is looking: no scrolling down past the cards.
    live = page.locator("[class*='st-key-active_']")
    expect(showing(live, "stProgress", "1 of 3 tests done")).to_be_visible(timeout=RUN_MS)
    expect(live.first).to_be_in_viewport()

    # Its results show the test finished so far, beside the live counts, while it still runs.
    expect(page.get_by_text("1 of 1 tests shown.").first).to_be_visible(timeout=RUN_MS)
    expect(page.get_by_text("No test has finished yet")).to_have_count(0)
    (tmp_path / "gate").touch()
    expect(page.get_by_text("3 of 3 tests shown.").first).to_be_visible(timeout=RUN_MS)
