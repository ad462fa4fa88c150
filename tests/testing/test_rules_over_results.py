"""The alert rules over test results, end to end: real pytest suites run through a running
Runtime (its suite manager, the regression watch the server attaches, the alert engine),
each rule seen firing when a run shows its event and resolving when a later run does not.

- ``suite flaky new flaky``: pytest-rerunfailures re-runs a test that fails its first try
  (it passes on the retry: flaky at once); the next run makes another test flaky, which
  ends the first alert and fires one naming it; a run that makes none flaky resolves it.
- ``suite timed regression``: a test sleeps 0.05 s for three runs, then 1.0 s (the watch
  judges it a regression), then 0.05 s again. As in test_regressions.py, the busy threshold
  is above what any reading can reach, so the host's load cannot change the verdict.
- ``suite gates gate failed``: ``min_tests = 2`` fails a green run of one test, a run of
  two passes it, and a run failed by its tests is no gate failure (``suite gates failed``
  fires for it instead).

The engine evaluates once an hour on its own here; the test calls ``evaluate`` after each run.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from dashboard_core import runtime as runtime_module
from dashboard_core.app.links import watched
from dashboard_core.app.regression_watch import attach_watch
from dashboard_core.config import load_config
from dashboard_core.health.mutes import Labels
from dashboard_core.health.rules import parse_rule
from dashboard_core.models import AlertRecord, AlertState, RuleStatus, RunStatus, Trigger
from dashboard_core.models.silences import Mute
from dashboard_core.runtime import Runtime
from dashboard_core.testing.findings import saved_regressions
from tests.polling import wait_until
from tests.testing.conftest import suites_toml

pytestmark = pytest.mark.timeout(900)
q = json.dumps  # TOML basic strings are JSON strings
TIMEOUT = 180  # a pytest run, or the watch's judgement, on a loaded 2-core machine

FLAKY = textwrap.dedent(
    """
    import os, pathlib

    def bump(name):
        path = pathlib.Path(os.environ["COUNTERS"]) / name
        n = int(path.read_text()) if path.exists() else 0
        path.write_text(str(n + 1))
        return n

    def test_a():  # fails the first try of every run, passes its retry
        assert bump("a") % 2 == 1, "first try"

    def test_b():  # passes run 1; in run 2 fails its first try (call 1), passes the retry (call 2)
        assert bump("b") != 1, "second run's first try"

    def test_steady():
        pass
    """
)
TIMED = textwrap.dedent(
    """
    import os, pathlib, time

    def test_sleeps_as_told():
        time.sleep(float(pathlib.Path(os.environ["SLEEP_FILE"]).read_text()))
    """
)
GATED = textwrap.dedent(
    """
    import os, pathlib, pytest

    SAID = pathlib.Path(os.environ["TESTS_FILE"]).read_text().split()  # how many tests, and "fail"

    @pytest.mark.parametrize("i", range(int(SAID[0])))
    def test_counted(i):
        assert "fail" not in SAID, "told to fail"
    """
)


def suite(tmp_path: Path, name: str, source: str, env: dict[str, str], extra: str = "") -> str:
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"test_{name}.py").write_text(source)
    env_toml = ", ".join(f"{k} = {q(v)}" for k, v in env.items())
    return f"""
[[suites]]
name = "{name}"
paths = [{q(str(folder))}]
args = ["-p", "no:cacheprovider", "--reruns", "1"]
cwd = {q(str(folder))}
env = {{ {env_toml} }}
{extra}"""


def alert(name: str, rule: str) -> str:
    return f'\n[[alerts]]\nname = "{name}"\nrule = "{rule}"\n'


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    (tmp_path / "counters").mkdir()
    extra = (
        suite(tmp_path, "flaky", FLAKY, {"COUNTERS": str(tmp_path / "counters")})
        + suite(tmp_path, "timed", TIMED, {"SLEEP_FILE": str(tmp_path / "sleep")})
        + suite(tmp_path, "gates", GATED, {"TESTS_FILE": str(tmp_path / "tests")}, "gates = { min_tests = 2 }")
        + alert("new-flaky", "suite flaky new flaky")
        + alert("any-new-flaky", "suite any new flaky")
        + alert("slower", "suite timed regression")
        + alert("gate", "suite gates gate failed")
        + alert("gates-failed", "suite gates failed")
        + "\n[alerting]\ninterval_seconds = 3600\n"  # evaluated by the test, after each run
    )
    testing = """
[testing.regressions]
history_runs = 10
min_history = 3
min_increase_seconds = 0.5
busy_percent = 1000
"""
    path = tmp_path / "dashboard.toml"
    path.write_text(suites_toml(tmp_path, extra, testing))
    with runtime_module.running(load_config(path)) as runtime:
        attach_watch(runtime)  # as the server does: the regression watch's findings
        yield runtime


def run(rt: Runtime, name: str, status: RunStatus = RunStatus.PASSED) -> int:
    run_id = rt.tests.run_suite(name, Trigger.API).run.id
    info = rt.tests.wait(run_id, TIMEOUT)
    assert info.status is status, (info.status, info.message)
    return run_id


def status_of(rt: Runtime, rule: str) -> RuleStatus:
    rt.alerts.evaluate()
    return next(s for s in rt.alerts.statuses() if s.name == rule)


def alerts_of(rt: Runtime, rule: str) -> list[AlertRecord]:
    """The rule's alerts, oldest first."""
    return list(reversed(rt.alerts.history(rule=rule)))


class Asked:
    """A mute source that mutes nothing and keeps the labels of each alert it is asked about."""

    def __init__(self) -> None:
        self.labels: list[dict[str, str]] = []

    def mute_for(self, labels: Labels, at: datetime) -> Mute | None:
        self.labels.append(dict(labels))
        return None


