"""Alert notifications to Apprise channels (e-mail, Slack, Teams, ntfy, Telegram, …).

A rule tells its own ``notify`` URLs and those of ``[alerting.channels]`` for its
severity (each URL once). :class:`ChannelNotifier` is a
:class:`~dashboard_core.health.delivery.RetryQueue`, as the webhook is: its own
thread, so the alert engine never waits; each (rule, channel) retried with back-off
and kept in order; each try one Apprise call given ``timeout_seconds``. The last
failure per rule and channel is kept for ``RuleStatus.channel_errors``, with the
channel shown as Apprise's privacy form and Apprise's reason with the URL's secrets
masked. Apprise's own retries are left at none: the queue does the retrying.
"""

from __future__ import annotations

import socket
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from dashboard_core.config import Config
from dashboard_core.config.channels import ChannelsConfig, apprise_service, scrubbed, shown_url
from dashboard_core.health.channel_message import ChannelMessage, channel_message
from dashboard_core.health.compiled_rules import CompiledRule
from dashboard_core.health.delivery import Delivery, RetryQueue
from dashboard_core.models import AlertRecord

if TYPE_CHECKING:
    from apprise import Apprise, AppriseResult


def has_channels(config: Config) -> bool:
    """Does any rule notify an Apprise channel?"""
    channels = config.alerting.channels
    return bool(channels.warning or channels.critical or any(a.notify for a in config.alerts))


class ChannelNotifier(RetryQueue[None]):
    what = "channel"
    verb = "Sending"
    thread_name = "alert-channels"

    def __init__(
        self,
        channels: ChannelsConfig,
        public_url: str | None = None,
        *,
        backoff_base: float = 1.0,
        max_queue: int = 100,
        hostname: str | None = None,
    ) -> None:
        super().__init__(
            timeout=channels.timeout_seconds,
            attempts=channels.attempts,
            backoff_base=backoff_base,
            max_queue=max_queue,
        )
        self.channels = channels
        self.public_url = public_url
        self.hostname = hostname or socket.gethostname()
        self._services: dict[str, Apprise] = {}  # by URL; the worker's alone

    @classmethod
    def from_config(cls, config: Config) -> ChannelNotifier:
        return cls(config.alerting.channels, config.alerting.public_url)

    def urls(self, rule: CompiledRule) -> list[str]:
        """The rule's own URLs, then its severity's, each once."""
        return list(dict.fromkeys([*rule.config.notify, *self.channels.for_severity(rule.config.severity)]))

    # -- the engine's side -----------------------------------------------------
    def notify(self, rule: CompiledRule, record: AlertRecord) -> None:
        """Queue the alert's message for each of the rule's channels; returns at once."""
        urls = self.urls(rule)
        if not urls:
            return
        message = channel_message(rule, record, self.public_url, self.hostname)
        for url in urls:
            self._enqueue((rule.name, url), rule.name, shown_url(url), record.state.value, (url, message))

    def errors_of(self, rule: str) -> list[str]:
        """The last failure of each of the rule's channels that has not worked since."""
        with self._cond:
            return [error for key, error in self._errors.items() if isinstance(key, tuple) and key[0] == rule]

    # -- one try ---------------------------------------------------------------
    def _open(self) -> AbstractContextManager[None]:
        return nullcontext()

    def _attempt(self, session: None, item: Delivery) -> str | None:
        url, message = item.payload
        assert isinstance(message, ChannelMessage)
        service = self._service(url)
        if service is None:
            return "Apprise cannot use this URL"
        result = service.notify(
            body=message.body, title=message.title, notify_type=message.kind, body_format="text", timeout=self.timeout
        )
        return None if result else scrubbed(_reason(result), url)

    def _service(self, url: str) -> Apprise | None:
        if url not in self._services:
            import apprise

            plugin = apprise_service(url)
            if plugin is None:
                return None
            self._services[url] = apprise.Apprise(plugin)
        return self._services[url]


def _reason(result: AppriseResult) -> str:
    """Apprise's outcome and what it logged of it (warnings and errors, each once)."""
    said = dict.fromkeys(e.message.strip() for e in result.logs() if e.level in {"WARNING", "ERROR", "CRITICAL"})
    outcome = result.status.name.lower()
    return f"{outcome}: {'; '.join(m for m in said if m)}" if said else f"Apprise reported {outcome}"
