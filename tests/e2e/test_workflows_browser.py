"""The Workflows page in a real headless Chromium against a real server: start a
workflow from its card's form, watch a step finish, then stop the run and see
its waiting step stopped and its process gone (no reload, no sleeps)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.e2e.conftest import Server
from tests.polling import wait_until
from tests.workflows.conftest import gone

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST_RENDER_MS = 60_000  # first page load on a fresh, loaded server
STEP_MS = 90_000  # starting Python processes on a loaded 2-core machine

q = json.dumps  # TOML basic strings are JSON strings
# Writes its pid, says so, then waits for a gate file that never comes (the test stops it).
WAIT = """
import os, pathlib, sys, time
pathlib.Path(sys.argv[1] + ".tmp").write_text(str(os.getpid()))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
print("waiting for the gate", flush=True)
deadline = time.monotonic() + 240
while not pathlib.Path(sys.argv[2]).exists() and time.monotonic() < deadline:
    time.sleep(0.05)
"""


def workflow_toml(tmp_path: Path) -> str:
    cwd = q(str(tmp_path))
    greet = [sys.executable, "-c", "import sys; print('hello', sys.argv[1])", "{who}"]
    wait = [sys.executable, "-c", WAIT, str(tmp_path / "wait.pid"), str(tmp_path / "gate")]
    return f"""
[[workflows]]
name = "pipeline"
description = "greets, then waits for a gate"
grace_seconds = 2
[[workflows.params]]
name = "who"
default = "world"
description = "whom to greet"
[[workflows.steps]]
name = "greet"
argv = {q(greet)}
cwd = {cwd}
[[workflows.steps]]
name = "wait"
argv = {q(wait)}
cwd = {cwd}
depends_on = ["greet"]
[[workflows.steps]]
name = "report"
argv = {q([sys.executable, "-c", "print('done')"])}
cwd = {cwd}
depends_on = ["wait"]
"""


def showing(scope: Any, test_id: str, text: str | re.Pattern[str]) -> Any:
    """The first element of this kind that shows the text.

    While Streamlit reruns, an element it is replacing can sit next to the new
    one for a moment: a locator for "the" element would then match two.
    """
    return scope.get_by_test_id(test_id).filter(has_text=text).first


def step_row(page: Any, step: str) -> Any:
    """The step's row in the steps table (the grid's accessible table; the first
    table on the page is the selected run's steps)."""
    table = page.get_by_test_id("stDataFrame").first
    return table.locator("tr").filter(has=page.locator("td", has_text=re.compile(rf"^{step}$"))).first