def test_a_test_made_flaky_fires_a_later_one_fires_anew_and_a_quiet_run_resolves(rt: Runtime) -> None:
    asked = Asked()
    rt.alerts.mutes.add(asked)
    first = run(rt, "flaky")  # test_a failed, then passed on its retry
    status = status_of(rt, "new-flaky")
    assert status.state is AlertState.FIRING, status.message
    assert status.message == f"run {first} of flaky made 1 test flaky: test_flaky.py::test_a"
    [fired] = [a for a in rt.alerts.firing() if a.rule == "new-flaky"]
    assert fired.run_id == first and fired.message == status.message
    assert status_of(rt, "any-new-flaky").state is AlertState.FIRING  # any suite: this one
    link = watched(parse_rule("suite flaky new flaky"), fired, fired.began_at)
    assert link.href == f"tests?suite=flaky&run={first}&tab=history"  # the flaky panel, at that run
    # A silence or a maintenance window is asked with the rule's labels and the one test named.
    rule_labels = {"alertname": "new-flaky", "severity": "warning", "kind": "suite", "suite": "flaky"}
    assert rt.alerts.labels["new-flaky"] == rule_labels | {"event": "new flaky"}
    assert rule_labels | {"event": "new flaky", "test": "test_flaky.py::test_a"} in asked.labels
    assert rt.alerts.labels_now("new-flaky") == rule_labels | {"event": "new flaky", "test": "test_flaky.py::test_a"}

    second = run(rt, "flaky")  # test_a flaky again (not new); test_b newly flaky
    status = status_of(rt, "new-flaky")
    assert status.state is AlertState.FIRING
    assert status.message == f"run {second} of flaky made 1 test flaky: test_flaky.py::test_b"
    before, now = alerts_of(rt, "new-flaky")
    assert before.state is AlertState.RESOLVED and before.run_id == first and "test_a" in before.message
    assert now.state is AlertState.FIRING and now.run_id == second and "test_b" in now.message
    assert before.ended_at is not None and now.fired_at is not None and before.ended_at <= now.fired_at

    third = run(rt, "flaky")  # both retried again: flaky, but not newly
    status = status_of(rt, "new-flaky")
    assert status.state is AlertState.RESOLVED and status.message == f"run {third} of flaky made no test flaky"
    assert [a.state for a in alerts_of(rt, "new-flaky")] == [AlertState.RESOLVED, AlertState.RESOLVED]
    assert [a.run_id for a in alerts_of(rt, "new-flaky")] == [first, second]  # kept in the store


def test_a_duration_regression_fires_and_a_later_run_at_its_usual_pace_resolves_it(rt: Runtime, tmp_path: Path) -> None:
    sleep = tmp_path / "sleep"

    def timed(seconds: float) -> int:
        sleep.write_text(str(seconds))
        run_id = run(rt, "timed")
        wait_until(
            lambda: saved_regressions(rt.store, run_id) is not None, TIMEOUT, f"the watch's judgement of {run_id}"
        )
        return run_id

    for _ in range(3):
        timed(0.05)
    assert status_of(rt, "slower").state is AlertState.OK
    slow = timed(1.0)
    status = status_of(rt, "slower")
    assert status.state is AlertState.FIRING, status.message
    assert status.message == (
        f"run {slow} of timed has 1 slower test (a duration regression): test_timed.py::test_sleeps_as_told"
    )
    [fired] = [a for a in rt.alerts.firing() if a.rule == "slower"]
    assert fired.run_id == slow
    link = watched(parse_rule("suite timed regression"), fired, fired.began_at)
    assert link.href == f"tests?suite=timed&run={slow}&tab=slower"  # the run's slower tests

    back = timed(0.05)
    status = status_of(rt, "slower")
    assert status.state is AlertState.RESOLVED and status.message == f"run {back} of timed has no duration regression"
    [resolved] = alerts_of(rt, "slower")
    assert resolved.state is AlertState.RESOLVED and resolved.run_id == slow


def test_a_gate_failure_fires_a_passing_run_resolves_and_failed_tests_are_no_gate_failure(
    rt: Runtime, tmp_path: Path
) -> None:
    said = tmp_path / "tests"
    said.write_text("1")  # one test: min_tests = 2 fails the green run
    gated = run(rt, "gates", RunStatus.FAILED)
    status = status_of(rt, "gate")
    assert status.state is AlertState.FIRING, status.message
    assert status.message.startswith(
        f"run {gated} of gates failed quality gate min_tests: 1 test collected, at least 2"
    )
    [fired] = [a for a in rt.alerts.firing() if a.rule == "gate"]
    assert fired.run_id == gated
    assert (
        watched(parse_rule("suite gates gate failed"), fired, fired.began_at).href == f"tests?suite=gates&run={gated}"
    )

    said.write_text("2")
    passed = run(rt, "gates")
    status = status_of(rt, "gate")
    assert status.state is AlertState.RESOLVED, status.message
    assert status.message == f"run {passed} of gates passed, not failed by a quality gate"
    assert status_of(rt, "gates-failed").state is AlertState.RESOLVED

    said.write_text("2 fail")  # failed by its tests: the gate rule stays quiet, the failed rule fires
    failed = run(rt, "gates", RunStatus.FAILED)
    status = status_of(rt, "gate")
    assert status.state is AlertState.RESOLVED and status.message == (
        f"run {failed} of gates failed, not failed by a quality gate"
    )
    assert status_of(rt, "gates-failed").state is AlertState.FIRING
    [gate_alert] = alerts_of(rt, "gate")
    assert gate_alert.run_id == gated and gate_alert.state is AlertState.RESOLVED
