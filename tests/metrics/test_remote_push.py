"""Metrics out without a store: the JSON lines the pusher sends, and its bounded queue, over a
real rolling frame and a real HTTP server on loopback that records what it is sent
(the real VictoriaMetrics is in tests/e2e/test_victoria_metrics.py)."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dashboard_core.config import RemotePushConfig
from dashboard_core.metrics.fields import Field, FieldTable
from dashboard_core.metrics.frame import RollingFrame
from dashboard_core.metrics.remote_push import Encoder, RemotePush

FIELDS = FieldTable(
    [
        Field("cpu.total", "%", "CPU busy, all cores"),
        Field("disk.percent", "%", "Disk space used", label="mount"),
        Field("net.sent", "bytes/s", "Network sent", kind="rate"),
    ]
)
T0 = 1_795_600_000_000_000_000  # ns


class Recorder:
    """A loopback HTTP server that answers ``status`` and keeps each body, un-gzipped."""

    def __init__(self) -> None:
        self.status = 204
        self.bodies: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server name)
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                assert self.headers["Content-Encoding"] == "gzip"
                outer.bodies.append(gzip.decompress(raw).decode())
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1/import"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def store() -> Iterator[Recorder]:
    server = Recorder()
    try:
        yield server
    finally:
        server.close()


def lines(body: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines()]


def test_one_json_line_per_series_named_as_the_exposition_names_it() -> None:
    frame = RollingFrame(10)
    frame.append(T0, {"cpu.total": 12.5, 'disk.percent[/mnt/a"b\\c]': 40.0, "net.sent": float("nan")})
    frame.append(T0 + 500_000_000, {"cpu.total": float("inf"), "unknown.column": 1.0, "net.sent": 2048.0})
    body, values = Encoder(FIELDS, {"job": "dashboard", "instance": "web-1"}).encode(frame.rows())
    ms = T0 // 1_000_000
    assert lines(body.decode()) == [
        {
            "metric": {"__name__": "dashboard_cpu_total_percent", "job": "dashboard", "instance": "web-1"},
            "values": [12.5],
            "timestamps": [ms],
        },
        {
            "metric": {
                "__name__": "dashboard_disk_percent",
                "job": "dashboard",
                "instance": "web-1",
                "mount": '/mnt/a"b\\c',
            },
            "values": [40.0],
            "timestamps": [ms],
        },
        {
            "metric": {"__name__": "dashboard_net_sent_bytes_per_second", "job": "dashboard", "instance": "web-1"},
            "values": [2048.0],
            "timestamps": [ms + 500],
        },
    ]  # a missing reading (NaN), an infinity (JSON has none) and a column without a field are not sent
    assert values == 3


def test_batches_across_pulls_and_new_columns_send_every_sample_once(store: Recorder) -> None:
    frame = RollingFrame(100)
    config = RemotePushConfig(url=store.url, batch_samples=3)
    push = RemotePush(config, frame, FIELDS, instance="web-1")
    for i in range(4):
        frame.append(T0 + i * 10**9, {"cpu.total": float(i)})
    push.tick()
    for i in range(4, 6):  # a column appears
        frame.append(T0 + i * 10**9, {"cpu.total": float(i), "disk.percent[/]": 50.0 + i})
    push.tick()
    push.stop()
    assert push.pushed == 6 and push.requests == 3 and push.dropped == 0
    sent = [lines(body) for body in store.bodies]
    cpu = [
        v
        for body in sent
        for series in body
        if series["metric"]["__name__"] == "dashboard_cpu_total_percent"
        for v in series["values"]
    ]
    assert cpu == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    # at most 3 samples a request: 3, then the 4th, then the last two with the new column
    assert [[len(series["values"]) for series in body] for body in sent] == [[3], [1], [2, 2]]


def test_a_refusing_store_keeps_the_newest_samples_and_counts_the_rest(store: Recorder) -> None:
    store.status = 500
    frame = RollingFrame(100)
    push = RemotePush(RemotePushConfig(url=store.url, max_pending_samples=4), frame, FIELDS, instance="web-1")
    for i in range(10):
        frame.append(T0 + i * 10**9, {"cpu.total": float(i)})
    push.tick()
    assert push.dropped == 6 and push.health().pending_samples == 4
    assert push.last_error is not None and push.last_error.startswith("HTTP 500")
    store.status = 204
    push.tick(final=True)  # past the back-off: what was kept goes out
    assert push.last_error is None and push.pushed == 4
    assert [series["values"] for series in lines(store.bodies[-1])] == [[6.0, 7.0, 8.0, 9.0]]
    push.stop()
