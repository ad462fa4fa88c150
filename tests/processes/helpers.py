"""Reading a process's events in a thread, with deadlines, for the core's tests."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import psutil

from dashboard_core.processes.executor import Executor
from dashboard_core.processes.spec import Exited, Handle, LogChunk, ProcessEvent, ProgressLine


class Events:
    """Every event of one handle, collected by a thread as they come."""

    def __init__(self, executor: Executor, handle: Handle) -> None:
        self.items: queue.SimpleQueue[ProcessEvent] = queue.SimpleQueue()
        self.seen: list[ProcessEvent] = []
        threading.Thread(target=self._read, args=(executor, handle), daemon=True).start()

    def _read(self, executor: Executor, handle: Handle) -> None:
        for event in executor.events(handle):
            self.items.put(event)

    def until(self, found: Callable[[ProcessEvent], bool], timeout: float, what: str) -> ProcessEvent:
        """The first event (from here) for which ``found`` holds; fails after ``timeout``."""
        while True:
            try:
                event = self.items.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no event within {timeout:g} s: {what} (seen: {self.seen!r})") from None
            self.seen.append(event)
            if found(event):
                return event

    def exited(self, timeout: float = 60) -> Exited:
        event = self.until(lambda e: isinstance(e, Exited), timeout, "the exit")
        assert isinstance(event, Exited)
        return event

    def output(self) -> bytes:
        return b"".join(e.data for e in self.seen if isinstance(e, LogChunk))

    def progress(self) -> list[bytes]:
        return [e.data for e in self.seen if isinstance(e, ProgressLine)]


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
