"""A run's own resource story, end to end: a real pytest suite and a real workflow
step that each hold ~100 MB and burn 2 s of CPU, sampled by a running Runtime,
kept in its store and read through the API with the host's history beside them.

The programs hold their memory until a gate file appears, and the test opens
the gate once a sample has seen it: no timing is assumed, however loaded the
machine is.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import load_config
from dashboard_core.models import RunStatus, Trigger
from dashboard_core.runtime import Runtime
from tests.polling import wait_until
from tests.testing.conftest import suites_toml

PY = sys.executable
q = json.dumps  # TOML basic strings are JSON strings
MIB = 2**20
TIMEOUT = 120
# Holds 100 MiB (written, so resident), burns 2 s of CPU (pytest's start-up counts),
# then waits for the gate with the memory still held.
HUNGRY = textwrap.dedent(
    """
    import os, pathlib, sys, time

    def eat(gate):
        block = b"x" * (100 * 2**20)
        while time.process_time() < 2.0:
            pass
        deadline = time.monotonic() + 120
        while not pathlib.Path(gate).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(block)
    """
)

WAIT_FOR_GATE = "import pathlib, sys, time\nwhile not pathlib.Path(sys.argv[1]).exists():\n    time.sleep(0.02)"


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    return tmp_path / "gate"


@pytest.fixture
def rt(tmp_path: Path, gate: Path) -> Iterator[Runtime]:
    hungry = tmp_path / "hungry"
    hungry.mkdir()
    (hungry / "eating.py").write_text(HUNGRY)
    (hungry / "test_hungry.py").write_text(
        "import os\nfrom eating import eat\n\ndef test_hungry():\n    assert eat(os.environ['GATE']) == 100 * 2**20\n"
    )
    step = f"import sys; sys.path.insert(0, {str(hungry)!r}); from eating import eat; eat(sys.argv[1])"
    extra = f"""
[[suites]]
name = "hungry"
paths = [{q(str(hungry))}]
args = ["-p", "no:cacheprovider"]
cwd = {q(str(hungry))}
env = {{ GATE = {q(str(gate))} }}

[[workflows]]
name = "feast"
[[workflows.steps]]
name = "eat"
argv = {q([PY, "-c", step, str(gate)])}
cwd = {q(str(tmp_path))}
[[workflows.steps]]
name = "digest"
argv = {q([PY, "-c", "pass"])}
cwd = {q(str(tmp_path))}
depends_on = ["eat"]

[[workflows]]
name = "blink"
[[workflows.steps]]
name = "wait"
argv = {q([PY, "-c", WAIT_FOR_GATE, str(gate)])}
cwd = {q(str(tmp_path))}
""" + "".join(
        f"""[[workflows.steps]]
