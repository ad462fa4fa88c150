"""A run's resource story on the Tests and Workflows pages (AppTest, a real Runtime
and store): the chart and its sentence for a run with samples, the note for one
without. The runs and their samples are written to the store as the dashboard
writes them (the sampling itself is tested with real runs in
tests/testing/test_run_resources.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.models import RunStatus, StepStatus, Trigger, WorkflowStatus
from dashboard_core.processes.resource_log import ResourceSample, RunKey
from dashboard_core.runtime import Runtime
from tests.polling import wait_until
from tests.testing.conftest import suites_toml
from tests.ui.run_tabs import show_tab

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
TIMEOUT = 60  # a loaded 2-core machine renders Plotly figures slowly
q = json.dumps


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    extra = f"""
[[workflows]]
name = "nightly"
[[workflows.steps]]
name = "build"
argv = {q([sys.executable, "-c", "pass"])}
cwd = {q(str(tmp_path))}
[[workflows.steps]]
name = "check"
argv = {q([sys.executable, "-c", "pass"])}
cwd = {q(str(tmp_path))}
"""
    path = tmp_path / "dashboard.toml"
    path.write_text(suites_toml(tmp_path, extra))
    with runtime_module.running(load_config(path)) as runtime:
        yield runtime


def series(start: datetime, n: int, rss_mib: int) -> list[ResourceSample]:
    return [
        ResourceSample(start.timestamp() + 2 * (i + 1), 50.0 + i, 1.0 * (i + 1), (rss_mib + 10 * i) * 2**20, 2)
        for i in range(n)
    ]


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    at.switch_page(page).run()
    assert not at.exception
    return at


def resource_charts(at: AppTest, run_id: int) -> list[str]:
    return [f.proto.spec for f in at.get("plotly_chart") if f"Resources of run {run_id}" in f.proto.spec]


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_the_tests_page_draws_a_run_s_resources_or_says_why_not(rt: Runtime) -> None:
    wait_until(lambda: len(rt.frame) >= 2, 30, "host samples for the run's span")
    start = datetime.now(UTC) - timedelta(seconds=20)
    old = rt.tests.history.insert("demo", Trigger.API, start - timedelta(hours=1), ["pytest"])
    rt.tests.history.update(old, status=RunStatus.PASSED, started_at=start - timedelta(hours=1), ended_at=start)
    run = rt.tests.history.insert("demo", Trigger.API, start, ["pytest"])
    rt.tests.history.update(run, status=RunStatus.PASSED, started_at=start, ended_at=datetime.now(UTC))
    rt.run_trees.log.write([(RunKey.test(run), series(start, 8, 100))])

    at = open_page("../pages/tests.py")
    assert at.selectbox(key="tests_run").value == run  # the newest
    assert resource_charts(at, run) == []  # drawn in the run's Resources tab, once opened
    show_tab(at, "resources")
    (spec,) = resource_charts(at, run)
    assert '"name":"this run"' in spec and '"name":"host"' in spec
    assert "this run CPU: " in spec and "this run memory: " in spec and "host memory: " in spec
    assert "**Resources**" in [m.value for m in at.markdown]
    assert any(c.startswith("Peak memory 170 MiB, mean CPU ") and "8.0 CPU seconds" in c for c in captions(at))

    at.selectbox(key="tests_run").set_value(old).run()
    assert not at.exception
    assert resource_charts(at, old) == []
    assert any(c.startswith("Nothing was sampled for this run") for c in captions(at))


def test_the_workflows_page_draws_each_step_s_resources(rt: Runtime) -> None:
    start = datetime.now(UTC) - timedelta(seconds=30)
    history = rt.workflows.history
    run = history.insert("nightly", Trigger.API, {}, start.timestamp(), ["build", "check"])
    for i, step in enumerate(("build", "check")):
        history.update_step(
            run, step, status=StepStatus.SUCCEEDED, started_at=start.timestamp() + 10 * i,
            ended_at=start.timestamp() + 10 * i + 9, exit_code=0,
        )  # fmt: skip
    history.update_run(run, status=WorkflowStatus.SUCCEEDED, ended_at=start.timestamp() + 20)
    rt.run_trees.log.write([(RunKey.workflow(run, "check"), series(start, 3, 50))])
    rt.run_trees.log.write([(RunKey.workflow(run, "build"), series(start, 4, 200))])

    at = open_page("../pages/workflows.py")
    assert at.selectbox(key="workflows_run").value == run
    (spec,) = resource_charts(at, run)
    assert spec.index('"name":"step build"') < spec.index('"name":"step check"')  # in the workflow's order
    summary = next(c for c in captions(at) if c.startswith("Peak memory "))
    assert summary.startswith("Peak memory 290 MiB") and "7.0 CPU seconds" in summary  # 220 + 70 MiB at once
    assert "the most CPU: step build (4.0 s)" in summary
