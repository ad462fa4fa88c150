"""The workflow endpoints over a real Runtime (real subprocess steps), in process:
start with parameters, the listing while a run goes on, 404/409/422 refusals
naming what is wrong, stop, restart, a run's detail and its step logs, and the
no-shell guarantee through the API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import Config
from tests.polling import wait_until
from tests.workflows.conftest import PY, gone, q

RUN_TIMEOUT = 90  # a loaded 2-core machine starts Python slowly

# Records what it got (argv after its own three, the PARAM_ variables, its pid and
# cwd) in <folder>/<name>.json, appends its name to <folder>/order, says hello,
# then waits for the gate file (if one is given: "-" is none).
STEP = """
folder, name, gate = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
params = {k: v for k, v in os.environ.items() if k.startswith("PARAM_")}
got = {"argv": sys.argv[4:], "env": params, "pid": os.getpid(), "cwd": os.getcwd()}
tmp = folder / f"{name}.{os.getpid()}.tmp"  # its own: concurrent runs of one step share the name
tmp.write_text(json.dumps(got))
os.replace(tmp, folder / (name + ".json"))
append(folder / "order", name)
print(name, "says hello", flush=True)
sys.exit(0 if gate == "-" or wait_for(gate, 120) else 3)
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the steps write what they received."""
    path = tmp_path / "out"
    path.mkdir()
    return path


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    """Touch it to let the pipeline's train step (and the side step) end."""
    return tmp_path / "gate"


@pytest.fixture
def config(
    workflows_config: Callable[..., Config], script: Callable[[str, str], str], folder: Path, gate: Path, tmp_path: Path
) -> Config:
    step = script("step", STEP)

    def argv(name: str, wait: Path | None, *extra: str) -> str:
        return q([PY, step, str(folder), name, str(wait) if wait else "-", *extra])

    cwd = q(str(tmp_path))  # absolute: the config lives in tmp_path, the tests run from the repo
    return workflows_config(
        f"""
[[workflows]]
name = "pipeline"
description = "prepare, train (waits for the gate), report"
grace_seconds = 2
[[workflows.params]]
name = "target"
required = true
description = "what to work on"
[[workflows.params]]
name = "epochs"
type = "int"
default = 2
min = 1
max = 50
[[workflows.params]]
name = "mode"
choices = ["fast", "safe"]
default = "safe"
[[workflows.steps]]
name = "prepare"
argv = {argv("prepare", None, "{target}", "{epochs}", "{mode}")}
cwd = {cwd}
[[workflows.steps]]
name = "train"
argv = {argv("train", gate)}
cwd = {cwd}
depends_on = ["prepare"]
[[workflows.steps]]
name = "report"
argv = {argv("report", None)}
cwd = {cwd}
depends_on = ["train"]

[[workflows]]
name = "side"
concurrent = true
grace_seconds = 2
[[workflows.steps]]
name = "wait"
argv = {argv("side", gate)}
cwd = {cwd}
"""
    )


@pytest.fixture
def client(config: Config) -> Iterator[TestClient]:
    with runtime_module.running(config) as rt, TestClient(create_api(lambda: rt)) as c:
        yield c


# -- helpers ---------------------------------------------------------------------------
def start(client: TestClient, workflow: str = "pipeline", **params: Any) -> int:
    response = client.post("/dashboard/workflows/start", json={"workflow": workflow, "params": params})
    assert response.status_code == 200, response.text
    return int(response.json()["run_id"])


def detail(client: TestClient, run_id: int) -> dict[str, Any]:
    response = client.get(f"/workflows/runs/{run_id}")
    assert response.status_code == 200, response.text
    return response.json()


def step_statuses(run: dict[str, Any]) -> dict[str, str]:
    return {s["name"]: s["status"] for s in run["steps"]}


def wait_step(client: TestClient, run_id: int, step: str, status: str) -> dict[str, Any]:
    return wait_until(
        lambda: (run := detail(client, run_id)) and step_statuses(run)[step] == status and run,
        RUN_TIMEOUT,
        f"step {step!r} of run {run_id} to be {status}",
    )


def finished(client: TestClient, run_id: int) -> dict[str, Any]:
    return wait_until(
        lambda: (run := detail(client, run_id))["status"] != "running" and run,
        RUN_TIMEOUT,
        f"run {run_id} to finish",
    )


def received(folder: Path, step: str) -> dict[str, Any]:
    return json.loads((folder / f"{step}.json").read_text())


