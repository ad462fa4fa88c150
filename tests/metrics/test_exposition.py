"""``GET /api/metrics``: the Prometheus text format over a real Runtime (in
process, through FastAPI's TestClient), read back by prometheus_client's own
parser, so a format mistake fails here before a Prometheus server sees it.

The Runtime has real parts: a component that answers and one that does not, an
agent that sent a heartbeat and one expected but never seen, a rule that fires
and one that does not, a pytest suite that ran (with a pass, a failure and a
skip), a workflow that ran, and a watched process (this test run).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator

import prometheus_client
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import load_config
from dashboard_core.metrics.exposition import metric_help, metric_name
from dashboard_core.models import AlertState, ComponentState, HeartbeatRequest, RunStatus, Trigger, WorkflowStatus
from dashboard_core.runtime import Runtime
from tests.localhost import free_port
from tests.polling import wait_until
from tests.promtool import assert_promtool_clean, needs_promtool

PY = json.dumps(sys.executable)  # a TOML basic string is a JSON string
WAIT = 60  # seconds, for a loaded 2-core machine
VALID_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
VALID_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

TINY_SUITE = """
import pytest

def test_one():
    pass

def test_two():
    pass

def test_broken():
    assert 1 == 2

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A running Runtime with every part in a known state, its sampler then stopped
    so the latest sample holds still while the test compares."""
    root = tmp_path_factory.mktemp("exposition")
    (root / "suite").mkdir()
    (root / "suite" / "test_tiny.py").write_text(TINY_SUITE)
    closed_port = free_port()  # nothing listens there
    path = root / "dashboard.toml"
    path.write_text(
        f"""
[sampler]
interval_seconds = 0.1
history_hours = 1
process_interval_seconds = 1

[storage]
data_dir = "data"

[[watch]]
label = "pytest"
match = "cmdline"
pattern = "pytest"

[[components]]
name = "answers"
check = {{ type = "command", argv = [{PY}, "-c", "pass"] }}
interval_seconds = 3600  # checked once at start: the states hold still
down_after = 1

[[components]]
name = "closed"
check = {{ type = "tcp", host = "127.0.0.1", port = {closed_port} }}
interval_seconds = 3600
timeout_seconds = 1
down_after = 1

[agents]
expected = ["ghost"]

[[suites]]
name = "tiny"
paths = ["test_tiny.py"]
cwd = "suite"
args = ["-p", "no:cacheprovider"]

[alerting]
interval_seconds = 3600  # judged by the fixture, so the states hold still

[[alerts]]
name = "cpu-any"
rule = "cpu.total >= 0"
severity = "warning"

[[alerts]]
name = "cpu-impossible"
rule = "cpu.total > 1000"
severity = "critical"

[[workflows]]
name = "quick"

