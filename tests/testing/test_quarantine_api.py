"""A suite's quarantine over the API and the application layer, on a real Runtime (real
pytest runs, a real store): put a test in and take it out, the list, the audit line with
who and why, and the refusals (an unknown suite 404, a test the suite never ran 422 naming
it, a viewer 403); and the flaky list's verdicts over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.app.caller import Caller, NotAllowed
from dashboard_core.app.quarantine import quarantine_test, release_test
from dashboard_core.auth.principals import Principal
from dashboard_core.config import Config
from dashboard_core.models.quarantine import QuarantineRelease, QuarantineRequest
from dashboard_core.runtime import Runtime
from tests.polling import wait_until
from tests.testing.test_verdicts import COIN, suite_toml

pytestmark = pytest.mark.timeout(600)
VIEWER = Caller(Principal("vera", "viewer", "user"), "10.0.0.4")
OPERATOR = Caller(Principal("otto", "operator", "user"), "10.0.0.5")


@pytest.fixture
def rt_client(suites_config: Callable[..., Config], tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    config = suites_config(suite_toml(tmp_path, "coin", COIN, "always or fine"))
    with runtime_module.running(config) as rt, TestClient(create_api(lambda: rt)) as client:
        yield rt, client


def finished_run(client: TestClient, suite: str) -> dict:
    test_id = client.post("/dashboard/testing/run-suite", json={"test_suite": suite}).json()["test_id"]
    return wait_until(
        lambda: (body := client.get(f"/testing/runs/{test_id}").json())["status"] not in ("queued", "running") and body,
        180,
        f"run {test_id} to finish",
    )


def audit_lines(rt: Runtime) -> list[str]:
    return [e.message for e in rt.events.since(0, 1000) if e.kind.value == "audit"]


def test_quarantine_a_test_list_it_run_green_and_release_it(rt_client: tuple[Runtime, TestClient]) -> None:
    rt, client = rt_client
    first = finished_run(client, "coin")
    assert first["status"] == "failed"
    nodeid = next(c["nodeid"] for c in first["cases"] if c["outcome"] == "failed")
    assert client.get("/testing/suites/coin/quarantine").json() == []

    put = client.post("/testing/suites/coin/quarantine", json={"nodeid": nodeid, "reason": "  a race in CI  "})
    assert put.status_code == 200, put.text
    entry = put.json()
    assert entry["nodeid"] == nodeid and entry["reason"] == "a race in CI" and entry["by"] == "local"
    assert client.get("/testing/suites/coin/quarantine").json() == [entry]
    assert f"local (admin) quarantined test {nodeid} of coin: a race in CI from testclient" in audit_lines(rt)

    second = finished_run(client, "coin")
    assert second["status"] == "passed" and second["message"] == "passed (1 quarantined failure; exit 1: tests failed)"
    marked = {c["nodeid"]: c["quarantined"] for c in second["cases"]}
    assert marked[nodeid] is True and sum(marked.values()) == 1
    broken = client.get("/testing/suites/coin/flaky").json()
    assert [(f["verdict"], f["history"], f["quarantine"]["reason"]) for f in broken] == [
        ("broken", "FF", "a race in CI")
    ]

    gone = client.request("DELETE", "/testing/suites/coin/quarantine", json={"nodeid": nodeid, "reason": "fixed"})
    assert gone.status_code == 200 and gone.json() == entry
    assert client.get("/testing/suites/coin/quarantine").json() == []
    assert f"local (admin) released test from quarantine {nodeid} of coin: fixed from testclient" in audit_lines(rt)
    assert finished_run(client, "coin")["status"] == "failed"  # its failure counts again


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("POST", "/testing/suites/nope/quarantine", {"nodeid": "t.py::x", "reason": "r"}, 404,
         "There is no test suite named 'nope'. Known suites: demo, gated, coin."),
        ("GET", "/testing/suites/nope/quarantine", None, 404, "There is no test suite named 'nope'."),
        ("DELETE", "/testing/suites/nope/quarantine", {"nodeid": "t.py::x"}, 404, "There is no test suite named 'nope'."),
        ("POST", "/testing/suites/coin/quarantine", {"nodeid": "t.py::never_ran", "reason": "r"}, 422,
         "No run of 'coin' has a test 't.py::never_ran'"),
        ("DELETE", "/testing/suites/coin/quarantine", {"nodeid": "t.py::x"}, 422,
         "'t.py::x' is not in the quarantine of 'coin'"),
        ("POST", "/testing/suites/coin/quarantine", {"nodeid": "t.py::x", "reason": "   "}, 422,
         "The request is not valid."),
        ("POST", "/testing/suites/coin/quarantine", {"nodeid": "t.py::x"}, 422, "The request is not valid."),
    ],
)  # fmt: skip
def test_bad_quarantine_requests_are_refused_with_a_reason(
    rt_client: tuple[Runtime, TestClient], method: str, path: str, body: dict | None, status: int, says: str
) -> None:
    _, client = rt_client
    answer = client.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["message"]


def test_a_viewer_may_not_quarantine_and_nothing_changes(rt_client: tuple[Runtime, TestClient]) -> None:
    rt, client = rt_client
    nodeid = next(c["nodeid"] for c in finished_run(client, "coin")["cases"] if c["outcome"] == "failed")
    request = QuarantineRequest(nodeid=nodeid, reason="flaky")
    with pytest.raises(NotAllowed) as refused:
        quarantine_test(rt, VIEWER, "coin", request)
    assert refused.value.status == 403
    assert str(refused.value) == "vera (viewer) may not quarantine tests: it needs the operator role or above."
    assert client.get("/testing/suites/coin/quarantine").json() == []
    quarantine_test(rt, OPERATOR, "coin", request)
    with pytest.raises(NotAllowed):
        release_test(rt, VIEWER, "coin", QuarantineRelease(nodeid=nodeid))
    assert [e["by"] for e in client.get("/testing/suites/coin/quarantine").json()] == ["otto"]
    assert f"otto (operator) quarantined test {nodeid} of coin: flaky from 10.0.0.5" in audit_lines(rt)
