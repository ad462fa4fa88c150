"""The alert engine on crafted samples and states, with an injected clock, and
once on the live sampler of a real Runtime."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import Config, load_config
from dashboard_core.events import EventLog
from dashboard_core.health.alerts import RESTART_NOTE, AlertEngine
from dashboard_core.metrics.frame import RollingFrame, Rows
from dashboard_core.models import (
    AgentInfo,
    AgentState,
    AlertState,
    ComponentState,
    EventKind,
    RunCounts,
    RunInfo,
    RunStatus,
    Severity,
    Trigger,
)
from dashboard_core.store import Store, open_store
from tests.clock import Clock
from tests.polling import wait_until

T0 = 1_800_000_000.0  # 2027-01-15, a whole second
S = 1_000_000_000


def at(offset: float) -> datetime:
    return datetime.fromtimestamp(T0 + offset, UTC)


class Inputs:
    """What the Runtime would provide: a real rolling frame, plus component
    states, agents and suite runs as plain data the test sets."""

    def __init__(self) -> None:
        self.frame = RollingFrame(10_000)
        self.components: dict[str, ComponentState] = {}
        self.agent_list: list[AgentInfo] = []
        self.runs: dict[str, RunInfo] = {}

    def add(self, offset: float, **values: float) -> None:
        """One sample at T0 + offset; keyword ``disk_root`` names column ``disk.percent[/]`` (see COLUMNS)."""
        self.frame.append(int(round((T0 + offset) * S)), {COLUMNS.get(k, k): v for k, v in values.items()})

    def cpu(self, start: float, *values: float, step: float = 1.0) -> None:
        for i, value in enumerate(values):
            self.add(start + i * step, cpu=value)

    def samples(self, start_ns: int, end_ns: int) -> Rows:
        return self.frame.rows(start_ns, end_ns)

    def component_state(self, name: str) -> ComponentState | None:
        return self.components.get(name)

    def agents(self) -> list[AgentInfo]:
        return list(self.agent_list)

    def last_full_run(self, suite: str) -> RunInfo | None:
        return self.runs.get(suite)


COLUMNS = {"cpu": "cpu.total", "root": "disk.percent[/]", "data": "disk.percent[/data]"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path)
    yield store
    store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def events(store: Store, clock: Clock) -> EventLog:
    return EventLog(store, clock=clock)


@pytest.fixture
def inputs() -> Inputs:
    return Inputs()


EngineFactory = Callable[..., AlertEngine]


@pytest.fixture
def engine_for(store: Store, events: EventLog, inputs: Inputs, clock: Clock) -> Iterator[EngineFactory]:
    """``engine_for(("name", "rule", "severity"), ..., **config)``: an engine over the fixtures."""
    made: list[AlertEngine] = []

    def make(*rules: tuple[str, ...], **config: Any) -> AlertEngine:
        alerts = [dict(zip(("name", "rule", "severity"), r)) for r in rules]
        cfg = Config.model_validate({"alerts": alerts, **config})
        engine = AlertEngine(cfg, store, events, inputs, clock=clock)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.stop()


def evaluate(engine: AlertEngine, clock: Clock, offset: float) -> dict[str, Any]:
    clock.now = T0 + offset
    return {s.name: s for s in engine.evaluate()}


def alert_events(events: EventLog) -> list[tuple[str, Severity, str]]:
    return [(e.source, e.severity, e.message) for e in reversed(events.latest(100, kinds=[EventKind.ALERT]))]


# -- metric rules ---------------------------------------------------------------------
def test_a_metric_rule_goes_ok_pending_firing_resolved(
    engine_for: EngineFactory, inputs: Inputs, clock: Clock, events: EventLog, store: Store
) -> None:
    engine = engine_for(("cpu-high", "cpu.total > 90 for 5s", "critical"))
    inputs.cpu(0, 50)
    status = evaluate(engine, clock, 0.5)["cpu-high"]
    assert (status.state, status.value, status.since) == (AlertState.OK, 50.0, None)
    assert status.message == "cpu.total is 50.0 % (not > 90)"

    inputs.cpu(1, 95, 96, 97)  # t = 1, 2, 3
    status = evaluate(engine, clock, 3.5)["cpu-high"]
    assert (status.state, status.since, status.value) == (AlertState.PENDING, at(1), 97.0)
    assert status.message == "cpu.total is 97.0 % (> 90) for 2 s of 5 s"
    assert engine.report().status == "safe"
    assert engine.history() == []

    inputs.cpu(4, 99, 92, 93)  # t = 4, 5, 6: held from 1 to 6
    status = evaluate(engine, clock, 6.5)["cpu-high"]
    assert (status.state, status.since) == (AlertState.FIRING, at(6))
    assert status.message == "cpu.total is 93.0 % (> 90) for 5 s"
    report = engine.report()
    assert report.status == "critical"
    [firing] = report.firing
    assert (firing.began_at, firing.fired_at, firing.ended_at) == (at(1), at(6), None)
    assert (firing.min, firing.max, firing.mean) == (92.0, 99.0, pytest.approx((95 + 96 + 97 + 99 + 92 + 93) / 6))
    [row] = engine.history()
    assert (row.id, row.state, row.began_at, row.fired_at, row.max) == (firing.id, AlertState.FIRING, at(1), at(6), 99)

    inputs.cpu(7, 98)  # still firing: the interval's statistics grow
    evaluate(engine, clock, 7.5)
    [row] = engine.history()
    assert (row.state, row.max, row.mean) == (AlertState.FIRING, 99.0, pytest.approx(670 / 7))

    inputs.cpu(8, 40, 50)  # t = 8 ends it
    status = evaluate(engine, clock, 9.5)["cpu-high"]
    assert (status.state, status.since, status.value) == (AlertState.RESOLVED, at(8), 50.0)
    assert status.message == "cpu.total is 50.0 % (not > 90)"
    [row] = engine.history()
    assert (row.state, row.began_at, row.fired_at, row.ended_at) == (AlertState.RESOLVED, at(1), at(6), at(8))
    assert (row.min, row.max, row.mean) == (92.0, 99.0, pytest.approx(670 / 7))
    assert row.message == "cpu.total is 93.0 % (> 90) for 5 s"
    assert engine.report().status == "safe" and engine.report().firing == []

    inputs.cpu(10, 60)  # resolved is kept until the condition holds again
    assert evaluate(engine, clock, 10.5)["cpu-high"].state is AlertState.RESOLVED
    inputs.cpu(11, 91)
    assert evaluate(engine, clock, 11.5)["cpu-high"].state is AlertState.PENDING

    assert alert_events(events) == [
        ("cpu-high", Severity.CRITICAL, "cpu-high is firing: cpu.total is 93.0 % (> 90) for 5 s"),
        ("cpu-high", Severity.INFO, "cpu-high resolved after 7 s: cpu.total is 40.0 % (not > 90)"),
    ]
    fired = events.latest(100, kinds=[EventKind.ALERT])[-1]
    assert fired.data["id"] == row.id and fired.data["state"] == "firing"
    assert store.one("SELECT COUNT(*) FROM alerts")[0] == 1


def test_every_sample_between_evaluations_counts(
    engine_for: EngineFactory, inputs: Inputs, clock: Clock, events: EventLog
) -> None:
    engine = engine_for(("cpu-high", "cpu.total >= 90 for 2s"))
    inputs.cpu(0, 90, 91, 92)
    assert evaluate(engine, clock, 2)["cpu-high"].state is AlertState.FIRING
    # A dip between two evaluations resolves the alert, and the next high sample
    # starts a new pending interval, though the newest value looks like a firing one.
    inputs.cpu(3, 95, 10, 95, 96)
    status = evaluate(engine, clock, 6)["cpu-high"]
    assert (status.state, status.since, status.value) == (AlertState.PENDING, at(5), 96.0)
    [row] = engine.history()
    assert (row.ended_at, row.min, row.max) == (at(4), 90.0, 95.0)
    inputs.cpu(7, 97)
    assert evaluate(engine, clock, 7)["cpu-high"].state is AlertState.FIRING
    second, first = engine.history()
    assert (second.began_at, second.fired_at, second.min, second.max) == (at(5), at(7), 95.0, 97.0)
    assert engine.history(limit=1) == [second]
    assert engine.history(rule="other") == []
    assert [e[1] for e in alert_events(events)] == [Severity.WARNING, Severity.INFO, Severity.WARNING]


def test_a_gap_in_the_samples_means_not_yet(engine_for: EngineFactory, inputs: Inputs, clock: Clock) -> None:
    engine = engine_for(("cpu-high", "cpu.total > 90 for 5s"))  # gaps: samples over 5 s apart
    inputs.cpu(0, 95, 95, 95, 95)
    assert evaluate(engine, clock, 3)["cpu-high"].state is AlertState.PENDING
    inputs.cpu(20, 95, 95, 95, 95, 95)  # 17 s without samples: the count starts again at 20
    status = evaluate(engine, clock, 24)["cpu-high"]
    assert status.state is AlertState.PENDING
    assert status.message == "cpu.total is 95.0 % (> 90) for 4 s of 5 s"
    inputs.cpu(25, 95)
    assert evaluate(engine, clock, 25)["cpu-high"].state is AlertState.FIRING
    [row] = engine.history()
    assert (row.began_at, row.fired_at) == (at(20), at(25))


def test_an_empty_reading_restarts_the_count_and_stale_data_is_said(
    engine_for: EngineFactory, inputs: Inputs, clock: Clock
) -> None:
    engine = engine_for(("cpu-high", "cpu.total > 90 for 3s"))
    inputs.cpu(0, math.nan, 95, 95, math.nan, 95, 95, 95)
    status = evaluate(engine, clock, 6)["cpu-high"]
    assert (status.state, status.message) == (AlertState.PENDING, "cpu.total is 95.0 % (> 90) for 2 s of 3 s")
    status = evaluate(engine, clock, 16)["cpu-high"]  # no new samples for 10 s: still only pending
    assert status.state is AlertState.PENDING
    assert status.message == "cpu.total is 95.0 % (> 90) for 2 s of 3 s; no reading for 10 s"


def test_no_samples_yet(engine_for: EngineFactory, inputs: Inputs, clock: Clock) -> None:
    engine = engine_for(("load", "load.1 > 4"))
    status = evaluate(engine, clock, 0)["load"]
    assert (status.state, status.value, status.message) == (AlertState.OK, None, "no samples of load.1 yet")
    inputs.add(1, **{"load.1": math.nan})
    assert evaluate(engine, clock, 1)["load"].message == "no readings of load.1 yet"


def test_the_first_evaluation_reads_back_over_the_duration(
    engine_for: EngineFactory, inputs: Inputs, clock: Clock
) -> None:
    engine = engine_for(("cpu-high", "cpu.total > 90 for 5s"))
    inputs.cpu(0, *[95] * 30)  # held for 29 s before the engine first looks
    status = evaluate(engine, clock, 29)["cpu-high"]
    assert status.state is AlertState.FIRING
    [row] = engine.history()
    # It reads the duration plus the gap allowance back (5 s + 5 s), no further.
    assert (row.began_at, row.fired_at) == (at(19), at(24))


def test_a_labelled_field_without_a_label_watches_every_column(
    engine_for: EngineFactory, inputs: Inputs, clock: Clock
) -> None:
    engine = engine_for(
        ("any-disk", "disk.percent > 90 for 2s", "critical"),
        ("root-disk", "disk.percent[/] > 90 for 2s"),
        ("data-low", "disk.percent < 50"),
    )
    inputs.add(0, root=40, data=91)
    inputs.add(1, root=45, data=93)
    inputs.add(2, root=42, data=92)
    statuses = evaluate(engine, clock, 2)
    assert statuses["any-disk"].state is AlertState.FIRING
    assert statuses["any-disk"].message == "disk.percent[/data] is 92.0 % (> 90) for 2 s"
    assert statuses["any-disk"].value == 92.0
    assert statuses["root-disk"].state is AlertState.OK
    assert statuses["root-disk"].message == "disk.percent[/] is 42.0 % (not > 90)"
    assert statuses["data-low"].state is AlertState.FIRING  # / is below 50: the lowest column counts
    assert statuses["data-low"].message == "disk.percent[/] is 42.0 % (< 50) for 2 s"
    [data_low, any_disk] = engine.history()
    assert (any_disk.rule, any_disk.min, any_disk.max) == ("any-disk", 91.0, 93.0)
    assert (data_low.rule, data_low.began_at, data_low.min, data_low.max) == ("data-low", at(0), 40.0, 45.0)
    assert engine.report().status == "critical"
    # A column that appears later is watched too; one that fails alone is no gap.
    inputs.add(3, root=96, data=40)
    inputs.add(4, root=97, data=math.nan)
    statuses = evaluate(engine, clock, 4)
    assert statuses["any-disk"].state is AlertState.FIRING
    assert statuses["any-disk"].message == "disk.percent[/] is 97.0 % (> 90) for 4 s"
    assert statuses["root-disk"].state is AlertState.PENDING


# -- component, agent and suite rules ---------------------------------------------------
def test_component_rules(engine_for: EngineFactory, inputs: Inputs, clock: Clock, events: EventLog) -> None:
    engine = engine_for(
        ("orch-down", "component orchestrator down for 1m", "critical"),
        ("orch-unhealthy", "component orchestrator unhealthy for 1m"),
        components=[{"name": "orchestrator", "check": {"type": "tcp", "port": 9}}],
    )
    status = evaluate(engine, clock, 0)["orch-down"]
    assert (status.state, status.message) == (AlertState.OK, "no state for component orchestrator yet")
    inputs.components["orchestrator"] = ComponentState.DEGRADED
    statuses = evaluate(engine, clock, 10)
    assert statuses["orch-down"].state is AlertState.OK
    assert statuses["orch-down"].message == "component orchestrator is degraded"
    assert statuses["orch-unhealthy"].state is AlertState.PENDING
    inputs.components["orchestrator"] = ComponentState.DOWN
    statuses = evaluate(engine, clock, 40)
    assert statuses["orch-down"].message == "component orchestrator is down for 0 s of 1 min 0 s"
    assert statuses["orch-unhealthy"].message == "component orchestrator is down for 30 s of 1 min 0 s"
    statuses = evaluate(engine, clock, 70)  # degraded then down: unhealthy all along
    assert (statuses["orch-unhealthy"].state, statuses["orch-down"].state) == (AlertState.FIRING, AlertState.PENDING)
    del inputs.components["orchestrator"]  # the monitor cannot tell: nothing changes
    assert evaluate(engine, clock, 90)["orch-down"].state is AlertState.PENDING
    inputs.components["orchestrator"] = ComponentState.DOWN
    statuses = evaluate(engine, clock, 100)
    assert statuses["orch-down"].state is AlertState.FIRING
    assert engine.report().status == "critical"
    inputs.components["orchestrator"] = ComponentState.HEALTHY
    statuses = evaluate(engine, clock, 130)
    assert {s.state for s in statuses.values()} == {AlertState.RESOLVED}
    down, unhealthy = engine.history()
    assert (unhealthy.began_at, unhealthy.fired_at, unhealthy.ended_at) == (at(10), at(70), at(130))
    assert (down.began_at, down.fired_at, down.ended_at) == (at(40), at(100), at(130))
    assert (down.min, down.max, down.mean) == (None, None, None)
    assert [e for e in alert_events(events) if e[0] == "orch-down"][-1] == (
        "orch-down",
        Severity.INFO,
        "orch-down resolved after 1 min 30 s: component orchestrator is healthy",
    )


def agent(name: str, state: AgentState, **extra: Any) -> AgentInfo:
    return AgentInfo(name=name, state=state, **extra)


def test_agent_rules(engine_for: EngineFactory, inputs: Inputs, clock: Clock) -> None:
    engine = engine_for(
        ("any-offline", "agent offline for 30s"),
        ("w1-gone", "agent worker-1 unavailable"),
        ("w2-missing", "agent worker-2 missing"),
        agents={"expected": ["worker-1", "worker-2"]},
    )
    inputs.agent_list = [agent("worker-1", AgentState.ONLINE), agent("helper", AgentState.ONLINE)]
    statuses = evaluate(engine, clock, 0)
    assert statuses["any-offline"].message == "none of 2 agents is offline"
    assert (statuses["w1-gone"].state, statuses["w1-gone"].message) == (AlertState.OK, "agent worker-1 is online")
    # Never heard of: missing.
    assert (statuses["w2-missing"].state, statuses["w2-missing"].message) == (
        AlertState.FIRING,
        "agent worker-2 is missing",
    )
    inputs.agent_list = [
        agent("worker-1", AgentState.OFFLINE, last_seen=at(-40)),
        agent("helper", AgentState.OFFLINE),
        agent("worker-2", AgentState.ONLINE),
    ]
    statuses = evaluate(engine, clock, 10)
    assert statuses["w1-gone"].state is AlertState.FIRING
    assert statuses["w1-gone"].message == "agent worker-1 is offline, last seen 2027-01-15 07:59:20 UTC"
    assert statuses["w2-missing"].state is AlertState.RESOLVED
    assert statuses["any-offline"].state is AlertState.PENDING
    assert statuses["any-offline"].value == 2.0
    assert statuses["any-offline"].message == "2 agents offline: helper, worker-1 for 0 s of 30 s"
    statuses = evaluate(engine, clock, 40)
    assert statuses["any-offline"].state is AlertState.FIRING
    inputs.agent_list = [agent("worker-1", AgentState.ONLINE)]
    assert evaluate(engine, clock, 50)["any-offline"].state is AlertState.RESOLVED


def run(run_id: int, status: RunStatus) -> RunInfo:
    return RunInfo(
        id=run_id,
        suite="demo",
        trigger=Trigger.API,
        status=status,
        queued_at=at(0),
        ended_at=at(60),
        counts=RunCounts(passed=7, failed=1 if status is RunStatus.FAILED else 0),
    )


def test_suite_rules(engine_for: EngineFactory, inputs: Inputs, clock: Clock) -> None:
    engine = engine_for(("demo-red", "suite demo failed"), suites=[{"name": "demo"}])
    status = evaluate(engine, clock, 0)["demo-red"]
    assert (status.state, status.message) == (AlertState.OK, "suite demo has no finished run yet")
    inputs.runs["demo"] = run(1, RunStatus.FAILED)
    status = evaluate(engine, clock, 100)["demo-red"]
    assert status.state is AlertState.FIRING
    assert status.message == "the last run of demo (#1, ended 2027-01-15 08:01:00 UTC) failed: 1 failed, 7 passed"
    inputs.runs["demo"] = run(2, RunStatus.CANCELLED)  # says nothing about the tests: keeps firing
    status = evaluate(engine, clock, 200)["demo-red"]
    assert status.state is AlertState.FIRING
    assert "was cancelled; the rule keeps its state" in status.message
    inputs.runs["demo"] = run(3, RunStatus.PASSED)
    assert evaluate(engine, clock, 300)["demo-red"].state is AlertState.RESOLVED
    for failing in (RunStatus.ERROR, RunStatus.TIMED_OUT):
        inputs.runs["demo"] = run(4, failing)
        assert evaluate(engine, clock, 400)["demo-red"].state is AlertState.FIRING
        inputs.runs["demo"] = run(5, RunStatus.PASSED)
        assert evaluate(engine, clock, 500)["demo-red"].state is AlertState.RESOLVED
    assert len(engine.history()) == 3


# -- the report, the store, restarts ------------------------------------------------------
def test_the_report_is_as_bad_as_the_worst_firing_rule(engine_for: EngineFactory, inputs: Inputs, clock: Clock) -> None:
    engine = engine_for(
        ("load-high", "load.1 > 4", "warning"),
        ("cpu-high", "cpu.total > 90", "critical"),
    )
    inputs.add(0, cpu=10, **{"load.1": 1})
    assert engine.report().status == "safe" and engine.report().rules[0].state is AlertState.OK
    evaluate(engine, clock, 0)
    report = engine.report()
    assert (report.status, report.firing) == ("safe", [])
    assert [(r.name, r.rule, r.severity) for r in report.rules] == [
        ("load-high", "load.1 > 4", Severity.WARNING),
        ("cpu-high", "cpu.total > 90", Severity.CRITICAL),
    ]
    inputs.add(1, cpu=10, **{"load.1": 5})
    evaluate(engine, clock, 1)
    assert engine.report().status == "warning"
    inputs.add(2, cpu=95, **{"load.1": 5})
    evaluate(engine, clock, 2)
    report = engine.report()
    assert report.status == "critical"
    assert [a.rule for a in report.firing] == ["cpu-high", "load-high"]  # critical first
    assert report.rules[0].message == "load.1 is 5.00 (> 4) for 1 s"


def test_a_restart_closes_alerts_left_firing(
    engine_for: EngineFactory, inputs: Inputs, clock: Clock, events: EventLog, store: Store
) -> None:
    first = engine_for(("cpu-high", "cpu.total > 90"), ("gone", "load.1 > 4"))
    inputs.add(0, cpu=95, **{"load.1": 9})
    evaluate(first, clock, 0)
    assert {a.rule for a in first.firing()} == {"cpu-high", "gone"}
    # The process dies here; the next one (without the rule 'gone') starts.
    clock.now = T0 + 600
    second = engine_for(("cpu-high", "cpu.total > 90"), alerting={"interval_seconds": 0.1})
    second.start()
    gone, cpu = second.history()
    for row in (gone, cpu):
        assert row.state is AlertState.RESOLVED
        assert row.ended_at == at(600)
        assert row.message.endswith(RESTART_NOTE)
    assert cpu.message == f"cpu.total is 95.0 % (> 90); {RESTART_NOTE}"
    assert "restarted" in RESTART_NOTE
    restarted = [e for e in alert_events(events) if "restarted" in e[2]]
    assert restarted == [
        ("cpu-high", Severity.INFO, f"cpu-high: {RESTART_NOTE}"),
        ("gone", Severity.INFO, f"gone: {RESTART_NOTE}"),
    ]
    second.stop()
    assert store.one("SELECT COUNT(*) FROM alerts WHERE state = 'firing'")[0] == 0


def test_the_thread_evaluates_on_its_own(engine_for: EngineFactory, inputs: Inputs, clock: Clock) -> None:
    engine = engine_for(("cpu-high", "cpu.total > 90"), alerting={"interval_seconds": 0.1})
    engine.start()
    inputs.add(0, cpu=99)
    wait_until(lambda: engine.report().status == "warning", timeout=10, what="the rule to fire")
    engine.stop()
    assert engine.last_evaluated == at(0)


# -- the live sampler ---------------------------------------------------------------------
class RuntimeInputs:
    """The Runtime's samples; no components, agents or runs in this test."""

    def __init__(self, runtime: runtime_module.Runtime) -> None:
        self.runtime = runtime

    def samples(self, start_ns: int, end_ns: int) -> Rows:
        return self.runtime.frame.rows(start_ns, end_ns)

    def component_state(self, name: str) -> ComponentState | None:
        return None

    def agents(self) -> list[AgentInfo]:
        return []

    def last_full_run(self, suite: str) -> RunInfo | None:
        return None