def test_start_a_workflow_watch_a_step_finish_and_stop_it(
    server_factory: Callable[..., Server], page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server = server_factory(workflow_toml(tmp_path))
    page.goto(f"{server.url}/workflows")
    expect(page.get_by_role("heading", name=re.compile(r"^\W*Workflows$"))).to_be_visible(timeout=FIRST_RENDER_MS)
    card = page.locator(".st-key-workflow_pipeline")
    expect(showing(card, "stMarkdown", "never run")).to_be_visible()

    # Start it from the form in the card's popover, with a parameter.
    card.get_by_role("button", name=re.compile("Start…")).click()
    form = page.get_by_test_id("stPopoverBody")
    who = form.get_by_role("textbox", name="who")
    expect(who).to_have_value("world")
    who.fill("Ada")
    form.get_by_role("button", name="Start", exact=True).click()
    expect(showing(page, "stAlertContentSuccess", re.compile(r"^Started run \d+ of pipeline\.$"))).to_be_visible(
        timeout=STEP_MS
    )

    with server.client() as api:
        runs = api.get("/api/workflows/runs").json()
        assert [(r["workflow"], r["params"], r["trigger"]) for r in runs] == [("pipeline", {"who": "Ada"}, "ui")]
        run_id = runs[0]["id"]

        # The first step finishes while the page watches; the second one waits.
        expect(showing(card, "stMarkdown", f"running · run #{run_id} · 1/3 steps done")).to_be_visible(timeout=STEP_MS)
        expect(step_row(page, "greet")).to_contain_text("succeeded", timeout=STEP_MS)
        expect(step_row(page, "wait")).to_contain_text("running", timeout=STEP_MS)
        expect(step_row(page, "report")).to_contain_text("pending")
        expect(showing(page, "stCaptionContainer", "Parameters: who=Ada")).to_be_visible()
        expect(page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot .main-svg').first).to_be_attached()
        expect(page.get_by_role("log").filter(has_text="waiting for the gate").first).to_be_visible(timeout=STEP_MS)
        pid_file = tmp_path / "wait.pid"
        pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), 30, "the waiting step's pid"))
        assert psutil.pid_exists(pid) and not gone(pid)
        steps = {s["name"]: s["status"] for s in api.get(f"/api/workflows/runs/{run_id}").json()["steps"]}
        assert steps == {"greet": "succeeded", "wait": "running", "report": "pending"}

        # Stop it from the card.
        card.get_by_role("button", name=re.compile("Stop$")).click()
        expect(showing(card, "stMarkdown", f"stopped · run #{run_id}")).to_be_visible(timeout=STEP_MS)
        expect(showing(page, "stAlertContentSuccess", f"Stopped run {run_id} of pipeline.")).to_be_visible()
        expect(step_row(page, "wait")).to_contain_text("stopped", timeout=STEP_MS)
        expect(step_row(page, "report")).to_contain_text("skipped")
        expect(card.get_by_role("button", name=re.compile("Stop$"))).to_have_count(0)
        expect(card.get_by_role("button", name=re.compile("Start…"))).to_be_enabled()

        run = api.get(f"/api/workflows/runs/{run_id}").json()
        assert run["status"] == "stopped"
        assert [(s["name"], s["status"]) for s in run["steps"]] == [
            ("greet", "succeeded"),
            ("wait", "stopped"),
            ("report", "skipped"),
        ]
        assert "hello Ada" in run["steps"][0]["log_tail"]
        wait_until(lambda: gone(pid), 15, f"the waiting step's process {pid} to be gone")
        assert api.get("/api/dashboard/workflows").json()["active"] == []


def bounded_toml(tmp_path: Path) -> str:
    quick = [sys.executable, "-c", "import sys; print('epochs', sys.argv[1])", "{epochs}"]
    return f"""
[[workflows]]
name = "train"
[[workflows.params]]
name = "epochs"
type = "int"
default = 3
min = 1
max = 100
[[workflows.steps]]
name = "train"
argv = {q(quick)}
cwd = {q(str(tmp_path))}
"""


def test_a_number_parameter_keeps_to_its_bounds_on_the_page(
    server_factory: Callable[..., Server], page: Any, tmp_path: Path
) -> None:
    """The form's input carries the bounds, and -3 typed into it never becomes a run."""
    from playwright.sync_api import expect

    server = server_factory(bounded_toml(tmp_path))
    page.goto(f"{server.url}/workflows")
    expect(page.get_by_role("heading", name=re.compile(r"^\W*Workflows$"))).to_be_visible(timeout=FIRST_RENDER_MS)
    card = page.locator(".st-key-workflow_train")
    card.get_by_role("button", name=re.compile("Start…")).click()
    form = page.get_by_test_id("stPopoverBody")
    epochs = form.get_by_test_id("stNumberInputField")
    expect(epochs).to_have_value("3")
    expect(epochs).to_have_attribute("min", "1")
    expect(epochs).to_have_attribute("max", "100")

    epochs.fill("-3")
    epochs.press("Tab")
    form.get_by_role("button", name="Start", exact=True).click()
    # The input says what is wrong where it is, and the click starts nothing (a run started
    # with -3 would show "Started run ..." instead).
    refused_here = form.get_by_role("alert").filter(has_text="between 1 and 100")
    started = page.get_by_test_id("stAlertContentSuccess")
    expect(refused_here.or_(started).first).to_be_visible(timeout=STEP_MS)
    with server.client() as api:
        given = [r["params"]["epochs"] for r in api.get("/api/workflows/runs").json()]
        refused = api.post("/api/dashboard/workflows/start", json={"workflow": "train", "params": {"epochs": -3}})
    assert all(1 <= e <= 100 for e in given), given  # the page never started a run with -3
    assert refused.status_code == 422
    assert refused.json()["errors"] == ["params.epochs: -3 is out of bounds: must be between 1 and 100"]
