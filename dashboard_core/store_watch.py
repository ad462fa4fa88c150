"""The store watch: once the store can be written again after failed writes, say so as
an event (with how many writes failed, for how long, and why), so a gap in the records
has a witness."""

from __future__ import annotations

import logging
import threading

from dashboard_core.events import EventLog
from dashboard_core.models import EventKind, Severity
from dashboard_core.store import Store, StoreError
from dashboard_core.units import format_duration

log = logging.getLogger(__name__)


class StoreWatch:
    """A thread that sleeps until the store recovers (no timeout: an idle server has no
    thread waking up for nothing)."""

    def __init__(self, store: Store, events: EventLog) -> None:
        self.store = store
        self.events = events
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._watch, name="store-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.store.recovered.set()  # wakes the watch, which finds no recovery and sees it is stopping
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stopping.is_set():
            self.store.recovered.wait()
            for failure, at in self.store.take_recoveries():
                writes = "write" if failure.count == 1 else "writes"
                message = (
                    f"The store can be written again, after {failure.count} failed {writes} over "
                    f"{format_duration(max(0.0, at - failure.since))} ({failure.reason}); what it held before is "
                    "kept, records made in between may be missing"
                )
                try:
                    self.events.publish(
                        EventKind.SYSTEM,
                        "store",
                        message,
                        severity=Severity.WARNING,
                        data={
                            "failed_writes": failure.count,
                            "since": failure.since,
                            "until": at,
                            "reason": failure.reason,
                        },
                    )
                except StoreError as exc:
                    log.warning("Cannot record the event %r: %s", message, exc)
