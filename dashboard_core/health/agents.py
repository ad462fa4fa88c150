"""The agent registry: agents announce themselves with heartbeats over the API.

An agent is ``online`` while its last heartbeat is younger than
``agents.ttl_seconds``, then ``offline``; one named in ``agents.expected`` that
has never sent one is ``missing``. Every change of state is an event, so the
Agents page can draw a timeline. The last heartbeat of each agent is kept in
the store, so a restarted dashboard still knows who was there and when.

The registry holds at most :data:`MAX_AGENTS`, so it must also let go: an agent
offline for longer than ``agents.forget_after_hours`` is forgotten (by the
registry's thread, and at load after a restart), and an admin may remove one.
Agents named in ``agents.expected`` are never forgotten: the config wants them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dashboard_core.config import Config
from dashboard_core.events import EventLog
from dashboard_core.health.maintenance import shared_maintenance
from dashboard_core.models import (
    AgentInfo,
    AgentsOverview,
    AgentState,
    Event,
    EventKind,
    HeartbeatRequest,
    Severity,
)
from dashboard_core.store import Store, StoreError

log = logging.getLogger(__name__)

MAX_AGENTS = 1000  # a registry, not a database: a runaway client cannot fill memory


REMOVED = "removed agent"  # the audit log's word for it, from the API and the page alike


class TooManyAgents(Exception):
    """More distinct agents than :data:`MAX_AGENTS`; ``str()`` is for the user."""


class NoSuchAgent(LookupError):
    """No agent of that name in the registry; ``str()`` is for the user."""


class ExpectedAgent(Exception):
    """An agent named in ``agents.expected`` cannot be removed; ``str()`` says what to do."""


@dataclass
class _Agent:
    name: str
    expected: bool
    status: str | None = None
    role: str | None = None
    task: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    first_seen: float | None = None
    last_seen: float | None = None
    state: AgentState = AgentState.MISSING


class AgentRegistry:
    def __init__(
        self, config: Config, store: Store, events: EventLog, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.ttl = config.agents.ttl_seconds
        self.forget_after = config.agents.forget_after_hours * 3600
        self.store = store
        self.events = events
        self.clock = clock
        self.maintenance = shared_maintenance(config.maintenance, store)  # the health monitor's too
        self._lock = threading.Lock()
        self._agents: dict[str, _Agent] = {n: _Agent(n, expected=True) for n in config.agents.expected}
        self._stop = threading.Event()
        self._wake = threading.Event()  # a heartbeat for a registry whose thread sleeps until one
        self._asleep = False  # the thread waits without a timeout: no agent's state can change with time
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        self.load()
        self._thread = threading.Thread(target=self._watch, name="agent-registry", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def load(self) -> None:
        """What the store knows from earlier runs of the dashboard (no events for it),
        less the agents offline for too long meanwhile (forgotten now)."""
        rows = self.store.all("SELECT * FROM agents")
        now = self.clock()
        with self._lock:
            for row in rows:
                agent = self._agents.get(row["name"]) or _Agent(row["name"], expected=False)
                agent.status, agent.role, agent.task = row["status"], row["role"], row["task"]
                agent.metrics = json.loads(row["metrics"] or "{}")
                agent.first_seen, agent.last_seen = row["first_seen"], row["last_seen"]
                agent.state = self._state_of(agent, now)
                self._agents[agent.name] = agent
        self.forget()

    # -- heartbeats --------------------------------------------------------------
    def heartbeat(self, name: str, beat: HeartbeatRequest) -> AgentInfo:
        now = self.clock()
        with self._lock:
            agent = self._agents.get(name)
            if agent is None:
                if len(self._agents) >= MAX_AGENTS:
                    raise TooManyAgents(
                        f"The registry already holds {MAX_AGENTS} agents; no more can join. Agents offline for "
                        f"more than {self.forget_after / 3600:g} h (agents.forget_after_hours) are forgotten, "
                        "and an admin can remove one (DELETE /api/agents/{name}, or the Agents page)."
                    )
                agent = self._agents[name] = _Agent(name, expected=False)
            before = agent.state
            given = beat.model_fields_set  # a field left out keeps its last value; an explicit null clears it
            agent.status = beat.status
            agent.role = beat.role if "role" in given else agent.role
            agent.task = beat.task if "task" in given else agent.task
            agent.metrics = dict(beat.metrics) if "metrics" in given else agent.metrics
            agent.first_seen = agent.first_seen or now
            agent.last_seen = now
            agent.state = AgentState.ONLINE
            info = _info(agent)
            wake, self._asleep = self._asleep, False
        if wake:
            self._wake.set()
        try:
            self.store.execute(
                "INSERT INTO agents (name, state, status, role, task, metrics, first_seen, last_seen)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET state = excluded.state,"
                " status = excluded.status, role = excluded.role, task = excluded.task, metrics = excluded.metrics,"
                " last_seen = excluded.last_seen",
                (name, AgentState.ONLINE.value, info.status, info.role, info.task, json.dumps(info.metrics), now, now),
            )
        except StoreError:
            pass  # a full disk: the registry keeps it in memory; the store said why (its log, the Overview)
        if before is not AgentState.ONLINE:
            was = {AgentState.MISSING: "first heartbeat", AgentState.OFFLINE: "back after being offline"}[before]
            role = f", {info.role}" if info.role else ""
            self._publish(
                name, f"{name} is online ({was}{role})", Severity.INFO, {"from": before.value, "to": "online"}
            )
        return info

    # -- reading -----------------------------------------------------------------
    def agents(self) -> list[AgentInfo]:
        """Expected agents first (in config order), then the others by name."""
        self.refresh()
        with self._lock:
            agents = list(self._agents.values())
        expected = [a for a in agents if a.expected]
        others = sorted((a for a in agents if not a.expected), key=lambda a: a.name)
        return [self._with_window(_info(a)) for a in expected + others]

    def agent(self, name: str) -> AgentInfo | None:
        self.refresh()
        with self._lock:
            agent = self._agents.get(name)
            info = _info(agent) if agent else None
        return self._with_window(info) if info else None

    def _with_window(self, info: AgentInfo) -> AgentInfo:
        at = datetime.fromtimestamp(self.clock(), UTC)
        window = self.maintenance.window_of("agents", info.name, at)
        return info.model_copy(update={"maintenance": window}) if window else info

    def overview(self) -> AgentsOverview:
        agents = self.agents()
        online = sum(1 for a in agents if a.state is AgentState.ONLINE)
        return AgentsOverview(online=online, total=len(agents), agents=agents)

    def refresh(self) -> None:
        """Mark agents whose heartbeat is older than the TTL offline (with an event)."""
        now = self.clock()
        changed: list[tuple[_Agent, AgentState]] = []
        with self._lock:
            for agent in self._agents.values():
                state = self._state_of(agent, now)
                if state is not agent.state:
                    changed.append((agent, agent.state))
                    agent.state = state
        for agent, before in changed:
            silent = now - (agent.last_seen or now)
            try:
                self.store.execute("UPDATE agents SET state = ? WHERE name = ?", (agent.state.value, agent.name))
            except StoreError:
                pass  # kept in memory; the store said why
            self._publish(
                agent.name,
                f"{agent.name} is offline: no heartbeat for {silent:.0f} s (TTL {self.ttl:g} s)",
                Severity.WARNING,
                {"from": before.value, "to": agent.state.value},
            )
        self.forget()

    def forget(self) -> list[str]:
        """Drop the agents offline for longer than ``agents.forget_after_hours`` from the
        registry and the store (never the expected ones); their names. One event says who."""
        now = self.clock()
        with self._lock:
            gone = [a for a in self._agents.values() if self._forgettable(a, now)]
            for agent in gone:
                del self._agents[agent.name]
        if not gone:
            return []
        try:  # unless a heartbeat came meanwhile: then the row is the new agent's
            self.store.executemany(
                "DELETE FROM agents WHERE name = ? AND last_seen <= ?", [(a.name, a.last_seen) for a in gone]
            )
        except StoreError:
            pass  # forgotten in memory; a restart forgets them again at load
        names = sorted(a.name for a in gone)
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        hours = self.forget_after / 3600
        self._publish(
            names[0] if len(names) == 1 else "agents",
            f"Forgot {len(names)} agent{'s' if len(names) > 1 else ''} offline for more than {hours:g} h: {shown}",
            Severity.INFO,
            {"forgotten": names[:100], "count": len(names)},
        )
        return names

    def remove(self, name: str) -> AgentInfo:
        """Drop one agent from the registry and the store (an admin's action; the caller
        audits it). An agent still running joins again with its next heartbeat."""
        with self._lock:
            agent = self._agents.get(name)
            if agent is None:
                raise NoSuchAgent(f"There is no agent named {name!r} (GET /api/dashboard/agents lists them).")
            if agent.expected:
                raise ExpectedAgent(
                    f"{name!r} is named in agents.expected in the config; remove it there (and restart) "
                    "to drop it from the registry."
                )
            del self._agents[name]
            info = _info(agent)
        try:
            self.store.execute("DELETE FROM agents WHERE name = ? AND last_seen <= ?", (name, agent.last_seen))
        except StoreError:
            pass  # removed in memory; the store said why
        self._publish(name, f"{name} was removed from the registry by an admin", Severity.INFO, {"removed": True})
        return info

    def changes(self, limit: int = 500) -> list[Event]:
        """The newest changes of state of the agents in the registry now, for the timeline
        (forgotten and removed agents leave it)."""
        with self._lock:
            names = set(self._agents)
        return [e for e in self.events.latest(limit, kinds=[EventKind.AGENT]) if e.source in names]

    def _forgettable(self, agent: _Agent, now: float) -> bool:
        """Offline (no heartbeat for the TTL) for longer than ``forget_after``, and not expected."""
        if agent.expected or agent.last_seen is None:
            return False
        return now - agent.last_seen > self.ttl + self.forget_after

    def _state_of(self, agent: _Agent, now: float) -> AgentState:
        if agent.last_seen is None:
            return AgentState.MISSING
        return AgentState.ONLINE if now - agent.last_seen <= self.ttl else AgentState.OFFLINE

    def _watch(self) -> None:
        """Refresh every ``ttl / 4`` (at most 1 s) while time can change an agent's state
        (one is online, or may be forgotten); else sleep until a heartbeat or stop."""
        every = max(0.05, min(1.0, self.ttl / 4))
        while not self._stop.is_set():
            self._wake.clear()
            with self._lock:
                self._asleep = not any(a.state is AgentState.ONLINE or not a.expected for a in self._agents.values())
            self._wake.wait(None if self._asleep else every)
            if self._stop.is_set():
                return
            try:
                self.refresh()
            except Exception:
                log.exception("The agent registry failed to refresh; it goes on")

    def _publish(self, name: str, message: str, severity: Severity, data: dict[str, object]) -> None:
        try:
            self.events.publish(EventKind.AGENT, name, message, severity=severity, data=data)
        except StoreError as exc:  # the event is a witness, never a reason to refuse a heartbeat
            log.warning("Cannot record the event %r: %s", message, exc)


def _info(agent: _Agent) -> AgentInfo:
    return AgentInfo(
        name=agent.name,
        state=agent.state,
        status=agent.status,
        role=agent.role,
        task=agent.task,
        metrics=dict(agent.metrics),
        first_seen=datetime.fromtimestamp(agent.first_seen, UTC) if agent.first_seen else None,
        last_seen=datetime.fromtimestamp(agent.last_seen, UTC) if agent.last_seen else None,
        expected=agent.expected,
    )