[[workflows.steps]]
name = "only"
argv = [{PY}, "-c", "pass"]
""",
        encoding="utf-8",
    )
    with runtime_module.running(load_config(path)) as rt:
        rt.agents.heartbeat("worker-1", HeartbeatRequest(status="ok", metrics={"queue": 3, "tokens_per_s": 41.5}))
        run = rt.tests.run_suite("tiny", Trigger.API).run
        wf = rt.workflows.start_run("quick", {}, Trigger.API)
        assert rt.tests.wait(run.id, WAIT).status is RunStatus.FAILED
        assert rt.workflows.wait(wf.id, WAIT).status is WorkflowStatus.SUCCEEDED
        wait_until(lambda: _state(rt, "answers") is ComponentState.HEALTHY, WAIT, "the answering component healthy")
        wait_until(lambda: _state(rt, "closed") is ComponentState.DOWN, WAIT, "the closed port's component down")
        wait_until(lambda: rt.latest() and rt.latest().values.get("cpu.total") is not None, WAIT, "a full sample")
        wait_until(lambda: any(c.startswith("watch.rss[") for c in rt.latest().values), WAIT, "a watched process")
        wait_until(lambda: _judged(rt, "cpu-any") is AlertState.FIRING, WAIT, "the cpu-any rule to fire")
        rt.sampler.stop()
        yield rt


def _state(rt: Runtime, name: str) -> ComponentState | None:
    status = rt.health.status(name)
    return status.state if status else None


def _judged(rt: Runtime, name: str) -> AlertState:
    return next(r.state for r in rt.alerts.evaluate() if r.name == name)


@pytest.fixture(scope="module")
def scrape(system: Runtime) -> Callable[[], dict[str, prometheus_client.Metric]]:
    def read() -> dict[str, prometheus_client.Metric]:
        with TestClient(create_api(lambda: system)) as client:
            response = client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"] == prometheus_client.CONTENT_TYPE_LATEST
        return {family.name: family for family in text_string_to_metric_families(response.text)}

    return read


def value(families: dict[str, prometheus_client.Metric], name: str, **labels: str) -> float:
    """The one sample of ``name`` whose labels include ``labels``."""
    family_name = name.removesuffix("_total") if name.endswith("_total") else name
    matches = [
        s.value
        for s in families[family_name].samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(matches) == 1, f"{name}{labels}: {len(matches)} samples"
    return matches[0]


def test_every_name_and_label_is_valid_and_every_family_has_help(scrape) -> None:
    families = scrape()
    assert len(families) > 40
    for family in families.values():
        assert VALID_NAME.match(family.name), family.name
        assert family.name.startswith("dashboard_")
        assert family.documentation, f"{family.name} has no help text"
        assert family.type in ("gauge", "counter")
        for sample in family.samples:
            assert all(VALID_LABEL.match(k) for k in sample.labels), sample


def test_host_metrics_match_the_latest_sample_with_help_from_the_field_table(system: Runtime, scrape) -> None:
    families = scrape()
    latest = system.latest()
    assert latest is not None
    compared = 0
    for column, reading in latest.values.items():
        field = system.fields.for_column(column)
        assert field is not None
        name = metric_name(field)
        family = families[name]
        assert family.documentation == metric_help(field)
        assert family.documentation.startswith(field.description)
        label = column[column.index("[") + 1 : -1] if field.label else None
        samples = [s for s in family.samples if (s.labels == {field.label: label} if label else not s.labels)]
        if reading is None:  # a missing reading is no sample, never a zero
            assert samples == []
            continue
        assert len(samples) == 1, column
        assert samples[0].value == pytest.approx(reading, rel=1e-12, abs=1e-12), column
        compared += 1
    assert compared >= 15
    assert value(families, "dashboard_sample_timestamp_seconds") == pytest.approx(latest.timestamp.timestamp())


def test_names_follow_the_conventions(system: Runtime, scrape) -> None:
    families = scrape()
    latest = system.latest().values
    assert value(families, "dashboard_cpu_total_percent") == pytest.approx(latest["cpu.total"])
    assert value(families, "dashboard_memory_percent") == pytest.approx(latest["memory.percent"])
    assert value(families, "dashboard_memory_used_bytes") == pytest.approx(latest["memory.used"])
    assert value(families, "dashboard_load_1") == pytest.approx(latest["load.1"])
    assert value(families, "dashboard_proc_processes") == latest["proc.count"]
    mounts = [c[len("disk.percent[") : -1] for c in latest if c.startswith("disk.percent[")]
    assert mounts
    for mount in mounts:
        assert value(families, "dashboard_disk_percent", mount=mount) == pytest.approx(latest[f"disk.percent[{mount}]"])
    assert families["dashboard_disk_read_bytes_per_second"].type == "gauge"  # a rate is a gauge, see the module
    assert families["dashboard_net_recv_bytes_per_second"].documentation.endswith("(bytes/s)")
    assert value(families, "dashboard_nic_recv_bytes_per_second", interface="lo") == pytest.approx(
        latest["nic.recv[lo]"]
    )
    assert value(families, "dashboard_cpu_core_percent", core="0") == pytest.approx(latest["cpu.core[0]"])
    assert families["dashboard_cpu_total_percent"].documentation == "CPU busy, all cores (%)"


def test_watched_processes(system: Runtime, scrape) -> None:
    families = scrape()
    latest = system.latest().values
    assert value(families, "dashboard_watch_rss_bytes", process="pytest") == pytest.approx(latest["watch.rss[pytest]"])
    assert value(families, "dashboard_watch_processes", process="pytest") >= 1
    assert "dashboard_watch_count" not in families  # renamed: promtool reserves _count for summaries
    assert "dashboard_watch_cpu_percent" in families


def test_components_one_hot_up_and_latency(system: Runtime, scrape) -> None:
    families = scrape()
    assert value(families, "dashboard_component_up", component="answers") == 1
    assert value(families, "dashboard_component_up", component="closed") == 0
    for name, state in (("answers", "healthy"), ("closed", "down")):
        states = {
            s.labels["state"]: s.value
            for s in families["dashboard_component_state"].samples
            if s.labels["component"] == name
        }
        assert states == {s.value: (1.0 if s.value == state else 0.0) for s in ComponentState}
    answers = system.health.status("answers")
    assert value(families, "dashboard_component_latency_seconds", component="answers") == pytest.approx(
        answers.latency_ms / 1000, rel=1e-6
    )
    assert value(families, "dashboard_component_consecutive_failures", component="closed") >= 1


def test_agents(system: Runtime, scrape) -> None:
    families = scrape()
    assert value(families, "dashboard_agent_state", agent="worker-1", state="online") == 1
    assert value(families, "dashboard_agent_state", agent="worker-1", state="offline") == 0
    assert value(families, "dashboard_agent_state", agent="ghost", state="missing") == 1
    assert value(families, "dashboard_agent_metric", agent="worker-1", metric="queue") == 3
    assert value(families, "dashboard_agent_metric", agent="worker-1", metric="tokens_per_s") == 41.5
    seen = next(a for a in system.agents.agents() if a.name == "worker-1").last_seen
    assert value(families, "dashboard_agent_last_heartbeat_timestamp_seconds", agent="worker-1") == pytest.approx(
        seen.timestamp()
    )
    assert not [
        s for s in families["dashboard_agent_last_heartbeat_timestamp_seconds"].samples if s.labels["agent"] == "ghost"
    ]


def test_alerts(scrape) -> None:
    families = scrape()
    assert value(families, "dashboard_alert_state", rule="cpu-any", severity="warning", state="firing") == 1
    assert value(families, "dashboard_alert_state", rule="cpu-any", severity="warning", state="ok") == 0
    assert value(families, "dashboard_alert_state", rule="cpu-impossible", severity="critical", state="ok") == 1
    assert value(families, "dashboard_alerts_firing", severity="warning") == 1
    assert value(families, "dashboard_alerts_firing", severity="critical") == 0
    assert 0 <= value(families, "dashboard_alert_value", rule="cpu-any") <= 100


def test_test_runs(system: Runtime, scrape) -> None:
    families = scrape()
    run = next(s for s in system.tests.suites() if s.name == "tiny").last_run
    assert value(families, "dashboard_test_run_last_status", suite="tiny", status="failed") == 1
    assert value(families, "dashboard_test_run_last_status", suite="tiny", status="passed") == 0
    statuses = [s for s in families["dashboard_test_run_last_status"].samples if s.labels["suite"] == "tiny"]
    assert sum(s.value for s in statuses) == 1 and "timed out" in {s.labels["status"] for s in statuses}
    counts = {
        s.labels["outcome"]: s.value
        for s in families["dashboard_test_run_last_tests"].samples
        if s.labels["suite"] == "tiny"
    }
    assert counts == {"passed": 2, "failed": 1, "error": 0, "skipped": 1, "xfailed": 0, "xpassed": 0}
    assert value(families, "dashboard_test_run_last_duration_seconds", suite="tiny") == pytest.approx(
        run.duration_seconds
    )
    assert value(families, "dashboard_test_run_last_timestamp_seconds", suite="tiny") == pytest.approx(
        run.ended_at.timestamp()
    )
    assert value(families, "dashboard_test_runs_active", suite="tiny") == 0


def test_workflows(system: Runtime, scrape) -> None:
    families = scrape()
    assert value(families, "dashboard_workflow_runs_active", workflow="quick") == 0
    assert value(families, "dashboard_workflow_last_status", workflow="quick", status="succeeded") == 1
    assert value(families, "dashboard_workflow_last_status", workflow="quick", status="failed") == 0
    last = system.workflows.workflows().workflows[0].last_run
    assert value(families, "dashboard_workflow_last_timestamp_seconds", workflow="quick") == pytest.approx(
        last.ended_at.timestamp()
    )
    assert value(families, "dashboard_workflow_last_duration_seconds", workflow="quick") >= 0


def test_the_dashboards_own_cost(system: Runtime, scrape) -> None:
    families = scrape()
    health = system.self_health()
    assert families["dashboard_process_cpu_seconds"].type == "counter"
    assert value(families, "dashboard_process_cpu_seconds_total") > 0
    assert value(families, "dashboard_process_resident_memory_bytes") > 10 * 2**20
    assert value(families, "dashboard_samples_held") == health.samples_held == len(system.frame)
    assert value(families, "dashboard_samples_capacity") == health.capacity
    assert value(families, "dashboard_sampler_cpu_seconds_per_sample") == pytest.approx(
        health.sampler_cpu_ms_per_sample / 1000
    )
    assert value(families, "dashboard_sampler_running") == 0  # the fixture stopped it
    assert value(families, "dashboard_sampler_interval_seconds") == 0.1
    assert value(families, "dashboard_start_time_seconds") == pytest.approx(health.started_at.timestamp())
    assert value(families, "dashboard_sampler_crashes_total") == 0
    parts = {s.labels["part"]: s.value for s in families["dashboard_exposition_part_ok"].samples}
    assert parts == dict.fromkeys(("host", "components", "agents", "alerts", "tests", "workflows", "dashboard"), 1.0)


def test_a_part_that_fails_is_reported_and_the_rest_still_exported(
    system: Runtime, scrape, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> list:
        raise RuntimeError("the agent registry is gone")

    monkeypatch.setattr(system.agents, "agents", broken)
    families = scrape()
    assert value(families, "dashboard_exposition_part_ok", part="agents") == 0
    assert value(families, "dashboard_exposition_part_ok", part="host") == 1
    assert "dashboard_agent_state" not in families
    assert "dashboard_cpu_total_percent" in families


def test_starting_answers_503_like_every_route() -> None:
    with TestClient(create_api(lambda: None)) as client:
        response = client.get("/metrics")
    assert response.status_code == 503
    assert response.json()["success"] is False and "not running yet" in response.json()["message"]


def test_each_app_has_its_own_registry(system: Runtime) -> None:
    """Nothing goes to prometheus_client's global registry, so two apps (or a test
    and a server) in one process never collide."""
    create_api(lambda: system)
    create_api(lambda: system)
    assert b"dashboard_" not in prometheus_client.generate_latest(prometheus_client.REGISTRY)


def test_metric_names_are_unique_across_the_field_table(system: Runtime) -> None:
    names = [metric_name(f) for f in system.fields]
    assert len(names) == len(set(names))
    assert all(VALID_NAME.match(n) for n in names)
    # Gauges all: none may end in a suffix Prometheus keeps for counters, summaries and histograms.
    assert [n for n in names if n.endswith(("_total", "_count", "_sum", "_bucket"))] == []


@needs_promtool
def test_promtool_check_metrics_passes_with_no_lint(system: Runtime) -> None:
    """Counters end in ``_total``, no gauge ends in ``_count`` (a summary's or a
    histogram's), units are in the names: Prometheus' linter finds nothing."""
    with TestClient(create_api(lambda: system)) as client:
        text = client.get("/metrics").text
    assert "dashboard_watch_" in text and "dashboard_cpu_total_percent" in text  # a full exposition
    assert_promtool_clean(text)
