"""The fleet source's edges, against a small real HTTP server on loopback that
answers like Prometheus' API (``/api/v1/query``, ``query_range``, ``targets``):
a server that is down, slow, trickling, refusing a query or not Prometheus at
all; the step that keeps series under ``max_points``; and the shaping of
answers into the local frame's columns. Real Prometheus and node_exporter
data are in ``tests/e2e/test_prometheus.py``.
"""

from __future__ import annotations

import io
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import PrometheusConfig, load_config
from dashboard_core.metrics.charts import CHARTS, build_figure
from dashboard_core.metrics.export import frame_to_csv
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.prometheus_api import PrometheusError
from dashboard_core.metrics.prometheus_source import (
    PROMETHEUS_MAX_POINTS,
    PrometheusSource,
    parse_duration,
    query_step,
    rate_range,
)
from dashboard_core.metrics.sources import build_sources
from dashboard_core.runtime import Runtime
from tests.httpjson import reply_json
from tests.localhost import free_port

Answer = Callable[[str, dict[str, str]], tuple[int, Any]]


class FakePrometheus:
    """A real HTTP server on a free loopback port; ``answer(path, params)`` gives
    the status and JSON body, ``delay`` seconds pass before it answers, and every
    request is recorded."""

    def __init__(self) -> None:
        self.answer: Answer = lambda path, params: (404, {"status": "error", "error": "no route"})
        self.delay = 0.0
        self.trickle: bytes | None = None  # sent a byte every 0.2 s instead of an answer
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.headers: list[dict[str, str]] = []  # each request's, in the order they came
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server name)
                url = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                outer.requests.append((url.path, params))
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                if outer.delay:
                    time.sleep(outer.delay)  # the slow server under test
                if outer.trickle is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    try:
                        for byte in outer.trickle:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.2)  # the trickling server under test
                    except OSError:
                        pass
                    return
                status, body = outer.answer(url.path, params)
                if isinstance(body, str):
                    data = body.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    reply_json(self, status, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-prometheus", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


@pytest.fixture
def prom() -> Iterator[FakePrometheus]:
    server = FakePrometheus()
    try:
        yield server
    finally:
        server.close()


def source(url: str, **kw: Any) -> PrometheusSource:
    return PrometheusSource(PrometheusConfig(url=url, **kw))


def success(result_type: str, result: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    return 200, {"status": "success", "data": {"resultType": result_type, "result": result}}


def targets_answer(interval: str = "15s", instances: tuple[str, ...] = ("web-1:9100",)) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "activeTargets": [
                {"labels": {"job": "node", "instance": i}, "health": "up", "scrapeInterval": interval}
                for i in instances
            ],
            "droppedTargets": [],
        },
    }


# -- errors: down, slow, refused, not Prometheus ----------------------------------------
def test_a_server_that_is_down_is_a_sentence_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(PrometheusError) as err, source(url) as src:
        src.targets()
    assert time.monotonic() - started < 2
    assert err.value.kind == "unreachable" and err.value.http_status == 502
    message = str(err.value)
    assert message.startswith(f"Prometheus at {url} cannot be reached (")
    assert "refused" in message.lower() and message.endswith("is it running, and is prometheus.url right?")


def test_a_slow_server_is_given_up_after_the_timeout(prom: FakePrometheus) -> None:
    prom.delay = 3.0
    started = time.monotonic()
    with pytest.raises(PrometheusError) as err, source(prom.url, timeout_seconds=0.5) as src:
        src.targets()
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 1.5
    assert str(err.value) == f"Prometheus at {prom.url} did not answer within 0.5 s."
    assert err.value.kind == "timeout" and err.value.http_status == 504


def test_a_server_that_trickles_its_answer_is_given_up_too(prom: FakePrometheus) -> None:
    """A read timeout alone restarts with every byte; the deadline covers the whole call."""
    prom.trickle = b'{"status": "success", "data": {"resultType": "vector", "result": []}}'
    started = time.monotonic()
    with pytest.raises(PrometheusError) as err, source(prom.url, timeout_seconds=1) as src:
        src.query("up")
    assert time.monotonic() - started < 2.5
    assert err.value.kind == "timeout"


