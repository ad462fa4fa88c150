"""Webhook notifications for alert rules: each firing and resolution POSTed as JSON.

:class:`WebhookNotifier` is a :class:`~dashboard_core.health.delivery.RetryQueue`
(its own thread, retries with back-off, one rule's notifications in order, the last
failure per rule kept for ``RuleStatus.webhook_error``) that makes each try a POST.
"""

from __future__ import annotations

import socket
from contextlib import AbstractContextManager

import httpx2 as httpx

from dashboard_core.health.delivery import Delivery, RetryQueue
from dashboard_core.models import AlertRecord


class WebhookNotifier(RetryQueue[httpx.Client]):
    what = "webhook"
    verb = "POST of"
    thread_name = "alert-webhooks"

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
        super().__init__(timeout=timeout, attempts=attempts, backoff_base=backoff_base, max_queue=max_queue)
        self.hostname = hostname or socket.gethostname()
        self._transport = transport

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
        self._enqueue(record.rule, record.rule, url, record.state.value, (url, body))

    def error(self, rule: str) -> str | None:
        """The last delivery failure of this rule's webhook, None after a success."""
        with self._cond:
            return self._errors.get(rule)

    def errors(self) -> dict[str, str]:
        with self._cond:
            return {str(rule): error for rule, error in self._errors.items()}

    # -- one try ---------------------------------------------------------------
    def _open(self) -> AbstractContextManager[httpx.Client]:
        return httpx.Client(timeout=self.timeout, transport=self._transport)

    def _attempt(self, session: httpx.Client, item: Delivery) -> str | None:
        url, body = item.payload
        try:
            response = session.post(url, json=body)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if response.is_success:
            return None
        return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
