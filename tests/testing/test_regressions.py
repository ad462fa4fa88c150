"""Duration regressions end to end: a real pytest suite run through a running
Runtime, whose one test sleeps as long as a file says (0.05 s for three runs,
then 1.0 s), read through the API, the event and the page's data.

The host is not assumed idle (CI runs this beside stress-ng): the "regression"
case sets the busy threshold above 100 % of all cores, where no reading can
reach; the "host busy" case sets it to 0, where any reading does. Both labels
then come from real readings and cannot flake. The steady test's floor (0.5 s
above its median) is far above any scheduling hiccup.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.app.links import event_link
from dashboard_core.app.regression_watch import RegressionWatch, attach_watch
from dashboard_core.app.regressions import run_regressions, slowdown_chart, suite_regressions
from dashboard_core.config import Config, load_config
from dashboard_core.models import EventKind
from dashboard_core.runtime import Runtime
from dashboard_core.testing.regressions import Slowdown
from tests.polling import wait_until
from tests.testing.conftest import suites_toml

q = json.dumps  # TOML basic strings are JSON strings
TIMEOUT = 180
TIMED = textwrap.dedent(
    """
    import os, pathlib, time

    def test_sleeps_as_told():
        time.sleep(float(pathlib.Path(os.environ["SLEEP_FILE"]).read_text()))

    def test_steady():
        time.sleep(0.01)
    """
)
SLOW = "test_timed.py::test_sleeps_as_told"
STEADY = "test_timed.py::test_steady"


def runtime_with(tmp_path: Path, busy_percent: float) -> Iterator[Runtime]:
    timed = tmp_path / "timed"
    timed.mkdir()
    (timed / "test_timed.py").write_text(TIMED)
    extra = f"""
[[suites]]
name = "timed"
paths = [{q(str(timed))}]
args = ["-p", "no:cacheprovider"]
cwd = {q(str(timed))}
env = {{ SLEEP_FILE = {q(str(tmp_path / "sleep"))} }}
"""
    testing = f"""
