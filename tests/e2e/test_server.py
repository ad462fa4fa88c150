"""The running server over real HTTP: Streamlit, the API, the CLI, binding, signals, bad configs."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx2 as httpx
import pandas as pd
import psutil
import pytest

from .conftest import (
    PYTHON,
    REPO,
    SAMPLE_INTERVAL,
    START_TIMEOUT,
    STOP_TIMEOUT,
    Server,
    free_port,
    hermetic_env,
    streamlit_argv,
    wait_until,
)

pytestmark = pytest.mark.timeout(240)

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def csv_rows(text: str) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [row for row in reader if row]


def history(client: httpx.Client, **params: str) -> httpx.Response:
    return client.get("/api/metrics/history.csv", params=params)


# -- health and discovery ------------------------------------------------------------
def test_streamlit_health_answers(client: httpx.Client) -> None:
    response = client.get("/_stcore/health")
    assert response.status_code == 200
    assert response.text == "ok"


def test_api_health(client: httpx.Client) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "message", "timestamp"}
    assert body["success"] is True
    assert isinstance(body["message"], str) and body["message"]
    stamp = datetime.fromisoformat(body["timestamp"])
    assert stamp.tzinfo is not None, f"timestamp {body['timestamp']!r} has no time zone"
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)


def _check_api_info(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/json"), (
        f"got {response.headers['content-type']}: {response.text[:120]!r}"
    )
    body = response.json()
    assert body["name"] == "dashboard API"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", body["version"])
    paths = {e["path"] for e in body["endpoints"]}
    assert {"/api/health", "/api/metrics/history.csv", "/api/metrics/latest"} <= paths, paths


def test_api_index_with_slash(client: httpx.Client) -> None:
    _check_api_info(client.get("/api/"))


def test_api_index_without_slash(client: httpx.Client) -> None:
    response = client.get("/api")  # answered as it is: no redirect to /api/
    assert not response.is_redirect, response.headers.get("location")
    _check_api_info(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/no-such-route"),
        ("GET", "/api/components/this%0Aprocess"),  # a newline in a name missed the /api mount's pattern
        ("GET", "/api/testing/suites/demo%0A/flaky"),
        ("POST", "/api/agents/a%0Ab/heartbeat"),
        ("GET", "/api/no%0Asuch/route"),
    ],
)
def test_every_api_path_answers_with_the_apis_json_error(client: httpx.Client, method: str, path: str) -> None:
    """Not Streamlit's plain-text 404: whatever is under /api/ is the API's to answer."""
    response = client.request(method, path, json={} if method == "POST" else None)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    assert body["success"] is False and body["message"], body


class _AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.links.append(value)


def test_api_docs_use_only_local_assets(client: httpx.Client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "swagger" in html.lower()
    assert not re.findall(r"https?://[^\s'\"]+", html), "the docs page references outside URLs"
    parser = _AssetLinks()
    parser.feed(html)
    scripts_and_styles = [u for u in parser.links if u.endswith((".js", ".css"))]
    assert any(u.endswith(".js") for u in scripts_and_styles), parser.links
    assert any(u.endswith(".css") for u in scripts_and_styles), parser.links
    for url in scripts_and_styles:  # every asset the page needs is served here
        asset = client.get(url)
        assert asset.status_code == 200, f"{url}: {asset.status_code}"
        assert len(asset.content) > 1000, f"{url} is suspiciously small"


def test_openapi_json(client: httpx.Client) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.text)
    assert spec["openapi"].startswith("3.")
    assert "/metrics/history.csv" in spec["paths"]
    assert "/health" in spec["paths"]


def test_metrics_latest(client: httpx.Client) -> None:
    def full_sample() -> dict | None:
        response = client.get("/api/metrics/latest")
        if response.status_code != 200:
            return None
        body = response.json()
        return body if body["values"].get("cpu.total") is not None else None

    body = wait_until(full_sample, 30, "a sample with cpu.total", ignore=(httpx.HTTPError,))
    values = body["values"]
    for key in ("cpu.total", "memory.percent", "load.1", "proc.count"):
        assert key in values, f"{key} missing from {sorted(values)}"
        assert isinstance(values[key], float), f"{key} = {values[key]!r}"
    assert 0.0 <= values["cpu.total"] <= 100.0
    assert 0.0 < values["memory.percent"] <= 100.0
    assert values["proc.count"] >= 1
    stamp = datetime.fromisoformat(body["timestamp"])
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)


# -- CSV history -----------------------------------------------------------------------
def _wait_for_rows(client: httpx.Client, count: int) -> str:
    def enough() -> str | None:
        response = history(client, window="15m")
        _header, rows = csv_rows(response.text)
        return response.text if response.status_code == 200 and len(rows) >= count else None

    return wait_until(enough, 30, f"at least {count} rows of history", ignore=(httpx.HTTPError,))


def test_history_csv(client: httpx.Client) -> None:
    _wait_for_rows(client, 3)
    response = history(client, window="15m")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers.get("content-disposition", "")
    header, rows = csv_rows(response.text)
    assert header[0] == "timestamp"
    assert {"cpu.total", "memory.percent"} <= set(header)
    assert int(response.headers["x-rows"]) == len(rows)
    for row in rows:
        assert len(row) == len(header), row
        assert ISO_UTC.match(row[0]), f"not an ISO 8601 UTC time: {row[0]!r}"
    frame = pd.read_csv(io.StringIO(response.text))
    assert frame.shape == (len(rows), len(header))
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    assert stamps.is_monotonic_increasing
    assert (pd.Timestamp.now(tz="UTC") - stamps.iloc[-1]) < pd.Timedelta(minutes=1)


def test_api_answers_are_gzipped_when_worth_it(client: httpx.Client) -> None:
    gzip = {"Accept-Encoding": "gzip"}
    large = client.get("/api/openapi.json", headers=gzip)
    assert large.status_code == 200 and large.headers.get("content-encoding") == "gzip"
    assert "/metrics/history.csv" in large.json()["paths"]  # decoded by the client
    small = client.get("/api/health", headers=gzip)
    assert small.status_code == 200 and "content-encoding" not in small.headers


def test_history_csv_start_end_select_a_sub_range(client: httpx.Client) -> None:
    _header, all_rows = csv_rows(_wait_for_rows(client, 6))
    stamps = [pd.Timestamp(r[0]) for r in all_rows]
    # CSV times are cut to milliseconds; one more ms keeps the last wanted sample inside
    start, end = stamps[1], stamps[-2] + pd.Timedelta(milliseconds=1)
    response = history(client, start=start.isoformat(), end=end.isoformat())
    assert response.status_code == 200, response.text
    _header, rows = csv_rows(response.text)
    picked = [pd.Timestamp(r[0]) for r in rows]
    assert all(start <= t <= end for t in picked), (start, end, picked)
    assert picked == stamps[1:-1]  # exactly the samples between the bounds, history is fixed


@pytest.mark.parametrize(
    "params",
    [
        {"window": "bad"},
        {"window": "0m"},
        {"start": "not a date"},
        {"start": "2030-01-01T00:00:00Z", "end": "2029-01-01T00:00:00Z"},
    ],
    ids=["window-bad", "window-zero", "start-garbage", "start-after-end"],
)
def test_history_csv_bad_input_is_400_json(client: httpx.Client, params: dict[str, str]) -> None:
    response = history(client, **params)
    assert response.status_code == 400, response.text[:200]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["message"], str) and len(body["message"]) > 10


# -- the command line ------------------------------------------------------------------
def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "dashboard_core", *args],
        cwd=REPO,
        env=hermetic_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_cli_export_csv(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = run_cli("export-csv", "--window", "1h", "-o", str(out), "--url", server.url)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    frame = pd.read_csv(out)
    assert len(frame) >= 2
    assert frame.columns[0] == "timestamp"
    assert "cpu.total" in frame.columns
    assert frame["timestamp"].map(lambda s: bool(ISO_UTC.match(s))).all()
    assert f"{len(frame)} rows" in result.stderr, result.stderr


def test_cli_export_without_server_fails_clearly(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    port = free_port()  # closed again at once: nothing listens there
    result = run_cli("export-csv", "--window", "1h", "-o", str(out), "--url", f"http://127.0.0.1:{port}")
    print(result.stderr)
    assert result.returncode == 1
    assert "No dashboard answers at" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


# -- binding -----------------------------------------------------------------------------
def _non_loopback_ipv4() -> list[str]:
    return [
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    ]


def test_listens_on_loopback_only(server: Server) -> None:
    listening = [
        c
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == server.port
    ]
    assert listening, f"no LISTEN socket on port {server.port}"
    assert {c.laddr.ip for c in listening} == {"127.0.0.1"}, listening

    outside = _non_loopback_ipv4()
    if not outside:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    for address in outside:
        with pytest.raises(OSError):  # refused (or unreachable), never accepted
            socket.create_connection((address, server.port), timeout=5).close()


# -- lifecycle ---------------------------------------------------------------------------
def test_sigterm_stops_the_server_cleanly(fresh_server: Server) -> None:
    proc = fresh_server.proc
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_TIMEOUT:g} s after SIGTERM; output:\n{fresh_server.output()}")
    took = time.monotonic() - sent
    output = fresh_server.output()
    print(f"exit code after SIGTERM: {code} in {took:.2f} s")
    assert code in (0, -signal.SIGTERM, 128 + signal.SIGTERM), output
    assert "Traceback" not in output, output
    assert "Runtime stopped" in output, "the lifespan did not stop the Runtime:\n" + output
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", fresh_server.port), timeout=2).close()


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        ("[sampler]\ninterval_seconds = 0\n", "sampler.interval_seconds"),
        ("[sampler]\nintervall_seconds = 1\n", "sampler.intervall_seconds"),
        ("[sampler\ninterval_seconds = 1\n", "not valid TOML"),
        ('[[alerts]]\nname = "cpu"\nrule = "cpu.totl > 90 for 5m"\n', "alerts.0 (cpu).rule: 'cpu.totl' is not a metric"),
    ],
    ids=["out-of-range", "unknown-key", "not-toml", "bad-alert-rule"],
)
def test_bad_config_exits_with_a_message(tmp_path: Path, config_text: str, expected: str) -> None:
    config = tmp_path / "dashboard.toml"
    config.write_text(config_text, encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        streamlit_argv(port, config),
        cwd=REPO,
        env=hermetic_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        pytest.fail(f"a bad config did not stop start-up within {START_TIMEOUT:g} s:\n{stdout}\n{stderr}")
    output = stdout + stderr
    print(output)
    assert proc.returncode != 0
    assert str(config) in output or config.name in output
    assert expected in output
    assert "Traceback" not in output


def test_server_uses_the_config_given_after_double_dash(client: httpx.Client) -> None:
    """``-- --config FILE`` drives the server: its 0.5 s interval (default 1 s) shows in the API."""
    overview = client.get("/api/dashboard/overview")
    assert overview.status_code == 200
    assert overview.json()["dashboard"]["sampling_interval_seconds"] == SAMPLE_INTERVAL


def test_start_script_stops_on_a_bad_config_before_streamlit_says_anything(tmp_path: Path) -> None:
    """The README's start command checks the config first: only its message, exit 2."""
    config = tmp_path / "dashboard.toml"
    config.write_text("[sampler]\ninterval_seconds = 0\n", encoding="utf-8")
    done = subprocess.run(
        ["bash", "scripts/start.sh", "--server.port", str(free_port()), "--", "--config", str(config)],
        cwd=REPO,
        env=hermetic_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,  # may first bring .venv up to requirements.txt
    )
    assert done.returncode == 2, done
    assert f"{config}: 1 invalid setting" in done.stderr
    assert "sampler.interval_seconds" in done.stderr
    assert "You can now view" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
