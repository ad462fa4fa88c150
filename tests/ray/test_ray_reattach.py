"""kill -9 of a real dashboard (Streamlit, its Runtime and API) while its suite
runs on Ray, or a stop (SIGTERM): the job goes on, and the next dashboard follows
it again by its submission id and records the run's end, not an interruption."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dashboard_core.processes.ray_executor import RayExecutor
from dashboard_core.store import FILE_NAME
from tests.e2e.conftest import Server, launch_server, spawn_server, streamlit_argv
from tests.localhost import free_port
from tests.polling import wait_until
from tests.ray.cluster import RayCluster
from tests.ray.conftest import ray_suite_toml


def run_of(server: Server, run_id: int) -> dict[str, Any]:
    with server.client() as client:
        response = client.get(f"/api/testing/runs/{run_id}")
        response.raise_for_status()
        return dict(response.json())


@pytest.mark.parametrize("how", ["kill -9", "stop"])
def test_a_run_on_ray_survives_a_restart_of_the_dashboard(ray_cluster: RayCluster, tmp_path: Path, how: str) -> None:
    first = launch_server(tmp_path, ray_suite_toml(tmp_path, ray_cluster.address))
    second: Server | None = None
    try:
        with first.client() as client:
            started = client.post("/api/dashboard/testing/run-suite", json={"test_suite": "gated"})
            assert started.status_code == 200, started.text
            run_id = int(started.json()["test_id"])

        def at_the_gate() -> bool:
            run = run_of(first, run_id)
            return run["status"] == "running" and "waits_for_the_gate" in (run.get("current_test") or "")

        wait_until(at_the_gate, 180, "the run on Ray to reach the gated test")
        if how == "kill -9":
            os.killpg(first.proc.pid, signal.SIGKILL)  # no shutdown, no cleanup: a crash
            first.proc.wait(30)
        else:
            first.stop()  # SIGTERM: the Runtime stops cleanly and leaves the run to its job
        store = sqlite3.connect(tmp_path / "data" / FILE_NAME)
        job, status = store.execute("SELECT process_ref, status FROM test_runs WHERE id = ?", (run_id,)).fetchone()
        store.close()
        assert status == "running"
        ray = RayExecutor(ray_cluster.address)
        assert ray.status(job) == "RUNNING"  # the job went on without the dashboard

        port = free_port()
        second = spawn_server(streamlit_argv(port, first.config), port, first.config, tmp_path / "second.log")
        second.wait_ready()
        resumed = run_of(second, run_id)
        assert resumed["status"] == "running", resumed["message"]  # followed again, not "interrupted"
        wait_until(  # its progress read again from the job's log
            lambda: run_of(second, run_id)["counts"]["passed"] == 1, 60, "the resumed run's progress"
        )
        (tmp_path / "gate").touch()
        wait_until(lambda: run_of(second, run_id)["status"] != "running", 180, "the resumed run to end")
        done = run_of(second, run_id)
        assert done["status"] == "passed", done["message"]
        assert done["counts"]["passed"] == 3 and len(done["cases"]) == 3
        assert ray.status(job) == "SUCCEEDED"
    finally:
        first.stop()
        if second is not None:
            second.stop()
