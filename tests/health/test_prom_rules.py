"""Rules that travel: the metric rules exported as a Prometheus alerting-rules file,
read back with a YAML parser, checked by ``promtool check rules`` and its rule
unit tests, served by the API of a real Runtime (over the names its own
``/api/metrics`` exposes) and written by the real command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import Config, load_config
from dashboard_core.health.prom_rules import export_config, prom_duration
from dashboard_core.runtime import Runtime
from tests.polling import wait_until
from tests.promtool import PROMTOOL, needs_promtool

ROOT = Path(__file__).parents[2]
# A description Prometheus would run as a template if it were not escaped, quotes, a backslash, non-ASCII.
ODD = 'CPU "busy" {{ .Value }} \\ ü 😀 $value'

RULES = f"""
[alerting]
public_url = "https://dash.example.org/"

[[components]]
name = "web"
check = {{ type = "http", url = "http://127.0.0.1:9/health" }}

[[alerts]]
name = "cpu-high"
rule = "cpu.total > 90 for 1m30s"
description = '{ODD}'
labels = {{ team = "db" }}

[[alerts]]
name = "disk-any"
rule = "disk.percent >= 0.5 for 1.5s"
severity = "critical"

[[alerts]]
name = "root-full"
rule = "disk.percent[/] > 1e20"

[[alerts]]
name = "busy-self"
rule = "watch.cpu[pytest] != -3"

[[alerts]]
name = "web-down"
rule = "component web down for 5m"

[[alerts]]
name = "agent-gone"
rule = "agent offline"

