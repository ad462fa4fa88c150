"""A mark on a chart drawn on the server, in a real headless Chromium against a real
server: a test suite runs while a workflow run waits, the run's steps chart shows the
test run as a band; hovering it says what it is, a click on it opens the test run."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import Server
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST_RENDER_MS = 60_000  # first page load on a fresh, loaded server
RUN_SECONDS = 150  # a pytest run and Python steps on a loaded 2-core machine
q = json.dumps  # TOML basic strings are JSON strings

WAIT = """
import pathlib, sys, time
deadline = time.monotonic() + 240
while not pathlib.Path(sys.argv[1]).exists() and time.monotonic() < deadline:
    time.sleep(0.05)
"""


def config(tmp_path: Path) -> str:
    suite = tmp_path / "quick"
    suite.mkdir()
    (suite / "test_quick.py").write_text("def test_passes():\n    pass\n", encoding="utf-8")
    return f"""
[[suites]]
name = "quick"
paths = [{q(str(suite))}]
args = ["-p", "no:cacheprovider"]
cwd = {q(str(suite))}

[[workflows]]
name = "hold"
[[workflows.steps]]
name = "wait"
argv = {q([sys.executable, "-c", WAIT, str(tmp_path / "gate")])}
cwd = {q(str(tmp_path))}
"""


def ended(api: Any, path: str, what: str) -> dict[str, Any]:
    body: dict[str, Any] = {}

    def done() -> bool:
        body.update(api.get(path).json())
        return body["status"] not in ("queued", "running")

    wait_until(done, RUN_SECONDS, what)
    return body


def test_a_test_runs_band_on_a_workflow_runs_steps_chart_says_what_it_is_and_opens_it(
    server_factory: Callable[..., Server], page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server = server_factory(config(tmp_path))
    with server.client() as api:
        run = api.post("/api/dashboard/workflows/start", json={"workflow": "hold", "params": {}}).json()["run_id"]
        test = api.post("/api/dashboard/testing/run-suite", json={"test_suite": "quick"}).json()["test_id"]
        assert ended(api, f"/api/testing/runs/{test}", f"test run {test} to end")["status"] == "passed"
        (tmp_path / "gate").touch()
        ended(api, f"/api/workflows/runs/{run}", f"workflow run {run} to end")

    page.goto(f"{server.url}/workflows?workflow=hold&run={run}")
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text=f"Steps of run {run}").first
    expect(chart).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_test_id("stButtonGroup").filter(has_text="Test runs").first).to_be_visible()
    band = chart.locator(".shapelayer path").first
    expect(band).to_be_attached()
    box = band.bounding_box()
    assert box is not None and box["width"] > 0, box
    # Near the top of the band: the step's own bar fills the middle of its row.
    x, y = box["x"] + box["width"] / 2, box["y"] + 4
    page.mouse.move(x, y)
    hover = chart.locator(".hoverlayer")
    expect(hover).to_contain_text(f"Test run {test} of quick: passed")
    expect(hover).to_contain_text("1 passed")

    page.mouse.click(x, y)
    expect(page.get_by_role("heading", name=re.compile(r"^\W*Tests$"))).to_be_visible(timeout=FIRST_RENDER_MS)
    wait_until(
        lambda: parse_qs(urlsplit(page.url).query) == {"suite": ["quick"], "run": [str(test)]},
        30,
        f"the URL to name test run {test} (it is {page.url})",
    )
    expect(page.get_by_role("combobox", name="Run")).to_have_value(re.compile(rf"^#{test} · quick · passed"))
