"""The event log over a real SQLite store: ids, replay, filters, listeners, waiting, pruning,
and who may see which events."""

from __future__ import annotations

import ast
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from dashboard_core.auth.principals import OPEN, Principal
from dashboard_core.events import EventLog, visible_kinds
from dashboard_core.models import Event, EventKind, Severity
from dashboard_core.store import Store, open_store
from tests.clock import Clock


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path)
    yield s
    s.close()


def test_ids_grow_and_a_client_replays_from_the_last_it_saw(store: Store) -> None:
    log = EventLog(store)
    assert log.last_id == 0
    first = log.publish(EventKind.COMPONENT, "orchestrator", "orchestrator is down", severity=Severity.CRITICAL)
    second = log.publish(EventKind.AGENT, "researcher-1", "researcher-1 is online", data={"to": "online"})
    assert (first.id, second.id) == (1, 2) and log.last_id == 2
    assert [e.id for e in log.since(0)] == [1, 2]
    assert log.since(1) == [second]
    assert second.data == {"to": "online"} and first.at.tzinfo is not None
    assert EventLog(store).last_id == 2  # a new process finds where the ids are


def test_latest_filters_and_searches(store: Store) -> None:
    log = EventLog(store)
    log.publish(EventKind.COMPONENT, "orchestrator", "orchestrator is down", severity=Severity.CRITICAL)
    log.publish(EventKind.COMPONENT, "message-bus", "message-bus is degraded", severity=Severity.WARNING)
    log.publish(EventKind.TEST_RUN, "demo", "run 1 of demo failed", severity=Severity.WARNING)
    assert [e.source for e in log.latest()] == ["demo", "message-bus", "orchestrator"]  # newest first
    assert [e.source for e in log.latest(kinds=[EventKind.COMPONENT])] == ["message-bus", "orchestrator"]
    assert [e.source for e in log.latest(severities=[Severity.CRITICAL])] == ["orchestrator"]
    assert [e.source for e in log.latest(text="DEGRADED")] == ["message-bus"]
    assert [e.source for e in log.latest(source="demo")] == ["demo"]
    assert [e.id for e in log.latest(limit=1, before_id=3)] == [2]


def test_latest_keeps_to_a_time_range_both_ends_included(store: Store) -> None:
    clock = Clock()
    log = EventLog(store, clock=clock)
    stamps = []
    for n in range(4):
        stamps.append(log.publish(EventKind.SYSTEM, "dashboard", f"event {n}").at)
        clock.now += 600
    assert [e.message for e in log.latest(start=stamps[1], end=stamps[2])] == ["event 2", "event 1"]
    assert [e.message for e in log.latest(start=stamps[3])] == ["event 3"]
    assert [e.message for e in log.latest(end=stamps[0])] == ["event 0"]
    assert log.latest(start=stamps[3] + timedelta(seconds=1)) == []


def test_listeners_hear_each_event_and_one_failing_stops_no_one(store: Store) -> None:
    log = EventLog(store)
    heard: list[Event] = []

    def broken(_event: Event) -> None:
        raise RuntimeError("a listener with a bug")

    log.subscribe(broken)
    unsubscribe = log.subscribe(heard.append)
    event = log.publish(EventKind.SYSTEM, "dashboard", "started")
    assert heard == [event]
    unsubscribe()
    log.publish(EventKind.SYSTEM, "dashboard", "again")
    assert heard == [event]


def test_wait_wakes_when_an_event_arrives(store: Store) -> None:
    log = EventLog(store)
    assert log.wait(0, timeout=0.01) is False
    threading.Timer(0.05, lambda: log.publish(EventKind.SYSTEM, "dashboard", "hello")).start()
    assert log.wait(0, timeout=30) is True