def refused(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    return body


# -- tests -----------------------------------------------------------------------------
def test_start_with_params_lists_the_active_run_then_succeeds_in_order(
    client: TestClient, folder: Path, gate: Path, tmp_path: Path
) -> None:
    response = client.post(
        "/dashboard/workflows/start", json={"workflow": "pipeline", "params": {"target": "t1", "epochs": "3"}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["run_id"].isdigit() and body["status"] == "running"
    run_id = int(body["run_id"])
    assert body["message"] == f"Run {run_id} of 'pipeline' started."

    wait_step(client, run_id, "train", "running")
    listing = client.get("/dashboard/workflows").json()
    pipeline, side = listing["workflows"]
    assert pipeline["name"] == "pipeline" and side["name"] == "side"
    assert pipeline["description"] == "prepare, train (waits for the gate), report"
    assert not pipeline["concurrent"] and side["concurrent"] and not pipeline["service"]
    assert [(p["name"], p["type"], p["default"], p["choices"], p["required"]) for p in pipeline["params"]] == [
        ("target", "str", None, None, True),
        ("epochs", "int", 2, None, False),
        ("mode", "str", "safe", ["fast", "safe"], False),
    ]
    assert pipeline["params"][0]["description"] == "what to work on"
    assert (pipeline["params"][1]["min"], pipeline["params"][1]["max"]) == (1, 50)  # the form keeps to them
    assert [(s["name"], s["depends_on"], s["status"]) for s in pipeline["steps"]] == [
        ("prepare", [], "pending"),
        ("train", ["prepare"], "pending"),
        ("report", ["train"], "pending"),
    ]
    assert [r["id"] for r in pipeline["active_runs"]] == [run_id] and side["active_runs"] == []
    assert [r["id"] for r in listing["active"]] == [run_id]
    active = listing["active"][0]
    assert active["status"] == "running" and active["trigger"] == "api"
    assert active["params"] == {"target": "t1", "epochs": 3, "mode": "safe"}
    assert step_statuses(active) == {"prepare": "succeeded", "train": "running", "report": "pending"}
    assert pipeline["last_run"] is None

    gate.touch()
    run = finished(client, run_id)
    assert run["status"] == "succeeded" and run["message"] == "all 3 steps succeeded"
    assert [(s["name"], s["status"], s["exit_code"]) for s in run["steps"]] == [
        ("prepare", "succeeded", 0),
        ("train", "succeeded", 0),
        ("report", "succeeded", 0),
    ]
    prepare, train, report = run["steps"]
    assert prepare["ended_at"] <= train["started_at"] and train["ended_at"] <= report["started_at"]
    assert (folder / "order").read_text().split() == ["prepare", "train", "report"]
    got = received(folder, "prepare")
    assert got["argv"] == ["t1", "3", "safe"] and Path(got["cwd"]) == tmp_path
    assert got["env"] == {"PARAM_TARGET": "t1", "PARAM_EPOCHS": "3", "PARAM_MODE": "safe"}

    listing = client.get("/dashboard/workflows").json()
    assert listing["active"] == [] and listing["workflows"][0]["active_runs"] == []
    assert listing["workflows"][0]["last_run"]["id"] == run_id
    history = client.get("/workflows/runs").json()
    assert [(r["id"], r["workflow"], r["status"]) for r in history] == [(run_id, "pipeline", "succeeded")]


def test_a_second_start_is_a_409_naming_the_running_run_unless_concurrent(client: TestClient, gate: Path) -> None:
    first = start(client, target="a")
    again = refused(
        client.post("/dashboard/workflows/start", json={"workflow": "pipeline", "params": {"target": "b"}}), 409
    )
    assert again["message"].startswith(f"'pipeline' is already running (run {first}). Stop that run first")
    assert [r["id"] for r in client.get("/workflows/runs", params={"workflow": "pipeline"}).json()] == [first]

    one, two = start(client, "side"), start(client, "side")
    assert len({first, one, two}) == 3
    active = client.get("/dashboard/workflows").json()["active"]
    assert [(r["id"], r["workflow"]) for r in active] == [(first, "pipeline"), (one, "side"), (two, "side")]
    side = client.get("/workflows/runs", params={"workflow": "side"}).json()
    assert [r["id"] for r in side] == [two, one]  # newest first
    assert [r["id"] for r in client.get("/workflows/runs", params={"limit": 1, "offset": 1}).json()] == [one]
    gate.touch()
    assert [finished(client, r)["status"] for r in (first, one, two)] == ["succeeded"] * 3


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"target": "t", "epochs": "many"}, ["params.epochs: expected a whole number, got 'many'"]),
        ({"target": "t", "epochs": 2.5}, ["params.epochs: expected a whole number, got 2.5"]),
        ({"target": "t", "mode": "slow"}, ["params.mode: 'slow' is not one of the choices: 'fast', 'safe'"]),
        ({"target": "t", "colour": "red"}, ["params.colour: 'pipeline' has no parameter 'colour'"]),
        ({"epochs": 1}, ["params.target: required"]),
        ({"target": "t", "epochs": -3}, ["params.epochs: -3 is out of bounds: must be between 1 and 50"]),
        ({"target": "t", "epochs": "51"}, ["params.epochs: 51 is out of bounds: must be between 1 and 50"]),
        (
            {"colour": "red", "epochs": True, "mode": "slow"},
            [
                "params.colour: 'pipeline' has no parameter 'colour'",
                "params.target: required",
                "params.epochs: expected a whole number, got True",
                "params.mode: 'slow' is not one of the choices: 'fast', 'safe'",
            ],
        ),
    ],
)
def test_bad_params_are_a_422_naming_each_parameter(
    client: TestClient, folder: Path, params: dict[str, Any], errors: list[str]
) -> None:
    body = refused(client.post("/dashboard/workflows/start", json={"workflow": "pipeline", "params": params}), 422)
    assert body["errors"] == errors
    assert body["message"] == f"The parameters of 'pipeline' are not valid: {'; '.join(errors)}."
    assert client.get("/workflows/runs").json() == [] and client.get("/dashboard/workflows").json()["active"] == []
    assert not (folder / "order").exists()  # nothing ran