[[alerts]]
name = "reserved"
rule = "memory.used > 1"
labels = {{ __shard = "1" }}
"""
WATCH = '\n[[watch]]\nlabel = "pytest"\nmatch = "cmdline"\npattern = "pytest"\n'


@pytest.fixture
def config(write_config: Callable[[str], Path]) -> Config:
    return load_config(write_config(RULES + WATCH))


def rules_of(text: str) -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(text)
    [group] = document["groups"]
    assert group["name"] == "dashboard"
    return {rule["alert"]: rule for rule in group["rules"]}


def test_metric_rules_become_prometheus_rules_over_the_exposed_names(config: Config) -> None:
    export = export_config(config)
    assert export.exported == ["cpu-high", "disk-any", "root-full", "busy-self"]
    rules = rules_of(export.text)
    assert {name: (r["expr"], r.get("for")) for name, r in rules.items()} == {
        "cpu-high": ("dashboard_cpu_total_percent > 90", "1m30s"),
        "disk-any": ("dashboard_disk_percent >= 0.5", "1s500ms"),  # any mount: one alert per series
        "root-full": ('dashboard_disk_percent{mount="/"} > 1e+20', None),
        "busy-self": ('dashboard_watch_cpu_percent{process="pytest"} != -3', None),
    }
    cpu = rules["cpu-high"]
    assert cpu["labels"] == {
        "severity": "warning",
        "kind": "metric",
        "field": "cpu.total",
        "column": "cpu.total",
        "team": "db",
    }
    assert cpu["annotations"] == {
        "summary": 'cpu-high: cpu.total > 90 for 1m30s, now {{ printf "%.3g" $value }} %',
        "description": ODD.replace("{{", '{{ "{{" }}'),  # printed by the template, never run
        "dashboard_url": "https://dash.example.org/safety?rule=cpu-high",
    }
    assert rules["disk-any"]["labels"]["severity"] == "critical"
    assert "(mount {{ $labels.mount }})" in rules["disk-any"]["annotations"]["summary"]
    assert rules["root-full"]["annotations"]["description"] == "The dashboard's rule disk.percent[/] > 1e20 holds."


def test_rules_that_cannot_travel_are_named_with_the_reason(config: Config) -> None:
    export = export_config(config)
    assert [(u.name, u.rule) for u in export.left_out] == [
        ("web-down", "component web down for 5m"),
        ("agent-gone", "agent offline"),
        ("reserved", "memory.used > 1"),
    ]
    reasons = {u.name: u.reason for u in export.left_out}
    assert "dashboard's own checks" in reasons["web-down"] and "heartbeats" in reasons["agent-gone"]
    assert "reserved in Prometheus: __shard" in reasons["reserved"]
    header = [line for line in export.text.splitlines() if line.startswith("#")]
    assert "# Not exported (3): these rules cannot travel." in header
    for u in export.left_out:
        assert f"#   {u.name} ({u.rule}): {u.reason}" in header
    assert set(rules_of(export.text)) == set(export.exported)


def test_no_metric_rule_gives_an_empty_group(write_config: Callable[[str], Path]) -> None:
    config = load_config(write_config('[[alerts]]\nname = "agents"\nrule = "agent offline"\n'))
    export = export_config(config)
    assert export.exported == [] and rules_of(export.text) == {}
    assert "Set [alerting] public_url" in export.text
    assert prom_duration(0.001) == "1ms" and prom_duration(90061) == "1d1h1m1s"


@needs_promtool
def test_promtool_accepts_the_export_and_its_rules_fire_on_their_series(config: Config, tmp_path: Path) -> None:
    """``promtool check rules`` takes the file; ``promtool test rules`` feeds it series
    and sees which alert fires when, with which labels and annotations."""
    rules = tmp_path / "rules.yml"
    rules.write_text(export_config(config).text, encoding="utf-8")
    checked = subprocess.run(
        [PROMTOOL, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 4 rules found" in checked.stdout

    # 95 % from minute 1 on: pending after 1m, firing after 1m30s (evaluated every 15 s).
    unit = tmp_path / "rules_test.yml"
    unit.write_text(
        textwrap.dedent(
            """\
            rule_files: [rules.yml]
            evaluation_interval: 15s
            tests:
              - interval: 15s
                input_series:
                  - series: 'dashboard_cpu_total_percent{instance="a"}'
                    values: '10 10 10 10 95 95 95 95 95 95 95 95'
                  - series: 'dashboard_disk_percent{instance="a",mount="/"}'
                    values: '0.4x11'
                  - series: 'dashboard_disk_percent{instance="a",mount="/data"}'
                    values: '0.6x11'
                alert_rule_test:
                  - eval_time: 1m15s
                    alertname: cpu-high
                    exp_alerts: []
                  - eval_time: 2m30s
                    alertname: cpu-high
                    exp_alerts:
                      - exp_labels: {severity: warning, kind: metric, field: cpu.total, column: cpu.total,
                                     team: db, instance: a}
                        exp_annotations:
                          summary: "cpu-high: cpu.total > 90 for 1m30s, now 95 %"
                          description: DESCRIPTION
                          dashboard_url: "https://dash.example.org/safety?rule=cpu-high"
                  - eval_time: 1m
                    alertname: disk-any
                    exp_alerts:
                      - exp_labels: {severity: critical, kind: metric, field: disk.percent, column: disk.percent,
                                     instance: a, mount: /data}
                        exp_annotations:
                          summary: "disk-any: disk.percent >= 0.5 for 1.5s (mount /data), now 0.6 %"
                          description: "The dashboard's rule disk.percent >= 0.5 for 1.5s holds."
                          dashboard_url: "https://dash.example.org/safety?rule=disk-any"
            """
        ).replace("DESCRIPTION", json.dumps(ODD, ensure_ascii=False)),  # a JSON string is a YAML double-quoted one
        encoding="utf-8",
    )
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", unit.name], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


# -- the API of a real Runtime ------------------------------------------------------
@pytest.fixture
def runtime(write_config: Callable[[str], Path]) -> Iterator[Runtime]:
    text = "[sampler]\ninterval_seconds = 0.1\nhistory_hours = 1\nprocess_interval_seconds = 1\n" + RULES + WATCH
    with runtime_module.running(load_config(write_config(text))) as rt:
        yield rt


def test_the_api_serves_the_file_over_the_names_of_its_own_exposition(runtime: Runtime) -> None:
    with TestClient(create_api(lambda: runtime)) as client:
        response = client.get("/alerts/rules.yml")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/yaml")
        assert response.headers["x-rules-exported"] == "4"
        assert response.headers["x-rules-not-exported"] == "web-down, agent-gone, reserved"
        assert response.text == export_config(runtime.config).text
        rules = rules_of(response.text)

        def exposition() -> str | None:  # the watched process shows once its group has been scanned
            text = client.get("/metrics").text
            return text if 'dashboard_watch_cpu_percent{process="pytest"}' in text else None

        text = wait_until(exposition, 30, "the watched pytest process in /api/metrics")
    exposed = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    used = {re.match(r"[a-z_]+", r["expr"]).group(0) for r in rules.values()}
    assert used <= exposed, used - exposed
    assert 'dashboard_disk_percent{mount="/"}' in text  # the label matcher names a series that exists


# -- the command line ---------------------------------------------------------------
def test_the_command_line_writes_the_file_and_names_what_it_left_out(config: Config, tmp_path: Path) -> None:
    assert config.source is not None
    command = [sys.executable, "-m", "dashboard_core", "rules", "export", "--config", config.source]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == export_config(config).text
    assert "4 metric rule(s) exported to standard output" in done.stderr
    assert "not exported: web-down (component web down for 5m): a component's state" in done.stderr

    target = tmp_path / "out" / "rules.yml"
    target.parent.mkdir()
    done = subprocess.run([*command, "-o", str(target)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and target.read_text(encoding="utf-8") == export_config(config).text

    bad = tmp_path / "bad.toml"
    bad.write_text('[[alerts]]\nname = "x"\nrule = "cpu.totl > 1"\n', encoding="utf-8")
    done = subprocess.run([*command[:-1], str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "did you mean 'cpu.total'" in done.stderr and done.stdout == ""
