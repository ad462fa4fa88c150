"""The agent registry with a real store and an injected clock: online, offline
after the TTL, missing, events for each change, and memory across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard_core.config import Config
from dashboard_core.events import EventLog
from dashboard_core.health.agents import AgentRegistry
from dashboard_core.models import AgentState, EventKind, HeartbeatRequest, Severity
from dashboard_core.store import Store, open_store
from tests.clock import Clock


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path)
    yield s
    s.close()


def registry(store: Store, clock: Clock) -> tuple[AgentRegistry, EventLog]:
    config = Config.model_validate({"agents": {"ttl_seconds": 30, "expected": ["researcher-1", "never-comes"]}})
    events = EventLog(store, clock=clock)
    reg = AgentRegistry(config, store, events, clock=clock)
    reg.load()
    return reg, events


def states(reg: AgentRegistry) -> dict[str, AgentState]:
    return {a.name: a.state for a in reg.agents()}


def test_heartbeats_ttl_and_missing(store: Store) -> None:
    clock = Clock()
    reg, events = registry(store, clock)
    assert states(reg) == {"researcher-1": AgentState.MISSING, "never-comes": AgentState.MISSING}
    beat = HeartbeatRequest(status="busy", role="literature review", task="reading", metrics={"papers_read": 3})
    info = reg.heartbeat("researcher-1", beat)
    assert info.state is AgentState.ONLINE and info.metrics == {"papers_read": 3} and info.expected
    reg.heartbeat("helper-x", HeartbeatRequest())  # not expected: joins anyway, listed after the expected ones
    assert list(states(reg)) == ["researcher-1", "never-comes", "helper-x"]
    assert reg.overview().online == 2 and reg.overview().total == 3

    clock.now += 31
    assert states(reg)["researcher-1"] is AgentState.OFFLINE
    clock.now += 1
    reg.heartbeat("researcher-1", HeartbeatRequest(task="writing"))
    assert states(reg)["researcher-1"] is AgentState.ONLINE
    kept = reg.agent("researcher-1")
    assert kept is not None and kept.role == "literature review" and kept.task == "writing"  # left out: kept
    assert kept.metrics == {"papers_read": 3}
    reg.heartbeat("researcher-1", HeartbeatRequest(task=None))
    assert reg.agent("researcher-1").task is None  # type: ignore[union-attr]  # an explicit null clears

    agent_events = [(e.source, e.data["to"], e.severity) for e in reversed(events.latest(kinds=[EventKind.AGENT]))]
    assert agent_events == [
        ("researcher-1", "online", Severity.INFO),
        ("helper-x", "online", Severity.INFO),
        ("researcher-1", "offline", Severity.WARNING),
        ("helper-x", "offline", Severity.WARNING),
        ("researcher-1", "online", Severity.INFO),
    ]
    assert "no heartbeat for 31 s (TTL 30 s)" in events.latest(kinds=[EventKind.AGENT], source="researcher-1")[1].message
    assert "back after being offline" in events.latest(source="researcher-1")[0].message


def test_a_restarted_registry_remembers_without_new_events(store: Store) -> None:
    clock = Clock()
    reg, events = registry(store, clock)
    reg.heartbeat("researcher-1", HeartbeatRequest(role="reviewer"))
    count = events.last_id
    clock.now += 100
    again, _ = registry(store, clock)
    agent = again.agent("researcher-1")
    assert agent is not None and agent.state is AgentState.OFFLINE and agent.role == "reviewer"
    assert agent.first_seen is not None and agent.last_seen is not None
    assert events.last_id == count  # loading is not a change of state
