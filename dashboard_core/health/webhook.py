"""Webhook notifications for alert rules: POSTed by a thread of their own.

:meth:`WebhookNotifier.notify` only appends to a bounded queue, so the alert
engine never waits on a slow or dead receiver. The worker POSTs each
notification as JSON and retries a failure with exponential back-off (``base``,
``2 base``, ``4 base`` … seconds) up to ``attempts`` tries. Notifications of
one rule go out in order (a retry holds back that rule's later ones), while
another rule's are sent in between. The last failure per rule is kept for the
UI (``RuleStatus.webhook_error``) until a delivery to that rule succeeds. A
full queue drops its oldest notification and says so in that rule's error.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx

from dashboard_core.models import AlertRecord

log = logging.getLogger(__name__)


@dataclass(slots=True, eq=False)
class _Delivery:
    seq: int
    rule: str
    url: str
    state: str
    body: dict[str, Any]
    attempt: int = 0
    due: float = 0.0  # monotonic time of the next try
    in_flight: bool = False


class WebhookNotifier:
    def __init__(
        self,
        *,
        timeout: float = 5.0,
        attempts: int = 5,
        backoff_base: float = 1.0,
        max_queue: int = 100,
        hostname: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff_base = backoff_base
        self.max_queue = max(1, max_queue)
        self.hostname = hostname or socket.gethostname()
        self._transport = transport
        self._queue: list[_Delivery] = []  # in order of notify()
        self._errors: dict[str, str] = {}
        self._seq = itertools.count(1)
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.dropped = 0

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="alert-webhooks", daemon=True)
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
            log.warning("Stopped with %d webhook notification(s) unsent", unsent)

    # -- the engine's side -----------------------------------------------------
    def notify(self, url: str, record: AlertRecord, *, condition: str = "", description: str = "") -> None:
        """Queue one POST of ``record`` to ``url``; returns at once."""
        body = {
            "rule": record.rule,
            "state": record.state.value,
            "severity": record.severity.value,
            "condition": condition,
            "description": description,
            "dashboard": self.hostname,
            "alert": record.model_dump(mode="json"),
        }
        item = _Delivery(next(self._seq), record.rule, url, record.state.value, body)
        with self._cond:
            if len(self._queue) >= self.max_queue:
                self._drop_oldest()
            self._queue.append(item)
            self._cond.notify_all()

    def error(self, rule: str) -> str | None:
        """The last delivery failure of this rule's webhook, None after a success."""
        with self._cond:
            return self._errors.get(rule)

    def errors(self) -> dict[str, str]:
        with self._cond:
            return dict(self._errors)

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
        self._errors[victim.rule] = (
            f"a '{victim.state}' notification to {victim.url} was dropped: "
            f"the webhook queue was full ({self.max_queue} waiting)"
        )
        log.warning("Webhook queue full: dropped the oldest notification (%s, %s)", victim.rule, victim.state)

    # -- the worker ------------------------------------------------------------
    def _next(self, now: float) -> tuple[_Delivery | None, float | None]:
        """The first notification due now, or how long until one is (None: nothing queued)."""
        seen: set[str] = set()
        wait: float | None = None
        for item in self._queue:
            if item.rule in seen:
                continue  # an earlier notification of this rule goes first
            seen.add(item.rule)
            if item.in_flight:
                continue
            if item.due <= now:
                return item, None
            wait = item.due - now if wait is None else min(wait, item.due - now)
        return None, wait

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout, transport=self._transport) as client:
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
                problem = self._post(client, item)
                with self._cond:
                    item.in_flight = False
                    self._settle(item, problem)

    def _post(self, client: httpx.Client, item: _Delivery) -> str | None:
        try:
            response = client.post(item.url, json=item.body)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except Exception as exc:  # a bad URL or a broken transport must not kill the worker
            log.exception("Webhook POST to %s failed unexpectedly", item.url)
            return f"{type(exc).__name__}: {exc}"
        if response.is_success:
            return None
        return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()

    def _settle(self, item: _Delivery, problem: str | None) -> None:
        """Called under the lock after one try."""
        if problem is None:
            self.sent += 1
            self._errors.pop(item.rule, None)
            self._discard(item)
            return
        tries = f"attempt {item.attempt} of {self.attempts}"
        if item.attempt >= self.attempts:
            self._errors[item.rule] = (
                f"POST of the '{item.state}' notification to {item.url} failed ({tries}), gave up: {problem}"
            )
            log.warning("Webhook for %s gave up after %d attempts: %s", item.rule, item.attempt, problem)
            self._discard(item)
            return
        delay = self.backoff_base * 2 ** (item.attempt - 1)
        item.due = time.monotonic() + delay
        self._errors[item.rule] = (
            f"POST of the '{item.state}' notification to {item.url} failed ({tries}): {problem}; "
            f"retrying in {delay:g} s"
        )

    def _discard(self, item: _Delivery) -> None:
        if item in self._queue:
            self._queue.remove(item)