def test_old_events_are_pruned_and_ids_never_reused(store: Store) -> None:
    clock = Clock()
    log = EventLog(store, keep_days=1, clock=clock)
    log.publish(EventKind.SYSTEM, "dashboard", "old")
    clock.now += 2 * 86400
    log.publish(EventKind.SYSTEM, "dashboard", "new")
    assert log.prune() == 1
    assert [e.message for e in log.since(0)] == ["new"]
    assert log.publish(EventKind.SYSTEM, "dashboard", "newer").id == 3


VIEWER = Principal("vera", "viewer", "user")
OPERATOR = Principal("ci", "operator", "token")
ADMIN = Principal("ada", "admin", "user")


def mixed(log: EventLog) -> list[Event]:
    """Audit events between the others, and the newest of all an audit event."""
    published = []
    for n in range(6):
        published.append(log.publish(EventKind.AGENT, f"agent-{n}", f"agent-{n} is online"))
        published.append(log.publish(EventKind.AUDIT, "ada", f"ada (admin) login from 10.0.0.{n}"))
    return published


def test_a_page_of_events_is_full_of_what_the_reader_may_see(store: Store) -> None:
    log = EventLog(store)
    published = mixed(log)
    for who in (VIEWER, OPERATOR):
        newest = log.latest(3, who=who)
        assert [e.source for e in newest] == ["agent-5", "agent-4", "agent-3"]
        oldest = log.since(0, 3, who=who)
        assert [e.source for e in oldest] == ["agent-0", "agent-1", "agent-2"]
        assert log.latest(10, who=who, kinds=[EventKind.AUDIT]) == []
        assert visible_kinds(who) == [k for k in EventKind if k is not EventKind.AUDIT]
    assert log.latest(12, who=ADMIN) == list(reversed(published))
    assert [e.kind for e in log.since(0, 2, who=ADMIN)] == [EventKind.AGENT, EventKind.AUDIT]
    assert visible_kinds(ADMIN) == list(EventKind) and visible_kinds(OPEN) == list(EventKind)


def test_a_follower_goes_on_past_what_it_may_not_see(store: Store) -> None:
    """A stream (or the toasts) of a viewer whose newest events are all audit
    events moves past them instead of asking the store again and again."""
    log = EventLog(store)
    published = mixed(log)
    batch, after = log.next_batch(0, 4, who=VIEWER)
    assert [e.source for e in batch] == [f"agent-{n}" for n in range(4)] and after == batch[-1].id
    batch, after = log.next_batch(after, 4, who=VIEWER)
    assert [e.source for e in batch] == ["agent-4", "agent-5"]
    assert after == published[-1].id == log.last_id  # the audit event at the end is passed too
    assert log.next_batch(after, 4, who=VIEWER) == ([], after)
    batch, after = log.next_batch(0, 100, who=ADMIN)
    assert batch == published and after == published[-1].id


ROOT = Path(__file__).parent.parent
# What puts events in front of a person: the pages, their widgets (toasts), the API.
SHOWN = [
    *ROOT.glob("pages/*.py"),
    *ROOT.glob("ui/*.py"),
    *ROOT.glob("dashboard_core/routes/*.py"),
    *ROOT.glob("dashboard_core/app/*.py"),  # the application layer's queries (the overview)
    ROOT / "dashboard_core" / "api.py",
    ROOT / "dashboard_core" / "runtime.py",
]
READS = {"latest", "since", "next_batch"}


def test_whatever_shows_events_reads_them_for_someone() -> None:
    """Every read of the event log where events are shown or sent says for whom
    (``who=``), so the one visibility rule applies; a new page or route that
    forgets it fails here."""
    reads, blind = 0, []
    for path in SHOWN:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Call):
                continue
            # log.since(...), or run_in_threadpool(log.next_batch, ...) with the arguments after it
            methods = [node.func, *node.args]
            for method in methods:
                if isinstance(method, ast.Attribute) and method.attr in READS:
                    receiver = ast.unparse(method.value)
                    if receiver == "log" or receiver.endswith("events"):
                        reads += 1
                        if not any(k.arg == "who" for k in node.keywords):
                            blind.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert reads >= 5  # the overview, the events list, its streams, the Events page, the toasts
    assert blind == []
