"""Rules that travel, end to end: a real dashboard serves its metric rules at
``GET /api/alerts/rules.yml``; Debian's Prometheus (``bash
scripts/install-prometheus.sh``) loads that file, scrapes the same dashboard's
``/api/metrics`` every second and evaluates the rules every second, and an
exported rule that the host certainly satisfies (memory in use above one byte,
any mount at least 0 % full) fires in Prometheus with the dashboard's labels and
annotations, while one that cannot hold stays inactive and none fails to evaluate.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest

from tests.e2e.conftest import Server, launch_server
from tests.e2e.test_prometheus import PROMETHEUS, STARTUP, Daemon, answers, start
from tests.localhost import free_port
from tests.polling import wait_until

DESCRIPTION = 'Memory "in use" {{ is }} above one byte \\ ü'
RULES = f"""
[alerting]
public_url = "http://dashboard.test/"

[[components]]
name = "api"
check = {{ type = "http", url = "/api/health" }}
interval_seconds = 1

[[alerts]]
name = "memory-in-use"
rule = "memory.used > 1 for 2s"
severity = "critical"
description = '{DESCRIPTION}'
labels = {{ team = "ops" }}

[[alerts]]
name = "disk-any"
rule = "disk.percent >= 0"

[[alerts]]
name = "never"
rule = "cpu.total > 1000"

[[alerts]]
name = "api-down"
rule = "component api down"
"""

PROMETHEUS_YML = """
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: dashboard
    metrics_path: /api/metrics
    static_configs:
      - targets: ["{dashboard}"]
"""


@pytest.fixture(scope="module")
def prometheus_with_rules(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    if not os.access(PROMETHEUS, os.X_OK):
        message = "Debian's prometheus is missing: run 'bash scripts/install-prometheus.sh' (root or sudo)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("prom-rules")
    server: Server | None = None
    daemon: Daemon | None = None
    try:
        server = launch_server(root / "dashboard", RULES)
        with server.client() as client:
            response = client.get("/api/alerts/rules.yml")
        assert response.status_code == 200, response.text
        assert response.headers["x-rules-not-exported"] == "api-down"
        (root / "rules.yml").write_text(response.text, encoding="utf-8")
        (root / "prometheus.yml").write_text(PROMETHEUS_YML.format(dashboard=f"127.0.0.1:{server.port}"))
        port = free_port()
        daemon = start(
            "prometheus",
            [
                PROMETHEUS,
                f"--config.file={root / 'prometheus.yml'}",
                f"--storage.tsdb.path={root / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            root,
        )
        url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: answers(daemon, f"{url}/-/ready"), STARTUP, "Prometheus to be ready", ignore=(httpx.HTTPError,)
        )
        yield server, url
    finally:
        if daemon is not None:
            daemon.stop()
        if server is not None:
            server.stop()


def api(url: str, path: str) -> Any:
    with httpx.Client(base_url=url, timeout=10, trust_env=False) as client:
        body = client.get(path).json()
    assert body["status"] == "success", body
    return body["data"]


def test_prometheus_loads_the_exported_rules_and_one_fires(prometheus_with_rules: tuple[Server, str]) -> None:
    server, url = prometheus_with_rules
    instance = f"127.0.0.1:{server.port}"

    def firing() -> dict[str, list[dict[str, Any]]] | None:
        alerts = [a for a in api(url, "/api/v1/alerts")["alerts"] if a["state"] == "firing"]
        by_name: dict[str, list[dict[str, Any]]] = {}
        for alert in alerts:
            by_name.setdefault(alert["labels"]["alertname"], []).append(alert)
        return by_name if {"memory-in-use", "disk-any"} <= by_name.keys() else None

    try:
        found = wait_until(firing, 90, "the exported rules to fire in Prometheus", ignore=(httpx.HTTPError,))
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nrules: {api(url, '/api/v1/rules')}") from None

    [memory] = found["memory-in-use"]
    assert memory["labels"] == {
        "alertname": "memory-in-use",
        "severity": "critical",
        "kind": "metric",
        "field": "memory.used",
        "column": "memory.used",
        "team": "ops",
        "instance": instance,
        "job": "dashboard",
    }
    assert memory["annotations"]["description"] == DESCRIPTION  # the template printed it as written
    assert memory["annotations"]["dashboard_url"] == "http://dashboard.test/safety?rule=memory-in-use"
    assert memory["annotations"]["summary"].startswith("memory-in-use: memory.used > 1 for 2s, now ")
    assert memory["annotations"]["summary"].endswith("B") and float(memory["value"]) > 1
    for disk in found["disk-any"]:  # one alert per mount, each saying which
        assert f"(mount {disk['labels']['mount']})" in disk["annotations"]["summary"], disk

    [group] = api(url, "/api/v1/rules")["groups"]
    assert group["file"].endswith("rules.yml") and group["name"] == "dashboard"
    rules = {r["name"]: r for r in group["rules"]}
    assert set(rules) == {"memory-in-use", "disk-any", "never"}  # api-down cannot travel
    assert all(r["health"] == "ok" and not r.get("lastError") for r in rules.values()), rules
    assert rules["never"]["state"] == "inactive" and rules["memory-in-use"]["duration"] == 2