def test_a_rule_fires_on_the_live_sampler(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.toml"
    path.write_text(
        """
[sampler]
interval_seconds = 0.1
history_hours = 1

[storage]
data_dir = "data"

[alerting]
interval_seconds = 0.2

[[alerts]]
name = "always"
rule = "cpu.total >= 0 for 1s"
severity = "critical"
""",
        encoding="utf-8",
    )
    config = load_config(path)
    with runtime_module.running(config) as rt:
        engine = AlertEngine(config, rt.store, EventLog(rt.store), RuntimeInputs(rt), fields=rt.fields)
        engine.start()
        try:
            report = wait_until(
                lambda: (r := engine.report()).status == "critical" and r, timeout=30, what="the rule to fire"
            )
        finally:
            engine.stop()
    [alert] = report.firing
    assert alert.fired_at is not None
    assert (alert.fired_at - alert.began_at).total_seconds() >= 1.0
    assert alert.min is not None and alert.min >= 0 and alert.max is not None and alert.max <= 100
    assert report.rules[0].message.startswith("cpu.total is ")
    assert (tmp_path / "data" / "dashboard.sqlite3").exists()


def test_a_rule_pending_that_never_fires_leaves_a_pending_mark(
    engine_for: EngineFactory, inputs: Inputs, clock: Clock, store: Store
) -> None:
    """Pending, then not: no alert in the history, but a grey pending span on the time
    axis; holding again on and off soon after stretches that one span."""
    from dashboard_core.timeline.marks import GREY, MarkKind, marks_between

    engine = engine_for(("cpu-high", "cpu.total > 90 for 5s", "critical"))
    inputs.cpu(0, 50, 95, 96, 40)  # pending from t=1, not any more at t=3
    assert evaluate(engine, clock, 3.5)["cpu-high"].state is AlertState.OK
    assert engine.history() == []

    [mark] = marks_between(store, at(0), at(10), [MarkKind.ALERT], at(10)).marks
    assert (mark.state, mark.start, mark.end, mark.colour, mark.ongoing) == ("pending", at(1), at(3), GREY, False)
    assert mark.label == "Alert cpu-high (critical): pending 2 s, did not fire", mark.label
    assert mark.detail == "pending 2 s of 5 s; it did not fire"

    inputs.cpu(4, 97, 30)  # again at t=4, within the rule's duration of the last: the same span, longer
    evaluate(engine, clock, 5.5)
    [mark] = marks_between(store, at(0), at(10), [MarkKind.ALERT], at(10)).marks
    assert (mark.state, mark.start, mark.end) == ("pending", at(1), at(5))
    assert store.one("SELECT COUNT(*) FROM alerts")[0] == 1

    inputs.cpu(6, 91, 92, 93, 94, 95, 96)  # then it fires: a firing of its own, the pending span stays
    assert evaluate(engine, clock, 11.5)["cpu-high"].state is AlertState.FIRING
    marks = marks_between(store, at(0), at(20), [MarkKind.ALERT], at(20)).marks
    assert [(m.state, m.start) for m in marks] == [("pending", at(1)), ("firing", at(6))]
    assert [a.state for a in engine.history()] == [AlertState.FIRING]
