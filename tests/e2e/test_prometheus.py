"""Prometheus both ways, with the real programs from Debian's packages
(``bash scripts/install-prometheus.sh`` installs them; the fixtures start them
on loopback ports, each in its own process group, and kill them at teardown):

- Prometheus scrapes a real dashboard server's ``GET /api/metrics`` every
  second: the target being ``up`` with no error means Prometheus' own parser
  took the exposition, and the series are queried back through PromQL.
- The dashboard reads node_exporter's series of this same machine back through
  Prometheus (:class:`PrometheusSource`, and the server's
  ``/api/prometheus/history.csv``) and compares them with its own psutil
  readings over the same span.

Why the tolerances hold (both read the same kernel files, at different moments
and over different windows):

- memory in use: both are ``1 - MemAvailable / MemTotal`` from /proc/meminfo;
  the means over the same span differ only by when each read it, so 2 points.
- load: both read /proc/loadavg, which the kernel updates every 5 s; an
  exponential average moves slowly, so within 0.5 or 20 %.
- CPU busy: both are 1 - (idle + iowait) / total from /proc/stat, but the
  dashboard's points cover 0.5 s each and Prometheus' are ``rate()`` over 4 s
  windows that start up to 4 s before the span; the means over the span can
  differ by what happened in those edges on a busy 2-core machine: 15 points.
- disk space: both are statfs of the same mount, so 1 point.
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pandas as pd
import pytest

from dashboard_core.config import PrometheusConfig
from dashboard_core.metrics.charts import CHARTS_BY_KEY, build_figure
from dashboard_core.metrics.export import frame_to_csv
from dashboard_core.metrics.fields import Field, FieldTable
from dashboard_core.metrics.prometheus_source import PrometheusSource
from tests.e2e.conftest import Server, hermetic_env, http_client, launch_server
from tests.localhost import free_port
from tests.polling import wait_until
from tests.promtool import assert_promtool_clean, needs_promtool

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"
pytestmark = pytest.mark.skipif(
    not (os.access(PROMETHEUS, os.X_OK) and os.access(NODE_EXPORTER, os.X_OK)),
    reason="Debian's prometheus and prometheus-node-exporter are missing: run 'bash scripts/install-prometheus.sh' "
    "(root or sudo), which scripts/test.sh does",
)

STARTUP = 30.0  # seconds for a daemon to answer on a loaded 2-core machine
SPAN = 20.0  # seconds of data both sides must hold before they are compared
# node_exporter's collectors for what the dashboard reads; the rest would only cost CPU every second.
COLLECTORS = ["cpu", "meminfo", "loadavg", "filesystem", "netdev", "diskstats", "uname"]


@dataclass
class Daemon:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def alive(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}; its output:\n{self.output()}")

    def stop(self, timeout: float = 10.0) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                break
            try:
                self.proc.wait(timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything left in its group
        except (ProcessLookupError, PermissionError):
            pass


def start(name: str, argv: list[str], directory: Path) -> Daemon:
    log_path = directory / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv,
            cwd=directory,
            env=hermetic_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Daemon(name, proc, log_path)


def answers(daemon: Daemon, url: str) -> bool:
    daemon.alive()
    with httpx.Client(timeout=2, trust_env=False) as client:
        return client.get(url).status_code == 200


@dataclass
class Stack:
    dashboard: Server
    prometheus_url: str
    node_instance: str
    dashboard_instance: str
    started_at: float  # when Prometheus began scraping (epoch seconds)

    def api(self, path: str, **params: Any) -> Any:
        with httpx.Client(base_url=self.prometheus_url, timeout=10, trust_env=False) as client:
            body = client.get(path, params=params).json()
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        return self.api("/api/v1/query", query=promql)["result"]

    def source(self, job: str = "node") -> PrometheusSource:
        return PrometheusSource(PrometheusConfig(url=self.prometheus_url, job=job))


PROMETHEUS_YML = """
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["{node}"]
  - job_name: dashboard
    metrics_path: /api/metrics
    static_configs:
      - targets: ["{dashboard}"]
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("prometheus")
    daemons: list[Daemon] = []
    server: Server | None = None
    try:
        node_port, prom_port = free_port(), free_port()
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
        prometheus_url = f"http://127.0.0.1:{prom_port}"
        # The dashboard knows its Prometheus (the fleet view) and has a component and a watched process to export.
        server = launch_server(
            root / "dashboard",
            f'\n[prometheus]\nurl = "{prometheus_url}"\ntimeout_seconds = 10\n'
            '\n[[components]]\nname = "api"\ncheck = { type = "http", url = "/api/health" }\ninterval_seconds = 1\n'
            '\n[[watch]]\nlabel = "server"\nmatch = "cmdline"\npattern = "streamlit_app"\n',
        )
        wait_until(
            lambda: answers(node, f"http://127.0.0.1:{node_port}/metrics"),
            STARTUP,
            "node_exporter",
            ignore=(httpx.HTTPError,),
        )
        node_instance, dashboard_instance = f"127.0.0.1:{node_port}", f"127.0.0.1:{server.port}"
        config = root / "prometheus.yml"
        config.write_text(PROMETHEUS_YML.format(node=node_instance, dashboard=dashboard_instance))
        prometheus = start(
            "prometheus",
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={root / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            root,
        )
        daemons.append(prometheus)
        wait_until(
            lambda: answers(prometheus, f"{prometheus_url}/-/ready"),
            STARTUP,
            "Prometheus to be ready",
            ignore=(httpx.HTTPError,),
        )
        started_at = time.time()
        result = Stack(server, prometheus_url, node_instance, dashboard_instance, started_at)

        def both_up() -> bool:
            prometheus.alive()
            targets = result.api("/api/v1/targets", state="active")["activeTargets"]
            return {t["labels"]["job"]: t["health"] for t in targets} == {"node": "up", "dashboard": "up"}

        try:
            wait_until(both_up, STARTUP, "Prometheus to scrape both targets", ignore=(httpx.HTTPError,))
        except AssertionError as exc:
            targets = result.api("/api/v1/targets")["activeTargets"]
            errors = {t["labels"]["job"]: t["lastError"] for t in targets}
            raise AssertionError(f"{exc}\nscrape errors: {errors}\n{prometheus.output()}") from None
        yield result
    finally:
        for daemon in reversed(daemons):
            daemon.stop()
        if server is not None:
            server.stop()


# -- Prometheus scrapes the dashboard ----------------------------------------------------
def test_prometheus_parses_our_exposition_and_serves_it_back(stack: Stack) -> None:
    dashboard = next(t for t in stack.api("/api/v1/targets")["activeTargets"] if t["labels"]["job"] == "dashboard")
    assert dashboard["health"] == "up" and dashboard["lastError"] == ""
    assert dashboard["scrapeUrl"] == f"http://{stack.dashboard_instance}/api/metrics"

    # Every sample of the exposition was ingested (scrape_samples_scraped counts them), and help text kept.
    def ingested() -> tuple[float, float] | None:
        scraped = stack.query(f'scrape_samples_scraped{{instance="{stack.dashboard_instance}"}}')
        ours = stack.query(f'count({{__name__=~"dashboard_.+",instance="{stack.dashboard_instance}"}})')
        if not scraped or not ours:
            return None
        return float(scraped[0]["value"][1]), float(ours[0]["value"][1])

    scraped, ours = wait_until(ingested, 30, "the dashboard's series in Prometheus")
    assert scraped >= 40 and ours >= 40
    assert abs(scraped - ours) <= 5  # the same scrape or the next (a new interface, a check's latency)
    meta = stack.api("/api/v1/metadata", metric="dashboard_cpu_total_percent")["dashboard_cpu_total_percent"][0]
    assert meta == {"type": "gauge", "help": "CPU busy, all cores (%)", "unit": ""}

    # The values Prometheus holds are the dashboard's own readings.
    with stack.dashboard.client() as client:
        mine = client.get("/api/metrics/latest").json()["values"]
    held = float(stack.query('dashboard_memory_percent{job="dashboard"}')[0]["value"][1])
    assert abs(held - mine["memory.percent"]) < 2
    busy = float(stack.query('dashboard_cpu_total_percent{job="dashboard"}')[0]["value"][1])
    assert 0 <= busy <= 100
    wait_until(
        lambda: stack.query('dashboard_component_up{job="dashboard",component="api"} == 1'),
        30,
        "the dashboard's api component up, through Prometheus",
    )
    state = stack.query('dashboard_component_state{job="dashboard",component="api"} == 1')
    assert [s["metric"]["state"] for s in state] == ["healthy"]
    assert float(stack.query('dashboard_process_cpu_seconds_total{job="dashboard"}')[0]["value"][1]) > 0
    assert float(stack.query('dashboard_samples_held{job="dashboard"}')[0]["value"][1]) > 0


@needs_promtool
def test_promtool_finds_nothing_to_lint_in_our_exposition(stack: Stack) -> None:
    """The real server's ``/api/metrics``, watched process included, through
    Prometheus' own linter: ``promtool check metrics`` exits 0 and says nothing."""

    def exposition() -> str | None:
        with stack.dashboard.client() as client:
            response = client.get("/api/metrics")
        assert response.status_code == 200
        return response.text if 'dashboard_watch_processes{process="server"}' in response.text else None

    text = wait_until(exposition, 60, "the watched server process in /api/metrics")
    assert "dashboard_proc_processes " in text
    assert_promtool_clean(text)


# -- the dashboard reads node_exporter through Prometheus --------------------------------
def test_targets_come_from_up_of_the_job(stack: Stack) -> None:
    with stack.source() as source:
        targets = source.targets()
    assert [(t.instance, t.job, t.up) for t in targets] == [(stack.node_instance, "node", True)]
    assert targets[0].nodename == socket.gethostname()
    assert targets[0].last_scrape is not None
    assert abs((datetime.now(UTC) - targets[0].last_scrape).total_seconds()) < 10
    with stack.source(job="dashboard") as source:
        assert [t.instance for t in source.targets()] == [stack.dashboard_instance]
    with stack.dashboard.client() as client:
        listed = client.get("/api/prometheus/targets").json()
    assert [(t["instance"], t["up"]) for t in listed] == [(stack.node_instance, True)]


def wait_for_span(stack: Stack) -> tuple[pd.Timestamp, pd.Timestamp]:
    """A span of at least SPAN seconds in which Prometheus scraped node_exporter and
    the dashboard sampled: from Prometheus' start to now."""

    def enough() -> bool:
        points = stack.query(f'count_over_time(node_load1{{job="node"}}[{int(SPAN)}s])')
        return bool(points) and float(points[0]["value"][1]) >= SPAN * 0.75

    wait_until(enough, SPAN * 3, f"{SPAN:g} s of node_exporter data in Prometheus")
    start = pd.Timestamp(stack.started_at, unit="s", tz="UTC")
    return start, pd.Timestamp.now(tz="UTC")


def test_history_has_the_local_frames_shape_and_draws_the_same_charts(stack: Stack) -> None:
    start, end = wait_for_span(stack)
    with stack.source() as source:
        frame = source.history(stack.node_instance, start, end)
    assert isinstance(frame.index, pd.DatetimeIndex) and str(frame.index.tz) == "UTC"
    assert frame.index.name == "timestamp" and len(frame) >= SPAN * 0.5
    assert frame.index.is_monotonic_increasing and frame.index[0] >= start and frame.index[-1] <= end
    columns = set(frame.columns)
    assert {"cpu.total", "cpu.core[0]", "memory.percent", "memory.used", "swap.percent"} <= columns
    assert {"disk.read", "disk.write", "net.sent", "net.recv", "load.1", "load.5", "load.15"} <= columns
    assert any(c.startswith("disk.percent[") for c in columns) and any(c.startswith("nic.recv[") for c in columns)

    with stack.dashboard.client() as client:
        fields = FieldTable()  # the dashboard's own field table, as its API gives it
        for f in client.get("/api/metrics/fields").json():
            fields.add(Field(f["name"], f["unit"], f["description"], f["kind"], f["label"]))
        local_columns = set(client.get("/api/metrics/latest").json()["values"])
    shared = {"cpu.total", "memory.percent", "net.sent", "load.1"}
    assert shared <= local_columns  # the same names as the local frame's
    assert all(fields.for_column(c) is not None for c in columns)
    for key in ("cpu", "cpu_cores", "memory", "disk_io", "network", "network_nics", "load", "disk_usage"):
        assert build_figure(CHARTS_BY_KEY[key], frame, fields, "UTC") is not None, key
    csv = pd.read_csv(io.BytesIO(frame_to_csv(frame)))
    assert list(csv.columns) == ["timestamp", *frame.columns]


def test_the_dashboards_csv_route_serves_a_remote_host(stack: Stack) -> None:
    start, end = wait_for_span(stack)
    with stack.dashboard.client() as client:
        response = client.get(
            "/api/prometheus/history.csv",
            params={"instance": stack.node_instance, "start": start.isoformat(), "end": end.isoformat()},
        )
    assert response.status_code == 200, response.text
    csv = pd.read_csv(io.BytesIO(response.content))
    assert len(csv) == int(response.headers["x-rows"]) >= SPAN * 0.5
    assert {"timestamp", "cpu.total", "memory.percent", "load.1", "net.recv"} <= set(csv.columns)
    assert csv["timestamp"].str.endswith("Z").all()


def test_node_exporter_agrees_with_the_dashboards_psutil_readings(stack: Stack) -> None:
    start, end = wait_for_span(stack)
    with stack.source() as source:
        remote = source.history(stack.node_instance, start, end)
    with stack.dashboard.client() as client:
        response = client.get("/api/metrics/history.csv", params={"start": start.isoformat(), "end": end.isoformat()})
    local = pd.read_csv(io.BytesIO(response.content))
    assert len(local) >= SPAN  # 0.5 s samples

    def mean(frame: pd.DataFrame, column: str) -> float:
        return float(frame[column].dropna().mean())

    print(  # shown with -s, or when the test fails
        {
            column: (round(mean(remote, column), 2), round(mean(local, column), 2))
            for column in ("memory.percent", "load.1", "cpu.total")
        }
    )
    memory = (mean(remote, "memory.percent"), mean(local, "memory.percent"))
    assert abs(memory[0] - memory[1]) <= 2, f"memory in use: Prometheus {memory[0]:.2f} %, psutil {memory[1]:.2f} %"
    load = (mean(remote, "load.1"), mean(local, "load.1"))
    assert abs(load[0] - load[1]) <= max(0.5, 0.2 * load[1]), (
        f"load 1 min: Prometheus {load[0]:.2f}, psutil {load[1]:.2f}"
    )
    cpu = (mean(remote, "cpu.total"), mean(local, "cpu.total"))
    assert abs(cpu[0] - cpu[1]) <= 15, f"CPU busy: Prometheus {cpu[0]:.1f} %, psutil {cpu[1]:.1f} %"
    mounts = [c for c in remote.columns if c.startswith("disk.percent[") and c in local.columns]
    for column in mounts:
        assert abs(mean(remote, column) - mean(local, column)) <= 1, column


# -- the Metrics page's host selector over the real Prometheus ---------------------------
def test_the_metrics_page_offers_the_host_and_draws_it(stack: Stack, tmp_path: Path) -> None:
    from streamlit.testing.v1 import AppTest

    from dashboard_core import runtime as runtime_module
    from dashboard_core.config import load_config

    wait_for_span(stack)
    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'[sampler]\ninterval_seconds = 0.5\nhistory_hours = 1\n[prometheus]\nurl = "{stack.prometheus_url}"\n'
    )
    router = str(Path(__file__).parents[2] / "ui" / "router.py")
    with runtime_module.running(load_config(config)):
        app = AppTest.from_file(router, default_timeout=60)
        app.switch_page("../pages/metrics.py").run()
        assert not app.exception and not app.error
        host = app.selectbox(key="metrics_host")
        assert host.options == ["This machine", f"{socket.gethostname()} ({stack.node_instance}), up"]
        host.set_value(stack.node_instance).run()
        assert not app.exception and not app.error, [e.value for e in app.error]
        drawn = {chart.key for chart in app.get("plotly_chart")}
        assert drawn == {
            f"fleet_chart_{key}"
            for key in ("cpu", "cpu_cores", "memory", "disk_io", "network", "network_nics", "load", "disk_usage")
        }
        assert {"CPU", "Memory", "Load, 1 min", "Network sent"} <= {m.label for m in app.metric}
        link = next(h.value for h in app.html if "Download CSV" in h.value)
        href = html.unescape(re.search(r'href="([^"]+)"', link).group(1))
        assert href.startswith("api/prometheus/history.csv?instance=" + stack.node_instance.replace(":", "%3A"))
        assert not app.dataframe  # the process tables are this machine's only
    with http_client(stack.dashboard.url) as client:  # the same link, followed on the real server
        assert client.get("/" + href).status_code == 200
