"""Reading a Ray cluster never stalls its reader: a dead address and a server that
holds its answer, both real HTTP on loopback; the first read is waited for only as
long as the caller says, a later one is read in the background while the last is
handed out. Also what a node with GPUs says (no GPU here: its JSON, in the shape of
Ray 2.60's state API), and the store's read of the runs on Ray.

A real cluster's nodes and jobs: tests/ray/test_ray_cluster.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dashboard_core.app.ray_cluster import cluster_view
from dashboard_core.app.ray_cluster_view import cluster_cards, job_rows, node_rows
from dashboard_core.models import Trigger
from dashboard_core.models.ray_cluster import ClusterState
from dashboard_core.processes.ray_cluster import ClusterRead, ClusterWatch, parse_jobs, parse_nodes
from dashboard_core.store import open_store
from dashboard_core.testing.history import RunHistory
from dashboard_core.testing.ray_jobs import RayRun, ray_runs
from tests.localhost import free_port
from tests.polling import wait_until


class Holding:
    """An HTTP server on loopback that holds every request until released, then answers 500."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server name)
                outer.requests += 1
                outer.release.wait(120)
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def holding() -> Iterator[Holding]:
    server = Holding()
    yield server
    server.close()


def test_a_dead_address_reads_as_unreachable_with_why() -> None:
    address = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    watch = ClusterWatch(address)
    read = watch.read(wait=60)  # refused at once: the read is back well before this
    assert read is not None and read.problem is not None
    assert read.problem.startswith("cluster unreachable: ConnectError")
    view = cluster_view(address, read, {})
    assert view.state is ClusterState.UNREACHABLE and view.problem == read.problem and view.nodes == []


def test_a_cluster_that_does_not_answer_never_holds_the_reader(holding: Holding) -> None:
    watch = ClusterWatch(holding.address, fresh=0.0, timeout=120)
    assert watch.read(wait=0) is None  # the first read goes on in the background
    wait_until(lambda: holding.requests == 1, 60, "the cluster to be asked")
    assert watch.read(wait=0) is None  # asked while the cluster still holds its answer: not waited for
    assert cluster_view(holding.address, None, {}).state is ClusterState.PENDING
    assert holding.requests == 1, "one read at a time"
    holding.release.set()
    read = wait_until(lambda: watch.read(wait=0), 60, "the read to end")
    assert read is not None and read.problem == "cluster unreachable: GET /api/v0/nodes answered 500"


def test_a_stale_read_is_handed_out_while_the_next_one_runs(holding: Holding) -> None:
    holding.release.set()
    watch = ClusterWatch(holding.address, fresh=0.0, timeout=120)
    first = wait_until(lambda: watch.read(wait=0), 60, "the first read")
    holding.release.clear()  # the next read is held
    assert watch.read(wait=60) is first  # stale, and handed out at once: the wait is for a first read only
    wait_until(lambda: holding.requests == 2, 60, "the next read to ask the cluster")
    assert watch.read(wait=60) is first
    holding.release.set()
    wait_until(lambda: watch.read(wait=0) is not first, 60, "the next read to replace it")


def test_a_read_past_its_timeout_says_so(holding: Holding) -> None:
    read = ClusterWatch(holding.address, timeout=0.5).read(wait=60)
    assert read is not None and read.problem == "cluster unreachable: no answer within 0.5 s"


# Ray 2.60's answers, as a head started with --num-gpus=2 gives them (trimmed to what is read).
STATE_API = {
    "result": True,
    "data": {
        "result": {
            "result": [
                {
                    "node_id": "aa" * 28,
                    "node_ip": "10.0.0.5",
                    "is_head_node": False,
                    "state": "DEAD",
                    "state_message": "health check failed",
                    "node_name": "10.0.0.5",
                    "resources_total": {"CPU": 8.0, "memory": 8e9},
                    "start_time_ms": 1796600000000,
                    "end_time_ms": 1796603000000,
                },
                {
                    "node_id": "bb" * 28,
                    "node_ip": "10.0.0.1",
                    "is_head_node": True,
                    "state": "ALIVE",
                    "state_message": None,
                    "node_name": "10.0.0.1",
                    "resources_total": {"CPU": 4.0, "GPU": 2.0, "memory": 16e9},
                    "start_time_ms": 1796600000000,
                    "end_time_ms": 0,
                },
            ]
        }
    },
}
STATUS = {
    "data": {
        "clusterStatus": {
            "loadMetricsReport": {
                "usageByNode": {"bb" * 28: {"CPU": [1.5, 4.0], "GPU": [1.0, 2.0], "memory": [0, 16e9]}}
            }
        }
    }
}
JOBS = [
    {"submission_id": "raysubmit_x", "status": "RUNNING", "entrypoint": "python other.py", "start_time": 1},
    {"submission_id": None, "type": "DRIVER", "status": "SUCCEEDED", "entrypoint": ""},
    {
        "submission_id": "dashboard-gated-1234",
        "status": "RUNNING",
        "entrypoint": "python -m pytest test_gated.py",
        "message": "Job is currently running.",
        "start_time": 1796603740257,
        "end_time": None,
    },
]


