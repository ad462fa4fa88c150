"""The agent registry with a real store and an injected clock: online, offline
after the TTL, missing, events for each change, memory across restarts, and
letting go (agents offline too long are forgotten, an admin removes one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard_core.config import Config
from dashboard_core.events import EventLog
from dashboard_core.health.agents import MAX_AGENTS, AgentRegistry, ExpectedAgent, NoSuchAgent, TooManyAgents
from dashboard_core.models import AgentState, EventKind, HeartbeatRequest, Severity
from dashboard_core.store import Store, open_store
from tests.clock import Clock
from tests.polling import wait_until


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path)
    yield s
    s.close()


FORGET_HOURS = 2.0
GONE_AFTER = 30 + FORGET_HOURS * 3600  # the TTL, then offline for longer than forget_after_hours


def registry(store: Store, clock: Clock) -> tuple[AgentRegistry, EventLog]:
    config = Config.model_validate(
        {
            "agents": {
                "ttl_seconds": 30,
                "forget_after_hours": FORGET_HOURS,
                "expected": ["researcher-1", "never-comes"],
            }
        }
    )
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
    assert (
        "no heartbeat for 31 s (TTL 30 s)" in events.latest(kinds=[EventKind.AGENT], source="researcher-1")[1].message
    )
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


def stored(store: Store) -> set[str]:
    return {row["name"] for row in store.all("SELECT name FROM agents")}


def fill_with_junk(reg: AgentRegistry) -> list[str]:
    """What a token that may send heartbeats for any name did: fill the registry."""
    junk = [f"junk-{n:04d}" for n in range(MAX_AGENTS - len(reg.agents()))]
    for name in junk:
        reg.heartbeat(name, HeartbeatRequest(metrics={"x": 1}))
    with pytest.raises(TooManyAgents, match="agents.forget_after_hours"):
        reg.heartbeat("newcomer", HeartbeatRequest())
    return junk


def test_the_registrys_thread_forgets_agents_offline_too_long_and_a_new_one_joins(store: Store) -> None:
    clock = Clock()
    reg, events = registry(store, clock)
    reg.heartbeat("researcher-1", HeartbeatRequest())  # expected: stays, however long it is away
    junk = fill_with_junk(reg)
    reg.start()  # its thread checks the clock every second
    try:
        clock.now += GONE_AFTER - 1  # offline, not for long enough yet
        wait_until(lambda: states(reg)["junk-0000"] is AgentState.OFFLINE, 30, "the junk to go offline")
        assert len(stored(store)) == MAX_AGENTS - 1  # all but never-comes, which never sent one
        clock.now += 2
        # Nothing reads the registry meanwhile: its own thread forgets them, in memory and in the store.
        wait_until(lambda: stored(store) == {"researcher-1"}, 60, "the registry's thread to forget the junk")
    finally:
        reg.stop()
    assert states(reg) == {"researcher-1": AgentState.OFFLINE, "never-comes": AgentState.MISSING}
    assert reg.heartbeat("newcomer", HeartbeatRequest()).state is AgentState.ONLINE
    forgot = [e for e in events.latest(10, kinds=[EventKind.AGENT]) if "forgotten" in e.data]
    assert len(forgot) == 1 and forgot[0].data["count"] == len(junk) and forgot[0].source == "agents"
    assert forgot[0].message.startswith(f"Forgot {len(junk)} agents offline for more than 2 h: junk-0000, junk-0001")
    timeline = reg.changes()  # the newest 500 changes of state, of the agents still there
    assert timeline[0].source == "newcomer" and {e.source for e in timeline} <= {"newcomer", "researcher-1"}


def test_a_restart_forgets_at_load_and_the_forgotten_stay_gone(store: Store) -> None:
    clock = Clock()
    before, _ = registry(store, clock)
    fill_with_junk(before)
    before.heartbeat("researcher-1", HeartbeatRequest())
    assert len(stored(store)) == MAX_AGENTS - 1

    clock.now += GONE_AFTER + 1  # the dashboard was down meanwhile
    after, events = registry(store, clock)  # loads the store, as a restarted dashboard does
    assert states(after) == {"researcher-1": AgentState.OFFLINE, "never-comes": AgentState.MISSING}
    assert stored(store) == {"researcher-1"}
    assert "Forgot 998 agents" in events.latest(1)[0].message
    again, _ = registry(store, clock)  # and once more: they stay gone
    assert set(states(again)) == {"researcher-1", "never-comes"}
    assert again.heartbeat("newcomer", HeartbeatRequest()).state is AgentState.ONLINE


def test_an_agent_that_came_back_is_not_forgotten(store: Store) -> None:
    clock = Clock()
    reg, _ = registry(store, clock)
    reg.heartbeat("helper-x", HeartbeatRequest())
    clock.now += GONE_AFTER - 10
    reg.heartbeat("helper-x", HeartbeatRequest(task="back"))
    clock.now += 20
    agent = reg.agent("helper-x")
    assert agent is not None and agent.state is AgentState.ONLINE and agent.task == "back"
    assert "helper-x" in stored(store)


def test_an_admin_removes_an_agent_and_it_may_join_again(store: Store) -> None:
    clock = Clock()
    reg, events = registry(store, clock)
    reg.heartbeat("helper-x", HeartbeatRequest(role="reviewer"))
    reg.heartbeat("researcher-1", HeartbeatRequest())
    with pytest.raises(NoSuchAgent, match="There is no agent named 'nobody'"):
        reg.remove("nobody")
    with pytest.raises(ExpectedAgent, match="agents.expected"):
        reg.remove("researcher-1")
    removed = reg.remove("helper-x")
    assert removed.name == "helper-x" and removed.role == "reviewer"
    assert "helper-x" not in states(reg) and stored(store) == {"researcher-1"}
    assert events.latest(1)[0].message == "helper-x was removed from the registry by an admin"
    again, _ = registry(store, clock)
    assert "helper-x" not in states(again)  # a restart does not bring it back
    rejoined = again.heartbeat("helper-x", HeartbeatRequest())
    assert rejoined.state is AgentState.ONLINE and rejoined.role is None
    assert events.latest(1)[0].message == "helper-x is online (first heartbeat)"
