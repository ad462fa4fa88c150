"""Links and shareable URLs in a real headless Chromium against a real server: an Events
URL opens its filters and a change of filter changes the URL (Back undoes it); an event
of a test run opens that run; a Tests URL opens its run; a component card opens the
component's history; an alert links to its chart on the Metrics page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import REPO, Server, launch_server
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST_RENDER_MS = 60_000  # first page load on a loaded server
RUN_SECONDS = 150  # two pytest runs on a loaded 2-core machine
HEADER_PX, ROW_PX = 35, 35  # a Streamlit table's header and row heights

q = json.dumps  # TOML basic strings are JSON strings
CONFIG = f"""
[[suites]]
name = "demo"
paths = ["examples/demo_suite"]
cwd = {q(str(REPO))}

[[components]]
name = "web"
check = {{ type = "tcp", host = "127.0.0.1", port = 9 }}
interval_seconds = 1
down_after = 1

[[alerts]]
name = "cpu-any"
rule = "cpu.total >= 0"
description = "holds as long as the machine runs"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One dashboard for the module: two finished runs of the demo suite, the component
    web down (nothing listens on port 9), the alert cpu-any firing."""
    srv = launch_server(tmp_path_factory.mktemp("links"), CONFIG)
    try:
        with srv.client() as api:
            for _ in range(2):
                run = api.post("/api/dashboard/testing/run-suite", json={"test_suite": "demo"}).json()["test_id"]
                wait_until(
                    lambda run=run: api.get(f"/api/testing/runs/{run}").json()["status"] not in ("queued", "running"),
                    RUN_SECONDS,
                    f"demo run {run} to end",
                )
            wait_until(lambda: api.get("/api/components/web").json()["state"] == "down", 60, "web to be down")
            wait_until(lambda: api.get("/api/dashboard/safety").json()["firing"], 60, "cpu-any to fire")
        yield srv
    finally:
        srv.stop()


def runs(server: Server) -> list[int]:
    """The demo's run ids, newest first."""
    with server.client() as api:
        return [r["id"] for r in api.get("/api/testing/runs", params={"suite": "demo"}).json()["items"]]


def heading(page: Any, title: str) -> Any:
    return page.get_by_role("heading", name=re.compile(rf"^\W*{title}$"))


