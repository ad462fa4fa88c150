"""The cluster on the Overview and in ``GET /api/ray/cluster``, from a real head node:
its node with its CPUs (one of them reserved by the dashboard's job while it runs), and
the job the dashboard submitted for a run, linked to that run, until it has succeeded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import Config
from dashboard_core.models import RunStatus, Trigger
from tests.polling import wait_until
from tests.ray.cluster import RayCluster
from tests.ray.test_ray_runs import job_of, waiting_at_the_gate

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")


def test_the_cluster_shows_its_head_node_and_the_dashboards_job(
    ray_config: Callable[..., Config], ray_cluster: RayCluster, tmp_path: Path
) -> None:
    with runtime_module.running(ray_config()) as rt, TestClient(create_api(lambda: rt)) as client:
        run_id = rt.tests.run_suite("gated", Trigger.API).run.id
        wait_until(lambda: waiting_at_the_gate(rt.tests, run_id), 180, "the run on Ray to reach the gated test")
        job = job_of(rt.tests, run_id)

        def cluster_with(status: str, cpus_used: float) -> dict[str, Any] | None:
            body: dict[str, Any] = client.get("/ray/cluster").json()  # the API, as mounted at /api
            jobs = [j for j in body["jobs"] if j["submission_id"] == job and j["status"] == status]
            return body if jobs and body["cpus_used"] == cpus_used else None

        # The job reserves one CPU (ray_cpus = 1) while it runs; Ray reports its use every few seconds.
        body = wait_until(lambda: cluster_with("RUNNING", 1.0), 120, "the job running and its CPU in use")
        assert body is not None
        assert body["state"] == "ok" and body["problem"] is None and body["ray_version"] == "2.60.0"
        (head,) = body["nodes"]
        assert head["head"] and head["alive"] and head["state"] == "ALIVE" and head["ip"] == "127.0.0.1"
        assert (head["cpus_total"], head["cpus_used"], head["gpus_total"]) == (2.0, 1.0, 0.0)
        assert head["memory_total_bytes"] > 0
        assert (body["nodes_alive"], body["nodes_total"], body["cpus_total"]) == (1, 1, 2.0)
        (listed,) = body["jobs"]  # only the dashboard's own (other tests' jobs are not this store's runs)
        assert (listed["run_id"], listed["suite"], listed["shard"]) == (run_id, "gated", None)
        assert listed["link"] == f"tests?suite=gated&run={run_id}"
        assert "pytest" in listed["entrypoint"] and listed["started_at"] and listed["ended_at"] is None

        app = AppTest.from_file(ROUTER, default_timeout=60).run()
        assert not app.exception
        assert "Cluster" in [h.value for h in app.subheader]
        cards = {m.label: m.value for m in app.metric}
        assert cards["Ray nodes"] == "1 of 1" and cards["Ray jobs"] == "1"
        assert cards["Ray CPUs"] == "1 of 2"
        assert "Ray GPUs" not in cards  # none on this cluster
        tables = [d.value for d in app.dataframe]
        jobs_table = next(t for t in tables if "submission_id" in t.columns)
        assert list(jobs_table["submission_id"]) == [job]
        assert list(jobs_table["link"]) == [f"tests?suite=gated&run={run_id}"]
        nodes_table = next(t for t in tables if "node" in t.columns)
        assert list(nodes_table["node"]) == ["127.0.0.1 (head)"] and list(nodes_table["state"]) == ["ALIVE"]

        (tmp_path / "gate").touch()
        assert rt.tests.wait(run_id, 180).status is RunStatus.PASSED
        done = wait_until(lambda: cluster_with("SUCCEEDED", 0.0), 120, "the job's end and its CPU free again")
        assert done is not None
        assert done["jobs"][0]["ended_at"] is not None
