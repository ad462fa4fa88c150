"""One retrying delivery queue for alert notifications, on a thread of its own.

The webhook (:mod:`~dashboard_core.health.webhook`) and the Apprise channels
(:mod:`~dashboard_core.health.channels`) both hand their notifications to a
:class:`RetryQueue` subclass that knows only how to make one try. Queuing only
appends to a bounded list, so the alert engine never waits on a slow or dead
receiver. A failed try is retried with exponential back-off (``base``, ``2 base``,
``4 base`` … seconds) up to ``attempts`` tries. Notifications of one key (a rule,
or a rule and one of its channels) go out in order (a retry holds back that key's
later ones), while another key's are sent in between. The last failure per key is
kept for the UI until a delivery to that key succeeds; a key that gives up is
logged once, not again until it has worked. A full queue drops its oldest
notification and says so in that key's error.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

Session = TypeVar("Session")


@dataclass(slots=True, eq=False)
class Delivery:
    seq: int
    key: Hashable  # ordering and errors: one key's deliveries go out in order
    rule: str
    target: str  # where it goes, as shown (secrets masked)
    state: str
    payload: Any  # what the subclass's try sends
    attempt: int = 0
    due: float = 0.0  # monotonic time of the next try
    in_flight: bool = False


class RetryQueue(ABC, Generic[Session]):
    """The queue, its worker thread, retries, back-off and errors; subclasses make one try."""

    what = "notification"  # in the log: "webhook", "channel"
    verb = "Sending"  # in the errors: "<verb> the 'firing' notification to <target> failed"
    thread_name = "alert-notifications"

    def __init__(self, *, timeout: float, attempts: int, backoff_base: float, max_queue: int) -> None:
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff_base = backoff_base
        self.max_queue = max(1, max_queue)
        self._queue: list[Delivery] = []  # in order of queuing
        self._errors: dict[Hashable, str] = {}
        self._logged: set[Hashable] = set()  # keys whose giving up was logged (until they work)
        self._seq = itertools.count(1)
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.dropped = 0

    # -- what a subclass says ---------------------------------------------------
    @abstractmethod
    def _open(self) -> AbstractContextManager[Session]:
        """What the worker holds while it runs (an HTTP client, or nothing)."""

    @abstractmethod
    def _attempt(self, session: Session, item: Delivery) -> str | None:
        """One try: None when delivered, else the problem in words. Must not raise."""

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the worker; unsent notifications are logged and dropped."""
        with self._cond:
            thread, self._thread = self._thread, None
            self._stopping = True
            unsent = len(self._queue)
            self._queue.clear()
            self._cond.notify_all()
        if thread is not None:
            thread.join(self.timeout + 1 if timeout is None else timeout)
        if unsent:
            log.warning("Stopped with %d %s notification(s) unsent", unsent, self.what)

    # -- the queuing side --------------------------------------------------------
    def _enqueue(self, key: Hashable, rule: str, target: str, state: str, payload: Any) -> None:
        item = Delivery(next(self._seq), key, rule, target, state, payload)
        with self._cond:
            if len(self._queue) >= self.max_queue:
                self._drop_oldest()
            self._queue.append(item)
            self._cond.notify_all()

    def pending(self) -> int:
        """Notifications queued or being retried."""
        with self._cond:
            return len(self._queue)

    def _drop_oldest(self) -> None:
        victim = next((d for d in self._queue if not d.in_flight), None)
        if victim is None:
            return
        self._queue.remove(victim)
        self.dropped += 1
        self._errors[victim.key] = (
            f"a '{victim.state}' notification to {victim.target} was dropped: "
            f"the {self.what} queue was full ({self.max_queue} waiting)"
        )
        log.warning(
            "%s queue full: dropped the oldest notification (%s, %s)", self.what.capitalize(), victim.rule, victim.state
        )

    # -- the worker ------------------------------------------------------------
    def _next(self, now: float) -> tuple[Delivery | None, float | None]:
        """The first notification due now, or how long until one is (None: nothing queued)."""
        seen: set[Hashable] = set()
        wait: float | None = None
        for item in self._queue:
            if item.key in seen:
                continue  # an earlier notification of this key goes first
            seen.add(item.key)
            if item.in_flight:
                continue
            if item.due <= now:
                return item, None
            wait = item.due - now if wait is None else min(wait, item.due - now)
        return None, wait

    def _run(self) -> None:
        with self._open() as session:
            while True:
                with self._cond:
                    while True:
                        if self._stopping:
                            return
                        item, wait = self._next(time.monotonic())
                        if item is not None:
                            break
                        self._cond.wait(wait)
                    item.in_flight = True
                    item.attempt += 1
                try:
                    problem = self._attempt(session, item)
                except Exception as exc:  # a broken sender must not kill the worker
                    log.exception("Sending to %s failed unexpectedly", item.target)
                    problem = f"{type(exc).__name__}: {exc}"
                with self._cond:
                    item.in_flight = False
                    self._settle(item, problem)

    def _settle(self, item: Delivery, problem: str | None) -> None:
        """Called under the lock after one try."""
        if problem is None:
            self.sent += 1
            self._errors.pop(item.key, None)
            if item.key in self._logged:
                self._logged.discard(item.key)
                log.info("The %s %s of %s works again", self.what, item.target, item.rule)
            self._discard(item)
            return
        tries = f"attempt {item.attempt} of {self.attempts}"
        failed = f"{self.verb} the '{item.state}' notification to {item.target} failed ({tries})"
        if item.attempt >= self.attempts:
            self._errors[item.key] = f"{failed}, gave up: {problem}"
            if item.key not in self._logged:  # once: the Safety page shows the rest
                self._logged.add(item.key)
                log.warning(
                    "%s for %s gave up after %d attempts: %s (%s; not logged again until it works)",
                    self.what.capitalize(),
                    item.rule,
                    item.attempt,
                    problem,
                    item.target,
                )
            self._discard(item)
            return
        delay = self.backoff_base * 2 ** (item.attempt - 1)
        item.due = time.monotonic() + delay
        self._errors[item.key] = f"{failed}: {problem}; retrying in {delay:g} s"

    def _discard(self, item: Delivery) -> None:
        if item in self._queue:
            self._queue.remove(item)
