"""Metrics out, and the fleet view over another PromQL store, with the real
VictoriaMetrics from Debian's package (``bash scripts/install-victoria-metrics.sh``
installs it; the fixture starts it on a loopback port with its data in a temp
directory, in its own process group, and kills that group at teardown).

- A real Runtime pushes its samples (``[remote_push]``) to VictoriaMetrics'
  ``/api/v1/import``; VictoriaMetrics' own query API gives them back
  under the names of the dashboard's ``/api/metrics``, with the values the
  sampler took, at the times it took them.
- VictoriaMetrics scrapes a node_exporter itself (``-promscrape.config``, a
  Prometheus scrape config); the fleet view's :class:`PrometheusSource` lists and
  draws that host through VictoriaMetrics' Prometheus-compatible API.
- A real dashboard server attaches the pusher as it starts, and its Overview API counts.
- A push to a dead address, or to one that never answers, counts what it drops
  and never holds the sampler up.

VictoriaMetrics runs with ``-search.latencyOffset=0s`` (by default it hides the
newest 30 s from queries, for data still arriving) and ``-search.disableCache``
(its cache of range-query results would hide the newest points between polls).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pandas as pd
import pytest
from prometheus_client import generate_latest

from dashboard_core import runtime as runtime_module
from dashboard_core.collector import build_registry
from dashboard_core.config import PrometheusConfig, load_config
from dashboard_core.metrics.exposition import host_families
from dashboard_core.metrics.prometheus_source import PrometheusSource
from dashboard_core.metrics.remote_push import push_health
from tests.e2e.conftest import launch_server
from tests.e2e.test_prometheus import COLLECTORS, NODE_EXPORTER, STARTUP, Daemon, answers, start
from tests.localhost import free_port
from tests.polling import wait_until
from tests.promtool import PROMTOOL, assert_promtool_clean

VICTORIA_METRICS = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"
MISSING = (
    "Debian's victoria-metrics is missing: run 'bash scripts/install-victoria-metrics.sh' (root or sudo), "
    "which scripts/test.sh does"
)
if not os.access(VICTORIA_METRICS, os.X_OK) and not os.environ.get("CI"):
    pytest.skip(MISSING, allow_module_level=True)

INSTANCE = "pushed-host"  # the instance label the Runtime under test pushes with

SCRAPE_YML = """
scrape_configs:
  - job_name: node
    scrape_interval: 1s
    static_configs:
      - targets: ["{node}"]
