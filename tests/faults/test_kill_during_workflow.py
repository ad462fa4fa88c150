"""kill -9 of a real server during a workflow run, then a restart on the same data.

The run is interrupted with a message saying so, the step that had finished
keeps its result and its log, the orphaned step process is killed, the
autostart service runs again, and the server serves pages and the API. (kill -9
during a test run: tests/e2e/test_suites_server.py.)
"""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.e2e.conftest import Server, launch_server
from tests.faults.common import gone, pid_in, serves_pages, step_argv, step_script, stored
from tests.polling import wait_until

pytestmark = pytest.mark.timeout(420)

CLOCK = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
INTERRUPTED = re.compile(
    rf"interrupted: the dashboard stopped during this run \(last seen running at {CLOCK} UTC, "
    rf"noticed at start-up at {CLOCK} UTC\); the processes it left behind were killed"
)


def workflows(tmp_path: Path, pids: Path) -> str:
    script = step_script(tmp_path)
    gate = tmp_path / "gate"  # never opened: train waits until the server dies
    return f"""
[[workflows]]
name = "pipeline"
description = "prepare, then train (waits on a gate), then report"

[[workflows.steps]]
name = "prepare"
argv = {step_argv(script, pids, "prepare", None)}

[[workflows.steps]]
name = "train"
argv = {step_argv(script, pids, "train", gate)}
depends_on = ["prepare"]

[[workflows.steps]]
name = "report"
argv = {step_argv(script, pids, "report", None)}
depends_on = ["train"]

[[workflows]]
name = "keeper"
description = "a service that stays up"
service = true
autostart = true

[[workflows.steps]]
name = "serve"
argv = {step_argv(script, pids, "serve", gate)}
"""


def api(server: Server, path: str) -> Any:
    with server.client() as client:
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.json()


def steps(run: dict) -> dict[str, tuple[str, str]]:
    return {s["name"]: (s["status"], s["message"]) for s in run["steps"]}


def keeper_runs(server: Server) -> list[dict]:
    return api(server, "/api/workflows/runs?workflow=keeper")


def test_a_server_killed_during_a_workflow_run_marks_it_interrupted_on_restart(tmp_path: Path) -> None:
    directory, pids = tmp_path / "server", tmp_path / "pids"
    extra = workflows(tmp_path, pids)
    db = directory / "data" / "dashboard.sqlite3"

    first = launch_server(directory, extra)
    try:
        # The autostart service runs; a pipeline is started, its first step finishes
        # and the second is running (and saved so) when the server dies.
        keeper = wait_until(
            lambda: [r for r in keeper_runs(first) if r["status"] == "running" and pid_in(pids, "serve")],
            60,
            "the autostart service to run",
        )[0]
        serve_pid = pid_in(pids, "serve")
        with first.client() as client:
            started = client.post("/api/dashboard/workflows/start", json={"workflow": "pipeline"})
        assert started.status_code == 200, started.text
        run_id = int(started.json()["run_id"])
        before = wait_until(
            lambda: (
                (r := api(first, f"/api/workflows/runs/{run_id}"))["steps"][1]["status"] == "running"
                and pid_in(pids, "train")
                and r
            ),
            60,
            "prepare to succeed and train to run",
        )
        assert steps(before)["prepare"] == ("succeeded", "exit 0")
        train_pid = pid_in(pids, "train")
        assert train_pid is not None
        wait_until(
            lambda: (
                stored(db, "SELECT status, pid FROM workflow_steps WHERE run_id = ? AND step = 'train'", (run_id,))
                == [("running", train_pid)]
            ),
            30,
            "the running step (and its pid) to be saved in the store",
        )
        events_before = api(first, "/api/events?limit=1000")["events"]
        assert f"Run {run_id} of pipeline started (api)" in [e["message"] for e in events_before]

        first.proc.send_signal(signal.SIGKILL)  # no shutdown, no cleanup: a crash
        first.proc.wait(30)
    finally:
        first.stop()
    # Steps run in sessions of their own: the orphans outlive the crash...
    assert not gone(train_pid) and serve_pid is not None and not gone(serve_pid)

    new_serve: int | None = None
    second = launch_server(directory, extra)
    try:
        # ...until the next start kills them: nothing of the dead run keeps running.
        wait_until(lambda: gone(train_pid), 30, "the orphaned train step to be killed")
        wait_until(lambda: gone(serve_pid), 30, "the orphaned service process to be killed")

        # Says what happened: the run and its steps, in words.
        run = api(second, f"/api/workflows/runs/{run_id}")
        assert run["status"] == "interrupted"
        assert INTERRUPTED.fullmatch(run["message"]), run["message"]
        assert steps(run) == {
            "prepare": ("succeeded", "exit 0"),  # loses nothing: the finished step keeps its result
            "train": ("interrupted", "interrupted: the dashboard stopped while it ran"),
            "report": ("skipped", "skipped: the dashboard stopped before it ran"),
        }
        assert run["steps"][0]["exit_code"] == 0
        assert run["steps"][0]["started_at"] == before["steps"][0]["started_at"]
        assert run["steps"][0]["ended_at"] == before["steps"][0]["ended_at"]
        events = api(second, "/api/events?limit=1000")["events"]
        told = [e for e in events if e["kind"] == "workflow" and e["data"].get("run_id") == run_id]
        assert told[-1]["message"] == f"Run {run_id} of pipeline {run['message']}"
        assert told[-1]["severity"] == "warning"
        # Loses nothing: every event recorded before the crash is still there, unchanged.
        by_id = {e["id"]: e for e in events}
        assert all(by_id.get(e["id"]) == e for e in events_before)
        with second.client() as client:
            log = client.get(f"/api/workflows/runs/{run_id}/steps/prepare/log")
            assert log.status_code == 200 and "prepare started" in log.text and "prepare done" in log.text

        # The autostart service was interrupted too, and is running again in a new run.
        old_keeper = api(second, f"/api/workflows/runs/{keeper['id']}")
        assert old_keeper["status"] == "interrupted"
        assert INTERRUPTED.fullmatch(old_keeper["message"]), old_keeper["message"]
        new_keeper = wait_until(
            lambda: [r for r in keeper_runs(second) if r["status"] == "running" and pid_in(pids, "serve") != serve_pid],
            60,
            "the autostart service to run again",
        )[0]
        assert new_keeper["trigger"] == "system" and int(new_keeper["id"]) > int(keeper["id"])
        new_serve = pid_in(pids, "serve")
        assert new_serve is not None and psutil.pid_exists(new_serve) and not gone(new_serve)

        # Keeps serving: pages and the API.
        with second.client() as client:
            assert client.get("/api/health").json()["message"] == "ok"
            assert serves_pages(client)
            listed = client.get("/api/dashboard/workflows").json()
            assert [r["workflow"] for r in listed["active"]] == ["keeper"]
    finally:
        second.stop()
    if new_serve is not None:
        wait_until(lambda: gone(new_serve), 30, "the service to be stopped with the server")
