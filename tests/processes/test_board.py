"""What the test manager and the workflow supervisor share: the guard that knows
who holds it, the outbox that keeps writes a full store refuses (a real SQLite
file made read-only), and the heartbeat."""

from __future__ import annotations

import threading
from pathlib import Path

from dashboard_core.processes.board import Guard, Heartbeat, Outbox
from dashboard_core.store import open_store


def test_the_guard_knows_which_thread_holds_it() -> None:
    guard = Guard()
    assert not guard.held()
    seen: list[bool] = []
    with guard:
        with guard:  # re-entrant
            assert guard.held()
        assert guard.held()
        other = threading.Thread(target=lambda: seen.append(guard.held()))
        other.start()
        other.join(30)
    assert seen == [False] and not guard.held()


def test_the_outbox_keeps_refused_writes_and_writes_the_newest_once_it_can(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    try:
        store.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT, n INTEGER)")
        order: list[str] = []

        def put(key: str, value: str) -> None:
            def write() -> None:
                store.execute("INSERT OR REPLACE INTO t VALUES (?, ?, ?)", (key, value, len(order)))
                order.append(key)

            outbox.put(key, write)

        outbox = Outbox()
        put("step", "running")
        assert outbox.flush() and order == ["step"]
        store.execute("PRAGMA query_only = 1")  # every write fails from here: SQLITE_READONLY
        put("step", "succeeded")
        put("run", "succeeded")
        assert not outbox.flush() and not outbox.empty
        put("step", "succeeded, really")  # replaces the refused one, keeps its place
        store.execute("PRAGMA query_only = 0")
        assert outbox.flush() and outbox.empty
        assert order == ["step", "step", "run"]  # the step before the run, as first asked
        rows = {r["k"]: r["v"] for r in store.all("SELECT k, v FROM t")}
        assert rows == {"step": "succeeded, really", "run": "succeeded"}
    finally:
        store.close()


def test_the_heartbeat_is_due_once_per_period() -> None:
    now = [100.0]
    beat = Heartbeat(every=2.0, clock=lambda: now[0])
    assert not beat.due()
    now[0] = 102.0
    assert beat.due()
    beat.beat()
    assert not beat.due()