def test_an_unknown_workflow_is_a_404_naming_the_known_ones(client: TestClient) -> None:
    body = refused(client.post("/dashboard/workflows/start", json={"workflow": "nope"}), 404)
    assert body["message"] == "There is no workflow named 'nope'. Known workflows: pipeline, side."
    body = refused(client.get("/workflows/runs", params={"workflow": "nope"}), 404)
    assert "Known workflows: pipeline, side." in body["message"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "body.workflow: Field required"),
        ({"workflow": ""}, "body.workflow: String should have at least 1 character"),
        ({"workflow": 5}, "body.workflow: Input should be a valid string"),
        ({"workflow": "pipeline", "argv": ["rm", "-rf", "/"]}, "body.argv: Extra inputs are not permitted"),
        ({"workflow": "pipeline", "params": ["target"]}, "body.params: Input should be a valid dictionary"),
        ({"workflow": "pipeline", "params": {"target": ["a", "b"]}}, "body.params.target"),
        ({"workflow": "pipeline", "params": {"target": {"x": 1}}}, "body.params.target"),
        ([{"workflow": "pipeline"}], "body: Input should be a valid dictionary"),
    ],
)
def test_a_malformed_body_is_a_422_naming_the_field(client: TestClient, body: Any, says: str) -> None:
    payload = refused(client.post("/dashboard/workflows/start", json=body), 422)
    assert payload["message"] == "The request is not valid."
    assert any(line.startswith(says) for line in payload["errors"]), payload["errors"]
    assert client.get("/workflows/runs").json() == []


def test_json_that_does_not_parse_is_a_422(client: TestClient) -> None:
    response = client.post(
        "/dashboard/workflows/start", content=b'{"workflow": ', headers={"content-type": "application/json"}
    )
    refused(response, 422)


def test_stop_kills_the_running_step_skips_the_pending_ones_and_a_second_stop_is_a_409(
    client: TestClient, folder: Path
) -> None:
    run_id = start(client, target="t")
    wait_step(client, run_id, "train", "running")
    pid = wait_until(
        lambda: (folder / "train.json").exists() and received(folder, "train")["pid"], RUN_TIMEOUT, "train's pid"
    )
    assert psutil.pid_exists(pid)

    response = client.post(f"/dashboard/workflows/{run_id}/stop")
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["id"] == run_id and run["status"] == "stopped" and run["message"] == "stopped"
    assert [(s["name"], s["status"], s["message"]) for s in run["steps"]] == [
        ("prepare", "succeeded", "exit 0"),
        ("train", "stopped", "killed by SIGTERM (stopped)"),
        ("report", "skipped", "skipped: the run was stopped"),
    ]
    assert run["ended_at"] is not None
    wait_until(lambda: gone(pid), 15, f"the train step's process {pid} to be gone")
    assert detail(client, run_id)["status"] == "stopped"
    assert client.get("/dashboard/workflows").json()["active"] == []

    again = refused(client.post(f"/dashboard/workflows/{run_id}/stop"), 409)
    assert again["message"] == f"Run {run_id} of 'pipeline' has already finished (stopped); there is nothing to stop."