def url_query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_an_events_url_opens_its_filters_and_a_change_changes_the_url(server: Server, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/events?kind=component&severity=critical&source=web&window=7d")
    expect(heading(page, "Events")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_role("radio", name="Last 7 days")).to_be_checked()
    expect(page.locator(".st-key-events_kinds")).to_contain_text("component")
    about = page.get_by_role("textbox", name="About")
    expect(about).to_have_value("web")
    pills = page.locator(".st-key-events_severities button")
    expect(pills.filter(has_text="critical")).to_have_attribute("aria-pressed", "true")
    expect(pills.filter(has_text="info")).not_to_have_attribute("aria-pressed", "true")
    table = page.get_by_test_id("stDataFrame").first
    expect(table.locator("td", has_text=re.compile(r"^web is down")).first).to_be_attached()
    expect(page.get_by_test_id("stAlert")).to_have_count(0)  # no bad value said
    steps = page.evaluate("history.length")

    about.fill("db")
    about.press("Enter")
    expect(page).to_have_url(re.compile(r"/events\?.*source=db"))
    assert url_query(page) == {"kind": ["component"], "severity": ["critical"], "source": ["db"], "window": ["7d"]}
    expect(page.get_by_text("No events match.")).to_be_visible()
    page.get_by_role("radio", name="Last hour").click()
    expect(page).to_have_url(re.compile(r"window=1h"))
    assert page.evaluate("history.length") == steps + 2  # one step per change, none from the live table

    page.go_back()  # the change before, as it was
    expect(page).to_have_url(re.compile(r"window=7d"))
    expect(page.get_by_role("radio", name="Last 7 days")).to_be_checked()
    expect(about).to_have_value("db")


def test_an_event_of_a_test_run_opens_that_run(server: Server, page: Any) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    newest = runs(server)[0]
    page.goto(f"{server.url}/events?kind=test_run")
    expect(heading(page, "Events")).to_be_visible(timeout=FIRST_RENDER_MS)
    table = page.get_by_test_id("stDataFrame").first
    expect(table.locator("td", has_text=re.compile(rf"Run {newest} of demo (passed|failed)")).first).to_be_attached()
    # The grid is a canvas: the link is the text at the start of the first row (the first
    # column), and the grid follows a link only where the pointer has hovered it (a redraw
    # of the live table in between can forget the hover: then point and click again).
    box = table.bounding_box()
    x, y = box["x"] + 20, box["y"] + HEADER_PX + ROW_PX / 2
    canvas = table.get_by_test_id("data-grid-canvas")

    def follow() -> Any:
        page.mouse.move(x, y - 5)
        page.mouse.move(x, y)
        wait_until(lambda: canvas.evaluate("c => getComputedStyle(c).cursor") == "pointer", 10, "the link hovered")
        with page.context.expect_page(timeout=10_000) as opened:
            page.mouse.click(x, y)
        return opened.value

    run_page = wait_until(follow, 90, "the link to open a tab", ignore=(PlaywrightTimeout, AssertionError))
    run_page.wait_for_load_state()
    expect(run_page).to_have_url(re.compile(rf"/tests\?suite=demo&run={newest}$"))
    expect(heading(run_page, "Tests")).to_be_visible(timeout=FIRST_RENDER_MS)
    picker = run_page.get_by_role("combobox", name="Run", exact=True).first
    expect(picker).to_have_value(re.compile(rf"^#{newest} · demo · "))
    run_page.close()


def test_a_tests_url_opens_its_run(server: Server, page: Any) -> None:
    from playwright.sync_api import expect

    older = runs(server)[1]
    page.goto(f"{server.url}/tests?run={older}")
    expect(heading(page, "Tests")).to_be_visible(timeout=FIRST_RENDER_MS)
    picker = page.get_by_role("combobox", name="Run", exact=True).first
    expect(picker).to_have_value(re.compile(rf"^#{older} · demo · "))  # not the newest
    expect(page.get_by_test_id("stAlert")).to_have_count(0)

    page.goto(f"{server.url}/tests?run=999999")
    said = page.get_by_test_id("stAlert").filter(
        has_text="run=999999 is not a run of any suite: showing the newest run"
    )
    expect(said).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(picker).to_have_value(re.compile(rf"^#{runs(server)[0]} · demo · "))


def test_a_component_card_opens_its_history(server: Server, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(server.url)
    expect(heading(page, "Overview")).to_be_visible(timeout=FIRST_RENDER_MS)
    page.locator(".st-key-component_web").get_by_role("link", name=re.compile("History$")).click()
    expect(page).to_have_url(re.compile(r"/events\?kind=component&source=web&window=7d$"))
    expect(heading(page, "Events")).to_be_visible()
    expect(page.get_by_role("textbox", name="About")).to_have_value("web")
    expect(page.get_by_role("radio", name="Last 7 days")).to_be_checked()
    table = page.get_by_test_id("stDataFrame").first
    expect(table.locator("td", has_text=re.compile(r"^web is down")).first).to_be_attached()


def test_an_alert_links_to_its_chart_on_the_metrics_page(server: Server, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(server.url)
    expect(heading(page, "Overview")).to_be_visible(timeout=FIRST_RENDER_MS)
    chart = page.locator(".st-key-alert_links_cpu-any").get_by_role("link", name=re.compile("Chart of cpu.total$"))
    expect(chart).to_have_attribute("href", re.compile(r"^metrics\?"))  # relative: the app may sit under a path
    href = chart.get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    assert set(query) == {"from", "to", "chart"} and query["chart"] == ["cpu"], href
    start, end = (re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z", query[k][0]) for k in ("from", "to"))
    assert start and end and query["from"][0] < query["to"][0], href
    rule = page.locator(".st-key-alert_links_cpu-any").get_by_role("link", name=re.compile("Rule cpu-any$"))
    expect(rule).to_have_attribute("href", "safety?rule=cpu-any")
    chart.click()
    expect(page).to_have_url(re.compile(r"/metrics\?.*chart=cpu"))
    expect(heading(page, "Metrics")).to_be_visible()
