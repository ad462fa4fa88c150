"""Marks on the charts the server draws, through AppTest over a real Runtime: the
toggles above each chart, a finished test run's band on the agent timeline, a
workflow run's steps chart, a suite's history and a component's timeline, a kind
hidden on one page hidden on the next, and a clicked mark opening its page.

Test runs are written to the real store as the suite manager writes them
(:class:`RunHistory`), so their times can be placed inside each chart's window.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.proto.PlotlyChart_pb2 import PlotlyChart
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.models import EventKind, HeartbeatRequest, RunStatus, Trigger
from dashboard_core.runtime import Runtime
from dashboard_core.testing.history import RunHistory
from dashboard_core.timeline.figure_marks import MARK_TAG
from dashboard_core.timeline.marks import BAD, GOOD
from tests.metrics.test_prometheus_source import FakePrometheus, node_answers

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
TIMEOUT = 60  # a loaded 2-core machine renders Plotly figures slowly
q = json.dumps  # TOML basic strings are JSON strings


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    """A running Runtime with a one-step workflow and a suite (never run: its runs are written)."""
    (tmp_path / "suite").mkdir()
    path = tmp_path / "dashboard.toml"
    path.write_text(
        f"""
[storage]
data_dir = {q(str(tmp_path / "data"))}
[[workflows]]
name = "solo"
[[workflows.steps]]
name = "only"
argv = {q([sys.executable, "-c", "print('alone')"])}
cwd = {q(str(tmp_path))}
[[suites]]
name = "smoke"
paths = [{q(str(tmp_path / "suite"))}]
cwd = {q(str(tmp_path / "suite"))}
""",
        encoding="utf-8",
    )
    with runtime_module.running(load_config(path)) as runtime:
        yield runtime


def finished_run(rt: Runtime, suite: str, start: datetime, end: datetime, status: RunStatus = RunStatus.PASSED) -> int:
    runs = RunHistory(rt.store)
    run_id = runs.insert(suite, Trigger.API, start, ["pytest"])
    runs.update(run_id, status=status, started_at=start, ended_at=end)
    return run_id


def opened(page: str, app: AppTest | None = None, **params: str) -> AppTest:
    app = app or AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    app.query_params.clear()
    app.query_params.update(params)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def chart(app: AppTest, title: str) -> dict[str, Any]:
    """The spec of the Plotly chart whose title starts with ``title``."""
    specs = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    return next(s for s in specs if s["layout"]["title"]["text"].startswith(title))


def bands(spec: dict[str, Any]) -> list[str]:
    return [s["fillcolor"] for s in spec["layout"].get("shapes", []) if s.get("type") == "rect"]


def links(spec: dict[str, Any]) -> list[str]:
    return [d[1] for t in spec["data"] for d in (t.get("customdata") or []) if d and d[0] == MARK_TAG]


def test_the_agent_timeline_shows_a_test_run_with_a_toggle_that_hides_it_on_every_page(rt: Runtime) -> None:
    rt.agents.heartbeat("researcher-1", HeartbeatRequest(status="busy"))
    start = datetime.now(UTC)
    run_id = finished_run(rt, "smoke", start, start + timedelta(milliseconds=500))

    app = opened("../pages/agents.py")
    spec = chart(app, "Online and offline")
    assert bands(spec) == [GOOD] and links(spec) == [f"tests?suite=smoke&run={run_id}"]
    own = [t for t in spec["data"] if t.get("name") != "marks"]
    assert own and all(t["unselected"] == {"marker": {"opacity": 1}} for t in own)  # a click dims nothing
    toggles = app.button_group(key="agents_timeline_marks")
    assert toggles.options == ["Test runs"] and toggles.value == ["test_run"]

    toggles.set_value([]).run()  # hidden: off this chart, and off the next one
    assert not app.exception
    assert bands(chart(app, "Online and offline")) == []
    assert app.session_state["marks_hidden"] == {"test_run"}
    app = opened("../pages/tests.py", app)
    app = opened("../pages/agents.py", app)
    assert app.button_group(key="agents_timeline_marks").value == []
    assert bands(chart(app, "Online and offline")) == []


def test_a_workflow_runs_steps_chart_shows_the_test_run_that_went_on_meanwhile(rt: Runtime) -> None:
    run = rt.workflows.start_run("solo")
    done = rt.workflows.wait(run.id, 90)
    assert done.ended_at is not None
    run_id = finished_run(rt, "smoke", done.started_at, done.ended_at, RunStatus.FAILED)
    before = finished_run(rt, "smoke", done.started_at - timedelta(hours=2), done.started_at - timedelta(hours=1))

    app = opened("../pages/workflows.py", workflow="solo", run=str(run.id))
    spec = chart(app, f"Steps of run {run.id}")
    assert bands(spec) == [BAD] and links(spec) == [f"tests?suite=smoke&run={run_id}"]  # not the run before
    assert f"run={before}" not in json.dumps(spec)
    assert app.button_group(key="workflow_gantt_marks").options == ["Test runs"]


def test_a_suites_history_shows_what_else_ran_during_its_runs_not_its_own_runs(rt: Runtime) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=1)
    first = finished_run(rt, "smoke", t0, t0 + timedelta(minutes=2))
    finished_run(rt, "smoke", t0 + timedelta(minutes=10), t0 + timedelta(minutes=12))
    other = finished_run(rt, "other", t0 + timedelta(minutes=11), t0 + timedelta(minutes=13), RunStatus.FAILED)

    app = opened("../pages/tests.py", suite="smoke", run=str(first), tab="history")  # the run's Suite history tab
    spec = chart(app, "Pass rate and duration")
    assert links(spec) == [f"tests?suite=other&run={other}"]
    (band,) = [s for s in spec["layout"]["shapes"] if s.get("type") == "rect"]
    assert (band["x0"], band["x1"], band["fillcolor"]) == (0.5, 1.5, BAD)  # over the second run's column


def test_a_components_history_has_its_timeline_with_the_marks(rt: Runtime) -> None:
    rt.events.publish(EventKind.COMPONENT, "db", "db is down", data={"to": "down"})
    start = datetime.now(UTC)
    run_id = finished_run(rt, "smoke", start, start + timedelta(milliseconds=500))
    rt.events.publish(EventKind.COMPONENT, "db", "db is healthy", data={"to": "healthy"})

    app = opened("../pages/events.py", kind="component", source="db")
    spec = chart(app, "State over time")
    assert {t.get("name") for t in spec["data"]} >= {"down", "healthy"}
    assert links(spec) == [f"tests?suite=smoke&run={run_id}"]
    app = opened("../pages/events.py", app, kind="agent")  # another kind's history: no component timeline
    assert not app.get("plotly_chart")


def test_a_clicked_mark_opens_its_page(rt: Runtime) -> None:
    rt.agents.heartbeat("researcher-1", HeartbeatRequest(status="busy"))
    start = datetime.now(UTC)
    run_id = finished_run(rt, "smoke", start, start + timedelta(milliseconds=500))
    app = opened("../pages/agents.py")
    href = links(chart(app, "Online and offline"))[0]

    app.session_state["marks_open"] = href  # what the chart's on_select keeps of a click on the band
    app.run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Tests"
    assert app.query_params == {"suite": "smoke", "run": str(run_id)}


def test_a_fleet_hosts_charts_show_this_dashboards_marks_with_one_row_of_toggles(
    write_config: Callable[[str], Path],
) -> None:
    prom = FakePrometheus()
    prom.answer = node_answers
    try:
        config = load_config(write_config(f'[sampler]\ninterval_seconds = 0.1\n[prometheus]\nurl = "{prom.url}"\n'))
        with runtime_module.running(config) as runtime:
            start = datetime.now(UTC) - timedelta(minutes=2)
            run_id = finished_run(runtime, "smoke", start, start + timedelta(minutes=1))
            app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
            app.session_state["metrics_host"] = "web-1:9100"
            app.switch_page("../pages/metrics.py").run()
            assert not app.exception, app.exception
            specs = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
            assert len(specs) > 2
            assert all(bands(s) == [GOOD] and links(s) == [f"tests?suite=smoke&run={run_id}"] for s in specs)
            assert app.button_group(key="fleet_chart_marks").options == ["Test runs"]
            modes = {PlotlyChart.SelectionMode.Name(m) for m in app.get("plotly_chart")[0].proto.selection_mode}
            assert modes == {"POINTS", "BOX"}  # a click opens a mark, a drag still zooms
    finally:
        prom.close()