[testing.regressions]
history_runs = 10
min_history = 3
min_increase_seconds = 0.5
busy_percent = {busy_percent}
"""
    path = tmp_path / "dashboard.toml"
    path.write_text(suites_toml(tmp_path, extra, testing))
    with runtime_module.running(load_config(path)) as rt:
        yield rt


@pytest.fixture
def never_busy(tmp_path: Path) -> Iterator[Runtime]:
    yield from runtime_with(tmp_path, 1000.0)  # others can never use 1000 % of all cores


@pytest.fixture
def always_busy(tmp_path: Path) -> Iterator[Runtime]:
    yield from runtime_with(tmp_path, 0.0)  # any reading of the host is "busy"


def run_timed(rt: Runtime, client: TestClient, sleep_file: Path, seconds: float) -> int:
    sleep_file.write_text(str(seconds))
    started = client.post("/dashboard/testing/run-suite", json={"test_suite": "timed"})
    assert started.status_code == 200, started.text
    run_id = int(started.json()["test_id"])
    run = rt.tests.wait(run_id, TIMEOUT)
    assert run.status == "passed", (run.status, run.message)
    return run_id


def regressions(client: TestClient, run_id: int) -> dict[str, Any]:
    response = client.get(f"/testing/runs/{run_id}/regressions")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def history_then_slow(rt: Runtime, client: TestClient, sleep_file: Path) -> tuple[list[int], int]:
    """Three runs at 0.05 s (the second one judged: not enough history), then one at 1.0 s."""
    steady = [run_timed(rt, client, sleep_file, 0.05) for _ in range(3)]
    early = regressions(client, steady[1])
    assert early["passed"] == 2 and early["compared"] == 0 and early["tests"] == []  # both under the 0.5 s floor
    assert early["note"].startswith("Not enough history: 1 earlier finished run of timed")
    return steady, run_timed(rt, client, sleep_file, 1.0)


def test_a_test_made_slower_is_a_regression_with_an_event_and_a_steady_one_is_not(
    never_busy: Runtime, tmp_path: Path
) -> None:
    rt = never_busy
    attach_watch(rt)  # as the server does: the Runtime owns it and stops it
    with TestClient(create_api(lambda: rt)) as client:
        steady, slow = history_then_slow(rt, client, tmp_path / "sleep")
        found = regressions(client, slow)
        # Only the test over the floor is compared: the steady one's history is not even read.
        assert found["passed"] == 2 and found["compared"] == 1 and found["judged"] == 1
        assert found["without_history"] == 0
        assert [t["nodeid"] for t in found["tests"]] == [SLOW]  # the steady test is not listed
        test = found["tests"][0]
        assert test["verdict"] == "regression" and test["duration_seconds"] >= 1.0
        assert test["baseline_runs"] == 3 and test["median_seconds"] < 0.5 and test["ratio"] > 2
        assert test["limit_seconds"] is not None and test["duration_seconds"] > test["limit_seconds"]
        assert (
            test["host"] is not None and test["host"]["busy"] is False and test["host_window"] == "test"
        )  # cases carry started_at (plugin_meter)
        assert [r["run_id"] for r in found["runs"]] == steady and len(test["history"]) == 3
        assert all(d is not None and d < test["limit_seconds"] for d in test["history"])
        assert found["note"].startswith("1 regression; 1 of the 1 passed tests over 0.5 s judged")
        # The suite's newest finished run is this one.
        assert client.get("/testing/suites/timed/regressions").json()["run_id"] == slow
        # The event, for an alert rule to follow, links to the run.
        event = wait_until(
            lambda: next((e for e in rt.events.since(0, 1000) if e.kind is EventKind.TEST_REGRESSION), None),
            TIMEOUT,
            "the test_regression event",
        )
        assert event is not None and event.source == "timed"
        assert event.data["run_id"] == slow and event.data["regressions"] == 1
        assert event.data["tests"][0]["nodeid"] == SLOW  # type: ignore[index]
        link = event_link(event)
        assert link is not None and link.href == f"tests?suite=timed&run={slow}"
        # None for the runs before: none of them had a regression.
        assert [e.data["run_id"] for e in rt.events.since(0, 1000) if e.kind is EventKind.TEST_REGRESSION] == [slow]
    # The page's chart: the three runs before, then this one.
    figure = slowdown_chart(suite_regressions(rt, "timed"), suite_regressions(rt, "timed").tests[0])
    assert list(figure.data[0].x) == [f"#{i}" for i in [*steady, slow]]


def test_a_test_slower_while_the_host_is_busy_is_labelled_host_busy_and_makes_no_event(
    always_busy: Runtime, tmp_path: Path
) -> None:
    rt = always_busy
    with TestClient(create_api(lambda: rt)) as client:
        steady, slow = history_then_slow(rt, client, tmp_path / "sleep")
        found = wait_until(  # the host's readings over the run's end arrive with the next sample
            lambda: (body := regressions(client, slow))["tests"] and body["tests"][0]["host"]["samples"] and body,
            TIMEOUT,
            "the host's samples over the slow run",
        )
        assert [t["nodeid"] for t in found["tests"]] == [SLOW]
        test = found["tests"][0]
        assert test["verdict"] == "host busy" and test["host"]["busy"] is True
        assert test["host"]["cpu_mean_percent"] is not None and found["note"].startswith("0 regressions, 1 slower")
        assert [r["run_id"] for r in found["runs"]] == steady  # each marked busy where a reading covers it
    # A case that records when it started is judged over its own span, not the run's
    # (as runs will once the plugin records each test's start).
    run = rt.tests.run(slow)
    assert run.started_at is not None
    cases = [c.model_copy(update={"started_at": run.started_at}) for c in rt.tests.history.cases(slow)]
    own = run_regressions(rt, run, cases).tests[0]
    assert own.host_window == "test" and own.host is not None and own.host.start == run.started_at
    assert own.host.end == run.started_at + timedelta(seconds=own.duration_seconds)
    assert own.verdict is Slowdown.HOST_BUSY and own.host.samples >= 1
    RegressionWatch(rt).judge(slow)  # what the watch does when a run ends, here in this thread
    assert not [e for e in rt.events.since(0, 1000) if e.kind is EventKind.TEST_REGRESSION]


def test_a_run_still_going_and_a_suite_never_run_say_why(suites_config: Callable[..., Config], gate: Path) -> None:
    with runtime_module.running(suites_config()) as rt, TestClient(create_api(lambda: rt)) as client:
        assert client.get("/testing/runs/999/regressions").status_code == 404
        missing = client.get("/testing/suites/gated/regressions")
        assert missing.status_code == 404 and "has no finished run yet" in missing.json()["message"]
        assert client.get("/testing/suites/nope/regressions").status_code == 404
        run_id = client.post("/dashboard/testing/run-suite", json={"test_suite": "gated"}).json()["test_id"]
        going = client.get(f"/testing/runs/{run_id}/regressions")
        assert going.status_code == 409 and "has not finished" in going.json()["message"]
        gate.touch()
        rt.tests.wait(int(run_id), TIMEOUT)
        assert client.get(f"/testing/runs/{run_id}/regressions").json()["note"].startswith("Not enough history")
