"""The whole dashboard in the Prometheus text format, for ``GET /api/metrics``.

One :class:`DashboardCollector` per API app, registered in a registry of its
own (never prometheus_client's global default, so two apps in one process, or a
test, never see each other's metrics). It reads the Runtime at scrape time:
nothing is copied or kept between scrapes. It sits above the Runtime (it reads
every part of it); the naming rules of the host metrics are
:mod:`dashboard_core.metrics.exposition`.

- States are one-hot gauges with a ``state`` label (every state present, the
  current one 1), so ``dashboard_component_state{state="down"} == 1`` works
  as an alert and the series do not appear and vanish as states change.
- Times are seconds: latencies ``_seconds``, moments ``_timestamp_seconds``
  (Unix time), costs ``..._cpu_seconds``.

Each part (host, components, agents, alerts, tests, workflows, the dashboard
itself) is read on its own: one that raises is logged and reported as
``dashboard_exposition_part_ok{part="..."} 0`` while the others are still
exported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import psutil
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dashboard_core import __version__
from dashboard_core.logonce import recovered, warn_once
from dashboard_core.metrics.exposition import NAMESPACE, host_families
from dashboard_core.metrics.remote_push import push_health
from dashboard_core.models import AgentState, AlertState, ComponentState, RemotePushHealth, RunStatus, WorkflowStatus
from dashboard_core.runtime import Runtime

log = logging.getLogger(__name__)

RuntimeGetter = Callable[[], Runtime | None]


def _ts(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _one_hot(
    family: GaugeMetricFamily, labels: list[str], states: Iterable[str], current: str | None
) -> GaugeMetricFamily:
    for state in states:
        family.add_metric([*labels, state], 1.0 if state == current else 0.0)
    return family


# The finished states a "last run" can be in (queued and running never are).
FINISHED_RUN_STATES = [s.value for s in RunStatus if s.finished]
FINISHED_WORKFLOW_STATES = [s.value for s in WorkflowStatus if s.finished]
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


class DashboardCollector(Collector):
    """Reads the Runtime each time Prometheus (or anyone) scrapes."""

    def __init__(self, get_runtime: RuntimeGetter) -> None:
        self._get_runtime = get_runtime
        self._process = psutil.Process()

    def describe(self) -> list[Metric]:
        """Nothing up front: the families depend on the config and the machine,
        and registering must not read a Runtime that may not exist yet."""
        return []

    def collect(self) -> Iterator[Metric]:
        rt = self._get_runtime()
        if rt is None:
            return
        parts: list[tuple[str, Callable[[Runtime], list[Metric]]]] = [
            ("host", self._host),
            ("components", self._components),
            ("agents", self._agents),
            ("alerts", self._alerts),
            ("tests", self._tests),
            ("workflows", self._workflows),
            ("dashboard", self._dashboard),
        ]
        ok = GaugeMetricFamily(
            f"{NAMESPACE}_exposition_part_ok",
            "1 if this part of the dashboard could be read for this scrape, 0 if it failed (see the server log)",
            labels=["part"],
        )
        for part, read in parts:
            key = f"exposition:{part}"
            try:
                families = read(rt)
            except Exception as exc:  # noqa: BLE001 - one broken part must not hide the rest
                warn_once(log, key, "The %s metrics cannot be exported: %s", part, exc)
                ok.add_metric([part], 0.0)
                continue
            recovered(log, key, "The %s metrics can be exported again", part)
            ok.add_metric([part], 1.0)
            yield from families
        yield ok

    # -- host and watched processes ---------------------------------------------------
    def _host(self, rt: Runtime) -> list[Metric]:
        latest = rt.latest()
        stamp = GaugeMetricFamily(
            f"{NAMESPACE}_sample_timestamp_seconds",
            "When the newest host sample was taken (Unix time); the other host metrics are its readings",
        )
        if latest is None:
            return [stamp]
        stamp.add_metric([], latest.timestamp.timestamp())
        return [*host_families(latest.values, rt.fields), stamp]

    # -- components -------------------------------------------------------------------
    def _components(self, rt: Runtime) -> list[Metric]:
        up = GaugeMetricFamily(
            f"{NAMESPACE}_component_up",
            "1 if the component answers (healthy or degraded), 0 if it is down or not checked yet",
            labels=["component"],
        )
        state = GaugeMetricFamily(
            f"{NAMESPACE}_component_state",
            "The component's state, one-hot: 1 for the current state (unknown, healthy, degraded, down)",
            labels=["component", "state"],
        )
        latency = GaugeMetricFamily(
            f"{NAMESPACE}_component_latency_seconds",
            "How long the component's last check took",
            labels=["component"],
        )
        failures = GaugeMetricFamily(
            f"{NAMESPACE}_component_consecutive_failures",
            "Checks of the component that failed in a row",
            labels=["component"],
        )
        states = [s.value for s in ComponentState]
        for c in rt.health.statuses():
            up.add_metric([c.name], 1.0 if c.state in (ComponentState.HEALTHY, ComponentState.DEGRADED) else 0.0)
            _one_hot(state, [c.name], states, c.state.value)
            if c.latency_ms is not None:
                latency.add_metric([c.name], c.latency_ms / 1000.0)
            failures.add_metric([c.name], float(c.consecutive_failures))
        return [up, state, latency, failures]

    # -- agents -----------------------------------------------------------------------
    def _agents(self, rt: Runtime) -> list[Metric]:
        state = GaugeMetricFamily(
            f"{NAMESPACE}_agent_state",
            "The agent's state, one-hot: online, offline (no heartbeat within the TTL), missing (expected, never seen)",
            labels=["agent", "state"],
        )
        last_seen = GaugeMetricFamily(
            f"{NAMESPACE}_agent_last_heartbeat_timestamp_seconds",
            "When the agent's last heartbeat arrived (Unix time)",
            labels=["agent"],
        )
        reported = GaugeMetricFamily(
            f"{NAMESPACE}_agent_metric",
            "A numeric reading the agent sent with its last heartbeat",
            labels=["agent", "metric"],
        )
        states = [s.value for s in AgentState]
        for a in rt.agents.agents():
            _one_hot(state, [a.name], states, a.state.value)
            if a.last_seen is not None:
                last_seen.add_metric([a.name], a.last_seen.timestamp())
            for name, value in sorted(a.metrics.items()):
                reported.add_metric([a.name, name], float(value))
        return [state, last_seen, reported]

    # -- alerts (safety rules) --------------------------------------------------------
    def _alerts(self, rt: Runtime) -> list[Metric]:
        state = GaugeMetricFamily(
            f"{NAMESPACE}_alert_state",
            "The safety rule's state, one-hot: ok, pending, firing, resolved",
            labels=["rule", "severity", "state"],
        )
        value = GaugeMetricFamily(
            f"{NAMESPACE}_alert_value",
            "The value the safety rule saw last, when it is numeric",
            labels=["rule"],
        )
        firing = GaugeMetricFamily(
            f"{NAMESPACE}_alerts_firing",
            "Safety rules firing now, by severity",
            labels=["severity"],
        )
        states = [s.value for s in AlertState]
        counts = {"warning": 0, "critical": 0}
        for r in rt.alerts.statuses():
            _one_hot(state, [r.name, r.severity.value], states, r.state.value)
            if r.value is not None:
                value.add_metric([r.name], float(r.value))
            if r.state is AlertState.FIRING:
                counts[r.severity.value] = counts.get(r.severity.value, 0) + 1
        for severity, n in counts.items():
            firing.add_metric([severity], float(n))
        return [state, value, firing]

    # -- test runs --------------------------------------------------------------------
    def _tests(self, rt: Runtime) -> list[Metric]:
        status = GaugeMetricFamily(
            f"{NAMESPACE}_test_run_last_status",
            "The status of the suite's newest finished run (re-runs of failed tests included), one-hot",
            labels=["suite", "status"],
        )
        duration = GaugeMetricFamily(
            f"{NAMESPACE}_test_run_last_duration_seconds",
            "Wall time of the suite's newest finished run",
            labels=["suite"],
        )
        tests = GaugeMetricFamily(
            f"{NAMESPACE}_test_run_last_tests",
            "Tests in the suite's newest finished run, by outcome",
            labels=["suite", "outcome"],
        )
        ended = GaugeMetricFamily(
            f"{NAMESPACE}_test_run_last_timestamp_seconds",
            "When the suite's newest finished run ended (Unix time)",
            labels=["suite"],
        )
        active = GaugeMetricFamily(
            f"{NAMESPACE}_test_runs_active",
            "Runs of the suite queued or running now",
            labels=["suite"],
        )
        for suite in rt.tests.suites():
            active.add_metric([suite.name], 1.0 if suite.active_run is not None else 0.0)
            run = suite.last_run
            if run is None:
                continue
            _one_hot(status, [suite.name], FINISHED_RUN_STATES, run.status.value)
            if run.duration_seconds is not None:
                duration.add_metric([suite.name], run.duration_seconds)
            c = run.counts
            by_outcome = {
                "passed": c.passed,
                "failed": c.failed,
                "error": c.errors,
                "skipped": c.skipped,
                "xfailed": c.xfailed,
                "xpassed": c.xpassed,
            }
            for outcome in OUTCOMES:
                tests.add_metric([suite.name, outcome], float(by_outcome[outcome]))
            stamp = _ts(run.ended_at)
            if stamp is not None:
                ended.add_metric([suite.name], stamp)
        return [status, duration, tests, ended, active]

    # -- workflows --------------------------------------------------------------------
    def _workflows(self, rt: Runtime) -> list[Metric]:
        active = GaugeMetricFamily(
            f"{NAMESPACE}_workflow_runs_active",
            "Runs of the workflow going on now (services included)",
            labels=["workflow"],
        )
        status = GaugeMetricFamily(
            f"{NAMESPACE}_workflow_last_status",
            "The status of the workflow's newest finished run, one-hot",
            labels=["workflow", "status"],
        )
        duration = GaugeMetricFamily(
            f"{NAMESPACE}_workflow_last_duration_seconds",
            "Wall time of the workflow's newest finished run",
            labels=["workflow"],
        )
        ended = GaugeMetricFamily(
            f"{NAMESPACE}_workflow_last_timestamp_seconds",
            "When the workflow's newest finished run ended (Unix time)",
            labels=["workflow"],
        )
        for wf in rt.workflows.workflows().workflows:
            active.add_metric([wf.name], float(len(wf.active_runs)))
            run = wf.last_run
            if run is None:
                continue
            _one_hot(status, [wf.name], FINISHED_WORKFLOW_STATES, run.status.value)
            if run.duration_seconds is not None:
                duration.add_metric([wf.name], run.duration_seconds)
            stamp = _ts(run.ended_at)
            if stamp is not None:
                ended.add_metric([wf.name], stamp)
        return [active, status, duration, ended]

    # -- the dashboard's own cost -----------------------------------------------------
    def _dashboard(self, rt: Runtime) -> list[Metric]:
        health = rt.self_health()
        times = self._process.cpu_times()
        out: list[Metric] = []

        def gauge(name: str, doc: str, value: float | None) -> None:
            family = GaugeMetricFamily(f"{NAMESPACE}_{name}", doc)
            if value is not None:
                family.add_metric([], float(value))
            out.append(family)

        info = GaugeMetricFamily(f"{NAMESPACE}_build_info", "The dashboard's version; always 1", labels=["version"])
        info.add_metric([__version__], 1.0)
        out.append(info)
        cpu = CounterMetricFamily(
            f"{NAMESPACE}_process_cpu_seconds",
            "CPU time (user and system) the whole dashboard server process has used since it started",
        )
        cpu.add_metric([], times.user + times.system)
        out.append(cpu)
        gauge(
            "process_resident_memory_bytes",
            "Resident memory of the whole dashboard server process",
            health.process_rss,
        )
        gauge("start_time_seconds", "When the dashboard's runtime started (Unix time)", health.started_at.timestamp())
        gauge("sampler_running", "1 while the metric sampler's thread runs", 1.0 if health.sampler_running else 0.0)
        gauge(
            "sampler_interval_seconds",
            "Seconds between host samples (sampler.interval_seconds)",
            health.sampling_interval_seconds,
        )
        gauge(
            "sampler_cpu_seconds_per_sample",
            "CPU time of the sampler thread per host sample, averaged over the recent samples",
            None if health.sampler_cpu_ms_per_sample is None else health.sampler_cpu_ms_per_sample / 1000.0,
        )
        gauge(
            "process_scan_cpu_seconds",
            "CPU time of one full process-table scan, averaged over the recent scans",
            None if health.process_scan_cpu_ms is None else health.process_scan_cpu_ms / 1000.0,
        )
        gauge("samples_held", "Host samples held in memory", health.samples_held)
        gauge("samples_capacity", "Host samples the in-memory history can hold", health.capacity)
        gauge("history_span_seconds", "Time between the oldest and the newest sample held", health.history_span_seconds)
        crashes = CounterMetricFamily(
            f"{NAMESPACE}_sampler_crashes", "Times the sampler's loop crashed and was restarted"
        )
        crashes.add_metric([], float(health.sampler_crashes))
        out.append(crashes)
        failing = GaugeMetricFamily(
            f"{NAMESPACE}_metric_source_failing",
            "1 for each metric source whose last reading failed (its readings are missing)",
            labels=["source"],
        )
        for source in sorted(health.failing_sources):
            failing.add_metric([source], 1.0)
        out.append(failing)
        out += _remote_push(push_health(rt.remote_push))  # metrics out, when [remote_push] url is set
        return out


def _remote_push(push: RemotePushHealth | None) -> list[Metric]:
    """What the pusher to a time-series store (``[remote_push]``) sent and dropped; nothing without one."""
    if push is None:
        return []
    out: list[Metric] = []
    for name, doc, value in (
        ("remote_push_samples", "Host samples the remote store (remote_push.url) accepted", push.pushed_samples),
        ("remote_push_dropped_samples", "Host samples dropped unsent: the store was down", push.dropped_samples),
    ):
        counter = CounterMetricFamily(f"{NAMESPACE}_{name}", doc)
        counter.add_metric([], float(value))
        out.append(counter)
    pending = GaugeMetricFamily(f"{NAMESPACE}_remote_push_pending_samples", "Host samples waiting for the next push")
    pending.add_metric([], float(push.pending_samples))
    out.append(pending)
    return out


def build_registry(get_runtime: RuntimeGetter) -> CollectorRegistry:
    """A registry of its own holding one :class:`DashboardCollector`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DashboardCollector(get_runtime))
    return registry