"""


@dataclass
class Victoria:
    url: str
    node_instance: str
    daemon: Daemon

    def api(self, path: str, **params: Any) -> Any:
        self.daemon.alive()
        with httpx.Client(base_url=self.url, timeout=10, trust_env=False) as client:
            body = client.get(path, params=params).json()
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str, **params: Any) -> list[dict[str, Any]]:
        return self.api("/api/v1/query", query=promql, **params)["result"]

    def export(self, selector: str) -> list[dict[str, Any]]:
        """Raw samples, as stored: one JSON line per series (values, timestamps in ms)."""
        import json

        self.daemon.alive()
        with httpx.Client(base_url=self.url, timeout=10, trust_env=False) as client:
            response = client.get("/api/v1/export", params={"match[]": selector})
        assert response.status_code == 200, response.text
        return [json.loads(line) for line in response.text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Victoria]:
    if not os.access(VICTORIA_METRICS, os.X_OK):
        pytest.fail(MISSING)  # in CI: the install script should have run
    root = tmp_path_factory.mktemp("victoria")
    daemons: list[Daemon] = []
    try:
        node_port, vm_port = free_port(), free_port()
        node = start(
            "node_exporter",
            [
                NODE_EXPORTER,
                f"--web.listen-address=127.0.0.1:{node_port}",
                "--collector.disable-defaults",
                *(f"--collector.{c}" for c in COLLECTORS),
            ],
            root,
        )
        daemons.append(node)
        node_instance = f"127.0.0.1:{node_port}"
        scrape = root / "scrape.yml"
        scrape.write_text(SCRAPE_YML.format(node=node_instance))
        url = f"http://127.0.0.1:{vm_port}"
        vm = start(
            "victoria-metrics",
            [
                VICTORIA_METRICS,
                f"-storageDataPath={root / 'data'}",
                f"-httpListenAddr=127.0.0.1:{vm_port}",
                f"-promscrape.config={scrape}",
                "-search.latencyOffset=0s",
                "-search.disableCache",
            ],
            root,
        )
        daemons.append(vm)
        wait_until(lambda: answers(vm, f"{url}/health"), STARTUP, "VictoriaMetrics", ignore=(httpx.HTTPError,))
        yield Victoria(url, node_instance, vm)
    finally:
        for daemon in reversed(daemons):
            daemon.stop()


def push_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'[sampler]\ninterval_seconds = 0.2\nhistory_hours = 1\n[storage]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[history]\nenabled = false\n[remote_push]\nurl = "{url}"\ninterval_seconds = 0.5\n'
        f'labels = {{ instance = "{INSTANCE}", site = "lab" }}\n{extra}'
    )
    return config


# -- metrics out ------------------------------------------------------------------------
def test_a_runtimes_samples_come_back_from_victoria_metrics_under_the_exposition_names(
    victoria: Victoria, tmp_path: Path
) -> None:
    config = load_config(push_config(tmp_path, f"{victoria.url}/api/v1/import"))
    with runtime_module.running(config) as rt:
        push = rt.remote_push
        assert push is not None

        def pushed() -> bool:
            health = push_health(rt.remote_push)
            assert health is not None and health.last_error is None, health
            return health.pushed_samples >= 10 and health.requests >= 2

        wait_until(pushed, 60, "ten samples pushed in two requests or more")
    # Stopped: the pusher sent what the frame held at its last visit (the sampler stops after it).
    health = push.health()
    assert health.dropped_samples == 0 and health.pending_samples == 0 and health.pushed_samples >= 10
    latest = rt.latest()
    assert latest is not None
    families = host_families(latest.values, rt.fields)
    rows = rt.frame.rows()
    assert health.pushed_samples <= len(rows)

    # What the Runtime held, VictoriaMetrics holds: the same timestamps (ms) and values, the oldest
    # pushed_samples of the frame (it holds every sample taken).
    mem = rows.column("memory.percent")[: health.pushed_samples]
    stamps = rows.ts_ns[: health.pushed_samples]
    held = {int(ts) // 1_000_000: float(v) for ts, v in zip(stamps, mem) if not math.isnan(v)}

    def stored_all() -> list[dict[str, Any]] | None:
        stored = victoria.export(f'dashboard_memory_percent{{instance="{INSTANCE}"}}')
        return stored if stored and len(stored[0]["timestamps"]) >= len(held) else None

    stored = wait_until(stored_all, 30, "every pushed sample searchable")  # VictoriaMetrics flushes each second
    assert len(stored) == 1
    assert stored[0]["metric"] == {
        "__name__": "dashboard_memory_percent",
        "job": "dashboard",
        "instance": INSTANCE,
        "site": "lab",
    }
    got = dict(zip(stored[0]["timestamps"], stored[0]["values"]))
    assert set(got) == set(held)  # every sample, the last ones pushed at stop: nothing missing, nothing extra
    assert all(math.isclose(got[t], held[t], rel_tol=1e-9) for t in held)

    # The names are the /api/metrics exposition's: every host family with a sample is there, nothing else.
    exposed = {f.name for f in families if f.samples}
    every_family = {f.name for f in families}
    names = set(victoria.api("/api/v1/label/__name__/values", **{"match[]": f'{{instance="{INSTANCE}"}}'}))
    assert exposed <= names <= every_family, (exposed - names, names - every_family)
    assert "dashboard_cpu_total_percent" in names

    # A labelled series keeps its label, and PromQL reads it back as it would from a scrape.
    mounts = [c.partition("[")[2].rstrip("]") for c in rows.columns if c.startswith("disk.percent[")]
    assert mounts
    result = victoria.query(f'dashboard_disk_percent{{job="dashboard",instance="{INSTANCE}"}}')
    assert sorted(r["metric"]["mount"] for r in result) == sorted(mounts)
    # PromQL over the pushed series: asked a minute after the last sample, whose hour holds them all.
    at = f"{max(held) // 1000 + 60}"
    selector = f'dashboard_memory_percent{{job="dashboard",instance="{INSTANCE}"}}'
    count = victoria.query(f"count_over_time({selector}[1h])", time=at)[0]["value"][1]
    assert int(count) == len(held)
    top = victoria.query(f"max_over_time({selector}[1h])", time=at)[0]["value"][1]
    assert math.isclose(float(top), max(held.values()), rel_tol=1e-9)


def test_a_real_server_pushes_from_its_start(victoria: Victoria, tmp_path: Path) -> None:
    """The server's start attaches the pusher: its samples reach VictoriaMetrics, and its
    Overview API says how many went."""
    server = launch_server(
        tmp_path / "server",
        f'\n[remote_push]\nurl = "{victoria.url}/api/v1/import"\ninterval_seconds = 0.5\n'
        'labels = { instance = "served-host" }\n',
    )
    try:

        def pushed() -> int:
            with server.client() as client:
                push = client.get("/api/dashboard/overview").json()["dashboard"]["remote_push"]
            assert push["last_error"] is None, push
            return push["pushed_samples"]

        wait_until(pushed, 60, "the server's samples pushed")
        found = wait_until(
            lambda: victoria.query('dashboard_cpu_total_percent{job="dashboard",instance="served-host"}'),
            30,
            "the server's CPU series in VictoriaMetrics",
        )
        assert 0 <= float(found[0]["value"][1]) <= 100
    finally:
        server.stop()


def test_a_dead_store_costs_counted_drops_and_never_the_sampler(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/v1/import"  # nothing listens there
    config = load_config(push_config(tmp_path, dead, "max_pending_samples = 5\ntimeout_seconds = 2\n"))
    with runtime_module.running(config) as rt:

        def dropping() -> int:
            health = push_health(rt.remote_push)
            assert health is not None
            return health.dropped_samples if health.last_error else 0

        wait_until(dropping, 60, "samples dropped while the store is down")
        health = push_health(rt.remote_push)
        assert health is not None and health.pending_samples <= 5 and health.pushed_samples == 0
        assert health.problem is not None and "dropped" in health.problem
        taken = rt.sampler.status.samples
        wait_until(lambda: rt.sampler.status.samples >= taken + 10, 60, "the sampler going on")
        more = wait_until(
            lambda: (h := push_health(rt.remote_push)) is not None and h.dropped_samples > health.dropped_samples,
            60,
            "more samples dropped",
        )
        assert more
        # ... and the /api/metrics exposition says so, promtool-clean.
        text = generate_latest(build_registry(lambda: rt)).decode()
        dropped = re.search(r"^dashboard_remote_push_dropped_samples_total (\S+)$", text, re.M)
        assert dropped and float(dropped.group(1)) > 0
        assert "dashboard_remote_push_samples_total 0.0" in text
        if os.access(PROMTOOL, os.X_OK):
            assert_promtool_clean(text)
    drops = [r for r in caplog.records if "dropping the oldest" in r.getMessage()]
    assert len(drops) == 1  # said once, counted always


def test_a_store_that_never_answers_does_not_hold_the_sampler(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel accepts connections; nobody reads or answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/v1/import"
        config = load_config(push_config(tmp_path, url, "timeout_seconds = 60\n"))
        with runtime_module.running(config) as rt:
            push = rt.remote_push
            assert push is not None
            wait_until(lambda: push.sending, 60, "a push waiting on the silent store")
            taken = rt.sampler.status.samples
            # While one push waits for its 60 s timeout, the sampler keeps its pace.
            wait_until(lambda: rt.sampler.status.samples >= taken + 10, 30, "ten samples during the push")
            assert push.sending and push.pushed == 0
        # Stopping did not wait for the silent store's answer: the push is left to its daemon thread.
        assert push.alive and push.sending


# -- the fleet view over VictoriaMetrics --------------------------------------------------
def test_the_fleet_view_reads_a_host_through_victoria_metrics(victoria: Victoria) -> None:
    source = PrometheusSource(PrometheusConfig(url=victoria.url, job="node", timeout_seconds=10))
    with source:
        targets = wait_until(
            lambda: [t for t in source.targets() if t.up], STARTUP, "node_exporter up through VictoriaMetrics"
        )
        assert [(t.instance, t.job) for t in targets] == [(victoria.node_instance, "node")]
        assert targets[0].nodename == socket.gethostname()
        assert source.scrape_interval(victoria.node_instance) == 1.0  # from VictoriaMetrics' /api/v1/targets

        def ten_seconds() -> bool:
            points = victoria.query('count_over_time(node_load1{job="node"}[10s])')
            return bool(points) and float(points[0]["value"][1]) >= 8

        wait_until(ten_seconds, 60, "10 s of node_exporter data in VictoriaMetrics")
        end = pd.Timestamp.now(tz="UTC")
        frame = source.history(victoria.node_instance, end - pd.Timedelta(seconds=10), end)
    assert len(frame) >= 5 and frame.index.name == "timestamp" and str(frame.index.tz) == "UTC"
    assert {"cpu.total", "memory.percent", "load.1", "net.recv"} <= set(frame.columns)
    assert 0 <= frame["memory.percent"].dropna().mean() <= 100
    assert frame["cpu.total"].notna().any()
    now = time.time()
    assert abs(frame.index[-1].timestamp() - now) < 30
