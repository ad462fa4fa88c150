"""Marks on the Metrics charts in a real headless Chromium against a real server: a test
run's band (hover it, click it, land on the run), an annotation posted through the API
appearing on an open chart, a click on the plot asking what ran at that moment, and a span
dragged on a chart whose story and evidence bundle are downloaded and read."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_browser import FIRST_RENDER_MS, LOADED_MS, heading, newest_x
from tests.polling import wait_until
from tests.testing.conftest import suites_entries

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

RUN_S = 120  # a pytest run on a loaded 2-core machine
SEEN_S = 30  # a mark on an open chart after the event that makes it (it takes about a second)


def run_mark(page: Any, run_id: int, chart: str = "cpu") -> Any:
    """The handle of a run's mark in a chart's lane (a link to the run)."""
    return page.locator(f"#chart-{chart} [data-testid='dlMark'][href$='run={run_id}']")


# The bands plotly.js drew on the CPU chart.
SHAPES_ON_CPU = """() => { const gd = document.querySelector('#chart-cpu .js-plotly-plot');
    return ((gd && gd._fullLayout.shapes) || []).filter(s => s.type === 'rect').length; }"""


def hover_text(page: Any, handle: Any) -> str:
    """What the page says when the pointer rests on a mark's handle."""
    handle.hover(timeout=5_000)
    return str(page.get_by_test_id("dlMarkTip").inner_text(timeout=1_000))


def open_metrics(page: Any, server: Server, window: str = "5m") -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/metrics?window={window}")
    expect(heading(page, "Metrics")).to_be_visible(timeout=FIRST_RENDER_MS)
    wait_until(lambda: newest_x(page), FIRST_RENDER_MS / 1000, "the CPU chart to hold data", interval=0.25)


def start_run(server: Server, suite: str) -> int:
    with server.client() as client:
        response = client.post("/api/dashboard/testing/run-suite", json={"test_suite": suite})
        response.raise_for_status()
        return int(response.json()["test_id"])


def run_status(server: Server, run_id: int) -> str:
    with server.client() as client:
        return str(client.get(f"/api/testing/runs/{run_id}").json()["status"])


