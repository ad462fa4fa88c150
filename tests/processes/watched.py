"""Instruments for the rule "no store write, no subprocess start, no listener
call while holding a component's lock": a real store and a real executor that
note each write or start made while a watched guard is held by the thread that
makes it, and a listener that reads the component from another thread (it could
not, were the guard held while it is told)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dashboard_core.processes.board import Guard
from dashboard_core.processes.local import LocalExecutor, LocalHandle
from dashboard_core.processes.spec import ProcessSpec
from dashboard_core.store import FILE_NAME, Store

READ_BACK_SECONDS = 60.0  # a reader that is not answered in this long is waiting on the guard


class Watch:
    def __init__(self) -> None:
        self.guards: list[Guard] = []
        self.violations: list[str] = []
        self.counts = {"writes": 0, "starts": 0, "listener calls": 0}
        self._lock = threading.Lock()

    def check(self, what: str, kind: str) -> bool:
        """Count it; note a violation (and return False) if a watched guard is held."""
        held = any(g.held() for g in self.guards)
        with self._lock:
            self.counts[kind] += 1
            if held:
                self.violations.append(f"{what} on {threading.current_thread().name} while holding a guard")
        return not held

    def listener(self, read: Callable[[], Any]) -> Callable[[Any], None]:
        """A listener that reads the component on another thread while it is told."""

        def told(_info: Any) -> None:
            if not self.check("a listener call", "listener calls"):
                return  # noted; no need to wait for the reader to be sure
            reader = threading.Thread(target=read, name="listener-reader", daemon=True)
            reader.start()
            reader.join(READ_BACK_SECONDS)
            if reader.is_alive():
                with self._lock:
                    self.violations.append("a listener's reader waited on the guard")

        return told


class WatchedStore(Store):
    def __init__(self, data_dir: Path, watch: Watch) -> None:
        super().__init__(data_dir / FILE_NAME)
        self.watch = watch

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        if not sql.lstrip().upper().startswith(("SELECT", "PRAGMA")):
            self.watch.check(f"a store write ({sql.split()[0]} ...)", "writes")
        return super().execute(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.watch.check("a store transaction", "writes")
        with super().transaction() as db:
            yield db


class WatchedExecutor(LocalExecutor):
    def __init__(self, watch: Watch) -> None:
        self.watch = watch

    def start(self, spec: ProcessSpec) -> LocalHandle:
        self.watch.check(f"a process start ({spec.argv[0]})", "starts")
        return super().start(spec)