def test_nodes_with_gpus_and_a_dead_node() -> None:
    nodes = parse_nodes(STATE_API, STATUS)
    assert [(n.name, n.head, n.alive) for n in nodes] == [("10.0.0.1", True, True), ("10.0.0.5", False, False)]
    head, dead = nodes
    assert (head.cpus_used, head.cpus_total, head.gpus_used, head.gpus_total) == (1.5, 4.0, 1.0, 2.0)
    assert dead.cpus_used is None and dead.state_message == "health check failed"
    assert dead.ended_at == datetime.fromtimestamp(1796603000, UTC)
    jobs = parse_jobs(JOBS)
    assert [j.submission_id for j in jobs] == ["dashboard-gated-1234"]  # only the dashboard's
    read = ClusterRead(datetime.now(UTC), tuple(nodes), tuple(jobs), "2.60.0")
    view = cluster_view("http://10.0.0.1:8265", read, {"dashboard-gated-1234": RayRun(7, "gated", None)})
    assert (view.nodes_alive, view.nodes_total, view.cpus_used, view.cpus_total) == (1, 2, 1.5, 4.0)
    assert (view.gpus_used, view.gpus_total) == (1.0, 2.0)  # alive nodes only
    cards = {c.label: (c.value, c.note) for c in cluster_cards(view)}
    assert cards == {
        "Ray nodes": ("1 of 2", "1 dead"),
        "Ray CPUs": ("1.5 of 4", "in use"),
        "Ray GPUs": ("1 of 2", "in use"),
        "Ray jobs": ("1", "running of 1 listed"),
    }
    rows = node_rows(view, "UTC", datetime.now(UTC))
    assert rows[0]["gpus"] == "1 of 2" and rows[0]["node"] == "10.0.0.1 (head)"
    (job,) = job_rows(view.jobs, "UTC", datetime.now(UTC))
    assert job["link"] == "tests?suite=gated&run=7" and job["status"] == "RUNNING"
    # The same job as a workflow step's: it links to its workflow run and names the step.
    step_run = RayRun(3, None, None, workflow="nightly", step="train")
    as_step = cluster_view("http://10.0.0.1:8265", read, {"dashboard-gated-1234": step_run})
    (step_job,) = job_rows(as_step.jobs, "UTC", datetime.now(UTC))
    assert step_job["link"] == "workflows?workflow=nightly&run=3"
    assert step_job["run"] == "Workflow run 3 of nightly · step train"


def test_no_gpu_card_without_gpus_and_no_use_before_ray_reports_it() -> None:
    rows = STATE_API["data"]["result"]["result"][:1]  # type: ignore[index]
    alive = [{**rows[0], "state": "ALIVE", "state_message": None, "end_time_ms": 0}]
    nodes = parse_nodes({"data": {"result": {"result": alive}}}, {"data": {"clusterStatus": None}})
    view = cluster_view("http://x:8265", ClusterRead(datetime.now(UTC), tuple(nodes)), {})
    cards = {c.label: (c.value, c.note) for c in cluster_cards(view)}
    assert "Ray GPUs" not in cards
    assert cards["Ray CPUs"] == ("— of 8", "use not reported yet")


def test_the_runs_on_ray_by_submission_id_from_their_own_index(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    try:
        history = RunHistory(store)
        now = datetime.now(UTC)
        local = history.insert("unit", Trigger.API, now, ["pytest"])
        one = history.insert("gated", Trigger.API, now, ["pytest"])
        sharded = history.insert("big", Trigger.API, now, ["pytest"])
        history.update(one, process_ref="dashboard-gated-1")
        history.update(sharded, process_ref="dashboard-big-2-1of2,dashboard-big-2-2of2")
        assert ray_runs(store) == {
            "dashboard-gated-1": RayRun(one, "gated", None),
            "dashboard-big-2-1of2": RayRun(sharded, "big", "1of2"),
            "dashboard-big-2-2of2": RayRun(sharded, "big", "2of2"),
        }
        assert local not in {r.run_id for r in ray_runs(store).values()}
        # A workflow step's job (workflow_steps.process_ref) names its workflow and step, from its own index.
        store.execute(
            "INSERT INTO workflow_runs (workflow, trigger, status, started_at) VALUES ('nightly', 'api', 'running', 0)"
        )
        [wf_run] = [int(r["id"]) for r in store.all("SELECT id FROM workflow_runs")]
        for step, ref in (("build", None), ("train", "dashboard-wf-nightly-1-train")):
            store.execute(
                "INSERT INTO workflow_steps (run_id, step, status, process_ref) VALUES (?, ?, 'running', ?)",
                (wf_run, step, ref),
            )
        found = ray_runs(store)
        assert found["dashboard-wf-nightly-1-train"] == RayRun(wf_run, None, None, workflow="nightly", step="train")
        assert len(found) == 4
        steps_plan = store.all(
            "EXPLAIN QUERY PLAN SELECT s.run_id FROM workflow_steps s WHERE s.process_ref IS NOT NULL"
            " ORDER BY s.run_id DESC LIMIT 50"
        )
        assert any("workflow_steps_on_ray" in str(row["detail"]) for row in steps_plan)
        plan = store.all(
            "EXPLAIN QUERY PLAN SELECT id, suite, process_ref FROM test_runs"
            " WHERE process_ref IS NOT NULL ORDER BY id DESC LIMIT 50"
        )
        assert any("test_runs_on_ray" in str(row["detail"]) for row in plan), [row["detail"] for row in plan]
    finally:
        store.close()
