"""Telling about an alert: an ``alert`` event in the event log and, when the rule
names one, a webhook POST through :class:`WebhookNotifier` and a message to each of
its Apprise channels through :class:`ChannelNotifier` (neither ever blocks).

Firing publishes the event with the rule's severity, resolving one at ``info``.
Neither a full disk nor a failing webhook stops the alert itself.
"""

from __future__ import annotations

import logging

from dashboard_core.events import EventLog
from dashboard_core.health.alert_state import duration_text
from dashboard_core.health.channels import ChannelNotifier
from dashboard_core.health.compiled_rules import CompiledRule
from dashboard_core.health.webhook import WebhookNotifier
from dashboard_core.models import AlertRecord, EventKind, Severity
from dashboard_core.store import StoreError

log = logging.getLogger(__name__)


class AlertAnnouncer:
    """Publishes alert events and hands webhook notifications to the notifier."""

    def __init__(
        self, events: EventLog, notifier: WebhookNotifier | None, channels: ChannelNotifier | None = None
    ) -> None:
        self.events = events
        self.notifier = notifier
        self.channels = channels

    def announce(self, rule: CompiledRule, kind: str, record: AlertRecord, reason: str) -> None:
        """``kind``: "fired" or "resolved"."""
        if kind == "fired":
            text = f"{rule.name} is firing: {reason}"
            severity = Severity(rule.config.severity)
        else:
            assert record.ended_at is not None
            lasted = (record.ended_at - record.began_at).total_seconds()
            text = f"{rule.name} resolved after {duration_text(lasted)}: {reason}"
            severity = Severity.INFO
        self.publish(rule.name, text, severity, record)
        self.notify(rule, record)

    def publish(self, source: str, message: str, severity: Severity, record: AlertRecord) -> None:
        try:
            self.events.publish(
                EventKind.ALERT, source, message, severity=severity, data=record.model_dump(mode="json")
            )
        except StoreError as exc:  # a full disk: the alert holds all the same
            log.warning("Cannot record the alert event %r: %s", message, exc)
        except Exception:
            log.exception("Could not publish the alert event for %s", source)

    def notify(self, rule: CompiledRule, record: AlertRecord) -> None:
        """Tell the rule's channels, unless a silence or maintenance window mutes the alert."""
        if record.muted is not None:
            return
        if rule.config.webhook and self.notifier is not None:
            self.notifier.notify(
                rule.config.webhook, record, condition=rule.config.rule, description=rule.config.description
            )
        if self.channels is not None:
            self.channels.notify(rule, record)

    def webhook_error(self, rule: str) -> str | None:
        """The last webhook failure of the rule, if any."""
        return self.notifier.error(rule) if self.notifier else None

    def channel_errors(self, rule: str) -> list[str]:
        """Every failing channel of the rule: the webhook's failure, then each Apprise channel's."""
        webhook = self.webhook_error(rule)
        return ([webhook] if webhook else []) + (self.channels.errors_of(rule) if self.channels else [])