def test_a_runs_band_names_it_on_hover_and_leads_to_it(
    server_factory: Callable[..., Server], page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    server = server_factory(suites_entries(tmp_path))
    open_metrics(page, server)
    run = start_run(server, "gated")  # holds in its middle test until the gate file exists

    # Drawn while it runs (the event stream says a run started; nothing polls for marks) ...
    handle = run_mark(page, run)
    expect(handle).to_be_visible(timeout=SEEN_S * 1000)
    wait_until(lambda: page.evaluate(SHAPES_ON_CPU) == 1, SEEN_S, "the run's band on the CPU chart")
    # ... and on every other time chart of the page.
    page.locator("#chart-memory").scroll_into_view_if_needed()
    expect(run_mark(page, run, "memory")).to_be_attached(timeout=SEEN_S * 1000)
    (tmp_path / "gate").touch()
    wait_until(lambda: run_status(server, run) == "passed", RUN_S, f"run {run} to pass")

    # Hover: what it is, how it ended, when.
    page.locator("#chart-cpu").scroll_into_view_if_needed()
    tip = page.get_by_test_id("dlMarkTip")
    wait_until(
        lambda: hover_text(page, handle).startswith(f"Test run {run} of gated: passed"),
        SEEN_S,
        "the hover text to name the run as passed",
        ignore=(PlaywrightError,),
    )
    expect(tip).to_contain_text("3 passed")
    expect(tip).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d – \d\d:\d\d:\d\d"))

    # A click on the plot (not on a mark's handle) asks what ran then: without the moment API
    # (GET /api/metrics/processes/at) the panel says it is not available; with it, a moment
    # before the server's first snapshot (the middle of this young server's 5 minutes) has
    # a note that says so, and one with a snapshot says "(snapshot of …)" in its title.
    plot = page.locator("#chart-cpu .nsewdrag").first
    moment = page.get_by_test_id("dlMoment")
    tries = iter([0.5, 0.45, 0.55, 0.4, 0.6] * 4)

    def clicked() -> bool:
        """Plotly reports a click only over a point it hovers; a busy page may redraw the chart
        under the pointer or have no sample just there: click again, a little aside."""
        box = plot.bounding_box()
        page.mouse.click(box["x"] + box["width"] * next(tries), box["y"] + box["height"] * 0.6)
        try:
            expect(moment).to_be_visible(timeout=10_000)
        except AssertionError:
            return False
        return True

    wait_until(clicked, LOADED_MS / 1000, "the moment panel after a click on the plot", ignore=(PlaywrightError,))
    expect(moment).to_contain_text(re.compile(r"^At \d{4}-\d\d-\d\d"))
    expect(moment).to_contain_text(re.compile(r"Not available|snapshot", re.IGNORECASE))

    # Click: the run's page.
    handle.click()
    expect(page).to_have_url(re.compile(rf"/tests\?suite=gated&run={run}$"), timeout=LOADED_MS)
    expect(heading(page, "Tests")).to_be_visible(timeout=FIRST_RENDER_MS)
    picker = page.get_by_role("combobox", name="Run", exact=True).first
    expect(picker).to_have_value(re.compile(rf"^#{run} · gated · passed"), timeout=LOADED_MS)


def test_a_kind_hidden_by_its_chip_stays_hidden_after_a_reload(
    server_factory: Callable[..., Server], page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server = server_factory(suites_entries(tmp_path))
    run = start_run(server, "demo")
    wait_until(lambda: run_status(server, run) not in ("queued", "running"), RUN_S, f"run {run} to end")
    open_metrics(page, server)
    marks = page.locator("[data-testid='dlMark'][data-kind='test_run']")
    expect(run_mark(page, run)).to_be_visible(timeout=SEEN_S * 1000)
    chip = page.get_by_test_id("dlMarkKinds").locator("[data-kind='test_run']")
    expect(chip).to_have_text("Test runs (1)")
    expect(chip).to_have_attribute("aria-pressed", "true")
    chip.click()
    expect(marks).to_have_count(0)
    assert page.evaluate(SHAPES_ON_CPU) == 0, "the band is gone too"
    page.reload()
    wait_until(lambda: newest_x(page), FIRST_RENDER_MS / 1000, "the CPU chart to hold data", interval=0.25)
    chip = page.get_by_test_id("dlMarkKinds").locator("[data-kind='test_run']")
    expect(chip).to_have_attribute("aria-pressed", "false", timeout=SEEN_S * 1000)
    expect(marks).to_have_count(0)
    chip.click()
    expect(run_mark(page, run)).to_be_visible()
    wait_until(lambda: page.evaluate(SHAPES_ON_CPU) == 1, SEEN_S, "the band back on the CPU chart")


def test_an_annotation_posted_through_the_api_appears_on_an_open_chart(fresh_server: Server, page: Any) -> None:
    """As a CI job or a deploy script would post it: our body, then Grafana's."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    open_metrics(page, fresh_server)
    annotations = page.locator("#chart-cpu [data-testid='dlMark'][data-kind='annotation']")
    expect(annotations).to_have_count(0)
    with fresh_server.client() as client:
        posted = time.monotonic()
        response = client.post("/api/annotations", json={"text": "deploy 1.2.3", "tags": ["deploy"]})
        if response.status_code in (404, 405):
            pytest.xfail("needs i23-marks: POST /api/annotations is not in this branch yet")
        assert response.status_code in (200, 201), response.text
        expect(annotations).to_have_count(1, timeout=SEEN_S * 1000)
        print(f"the annotation was on the open chart {time.monotonic() - posted:.2f} s after it was posted")

        grafana = {"time": int(datetime.now(UTC).timestamp() * 1000) - 30_000, "text": "from a Grafana client"}
        response = client.post("/api/annotations", json=grafana)
        assert response.status_code in (200, 201), response.text
        expect(annotations).to_have_count(2, timeout=SEEN_S * 1000)
    wait_until(
        lambda: "deploy 1.2.3" in hover_text(page, annotations.first),  # the first drawn, the first posted
        SEEN_S,
        "the annotation's text on hover",
        ignore=(PlaywrightError,),
    )


def test_drag_a_span_read_its_story_and_download_its_bundle(
    server_factory: Callable[..., Server], page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server = server_factory(suites_entries(tmp_path))
    open_metrics(page, server)
    run = start_run(server, "demo")
    wait_until(lambda: run_status(server, run) not in ("queued", "running"), RUN_S, f"run {run} to end")
    handle = run_mark(page, run)
    expect(handle).to_be_visible(timeout=SEEN_S * 1000)
    # Its band a little way left of the live edge, so a drag can start and end around it.
    plot = page.locator("#chart-cpu .nsewdrag").first
    wait_until(
        lambda: (
            (h := handle.bounding_box())
            and (p := plot.bounding_box())
            and h["x"] + h["width"] < p["x"] + p["width"] - 40
        ),
        RUN_S,
        "the run's band to move away from the right edge",
        interval=0.5,
    )
    h, p = handle.bounding_box(), plot.bounding_box()
    y = p["y"] + p["height"] / 2
    x0, x1 = max(p["x"] + 2, h["x"] - 25), h["x"] + h["width"] + 25
    page.mouse.move(x0, y)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x0 + (x1 - x0) * step / 20, y + step)
    page.mouse.up()
    expect(page.get_by_text(re.compile(r"^Zoomed to .* live paused\.$"))).to_be_visible(timeout=LOADED_MS)

    # The story of the zoomed span.
    page.get_by_text("What happened in this window", exact=True).click()
    expect(page.get_by_text(re.compile(r"1 mark \(Test runs: 1\); [\d,]+ events logged\."))).to_be_visible(
        timeout=LOADED_MS
    )
    link = page.get_by_role("link", name=re.compile(r"^Download the evidence bundle"))
    expect(link).to_have_attribute("href", re.compile(r"^api/timeline/bundle\.zip\?start=.*&end=.*"))
    with page.expect_download(timeout=LOADED_MS) as caught:
        link.click()
    saved = tmp_path / "bundle.zip"
    caught.value.save_as(saved)
    assert re.fullmatch(r"window_\d{8}T\d{6}Z_\d{8}T\d{6}Z\.zip", caught.value.suggested_filename)

    archive = zipfile.ZipFile(saved)
    assert archive.namelist() == ["story.json", "marks.csv", "events.csv", "metrics.csv"]
    story = json.loads(archive.read("story.json"))
    assert [(g["kind"], g["count"]) for g in story["groups"]] == [("test_run", 1)]
    assert {m["name"] for m in story["metrics"]} >= {"cpu.total", "memory.percent"}
    marks = list(csv.DictReader(io.StringIO(archive.read("marks.csv").decode())))
    assert [(m["key"], m["href"]) for m in marks] == [(f"test_run:{run}", f"tests?suite=demo&run={run}")]
    events = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    assert any(e["kind"] == "test_run" for e in events), events
    metrics = list(csv.reader(io.StringIO(archive.read("metrics.csv").decode())))
    assert metrics[0][0] == "timestamp" and "cpu.total" in metrics[0]
    start, end = (datetime.fromisoformat(story[k].replace("Z", "+00:00")) for k in ("start", "end"))
    times = [datetime.fromisoformat(row[0].replace("Z", "+00:00")) for row in metrics[1:]]
    assert len(times) >= 5 and all(start <= t <= end for t in times), (start, end, times[:3], times[-3:])