def test_restart_starts_a_new_run_with_the_same_params(client: TestClient, folder: Path, gate: Path) -> None:
    first = start(client, target="again", epochs=4, mode="fast")
    wait_step(client, first, "train", "running")

    response = client.post(f"/dashboard/workflows/{first}/restart")
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["id"] != first and second["workflow"] == "pipeline" and second["trigger"] == "api"
    assert second["params"] == {"target": "again", "epochs": 4, "mode": "fast"}
    assert second["status"] == "running"
    assert detail(client, first)["status"] == "stopped"  # the running one was stopped first

    gate.touch()
    assert finished(client, second["id"])["status"] == "succeeded"
    assert received(folder, "prepare")["argv"] == ["again", "4", "fast"]

    third = client.post(f"/dashboard/workflows/{second['id']}/restart").json()  # a finished run: started again
    assert third["id"] not in (first, second["id"]) and third["params"] == second["params"]
    assert finished(client, third["id"])["status"] == "succeeded"
    history = client.get("/workflows/runs").json()
    assert [r["id"] for r in history] == [third["id"], second["id"], first]


def test_a_run_has_its_steps_with_log_tails_and_each_step_log_downloads(client: TestClient, gate: Path) -> None:
    run_id = start(client, target="logs")
    run = wait_step(client, run_id, "train", "running")
    tails = {s["name"]: s["log_tail"] for s in run["steps"]}
    assert "prepare says hello" in tails["prepare"] and tails["report"] == ""
    wait_until(
        lambda: "train says hello" in detail(client, run_id)["steps"][1]["log_tail"], RUN_TIMEOUT, "train's tail"
    )

    gate.touch()
    run = finished(client, run_id)
    prepare, train, report = run["steps"]
    assert [s["log_tail"].strip() for s in run["steps"]] == [
        "prepare says hello",
        "train says hello",
        "report says hello",
    ]
    assert prepare["log_path"] and prepare["duration_seconds"] >= 0 and report["status"] == "succeeded"

    log = client.get(f"/workflows/runs/{run_id}/steps/train/log")
    assert log.status_code == 200 and log.text.strip() == "train says hello"
    assert log.headers["content-type"].startswith("text/plain")
    assert f'filename="pipeline_run-{run_id}_train.log"' in log.headers["content-disposition"]
    # the summary list has no tails; the one-run detail has them
    assert client.get("/workflows/runs").json()[0]["steps"][0]["log_tail"] is None


def test_unknown_runs_and_steps_are_404s_and_bad_ids_422s(client: TestClient) -> None:
    for method, path in [
        ("get", "/workflows/runs/424242"),
        ("post", "/dashboard/workflows/424242/stop"),
        ("post", "/dashboard/workflows/424242/restart"),
        ("get", "/workflows/runs/424242/steps/prepare/log"),
    ]:
        body = refused(getattr(client, method)(path), 404)
        assert body["message"] == "There is no workflow run with id 424242.", path
    for path in ("/workflows/runs/0", "/workflows/runs/abc", "/dashboard/workflows/-1/stop"):
        refused(client.get(path) if path.startswith("/workflows") else client.post(path), 422)

    run_id = start(client, target="t")  # train waits: report has no log yet
    wait_step(client, run_id, "train", "running")
    body = refused(client.get(f"/workflows/runs/{run_id}/steps/nope/log"), 404)
    assert body["message"] == f"Run {run_id} of 'pipeline' has no step named 'nope'. Its steps: prepare, train, report."
    body = refused(client.get(f"/workflows/runs/{run_id}/steps/report/log"), 404)
    assert "has no log file" in body["message"]
    client.post(f"/dashboard/workflows/{run_id}/stop")
    refused(client.get(f"/workflows/runs/{run_id}/steps/report/log"), 404)  # skipped: it never started


def test_a_hostile_value_arrives_as_one_argv_item_and_one_variable_never_through_a_shell(
    client: TestClient, folder: Path, gate: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "x"
    victim.mkdir()
    (victim / "keep").write_text("still here")
    hostile = f"; rm -rf {victim} && echo pwned > {tmp_path / 'pwned'} `id` $(id) | cat"
    gate.touch()
    run_id = start(client, target=hostile, mode="fast")
    assert finished(client, run_id)["status"] == "succeeded"
    got = received(folder, "prepare")
    assert got["argv"] == [hostile, "2", "fast"]
    assert got["env"] == {"PARAM_TARGET": hostile, "PARAM_EPOCHS": "2", "PARAM_MODE": "fast"}
    assert received(folder, "train")["env"]["PARAM_TARGET"] == hostile  # every step gets the variables
    assert (victim / "keep").read_text() == "still here" and not (tmp_path / "pwned").exists()
    assert detail(client, run_id)["params"]["target"] == hostile
