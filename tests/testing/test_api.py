"""The test-suite endpoints over a real Runtime (real pytest runs), in process."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import Config
from tests.polling import wait_until


@pytest.fixture
def client(suites_config: Callable[..., Config]) -> Iterator[TestClient]:
    with runtime_module.running(suites_config()) as rt, TestClient(create_api(lambda: rt)) as c:
        yield c


def finished(client: TestClient, test_id: str) -> dict:
    return wait_until(
        lambda: (body := client.get(f"/testing/runs/{test_id}").json())["status"] not in ("queued", "running") and body,
        120,
        f"run {test_id} to finish",
    )


def test_run_suite_as_the_seed_asked_then_read_the_run(client: TestClient) -> None:
    response = client.post("/dashboard/testing/run-suite", json={"test_suite": "demo"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["test_id"].isdigit() and body["already_running"] is False
    run = finished(client, body["test_id"])
    assert run["status"] == "failed" and run["trigger"] == "api" and run["exit_code"] == 1
    assert run["counts"] == {
        "collected": 12, "done": 12, "passed": 7, "failed": 1, "errors": 1, "skipped": 1, "xfailed": 1, "xpassed": 1,
    }  # fmt: skip
    assert len(run["cases"]) == 12 and "1 failed, 7 passed" in run["log_tail"]
    # Failures first, then the order the tests ran (each case says where it ran).
    outcomes = [c["outcome"] for c in run["cases"]]
    assert sorted(outcomes[:2]) == ["error", "failed"] and not {"failed", "error"} & set(outcomes[2:])
    ordinals = [c["ordinal"] for c in run["cases"]]
    assert sorted(ordinals) == list(range(12)) and ordinals[:2] == sorted(ordinals[:2])
    assert ordinals[2:] == sorted(ordinals[2:])
    page = client.get("/testing/runs", params={"suite": "demo", "status": "failed"}).json()
    assert page["total"] == 1 and page["items"][0]["id"] == run["id"]
    assert client.get("/testing/runs", params={"suite": "gated"}).json()["total"] == 0


def test_a_second_request_gets_the_running_run(client: TestClient, gate: Path) -> None:
    first = client.post("/dashboard/testing/run-suite", json={"test_suite": "gated"}).json()
    second = client.post("/dashboard/testing/run-suite", json={"test_suite": "gated", "trigger": "cli"}).json()
    assert second["test_id"] == first["test_id"] and second["already_running"] is True
    assert "no second run was started" in second["message"]
    suites = {s["name"]: s for s in client.get("/testing/suites").json()}
    assert suites["gated"]["active_run"]["id"] == int(first["test_id"])
    gate.touch()
    assert finished(client, first["test_id"])["status"] == "passed"


def test_cancel_a_run_then_cancelling_again_is_a_conflict(client: TestClient) -> None:
    test_id = client.post("/dashboard/testing/run-suite", json={"test_suite": "gated"}).json()["test_id"]
    response = client.post(f"/testing/runs/{test_id}/cancel")
    assert response.status_code == 200
    assert finished(client, test_id)["status"] == "cancelled"
    again = client.post(f"/testing/runs/{test_id}/cancel")
    assert again.status_code == 409
    assert again.json() == {
        "success": False,
        "message": f"Run {test_id} of 'gated' has already finished (cancelled); nothing to cancel.",
        "errors": [],
    }


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"test_suite": "nope"}, 404, "There is no test suite named 'nope'. Known suites: demo, gated."),
        ({}, 422, "body.test_suite: Field required"),
        ({"test_suite": 5}, 422, "body.test_suite: Input should be a valid string"),
        ({"test_suite": "demo", "argv": ["rm"]}, 422, "body.argv: Extra inputs are not permitted"),
        ({"test_suite": "demo", "rerun_failed_of": 999}, 404, "There is no test run with id 999."),
        ({"test_suite": "demo", "trigger": "ui"}, 422, "body.trigger"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(client: TestClient, body: dict, status: int, says: str) -> None:
    response = client.post("/dashboard/testing/run-suite", json=body)
    assert response.status_code == status
    payload = response.json()
    assert payload["success"] is False
    assert says in payload["message"] + "\n".join(payload["errors"])


def test_malformed_json_is_a_422(client: TestClient) -> None:
    response = client.post(
        "/dashboard/testing/run-suite", content=b'{"test_suite": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["success"] is False


def test_unknown_runs_are_404(client: TestClient) -> None:
    for method, path in [
        ("get", "/testing/runs/424242"),
        ("post", "/testing/runs/424242/cancel"),
        ("get", "/testing/runs/424242/log"),
        ("get", "/testing/runs/424242/cases.csv"),
        ("get", "/testing/suites/nope/flaky"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 404, path
        assert response.json()["success"] is False
    assert client.get("/testing/runs/0").status_code == 422
    assert client.get("/testing/runs/abc").status_code == 422


def test_a_run_downloads_as_log_csv_and_junit(client: TestClient) -> None:
    test_id = client.post("/dashboard/testing/run-suite", json={"test_suite": "demo"}).json()["test_id"]
    finished(client, test_id)
    log = client.get(f"/testing/runs/{test_id}/log")
    assert log.status_code == 200 and "test_demo.py" in log.text
    assert f"demo_run-{test_id}_" in log.headers["content-disposition"]
    csv = client.get(f"/testing/runs/{test_id}/cases.csv")
    table = pd.read_csv(io.StringIO(csv.text))
    assert list(table.columns) == [
        "run_id", "suite", "outcome", "nodeid", "duration", "message", "subtest", "traceback",
        "cpu_user_seconds", "cpu_system_seconds", "peak_rss_bytes", "started_at",
    ]  # fmt: skip
    assert table["cpu_user_seconds"].notna().all() and (table["peak_rss_bytes"] > 0).all()
    assert len(table) == 12 and sorted(table["outcome"].unique()) == [
        "error", "failed", "passed", "skipped", "xfailed", "xpassed",
    ]  # fmt: skip
    junit = ET.fromstring(client.get(f"/testing/runs/{test_id}/junit.xml").content)
    suite = junit.find("testsuite")
    assert suite is not None and suite.get("tests") == "12" and suite.get("failures") == "1"
    assert suite.get("errors") == "1"


def test_flaky_tests_over_the_api(client: TestClient) -> None:
    assert client.get("/testing/suites/demo/flaky").json() == []
    assert client.get("/testing/suites/demo/flaky", params={"n": 1}).status_code == 422