name = "short{i}"
argv = {q([PY, "-c", "import time; time.sleep(0.5)"])}
cwd = {q(str(tmp_path))}
depends_on = ["{"wait" if i == 1 else f"short{i - 1}"}"]
"""
        for i in (1, 2, 3)
    )
    path = tmp_path / "dashboard.toml"
    path.write_text(suites_toml(tmp_path, extra))
    with runtime_module.running(load_config(path)) as runtime:
        yield runtime


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_api(lambda: rt)) as c:
        yield c


def resources(client: TestClient, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def fed(story: dict, step: str | None = None) -> bool:
    """The newest sample of the tree shows the memory held and the CPU burnt."""
    tree = next((t for t in story["trees"] if t["step"] == step), None)
    last = tree["samples"][-1] if tree and tree["samples"] else None
    return last is not None and last["rss_bytes"] >= 100 * MIB and last["cpu_seconds"] >= 1.9


def check_story(story: dict, step: str | None, start: datetime, end: datetime) -> dict:
    tree = next(t for t in story["trees"] if t["step"] == step)
    assert tree["peak_rss_bytes"] >= 100 * MIB and story["peak_rss_bytes"] >= tree["peak_rss_bytes"]
    assert tree["cpu_seconds"] >= 1.9 and story["cpu_seconds"] >= tree["cpu_seconds"]
    assert tree["mean_cpu_percent"] >= 0 and story["mean_cpu_percent"] >= 0
    at = [datetime.fromisoformat(s["at"]) for s in tree["samples"]]
    assert at == sorted(at) and start <= at[0] and at[-1] <= end + timedelta(seconds=1)
    assert all(s["processes"] >= 1 for s in tree["samples"])
    # The host over the run's span, padded each side by 5 s at least.
    host = [datetime.fromisoformat(p["at"]) for p in story["host"]]
    assert host and start - timedelta(seconds=61) <= host[0] and host[-1] <= end + timedelta(seconds=61)
    assert any(p["cpu_percent"] is not None and p["memory_percent"] for p in story["host"])
    assert story["host_resolution"] == "full" and story["cpu_cores"] >= 1 and story["sample_interval_seconds"] == 2
    assert story["summary"].startswith("Peak memory ") and " CPU seconds " in story["summary"]
    assert story["note"] == "" and not story["running"]
    return tree


def test_a_test_run_keeps_its_tree_s_memory_peak_and_cpu(rt: Runtime, client: TestClient, gate: Path) -> None:
    run_id = rt.tests.run_suite("hungry", Trigger.API).run.id
    path = f"/testing/runs/{run_id}/resources"
    live = wait_until(lambda: (s := resources(client, path)) and fed(s) and s, TIMEOUT, "a sample of the fed run")
    assert live["running"] and live["trees"][0]["step"] is None
    gate.touch()
    run = rt.tests.wait(run_id, TIMEOUT)
    assert run.status is RunStatus.PASSED and run.started_at and run.ended_at
    # Written to the store (not only waiting in memory) once the run ended.
    wait_until(lambda: rt.run_trees.log.read("test", run_id)[0], TIMEOUT, "the series in the store")
    story = resources(client, path)
    tree = check_story(story, None, run.started_at, run.ended_at)
    assert len(story["trees"]) == 1 and tree["samples"][-1]["rss_bytes"] < tree["peak_rss_bytes"] + MIB
    stored = [s.at for s in rt.run_trees.log.read("test", run_id)[0][None]]
    assert [datetime.fromisoformat(s["at"]).timestamp() for s in tree["samples"]] == pytest.approx(stored)


def test_a_workflow_step_keeps_its_tree_too(rt: Runtime, client: TestClient, gate: Path) -> None:
    run_id = rt.workflows.start_run("feast", {}, Trigger.API).id
    path = f"/workflows/runs/{run_id}/resources"
    wait_until(lambda: fed(resources(client, path), "eat"), TIMEOUT, "a sample of the fed step")
    gate.touch()
    run = rt.workflows.wait(run_id, TIMEOUT)
    assert run.status.value == "succeeded" and run.ended_at is not None
    wait_until(lambda: "eat" in rt.run_trees.log.read("workflow", run_id)[0], TIMEOUT, "the step's series in the store")
    story = resources(client, path)
    check_story(story, "eat", run.started_at, run.ended_at)
    assert [t["step"] for t in story["trees"]][0] == "eat"  # in the workflow's order
    assert story["kind"] == "workflow" and story["run_id"] == run_id


def test_unknown_runs_are_404_and_a_run_without_samples_says_why(rt: Runtime, client: TestClient) -> None:
    for path in ("/testing/runs/999/resources", "/workflows/runs/999/resources"):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["success"] is False, response.text
    # A run recorded before the dashboard sampled runs: started, ended, no series.
    now = datetime.now(UTC)
    old = rt.tests.history.insert("hungry", Trigger.API, now - timedelta(minutes=5), ["pytest"])
    rt.tests.history.update(
        old, status=RunStatus.PASSED, started_at=now - timedelta(minutes=5), ended_at=now - timedelta(minutes=4)
    )
    story = resources(client, f"/testing/runs/{old}/resources")
    assert story["trees"] == [] and story["summary"] == "" and story["peak_rss_bytes"] is None
    assert story["note"].startswith("Nothing was sampled for this run: it ran before this dashboard kept")
    short = rt.tests.history.insert("hungry", Trigger.API, now, ["pytest"])
    rt.tests.history.update(short, status=RunStatus.PASSED, started_at=now, ended_at=now + timedelta(seconds=1))
    assert "too short for a sample" in resources(client, f"/testing/runs/{short}/resources")["note"]
    never = rt.tests.history.insert("hungry", Trigger.API, now, ["pytest"])
    rt.tests.history.update(never, status=RunStatus.CANCELLED, ended_at=now)
    assert resources(client, f"/testing/runs/{never}/resources")["note"].startswith("This run never started")
    queued = rt.tests.history.insert("hungry", Trigger.API, now, ["pytest"])
    assert resources(client, f"/testing/runs/{queued}/resources")["note"].startswith("Not started yet")


def test_steps_shorter_than_the_sampling_interval_each_have_a_sample(
    rt: Runtime, client: TestClient, gate: Path
) -> None:
    """Three 0.5 s steps one after another while the sampler reads every 2 s: each is read
    when its process starts (before, one in four landed between two readings)."""
    run_id = rt.workflows.start_run("blink", {}, Trigger.API).id
    path = f"/workflows/runs/{run_id}/resources"
    wait_until(  # the sampler is busy with the first step: the short ones start between its readings
        lambda: any(t["step"] == "wait" and t["samples"] for t in resources(client, path)["trees"]),
        TIMEOUT,
        "a sample of the waiting step",
    )
    gate.touch()
    run = rt.workflows.wait(run_id, TIMEOUT)
    assert run.status.value == "succeeded", run
    wait_until(lambda: not rt.run_trees.sampler.pending("workflow", run_id), TIMEOUT, "the run's samples written")
    samples = {t["step"]: len(t["samples"]) for t in resources(client, path)["trees"]}
    assert all(samples.get(f"short{i}", 0) >= 1 for i in (1, 2, 3)), samples


def test_a_finished_runs_story_is_built_once_a_running_ones_each_time(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages redraw a run's view every second: a finished run's story cannot change
    (samples written, the host's span after it over), so it is built once."""
    from dashboard_core.app.run_story import test_run_story

    reads: list[object] = []
    real = rt.read_history
    monkeypatch.setattr(rt, "read_history", lambda window: reads.append(window) or real(window))
    now = datetime.now(UTC)
    done = rt.tests.history.insert("hungry", Trigger.API, now - timedelta(minutes=10), ["pytest"])
    rt.tests.history.update(
        done, status=RunStatus.PASSED, started_at=now - timedelta(minutes=10), ended_at=now - timedelta(minutes=9)
    )
    first = test_run_story(rt, done)
    assert test_run_story(rt, done) is first and len(reads) == 1

    just = rt.tests.history.insert("hungry", Trigger.API, now - timedelta(minutes=1), ["pytest"])
    rt.tests.history.update(just, status=RunStatus.PASSED, started_at=now - timedelta(minutes=1), ended_at=now)
    going = rt.tests.history.insert("hungry", Trigger.API, now - timedelta(minutes=1), ["pytest"])
    rt.tests.history.update(going, status=RunStatus.RUNNING, started_at=now - timedelta(minutes=1))
    for run_id in (just, going):  # the host's span after it not over yet; still running
        assert test_run_story(rt, run_id) is not test_run_story(rt, run_id)
    assert len(reads) == 5