def test_one_deadline_covers_every_request_of_a_call(prom: FakePrometheus) -> None:
    """history() makes about ten requests; each a little slow must not add up past the timeout."""
    prom.delay = 0.3
    prom.answer = lambda path, params: (
        (200, targets_answer("1s")) if path == "/api/v1/targets" else success("matrix", [])
    )
    started = time.monotonic()
    with pytest.raises(PrometheusError) as err, source(prom.url, timeout_seconds=1) as src:
        src.history("web-1:9100", pd.Timestamp("2026-11-25T08:00Z"), pd.Timestamp("2026-11-25T09:00Z"))
    assert time.monotonic() - started < 2
    assert err.value.kind == "timeout"
    assert 2 <= len(prom.requests) <= 5


def test_a_refused_query_carries_prometheus_own_words(prom: FakePrometheus) -> None:
    prom.answer = lambda path, params: (
        400,
        {"status": "error", "errorType": "bad_data", "error": 'invalid parameter "query": 1:4: parse error'},
    )
    with pytest.raises(PrometheusError) as err, source(prom.url) as src:
        src.query("up{")
    assert str(err.value) == f'Prometheus at {prom.url} refused the query: invalid parameter "query": 1:4: parse error'
    assert err.value.kind == "refused"


def test_a_query_that_times_out_inside_prometheus_says_so(prom: FakePrometheus) -> None:
    prom.answer = lambda path, params: (
        503,
        {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"},
    )
    with pytest.raises(PrometheusError) as err, source(prom.url, timeout_seconds=2) as src:
        src.query("up")
    assert str(err.value) == f"Prometheus at {prom.url} did not answer within 2 s."


def test_something_that_is_not_prometheus(prom: FakePrometheus) -> None:
    prom.answer = lambda path, params: (200, "<html>Grafana</html>")
    with pytest.raises(PrometheusError) as err, source(prom.url) as src:
        src.query("up")
    assert "is not Prometheus' API; is prometheus.url right?" in str(err.value)
    assert err.value.kind == "invalid"


def test_queries_tell_prometheus_the_time_left(prom: FakePrometheus) -> None:
    prom.answer = lambda path, params: success("vector", [])
    with source(prom.url, timeout_seconds=5) as src:
        src.query("up")
    _, params = prom.requests[0]
    left = parse_duration(params["timeout"])
    assert left is not None and 4 < left <= 5


# -- targets ----------------------------------------------------------------------------
def test_targets_from_up_with_last_scrape_and_host_name(prom: FakePrometheus) -> None:
    def answer(path: str, params: dict[str, str]) -> tuple[int, Any]:
        query = params["query"]
        if query == 'up{job="node"}':
            return success(
                "vector",
                [
                    {"metric": {"__name__": "up", "job": "node", "instance": "b:9100"}, "value": [1795600000, "0"]},
                    {"metric": {"__name__": "up", "job": "node", "instance": "a:9100"}, "value": [1795600000, "1"]},
                ],
            )
        if query == 'timestamp(up{job="node"})':
            return success(
                "vector",
                [
                    {"metric": {"job": "node", "instance": "a:9100"}, "value": [1795600000, "1795599999.5"]},
                    {"metric": {"job": "node", "instance": "b:9100"}, "value": [1795600000, "1795599000"]},
                ],
            )
        if query == 'node_uname_info{job="node"}':
            return success("vector", [{"metric": {"instance": "a:9100", "nodename": "web-1"}, "value": [0, "1"]}])
        return 400, {"status": "error", "errorType": "bad_data", "error": f"unexpected {query}"}

    prom.answer = answer
    with source(prom.url) as src:
        found = src.targets()
    assert [(t.instance, t.up, t.nodename) for t in found] == [("a:9100", True, "web-1"), ("b:9100", False, None)]
    assert found[0].last_scrape == datetime.fromtimestamp(1795599999.5, UTC)
    assert found[0].label == "web-1 (a:9100), up" and found[1].label == "b:9100, down"


def test_the_job_is_quoted_in_promql(prom: FakePrometheus) -> None:
    prom.answer = lambda path, params: success("vector", [])
    with source(prom.url, job='we"ird\\job') as src:
        assert src.targets() == []
    assert prom.requests[0][1]["query"] == 'up{job="we\\"ird\\\\job"}'


# -- the step -------------------------------------------------------------------------
@pytest.mark.parametrize("max_points", [10, 100, 1999, 2000, 2001, 50_000])
@pytest.mark.parametrize("span", [1, 59, 60, 300, 900, 3600, 21_600, 86_400, 7 * 86_400, 90 * 86_400])
@pytest.mark.parametrize("interval", [0.5, 1, 15, 60])
def test_the_step_keeps_points_per_series_under_max_points(span: int, max_points: int, interval: float) -> None:
    step = query_step(span, max_points, interval)
    points = math.floor(span / step) + 1  # what query_range returns for [start, end] at this step
    assert points <= min(max_points, PROMETHEUS_MAX_POINTS)
    assert step >= interval  # never finer than the data
    if step > interval and step > 1:  # and no coarser than needed (whole seconds)
        assert math.floor(span / (step - 1)) + 1 > min(max_points, PROMETHEUS_MAX_POINTS) - 1


def test_rate_windows_rest_on_several_scrapes() -> None:
    assert rate_range(1, 15) == 60  # four scrapes
    assert rate_range(300, 15) == 315  # the step plus one scrape: no sample falls between points


def test_prometheus_durations() -> None:
    assert parse_duration("15s") == 15
    assert parse_duration("1m30s") == 90
    assert parse_duration("500ms") == 0.5
    assert parse_duration("1h") == 3600
    assert parse_duration("soon") is None and parse_duration("") is None


def test_history_asks_with_the_step_and_the_scrape_interval_prometheus_reports(prom: FakePrometheus) -> None:
    prom.answer = lambda path, params: (
        (200, targets_answer("30s")) if path == "/api/v1/targets" else success("matrix", [])
    )
    start = pd.Timestamp("2026-11-25T08:00:00Z")
    with source(prom.url, max_points=2000) as src:
        assert src.history("web-1:9100", start, start + pd.Timedelta(hours=1)).empty  # 30 s scrapes: step 30 s
        src.history("web-1:9100", start, start + pd.Timedelta(days=7))  # 7 days: 303 s steps
    ranges = [p for path, p in prom.requests if path == "/api/v1/query_range"]
    assert [path for path, _ in prom.requests].count("/api/v1/targets") == 1  # the interval is remembered
    hour = [p for p in ranges if float(p["end"]) - float(p["start"]) == 3600]
    week = [p for p in ranges if float(p["end"]) - float(p["start"]) == 7 * 86400]
    assert hour and week
    assert {p["step"] for p in hour} == {"30"}
    assert {p["step"] for p in week} == {str(math.ceil(7 * 86400 / 1999))}
    assert all(float(p["start"]) == start.timestamp() for p in ranges)
    cpu = next(p["query"] for p in hour if "node_cpu_seconds_total" in p["query"])
    assert 'instance="web-1:9100"' in cpu and 'job="node"' in cpu and "[120000ms]" in cpu  # 4 scrapes of 30 s


def test_without_a_targets_api_the_interval_comes_from_the_up_samples(prom: FakePrometheus) -> None:
    """Mimir's query API has no /api/v1/targets (a 404 page): the scrape
    interval is read from how many ``up`` samples five minutes hold, and the headers
    of ``prometheus.headers`` (Mimir's tenant) go with every request."""

    def answer(path: str, params: dict[str, str]) -> tuple[int, Any]:
        if path == "/prometheus/api/v1/targets":
            return 404, "<html>404 page not found</html>"
        if path == "/prometheus/api/v1/query" and params["query"].startswith("count_over_time(up{"):
            return success("vector", [{"metric": {"instance": "web-1:9100", "job": "node"}, "value": [T0, "10"]}])
        return success("matrix", [])

    prom.answer = answer
    start = pd.Timestamp("2026-11-25T08:00:00Z")
    with source(f"{prom.url}/prometheus", headers={"X-Scope-OrgID": "team-a"}) as src:
        assert src.scrape_interval("web-1:9100") == 30.0  # 10 samples in 300 s
        assert src.history("web-1:9100", start, start + pd.Timedelta(hours=1)).empty
    ranges = [p for path, p in prom.requests if path == "/prometheus/api/v1/query_range"]
    assert ranges and {p["step"] for p in ranges} == {"30"}
    assert prom.headers and all(h.get("x-scope-orgid") == "team-a" for h in prom.headers)


def test_victoria_metrics_says_the_interval_among_the_discovered_labels(prom: FakePrometheus) -> None:
    target = {
        "discoveredLabels": {"__scrape_interval__": "5s", "job": "node"},
        "labels": {"instance": "web-1:9100", "job": "node"},
        "health": "up",
    }
    body = {"status": "success", "data": {"activeTargets": [target], "droppedTargets": []}}
    prom.answer = lambda path, params: (200, body) if path == "/api/v1/targets" else success("vector", [])
    with source(prom.url) as src:
        assert src.scrape_interval("web-1:9100") == 5.0


# -- shaping the answers like the local frame --------------------------------------------
T0 = 1795600000.0


def matrix_series(labels: dict[str, str], values: list[float]) -> dict[str, Any]:
    return {"metric": labels, "values": [[T0 + 15 * i, repr(v)] for i, v in enumerate(values)]}


def node_answers(path: str, params: dict[str, str]) -> tuple[int, Any]:
    """What a node_exporter host looks like through query_range (three steps)."""
    if path == "/api/v1/targets":
        return 200, targets_answer("15s")
    q = params["query"]
    if "node_cpu_seconds_total" in q and "by (cpu)" in q:
        return success("matrix", [matrix_series({"cpu": c}, [10.0, 20.0, 30.0]) for c in ("1", "0", "10", "2")])
    if "node_cpu_seconds_total" in q:
        return success("matrix", [matrix_series({}, [12.5, 25.0, 50.0])])
    if "node_memory_" in q:
        gib = 2.0**30
        return success(
            "matrix",
            [
                matrix_series({"__name__": "node_memory_MemTotal_bytes"}, [8 * gib] * 3),
                matrix_series({"__name__": "node_memory_MemAvailable_bytes"}, [6 * gib, 4 * gib, 2 * gib]),
                matrix_series({"__name__": "node_memory_SwapTotal_bytes"}, [0.0] * 3),
                matrix_series({"__name__": "node_memory_SwapFree_bytes"}, [0.0] * 3),
            ],
        )
    if "node_filesystem_" in q:
        out = []
        for mount, device, fstype in (
            ("/", "/dev/sda1", "ext4"),
            ("/srv/bind", "/dev/sda1", "ext4"),  # a bind mount of the same device: skipped
            ("/data", "/dev/sdb1", "xfs"),
            ("/run", "tmpfs", "tmpfs"),  # a pseudo file system: skipped
        ):
            for kind, value in (("size", 100.0), ("free", 30.0), ("avail", 20.0)):
                labels = {"__name__": f"node_filesystem_{kind}_bytes", "mountpoint": mount}
                out.append(matrix_series({**labels, "device": device, "fstype": fstype}, [value] * 3))
        return success("matrix", out)
    if "node_disk_" in q:
        return success("matrix", [matrix_series({}, [1000.0, 2000.0, 3000.0])])
    if "node_network_" in q:
        return success(
            "matrix",
            [
                matrix_series({"device": d}, v)
                for d, v in (("lo", [5.0] * 3), ("eth0", [1.0, 2.0, 3.0]), ("eth1", [1.0] * 3))
            ],
        )
    if "node_load" in q:
        return success(
            "matrix",
            [matrix_series({"__name__": f"node_load{m}"}, [float(m)] * 3) for m in ("1", "5", "15")],
        )
    return 400, {"status": "error", "errorType": "bad_data", "error": f"unexpected {q}"}


@pytest.fixture
def remote_frame(prom: FakePrometheus) -> pd.DataFrame:
    prom.answer = node_answers
    with source(prom.url) as src:
        return src.history(
            "web-1:9100", pd.Timestamp(T0, unit="s", tz="UTC"), pd.Timestamp(T0 + 30, unit="s", tz="UTC")
        )


def test_the_frame_has_the_local_columns(remote_frame: pd.DataFrame) -> None:
    frame = remote_frame
    assert isinstance(frame.index, pd.DatetimeIndex) and str(frame.index.tz) == "UTC"
    assert frame.index.name == "timestamp" and len(frame) == 3
    assert list(frame.index) == [pd.Timestamp(T0 + 15 * i, unit="s", tz="UTC") for i in range(3)]
    assert list(frame.columns) == [
        "cpu.total",
        "cpu.core[0]",
        "cpu.core[1]",
        "cpu.core[2]",
        "cpu.core[10]",
        "memory.percent",
        "memory.used",
        "memory.available",
        "swap.percent",
        "swap.used",
        "disk.percent[/]",
        "disk.percent[/data]",
        "disk.free[/]",
        "disk.free[/data]",
        "disk.read",
        "disk.write",
        "nic.sent[eth0]",
        "nic.sent[eth1]",
        "nic.sent[lo]",
        "net.sent",
        "nic.recv[eth0]",
        "nic.recv[eth1]",
        "nic.recv[lo]",
        "net.recv",
        "load.1",
        "load.5",
        "load.15",
    ]
    local = FieldTable([f for s in build_sources(load_config(None))[0] for f in s.fields])
    assert all(local.for_column(c) is not None for c in frame.columns)  # every column is a local field


def test_the_values_are_computed_like_the_local_sources(remote_frame: pd.DataFrame) -> None:
    frame = remote_frame
    assert list(frame["cpu.total"]) == [12.5, 25.0, 50.0]
    assert list(frame["memory.percent"]) == [25.0, 50.0, 75.0]  # total minus available
    assert list(frame["memory.used"]) == [2 * 2.0**30, 4 * 2.0**30, 6 * 2.0**30]
    assert list(frame["swap.percent"]) == [0.0] * 3  # no swap is 0 %, as psutil says
    assert frame["disk.percent[/]"].iloc[0] == pytest.approx(100 * 70 / 90)  # psutil: used / (used + avail)
    assert frame["disk.free[/]"].iloc[0] == 20.0
    assert list(frame["net.sent"]) == [2.0, 3.0, 4.0]  # loopback left out of the total
    assert list(frame["load.15"]) == [15.0] * 3


def test_the_same_charts_and_csv_draw_it(remote_frame: pd.DataFrame) -> None:
    local = FieldTable([f for s in build_sources(load_config(None))[0] for f in s.fields])
    drawn = {spec.key for spec in CHARTS if build_figure(spec, remote_frame, local, "Europe/Berlin") is not None}
    assert {"cpu", "cpu_cores", "memory", "disk_io", "network", "network_nics", "load", "disk_usage"} <= drawn
    csv = pd.read_csv(io.BytesIO(frame_to_csv(remote_frame)))
    assert list(csv.columns) == ["timestamp", *remote_frame.columns]
    assert csv["timestamp"][0] == pd.Timestamp(T0, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_host_without_data_is_an_empty_frame(prom: FakePrometheus) -> None:
    prom.answer = lambda path, params: (200, targets_answer()) if path == "/api/v1/targets" else success("matrix", [])
    with source(prom.url) as src:
        frame = src.history("gone:9100", pd.Timestamp("2026-11-25T08:00Z"), pd.Timestamp("2026-11-25T08:15Z"))
    assert frame.empty and isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "timestamp"


# -- the API routes over it --------------------------------------------------------------
@pytest.fixture
def api_with(write_config: Callable[[str], Path]) -> Iterator[Callable[[str], TestClient]]:
    """A running Runtime whose config names a Prometheus URL, and its API in process."""
    made = []
    with ExitStack() as stack:

        def make(extra: str) -> TestClient:
            n = len(made)  # each Runtime its own config and store
            made.append(n)
            text = f'[sampler]\ninterval_seconds = 0.5\nhistory_hours = 1\n[storage]\ndata_dir = "data{n}"\n{extra}'
            config = load_config(write_config(text, f"dashboard{n}.toml"))
            rt: Runtime = stack.enter_context(runtime_module.running(config))
            return stack.enter_context(TestClient(create_api(lambda: rt)))

        yield make


def test_fleet_csv_route(prom: FakePrometheus, api_with: Callable[[str], TestClient]) -> None:
    prom.answer = node_answers
    client = api_with(f'[prometheus]\nurl = "{prom.url}"\n')
    start = pd.Timestamp(T0, unit="s", tz="UTC")
    response = client.get(
        "/prometheus/history.csv",
        params={
            "instance": "web-1:9100",
            "start": start.isoformat(),
            "end": (start + pd.Timedelta(seconds=30)).isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="metrics_web-1_9100_' in response.headers["content-disposition"]
    csv = pd.read_csv(io.BytesIO(response.content))
    assert len(csv) == int(response.headers["x-rows"]) == 3
    assert {"timestamp", "cpu.total", "memory.percent", "disk.percent[/]", "net.sent", "load.1"} <= set(csv.columns)


def test_fleet_routes_say_what_went_wrong(prom: FakePrometheus, api_with: Callable[[str], TestClient]) -> None:
    down = api_with(f'[prometheus]\nurl = "http://127.0.0.1:{free_port()}"\n')
    response = down.get("/prometheus/history.csv", params={"instance": "web-1:9100", "window": "5m"})
    assert response.status_code == 502
    assert response.json()["success"] is False and "cannot be reached" in response.json()["message"]

    prom.delay = 2.0
    slow = api_with(f'[prometheus]\nurl = "{prom.url}"\ntimeout_seconds = 0.5\n')
    response = slow.get("/prometheus/targets")
    assert response.status_code == 504
    assert response.json()["message"] == f"Prometheus at {prom.url} did not answer within 0.5 s."

    unset = api_with("")
    response = unset.get("/prometheus/targets")
    assert response.status_code == 404 and "prometheus.url" in response.json()["message"]
    assert unset.get("/prometheus/history.csv", params={"instance": "x", "window": "soon"}).status_code == 400
