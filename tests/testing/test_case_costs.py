"""What each test costs, measured in real pytest runs through the dashboard (the plugin
in the pytest process, or in each pytest-xdist worker), stored with the cases and
read back through the API. Generous thresholds: the machine may be loaded, so the
test asserts orders and large gaps, never timings."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import Config
from tests.polling import wait_until

MiB = 2**20
COSTLY = textwrap.dedent(
    """
    import time

    def test_trivial():
        pass

    def test_hungry():
        block = bytearray(200 * 1024 * 1024)
        for i in range(0, len(block), 4096):  # touched: resident, not just reserved
            block[i] = 1
        assert block[-4096] == 1

    def test_cpu():
        end = time.process_time() + 0.6  # CPU time, however busy the machine is
        n = 0
        while time.process_time() < end:
            for _ in range(100_000):  # in Python: user time, few system calls
                n += 1
        assert n
    """
)


@pytest.fixture
def client(tmp_path: Path, suites_config: Callable[..., Config]) -> Iterator[TestClient]:
    folder = tmp_path / "costly"
    folder.mkdir()
    (folder / "test_costly.py").write_text(COSTLY)
    q = json.dumps
    extra = "".join(
        f"\n[[suites]]\nname = {q(name)}\npaths = [{q(str(folder))}]\nargs = ['-p', 'no:cacheprovider']\n"
        f"cwd = {q(str(folder))}\nworkers = {workers}\n"
        for name, workers in (("costly", 0), ("costly-xdist", 2))
    )
    with runtime_module.running(suites_config(extra)) as rt, TestClient(create_api(lambda: rt)) as c:
        yield c


def run_to_the_end(client: TestClient, suite: str) -> dict:
    test_id = client.post("/dashboard/testing/run-suite", json={"test_suite": suite}).json()["test_id"]
    return wait_until(
        lambda: (body := client.get(f"/testing/runs/{test_id}").json())["status"] not in ("queued", "running") and body,
        180,
        f"run {test_id} of {suite} to finish",
    )


@pytest.mark.parametrize("suite", ["costly", "costly-xdist"])
def test_each_test_s_cpu_and_peak_memory_are_measured_where_it_ran(client: TestClient, suite: str) -> None:
    run = run_to_the_end(client, suite)
    assert run["status"] == "passed", run["message"]
    cases = {c["nodeid"].rsplit("::", 1)[-1]: c for c in run["cases"]}
    trivial, hungry, cpu = cases["test_trivial"], cases["test_hungry"], cases["test_cpu"]
    assert hungry["peak_rss_bytes"] - trivial["peak_rss_bytes"] >= 150 * MiB, (hungry, trivial)
    assert cpu["cpu_user_seconds"] >= 0.3 > trivial["cpu_user_seconds"], (cpu, trivial)
    assert cpu["peak_rss_bytes"] < hungry["peak_rss_bytes"] - 150 * MiB  # the high-water mark was reset
    for case in cases.values():
        assert case["cpu_system_seconds"] >= 0 and run["started_at"] <= case["started_at"] <= run["ended_at"]

    heaviest = f"/testing/runs/{run['id']}/heaviest"
    by_cpu = client.get(heaviest, params={"by": "cpu"}).json()
    # Most CPU first, by the figures stored (touching 200 MB can cost the hungry test as much
    # system time as the spinning one's, on a loaded machine): the spinner above the trivial one.
    order = [c["nodeid"] for c in by_cpu["items"]]
    top = max(cases.values(), key=lambda c: c["cpu_user_seconds"] + c["cpu_system_seconds"])
    assert order[0] == top["nodeid"] and order.index(cpu["nodeid"]) < order.index(trivial["nodeid"])
    assert by_cpu["measured"] == 3 and by_cpu["items"][0]["cpu_seconds"] >= 0.3 and by_cpu["items"][0]["cpu_ratio"] > 0
    by_memory = client.get(heaviest, params={"by": "memory", "limit": 1}).json()
    assert [c["nodeid"] for c in by_memory["items"]] == [hungry["nodeid"]] and by_memory["run_id"] == run["id"]
    of_suite = client.get(f"/testing/suites/{suite}/heaviest", params={"by": "memory"}).json()
    assert of_suite["items"][0]["nodeid"] == hungry["nodeid"] and of_suite["runs"] == 1
    growth = client.get(f"/testing/suites/{suite}/cost-growth").json()
    assert growth["run_id"] == run["id"] and growth["items"] == []  # no earlier runs: nothing to grow from


def test_bad_runs_suites_and_parameters_are_named(client: TestClient) -> None:
    run = run_to_the_end(client, "costly")
    for url, status, words in [
        ("/testing/runs/424242/heaviest", 404, "There is no test run with id 424242."),
        ("/testing/suites/nope/heaviest", 404, "There is no test suite named 'nope'"),
        ("/testing/suites/nope/cost-growth", 404, "There is no test suite named 'nope'"),
        (f"/testing/suites/gated/cost-growth?run={run['id']}", 404, f"Run {run['id']} is a run of 'costly', not"),
        ("/testing/suites/costly/cost-growth?run=424242", 404, "There is no test run with id 424242."),
        (f"/testing/runs/{run['id']}/heaviest?by=disk", 422, "query.by"),
        (f"/testing/runs/{run['id']}/heaviest?limit=0", 422, "query.limit"),
        ("/testing/suites/costly/cost-growth?window=0", 422, "query.window"),
    ]:
        response = client.get(url)
        assert response.status_code == status, (url, response.text)
        body = response.json()
        assert body["success"] is False and words in body["message"] + " ".join(body["errors"]), (url, body)
    growth = client.get("/testing/suites/gated/cost-growth").json()  # never run: nothing judged
    assert growth["run_id"] is None and growth["items"] == []
