"""The Overview's Cluster part and ``GET /api/ray/cluster`` without a cluster: a dead
address (nothing listens on the loopback port) reads as "cluster unreachable: <why>",
and without ``[ray] address`` there is no Cluster part and the API says 404. A real
Ray head: tests/ray/test_ray_cluster.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import load_config
from tests.localhost import free_port

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")


def test_a_dead_cluster_is_unreachable_on_the_overview_and_in_the_api(write_config: Callable[[str], Path]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = load_config(write_config(f'[ray]\naddress = "{dead}"\n'))
    with runtime_module.running(config) as rt:
        with TestClient(create_api(lambda: rt)) as client:
            answer = client.get("/ray/cluster")  # the API, as mounted at /api
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["state"] == "unreachable" and body["address"] == dead and body["nodes"] == []
        assert body["problem"].startswith("cluster unreachable: ConnectError")
        app = AppTest.from_file(ROUTER, default_timeout=60).run()
        assert not app.exception
        assert "Cluster" in [h.value for h in app.subheader]
        assert any(w.value.startswith("cluster unreachable: ConnectError") for w in app.warning), [
            w.value for w in app.warning
        ]


def test_no_cluster_part_without_a_ray_address(write_config: Callable[[str], Path]) -> None:
    config = load_config(write_config("[sampler]\ninterval_seconds = 1\n"))
    with runtime_module.running(config) as rt:
        with TestClient(create_api(lambda: rt)) as client:
            answer = client.get("/ray/cluster")  # the API, as mounted at /api
        assert answer.status_code == 404
        assert answer.json()["message"] == "No Ray cluster is configured: set [ray] address in dashboard.toml."
        app = AppTest.from_file(ROUTER, default_timeout=60).run()
        assert not app.exception
        assert "Cluster" not in [h.value for h in app.subheader]
        assert not any("ray_nodes" in str(getattr(e, "key", "")) for e in app.dataframe)
